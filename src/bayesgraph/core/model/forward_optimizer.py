"""ForwardOptimizerModel: choose the values of *adjustable* variables that minimise a cost.

Everything downstream of the adjustables is forward (ancestrally) sampled along the causal
directions, given the adjustables' values and the data; the cost ``cost_function(graph)`` is
an expression of the graph's variables. Its expectation over the forward samples (reduced
over the examples by ``reduce_dynamic_cost`` when it is per example) is minimised by L-BFGS
or Adam, with gradients taken through the samples (pathwise, "reparametrised" gradients).

The whole objective is one program of the batched compiler: the cost is a Dirac variable
added to a copy of the graph, the adjustables are data of that program (set by the
optimiser inside the jitted objective), the Monte-Carlo samples are a ``vmap`` over random
keys, and the data are arguments of the jitted function. The keys are drawn once per
``solve`` (common random numbers), so the optimiser sees a deterministic function.

Examples
--------
>>> from bayesgraph.core import Graph, StaticVariable, Variable
>>> from bayesgraph.core.model import ForwardOptimizerModel
>>> with Graph("g") as g:
...     a = StaticVariable("a")
...     y = Variable("y", mean=2 * a, variance=1)
>>> model = ForwardOptimizerModel(g, [g.a], lambda g: (g.y - 3) ** 2, seed=0).solve()
>>> model.batch_size                 # a stochastic cost: 1000 forward samples
1000
>>> bool(abs(model.get_adjustables()["g/a"] - 1.5) < 0.1)   # Monte-Carlo sd 0.016
True
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Mapping
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from bayesgraph._warn import warn_user
from bayesgraph.core.compiler import distributions as dtable
from bayesgraph.core.compiler.program import Emitter, SampleEmitter
from bayesgraph.core.data.data_linker import DataLinker
from bayesgraph.core.lowering.lower import _interval
from bayesgraph.core.model._common import check_int, check_positive
from bayesgraph.core.model._optimize import (
    SOLVERS,
    OptimResult,
    make_solver,
    needs_polish,
    newton_step,
)
from bayesgraph.core.model._resources import check_request
from bayesgraph.core.model.base import ModelBase
from bayesgraph.core.operator.operators import OPERATOR_CLASSES, Operator, make
from bayesgraph.core.scope import NamedObject, no_name_injection
from bayesgraph.core.variable.variable import VariableBase
from bayesgraph.exceptions import (
    ConvergenceError,
    ConvergenceWarning,
    DataError,
    ExpressionError,
    MissingVariableError,
    OptionError,
    ShapeError,
)

#: the name of the cost's Dirac variable in the model's copy of the graph
COST_NAME = "forward_optimizer_cost"
#: reductions over the examples axis that ``reduce_dynamic_cost`` may name
_REDUCTIONS: dict[str, Callable[[Any], Any]] = {
    "sum": lambda c: jnp.sum(c, axis=0), "mean": lambda c: jnp.mean(c, axis=0),
    "max": lambda c: jnp.max(c, axis=0), "min": lambda c: jnp.min(c, axis=0),
    "logsumexp": lambda c: jax.scipy.special.logsumexp(c, axis=0),
}
#: automatic batch size of a stochastic cost: this many forward samples ...
AUTO_BATCH = 1000
#: ... at most, and fewer when one batch would hold more than this many values
AUTO_BATCH_VALUES = 2 ** 22
#: bounds every support implies (the adjustable stays where its variable can be)
_SUPPORT_BOUNDS = {"positive": (0.0, np.inf), "nonnegative": (0.0, np.inf),
                   "unit_interval": (0.0, 1.0)}


class ForwardOptimizerModel(ModelBase):
    """Minimise the expected cost of forward samples over adjustable variables.

    Parameters
    ----------
    graph : Graph
        The model's structure; it is never modified (the model works on a copy).
    adjustables : variable, global name, list of them, or dict
        The variables whose values the optimiser sets (instead of sampling them); their
        priors are ignored and everything downstream is sampled given them. Forms:

        * ``[g.a, g.b]`` (or one variable): start at the centre of the variable's prior
          (its mean; the median of a LogNormal), moved inside the bounds if needed;
        * ``{g.a: 1.0}``: start values (broadcast to the variable's runtime shape);
        * ``{g.a: {"start": 1.0, "bounds": (0.0, None)}}``: start and/or bounds. ``None``
          (or an infinite value) leaves a side open; bounds may be arrays broadcast to the
          variable's shape. Bounds are kept by a smooth map of an unconstrained coordinate
          (logistic for two bounds, softplus for one), so a bound is approached, never left.
          An adjustable whose distribution has a restricted support (LogNormal: positive,
          Beta: the unit interval, ``lower=``/``upper=`` of the variable) is also kept in it.

        A dynamic ``Variable`` is adjusted per example (``(n_data, *shape)`` values).
    cost_function : callable
        ``cost_function(graph) -> expression`` of the graph's variables, called with the
        model's copy of the graph (expressions of the original graph's variables are read as
        the copy's). A scalar per example if it reads dynamic variables, else a scalar.
    reduce_dynamic_cost : operator class, function or str
        How a per-example cost becomes one number: ``Sum`` (default), ``Mean``, ``Max``,
        ``Min`` or ``LogSumExp`` (operator classes of
        :mod:`bayesgraph.core.operator.operators`, or their names, e.g. ``'mean'``).
    data : dict or DataLinker, optional
        Data of other variables (inputs, or many examples); observed values are clamped and
        carried forward. The adjustables must not be given data.
    compiler : None
        Accepted for Halerium compatibility.
    solver : {'L-BFGS', 'Adam'}
        The optimiser of the Monte-Carlo objective.
    batch_size : int, optional
        Forward samples per evaluation of the cost. A deterministic cost (no random
        variable is an ancestor of it) always uses 1 (every sample is the same). Otherwise
        ``None`` means :data:`AUTO_BATCH` (fewer when one batch would hold more than
        :data:`AUTO_BATCH_VALUES` values); a batch that would not fit in memory is a
        ResourceError naming ``batch_size``. The
        same samples (random keys) are used in every iteration, so the objective is a
        deterministic function of the adjustables; its Monte-Carlo error is reported.
    copy_graph, model_graph_options
        Accepted for compatibility; the model always works on a copy.
    max_iterations, tolerance, learning_rate, seed, dtype, grouping
        As for :class:`~bayesgraph.core.model.MAPModel` and
        :class:`~bayesgraph.core.model.base.ModelBase`.

    Attributes
    ----------
    batch_size : int
        The number of forward samples per cost evaluation actually used.
    deterministic_cost : bool
        Whether the cost is a deterministic function of the adjustables and the data.
    optimisation : dict
        After :meth:`solve`: ``cost``, ``cost_standard_error`` (the Monte-Carlo error of the
        cost over the batch, 0 for a deterministic cost), ``iterations``, ``grad_norm``,
        ``solver``, ``batch_size``.

    Notes
    -----
    After :meth:`solve`, ``get_samples``, ``get_means``, ``get_example`` ... answer for the
    forward model at the optimal adjustables (the adjustables themselves are fixed there).
    Gradients are pathwise, so random variables between an adjustable and the cost must be
    reparametrisable (continuous); a discrete one is refused with an error naming it.

    Examples
    --------
    Expected squared distance of a noisy output from a target, ``E[(y - 3)^2]`` with
    ``y ~ N(2 a, 1)``: minimised at ``a = 1.5`` (a stochastic cost, averaged over
    forward samples), and at the bound when the bound excludes ``1.5``:

    >>> from bayesgraph.core import Graph, StaticVariable, Variable
    >>> from bayesgraph.core.model import ForwardOptimizerModel
    >>> with Graph("g") as g:
    ...     a = StaticVariable("a", mean=0, variance=1)
    ...     y = Variable("y", mean=2 * a, variance=1)
    >>> model = ForwardOptimizerModel(g, {g.a: {"start": 0.0}}, lambda g: (g.y - 3) ** 2,
    ...                               batch_size=4000, seed=1).solve()
    >>> bool(abs(model.get_adjustables()["g/a"] - 1.5) < 0.05)
    True
    >>> bounded = ForwardOptimizerModel(g, {g.a: {"bounds": (None, 1.0)}},
    ...                                 lambda g: (g.y - 3) ** 2, seed=1).solve()
    >>> round(float(bounded.get_adjustables()["g/a"]), 4)
    1.0
    """

    requires_solve = True
    supports_discrete_latents = True

    def __init__(self, graph: NamedObject, adjustables: Any, cost_function: Callable,
                 reduce_dynamic_cost: Any = OPERATOR_CLASSES["sum"],
                 data: Mapping | None = None, compiler: Any = None, solver: str = "L-BFGS",
                 batch_size: int | None = None, copy_graph: bool = True,
                 model_graph_options: Mapping | None = None, *, max_iterations: int = 1000,
                 tolerance: float = 1e-10, learning_rate: float = 0.05,
                 seed: int | None = None, dtype: str = "float64",
                 grouping: bool = True) -> None:
        if solver not in SOLVERS:
            raise OptionError(f"ForwardOptimizerModel: unknown solver {solver!r}; valid: "
                              f"{', '.join(SOLVERS)}")
        if not isinstance(graph, NamedObject) or isinstance(graph, VariableBase):
            raise OptionError(
                f"ForwardOptimizerModel needs a Graph (or Entity), got {graph!r}")
        self.solver = solver
        self.max_iterations = check_int("max_iterations", max_iterations, 1)
        self.tolerance = check_positive("tolerance", tolerance)
        self.learning_rate = check_positive("learning_rate", learning_rate)
        self._reduce_name = _reduction(reduce_dynamic_cost)
        self.original_graph = graph
        with no_name_injection():
            copy = graph.copy(graph.name)
        requested = _parse_adjustables(adjustables, graph, copy)
        dynamic_cost = _add_cost(copy, cost_function, graph)
        self.cost_name = f"{copy.global_name}/{COST_NAME}"
        self._dynamic_cost = dynamic_cost
        # adjustables are data of the program: placeholders now, the optimiser's values later
        given = {}
        for key, value in _data_dict(data).items():
            found = _find(copy, graph, key)
            given[key if found is None else found] = value
        linker_n = data.n_data if isinstance(data, DataLinker) else None
        n_data = _n_data(given, linker_n)
        placeholders = {}
        for name, (var, start, bounds) in requested.items():
            if any(k is var for k in given):
                raise DataError(
                    f"ForwardOptimizerModel: the adjustable {name!r} is also given data; its "
                    "value is set by the optimiser: drop it from the data or from the "
                    "adjustables")
            shape = (n_data, *var.shape) if var.is_dynamic else tuple(var.shape)
            lo, hi = _bounds(name, var, bounds, shape)
            if start is not None:
                try:
                    start = np.broadcast_to(start, shape).reshape(-1)
                except ValueError:
                    raise DataError(
                        f"ForwardOptimizerModel: the start value of the adjustable {name!r} "
                        f"has shape {start.shape}; expected {shape}") from None
            requested[name] = (var, start, (lo, hi))
            placeholders[var] = _inside(np.zeros(shape), lo, hi)
        lowering_data = DataLinker(n_data=linker_n, data={**given, **placeholders})
        try:
            super().__init__(copy, lowering_data, compiler, copy_graph, model_graph_options,
                             seed=seed, dtype=dtype, grouping=grouping)
        except ShapeError as error:
            if repr(self.cost_name) in str(error):
                raise ShapeError(
                    f"ForwardOptimizerModel: the cost must be a scalar (per example, if it "
                    f"reads dynamic variables): {error}") from None
            raise
        self.graph = copy
        self.adjustable_names = tuple(requested)
        self._check_adjustables(requested)
        self._reject_unsampled()
        self._ancestry = self.spec.ancestors()
        self._check_paths()
        self.deterministic_cost = not any(
            self._random(n) for n in self._ancestry[self.cost_name] | {self.cost_name})
        self.batch_size = self._batch_size(batch_size)
        self._lo = np.concatenate([b[0].reshape(-1) for _, _, b in requested.values()])
        self._hi = np.concatenate([b[1].reshape(-1) for _, _, b in requested.values()])
        self._slots = tuple((self.grouped.groups[g].name, m, self.spec.variable(n).full_shape(
            self.n_data)) for n in requested for g, m in [self.grouped.locate(n)])
        self._starts = {n: s for n, (_, s, _) in requested.items()}
        options = (self.solver, self.max_iterations, self.tolerance, self.learning_rate)
        self._fns = self._functions(
            functools.partial(_make, self.program, self._slots, self.cost_name,
                              self._reduce_name if dynamic_cost else None, options),
            "forward-optimizer", self._slots, self._reduce_name, dynamic_cost, options)
        self._x: np.ndarray | None = None
        self.optimisation: dict[str, Any] = {}
        self._sample_fn: Any = None

    def _reject_improper_posterior(self) -> None:
        """No posterior is formed: flat priors are refused only where they must be drawn."""

    # -- checks -----------------------------------------------------------------------------
    def _check_adjustables(self, requested: dict[str, Any]) -> None:
        for name in requested:
            var = self.spec.variable(name)
            if var.dtype != "float" or dtable.facts(var.distribution).discrete:
                raise OptionError(
                    f"ForwardOptimizerModel: the adjustable {name!r} is discrete "
                    f"({var.distribution}, dtype {var.dtype!r}); gradient-based optimisation "
                    "needs continuous adjustables (dtype 'float')")
            if dtable.facts(var.distribution).event_dims:
                raise OptionError(
                    f"ForwardOptimizerModel: the adjustable {name!r} has a vector "
                    f"distribution ({var.distribution}); adjust the variables it is computed "
                    "from, or give it a Normal or flat (NoDistribution) prior")

    def _reject_unsampled(self) -> None:
        for site in self.program.latent_sites:
            if site.improper:
                raise DataError(
                    f"ForwardOptimizerModel cannot draw {site.label}: it has NoDistribution "
                    "and no data, so it has nothing to sample from; give it data or make it "
                    "an adjustable")

    def _random(self, name: str) -> bool:
        var = self.spec.variable(name)
        return var.role != "observed" and var.distribution != "DiracDistribution"

    def _check_paths(self) -> None:
        """Every adjustable reaches the cost; no draw between them blocks the gradient."""
        above = self._ancestry[self.cost_name]
        for name in self.adjustable_names:
            if name not in above:
                raise OptionError(
                    f"ForwardOptimizerModel: the cost does not depend on the adjustable "
                    f"{name!r} (it is not an ancestor of the cost's variables); drop it "
                    "from the adjustables or use it in the cost")
        between = {n for n in above if any(a in self._ancestry[n] for a in
                                          self.adjustable_names)}
        if not between:
            return
        flags = self._reparametrised()
        for site in self.program.latent_sites:
            if flags.get(site.name, True):
                continue
            culprits = [m for m in site.members if m in between]
            if culprits:
                raise OptionError(
                    f"ForwardOptimizerModel: {culprits[0]!r} ({site.distribution}) lies "
                    "between an adjustable and the cost, and its draws cannot be "
                    "differentiated (a discrete or non-reparametrisable distribution), so the "
                    "gradient would be wrong; make the cost read its parameters (e.g. the "
                    "probability) instead, or give it data")

    def _reparametrised(self) -> dict[str, bool]:
        """``{site: whether its draws are differentiable in the parameters}`` (one trace)."""
        recorder = _RsampleRecorder(jax.random.PRNGKey(0))
        program = self.program
        with self._precision():
            jax.eval_shape(lambda data: program.execute(data, recorder), self._data)
        return recorder.flags

    def _batch_size(self, batch_size: int | None) -> int:
        if self.deterministic_cost:
            return 1
        per_draw = sum(int(np.prod(g.full_shape(self.n_data))) for g in self.grouped.groups)
        if batch_size is None:
            return int(max(1, min(AUTO_BATCH, AUTO_BATCH_VALUES // max(1, per_draw))))
        batch = check_int("batch_size", batch_size, 1)
        # the gradient keeps every forward sample's values: a few copies of the batch
        check_request("ForwardOptimizerModel: a batch of forward samples", batch, 4 * per_draw,
                      fix="or fewer examples", option="batch_size")
        return batch

    # -- start ------------------------------------------------------------------------------
    def _start(self) -> np.ndarray:
        """The flat start values: given ones, else the priors' centres, inside the bounds."""
        missing = tuple(i for i, n in enumerate(self.adjustable_names)
                        if self._starts[n] is None)
        centres: dict[int, np.ndarray] = {}
        if missing:
            program, slots = self.program, self._slots
            groups = tuple(self.grouped.locate(self.adjustable_names[i])[0] for i in missing)

            def build():
                def run(data):
                    recorder = _StartRecorder(groups)
                    program.execute(data, recorder)
                    return recorder.recorded
                return jax.jit(run)

            run = self._functions(build, "forward-optimizer-start", groups, slots)
            with self._precision():
                recorded = run(self._data)
            for i, g in zip(missing, groups):
                name = self.adjustable_names[i]
                _, m = self.grouped.locate(name)
                value = recorded.get(g)
                centres[i] = (np.zeros(self.spec.variable(name).full_shape(self.n_data))
                              if value is None else np.asarray(value)[m])
        pieces, start = [], 0
        for i, name in enumerate(self.adjustable_names):
            size = math.prod(self.spec.variable(name).full_shape(self.n_data))
            lo, hi = self._lo[start:start + size], self._hi[start:start + size]
            if i in centres:
                value = np.nan_to_num(centres[i].reshape(-1), nan=0.0)
                value = np.where((value > lo) & (value < hi), value,
                                 _inside(np.full(size, np.nan), lo, hi))
            else:
                value = np.asarray(self._starts[name], dtype=np.float64)
                if ((value <= lo) | (value >= hi)).any():
                    where = int(np.flatnonzero((value <= lo) | (value >= hi))[0])
                    raise DataError(
                        f"ForwardOptimizerModel: the start value {value[where]:g} of the "
                        f"adjustable {name!r} (entry {where}) is not strictly inside its "
                        f"bounds ({lo[where]:g}, {hi[where]:g}); give a start inside them")
            pieces.append(value)
            start += size
        return np.concatenate(pieces)

    # -- solve ------------------------------------------------------------------------------
    def _keys(self, n: int) -> Any:
        with self._precision():
            return jax.random.split(self._next_key(), n)

    def solve(self) -> ForwardOptimizerModel:
        """Minimise the Monte-Carlo cost over the adjustables; returns the model.

        Warns (ConvergenceWarning) if the optimiser did not converge, raises
        (ConvergenceError) if the cost is not finite.
        """
        x0 = self._start()
        with self._precision():
            bounds = (jnp.asarray(self._lo, self._float()), jnp.asarray(self._hi, self._float()))
            z0 = _unbound(x0, self._lo, self._hi)
            args = (self._keys(self.batch_size), bounds, self._data)
            result, costs, x = self._fns["fit"](jnp.asarray(z0, self._float()), args)
            if self.solver == "L-BFGS" and needs_polish(result, self.tolerance):
                result, costs, x = self._fns["refine"](result, args)
            costs, x = np.asarray(costs), np.asarray(x)
        self._check(result, costs)
        self._set(x)
        n = costs.size
        self.optimisation = {
            "cost": float(costs.mean()),
            "cost_standard_error": float(costs.std(ddof=1) / np.sqrt(n)) if n > 1 else 0.0,
            "iterations": int(result.iterations), "grad_norm": float(result.grad_norm),
            "solver": self.solver, "batch_size": self.batch_size}
        self._solved = True
        return self

    def _check(self, result: OptimResult, costs: np.ndarray) -> None:
        value, gnorm = float(result.value), float(result.grad_norm)
        if not (np.isfinite(value) and np.all(np.isfinite(np.asarray(result.z)))):
            raise ConvergenceError(
                f"ForwardOptimizerModel: the cost is {value} after {int(result.iterations)} "
                "iterations; check that the cost and the parameters of the variables it "
                "reads stay defined for the adjustables' values (give bounds or start "
                "values)")
        threshold = self.tolerance * max(1.0, abs(value))
        if gnorm <= threshold or (bool(result.stalled)
                                  and gnorm <= 1e-6 * max(1.0, abs(value))):
            return
        reason = (f"reached max_iterations={self.max_iterations}"
                  if int(result.iterations) >= self.max_iterations else "stopped making progress")
        warn_user(
            f"ForwardOptimizerModel: the {self.solver} optimisation {reason} with gradient "
            f"norm {gnorm:.3g} (tolerance {threshold:.3g}); the adjustables may be "
            "inaccurate. Increase max_iterations, give start values, or try solver="
            + ("'L-BFGS'" if self.solver == "Adam" else "'Adam'"),
            ConvergenceWarning, stacklevel=3)

    def _set(self, x: np.ndarray) -> None:
        """Write the adjustables' values into the model's data (results read them there)."""
        self._x = x
        values = dict(self._grouped_data.values)
        start = 0
        for gname, m, shape in self._slots:
            size = math.prod(shape)
            array = np.array(values[gname], dtype=np.float64)
            array[m] = x[start:start + size].reshape(shape)
            values[gname] = array
            start += size
        self._grouped_data.values.update(values)
        with self._precision():
            self._data = self.program.data_args(self._grouped_data, self._float())

    # -- results ----------------------------------------------------------------------------
    def get_adjustables(self) -> dict[str, np.ndarray]:
        """The optimal adjustables, ``{global name: value}`` (runtime shapes).

        Examples
        --------
        >>> from bayesgraph.core import Graph, StaticVariable
        >>> from bayesgraph.core.model import ForwardOptimizerModel
        >>> with Graph("g") as g:
        ...     a = StaticVariable("a")
        >>> m = ForwardOptimizerModel(g, {g.a: 5.0}, lambda g: (g.a - 2) ** 2).solve()
        >>> {k: round(float(v), 6) for k, v in m.get_adjustables().items()}
        {'g/a': 2.0}
        """
        self._require_solved()
        assert self._x is not None
        out, start = {}, 0
        for name in self.adjustable_names:
            shape = self.spec.variable(name).full_shape(self.n_data)
            size = math.prod(shape)
            out[name] = self._x[start:start + size].reshape(shape).copy()
            start += size
        return out

    def get_cost(self, n_samples: int | None = None, return_error: bool = False) -> Any:
        """The (reduced) cost at the optimal adjustables.

        Parameters
        ----------
        n_samples : int, optional
            ``None``: the optimised objective (on the optimiser's forward samples; for a
            stochastic cost slightly optimistic, since the adjustables were fitted to those
            samples). An integer: a fresh Monte-Carlo estimate over ``n_samples`` new
            forward samples.
        return_error : bool
            Also return the Monte-Carlo standard error of the estimate.

        Examples
        --------
        >>> from bayesgraph.core import Graph, StaticVariable, Variable
        >>> from bayesgraph.core.model import ForwardOptimizerModel
        >>> with Graph("g") as g:
        ...     a = StaticVariable("a")
        ...     y = Variable("y", mean=a, variance=1)
        >>> m = ForwardOptimizerModel(g, [g.a], lambda g: (g.y - 1) ** 2, seed=0).solve()
        >>> cost, error = m.get_cost(n_samples=40000, return_error=True)
        >>> bool(abs(cost - 1.0) < 4 * error)
        True
        """
        self._require_solved()
        if n_samples is None:
            cost = self.optimisation["cost"]
            error = self.optimisation["cost_standard_error"]
        else:
            n = check_int("n_samples", n_samples, 1)
            with self._precision():
                bounds = (jnp.asarray(self._lo, self._float()),
                          jnp.asarray(self._hi, self._float()))
                z = jnp.asarray(_unbound(self._x, self._lo, self._hi), self._float())
                costs = np.asarray(self._fns["costs"](z, self._keys(n), bounds, self._data))
            cost = float(costs.mean())
            error = float(costs.std(ddof=1) / np.sqrt(n)) if n > 1 else 0.0
        return (cost, error) if return_error else cost

    def _draw_sites(self, n_samples: int) -> dict[str, np.ndarray]:
        if self._sample_fn is None:
            program = self.program

            def build():
                def sample(keys, data):
                    return jax.vmap(lambda k: program.sites_of(program.sample(k, data),
                                                               data))(keys)
                return jax.jit(sample)

            self._sample_fn = self._functions(build, "forward-optimizer-sample")
        with self._precision():
            draws = self._sample_fn(self._keys(n_samples), self._data)
            return {k: np.asarray(v) for k, v in draws.items()}


# -- the jitted functions (from the program and options only: shared by fingerprint) --------
def _make(program: Any, slots: tuple, cost_name: str, reduce_name: str | None,
          options: tuple) -> dict[str, Any]:
    reduce = _REDUCTIONS[reduce_name] if reduce_name is not None else (lambda c: c)

    def with_adjustables(x, data):
        values, start = dict(data["values"]), 0
        for gname, m, shape in slots:
            size = math.prod(shape)
            piece = x[start:start + size].reshape(shape).astype(values[gname].dtype)
            values[gname] = values[gname].at[m].set(piece)
            start += size
        return {**data, "values": values}

    def costs(z, keys, bounds, data):
        filled = with_adjustables(_bound(z, *bounds), data)

        def one(key):
            env = program.sample(key, filled)
            return reduce(program.variable_value(env, cost_name))

        return jax.vmap(one)(keys)

    def objective(z, args):
        return jnp.mean(costs(z, *args))

    minimise = make_solver(objective, *options, jit=False)

    def finish(result, args):
        """The result with the per-sample costs and the values at its point (in the same
        compiled function: no second compile for them)."""
        return result, costs(result.z, *args), _bound(result.z, *args[1])

    return {"fit": jax.jit(lambda z0, args: finish(minimise(z0, args), args)),
            "refine": jax.jit(lambda result, args: finish(
                newton_step(objective, result, args), args)),
            "costs": jax.jit(costs)}


def _bound(z: Any, lo: Any, hi: Any) -> Any:
    """Unconstrained ``z`` -> values inside ``(lo, hi)``: logistic between two finite
    bounds, softplus above a lower or below an upper one, the identity without bounds."""
    has_lo, has_hi = jnp.isfinite(lo), jnp.isfinite(hi)
    low, high = jnp.where(has_lo, lo, 0.0), jnp.where(has_hi, hi, 1.0)
    both = low + (high - low) * jax.nn.sigmoid(z)
    return jnp.where(has_lo & has_hi, both,
                     jnp.where(has_lo, low + jax.nn.softplus(z),
                               jnp.where(has_hi, high - jax.nn.softplus(z), z)))


def _unbound(x: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """The inverse of :func:`_bound` (numpy, float64)."""
    x = np.asarray(x, dtype=np.float64)
    has_lo, has_hi = np.isfinite(lo), np.isfinite(hi)

    def inverse_softplus(y):
        y = np.maximum(y, 1e-300)
        return y + np.log(-np.expm1(-y))

    with np.errstate(all="ignore"):
        p = (x - np.where(has_lo, lo, 0.0)) / (np.where(has_hi, hi, 1.0)
                                               - np.where(has_lo, lo, 0.0))
        both = np.log(p) - np.log1p(-p)
        return np.where(has_lo & has_hi, both,
                        np.where(has_lo, inverse_softplus(x - np.where(has_lo, lo, 0.0)),
                                 np.where(has_hi, inverse_softplus(np.where(has_hi, hi, 0.0)
                                                                   - x), x)))


def _inside(x: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """``x`` where strictly inside ``(lo, hi)``; else the midpoint, or one from the bound."""
    both = np.isfinite(lo) & np.isfinite(hi)
    with np.errstate(all="ignore"):
        fallback = np.where(both, 0.5 * (lo + hi),
                            np.where(np.isfinite(lo), lo + 1.0,
                                     np.where(np.isfinite(hi), hi - 1.0, 0.0)))
    return np.where((x > lo) & (x < hi), x, fallback)


class _RsampleRecorder(SampleEmitter):
    """Forward sampling that records whether each site's draws are differentiable."""

    def __init__(self, key: Any) -> None:
        super().__init__(key)
        self.flags: dict[str, bool] = {}

    def draw(self, site: Any, d: Any, rows: Any, level: Any) -> Any:
        self.flags[site.name] = bool(getattr(d, "has_rsample", False))
        return super().draw(site, d, rows, level)


class _StartRecorder(Emitter):
    """Central values of latent draws; records the centre of the observed groups ``groups``
    (the adjustables', given their parents' central values)."""

    ancestral = True

    def __init__(self, groups: tuple[int, ...]) -> None:
        self.groups = frozenset(groups)
        self.recorded: dict[int, Any] = {}

    def draw(self, site: Any, d: Any, rows: Any, level: Any) -> Any:
        return dtable.central(site.distribution, d, tuple(d.batch_shape) + tuple(d.event_shape))

    def observe(self, group: Any, d: Any, value: Any) -> None:
        if group.index in self.groups:
            shape = tuple(d.batch_shape) + tuple(d.event_shape)
            self.recorded[group.index] = dtable.central(group.distribution, d, shape)


# -- input handling ---------------------------------------------------------------------------
def _reduction(reduce: Any) -> str:
    """The name of a reduction over examples: an operator class, a function or a string."""
    from bayesgraph.core.operator import functions

    for name in _REDUCTIONS:
        if reduce is OPERATOR_CLASSES[name] or reduce is getattr(functions, name, None) or (
                isinstance(reduce, str) and reduce.lower() == name):
            return name
    valid = ", ".join(OPERATOR_CLASSES[n].__name__ for n in _REDUCTIONS)
    raise OptionError(f"ForwardOptimizerModel: reduce_dynamic_cost={reduce!r} is not a "
                      f"reduction over examples; valid: {valid} (operator classes of "
                      "bayesgraph.core.operator.operators, or their names)")


def _key_name(key: Any) -> str:
    return key.global_name if isinstance(key, VariableBase) else str(key)


def _data_dict(data: Any) -> dict[Any, Any]:
    if data is None:
        return {}
    if not isinstance(data, Mapping):
        raise DataError(f"data must be a dict or DataLinker, got {type(data).__name__}")
    return dict(data.items())


def _find(copy: NamedObject, original: NamedObject, key: Any) -> VariableBase | None:
    """The copy's variable for ``key`` (a variable of the original or the copy, or a global
    or relative name), or ``None``."""
    name = _key_name(key)
    prefix = original.global_name + "/"
    if isinstance(key, VariableBase) and not (name.startswith(prefix) or name.startswith(
            copy.global_name + "/")):
        return None  # a variable of another graph, whatever its name
    if name.startswith(prefix):
        relative = name[len(prefix):]
    elif name.startswith(copy.global_name + "/"):
        relative = name[len(copy.global_name) + 1:]
    else:
        relative = name
    obj: Any = copy
    for part in filter(None, relative.split("/")):
        children = getattr(obj, "children", {})
        if part not in children:
            return None
        obj = children[part]
    return obj if isinstance(obj, VariableBase) else None


def _parse_adjustables(adjustables: Any, original: NamedObject, copy: NamedObject
                       ) -> dict[str, tuple[VariableBase, np.ndarray | None, Any]]:
    """``{copy's global name: (variable, start or None, (lower, upper) or None)}``."""
    if isinstance(adjustables, (VariableBase, str)):
        adjustables = [adjustables]
    if isinstance(adjustables, Mapping):
        entries = list(adjustables.items())
    elif isinstance(adjustables, (list, tuple, set)):
        entries = [(a, None) for a in adjustables]
    else:
        raise OptionError(
            f"ForwardOptimizerModel: adjustables must be a variable, a list of variables or "
            f"a dict {{variable: start or {{'start': ..., 'bounds': (lower, upper)}}}}, got "
            f"{adjustables!r}")
    if not entries:
        raise OptionError("ForwardOptimizerModel: no adjustables given; list the variables "
                          "the optimiser may set")
    out: dict[str, tuple[VariableBase, np.ndarray | None, Any]] = {}
    for key, value in entries:
        var = _find(copy, original, key)
        shown = _key_name(key)
        if var is None:
            raise MissingVariableError(
                f"ForwardOptimizerModel: the adjustable {shown!r} is not a variable of "
                f"{original.global_name!r}; give variables of the model's graph")
        if var.global_name in out:
            raise OptionError(f"ForwardOptimizerModel: the adjustable {shown!r} is given twice")
        start, bounds = value, None
        if isinstance(value, Mapping):
            unknown = sorted(set(value) - {"start", "bounds"})
            if unknown:
                raise OptionError(
                    f"ForwardOptimizerModel: unknown key {unknown[0]!r} for the adjustable "
                    f"{shown!r}; valid: 'start', 'bounds'")
            start, bounds = value.get("start"), value.get("bounds")
        if start is not None:
            try:
                start = np.asarray(start, dtype=np.float64)
            except (TypeError, ValueError):
                raise DataError(f"ForwardOptimizerModel: the start value of {shown!r} is not "
                                f"a number or array: {start!r}") from None
            if not np.all(np.isfinite(start)):
                raise DataError(f"ForwardOptimizerModel: the start value of {shown!r} is not "
                                "finite")
        out[var.global_name] = (var, start, bounds)
    return out


def _n_data(given: dict[Any, Any], linker_n: int | None) -> int:
    """The number of examples the data give (checked again, with errors, by the lowering)."""
    if linker_n is not None:
        return int(linker_n)
    counts = [np.shape(v)[0] for k, v in given.items()
              if isinstance(k, VariableBase) and k.is_dynamic and np.ndim(v) > 0]
    return int(counts[0]) if counts else 1


def _bounds(name: str, var: VariableBase, bounds: Any, shape: tuple[int, ...]
            ) -> tuple[np.ndarray, np.ndarray]:
    """``(lower, upper)`` of an adjustable at its runtime shape, intersected with its
    variable's support and constraint; a bad pair is an OptionError naming it."""
    lo = np.full(shape, -np.inf)
    hi = np.full(shape, np.inf)
    if bounds is not None:
        if not isinstance(bounds, (tuple, list)) or len(bounds) != 2:
            raise OptionError(
                f"ForwardOptimizerModel: the bounds of the adjustable {name!r} must be a pair "
                f"(lower, upper) (None for an open side), got {bounds!r}")
        try:
            user = [np.broadcast_to(np.asarray(np.nan if b is None else b, dtype=np.float64),
                                    shape) for b in bounds]
        except (TypeError, ValueError):
            raise OptionError(
                f"ForwardOptimizerModel: the bounds of the adjustable {name!r} must be "
                f"numbers or arrays of its shape {shape}, got {bounds!r}") from None
        lo = np.where(np.isnan(user[0]), lo, user[0])
        hi = np.where(np.isnan(user[1]), hi, user[1])
        if (lo == np.inf).any() or (hi == -np.inf).any() or not (lo < hi).all():
            raise OptionError(
                f"ForwardOptimizerModel: the bounds {bounds!r} of the adjustable {name!r} "
                "are empty: the lower bound must be below the upper one")
    dist = type(var.distribution)
    support = _SUPPORT_BOUNDS.get(dist.support)
    if support is None and dist.support == "interval":
        params = {k: _const(v) for k, v in var.distribution.get_parameters().items()}
        low, high = _interval({k: v for k, v in params.items() if v is not None})
        support = None if low is None else (low, high)
    limits = [support] if support else []
    if var.constraint is not None and not var.constraint.ordered:
        limits.append((var.constraint.lower if var.constraint.lower is not None else -np.inf,
                       var.constraint.upper if var.constraint.upper is not None else np.inf))
    for low, high in limits:
        lo, hi = np.maximum(lo, low), np.minimum(hi, high)
    if not (lo < hi).all():
        raise OptionError(
            f"ForwardOptimizerModel: the bounds {bounds!r} of the adjustable {name!r} do not "
            f"overlap the values its {dist.__name__} allows; give bounds inside them")
    return lo.astype(np.float64), hi.astype(np.float64)


def _const(value: Any) -> Any:
    """A constant parameter as a lowering ``Const`` (for ``_interval``), else ``None``."""
    from bayesgraph.core.lowering.spec import Const

    if isinstance(value, (VariableBase, Operator)):
        return None
    array = np.asarray(value, dtype=np.float64)
    return Const(array, array.shape)


def _rebase(node: Any, copy: NamedObject, original: NamedObject) -> Any:
    """``node`` with the original graph's variables replaced by the copy's."""
    if isinstance(node, VariableBase):
        found = _find(copy, original, node)
        if found is None:
            raise ExpressionError(
                f"ForwardOptimizerModel: the cost reads {node.global_name!r}, which is not a "
                f"variable of {original.global_name!r}; the cost must be an expression of "
                "the graph's variables")
        return found
    if isinstance(node, Operator):
        return make(node.op, *(_rebase(a, copy, original) for a in node.args), **node.kwargs)
    return node


def _add_cost(copy: NamedObject, cost_function: Callable, original: NamedObject) -> bool:
    """Add the cost's Dirac variable to ``copy``; returns whether it is per example."""
    from bayesgraph.core import StaticVariable, Variable

    if not callable(cost_function):
        raise OptionError(f"ForwardOptimizerModel: cost_function must be a callable "
                          f"graph -> expression, got {cost_function!r}")
    if COST_NAME in getattr(copy, "children", {}):
        raise OptionError(f"ForwardOptimizerModel: the graph has a child named {COST_NAME!r}, "
                          "the name the model gives its cost; rename it")
    with no_name_injection():
        expression = cost_function(copy)
        if not isinstance(expression, (VariableBase, Operator)):
            raise ExpressionError(
                f"ForwardOptimizerModel: cost_function returned {expression!r}, which reads "
                "no variable of the graph; return an expression of the graph's variables "
                "(e.g. lambda g: (g.y - 3) ** 2)")
        expression = _rebase(expression, copy, original)
        leaves = [expression] if isinstance(expression, VariableBase) else \
            expression.get_variables()
        dynamic = any(v.is_dynamic for v in leaves)
        kind = Variable if dynamic else StaticVariable
        with copy:
            kind(COST_NAME, distribution="DiracDistribution", mean=expression)
    return dynamic
