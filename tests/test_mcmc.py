"""MCMCModel: exact posteriors, discrete latents, diagnostics and warnings.

Fits are expensive to compile (seconds each), so fitted models are shared per module.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from bayesgraph.core import Graph, StaticVariable, Variable
from bayesgraph.core.model.mcmc import MCMCModel, SamplingWarning
from bayesgraph.exceptions import (
    ConvergenceWarning,
    DiscreteLatentError,
    NotSolvedError,
    OptionError,
)


def _z_x_graph():
    with Graph("g") as g:
        z = StaticVariable("z", mean=0, variance=1)
        Variable("x", mean=z, variance=1)
    return g


@pytest.fixture(scope="module")
def gaussian():
    """z ~ N(0, 1), x_i ~ N(z, 1), 4 observations and one missing: exact posterior known."""
    g = _z_x_graph()
    xs = np.array([1.0, 2.0, 0.5, 2.5, np.nan])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SamplingWarning)
        model = MCMCModel(g, data={g.x: xs}, num_warmup=300, num_samples=1000, seed=0).solve()
    return g, xs, model


def test_gaussian_posterior_within_monte_carlo_error(gaussian):
    g, xs, model = gaussian
    observed = xs[~np.isnan(xs)]
    precision = 1.0 + len(observed)
    mean, var = observed.sum() / precision, 1.0 / precision
    ess = float(model.diagnostics["ess"]["g/z"])
    got_mean = float(model.get_means(g.z))
    got_var = float(model.get_variances(g.z))
    assert abs(got_mean - mean) < 5 * np.sqrt(var / ess)
    # the variance estimate's standard error for a normal: var * sqrt(2 / ess)
    assert abs(got_var - var) < 5 * var * np.sqrt(2.0 / ess)
    # the missing x is z plus unit noise
    x_mean = model.get_means(g.x)
    x_var = model.get_variances(g.x)
    assert x_mean[:4].tolist() == observed.tolist()
    assert abs(x_mean[4] - mean) < 5 * np.sqrt((var + 1) / ess)
    assert abs(x_var[4] - (var + 1)) < 5 * (var + 1) * np.sqrt(2.0 / ess)


def test_moments_use_all_draws(gaussian):
    g, _, model = gaussian
    assert model.get_means(g.z, n_samples=1) == model.get_means(g.z, n_samples=5)


def test_samples_shapes_and_diagnostics(gaussian):
    g, _, model = gaussian
    assert model.get_samples(g.x, n_samples=10).shape == (10, 5)
    assert model.get_samples(g.z, n_samples=2500).shape == (2500,)  # more than drawn
    assert model.get_example(g.z).shape == ()
    d = model.diagnostics
    assert d["num_divergences"] == 0
    assert d["max_rhat"] < 1.05
    # per variable (users never see sites); a partly observed one: its missing entries
    assert set(d["rhat"]) == {"g/z", "g/x"}
    assert d["rhat"]["g/z"].shape == () and d["ess"]["g/x"].shape == (1,)


def test_not_solved_and_bad_options():
    g = _z_x_graph()
    with pytest.raises(NotSolvedError):
        MCMCModel(g).get_means(g.z)
    with pytest.raises(ValueError, match="chain_method"):
        MCMCModel(g, chain_method="threads")
    with pytest.raises(ValueError, match="target_accept_prob"):
        MCMCModel(g, target_accept_prob=1.5)
    with pytest.raises(ValueError, match="num_samples"):
        MCMCModel(g, num_samples=0)


def test_poisson_latent_is_rejected_by_name():
    with Graph("p") as p:
        Variable("k", distribution="PoissonDistribution", mean=3.0)
    with pytest.raises(DiscreteLatentError, match="'p/k'"):
        MCMCModel(p)


def test_bad_run_warns():
    g = _z_x_graph()
    model = MCMCModel(g, data={g.x: [1.0, 2.0]}, num_warmup=5, num_samples=20, seed=3)
    with pytest.warns(SamplingWarning, match="effective sample size|r-hat"):
        model.solve()
    assert issubclass(SamplingWarning, ConvergenceWarning)
    assert model.diagnostics["warnings"]


def test_bernoulli_mixture_exact_posterior():
    """z ~ Bernoulli(0.3) per example, x ~ N(3 z, 1): P(z_i = 1 | x_i) by Bayes' rule."""
    with Graph("mix") as mix:
        z = Variable("z", distribution="BernoulliDistribution", mean=0.3)
        Variable("x", mean=3.0 * z, variance=1.0)
    xs = np.array([1.0, 2.5, -0.3, 1.5])
    model = MCMCModel(mix, data={mix.x: xs}, num_warmup=100, num_samples=1000, seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SamplingWarning)  # no continuous latents to diagnose
        model.solve()
    p1 = 0.3 * np.exp(-0.5 * (xs - 3.0) ** 2)
    p0 = 0.7 * np.exp(-0.5 * xs**2)
    exact = p1 / (p0 + p1)
    got = model.get_means(mix.z)
    # the draws are independent given the (absent) continuous values: binomial errors
    assert np.all(np.abs(got - exact) < 5 * np.sqrt(exact * (1 - exact) / 2000) + 1e-3)
    assert model.get_samples(mix.z, n_samples=3).dtype == bool


@pytest.mark.slow
def test_static_discrete_with_continuous_latent():
    """A static switch s ~ Bernoulli(0.5) picks the mean of the data; mu ~ N(0, 1).

    x_i ~ N(mu + s, 1). Given s the model is conjugate, so P(s | x) is exact. (The shift is
    small so that mu's marginal posterior is unimodal and NUTS mixes.)
    """
    with Graph("sw") as sw:
        s = StaticVariable("s", distribution="BernoulliDistribution", mean=0.5)
        mu = StaticVariable("mu", mean=0, variance=1)
        Variable("x", mean=mu + 1.0 * s, variance=1.0)
    xs = np.array([0.8, 0.3, 0.5])
    model = MCMCModel(sw, data={sw.x: xs}, num_warmup=500, num_samples=2000, seed=1).solve()
    n = len(xs)

    def log_evidence(shift):
        # x ~ N(shift * 1, I + 1 1^T)
        cov = np.eye(n) + np.ones((n, n))
        r = xs - shift
        return -0.5 * (r @ np.linalg.solve(cov, r) + np.linalg.slogdet(cov)[1])

    l0, l1 = log_evidence(0.0), log_evidence(1.0)
    exact = 1.0 / (1.0 + np.exp(l0 - l1))
    got = float(model.get_means(sw.s))
    assert abs(got - exact) < 0.05


@pytest.mark.slow
def test_simulation_based_calibration():
    """Ranks of the true values among posterior draws are uniform (conjugate normal model).

    One fit holds 100 independent replications: each example has its own theta_i ~ N(0, 1)
    drawn from the prior and two observations y_i ~ N(theta_i, 1); the posterior factorises
    over examples, so the rank of theta_i among the draws is uniform if the sampler is right.
    """
    from scipy import stats

    rng = np.random.default_rng(0)
    n_rep, n_keep = 100, 99
    with Graph("c") as c:
        theta = Variable("theta", mean=0, variance=1)
        Variable("y", shape=(2,), mean=theta, variance=1)
    true = rng.normal(size=n_rep)
    ys = true[:, None] + rng.normal(size=(n_rep, 2))
    model = MCMCModel(c, data={c.y: ys}, num_warmup=300, num_samples=1000, seed=0).solve()
    draws = model.get_samples(c.theta, n_samples=n_keep)  # without replacement: ~independent
    ranks = np.sum(draws < true[None, :], axis=0)
    counts = np.bincount(ranks * 5 // (n_keep + 1), minlength=5)
    assert stats.chisquare(counts).pvalue > 0.001


# -- NUTS options a user can tune (issue 7 item 7) ------------------------------------------
def _correlated_regression(n=50):
    # an uncentred covariate: intercept and slope correlate at about -0.9999
    rng = np.random.default_rng(3)
    x = 100.0 + rng.normal(size=n)
    with Graph("corr") as g:
        a = StaticVariable("a", mean=0, variance=1e4)
        b = StaticVariable("b", mean=0, variance=1e4)
        xv = Variable("xv", distribution="NoDistribution")
        Variable("yv", mean=a + b * xv, variance=1.0)
    return g, {g.xv: x, g.yv: 1.0 + 0.5 * x + rng.normal(size=n)}


@pytest.mark.filterwarnings("ignore:MCMCModel")  # short chains; the checks are below
def test_nuts_options_reach_numpyro():
    g, data = _correlated_regression()
    short = MCMCModel(g, data, num_warmup=50, num_samples=50, num_chains=1, seed=0,
                      max_tree_depth=2, progress_bar=False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        short.solve()
    assert any("reached max_tree_depth=2" in str(w.message) for w in caught)
    assert short._extra["num_steps"].max() <= 3
    assert short.diagnostics["tree_depth_saturation"] > 0.5
    dense = MCMCModel(g, data, num_warmup=300, num_samples=300, num_chains=1, seed=0,
                      dense_mass=True, init_strategy="uniform", progress_bar=False)
    dense.solve()
    inverse_mass = dense._fns["mcmc"].last_state.adapt_state.inverse_mass_matrix
    assert next(iter(inverse_mass.values())).shape == (2, 2)  # one dense 2 x 2 block
    diagonal = MCMCModel(g, data, num_warmup=300, num_samples=300, num_chains=1, seed=0,
                         progress_bar=False)
    diagonal.solve()
    # the dense metric removes the correlation: far shorter trajectories, no worse ESS
    assert dense._extra["num_steps"].mean() < diagonal._extra["num_steps"].mean() / 5
    assert dense.diagnostics["min_ess"] >= diagonal.diagnostics["min_ess"]
    grouped = MCMCModel(g, data, num_warmup=20, num_samples=20, num_chains=1, seed=0,
                        dense_mass=[[g.a, g.b]], progress_bar=False)
    site = grouped.program.site_of("corr/a").name  # a and b share one site of their kind
    assert grouped.program.site_of("corr/b").name == site
    assert grouped.dense_mass == ((site,),)


@pytest.mark.parametrize("options, message", [
    ({"max_tree_depth": 0}, "max_tree_depth must be an integer >= 1"),
    ({"init_strategy": "zeros"}, "init_strategy must be one of"),
    ({"dense_mass": "yes"}, "dense_mass must be True/False or a list"),
    ({"target_accept_prob": 1.5}, "target_accept_prob must lie in"),
    ({"chain_method": "threads"}, "chain_method must be"),
])
def test_bad_nuts_options_are_option_errors(options, message):
    g, data = _correlated_regression(5)
    with pytest.raises(OptionError, match=message):
        MCMCModel(g, data, **options)
