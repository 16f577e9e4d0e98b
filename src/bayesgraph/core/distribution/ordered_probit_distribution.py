"""OrderedProbit distribution: an ordinal outcome with ordered cut points (normal link)."""

from __future__ import annotations

from bayesgraph.core.distribution.ordinal_distribution_base import OrdinalDistributionBase


class OrderedProbitDistribution(OrdinalDistributionBase):
    """Ordinal (proportional-odds) outcome ``0 .. K-1`` with a normal link (Stan's and PyMC's
    ``OrderedProbit``).

    ``P(y <= k) = Phi(c_k - predictor)`` for the ``K - 1`` increasing ``cutpoints`` ``c_k``
    (their last axis; the number of categories is one more); see
    ``OrdinalDistributionBase``.

    Examples
    --------
    >>> from bayesgraph.core import Variable
    >>> v = Variable("v", distribution="OrderedProbit", predictor=0.5, cutpoints=[-1.0, 0.0, 2.0])
    >>> type(v.distribution).__name__
    'OrderedProbitDistribution'
    """
