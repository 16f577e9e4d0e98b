"""MAPFisherModel: the Laplace approximation at the MAP point.

The posterior is approximated by a Gaussian in the unconstrained coordinates of the
optimiser, centred at the MAP point (the same point :class:`MAPModel` finds), with the inverse
Hessian of the negative log-density there as covariance. For linear-Gaussian graphs this is
the exact posterior. Variables with a constrained support (LogNormal, Exponential, Uniform)
are drawn through their transform, so their samples stay inside the support.

The Hessian and its Cholesky factor are computed once, in one jitted function. Means and
variances of variables with real support are read off the Gaussian exactly; the others
(constrained or deterministic functions of latent variables) are Monte-Carlo estimates.

Examples
--------
>>> from bayesgraph.core import Graph, Variable
>>> from bayesgraph.core.model import MAPFisherModel
>>> with Graph("g") as g:
...     z = Variable("z", mean=0, variance=1)
...     x = Variable("x", mean=z, variance=1)
>>> model = MAPFisherModel(g, data={g.x: [2.0]}).solve()
>>> model.get_means(g.z).round(8).tolist(), model.get_variances(g.z).round(8).tolist()
([1.0], [0.5])
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import jax
import jax.numpy as jnp
import jax.scipy.linalg as jsl
import numpy as np

from bayesgraph.core.model.map import MAPModel
from bayesgraph.core.scope import NamedObject
from bayesgraph.exceptions import ConvergenceError

_REAL_SUPPORT = frozenset({"NormalDistribution", "LaplaceDistribution", "NoDistribution"})


class MAPFisherModel(MAPModel):
    """MAP point plus a Gaussian (Laplace/Fisher) covariance around it.

    Parameters
    ----------
    max_dense_dimension : int
        Largest number of unobserved scalars for which the dense Hessian is formed (its
        memory grows as the square); above it the model refuses with an explanation.
    **kwargs
        As for :class:`~bayesgraph.core.model.MAPModel`.

    Examples
    --------
    >>> from bayesgraph.core import Graph, Variable
    >>> from bayesgraph.core.model import MAPFisherModel
    >>> with Graph("g") as g:
    ...     z = Variable("z", mean=0, variance=4)
    >>> MAPFisherModel(g).solve().get_standard_deviations(g.z).round(8).tolist()
    [2.0]
    """

    def __init__(self, graph: NamedObject, data: Mapping | None = None, compiler: Any = None,
                 initial_values: Mapping | None = None,
                 random_initial_value_scale: float = 1e-4, solver: str = "L-BFGS",
                 copy_graph: bool = True, model_graph_options: Mapping | None = None, *,
                 max_dense_dimension: int = 5000, **kwargs: Any) -> None:
        super().__init__(graph, data, compiler, initial_values, random_initial_value_scale,
                         solver, copy_graph, model_graph_options, **kwargs)
        if self.dimension > max_dense_dimension:
            raise ValueError(
                f"MAPFisherModel would form a dense {self.dimension} x {self.dimension} Hessian "
                f"(the unobserved values number {self.dimension}); this exceeds "
                f"max_dense_dimension={max_dense_dimension}. Raise max_dense_dimension if "
                "memory allows, or use MAPModel for a point estimate"
            )
        program, unravel = self.program, self._layout.unravel

        def draw(z, chol, keys, data):
            def one(key):
                eps = jax.random.normal(key, z.shape, z.dtype)
                u = z + jsl.solve_triangular(chol.T, eps, lower=False)
                return program.values_at(program.constrain(unravel(u), data), data,
                                         observed=False)

            return jax.vmap(one)(keys)

        self._draw_fn = jax.jit(draw)

    def _extras(self, z: Any, data: Any) -> Any:
        """Hessian at the mode, its Cholesky factor and the covariance, in the same jit."""
        hessian = jax.hessian(self._objective)(z, data)
        chol = jnp.linalg.cholesky(hessian)
        inverse_chol = jsl.solve_triangular(chol, jnp.eye(z.size, dtype=z.dtype), lower=True)
        return hessian, chol, inverse_chol.T @ inverse_chol

    def solve(self) -> MAPFisherModel:
        """Find the MAP point, then the Hessian, its Cholesky factor and the covariance.

        All of it runs in one jitted function (compiled once per model).

        Raises
        ------
        ConvergenceError
            If the Hessian is not positive definite at the MAP point.
        """
        return super().solve()

    def _after_fit(self, extras: Any) -> None:
        hessian, chol, covariance = extras
        if not np.all(np.isfinite(np.asarray(chol))):
            diagonal = np.asarray(hessian).diagonal()
            bad = [name for name, sl in self._layout.slices().items()
                   if np.any(diagonal[sl] <= 0)]
            self._solved = False
            raise ConvergenceError(
                "MAPFisherModel: the Hessian of the negative log-density at the MAP point is "
                "not positive definite, so the posterior has no Gaussian approximation there"
                + (f" (flat or curved the wrong way along {bad})" if bad else "")
                + ". A variable with NoDistribution and no data, or a mode on a ridge, "
                "causes this; give data or a proper prior"
            )
        self._chol, self._covariance = chol, np.asarray(covariance)

    def _draw(self, n_samples: int) -> dict[str, np.ndarray]:
        key = self._next_key()
        with self._precision():
            keys = jax.random.split(key, n_samples)
            draws = self._draw_fn(self._z, self._chol, keys, self._data)
            return {k: np.asarray(v) for k, v in draws.items()}

    def _exact(self, name: str) -> bool:
        var = self.spec.variable(name)
        return var.role == "observed" or (
            var.distribution in _REAL_SUPPORT and var.distribution != "DiracDistribution")

    def _variance_of(self, name: str) -> np.ndarray:
        var = self.spec.variable(name)
        full = np.zeros(var.full_shape(self.n_data))
        site = self.program.site_of(name)
        if site is None:
            return full
        block = np.diag(self._covariance)[self._layout.slices()[site.name]]
        if site.partial:
            flat = full.reshape(-1)
            flat[np.asarray(self._lowered.missing[name])] = block
            return flat.reshape(full.shape)
        return block.reshape(full.shape)

    def _moments(self, names, n_samples):
        assert self._values is not None
        exact = [n for n in names if self._exact(n)]
        sampled = [n for n in names if n not in exact]
        means = {n: self._values[n].astype(np.float64) for n in exact}
        variances = {n: self._variance_of(n) for n in exact}
        if sampled:
            mc_means, mc_vars = super(MAPModel, self)._moments(sampled, n_samples)
            means.update(mc_means)
            variances.update(mc_vars)
        return means, variances

    def get_covariance(self, variables: list) -> np.ndarray:
        """Joint posterior covariance of the flattened values of ``variables`` (exact).

        Only variables with real support (Normal, Laplace, NoDistribution) or complete data
        are allowed; observed entries have zero (co)variance. The order is the order of
        ``variables``, each flattened row-major over ``(n_data, *shape)``.

        Examples
        --------
        >>> from bayesgraph.core import Graph, Variable
        >>> from bayesgraph.core.model import MAPFisherModel
        >>> with Graph("g") as g:
        ...     a = Variable("a", mean=0, variance=1)
        ...     b = Variable("b", mean=a, variance=1)
        >>> MAPFisherModel(g).solve().get_covariance([g.a, g.b]).round(8).tolist()
        [[1.0, 1.0], [1.0, 2.0]]
        """
        self._require_solved()
        names = [self._resolve(v) for v in variables]
        slices = self._layout.slices()
        rows: list[np.ndarray] = []
        for name in names:
            name = str(name)
            if not self._exact(name):
                raise ValueError(
                    f"get_covariance needs variables with real support or complete data; "
                    f"{name!r} is {self.spec.variable(name).distribution}"
                )
            var = self.spec.variable(name)
            size = int(np.prod(var.full_shape(self.n_data), dtype=np.int64))
            selector = np.zeros((size, self._covariance.shape[0]))
            site = self.program.site_of(name)
            if site is not None:
                columns = np.arange(slices[site.name].start, slices[site.name].stop)
                rows_at = (np.asarray(self._lowered.missing[name]) if site.partial
                           else np.arange(size))
                selector[rows_at, columns] = 1.0
            rows.append(selector)
        selector = np.concatenate(rows, axis=0)
        return selector @ self._covariance @ selector.T
