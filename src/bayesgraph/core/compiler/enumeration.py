"""Exact summation over unobserved discrete values, for samplers of the continuous ones.

:class:`Enumeration` builds a numpyro model in which the unobserved Bernoulli and Categorical
values are summed out of the joint density (a ``factor`` site), and draws them back from
their exact conditional posterior given the continuous values. ``MCMCModel`` uses it; numpyro's
own enumeration would add an axis that the compiler's per-example shapes do not expect.

Examples
--------
>>> from bayesgraph.core import Graph, Variable
>>> from bayesgraph.core.lowering import lower
>>> from bayesgraph.core.lowering import group, group_data
>>> from bayesgraph.core.compiler import Program
>>> with Graph("g") as g:
...     flag = Variable("flag", distribution="Bernoulli", mean=0.3)
...     x = Variable("x", mean=2.0 * flag, variance=1.0)
>>> spec, data = lower(g, {g.x: [1.5]})
>>> grouped = group(spec)
>>> program = Program(grouped)
>>> args = program.data_args(group_data(grouped, data))
>>> [s.name for s in Enumeration(program, args).sites]
['g/flag']
"""

from __future__ import annotations

import itertools
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import numpyro
from jax.scipy.special import logsumexp
from numpyro.distributions import ImproperUniform

from bayesgraph.core.compiler.distributions import facts
from bayesgraph.core.compiler.program import Emitter, LatentSite, Program, take_missing
from bayesgraph.core.lowering.groups import GroupSpec
from bayesgraph.exceptions import DiscreteLatentError

#: the largest number of joint configurations summed over
MAX_CONFIGURATIONS = 4096


def _refuse_time_shifts(program: Program, sites: list[LatentSite]) -> None:
    """Examples are summed out one at a time; a discrete value read at another time step
    (``z[TimeIndex - 1]``, a hidden Markov chain) ties the examples together, and the sum
    over every joint configuration of a series has ``K ** n_data`` terms: refused."""
    from bayesgraph.core.lowering.time import shifted_variables

    shifted = shifted_variables(program.spec)
    for site in sites:
        for name in site.members:
            if name in shifted:
                raise DiscreteLatentError(
                    f"MCMCModel cannot sum out the unobserved discrete variable {name!r}: "
                    f"{shifted[name]!r} reads it shifted in time (TimeIndex / TimeShift), so "
                    "its examples are not independent and the exact sum over a series has "
                    "K ** n_data terms. Give complete data for it, or model it with a "
                    "continuous distribution")


class Enumeration:
    """Sums unobserved discrete values out of the joint density, and draws them back.

    Discrete latents of StaticVariables are enumerated jointly (``S`` configurations); those
    of dynamic Variables per example (``D`` configurations of one example's values of every
    member of the group, the same table for every example, since examples are independent
    given the static values). The
    marginal log-density is ``logsumexp_s [static(s) + sum_i logsumexp_d example_i(s, d)]``.
    Entries of a partially observed variable that are observed are enumerated too; that adds
    a constant (independent of the latents) and leaves the posterior unchanged.
    """

    def __init__(self, program: Program, data: Any) -> None:
        self.program, self.n_data = program, program.n_data
        self.sites = [s for s in program.latent_sites if s.discrete]
        if not self.sites:
            return
        for site in self.sites:
            if facts(site.distribution).support not in ("boolean", "categories"):
                what = "missing entries of" if site.partial else "unobserved"
                kind = site.distribution.removesuffix("Distribution")
                raise DiscreteLatentError(
                    f"MCMCModel cannot infer the {what} {kind} variable {site.label}: "
                    "only Bernoulli and Categorical values can be summed out, and NUTS needs "
                    "continuous values. Give complete data for it, or model it with a "
                    "continuous distribution (e.g. LogNormal)")
        _refuse_time_shifts(program, self.sites)
        sizes = _support_sizes(program, data, self.sites)
        self.static = [s for s in self.sites if not s.spec.dynamic]
        self.dynamic = [s for s in self.sites if s.spec.dynamic]
        self.static_table = _configurations(self.static, sizes)
        self.dynamic_table = _configurations(self.dynamic, sizes)
        n_s = _n_configs(self.static_table)
        n_d = _n_configs(self.dynamic_table)
        if n_s * n_d > MAX_CONFIGURATIONS:
            names = ", ".join(s.label for s in self.sites)
            raise DiscreteLatentError(
                f"MCMCModel sums unobserved discrete values out exactly, but {names} have "
                f"{n_s} joint configurations (static) times {n_d} per example, more than "
                f"{MAX_CONFIGURATIONS}. Give data for some of them, use fewer categories, or "
                "use ForwardModel")
        self.n_static, self.n_dynamic = n_s, n_d

    # site values for given configurations
    def _site_value(self, site: LatentSite, full: Any, data: Any) -> Any:
        if site.partial:
            return take_missing(full, data["missing"][site.spec.name])
        return full

    def _discrete_values(self, s: Any, d_per_example: Any, data: Any) -> dict[str, Any]:
        """Site values for static configuration ``s`` and per-example configurations (n,)."""
        values = {}
        for site in self.static:
            values[site.name] = self._site_value(site, self.static_table[site.name][s], data)
        for site in self.dynamic:
            full = self.dynamic_table[site.name][d_per_example]  # (n, M, *shape)
            values[site.name] = self._site_value(site, jnp.moveaxis(full, 0, 1), data)
        return values

    def _terms(self, continuous: dict[str, Any], data: Any) -> tuple[Any, Any]:
        """``static (S,)`` and ``per example (S, D, n)`` log-density terms."""
        def at(s, d):
            values = dict(continuous)
            values.update(self._discrete_values(s, jnp.full((self.n_data,), d), data))
            emitter = _SplitDensityEmitter(values, self.n_data)
            self.program.execute(data, emitter)
            return emitter.static, emitter.per_example

        grid = jax.vmap(jax.vmap(at, in_axes=(None, 0)), in_axes=(0, None))
        static, per_example = grid(jnp.arange(self.n_static), jnp.arange(self.n_dynamic))
        return static[:, 0], per_example

    def marginal_model(self, data: Any) -> None:
        """numpyro model: continuous sites, and the discrete values summed out (a factor)."""
        first = self._discrete_values(0, jnp.zeros(self.n_data, jnp.int32), data)
        recorder = _ContinuousSites(first)
        self.program.execute(data, recorder)
        static, per_example = self._terms(recorder.values, data)
        total = static + jnp.sum(logsumexp(per_example, axis=1), axis=-1)
        numpyro.factor("discrete_latents_summed_out", logsumexp(total))

    def complete(self, latents: dict[str, Any], key: Any, data: Any) -> dict[str, Any]:
        """Add discrete site values drawn from their exact conditional posterior."""
        if not self.sites:
            return latents
        static, per_example = self._terms(latents, data)
        k1, k2 = jax.random.split(key)
        total = static + jnp.sum(logsumexp(per_example, axis=1), axis=-1)
        s = jax.random.categorical(k1, total)
        d = jax.random.categorical(k2, per_example[s].T, axis=-1)  # (n,)
        values = dict(latents)
        values.update(self._discrete_values(s, d, data))
        return values


class _SplitDensityEmitter(Emitter):
    """Log-density at given (constrained) values, split into static and per-example terms."""

    def __init__(self, values: dict[str, Any], n_data: int) -> None:
        self.values, self.n_data = values, n_data
        self.static = jnp.zeros(())
        self.per_example = jnp.zeros((n_data,))

    def _add(self, log_prob: Any, group: GroupSpec) -> None:
        if group.dynamic:  # (M, n, *shape): sum all but the examples axis
            self.per_example = self.per_example + jnp.reshape(
                jnp.moveaxis(log_prob, 1, 0), (self.n_data, -1)).sum(-1)
        else:
            self.static = self.static + jnp.sum(log_prob)

    def given(self, site: LatentSite, support: Any, d: Any | None) -> Any:
        return self.values[site.name]

    def score(self, site: LatentSite, d: Any, value: Any) -> None:
        if not site.partial:
            self._add(d.log_prob(value), site.spec)

    def observe(self, group: GroupSpec, d: Any, value: Any) -> None:
        self._add(d.log_prob(value), group)


class _ContinuousSites(Emitter):
    """Emit the continuous latent sites without density (it comes from the summed factor)."""

    def __init__(self, discrete: dict[str, Any]) -> None:
        self.discrete = discrete
        self.values: dict[str, Any] = {}

    def given(self, site: LatentSite, support: Any, d: Any | None) -> Any:
        if site.name in self.discrete:
            return self.discrete[site.name]
        flat = d if d is not None else ImproperUniform(support, (), site.shape)
        x = numpyro.sample(site.name, flat.mask(False).to_event(len(flat.batch_shape)))
        self.values[site.name] = x
        return x


class _SupportRecorder(Emitter):
    def __init__(self, names: set[str]) -> None:
        self.names, self.sizes = names, {}

    def given(self, site: LatentSite, support: Any, d: Any | None) -> Any:
        if site.name in self.names:
            upper = getattr(support, "upper_bound", 1)
            self.sizes[site.name] = int(upper) + 1
        return jnp.zeros(site.shape, jnp.int32 if site.discrete else None)


def _support_sizes(program: Program, data: Any, sites: list[LatentSite]) -> dict[str, int]:
    recorder = _SupportRecorder({s.name for s in sites})
    jax.eval_shape(lambda data: program.execute(data, recorder), data)
    return recorder.sizes


def _entries_shape(site: LatentSite) -> tuple[int, ...]:
    """The shape of one configuration: the group's members (of one example if dynamic)."""
    group = site.spec
    return (group.size, *group.shape)


def _configurations(sites: list[LatentSite], sizes: dict[str, int]) -> dict[str, Any]:
    """All joint configurations of the sites' values for one example (or the static ones)."""
    if not sites:
        return {}
    entries = []
    for site in sites:
        entries.extend([sizes[site.name]] * int(np.prod(_entries_shape(site), dtype=np.int64)))
    count = int(np.prod(entries, dtype=np.float64))
    if count > MAX_CONFIGURATIONS:
        names = ", ".join(s.label for s in sites)
        raise DiscreteLatentError(
            f"MCMCModel sums unobserved discrete values out exactly, but {names} have {count} "
            f"joint configurations, more than {MAX_CONFIGURATIONS}. Give data for some of "
            "them, or use fewer or smaller discrete variables")
    grid = np.array(list(itertools.product(*[range(k) for k in entries])), dtype=np.int32)
    grid = grid.reshape(count, len(entries))
    tables, start = {}, 0
    for site in sites:
        shape = _entries_shape(site)
        size = int(np.prod(shape, dtype=np.int64))
        tables[site.name] = jnp.asarray(grid[:, start:start + size].reshape(count, *shape))
        start += size
    return tables


def _n_configs(table: dict[str, Any]) -> int:
    return int(next(iter(table.values())).shape[0]) if table else 1
