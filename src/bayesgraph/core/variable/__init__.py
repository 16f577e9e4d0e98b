"""Variables: :class:`Variable` (dynamic) and :class:`StaticVariable` (static).

Examples
--------
>>> from bayesgraph.core.variable import Variable, StaticVariable, VariableBase
>>> issubclass(StaticVariable, VariableBase)
True
"""

from bayesgraph.core.variable.parameter import Parameter
from bayesgraph.core.variable.variable import StaticVariable, Variable, VariableBase

__all__ = ["VariableBase", "Variable", "StaticVariable", "Parameter"]
