"""Does a Gaussian approximation fit the posterior? Importance sampling from it tells.

Yao, Vehtari, Simpson and Gelman (2018): draw ``z`` from the approximation ``q`` (in the
unconstrained coordinates of the latent sites), weigh each draw by ``p(z) / q(z)`` and
compare. :func:`check` computes the Pareto k-hat of the ratios (:mod:`._psis`), their
effective sample size, and per coordinate the importance-weighted mean and sd against
``q``'s (weights truncated at ``mean * sqrt(S)``, Ionides 2008). ADVI and MAPFisher call it
after ``solve()`` and issue an :class:`~bayesgraph.exceptions.ApproximationWarning` through
:func:`warn`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from bayesgraph._warn import warn_user
from bayesgraph.core.model._psis import KHAT_LIMIT, pareto_khat
from bayesgraph.exceptions import ApproximationWarning

__all__ = ["Check", "check", "warn", "MIN_ESS", "SMALL_DIMENSION"]

#: weighted moments are trusted from this many effective draws
MIN_ESS = 50
#: below MIN_ESS, a k-hat above 0.7 warns only up to this many coordinates (in higher
#: dimensions k-hat exceeds 0.7 even for approximations whose marginals are good)
SMALL_DIMENSION = 100


@dataclass
class Check:
    """What importance sampling from ``q`` found.

    Examples
    --------
    >>> Check(pareto_k=0.2, ess=950.0).failed
    False
    """

    pareto_k: float
    ess: float
    #: one text per variable whose weighted mean or sd is off, worst first
    off: list[str] = field(default_factory=list)
    means_moved: bool = False
    #: too few effective draws to compare moments, and k-hat above 0.7 in a small model
    #: (then ``off`` lists the variables that look worst, a pointer rather than a measure)
    degenerate: bool = False

    @property
    def failed(self) -> bool:
        return bool(self.off) or self.degenerate


def check(z: np.ndarray, log_ratio: np.ndarray, sites: list[Any], slices: dict[str, slice],
          shift_limit: float, sd_limit: float) -> Check:
    """Compare ``q`` (draws ``z``, ``(S, d)``) with the posterior through ``log p - log q``.

    A variable is *off* when the weighted mean of one of its coordinates moves more than
    ``shift_limit`` of ``q``'s sd, or its weighted sd differs by more than a factor
    ``sd_limit``, and in both cases by more than four times the estimate's own noise.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> z = rng.normal(size=(1000, 1))
    >>> same = check(z, np.zeros(1000), [], {}, 0.25, 1.25)
    >>> round(same.ess), same.failed
    (1000, False)
    """
    k = pareto_khat(log_ratio)
    finite = np.isfinite(log_ratio)
    if finite.sum() < 2:
        return Check(k, 0.0, degenerate=True)
    z, log_ratio = z[finite], log_ratio[finite]
    w = np.exp(log_ratio - log_ratio.max())
    w = np.minimum(w, w.mean() * np.sqrt(w.size))
    w /= w.sum()
    ess = float(1.0 / np.sum(w**2))
    mean, sd = z.mean(axis=0), z.std(axis=0) + 1e-300
    weighted = w @ z
    shift = np.abs(weighted - mean) / sd
    ratio = np.sqrt(w @ (z - weighted) ** 2) / sd + 1e-300
    if ess < MIN_ESS:  # the moments are noise; name the worst variables as a pointer only
        degenerate = k > KHAT_LIMIT and z.shape[1] <= SMALL_DIMENSION
        off = np.ones_like(shift, dtype=bool) if degenerate else np.zeros_like(shift, bool)
        moved = off
    else:
        degenerate = False
        noise = 4.0 / np.sqrt(ess)
        moved = shift > max(shift_limit, noise)
        off = moved | (np.abs(np.log(ratio)) > max(np.log(sd_limit), noise / np.sqrt(2)))
    found = []
    for site in sites:
        where = slices[site.name]
        if off[where].any():
            badness = shift[where] + np.abs(np.log(ratio[where]))
            j = int(np.argmax(badness))
            found.append((float(badness[j]),
                          f"{site.label} (importance-weighted mean {shift[where][j]:.2g} sds "
                          f"away, sd x{ratio[where][j]:.2g})"))
    worst = [text for _, text in sorted(found, key=lambda f: -f[0])[:5 if not degenerate else 3]]
    return Check(k, ess, worst, bool(moved.any()), degenerate)


def warn(model: str, result: Check, draws: int, hint: str) -> None:
    """The ApproximationWarning for a failed :func:`check`.

    Examples
    --------
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     warn("ADVIModel", Check(1.2, 10.0, degenerate=True), 1000, "")
    >>> caught[0].category.__name__
    'ApproximationWarning'
    """
    if not result.degenerate:
        why = ("importance sampling from it towards the posterior moves (in unconstrained "
               "coordinates): " + ", ".join(result.off))
        what = "means and sds" if result.means_moved else "sds"
    else:
        why = (f"importance sampling from it towards the posterior fails (Pareto k-hat "
               f"{result.pareto_k:.2f} > {KHAT_LIMIT}, {result.ess:.0f} effective draws of "
               f"{draws}): it is too narrow, skewed or misplaced"
               + ("; worst: " + ", ".join(result.off) if result.off else ""))
        what = "means and sds"
    warn_user(
        f"{model}: the fitted Gaussian is not the posterior: {why}. Its {what} cannot be "
        f"trusted. Try {hint}MCMCModel; check=False skips this check (model.pareto_k and "
        "model.importance_ess hold its numbers)",
        ApproximationWarning,
    )
