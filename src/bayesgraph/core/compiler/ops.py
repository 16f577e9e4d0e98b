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

from bayesgraph.core.operator.operators import thaw_key


def getitem(x: Any, key: Any) -> Any:
    """``x[key]`` with the frozen key of an expression."""
    return x[thaw_key(key)]


def concatenate(*xs: Any, axis: int = 0) -> Any:
    """``jnp.concatenate(xs, axis)`` taking the operands as positional arguments."""
    return jnp.concatenate(xs, axis=axis)


def stack(*xs: Any, axis: int = 0) -> Any:
    """``jnp.stack(xs, axis)`` taking the operands as positional arguments."""
    return jnp.stack(xs, axis=axis)
