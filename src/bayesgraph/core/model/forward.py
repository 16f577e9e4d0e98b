"""ForwardModel: ancestral sampling from the prior, with data clamped and carried forward.

Given data replace the variable's draw (entries with ``NaN`` are drawn), and descendants are
drawn given those values; information never flows backward to the ancestors.

Examples
--------
>>> from bayesgraph.core import Graph, Variable
>>> from bayesgraph.core.model import ForwardModel
>>> with Graph("g") as g:
...     a = Variable("a", mean=0, variance=1)
...     b = Variable("b", mean=a, variance=1e-6)
>>> model = ForwardModel(g, data={g.a: [5.0]}, seed=0)
>>> model.get_means(g.b, n_samples=50).round(2).tolist()
[5.0]
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import jax
import numpy as np

from bayesgraph.core.model.base import ModelBase
from bayesgraph.core.scope import NamedObject
from bayesgraph.exceptions import DataError


class ForwardModel(ModelBase):
    """Prior (generative) model: ancestral sampling; data are clamped and carried forward.

    Needs no ``solve()``. Means and variances are Monte-Carlo estimates over ``n_samples``
    draws. See :class:`~bayesgraph.core.model.base.ModelBase` for the parameters.

    Examples
    --------
    >>> from bayesgraph.core import Graph, Variable, DataLinker
    >>> from bayesgraph.core.model import ForwardModel
    >>> with Graph("graph_1") as graph_1:
    ...     _ = Variable("a", mean=0, variance=1)
    ...     _ = Variable("b", mean=0.7 * a, variance=1 - 0.7**2)
    >>> a, b = ForwardModel(graph_1, DataLinker(n_data=1000), seed=0).get_example(
    ...     [graph_1.a, graph_1.b])
    >>> a.shape, bool(abs(np.corrcoef(a, b)[0, 1] - 0.7) < 0.1)
    ((1000,), True)
    """

    requires_solve = False
    supports_discrete_latents = True

    def __init__(self, graph: NamedObject, data: Mapping | None = None, compiler: Any = None,
                 copy_graph: bool = True, model_graph_options: Mapping | None = None, *,
                 seed: int | None = None, dtype: str = "float64", grouping: bool = True,
                 devices: Any = None) -> None:
        super().__init__(graph, data, compiler, copy_graph, model_graph_options, seed=seed,
                         dtype=dtype, grouping=grouping, devices=devices)
        for site in self.program.latent_sites:
            if site.improper:
                raise DataError(
                    f"ForwardModel cannot draw {site.label}: it has NoDistribution, so "
                    "it has nothing to sample from; give data for every entry of it"
                )
        self._checked = False
        program = self.program

        def build():
            def sample(keys, data):
                return jax.vmap(lambda k: program.sites_of(program.sample(k, data), data))(keys)
            return jax.jit(sample)

        self._sample = self._functions(build)

    def get_prior_predictive(self, variables: Any = None, n_samples: int = 100) -> Any:
        """Prior-predictive draws of observed variables: data as the prior expects them.

        Each draw takes one prior draw of the unobserved values (given the data of their
        observed parents, as every ForwardModel draw does) and draws every requested
        observed variable from its distribution given its parents there.

        Parameters
        ----------
        variables : variable, global name, or a list/tuple/dict of them, optional
            Variables given data; default every observed variable whose distribution depends
            on an unobserved value, as a dict keyed by global name.
        n_samples : int
            Number of draws; each leaf gets ``(n_samples, *result shape)``.

        Examples
        --------
        >>> import numpy as np
        >>> from bayesgraph.core import Graph, StaticVariable, Variable
        >>> from bayesgraph.core.model import ForwardModel
        >>> with Graph("g") as g:
        ...     mu = StaticVariable("mu", mean=0, variance=4)
        ...     y = Variable("y", mean=mu, variance=1)
        >>> draws = ForwardModel(g, data={g.y: [1.0, 3.0]}, seed=0).get_prior_predictive(
        ...     g.y, n_samples=20000)
        >>> draws.shape, bool(abs(draws.var(axis=0) - 5).max() < 0.3)
        ((20000, 2), True)
        """
        return self._predictive(variables, n_samples, "prior-predictive distribution")

    def _draw_sites(self, n_samples: int) -> dict[str, np.ndarray]:
        if not self._checked:  # once: a parameter invalid at the prior's centre is an error
            problem = self._parameter_problem()
            if problem is not None:
                raise problem
            self._checked = True
        key = self._next_key()
        with self._precision():
            keys = jax.random.split(key, n_samples)
            draws = self._sample(keys, self._data)
            return {k: np.asarray(v) for k, v in draws.items()}
