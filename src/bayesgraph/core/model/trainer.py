"""Trainer: fit a graph's static variables to data and return the *trained graph*.

The trained graph is a copy of the graph whose static variables carry their posterior as
their prior, so it can be trained again on new data (sequential Bayesian updating) and used
by every objective and model like any graph.

Examples
--------
>>> import numpy as np
>>> from bayesgraph.core import Graph, StaticVariable, Variable
>>> from bayesgraph.core.model import Trainer
>>> with Graph("g") as g:
...     mu = StaticVariable("mu", mean=0, variance=1)
...     y = Variable("y", mean=mu, variance=1)
>>> trained = Trainer(g, {g.y: [1.0, 2.0, 3.0]})()
>>> round(float(trained.mu.mean.value), 12), round(float(trained.mu.variance.value), 12)
(1.5, 0.25)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from bayesgraph._warn import warn_user
from bayesgraph.core.scope import NamedObject, no_name_injection
from bayesgraph.exceptions import ApproximationWarning, OptionError

#: statics whose posterior is carried as a Gaussian (a trained graph's vector statics are
#: multivariate Normal, so a trained graph trains again)
_GAUSSIAN = ("NormalDistribution", "MultivariateNormalDistribution")
#: The methods whose answer has a posterior spread to carry into the trained graph (Forward
#: samples the prior; MAP is a point).
TRAINING_METHODS = ("MAPFisher", "ADVI", "MGVI", "MCMC")


class Trainer:
    """Train a graph: its static variables' posterior becomes their prior.

    Parameters
    ----------
    graph : Graph
        The untrained (or previously trained) graph.
    data : dict or DataLinker
        Training data (``NaN`` = missing).
    method : str
        Posterior method of :func:`~bayesgraph.core.model.get_posterior_model`:
        ``'MAPFisher'`` (the default: exact for linear-Gaussian graphs), ``'ADVI'``,
        ``'MGVI'`` or ``'MCMC'``. ``'MAP'`` and ``'Forward'`` are refused with an
        ``OptionError``: they give no posterior spread.
    compiler : None
        Accepted for compatibility.
    model_args, solver_args : dict, optional
        Keyword arguments of the model class.
    n_samples : int
        Draws used where the method has no exact covariance (and for LogNormal statics).

    Notes
    -----
    What the trained graph's static variables become:

    * Normal statics (unbounded): the joint Gaussian posterior (mean and covariance; exact
      for linear-Gaussian graphs under MAPFisher), written as a chain of conditional
      Normals in the order of the graph: each static's mean is its posterior mean plus the
      regression on the statics before it, its variance the conditional variance. Vector
      statics of one axis become ``MultivariateNormalDistribution`` (their own entries keep
      their correlations); statics of two or more axes keep only the diagonal of their own
      conditional covariance (correlations with other statics are kept).
    * LogNormal statics: LogNormal with the mean and variance of the posterior draws of
      their logarithm (no correlations with other statics).
    * Any other static (bounded, Exponential, Uniform, discrete, ...): a Dirac at its
      posterior mean, with an :class:`~bayesgraph.exceptions.ApproximationWarning` naming
      it: its uncertainty is not carried over, and training again will not move it.

    Statics given as data keep their prior; dynamic variables are unchanged.

    Examples
    --------
    >>> import numpy as np
    >>> from bayesgraph.core import Graph, StaticVariable, Variable
    >>> from bayesgraph.core.model import Trainer
    >>> with Graph("g") as g:
    ...     mu = StaticVariable("mu", mean=0, variance=1)
    ...     y = Variable("y", mean=mu, variance=1)
    >>> once = Trainer(g, {g.y: [1.0, 2.0, 3.0, 4.0]})()
    >>> twice = Trainer(Trainer(g, {g.y: [1.0, 2.0]})(), {g.y: [3.0, 4.0]})()
    >>> bool(np.isclose(float(once.mu.mean.value), float(twice.mu.mean.value)))
    True
    """

    def __init__(self, graph: NamedObject, data: Mapping | None = None,
                 method: str = "MAPFisher", compiler: Any = None,
                 model_args: Mapping | None = None, solver_args: Mapping | None = None,
                 n_samples: int = 1000) -> None:
        from bayesgraph.core.model.factory import METHODS

        if method not in METHODS:
            raise OptionError(f"Trainer: unknown method {method!r}; valid: "
                              + ", ".join(map(repr, TRAINING_METHODS)))
        if method not in TRAINING_METHODS:
            raise OptionError(
                f"Trainer: method {method!r} gives no posterior spread, so the trained graph's "
                f"statics would have no prior to carry; use one of "
                + ", ".join(map(repr, TRAINING_METHODS))
                + " ('MAPFisher', the default, is exact for linear-Gaussian graphs)")
        self.graph, self.data, self.method = graph, data, method
        self.model_args = {**(model_args or {}), **(solver_args or {})}
        self.n_samples = int(n_samples)
        self.model: Any = None

    def __call__(self) -> NamedObject:
        """Solve the posterior model and return the trained graph (a copy)."""
        from bayesgraph.core.model.factory import METHODS

        self.model = METHODS[self.method](self.graph, self.data, **self.model_args).solve()
        spec = self.model.spec
        statics = [v for v in spec.variables
                   if not v.dynamic and v.role != "observed"
                   and v.distribution != "DiracDistribution"]
        normal = [v for v in statics if v.distribution in _GAUSSIAN and not v.constraint]
        with no_name_injection():
            trained = self.graph.copy(self.graph.name)
            self._normal(trained, normal)
            for v in statics:
                if v in normal:
                    continue
                target = _find(trained, v.name, self.graph)
                if v.distribution == "LogNormalDistribution":
                    draws = np.log(self.model.get_samples(v.name, n_samples=self.n_samples))
                    target.mean_log = np.mean(draws, axis=0)
                    target.variance_log = np.var(draws, axis=0)
                    continue
                mean = self.model.get_means(v.name, n_samples=self.n_samples)
                warn_user(f"Trainer: the static variable {v.name!r} has a "
                          f"{v.distribution}{' with bounds' if v.constraint else ''}; the "
                          "trained graph fixes it at its posterior mean (a Dirac), so its "
                          "uncertainty is not carried over", ApproximationWarning)
                target.distribution = "DiracDistribution"
                target.mean = mean
        return trained

    def _normal(self, trained: NamedObject, statics: list) -> None:
        if not statics:
            return
        names = [v.name for v in statics]
        means = [np.asarray(m, dtype=float).reshape(-1)
                 for m in self.model.get_means(names, n_samples=self.n_samples)]
        if hasattr(self.model, "get_covariance"):
            cov = np.asarray(self.model.get_covariance(names))
        else:
            draws = self.model.get_samples(names, n_samples=self.n_samples)
            flat = np.concatenate([np.reshape(d, (self.n_samples, -1)) for d in draws], axis=1)
            cov = np.atleast_2d(np.cov(flat, rowvar=False))
        mean = np.concatenate(means)
        sizes = [m.size for m in means]
        starts = np.concatenate([[0], np.cumsum(sizes)])
        for j, var in enumerate(statics):
            own = np.arange(starts[j], starts[j + 1])
            prev = np.arange(0, starts[j])
            if len(prev):
                coef = np.linalg.solve(cov[np.ix_(prev, prev)], cov[np.ix_(prev, own)]).T
                cond = cov[np.ix_(own, own)] - coef @ cov[np.ix_(prev, own)]
            else:
                coef, cond = np.zeros((len(own), 0)), cov[np.ix_(own, own)]
            cond = 0.5 * (cond + cond.T)
            target = _find(trained, var.name, self.graph)
            expression: Any = _reshape(mean[own], var.shape)
            for q, other in enumerate(statics[:j]):
                block = coef[:, starts[q]:starts[q + 1]]
                if np.all(np.abs(block) < 1e-14 * max(1.0, np.abs(coef).max())):
                    continue
                source = _find(trained, other.name, self.graph)
                expression = expression + _linear(block, source, means[q], var.shape,
                                                  other.shape)
            if len(var.shape) == 1 and var.shape[0] > 1:
                target.distribution = "MultivariateNormalDistribution"
                target.mean = expression
                target.covariance = cond
            else:
                target.mean = expression
                target.variance = _reshape(np.diag(cond).copy(), var.shape)


def _reshape(values: np.ndarray, shape: tuple[int, ...]) -> Any:
    return float(values[0]) if shape == () else values.reshape(shape)


def _linear(block: np.ndarray, source: Any, centre: np.ndarray, shape: tuple[int, ...],
            source_shape: tuple[int, ...]) -> Any:
    """``block @ (source - centre)`` as an expression of the trained graph's variables."""
    from bayesgraph.core.operator.functions import matmul, reshape
    from bayesgraph.core.operator.functions import sum as bsum

    if source_shape == ():
        return _reshape(block[:, 0], shape) * (source - float(centre[0]))
    deviation = source - centre.reshape(source_shape)
    if len(source_shape) > 1:
        deviation = reshape(deviation, (-1,))
    if shape == ():
        return bsum(block[0] * deviation)
    product = matmul(block, deviation)
    return product if len(shape) == 1 else reshape(product, shape)


def _find(trained: NamedObject, global_name: str, original: NamedObject) -> Any:
    relative = global_name[len(original.global_name) + 1:] if global_name != \
        original.global_name else ""
    obj = trained
    for part in filter(None, relative.split("/")):
        obj = obj.children[part]
    return obj
