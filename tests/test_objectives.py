"""Objectives against closed forms: Gaussian log densities and ranks of linear-Gaussian
graphs, predictions with their standard deviations, variance-fraction influences and
interventions on a chain; the documented examples of the reference (sections 8.2-8.6) with
``halerium`` replaced by ``bayesgraph``; bad input."""

import math

import numpy as np
import pytest

from bayesgraph import (
    Evaluator,
    InfluenceEstimator,
    InterventionPredictor,
    OutlierDetector,
    Predictor,
    ProbabilityEstimator,
    RankEstimator,
)
from bayesgraph.core import Entity, Graph, StaticVariable, Variable
from bayesgraph.exceptions import DataError, MissingVariableError, OptionError


def _gauss_logpdf(x, cov):
    x = np.atleast_2d(x)
    cov = np.atleast_2d(cov)
    k = cov.shape[0]
    sol = np.linalg.solve(cov, x.T).T
    return -0.5 * (k * np.log(2 * np.pi) + np.linalg.slogdet(cov)[1] + np.sum(x * sol, axis=1))


def _zxy():
    g = Graph("g")
    with g:
        z = Variable("z", mean=0, variance=1)
        Variable("x", mean=z, variance=0.1)
        Variable("y", mean=z, variance=0.1)
    return g


def _influence_graph():
    g = Graph("g")
    with g:
        e = Entity("e")
        with e:
            Variable("a", mean=0, variance=2)
            Variable("b", mean=0, variance=3)
            Variable("c", mean=0, variance=4)
        Variable("d", mean=e.a + e.b + e.c, variance=1)
    return g


# -- 8.2 Predictor ------------------------------------------------------------------------
def test_reference_predictor_example():
    graph = Graph("graph")
    with graph:
        x = Variable("x", mean=0, variance=1)
        Variable("y", mean=x + 1, variance=1)
    predictor = Predictor(graph=graph, data={graph.x: np.array([0, 1, 2, 3])})
    np.testing.assert_allclose(predictor(graph.y), [1, 2, 3, 4], atol=1e-8)
    std = Predictor(graph=graph, data={graph.x: np.array([0, 1, 2, 3])}, measure="std")
    np.testing.assert_allclose(std(graph.y), np.ones(4), atol=1e-8)


def test_backward_prediction_is_the_gaussian_posterior():
    with Graph("g") as g:
        x = Variable("x", mean=1, variance=2)
        Variable("y", mean=3 * x - 1, variance=0.5)
    y = np.array([-2.0, 0.0, 5.0])
    # x | y: precision 1/2 + 9/0.5, mean (1/2 + 3 (y + 1)/0.5) / precision
    precision = 0.5 + 9 / 0.5
    mean = (0.5 + 3 * (y + 1) / 0.5) / precision
    np.testing.assert_allclose(Predictor(g, {g.y: y})(g.x), mean, atol=1e-8)
    np.testing.assert_allclose(Predictor(g, {g.y: y}, measure="variance")(g.x),
                               np.full(3, 1 / precision), atol=1e-8)


def test_results_mirror_the_request():
    g = _influence_graph()
    p = Predictor(g, {g.e.a: [1.0], g.e.b: [2.0], g.e.c: [3.0]})
    out = p({"first": [g.d, "e/a"], "e": g.e})
    np.testing.assert_allclose(out["first"][0], [6.0], atol=1e-8)
    np.testing.assert_allclose(out["first"][1], [1.0])
    assert sorted(out["e"]) == ["a", "b", "c"]
    assert sorted(p()) == ["g/d", "g/e/a", "g/e/b", "g/e/c"]
    assert p.dump_dict()["values"]["g/d"] == pytest.approx([6.0])
    assert p.name == "Predictor" and p.description is None


# -- 8.3 ProbabilityEstimator ---------------------------------------------------------------
def test_reference_probability_example_is_exact():
    g = _zxy()
    z = np.array([-1, 0, 1.0, 2.0, 3.0])
    pe = ProbabilityEstimator(graph=g, data={g.z: [-1, 0, 1., 2., 3.]})
    expected = -0.5 * np.log(2 * np.pi) - 0.5 * z ** 2
    np.testing.assert_allclose(pe(g), expected, atol=1e-8)
    np.testing.assert_allclose(pe(g.z), expected, atol=1e-8)
    np.testing.assert_allclose(pe(g.x), np.zeros(5))  # no data for x: an empty density


def test_log_density_marginalises_latents_and_missing_entries():
    g = _zxy()
    x = np.array([0.0, 1.0, 1.0, 5.0, 1.0])
    y = np.array([0.0, 1.0, -1.0, 5.0, np.nan])
    pe = ProbabilityEstimator(g, {g.x: x, g.y: y})
    cov = np.array([[1.1, 1.0], [1.0, 1.1]])
    expected = np.empty(5)
    expected[:4] = _gauss_logpdf(np.c_[x[:4], y[:4]], cov)
    expected[4] = _gauss_logpdf([[x[4]]], [[1.1]])[0]
    np.testing.assert_allclose(pe(g), expected, atol=1e-8)
    np.testing.assert_allclose(pe(g.x), _gauss_logpdf(x[:, None], [[1.1]]), atol=1e-8)
    assert sorted(pe()) == ["g", "g/x", "g/y", "g/z"]


def test_log_density_marginalises_static_variables():
    """The seed regression: per example, a and b under their prior; exact (quadratic)."""
    with Graph("g") as g:
        x = Variable("x", mean=0, variance=9)
        a = StaticVariable("a", mean=0, variance=1)
        b = StaticVariable("b", mean=0, variance=1)
        Variable("y", mean=a * x + b, variance=0.25)
    rng = np.random.default_rng(1)
    xs = rng.normal(0, 3, 50)
    ys = 0.5 * xs + rng.normal(0, 0.5, 50)
    lp = ProbabilityEstimator(g, {g.x: xs, g.y: ys})(g)
    expected = (_gauss_logpdf(xs[:, None], [[9.0]])
                + -0.5 * (np.log(2 * np.pi * (xs ** 2 + 1.25)) + ys ** 2 / (xs ** 2 + 1.25)))
    np.testing.assert_allclose(lp, expected, atol=1e-8)


# -- 8.4 / 8.5 ranks and outliers -------------------------------------------------------------
def _phi(v):
    return 0.5 * (1 + math.erf(v / math.sqrt(2)))


@pytest.mark.parametrize("method", ["upsampled", "marginalized"])
def test_ranks_of_a_gaussian_are_chi_square_tails(method):
    g = _zxy()
    n = 4000
    x = np.array([0.0, 1.0, 1.0, 0.3])
    y = np.array([0.0, 1.0, 0.5, -0.2])
    cov = np.array([[1.1, 1.0], [1.0, 1.1]])
    m2 = np.sum(np.c_[x, y] * np.linalg.solve(cov, np.c_[x, y].T).T, axis=1)
    # observed (x, y) only, z marginalised: rank = P(chi2_2 > m2) = exp(-m2 / 2)
    rank = RankEstimator(g, {g.x: x, g.y: y}, n_samples=n, method="marginalized")(g)
    if method == "upsampled":  # z drawn given (x, y); one-dimensional check instead
        zs = np.array([-1.5, 0.0, 0.7, 2.5])
        rank = RankEstimator(g, {g.z: zs}, n_samples=n, method=method)(g.z)
        expected = np.array([2 * (1 - _phi(abs(v))) for v in zs])
    else:
        expected = np.exp(-m2 / 2)
    se = np.sqrt(expected * (1 - expected) / n) + 1 / n
    assert np.all(np.abs(rank - expected) < 5 * se), (rank, expected)


def test_reference_rank_and_outlier_examples():
    g = _zxy()
    ranks = RankEstimator(graph=g, data={g.z: [-1, 0, 1., 2., 3.]})(g)
    assert ranks.shape == (5,) and np.all((0 <= ranks) & (ranks <= 1))
    data = {g.x: [0, 1, 1, 5, 1], g.y: [0, 1, -1, 5, np.nan]}
    flags = OutlierDetector(graph=g, data=data)(g)
    assert flags.dtype == bool and flags.shape == (5,)
    # m2 = 0 and 0.95 (ranks 1 and 0.62): typical; m2 = 20 and 23.8: outliers
    marg = OutlierDetector(graph=g, data=data, method="marginalized")(g)
    assert marg[:4].tolist() == [False, False, True, True]
    assert flags[:4].tolist() == [False, False, True, True]
    assert OutlierDetector(g, data)()["g"].tolist() == flags.tolist()


def test_outlier_threshold_is_the_rank_cut():
    with Graph("g") as g:
        Variable("z", mean=0, variance=1)
    z = np.array([0.0, 1.0, 1.7, 2.2, 3.0])
    od = OutlierDetector(g, {g.z: z}, n_samples=4000, outlier_threshold=0.2)
    rank = RankEstimator(g, {g.z: z}, n_samples=4000)(g.z)
    np.testing.assert_array_equal(od(g.z), rank < 0.2)
    with pytest.raises(OptionError, match="outlier_threshold"):
        OutlierDetector(g, {g.z: z}, outlier_threshold=2)


# -- 8.6 influences ----------------------------------------------------------------------------
def test_reference_influence_example_variance_fractions():
    from bayesgraph.core import get_generative_model

    g = _influence_graph()
    assert abs(get_generative_model(g, seed=0).get_variances(g.d, n_samples=1000)[0] - 10) < 2
    n = 20000
    ie = InfluenceEstimator(graph=g, target=g.d, n_samples=n)
    got = ie([g.e.a, g.e.b, g.e.c, g.e, g.d])
    for value, expected in zip(got, [0.2, 0.3, 0.4, 0.9, 1.0]):
        assert abs(value - expected) < 5 * math.sqrt((1 + expected ** 2) / n)
    everything = ie()
    assert sorted(everything) == ["g", "g/d", "g/e", "g/e/a", "g/e/b", "g/e/c"]


def test_influence_respects_causal_direction_and_callable_targets():
    g = _influence_graph()
    assert InfluenceEstimator(g, target=g.e.a)([g.d, g.e.b]) == [0.0, 0.0]
    n = 20000
    ie = InfluenceEstimator(g, target=lambda graph: graph.e.a + graph.e.b, n_samples=n)
    assert abs(ie(g.e.a) - 0.4) < 5 * math.sqrt(1.16 / n)
    assert ie(g.d) == 0.0 and ie(g.e.c) == 0.0


def test_influences_of_the_reference_example_are_exact():
    g = _influence_graph()
    ie = InfluenceEstimator(graph=g, target=g.d)
    assert ie.exact
    got = ie([g.e.a, g.e.b, g.e.c, g.e, g.d])
    np.testing.assert_allclose(got, [0.2, 0.3, 0.4, 0.9, 1.0], rtol=0, atol=1e-8)
    assert InfluenceEstimator(g, target=lambda graph: graph.e.a + graph.e.b)(g.e.a) == \
        pytest.approx(0.4, abs=1e-8)


def _sem_influence(weights, confound, variances, j, k, also=()):
    """Influence of do(x_j, x_also) on x_k in the chain x_i = w_i x_{i-1} + u_i z + 1 + e_i
    (z = x_0 a root), written as the SEM x = B x + c + e: Cov = (I-B)^-1 D (I-B)^-T and
    the total effect of the set S on x_k is row k of (I - B with the rows of S zeroed)^-1."""
    n = len(variances)
    b = np.zeros((n, n))
    for i in range(2, n):
        b[i, i - 1] = weights[i]
    for i in range(1, n):
        b[i, 0] += confound[i]
    inv = np.linalg.inv(np.eye(n) - b)
    cov = inv @ np.diag(variances) @ inv.T
    s = [j, *also]
    cut = b.copy()
    cut[s] = 0.0
    m = np.linalg.inv(np.eye(n) - cut)[k, s]
    return float(m @ cov[np.ix_(s, s)] @ m / cov[k, k])


@pytest.mark.parametrize("seed", [0, 1])
def test_influences_on_a_random_confounded_chain_are_the_sem_closed_form(seed):
    rng = np.random.default_rng(seed)
    n = 5
    weights = rng.normal(0, 1.5, n)
    confound = rng.normal(0, 1.0, n)
    variances = rng.uniform(0.2, 2.0, n)
    with Graph("g") as g:
        xs = [Variable("x0", mean=0.5, variance=float(variances[0]))]
        for i in range(1, n):
            mean = float(confound[i]) * xs[0] + 1.0
            if i > 1:
                mean = float(weights[i]) * xs[i - 1] + mean
            xs.append(Variable(f"x{i}", mean=mean, variance=float(variances[i])))
    ie = InfluenceEstimator(g, target=xs[-1])
    assert ie.exact
    for j in range(n):
        expected = _sem_influence(weights, confound, variances, j, n - 1)
        assert ie(xs[j]) == pytest.approx(expected, abs=1e-8)
    # a set of elements: do(x1, x3) together
    both = InfluenceEstimator(g, target=xs[-1])._influence(("g/x1", "g/x3"), 0)
    assert both == pytest.approx(_sem_influence(weights, confound, variances, 1, n - 1, (3,)),
                                 abs=1e-8)


def test_influence_falls_back_to_monte_carlo_off_linear_gaussian_graphs():
    # y = a x + noise with a static a ~ N(1, 0.5): bilinear, not Gaussian jointly.
    # E[y | do(x)] = x, so influence(x) = Var(x) / Var(y) = 1 / (1.5 + 1) = 0.4
    with Graph("g") as g:
        x = Variable("x", mean=0, variance=1)
        a = StaticVariable("a", mean=1, variance=0.5)
        Variable("y", mean=a * x, variance=1)
    n = 40000
    ie = InfluenceEstimator(g, target=g.y, n_samples=n)
    assert not ie.exact
    assert abs(ie(g.x) - 0.4) < 5 * math.sqrt(3 / n)
    # a nonlinear callable target of a linear-Gaussian graph: Monte Carlo too;
    # x * x has variance 2 and do(x) fixes it: influence 1
    nonlinear = InfluenceEstimator(g, target=lambda graph: graph.x * graph.x, n_samples=n)
    assert not nonlinear.exact
    assert abs(nonlinear(g.x) - 1.0) < 5 * math.sqrt(3 / n)
    assert InfluenceEstimator(g, target=g.x).exact     # x alone is Gaussian


# -- interventions -------------------------------------------------------------------------
def test_intervention_on_a_chain_cuts_the_parents():
    with Graph("g") as g:
        a = Variable("a", mean=0, variance=1)
        b = Variable("b", mean=2 * a, variance=1)
        Variable("c", mean=3 * b, variance=1)
    n = 4000
    ip = InterventionPredictor(g, {g.b: [1.0, -2.0]}, n_samples=n)
    mean_a, mean_c = ip([g.a, g.c])
    assert np.all(np.abs(mean_a - 0) < 5 / math.sqrt(n))     # a ~ N(0, 1) untouched
    assert np.all(np.abs(mean_c - [3.0, -6.0]) < 5 / math.sqrt(n))
    var = InterventionPredictor(g, {g.b: [1.0]}, n_samples=n, measure="variance")(g.c)
    assert abs(var[0] - 1) < 5 * math.sqrt(2 / n)
    # observing b instead moves a: 2 b / 5
    np.testing.assert_allclose(Predictor(g, {g.b: [1.0, -2.0]})(g.a), [0.4, -0.8], atol=1e-8)


# -- evaluator -------------------------------------------------------------------------------
def test_evaluator_metrics_are_the_closed_forms():
    with Graph("g") as g:
        x = Variable("x", mean=0, variance=1)
        Variable("y", mean=2 * x + 1, variance=1)
    x = np.array([0.0, 1.0, 2.0, 3.0])
    y = np.array([1.5, 2.0, 6.0, np.nan])
    pred = 2 * x[:3] + 1
    res = y[:3] - pred
    data = {g.x: x, g.y: y}
    expected = {"mae": np.mean(np.abs(res)), "mse": np.mean(res ** 2),
                "rmse": np.sqrt(np.mean(res ** 2)),
                "r2": 1 - np.sum(res ** 2) / np.sum((y[:3] - y[:3].mean()) ** 2)}
    for metric, value in expected.items():
        ev = Evaluator(g, data, inputs=[g.x], metric=metric)
        assert ev(g.y) == pytest.approx(value, abs=1e-8)
        assert ev() == pytest.approx({"g": value, "g/y": value}, abs=1e-8)


def test_evaluator_bool_outputs():
    with Graph("g") as g:
        x = Variable("x", mean=0, variance=1)
        Variable("y", dtype="bool", distribution="BernoulliDistribution", logit=x)
    x = np.array([-6.0, -5.0, 5.0, 6.0])
    y = np.array([False, True, True, True])
    ev = Evaluator(g, {g.x: x, g.y: y}, inputs=g.x, metric="accuracy",
                   model_args={"seed": 0}, n_samples=4000)
    assert ev(g.y) == pytest.approx(0.75)
    loss = Evaluator(g, {g.x: x, g.y: y}, inputs=g.x, metric="log_loss",
                     model_args={"seed": 0}, n_samples=20000)(g.y)
    p = 1 / (1 + np.exp(-x))
    exact = -np.mean(np.where(y, np.log(p), np.log1p(-p)))
    assert abs(loss - exact) < 0.3 * exact   # p(-5) is a Monte-Carlo mean of rare draws


# -- bad input -------------------------------------------------------------------------------
def test_bad_input_names_the_culprit():
    g = _zxy()
    with Graph("other"):
        stranger = Variable("stranger")
    with pytest.raises(MissingVariableError, match="stranger"):
        ProbabilityEstimator(g, {stranger: [1.0]})
    with pytest.raises(MissingVariableError, match="stranger"):
        Predictor(g, {g.z: [1.0]})(stranger)
    with pytest.raises(MissingVariableError, match="nothing"):
        Predictor(g, {g.z: [1.0]})("nothing")
    data = {g.x: [1.0], g.y: [2.0]}
    with pytest.raises(OptionError, match="g/x.*both an input and an output"):
        Evaluator(g, data, inputs=[g.x], outputs=[g.x, g.y])
    with pytest.raises(DataError, match="g/z"):
        Evaluator(g, data, inputs=[g.z])
    with pytest.raises(DataError, match="g/z"):
        Evaluator(g, data, inputs=[g.x], outputs=g.z)
    with pytest.raises(OptionError, match="'r3'"):
        Evaluator(g, data, inputs=[g.x], metric="r3")
    with pytest.raises(OptionError, match="g/x.*not an output"):
        Evaluator(g, data, inputs=[g.x])(g.x)
    with pytest.raises(OptionError, match="'sampled'"):
        RankEstimator(g, data, method="sampled")
    with pytest.raises(OptionError, match="'Gibbs'"):
        Predictor(g, data, method="Gibbs")
    with pytest.raises(OptionError, match="'median'"):
        Predictor(g, data, measure="median")
    with pytest.raises(MissingVariableError, match="stranger"):
        InfluenceEstimator(g, target=stranger)
