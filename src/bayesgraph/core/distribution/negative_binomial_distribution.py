"""Negative binomial counts with ``mean`` and ``dispersion``."""

from __future__ import annotations

from bayesgraph.core.distribution.distribution_base import DistributionBase


class NegativeBinomialDistribution(DistributionBase):
    """Negative binomial counts with ``mean`` and ``dispersion``.

    Negative binomial counts with ``mean`` and ``dispersion`` (variance = mean + mean**2 /
    dispersion).

    Examples
    --------
    >>> from bayesgraph.core import Variable
    >>> v = Variable("v", distribution="NegativeBinomial", mean=4.0, dispersion=2.0)
    >>> type(v.distribution).__name__
    'NegativeBinomialDistribution'
    """

    parameter_groups = (('mean',), ('dispersion',))
    defaults = {}
    dtypes = ('int',)
    discrete = True
    positive = ('mean', 'dispersion')
    support = 'nonnegative_integer'
