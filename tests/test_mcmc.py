"""MCMCModel: exact posteriors, discrete latents, diagnostics and warnings.

Fits are expensive to compile (seconds each), so fitted models are shared per module.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from bayesgraph.core import Graph, StaticVariable, Variable
from bayesgraph.core.model.mcmc import (
    DivergenceWarning,
    EffectiveSampleSizeWarning,
    EnergyWarning,
    MCMCModel,
    RhatWarning,
    SamplingWarning,
    TreeDepthWarning,
    sampling_diagnostics,
)
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
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", SamplingWarning)
        model = MCMCModel(g, data={g.x: xs}, num_warmup=300, num_samples=1000, seed=0).solve()
    model.caught = [w for w in caught if issubclass(w.category, SamplingWarning)]
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
    assert d["max_rhat"] < 1.01
    # a correct fit of an easy posterior is silent (false alarms are defects too)
    assert model.caught == [] and d["warnings"] == []
    assert d["high_rhat"] == [] and d["low_ess"] == []
    assert d["ess"] is d["ess_bulk"] and set(d["ess_tail"]) == {"g/z", "g/x"}
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
def _uncentred_regression(n=20):
    """y ~ N(a + b x, 1000^2) with x = 2000 + 3 z: the posterior correlation of the intercept
    a and the slope b is -0.999998 (an uncentred covariate, e.g. a calendar year)."""
    rng = np.random.default_rng(3)
    xs = 2000.0 + 3.0 * rng.normal(size=n)
    ys = 600.0 + 0.5 * xs + 1000.0 * rng.normal(size=n)
    with Graph("reg") as g:
        a = StaticVariable("a", mean=0, variance=1e12)
        b = StaticVariable("b", mean=0, variance=1e12)
        covariate = Variable("x", distribution="NoDistribution")
        Variable("y", mean=a + b * covariate, variance=1000.0**2)
    design = np.column_stack([np.ones(n), xs])
    precision = design.T @ design / 1000.0**2 + np.eye(2) / 1e12
    cov = np.linalg.inv(precision)
    mean = cov @ design.T @ ys / 1000.0**2
    return g, {g.x: xs, g.y: ys}, mean, cov


def _record(model):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.solve()
    return [w for w in caught if issubclass(w.category, SamplingWarning)]


def test_options_reach_the_nuts_kernel():
    from numpyro.infer import init_to_median

    g, data, _, _ = _uncentred_regression()
    model = MCMCModel(g, data, num_chains=1, max_tree_depth=7, target_accept_prob=0.9,
                      dense_mass=True, init_strategy="median", progress_bar=False)
    mcmc = model._fns["mcmc"]
    kernel = mcmc.sampler
    assert kernel._max_tree_depth == 7 and kernel._target_accept_prob == 0.9
    assert kernel._dense_mass is True
    assert kernel._init_strategy.func is init_to_median
    # one chain runs sequentially whatever the devices; the choice is recorded
    assert model.chain_method == mcmc.chain_method == "sequential"
    assert MCMCModel(g, data, num_chains=2, chain_method="sequential")._fns[
        "mcmc"].chain_method == "sequential"
    # options are part of the compiled-function cache key: equal options share the sampler,
    # different options never do
    same = MCMCModel(g, data, num_chains=1, max_tree_depth=7, target_accept_prob=0.9,
                     dense_mass=True, init_strategy="median", progress_bar=False)
    assert same._fns["mcmc"] is mcmc
    for change in ({"max_tree_depth": 8}, {"target_accept_prob": 0.95},
                   {"dense_mass": False}, {"init_strategy": "uniform"}):
        options = {"num_chains": 1, "max_tree_depth": 7, "target_accept_prob": 0.9,
                   "dense_mass": True, "init_strategy": "median", "progress_bar": False}
        other = MCMCModel(g, data, **{**options, **change})
        assert other._fns["mcmc"] is not mcmc, change
    assert MCMCModel(g, data).init_strategy == "uniform"  # numpyro's default, as before


def test_max_tree_depth_caps_the_trajectories():
    g, data, _, _ = _uncentred_regression()
    model = MCMCModel(g, data, num_warmup=50, num_samples=50, num_chains=1, seed=0,
                      max_tree_depth=2, progress_bar=False)
    caught = _record(model)
    assert model._extra["num_steps"].max() <= 2**2 - 1
    assert model.diagnostics["tree_depth_saturation"] > 0.5
    depth = [w for w in caught if w.category is TreeDepthWarning]
    assert len(depth) == 1 and "max_tree_depth=2" in str(depth[0].message)
    assert "dense_mass" in str(depth[0].message)
    # ArviZ's tree_depth statistic agrees
    assert model._sample_stats_by_chain()["tree_depth"].max() <= 2


def test_dense_mass_adapts_a_dense_matrix_and_fixes_the_uncentred_regression():
    g, data, mean, cov = _uncentred_regression()
    model = MCMCModel(g, data, num_warmup=300, num_samples=500, seed=0, dense_mass=True,
                      progress_bar=False)
    caught = _record(model)
    state = model._fns["mcmc"].last_state.adapt_state
    (block, matrix), = state.inverse_mass_matrix.items()  # one dense block over the site
    matrix = np.asarray(matrix).reshape(-1, 2, 2)[0]
    assert matrix[0, 1] / np.sqrt(matrix[0, 0] * matrix[1, 1]) < -0.99
    d = model.diagnostics
    assert caught == [] and d["warnings"] == []
    assert d["max_rhat"] < 1.01 and d["min_ess"] > 400
    assert d["tree_depth_saturation"] == 0 and model._extra["num_steps"].mean() < 15
    ess = d["min_ess"]
    got = np.array([float(model.get_means(g.a)), float(model.get_means(g.b))])
    assert np.all(np.abs(got - mean) < 5 * np.sqrt(np.diag(cov) / ess))


def test_dense_mass_groups_are_translated_to_sites():
    g, data, _, _ = _uncentred_regression()
    # a and b are stored in one site (same kind): a group naming one takes the whole site
    model = MCMCModel(g, data, dense_mass=[[g.a]])
    site = model.program.site_of("reg/a").name
    assert model.program.site_of("reg/b").name == site
    assert model.dense_mass == (("reg/a", "reg/b"),)
    assert model._fns["mcmc"].sampler._dense_mass == [(site,)]
    # groups that meet in a site are merged (numpyro needs disjoint blocks); names work too
    assert MCMCModel(g, data, dense_mass=[["a"], ["reg/b"]]).dense_mass == (("reg/a", "reg/b"),)
    assert MCMCModel(g, data, dense_mass=[]).dense_mass is False
    # with a site per variable the blocks are exactly the groups, and reach numpyro's state
    own = MCMCModel(g, data, dense_mass=[[g.a, g.b]], grouping=False, num_warmup=30,
                    num_samples=10, num_chains=1, seed=0, progress_bar=False)
    sa, sb = own.program.site_of("reg/a").name, own.program.site_of("reg/b").name
    assert sa != sb and own._fns["mcmc"].sampler._dense_mass == [(sa, sb)]
    _record(own)
    matrices = own._fns["mcmc"].last_state.adapt_state.inverse_mass_matrix
    assert set(matrices) == {(sa, sb)} and np.shape(matrices[(sa, sb)]) == (2, 2)
    split = MCMCModel(g, data, dense_mass=[[g.a], [g.b]], grouping=False)
    assert split._fns["mcmc"].sampler._dense_mass == [(sa,), (sb,)]


def test_dense_mass_errors_name_the_variable():
    g, data, _, _ = _uncentred_regression()
    with pytest.raises(OptionError, match=r"'reg/x'.*no unobserved values"):
        MCMCModel(g, data, dense_mass=[[g.a, g.x]])
    with pytest.raises(OptionError, match=r"list of groups.*\[\[g.a, g.b\]\]"):
        MCMCModel(g, data, dense_mass=[g.a, g.b])
    with pytest.raises(OptionError, match="dense_mass.*'nope'"):
        MCMCModel(g, data, dense_mass=[["nope"]])
    with Graph("mix") as mix:
        z = Variable("z", distribution="BernoulliDistribution", mean=0.3)
        mu = StaticVariable("mu", mean=0, variance=1)
        Variable("x", mean=mu + 3.0 * z, variance=1.0)
    with pytest.raises(OptionError, match=r"discrete variable 'mix/z'"):
        MCMCModel(mix, {mix.x: [1.0, 2.0]}, dense_mass=[[mix.z, mix.mu]])
    # naming one of 600 values of a site of 1200 would build a 1200 x 1200 block silently
    with Graph("big") as big:
        u = Variable("u", mean=0, variance=1)
        v = Variable("v", mean=0, variance=1)
        Variable("y", mean=u + v, variance=1)
    with pytest.raises(OptionError, match=r"1200 values.*'big/v'.*grouping=False"):
        MCMCModel(big, {big.y: np.zeros(600)}, dense_mass=[[big.u]])
    assert MCMCModel(big, {big.y: np.zeros(600)}, dense_mass=[[big.u, big.v]]).dense_mass == (
        ("big/u", "big/v"),)


@pytest.mark.parametrize("options, message", [
    ({"max_tree_depth": 0}, "max_tree_depth must be an integer between 1 and 30"),
    ({"max_tree_depth": 31}, "max_tree_depth must be an integer between 1 and 30"),
    ({"max_tree_depth": 2.5}, "max_tree_depth must be an integer"),
    ({"max_tree_depth": "10"}, "max_tree_depth must be an integer"),
    ({"max_tree_depth": True}, "max_tree_depth must be an integer"),
    ({"init_strategy": "zeros"}, r"init_strategy must be one of \('uniform', 'median'"),
    ({"init_strategy": None}, "init_strategy must be one of"),
    ({"dense_mass": "yes"}, "dense_mass must be True, False or a list of groups"),
    ({"dense_mass": 1}, "dense_mass must be True, False or a list of groups"),
    ({"target_accept_prob": 1.5}, r"target_accept_prob must be a number in \(0, 1\)"),
    ({"target_accept_prob": 0}, "target_accept_prob must be a number in"),
    ({"target_accept_prob": "high"}, "target_accept_prob must be a number in"),
    ({"chain_method": "threads"}, r"chain_method must be None or one of \('parallel'"),
    ({"chain_method": 3}, "chain_method must be None or one of"),
    ({"num_warmup": -1}, "num_warmup must be an integer >= 0"),
    ({"num_samples": "many"}, "num_samples must be an integer >= 1"),
    ({"num_chains": float("nan")}, "num_chains must be an integer >= 1"),
])
def test_invalid_options_are_option_errors(options, message):
    g = _z_x_graph()
    with pytest.raises(OptionError, match=message) as error:
        MCMCModel(g, **options)
    assert isinstance(error.value, ValueError)


def test_a_shared_vectorised_sampler_runs_again_after_a_retrace():
    """Models of one structure share numpyro's sampler; numpyro wraps its sample function in
    one more vmap at every vectorised start, so a third run that traced again failed with
    'vmap was requested to map its argument along axis 0' (seen in the property tests)."""
    import jax

    g = _z_x_graph()
    options = {"num_warmup": 30, "num_samples": 30, "num_chains": 2,
               "chain_method": "vectorized", "progress_bar": False}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SamplingWarning)
        first = MCMCModel(g, {g.x: [1.0]}, seed=0, **options).solve()
        second = MCMCModel(g, {g.x: [3.0]}, seed=1, **options).solve()
        assert second._fns["mcmc"] is first._fns["mcmc"]
        jax.clear_caches()
        third = MCMCModel(g, {g.x: [5.0]}, seed=2, **options).solve()
    assert abs(float(third.get_means(g.z)) - 2.5) < 1.0  # exact posterior N(2.5, 0.5)


# -- diagnostics (issue 8 item 1) ----------------------------------------------------------
def _ar1(rng, phi, chains, draws, k=1):
    x = np.zeros((chains, draws, k))
    noise = rng.normal(size=(chains, draws, k))
    for t in range(1, draws):
        x[:, t] = phi * x[:, t - 1] + noise[:, t]
    return x


def _arviz_reference():
    """ArviZ's r-hat, bulk and tail ESS of one ``(chains, draws)`` array (0.x or 1.x)."""
    az = pytest.importorskip("arviz")
    if az.__version__.startswith("0."):
        return lambda x: {"rhat": az.rhat(x), "ess_bulk": az.ess(x, method="bulk"),
                          "ess_tail": az.ess(x, method="tail")}
    from arviz_stats.base import array_stats

    axes = {"chain_axis": 0, "draw_axis": 1}
    return lambda x: {"rhat": array_stats.rhat(x, **axes),
                      "ess_bulk": array_stats.ess(x, method="bulk", **axes),
                      "ess_tail": array_stats.ess(x, method="tail", prob=(0.05, 0.95), **axes)}


def test_sampling_diagnostics_equal_arviz():
    reference = _arviz_reference()
    rng = np.random.default_rng(1)
    cases = [_ar1(rng, 0.9, 2, 1000, 3), _ar1(rng, -0.5, 4, 101, 2),
             rng.normal(size=(2, 7, 2)), rng.standard_cauchy(size=(3, 200, 2)),
             _ar1(rng, 0.99, 2, 300, 2) + np.array([0.0, 3.0])[:, None, None],
             np.round(rng.normal(size=(2, 50, 2))), np.ones((2, 50, 1))]
    for x in cases:
        ours = sampling_diagnostics(x)
        for j in range(x.shape[2]):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                ref = reference(x[:, :, j])
            for key, value in ref.items():
                np.testing.assert_allclose(ours[key][j], float(value), rtol=1e-10,
                                           err_msg=f"{key} of {x.shape}")


def test_sampling_diagnostics_closed_forms():
    rng = np.random.default_rng(2)
    phi = 0.5  # an AR(1) chain: ESS / draws = (1 - phi) / (1 + phi)
    x = _ar1(rng, phi, 4, 20000)
    d = sampling_diagnostics(x)
    assert d["ess_bulk"].shape == (1,)
    assert abs(d["ess_bulk"][0] / x[:, :, 0].size * 3 - 1) < 0.1
    assert abs(d["rhat"][0] - 1) < 0.005
    # chains stuck in different places; one chain split in halves; too few draws; NaN draws
    stuck = rng.normal(size=(2, 500)) + np.array([[0.0], [2.0]])
    assert sampling_diagnostics(stuck)["rhat"] > 1.3
    drift = np.linspace(0, 5, 400)[None] + rng.normal(size=(1, 400))
    assert sampling_diagnostics(drift)["rhat"] > 1.5
    assert np.isnan(sampling_diagnostics(rng.normal(size=(2, 3)))["rhat"])
    with_nan = rng.normal(size=(2, 100, 2))
    with_nan[0, 5, 1] = np.nan
    got = sampling_diagnostics(with_nan)
    assert np.isfinite(got["rhat"][0]) and np.isnan(got["rhat"][1])
    with pytest.raises(OptionError, match="chains, draws"):
        sampling_diagnostics(np.zeros(5))


def test_warnings_from_the_sampler_statistics(gaussian):
    """Divergences, tree depth and E-BFMI: each warning fires from the statistics it reads and
    names what to try (the statistics of a good fit, altered; restored afterwards)."""
    g, _, model = gaussian
    saved = dict(model._extra)
    try:
        extra = {k: v.copy() for k, v in saved.items()}
        extra["diverging"][0, :7] = True
        extra["num_steps"][1, :100] = 2**10 - 1  # 10 % of chain 1
        rng = np.random.default_rng(0)
        extra["energy"] = np.cumsum(rng.normal(size=extra["energy"].shape), axis=1)
        model._extra = extra
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            model._diagnose()
        found = {w.category: str(w.message) for w in caught}
        assert "7 of 2000 transitions after warm-up diverged" in found[DivergenceWarning]
        assert "target_accept_prob (now 0.8" in found[DivergenceWarning]
        assert "5% of the transitions" in found[TreeDepthWarning]
        assert "max_tree_depth=10" in found[TreeDepthWarning]
        assert "chain 0" in found[EnergyWarning] and "chain 1" in found[EnergyWarning]
        d = model.diagnostics
        assert d["num_divergences"] == 7 and d["divergences_per_chain"].tolist() == [7, 0]
        assert d["tree_depth_saturation"] == 0.05 and np.all(d["bfmi"] < 0.3)
        assert all(issubclass(c, SamplingWarning) for c in found)
        # 4 % in one chain stays below PyMC's 5 % per chain
        extra["num_steps"] = saved["num_steps"].copy()
        extra["num_steps"][1, :40] = 2**10 - 1
        extra["diverging"] = saved["diverging"]
        extra["energy"] = saved["energy"]
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            model._diagnose()
        assert [w for w in caught if issubclass(w.category, SamplingWarning)] == []
    finally:
        model._extra = saved
        model._diagnose()


def test_short_run_warnings_name_the_variables():
    g = _z_x_graph()
    model = MCMCModel(g, data={g.x: [1.0, 2.0]}, num_warmup=5, num_samples=20, seed=3,
                      progress_bar=False)
    caught = _record(model)
    ess = [str(w.message) for w in caught if w.category is EffectiveSampleSizeWarning]
    assert len(ess) == 1 and "'g/z'" in ess[0] and "num_samples (now 20)" in ess[0]
    assert model.diagnostics["low_ess"] == ["g/z"]


@pytest.mark.slow
def test_uncentred_regression_defaults_warn_and_dense_mass_fixes_it():
    """The issue's example: with the defaults NUTS needs ~450 leapfrog steps per draw and
    still mixes poorly; the warnings name both variables and point to dense_mass."""
    g, data, mean, cov = _uncentred_regression()
    default = MCMCModel(g, data, seed=0, progress_bar=False)
    caught = _record(default)
    text = {w.category: str(w.message) for w in caught}
    assert EffectiveSampleSizeWarning in text
    for category in (EffectiveSampleSizeWarning, RhatWarning, TreeDepthWarning):
        if category in text:
            assert "dense_mass=[['reg/a', 'reg/b']]" in text[category] or (
                "dense_mass=[['reg/b', 'reg/a']]" in text[category])
    assert set(default.diagnostics["low_ess"]) == {"reg/a", "reg/b"}
    assert default.diagnostics["min_ess"] < 200
    dense = MCMCModel(g, data, seed=0, dense_mass=True, progress_bar=False)
    assert _record(dense) == []
    d = dense.diagnostics
    assert d["max_rhat"] < 1.01 and d["min_ess"] > 1000
    assert default.diagnostics["min_ess"] * 5 < d["min_ess"]
    got = np.array([float(dense.get_means(g.a)), float(dense.get_means(g.b))])
    assert np.all(np.abs(got - mean) < 5 * np.sqrt(np.diag(cov) / d["min_ess"]))


@pytest.mark.slow
def test_funnel_warns():
    """Neal's funnel: v ~ N(0, 9), x ~ N(0, exp(v)) in 9 dimensions."""
    from bayesgraph.core.operator import exp

    with Graph("funnel") as f:
        v = StaticVariable("v", mean=0, variance=9)
        StaticVariable("x", shape=(9,), mean=0, variance=exp(v))
    model = MCMCModel(f, seed=0, progress_bar=False)
    caught = _record(model)
    categories = {w.category for w in caught}
    assert EnergyWarning in categories and RhatWarning in categories
    assert "'funnel/v'" in next(str(w.message) for w in caught if w.category is RhatWarning)
    if model.diagnostics["num_divergences"]:
        assert DivergenceWarning in categories


@pytest.mark.slow
def test_defaults_are_silent_on_linear_gaussian_graphs():
    """The default warm-up and draws give r-hat < 1.01 and enough ESS on the random
    linear-Gaussian graphs of the property tests: no warning (no false alarms)."""
    from hypothesis import given

    from test_properties_linear_gaussian import _settings, build, model_data, problems

    @given(problems())
    @_settings(10)
    def check(problem):
        g, variables = build(problem)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # all-NaN data notes
            warnings.simplefilter("error", SamplingWarning)
            model = MCMCModel(g, data=model_data(problem, variables), seed=0,
                              progress_bar=False).solve()
        assert not model.diagnostics["rhat"] or model.diagnostics["max_rhat"] < 1.01

    check()
