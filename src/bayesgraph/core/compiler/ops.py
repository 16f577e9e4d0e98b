"""JAX implementations of the operators that need more than a ``jax.numpy`` function.

Examples
--------
>>> import jax.numpy as jnp
>>> stack(jnp.ones(2), jnp.zeros(2)).shape
(2, 2)
"""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp
from jax.scipy.linalg import solve_triangular as _solve_triangular

from bayesgraph.core.operator.operators import fill_key, thaw_key


def getitem(x: Any, key: Any) -> Any:
    """``x[key]`` with the frozen key of an expression."""
    return x[thaw_key(key)]


def concatenate(*xs: Any, axis: int = 0) -> Any:
    """``jnp.concatenate(xs, axis)`` taking the operands as positional arguments."""
    return jnp.concatenate(xs, axis=axis)


def stack(*xs: Any, axis: int = 0) -> Any:
    """``jnp.stack(xs, axis)`` taking the operands as positional arguments."""
    return jnp.stack(xs, axis=axis)


def as_index(value: Any) -> Any:
    """An index operand as integers (data arrive as floats; they were checked to be whole
    numbers in range when the data were lowered)."""
    return value if jnp.issubdtype(value.dtype, jnp.integer) else value.astype(jnp.int32)


def index(x: Any, *indices: Any, key: Any) -> Any:
    """``x[key]`` with the ``Operand`` places of ``key`` filled by ``indices``."""
    return x[fill_key(key, tuple(as_index(jnp.asarray(i)) for i in indices))]


def solve_triangular(a: Any, b: Any, *, lower: bool) -> Any:
    """Solve ``a @ x = b``; a 1-d ``b`` is one vector, otherwise ``(..., N, K)`` matrices;
    batch axes broadcast."""
    vector = b.ndim == 1
    if vector:
        b = b[:, None]
    batch = jnp.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    a = jnp.broadcast_to(a, (*batch, *a.shape[-2:]))
    b = jnp.broadcast_to(b, (*batch, *b.shape[-2:]))
    x = _solve_triangular(a, b, lower=lower)
    return x[..., 0] if vector else x


def logdet(x: Any) -> Any:
    """Log-determinant of symmetric positive-definite matrices (last two axes)."""
    chol = jnp.linalg.cholesky(x)
    return 2.0 * jnp.sum(jnp.log(jnp.diagonal(chol, axis1=-2, axis2=-1)), axis=-1)


def time_shift(x: Any, *, shift: int, initial_values: Any, axis: int = 0) -> Any:
    """``x`` shifted along ``axis`` (the examples, i.e. time, axis): step ``t`` of the result
    is step ``t + shift`` of ``x``; the steps outside ``x`` take ``initial_values``, which
    broadcast to ``(|shift|, *one step's shape)`` (one step: the axes after ``axis``; those
    before it are a batch, e.g. the members of a group).

    Examples
    --------
    >>> time_shift(jnp.arange(4.0), shift=-1, initial_values=9.0).tolist()
    [9.0, 0.0, 1.0, 2.0]
    """
    if shift == 0:
        return x
    axis = axis % x.ndim
    n, k = x.shape[axis], abs(shift)
    moved = jnp.moveaxis(x, axis, 0)
    logical = tuple(x.shape[axis + 1:])  # one step's shape; axes before ``axis`` are a batch
    block = jnp.broadcast_to(jnp.asarray(initial_values, dtype=x.dtype), (k, *logical))
    fill = jnp.broadcast_to(jnp.reshape(block, (k, *([1] * axis), *logical)),
                            (k, *moved.shape[1:]))
    if shift < 0:
        out = jnp.concatenate([fill, moved[:max(n - k, 0)]])[:n]
    else:
        out = jnp.concatenate([moved[k:], fill])[k + max(n - k, 0) - n:]
    return jnp.moveaxis(out, 0, axis)
