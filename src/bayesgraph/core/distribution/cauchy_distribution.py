"""Cauchy distribution with ``location`` and ``scale``."""

from __future__ import annotations

from bayesgraph.core.distribution.distribution_base import DistributionBase


class CauchyDistribution(DistributionBase):
    """Cauchy distribution with ``location`` and ``scale``.

    Examples
    --------
    >>> from bayesgraph.core import Variable
    >>> v = Variable("v", distribution="Cauchy", location=0.0, scale=2.0)
    >>> type(v.distribution).__name__
    'CauchyDistribution'
    """

    parameter_groups = (('location',), ('scale',))
    defaults = {'location': 0.0, 'scale': 1.0}
    positive = ('scale',)
    support = 'real'
    truncatable = True
