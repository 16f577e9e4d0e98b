"""Expression nodes: the operators that distribution parameters are built from.

An expression is a tree of :class:`Operator` nodes whose leaves are variables and constants.
Every operator names an entry of :data:`OPERATOR_TABLE`, which says how numpy computes it
(used for shape inference and constant values) and which JAX function the compiler calls.
The modelling language never imports JAX: the JAX side is only a dotted name here.

Examples
--------
>>> from bayesgraph.core import Graph, Variable
>>> with Graph("g") as g:
...     x = Variable("x")
...     y = Variable("y", mean=2 * x + 1)
>>> y.mean.value
<bayesgraph.Add ((2 * g/x) + 1)>
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from bayesgraph.core.operator.time import TimeOffset, shift_values, time_shift_shape
from bayesgraph.exceptions import DtypeError, ExpressionError, ShapeError


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _softplus(x):
    return np.logaddexp(0.0, x)


def _logsumexp(x, axis=None):
    m = np.max(x, axis=axis, keepdims=True)
    return np.squeeze(m, axis=axis) + np.log(np.sum(np.exp(x - m), axis=axis))


def _softmax(x, axis=-1):
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


class IndexArray(tuple):
    """An integer index array inside an index key, frozen to a tuple (fancy indexing)."""


@dataclass(frozen=True)
class Operand:
    """A place in an index key filled by an operand of the operator: ``args[position]``.

    ``alpha[group]`` with a variable ``group`` is the ``index`` operator with operands
    ``(alpha, group)`` and key ``(Operand(1),)``: the index is a value (read at run time,
    data in compiled code), not part of the key.

    Examples
    --------
    >>> Operand(1)
    Operand(position=1)
    """

    position: int


def thaw_key(key: Any) -> Any:
    """Undo :func:`_freeze_key`: turn :class:`IndexArray` entries back into numpy arrays.

    Examples
    --------
    >>> thaw_key((IndexArray((0, 2)), slice(None)))[0].tolist()
    [0, 2]
    """
    if isinstance(key, IndexArray):
        return np.asarray(key, dtype=np.int64)
    if isinstance(key, tuple):
        return tuple(thaw_key(k) for k in key)
    return key


def _getitem(x, key):
    return x[thaw_key(key)]


def fill_key(key: Any, operands: tuple[Any, ...]) -> tuple[Any, ...]:
    """The key of an ``index`` operator with its :class:`Operand` places filled.

    ``operands[i]`` fills ``Operand(i + 1)`` (``args[0]`` is the indexed value).

    Examples
    --------
    >>> import numpy as np
    >>> fill_key((Operand(1), slice(None)), (np.array([2, 0]),))[0].tolist()
    [2, 0]
    """
    return tuple(operands[k.position - 1] if isinstance(k, Operand) else thaw_key(k)
                 for k in key)


def _as_index(value: Any) -> np.ndarray:
    return np.asarray(value).astype(np.int64)


def _index(x, *indices, key):
    return np.asarray(x)[fill_key(key, tuple(_as_index(i) for i in indices))]


def _index_shape(x_shape, *index_shapes, key):
    zeros = tuple(np.zeros(shape, dtype=np.int64) for shape in index_shapes)
    return np.zeros(x_shape)[fill_key(key, zeros)].shape


def _square(shape: tuple[int, ...], what: str) -> None:
    if len(shape) < 2 or shape[-1] != shape[-2]:
        raise ValueError(f"{what} needs square matrices (..., N, N), got shape {shape}")


def _cholesky_shape(shape, **kwargs):
    _square(shape, "cholesky")
    return tuple(shape)


def _logdet_shape(shape, **kwargs):
    _square(shape, "logdet")
    return tuple(shape[:-2])


def _solve_shapes(a_shape, b_shape, lower=True):
    """Result shape of ``solve_triangular(a, b)``: ``b`` is one vector when 1-d, else a
    stack of ``(N, K)`` matrices (numpy 2's ``linalg.solve`` rule)."""
    _square(a_shape, "solve_triangular's first operand")
    n = a_shape[-1]
    if len(b_shape) == 1:
        if b_shape[0] != n:
            raise ValueError(f"the vector has {b_shape[0]} entries, the matrix is {n} x {n}")
        return (*a_shape[:-2], n)
    if b_shape[-2] != n:
        raise ValueError(f"the right-hand side of shape {b_shape} needs {n} rows: shape "
                         f"({n},) or (..., {n}, K)")
    batch = np.broadcast_shapes(a_shape[:-2], b_shape[:-2])
    return (*batch, n, b_shape[-1])


def _tri(a, lower):
    return np.tril(a) if lower else np.triu(a)


def _solve_triangular(a, b, *, lower):
    a, b = np.asarray(a), np.asarray(b)
    if b.ndim == 1:
        return np.linalg.solve(_tri(a, lower), b[..., None])[..., 0]
    return np.linalg.solve(_tri(a, lower), b)


def _logdet(x):
    return 2.0 * np.sum(np.log(np.diagonal(np.linalg.cholesky(x), axis1=-2, axis2=-1)),
                        axis=-1)


@dataclass(frozen=True)
class OperatorSpec:
    """How one operator is computed.

    Attributes
    ----------
    name : str
        The operator's name in expressions and in the lowered description.
    numpy_fn : callable
        numpy implementation (shape inference and constant folding).
    jax_fn : str
        dotted path of the JAX implementation, resolved by the compiler only.
    elementwise : bool
        True for broadcasting elementwise operators; the compiler aligns the examples axis of
        such operators by reshaping instead of ``vmap``.
    shape_fn : callable or None
        ``shape_fn(*operand shapes, **kwargs) -> shape`` where numpy cannot infer the shape
        from dummy operands (a Cholesky factor needs a positive-definite matrix, an index
        an integer in range); raises ``ValueError`` on operands that do not fit.

    Examples
    --------
    >>> OPERATOR_TABLE["add"].elementwise
    True
    """

    name: str
    numpy_fn: Callable[..., Any]
    jax_fn: str
    elementwise: bool
    shape_fn: Callable[..., Any] | None = None


def _table() -> dict[str, OperatorSpec]:
    ew = {  # elementwise: name -> (numpy fn, jax path)
        "add": (np.add, "jax.numpy.add"),
        "subtract": (np.subtract, "jax.numpy.subtract"),
        "multiply": (np.multiply, "jax.numpy.multiply"),
        "divide": (np.divide, "jax.numpy.divide"),
        "power": (np.power, "jax.numpy.power"),
        "negative": (np.negative, "jax.numpy.negative"),
        "exp": (np.exp, "jax.numpy.exp"),
        "log": (np.log, "jax.numpy.log"),
        "log1p": (np.log1p, "jax.numpy.log1p"),
        "expm1": (np.expm1, "jax.numpy.expm1"),
        "sqrt": (np.sqrt, "jax.numpy.sqrt"),
        "square": (np.square, "jax.numpy.square"),
        "sin": (np.sin, "jax.numpy.sin"),
        "cos": (np.cos, "jax.numpy.cos"),
        "tan": (np.tan, "jax.numpy.tan"),
        "arcsin": (np.arcsin, "jax.numpy.arcsin"),
        "arccos": (np.arccos, "jax.numpy.arccos"),
        "arctan": (np.arctan, "jax.numpy.arctan"),
        "sinh": (np.sinh, "jax.numpy.sinh"),
        "cosh": (np.cosh, "jax.numpy.cosh"),
        "tanh": (np.tanh, "jax.numpy.tanh"),
        "abs": (np.abs, "jax.numpy.abs"),
        "sign": (np.sign, "jax.numpy.sign"),
        "sigmoid": (_sigmoid, "jax.nn.sigmoid"),
        "softplus": (_softplus, "jax.nn.softplus"),
        "maximum": (np.maximum, "jax.numpy.maximum"),
        "minimum": (np.minimum, "jax.numpy.minimum"),
        "where": (np.where, "jax.numpy.where"),
        "clip": (np.clip, "jax.numpy.clip"),
        "greater": (np.greater, "jax.numpy.greater"),
        "less": (np.less, "jax.numpy.less"),
        "greater_equal": (np.greater_equal, "jax.numpy.greater_equal"),
        "less_equal": (np.less_equal, "jax.numpy.less_equal"),
        "equal": (np.equal, "jax.numpy.equal"),
    }
    structural = {
        "sum": (np.sum, "jax.numpy.sum"),
        "mean": (np.mean, "jax.numpy.mean"),
        "prod": (np.prod, "jax.numpy.prod"),
        "max": (np.max, "jax.numpy.max"),
        "min": (np.min, "jax.numpy.min"),
        "logsumexp": (_logsumexp, "jax.scipy.special.logsumexp"),
        "softmax": (_softmax, "jax.nn.softmax"),
        "matmul": (np.matmul, "jax.numpy.matmul"),
        "dot": (np.dot, "jax.numpy.dot"),
        "reshape": (np.reshape, "jax.numpy.reshape"),
        "transpose": (np.transpose, "jax.numpy.transpose"),
        "concatenate": (lambda *xs, axis=0: np.concatenate(xs, axis=axis),
                        "bayesgraph.core.compiler.ops.concatenate"),
        "stack": (lambda *xs, axis=0: np.stack(xs, axis=axis),
                  "bayesgraph.core.compiler.ops.stack"),
        "getitem": (_getitem, "bayesgraph.core.compiler.ops.getitem"),
        "cumsum": (lambda x, axis=None: np.cumsum(x, axis=axis), "jax.numpy.cumsum"),
    }
    shaped = {  # structural operators whose shapes numpy cannot infer from dummies
        "index": (_index, "bayesgraph.core.compiler.ops.index", _index_shape),
        "cholesky": (np.linalg.cholesky, "jax.numpy.linalg.cholesky", _cholesky_shape),
        "logdet": (_logdet, "bayesgraph.core.compiler.ops.logdet", _logdet_shape),
        "solve_triangular": (_solve_triangular, "bayesgraph.core.compiler.ops.solve_triangular",
                             _solve_shapes),
        # along the examples (time) axis: see bayesgraph.core.operator.time
        "time_shift": (shift_values, "bayesgraph.core.compiler.ops.time_shift",
                       time_shift_shape),
    }
    table = {k: OperatorSpec(k, f, j, True) for k, (f, j) in ew.items()}
    table.update({k: OperatorSpec(k, f, j, False) for k, (f, j) in structural.items()})
    table.update({k: OperatorSpec(k, f, j, False, sh) for k, (f, j, sh) in shaped.items()})
    return table


#: Every operator the modelling language knows, keyed by name.
OPERATOR_TABLE: dict[str, OperatorSpec] = _table()

_SYMBOLS = {"add": "+", "subtract": "-", "multiply": "*", "divide": "/", "power": "**",
            "matmul": "@"}


def as_node(value: Any) -> Any:
    """Turn a user value into an expression node or a numpy constant.

    Variables and operators are returned as they are; a distribution parameter is replaced by
    its current value; anything else becomes a numpy array (lists and tuples included).

    Examples
    --------
    >>> as_node([1, 2]).tolist()
    [1, 2]
    """
    if isinstance(value, ExpressionBase):
        return value._node()
    try:
        array = np.asarray(value)
    except Exception as err:  # pragma: no cover - numpy raises many types
        raise ExpressionError(f"cannot use {value!r} in an expression: {err}") from None
    if array.dtype == object:
        raise ExpressionError(
            f"cannot use {value!r} in an expression: it is neither a number, an array of "
            "numbers, nor a bayesgraph variable or expression"
        )
    return array


class ExpressionBase:
    """Arithmetic for variables, operators and parameters.

    ``+ - * / ** @``, unary minus, reflected operators (so ``sum([...])`` works) and indexing
    build :class:`Operator` nodes. Comparison with ``==`` keeps Python's identity semantics so
    variables can be dictionary keys.

    Examples
    --------
    >>> from bayesgraph.core import Variable
    >>> x = Variable("x")
    >>> type(sum([x, x])).__name__
    'Add'
    """

    __array_ufunc__ = None  # numpy defers to our reflected operators

    def _node(self) -> Any:
        """The expression node that stands for this object (a parameter: its value)."""
        return self

    def __add__(self, other):
        return make("add", self._node(), as_node(other))

    def __radd__(self, other):
        return make("add", as_node(other), self._node())

    def __sub__(self, other):
        return make("subtract", self._node(), as_node(other))

    def __rsub__(self, other):
        return make("subtract", as_node(other), self._node())

    def __mul__(self, other):
        return make("multiply", self._node(), as_node(other))

    def __rmul__(self, other):
        return make("multiply", as_node(other), self._node())

    def __truediv__(self, other):
        return make("divide", self._node(), as_node(other))

    def __rtruediv__(self, other):
        return make("divide", as_node(other), self._node())

    def __pow__(self, other):
        return make("power", self._node(), as_node(other))

    def __rpow__(self, other):
        return make("power", as_node(other), self._node())

    def __matmul__(self, other):
        return make("matmul", self._node(), as_node(other))

    def __rmatmul__(self, other):
        return make("matmul", as_node(other), self._node())

    def __neg__(self):
        return make("negative", self._node())

    def __pos__(self):
        return self._node()

    def __abs__(self):
        return make("abs", self._node())

    @property
    def T(self):  # noqa: N802 - numpy's name
        """The transpose (axes of the variable's own shape reversed), as numpy's ``.T``.

        Examples
        --------
        >>> from bayesgraph.core import StaticVariable
        >>> StaticVariable("m", shape=(2, 3)).T.op
        'transpose'
        """
        return make("transpose", self._node(), axes=None)

    def __getitem__(self, key):
        entries = key if isinstance(key, tuple) else (key,)
        if any(isinstance(k, TimeOffset) for k in entries):
            return _time_index_node(self._node(), entries)
        if not any(_is_operand(k) for k in entries):
            return make("getitem", self._node(), key=_freeze_key(key))
        return _index_node(self._node(), entries)

    def __iter__(self):
        raise ExpressionError(
            f"{self!r} cannot be iterated over: index it explicitly, e.g. v[0], v[1]"
        )

    def __bool__(self):
        raise ExpressionError(
            f"the truth value of {self!r} is unknown until the model runs; use "
            "bayesgraph.core.where(...) for conditional expressions"
        )


class ExpressionLeaf(ExpressionBase):
    """A leaf of an expression tree that names a random quantity: the base of variables.

    Operators and the lowering recognise variables through this class, so the expression
    layer does not import the variable layer above it.

    Examples
    --------
    >>> from bayesgraph.core import Variable
    >>> isinstance(Variable("x"), ExpressionLeaf)
    True
    """

    global_name: str


def _freeze_key(key: Any) -> Any:
    """Make an index key hashable and free of expressions."""
    if isinstance(key, tuple):
        return tuple(_freeze_key(k) for k in key)
    if isinstance(key, (list, np.ndarray)):
        array = np.asarray(key)
        if array.dtype.kind == "b":
            array = np.flatnonzero(array)
        _check_integer_array(array, key)
        return IndexArray(array.astype(np.int64).ravel().tolist())
    if isinstance(key, (float, np.floating)):
        raise DtypeError(f"index {key!r} is not an integer: use integers, slices or integer "
                         "arrays")
    return key


def _check_integer_array(array: np.ndarray, key: Any) -> None:
    if array.size and array.dtype.kind not in "iu":
        raise DtypeError(f"index {key!r} is not an array of integers (dtype {array.dtype}): "
                         "use integers, slices or integer arrays")


def _is_operand(k: Any) -> bool:
    """Whether an index entry is a value of the index operator (not part of its key): a
    variable or expression, or an integer array of more than one axis."""
    if isinstance(k, ExpressionBase):
        return True
    return isinstance(k, (list, np.ndarray)) and np.ndim(k) > 1


def _index_node(x: Any, entries: tuple[Any, ...]) -> Operator:
    """``x[entries]`` where some entries are variables or expressions: the ``index``
    operator, whose operands after ``x`` fill the :class:`Operand` places of its key."""
    operands: list[Any] = []
    key: list[Any] = []
    for k in entries:
        if k is None or k is Ellipsis:
            raise ShapeError(
                f"index {entries!r} of {_describe(x)}: None and ... cannot be combined with "
                "a variable index; write every axis out with slices (:)"
            )
        if not _is_operand(k):
            key.append(_freeze_key(k))
            continue
        if isinstance(k, ExpressionBase):
            node = k._node()
            for var in dict.fromkeys(_walk_variables(node)):
                if var.dtype != "int":
                    raise DtypeError(
                        f"{_describe(x)} is indexed by {_describe(node)}, which reads "
                        f"{var.global_name!r} of dtype {var.dtype!r}; an index must be "
                        f"integer: declare it with dtype='int', e.g. "
                        f"Variable({var.name!r}, dtype='int')"
                    )
        else:
            node = np.asarray(k)
            _check_integer_array(node, k)
        operands.append(node)
        key.append(Operand(len(operands)))
    return make("index", x, *operands, key=tuple(key))


def _describe(arg: Any) -> str:
    if isinstance(arg, ExpressionLeaf):
        return arg.global_name
    if isinstance(arg, Operator):
        return arg.describe()
    if isinstance(arg, np.ndarray) and arg.ndim == 0:
        return repr(arg.item())
    if isinstance(arg, np.ndarray):
        return np.array2string(arg, threshold=6)
    return repr(arg)


class Operator(ExpressionBase):
    """An operator applied to expressions: one node of an expression tree.

    Parameters
    ----------
    op : str
        A key of :data:`OPERATOR_TABLE`.
    *args
        Operands: variables, operators or numpy constants.
    **kwargs
        Static keyword arguments (``axis=``, ``key=``, ``shape=``).

    Examples
    --------
    >>> from bayesgraph.core import Variable, exp
    >>> x = Variable("x")
    >>> e = exp(x)
    >>> e.op, e.args[0] is x
    ('exp', True)
    """

    def __init__(self, op: str, *args: Any, **kwargs: Any) -> None:
        if op not in OPERATOR_TABLE:
            raise KeyError(f"unknown operator {op!r}; valid: {sorted(OPERATOR_TABLE)}")
        self.op = op
        self.args = tuple(args)
        self.kwargs = dict(kwargs)

    def get_variables(self) -> list:
        """Return the variables this expression reads, without duplicates, in order.

        Examples
        --------
        >>> from bayesgraph.core import Variable
        >>> a, b = Variable("a"), Variable("b")
        >>> [v.name for v in (a * b + a).get_variables()]
        ['a', 'b']
        """
        return list(dict.fromkeys(_walk_variables(self)))

    def describe(self) -> str:
        """A compact infix/functional rendering of the expression.

        Examples
        --------
        >>> from bayesgraph.core import Variable
        >>> (Variable("a") + 1).describe()
        '(a + 1)'
        """
        parts = [_describe(a) for a in self.args]
        if self.op in _SYMBOLS and len(parts) == 2:
            return f"({parts[0]} {_SYMBOLS[self.op]} {parts[1]})"
        if self.op == "negative":
            return f"-{parts[0]}"
        if self.op == "getitem":
            return f"{parts[0]}[{self.kwargs['key']!r}]"
        if self.op == "time_shift":
            return _describe_time_shift(parts[0], self.kwargs)
        if self.op == "index":
            key = [parts[k.position] if isinstance(k, Operand) else _describe_entry(k)
                   for k in self.kwargs["key"]]
            return f"{parts[0]}[{', '.join(key)}]"
        extra = [f"{k}={v!r}" for k, v in self.kwargs.items()]
        return f"{type(self).__name__}({', '.join(parts + extra)})"

    def __repr__(self) -> str:
        return f"<bayesgraph.{type(self).__name__} {self.describe()}>"


def _describe_entry(k: Any) -> str:
    if isinstance(k, slice):
        return ":".join("" if v is None else str(v) for v in (k.start, k.stop)) + (
            "" if k.step is None else f":{k.step}")
    if isinstance(k, IndexArray):
        return repr(list(k))
    return repr(k)


def _walk_variables(node: Any):
    if isinstance(node, ExpressionLeaf):
        yield node
    elif isinstance(node, Operator):
        for arg in node.args:
            yield from _walk_variables(arg)


def _class_name(op: str) -> str:
    special = {"add": "Add", "subtract": "Sub", "multiply": "Mul", "divide": "Div",
               "power": "Pow", "negative": "Neg", "getitem": "GetItem", "matmul": "MatMul",
               "logsumexp": "LogSumExp", "cumsum": "CumSum", "logdet": "LogDet",
               "solve_triangular": "SolveTriangular", "time_shift": "TimeShift"}
    return special.get(op, op.capitalize())


#: One Operator subclass per operator (``operators.Sum``, ``operators.Add``, ...), so
#: ``isinstance`` checks read like Halerium's ``halerium.core.operator.operators.Sum``.
OPERATOR_CLASSES: dict[str, type[Operator]] = {}
for _op in OPERATOR_TABLE:
    _cls = type(_class_name(_op), (Operator,), {"__module__": __name__,
                                                "__doc__": f"The ``{_op}`` operator."})
    OPERATOR_CLASSES[_op] = _cls
    globals()[_cls.__name__] = _cls
del _op, _cls


def make(op: str, *args: Any, **kwargs: Any) -> Operator:
    """Build the operator node ``op(*args, **kwargs)``.

    Examples
    --------
    >>> from bayesgraph.core import Variable
    >>> type(make("sum", Variable("v", shape=(3,)))).__name__
    'Sum'
    """
    for arg in args:  # strings, bytes, complex numbers: refuse now, not in the compiled model
        if isinstance(arg, np.ndarray) and arg.dtype.kind not in "biuf":
            raise ExpressionError(
                f"cannot use {arg.tolist()!r} (dtype {arg.dtype}) in the expression "
                f"{op}(...): an operand must be a real number, an array of real numbers, or a "
                "bayesgraph variable or expression"
            )
    cls = OPERATOR_CLASSES[op]
    node = cls.__new__(cls)
    Operator.__init__(node, op, *args, **kwargs)
    return node


def _sum_init(self, x, axis=None):  # Halerium: operators.Sum(x) is a callable class
    Operator.__init__(self, "sum", as_node(x), axis=axis)


OPERATOR_CLASSES["sum"].__init__ = _sum_init  # type: ignore[attr-defined]


# -- time shifts along the examples axis ---------------------------------------------------
def time_shift(x: Any, shift: Any, initial_values: Any = 0.0) -> Operator:
    """The ``time_shift`` node of ``x`` (checked): see :class:`TimeShift`.

    Examples
    --------
    >>> from bayesgraph.core import Variable
    >>> time_shift(Variable("x"), -1).kwargs
    {'shift': -1, 'initial_values': 0.0}
    """
    from bayesgraph.core.operator.time import check_shift, freeze_initial_values

    node = as_node(x)
    shift = check_shift(shift)
    what = _describe(node)
    if not isinstance(node, ExpressionBase):
        raise ExpressionError(
            f"TimeShift of the constant {what}: only a dynamic Variable (or an expression of "
            "one) has a time (examples) axis to shift"
        )
    variables = list(dict.fromkeys(_walk_variables(node)))
    if not any(v.is_dynamic for v in variables):
        raise ExpressionError(
            f"TimeShift of {what}, which is static: a StaticVariable has one value for all "
            "examples and no time axis to shift; shift a dynamic Variable (or an expression "
            "that reads one)"
        )
    return make("time_shift", node, shift=shift,
                initial_values=freeze_initial_values(initial_values))


def _time_shift_init(self, variable, shift, initial_values=0.0):
    node = time_shift(variable, shift, initial_values)
    Operator.__init__(self, "time_shift", *node.args, **node.kwargs)


def _time_index_node(x: Any, entries: tuple[Any, ...]) -> Any:
    """``x[TimeIndex - k, *rest]``: the lag (or lead) of ``x``, then ``[rest]`` of each
    step's value (the time offset must be the first entry: it indexes the examples axis)."""
    if not isinstance(entries[0], TimeOffset) or any(isinstance(k, TimeOffset)
                                                     for k in entries[1:]):
        raise ExpressionError(
            f"{_describe(x)}[{', '.join(map(repr, entries))}]: TimeIndex indexes the examples "
            "(time) axis, which comes first: write x[TimeIndex - k] or x[TimeIndex - k, i]"
        )
    shifted = x if entries[0].offset == 0 else time_shift(x, entries[0].offset, 0.0)
    rest = entries[1:]
    if not rest:
        return shifted
    return shifted[rest if len(rest) > 1 else rest[0]]


def _describe_time_shift(inner: str, kwargs: dict[str, Any]) -> str:
    shift, initial = kwargs["shift"], kwargs["initial_values"]
    offset = "" if shift == 0 else f" {'+' if shift > 0 else '-'} {abs(shift)}"
    if initial == 0.0:
        return f"{inner}[TimeIndex{offset}]"
    return f"TimeShift({inner}, shift={shift}, initial_values={initial!r})"


OPERATOR_CLASSES["time_shift"].__init__ = _time_shift_init  # type: ignore[attr-defined]
OPERATOR_CLASSES["time_shift"].__doc__ = """``TimeShift(variable, shift, initial_values=0)``:
    a dynamic variable (or expression) shifted along the examples (time) axis.

    Its value at step ``t`` is ``variable`` at step ``t + shift``: ``shift=-k`` is a lag of
    ``k`` steps (the first ``k`` steps, which have no past, take ``initial_values``), a
    positive shift a lead (the last steps take ``initial_values``). ``x[TimeIndex - k]`` is
    ``TimeShift(x, shift=-k, initial_values=0)``. ``initial_values`` are constants that
    broadcast to ``(|shift|, *shape)``: one value for all filled steps, or one per step.

    A variable may depend on its own lags (an AR process, ``y.mean = a * y[TimeIndex - 1]``):
    that is a recurrence over time, not a cycle.

    Examples
    --------
    >>> from bayesgraph.core import Graph, Variable, TimeIndex, TimeShift
    >>> with Graph("ar") as ar:
    ...     y = Variable("y", variance=1.0)
    ...     y.mean = 0.5 * y[TimeIndex - 1]
    >>> y.mean.value
    <bayesgraph.Mul (0.5 * ar/y[TimeIndex - 1])>
    >>> TimeShift(y, shift=-2, initial_values=1.0).describe()
    'TimeShift(ar/y, shift=-2, initial_values=1.0)'
    """
TimeShift = OPERATOR_CLASSES["time_shift"]
