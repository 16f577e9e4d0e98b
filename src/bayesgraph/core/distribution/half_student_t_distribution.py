"""Half-Student-t distribution on ``(0, inf)``: ``|t(degrees_of_freedom, 0, scale)|``."""

from __future__ import annotations

from bayesgraph.core.distribution.distribution_base import DistributionBase


class HalfStudentTDistribution(DistributionBase):
    """Half-Student-t distribution on ``(0, inf)``: ``|t(degrees_of_freedom, 0, scale)|``.

    Examples
    --------
    >>> from bayesgraph.core import Variable
    >>> v = Variable("v", distribution="HalfStudentT", degrees_of_freedom=3, scale=2.0)
    >>> type(v.distribution).__name__
    'HalfStudentTDistribution'
    """

    parameter_groups = (('degrees_of_freedom',), ('scale',))
    defaults = {'scale': 1.0}
    positive = ('degrees_of_freedom', 'scale')
    support = 'positive'
