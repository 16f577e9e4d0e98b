"""RankEstimator: how typical each example is, as the fraction of model draws less dense.

Examples
--------
>>> from bayesgraph.core import Graph, Variable
>>> from bayesgraph import RankEstimator
>>> with Graph("g") as g:
...     _ = Variable("z", mean=0, variance=1)
>>> ranks = RankEstimator(graph=g, data={g.z: [0.0, 3.0]}, n_samples=2000)(g.z)
>>> bool(ranks[0] > 0.9 and ranks[1] < 0.01)
True
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from bayesgraph.core.objectives._engine import ExampleData, prior_draws
from bayesgraph.core.objectives.base import ObjectiveBase
from bayesgraph.core.objectives.probability_estimator import check_method
from bayesgraph.core.scope import NamedObject


class RankEstimator(ObjectiveBase):
    """Per-example rank in [0, 1]: the fraction of ``n_samples`` model draws whose density
    is lower than the example's.

    The densities are those of :class:`~bayesgraph.core.objectives.ProbabilityEstimator`
    with the same ``method``. ``'upsampled'`` (default): the example's missing entries are
    drawn given its data, and the density of the completed example over all the element's
    variables is compared with that of complete model draws. ``'marginalized'``: the
    density of the example's observed entries (the rest marginalised) is compared with the
    same marginal density of model draws observed at the same entries (slower: one Laplace
    marginal per draw and pattern of missing entries).

    Model draws are independent draws of one example from the generative model, each with
    its own draw of the static variables. A low rank means an unusual example.

    Parameters
    ----------
    graph : Graph
    data : dict or DataLinker
    compiler : None
        Accepted for compatibility.
    n_samples : int
        Number of model draws (the rank's Monte-Carlo error is at most
        ``0.5 / sqrt(n_samples)``).
    method : {'upsampled', 'marginalized'}
    name, description, copy_graph :
        Labels; ``copy_graph`` is accepted.
    seed : int
        Seeds the model draws and the completions.

    Examples
    --------
    >>> from bayesgraph.core import Graph, Variable
    >>> from bayesgraph import RankEstimator
    >>> with Graph("g") as g:
    ...     z = Variable("z", mean=0, variance=1)
    ...     x = Variable("x", mean=z, variance=0.1)
    >>> r = RankEstimator(g, {g.z: [0.0, 1.0]}, method="marginalized")(g)
    >>> r.shape, bool(0 <= r.min() and r.max() <= 1)
    ((2,), True)
    """

    def __init__(self, graph: NamedObject, data: Mapping | None = None, compiler: Any = None,
                 n_samples: int = 1000, method: str = "upsampled",
                 name: str = "RankEstimator", description: str | None = None,
                 copy_graph: bool = True, *, seed: int = 0) -> None:
        super().__init__(graph, name, description, copy_graph)
        check_method(type(self).__name__, method)
        self.method, self.n_samples, self.seed = method, int(n_samples), seed
        self.examples = ExampleData(graph, data)
        self._spec = self.examples.spec
        self._draws: dict[str, np.ndarray] | None = None
        self._completed: dict[str, np.ndarray] | None = None

    def draws(self) -> dict[str, np.ndarray]:
        """The model draws: ``{dynamic variable: (n_samples, *shape)}``."""
        if self._draws is None:
            self._draws = prior_draws(self.graph, self.n_samples, self.seed + 1)
        return self._draws

    def _ranks(self, names: tuple[str, ...]) -> np.ndarray:
        d = self.examples
        draws = self.draws()
        dynamic = [n for n in names if n in d.dynamic]
        n = d.n_data
        if not dynamic:
            return np.ones(n)
        m = self.n_samples
        if self.method == "upsampled":
            if self._completed is None:
                self._completed = d.completions(d.observed_mask(), self.seed)
            # the examples and the model draws in one call: one program for both
            joint = {k: np.concatenate([self._completed[k], draws[k]]) for k in dynamic}
            lp = d.log_marginal({k: np.ones(v.shape, bool) for k, v in joint.items()}, joint)
            return _fraction_below(lp[n:], lp[:n])
        mask = d.observed_mask(dynamic)
        if not mask:
            return np.ones(n)
        patterns = [(p, rows) for p, rows in d._patterns(mask, n)
                    if any(v.any() for v in p.values())]
        # the examples, then the draws observed as each pattern in turn, in one call: the
        # examples of a pattern and their reference draws share one program
        joint = {k: np.concatenate([np.where(mask[k], d.values[k], np.nan)]
                                   + [draws[k]] * len(patterns)) for k in mask}
        joint_mask = {k: np.concatenate([mask[k]] + [np.broadcast_to(p[k], draws[k].shape)
                                                     for p, _ in patterns]) for k in mask}
        lp = d.log_marginal(joint_mask, joint)
        out = np.ones(n)
        for i, (_, rows) in enumerate(patterns):
            theirs = lp[n + i * m:n + (i + 1) * m]
            out[rows] = _fraction_below(theirs, lp[rows])
        return out

    def _compute(self, elements: dict[Any, tuple[str, ...]]) -> dict[Any, Any]:
        return {key: self._ranks(names) for key, names in elements.items()}


def _fraction_below(reference: np.ndarray, values: np.ndarray) -> np.ndarray:
    ordered = np.sort(reference)
    return np.searchsorted(ordered, values, side="left") / len(ordered)
