"""The one table of distributions: every fact the compiler needs about a distribution.

Each bayesgraph distribution has one :class:`Entry` in :data:`TABLE`, which says

* how Halerium's parameters become a numpyro distribution (variance → scale, Laplace
  scale = sqrt(variance / 2), center/width → low/high, Exponential mean/log_mean/rate → rate,
  ...): ``build``;
* the *central value* used as the optimisers' start (the mean, or the median where the mean
  can be far out, as for LogNormal): ``central``;
* the map from standard-normal coordinates ``xi`` to a value and back, used by MGVI
  (``to_value`` / ``to_source``; ``None`` where there is none): ``standardisable``;
* the distribution parameters scaled by the square roots of their Fisher information
  (``residuals``), whose Jacobian ``R`` satisfies ``R^T R = J^T F J``.

The backend-free facts (support, discreteness, allowed dtypes, defaults, whether the support
depends on parameters, improperness) live on the language's distribution classes
(:mod:`bayesgraph.core.distribution`) and are read from there through :func:`facts`, so that
the lowering can check data without importing JAX. Dirac variables are deterministic and
have no entry.

Examples
--------
>>> import jax.numpy as jnp
>>> d = build("NormalDistribution", {"mean": jnp.asarray(1.0), "variance": jnp.asarray(4.0)})
>>> float(d.scale)
2.0
>>> TABLE["LaplaceDistribution"].standardisable, facts("PoissonDistribution").discrete
(True, True)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp
import numpyro.distributions as dist
from jax.scipy.special import gammaln, log_ndtr, ndtr, ndtri, polygamma, xlog1py, xlogy
from numpyro.distributions import ExpandedDistribution, biject_to, constraints

from bayesgraph.core.distribution import DISTRIBUTIONS, DistributionBase
from bayesgraph.exceptions import DistributionError

Params = dict[str, Any]
_LOG2 = 0.6931471805599453
_SQRT2 = 2.0 ** 0.5


def facts(name: str) -> type[DistributionBase]:
    """The language class of distribution ``name``: support, discreteness, dtypes, defaults.

    Examples
    --------
    >>> facts("UniformDistribution").support_parameters
    ('center', 'width', 'lower', 'upper')
    """
    return DISTRIBUTIONS[name]


def _unwrap(d: Any) -> tuple[Any, tuple[int, ...]]:
    """The base distribution and the batch shape its parameters must be broadcast to."""
    shape = tuple(d.batch_shape)
    while isinstance(d, ExpandedDistribution):
        d = d.base_dist
    return d, shape


def _p(d: Any, attr: str, shape: tuple[int, ...]) -> Any:
    return jnp.broadcast_to(getattr(d, attr), shape)


# -- builders -------------------------------------------------------------------------------
def _normal(p: Params, event: tuple[int, ...] = ()) -> dist.Distribution:
    return dist.Normal(p["mean"], jnp.sqrt(p["variance"]))


def _log_normal(p: Params, event: tuple[int, ...] = ()) -> dist.Distribution:
    return dist.LogNormal(p["mean_log"], jnp.sqrt(p["variance_log"]))


def _laplace(p: Params, event: tuple[int, ...] = ()) -> dist.Distribution:
    return dist.Laplace(p["mean"], jnp.sqrt(p["variance"] / 2.0))  # variance = 2 scale^2


def _uniform_bounds(p: Params) -> tuple[Any, Any]:
    if "lower" in p:
        low = p["lower"]
        return low, (p["upper"] if "upper" in p else low + p["width"])
    if "upper" in p:
        return 2.0 * p["center"] - p["upper"], p["upper"]
    half = p["width"] / 2.0
    return p["center"] - half, p["center"] + half


def _uniform(p: Params, event: tuple[int, ...] = ()) -> dist.Distribution:
    return dist.Uniform(*_uniform_bounds(p))


def _exponential(p: Params, event: tuple[int, ...] = ()) -> dist.Distribution:
    if "rate" in p:
        rate = p["rate"]
    elif "log_mean" in p:
        rate = jnp.exp(-p["log_mean"])
    else:
        rate = 1.0 / p["mean"]
    return dist.Exponential(rate)


def _bernoulli(p: Params, event: tuple[int, ...] = ()) -> dist.Distribution:
    if "logit" in p:
        return dist.BernoulliLogits(p["logit"])
    return dist.BernoulliProbs(p["mean"])


def _poisson(p: Params, event: tuple[int, ...] = ()) -> dist.Distribution:
    rate = jnp.exp(p["log_mean"]) if "log_mean" in p else p["mean"]
    return dist.Poisson(rate)


def _categorical(p: Params, event: tuple[int, ...] = ()) -> dist.Distribution:
    if "logits" in p:
        return dist.CategoricalLogits(p["logits"])
    return dist.CategoricalProbs(p["probabilities"])


def _ordered_logistic(p: Params, event: tuple[int, ...] = ()) -> dist.Distribution:
    return dist.OrderedLogistic(jnp.asarray(p["predictor"]), p["cutpoints"])


class OrderedProbit(dist.CategoricalProbs):
    """Ordinal outcome with a probit link: ``P(y <= k) = Phi(c_k - predictor)`` (numpyro has
    none). Each probability is a difference of normal CDFs taken on the side of the smaller
    tail, so that far categories keep their relative precision."""

    def __init__(self, predictor: Any, cutpoints: Any, *, validate_args: Any = None):
        predictor = jnp.asarray(predictor)
        shape = jnp.broadcast_shapes(predictor.shape, cutpoints.shape[:-1])
        self.predictor = jnp.broadcast_to(predictor, shape)
        self.cutpoints = jnp.broadcast_to(cutpoints, (*shape, cutpoints.shape[-1]))
        z = self.cutpoints - self.predictor[..., None]
        inf = jnp.full((*shape, 1), jnp.inf, z.dtype)
        upper = jnp.concatenate([z, inf], axis=-1)    # c_k - predictor (c_K = inf)
        lower = jnp.concatenate([-inf, z], axis=-1)   # c_{k-1} - predictor (c_{-1} = -inf)
        # Phi(u) - Phi(l) = Phi(-l) - Phi(-u): use the side where both are small
        right = lower > 0
        probs = jnp.where(right, ndtr(-lower) - ndtr(-upper), ndtr(upper) - ndtr(lower))
        super().__init__(jnp.maximum(probs, 0.0), validate_args=validate_args)


def _ordered_probit(p: Params, event: tuple[int, ...] = ()) -> dist.Distribution:
    return OrderedProbit(p["predictor"], p["cutpoints"])


def _student_t(p: Params, event: tuple[int, ...] = ()) -> dist.Distribution:
    return dist.StudentT(p["degrees_of_freedom"], p["location"], p["scale"])


def _cauchy(p: Params, event: tuple[int, ...] = ()) -> dist.Distribution:
    return dist.Cauchy(p["location"], p["scale"])


def _half_cauchy(p: Params, event: tuple[int, ...] = ()) -> dist.Distribution:
    return dist.HalfCauchy(p["scale"])


def _half_normal(p: Params, event: tuple[int, ...] = ()) -> dist.Distribution:
    return dist.HalfNormal(p["scale"])


def _half_student_t(p: Params, event: tuple[int, ...] = ()) -> dist.Distribution:
    return HalfStudentT(p["degrees_of_freedom"], p["scale"])


def _gamma(p: Params, event: tuple[int, ...] = ()) -> dist.Distribution:
    return dist.Gamma(p["concentration"], p["rate"])


def _inverse_gamma(p: Params, event: tuple[int, ...] = ()) -> dist.Distribution:
    return dist.InverseGamma(p["concentration"], p["scale"])  # numpyro's rate is the scale


def _beta(p: Params, event: tuple[int, ...] = ()) -> dist.Distribution:
    return dist.Beta(p["alpha"], p["beta"])


def _binomial(p: Params, event: tuple[int, ...] = ()) -> dist.Distribution:
    count = jnp.round(p["total_count"]).astype(jnp.result_type(int))  # integer counts
    if "logit" in p:
        return BinomialLogits(p["logit"], count)
    return BinomialProbs(p["probability"], count)


def _log_binomial_coefficient(n: Any, k: Any) -> Any:
    return gammaln(n + 1.0) - gammaln(k + 1.0) - gammaln(n - k + 1.0)


class BinomialProbs(dist.BinomialProbs):
    """numpyro's BinomialProbs with an exact log-density (``gammaln``; numpyro's integer
    path is off by ~1e-6).

    Examples
    --------
    >>> round(float(BinomialProbs(0.3, 10).log_prob(3.0)), 4)
    -1.3212
    """

    def log_prob(self, value: Any) -> Any:
        n = self.total_count
        return (_log_binomial_coefficient(n, value) + xlogy(value, self.probs)
                + xlog1py(n - value, -self.probs))


class BinomialLogits(dist.BinomialLogits):
    """numpyro's BinomialLogits with an exact log-density (see :class:`BinomialProbs`).

    Examples
    --------
    >>> round(float(BinomialLogits(0.0, 2).log_prob(1.0)), 4)
    -0.6931
    """

    def log_prob(self, value: Any) -> Any:
        n = self.total_count
        return (_log_binomial_coefficient(n, value) + value * self.logits
                - n * jax.nn.softplus(self.logits))


def _negative_binomial(p: Params, event: tuple[int, ...] = ()) -> dist.Distribution:
    return NegativeBinomial(p["mean"], p["dispersion"])


class NegativeBinomial(dist.NegativeBinomial2):
    """numpyro's NegativeBinomial2 with its log-density from ``gammaln`` (numpyro's goes
    through a ``betaln`` approximation that is off by ~1e-6 for counts of a few).

    Examples
    --------
    >>> round(float(NegativeBinomial(4.0, 2.0).log_prob(7.0)), 4)
    -2.956
    """

    def log_prob(self, value: Any) -> Any:
        phi = self.concentration
        mu = phi / self.rate
        log_total = jnp.log(phi + mu)
        return (gammaln(value + phi) - gammaln(phi) - gammaln(value + 1.0)
                + phi * (jnp.log(phi) - log_total) + xlogy(value, mu) - value * log_total)


def _dirichlet(p: Params, event: tuple[int, ...] = ()) -> dist.Distribution:
    return dist.Dirichlet(jnp.broadcast_to(p["concentration"],
                                           jnp.shape(p["concentration"])[:-1] + event))


def _multivariate_normal(p: Params, event: tuple[int, ...] = ()) -> dist.Distribution:
    mean = p["mean"]
    if "cholesky_factor" in p:
        return dist.MultivariateNormal(mean, scale_tril=p["cholesky_factor"])
    return dist.MultivariateNormal(mean, covariance_matrix=p["covariance"])


def _lkj_cholesky(p: Params, event: tuple[int, ...] = ()) -> dist.Distribution:
    return dist.LKJCholesky(event[-1], p["concentration"])


def _truncated_normal(p: Params, event: tuple[int, ...] = ()) -> dist.Distribution:
    return dist.TruncatedNormal(p["mean"], jnp.sqrt(p["variance"]), low=p.get("lower"),
                                high=p.get("upper"))


class HalfStudentT(dist.Distribution):
    """``|t|`` of a Student t with location 0 (numpyro has no half-t).

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> d = HalfStudentT(3.0, 2.0)
    >>> round(float(jnp.exp(d.log_prob(1.0))), 6)
    0.3...
    """

    arg_constraints = {"df": constraints.positive, "scale": constraints.positive}
    support = constraints.positive
    reparametrized_params = ["df", "scale"]

    def __init__(self, df: Any, scale: Any, *, validate_args: Any = None) -> None:
        self.df, self.scale = jnp.asarray(df), jnp.asarray(scale)
        batch_shape = jnp.broadcast_shapes(jnp.shape(df), jnp.shape(scale))
        self._t = dist.StudentT(self.df, 0.0, self.scale)
        super().__init__(batch_shape, validate_args=validate_args)

    def sample(self, key: Any, sample_shape: tuple[int, ...] = ()) -> Any:
        return jnp.abs(self._t.expand(self.batch_shape).sample(key, sample_shape))

    def log_prob(self, value: Any) -> Any:
        return _LOG2 + self._t.log_prob(value)

    def cdf(self, value: Any) -> Any:
        return 2.0 * self._t.cdf(value) - 1.0


class Ordered(dist.Distribution):
    """A distribution of independent entries restricted to increasing vectors (last axis).

    The density is the base density on the ordered set, not renormalised, as in Stan: exact
    when the entries are exchangeable (their order statistics), which is also what
    :meth:`sample` draws (the sorted base draws).

    Examples
    --------
    >>> import numpyro.distributions as dist
    >>> d = Ordered(dist.Normal(0.0, 1.0).expand((3,)), positive=False)
    >>> d.event_shape, d.support
    ((3,), OrderedVector())
    """

    def __init__(self, base: Any, positive: bool) -> None:
        self.base = base
        self._support = (constraints.positive_ordered_vector if positive
                         else constraints.ordered_vector)
        shape = tuple(base.batch_shape)
        super().__init__(shape[:-1], shape[-1:])

    @property
    def support(self) -> Any:  # type: ignore[override]
        return self._support

    def sample(self, key: Any, sample_shape: tuple[int, ...] = ()) -> Any:
        return jnp.sort(self.base.sample(key, sample_shape), axis=-1)

    def log_prob(self, value: Any) -> Any:
        return jnp.sum(self.base.log_prob(value), axis=-1)


# -- central values -------------------------------------------------------------------------
def _mean(d: Any) -> Any:
    return _unwrap(d)[0].mean


def _median_log_normal(d: Any) -> Any:
    return jnp.exp(_unwrap(d)[0].loc)  # the median: inside the support, always finite


def _zero(d: Any) -> Any:
    return jnp.zeros(())


def _location(d: Any) -> Any:
    return _unwrap(d)[0].loc


def _scale(d: Any) -> Any:
    return _unwrap(d)[0].scale


def _inverse_gamma_mode(d: Any) -> Any:
    base = _unwrap(d)[0]
    return base.rate / (base.concentration + 1.0)  # the mode; the mean may not exist


def _identity(d: Any) -> Any:
    base = _unwrap(d)[0]
    return jnp.eye(base.dimension)


def _median(d: Any) -> Any:
    return _unwrap(d)[0].icdf(0.5)


def _support_center(support: Any, shape: tuple[int, ...]) -> Any:
    """A point well inside a (constant) support: the start of a flat constrained prior."""
    while isinstance(support, constraints._IndependentConstraint):
        support = support.base_constraint
    if support is constraints.ordered_vector:
        k = shape[-1]
        return jnp.arange(k, dtype=float) - (k - 1) / 2.0
    if support is constraints.positive_ordered_vector:
        return jnp.arange(1, shape[-1] + 1, dtype=float)
    low = getattr(support, "lower_bound", None)
    high = getattr(support, "upper_bound", None)
    if low is not None and high is not None:
        return (low + high) / 2.0
    if low is not None:
        return low + 1.0
    if high is not None:
        return high - 1.0
    return jnp.zeros(())


# -- standardised coordinates ---------------------------------------------------------------
def _normal_value(d, xi, shape):
    return _p(d, "loc", shape) + _p(d, "scale", shape) * xi


def _normal_source(d, x, shape):
    return (x - _p(d, "loc", shape)) / _p(d, "scale", shape)


def _log_normal_value(d, xi, shape):
    return jnp.exp(_normal_value(d, xi, shape))


def _log_normal_source(d, x, shape):
    return _normal_source(d, jnp.log(x), shape)


def _laplace_value(d, xi, shape):
    tail = _LOG2 + log_ndtr(-jnp.abs(xi))  # log(2 min(u, 1 - u))
    return _p(d, "loc", shape) - jnp.sign(xi) * _p(d, "scale", shape) * tail


def _exponential_value(d, xi, shape):
    return -log_ndtr(-xi) / _p(d, "rate", shape)


def _uniform_value(d, xi, shape):
    low, high = _p(d, "low", shape), _p(d, "high", shape)
    return low + (high - low) * ndtr(xi)


def _cauchy_value(d, xi, shape):
    return _p(d, "loc", shape) + _p(d, "scale", shape) * jnp.tan(jnp.pi * (ndtr(xi) - 0.5))


def _half_cauchy_value(d, xi, shape):
    return _p(d, "scale", shape) * jnp.tan(jnp.pi / 2.0 * ndtr(xi))


def _half_normal_value(d, xi, shape):
    # P(|Z| > x) = 2 Phi(-x) = Phi(-xi): x = -ndtri(Phi(-xi) / 2), stable in both tails
    return -_p(d, "scale", shape) * ndtri(jnp.exp(log_ndtr(-xi) - _LOG2))


def _icdf_value(d, xi, shape):
    return jnp.broadcast_to(d.icdf(ndtr(xi)), shape)


def _multivariate_normal_value(d, xi, shape):
    loc = jnp.broadcast_to(d.loc, shape)
    return loc + jnp.einsum("...ij,...j->...i", d.scale_tril, xi)


def _multivariate_normal_source(d, x, shape):
    tril = jnp.broadcast_to(d.scale_tril, (*shape, shape[-1]))
    return jax.scipy.linalg.solve_triangular(tril, (x - d.loc)[..., None], lower=True)[..., 0]


def _cdf_source(d, x, shape):
    return jnp.broadcast_to(ndtri(jnp.clip(d.cdf(x), 1e-300, 1 - 1e-16)), shape)


def _flat_value(d, xi, shape):
    return jnp.broadcast_to(biject_to(d.support)(xi), shape)


def _flat_source(d, x, shape):
    return jnp.broadcast_to(biject_to(d.support).inv(x), shape)


# -- Fisher residuals -----------------------------------------------------------------------
def _sg(x: Any) -> Any:
    return jax.lax.stop_gradient(x)


def _location_scale_residuals(scale_factor: float):
    def residuals(d, shape):
        loc, scale = _p(d, "loc", shape), _p(d, "scale", shape)
        return [loc / _sg(scale), scale_factor * scale / _sg(scale)]
    return residuals


def _exponential_residuals(d, shape):
    rate = _p(d, "rate", shape)
    return [rate / _sg(rate)]


def _poisson_residuals(d, shape):
    rate = _p(d, "rate", shape)
    return [rate / _sg(jnp.sqrt(rate))]


def _bernoulli_residuals(d, shape):
    if hasattr(d, "logits") and type(d).__name__ == "BernoulliLogits":
        logits = _p(d, "logits", shape)
        p = jax.nn.sigmoid(logits)
        return [logits * _sg(jnp.sqrt(p * (1 - p)))]
    p = _p(d, "probs", shape)
    return [p / _sg(jnp.sqrt(p * (1 - p)))]


def _categorical_residuals(d, shape):
    probs = d.probs if type(d).__name__ == "CategoricalProbs" else jax.nn.softmax(d.logits, -1)
    probs = jnp.broadcast_to(probs, (*shape, probs.shape[-1]))
    return [probs / _sg(jnp.sqrt(probs))]


def _ordinal_residuals(d, shape):
    probs = jnp.broadcast_to(d.probs, (*shape, d.probs.shape[-1]))
    return [probs / _sg(jnp.sqrt(probs))]


def _no_residuals(d, shape):
    return []


def _student_t_residuals(d, shape):
    df, loc, scale = _p(d, "df", shape), _p(d, "loc", shape), _p(d, "scale", shape)
    return [loc / _sg(scale) * _sg(jnp.sqrt((df + 1.0) / (df + 3.0))),
            scale / _sg(scale) * _sg(jnp.sqrt(2.0 * df / (df + 3.0)))]


def _cauchy_residuals(d, shape):
    loc, scale = _p(d, "loc", shape), _p(d, "scale", shape)
    return [loc / _sg(scale) / _SQRT2, scale / _sg(scale) / _SQRT2]  # both 1 / (2 scale^2)


def _half_student_t_residuals(d, shape):
    df, scale = _p(d, "df", shape), _p(d, "scale", shape)
    return [scale / _sg(scale) * _sg(jnp.sqrt(2.0 * df / (df + 3.0)))]


def _scale_residuals(factor: float):
    def residuals(d, shape):
        scale = _p(d, "scale", shape)
        return [factor * scale / _sg(scale)]
    return residuals


def _two_parameter_residuals(a, b, f11, f12, f22):
    """``R @ (a, b)`` with ``R`` (stopped) the upper Cholesky factor of ``[[f11, f12],
    [f12, f22]]``, so that the residuals' Jacobian ``R J`` gives ``J^T F J``."""
    r11 = jnp.sqrt(f11)
    r12 = f12 / r11
    r22 = jnp.sqrt(jnp.maximum(f22 - r12 ** 2, 0.0))
    return [_sg(r11) * a + _sg(r12) * b, _sg(r22) * b]


def _gamma_residuals(d, shape):
    # Gamma(a, rate b) and InverseGamma(a, scale b) have the same Fisher information
    a, b = _p(d, "concentration", shape), _p(d, "rate", shape)
    return _two_parameter_residuals(a, b, polygamma(1, a), -1.0 / b, a / b ** 2)


def _beta_residuals(d, shape):
    a, b = _p(d, "concentration1", shape), _p(d, "concentration0", shape)
    both = polygamma(1, a + b)
    return _two_parameter_residuals(a, b, polygamma(1, a) - both, -both,
                                    polygamma(1, b) - both)


def _binomial_residuals(d, shape):
    n = _p(d, "total_count", shape)
    if type(d).__name__ == "BinomialLogits":
        logits = _p(d, "logits", shape)
        p = jax.nn.sigmoid(logits)
        return [logits * _sg(jnp.sqrt(n * p * (1 - p)))]
    p = _p(d, "probs", shape)
    return [p * _sg(jnp.sqrt(n / (p * (1 - p))))]


def _negative_binomial_residuals(d, shape):
    # the mean's Fisher information phi / (mu (mu + phi)); the dispersion's has no closed
    # form and is left out (see docs/distributions.md)
    phi = _p(d, "concentration", shape)
    mu = phi / _p(d, "rate", shape)
    return [mu * _sg(jnp.sqrt(phi / (mu * (mu + phi))))]


def _dirichlet_residuals(d, shape):
    alpha = jnp.broadcast_to(d.concentration, shape)
    k = shape[-1]
    fisher = (jnp.eye(k) * polygamma(1, alpha)[..., None]
              - polygamma(1, jnp.sum(alpha, -1))[..., None, None])
    lower = _sg(jnp.linalg.cholesky(fisher))
    return [jnp.einsum("...ji,...j->...i", lower, alpha)]  # L^T alpha


def _multivariate_normal_residuals(d, shape):
    tril = _sg(jnp.broadcast_to(d.scale_tril, (*shape, shape[-1])))
    solve = jax.scipy.linalg.solve_triangular
    mean = solve(tril, jnp.broadcast_to(d.loc, shape)[..., None], lower=True)[..., 0]
    cov = jnp.broadcast_to(d.covariance_matrix, tril.shape)
    left = solve(tril, cov, lower=True)
    whitened = solve(tril, jnp.swapaxes(left, -1, -2), lower=True) / 2.0 ** 0.5
    return [mean, whitened]


@dataclass(frozen=True)
class Entry:
    """What the compiler knows about one distribution (see the module docstring).

    ``residuals`` is ``None`` where the Fisher information has no closed form (MGVI then
    refuses the distribution as a likelihood whose parameters depend on latent values);
    ``support`` builds supports that depend on parameters.

    Examples
    --------
    >>> TABLE["NormalDistribution"].standardisable
    True
    """

    build: Callable[..., Any]
    central: Callable[[Any], Any]
    residuals: Callable[[Any, tuple[int, ...]], list[Any]] | None
    to_value: Callable[[Any, Any, tuple[int, ...]], Any] | None = None
    to_source: Callable[[Any, Any, tuple[int, ...]], Any] | None = None
    support: Callable[[Params], Any] | None = None

    @property
    def standardisable(self) -> bool:
        """Whether MGVI's standardised coordinates exist for latent values."""
        return self.to_value is not None


def _improper(p: Params, event: tuple[int, ...] = ()) -> Any:  # pragma: no cover
    raise NotImplementedError  # built by build()


def _uniform_support(p: Params) -> Any:
    return constraints.interval(*_uniform_bounds(p))


def _bounds_support(p: Params) -> Any:
    return _interval_constraint(p.get("lower"), p.get("upper"))


def _binomial_support(p: Params) -> Any:
    return constraints.integer_interval(0, p["total_count"])


#: bayesgraph distribution name -> everything the compiler needs to know about it
TABLE: dict[str, Entry] = {
    "NormalDistribution": Entry(_normal, _mean, _location_scale_residuals(_SQRT2),
                                _normal_value, _normal_source),
    "LogNormalDistribution": Entry(_log_normal, _median_log_normal,
                                   _location_scale_residuals(_SQRT2),
                                   _log_normal_value, _log_normal_source),
    "LaplaceDistribution": Entry(_laplace, _mean, _location_scale_residuals(1.0),
                                 _laplace_value, _cdf_source),
    "UniformDistribution": Entry(_uniform, _mean, _no_residuals, _uniform_value, _cdf_source,
                                 _uniform_support),
    "ExponentialDistribution": Entry(_exponential, _mean, _exponential_residuals,
                                     _exponential_value, _cdf_source),
    "BernoulliDistribution": Entry(_bernoulli, _zero, _bernoulli_residuals),
    "PoissonDistribution": Entry(_poisson, _zero, _poisson_residuals),
    "CategoricalDistribution": Entry(_categorical, _zero, _categorical_residuals),
    "OrderedLogisticDistribution": Entry(_ordered_logistic, _zero, _ordinal_residuals),
    "OrderedProbitDistribution": Entry(_ordered_probit, _zero, _ordinal_residuals),
    "NoDistribution": Entry(_improper, _zero, _no_residuals, _flat_value, _flat_source),
    "StudentTDistribution": Entry(_student_t, _location, _student_t_residuals),
    "CauchyDistribution": Entry(_cauchy, _location, _cauchy_residuals, _cauchy_value,
                                _cdf_source),
    "HalfCauchyDistribution": Entry(_half_cauchy, _scale, _scale_residuals(1.0 / _SQRT2),
                                    _half_cauchy_value, _cdf_source),
    "HalfNormalDistribution": Entry(_half_normal, _scale, _scale_residuals(_SQRT2),
                                    _half_normal_value, _cdf_source),
    "HalfStudentTDistribution": Entry(_half_student_t, _scale, _half_student_t_residuals),
    "GammaDistribution": Entry(_gamma, _mean, _gamma_residuals),
    "InverseGammaDistribution": Entry(_inverse_gamma, _inverse_gamma_mode, _gamma_residuals),
    "BetaDistribution": Entry(_beta, _mean, _beta_residuals),
    "BinomialDistribution": Entry(_binomial, _zero, _binomial_residuals,
                                  support=_binomial_support),
    "NegativeBinomialDistribution": Entry(_negative_binomial, _zero,
                                          _negative_binomial_residuals),
    "DirichletDistribution": Entry(_dirichlet, _mean, _dirichlet_residuals),
    "MultivariateNormalDistribution": Entry(_multivariate_normal, _mean,
                                            _multivariate_normal_residuals,
                                            _multivariate_normal_value,
                                            _multivariate_normal_source),
    "LKJCholeskyDistribution": Entry(_lkj_cholesky, _identity, None),
    "TruncatedNormalDistribution": Entry(_truncated_normal, _median, None, _icdf_value,
                                         _cdf_source, _bounds_support),
}

#: the constraint of each fixed support (supports that depend on parameters are built)
_SUPPORTS = {
    "real": constraints.real,
    "positive": constraints.positive,
    "nonnegative": constraints.positive,  # a latent value lies inside (0, inf)
    "unit_interval": constraints.unit_interval,
    "boolean": constraints.boolean,
    "nonnegative_integer": constraints.nonnegative_integer,
    "simplex": constraints.simplex,
    "corr_cholesky": constraints.corr_cholesky,
}

_TRUNCATED = (dist.LeftTruncatedDistribution, dist.RightTruncatedDistribution,
              dist.TwoSidedTruncatedDistribution)
_ORDERED_KINDS = {"ordered": False, "positive_ordered": True}


def _interval_constraint(low: Any, high: Any) -> Any:
    if low is None and high is None:
        return constraints.real
    if high is None:
        return constraints.greater_than(low)
    if low is None:
        return constraints.less_than(high)
    return constraints.interval(low, high)


def constraint_support(constraint: tuple[Any, ...]) -> Any:
    """The numpyro constraint of a variable's ``constraint`` tuple (see the lowering).

    Examples
    --------
    >>> constraint_support(("interval", 0.0, None))
    GreaterThan(lower_bound=0.0)
    >>> constraint_support(("ordered",))
    OrderedVector()
    """
    if constraint[0] == "ordered":
        return constraints.ordered_vector
    if constraint[0] == "positive_ordered":
        return constraints.positive_ordered_vector
    return _interval_constraint(constraint[1], constraint[2])


def event_dims(name: str, constraint: tuple[Any, ...] = ()) -> int:
    """Trailing axes of a value that form one draw: the distribution's own (a vector
    distribution) or 1 for an ordered vector.

    Examples
    --------
    >>> event_dims("DirichletDistribution"), event_dims("NoDistribution", ("ordered",))
    (1, 1)
    """
    ordered = bool(constraint) and constraint[0] in _ORDERED_KINDS
    return max(facts(name).event_dims, int(ordered))


def unbounded(name: str, constraint: tuple[Any, ...] = ()) -> bool:
    """Whether the values range over all reals, so that a Gaussian (Laplace) approximation
    in unconstrained coordinates is one in the variable's own.

    Examples
    --------
    >>> unbounded("NormalDistribution"), unbounded("NoDistribution", ("interval", 0.0, None))
    (True, False)
    """
    return facts(name).support == "real" and not constraint


def unconstrained_shape(name: str, constraint: tuple[Any, ...], shape: tuple[int, ...]
                        ) -> tuple[int, ...]:
    """The shape of the unconstrained coordinates of values of ``shape``.

    Examples
    --------
    >>> unconstrained_shape("DirichletDistribution", (), (2, 4))
    (2, 3)
    >>> unconstrained_shape("LKJCholeskyDistribution", (), (3, 3))
    (3,)
    """
    kind = facts(name).support
    if constraint or kind not in ("simplex", "corr_cholesky"):
        return tuple(shape)
    return tuple(biject_to(_SUPPORTS[kind]).inverse_shape(tuple(shape)))


def standardisable(name: str, constraint: tuple[Any, ...] = ()) -> bool:
    """Whether MGVI's standardised coordinates exist for latent values.

    A flat prior with bounds is standardised through numpyro's transform of its support, a
    truncated prior through its inverse CDF; ordered vectors of a proper prior have none.

    Examples
    --------
    >>> standardisable("GammaDistribution"), standardisable("HalfNormalDistribution")
    (False, True)
    """
    if constraint and constraint[0] in _ORDERED_KINDS:
        return facts(name).improper
    if constraint:
        return True
    return TABLE[name].standardisable


def support(name: str, params: Params, constraint: tuple[Any, ...] = ()) -> Any:
    """The numpyro constraint of the values of ``name`` (``params``: its support parameters).

    Examples
    --------
    >>> support("NormalDistribution", {}) is constraints.real
    True
    """
    if constraint:
        return constraint_support(constraint)
    kind = facts(name).support
    if kind in _SUPPORTS:
        return _SUPPORTS[kind]
    return TABLE[name].support(params)


def build(name: str, params: Params, shape: tuple[int, ...] | None = None,
          constraint: tuple[Any, ...] = ()) -> dist.Distribution:
    """Build the numpyro distribution of values of ``shape`` (its batch and event shape).

    ``NoDistribution`` becomes an improper flat prior over the reals or over its
    constraint's set; a proper prior with bounds is truncated (and renormalised); an ordered
    one becomes :class:`Ordered`. Without ``shape`` the parameters' shape decides.

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> build("NoDistribution", {}, (3,)).batch_shape
    (3,)
    >>> d = build("MultivariateNormalDistribution",
    ...           {"mean": jnp.zeros(2), "covariance": jnp.eye(2)}, (4, 2))
    >>> d.batch_shape, d.event_shape
    ((4,), (2,))
    """
    dims = event_dims(name, constraint)
    batch = event = None
    if shape is not None:
        batch, event = tuple(shape[:len(shape) - dims]), tuple(shape[len(shape) - dims:])
    if facts(name).improper:
        sup = constraint_support(constraint) if constraint else constraints.real
        return dist.ImproperUniform(sup, batch or (), event or ())
    own = facts(name).event_dims
    d = TABLE[name].build(params, tuple(shape[len(shape) - own:]) if shape and own else ())
    if constraint and constraint[0] == "interval":
        d = dist.TruncatedDistribution(d, low=constraint[1], high=constraint[2])
    if constraint and constraint[0] in _ORDERED_KINDS:
        if shape is not None and tuple(d.batch_shape) != tuple(shape):
            d = d.expand(tuple(shape))
        return Ordered(d, _ORDERED_KINDS[constraint[0]])
    if batch is not None and tuple(d.batch_shape) != batch:
        d = d.expand(batch)
    return d


def central(name: str, d: Any, shape: tuple[int, ...]) -> Any:
    """The central value of ``d`` (the optimisers' start), broadcast to ``shape``.

    For a flat prior with a constraint, a point well inside the set; for a truncated prior,
    its median; for an ordered vector, the central values spread to increase.

    Examples
    --------
    >>> import numpyro.distributions as dist
    >>> central("LogNormalDistribution", dist.LogNormal(0.0, 1.0), ()).item()
    1.0
    """
    base, _ = _unwrap(d)
    if isinstance(base, dist.ImproperUniform):
        return jnp.broadcast_to(_support_center(base.support, shape), shape)
    if isinstance(base, Ordered):
        value = jnp.broadcast_to(central(name, base.base, shape), shape)
        k = shape[-1]
        if base.support is constraints.positive_ordered_vector:
            return value * jnp.arange(1, k + 1) * 2.0 / (k + 1)
        return value + jnp.arange(k) - (k - 1) / 2.0
    if isinstance(base, _TRUNCATED):
        return jnp.broadcast_to(base.icdf(0.5), shape)
    return jnp.broadcast_to(TABLE[name].central(d), shape)


def to_value(name: str, d: Any, xi: Any) -> Any:
    """Map standard-normal coordinates ``xi`` to a value of ``d``.

    ==================  ======================================================
    Normal              ``mean + sqrt(variance) * xi`` (affine)
    LogNormal           ``exp(mean_log + sqrt(variance_log) * xi)``
    Laplace             inverse CDF of ``Phi(xi)`` (through ``log_ndtr``, stable in the tails)
    Exponential         ``-log(1 - Phi(xi)) / rate = -log_ndtr(-xi) / rate``
    Uniform             ``low + (high - low) * Phi(xi)``
    Cauchy, HalfCauchy  their inverse CDFs (``tan``) of ``Phi(xi)``
    HalfNormal          ``-scale * ndtri(Phi(-xi) / 2)``
    TruncatedNormal     its inverse CDF of ``Phi(xi)``, also for priors with bounds
    MultivariateNormal  ``mean + L xi`` (``L`` the Cholesky factor)
    NoDistribution      ``x = T(xi)``, ``T`` numpyro's transform onto the support (identity
                        without a constraint; no prior term: see the MGVI emitter)
    ==================  ======================================================

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> import numpyro.distributions as dist
    >>> float(to_value("ExponentialDistribution", dist.Exponential(2.0), jnp.asarray(0.0)))
    0.34657359...
    """
    base, shape = _unwrap(d)
    shape = jnp.broadcast_shapes(shape + tuple(base.event_shape), jnp.shape(xi))
    if isinstance(base, _TRUNCATED):
        return _icdf_value(base, xi, shape)
    entry = TABLE[name]
    if entry.to_value is None or isinstance(base, Ordered):
        valid = ", ".join(sorted(k for k, e in TABLE.items() if e.standardisable))
        raise DistributionError(f"{name} latent values have no standardised coordinates; "
                                f"MGVI supports {valid}")
    return entry.to_value(base, xi, shape)


def to_source(name: str, d: Any, x: Any) -> Any:
    """Inverse of :func:`to_value`: standard-normal coordinates of a value ``x`` of ``d``.

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> import numpyro.distributions as dist
    >>> float(to_source("NormalDistribution", dist.Normal(1.0, 2.0), jnp.asarray(3.0)))
    1.0
    """
    base, shape = _unwrap(d)
    shape = jnp.broadcast_shapes(shape + tuple(base.event_shape), jnp.shape(x))
    if isinstance(base, _TRUNCATED):
        return _cdf_source(base, x, shape)
    entry = TABLE[name]
    if entry.to_source is None or isinstance(base, Ordered):
        raise DistributionError(f"{name} latent values have no standardised coordinates")
    return entry.to_source(base, x, shape)


def fisher_residuals(name: str, d: Any) -> list[Any] | None:
    """Parameters of an observed distribution scaled by stopped sqrt(Fisher information).

    The Jacobian ``R`` of the returned arrays with respect to anything the parameters depend
    on satisfies ``R^T R = J^T F J`` with ``F`` the Fisher information of the parameters
    (block-diagonal per entry; two-parameter families use the Cholesky factor of their
    2 x 2 information, Dirichlet and MultivariateNormal their K x K ones). Returns ``None``
    where there is no closed form (truncated and ordered distributions, LKJ), and no arrays
    for Uniform and improper distributions.

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> import numpyro.distributions as dist
    >>> [float(r) for r in fisher_residuals("PoissonDistribution", dist.Poisson(4.0))]
    [2.0]
    """
    base, shape = _unwrap(d)
    residuals = TABLE[name].residuals
    if residuals is None or isinstance(base, (*_TRUNCATED, Ordered)):
        return None
    return residuals(base, shape + tuple(base.event_shape)[:1])
