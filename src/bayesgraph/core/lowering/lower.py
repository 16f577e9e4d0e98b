"""Lower a user's graph and data to a :class:`~bayesgraph.core.lowering.spec.ModelSpec`.

All checks that can be made before any numerical work happen here, with errors that name the
variable and the fix: references outside the graph, cycles, shapes, dtypes, data.

Examples
--------
>>> import numpy as np
>>> from bayesgraph.core import Graph, Variable, StaticVariable
>>> from bayesgraph.core.lowering import lower
>>> with Graph("lr") as lr:
...     a = StaticVariable("a")
...     x = Variable("x", variance=9)
...     y = Variable("y", mean=a * x, variance=0.25)
>>> spec, data = lower(lr, {lr.x: [1.0, 2.0], lr.y: [0.5, np.nan]})
>>> [(v.name, v.role) for v in spec.variables]
[('lr/a', 'latent'), ('lr/x', 'observed'), ('lr/y', 'partial')]
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from bayesgraph._gc import gc_paused
from bayesgraph._warn import warn_user
from bayesgraph.core.data.data_linker import DataLinker, get_data_linker
from bayesgraph.core.lowering.links import alias_table, describe_links
from bayesgraph.core.lowering.spec import Const, Expr, LoweredData, ModelSpec, Op, Ref, VariableSpec
from bayesgraph.core.lowering.time import TIME_SHIFT, time_references
from bayesgraph.core.operator.operators import OPERATOR_TABLE, Operator
from bayesgraph.core.scope import NamedObject, Scopetor
from bayesgraph.core.variable.variable import VariableBase
from bayesgraph.exceptions import (
    ConstraintError,
    CyclicGraphError,
    DataError,
    DistributionError,
    DtypeError,
    GraphStructureError,
    MissingDataWarning,
    MissingVariableError,
    ShapeError,
)

_MAX_LISTED = 8


def _list_names(names: list[str]) -> str:
    shown = ", ".join(repr(n) for n in names[:_MAX_LISTED])
    return shown + (f", ... ({len(names)} in all)" if len(names) > _MAX_LISTED else "")


def collect_variables(root: NamedObject) -> list[VariableBase]:
    """The variables a model of ``root`` contains (``root`` itself if it is a variable).

    Examples
    --------
    >>> from bayesgraph.core import Variable
    >>> v = Variable("v")
    >>> collect_variables(v) == [v]
    True
    """
    if isinstance(root, VariableBase):
        return [root, *root.get_all_variables()]
    if isinstance(root, Scopetor):
        return root.get_all_variables()
    raise GraphStructureError(
        f"a model needs a Graph, Entity or Variable, got {type(root).__name__}"
    )


class _ExprLowerer:
    """Turns operator trees into spec expressions, inferring logical shapes with numpy."""

    def __init__(self, members: dict[int, VariableBase], root: NamedObject,
                 aliases: dict[int, VariableBase] | None = None) -> None:
        self.members = members
        self.root = root
        self.aliases = aliases or {}
        #: every ``index`` operator met: (owner, parameter, node, lowered operands)
        self.indices: list[tuple[str, str, Operator, tuple[Expr, ...]]] = []
        #: the global names of the variables read, in the order met (reset per variable)
        self.reads: list[str] = []
        #: whether any expression shifts along time (else no parent is read only in the past)
        self.time_shifts = False
        #: ``{(operator, operand shapes): shape}`` of operators without kwargs: shape
        #: inference is a pure function of these, and a large graph repeats a few 10^5 times
        self._shapes: dict[tuple[Any, ...], tuple[int, ...]] = {}

    def lower(self, node: Any, owner: VariableBase, param: str) -> Expr:
        if isinstance(node, VariableBase):
            node = self.aliases.get(id(node), node)  # a linked target reads its source
            if id(node) not in self.members:
                raise GraphStructureError(
                    f"parameter {param!r} of {owner.global_name!r} reads "
                    f"{node.global_name!r}, which is not part of {self.root.global_name!r}; "
                    "create that variable inside the graph (or copy it in)"
                )
            name = node.global_name
            self.reads.append(name)
            return Ref(name, node.shape, node.is_dynamic)
        if isinstance(node, Operator):
            args = tuple([self.lower(a, owner, param) for a in node.args])
            kwargs = tuple(node.kwargs.items())
            # memo only without kwargs: equal kwargs may differ in meaning (an IndexArray
            # equals the plain tuple of its entries), and some are unhashable (slices)
            key = None if kwargs else (node.op, tuple([a.shape for a in args]))
            shape = None if key is None else self._shapes.get(key)
            if shape is None:
                shape = self._infer_shape(node, args, owner, param)
                if key is not None:
                    self._shapes[key] = shape
            if node.op == "index":
                self.indices.append((owner.global_name, param, node, args))
            if node.op == TIME_SHIFT:
                self.time_shifts = True
            if node.op == TIME_SHIFT and not args[0].dynamic:
                raise ShapeError(
                    f"parameter {param!r} of {owner.global_name!r}: {node.describe()} shifts "
                    "a static value along time; only dynamic Variables have a time axis"
                )
            return Op(node.op, args, kwargs, shape, any([a.dynamic for a in args]))
        if isinstance(node, np.ndarray) and node.dtype == np.float64:
            return Const(node, node.shape)  # what asarray(node, float64) returns: node
        value = np.asarray(node, dtype=np.float64)
        return Const(value, value.shape)

    @staticmethod
    def _infer_shape(node: Operator, args: tuple[Expr, ...], owner: VariableBase, param: str
                     ) -> tuple[int, ...]:
        spec = OPERATOR_TABLE[node.op]
        try:
            if spec.shape_fn is not None:
                return tuple(spec.shape_fn(*[a.shape for a in args], **node.kwargs))
            dummies = [np.ones(a.shape) for a in args]
            with np.errstate(all="ignore"):
                return np.asarray(spec.numpy_fn(*dummies, **node.kwargs)).shape
        except Exception as err:
            shapes = ", ".join(str(a.shape) for a in args)
            raise ShapeError(
                f"parameter {param!r} of {owner.global_name!r}: {node.describe()} cannot "
                f"be computed for operand shapes {shapes} (shapes of one example): {err}"
            ) from None


def _describe_node(node: Any) -> str:
    if isinstance(node, VariableBase):
        return repr(node.global_name)
    if isinstance(node, Operator):
        return node.describe()
    return np.array2string(np.asarray(node), threshold=6)


def _index_values(expr: Expr, node: Any, arrays: dict[str, np.ndarray], where: str
                  ) -> np.ndarray:
    """The values of an index operand, computed from the data (``(n_data, *shape)`` when
    dynamic); an index must be known before inference."""
    if isinstance(expr, Const):
        return np.asarray(expr.value)
    if isinstance(expr, Ref):
        if expr.name not in arrays:
            raise DataError(
                f"{where}: the index {expr.name!r} has no data; an index must be known (which "
                f"entry is read is data, not a latent integer): give data for {expr.name!r}, "
                "or, for a mixture, make it a Bernoulli or Categorical variable (summed out "
                "by MCMCModel)"
            )
        values = arrays[expr.name]
        if np.isnan(values).any():
            raise DataError(
                f"{where}: the index {expr.name!r} has missing (NaN) entries (first at "
                f"{tuple(np.argwhere(np.isnan(values))[0].tolist())}); an index must be "
                "known everywhere: give complete data"
            )
        return values
    spec = OPERATOR_TABLE[expr.op]
    if not spec.elementwise:
        raise DataError(
            f"{where}: the index {_describe_node(node)} uses {expr.op!r}; an index must be "
            "integer variables with data, integer constants, or elementwise expressions of "
            "them (e.g. group - 1)"
        )
    rank = len(expr.shape)
    values = []
    for a, child in zip(expr.args, node.args):
        value = _index_values(a, child, arrays, where)
        lead = value.shape[:1] if a.dynamic else (1,) if expr.dynamic else ()
        core = value.shape[len(lead):] if a.dynamic else value.shape
        values.append(value.reshape((*lead, *([1] * (rank - len(core))), *core)))
    with np.errstate(all="ignore"):
        return np.asarray(spec.numpy_fn(*values))


def _category_counts(variables: list[VariableBase], lowered: dict[str, dict[str, Expr]]
                     ) -> dict[str, int]:
    """The number of values of every Bernoulli (2) and Categorical (K) variable."""
    counts = {}
    for var in variables:
        support = type(var.distribution).support
        if support == "boolean":
            counts[var.global_name] = 2
        elif support == "categories":
            params = lowered[var.global_name]
            count = type(var.distribution).category_count(
                {k: tuple(v.shape) for k, v in params.items()})
            if count is not None:
                counts[var.global_name] = count
    return counts


def _check_indices(indices: list[tuple[str, str, Operator, tuple[Expr, ...]]],
                   arrays: dict[str, np.ndarray], categories: dict[str, int]) -> None:
    """Every index read by an ``index`` operator is a known integer in range (backend-free:
    JAX would clamp an index out of range silently). An index may also be a Bernoulli or
    Categorical variable without data (a mixture's ``mu[z]``): then every one of its values
    must be in range."""
    from bayesgraph.core.operator.operators import Operand

    for owner, param, node, args in indices:
        x, where = args[0], f"parameter {param!r} of {owner!r}"
        for axis, k in enumerate(node.kwargs["key"]):
            if not isinstance(k, Operand):
                continue
            source = node.args[k.position]
            dim, name = x.shape[axis], _describe_node(source)
            indexed = _describe_node(node.args[0])
            operand = args[k.position]
            if isinstance(operand, Ref) and operand.name in categories and (
                    operand.name not in arrays or np.isnan(arrays[operand.name]).any()):
                count = categories[operand.name]
                if count > dim:
                    raise DataError(
                        f"{where} indexes axis {axis} of {indexed}, which has {dim} entries, "
                        f"with {name}, an unobserved discrete variable with {count} values "
                        f"(0 .. {count - 1}): give {indexed} {count} entries on that axis, or "
                        f"{name} at most {dim} categories"
                    )
                continue  # observed entries are checked against the variable's support
            values = _index_values(operand, source, arrays, where)
            dynamic = args[k.position].dynamic
            whole = values == np.round(values)
            if not whole.all():
                at = tuple(np.argwhere(~whole)[0].tolist())
                raise DtypeError(
                    f"{where} indexes {indexed} with {name}, whose values are not all "
                    f"integers: {float(values[at])} at {_position(at, dynamic)}; an index must be "
                    "a whole number"
                )
            bad = (values < 0) | (values >= dim)
            if bad.any():
                at = tuple(np.argwhere(bad)[0].tolist())
                raise DataError(
                    f"{where} indexes axis {axis} of {indexed}, which has {dim} entries, with "
                    f"{name}: its value {int(values[at])} at {_position(at, dynamic)} is out of "
                    f"range (valid: 0 .. {dim - 1}; {int(bad.sum())} value(s) outside)"
                )


def _position(at: tuple[int, ...], dynamic: bool) -> str:
    if dynamic:
        return f"example {at[0]}" + (f", entry {at[1:]}" if len(at) > 1 else "")
    return f"entry {at}"


def _check_parameter_shape(var: VariableBase, param: str, expr: Expr) -> None:
    dist = type(var.distribution)
    if dist.event_dims and len(var.shape) < dist.event_dims:
        raise ShapeError(
            f"{dist.__name__} of {var.global_name!r} needs a variable with at least "
            f"{dist.event_dims} axes (the draw's axes come last), got shape={var.shape}"
        )
    target = dist.parameter_shape(param, var.shape, expr.shape)
    if target is None:
        raise ShapeError(
            f"parameter {param!r} of {var.global_name!r} needs a last axis listing the "
            f"categories, got shape {expr.shape}"
        )
    try:
        ok = np.broadcast_shapes(expr.shape, target) == target
    except ValueError:
        ok = False
    if not ok:
        raise ShapeError(
            f"parameter {param!r} of {var.global_name!r} has shape {expr.shape} (per "
            f"example), which does not broadcast to the variable's shape {target}; "
            "give a value of that shape or change the variable's shape="
        )
    if expr.dynamic and not var.is_dynamic:
        raise ShapeError(
            f"StaticVariable {var.global_name!r} has parameter {param!r} that depends on a "
            "dynamic Variable; a StaticVariable has one value for all examples: make it a "
            "Variable, or make its parents static"
        )


def _topological_order(variables: list[VariableBase],
                       parents: dict[str, tuple[str, ...]]) -> list[str]:
    order_index = {v.global_name: i for i, v in enumerate(variables)}
    children: dict[str, list[str]] = {name: [] for name in order_index}
    indegree = {name: len(ps) for name, ps in parents.items()}
    for name, ps in parents.items():
        for p in ps:
            children[p].append(name)
    import heapq

    ready = [(order_index[n], n) for n, d in indegree.items() if d == 0]
    heapq.heapify(ready)
    order: list[str] = []
    while ready:
        _, name = heapq.heappop(ready)
        order.append(name)
        for child in children[name]:
            indegree[child] -= 1
            if indegree[child] == 0:
                heapq.heappush(ready, (order_index[child], child))
    if len(order) < len(variables):
        remaining = {n for n in order_index if n not in set(order)}
        cycle = _find_cycle(remaining, parents)
        raise CyclicGraphError(
            "the variables depend on each other in a cycle: "
            + " -> ".join(repr(n) for n in cycle)
            + "; a Bayesian network must be acyclic: remove one of these dependencies"
            + " (a dependency on the past, x[TimeIndex - 1], may close a cycle: a recurrence"
            " over time)"
        )
    return order


def _has_time_shift(expr: Expr) -> bool:
    return isinstance(expr, Op) and (expr.op == TIME_SHIFT
                                     or any(_has_time_shift(a) for a in expr.args))


def _fully_observed(arrays: dict[str, np.ndarray], name: str) -> bool:
    return name in arrays and not np.isnan(arrays[name]).any()


def step_parents(variables: list[VariableBase], lowered: dict[str, dict[str, Expr]],
                 parents: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
    """The parents that order a variable *within a time step*: every parent, except one read
    only in the past (``y[TimeIndex - 1]``) by a variable on a cycle with it (a recurrence:
    ``y`` at ``t - 1`` exists before anything at ``t``).

    A lead (``y[TimeIndex + 1]``) on such a cycle would read a step not made yet: refused.
    Cycles that remain are cycles within one step (:class:`CyclicGraphError`).

    Examples
    --------
    >>> from bayesgraph.core import Graph, Variable, TimeIndex
    >>> from bayesgraph.core.lowering import lower
    >>> with Graph("ar") as ar:
    ...     y = Variable("y")
    ...     y.mean = 0.9 * y[TimeIndex - 1]
    >>> [v.parents for v in lower(ar)[0].variables]
    [('ar/y',)]
    """
    from bayesgraph.core.lowering.groups import _strongly_connected

    names = [v.global_name for v in variables]
    if not any(_has_time_shift(e) for n in names for e in lowered[n].values()):
        return parents
    position = {n: i for i, n in enumerate(names)}
    references = {}
    for name in names:
        now, lagged, led = set(), set(), set()
        for expr in lowered[name].values():
            a, b, c = time_references(expr)
            now |= a
            lagged |= b
            led |= c
        references[name] = (now, lagged, led)
    edges = [{position[p] for p in parents[n]} for n in names]
    component = {}
    for c, members in enumerate(_strongly_connected(len(names), edges)):
        for i in members:
            component[names[i]] = c
    result = {}
    for name in names:
        now, lagged, led = references[name]
        for p in sorted(led):
            if component[p] == component[name]:
                raise CyclicGraphError(
                    f"{name!r} reads {p!r} ahead in time (a lead, TimeIndex + k), and {p!r} "
                    f"depends on {name!r}: a step would need a step not made yet. Leads are "
                    "allowed only of variables that do not depend on the reader; use a lag "
                    "(TimeIndex - k)"
                )
        result[name] = tuple(p for p in parents[name]
                             if not (p in lagged and p not in now and p not in led
                                     and component[p] == component[name]))
    return result


def _find_cycle(remaining: set[str], parents: dict[str, tuple[str, ...]]) -> list[str]:
    start = min(remaining)
    path = [start]
    seen = {start: 0}
    node = start
    while True:
        node = next(p for p in parents[node] if p in remaining)
        if node in seen:
            cycle = path[seen[node]:] + [node]
            return list(reversed(cycle))
        seen[node] = len(path)
        path.append(node)


def _resolve_key(key: Any, by_id: dict[int, VariableBase], by_name: dict[str, VariableBase],
                 root: NamedObject) -> VariableBase:
    if isinstance(key, VariableBase) and id(key) in by_id:
        return key
    name = key.global_name if isinstance(key, VariableBase) else key
    if isinstance(name, str) and name in by_name:
        return by_name[name]
    if isinstance(name, str) and f"{root.global_name}/{name}" in by_name:
        return by_name[f"{root.global_name}/{name}"]
    shown = name if isinstance(name, str) else repr(key)
    raise MissingVariableError(
        f"data given for {shown!r}, which is not a variable of {root.global_name!r}; "
        f"its variables are {_list_names(sorted(by_name))}"
    )


def _as_float_array(var: VariableBase, values: Any) -> np.ndarray:
    try:
        array = np.asarray(values)
    except Exception as err:  # ragged lists and the like
        raise DataError(f"data for {var.global_name!r} cannot be read as an array: {err}") from None
    if array.dtype.kind not in "biuf":
        raise DataError(
            f"data for {var.global_name!r} must be numeric (use NaN for missing values), got "
            f"an array of dtype {array.dtype}"
            + (" with non-numeric entries" if array.dtype == object else "")
        )
    array = np.asarray(array, dtype=np.float64)  # no copy when the data are float64 already
    if not np.isfinite(array).all() and np.isinf(array).any():  # one pass for clean data
        where = np.argwhere(np.isinf(array))[:3].tolist()
        raise DataError(
            f"data for {var.global_name!r} contain infinite values (first at index {where}); "
            "replace them by finite values, or by NaN to mark them missing"
        )
    return array


_SUPPORT_BOUNDS = {"real": (-np.inf, np.inf), "positive": (0.0, np.inf),
                   "nonnegative": (0.0, np.inf), "unit_interval": (0.0, 1.0)}


def _lower_constraint(var: VariableBase) -> tuple[Any, ...]:
    """The variable's constraint as a hashable tuple (``()`` for none), checked against its
    distribution: ``('interval', lower, upper)``, ``('ordered',)``, ``('positive_ordered',)``.
    """
    constraint = var.constraint
    if constraint is None:
        return ()
    dist = type(var.distribution)
    name, dist_name = var.global_name, dist.__name__
    if dist.support == "deterministic":
        raise ConstraintError(
            f"{name!r} is a Dirac (computed) variable: its values cannot be constrained; "
            "constrain the variables it is computed from"
        )
    if dist.discrete or dist.event_dims:
        raise ConstraintError(
            f"{dist_name} of {name!r} cannot take lower=/upper=/constraint= (only continuous "
            "distributions of single values can)"
        )
    if constraint.ordered:
        if not var.shape:
            raise ConstraintError(
                f"{name!r} is ordered along its last axis but has shape=(); give it a shape"
            )
        needed = "positive" if constraint.kind == "positive_ordered" else "real"
        if not dist.improper and dist.support != needed:
            raise ConstraintError(
                f"constraint={constraint.kind!r} of {name!r} needs a prior with {needed} "
                f"support (or NoDistribution); {dist_name} has {dist.support} support"
            )
        return (constraint.kind,)
    if not dist.improper:
        bounds = _SUPPORT_BOUNDS.get(dist.support)
        if bounds is not None and constraint.contains(*bounds):
            return ()  # the support lies inside the bounds: nothing to truncate
        if not dist.truncatable or bounds is None:
            raise ConstraintError(
                f"{dist_name} of {name!r} cannot be truncated to {constraint.describe()}; "
                "bounds work with NoDistribution, Normal, Laplace and Cauchy priors, and "
                "TruncatedNormal and Uniform take lower/upper parameters"
            )
    return ("interval", constraint.lower, constraint.upper)


def _check_constraint_values(var: VariableBase, array: np.ndarray) -> None:
    constraint = var.constraint
    if constraint is None:
        return
    name = var.global_name
    low = -np.inf if constraint.lower is None else constraint.lower
    high = np.inf if constraint.upper is None else constraint.upper
    if ((array < low) | (array > high)).any():  # NaN compares False
        raise DataError(f"data for {name!r} must lie in [{low}, {high}] (its bounds)")
    if constraint.ordered:
        steps = np.diff(array, axis=-1)
        if (steps <= 0).any():
            raise DataError(f"data for {name!r} must increase along the last axis (ordered)")


def _check_values(var: VariableBase, array: np.ndarray, params: dict[str, Expr]) -> None:
    name, dist = var.global_name, type(var.distribution).__name__
    support = var.distribution.support
    _check_constraint_values(var, array)
    if var.dtype == "float" and support in ("real", "deterministic"):
        return  # any finite real value (or NaN) is valid: no pass over the data
    finite = array[~np.isnan(array)]
    if finite.size == 0:
        return
    if var.dtype == "bool" and not np.isin(finite, (0.0, 1.0)).all():
        raise DtypeError(
            f"data for bool variable {name!r} ({dist}) must be 0/1 or True/False, got "
            f"values such as {finite[~np.isin(finite, (0.0, 1.0))][:3]}"
        )
    if var.dtype == "int" and not np.all(finite == np.round(finite)):
        raise DtypeError(
            f"data for int variable {name!r} ({dist}) must be whole numbers, got values such "
            f"as {finite[finite != np.round(finite)][:3]}"
        )
    if support in ("nonnegative", "nonnegative_integer") and (finite < 0).any():
        raise DataError(f"data for {name!r} ({dist}) must be >= 0")
    if support == "positive" and (finite <= 0).any():
        raise DataError(f"data for {name!r} ({dist}) must be > 0")
    if support == "categories":
        k = type(var.distribution).category_count({p: tuple(v.shape) for p, v in params.items()})
        if ((finite < 0) | (finite >= k)).any():
            raise DataError(
                f"data for {name!r} ({dist} with {k} categories) must lie in 0 .. {k - 1}"
            )
    if support == "unit_interval" and ((finite < 0) | (finite > 1)).any():
        raise DataError(f"data for {name!r} ({dist}) must lie in [0, 1]")
    if support == "simplex":
        sums = np.sum(array, axis=-1)
        if (array < 0).any() or not np.allclose(sums[~np.isnan(sums)], 1.0, atol=1e-6):
            raise DataError(
                f"data for {name!r} ({dist}) must be >= 0 and sum to 1 along the last axis"
            )
    if support == "bounded_integer":
        count = params["total_count"]
        high = count.value if isinstance(count, Const) else np.inf
        if ((array < 0) | (array > high)).any():
            raise DataError(f"data for {name!r} ({dist}) must lie in 0 .. total_count")
    if support == "interval":
        low, high = _interval(params)
        if low is not None and ((array < low) | (array > high)).any():  # NaN compares False
            raise DataError(f"data for {name!r} ({dist}) must lie in its interval [{low}, "
                            f"{high}]")


def _interval(params: dict[str, Expr]) -> tuple[Any, Any]:
    """Constant bounds of an interval support (Uniform, TruncatedNormal), else ``None``s."""
    values = {k: v.value for k, v in params.items() if isinstance(v, Const)}
    if "center" in params or "width" in params:  # Uniform's Halerium parametrisation
        if "center" in values and "width" in values:
            low = values["center"] - values["width"] / 2
            return low, low + values["width"]
        if "lower" in values and "width" in values:
            return values["lower"], values["lower"] + values["width"]
        if "center" in values and "upper" in values:
            return 2 * values["center"] - values["upper"], values["upper"]
        return None, None
    bounds = [k for k in ("lower", "upper") if k in params]
    if not all(k in values for k in bounds):
        return None, None
    return values.get("lower", -np.inf), values.get("upper", np.inf)


def _same_data(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and bool(np.all((a == b) | (np.isnan(a) & np.isnan(b))))


def _normalise_data(data: Any, variables: list[VariableBase], root: NamedObject,
                    lowered_params: dict[str, dict[str, Expr]],
                    aliases: dict[int, VariableBase] | None = None,
                    targets: list[VariableBase] = ()
                    ) -> tuple[int, dict[str, np.ndarray]]:
    linker: DataLinker = get_data_linker(data) if not isinstance(data, DataLinker) else data
    aliases = aliases or {}
    everything = [*variables, *targets]
    by_id = {id(v): v for v in everything}
    by_name = {v.global_name: v for v in everything}
    arrays: dict[str, np.ndarray] = {}
    given_as: dict[str, str] = {}  # canonical name -> the name the data were given under
    counts: dict[str, int] = {}
    for key, values in linker.items():
        given = _resolve_key(key, by_id, by_name, root)
        var = aliases.get(id(given), given)
        if var.global_name in arrays:
            first = given_as[var.global_name]
            if first == given.global_name:  # e.g. {g.y: a, "g/y": b}: which one was meant?
                raise DataError(f"data for {var.global_name!r} are given twice (under two "
                                "keys that name the same variable); give them once")
            if _same_data(arrays[var.global_name], _as_float_array(var, values)):
                continue  # both ends of a link, with the same values
            raise DataError(
                f"data are given for {first!r} and for {given.global_name!r}, which are "
                f"linked (one random quantity, {var.global_name!r}), and their values differ; "
                "give the data for one end only"
            )
        given_as[var.global_name] = given.global_name
        array = _as_float_array(var, values)
        if var.is_dynamic:
            if array.ndim != len(var.shape) + 1 or array.shape[1:] != var.shape:
                raise DataError(
                    f"data for dynamic Variable {var.global_name!r} have shape {array.shape}; "
                    f"expected (n_data, *shape) = (n_data, {', '.join(map(str, var.shape))}"
                    f"{',' if len(var.shape) == 1 else ''}) with the examples on the first axis"
                    " (wrap a single example in a list)"
                    .replace("(n_data, )", "(n_data,)")
                )
            counts[var.global_name] = array.shape[0]
        else:
            try:
                array = np.broadcast_to(array, var.shape).copy()
            except ValueError:
                raise DataError(
                    f"data for StaticVariable {var.global_name!r} have shape {array.shape}; "
                    f"expected the variable's shape {var.shape} (a StaticVariable has no "
                    "examples axis)"
                ) from None
        _check_values(var, array, lowered_params[var.global_name])
        arrays[var.global_name] = array
    distinct = set(counts.values())
    if linker.n_data is not None:
        distinct.add(linker.n_data)
    if len(distinct) > 1:
        listed = ", ".join(f"{n!r}: {c}" for n, c in counts.items())
        extra = f"; n_data={linker.n_data}" if linker.n_data is not None else ""
        raise DataError(
            f"inconsistent number of examples: {listed}{extra}; every dynamic Variable's data "
            "must have the same length along the first axis (use NaN for missing entries)"
        )
    n_data = distinct.pop() if distinct else 1
    if n_data < 1:
        listed = ", ".join(repr(n) for n in counts) or "the DataLinker's n_data"
        raise DataError(f"data have zero examples (data for {listed}); give at least one "
                        "example")
    return n_data, arrays


@gc_paused
def lower(root: NamedObject, data: Mapping | DataLinker | None = None
          ) -> tuple[ModelSpec, LoweredData]:
    """Validate ``root`` (a Graph, Entity or Variable) with ``data`` and freeze them.

    Parameters
    ----------
    root : Graph, Entity or Variable
        The model's structure.
    data : dict or DataLinker, optional
        ``{variable or global name: array-like}``; ``NaN`` marks missing entries.

    Returns
    -------
    (ModelSpec, LoweredData)

    Raises
    ------
    GraphStructureError, CyclicGraphError, ShapeError, DataError, DtypeError
        With a message that names the variable and the fix.

    Examples
    --------
    >>> from bayesgraph.core import Variable
    >>> a = Variable("a")
    >>> b = Variable("b", mean=a)
    >>> a.mean = b
    >>> lower(a)
    Traceback (most recent call last):
    ...
    bayesgraph.exceptions.GraphStructureError: parameter 'mean' of 'a' reads 'b', ...
    """
    variables = collect_variables(root)
    names = [v.global_name for v in variables]
    if len(set(names)) != len(names):  # pragma: no cover - prevented by scopes
        raise GraphStructureError("duplicate variable names in the graph")
    aliases = alias_table(root, variables)  # linked targets are their sources
    targets = [v for v in variables if id(v) in aliases]
    variables = [v for v in variables if id(v) not in aliases]
    members = {id(v): v for v in variables}
    lowerer = _ExprLowerer(members, root, aliases)

    lowered: dict[str, dict[str, Expr]] = {}
    parents: dict[str, tuple[str, ...]] = {}
    constraints: dict[str, tuple[Any, ...]] = {}
    checked_shapes: set[tuple[Any, ...]] = set()
    for var in variables:
        dist = var.distribution
        active = dist.get_parameters()
        for group in dist.parameter_groups:
            if not any(name in active for name in group) and group[0] not in dist.optional:
                raise DistributionError(
                    f"{type(dist).__name__} of {var.global_name!r} needs one of "
                    f"{', '.join(group)}, which has no default; set it, e.g. "
                    f"{var.name}.{group[0]} = ..."
                )
        lowerer.reads = []
        params = {k: lowerer.lower(v, var, k) for k, v in active.items()}
        for k, expr in params.items():
            key = (type(dist), k, var.shape, expr.shape)
            if key not in checked_shapes:  # a pure function of the key, but the dynamic check
                _check_parameter_shape(var, k, expr)
                checked_shapes.add(key)
            elif expr.dynamic and not var.is_dynamic:
                _check_parameter_shape(var, k, expr)  # raises
        name = var.global_name
        lowered[name] = params
        constraints[name] = _lower_constraint(var)
        # the variables the parameters read, in order (those of var.get_parents(), the linked
        # ones replaced by their sources: the lowerer met them in the same order)
        parents[name] = tuple(dict.fromkeys(lowerer.reads))
    try:
        order = _topological_order(variables, step_parents(variables, lowered, parents)
                                   if lowerer.time_shifts else parents)
    except CyclicGraphError as err:
        if not aliases:
            raise
        raise CyclicGraphError(f"{err} (a linked target is its source, so the cycle may pass "
                               f"through the links: {describe_links(root)})") from None

    n_data, arrays = _normalise_data(data, variables, root, lowered, aliases, targets)
    _check_indices(lowerer.indices, arrays, _category_counts(variables, lowered))
    by_name = {v.global_name: v for v in variables}
    values: dict[str, np.ndarray] = {}
    missing: dict[str, np.ndarray] = {}
    value_fixed: dict[str, bool] = {}
    specs: list[VariableSpec] = []
    for name in order:
        var = by_name[name]
        dist_name = type(var.distribution).__name__
        role, n_missing = "latent", 0
        if name in arrays:
            array = arrays[name]
            mask = np.isnan(array)
            if not mask.any():
                role = "observed"
                values[name] = array
            elif mask.all():
                warn_user(
                    f"all data for {name!r} are NaN: the variable is treated as unobserved "
                    "(latent); drop it from the data, or give at least one value to observe it",
                    MissingDataWarning,
                )
            else:
                if type(var.distribution).event_dims or (var.constraint is not None
                                                         and var.constraint.ordered):
                    raise DataError(
                        f"data for {name!r} have NaN entries, but its values are vectors "
                        f"({type(var.distribution).__name__}"
                        f"{', ordered' if var.constraint is not None else ''}) that are "
                        "observed whole; give complete rows (missing parts of a vector are "
                        "not supported yet)"
                    )
                role, n_missing = "partial", int(mask.sum())
                missing[name] = np.flatnonzero(mask).astype(np.int64)
                values[name] = np.where(mask, 0.0, array)
        if (var.dtype in ("int", "bool") and role != "observed"
                and dist_name != "DiracDistribution" and not type(var.distribution).discrete):
            raise DtypeError(
                f"{name!r} has dtype {var.dtype!r}, but its {dist_name} is continuous: its "
                f"{'missing' if role == 'partial' else 'unobserved'} values would not be whole "
                "numbers in the draws its children see; give data for all of it, use a "
                "discrete distribution (Poisson, Binomial, NegativeBinomial, Categorical, "
                "Bernoulli), or dtype='float'"
            )
        # a parent read only in the past may come later (a recurrence): fixed if observed
        parent_fixed = all(value_fixed[p] if p in value_fixed else _fully_observed(arrays, p)
                           for p in parents[name])
        value_fixed[name] = role == "observed" or (
            dist_name == "DiracDistribution" and role == "latent" and parent_fixed)
        specs.append(VariableSpec(
            name=name, dynamic=var.is_dynamic, shape=var.shape, dtype=var.dtype,
            distribution=dist_name, params=tuple(lowered[name].items()),
            parents=parents[name], role=role, n_missing=n_missing,
            value_is_fixed=value_fixed[name],
            density_is_fixed=role == "observed" and parent_fixed,
            constraint=constraints[name],
        ))
    spec = ModelSpec(root_name=root.global_name, n_data=n_data, variables=tuple(specs),
                     aliases=tuple((t.global_name, aliases[id(t)].global_name) for t in targets))
    return spec, LoweredData(values=values, missing=missing)
