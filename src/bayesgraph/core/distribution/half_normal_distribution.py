"""Half-normal distribution on ``(0, inf)``: ``|N(0, scale**2)|``."""

from __future__ import annotations

from bayesgraph.core.distribution.distribution_base import DistributionBase


class HalfNormalDistribution(DistributionBase):
    """Half-normal distribution on ``(0, inf)``: ``|N(0, scale**2)|``.

    Examples
    --------
    >>> from bayesgraph.core import Variable
    >>> v = Variable("v", distribution="HalfNormal", scale=2.0)
    >>> type(v.distribution).__name__
    'HalfNormalDistribution'
    """

    parameter_groups = (('scale',),)
    defaults = {'scale': 1.0}
    positive = ('scale',)
    support = 'positive'
