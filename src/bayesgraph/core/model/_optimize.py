"""Jitted minimisers for MAP: L-BFGS (default) and Adam, in one ``lax.while_loop`` each.

The objective ``f(z, data)`` takes the flat parameter vector and the data pytree; the data are
arguments of the jitted function, never constants closed over (see numpyro-notes.md).

Stopping rules (L-BFGS): the gradient norm falls below ``tolerance * max(1, |f|)``, or the
objective stops changing at machine precision for ``_STALL_PATIENCE`` iterations in a row
("stalled"; L-BFGS keeps shrinking the gradient for a while after the objective stops
resolving the change, so the patience is generous), or
``max_iterations`` is reached. The caller turns the outcome into warnings or errors.

Examples
--------
>>> import jax, jax.numpy as jnp
>>> with jax.enable_x64(True):
...     solve = make_solver(lambda z, d: jnp.sum((z - d) ** 2), "L-BFGS", 100, 1e-10, 1e-3)
...     result = solve(jnp.zeros(2), jnp.array([1.0, 2.0]))
>>> [round(float(v), 6) for v in result.z]
[1.0, 2.0]
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax
import optax.tree_utils as otu
from jax.scipy.sparse.linalg import cg

from bayesgraph.exceptions import OptionError

#: iterations without a change of the objective (at machine precision) before giving up
_STALL_PATIENCE = 30


class OptimResult(NamedTuple):
    """Outcome of a minimisation (all JAX scalars but ``z``)."""

    z: Any
    value: Any
    grad_norm: Any
    iterations: Any
    stalled: Any


def _lbfgs(f: Callable, max_iterations: int, tolerance: float):
    def run(z0, data):
        fun = lambda z: f(z, data)  # noqa: E731
        opt = optax.lbfgs()
        value_and_grad = optax.value_and_grad_from_state(fun)

        def step(carry):
            z, state, previous, stall = carry
            value, grad = value_and_grad(z, state=state)
            updates, state = opt.update(grad, state, z, value=value, grad=grad, value_fn=fun)
            z = optax.apply_updates(z, updates)
            same = jnp.abs(previous - value) <= 4 * jnp.finfo(z.dtype).eps * jnp.maximum(
                1.0, jnp.abs(value))
            return z, state, value, jnp.where(same, stall + 1, 0)

        def keep_going(carry):
            _, state, _, stall = carry
            count = otu.tree_get(state, "count")
            grad = otu.tree_get(state, "grad")
            value = otu.tree_get(state, "value")
            small = otu.tree_norm(grad) <= tolerance * jnp.maximum(1.0, jnp.abs(value))
            finite = jnp.isfinite(value)
            going = (count < max_iterations) & ~small & (stall < _STALL_PATIENCE) & finite
            return (count == 0) | going

        init = (z0, opt.init(z0), jnp.asarray(jnp.inf, z0.dtype), jnp.asarray(0))
        z, state, _, stall = jax.lax.while_loop(keep_going, step, init)
        # the line search left the value and gradient at the final point in the state
        return OptimResult(z, otu.tree_get(state, "value"),
                           otu.tree_norm(otu.tree_get(state, "grad")),
                           otu.tree_get(state, "count"), stall >= _STALL_PATIENCE)

    return run


def _adam(f: Callable, max_iterations: int, tolerance: float, learning_rate: float):
    def run(z0, data):
        fun = lambda z: f(z, data)  # noqa: E731
        opt = optax.adam(learning_rate)

        def step(carry):
            z, state, i, _, _ = carry
            value, grad = jax.value_and_grad(fun)(z)
            gnorm = otu.tree_norm(grad)
            updates, state = opt.update(grad, state, z)
            done = gnorm <= tolerance * jnp.maximum(1.0, jnp.abs(value))
            z = jnp.where(done, z, optax.apply_updates(z, updates))  # keep the converged point
            return z, state, i + 1, gnorm, value

        def keep_going(carry):
            _, _, i, gnorm, value = carry
            return (i < max_iterations) & (gnorm > tolerance * jnp.maximum(1.0, jnp.abs(value)))

        zero, inf = jnp.asarray(0.0, z0.dtype), jnp.asarray(jnp.inf, z0.dtype)
        init = (z0, opt.init(z0), jnp.asarray(0), inf, zero)
        z, _, i, _, _ = jax.lax.while_loop(keep_going, step, init)
        value, grad = jax.value_and_grad(fun)(z)
        return OptimResult(z, value, otu.tree_norm(grad), i, jnp.asarray(False))

    return run


#: a final gradient above this fraction of the tolerance earns a Newton step (needs_polish)
_POLISH_MARGIN = 1e-3
#: conjugate-gradient iterations of that Newton step, at most
_POLISH_CG_ITERATIONS = 200


def needs_polish(result: OptimResult, tolerance: float) -> bool:
    """Whether a finished minimisation earns a Newton step (:func:`newton_step`).

    The stopping rule ``|g| <= tolerance * max(1, |f|)`` is relative to the objective, which
    grows with the number of terms: with ten thousand terms L-BFGS stops about 1e-6 posterior
    standard deviations from the mode, where ``f`` can no longer resolve the progress. A run
    that met its tolerance (or stalled) with a gradient above a thousandth of it earns the
    step; a fast finish (the gradient far below the tolerance, as L-BFGS gives on small
    problems) and a run stopped by ``max_iterations`` (warned about) do not.

    Examples
    --------
    >>> needs_polish(OptimResult(None, 10.0, 5e-11, 3, False), 1e-11)
    True
    >>> needs_polish(OptimResult(None, 10.0, 1e-14, 3, False), 1e-11)
    False
    """
    value, grad_norm = float(result.value), float(result.grad_norm)
    if not np.isfinite(value):
        return False
    met = tolerance * max(1.0, abs(value))
    converged = grad_norm <= met or bool(result.stalled)
    return converged and grad_norm > _POLISH_MARGIN * met


def newton_step(f: Callable, result: OptimResult, data: Any) -> OptimResult:
    """One Newton step ``z - H^{-1} g`` (conjugate gradients on Hessian-vector products, at
    most ``_POLISH_CG_ITERATIONS``), kept only if it lowers the gradient norm without raising
    the objective. A quadratic objective reaches its minimum to rounding.

    Examples
    --------
    >>> import jax, jax.numpy as jnp
    >>> with jax.enable_x64(True):
    ...     f = lambda z, d: 0.5 * jnp.sum(d * z ** 2)
    ...     z = jnp.array([1e-3, -2e-3])
    ...     rough = OptimResult(z, f(z, jnp.array([1.0, 3.0])), jnp.asarray(5e-3), 5, False)
    ...     polished = newton_step(f, rough, jnp.array([1.0, 3.0]))
    >>> float(jnp.max(jnp.abs(polished.z))) < 1e-12
    True
    """
    grad = jax.grad(f)
    z = result.z
    g = grad(z, data)
    hvp = lambda v: jax.jvp(lambda x: grad(x, data), (z,), (v,))[1]  # noqa: E731
    step = cg(hvp, -g, tol=1e-12, maxiter=min(z.size, _POLISH_CG_ITERATIONS))[0]
    value, g_new = jax.value_and_grad(f)(z + step, data)
    norm = otu.tree_norm(g_new)
    better = (jnp.isfinite(value) & jnp.all(jnp.isfinite(g_new)) & (norm < otu.tree_norm(g))
              & (value <= result.value + 1e-12 * jnp.maximum(1.0, jnp.abs(result.value))))
    polished = OptimResult(z + step, value, norm, result.iterations, result.stalled)
    return jax.tree.map(lambda new, old: jnp.where(better, new, old), polished, result)


SOLVERS = ("L-BFGS", "Adam")


def make_solver(f: Callable, solver: str, max_iterations: int, tolerance: float,
                learning_rate: float, jit: bool = True) -> Callable[[Any, Any], OptimResult]:
    """Return ``run(z0, data) -> OptimResult`` for the named solver (jitted if ``jit``).

    Examples
    --------
    >>> make_solver(lambda z, d: z, "SGD", 1, 1.0, 1.0)
    Traceback (most recent call last):
    ...
    bayesgraph.exceptions.OptionError: unknown solver 'SGD'; valid: L-BFGS, Adam
    """
    wrap = jax.jit if jit else (lambda fn: fn)
    if solver == "L-BFGS":
        return wrap(_lbfgs(f, max_iterations, tolerance))
    if solver == "Adam":
        return wrap(_adam(f, max_iterations, tolerance, learning_rate))
    raise OptionError(f"unknown solver {solver!r}; valid: {', '.join(SOLVERS)}")
