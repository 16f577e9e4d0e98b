"""Graphs: containers of a whole (sub-)process, with ``inputs`` and ``outputs``.

Examples
--------
>>> from bayesgraph.core import Graph, Variable
>>> with Graph("g") as g:
...     _ = Variable("z", mean=0, variance=1)
...     _ = Variable("x", mean=z, variance=0.1)
>>> sorted(g.children)
['inputs', 'outputs', 'x', 'z']
"""

from __future__ import annotations

from types import FrameType

from bayesgraph.core.entity.entity import Entity
from bayesgraph.core.scope import Scopetor, inside
from bayesgraph.core.variable.variable import VariableBase


class Inputs(Entity):
    """The ``inputs`` of a graph: it may only contain entities.

    Examples
    --------
    >>> from bayesgraph.core import Graph
    >>> Graph("g").inputs.name
    'inputs'
    """


class Outputs(Entity):
    """The ``outputs`` of a graph: it may only contain entities.

    Examples
    --------
    >>> from bayesgraph.core import Graph
    >>> Graph("g").outputs.name
    'outputs'
    """


class Graph(Scopetor):
    """A container for a process: sub-graphs, entities and variables.

    Every graph starts with two children, ``inputs`` and ``outputs`` (entities that may only
    hold entities). Graphs may contain graphs, entities and variables.

    Parameters
    ----------
    name : str
        The graph's name.
    frame : frame, optional
        The frame in which to bind the name (default: the caller's).

    Examples
    --------
    >>> from bayesgraph.core import Graph, Variable
    >>> with Graph("graph_1") as graph_1:
    ...     _ = Variable("a", mean=0, variance=1)
    >>> graph_1.a.global_name
    'graph_1/a'
    """

    def __init__(self, name: str, frame: FrameType | None = None, *,
                 _register: bool = True) -> None:
        super().__init__(name, frame, _register=_register)
        with inside(self):
            Inputs("inputs", _register=False)
            Outputs("outputs", _register=False)



Graph._allowed_children = (Graph, Entity, VariableBase)
Entity._allowed_children = (Entity, VariableBase)
Inputs._allowed_children = (Entity,)
Outputs._allowed_children = (Entity,)
