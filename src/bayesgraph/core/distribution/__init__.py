"""The distributions: Halerium's ten, those of PyMC and Stan models, and the name registry.

``distribution=`` accepts a class or its name, e.g. ``"LogNormalDistribution"``; the short
names ``"Normal"``, ``"LogNormal"``, ... are accepted as well.

Examples
--------
>>> from bayesgraph.core.distribution import get_distribution_class
>>> get_distribution_class("BernoulliDistribution").__name__
'BernoulliDistribution'
>>> get_distribution_class("Normal").__name__
'NormalDistribution'
"""

from __future__ import annotations

from typing import Any

from bayesgraph.core.distribution.bernoulli_distribution import BernoulliDistribution
from bayesgraph.core.distribution.beta_distribution import BetaDistribution
from bayesgraph.core.distribution.binomial_distribution import BinomialDistribution
from bayesgraph.core.distribution.categorical_distribution import CategoricalDistribution
from bayesgraph.core.distribution.cauchy_distribution import CauchyDistribution
from bayesgraph.core.distribution.dirac_distribution import DiracDistribution
from bayesgraph.core.distribution.dirichlet_distribution import DirichletDistribution
from bayesgraph.core.distribution.distribution_base import DistributionBase
from bayesgraph.core.distribution.exponential_distribution import ExponentialDistribution
from bayesgraph.core.distribution.gamma_distribution import GammaDistribution
from bayesgraph.core.distribution.half_cauchy_distribution import HalfCauchyDistribution
from bayesgraph.core.distribution.half_normal_distribution import HalfNormalDistribution
from bayesgraph.core.distribution.half_student_t_distribution import HalfStudentTDistribution
from bayesgraph.core.distribution.inverse_gamma_distribution import InverseGammaDistribution
from bayesgraph.core.distribution.laplace_distribution import LaplaceDistribution
from bayesgraph.core.distribution.lkj_cholesky_distribution import LKJCholeskyDistribution
from bayesgraph.core.distribution.log_normal_distribution import LogNormalDistribution
from bayesgraph.core.distribution.multivariate_normal_distribution import (
    MultivariateNormalDistribution,
)
from bayesgraph.core.distribution.negative_binomial_distribution import NegativeBinomialDistribution
from bayesgraph.core.distribution.no_distribution import NoDistribution
from bayesgraph.core.distribution.normal_distribution import NormalDistribution
from bayesgraph.core.distribution.ordered_logistic_distribution import OrderedLogisticDistribution
from bayesgraph.core.distribution.ordered_probit_distribution import OrderedProbitDistribution
from bayesgraph.core.distribution.poisson_distribution import PoissonDistribution
from bayesgraph.core.distribution.student_t_distribution import StudentTDistribution
from bayesgraph.core.distribution.truncated_normal_distribution import TruncatedNormalDistribution
from bayesgraph.core.distribution.uniform_distribution import UniformDistribution
from bayesgraph.exceptions import UnknownDistributionError

__all__ = [
    "DistributionBase", "NormalDistribution", "LogNormalDistribution", "DiracDistribution",
    "BernoulliDistribution", "PoissonDistribution", "LaplaceDistribution",
    "UniformDistribution", "ExponentialDistribution", "CategoricalDistribution",
    "NoDistribution", "DISTRIBUTIONS", "get_distribution_class",
    "StudentTDistribution", "CauchyDistribution", "HalfCauchyDistribution",
    "HalfNormalDistribution", "HalfStudentTDistribution", "GammaDistribution",
    "InverseGammaDistribution", "BetaDistribution", "BinomialDistribution",
    "NegativeBinomialDistribution", "DirichletDistribution", "MultivariateNormalDistribution",
    "LKJCholeskyDistribution", "TruncatedNormalDistribution", "OrderedLogisticDistribution",
    "OrderedProbitDistribution",
]

#: Every distribution class, keyed by its class name.
DISTRIBUTIONS: dict[str, type[DistributionBase]] = {
    cls.__name__: cls
    for cls in (NormalDistribution, LogNormalDistribution, DiracDistribution,
                BernoulliDistribution, PoissonDistribution, LaplaceDistribution,
                UniformDistribution, ExponentialDistribution, CategoricalDistribution,
                NoDistribution, StudentTDistribution, CauchyDistribution,
                HalfCauchyDistribution, HalfNormalDistribution,
                HalfStudentTDistribution, GammaDistribution,
                InverseGammaDistribution, BetaDistribution, BinomialDistribution,
                NegativeBinomialDistribution, DirichletDistribution,
                MultivariateNormalDistribution, LKJCholeskyDistribution,
                TruncatedNormalDistribution, OrderedLogisticDistribution,
                OrderedProbitDistribution)
}


def get_distribution_class(distribution: Any) -> type[DistributionBase]:
    """Resolve ``distribution=`` (a class, an instance's class, or a name) to a class.

    Raises
    ------
    UnknownDistributionError
        For a name that is not a distribution; the message lists the valid names.

    Examples
    --------
    >>> get_distribution_class(NormalDistribution) is NormalDistribution
    True
    """
    if isinstance(distribution, type) and issubclass(distribution, DistributionBase):
        return distribution
    if isinstance(distribution, DistributionBase):
        return type(distribution)
    if isinstance(distribution, str):
        if distribution in DISTRIBUTIONS:
            return DISTRIBUTIONS[distribution]
        if distribution + "Distribution" in DISTRIBUTIONS:
            return DISTRIBUTIONS[distribution + "Distribution"]
    raise UnknownDistributionError(
        f"unknown distribution {distribution!r}; valid: {', '.join(sorted(DISTRIBUTIONS))}"
    )
