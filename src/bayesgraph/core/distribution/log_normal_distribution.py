"""Log-normal distribution: ``log(v)`` is normal with ``mean_log`` and ``variance_log``."""

from __future__ import annotations

from bayesgraph.core.distribution.distribution_base import DistributionBase


class LogNormalDistribution(DistributionBase):
    """Log-normal distribution: ``log(v)`` is normal with ``mean_log`` and ``variance_log``.

    Examples
    --------
    >>> from bayesgraph.core import Variable
    >>> v = Variable("v", distribution="LogNormalDistribution", mean_log=0.0, variance_log=0.25)
    >>> type(v.distribution).__name__
    'LogNormalDistribution'
    """

    parameter_groups = (('mean_log',), ('variance_log',))
    defaults = {'mean_log': 0.0, 'variance_log': 1.0}
    dtypes = ('float',)
    discrete = False
    positive = ('variance_log',)
    unit_interval = ()
    support = 'positive'
