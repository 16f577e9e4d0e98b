"""MAPModel: the maximum of the joint posterior density, found by L-BFGS (or Adam).

MAP means the mode of the posterior density *of the variables themselves* (no Jacobian of
any reparametrisation): for a LogNormal latent it is the mode of its posterior density, not
of the density of its logarithm. The optimiser works in unconstrained coordinates (positive
variables through ``exp``, bounded ones through a logistic map) so it cannot leave the
support, which does not move the mode.

Examples
--------
>>> from bayesgraph.core import Graph, Variable
>>> from bayesgraph.core.model import MAPModel
>>> with Graph("g") as g:
...     z = Variable("z", mean=0, variance=1)
...     x = Variable("x", mean=z, variance=1)
>>> model = MAPModel(g, data={g.x: [2.0]}).solve()
>>> model.get_means(g.z).round(8).tolist()
[1.0]
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from bayesgraph._warn import warn_user
from bayesgraph.core.compiler.distributions import unbounded
from bayesgraph.core.model._common import (
    check_int,
    check_positive,
    override,
    site_values,
    tolerance_for,
)
from bayesgraph.core.model._hosts import to_host
from bayesgraph.core.model._layout import Layout
from bayesgraph.core.model._optimize import (
    SOLVERS,
    OptimResult,
    make_solver,
    needs_polish,
    newton_step,
)
from bayesgraph.core.model.base import ModelBase
from bayesgraph.core.scope import NamedObject
from bayesgraph.exceptions import (
    BoundaryWarning,
    ConvergenceError,
    ConvergenceWarning,
    OptionError,
)

#: an unconstrained coordinate beyond this lies on the support's boundary (exp(-25) ~ 1e-11)
BOUNDARY = 25.0
#: ... or beyond this when the optimiser stopped without converging (exp(-10) ~ 5e-5)
NEAR_BOUNDARY = 10.0
#: coordinates beyond this are probed: one unit further out (a factor e for a scale) ...
PROBE_FROM = 3.0
#: ... must cost at least this much log-density, or the mode is on (or runs off to) the
#: boundary: an interior mode with a log-scale posterior sd s costs 1 / (2 s^2) nats there
PROBE_RISE = 0.05
#: at most this many coordinates are probed (the most extreme ones), in one vmapped pass
PROBE_MAX = 64


class MAPModel(ModelBase):
    """Maximum a-posteriori point estimate of every unobserved value.

    All draws equal the MAP point, so variances are zero.

    Parameters
    ----------
    graph, data, compiler, copy_graph, model_graph_options, seed, dtype
        See :class:`~bayesgraph.core.model.base.ModelBase`.
    initial_values : dict, optional
        ``{variable: starting value}`` (the value's shape is the variable's runtime shape).
        Unlisted variables start at the mean (median for LogNormal) of their prior given
        their parents' starting values.
    random_initial_value_scale : float
        Standard deviation of a random jitter added to the start (unconstrained scale), so
        that symmetric problems leave saddle points.
    solver : {'L-BFGS', 'Adam'}
        The optimiser. L-BFGS (default) for deterministic problems; Adam for very large or
        badly scaled ones.
    max_iterations : int
        Iteration limit; reaching it without convergence gives a ConvergenceWarning.
    tolerance : float, optional
        Stop when ``|grad| <= tolerance * max(1, |objective|)``; default 1e-11 in float64,
        1e-5 in float32 (its rounding floor is near 1e-6; see docs/scaling.md).
    learning_rate : float
        Adam's step size.

    Examples
    --------
    >>> import numpy as np
    >>> from bayesgraph.core import Graph, Variable, StaticVariable
    >>> from bayesgraph.core.model import MAPModel
    >>> with Graph("lr") as lr:
    ...     x = Variable("x", mean=0, variance=9)
    ...     a = StaticVariable("a", mean=0, variance=1)
    ...     y = Variable("y", mean=a * x, variance=0.25)
    >>> xs = np.array([1.0, 2.0, 3.0])
    >>> model = MAPModel(lr, data={lr.x: xs, lr.y: 0.5 * xs}).solve()
    >>> round(float(model.get_means(lr.a)), 6) == round(0.5 * 14 / (14 + 0.25), 6)
    True
    """

    shards_data = True

    def __init__(self, graph: NamedObject, data: Mapping | None = None, compiler: Any = None,
                 initial_values: Mapping | None = None,
                 random_initial_value_scale: float = 1e-4, solver: str = "L-BFGS",
                 copy_graph: bool = True, model_graph_options: Mapping | None = None, *,
                 max_iterations: int = 1000, tolerance: float | None = None,
                 learning_rate: float = 1e-2, seed: int | None = None,
                 dtype: str = "float64", grouping: bool = True,
                 devices: Any = None) -> None:
        super().__init__(graph, data, compiler, copy_graph, model_graph_options, seed=seed,
                         dtype=dtype, grouping=grouping, devices=devices)
        if solver not in SOLVERS:
            raise OptionError(f"unknown solver {solver!r}; valid: {', '.join(SOLVERS)}")
        self.solver = solver
        self.max_iterations = check_int("max_iterations", max_iterations, 0)
        self.tolerance = tolerance_for("MAP.tolerance", tolerance, dtype)
        self.learning_rate = check_positive("learning_rate", learning_rate)
        self.random_initial_value_scale = (
            0.0 if random_initial_value_scale == 0
            else check_positive("random_initial_value_scale", random_initial_value_scale))
        self.initial_values = dict(initial_values or {})
        self.optimisation: dict[str, Any] = {}
        self._layout = Layout.of(self.program)
        self.dimension = self._layout.dimension
        options = (self.solver, self.max_iterations, self.tolerance, self.learning_rate)
        extra = self._make_options()
        self._fns = self._functions(
            functools.partial(type(self)._make, self.program, options, **extra),
            options, tuple(sorted(extra.items())))
        self._sites: dict[str, np.ndarray] | None = None

    def _make_options(self) -> dict[str, Any]:
        """Further (hashable) options of :meth:`_make` (subclasses)."""
        return {}

    @classmethod
    def _make(cls, program: Any, options: tuple[Any, ...], **extra: Any) -> dict[str, Any]:
        """The jitted fit (and what subclasses add), from the program and options only (the
        functions are shared by every model with the same fingerprint: see ``_functions``)."""
        layout = Layout.of(program)
        ravel, unravel = layout.ravel, layout.unravel

        def objective(z, data):
            return -program.log_density(unravel(z), data, jacobian=False, skip_fixed=True)

        minimise = make_solver(objective, *options, jit=False)
        extras = cls._extras_fn(objective, **extra)

        def fit(noise, overrides, data):
            start = override(program.central_latents(data), overrides)
            z0 = ravel(program.unconstrain(start, data)) + noise
            if z0.size:
                result = minimise(z0, data)
            else:  # everything is observed: nothing to optimise
                zero = jnp.zeros((), z0.dtype)
                result = OptimResult(z0, zero, zero, jnp.zeros((), int), jnp.zeros((), bool))
            return result, program.constrain(unravel(result.z), data), extras(result.z, data)

        def refine(result, data):
            """A Newton step after the fit (compiled only when a fit needs one)."""
            result = newton_step(objective, result, data)
            return result, program.constrain(unravel(result.z), data), extras(result.z, data)

        return {"fit": jax.jit(fit), "refine": jax.jit(refine), "objective": objective,
                "probe": jax.jit(jax.vmap(objective, in_axes=(0, None)))}

    @staticmethod
    def _extras_fn(objective: Any, **extra: Any) -> Any:
        """Further results computed inside the same jitted fit (MAPFisher: the Hessian)."""
        return lambda z, data: None

    # -- start --------------------------------------------------------------------------
    def _overrides(self) -> dict[str, Any]:
        """User initial values as ``{site: (flat positions, constrained values)}``."""
        return {k: (jnp.asarray(p), jnp.asarray(v))
                for k, (p, v) in site_values(self, self.initial_values).items()}

    # -- solve ----------------------------------------------------------------------------
    def solve(self) -> MAPModel:
        """Run the optimiser; warns if it did not converge, raises if it failed.

        Returns
        -------
        MAPModel
            ``self``, so ``MAPModel(...).solve()`` chains.
        """
        noise = self._rng.standard_normal(self.dimension) * self.random_initial_value_scale
        with self._precision():
            result, sites, extras = self._fns["fit"](jnp.asarray(noise, self._float()),
                                                     self._overrides(), self._data)
            if self.dimension and needs_polish(result, self.tolerance):
                result, sites, extras = self._fns["refine"](result, self._data)
            if self.dimension:
                converged = self._check(result)
                self._warn_at_boundary(to_host(result.z), sites, converged)
            self._z = result.z
            self._sites = {k: to_host(v) for k, v in sites.items()}
        self._solved = True
        self._after_fit(extras)
        return self

    def _after_fit(self, extras: Any) -> None:
        """Hook for subclasses: receives :meth:`_extras`' result after a fit."""

    def _check(self, result: Any) -> bool:
        """Raise if the optimisation failed; warn (and return False) if it did not converge."""
        value, gnorm = float(result.value), float(result.grad_norm)
        iterations, stalled = int(result.iterations), bool(result.stalled)
        self.optimisation = {"objective": value, "grad_norm": gnorm, "iterations": iterations,
                             "solver": self.solver}
        if not (np.isfinite(value) and np.all(np.isfinite(to_host(result.z)))):
            raise ConvergenceError(
                f"{type(self).__name__}: the optimisation failed: the negative log-density is "
                f"{value} after {iterations} iterations. Check that data lie in the support "
                "of their distributions and that expression parameters stay valid (e.g. a "
                "variance expression that can become negative); try initial_values= closer "
                "to the solution"
            )
        threshold = self.tolerance * max(1.0, abs(value))
        if gnorm <= threshold:
            return True
        if stalled and gnorm <= 1e-6 * max(1.0, abs(value)):
            return True  # converged to the precision the arithmetic allows
        reason = (f"reached max_iterations={self.max_iterations}" if iterations >=
                  self.max_iterations else "stopped making progress")
        warn_user(
            f"{type(self).__name__}: the {self.solver} optimisation {reason} with gradient "
            f"norm {gnorm:.3g} (tolerance {threshold:.3g}); results may be inaccurate. "
            "Increase max_iterations, give initial_values, or try solver="
            + ("'L-BFGS'" if self.solver == "Adam" else "'Adam'"),
            ConvergenceWarning, stacklevel=3,
        )
        return False

    def _warn_at_boundary(self, z: np.ndarray, sites: dict[str, Any], converged: bool
                          ) -> None:
        """Warn when the mode lies on the boundary of a constrained variable's support.

        Two tests on the unconstrained coordinates ``u`` of bounded variables: ``|u|`` beyond
        :data:`BOUNDARY` (a scale below about 1e-11; :data:`NEAR_BOUNDARY`, about 5e-5,
        while the optimiser was still moving), or a probe: each coordinate beyond
        :data:`PROBE_FROM` is moved one unit further out (a scale divided by e), and if the
        log-density rises or falls by less than :data:`PROBE_RISE` the mode is not an
        interior maximum (a hierarchical scale collapsing to ``exp(-19)`` has a gradient
        below any tolerance but a flat density towards 0)."""
        limit = BOUNDARY if converged else NEAR_BOUNDARY
        slices = self._layout.slices()
        hits: dict[str, int] = {}
        probes: list[tuple[str, int]] = []  # (site, position in the flat vector z)
        for site in self.program.latent_sites:
            u = z[slices[site.name]]
            if unbounded(site.distribution, site.spec.constraint) or not u.size:
                continue
            if np.max(np.abs(u)) > limit:
                hits[site.name] = int(np.argmax(np.abs(u)))
            else:
                start = slices[site.name].start
                probes += [(site.name, start + int(i)) for i in np.flatnonzero(
                    np.abs(u) > PROBE_FROM)]
        if probes:
            probes = sorted(probes, key=lambda p: -abs(z[p[1]]))[:PROBE_MAX]
            moved = np.repeat(z[None], len(probes) + 1, axis=0)  # row 0: the mode itself
            for row, (_, j) in enumerate(probes, start=1):
                moved[row, j] += np.sign(z[j])
            values = to_host(self._fns["probe"](jnp.asarray(moved), self._data))
            rise = values[1:] - values[0]
            for (name, j), r in zip(probes, rise):
                if name not in hits and not r >= PROBE_RISE:
                    hits[name] = j - slices[name].start
        if hits:
            labels = []
            for site in self.program.latent_sites:
                if site.name in hits:
                    value = to_host(sites[site.name]).reshape(-1)
                    at = min(hits[site.name], value.size - 1)
                    labels.append(f"{site.label} (at {value[at]:.3g})")
            warn_user(
                f"{type(self).__name__}: the mode of {', '.join(labels)} lies on the boundary "
                "of its support: the density rises (or stays flat) towards the boundary "
                "(typical of a hierarchical scale that the data cannot pin down), so the mode "
                "is not a useful summary and the Laplace approximation (MAPFisherModel) is "
                "not valid there. Use MCMCModel or ADVIModel, or give it a prior that "
                "vanishes at the boundary (e.g. Gamma(concentration=2, ...) or LogNormal for "
                "a scale)",
                BoundaryWarning, stacklevel=4)

    def _draw_sites(self, n_samples: int) -> dict[str, np.ndarray]:
        assert self._sites is not None
        return {k: np.broadcast_to(v, (n_samples, *v.shape)) for k, v in self._sites.items()}

    def _point(self, names: list[str]) -> dict[str, np.ndarray]:
        """The values of ``names`` at the MAP point."""
        assert self._sites is not None
        point = {k: v[None] for k, v in self._sites.items()}
        return {k: v[0].astype(np.float64) for k, v in self._values(point, names, 1).items()}

    def _moments(self, names, n_samples):
        means = self._point(names)
        return means, {n: np.zeros_like(means[n]) for n in names}


