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

import importlib.util
import itertools
import os
import sys
import warnings
from collections.abc import Mapping
from typing import Any, ClassVar

import jax
import jax.numpy as jnp
import numpy as np
import numpyro
from jax.scipy.special import logsumexp

from bayesgraph.core.compiler.program import Emitter, LatentSite, Program
from bayesgraph.core.lowering.spec import ModelSpec, VariableSpec
from bayesgraph.core.model.base import ModelBase
from bayesgraph.core.scope import NamedObject
from bayesgraph.exceptions import ConvergenceWarning, DiscreteLatentError

__all__ = ["MCMCModel", "SamplingWarning"]

_CHAIN_METHODS = ("parallel", "sequential", "vectorized")
_EXTRA_FIELDS = ("diverging", "energy", "num_steps", "accept_prob", "adapt_state.step_size",
                 "potential_energy")
#: the largest number of joint configurations of the discrete latents that is summed out
MAX_CONFIGURATIONS = 4096


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
    progress_bar : bool or None
        ``None`` shows a progress bar only in an interactive terminal or a notebook with
        ipywidgets, never when the ``CI`` environment variable is set.

    Attributes
    ----------
    diagnostics : dict
        After ``solve()``: ``num_divergences``, ``max_rhat``, ``min_ess``, per-site ``rhat``
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
                 progress_bar: bool | None = None, seed: int | None = None,
                 dtype: str = "float64") -> None:
        super().__init__(graph, data, compiler, copy_graph, model_graph_options, seed=seed,
                         dtype=dtype)
        self.num_warmup = _check_int("num_warmup", num_warmup, 0)
        self.num_samples = _check_int("num_samples", num_samples, 1)
        self.num_chains = _check_int("num_chains", num_chains, 1)
        if chain_method is None:
            chain_method = ("parallel" if jax.local_device_count() >= self.num_chains
                            else "vectorized")
        if chain_method not in _CHAIN_METHODS:
            raise ValueError(f"chain_method must be None or one of {_CHAIN_METHODS}, "
                             f"got {chain_method!r}")
        self.chain_method = chain_method
        if not 0.0 < float(target_accept_prob) < 1.0:
            raise ValueError(
                f"target_accept_prob must lie in (0, 1), got {target_accept_prob!r}")
        self.target_accept_prob = float(target_accept_prob)
        self.progress_bar = _auto_progress_bar() if progress_bar is None else bool(progress_bar)
        self.diagnostics: dict[str, Any] = {}
        with self._precision():
            self._enumeration = _Enumeration(self.program, self.spec, self._data)
        self._samples: dict[str, np.ndarray] | None = None  # {site: (chains, draws, ...)}
        self._extra: dict[str, np.ndarray] = {}
        program, enumeration = self.program, self._enumeration
        self._numpyro_model = (program.model if not enumeration.sites
                               else enumeration.marginal_model)

        def values(latents, keys, data):
            def one(latent, key):
                return program.values_at(enumeration.complete(latent, key, data), data)
            return jax.vmap(one)(latents, keys)

        self._values_fn = jax.jit(values)
        per_draw = sum(int(np.prod(v.full_shape(self.n_data), dtype=np.int64))
                       for v in self.spec.variables)
        self._chunk = int(max(1, min(256, 2**22 // max(1, per_draw))))

    # -- sampling -------------------------------------------------------------------------
    def solve(self) -> MCMCModel:
        """Run NUTS, store the draws and check them (warns on poor diagnostics).

        Returns
        -------
        MCMCModel
            ``self``, so ``MCMCModel(...).solve()`` chains.
        """
        from numpyro.infer import MCMC, NUTS

        key = self._next_key()
        self._discrete_key = np.asarray(self._next_key())
        with self._precision():
            kernel = NUTS(self._numpyro_model, target_accept_prob=self.target_accept_prob)
            mcmc = MCMC(kernel, num_warmup=self.num_warmup, num_samples=self.num_samples,
                        num_chains=self.num_chains, chain_method=self.chain_method,
                        progress_bar=self.progress_bar, jit_model_args=True)
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

    @property
    def n_draws(self) -> int:
        """Total number of kept draws, ``num_chains * num_samples``."""
        return self.num_chains * self.num_samples

    def _diagnose(self) -> None:
        from numpyro.diagnostics import effective_sample_size, split_gelman_rubin

        rhat, ess = {}, {}
        for name, x in (self._samples or {}).items():
            x = x.astype(np.float64)
            if x.shape[1] >= 4:
                with np.errstate(all="ignore"), warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    rhat[name] = np.asarray(split_gelman_rubin(x))
                    ess[name] = np.asarray(effective_sample_size(x))
        diverging = self._extra.get("diverging")
        n_div = int(np.sum(diverging)) if diverging is not None else 0
        max_rhat, worst_rhat = _extreme(rhat, np.nanmax, -np.inf)
        min_ess, worst_ess = _extreme(ess, np.nanmin, np.inf)
        messages = []
        name = type(self).__name__
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
            warnings.warn(message, SamplingWarning, stacklevel=3)

    # -- results --------------------------------------------------------------------------
    def _values_at(self, flat_indices: np.ndarray) -> dict[str, np.ndarray]:
        """Every variable's value at the given pooled draw indices (computed in chunks)."""
        self._require_solved()
        assert self._samples is not None
        flat = {k: v.reshape(-1, *v.shape[2:]) for k, v in self._samples.items()}
        pieces: list[dict[str, np.ndarray]] = []
        m = len(flat_indices)
        with self._precision():
            base = jnp.asarray(self._discrete_key)
            for start in range(0, m, self._chunk):
                idx = flat_indices[start:start + self._chunk]
                padded = np.concatenate([idx, np.repeat(idx[:1], self._chunk - len(idx))])
                latents = {k: jnp.asarray(v[padded]) for k, v in flat.items()}
                keys = jax.vmap(lambda i: jax.random.fold_in(base, i))(jnp.asarray(padded))
                out = self._values_fn(latents, keys, self._data)
                pieces.append({k: np.asarray(v)[:len(idx)] for k, v in out.items()})
        if not pieces:
            return {}
        return {k: np.concatenate([p[k] for p in pieces]) for k in pieces[0]}

    def _draw(self, n_samples: int) -> dict[str, np.ndarray]:
        total = self.n_draws
        idx = self._rng.choice(total, size=n_samples, replace=n_samples > total)
        return self._values_at(idx)

    def _draws_by_chain(self) -> dict[str, np.ndarray]:
        """All draws of every variable, ``(num_chains, num_samples, *runtime shape)``."""
        values = self._values_at(np.arange(self.n_draws))
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
            values = self._values_at(idx)
            k = len(idx)
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


# -- exact summation over discrete latents --------------------------------------------------
class _Enumeration:
    """Sums unobserved discrete values out of the joint density, and draws them back.

    Discrete latents of StaticVariables are enumerated jointly (``S`` configurations); those
    of dynamic Variables per example (``D`` configurations of one example's values, the same
    table for every example, since examples are independent given the static values). The
    marginal log-density is ``logsumexp_s [static(s) + sum_i logsumexp_d example_i(s, d)]``.
    Entries of a partially observed variable that are observed are enumerated too; that adds
    a constant (independent of the latents) and leaves the posterior unchanged.
    """

    def __init__(self, program: Program, spec: ModelSpec, data: Any) -> None:
        self.program, self.spec, self.n_data = program, spec, spec.n_data
        self.sites = [s for s in program.latent_sites if s.discrete]
        if not self.sites:
            return
        for site in self.sites:
            if site.distribution == "PoissonDistribution":
                what = "missing entries of" if site.partial else "unobserved"
                raise DiscreteLatentError(
                    f"MCMCModel cannot infer the {what} Poisson variable {site.variable!r}: "
                    "its support is unbounded, so it cannot be summed out, and NUTS needs "
                    "continuous values. Give complete data for it, or model it with a "
                    "continuous distribution (e.g. LogNormal)")
        sizes = _support_sizes(program, data, self.sites)
        self.static = [s for s in self.sites if not spec.variable(s.variable).dynamic]
        self.dynamic = [s for s in self.sites if spec.variable(s.variable).dynamic]
        self.static_table = _configurations(self.static, sizes, spec)
        self.dynamic_table = _configurations(self.dynamic, sizes, spec)
        n_s = _n_configs(self.static_table)
        n_d = _n_configs(self.dynamic_table)
        if n_s * n_d > MAX_CONFIGURATIONS:
            names = ", ".join(repr(s.variable) for s in self.sites)
            raise DiscreteLatentError(
                f"MCMCModel sums unobserved discrete values out exactly, but {names} have "
                f"{n_s} joint configurations (static) times {n_d} per example, more than "
                f"{MAX_CONFIGURATIONS}. Give data for some of them, use fewer categories, or "
                "use ForwardModel")
        self.n_static, self.n_dynamic = n_s, n_d

    # site values for given configurations
    def _site_value(self, site: LatentSite, full: Any, data: Any) -> Any:
        if site.partial:
            return full.reshape(-1)[data["missing"][site.variable]]
        return full

    def _discrete_values(self, s: Any, d_per_example: Any, data: Any) -> dict[str, Any]:
        """Site values for static configuration ``s`` and per-example configurations (n,)."""
        values = {}
        for site in self.static:
            values[site.name] = self._site_value(site, self.static_table[site.name][s], data)
        for site in self.dynamic:
            full = self.dynamic_table[site.name][d_per_example]  # (n, *shape)
            values[site.name] = self._site_value(site, full, data)
        return values

    def _terms(self, continuous: dict[str, Any], data: Any) -> tuple[Any, Any]:
        """``static (S,)`` and ``per example (S, D, n)`` log-density terms."""
        def at(s, d):
            values = dict(continuous)
            values.update(self._discrete_values(s, jnp.full((self.n_data,), d), data))
            emitter = _SplitDensityEmitter(values, self.n_data)
            self.program.execute(data, emitter)
            return emitter.static, emitter.per_example

        grid = jax.vmap(jax.vmap(at, in_axes=(None, 0)), in_axes=(0, None))
        static, per_example = grid(jnp.arange(self.n_static), jnp.arange(self.n_dynamic))
        return static[:, 0], per_example

    def marginal_model(self, data: Any) -> None:
        """numpyro model: continuous sites, and the discrete values summed out (a factor)."""
        first = self._discrete_values(0, jnp.zeros(self.n_data, jnp.int32), data)
        recorder = _ContinuousSites(first)
        self.program.execute(data, recorder)
        static, per_example = self._terms(recorder.values, data)
        total = static + jnp.sum(logsumexp(per_example, axis=1), axis=-1)
        numpyro.factor("discrete_latents_summed_out", logsumexp(total))

    def complete(self, latents: dict[str, Any], key: Any, data: Any) -> dict[str, Any]:
        """Add discrete site values drawn from their exact conditional posterior."""
        if not self.sites:
            return latents
        static, per_example = self._terms(latents, data)
        k1, k2 = jax.random.split(key)
        total = static + jnp.sum(logsumexp(per_example, axis=1), axis=-1)
        s = jax.random.categorical(k1, total)
        d = jax.random.categorical(k2, per_example[s].T, axis=-1)  # (n,)
        values = dict(latents)
        values.update(self._discrete_values(s, d, data))
        return values


class _SplitDensityEmitter(Emitter):
    """Log-density at given (constrained) values, split into static and per-example terms."""

    def __init__(self, values: dict[str, Any], n_data: int) -> None:
        self.values, self.n_data = values, n_data
        self.static = jnp.zeros(())
        self.per_example = jnp.zeros((n_data,))

    def _add(self, log_prob: Any, var: VariableSpec) -> None:
        if var.dynamic:
            self.per_example = self.per_example + jnp.reshape(
                log_prob, (self.n_data, -1)).sum(-1)
        else:
            self.static = self.static + jnp.sum(log_prob)

    def latent(self, site: LatentSite, d: Any, var: VariableSpec) -> Any:
        x = self.values[site.name]
        if not site.partial:
            self._add(d.log_prob(x), var)
        return x

    def observe(self, name: str, d: Any, value: Any, var: VariableSpec) -> None:
        self._add(d.log_prob(value), var)


class _ContinuousSites(Emitter):
    """Emit the continuous latent sites without density (it comes from the summed factor)."""

    def __init__(self, discrete: dict[str, Any]) -> None:
        self.discrete = discrete
        self.values: dict[str, Any] = {}

    def latent(self, site: LatentSite, d: Any, var: VariableSpec) -> Any:
        if site.name in self.discrete:
            return self.discrete[site.name]
        x = numpyro.sample(site.name, d.mask(False))
        self.values[site.name] = x
        return x


class _SupportRecorder(Emitter):
    def __init__(self, names: set[str]) -> None:
        self.names, self.sizes = names, {}

    def latent(self, site: LatentSite, d: Any, var: VariableSpec) -> Any:
        if site.name in self.names:
            support = d.support
            upper = getattr(support, "upper_bound", 1)
            self.sizes[site.name] = int(upper) + 1
        return jnp.zeros(site.shape, jnp.int32 if site.discrete else None)


def _support_sizes(program: Program, data: Any, sites: list[LatentSite]) -> dict[str, int]:
    recorder = _SupportRecorder({s.name for s in sites})
    jax.eval_shape(lambda data: program.execute(data, recorder), data)
    return recorder.sizes


def _configurations(sites: list[LatentSite], sizes: dict[str, int], spec: ModelSpec
                    ) -> dict[str, Any]:
    """All joint configurations of the sites' values for one example (or the static ones)."""
    if not sites:
        return {}
    entries = []
    for site in sites:
        shape = spec.variable(site.variable).shape
        entries.extend([sizes[site.name]] * int(np.prod(shape, dtype=np.int64)))
    count = int(np.prod(entries, dtype=np.float64))
    if count > MAX_CONFIGURATIONS:
        names = ", ".join(repr(s.variable) for s in sites)
        raise DiscreteLatentError(
            f"MCMCModel sums unobserved discrete values out exactly, but {names} have {count} "
            f"joint configurations, more than {MAX_CONFIGURATIONS}. Give data for some of "
            "them, or use fewer or smaller discrete variables")
    grid = np.array(list(itertools.product(*[range(k) for k in entries])), dtype=np.int32)
    grid = grid.reshape(count, len(entries))
    tables, start = {}, 0
    for site in sites:
        shape = spec.variable(site.variable).shape
        size = int(np.prod(shape, dtype=np.int64))
        tables[site.name] = jnp.asarray(grid[:, start:start + size].reshape(count, *shape))
        start += size
    return tables


def _n_configs(table: dict[str, Any]) -> int:
    return int(next(iter(table.values())).shape[0]) if table else 1


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
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
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
