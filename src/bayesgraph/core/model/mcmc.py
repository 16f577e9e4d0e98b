"""MCMCModel: the exact posterior, approximated by draws of the No-U-Turn Sampler (NUTS).

NUTS (numpyro's ``NUTS`` kernel run by ``numpyro.infer.MCMC``) draws from the posterior of all
unobserved continuous values. Unobserved *discrete* values (Bernoulli and Categorical
variables without data, or missing entries of them) are summed out exactly before sampling,
and their draws are recovered afterwards from their exact conditional posterior given each
continuous draw (what ``infer_discrete`` does). Poisson latents have unbounded support and
cannot be summed out: they raise :class:`~bayesgraph.exceptions.DiscreteLatentError`.

NUTS' tuning options (``dense_mass``, ``max_tree_depth``, ``target_accept_prob``,
``init_strategy``, ``chain_method``) are options of :class:`MCMCModel`. After sampling the
model checks its draws as PyMC and Stan do: divergent transitions
(:class:`DivergenceWarning`), transitions that hit ``max_tree_depth``
(:class:`TreeDepthWarning`), a low energy Bayesian fraction of missing information
(:class:`EnergyWarning`), a rank-normalised split r-hat above 1.01 (:class:`RhatWarning`)
and low bulk or tail effective sample sizes (:class:`EffectiveSampleSizeWarning`), naming
the variables concerned and what to try. All subclass :class:`SamplingWarning`; the numbers
are kept in :attr:`MCMCModel.diagnostics` (see :func:`sampling_diagnostics`).

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
from bayesgraph.core.model._common import check_int
from bayesgraph.core.model.base import ModelBase
from bayesgraph.core.scope import NamedObject
from bayesgraph.exceptions import BayesGraphError, ConvergenceWarning, OptionError

__all__ = ["MCMCModel", "SamplingWarning", "DivergenceWarning", "TreeDepthWarning",
           "EnergyWarning", "RhatWarning", "EffectiveSampleSizeWarning",
           "sampling_diagnostics"]

_CHAIN_METHODS = ("parallel", "sequential", "vectorized")
#: accepted ``init_strategy`` values -> numpyro's initialisation function names
_INIT_STRATEGIES = {"uniform": "init_to_uniform", "median": "init_to_median",
                    "mean": "init_to_mean", "sample": "init_to_sample",
                    "feasible": "init_to_feasible"}
_EXTRA_FIELDS = ("diverging", "energy", "num_steps", "accept_prob", "adapt_state.step_size",
                 "potential_energy")
#: the most values a dense block may hold when it grows past what the user named (whole sites)
MAX_IMPLICIT_DENSE_VALUES = 1000
#: how many variables a warning lists by name
_LISTED = 8
#: a mass matrix structure: a bool, or blocks of names
_Blocks = bool | tuple[tuple[str, ...], ...]


class SamplingWarning(ConvergenceWarning):
    """MCMC diagnostics say the draws are unreliable (base class of MCMC's warnings).

    Examples
    --------
    >>> issubclass(SamplingWarning, ConvergenceWarning)
    True
    """


class DivergenceWarning(SamplingWarning):
    """Transitions after warm-up diverged: the sampler missed part of the posterior.

    Examples
    --------
    >>> issubclass(DivergenceWarning, SamplingWarning)
    True
    """


class TreeDepthWarning(SamplingWarning):
    """Many transitions hit ``max_tree_depth``: sampling is slow and may explore poorly.

    Examples
    --------
    >>> issubclass(TreeDepthWarning, SamplingWarning)
    True
    """


class EnergyWarning(SamplingWarning):
    """A chain's energy Bayesian fraction of missing information (E-BFMI) is below 0.3.

    Examples
    --------
    >>> issubclass(EnergyWarning, SamplingWarning)
    True
    """


class RhatWarning(SamplingWarning):
    """The rank-normalised split r-hat of some variables is above 1.01: chains disagree.

    Examples
    --------
    >>> issubclass(RhatWarning, SamplingWarning)
    True
    """


class EffectiveSampleSizeWarning(SamplingWarning):
    """The bulk or tail effective sample size of some variables is below 100 per chain.

    Examples
    --------
    >>> issubclass(EffectiveSampleSizeWarning, SamplingWarning)
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
    chain_method : {None, 'sequential', 'parallel', 'vectorized'}
        How chains run. ``None`` picks ``'sequential'`` for one chain, ``'parallel'`` (one
        chain per JAX device) when there are enough devices, and ``'vectorized'`` (all chains
        in one computation) otherwise; "enough devices" counts the ``devices`` option
        (``devices=1``: vectorized on one device). ``'parallel'`` without enough devices
        runs the chains one after the other, as numpyro does. MCMC keeps the data whole on
        every device (one chain per device); it does not split the rows.
    target_accept_prob : float
        NUTS' target acceptance probability, in (0, 1); raise it (0.9 to 0.99) against
        divergences: smaller steps, longer trajectories.
    max_tree_depth : int
        NUTS' largest tree depth, 1 to 30: at most ``2**max_tree_depth - 1`` leapfrog steps
        per transition. Transitions that reach it are reported after ``solve()``.
    dense_mass : bool or list of lists of variables
        ``False``: a diagonal inverse mass matrix (numpyro's default). ``True``: one dense
        matrix over all sampled values (against strong posterior correlations; costs a
        Cholesky factorisation of a ``d x d`` matrix per adaptation window). A list of groups
        of variables (objects or global names; an entity stands for its variables): one dense
        block per group, diagonal for the rest, e.g. ``dense_mass=[[g.a, g.b]]``. bayesgraph
        stores variables of one kind together (one numpyro site per group of them, see the
        compiler's README): a group takes the *whole* sites of the variables it names, and
        groups that meet in a site are merged; ``model.dense_mass`` shows the blocks used.
        A block that would grow past 1000 values through variables the group does not name
        raises :class:`~bayesgraph.exceptions.OptionError` (pass ``grouping=False`` to give
        each variable its own site, or ``dense_mass=True``).
    init_strategy : {'uniform', 'median', 'mean', 'sample', 'feasible'}
        Where chains start, in the unconstrained coordinates NUTS samples in: ``'uniform'``
        (default, numpyro's: uniform in (-2, 2)), ``'median'`` (median of 15 prior draws),
        ``'mean'`` (prior mean), ``'sample'`` (one prior draw), ``'feasible'`` (0). Variables
        whose prior cannot be drawn from (``NoDistribution``) start as with ``'uniform'``.
    progress_bar : bool or None
        ``None`` shows a progress bar only in an interactive terminal or a notebook with
        ipywidgets, never when the ``CI`` environment variable is set.

    Attributes
    ----------
    diagnostics : dict
        After ``solve()``: ``num_divergences``, ``tree_depth_saturation`` (share of
        transitions at ``max_tree_depth``), ``bfmi`` (per chain), per-variable ``rhat``,
        ``ess_bulk``, ``ess_tail`` (``ess`` is ``ess_bulk``), ``max_rhat``, ``min_ess``
        (smallest bulk or tail ESS), ``high_rhat`` and ``low_ess`` (the variables flagged),
        the settings used and ``warnings`` (the messages issued).
    dense_mass : bool or tuple of tuple of str
        The mass matrix structure used: a bool, or the blocks as global variable names.

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
    >>> model = MCMCModel(g, data={g.x: [2.0, 0.0]}, num_samples=300, seed=1,
    ...                   dense_mass=True, max_tree_depth=8).solve()
    >>> model.get_samples(g.z, n_samples=7).shape
    (7, 2)
    >>> sorted(k for k in model.diagnostics if k.startswith("m"))
    ['max_rhat', 'max_tree_depth', 'min_ess']
    """

    supports_discrete_latents = True
    #: a rank-normalised split r-hat above this gives a RhatWarning
    RHAT_THRESHOLD: ClassVar[float] = 1.01
    #: a bulk or tail effective sample size below this many per chain gives a warning
    MIN_ESS_PER_CHAIN: ClassVar[float] = 100.0
    #: a chain with a larger share of transitions at max_tree_depth gives a TreeDepthWarning
    TREE_DEPTH_SHARE: ClassVar[float] = 0.05
    #: a chain's E-BFMI below this gives an EnergyWarning
    MIN_BFMI: ClassVar[float] = 0.3

    def __init__(self, graph: NamedObject, data: Mapping | None = None, compiler: Any = None,
                 copy_graph: bool = True, model_graph_options: Mapping | None = None, *,
                 num_warmup: int = 500, num_samples: int = 1000, num_chains: int = 2,
                 chain_method: str | None = None, target_accept_prob: float = 0.8,
                 max_tree_depth: int = 10, dense_mass: Any = False,
                 init_strategy: str = "uniform",
                 progress_bar: bool | None = None, seed: int | None = None,
                 dtype: str = "float64", grouping: bool = True,
                 devices: Any = None) -> None:
        super().__init__(graph, data, compiler, copy_graph, model_graph_options, seed=seed,
                         dtype=dtype, grouping=grouping, devices=devices)
        self.num_warmup = _check_int("num_warmup", num_warmup, 0)
        self.num_samples = _check_int("num_samples", num_samples, 1)
        self.num_chains = _check_int("num_chains", num_chains, 1)
        if chain_method is None:
            # devices=None: every local device may run a chain; devices=k: k of them
            n_devices = jax.local_device_count() if devices is None else len(self.devices)
            chain_method = ("sequential" if self.num_chains == 1 else "parallel"
                            if n_devices >= self.num_chains else "vectorized")
        if not isinstance(chain_method, str) or chain_method not in _CHAIN_METHODS:
            raise OptionError(f"chain_method must be None or one of {_CHAIN_METHODS}, "
                              f"got {chain_method!r}")
        self.chain_method = chain_method
        self.target_accept_prob = _check_probability(target_accept_prob)
        self.max_tree_depth = _check_int("max_tree_depth", max_tree_depth, 1, 30)
        if not isinstance(init_strategy, str) or init_strategy not in _INIT_STRATEGIES:
            raise OptionError(f"init_strategy must be one of {tuple(_INIT_STRATEGIES)}, got "
                              f"{init_strategy!r}")
        self.init_strategy = init_strategy
        dense_sites, self.dense_mass = self._dense_mass(dense_mass)
        self.progress_bar = _auto_progress_bar() if progress_bar is None else bool(progress_bar)
        self.diagnostics: dict[str, Any] = {}
        self._samples: dict[str, np.ndarray] | None = None  # {site: (chains, draws, ...)}
        self._extra: dict[str, np.ndarray] = {}
        # every option that shapes the sampler is part of the compiled-function cache key
        options = (self.num_warmup, self.num_samples, self.num_chains, self.chain_method,
                   self.target_accept_prob, self.progress_bar, self.max_tree_depth,
                   dense_sites, self.init_strategy)
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
        from numpyro import infer

        (num_warmup, num_samples, num_chains, chain_method, target, progress_bar, depth,
         dense, init) = options
        enumeration = Enumeration(program, data)
        model = program.model if not enumeration.sites else enumeration.marginal_model
        kernel = infer.NUTS(model, target_accept_prob=target, max_tree_depth=depth,
                            dense_mass=list(dense) if isinstance(dense, tuple) else dense,
                            init_strategy=getattr(infer, _INIT_STRATEGIES[init])())
        mcmc = infer.MCMC(kernel, num_warmup=num_warmup, num_samples=num_samples,
                          num_chains=num_chains, chain_method=chain_method,
                          progress_bar=progress_bar, jit_model_args=True)

        def complete(latents, keys, data):
            return jax.vmap(lambda one, key: enumeration.complete(one, key, data))(latents, keys)

        return {"mcmc": mcmc, "enumeration": enumeration, "complete": jax.jit(complete)}

    def _dense_mass(self, dense_mass: Any) -> tuple[_Blocks, _Blocks]:
        """``dense_mass=`` as numpyro takes it (a bool, or blocks of site names, hashable for
        the cache key) and as the user reads it (a bool, or blocks of variable names)."""
        if isinstance(dense_mass, (bool, np.bool_)):
            return bool(dense_mass), bool(dense_mass)
        usage = ("dense_mass must be True, False or a list of groups of variables, e.g. "
                 "dense_mass=[[g.a, g.b]]")
        if not isinstance(dense_mass, (list, tuple)):
            raise OptionError(f"{usage}; got {dense_mass!r}")
        groups: list[list[str]] = []
        for group in dense_mass:
            if not isinstance(group, (list, tuple, set, frozenset)):
                raise OptionError(f"{usage}; got the element {group!r} (wrap a group of "
                                  "variables in a list of its own)")
            names: list[str] = []
            for item in group:
                try:
                    resolved = self._resolve(item)
                except (BayesGraphError, TypeError) as error:
                    raise OptionError(f"dense_mass: {error}") from None
                for name in _leaves(resolved):
                    if name not in names:
                        names.append(name)
            if names:
                groups.append(names)
        if not groups:
            return False, False
        sites = {s.name: s for s in self.program.latent_sites}
        site_groups: list[list[str]] = []
        for names in groups:
            group_sites: list[str] = []
            for name in names:
                site = self.program.site_of(name)
                if site is None or not self._has_missing(name, site):
                    raise OptionError(
                        f"dense_mass names {name!r}, which has no unobserved values in this "
                        "model (it is observed or computed from other variables): NUTS does "
                        "not sample it. Leave it out of dense_mass")
                if site.discrete:
                    raise OptionError(
                        f"dense_mass names the discrete variable {name!r}: discrete values are "
                        "summed out, not sampled by NUTS. Leave it out of dense_mass")
                if site.name not in group_sites:
                    group_sites.append(site.name)
            site_groups.append(group_sites)
        # groups that meet in a site become one block (numpyro needs disjoint blocks)
        blocks: list[tuple[list[str], set[str]]] = []
        for group_sites, names in zip(site_groups, groups):
            merged_sites, merged_names = list(group_sites), set(names)
            keep = []
            for block_sites, block_names in blocks:
                if set(block_sites) & set(merged_sites):
                    merged_sites = block_sites + [s for s in merged_sites if s not in block_sites]
                    merged_names |= block_names
                else:
                    keep.append((block_sites, block_names))
            blocks = keep + [(merged_sites, merged_names)]
        numpyro_blocks, user_blocks = [], []
        for block_sites, named in blocks:
            members = [m for s in block_sites for m in sites[s].members
                       if self._has_missing(m, sites[s])]
            size = sum(sites[s].size for s in block_sites)
            extra = [m for m in members if m not in named]
            if extra and size > MAX_IMPLICIT_DENSE_VALUES:
                listed = ", ".join(repr(m) for m in extra[:3])
                raise OptionError(
                    f"dense_mass: the block of {sorted(named)!r} would hold {size} values: "
                    f"bayesgraph stores {listed}{' and more' if len(extra) > 3 else ''} in the "
                    "same numpyro site as a variable named (variables of one kind share a "
                    "site), and a dense block takes whole sites. Pass grouping=False so that "
                    "each variable has a site of its own, or dense_mass=True")
            numpyro_blocks.append(tuple(block_sites))
            user_blocks.append(tuple(members))
        return tuple(numpyro_blocks), tuple(user_blocks)

    def _has_missing(self, name: str, site: Any) -> bool:
        """Whether variable ``name`` has values in (latent) ``site``."""
        if not site.partial:
            return True
        where, _ = self._member_slices.get(name, (slice(0, 0), ()))
        return where.stop > where.start

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
            # numpyro's HMC.init wraps the kernel's sample function in one more vmap at every
            # vectorised start, and the kernel is shared by every model of this structure and
            # options: after a second run any retrace (new data shapes, cleared caches) failed.
            # Fresh kernel functions per run; the compiled sampling loop is reused all the same.
            mcmc.sampler._init_fn = None
            mcmc.sampler._sample_fn = None
            with warnings.catch_warnings():
                # numpyro warns when 'parallel' falls back to sequential: that is documented
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

    # -- diagnostics ------------------------------------------------------------------------
    def _diagnose(self) -> None:
        """Compute :attr:`diagnostics` from the draws and issue the warnings."""
        rhat: dict[str, np.ndarray] = {}
        bulk: dict[str, np.ndarray] = {}
        tail: dict[str, np.ndarray] = {}
        for site, x in (self._samples or {}).items():
            numbers = sampling_diagnostics(x)
            rhat.update(self._per_variable(site, numbers["rhat"]))
            bulk.update(self._per_variable(site, numbers["ess_bulk"]))
            tail.update(self._per_variable(site, numbers["ess_tail"]))
        chains, name = self.num_chains, type(self).__name__
        diverging = self._extra.get("diverging")
        n_div = int(np.sum(diverging)) if diverging is not None else 0
        steps = self._extra.get("num_steps")
        at_depth = (np.asarray(steps) >= 2**self.max_tree_depth - 1 if steps is not None
                    else np.zeros((chains, 0), bool))
        saturation = float(np.mean(at_depth)) if at_depth.size else 0.0
        worst_chain = float(np.max(np.mean(at_depth, axis=1))) if at_depth.size else 0.0
        bfmi = _bfmi(self._extra["energy"]) if "energy" in self._extra else np.full(chains, np.nan)

        worst_rhat = {n: float(np.nanmax(v)) for n, v in rhat.items() if _any_finite(v)}
        worst_ess = {n: min(float(np.nanmin(bulk[n])) if _any_finite(bulk[n]) else np.inf,
                            float(np.nanmin(tail[n])) if _any_finite(tail[n]) else np.inf)
                     for n in bulk}
        ess_floor = self.MIN_ESS_PER_CHAIN * chains
        high_rhat = sorted((n for n, v in worst_rhat.items() if v > self.RHAT_THRESHOLD),
                           key=lambda n: -worst_rhat[n])
        low_ess = sorted((n for n, v in worst_ess.items() if v < ess_floor),
                         key=lambda n: worst_ess[n])
        hint = self._correlation_hint(high_rhat + [n for n in low_ess if n not in high_rhat]
                                      or list(bulk))
        messages: list[tuple[type[Warning], str]] = []
        if n_div:
            messages.append((DivergenceWarning, (
                f"{name}: {n_div} of {self.n_draws} transitions after warm-up diverged "
                f"({n_div / self.n_draws:.1%}): the sampler cannot follow the posterior's "
                "curvature somewhere (typically a hierarchical scale near zero: a funnel), so "
                "the draws may be biased. Raise target_accept_prob (now "
                f"{self.target_accept_prob:g}; try 0.95 or 0.99) or reparametrise (non-centred: "
                "x = mu + tau * z with z ~ N(0, 1))")))
        if worst_chain > self.TREE_DEPTH_SHARE:
            messages.append((TreeDepthWarning, (
                f"{name}: {saturation:.0%} of the transitions after warm-up reached "
                f"max_tree_depth={self.max_tree_depth} ({2**self.max_tree_depth - 1} leapfrog "
                "steps): the posterior is strongly correlated or badly scaled, so sampling is "
                "slow and may explore poorly. Try dense_mass=True (or groups of the correlated "
                "variables), reparametrise (centre covariates), or raise max_tree_depth"
                + hint)))
        low_bfmi = [c for c in range(len(bfmi)) if np.isfinite(bfmi[c]) and bfmi[c] < self.MIN_BFMI]
        if low_bfmi:
            listed = ", ".join(f"chain {c}: {bfmi[c]:.2f}" for c in low_bfmi)
            messages.append((EnergyWarning, (
                f"{name}: the energy Bayesian fraction of missing information is below "
                f"{self.MIN_BFMI} ({listed}): the momentum resampling cannot move the chain "
                "through the posterior's energy levels (heavy tails or a funnel). Reparametrise "
                "(non-centred hierarchies) or run a longer warm-up (num_warmup)")))
        if high_rhat:
            messages.append((RhatWarning, (
                f"{name}: the rank-normalised split r-hat is above {self.RHAT_THRESHOLD} for "
                f"{_listing(high_rhat, worst_rhat, '{:.3f}')}: the chains disagree, so the draws "
                "are not (yet) from the posterior. Run a longer warm-up (num_warmup, now "
                f"{self.num_warmup}) and more draws; for strongly correlated variables use "
                "dense_mass=True, for a multimodal posterior no setting helps" + hint)))
        if low_ess:
            messages.append((EffectiveSampleSizeWarning, (
                f"{name}: the bulk or tail effective sample size is below {ess_floor:.0f} "
                f"({self.MIN_ESS_PER_CHAIN:.0f} per chain) for "
                f"{_listing(low_ess, worst_ess, '{:.0f}')}: means, sds and quantiles are "
                "imprecise and r-hat is unreliable. Increase num_samples (now "
                f"{self.num_samples}); if the draws are strongly autocorrelated try "
                "dense_mass=True or a longer warm-up" + hint)))
        self.diagnostics = {
            "num_divergences": n_div,
            "divergences_per_chain": (np.sum(diverging, axis=1).astype(int)
                                      if diverging is not None else np.zeros(chains, int)),
            "tree_depth_saturation": saturation,
            "bfmi": bfmi,
            "max_rhat": max(worst_rhat.values(), default=float("nan")),
            "min_ess": min((v for v in worst_ess.values() if np.isfinite(v)),
                           default=float("nan")),
            "rhat": rhat,
            "ess_bulk": bulk,
            "ess_tail": tail,
            "ess": bulk,
            "high_rhat": high_rhat,
            "low_ess": low_ess,
            "num_warmup": self.num_warmup,
            "num_samples": self.num_samples,
            "num_chains": chains,
            "chain_method": self.chain_method,
            "target_accept_prob": self.target_accept_prob,
            "max_tree_depth": self.max_tree_depth,
            "dense_mass": self.dense_mass,
            "init_strategy": self.init_strategy,
            "warnings": [message for _, message in messages],
        }
        for category, message in messages:
            warn_user(message, category)

    def _correlation_hint(self, names: list[str]) -> str:
        """`` (the draws of 'a' and 'b' correlate at -1.00: ...)`` for the most correlated
        pair among the first entries of ``names`` (scalars and small vectors), or ``''``."""
        columns, labels = [], []
        for var in names:
            draws = self._latent_entries(var)
            if draws is None:
                continue
            for i in range(min(draws.shape[1], 4)):
                columns.append(draws[:, i])
                labels.append(repr(var) if draws.shape[1] == 1 else f"{var!r}[{i}]")
            if len(columns) >= 40:
                break
        if len(columns) < 2:
            return ""
        matrix = np.stack(columns, axis=1)
        with np.errstate(all="ignore"):
            corr = np.corrcoef(matrix, rowvar=False)
        np.fill_diagonal(corr, 0.0)
        corr = np.nan_to_num(corr)
        i, j = np.unravel_index(np.argmax(np.abs(corr)), corr.shape)
        if abs(corr[i, j]) < 0.9:
            return ""
        a, b = labels[i].split("[")[0], labels[j].split("[")[0]
        suggestion = f"dense_mass=[[{a}, {b}]]" if a != b else f"dense_mass=[[{a}]]"
        return (f" (the draws of {labels[i]} and {labels[j]} correlate at {corr[i, j]:.3f}: "
                f"{suggestion} or dense_mass=True adapts to that)")

    def _latent_entries(self, name: str) -> np.ndarray | None:
        """Pooled draws ``(n_draws, entries)`` of variable ``name``'s sampled values."""
        site = self.program.site_of(name)
        if site is None or self._samples is None or site.name not in self._samples:
            return None
        x = self._samples[site.name].reshape(self.n_draws, -1)
        if site.partial:
            where, _ = self._member_slices[name]
            return x[:, where]
        members = len(site.members)
        per = x.shape[1] // members
        m = site.members.index(name)
        return x[:, m * per:(m + 1) * per]

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

    _export_option = "num_samples"

    def _export_draw_count(self, n_samples: int) -> int:
        return self.n_draws  # every chain's every draw

    def _export_draws(self, n_samples: int) -> tuple[dict[str, np.ndarray], int, int]:
        return self._site_draws(np.arange(self.n_draws)), self.n_draws, self.num_chains

    def _draw_sites(self, n_samples: int) -> dict[str, np.ndarray]:
        total = self.n_draws
        idx = self._rng.choice(total, size=n_samples, replace=n_samples > total)
        return self._site_draws(idx)

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


# -- convergence diagnostics ------------------------------------------------------------------
def sampling_diagnostics(draws: Any) -> dict[str, np.ndarray]:
    """Rank-normalised split r-hat and bulk and tail effective sample sizes, per entry.

    The diagnostics of Vehtari, Gelman, Simpson, Carpenter and Bürkner (2021), "Rank-normalization,
    folding, and localization: an improved R-hat", computed exactly as ArviZ computes them
    (``az.rhat``, ``az.ess(method="bulk")``, ``az.ess(method="tail")``, so the numbers match
    ``az.summary``), vectorised over entries. With a single chain r-hat compares its two
    halves (ArviZ returns NaN there). Fewer than 4 draws give NaN.

    Parameters
    ----------
    draws : array_like
        ``(chains, draws, *shape)``.

    Returns
    -------
    dict
        ``rhat``, ``ess_bulk`` and ``ess_tail``, each of shape ``shape``.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> same = sampling_diagnostics(rng.normal(size=(4, 1000)))
    >>> bool(same["rhat"] < 1.01), bool(same["ess_bulk"] > 3000)
    (True, True)
    >>> shifted = rng.normal(size=(2, 1000)) + np.array([[0.0], [1.0]])
    >>> bool(sampling_diagnostics(shifted)["rhat"] > 1.1)
    True
    """
    x = np.asarray(draws, dtype=np.float64)
    if x.ndim < 2:
        raise OptionError(f"draws must have shape (chains, draws, ...), got shape {x.shape}")
    chains, n = x.shape[:2]
    shape = x.shape[2:]
    flat = x.reshape(chains, n, -1)
    k = flat.shape[2]
    out = {key: np.full(k, np.nan) for key in ("rhat", "ess_bulk", "ess_tail")}
    if n >= 4 and k:
        step = max(1, 2**21 // (chains * n))
        for start in range(0, k, step):
            piece = flat[:, :, start:start + step]
            finite = np.all(np.isfinite(piece), axis=(0, 1))
            with np.errstate(all="ignore"):
                numbers = _rank_diagnostics(np.where(finite, piece, 0.0))
            for key, value in numbers.items():
                out[key][start:start + step] = np.where(finite, value, np.nan)
    return {key: value.reshape(shape) for key, value in out.items()}


def _rank_diagnostics(x: np.ndarray) -> dict[str, np.ndarray]:
    """r-hat, bulk and tail ESS of finite draws ``(chains, draws, k)``."""
    split = _split_chains(x)
    z = _z_scale(split)
    folded = np.abs(split - np.median(split.reshape(-1, split.shape[2]), axis=0))
    rhat = np.maximum(_rhat(z), _rhat(_z_scale(folded)))
    pooled = x.reshape(-1, x.shape[2])
    low, high = np.quantile(pooled, [0.05, 0.95], axis=0)
    tail = np.minimum(_ess(_split_chains((x <= low).astype(np.float64))),
                      _ess(_split_chains((x <= high).astype(np.float64))))
    return {"rhat": rhat, "ess_bulk": _ess(z), "ess_tail": tail}


def _split_chains(x: np.ndarray) -> np.ndarray:
    """``(chains, draws, k)`` -> ``(2 chains, draws // 2, k)``: first and last halves."""
    half = x.shape[1] // 2
    return np.concatenate([x[:, :half], x[:, x.shape[1] - half:]], axis=0)


def _z_scale(x: np.ndarray) -> np.ndarray:
    """Normal scores of the pooled ranks of each entry (Blom's offset 3/8)."""
    from scipy.special import ndtri
    from scipy.stats import rankdata

    chains, n, k = x.shape
    ranks = rankdata(x.reshape(chains * n, k), method="average", axis=0)
    return ndtri((ranks - 0.375) / (chains * n + 0.25)).reshape(x.shape)


def _rhat(x: np.ndarray) -> np.ndarray:
    """The (unsplit) potential scale reduction of ``(chains, draws, k)``."""
    n = x.shape[1]
    between = n * np.var(np.mean(x, axis=1), axis=0, ddof=1)
    within = np.mean(np.var(x, axis=1, ddof=1), axis=0)
    return np.sqrt((between / within + n - 1) / n)


def _autocov(x: np.ndarray) -> np.ndarray:
    """Biased autocovariances along the draws axis of ``(chains, draws, k)``, by FFT."""
    from scipy.fft import next_fast_len

    n = x.shape[1]
    m = next_fast_len(2 * n)
    centred = x - x.mean(axis=1, keepdims=True)
    spectrum = np.fft.rfft(centred, n=m, axis=1)
    return np.fft.irfft(spectrum * np.conjugate(spectrum), n=m, axis=1)[:, :n] / n


def _ess(x: np.ndarray) -> np.ndarray:
    """Effective sample size of ``(chains, draws, k)`` with Geyer's initial positive and
    monotone sequences, as ArviZ's ``_ess`` (vectorised over ``k``)."""
    chains, n, k = x.shape
    total = chains * n
    acov = _autocov(x)
    mean_var = np.mean(acov[:, 0], axis=0) * n / (n - 1.0)
    var_plus = mean_var * (n - 1.0) / n
    if chains > 1:
        var_plus = var_plus + np.var(np.mean(x, axis=1), axis=0, ddof=1)
    rho = 1.0 - (mean_var - np.mean(acov, axis=0)) / var_plus  # (n, k)
    rho[0] = 1.0
    last = max((n - 3) // 2, 0)  # the pairs (rho[2j], rho[2j + 1]) looked at: j = 0 .. last
    pairs = rho[0:2 * last + 1:2] + rho[1:2 * last + 2:2]
    stops = pairs[1:] <= 0.0
    stop = (np.where(stops.any(axis=0), np.argmax(stops, axis=0) + 1, last) if last > 0
            else np.zeros(k, dtype=int))
    stop = np.where(pairs[0] <= 0.0, 0, stop)  # the first pair that ends the sum
    columns = np.arange(k)
    kept = np.arange(pairs.shape[0])[:, None] < stop[None, :]
    monotone = np.minimum.accumulate(pairs, axis=0)
    even = rho[2 * stop, columns]
    taken = (stop == 0) | (pairs[stop, columns] >= 0.0)
    tau = -1.0 + 2.0 * np.sum(np.where(kept, monotone, 0.0), axis=0) + np.where(
        taken, even, np.maximum(even, 0.0))
    ess = total / np.maximum(tau, 1.0 / np.log10(total))
    constant = (np.max(x, axis=(0, 1)) - np.min(x, axis=(0, 1))) < np.finfo(float).resolution
    ess = np.where(constant, float(x.shape[0] * x.shape[1]), ess)
    return np.where(np.isfinite(var_plus) | constant, ess, np.nan)


def _bfmi(energy: np.ndarray) -> np.ndarray:
    """Energy Bayesian fraction of missing information per chain (Betancourt 2016)."""
    e = np.asarray(energy, dtype=np.float64)
    if e.ndim != 2 or e.shape[1] < 2:
        return np.full(e.shape[0] if e.ndim else 1, np.nan)
    with np.errstate(all="ignore"):
        return np.mean(np.diff(e, axis=1) ** 2, axis=1) / np.var(e, axis=1)


# -- helpers ----------------------------------------------------------------------------------
def _leaves(resolved: Any) -> list[str]:
    """The global names in a resolved request (a name, or nested dicts/lists of them)."""
    if isinstance(resolved, str):
        return [str(resolved)]
    if isinstance(resolved, Mapping):
        return [n for value in resolved.values() for n in _leaves(value)]
    if isinstance(resolved, (list, tuple)):
        return [n for value in resolved for n in _leaves(value)]
    raise OptionError(f"dense_mass groups list variables, got {resolved!r}")


def _listing(names: list[str], values: Mapping[str, float], fmt: str) -> str:
    """``"2 variables: 'a' (1.2), 'b' (1.1)"``, the first few of them."""
    shown = ", ".join(f"{n!r} ({fmt.format(values[n])})" for n in names[:_LISTED])
    more = f" and {len(names) - _LISTED} more" if len(names) > _LISTED else ""
    return f"{len(names)} variable{'s' if len(names) > 1 else ''}: {shown}{more}"


def _any_finite(values: Any) -> bool:
    return bool(np.any(np.isfinite(np.asarray(values, dtype=np.float64))))


_check_int = check_int


def _check_probability(value: Any) -> float:
    message = f"target_accept_prob must be a number in (0, 1), e.g. 0.9, got {value!r}"
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.number)):
        raise OptionError(message)
    if not 0.0 < float(value) < 1.0:
        raise OptionError(message)
    return float(value)


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
