"""ADVIModel against exact posteriors (linear-Gaussian: exact; Poisson: a fine grid)."""

from __future__ import annotations

import numpy as np
import pytest

from _vi_graphs import linear_gaussian, poisson
from bayesgraph.core import Graph, Variable
from bayesgraph.core.model._common import loss_settled, show_progress
from bayesgraph.core.model.advi import ADVIModel
from bayesgraph.exceptions import ConvergenceWarning, DiscreteLatentError

N_DRAWS = 20000


@pytest.fixture(scope="module")
def lg():
    return linear_gaussian()


def test_full_rank_linear_gaussian(lg):
    graph, data, exact = lg
    model = ADVIModel(graph, data, guide="full-rank", num_particles=4, seed=0).solve()
    assert model.loss_history.shape == (model.num_steps,)
    for name in ("z", "h"):
        mean, var = exact[name]
        missing = var > 0
        got_mean = model.get_means(getattr(graph, name), n_samples=N_DRAWS)
        got_var = model.get_variances(getattr(graph, name), n_samples=N_DRAWS)
        sd = np.sqrt(var[missing] if np.ndim(var) else var)
        # means within 0.05 posterior sd, variances within 15%
        assert np.all(np.abs((got_mean - mean)[missing] if np.ndim(var) else got_mean - mean)
                      < 0.05 * sd)
        ratio = got_var[missing] / var[missing] if np.ndim(var) else got_var / var
        assert np.all(np.abs(ratio - 1) < 0.15)


def test_mean_field_means(lg):
    graph, data, exact = lg
    model = ADVIModel(graph, data, guide="mean-field", seed=0).solve()
    mean, var = exact["z"]
    assert abs(model.get_means(graph.z, n_samples=N_DRAWS) - mean) < 0.1 * np.sqrt(var)
    h_mean, h_var = exact["h"]
    got = model.get_means(graph.h, n_samples=N_DRAWS)
    assert np.all(np.abs(got - h_mean) <= 0.1 * np.sqrt(h_var) + 1e-12)


def test_poisson_against_grid():
    graph, data, (mean, var) = poisson()
    model = ADVIModel(graph, data, guide="full-rank", seed=0).solve()
    # mean within 0.1 sd, variance within 15% of the exact (grid) posterior
    assert abs(float(model.get_means(graph.b, n_samples=N_DRAWS)) - mean) < 0.1 * np.sqrt(var)
    assert abs(float(model.get_variances(graph.b, n_samples=N_DRAWS)) / var - 1) < 0.15


def test_too_few_steps_warns(lg):
    graph, data, _ = lg
    with pytest.warns(ConvergenceWarning, match="not settled"):
        model = ADVIModel(graph, data, num_steps=10, seed=0).solve()
    assert model.loss_history.shape == (10,)


def test_settle_rule():
    rng = np.random.default_rng(0)
    assert loss_settled(3.0 + 0.1 * rng.normal(size=500))
    assert not loss_settled(np.linspace(5.0, 3.0, 500) + 0.01 * rng.normal(size=500))
    assert not loss_settled(np.ones(5))


def test_progress_bar_is_off_in_ci(monkeypatch):
    monkeypatch.setenv("CI", "true")
    assert show_progress(None) is False
    assert show_progress(True) is True


def test_discrete_latent_and_bad_options(lg):
    with Graph("d") as g:
        Variable("k", distribution="BernoulliDistribution", mean=0.3)
    with pytest.raises(DiscreteLatentError, match="d/k"):
        ADVIModel(g)
    graph, data, _ = lg
    with pytest.raises(ValueError, match="unknown guide"):
        ADVIModel(graph, data, guide="flow")


@pytest.mark.slow
def test_low_rank_and_progress_bar(lg):
    graph, data, exact = lg
    model = ADVIModel(graph, data, guide="low-rank", rank=2, progress_bar=True,
                      num_steps=3000, seed=2).solve()
    mean, var = exact["z"]
    assert abs(model.get_means(graph.z, n_samples=N_DRAWS) - mean) < 0.05 * np.sqrt(var)
