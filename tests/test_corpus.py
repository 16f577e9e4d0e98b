"""The corpus of classic models (tests/corpus.py): each is the same model as its hand-written
numpyro twin, every inference method runs on it where it applies, and MCMC matches numpyro's
NUTS and the exact posterior."""

import jax
import numpy as np
import pytest
from numpyro.infer import MCMC, NUTS
from numpyro.infer.util import log_density as numpyro_log_density

from bayesgraph.core.compiler import Program
from bayesgraph.core.lowering import group, group_data, lower
from bayesgraph.core.model import (
    ADVIModel,
    ForwardModel,
    MAPFisherModel,
    MAPModel,
    MCMCModel,
    MGVIModel,
)
from bayesgraph.exceptions import BayesGraphError, ConvergenceError, DiscreteLatentError
from corpus import CASES, COVARIATES

IDS = [case.__name__ for case in CASES]


# Both log densities are evaluated under jax.jit: one compilation of the whole density is ~10x
# faster than numpyro's and the program's op-by-op dispatch (a compilation per new op), and the
# answer is the same to rounding.
def _bayesgraph_log_density(case):
    """bayesgraph's joint log density with every unobserved variable given as data."""
    data = dict(case.data)
    for name, value in case.point.items():
        data[case.var(name)] = np.asarray(value, dtype=float)
    spec, lowered = lower(case.graph, data)
    grouped = group(spec)
    program = Program(grouped)
    with jax.enable_x64(True):
        args = program.data_args(group_data(grouped, lowered))
        return float(jax.jit(lambda a: program.log_density({}, a, skip_fixed=False))(args))


def _numpyro_log_density(case):
    with jax.enable_x64(True):
        params = {k: np.asarray(v, dtype=float) for k, v in case.point.items()}
        return float(jax.jit(lambda p: numpyro_log_density(case.numpyro_model, (),
                                                           case.numpyro_kwargs, p)[0])(params))


@pytest.mark.parametrize("make", CASES, ids=IDS)
def test_log_density_equals_the_hand_written_numpyro_model(make):
    case = make()
    if case.name == "gaussian_mixture":
        pytest.skip("per-row Categorical latent: compared through MCMC in the slow test")
    # numpyro's NegativeBinomial2 log_prob is off by ~1e-6 per small count (docs/distributions.md)
    rel = 1e-7 if case.name == "negative_binomial_regression" else 1e-9
    assert _bayesgraph_log_density(case) == pytest.approx(_numpyro_log_density(case), rel=rel)


def _check_support(case, model):
    for name in case.point:
        draws = np.asarray(model.get_samples(case.var(name), n_samples=20), dtype=float)
        assert np.all(np.isfinite(draws)), name
        if name in case.positive:
            assert np.all(draws > 0), name
        if name in case.simplex:
            np.testing.assert_allclose(draws.sum(-1), 1.0, atol=1e-6)
            assert np.all(draws >= 0), name
        means = np.asarray(model.get_means(case.var(name)), dtype=float)
        assert np.all(np.isfinite(means)), name


# short runs: the parametrised test checks only that each method runs on each kind of graph and
# returns finite draws in the support; accuracy is tested per method and in the slow test below
METHODS = {
    "MAP": lambda c: MAPModel(c.graph, c.data, seed=0),
    "MAPFisher": lambda c: MAPFisherModel(c.graph, c.data, seed=0),
    "ADVI": lambda c: ADVIModel(c.graph, c.data, seed=0, num_steps=500),
    "MGVI": lambda c: MGVIModel(c.graph, c.data, seed=0, n_iterations=2, n_samples=2),
    "MCMC": lambda c: MCMCModel(c.graph, c.data, seed=0, num_warmup=20, num_samples=20,
                                num_chains=1, progress_bar=False),
}


# where a method does not apply, the documented error (asserted, not skipped)
NOT_APPLICABLE = {
    # centred eight schools: the joint density is unbounded as tau -> 0 (the funnel), so there
    # is no mode with a positive-definite Hessian for a Laplace approximation
    ("eight_schools_centered", "MAPFisher"): (ConvergenceError, "not positive definite"),
    # a defect: see test_mapfisher_on_noncentred_eight_schools_is_finite_or_refused (xfail)
    ("eight_schools_noncentered", "MAPFisher"): None,
    # a per-row Categorical latent: only MCMC (which sums it out) and Forward apply
    **{("gaussian_mixture", m): (DiscreteLatentError, "cannot infer the unobserved discrete")
       for m in ("MAP", "MAPFisher", "ADVI", "MGVI")},
}


@pytest.mark.filterwarnings("ignore")
def test_mapfisher_on_noncentred_eight_schools_is_refused():
    # the mode (no Jacobian) is at tau = 0 on the boundary: the Laplace approximation in
    # log(tau) is infinitely wide (draws 0 or inf before), so MAPFisher refuses it
    from corpus import eight_schools_noncentered

    case = eight_schools_noncentered()
    with pytest.raises(ConvergenceError, match="Laplace approximation of .*tau.* is not valid"):
        MAPFisherModel(case.graph, case.data, seed=0).solve()


# NUTS's compilation (~4 s a graph on 2 cores) dominated the fast suite, so the fast MCMC runs
# cover one graph per constrained kind of latent (ordered, simplex, LKJ Cholesky with positive
# scales); every other (graph, MCMC) pair runs with the slow tests, where
# test_mcmc_matches_numpyro_and_the_exact_posterior also runs MCMC on every graph, supports
# included
FAST_MCMC = {"ordinal_regression", "dirichlet_categorical", "correlated_normal_lkj"}
PAIRS = [pytest.param(make, method, id=f"{make.__name__}-{method}",
                      marks=[pytest.mark.slow] if method == "MCMC"
                      and make.__name__ not in FAST_MCMC else [])
         for make in CASES for method in METHODS]


@pytest.mark.filterwarnings("ignore")  # short runs: only that they run and respect supports
@pytest.mark.parametrize(("make", "method"), PAIRS)
def test_every_method_runs_on_every_graph(make, method):
    case = make()
    if method == "MGVI" and not case.mgvi and case.name != "gaussian_mixture":
        # (a plain ValueError today, not a BayesGraphError: reported)
        with pytest.raises(BayesGraphError, match="MGVIModel has no standardised coordinates"):
            METHODS[method](case).solve()
        return
    if (case.name, method) in NOT_APPLICABLE:
        if NOT_APPLICABLE[case.name, method] is None:
            return
        error, message = NOT_APPLICABLE[case.name, method]
        with pytest.raises(error, match=message):
            METHODS[method](case).solve()
        return
    model = METHODS[method](case).solve()
    _check_support(case, model)


@pytest.mark.parametrize("make", CASES, ids=IDS)
def test_forward_model_draws_the_prior(make):
    case = make()
    data = {case.var(n): case.data[case.var(n)] for n in COVARIATES.get(case.name, ())}
    if case.name == "linear_regression_flat_sigma":  # a flat prior has nothing to draw
        with pytest.raises(BayesGraphError, match="nothing to sample from"):
            ForwardModel(case.graph, data, seed=0).get_samples(case.var("sigma"), n_samples=2)
        return
    model = ForwardModel(case.graph, data, seed=0)
    for name in case.point:
        draws = np.asarray(model.get_samples(case.var(name), n_samples=20), dtype=float)
        assert np.all(np.isfinite(draws))
        if name in case.positive:
            assert np.all(draws > 0)


# -- slow: MCMC against numpyro's NUTS and the exact posterior -----------------------------------
def _ess(x):
    """A simple initial-positive-sequence ESS of a 1-d chain."""
    x = np.asarray(x) - np.mean(x)
    n = len(x)
    f = np.fft.rfft(x, 2 * n)
    acf = np.fft.irfft(f * np.conj(f))[:n] / (np.var(x) * n + 1e-300)
    tau, k = 1.0, 1
    while k + 1 < n and acf[k] + acf[k + 1] > 0:
        tau += 2 * (acf[k] + acf[k + 1])
        k += 2
    return n / tau


def _summary(samples):
    """Means, sds and Monte-Carlo standard errors of the mean per coordinate (draws, ...)."""
    s = np.asarray(samples, dtype=float).reshape(len(samples), -1)
    ess = np.array([max(_ess(s[:, j]), 10.0) for j in range(s.shape[1])])
    mean, sd = s.mean(0), s.std(0)
    return mean, sd, sd / np.sqrt(ess), ess


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore")
@pytest.mark.parametrize("make", CASES, ids=IDS)
def test_mcmc_matches_numpyro_and_the_exact_posterior(make):
    case = make()
    ours = MCMCModel(case.graph, case.data, seed=1, num_warmup=500, num_samples=1000,
                     num_chains=1, progress_bar=False).solve()
    mcmc = MCMC(NUTS(case.numpyro_model), num_warmup=500, num_samples=1000, num_chains=1,
                progress_bar=False)
    mcmc.run(jax.random.PRNGKey(2), **case.numpyro_kwargs)
    theirs = mcmc.get_samples()
    _check_support(case, ours)
    for name in case.point:
        a = np.asarray(ours.get_samples(case.var(name), n_samples=1000), dtype=float)
        b = np.asarray(theirs[name], dtype=float)
        if name == "L":  # the free entry of a 2 x 2 correlation Cholesky factor
            a, b = a[..., 1, 0], b[..., 1, 0]
        ma, sa, ea, _ = _summary(a)
        mb, sb, eb, _ = _summary(b)
        tol = 5 * np.sqrt(ea ** 2 + eb ** 2)
        assert np.all(np.abs(ma - mb) < tol), (name, ma, mb, tol)
        # sds: the standard error of a sd is about sd / sqrt(2 ess); allow a generous margin
        assert np.all(np.abs(sa - sb) < 5 * np.sqrt(ea ** 2 + eb ** 2) + 0.1 * sb), (name, sa, sb)
        if name in case.exact:
            mean, sd = (np.ravel(v) for v in case.exact[name])
            assert np.all(np.abs(ma - mean) < 5 * ea), (name, ma, mean)
            assert np.all(np.abs(sa - sd) < 0.1 * sd + 5 * ea), (name, sa, sd)
