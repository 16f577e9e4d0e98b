"""Normal distribution truncated to ``[lower, upper]``."""

from __future__ import annotations

from bayesgraph.core.distribution.distribution_base import DistributionBase


class TruncatedNormalDistribution(DistributionBase):
    """Normal distribution truncated to ``[lower, upper]``.

    Normal distribution (``mean``, ``variance``) truncated to ``[lower, upper]``; either bound
    may be left unset.

    Examples
    --------
    >>> from bayesgraph.core import Variable
    >>> v = Variable("v", distribution="TruncatedNormal", mean=1.0, variance=4.0, lower=0.0)
    >>> type(v.distribution).__name__
    'TruncatedNormalDistribution'
    """

    parameter_groups = (('mean',), ('variance',), ('lower',), ('upper',))
    defaults = {'mean': 0.0, 'variance': 1.0}
    positive = ('variance',)
    optional = ('lower', 'upper')
    support = 'interval'
    support_parameters = ('lower', 'upper')
