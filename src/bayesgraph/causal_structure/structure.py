"""CausalStructure: regressions between DataFrame columns, trained and queried in one object.

Every parameter (a DataFrame column) becomes a dynamic ``Variable``; each is a regression on
its direct causes (:func:`~bayesgraph.core.regression.connect_via_regression`), a root a
Normal with a learned mean and variance. Training standardises the data (``scaling_data``),
fits the standardised graph with :class:`~bayesgraph.core.model.MAPModel` (or
``MAPFisherModel``; one vectorised site per kind of column, the data as arguments of the
jitted fit) and keeps the fitted coefficients (the joint MAP). The *trained graph*
(``graph``) is the same network in the data's own units with the coefficients as
constants: a linear-Gaussian network for ``order=1``.

``predict`` conditions that network on the columns given, in any causal direction: for
``order=1`` exactly (Gaussian conditioning, vectorised over rows per pattern of given
columns), otherwise by MAP-Fisher. Standard deviations are the predictive ones given the
fitted coefficients (their own uncertainty, of order ``1/sqrt(n_train)``, is not added; see
``docs/decisions.md``).

Examples
--------
>>> import numpy as np
>>> import pandas as pd
>>> from bayesgraph.causal_structure import CausalStructure
>>> rng = np.random.default_rng(0)
>>> x = rng.normal(size=200)
>>> data = pd.DataFrame({"x": x, "y": 2 * x + 1 + 0.1 * rng.normal(size=200)})
>>> cs = CausalStructure([["x", "y"]]).train(data)
>>> round(cs.coefficients["y"]["slopes"]["x"], 1)
2.0
>>> cs.predict(pd.DataFrame({"x": [0.0, 1.0]}))["y"].round(1).tolist()
[1.0, 3.0]
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from bayesgraph.causal_structure.dependencies import Dependencies
from bayesgraph.core.data import DataLinker
from bayesgraph.core.graph import Graph
from bayesgraph.core.regression import connect_via_regression
from bayesgraph.core.scope import no_name_injection
from bayesgraph.core.variable import Variable
from bayesgraph.exceptions import (
    DataError,
    MissingVariableError,
    NotSolvedError,
    OptionalDependencyError,
    OptionError,
)

__all__ = ["CausalStructure"]

#: the whole graph's entry in the results of estimate_ranks & co. (the graph's name)
GRAPH_NAME = "graph"
_METRICS = ("r2", "mae", "mse", "rmse")


def _pandas() -> Any:
    try:
        import pandas
    except ImportError:  # pragma: no cover - pandas is in the test environment
        raise OptionalDependencyError(
            "bayesgraph.causal_structure works on pandas DataFrames, and pandas is not "
            "installed: pip install bayesgraph[causal]  (or: pip install pandas)"
        ) from None
    return pandas


def _is_frame(data: Any) -> bool:
    module = type(data).__module__
    return module.startswith("pandas") and type(data).__name__ == "DataFrame"


def _names(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return list(value)


class CausalStructure:
    """Regressions between named parameters (DataFrame columns), in causal order.

    Parameters
    ----------
    dependencies : Dependencies or list
        Which parameters cause which, in any form
        :class:`~bayesgraph.causal_structure.Dependencies` accepts, e.g.
        ``[["(a)", "(b|a)"], [["(a)", "(b|a)"], "(c|a,b)"]]``.
    order : int
        Polynomial order of every regression (1: linear, the default).
    prior_variance : float
        Variance of the Normal prior of every coefficient, in standardised units.
    noise_prior_variance : float
        Variance of the Normal prior of each ``log_noise_variance`` (standardised units).

    Attributes
    ----------
    scaling_data : DataFrame or dict
        The data the standardisation was computed from (set by :meth:`train`).
    training_graph : Graph
        The standardised graph with its coefficient variables (set by :meth:`build_graph`).
    model : MAPModel or MAPFisherModel
        The fit of the standardised graph (after :meth:`train`).
    graph : Graph
        The trained graph: the network in the data's units, coefficients fixed.

    Examples
    --------
    >>> from bayesgraph.causal_structure import CausalStructure
    >>> CausalStructure([[{"a", "b"}, {"c", "d"}]])
    CausalStructure([[{'a', 'b'}, 'c'], [{'a', 'b'}, 'd']])
    """

    def __init__(self, dependencies: Any, *, order: int = 1, prior_variance: float = 1.0,
                 noise_prior_variance: float = 10.0) -> None:
        self.dependencies = Dependencies(dependencies)
        if isinstance(order, bool) or not isinstance(order, int) or order < 1:
            raise OptionError(f"order must be a whole number >= 1, got {order!r}")
        self.order = order
        self.prior_variance = float(prior_variance)
        self.noise_prior_variance = float(noise_prior_variance)
        self.parameters: list[str] = self.dependencies.parameters
        self.scaling_data: Any = None
        self.training_graph: Graph | None = None
        self._model: Any = None
        self._model_options: tuple[Any, ...] | None = None
        self.graph: Graph | None = None
        self._scale: dict[str, tuple[float, float]] = {}
        self._fitted: dict[str, dict[str, Any]] = {}

    def __repr__(self) -> str:
        return f"CausalStructure({self.dependencies._repr_list()})"

    # -- data ----------------------------------------------------------------------------
    def _columns(self, data: Any, what: str) -> tuple[dict[str, np.ndarray], int, Any]:
        """Validated float copies of the columns ``{name: array}``, the number of rows and
        the DataFrame's index (None for a dict). The user's object is never changed."""
        if _is_frame(data):
            index = data.index
            raw = {name: data[name] for name in data.columns}
        elif isinstance(data, Mapping):
            index = None
            raw = dict(data)
        else:
            raise DataError(
                f"{what} must be a pandas DataFrame or a dict of columns, got "
                f"{type(data).__name__}"
            )
        columns: dict[str, np.ndarray] = {}
        n = None
        for name, column in raw.items():
            if name not in self.parameters:
                raise MissingVariableError(
                    f"column {name!r} of the {what} names no parameter of this causal "
                    f"structure; the parameters are {self.parameters}. Drop the column or add "
                    "a dependency for it"
                )
            values = np.asarray(column.to_numpy() if hasattr(column, "to_numpy") else column)
            if values.dtype.kind not in "biuf":
                raise DataError(
                    f"column {name!r} of the {what} is not numeric (dtype {values.dtype}); "
                    "convert it to numbers (missing values as NaN)"
                )
            values = np.array(values, dtype=np.float64)
            if values.ndim != 1:
                raise DataError(f"column {name!r} of the {what} must be one-dimensional, "
                                f"got shape {values.shape}")
            if n is None:
                n = values.shape[0]
            elif values.shape[0] != n:
                raise DataError(
                    f"column {name!r} of the {what} has {values.shape[0]} rows, the others {n}"
                )
            if np.isinf(values).any():
                raise DataError(f"column {name!r} of the {what} holds infinite values; use "
                                "NaN for a missing value")
            if values.size and np.isnan(values).all():
                raise DataError(
                    f"column {name!r} of the {what} is entirely missing (NaN); drop the column "
                    "(columns not given are predicted)"
                )
            columns[name] = values
        if n is None:
            raise DataError(f"the {what} holds no columns")
        return columns, n, index

    # -- training ------------------------------------------------------------------------
    def build_graph(self) -> Graph:
        """Build the standardised training graph from :attr:`scaling_data`.

        Returns
        -------
        Graph
            ``graph`` with one ``Variable`` per parameter (its regression's coefficients
            ``intercept``, ``slopes`` and ``log_noise_variance`` inside it).

        Examples
        --------
        >>> from bayesgraph.causal_structure import CausalStructure
        >>> cs = CausalStructure([["a", "b"]])
        >>> cs.scaling_data = {"a": [1.0, 2.0, 3.0], "b": [2.0, 4.0, 7.0]}
        >>> sorted(cs.build_graph().b.children)
        ['intercept', 'log_noise_variance', 'slopes']
        """
        if self.scaling_data is None:
            raise NotSolvedError("set scaling_data (or call train(data)) before build_graph()")
        columns, _, _ = self._columns(self.scaling_data, "scaling data")
        self._require_all(columns, "scaling data")
        self._scale = {}
        for name in self.parameters:
            values = columns[name]
            center = float(np.nanmean(values))
            spread = float(np.nanstd(values))
            self._scale[name] = (center, spread if spread > 0 else 1.0)
        with no_name_injection(), Graph(GRAPH_NAME) as graph:
            variables = {name: Variable(name) for name in self.parameters}
            for name in self.parameters:
                connect_via_regression(
                    [variables[f] for f in self.dependencies.features_of(name)],
                    variables[name], order=self.order, prior_variance=self.prior_variance,
                    noise_prior_variance=self.noise_prior_variance)
        self.training_graph = graph
        return graph

    def _require_all(self, columns: Mapping[str, Any], what: str) -> None:
        for name in self.parameters:
            if name not in columns:
                raise DataError(
                    f"the {what} has no column {name!r}, which the dependencies name; add the "
                    "column (NaN where unknown) or remove it from the dependencies"
                )

    def _standardise(self, name: str, values: np.ndarray) -> np.ndarray:
        center, spread = self._scale[name]
        return (values - center) / spread

    def train(self, data: Any, *, method: str = "MAP", seed: int | None = 0
              ) -> CausalStructure:
        """Standardise ``data``, build the graph and fit it (its joint MAP).

        Parameters
        ----------
        data : DataFrame or dict
            One column per parameter; NaN entries are missing values, inferred.
        method : {'MAP', 'MAPFisher'}
            The model class of the fit. Both find the same mode, which is all that training
            keeps; ``'MAPFisher'`` also gives the coefficients' Laplace posterior in
            :attr:`model` (its Hessian costs about as much as the fit on large data).
            With ``'MAP'`` and no missing entry, the mode is computed in closed form
            (:func:`_exact_fit`: per column a ridge solve and a one-dimensional root for
            the noise variance, on the column's sufficient statistics, no compilation);
            :attr:`model` is then fitted only when it is first read.
        seed : int, optional
            Seed of the fit's starting jitter.

        Returns
        -------
        CausalStructure
            ``self``, trained.

        Examples
        --------
        >>> from bayesgraph.causal_structure import CausalStructure
        >>> cs = CausalStructure([["a", "b"]]).train({"a": [0.0, 1, 2, 3], "b": [1.0, 3, 5, 8]})
        >>> cs.graph.b.get_parents() == [cs.graph.a]
        True
        """
        if method not in ("MAP", "MAPFisher"):
            raise OptionError(f"method must be 'MAP' or 'MAPFisher', got {method!r}")
        columns, _, _ = self._columns(data, "training data")
        self._require_all(columns, "training data")
        self.scaling_data = data
        graph = self.build_graph()
        standard = {graph.children[name]: self._standardise(name, columns[name])
                    for name in self.parameters}
        self._model = None
        self._model_options = None
        complete = all(np.isfinite(v).all() for v in standard.values())
        if method == "MAP" and complete:
            self._model_options = (graph, standard, seed)
            self._fitted = {}
            z = {k.name: v for k, v in standard.items()}
            for name in self.parameters:
                features = self.dependencies.features_of(name)
                powers = [z[f] ** p for f in features for p in range(1, self.order + 1)]
                design = np.column_stack([np.ones_like(z[name]), *powers])
                w, noise = _exact_fit(design, z[name], self.prior_variance,
                                      self.noise_prior_variance)
                slopes = w[1:] if features else np.zeros(0)
                self._fitted[name] = {"intercept": float(w[0]), "noise_variance": noise,
                                      "features": features,
                                      "slopes": slopes.reshape(len(features), self.order)}
            self.graph = self._trained_graph()
            return self
        from bayesgraph.core.model import MAPFisherModel, MAPModel

        options = self._fit_options(graph, standard, seed)

        if method == "MAPFisher":  # only the mode is kept, so the Laplace check is skipped
            self._model = MAPFisherModel(graph, data=standard, check=False, **options)
        else:
            self._model = MAPModel(graph, data=standard, **options)
        self._model.solve()
        self._fitted = {}
        for name in self.parameters:
            variable = graph.children[name]
            features = self.dependencies.features_of(name)
            fit = {"intercept": float(self.model.get_means(variable.intercept)),
                   "noise_variance": float(np.exp(self.model.get_means(
                       variable.log_noise_variance))),
                   "features": features}
            slopes = (np.asarray(self.model.get_means(variable.slopes)) if features
                      else np.zeros((0,) if self.order == 1 else (0, self.order)))
            fit["slopes"] = slopes.reshape(len(features), self.order)
            self._fitted[name] = fit
        self.graph = self._trained_graph()
        return self

    @property
    def model(self) -> Any:
        """The solved model of the standardised graph (MAPModel or MAPFisherModel), or
        None before training; after a closed-form training it is fitted (MAP, started
        at the closed-form mode) when first read."""
        if self._model is None and self._model_options is not None and self._fitted:
            from bayesgraph.core.model import MAPModel

            graph, standard, seed = self._model_options
            options = self._fit_options(graph, standard, seed)
            start = dict(options["initial_values"])
            for name in self.parameters:
                variable, fit = graph.children[name], self._fitted[name]
                start[variable.intercept] = fit["intercept"]
                start[variable.log_noise_variance] = float(np.log(fit["noise_variance"]))
                if fit["features"]:
                    start[variable.slopes] = fit["slopes"].reshape(variable.slopes.shape)
            self._model = MAPModel(graph, data=standard,
                                   **dict(options, initial_values=start)).solve()
        return self._model

    def _fit_options(self, graph: Graph, standard: dict[Any, np.ndarray], seed: int | None
                     ) -> dict[str, Any]:
        """The model options of a compiled fit: started at each regression's ridge
        solution, without jitter (1e-4 in every coordinate costs gradients of order
        n * 1e-4 and tripled the L-BFGS iterations: 145 instead of 32 at 1e5 rows)."""
        start = self._start_values(graph, {k.name: v for k, v in standard.items()})
        return {"seed": seed, "initial_values": start, "random_initial_value_scale": 0.0}

    def _start_values(self, graph: Graph, z: dict[str, np.ndarray]) -> dict[Any, Any]:
        """Start the fit at each regression's ridge solution on its complete rows (one
        vectorised least-squares solve per column): the optimiser then needs a few
        iterations instead of hundreds. Only the start: the fit is the MAP all the same."""
        start: dict[Any, Any] = {}
        for name in self.parameters:
            variable = graph.children[name]
            features = self.dependencies.features_of(name)
            columns = [z[f] ** p for f in features for p in range(1, self.order + 1)]
            design = np.column_stack([np.ones_like(z[name]), *columns])
            rows = np.isfinite(design).all(axis=1) & np.isfinite(z[name])
            if rows.sum() <= design.shape[1]:
                continue
            x, y = design[rows], z[name][rows]
            w = np.linalg.lstsq(x, y, rcond=None)[0]
            noise = max(float(np.mean((y - x @ w) ** 2)), 1e-8)
            w = np.linalg.solve(x.T @ x / noise + np.eye(x.shape[1]) / self.prior_variance,
                                x.T @ y / noise)
            start[variable.intercept] = float(w[0])
            start[variable.log_noise_variance] = float(np.log(noise))
            if features:
                start[variable.slopes] = w[1:].reshape(variable.slopes.shape)
        return start

    def _require_trained(self) -> None:
        if self.graph is None:
            raise NotSolvedError("this causal structure is not trained: call train(data)")

    def _trained_graph(self) -> Graph:
        """The network in the data's units, the fitted coefficients as constants."""
        with no_name_injection(), Graph(GRAPH_NAME) as graph:
            variables: dict[str, Variable] = {}
            for name in self.parameters:
                fit = self._fitted[name]
                center, spread = self._scale[name]
                mean: Any = center + spread * fit["intercept"]
                for i, feature in enumerate(fit["features"]):
                    f_center, f_spread = self._scale[feature]
                    standard = (variables[feature] - f_center) / f_spread
                    for power in range(1, self.order + 1):
                        term = standard if power == 1 else standard ** power
                        mean = mean + spread * float(fit["slopes"][i, power - 1]) * term
                variables[name] = Variable(name, mean=mean,
                                           variance=spread**2 * fit["noise_variance"])
        return graph

    @property
    def coefficients(self) -> dict[str, dict[str, Any]]:
        """The fitted linear regressions in the data's units (``order=1`` only):
        ``{target: {"intercept": float, "slopes": {feature: float}, "noise_variance": float}}``.

        Examples
        --------
        >>> from bayesgraph.causal_structure import CausalStructure
        >>> cs = CausalStructure([["a", "b"]]).train({"a": [0.0, 1, 2, 3], "b": [1.0, 3, 5, 7]})
        >>> round(cs.coefficients["b"]["slopes"]["a"], 2)
        2.0
        """
        self._require_trained()
        if self.order != 1:
            raise OptionError("coefficients are given for order=1; read the polynomial's "
                              "standardised coefficients from .model")
        out = {}
        for name in self.parameters:
            fit = self._fitted[name]
            center, spread = self._scale[name]
            slopes, intercept = {}, center + spread * fit["intercept"]
            for i, feature in enumerate(fit["features"]):
                f_center, f_spread = self._scale[feature]
                slopes[feature] = spread * float(fit["slopes"][i, 0]) / f_spread
                intercept -= slopes[feature] * f_center
            out[name] = {"intercept": intercept, "slopes": slopes,
                         "noise_variance": spread**2 * fit["noise_variance"]}
        return out

    # -- prediction ----------------------------------------------------------------------
    def _joint_gaussian(self) -> tuple[np.ndarray, np.ndarray]:
        """Mean and covariance of all parameters (standardised units) for order 1:
        ``z = B z + c + e``, so ``z = A (c + e)`` with ``A = (I - B)^-1``."""
        index = {name: i for i, name in enumerate(self.parameters)}
        p = len(self.parameters)
        b, c, d = np.zeros((p, p)), np.zeros(p), np.zeros(p)
        for name, fit in self._fitted.items():
            i = index[name]
            c[i], d[i] = fit["intercept"], fit["noise_variance"]
            for j, feature in enumerate(fit["features"]):
                b[i, index[feature]] = fit["slopes"][j, 0]
        a = np.linalg.inv(np.eye(p) - b)  # unit lower triangular in causal order
        return a @ c, (a * d) @ a.T

    def _predict_exact(self, columns: dict[str, np.ndarray], n: int
                       ) -> tuple[np.ndarray, np.ndarray]:
        """Gaussian conditioning on the given entries: one linear solve per pattern of given
        columns, applied to all rows of that pattern at once. Arrays are (parameter, row), so
        every parameter's values are contiguous. Returns (n, p) means and sds."""
        mu, sigma = self._joint_gaussian()
        p = len(self.parameters)
        z = np.full((p, n), np.nan)
        for i, name in enumerate(self.parameters):
            if name in columns:
                z[i] = self._standardise(name, columns[name])
        given = np.isfinite(z)
        means, sds = z, np.zeros((p, n))
        codes = np.zeros(n, dtype=np.int64) if p <= 62 else None
        if codes is not None:  # patterns as bit codes: a sort of integers, not of rows
            for i in range(p):
                codes |= given[i].astype(np.int64) << i
            _, first, inverse = np.unique(codes, return_index=True, return_inverse=True)
            patterns = given[:, first].T
        else:
            patterns, inverse = np.unique(given.T, axis=0, return_inverse=True)
        inverse = inverse.reshape(-1)
        if len(patterns) == 1:
            groups: list[Any] = [slice(None)]
        else:
            order = np.argsort(inverse, kind="stable")
            bounds = np.searchsorted(inverse[order], np.arange(len(patterns) + 1))
            groups = [order[bounds[k]:bounds[k + 1]] for k in range(len(patterns))]
        for pattern, rows in zip(patterns, groups):  # one solve per pattern of columns
            o, m = np.flatnonzero(pattern), np.flatnonzero(~pattern)
            if m.size == 0:
                continue
            if o.size == 0:
                conditional_mean = mu[m][:, None]  # broadcast over the rows
                conditional = sigma[np.ix_(m, m)]
            else:
                gain = np.linalg.solve(sigma[np.ix_(o, o)], sigma[np.ix_(o, m)]).T
                observed = z[o][:, rows] if not isinstance(rows, slice) else z[o]
                conditional_mean = mu[m][:, None] + gain @ (observed - mu[o][:, None])
                conditional = sigma[np.ix_(m, m)] - gain @ sigma[np.ix_(o, m)]
            sd = np.sqrt(np.clip(np.diag(conditional), 0, None))[:, None]
            if isinstance(rows, slice):
                means[m] = conditional_mean
                sds[m] = sd
            else:
                means[np.ix_(m, rows)] = conditional_mean
                sds[np.ix_(m, rows)] = sd
        for i, name in enumerate(self.parameters):
            center, spread = self._scale[name]
            means[i] = center + spread * means[i]
            sds[i] = spread * sds[i]
        return means.T, sds.T

    def _predict_mapfisher(self, columns: dict[str, np.ndarray], n: int, seed: int | None
                           ) -> tuple[np.ndarray, np.ndarray]:
        from bayesgraph.core.model import MAPFisherModel

        graph = self.graph
        data = {graph.children[name]: values for name, values in columns.items()}
        model = MAPFisherModel(graph, data=data if data else DataLinker(n_data=n),
                               seed=seed).solve()
        variables = [graph.children[name] for name in self.parameters]
        means = np.column_stack(model.get_means(variables))
        sds = np.column_stack(model.get_standard_deviations(variables))
        for i, name in enumerate(self.parameters):
            if name in columns:
                given = np.isfinite(columns[name])
                means[given, i] = columns[name][given]
                sds[given, i] = 0.0
        return means, sds

    def predict(self, data: Any, return_std: bool = False, *, outputs: Any = None,
                method: str | None = None, seed: int | None = 0) -> Any:
        """Predict the parameters not given from those given, in any causal direction.

        Parameters
        ----------
        data : DataFrame or dict
            Known values, one column per given parameter; NaN entries are predicted too.
        return_std : bool
            Also return the predictive standard deviations (0 where a value was given).
        outputs : str or list of str, optional
            The parameters to return (default: every parameter). Each must be one not given.
        method : {None, 'exact', 'MAPFisher'}
            ``'exact'``: Gaussian conditioning (``order=1`` only, the default there);
            ``'MAPFisher'``: a MAP-Fisher model of the trained graph conditioned on the data
            (the default for ``order > 1``; exact too for ``order=1``).
        seed : int, optional
            Seed of the MAP-Fisher fit.

        Returns
        -------
        DataFrame or dict
            Means, with the input's index (a DataFrame in, a DataFrame out; a dict in, a dict
            of arrays out); with ``return_std``, ``(means, standard_deviations)``.

        Examples
        --------
        >>> from bayesgraph.causal_structure import CausalStructure
        >>> cs = CausalStructure([["a", "b"]]).train({"a": [0.0, 1, 2, 3], "b": [1.0, 3, 5, 7]})
        >>> mean, std = cs.predict({"b": [5.0]}, return_std=True)
        >>> round(float(mean["a"][0]), 2), float(std["b"][0])
        (2.0, 0.0)
        """
        self._require_trained()
        columns, n, index = self._columns(data, "prediction data")
        wanted = self.parameters if outputs is None else _names(outputs)
        for name in wanted:
            if name not in self.parameters:
                raise MissingVariableError(
                    f"output {name!r} names no parameter; the parameters are {self.parameters}")
            if outputs is not None and name in columns:
                raise DataError(
                    f"output {name!r} is also given in the data; drop the column to predict "
                    "it, or leave it out of outputs"
                )
        if method is None:
            method = "exact" if self.order == 1 else "MAPFisher"
        if method == "exact":
            if self.order != 1:
                raise OptionError("method='exact' needs order=1 (a linear-Gaussian network); "
                                  "use method='MAPFisher'")
            means, sds = self._predict_exact(columns, n)
        elif method == "MAPFisher":
            means, sds = self._predict_mapfisher(columns, n, seed)
        else:
            raise OptionError(f"method must be None, 'exact' or 'MAPFisher', got {method!r}")
        position = {name: i for i, name in enumerate(self.parameters)}
        mean_out = self._frame_like(data, {k: means[:, position[k]] for k in wanted}, index)
        if not return_std:
            return mean_out
        return mean_out, self._frame_like(data, {k: sds[:, position[k]] for k in wanted},
                                          index)

    @staticmethod
    def _frame_like(data: Any, columns: dict[str, np.ndarray], index: Any) -> Any:
        if _is_frame(data):
            return _pandas().DataFrame(columns, index=index)
        return columns

    # -- evaluation ----------------------------------------------------------------------
    def evaluate(self, data: Any, inputs: Any, outputs: Any = None, metric: str = "r2",
                 **kwargs: Any) -> dict[str, float]:
        """Score predictions of ``outputs`` from ``inputs`` against ``data``.

        Parameters
        ----------
        data : DataFrame or dict
            Held-out data holding the inputs and the true outputs.
        inputs : str or list of str
            The columns predicted from.
        outputs : str or list of str, optional
            The columns scored (default: every other column of ``data``).
        metric : {'r2', 'mae', 'mse', 'rmse'}
            Computed over the rows where the output is known.
        **kwargs
            Passed to :meth:`predict` (``method=``, ``seed=``).

        Returns
        -------
        dict
            ``{output: score}``.

        Examples
        --------
        >>> from bayesgraph.causal_structure import CausalStructure
        >>> cs = CausalStructure([["a", "b"]]).train({"a": [0.0, 1, 2, 3], "b": [1.0, 3, 5, 7]})
        >>> round(cs.evaluate({"a": [4.0, 5.0], "b": [9.0, 11.0]}, inputs="a")["b"], 3)
        1.0
        """
        if metric not in _METRICS:
            raise OptionError(f"metric must be one of {list(_METRICS)}, got {metric!r}")
        self._require_trained()
        columns, _, _ = self._columns(data, "evaluation data")
        inputs_ = _names(inputs)
        for name in inputs_:
            if name not in columns:
                raise DataError(f"input {name!r} is not a column of the evaluation data")
        outputs_ = ([c for c in columns if c not in inputs_] if outputs is None
                    else _names(outputs))
        for name in outputs_:
            if name in inputs_:
                raise DataError(f"{name!r} is both an input and an output; inputs and outputs "
                                "must be disjoint")
            if name not in columns:
                raise DataError(f"output {name!r} is not a column of the evaluation data, so "
                                "there is nothing to score it against")
        predicted = self.predict({k: columns[k] for k in inputs_}, outputs=outputs_, **kwargs)
        scores = {}
        for name in outputs_:
            truth, guess = columns[name], np.asarray(predicted[name])
            known = np.isfinite(truth)
            error = truth[known] - guess[known]
            if metric == "r2":
                spread = truth[known] - truth[known].mean()
                scores[name] = float(1.0 - (error @ error) / (spread @ spread))
            elif metric == "mae":
                scores[name] = float(np.abs(error).mean())
            else:
                mse = float(error @ error / error.size)
                scores[name] = mse if metric == "mse" else float(np.sqrt(mse))
        return scores

    # -- objectives ----------------------------------------------------------------------
    def _objective_kwargs(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        graph = self.graph
        out = dict(kwargs)
        if "data" in out and out["data"] is not None:
            columns, _, _ = self._columns(out["data"], "data")
            out["data"] = {graph.children[name]: values for name, values in columns.items()}
        for key in ("target", "inputs", "outputs"):
            if key in out and out[key] is not None:
                value = out[key]
                if isinstance(value, str):
                    out[key] = self._variable(value)
                elif isinstance(value, (list, tuple, set)):
                    out[key] = [self._variable(v) if isinstance(v, str) else v for v in value]
        return out

    def _variable(self, name: str) -> Variable:
        if name not in self.parameters:
            raise MissingVariableError(
                f"{name!r} names no parameter; the parameters are {self.parameters}")
        return self.graph.children[name]

    def _fetches(self) -> dict[str, Any]:
        fetches: dict[str, Any] = {name: self.graph.children[name] for name in self.parameters}
        fetches.setdefault(GRAPH_NAME, self.graph)
        return fetches

    def evaluate_objective(self, objective: Any, **kwargs: Any) -> dict[str, Any]:
        """Run an objective class of ``bayesgraph.core.objectives`` on the trained graph.

        ``data`` (a DataFrame or dict) becomes ``{variable: column}``; ``target``, ``inputs``
        and ``outputs`` may be parameter names. The objective is constructed with
        ``graph=`` the trained graph and these arguments, then called with every parameter
        and the graph.

        Returns
        -------
        dict
            ``{parameter: result, "graph": whole-graph result}``.

        Examples
        --------
        >>> from bayesgraph.causal_structure import CausalStructure
        >>> class Count:                    # any class with the objectives' convention
        ...     def __init__(self, graph, data):
        ...         self.data = data
        ...     def __call__(self, fetches):
        ...         return {k: len(self.data) for k in fetches}
        >>> cs = CausalStructure([["a", "b"]]).train({"a": [0.0, 1, 2, 3], "b": [1.0, 3, 5, 7]})
        >>> cs.evaluate_objective(Count, data={"a": [1.0]})
        {'a': 1, 'b': 1, 'graph': 1}
        """
        self._require_trained()
        instance = objective(graph=self.graph, **self._objective_kwargs(kwargs))
        return dict(instance(self._fetches()))

    def _per_example_frame(self, results: Mapping[str, Any], index: Any) -> Any:
        columns = {k: np.asarray(v).reshape(-1) for k, v in results.items()}
        return _pandas().DataFrame(columns, index=index)

    def _data_index(self, data: Any) -> Any:
        return data.index if _is_frame(data) else None

    def detect_outliers(self, data: Any, **kwargs: Any) -> Any:
        """OutlierDetector per example: a DataFrame of bools, one column per parameter plus
        ``graph``. Keyword arguments go to the OutlierDetector (``outlier_threshold``,
        ``n_samples``, ``method``).

        Examples
        --------
        >>> from bayesgraph.causal_structure import CausalStructure
        >>> callable(CausalStructure.detect_outliers)
        True
        """
        from bayesgraph.core.objectives import OutlierDetector

        results = self.evaluate_objective(OutlierDetector, data=data, **kwargs)
        return self._per_example_frame(results, self._data_index(data))

    def estimate_ranks(self, data: Any, **kwargs: Any) -> Any:
        """RankEstimator per example: a DataFrame of ranks in [0, 1], one column per
        parameter plus ``graph``.

        Examples
        --------
        >>> from bayesgraph.causal_structure import CausalStructure
        >>> callable(CausalStructure.estimate_ranks)
        True
        """
        from bayesgraph.core.objectives import RankEstimator

        results = self.evaluate_objective(RankEstimator, data=data, **kwargs)
        return self._per_example_frame(results, self._data_index(data))

    def estimate_probabilities(self, data: Any, **kwargs: Any) -> Any:
        """ProbabilityEstimator per example: a DataFrame of log densities, one column per
        parameter plus ``graph``.

        Examples
        --------
        >>> from bayesgraph.causal_structure import CausalStructure
        >>> callable(CausalStructure.estimate_probabilities)
        True
        """
        from bayesgraph.core.objectives import ProbabilityEstimator

        results = self.evaluate_objective(ProbabilityEstimator, data=data, **kwargs)
        return self._per_example_frame(results, self._data_index(data))

    def estimate_influences(self, target: str, **kwargs: Any) -> Any:
        """InfluenceEstimator on ``target``: a Series named ``"influence on <target>"``,
        indexed by the other parameters.

        Examples
        --------
        >>> from bayesgraph.causal_structure import CausalStructure
        >>> callable(CausalStructure.estimate_influences)
        True
        """
        from bayesgraph.core.objectives import InfluenceEstimator

        self._require_trained()
        self._variable(target)
        results = self.evaluate_objective(InfluenceEstimator, target=target, **kwargs)
        names = [name for name in self.parameters if name != target]
        values = [float(np.asarray(results[name]).reshape(-1)[0]) for name in names]
        return _pandas().Series(values, index=names, name=f"influence on {target}")

    def predict_intervention(self, data: Any, **kwargs: Any) -> Any:
        """InterventionPredictor: predictions with the columns of ``data`` *set*
        (``do(parameter = value)``, row by row; NaN entries are not intervened on): their
        causes are cut, their effects follow. A DataFrame (or dict) of means, one column per
        parameter; keyword arguments go to the InterventionPredictor (``measure``,
        ``n_samples``, ``seed``).

        Examples
        --------
        >>> from bayesgraph.causal_structure import CausalStructure
        >>> callable(CausalStructure.predict_intervention)
        True
        """
        from bayesgraph.core.objectives import InterventionPredictor

        results = self.evaluate_objective(InterventionPredictor, data=data, **kwargs)
        columns = {name: np.asarray(results[name]).reshape(-1) for name in self.parameters}
        if _is_frame(data):
            return _pandas().DataFrame(columns, index=data.index)
        return columns


def _exact_fit(design: np.ndarray, y: np.ndarray, prior_variance: float,
               noise_prior_variance: float) -> tuple[np.ndarray, float]:
    """The joint mode of one regression ``y ~ N(design @ w, exp(s))`` with ``w ~ N(0,
    prior_variance)`` and ``s ~ N(0, noise_prior_variance)`` (complete rows).

    For a given ``s`` the mode in ``w`` is the ridge solution ``w(s) = (X'X + e^s / v
    I)^-1 X'y``; at the joint mode ``d/ds`` of the log density vanishes there (the envelope
    theorem): ``g(s) = -n/2 + RSS(w(s)) / (2 e^s) - s / v_s = 0``, positive for small
    ``s`` and negative for large ones, found by bisection to machine precision. ``RSS(w) =
    |y - X w_ls|^2 + (w - w_ls)' X'X (w - w_ls)``, the first term from the least-squares
    residuals themselves, so nothing cancels at 10^6 rows and each evaluation is
    ``k``-dimensional.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.c_[np.ones(4), [0.0, 1, 2, 3]]
    >>> w, noise = _exact_fit(x, np.array([1.0, 3, 5, 7]), 1e8, 1e8)
    >>> w.round(4).tolist(), bool(noise < 1e-6)
    ([1.0, 2.0], True)
    """
    n, k = design.shape
    gram, rhs = design.T @ design, design.T @ y
    w_ls = np.linalg.lstsq(gram, rhs, rcond=None)[0]
    perp = float(np.sum((y - design @ w_ls) ** 2))
    eye = np.eye(k)

    def ridge(s: float) -> np.ndarray:
        return np.linalg.solve(gram + np.exp(s) / prior_variance * eye, rhs)

    def g(s: float) -> float:
        d = ridge(s) - w_ls
        rss = perp + float(d @ gram @ d)
        return -0.5 * n + 0.5 * rss * np.exp(-s) - s / noise_prior_variance

    start = float(np.log(max(perp / max(n - k, 1), 1e-300)))
    low, high, step = start - 1.0, start + 1.0, 1.0
    while g(low) <= 0:
        step *= 2
        low -= step
    step = 1.0
    while g(high) >= 0:
        step *= 2
        high += step
    for _ in range(200):  # bisection: g(low) > 0 > g(high)
        middle = 0.5 * (low + high)
        if middle in (low, high):
            break
        if g(middle) > 0:
            low = middle
        else:
            high = middle
    s = 0.5 * (low + high)
    return ridge(s), float(np.exp(s))
