"""The distributions of PyMC and Stan models, and constraints on any variable (issue 7).

Every check compares with an independent answer: scipy's log densities and moments, the
exact posterior modes and moments of conjugate pairs (Gamma-Poisson, Beta-Binomial,
Dirichlet-Categorical, Normal-InverseGamma), and closed forms for flat and truncated priors.
MCMC against the exact conjugate posteriors is marked slow.
"""

import jax
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import stats
from scipy.special import gammaln

from bayesgraph.core import Graph, StaticVariable, Variable
from bayesgraph.core.compiler import Program
from bayesgraph.core.distribution import get_distribution_class
from bayesgraph.core.lowering import group, group_data, lower
from bayesgraph.core.model import (
    ADVIModel,
    ForwardModel,
    MAPFisherModel,
    MAPModel,
    MCMCModel,
    MGVIModel,
)
from bayesgraph.exceptions import (
    ConstraintError,
    DataError,
    DiscreteLatentError,
    DistributionError,
    ShapeError,
)


def log_density(graph, data):
    """The joint log-density of a graph without latent values, every term included."""
    spec, lowered = lower(graph, data)
    grouped = group(spec)
    program = Program(grouped)
    with jax.enable_x64(True):
        args = program.data_args(group_data(grouped, lowered))
        return float(program.log_density({}, args, skip_fixed=False))


RNG = np.random.default_rng(0)

# distribution, parameters, values, scipy log-density of the values
CASES = {
    "StudentT": (dict(degrees_of_freedom=3.5, location=1.0, scale=2.0),
                 RNG.standard_t(3.5, 7) * 2 + 1, lambda x: stats.t(3.5, 1.0, 2.0).logpdf(x)),
    "Cauchy": (dict(location=-1.0, scale=0.5), RNG.standard_cauchy(7) * 0.5 - 1,
               lambda x: stats.cauchy(-1.0, 0.5).logpdf(x)),
    "HalfCauchy": (dict(scale=2.0), np.abs(RNG.standard_cauchy(7)) * 2,
                   lambda x: stats.halfcauchy(0, 2.0).logpdf(x)),
    "HalfNormal": (dict(scale=1.5), np.abs(RNG.normal(size=7)) * 1.5,
                   lambda x: stats.halfnorm(0, 1.5).logpdf(x)),
    "HalfStudentT": (dict(degrees_of_freedom=4.0, scale=1.5),
                     np.abs(RNG.standard_t(4.0, 7)) * 1.5,
                     lambda x: np.log(2) + stats.t(4.0, 0, 1.5).logpdf(x)),
    "Gamma": (dict(concentration=2.5, rate=1.5), RNG.gamma(2.5, 1 / 1.5, 7),
              lambda x: stats.gamma(2.5, scale=1 / 1.5).logpdf(x)),
    "InverseGamma": (dict(concentration=3.0, scale=2.0), 1 / RNG.gamma(3.0, 1 / 2.0, 7),
                     lambda x: stats.invgamma(3.0, scale=2.0).logpdf(x)),
    "Beta": (dict(alpha=2.0, beta=3.0), RNG.beta(2.0, 3.0, 7),
             lambda x: stats.beta(2.0, 3.0).logpdf(x)),
    "Binomial": (dict(total_count=10, probability=0.3), RNG.binomial(10, 0.3, 7),
                 lambda x: stats.binom(10, 0.3).logpmf(x)),
    "NegativeBinomial": (dict(mean=4.0, dispersion=2.0), RNG.negative_binomial(2.0, 2 / 6, 7),
                         lambda x: stats.nbinom(2.0, 2.0 / (2.0 + 4.0)).logpmf(x)),
    "TruncatedNormal": (dict(mean=1.0, variance=4.0, lower=0.0, upper=3.0),
                        RNG.uniform(0, 3, 7),
                        lambda x: stats.truncnorm(-0.5, 1.0, loc=1.0, scale=2.0).logpdf(x)),
    "Uniform": (dict(lower=-1.0, upper=3.0), RNG.uniform(-1, 3, 7),
                lambda x: stats.uniform(-1, 4).logpdf(x)),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_log_density_against_scipy(name):
    params, values, reference = CASES[name]
    x = Variable("x", distribution=name, **params)
    assert log_density(x, {x: values}) == pytest.approx(np.sum(reference(values)), rel=1e-10)


def test_vector_distributions_against_scipy():
    alpha = np.array([1.5, 2.0, 3.0])
    d = Variable("d", shape=(3,), distribution="Dirichlet", concentration=alpha)
    values = RNG.dirichlet(alpha, 5)
    expected = sum(stats.dirichlet(alpha).logpdf(v) for v in values)
    assert log_density(d, {d: values}) == pytest.approx(expected, rel=1e-10)

    cov = np.array([[2.0, 0.6], [0.6, 1.0]])
    m = Variable("m", shape=(2,), distribution="MultivariateNormal", mean=[1.0, -1.0],
                 covariance=cov)
    values = RNG.multivariate_normal([1, -1], cov, 6)
    expected = stats.multivariate_normal([1, -1], cov).logpdf(values).sum()
    assert log_density(m, {m: values}) == pytest.approx(expected, rel=1e-10)
    c = Variable("c", shape=(2,), distribution="MultivariateNormal", mean=[1.0, -1.0],
                 cholesky_factor=np.linalg.cholesky(cov))
    assert log_density(c, {c: values}) == pytest.approx(expected, rel=1e-10)


def test_lkj_cholesky_density_is_that_of_the_correlation_matrix():
    # LKJ(eta) density of a correlation matrix C is proportional to det(C)^(eta - 1); for
    # K = 2 the correlation r has density (1 - r^2)^(eta - 1) / B(eta, eta) / 2^(2 eta - 1)
    eta, r = 2.5, 0.3
    chol = np.array([[1.0, 0.0], [r, np.sqrt(1 - r ** 2)]])
    v = Variable("v", shape=(2, 2), distribution="LKJCholesky", concentration=eta)
    # the Cholesky factor's density is the matrix's times the Jacobian d r / d L_21 = 1
    log_c = ((eta - 1) * np.log(1 - r ** 2) - (2 * eta - 1) * np.log(2)
             - (2 * gammaln(eta) - gammaln(2 * eta)))
    assert log_density(v, {v: chol[None]}) == pytest.approx(log_c, rel=1e-10)


FORWARD = {  # name, parameters, scipy frozen distribution with the same moments
    "Gamma": (dict(concentration=3.0, rate=2.0), stats.gamma(3.0, scale=0.5)),
    "InverseGamma": (dict(concentration=5.0, scale=2.0), stats.invgamma(5.0, scale=2.0)),
    "Beta": (dict(alpha=2.0, beta=5.0), stats.beta(2.0, 5.0)),
    "HalfNormal": (dict(scale=2.0), stats.halfnorm(0, 2.0)),
    "StudentT": (dict(degrees_of_freedom=6.0, location=1.0, scale=2.0),
                 stats.t(6.0, 1.0, 2.0)),
    "Binomial": (dict(total_count=12, logit=0.4), stats.binom(12, 1 / (1 + np.exp(-0.4)))),
    "NegativeBinomial": (dict(mean=3.0, dispersion=1.5), stats.nbinom(1.5, 1.5 / 4.5)),
    "TruncatedNormal": (dict(mean=0.5, variance=1.0, lower=0.0),
                        stats.truncnorm(-0.5, np.inf, loc=0.5)),
}


@pytest.mark.parametrize("name", sorted(FORWARD))
def test_forward_moments(name):
    params, reference = FORWARD[name]
    x = StaticVariable("x", distribution=name, **params)
    n = 20000
    draws = ForwardModel(x, seed=1).get_samples(x, n_samples=n)
    mean, var = reference.mean(), reference.var()
    assert abs(draws.mean() - mean) < 5 * np.sqrt(var / n)
    assert abs(draws.var() / var - 1) < 0.1


def test_forward_vectors():
    alpha = np.array([1.0, 2.0, 5.0])
    d = StaticVariable("d", shape=(3,), distribution="Dirichlet", concentration=alpha)
    draws = np.asarray(ForwardModel(d, seed=0).get_samples(d, n_samples=8000))
    np.testing.assert_allclose(draws.sum(-1), 1.0, atol=1e-12)
    np.testing.assert_allclose(draws.mean(0), alpha / alpha.sum(), atol=0.01)
    lkj = StaticVariable("l", shape=(3, 3), distribution="LKJCholesky", concentration=1.0)
    factors = np.asarray(ForwardModel(lkj, seed=0).get_samples(lkj, n_samples=200))
    corr = factors @ np.swapaxes(factors, -1, -2)
    np.testing.assert_allclose(np.diagonal(corr, axis1=-2, axis2=-1), 1.0, atol=1e-12)


# -- conjugate pairs: shared by the MAP tests here and the slow MCMC test below ----------------
# Each returns the graph, its data, the latent variable and the exact posterior (scipy).
def _gamma_poisson():
    with Graph("gp") as g:
        StaticVariable("rate", distribution="Gamma", concentration=2.0, rate=0.5)
        Variable("y", distribution="Poisson", mean=g.rate)
    ys = np.random.default_rng(11).poisson(3.0, 25)
    return g, {g.y: ys}, g.rate, stats.gamma(2.0 + ys.sum(), scale=1 / (0.5 + len(ys)))


def _beta_binomial():
    with Graph("bb") as g:
        StaticVariable("p", distribution="Beta", alpha=2.0, beta=3.0)
        Variable("k", distribution="Binomial", total_count=10, probability=g.p)
    ks = np.array([3, 5, 4, 2])
    return g, {g.k: ks}, g.p, stats.beta(2.0 + ks.sum(), 3.0 + (10 * len(ks) - ks.sum()))


def _dirichlet_categorical():
    alpha = np.array([2.0, 3.0, 4.0])
    with Graph("dc") as g:
        StaticVariable("w", shape=(3,), distribution="Dirichlet", concentration=alpha)
        Variable("c", distribution="Categorical", probabilities=g.w)
    cs = np.array([0, 1, 1, 2, 2, 2, 2, 0, 1])
    return g, {g.c: cs}, g.w, stats.dirichlet(alpha + np.bincount(cs, minlength=3))


def _normal_inverse_gamma():
    with Graph("nig") as g:
        StaticVariable("var", distribution="InverseGamma", concentration=3.0, scale=2.0)
        Variable("x", mean=1.0, variance=g.var)
    xs = np.random.default_rng(12).normal(1.0, 1.5, 30)
    return (g, {g.x: xs}, g.var,
            stats.invgamma(3.0 + len(xs) / 2, scale=2.0 + np.sum((xs - 1.0) ** 2) / 2))


def _mode(post):
    """The mode of a frozen scipy gamma, beta, dirichlet or inverse-gamma posterior."""
    name = post.dist.name if hasattr(post, "dist") else "dirichlet"
    if name == "dirichlet":
        a = post.alpha
        return (a - 1) / (a.sum() - len(a))
    a, scale = post.args[0], post.kwds.get("scale", 1.0)
    if name == "beta":
        b = post.args[1]
        return (a - 1) / (a + b - 2)
    return {"gamma": (a - 1) * scale, "invgamma": scale / (a + 1)}[name]


CONJUGATE = {"gamma_poisson": _gamma_poisson, "beta_binomial": _beta_binomial,
             "dirichlet_categorical": _dirichlet_categorical,
             "normal_inverse_gamma": _normal_inverse_gamma}


# MAP is the exact posterior mode (no Jacobian: the variables' own density)
@pytest.mark.parametrize("name", sorted(CONJUGATE))
def test_map_is_the_conjugate_posterior_mode(name):
    g, data, variable, post = CONJUGATE[name]()
    fit = MAPModel(g, data).solve()
    np.testing.assert_allclose(fit.get_means(variable), _mode(post), rtol=1e-7)


def test_multivariate_normal_mean_posterior_is_exact():
    cov = np.array([[1.0, 0.5], [0.5, 2.0]])
    with Graph("mv") as g:
        mean = StaticVariable("mean", shape=(2,), mean=0, variance=100)
        Variable("z", shape=(2,), distribution="MultivariateNormal", mean=mean, covariance=cov)
    zs = RNG.multivariate_normal([1, 2], cov, 50)
    precision = np.eye(2) / 100 + len(zs) * np.linalg.inv(cov)
    post_cov = np.linalg.inv(precision)
    post_mean = post_cov @ np.linalg.inv(cov) @ zs.sum(0)
    fit = MAPFisherModel(g, {g.z: zs}).solve()
    np.testing.assert_allclose(fit.get_means(g.mean), post_mean, rtol=1e-8)
    np.testing.assert_allclose(fit.get_covariance([g.mean]), post_cov, rtol=1e-8)
    mgvi = MGVIModel(g, {g.z: zs}, seed=0).solve()
    np.testing.assert_allclose(mgvi.get_means(g.mean), post_mean, rtol=1e-6)


def test_covariance_as_an_expression_of_latent_variables():
    # y ~ MVN(0, s^2 * R) with R fixed: the MAP of s^2 is the mean of y^T R^-1 y / K
    corr = np.array([[1.0, 0.3], [0.3, 1.0]])
    with Graph("cv") as g:
        s = StaticVariable("s", distribution="NoDistribution", lower=0)
        Variable("y", shape=(2,), distribution="MultivariateNormal", covariance=s ** 2 * corr)
    ys = RNG.multivariate_normal([0, 0], 4 * corr, 200)
    quad = np.einsum("ni,ij,nj->n", ys, np.linalg.inv(corr), ys)
    fit = MAPModel(g, {g.y: ys}).solve()
    assert float(fit.get_means(g.s)) == pytest.approx(np.sqrt(quad.mean() / 2), rel=1e-7)


# -- constraints ---------------------------------------------------------------------------
def test_flat_positive_scale_gives_the_maximum_likelihood_estimate():
    with Graph("sc") as g:
        sigma = StaticVariable("sigma", distribution="NoDistribution", lower=0)
        mu = StaticVariable("mu", distribution="NoDistribution")
        Variable("x", mean=mu, variance=sigma ** 2)
    xs = RNG.normal(1.0, 2.0, 200)
    fit = MAPModel(g, {g.x: xs}).solve()
    assert float(fit.get_means(g.sigma)) == pytest.approx(xs.std(), rel=1e-8)
    assert float(fit.get_means(g.mu)) == pytest.approx(xs.mean(), rel=1e-8)
    assert g.sigma.constraint.lower == 0.0


def test_truncated_prior_is_renormalised():
    # mu ~ N(0, 1) truncated to (0, inf), x_i ~ N(mu, 1): the posterior is N(m, v) truncated
    with Graph("tr") as g:
        mu = StaticVariable("mu", mean=0.0, variance=1.0, lower=0.0)
        Variable("x", mean=mu, variance=1.0)
    xs = np.array([-0.3, 0.2, -0.1])
    v = 1 / (1 + len(xs))
    m = v * xs.sum()
    exact = stats.truncnorm(-m / np.sqrt(v), np.inf, loc=m, scale=np.sqrt(v))
    fit = MAPModel(g, {g.x: xs}).solve()
    assert float(fit.get_means(g.mu)) < 1e-3  # the mode sits at the boundary (m < 0)
    draws = ForwardModel(g, seed=0).get_samples(g.mu, n_samples=20000)
    assert draws.min() > 0
    prior = stats.truncnorm(0, np.inf)
    assert abs(draws.mean() - prior.mean()) < 5 * prior.std() / np.sqrt(20000)
    # the normaliser matters when the prior's parameters are latent: compare densities
    with Graph("tn") as h:
        loc = StaticVariable("loc", distribution="NoDistribution")
        StaticVariable("z", mean=loc, variance=1.0, lower=0.0)
    spec, lowered = lower(h, {h.z: 0.7, h.loc: -0.4})
    assert log_density(h, {h.z: 0.7, h.loc: -0.4}) == pytest.approx(
        stats.truncnorm(0.4, np.inf, loc=-0.4).logpdf(0.7), rel=1e-10)
    assert exact.mean() > 0


def test_ordered_vectors():
    cuts = StaticVariable("cuts", shape=(3,), constraint="ordered", mean=0.0, variance=1.0)
    draws = np.asarray(ForwardModel(cuts, seed=0).get_samples(cuts, n_samples=20000))
    assert (np.diff(draws, axis=-1) > 0).all()
    # exchangeable entries: the draws are the order statistics of three standard normals
    np.testing.assert_allclose(draws.mean(0), [-0.8463, 0.0, 0.8463], atol=0.03)
    with Graph("ord") as g:
        c = StaticVariable("c", shape=(3,), distribution="NoDistribution",
                           constraint="positive_ordered")
        Variable("y", shape=(3,), mean=c, variance=1.0)
    ys = np.array([[0.5, 1.0, 2.0], [0.7, 1.4, 2.2]])
    fit = MAPModel(g, {g.y: ys}).solve()
    np.testing.assert_allclose(fit.get_means(g.c), ys.mean(0), rtol=1e-7)


def test_uniform_with_expression_bounds():
    with Graph("ub") as g:
        low = StaticVariable("low", mean=0.0, variance=1.0)
        StaticVariable("u", distribution="Uniform", lower=low, upper=low + 2.0)
    draws = ForwardModel(g, seed=0).get_samples([g.low, g.u], n_samples=5000)
    offset = np.asarray(draws[1]) - np.asarray(draws[0])
    assert offset.min() >= 0 and offset.max() <= 2.0
    assert abs(offset.mean() - 1.0) < 0.05


@pytest.mark.filterwarnings("ignore:MCMCModel")  # a short chain: only the support matters
def test_every_method_respects_a_positive_scale():
    with Graph("pos") as g:
        s = StaticVariable("s", distribution="HalfNormal", scale=2.0)
        Variable("x", mean=0.0, variance=s ** 2)
    data = {g.x: RNG.normal(0, 1.5, 40)}
    models = [MAPFisherModel(g, data, seed=0), MGVIModel(g, data, seed=0),
              ADVIModel(g, data, seed=0),
              MCMCModel(g, data, num_warmup=200, num_samples=200, num_chains=1, seed=0,
                        progress_bar=False)]
    for model in models:
        draws = np.asarray(model.solve().get_samples(g.s, n_samples=200))
        assert draws.min() > 0, type(model).__name__
        assert 1.0 < draws.mean() < 2.2, type(model).__name__


def test_mgvi_takes_a_flat_positive_scale():
    with Graph("fm") as g:
        s = StaticVariable("s", distribution="NoDistribution", lower=0)
        Variable("x", mean=0.0, variance=s ** 2)
    xs = RNG.normal(0, 2.0, 400)
    fit = MGVIModel(g, {g.x: xs}, seed=0).solve()
    # the posterior of s is sharp at n = 400: close to the maximum-likelihood value
    assert float(fit.get_means(g.s)) == pytest.approx(np.sqrt(np.mean(xs ** 2)), rel=0.02)


# -- errors --------------------------------------------------------------------------------
def test_constraint_errors_name_the_variable():
    with pytest.raises(ConstraintError, match="'a'.*lower=1.0 must be below upper=0.0"):
        Variable("a", lower=1, upper=0)
    with pytest.raises(ConstraintError, match="unknown constraint='sorted'"):
        Variable("b", constraint="sorted")
    with pytest.raises(ConstraintError, match="must be a number"):
        Variable("c", lower="zero")
    with pytest.raises(ConstraintError, match="contradicts"):
        Variable("d", constraint="positive", lower=2)
    cases = [
        (Variable("e", distribution="Poisson", mean=2.0, upper=5), "cannot take lower="),
        (Variable("f", distribution="Gamma", concentration=2.0, upper=5), "cannot be truncated"),
        (Variable("g", constraint="ordered"), "has shape=()"),
        (Variable("h", distribution="Dirac", mean=1.0, lower=0), "Dirac"),
        (Variable("i", shape=(2,), distribution="Gamma", concentration=2.0,
                  constraint="ordered"), "needs a prior with real support"),
    ]
    for variable, message in cases:
        with pytest.raises(ConstraintError, match=message):
            lower(variable)
    # bounds the support already satisfies change nothing
    spec, _ = lower(Variable("j", distribution="HalfNormal", lower=0))
    assert spec.variables[0].constraint == ()


def test_data_errors_for_new_supports():
    cases = [
        (Variable("p", distribution="Beta", alpha=1.0, beta=1.0), [0.5, 1.5], "in \\[0, 1\\]"),
        (Variable("k", distribution="Binomial", total_count=3, probability=0.5), [1, 4],
         "0 .. total_count"),
        (Variable("d", shape=(2,), distribution="Dirichlet"), [[0.5, 0.6]], "sum to 1"),
        (Variable("s", distribution="NoDistribution", lower=0), [1.0, -1.0], "its bounds"),
        (Variable("t", distribution="TruncatedNormal", lower=0.0), [-1.0], "interval"),
        (Variable("m", shape=(2,), distribution="MultivariateNormal", covariance=np.eye(2)),
         [[1.0, np.nan]], "observed whole"),
    ]
    for variable, values, message in cases:
        with pytest.raises(DataError, match=message):
            lower(variable, {variable: values})
    with pytest.raises(ShapeError, match="'cov'.*does not broadcast"):
        lower(Variable("cov", shape=(3,), distribution="MultivariateNormal",
                       covariance=np.eye(2)))
    with pytest.raises(ShapeError, match="at least 2 axes"):
        lower(Variable("lkj", shape=(3,), distribution="LKJCholesky"))
    with pytest.raises(DistributionError, match="needs one of degrees_of_freedom"):
        lower(Variable("student", distribution="StudentT"))


def test_method_limits_are_bayesgraph_errors():
    with Graph("mg") as g:
        rate = StaticVariable("rate", distribution="Gamma", concentration=2.0, rate=1.0)
        Variable("y", distribution="Poisson", mean=rate)
    with pytest.raises(DistributionError, match="no standardised coordinates for 'mg/rate'"):
        MGVIModel(g, {g.y: [1, 2]})
    with Graph("nb") as h:
        n = StaticVariable("n", distribution="NegativeBinomial", mean=3.0, dispersion=2.0)
        Variable("x", mean=n, variance=1.0)
    with pytest.raises(DiscreteLatentError, match="NegativeBinomial variable 'nb/n'"):
        MCMCModel(h, {h.x: [1.0]}, num_warmup=10, num_samples=10, progress_bar=False).solve()
    with Graph("tl") as t:
        m = StaticVariable("m")
        Variable("z", distribution="TruncatedNormal", mean=m, lower=0.0)
    with pytest.raises(DistributionError, match="Fisher information has no closed form"):
        MGVIModel(t, {t.z: [0.5, 1.0]}, seed=0).solve()


# -- MCMC against exact conjugate posteriors ---------------------------------------------
def _mcmc(graph, data):
    return MCMCModel(graph, data, num_warmup=500, num_samples=2000, num_chains=2, seed=0,
                     progress_bar=False).solve()


def _check(fit, name, variable, mean, var):
    ess = np.asarray(fit.diagnostics["ess"][name])
    got_mean = np.asarray(fit.get_means(variable))
    got_var = np.asarray(fit.get_variances(variable))
    assert np.all(np.abs(got_mean - mean) < 5 * np.sqrt(var / ess))
    assert np.all(np.abs(got_var / var - 1) < 5 * np.sqrt(2 / ess) + 0.05)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(CONJUGATE))
def test_mcmc_on_conjugate_pairs(name):
    g, data, variable, post = CONJUGATE[name]()
    _check(_mcmc(g, data), variable.global_name, variable, post.mean(), post.var())


@pytest.mark.slow
def test_mcmc_on_a_truncated_prior():
    with Graph("tr") as g:
        mu = StaticVariable("mu", mean=0.0, variance=1.0, lower=0.0)
        Variable("x", mean=mu, variance=1.0)
    xs = np.array([-0.3, 0.2, -0.1])
    v = 1 / (1 + len(xs))
    m = v * xs.sum()
    post = stats.truncnorm(-m / np.sqrt(v), np.inf, loc=m, scale=np.sqrt(v))
    _check(_mcmc(g, {g.x: xs}), "tr/mu", g.mu, post.mean(), post.var())


# -- random parameters: densities, support checks and parameter checks --------------------
positive = st.floats(0.2, 20.0)
REFERENCE = {  # name -> (parameter strategy, scipy frozen distribution of the parameters)
    "Gamma": (st.fixed_dictionaries({"concentration": positive, "rate": positive}),
              lambda p: stats.gamma(p["concentration"], scale=1 / p["rate"])),
    "InverseGamma": (st.fixed_dictionaries({"concentration": positive, "scale": positive}),
                     lambda p: stats.invgamma(p["concentration"], scale=p["scale"])),
    "Beta": (st.fixed_dictionaries({"alpha": positive, "beta": positive}),
             lambda p: stats.beta(p["alpha"], p["beta"])),
    "StudentT": (st.fixed_dictionaries({"degrees_of_freedom": positive,
                                        "location": st.floats(-5, 5), "scale": positive}),
                 lambda p: stats.t(p["degrees_of_freedom"], p["location"], p["scale"])),
    "HalfCauchy": (st.fixed_dictionaries({"scale": positive}),
                   lambda p: stats.halfcauchy(0, p["scale"])),
    "HalfNormal": (st.fixed_dictionaries({"scale": positive}),
                   lambda p: stats.halfnorm(0, p["scale"])),
}


@settings(max_examples=30, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(name=st.sampled_from(sorted(REFERENCE)), data=st.data())
def test_random_parameters_against_scipy(name, data):
    strategy, frozen = REFERENCE[name]
    params = data.draw(strategy)
    reference = frozen(params)
    values = reference.ppf(np.array([0.1, 0.5, 0.9]))
    x = Variable("x", distribution=name, **params)
    expected = np.sum(reference.logpdf(values))
    assert log_density(x, {x: values}) == pytest.approx(expected, rel=1e-9, abs=1e-9)


SUPPORTS = {  # name, parameters, a value outside the support
    "Gamma": (dict(concentration=2.0), -0.5), "InverseGamma": (dict(concentration=2.0), 0.0),
    "Beta": ({}, 1.5), "HalfCauchy": ({}, -1.0), "HalfNormal": ({}, -2.0),
    "HalfStudentT": (dict(degrees_of_freedom=3.0), -0.1),
    "Binomial": (dict(total_count=4, probability=0.5), 5.0),
    "NegativeBinomial": (dict(mean=2.0, dispersion=1.0), -1.0),
}


@settings(max_examples=30, deadline=None, derandomize=True)
@given(name=st.sampled_from(sorted(SUPPORTS)), scale=st.floats(0.1, 10.0),
       position=st.integers(0, 4))
def test_data_outside_the_support_are_refused(name, scale, position):
    params, bad = SUPPORTS[name]
    x = Variable("x", distribution=name, **params)
    values = np.full(5, 0.5 if name == "Beta" else 1.0)
    if bad < 0:  # any negative value is outside (whole numbers for counts)
        bad = np.floor(bad * scale) if get_distribution_class(name).discrete else bad * scale
    values[position] = bad
    with pytest.raises(DataError, match="'x'"):
        lower(x, {x: values})


@settings(max_examples=30, deadline=None, derandomize=True)
@given(name=st.sampled_from(["Gamma", "InverseGamma", "Beta", "HalfCauchy", "HalfNormal",
                             "StudentT", "Dirichlet", "LKJCholesky", "NegativeBinomial"]),
       bad=st.floats(-10.0, 0.0))
def test_nonpositive_constant_parameters_are_refused(name, bad):
    cls = get_distribution_class(name)
    parameter = cls.positive[0]
    with pytest.raises(DistributionError, match=f"parameter '{parameter}' of 'x'.*must be > 0"):
        Variable("x", distribution=name, **{parameter: bad})
