"""Several processes, each holding only its own rows: :class:`LocalRows`.

In a multi-process run (``jax.distributed``) a model usually gets every row on every process
(``place_data`` then hands each device only its shard). Wrapping the data in
:class:`LocalRows` says instead that each process passes *its own slice* of the rows; the
model then exchanges only small things across processes and never holds another process's
rows in host memory:

1. every process lowers its own rows and publishes a short summary (row count, per
   variable: how it is observed, how many entries are missing, a checksum of static data);
2. the summaries give the global row count ``N`` and each variable's global role (a
   variable with holes in one process only is partly observed everywhere), from which the
   global description (``ModelSpec`` with ``n_data=N``) and hence the same program as one
   process with all rows is built;
3. each process turns its holes into flat indices of the global ``(M, N, *shape)`` array
   (its rows start at its offset: where the mesh puts them) and the processes exchange
   these (one integer per missing entry: the missing entries are latent values, replicated
   on every device like every parameter, so they are not rows);
4. the observed values and the ``slots`` of this process's rows (the global position of
   every hole in its group's missing site) become the process's shards of global arrays
   (``jax.make_array_from_callback``, asked only for this process's devices).

Row-wise results (means, variances and samples of per-row variables, with data or without,
Dirac ones too, predictive draws, log-likelihoods, the ArviZ export) are this process's
rows; static variables are global. Device results are read through :func:`to_host`, which
gathers an array sharded across processes, or takes this process's rows of a per-row one
(see ``docs/scaling.md``).

The arithmetic is split from the exchange, so it is tested in one process by simulating
several (``tests/test_local_rows.py``).

Examples
--------
>>> LocalRows({"x": [1.0, 2.0]}).data
{'x': [1.0, 2.0]}
"""

from __future__ import annotations

import dataclasses
import warnings
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from bayesgraph.core.compiler.program import missing_slots
from bayesgraph.core.distribution import DISTRIBUTIONS
from bayesgraph.core.lowering import group_data, lower
from bayesgraph.core.lowering.groups import GroupedData, GroupedSpec
from bayesgraph.core.lowering.spec import LoweredData, ModelSpec
from bayesgraph.core.model._devices import AXIS
from bayesgraph.exceptions import DataError, DtypeError, MissingDataWarning, OptionError

#: codes of a variable's local role in a summary
_LATENT, _OBSERVED, _PARTIAL = 0, 1, 2
_CODES = {"latent": _LATENT, "observed": _OBSERVED, "partial": _PARTIAL}
#: summary entries per variable: role code, missing entries, checksum of static data
_PER_VARIABLE = 3


class LocalRows:
    """This process's rows of a data set split over the processes of a ``jax.distributed``
    run: pass ``data=LocalRows({variable: rows})`` to a model.

    Every process passes its own contiguous slice of the rows of every per-row
    (:class:`~bayesgraph.core.Variable`) data array, in process order (process 0 the first
    rows), and the same values for static data; the model is the one of all rows joined,
    and no process holds another's rows. Each process must hold the same number of rows per
    device (XLA's shardings are even). In a one-process run the rows are all rows.

    Parameters
    ----------
    data : dict or DataLinker
        ``{variable: array}`` as for ``data=`` (``NaN`` marks missing entries), with this
        process's rows only.

    Examples
    --------
    >>> from bayesgraph.core import Variable
    >>> from bayesgraph.core.model import MAPModel
    >>> x = Variable("x", mean=0, variance=1)
    >>> MAPModel(x, data=LocalRows({x: [0.5, -0.5]})).n_data  # one process: all rows
    2
    """

    def __init__(self, data: Any) -> None:
        if isinstance(data, LocalRows):
            data = data.data
        self.data = data

    def __repr__(self) -> str:
        return f"LocalRows({self.data!r})"


@dataclass(frozen=True)
class RowLayout:
    """Where this process's rows sit among all rows.

    Attributes
    ----------
    n_data : int
        The global row count ``N``.
    offset : int
        The global index of this process's first row.
    n_local : int
        This process's row count.

    Examples
    --------
    >>> RowLayout(n_data=10, offset=4, n_local=6).rows
    slice(4, 10, None)
    """

    n_data: int
    offset: int
    n_local: int

    @property
    def rows(self) -> slice:
        """This process's rows of the global data."""
        return slice(self.offset, self.offset + self.n_local)


def _checksum(lowered: LoweredData, name: str) -> int:
    crc = 0
    for part in (lowered.values, lowered.missing):
        if name in part:
            crc = zlib.crc32(np.ascontiguousarray(part[name]).tobytes(), crc)
    return crc


def summary(spec: ModelSpec, lowered: LoweredData) -> np.ndarray:
    """This process's summary (int64): its row count, a checksum of the variable names, and
    per variable its local role, number of missing entries and a checksum of its data when
    static.

    Examples
    --------
    >>> from bayesgraph.core import Variable
    >>> x = Variable("x")
    >>> spec, data = lower(x, {x: [1.0, float("nan"), 3.0]})
    >>> summary(spec, data)[[0, 2, 3]].tolist()  # 3 rows; x partial, one entry missing
    [3, 2, 1]
    """
    out = [spec.n_data, zlib.crc32("\n".join(spec.names).encode())]
    for var in spec.variables:
        size = int(np.prod(var.full_shape(spec.n_data), dtype=np.int64))
        missing = {"latent": size, "observed": 0, "partial": var.n_missing}[var.role]
        out += [_CODES[var.role], missing, 0 if var.dynamic else _checksum(lowered, var.name)]
    return np.asarray(out, dtype=np.int64)


def global_spec(spec: ModelSpec, summaries: np.ndarray) -> ModelSpec:
    """The description of all rows joined, from this process's ``spec`` and every process's
    :func:`summary` (``(processes, length)``): ``n_data`` the sum of the row counts, and each
    per-row variable latent (no data anywhere), observed (no holes anywhere) or partial.

    Examples
    --------
    >>> from bayesgraph.core import Variable
    >>> x = Variable("x")
    >>> parts = [lower(x, {x: rows}) for rows in ([1.0, 2.0], [float("nan"), 4.0])]
    >>> joined = global_spec(parts[0][0], np.stack([summary(*p) for p in parts]))
    >>> joined.n_data, joined.variable("x").role, joined.variable("x").n_missing
    (4, 'partial', 1)
    """
    summaries = np.asarray(summaries, dtype=np.int64)
    _same_graph(np.stack([[len(s), s[1]] for s in summaries]))
    n_data = int(summaries[:, 0].sum())
    role_of: dict[str, str] = {}
    variables = []
    fixed: dict[str, bool] = {}
    per_var = summaries[:, 2:].reshape(len(summaries), len(spec.variables), _PER_VARIABLE)
    for i, var in enumerate(spec.variables):
        codes, missing, checks = per_var[:, i, 0], per_var[:, i, 1], per_var[:, i, 2]
        if not var.dynamic:
            if len(set(codes.tolist())) != 1 or len(set(checks.tolist())) != 1:
                raise DataError(f"LocalRows: the processes passed different data for the "
                                f"static variable {var.name!r}; static data are not split "
                                "by rows: give every process the same values")
            role, n_missing = var.role, var.n_missing
        elif (codes == _LATENT).all():
            role, n_missing = "latent", 0
        elif (codes == _OBSERVED).all():
            role, n_missing = "observed", 0
        else:
            role, n_missing = "partial", int(missing.sum())
        role_of[var.name] = role
        dirac = var.distribution == "DiracDistribution"
        if (role != "observed" and var.role == "observed" and var.dtype in ("int", "bool")
                and not dirac and not DISTRIBUTIONS[var.distribution].discrete):
            # the processes with holes refused it while lowering: refuse it here too
            raise DtypeError(
                f"{var.name!r} has dtype {var.dtype!r}, but its {var.distribution} is "
                "continuous and other processes' rows have missing values; give data for all "
                "of it, use a discrete distribution, or dtype='float'")
        parent_fixed = all(fixed[p] if p in fixed else role_of.get(p) == "observed"
                           or _later_observed(spec, summaries, p) for p in var.parents)
        fixed[var.name] = role == "observed" or (dirac and role == "latent" and parent_fixed)
        variables.append(dataclasses.replace(
            var, role=role, n_missing=n_missing, value_is_fixed=fixed[var.name],
            density_is_fixed=role == "observed" and parent_fixed))
    return dataclasses.replace(spec, n_data=n_data, variables=tuple(variables), _index={})


def _same_graph(headers: np.ndarray) -> None:
    """Refuse processes whose graphs differ: ``headers`` is ``(processes, [summary length,
    checksum of the variable names])``."""
    if len({tuple(h) for h in np.asarray(headers).tolist()}) != 1:
        raise OptionError("LocalRows: the processes built different graphs (other variables "
                          "or names); every process must build the same graph")


def _later_observed(spec: ModelSpec, summaries: np.ndarray, name: str) -> bool:
    """Whether a variable later in the order (a lagged parent) is observed in every process."""
    if name not in spec:
        return False
    i = spec.names.index(spec.canonical(name))
    codes = summaries[:, 2 + i * _PER_VARIABLE]
    return bool((codes == _OBSERVED).all())


def align(spec: ModelSpec, lowered: LoweredData, joined: ModelSpec) -> LoweredData:
    """This process's data with the global roles of ``joined``: a partial variable without
    holes here gets an empty list of holes, one without data here all its entries as holes.

    Examples
    --------
    >>> from bayesgraph.core import Variable
    >>> x = Variable("x")
    >>> parts = [lower(x, {x: rows}) for rows in ([1.0, 2.0], [float("nan"), 4.0])]
    >>> joined = global_spec(parts[0][0], np.stack([summary(*p) for p in parts]))
    >>> align(*parts[0], joined).missing["x"].tolist()
    []
    """
    values, missing = dict(lowered.values), dict(lowered.missing)
    for var in joined.variables:
        local = spec.variable(var.name)
        if var.role != "partial" or local.role == "partial":
            continue
        if local.role == "observed":
            missing[var.name] = np.zeros(0, np.int64)
        else:
            shape = local.full_shape(spec.n_data)
            values[var.name] = np.zeros(shape)
            missing[var.name] = np.arange(int(np.prod(shape, dtype=np.int64)), dtype=np.int64)
    return LoweredData(values=values, missing=missing)


def local_grouped_data(grouped: GroupedSpec, lowered: LoweredData, n_local: int
                       ) -> GroupedData:
    """:func:`~bayesgraph.core.lowering.group_data` of this process's rows (``lowered``
    aligned with :func:`align`): flat indices of the holes in the local arrays."""
    local = dataclasses.replace(grouped, n_data=n_local, _locator={}, _fingerprint=[])
    return group_data(local, lowered)


def global_holes(grouped: GroupedSpec, local: GroupedData, layout: RowLayout
                 ) -> dict[str, np.ndarray]:
    """This process's holes of every partial per-row group, as flat indices of the global
    ``(M, N, *shape)`` array (sorted). Static groups are the same in every process.

    Examples
    --------
    >>> from bayesgraph.core import Variable
    >>> from bayesgraph.core.lowering import group
    >>> x = Variable("x")
    >>> spec, data = lower(x, {x: [1.0, float("nan")]})
    >>> layout = RowLayout(n_data=6, offset=2, n_local=2)
    >>> global_holes(group(spec), group_data(group(spec), data), layout)["x"].tolist()
    [3]
    """
    out = {}
    for g in grouped.groups:
        if g.role != "partial" or not g.dynamic:
            continue
        out[g.name] = holes_of_mine(g, local.missing[g.name], layout)
    return out


def joined_data(grouped: GroupedSpec, local: GroupedData, layout: RowLayout,
                holes: Mapping[str, Sequence[np.ndarray]]
                ) -> tuple[GroupedData, dict[str, np.ndarray], dict[str, tuple[slice, Any]]]:
    """From this process's data and every process's :func:`global_holes` (``holes[group]``:
    one array per process): ``(grouped data, slots, member slices)``.

    The grouped data hold this process's values (``(M, n_local, *shape)``) and the flat
    indices of *all* holes (global, sorted: the program's ``data["missing"]``); the slots
    (int32, the local shape) give each local hole's position in its group's missing site,
    and the member slices (as :func:`~bayesgraph.core.lowering.member_slices`) where a
    variable's local holes sit in the site and in its local rows.

    Examples
    --------
    >>> from bayesgraph.core import Variable
    >>> from bayesgraph.core.lowering import group
    >>> x = Variable("x")
    >>> spec, data = lower(x, {x: [float("nan"), 2.0]})  # process 1 of 2; process 0: row 1
    >>> grouped = group(spec)
    >>> local = group_data(grouped, data)
    >>> layout = RowLayout(n_data=4, offset=2, n_local=2)
    >>> mine = global_holes(grouped, local, layout)["x"]
    >>> data_, slots, slices = joined_data(grouped, local, layout, {"x": [np.array([1]), mine]})
    >>> data_.missing["x"].tolist(), slots["x"].tolist(), slices["x"][0]
    ([1, 2], [[1, -1]], slice(1, 2, None))
    """
    missing = dict(local.missing)
    slots: dict[str, np.ndarray] = {}
    slices: dict[str, tuple[slice, Any]] = {}
    for g in grouped.groups:
        if g.role != "partial":
            continue
        shape = local.values[g.name].shape
        flat = local.missing[g.name]
        size = int(np.prod(shape[1:], dtype=np.int64))  # one member, local rows
        if g.dynamic:
            everyone = np.sort(np.concatenate([np.asarray(h, np.int64) for h in holes[g.name]]))
            position = np.searchsorted(everyone, np.asarray(holes_of_mine(g, flat, layout)))
            missing[g.name] = everyone
        else:
            position = np.arange(len(flat))
        ranks = missing_slots(flat, shape)
        slots[g.name] = np.where(ranks >= 0, position[np.maximum(ranks, 0)] if len(position)
                                 else -1, -1).astype(np.int32)
        bounds = np.searchsorted(flat, np.arange(g.size + 1) * size)
        for m, name in enumerate(g.members):
            lo, hi = int(bounds[m]), int(bounds[m + 1])
            start = int(position[lo]) if hi > lo else _site_start(missing[g.name], g, m,
                                                                  layout)
            slices[name] = (slice(start, start + hi - lo), flat[lo:hi] - m * size)
    return GroupedData(local.values, missing, local.arrays), slots, slices


def holes_of_mine(group: Any, flat: np.ndarray, layout: RowLayout) -> np.ndarray:
    """The local flat indices ``flat`` of a per-row group as global flat indices."""
    per_row = int(np.prod(group.shape, dtype=np.int64))
    member, rest = np.divmod(flat, layout.n_local * per_row)
    return member * layout.n_data * per_row + layout.offset * per_row + rest


def _site_start(everyone: np.ndarray, group: Any, member: int, layout: RowLayout) -> int:
    """Where member ``member``'s holes of this process's rows would start in the site."""
    if not group.dynamic:
        return 0
    per_row = int(np.prod(group.shape, dtype=np.int64))
    first = member * layout.n_data * per_row + layout.offset * per_row
    return int(np.searchsorted(everyone, first))


def row_layout(n_locals: Sequence[int], devices: Sequence[Any], mesh: Mesh | None,
               process: int) -> RowLayout:
    """This process's rows among all, from every process's row count ``n_locals`` and the
    mesh the data go on; refuses row counts that do not give every device as many rows.

    Examples
    --------
    >>> row_layout([4], [None], None, 0)
    RowLayout(n_data=4, offset=0, n_local=4)
    """
    n_data = int(sum(n_locals))
    counts = [sum(getattr(d, "process_index", 0) == p for d in devices)
              for p in range(len(n_locals))]
    per_device = {n / c if c else None for n, c in zip(n_locals, counts, strict=True)}
    if 0 in counts or len(per_device) != 1 or n_data % len(devices):
        listed = ", ".join(f"process {p}: {n} rows on {c} device{'s' * (c != 1)}"
                           for p, (n, c) in enumerate(zip(n_locals, counts, strict=True)))
        raise OptionError(
            f"LocalRows: the rows do not split evenly over the devices ({listed}); XLA's "
            f"shardings are even, so give every device the same number of rows: each process "
            f"loads (rows per device) x (its devices) rows (drop rows to make the total "
            f"{n_data} divisible by {len(devices)}, or pass devices=None: all devices)")
    if mesh is None:
        return RowLayout(n_data=n_data, offset=0, n_local=int(n_locals[process]))
    sharding = NamedSharding(mesh, PartitionSpec(None, AXIS))
    index = sharding.addressable_devices_indices_map((1, n_data))
    starts = [idx[1].indices(n_data) for idx in index.values()]
    offset = min(s[0] for s in starts)
    if max(s[1] for s in starts) - offset != n_locals[process]:  # devices out of order
        raise OptionError("LocalRows: this process's devices do not hold contiguous rows; "
                          "pass devices=None (every device, in jax.devices() order)")
    return RowLayout(n_data=n_data, offset=offset, n_local=int(n_locals[process]))


def lower_local(graph: Any, data: Any) -> tuple[ModelSpec, LoweredData, list[Any]]:
    """``lower`` of this process's rows, holding back the warnings about variables whose
    data are all NaN (returned): whether they are unobserved is decided over all processes."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        spec, lowered = lower(graph, data)
    held = []
    for w in caught:
        if issubclass(w.category, MissingDataWarning):
            held.append(w)
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return spec, lowered, held


def allgather(value: np.ndarray) -> np.ndarray:
    """``value`` (int64) of every process, stacked: ``(processes, *shape)``; in 64 bits
    whatever the model's precision (flat indices of large arrays pass 2^31)."""
    from jax.experimental import multihost_utils

    with jax.enable_x64(True):
        return np.asarray(multihost_utils.process_allgather(value))


def to_host(value: Any, dtype: Any = None, *, rows: slice | None = None, axis: int = 0
            ) -> np.ndarray:
    """A device result as a numpy array, also when it is sharded across processes: the one
    way model code reads arrays that can span several processes (the optimiser's vector,
    site values, draws, log-likelihoods).

    Without ``rows``: the global array. An array this process can read whole (fully
    addressable, or replicated) goes straight to ``np.asarray`` (one process, one device:
    nothing else happens); one sharded across processes is gathered
    (``process_allgather``, a collective: every process reads the same arrays in the same
    order, as every process runs the same model code).

    With ``rows`` (this process's rows with :class:`LocalRows`, ``model.rows``): only
    those rows along ``axis``, taken from this process's own shards when they hold them
    (the rows of a per-row result sharded along the rows never leave their process); all
    rows when ``rows`` covers them.

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> to_host(jnp.arange(6).reshape(2, 3), rows=slice(1, 3), axis=1).tolist()
    [[1, 2], [4, 5]]
    >>> to_host([1, 2], np.float64)
    array([1., 2.])
    """
    if rows is not None:
        n = np.shape(value)[axis]
        start, stop, _ = rows.indices(n)
        if (start, stop) != (0, n):
            mine = _own_rows(value, axis, start, stop)
            if mine is None:
                mine = to_host(value)[(slice(None),) * axis + (slice(start, stop),)]
            return mine if dtype is None else np.asarray(mine, dtype)
    if isinstance(value, jax.Array) and not (value.is_fully_addressable
                                             or value.is_fully_replicated):
        from jax.experimental import multihost_utils

        with jax.enable_x64(True):  # an identity: the array keeps its dtype
            value = multihost_utils.process_allgather(value, tiled=True)
    return np.asarray(value, dtype)


def _own_rows(value: Any, axis: int, start: int, stop: int) -> np.ndarray | None:
    """Rows ``start:stop`` along ``axis`` from the shards this process holds, or ``None`` when
    they do not cover them (then the caller gathers)."""
    if not isinstance(value, jax.Array) or value.is_fully_addressable or (
            value.is_fully_replicated):
        return np.asarray(value)[(slice(None),) * axis + (slice(start, stop),)]
    shape = list(value.shape)
    shape[axis] = stop - start
    out = np.empty(shape, value.dtype)
    seen, covered = set(), 0
    for shard in value.addressable_shards:
        index = tuple(s.indices(n)[:2] for s, n in zip(shard.index, value.shape, strict=True))
        lo, hi = index[axis]
        if index in seen or lo < start or hi > stop:
            continue
        seen.add(index)
        target = tuple(slice(a - start, b - start) if i == axis else slice(a, b)
                       for i, (a, b) in enumerate(index))
        out[target] = np.asarray(shard.data)
        covered += int(np.prod([b - a for a, b in index], dtype=np.int64))
    return out if covered == out.size else None


def _gather_ragged(arrays: Mapping[str, np.ndarray], gather: Callable[[np.ndarray], np.ndarray]
                   ) -> dict[str, list[np.ndarray]]:
    """Every process's arrays of different lengths (padded with -1 for the exchange)."""
    names = sorted(arrays)
    if not names:  # the same in every process: the groups' roles are global
        return {}
    lengths = gather(np.asarray([len(arrays[n]) for n in names], dtype=np.int64))
    longest = int(lengths.max())
    if longest == 0:
        return {n: [np.zeros(0, np.int64)] * len(lengths) for n in names}
    padded = np.full((len(names), longest), -1, dtype=np.int64)
    for i, n in enumerate(names):
        padded[i, :len(arrays[n])] = arrays[n]
    everyone = gather(padded)
    return {n: [everyone[p, i, :lengths[p, i]] for p in range(len(everyone))]
            for i, n in enumerate(names)}


@dataclass(frozen=True)
class Joined:
    """The outcome of :func:`prepare`.

    Attributes
    ----------
    spec : ModelSpec
        The description of all rows (global roles, ``n_data`` the global row count).
    lowered : LoweredData
        This process's rows, aligned with the global roles (:func:`align`).
    n_locals : tuple of int
        Every process's row count, in process order.
    """

    spec: ModelSpec
    lowered: LoweredData
    n_locals: tuple[int, ...]


def prepare(graph: Any, rows: LocalRows,
            gather: Callable[[np.ndarray], np.ndarray] = allgather) -> Joined:
    """Lower this process's rows and exchange the summaries: the global description and
    this process's data aligned with it (the row offset comes later, from the mesh)."""
    spec, lowered, held = lower_local(graph, rows.data)
    mine = summary(spec, lowered)
    # the summaries' length depends on the graph: agree on the graph first (fixed length)
    _same_graph(gather(np.asarray([len(mine), mine[1]], dtype=np.int64)))
    summaries = gather(mine)
    joined = global_spec(spec, summaries)
    latent = [repr(v.name) for v in joined.variables if v.role == "latent"]
    for w in held:  # all NaN here: unobserved only if all NaN in every process
        if any(name in str(w.message) for name in latent):
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return Joined(joined, align(spec, lowered, joined),
                  tuple(int(n) for n in summaries[:, 0]))


def place(grouped: GroupedSpec, local: GroupedData, layout: RowLayout,
          gather: Callable[[np.ndarray], np.ndarray], dtype: Any, mesh: Mesh | None
          ) -> tuple[GroupedData, dict[str, tuple[slice, Any]], dict[str, Any]]:
    """Exchange the holes and place this process's rows: ``(grouped data, member slices,
    data pytree)``; per-row values and slots are this process's shards of global arrays,
    the rest (static data, the holes' flat indices, the description's arrays) replicated."""
    holes = _gather_ragged(global_holes(grouped, local, layout), gather)
    data, slots, slices = joined_data(grouped, local, layout, holes)
    dynamic = {g.name: g.dynamic for g in grouped.groups}

    def canonical(value: np.ndarray, floating: bool) -> np.ndarray:
        value = np.asarray(value)
        if floating:
            return value.astype(dtype)
        return value.astype(jax.dtypes.canonicalize_dtype(value.dtype))

    def put(value: np.ndarray, rows: bool) -> Any:
        if mesh is None:
            return jax.numpy.asarray(value)
        if not rows:
            sharding = NamedSharding(mesh, PartitionSpec())
            return jax.make_array_from_callback(value.shape, sharding, lambda i: value[i])
        shape = (value.shape[0], layout.n_data, *value.shape[2:])
        sharding = NamedSharding(mesh, PartitionSpec(None, AXIS))

        def shard(index: tuple[slice, ...]) -> np.ndarray:
            start, stop, _ = index[1].indices(layout.n_data)
            local = slice(start - layout.offset, stop - layout.offset)
            return value[(index[0], local, *index[2:])]
        return jax.make_array_from_callback(shape, sharding, shard)

    pytree = {
        "values": {k: put(canonical(v, True), dynamic[k]) for k, v in data.values.items()},
        "missing": {k: put(canonical(v, False), False) for k, v in data.missing.items()},
        "slots": {k: put(v, dynamic[k]) for k, v in slots.items()},
        "arrays": {k: put(canonical(v, np.asarray(v).dtype.kind == "f"), False)
                   for k, v in data.arrays.items()},
    }
    return data, slices, pytree


__all__ = ["LocalRows", "RowLayout"]
