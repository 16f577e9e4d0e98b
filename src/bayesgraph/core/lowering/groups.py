"""Grouping: many variables of the same kind become one vectorised unit (backend-free).

A graph of a thousand persons made from one template has a thousand ``height`` variables of
the same kind. Compiling each to a sample site of its own makes compile time explode (one
traced piece of code per variable). :func:`group` maps a :class:`ModelSpec` to a
:class:`GroupedSpec` in which such variables form one :class:`GroupSpec` with a leading
*member* axis: one sample site, one traced piece of code, whatever the number of members.

Which variables share a group
-----------------------------
Two variables share a group when they have the same dynamic/static kind, logical shape,
dtype and distribution, and their parameters have the same *skeleton*: the expression trees
with every constant replaced by its shape and every reference to a variable replaced by the
shape and kind of what it reads. Templates play no role: two hand-written entities of the same
structure group too. Then, at every place of the skeleton,

* constants that are equal for all members stay one constant (:class:`Shared`); constants
  that differ (Woman's 167, Man's 175) become one per-member array (:class:`PerMember`);
* references become a :class:`Member` reference. Its *sources* are the groups that hold the
  referenced variables (a child's mother may be a founder or another child: two groups, read
  as one concatenated array) and an integer index array says which member each member reads
  (``mode='gather'``), so who a child's parents are is data, not code. Two special cases need
  no index array: every member reads the member of the same position in a group of the same
  size (``'aligned'``), or every member reads the same member (``'one'``, e.g. a shared
  hierarchical mean).

Order and cycles
----------------
The groups form a graph (a group depends on the groups its references read). A group whose
members read each other (a child's parent is another child) lies on a cycle of that graph.
Such a strongly connected set of groups becomes a *block* whose members carry a *level* (the
longest chain of dependencies inside the block): modes that need parents before children
(forward sampling, start values, MGVI's standardisation) run the block level by level,
modes that score given values (log-densities) run it at once. A block is only kept when all
its groups are random variables whose support does not depend on their parameters; otherwise
(a Dirac chain, a Uniform whose bounds read the chain) its groups are split by depth in the
graph, which leaves no cycles.

Identity
--------
:attr:`GroupedSpec.fingerprint` hashes everything that decides the compiled code (groups,
skeletons, shared constants, shapes, roles, numbers of missing entries) and nothing that is
passed to it as data (observed values, per-member constants, index arrays, which entries
are missing). Two models with equal fingerprints can share one compiled program.

``group(spec, grouping=False)`` gives the per-variable reference: every variable a group of
one member.

Examples
--------
>>> from bayesgraph.core import Graph, Variable
>>> from bayesgraph.core.lowering import lower
>>> with Graph("g") as g:
...     a = Variable("a", mean=1.0)
...     b = Variable("b", mean=2.0)
...     c = Variable("c", mean=a + b)
>>> spec, data = lower(g)
>>> grouped = group(spec)
>>> [gr.members for gr in grouped.groups]
[('g/a', 'g/b'), ('g/c',)]
>>> grouped.locate("g/b")
(0, 1)
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from bayesgraph._gc import gc_paused
from bayesgraph.core.distribution import DISTRIBUTIONS
from bayesgraph.core.lowering.spec import Const, Expr, LoweredData, ModelSpec, Op, Ref
from bayesgraph.core.operator.operators import IndexArray, Operand

Role = Literal["latent", "observed", "partial"]
MISSING_SUFFIX = "/missing"


# -- grouped expressions ------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class Shared:
    """A constant that is the same for every member (part of the compiled code).

    Examples
    --------
    >>> Shared(np.asarray(2.0)).batched
    False
    """

    value: np.ndarray

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.value.shape)

    batched = False
    dynamic = False


@dataclass(frozen=True)
class PerMember:
    """Constants that differ between members: ``arrays[key]`` of shape ``(M, *shape)``.

    Examples
    --------
    >>> PerMember("g0/mean/c0", ()).batched
    True
    """

    key: str
    shape: tuple[int, ...]
    batched = True
    dynamic = False


@dataclass(frozen=True)
class Member:
    """A reference to values of other groups (or of the group itself).

    Attributes
    ----------
    sources : tuple of int
        The groups read; their values are concatenated along the member axis.
    shape : tuple of int
        Logical shape of one referenced value.
    dynamic : bool
        Whether the referenced values have an examples axis.
    mode : {'aligned', 'one', 'gather'}
        ``'aligned'``: member ``i`` reads member ``i`` of the (one) source; ``'one'``: every
        member reads member ``index`` (no member axis); ``'gather'``: member ``i`` reads
        member ``arrays[key][i]`` of the concatenated sources.
    index : int
        The member read in mode ``'one'``.
    key : str
        The index array in mode ``'gather'``.

    Examples
    --------
    >>> Member((0,), (), True, "aligned").batched
    True
    """

    sources: tuple[int, ...]
    shape: tuple[int, ...]
    dynamic: bool
    mode: Literal["aligned", "one", "gather"]
    index: int = 0
    key: str = ""

    @property
    def batched(self) -> bool:
        return self.mode != "one"


@dataclass(frozen=True, eq=False)
class GOp:
    """An operator of grouped expressions; ``batched`` if any operand varies by member.

    Examples
    --------
    >>> GOp("negative", (Shared(np.asarray(1.0)),), (), (), False).batched
    False
    """

    op: str
    args: tuple[Any, ...]
    kwargs: tuple[tuple[str, Any], ...]
    shape: tuple[int, ...]
    dynamic: bool

    @property
    def batched(self) -> bool:
        return any(a.batched for a in self.args)


GExpr = Shared | PerMember | Member | GOp


# -- groups ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class GroupSpec:
    """Variables of one kind, vectorised along a leading member axis.

    Runtime value: ``(M, n_data, *shape)`` for dynamic groups, ``(M, *shape)`` for static ones.

    Attributes
    ----------
    index : int
        Position in :attr:`GroupedSpec.groups`.
    name : str
        The site name: the variable's global name for a group of one, else
        ``"<first member>+<M-1>"``.
    members : tuple of str
        Global names of the members, in topological order.
    role : {'latent', 'observed', 'partial'}
        No data for any member, complete data for all, or anything in between (the missing
        entries are latent: flat indices into the ``(M, *full shape)`` array).
    n_missing : int
        Number of missing entries (``partial``).
    density_is_fixed : bool
        Every member is observed and its parents are fixed: the log-density is a constant.
    block : int or None
        The block (cycle of groups) the group belongs to, if any.
    constraint : tuple
        The members' constraint (see :class:`~bayesgraph.core.lowering.spec.VariableSpec`).

    Examples
    --------
    >>> from bayesgraph.core import Variable
    >>> from bayesgraph.core.lowering import lower
    >>> spec, _ = lower(Variable("v", shape=(2,)))
    >>> group(spec).groups[0].full_shape(n_data=3)
    (1, 3, 2)
    """

    index: int
    name: str
    members: tuple[str, ...]
    dynamic: bool
    shape: tuple[int, ...]
    dtype: str
    distribution: str
    params: tuple[tuple[str, GExpr], ...]
    role: Role
    n_missing: int = 0
    density_is_fixed: bool = False
    block: int | None = None
    constraint: tuple[Any, ...] = ()

    @property
    def size(self) -> int:
        """Number of members ``M``."""
        return len(self.members)

    @property
    def deterministic(self) -> bool:
        """A Dirac group: no site, its value is its ``mean``."""
        return DISTRIBUTIONS[self.distribution].support == "deterministic"

    @property
    def site(self) -> str | None:
        """The latent site's name (``None`` for observed and deterministic groups)."""
        if self.deterministic or self.role == "observed":
            return None
        return self.name + MISSING_SUFFIX if self.role == "partial" else self.name

    def member_shape(self, n_data: int) -> tuple[int, ...]:
        """One member's runtime shape: ``(n_data, *shape)`` or ``shape``."""
        return (n_data, *self.shape) if self.dynamic else self.shape

    def full_shape(self, n_data: int) -> tuple[int, ...]:
        """The group's runtime shape ``(M, *member shape)``."""
        return (self.size, *self.member_shape(n_data))

    def site_shape(self, n_data: int) -> tuple[int, ...]:
        """The latent site's shape: the full shape, or ``(n_missing,)`` for a partial group."""
        return (self.n_missing,) if self.role == "partial" else self.full_shape(n_data)


@dataclass(frozen=True)
class Block:
    """Groups that read each other, run level by level in ancestral modes.

    ``arrays[f"{name}/level_gather"]`` and ``.../level_scatter`` of each group hold, per level,
    the members at that level (``(n_levels, width)``; padded: gather with a valid member,
    scatter out of range, which is dropped).

    A *recurrent* block (``recurrent=True``) is a recurrence over time: its groups read each
    other (or themselves) only in the past at the group level's cycles (``y[TimeIndex - 1]``),
    and at the current step in the order of ``groups``. Ancestral modes run it as one
    ``lax.scan`` over the examples (time) axis; it has no levels.

    Examples
    --------
    >>> Block((0,), 3).n_levels
    3
    """

    groups: tuple[int, ...]
    n_levels: int
    recurrent: bool = False


@dataclass(frozen=True, eq=False)
class GroupedSpec:
    """The grouped, frozen model: what the compiler builds the program from.

    Attributes
    ----------
    groups : tuple of GroupSpec
        In an order in which every group comes after the groups it reads (blocks: together).
    blocks : tuple of Block
    units : tuple of (str, int)
        The execution order: ``("group", i)`` or ``("block", b)``.
    arrays : dict
        Per-member constants, index arrays and level arrays (numpy), passed to compiled code
        as arguments.

    Examples
    --------
    >>> from bayesgraph.core import Variable
    >>> from bayesgraph.core.lowering import lower
    >>> len(group(lower(Variable("v"))[0]).fingerprint)
    64
    """

    root_name: str
    n_data: int
    groups: tuple[GroupSpec, ...]
    blocks: tuple[Block, ...]
    units: tuple[tuple[str, int], ...]
    arrays: dict[str, np.ndarray] = field(repr=False)
    spec: ModelSpec = field(repr=False)
    _locator: dict[str, tuple[int, int]] = field(default_factory=dict, repr=False)
    _fingerprint: list[str] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        for g in self.groups:
            for m, name in enumerate(g.members):
                self._locator[name] = (g.index, m)

    def locate(self, name: str) -> tuple[int, int]:
        """``(group index, member index)`` of a variable's global name."""
        return self._locator[name]

    def group_of(self, name: str) -> GroupSpec:
        """The group holding a variable."""
        return self.groups[self._locator[name][0]]

    @property
    def fingerprint(self) -> str:
        """A hash of everything that decides the compiled code (see the module docstring)."""
        if not self._fingerprint:
            digest = hashlib.sha256()
            digest.update(repr((self.root_name, self.n_data, self.units, self.blocks)).encode())
            for g in self.groups:
                digest.update(repr((g.name, g.members, g.dynamic, g.shape, g.dtype,
                                    g.distribution, g.role, g.n_missing, g.density_is_fixed,
                                    g.block, g.constraint)).encode())
                for key, expr in g.params:
                    digest.update(key.encode())
                    _hash_expr(expr, digest)
            for key in sorted(self.arrays):
                value = self.arrays[key]
                digest.update(repr((key, value.dtype.str, value.shape)).encode())
            self._fingerprint.append(digest.hexdigest())
        return self._fingerprint[0]


def _hash_expr(expr: GExpr, digest: Any) -> None:
    if isinstance(expr, Shared):
        digest.update(repr(("s", expr.value.dtype.str, expr.value.shape)).encode())
        digest.update(np.ascontiguousarray(expr.value).tobytes())
    elif isinstance(expr, GOp):
        digest.update(repr(("o", expr.op, _canonical(expr.kwargs), expr.shape,
                            expr.dynamic, len(expr.args))).encode())
        for arg in expr.args:
            _hash_expr(arg, digest)
    else:
        digest.update(repr(expr).encode())


def _canonical(value: Any) -> Any:
    """A hashable, repr-stable form of operator keyword arguments (index keys included)."""
    if isinstance(value, IndexArray):
        return ("index_array", tuple(value))
    if isinstance(value, tuple):
        return tuple(_canonical(v) for v in value)
    if isinstance(value, slice):
        return ("slice", value.start, value.stop, value.step)
    if isinstance(value, np.ndarray):
        return ("array", value.dtype.str, value.shape, value.tobytes())
    return value


# -- the grouping pass ------------------------------------------------------------------------
_INDEXING = ("getitem", "index")


def _key_entries(key: Any) -> tuple[Any, ...]:
    """The entries of an index key (a single entry, an integer array included, is one)."""
    return key if isinstance(key, tuple) and not isinstance(key, IndexArray) else (key,)


def _is_int(k: Any) -> bool:
    return isinstance(k, (int, np.integer)) and not isinstance(k, (bool, np.bool_))


def _key_skeleton(key: Any) -> Any:
    """An index key with its integers and integer arrays replaced by their kind: which
    entries a member reads is data, like which variable it reads, so ``x[0]`` and ``x[3]``
    (``alpha[k]`` of a thousand hierarchical groups) share one group and one piece of code.
    Keys with ``None`` or ``...`` keep their values (their axes are not positions of ``x``).
    """
    entries = _key_entries(key)
    if any(k is None or k is Ellipsis for k in entries):
        return _canonical(key)
    return tuple(("int",) if _is_int(k) else ("array", len(k)) if isinstance(k, IndexArray)
                 else _canonical(k) for k in entries)


def _skeleton(expr: Expr, refs: list[str], consts: list[Const],
              keys: list[Any] | None = None) -> Any:
    if isinstance(expr, Const):
        consts.append(expr)
        return ("c", expr.shape)
    if isinstance(expr, Ref):
        refs.append(expr.name)
        return ("r", expr.shape, expr.dynamic)
    assert isinstance(expr, Op)
    kwargs = _canonical(expr.kwargs) if expr.kwargs else ()
    if expr.op in _INDEXING:
        key = dict(expr.kwargs)["key"]
        if keys is not None:
            keys.append(key)
        kwargs = tuple((k, _key_skeleton(v) if k == "key" else _canonical(v))
                       for k, v in expr.kwargs)
    children = tuple([_skeleton(a, refs, consts, keys) for a in expr.args])
    return ("o", expr.op, kwargs, expr.shape, expr.dynamic, children)


def _leaves(expr: Expr, refs: list[str], consts: list[Const], keys: list[Any]) -> None:
    """The leaves :func:`_skeleton` collects, in its order, without building the skeleton
    (the grouping knows the members of a group share one)."""
    if isinstance(expr, Const):
        consts.append(expr)
    elif isinstance(expr, Ref):
        refs.append(expr.name)
    else:
        if expr.op in _INDEXING:
            keys.append(dict(expr.kwargs)["key"])
        for a in expr.args:
            _leaves(a, refs, consts, keys)


def _depths(spec: ModelSpec) -> dict[str, int]:
    depth: dict[str, int] = {}
    for var in spec.variables:  # topological order
        # a parent read only in the past may come later (a recurrence): it sets no depth
        depth[var.name] = 1 + max((depth.get(p, -1) for p in var.parents), default=-1)
    return depth


def _partition(spec: ModelSpec, grouping: bool, split: set[str], depth: dict[str, int]
               ) -> tuple[list[list[str]], dict[str, list[str]]]:
    """Variables by kind (in topological order), and each variable's references."""
    refs: dict[str, list[str]] = {}
    classes: dict[Any, list[str]] = {}
    for var in spec.variables:
        refs[var.name] = []
        skeleton = tuple((k, _skeleton(e, refs[var.name], [])) for k, e in var.params)
        key: tuple[Any, ...] = (var.dynamic, var.shape, var.dtype, var.distribution,
                                var.constraint, skeleton)
        if not grouping:
            key = (var.name,)
        elif var.name in split:
            key = key + (("depth", depth[var.name]),)
        classes.setdefault(key, []).append(var.name)
    return list(classes.values()), refs


def _strongly_connected(n: int, edges: list[set[int]]) -> list[list[int]]:
    """Tarjan's algorithm without recursion; a component comes after those it reads."""
    index = [-1] * n
    low = [0] * n
    on_stack = [False] * n
    stack: list[int] = []
    components: list[list[int]] = []
    counter = 0
    for root in range(n):
        if index[root] != -1:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack[root] = True
        while work:
            node, children = work[-1]
            advanced = False
            for child in children:
                if index[child] == -1:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack[child] = True
                    work.append((child, iter(sorted(edges[child]))))
                    advanced = True
                    break
                if on_stack[child]:
                    low[node] = min(low[node], index[child])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    top = stack.pop()
                    on_stack[top] = False
                    component.append(top)
                    if top == node:
                        break
                components.append(sorted(component))
    return components


def _keeps_level_order(spec: ModelSpec, members: list[str]) -> bool:
    """Whether a cyclic group can be run level by level with values given first."""
    var = spec.variable(members[0])
    facts = DISTRIBUTIONS[var.distribution]
    if facts.support == "deterministic":
        return False
    for key, expr in var.params:
        if key in facts.support_parameters and _reads_variables(expr):
            return False
    return True


def _reads_variables(expr: Expr) -> bool:
    if isinstance(expr, Ref):
        return True
    if isinstance(expr, Op):
        return any(_reads_variables(a) for a in expr.args)
    return False


@gc_paused
def group(spec: ModelSpec, *, grouping: bool = True) -> GroupedSpec:
    """Group the variables of ``spec`` into vectorised units (see the module docstring).

    Parameters
    ----------
    spec : ModelSpec
        The per-variable description made by :func:`~bayesgraph.core.lowering.lower`.
    grouping : bool
        ``False`` gives the per-variable reference: one group per variable.

    Examples
    --------
    >>> from bayesgraph.core import Graph, Variable
    >>> from bayesgraph.core.lowering import lower
    >>> with Graph("g") as g:
    ...     a = Variable("a", mean=1.0)
    ...     b = Variable("b", mean=2.0)
    >>> [len(gr.members) for gr in group(lower(g)[0], grouping=False).groups]
    [1, 1]
    """
    depth = _depths(spec)
    now_refs, lag_refs = _current_references(spec)
    split: set[str] = set()
    while True:
        classes, refs = _partition(spec, grouping, split, depth)
        group_of = {name: i for i, members in enumerate(classes) for name in members}
        edges = [set() for _ in classes]
        for i, members in enumerate(classes):
            for name in members:
                edges[i].update(group_of[r] for r in refs[name])
        components = _strongly_connected(len(classes), edges)
        now_edges = _group_edges(classes, group_of, now_refs)
        lag_edges = _group_edges(classes, group_of, lag_refs)
        to_split = set()
        recurrent: set[int] = set()
        for c, component in enumerate(components):
            cyclic = len(component) > 1 or component[0] in edges[component[0]]
            if not cyclic:
                continue
            if any(lag_edges[i] & set(component) for i in component):
                recurrent.add(c)
                if _step_order(component, now_edges) is None:  # cycles within one step too
                    to_split.update(name for i in component for name in classes[i])
            elif not all(_keeps_level_order(spec, classes[i]) for i in component):
                to_split.update(name for i in component for name in classes[i])
        if not to_split - split:
            break
        split |= to_split
    for c in recurrent:
        _check_recurrence(spec, [classes[i] for i in components[c]])
    steps = {c: _step_order(components[c], now_edges) for c in recurrent}
    for c, order in steps.items():
        if order is None:  # pragma: no cover - splitting by depth leaves no such cycle
            from bayesgraph.exceptions import CyclicGraphError

            names = [classes[i][0] for i in components[c]]
            raise CyclicGraphError(f"the recurrence over time of {names} also has a cycle "
                                   "within one time step")
    return _assemble(spec, classes, group_of, edges,
                     components, steps)


def _current_references(spec: ModelSpec) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """Per variable, the variables it reads at the current step or ahead (the edges that
    order groups within one time step), and those it reads only in the past."""
    from bayesgraph.core.lowering.time import time_references

    current: dict[str, set[str]] = {}
    past: dict[str, set[str]] = {}
    for var in spec.variables:
        now: set[str] = set()
        lagged: set[str] = set()
        for _, expr in var.params:
            a, b, c = time_references(expr)
            now |= a | c
            lagged |= b
        current[var.name] = now
        past[var.name] = lagged - now
    return current, past


def _group_edges(classes: list[list[str]], group_of: dict[str, int],
                 references: dict[str, set[str]]) -> list[set[int]]:
    edges: list[set[int]] = [set() for _ in classes]
    for i, members in enumerate(classes):
        for name in members:
            edges[i].update(group_of[r] for r in references[name])
    return edges


def _step_order(component: list[int], now_edges: list[set[int]]) -> list[int] | None:
    """The groups of a recurrence in an order that respects the reads at the current step,
    or ``None`` if those reads form a cycle."""
    inside = set(component)
    pending = {i: (now_edges[i] & inside) for i in component}
    order: list[int] = []
    while pending:
        ready = sorted(i for i, ps in pending.items() if not ps - set(order))
        if not ready:
            return None
        order.append(ready[0])
        del pending[ready[0]]
    return order


def _check_recurrence(spec: ModelSpec, classes: list[list[str]]) -> None:
    """A recurrence is run as a scan: its random groups must have a support that does not
    depend on the recurrence (their values are given or drawn before their densities);
    Dirac groups are computed step by step."""
    from bayesgraph.core.lowering.time import time_references
    from bayesgraph.exceptions import GraphStructureError

    inside = {name for members in classes for name in members}
    for members in classes:
        for name in members:
            var = spec.variable(name)
            facts = DISTRIBUTIONS[var.distribution]
            if facts.support == "deterministic":
                continue
            for key, expr in var.params:
                if key not in facts.support_parameters:
                    continue
                read = set().union(*time_references(expr)) & inside
                if read:
                    raise GraphStructureError(
                        f"{name!r} ({var.distribution}) is on a recurrence over time and its "
                        f"support parameter {key!r} reads {sorted(read)[0]!r} on the same "
                        "recurrence: not supported (the support must be known before the "
                        "series); give it bounds that are constants, StaticVariables or "
                        "variables outside the recurrence"
                    )


def _assemble(spec: ModelSpec, classes: list[list[str]],
              group_of: dict[str, int], edges: list[set[int]],
              components: list[list[int]],
              steps: dict[int, list[int]] | None = None) -> GroupedSpec:
    # order: components in topological order; inside a component by first member
    position = {v.name: i for i, v in enumerate(spec.variables)}
    order: list[int] = []
    component_of: dict[int, int] = {}
    for c, component in enumerate(components):
        for i in sorted(component, key=lambda i: position[classes[i][0]]):
            order.append(i)
            component_of[i] = c
    renumber = {old: new for new, old in enumerate(order)}
    classes = [classes[old] for old in order]
    group_of = {name: renumber[g] for name, g in group_of.items()}
    member_index = {name: m for members in classes for m, name in enumerate(members)}
    arrays: dict[str, np.ndarray] = {}

    # blocks
    block_of: dict[int, int] = {}
    blocks: list[Block] = []
    units: list[tuple[str, int]] = []
    seen_components: set[int] = set()
    for old in order:
        c = component_of[old]
        if c in seen_components:
            continue
        seen_components.add(c)
        members_of_c = sorted(renumber[i] for i in components[c])
        cyclic = len(members_of_c) > 1 or old in edges[old]
        if not cyclic:
            units.append(("group", members_of_c[0]))
            continue
        b = len(blocks)
        for g in members_of_c:
            block_of[g] = b
        if steps and c in steps:  # a recurrence over time: groups in step order, no levels
            blocks.append(Block(tuple(renumber[i] for i in steps[c]), 0, True))
        else:
            blocks.append(Block(tuple(members_of_c), 0))
        units.append(("block", b))

    groups: list[GroupSpec] = []
    for g, members in enumerate(classes):
        first = spec.variable(members[0])
        name = first.name if len(members) == 1 else f"{first.name}+{len(members) - 1}"
        params = []
        for p, (key, expr) in enumerate(first.params):
            builder = _ExprBuilder(f"{name}/{key}", members, spec, group_of, member_index,
                                   [len(c) for c in classes], arrays, p)
            params.append((key, builder.build(expr)))
        roles = {spec.variable(m).role for m in members}
        role: Role = roles.pop() if len(roles) == 1 and "partial" not in roles else "partial"
        n_missing = 0
        if role == "partial":
            n_missing = sum(_n_missing(spec.variable(m), spec.n_data) for m in members)
        groups.append(GroupSpec(
            index=g, name=name, members=tuple(members), dynamic=first.dynamic,
            shape=first.shape, dtype=first.dtype, distribution=first.distribution,
            params=tuple(params), role=role, n_missing=n_missing,
            density_is_fixed=all(spec.variable(m).density_is_fixed for m in members),
            block=block_of.get(g), constraint=first.constraint,
        ))
    blocks = [block if block.recurrent else _levels(block, groups, spec, arrays)
              for block in blocks]
    return GroupedSpec(root_name=spec.root_name, n_data=spec.n_data, groups=tuple(groups),
                       blocks=tuple(blocks), units=tuple(units), arrays=arrays, spec=spec)


def _n_missing(var: Any, n_data: int) -> int:
    if var.role == "latent":
        return int(np.prod(var.full_shape(n_data), dtype=np.int64))
    return var.n_missing if var.role == "partial" else 0


def _levels(block: Block, groups: list[GroupSpec], spec: ModelSpec,
            arrays: dict[str, np.ndarray]) -> Block:
    inside = {m for g in block.groups for m in groups[g].members}
    level: dict[str, int] = {}
    for var in spec.variables:
        if var.name in inside:
            level[var.name] = 1 + max((level[p] for p in var.parents if p in inside),
                                      default=-1)
    n_levels = 1 + max(level.values())
    for g in block.groups:
        spec_g = groups[g]
        per_level: list[list[int]] = [[] for _ in range(n_levels)]
        for m, name in enumerate(spec_g.members):
            per_level[level[name]].append(m)
        width = max(1, max(len(row) for row in per_level))
        gather = np.zeros((n_levels, width), dtype=np.int64)
        scatter = np.full((n_levels, width), spec_g.size, dtype=np.int64)
        for lv, row in enumerate(per_level):
            if row:
                gather[lv, :] = row[0]
                gather[lv, :len(row)] = row
                scatter[lv, :len(row)] = row
        arrays[f"{spec_g.name}/level_gather"] = gather
        arrays[f"{spec_g.name}/level_scatter"] = scatter
    return Block(block.groups, n_levels)


def _all_equal(values: list[Any]) -> bool:
    """Whether every value equals the first (``np.array_equal``); scalars without numpy."""
    first = values[0]
    if all(type(v) is np.ndarray and v.ndim == 0 for v in values):
        x = float(first)
        return all(float(v) == x for v in values)
    return all(np.array_equal(first, v) for v in values[1:])


class _ExprBuilder:
    """Builds one parameter's grouped expression from the members' per-variable trees."""

    def __init__(self, prefix: str, members: list[str], spec: ModelSpec,
                 group_of: dict[str, int], member_index: dict[str, int], sizes: list[int],
                 arrays: dict[str, np.ndarray], param: int) -> None:
        self.prefix, self.members, self.sizes = prefix, members, sizes
        self.group_of, self.member_index, self.arrays = group_of, member_index, arrays
        # the leaves of this parameter only, per member, in skeleton order
        self.refs: list[list[str]] = []
        self.consts: list[list[Const]] = []
        self.keys: list[list[Any]] = []  # index keys, per member, in skeleton order
        for name in members:
            refs: list[str] = []
            consts: list[Const] = []
            keys: list[Any] = []
            _leaves(spec.variable(name).params[param][1], refs, consts, keys)
            self.refs.append(refs)
            self.consts.append(consts)
            self.keys.append(keys)
        self.n_ref = 0
        self.n_const = 0
        self.n_key = 0

    def build(self, expr: Expr) -> GExpr:
        if isinstance(expr, Const):
            j = self.n_const
            self.n_const += 1
            values = [c[j].value for c in self.consts]
            if _all_equal(values):
                return Shared(np.asarray(values[0], dtype=np.float64))
            key = f"{self.prefix}/c{j}"
            self.arrays[key] = np.stack([np.asarray(v, dtype=np.float64) for v in values])
            return PerMember(key, expr.shape)
        if isinstance(expr, Ref):
            j = self.n_ref
            self.n_ref += 1
            targets = [r[j] for r in self.refs]
            target_groups = [self.group_of[t] for t in targets]
            sources = tuple(sorted(set(target_groups)))
            offsets, start = {}, 0
            for s in sources:
                offsets[s] = start
                start += self.sizes[s]
            index = np.array([offsets[gr] + self.member_index[t]
                              for gr, t in zip(target_groups, targets)], dtype=np.int64)
            if len(sources) == 1 and self.sizes[sources[0]] == len(self.members) and \
                    np.array_equal(index, np.arange(len(self.members))):
                return Member(sources, expr.shape, expr.dynamic, "aligned")
            if len(sources) == 1 and np.all(index == index[0]):
                return Member(sources, expr.shape, expr.dynamic, "one", int(index[0]))
            key = f"{self.prefix}/r{j}"
            self.arrays[key] = index
            return Member(sources, expr.shape, expr.dynamic, "gather", key=key)
        assert isinstance(expr, Op)
        keys = None
        if expr.op in _INDEXING:
            keys = [k[self.n_key] for k in self.keys]
            self.n_key += 1
        args = tuple(self.build(a) for a in expr.args)
        if keys is not None and any(_canonical(k) != _canonical(keys[0]) for k in keys[1:]):
            return self._index_by_member(expr, args, keys)
        return GOp(expr.op, args, expr.kwargs, expr.shape, expr.dynamic)

    def _index_by_member(self, expr: Op, args: tuple[GExpr, ...], keys: list[Any]) -> GOp:
        """An index whose integers differ between members: those entries become per-member
        integer operands of the ``index`` operator (normalised to ``0 .. n - 1``)."""
        j = self.n_key - 1
        columns = list(zip(*(_key_entries(k) for k in keys)))
        operands = list(args)
        key: list[Any] = []
        for axis, column in enumerate(columns):
            if all(_canonical(c) == _canonical(column[0]) for c in column[1:]):
                key.append(column[0])
                continue
            dim = expr.args[0].shape[axis]
            name = f"{self.prefix}/k{j}.{axis}"
            self.arrays[name] = np.stack([np.asarray(c, dtype=np.int64) % dim for c in column])
            operands.append(PerMember(name, self.arrays[name].shape[1:]))
            key.append(Operand(len(operands) - 1))
        kwargs = tuple((k, tuple(key)) if k == "key" else (k, v) for k, v in expr.kwargs)
        return GOp("index", tuple(operands), kwargs, expr.shape, expr.dynamic)


# -- data ------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class GroupedData:
    """The data of a :class:`GroupedSpec`: stacked per group.

    Attributes
    ----------
    values : dict
        ``{group name: (M, *member shape) float64}`` for observed and partial groups, with
        missing entries set to 0.
    missing : dict
        ``{group name: sorted flat int64 indices of the missing entries}`` (partial groups).
    arrays : dict
        The grouped description's per-member constants, index arrays and level arrays.

    Examples
    --------
    >>> from bayesgraph.core import Variable
    >>> from bayesgraph.core.lowering import lower
    >>> x = Variable("x")
    >>> spec, data = lower(x, {x: [1.0, float("nan")]})
    >>> grouped = group(spec)
    >>> stacked = group_data(grouped, data)
    >>> stacked.values["x"].tolist(), stacked.missing["x"].tolist()
    ([[1.0, 0.0]], [1])
    """

    values: dict[str, np.ndarray]
    missing: dict[str, np.ndarray]
    arrays: dict[str, np.ndarray] = field(default_factory=dict)


@gc_paused
def group_data(grouped: GroupedSpec, lowered: LoweredData) -> GroupedData:
    """Stack the per-variable data of ``lowered`` by group (missing entries as flat indices).

    Examples
    --------
    >>> from bayesgraph.core import Variable
    >>> from bayesgraph.core.lowering import lower
    >>> v = Variable("v")
    >>> spec, data = lower(v, {v: [2.0]})
    >>> group_data(group(spec), data).values["v"].shape
    (1, 1)
    """
    values: dict[str, np.ndarray] = {}
    missing: dict[str, np.ndarray] = {}
    n = grouped.n_data
    for g in grouped.groups:
        if g.role == "latent":
            continue
        member = g.member_shape(n)
        size = int(np.prod(member, dtype=np.int64))
        if g.size == 1:
            values[g.name] = lowered.values[g.members[0]][None]
        else:
            values[g.name] = np.stack([
                lowered.values[m] if m in lowered.values else np.zeros(member)
                for m in g.members])
        if g.role == "partial":
            holes = []
            for m, name in enumerate(g.members):
                var = grouped.spec.variable(name)
                if var.role == "latent":
                    holes.append(np.arange(size, dtype=np.int64) + m * size)
                elif var.role == "partial":
                    holes.append(lowered.missing[name] + m * size)
            missing[g.name] = np.concatenate(holes) if holes else np.zeros(0, np.int64)
    return GroupedData(values, missing, dict(grouped.arrays))


@gc_paused
def member_slices(grouped: GroupedSpec, data: GroupedData) -> dict[str, tuple[slice, Any]]:
    """Where each partially known variable's missing entries sit in its group's site.

    Returns ``{global name: (slice of the site vector, flat positions in the variable)}``.

    Examples
    --------
    >>> from bayesgraph.core import Variable
    >>> from bayesgraph.core.lowering import lower
    >>> x = Variable("x")
    >>> spec, data = lower(x, {x: [1.0, float("nan")]})
    >>> grouped = group(spec)
    >>> member_slices(grouped, group_data(grouped, data))["x"][0]
    slice(0, 1, None)
    """
    result: dict[str, tuple[slice, Any]] = {}
    n = grouped.n_data
    for g in grouped.groups:
        if g.role != "partial":
            continue
        size = int(np.prod(g.member_shape(n), dtype=np.int64))
        flat = data.missing[g.name]
        bounds = np.searchsorted(flat, np.arange(g.size + 1) * size)
        # every entry's position in its member, in one pass (each member gets a view)
        local = flat - np.repeat(np.arange(g.size, dtype=np.int64) * size, np.diff(bounds))
        edges = bounds.tolist()
        for m, name in enumerate(g.members):
            lo, hi = edges[m], edges[m + 1]
            result[name] = (slice(lo, hi), local[lo:hi])
    return result


__all__ = ["group", "group_data", "member_slices", "GroupedSpec", "GroupSpec", "GroupedData",
           "Block", "Shared", "PerMember", "Member", "GOp", "GExpr", "MISSING_SUFFIX"]
