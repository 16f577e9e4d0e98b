"""The flat layout of a program's latent sites: one vector for optimisers and Hessians.

Examples
--------
>>> import jax.numpy as jnp
>>> Layout([("b", (), 1)]).unravel(jnp.ones(1))["b"].shape
()
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import jax.numpy as jnp


class Layout:
    """Sites in sorted order, flattened into one vector and back.

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> layout = Layout([("a", (2,), 2), ("b", (), 1)])
    >>> layout.ravel({"a": jnp.ones(2), "b": jnp.asarray(3.0)}).tolist()
    [1.0, 1.0, 3.0]
    >>> layout.unravel(jnp.arange(3.0))["a"].tolist()
    [0.0, 1.0]
    """

    def __init__(self, entries: list[tuple[str, tuple[int, ...], int]]) -> None:
        self.entries = list(entries)
        self.dimension = sum(size for _, _, size in self.entries)

    @classmethod
    def of(cls, program: Any) -> Layout:
        """The layout of a program's latent sites (sorted by name), in unconstrained
        coordinates (a simplex of K values takes K-1 entries)."""
        sites = sorted(program.latent_sites, key=lambda site: site.name)
        return cls([(site.name, site.free_shape, math.prod(site.free_shape)) for site in sites])

    def ravel(self, tree: Mapping[str, Any]) -> Any:
        """``{site: value}`` -> flat vector."""
        if not self.entries:
            return jnp.zeros(0)
        return jnp.concatenate([jnp.reshape(tree[name], (-1,)) for name, _, _ in self.entries])

    def unravel(self, z: Any) -> dict[str, Any]:
        """Flat vector -> ``{site: value}``."""
        tree, start = {}, 0
        for name, shape, size in self.entries:
            tree[name] = jnp.reshape(z[start:start + size], shape)
            start += size
        return tree

    def slices(self) -> dict[str, slice]:
        """``{site: slice of the flat vector}``."""
        result, start = {}, 0
        for name, _, size in self.entries:
            result[name] = slice(start, start + size)
            start += size
        return result
