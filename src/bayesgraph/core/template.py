"""Copies and templates of entities, graphs and variables.

``obj.copy(name)`` builds, in the current scope, an object with the same structure and
distributions whose variables are independent of (i.i.d. with) the original's. Parameter
expressions that read variables *inside* the copied object are redirected to the copy's own
variables. Expressions that read variables *outside* it make the object "not self-contained":
``copy(strict=True)`` refuses it, ``strict=False`` keeps reading the outside variables.

``obj.get_template(name)`` snapshots the object now; calling the template with a name builds
a fresh copy in the current scope each time (templates are not strict, like classes that
refer to module globals).

Examples
--------
>>> from bayesgraph.core import Entity, Graph, Variable
>>> with Entity("man") as man:
...     _ = Variable("genetic_factor", mean=0, variance=75)
...     _ = Variable("height", mean=175 + genetic_factor, variance=25)
>>> Man = man.get_template("Man")
>>> with Graph("family") as family:
...     bob = Man("bob")
>>> bob.height.get_parents()[0] is bob.genetic_factor
True
"""

from __future__ import annotations

from types import FrameType
from typing import Any

from bayesgraph.core.operator.operators import Operator, make
from bayesgraph.core.scope import NamedObject, Scopetor, detached_scope, inside, user_frame
from bayesgraph.exceptions import GraphStructureError


def _build(obj: NamedObject, name: str, mapping: dict, frame: FrameType | None,
           register: bool) -> NamedObject:
    """Create the structure of ``obj`` (no parameters yet) in the current scope."""
    from bayesgraph.core.graph.graph import Graph
    from bayesgraph.core.variable.variable import VariableBase

    if isinstance(obj, VariableBase):
        new = type(obj)(name, shape=obj.shape, frame=frame, distribution=type(obj.distribution),
                        dtype=obj.dtype, _register=register)
        object.__setattr__(new, "_constraint", obj.constraint)  # frozen: shared safely
    else:
        new = type(obj)(name, frame=frame, _register=register)
    mapping[obj] = new
    if isinstance(obj, Scopetor):
        with inside(new):
            for child_name, child in obj._children.items():
                if isinstance(obj, Graph) and child_name in ("inputs", "outputs"):
                    existing = new._children[child_name]
                    mapping[child] = existing
                    with inside(existing):
                        for grand_name, grand in child._children.items():
                            _build(grand, grand_name, mapping, None, False)
                    continue
                _build(child, child_name, mapping, None, False)
    return new


def _remap(node: Any, mapping: dict, strict: bool, root: NamedObject, owner: Any) -> Any:
    from bayesgraph.core.variable.variable import VariableBase

    if isinstance(node, VariableBase):
        if node in mapping:
            return mapping[node]
        if strict:
            raise GraphStructureError(
                f"cannot copy {root.global_name!r} with strict=True: {owner.global_name!r} "
                f"reads {node.global_name!r}, which lies outside it; use strict=False to keep "
                "reading the outside variable"
            )
        return node
    if isinstance(node, Operator):
        return make(node.op, *[_remap(a, mapping, strict, root, owner) for a in node.args],
                    **node.kwargs)
    return node


def _copy_parameters(mapping: dict, strict: bool, root: NamedObject) -> None:
    from bayesgraph.core.variable.variable import VariableBase

    for old, new in mapping.items():
        if isinstance(old, VariableBase):
            for key, value in old.distribution._values.items():
                new._set_parameter(key, _remap(value, mapping, strict, root, old))


def copy_object(obj: NamedObject, name: str | None = None, *, strict: bool = True,
                frame: FrameType | None = None) -> NamedObject:
    """Copy ``obj`` (a graph, entity or variable) into the current scope.

    Parameters
    ----------
    obj : Graph, Entity or Variable
        What to copy.
    name : str, optional
        The copy's name (default: the original's name).
    strict : bool
        Refuse objects whose expressions read variables outside them.
    frame : frame, optional
        The frame in which to bind the copy's name (default: the caller's).

    Examples
    --------
    >>> from bayesgraph.core import Variable
    >>> a = Variable("a")
    >>> b = Variable("b", mean=a)
    >>> b.copy("c", strict=False).get_parents()[0] is a
    True
    """
    mapping: dict = {}
    new = _build(obj, name or obj.name, mapping, frame or user_frame(), True)
    _copy_parameters(mapping, strict, obj)
    return new


class Template:
    """A callable that builds structurally identical, independent copies of a prototype.

    Parameters
    ----------
    prototype : Graph, Entity or Variable
        The object to snapshot (its state at this moment is used).
    name : str, optional
        The template's name (default: the prototype's name).

    Examples
    --------
    >>> from bayesgraph.core import Entity, Variable
    >>> with Entity("woman") as woman:
    ...     _ = Variable("height", mean=167, variance=25)
    >>> Woman = woman.get_template("Woman")
    >>> Woman.name, Woman("alice").height.global_name
    ('Woman', 'alice/height')
    """

    def __init__(self, prototype: NamedObject, name: str | None = None) -> None:
        self.name = name or prototype.name
        with detached_scope():
            mapping: dict = {}
            self._snapshot = _build(prototype, prototype.name, mapping, None, False)
            _copy_parameters(mapping, False, prototype)

    def __call__(self, name: str, frame: FrameType | None = None) -> NamedObject:
        """Build a new instance named ``name`` in the current scope."""
        mapping: dict = {}
        new = _build(self._snapshot, name, mapping, frame or user_frame(), True)
        _copy_parameters(mapping, False, self._snapshot)
        return new

    def __repr__(self) -> str:
        return f"<bayesgraph.Template {self.name!r}>"
