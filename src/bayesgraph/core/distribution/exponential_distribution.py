"""Exponential distribution, given its ``mean``, ``log_mean`` or ``rate``."""

from __future__ import annotations

from bayesgraph.core.distribution.distribution_base import DistributionBase


class ExponentialDistribution(DistributionBase):
    """Exponential distribution, given its ``mean``, ``log_mean`` or ``rate``.

    Examples
    --------
    >>> from bayesgraph.core import Variable
    >>> v = Variable("v", distribution="ExponentialDistribution", rate=2.0)
    >>> type(v.distribution).__name__
    'ExponentialDistribution'
    """

    parameter_groups = (('mean', 'log_mean', 'rate'),)
    defaults = {'mean': 1.0}
    dtypes = ('float',)
    discrete = False
    positive = ('mean', 'rate')
    unit_interval = ()
    support = 'nonnegative'
