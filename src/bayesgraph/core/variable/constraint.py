"""Constraints on a variable's values: bounds (``lower=``/``upper=``) and ordered vectors.

A constraint restricts the values a variable may take, whatever its distribution: a flat
prior on the positive half-line (``distribution="NoDistribution", lower=0``, the most
common scale prior of Stan models), a normal prior truncated to an interval, or an ordered
vector (cut points of an ordinal regression). The compiler turns it into numpyro's
transforms, so every inference method respects it.

==========================  ========================================================
``constraint=``             values
==========================  ========================================================
``"positive"``              ``> 0`` (the same as ``lower=0``)
``"negative"``              ``< 0`` (``upper=0``)
``"unit_interval"``         ``(0, 1)`` (``lower=0, upper=1``)
``"ordered"``               increasing along the last axis
``"positive_ordered"``      positive and increasing along the last axis
==========================  ========================================================

Examples
--------
>>> Constraint.make(constraint="positive")
Constraint(lower=0.0, upper=None, ordered=False)
>>> Constraint.make(lower=-1, upper=1).kind
'interval'
>>> Constraint.make(constraint="ordered", lower=0).kind
'positive_ordered'
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from bayesgraph.exceptions import ConstraintError

_NAMED = {
    "positive": (0.0, None, False),
    "negative": (None, 0.0, False),
    "unit_interval": (0.0, 1.0, False),
    "ordered": (None, None, True),
    "positive_ordered": (0.0, None, True),
}


def _bound(name: str, value: Any, owner: str) -> float | None:
    if value is None:
        return None
    try:
        result = float(value)
    except (TypeError, ValueError):
        raise ConstraintError(
            f"{name}= of {owner!r} must be a number (bounds are constants), got {value!r}; "
            "for bounds that depend on other variables use distribution='Uniform' or "
            "'TruncatedNormal', whose lower/upper may be expressions"
        ) from None
    if math.isnan(result):
        raise ConstraintError(f"{name}= of {owner!r} is NaN; give a number or leave it out")
    return None if math.isinf(result) else result


@dataclass(frozen=True)
class Constraint:
    """The set of values a variable may take (see the module docstring).

    Attributes
    ----------
    lower, upper : float or None
        Bounds (open: the values lie strictly inside); ``None`` for none.
    ordered : bool
        Values increase along the variable's last axis.

    Examples
    --------
    >>> Constraint(lower=0.0).kind
    'interval'
    """

    lower: float | None = None
    upper: float | None = None
    ordered: bool = False

    @classmethod
    def make(cls, lower: Any = None, upper: Any = None, constraint: Any = None,
             owner: str = "?") -> Constraint | None:
        """The constraint of ``lower=``, ``upper=`` and ``constraint=``; ``None`` for none.

        Raises
        ------
        ConstraintError
            For an unknown name, non-numeric or crossed bounds, and combinations that
            contradict each other.

        Examples
        --------
        >>> Constraint.make() is None
        True
        >>> Constraint.make(upper=3).upper
        3.0
        """
        low, high = _bound("lower", lower, owner), _bound("upper", upper, owner)
        ordered = False
        if constraint is not None:
            if constraint not in _NAMED:
                raise ConstraintError(
                    f"unknown constraint={constraint!r} for {owner!r}; valid: "
                    f"{', '.join(repr(k) for k in _NAMED)} (or lower=/upper= bounds)"
                )
            named_low, named_high, ordered = _NAMED[constraint]
            for side, given, named in (("lower", low, named_low), ("upper", high, named_high)):
                if given is not None and named is not None and given != named:
                    raise ConstraintError(
                        f"constraint={constraint!r} of {owner!r} sets {side}={named}, which "
                        f"contradicts {side}={given}"
                    )
            low = named_low if low is None else low
            high = named_high if high is None else high
        if low is not None and high is not None and not low < high:
            raise ConstraintError(
                f"bounds of {owner!r}: lower={low} must be below upper={high}"
            )
        if ordered and not (low in (None, 0.0) and high is None):
            raise ConstraintError(
                f"ordered values of {owner!r} take no bounds other than lower=0 "
                "(constraint='positive_ordered')"
            )
        if low is None and high is None and not ordered:
            return None
        return cls(low, high, ordered)

    @property
    def kind(self) -> str:
        """``'interval'`` (one or two bounds), ``'ordered'`` or ``'positive_ordered'``."""
        if self.ordered:
            return "positive_ordered" if self.lower == 0.0 else "ordered"
        return "interval"

    def contains(self, low: float, high: float) -> bool:
        """Whether the interval ``[low, high]`` lies inside the bounds (no truncation needed).

        Examples
        --------
        >>> Constraint(lower=0.0).contains(0.0, math.inf)
        True
        """
        return ((self.lower is None or self.lower <= low)
                and (self.upper is None or high <= self.upper))

    def describe(self) -> str:
        """The constraint in words, for messages.

        Examples
        --------
        >>> Constraint(lower=0.0, upper=1.0).describe()
        'values in (0.0, 1.0)'
        """
        if self.ordered:
            return "increasing values" + (" > 0" if self.lower == 0.0 else "")
        low = "-inf" if self.lower is None else repr(self.lower)
        high = "inf" if self.upper is None else repr(self.upper)
        return f"values in ({low}, {high})"
