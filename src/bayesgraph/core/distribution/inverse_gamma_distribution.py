"""Inverse-gamma distribution with ``concentration`` and ``scale``."""

from __future__ import annotations

from bayesgraph.core.distribution.distribution_base import DistributionBase


class InverseGammaDistribution(DistributionBase):
    """Inverse-gamma distribution with ``concentration`` and ``scale``.

    Inverse-gamma distribution with ``concentration`` and ``scale``: ``1/x`` is
    Gamma(concentration, rate=scale).

    Examples
    --------
    >>> from bayesgraph.core import Variable
    >>> v = Variable("v", distribution="InverseGamma", concentration=3.0, scale=2.0)
    >>> type(v.distribution).__name__
    'InverseGammaDistribution'
    """

    parameter_groups = (('concentration',), ('scale',))
    defaults = {'scale': 1.0}
    positive = ('concentration', 'scale')
    support = 'positive'
