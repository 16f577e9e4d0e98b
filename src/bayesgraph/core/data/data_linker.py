"""Data for models: a ``{variable: array}`` dict or a :class:`DataLinker`.

The first axis of a dynamic :class:`~bayesgraph.core.Variable`'s data is the example index;
a :class:`~bayesgraph.core.StaticVariable` takes one un-batched value. ``NaN`` marks a missing
entry, which the models infer. Keys may be variables or their global names.

Examples
--------
>>> import numpy as np
>>> from bayesgraph.core import Graph, Variable, StaticVariable, get_data_linker
>>> with Graph("g") as g:
...     c = StaticVariable("c")
...     x = Variable("x")
>>> linker = get_data_linker({g.x: [1.0, np.nan, 3.0], g.c: 0.0})
>>> linker.n_data is None, len(linker)
(True, 2)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bayesgraph.exceptions import DataError


class DataLinker(Mapping):
    """The number of examples and a mapping from variables to data arrays.

    Parameters
    ----------
    n_data : int, optional
        The number of examples. If ``None`` it is inferred from the data (1 without data).
    data : mapping, optional
        ``{variable or global name: array-like}``.

    Examples
    --------
    >>> from bayesgraph.core import DataLinker
    >>> DataLinker(n_data=1000).n_data
    1000
    """

    def __init__(self, n_data: int | None = None, data: Mapping | None = None) -> None:
        if n_data is not None:
            if isinstance(n_data, bool) or int(n_data) != n_data or n_data < 1:
                raise DataError(f"n_data must be a positive integer, got {n_data!r}")
            n_data = int(n_data)
        self.n_data = n_data
        self._data: dict[Any, Any] = dict(data or {})

    def link(self, variable: Any, values: Any) -> None:
        """Attach ``values`` to ``variable`` (replacing earlier values).

        Examples
        --------
        >>> from bayesgraph.core import DataLinker, Variable
        >>> linker = DataLinker()
        >>> linker.link(Variable("x"), [1.0, 2.0])
        >>> len(linker)
        1
        """
        self._data[variable] = values

    def __getitem__(self, key: Any) -> Any:
        return self._data[key]

    def __iter__(self):
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __repr__(self) -> str:
        return f"DataLinker(n_data={self.n_data}, variables={len(self._data)})"


def get_data_linker(data: Mapping | None = None, n_data: int | None = None) -> DataLinker:
    """Build a :class:`DataLinker` from ``{variable: array}`` and an optional ``n_data``.

    Examples
    --------
    >>> import numpy as np
    >>> from bayesgraph.core import StaticVariable, get_data_linker
    >>> b = StaticVariable("b", shape=(5,))
    >>> get_data_linker({b: np.ones(5)}, n_data=150).n_data
    150
    """
    if isinstance(data, DataLinker):
        return DataLinker(n_data if n_data is not None else data.n_data, data._data)
    if data is not None and not isinstance(data, Mapping):
        raise DataError(
            f"data must be a dict {{variable: array}} or a DataLinker, got {type(data).__name__}"
        )
    return DataLinker(n_data, data)
