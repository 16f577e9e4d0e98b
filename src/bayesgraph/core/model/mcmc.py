"""MCMCModel: the exact posterior, approximated by draws of the No-U-Turn Sampler (NUTS).

NUTS (numpyro's ``NUTS`` kernel run by ``numpyro.infer.MCMC``) draws from the posterior of all
unobserved continuous values. Unobserved *discrete* values (Bernoulli and Categorical
variables without data, or missing entries of them) are summed out exactly before sampling,
and their draws are recovered afterwards from their exact conditional posterior given each
continuous draw (what ``infer_discrete`` does). Poisson latents have unbounded support and
cannot be summed out: they raise :class:`~bayesgraph.exceptions.DiscreteLatentError`.

After sampling the model checks its draws: divergent transitions, the split r-hat (above
:attr:`MCMCModel.RHAT_THRESHOLD`) and the effective sample size (below
:attr:`MCMCModel.MIN_ESS_PER_CHAIN` per chain) each give a :class:`SamplingWarning`; the
numbers are kept in :attr:`MCMCModel.diagnostics`.

Examples
--------
>>> from bayesgraph.core import Graph, Variable
>>> from bayesgraph.core.model.mcmc import MCMCModel
>>> with Graph("g") as g:
...     z = Variable("z", mean=0, variance=1)
...     x = Variable("x", mean=z, variance=1)
>>> model = MCMCModel(g, data={g.x: [2.0]}, num_warmup=200, num_samples=500, seed=0).solve()
>>> bool(abs(model.get_means(g.z)[0] - 1.0) < 0.2)
True
"""

from __future__ import annotations

import functools
import importlib.util
import os
import sys
import warnings
from collections.abc import Mapping
from typing import Any, ClassVar

import jax
import jax.numpy as jnp
import numpy as np

from bayesgraph._warn import warn_user
from bayesgraph.core.compiler.enumeration import Enumeration
from bayesgraph.core.model.base import ModelBase
from bayesgraph.core.scope import NamedObject
from bayesgraph.exceptions import ConvergenceWarning, OptionError

__all__ = ["MCMCModel", "SamplingWarning"]

_CHAIN_METHODS = ("parallel", "sequential", "vectorized")


def _init_strategies() -> dict[str, Any]:
    from numpyro.infer import init_to_mean, init_to_median, init_to_sample, init_to_uniform
    return {"median": init_to_median, "mean": init_to_mean, "uniform": init_to_uniform,
            "sample": init_to_sample}


_INIT_STRATEGIES = _init_strategies()
_EXTRA_FIELDS = ("diverging", "energy", "num_steps", "accept_prob", "adapt_state.step_size",
                 "potential_energy")
#: the largest number of joint configurations of the discrete latents that is summed out


class SamplingWarning(ConvergenceWarning):
    """MCMC diagnostics (divergences, r-hat, effective sample size) say the draws are unreliable.

    Examples
    --------
    >>> issubclass(SamplingWarning, ConvergenceWarning)
    True
    """


class MCMCModel(ModelBase):
    """Posterior draws from the No-U-Turn Sampler (asymptotically exact).

    Parameters
    ----------
    graph, data, compiler, copy_graph, model_graph_options, seed, dtype
        See :class:`~bayesgraph.core.model.base.ModelBase`.
    num_warmup : int
        Warm-up (adaptation) iterations per chain; discarded.
    num_samples : int
        Kept draws per chain.
    num_chains : int
        Independent chains (at least 2 are needed for a meaningful r-hat).
    chain_method : {None, 'parallel', 'sequential', 'vectorized'}
        How chains run; ``None`` picks ``'parallel'`` when there is one JAX device per chain
        and ``'vectorized'`` otherwise.
    target_accept_prob : float
        NUTS' target acceptance probability (raise it, e.g. to 0.95, against divergences).
    max_tree_depth : int
        NUTS' largest tree depth (at most ``2**max_tree_depth - 1`` leapfrog steps per draw);
        draws that reach it are reported after ``solve()``.
    dense_mass : bool or list of lists of variables
        ``True`` adapts a dense inverse mass matrix over all latent values (against strong
        posterior correlations); a list of variable groups adapts one dense block per group
        (a variable stored in a site with others of its kind brings the whole site).
    init_strategy : {'median', 'mean', 'uniform', 'sample'}
        Where chains start (numpyro's ``init_to_median`` etc.; default ``'median'``).
    progress_bar : bool or None
        ``None`` shows a progress bar only in an interactive terminal or a notebook with
        ipywidgets, never when the ``CI`` environment variable is set.

    Attributes
    ----------
    diagnostics : dict
        After ``solve()``: ``num_divergences``, ``max_rhat``, ``min_ess``, per-variable ``rhat``
        and ``ess`` arrays, the settings used and ``warnings`` (the messages issued).

    Notes
    -----
    ``get_means``, ``get_variances`` and ``get_standard_deviations`` use *all* posterior
    draws (``num_chains * num_samples``) and ignore ``n_samples``; ``get_samples`` and
    ``get_example`` pick draws from the pooled chains (without replacement while possible).

    Examples
    --------
    >>> from bayesgraph.core import Graph, Variable
    >>> from bayesgraph.core.model.mcmc import MCMCModel
    >>> with Graph("g") as g:
    ...     z = Variable("z", mean=0, variance=1)
    ...     x = Variable("x", mean=z, variance=1)
    >>> model = MCMCModel(g, data={g.x: [2.0, 0.0]}, num_samples=300, seed=1).solve()
    >>> model.get_samples(g.z, n_samples=7).shape
    (7, 2)
    >>> sorted(k for k in model.diagnostics if k.startswith("m"))
    ['max_rhat', 'min_ess']
    """

    supports_discrete_latents = True
    #: a split r-hat above this gives a SamplingWarning
    RHAT_THRESHOLD: ClassVar[float] = 1.01
    #: an effective sample size below this many per chain gives a SamplingWarning
    MIN_ESS_PER_CHAIN: ClassVar[float] = 100.0

    def __init__(self, graph: NamedObject, data: Mapping | None = None, compiler: Any = None,
                 copy_graph: bool = True, model_graph_options: Mapping | None = None, *,
                 num_warmup: int = 500, num_samples: int = 1000, num_chains: int = 2,
                 chain_method: str | None = None, target_accept_prob: float = 0.8,
                 max_tree_depth: int = 10, dense_mass: Any = False,
                 init_strategy: str = "median",
                 progress_bar: bool | None = None, seed: int | None = None,
                 dtype: str = "float64", grouping: bool = True) -> None:
        super().__init__(graph, data, compiler, copy_graph, model_graph_options, seed=seed,
                         dtype=dtype, grouping=grouping)
        self.num_warmup = _check_int("num_warmup", num_warmup, 0)
        self.num_samples = _check_int("num_samples", num_samples, 1)
        self.num_chains = _check_int("num_chains", num_chains, 1)
        if chain_method is None:
            chain_method = ("parallel" if jax.local_device_count() >= self.num_chains
                            else "vectorized")
        if chain_method not in _CHAIN_METHODS:
            raise OptionError(f"chain_method must be None or one of {_CHAIN_METHODS}, "
                             f"got {chain_method!r}")
        self.chain_method = chain_method
        if not 0.0 < float(target_accept_prob) < 1.0:
            raise OptionError(
                f"target_accept_prob must lie in (0, 1), got {target_accept_prob!r}")
        self.target_accept_prob = float(target_accept_prob)
        self.max_tree_depth = _check_int("max_tree_depth", max_tree_depth, 1)
        if init_strategy not in _INIT_STRATEGIES:
            raise OptionError(f"init_strategy must be one of {tuple(_INIT_STRATEGIES)}, got "
                              f"{init_strategy!r}")
        self.init_strategy = init_strategy
        self.dense_mass = self._dense_mass(dense_mass)
        self.progress_bar = _auto_progress_bar() if progress_bar is None else bool(progress_bar)
        self.diagnostics: dict[str, Any] = {}
        self._samples: dict[str, np.ndarray] | None = None  # {site: (chains, draws, ...)}
        self._extra: dict[str, np.ndarray] = {}
        options = (self.num_warmup, self.num_samples, self.num_chains, self.chain_method,
                   self.target_accept_prob, self.progress_bar, self.max_tree_depth,
                   self.dense_mass, self.init_strategy)
        with self._precision():
            self._fns = self._functions(
                functools.partial(MCMCModel._make, self.program, options, self._data), options)
        self._enumeration = self._fns["enumeration"]
        per_draw = sum(site.size for site in self.program.latent_sites)
        self._chunk = int(max(1, min(256, 2**22 // max(1, per_draw))))

    @staticmethod
    def _make(program: Any, options: tuple[Any, ...], data: Any) -> dict[str, Any]:
        """The sampler and the completion of discrete draws, from the program and options
        (``data`` is only read for its shapes): shared by models with the same fingerprint,
        so a second model of the same structure samples without tracing again."""
        from numpyro.infer import MCMC, NUTS

        (num_warmup, num_samples, num_chains, chain_method, target, progress_bar, depth,
         dense, init) = options
        enumeration = Enumeration(program, data)
        model = program.model if not enumeration.sites else enumeration.marginal_model
        kernel = NUTS(model, target_accept_prob=target, max_tree_depth=depth,
                      dense_mass=list(dense) if isinstance(dense, tuple) else dense,
                      init_strategy=_INIT_STRATEGIES[init]())
        mcmc = MCMC(kernel, num_warmup=num_warmup, num_samples=num_samples,
                    num_chains=num_chains, chain_method=chain_method,
                    progress_bar=progress_bar, jit_model_args=True)

        def complete(latents, keys, data):
            return jax.vmap(lambda one, key: enumeration.complete(one, key, data))(latents, keys)

        return {"mcmc": mcmc, "enumeration": enumeration, "complete": jax.jit(complete)}

    # -- sampling -------------------------------------------------------------------------
    def solve(self) -> MCMCModel:
        """Run NUTS, store the draws and check them (warns on poor diagnostics).

        Returns
        -------
        MCMCModel
            ``self``, so ``MCMCModel(...).solve()`` chains.
        """
        key = self._next_key()
        self._discrete_key = np.asarray(self._next_key())
        with self._precision():
            mcmc = self._fns["mcmc"]
            with warnings.catch_warnings():
                # numpyro warns when 'parallel' falls back to sequential: that is our choice
                warnings.filterwarnings("ignore", message="There are not enough devices")
                mcmc.run(key, self._data, extra_fields=_EXTRA_FIELDS)
            samples = mcmc.get_samples(group_by_chain=True)
            extra = mcmc.get_extra_fields(group_by_chain=True)
            self._samples = {site.name: np.asarray(samples[site.name])
                             for site in self.program.latent_sites if site.name in samples}
            self._extra = {k: np.asarray(v) for k, v in extra.items()}
        self._solved = True
        self._diagnose()
        return self

    def _dense_mass(self, dense_mass: Any) -> bool | tuple[tuple[str, ...], ...]:
        """``dense_mass=`` as numpyro takes it: a bool, or groups of site names (hashable)."""
        if isinstance(dense_mass, (bool, np.bool_)):
            return bool(dense_mass)
        if not isinstance(dense_mass, (list, tuple)) or not all(
                isinstance(g, (list, tuple)) for g in dense_mass):
            raise OptionError(
                "dense_mass must be True/False or a list of lists of variables, got "
                f"{dense_mass!r}")
        groups = []
        for variables in dense_mass:
            sites = []
            for variable in variables:
                name = self._resolve(variable)
                if not isinstance(name, str):
                    raise OptionError(f"dense_mass groups list variables, got {variable!r}")
                site = self.program.site_of(name)
                if site is None:
                    raise OptionError(
                        f"dense_mass names {name!r}, which has no unobserved values to sample")
                if site.name not in sites:
                    sites.append(site.name)
            groups.append(tuple(sites))
        return tuple(groups)

    @property
    def n_draws(self) -> int:
        """Total number of kept draws, ``num_chains * num_samples``."""
        return self.num_chains * self.num_samples

    def _diagnose(self) -> None:
        from numpyro.diagnostics import effective_sample_size, split_gelman_rubin

        rhat, ess = {}, {}
        for site, x in (self._samples or {}).items():
            x = x.astype(np.float64)
            if x.shape[1] >= 4:
                with np.errstate(all="ignore"), warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    site_rhat = np.asarray(split_gelman_rubin(x))
                    site_ess = np.asarray(effective_sample_size(x))
                rhat.update(self._per_variable(site, site_rhat))
                ess.update(self._per_variable(site, site_ess))
        diverging = self._extra.get("diverging")
        n_div = int(np.sum(diverging)) if diverging is not None else 0
        max_rhat, worst_rhat = _extreme(rhat, np.nanmax, -np.inf)
        min_ess, worst_ess = _extreme(ess, np.nanmin, np.inf)
        messages = []
        name = type(self).__name__
        steps = self._extra.get("num_steps")
        saturated = (float(np.mean(steps >= 2 ** self.max_tree_depth - 1))
                     if steps is not None and steps.size else 0.0)
        if saturated >= 0.01:
            messages.append(
                f"{name}: {saturated:.0%} of the draws reached max_tree_depth="
                f"{self.max_tree_depth}: the sampler takes very long trajectories (strongly "
                "correlated or badly scaled posterior). Try dense_mass=True, reparametrise, "
                "or raise max_tree_depth")
        if n_div:
            messages.append(
                f"{name}: {n_div} of {self.n_draws} transitions after warm-up diverged; the "
                "draws may be biased. Raise target_accept_prob (e.g. 0.95) or reparametrise "
                "(e.g. give hierarchical scales less prior mass near zero)")
        if np.isfinite(max_rhat) and max_rhat > self.RHAT_THRESHOLD:
            messages.append(
                f"{name}: the largest split r-hat is {max_rhat:.3f} (for {worst_rhat!r}), above "
                f"{self.RHAT_THRESHOLD}: the chains have not mixed. Increase num_warmup and "
                "num_samples")
        ess_floor = self.MIN_ESS_PER_CHAIN * self.num_chains
        if np.isfinite(min_ess) and min_ess < ess_floor:
            messages.append(
                f"{name}: the smallest effective sample size is {min_ess:.0f} (for "
                f"{worst_ess!r}), below {ess_floor:.0f} ({self.MIN_ESS_PER_CHAIN:.0f} per "
                "chain): means and quantiles are imprecise. Increase num_samples")
        self.diagnostics = {
            "num_divergences": n_div,
            "tree_depth_saturation": saturated,
            "max_rhat": float(max_rhat) if np.isfinite(max_rhat) else float("nan"),
            "min_ess": float(min_ess) if np.isfinite(min_ess) else float("nan"),
            "rhat": rhat,
            "ess": ess,
            "num_warmup": self.num_warmup,
            "num_samples": self.num_samples,
            "num_chains": self.num_chains,
            "chain_method": self.chain_method,
            "warnings": messages,
        }
        for message in messages:
            warn_user(message, SamplingWarning, stacklevel=3)

    def _per_variable(self, site: str, values: np.ndarray) -> dict[str, np.ndarray]:
        """Split a site's per-entry numbers (r-hat, ESS) into its variables' entries (the
        unobserved ones: a partly observed variable gets a flat array of its missing ones)."""
        latent = next(s for s in self.program.latent_sites if s.name == site)
        out = {}
        for m, name in enumerate(latent.members):
            if latent.partial:
                where, _ = self._member_slices[name]
                if where.stop > where.start:
                    out[name] = values[where]
            else:
                out[name] = values[m]
        return out

    # -- results --------------------------------------------------------------------------
    def _site_draws(self, flat_indices: np.ndarray) -> dict[str, np.ndarray]:
        """The latent site values of the given pooled draws; discrete ones are drawn from
        their exact conditional posterior (in chunks, by a jitted function)."""
        self._require_solved()
        assert self._samples is not None
        flat = {k: v.reshape(-1, *v.shape[2:])[flat_indices] for k, v in self._samples.items()}
        if not self._enumeration.sites:
            return flat
        pieces: list[dict[str, np.ndarray]] = []
        m = len(flat_indices)
        with self._precision():
            base = jnp.asarray(self._discrete_key)
            for start in range(0, m, self._chunk):
                idx = np.arange(start, min(m, start + self._chunk))
                padded = np.concatenate([idx, np.repeat(idx[-1:], self._chunk - len(idx))])
                latents = {k: jnp.asarray(v[padded]) for k, v in flat.items()}
                draw_ids = jnp.asarray(flat_indices[padded])
                keys = jax.vmap(lambda i: jax.random.fold_in(base, i))(draw_ids)
                out = self._fns["complete"](latents, keys, self._data)
                pieces.append({k: np.asarray(v)[:len(idx)] for k, v in out.items()})
        return {k: np.concatenate([p[k] for p in pieces]) for k in pieces[0]}

    def _draw_sites(self, n_samples: int) -> dict[str, np.ndarray]:
        total = self.n_draws
        idx = self._rng.choice(total, size=n_samples, replace=n_samples > total)
        return self._site_draws(idx)

    def _draws_by_chain(self, names: list[str]) -> dict[str, np.ndarray]:
        """All draws of ``names``, ``(num_chains, num_samples, *runtime shape)``."""
        values = self._values(self._site_draws(np.arange(self.n_draws)), names, self.n_draws)
        return {k: v.reshape(self.num_chains, self.num_samples, *v.shape[1:])
                for k, v in values.items()}

    def _sample_stats_by_chain(self) -> dict[str, np.ndarray]:
        """NUTS statistics per draw, ``(num_chains, num_samples)``, named as ArviZ names them."""
        self._require_solved()
        e = self._extra
        stats: dict[str, np.ndarray] = {}
        if "diverging" in e:
            stats["diverging"] = e["diverging"].astype(bool)
        if "energy" in e:
            stats["energy"] = e["energy"]
        if "num_steps" in e:
            stats["n_steps"] = e["num_steps"]
            stats["tree_depth"] = (np.floor(np.log2(np.maximum(e["num_steps"], 1))) + 1
                                   ).astype(np.int64)
        if "accept_prob" in e:
            stats["acceptance_rate"] = e["accept_prob"]
        if "adapt_state.step_size" in e:
            stats["step_size"] = e["adapt_state.step_size"]
        if "potential_energy" in e:
            stats["lp"] = -e["potential_energy"]
        return stats

    def _moments(self, names, n_samples):
        """Means and variances over all posterior draws (``n_samples`` is ignored)."""
        count = 0
        means: dict[str, np.ndarray] = {}
        m2: dict[str, np.ndarray] = {}
        step = self._chunk * 4
        for start in range(0, self.n_draws, step):
            idx = np.arange(start, min(start + step, self.n_draws))
            k = len(idx)
            values = self._values(self._site_draws(idx), names, k)
            for n in names:
                x = values[n].astype(np.float64)
                mean_b, m2_b = x.mean(axis=0), ((x - x.mean(axis=0)) ** 2).sum(axis=0)
                if n not in means:
                    means[n], m2[n] = mean_b, m2_b
                else:  # Chan et al.'s pairwise update
                    delta = mean_b - means[n]
                    total = count + k
                    means[n] = means[n] + delta * k / total
                    m2[n] = m2[n] + m2_b + delta**2 * count * k / total
            count += k
        return means, {n: m2[n] / count for n in names}


# -- helpers ----------------------------------------------------------------------------------
def _extreme(per_site: dict[str, np.ndarray], reduce, empty: float) -> tuple[float, str | None]:
    best, where = empty, None
    for name, values in per_site.items():
        values = np.asarray(values, dtype=np.float64)
        if values.size == 0 or np.all(np.isnan(values)):
            continue
        value = float(reduce(values))
        if (reduce is np.nanmax and value > best) or (reduce is np.nanmin and value < best):
            best, where = value, name
    return best, where


def _check_int(name: str, value: Any, minimum: int) -> int:
    if isinstance(value, bool) or int(value) != value or value < minimum:
        raise OptionError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def _auto_progress_bar() -> bool:
    """Show progress only where a person watches: a terminal, or a notebook with widgets."""
    if os.environ.get("CI"):
        return False
    ipython = sys.modules.get("IPython")
    if ipython is not None:
        shell = getattr(ipython, "get_ipython", lambda: None)()
        if type(shell).__name__ == "ZMQInteractiveShell":
            return importlib.util.find_spec("ipywidgets") is not None
    try:
        return bool(sys.stdout.isatty())
    except (AttributeError, ValueError):
        return False
