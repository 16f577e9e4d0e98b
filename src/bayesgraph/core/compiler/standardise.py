"""Standardised ("whitened", "source") coordinates: every latent value as a map of N(0, 1).

MGVI works in coordinates ``xi`` in which the prior of every latent site is a standard
normal. :class:`StandardEmitter` runs a :class:`~bayesgraph.core.compiler.program.Program`
with latent values given as such ``xi`` and maps each to the site's distribution given its
parents' values (the parents are evaluated first, in topological order):

========================  ======================================================
distribution              ``x`` as a function of ``xi`` (``u = Phi(xi)``)
========================  ======================================================
Normal(mean, variance)    ``mean + sqrt(variance) * xi`` (affine)
LogNormal                 ``exp(mean_log + sqrt(variance_log) * xi)``
Laplace(loc, b)           inverse CDF of ``u`` (through ``log_ndtr``, stable in the tails)
Exponential(rate)         ``-log(1 - u) / rate = -log_ndtr(-xi) / rate``
Uniform(low, high)        ``low + (high - low) * u``
NoDistribution            ``x = xi`` and *no* prior term (an improper flat prior has no
                          standardisation; its coordinate is constrained by data only)
========================  ======================================================

While running, the emitter accumulates

* ``log_likelihood``: the log-density of every observed value whose density depends on
  latent values (for a partially observed variable, only its observed entries: the prior of
  the missing entries *is* the standard normal of their ``xi``);
* ``residuals``: for every observed distribution, its parameters divided by the *stopped*
  square roots of their Fisher information, so that for ``s(xi)`` the concatenation,
  ``J_s^T J_s = J^T F J`` is the Fisher metric of the likelihood pulled back to ``xi`` (the
  "square-root" trick of NIFTy). Uniform likelihoods (no Fisher information) contribute
  nothing.

Examples
--------
>>> import jax.numpy as jnp
>>> from bayesgraph.core import Graph, Variable
>>> from bayesgraph.core.lowering import lower
>>> from bayesgraph.core.compiler import compile_spec
>>> with Graph("g") as g:
...     z = Variable("z", mean=1.0, variance=4.0)
>>> spec, data = lower(g)
>>> program = compile_spec(spec)
>>> emitter = StandardEmitter({"g/z": jnp.array([0.5])}, program.data_args(data)["missing"])
>>> float(program.execute(program.data_args(data), emitter)["g/z"][0])
2.0
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
from jax.scipy.special import log_ndtr, ndtr, ndtri
from numpyro.distributions import ExpandedDistribution

from bayesgraph.core.compiler.program import Emitter, LatentSite
from bayesgraph.core.lowering.spec import VariableSpec

#: latent distributions with a standardising map
STANDARDISABLE = frozenset({
    "NormalDistribution", "LogNormalDistribution", "LaplaceDistribution",
    "ExponentialDistribution", "UniformDistribution", "NoDistribution",
})

_LOG2 = 0.6931471805599453


def _unwrap(d: Any) -> tuple[Any, tuple[int, ...]]:
    """The base distribution and the batch shape its parameters must be broadcast to."""
    shape = tuple(d.batch_shape)
    while isinstance(d, ExpandedDistribution):
        d = d.base_dist
    return d, shape


def _param(d: Any, attr: str, shape: tuple[int, ...]) -> Any:
    return jnp.broadcast_to(getattr(d, attr), shape)


def to_value(distribution: str, d: Any, xi: Any) -> Any:
    """Map standard-normal coordinates ``xi`` to a value of ``d`` (see the module table).

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> import numpyro.distributions as dist
    >>> float(to_value("ExponentialDistribution", dist.Exponential(2.0), jnp.asarray(0.0)))
    0.34657359...
    """
    base, shape = _unwrap(d)
    shape = jnp.broadcast_shapes(shape, jnp.shape(xi))
    if distribution == "NormalDistribution":
        return _param(base, "loc", shape) + _param(base, "scale", shape) * xi
    if distribution == "LogNormalDistribution":
        return jnp.exp(_param(base, "loc", shape) + _param(base, "scale", shape) * xi)
    if distribution == "LaplaceDistribution":
        tail = _LOG2 + log_ndtr(-jnp.abs(xi))  # log(2 min(u, 1 - u))
        return _param(base, "loc", shape) - jnp.sign(xi) * _param(base, "scale", shape) * tail
    if distribution == "ExponentialDistribution":
        return -log_ndtr(-xi) / _param(base, "rate", shape)
    if distribution == "UniformDistribution":
        low, high = _param(base, "low", shape), _param(base, "high", shape)
        return low + (high - low) * ndtr(xi)
    if distribution == "NoDistribution":
        return jnp.broadcast_to(xi, shape)
    raise ValueError(
        f"{distribution} latent values have no standardised coordinates; MGVI supports "
        f"{', '.join(sorted(STANDARDISABLE))}"
    )


def to_source(distribution: str, d: Any, x: Any) -> Any:
    """Inverse of :func:`to_value`: standard-normal coordinates of a value ``x`` of ``d``.

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> import numpyro.distributions as dist
    >>> float(to_source("NormalDistribution", dist.Normal(1.0, 2.0), jnp.asarray(3.0)))
    1.0
    """
    base, shape = _unwrap(d)
    shape = jnp.broadcast_shapes(shape, jnp.shape(x))
    if distribution == "NormalDistribution":
        return (x - _param(base, "loc", shape)) / _param(base, "scale", shape)
    if distribution == "LogNormalDistribution":
        return (jnp.log(x) - _param(base, "loc", shape)) / _param(base, "scale", shape)
    if distribution in ("LaplaceDistribution", "ExponentialDistribution",
                        "UniformDistribution"):
        return ndtri(jnp.clip(d.cdf(x), 1e-300, 1 - 1e-16))
    if distribution == "NoDistribution":
        return jnp.broadcast_to(x, shape)
    raise ValueError(f"{distribution} latent values have no standardised coordinates")


def fisher_residuals(d: Any) -> list[Any]:
    """Parameters of an observed distribution scaled by stopped sqrt(Fisher information).

    The Jacobian ``R`` of the returned arrays with respect to anything the parameters depend
    on satisfies ``R^T R = J^T F J`` with ``F`` the (diagonal in these parameters) Fisher
    information. Returns arrays of the distribution's batch shape (categorical: with a
    trailing class axis).

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> import numpyro.distributions as dist
    >>> [float(r) for r in fisher_residuals(dist.Poisson(jnp.asarray(4.0)))]
    [2.0]
    """
    base, shape = _unwrap(d)
    sg = jax.lax.stop_gradient
    name = type(base).__name__
    if name in ("Normal", "LogNormal"):
        loc, scale = _param(base, "loc", shape), _param(base, "scale", shape)
        return [loc / sg(scale), jnp.sqrt(2.0) * scale / sg(scale)]
    if name == "Laplace":
        loc, scale = _param(base, "loc", shape), _param(base, "scale", shape)
        return [loc / sg(scale), scale / sg(scale)]
    if name == "Exponential":
        rate = _param(base, "rate", shape)
        return [rate / sg(rate)]
    if name == "Poisson":
        rate = _param(base, "rate", shape)
        return [rate / sg(jnp.sqrt(rate))]
    if name == "BernoulliProbs":
        p = _param(base, "probs", shape)
        return [p / sg(jnp.sqrt(p * (1 - p)))]
    if name == "BernoulliLogits":
        logits = _param(base, "logits", shape)
        p = jax.nn.sigmoid(logits)
        return [logits * sg(jnp.sqrt(p * (1 - p)))]
    if name in ("CategoricalProbs", "CategoricalLogits"):
        probs = base.probs if name == "CategoricalProbs" else jax.nn.softmax(base.logits, -1)
        probs = jnp.broadcast_to(probs, (*shape, probs.shape[-1]))
        return [probs / sg(jnp.sqrt(probs))]
    return []  # Uniform, improper: no Fisher information about the latent values


class StandardEmitter(Emitter):
    """Run a program at standardised latent coordinates (see the module docstring).

    Parameters
    ----------
    xi : dict
        ``{site name: standard-normal coordinates}`` shaped like the sites.
    missing : dict
        ``data["missing"]``: flat indices of the missing entries of partial variables.
    """

    def __init__(self, xi: dict[str, Any], missing: dict[str, Any]) -> None:
        self.xi = xi
        self.missing = missing
        self.log_likelihood: Any = 0.0
        self.prior: Any = 0.0
        self.residuals: list[Any] = []

    def latent(self, site: LatentSite, d: Any, var: VariableSpec) -> Any:
        xi = self.xi[site.name]
        if site.distribution != "NoDistribution":
            self.prior = self.prior - 0.5 * jnp.sum(xi ** 2)
        return to_value(site.distribution, d, xi)

    def observe(self, name: str, d: Any, value: Any, var: VariableSpec) -> None:
        if var.density_is_fixed:
            return
        log_prob = d.log_prob(value)
        residuals = fisher_residuals(d)
        if var.role == "partial":
            mask = jnp.ones(log_prob.size, log_prob.dtype).at[self.missing[name]].set(0.0)
            mask = mask.reshape(log_prob.shape)
            log_prob = log_prob * mask
            residuals = [r * (mask if r.ndim == mask.ndim else mask[..., None])
                         for r in residuals]
        self.log_likelihood = self.log_likelihood + jnp.sum(log_prob)
        self.residuals.extend(jnp.reshape(r, (-1,)) for r in residuals)


class SourceRecorder(Emitter):
    """Record the standardised coordinates of given constrained latent values.

    Parameters
    ----------
    values : dict
        ``{site name: constrained value}``.
    """

    def __init__(self, values: dict[str, Any]) -> None:
        self.values = values
        self.recorded: dict[str, Any] = {}

    def latent(self, site: LatentSite, d: Any, var: VariableSpec) -> Any:
        x = self.values[site.name]
        self.recorded[site.name] = to_source(site.distribution, d, x)
        return x
