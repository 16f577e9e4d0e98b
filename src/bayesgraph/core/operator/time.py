"""Time along the examples axis: the :data:`TimeIndex` sentinel and the rules of time shifts.

The examples axis of a dynamic variable is time. ``x[TimeIndex - k]`` is ``x`` lagged by
``k`` steps (``TimeShift(x, shift=-k, initial_values=0)``): its value at step ``t`` is ``x``
at ``t - k``, and the first ``k`` steps, which have no past, take ``initial_values``. A
positive shift is a lead (``x[TimeIndex + k]``: ``x`` at ``t + k``; the *last* ``k`` steps
take ``initial_values``).

This module is a leaf (numpy only): the operator itself (``TimeShift``, op
``"time_shift"``) lives in :mod:`bayesgraph.core.operator.operators`.

Examples
--------
>>> TimeIndex - 2
TimeIndex - 2
>>> (TimeIndex - 1 - 1).offset
-2
>>> import numpy as np
>>> shift_values(np.arange(4.0), shift=-1, initial_values=9.0).tolist()
[9.0, 0.0, 1.0, 2.0]
"""

from __future__ import annotations

from typing import Any

import numpy as np

from bayesgraph.exceptions import ExpressionError


class TimeOffset:
    """A step relative to the current one, ``TimeIndex + offset``: an index into the
    examples (time) axis of a dynamic variable.

    Only integer offsets are meaningful: ``TimeIndex - 1``, ``TimeIndex - i - 1``,
    ``TimeIndex + 2``.

    Examples
    --------
    >>> (TimeIndex + 3 - 1).offset
    2
    """

    __slots__ = ("offset",)
    __array_ufunc__ = None

    def __init__(self, offset: int = 0) -> None:
        self.offset = int(offset)

    def _step(self, k: Any, sign: int) -> TimeOffset:
        if isinstance(k, (bool, np.bool_)) or not isinstance(k, (int, np.integer)):
            raise ExpressionError(
                f"TimeIndex {'+' if sign > 0 else '-'} {k!r}: a time offset must be a whole "
                "number of steps (an int), e.g. x[TimeIndex - 1]"
            )
        return TimeOffset(self.offset + sign * int(k))

    def __add__(self, k: Any) -> TimeOffset:
        return self._step(k, 1)

    __radd__ = __add__

    def __sub__(self, k: Any) -> TimeOffset:
        return self._step(k, -1)

    def __rsub__(self, k: Any) -> TimeOffset:
        raise ExpressionError(
            f"{k!r} - TimeIndex runs backwards in time; write TimeIndex - k for a lag or "
            "TimeIndex + k for a lead"
        )

    def __neg__(self) -> TimeOffset:
        raise ExpressionError("-TimeIndex is not a time; write TimeIndex - k for a lag")

    def _refuse(self, *_: Any) -> TimeOffset:
        raise ExpressionError(
            "TimeIndex can only be shifted by whole steps: TimeIndex - k (a lag) or "
            "TimeIndex + k (a lead)"
        )

    __mul__ = __rmul__ = __truediv__ = __rtruediv__ = __floordiv__ = __mod__ = _refuse
    __pow__ = _refuse

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TimeOffset) and other.offset == self.offset

    def __hash__(self) -> int:
        return hash(("TimeOffset", self.offset))

    def __index__(self) -> int:
        raise ExpressionError(
            "TimeIndex indexes the examples (time) axis of a bayesgraph variable only "
            "(x[TimeIndex - 1]); it is not a number"
        )

    def __repr__(self) -> str:
        if self.offset == 0:
            return "TimeIndex"
        return f"TimeIndex {'+' if self.offset > 0 else '-'} {abs(self.offset)}"


#: The current time step. ``x[TimeIndex - k]`` is ``x`` lagged by ``k`` steps.
TimeIndex = TimeOffset(0)


def check_shift(shift: Any) -> int:
    """The shift as an int, or an :class:`~bayesgraph.exceptions.ExpressionError`.

    Examples
    --------
    >>> check_shift(-2)
    -2
    """
    if isinstance(shift, TimeOffset):
        return shift.offset
    if isinstance(shift, (bool, np.bool_)) or not isinstance(shift, (int, np.integer)):
        raise ExpressionError(
            f"TimeShift: shift={shift!r} must be a whole number of steps (an int; negative "
            "for a lag, e.g. shift=-1)"
        )
    return int(shift)


def freeze_initial_values(values: Any) -> float | tuple:
    """Constant initial values as a float or a nested tuple of floats (hashable, so that
    equal time shifts of many variables share one group).

    Examples
    --------
    >>> freeze_initial_values([1, 2])
    (1.0, 2.0)
    """
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise ExpressionError(
            f"TimeShift: initial_values={values!r} must be a number or an array of numbers "
            "(constants; a variable is not supported as initial values: give the first "
            "steps data, or add its effect to the series' mean)"
        ) from None
    if not np.isfinite(array).all():
        raise ExpressionError(f"TimeShift: initial_values={values!r} must be finite numbers")
    return float(array) if array.ndim == 0 else _tuples(array.tolist())


def _tuples(value: Any) -> Any:
    return tuple(_tuples(v) for v in value) if isinstance(value, list) else float(value)


def initial_block(shape: tuple[int, ...], *, shift: int, initial_values: Any) -> np.ndarray:
    """The ``(|shift|, *shape)`` values that fill the steps without a past (or future).

    ``initial_values`` broadcast to ``(|shift|, *shape)`` by numpy's rules: a scalar or a
    value of one step's shape is used for every filled step; a leading axis of length
    ``|shift|`` gives each filled step its own value.

    Raises ``ValueError`` when they do not broadcast.

    Examples
    --------
    >>> initial_block((), shift=-2, initial_values=(1.0, 2.0)).tolist()
    [1.0, 2.0]
    """
    k = abs(shift)
    values = np.asarray(initial_values, dtype=np.float64)
    try:
        return np.broadcast_to(values, (k, *shape))
    except ValueError:
        raise ValueError(
            f"initial_values of shape {values.shape} do not broadcast to (|shift|, *shape) = "
            f"{(k, *shape)}: give a scalar, one step's value of shape {shape}, or one value "
            f"per filled step, shape {(k, *shape)}"
        ) from None


def time_shift_shape(shape: tuple[int, ...], *, shift: int, initial_values: Any
                     ) -> tuple[int, ...]:
    """The logical shape of ``TimeShift(x)`` (that of ``x``), checking ``initial_values``.

    Examples
    --------
    >>> time_shift_shape((3,), shift=-1, initial_values=0.0)
    (3,)
    """
    initial_block(tuple(shape), shift=shift, initial_values=initial_values)
    return tuple(shape)


def shift_values(x: Any, *, shift: int, initial_values: Any, axis: int = 0) -> np.ndarray:
    """numpy reference: ``x`` shifted along ``axis`` (the examples axis), the uncovered
    steps filled with ``initial_values`` (broadcast to ``(|shift|, *one step's shape)``, one
    step being the axes after ``axis``; those before it are a batch).

    Examples
    --------
    >>> shift_values(np.arange(4.0), shift=1, initial_values=0.0).tolist()
    [1.0, 2.0, 3.0, 0.0]
    """
    x = np.asarray(x, dtype=np.float64)
    axis = axis % x.ndim
    logical = x.shape[axis + 1:]  # one step's shape; axes before ``axis`` are a batch
    block = initial_block(logical, shift=shift, initial_values=initial_values)
    x = np.moveaxis(x, axis, 0)
    n, k = x.shape[0], abs(shift)
    fill = np.broadcast_to(block.reshape((k, *([1] * axis), *logical)), (k, *x.shape[1:]))
    if shift < 0:
        out = np.concatenate([fill, x[:max(n - k, 0)]])[:n]
    elif shift > 0:
        out = np.concatenate([x[k:], fill])[-n:] if n > 0 else x
    else:
        out = x
    return np.moveaxis(out, 0, axis)


__all__ = ["TimeIndex", "TimeOffset", "check_shift", "freeze_initial_values", "initial_block",
           "time_shift_shape", "shift_values"]
