"""Predictor: posterior predictions (means, standard deviations, variances) given data.

Examples
--------
>>> import numpy as np
>>> from bayesgraph.core import Graph, Variable
>>> from bayesgraph import Predictor
>>> graph = Graph("graph")
>>> with graph:
...     x = Variable("x", mean=0, variance=1)
...     y = Variable("y", mean=x + 1, variance=1)
>>> predictor = Predictor(graph=graph, data={graph.x: np.array([0, 1, 2, 3])})
>>> predictor(graph.y).round(6).tolist()
[1.0, 2.0, 3.0, 4.0]
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from bayesgraph.core.objectives._engine import ExampleData, _NoData
from bayesgraph.core.objectives.base import ObjectiveBase
from bayesgraph.core.scope import NamedObject
from bayesgraph.exceptions import DiscreteLatentError, OptionError

MEASURES = ("mean", "std", "variance")


def fit_model(graph: NamedObject, data: Mapping | None, method: str, model_args: Mapping | None,
              solver_args: Mapping | None, owner: str) -> Any:
    """The solved posterior model (``method``), or a ForwardModel where ``method`` cannot
    treat an unobserved discrete variable (see docs/decisions.md)."""
    from bayesgraph.core.model import METHODS

    if method not in METHODS:
        raise OptionError(f"{owner}: unknown method {method!r}; valid: "
                          + ", ".join(repr(m) for m in METHODS))
    kwargs = dict(model_args or {})
    kwargs.update(solver_args or {})
    try:
        model = METHODS[method](graph, data, **kwargs)
    except DiscreteLatentError:
        model = METHODS["Forward"](graph, data, **{k: v for k, v in kwargs.items()
                                                   if k in ("seed", "dtype", "grouping")})
    return model.solve()


def _discrete_latents(examples: ExampleData) -> bool:
    from bayesgraph.core.compiler.distributions import facts

    for var in examples.spec.variables:
        if var.name in examples.values and np.isfinite(examples.values[var.name]).all():
            continue
        if var.distribution != "DiracDistribution" and facts(var.distribution).discrete:
            return True
    return False


class Predictor(ObjectiveBase):
    """Predict variables given data: posterior means (or standard deviations, variances).

    Parameters
    ----------
    graph : Graph
        The model (e.g. a graph trained by :class:`~bayesgraph.core.model.Trainer`).
    data : dict or DataLinker, optional
        The given values (``NaN`` = missing); everything else is predicted.
    method : str
        Posterior method (``'MAPFisher'`` default, ``'MAP'``, ``'ADVI'``, ``'MGVI'``,
        ``'MCMC'``, ``'Forward'``). For linear-Gaussian graphs MAPFisher is exact.
    compiler : None
        Accepted for compatibility (bayesgraph compiles to JAX).
    model_args, solver_args : dict, optional
        Keyword arguments of the model class (e.g. ``{'seed': 0}``).

    Notes
    -----
    With ``method='MAPFisher'`` and data that inform no unobserved static variable (e.g.
    inputs given to a trained graph), the posterior factorises over examples; then each
    example's Laplace approximation is computed on its own, vmapped over the examples (the
    same mode and Hessian blocks as the joint MAPFisher fit, without its one Hessian over
    every example's latents). Otherwise one posterior model is fitted to all the data.
    measure : {'mean', 'std', 'variance'}
        What is predicted.
    n_samples : int
        Draws for Monte-Carlo moments (methods without exact moments).
    name, description : str
        Labels.
    copy_graph : bool
        Accepted; models always work from a frozen snapshot.

    Examples
    --------
    >>> from bayesgraph.core import Graph, Variable
    >>> from bayesgraph import Predictor
    >>> with Graph("g") as g:
    ...     x = Variable("x", mean=0, variance=1)
    ...     y = Variable("y", mean=2 * x, variance=1)
    >>> Predictor(g, {g.y: [2.0]}, measure="std")(g.x).round(6).tolist()   # sqrt(1/5)
    [0.447214]
    """

    scope_is_leaf = False

    def __init__(self, graph: NamedObject, data: Mapping | None = None,
                 method: str = "MAPFisher", compiler: Any = None,
                 model_args: Mapping | None = None, solver_args: Mapping | None = None,
                 measure: str = "mean", n_samples: int = 100, name: str = "Predictor",
                 description: str | None = None, copy_graph: bool = True) -> None:
        super().__init__(graph, name, description, copy_graph)
        if measure not in MEASURES:
            raise OptionError(f"Predictor: unknown measure {measure!r}; valid: "
                              + ", ".join(map(repr, MEASURES)))
        self.measure, self.n_samples, self.method = measure, n_samples, method
        self._examples = None
        self.model = None
        if method == "MAPFisher" and not model_args and not solver_args:
            examples = ExampleData(graph, data)
            if not examples.coupled() and not _discrete_latents(examples):
                self._examples = examples  # each example's posterior on its own
                self._spec = examples.spec
        if self._examples is None:
            self.model = fit_model(graph, data, method, model_args, solver_args, "Predictor")
            self._spec = self.model.spec

    def _compute(self, elements: dict[Any, tuple[str, ...]]) -> dict[Any, Any]:
        names = sorted({n for ns in elements.values() for n in ns})
        if self._examples is not None:
            try:
                means, variances = self._examples.posterior_moments(names)
            except _NoData:
                means = None
            if means is not None:
                chosen = {"mean": means, "variance": variances,
                          "std": {k: np.sqrt(v) for k, v in variances.items()}}[self.measure]
                return {key: chosen[ns[0]] for key, ns in elements.items()}
            self.model = fit_model(self.graph, None, self.method, None, None, "Predictor")
        return _model_moments(self.model, elements, self.measure, self.n_samples)


def _model_moments(model: Any, elements: dict[Any, tuple[str, ...]], measure: str,
                  n_samples: int) -> dict[Any, Any]:
    """``{element key: measure of its first variable}`` from a solved ``model`` (means, or
    variances and their square roots), one call for all the variables asked."""
    names = sorted({n for ns in elements.values() for n in ns})
    if measure == "mean":
        values = model.get_means(names, n_samples=n_samples)
    else:
        values = model.get_variances(names, n_samples=n_samples)
        if measure == "std":
            values = [np.sqrt(v) for v in values]
    table = dict(zip(names, values))
    return {key: table[ns[0]] for key, ns in elements.items()}
