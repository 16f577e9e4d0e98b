"""InfluenceEstimator: how much of a target's variance each element accounts for.

Examples
--------
>>> from bayesgraph.core import Graph, Entity, Variable
>>> from bayesgraph import InfluenceEstimator
>>> g = Graph("g")
>>> with g:
...     e = Entity("e")
...     with e:
...         a = Variable("a", mean=0, variance=2)
...         b = Variable("b", mean=0, variance=3)
...         c = Variable("c", mean=0, variance=4)
...     d = Variable("d", mean=e.a + e.b + e.c, variance=1)
>>> ie = InfluenceEstimator(graph=g, target=g.d, n_samples=20000)
>>> round(float(ie(g.e.a)), 1), round(float(ie(g.e)), 1)      # 2/10 and 9/10
(0.2, 0.9)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from bayesgraph.core.lowering import lower
from bayesgraph.core.objectives import _linear_gaussian as lg
from bayesgraph.core.objectives._engine import ClampSampler, clamped_draws, prior_draws
from bayesgraph.core.objectives.base import ObjectiveBase, element_names
from bayesgraph.core.scope import NamedObject, no_name_injection
from bayesgraph.core.variable.variable import VariableBase
from bayesgraph.exceptions import ExpressionError

_TARGET = "influence_target"


class InfluenceEstimator(ObjectiveBase):
    """Influence of each element on ``target``: the relative variance reduction of the
    target when the element is held fixed (a do-intervention), compared with everything
    free::

        influence(e) = Var(E[T | do(e)]) / Var(T) = 1 - E[Var(T | do(e))] / Var(T)

    (Sobol's first-order index of the element, with the element *set*, not observed: its
    parents are cut, so an element that is not an ancestor of the target, e.g. one of its
    descendants, has influence exactly 0; values can exceed 1 when the element's effect is
    partly cancelled through correlated paths.) For a vector target the variances are
    summed over its entries; an entity target sums over its variables.

    **Exact** where the target and its ancestors form a linear-Gaussian graph (Normal
    variables with constant variances and affine means, affine Dirac variables, a callable
    target that is affine: see :mod:`bayesgraph.core.objectives._linear_gaussian`): then
    ``Var(E[T | do(e)]) = tr(M Cov(e) M^T)`` with ``M`` the total causal effect of ``e`` on
    ``T``, both from Jacobians of one jitted program (``exact`` is True; ``n_samples`` and
    ``seed`` play no role).

    Otherwise (``exact`` is False) estimated by Monte Carlo with shared draws:
    ``n_samples`` values of the element are drawn from the model, and the target is drawn
    twice for each, with the element clamped and everything else independent; the
    covariance of the two target draws estimates ``Var(E[T | do(e)])`` (standard error about
    ``sqrt((1 + influence^2) / n_samples)``).

    Parameters
    ----------
    graph : Graph
    target : variable, entity, global name, or callable ``graph -> expression``
        The quantity whose variance is explained (a callable KPI is evaluated on the
        objective's own copy of the graph).
    compiler : None
        Accepted for compatibility.
    n_samples : int
    name, description, copy_graph :
        Labels; ``copy_graph`` is accepted (a callable target always works on a copy).
    seed : int

    Examples
    --------
    >>> from bayesgraph.core import Graph, Variable
    >>> from bayesgraph import InfluenceEstimator
    >>> with Graph("g") as g:
    ...     a = Variable("a", mean=0, variance=1)
    ...     b = Variable("b", mean=a, variance=1)
    >>> InfluenceEstimator(g, target=g.a)(g.b)        # b is a descendant of a
    0.0
    >>> ie = InfluenceEstimator(g, target=lambda graph: 3 * graph.b)
    >>> ie.exact, round(float(ie(g.a)), 12)       # Var(a) / Var(b) = 1 / 2
    (True, 0.5)
    """

    def __init__(self, graph: NamedObject, target: Any, compiler: Any = None,
                 n_samples: int = 1000, name: str = "InfluenceEstimator",
                 description: str | None = None, copy_graph: bool = True, *,
                 seed: int = 0) -> None:
        super().__init__(graph, name, description, copy_graph)
        self._spec, _ = lower(graph, None)
        self.n_samples, self.seed = int(n_samples), seed
        self.model_graph = graph
        if callable(target) and not isinstance(target, (VariableBase, NamedObject)):
            self.model_graph = _with_target(graph, target)
            self.targets: tuple[str, ...] = (f"{graph.global_name}/{_TARGET}",)
        else:
            self.targets = element_names(self, target, "target")
        model_spec, _ = lower(self.model_graph, None)
        self._ancestors = model_spec.ancestors()
        self._dynamic = {v.name: v.dynamic for v in model_spec.variables}
        #: whether the influences are exact (a linear-Gaussian target; else Monte Carlo)
        self.exact = lg.is_linear_gaussian(model_spec, self.targets)
        self._covariance: np.ndarray | None = None
        if self.exact:
            names = self._exact_names()
            self._covariance = lg.covariance(self.model_graph, names)
            sizes = [int(np.prod(model_spec.variable(n).shape, dtype=np.int64))
                     for n in names]
            starts = np.cumsum([0, *sizes])
            self._index = {n: np.arange(starts[i], starts[i + 1])
                           for i, n in enumerate(names)}
            t = self._slices(self.targets)
            self._variance = float(np.trace(self._covariance[np.ix_(t, t)]))
        else:
            # one program for the free draws and every intervention (what is clamped is
            # data); variables it cannot clamp (Dirac ones, blocks) use clamped_draws
            self._sampler = ClampSampler(self.model_graph, self.n_samples, seed)
            self._names = self._exact_names()
            if self._sampler.supports(self._names):
                self._base = self._sampler.draw({}, self._names, 0)
            else:
                self._base = prior_draws(self.model_graph, self.n_samples, seed,
                                         statics=True)
            t = self._target_values(self._base)
            self._variance = float(np.sum(np.var(t, axis=0, ddof=1)))

    def _exact_names(self) -> tuple[str, ...]:
        """The targets and their ancestors, in topological order (the exact path's
        covariance is over their flattened values)."""
        keep = set(self.targets)
        for t in self.targets:
            keep |= self._ancestors[t]
        return tuple(n for n in self._dynamic if n in keep)

    def _slices(self, names: tuple[str, ...] | list[str]) -> np.ndarray:
        """Indices of ``names``' entries in the exact path's covariance."""
        return np.concatenate([self._index[n] for n in names])

    def _target_values(self, draws: dict[str, np.ndarray]) -> np.ndarray:
        return np.concatenate([draws[n].reshape(self.n_samples, -1) for n in self.targets],
                              axis=1)

    def _influence(self, names: tuple[str, ...], index: int) -> float:
        relevant = [n for n in names
                    if any(n == t or n in self._ancestors[t] for t in self.targets)]
        if not relevant or self._variance == 0:
            return 0.0
        if self.exact:
            m = lg.effect(self.model_graph, tuple(relevant), self.targets)
            e = self._slices(relevant)
            explained = np.trace(m @ self._covariance[np.ix_(e, e)] @ m.T)
            return float(explained / self._variance)
        given = {n: self._base[n] for n in relevant}
        if self._sampler.supports(relevant) and self._sampler.supports(self._names):
            first = self._sampler.draw(given, self._names, 2 * index + 1)
            second = self._sampler.draw(given, self._names, 2 * index + 2)
            return self._pick_freeze(first, second)
        seed = self.seed + 7919 * (index + 1)
        first = clamped_draws(self.model_graph, given, self.n_samples, seed,
                              names=self.targets)
        second = clamped_draws(self.model_graph, given, self.n_samples, seed + 1,
                               names=self.targets)
        return self._pick_freeze(first, second)

    def _pick_freeze(self, first: dict[str, np.ndarray], second: dict[str, np.ndarray]
                     ) -> float:
        """``Cov(T1, T2) / Var(T)`` of two target draws sharing the clamped element."""
        t1, t2 = self._target_values(first), self._target_values(second)
        mean = 0.5 * (t1.mean(axis=0) + t2.mean(axis=0))
        cov = np.sum((t1 - mean) * (t2 - mean), axis=0) / (self.n_samples - 1)
        return float(np.sum(cov) / self._variance)

    def _compute(self, elements: dict[Any, tuple[str, ...]]) -> dict[Any, Any]:
        return {key: self._influence(names, i)
                for i, (key, names) in enumerate(elements.items())}


def _with_target(graph: NamedObject, target: Callable[[Any], Any]) -> NamedObject:
    """A copy of ``graph`` holding a Dirac variable equal to ``target(copy)``."""
    from bayesgraph.core import Variable

    with no_name_injection():
        copy = graph.copy(graph.name)
        expression = target(copy)
        shape = tuple(getattr(expression, "shape", ()) or ())
        try:
            with copy:
                Variable(_TARGET, shape=shape, distribution="DiracDistribution",
                         mean=expression)
        except Exception as error:  # noqa: BLE001 - re-raised with the fix
            raise ExpressionError(
                f"InfluenceEstimator: the target function returned {expression!r}, which "
                f"cannot be a variable's mean ({error}); return an expression of the "
                "graph's variables") from error
    return copy
