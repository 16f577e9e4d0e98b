"""Bernoulli distribution over booleans, given the probability ``mean`` or its ``logit``."""

from __future__ import annotations

from bayesgraph.core.distribution.distribution_base import DistributionBase


class BernoulliDistribution(DistributionBase):
    """Bernoulli distribution over booleans, given the probability ``mean`` or its ``logit``.

    Examples
    --------
    >>> from bayesgraph.core import Variable
    >>> v = Variable("v", distribution="BernoulliDistribution", mean=0.3)
    >>> type(v.distribution).__name__
    'BernoulliDistribution'
    """

    parameter_groups = (('mean', 'logit'),)
    defaults = {'mean': 0.5}
    dtypes = ('bool',)
    discrete = True
    positive = ()
    unit_interval = ('mean',)
    support = 'boolean'
