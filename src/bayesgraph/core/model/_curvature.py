"""A self-check that scales: is a Gaussian ``q = N(m, S)`` the best Gaussian for the posterior?

Importance sampling (:mod:`._importance`) loses its power beyond about a hundred
coordinates: its weights degenerate even for good approximations, so it must stay silent
there. This check asks instead whether ``q`` satisfies the two fixed-point conditions of
Gaussian variational inference (Opper and Archambeau 2009), which hold at the best
(full-covariance) Gaussian:

* the mean: ``E_q[grad log p] = 0``; the check takes one Newton step from ``m``,
  ``delta = A^{-1} E_q[grad log p]``, and measures it in posterior sds;
* the covariance: ``S^{-1} = A`` with ``A = E_q[-hess log p]``; the check compares each
  site's total variance ``tr_s(S)`` with ``tr_s(A^{-1})``.

Both expectations are taken over ``P`` antithetic pairs ``m +- S^{1/2} eps``, so on a
Gaussian posterior (a quadratic ``log p``) they are exact whatever ``P``: ``delta`` is then
the exact error of the mean and ``A^{-1}`` the exact covariance. Everything is matrix-free:
``A v`` is an average of Hessian-vector products and ``A^{-1} v`` comes from conjugate
gradients, so the cost is that of a few hundred gradient evaluations, not of a dense
Hessian. Traces are estimated with probe vectors restricted to one site: its unit vectors
for small sites (then exact), else :data:`PROBES` Rademacher vectors (Hutchinson). Both
traces of a site use the same probes, so their ratio is exact wherever ``S = A^{-1}``.

Mean-field Gaussians satisfy ``1 / S_ii = A_ii`` at their optimum, so their variance ratio is
``1 / (A_ii (A^{-1})_ii)``: one over the variance inflation that the posterior's
correlations cause, which is what mean-field misses. A Laplace approximation satisfies both
conditions when the posterior is Gaussian; its departures measure skewness (the mean) and
changing curvature (the variances).

Where ``A`` is not positive definite along the Krylov directions (a posterior that is not
log-concave over ``q``'s spread) the check is inconclusive and says so (``result.status``);
it never warns then.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from bayesgraph._warn import warn_user
from bayesgraph.core.model._hosts import to_host
from bayesgraph.exceptions import ApproximationWarning

__all__ = ["Curvature", "make_curvature", "make_constancy", "probes", "evaluate",
           "evaluate_constant", "warn", "PAIRS", "PROBES"]

#: antithetic pairs of points at which the gradient and Hessian are averaged
PAIRS = 4
#: Rademacher probes per site larger than this (smaller sites use their unit vectors)
PROBES = 16
#: when the probes of all sites would exceed this, probes span all coordinates at once
MAX_PROBES = 512
#: conjugate-gradient settings
CG_TOLERANCE = 1e-6
CG_MAX_ITERATIONS = 1000


def make_curvature(neg_logp: Callable[[Any, Any], Any]) -> Callable[..., Any]:
    """A jitted ``f(points, rhs, data) -> (solutions, gradient step, relative residual,
    min curvature)`` for the negative log-density ``neg_logp(z, data)``.

    ``A`` is the mean Hessian of ``neg_logp`` over ``points`` (``(P, d)``); the function
    solves ``A x = b`` for each row ``b`` of ``rhs`` and for ``b = -mean gradient`` (the
    Newton step of the mean), by conjugate gradients. ``min curvature`` is the smallest
    ``p^T A p / p^T p`` met by CG (not positive: ``A`` is not positive definite).

    Examples
    --------
    >>> import jax.numpy as jnp, numpy as np
    >>> with jax.enable_x64(True):
    ...     f = make_curvature(lambda z, data: 0.5 * jnp.sum(data * (z - 1.0) ** 2))
    ...     x, step, res, curv = f(jnp.zeros((2, 2)), jnp.eye(2), jnp.array([2.0, 4.0]))
    >>> np.round(np.asarray(x), 6).tolist(), np.round(np.asarray(step), 6).tolist()
    ([[0.5, 0.0], [0.0, 0.25]], [1.0, 1.0])
    """
    grad = jax.grad(neg_logp)

    def run(points, rhs, data):
        n_points = points.shape[0]
        # linearised once at all points: each CG step is the tangent pass only (jvp-of-grad
        # inside the loop redid the gradient's primal pass at every step)
        grads, tangent = jax.linearize(jax.vmap(lambda z: grad(z, data)), points)

        def apply(v):
            return jnp.sum(tangent(jnp.broadcast_to(v, points.shape)), axis=0) / n_points

        g = jnp.mean(grads, axis=0)
        b = jnp.concatenate([rhs, -g[None]], axis=0)
        x, residual, curvature = jax.vmap(lambda bi: _cg(apply, bi))(b)
        return x[:-1], x[-1], jnp.max(residual), jnp.min(curvature)

    return jax.jit(run)


def make_constancy(neg_logp: Callable[[Any, Any], Any]) -> Callable[..., Any]:
    """A jitted ``f(points, centre, probe, data) -> (largest relative difference, mean
    gradient)``: how far the Hessian-vector products ``H(p) probe`` at the ``points``
    (``(P, d)``) are from ``H(centre) probe`` (relative to its norm), and the mean gradient
    of ``neg_logp`` over the points.

    For a Gaussian ``probe`` a Hessian that differs between two points differs along it
    with probability 1, so a difference at rounding level means the Hessian is the same
    at every point (a posterior that is Gaussian over the approximation's spread).

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> with jax.enable_x64(True):
    ...     f = make_constancy(lambda z, data: 0.5 * jnp.sum(data * z ** 2))
    ...     diff, g = f(jnp.ones((2, 2)), jnp.zeros(2), jnp.ones(2), jnp.array([1.0, 2.0]))
    >>> float(diff), np.asarray(g).tolist()
    (0.0, [1.0, 2.0])
    """
    grad = jax.grad(neg_logp)

    def run(points, centre, probe, data):
        def product(z):
            return jax.jvp(lambda x: grad(x, data), (z,), (probe,))[1]

        reference = product(centre)
        at_points = jax.vmap(product)(points)
        scale = jnp.maximum(jnp.linalg.norm(reference), jnp.finfo(probe.dtype).tiny)
        diff = jnp.max(jnp.linalg.norm(at_points - reference, axis=1)) / scale
        return diff, jnp.mean(jax.vmap(lambda z: grad(z, data))(points), axis=0)

    return jax.jit(run)


def antithetic_points(mean: np.ndarray, sqrt_cov: Callable[[np.ndarray], Any],
                      rng: np.random.Generator) -> np.ndarray | None:
    """The check's ``2 PAIRS`` points ``mean +- offset`` (antithetic pairs: their mean is
    ``mean`` up to rounding), each offset a draw of ``N(0, S)`` by ``sqrt_cov``; ``None``
    when a point is not finite (the approximation has no usable draws).

    Examples
    --------
    >>> pts = antithetic_points(np.zeros(3), lambda e: 2 * e, np.random.default_rng(0))
    >>> pts.shape, bool(np.allclose(pts.mean(axis=0), 0.0))
    ((8, 3), True)
    """
    eps = rng.standard_normal((PAIRS, mean.size))
    offsets = to_host(sqrt_cov(eps), dtype=mean.dtype)
    points = np.concatenate([mean + offsets, mean - offsets])
    return points if np.all(np.isfinite(points)) else None


def evaluate_constant(constancy: Callable[..., Any], mean: np.ndarray,
                      sqrt_cov: Callable[[np.ndarray], Any], solve: Callable[[np.ndarray], Any],
                      sites: list[Any], slices: dict[str, slice], data: Any,
                      rng: np.random.Generator) -> Curvature | None:
    """The check for a Laplace approximation ``q = N(mean, H^{-1})`` (``H`` the Hessian at
    ``mean``) when the Hessian is the same at every one of the check's points; ``None``
    when it is not (then :func:`evaluate` runs).

    Where the Hessian is constant over the points, ``A = H = S^{-1}``: every variance ratio
    is 1 exactly, and no conjugate-gradient solve of the probes is needed. The shift
    reported for every site is ``sqrt(g^T H^{-1} g)`` for the mean gradient ``g``, an upper
    bound on each coordinate's ``|delta_i| / sd_i`` (Cauchy-Schwarz in the metric ``H``);
    ``solve(b)`` returns ``H^{-1} b``. Costs two gradients and two Hessian-vector products
    per point and one solve, instead of a solve per probe with ``2 PAIRS`` products per
    step. The tolerance is the square root of the machine epsilon.

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> from types import SimpleNamespace
    >>> with jax.enable_x64(True):
    ...     A = jnp.array([[2.0, 1.9], [1.9, 2.0]])
    ...     f = make_constancy(lambda z, data: 0.5 * z @ A @ z)
    ...     cov = np.linalg.inv(np.asarray(A))
    ...     found = evaluate_constant(f, np.zeros(2), lambda e: e @ np.linalg.cholesky(cov).T,
    ...                               lambda b: cov @ b, [SimpleNamespace(name="x", label="x")],
    ...                               {"x": slice(0, 2)}, None, np.random.default_rng(0))
    >>> found.variance_ratio, found.shift
    ({'x': 1.0}, {'x': 0.0})
    """
    d = mean.size
    dtype = mean.dtype
    points = antithetic_points(mean, sqrt_cov, rng)
    if points is None:
        return None
    probe = rng.standard_normal(d).astype(dtype)
    diff, gradient = constancy(jnp.asarray(points), jnp.asarray(mean), jnp.asarray(probe), data)
    if not float(diff) <= np.sqrt(np.finfo(dtype).eps):
        return None
    gradient = to_host(gradient)
    step = to_host(solve(-gradient), dtype=np.float64)
    distance = float(np.sqrt(max(float(np.dot(step, -gradient)), 0.0)))
    if not np.isfinite(distance):
        return None
    labels = {site.name: site.label for site in sites}
    result = Curvature()
    for name, sl in slices.items():
        if sl.stop > sl.start:
            label = labels.get(name, repr(name))
            result.variance_ratio[label] = 1.0
            result.shift[label] = distance
    return result


def _cg(apply: Callable[[Any], Any], b: Any) -> tuple[Any, Any, Any]:
    """Conjugate gradients for ``A x = b``; also the relative residual and the smallest
    Rayleigh quotient of a search direction (stops at a non-positive one)."""
    norm_b = jnp.linalg.norm(b)
    tiny = jnp.finfo(b.dtype).tiny

    def cond(state):
        _, r, _, rr, k, curv = state
        return (jnp.sqrt(rr) > CG_TOLERANCE * norm_b) & (k < CG_MAX_ITERATIONS) & (curv > 0)

    def body(state):
        x, r, p, rr, k, curv = state
        ap = apply(p)
        pap = jnp.dot(p, ap)
        quotient = pap / jnp.maximum(jnp.dot(p, p), tiny)
        alpha = rr / jnp.where(pap > 0, pap, 1.0)
        ok = pap > 0
        x = jnp.where(ok, x + alpha * p, x)
        r_new = jnp.where(ok, r - alpha * ap, r)
        rr_new = jnp.dot(r_new, r_new)
        p = r_new + (rr_new / jnp.maximum(rr, tiny)) * p
        return x, r_new, p, rr_new, k + 1, jnp.minimum(curv, quotient)

    zero = jnp.zeros_like(b)
    init = (zero, b, b, jnp.dot(b, b), 0, jnp.asarray(jnp.inf, b.dtype))
    x, r, _, rr, _, curv = jax.lax.while_loop(cond, body, init)
    return x, jnp.sqrt(rr) / jnp.maximum(norm_b, tiny), curv


def probes(slices: dict[str, slice], dimension: int, rng: np.random.Generator
           ) -> tuple[np.ndarray, dict[str, tuple[np.ndarray, np.ndarray]]]:
    """Probe vectors ``(K, d)`` and, per site, ``(rows of its probes, coordinate mask)``.

    Examples
    --------
    >>> rows, where = probes({"a": slice(0, 2), "b": slice(2, 40)}, 40,
    ...                      np.random.default_rng(0))
    >>> rows.shape, where["a"][0].tolist()
    ((18, 40), [0, 1])
    """
    sizes = {name: sl.stop - sl.start for name, sl in slices.items()}
    total = sum(min(n, PROBES) if n > PROBES else n for n in sizes.values())
    rows: list[np.ndarray] = []
    where: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    if total > MAX_PROBES:  # shared probes over every coordinate
        shared = rng.choice([-1.0, 1.0], size=(PROBES, dimension))
        for name, sl in slices.items():
            mask = np.zeros(dimension, bool)
            mask[sl] = True
            where[name] = (np.arange(PROBES), mask)
        return shared, where
    for name, sl in slices.items():
        n = sizes[name]
        if n == 0:
            continue
        start = len(rows)
        if n <= PROBES:
            block = np.zeros((n, dimension))
            block[np.arange(n), np.arange(sl.start, sl.stop)] = 1.0
        else:
            block = np.zeros((PROBES, dimension))
            block[:, sl] = rng.choice([-1.0, 1.0], size=(PROBES, n))
        rows.extend(block)
        mask = np.zeros(dimension, bool)
        mask[sl] = True
        where[name] = (np.arange(start, len(rows)), mask)
    return to_host(rows).reshape(-1, dimension), where


@dataclass
class Curvature:
    """What the curvature check found.

    Attributes
    ----------
    variance_ratio : dict
        Per site label: ``tr_s(S) / tr_s(A^{-1})`` (the approximation's total variance over
        the best Gaussian's).
    shift : dict
        Per site label: the largest Newton step of a coordinate's mean, in posterior sds.
    status : str
        ``'ok'``, or why the check is inconclusive.

    Examples
    --------
    >>> Curvature({"'x'": 0.2}, {"'x'": 0.0}).off(1.5, 0.25)
    ["'x' (variances x0.2 of the best Gaussian's)"]
    """

    variance_ratio: dict[str, float] = field(default_factory=dict)
    shift: dict[str, float] = field(default_factory=dict)
    status: str = "ok"

    def off(self, variance_factor: float, shift_limit: float) -> list[str]:
        """Texts for the sites beyond the limits, worst first."""
        if self.status != "ok":
            return []
        found = []
        for label, ratio in self.variance_ratio.items():
            shift = self.shift.get(label, 0.0)
            bad_var = not (1 / variance_factor <= ratio <= variance_factor)
            bad_mean = shift > shift_limit
            if bad_var or bad_mean:
                parts = ([f"variances x{ratio:.2g} of the best Gaussian's"] if bad_var else [])
                parts += [f"mean {shift:.2g} sds off"] if bad_mean else []
                badness = abs(np.log(ratio)) + shift
                found.append((badness, f"{label} ({', '.join(parts)})"))
        return [text for _, text in sorted(found, key=lambda f: -f[0])]


def evaluate(run: Callable[..., Any], mean: np.ndarray, sqrt_cov: Callable[[np.ndarray], Any],
             cov: Callable[[np.ndarray], Any], sites: list[Any], slices: dict[str, slice],
             data: Any, rng: np.random.Generator, variances: np.ndarray | None = None
             ) -> Curvature:
    """Run the check for ``q = N(mean, S)``.

    ``sqrt_cov(eps)`` maps standard normals ``(P, d)`` to draws of ``N(0, S)``, ``cov(V)``
    returns ``S v`` for every row ``v`` of ``V``; ``run`` is :func:`make_curvature`'s function;
    ``variances`` is ``diag(S)`` where it is cheap (it sets each coordinate's scale for the
    shift of the mean).

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> from types import SimpleNamespace
    >>> with jax.enable_x64(True):
    ...     A = jnp.array([[2.0, 1.9], [1.9, 2.0]])  # strongly correlated Gaussian
    ...     run = make_curvature(lambda z, data: 0.5 * z @ A @ z)
    ...     s = 1 / np.sqrt(np.diag(np.asarray(A)))  # the mean-field optimum
    ...     found = evaluate(run, np.zeros(2), lambda e: e * s, lambda v: v * s**2,
    ...                      [SimpleNamespace(name="x", label="'x'")], {"x": slice(0, 2)},
    ...                      None, np.random.default_rng(0), variances=s**2)
    >>> round(found.variance_ratio["'x'"], 4), round(found.shift["'x'"], 6)
    (0.0975, 0.0)
    """
    d = mean.size
    dtype = mean.dtype
    points = antithetic_points(mean, sqrt_cov, rng)
    if points is None:
        return Curvature(status="the approximation's draws are not finite")
    rows, where = probes(slices, d, rng)
    x, step, residual, curvature = run(jnp.asarray(points), jnp.asarray(rows, dtype), data)
    x, step = to_host(x), to_host(step)
    if not (float(curvature) > 0 and np.all(np.isfinite(x)) and np.all(np.isfinite(step))):
        return Curvature(status="the mean Hessian over the approximation is not positive "
                                "definite (the posterior is not log-concave there)")
    if float(residual) > 1e-3:
        return Curvature(status=f"conjugate gradients stopped at relative residual "
                                f"{float(residual):.2g}")
    s_rows = to_host(cov(rows))
    best = np.einsum("kd,kd->kd", rows, x)      # v_i (A^{-1} v)_i per coordinate
    guide = np.einsum("kd,kd->kd", rows, s_rows)
    squares = rows ** 2
    result = Curvature()
    labels = {site.name: site.label for site in sites}
    for name, (k, mask) in where.items():
        n = int(mask.sum())
        norm = squares[np.ix_(k, mask)].sum()
        t_best = n * best[np.ix_(k, mask)].sum() / norm
        t_guide = n * guide[np.ix_(k, mask)].sum() / norm
        label = labels.get(name, repr(name))
        if not (t_best > 0 and t_guide > 0):
            return Curvature(status=f"the variance estimate of {label} is not positive")
        result.variance_ratio[label] = float(t_guide / t_best)
        # per coordinate sd: the approximation's, scaled to the best Gaussian's total (or,
        # without the approximation's diagonal, the site's root-mean-square sd)
        if variances is not None:
            sd = np.sqrt(np.maximum(variances[mask], 0.0) * t_best / t_guide)
        else:
            sd = np.full(n, np.sqrt(t_best / n))
        result.shift[label] = float(np.max(np.abs(step[mask]) / np.maximum(sd, 1e-300)))
    return result


def warn(model: str, off: list[str], variance_factor: float, shift_limit: float,
         hint: str) -> None:
    """The ApproximationWarning of a failed curvature check.

    Examples
    --------
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     warn("ADVIModel", ["'x' (variances x0.2 of the best Gaussian's)"], 1.5, 0.25, "")
    >>> "'x'" in str(caught[0].message)
    True
    """
    shown = ", ".join(off[:5]) + (f" and {len(off) - 5} more" if len(off) > 5 else "")
    warn_user(
        f"{model}: the fitted Gaussian is not the best Gaussian for the posterior: the "
        f"posterior's curvature over it (mean Hessian, Newton step) puts {shown} beyond the "
        f"documented limits (variances within a factor {variance_factor:g}, means within "
        f"{shift_limit:g} sds; see docs/trust.md). Its sds or means cannot be trusted. Try "
        f"{hint}MCMCModel; check=False skips this check (model.curvature holds its numbers)",
        ApproximationWarning,
    )
