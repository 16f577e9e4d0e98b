"""numpy-like functions that build operator expressions of variables.

Each function takes variables, expressions or constants and returns an
:class:`~bayesgraph.core.operator.operators.Operator`. Axes refer to the variable's own shape:
the examples axis of a :class:`~bayesgraph.core.variable.Variable` is never reduced or indexed.

Examples
--------
>>> from bayesgraph.core import Graph, Variable, StaticVariable, exp, sum
>>> with Graph("g") as g:
...     w = StaticVariable("w", shape=(3,))
...     x = Variable("x", shape=(3,))
...     y = Variable("y", mean=sum(w * x), variance=exp(-2.0))
>>> y.mean.value.describe()
'Sum((g/w * g/x), axis=None)'
"""

from __future__ import annotations

import builtins
import functools
from typing import Any

import numpy as np

from bayesgraph.core.operator.operators import ExpressionBase, as_node, make

__all__ = [
    "exp", "log", "log1p", "expm1", "sqrt", "square", "sin", "cos", "tan", "arcsin", "arccos",
    "arctan", "sinh", "cosh", "tanh", "abs", "sign", "sigmoid", "softplus", "maximum",
    "minimum", "where", "clip", "greater", "less", "greater_equal", "less_equal", "equal",
    "power", "pow", "sum", "mean", "prod",
    "max", "min", "logsumexp", "softmax", "matmul", "dot", "reshape", "transpose",
    "concatenate", "stack", "cumsum", "cholesky", "solve_triangular", "logdet",
    "squared_exponential_kernel",
]


def _unary(op: str):
    def fn(x: Any):
        return make(op, as_node(x))

    fn.__name__ = op
    fn.__qualname__ = op
    fn.__doc__ = f"""Elementwise ``{op}`` of an expression.

    Examples
    --------
    >>> from bayesgraph.core import Variable
    >>> from bayesgraph.core.operator import {op}
    >>> {op}(Variable("x")).op
    '{op}'
    """
    return fn


exp = _unary("exp")
log = _unary("log")
log1p = _unary("log1p")
expm1 = _unary("expm1")
sqrt = _unary("sqrt")
square = _unary("square")
sin = _unary("sin")
cos = _unary("cos")
tan = _unary("tan")
arcsin = _unary("arcsin")
arccos = _unary("arccos")
arctan = _unary("arctan")
sinh = _unary("sinh")
cosh = _unary("cosh")
tanh = _unary("tanh")
_abs = _unary("abs")


def abs(x: Any):  # noqa: A001 - numpy-like name; plain numbers get the builtin
    """Elementwise absolute value of an expression; Python's ``abs`` for anything else.

    ``from bayesgraph.core import *`` binds this name, so plain numbers and arrays keep the
    built-in's behaviour.

    Examples
    --------
    >>> from bayesgraph.core import Variable
    >>> abs(Variable("x")).op, abs(-3)
    ('abs', 3)
    """
    return _abs(x) if isinstance(x, ExpressionBase) else builtins.abs(x)
sign = _unary("sign")
sigmoid = _unary("sigmoid")
softplus = _unary("softplus")


def _binary(op: str):
    def fn(x: Any, y: Any):
        return make(op, as_node(x), as_node(y))

    fn.__name__ = op
    fn.__qualname__ = op
    fn.__doc__ = f"""Elementwise ``{op}`` of two expressions (broadcasting).

    Examples
    --------
    >>> from bayesgraph.core import Variable
    >>> from bayesgraph.core.operator import {op}
    >>> {op}(Variable("x"), 1.0).op
    '{op}'
    """
    return fn


maximum = _binary("maximum")
minimum = _binary("minimum")
greater = _binary("greater")
less = _binary("less")
greater_equal = _binary("greater_equal")
less_equal = _binary("less_equal")
equal = _binary("equal")  # ``==`` on variables compares the objects (dictionary keys)
power = _binary("power")


def pow(x: Any, y: Any, *mod: Any):  # noqa: A001 - numpy-like name; numbers get the builtin
    """``x ** y`` as an expression when either is an expression; Python's ``pow`` otherwise.

    Examples
    --------
    >>> from bayesgraph.core import Variable
    >>> pow(Variable("x"), 2).op, pow(2, 10), pow(2, 10, 1000)
    ('power', 1024, 24)
    """
    if isinstance(x, ExpressionBase) or isinstance(y, ExpressionBase):
        if mod:
            raise TypeError("pow() with a modulus takes whole numbers, not expressions")
        return power(x, y)
    return builtins.pow(x, y, *mod)


def where(condition: Any, x: Any, y: Any):
    """Elementwise choice: ``x`` where ``condition`` is true, else ``y``.

    Examples
    --------
    >>> from bayesgraph.core import Variable
    >>> from bayesgraph.core.operator import where, greater
    >>> v = Variable("v")
    >>> where(greater(v, 0), v, 0.0).op
    'where'
    """
    return make("where", as_node(condition), as_node(x), as_node(y))


def clip(x: Any, lower: Any, upper: Any):
    """Clip ``x`` elementwise to ``[lower, upper]``.

    Examples
    --------
    >>> from bayesgraph.core import Variable
    >>> from bayesgraph.core.operator import clip
    >>> clip(Variable("v"), 0, 1).op
    'clip'
    """
    return make("clip", as_node(x), as_node(lower), as_node(upper))


def _reduction(op: str):
    def fn(x: Any, axis: int | tuple[int, ...] | None = None):
        return make(op, as_node(x), axis=axis)

    fn.__name__ = op
    fn.__qualname__ = op
    fn.__doc__ = f"""``{op}`` over ``axis`` of the variable's own shape (all axes by default).

    The examples axis of a dynamic variable is never reduced.

    Examples
    --------
    >>> from bayesgraph.core import Variable
    >>> from bayesgraph.core.operator import {op}
    >>> {op}(Variable("x", shape=(3,)), axis=0).kwargs
    {{'axis': 0}}
    """
    return fn


_sum = _reduction("sum")
mean = _reduction("mean")
prod = _reduction("prod")
_max = _reduction("max")
_min = _reduction("min")
logsumexp = _reduction("logsumexp")

# ``sum``, ``max`` and ``min`` build expressions of *one* expression and fall back to Python's
# built-ins for everything else, so ``from bayesgraph.core import *`` keeps ``sum(range(3))``,
# ``max(1, 2)`` and ``sum(b[i] * e[i] for i in range(q))`` (a generator of expressions) working.


def sum(x: Any, *start: Any, axis: int | tuple[int, ...] | None = None):  # noqa: A001
    """The sum over ``axis`` of an expression's own shape (all axes by default), or Python's
    ``sum`` of an iterable (numbers or expressions alike) with an optional ``start``.

    The examples axis of a dynamic variable is never reduced.

    Examples
    --------
    >>> from bayesgraph.core import Variable
    >>> x = Variable("x", shape=(3,))
    >>> sum(x).op, sum(x, axis=0).kwargs
    ('sum', {'axis': 0})
    >>> sum(x[i] * 2 for i in range(3)).op     # a generator of expressions: their sum
    'add'
    >>> sum(range(4)), sum([0.5, 0.25], 1)     # plain numbers: the built-in
    (6, 1.75)
    """
    if isinstance(x, ExpressionBase) and not start:
        return _sum(x, axis=axis)
    if axis is not None:
        raise TypeError("sum(..., axis=) needs one bayesgraph expression as its first argument")
    if isinstance(x, (np.ndarray, np.generic)) or start or not hasattr(x, "__iter__"):
        return builtins.sum(x, *start)
    items = list(x)
    if any(isinstance(i, ExpressionBase) for i in items):
        return functools.reduce(lambda a, b: a + b, items)  # no constant 0 in the expression
    return builtins.sum(items)


def _extremum(name: str, reduction: Any, elementwise: Any, builtin: Any):
    def fn(*args: Any, axis: int | tuple[int, ...] | None = None, **kwargs: Any):
        if len(args) == 1 and isinstance(args[0], ExpressionBase) and not kwargs:
            return reduction(args[0], axis=axis)
        if axis is None and not kwargs and len(args) > 1 and any(
                isinstance(a, ExpressionBase) for a in args):
            return functools.reduce(elementwise, args)
        if axis is not None:
            raise TypeError(f"{name}(..., axis=) needs one bayesgraph expression")
        return builtin(*args, **kwargs)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"""``{name}`` over ``axis`` of one expression's own shape (all axes by
    default); the elementwise {name}imum of several arguments when one of them is an
    expression; Python's ``{name}`` for everything else.

    Examples
    --------
    >>> from bayesgraph.core import Variable
    >>> from bayesgraph.core.operator import {name}
    >>> x = Variable("x", shape=(3,))
    >>> {name}(x, axis=0).kwargs, {name}(x[0], 0.0).op, {name}(3, 1, 2), {name}([4, 5])
    ({{'axis': 0}}, '{name}imum', {builtin(3, 1, 2)}, {builtin([4, 5])})
    """
    return fn


max = _extremum("max", _max, maximum, builtins.max)  # noqa: A001
min = _extremum("min", _min, minimum, builtins.min)  # noqa: A001


def softmax(x: Any, axis: int = -1):
    """Softmax along ``axis`` of the variable's own shape.

    Examples
    --------
    >>> from bayesgraph.core import Variable
    >>> from bayesgraph.core.operator import softmax
    >>> softmax(Variable("x", shape=(3,))).op
    'softmax'
    """
    return make("softmax", as_node(x), axis=axis)


def matmul(x: Any, y: Any):
    """Matrix product with numpy's ``matmul`` rules, per example.

    Examples
    --------
    >>> import numpy as np
    >>> from bayesgraph.core import Variable
    >>> from bayesgraph.core.operator import matmul
    >>> matmul(np.eye(2), Variable("x", shape=(2,))).op
    'matmul'
    """
    return make("matmul", as_node(x), as_node(y))


def dot(x: Any, y: Any):
    """Dot product with numpy's ``dot`` rules, per example.

    Examples
    --------
    >>> from bayesgraph.core import Variable
    >>> from bayesgraph.core.operator import dot
    >>> dot(Variable("x", shape=(2,)), [1.0, 2.0]).op
    'dot'
    """
    return make("dot", as_node(x), as_node(y))


def reshape(x: Any, shape: tuple[int, ...]):
    """Reshape to ``shape`` (the variable's own shape; the examples axis is kept).

    Examples
    --------
    >>> from bayesgraph.core import Variable
    >>> from bayesgraph.core.operator import reshape
    >>> reshape(Variable("x", shape=(4,)), (2, 2)).kwargs
    {'shape': (2, 2)}
    """
    return make("reshape", as_node(x), shape=tuple(shape))


def transpose(x: Any, axes: tuple[int, ...] | None = None):
    """Permute the axes of the variable's own shape.

    Examples
    --------
    >>> from bayesgraph.core import Variable
    >>> from bayesgraph.core.operator import transpose
    >>> transpose(Variable("x", shape=(2, 3))).op
    'transpose'
    """
    return make("transpose", as_node(x), axes=None if axes is None else tuple(axes))


def concatenate(xs: list, axis: int = 0):
    """Join expressions along an existing axis of their own shape.

    Examples
    --------
    >>> from bayesgraph.core import Variable
    >>> from bayesgraph.core.operator import concatenate
    >>> concatenate([Variable("a", shape=(2,)), [1.0]]).op
    'concatenate'
    """
    return make("concatenate", *[as_node(x) for x in xs], axis=axis)


def stack(xs: list, axis: int = 0):
    """Stack expressions along a new axis of their own shape.

    Examples
    --------
    >>> from bayesgraph.core import Variable
    >>> from bayesgraph.core.operator import stack
    >>> stack([Variable("a"), Variable("b")]).op
    'stack'
    """
    return make("stack", *[as_node(x) for x in xs], axis=axis)


def cumsum(x: Any, axis: int | None = None):
    """Cumulative sum along ``axis`` of the variable's own shape (numpy's ``cumsum``: with
    ``axis=None`` over the flattened value). The examples axis is never summed over.

    Examples
    --------
    >>> import numpy as np
    >>> from bayesgraph.core import Variable
    >>> from bayesgraph.core.operator import cumsum
    >>> cumsum(Variable("x", shape=(3,)), axis=0).kwargs
    {'axis': 0}
    """
    return make("cumsum", as_node(x), axis=axis)


def cholesky(x: Any):
    """Lower-triangular Cholesky factor ``L`` of a symmetric positive-definite matrix
    (``x = L @ L.T``); over the last two axes, any axes before them are a batch.

    The result is NaN where ``x`` is not positive definite (add a small multiple of the
    identity to a kernel matrix: ``K + 1e-6 * np.eye(n)``).

    Examples
    --------
    >>> import numpy as np
    >>> from bayesgraph.core import StaticVariable
    >>> from bayesgraph.core.operator import cholesky
    >>> s = StaticVariable("s")
    >>> cholesky(s**2 * np.eye(2)).op
    'cholesky'
    """
    return make("cholesky", as_node(x))


def solve_triangular(a: Any, b: Any, *, lower: bool):
    """Solve ``a @ x = b`` for a triangular ``a`` (``scipy.linalg.solve_triangular``).

    ``lower`` has no default (scipy's default ``lower=False`` silently solves the wrong
    system with the lower factor of :func:`cholesky`): pass ``lower=True`` for a lower
    triangular ``a``; only that triangle of ``a`` is read. ``b`` of one axis is a vector
    ``(N,)``, otherwise ``(..., N, K)`` matrices (numpy 2's ``linalg.solve`` rule); axes
    before the last two are a batch and broadcast.

    Examples
    --------
    >>> import numpy as np
    >>> from bayesgraph.core import Variable
    >>> from bayesgraph.core.operator import solve_triangular
    >>> solve_triangular(np.tril(np.ones((2, 2))), Variable("y", shape=(2,)), lower=True).op
    'solve_triangular'
    """
    if not isinstance(lower, (bool, np.bool_)):
        from bayesgraph.exceptions import DtypeError

        raise DtypeError(f"solve_triangular: lower must be True or False, got {lower!r}")
    return make("solve_triangular", as_node(a), as_node(b), lower=bool(lower))


def logdet(x: Any):
    """Log-determinant of a symmetric positive-definite matrix, ``2 * sum(log(diag(L)))``
    with ``L`` its Cholesky factor; over the last two axes (axes before them are a batch).

    Examples
    --------
    >>> import numpy as np
    >>> from bayesgraph.core import StaticVariable
    >>> from bayesgraph.core.operator import logdet
    >>> logdet(StaticVariable("s") ** 2 * np.eye(3)).op
    'logdet'
    """
    return make("logdet", as_node(x))


def squared_exponential_kernel(x1: Any, x2: Any, variance: Any = 1.0, lengthscale: Any = 1.0):
    """The squared-exponential (RBF, exponentiated quadratic) covariance matrix

    ``K[i, j] = variance * exp(-0.5 * sum_d ((x1[i, d] - x2[j, d]) / lengthscale[d]) ** 2)``,

    built from elementwise operators, so it works inside any parameter and its inputs may be
    variables (a GP's hyper-parameters, inputs with data). ``x1`` of shape ``(N,)`` or
    ``(N, D)``, ``x2`` of shape ``(M,)`` or ``(M, D)``; the result is ``(N, M)``.
    ``lengthscale`` is a scalar or one per input dimension ``(D,)``. This is PyMC's
    ``gp.cov.ExpQuad(input_dim, ls)`` scaled by ``variance`` (``eta**2`` there), and
    GPflow's / scikit-learn's RBF kernel.

    Examples
    --------
    >>> import numpy as np
    >>> from bayesgraph.core import StaticVariable
    >>> from bayesgraph.core.operator import squared_exponential_kernel
    >>> x = np.linspace(0, 1, 4)
    >>> k = squared_exponential_kernel(x, x, 2.0, StaticVariable("ls"))
    >>> k.op
    'multiply'
    """
    a, b = as_node(x1), as_node(x2)
    n, m = _rows(a, "x1"), _rows(b, "x2")
    if n[1] != m[1]:
        from bayesgraph.exceptions import ShapeError

        raise ShapeError(f"squared_exponential_kernel: x1 has {n[1]} input dimensions, x2 has "
                         f"{m[1]}; give both as (N, D) and (M, D) with the same D")
    diff = (reshape(a, (n[0], 1, n[1])) - reshape(b, (1, m[0], m[1]))) / as_node(lengthscale)
    return as_node(variance) * exp(-0.5 * sum(square(diff), axis=-1))


def _rows(x: Any, name: str) -> tuple[int, int]:
    """``(rows, dimensions)`` of a kernel input of shape ``(N,)`` or ``(N, D)``."""
    shape = getattr(x, "shape", None)
    if shape is None:  # an expression: its shape is known after lowering only
        from bayesgraph.exceptions import ShapeError

        raise ShapeError(f"squared_exponential_kernel: {name} must be a variable or an array "
                         "of shape (N,) or (N, D), got an expression; make it a Dirac "
                         "variable first")
    if len(shape) not in (1, 2):
        from bayesgraph.exceptions import ShapeError

        raise ShapeError(f"squared_exponential_kernel: {name} has shape {tuple(shape)}; "
                         "expected (N,) or (N, D)")
    return (shape[0], shape[1] if len(shape) == 2 else 1)
