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
from bayesgraph.core.linking import Link
from bayesgraph.core.scope import Scopetor, inside
from bayesgraph.core.template import Copyable
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


class Graph(Scopetor, Copyable):
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
        object.__setattr__(self, "_links", [])
        super().__init__(name, frame, _register=_register)
        with inside(self):
            Inputs("inputs", _register=False)
            Outputs("outputs", _register=False)

    @property
    def links(self) -> list[Link]:
        """The links this graph keeps (those whose ends it is the innermost graph of), in
        creation order (a copy; see :func:`~bayesgraph.core.linking.link`).

        Examples
        --------
        >>> from bayesgraph.core import Graph, Variable, link
        >>> with Graph("g") as g:
        ...     _ = link(Variable("a"), Variable("b"), name="a_to_b")
        >>> [lk.name for lk in g.links]
        ['a_to_b']
        """
        return list(self._links)

    def iter_links(self):
        """Yield the links of this graph and of every graph inside it.

        Examples
        --------
        >>> from bayesgraph.core import Graph, Variable, link
        >>> with Graph("outer") as outer:
        ...     with Graph("inner"):
        ...         _ = link(Variable("a"), Variable("b"))
        >>> [lk.graph.name for lk in outer.iter_links()]
        ['inner']
        """
        yield from self._links
        for child in self.iter_descendants():
            yield from child.__dict__.get("_links", ())


Graph._allowed_children = (Graph, Entity, VariableBase)
Inputs._allowed_children = (Entity,)
Outputs._allowed_children = (Entity,)
