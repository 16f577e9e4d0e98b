"""A corpus of classic models written the natural way in bayesgraph, each beside the same model
written by hand in numpyro.

Every function returns a :class:`Case`:

* ``graph`` and ``data``: the bayesgraph model and its data;
* ``numpyro_model`` and ``numpyro_kwargs``: the hand-written numpyro model and its arguments;
  its sample sites carry the bayesgraph variables' names (without the graph prefix);
* ``point``: a value of every unobserved variable (by name), used to compare the two log
  densities (both evaluated with these values as data, no Jacobian);
* ``exact``: exact posterior means and sds by name, where they exist (conjugate or Gaussian).

Data are small and seeded so the corpus is cheap.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import jax.numpy as jnp
import numpy as np
import numpyro
import numpyro.distributions as dist
from scipy import stats

from bayesgraph.core import (
    Graph,
    StaticVariable,
    Variable,
    exp,
    reshape,
    squared_exponential_kernel,
)


@dataclass
class Case:
    name: str
    graph: Any
    data: dict
    numpyro_model: Callable
    numpyro_kwargs: dict
    point: dict
    exact: dict = field(default_factory=dict)
    positive: tuple = ()  # names of variables that must be > 0
    simplex: tuple = ()  # names of variables on the simplex
    mgvi: bool = True  # MGVI applies (every latent has a standardisable prior)

    def var(self, name):
        return getattr(self.graph, name)


def _rng(seed):
    return np.random.default_rng(seed)


def _case(name, g, model, data, point, constants=None, **kw):
    """A :class:`Case` whose data are given by variable name: the numpyro twin takes the same
    names as keyword arguments, plus ``constants`` (known values that are not graph data)."""
    return Case(name, g, {getattr(g, k): v for k, v in data.items()}, model,
                {**(constants or {}), **data}, point, **kw)


# -- eight schools ---------------------------------------------------------------------------
SCHOOLS_Y = np.array([28.0, 8.0, -3.0, 7.0, -1.0, 1.0, 18.0, 12.0])
SCHOOLS_SIGMA = np.array([15.0, 10.0, 16.0, 11.0, 9.0, 11.0, 10.0, 18.0])


def eight_schools_centered():
    with Graph("schools") as g:
        mu = StaticVariable("mu", mean=0.0, variance=25.0)
        tau = StaticVariable("tau", distribution="HalfCauchy", scale=5.0)
        theta = StaticVariable("theta", shape=(8,), mean=mu, variance=tau**2)
        StaticVariable("y", shape=(8,), mean=theta, variance=SCHOOLS_SIGMA**2)

    def model(sigma, y=None):
        mu = numpyro.sample("mu", dist.Normal(0.0, 5.0))
        tau = numpyro.sample("tau", dist.HalfCauchy(5.0))
        theta = numpyro.sample("theta", dist.Normal(mu, tau).expand([8]).to_event(1))
        numpyro.sample("y", dist.Normal(theta, sigma).to_event(1), obs=y)

    point = {"mu": 1.0, "tau": 2.5, "theta": np.linspace(-3, 5, 8)}
    return _case("eight_schools_centered", g, model, {"y": SCHOOLS_Y}, point,
                 constants={"sigma": SCHOOLS_SIGMA}, positive=("tau",))


def eight_schools_noncentered():
    with Graph("schools_nc") as g:
        mu = StaticVariable("mu", mean=0.0, variance=25.0)
        tau = StaticVariable("tau", distribution="HalfCauchy", scale=5.0)
        theta_tilde = StaticVariable("theta_tilde", shape=(8,), mean=0.0, variance=1.0)
        StaticVariable("y", shape=(8,), mean=mu + tau * theta_tilde, variance=SCHOOLS_SIGMA**2)

    def model(sigma, y=None):
        mu = numpyro.sample("mu", dist.Normal(0.0, 5.0))
        tau = numpyro.sample("tau", dist.HalfCauchy(5.0))
        tt = numpyro.sample("theta_tilde", dist.Normal(0.0, 1.0).expand([8]).to_event(1))
        numpyro.sample("y", dist.Normal(mu + tau * tt, sigma).to_event(1), obs=y)

    point = {"mu": 1.0, "tau": 2.5, "theta_tilde": np.linspace(-1, 1, 8)}
    return _case("eight_schools_noncentered", g, model, {"y": SCHOOLS_Y}, point,
                 constants={"sigma": SCHOOLS_SIGMA}, positive=("tau",))


# -- regressions ------------------------------------------------------------------------------
def radon():
    rng = _rng(1)
    n_counties, n = 4, 60
    county_obs = rng.integers(0, n_counties, n)
    floor_obs = rng.integers(0, 2, n).astype(float)
    log_radon_obs = 1.0 + 0.3 * county_obs - 0.6 * floor_obs + 0.5 * rng.normal(size=n)
    with Graph("radon") as g:
        mu_a = StaticVariable("mu_a", mean=0.0, variance=100.0)
        sigma_a = StaticVariable("sigma_a", distribution="HalfNormal", scale=1.0)
        alpha = StaticVariable("alpha", shape=(n_counties,), mean=mu_a, variance=sigma_a**2)
        beta = StaticVariable("beta", mean=0.0, variance=1.0)
        sigma = StaticVariable("sigma", distribution="HalfNormal", scale=1.0)
        c = Variable("county", dtype="int", distribution="NoDistribution")
        x = Variable("floor", distribution="NoDistribution")
        Variable("log_radon", mean=alpha[c] + beta * x, variance=sigma**2)

    def model(county, floor, log_radon=None):
        mu_a = numpyro.sample("mu_a", dist.Normal(0.0, 10.0))
        sigma_a = numpyro.sample("sigma_a", dist.HalfNormal(1.0))
        alpha = numpyro.sample("alpha", dist.Normal(mu_a, sigma_a).expand([n_counties]).to_event(1))
        beta = numpyro.sample("beta", dist.Normal(0.0, 1.0))
        sigma = numpyro.sample("sigma", dist.HalfNormal(1.0))
        with numpyro.plate("rows", len(county)):
            numpyro.sample("log_radon", dist.Normal(alpha[county] + beta * floor, sigma),
                           obs=log_radon)

    data = {"county": county_obs, "floor": floor_obs, "log_radon": log_radon_obs}
    point = {
        "mu_a": 0.5,
        "sigma_a": 0.7,
        "alpha": np.array([0.8, 1.2, 1.5, 2.0]),
        "beta": -0.4,
        "sigma": 0.6,
    }
    return _case("radon", g, model, data, point, positive=("sigma_a", "sigma"))


def linear_regression_flat_sigma():
    rng = _rng(2)
    n = 40
    x_obs = rng.normal(size=n)
    y_obs = 1.0 + 2.0 * x_obs + 0.8 * rng.normal(size=n)
    with Graph("linreg") as g:
        a = StaticVariable("a", mean=0.0, variance=100.0)
        b = StaticVariable("b", mean=0.0, variance=100.0)
        s = StaticVariable("sigma", distribution="NoDistribution", lower=0)
        xv = Variable("x", distribution="NoDistribution")
        Variable("y", mean=a + b * xv, variance=s**2)

    def model(x, y=None):
        a = numpyro.sample("a", dist.Normal(0.0, 10.0))
        b = numpyro.sample("b", dist.Normal(0.0, 10.0))
        s = numpyro.sample("sigma", dist.ImproperUniform(dist.constraints.positive, (), ()))
        with numpyro.plate("rows", len(x)):
            numpyro.sample("y", dist.Normal(a + b * x, s), obs=y)

    point = {"a": 0.9, "b": 2.1, "sigma": 0.7}
    return _case("linear_regression_flat_sigma", g, model, {"x": x_obs, "y": y_obs}, point,
                 positive=("sigma",))


def logistic_regression():
    rng = _rng(3)
    n = 80
    x1_obs, x2_obs = rng.normal(size=n), rng.normal(size=n)
    y_obs = (rng.uniform(size=n) < 1 / (1 + np.exp(-(0.5 + 1.5 * x1_obs - x2_obs)))).astype(int)
    with Graph("logit") as g:
        b0 = StaticVariable("b0", mean=0.0, variance=4.0)
        b1 = StaticVariable("b1", mean=0.0, variance=4.0)
        b2 = StaticVariable("b2", mean=0.0, variance=4.0)
        v1, v2 = (
            Variable("x1", distribution="NoDistribution"),
            Variable("x2", distribution="NoDistribution"),
        )
        Variable("y", distribution="Bernoulli", logit=b0 + b1 * v1 + b2 * v2)

    def model(x1, x2, y=None):
        b0 = numpyro.sample("b0", dist.Normal(0.0, 2.0))
        b1 = numpyro.sample("b1", dist.Normal(0.0, 2.0))
        b2 = numpyro.sample("b2", dist.Normal(0.0, 2.0))
        with numpyro.plate("rows", len(x1)):
            numpyro.sample("y", dist.BernoulliLogits(b0 + b1 * x1 + b2 * x2), obs=y)

    point = {"b0": 0.3, "b1": 1.0, "b2": -0.5}
    return _case("logistic_regression", g, model, {"x1": x1_obs, "x2": x2_obs, "y": y_obs},
                 point)


def poisson_regression():
    rng = _rng(4)
    n = 60
    x_obs = rng.normal(size=n)
    y_obs = rng.poisson(np.exp(0.7 + 0.4 * x_obs))
    with Graph("pois") as g:
        a = StaticVariable("a", mean=0.0, variance=4.0)
        b = StaticVariable("b", mean=0.0, variance=4.0)
        xv = Variable("x", distribution="NoDistribution")
        Variable("y", distribution="Poisson", log_mean=a + b * xv)

    def model(x, y=None):
        a = numpyro.sample("a", dist.Normal(0.0, 2.0))
        b = numpyro.sample("b", dist.Normal(0.0, 2.0))
        with numpyro.plate("rows", len(x)):
            numpyro.sample("y", dist.Poisson(jnp.exp(a + b * x)), obs=y)

    point = {"a": 0.5, "b": 0.3}
    return _case("poisson_regression", g, model, {"x": x_obs, "y": y_obs}, point)


def negative_binomial_regression():
    rng = _rng(5)
    n = 60
    x_obs = rng.normal(size=n)
    mu = np.exp(1.0 + 0.5 * x_obs)
    y_obs = rng.negative_binomial(3.0, 3.0 / (3.0 + mu))
    with Graph("negbin") as g:
        a = StaticVariable("a", mean=0.0, variance=4.0)
        b = StaticVariable("b", mean=0.0, variance=4.0)
        phi = StaticVariable("phi", distribution="Gamma", concentration=2.0, rate=0.5)
        xv = Variable("x", distribution="NoDistribution")
        Variable("y", distribution="NegativeBinomial", mean=exp(a + b * xv), dispersion=phi)

    def model(x, y=None):
        a = numpyro.sample("a", dist.Normal(0.0, 2.0))
        b = numpyro.sample("b", dist.Normal(0.0, 2.0))
        phi = numpyro.sample("phi", dist.Gamma(2.0, 0.5))
        with numpyro.plate("rows", len(x)):
            numpyro.sample("y", dist.NegativeBinomial2(jnp.exp(a + b * x), phi), obs=y)

    point = {"a": 0.9, "b": 0.4, "phi": 2.5}
    return _case("negative_binomial_regression", g, model, {"x": x_obs, "y": y_obs}, point,
                 positive=("phi",), mgvi=False)


def robust_regression():
    rng = _rng(6)
    n = 50
    x_obs = rng.normal(size=n)
    y_obs = 0.5 - 1.0 * x_obs + 0.5 * rng.standard_t(3, size=n)
    with Graph("robust") as g:
        a = StaticVariable("a", mean=0.0, variance=25.0)
        b = StaticVariable("b", mean=0.0, variance=25.0)
        s = StaticVariable("sigma", distribution="HalfNormal", scale=2.0)
        xv = Variable("x", distribution="NoDistribution")
        Variable("y", distribution="StudentT", degrees_of_freedom=4.0, location=a + b * xv, scale=s)

    def model(x, y=None):
        a = numpyro.sample("a", dist.Normal(0.0, 5.0))
        b = numpyro.sample("b", dist.Normal(0.0, 5.0))
        s = numpyro.sample("sigma", dist.HalfNormal(2.0))
        with numpyro.plate("rows", len(x)):
            numpyro.sample("y", dist.StudentT(4.0, a + b * x, s), obs=y)

    point = {"a": 0.4, "b": -0.9, "sigma": 0.6}
    return _case("robust_regression", g, model, {"x": x_obs, "y": y_obs}, point,
                 positive=("sigma",))


# -- conjugate pairs ----------------------------------------------------------------------------
def beta_binomial():
    k_obs = np.array([3, 5, 4, 2, 6])
    with Graph("betabin") as g:
        p = StaticVariable("p", distribution="Beta", alpha=2.0, beta=3.0)
        Variable("k", distribution="Binomial", total_count=10, probability=p)

    def model(k=None):
        p = numpyro.sample("p", dist.Beta(2.0, 3.0))
        with numpyro.plate("rows", 5):
            numpyro.sample("k", dist.Binomial(10, probs=p), obs=k)

    post = stats.beta(2.0 + k_obs.sum(), 3.0 + 10 * len(k_obs) - k_obs.sum())
    return _case("beta_binomial", g, model, {"k": k_obs}, {"p": 0.4},
                 exact={"p": (post.mean(), post.std())}, mgvi=False)


def gamma_poisson():
    y_obs = np.array([2, 4, 3, 5, 1, 3, 2, 6])
    with Graph("gampois") as g:
        rate = StaticVariable("rate", distribution="Gamma", concentration=2.0, rate=0.5)
        Variable("y", distribution="Poisson", mean=rate)

    def model(y=None):
        rate = numpyro.sample("rate", dist.Gamma(2.0, 0.5))
        with numpyro.plate("rows", len(y)):
            numpyro.sample("y", dist.Poisson(rate), obs=y)

    post = stats.gamma(2.0 + y_obs.sum(), scale=1 / (0.5 + len(y_obs)))
    return _case("gamma_poisson", g, model, {"y": y_obs}, {"rate": 3.0},
                 exact={"rate": (post.mean(), post.std())}, positive=("rate",), mgvi=False)


def dirichlet_categorical():
    """Dirichlet-multinomial written per draw: the multinomial counts' likelihood is the product
    of the categorical draws' (up to the multinomial coefficient, a constant)."""
    alpha = np.array([1.0, 2.0, 3.0])
    c_obs = np.array([0, 1, 1, 2, 2, 2, 2, 0, 1, 2, 2])
    with Graph("dirmult") as g:
        w = StaticVariable("w", shape=(3,), distribution="Dirichlet", concentration=alpha)
        Variable("c", distribution="Categorical", probabilities=w)

    def model(c=None):
        w = numpyro.sample("w", dist.Dirichlet(jnp.asarray(alpha)))
        with numpyro.plate("rows", len(c)):
            numpyro.sample("c", dist.Categorical(probs=w), obs=c)

    post = stats.dirichlet(alpha + np.bincount(c_obs, minlength=3))
    sd = np.sqrt(post.var())
    return _case("dirichlet_categorical", g, model, {"c": c_obs}, {"w": np.array([0.2, 0.3, 0.5])},
                 exact={"w": (post.mean(), sd)}, simplex=("w",), mgvi=False)


def normal_known_variance():
    """The Normal mean with known variance: the Gaussian conjugate pair."""
    y_obs = np.array([1.2, 0.4, 2.2, 1.7, 0.9, 1.5])
    with Graph("normmean") as g:
        m = StaticVariable("m", mean=0.0, variance=4.0)
        Variable("y", mean=m, variance=0.5)

    def model(y=None):
        m = numpyro.sample("m", dist.Normal(0.0, 2.0))
        with numpyro.plate("rows", len(y)):
            numpyro.sample("y", dist.Normal(m, np.sqrt(0.5)), obs=y)

    prec = 1 / 4.0 + len(y_obs) / 0.5
    return _case("normal_known_variance", g, model, {"y": y_obs}, {"m": 1.0},
                 exact={"m": (y_obs.sum() / 0.5 / prec, np.sqrt(1 / prec))})


# -- GP, time series, mixtures, ordered, LKJ ------------------------------------------------------
def gp_regression():
    rng = _rng(7)
    n = 12
    xs = np.linspace(0, 5, n)
    ys = np.sin(xs) + 0.2 * rng.normal(size=n)
    with Graph("gp") as g:
        eta = StaticVariable("eta", distribution="HalfNormal", scale=1.0)
        ell = StaticVariable("ell", distribution="Gamma", concentration=4.0, rate=4.0)
        sigma = StaticVariable("sigma", distribution="HalfNormal", scale=0.5)
        cov = squared_exponential_kernel(xs, xs, eta**2, ell) + sigma**2 * np.eye(n)
        StaticVariable(
            "y", shape=(n,), distribution="MultivariateNormal", mean=np.zeros(n), covariance=cov
        )

    def model(y=None):
        eta = numpyro.sample("eta", dist.HalfNormal(1.0))
        ell = numpyro.sample("ell", dist.Gamma(4.0, 4.0))
        sigma = numpyro.sample("sigma", dist.HalfNormal(0.5))
        d2 = (xs[:, None] - xs[None, :]) ** 2
        k = eta**2 * jnp.exp(-d2 / (2 * ell**2)) + sigma**2 * jnp.eye(n)
        numpyro.sample("y", dist.MultivariateNormal(jnp.zeros(n), covariance_matrix=k), obs=y)

    return _case("gp_regression", g, model, {"y": ys}, {"eta": 0.9, "ell": 1.1, "sigma": 0.3},
                 positive=("eta", "ell", "sigma"), mgvi=False)


def ar2():
    """AR(2), conditional on the first two values (PyMC's ``pm.AR`` with its ``init`` observed):
    the lagged series are data of per-row variables."""
    rng = _rng(8)
    t = 80
    series = np.zeros(t)
    for i in range(2, t):
        series[i] = 0.2 + 0.6 * series[i - 1] - 0.3 * series[i - 2] + 0.5 * rng.normal()
    with Graph("ar2") as g:
        c = StaticVariable("c", mean=0.0, variance=1.0)
        rho = StaticVariable("rho", shape=(2,), mean=0.0, variance=0.25)
        sigma = StaticVariable("sigma", distribution="HalfNormal", scale=1.0)
        lag1, lag2 = (
            Variable("lag1", distribution="NoDistribution"),
            Variable("lag2", distribution="NoDistribution"),
        )
        Variable("y", mean=c + rho[0] * lag1 + rho[1] * lag2, variance=sigma**2)

    def model(lag1, lag2, y=None):
        c = numpyro.sample("c", dist.Normal(0.0, 1.0))
        rho = numpyro.sample("rho", dist.Normal(0.0, 0.5).expand([2]).to_event(1))
        sigma = numpyro.sample("sigma", dist.HalfNormal(1.0))
        with numpyro.plate("rows", len(lag1)):
            numpyro.sample("y", dist.Normal(c + rho[0] * lag1 + rho[1] * lag2, sigma), obs=y)

    lag1, lag2, y = series[1:-1], series[:-2], series[2:]
    return _case("ar2", g, model, {"lag1": lag1, "lag2": lag2, "y": y},
                 {"c": 0.1, "rho": np.array([0.5, -0.2]), "sigma": 0.6}, positive=("sigma",))


def gaussian_mixture():
    """Two Gaussian components with ordered means; the component of each row is a Categorical
    latent that bayesgraph's MCMC sums out (numpyro: the marginal ``MixtureSameFamily``)."""
    rng = _rng(9)
    n = 60
    z = rng.uniform(size=n) < 0.35
    ys = np.where(z, rng.normal(-2.0, 0.7, n), rng.normal(2.0, 0.7, n))
    with Graph("mix") as g:
        w = StaticVariable("w", shape=(2,), distribution="Dirichlet", concentration=[2.0, 2.0])
        mu = StaticVariable("mu", shape=(2,), mean=0.0, variance=25.0, constraint="ordered")
        sigma = StaticVariable("sigma", distribution="HalfNormal", scale=2.0)
        comp = Variable("z", dtype="int", distribution="Categorical", probabilities=w)
        Variable("y", mean=mu[comp], variance=sigma**2)  # indexed by the latent component

    def model(y=None):
        w = numpyro.sample("w", dist.Dirichlet(jnp.array([2.0, 2.0])))
        mu = numpyro.sample("mu", dist.ImproperUniform(dist.constraints.ordered_vector, (), (2,)))
        numpyro.factor("mu_prior", dist.Normal(0.0, 5.0).log_prob(mu).sum())
        sigma = numpyro.sample("sigma", dist.HalfNormal(2.0))
        with numpyro.plate("rows", len(y)):
            numpyro.sample(
                "y",
                dist.MixtureSameFamily(dist.Categorical(probs=w), dist.Normal(mu, sigma)),
                obs=y,
            )

    point = {"w": np.array([0.4, 0.6]), "mu": np.array([-1.5, 1.8]), "sigma": 0.8}
    return _case("gaussian_mixture", g, model, {"y": ys}, point, positive=("sigma",),
                 simplex=("w",), mgvi=False)


def ordinal_regression():
    """Ordered-logistic (proportional-odds) regression with ordered cut points, written with
    ``OrderedLogistic`` (numpyro: ``OrderedLogistic``)."""
    rng = _rng(11)
    n, k = 40, 4
    x_obs = rng.normal(size=n)
    y_obs = np.searchsorted([-1.0, 0.2, 1.3], 1.2 * x_obs + rng.logistic(size=n))
    with Graph("ordinal") as g:
        b = StaticVariable("b", mean=0.0, variance=4.0)
        c = StaticVariable("cutpoints", shape=(k - 1,), mean=0.0, variance=25.0,
                           constraint="ordered")
        xv = Variable("x", distribution="NoDistribution")
        Variable("y", distribution="OrderedLogistic", predictor=b * xv, cutpoints=c)

    def model(x, y=None):
        b = numpyro.sample("b", dist.Normal(0.0, 2.0))
        c = numpyro.sample("cutpoints",
                           dist.ImproperUniform(dist.constraints.ordered_vector, (), (k - 1,)))
        numpyro.factor("cutpoints_prior", dist.Normal(0.0, 5.0).log_prob(c).sum())
        with numpyro.plate("rows", len(x)):
            numpyro.sample("y", dist.OrderedLogistic(b * x, c), obs=y)

    return _case("ordinal_regression", g, model, {"x": x_obs, "y": y_obs},
                 {"b": 1.0, "cutpoints": np.array([-0.8, 0.1, 1.5])},
                 mgvi=False)  # an ordered prior has no standardised coordinates


def correlated_normal_lkj():
    rng = _rng(10)
    n = 50
    true_cov = np.array([[1.0, 0.6], [0.6, 2.0]])
    ys = rng.multivariate_normal([0.5, -1.0], true_cov, size=n)
    with Graph("lkj") as g:
        mu = StaticVariable("mu", shape=(2,), mean=0.0, variance=25.0)
        sigma = StaticVariable("sigma", shape=(2,), distribution="HalfNormal", scale=2.0)
        corr = StaticVariable("L", shape=(2, 2), distribution="LKJCholesky", concentration=2.0)
        Variable(
            "y",
            shape=(2,),
            distribution="MultivariateNormal",
            mean=mu,
            cholesky_factor=reshape(sigma, (2, 1)) * corr,
        )

    def model(y=None):
        mu = numpyro.sample("mu", dist.Normal(0.0, 5.0).expand([2]).to_event(1))
        sigma = numpyro.sample("sigma", dist.HalfNormal(2.0).expand([2]).to_event(1))
        corr = numpyro.sample("L", dist.LKJCholesky(2, 2.0))
        with numpyro.plate("rows", len(y)):
            numpyro.sample(
                "y", dist.MultivariateNormal(mu, scale_tril=sigma[:, None] * corr), obs=y
            )

    r = 0.3
    point = {
        "mu": np.array([0.4, -0.8]),
        "sigma": np.array([1.1, 1.3]),
        "L": np.array([[1.0, 0.0], [r, np.sqrt(1 - r**2)]]),
    }
    return _case("correlated_normal_lkj", g, model, {"y": ys}, point, positive=("sigma",),
                 mgvi=False)


CASES = [
    eight_schools_centered,
    eight_schools_noncentered,
    radon,
    linear_regression_flat_sigma,
    logistic_regression,
    poisson_regression,
    negative_binomial_regression,
    robust_regression,
    beta_binomial,
    gamma_poisson,
    dirichlet_categorical,
    normal_known_variance,
    gp_regression,
    ar2,
    gaussian_mixture,
    ordinal_regression,
    correlated_normal_lkj,
]

# data-only variables (NoDistribution covariates) of each case: ForwardModel needs their data
COVARIATES = {"radon": ("county", "floor"), "linear_regression_flat_sigma": ("x",),
              "logistic_regression": ("x1", "x2"), "poisson_regression": ("x",),
              "negative_binomial_regression": ("x",), "robust_regression": ("x",),
              "ar2": ("lag1", "lag2"), "ordinal_regression": ("x",)}
