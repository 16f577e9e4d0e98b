"""Helpers shared by the model classes (MAP, ADVI, MGVI).

* the flat layout of the latent sites (:class:`~bayesgraph.core.model._layout.Layout`);
* user initial values turned into ``{site name: constrained value}``;
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
from bayesgraph.exceptions import DataError


def site_values(model: Any, values: Mapping | None, *, strict: bool = True
                ) -> dict[str, np.ndarray]:
    """``{variable or name: value}`` -> ``{site name: value of the site}`` (float64 numpy).

    With ``strict=False`` keys that name no unobserved variable are ignored (Halerium
    tolerates such string keys in ``initial_source_values``).
    """
    result: dict[str, np.ndarray] = {}
    for key, value in (values or {}).items():
        name = key.global_name if isinstance(key, VariableBase) else str(key)
        if not isinstance(key, VariableBase) and name not in model.spec:
            candidate = f"{model.spec.root_name}/{name}"
            name = candidate if candidate in model.spec else name
        site = model.program.site_of(name)
        if site is None:
            if strict:
                raise DataError(
                    f"initial value given for {name!r}, which has no unobserved entries in "
                    "this model; give initial values only for unobserved variables"
                )
            continue
        var = model.spec.variable(name)
        array = np.asarray(value, dtype=np.float64)
        try:
            array = np.broadcast_to(array, var.full_shape(model.n_data))
        except ValueError:
            raise DataError(
                f"initial value for {name!r} has shape {array.shape}; expected "
                f"{var.full_shape(model.n_data)}"
            ) from None
        if site.partial:
            array = array.reshape(-1)[np.asarray(model._lowered.missing[name])]
        result[site.name] = array
    return result


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
