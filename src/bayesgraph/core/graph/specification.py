"""Graph files: a versioned JSON format that writes and reads every graph exactly.

A graph is written as a JSON document ``{"format": "bayesgraph", "version": 1, "root":
...}`` (see ``docs/files.md`` for the whole format). It holds the structure (graphs with
their ``inputs`` and ``outputs``, entities, dynamic and static variables, in creation order),
each variable's shape, dtype, distribution, the parameters *the user set* (defaults are left
out, so they stay defaults), its constraint, the expressions (operator trees whose leaves are
paths to variables relative to the written root, and constants written as dtype, shape and
data) and the graphs' links.

Reading consults nothing but bayesgraph's own registries: the distribution classes of
:data:`~bayesgraph.core.distribution.DISTRIBUTIONS` and the operators of
:data:`~bayesgraph.core.operator.operators.OPERATOR_TABLE`. It never executes code and never
imports a module named in the file. Sizes are checked before anything is built (the text's
length, its nesting depth, the number of objects, each array's size, see :class:`Limits`).
Every problem raises :class:`~bayesgraph.exceptions.SpecificationError` with the JSON pointer
of the offending place, e.g. ``/root/children/2/parameters/mean``.

This module does not import :mod:`bayesgraph.core.graph.graph` (which imports it): the
graph class to build is passed in.

Examples
--------
>>> from bayesgraph.core import Graph, Variable
>>> with Graph("g") as g:
...     z = Variable("z", mean=0, variance=2)
...     x = Variable("x", mean=2 * z)
>>> spec = to_specification(g, graph_class=Graph)
>>> spec["root"]["children"][1]["parameters"]["mean"]["op"]
'multiply'
>>> h = from_specification(spec, graph_class=Graph)
>>> h.x.get_parents() == [h.z], h.x.distribution.is_set("variance")
(True, False)
"""

from __future__ import annotations

import json
import math
import os
import tempfile
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from bayesgraph.core.distribution import DISTRIBUTIONS
from bayesgraph.core.entity.entity import Entity
from bayesgraph.core.linking import link
from bayesgraph.core.operator.operators import (
    OPERATOR_TABLE,
    IndexArray,
    Operand,
    Operator,
    make,
)
from bayesgraph.core.scope import (
    NamedObject,
    Scopetor,
    current_scope,
    detached_scope,
    inside,
    no_name_injection,
)
from bayesgraph.core.variable.constraint import Constraint
from bayesgraph.core.variable.variable import StaticVariable, Variable, VariableBase
from bayesgraph.exceptions import BayesGraphError, SpecificationError

__all__ = ["FORMAT", "VERSION", "Limits", "to_specification", "from_specification",
           "dumps", "parse", "read_file", "write_file"]

#: the value of the document's ``"format"`` key
FORMAT = "bayesgraph"
#: the format version this bayesgraph writes and reads
VERSION = 1

_DTYPES = ("bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
           "float16", "float32", "float64")
_NONFINITE = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}
_KINDS = ("graph", "entity", "variable", "static_variable")
_VARIABLE_DTYPES = ("float", "int", "bool")
_MAX_NDIM = 32
_MAX_INT_DIGITS = 40


@dataclass(frozen=True)
class Limits:
    """Sizes beyond which a graph file is refused (before anything is built).

    Attributes
    ----------
    max_bytes : int
        Length of the JSON text (bytes of a file, characters of a string).
    max_depth : int
        Nesting depth of JSON objects and arrays. Each level of an expression takes two
        (the operator object and its ``args`` list), so the default allows expressions about
        200 operators deep (a sum of 200 terms written ``a + b + ...``).
    max_nodes : int
        Number of JSON objects and arrays in the document.
    max_array_size : int
        Entries of one constant array, and of one variable's shape.
    max_name_length : int
        Characters of a name or of a string value.

    Examples
    --------
    >>> Limits().max_depth
    400
    >>> Limits(max_bytes=1000).max_bytes
    1000
    """

    max_bytes: int = 100 * 2**20
    max_depth: int = 400
    max_nodes: int = 5_000_000
    max_array_size: int = 10_000_000
    max_name_length: int = 256


_DEFAULT_LIMITS = Limits()


# -- JSON pointers and shared checks -----------------------------------------------------------

def _ptr(base: str, key: Any) -> str:
    """The JSON pointer of ``key`` below ``base`` (RFC 6901 escapes)."""
    if type(key) is int:
        return f"{base}/{key}"
    key = str(key)
    if "~" in key or "/" in key:
        key = key.replace("~", "~0").replace("/", "~1")
    return f"{base}/{key}"


def _where(pointer: str | None) -> str:
    if pointer is None:
        return "in the graph file"
    return f"at {pointer or '/'} (JSON pointer) in the graph file"


def _fail(pointer: str | None, message: str) -> SpecificationError:
    return SpecificationError(f"{_where(pointer)}: {message}", pointer)


def _name_problem(name: Any, limits: Limits) -> str | None:
    """Why ``name`` cannot be a name in a graph file, or ``None`` if it can."""
    if not isinstance(name, str):
        return f"a name must be a string, got {_show(name)}"
    if not name:
        return "a name must not be empty"
    if "/" in name:
        return f"name {name!r} contains '/', which separates the parts of a path"
    if len(name) > limits.max_name_length:
        return (f"name {name[:40]!r}... has {len(name)} characters; at most "
                f"{limits.max_name_length} are allowed")
    if any(unicodedata.category(c)[0] == "C" for c in name):
        return f"name {name!r} contains control or unassigned characters"
    if name.startswith("__"):
        return (f"name {name!r} starts with '__'; names of Python's special attributes are "
                "refused in graph files (rename the object)")
    return None


def _show(value: Any) -> str:
    """A short description of a JSON value for messages."""
    kinds = ((dict, "an object"), (list, "an array"), (str, "a string"), (bool, "a boolean"),
             (int, "a number"), (float, "a number"), (type(None), "null"))
    kind = next((k for t, k in kinds if isinstance(value, t)), None)
    if kind is None:
        return f"a Python {type(value).__name__}"
    text = json.dumps(value, allow_nan=True, default=repr) if not isinstance(
        value, (dict, list)) else ""
    if len(text) > 40:
        text = text[:37] + "..."
    return f"{kind} {text}".rstrip()


def check_limits(document: Any, limits: Limits = _DEFAULT_LIMITS, *,
                 writing: bool = False) -> None:
    """Check the nesting depth and the number of objects of a JSON-like document.

    The walk is iterative, so a document nested deeper than Python's recursion limit, or a
    dict that contains itself, is refused instead of crashing. The ``data`` arrays of
    constants are counted but not walked (their entries are checked when they are read).

    Raises
    ------
    SpecificationError
        With the pointer of the first object beyond a limit.

    Examples
    --------
    >>> check_limits({"a": [[[]]]}, Limits(max_depth=3))
    Traceback (most recent call last):
    ...
    bayesgraph.exceptions.SpecificationError: at /a/0/0 (JSON pointer) in the graph file: ...
    """
    intro = "the graph would make a file that bayesgraph cannot read back: " if writing else ""

    def pointer_of(place: tuple | None) -> str:  # built only for the message
        keys = []
        while place is not None:
            place, key = place
            keys.append(key)
        pointer = ""
        for key in reversed(keys):
            pointer = _ptr(pointer, key)
        return pointer

    # entries: (value, depth, place); place is (parent place, key), a linked list of keys
    stack: list[tuple[Any, int, tuple | None]] = [(document, 1, None)]
    nodes = 0
    max_nodes, max_depth = limits.max_nodes, limits.max_depth
    while stack:
        value, depth, place = stack.pop()
        nodes += 1
        if nodes > max_nodes:
            raise _fail(pointer_of(place), f"{intro}more than {max_nodes} JSON objects and "
                                           "arrays (Limits.max_nodes)")
        if depth > max_depth:
            raise _fail(pointer_of(place), f"{intro}nested deeper than {max_depth} levels "
                                           "(Limits.max_depth)")
        if isinstance(value, dict):
            items = value.items()
        elif isinstance(value, list) and (place is None or place[1] != "data"):
            items = enumerate(value)  # the data of constants are not walked
        else:
            continue
        for key, item in items:
            if isinstance(item, (dict, list)):
                stack.append((item, depth + 1, (place, key)))


# -- writing -----------------------------------------------------------------------------------

class _Encoder:
    def __init__(self, root: NamedObject, graph_class: type, limits: Limits) -> None:
        self.root = root
        self.graph_class = graph_class
        self.limits = limits
        self.nodes = 0

    def fail(self, pointer: str, message: str) -> SpecificationError:
        return SpecificationError(
            f"cannot write {self.root.global_name!r}: {message} (at {pointer or '/'} of the "
            "file being written)", pointer)

    def count(self, pointer: str) -> None:
        self.nodes += 1
        if self.nodes > self.limits.max_nodes:
            raise self.fail(pointer, f"more than {self.limits.max_nodes} objects "
                                     "(Limits.max_nodes); an expression used many times is "
                                     "written once per use")

    def path(self, obj: NamedObject, pointer: str, reader: str) -> str:
        parts = []
        current: NamedObject | None = obj
        while current is not None and current is not self.root:
            parts.append(current.name)
            current = current.scope
        if current is None:
            raise self.fail(pointer, f"{reader} reads {obj.global_name!r}, which lies outside "
                                     f"{self.root.global_name!r}; write a graph that contains "
                                     "both, or copy the variable in")
        return "/".join(reversed(parts))

    def name(self, obj: NamedObject, pointer: str) -> str:
        problem = _name_problem(obj.name, self.limits)
        if problem:
            raise self.fail(pointer, f"{obj.global_name!r}: {problem}")
        return obj.name

    def node(self, obj: NamedObject, pointer: str, depth: int = 0) -> dict[str, Any]:
        self.count(pointer)
        if 2 * depth + 2 > self.limits.max_depth:  # a node and its children list: two levels
            raise self.fail(pointer, f"{obj.global_name!r} is nested more than "
                                     f"{self.limits.max_depth // 2} scopes deep "
                                     "(Limits.max_depth)")
        if isinstance(obj, VariableBase):
            return self.variable(obj, pointer, depth)
        if isinstance(obj, self.graph_class):
            children = obj._children
            inputs, outputs = children["inputs"], children["outputs"]
            return {
                "kind": "graph",
                "name": self.name(obj, pointer),
                "inputs": self.children(inputs, _ptr(pointer, "inputs"), depth),
                "outputs": self.children(outputs, _ptr(pointer, "outputs"), depth),
                "children": [self.node(c, _ptr(_ptr(pointer, "children"), i), depth + 1)
                             for i, c in
                             enumerate(c for c in children.values()
                                       if c is not inputs and c is not outputs)],
                "links": encode_links(obj, self, _ptr(pointer, "links")),
            }
        if isinstance(obj, Entity):
            return {"kind": "entity", "name": self.name(obj, pointer),
                    "children": self.children(obj, _ptr(pointer, "children"), depth)}
        raise self.fail(pointer, f"{obj.global_name!r} is a {type(obj).__name__}, which graph "
                                 "files cannot hold (graphs, entities and variables only)")

    def children(self, scope: Scopetor, pointer: str, depth: int) -> list[dict[str, Any]]:
        return [self.node(c, _ptr(pointer, i), depth + 1)
                for i, c in enumerate(scope._children.values())]

    def variable(self, var: VariableBase, pointer: str, depth: int) -> dict[str, Any]:
        dist = var.distribution
        dist_name = type(dist).__name__
        if DISTRIBUTIONS.get(dist_name) is not type(dist):
            raise self.fail(pointer, f"{var.global_name!r} has the distribution "
                                     f"{type(dist).__module__}.{type(dist).__qualname__}, "
                                     "which is not one of bayesgraph's distributions")
        size = math.prod(var.shape)
        if size > self.limits.max_array_size or len(var.shape) > _MAX_NDIM:
            raise self.fail(pointer, f"{var.global_name!r} has shape {var.shape}, beyond "
                                     "Limits.max_array_size")
        constraint = var.constraint
        params = _ptr(pointer, "parameters")
        return {
            "kind": "variable" if var.is_dynamic else "static_variable",
            "name": self.name(var, pointer),
            "shape": list(var.shape),
            "dtype": var.dtype,
            "distribution": dist_name,
            "parameters": {key: self.expr(value, _ptr(params, key), 0,
                                          f"parameter {key!r} of {var.global_name!r}")
                           for key, value in dist._values.items()},
            "constraint": None if constraint is None else {
                "lower": constraint.lower, "upper": constraint.upper,
                "ordered": constraint.ordered},
            "children": self.children(var, _ptr(pointer, "children"), depth),
        }

    def expr(self, node: Any, pointer: str, depth: int, reader: str) -> Any:
        self.count(pointer)
        if 2 * depth > self.limits.max_depth:  # an operator and its args list: two levels
            raise self.fail(pointer, f"{reader} is an expression more than "
                                     f"{self.limits.max_depth // 2} operators deep "
                                     "(Limits.max_depth)")
        if isinstance(node, VariableBase):
            return {"type": "variable", "path": self.path(node, pointer, reader)}
        if isinstance(node, Operator):
            if node.op not in OPERATOR_TABLE:
                raise self.fail(pointer, f"{reader} uses the unknown operator {node.op!r}")
            return {
                "type": "operator",
                "op": node.op,
                "args": [self.expr(a, _ptr(_ptr(pointer, "args"), i), depth + 1, reader)
                         for i, a in enumerate(node.args)],
                "kwargs": {key: self.value(v, _ptr(_ptr(pointer, "kwargs"), key), depth + 1,
                                           reader) for key, v in node.kwargs.items()},
            }
        if isinstance(node, (bool, int, float, np.generic)):
            node = np.asarray(node)  # a bare number among operands: a 0-d constant
        if isinstance(node, np.ndarray):
            if node.dtype == np.float64 and node.ndim == 0 and math.isfinite(node.item()):
                return node.item()  # the short form of a float64 scalar
            return self.array(node, pointer, reader)
        raise self.fail(pointer, f"{reader} holds {node!r} ({type(node).__name__}), which is "
                                 "neither a variable, an operator nor a numpy constant")

    def array(self, array: np.ndarray, pointer: str, reader: str) -> dict[str, Any]:
        name = array.dtype.name
        if name not in _DTYPES:
            raise self.fail(pointer, f"{reader} holds a constant of dtype {array.dtype}; "
                                     f"graph files hold {', '.join(_DTYPES)}")
        if array.size > self.limits.max_array_size:
            raise self.fail(pointer, f"{reader} holds a constant of {array.size} entries, more "
                                     f"than Limits.max_array_size = "
                                     f"{self.limits.max_array_size}")
        data = array.ravel().tolist()
        if array.dtype.kind == "f" and not np.all(np.isfinite(array)):
            data = [x if math.isfinite(x) else ("nan" if x != x else "inf" if x > 0 else "-inf")
                    for x in data]
        return {"type": "constant", "dtype": name, "shape": list(array.shape), "data": data}

    def value(self, value: Any, pointer: str, depth: int, reader: str) -> Any:
        """A static keyword argument of an operator (axis, shape, index key, ...)."""
        self.count(pointer)
        if depth > self.limits.max_depth:
            raise self.fail(pointer, f"{reader}: a keyword argument nested too deeply")
        if isinstance(value, np.generic) and value.dtype.name in _DTYPES:
            item = value.item()  # numpy scalars keep their type (np.float64 is a float)
            if isinstance(item, float) and not math.isfinite(item):
                item = "nan" if item != item else "inf" if item > 0 else "-inf"
            return {"type": "scalar", "dtype": value.dtype.name, "value": item}
        if value is None or isinstance(value, bool):
            return value
        if isinstance(value, str):
            if len(value) > self.limits.max_name_length:
                raise self.fail(pointer, f"{reader}: a string keyword argument is too long")
            return value
        if isinstance(value, int):
            if len(str(abs(value))) > _MAX_INT_DIGITS:
                raise self.fail(pointer, f"{reader}: the integer {value} is too large")
            return value
        if isinstance(value, float):
            if math.isfinite(value):
                return value
            return {"type": "float", "value": "nan" if value != value else
                    "inf" if value > 0 else "-inf"}
        if isinstance(value, IndexArray):
            return {"type": "index_array", "items": [int(i) for i in value]}
        if isinstance(value, (tuple, list)):
            items = [self.value(v, _ptr(_ptr(pointer, "items"), i), depth + 2, reader)
                     for i, v in enumerate(value)]
            return {"type": "tuple" if isinstance(value, tuple) else "list", "items": items}
        if isinstance(value, slice):
            return {"type": "slice", **{
                part: self.value(getattr(value, part), _ptr(pointer, part), depth + 1, reader)
                for part in ("start", "stop", "step")}}
        if value is Ellipsis:
            return {"type": "ellipsis"}
        if isinstance(value, Operand):
            return {"type": "operand", "position": value.position}
        if isinstance(value, np.ndarray):
            return self.array(value, pointer, reader)
        raise self.fail(pointer, f"{reader} has the keyword argument {value!r} "
                                 f"({type(value).__name__}), which graph files cannot hold")


def encode_links(graph: Scopetor, encoder: _Encoder, pointer: str) -> list[dict[str, Any]]:
    """The ``links`` of ``graph`` (``graph._links``, in creation order) as JSON objects.

    Each link is ``{"source": path, "target": path, "name": name}``, the paths relative to
    the written root. A graph without links (or a bayesgraph without them) gives ``[]``.

    Examples
    --------
    >>> from bayesgraph.core import Graph
    >>> g = Graph("g")
    >>> encode_links(g, _Encoder(g, Graph, Limits()), "/root/links")
    []
    """
    links = graph.__dict__.get("_links") or ()
    result = []
    for i, lk in enumerate(links):
        at = _ptr(pointer, i)
        encoder.count(at)
        reader = f"link {i} of {graph.global_name!r}"
        name = lk.name
        if name is not None and not isinstance(name, str):
            raise encoder.fail(at, f"{reader} has the name {name!r}, which is not a string")
        result.append({"source": encoder.path(lk.source, _ptr(at, "source"), reader),
                       "target": encoder.path(lk.target, _ptr(at, "target"), reader),
                       "name": name})
    return result


def to_specification(root: NamedObject, *, graph_class: type,
                     limits: Limits | None = None) -> dict[str, Any]:
    """The graph file of ``root`` as a JSON-compatible dict.

    Parameters
    ----------
    root : Graph, Entity or Variable
        What to write; every variable its expressions read must lie inside it.
    graph_class : type
        The graph class (:class:`bayesgraph.core.Graph`), passed in by the caller so that this
        module does not import the graph module.
    limits : Limits, optional
        The sizes the file must respect to be readable (default: :class:`Limits`).

    Raises
    ------
    SpecificationError
        For a variable read from outside ``root`` (the message names both), a name that
        files refuse, or a graph beyond the limits.

    Examples
    --------
    >>> from bayesgraph.core import Graph, Variable
    >>> with Graph("g") as g:
    ...     _ = Variable("v", mean=1.5)
    >>> spec = to_specification(g, graph_class=Graph)
    >>> spec["format"], spec["version"], spec["root"]["children"][0]["parameters"]
    ('bayesgraph', 1, {'mean': 1.5})
    """
    limits = limits or _DEFAULT_LIMITS
    encoder = _Encoder(root, graph_class, limits)
    document = {"format": FORMAT, "version": VERSION, "root": encoder.node(root, "/root")}
    check_limits(document, limits, writing=True)
    return document


def dumps(document: Mapping[str, Any], indent: int | None = None) -> str:
    """The JSON text of a document made by :func:`to_specification`.

    Examples
    --------
    >>> dumps({"format": "bayesgraph", "version": 1})
    '{"format": "bayesgraph", "version": 1}'
    """
    return json.dumps(document, indent=indent, allow_nan=False, ensure_ascii=True)


def write_file(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` to ``path`` atomically (a temporary file renamed over it).

    Examples
    --------
    >>> import os, tempfile
    >>> target = os.path.join(tempfile.mkdtemp(), "g.json")
    >>> write_file(target, "{}")
    >>> with open(target) as handle:
    ...     handle.read()
    '{}'
    """
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"cannot write the graph file {path!r}: the folder {folder!r} "
                                "does not exist; create it first (os.makedirs)")
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=".bayesgraph-", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


# -- parsing -----------------------------------------------------------------------------------


class _HookError(Exception):
    def __init__(self, message: str, literal: str) -> None:
        super().__init__(message)
        self.literal = literal


class _Duplicates(dict):
    """A JSON object that had repeated keys (``duplicates`` lists them)."""

    duplicates: tuple[str, ...] = ()


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        repeated = tuple(dict.fromkeys(k for k, _ in pairs if k in seen or seen.add(k)))
        result = _Duplicates(pairs)
        result.duplicates = repeated
    return result


def _parse_constant(literal: str) -> Any:
    raise _HookError(f"the JSON constant {literal} is not allowed (write non-finite numbers "
                     'as {"type": "float", "value": "nan"}, or "nan"/"inf"/"-inf" in the data '
                     "of a constant)", literal)


def _parse_float(literal: str) -> float:
    value = float(literal)
    if not math.isfinite(value):
        raise _HookError(f"the number {literal[:40]} is too large for a float", literal)
    return value


def _parse_int(literal: str) -> int:
    if len(literal) > _MAX_INT_DIGITS:
        raise _HookError(f"the integer {literal[:40]}... has {len(literal)} digits; at most "
                         f"{_MAX_INT_DIGITS} are allowed", literal)
    return int(literal)


def _json_depth(text: str) -> int:
    """The nesting depth of ``[`` and ``{`` outside strings, in linear time and without
    recursion. Escaped backslashes are blanked first (``str.replace`` pairs them left to right,
    as JSON does), so a quote is escaped exactly when a backslash precedes it; a bracket lies
    inside a string when an odd number of unescaped quotes precedes it."""
    codes = np.frombuffer(text.replace("\\\\", "__").encode("utf-8", errors="replace"),
                          dtype=np.uint8)
    quotes = np.flatnonzero(codes == 34)
    if quotes.size:
        quotes = quotes[(quotes == 0) | (codes[np.maximum(quotes - 1, 0)] != 92)]
    opening = (codes == 91) | (codes == 123)
    brackets = np.flatnonzero(opening | (codes == 93) | (codes == 125))
    outside = np.searchsorted(quotes, brackets) % 2 == 0
    steps = np.where(opening[brackets], 1, -1)[outside]
    return int(np.cumsum(steps).max(initial=0))


def _location(text: str, offset: int) -> str:
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return f"line {line} column {column}"


def parse(text: str | bytes, limits: Limits | None = None) -> Any:
    """Parse the JSON text of a graph file, refusing what is too large or not strict JSON.

    The size and the nesting depth are checked before the text is parsed; ``NaN``,
    ``Infinity``, numbers that overflow a float, integers of more than 40 digits and
    repeated keys are refused.

    Raises
    ------
    SpecificationError
        With the line and column of a syntax error (``pointer`` is ``None``).

    Examples
    --------
    >>> parse('{"version": 1}')
    {'version': 1}
    >>> parse('{"version": 1')
    Traceback (most recent call last):
    ...
    bayesgraph.exceptions.SpecificationError: in the graph file: not valid JSON (truncated ...
    """
    limits = limits or _DEFAULT_LIMITS
    if isinstance(text, (bytes, bytearray)):
        if len(text) > limits.max_bytes:
            raise _fail(None, f"the text has {len(text)} bytes, more than Limits.max_bytes = "
                              f"{limits.max_bytes}")
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError as err:
            raise _fail(None, f"the text is not UTF-8 (byte {err.start})") from None
    if not isinstance(text, str):
        raise _fail(None, f"expected JSON text (str or bytes), got {type(text).__name__}")
    if len(text) > limits.max_bytes:
        raise _fail(None, f"the text has {len(text)} characters, more than Limits.max_bytes = "
                          f"{limits.max_bytes}")
    depth = _json_depth(text)
    if depth > limits.max_depth:
        raise _fail(None, f"the JSON is nested {depth} levels deep, more than "
                          f"Limits.max_depth = {limits.max_depth}")
    try:
        return json.loads(text, object_pairs_hook=_object, parse_constant=_parse_constant,
                          parse_float=_parse_float, parse_int=_parse_int)
    except json.JSONDecodeError as err:
        raise _fail(None, f"not valid JSON (truncated or damaged?): {err.msg} at "
                          f"{_location(text, err.pos)}") from None
    except _HookError as err:
        offset = text.find(err.literal)
        where = f" (first at {_location(text, offset)})" if offset >= 0 else ""
        raise _fail(None, f"{err}{where}") from None
    except RecursionError:  # pragma: no cover - the depth check comes first
        raise _fail(None, "the JSON is nested too deeply") from None


def read_file(path: str | os.PathLike, limits: Limits | None = None) -> bytes:
    """Read a graph file's bytes, refusing a file larger than ``limits.max_bytes``.

    Examples
    --------
    >>> import os, tempfile
    >>> target = os.path.join(tempfile.mkdtemp(), "g.json")
    >>> write_file(target, "{}")
    >>> read_file(target)
    b'{}'
    """
    limits = limits or _DEFAULT_LIMITS
    try:
        size = os.stat(path).st_size
        if size > limits.max_bytes:
            raise _fail(None, f"{os.fspath(path)!r} has {size} bytes, more than "
                              f"Limits.max_bytes = {limits.max_bytes}")
        with open(path, "rb") as handle:
            data = handle.read(limits.max_bytes + 1)  # special files report size 0
    except OSError as err:
        raise SpecificationError(f"cannot read the graph file {os.fspath(path)!r}: "
                                 f"{err.strerror or err}") from None
    if len(data) > limits.max_bytes:
        raise _fail(None, f"{os.fspath(path)!r} has more than Limits.max_bytes = "
                          f"{limits.max_bytes} bytes")
    return data


# -- reading -----------------------------------------------------------------------------------

_UNARY = ("negative", "exp", "log", "log1p", "expm1", "sqrt", "square", "sin", "cos", "tan",
          "arcsin", "arccos", "arctan", "sinh", "cosh", "tanh", "abs", "sign", "sigmoid",
          "softplus", "cholesky", "logdet")
_BINARY = ("add", "subtract", "multiply", "divide", "power", "maximum", "minimum", "greater",
           "less", "greater_equal", "less_equal", "equal", "matmul", "dot")

#: per operator: (fewest operands, most operands or None, allowed kwargs, required kwargs)
SIGNATURES: dict[str, tuple[int, int | None, frozenset[str], frozenset[str]]] = {
    **{op: (1, 1, frozenset(), frozenset()) for op in _UNARY},
    **{op: (2, 2, frozenset(), frozenset()) for op in _BINARY},
    "where": (3, 3, frozenset(), frozenset()),
    "clip": (3, 3, frozenset(), frozenset()),
    **{op: (1, 1, frozenset({"axis"}), frozenset())
       for op in ("sum", "mean", "prod", "max", "min", "logsumexp", "softmax", "cumsum")},
    "reshape": (1, 1, frozenset({"shape"}), frozenset({"shape"})),
    "transpose": (1, 1, frozenset({"axes"}), frozenset()),
    "concatenate": (1, None, frozenset({"axis"}), frozenset()),
    "stack": (1, None, frozenset({"axis"}), frozenset()),
    "getitem": (1, 1, frozenset({"key"}), frozenset({"key"})),
    "index": (2, None, frozenset({"key"}), frozenset({"key"})),
    "solve_triangular": (2, 2, frozenset({"lower"}), frozenset({"lower"})),
    "time_shift": (1, 1, frozenset({"shift", "initial_values"}), frozenset({"shift"})),
}


def _is_int(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def _is_number(value: Any) -> bool:
    return _is_int(value) or isinstance(value, (float, np.floating))


def _int_tuple(value: Any) -> bool:
    return isinstance(value, tuple) and all(_is_int(v) for v in value)


def _key_entry(value: Any, n_operands: int | None) -> bool:
    """Whether ``value`` may be one entry of an index key (``n_operands``: of ``index``)."""
    if value is None or value is Ellipsis or _is_int(value) or isinstance(value, IndexArray):
        return True
    if isinstance(value, slice):
        return all(v is None or _is_int(v) for v in (value.start, value.stop, value.step))
    if isinstance(value, Operand):
        return n_operands is not None and 1 <= value.position <= n_operands
    return False


def _kwarg_problem(op: str, key: str, value: Any, n_args: int) -> str | None:
    """Why ``value`` cannot be the keyword argument ``key`` of ``op``, or ``None``."""
    if key in ("axis",):
        ok = value is None or _is_int(value) or _int_tuple(value)
        return None if ok else "axis must be null, an integer or a tuple of integers"
    if key == "shape":
        return None if _int_tuple(value) else "shape must be a tuple of integers"
    if key == "axes":
        return None if value is None or _int_tuple(value) else (
            "axes must be null or a tuple of integers")
    if key == "lower":
        return None if isinstance(value, bool) else "lower must be true or false"
    if key == "shift":
        return None if _is_int(value) else "shift must be an integer"
    if key == "initial_values":
        ok = (_is_number(value) or isinstance(value, np.ndarray)
              or (isinstance(value, tuple) and all(_is_number(v) for v in value)))
        return None if ok else "initial_values must be a number or a tuple of numbers"
    if key == "key":
        operands = n_args - 1 if op == "index" else None
        if op == "index" and not isinstance(value, tuple):
            return "the key of index must be a tuple"
        entries = value if isinstance(value, tuple) else (value,)
        if all(_key_entry(v, operands) for v in entries):
            return None
        return ("an index key holds integers, slices of integers, null, ellipsis, index "
                "arrays" + (f" and operands 1..{operands}" if operands is not None else ""))
    return None


class _Decoder:
    def __init__(self, graph_class: type, link: Callable[..., Any] | None,
                 limits: Limits) -> None:
        self.graph_class = graph_class
        self.link = link
        self.limits = limits
        self.root: NamedObject | None = None
        self.parameters: list[tuple[VariableBase, str, Any, str]] = []
        self.links: list[tuple[Scopetor, Any, str]] = []

    # -- JSON shapes ---------------------------------------------------------------------
    def obj(self, value: Any, pointer: str, required: tuple[str, ...],
            optional: tuple[str, ...] = ()) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise _fail(pointer, f"expected an object, got {_show(value)}")
        repeated = getattr(value, "duplicates", ())
        if repeated:
            raise _fail(pointer, f"the key {repeated[0]!r} appears more than once")
        for key in value:
            if not isinstance(key, str):
                raise _fail(pointer, f"object keys must be strings, got {key!r}")
        missing = [k for k in required if k not in value]
        if missing:
            raise _fail(pointer, f"the key {missing[0]!r} is missing")
        unknown = [k for k in value if k not in required and k not in optional]
        if unknown:
            valid = ", ".join(repr(k) for k in (*required, *optional))
            raise _fail(_ptr(pointer, unknown[0]), f"unknown key {unknown[0][:60]!r}; valid "
                                                   f"keys here: {valid}")
        return value

    def array_of(self, value: Any, pointer: str) -> list[Any]:
        if not isinstance(value, list):
            raise _fail(pointer, f"expected an array, got {_show(value)}")
        return value

    def string(self, value: Any, pointer: str, choices: tuple[str, ...] | None = None) -> str:
        if not isinstance(value, str):
            raise _fail(pointer, f"expected a string, got {_show(value)}")
        if choices is not None and value not in choices:
            raise _fail(pointer, f"{value[:60]!r} is not one of "
                                 f"{', '.join(repr(c) for c in choices)}")
        if len(value) > self.limits.max_name_length:
            raise _fail(pointer, f"a string of {len(value)} characters; at most "
                                 f"{self.limits.max_name_length} are allowed")
        return value

    def name(self, value: Any, pointer: str) -> str:
        problem = _name_problem(value, self.limits)
        if problem:
            raise _fail(pointer, problem)
        return value

    def integer(self, value: Any, pointer: str, minimum: int | None = None) -> int:
        if not isinstance(value, int) or isinstance(value, bool):
            raise _fail(pointer, f"expected an integer, got {_show(value)}")
        if minimum is not None and value < minimum:
            raise _fail(pointer, f"expected an integer >= {minimum}, got {value}")
        return value

    def shape(self, value: Any, pointer: str) -> tuple[int, ...]:
        entries = self.array_of(value, pointer)
        if len(entries) > _MAX_NDIM:
            raise _fail(pointer, f"a shape of {len(entries)} axes; at most {_MAX_NDIM}")
        shape = tuple(self.integer(v, _ptr(pointer, i), 0) for i, v in enumerate(entries))
        size = math.prod(shape)
        if size > self.limits.max_array_size:
            raise _fail(pointer, f"shape {list(shape)} has {size} entries, more than "
                                 f"Limits.max_array_size = {self.limits.max_array_size}")
        return shape

    def build_error(self, pointer: str, err: Exception) -> SpecificationError:
        error = _fail(pointer, f"{type(err).__name__}: {err}")
        error.__cause__ = err
        return error

    # -- document ------------------------------------------------------------------------
    def document(self, document: Any) -> NamedObject:
        check_limits(document, self.limits)
        doc = self.obj(document, "", ("format", "version", "root"))
        if doc["format"] != FORMAT:
            raise _fail("/format", f"this is not a bayesgraph graph file (format "
                                   f"{_show(doc['format'])}, expected {FORMAT!r})")
        version = doc["version"]
        if not isinstance(version, int) or isinstance(version, bool):
            raise _fail("/version", f"the version must be an integer, got {_show(version)}")
        if version != VERSION:
            newer = " (written by a newer bayesgraph; update bayesgraph)" if (
                version > VERSION) else ""
            raise _fail("/version", f"version {version} cannot be read{newer}; this "
                                    f"bayesgraph reads version {VERSION}")
        with no_name_injection(), detached_scope():
            self.root = self.node(doc["root"], "/root")
            for var, key, value, pointer in self.parameters:
                node = self.expr(value, pointer)
                try:
                    var._set_parameter(key, node)
                except BayesGraphError as err:
                    raise self.build_error(pointer, err) from err
            decode_links(self, self.links)
        return self.root

    # -- structure -----------------------------------------------------------------------
    def node(self, value: Any, pointer: str) -> NamedObject:
        if not isinstance(value, dict):
            raise _fail(pointer, f"expected a graph, entity or variable object, got "
                                 f"{_show(value)}")
        if "kind" not in value:
            raise _fail(pointer, "the key 'kind' is missing")
        kind = self.string(value["kind"], _ptr(pointer, "kind"), _KINDS)
        if kind == "graph":
            return self.graph(value, pointer)
        if kind == "entity":
            spec = self.obj(value, pointer, ("kind", "name"), ("children",))
            name = self.name(spec["name"], _ptr(pointer, "name"))
            entity = self.construct(pointer, lambda: Entity(name, _register=False))
            self.children(entity, spec.get("children", []), _ptr(pointer, "children"))
            return entity
        return self.variable(value, kind, pointer)

    def construct(self, pointer: str, build: Callable[[], Any]) -> Any:
        try:
            return build()
        except BayesGraphError as err:
            raise self.build_error(pointer, err) from err

    def children(self, scope: Scopetor, value: Any, pointer: str) -> None:
        entries = self.array_of(value, pointer)
        with inside(scope):
            for i, child in enumerate(entries):
                self.node(child, _ptr(pointer, i))

    def graph(self, value: Any, pointer: str) -> NamedObject:
        spec = self.obj(value, pointer, ("kind", "name"),
                        ("inputs", "outputs", "children", "links"))
        name = self.name(spec["name"], _ptr(pointer, "name"))
        graph = self.construct(pointer, lambda: self.graph_class(name, _register=False))
        for key in ("inputs", "outputs"):
            self.children(graph._children[key], spec.get(key, []), _ptr(pointer, key))
        self.children(graph, spec.get("children", []), _ptr(pointer, "children"))
        links = self.array_of(spec.get("links", []), _ptr(pointer, "links"))
        if links:
            self.links.append((graph, links, _ptr(pointer, "links")))
        return graph

    def variable(self, value: Any, kind: str, pointer: str) -> NamedObject:
        spec = self.obj(value, pointer, ("kind", "name", "distribution"),
                        ("shape", "dtype", "parameters", "constraint", "children"))
        name = self.name(spec["name"], _ptr(pointer, "name"))
        shape = self.shape(spec.get("shape", []), _ptr(pointer, "shape"))
        dist_name = self.string(spec["distribution"], _ptr(pointer, "distribution"))
        if dist_name not in DISTRIBUTIONS:
            raise _fail(_ptr(pointer, "distribution"),
                        f"unknown distribution {dist_name[:60]!r}; valid: "
                        f"{', '.join(sorted(DISTRIBUTIONS))}")
        dist_cls = DISTRIBUTIONS[dist_name]
        dtype = spec.get("dtype")
        if dtype is not None:
            dtype = self.string(dtype, _ptr(pointer, "dtype"), _VARIABLE_DTYPES)
        parameters = spec.get("parameters", {})
        at = _ptr(pointer, "parameters")
        self.obj(parameters, at, (), tuple(dist_cls.parameter_names()))
        for group in dist_cls.parameter_groups:
            given = [k for k in group if k in parameters]
            if len(given) > 1:
                raise _fail(_ptr(at, given[1]), f"{given[0]!r} and {given[1]!r} are "
                                                f"alternatives of {dist_name}; give one")
        cls = Variable if kind == "variable" else StaticVariable
        var = self.construct(pointer, lambda: cls(name, shape=shape, distribution=dist_cls,
                                                  dtype=dtype, _register=False))
        constraint = spec.get("constraint")
        if constraint is not None:
            c_at = _ptr(pointer, "constraint")
            c = self.obj(constraint, c_at, (), ("lower", "upper", "ordered"))
            bounds = {}
            for side in ("lower", "upper"):
                bound = c.get(side)
                if bound is not None and (isinstance(bound, bool)
                                          or not isinstance(bound, (int, float))):
                    raise _fail(_ptr(c_at, side), f"a bound is a number or null, got "
                                                  f"{_show(bound)}")
                bounds[side] = bound
            ordered = c.get("ordered", False)
            if not isinstance(ordered, bool):
                raise _fail(_ptr(c_at, "ordered"), f"expected true or false, got "
                                                   f"{_show(ordered)}")
            made = self.construct(c_at, lambda: Constraint.make(
                bounds["lower"], bounds["upper"], "ordered" if ordered else None,
                owner=var.global_name))
            object.__setattr__(var, "_constraint", made)
        for key, expression in parameters.items():
            self.parameters.append((var, key, expression, _ptr(at, key)))
        self.children(var, spec.get("children", []), _ptr(pointer, "children"))
        return var

    # -- expressions ---------------------------------------------------------------------
    def resolve(self, value: Any, pointer: str) -> NamedObject:
        path = self.string_path(value, pointer)
        obj: NamedObject = self.root  # type: ignore[assignment]
        if path == "":
            return obj
        for part in path.split("/"):
            children = obj.__dict__.get("_children") if isinstance(obj, Scopetor) else None
            if not children or part not in children:
                raise _fail(pointer, f"the path {path[:120]!r} names nothing: "
                                     f"{obj.global_name!r} has no child {part[:60]!r}")
            obj = children[part]
        return obj

    def string_path(self, value: Any, pointer: str) -> str:
        if not isinstance(value, str):
            raise _fail(pointer, f"a path is a string, got {_show(value)}")
        return value

    def expr(self, value: Any, pointer: str) -> Any:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            if isinstance(value, float) and not math.isfinite(value):
                raise _fail(pointer, "a number in an expression must be finite")
            if isinstance(value, int) and abs(value) > 2**1000:
                raise _fail(pointer, f"the integer {value} does not fit in a float64")
            return np.asarray(float(value), dtype=np.float64)  # a float64 scalar constant
        if not isinstance(value, dict):
            raise _fail(pointer, f"expected an expression object, got {_show(value)}")
        if "type" not in value:
            raise _fail(pointer, "the key 'type' is missing")
        kind = self.string(value["type"], _ptr(pointer, "type"),
                           ("variable", "constant", "operator"))
        if kind == "variable":
            spec = self.obj(value, pointer, ("type", "path"))
            target = self.resolve(spec["path"], _ptr(pointer, "path"))
            if not isinstance(target, VariableBase):
                raise _fail(_ptr(pointer, "path"), f"the path names the "
                                                   f"{type(target).__name__} "
                                                   f"{target.global_name!r}, not a variable")
            return target
        if kind == "constant":
            return self.array(value, pointer)
        spec = self.obj(value, pointer, ("type", "op", "args"), ("kwargs",))
        op = self.string(spec["op"], _ptr(pointer, "op"))
        if op not in OPERATOR_TABLE:
            raise _fail(_ptr(pointer, "op"), f"unknown operator {op[:60]!r}; valid: "
                                             f"{', '.join(sorted(OPERATOR_TABLE))}")
        raw_args = self.array_of(spec["args"], _ptr(pointer, "args"))
        given = spec.get("kwargs", {})
        raw_kwargs = self.obj(given, _ptr(pointer, "kwargs"), (),
                              tuple(given) if isinstance(given, dict) else ())
        signature = SIGNATURES.get(op)
        if signature is not None:
            fewest, most, allowed, required = signature
            if len(raw_args) < fewest or (most is not None and len(raw_args) > most):
                count = str(fewest) if fewest == most else (
                    f"{fewest} or more" if most is None else f"{fewest} to {most}")
                raise _fail(_ptr(pointer, "args"), f"{op} takes {count} operands, got "
                                                   f"{len(raw_args)}")
            for key in raw_kwargs:
                if key not in allowed:
                    raise _fail(_ptr(_ptr(pointer, "kwargs"), key),
                                f"{op} takes no keyword argument {key[:60]!r}; valid: "
                                f"{', '.join(sorted(allowed)) or 'none'}")
            for key in required:
                if key not in raw_kwargs:
                    raise _fail(_ptr(pointer, "kwargs"), f"{op} needs the keyword argument "
                                                         f"{key!r}")
        args = [self.expr(a, _ptr(_ptr(pointer, "args"), i)) for i, a in enumerate(raw_args)]
        kwargs = {}
        for key, raw in raw_kwargs.items():
            at = _ptr(_ptr(pointer, "kwargs"), key)
            kwargs[key] = self.value(raw, at)
            problem = _kwarg_problem(op, key, kwargs[key], len(args))
            if problem:
                raise _fail(at, problem)
        try:
            return make(op, *args, **kwargs)
        except BayesGraphError as err:
            raise self.build_error(pointer, err) from err

    def array(self, value: Any, pointer: str) -> np.ndarray:
        spec = self.obj(value, pointer, ("type", "dtype", "shape", "data"))
        dtype = self.string(spec["dtype"], _ptr(pointer, "dtype"), _DTYPES)
        shape = self.shape(spec["shape"], _ptr(pointer, "shape"))
        data = self.array_of(spec["data"], _ptr(pointer, "data"))
        size = math.prod(shape)
        at = _ptr(pointer, "data")
        if len(data) != size:
            raise _fail(at, f"shape {list(shape)} needs {size} entries, the data have "
                            f"{len(data)} (the data are the entries in row-major order)")
        kind = np.dtype(dtype).kind
        types = set(map(type, data))
        allowed = {"b": {bool}, "i": {int}, "u": {int}, "f": {int, float, str}}[kind]
        if not types <= allowed:
            bad = next(i for i, x in enumerate(data) if type(x) not in allowed)
            what = {"b": "true or false", "i": "integers", "u": "integers",
                    "f": 'numbers or "nan", "inf", "-inf"'}[kind]
            raise _fail(_ptr(at, bad), f"entries of a {dtype} constant are {what}, got "
                                       f"{_show(data[bad])}")
        if str in types:
            for i, x in enumerate(data):
                if isinstance(x, str) and x not in _NONFINITE:
                    raise _fail(_ptr(at, i), f"the string {x[:40]!r} is not a number (only "
                                             '"nan", "inf" and "-inf" are)')
            data = [_NONFINITE[x] if isinstance(x, str) else x for x in data]
        if kind in "iu" and data:
            info = np.iinfo(dtype)
            low, high = min(data), max(data)
            if low < info.min or high > info.max:
                bad = data.index(low if low < info.min else high)
                raise _fail(_ptr(at, bad), f"{data[bad]} does not fit in {dtype}")
        if kind == "f" and float in types:
            finite_max = float(np.finfo(dtype).max)
            for i, x in enumerate(data):
                if isinstance(x, float) and math.isfinite(x) and abs(x) > finite_max:
                    raise _fail(_ptr(at, i), f"{x} does not fit in {dtype}")
        if kind == "f" and int in types:
            for i, x in enumerate(data):
                if type(x) is int and abs(x) > 2**1000:
                    raise _fail(_ptr(at, i), f"the integer {x} does not fit in {dtype}")
        return np.array(data, dtype=dtype).reshape(shape)

    def value(self, value: Any, pointer: str) -> Any:
        if value is None or isinstance(value, (bool, int)):
            return value
        if isinstance(value, float):
            if not math.isfinite(value):
                raise _fail(pointer, 'a non-finite number is written {"type": "float", '
                                     '"value": "nan"}')
            return value
        if isinstance(value, str):
            return self.string(value, pointer)
        if not isinstance(value, dict):
            raise _fail(pointer, f"a keyword argument is null, a boolean, a number, a string "
                                 f"or an object with a 'type', got {_show(value)}")
        if "type" not in value:
            raise _fail(pointer, "the key 'type' is missing")
        kind = self.string(value["type"], _ptr(pointer, "type"),
                           ("tuple", "list", "slice", "index_array", "operand", "ellipsis",
                            "float", "constant", "scalar"))
        if kind in ("tuple", "list"):
            spec = self.obj(value, pointer, ("type", "items"))
            items = self.array_of(spec["items"], _ptr(pointer, "items"))
            decoded = [self.value(v, _ptr(_ptr(pointer, "items"), i))
                       for i, v in enumerate(items)]
            return tuple(decoded) if kind == "tuple" else decoded
        if kind == "slice":
            spec = self.obj(value, pointer, ("type",), ("start", "stop", "step"))
            parts = []
            for part in ("start", "stop", "step"):
                entry = spec.get(part)
                if entry is not None:
                    self.integer(entry, _ptr(pointer, part))
                parts.append(entry)
            return slice(*parts)
        if kind == "index_array":
            spec = self.obj(value, pointer, ("type", "items"))
            items = self.array_of(spec["items"], _ptr(pointer, "items"))
            if len(items) > self.limits.max_array_size:
                raise _fail(_ptr(pointer, "items"), "more entries than "
                                                    "Limits.max_array_size")
            return IndexArray(self.integer(v, _ptr(_ptr(pointer, "items"), i))
                              for i, v in enumerate(items))
        if kind == "operand":
            spec = self.obj(value, pointer, ("type", "position"))
            return Operand(self.integer(spec["position"], _ptr(pointer, "position"), 1))
        if kind == "ellipsis":
            self.obj(value, pointer, ("type",))
            return Ellipsis
        if kind == "float":
            spec = self.obj(value, pointer, ("type", "value"))
            text = self.string(spec["value"], _ptr(pointer, "value"), tuple(_NONFINITE))
            return _NONFINITE[text]
        if kind == "constant":
            return self.array(value, pointer)
        spec = self.obj(value, pointer, ("type", "dtype", "value"))
        dtype = self.string(spec["dtype"], _ptr(pointer, "dtype"), _DTYPES)
        array = self.array({"type": "constant", "dtype": dtype, "shape": [],
                            "data": [spec["value"]]}, pointer)
        return array[()]


def decode_links(decoder: _Decoder, pending: list[tuple[Scopetor, Any, str]]) -> None:
    """Rebuild the links of every graph read, with ``link(source, target, name=name)``
    called inside the graph that owned them (in the order they were written).

    Examples
    --------
    >>> from bayesgraph.core import Graph
    >>> decode_links(_Decoder(Graph, None, Limits()), [])
    """
    if pending and decoder.link is None:
        decoder.link = _link_function()
    for graph, links, pointer in pending:
        if decoder.link is None:
            raise _fail(pointer, "the file has links, but this bayesgraph has no link() "
                                 "(bayesgraph.core.graph.link)")
        for i, raw in enumerate(links):
            at = _ptr(pointer, i)
            spec = decoder.obj(raw, at, ("source", "target"), ("name",))
            source = decoder.resolve(spec["source"], _ptr(at, "source"))
            target = decoder.resolve(spec["target"], _ptr(at, "target"))
            name = spec.get("name")
            if name is not None:
                name = decoder.name(name, _ptr(at, "name"))
            try:
                with inside(graph):
                    decoder.link(source, target, name=name)
            except BayesGraphError as err:
                raise decoder.build_error(at, err) from err


def _link_function() -> Callable[..., Any] | None:
    """bayesgraph's ``link`` (:mod:`bayesgraph.core.linking`, a layer below graphs)."""
    return link


def from_specification(specification: Any, *, graph_class: type,
                       link: Callable[..., Any] | None = None,
                       limits: Limits | None = None, attach: bool = False,
                       expect: type | None = None) -> NamedObject:
    """Build the object a graph file describes.

    Parameters
    ----------
    specification : dict or str or bytes
        The document (as :func:`to_specification` makes it) or its JSON text.
    graph_class : type
        The class to build graphs with.
    link : callable, optional
        ``link(source, target, name=...)`` for the links in the file (default: bayesgraph's
        own, where it exists).
    limits : Limits, optional
        The sizes beyond which the file is refused.
    attach : bool
        Add the object to the current scope (as a constructor called inside a ``with`` block
        would); it is built detached and attached only once complete.
    expect : type, optional
        The class the root must have (``Graph.from_specification`` refuses an entity).

    Raises
    ------
    SpecificationError
        For anything malformed, with the JSON pointer of the place.

    Examples
    --------
    >>> from bayesgraph.core import Graph
    >>> g = from_specification('{"format": "bayesgraph", "version": 1, "root": '
    ...                        '{"kind": "graph", "name": "empty"}}', graph_class=Graph)
    >>> sorted(g.children)
    ['inputs', 'outputs']
    """
    limits = limits or _DEFAULT_LIMITS
    if isinstance(specification, os.PathLike) or (
            isinstance(specification, str) and len(specification) < 4096
            and not specification.lstrip().startswith(("{", "[")) and os.path.isfile(
                specification)):
        raise SpecificationError(f"{os.fspath(specification)!r} is a path, not a graph "
                                 "document: read a file with Graph.from_specification(file=...)")
    document = parse(specification, limits) if isinstance(
        specification, (str, bytes, bytearray)) else specification
    decoder = _Decoder(graph_class, link, limits)
    parent = current_scope() if attach else None
    root = decoder.document(document)
    if expect is not None and not isinstance(root, expect):
        kind = type(root).__name__
        raise _fail("/root/kind", f"the file holds {'an' if kind[0] in 'AEIOU' else 'a'} "
                                  f"{kind}, not a {expect.__name__}")
    if parent is not None:
        parent._add_child(root)
    return root
