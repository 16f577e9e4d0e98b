"""Helpers shared by the model classes (MAP, ADVI, MGVI).

* the flat layout of the latent sites (:class:`~bayesgraph.core.model._layout.Layout`);
* user initial values turned into site entries (:func:`site_values`, :func:`override`);
* the decision whether to show a progress bar;
* the "has the loss settled?" rule of ADVI.

Examples
--------
>>> import numpy as np
>>> loss_settled(np.ones(100))
True
>>> loss_settled(np.linspace(10.0, 1.0, 100))
False
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from typing import Any

import numpy as np

from bayesgraph.core.model._layout import Layout  # noqa: F401 - used by MGVIModel
from bayesgraph.core.variable.variable import VariableBase
from bayesgraph.exceptions import DataError, OptionError


def site_values(model: Any, values: Mapping | None, *, strict: bool = True
                ) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """``{variable or name: value}`` -> ``{site: (flat positions in the site, values)}``.

    A variable is one member of its group's site, so a value sets only the site entries
    that belong to it (:func:`override`). With ``strict=False`` keys that name no
    unobserved variable are ignored (Halerium tolerates such string keys in
    ``initial_source_values``).
    """
    result: dict[str, tuple[list, list]] = {}
    n_data = model.n_data
    for key, value in (values or {}).items():
        name = key.global_name if isinstance(key, VariableBase) else str(key)
        if not isinstance(key, VariableBase) and name not in model.spec:
            candidate = f"{model.spec.root_name}/{name}"
            name = candidate if candidate in model.spec else name
        name = model.spec.canonical(name)  # a linked target: its source
        site = model.program.site_of(name) if name in model.spec else None
        var = model.spec.variable(name) if name in model.spec else None
        if site is None or var is None or var.role == "observed":
            if strict:
                raise DataError(
                    f"initial value given for {name!r}, which has no unobserved entries in "
                    "this model; give initial values only for unobserved variables"
                )
            continue
        array = np.asarray(value, dtype=np.float64)
        try:
            array = np.broadcast_to(array, var.full_shape(n_data)).reshape(-1)
        except ValueError:
            raise DataError(
                f"initial value for {name!r} has shape {array.shape}; expected "
                f"{var.full_shape(n_data)}"
            ) from None
        _, member = model.grouped.locate(name)
        if var.dynamic and getattr(model, "rows", None) not in (None, slice(0, n_data)):
            what = "the missing entries of" if site.partial else "the per-row variable"
            raise OptionError(
                f"initial values for {what} {name!r} cannot be given with LocalRows (each "
                "process holds only its rows); leave them out (the model chooses their "
                "start)")
        if site.partial:
            where, positions = model._member_slices[name]
            flat = np.arange(where.start, where.stop)
            array = array[positions]
        else:
            flat = member * array.size + np.arange(array.size)
        entry = result.setdefault(site.name, ([], []))
        entry[0].append(flat)
        entry[1].append(array)
    return {k: (np.concatenate(p), np.concatenate(v)) for k, (p, v) in result.items()}


def override(sites: dict[str, Any], overrides: Mapping[str, tuple[Any, Any]]) -> dict[str, Any]:
    """Set the entries given by :func:`site_values` in ``{site: value}`` (inside jit).

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> override({"a": jnp.zeros((2, 2))}, {"a": (jnp.array([3]), jnp.array([5.0]))})["a"]
    Array([[0., 0.],
           [0., 5.]], dtype=float32)
    """
    out = dict(sites)
    for name, (positions, values) in overrides.items():
        value = out[name]
        out[name] = value.reshape(-1).at[positions].set(
            values.astype(value.dtype)).reshape(value.shape)
    return out


def show_progress(progress_bar: bool | None) -> bool:
    """Whether to show a progress bar: ``None`` means only in an interactive terminal.

    Never shown automatically when the ``CI`` environment variable is set or stdout is
    not a terminal.

    Examples
    --------
    >>> show_progress(False), show_progress(True)
    (False, True)
    """
    if progress_bar is not None:
        return bool(progress_bar)
    if os.environ.get("CI"):
        return False
    try:
        return bool(sys.stdout.isatty())
    except (AttributeError, ValueError):
        return False


def loss_settled(loss: np.ndarray, threshold: float = 3.0, rtol: float = 1e-6) -> bool:
    """Whether a loss history has stopped decreasing, judged against its own noise.

    Let ``w = max(len(loss) // 10, 2)``; compare the mean of the last ``w`` values with the
    mean of the ``w`` before. The noise of one value is estimated from the successive
    differences over those ``2 w`` values (``std(diff) / sqrt(2)``, which a trend barely
    affects), so the standard error of the difference of the two means is
    ``noise * sqrt(2 / w)``. The loss has settled when it dropped by at most
    ``threshold`` standard errors plus ``rtol * max(1, |mean|)``. Histories shorter than 20
    values are never judged settled; non-finite losses are not settled.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> loss_settled(5.0 + rng.normal(size=1000))
    True
    >>> loss_settled(np.ones(10))
    False
    """
    loss = np.asarray(loss, dtype=np.float64)
    if loss.size < 20 or not np.all(np.isfinite(loss[-(loss.size // 5):])):
        return False
    w = max(loss.size // 10, 2)
    last, previous = loss[-w:], loss[-2 * w:-w]
    noise = np.std(np.diff(loss[-2 * w:])) / np.sqrt(2.0)
    drop = previous.mean() - last.mean()
    return bool(drop <= threshold * noise * np.sqrt(2.0 / w)
                + rtol * max(1.0, abs(last.mean())))


def check_int(name: str, value: Any, minimum: int, maximum: int | None = None) -> int:
    """``value`` as an int within bounds, or an OptionError naming ``name``.

    Examples
    --------
    >>> check_int("num_steps", 200.0, 1)
    200
    >>> check_int("num_steps", "abc", 1)
    Traceback (most recent call last):
    ...
    bayesgraph.exceptions.OptionError: num_steps must be an integer >= 1, got 'abc'
    """
    bounds = f">= {minimum}" if maximum is None else f"between {minimum} and {maximum}"
    message = f"{name} must be an integer {bounds}, got {value!r}"
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.number)):
        raise OptionError(message)
    if not np.isfinite(value) or int(value) != value or value < minimum or (
            maximum is not None and value > maximum):
        raise OptionError(message)
    return int(value)


def check_positive(name: str, value: Any) -> float:
    """``value`` as a positive finite float, or an OptionError naming ``name``.

    Examples
    --------
    >>> check_positive("tolerance", 1e-8)
    1e-08
    >>> check_positive("tolerance", -1)
    Traceback (most recent call last):
    ...
    bayesgraph.exceptions.OptionError: tolerance must be a positive number, got -1
    """
    message = f"{name} must be a positive number, got {value!r}"
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.number)):
        raise OptionError(message)
    if not (np.isfinite(value) and value > 0):
        raise OptionError(message)
    return float(value)


#: default tolerances by precision: ``{option: (float64, float32)}``. float32 has 2^29 times
#: float64's rounding error (eps 1.2e-7 against 2.2e-16), so a gradient or residual relative
#: to the objective cannot fall much below ~1e-6 there: the float32 defaults sit a decade
#: above that floor (measured: L-BFGS on a linear-Gaussian regression stalls at a relative
#: gradient of 2e-6 in float32), the float64 ones where they always were
TOLERANCES: dict[str, tuple[float, float]] = {
    "MAP.tolerance": (1e-11, 1e-5),
    "MAPFisher.cg_tolerance": (1e-10, 1e-5),
    "MGVI.tolerance": (1e-10, 1e-5),
    "MGVI.cg_tolerance": (1e-8, 1e-5),
}


def tolerance_for(option: str, value: Any, dtype: str) -> float:
    """``value`` checked positive, or (``None``) the default of ``option`` for ``dtype``.

    Examples
    --------
    >>> [tolerance_for("MAP.tolerance", None, dtype) for dtype in ("float32", "float64")]
    [1e-05, 1e-11]
    >>> tolerance_for("MAP.tolerance", 1e-3, "float32")
    0.001
    """
    if value is None:
        wide, narrow = TOLERANCES[option]
        return narrow if dtype == "float32" else wide
    return check_positive(option.split(".")[1], value)
