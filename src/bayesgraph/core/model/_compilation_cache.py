"""Caches of compiled code: JAX's persistent compilation cache (on disk, across processes) and
bayesgraph's in-process cache of programs and jitted functions keyed by fingerprints.

In-process: models whose frozen description has the same fingerprint (the same graph built
again, or new data of the same shapes) share one :class:`~bayesgraph.core.compiler.Program`
and one set of jitted functions, so they are neither traced nor compiled again
(:func:`program_for`, :func:`cached_functions`; at most :data:`MAX_CACHED` of each).

On disk: JAX's persistent compilation cache, switched on for bayesgraph's programs by default.

Compiling a model's program (the L-BFGS loop, the Hessian, NUTS) takes about a second, more
than a fit on a million rows; PyMC users never pay it twice because PyMC caches its compiled
code on disk. bayesgraph does the same through JAX's persistent compilation cache: the first
model that is built points the cache at ``~/.cache/bayesgraph/jax`` (or
``$BAYESGRAPH_CACHE_DIR``), unless

* the user already configured a JAX cache directory (theirs is used, untouched), or
* the environment variable ``BAYESGRAPH_COMPILATION_CACHE`` is ``0`` (no cache).

This sets two global JAX options (``jax_compilation_cache_dir`` and
``jax_persistent_cache_min_compile_time_secs``, lowered to 0.1 s so that model programs
qualify); :func:`enable_compilation_cache` does it explicitly, with a folder of your choice.

Examples
--------
>>> import os
>>> os.environ.get("BAYESGRAPH_COMPILATION_CACHE", "1") in ("0", "1")
True
"""

from __future__ import annotations

import os
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jax

_DONE = False


def default_cache_dir() -> Path:
    """The cache folder used when none is configured.

    Examples
    --------
    >>> default_cache_dir().name
    'jax'
    """
    base = os.environ.get("BAYESGRAPH_CACHE_DIR")
    if base:
        return Path(base)
    root = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(root) / "bayesgraph" / "jax"


def enable_compilation_cache(path: str | os.PathLike | None = None,
                             min_compile_time_secs: float = 0.1) -> Path | None:
    """Point JAX's persistent compilation cache at ``path`` (default: :func:`default_cache_dir`).

    Returns the folder in use, or ``None`` if it cannot be created (then nothing changes).

    Examples
    --------
    >>> import tempfile
    >>> folder = enable_compilation_cache(tempfile.mkdtemp())
    >>> folder is not None
    True
    """
    folder = Path(path) if path is not None else default_cache_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    jax.config.update("jax_compilation_cache_dir", str(folder))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", min_compile_time_secs)
    return folder


def ensure_compilation_cache() -> None:
    """Switch the cache on once per process, unless configured otherwise (module docstring).

    Examples
    --------
    >>> ensure_compilation_cache()  # idempotent
    """
    global _DONE
    if _DONE:
        return
    _DONE = True
    if os.environ.get("BAYESGRAPH_COMPILATION_CACHE", "1").strip().lower() in ("0", "false",
                                                                                 "no", "off"):
        return
    if jax.config.jax_compilation_cache_dir:
        return  # the user's own choice
    enable_compilation_cache()


# -- compiled programs and jitted functions, keyed by the frozen description's fingerprint -----
#: how many programs and sets of jitted functions are kept per process (least recently used
#: first out); each holds compiled XLA code
MAX_CACHED = 32


class _LRU:
    """A small least-recently-used cache: ``get(key, build)`` builds on a miss."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.entries: OrderedDict[Any, Any] = OrderedDict()

    def get(self, key: Any, build: Callable[[], Any]) -> Any:
        if key in self.entries:
            self.entries.move_to_end(key)
            return self.entries[key]
        value = build()
        self.entries[key] = value
        while len(self.entries) > self.size:
            self.entries.popitem(last=False)
        return value

    def clear(self) -> None:
        self.entries.clear()


_PROGRAMS = _LRU(MAX_CACHED)
_FUNCTIONS = _LRU(MAX_CACHED)


def program_for(grouped: Any) -> Any:
    """The :class:`~bayesgraph.core.compiler.Program` of a grouped description, shared by
    every model whose description has the same fingerprint.

    Examples
    --------
    >>> from bayesgraph.core import Variable
    >>> from bayesgraph.core.lowering import group, lower
    >>> v = Variable("v")
    >>> program_for(group(lower(v)[0])) is program_for(group(lower(v)[0]))
    True
    """
    from bayesgraph.core.compiler import Program

    return _PROGRAMS.get(grouped.fingerprint, lambda: Program(grouped))


def cached_functions(key: Any, build: Callable[[], Any]) -> Any:
    """Jitted functions built by ``build()`` (which must depend only on ``key``), shared by
    all models with the same ``key``: a second model of the same structure neither traces
    nor compiles again.

    Examples
    --------
    >>> cached_functions(("doc", 1), lambda: object()) is cached_functions(("doc", 1), list)
    True
    """
    return _FUNCTIONS.get(key, build)


def clear_caches() -> None:
    """Forget the cached programs and jitted functions (the next models compile afresh).

    Examples
    --------
    >>> clear_caches()
    """
    _PROGRAMS.clear()
    _FUNCTIONS.clear()
