"""Closed forms for linear-Gaussian graphs: which graphs are, and their exact influences.

A graph (of one example, every variable unobserved) is *linear-Gaussian* when every random
variable is an unconstrained Normal whose variance is a constant and whose mean is affine
in the other variables, and every Dirac variable is affine too. Affine is decided on the
lowered expressions (:func:`is_linear_gaussian`): sums, differences, negation, products and
quotients with constants, sums and means, matrix products with a constant factor, reshapes,
transposes, concatenation, stacking and constant indexing. Everything else (a product of
two variables, a nonlinear function, a variance that reads a variable) is not.

Then every variable is an affine function of standard-normal coordinates ``xi`` (the
standardised latent sites of :class:`~bayesgraph.core.compiler.standardise.StandardEmitter`:
``x = mean(parents) + sd * xi``), so its Jacobian at any point is exact: with ``J`` the
Jacobian of the values, ``Cov = J J^T``. Holding an element ``e`` fixed (a
do-intervention: ``e`` clamped as data, its descendants recomputed from their ``xi``), the
target is ``T = M e + (terms in xi)`` with ``M`` the total causal effect, so

    Var(E[T | do(e)]) = tr(M Cov(e) M^T),   influence(e) = tr(M Cov(e) M^T) / tr(Cov(T)).

Examples
--------
>>> from bayesgraph.core import Graph, Variable
>>> from bayesgraph.core.lowering import lower
>>> from bayesgraph.core.objectives._linear_gaussian import is_linear_gaussian
>>> with Graph("g") as g:
...     a = Variable("a", mean=0, variance=1)
...     b = Variable("b", mean=2 * a + 1, variance=1)
...     c = Variable("c", mean=a * b, variance=1)
>>> is_linear_gaussian(lower(g, None)[0]), is_linear_gaussian(lower(g, None)[0], ["g/b"])
(False, True)
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from bayesgraph.core.compiler.standardise import StandardEmitter
from bayesgraph.core.lowering import group, group_data, lower
from bayesgraph.core.lowering.spec import Const, Op, Ref
from bayesgraph.core.model._compilation_cache import cached_functions, program_for
from bayesgraph.core.model._layout import Layout
from bayesgraph.core.scope import NamedObject

#: operators that are linear in each argument taken alone (sums of affine terms)
_ADDITIVE = {"add", "subtract", "negative", "sum", "mean", "reshape", "transpose",
             "concatenate", "stack", "cumsum"}
#: operators that are affine when at most one argument reads a variable
_PRODUCTS = {"multiply", "matmul", "dot"}


def _reads(expr: Any, fixed: frozenset[str] = frozenset()) -> bool:
    """Whether ``expr`` reads any variable not in ``fixed`` (observed: a constant)."""
    if isinstance(expr, Ref):
        return expr.name not in fixed
    if isinstance(expr, Op):
        return any(_reads(a, fixed) for a in expr.args)
    return False


def _affine(expr: Any, fixed: frozenset[str] = frozenset()) -> bool:
    """Whether ``expr`` is an affine function of the variables it reads (``fixed`` ones
    are constants)."""
    if not _reads(expr, fixed):
        return isinstance(expr, (Const, Ref, Op))
    if isinstance(expr, Ref):
        return True
    if not isinstance(expr, Op):
        return False
    if expr.op in _ADDITIVE:
        return all(_affine(a, fixed) for a in expr.args)
    if expr.op in _PRODUCTS:
        reading = [a for a in expr.args if _reads(a, fixed)]
        return len(reading) <= 1 and all(_affine(a, fixed) for a in reading)
    if expr.op == "divide":
        return (len(expr.args) == 2 and not _reads(expr.args[1], fixed)
                and _affine(expr.args[0], fixed))
    if expr.op == "getitem":  # a constant key (kwargs), the indexed value affine
        return len(expr.args) == 1 and _affine(expr.args[0], fixed)
    return False


def is_linear_gaussian(spec: Any, names: Iterable[str] | None = None) -> bool:
    """Whether the variables ``names`` (default: all) and their ancestors form a
    linear-Gaussian graph (see the module docstring). ``spec``: the lowered graph, every
    variable unobserved.

    Examples
    --------
    >>> from bayesgraph.core import Graph, Variable
    >>> from bayesgraph.core.lowering import lower
    >>> with Graph("g") as g:
    ...     a = Variable("a", mean=0, variance=1)
    ...     b = Variable("b", mean=a / 2 - 1, variance=3)
    >>> is_linear_gaussian(lower(g, None)[0])
    True
    """
    if names is None:
        keep = {v.name for v in spec.variables}
    else:
        ancestors = spec.ancestors()
        keep = set()
        for n in names:
            n = spec.canonical(n)
            keep |= {n} | ancestors[n]
    return all(_gaussian_given(var, frozenset()) for var in spec.variables
               if var.name in keep)


def is_quadratic(spec: Any) -> bool:
    """Whether the log density of a lowered graph *with its data* (``spec``) is quadratic
    in the unobserved values: every variable that reads an unobserved one is a Normal of
    constant variance and affine mean, or an affine Dirac, and every unobserved variable
    is a Normal or Dirac (observed variables count as constants; partly observed ones
    as unobserved).

    Examples
    --------
    >>> import numpy as np
    >>> from bayesgraph.core import Graph, StaticVariable, Variable
    >>> from bayesgraph.core.lowering import lower
    >>> with Graph("g") as g:
    ...     a = StaticVariable("a", mean=0, variance=1)
    ...     x = Variable("x", mean=0, variance=1)
    ...     y = Variable("y", mean=a * x, variance=1)
    >>> is_quadratic(lower(g, {g.x: [1.0]})[0]), is_quadratic(lower(g, {g.y: [1.0]})[0])
    (True, False)
    """
    fixed = frozenset(v.name for v in spec.variables if v.role == "observed")
    for var in spec.variables:
        params = dict(var.params)
        reads = any(_reads(e, fixed) for e in params.values())
        if var.name in fixed and not reads:
            continue  # a constant density term
        if not _gaussian_given(var, fixed):
            return False
    return True


def _gaussian_given(var: Any, fixed: frozenset[str]) -> bool:
    """Whether ``var`` is an unconstrained Normal of constant variance and affine mean, or
    an affine Dirac, with the variables ``fixed`` as constants."""
    if var.dtype != "float" or var.constraint:
        return False
    params = dict(var.params)
    if var.distribution == "DiracDistribution":
        return not set(params) - {"mean"} and all(_affine(e, fixed) for e in params.values())
    if var.distribution == "NormalDistribution":
        if set(params) - {"mean", "variance"}:
            return False
        if "mean" in params and not _affine(params["mean"], fixed):
            return False
        return not ("variance" in params and _reads(params["variance"], fixed))
    return False


def _one_example(graph: NamedObject, given: dict[str, np.ndarray]) -> tuple[Any, Any, Any]:
    """``(program, lowered data, grouped data)`` of one example with ``given`` clamped."""
    bare, _ = lower(graph, None)
    first = {k: (np.reshape(v, (1, *bare.variable(k).shape)) if bare.variable(k).dynamic
                 else np.reshape(v, bare.variable(k).shape)) for k, v in given.items()}
    spec, lowered = lower(graph, first)
    grouped = group(spec)
    return program_for(grouped), grouped, group_data(grouped, lowered)


def _values(program: Any, layout: Layout, names: tuple[str, ...], dynamic: dict[str, bool],
            xi: Any, data: Any) -> Any:
    """The flat values of ``names`` at standard coordinates ``xi`` (one example)."""
    env = program.execute(data, StandardEmitter(layout.unravel(xi), data["missing"]))
    parts = []
    for k in names:
        v = program.variable_value(env, k)
        parts.append(jnp.reshape(v[0] if dynamic[k] else v, (-1,)))
    return jnp.concatenate(parts) if parts else jnp.zeros(0, xi.dtype)


def covariance(graph: NamedObject, names: tuple[str, ...]) -> np.ndarray:
    """The exact prior covariance of the flattened values of ``names`` (one example,
    statics included) of a linear-Gaussian graph: ``J J^T``."""
    program, grouped, gdata = _one_example(graph, {})
    layout = Layout.of(program)
    dynamic = {v.name: v.dynamic for v in grouped.spec.variables}

    def build():
        def jac(data):
            xi = jnp.zeros(layout.dimension, jnp.float64)
            return jax.jacfwd(lambda z: _values(program, layout, names, dynamic, z, data))(xi)
        return jax.jit(jac)

    fn = cached_functions(("objectives-lg-jacobian", grouped.fingerprint, names), build)
    with jax.enable_x64(True):
        j = np.asarray(fn(program.data_args(gdata, np.float64)), dtype=np.float64)
    return j @ j.T


def effect(graph: NamedObject, given: tuple[str, ...], targets: tuple[str, ...]
           ) -> np.ndarray:
    """The total causal effect ``d targets / d given`` under ``do(given)`` (flattened) of a
    linear-Gaussian graph: the given variables clamped as data, every other value made
    from its standard coordinates (at zero; the effect does not depend on them)."""
    bare, _ = lower(graph, None)
    zeros = {k: np.zeros(bare.variable(k).shape) for k in given}
    program, grouped, gdata = _one_example(graph, zeros)
    layout = Layout.of(program)
    dynamic = {v.name: v.dynamic for v in grouped.spec.variables}
    places = [(grouped.group_of(k), grouped.locate(k)[1]) for k in given]
    sizes = [int(np.prod(bare.variable(k).shape, dtype=np.int64)) for k in given]

    def build():
        def jac(data):
            def of(e):
                values, start = dict(data["values"]), 0
                for (g, member), size in zip(places, sizes):
                    old = values[g.name]
                    piece = e[start:start + size].reshape(old[member].shape)
                    values[g.name] = old.at[member].set(piece.astype(old.dtype))
                    start += size
                xi = jnp.zeros(layout.dimension, jnp.float64)
                return _values(program, layout, targets, dynamic, xi,
                               dict(data, values=values))
            return jax.jacfwd(of)(jnp.zeros(sum(sizes), jnp.float64))
        return jax.jit(jac)

    fn = cached_functions(("objectives-lg-effect", grouped.fingerprint, given, targets),
                          build)
    with jax.enable_x64(True):
        return np.asarray(fn(program.data_args(gdata, np.float64)), dtype=np.float64)
