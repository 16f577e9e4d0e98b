"""Descriptions of variables shared by the text and the picture renderings.

Examples
--------
>>> from bayesgraph.core import Graph, Variable
>>> with Graph("g") as g:
...     z = Variable("z", mean=0, variance=1)
>>> variable_line(g.z, "g")
'z: Variable () ~ Normal(mean=0, variance=1)'
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from bayesgraph.core.operator.operators import Operator
from bayesgraph.core.scope import NamedObject, Scopetor
from bayesgraph.core.variable.variable import VariableBase
from bayesgraph.exceptions import DataError, MissingVariableError


def _value_text(value, root: str) -> str:
    if isinstance(value, VariableBase):
        return _relative(value.global_name, root)
    if isinstance(value, Operator):
        text = value.describe()
        for var in value.get_variables():
            text = text.replace(var.global_name, _relative(var.global_name, root))
        return text
    array = np.asarray(value)
    if array.ndim == 0:
        return f"{array.item():g}"
    return np.array2string(array, threshold=6, precision=4)


def _relative(global_name: str, root: str) -> str:
    return global_name[len(root) + 1:] if global_name.startswith(root + "/") else global_name


def variable_line(var, root: str) -> str:
    """One line describing ``var``: kind, shape, distribution with parameters, parents.

    Names are written relative to the root scope named ``root``.

    Examples
    --------
    >>> from bayesgraph.core import Graph, Variable
    >>> with Graph("g") as g:
    ...     z = Variable("z", mean=0, variance=1)
    ...     x = Variable("x", mean=2 * z, variance=0.5)
    >>> variable_line(g.x, "g")
    'x: Variable () ~ Normal(mean=(2 * z), variance=0.5)  <- z'
    """
    dist = type(var.distribution).__name__.replace("Distribution", "") or "No"
    params = ", ".join(f"{k}={_value_text(v, root)}"
                       for k, v in var.distribution.get_parameters().items())
    text = f"{var.name}: {type(var).__name__} {var.shape} ~ {dist}({params})"
    if var.dtype != var.distribution.dtypes[0]:
        text += f" [{var.dtype}]"
    parents = var.get_parents()
    if parents:
        text += "  <- " + ", ".join(_relative(p.global_name, root) for p in parents)
    return text


def observed_status(obj: NamedObject, data: Mapping | None) -> dict[int, str]:
    """``{id(variable): 'observed' | 'partial'}`` for the variables of ``obj`` that ``data``
    observe (``'partial'``: some values are NaN; all NaN observes nothing).

    Keys of ``data`` may be variables, global names or names relative to the root.

    Examples
    --------
    >>> from bayesgraph.core import Graph, Variable
    >>> with Graph("g") as g:
    ...     _ = Variable("x"); _ = Variable("y")
    >>> status = observed_status(g, {g.x: [1.0], "g/y": [float("nan"), 2.0]})
    >>> status[id(g.x)], status[id(g.y)]
    ('observed', 'partial')
    """
    if data is None:
        return {}
    if not isinstance(data, Mapping):
        raise DataError(
            f"data must be a mapping {{variable or global name: values}} or a DataLinker, "
            f"got {type(data).__name__}")
    variables = ([obj] if isinstance(obj, VariableBase) else []) + (
        obj.get_all_variables() if isinstance(obj, Scopetor) else [])
    by_name = {v.global_name: v for v in variables}
    by_id = {id(v) for v in variables}
    root = obj.get_root().global_name if hasattr(obj, "get_root") else obj.global_name
    status: dict[int, str] = {}
    for key, values in data.items():
        if isinstance(key, VariableBase) and id(key) in by_id:
            var = key
        else:
            name = key.global_name if isinstance(key, VariableBase) else key
            var = by_name.get(name) if isinstance(name, str) else None
            if var is None and isinstance(name, str):
                var = by_name.get(f"{root}/{name}")
            if var is None and isinstance(name, str):
                var = by_name.get(f"{obj.global_name}/{name}")
            if var is None:
                shown = name if isinstance(name, str) else repr(key)
                listed = sorted(by_name)
                hint = ", ".join(listed[:8]) + (", ..." if len(listed) > 8 else "")
                raise MissingVariableError(
                    f"data given for {shown!r}, which is not a variable of "
                    f"{obj.global_name!r}; its variables are {hint or 'none'}")
        try:
            array = np.asarray(values, dtype=float)
        except (TypeError, ValueError) as err:
            raise DataError(
                f"data for {var.global_name!r} cannot be read as numbers: {err}") from None
        missing = np.isnan(array)
        if array.size and not missing.all():
            status[id(var)] = "partial" if missing.any() else "observed"
    return status
