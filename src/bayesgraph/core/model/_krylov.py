"""Matrix-free linear algebra with a symmetric positive-definite operator ``v -> H v``.

Used by MAPFisherModel when the Hessian is too large to form (its matrix-free path):

* ``H^{-1/2} b`` by the Lanczos method, so that for ``b ~ N(0, I)`` the result is a draw of
  ``N(0, H^{-1})``, in three steps: :func:`tridiagonal` (``k`` Lanczos steps give the
  tridiagonal ``T_k``; traced), :func:`coefficients` (``f(T_k) e_1`` with ``f(t) = t^{-1/2}``,
  by LAPACK's tridiagonal eigensolver (scipy) on the host: two batched LAPACK ``eigh`` calls
  inside one XLA program deadlocked the CPU runtime of jax 0.10 after a few dozen calls) and
  :func:`combine` (the Lanczos vectors regenerated and summed, so memory stays ``O(d)`` per
  right-hand side; traced). The error falls geometrically with ``k`` (at a rate set by the
  condition number of ``H``); the result of ``k - max(1, k // 4)`` steps comes too, so that
  the caller can check that the answer has settled, and :func:`settled_steps` reads off the
  tridiagonals how many steps reach a given accuracy.
* :func:`solve` gives ``H^{-1} b`` by conjugate gradients.

Examples
--------
>>> import jax, jax.numpy as jnp, numpy as np
>>> with jax.enable_x64(True):
...     H = jnp.array([[4.0, 1.0], [1.0, 3.0]])
...     b = jnp.array([1.0, 0.0])
...     alphas, betas, norm = tridiagonal(lambda v: H @ v, b, 2)
...     coef, early, smallest = coefficients(np.asarray(alphas), np.asarray(betas))
...     x, _ = combine(lambda v: H @ v, b, alphas, betas, coef, early, norm)
...     w, v = jnp.linalg.eigh(H)
...     exact = v @ ((v.T @ b) / jnp.sqrt(w))
>>> bool(np.allclose(np.asarray(x), np.asarray(exact))), smallest > 0
(True, True)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import scipy.linalg
from jax.scipy.sparse.linalg import cg


def tridiagonal(apply: Callable[[Any], Any], b: Any, k: int, basis: bool = False
                ) -> tuple[Any, ...]:
    """Lanczos coefficients ``alpha (k,)``, ``beta (k,)`` (``beta[j]`` couples j and j+1), |b|;
    with ``basis`` also the Lanczos vectors ``(k, d)`` (then ``|b| V^T c`` is
    :func:`combine`'s result without regenerating them).

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> a, _, n = tridiagonal(lambda v: 2.0 * v, jnp.array([3.0, 4.0]), 1)
    >>> float(a[0]), float(n)
    (2.0, 5.0)
    """
    norm = jnp.linalg.norm(b)
    q = b / jnp.where(norm > 0, norm, 1.0)
    # the vectors go into a buffer carried through the loop (updated in place), not out as
    # stacked outputs of the scan: measured at d = 150,000 (pedigree, chunks of 4, 25 steps)
    # 0.35 s against 0.41 s stacked and 0.27 s for no vectors at all
    vectors = jnp.zeros((k if basis else 0, *b.shape), b.dtype)

    def step(carry, i):
        q, q_prev, beta_prev, vectors = carry
        if basis:
            vectors = jax.lax.dynamic_update_index_in_dim(vectors, q, i, 0)
        w = apply(q) - beta_prev * q_prev
        alpha = jnp.dot(q, w)
        w = w - alpha * q
        beta = jnp.linalg.norm(w)
        q_next = w / jnp.where(beta > 0, beta, 1.0)
        return (q_next, q, beta, vectors), (alpha, beta)

    zero = jnp.zeros((), b.dtype)
    (_, _, _, vectors), out = jax.lax.scan(
        step, (q, jnp.zeros_like(b), zero, vectors), jnp.arange(k))
    return (out[0], out[1], norm, vectors) if basis else (out[0], out[1], norm)


def _inverse_sqrt_e1(alphas: np.ndarray, betas: np.ndarray, k: int) -> tuple[np.ndarray, float]:
    # LAPACK's tridiagonal solver (O(k^2)), not a dense eigh of T_k: the dense one went
    # through multithreaded BLAS and took 0.14 s per call beside XLA's threads on 2 busy cores
    # (44 s of the 10^4-person pedigree's get_variances); the tridiagonal one ~1 ms
    if k == 1:
        evals, evecs = alphas[:1].copy(), np.ones((1, 1))
    else:
        evals, evecs = scipy.linalg.eigh_tridiagonal(alphas[:k], betas[:k - 1])
    with np.errstate(invalid="ignore"):
        scaled = evecs[0] / np.sqrt(np.where(evals > 0, evals, np.nan))
    return evecs @ scaled, float(evals.min())


def coefficients(alphas: np.ndarray, betas: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """``f(T_k) e_1`` and ``f(T_j) e_1`` (zero-padded, ``j = k - max(1, k // 4)``), and the
    smallest Ritz value; leading axes of ``alphas``/``betas`` are batch axes (numpy).

    A non-positive Ritz value (``H`` not positive definite) gives NaN coefficients.

    Examples
    --------
    >>> import numpy as np
    >>> coef, early, smallest = coefficients(np.array([4.0]), np.array([0.0]))
    >>> coef.tolist(), smallest
    ([0.5], 4.0)
    """
    alphas, betas = np.asarray(alphas, np.float64), np.asarray(betas, np.float64)
    k = alphas.shape[-1]
    k_early = max(1, k - max(1, k // 4))
    batch = alphas.shape[:-1]
    flat_a, flat_b = alphas.reshape(-1, k), betas.reshape(-1, k)
    coef = np.zeros_like(flat_a)
    early = np.zeros_like(flat_a)
    smallest = np.inf
    for i in range(flat_a.shape[0]):
        coef[i], low = _inverse_sqrt_e1(flat_a[i], flat_b[i], k)
        early[i, :k_early], _ = _inverse_sqrt_e1(flat_a[i], flat_b[i], k_early)
        smallest = min(smallest, low)
    return coef.reshape(*batch, k), early.reshape(*batch, k), smallest


def settled_steps(alphas: np.ndarray, betas: np.ndarray, tol: float, stride: int = 5) -> int:
    """The fewest Lanczos steps ``j`` (a multiple of ``stride``, or ``k``) whose ``f(T_j) e_1``
    is within ``tol`` (relative) of ``f(T_k) e_1`` for every batch row and every multiple of
    ``stride`` from ``j`` to ``k``; ``k`` when none is (numpy; leading axes are batch axes).

    The Lanczos vectors are orthonormal, so ``|V_k (c_k - c_j)| = |c_k - c_j|``: this is the
    error of the ``j``-step result against the ``k``-step one, read off the tridiagonals
    alone, without regenerating any vector. Scanned downwards from ``k`` and stopped at the
    first failure, so that the error stays within ``tol`` at every step count above ``j``.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> a, b = rng.uniform(3.0, 5.0, (2, 40)), rng.uniform(0.1, 0.5, (2, 40))
    >>> j = settled_steps(a, b, 1e-8)
    >>> 0 < j < 40
    True
    """
    alphas = np.asarray(alphas, np.float64).reshape(-1, np.shape(alphas)[-1])
    betas = np.asarray(betas, np.float64).reshape(alphas.shape)
    k = alphas.shape[-1]
    full = [_inverse_sqrt_e1(a, b, k)[0] for a, b in zip(alphas, betas, strict=True)]
    best = k
    for j in range((k - 1) // stride * stride, 0, -stride):
        for a, b, ref in zip(alphas, betas, full, strict=True):
            c = _inverse_sqrt_e1(a, b, j)[0]
            scale = np.linalg.norm(ref)
            err = np.sqrt(np.sum((c - ref[:j]) ** 2) + np.sum(ref[j:] ** 2))
            if not (scale > 0 and err <= tol * scale):  # NaN (indefinite) fails too
                return best
        best = j
    return best


def combine(apply: Callable[[Any], Any], b: Any, alphas: Any, betas: Any, coef: Any,
            coef_early: Any, norm: Any) -> tuple[Any, Any]:
    """``|b| V_k c`` for the coefficients ``c`` of :func:`coefficients` (both sets), the
    Lanczos vectors ``V_k`` regenerated from ``alphas`` and ``betas``."""
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
    return norm * acc, norm * acc_early


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
