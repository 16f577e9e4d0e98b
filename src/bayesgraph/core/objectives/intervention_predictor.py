"""InterventionPredictor: predictions under do-interventions.

Examples
--------
>>> from bayesgraph.core import Graph, Variable
>>> from bayesgraph import InterventionPredictor
>>> with Graph("g") as g:
...     a = Variable("a", mean=0, variance=1)
...     b = Variable("b", mean=2 * a, variance=1e-6)
>>> ip = InterventionPredictor(g, data={g.b: [4.0]}, n_samples=4000)
>>> bool(abs(ip(g.a)[0]) < 0.1)      # setting b does not move its cause a
True
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bayesgraph.core.objectives.base import ObjectiveBase
from bayesgraph.core.objectives.predictor import MEASURES, _model_moments
from bayesgraph.core.scope import NamedObject
from bayesgraph.exceptions import OptionError


class InterventionPredictor(ObjectiveBase):
    """Predictions with the variables in ``data`` *set* (do-interventions), not observed.

    An intervened variable takes its given value in every draw; its parents are cut (no
    information flows back to its causes), and its descendants are drawn given it: ancestral
    sampling in a :class:`~bayesgraph.core.model.ForwardModel`. Entries given as ``NaN`` are
    not intervened on. Means, standard deviations and variances are Monte-Carlo estimates
    over ``n_samples`` draws.

    Parameters
    ----------
    graph : Graph
        The model (typically a trained graph).
    data : dict or DataLinker
        The interventions, ``{variable: values per example}``.
    compiler : None
        Accepted for compatibility.
    measure : {'mean', 'std', 'variance'}
    n_samples : int
    name, description, copy_graph :
        Labels; ``copy_graph`` is accepted.
    seed : int

    Examples
    --------
    >>> from bayesgraph.core import Graph, Variable
    >>> from bayesgraph import InterventionPredictor
    >>> with Graph("g") as g:
    ...     a = Variable("a", mean=0, variance=1)
    ...     b = Variable("b", mean=2 * a, variance=1)
    >>> InterventionPredictor(g, {g.a: [1.0, 2.0]}, n_samples=4000)(g.b).round(1).tolist()
    [2.0, 4.0]
    """

    scope_is_leaf = False

    def __init__(self, graph: NamedObject, data: Mapping | None = None, compiler: Any = None,
                 measure: str = "mean", n_samples: int = 1000,
                 name: str = "InterventionPredictor", description: str | None = None,
                 copy_graph: bool = True, *, seed: int = 0) -> None:
        from bayesgraph.core.model import ForwardModel

        super().__init__(graph, name, description, copy_graph)
        if measure not in MEASURES:
            raise OptionError(f"InterventionPredictor: unknown measure {measure!r}; valid: "
                              + ", ".join(map(repr, MEASURES)))
        self.measure, self.n_samples = measure, n_samples
        self.model = ForwardModel(graph, data, seed=seed)
        self._spec = self.model.spec

    def _compute(self, elements: dict[Any, tuple[str, ...]]) -> dict[Any, Any]:
        return _model_moments(self.model, elements, self.measure, self.n_samples)
