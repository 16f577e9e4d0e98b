"""Dirac distribution: a deterministic variable whose value is ``mean``."""

from __future__ import annotations

from bayesgraph.core.distribution.distribution_base import DistributionBase


class DiracDistribution(DistributionBase):
    """Dirac distribution: a deterministic variable whose value is ``mean``.

    Examples
    --------
    >>> from bayesgraph.core import Variable
    >>> v = Variable("v", distribution="DiracDistribution", mean=2.0)
    >>> type(v.distribution).__name__
    'DiracDistribution'
    """

    parameter_groups = (('mean',),)
    defaults = {'mean': 0.0}
    dtypes = ('float', 'bool', 'int')
    discrete = False
    positive = ()
    unit_interval = ()
    support = 'deterministic'
