"""Structural checks of a frozen model that need no numbers: improper posteriors.

A variable with a flat prior (``NoDistribution``, unbounded on at least one side) has a
proper posterior only if data inform it: some observed variable must depend on it, directly
or through other variables. :func:`uninformed_flat_variables` lists those that nothing
informs; every posterior method refuses them before inference (ADVI used to report
0.17 +- 1.6 for such a variable, and MCMC 7e8).

This is a necessary condition, not a sufficient one: two flat variables that data see only
through their sum (``y ~ N(a + b, 1)``) are each informed, yet their posterior is improper;
MAPFisher's Hessian and MGVI's metric are singular there, and MCMC's r-hat reports it.

Examples
--------
>>> from bayesgraph.core import Graph, Variable
>>> from bayesgraph.core.lowering import lower
>>> with Graph("g") as g:
...     a = Variable("a", distribution="NoDistribution")
...     b = Variable("b", distribution="NoDistribution")
...     y = Variable("y", mean=a, variance=1.0)
>>> uninformed_flat_variables(lower(g, {g.y: [1.0]})[0])
['g/b']
"""

from __future__ import annotations

from bayesgraph.core.distribution import DISTRIBUTIONS
from bayesgraph.core.lowering.spec import ModelSpec


def _flat(var) -> bool:
    if not DISTRIBUTIONS[var.distribution].improper:
        return False
    constraint = var.constraint
    bounded = (bool(constraint) and constraint[0] == "interval"
               and constraint[1] is not None and constraint[2] is not None)
    return not bounded  # a flat prior on a bounded interval is proper


def uninformed_flat_variables(spec: ModelSpec) -> list[str]:
    """Unobserved variables with a flat prior on which no observed variable depends.

    Examples
    --------
    >>> from bayesgraph.core import Variable
    >>> from bayesgraph.core.lowering import lower
    >>> uninformed_flat_variables(lower(Variable("v", distribution="NoDistribution"))[0])
    ['v']
    """
    informed: set[str] = set()
    stack = [v.name for v in spec.variables if v.role != "latent"]
    while stack:
        name = stack.pop()
        for parent in spec.variable(name).parents:
            if parent not in informed:
                informed.add(parent)
                stack.append(parent)
    return [v.name for v in spec.variables
            if v.role != "observed" and _flat(v) and v.name not in informed]
