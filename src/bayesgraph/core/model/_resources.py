"""Resource guards: how much memory a request needs, and whether this machine has it.

Every request that materialises draws (``get_samples``, ``get_example``, the ArviZ export)
estimates its size first (``n_samples`` x the values it returns, plus the latent draws it
is computed from) and raises :class:`~bayesgraph.exceptions.ResourceError` with the numbers
and the fix when that exceeds half of the memory available, instead of letting the process
abort inside XLA or swap until it hangs. Moments (``get_means``, ``get_variances``) are
computed in chunks of at most :data:`CHUNK_BYTES`, so their memory does not grow with
``n_samples``; a request whose work exceeds :data:`MAX_VALUES` scalar draws is refused
because it would run for hours.

Examples
--------
>>> available_bytes() > 0
True
>>> describe_bytes(3 * 2**30)
'3.0 GiB'
"""

from __future__ import annotations

import os

from bayesgraph.exceptions import ResourceError

#: the largest block of draws one chunk of a moment computation holds (bytes)
CHUNK_BYTES = 2 ** 27
#: the most scalar draws one request may compute (1e11: hours of work on one core)
MAX_VALUES = 10 ** 11
#: the share of available memory one request may use
SHARE = 0.5


def available_bytes() -> int:
    """Memory available to this process now (bytes); a large number where unknown.

    Examples
    --------
    >>> isinstance(available_bytes(), int)
    True
    """
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):  # pragma: no cover - exotic platforms
        return 2 ** 62


def describe_bytes(n: float) -> str:
    """``n`` bytes in words.

    Examples
    --------
    >>> describe_bytes(1536)
    '1.5 KiB'
    """
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if n < 1024 or unit == "PiB":
            return f"{n:.1f} {unit}" if unit != "B" else f"{int(n)} B"
        n /= 1024
    return f"{n:.1f} PiB"  # pragma: no cover


def check_request(what: str, n_samples: int, values_per_draw: int, *,
                  itemsize: int = 8, fix: str = "", option: str | None = "n_samples") -> None:
    """Refuse a request of ``n_samples`` draws of ``values_per_draw`` scalars each that
    would not fit in memory (or would take hours); the message names ``option``, the
    keyword that asked for the draws (``None``: the draws are not the user's choice).

    Raises
    ------
    ResourceError
        With the estimate, what is available and ``fix``.

    Examples
    --------
    >>> check_request("get_samples", 10, 100)
    >>> check_request("get_samples", 10 ** 12, 10 ** 6)
    Traceback (most recent call last):
    ...
    bayesgraph.exceptions.ResourceError: get_samples of 1000000000000 draws (n_samples=... ...
    """
    total = n_samples * max(values_per_draw, 1)
    needed = total * itemsize
    available = available_bytes()
    if needed > SHARE * available or total > MAX_VALUES:
        per_draw = describe_bytes(max(values_per_draw, 1) * itemsize)
        feasible = max(1, int(min(SHARE * available / itemsize, MAX_VALUES)
                              // max(values_per_draw, 1)))
        named = f" ({option}={n_samples})" if option else ""
        ask = (f"lower {option} to at most about {feasible}" if option
               else f"ask for at most about {feasible} draws")
        raise ResourceError(
            f"{what} of {n_samples} draws{named} needs about {describe_bytes(needed)} "
            f"({per_draw} per draw), but this machine has {describe_bytes(available)} "
            "available" + (" and it would run for hours" if total > MAX_VALUES else "")
            + f"; {ask}" + (f", {fix}" if fix else "")
        )


def chunk_size(n_samples: int, values_per_draw: int, itemsize: int = 8) -> int:
    """How many draws one chunk of a streamed computation holds.

    Examples
    --------
    >>> chunk_size(10 ** 9, 10 ** 6)
    16
    """
    return int(max(1, min(n_samples, CHUNK_BYTES // (itemsize * max(values_per_draw, 1)))))
