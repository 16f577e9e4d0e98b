"""OrderedProbit distribution: an ordinal outcome with ordered cut points (normal link)."""

from __future__ import annotations

from bayesgraph.core.distribution.distribution_base import DistributionBase


class OrderedProbitDistribution(DistributionBase):
    """Ordinal (proportional-odds) outcome ``0 .. K-1`` with a normal link (Stan's and PyMC's
    ``OrderedProbit``).

    ``P(y <= k) = Phi(c_k - predictor)`` for the ``K - 1`` increasing ``cutpoints`` ``c_k``
    (their last axis; the number of categories is one more), and ``P(y = k)`` is the
    difference of neighbouring ones. ``predictor`` (default 0) is typically a linear
    predictor; unknown cut points are a variable with ``constraint="ordered"``.

    Examples
    --------
    >>> from bayesgraph.core import Variable
    >>> v = Variable("v", distribution="OrderedProbit", predictor=0.5, cutpoints=[-1.0, 0.0, 2.0])
    >>> type(v.distribution).__name__
    'OrderedProbitDistribution'
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
