"""Binomial distribution: successes in ``total_count`` trials of ``probability`` (or ``logit``)."""

from __future__ import annotations

from bayesgraph.core.distribution.distribution_base import DistributionBase


class BinomialDistribution(DistributionBase):
    """Binomial distribution: successes in ``total_count`` trials of ``probability`` (or ``logit``).

    Examples
    --------
    >>> from bayesgraph.core import Variable
    >>> v = Variable("v", distribution="Binomial", total_count=10, probability=0.3)
    >>> type(v.distribution).__name__
    'BinomialDistribution'
    """

    parameter_groups = (('total_count',), ('probability', 'logit'))
    defaults = {}
    dtypes = ('int',)
    discrete = True
    unit_interval = ('probability',)
    nonnegative = ('total_count',)
    integer = ('total_count',)
    support = 'bounded_integer'
    support_parameters = ('total_count',)
