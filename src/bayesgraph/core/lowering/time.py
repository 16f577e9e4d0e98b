"""Time shifts in the frozen description: which references look into the past.

A parameter that reads ``y[TimeIndex - 1]`` reads ``y`` *strictly lagged*: at step ``t`` it
needs ``y`` at ``t - 1`` only. Such an edge does not order ``y`` before its reader within a
step, so a variable may read its own past (an AR process) and variables may read each other's
past: a *recurrence*, run as a scan over time by ancestral modes, scored at once by density
modes. Everything else (a reference at the current step, or a lead ``y[TimeIndex + 1]``) is
an ordinary edge; a lead inside a recurrence would read a step not made yet and is refused.

Examples
--------
>>> from bayesgraph.core import Graph, Variable, TimeIndex
>>> from bayesgraph.core.lowering import lower
>>> with Graph("ar") as ar:
...     e = Variable("e")
...     y = Variable("y")
...     y.mean = 0.5 * y[TimeIndex - 1] + e
>>> spec, _ = lower(ar)
>>> time_references(spec.variable("ar/y").params[0][1])
({'ar/e'}, {'ar/y'}, set())
"""

from __future__ import annotations

from typing import Any

from bayesgraph.core.lowering.spec import Expr, ModelSpec, Op, Ref

TIME_SHIFT = "time_shift"


def time_references(expr: Expr) -> tuple[set[str], set[str], set[str]]:
    """``(now, lagged, led)``: the variables ``expr`` reads at the current step, only in the
    past (under shifts < 0 and none > 0), and in the future (under some shift > 0).

    A variable read both now and lagged is in both sets.

    Examples
    --------
    >>> from bayesgraph.core.lowering.spec import Ref
    >>> time_references(Ref("x", (), True))
    ({'x'}, set(), set())
    """
    now: set[str] = set()
    lagged: set[str] = set()
    led: set[str] = set()
    _walk(expr, False, False, now, lagged, led)
    return now, lagged, led


def _walk(node: Any, lag: bool, lead: bool, now: set[str], lagged: set[str], led: set[str]
          ) -> None:
    # a module-level function, not a closure: a recursive closure is a reference cycle
    # (function -> cell -> function), garbage for the cyclic collector at every call
    if isinstance(node, Ref):
        (led if lead else lagged if lag else now).add(node.name)
    elif isinstance(node, Op):
        if node.op == TIME_SHIFT:
            shift = dict(node.kwargs)["shift"]
            lag, lead = lag or shift < 0, lead or shift > 0
        for arg in node.args:
            _walk(arg, lag, lead, now, lagged, led)


def shifted_variables(spec: ModelSpec) -> dict[str, str]:
    """``{variable read under a time shift: a variable whose parameter reads it so}``.

    Examples
    --------
    >>> from bayesgraph.core import Graph, Variable, TimeIndex
    >>> from bayesgraph.core.lowering import lower
    >>> with Graph("g") as g:
    ...     x = Variable("x")
    ...     y = Variable("y", mean=x[TimeIndex - 1])
    >>> shifted_variables(lower(g)[0])
    {'g/x': 'g/y'}
    """
    found: dict[str, str] = {}
    for var in spec.variables:
        for _, expr in var.params:
            _, lagged, led = time_references(expr)
            for name in sorted(lagged | led):
                found.setdefault(name, var.name)
    return found


__all__ = ["time_references", "shifted_variables", "TIME_SHIFT"]
