"""Resource guards (issue 8 item 3): requests that would not fit are refused with numbers and
a fix, moments are computed in chunks whose merge is exact, and nothing hangs or aborts."""

import numpy as np
import pytest

from bayesgraph.core import Graph, StaticVariable, Variable
from bayesgraph.core.model import ADVIModel, ForwardModel, MAPFisherModel, MGVIModel, _resources
from bayesgraph.exceptions import BayesGraphError, ResourceError


@pytest.fixture(scope="module")
def regression():
    with Graph("res") as g:
        a = StaticVariable("a", mean=0.0, variance=10.0)
        s = StaticVariable("s", distribution="HalfNormal", scale=2.0)
        Variable("x", mean=a, variance=s ** 2)
    data = {g.x: np.random.default_rng(0).normal(1.0, 1.5, 200)}
    return g, data


@pytest.mark.parametrize("kind", ["Forward", "MAPFisher", "ADVI", "MGVI"])
def test_huge_requests_are_refused_before_drawing(regression, kind):
    g, data = regression
    model = {"Forward": lambda: ForwardModel(g, seed=0),
             "MAPFisher": lambda: MAPFisherModel(g, data, seed=0).solve(),
             "ADVI": lambda: ADVIModel(g, data, seed=0, num_steps=50).solve(),
             "MGVI": lambda: MGVIModel(g, data, seed=0, n_iterations=1).solve()}[kind]()
    with pytest.raises(ResourceError,
                       match=r"'res/s' of 10000000000 draws \(n_samples=10000000000\) needs about"):
        model.get_samples(g.s, n_samples=10 ** 10)
    with pytest.raises(ResourceError, match="would run for hours"):
        model.get_variances(g.s, n_samples=10 ** 12)
    assert isinstance(ResourceError("x"), (BayesGraphError, MemoryError))
    # the model stays usable
    assert np.asarray(model.get_samples(g.s, n_samples=5)).shape[0] == 5


def test_moments_in_many_chunks_are_exact_merges(monkeypatch):
    z = StaticVariable("z", mean=3.0, variance=4.0)
    monkeypatch.setattr(_resources, "CHUNK_BYTES", 8 * 2 * 97)  # chunks of 97 draws
    assert _resources.chunk_size(20000, 2) == 97
    model = ForwardModel(z, seed=1)
    n = 20000
    mean = float(model.get_means(z, n_samples=n))
    var = float(model.get_variances(z, n_samples=n))
    assert abs(mean - 3.0) < 5 * np.sqrt(4.0 / n)
    assert abs(var / 4.0 - 1) < 5 * np.sqrt(2 / n)


def test_check_request_numbers():
    with pytest.raises(ResourceError, match="lower n_samples to at most about"):
        _resources.check_request("get_samples", 10 ** 15, 10)
    with pytest.raises(ResourceError, match="ask for at most about"):  # no option to name
        _resources.check_request("get_samples", 10 ** 15, 10, option=None)
    _resources.check_request("get_samples", 1000, 1000)  # 8 MB: fine


@pytest.mark.slow
def test_means_on_a_million_rows_finish_in_seconds():
    # issue 8: get_means(w, n_samples=2000) after ADVI/MGVI on 10^6 rows used to hang
    # (every draw carried the data); draws now hold the latent values only
    rng = np.random.default_rng(0)
    n = 10 ** 6
    with Graph("big") as g:
        w = StaticVariable("w", mean=0, variance=10)
        x = Variable("x", mean=0, variance=1)
        Variable("y", mean=w * x, variance=0.25)
    xs = rng.normal(size=n)
    data = {g.x: xs, g.y: 0.5 * xs + 0.5 * rng.normal(size=n)}
    for model in (MGVIModel(g, data, seed=0, n_iterations=2), ADVIModel(g, data, seed=0)):
        mean = float(model.solve().get_means(g.w, n_samples=2000))
        assert abs(mean - 0.5) < 0.01, type(model).__name__
