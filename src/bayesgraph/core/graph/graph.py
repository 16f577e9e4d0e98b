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

import os
from types import FrameType
from typing import Any

from bayesgraph.core.entity.entity import Entity
from bayesgraph.core.graph import specification as _specification
from bayesgraph.core.linking import Link
from bayesgraph.core.scope import Scopetor, inside
from bayesgraph.core.template import Copyable
from bayesgraph.core.variable.variable import VariableBase
from bayesgraph.exceptions import SpecificationError


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

    # -- graph files (bayesgraph.core.graph.specification, docs/files.md) -------------------
    def to_specification(self) -> dict[str, Any]:
        """This graph as a graph-file document: a JSON-compatible dict (see ``docs/files.md``).

        Raises
        ------
        SpecificationError
            If an expression reads a variable outside this graph (the message names it).

        Examples
        --------
        >>> from bayesgraph.core import Graph, Variable
        >>> with Graph("g") as g:
        ...     _ = Variable("v", mean=1.0)
        >>> spec = g.to_specification()
        >>> spec["version"], spec["root"]["name"], spec["root"]["children"][0]["name"]
        (1, 'g', 'v')
        """
        return _specification.to_specification(self, graph_class=Graph)

    def dump_string(self, indent: int | None = None) -> str:
        """This graph as the JSON text of a graph file.

        Examples
        --------
        >>> from bayesgraph.core import Graph, Variable
        >>> with Graph("g") as g:
        ...     _ = Variable("v")
        >>> Graph.from_specification(g.dump_string()).v.global_name
        'g/v'
        """
        return _specification.dumps(self.to_specification(), indent=indent)

    def dump_file(self, path: str | os.PathLike, indent: int | None = 1) -> None:
        """Write this graph to the JSON file ``path`` (replaced atomically if it exists).

        Examples
        --------
        >>> import os, tempfile
        >>> from bayesgraph.core import Graph, Variable
        >>> with Graph("g") as g:
        ...     _ = Variable("v", mean=2.0)
        >>> path = os.path.join(tempfile.mkdtemp(), "g.json")
        >>> g.dump_file(path)
        >>> float(Graph.from_specification(file=path).v.mean.value)
        2.0
        """
        _specification.write_file(path, self.dump_string(indent=indent))

    @classmethod
    def from_specification(cls, specification: Any = None, *,
                           file: str | os.PathLike | None = None,
                           limits: _specification.Limits | None = None) -> Graph:
        """Build the graph a graph file describes (Halerium's ``Graph.from_specification``).

        Parameters
        ----------
        specification : dict or str, optional
            A document made by :meth:`to_specification`, or its JSON text
            (:meth:`dump_string`).
        file : str or path, optional
            A file written by :meth:`dump_file`. Give exactly one of ``specification`` and
            ``file``.
        limits : Limits, optional
            Sizes beyond which the file is refused
            (:class:`bayesgraph.core.graph.specification.Limits`).

        Returns
        -------
        Graph
            A new graph; inside a ``with`` block it becomes a child of the active scope, like
            a graph created there. No names are bound in the caller's namespace.

        Raises
        ------
        SpecificationError
            For a malformed, truncated, wrong-version or hostile file, with the JSON pointer
            of the place (``err.pointer``).

        Examples
        --------
        >>> from bayesgraph.core import Graph, Variable
        >>> with Graph("g") as g:
        ...     z = Variable("z", mean=0, variance=2)
        ...     _ = Variable("x", mean=z + 1)
        >>> copy = Graph.from_specification(g.to_specification())
        >>> copy.x.get_parents() == [copy.z], copy is not g
        (True, True)
        """
        if (specification is None) == (file is None):
            raise SpecificationError(
                "Graph.from_specification takes exactly one of specification= (a dict or JSON "
                "text) and file= (a path)")
        if file is not None:
            specification = _specification.read_file(file, limits)
        return _specification.from_specification(specification, graph_class=cls,
                                                  limits=limits, attach=True, expect=cls)



Graph._allowed_children = (Graph, Entity, VariableBase)
Inputs._allowed_children = (Entity,)
Outputs._allowed_children = (Entity,)
