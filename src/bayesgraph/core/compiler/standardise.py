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
>>> from bayesgraph.core.lowering import group, group_data
>>> from bayesgraph.core.compiler import Program
>>> with Graph("g") as g:
...     z = Variable("z", mean=1.0, variance=4.0)
>>> spec, data = lower(g)
>>> grouped = group(spec)
>>> program = Program(grouped)
>>> args = program.data_args(group_data(grouped, data))
>>> emitter = StandardEmitter({"g/z": jnp.array([[0.5]])}, args["missing"])
>>> float(program.variable_value(program.execute(args, emitter), "g/z")[0])
2.0
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from numpyro.distributions import biject_to

from bayesgraph.core.compiler.distributions import (
    facts,
    fisher_residuals,
    to_source,
    to_value,
)
from bayesgraph.core.compiler.distributions import standardisable as _standardisable
from bayesgraph.core.compiler.program import Emitter, LatentSite, fill_missing
from bayesgraph.core.lowering.groups import GroupSpec
from bayesgraph.exceptions import DistributionError

__all__ = ["StandardEmitter", "SourceRecorder", "standardisable", "to_value", "to_source",
           "fisher_residuals"]


def standardisable(distribution: str, constraint: tuple[Any, ...] = ()) -> bool:
    """Whether latent values of ``distribution`` (with ``constraint``) have standardised
    coordinates.

    Examples
    --------
    >>> standardisable("LaplaceDistribution"), standardisable("PoissonDistribution")
    (True, False)
    """
    return _standardisable(distribution, constraint)


class StandardEmitter(Emitter):
    """Run a program at standardised latent coordinates (see the module docstring).

    Parameters
    ----------
    xi : dict
        ``{site name: standard-normal coordinates}`` shaped like the sites.
    missing : dict
        ``data["missing"]``: flat indices of the missing entries of partial groups.
    """

    ancestral = True

    def __init__(self, xi: dict[str, Any], missing: dict[str, Any],
                 slots: dict[str, Any] | None = None) -> None:
        self.xi = xi
        self.missing = missing
        #: ``data["slots"]`` (see ``Program.data_args``): where each missing entry sits in
        #: its site; with it the missing values are placed elementwise (shard by shard)
        self.slots = slots
        self.log_likelihood: Any = 0.0
        self.prior: Any = 0.0
        self.residuals: list[Any] = []

    def _xi(self, site: LatentSite, rows: Any) -> Any:
        xi = self.xi[site.name]
        if rows is None:
            return xi
        if site.partial:  # the level's members, in the group's full shape
            xi = self._full(site, xi)
        return xi[rows]

    def _full(self, site: LatentSite, xi: Any) -> Any:
        """A partial site's ``xi`` placed in the group's full shape (zeros elsewhere)."""
        shape = site.group_shape
        if self.slots is not None:
            return fill_missing(jnp.zeros(shape, xi.dtype), self.slots[site.spec.name], xi)
        return jnp.zeros(int(np.prod(shape)), xi.dtype).at[
            self.missing[site.spec.name]].set(xi).reshape(shape)

    def draw(self, site: LatentSite, d: Any, rows: Any, level: Any) -> Any:
        return to_value(site.distribution, d, self._xi(site, rows))

    def draw_at(self, site: LatentSite, d: Any, step: Any) -> Any:
        xi = self.xi[site.name]
        if site.partial:  # in the group's full shape (M, n_data, *shape)
            xi = self._full(site, xi)
        return to_value(site.distribution, d, jax.lax.dynamic_index_in_dim(xi, step, 1, False))

    def score(self, site: LatentSite, d: Any, value: Any) -> None:
        xi = self.xi[site.name]
        if not facts(site.distribution).improper:
            self.prior = self.prior - 0.5 * jnp.sum(xi ** 2)
        elif site.spec is not None and site.spec.constraint:
            # a flat prior on the constrained values is log|T'(xi)| in xi
            transform = biject_to(d.support)
            self.prior = self.prior + jnp.sum(transform.log_abs_det_jacobian(xi, value))

    def observe(self, group: GroupSpec, d: Any, value: Any) -> None:
        if group.density_is_fixed:
            return
        log_prob = d.log_prob(value)
        residuals = fisher_residuals(group.distribution, d)
        if residuals is None:
            what = group.distribution.removesuffix("Distribution")
            raise DistributionError(
                f"MGVIModel cannot use the observed {what} variable {group.members[0]!r} "
                "as a likelihood whose parameters depend on unobserved values: its Fisher "
                "information has no closed form here. Use MCMCModel, ADVIModel or "
                "MAPFisherModel for this graph"
            )
        if group.role == "partial":
            if self.slots is not None:
                mask = (self.slots[group.name] < 0).astype(log_prob.dtype)
                mask = jnp.broadcast_to(mask, log_prob.shape)
            else:
                mask = jnp.ones(log_prob.size, log_prob.dtype).at[
                    self.missing[group.name]].set(0.0).reshape(log_prob.shape)
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

    def given(self, site: LatentSite, support: Any, d: Any | None) -> Any:
        return self.values[site.name]

    def score(self, site: LatentSite, d: Any, value: Any) -> None:
        self.recorded[site.name] = to_source(site.distribution, d, value)
