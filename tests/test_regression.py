"""bayesgraph.core.regression against the closed-form Bayesian linear regression."""

from __future__ import annotations

import numpy as np
import pytest

from bayesgraph.core import Entity, Graph, Variable
from bayesgraph.core.model import MAPFisherModel, MAPModel
from bayesgraph.core.regression import (
    connect_via_regression,
    linear_regression,
    polynomial_regression,
)
from bayesgraph.exceptions import GraphStructureError, OptionError, ShapeError


def _conjugate(design: np.ndarray, y: np.ndarray, noise_variance: float,
               prior_variance: float) -> tuple[np.ndarray, np.ndarray]:
    """Posterior mean and covariance of w in y = design @ w + N(0, noise), w ~ N(0, prior)."""
    precision = design.T @ design / noise_variance + np.eye(design.shape[1]) / prior_variance
    covariance = np.linalg.inv(precision)
    return covariance @ design.T @ y / noise_variance, covariance


def _quadratic_data(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(6.0, 2.0, n)
    return x, -12.0 + 4.0 * x + 3.0 * x**2 + rng.normal(0.0, 9.0, n)


def test_linear_posterior_is_the_conjugate_posterior():
    rng = np.random.default_rng(3)
    x1, x2 = rng.normal(0, 2, 200), rng.normal(1, 1, 200)
    y = 0.5 + 1.5 * x1 - 0.7 * x2 + rng.normal(0, 0.3, 200)
    with Graph("lin") as g:
        f1, f2 = Variable("f1"), Variable("f2")
        target = Variable("y")
        connect_via_regression([f1, f2], target, noise_variance=0.09, prior_variance=2.0)
    data = {g.f1: x1, g.f2: x2, g.y: y}
    mean, covariance = _conjugate(np.column_stack([np.ones(200), x1, x2]), y, 0.09, 2.0)
    fit = MAPFisherModel(g, data=data, seed=0).solve()
    got = np.concatenate([np.atleast_1d(fit.get_means(g.y.intercept)), fit.get_means(g.y.slopes)])
    assert np.allclose(got, mean, atol=1e-8, rtol=0)
    got_cov = fit.get_covariance([g.y.intercept, g.y.slopes])
    assert np.allclose(got_cov, covariance, atol=1e-10, rtol=1e-8)
    point = MAPModel(g, data=data, seed=0).solve()
    assert np.allclose(point.get_means(g.y.slopes), mean[1:], atol=1e-8, rtol=0)


def test_quadratic_posterior_is_the_conjugate_posterior():
    x, y_data = _quadratic_data(500, 1)
    with Graph("quad") as g:
        feature = Variable("x")
        Variable("y", mean=polynomial_regression(feature, order=2, prior_variance=100.0),
                 variance=81.0)
    fit = MAPFisherModel(g, data={g.x: x, g.y: y_data}, seed=0).solve()
    mean, covariance = _conjugate(np.column_stack([np.ones_like(x), x, x**2]), y_data, 81.0,
                                  100.0)
    got = np.concatenate([np.atleast_1d(fit.get_means(g.intercept)),
                          fit.get_means(g.slopes).ravel()])
    assert np.allclose(got, mean, atol=1e-8 * np.abs(mean).max(), rtol=0)
    assert np.allclose(fit.get_covariance([g.intercept, g.slopes]), covariance, rtol=1e-6,
                       atol=1e-10)


def test_quadratic_regression_recovers_the_coefficients():
    """Section 8.12: y = -12 + 4x + 3x^2 + N(0, 9^2), x ~ N(6, 2^2), noise learned."""
    x_data, y_data = _quadratic_data(2000, 7)
    with Graph("regression") as g:
        Variable("x", mean=6, variance=4)
        Variable("y")
        connect_via_regression(g.x, g.y, order=2)
    fit = MAPFisherModel(g, data={g.x: x_data, g.y: y_data}, seed=0).solve()
    coefficients = np.concatenate([np.atleast_1d(fit.get_means(g.y.intercept)),
                                   fit.get_means(g.y.slopes).ravel()])
    sds = np.concatenate([np.atleast_1d(fit.get_standard_deviations(g.y.intercept)),
                          fit.get_standard_deviations(g.y.slopes).ravel()])
    truth = np.array([-12.0, 4.0, 3.0])
    assert np.all(np.abs(coefficients - truth) < 4 * sds), (coefficients, sds)
    assert np.all(sds < [3.0, 1.0, 0.1])
    noise_sd = np.exp(fit.get_means(g.y.log_noise_variance) / 2)
    assert abs(noise_sd - 9.0) < 4 * 9.0 / np.sqrt(2 * 2000)


def test_linear_regression_in_an_entity_and_without_features():
    with Graph("g") as g:
        x = Variable("x")
        with Entity("fit"):
            expression = linear_regression([x])
        Variable("y", mean=expression, variance=1.0)
        Variable("level")
        connect_via_regression([], g.level)
    assert g.fit.slopes.shape == (1,)
    assert {p.name for p in g.y.get_parents()} == {"x", "intercept", "slopes"}
    assert sorted(g.level.children) == ["intercept", "log_noise_variance"]


def test_bad_input_is_named():
    with Graph("bad"):
        x = Variable("x")
        v = Variable("v", shape=(2,))
        y = Variable("y")
        with pytest.raises(OptionError, match="order"):
            polynomial_regression(x, order=0)
        with pytest.raises(ShapeError, match="'bad/v'"):
            linear_regression([v])
        with pytest.raises(GraphStructureError, match="'bad/y' is both"):
            connect_via_regression([x, y], y)
        with pytest.raises(OptionError, match="noise_variance"):
            connect_via_regression(x, y, noise_variance=-1.0)
