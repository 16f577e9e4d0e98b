"""Beta distribution on ``(0, 1)`` with ``alpha`` and ``beta``; mean alpha / (alpha + beta)."""

from __future__ import annotations

from bayesgraph.core.distribution.distribution_base import DistributionBase


class BetaDistribution(DistributionBase):
    """Beta distribution on ``(0, 1)`` with ``alpha`` and ``beta``; mean alpha / (alpha + beta).

    Examples
    --------
    >>> from bayesgraph.core import Variable
    >>> v = Variable("v", distribution="Beta", alpha=2.0, beta=3.0)
    >>> type(v.distribution).__name__
    'BetaDistribution'
    """

    parameter_groups = (('alpha',), ('beta',))
    defaults = {'alpha': 1.0, 'beta': 1.0}
    positive = ('alpha', 'beta')
    support = 'unit_interval'
