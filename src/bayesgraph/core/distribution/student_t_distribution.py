"""Student's t distribution with ``degrees_of_freedom``, ``location`` and ``scale``."""

from __future__ import annotations

from bayesgraph.core.distribution.distribution_base import DistributionBase


class StudentTDistribution(DistributionBase):
    """Student's t distribution with ``degrees_of_freedom``, ``location`` and ``scale``.

    Examples
    --------
    >>> from bayesgraph.core import Variable
    >>> v = Variable("v", distribution="StudentT", degrees_of_freedom=3, location=0.0, scale=2.0)
    >>> type(v.distribution).__name__
    'StudentTDistribution'
    """

    parameter_groups = (('degrees_of_freedom',), ('location',), ('scale',))
    defaults = {'location': 0.0, 'scale': 1.0}
    positive = ('degrees_of_freedom', 'scale')
    support = 'real'
