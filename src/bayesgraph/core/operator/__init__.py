"""Operators: expression nodes and the numpy-like functions that build them.

Examples
--------
>>> from bayesgraph.core import Variable
>>> from bayesgraph.core.operator import exp, operators
>>> isinstance(exp(Variable("x")), operators.Operator)
True
"""

from bayesgraph.core.operator import operators
from bayesgraph.core.operator.functions import *  # noqa: F403
from bayesgraph.core.operator.functions import __all__ as _functions
from bayesgraph.core.operator.operators import OPERATOR_TABLE, ExpressionBase, Operator, TimeShift
from bayesgraph.core.operator.time import TimeIndex

__all__ = ["operators", "Operator", "ExpressionBase", "OPERATOR_TABLE", "TimeIndex", "TimeShift",
           *_functions]
