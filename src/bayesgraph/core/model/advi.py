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
import warnings
from collections.abc import Mapping
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
from numpyro.infer import SVI, Trace_ELBO
from numpyro.infer.autoguide import (
    AutoLowRankMultivariateNormal,
    AutoMultivariateNormal,
    AutoNormal,
)
from numpyro.infer.initialization import init_to_uniform
from numpyro.infer.svi import SVIState
from numpyro.optim import optax_to_numpyro

from bayesgraph.core.model._common import loss_settled, override, show_progress, site_values
from bayesgraph.core.model.base import ModelBase
from bayesgraph.core.scope import NamedObject
from bayesgraph.exceptions import ConvergenceError, ConvergenceWarning

GUIDES = ("mean-field", "full-rank", "low-rank")
_PROGRESS_CHUNKS = 50


class ADVIModel(ModelBase):
    """Gaussian variational approximation (ADVI) of the posterior, fitted by SVI.

    Parameters
    ----------
    graph, data, compiler, copy_graph, model_graph_options, seed, dtype
        See :class:`~bayesgraph.core.model.base.ModelBase`.
    guide : {'mean-field', 'full-rank', 'low-rank'}
        Family of the Gaussian (in unconstrained coordinates).
    rank : int, optional
        Rank of the low-rank part (``guide='low-rank'``); default ``ceil(sqrt(d))``.
    num_steps : int
        Number of Adam steps.
    learning_rate : float
        Adam's initial step size; it decays exponentially to a tenth of it by the last
        step, which lowers the noise of the final parameters.
    average_fraction : float
        The fitted guide parameters are the average of the iterates over this last
        fraction of the steps (Polyak-Ruppert averaging, which cancels most of the
        stochastic-gradient noise); ``0`` keeps only the last iterate.
    num_particles : int
        Monte-Carlo draws per ELBO gradient.
    initial_values : dict, optional
        ``{variable: starting value}`` for the guide's location (default: the central value
        of each variable's prior given its parents).
    progress_bar : bool, optional
        ``None`` (default): shown only in an interactive terminal and never when the ``CI``
        environment variable is set.

    Attributes
    ----------
    loss_history : numpy.ndarray
        The negative ELBO at every step (after :meth:`solve`).

    Examples
    --------
    >>> import numpy as np
    >>> from bayesgraph.core import Graph, StaticVariable, Variable
    >>> from bayesgraph.core.model.advi import ADVIModel
    >>> with Graph("g") as g:
    ...     a = StaticVariable("a", mean=0, variance=1)
    ...     y = Variable("y", mean=a, variance=1)
    >>> model = ADVIModel(g, data={g.y: np.zeros(3)}, guide="full-rank", seed=1).solve()
    >>> model.loss_history.shape
    (5000,)
    """

    def __init__(self, graph: NamedObject, data: Mapping | None = None, compiler: Any = None,
                 copy_graph: bool = True, model_graph_options: Mapping | None = None, *,
                 guide: str = "mean-field", rank: int | None = None, num_steps: int = 5000,
                 learning_rate: float = 0.02, num_particles: int = 1,
                 initial_values: Mapping | None = None, average_fraction: float = 0.2,
                 seed: int | None = None,
                 dtype: str = "float64", progress_bar: bool | None = None,
                 grouping: bool = True) -> None:
        super().__init__(graph, data, compiler, copy_graph, model_graph_options, seed=seed,
                         dtype=dtype, grouping=grouping)
        if guide not in GUIDES:
            raise ValueError(f"unknown guide {guide!r}; valid: {', '.join(GUIDES)}")
        if int(num_steps) < 1 or int(num_particles) < 1:
            raise ValueError("num_steps and num_particles must be positive integers")
        if not float(learning_rate) > 0:
            raise ValueError(f"learning_rate must be positive, got {learning_rate!r}")
        self.guide_name = guide
        self.num_steps = int(num_steps)
        self.learning_rate = float(learning_rate)
        self.num_particles = int(num_particles)
        self.progress_bar = progress_bar
        self.average_fraction = float(average_fraction)
        if not 0.0 <= self.average_fraction < 1.0:
            raise ValueError(f"average_fraction must lie in [0, 1), got {average_fraction!r}")
        self._average_from = self.num_steps - max(1, int(self.num_steps * self.average_fraction))
        self.loss_history = np.zeros(0)
        program = self.program
        self.dimension = sum(site.size for site in program.latent_sites)
        self.rank = None
        if guide == "low-rank":
            self.rank = int(rank) if rank is not None else max(1, math.isqrt(self.dimension))
        options = (self.guide_name, self.rank, self.num_steps, self.learning_rate,
                   self.num_particles, self._average_from)
        self._fns = self._functions(functools.partial(ADVIModel._make, program, options),
                                    options)
        with self._precision():
            overrides = {k: (jnp.asarray(p), jnp.asarray(v))
                         for k, (p, v) in site_values(self, initial_values).items()}
            self._start = self._fns["start"](overrides, self._data)
        self.guide = self._fns["guide"]
        self.params: dict[str, Any] | None = None

    @staticmethod
    def _make(program: Any, options: tuple[Any, ...]) -> dict[str, Any]:
        """Guide, SVI and the jitted fit and draws, from the program and options only.

        The starting point is an argument of the jitted ``init`` (it replaces the guide's
        location parameters after ``svi.init``), so one compiled fit serves every model with
        the same fingerprint, whatever its data.
        """
        guide_name, rank, num_steps, learning_rate, num_particles, average_from = options
        if guide_name == "mean-field":
            guide = AutoNormal(program.model, init_loc_fn=init_to_uniform)
        elif guide_name == "full-rank":
            guide = AutoMultivariateNormal(program.model, init_loc_fn=init_to_uniform)
        else:
            guide = AutoLowRankMultivariateNormal(program.model, init_loc_fn=init_to_uniform,
                                                  rank=rank)
        schedule = optax.exponential_decay(learning_rate, num_steps, 0.1)
        svi = SVI(program.model, guide, optax_to_numpyro(optax.adam(schedule)),
                  Trace_ELBO(num_particles=num_particles))

        def run(carry, data, length):
            def step(carry, _):
                state, total, count = carry
                state, loss = svi.update(state, data)
                i = state.optim_state[0]  # steps done so far
                keep = (i > average_from).astype(count.dtype)
                params = svi.get_params(state)
                total = jax.tree.map(lambda t, p: t + keep * p, total, params)
                return (state, total, count + keep), loss

            return jax.lax.scan(step, carry, None, length=length)

        def init(key, start, data):
            state = svi.init(key, data)
            params = dict(svi.optim.get_params(state.optim_state))
            if isinstance(guide, AutoNormal):
                for name, value in start.items():
                    params[f"{name}_{guide.prefix}_loc"] = value
            else:  # one flat location vector, in the guide's order of the sites
                params[f"{guide.prefix}_loc"] = jnp.concatenate(
                    [jnp.reshape(start[name], (-1,)) for name in guide._init_locs])
            state = SVIState(svi.optim.init(params), state.mutable_state, state.rng_key)
            zeros = jax.tree.map(jnp.zeros_like, svi.get_params(state))
            return state, zeros, jnp.zeros((), zeros[next(iter(zeros))].dtype)

        latent_names = [site.name for site in program.latent_sites]

        def start(overrides, data):
            """The unconstrained start: the central values, and the user's where given."""
            return program.unconstrain(override(program.central_latents(data), overrides), data)

        def draw(params, keys, data):
            def one(key):
                latents = guide.sample_posterior(key, params, data)
                return {n: latents[n] for n in latent_names}

            return jax.vmap(one)(keys)

        return {
            "guide": guide,
            "run": jax.jit(run, static_argnums=2),
            # svi.init traced under jit: eagerly it costs seconds of op-by-op dispatch
            "init": jax.jit(init),
            "fit": jax.jit(lambda key, start, data, length: run(init(key, start, data), data,
                                                                length), static_argnums=3),
            "draw": jax.jit(draw),
            "start": jax.jit(start),
        }

    def solve(self) -> ADVIModel:
        """Run the optimisation; warn (ConvergenceWarning) if the loss has not settled.

        See :func:`~bayesgraph.core.model._common.loss_settled` for the rule.

        Returns
        -------
        ADVIModel
            ``self``.
        """
        if self.dimension == 0:
            self.params, self.loss_history = {}, np.zeros(0)
            self._solved = True
            return self
        with self._precision():
            key = self._next_key()
            if show_progress(self.progress_bar):
                state, losses = self._run_with_bar(self._fns["init"](key, self._start, self._data))
            else:
                state, losses = self._fns["fit"](key, self._start, self._data, self.num_steps)
                losses = np.asarray(losses)
            _, total, count = state
            self.params = jax.tree.map(lambda t: t / count, total)
        self.loss_history = np.asarray(losses, dtype=np.float64)
        self._check()
        self._solved = True
        return self

    def _run_with_bar(self, state: Any) -> tuple[Any, np.ndarray]:
        from tqdm import tqdm

        chunk = max(1, self.num_steps // _PROGRESS_CHUNKS)
        losses = []
        with tqdm(total=self.num_steps, desc=type(self).__name__) as bar:
            done = 0
            while done < self.num_steps:
                length = min(chunk, self.num_steps - done)
                state, part = self._fns["run"](state, self._data, length)
                part = np.asarray(part)
                losses.append(part)
                done += length
                bar.update(length)
                bar.set_postfix(loss=f"{float(part[-1]):.4g}")
        return state, np.concatenate(losses)

    def _check(self) -> None:
        loss = self.loss_history
        if not np.isfinite(loss[-1]):
            raise ConvergenceError(
                f"{type(self).__name__}: the ELBO became non-finite "
                f"(last loss {loss[-1]}). Lower learning_rate, give initial_values, or check "
                "that data lie in the support of their distributions"
            )
        if not loss_settled(loss):
            warnings.warn(
                f"{type(self).__name__}: the loss (negative ELBO) has not settled after "
                f"{self.num_steps} steps (mean of the last 10% of steps is still clearly "
                "below the 10% before, relative to the loss noise); increase num_steps or "
                "learning_rate. model.loss_history holds the trace",
                ConvergenceWarning, stacklevel=2,
            )

    def _draw_sites(self, n_samples: int) -> dict[str, np.ndarray]:
        key = self._next_key()
        with self._precision():
            if self.dimension == 0:
                return {}
            keys = jax.random.split(key, n_samples)
            draws = self._fns["draw"](self.params, keys, self._data)
            return {k: np.asarray(v) for k, v in draws.items()}
