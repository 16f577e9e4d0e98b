"""Issue 15 item 2: ArviZ's workflow on the export of every model class, with ArviZ's defaults.

A regression whose covariate ``x`` is a ``Variable`` with a prior, given as data (the seed's
style), plus a covariate ``w`` with NoDistribution: both go to ``constant_data`` (as PyMC's
``pm.Data``), so that ``observed_data``, ``posterior_predictive`` and ``log_likelihood`` hold
the same variable (``plot_ppc`` and ArviZ 1.x's ``loo_pit`` look every ``observed_data``
variable up there). On ArviZ 0.x (Python 3.11) and 1.x (3.12+): ``plot_ppc`` (1.x:
``plot_ppc_dist``), ``plot_loo_pit``, ``loo``, ``compare`` and ``summary``.
"""

from __future__ import annotations

import contextlib
import warnings

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

import arviz as az  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402

from bayesgraph.core import Graph, StaticVariable, Variable  # noqa: E402
from bayesgraph.core.model import METHODS  # noqa: E402
from bayesgraph.core.model.inference_data import arviz_major_version  # noqa: E402

# check=False: the self-checks (tests/test_trust_at_scale.py, test_advi.py, ...) are not what
# this file tests, and they cost most of these twelve small fits.
OPTIONS = {"ADVI": {"num_steps": 500, "check": False}, "MGVI": {"n_iterations": 2, "check": False},
           "MAPFisher": {"check": False},
           "MCMC": {"num_warmup": 100, "num_samples": 100, "num_chains": 2,
                    "progress_bar": False}}
POSTERIOR = [m for m in METHODS if m != "Forward"]
MAJOR = arviz_major_version()


def _point_refused(method):
    """ArviZ 1.x's PSIS refuses the constant log-likelihoods of MAP's copies of its point
    ('All tail values are the same'): LOO of a point estimate is undefined (docs/arviz.md).
    ArviZ 0.x computes it, with every Pareto k above 1."""
    if method == "MAP" and MAJOR >= 1:
        return pytest.raises(ValueError, match="tail values are the same|compute ELPD")
    return contextlib.nullcontext()


def regression(slope: bool):
    with Graph("reg") as reg:
        a = StaticVariable("a", mean=0, variance=10)
        x = Variable("x", mean=0, variance=1)
        w = Variable("w", distribution="NoDistribution")
        mean = a + StaticVariable("b", mean=0, variance=10) * x + 0.1 * w if slope else a
        Variable("y", mean=mean, variance=0.25)
    return reg


@pytest.fixture(scope="module")
def exports():
    rng = np.random.default_rng(1)
    x_data, w_data = rng.normal(size=20), rng.normal(size=20)
    y_data = 0.5 + 1.5 * x_data + rng.normal(scale=0.5, size=20)
    y_data[3] = np.nan  # a partly observed response too
    out = {}
    for method in METHODS:
        for slope in (True, False):
            reg = regression(slope)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # short fits warn; not what is tested here
                model = METHODS[method](reg, data={reg.x: x_data, reg.w: w_data,
                                                   reg.y: y_data},
                                        seed=0, **OPTIONS.get(method, {}))
                model.solve()
                out[method, slope] = model.to_inference_data(n_samples=100)
    return out


def _quiet(runtime: str = "error"):
    context = warnings.catch_warnings()
    context.__enter__()
    warnings.simplefilter("ignore", UserWarning)  # ArviZ: one chain, high k-hat at a point
    warnings.simplefilter(runtime, RuntimeWarning)
    return context


@pytest.mark.parametrize("method", list(METHODS))
def test_groups_and_covariates(exports, method):
    data = exports[method, True]
    main = "prior" if method == "Forward" else "posterior"
    predictive = data[f"{main}_predictive"]
    assert set(predictive.data_vars) == {"reg.y"}
    assert set(data["observed_data"].data_vars) == {"reg.y"}
    assert set(data["constant_data"].data_vars) == {"reg.x", "reg.w"}
    if method != "Forward":
        assert set(data["log_likelihood"].data_vars) == {"reg.y"}


@pytest.mark.parametrize("method", list(METHODS))
def test_summary(exports, method):
    # MAP's draws are copies of its point: ArviZ's ESS of a constant divides by zero
    context = _quiet("ignore" if method == "MAP" else "error")
    try:
        group = {"group": "prior"} if method == "Forward" else {}
        table = az.summary(exports[method, True], **group)
    finally:
        context.__exit__(None, None, None)
    assert len(table) > 0


@pytest.mark.parametrize("method", list(METHODS))
def test_plot_ppc(exports, method):
    data = exports[method, True]
    context = _quiet()
    try:
        if MAJOR >= 1:
            kwargs = {"group": "prior_predictive"} if method == "Forward" else {}
            az.plot_ppc_dist(data, **kwargs)
        else:
            az.plot_ppc(data, **({"group": "prior"} if method == "Forward" else {}))
    finally:
        context.__exit__(None, None, None)
        plt.close("all")


@pytest.mark.parametrize("method", POSTERIOR)
def test_loo(exports, method):
    context = _quiet()
    try:
        with _point_refused(method):
            result = az.loo(exports[method, True])
        if method == "MAP" and MAJOR >= 1:
            return
    finally:
        context.__exit__(None, None, None)
    elpd = float(getattr(result, "elpd_loo", getattr(result, "elpd", np.nan)))
    assert np.isfinite(elpd)


@pytest.mark.parametrize("method", POSTERIOR)
def test_compare(exports, method):
    context = _quiet()
    try:
        with _point_refused(method):
            table = az.compare({"line": exports[method, True],
                                "constant": exports[method, False]})
        if method == "MAP" and MAJOR >= 1:
            return
    finally:
        context.__exit__(None, None, None)
    assert list(table.index) == ["line", "constant"]


@pytest.mark.parametrize("method", POSTERIOR)
def test_plot_loo_pit(exports, method):
    data = exports[method, True]
    context = _quiet()
    try:
        if MAJOR >= 1:
            with _point_refused(method):
                az.plot_loo_pit(data)
        else:  # ArviZ 0.x has no default for y: the observed variable to check
            az.plot_loo_pit(data, y="reg.y")
    finally:
        context.__exit__(None, None, None)
        plt.close("all")
