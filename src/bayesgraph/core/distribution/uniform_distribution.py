"""Uniform distribution on ``[center - width/2, center + width/2]``."""

from __future__ import annotations

from bayesgraph.core.distribution.distribution_base import DistributionBase


class UniformDistribution(DistributionBase):
    """Uniform distribution on ``[center - width/2, center + width/2]``.

    Examples
    --------
    >>> from bayesgraph.core import Variable
    >>> v = Variable("v", distribution="UniformDistribution", center=0.0, width=2.0)
    >>> type(v.distribution).__name__
    'UniformDistribution'
    """

    parameter_groups = (('center',), ('width',))
    defaults = {'center': 0.0, 'width': 1.0}
    dtypes = ('float',)
    discrete = False
    positive = ('width',)
    unit_interval = ()
    support = 'interval'
    support_parameters = ('center', 'width')
    parameter_event_dims = 0
