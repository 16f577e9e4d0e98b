"""Categorical distribution over ``0 .. K-1``, from ``probabilities`` or ``logits``.

The parameter's last axis has length K; there is no default, so K must be given.
"""

from __future__ import annotations

from bayesgraph.core.distribution.distribution_base import DistributionBase


class CategoricalDistribution(DistributionBase):
    """Categorical distribution over ``0 .. K-1``, from ``probabilities`` or ``logits``.

    The parameter's last axis has length K; there is no default, so K must be given.

    Examples
    --------
    >>> from bayesgraph.core import Variable
    >>> v = Variable("v", distribution="CategoricalDistribution", probabilities=[0.2, 0.8])
    >>> type(v.distribution).__name__
    'CategoricalDistribution'
    """

    parameter_groups = (('probabilities', 'logits'),)
    defaults = {}
    dtypes = ('int',)
    discrete = True
    positive = ()
    unit_interval = ()
    support = 'categories'
    parameter_kinds = {'probabilities': 'free', 'logits': 'free'}
    simplex = ('probabilities',)
