"""The table that maps bayesgraph distributions to numpyro distributions.

Each entry translates Halerium's parameters (variance, center/width, log_mean, ...) to a
numpyro distribution and gives a *central value* (mean or median), used as the optimisers'
starting point. Dirac variables are deterministic and have no entry.

Examples
--------
>>> import jax.numpy as jnp
>>> d = build("NormalDistribution", {"mean": jnp.asarray(1.0), "variance": jnp.asarray(4.0)})
>>> float(d.scale)
2.0
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax.numpy as jnp
import numpyro.distributions as dist
from numpyro.distributions import constraints

Params = dict[str, Any]


def _normal(p: Params) -> dist.Distribution:
    return dist.Normal(p["mean"], jnp.sqrt(p["variance"]))


def _log_normal(p: Params) -> dist.Distribution:
    return dist.LogNormal(p["mean_log"], jnp.sqrt(p["variance_log"]))


def _laplace(p: Params) -> dist.Distribution:
    return dist.Laplace(p["mean"], jnp.sqrt(p["variance"] / 2.0))  # variance = 2 scale^2


def _uniform(p: Params) -> dist.Distribution:
    half = p["width"] / 2.0
    return dist.Uniform(p["center"] - half, p["center"] + half)


def _exponential_rate(p: Params) -> Any:
    if "rate" in p:
        return p["rate"]
    if "log_mean" in p:
        return jnp.exp(-p["log_mean"])
    return 1.0 / p["mean"]


def _exponential(p: Params) -> dist.Distribution:
    return dist.Exponential(_exponential_rate(p))


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


#: bayesgraph distribution name -> builder of the numpyro distribution
BUILDERS: dict[str, Callable[[Params], dist.Distribution]] = {
    "NormalDistribution": _normal,
    "LogNormalDistribution": _log_normal,
    "LaplaceDistribution": _laplace,
    "UniformDistribution": _uniform,
    "ExponentialDistribution": _exponential,
    "BernoulliDistribution": _bernoulli,
    "PoissonDistribution": _poisson,
    "CategoricalDistribution": _categorical,
}


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
    if name == "NoDistribution":
        return dist.ImproperUniform(constraints.real, batch_shape or (), ())
    d = BUILDERS[name](params)
    if batch_shape is not None and tuple(d.batch_shape) != tuple(batch_shape):
        d = d.expand(batch_shape)
    return d
