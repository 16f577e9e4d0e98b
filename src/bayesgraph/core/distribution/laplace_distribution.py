"""Laplace distribution, parametrised by ``mean`` and ``variance`` (not by scale)."""

from __future__ import annotations

from bayesgraph.core.distribution.distribution_base import DistributionBase


class LaplaceDistribution(DistributionBase):
    """Laplace distribution, parametrised by ``mean`` and ``variance`` (not by scale).

    Examples
    --------
    >>> from bayesgraph.core import Variable
    >>> v = Variable("v", distribution="LaplaceDistribution", mean=0.0, variance=2.0)
    >>> type(v.distribution).__name__
    'LaplaceDistribution'
    """

    parameter_groups = (('mean',), ('variance',))
    defaults = {'mean': 0.0, 'variance': 1.0}
    dtypes = ('float',)
    discrete = False
    positive = ('variance',)
    unit_interval = ()
    support = 'real'
    truncatable = True
