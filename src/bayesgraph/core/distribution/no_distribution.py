"""No distribution: a flat (improper) prior; the variable must get data to be sampled forward."""

from __future__ import annotations

from bayesgraph.core.distribution.distribution_base import DistributionBase


class NoDistribution(DistributionBase):
    """No distribution: a flat (improper) prior; the variable must get data to be sampled forward.

    Examples
    --------
    >>> from bayesgraph.core import Variable
    >>> v = Variable("v", distribution="NoDistribution")
    >>> type(v.distribution).__name__
    'NoDistribution'
    """

    parameter_groups = ()
    defaults = {}
    dtypes = ('float', 'bool', 'int')
    discrete = False
    positive = ()
    unit_interval = ()
    support = 'real'
    improper = True
