"""Trainer: the trained graph carries the exact Gaussian posterior of its statics (linear
Gaussian), so training twice on two halves equals training once on all of the data, and
every objective can use it."""

import warnings

import numpy as np
import pytest

from bayesgraph import Predictor, Trainer
from bayesgraph.core import Graph, StaticVariable, Variable
from bayesgraph.core.model import MAPFisherModel
from bayesgraph.exceptions import ApproximationWarning, OptionError


def _regression():
    with Graph("g") as g:
        x = Variable("x", mean=0, variance=9)
        a = StaticVariable("a", mean=0, variance=1)
        b = StaticVariable("b", mean=0, variance=1)
        Variable("y", mean=a * x + b, variance=0.25)
    return g


def _data(n, seed=42):
    rng = np.random.default_rng(seed)
    x = rng.normal(0, 3, n)
    return x, 0.4967 * x - 0.1383 + rng.normal(0, 0.5, n)


def _posterior(x, y):
    design = np.c_[x, np.ones_like(x)]
    precision = design.T @ design / 0.25 + np.eye(2)
    cov = np.linalg.inv(precision)
    return cov @ design.T @ y / 0.25, cov


def _statics(graph, names):
    model = MAPFisherModel(graph).solve()
    means = np.concatenate([np.ravel(m) for m in model.get_means(names)])
    return means, model.get_covariance(names)


def test_trained_graph_carries_the_exact_posterior():
    g = _regression()
    x, y = _data(200)
    trained = Trainer(g, {g.x: x, g.y: y})()
    mean, cov = _posterior(x, y)
    got_mean, got_cov = _statics(trained, [trained.a, trained.b])
    np.testing.assert_allclose(got_mean, mean, atol=1e-8)
    np.testing.assert_allclose(got_cov, cov, atol=1e-10)
    # the user's graph is unchanged
    assert float(g.a.mean.value) == 0 and float(g.a.variance.value) == 1


def test_training_twice_on_halves_equals_training_once():
    g = _regression()
    x, y = _data(300)
    once = Trainer(g, {g.x: x, g.y: y})()
    first = Trainer(g, {g.x: x[:150], g.y: y[:150]})()
    twice = Trainer(first, {first.x: x[150:], first.y: y[150:]})()
    m1, c1 = _statics(once, [once.a, once.b])
    m2, c2 = _statics(twice, [twice.a, twice.b])
    np.testing.assert_allclose(m2, m1, atol=1e-8)
    np.testing.assert_allclose(c2, c1, atol=1e-10)


@pytest.mark.slow
def test_vector_statics_keep_their_correlations():
    with Graph("g") as g:
        x = Variable("x", shape=(2,), mean=0, variance=4)
        w = StaticVariable("w", shape=(2,), mean=0, variance=1)
        c = StaticVariable("c", mean=0, variance=1)
        Variable("y", mean=x[0] * w[0] + x[1] * w[1] + c, variance=0.25)
    rng = np.random.default_rng(3)
    xs = rng.normal(0, 2, (100, 2)) + 1.0
    ys = xs @ [0.3, -0.7] + 0.2 + rng.normal(0, 0.5, 100)
    design = np.c_[xs, np.ones(100)]
    cov = np.linalg.inv(design.T @ design / 0.25 + np.eye(3))
    mean = cov @ design.T @ ys / 0.25
    once = Trainer(g, {g.x: xs, g.y: ys})()
    twice = Trainer(Trainer(g, {g.x: xs[:50], g.y: ys[:50]})(),
                    {"x": xs[50:], "y": ys[50:]})()
    for trained in (once, twice):
        m, k = _statics(trained, [trained.w, trained.c])
        np.testing.assert_allclose(m, mean, atol=1e-8)
        np.testing.assert_allclose(k, cov, atol=1e-10)


def test_objectives_use_the_trained_graph():
    """Predictions of the trained graph: mean a x + b, variance x^T C x + noise (exact)."""
    g = _regression()
    x, y = _data(200)
    trained = Trainer(g, {g.x: x, g.y: y})()
    mean, cov = _posterior(x, y)
    new = np.array([-2.0, 0.0, 3.0])
    design = np.c_[new, np.ones(3)]
    p = Predictor(trained, {trained.x: new})
    np.testing.assert_allclose(p(trained.y), design @ mean, atol=1e-8)
    var = Predictor(trained, {trained.x: new}, measure="variance")(trained.y)
    np.testing.assert_allclose(var, np.einsum("ij,jk,ik->i", design, cov, design) + 0.25,
                               atol=1e-8)


@pytest.mark.slow
def test_non_normal_statics():
    with Graph("g") as g:
        s = StaticVariable("s", distribution="LogNormalDistribution", mean_log=0,
                           variance_log=1)
        u = StaticVariable("u", distribution="UniformDistribution", center=0, width=4)
        Variable("y", mean=u, variance=s)
    y = np.random.default_rng(0).normal(1.0, 1.5, 200)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        trained = Trainer(g, {g.y: y}, model_args={"seed": 0})()
    assert any(issubclass(w.category, ApproximationWarning) and "g/u" in str(w.message)
               for w in caught)
    assert type(trained.u.distribution).__name__ == "DiracDistribution"
    assert type(trained.s.distribution).__name__ == "LogNormalDistribution"
    # log s is about log(1.5^2) = 0.81 with posterior sd ~ 0.1
    assert abs(float(trained.s.mean_log.value) - np.log(np.var(y))) < 0.2
    assert abs(float(trained.u.mean.value) - np.mean(y)) < 0.3


def test_unknown_method():
    with pytest.raises(OptionError, match="'Gibbs'"):
        Trainer(_regression(), {}, method="Gibbs")


@pytest.mark.parametrize("method", ["MAP", "Forward"])
def test_methods_without_a_posterior_spread_are_refused_with_the_fix(method):
    graph = _regression()
    with pytest.raises(OptionError, match=f"'{method}' gives no posterior spread.*'MAPFisher'"):
        Trainer(graph, {}, method=method)
