"""Entities: named groups of variables and sub-entities.

Examples
--------
>>> from bayesgraph.core import Entity, Variable
>>> with Entity("woman") as woman:
...     _ = Variable("genetic_factor", shape=(), mean=0, variance=75)
...     _ = Variable("height", shape=(), mean=167 + genetic_factor, variance=25)
>>> woman.height.get_parents()[0] is woman.genetic_factor
True
"""

from __future__ import annotations

from types import FrameType

from bayesgraph.core.scope import Scopetor
from bayesgraph.core.template import Copyable
from bayesgraph.core.variable.variable import VariableBase


class Entity(Scopetor, Copyable):
    """A named group of variables and entities; anything but a Graph may live in it.

    Parameters
    ----------
    name : str
        The entity's name.
    frame : frame, optional
        The frame in which to bind the name (default: the caller's).

    Examples
    --------
    >>> from bayesgraph.core import Entity
    >>> e = Entity("s")
    >>> e
    <bayesgraph.Entity 's'>
    """

    def __init__(self, name: str, frame: FrameType | None = None, *,
                 _register: bool = True) -> None:
        super().__init__(name, frame, _register=_register)


Entity._allowed_children = (Entity, VariableBase)
