"""Random variables: :class:`Variable` (one value per example) and :class:`StaticVariable`.

Examples
--------
>>> from bayesgraph.core import Graph, Variable, StaticVariable
>>> with Graph("lr") as lr:
...     a = StaticVariable("a", mean=0, variance=1)
...     x = Variable("x", mean=0, variance=9)
...     y = Variable("y", mean=a * x, variance=0.25)
>>> y.is_dynamic, a.is_dynamic, [p.name for p in y.get_parents()]
(True, False, ['a', 'x'])
"""

from __future__ import annotations

from types import FrameType
from typing import Any

import numpy as np

from bayesgraph.core.distribution import (
    DISTRIBUTIONS,
    DistributionBase,
    NormalDistribution,
    get_distribution_class,
)
from bayesgraph.core.operator.operators import ExpressionLeaf, Operator
from bayesgraph.core.scope import Scopetor, current_scope
from bayesgraph.core.template import Copyable
from bayesgraph.core.variable.constraint import Constraint
from bayesgraph.core.variable.parameter import Parameter
from bayesgraph.exceptions import DtypeError, LinkError, ShapeError, UnknownParameterError

_ALL_PARAMETER_NAMES = frozenset(
    name for cls in DISTRIBUTIONS.values() for name in cls.parameter_names()
)
_DTYPE_ALIASES = {"float": "float", "float32": "float", "float64": "float", "int": "int",
                  "int32": "int", "int64": "int", "bool": "bool"}


def _normalise_dtype(dtype: Any, owner: str = "") -> str | None:
    if dtype is None:
        return None
    if isinstance(dtype, type) and dtype in (float, int, bool):
        return dtype.__name__
    key = str(np.dtype(dtype)) if not isinstance(dtype, str) else dtype
    if key not in _DTYPE_ALIASES:
        where = f"variable {owner!r}: " if owner else ""
        raise DtypeError(f"{where}unknown dtype {dtype!r}; valid: 'float', 'int', 'bool'")
    return _DTYPE_ALIASES[key]


def _normalise_shape(shape: Any, owner: str = "") -> tuple[int, ...]:
    if type(shape) is tuple:  # the common case (a template's copies): a valid tuple as is
        for s in shape:
            if type(s) is not int or s < 0:
                break
        else:
            return shape
    where = f"variable {owner!r}: " if owner else ""
    if shape is None:
        return ()
    if isinstance(shape, (int, np.integer)):
        shape = (shape,)
    try:
        entries = tuple(shape)
    except TypeError:
        raise ShapeError(
            f"{where}shape must be a tuple of non-negative integers, got {shape!r}") from None
    if not all(isinstance(s, (int, np.integer)) and not isinstance(s, bool) for s in entries):
        raise ShapeError(
            f"{where}shape must be a tuple of non-negative integers, got {shape!r} (entries are "
            "not truncated: write shape=(2,), not shape=(2.5,))"
        )
    result = tuple(int(s) for s in entries)
    if any(s < 0 for s in result):
        raise ShapeError(f"{where}shape must be a tuple of non-negative integers, got {shape!r}")
    return result


class VariableBase(Scopetor, ExpressionLeaf, Copyable):
    """Common base of :class:`Variable` and :class:`StaticVariable`.

    Parameters
    ----------
    name : str
        The variable's name in its scope.
    shape : tuple of int, optional
        The shape of one value (default ``()``, a scalar). A dynamic variable's values have
        shape ``(n_data, *shape)``.
    frame : frame, optional
        The frame in which to bind the name (default: the caller's).
    distribution : str or class, optional
        A distribution class or name (default ``NormalDistribution``).
    dtype : {'float', 'int', 'bool'}, optional
        The values' type; by default the distribution's first allowed dtype.
    lower, upper : float, optional
        Bounds on the values, for any continuous distribution (see
        :mod:`bayesgraph.core.variable.constraint`): a flat prior on the positive half-line is
        ``distribution="NoDistribution", lower=0``; a proper prior is truncated to the bounds.
        For distributions with parameters of these names (Uniform, TruncatedNormal) they are
        those parameters.
    constraint : str, optional
        ``"positive"``, ``"negative"``, ``"unit_interval"``, ``"ordered"`` or
        ``"positive_ordered"``.
    **parameters
        Distribution parameters, e.g. ``mean=0, variance=75``: constants or expressions.

    Examples
    --------
    >>> from bayesgraph.core import Variable
    >>> v = Variable("v", shape=(2,), mean=[1.0, 2.0])
    >>> v.shape, v.dtype, type(v.distribution).__name__
    ((2,), 'float', 'NormalDistribution')
    >>> Variable("sigma", distribution="NoDistribution", lower=0).constraint
    Constraint(lower=0.0, upper=None, ordered=False)
    """

    is_dynamic: bool = False

    def __init__(self, name: str, shape: Any = (), frame: FrameType | None = None,
                 distribution: Any = NormalDistribution, dtype: Any = None, *,
                 _register: bool = True, **parameters: Any) -> None:
        parent = current_scope()
        owner = name if parent is None else f"{parent.global_name}/{name}"
        object.__setattr__(self, "_shape", _normalise_shape(shape, owner))
        dist_cls = get_distribution_class(distribution)
        dtype_name = _normalise_dtype(dtype, owner) or dist_cls.dtypes[0]
        if dtype_name not in dist_cls.dtypes:
            raise DtypeError(
                f"variable {owner!r}: dtype {dtype_name!r} is not allowed for "
                f"{dist_cls.__name__}; allowed: {', '.join(dist_cls.dtypes)}"
            )
        object.__setattr__(self, "_dtype", dtype_name)
        bounds = {k: parameters.pop(k) for k in ("lower", "upper", "constraint")
                  if k in parameters and k not in dist_cls.parameter_names()} \
            if parameters else {}
        # Validate bounds and parameters before the variable joins its scope: a call that
        # fails leaves no half-made variable behind (it would take the name, so the corrected
        # call raised DuplicateNameError, and it would enter the model with default
        # parameters), and binds no name in the caller's namespace.
        constraint = Constraint.make(**bounds, owner=owner)
        dist = dist_cls()
        dist._owner_name = owner
        for key, value in parameters.items():
            dist.set_parameter(key, value.value if isinstance(value, Parameter) else value)
        object.__setattr__(self, "_distribution", dist)
        Scopetor.__init__(self, name, frame, _register=_register)
        object.__setattr__(self, "_constraint", constraint)
        dist._owner_name = self.global_name

    def _install_distribution(self, dist: DistributionBase, parameters: dict[str, Any]) -> None:
        dist._owner_name = self.global_name
        object.__setattr__(self, "_distribution", dist)
        for key, value in parameters.items():
            self._set_parameter(key, value)

    # -- read-only properties --------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, ...]:
        """The shape of one value (without the examples axis)."""
        return self._shape

    @property
    def dtype(self) -> str:
        """``'float'``, ``'int'`` or ``'bool'``."""
        return self._dtype

    @property
    def constraint(self) -> Constraint | None:
        """The constraint of ``lower=``/``upper=``/``constraint=`` (``None``: none)."""
        return self._constraint

    @property
    def distribution(self) -> DistributionBase:
        """The distribution instance; assign a class or name to change it."""
        return self._distribution

    @distribution.setter
    def distribution(self, value: Any) -> None:
        cls = get_distribution_class(value)
        if self._dtype not in cls.dtypes:
            raise DtypeError(
                f"variable {self.global_name!r} has dtype {self._dtype!r}, which "
                f"{cls.__name__} does not allow; allowed: {', '.join(cls.dtypes)}"
            )
        self._install_distribution(cls(), {})

    # -- parameters --------------------------------------------------------------------------
    def _set_parameter(self, key: str, value: Any) -> None:
        link_in = self.__dict__.get("_link_in")
        if link_in is not None:
            source, made_by = link_in
            raise LinkError(
                f"cannot set {key!r} of {self.global_name!r}: it is linked to "
                f"{source.global_name!r} (link {made_by.name!r}) and is the same random "
                f"quantity, so its distribution is the source's; set {key!r} of "
                f"{source.global_name!r} instead"
            )
        self._distribution._owner_name = self.global_name
        if isinstance(value, Parameter):
            value = value.value
        self._distribution.set_parameter(key, value)

    def __getattr__(self, name: str) -> Any:
        children = self.__dict__.get("_children")
        if children is not None and name in children:
            return children[name]
        dist = self.__dict__.get("_distribution")
        if dist is not None and name in dist.parameter_names():
            return Parameter(self, name)
        return Scopetor.__getattr__(self, name)

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "distribution" and self.__dict__.get("_link_in") is not None:
            self._set_parameter("distribution", value)  # raises the LinkError
        if name.startswith("_") or name == "distribution":
            object.__setattr__(self, name, value)
            return
        if name in self._distribution.parameter_names():
            self._set_parameter(name, value)
            return
        if name in _ALL_PARAMETER_NAMES:
            raise UnknownParameterError(
                f"{type(self._distribution).__name__} of {self.global_name!r} has no "
                f"parameter {name!r}; valid parameters: "
                f"{', '.join(self._distribution.parameter_names()) or 'none'}"
            )
        raise UnknownParameterError(
            f"cannot set {name!r} on variable {self.global_name!r}; settable: "
            f"{', '.join(self._distribution.parameter_names()) or 'no parameters'} "
            "and 'distribution'"
        )

    # -- structure ---------------------------------------------------------------------------
    def get_parents(self) -> list[VariableBase]:
        """The variables that this variable's distribution parameters read, in order.

        Examples
        --------
        >>> from bayesgraph.core import Variable
        >>> a = Variable("a")
        >>> b = Variable("b", mean=a + a)
        >>> [p.name for p in b.get_parents()]
        ['a']
        """
        parents: list[VariableBase] = []
        for value in self._distribution.get_parameters().values():
            if isinstance(value, VariableBase):
                parents.append(value)
            elif isinstance(value, Operator):
                parents.extend(value.get_variables())
        return list(dict.fromkeys(parents))


class Variable(VariableBase):
    """A dynamic random variable: one value per example (values of shape ``(n_data, *shape)``).

    See :class:`VariableBase` for the parameters.

    Examples
    --------
    >>> from bayesgraph.core import Variable
    >>> x = Variable("x", shape=(), mean=0, variance=9)
    >>> x.is_dynamic
    True
    """

    is_dynamic = True


class StaticVariable(VariableBase):
    """A static random variable: one value shared by all examples (e.g. a model parameter).

    See :class:`VariableBase` for the parameters.

    Examples
    --------
    >>> from bayesgraph.core import StaticVariable
    >>> a = StaticVariable("a", mean=0, variance=1)
    >>> a.is_dynamic
    False
    """

    is_dynamic = False


VariableBase._allowed_children = (VariableBase,)
