"""Links: wiring graphs together through their inputs and outputs.

``link(source, target)`` makes ``target`` a reference to ``source``: every variable of the
target is *the same random quantity* as the variable of the source with the same relative
name. Typical use connects a sub-graph's ``inputs`` to entities of the surrounding graph and
its ``outputs`` to the inputs of the next sub-graph, so that a graph template can be
instantiated many times and chained:

>>> from bayesgraph.core import Entity, Graph, Variable, link
>>> with Entity("person") as person:
...     _ = Variable("height", mean=170, variance=100)
>>> Person = person.get_template("Person")
>>> with Graph("measure") as measure:
...     with measure.inputs:
...         _ = Person("subject")
...     _ = Variable("reading", mean=measure.inputs.subject.height, variance=1)
>>> Measure = measure.get_template("Measure")
>>> with Graph("lab") as lab:
...     _ = Person("alice")
...     _ = Measure("first")
...     first_link = link(lab.alice, lab.first.inputs.subject)
>>> [(s.global_name, t.global_name) for s, t in first_link.pairs()]
[('lab/alice/height', 'lab/first/inputs/subject/height')]

Rules (Halerium's, made explicit):

* Source and target are both variables, or both scopes (entities, graphs, ``inputs``,
  ``outputs``). For scopes, every variable below the target must have a counterpart below the
  source with the same relative name, the same shape, the same static/dynamic kind and the
  same dtype; the source may have more children.
* A target variable has one source: linking it again raises
  :class:`~bayesgraph.exceptions.LinkError`, and so does a link that would make a variable its
  own source (a cycle of links).
* The target's own prior is ignored: its value *is* the source's. Its parameters cannot be
  assigned any more (that raises :class:`~bayesgraph.exceptions.LinkError` naming the source
  to assign instead). Expressions that read the target read the source.
* The link is kept by the innermost graph that contains both ends (``graph.links``), whatever
  scope is active when ``link`` is called, so a model of that graph (or of any graph above it)
  sees it. Copies and templates of a graph copy the links inside it.

Links are not children of a scope (like operators): they do not appear in ``children`` or in
:func:`~bayesgraph.core.print_child_tree`.
"""

from __future__ import annotations

from typing import Any

from bayesgraph.core.operator.operators import ExpressionLeaf
from bayesgraph.core.scope import NamedObject, Scopetor
from bayesgraph.exceptions import LinkError


def _variables_below(scope: Scopetor) -> dict[str, Any]:
    """``{relative name: variable}`` for every variable below ``scope``."""
    prefix = len(scope.global_name) + 1
    return {d.global_name[prefix:]: d for d in scope.iter_descendants()
            if isinstance(d, ExpressionLeaf)}


def _kind(obj: Any) -> str:
    return "dynamic" if obj.is_dynamic else "static"


def _check_variable_pair(source: Any, target: Any, where: str) -> None:
    for what, a, b in (("shape", source.shape, target.shape), ("kind", _kind(source),
                                                               _kind(target)),
                       ("dtype", source.dtype, target.dtype)):
        if a != b:
            raise LinkError(
                f"cannot link {source.global_name!r} to {target.global_name!r}{where}: their "
                f"{what}s differ ({a} and {b}); a linked target must have the source's shape, "
                "static/dynamic kind and dtype"
            )


def _match(source: NamedObject, target: NamedObject) -> list[tuple[Any, Any]]:
    """The (source variable, target variable) pairs of a link, checked."""
    if isinstance(source, ExpressionLeaf) and isinstance(target, ExpressionLeaf):
        _check_variable_pair(source, target, "")
        pairs = [(source, target)]
        below_s, below_t = _variables_below(source), _variables_below(target)
    elif isinstance(source, ExpressionLeaf) or isinstance(target, ExpressionLeaf):
        kinds = [type(o).__name__ for o in (source, target)]
        raise LinkError(
            f"cannot link {kinds[0]} {source.global_name!r} to {kinds[1]} "
            f"{target.global_name!r}: link a variable to a variable, or a scope (entity, "
            "graph, inputs, outputs) to a scope"
        )
    else:
        pairs = []
        below_s, below_t = _variables_below(source), _variables_below(target)
    missing = [rel for rel in below_t if rel not in below_s]
    if missing:
        listed = ", ".join(repr(m) for m in missing[:8])
        raise LinkError(
            f"cannot link {source.global_name!r} to {target.global_name!r}: the target has "
            f"{listed}, which the source lacks; a target's children must match the source's "
            "by relative name"
        )
    for rel, var in below_t.items():
        _check_variable_pair(below_s[rel], var, f" (in the link {source.global_name!r} -> "
                                                f"{target.global_name!r})")
        pairs.append((below_s[rel], var))
    return pairs


def _ancestors(obj: NamedObject) -> list[NamedObject]:
    chain = []
    node: NamedObject | None = obj
    while node is not None:
        chain.append(node)
        node = node.scope
    return chain


def _holder(source: NamedObject, target: NamedObject) -> Scopetor:
    """The innermost graph (a scope that keeps links) containing both ends."""
    above_source = {id(a) for a in _ancestors(source)}
    for candidate in _ancestors(target):
        if id(candidate) in above_source and hasattr(candidate, "_links"):
            return candidate
    raise LinkError(
        f"cannot link {source.global_name!r} to {target.global_name!r}: no graph contains "
        "both; create them inside one Graph"
    )


def source_of(variable: Any) -> Any:
    """The variable that ``variable`` finally refers to through links (itself if unlinked).

    Examples
    --------
    >>> from bayesgraph.core import Graph, Variable, link
    >>> with Graph("g") as g:
    ...     a, b, c = Variable("a"), Variable("b"), Variable("c")
    ...     _ = link(a, b)
    ...     _ = link(b, c)
    >>> source_of(g.c) is g.a
    True
    """
    seen = 0
    while True:
        link_in = variable.__dict__.get("_link_in")
        if link_in is None:
            return variable
        variable = link_in[0]
        seen += 1
        if seen > 1_000_000:  # pragma: no cover - cycles are refused when linking
            raise LinkError("a cycle of links")


class Link:
    """A link from ``source`` to ``target`` (made by :func:`link`).

    Attributes
    ----------
    name : str
        The link's name (``link_<n>`` by default, numbered per graph).
    source, target : Variable, Entity or Graph
        The two ends.
    graph : Graph
        The graph that keeps the link (the innermost graph containing both ends).

    Examples
    --------
    >>> from bayesgraph.core import Graph, Variable, link
    >>> with Graph("g") as g:
    ...     _ = Variable("a", mean=1, variance=1)
    ...     _ = Variable("b")
    ...     ab = link(g.a, g.b)
    >>> ab
    <bayesgraph.Link 'link_0': 'g/a' -> 'g/b'>
    >>> g.links == [ab]
    True
    """

    def __init__(self, source: NamedObject, target: NamedObject, name: str,
                 graph: Scopetor, pairs: list[tuple[Any, Any]]) -> None:
        self.name = name
        self.source = source
        self.target = target
        self.graph = graph
        self._pairs = pairs

    def pairs(self) -> list[tuple[Any, Any]]:
        """The (source variable, target variable) pairs, matched by relative name.

        Examples
        --------
        >>> from bayesgraph.core import Graph, Variable, link
        >>> with Graph("g") as g:
        ...     _ = link(Variable("a"), Variable("b"))
        >>> [(s.name, t.name) for s, t in g.links[0].pairs()]
        [('a', 'b')]
        """
        return list(self._pairs)

    def __repr__(self) -> str:
        return (f"<bayesgraph.Link {self.name!r}: {self.source.global_name!r} -> "
                f"{self.target.global_name!r}>")


def link(source: NamedObject, target: NamedObject, name: str | None = None) -> Link:
    """Make ``target`` a reference to ``source`` (see the module documentation for the rules).

    Parameters
    ----------
    source : Variable, Entity or Graph
        What the target takes its values from.
    target : Variable, Entity or Graph
        What becomes a reference: each of its variables is the same random quantity as the
        source's variable of the same relative name.
    name : str, optional
        The link's name (default ``link_<n>``).

    Returns
    -------
    Link

    Raises
    ------
    LinkError
        Mismatched children, shapes or kinds; a target that already has a source; a cycle of
        links; ends that no graph contains.

    Examples
    --------
    >>> import numpy as np
    >>> from bayesgraph.core import Graph, Variable, link
    >>> with Graph("g") as g:
    ...     x = Variable("x", mean=0, variance=1)
    ...     x_port = Variable("x_port")           # its own prior is ignored once linked
    ...     y = Variable("y", mean=2 * x_port, variance=1)
    ...     _ = link(x, x_port)
    >>> g.get_all_variable_dependencies()["g/y"]
    {'g/x_port'}
    """
    for end, what in ((source, "source"), (target, "target")):
        if not isinstance(end, NamedObject):
            raise LinkError(f"link {what} must be a variable, entity or graph, got {end!r}")
    if source is target:
        raise LinkError(f"cannot link {source.global_name!r} to itself")
    pairs = _match(source, target)
    for src, tgt in pairs:
        previous = tgt.__dict__.get("_link_in")
        if previous is not None:
            raise LinkError(
                f"{tgt.global_name!r} already has a source, {previous[0].global_name!r} (link "
                f"{previous[1].name!r}); a target takes its values from one source only"
            )
        if source_of(src) is tgt:
            raise LinkError(
                f"linking {src.global_name!r} to {tgt.global_name!r} closes a cycle of links: "
                f"{src.global_name!r} already takes its values from {tgt.global_name!r}"
            )
    holder = _holder(source, target)
    links = holder._links
    taken = holder.__dict__.get("_link_names")
    if taken is None or len(taken) != len(links):  # kept beside the list: O(1) per link
        taken = {lk.name for lk in links}
        object.__setattr__(holder, "_link_names", taken)
    if name is None:
        number = len(links)
        while f"link_{number}" in taken:
            number += 1
        name = f"link_{number}"
    elif not isinstance(name, str) or not name:
        raise LinkError(f"a link's name must be a non-empty string, got {name!r}")
    elif name in taken:
        raise LinkError(f"{holder.global_name!r} already has a link named {name!r}")
    result = Link(source, target, name, holder, pairs)
    for src, tgt in pairs:
        object.__setattr__(tgt, "_link_in", (src, result))
    links.append(result)
    taken.add(name)
    return result
