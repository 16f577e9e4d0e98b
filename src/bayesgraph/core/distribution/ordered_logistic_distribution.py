"""OrderedLogistic distribution: an ordinal outcome with ordered cut points (logistic link)."""

from __future__ import annotations

from bayesgraph.core.distribution.ordinal_distribution_base import OrdinalDistributionBase


class OrderedLogisticDistribution(OrdinalDistributionBase):
    """Ordinal (proportional-odds) outcome ``0 .. K-1`` with a logistic link (Stan's and PyMC's
    ``OrderedLogistic``).

    ``P(y <= k) = sigmoid(c_k - predictor)`` for the ``K - 1`` increasing ``cutpoints`` ``c_k``
    (their last axis; the number of categories is one more); see
    ``OrdinalDistributionBase``.

    Examples
    --------
    >>> from bayesgraph.core import Variable
    >>> v = Variable("v", distribution="OrderedLogistic", predictor=0.5, cutpoints=[-1.0, 0.0, 2.0])
    >>> type(v.distribution).__name__
    'OrderedLogisticDistribution'
    """
