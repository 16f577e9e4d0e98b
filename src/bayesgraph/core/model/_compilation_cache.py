"""JAX's persistent compilation cache, switched on for bayesgraph's programs by default.

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
from pathlib import Path

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
