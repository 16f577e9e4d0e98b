"""Half-Cauchy distribution on ``(0, inf)`` with ``scale`` (a common prior for scales)."""

from __future__ import annotations

from bayesgraph.core.distribution.distribution_base import DistributionBase


class HalfCauchyDistribution(DistributionBase):
    """Half-Cauchy distribution on ``(0, inf)`` with ``scale`` (a common prior for scales).

    Examples
    --------
    >>> from bayesgraph.core import Variable
    >>> v = Variable("v", distribution="HalfCauchy", scale=5.0)
    >>> type(v.distribution).__name__
    'HalfCauchyDistribution'
    """

    parameter_groups = (('scale',),)
    defaults = {'scale': 1.0}
    positive = ('scale',)
    support = 'positive'
