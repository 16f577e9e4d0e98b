"""Gamma distribution with ``concentration`` (shape) and ``rate``; mean concentration / rate."""

from __future__ import annotations

from bayesgraph.core.distribution.distribution_base import DistributionBase


class GammaDistribution(DistributionBase):
    """Gamma distribution with ``concentration`` (shape) and ``rate``; mean concentration / rate.

    Examples
    --------
    >>> from bayesgraph.core import Variable
    >>> v = Variable("v", distribution="Gamma", concentration=2.0, rate=0.5)
    >>> type(v.distribution).__name__
    'GammaDistribution'
    """

    parameter_groups = (('concentration',), ('rate',))
    defaults = {'rate': 1.0}
    positive = ('concentration', 'rate')
    support = 'positive'
