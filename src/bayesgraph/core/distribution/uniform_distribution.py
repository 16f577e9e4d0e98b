"""Uniform distribution on ``[center - width/2, center + width/2]``, or on ``[lower, upper]``."""

from __future__ import annotations

from bayesgraph.core.distribution.distribution_base import DistributionBase


class UniformDistribution(DistributionBase):
    """Uniform distribution on ``[center - width/2, center + width/2]``, or on ``[lower, upper]``.

    Halerium's parameters are ``center`` and ``width``; ``lower`` is an alternative to
    ``center`` and ``upper`` to ``width`` (setting one clears its alternative), so
    ``lower=a, upper=b`` gives the interval ``[a, b]``. Every parameter may be an expression of
    other variables.

    Examples
    --------
    >>> from bayesgraph.core import Variable
    >>> v = Variable("v", distribution="UniformDistribution", center=0.0, width=2.0)
    >>> type(v.distribution).__name__
    'UniformDistribution'
    >>> w = Variable("w", distribution="Uniform", lower=1.0, upper=3.0)
    >>> sorted(w.distribution.get_parameters())
    ['lower', 'upper']
    """

    parameter_groups = (('center', 'lower'), ('width', 'upper'))
    defaults = {'center': 0.0, 'width': 1.0}
    dtypes = ('float',)
    discrete = False
    positive = ('width',)
    unit_interval = ()
    support = 'interval'
    support_parameters = ('center', 'width', 'lower', 'upper')
