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
  (``lanczos_steps``, default 100, for the first 16 draws after each solve; later draws take
  the fewest steps within :data:`LANCZOS_TOLERANCE` of those on every one of the first 16;
  a :class:`ConvergenceWarning` says when the draws have not settled); means of
  real-support variables are exact (the MAP point); variances are Monte-Carlo estimates
  over ``n_samples`` draws; :meth:`get_covariance` solves
  ``H x = e_i`` by conjugate gradients for the requested entries (exact to
  ``cg_tolerance``).

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
#: draws computed together by the matrix-free path (vectorised Lanczos runs)
_CHUNK = 16
#: the matrix-free path's draws after the first chunk use the fewest Lanczos steps whose
#: result is within this relative distance of the ``lanczos_steps`` one on every draw of the
#: first chunk (100 times below the 1e-4 that warns; Monte-Carlo errors of variances from 100
#: draws are 14 %)
LANCZOS_TOLERANCE = 1e-6


class MAPFisherModel(MAPModel):
    """MAP point plus a Gaussian (Laplace/Fisher) covariance around it.

    Parameters
    ----------
    max_dense_dimension : int
        Largest number of unobserved scalars for which the dense Hessian is formed (its
        memory grows as the square); above it the matrix-free path runs (module docstring).
    lanczos_steps : int
        Lanczos steps per draw in the matrix-free path: all of them for the first chunk of
        draws after each solve, at most that many (``lanczos_steps_used``, the fewest within
        :data:`LANCZOS_TOLERANCE` of the full result on that chunk) for the later ones.
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
        #: matrix-free path: the Lanczos steps of the draws after the first chunk, set by the
        #: first chunk after each solve() (:data:`LANCZOS_TOLERANCE`)
        self.lanczos_steps_used: int | None = None
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
        if dense:
            def draw(z, chol, keys, data):
                def one(key):
                    eps = jax.random.normal(key, z.shape, z.dtype)
                    return to_sites(z + jsl.solve_triangular(chol.T, eps, lower=False), data)
                return jax.vmap(one)(keys)
        else:
            def lanczos(z, eps, data, k=k):
                apply = hvp(z, data)
                return jax.vmap(lambda e: tridiagonal(apply, e, k))(eps)

            def draw(z, eps, alphas, betas, coef, coef_early, norms, data):
                apply = hvp(z, data)
                steps_, early = jax.vmap(lambda *a: combine(apply, *a))(
                    eps, alphas, betas, coef, coef_early, norms)
                change = jnp.max(jnp.linalg.norm(steps_ - early, axis=1)
                                 / jnp.maximum(jnp.linalg.norm(steps_, axis=1), 1e-300))
                if alphas.shape[-1] == layout.dimension:  # the Krylov space is everything
                    change = jnp.zeros_like(change)
                return jax.vmap(lambda dz: to_sites(z + dz, data))(steps_), change

            fns["lanczos"] = jax.jit(lanczos, static_argnames="k")

            def steps(z, eps, alphas, betas, coef, coef_early, norms, data):
                apply = hvp(z, data)
                return jax.vmap(lambda *a: combine(apply, *a)[0])(
                    eps, alphas, betas, coef, coef_early, norms)

            fns["steps"] = jax.jit(steps)

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
        self.lanczos_steps_used = None
        if not self.dense:
            if self._checking() and self.dimension:
                self._check_curvature()
            return
        hessian, chol, covariance = extras
        if not np.all(np.isfinite(np.asarray(chol))):
            diagonal = np.asarray(hessian).diagonal()
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
        covariance = np.asarray(covariance)
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
            z0, chol = np.asarray(self._z), np.asarray(self._chol)
            z = z0 + scipy.linalg.solve_triangular(chol.T, eps.T, lower=False).T
            chunk = chunk_size(CHECK_DRAWS, max(1, self.n_data) * 16)
            log_p = np.concatenate([
                np.asarray(self._fns["logp_batch"](jnp.asarray(z[i:i + chunk]), self._data))
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
        z = np.asarray(self._z)
        if self.dense:
            chol, cov = np.asarray(self._chol), np.asarray(self._covariance)
            sqrt_cov = lambda e: scipy.linalg.solve_triangular(  # noqa: E731
                chol.T, e.T, lower=False).T
            apply, variances = (lambda v: v @ cov), cov.diagonal()
        else:
            sqrt_cov, variances = self._flat_draws, None

            def apply(v):
                columns = jnp.asarray(v, self._z.dtype)
                return np.asarray(self._fns["covariance"](self._z, columns, self.cg_tolerance,
                                                          self._data))
        with self._precision():
            self.curvature = curvature.evaluate(
                self._fns["curvature"], z, sqrt_cov, apply, self.program.latent_sites,
                self._layout.slices(), self._data, self._rng, variances)
        off = self.curvature.off(VARIANCE_FACTOR, CURVATURE_SHIFT)
        if off:
            curvature.warn(type(self).__name__, off, VARIANCE_FACTOR, CURVATURE_SHIFT,
                           "ADVIModel(guide='full-rank') or ")

    def _flat_draws(self, eps: np.ndarray) -> np.ndarray:
        """``H^{-1/2} eps`` (rows) by the matrix-free path's Lanczos method (NaN where the
        Hessian is not positive definite)."""
        dtype = self._z.dtype
        padded = np.zeros((_CHUNK, self.dimension))
        padded[:eps.shape[0]] = eps
        padded = jnp.asarray(padded, dtype)
        alphas, betas, norms = self._lanczos(padded, eps.shape[0])
        coef, early, smallest = coefficients(np.asarray(alphas), np.asarray(betas))
        if not smallest > 0:
            return np.full(eps.shape, np.nan)
        out = self._fns["steps"](self._z, padded, alphas, betas, jnp.asarray(coef, dtype),
                                 jnp.asarray(early, dtype), norms, self._data)
        return np.asarray(out)[:eps.shape[0]]

    def _lanczos(self, eps: Any, rows: int = _CHUNK) -> tuple[Any, Any, Any]:
        """The Lanczos tridiagonals of a chunk of right-hand sides: ``lanczos_steps`` steps
        for the first chunk after solve(), which also sets ``lanczos_steps_used`` (the fewest
        steps within :data:`LANCZOS_TOLERANCE` of it on every draw of that chunk; the Krylov
        error depends on the spectrum of ``H``, not on the Gaussian right-hand side), and
        that many for every later chunk. ``rows``: the leading rows of ``eps`` that are
        draws (the rest is zero padding, which has no Krylov space)."""
        if self.lanczos_steps_used is None:
            alphas, betas, norms = self._fns["lanczos"](self._z, eps, self._data)
            a, b = np.asarray(alphas)[:rows], np.asarray(betas)[:rows]
            if np.all(np.isfinite(a)) and np.all(np.isfinite(b)):
                self.lanczos_steps_used = settled_steps(a, b, LANCZOS_TOLERANCE)
            return alphas, betas, norms
        k = max(1, min(self.lanczos_steps_used, self.lanczos_steps, self.dimension))
        if k == max(1, min(self.lanczos_steps, self.dimension)):  # the compiled default
            return self._fns["lanczos"](self._z, eps, self._data)
        return self._fns["lanczos"](self._z, eps, self._data, k=k)

    # -- draws ------------------------------------------------------------------------------
    def _draw_sites(self, n_samples: int) -> dict[str, np.ndarray]:
        key = self._next_key()
        with self._precision():
            if self.dense:
                keys = jax.random.split(key, n_samples)
                draws = self._fns["draw"](self._z, self._chol, keys, self._data)
                return {k: np.asarray(v) for k, v in draws.items()}
            return self._draw_matrix_free(key, n_samples)

    def _draw_matrix_free(self, key: Any, n_samples: int) -> dict[str, np.ndarray]:
        pieces: list[dict[str, np.ndarray]] = []
        worst = 0.0
        for start in range(0, n_samples, _CHUNK):
            key, sub = jax.random.split(key)
            eps = jax.random.normal(sub, (_CHUNK, self.dimension), self._z.dtype)
            alphas, betas, norms = self._lanczos(eps)
            coef, early, smallest = coefficients(np.asarray(alphas), np.asarray(betas))
            if not smallest > 0:
                raise ConvergenceError(
                    "MAPFisherModel: the Hessian at the MAP point is not positive definite "
                    "(the Lanczos method met a non-positive curvature), so the posterior has "
                    "no Gaussian approximation there. A variable with NoDistribution and no "
                    "data, or a mode on a ridge, causes this; give data or a proper prior")
            dtype = self._z.dtype
            sites, change = self._fns["draw"](self._z, eps, alphas, betas,
                                              jnp.asarray(coef, dtype), jnp.asarray(early, dtype),
                                              norms, self._data)
            worst = max(worst, float(change))
            count = min(_CHUNK, n_samples - start)
            pieces.append({k: np.asarray(v)[:count] for k, v in sites.items()})
        if worst > 1e-4:
            warn_user(
                f"MAPFisherModel: the matrix-free draws changed by a relative {worst:.2g} over "
                f"the last quarter of their Lanczos steps (at most {self.lanczos_steps}); "
                "raise lanczos_steps for accurate draws", ConvergenceWarning, stacklevel=4)
        return {k: np.concatenate([p[k] for p in pieces]) for k in pieces[0]}

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
            return np.asarray(positions), start + np.arange(where.start, where.stop)
        size = int(np.prod(self.spec.variable(name).full_shape(self.n_data), dtype=np.int64))
        return np.arange(size), start + member * size + np.arange(size)

    def _variance_of(self, name: str) -> np.ndarray:
        full = np.zeros(self.spec.variable(name).full_shape(self.n_data))
        rows, columns = self._columns(name)
        full.reshape(-1)[rows] = np.diag(self._covariance)[columns]
        return full

    def _moments(self, names, n_samples):
        self._require_solved()
        exact = [n for n in names if self._exact(n)]
        sampled = [n for n in names if n not in exact]
        means = self._point(exact) if exact else {}
        variances = {n: self._variance_of(n) for n in exact}
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
            size = int(np.prod(var.full_shape(self.n_data), dtype=np.int64))
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
                solved = np.asarray(self._fns["covariance"](
                    self._z, jnp.asarray(unit, self._z.dtype), self.cg_tolerance, self._data))
            block = solved[:, columns]
            block = (block + block.T) / 2
        result[np.ix_(rows, rows)] = block
        return result
