"""Nested request structures (dicts, lists and tuples of leaves): the results of a model's
``get_*`` methods and of an objective mirror the structure they were asked with.

Both keep their own leaf type (a model's leaves are global names, an objective's are keys);
this module walks the nesting once for both.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any


def leaves(structure: Any, leaf_type: type) -> Iterator[Any]:
    """The leaves of ``structure``, depth first, in order.

    Examples
    --------
    >>> class Name(str): ...
    >>> list(leaves({"a": [Name("x"), (Name("y"),)]}, Name))
    ['x', 'y']
    """
    if isinstance(structure, leaf_type):
        yield structure
    elif isinstance(structure, dict):
        for value in structure.values():
            yield from leaves(value, leaf_type)
    elif isinstance(structure, (list, tuple)):
        for value in structure:
            yield from leaves(value, leaf_type)


def rebuild(structure: Any, leaf_type: type, result: Callable[[Any], Any]) -> Any:
    """``structure`` with every leaf replaced by ``result(leaf)``; dicts, lists and tuples
    keep their keys and order.

    Examples
    --------
    >>> class Name(str): ...
    >>> rebuild({"a": [Name("x"), (Name("y"), 3)]}, Name, str.upper)
    {'a': ['X', ('Y', 3)]}
    """
    if isinstance(structure, leaf_type):
        return result(structure)
    if isinstance(structure, dict):
        return {key: rebuild(value, leaf_type, result) for key, value in structure.items()}
    if isinstance(structure, list):
        return [rebuild(value, leaf_type, result) for value in structure]
    if isinstance(structure, tuple):
        return tuple(rebuild(value, leaf_type, result) for value in structure)
    return structure
