"""Where a model's data live: one device, or sharded over a 1-D mesh of several.

The ``devices=`` option of the models resolves here (:func:`resolve_devices`), and the data
pytree of ``Program.data_args`` is placed on the devices by :func:`place_data`:

* every leaf with an examples axis (the observed values of a dynamic group, and the
  ``slots`` of its missing entries) is split along that axis, ``NamedSharding(mesh,
  P(None, "data"))``; a group whose member axis is the long one (a pedigree of 10^6 persons
  with one example) is split along the member axis instead, ``P("data")``;
* everything else (static data, per-member constants, index arrays, the flat indices of the
  missing entries) is replicated, and so are the latent values (the optimiser's
  parameters): jit propagates the shardings and XLA reduces the log-density's sum across
  devices.

An axis is split only when the number of devices divides it (XLA's shardings are even);
other leaves stay replicated, which is correct but does not save memory.

Examples
--------
>>> import jax
>>> resolve_devices(1, 10) == (jax.devices()[0],)
True
>>> len(resolve_devices(None, 10))  # short data: one device
1
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from bayesgraph.exceptions import OptionError

#: ``devices=None`` shards only when every device gets at least this many rows (or members):
#: below it the per-step communication costs more than the split saves
MIN_PER_DEVICE = 100_000
#: the name of the mesh axis the data are split along
AXIS = "data"


def resolve_devices(devices: Any, long_axis: int) -> tuple[Any, ...]:
    """The devices a model's data go on, from the ``devices=`` option.

    Parameters
    ----------
    devices : None, int or sequence of jax devices
        ``None``: all devices when there are several processes (``jax.distributed``), or
        all local devices when there are several and ``long_axis`` gives each at least
        :data:`MIN_PER_DEVICE`; otherwise the first device. An int ``k``: the first ``k``
        of ``jax.devices()`` (``1`` forces one device). A sequence: those devices.
    long_axis : int
        The length of the longest axis that could be split (rows or group members).

    Examples
    --------
    >>> import jax
    >>> resolve_devices([jax.devices()[0]], 5) == (jax.devices()[0],)
    True
    """
    available = jax.devices()
    if devices is None:
        if jax.process_count() > 1:
            return tuple(available)
        local = jax.local_devices()
        if len(local) > 1 and long_axis >= MIN_PER_DEVICE * len(local):
            return tuple(local)
        return (local[0],)
    if isinstance(devices, (bool, np.bool_)):
        raise OptionError(f"devices must be None, a positive integer or a list of jax "
                          f"devices, got {devices!r}")
    if isinstance(devices, (int, np.integer)):
        if not 1 <= devices <= len(available):
            raise OptionError(
                f"devices={int(devices)} asks for more devices than JAX sees "
                f"({len(available)}: {available[0].platform}); give at most {len(available)}, "
                "or start more (on CPU: XLA_FLAGS=--xla_force_host_platform_device_count=N "
                "before JAX starts)" if devices > 0 else
                f"devices must be a positive integer, got {int(devices)}")
        return tuple(available[: int(devices)])
    if isinstance(devices, Sequence) and devices and all(
            isinstance(d, jax.Device) for d in devices):
        return tuple(devices)
    raise OptionError(f"devices must be None, a positive integer or a list of jax devices, "
                      f"got {devices!r}")


def longest_axis(grouped: Any) -> int:
    """The longest axis of the data that could be split: rows of dynamic groups with data,
    or members of groups with data."""
    n = grouped.n_data
    longest = 1
    for g in grouped.groups:
        if g.role == "latent":
            continue
        longest = max(longest, g.size, n if g.dynamic else 1)
    return longest


def mesh_of(devices: tuple[Any, ...]) -> Mesh | None:
    """A 1-D mesh over ``devices`` (``None`` for one device: nothing is sharded)."""
    if len(devices) < 2:
        return None
    return Mesh(np.array(devices), (AXIS,))


def split_axis(shape: tuple[int, ...], dynamic: bool, k: int) -> int | None:
    """The axis of a group's ``(M, [n_data,] *shape)`` array to split over ``k`` devices: the
    longer of the member axis and the examples axis among those ``k`` divides, or ``None``.

    Examples
    --------
    >>> [split_axis(s, True, 8) for s in [(1, 800, 3), (1000, 1), (3, 7)]]
    [1, 0, None]
    """
    candidates = [0, 1] if dynamic and len(shape) > 1 else [0]
    fits = [a for a in candidates if shape[a] >= k and shape[a] % k == 0]
    return max(fits, key=lambda a: shape[a]) if fits else None


def place_data(data: dict[str, Any], grouped: Any, mesh: Mesh | None) -> dict[str, Any]:
    """The data pytree placed on ``mesh``: examples (or member) axes split, the rest
    replicated (see the module's docstring). ``mesh=None`` leaves it as it is.

    In a multi-process run each process holds all rows (the model lowered them); the global
    arrays are made from the rows of this process's devices
    (``jax.make_array_from_callback``), so no process ever holds another's shards.
    """
    if mesh is None:
        return data
    k = mesh.devices.size
    dynamic = {g.name: g.dynamic for g in grouped.groups}
    replicated = NamedSharding(mesh, PartitionSpec())

    def put(value: Any, sharding: NamedSharding) -> Any:
        host = np.asarray(value)
        return jax.make_array_from_callback(host.shape, sharding, lambda index: host[index])

    def split(name: str, value: Any) -> Any:
        axis = split_axis(tuple(value.shape), dynamic.get(name, False), k)
        if axis is None:
            return put(value, replicated)
        spec = PartitionSpec(*([None] * axis), AXIS)
        return put(value, NamedSharding(mesh, spec))

    return {
        "values": {name: split(name, v) for name, v in data["values"].items()},
        "slots": {name: split(name, v) for name, v in data["slots"].items()},
        "missing": {name: put(v, replicated) for name, v in data["missing"].items()},
        "arrays": {name: put(v, replicated) for name, v in data["arrays"].items()},
    }


def data_devices(data: dict[str, Any]) -> int:
    """How many devices hold a shard of the data's largest array (1 when not sharded).

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> data_devices({"values": {"x": jnp.ones((1, 4))}, "slots": {}, "missing": {},
    ...               "arrays": {}})
    1
    """
    leaves = [v for part in ("values", "slots") for v in data[part].values()]
    if not leaves:
        return 1
    largest = max(leaves, key=lambda v: v.size)
    sharding = largest.sharding
    return 1 if sharding.is_fully_replicated else len(sharding.device_set)
