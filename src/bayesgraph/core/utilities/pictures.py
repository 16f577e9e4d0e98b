"""Pictures of graphs: nested boxes, variable nodes, dependency and link arrows, plates.

:func:`picture` turns a graph, entity or variable into a :class:`Picture`: entities and graphs
are nested boxes, variables are nodes inside them (an ellipse for a dynamic
:class:`~bayesgraph.core.Variable`, a rectangle for a
:class:`~bayesgraph.core.StaticVariable`; shaded when the data given observe them, half shaded
when they observe them in part), solid arrows run from each variable to the variables whose
parameters read it, and dashed arrows from each link's source to its target.

Siblings of the same structure (the instances of one template, or any entities or variables
with the same children, distributions, shapes and expression structure; constants may differ,
and split the group only where they take a few values) are drawn once, as a *plate* with its
count, when there are at least ``plate_min`` of them: 10,000 persons from one template are one
box marked ``\u00d710000``. The interactive HTML view lists every plate's members under the
picture, with the first of them drawn one by one.

Everything is computed here in pure Python (a layered layout inside each box, hand-written
SVG); nothing is loaded from the network and nothing outside the standard library and numpy is
imported.

Examples
--------
>>> from bayesgraph.core import Graph, Variable, StaticVariable
>>> with Graph("g") as g:
...     a = StaticVariable("a", mean=0, variance=1)
...     y = Variable("y", mean=a, variance=1)
>>> pic = picture(g, data={g.y: [1.0, 2.0]})
>>> svg = pic.svg()
>>> svg.startswith("<svg") and 'data-name="g/y"' in svg
True
>>> pic.counts()
{'boxes': 1, 'plates': 0, 'nodes': 2, 'dependencies': 1, 'links': 0}
"""

from __future__ import annotations

import html as _html
import itertools
import math
import os
import sys
import unicodedata
from collections.abc import Mapping
from typing import Any

import numpy as np

from bayesgraph.core.graph.graph import Graph, Inputs, Outputs
from bayesgraph.core.operator.operators import Operator
from bayesgraph.core.scope import NamedObject, Scopetor
from bayesgraph.core.utilities.describe import observed_status, variable_line
from bayesgraph.core.variable.variable import VariableBase
from bayesgraph.exceptions import OptionError

__all__ = ["Picture", "picture"]

# Advance widths of DejaVu Sans (per 1000 em) for the printable ASCII characters 32..126.
# DejaVu Sans is listed first in the font stack and is among the widest sans-serif fonts, so
# boxes sized with these widths also hold the text when a browser substitutes Arial or
# Helvetica.
_WIDTHS = (
    318, 401, 460, 838, 636, 950, 780, 275, 390, 390, 500, 838, 318, 361, 318, 337, 636, 636,
    636, 636, 636, 636, 636, 636, 636, 636, 337, 337, 838, 838, 838, 531, 1000, 684, 686, 698,
    770, 632, 575, 775, 752, 295, 295, 656, 557, 863, 748, 787, 603, 787, 695, 635, 611, 732,
    684, 989, 685, 611, 685, 390, 337, 390, 838, 500, 500, 613, 635, 550, 635, 615, 352, 635,
    634, 278, 278, 579, 278, 974, 634, 612, 635, 635, 411, 521, 392, 634, 592, 818, 592, 592,
    525, 636, 337, 636, 838,
)
_FONT = "DejaVu Sans, Verdana, Arial, Helvetica, sans-serif"

# Sizes (pixels).
_NAME_SIZE, _INFO_SIZE, _TITLE_SIZE = 13.0, 10.0, 12.0
_PAD, _HEADER, _GAP_X, _GAP_Y = 10.0, 24.0, 18.0, 36.0
_NODE_H, _STACK = 40.0, 4.0
_MAX_ROW = 1500.0  # a row of a box wider than this wraps
_MAX_LISTED = 2000  # member names listed per plate in the HTML view
_VIEW_IDS = itertools.count()

# Colours.
_INK, _MUTED = "#1d2733", "#5b6673"
_DYN, _STAT = "#1f4e79", "#8a4b08"
_OBS = "#b9cbe0"
_DEP, _LINK = "#44505c", "#c0392b"
_BOX_FILL = {"graph": "#f3f7fc", "entity": "#fbfbf8", "inputs": "#f2f9f2",
             "outputs": "#fdf5ec", "plate": "#f7f3fb", "members": "#ffffff"}
_BOX_STROKE = {"graph": "#6d8fb3", "entity": "#9a9a8a", "inputs": "#6aa36a",
               "outputs": "#c98a4b", "plate": "#8a6bb0", "members": "#d0d0d0"}


def text_width(text: str, size: float, bold: bool = False) -> float:
    """Estimated width in pixels of ``text`` set in DejaVu Sans at ``size`` pixels.

    Examples
    --------
    >>> round(text_width("height", 10.0), 1)
    31.9
    >>> text_width("ab", 10.0, bold=True) > text_width("ab", 10.0)
    True
    """
    total = 0
    for char in text:
        code = ord(char)
        if 32 <= code < 127:
            total += _WIDTHS[code - 32]
        elif unicodedata.east_asian_width(char) in "WF":
            total += 1000
        else:
            total += 700
    return total * size / 1000.0 * (1.14 if bold else 1.0)


def _esc(text: Any) -> str:
    return _html.escape(str(text), quote=True)


def _fmt(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


# -- structure ------------------------------------------------------------------------------

class _Node:
    """One drawn variable; it stands for ``len(variables)`` variables of the graph."""

    __slots__ = ("id", "var", "label", "variables", "observed", "partial", "linked", "box",
                 "index", "w", "h", "x", "y")

    def __init__(self, var: VariableBase, label: str, variables: list[VariableBase]) -> None:
        self.var, self.label, self.variables = var, label, variables
        self.observed = self.partial = self.linked = 0
        self.box: _Box | None = None
        self.index = 0
        self.w = self.h = self.x = self.y = 0.0


class _Box:
    """A drawn graph or entity, or a plate (``count`` members of one structure)."""

    __slots__ = ("id", "obj", "kind", "title", "items", "count", "members", "box", "index",
                 "w", "h", "x", "y", "edges", "panel")

    def __init__(self, obj: Any, kind: str, title: str, count: int = 1,
                 members: list | None = None) -> None:
        self.obj, self.kind, self.title, self.count = obj, kind, title, count
        self.members = members or []
        self.items: list[_Node | _Box] = []
        self.box: _Box | None = None
        self.index = 0
        self.w = self.h = self.x = self.y = 0.0
        self.edges: set[tuple[int, int]] = set()
        self.panel: str | None = None


def _kind(obj: Scopetor) -> str:
    if isinstance(obj, Inputs):
        return "inputs"
    if isinstance(obj, Outputs):
        return "outputs"
    return "graph" if isinstance(obj, Graph) else "entity"


def _contains(root: NamedObject, var: NamedObject) -> str | None:
    """The path of ``var`` relative to ``root`` if ``var`` lies inside it, else ``None``."""
    parts = []
    obj: NamedObject | None = var
    while obj is not None and obj is not root:
        parts.append(obj.name)
        obj = obj.scope
    return None if obj is None else "/".join(reversed(parts))


def _expr_signature(value: Any, root: NamedObject, constants: list) -> Any:
    if isinstance(value, VariableBase):
        inside = _contains(root, value)
        return ("ref", inside) if inside is not None else ("ext", value.shape, value.is_dynamic)
    if isinstance(value, Operator):
        kwargs = tuple(sorted((k, repr(v)) for k, v in value.kwargs.items() if k != "key"))
        return (value.op, kwargs, tuple(_expr_signature(a, root, constants) for a in value.args))
    array = np.asarray(value)
    constants.append((array.dtype.str, array.tobytes()))
    return ("const", array.shape)


def _signature(obj: NamedObject, root: NamedObject, constants: list) -> Any:
    """Structure of ``obj`` (names of children, kinds, distributions, shapes, expressions),
    with references inside ``root`` by relative path and constants by shape only; the
    constants' values are appended to ``constants``, in order."""
    if isinstance(obj, VariableBase):
        params = tuple((k, _expr_signature(v, root, constants))
                       for k, v in sorted(obj.distribution.get_parameters().items()))
        return ("var", type(obj).__name__, obj.shape, obj.dtype, type(obj.distribution).__name__,
                repr(obj.constraint), params,
                tuple((n, _signature(c, root, constants)) for n, c in obj._children.items()))
    if isinstance(obj, Scopetor):
        return (type(obj).__name__,
                tuple((n, _signature(c, root, constants)) for n, c in obj._children.items()))
    return (type(obj).__name__,)


#: A group of siblings of one structure whose constants take at most this many different
#: values is split by them (a plate of women and one of men, not one of persons); with more
#: variants (a covariate per entity) the constants are left out and the group stays one plate.
_CONSTANT_VARIANTS = 4


def _range_title(names: list[str]) -> str:
    return names[0] if len(names) == 1 else f"{names[0]} \u2026 {names[-1]}"


class _Builder:
    """Turns the scope tree into boxes and nodes, grouping siblings into plates."""

    def __init__(self, plate_min: int | None) -> None:
        self.plate_min = plate_min
        self.node_of: dict[int, _Node] = {}
        self.box_of: dict[int, _Box] = {}
        self.nodes: list[_Node] = []
        self.boxes: list[_Box] = []

    # An item stands for a list of equivalent objects (one per member of every plate above it).
    def item(self, objs: list) -> _Node | _Box:
        first = objs[0]
        if isinstance(first, VariableBase):
            return self.node(objs, first.name)
        box = _Box(first, _kind(first), first.name)
        self.boxes.append(box)
        for obj in objs:
            self.box_of[id(obj)] = box
        self.fill(box, objs)
        return box

    def node(self, objs: list, label: str) -> _Node:
        node = _Node(objs[0], label, objs)
        for var in objs:
            self.node_of[id(var)] = node
        self.nodes.append(node)
        return node

    def add(self, box: _Box, item: _Node | _Box) -> None:
        item.box, item.index = box, len(box.items)
        box.items.append(item)

    def fill(self, box: _Box, objs: list) -> None:
        first = objs[0]
        children = [(name, child) for name, child in first._children.items()
                    if not (isinstance(child, (Inputs, Outputs)) and not child._children)]
        groups: dict[Any, list[tuple[str, tuple]]] = {}
        if self.plate_min is not None:
            for name, child in children:
                if isinstance(child, VariableBase) and child._children:
                    continue  # variables with sub-variables are drawn one by one
                constants: list = []
                key = _signature(child, child, constants)
                groups.setdefault(key, []).append((name, tuple(constants)))
        plated: dict[str, list[str]] = {}
        split: list[list[str]] = []
        for members in groups.values():
            if len(members) < self.plate_min:
                continue
            variants: dict[tuple, list[str]] = {}
            for name, constants in members:
                variants.setdefault(constants, []).append(name)
                if len(variants) > _CONSTANT_VARIANTS:
                    break
            if len(variants) > _CONSTANT_VARIANTS:
                split.append([name for name, _ in members])
            else:
                split.extend(variants.values())
        for names in split:
            if len(names) >= self.plate_min:
                plated[names[0]] = names
                for name in names[1:]:
                    plated[name] = []
        for name, child in children:
            names = plated.get(name)
            if names == []:
                continue  # drawn by the plate of its group
            if names:
                self.add(box, self.plate(box, objs, names))
                continue
            peers = [o._children[name] for o in objs]
            if isinstance(child, VariableBase):
                self.add(box, self.node(peers, name))
                self.flatten_variable(box, peers, name)
            else:
                self.add(box, self.item(peers))

    def flatten_variable(self, box: _Box, peers: list, prefix: str) -> None:
        """Sub-variables of a variable are drawn next to it, labelled ``parent/child``."""
        for name, child in peers[0]._children.items():
            if isinstance(child, VariableBase):
                sub = [p._children[name] for p in peers]
                self.add(box, self.node(sub, f"{prefix}/{name}"))
                self.flatten_variable(box, sub, f"{prefix}/{name}")

    def plate(self, box: _Box, objs: list, names: list[str]) -> _Box:
        """One item for the siblings ``names`` of one structure (in every object of ``objs``)."""
        members = [objs[0]._children[n] for n in names]
        peers = [o._children[n] for o in objs for n in names]
        title = _range_title(names)
        if isinstance(members[0], VariableBase):
            plate = _Box(members[0], "plate", "", count=len(names), members=members)
            self.boxes.append(plate)
            node = self.node(peers, title)
            self.add(plate, node)
            return plate
        plate = self.item(peers)  # the first member's box stands for all: decorate it
        plate.kind, plate.title, plate.count, plate.members = "plate", title, len(names), members
        plate.panel = "entity"
        return plate


# -- layout ---------------------------------------------------------------------------------

def _node_size(node: _Node) -> None:
    name_w = text_width(node.label, _NAME_SIZE)
    info_w = text_width(_info(node), _INFO_SIZE)
    inner = max(name_w, info_w)
    node.w = inner * 1.22 + 26 if node.var.is_dynamic else inner + 20
    node.h = _NODE_H


def _info(node: _Node) -> str:
    """The small second line of a node: its distribution (``linked`` for a link's target,
    whose own prior is ignored), shape and dtype."""
    var = node.var
    dist = type(var.distribution).__name__.replace("Distribution", "")
    if node.linked == len(node.variables):
        dist = "linked"
    dist = "no prior" if dist == "No" else dist
    parts = [dist]
    if var.shape:
        parts.append("(" + ", ".join(str(s) for s in var.shape) + ("," if len(var.shape) == 1
                                                                   else "") + ")")
    if var.dtype != "float":
        parts.append(var.dtype)
    return " \u00b7 ".join(parts)


def _components(n: int, succ: list[list[int]]) -> list[int]:
    """The strongly connected component of each vertex (Tarjan's algorithm, iterative).

    Examples
    --------
    >>> _components(4, [[1], [0], [3], []])
    [0, 0, 2, 1]
    """
    index = [-1] * n
    low = [0] * n
    on_stack = [False] * n
    stack: list[int] = []
    component = [-1] * n
    counter = n_comp = 0
    for root in range(n):
        if index[root] >= 0:
            continue
        work = [(root, 0)]
        while work:
            v, i = work.pop()
            if i == 0:
                index[v] = low[v] = counter
                counter += 1
                stack.append(v)
                on_stack[v] = True
            if i < len(succ[v]):
                work.append((v, i + 1))
                w = succ[v][i]
                if index[w] < 0:
                    work.append((w, 0))
                elif on_stack[w]:
                    low[v] = min(low[v], index[w])
                continue
            for w in succ[v]:
                if on_stack[w]:
                    low[v] = min(low[v], low[w])
            if low[v] == index[v]:
                while True:
                    w = stack.pop()
                    on_stack[w] = False
                    component[w] = n_comp
                    if w == v:
                        break
                n_comp += 1
    return component


def _order(items: list, edges: set[tuple[int, int]]) -> list[list[int]]:
    """Layers (longest path from the sources) ordered by barycentres. Items that depend on
    each other (a strongly connected component: boxes whose variables read each other) share
    a layer, side by side."""
    n = len(items)
    succ: list[list[int]] = [[] for _ in range(n)]
    for a, b in sorted(edges):
        succ[a].append(b)
    component = _components(n, succ)
    keep: list[list[int]] = [[b for b in succ[a] if component[b] != component[a]]
                             for a in range(n)]
    pred: list[list[int]] = [[] for _ in range(n)]
    for a in range(n):
        for b in keep[a]:
            pred[b].append(a)
    # Longest path over the components (a DAG), in topological order.
    n_comp = max(component, default=-1) + 1
    comp_succ: list[set[int]] = [set() for _ in range(n_comp)]
    indegree = [0] * n_comp
    for a in range(n):
        for b in keep[a]:
            if component[b] not in comp_succ[component[a]]:
                comp_succ[component[a]].add(component[b])
                indegree[component[b]] += 1
    comp_layer = [0] * n_comp
    queue = [c for c in range(n_comp) if indegree[c] == 0]
    while queue:
        c = queue.pop()
        for d in comp_succ[c]:
            comp_layer[d] = max(comp_layer[d], comp_layer[c] + 1)
            indegree[d] -= 1
            if indegree[d] == 0:
                queue.append(d)
    # A source sits right above the first item that reads it, not always at the top (a
    # father who joins in the second generation is drawn beside the first).
    has_pred = [False] * n_comp
    for c in range(n_comp):
        for d in comp_succ[c]:
            has_pred[d] = True
    for c in range(n_comp):
        if not has_pred[c] and comp_succ[c]:
            comp_layer[c] = min(comp_layer[d] for d in comp_succ[c]) - 1
    layer = [comp_layer[component[v]] for v in range(n)]
    layers: list[list[int]] = [[] for _ in range(max(layer, default=0) + 1)]
    for v in range(n):
        layers[layer[v]].append(v)
    position = {v: (i + 0.5) / len(row) for row in layers for i, v in enumerate(row)}

    def sweep(rows: list[list[int]], neighbours: list[list[int]]) -> None:
        for row in rows:
            keyed = []
            for i, v in enumerate(row):
                near = [position[u] for u in neighbours[v] if u in position]
                keyed.append((sum(near) / len(near) if near else position[v], i, v))
            keyed.sort()
            row[:] = [v for _, _, v in keyed]
            for i, v in enumerate(row):
                position[v] = (i + 0.5) / len(row)

    if len(layers) > 1:
        sweep(layers[1:], pred)
        sweep(list(reversed(layers[:-1])), keep)
        sweep(layers[1:], pred)
    return layers


def _layout(box: _Box) -> None:
    """Size ``box`` and place its items relative to its top-left corner (bottom-up)."""
    for item in box.items:
        if isinstance(item, _Box):
            _layout(item)
        else:
            _node_size(item)
    rows: list[list[_Node | _Box]] = []
    for layer in _order(box.items, box.edges):
        row: list[_Node | _Box] = []
        width = 0.0
        for v in layer:
            item = box.items[v]
            if row and width + _GAP_X + item.w > _MAX_ROW:
                rows.append(row)
                row, width = [], 0.0
            width += (_GAP_X if row else 0.0) + item.w
            row.append(item)
        if row:
            rows.append(row)
    widths = [sum(i.w for i in row) + _GAP_X * (len(row) - 1) for row in rows]
    count_w = text_width(f"\u00d7{box.count}", _TITLE_SIZE, True) + 8 if box.kind == "plate" else 0
    title_w = text_width(box.title, _TITLE_SIZE, True) + text_width(_box_kind_label(box),
                                                                    _INFO_SIZE) + 14 + count_w
    box.w = max(max(widths, default=0.0) + 2 * _PAD, title_w + 2 * _PAD, 60.0)
    y = _HEADER + _PAD
    for row, width in zip(rows, widths):
        height = max(i.h for i in row)
        x = (box.w - width) / 2
        for item in row:
            item.x, item.y = x, y + (height - item.h) / 2
            x += item.w + _GAP_X
        y += height + _GAP_Y
    box.h = (y - _GAP_Y + _PAD) if rows else _HEADER + 6
    if box.kind == "plate":  # room for the stacked frames behind a plate
        box.w += 2 * _STACK
        box.h += 2 * _STACK


def _place(item: _Node | _Box, ox: float, oy: float) -> None:
    item.x += ox
    item.y += oy
    if isinstance(item, _Box):
        for child in item.items:
            _place(child, item.x, item.y)


def _box_kind_label(box: _Box) -> str:
    if box.kind == "plate":
        return "plate"
    return {"graph": "Graph", "entity": "Entity", "inputs": "", "outputs": "",
            "members": ""}[box.kind]


def _chain(item: _Node | _Box) -> list[tuple[_Box, int]]:
    chain = []
    while item.box is not None:
        chain.append((item.box, item.index))
        item = item.box
    chain.reverse()
    return chain


# -- the picture ----------------------------------------------------------------------------

class Picture:
    """A drawing of a graph, entity or variable; made by :func:`picture`.

    ``svg()`` returns a standalone SVG document, ``html()`` a standalone HTML page (the SVG,
    a legend, zoom buttons and, for each plate, a list of its members that expands on click;
    an inline script, nothing loaded from the network), ``save(path)`` writes either by the
    path's suffix. In Jupyter the object displays itself (``_repr_html_``).

    Examples
    --------
    >>> from bayesgraph.core import Entity, Graph, Variable
    >>> with Graph("g") as g:
    ...     for i in range(6):
    ...         with Entity(f"p{i}"):
    ...             _ = Variable("h", mean=0, variance=1)
    >>> pic = picture(g)
    >>> pic.counts()["plates"], "\u00d76" in pic.svg()
    (1, True)
    >>> "<details" in pic.html()
    True
    """

    def __init__(self, obj: NamedObject, data: Mapping | None = None, *,
                 plate_min: int | None = 5, max_members: int = 40) -> None:
        if not isinstance(obj, NamedObject):
            raise OptionError(
                f"picture() draws a Graph, Entity or Variable, got {type(obj).__name__}")
        if plate_min is not None and (isinstance(plate_min, bool)
                                      or not isinstance(plate_min, (int, np.integer))
                                      or plate_min < 2):
            raise OptionError(
                f"plate_min={plate_min!r}: give an integer >= 2 (the smallest group of "
                "siblings of one structure drawn as a plate) or None to draw every entity")
        if (isinstance(max_members, bool) or not isinstance(max_members, (int, np.integer))
                or max_members < 1):
            raise OptionError(f"max_members={max_members!r}: give a positive integer")
        self.obj = obj
        self.plate_min = None if plate_min is None else int(plate_min)
        self.max_members = int(max_members)
        self._status = observed_status(obj, data)
        builder = _Builder(self.plate_min)
        self._root = builder.item([obj])
        self._finish(builder, links=True, prefix="")

    @classmethod
    def _of_members(cls, plate: _Box, parent: Picture) -> Picture:
        """A picture of the first members of ``plate``, one by one, in a synthetic box."""
        pic = cls.__new__(cls)
        pic.obj, pic.plate_min, pic.max_members = plate.obj, parent.plate_min, parent.max_members
        pic._status = parent._status
        builder = _Builder(parent.plate_min)
        shown = plate.members[:parent.max_members]
        title = (f"{plate.title}: all {plate.count}" if len(shown) == plate.count
                 else f"{plate.title}: the first {len(shown)} of {plate.count}")
        root = _Box(None, "members", title)
        builder.boxes.append(root)
        for member in shown:
            builder.add(root, builder.item([member]))
        pic._root = root
        pic._finish(builder, links=True, prefix=f"{plate.id}-")  # ids unique in the page
        return pic

    def _panel(self, plate: _Box) -> Picture | None:
        if plate.panel != "entity":
            return None
        return Picture._of_members(plate, self)

    def _finish(self, builder: _Builder, links: bool, prefix: str) -> None:
        self._nodes, self._boxes = builder.nodes, builder.boxes
        for i, node in enumerate(self._nodes):
            node.id = f"{prefix}n{i}"
            node.observed = sum(self._status.get(id(v)) == "observed" for v in node.variables)
            node.partial = sum(self._status.get(id(v)) == "partial" for v in node.variables)
        for i, box in enumerate(self._boxes):
            box.id = f"{prefix}b{i}"
        node_of = builder.node_of
        index = {id(n): i for i, n in enumerate(self._nodes)}
        link_edges: dict[tuple[int, int], list[str]] = {}
        box_links: dict[tuple[int, int], list[str]] = {}
        box_index = {id(b): i for i, b in enumerate(self._boxes)}
        targets: set[int] = set()
        if links:
            for graph in _graphs(self._root_objects()):
                for link in getattr(graph, "_links", None) or ():
                    name = getattr(link, "name", None) or "link"
                    pairs = link.pairs()
                    targets.update(id(target) for _, target in pairs)
                    # A link between two scopes drawn as boxes is one arrow between the boxes.
                    source_box = builder.box_of.get(id(getattr(link, "source", None)))
                    target_box = builder.box_of.get(id(getattr(link, "target", None)))
                    if source_box is not None and target_box is not None:
                        key = (box_index[id(source_box)], box_index[id(target_box)])
                        box_links.setdefault(key, []).append(name)
                        continue
                    for source, target in pairs:
                        src, dst = node_of.get(id(source)), node_of.get(id(target))
                        if src is not None and dst is not None:
                            key = (index[id(src)], index[id(dst)])
                            link_edges.setdefault(key, []).append(name)
        self._link_edges, self._box_links = link_edges, box_links
        deps: dict[tuple[int, int], int] = {}
        for node in self._nodes:
            node.linked = sum(id(v) in targets for v in node.variables)
            for var in node.variables:
                if id(var) in targets:
                    continue  # a link's target takes its source's value: its prior is ignored
                for parent in var.get_parents():
                    src = node_of.get(id(parent))
                    if src is not None:
                        key = (index[id(src)], index[id(node)])
                        deps[key] = deps.get(key, 0) + 1
        self._deps = deps
        ends = [(self._nodes[a], self._nodes[b]) for a, b in list(deps) + list(link_edges)]
        ends += [(self._boxes[a], self._boxes[b]) for a, b in box_links]
        for item_a, item_b in ends:
            if item_a is item_b:
                continue
            ca, cb = _chain(item_a), _chain(item_b)
            ca.append((None, -1))  # the item itself
            cb.append((None, -2))
            for (box_a, ia), (box_b, ib) in zip(ca, cb):
                if box_a is not box_b:
                    break
                if ia != ib:
                    box_a.edges.add((ia, ib))
                    break
        if isinstance(self._root, _Box):
            _layout(self._root)
        else:
            _node_size(self._root)
        self._root.x = self._root.y = 0.0
        _place(self._root, 14.0, 14.0)

    def _root_objects(self) -> list:
        """Where to look for links: the whole tree the drawn object belongs to (a link is
        kept by the innermost graph holding both ends, which may lie above the object)."""
        return [self.obj.get_root()]

    # -- queries ------------------------------------------------------------------------------
    def counts(self) -> dict[str, int]:
        """How many boxes (graphs and entities), plates, variable nodes, dependency arrows and
        link arrows the main picture draws.

        Examples
        --------
        >>> from bayesgraph.core import Graph, Variable
        >>> with Graph("g") as g:
        ...     _ = Variable("z"); _ = Variable("x", mean=z)
        >>> picture(g).counts()
        {'boxes': 1, 'plates': 0, 'nodes': 2, 'dependencies': 1, 'links': 0}
        """
        plates = sum(b.kind == "plate" for b in self._boxes)
        return {"boxes": len(self._boxes) - plates, "plates": plates, "nodes": len(self._nodes),
                "dependencies": len(self._deps),
                "links": len(self._link_edges) + len(self._box_links)}

    # -- SVG ----------------------------------------------------------------------------------
    def _legend(self, width: float) -> tuple[list[str], float, float]:
        """The legend's pieces, wrapped into lines of at most ``width`` pixels."""
        entries = [("dynamic", "Variable (a value per example)"),
                   ("static", "StaticVariable (one value)")]
        if any(n.observed for n in self._nodes):
            entries.append(("observed", "observed (data given)"))
        if any(n.partial or (n.observed and n.observed < len(n.variables))
               for n in self._nodes):
            entries.append(("partial", "partly observed"))
        if self._deps:
            entries.append(("dependency", "dependency (parent \u2192 child)"))
        if self._link_edges or self._box_links:
            entries.append(("link", "link (source \u2192 target)"))
        if any(b.kind == "plate" for b in self._boxes):
            entries.append(("plate", "plate: \u00d7N siblings of one structure"))
        parts, x, y, widest = [], 0.0, 0.0, 0.0
        for kind, text in entries:
            step = 40 + text_width(text, 11.0) + 22
            if x and x + step - 22 > width:
                x, y = 0.0, y + 24
            parts.append(f'<g transform="translate({_fmt(x)},{_fmt(y)})">'
                         f'{_legend_symbol(kind)}<text x="40" y="13" font-size="11" '
                         f'fill="{_MUTED}">{_esc(text)}</text></g>')
            x += step
            widest = max(widest, x - 22)
        return parts, widest, y + 20

    def svg(self, *, legend: bool = True, _interactive: bool = False, _defs: bool = True) -> str:
        """Return the picture as a standalone SVG document (a string).

        Examples
        --------
        >>> from bayesgraph.core import Variable
        >>> import xml.etree.ElementTree as ET
        >>> root = ET.fromstring(picture(Variable("v")).svg())
        >>> root.tag
        '{http://www.w3.org/2000/svg}svg'
        """
        root = self._root
        width = root.x + root.w + 14
        height = root.y + root.h + 14
        legend_parts: list[str] = []
        if legend:
            legend_parts, legend_w, legend_h = self._legend(max(width - 28, 520.0))
            width = max(width, legend_w + 28)
            legend_y = height + 4
            height += legend_h + 18
        out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{_fmt(width)}" '
               f'height="{_fmt(height)}" viewBox="0 0 {_fmt(width)} {_fmt(height)}" '
               f'font-family="{_FONT}" class="bg-picture" data-name="{_esc(self._name())}">',
               f"<title>{_esc(self._name())}</title>", _DEFS if _defs else "",
               f'<rect x="0" y="0" width="{_fmt(width)}" height="{_fmt(height)}" '
               'fill="#ffffff"/>']
        for box in _boxes_in_order(root):
            out.append(_box_svg(box, _interactive))
        out.append('<g class="bg-edges">')
        ports = _ports(list(self._deps) + list(self._link_edges), self._nodes)
        for (a, b), count in self._deps.items():
            out.append(_edge_svg(self._nodes[a], self._nodes[b], "dependency", count, None,
                                 self._nodes, ports[(a, b)]))
        for (a, b), names in self._link_edges.items():
            out.append(_edge_svg(self._nodes[a], self._nodes[b], "link", len(names), names,
                                 self._nodes, ports[(a, b)]))
        for (a, b), names in self._box_links.items():
            out.append(_box_link_svg(self._boxes[a], self._boxes[b], names, self._nodes))
        out.append("</g>")
        for node in self._nodes:
            out.append(_node_svg(node, self._deps, self._nodes))
        if legend_parts:
            out.append(f'<g class="bg-legend" transform="translate(14,{_fmt(legend_y)})">')
            out.extend(legend_parts)
            out.append("</g>")
        out.append("</svg>")
        return "\n".join(out)

    def _name(self) -> str:
        return getattr(self.obj, "global_name", "") if self.obj is not None else ""

    # -- HTML ---------------------------------------------------------------------------------
    def _fragment(self) -> str:
        uid = f"bgp{next(_VIEW_IDS)}x{os.getpid():x}"  # unique per view, also in a notebook
        name = self._name()
        counts = self.counts()
        n_vars = sum(len(n.variables) for n in self._nodes)
        summary = (f"{n_vars} variable{'s' if n_vars != 1 else ''}, drawn as "
                   f"{counts['nodes']} node{'s' if counts['nodes'] != 1 else ''}")
        if counts["plates"]:
            summary += f" ({counts['plates']} plate{'s' if counts['plates'] != 1 else ''})"
        parts = [f'<div class="bg-view" id="{uid}">', _STYLE.replace("#ID", f"#{uid}"),
                 '<div class="bg-bar">'
                 f'<b>{_esc(name)}</b> <span class="bg-muted">{_esc(summary)}</span> '
                 '<button type="button" data-zoom="0.8" title="zoom out">\u2212</button>'
                 '<button type="button" data-zoom="1.25" title="zoom in">+</button>'
                 '<button type="button" data-zoom="0" title="actual size">1:1</button>'
                 "</div>",
                 f'<div class="bg-canvas">{self.svg(_interactive=True)}</div>']
        plates = [box for box in self._boxes if box.kind == "plate"]
        if plates:  # each plate's members, drawn now (only the HTML view needs them)
            parts.append('<div class="bg-plates">')
            for box in plates:
                parts.append(self._plate_details(uid, box, self._panel(box)))
            parts.append("</div>")
        parts.append(f"<script>{_SCRIPT.replace('#ID', uid)}</script>")
        parts.append("</div>")
        return "\n".join(parts)

    def _plate_details(self, uid: str, box: _Box, panel: Picture | None) -> str:
        names = [m.name for m in box.members]
        listed = names[:_MAX_LISTED]
        more = len(names) - len(listed)
        where = box.box.title if box.box is not None else ""
        head = (f"<summary>Plate <b>{_esc(box.title)}</b> \u00d7{box.count}"
                + (f' <span class="bg-muted">in {_esc(where)}</span>' if where else "")
                + "</summary>")
        body = []
        if panel is not None:
            # the markers are the page's main picture's (one set of ids per page)
            body.append(f'<div class="bg-canvas">{panel.svg(legend=False, _defs=False)}</div>')
        body.append('<div class="bg-names">' + ", ".join(_esc(n) for n in listed)
                    + (f" \u2026 and {more} more" if more else "") + "</div>")
        return (f'<details class="bg-plate-details" id="{uid}-{box.id}">{head}'
                + "".join(body) + "</details>")

    def _repr_html_(self) -> str:
        return self._fragment()

    def html(self) -> str:
        """Return a standalone HTML page showing the picture (it loads nothing else).

        Examples
        --------
        >>> from bayesgraph.core import Variable
        >>> page = picture(Variable("v")).html()
        >>> page.startswith("<!DOCTYPE html>") and "http" not in page.replace(
        ...     "http://www.w3.org/2000/svg", "")
        True
        """
        return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                f"<title>{_esc(self._name())}</title></head>\n<body>\n"
                f"{self._fragment()}\n</body></html>\n")

    def save(self, path: str | os.PathLike) -> None:
        """Write the picture to ``path``: SVG for ``.svg``, an HTML page for ``.html``/``.htm``.

        Examples
        --------
        >>> import pathlib, tempfile
        >>> from bayesgraph.core import Variable
        >>> target = pathlib.Path(tempfile.mkdtemp()) / "v.svg"
        >>> picture(Variable("v")).save(target)
        >>> target.read_text().startswith("<svg")
        True
        """
        suffix = os.path.splitext(os.fspath(path))[1].lower()
        if suffix == ".svg":
            text = self.svg()
        elif suffix in (".html", ".htm"):
            text = self.html()
        else:
            raise OptionError(
                f"cannot write a picture to {os.fspath(path)!r}: the name must end in .svg "
                "(a picture) or .html (an interactive page)")
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(text)


def picture(obj: NamedObject, data: Mapping | None = None, *, plate_min: int | None = 5,
            max_members: int = 40) -> Picture:
    """Draw a graph, entity or variable (see the module docstring for what is drawn).

    Parameters
    ----------
    obj : Graph, Entity or Variable
        What to draw.
    data : mapping or DataLinker, optional
        ``{variable or global name: values}`` as given to a model: the variables it observes
        are shaded (half shaded where some values are NaN).
    plate_min : int or None
        Siblings of one structure are drawn once, as a plate with their count, when there are
        at least this many of them (default 5); ``None`` draws every entity.
    max_members : int
        How many members of each plate the interactive view draws one by one (all are listed
        by name).

    Returns
    -------
    Picture

    Raises
    ------
    MissingVariableError
        If ``data`` names a variable that is not part of ``obj``.
    OptionError
        If ``plate_min`` or ``max_members`` is not valid.

    Examples
    --------
    >>> from bayesgraph.core import Graph, Variable
    >>> with Graph("g") as g:
    ...     _ = Variable("x")
    >>> picture(g, data={"x": [0.5]}).counts()["nodes"]
    1
    """
    return Picture(obj, data, plate_min=plate_min, max_members=max_members)


# -- helpers --------------------------------------------------------------------------------

def _graphs(roots: list) -> list:
    found = []
    for root in roots:
        if isinstance(root, Graph):
            found.append(root)
        if isinstance(root, Scopetor):
            found.extend(d for d in root.iter_descendants() if isinstance(d, Graph))
    return found


def _boxes_in_order(box: _Node | _Box):
    if not isinstance(box, _Box):
        return
    yield box
    for item in box.items:
        if isinstance(item, _Box):
            yield from _boxes_in_order(item)


def _box_svg(box: _Box, interactive: bool) -> str:
    fill, stroke = _BOX_FILL[box.kind], _BOX_STROKE[box.kind]
    x, y, w, h = box.x, box.y, box.w, box.h
    name = box.obj.global_name if box.obj is not None else box.title
    out = [f'<g class="bg-box bg-{box.kind}" id="{box.id}" data-name="{_esc(name)}"'
           + (f' data-count="{box.count}"' if box.kind == "plate" else "") + ">"]
    tip = name if box.kind != "plate" else (
        f"{box.count} siblings of one structure: {box.title}"
        + (" (click to list them)" if interactive else ""))
    out.append(f"<title>{_esc(tip)}</title>")
    dash = ' stroke-dasharray="5 3"' if box.kind in ("inputs", "outputs") else ""
    width = "1.6" if box.kind in ("graph", "plate") else "1.1"
    if box.kind == "plate":
        w, h = w - 2 * _STACK, h - 2 * _STACK
        for k in (2, 1):
            out.append(f'<rect x="{_fmt(x + k * _STACK)}" y="{_fmt(y + k * _STACK)}" '
                       f'width="{_fmt(w)}" height="{_fmt(h)}" rx="6" fill="{fill}" '
                       f'stroke="{stroke}" stroke-width="1"/>')
    out.append(f'<rect x="{_fmt(x)}" y="{_fmt(y)}" width="{_fmt(w)}" height="{_fmt(h)}" rx="6" '
               f'fill="{fill}" stroke="{stroke}" stroke-width="{width}"{dash}/>')
    out.append(f'<path d="M{_fmt(x + 0.8)},{_fmt(y + _HEADER)} h{_fmt(w - 1.6)}" '
               f'stroke="{stroke}" stroke-opacity="0.35"/>')
    title_x = x + 9
    out.append(f'<text class="bg-title" x="{_fmt(title_x)}" y="{_fmt(y + 16.5)}" '
               f'font-size="{_TITLE_SIZE:g}" font-weight="bold" fill="{_INK}">'
               f"{_esc(box.title)}</text>")
    kind_x = title_x + text_width(box.title, _TITLE_SIZE, True) + 7
    out.append(f'<text x="{_fmt(kind_x)}" y="{_fmt(y + 16.5)}" font-size="{_INFO_SIZE:g}" '
               f'fill="{_MUTED}">{_esc(_box_kind_label(box))}</text>')
    if box.kind == "plate":
        out.append(f'<text class="bg-count" x="{_fmt(x + w - 9)}" y="{_fmt(y + 16.5)}" '
                   f'font-size="{_TITLE_SIZE:g}" font-weight="bold" fill="{stroke}" '
                   f'text-anchor="end">\u00d7{box.count}</text>')
    out.append("</g>")
    return "".join(out)


def _node_svg(node: _Node, deps: dict, nodes: list) -> str:
    var = node.var
    kind = "dynamic" if var.is_dynamic else "static"
    colour = _DYN if var.is_dynamic else _STAT
    n = len(node.variables)
    if node.observed == n:
        fill, state = _OBS, "observed"
    elif node.observed or node.partial:
        fill, state = "url(#bg-half)", "partial"
    else:
        fill, state = "#ffffff", "latent"
    cx, cy = node.x + node.w / 2, node.y + node.h / 2
    linked = " bg-linked" if node.linked else ""
    dash = ' stroke-dasharray="5 3"' if node.linked else ""
    out = [f'<g class="bg-node bg-{kind} bg-{state}{linked}" id="{node.id}" '
           f'data-name="{_esc(var.global_name)}" data-label="{_esc(node.label)}">']
    tip = _tooltip(node)
    out.append(f"<title>{_esc(tip)}</title>")
    if var.is_dynamic:
        out.append(f'<ellipse cx="{_fmt(cx)}" cy="{_fmt(cy)}" rx="{_fmt(node.w / 2)}" '
                   f'ry="{_fmt(node.h / 2)}" fill="{fill}" stroke="{colour}" '
                   f'stroke-width="1.6"{dash}/>')
    else:
        out.append(f'<rect x="{_fmt(node.x)}" y="{_fmt(node.y)}" width="{_fmt(node.w)}" '
                   f'height="{_fmt(node.h)}" rx="3" fill="{fill}" stroke="{colour}" '
                   f'stroke-width="2.2"{dash}/>')
    out.append(f'<text class="bg-label" x="{_fmt(cx)}" y="{_fmt(cy - 1.5)}" '
               f'font-size="{_NAME_SIZE:g}" fill="{_INK}" text-anchor="middle">'
               f"{_esc(node.label)}</text>")
    out.append(f'<text x="{_fmt(cx)}" y="{_fmt(cy + 11.5)}" font-size="{_INFO_SIZE:g}" '
               f'fill="{_MUTED}" text-anchor="middle">{_esc(_info(node))}</text>')
    out.append("</g>")
    return "".join(out)


def _tooltip(node: _Node) -> str:
    root = node.var.get_root().global_name
    text = variable_line(node.var, root)
    n = len(node.variables)
    if n > 1:
        text += f"\n(drawn once for {n} variables of one structure"
        if node.observed or node.partial:
            text += f"; {node.observed} observed, {node.partial} partly observed"
        text += ")"
    elif node.observed:
        text += "\n(observed)"
    elif node.partial:
        text += "\n(partly observed: some values are NaN)"
    if node.linked:
        text += ("\n(the target of a link: the same random quantity as its source; its own "
                 "prior is ignored)")
    return text


def _round(item: _Node | _Box) -> bool:
    return isinstance(item, _Node) and item.var.is_dynamic


def _anchor(node: _Node | _Box, toward_x: float, toward_y: float) -> tuple[float, float]:
    """Where the line from the centre of ``node`` toward a point leaves its outline."""
    cx, cy = node.x + node.w / 2, node.y + node.h / 2
    dx, dy = toward_x - cx, toward_y - cy
    if dx == 0 and dy == 0:
        return cx, cy
    a, b = node.w / 2, node.h / 2
    if _round(node):
        t = 1.0 / ((dx / a) ** 2 + (dy / b) ** 2) ** 0.5
    else:
        t = min(a / abs(dx) if dx else float("inf"), b / abs(dy) if dy else float("inf"))
    return cx + dx * t, cy + dy * t


def _bezier(p: tuple, t: float) -> tuple[float, float]:
    (x0, y0), (x1, y1), (x2, y2), (x3, y3) = p
    u = 1 - t
    return (u * u * u * x0 + 3 * u * u * t * x1 + 3 * u * t * t * x2 + t * t * t * x3,
            u * u * u * y0 + 3 * u * u * t * y1 + 3 * u * t * t * y2 + t * t * t * y3)


def _hits(curve: tuple, obstacles: list[_Node]) -> bool:
    xs, ys = [q[0] for q in curve], [q[1] for q in curve]
    left, right, top, bottom = min(xs) - 4, max(xs) + 4, min(ys) - 4, max(ys) + 4
    near = [n for n in obstacles if n.x < right and n.x + n.w > left
            and n.y < bottom and n.y + n.h > top]
    if not near:
        return False
    for k in range(1, 24):
        x, y = _bezier(curve, k / 24)
        for n in near:
            a, b = n.w / 2 + 4, n.h / 2 + 4
            dx, dy = x - (n.x + n.w / 2), y - (n.y + n.h / 2)
            if (dx / a) ** 2 + (dy / b) ** 2 <= 1.0 if _round(n) else (
                    abs(dx) <= a and abs(dy) <= b):
                return True
    return False


def _curve(src: _Node | _Box, dst: _Node | _Box, shift: float,
           ports: tuple[float, float]) -> tuple:
    """A cubic from ``src`` to ``dst``; ``shift`` pushes its middle sideways, ``ports`` move
    its ends along the outlines (so that arrows into one node do not share an arrowhead)."""
    scx, scy = src.x + src.w / 2, src.y + src.h / 2
    tcx, tcy = dst.x + dst.w / 2, dst.y + dst.h / 2
    if abs(tcy - scy) > (src.h + dst.h) / 2:  # one above the other: vertical tangents
        down = 1.0 if tcy > scy else -1.0
        lean = max(-src.w * 0.3, min(src.w * 0.3, (tcx - scx) * 0.3))  # leave toward dst
        x1, y1 = _anchor(src, scx + ports[0] + lean, scy + down * (src.h / 2 + 6))
        x2, y2 = _anchor(dst, tcx + ports[1], tcy - down * (dst.h / 2 + 6))
        bend = max(abs(y2 - y1) * 0.45, 12.0)
        return ((x1, y1), (x1 + shift, y1 + down * bend), (x2 + shift, y2 - down * bend),
                (x2, y2))
    # Side by side: a straight arrow between the facing sides (above the middle when it runs
    # to the right, below when to the left, so that a pair in both directions stays apart),
    # or, pushed by ``shift``, an arc above (shift > 0) or below.
    rightwards = 1.0 if tcx >= scx else -1.0
    off = -6.0 * rightwards
    if shift == 0:
        x1, y1 = _anchor(src, tcx, scy + off)
        x2, y2 = _anchor(dst, scx, tcy + off)
        y1, y2 = scy + off, tcy + off
        return ((x1, y1), (x1 + (x2 - x1) / 3, y1), (x2 - (x2 - x1) / 3, y2), (x2, y2))
    up = -1.0 if shift > 0 else 1.0
    x1, y1 = _anchor(src, scx + rightwards * src.w * 0.3, scy + up * src.h)
    x2, y2 = _anchor(dst, tcx - rightwards * dst.w * 0.3, tcy + up * dst.h)
    lift = 14.0 + abs(shift)
    return ((x1, y1), (x1, y1 + up * lift), (x2, y2 + up * lift), (x2, y2))


# Sideways pushes tried in turn when an arrow would cross a node: first to the side of its
# arrowhead (sign +1 here), a little to the other side only after a larger push to its own.
_SHIFTS = (0.0, 30.0, 60.0, -30.0, 90.0, -60.0, 120.0, -90.0, 150.0, -120.0, 180.0, -150.0,
           210.0, -180.0, 240.0, -210.0)


def _box_link_svg(src: _Box, dst: _Box, names: list[str], obstacles: list[_Node]) -> str:
    """One dashed arrow for the links between two scopes drawn as boxes."""
    def within(n: _Node, box: _Box) -> bool:
        return (box.x <= n.x and n.x + n.w <= box.x + box.w and box.y <= n.y
                and n.y + n.h <= box.y + box.h)

    label = (f"link {', '.join(sorted(set(names)))}: {src.obj.global_name} \u2192 "
             f"{dst.obj.global_name} (each variable of the target is the same random "
             "quantity as the source's of the same relative name)")
    attrs = (f'class="bg-edge bg-link bg-box-link" data-source="{src.id}" '
             f'data-target="{dst.id}" fill="none" stroke="{_LINK}" stroke-width="1.7" '
             'stroke-dasharray="7 4" marker-end="url(#bg-arrow-link)"')
    if src is dst:  # members of one plate linked to each other: a loop on its right side
        x, y = src.x + src.w, src.y + min(src.h / 2, 60.0)
        d = (f"M{_fmt(x)},{_fmt(y - 14)} C{_fmt(x + 40)},{_fmt(y - 34)} "
             f"{_fmt(x + 40)},{_fmt(y + 34)} {_fmt(x + 1)},{_fmt(y + 14)}")
        return f'<path d="{d}" {attrs}><title>{_esc(label)}</title></path>'
    others = [n for n in obstacles if not within(n, src) and not within(n, dst)]
    curve = _curve(src, dst, 0.0, (0.0, 0.0))
    if _hits(curve, others):
        for shift in _SHIFTS[1:]:
            candidate = _curve(src, dst, shift, (0.0, 0.0))
            if not _hits(candidate, others):
                curve = candidate
                break
    (x1, y1), (c1x, c1y), (c2x, c2y), (x2, y2) = curve
    d = (f"M{_fmt(x1)},{_fmt(y1)} C{_fmt(c1x)},{_fmt(c1y)} {_fmt(c2x)},{_fmt(c2y)} "
         f"{_fmt(x2)},{_fmt(y2)}")
    return f'<path d="{d}" {attrs}><title>{_esc(label)}</title></path>'


def _ports(edges: list[tuple[int, int]], nodes: list[_Node]) -> dict[tuple[int, int],
                                                                     tuple[float, float]]:
    """Spread the heads of the arrows that enter one node along its outline, in the order of
    the nodes they come from."""
    entering: dict[int, list[int]] = {}
    for a, b in edges:
        if a != b:
            entering.setdefault(b, []).append(a)

    def spread(groups: dict[int, list[int]]) -> dict[tuple[int, int], float]:
        offsets = {}
        for v, others in groups.items():
            node = nodes[v]
            others = sorted(set(others), key=lambda u: nodes[u].x + nodes[u].w / 2)
            k = len(others)
            step = min(30.0, node.w * 0.6 / (k - 1)) if k > 1 else 0.0
            for i, u in enumerate(others):
                offsets[(v, u)] = (i - (k - 1) / 2) * step
        return offsets

    into = spread(entering)  # arrows may leave one point, but each gets its own arrowhead
    return {(a, b): (0.0, into.get((b, a), 0.0)) for a, b in edges}


def _edge_svg(src: _Node, dst: _Node, kind: str, count: int, names: list[str] | None,
              obstacles: list[_Node], ports: tuple[float, float] = (0.0, 0.0)) -> str:
    colour = _DEP if kind == "dependency" else _LINK
    dash = ' stroke-dasharray="6 4"' if kind == "link" else ""
    marker = "bg-arrow" if kind == "dependency" else "bg-arrow-link"
    label = (f"{src.var.global_name} \u2192 {dst.var.global_name}" if kind == "dependency"
             else f"link {', '.join(sorted(set(names or [])))}: {src.var.global_name} "
                  f"\u2192 {dst.var.global_name}")
    if count > 1:
        label += f" ({count} {'dependencies' if kind == 'dependency' else 'links'})"
    attrs = (f'class="bg-edge bg-{kind}" data-source="{src.id}" data-target="{dst.id}" '
             f'fill="none" stroke="{colour}" stroke-width="1.4"{dash} '
             f'marker-end="url(#{marker})"')
    if src is dst:  # members of one plate reading each other: a loop at the upper right
        cx, cy, a, b = src.x + src.w / 2, src.y + src.h / 2, src.w / 2, src.h / 2
        if src.var.is_dynamic:
            x1, y1 = cx + a * math.cos(-1.25), cy + b * math.sin(-1.25)
            x2, y2 = cx + a * math.cos(-0.35), cy + b * math.sin(-0.35)
        else:
            x1, y1, x2, y2 = cx + a * 0.55, cy - b, cx + a, cy - b * 0.45
        d = (f"M{_fmt(x1)},{_fmt(y1)} C{_fmt(x1 + 6)},{_fmt(y1 - 30)} "
             f"{_fmt(x2 + 32)},{_fmt(y2 - 8)} {_fmt(x2 + 1)},{_fmt(y2)}")
        return f'<path d="{d}" {attrs}><title>{_esc(label)}</title></path>'
    others = [n for n in obstacles if n is not src and n is not dst]
    curve = _curve(src, dst, 0.0, ports)
    if _hits(curve, others):
        side = -1.0 if ports[1] < 0 else 1.0  # bulge first to the side its arrowhead is on
        for shift in _SHIFTS[1:]:
            candidate = _curve(src, dst, shift * side, ports)
            if not _hits(candidate, others):
                curve = candidate
                break
    (x1, y1), (c1x, c1y), (c2x, c2y), (x2, y2) = curve
    d = (f"M{_fmt(x1)},{_fmt(y1)} C{_fmt(c1x)},{_fmt(c1y)} {_fmt(c2x)},{_fmt(c2y)} "
         f"{_fmt(x2)},{_fmt(y2)}")
    return f'<path d="{d}" {attrs}><title>{_esc(label)}</title></path>'


def _legend_symbol(kind: str) -> str:
    if kind == "dynamic":
        return (f'<ellipse cx="16" cy="9" rx="15" ry="8" fill="#fff" stroke="{_DYN}" '
                'stroke-width="1.6"/>')
    if kind == "static":
        return (f'<rect x="2" y="1" width="28" height="16" rx="3" fill="#fff" stroke="{_STAT}" '
                'stroke-width="2.2"/>')
    if kind == "observed":
        return (f'<ellipse cx="16" cy="9" rx="15" ry="8" fill="{_OBS}" stroke="{_DYN}" '
                'stroke-width="1.6"/>')
    if kind == "partial":
        return ('<ellipse cx="16" cy="9" rx="15" ry="8" fill="url(#bg-half)" '
                f'stroke="{_DYN}" stroke-width="1.6"/>')
    if kind == "dependency":
        return (f'<path d="M1,9 H29" stroke="{_DEP}" stroke-width="1.4" '
                'marker-end="url(#bg-arrow)"/>')
    if kind == "link":
        return (f'<path d="M1,9 H29" stroke="{_LINK}" stroke-width="1.4" '
                'stroke-dasharray="6 4" marker-end="url(#bg-arrow-link)"/>')
    fill, stroke = _BOX_FILL["plate"], _BOX_STROKE["plate"]
    return "".join(f'<rect x="{2 + k * 3}" y="{1 + k * 3}" width="24" height="12" rx="3" '
                   f'fill="{fill}" stroke="{stroke}"/>' for k in (2, 1, 0))


_MARKER = ('<marker id="{id}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
           'markerHeight="7" orient="auto-start-reverse">'
           '<path d="M0,0 L10,5 L0,10 z" fill="{colour}"/></marker>')
_DEFS = ("<defs>" + _MARKER.format(id="bg-arrow", colour=_DEP)
         + _MARKER.format(id="bg-arrow-link", colour=_LINK)
         + '<linearGradient id="bg-half" x1="0" x2="1" y1="0" y2="0">'
         f'<stop offset="0.5" stop-color="{_OBS}"/><stop offset="0.5" stop-color="#ffffff"/>'
         "</linearGradient></defs>")

_STYLE = """<style>
#ID { font-family: DejaVu Sans, Verdana, Arial, Helvetica, sans-serif; color: #1d2733; }
#ID .bg-bar { margin: 4px 0 6px; font-size: 13px; }
#ID .bg-bar button { margin-left: 4px; min-width: 28px; font-size: 12px; cursor: pointer; }
#ID .bg-muted { color: #5b6673; }
#ID .bg-canvas { overflow: auto; max-width: 100%; max-height: 85vh; width: fit-content;
  border: 1px solid #dde3ea; }
#ID .bg-canvas svg { display: block; }
#ID .bg-plate { cursor: pointer; }
#ID .bg-edge.bg-hot { stroke: #e67e22; stroke-width: 2.6; }
#ID details { margin: 6px 0; font-size: 13px; }
#ID details summary { cursor: pointer; }
#ID details.bg-flash > summary { background: #fff3c4; }
#ID .bg-names { max-height: 12em; overflow: auto; font-size: 12px; color: #5b6673;
  margin: 4px 0 8px; line-height: 1.5; }
</style>"""

# Zoom buttons; clicking a plate opens its member list; hovering a node highlights its arrows.
_SCRIPT = """(function () {
  var view = document.getElementById("#ID");
  if (!view) { return; }
  var svg = view.querySelector(".bg-canvas svg");
  var w0 = svg.width.baseVal.value, h0 = svg.height.baseVal.value, scale = 1;
  view.querySelectorAll("button[data-zoom]").forEach(function (button) {
    button.addEventListener("click", function () {
      var f = parseFloat(button.getAttribute("data-zoom"));
      scale = f ? Math.min(8, Math.max(0.1, scale * f)) : 1;
      svg.setAttribute("width", w0 * scale);
      svg.setAttribute("height", h0 * scale);
    });
  });
  svg.querySelectorAll(".bg-plate").forEach(function (plate) {
    plate.addEventListener("click", function (event) {
      var details = document.getElementById("#ID-" + plate.id);
      if (!details) { return; }
      event.stopPropagation();
      details.open = true;
      details.classList.add("bg-flash");
      setTimeout(function () { details.classList.remove("bg-flash"); }, 1200);
      details.scrollIntoView({behavior: "smooth", block: "nearest"});
    });
  });
  svg.querySelectorAll(".bg-node").forEach(function (node) {
    var edges = svg.querySelectorAll('.bg-edge[data-source="' + node.id + '"], ' +
                                     '.bg-edge[data-target="' + node.id + '"]');
    node.addEventListener("mouseenter", function () {
      edges.forEach(function (e) { e.classList.add("bg-hot"); });
    });
    node.addEventListener("mouseleave", function () {
      edges.forEach(function (e) { e.classList.remove("bg-hot"); });
    });
  });
  view.setAttribute("data-ready", "1");
})();"""


def in_notebook() -> bool:
    """Whether the code runs in a Jupyter kernel (IPython's ``ZMQInteractiveShell``).

    IPython is not imported here: a script that has not imported it is not in a notebook.

    Examples
    --------
    >>> in_notebook()
    False
    """
    ipython = sys.modules.get("IPython")
    if ipython is None:
        return False
    shell = ipython.get_ipython() if hasattr(ipython, "get_ipython") else None
    return shell is not None and type(shell).__name__ in ("ZMQInteractiveShell", "Shell")


def display(pic: Picture) -> None:
    """Display ``pic`` in the running notebook (IPython.display).

    Examples
    --------
    >>> callable(display)
    True
    """
    from IPython.display import display as ipython_display  # only called in a notebook

    ipython_display(pic)

