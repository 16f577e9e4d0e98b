"""Inference families on random linear-Gaussian graphs against the exact posterior.

Reuses the random problems and the closed-form oracle of
``test_properties_linear_gaussian.py`` (see its docstring). Tolerances, written down:

* MGVIModel equals the exact posterior: means to ``1e-6`` posterior sd, marginal variances to
  ``1e-4`` relative (its Gaussian in standardised coordinates is exact for these graphs);
* full-rank ADVIModel (4 particles): means within 0.2 posterior sd, variances within 30 %
  (a stochastic optimiser: what is left of its noise after averaging the iterates);
* MCMCModel (NUTS, 2 chains x 1000 draws): means within 5 Monte-Carlo standard errors
  (``sd / sqrt(ESS)``), variances within 5 standard errors of a variance estimate
  (``var * sqrt(2 / ESS)``), ESS being the sampler's smallest.

The fast versions run a few examples on every Python version; the ``slow`` ones more.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, note

from bayesgraph.core.model import ADVIModel, MCMCModel, MGVIModel
from bayesgraph.exceptions import ConvergenceWarning
from test_properties_linear_gaussian import (
    _settings,
    build,
    by_node,
    exact_posterior,
    model_data,
    problems,
)

pytestmark = pytest.mark.filterwarnings("ignore:all data for .* are NaN:UserWarning")


def _fit(cls, problem, **options):
    note(problem.describe())
    post_mean, post_cov, observed = exact_posterior(problem)
    g, variables = build(problem)
    model = cls(g, data=model_data(problem, variables), seed=0, **options).solve()
    want_means = by_node(problem, post_mean)
    want_vars = by_node(problem, np.diag(post_cov))
    return model, variables, want_means, want_vars


def check_mgvi(problem) -> None:
    model, variables, want_means, want_vars = _fit(MGVIModel, problem)
    means = model.get_means(variables, n_samples=2000)
    variances = model.get_variances(variables, n_samples=2000)
    for got, want, got_var, want_var in zip(means, want_means, variances, want_vars):
        scale = np.sqrt(np.maximum(want_var, 1e-12))
        np.testing.assert_allclose(got, want, atol=1e-6 * max(1.0, float(scale.max())))
        np.testing.assert_allclose(got_var, want_var, rtol=1e-4, atol=1e-10)


@given(problems(max_nodes=4, max_data=3))
@_settings(4)
def test_mgvi_equals_exact_posterior(problem):
    check_mgvi(problem)


@pytest.mark.slow
@given(problems())
@_settings(10)
def test_mgvi_equals_exact_posterior_many(problem):
    check_mgvi(problem)


@pytest.mark.slow
@given(problems(max_nodes=4, max_data=3))
@_settings(4)
def test_full_rank_advi_within_stated_tolerance(problem):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model, variables, want_means, want_vars = _fit(
            ADVIModel, problem, guide="full-rank", num_particles=4)
    means = model.get_means(variables, n_samples=20000)
    variances = model.get_variances(variables, n_samples=20000)
    for got, want, got_var, want_var in zip(means, want_means, variances, want_vars):
        hidden = want_var > 0
        sd = np.sqrt(want_var[hidden])
        assert np.all(np.abs(got[hidden] - want[hidden]) <= 0.2 * sd), (got, want, sd)
        assert np.all(np.abs(got_var[hidden] / want_var[hidden] - 1) <= 0.3), (
            got_var, want_var)


@pytest.mark.slow
@given(problems(max_nodes=4, max_data=3))
@_settings(4)
def test_mcmc_within_monte_carlo_error(problem):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model, variables, want_means, want_vars = _fit(
            MCMCModel, problem, num_warmup=500, num_samples=1000, progress_bar=False)
    ess = min(float(np.min(v)) for v in model.diagnostics["ess"].values()) \
        if model.diagnostics["ess"] else float(model.n_draws)
    means = model.get_means(variables)
    variances = model.get_variances(variables)
    for got, want, got_var, want_var in zip(means, want_means, variances, want_vars):
        hidden = want_var > 0
        sd = np.sqrt(want_var[hidden])
        assert np.all(np.abs(got[hidden] - want[hidden]) <= 5 * sd / np.sqrt(ess))
        assert np.all(np.abs(got_var[hidden] - want_var[hidden])
                      <= 5 * want_var[hidden] * np.sqrt(2 / ess))
