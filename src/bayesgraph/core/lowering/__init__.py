"""Lowering: from the user's graph and data to a frozen, validated description.

Examples
--------
>>> from bayesgraph.core import Variable
>>> from bayesgraph.core.lowering import lower
>>> spec, data = lower(Variable("v"))
>>> spec.n_data
1
"""

from bayesgraph.core.lowering.lower import collect_variables, lower
from bayesgraph.core.lowering.spec import (
    Const,
    Expr,
    LoweredData,
    ModelSpec,
    Op,
    Ref,
    VariableSpec,
)

__all__ = ["lower", "collect_variables", "ModelSpec", "VariableSpec", "LoweredData", "Const",
           "Ref", "Op", "Expr"]
