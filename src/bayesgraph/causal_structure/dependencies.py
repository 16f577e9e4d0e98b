"""Dependency and Dependencies: which DataFrame columns cause which.

Examples
--------
>>> from bayesgraph.causal_structure import Dependencies
>>> Dependencies([["a", "b"], [["a", "b"], "c"]]).parameters
['a', 'b', 'c']
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from bayesgraph.exceptions import CyclicDependencyError, DependencyError

__all__ = ["Dependency", "Dependencies"]

_KEYS = {"features": "features", "inputs": "features", "targets": "targets",
         "outputs": "targets"}


def _set_repr(names: Iterable[str]) -> str:
    names = sorted(names)
    return "{" + ", ".join(repr(n) for n in names) + "}" if names else "set()"


def _names(value: Any, what: str) -> list[str]:
    """A name or a collection of names, as a list without duplicates (first order kept)."""
    if isinstance(value, str):
        items = [value]
    elif isinstance(value, (set, frozenset)):  # no order of their own: sorted, reproducibly
        items = sorted(value, key=str)
    elif isinstance(value, Iterable) and not isinstance(value, (bytes, Mapping)):
        items = list(value)
    else:
        raise DependencyError(
            f"the {what} of a dependency must be a name (str) or a list/set of names, "
            f"got {value!r}"
        )
    out: list[str] = []
    for item in items:
        if not isinstance(item, str) or not item:
            raise DependencyError(
                f"names in a dependency must be non-empty strings (DataFrame column names), "
                f"got {item!r} among the {what}; rename the column"
            )
        if "/" in item:
            raise DependencyError(
                f"name {item!r} contains '/', which bayesgraph uses to separate scopes; "
                "rename the column"
            )
        if item not in out:
            out.append(item)
    return out


class Dependency:
    """Features that cause targets: ``Dependency(features, targets)``.

    Accepted forms (``inputs``/``outputs`` are aliases of ``features``/``targets``)::

        Dependency("a", "b")
        Dependency(["a", "b"])
        Dependency([["a"], ["b"]])
        Dependency(features="a", targets="b")
        Dependency({"features": "a", "targets": "b"})

    Raises
    ------
    CyclicDependencyError
        A name among both the features and the targets.
    DependencyError
        Anything else that is not one of the forms above.

    Examples
    --------
    >>> from bayesgraph.causal_structure import Dependency
    >>> Dependency(["a", "b"])
    Dependency(features={'a'}, targets={'b'})
    >>> Dependency(inputs=["x", "y"], outputs="z") == Dependency([["y", "x"], "z"])
    True
    """

    def __init__(self, *args: Any, features: Any = None, targets: Any = None,
                 inputs: Any = None, outputs: Any = None) -> None:
        keywords = {"features": features, "targets": targets, "inputs": inputs,
                    "outputs": outputs}
        given = {k: v for k, v in keywords.items() if v is not None}
        if args and given:
            raise DependencyError(
                "give a dependency either positionally or by keyword (features=, targets=), "
                "not both"
            )
        if len(args) == 1 and isinstance(args[0], Dependency):
            feats, targs = args[0].features, args[0].targets
        elif len(args) == 1 and isinstance(args[0], Mapping):
            unknown = sorted(set(args[0]) - set(_KEYS), key=str)
            if unknown:
                raise DependencyError(
                    f"unknown key {unknown[0]!r} in a dependency; the keys are 'features' "
                    "(or 'inputs') and 'targets' (or 'outputs')"
                )
            return self.__init__(**args[0])
        elif len(args) == 1:
            entry = args[0]
            if isinstance(entry, (str, bytes)) or not isinstance(entry, Iterable):
                raise DependencyError(
                    f"a dependency is [features, targets]; got {entry!r}"
                )
            entry = list(entry)
            if len(entry) != 2:
                raise DependencyError(
                    f"a dependency is [features, targets] (two items); got {len(entry)} "
                    f"items: {entry!r}"
                )
            feats, targs = entry
        elif len(args) == 2:
            feats, targs = args
        elif args:
            raise DependencyError(
                f"Dependency takes features and targets, got {len(args)} positional arguments"
            )
        else:
            pairs = [(_KEYS[k], v) for k, v in given.items()]
            chosen = {}
            for key, value in pairs:
                if key in chosen:
                    raise DependencyError(
                        f"{key} given twice (through an alias: inputs=features, "
                        "outputs=targets)"
                    )
                chosen[key] = value
            if "targets" not in chosen:
                raise DependencyError("a dependency needs targets (targets= or outputs=)")
            feats, targs = chosen.get("features", []), chosen["targets"]
        features_ = _names(feats, "features")
        targets_ = _names(targs, "targets")
        if not targets_:
            raise DependencyError("a dependency needs at least one target")
        for name in targets_:
            if name in features_:
                raise CyclicDependencyError(f"Cyclic dependency detected for {name!r}.")
        self._features = tuple(features_)
        self._targets = tuple(targets_)

    @property
    def features(self) -> frozenset[str]:
        """The causes (a set of names)."""
        return frozenset(self._features)

    @property
    def targets(self) -> frozenset[str]:
        """The effects (a set of names)."""
        return frozenset(self._targets)

    inputs = features
    outputs = targets

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Dependency):
            return NotImplemented
        return self.features == other.features and self.targets == other.targets

    def __hash__(self) -> int:
        return hash((self.features, self.targets))

    def __repr__(self) -> str:
        return (f"Dependency(features={_set_repr(self._features)}, "
                f"targets={_set_repr(self._targets)})")


class Dependencies:
    """A set of dependencies, one entry per target, checked to be acyclic.

    Parameters
    ----------
    dependencies : list
        :class:`Dependency` objects or anything ``Dependency`` accepts, e.g.
        ``[["a", "b"], ["b", "c"]]`` or ``[[{"a", "b"}, {"c", "d"}]]``. A dependency with
        several targets is split into one entry per target; entries of the same target are
        merged (the union of their features).

    Raises
    ------
    CyclicDependencyError
        The entries form a cycle; the message names the parameters on it.

    Examples
    --------
    >>> from bayesgraph.causal_structure import Dependencies
    >>> Dependencies([["a", "b"], ["b", "c"], [{"b", "c"}, "d"]])
    Dependencies([[{'a'}, 'b'], [{'b'}, 'c'], [{'b', 'c'}, 'd']])
    >>> Dependencies([["a", "b"], ["b", "c"], ["c", "b"]])
    Traceback (most recent call last):
    ...
    bayesgraph.exceptions.CyclicDependencyError: Cyclic dependency detected for {'b', 'c'}.
    """

    def __init__(self, dependencies: Any = ()) -> None:
        if isinstance(dependencies, Dependencies):
            self._parents = dict(dependencies._parents)
            self._order = list(dependencies._order)
            return
        if isinstance(dependencies, (Dependency, Mapping)):
            dependencies = [dependencies]
        if isinstance(dependencies, (str, bytes)) or not isinstance(dependencies, Iterable):
            raise DependencyError(
                f"dependencies must be a list of dependencies, got {dependencies!r}"
            )
        parents: dict[str, list[str]] = {}
        mentioned: list[str] = []
        for entry in dependencies:
            dependency = entry if isinstance(entry, Dependency) else (
                Dependency(entry) if not isinstance(entry, Mapping) else Dependency(entry))
            for name in (*dependency._features, *dependency._targets):
                if name not in mentioned:
                    mentioned.append(name)
            for target in dependency._targets:
                merged = parents.setdefault(target, [])
                merged.extend(f for f in dependency._features if f not in merged)
        self._parents = parents
        self._order = _topological(mentioned, parents)

    @property
    def parameters(self) -> list[str]:
        """Every name, causes before effects (a topological order)."""
        return list(self._order)

    def features_of(self, name: str) -> list[str]:
        """The direct causes of ``name``, sorted (empty for a root).

        Examples
        --------
        >>> Dependencies([[["b", "a"], "c"]]).features_of("c")
        ['a', 'b']
        """
        return sorted(self._parents.get(name, []))

    def __iter__(self):
        return iter([Dependency(features=sorted(f), targets=t) for t, f in self._entries()])

    def __len__(self) -> int:
        return len(self._parents)

    def _entries(self) -> list[tuple[str, list[str]]]:
        return [(t, self._parents[t]) for t in self._order if t in self._parents]

    def _repr_list(self) -> str:
        return "[" + ", ".join(f"[{_set_repr(f)}, {t!r}]" for t, f in self._entries()) + "]"

    def __repr__(self) -> str:
        return f"Dependencies({self._repr_list()})"


def _topological(names: list[str], parents: dict[str, list[str]]) -> list[str]:
    """Order names causes first (stable: first mention wins ties); refuse cycles."""
    state: dict[str, int] = {}  # 1 = on the stack, 2 = done
    order: list[str] = []
    for root in names:
        if state.get(root):
            continue
        stack = [(root, iter(sorted(parents.get(root, []))))]
        state[root] = 1
        while stack:
            node, pending = stack[-1]
            for parent in pending:
                if state.get(parent) == 1:
                    path = [n for n, _ in stack]
                    cycle = path[path.index(parent):]
                    raise CyclicDependencyError(
                        f"Cyclic dependency detected for {_set_repr(cycle)}."
                    )
                if not state.get(parent):
                    state[parent] = 1
                    stack.append((parent, iter(sorted(parents.get(parent, [])))))
                    break
            else:
                stack.pop()
                state[node] = 2
                order.append(node)
    return order
