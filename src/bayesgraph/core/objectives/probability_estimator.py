"""ProbabilityEstimator: the per-example log density of the data.

Examples
--------
>>> import numpy as np
>>> from bayesgraph.core import Graph, Variable
>>> from bayesgraph import ProbabilityEstimator
>>> g = Graph("g")
>>> with g:
...     z = Variable("z", mean=0, variance=1)
...     x = Variable("x", mean=z, variance=0.1)
...     y = Variable("y", mean=z, variance=0.1)
>>> pe = ProbabilityEstimator(graph=g, data={g.z: [-1, 0, 1., 2., 3.]})
>>> lp = pe(g)     # x and y, not given, are marginalised: log N(z; 0, 1)
>>> bool(np.allclose(lp, -0.5 * np.log(2 * np.pi) - 0.5 * np.array([-1, 0, 1, 2, 3.]) ** 2))
True
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from bayesgraph.core.objectives._engine import ExampleData
from bayesgraph.core.objectives.base import ObjectiveBase
from bayesgraph.core.scope import NamedObject
from bayesgraph.exceptions import OptionError

METHODS = ("marginalized", "upsampled")


def check_method(owner: str, method: str) -> None:
    if method not in METHODS:
        raise OptionError(f"{owner}: unknown method {method!r}; valid: 'upsampled', "
                          "'marginalized'")


class ProbabilityEstimator(ObjectiveBase):
    """Per-example log probability density of the given data.

    For an element (variable, entity, graph), the log density of the data of its variables,
    everything else unobserved marginalised: the static variables under their prior (for a
    trained graph: the posterior), the unobserved dynamic entries of the example and the
    data of variables outside the element.

    ``method='marginalized'`` (default) integrates the unobserved quantities out by a
    per-example Laplace approximation (exact for linear-Gaussian graphs, whose marginals are
    Gaussian); ``'upsampled'`` first draws the missing entries of every example from their
    conditional distribution given its data, then gives the density of the completed
    example over all variables of the element (the statics still marginalised).

    Parameters
    ----------
    graph : Graph
    data : dict or DataLinker
        ``NaN`` marks missing entries.
    compiler : None
        Accepted for compatibility.
    n_samples : int
        Accepted (the Laplace marginal needs no samples).
    method : {'marginalized', 'upsampled'}
    name, description, copy_graph :
        Labels; ``copy_graph`` is accepted.
    seed : int
        Seeds the draws of ``'upsampled'``.

    Examples
    --------
    >>> from bayesgraph.core import Graph, Variable
    >>> from bayesgraph import ProbabilityEstimator
    >>> with Graph("g") as g:
    ...     z = Variable("z", mean=0, variance=1)
    ...     x = Variable("x", mean=z, variance=1)
    >>> float(ProbabilityEstimator(g, {g.x: [0.0]})(g.x)[0].round(6))   # log N(0; 0, 2)
    -1.265512
    """

    def __init__(self, graph: NamedObject, data: Mapping | None = None, compiler: Any = None,
                 n_samples: int = 1000, method: str = "marginalized",
                 name: str = "ProbabilityEstimator", description: str | None = None,
                 copy_graph: bool = True, *, seed: int = 0) -> None:
        super().__init__(graph, name, description, copy_graph)
        check_method(type(self).__name__, method)
        self.method, self.n_samples, self.seed = method, n_samples, seed
        self.examples = ExampleData(graph, data)
        self._spec = self.examples.spec
        self._completed: dict[str, np.ndarray] | None = None

    def completed(self) -> dict[str, np.ndarray]:
        """The data with missing entries drawn given the observed ones (``'upsampled'``)."""
        if self._completed is None:
            self._completed = self.examples.completions(self.examples.observed_mask(),
                                                        self.seed)
        return self._completed

    def _mask(self, names: tuple[str, ...]) -> tuple[dict, Any]:
        d = self.examples
        if self.method == "upsampled":
            values = self.completed()
            return {n: np.ones(values[n].shape, bool) for n in names if n in d.dynamic}, values
        return d.observed_mask(list(names)), None

    def _compute(self, elements: dict[Any, tuple[str, ...]]) -> dict[Any, Any]:
        out = {}
        for key, names in elements.items():
            mask, values = self._mask(names)
            if not mask:
                out[key] = np.zeros(self.examples.n_data)
                continue
            out[key] = self.examples.log_marginal(mask, values)
        return out
