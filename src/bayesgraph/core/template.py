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

import numpy as np

from bayesgraph.core.linking import link
from bayesgraph.core.operator.operators import ExpressionLeaf, Operator, make
from bayesgraph.core.scope import (
    Blueprint,
    NamedObject,
    Scopetor,
    detached_scope,
    inside,
    user_frame,
)
from bayesgraph.exceptions import GraphStructureError

# This module sits above scopes and links and below variables, entities and graphs: it knows
# them only through their attributes (variables are expression leaves with a shape, a
# distribution and a dtype; a scope's constructor may create children of its own, as a
# graph creates ``inputs`` and ``outputs``), and those classes inherit :class:`Copyable`.


def _build(obj: NamedObject, name: str, mapping: dict, frame: FrameType | None,
           register: bool) -> NamedObject:
    """Create the structure of ``obj`` (no parameters yet) in the current scope."""
    if isinstance(obj, ExpressionLeaf):
        new = type(obj)(name, shape=obj.shape, frame=frame, distribution=type(obj.distribution),
                        dtype=obj.dtype, _register=register)
        object.__setattr__(new, "_constraint", obj.constraint)  # frozen: shared safely
    else:
        new = type(obj)(name, frame=frame, _register=register)
    mapping[obj] = new
    if isinstance(obj, Scopetor):
        with inside(new):
            for child_name, child in obj._children.items():
                existing = new._children.get(child_name)
                if existing is not None:  # made by the constructor (a graph's inputs/outputs)
                    mapping[child] = existing
                    with inside(existing):
                        for grand_name, grand in child._children.items():
                            _build(grand, grand_name, mapping, None, False)
                    continue
                _build(child, child_name, mapping, None, False)
    return new


def _remap(node: Any, mapping: dict, strict: bool, root: NamedObject, owner: Any) -> Any:
    if isinstance(node, ExpressionLeaf):
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
    for old, new in mapping.items():
        if isinstance(old, ExpressionLeaf):
            source, target = old.distribution, new.distribution
            if type(source) is type(target) and not target._values \
                    and new.__dict__.get("_link_in") is None:
                # the values were checked when they were set, by the same distribution class,
                # at most one per group: copied as they are (constants as fresh arrays, as
                # set_parameter would make them), without checking them again
                target._values = {
                    key: value.copy() if isinstance(value, np.ndarray)
                    else _remap(value, mapping, strict, root, old)
                    for key, value in source._values.items()}
                continue
            for key, value in source._values.items():
                new._set_parameter(key, _remap(value, mapping, strict, root, old))


def _copy_links(mapping: dict) -> None:
    """Re-make, between the copies, the links kept by the graphs inside the copied object.

    A graph keeps only links whose both ends lie inside it, so both ends have copies; links
    kept by graphs outside the copied object (wiring it to its surroundings) are not copied:
    a copy is i.i.d. with the original, not wired like it.
    """
    for old in list(mapping):
        for old_link in old.__dict__.get("_links", ()):
            link(mapping[old_link.source], mapping[old_link.target], name=old_link.name)


def _instantiate(prototype: NamedObject, name: str, frame: FrameType | None, register: bool,
                 strict: bool, root: NamedObject) -> NamedObject:
    mapping: dict = {}
    new = _build(prototype, name, mapping, frame, register)
    _copy_parameters(mapping, strict, root)
    _copy_links(mapping)
    return new


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
        Refuse objects whose expressions or links reach variables outside them.
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
    return _instantiate(obj, name or obj.name, frame or user_frame(), True, strict, obj)


class Template(Blueprint):
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
            self._snapshot = _instantiate(prototype, prototype.name, None, False, False,
                                          prototype)

    def __call__(self, name: str, frame: FrameType | None = None) -> NamedObject:
        """Build a new instance named ``name`` in the current scope."""
        return _instantiate(self._snapshot, name, frame or user_frame(), True, False,
                            self._snapshot)

    def __repr__(self) -> str:
        return f"<bayesgraph.Template {self.name!r}>"


class Copyable:
    """``copy`` and ``get_template`` for graphs, entities and variables.

    Examples
    --------
    >>> from bayesgraph.core import Entity, Variable
    >>> with Entity("car") as car:
    ...     _ = Variable("power", mean=160., variance=4.)
    >>> car.copy("car2").power.global_name
    'car2/power'
    """

    def copy(self, name: str | None = None, strict: bool = True) -> NamedObject:
        """Create an i.i.d. copy in the current scope (see :func:`copy_object`).

        Examples
        --------
        >>> from bayesgraph.core import Variable
        >>> v = Variable("v", shape=(3,), mean=(0.4, 1.4, 2.4), variance=(0.2, 1.2, 2.2))
        >>> w = v.copy("w")
        >>> v.shape == w.shape, bool(all(v.mean.value == w.mean.value))
        (True, True)
        """
        return copy_object(self, name, strict=strict)  # type: ignore[arg-type]

    def get_template(self, name: str | None = None) -> Template:
        """Return a :class:`Template` that builds copies of this object.

        Examples
        --------
        >>> from bayesgraph.core import Entity, Graph, Variable
        >>> with Entity("woman") as woman:
        ...     _ = Variable("height", mean=167, variance=25)
        >>> Woman = woman.get_template("Woman")
        >>> with Graph("family") as family:
        ...     alice = Woman("alice")
        >>> family.alice.height.global_name
        'family/alice/height'
        """
        return Template(self, name)  # type: ignore[arg-type]
