"""OutlierDetector: examples whose rank is below a threshold.

Examples
--------
>>> import numpy as np
>>> from bayesgraph.core import Graph, Variable
>>> from bayesgraph import OutlierDetector
>>> g = Graph("g")
>>> with g:
...     z = Variable("z", mean=0, variance=1)
...     x = Variable("x", mean=z, variance=0.1)
...     y = Variable("y", mean=z, variance=0.1)
>>> data = {g.x: [0, 1, 1, 5, 1], g.y: [0, 1, -1, 5, np.nan]}
>>> OutlierDetector(graph=g, data=data)(g).tolist()
[False, False, True, True, False]
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from bayesgraph.core.objectives.rank_estimator import RankEstimator
from bayesgraph.core.scope import NamedObject
from bayesgraph.exceptions import OptionError


class OutlierDetector(RankEstimator):
    """One bool per example: ``rank < outlier_threshold`` (see
    :class:`~bayesgraph.core.objectives.RankEstimator` for the rank and the methods).

    With the default threshold 0.05, an example is an outlier when fewer than 5% of model
    draws are less dense than it: about 5% of examples drawn from the model itself are
    flagged.

    Examples
    --------
    >>> from bayesgraph.core import Graph, Variable
    >>> from bayesgraph import OutlierDetector
    >>> with Graph("g") as g:
    ...     _ = Variable("z", mean=0, variance=1)
    >>> OutlierDetector(g, {g.z: [0.1, 4.0]})(g.z).tolist()
    [False, True]
    """

    def __init__(self, graph: NamedObject, data: Mapping | None = None, compiler: Any = None,
                 n_samples: int = 1000, outlier_threshold: float = 0.05,
                 method: str = "upsampled", name: str = "OutlierDetector",
                 description: str | None = None, copy_graph: bool = True, *,
                 seed: int = 0) -> None:
        if not 0 <= float(outlier_threshold) <= 1:
            raise OptionError(f"OutlierDetector: outlier_threshold must be in [0, 1], got "
                              f"{outlier_threshold!r}")
        super().__init__(graph, data, compiler, n_samples, method, name, description,
                         copy_graph, seed=seed)
        self.outlier_threshold = float(outlier_threshold)

    def _compute(self, elements: dict[Any, tuple[str, ...]]) -> dict[Any, Any]:
        ranks = super()._compute(elements)
        return {k: np.asarray(v) < self.outlier_threshold for k, v in ranks.items()}
