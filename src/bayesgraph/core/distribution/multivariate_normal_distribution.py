"""Multivariate normal distribution over the variable's last axis."""

from __future__ import annotations

import numpy as np

from bayesgraph.core.distribution.distribution_base import DistributionBase
from bayesgraph.exceptions import DistributionError


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

    def _check_constant(self, name: str, value: np.ndarray) -> np.ndarray:
        """A constant ``covariance`` must be symmetric and positive definite, a constant
        ``cholesky_factor`` lower triangular with a positive diagonal (else the density is
        undefined and ForwardModel drew NaN without a word)."""
        value = super()._check_constant(name, value)
        if value.ndim < 2 or value.shape[-1] != value.shape[-2]:
            return value  # not a square matrix: lowering reports the shape
        where = f"parameter {name!r} of {self._owner_name!r} ({type(self).__name__})"
        if name == "covariance":
            if not np.allclose(value, np.swapaxes(value, -1, -2), rtol=1e-10, atol=1e-12):
                raise DistributionError(f"{where} must be symmetric, got {value.tolist()}")
            try:  # the test the density itself needs: a Cholesky factor exists
                np.linalg.cholesky(value)
            except np.linalg.LinAlgError:
                raise DistributionError(
                    f"{where} must be positive definite, got {value.tolist()} (eigenvalues "
                    f"{np.linalg.eigvalsh(value).round(6).tolist()}); add a small multiple "
                    "of the identity if it is singular") from None
        elif name == "cholesky_factor":
            diagonal = np.diagonal(value, axis1=-2, axis2=-1)
            if np.any(np.triu(value, 1) != 0) or np.any(diagonal <= 0):
                raise DistributionError(
                    f"{where} must be lower triangular with a positive diagonal, got "
                    f"{value.tolist()}")
        return value
