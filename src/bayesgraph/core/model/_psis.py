"""Pareto k-hat: how well an approximation ``q`` covers the posterior ``p``.

Yao, Vehtari, Simpson and Gelman (2018), "Yes, but did it work?: Evaluating variational
inference": draw from ``q``, fit a generalised Pareto distribution to the largest importance
ratios ``p/q``; its shape ``k`` says how heavy their tail is. ``k < 0.5``: ``q`` is close to
``p``; ``k > 0.7``: ``q`` misses mass of ``p`` (too narrow, wrong shape, or wrong place) and
its estimates cannot be trusted. The fit is Zhang and Stephens' (2009) empirical-Bayes
estimate with the weak prior on ``k`` that ArviZ and loo use, on the tail of
``min(S / 5, 3 sqrt(S))`` ratios, so the number equals ``arviz.psislw``'s.
"""

from __future__ import annotations

import numpy as np

__all__ = ["pareto_khat", "KHAT_LIMIT"]

#: above this the approximation is unreliable (Yao et al. 2018; Vehtari et al. 2024)
KHAT_LIMIT = 0.7


def _gpd_shape(tail: np.ndarray) -> float:
    """Shape of a generalised Pareto fit to sorted positive exceedances (Zhang & Stephens)."""
    n = len(tail)
    m = 30 + int(n**0.5)
    b = 1 - np.sqrt(m / (np.arange(1, m + 1, dtype=float) - 0.5))
    # the profile likelihood divides by k and takes logs: a candidate b with k = 0 or
    # -b/k <= 0 (ties in the tail, a tail of equal ratios) has no likelihood; it is dropped
    # instead of letting numpy warn (no bare RuntimeWarning reaches the user)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        b /= 3 * tail[int(n / 4 + 0.5) - 1]
        b += 1 / tail[-1]
        k = np.log1p(-b[:, None] * tail).mean(axis=1)
        length = n * (np.log(-(b / k)) - k - 1)
        ok = np.isfinite(length)
        if not ok.any():
            return float("inf")
        b, length = b[ok], length[ok]
        weights = 1 / np.exp(length - length[:, None]).sum(axis=1)
        keep = weights >= 10 * np.finfo(float).eps
        weights, b = weights[keep] / weights[keep].sum(), b[keep]
        k_post = np.log1p(-np.sum(b * weights) * tail).mean()
    return float((n * k_post + 10 * 0.5) / (n + 10))


def pareto_khat(log_ratios: np.ndarray) -> float:
    """Pareto k-hat of importance ratios given as logarithms (``log p - log q`` per draw).

    Returns ``inf`` when fewer than five ratios are in the tail, ``-inf`` when the ratios are
    all equal (``q`` is ``p``), and ``inf`` when a ratio is not finite where ``q`` put mass
    (``p`` is zero or infinite there).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> z = rng.normal(size=4000)  # q = N(0, 1)
    >>> wide = -0.5 * (z / 3) ** 2 - np.log(3) + 0.5 * z**2  # p = N(0, 3^2): q too narrow
    >>> narrow = -0.5 * (z / 0.8) ** 2 - np.log(0.8) + 0.5 * z**2  # p = N(0, 0.8^2)
    >>> bool(pareto_khat(wide) > KHAT_LIMIT), bool(pareto_khat(narrow) < 0.5)
    (True, True)
    """
    x = np.asarray(log_ratios, dtype=np.float64).reshape(-1)
    if not np.all(np.isfinite(x)):
        return float("inf")
    x = x - x.max()
    if np.all(x == 0):
        return float("-inf")
    s = x.size
    cut = max(np.sort(x)[-int(np.ceil(min(0.2 * s, 3 * np.sqrt(s)))) - 1],
              np.log(np.finfo(float).tiny))
    tail = np.sort(x[x > cut])
    if tail.size <= 4:
        return float("inf")
    return _gpd_shape(np.exp(tail) - np.exp(cut))
