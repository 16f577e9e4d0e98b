"""Which variable's which parameter leaves its valid range at a point of the latent space.

A negative variance expression, a probability above 1 or a covariance that is not positive
definite make numpyro's log-densities NaN. Optimisers then stop with a NaN objective, ADVI and
MGVI fail with messages about something else, and NUTS silently avoids the region (a
variance `sc` with prior mean -5 came out as +0.012, with no warning). :func:`first_problem`
runs the program (jitted) at the *central* point of the prior (the prior means; flat
variables at three points of their support) and reports the first parameter that is invalid
at every one of these points: a parameter invalid where the prior puts its centre is a
modelling error, whereas one that is invalid only at an arbitrary point of a flat variable
(``variance = s**2`` at ``s = 0``) is not.

Examples
--------
>>> from bayesgraph.core import Graph, StaticVariable, Variable
>>> from bayesgraph.core.lowering import group, group_data, lower
>>> from bayesgraph.core.compiler import Program
>>> with Graph("neg") as g:
...     sc = StaticVariable("sc", mean=-5, variance=1e-4)
...     ob = Variable("ob", variance=sc)
>>> spec, data = lower(g, {g.ob: [0.1, -0.2]})
>>> grouped = group(spec)
>>> program = Program(grouped)
>>> first_problem(program, program.data_args(group_data(grouped, data))).describe()
"parameter 'variance' of 'neg/ob' (NormalDistribution) is -5 at the prior's centre, but must be > 0"
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from numpyro.distributions import biject_to

from bayesgraph.core.compiler import distributions as dtable
from bayesgraph.core.compiler.program import Emitter, LatentSite, Program
from bayesgraph.core.lowering.groups import GroupSpec
from bayesgraph.core.lowering.spec import Op, Ref

#: unconstrained coordinates at which flat (NoDistribution) variables are tried
FLAT_POINTS = (0.0, 0.5, -1.3)


@dataclass(frozen=True)
class Problem:
    """A parameter outside its valid range.

    Examples
    --------
    >>> problem = Problem("g/x", "variance", "NormalDistribution", -1.0, "> 0")
    >>> problem.describe().split(" at ")[0]
    "parameter 'variance' of 'g/x' (NormalDistribution) is -1"
    """

    variable: str
    parameter: str
    distribution: str
    value: float
    rule: str

    def describe(self) -> str:
        """The problem in words."""
        return (f"parameter {self.parameter!r} of {self.variable!r} ({self.distribution}) is "
                f"{self.value:.4g} at the prior's centre, but must be {self.rule}")


def _rule(facts: Any, key: str) -> str:
    """The valid range of parameter ``key``, in words."""
    kind = facts.parameter_kinds.get(key)
    if key in facts.positive:
        return "> 0"
    if key in facts.nonnegative:
        return ">= 0"
    if key in facts.unit_interval:
        return "in [0, 1]"
    if kind == "free" and key == "probabilities":
        return ">= 0 and sum to 1 along the last axis"
    if key in getattr(facts, "increasing", ()):
        return "increasing along the last axis"
    if kind == "square":
        return ("symmetric positive definite" if key == "covariance"
                else "lower triangular with a positive diagonal")
    return "finite"


def _violation(facts: Any, key: str, value: Any) -> Any:
    """Entries of ``value`` that break :func:`_rule` for parameter ``key`` (traceable)."""
    finite = jnp.isfinite(value)
    rule = _rule(facts, key)
    if rule == "> 0":
        return ~(finite & (value > 0))
    if rule == ">= 0":
        return ~(finite & (value >= 0))
    if rule == "in [0, 1]":
        return ~(finite & (value >= 0) & (value <= 1))
    if rule.startswith(">= 0 and sum"):
        near = jnp.abs(jnp.sum(value, axis=-1, keepdims=True) - 1.0) <= 1e-6
        return ~(finite & (value >= 0) & near)
    if rule == "increasing along the last axis":
        steps = jnp.diff(value, axis=-1) > 0
        good = jnp.all(steps & finite[..., 1:], axis=-1) & jnp.all(finite, axis=-1)
        return jnp.broadcast_to(~good[..., None], value.shape)
    if rule == "symmetric positive definite":
        symmetric = jnp.all(jnp.abs(value - jnp.swapaxes(value, -1, -2))
                            <= 1e-8 * (1.0 + jnp.abs(value)), axis=(-2, -1))
        positive = jnp.linalg.eigvalsh(jnp.where(finite, value, 0.0))[..., 0] > 0
        good = symmetric & positive & jnp.all(finite, axis=(-2, -1))
        return jnp.broadcast_to(~good[..., None, None], value.shape)
    if rule.startswith("lower triangular"):
        diagonal = jnp.all(jnp.diagonal(value, axis1=-2, axis2=-1) > 0, axis=-1)
        lower = jnp.all(jnp.triu(value, 1) == 0, axis=(-2, -1))
        good = diagonal & lower & jnp.all(finite, axis=(-2, -1))
        return jnp.broadcast_to(~good[..., None, None], value.shape)
    return ~finite


class _CheckEmitter(Emitter):
    """Ancestral run at central values (flat variables at the unconstrained ``point``),
    recording for every parameter whether and where it is invalid."""

    ancestral = True

    def __init__(self, point: Any) -> None:
        self.point = point
        self.records: dict[str, tuple[Any, Any, Any]] = {}

    def draw(self, site: LatentSite, d: Any, rows: Any, level: Any) -> Any:
        shape = tuple(d.batch_shape) + tuple(d.event_shape)
        if site.improper:
            free = jnp.full(site.free_shape if rows is None else shape, self.point)
            return jnp.broadcast_to(biject_to(d.support)(free), shape)
        return dtable.central(site.distribution, d, shape)

    def draw_at(self, site: LatentSite, d: Any, step: Any) -> Any:
        shape = tuple(d.batch_shape) + tuple(d.event_shape)
        if site.improper:
            return biject_to(d.support)(jnp.full(shape, self.point))
        return dtable.central(site.distribution, d, shape)

    def parameters(self, group: GroupSpec, params: dict[str, Any]) -> None:
        facts = dtable.facts(group.distribution)
        for key, value in params.items():
            bad = _violation(facts, key, value)
            flat = jnp.reshape(bad, (-1,))
            where = jnp.argmax(flat)
            per_member = max(1, int(np.prod(bad.shape[1:])))
            member = where // per_member if bad.shape[0] == group.size else jnp.zeros((), int)
            values = jnp.reshape(jnp.broadcast_to(value, bad.shape), (-1,))
            self.records[f"{group.index}/{key}"] = (jnp.any(flat), member, values[where])


def _reads_variables(expr: Any) -> bool:
    if isinstance(expr, Ref):
        return True
    return isinstance(expr, Op) and any(_reads_variables(a) for a in expr.args)


def needs_check(program: Program) -> bool:
    """Whether any restricted parameter (a variance, a probability, a covariance, ...) is an
    expression of variables; constant parameters were checked when they were set, and
    unrestricted ones (a mean) need none, so most regressions skip the check.

    Examples
    --------
    >>> from bayesgraph.core import Graph, StaticVariable, Variable
    >>> from bayesgraph.core.lowering import group, lower
    >>> with Graph("c") as g:
    ...     s = StaticVariable("s")
    ...     y = Variable("y", mean=s, variance=s ** 2)
    >>> needs_check(Program(group(lower(g)[0])))
    True
    """
    for var in program.spec.variables:
        facts = dtable.facts(var.distribution)
        for key, expr in var.params:
            if _rule(facts, key) != "finite" and _reads_variables(expr):
                return True
    return False


def check_function(program: Program) -> Any:
    """A function ``(point, data) -> records`` to jit: the parameters' validity at the
    prior's centre with flat variables at ``point`` (see :func:`first_problem`).

    Examples
    --------
    >>> from bayesgraph.core import Variable
    >>> from bayesgraph.core.lowering import group, lower
    >>> records = check_function(Program(group(lower(Variable("v"))[0])))
    >>> callable(records)
    True
    """
    def run(point: Any, data: Any) -> dict[str, tuple[Any, Any, Any]]:
        emitter = _CheckEmitter(point)
        program.execute(data, emitter)
        return emitter.records
    return run


def first_problem(program: Program, data: Any, run: Any = None) -> Problem | None:
    """The first parameter invalid at the prior's centre at every point tried (see the
    module docstring), or ``None``. ``run`` is :func:`check_function`'s result, jitted by the
    caller (it is compiled once per program); without it, it is jitted here.

    Examples
    --------
    >>> from bayesgraph.core import Variable
    >>> from bayesgraph.core.lowering import group, group_data, lower
    >>> spec, data = lower(Variable("ok"))
    >>> grouped = group(spec)
    >>> program = Program(grouped)
    >>> first_problem(program, program.data_args(group_data(grouped, data))) is None
    True
    """
    if not needs_check(program):
        return None
    run = run or jax.jit(check_function(program))
    flat = any(site.improper for site in program.latent_sites)
    found = []
    for point in FLAT_POINTS if flat else FLAT_POINTS[:1]:
        records = {k: tuple(np.asarray(x) for x in v)
                   for k, v in run(jnp.asarray(point), data).items()}
        found.append({k: v for k, v in records.items() if bool(v[0])})
    common = [k for k in found[0] if all(k in f for f in found[1:])]
    if not common:
        return None
    key = min(common, key=lambda k: (int(k.split("/")[0]), k))
    index, parameter = key.split("/", 1)
    group = program.grouped.groups[int(index)]
    _, member, value = found[0][key]
    rule = _rule(dtable.facts(group.distribution), parameter)
    return Problem(group.members[int(member)], parameter, group.distribution, float(value),
                   rule)
