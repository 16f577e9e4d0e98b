"""ForwardOptimizerModel against closed forms.

* deterministic costs: least squares over many examples (exact to optimiser precision), with
  the Sum and the Mean reductions (same minimiser, costs in the ratio n);
* stochastic costs: E[(y - t)^2] with y ~ N(a x, 1) is quadratic in ``a``; the minimiser of
  the Monte-Carlo objective is the exact one up to its Monte-Carlo error, 1 / sqrt(S sum x^2)
  for S forward samples, and the tolerance is four of those;
* bounds that bind give the bound; Adam and L-BFGS agree on the same samples;
* bad input names the culprit; the user's graph is not modified.
"""

import warnings

import numpy as np
import pytest

from bayesgraph.core import Graph, StaticVariable, Variable
from bayesgraph.core.model import ForwardOptimizerModel
from bayesgraph.core.operator.operators import Mean, Sum
from bayesgraph.exceptions import (
    BayesGraphError,
    DataError,
    ExpressionError,
    MissingVariableError,
    OptionError,
    ResourceError,
)

RNG = np.random.default_rng(7)
X = RNG.normal(1.0, 1.0, 200)
T = 0.8 * X - 0.3 + RNG.normal(0, 0.2, 200)


def _line():
    """z = a x + b (a Dirac of data x and two statics): a deterministic cost."""
    with Graph("line") as g:
        x = Variable("x", mean=0, variance=1)
        a = StaticVariable("a", mean=0, variance=1)
        b = StaticVariable("b", mean=0, variance=1)
        Variable("t", mean=0, variance=1)
        Variable("z", distribution="DiracDistribution", mean=a * x + b)
    return g


def _noisy():
    """y ~ N(a x, 1): a stochastic cost."""
    with Graph("noisy") as g:
        x = Variable("x", mean=0, variance=1)
        a = StaticVariable("a", mean=0, variance=1)
        Variable("t", mean=0, variance=1)
        Variable("y", mean=a * x, variance=1.0)
    return g


@pytest.mark.parametrize("reduce", [Sum, Mean])
def test_deterministic_least_squares(reduce):
    g = _line()
    model = ForwardOptimizerModel(g, [g.a, g.b], lambda g: (g.z - g.t) ** 2,
                                  reduce_dynamic_cost=reduce, data={g.x: X, g.t: T}, seed=0)
    assert model.deterministic_cost and model.batch_size == 1
    model.solve()
    exact, *_ = np.linalg.lstsq(np.stack([X, np.ones_like(X)], axis=1), T, rcond=None)
    got = model.get_adjustables()
    np.testing.assert_allclose([got["line/a"], got["line/b"]], exact, rtol=1e-7, atol=1e-9)
    residual = np.sum((exact[0] * X + exact[1] - T) ** 2)
    expected = residual if reduce is Sum else residual / len(X)
    np.testing.assert_allclose(model.get_cost(), expected, rtol=1e-9)
    assert model.optimisation["cost_standard_error"] == 0.0
    # the forward model at the optimum: z is computed from the adjusted values
    np.testing.assert_allclose(model.get_means(g.z, n_samples=2), exact[0] * X + exact[1],
                               rtol=1e-7, atol=1e-9)


@pytest.fixture(scope="module")
def noisy_fit():
    """One stochastic fit, shared (its compiled objective serves the Adam test too)."""
    g = _noisy()
    x, t = X[:20], T[:20]
    kwargs = dict(data={g.x: x, g.t: t}, batch_size=500, seed=3)
    model = ForwardOptimizerModel(g, {g.a: 0.0}, lambda g: (g.y - g.t) ** 2, **kwargs)
    return g, x, t, kwargs, model.solve()


def test_stochastic_cost_within_monte_carlo_error(noisy_fit):
    g, x, t, _, model = noisy_fit
    assert not model.deterministic_cost and model.batch_size == 500
    exact = np.sum(x * t) / np.sum(x ** 2)
    error = 1.0 / np.sqrt(500 * np.sum(x ** 2))
    assert abs(model.get_adjustables()["noisy/a"] - exact) < 4 * error
    assert 0 < model.optimisation["cost_standard_error"] < 0.1 * model.get_cost()
    # the expected cost at the exact minimiser: the residual plus one unit variance each
    best = np.sum((exact * x - t) ** 2) + len(x)
    cost, se = model.get_cost(n_samples=4000, return_error=True)
    assert abs(cost - best) < 4 * se + 1e-3 * best


def test_automatic_batch_size_of_a_stochastic_cost():
    g = _noisy()
    model = ForwardOptimizerModel(g, [g.a], lambda g: (g.y - 2.0) ** 2, data={g.x: [1.0]})
    assert model.batch_size == 1000


def test_bound_that_binds_is_the_answer():
    g = _line()
    model = ForwardOptimizerModel(g, {g.a: {"start": 0.0, "bounds": (None, 0.5)},
                                      g.b: {"bounds": (-10.0, 10.0)}},
                                  lambda g: (g.z - g.t) ** 2, data={g.x: X, g.t: T}).solve()
    got = model.get_adjustables()
    assert abs(got["line/a"] - 0.5) < 1e-6
    # with a fixed at its bound, b is the least-squares intercept (inside its bounds)
    np.testing.assert_allclose(got["line/b"], np.mean(T - 0.5 * X), rtol=1e-6)


def test_two_sided_bound_and_support():
    """A LogNormal adjustable stays positive: the optimum 0 of (a)^2 is approached."""
    with Graph("pos") as g:
        a = StaticVariable("a", distribution="LogNormalDistribution", mean_log=0,
                           variance_log=1)
        Variable("y", distribution="DiracDistribution", mean=(a + 1) ** 2)
    model = ForwardOptimizerModel(g, [g.a], lambda g: g.y).solve()
    assert 0 < model.get_adjustables()["pos/a"] < 1e-6
    inside = ForwardOptimizerModel(g, {g.a: {"bounds": (2.0, 3.0)}}, lambda g: g.y).solve()
    assert abs(inside.get_adjustables()["pos/a"] - 2.0) < 1e-6


def test_start_at_the_prior_centre():
    with Graph("c") as g:
        a = StaticVariable("a", mean=4.0, variance=1)
        Variable("y", distribution="DiracDistribution", mean=a)
    model = ForwardOptimizerModel(g, [g.a], lambda g: (g.y - 1.0) ** 2)
    np.testing.assert_allclose(model._start(), [4.0])
    bounded = ForwardOptimizerModel(g, {g.a: {"bounds": (-1.0, 2.0)}}, lambda g: g.y)
    np.testing.assert_allclose(bounded._start(), [0.5])  # the centre is outside: midpoint


def test_adam_and_lbfgs_agree(noisy_fit):
    """The same seed gives the same forward samples, so both minimise the same function."""
    g, _, _, kwargs, lbfgs = noisy_fit
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        adam = ForwardOptimizerModel(g, {g.a: 0.0}, lambda g: (g.y - g.t) ** 2,
                                     solver="Adam", max_iterations=3000, **kwargs).solve()
    np.testing.assert_allclose(adam.get_adjustables()["noisy/a"],
                               lbfgs.get_adjustables()["noisy/a"], rtol=1e-6)
    np.testing.assert_allclose(adam.get_cost(), lbfgs.get_cost(), rtol=1e-9)


def test_dynamic_adjustable_per_example():
    with Graph("d") as g:
        x = Variable("x", mean=0, variance=1)
        u = Variable("u")
        Variable("t")
        Variable("z", distribution="DiracDistribution", mean=u + x)
    model = ForwardOptimizerModel(g, [g.u], lambda g: (g.z - g.t) ** 2,
                                  data={g.x: X[:5], g.t: T[:5]}).solve()
    np.testing.assert_allclose(model.get_adjustables()["d/u"], T[:5] - X[:5], atol=1e-7)


def test_expressions_of_the_original_graph_are_read_on_the_copy():
    g = _line()
    model = ForwardOptimizerModel(g, ["a", "line/b"], lambda _: (g.z - g.t) ** 2,
                                  data={g.x: X, g.t: T}).solve()
    assert set(model.get_adjustables()) == {"line/a", "line/b"}


def test_the_users_graph_is_not_modified():
    g = _line()
    before = sorted(g.children)
    mean = repr(g.z.mean)
    ForwardOptimizerModel(g, [g.a, g.b], lambda g: (g.z - g.t) ** 2, data={g.x: X, g.t: T}).solve()
    assert sorted(g.children) == before
    assert repr(g.z.mean) == mean and float(g.a.mean.value) == 0.0


def test_bad_input_names_the_culprit():
    g = _line()
    cost = lambda g: (g.z - g.t) ** 2  # noqa: E731
    data = {g.x: X, g.t: T}
    with Graph("other") as other:
        Variable("w")
    with pytest.raises(MissingVariableError, match="'other/w'"):
        ForwardOptimizerModel(g, [other.w], cost, data=data)
    with pytest.raises(MissingVariableError, match="'nope'"):
        ForwardOptimizerModel(g, ["nope"], cost, data=data)
    with pytest.raises(ExpressionError, match="'other/w'"):
        ForwardOptimizerModel(g, [g.a], lambda g: (g.z - other.w) ** 2, data=data)
    with pytest.raises(ExpressionError, match="reads no variable"):
        ForwardOptimizerModel(g, [g.a], lambda g: 3.0, data=data)
    with pytest.raises(OptionError, match="'line/a'.*empty"):
        ForwardOptimizerModel(g, {g.a: {"bounds": (1.0, 0.0)}}, cost, data=data)
    with pytest.raises(OptionError, match="'line/a'.*pair"):
        ForwardOptimizerModel(g, {g.a: {"bounds": 1.0}}, cost, data=data)
    with pytest.raises(OptionError, match="'begin'.*'line/a'"):
        ForwardOptimizerModel(g, {g.a: {"begin": 1.0}}, cost, data=data)
    with pytest.raises(DataError, match="'line/a'.*not strictly inside"):
        ForwardOptimizerModel(g, {g.a: {"start": 2.0, "bounds": (0, 1)}}, cost,
                              data=data).solve()
    with pytest.raises(DataError, match="'line/x'.*also given data"):
        ForwardOptimizerModel(g, [g.x, g.a], cost, data=data)
    with pytest.raises(OptionError, match="does not depend on the adjustable 'line/b'"):
        ForwardOptimizerModel(g, [g.a, g.b], lambda g: (g.a - 1) ** 2, data=data)
    with pytest.raises(OptionError, match="reduce_dynamic_cost"):
        ForwardOptimizerModel(g, [g.a], cost, reduce_dynamic_cost="median", data=data)
    with pytest.raises(OptionError, match="solver"):
        ForwardOptimizerModel(g, [g.a], cost, solver="SGD", data=data)
    with pytest.raises(ResourceError, match="batch_size="):
        ForwardOptimizerModel(_noisy(), ["a"], lambda g: (g.y - g.t) ** 2, batch_size=10**12,
                              data={"x": X, "t": T})
    with pytest.raises(BayesGraphError, match="scalar"):
        ForwardOptimizerModel(g, [g.a], lambda g: g.a * np.ones(3) + g.b, data=data)


def test_a_discrete_draw_between_adjustable_and_cost_is_refused():
    with Graph("disc") as g:
        p = StaticVariable("p", mean=0, variance=1)
        Variable("k", distribution="BernoulliDistribution", dtype="bool",
                 logit=p)
    with pytest.raises(OptionError, match="'disc/k'.*cannot be differentiated"):
        ForwardOptimizerModel(g, [g.p], lambda g: g.k * 1.0)


def test_adjustables_grouped_with_a_random_static():
    """a, b, c share one group (b random, a and c adjusted): the group is partly data. The
    minimiser of E[(a + b + c - 1)^2] on the samples is a + c = 1 - mean(b), with a = c by
    symmetry, and the ungrouped reference program gives the same answer."""
    with Graph("grp") as g:
        a = StaticVariable("a", mean=0, variance=1)
        b = StaticVariable("b", mean=0, variance=1)
        c = StaticVariable("c", mean=0, variance=1)
        Variable("z", distribution="DiracDistribution", mean=a + b + c)
    answers = []
    for grouping in (True, False):
        model = ForwardOptimizerModel(g, [g.a, g.c], lambda g: (g.z - 1) ** 2, seed=0,
                                      batch_size=4000, grouping=grouping).solve()
        got = model.get_adjustables()
        answers.append([got["grp/a"], got["grp/c"]])
    assert len(ForwardOptimizerModel(g, [g.a, g.c], lambda g: g.z).grouped.groups) == 3
    np.testing.assert_allclose(answers[0], answers[1], rtol=1e-8)
    a_, c_ = answers[0]
    assert abs(a_ - c_) < 1e-8 and abs(a_ + c_ - 1) < 4 / np.sqrt(4000)
