"""Evaluator: predict outputs from inputs and score the predictions against the data.

Examples
--------
>>> import numpy as np
>>> from bayesgraph.core import Graph, Variable
>>> from bayesgraph import Evaluator
>>> with Graph("g") as g:
...     x = Variable("x", mean=0, variance=1)
...     y = Variable("y", mean=x, variance=0.01)
>>> data = {g.x: [0.0, 1.0, 2.0], g.y: [0.0, 1.0, 3.0]}
>>> round(float(Evaluator(g, data, inputs=[g.x], metric="mae")(g.y)), 6)   # |3 - 2| / 3
0.333333
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from bayesgraph.core.objectives._engine import data_dict
from bayesgraph.core.objectives.base import ObjectiveBase, element_names
from bayesgraph.core.objectives.predictor import fit_model
from bayesgraph.core.scope import NamedObject
from bayesgraph.exceptions import DataError, OptionError

METRICS = ("r2", "mae", "mse", "rmse", "accuracy", "log_loss")
REDUCTIONS = ("mean", "sum", "min", "max", "none", None)


def _metric(metric: str, truth: np.ndarray, pred: np.ndarray) -> np.ndarray:
    """Metric per entry of the variable's shape, over the examples with finite truth."""
    ok = np.isfinite(truth)
    count = ok.sum(axis=0)
    t, p = np.where(ok, truth, 0.0), np.where(ok, pred, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        if metric in ("mae", "mse", "rmse"):
            err = np.abs(t - p) if metric == "mae" else (t - p) ** 2
            value = err.sum(axis=0) / count
            return np.sqrt(value) if metric == "rmse" else value
        if metric == "r2":
            mean = t.sum(axis=0) / count
            ss_tot = (np.where(ok, t - mean, 0.0) ** 2).sum(axis=0)
            ss_res = ((t - p) ** 2).sum(axis=0)
            return 1.0 - ss_res / ss_tot
        if metric == "accuracy":
            return (np.where(ok, (p > 0.5) == (t > 0.5), False)).sum(axis=0) / count
        q = np.clip(p, 1e-15, 1 - 1e-15)  # log_loss
        loss = -(t * np.log(q) + (1 - t) * np.log1p(-q))
        return np.where(ok, loss, 0.0).sum(axis=0) / count


def _reduce(reduction: Any, values: np.ndarray) -> Any:
    if reduction in ("none", None):
        return values
    return float(getattr(np, "nan" + reduction)(values)) if values.size else float("nan")


class Evaluator(ObjectiveBase):
    """Predict ``outputs`` from ``inputs`` and score the predictions.

    Parameters
    ----------
    graph : Graph
        The model.
    data : dict or DataLinker
        Values of the inputs and the outputs (non-finite entries are allowed: missing inputs
        are inferred, missing outputs are left out of the score).
    inputs : variable, entity, name or list of them
        The variables given to the prediction.
    outputs : same, optional
        The variables scored; ``None`` means every variable in ``data`` that is not an input.
    method, compiler, model_args, solver_args, measure, n_samples :
        As for :class:`~bayesgraph.core.objectives.Predictor`.
    metric : {'r2', 'mae', 'mse', 'rmse', 'accuracy', 'log_loss'}
        The score (``accuracy`` thresholds the predicted probability at 0.5; ``log_loss`` is
        the mean negative log-likelihood of bool outputs under the predicted probability).
    reduction : {'mean', 'sum', 'min', 'max', 'none'}
        How the per-entry scores of a variable (and of the variables of a scope) combine.
    name, description, copy_graph :
        Labels; ``copy_graph`` is accepted.

    Examples
    --------
    >>> from bayesgraph.core import Graph, Variable
    >>> from bayesgraph import Evaluator
    >>> with Graph("g") as g:
    ...     x = Variable("x", mean=0, variance=1)
    ...     y = Variable("y", mean=x, variance=0.01)
    >>> Evaluator(g, {g.x: [0.0, 1.0], g.y: [0.0, 1.0]}, inputs=g.x, outputs=g.y)()
    {'g': 1.0, 'g/y': 1.0}
    """

    def __init__(self, graph: NamedObject, data: Mapping, inputs: Any, outputs: Any = None,
                 method: str = "MAPFisher", compiler: Any = None,
                 model_args: Mapping | None = None, solver_args: Mapping | None = None,
                 measure: str = "mean", metric: str = "r2", reduction: Any = "mean",
                 n_samples: int = 100, name: str = "Evaluator",
                 description: str | None = None, copy_graph: bool = True) -> None:
        super().__init__(graph, name, description, copy_graph)
        if metric not in METRICS:
            raise OptionError(f"Evaluator: unknown metric {metric!r}; valid: "
                              + ", ".join(map(repr, METRICS)))
        if reduction not in REDUCTIONS:
            raise OptionError(f"Evaluator: unknown reduction {reduction!r}; valid: "
                              "'mean', 'sum', 'min', 'max', 'none'")
        if measure != "mean":
            raise OptionError("Evaluator scores predicted means: measure must be 'mean'")
        self._spec, values = data_dict(graph, data)
        self.inputs = element_names(self, inputs, "inputs")
        for name_ in self.inputs:
            if name_ not in values:
                raise DataError(f"Evaluator: the input {name_!r} has no data; give its values "
                                "in data or leave it out of inputs")
        if outputs is None:
            self.outputs = tuple(n for n in values if n not in self.inputs)
        else:
            self.outputs = element_names(self, outputs, "outputs")
        overlap = sorted(set(self.inputs) & set(self.outputs))
        if overlap:
            raise OptionError(f"Evaluator: {overlap[0]!r} is both an input and an output; "
                              "inputs and outputs must be disjoint")
        if not self.outputs:
            raise OptionError("Evaluator: no outputs to score; give outputs= or data for "
                              "variables that are not inputs")
        for name_ in self.outputs:
            if name_ not in values:
                raise DataError(f"Evaluator: the output {name_!r} has no data to score "
                                "against; give its values in data")
        self.metric, self.reduction = metric, reduction
        model = fit_model(graph, {n: values[n] for n in self.inputs}, method, model_args,
                          solver_args, "Evaluator")
        means = model.get_means(list(self.outputs), n_samples=n_samples)
        self._scores = {n: np.atleast_1d(_metric(metric, values[n], np.asarray(m, float)))
                        for n, m in zip(self.outputs, means)}

    def _compute(self, elements: dict[Any, tuple[str, ...]]) -> dict[Any, Any]:
        out = {}
        for key, names in elements.items():
            scored = [self._scores[n].reshape(-1) for n in names if n in self._scores]
            if key[0] == "v" and not scored:
                raise OptionError(f"Evaluator: {names[0]!r} is not an output, so it has no "
                                  "score; ask for one of " + ", ".join(map(repr, self.outputs)))
            values = np.concatenate(scored) if scored else np.zeros(0)
            if key[0] == "v" and self.reduction in ("none", None):
                values = self._scores[names[0]]
            out[key] = _reduce(self.reduction, values)
        return out

    def _elements(self) -> list[Any]:
        return [e for e in super()._elements()
                if not hasattr(e, "global_name") or e is self.graph
                or self._spec.canonical(e.global_name) in self.outputs]
