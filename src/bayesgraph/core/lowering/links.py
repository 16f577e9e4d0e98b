"""The link pass of the lowering: linked targets become aliases of their sources.

A link makes its target *the same random quantity* as its source, so the lowering gives a
target no :class:`~bayesgraph.core.lowering.spec.VariableSpec` at all: expressions that read
it read the source (its *canonical* variable, the end of the chain of links), its data are the
source's data, and the spec's alias table lets every result, data key and export accept the
target's name. The pass runs before grouping, so the grouped compiler never sees a link: a
pedigree wired with links compiles to the same sites as one written with assignments.

Examples
--------
>>> from bayesgraph.core import Graph, Variable, link
>>> from bayesgraph.core.lowering import lower
>>> with Graph("g") as g:
...     x = Variable("x", mean=0, variance=1)
...     port = Variable("port")
...     y = Variable("y", mean=2 * port, variance=1)
...     _ = link(x, port)
>>> spec, _ = lower(g)
>>> spec.names, spec.variable("g/y").parents, spec.canonical("g/port")
(('g/x', 'g/y'), ('g/x',), 'g/x')
"""

from __future__ import annotations

from typing import Any

from bayesgraph.core.linking import Link, source_of
from bayesgraph.core.scope import NamedObject, Scopetor


def links_in(root: NamedObject) -> list[Link]:
    """Every link kept by ``root`` or by a graph inside it, in creation order per graph.

    Examples
    --------
    >>> from bayesgraph.core import Graph, Variable, link
    >>> with Graph("g") as g:
    ...     _ = link(Variable("a"), Variable("b"))
    >>> [lk.name for lk in links_in(g)]
    ['link_0']
    """
    found = list(root.__dict__.get("_links", ()))
    if isinstance(root, Scopetor):
        for child in root.iter_descendants():
            found.extend(child.__dict__.get("_links", ()))
    return found


def alias_table(root: NamedObject, variables: list[Any]) -> dict[int, Any]:
    """``{id(target variable): canonical variable}`` for the links inside ``root``.

    The canonical variable is the end of the chain of links (a target of a target resolves
    to the first source). Links kept above ``root`` are not part of a model of ``root``.

    Examples
    --------
    >>> from bayesgraph.core import Graph, Variable, link
    >>> with Graph("g") as g:
    ...     a, b, c = Variable("a"), Variable("b"), Variable("c")
    ...     _ = link(a, b); _ = link(b, c)
    >>> [v.name for v in alias_table(g, g.get_all_variables()).values()]  # b -> a, c -> a
    ['a', 'a']
    """
    members = {id(v) for v in variables}
    table: dict[int, Any] = {}
    for lk in links_in(root):
        for _source, target in lk.pairs():
            if id(target) in members:
                table[id(target)] = source_of(target)
    return table


def describe_links(root: NamedObject) -> str:
    """A short list of the links inside ``root``, for error messages.

    Examples
    --------
    >>> from bayesgraph.core import Graph, Variable, link
    >>> with Graph("g") as g:
    ...     _ = link(Variable("a"), Variable("b"))
    >>> describe_links(g)
    "link_0 ('g/a' -> 'g/b')"
    """
    shown = [f"{lk.name} ({lk.source.global_name!r} -> {lk.target.global_name!r})"
             for lk in links_in(root)]
    return ", ".join(shown[:8]) + (f", ... ({len(shown)} in all)" if len(shown) > 8 else "")
