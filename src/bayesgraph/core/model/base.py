"""The one base class of every model: data handling, result requests, precision, seeds.

A model lowers its graph and data once (a frozen snapshot: later edits of the graph do not
affect it), compiles the program, and answers requests for samples, examples, means,
variances and standard deviations of variables, entities, graphs or nested lists, tuples and
dicts of them, returning the same structure.

Shapes: a dynamic :class:`~bayesgraph.core.Variable` gives ``(n_data, *shape)`` per draw, a
:class:`~bayesgraph.core.StaticVariable` gives ``shape``; ``get_samples`` adds a leading
``n_samples`` axis. An entity or graph gives a dict keyed by child name.

Examples
--------
>>> from bayesgraph.core import Graph, Variable
>>> from bayesgraph.core.model import ForwardModel
>>> with Graph("g") as g:
...     _ = Variable("x", mean=1.0, variance=0.0001)
>>> model = ForwardModel(g, seed=0)
>>> model.get_example(g.x).shape
(1,)
>>> sorted(model.get_means(g, n_samples=10))
['x']
"""

from __future__ import annotations

import difflib
import functools
import inspect
from collections.abc import Mapping
from typing import Any, ClassVar

import jax
import jax.numpy as jnp
import numpy as np

from bayesgraph._structure import leaves, rebuild
from bayesgraph.core.compiler.checks import check_function, first_problem, needs_check
from bayesgraph.core.lowering import group, group_data, lower, member_slices
from bayesgraph.core.lowering.checks import uninformed_flat_variables
from bayesgraph.core.model import _hosts as hosts
from bayesgraph.core.model._compilation_cache import (
    cached_functions,
    ensure_compilation_cache,
    program_for,
)
from bayesgraph.core.model._devices import longest_axis, mesh_of, place_data, resolve_devices
from bayesgraph.core.model._hosts import LocalRows
from bayesgraph.core.model._resources import MAX_VALUES, check_request, chunk_size
from bayesgraph.core.scope import NamedObject, Scopetor
from bayesgraph.core.variable.variable import VariableBase
from bayesgraph.exceptions import (
    DiscreteLatentError,
    ExpressionError,
    ImproperPosteriorError,
    InvalidParameterError,
    MissingVariableError,
    NotSolvedError,
    OptionError,
)

_DTYPES = {"float64": True, "float32": False}


def _precision(dtype: str):
    """A scoped JAX precision switch: float64 unless the model asked for float32."""
    return jax.enable_x64(_DTYPES[dtype])


class ModelBase:
    """Common base of all model classes.

    Parameters
    ----------
    graph : Graph, Entity or Variable
        The model's structure.
    data : dict, DataLinker or LocalRows, optional
        ``{variable: array}``; ``NaN`` marks missing entries, which are inferred.
        :class:`~bayesgraph.core.model.LocalRows` wraps one process's own rows in a
        multi-process run (``jax.distributed``): no process holds another's rows.
    compiler : None or str, optional
        Accepted for Halerium compatibility; bayesgraph always compiles to numpyro/JAX.
    copy_graph : bool
        Accepted for compatibility: a model always works from a frozen snapshot.
    model_graph_options : dict, optional
        Accepted for compatibility; unused.
    seed : int, optional
        Makes all random draws of this model reproducible.
    dtype : {'float64', 'float32'}
        Floating-point precision of the computation (float64 by default).
    grouping : bool
        Compile variables of the same kind (e.g. the same template's variables in many
        entities) into one vectorised site each (default). ``False`` compiles one site per
        variable: the reference path, slow for graphs of many entities.
    devices : None, int or list of jax devices
        Where the data go (see ``docs/scaling.md``). MAP, MAPFisher, ADVI and MGVI split
        the examples axis of the data (or the member axis of a group whose members are the
        long axis) over a 1-D mesh of these devices; MCMC runs its chains one per device.
        ``None`` (default): all devices in a multi-process run (``jax.distributed``), all
        local devices when there are several and every one gets at least 100,000 rows,
        else one. ``1`` forces one device.

    Attributes
    ----------
    grouped : GroupedSpec
        The grouped, frozen description the program was compiled from.
    devices : tuple of jax devices
        The devices the data were placed on (one when not sharded).
    rows : slice
        The rows of the data this process holds: all rows, or with ``data=LocalRows(...)``
        in a multi-process run this process's rows; results of a per-row variable with
        data are these rows (see ``docs/scaling.md``).

    Examples
    --------
    >>> from bayesgraph.core import Variable
    >>> from bayesgraph.core.model import ForwardModel
    >>> ForwardModel(Variable("v")).n_data
    1
    """

    #: whether ``solve()`` must run before results can be asked for
    requires_solve: ClassVar[bool] = True
    #: whether the method can treat discrete latent variables
    supports_discrete_latents: ClassVar[bool] = False
    #: whether the data are split over ``devices`` (MCMC splits chains instead)
    shards_data: ClassVar[bool] = False

    def __init__(self, graph: NamedObject, data: Mapping | None = None, compiler: Any = None,
                 copy_graph: bool = True, model_graph_options: Mapping | None = None, *,
                 seed: int | None = None, dtype: str = "float64",
                 grouping: bool = True, devices: Any = None) -> None:
        if compiler not in (None, "numpyro", "jax"):
            raise OptionError(
                f"compiler={compiler!r} is not available: bayesgraph compiles to numpyro/JAX; "
                "leave compiler=None"
            )
        if dtype not in _DTYPES:
            raise OptionError(f"dtype must be 'float64' or 'float32', got {dtype!r}")
        ensure_compilation_cache()
        self.graph = graph
        self.dtype = dtype
        joined = None
        if isinstance(data, LocalRows):
            if jax.process_count() > 1:
                if not self.shards_data:
                    raise OptionError(
                        f"{type(self).__name__} keeps all rows on every device, so it cannot "
                        "take LocalRows (each process's own rows); use MAPModel, "
                        "MAPFisherModel, ADVIModel or MGVIModel, or give every process all "
                        "rows")
                joined = hosts.prepare(graph, data)
            else:
                data = data.data  # one process: its rows are all rows
        if joined is None:
            self.spec, self._lowered = lower(graph, data)
        else:
            self.spec, self._lowered = joined.spec, joined.lowered
        self.grouped = group(self.spec, grouping=grouping)
        self.program = program_for(self.grouped)
        if joined is None:
            self._grouped_data = group_data(self.grouped, self._lowered)
            self._member_slices = member_slices(self.grouped, self._grouped_data)
        self._seed_sequence = _seed_sequence(seed)
        self._rng = np.random.default_rng(self._seed_sequence)
        self._solved = not self.requires_solve
        if not self.supports_discrete_latents:
            self._reject_discrete_latents()
        if self.requires_solve:
            self._reject_improper_posterior()
        self.devices = resolve_devices(devices, longest_axis(self.grouped))
        self.rows = slice(0, self.n_data)
        if joined is not None:
            mesh = mesh_of(self.devices)
            layout = hosts.row_layout(joined.n_locals, self.devices, mesh,
                                      jax.process_index())
            self.rows = layout.rows
            local = hosts.local_grouped_data(self.grouped, self._lowered, layout.n_local)
            with self._precision():
                self._grouped_data, self._member_slices, self._data = hosts.place(
                    self.grouped, local, layout, hosts.allgather, self._float(), mesh)
            return
        with self._precision():
            self._data = self.program.data_args(self._grouped_data, self._float())
            if self.shards_data:
                self._data = place_data(self._data, self.grouped, mesh_of(self.devices))

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """Every ``solve`` first refuses parameters invalid at the prior's centre with one
        :class:`~bayesgraph.exceptions.InvalidParameterError` (see ``_checked_solve``), and
        every ``__init__`` refuses an unknown keyword with an OptionError naming it."""
        super().__init_subclass__(**kwargs)
        solve = cls.__dict__.get("solve")
        if solve is not None and not getattr(solve, "_checked", False):
            cls.solve = _checked_solve(solve)
        init = cls.__dict__.get("__init__")
        if init is not None and not getattr(init, "_checked", False):
            cls.__init__ = _checked_init(init)  # type: ignore[method-assign]

    def _parameter_problem(self) -> InvalidParameterError | None:
        """The error for a parameter invalid at the prior's centre, if there is one (a
        jitted check, compiled once per program: see ``compiler.checks``)."""
        program = self.program
        if not needs_check(program):
            return None

        def build():
            return jax.jit(check_function(program))

        with self._precision():
            problem = first_problem(program, self._data, self._functions(build, "check"))
        if problem is None:
            return None
        sources = _sources(self.spec, problem.variable, problem.parameter)
        if sources:
            listed = "; ".join(f"{name!r} ~ {prior}" for name, prior in sources[:4])
            more = f" and {len(sources) - 4} more" if len(sources) > 4 else ""
            one = len(sources) == 1
            origin = (f"; it is computed from {listed}{more}, whose prior "
                      f"{'centre makes' if one else 'centres make'} it invalid. Give "
                      f"{'that variable a prior that keeps' if one else 'them priors that keep'}"
                      " it valid")
        else:
            origin = (". Give the variables this parameter is computed from priors that keep "
                      "it valid")
        return InvalidParameterError(
            f"{type(self).__name__}: {problem.describe()}; the density is undefined there"
            f"{origin} (for a variance: a square, HalfNormal, or lower=0), or fix its "
            "expression"
        )

    def _reject_improper_posterior(self) -> None:
        names = uninformed_flat_variables(self.spec)
        if names:
            listed = ", ".join(repr(n) for n in names[:5])
            more = f" and {len(names) - 5} more" if len(names) > 5 else ""
            raise ImproperPosteriorError(
                f"{type(self).__name__}: {listed}{more} ha{'ve' if len(names) > 1 else 's'} "
                "a flat prior (NoDistribution) and no data inform it: no observed variable "
                "depends on it, so its posterior is improper. Give it data, a proper prior "
                "(e.g. distribution='Normal'), or bounds on both sides (lower= and upper=)"
            )

    # -- helpers for subclasses -----------------------------------------------------------
    def _precision(self):
        return _precision(self.dtype)

    def _float(self) -> Any:
        return np.float64 if self.dtype == "float64" else np.float32

    def _functions(self, build: Any, *options: Any) -> Any:
        """Jitted functions from ``build()``, shared by every model of this class with the same
        program fingerprint, precision and ``options`` (see ``_compilation_cache``).

        ``build`` must use only the program and ``options``, never this model's data.
        """
        key = (type(self).__qualname__, self.grouped.fingerprint, self.dtype, options)
        return cached_functions(key, build)

    def _next_key(self) -> jax.Array:
        with self._precision():
            return jax.random.PRNGKey(int(self._rng.integers(0, 2**31 - 1)))

    def _reject_discrete_latents(self) -> None:
        for site in self.program.latent_sites:
            if site.discrete:
                what = "missing entries of" if site.partial else "unobserved"
                raise DiscreteLatentError(
                    f"{type(self).__name__} cannot infer the {what} discrete variable "
                    f"{site.label} ({site.distribution}): gradient-based methods need "
                    "continuous latent variables. Use MCMCModel, which sums Bernoulli and "
                    "Categorical values out exactly, give complete data for it, or use "
                    "ForwardModel (prior sampling)"
                )

    def _require_solved(self) -> None:
        if not self._solved:
            raise NotSolvedError(
                f"{type(self).__name__} has not been solved yet: call model.solve() before "
                "asking for samples, means or variances"
            )

    @property
    def n_data(self) -> int:
        """The number of examples."""
        return self.spec.n_data

    def solve(self) -> ModelBase:
        """Fit the model (a no-op for models that need no fitting). Returns the model."""
        self._solved = True
        return self

    # -- what subclasses provide ----------------------------------------------------------
    def _draw_sites(self, n_samples: int) -> dict[str, np.ndarray]:
        """``{latent site: array (n_samples, *site shape)}``: joint draws of the unobserved
        values only (the missing entries of partly observed groups), never the data."""
        raise NotImplementedError

    def _export_draws(self, n_samples: int) -> tuple[dict[str, np.ndarray], int, int]:
        """What :func:`~bayesgraph.core.model.inference_data.to_inference_data` exports:
        ``(site draws, number of draws, number of chains)``. Models of one chain of
        ``n_samples`` draws keep this; MAP exports its point, MCMC all its chains. The export
        asks the model through this method, so it never imports the model classes."""
        n = self._export_draw_count(n_samples)
        return self._draw_sites(n), n, 1

    #: the option that sets how many draws the ArviZ export holds (named in its errors)
    _export_option: ClassVar[str] = "n_samples"

    def _export_draw_count(self, n_samples: int) -> int:
        """How many draws :meth:`_export_draws` returns for ``n_samples`` (checked against
        the memory limit before drawing)."""
        return n_samples

    def _sample_stats_by_chain(self) -> dict[str, np.ndarray] | None:
        """Sampler statistics per draw, ``(chains, draws)``, for ArviZ's ``sample_stats``
        group; ``None`` for models without a sampler."""
        return None

    # -- from site draws to variables -------------------------------------------------------
    def _draws(self, n_samples: int, names: list[str]) -> dict[str, np.ndarray]:
        """``{global name: array (n_samples, *runtime shape)}`` for ``names``.

        Refuses (:class:`~bayesgraph.exceptions.ResourceError`) a request that would not fit
        in memory, before drawing anything.
        """
        check_request(f"{type(self).__name__}: drawing {_listed(names)}", n_samples,
                      self._values_per_draw(names),
                      fix="or fewer variables; get_means and get_variances work in chunks")
        return self._values(self._draw_sites(n_samples), names, n_samples)

    def _values_per_draw(self, names: list[str]) -> int:
        """Scalars one joint draw of ``names`` holds, with the latent sites it comes from."""
        sites = sum(site.size for site in self.program.latent_sites)
        return sites + sum(int(np.prod(self.spec.variable(n).full_shape(self.n_data)))
                           for n in names)

    def _values(self, sites: dict[str, np.ndarray], names: list[str], n: int, *,
                deterministic: dict[int, np.ndarray] | None = None,
                observed_fill: float | None = None) -> dict[str, np.ndarray]:
        """The values of ``names`` in ``n`` joint draws of the latent sites.

        Observed values come from the data (broadcast, never copied), latent ones from the
        sites; partly observed variables are completed from both, and Dirac variables are
        computed from the sites by a jitted function (or taken from ``deterministic``,
        ``{group index: (n, *group shape)}``). With ``observed_fill`` the observed entries
        are that number instead of the data (for fields such as variances).
        """
        groups = self.grouped.groups
        if deterministic is None:
            wanted = sorted({g for g, _ in map(self.grouped.locate, names)
                             if groups[g].deterministic and groups[g].role != "observed"})
            deterministic = self._deterministic(sites, tuple(wanted), n) if wanted else {}
        computed = deterministic
        out: dict[str, np.ndarray] = {}
        for name in names:
            g, m = self.grouped.locate(name)
            spec = groups[g]
            if g in computed:
                out[name] = computed[g][:, m]
                continue
            if spec.role == "latent":
                value = sites[spec.site][:, m]  # every row: latent values are replicated
                out[name] = value[:, self.rows] if spec.dynamic and self._split_rows else value
                continue
            data = self._grouped_data.values[spec.name][m]
            if observed_fill is not None:
                data = np.full(data.shape, observed_fill)
            where, positions = self._member_slices.get(name, (slice(0, 0), ()))
            if spec.deterministic or len(positions) == 0:
                out[name] = np.broadcast_to(data, (n, *data.shape))
                continue
            value = np.repeat(data[None], n, axis=0)
            value.reshape(n, -1)[:, positions] = sites[spec.site][:, where]
            out[name] = value
        return out

    def _deterministic(self, sites: dict[str, np.ndarray], wanted: tuple[int, ...], n: int
                       ) -> dict[int, np.ndarray]:
        """Values of the Dirac groups ``wanted`` for each draw of ``sites`` (in chunks)."""
        program = self.program
        if not sites:  # nothing random: the values are the same in every draw
            fixed = self._functions(lambda: jax.jit(
                lambda data: program.deterministic_values({}, data, wanted)),
                "deterministic-fixed", wanted)
            with self._precision():
                out = fixed(self._data)
            host = {g: self._host_group(g, v, 1) for g, v in out.items()}
            return {g: np.broadcast_to(v, (n, *v.shape)) for g, v in host.items()}

        def build():
            def run(latents, data):
                return jax.vmap(lambda one: program.deterministic_values(one, data, wanted))(
                    latents)
            return jax.jit(run)

        run = self._functions(build, "deterministic", wanted)
        per_draw = sum(int(np.prod(self.grouped.groups[g].full_shape(self.n_data)))
                       for g in wanted)
        return self._per_draw(lambda latents, rows: run(latents, self._data), sites, n,
                              per_draw)

    def _per_draw(self, run: Any, sites: dict[str, np.ndarray], n: int, per_draw: int
                  ) -> dict[Any, np.ndarray]:
        """``run(latents, rows)`` over ``n`` draws of the sites in chunks of equal size (the
        last padded with its final draw, so one compiled shape serves every chunk), each
        chunk holding about 2^24 values; the results concatenated over draws."""
        chunk = int(max(1, min(n, 2**24 // max(1, per_draw))))
        pieces = []
        with self._precision():
            for start in range(0, n, chunk):
                idx = np.arange(start, min(n, start + chunk))
                padded = np.concatenate([idx, np.repeat(idx[-1:], chunk - len(idx))])
                latents = {k: jnp.asarray(v[padded]) for k, v in sites.items()}
                out = run(latents, padded)
                pieces.append({g: self._host_group(g, v, 2)[:len(idx)] for g, v in out.items()})
        return {g: np.concatenate([p[g] for p in pieces]) for g in pieces[0]}

    @property
    def _split_rows(self) -> bool:
        """Whether this process answers for some rows only (``LocalRows`` in a multi-process
        run): per-row results are then its rows, ``self.rows``."""
        return (self.rows.start, self.rows.stop) != (0, self.n_data)

    @property
    def _n_rows(self) -> int:
        """How many rows this process's per-row results have (``n_data`` but with
        ``LocalRows`` in a multi-process run)."""
        return self.rows.stop - self.rows.start

    def _host_group(self, g: int, value: Any, axis: int) -> np.ndarray:
        """A device result of group ``g`` (rows along ``axis`` when per-row) as numpy: this
        process's rows of a per-row group, else the whole (see :func:`hosts.to_host`)."""
        if self.grouped.groups[g].dynamic:
            return hosts.to_host(value, rows=self.rows, axis=axis)
        return hosts.to_host(value)

    # -- predictive draws and pointwise log-likelihoods ------------------------------------
    def _likelihood_names(self) -> list[str]:
        """The observed variables whose distribution depends on something inferred: those
        with a posterior (prior) predictive distribution and a pointwise log-likelihood.
        Observed Dirac variables and observed variables whose parents are all data (a
        covariate with a prior) have neither: their log-likelihood is a constant."""
        out = []
        for var in self.spec.variables:
            if var.role == "latent":
                continue
            group = self.grouped.groups[self.grouped.locate(var.name)[0]]
            if not (group.deterministic or group.density_is_fixed):
                out.append(var.name)
        return out

    def _check_observed(self, names: list[str], what: str) -> None:
        for name in names:
            group = self.grouped.groups[self.grouped.locate(name)[0]]
            if self.spec.variable(name).role == "latent" or group.deterministic:
                kind = "has no data" if group.role == "latent" else "is a Dirac variable"
                raise OptionError(
                    f"{type(self).__name__}: {name} {kind}, so it has no {what}: ask for "
                    "the observed random variables (those given data), or use get_samples "
                    f"for {name}"
                )

    def _observed_terms(self, sites: dict[str, np.ndarray], names: list[str], n: int, *,
                        predictive: bool) -> dict[str, np.ndarray]:
        """For ``n`` joint draws of the latent sites: replicate draws of the observed
        variables ``names`` (``predictive``; full runtime shape) or their pointwise
        log-likelihoods at the data (runtime shape less event axes; ``NaN`` at the missing
        entries of a partly observed variable, which are not data). Jitted once per set of
        groups, vmapped over draws, in chunks."""
        program = self.program
        groups = tuple(sorted({self.grouped.locate(name)[0] for name in names}))

        def build():
            def run(latents, keys, data):
                def one(latent, key):
                    return program.observed_terms(latent, data, groups,
                                                  key if predictive else None)
                return jax.vmap(one)(latents, keys)
            return jax.jit(run)

        run = self._functions(build, "observed-terms", groups, predictive)
        per_draw = sum(int(np.prod(self.grouped.groups[g].full_shape(self.n_data)))
                       for g in groups) + sum(site.size for site in program.latent_sites)
        check_request(f"{type(self).__name__}: predictive draws of {_listed(names)}", n,
                      per_draw, fix="or fewer variables")
        keys = jax.random.split(self._next_key(), n)
        per_group = self._per_draw(
            lambda latents, rows: run(latents, keys[rows], self._data), sites, n, per_draw)
        result: dict[str, np.ndarray] = {}
        for name in names:
            g, m = self.grouped.locate(name)
            value = np.array(per_group[g][:, m])
            positions = self._member_slices.get(name, (None, ()))[1]
            if predictive:
                result[name] = self._cast(name, value)
                continue
            value = value.astype(np.float64)
            if len(positions):
                full = self.spec.variable(name).full_shape(self._n_rows)
                per_entry = int(np.prod(full[value.ndim - 1:], dtype=np.int64))
                value.reshape(n, -1)[:, np.unique(np.asarray(positions) // per_entry)] = np.nan
            result[name] = value
        return result

    def _moments(self, names: list[str], n_samples: int
                 ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        """Means and variances of ``names``; by default Monte Carlo over ``_draw_sites``,
        in chunks of draws (memory bounded whatever ``n_samples``), merged exactly (Chan et
        al.'s pairwise update of means and sums of squared deviations)."""
        per_draw = self._values_per_draw(names)
        what = f"{type(self).__name__}: moments of {_listed(names)}"
        # one draw must fit in memory, and the whole request must not run for hours
        check_request(what, 1, per_draw, fix="ask for fewer variables", option=None)
        if n_samples * per_draw > MAX_VALUES:
            check_request(what, n_samples, per_draw, fix="or fewer variables")
        chunk = chunk_size(n_samples, per_draw)
        count, means, squares = 0, {}, {}
        for start in range(0, n_samples, chunk):
            size = min(chunk, n_samples - start)
            draws = self._values(self._draw_sites(size), names, size)
            for n in names:
                values = draws[n].astype(np.float64)
                mean = np.mean(values, axis=0)
                square = np.sum((values - mean) ** 2, axis=0)
                if count == 0:
                    means[n], squares[n] = mean, square
                    continue
                delta = mean - means[n]
                total = count + size
                means[n] = means[n] + delta * (size / total)
                squares[n] = squares[n] + square + delta ** 2 * (count * size / total)
            count += size
        return means, {n: squares[n] / count for n in names}

    def _means(self, names: list[str], n_samples: int) -> dict[str, np.ndarray]:
        """Means only (models with cheaper means than variances override this)."""
        return self._moments(names, n_samples)[0]

    # -- request handling -----------------------------------------------------------------
    def _resolve(self, item: Any) -> Any:
        """Turn a request into the same structure with global names at the leaves."""
        if isinstance(item, VariableBase):
            name = item.global_name  # read once: 10^5 variables in one request
            if name not in self.spec:
                raise MissingVariableError(
                    f"{name!r} is not a variable of this model (built from "
                    f"{self.spec.root_name!r}); ask for a variable of the model's graph"
                )
            return _Leaf(self.spec.canonical(name))  # a linked target: its source
        if isinstance(item, Scopetor):
            result = {}
            for name, child in item.children.items():
                resolved = self._resolve(child)
                if not (isinstance(resolved, dict) and not resolved):
                    result[name] = resolved
            return result
        if isinstance(item, str):
            for candidate in (item, f"{self.spec.root_name}/{item}"):
                if candidate in self.spec:
                    return _Leaf(self.spec.canonical(candidate))
            raise MissingVariableError(
                f"{item!r} is not a variable of this model (built from {self.spec.root_name!r})"
            )
        if isinstance(item, Mapping):
            return {k: self._resolve(v) for k, v in item.items()}
        if isinstance(item, (list, tuple)):
            return type(item)(self._resolve(v) for v in item)
        raise ExpressionError(
            f"cannot ask a model for {item!r}: give a variable, entity, graph, global name, or "
            "a list/tuple/dict of them"
        )

    def _answer(self, variables: Any, compute) -> Any:
        self._require_solved()
        structure = self._resolve(variables)
        names = list(dict.fromkeys(map(str, leaves(structure, _Leaf))))
        results = compute(names) if names else {}
        return rebuild(structure, _Leaf, lambda leaf: results[str(leaf)])

    def _cast(self, name: str, values: np.ndarray) -> np.ndarray:
        dtype = self.spec.variable(name).dtype
        if dtype == "bool":
            return values > 0.5
        if dtype == "int":
            return np.rint(values).astype(np.int64)
        return values.astype(np.float64)

    # -- public API -----------------------------------------------------------------------
    def get_samples(self, variables: Any, n_samples: int = 100) -> Any:
        """Draw ``n_samples`` joint samples; each leaf gets ``(n_samples, *result shape)``.

        Examples
        --------
        >>> from bayesgraph.core import Variable
        >>> from bayesgraph.core.model import ForwardModel
        >>> v = Variable("v")
        >>> ForwardModel(v, seed=1).get_samples(v, n_samples=5).shape
        (5, 1)
        """
        n_samples = _check_n(n_samples)

        def compute(names):
            draws = self._draws(n_samples, names)
            return {n: self._cast(n, draws[n]) for n in names}

        return self._answer(variables, compute)

    def get_example(self, variables: Any) -> Any:
        """One joint draw: ``(n_data, *shape)`` for a Variable, ``shape`` for a StaticVariable.

        Examples
        --------
        >>> from bayesgraph.core import Variable
        >>> from bayesgraph.core.model import ForwardModel
        >>> a, b = Variable("a"), Variable("b")
        >>> x, y = ForwardModel(a, seed=1).get_example([a, a])
        >>> bool(x == y)
        True
        """
        def compute(names):
            draws = self._draws(1, names)
            return {n: self._cast(n, draws[n][0]) for n in names}

        return self._answer(variables, compute)

    def get_means(self, variables: Any, n_samples: int = 100) -> Any:
        """Posterior (or prior) means; exact where the method allows, else Monte Carlo.

        Examples
        --------
        >>> from bayesgraph.core import Variable
        >>> from bayesgraph.core.model import ForwardModel
        >>> v = Variable("v", mean=3.0, variance=1e-8)
        >>> ForwardModel(v, seed=0).get_means(v).round(3).tolist()
        [3.0]
        """
        n_samples = _check_n(n_samples)
        return self._answer(variables, lambda names: self._means(names, n_samples))

    def get_variances(self, variables: Any, n_samples: int = 100) -> Any:
        """Posterior (or prior) variances, elementwise.

        Examples
        --------
        >>> from bayesgraph.core import Variable
        >>> from bayesgraph.core.model import ForwardModel
        >>> v = Variable("v", mean=3.0, variance=4.0)
        >>> ForwardModel(v, seed=0).get_variances(v, n_samples=20000).round(0).tolist()
        [4.0]
        """
        n_samples = _check_n(n_samples)
        return self._answer(variables, lambda names: self._moments(names, n_samples)[1])

    def get_standard_deviations(self, variables: Any, n_samples: int = 100) -> Any:
        """Square roots of :meth:`get_variances`.

        Examples
        --------
        >>> from bayesgraph.core import Variable
        >>> from bayesgraph.core.model import ForwardModel
        >>> v = Variable("v", mean=3.0, variance=4.0)
        >>> ForwardModel(v, seed=0).get_standard_deviations(v, n_samples=20000).round(1).tolist()
        [2.0]
        """
        n_samples = _check_n(n_samples)
        return self._answer(
            variables,
            lambda names: {k: np.sqrt(v) for k, v in self._moments(names, n_samples)[1].items()},
        )

    def get_posterior_predictive(self, variables: Any = None, n_samples: int = 100) -> Any:
        """Posterior-predictive draws of observed variables: replicate data.

        Each draw takes one joint posterior draw of the unobserved values and draws every
        requested observed variable from its distribution given its parents there (data
        where the parents are observed: covariates stay fixed). MAP models give plug-in draws
        at the mode; ForwardModel has :meth:`get_prior_predictive` instead.

        Parameters
        ----------
        variables : variable, global name, or a list/tuple/dict of them, optional
            Observed random variables; default every observed variable whose distribution
            depends on an inferred value, as a dict keyed by global name.
        n_samples : int
            Number of draws; each leaf gets ``(n_samples, *result shape)``.

        Examples
        --------
        >>> from bayesgraph.core import Graph, StaticVariable, Variable
        >>> from bayesgraph.core.model import MAPFisherModel
        >>> with Graph("g") as g:
        ...     mu = StaticVariable("mu", mean=0, variance=100)
        ...     y = Variable("y", mean=mu, variance=1)
        >>> model = MAPFisherModel(g, data={g.y: [1.0, 3.0]}, seed=0).solve()
        >>> model.get_posterior_predictive(g.y, n_samples=4000).shape
        (4000, 2)
        >>> sorted(model.get_posterior_predictive(n_samples=5))
        ['g/y']
        """
        if not type(self).requires_solve:
            raise OptionError(
                f"{type(self).__name__} draws from the prior: use get_prior_predictive, or "
                "fit a posterior model (get_posterior_model) for posterior-predictive draws"
            )
        return self._predictive(variables, n_samples, "posterior-predictive distribution")

    def _predictive(self, variables: Any, n_samples: int, what: str) -> Any:
        n_samples = _check_n(n_samples)
        self._require_solved()

        def compute(names):
            self._check_observed(names, what)
            self._check_site_draws(n_samples, what)
            return self._observed_terms(self._draw_sites(n_samples), names, n_samples,
                                        predictive=True)

        if variables is None:
            return compute(self._likelihood_names())
        return self._answer(variables, compute)

    def get_log_likelihood(self, variables: Any = None, n_samples: int = 100) -> Any:
        """Pointwise log-likelihoods: the log-density of each observed entry given its
        parents, for ``n_samples`` joint draws of the unobserved values (what ``az.loo`` and
        ``az.waic`` read from the ``log_likelihood`` group of :meth:`to_inference_data`).

        Entries are per data point and per entry of the variable's own shape (per vector for
        vector distributions such as Dirichlet); the missing entries of a partly observed
        variable are ``NaN`` (they are not data).

        Examples
        --------
        >>> import numpy as np
        >>> from bayesgraph.core import Graph, StaticVariable, Variable
        >>> from bayesgraph.core.model import MAPModel
        >>> with Graph("g") as g:
        ...     mu = StaticVariable("mu", mean=0, variance=100)
        ...     y = Variable("y", mean=mu, variance=1)
        >>> model = MAPModel(g, data={g.y: [1.0, 3.0]}).solve()
        >>> ll = model.get_log_likelihood(g.y, n_samples=1)
        >>> mode = model.get_means(g.mu)
        >>> bool(np.allclose(ll[0], -0.5 * np.log(2 * np.pi) - 0.5 * (np.array([1, 3]) - mode)**2))
        True
        """
        n_samples = _check_n(n_samples)
        self._require_solved()

        def compute(names):
            self._check_observed(names, "log-likelihood")
            self._check_site_draws(n_samples, "the log-likelihood")
            return self._observed_terms(self._draw_sites(n_samples), names, n_samples,
                                        predictive=False)

        if variables is None:
            return compute(self._likelihood_names())
        return self._answer(variables, compute)

    def _check_site_draws(self, n_samples: int, what: str) -> None:
        """Refuse (ResourceError naming n_samples) before drawing the latent sites."""
        per_draw = sum(site.size for site in self.program.latent_sites)
        check_request(f"{type(self).__name__}: {what}", n_samples, per_draw)

    def to_inference_data(self, **kwargs: Any) -> Any:
        """Export draws, data and sampler statistics to ArviZ.

        See :func:`bayesgraph.core.model.inference_data.to_inference_data` for the groups,
        names and keyword arguments (``n_samples``, ``observed``, ``var_names``,
        ``log_likelihood``, ``predictive``).

        Examples
        --------
        >>> from bayesgraph.core import Variable
        >>> from bayesgraph.core.model import ForwardModel
        >>> v = Variable("v")
        >>> ForwardModel(v, seed=0).to_inference_data(n_samples=10)["prior"]["v"].shape
        (1, 10, 1)
        """
        from bayesgraph.core.model.inference_data import to_inference_data

        return to_inference_data(self, **kwargs)

    def __repr__(self) -> str:
        state = "solved" if self._solved else "not solved"
        return (f"<bayesgraph.{type(self).__name__} of {self.spec.root_name!r}, "
                f"n_data={self.n_data}, {state}>")


def _sources(spec: Any, variable: str, parameter: str) -> list[tuple[str, str]]:
    """The random variables parameter ``parameter`` of ``variable`` is computed from (through
    Dirac variables), each with its prior in words, e.g. ``Normal(mean=-5, variance=1)``."""
    from bayesgraph.core.lowering.spec import Const, Op, Ref

    def refs(expr: Any) -> list[str]:
        if isinstance(expr, Ref):
            return [expr.name]
        if isinstance(expr, Op):
            return [name for arg in expr.args for name in refs(arg)]
        return []

    def words(expr: Any) -> str:
        if isinstance(expr, Const):
            value = np.asarray(expr.value)
            return f"{float(value):g}" if value.size == 1 else f"array of shape {value.shape}"
        return f"'{expr.name}'" if isinstance(expr, Ref) else "an expression"

    found: list[tuple[str, str]] = []
    todo = refs(spec.variable(variable).param_dict.get(parameter))
    seen: set[str] = set()
    while todo:
        name = todo.pop(0)
        if name in seen or name not in spec:
            continue
        seen.add(name)
        var = spec.variable(name)
        if var.distribution == "DiracDistribution":
            todo.extend(n for _, expr in var.params for n in refs(expr))
            continue
        short = var.distribution.removesuffix("Distribution")
        params = ", ".join(f"{k}={words(v)}" for k, v in var.params)
        found.append((name, f"{short}({params})"))
    return found


class _Leaf(str):
    """A global name standing for one variable in a request structure."""


def _checked_solve(solve: Any) -> Any:
    """Wrap a model class's ``solve``: first refuse a model with a parameter invalid at the
    prior's centre, with one InvalidParameterError naming the variable and parameter
    (before, MAP failed with a NaN objective, ADVI with numpyro's bare error, MGVI with a
    misleading message, and NUTS silently stayed in the valid region)."""

    @functools.wraps(solve)
    def checked(self: ModelBase) -> Any:
        if getattr(self, "_solving", False):  # a subclass's solve calling super().solve()
            return solve(self)
        problem = self._parameter_problem()
        if problem is not None:
            raise problem
        self._solving = True
        try:
            return solve(self)
        finally:
            self._solving = False

    checked._checked = True  # type: ignore[attr-defined]
    return checked


def _seed_sequence(seed: Any) -> np.random.SeedSequence:
    """``seed=`` as a SeedSequence: None (fresh entropy), an int >= 0, a SeedSequence, or a
    numpy Generator (its bit generator's sequence, spawned so that the caller's own stream is
    not reused)."""
    if seed is None or isinstance(seed, np.random.SeedSequence):
        return np.random.SeedSequence() if seed is None else seed
    if isinstance(seed, np.random.Generator):
        return np.random.SeedSequence(int(seed.integers(0, 2 ** 63 - 1)))
    if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool) and seed >= 0:
        return np.random.SeedSequence(int(seed))
    raise OptionError(
        f"seed must be None, an integer >= 0, a numpy.random.Generator or a "
        f"numpy.random.SeedSequence, got {seed!r}"
    )


def _listed(names: list[str]) -> str:
    shown = ", ".join(repr(n) for n in names[:3])
    return shown + (f" and {len(names) - 3} more" if len(names) > 3 else "")


def _check_n(n_samples: Any) -> int:
    message = f"n_samples must be a positive integer, got {n_samples!r}"
    if isinstance(n_samples, (bool, np.bool_)) or not isinstance(n_samples,
                                                                  (int, float, np.number)):
        raise OptionError(message)
    if not np.isfinite(n_samples) or int(n_samples) != n_samples or n_samples < 1:
        raise OptionError(message)
    return int(n_samples)


def _options_of(cls: type) -> list[str]:
    """The keyword options of a model class (its ``__init__`` and those it passes on)."""
    names: list[str] = []
    for klass in cls.__mro__:
        init = klass.__dict__.get("__init__")
        if init is None or klass is object:
            continue
        for p in inspect.signature(getattr(init, "__wrapped__", init)).parameters.values():
            if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) and p.name not in (
                    "self", *names):
                names.append(p.name)
    return names


def _checked_init(init: Any) -> Any:
    """Wrap a model class's ``__init__``: an unknown keyword is an OptionError naming it and
    listing the class's options (Python's TypeError named neither clearly)."""
    signature = inspect.signature(init)
    passes_on = any(p.kind == p.VAR_KEYWORD for p in signature.parameters.values())

    @functools.wraps(init)
    def checked(self: ModelBase, *args: Any, **kwargs: Any) -> None:
        unknown = [k for k in kwargs if k not in signature.parameters]
        if unknown and not passes_on:
            options = _options_of(type(self))
            close = difflib.get_close_matches(unknown[0], options, n=1)
            raise OptionError(
                f"{type(self).__name__} has no option {unknown[0]!r}"
                + (f" (did you mean {close[0]!r}?)" if close else "")
                + f"; its options: {', '.join(options)}")
        init(self, *args, **kwargs)

    checked._checked = True  # type: ignore[attr-defined]
    return checked
