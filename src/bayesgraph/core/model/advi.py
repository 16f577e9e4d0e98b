"""ADVIModel: automatic differentiation variational inference with numpyro's SVI.

The posterior of the unobserved values is approximated by a Gaussian in the unconstrained
coordinates of the latent sites (positive variables through ``exp``, bounded ones through a
logistic map), fitted by maximising the ELBO with Adam on Monte-Carlo gradients:

* ``guide='mean-field'``: independent normals (numpyro ``AutoNormal``), ``2 d`` parameters;
* ``guide='full-rank'``: one multivariate normal (``AutoMultivariateNormal``), ``d + d (d+1)/2``;
* ``guide='low-rank'``: diagonal plus rank-``rank`` covariance
  (``AutoLowRankMultivariateNormal``).

The whole optimisation runs in one jitted ``lax.scan`` over ``SVI.update`` (in chunks when a
progress bar is shown), with the data as an argument of the jitted function.

Examples
--------
>>> from bayesgraph.core import Graph, Variable
>>> from bayesgraph.core.model.advi import ADVIModel
>>> with Graph("g") as g:
...     z = Variable("z", mean=0, variance=1)
...     x = Variable("x", mean=z, variance=1)
>>> model = ADVIModel(g, data={g.x: [2.0]}, seed=0).solve()
>>> abs(float(model.get_means(g.z, n_samples=4000)[0]) - 1.0) < 0.1
True
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from bayesgraph._warn import warn_user
from bayesgraph.core.model import _curvature as curvature
from bayesgraph.core.model import _importance as importance
from bayesgraph.core.model._common import (
    Layout,
    check_int,
    check_positive,
    override,
    show_progress,
    site_values,
)
from bayesgraph.core.model._hosts import to_host
from bayesgraph.core.model._optimize import make_solver
from bayesgraph.core.model._resources import chunk_size
from bayesgraph.core.model.base import ModelBase
from bayesgraph.core.scope import NamedObject
from bayesgraph.exceptions import (
    ConvergenceError,
    ConvergenceWarning,
    InvalidParameterError,
    OptionError,
    ResourceError,
)

GUIDES = ("mean-field", "full-rank", "low-rank")
#: learning-rate stages (each a third of the one before); parameter movement is judged in
#: the last one
_STAGES = 4
#: beyond this many unconstrained coordinates the mean-field and low-rank starts take the
#: Hessian's diagonal from ``_PROBES`` Hessian-vector products instead of the exact Hessian
_DENSE_LIMIT = 2000
_PROBES = 32
#: draws from the fitted Gaussian for the importance-sampling check after solve(): the
#: maximum up to 1000 examples, else a quarter of the fit's log-density evaluations between
#: these bounds (about a tenth of the fit, whose gradients cost about three evaluations each)
CHECK_DRAWS = (200, 1000)
#: the check's thresholds: a weighted mean this many q sds away, a weighted sd off by this
#: factor (ADVI promises means within 0.05 sd and variances within 10 % where it is exact)
SHIFT_LIMIT = 0.25
SD_LIMIT = 1.25
#: the curvature check's limits (:mod:`._curvature`, every dimension): each variable's
#: total variance within this factor of the best full Gaussian's, its means within
#: CURVATURE_SHIFT posterior sds of one Newton step (mean-field misses the variance that
#: correlations add: it warns where that exceeds 50 %)
VARIANCE_FACTOR = 1.5
CURVATURE_SHIFT = 0.25


def _elbo_settled(previous: np.ndarray, last: np.ndarray, threshold: float = 3.0) -> bool:
    """Whether the mean loss of a chunk is not below the chunk before beyond its noise
    (``threshold`` standard errors of the difference of the two chunk means, from the
    spread of the per-step losses, which is dominated by the Monte-Carlo noise).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> _elbo_settled(rng.normal(size=250), rng.normal(size=250))
    True
    >>> _elbo_settled(rng.normal(size=250) + 1.0, rng.normal(size=250))
    False
    """
    se = np.sqrt(np.var(previous) / previous.size + np.var(last) / last.size)
    drop = float(np.mean(previous) - np.mean(last))
    return bool(drop <= threshold * se + 1e-9 * max(1.0, abs(float(np.mean(last)))))


class ADVIModel(ModelBase):
    """Gaussian variational approximation (ADVI) of the posterior, fitted by SVI.

    The fit starts at the Laplace approximation in unconstrained coordinates (the mode of
    the unconstrained log-density, Jacobian included, found by L-BFGS; the covariance from
    the exact Hessian there, or for mean-field and low-rank guides beyond 2000 coordinates
    the Hessian's diagonal estimated from 32 Hessian-vector products) and optimises the
    ELBO with Adam in coordinates whitened by that start, so that one learning rate suits
    every scale. It stops when the ELBO and
    the parameters have settled (see :meth:`solve`), or when ``num_steps`` steps are spent.

    Parameters
    ----------
    graph, data, compiler, copy_graph, model_graph_options, seed, dtype
        See :class:`~bayesgraph.core.model.base.ModelBase`.
    guide : {'mean-field', 'full-rank', 'low-rank'}
        Family of the Gaussian (in unconstrained coordinates).
    rank : int, optional
        Rank of the low-rank part (``guide='low-rank'``); default ``ceil(sqrt(d))``.
    num_steps : int
        The step budget: the most Adam steps :meth:`solve` takes.
    learning_rate : float
        Adam's step size in whitened coordinates (units of the start's posterior sd); it is
        divided by 3 each time the ELBO settles, three times in all.
    chunk : int
        Steps between two convergence checks.
    tolerance : float
        Settled when, between two chunks, the chunk-averaged location and log-scales move by
        less than this (in units of the start's posterior sd) and the ELBO no longer
        decreases beyond its noise.
    num_particles : int
        Monte-Carlo draws per ELBO gradient.
    initial_values : dict, optional
        ``{variable: starting value}`` for the mode search (default: the central value of
        each variable's prior given its parents).
    progress_bar : bool, optional
        ``None`` (default): shown only in an interactive terminal and never when the ``CI``
        environment variable is set.

    Attributes
    ----------
    loss_history : numpy.ndarray
        The negative ELBO (up to a constant) at every step (after :meth:`solve`).
    params : dict
        ``loc`` and ``scale`` (mean-field), ``scale_tril`` (full-rank) or ``cov_factor`` and
        ``cov_diag`` (low-rank) of the Gaussian on the flat unconstrained vector.

    Examples
    --------
    >>> import numpy as np
    >>> from bayesgraph.core import Graph, StaticVariable, Variable
    >>> from bayesgraph.core.model.advi import ADVIModel
    >>> with Graph("g") as g:
    ...     a = StaticVariable("a", mean=0, variance=1)
    ...     y = Variable("y", mean=a, variance=1)
    >>> model = ADVIModel(g, data={g.y: np.zeros(3)}, guide="full-rank", seed=1).solve()
    >>> model.converged
    True
    """

    shards_data = True

    def __init__(self, graph: NamedObject, data: Mapping | None = None, compiler: Any = None,
                 copy_graph: bool = True, model_graph_options: Mapping | None = None, *,
                 guide: str = "mean-field", rank: int | None = None, num_steps: int = 20000,
                 learning_rate: float = 0.01, num_particles: int = 1, chunk: int = 250,
                 tolerance: float = 0.05, initial_values: Mapping | None = None,
                 seed: int | None = None, dtype: str = "float64",
                 progress_bar: bool | None = None, check: bool = True,
                 grouping: bool = True, devices: Any = None) -> None:
        super().__init__(graph, data, compiler, copy_graph, model_graph_options, seed=seed,
                         dtype=dtype, grouping=grouping, devices=devices)
        if guide not in GUIDES:
            raise OptionError(f"unknown guide {guide!r}; valid: {', '.join(GUIDES)}")
        num_steps = check_int("num_steps", num_steps, 1)
        num_particles = check_int("num_particles", num_particles, 1)
        chunk = check_int("chunk", chunk, 2)
        learning_rate = check_positive("learning_rate", learning_rate)
        tolerance = check_positive("tolerance", tolerance)
        if rank is not None:
            rank = check_int("rank", rank, 1)
        self.guide_name = guide
        self.num_steps = int(num_steps)
        self.learning_rate = float(learning_rate)
        self.num_particles = int(num_particles)
        self.chunk = min(int(chunk), self.num_steps)
        self.tolerance = float(tolerance)
        self.progress_bar = progress_bar
        self.check = bool(check)
        #: after solve() (None without the check): the Pareto k-hat of the importance
        #: ratios p/q (see _psis.py) and their effective sample size
        self.pareto_k: float | None = None
        self.importance_ess: float | None = None
        #: after solve() with the check: the curvature check's findings (see _curvature.py)
        self.curvature: curvature.Curvature | None = None
        self.loss_history = np.zeros(0)
        self.converged = False
        self._layout = Layout.of(self.program)
        self.dimension = self._layout.dimension
        if guide == "full-rank":
            self._check_full_rank_memory()
        self.rank = None
        if guide == "low-rank":
            self.rank = int(rank) if rank is not None else max(1, math.isqrt(self.dimension))
        options = (self.guide_name, self.rank, self.num_particles)
        self._fns = self._functions(functools.partial(ADVIModel._make, self.program, options),
                                    options)
        self._overrides = {k: (jnp.asarray(p), jnp.asarray(v))
                           for k, (p, v) in site_values(self, initial_values).items()}
        self.params: dict[str, Any] | None = None

    def _check_full_rank_memory(self) -> None:
        """Refuse a full-rank guide whose ``d x d`` matrices (the scale, Adam's two moments,
        their average, the start's Hessian and its eigenvectors: about eight) would not fit
        in memory, naming the option, before anything is compiled."""
        from bayesgraph.core.model._resources import SHARE, available_bytes, describe_bytes

        d = self.dimension
        needed = 8 * d * d * 8
        available = available_bytes()
        if needed > SHARE * available:
            raise ResourceError(
                f"ADVIModel(guide='full-rank') on {d} unconstrained coordinates needs about "
                f"{describe_bytes(needed)} for its {d} x {d} matrices, but this machine has "
                f"{describe_bytes(available)} available; use guide='low-rank' (rank=...) or "
                "guide='mean-field', or MAPFisherModel/MGVIModel, whose large-model paths are "
                "matrix-free")

    @staticmethod
    def _make(program: Any, options: tuple[Any, ...]) -> dict[str, Any]:
        """The jitted start, ELBO steps and draws, from the program and options only.

        Nothing traced is kept on a Python object: every function takes the data (and the
        start) as arguments, so one compiled fit serves every model with the same
        fingerprint, whatever its data.
        """
        guide_name, rank, num_particles = options
        layout = Layout.of(program)
        d = layout.dimension

        def logp(z, data):
            return program.log_density(layout.unravel(z), data, jacobian=True,
                                       skip_fixed=True)

        negative = lambda z, data: -logp(z, data)  # noqa: E731
        minimise = make_solver(negative, "L-BFGS", 1000, 1e-10, 1e-2, jit=False)

        def start(overrides, data):
            constrained = override(program.central_latents(data), overrides)
            return layout.ravel(program.unconstrain(constrained, data))

        def laplace(z0, data):
            """Mode (from ``z0``) and the whitening: its covariance's Cholesky factor or
            sds, from the exact Hessian (non-positive curvature -> unit scale)."""
            result = minimise(z0, data)
            ok = jnp.all(jnp.isfinite(result.z)) & jnp.isfinite(result.value)
            mode = jnp.where(ok, result.z, z0)
            if guide_name != "full-rank" and d > _DENSE_LIMIT:
                # Hessian diagonal by Hutchinson's estimator (E[v * Hv], Rademacher v)
                grad = jax.grad(negative)
                probes = jax.random.rademacher(jax.random.key(0), (_PROBES, d), mode.dtype)
                hvp = jax.vmap(lambda v: jax.jvp(lambda z: grad(z, data), (mode,), (v,))[1])
                h = jnp.mean(probes * hvp(probes), axis=0)
                h = jnp.where(jnp.isfinite(h), h, 0.0)
                whiten = jnp.where(h > 0, 1.0 / jnp.sqrt(jnp.where(h > 0, h, 1.0)), 1.0)
                return mode, whiten, result.iterations
            hess = jax.hessian(negative)(mode, data)
            hess = jnp.where(jnp.isfinite(hess), 0.5 * (hess + hess.T), 0.0)
            if guide_name == "full-rank":
                lam, vec = jnp.linalg.eigh(hess)
                lam = jnp.where(lam > 1e-12 * jnp.max(jnp.abs(lam)), lam, 1.0)
                cov = (vec / lam) @ vec.T
                whiten = jnp.linalg.cholesky(0.5 * (cov + cov.T))
            else:
                h = jnp.diagonal(hess)
                whiten = jnp.where(h > 0, 1.0 / jnp.sqrt(jnp.where(h > 0, h, 1.0)), 1.0)
            return mode, whiten, result.iterations

        def transform(mode, whiten, params, eps):
            """z = mode + W (a + S eps) for eps of shape (..., d) (+ rank for low-rank)."""
            a = params["a"]
            if guide_name == "full-rank":
                m = jnp.tril(params["m"], -1) + jnp.diag(jnp.exp(jnp.diagonal(params["m"])))
                u = a + eps @ m.T
                return mode + u @ whiten.T
            if guide_name == "mean-field":
                u = a + jnp.exp(params["c"]) * eps
            else:
                u = a + eps[..., :d] * jnp.exp(params["c"]) + eps[..., d:] @ params["w"].T
            return mode + whiten * u

        def entropy(params):
            if guide_name == "full-rank":
                return jnp.sum(jnp.diagonal(params["m"]))
            value = jnp.sum(params["c"])
            if guide_name == "low-rank":
                w = params["w"] * jnp.exp(-params["c"])[:, None]
                value = value + 0.5 * jnp.linalg.slogdet(
                    jnp.eye(w.shape[1], dtype=w.dtype) + w.T @ w)[1]
            return value

        width = d + (rank or 0)

        def loss(params, key, mode, whiten, data):
            eps = jax.random.normal(key, (num_particles, width), mode.dtype)
            z = transform(mode, whiten, params, eps)
            return -jnp.mean(jax.vmap(lambda zi: logp(zi, data))(z)) - entropy(params)

        def run(state, key, lr, mode, whiten, data, length):
            """``length`` Adam steps; returns the state, losses and the averaged iterate."""
            b1, b2, eps_adam = 0.9, 0.999, 1e-8

            def step(carry, key):
                params, m, v, t, total = carry
                value, grad = jax.value_and_grad(loss)(params, key, mode, whiten, data)
                grad = jax.tree.map(lambda g: jnp.where(jnp.isfinite(g), g, 0.0), grad)
                t = t + 1
                m = jax.tree.map(lambda m_, g: b1 * m_ + (1 - b1) * g, m, grad)
                v = jax.tree.map(lambda v_, g: b2 * v_ + (1 - b2) * g * g, v, grad)
                c1, c2 = 1 - b1 ** t, 1 - b2 ** t
                params = jax.tree.map(
                    lambda p, m_, v_: p - lr * (m_ / c1) / (jnp.sqrt(v_ / c2) + eps_adam),
                    params, m, v)
                total = jax.tree.map(lambda s, p: s + p, total, params)
                return (params, m, v, t, total), value

            params, m, v, t = state
            total = jax.tree.map(jnp.zeros_like, params)
            (params, m, v, t, total), losses = jax.lax.scan(
                step, (params, m, v, t, total), jax.random.split(key, length))
            average = jax.tree.map(lambda s: s / length, total)
            return (params, m, v, t), losses, average

        def initial(mode):
            dtype = mode.dtype
            params = {"a": jnp.zeros(d, dtype)}
            if guide_name == "full-rank":
                params["m"] = jnp.zeros((d, d), dtype)
            else:
                params["c"] = jnp.zeros(d, dtype)
            if guide_name == "low-rank":
                params["w"] = jnp.zeros((d, rank), dtype)
            zeros = jax.tree.map(jnp.zeros_like, params)
            return params, zeros, zeros, jnp.zeros((), dtype)

        def draw(mode, whiten, params, keys, data):
            def one(key):
                eps = jax.random.normal(key, (width,), mode.dtype)
                z = transform(mode, whiten, params, eps)
                return program.constrain(layout.unravel(z), data)

            return jax.vmap(one)(keys)

        return {
            "start": jax.jit(start),
            "logp": jax.jit(logp),
            "logp_batch": jax.jit(jax.vmap(logp, in_axes=(0, None))),
            "laplace": jax.jit(laplace),
            "curvature": curvature.make_curvature(negative),
            "initial": jax.jit(initial),
            "run": jax.jit(run, static_argnums=6),
            "draw": jax.jit(draw),
        }

    def _valid_start(self) -> Any:
        """The unconstrained start of the mode search: the central values (and the user's),
        else jittered versions of them (uniform in (-2, 2) around them, as numpyro's
        ``init_to_uniform``); raise naming the variables if none is valid."""
        z0 = self._fns["start"](self._overrides, self._data)
        if np.isfinite(float(self._fns["logp"](z0, self._data))):
            return z0
        for _ in range(20):
            z = z0 + self._rng.uniform(-2.0, 2.0, self.dimension)
            if np.isfinite(float(self._fns["logp"](z, self._data))):
                return z
        names = [site.label for site in self.program.latent_sites]
        raise InvalidParameterError(
            f"{type(self).__name__}: the log-density is not finite at the start point nor "
            f"near it; the variables started are {', '.join(names[:5])}. Give "
            "initial_values for them where every parameter (e.g. a variance) is valid"
        )

    def solve(self) -> ADVIModel:
        """Fit: Laplace start, then Adam on the ELBO until it has settled.

        Every ``chunk`` steps the mean ELBO of the chunk is compared with the chunk before;
        when it no longer improves beyond its noise the learning rate is divided by 3. At
        the last of four rates the fit stops when, in addition, no chunk-averaged location
        or log-scale moved by more than ``tolerance`` (whitened units, i.e. start posterior
        sds); its parameters are the average over the last chunk. If ``num_steps`` runs
        out first, a ConvergenceWarning names the variables still moving.

        Returns
        -------
        ADVIModel
            ``self``.
        """
        self.converged = False
        if self.dimension == 0:
            self.params, self.loss_history = {}, np.zeros(0)
            self.converged = self._solved = True
            return self
        with self._precision():
            z0 = self._valid_start()
            mode, whiten, _ = self._fns["laplace"](z0, self._data)
            if not (np.all(np.isfinite(to_host(mode)))
                    and np.all(np.isfinite(to_host(whiten)))):
                raise ConvergenceError(
                    f"{type(self).__name__}: the Laplace start is not finite; give "
                    "initial_values or check that data lie in the support of their "
                    "distributions")
            state = self._fns["initial"](mode)
            self._mode, self._whiten = mode, whiten
            lr, stage, done = self.learning_rate, 0, 0
            losses: list[np.ndarray] = []
            previous = average = None
            last_moving: list[str] = []
            bar = self._bar()
            try:
                while done < self.num_steps:
                    length = min(self.chunk, self.num_steps - done)
                    state, part, average = self._fns["run"](
                        state, self._next_key(), jnp.asarray(lr, mode.dtype), mode, whiten,
                        self._data, length)
                    part = to_host(part, dtype=np.float64)
                    losses.append(part)
                    done += length
                    if bar is not None:
                        bar.update(length)
                        bar.set_postfix(loss=f"{float(np.mean(part)):.4g}")
                    if not np.all(np.isfinite(part)):
                        break
                    moving = self._moving(previous, average)
                    last_moving = self._moving_names(moving)
                    final = stage == _STAGES - 1
                    settled = (previous is not None and length == self.chunk
                               and _elbo_settled(losses[-2], losses[-1])
                               and (not final or not moving.any()))
                    previous = average
                    if settled:
                        if final:
                            self.converged = True
                            break
                        stage += 1
                        lr /= 3.0
                        previous = None  # a new stage: compare chunks at the new rate
            finally:
                if bar is not None:
                    bar.close()
            self.params = self._public(average)
            self._fitted = average
        self.loss_history = np.concatenate(losses)
        self._check(moving_now=last_moving)
        if self.check:
            self._check_fit()
        self._solved = True
        return self

    def _q(self) -> Any:
        """The fitted Gaussian on the flat unconstrained vector, as a numpyro distribution."""
        from numpyro import distributions as dist

        p = {k: jnp.asarray(v) for k, v in self.params.items()}
        if self.guide_name == "full-rank":
            return dist.MultivariateNormal(p["loc"], scale_tril=p["scale_tril"])
        if self.guide_name == "mean-field":
            return dist.Normal(p["loc"], p["scale"]).to_event(1)
        return dist.LowRankMultivariateNormal(p["loc"], p["cov_factor"], p["cov_diag"])

    def _check_fit(self) -> None:
        """Importance sampling from the fitted Gaussian q towards the posterior (see
        :mod:`bayesgraph.core.model._importance`): a quarter of the fit's log-density
        evaluations, CHECK_DRAWS bounds; an ApproximationWarning when a variable's weighted
        mean moves more than SHIFT_LIMIT sds or its sd by more than a factor SD_LIMIT."""
        low, high = CHECK_DRAWS
        draws = high if self.n_data <= 1000 else int(
            np.clip(self.loss_history.size * self.num_particles // 4, low, high))
        with self._precision():
            q = self._q()
            z = to_host(q.sample(self._next_key(), (draws,)))
            log_q = to_host(q.log_prob(jnp.asarray(z)))
            chunk = chunk_size(draws, max(1, self.n_data) * 16)
            log_p = np.concatenate([
                to_host(self._fns["logp_batch"](jnp.asarray(z[i:i + chunk]), self._data))
                for i in range(0, draws, chunk)])
        result = importance.check(z, log_p - log_q, self.program.latent_sites,
                                  self._layout.slices(), SHIFT_LIMIT, SD_LIMIT)
        self.pareto_k, self.importance_ess = result.pareto_k, result.ess
        hint = ("guide='full-rank' (mean-field cannot represent correlations and "
                "underestimates sds), or " if self.guide_name != "full-rank" else "")
        if result.failed:
            importance.warn(type(self).__name__, result, draws, hint)
        self._check_curvature(hint)

    def _q_operators(self) -> tuple[Any, Any, np.ndarray]:
        """``eps -> S^{1/2} eps``, ``V -> V S`` and ``diag(S)`` of the fitted Gaussian."""
        p = {k: to_host(v) for k, v in self.params.items()}
        if self.guide_name == "mean-field":
            scale = p["scale"]
            return (lambda e: e * scale), (lambda v: v * scale**2), scale**2
        if self.guide_name == "full-rank":
            tril = p["scale_tril"]
            return ((lambda e: e @ tril.T), (lambda v: (v @ tril) @ tril.T),
                    np.sum(tril**2, axis=1))
        diag, factor = p["cov_diag"], p["cov_factor"]

        def sqrt_cov(e):
            extra = self._rng.standard_normal((e.shape[0], factor.shape[1]))
            return e * np.sqrt(diag) + extra @ factor.T

        return (sqrt_cov, (lambda v: v * diag + (v @ factor) @ factor.T),
                diag + np.sum(factor**2, axis=1))

    def _check_curvature(self, hint: str) -> None:
        """The check that scales (:mod:`bayesgraph.core.model._curvature`): is the fitted
        Gaussian the best Gaussian? Stored in ``self.curvature``; warns beyond
        VARIANCE_FACTOR and CURVATURE_SHIFT."""
        sqrt_cov, cov, variances = self._q_operators()
        with self._precision():
            self.curvature = curvature.evaluate(
                self._fns["curvature"], to_host(self.params["loc"]), sqrt_cov, cov,
                self.program.latent_sites, self._layout.slices(), self._data,
                self._rng, variances)
        off = self.curvature.off(VARIANCE_FACTOR, CURVATURE_SHIFT)
        if off:
            curvature.warn(type(self).__name__, off, VARIANCE_FACTOR, CURVATURE_SHIFT, hint)

    def _bar(self):
        if not show_progress(self.progress_bar):
            return None
        from tqdm import tqdm

        return tqdm(total=self.num_steps, desc=type(self).__name__)

    def _moving(self, previous: Any, average: Any) -> np.ndarray | None:
        """Per flat coordinate: did the location or log-scale move beyond ``tolerance``?"""
        if previous is None:
            return None
        moved = np.abs(to_host(average["a"]) - to_host(previous["a"]))
        key = "m" if "m" in average else "c"
        scale = np.abs(to_host(average[key]) - to_host(previous[key]))
        if scale.ndim == 2:  # full-rank: the row of each coordinate
            scale = scale.max(axis=1)
        return (moved > self.tolerance) | (scale > self.tolerance)

    def _moving_names(self, moving: np.ndarray | None) -> list[str]:
        if moving is None:
            return []
        names = []
        for site in self.program.latent_sites:
            if moving[self._layout.slices()[site.name]].any():
                names.append(site.label)
        return names

    def _public(self, fitted: Any) -> dict[str, np.ndarray]:
        """The Gaussian on the flat unconstrained vector, in plain coordinates."""
        mode, whiten = to_host(self._mode), to_host(self._whiten)
        a = to_host(fitted["a"])
        if self.guide_name == "full-rank":
            m = to_host(fitted["m"])
            m = np.tril(m, -1) + np.diag(np.exp(np.diagonal(m)))
            return {"loc": mode + whiten @ a, "scale_tril": whiten @ m}
        out = {"loc": mode + whiten * a}
        if self.guide_name == "mean-field":
            out["scale"] = whiten * np.exp(to_host(fitted["c"]))
        else:
            out["cov_diag"] = (whiten * np.exp(to_host(fitted["c"]))) ** 2
            out["cov_factor"] = whiten[:, None] * to_host(fitted["w"])
        return out

    def _check(self, moving_now: list[str]) -> None:
        loss = self.loss_history
        if not np.all(np.isfinite(loss[-min(loss.size, self.chunk):])):
            raise ConvergenceError(
                f"{type(self).__name__}: the ELBO became non-finite (last loss {loss[-1]}). "
                "Lower learning_rate, give initial_values, or check that data lie in the "
                "support of their distributions"
            )
        if self.converged:
            return
        what = (f"the locations or scales of {', '.join(moving_now[:5])} still move by more "
                f"than tolerance={self.tolerance} posterior sds per {self.chunk} steps"
                if moving_now else "the ELBO or the parameters have not settled")
        warn_user(
            f"{type(self).__name__}: not settled after num_steps={self.num_steps} steps: "
            f"{what}. Increase num_steps (or learning_rate if the ELBO still falls "
            "steadily), or try MAPFisherModel/MCMCModel; model.loss_history holds the trace",
            ConvergenceWarning, stacklevel=4,
        )

    def _draw_sites(self, n_samples: int) -> dict[str, np.ndarray]:
        key = self._next_key()
        with self._precision():
            if self.dimension == 0:
                return {}
            keys = jax.random.split(key, n_samples)
            draws = self._fns["draw"](self._mode, self._whiten, self._fitted, keys,
                                      self._data)
            return {k: to_host(v) for k, v in draws.items()}
