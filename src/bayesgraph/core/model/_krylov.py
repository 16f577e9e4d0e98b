"""Matrix-free linear algebra with a symmetric positive-definite operator ``v -> H v``.

Used by MAPFisherModel when the Hessian is too large to form (its matrix-free path):

* :func:`inverse_sqrt` gives ``H^{-1/2} b`` by the Lanczos method, so that for
  ``b ~ N(0, I)`` the result is a draw of ``N(0, H^{-1})``. Two passes: the first builds the
  tridiagonal matrix ``T_k`` of ``k`` Lanczos steps, the second regenerates the Lanczos
  vectors and sums ``V_k f(T_k) e_1 |b|``, so memory stays ``O(d)`` per right-hand side.
  The error falls geometrically with ``k`` (at a rate set by the condition number of ``H``);
  the result of ``k - max(1, k // 4)`` steps is returned too, so that the caller can check that
  the answer has settled.
* :func:`solve` gives ``H^{-1} b`` by conjugate gradients.

Examples
--------
>>> import jax, jax.numpy as jnp, numpy as np
>>> with jax.enable_x64(True):
...     H = jnp.array([[4.0, 1.0], [1.0, 3.0]])
...     x, earlier = inverse_sqrt(lambda v: H @ v, jnp.array([1.0, 0.0]), 2)
...     w, v = jnp.linalg.eigh(H)
...     exact = v @ ((v.T @ jnp.array([1.0, 0.0])) / jnp.sqrt(w))
>>> bool(np.allclose(np.asarray(x), np.asarray(exact)))
True
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
from jax.scipy.sparse.linalg import cg


def _tridiagonal(apply: Callable[[Any], Any], b: Any, k: int) -> tuple[Any, Any, Any]:
    """Lanczos coefficients ``alpha (k,)``, ``beta (k,)`` (``beta[j]`` couples j and j+1)."""
    norm = jnp.linalg.norm(b)
    q = b / jnp.where(norm > 0, norm, 1.0)

    def step(carry, _):
        q, q_prev, beta_prev = carry
        w = apply(q) - beta_prev * q_prev
        alpha = jnp.dot(q, w)
        w = w - alpha * q
        beta = jnp.linalg.norm(w)
        q_next = w / jnp.where(beta > 0, beta, 1.0)
        return (q_next, q, beta), (alpha, beta)

    zero = jnp.zeros((), b.dtype)
    _, (alphas, betas) = jax.lax.scan(step, (q, jnp.zeros_like(b), zero), None, length=k)
    return alphas, betas, norm


def _coefficients(alphas: Any, betas: Any, k: int) -> tuple[Any, Any]:
    """``f(T_k) e_1`` with ``f(t) = t^{-1/2}``, and the smallest Ritz value."""
    a, bt = alphas[:k], betas[:k - 1]
    t = jnp.diag(a) + jnp.diag(bt, 1) + jnp.diag(bt, -1)
    evals, evecs = jnp.linalg.eigh(t)
    safe = jnp.where(evals > 0, evals, jnp.nan)
    return evecs @ (evecs[0] / jnp.sqrt(safe)), jnp.min(evals)


def inverse_sqrt(apply: Callable[[Any], Any], b: Any, k: int) -> tuple[Any, Any]:
    """``H^{-1/2} b`` after ``k`` Lanczos steps, and after ``k - max(1, k // 4)`` (a check).

    A non-positive Ritz value (``H`` not positive definite) gives NaN.
    """
    alphas, betas, norm = _tridiagonal(apply, b, k)
    k_early = max(1, k - max(1, k // 4))
    coef, smallest = _coefficients(alphas, betas, k)
    coef_early, _ = _coefficients(alphas, betas, k_early)
    coef_early = jnp.concatenate([coef_early, jnp.zeros(k - k_early, b.dtype)])
    q = b / jnp.where(norm > 0, norm, 1.0)

    def step(carry, inputs):
        q, q_prev, beta_prev, acc, acc_early = carry
        c, c_early, alpha, beta = inputs
        acc = acc + c * q
        acc_early = acc_early + c_early * q
        w = apply(q) - beta_prev * q_prev - alpha * q
        q_next = w / jnp.where(beta > 0, beta, 1.0)
        return (q_next, q, beta, acc, acc_early), None

    zero = jnp.zeros((), b.dtype)
    init = (q, jnp.zeros_like(b), zero, jnp.zeros_like(b), jnp.zeros_like(b))
    (_, _, _, acc, acc_early), _ = jax.lax.scan(step, init, (coef, coef_early, alphas, betas))
    bad = ~(smallest > 0)
    return (jnp.where(bad, jnp.nan, norm * acc), norm * acc_early)


def solve(apply: Callable[[Any], Any], b: Any, tol: float, maxiter: int) -> Any:
    """``H^{-1} b`` by conjugate gradients (relative residual ``tol``).

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> H = jnp.array([[2.0, 0.0], [0.0, 4.0]])
    >>> solve(lambda v: H @ v, jnp.array([2.0, 2.0]), 1e-10, 10).tolist()
    [1.0, 0.5]
    """
    return cg(apply, b, tol=tol, maxiter=maxiter)[0]
