"""MAPFisherModel: the Laplace approximation at the MAP point.

The posterior is approximated by a Gaussian in the unconstrained coordinates of the
optimiser, centred at the MAP point (the same point :class:`MAPModel` finds), with the inverse
Hessian ``H`` of the negative log-density there as covariance. For linear-Gaussian graphs this
is the exact posterior. Variables with a constrained support (LogNormal, Exponential, Uniform)
are drawn through their transform, so their samples stay inside the support.

Two paths, chosen by the number ``d`` of unobserved scalars:

* **dense** (``d <= max_dense_dimension``, default 5000): the Hessian, its Cholesky factor and
  the covariance are computed once, in the same jitted function as the fit. Means and
  variances of variables with real support are exact (read off the Gaussian); the others
  (constrained or deterministic functions of latent variables) are Monte-Carlo estimates.
* **matrix-free** (larger ``d``, e.g. a pedigree of ten thousand persons, whose Hessian is
  sparse but whose dense form would not fit): ``H`` is never formed. Draws are
  ``z + H^{-1/2} eps`` computed by the Lanczos method from Hessian-vector products
  (``lanczos_steps``, default 100, for the first chunk of draws after each solve; every draw
  then takes the fewest steps within a relative :func:`lanczos_tolerance` of those on every
  draw of that chunk: 1e-3 for up to 200 draws, far below their Monte-Carlo error;
  a :class:`ConvergenceWarning` says when the draws have not settled; chunks of 4 draws
  from ``d = 10,000`` on, whose Lanczos vectors are kept, so each step is one
  Hessian-vector product, when they fit in :data:`BASIS_VALUES`, else regenerated);
  means of real-support variables are exact (the MAP point); :meth:`get_covariance`
  solves ``H x = e_i`` by conjugate gradients for the requested entries (exact to
  ``cg_tolerance``).

  **Variances of real-support variables** are unbiased Monte-Carlo estimates over
  ``n_samples`` draws ``u ~ N(0, H^{-1})``, with a control variate: for ``v = H u`` (one
  more product per draw), ``y_i = u_i v_i - 1`` has mean exactly 0 (``E[u v^T] = H^{-1} H``),
  and the estimate of ``(H^{-1})_ii`` is the mean of ``u_i^2 - c_i y_i``. The slope ``c_i``
  (least squares of ``u_i^2`` on ``y_i``) is cross-fitted: draw ``k`` is in fold
  ``k % VARIANCE_FOLDS`` and its ``c_i`` comes from the other folds only, so it is
  independent of the draw it multiplies and the estimate stays unbiased. For a Gaussian
  ``(u_i, v_i)`` with ``s = (H^{-1})_ii`` and ``r = 1 / (s H_ii)`` (the share of the
  variance that is conditional on the other coordinates) the variance per draw falls from
  ``2 s^2`` (the plain ``mean u_i^2``; relative error ``sqrt(2 / n)``, 14 % at 100 draws) to
  ``2 s^2 (1 - r) / (1 + r)`` (to 0 for a coordinate independent of the rest); no diagonal
  of ``H`` is needed. Other variables (constrained, or deterministic functions) are
  sampled as on the dense path.

Examples
--------
>>> from bayesgraph.core import Graph, Variable
>>> from bayesgraph.core.model import MAPFisherModel
>>> with Graph("g") as g:
...     z = Variable("z", mean=0, variance=1)
...     x = Variable("x", mean=z, variance=1)
>>> model = MAPFisherModel(g, data={g.x: [2.0]}).solve()
>>> model.get_means(g.z).round(8).tolist(), model.get_variances(g.z).round(8).tolist()
([1.0], [0.5])
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import jax
import jax.numpy as jnp
import jax.scipy.linalg as jsl
import numpy as np
import scipy.linalg

from bayesgraph._warn import warn_user
from bayesgraph.core.compiler.distributions import unbounded
from bayesgraph.core.model import _curvature as curvature
from bayesgraph.core.model import _importance as importance
from bayesgraph.core.model._common import tolerance_for
from bayesgraph.core.model._hosts import to_host
from bayesgraph.core.model._krylov import (
    coefficients,
    combine,
    settled_steps,
    solve,
    tridiagonal,
)
from bayesgraph.core.model._layout import Layout
from bayesgraph.core.model._resources import chunk_size
from bayesgraph.core.model.map import MAPModel
from bayesgraph.core.scope import NamedObject
from bayesgraph.exceptions import ConvergenceError, ConvergenceWarning, OptionError

#: the largest posterior sd in unconstrained (log/logit) coordinates a Laplace
#: approximation may have: beyond it the Gaussian spans factors of e^10 and more
MAX_LOG_SPREAD = 10.0
#: the importance-sampling check after solve(): its draws, the thresholds (a Laplace
#: approximation is chosen knowing it is approximate: warn when it is off by half a
#: posterior sd or its sds by a factor 1.5), and 'auto' runs it up to this many examples
#: (with many data the posterior is close to Gaussian and the check costs a fit or more)
CHECK_DRAWS = 1000
SHIFT_LIMIT = 0.5
SD_LIMIT = 1.5
CHECK_MAX_DATA = 10_000
#: the curvature check's limits (:mod:`._curvature`, every dimension, both paths): the
#: Laplace variances within this factor of the best Gaussian's, the means within
#: CURVATURE_SHIFT sds of one Newton step (the same as SD_LIMIT and SHIFT_LIMIT)
VARIANCE_FACTOR = SD_LIMIT ** 2
CURVATURE_SHIFT = SHIFT_LIMIT
#: draws computed together by the matrix-free path (vectorised Lanczos runs): 16 for small
#: dimensions, 4 from SMALL_CHUNK_DIMENSION on (measured on the pedigree, per vector and
#: Hessian-vector product: 0.19 ms in batches of 16 against 0.14 ms in batches of 4 at
#: d = 15,000, 4.3 against 2.1 ms at d = 150,000: the batches of 16 leave the caches)
_CHUNK = 16
_SMALL_CHUNK = 4
SMALL_CHUNK_DIMENSION = 10_000
#: the matrix-free path keeps the Lanczos vectors of a chunk (one pass of Hessian-vector
#: products per draw instead of two) when they are at most this many values (2 GB in
#: float64, split over the devices), else regenerates them. Measured on the pedigree, a
#: chunk of 4 draws: at d = 15,000 and 55-60 steps 0.08-0.13 s kept against 0.16 s
#: regenerated; at d = 150,000 and 25 steps (120 MB of vectors, kept in a buffer updated in
#: place) 0.35 s against 0.54 s. (With the vectors stacked as the scan's outputs, 288 MB at
#: 60 steps had cost 2.1-3.6 s against 1.5 s, hence an earlier limit of 64 MB.) At 10^6
#: persons a product costs about 1 s per chunk on 8 simulated devices, and the second pass
#: about half of the draws' time
BASIS_VALUES = 2 ** 28
#: folds of the cross-fitted control variate of the matrix-free variances (module docstring)
VARIANCE_FOLDS = 10
#: the matrix-free path's draws use the fewest Lanczos steps whose result is within a
#: relative distance ``tol`` of the ``lanczos_steps`` one on every draw of the first chunk
#: after each solve; ``tol`` (:func:`lanczos_tolerance`) is LANCZOS_SHARE of the plain
#: Monte-Carlo error ``sqrt(2 / n)`` of a variance from ``n`` draws, at most
#: LANCZOS_MAX_TOLERANCE: 1e-3 up to 200 draws, 4.5e-4 at 1,000, 1.4e-4 at 10,000
#: (measured on the pedigree of 10^4 persons: 25 steps at 1e-3 against 55 at 1e-6)
LANCZOS_SHARE = 0.01
LANCZOS_MAX_TOLERANCE = 1e-3


def lanczos_tolerance(n_samples: int) -> float:
    """The relative accuracy of the matrix-free draws of a call for ``n_samples`` draws.

    A draw ``u`` with a relative error ``tol`` moves a variance estimate by at most about
    ``2 tol`` (relative), 1/50 of the plain Monte-Carlo error ``sqrt(2 / n)`` of ``n`` draws
    (module docstring); the cross-fitted control variate of the variances is exact for a
    coordinate independent of the others whatever the draws' error.

    Examples
    --------
    >>> lanczos_tolerance(100), round(lanczos_tolerance(10_000), 6)
    (0.001, 0.000141)
    """
    return min(LANCZOS_MAX_TOLERANCE, LANCZOS_SHARE * float(np.sqrt(2.0 / max(1, n_samples))))


def settle_limit(tol: float) -> float:
    """The largest change over the last quarter of a draw's Lanczos steps that is not
    warned about: ``10 tol^(3/4)``. Where the error falls geometrically from O(1) to ``tol``
    over ``j`` steps, the result of ``j - j/4`` steps is off by about ``tol^(3/4)``.

    Examples
    --------
    >>> round(settle_limit(1e-4), 6)
    0.01
    """
    return 10.0 * tol ** 0.75


class MAPFisherModel(MAPModel):
    """MAP point plus a Gaussian (Laplace/Fisher) covariance around it.

    Parameters
    ----------
    max_dense_dimension : int
        Largest number of unobserved scalars for which the dense Hessian is formed (its
        memory grows as the square); above it the matrix-free path runs (module docstring).
    lanczos_steps : int
        Lanczos steps of the first chunk of matrix-free draws after each solve; every draw
        then runs the fewest steps (``lanczos_steps_used``) whose result is within
        :func:`lanczos_tolerance` of the full one on every draw of that chunk.
    cg_tolerance : float, optional
        Relative residual of the conjugate-gradient solves of :meth:`get_covariance` in the
        matrix-free path; default 1e-10 in float64, 1e-5 in float32.
    **kwargs
        As for :class:`~bayesgraph.core.model.MAPModel`.

    Attributes
    ----------
    dense : bool
        Whether the dense path runs.

    Examples
    --------
    >>> from bayesgraph.core import Graph, Variable
    >>> from bayesgraph.core.model import MAPFisherModel
    >>> with Graph("g") as g:
    ...     z = Variable("z", mean=0, variance=4)
    >>> MAPFisherModel(g).solve().get_standard_deviations(g.z).round(8).tolist()
    [2.0]
    """

    def __init__(self, graph: NamedObject, data: Mapping | None = None, compiler: Any = None,
                 initial_values: Mapping | None = None,
                 random_initial_value_scale: float = 1e-4, solver: str = "L-BFGS",
                 copy_graph: bool = True, model_graph_options: Mapping | None = None, *,
                 max_dense_dimension: int = 5000, lanczos_steps: int = 100,
                 cg_tolerance: float | None = None, check: bool | str = "auto",
                 **kwargs: Any) -> None:
        if check not in (True, False, "auto"):
            raise OptionError(f"check must be True, False or 'auto', got {check!r}")
        self.check = check
        #: after solve() with the check (see _importance.py): the Pareto k-hat of the
        #: importance ratios posterior/Laplace and their effective sample size
        self.pareto_k: float | None = None
        self.importance_ess: float | None = None
        #: after solve() with the check: the curvature check's findings (see _curvature.py)
        self.curvature: curvature.Curvature | None = None
        self.max_dense_dimension = int(max_dense_dimension)
        #: matrix-free path: the Lanczos steps of the latest call's draws, read off the
        #: calibrating chunk for that call's :func:`lanczos_tolerance`
        self.lanczos_steps_used: int | None = None
        #: the calibrating chunk's tridiagonals (first chunk after each solve()) and the
        #: step count read off them per tolerance
        self._calibration: tuple[np.ndarray, np.ndarray] | None = None
        self._settled: dict[float, int] = {}
        self.lanczos_steps = int(lanczos_steps)
        if self.lanczos_steps < 2:
            raise OptionError(f"lanczos_steps must be at least 2, got {lanczos_steps!r}")
        self.cg_tolerance = tolerance_for("MAPFisher.cg_tolerance", cg_tolerance,
                                          kwargs.get("dtype", "float64"))
        super().__init__(graph, data, compiler, initial_values, random_initial_value_scale,
                         solver, copy_graph, model_graph_options, **kwargs)

    def _make_options(self) -> dict[str, Any]:
        self.dense = self.dimension <= self.max_dense_dimension
        return {"dense": self.dense, "steps": self.lanczos_steps}

    @classmethod
    def _make(cls, program: Any, options: tuple[Any, ...], dense: bool = True,
              steps: int = 100) -> dict[str, Any]:
        fns = super()._make(program, options, dense=dense, steps=steps)
        layout = Layout.of(program)
        objective = fns["objective"]
        k = max(1, min(steps, layout.dimension))

        def hvp(z, data):
            # linearised once: the gradient's primal pass and its residuals are computed a
            # single time, and every product (one per Lanczos or CG step) is the tangent
            # pass only (jvp-of-grad inside the loop redid the primal pass at every step)
            grad = jax.grad(objective)
            return jax.linearize(lambda x: grad(x, data), z)[1]

        def to_sites(u, data):
            return program.constrain(layout.unravel(u), data)

        def logp(z, data):  # the posterior density of the unconstrained coordinates
            return program.log_density(layout.unravel(z), data, jacobian=True, skip_fixed=True)

        fns["logp_batch"] = jax.jit(jax.vmap(logp, in_axes=(0, None)))
        fns["curvature"] = curvature.make_curvature(lambda z, data: -logp(z, data))
        fns["constancy"] = curvature.make_constancy(lambda z, data: -logp(z, data))
        if dense:
            def draw(z, chol, keys, data):
                def one(key):
                    eps = jax.random.normal(key, z.shape, z.dtype)
                    return to_sites(z + jsl.solve_triangular(chol.T, eps, lower=False), data)
                return jax.vmap(one)(keys)
        else:
            def lanczos(z, eps, data, k=k, basis=False):
                apply = hvp(z, data)
                return jax.vmap(lambda e: tridiagonal(apply, e, k, basis=basis))(eps)

            fns["lanczos"] = jax.jit(lanczos, static_argnames=("k", "basis"))

            def change_of(u, early, k):
                # how much the draws changed over the last quarter of their Lanczos steps
                if k == layout.dimension:  # the Krylov space is everything
                    return jnp.zeros((), u.dtype)
                return jnp.max(jnp.linalg.norm(u - early, axis=1)
                               / jnp.maximum(jnp.linalg.norm(u, axis=1), 1e-300))

            def steps(z, eps, alphas, betas, coef, coef_early, norms, data):
                # the draws u = H^{-1/2} eps, the Lanczos vectors regenerated (two passes)
                apply = hvp(z, data)
                u, early = jax.vmap(lambda *a: combine(apply, *a))(
                    eps, alphas, betas, coef, coef_early, norms)
                return u, change_of(u, early, alphas.shape[-1])

            fns["steps"] = jax.jit(steps)

            def from_basis(basis, coef, coef_early, norms):
                # the same from the stored Lanczos vectors (one pass, no product)
                u = norms[:, None] * jnp.einsum("bkd,bk->bd", basis, coef)
                early = norms[:, None] * jnp.einsum("bkd,bk->bd", basis, coef_early)
                return u, change_of(u, early, coef.shape[-1])

            fns["from_basis"] = jax.jit(from_basis)

            def draw(z, u, data):
                return jax.vmap(lambda dz: to_sites(z + dz, data))(u)

            def control(z, u, data):
                # the control variate y = u * (H u) - 1 of the variances (mean exactly 0)
                return u * jax.vmap(hvp(z, data))(u) - 1.0

            fns["control"] = jax.jit(control)

            def covariance(z, columns, tol, data):
                apply = hvp(z, data)
                maxiter = 10 * layout.dimension
                return jax.vmap(lambda c: solve(apply, c, tol, maxiter))(columns)

            fns["covariance"] = jax.jit(covariance)
        fns["draw"] = jax.jit(draw)
        return fns

    @staticmethod
    def _extras_fn(objective: Any, dense: bool = True, steps: int = 100) -> Any:
        """Hessian at the mode, its Cholesky factor and the covariance, in the same jit."""
        if not dense:
            return lambda z, data: None

        def extras(z, data):
            hessian = jax.hessian(objective)(z, data)
            chol = jnp.linalg.cholesky(hessian)
            inverse_chol = jsl.solve_triangular(chol, jnp.eye(z.size, dtype=z.dtype),
                                                lower=True)
            return hessian, chol, inverse_chol.T @ inverse_chol
        return extras

    def solve(self) -> MAPFisherModel:
        """Find the MAP point, then (dense path) the Hessian, its Cholesky factor and the
        covariance, all in one jitted function (compiled once per program).

        Raises
        ------
        ConvergenceError
            If the Hessian is not positive definite at the MAP point (dense path; the
            matrix-free path finds out when drawing).
        """
        return super().solve()

    def _after_fit(self, extras: Any) -> None:
        self.lanczos_steps_used, self._calibration, self._settled = None, None, {}
        if not self.dense:
            if self._checking() and self.dimension:
                self._check_curvature()
            return
        hessian, chol, covariance = extras
        if not np.all(np.isfinite(to_host(chol))):
            diagonal = to_host(hessian).diagonal()
            bad = [name for name, sl in self._layout.slices().items()
                   if np.any(diagonal[sl] <= 0)]
            self._solved = False
            raise ConvergenceError(
                "MAPFisherModel: the Hessian of the negative log-density at the MAP point is "
                "not positive definite, so the posterior has no Gaussian approximation there"
                + (f" (flat or curved the wrong way along {bad})" if bad else "")
                + ". A variable with NoDistribution and no data, or a mode on a ridge, "
                "causes this; give data or a proper prior"
            )
        covariance = to_host(covariance)
        spread = np.sqrt(np.maximum(covariance.diagonal(), 0.0))
        wide = [site.label for site in self.program.latent_sites
                if not unbounded(site.distribution, site.spec.constraint)
                and np.any(spread[self._layout.slices()[site.name]] > MAX_LOG_SPREAD)]
        if wide:
            self._solved = False
            raise ConvergenceError(
                f"MAPFisherModel: the Laplace approximation of {', '.join(wide)} is not valid: "
                f"its standard deviation in unconstrained (log or logit) coordinates exceeds "
                f"{MAX_LOG_SPREAD:g}, so its draws would range over factors of e^{MAX_LOG_SPREAD:g}"
                " and beyond (0 and inf in floating point). The mode lies on the boundary of "
                "the support (a collapsing scale, typical of hierarchical models). Use "
                "MCMCModel or ADVIModel, or give the variable a prior that vanishes at the "
                "boundary"
            )
        self._chol, self._covariance = chol, covariance
        if self._checking():
            self._check_fit()

    def _checking(self) -> bool:
        return self.check is True or (self.check == "auto" and self.n_data <= CHECK_MAX_DATA)

    def _check_fit(self) -> None:
        """Importance sampling from the Laplace approximation towards the posterior (see
        :mod:`bayesgraph.core.model._importance`); an ApproximationWarning when a variable's
        weighted mean moves more than SHIFT_LIMIT sds or its sd by more than SD_LIMIT."""
        eps = self._rng.standard_normal((CHECK_DRAWS, self.dimension))
        with self._precision():
            z0, chol = to_host(self._z), to_host(self._chol)
            z = z0 + scipy.linalg.solve_triangular(chol.T, eps.T, lower=False).T
            chunk = chunk_size(CHECK_DRAWS, max(1, self.n_data) * 16)
            log_p = np.concatenate([
                to_host(self._fns["logp_batch"](jnp.asarray(z[i:i + chunk]), self._data))
                for i in range(0, CHECK_DRAWS, chunk)])
        log_q = -0.5 * np.sum(eps**2, axis=1)
        result = importance.check(z, log_p - log_q, self.program.latent_sites,
                                  self._layout.slices(), SHIFT_LIMIT, SD_LIMIT)
        self.pareto_k, self.importance_ess = result.pareto_k, result.ess
        if result.failed:
            importance.warn(type(self).__name__, result, CHECK_DRAWS,
                            "ADVIModel(guide='full-rank') or ")
        self._check_curvature()

    def _check_curvature(self) -> None:
        """The check that scales (:mod:`bayesgraph.core.model._curvature`): is the Laplace
        approximation the best Gaussian (as it is for a Gaussian posterior)? Stored in
        ``self.curvature``; warns beyond VARIANCE_FACTOR and CURVATURE_SHIFT."""
        if not self.dimension:
            return
        z = to_host(self._z)
        if self.dense:
            chol, cov = to_host(self._chol), to_host(self._covariance)
            sqrt_cov = lambda e: scipy.linalg.solve_triangular(  # noqa: E731
                chol.T, e.T, lower=False).T
            apply, variances = (lambda v: v @ cov), cov.diagonal()
        else:
            sqrt_cov, variances = self._flat_draws, None

            def apply(v):
                columns = jnp.asarray(v, self._z.dtype)
                return to_host(self._fns["covariance"](self._z, columns, self.cg_tolerance,
                                                          self._data))
        with self._precision():
            found = None
            if not self.dense:  # a Hessian constant over the check's points: no CG per probe
                found = curvature.evaluate_constant(
                    self._fns["constancy"], z, sqrt_cov, lambda b: apply(b[None])[0],
                    self.program.latent_sites, self._layout.slices(), self._data, self._rng)
            self.curvature = found or curvature.evaluate(
                self._fns["curvature"], z, sqrt_cov, apply, self.program.latent_sites,
                self._layout.slices(), self._data, self._rng, variances)
        off = self.curvature.off(VARIANCE_FACTOR, CURVATURE_SHIFT)
        if off:
            curvature.warn(type(self).__name__, off, VARIANCE_FACTOR, CURVATURE_SHIFT,
                           "ADVIModel(guide='full-rank') or ")

    def _flat_draws(self, eps: np.ndarray, tol: float | None = None) -> np.ndarray:
        """``H^{-1/2} eps`` (rows) by the matrix-free path's Lanczos method to relative
        accuracy ``tol`` (default :func:`lanczos_tolerance` of the number of rows; NaN where
        the Hessian is not positive definite)."""
        chunk = self._chunk()
        tol = lanczos_tolerance(eps.shape[0]) if tol is None else tol
        pieces = []
        for start in range(0, eps.shape[0], chunk):
            rows = min(chunk, eps.shape[0] - start)
            padded = np.zeros((chunk, self.dimension))
            padded[:rows] = eps[start:start + rows]
            u, _ = self._flat_chunk(jnp.asarray(padded, self._z.dtype), rows, tol)
            if u is None:
                return np.full(eps.shape, np.nan)
            pieces.append(to_host(u)[:rows])
        return np.concatenate(pieces)

    def _flat_chunk(self, eps: Any, rows: int, tol: float) -> tuple[Any, float]:
        """``H^{-1/2} eps`` for a chunk of right-hand sides to relative accuracy ``tol``
        (device array; ``None`` where the Lanczos method met a non-positive curvature) and
        how much it changed over the last quarter of the Lanczos steps. The Lanczos vectors
        are kept (one pass of products) when they fit in :data:`BASIS_VALUES` values, else
        regenerated (two passes, the second one only as long as ``tol`` needs)."""
        dtype = self._z.dtype
        k = self._steps_for(tol) or self._full_steps()
        keep = eps.shape[0] * k * self.dimension <= BASIS_VALUES
        alphas, betas, norms, basis = self._lanczos(eps, rows, keep, k)
        j = self._steps_for(tol) or k  # the first chunk calibrates: fewer steps may do
        self.lanczos_steps_used = j
        if j < k:
            alphas, betas = alphas[:, :j], betas[:, :j]
            basis = None if basis is None else basis[:, :j]
        coef, early, smallest = self._coefficients(alphas, betas, rows)
        if not smallest > 0:
            return None, 0.0
        coef, early = jnp.asarray(coef, dtype), jnp.asarray(early, dtype)
        if keep:
            u, change = self._fns["from_basis"](basis, coef, early, norms)
        else:
            u, change = self._fns["steps"](self._z, eps, alphas, betas, coef, early, norms,
                                           self._data)
        return u, float(change)

    def _chunk(self) -> int:
        """Draws per vectorised Lanczos run (see :data:`SMALL_CHUNK_DIMENSION`)."""
        return _CHUNK if self.dimension < SMALL_CHUNK_DIMENSION else _SMALL_CHUNK

    @staticmethod
    def _coefficients(alphas: Any, betas: Any, rows: int) -> tuple[np.ndarray, np.ndarray, float]:
        """:func:`coefficients` of the leading ``rows`` rows, zero for the padding rows (a
        zero right-hand side has no Krylov space: its zero tridiagonal made the smallest
        Ritz value 0, which read as an indefinite Hessian)."""
        a, b = to_host(alphas), to_host(betas)
        coef, early = np.zeros(a.shape), np.zeros(a.shape)
        coef[:rows], early[:rows], smallest = coefficients(a[:rows], b[:rows])
        return coef, early, smallest

    def _full_steps(self) -> int:
        """The calibrating chunk's Lanczos steps: ``lanczos_steps``, at most the dimension."""
        return max(1, min(self.lanczos_steps, self.dimension))

    def _steps_for(self, tol: float) -> int | None:
        """The fewest Lanczos steps within ``tol`` of the ``lanczos_steps`` result on every
        draw of the calibrating chunk (``None`` before it ran). The Krylov error depends on
        the spectrum of ``H``, not on the Gaussian right-hand side, so one chunk calibrates
        every later one, for every tolerance (cached)."""
        if self._calibration is None:
            return None
        if tol not in self._settled:
            self._settled[tol] = settled_steps(*self._calibration, tol)
        return self._settled[tol]

    def _lanczos(self, eps: Any, rows: int, keep: bool, k: int) -> tuple[Any, Any, Any, Any]:
        """``k`` steps of the Lanczos tridiagonals of a chunk of right-hand sides (and, with
        ``keep``, the Lanczos vectors). The first chunk after solve() (``lanczos_steps``
        steps) becomes the calibration of :meth:`_steps_for`. ``rows``: the leading
        rows of ``eps`` that are draws (the rest is zero padding, which has no Krylov
        space)."""
        first = self._calibration is None
        out = self._fns["lanczos"](self._z, eps, self._data, k=k, basis=keep)
        alphas, betas, norms, basis = out if keep else (*out, None)
        if first:
            a, b = to_host(alphas)[:rows], to_host(betas)[:rows]
            if np.all(np.isfinite(a)) and np.all(np.isfinite(b)):
                self._calibration = (a, b)
        return alphas, betas, norms, basis

    # -- draws ------------------------------------------------------------------------------
    def _draw_sites(self, n_samples: int) -> dict[str, np.ndarray]:
        key = self._next_key()
        with self._precision():
            if self.dense:
                keys = jax.random.split(key, n_samples)
                draws = self._fns["draw"](self._z, self._chol, keys, self._data)
                return {k: to_host(v) for k, v in draws.items()}
            return self._draw_matrix_free(key, n_samples)

    def _matrix_free_chunks(self, key: Any, n_samples: int) -> Any:
        """Successive chunks of draws ``u = H^{-1/2} eps`` (device arrays) and the number of
        draws of each chunk that count; warns after the last chunk when the draws had not
        settled over their Lanczos steps."""
        worst = 0.0
        chunk, tol = self._chunk(), lanczos_tolerance(n_samples)
        for start in range(0, n_samples, chunk):
            key, sub = jax.random.split(key)
            eps = jax.random.normal(sub, (chunk, self.dimension), self._z.dtype)
            count = min(chunk, n_samples - start)
            u, change = self._flat_chunk(eps, count, tol)
            if u is None:
                raise ConvergenceError(
                    "MAPFisherModel: the Hessian at the MAP point is not positive definite "
                    "(the Lanczos method met a non-positive curvature), so the posterior has "
                    "no Gaussian approximation there. A variable with NoDistribution and no "
                    "data, or a mode on a ridge, causes this; give data or a proper prior")
            worst = max(worst, change)
            yield u, count
        full = self._full_steps()  # the calibration had not settled within tol at its end
        unsettled = full < self.dimension and self._steps_for(tol) == full
        if worst > settle_limit(tol) or unsettled:
            warn_user(
                f"MAPFisherModel: the matrix-free draws had not settled: they changed by a "
                f"relative {worst:.2g} over the last quarter of their Lanczos steps (at most "
                f"{self.lanczos_steps}; accuracy asked: {tol:.2g}); raise lanczos_steps for "
                "accurate draws", ConvergenceWarning, stacklevel=5)

    def _draw_matrix_free(self, key: Any, n_samples: int) -> dict[str, np.ndarray]:
        pieces = [{k: to_host(v)[:count]
                   for k, v in self._fns["draw"](self._z, u, self._data).items()}
                  for u, count in self._matrix_free_chunks(key, n_samples)]
        return {k: np.concatenate([p[k] for p in pieces]) for k in pieces[0]}

    def _flat_variances(self, n_samples: int) -> np.ndarray:
        """``diag(H^{-1})`` over ``n_samples`` matrix-free draws ``u``: the mean of
        ``u_i^2 - c_i y_i`` with the control variate ``y_i = u_i (H u)_i - 1`` (mean exactly
        0) and ``c_i`` cross-fitted: estimated on the other folds (draw ``k`` in fold
        ``k % VARIANCE_FOLDS``), so that it is independent of the draws it multiplies and the
        estimate is unbiased (module docstring)."""
        self._require_solved()
        folds = max(1, min(VARIANCE_FOLDS, n_samples))
        d = self.dimension
        sums = {k: np.zeros((folds, d)) for k in ("x", "y", "xy", "yy")}
        drawn = 0
        with self._precision():
            for u, count in self._matrix_free_chunks(self._next_key(), n_samples):
                y = to_host(self._fns["control"](self._z, u, self._data), np.float64)[:count]
                u = to_host(u, np.float64)[:count]
                x = u * u
                for name, value in (("x", x), ("y", y), ("xy", x * y), ("yy", y * y)):
                    for row in range(count):
                        sums[name][(drawn + row) % folds] += value[row]
                drawn += count
        rest = {k: v.sum(axis=0) - v for k, v in sums.items()}  # each fold's complement
        m = (n_samples - np.bincount(np.arange(n_samples) % folds, minlength=folds))[:, None]
        # the least-squares slope of x on y over the complement (centred: exact where x is
        # an affine function of y, as for a coordinate independent of the others)
        with np.errstate(invalid="ignore", divide="ignore"):
            m = np.maximum(m, 1)
            cross = rest["xy"] - rest["x"] * rest["y"] / m
            spread = rest["yy"] - rest["y"] ** 2 / m
            c = np.where(spread > 0, cross / spread, 0.0)
        return np.sum(sums["x"] - c * sums["y"], axis=0) / n_samples

    # -- moments ----------------------------------------------------------------------------
    def _exact(self, name: str) -> bool:
        var = self.spec.variable(name)
        return var.role == "observed" or (self._unbounded(name) and self.dense)

    def _unbounded(self, name: str) -> bool:
        """Whether the Laplace Gaussian of ``name`` is one in the variable's own values."""
        group, _ = self.program.locate(name)
        return unbounded(group.distribution, group.constraint)

    def _columns(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """Flat entries of a variable that are unobserved, and their columns in the layout."""
        site = self.program.site_of(name)
        if site is None or self.spec.variable(name).role == "observed":
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        start = self._layout.slices()[site.name].start
        _, member = self.grouped.locate(name)
        if site.partial:
            where, positions = self._member_slices[name]
            return to_host(positions), start + np.arange(where.start, where.stop)
        var = self.spec.variable(name)
        size = int(np.prod(var.full_shape(self.n_data), dtype=np.int64))
        local = int(np.prod(var.full_shape(self._n_rows), dtype=np.int64))  # rows answered
        first = self.rows.start * (size // max(self.n_data, 1)) if var.dynamic else 0
        return np.arange(local), start + member * size + first + np.arange(local)

    def _variance_of(self, name: str, diagonal: np.ndarray) -> np.ndarray:
        full = np.zeros(self.spec.variable(name).full_shape(self._n_rows))
        rows, columns = self._columns(name)
        full.reshape(-1)[rows] = diagonal[columns]
        return full

    def _moments(self, names, n_samples):
        self._require_solved()
        exact = [n for n in names if self._exact(n)]
        sampled = [n for n in names if n not in exact]
        means = self._point(exact) if exact else {}
        diagonal = np.diag(self._covariance) if self.dense else np.zeros(0)
        variances = {n: self._variance_of(n, diagonal) for n in exact} if exact else {}
        if not self.dense:  # real support: the Gaussian's own diagonal, estimated
            flat = [n for n in sampled if self._unbounded(n)]
            if flat:
                diagonal = self._flat_variances(n_samples)
                means.update(self._point(flat))
                variances.update({n: self._variance_of(n, diagonal) for n in flat})
                sampled = [n for n in sampled if n not in means]
        if sampled:
            mc_means, mc_vars = super(MAPModel, self)._moments(sampled, n_samples)
            if not self.dense:  # real-support means are the MAP point itself
                point = self._point([n for n in sampled if self._unbounded(n)])
                mc_means.update(point)
            means.update(mc_means)
            variances.update(mc_vars)
        return means, variances

    def _means(self, names, n_samples):
        self._require_solved()
        point = [n for n in names if self._exact(n) or self._unbounded(n)]
        means = self._point(point) if point else {}
        rest = [n for n in names if n not in means]
        if rest:
            means.update(self._moments(rest, n_samples)[0])
        return means

    def get_covariance(self, variables: list) -> np.ndarray:
        """Joint posterior covariance of the flattened values of ``variables`` (exact).

        Only variables with real support (Normal, Laplace, NoDistribution) or complete data
        are allowed; observed entries have zero (co)variance. The order is the order of
        ``variables``, each flattened row-major over ``(n_data, *shape)``. In the
        matrix-free path the columns come from conjugate-gradient solves, one per unobserved
        entry asked for.

        Examples
        --------
        >>> from bayesgraph.core import Graph, Variable
        >>> from bayesgraph.core.model import MAPFisherModel
        >>> with Graph("g") as g:
        ...     a = Variable("a", mean=0, variance=1)
        ...     b = Variable("b", mean=a, variance=1)
        >>> MAPFisherModel(g).solve().get_covariance([g.a, g.b]).round(8).tolist()
        [[1.0, 1.0], [1.0, 2.0]]
        """
        self._require_solved()
        names = [str(self._resolve(v)) for v in variables]
        rows_list, column_list, sizes = [], [], []
        offset = 0
        for name in names:
            var = self.spec.variable(name)
            if not (var.role == "observed"
                    or self._unbounded(name)):
                raise OptionError(
                    f"get_covariance needs variables with real support or complete data; "
                    f"{name!r} is {var.distribution}"
                )
            rows, columns = self._columns(name)
            rows_list.append(offset + rows)
            column_list.append(columns)
            size = int(np.prod(var.full_shape(self._n_rows), dtype=np.int64))
            sizes.append(size)
            offset += size
        rows = np.concatenate(rows_list)
        columns = np.concatenate(column_list)
        result = np.zeros((offset, offset))
        if columns.size == 0:
            return result
        if self.dense:
            block = self._covariance[np.ix_(columns, columns)]
        else:
            unit = np.zeros((columns.size, self.dimension))
            unit[np.arange(columns.size), columns] = 1.0
            with self._precision():
                solved = to_host(self._fns["covariance"](
                    self._z, jnp.asarray(unit, self._z.dtype), self.cg_tolerance, self._data))
            block = solved[:, columns]
            block = (block + block.T) / 2
        result[np.ix_(rows, rows)] = block
        return result
