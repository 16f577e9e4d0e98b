"""Dirichlet distribution over the simplex (the variable's last axis)."""

from __future__ import annotations

from bayesgraph.core.distribution.distribution_base import DistributionBase


class DirichletDistribution(DistributionBase):
    """Dirichlet distribution over the simplex (the variable's last axis).

    Dirichlet distribution over the simplex (the variable's last axis), with a
    ``concentration`` vector.

    Examples
    --------
    >>> from bayesgraph.core import Variable
    >>> v = Variable("v", shape=(3,), distribution="Dirichlet", concentration=[1.0, 2.0, 3.0])
    >>> type(v.distribution).__name__
    'DirichletDistribution'
    """

    parameter_groups = (('concentration',),)
    defaults = {'concentration': 1.0}
    positive = ('concentration',)
    support = 'simplex'
    event_dims = 1
    parameter_kinds = {'concentration': 'event'}
