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
from jax.scipy.special import log_ndtr, ndtr, ndtri
from numpyro.distributions import ExpandedDistribution, constraints

from bayesgraph.core.distribution import DISTRIBUTIONS, DistributionBase

Params = dict[str, Any]
_LOG2 = 0.6931471805599453


def facts(name: str) -> type[DistributionBase]:
    """The language class of distribution ``name``: support, discreteness, dtypes, defaults.

    Examples
    --------
    >>> facts("UniformDistribution").support_parameters
    ('center', 'width')
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
def _normal(p: Params) -> dist.Distribution:
    return dist.Normal(p["mean"], jnp.sqrt(p["variance"]))


def _log_normal(p: Params) -> dist.Distribution:
    return dist.LogNormal(p["mean_log"], jnp.sqrt(p["variance_log"]))


def _laplace(p: Params) -> dist.Distribution:
    return dist.Laplace(p["mean"], jnp.sqrt(p["variance"] / 2.0))  # variance = 2 scale^2


def _uniform(p: Params) -> dist.Distribution:
    half = p["width"] / 2.0
    return dist.Uniform(p["center"] - half, p["center"] + half)


def _exponential(p: Params) -> dist.Distribution:
    if "rate" in p:
        rate = p["rate"]
    elif "log_mean" in p:
        rate = jnp.exp(-p["log_mean"])
    else:
        rate = 1.0 / p["mean"]
    return dist.Exponential(rate)


def _bernoulli(p: Params) -> dist.Distribution:
    if "logit" in p:
        return dist.BernoulliLogits(p["logit"])
    return dist.BernoulliProbs(p["mean"])


def _poisson(p: Params) -> dist.Distribution:
    rate = jnp.exp(p["log_mean"]) if "log_mean" in p else p["mean"]
    return dist.Poisson(rate)


def _categorical(p: Params) -> dist.Distribution:
    if "logits" in p:
        return dist.CategoricalLogits(p["logits"])
    return dist.CategoricalProbs(p["probabilities"])


# -- central values -------------------------------------------------------------------------
def _mean(d: Any) -> Any:
    return _unwrap(d)[0].mean


def _median_log_normal(d: Any) -> Any:
    return jnp.exp(_unwrap(d)[0].loc)  # the median: inside the support, always finite


def _zero(d: Any) -> Any:
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


def _cdf_source(d, x, shape):
    return jnp.broadcast_to(ndtri(jnp.clip(d.cdf(x), 1e-300, 1 - 1e-16)), shape)


def _flat_value(d, xi, shape):
    return jnp.broadcast_to(xi, shape)


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


def _no_residuals(d, shape):
    return []


@dataclass(frozen=True)
class Entry:
    """What the compiler knows about one distribution (see the module docstring).

    Examples
    --------
    >>> TABLE["NormalDistribution"].standardisable
    True
    """

    build: Callable[[Params], Any]
    central: Callable[[Any], Any]
    residuals: Callable[[Any, tuple[int, ...]], list[Any]]
    to_value: Callable[[Any, Any, tuple[int, ...]], Any] | None = None
    to_source: Callable[[Any, Any, tuple[int, ...]], Any] | None = None

    @property
    def standardisable(self) -> bool:
        """Whether MGVI's standardised coordinates exist for latent values."""
        return self.to_value is not None


def _improper(p: Params) -> dist.Distribution:  # pragma: no cover - built by build()
    raise NotImplementedError


#: bayesgraph distribution name -> everything the compiler needs to know about it
TABLE: dict[str, Entry] = {
    "NormalDistribution": Entry(_normal, _mean, _location_scale_residuals(2.0 ** 0.5),
                                _normal_value, _normal_source),
    "LogNormalDistribution": Entry(_log_normal, _median_log_normal,
                                   _location_scale_residuals(2.0 ** 0.5),
                                   _log_normal_value, _log_normal_source),
    "LaplaceDistribution": Entry(_laplace, _mean, _location_scale_residuals(1.0),
                                 _laplace_value, _cdf_source),
    "UniformDistribution": Entry(_uniform, _mean, _no_residuals, _uniform_value, _cdf_source),
    "ExponentialDistribution": Entry(_exponential, _mean, _exponential_residuals,
                                     _exponential_value, _cdf_source),
    "BernoulliDistribution": Entry(_bernoulli, _zero, _bernoulli_residuals),
    "PoissonDistribution": Entry(_poisson, _zero, _poisson_residuals),
    "CategoricalDistribution": Entry(_categorical, _zero, _categorical_residuals),
    "NoDistribution": Entry(_improper, _zero, _no_residuals, _flat_value, _flat_value),
}

#: the constraint of each fixed support (supports that depend on parameters are built)
_SUPPORTS = {
    "real": constraints.real,
    "positive": constraints.positive,
    "nonnegative": constraints.positive,  # a latent value lies inside (0, inf)
    "boolean": constraints.boolean,
    "nonnegative_integer": constraints.nonnegative_integer,
}


def support(name: str, params: Params) -> Any:
    """The numpyro constraint of the values of ``name`` (``params``: its support parameters).

    Examples
    --------
    >>> support("NormalDistribution", {}) is constraints.real
    True
    """
    kind = facts(name).support
    if kind in _SUPPORTS:
        return _SUPPORTS[kind]
    return build(name, params).support


def build(name: str, params: Params, batch_shape: tuple[int, ...] | None = None
          ) -> dist.Distribution:
    """Build the numpyro distribution for ``name``; expand it to ``batch_shape`` if given.

    ``NoDistribution`` becomes an improper flat prior over the reals.

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> build("NoDistribution", {}, (3,)).batch_shape
    (3,)
    """
    if facts(name).improper:
        return dist.ImproperUniform(constraints.real, batch_shape or (), ())
    d = TABLE[name].build(params)
    if batch_shape is not None and tuple(d.batch_shape) != tuple(batch_shape):
        d = d.expand(batch_shape)
    return d


def central(name: str, d: Any, shape: tuple[int, ...]) -> Any:
    """The central value of ``d`` (the optimisers' start), broadcast to ``shape``.

    Examples
    --------
    >>> import numpyro.distributions as dist
    >>> central("LogNormalDistribution", dist.LogNormal(0.0, 1.0), ()).item()
    1.0
    """
    return jnp.broadcast_to(TABLE[name].central(d), shape)


def to_value(name: str, d: Any, xi: Any) -> Any:
    """Map standard-normal coordinates ``xi`` to a value of ``d``.

    ==================  ======================================================
    Normal              ``mean + sqrt(variance) * xi`` (affine)
    LogNormal           ``exp(mean_log + sqrt(variance_log) * xi)``
    Laplace             inverse CDF of ``Phi(xi)`` (through ``log_ndtr``, stable in the tails)
    Exponential         ``-log(1 - Phi(xi)) / rate = -log_ndtr(-xi) / rate``
    Uniform             ``low + (high - low) * Phi(xi)``
    NoDistribution      ``x = xi`` (no prior term: see the MGVI emitter)
    ==================  ======================================================

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> import numpyro.distributions as dist
    >>> float(to_value("ExponentialDistribution", dist.Exponential(2.0), jnp.asarray(0.0)))
    0.34657359...
    """
    entry = TABLE[name]
    if entry.to_value is None:
        valid = ", ".join(sorted(k for k, e in TABLE.items() if e.standardisable))
        raise ValueError(f"{name} latent values have no standardised coordinates; MGVI "
                         f"supports {valid}")
    base, shape = _unwrap(d)
    return entry.to_value(base, xi, jnp.broadcast_shapes(shape, jnp.shape(xi)))


def to_source(name: str, d: Any, x: Any) -> Any:
    """Inverse of :func:`to_value`: standard-normal coordinates of a value ``x`` of ``d``.

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> import numpyro.distributions as dist
    >>> float(to_source("NormalDistribution", dist.Normal(1.0, 2.0), jnp.asarray(3.0)))
    1.0
    """
    entry = TABLE[name]
    if entry.to_source is None:
        raise ValueError(f"{name} latent values have no standardised coordinates")
    base, shape = _unwrap(d)
    return entry.to_source(base, x, jnp.broadcast_shapes(shape, jnp.shape(x)))


def fisher_residuals(name: str, d: Any) -> list[Any]:
    """Parameters of an observed distribution scaled by stopped sqrt(Fisher information).

    The Jacobian ``R`` of the returned arrays with respect to anything the parameters depend
    on satisfies ``R^T R = J^T F J`` with ``F`` the (diagonal in these parameters) Fisher
    information. Returns arrays of the distribution's batch shape (categorical: with a
    trailing class axis); none for Uniform and improper distributions.

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> import numpyro.distributions as dist
    >>> [float(r) for r in fisher_residuals("PoissonDistribution", dist.Poisson(4.0))]
    [2.0]
    """
    base, shape = _unwrap(d)
    return TABLE[name].residuals(base, shape)
