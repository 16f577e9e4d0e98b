"""Normal distribution, parametrised by mean and variance (the default)."""

from __future__ import annotations

from bayesgraph.core.distribution.distribution_base import DistributionBase


class NormalDistribution(DistributionBase):
    """Normal distribution, parametrised by mean and variance (the default).

    Examples
    --------
    >>> from bayesgraph.core import Variable
    >>> v = Variable("v", mean=1.0, variance=4.0)
    >>> type(v.distribution).__name__
    'NormalDistribution'
    """

    parameter_groups = (('mean',), ('variance',))
    defaults = {'mean': 0.0, 'variance': 1.0}
    dtypes = ('float', 'int')
    discrete = False
    positive = ('variance',)
    unit_interval = ()
    support = 'real'
    truncatable = True
