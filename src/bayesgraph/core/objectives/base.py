"""The shared base class of the objectives: Halerium's call convention.

An objective is built with everything it needs (graph, data, options) and then called with
the graph elements it should answer for: a variable, an entity, a graph, a global name, or
nested lists, tuples and dicts of them; the result mirrors that structure. Called with no
argument it answers for the graph and all its elements, keyed by global name (the graph's
own entry under its name). ``dump_dict()`` gives the same answers with the objective's
``name`` and ``description``.

Examples
--------
>>> from bayesgraph.core import Graph, Variable
>>> from bayesgraph.core.objectives import ProbabilityEstimator
>>> with Graph("g") as g:
...     _ = Variable("x", mean=0, variance=1)
>>> pe = ProbabilityEstimator(g, {g.x: [0.0]})
>>> sorted(pe())
['g', 'g/x']
>>> pe.dump_dict()["name"]
'ProbabilityEstimator'
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from bayesgraph._structure import rebuild
from bayesgraph.core.scope import NamedObject, Scopetor
from bayesgraph.core.variable.variable import VariableBase
from bayesgraph.exceptions import ExpressionError, MissingVariableError


class ObjectiveBase:
    """Base class of every objective (see the module docstring for the call convention).

    Subclasses implement ``_compute(elements)``: ``elements`` maps a key to a tuple of
    canonical variable names (one variable, or the variables of a scope); the result maps
    the same keys to values.

    Examples
    --------
    >>> from bayesgraph.core.objectives import ObjectiveBase, Predictor
    >>> issubclass(Predictor, ObjectiveBase)
    True
    """

    #: whether a scope gets one value (True) or a dict of its children's values (False)
    scope_is_leaf: bool = True

    def __init__(self, graph: NamedObject, name: str, description: str | None,
                 copy_graph: bool = True) -> None:
        self.graph = graph
        self.name = name
        self.description = description
        self.copy_graph = copy_graph
        self._spec: Any = None

    # -- element resolution ----------------------------------------------------------------
    def _canonical(self, item: VariableBase) -> str:
        name = item.global_name
        if name not in self._spec:
            raise MissingVariableError(
                f"{type(self).__name__}: {name!r} is not a variable of the graph "
                f"{self._spec.root_name!r}; ask for an element of the objective's graph")
        return self._spec.canonical(name)

    def _scope_names(self, scope: Scopetor) -> tuple[str, ...]:
        names: list[str] = []
        for child in scope.children.values():
            if isinstance(child, VariableBase):
                names.append(self._canonical(child))
                names.extend(self._scope_names(child))
            elif isinstance(child, Scopetor):
                names.extend(self._scope_names(child))
        return tuple(dict.fromkeys(names))

    def _lookup(self, text: str) -> Any:
        for candidate in (text, f"{self._spec.root_name}/{text}"):
            found = _find(self.graph, candidate)
            if found is not None:
                return found
        raise MissingVariableError(
            f"{type(self).__name__}: {text!r} names no element of the graph "
            f"{self._spec.root_name!r}")

    def _resolve(self, item: Any, leaves: dict[Any, tuple[str, ...]]) -> Any:
        if isinstance(item, VariableBase):
            name = self._canonical(item)
            leaves[("v", name)] = (name,)
            return _Token(("v", name))
        if isinstance(item, Scopetor):
            if not self.scope_is_leaf:
                out = {}
                for key, child in item.children.items():
                    if isinstance(child, (VariableBase, Scopetor)):
                        value = self._resolve(child, leaves)
                        if not (isinstance(value, dict) and not value):
                            out[key] = value
                return out
            key = ("s", item.global_name)
            leaves[key] = self._scope_names(item)
            return _Token(key)
        if isinstance(item, str):
            return self._resolve(self._lookup(item), leaves)
        if isinstance(item, Mapping):
            return {k: self._resolve(v, leaves) for k, v in item.items()}
        if isinstance(item, (list, tuple)):
            return type(item)(self._resolve(v, leaves) for v in item)
        raise ExpressionError(
            f"{type(self).__name__} cannot answer for {item!r}: give a variable, entity, "
            "graph, global name, or a list/tuple/dict of them")

    def _elements(self) -> list[Any]:
        """The graph and its elements (scopes with variables, and variables), in order."""
        out: list[Any] = []

        def walk(obj: Any) -> None:
            if isinstance(obj, VariableBase):
                out.append(obj)
            elif isinstance(obj, Scopetor):
                if obj is self.graph or self._scope_names(obj):
                    out.append(obj)
            if isinstance(obj, Scopetor):
                for child in obj.children.values():
                    if isinstance(child, (VariableBase, Scopetor)):
                        walk(child)

        walk(self.graph)
        return out

    # -- public API ------------------------------------------------------------------------
    def __call__(self, fetches: Any = None) -> Any:
        """The objective's values for ``fetches`` (default: everything, keyed by name)."""
        if fetches is None:
            elements = [e for e in self._elements()
                        if self.scope_is_leaf or isinstance(e, VariableBase)]
            fetches = {e.global_name: e for e in elements}
        leaves: dict[Any, tuple[str, ...]] = {}
        structure = self._resolve(fetches, leaves)
        results = self._compute(leaves) if leaves else {}
        return rebuild(structure, _Token, lambda token: results[tuple(token)])

    def dump_dict(self, value_postprocessor: Callable[[Any], Any] | None = None) -> dict:
        """``{'name', 'description', 'class', 'values'}``: the answers for every element,
        each passed through ``value_postprocessor`` (default: numpy arrays to lists).

        Examples
        --------
        >>> from bayesgraph.core import Graph, Variable
        >>> from bayesgraph.core.objectives import ProbabilityEstimator
        >>> with Graph("g") as g:
        ...     _ = Variable("x", mean=0, variance=1)
        >>> ProbabilityEstimator(g, {g.x: [0.0]}).dump_dict()["values"]["g/x"]
        [-0.9189385332046727]
        """
        post = value_postprocessor or _to_list
        return {"name": self.name, "description": self.description,
                "class": type(self).__name__,
                "values": {k: post(v) for k, v in self().items()}}

    def _compute(self, elements: dict[Any, tuple[str, ...]]) -> dict[Any, Any]:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<bayesgraph.{type(self).__name__} {self.name!r} of {self._spec.root_name!r}>"


class _Token(tuple):
    """A leaf of a resolved request."""


def _find(root: Any, global_name: str) -> Any:
    if root.global_name == global_name:
        return root
    if isinstance(root, Scopetor) or isinstance(root, VariableBase):
        for child in getattr(root, "children", {}).values():
            if isinstance(child, (VariableBase, Scopetor)):
                if global_name == child.global_name or global_name.startswith(
                        child.global_name + "/"):
                    found = _find(child, global_name)
                    if found is not None:
                        return found
    return None


def _to_list(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return value


def element_names(objective: ObjectiveBase, item: Any, what: str) -> tuple[str, ...]:
    """Canonical variable names of a variable, scope, name or list of them (for
    ``inputs=``, ``outputs=``, ``target=``)."""
    if isinstance(item, VariableBase):
        return (objective._canonical(item),)
    if isinstance(item, Scopetor):
        return objective._scope_names(item)
    if isinstance(item, str):
        return element_names(objective, objective._lookup(item), what)
    if isinstance(item, (list, tuple, set, frozenset)):
        out: list[str] = []
        for v in item:
            out.extend(element_names(objective, v, what))
        return tuple(dict.fromkeys(out))
    raise ExpressionError(
        f"{type(objective).__name__}: {what} must be variables, entities, graphs or global "
        f"names, got {item!r}")
