"""What the ordinal distributions share: an outcome ``0 .. K-1`` cut by ``K - 1`` increasing
cut points. ``OrderedLogistic`` and ``OrderedProbit`` differ only in their link (the compiler's
entries in ``compiler/distributions.py``)."""

from __future__ import annotations

from bayesgraph.core.distribution.distribution_base import DistributionBase


class OrdinalDistributionBase(DistributionBase):
    """Base of the ordinal (cut-point) distributions; not itself a distribution.

    ``P(y <= k) = F(c_k - predictor)`` for the ``K - 1`` increasing ``cutpoints`` ``c_k`` (their
    last axis; the number of categories is one more), where ``F`` is the subclass's link, and
    ``P(y = k)`` is the difference of neighbouring ones. ``predictor`` (default 0) is typically
    a linear predictor; unknown cut points are a variable with ``constraint="ordered"``.

    Examples
    --------
    >>> from bayesgraph.core.distribution import OrderedProbitDistribution
    >>> issubclass(OrderedProbitDistribution, OrdinalDistributionBase)
    True
    >>> OrdinalDistributionBase.extra_categories
    1
    """

    parameter_groups = (('predictor',), ('cutpoints',))
    defaults = {'predictor': 0.0}
    dtypes = ('int',)
    discrete = True
    positive = ()
    unit_interval = ()
    support = 'categories'
    parameter_kinds = {'cutpoints': 'free'}
    increasing = ('cutpoints',)
    extra_categories = 1
