"""Multivariate normal distribution over the variable's last axis."""

from __future__ import annotations

from bayesgraph.core.distribution.distribution_base import DistributionBase


class MultivariateNormalDistribution(DistributionBase):
    """Multivariate normal distribution over the variable's last axis.

    Multivariate normal over the variable's last axis: ``mean`` vector and ``covariance`` or
    ``cholesky_factor`` (lower triangular) matrix.

    Examples
    --------
    >>> from bayesgraph.core import Variable
    >>> v = Variable("v", shape=(2,), distribution="MultivariateNormal",
    ...              covariance=[[1.0, 0.5], [0.5, 2.0]])
    >>> type(v.distribution).__name__
    'MultivariateNormalDistribution'
    """

    parameter_groups = (('mean',), ('covariance', 'cholesky_factor'))
    defaults = {'mean': 0.0}
    support = 'real'
    event_dims = 1
    parameter_kinds = {'mean': 'event', 'covariance': 'square', 'cholesky_factor': 'square'}
