"""MGVIModel: Metric Gaussian Variational Inference (Knollmueller & Ensslin 2019).

MGVI (arXiv 1901.11033) approximates the posterior by a Gaussian in *standardised*
coordinates ``xi``, in which the prior of every latent value is a standard normal (see
:mod:`bayesgraph.core.compiler.standardise`: ``x = mean + sqrt(variance) * xi`` for a
Normal variable, the inverse-CDF transform of a standard normal for LogNormal, Laplace,
Exponential and Uniform variables). The approximation is ``N(xi_bar, M^{-1})`` with the
*Fisher metric*

    M = I + J^T F J,

``F`` the Fisher information of the likelihood of the observed values with respect to
their distribution parameters and ``J`` the Jacobian of those parameters with respect to
``xi``. Because the map ``xi -> x`` may be non-linear, the samples of the variables
themselves need not be Gaussian.

Algorithm (``n_iterations`` outer iterations, each in one jitted function):

1. at the current ``xi_bar`` form ``M`` (dense, with its Cholesky factor ``L``), draw
   ``n_samples`` residuals ``delta = L^{-T} eps ~ N(0, M^{-1})`` and, with
   ``sample_symmetry=True``, their mirror images ``-delta`` (antithetic pairs);
2. minimise the sampled KL divergence, ``mean_i H(xi_bar + delta_i)`` with ``H`` the
   negative log joint density in ``xi``, over ``xi_bar`` with L-BFGS (or Adam), keeping
   the ``delta_i`` fixed.

With ``sample_caching=True`` the standard-normal noise ``eps`` is drawn once and reused in
every iteration (the samples change only through the metric), which makes the iterations
converge smoothly; with ``False`` fresh noise is drawn each time. The final approximation
uses the metric at the final ``xi_bar``.

For a linear-Gaussian graph the log joint is quadratic in ``xi`` and ``M`` is its Hessian:
antithetic pairs make the sampled KL's minimiser exactly the posterior mean, and MGVI is
then the exact posterior (mean and covariance).

Large models: above ``max_dense_dimension`` unobserved scalars the metric is never formed;
samples are drawn as ``delta = M^{-1} (eps_1 + J_s^T eps_2)`` (which has covariance
``M^{-1}``) with conjugate gradients on metric-vector products. With
``fisher_diagonal_preconditioning=True`` CG is preconditioned by a stochastic (Hutchinson)
estimate of the metric's diagonal.

Moments: where the map from ``xi`` to a variable is affine (checked numerically: the second
differences ``x(xi_bar + delta) + x(xi_bar - delta) - 2 x(xi_bar)`` vanish, to
``sqrt(eps)`` relative, along random directions drawn from the approximation), means and
variances are exact: ``x(xi_bar)`` and the diagonal of ``A M^{-1} A^T`` with ``A`` the
Jacobian of ``x``. Other variables (and all in the CG mode) get Monte-Carlo moments over
antithetic samples of the approximation.

Implementation choice: NIFTy.re (package ``nifty``/``nifty8``, installable from PyPI)
implements MGVI in JAX, but it would be a heavy extra dependency with its own model and
likelihood abstractions to bridge; the algorithm above is a few dozen lines on top of the
compiled program, so bayesgraph carries its own.

Examples
--------
>>> from bayesgraph.core import Graph, Variable
>>> from bayesgraph.core.model.mgvi import MGVIModel
>>> with Graph("g") as g:
...     z = Variable("z", mean=0, variance=1)
...     x = Variable("x", mean=z, variance=1)
>>> model = MGVIModel(g, data={g.x: [2.0]}, seed=0).solve()
>>> model.get_means(g.z).round(8).tolist(), model.get_variances(g.z).round(8).tolist()
([1.0], [0.5])
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

import jax
import jax.numpy as jnp
import jax.scipy.linalg as jsl
import numpy as np
import scipy.linalg
from jax.scipy.sparse.linalg import cg

from bayesgraph._warn import warn_user
from bayesgraph.core.compiler.distributions import TABLE
from bayesgraph.core.compiler.standardise import (
    SourceRecorder,
    StandardEmitter,
    standardisable,
)
from bayesgraph.core.model import _curvature as curvature
from bayesgraph.core.model._common import Layout, check_int, override, site_values, tolerance_for
from bayesgraph.core.model._hosts import to_host
from bayesgraph.core.model._optimize import SOLVERS, make_solver
from bayesgraph.core.model.base import ModelBase
from bayesgraph.core.scope import NamedObject
from bayesgraph.exceptions import (
    ConvergenceError,
    ConvergenceWarning,
    DistributionError,
    OptionError,
)

_HUTCHINSON_PROBES = 8
#: the largest move (posterior sds) of the answer that counts as settled
SETTLED = 0.1
#: the curvature check's limits (:mod:`._curvature`): MGVI's variances (in standardised
#: coordinates) within this factor of the best Gaussian's, its means within CURVATURE_SHIFT
#: sds of one Newton step; exact on linear-Gaussian graphs
VARIANCE_FACTOR = 1.5
CURVATURE_SHIFT = 0.5
#: keys of Dirac groups among site names (a global name never starts with '/')
_DIRAC = "/dirac/"


def _dirac_key(group: int) -> str:
    return f"{_DIRAC}{group}"


class MGVIModel(ModelBase):
    """Metric Gaussian Variational Inference in standardised coordinates.

    Parameters
    ----------
    graph, data, compiler, copy_graph, model_graph_options, seed, dtype
        See :class:`~bayesgraph.core.model.base.ModelBase`.
    initial_values : dict, optional
        ``{variable: starting value}`` (the variable's own values); converted to
        standardised coordinates given the starting values of its parents.
    initial_source_values : dict, optional
        ``{variable: starting standardised coordinates}``, e.g. from an earlier fit's
        :attr:`source_means`. Keys that name no unobserved variable are ignored.
    random_initial_value_scale : float
        Standard deviation of a random jitter added to the start (standardised scale).
    sample_caching : bool
        Reuse the same standard-normal noise for the samples of every iteration.
    sample_symmetry : bool
        Use antithetic pairs ``xi_bar +- delta`` (``2 n_samples`` samples).
    fisher_diagonal_preconditioning : bool
        Precondition conjugate gradients by the metric's estimated diagonal (only used above
        ``max_dense_dimension``).
    solver : {'L-BFGS', 'Adam'}
        Minimiser of the sampled KL.
    n_samples : int
        Independent residual draws per iteration (doubled by ``sample_symmetry``).
    n_iterations : int
        Outer iterations (new metric and samples each).
    max_iterations, tolerance, learning_rate
        Of each inner minimisation (see :class:`~bayesgraph.core.model.MAPModel`); the
        default tolerance is 1e-10 in float64, 1e-5 in float32.
    max_dense_dimension : int
        Largest number of unobserved scalars for which the metric is formed densely; above
        it, samples come from conjugate gradients.
    cg_tolerance, cg_max_iterations
        Relative residual and iteration limit of conjugate gradients (default residual
        1e-8 in float64, 1e-5 in float32).
    check : bool
        After :meth:`solve`, run the curvature check (:mod:`._curvature`, see
        docs/trust.md) and warn (ApproximationWarning) where the approximation is not the
        best Gaussian in standardised coordinates.

    Attributes
    ----------
    source_means : dict
        ``{variable global name: xi_bar}`` (after :meth:`solve`).
    optimisation : list of dict
        Objective, gradient norm and iterations of each outer iteration.

    Examples
    --------
    >>> import numpy as np
    >>> from bayesgraph.core import Graph, StaticVariable, Variable
    >>> from bayesgraph.core.model.mgvi import MGVIModel
    >>> with Graph("g") as g:
    ...     a = StaticVariable("a", mean=0, variance=1)
    ...     y = Variable("y", mean=a, variance=1)
    >>> model = MGVIModel(g, data={g.y: np.ones(3)}, seed=1).solve()
    >>> float(model.get_means(g.a).round(8)), float(model.get_variances(g.a).round(8))
    (0.75, 0.25)
    """

    shards_data = True

    def __init__(self, graph: NamedObject, data: Mapping | None = None, compiler: Any = None,
                 initial_values: Mapping | None = None,
                 initial_source_values: Mapping | None = None,
                 random_initial_value_scale: float = 0.0001, sample_caching: bool = True,
                 sample_symmetry: bool = True, fisher_diagonal_preconditioning: bool = False,
                 solver: str = "L-BFGS", copy_graph: bool = True,
                 model_graph_options: Mapping | None = None, *, n_samples: int = 5,
                 n_iterations: int = 5, max_iterations: int = 1000, tolerance: float | None = None,
                 learning_rate: float = 1e-2, max_dense_dimension: int = 2000,
                 cg_tolerance: float | None = None, cg_max_iterations: int | None = None,
                 seed: int | None = None, dtype: str = "float64", grouping: bool = True,
                 check: bool = True, devices: Any = None) -> None:
        super().__init__(graph, data, compiler, copy_graph, model_graph_options, seed=seed,
                         dtype=dtype, grouping=grouping, devices=devices)
        self.check = bool(check)
        #: after solve() with the check: the curvature check's findings (see _curvature.py)
        self.curvature: curvature.Curvature | None = None
        if solver not in SOLVERS:
            raise OptionError(f"unknown solver {solver!r}; valid: {', '.join(SOLVERS)}")
        n_samples = check_int("n_samples", n_samples, 1)
        n_iterations = check_int("n_iterations", n_iterations, 1)
        for site in self.program.latent_sites:
            if not standardisable(site.distribution, site.spec.constraint):
                valid = sorted(k for k in TABLE if standardisable(k))
                constraint = site.spec.constraint
                what = (f"{site.distribution} with constraint {constraint[0]!r}" if constraint
                        else site.distribution)
                raise DistributionError(
                    f"MGVIModel has no standardised coordinates for {site.label} "
                    f"({what}); supported: {', '.join(valid)}, any of them with lower/upper "
                    "bounds, and ordered vectors only with NoDistribution. Use ADVIModel or "
                    "MCMCModel"
                )
        self.initial_values = dict(initial_values or {})
        self.initial_source_values = dict(initial_source_values or {})
        self.random_initial_value_scale = float(random_initial_value_scale)
        self.sample_caching = bool(sample_caching)
        self.sample_symmetry = bool(sample_symmetry)
        self.fisher_diagonal_preconditioning = bool(fisher_diagonal_preconditioning)
        self.solver = solver
        self.n_samples = int(n_samples)
        self.n_iterations = int(n_iterations)
        self.max_iterations = int(max_iterations)
        self.tolerance = tolerance_for("MGVI.tolerance", tolerance, dtype)
        self.learning_rate = float(learning_rate)
        self.cg_tolerance = tolerance_for("MGVI.cg_tolerance", cg_tolerance, dtype)
        self.layout = Layout.of(self.program)
        self.dimension = self.layout.dimension
        self.dense = self.dimension <= int(max_dense_dimension)
        self.cg_max_iterations = int(cg_max_iterations or max(10 * self.dimension, 100))
        self.optimisation: list[dict[str, Any]] = []
        self.source_means: dict[str, np.ndarray] = {}
        options = (self.sample_symmetry, self.dense, self.n_samples, self.cg_tolerance,
                   self.cg_max_iterations, self.fisher_diagonal_preconditioning, self.solver,
                   self.max_iterations, self.tolerance, self.learning_rate)
        self._fns = self._functions(functools.partial(self._make, self.program, options),
                                    options)

    # -- the jitted pieces ----------------------------------------------------------------
    @staticmethod
    def _make(program: Any, options: tuple[Any, ...]) -> dict[str, Any]:
        """The jitted iteration, final step, draws and start, from the program and options
        only (shared by every model with the same fingerprint)."""
        (symmetric, dense, n_samples, cg_tol, cg_max, precondition, solver, max_iterations,
         tolerance, learning_rate) = options
        layout = Layout.of(program)
        proper = {site.name: not site.improper for site in program.latent_sites}
        mask = np.concatenate([np.full(size, float(proper[name]))
                               for name, _, size in layout.entries] or [np.zeros(0)])
        deterministic = [g.index for g in program.grouped.groups
                         if g.deterministic and g.role != "observed"]

        def run(xi, data):
            emitter = StandardEmitter(layout.unravel(xi), data["missing"], data["slots"])
            return program.execute(data, emitter), emitter

        def values(xi, data):
            """The unobserved values: latent sites, and Dirac groups (keyed by index)."""
            env = run(xi, data)[0]
            return {**program.sites_of(env, data),
                    **{_dirac_key(g): env[g] for g in deterministic}}

        def sites(xi, data):
            return program.sites_of(run(xi, data)[0], data)

        def energy(xi, data):
            emitter = run(xi, data)[1]
            return -(emitter.prior + emitter.log_likelihood)

        def residual(xi, data):
            parts = run(xi, data)[1].residuals
            return jnp.concatenate(parts) if parts else jnp.zeros(0, xi.dtype)

        def prior_mask(xi):
            return jnp.asarray(mask, xi.dtype)

        def metric(xi, data):
            jac = jax.jacfwd(residual)(xi, data)
            return jnp.diag(prior_mask(xi)) + jac.T @ jac

        def metric_vector(xi, data):
            _, lin = jax.linearize(lambda z: residual(z, data), xi)
            transpose = jax.linear_transpose(lin, xi)

            def apply(v):
                return prior_mask(xi) * v + transpose(lin(v))[0]

            return apply, transpose

        def cg_deltas(xi, key, n, data):
            """``n`` draws of N(0, M^{-1}) by CG; also the worst relative CG residual."""
            apply, transpose = metric_vector(xi, data)
            n_res = jax.eval_shape(lambda z: residual(z, data), xi).shape[0]
            k1, k2, k3 = jax.random.split(key, 3)
            e1 = jax.random.normal(k1, (n, xi.size), xi.dtype)
            e2 = jax.random.normal(k2, (n, n_res), xi.dtype)
            rhs = prior_mask(xi) * e1 + jax.vmap(lambda e: transpose(e)[0])(e2)
            preconditioner = None
            if precondition:
                probes = jax.random.rademacher(k3, (_HUTCHINSON_PROBES, n_res), xi.dtype)
                diag = jnp.mean(jax.vmap(lambda e: transpose(e)[0])(probes) ** 2, axis=0)
                diag = jnp.maximum(prior_mask(xi) + diag, 1e-12)
                preconditioner = lambda v: v / diag  # noqa: E731
            solve = lambda b: cg(apply, b, tol=cg_tol, maxiter=cg_max,  # noqa: E731
                                 M=preconditioner)[0]
            deltas = jax.vmap(solve)(rhs)
            misfit = jax.vmap(apply)(deltas) - rhs
            worst = jnp.max(jnp.linalg.norm(misfit, axis=1)
                            / jnp.maximum(jnp.linalg.norm(rhs, axis=1), 1e-300))
            return deltas, worst

        def chol_deltas(chol, key, n, dtype):
            eps = jax.random.normal(key, (n, chol.shape[0]), dtype)
            return jsl.solve_triangular(chol.T, eps.T, lower=False).T

        def samples(xi, key, n, data):
            """``n`` residuals (mirrored if symmetric), the Cholesky factor, CG misfit."""
            half = (n + 1) // 2 if symmetric else n
            if dense:
                chol = jnp.linalg.cholesky(metric(xi, data))
                deltas, worst = chol_deltas(chol, key, half, xi.dtype), jnp.zeros((), xi.dtype)
            else:
                chol = jnp.zeros((0, 0), xi.dtype)
                deltas, worst = cg_deltas(xi, key, half, data)
            if symmetric:
                deltas = jnp.concatenate([deltas, -deltas])[:n]
            return deltas, chol, worst

        def kl(xi, args):
            deltas, data = args
            return jnp.mean(jax.vmap(lambda d: energy(xi + d, data))(deltas))

        minimise = make_solver(kl, solver, max_iterations, tolerance, learning_rate, jit=False)
        n_kl = 2 * n_samples if symmetric else n_samples

        def spread(xi, deltas, chol, data):
            """Posterior sds of ``xi`` and the Monte-Carlo standard error of the sampled-KL
            minimiser ``xi`` (dense mode), both per coordinate: the error is
            ``M^{-1} cov(g) M^{-1} / n`` with ``g`` the energy gradients at the samples
            (averaged over antithetic pairs, which cancels their linear part: zero for a
            linear-Gaussian graph)."""
            if not dense:
                zero = jnp.zeros_like(xi)
                return zero, zero
            grads = jax.vmap(lambda d: jax.grad(energy)(xi + d, data))(deltas)
            if symmetric:
                half = deltas.shape[0] // 2
                grads = (grads[:half] + grads[half:2 * half]) / 2.0
            centred = grads - jnp.mean(grads, axis=0)
            n = grads.shape[0]
            inverse = jsl.cho_solve((chol, True), centred.T)  # M^{-1} g, one column per g
            error = jnp.sqrt(jnp.sum(inverse ** 2, axis=1) / max(n - 1, 1) / n)
            root = jsl.solve_triangular(chol, jnp.eye(xi.size, dtype=xi.dtype), lower=True)
            sd = jnp.sqrt(jnp.sum(root ** 2, axis=0))  # sqrt(diag(M^{-1}))
            return sd, error

        def iterate(xi, key, data):
            deltas, chol, worst = samples(xi, key, n_kl, data)
            result = minimise(xi, (deltas, data))
            sd, error = spread(result.z, deltas, chol, data)
            return result, jnp.all(jnp.isfinite(chol)), worst, sd, error

        def finalise(xi, key, data):
            x0 = values(xi, data)
            if not dense:
                return x0, None, None, jnp.asarray(True)
            chol = jnp.linalg.cholesky(metric(xi, data))
            root = jsl.solve_triangular(chol.T, jnp.eye(xi.size, dtype=xi.dtype), lower=False)
            # columns of root: M^{-1} = root @ root.T
            tangents = jax.vmap(lambda col: jax.jvp(lambda z: values(z, data), (xi,),
                                                    (col,))[1])(root.T)
            variances = {k: jnp.sum(v ** 2, axis=0) for k, v in tangents.items()}
            probes = chol_deltas(chol, key, 4, xi.dtype)
            plus = jax.vmap(lambda d: values(xi + d, data))(probes)
            minus = jax.vmap(lambda d: values(xi - d, data))(probes)
            curvature = {k: jnp.max(jnp.abs(plus[k] + minus[k] - 2 * x0[k]))
                         for k in x0}
            return x0, variances, curvature, jnp.all(jnp.isfinite(chol))

        def draw(xi, key, n, data):
            deltas, _, _ = samples(xi, key, n, data)
            return jax.vmap(lambda d: sites(xi + d, data))(deltas)

        def start(overrides, sources, data):
            central = override(program.central_latents(data), overrides)
            emitter = SourceRecorder(central)
            program.execute(data, emitter)
            zeros = {name: jnp.zeros(shape, jnp.result_type(float))
                     for name, shape, _ in layout.entries}
            # the user's values where given: the standardised coordinates of those entries
            given = {name: (positions, emitter.recorded[name].reshape(-1)[positions])
                     for name, (positions, _) in overrides.items()}
            return layout.ravel(override(override(zeros, given), sources))

        def metric_solve(xi, columns, data):
            """``M^{-1} v`` for every row ``v`` (CG on metric-vector products)."""
            apply, _ = metric_vector(xi, data)
            return jax.vmap(lambda b: cg(apply, b, tol=cg_tol, maxiter=cg_max)[0])(columns)

        def check_deltas(xi, key, n, data):
            return cg_deltas(xi, key, n, data)[0]

        checks = {"curvature": curvature.make_curvature(energy)}
        if dense:
            checks["metric"] = jax.jit(metric)
        else:
            checks["metric_solve"] = jax.jit(metric_solve)
            checks["check_deltas"] = jax.jit(check_deltas, static_argnums=2)
        return {**checks, "iterate": jax.jit(iterate), "finalise": jax.jit(finalise),
                "draw": jax.jit(draw, static_argnums=2), "start": jax.jit(start),
                "energy": energy}

    # -- solve ----------------------------------------------------------------------------
    def solve(self) -> MGVIModel:
        """Run the MGVI iterations; warn if the last minimisation did not converge.

        Returns
        -------
        MGVIModel
            ``self``.

        Raises
        ------
        ConvergenceError
            If the objective became non-finite or the metric is singular (a variable with
            NoDistribution that no data constrain).
        """
        self.optimisation = []
        with self._precision():
            overrides = {k: (jnp.asarray(p), jnp.asarray(v)) for k, (p, v) in site_values(
                self, self.initial_values).items()}
            sources = {k: (jnp.asarray(p), jnp.asarray(v)) for k, (p, v) in site_values(
                self, self.initial_source_values, strict=False).items()}
            xi = self._fns['start'](overrides, sources, self._data)
            noise = self._rng.standard_normal(self.dimension) * self.random_initial_value_scale
            xi = xi + jnp.asarray(noise, xi.dtype)
            key = self._next_key()
            if self.dimension:
                for _ in range(self.n_iterations):
                    if not self.sample_caching:
                        key = self._next_key()
                    previous = xi
                    result, metric_ok, worst, sd, error = self._fns['iterate'](
                        xi, key, self._data)
                    self._record(result, bool(metric_ok), float(worst))
                    xi = result.z
                self._check_last()
                self._check_settled(to_host(previous), to_host(xi), to_host(sd),
                                    to_host(error))
            if self.dimension:
                x0, variances, curvature, metric_ok = self._fns['finalise'](xi, self._next_key(),
                                                                     self._data)
            else:
                env = self.program.values_at({}, self._data)
                x0 = {_dirac_key(g.index): env[g.index] for g in self.grouped.groups
                      if g.deterministic and g.role != "observed"}
                metric_ok = True
                variances = {k: jnp.zeros(jnp.shape(v)) for k, v in x0.items()}
                curvature = {k: 0.0 for k in x0}
            if not bool(metric_ok):
                self._raise_singular()
            self._xi = xi
            self._values_x0 = {k: to_host(v) for k, v in x0.items()}
            self._exact: dict[str, np.ndarray] = {}
            if variances is not None:
                tol = float(np.sqrt(np.finfo(xi.dtype).eps))
                for name, value in self._values_x0.items():
                    var = to_host(variances[name])
                    scale = float(np.max(np.abs(value), initial=0.0)
                                  + np.sqrt(np.max(var, initial=0.0)))
                    if float(curvature[name]) <= tol * max(scale, 1e-300):
                        self._exact[name] = var
        self.source_means = {site: to_host(v)
                             for site, v in self.layout.unravel(to_host(xi)).items()}
        self._solved = True
        if self.check and self.dimension:
            self._check_curvature()
        return self

    def _check_curvature(self) -> None:
        """The check that scales (:mod:`bayesgraph.core.model._curvature`), in the
        standardised coordinates where MGVI's Gaussian lives: is ``N(xi_bar, M^{-1})`` the
        best Gaussian (as it is for a linear-Gaussian graph, where the metric is the
        Hessian)? Stored in ``self.curvature``; warns beyond VARIANCE_FACTOR and
        CURVATURE_SHIFT."""
        xi = to_host(self._xi)
        with self._precision():
            if self.dense:
                metric = to_host(self._fns["metric"](self._xi, self._data))
                try:
                    chol = np.linalg.cholesky(metric)
                except np.linalg.LinAlgError:
                    self._raise_singular()
                inverse = np.linalg.inv(metric)
                sqrt_cov = lambda e: scipy.linalg.solve_triangular(  # noqa: E731
                    chol.T, e.T, lower=False).T
                apply, variances = (lambda v: v @ inverse), inverse.diagonal()
            else:
                variances = None

                def sqrt_cov(e):
                    return to_host(self._fns["check_deltas"](
                        self._xi, self._next_key(), e.shape[0], self._data))

                def apply(v):
                    return to_host(self._fns["metric_solve"](
                        self._xi, jnp.asarray(v, self._xi.dtype), self._data))
            self.curvature = curvature.evaluate(
                self._fns["curvature"], xi, sqrt_cov, apply, self.program.latent_sites,
                self.layout.slices(), self._data, self._rng, variances)
        off = self.curvature.off(VARIANCE_FACTOR, CURVATURE_SHIFT)
        if off:
            curvature.warn(type(self).__name__, off, VARIANCE_FACTOR, CURVATURE_SHIFT,
                           "n_iterations=20 (if it still moves), ADVIModel or ")

    def _record(self, result: Any, metric_ok: bool, worst: float) -> None:
        value = float(result.value)
        self.optimisation.append({"objective": value, "grad_norm": float(result.grad_norm),
                                  "iterations": int(result.iterations),
                                  "stalled": bool(result.stalled), "cg_misfit": worst})
        if not metric_ok:
            self._raise_singular()
        if not (np.isfinite(value) and np.all(np.isfinite(to_host(result.z)))):
            raise ConvergenceError(
                f"MGVIModel: the sampled KL became {value} in iteration "
                f"{len(self.optimisation)}. Check that data lie in the support of their "
                "distributions and that parameter expressions stay valid; try "
                "initial_values= closer to the solution"
            )
        if not self.dense and worst > 1e-3:
            warn_user(
                f"MGVIModel: conjugate gradients left a relative residual of {worst:.2g} "
                "when drawing samples; raise cg_max_iterations or set "
                "fisher_diagonal_preconditioning=True", ConvergenceWarning, stacklevel=3)

    def _check_last(self) -> None:
        last = self.optimisation[-1]
        value, gnorm = last["objective"], last["grad_norm"]
        threshold = self.tolerance * max(1.0, abs(value))
        if gnorm <= threshold or (last["stalled"] and gnorm <= 1e-6 * max(1.0, abs(value))):
            return
        warn_user(
            f"MGVIModel: the last {self.solver} minimisation stopped with gradient norm "
            f"{gnorm:.3g} (tolerance {threshold:.3g}) after {last['iterations']} iterations; "
            "results may be inaccurate. Increase max_iterations or n_iterations",
            ConvergenceWarning, stacklevel=3,
        )

    def _check_settled(self, previous: np.ndarray, xi: np.ndarray, sd: np.ndarray,
                       error: np.ndarray) -> None:
        """Warn when the answer still moves: between the last two iterations, or with the
        samples (its Monte-Carlo error), by more than :data:`SETTLED` posterior sds."""
        if not self.dense or not np.all(sd > 0):
            return
        self.diagnostics = {"last_step_sd": float(np.max(np.abs(xi - previous) / sd)),
                            "mc_error_sd": float(np.max(error / sd))}
        worst = {"iterations": (np.abs(xi - previous) / sd, "n_iterations"),
                 "samples": (error / sd, "n_samples")}
        for what, (ratio, option) in worst.items():
            if self.n_iterations < 2 and what == "iterations":
                continue
            if float(np.max(ratio)) <= SETTLED:
                continue
            at = int(np.argmax(ratio))
            name = next(n for n, sl in self.layout.slices().items() if sl.start <= at < sl.stop)
            site = next(s for s in self.program.latent_sites if s.name == name)
            moved = ("moved between the last two iterations" if what == "iterations" else
                     "has a Monte-Carlo error from its samples")
            warn_user(
                f"MGVIModel: the answer has not settled: the mean of {site.label} {moved} "
                f"by {float(np.max(ratio)):.2g} posterior standard deviations (more than "
                f"{SETTLED}). Increase {option} (now {getattr(self, option)}); if it keeps "
                "moving, MGVI's Gaussian in standardised coordinates does not fit this "
                "posterior (see docs/trust.md): use MCMCModel", ConvergenceWarning,
                stacklevel=4)

    def _raise_singular(self) -> None:
        self._solved = False
        raise ConvergenceError(
            "MGVIModel: the Fisher metric is singular: some unobserved value has neither a "
            "proper prior nor data that constrain it (a NoDistribution variable without "
            "data?). Give it a proper prior or data"
        )

    # -- results --------------------------------------------------------------------------
    def _draw_sites(self, n_samples: int) -> dict[str, np.ndarray]:
        key = self._next_key()
        with self._precision():
            if self.dimension == 0:
                return {}
            draws = self._fns['draw'](self._xi, key, n_samples, self._data)
            return {k: to_host(v) for k, v in draws.items()}

    def _output(self, name: str) -> str:
        """The key of ``name``'s values in the final state: its site, or its Dirac group."""
        group, _ = self.program.locate(name)
        if group.deterministic:
            return _dirac_key(group.index)
        return group.site or ""

    def _fields(self, field: dict[str, np.ndarray], names: list[str], fill: float | None
                ) -> dict[str, np.ndarray]:
        """Per-variable arrays from per-site/per-group ones (means or variances)."""
        sites = {k: v[None] for k, v in field.items() if not k.startswith(_DIRAC)}
        deterministic = {int(k[len(_DIRAC):]): v[None] for k, v in field.items()
                         if k.startswith(_DIRAC)}
        if self._split_rows:  # every row (gathered): this process answers for its rows
            deterministic = {g: v[:, :, self.rows] if self.grouped.groups[g].dynamic else v
                             for g, v in deterministic.items()}
        values = self._values(sites, names, 1, deterministic=deterministic, observed_fill=fill)
        return {k: v[0].astype(np.float64) for k, v in values.items()}

    def _moments(self, names, n_samples):
        exact = [n for n in names if self._output(n) in self._exact
                 or self.spec.variable(n).role == "observed"]
        means = self._fields(self._values_x0, exact, None)
        variances = self._fields(self._exact, exact, 0.0)
        sampled = [n for n in names if n not in exact]
        if sampled:
            mc_means, mc_vars = super()._moments(sampled, n_samples)
            means.update(mc_means)
            variances.update(mc_vars)
        return means, variances
