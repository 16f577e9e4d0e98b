"""Regression helpers: coefficient variables and the regression expression in one call.

Halerium's regression notebook imports ``linear_regression``, ``polynomial_regression`` and
``connect_via_regression`` from ``halerium.core.regression`` without showing their
signatures; bayesgraph's are these (see "Regression helpers" in ``docs/decisions.md``):

* :func:`linear_regression` ``(features, ...)`` creates two static variables in the current
  scope, ``intercept`` (scalar) and ``slopes`` (one per feature), and returns the expression
  ``intercept + sum_i slopes[i] * features[i]``;
* :func:`polynomial_regression` ``(features, order=2, ...)`` does the same with ``slopes`` of
  shape ``(n_features, order)``: ``intercept + sum_i sum_p slopes[i, p-1] * features[i]**p``
  (powers of each feature, no interaction terms);
* :func:`connect_via_regression` ``(features, targets, order=1, ...)`` enters each target
  variable, creates the coefficients there (``target.intercept``, ``target.slopes``, and
  ``target.log_noise_variance`` unless the noise variance is given) and sets
  ``target.mean`` to the regression and ``target.variance`` to the noise variance.

Coefficients get Normal priors (``prior_mean``, ``prior_variance``); a learned noise variance
is ``exp(log_noise_variance)`` with ``log_noise_variance ~ N(0, noise_prior_variance)``, a
real-support variable, so MAP-Fisher reports its posterior exactly in log coordinates. None
of these functions touches the caller's namespace (no name injection).

Examples
--------
>>> import numpy as np
>>> from bayesgraph.core import Graph, Variable
>>> from bayesgraph.core.regression import connect_via_regression
>>> with Graph("g") as g:
...     x = Variable("x", mean=0, variance=1)
...     y = Variable("y")
...     _ = connect_via_regression(x, y, noise_variance=0.25)
>>> sorted(g.y.children), g.y.slopes.shape
(['intercept', 'slopes'], (1,))
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from bayesgraph.core.operator.functions import exp
from bayesgraph.core.operator.operators import ExpressionBase
from bayesgraph.core.scope import inside, no_name_injection
from bayesgraph.core.variable import StaticVariable, Variable, VariableBase
from bayesgraph.exceptions import ExpressionError, GraphStructureError, OptionError, ShapeError

__all__ = ["linear_regression", "polynomial_regression", "connect_via_regression"]


def _as_list(items: Any, what: str) -> list[Any]:
    if isinstance(items, (VariableBase, ExpressionBase)):
        return [items]
    if isinstance(items, Iterable) and not isinstance(items, (str, bytes)):
        return list(items)
    raise ExpressionError(
        f"{what} must be a variable, an expression or a list of them, got {type(items).__name__}"
    )


def _check_scalar(feature: Any) -> None:
    shape = getattr(feature, "shape", ())
    if tuple(shape) != ():
        name = getattr(feature, "global_name", repr(feature))
        raise ShapeError(
            f"regression feature {name!r} has shape {tuple(shape)}; the regression helpers take "
            "scalar features: pass its entries (feature[0], feature[1], ...) as features"
        )


def _check_order(order: Any) -> int:
    if isinstance(order, bool) or not isinstance(order, int) or order < 1:
        raise OptionError(f"order must be a whole number >= 1, got {order!r}")
    return order


def _check_variance(value: Any, what: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise OptionError(f"{what} must be a positive number, got {value!r}") from None
    if not number > 0:
        raise OptionError(f"{what} must be a positive number, got {value!r}")
    return number


def _regression(features: Any, order: int, prior_mean: float, prior_variance: float,
                polynomial: bool) -> Any:
    feats = _as_list(features, "features")
    for feature in feats:
        _check_scalar(feature)
    prior_variance = _check_variance(prior_variance, "prior_variance")
    with no_name_injection():
        intercept = StaticVariable("intercept", mean=prior_mean, variance=prior_variance)
        if not feats:
            return intercept
        shape = (len(feats), order) if polynomial else (len(feats),)
        slopes = StaticVariable("slopes", shape=shape, mean=prior_mean,
                                variance=prior_variance)
    terms = []
    for i, feature in enumerate(feats):
        for power in range(1, order + 1):
            coefficient = slopes[i, power - 1] if polynomial else slopes[i]
            terms.append(coefficient * (feature if power == 1 else feature ** power))
    expression = intercept
    for term in terms:
        expression = expression + term
    return expression


def linear_regression(features: Any, *, prior_mean: float = 0.0,
                      prior_variance: float = 1e4) -> Any:
    """Create ``intercept`` and ``slopes`` in the current scope; return the linear predictor.

    Parameters
    ----------
    features : Variable, expression or list of them
        Scalar features ``f_1 .. f_k`` (an empty list gives the intercept alone).
    prior_mean, prior_variance : float
        The Normal prior of every coefficient (default ``N(0, 10^4)``: weak for data of
        order one to a hundred; standardise your data or narrow it otherwise).

    Returns
    -------
    Operator
        ``intercept + slopes[0] * f_1 + ... + slopes[k-1] * f_k``. The coefficients are the
        current scope's children ``intercept`` (shape ``()``) and ``slopes`` (shape ``(k,)``).

    Examples
    --------
    >>> from bayesgraph.core import Entity, Graph, Variable
    >>> from bayesgraph.core.regression import linear_regression
    >>> with Graph("g") as g:
    ...     x = Variable("x")
    ...     with Entity("fit") as fit:
    ...         prediction = linear_regression([x, 2 * x])
    >>> g.fit.slopes.shape, sorted(g.fit.children)
    ((2,), ['intercept', 'slopes'])
    """
    return _regression(features, 1, prior_mean, prior_variance, polynomial=False)


def polynomial_regression(features: Any, order: int = 2, *, prior_mean: float = 0.0,
                          prior_variance: float = 1e4) -> Any:
    """Create ``intercept`` and ``slopes`` in the current scope; return the polynomial.

    Parameters
    ----------
    features : Variable, expression or list of them
        Scalar features ``f_1 .. f_k``.
    order : int
        Highest power of each feature (no interaction terms).
    prior_mean, prior_variance : float
        The Normal prior of every coefficient.

    Returns
    -------
    Operator
        ``intercept + sum_i sum_{p=1..order} slopes[i, p-1] * f_i**p``; ``slopes`` has shape
        ``(k, order)``.

    Examples
    --------
    >>> from bayesgraph.core import Graph, Variable
    >>> from bayesgraph.core.regression import polynomial_regression
    >>> with Graph("g") as g:
    ...     x = Variable("x")
    ...     y = Variable("y", mean=polynomial_regression(x, order=3), variance=1)
    >>> g.slopes.shape
    (1, 3)
    """
    return _regression(features, _check_order(order), prior_mean, prior_variance,
                       polynomial=True)


def connect_via_regression(features: Any, targets: Any, order: int = 1, *,
                           noise_variance: float | None = None, prior_mean: float = 0.0,
                           prior_variance: float = 1e4,
                           noise_prior_variance: float = 10.0) -> dict[str, Any]:
    """Make each target a regression on the features, with coefficients inside the target.

    Parameters
    ----------
    features : Variable, expression or list of them
        Scalar features (an empty list: the target gets an intercept and a noise variance,
        i.e. a learned mean and variance).
    targets : Variable or list of Variables
        Each target's ``mean`` becomes the regression (``order=1``: linear, as
        :func:`linear_regression`; higher: as :func:`polynomial_regression`) and its
        ``variance`` the noise variance.
    order : int
        Polynomial order.
    noise_variance : float, optional
        A known noise variance; ``None`` (default) learns it: the target gets a static
        ``log_noise_variance ~ N(0, noise_prior_variance)`` and
        ``variance = exp(log_noise_variance)``.
    prior_mean, prior_variance : float
        The Normal prior of every coefficient.

    Returns
    -------
    dict
        ``{target global name: target}``; the coefficients are the targets' children
        ``intercept``, ``slopes`` (shape ``(k,)`` for ``order=1``, ``(k, order)`` above) and
        ``log_noise_variance``.

    Raises
    ------
    GraphStructureError
        A target that is also a feature, or a target that is not a dynamic ``Variable``.

    Examples
    --------
    >>> from bayesgraph.core import Graph, Variable
    >>> from bayesgraph.core.regression import connect_via_regression
    >>> with Graph("g") as g:
    ...     a, b = Variable("a"), Variable("b")
    ...     c = Variable("c")
    ...     _ = connect_via_regression([a, b], c, order=2)
    >>> g.c.slopes.shape, sorted(p.name for p in g.c.get_parents())
    ((2, 2), ['a', 'b', 'intercept', 'log_noise_variance', 'slopes'])
    """
    order = _check_order(order)
    feats = _as_list(features, "features")
    targets_ = _as_list(targets, "targets")
    if noise_variance is not None:
        noise_variance = _check_variance(noise_variance, "noise_variance")
    noise_prior_variance = _check_variance(noise_prior_variance, "noise_prior_variance")
    done: dict[str, Any] = {}
    for target in targets_:
        if not isinstance(target, Variable):
            raise GraphStructureError(
                f"regression target {getattr(target, 'global_name', target)!r} must be a "
                "dynamic Variable"
            )
        if any(feature is target for feature in feats):
            raise GraphStructureError(
                f"{target.global_name!r} is both a feature and a target of the regression"
            )
        with inside(target):
            mean = _regression(feats, order, prior_mean, prior_variance, polynomial=order > 1)
            if noise_variance is None:
                with no_name_injection():
                    log_noise = StaticVariable("log_noise_variance", mean=0.0,
                                               variance=noise_prior_variance)
                variance = exp(log_noise)
            else:
                variance = noise_variance
        target.mean = mean
        target.variance = variance
        done[target.global_name] = target
    return done
