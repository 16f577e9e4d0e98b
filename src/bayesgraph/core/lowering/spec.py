"""The frozen description of a model: what the compiler reads.

The lowering (:func:`bayesgraph.core.lowering.lower`) turns a user's mutable graph and data
into a :class:`ModelSpec` (names resolved, variables in topological order, shapes checked,
cycles rejected) plus a :class:`LoweredData` (the numeric arrays). The spec holds no arrays
of data, so one compiled program serves every data set of the same layout.

Shapes in the spec are *logical*: the shape of one example's value. A dynamic expression's
runtime value has an extra leading examples axis of length ``n_data``.

Examples
--------
>>> from bayesgraph.core import Graph, Variable
>>> from bayesgraph.core.lowering import lower
>>> with Graph("g") as g:
...     z = Variable("z")
...     x = Variable("x", mean=2 * z, variance=0.5)
>>> spec, data = lower(g, {g.x: [1.0, 2.0]})
>>> [(v.name, v.role, v.parents) for v in spec.variables]
[('g/z', 'latent', ()), ('g/x', 'observed', ('g/z',))]
>>> spec.n_data
2
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

Role = Literal["latent", "observed", "partial"]


@dataclass(frozen=True, eq=False, slots=True)
class Const:
    """A constant array.

    Examples
    --------
    >>> Const(np.asarray(2.0), ()).dynamic
    False
    """

    value: np.ndarray
    shape: tuple[int, ...]
    dynamic: bool = False


@dataclass(frozen=True, slots=True)
class Ref:
    """A reference to a variable by global name.

    Examples
    --------
    >>> Ref("g/x", (), True).name
    'g/x'
    """

    name: str
    shape: tuple[int, ...]
    dynamic: bool


@dataclass(frozen=True, eq=False, slots=True)
class Op:
    """An operator applied to sub-expressions; ``kwargs`` are static.

    Examples
    --------
    >>> e = Op("add", (Ref("g/x", (), True), Const(np.asarray(1.0), ())), (), (), True)
    >>> e.op, e.dynamic
    ('add', True)
    """

    op: str
    args: tuple[Any, ...]
    kwargs: tuple[tuple[str, Any], ...]
    shape: tuple[int, ...]
    dynamic: bool


Expr = Const | Ref | Op


@dataclass(frozen=True, slots=True)
class VariableSpec:
    """One variable of the model.

    Attributes
    ----------
    name : str
        Global name, e.g. ``'family/alice/height'``.
    dynamic : bool
        True for a :class:`~bayesgraph.core.Variable` (leading examples axis).
    shape : tuple of int
        Logical shape of one value.
    dtype : str
        ``'float'``, ``'int'`` or ``'bool'``.
    distribution : str
        Distribution class name, e.g. ``'NormalDistribution'``.
    params : tuple of (str, Expr)
        The active parameters.
    parents : tuple of str
        Global names of the variables the parameters read.
    role : {'latent', 'observed', 'partial'}
        No data, complete data, or data with ``NaN`` holes.
    n_missing : int
        Number of missing entries (``partial`` only).
    value_is_fixed : bool
        True when the value does not depend on any unobserved quantity (observed data, or a
        deterministic variable of fixed parents).
    density_is_fixed : bool
        True when the variable's log-density term is constant in the latent values (an
        observed variable all of whose parents are fixed): optimisers may drop it.
    constraint : tuple
        ``()``, ``('interval', lower, upper)`` (``None`` for a missing bound), ``('ordered',)``
        or ``('positive_ordered',)``: see :mod:`bayesgraph.core.variable.constraint`.

    Examples
    --------
    >>> from bayesgraph.core import Variable
    >>> from bayesgraph.core.lowering import lower
    >>> spec, _ = lower(Variable("v", shape=(2,)))
    >>> spec.variables[0].full_shape(n_data=5)
    (5, 2)
    """

    name: str
    dynamic: bool
    shape: tuple[int, ...]
    dtype: str
    distribution: str
    params: tuple[tuple[str, Expr], ...]
    parents: tuple[str, ...]
    role: Role
    n_missing: int = 0
    value_is_fixed: bool = False
    density_is_fixed: bool = False
    constraint: tuple[Any, ...] = ()

    def full_shape(self, n_data: int) -> tuple[int, ...]:
        """Runtime shape: ``(n_data, *shape)`` if dynamic, else ``shape``."""
        return (n_data, *self.shape) if self.dynamic else self.shape

    @property
    def param_dict(self) -> dict[str, Expr]:
        """The parameters as a dict."""
        return dict(self.params)


@dataclass(frozen=True)
class ModelSpec:
    """A validated, frozen model: variables in topological order and the number of examples.

    Examples
    --------
    >>> from bayesgraph.core import Variable
    >>> from bayesgraph.core.lowering import lower
    >>> spec, _ = lower(Variable("v"))
    >>> spec.names
    ('v',)
    """

    root_name: str
    n_data: int
    variables: tuple[VariableSpec, ...]
    #: ``(target, canonical source)`` global names of linked targets: no variables of their
    #: own, but every lookup by name accepts them
    aliases: tuple[tuple[str, str], ...] = ()
    _index: dict[str, int] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        self._index.update({v.name: i for i, v in enumerate(self.variables)})
        self._index.update({t: self._index[c] for t, c in self.aliases})

    def canonical(self, name: str) -> str:
        """The name of the variable that ``name`` stands for (a linked target: its source).

        Examples
        --------
        >>> from bayesgraph.core import Variable
        >>> from bayesgraph.core.lowering import lower
        >>> spec, _ = lower(Variable("v"))
        >>> spec.canonical("v")
        'v'
        """
        return self.variables[self._index[name]].name if name in self._index else name

    def ancestors(self) -> dict[str, set[str]]:
        """``{variable: its ancestors}``, through every parameter, in canonical names.

        A lagged parent (a time shift) may come later in the order than its child; its own
        ancestors are then not followed.

        Examples
        --------
        >>> from bayesgraph.core import Graph, Variable
        >>> from bayesgraph.core.lowering import lower
        >>> with Graph("g") as g:
        ...     a = Variable("a")
        ...     b = Variable("b", mean=a)
        ...     c = Variable("c", mean=b)
        >>> spec, _ = lower(g)
        >>> sorted(spec.ancestors()["g/c"])
        ['g/a', 'g/b']
        """
        out: dict[str, set[str]] = {}
        for var in self.variables:  # topological order
            found: set[str] = set()
            for parent in var.parents:
                parent = self.canonical(parent)
                found.add(parent)
                found |= out.get(parent, set())
            out[var.name] = found
        return out

    @property
    def names(self) -> tuple[str, ...]:
        """Global names in topological order."""
        return tuple(v.name for v in self.variables)

    def __contains__(self, name: str) -> bool:
        return name in self._index

    def variable(self, name: str) -> VariableSpec:
        """Look a variable up by global name (a linked target's name gives its source)."""
        return self.variables[self._index[name]]

    def unobserved(self) -> tuple[VariableSpec, ...]:
        """Variables with at least one entry to infer (latent or partial), not deterministic.

        Examples
        --------
        >>> from bayesgraph.core import Variable
        >>> from bayesgraph.core.lowering import lower
        >>> spec, _ = lower(Variable("v"))
        >>> [v.name for v in spec.unobserved()]
        ['v']
        """
        return tuple(v for v in self.variables
                     if v.role != "observed" and v.distribution != "DiracDistribution")


@dataclass(frozen=True, eq=False)
class LoweredData:
    """The data arrays that go with a :class:`ModelSpec`.

    Attributes
    ----------
    values : dict
        ``{global name: float64 array of the runtime shape}``, with missing entries set to 0,
        for observed and partial variables.
    missing : dict
        ``{global name: flat int64 indices of the missing entries}`` for partial variables.

    Examples
    --------
    >>> from bayesgraph.core import Variable
    >>> from bayesgraph.core.lowering import lower
    >>> x = Variable("x")
    >>> _, data = lower(x, {x: [1.0, float("nan")]})
    >>> data.values["x"].tolist(), data.missing["x"].tolist()
    ([1.0, 0.0], [1])
    """

    values: dict[str, np.ndarray]
    missing: dict[str, np.ndarray]
