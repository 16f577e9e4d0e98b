"""The object returned by ``variable.mean`` and the like.

Examples
--------
>>> from bayesgraph.core import Variable
>>> v = Variable("v", shape=(3,), mean=(0.4, 1.4, 2.4), variance=1.0)
>>> v.mean.value.tolist()
[0.4, 1.4, 2.4]
"""

from __future__ import annotations

from typing import Any

from bayesgraph.core.operator.operators import ExpressionBase


class Parameter(ExpressionBase):
    """One distribution parameter of one variable.

    ``.value`` is the numpy constant or the expression it holds. A parameter can be used in
    expressions (its current value is taken) and assigned to another parameter.

    Examples
    --------
    >>> from bayesgraph.core import Variable
    >>> a = Variable("a", mean=2.0)
    >>> b = Variable("b", mean=a.mean + 1)
    >>> float(a.mean.value), b.mean.value.describe()
    (2.0, '(2.0 + 1)')
    """

    def __init__(self, variable: Any, name: str) -> None:
        self.variable = variable
        self.name = name

    def _node(self) -> Any:
        return self.value

    @property
    def value(self) -> Any:
        """The parameter's value: a numpy array or an expression."""
        return self.variable.distribution.get_parameters()[self.name]

    def __repr__(self) -> str:
        return f"<bayesgraph.Parameter {self.variable.global_name}.{self.name} = {self.value!r}>"
