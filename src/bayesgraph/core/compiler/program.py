"""Build an executable program from a :class:`~bayesgraph.core.lowering.GroupedSpec`.

:meth:`Program.execute` runs the *units* of the grouped description in order (a group of
variables of one kind, or a block of groups that read each other) and hands every random
quantity to an *emitter*, which decides what happens: emit numpyro sample sites
(:meth:`Program.model`), sample forward, evaluate a log-density at given values, or read given
values. Every inference family uses one of these modes, so they all agree on the model by
construction. There is one builder per kind of unit: :meth:`Program._run_group` and
:meth:`Program._run_block`.

Values
------
A group's runtime value has a leading *member* axis: ``(M, n_data, *shape)`` for a dynamic
group, ``(M, *shape)`` for a static one. Variables are found in it through
:meth:`Program.locate` (``(group, member)``).

Sites
-----
* a group without data is the latent site named by the group (a group of one variable: the
  variable's global name), of the group's full shape;
* a group with some data has a latent site ``"<group name>/missing"`` holding only the
  missing entries (flat, row-major over ``(M, *member shape)``) and an observed site under
  the group's name for the completed array;
* a fully observed group is an observed site;
* a Dirac group is deterministic: no site.

Examples
--------
>>> import jax
>>> from bayesgraph.core import Variable
>>> from bayesgraph.core.lowering import group, lower
>>> x = Variable("x", mean=1.0, variance=4.0)
>>> spec, data = lower(x)
>>> program = Program(group(spec))
>>> [(s.name, s.shape) for s in program.latent_sites]
[('x', (1, 1))]
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import numpyro
from numpyro.distributions import ImproperUniform, biject_to

from bayesgraph.core.compiler import distributions as dtable
from bayesgraph.core.compiler.ops import as_index
from bayesgraph.core.compiler.ops import solve_triangular as _solve_triangular
from bayesgraph.core.compiler.ops import time_shift as _ops_time_shift
from bayesgraph.core.lowering.groups import (
    MISSING_SUFFIX,
    GExpr,
    GOp,
    GroupedData,
    GroupedSpec,
    GroupSpec,
    Member,
    PerMember,
    Shared,
)
from bayesgraph.core.operator.operators import OPERATOR_TABLE, IndexArray, Operand, thaw_key

Data = dict[str, dict[str, Any]]


def _resolve(path: str) -> Callable[..., Any]:
    module, _, attr = path.rpartition(".")
    return getattr(importlib.import_module(module), attr)


_JAX_FUNCTIONS = {name: _resolve(spec.jax_fn) for name, spec in OPERATOR_TABLE.items()}


@dataclass(frozen=True)
class LatentSite:
    """One latent sample site: the unobserved values of one group.

    Attributes
    ----------
    name : str
        Site name (the group's name, or it plus ``"/missing"``).
    index : int
        Position among the program's latent sites.
    group : int
        The group's index.
    members : tuple of str
        Global names of the group's variables.
    shape : tuple of int
        The site's value shape.
    distribution : str
        The distribution name.
    partial : bool
        True for the missing entries of a group with data.
    group_shape : tuple of int
        The group's full runtime shape ``(M, *member shape)``.
    spec : GroupSpec or None
        The group itself.

    Examples
    --------
    >>> site = LatentSite("g/x/missing", 0, 0, ("g/x",), (3,), "NormalDistribution", True)
    >>> site.discrete, site.label
    (False, "'g/x'")
    """

    name: str
    index: int
    group: int
    members: tuple[str, ...]
    shape: tuple[int, ...]
    distribution: str
    partial: bool
    group_shape: tuple[int, ...] = ()
    spec: GroupSpec | None = field(default=None, compare=False, repr=False)

    @property
    def discrete(self) -> bool:
        """Whether the site holds integers or booleans."""
        return dtable.facts(self.distribution).discrete

    @property
    def improper(self) -> bool:
        """Whether the prior is the improper flat NoDistribution."""
        return dtable.facts(self.distribution).improper

    @property
    def size(self) -> int:
        """Number of scalar values in the site."""
        return int(np.prod(self.shape, dtype=np.int64))

    @property
    def free_shape(self) -> tuple[int, ...]:
        """The shape of the site's unconstrained coordinates (a simplex of K values has K-1)."""
        constraint = self.spec.constraint if self.spec is not None else ()
        return dtable.unconstrained_shape(self.distribution, constraint, self.shape)

    @property
    def label(self) -> str:
        """The variables of the site, for messages."""
        first = repr(self.members[0])
        more = len(self.members) - 1
        return first + (f" (and {more} more of the same kind)" if more else "")


class Emitter:
    """What to do with random quantities while a program runs.

    An emitter is either *ancestral* (it makes latent values from their distributions:
    :meth:`draw`; parents must come first) or *value-given* (the latent values exist before
    their distributions are known: :meth:`given`). :meth:`score` then sees the value with its
    distribution (log-densities, numpyro factors, recording). ``draw`` must be a pure function
    of its arguments: blocks call it inside a loop over levels.
    """

    ancestral = False

    def given(self, site: LatentSite, support: Any, d: Any | None) -> Any:
        """The site's value (``d`` is the distribution when already known)."""
        raise NotImplementedError

    def draw(self, site: LatentSite, d: Any, rows: Any, level: Any) -> Any:
        """Values of ``d``'s entries; ``rows`` (member indices) and ``level`` are given when
        only the members of one level of a block are drawn."""
        raise NotImplementedError

    def score(self, site: LatentSite, d: Any, value: Any) -> None:
        """See a site's value with its distribution (over the site's entries)."""

    def observe(self, group: GroupSpec, d: Any, value: Any) -> None:
        """See an observed (or completed) group value with its distribution."""

    def parameters(self, group: GroupSpec, params: dict[str, Any]) -> None:
        """See a random group's parameters (Halerium's names, before numpyro's)."""

    def deterministic(self, group: GroupSpec, value: Any) -> Any:
        return value

    def draw_at(self, site: LatentSite, d: Any, step: Any) -> Any:
        """Values of ``d`` for one time step ``step`` of a recurrence (``d`` has the shape
        ``(M, *shape)`` of one step of every member); pure, like :meth:`draw`."""
        return self.draw(site, d, None, step)

    def latent(self, site: LatentSite, d: Any) -> Any:
        """Value of a site whose distribution is known first, then :meth:`score`."""
        value = (self.draw(site, d, None, None) if self.ancestral
                 else self.given(site, d.support, d))
        self.score(site, d, value)
        return value


def _event(d: Any, group: GroupSpec) -> Any:
    axes = len(group.shape) - dtable.event_dims(group.distribution, group.constraint)
    return d.to_event(axes) if axes else d


class NumpyroEmitter(Emitter):
    """Emit numpyro sample sites (the numpyro model).

    A group's member axis and the examples axis of a dynamic group are plates (``members of
    <group>`` and ``examples``, ``dim=-1`` for the innermost); the axes of the variables' own
    shape are event axes. The missing entries of a group with data form one event. A site
    whose distribution depends on its own values (a block) is sampled from an improper flat
    density on its support and scored by a ``factor``.

    Parameters
    ----------
    n_data : int
        Length of the examples plate.
    skip_fixed : bool
        Leave out observed groups whose log-density is a constant (no parameter depends on
        a latent value).
    """

    def __init__(self, n_data: int, skip_fixed: bool = True) -> None:
        self.n_data = n_data
        self.skip_fixed = skip_fixed
        self._improper: set[str] = set()

    def _sample(self, name: str, d: Any, group: GroupSpec, **kwargs: Any) -> Any:
        event = _event(d, group)
        members = numpyro.plate(f"members of {group.name}", group.size,
                                dim=-2 if group.dynamic else -1)
        with members:
            if group.dynamic:
                with numpyro.plate("examples", self.n_data, dim=-1):
                    return numpyro.sample(name, event, **kwargs)
            return numpyro.sample(name, event, **kwargs)

    def given(self, site: LatentSite, support: Any, d: Any | None) -> Any:
        if d is not None and site.partial:  # the density comes from the completed array
            return numpyro.sample(site.name, d.mask(False).to_event(1))
        if site.partial:
            return numpyro.sample(site.name, ImproperUniform(support, (), site.shape))
        if d is None:
            self._improper.add(site.name)
            return numpyro.sample(site.name, ImproperUniform(support, (), site.shape))
        return self._sample(site.name, d, site.spec)

    def score(self, site: LatentSite, d: Any, value: Any) -> None:
        if site.name in self._improper:
            numpyro.factor(site.name + "/log_density", jnp.sum(d.log_prob(value)))

    def observe(self, group: GroupSpec, d: Any, value: Any) -> None:
        if self.skip_fixed and group.density_is_fixed:
            return
        self._sample(group.name, d, group, obs=value)


class SampleEmitter(Emitter):
    """Draw every latent site from its conditional prior (ancestral sampling).

    Each site's random key is derived from the base key and the site's index (and the level
    inside a block), so a draw is a pure function of the key.
    """

    ancestral = True

    def __init__(self, key: Any) -> None:
        self.key = key

    def draw(self, site: LatentSite, d: Any, rows: Any, level: Any) -> Any:
        key = jax.random.fold_in(self.key, site.index)
        if level is not None:
            key = jax.random.fold_in(key, level)
        return d.sample(key)


class ValueEmitter(Emitter):
    """Read latent values from a dict ``{site name: constrained value}``."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.values = values

    def given(self, site: LatentSite, support: Any, d: Any | None) -> Any:
        return self.values[site.name]


class ObservedEmitter(ValueEmitter):
    """Read latent values like :class:`ValueEmitter`; for the observed groups ``groups``
    record each entry's log-density at the data (``key=None``: pointwise log-likelihood) or
    a fresh draw from its distribution given its parents (a replicate: predictive draws).

    A replicate is drawn given the parents' actual values (data where observed, the latent
    values given), the same conditioning as the pointwise log-likelihood.
    """

    def __init__(self, values: dict[str, Any], groups: tuple[int, ...], key: Any = None
                 ) -> None:
        super().__init__(values)
        self.groups = frozenset(groups)
        self.key = key
        self.recorded: dict[int, Any] = {}

    def observe(self, group: GroupSpec, d: Any, value: Any) -> None:
        if group.index not in self.groups:
            return
        if self.key is None:
            self.recorded[group.index] = d.log_prob(value)
        else:
            self.recorded[group.index] = d.sample(jax.random.fold_in(self.key, group.index))


class DensityEmitter(Emitter):
    """Accumulate the log-density at unconstrained latent values.

    Parameters
    ----------
    unconstrained : dict
        ``{site name: unconstrained value}``; each is mapped to the site's support.
    jacobian : bool
        Add the log-Jacobian of that map (the density of the unconstrained values) or not
        (the density of the variables themselves).
    skip_fixed : bool
        Leave out observed groups whose density does not depend on the latent values.
    """

    def __init__(self, unconstrained: dict[str, Any], jacobian: bool, skip_fixed: bool) -> None:
        self.unconstrained = unconstrained
        self.jacobian = jacobian
        self.skip_fixed = skip_fixed
        self.log_density: Any = 0.0

    def given(self, site: LatentSite, support: Any, d: Any | None) -> Any:
        u = self.unconstrained[site.name]
        transform = biject_to(support)
        x = transform(u)
        if self.jacobian:
            self.log_density = self.log_density + jnp.sum(transform.log_abs_det_jacobian(u, x))
        return x

    def score(self, site: LatentSite, d: Any, value: Any) -> None:
        if not site.partial:
            self.log_density = self.log_density + jnp.sum(d.log_prob(value))

    def observe(self, group: GroupSpec, d: Any, value: Any) -> None:
        if self.skip_fixed and group.density_is_fixed:
            return
        self.log_density = self.log_density + jnp.sum(d.log_prob(value))


class Program:
    """The executable form of a :class:`~bayesgraph.core.lowering.GroupedSpec`.

    Parameters
    ----------
    grouped : GroupedSpec
        The frozen, grouped model.

    Examples
    --------
    >>> import jax
    >>> from bayesgraph.core import Graph, Variable
    >>> from bayesgraph.core.lowering import group, group_data, lower
    >>> with Graph("g") as g:
    ...     z = Variable("z")
    ...     x = Variable("x", mean=z + 1, variance=0.5)
    >>> spec, data = lower(g, {g.x: [3.0]})
    >>> grouped = group(spec)
    >>> program = Program(grouped)
    >>> args = program.data_args(group_data(grouped, data))
    >>> values = program.execute(args, ValueEmitter({"g/z": jax.numpy.ones((1, 1))}))
    >>> float(program.variable_value(values, "g/x")[0])
    3.0
    """

    def __init__(self, grouped: GroupedSpec) -> None:
        self.grouped = grouped
        self.spec = grouped.spec
        self.n_data = grouped.n_data
        sites: list[LatentSite] = []
        self._site_of_group: dict[int, LatentSite] = {}
        for g in grouped.groups:
            if g.site is None:
                continue
            site = LatentSite(g.site, len(sites), g.index, g.members,
                              g.site_shape(self.n_data), g.distribution, g.role == "partial",
                              g.full_shape(self.n_data), g)
            sites.append(site)
            self._site_of_group[g.index] = site
        self.latent_sites: tuple[LatentSite, ...] = tuple(sites)

    # -- layout ---------------------------------------------------------------------------
    def locate(self, name: str) -> tuple[GroupSpec, int]:
        """The group holding variable ``name`` and the variable's member index in it."""
        g, m = self.grouped.locate(name)
        return self.grouped.groups[g], m

    def site_of(self, name: str) -> LatentSite | None:
        """The latent site holding (part of) variable ``name``, or ``None``."""
        g, _ = self.grouped.locate(name)
        return self._site_of_group.get(g)

    def site_of_group(self, group: int) -> LatentSite | None:
        """The latent site of a group, or ``None``."""
        return self._site_of_group.get(group)

    # -- data -----------------------------------------------------------------------------
    def data_args(self, data: GroupedData, dtype: Any = None) -> Data:
        """The data as a pytree of arrays: pass it as an argument to jitted functions.

        Holds the observed values by group, the flat indices of missing entries, and the
        grouped description's arrays (per-member constants, index arrays, levels): all of it
        is data, so one compiled program serves every model with the same fingerprint.

        Examples
        --------
        >>> from bayesgraph.core import Variable
        >>> from bayesgraph.core.lowering import group, group_data, lower
        >>> x = Variable("x")
        >>> spec, data = lower(x, {x: [1.0, 2.0]})
        >>> grouped = group(spec)
        >>> Program(grouped).data_args(group_data(grouped, data))["values"]["x"].shape
        (1, 2)
        """
        dtype = dtype or jnp.result_type(float)

        def cast(value: np.ndarray) -> Any:
            return jnp.asarray(value, dtype=dtype if value.dtype.kind == "f" else None)

        return {
            "values": {k: jnp.asarray(v, dtype=dtype) for k, v in data.values.items()},
            "missing": {k: jnp.asarray(v) for k, v in data.missing.items()},
            "slots": {k: jnp.asarray(missing_slots(v, data.values[k].shape))
                      for k, v in data.missing.items()},
            "arrays": {k: cast(v) for k, v in data.arrays.items()},
        }

    # -- expression evaluation --------------------------------------------------------------
    def _evaluate(self, expr: GExpr, env: dict[int, Any], data: Data, rows: Any) -> Any:
        if isinstance(expr, Shared):
            return jnp.asarray(expr.value)
        if isinstance(expr, PerMember):
            value = data["arrays"][expr.key]
            return value if rows is None else value[rows]
        if isinstance(expr, Member):
            source = _join_members([env[s] for s in expr.sources])
            if expr.mode == "one":
                return source[expr.index]
            if expr.mode == "aligned":
                return source if rows is None else source[rows]
            index = data["arrays"][expr.key]
            return source[index if rows is None else index[rows]]
        assert isinstance(expr, GOp)
        inner = expr.args[0] if expr.args else None
        if (expr.op == "sum" and isinstance(inner, GOp) and inner.op == "multiply"
                and _prefix(expr)):
            a, c = (self._evaluate(x, env, data, rows) for x in inner.args)
            result = _sum_of_product(expr, inner, a, c)
            if result is not None:
                return result
        args = [self._evaluate(a, env, data, rows) for a in expr.args]
        return _apply(expr, args)

    def _parameters(self, group: GroupSpec, env: dict[int, Any], data: Data,
                    rows: Any = None, only: tuple[str, ...] | None = None) -> dict[str, Any]:
        """The parameters, each with the group's member and examples axes (maybe of size 1)."""
        facts = dtable.facts(group.distribution)
        params = {}
        for key, expr in group.params:
            if only is not None and key not in only:
                continue
            value = self._evaluate(expr, env, data, rows)
            rank = len(facts.parameter_shape(key, group.shape, expr.shape) or ())
            params[key] = _lift(value, expr, True, group.dynamic, rank)
        return params

    def _gather_missing(self, params: dict[str, Any], group: GroupSpec, idx: Any
                        ) -> dict[str, Any]:
        full = group.full_shape(self.n_data)
        kinds = dtable.facts(group.distribution).parameter_kinds
        gathered = {}
        for key, value in params.items():
            if kinds.get(key) == "free":
                k = value.shape[-1]
                gathered[key] = take_missing(jnp.broadcast_to(value, (*full, k)), idx, full)
            else:
                gathered[key] = take_missing(jnp.broadcast_to(value, full), idx, full)
        return gathered

    # -- execution ------------------------------------------------------------------------
    def execute(self, data: Data, emitter: Emitter) -> dict[int, Any]:
        """Run the program; return ``{group index: value}`` (see :meth:`variable_value`)."""
        env: dict[int, Any] = {}
        for kind, index in self.grouped.units:
            if kind == "group":
                self._run_group(self.grouped.groups[index], env, data, emitter)
            else:
                self._run_block(self.grouped.blocks[index], env, data, emitter)
        return env

    def _run_group(self, group: GroupSpec, env: dict[int, Any], data: Data,
                   emitter: Emitter) -> None:
        full = group.full_shape(self.n_data)
        params = self._parameters(group, env, data)
        if group.deterministic:
            value = jnp.broadcast_to(params["mean"], full).astype(jnp.result_type(float))
            if group.dtype != "float":  # an int (bool) Dirac holds whole numbers (0 or 1)
                value = jnp.round(value) if group.dtype == "int" else (value > 0.5) * 1.0
            if group.role == "observed":
                value = data["values"][group.name]
            elif group.role == "partial":
                value = jnp.where(data["slots"][group.name] >= 0, value,
                                  data["values"][group.name])
            env[group.index] = emitter.deterministic(group, value)
            return
        emitter.parameters(group, params)
        d = dtable.build(group.distribution, params, full, group.constraint)
        site = self._site_of_group.get(group.index)
        if group.role == "latent":
            env[group.index] = emitter.latent(site, d)
            return
        if group.role == "partial":
            idx = data["missing"][group.name]
            d_missing = dtable.build(group.distribution, self._gather_missing(params, group, idx),
                                     constraint=group.constraint)
            filled = emitter.latent(site, d_missing)
            value = self._complete(group, data, filled)
        else:
            value = data["values"][group.name]
        self._observe(group, d, value, emitter)
        env[group.index] = value

    def _complete(self, group: GroupSpec, data: Data, filled: Any) -> Any:
        observed = data["values"][group.name]
        return fill_missing(observed, data["slots"][group.name],
                            jnp.asarray(filled, dtype=observed.dtype))

    def _observe(self, group: GroupSpec, d: Any, value: Any, emitter: Emitter) -> None:
        if dtable.facts(group.distribution).support == "categories":
            value = value.astype(jnp.int32)
        emitter.observe(group, d, value)

    def _run_block(self, block: Any, env: dict[int, Any], data: Data, emitter: Emitter) -> None:
        groups = [self.grouped.groups[i] for i in block.groups]
        site_values: dict[int, Any] = {}
        if emitter.ancestral:
            sweep = self._sweep_time if block.recurrent else self._sweep_levels
            values = sweep(block, groups, env, data, emitter)
            env.update(values)
            for g in groups:
                if g.deterministic:
                    continue
                if g.role == "latent":
                    site_values[g.index] = values[g.index]
                elif g.role == "partial":
                    site_values[g.index] = take_missing(values[g.index],
                                                        data["missing"][g.name])
        else:
            for g in groups:
                if g.role == "observed":
                    env[g.index] = data["values"][g.name]
                    continue
                if g.deterministic:  # computed below, from the given values
                    continue
                site = self._site_of_group[g.index]
                support_params = self._parameters(
                    g, env, data, only=dtable.facts(g.distribution).support_parameters)
                if g.role == "partial" and support_params:
                    support_params = self._gather_missing(support_params, g,
                                                          data["missing"][g.name])
                value = emitter.given(site, dtable.support(g.distribution, support_params,
                                                           g.constraint), None)
                site_values[g.index] = value
                env[g.index] = value if g.role == "latent" else self._complete(g, data, value)
            if block.recurrent and any(g.deterministic and g.role != "observed"
                                       for g in groups):
                env.update(self._sweep_time(block, groups, env, data, emitter, given=True))
        for g in groups:  # every value is known: score and observe at once
            if g.deterministic:
                env[g.index] = emitter.deterministic(g, env[g.index])
                continue
            params = self._parameters(g, env, data)
            emitter.parameters(g, params)
            d = dtable.build(g.distribution, params, g.full_shape(self.n_data), g.constraint)
            if g.role == "latent":
                emitter.score(self._site_of_group[g.index], d, site_values[g.index])
            elif g.role == "partial":
                d_missing = dtable.build(g.distribution, self._gather_missing(
                    params, g, data["missing"][g.name]), constraint=g.constraint)
                emitter.score(self._site_of_group[g.index], d_missing, site_values[g.index])
            if g.role != "latent":
                self._observe(g, d, env[g.index], emitter)

    def _sweep_levels(self, block: Any, groups: list[GroupSpec], env: dict[int, Any],
                      data: Data, emitter: Emitter) -> dict[int, Any]:
        """Ancestral values of a block: one level at a time, inside a ``fori_loop``."""
        initial: dict[int, Any] = {}
        masks: dict[int, Any] = {}
        for g in groups:
            full = g.full_shape(self.n_data)
            if g.role == "latent":
                initial[g.index] = jnp.zeros(full, jnp.result_type(float))
            else:
                initial[g.index] = data["values"][g.name]
            if g.role == "partial":
                masks[g.index] = data["slots"][g.name] >= 0

        def sweep(level: Any, values: dict[int, Any]) -> dict[int, Any]:
            scope = {**env, **values}
            out = dict(values)
            for g in groups:
                if g.role == "observed":
                    continue
                rows = data["arrays"][f"{g.name}/level_gather"][level]
                targets = data["arrays"][f"{g.name}/level_scatter"][level]
                params = self._parameters(g, scope, data, rows)
                shape = (rows.shape[0], *g.member_shape(self.n_data))
                d = dtable.build(g.distribution, params, shape, g.constraint)
                drawn = emitter.draw(self._site_of_group[g.index], d, rows, level)
                drawn = jnp.asarray(drawn, dtype=values[g.index].dtype)
                if g.role == "partial":
                    drawn = jnp.where(masks[g.index][rows], drawn, values[g.index][rows])
                out[g.index] = values[g.index].at[targets].set(drawn, mode="drop")
            return out

        return jax.lax.fori_loop(0, block.n_levels, sweep, initial)

    def _sweep_time(self, block: Any, groups: list[GroupSpec], env: dict[int, Any],
                    data: Data, emitter: Emitter, given: bool = False) -> dict[int, Any]:
        """Ancestral values of a recurrence over time: one ``lax.scan`` over the steps.

        The carry holds every group of the block at full shape ``(M, n_data, *shape)``;
        step ``t`` evaluates the parameters at ``t`` only (lags read earlier steps of the
        carry, other groups their step ``t``), draws one step of every member (a Dirac group:
        computes its mean) and writes it at ``t``. Observed entries are kept. With ``given``
        the random groups' values are in ``env`` already (value-given emitters) and only the
        Dirac groups are computed.
        """
        initial: dict[int, Any] = {}
        masks: dict[int, Any] = {}
        for g in groups:
            full = g.full_shape(self.n_data)
            if given and not g.deterministic:
                initial[g.index] = env[g.index]
            elif g.role == "latent":
                initial[g.index] = jnp.zeros(full, jnp.result_type(float))
            else:
                initial[g.index] = data["values"][g.name]
            if g.role == "partial":
                masks[g.index] = data["slots"][g.name] >= 0

        def step(values: dict[int, Any], t: Any) -> tuple[dict[int, Any], None]:
            out = dict(values)
            for g in groups:  # in step order: reads at step t come first
                if g.role == "observed" or (given and not g.deterministic):
                    continue
                params = self._parameters_at(g, {**env, **out}, data, t)
                if g.deterministic:
                    drawn = jnp.broadcast_to(params["mean"], (g.size, *g.shape))
                else:
                    d = dtable.build(g.distribution, params, (g.size, *g.shape), g.constraint)
                    drawn = emitter.draw_at(self._site_of_group[g.index], d, t)
                current = jax.lax.dynamic_index_in_dim(out[g.index], t, 1, keepdims=False)
                drawn = jnp.asarray(drawn, dtype=current.dtype)
                if g.role == "partial":
                    mask = jax.lax.dynamic_index_in_dim(masks[g.index], t, 1, keepdims=False)
                    drawn = jnp.where(mask, drawn, current)
                out[g.index] = jax.lax.dynamic_update_index_in_dim(out[g.index], drawn, t, 1)
            return out, None

        values, _ = jax.lax.scan(step, initial, jnp.arange(self.n_data))
        return values

    def _parameters_at(self, group: GroupSpec, env: dict[int, Any], data: Data, t: Any
                       ) -> dict[str, Any]:
        """The parameters of a dynamic group at time step ``t``: ``(M|1, *shape)``."""
        facts = dtable.facts(group.distribution)
        params = {}
        for key, expr in group.params:
            value = self._evaluate_at(expr, env, data, t)
            rank = len(facts.parameter_shape(key, group.shape, expr.shape) or ())
            params[key] = _lift(value, _one_step(expr), True, False, rank)
        return params

    def _evaluate_at(self, expr: GExpr, env: dict[int, Any], data: Data, t: Any) -> Any:
        """``expr`` at time step ``t`` (a traced integer): the value of one step, without
        the examples axis (see :func:`_one_step`)."""
        if not expr.dynamic:
            return self._evaluate(expr, env, data, None)
        if isinstance(expr, Member):
            source = _join_members([_at_step(env[s], t, 1) for s in expr.sources])
            if expr.mode == "one":
                return source[expr.index]
            if expr.mode == "aligned":
                return source
            return source[data["arrays"][expr.key]]
        assert isinstance(expr, GOp)
        if expr.op == "time_shift":
            kwargs = dict(expr.kwargs)
            shift, n = kwargs["shift"], self.n_data
            if shift == 0:
                return self._evaluate_at(expr.args[0], env, data, t)
            source = t + shift
            inside = (source >= 0) & (source < n)
            value = self._evaluate_at(expr.args[0], env, data, jnp.clip(source, 0, n - 1))
            block = jnp.asarray(_initial_block(expr.shape, kwargs), dtype=value.dtype)
            filled = jnp.clip(t if shift < 0 else t - (n - shift), 0, abs(shift) - 1)
            return jnp.where(inside, value, block[filled])
        args = [self._evaluate_at(a, env, data, t) for a in expr.args]
        return _apply(_one_step(expr), args)

    # -- reading results --------------------------------------------------------------------
    def variable_value(self, env: dict[int, Any], name: str) -> Any:
        """One variable's value from :meth:`execute`'s result (runtime shape).

        Examples
        --------
        >>> import jax.numpy as jnp
        >>> from bayesgraph.core import Variable
        >>> from bayesgraph.core.lowering import group, lower
        >>> program = Program(group(lower(Variable("v"))[0]))
        >>> program.variable_value({0: jnp.ones((1, 1))}, "v").shape
        (1,)
        """
        g, m = self.grouped.locate(name)
        return env[g][m]

    # -- modes ----------------------------------------------------------------------------
    def model(self, data: Data) -> dict[int, Any]:
        """The numpyro model: call it with :meth:`data_args`' result.

        Observed groups whose density is a constant are left out (they would cost a pass
        over their data in every gradient evaluation).
        """
        return self.execute(data, NumpyroEmitter(self.n_data))

    def sample(self, key: Any, data: Data) -> dict[int, Any]:
        """One ancestral draw of every group (data are clamped and carried forward)."""
        return self.execute(data, SampleEmitter(key))

    def values_at(self, latents: dict[str, Any], data: Data) -> dict[int, Any]:
        """Every group's value given constrained latent site values."""
        return self.execute(data, ValueEmitter(latents))

    def sites_of(self, env: dict[int, Any], data: Data) -> dict[str, Any]:
        """The latent site values contained in the group values ``env``."""
        sites = {}
        for site in self.latent_sites:
            value = env[site.group]
            if site.partial:
                group = self.grouped.groups[site.group]
                value = take_missing(value, data["missing"][group.name])
            sites[site.name] = value
        return sites

    def deterministic_values(self, latents: dict[str, Any], data: Data,
                             groups: tuple[int, ...]) -> dict[int, Any]:
        """The values of the Dirac groups ``groups`` given the latent site values.

        Under ``jax.jit`` only what these groups need is computed.
        """
        env = self.values_at(latents, data)
        return {g: env[g] for g in groups}

    def observed_terms(self, latents: dict[str, Any], data: Data, groups: tuple[int, ...],
                       key: Any = None) -> dict[int, Any]:
        """Pointwise log-likelihoods (``key=None``) or replicate draws (a random key) of the
        observed groups ``groups`` given constrained latent site values (see
        :class:`ObservedEmitter`). Log-likelihoods have the group's full shape less its event
        axes; replicates its full shape.
        """
        emitter = ObservedEmitter(latents, groups, key)
        self.execute(data, emitter)
        return emitter.recorded

    def central_latents(self, data: Data) -> dict[str, Any]:
        """Latent site values at the central values of their conditional priors."""
        emitter = _CentralRecorder()
        self.execute(data, emitter)
        return emitter.recorded

    def log_density(self, unconstrained: dict[str, Any], data: Data, *,
                    jacobian: bool = False, skip_fixed: bool = True) -> Any:
        """Joint log-density at unconstrained latent values (see :class:`DensityEmitter`)."""
        emitter = DensityEmitter(unconstrained, jacobian, skip_fixed)
        self.execute(data, emitter)
        return emitter.log_density

    def constrain(self, unconstrained: dict[str, Any], data: Data) -> dict[str, Any]:
        """Map unconstrained latent values to the sites' supports."""
        emitter = _ConstrainRecorder(unconstrained)
        self.execute(data, emitter)
        return emitter.recorded

    def unconstrain(self, constrained: dict[str, Any], data: Data) -> dict[str, Any]:
        """Map constrained latent values to unconstrained coordinates."""
        emitter = _UnconstrainRecorder(constrained)
        self.execute(data, emitter)
        return emitter.recorded


class _CentralRecorder(Emitter):
    ancestral = True

    def __init__(self) -> None:
        self.recorded: dict[str, Any] = {}

    def draw(self, site: LatentSite, d: Any, rows: Any, level: Any) -> Any:
        shape = tuple(d.batch_shape) + tuple(d.event_shape)
        return dtable.central(site.distribution, d, shape)

    def score(self, site: LatentSite, d: Any, value: Any) -> None:
        self.recorded[site.name] = value


class _ConstrainRecorder(Emitter):
    def __init__(self, unconstrained: dict[str, Any]) -> None:
        self.unconstrained = unconstrained
        self.recorded: dict[str, Any] = {}

    def given(self, site: LatentSite, support: Any, d: Any | None) -> Any:
        x = biject_to(support)(self.unconstrained[site.name])
        self.recorded[site.name] = x
        return x


class _UnconstrainRecorder(Emitter):
    def __init__(self, constrained: dict[str, Any]) -> None:
        self.constrained = constrained
        self.recorded: dict[str, Any] = {}

    def given(self, site: LatentSite, support: Any, d: Any | None) -> Any:
        x = self.constrained[site.name]
        self.recorded[site.name] = biject_to(support).inv(x)
        return x


# -- one time step of a recurrence ------------------------------------------------------------
_ONE_STEP: dict[int, tuple[Any, Any]] = {}


def _one_step(expr: Any) -> Any:
    """``expr`` seen at one time step: the same node without its examples axis (``dynamic``
    False everywhere below), so the batched operator rules apply to the values of one step.
    """
    if not getattr(expr, "dynamic", False):
        return expr
    cached = _ONE_STEP.get(id(expr))
    if cached is not None and cached[0] is expr:
        return cached[1]
    if isinstance(expr, Member):
        view: Any = replace(expr, dynamic=False)
    else:
        view = GOp(expr.op, tuple(_one_step(a) for a in expr.args), expr.kwargs, expr.shape,
                   False)
    _ONE_STEP[id(expr)] = (expr, view)
    return view


def _at_step(value: Any, t: Any, axis: int) -> Any:
    return jax.lax.dynamic_index_in_dim(value, t, axis, keepdims=False)


def _initial_block(shape: tuple[int, ...], kwargs: dict[str, Any]) -> np.ndarray:
    from bayesgraph.core.operator.time import initial_block

    return np.asarray(initial_block(tuple(shape), shift=kwargs["shift"],
                                    initial_values=kwargs["initial_values"]))


def _time_shift(expr, args, kwargs, b):
    """The shift along the examples axis (after the member axis when batched)."""
    (x,), (node,) = args, expr.args
    return _ops_time_shift(x, axis=int(node.batched), **kwargs)


# -- operators on member- and example-batched values ------------------------------------------
def _lift(value: Any, node: Any, batched: bool, dynamic: bool, rank: int) -> Any:
    """Reshape ``value`` (of node ``node``) to ``([M|1], [n|1], *ones, *node.shape)``.

    The member axis is present when ``batched``, the examples axis when ``dynamic``; axes
    the node does not have are of size 1, and the logical shape is padded on the left to
    ``rank`` axes, so that values broadcast against each other elementwise.
    """
    prefix: list[int] = []
    if batched:
        prefix.append(value.shape[0] if node.batched else 1)
    if dynamic:
        prefix.append(value.shape[int(node.batched)] if node.dynamic else 1)
    shape = (*prefix, *([1] * (rank - len(node.shape))), *node.shape)
    return value if tuple(value.shape) == shape else jnp.reshape(value, shape)


def _prefix(expr: Any) -> int:
    return int(expr.batched) + int(expr.dynamic)


def _apply(expr: GOp, args: list[Any]) -> Any:
    fn = _JAX_FUNCTIONS[expr.op]
    kwargs = dict(expr.kwargs)
    b = _prefix(expr)
    if b == 0:
        return fn(*args, **kwargs)
    if OPERATOR_TABLE[expr.op].elementwise:
        rank = len(expr.shape)
        return fn(*[_lift(v, a, expr.batched, expr.dynamic, rank)
                    for v, a in zip(args, expr.args)], **kwargs)
    rule = _STRUCTURAL.get(expr.op)
    result = rule(expr, args, kwargs, b) if rule is not None else None
    if result is None:
        result = _vmapped(expr, args, kwargs)
    return result


def _vmapped(expr: GOp, args: list[Any], kwargs: dict[str, Any]) -> Any:
    """The fallback: the per-example operator under ``vmap`` over the leading axes."""
    fn = _JAX_FUNCTIONS[expr.op]
    f: Callable[..., Any] = lambda *xs: fn(*xs, **kwargs)  # noqa: E731
    if expr.dynamic:
        f = jax.vmap(f, in_axes=[0 if a.dynamic else None for a in expr.args])
    if expr.batched:
        f = jax.vmap(f, in_axes=[0 if a.batched else None for a in expr.args])
    return f(*args)


def _shift_axis(axis: Any, b: int, rank: int) -> Any:
    if axis is None:
        return tuple(range(b, b + rank))
    if isinstance(axis, tuple):
        return tuple(_shift_axis(a, b, rank) for a in axis)
    return axis + b if axis >= 0 else axis


def _reduce(expr, args, kwargs, b):
    (x,), (node,) = args, expr.args
    axis = _shift_axis(kwargs.get("axis"), b, len(node.shape))
    return _JAX_FUNCTIONS[expr.op](x, axis=axis)


def _softmax(expr, args, kwargs, b):
    (x,), (node,) = args, expr.args
    return jax.nn.softmax(x, axis=_shift_axis(kwargs.get("axis", -1), b, len(node.shape)))


def _reshape(expr, args, kwargs, b):
    (x,) = args
    return jnp.reshape(x, (*x.shape[:b], *expr.shape))


def _transpose(expr, args, kwargs, b):
    (x,), (node,) = args, expr.args
    rank = len(node.shape)
    axes = kwargs.get("axes")
    axes = tuple(reversed(range(rank))) if axes is None else tuple(a % rank for a in axes)
    return jnp.transpose(x, (*range(b), *(a + b for a in axes)))


def _getitem(expr, args, kwargs, b):
    (x,) = args
    key = kwargs["key"]
    key = key if isinstance(key, tuple) and not isinstance(key, IndexArray) else (key,)
    fancy = [i for i, k in enumerate(key) if isinstance(k, IndexArray)]
    if fancy:
        advanced = [i for i, k in enumerate(key)
                    if isinstance(k, (IndexArray, int, np.integer))]
        if advanced != list(range(advanced[0], advanced[-1] + 1)):
            return None  # numpy moves separated advanced indices to the front: use vmap
    return x[(slice(None),) * b + thaw_key(key)]


def _labels(node: Any, logical: str) -> str:
    """Einsum labels of a value: ``M`` (members), ``N`` (examples) if present, then logical."""
    return ("M" if node.batched else "") + ("N" if node.dynamic else "") + logical


def _contract(operands: list[tuple[Any, str]], out: str) -> Any:
    """``einsum`` of labelled operands into labels ``out``, with every axis of size 1
    squeezed first (and put back at the end), so that a broadcast member axis of a group of
    one, or a logical axis of size 1, never becomes a batch dimension of the contraction:
    XLA then sees the plain matrix-vector product a hand-written program has."""
    sizes: dict[str, int] = {}
    squeezed = []
    for value, labels in operands:
        keep = [i for i, label in enumerate(labels) if value.shape[i] != 1]
        for i, label in enumerate(labels):
            sizes[label] = max(sizes.get(label, 1), value.shape[i])
        squeezed.append((jnp.reshape(value, [value.shape[i] for i in keep]),
                         "".join(labels[i] for i in keep)))
    present = set("".join(labels for _, labels in squeezed))
    kept = "".join(label for label in out if label in present)
    spec = ",".join(labels for _, labels in squeezed) + "->" + kept
    result = jnp.einsum(spec, *[value for value, _ in squeezed])
    return jnp.reshape(result, [sizes.get(label, 1) for label in out])


def _matmul(expr, args, kwargs, b):
    (x, y), (nx, ny) = args, expr.args
    if len(nx.shape) > 2 or len(ny.shape) > 2:
        if expr.op == "dot" and len(ny.shape) != 1:
            return None  # numpy's dot for N-d operands is not matmul
        return _broadcast_matmul(expr, x, y, b)
    x_logical = "ik" if len(nx.shape) == 2 else "k"
    y_logical = "kj" if len(ny.shape) == 2 else "k"
    out = _labels(expr, ("i" if len(nx.shape) == 2 else "") + ("j" if len(ny.shape) == 2
                                                                 else ""))
    return _contract([(x, _labels(nx, x_logical)), (y, _labels(ny, y_logical))], out)


def _sum_of_product(expr: GOp, product: GOp, a: Any, c: Any) -> Any:
    """``sum(a * c, axis)`` as one contraction (the ``sum(w * x)`` idiom of a linear
    predictor costs what ``x @ w`` costs)."""
    rank = len(product.shape)
    if rank > 8:
        return None  # more axes than labels: the plain product and sum
    letters = "abcdefgh"[:rank]
    axis = dict(expr.kwargs).get("axis")
    summed = set(range(rank)) if axis is None else {
        int(ax) % rank for ax in (axis if isinstance(axis, tuple) else (axis,))}
    operands = []
    for value, node in ((a, product.args[0]), (c, product.args[1])):
        logical = letters[rank - len(node.shape):]
        operands.append((value, _labels(node, logical)))
    out = _labels(expr, "".join(letters[i] for i in range(rank) if i not in summed))
    return _contract(operands, out)


def _broadcast_matmul(expr, x, y, b):
    nx, ny = expr.args
    x_vec, y_vec = len(nx.shape) == 1, len(ny.shape) == 1
    rank = max(len(nx.shape) + x_vec, len(ny.shape) + y_vec)
    x = _lift(x, nx, expr.batched, expr.dynamic, len(nx.shape))
    y = _lift(y, ny, expr.batched, expr.dynamic, len(ny.shape))
    if x_vec:
        x = x[..., None, :]
    if y_vec:
        y = y[..., :, None]
    x = jnp.reshape(x, (*x.shape[:b], *([1] * (rank - x.ndim + b)), *x.shape[b:]))
    y = jnp.reshape(y, (*y.shape[:b], *([1] * (rank - y.ndim + b)), *y.shape[b:]))
    out = jnp.matmul(x, y)
    return jnp.reshape(out, (*out.shape[:b], *expr.shape))


def _join(expr, args, kwargs, b):
    lifted = [_lift(v, a, expr.batched, expr.dynamic, len(a.shape))
              for v, a in zip(args, expr.args)]
    prefix = jnp.broadcast_shapes(*[v.shape[:b] for v in lifted])
    lifted = [jnp.broadcast_to(v, (*prefix, *v.shape[b:])) for v in lifted]
    axis = kwargs.get("axis", 0)
    axis = axis + b if axis >= 0 else axis
    join = jnp.concatenate if expr.op == "concatenate" else jnp.stack
    return join(lifted, axis=axis)


def _is_advanced(k: Any) -> bool:
    return isinstance(k, (Operand, IndexArray, int, np.integer))


def _index(expr, args, kwargs, b):
    """``x[key]`` with index operands (data): one gather over the leading axes too.

    The leading axes of ``x`` of size > 1 are indexed by ``arange`` arrays (those of size 1
    are dropped), the operands are lifted to ``(M|1, n|1, *ones, *shape)``. numpy's rule puts
    the broadcast block of the advanced indices first when they are not adjacent, and in
    place when they are: the block is moved to where the per-example result has it. Indices
    were checked to be in range when the data were lowered, so the gather neither wraps
    negative indices nor clamps (two passes over a million indices saved).
    """
    x, *indices = args
    nx, *nodes = expr.args
    key = kwargs["key"]
    if any(k is None or k is Ellipsis for k in key):
        return None
    advanced = [i for i, k in enumerate(key) if _is_advanced(k)]
    shapes = [nodes[k.position - 1].shape if isinstance(k, Operand)
              else (len(k),) if isinstance(k, IndexArray) else () for k in key
              if _is_advanced(k)]
    rank = len(np.broadcast_shapes(*shapes))
    x = _lift(x, nx, expr.batched, expr.dynamic, len(nx.shape))
    kept = [j for j in range(b) if x.shape[j] > 1]
    # jnp.asarray: reshape returns a numpy operand unchanged when the shape already fits
    x = jnp.asarray(jnp.reshape(x, [x.shape[j] for j in kept] + list(x.shape[b:])))
    leading = []
    for j in kept:
        shape = [1] * (b + rank)
        shape[j] = x.shape[len(leading)]
        leading.append(jnp.reshape(jnp.arange(shape[j]), shape))
    filled = []
    for axis, k in enumerate(key):
        if isinstance(k, Operand):
            filled.append(as_index(_lift(indices[k.position - 1], nodes[k.position - 1],
                                         expr.batched, expr.dynamic, rank)))
        elif isinstance(k, slice):
            filled.append(k)
        else:  # constant integers: numpy's negative indices, resolved here
            filled.append(np.mod(thaw_key(k), nx.shape[axis]))
    result = x.at[(*leading, *filled)].get(mode="promise_in_bounds",
                                            wrap_negative_indices=False)
    adjacent = advanced == list(range(advanced[0], advanced[-1] + 1))
    if adjacent and advanced[0] > 0:  # per example the block sits after the leading slices
        if leading:  # not adjacent in x's key: numpy put the block first; move B back
            block = list(range(b, b + rank))
            return jnp.moveaxis(result, block, [a + advanced[0] for a in block])
        # adjacent in x's key too: numpy left the block (P, B) after the slices; P first
        return jnp.moveaxis(result, list(range(advanced[0], advanced[0] + b)), list(range(b)))
    return result


def _cumsum(expr, args, kwargs, b):
    (x,) = args
    axis = kwargs.get("axis")
    if axis is None:  # numpy: over the flattened value
        return jnp.cumsum(jnp.reshape(x, (*x.shape[:b], -1)), axis=b)
    return jnp.cumsum(x, axis=axis + b if axis >= 0 else axis)


def _last_two_axes(expr, args, kwargs, b):
    """Operators on the last two axes (Cholesky, log-determinant): the leading axes are a
    batch already."""
    return _JAX_FUNCTIONS[expr.op](args[0], **kwargs)


def _solve(expr, args, kwargs, b):
    (a, y), (na, ny) = args, expr.args
    vector = len(ny.shape) == 1
    batch = max(len(na.shape) - 2, 0 if vector else len(ny.shape) - 2)
    a = _lift(a, na, expr.batched, expr.dynamic, batch + 2)
    y = _lift(y, ny, expr.batched, expr.dynamic, batch + (1 if vector else 2))
    out = _solve_triangular(a, y[..., None] if vector else y, **kwargs)
    return out[..., 0] if vector else out


_STRUCTURAL: dict[str, Callable[..., Any]] = {
    **{op: _reduce for op in ("sum", "mean", "prod", "max", "min", "logsumexp")},
    "softmax": _softmax,
    "reshape": _reshape,
    "transpose": _transpose,
    "getitem": _getitem,
    "matmul": _matmul,
    "dot": _matmul,
    "concatenate": _join,
    "stack": _join,
    "index": _index,
    "cumsum": _cumsum,
    "cholesky": _last_two_axes,
    "logdet": _last_two_axes,
    "solve_triangular": _solve,
    "time_shift": _time_shift,
}

__all__ = ["Program", "LatentSite", "Emitter", "NumpyroEmitter", "SampleEmitter",
           "ValueEmitter", "ObservedEmitter", "DensityEmitter", "MISSING_SUFFIX"]


def _join_members(parts: list[Any]) -> Any:
    """The values of a ``Member`` expression's source groups, joined along the member axis
    (in one common dtype)."""
    if len(parts) == 1:
        return parts[0]
    dtype = jnp.result_type(*parts)
    return jnp.concatenate([p.astype(dtype) for p in parts], axis=0)


def missing_slots(missing: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Per entry of a partial group's full array ``shape``: its position in the group's
    missing site, or -1 for an observed entry (int32).

    Completing the data with the missing values is then elementwise
    (:func:`fill_missing`), so it runs shard by shard when the data are sharded along the
    examples or member axis: a flat scatter would have gathered the whole array on one
    device first.

    Examples
    --------
    >>> missing_slots(np.array([1, 4]), (2, 3)).tolist()
    [[-1, 0, -1], [-1, 1, -1]]
    """
    slots = np.full(int(np.prod(shape, dtype=np.int64)), -1, dtype=np.int32)
    slots[np.asarray(missing, dtype=np.int64)] = np.arange(len(missing), dtype=np.int32)
    return slots.reshape(shape)


def fill_missing(observed: Any, slots: Any, filled: Any) -> Any:
    """``observed`` with entry ``slots >= 0`` replaced by ``filled[slots]`` (elementwise).

    Examples
    --------
    >>> out = fill_missing(jnp.zeros((1, 3)), jnp.array([[-1, 0, 1]]), jnp.array([5.0, 6.0]))
    >>> out.tolist()
    [[0.0, 5.0, 6.0]]
    """
    if filled.shape[0] == 0:
        return observed
    return jnp.where(slots >= 0, filled[jnp.maximum(slots, 0)], observed)


def take_missing(full: Any, missing: Any, shape: tuple[int, ...] | None = None) -> Any:
    """The entries at flat (row-major over ``shape``, default ``full.shape``) indices
    ``missing`` of ``full``, as one gather of unravelled indices (trailing axes of ``full``
    beyond ``shape`` are kept): no flat reshape, which would gather a sharded array on one
    device.

    Examples
    --------
    >>> take_missing(jnp.arange(6.0).reshape(2, 3), jnp.array([1, 5])).tolist()
    [1.0, 5.0]
    """
    shape = tuple(full.shape) if shape is None else tuple(shape)
    if len(shape) == 0:
        return full[None][missing]
    return full[jnp.unravel_index(missing, shape)]
