"""Scopes, children and name injection: the machinery behind ``with`` blocks.

A *scopetor* (:class:`~bayesgraph.core.graph.Graph`, :class:`~bayesgraph.core.entity.Entity`,
:class:`~bayesgraph.core.variable.Variable`, ...) can be entered with ``with``; every named
object created while it is the innermost active scope becomes its child.

Name injection (Halerium's ``frame=None`` argument): creating an object binds its name in the
calling frame, and entering a scope binds the names of its children there, so the bare names
of the Halerium notebooks work::

    with Entity("woman") as woman:
        Variable("genetic_factor", mean=0, variance=75)
        Variable("height", mean=167 + genetic_factor, variance=25)

Where the name is bound:

* module level, notebook cells, class bodies and ``exec``: in the frame's namespace, like an
  assignment;
* inside a function: in the function's local variable if it has one of that name, otherwise in
  the module globals (where Python looks a bare name up), and those global bindings are undone
  when the scope that was active at creation is left, so functions do not leave names behind.

Names bound by *entering* a scope are restored to their previous binding when the scope is left,
unless the user rebound them in the meantime.

Injection never destroys the user's data. A name is (re)bound only if it is unbound, holds
``None`` or holds a bayesgraph object (a graph, entity, variable, expression or template, e.g.
from an earlier run of the same notebook cell). If it holds anything else (an array, a
DataFrame, a number, a function argument, a module), the user's value is kept and a
:class:`~bayesgraph.exceptions.NameInjectionWarning` says how to reach the object instead
(``graph.x``); it is issued once per name and namespace within the outermost ``with`` block,
and not at all when the statement that creates the object assigns it itself
(``x = Variable("x")``, ``with Graph("g") as g:``): the user holds the object already.

Injection can be switched off, for library code that builds graphs on a user's behalf:
:func:`set_name_injection` sets it for the process, :func:`no_name_injection` for a block
(in the current thread). Objects are then created and registered in their scope as usual, but
no name is bound anywhere, whatever ``frame=`` says.
"""

from __future__ import annotations

import ctypes
import dis
import inspect
import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

from bayesgraph._warn import warn_user
from bayesgraph.core.operator.operators import ExpressionBase, ExpressionLeaf
from bayesgraph.exceptions import (
    DuplicateNameError,
    GraphStructureError,
    NameInjectionWarning,
    OptionError,
    ScopeError,
)

_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_MISSING = object()
_state = threading.local()
_injection_default = True  # process-wide; `no_name_injection` overrides it per thread


def name_injection_enabled() -> bool:
    """Return whether creating objects and entering scopes binds names in the calling code.

    Examples
    --------
    >>> name_injection_enabled()
    True
    >>> with no_name_injection():
    ...     name_injection_enabled()
    False
    """
    override = getattr(_state, "injection", None)
    return _injection_default if override is None else override


def set_name_injection(enabled: bool) -> bool:
    """Switch name injection on or off for the whole process; return the previous setting.

    With injection off, ``Variable("x")`` still creates ``x`` in the current scope, and the
    graph is complete (reach ``x`` as ``graph.x``), but no Python name is bound: neither by
    creating an object (whatever its ``frame=`` argument says) nor by entering a scope with
    ``with``. Inside a :func:`no_name_injection` block, injection stays off in that thread
    whatever this function sets.

    Parameters
    ----------
    enabled : bool
        ``True`` (the default at import, Halerium's behaviour) or ``False``.

    Returns
    -------
    bool
        The previous process-wide setting, so that it can be restored.

    Raises
    ------
    OptionError
        If ``enabled`` is not a bool.

    Examples
    --------
    >>> from bayesgraph.core import Graph, Variable
    >>> previous = set_name_injection(False)
    >>> with Graph("quiet") as quiet:
    ...     _ = Variable("hidden", mean=0, variance=1)
    >>> "hidden" in dir(), quiet.hidden.global_name
    (False, 'quiet/hidden')
    >>> set_name_injection(previous)
    False
    """
    global _injection_default
    if not isinstance(enabled, bool):
        raise OptionError(
            f"set_name_injection(enabled={enabled!r}): enabled must be True or False"
        )
    previous, _injection_default = _injection_default, enabled
    return previous


@contextmanager
def no_name_injection() -> Iterator[None]:
    """Context manager (and decorator) that switches name injection off in this thread.

    Meant for library code that builds graphs for a user: nothing in the caller's namespace
    is bound or shadowed. The previous setting comes back when the block is left, also when
    it is left by an exception.

    Examples
    --------
    >>> from bayesgraph.core import Graph, Variable
    >>> with no_name_injection():
    ...     with Graph("lib") as lib:
    ...         _ = Variable("z", mean=0, variance=1)
    ...         _ = Variable("y", mean=lib.z, variance=1)
    >>> "z" in dir(), lib.y.get_parents() == [lib.z], name_injection_enabled()
    (False, True, True)

    As a decorator:

    >>> @no_name_injection()
    ... def build():
    ...     with Graph("built") as built:
    ...         _ = Variable("w")
    ...     return built
    >>> build().w.global_name
    'built/w'
    """
    previous = getattr(_state, "injection", None)
    _state.injection = False
    try:
        yield
    finally:
        _state.injection = previous


def _stack() -> list[_ScopeEntry]:
    stack = getattr(_state, "stack", None)
    if stack is None:
        stack = _state.stack = []
    return stack


def current_scope() -> Scopetor | None:
    """Return the innermost active scope, or ``None`` outside every ``with`` block.

    Examples
    --------
    >>> from bayesgraph.core import Graph
    >>> with Graph("g") as g:
    ...     current_scope() is g
    True
    >>> current_scope() is None
    True
    """
    stack = _stack()
    return stack[-1].scope if stack else None


def user_frame() -> FrameType | None:
    """Return the innermost frame that is not bayesgraph's own code.

    Examples
    --------
    >>> user_frame() is not None
    True
    """
    frame = sys._getframe(1)
    while frame is not None:
        if not _is_own_file(frame.f_code.co_filename):
            return frame
        frame = frame.f_back
    return None


#: ``{absolute code file name: whether it lies in bayesgraph}``: a pure function of the name
#: (the package does not move), asked once per object a user creates; relative names (which
#: depend on the working directory) are not kept
_OWN_FILES: dict[str, bool] = {}


def _is_own_file(filename: str) -> bool:
    own = _OWN_FILES.get(filename)
    if own is None:
        own = os.path.abspath(filename).startswith(_PACKAGE_DIR + os.sep)
        if os.path.isabs(filename):
            _OWN_FILES[filename] = own
    return own


class _ScopeEntry:
    """One active ``with`` block: the scope and the bindings to undo when it is left."""

    def __init__(self, scope: Scopetor) -> None:
        self.scope = scope
        self.undo: list[tuple[dict[str, Any], str, Any, Any]] = []
        self.warned: set[tuple[int, str]] = set()  # kept names already warned about

    def restore(self) -> None:
        for namespace, name, previous, injected in reversed(self.undo):
            if namespace.get(name, _MISSING) is not injected:
                continue  # the user rebound the name: leave it alone
            if previous is _MISSING:
                del namespace[name]
            else:
                namespace[name] = previous
        self.undo.clear()


def _write_local(frame: FrameType, name: str, value: Any) -> None:
    if sys.version_info >= (3, 13):
        frame.f_locals[name] = value  # PEP 667: a write-through proxy
    else:  # pragma: no cover - exercised on Python 3.11/3.12 only
        frame.f_locals[name] = value
        ctypes.pythonapi.PyFrame_LocalsToFast(ctypes.py_object(frame), ctypes.c_int(0))


class Blueprint:
    """Base of objects that build graph objects (templates): injection may replace them.

    Examples
    --------
    >>> from bayesgraph.core import Entity
    >>> isinstance(Entity("e").get_template(), Blueprint)
    True
    """


def _is_bayesgraph_object(value: Any) -> bool:
    return isinstance(value, (NamedObject, ExpressionBase, Blueprint))


def _replaceable(previous: Any, value: Any) -> bool:
    """Whether injection may overwrite ``previous``: nothing, ``None`` or a bayesgraph object."""
    return (previous is _MISSING or previous is None or previous is value
            or _is_bayesgraph_object(previous))


_STORES = frozenset({"STORE_NAME", "STORE_FAST", "STORE_GLOBAL", "STORE_DEREF"})


def _result_is_kept(frame: FrameType) -> bool:
    """Whether the statement running in ``frame`` stores the object being created in a name,
    as in ``x = Variable("x")`` or ``with Graph("g") as g:``: the user holds the object, so a
    name that injection leaves alone needs no warning."""
    try:
        following = [i for i in dis.get_instructions(frame.f_code) if i.offset > frame.f_lasti]
    except Exception:  # pragma: no cover - unusual code objects: fall back to warning
        return False
    if following and following[0].opname == "BEFORE_WITH":  # `with Graph(...) as g:`
        following = following[1:]
    return bool(following) and following[0].opname in _STORES


def _attribute_path(obj: NamedObject) -> str:
    parts = obj.global_name.split("/")
    root = obj.get_root()
    path = parts[0] if parts[0].isidentifier() else f"<{type(root).__name__} {parts[0]!r}>"
    for part in parts[1:]:
        path += f".{part}" if part.isidentifier() else f".children[{part!r}]"
    return path


def _warn_kept(frame: FrameType, key: int, name: str, value: Any, previous: Any,
               created: bool) -> None:
    """Warn that ``name`` keeps the user's ``previous`` value instead of ``value``, unless
    ``value`` was just ``created`` by a statement that assigns it to a name itself."""
    if created and _result_is_kept(frame):
        return
    stack = _stack()
    if stack:  # once per name and namespace within the outermost `with` block
        warned = stack[0].warned
        if (key, name) in warned:
            return
        warned.add((key, name))
    kind = type(previous)
    what = kind.__qualname__ if kind.__module__ == "builtins" else (
        f"{kind.__module__}.{kind.__qualname__}")
    if isinstance(value, NamedObject):
        label = f"{type(value).__name__} {value.global_name!r}"
        reach = (f"reach it as {_attribute_path(value)}" if value.scope is not None else
                 f"use the object that {type(value).__name__}({name!r}, ...) returns")
    else:  # pragma: no cover - only named objects are injected by bayesgraph itself
        label, reach = repr(value), "use the object itself"
    warn_user(
        f"name {name!r} already holds a value of type {what}, not a bayesgraph object: "
        f"bayesgraph kept your value and did not bind {name!r} to {label}; {reach}. "
        "To stop bayesgraph binding names at all, call bayesgraph.set_name_injection(False) "
        "or build the graph inside `with bayesgraph.no_name_injection():`",
        NameInjectionWarning,
    )


def inject_name(frame: FrameType | None, name: str, value: Any, *, undo_at_exit: bool) -> None:
    """Bind ``name`` to ``value`` in ``frame`` as described in the module docstring.

    Nothing is bound while injection is off (:func:`set_name_injection`), and a name that holds
    something other than ``None`` or a bayesgraph object keeps it, with a
    :class:`~bayesgraph.exceptions.NameInjectionWarning`.

    Examples
    --------
    >>> import sys
    >>> inject_name(sys._getframe(), "answer", 42, undo_at_exit=False)
    >>> answer
    42
    """
    if frame is None or not name.isidentifier() or not name_injection_enabled():
        return
    code = frame.f_code
    optimized = bool(code.co_flags & inspect.CO_OPTIMIZED)
    entry = _stack()[-1] if _stack() else None
    if not optimized:  # module level, notebook cell, class body, exec
        namespace = frame.f_locals
        previous = namespace.get(name, _MISSING)
        if not _replaceable(previous, value):
            _warn_kept(frame, id(namespace), name, value, previous, not undo_at_exit)
            return
        namespace[name] = value
        if undo_at_exit and entry is not None:
            entry.undo.append((namespace, name, previous, value))
        return
    if name in code.co_varnames or name in code.co_cellvars or name in code.co_freevars:
        previous = frame.f_locals.get(name, _MISSING)
        if not _replaceable(previous, value):
            _warn_kept(frame, id(frame), name, value, previous, not undo_at_exit)
            return
        _write_local(frame, name, value)
        return
    namespace = frame.f_globals
    previous = namespace.get(name, _MISSING)
    if not _replaceable(previous, value):
        _warn_kept(frame, id(namespace), name, value, previous, not undo_at_exit)
        return
    namespace[name] = value
    if entry is not None:  # a function's bare names live in globals only while the scope is open
        entry.undo.append((namespace, name, previous, value))


class NamedObject:
    """Base class of every object that has a name and a place in a scope (a *scopee*).

    Parameters
    ----------
    name : str
        The local name; it must not be empty and must not contain ``/``.
    frame : frame, optional
        The frame in which to bind ``name``; by default the calling frame.

    Examples
    --------
    >>> from bayesgraph.core import Graph, Variable
    >>> with Graph("g") as g:
    ...     v = Variable("v")
    >>> v.name, v.global_name, v.scope is g
    ('v', 'g/v', True)
    """

    _allowed_parents: tuple[type, ...] = ()

    def __init__(self, name: str, frame: FrameType | None = None, *, _register: bool = True):
        if not isinstance(name, str) or not name or "/" in name:
            raise GraphStructureError(
                f"invalid name {name!r}: a name must be a non-empty string without '/'"
            )
        object.__setattr__(self, "_name", name)
        object.__setattr__(self, "_scope", None)
        parent = current_scope()
        if parent is not None:
            parent._add_child(self)
        if _register:
            inject_name(frame if frame is not None else user_frame(), name, self,
                        undo_at_exit=False)

    @property
    def name(self) -> str:
        """The local name of this object."""
        return self._name

    @property
    def scope(self) -> Scopetor | None:
        """The parent scope, or ``None`` for a root object."""
        return self._scope

    @property
    def global_name(self) -> str:
        """Slash-joined path from the root, e.g. ``'family/alice/height'``.

        Names and parents never change once an object is in its scope, so the path is
        computed once (the lowering of a 10,000-person pedigree asks for it 10^5 times).
        """
        cached = self.__dict__.get("_global_name")
        if cached is not None:
            return cached
        scope = self._scope
        name = self._name if scope is None else f"{scope.global_name}/{self._name}"
        if scope is not None:  # a root may still be added to a scope: keep computing
            object.__setattr__(self, "_global_name", name)
        return name

    def get_root(self) -> NamedObject:
        """Return the outermost scope that contains this object (itself for a root).

        Examples
        --------
        >>> from bayesgraph.core import Graph, Variable
        >>> with Graph("g") as g:
        ...     v = Variable("v")
        >>> v.get_root() is g
        True
        """
        obj = self
        while obj.scope is not None:
            obj = obj.scope
        return obj

    def __repr__(self) -> str:
        return f"<bayesgraph.{type(self).__name__} {self.global_name!r}>"


class Scopetor(NamedObject):
    """A named object that can be entered with ``with`` and holds named children.

    Children are reachable as attributes (``family.alice``) and through :attr:`children`.

    Examples
    --------
    >>> from bayesgraph.core import Entity, Variable
    >>> with Entity("e") as e:
    ...     _ = Variable("x")
    >>> list(e.children), e.x is e.children["x"]
    (['x'], True)
    """

    _allowed_children: tuple[type, ...] = ()

    def __init__(self, name: str, frame: FrameType | None = None, *, _register: bool = True):
        object.__setattr__(self, "_children", {})
        super().__init__(name, frame, _register=_register)

    @property
    def children(self) -> dict[str, NamedObject]:
        """The children, keyed by name, in creation order (a copy)."""
        return dict(self._children)

    def _add_child(self, child: NamedObject) -> None:
        if self._allowed_children and not isinstance(child, self._allowed_children):
            allowed = ", ".join(c.__name__ for c in self._allowed_children)
            raise ScopeError(
                f"cannot create {type(child).__name__} {child.name!r} inside "
                f"{type(self).__name__} {self.global_name!r}: it may only contain {allowed}"
            )
        if hasattr(type(self), child.name):
            raise ScopeError(
                f"cannot name a child of {type(self).__name__} {self.global_name!r} "
                f"{child.name!r}: {self.global_name.split('/')[-1]}.{child.name} is the "
                f"{type(self).__name__}'s own attribute, so the child could not be reached by "
                "that name; choose another name"
            )
        if child.name in self._children:
            raise DuplicateNameError(
                f"{self.global_name!r} already has a child named {child.name!r}; "
                "choose another name"
            )
        self._children[child.name] = child
        object.__setattr__(child, "_scope", self)
        # a tree built elsewhere (a graph read from a file) and attached now: its cached
        # global names were relative to its old root
        child.__dict__.pop("_global_name", None)
        if child.__dict__.get("_children"):  # a new object has none: nothing else to reset
            for obj in child.iter_descendants():
                obj.__dict__.pop("_global_name", None)

    def __getattr__(self, name: str) -> Any:
        children = self.__dict__.get("_children")
        if children is not None and name in children:
            return children[name]
        raise AttributeError(
            f"{type(self).__name__} {self.__dict__.get('_name', '?')!r} has no attribute or "
            f"child {name!r}"
            + (f"; its children are {sorted(children)}" if children else "")
        )

    def __dir__(self) -> list[str]:
        return sorted(set(super().__dir__()) | set(self._children))

    def __enter__(self) -> Scopetor:
        entry = _ScopeEntry(self)
        _stack().append(entry)
        frame = user_frame()
        for name, child in self._children.items():
            inject_name(frame, name, child, undo_at_exit=True)
        return self

    def __exit__(self, exc_type, exc_value, traceback) -> None:
        stack = _stack()
        if not stack or stack[-1].scope is not self:  # pragma: no cover - misuse guard
            raise ScopeError(f"scope {self.global_name!r} exited out of order")
        stack.pop().restore()

    def iter_descendants(self):
        """Yield every descendant, depth first, in creation order.

        Examples
        --------
        >>> from bayesgraph.core import Entity, Variable
        >>> with Entity("e") as e:
        ...     _ = Variable("x")
        >>> [d.global_name for d in e.iter_descendants()]
        ['e/x']
        """
        for child in self._children.values():
            yield child
            if isinstance(child, Scopetor):
                yield from child.iter_descendants()

    def get_all_variables(self) -> list:
        """Return every variable below this scope, depth first, in creation order.

        Examples
        --------
        >>> from bayesgraph.core import Graph, Variable
        >>> with Graph("g") as g:
        ...     _ = Variable("a"); _ = Variable("b")
        >>> [v.global_name for v in g.get_all_variables()]
        ['g/a', 'g/b']
        """
        return [d for d in self.iter_descendants() if isinstance(d, ExpressionLeaf)]

    def get_all_variable_dependencies(self) -> dict[str, set[str]]:
        """Return ``{global_name: set of the global names of its parents}`` for every variable.

        Examples
        --------
        >>> from bayesgraph.core import Graph, Variable
        >>> with Graph("graph_1") as graph_1:
        ...     _ = Variable("a", mean=0, variance=1)
        ...     _ = Variable("b", mean=0.7 * a, variance=1 - 0.7**2)
        >>> graph_1.get_all_variable_dependencies()
        {'graph_1/a': set(), 'graph_1/b': {'graph_1/a'}}
        """
        return {v.global_name: {p.global_name for p in v.get_parents()}
                for v in self.get_all_variables()}


class detached_scope:
    """Context manager that hides the active scopes (used to build detached copies).

    Examples
    --------
    >>> from bayesgraph.core import Graph
    >>> with Graph("g"):
    ...     with detached_scope():
    ...         current_scope() is None
    True
    """

    def __enter__(self) -> None:
        self._saved = list(_stack())
        _stack().clear()

    def __exit__(self, *exc) -> None:
        _stack()[:] = self._saved


class inside:
    """Context manager that makes ``scope`` active without injecting any names (internal use).

    Examples
    --------
    >>> from bayesgraph.core import Graph
    >>> g = Graph("g")
    >>> with inside(g):
    ...     current_scope() is g
    True
    """

    def __init__(self, scope: Scopetor) -> None:
        self.scope = scope

    def __enter__(self) -> Scopetor:
        _stack().append(_ScopeEntry(self.scope))
        return self.scope

    def __exit__(self, *exc) -> None:
        _stack().pop().restore()
