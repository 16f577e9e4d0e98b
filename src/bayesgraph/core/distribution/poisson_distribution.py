"""Poisson distribution over non-negative integers, given ``mean`` or ``log_mean``."""

from __future__ import annotations

from bayesgraph.core.distribution.distribution_base import DistributionBase


class PoissonDistribution(DistributionBase):
    """Poisson distribution over non-negative integers, given ``mean`` or ``log_mean``.

    Examples
    --------
    >>> from bayesgraph.core import Variable
    >>> v = Variable("v", distribution="PoissonDistribution", mean=3.0)
    >>> type(v.distribution).__name__
    'PoissonDistribution'
    """

    parameter_groups = (('mean', 'log_mean'),)
    defaults = {'mean': 1.0}
    dtypes = ('int',)
    discrete = True
    positive = ('mean',)
    unit_interval = ()
    support = 'nonnegative_integer'
