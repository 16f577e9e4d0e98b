"""LKJ distribution of Cholesky factors of correlation matrices."""

from __future__ import annotations

from bayesgraph.core.distribution.distribution_base import DistributionBase


class LKJCholeskyDistribution(DistributionBase):
    """LKJ distribution of Cholesky factors of correlation matrices.

    LKJ distribution of the Cholesky factor of a correlation matrix (the variable's last two
    axes, K x K), with ``concentration`` (1: uniform over correlation matrices).

    Examples
    --------
    >>> from bayesgraph.core import Variable
    >>> v = Variable("v", shape=(3, 3), distribution="LKJCholesky", concentration=2.0)
    >>> type(v.distribution).__name__
    'LKJCholeskyDistribution'
    """

    parameter_groups = (('concentration',),)
    defaults = {'concentration': 1.0}
    positive = ('concentration',)
    support = 'corr_cholesky'
    event_dims = 2
