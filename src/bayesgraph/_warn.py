"""Warnings that point at the user's line, however deep inside bayesgraph they are raised.

Examples
--------
>>> import warnings
>>> with warnings.catch_warnings(record=True) as caught:
...     warnings.simplefilter("always")
...     warn_user("careful", UserWarning)
>>> len(caught), str(caught[0].message)
(1, 'careful')
"""

from __future__ import annotations

import sys
import warnings
from typing import Any


def warn_user(message: str, category: type[Warning], stacklevel: Any = None) -> None:
    """``warnings.warn`` with the stack level of the first frame outside bayesgraph (the
    ``stacklevel`` argument is accepted and ignored: model classes wrap ``solve``, so a fixed
    level would point into bayesgraph for some classes).

    Examples
    --------
    >>> warn_user("a message", UserWarning)  # doctest: +SKIP
    """
    level, frame = 2, sys._getframe(1)  # stacklevel 2 is our caller
    while frame is not None and frame.f_globals.get("__name__", "").startswith("bayesgraph"):
        frame = frame.f_back
        level += 1
    warnings.warn(message, category, stacklevel=level)
