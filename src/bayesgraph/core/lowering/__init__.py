"""Lowering: from the user's graph and data to a frozen, validated description.

:func:`lower` checks and freezes the graph per variable (:class:`ModelSpec`); :func:`group`
then groups variables of the same kind into vectorised units (:class:`GroupedSpec`), which
is what the compiler builds from.

Examples
--------
>>> from bayesgraph.core import Variable
>>> from bayesgraph.core.lowering import lower
>>> spec, data = lower(Variable("v"))
>>> spec.n_data
1
"""

from bayesgraph.core.lowering.groups import (
    GroupedData,
    GroupedSpec,
    GroupSpec,
    group,
    group_data,
    member_slices,
)
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
           "Ref", "Op", "Expr", "group", "group_data", "member_slices", "GroupedSpec",
           "GroupSpec", "GroupedData"]
