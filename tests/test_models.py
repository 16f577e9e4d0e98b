"""Forward, MAP and MAPFisher models against closed forms, and their interface."""

import warnings

import numpy as np
import pytest

from bayesgraph.core import DataLinker, Entity, Graph, StaticVariable, Variable
from bayesgraph.core.model import (
    ForwardModel,
    MAPFisherModel,
    MAPModel,
    ModelBase,
    get_generative_model,
    get_posterior_model,
)
from bayesgraph.exceptions import (
    BayesGraphError,
    ConvergenceError,
    ConvergenceWarning,
    DataError,
    DiscreteLatentError,
    ExpressionError,
    ImproperPosteriorError,
    InvalidParameterError,
    MissingVariableError,
    NotSolvedError,
    OptionError,
)
from test_language import family_graph


def seed_regression_data():
    np.random.seed(42)
    np.random.normal(0, 1)
    np.random.normal(0, 1)
    a_true, b_true = 0.4967141530112327, -0.13826430117118466
    x = np.random.normal(0, 3, size=(100,))
    y = a_true * x + b_true + np.random.normal(0, 0.5, size=(100,))
    return x, y


def regression_graph():
    with Graph("lr_graph") as lr_graph:
        x = Variable("x", shape=(), mean=0, variance=9)
        a = StaticVariable("a", shape=(), mean=0, variance=1)
        b = StaticVariable("b", shape=(), mean=0, variance=1)
        Variable("y", shape=(), mean=a * x + b, variance=0.25)
    return lr_graph


def ridge(x, y):
    design = np.stack([x, np.ones_like(x)], axis=1)
    precision = design.T @ design / 0.25 + np.eye(2)
    cov = np.linalg.inv(precision)
    return cov @ design.T @ y / 0.25, cov


@pytest.fixture(scope="module")
def family():
    return family_graph()


def test_family_map_and_fisher_exact(family):
    data = {family.sally.genetic_factor: [20.0]}
    map_model = MAPModel(graph=family, data=data, seed=0)
    with pytest.raises(NotSolvedError, match="call model.solve\\(\\)"):
        map_model.get_means(family.alice.genetic_factor)
    map_model.solve()
    mean = map_model.get_means(family.alice.genetic_factor, n_samples=3)
    assert mean.shape == (1,)
    np.testing.assert_allclose(mean, [10.0], atol=1e-8)
    np.testing.assert_array_equal(map_model.get_variances(family.alice.genetic_factor), [0.0])
    np.testing.assert_allclose(map_model.get_example(family.alice.genetic_factor), [10.0],
                               atol=1e-8)
    fisher = MAPFisherModel(graph=family, data=data, seed=0).solve()
    np.testing.assert_allclose(fisher.get_means(family.alice.genetic_factor), [10.0], atol=1e-8)
    np.testing.assert_allclose(fisher.get_variances(family.alice.genetic_factor), [56.25],
                               rtol=1e-10)
    # sally's observed value is returned as is, with no uncertainty
    assert fisher.get_means(family.sally.genetic_factor).tolist() == [20.0]
    assert fisher.get_variances(family.sally.genetic_factor).tolist() == [0.0]
    # heights: alice's height is her genetic factor plus noise of variance 25
    np.testing.assert_allclose(fisher.get_variances(family.alice.height), [56.25 + 25],
                               rtol=1e-10)
    samples = fisher.get_samples(family.alice.genetic_factor, n_samples=4000)
    assert samples.shape == (4000, 1)
    assert abs(samples.mean() - 10) < 5 * 7.5 / np.sqrt(4000)


def test_family_forward_carries_data_forward_only(family):
    model = ForwardModel(graph=family, data={family.alice.genetic_factor: [20.0]}, seed=1)
    n = 40000
    mean = model.get_means(family.sally.genetic_factor, n_samples=n)
    var = model.get_variances(family.sally.genetic_factor, n_samples=n)
    assert abs(mean[0] - 10.0) < 5 * np.sqrt(56.25 / n)
    assert abs(var[0] - 56.25) < 5 * 56.25 * np.sqrt(2 / n)
    back = ForwardModel(graph=family, data={family.sally.genetic_factor: [20.0]}, seed=2)
    alice = back.get_means(family.alice.genetic_factor, n_samples=n)
    assert abs(alice[0]) < 5 * np.sqrt(75 / n)  # nothing flows backward
    assert back.get_example(family.sally.genetic_factor).tolist() == [20.0]


def test_regression_matches_closed_form_ridge():
    x, y = seed_regression_data()
    lr_graph = regression_graph()
    mean, cov = ridge(x, y)
    data = {lr_graph.x: x, lr_graph.y: y}
    map_model = MAPModel(graph=lr_graph, data=data, seed=0).solve()
    a_hat, b_hat = map_model.get_means([lr_graph.a, lr_graph.b])
    assert a_hat.shape == () and b_hat.shape == ()
    np.testing.assert_allclose([a_hat, b_hat], mean, rtol=0, atol=1e-10)
    # Halerium printed a = 0.4736983304278624, b = -0.1217203455949462: its own optimiser
    # stopped 9e-9 and 2e-8 short of the exact ridge solution that bayesgraph returns.
    np.testing.assert_allclose([a_hat, b_hat], [0.4736983304278624, -0.1217203455949462],
                               atol=3e-8)
    fisher = get_posterior_model(lr_graph, data=data, method="MAPFisher", seed=0).solve()
    sds = fisher.get_standard_deviations({"a": lr_graph.a, "b": lr_graph.b})
    np.testing.assert_allclose([sds["a"], sds["b"]], np.sqrt(np.diag(cov)), rtol=1e-9)
    np.testing.assert_allclose([sds["a"], sds["b"]], [0.0182837, 0.0504097], atol=5e-8)
    np.testing.assert_allclose(fisher.get_covariance([lr_graph.a, lr_graph.b]), cov,
                               rtol=1e-9)
    np.testing.assert_array_equal(fisher.get_means(lr_graph.x), x)


def test_missing_values_are_inferred_not_dropped():
    x, y = seed_regression_data()
    x, y = x[:20].copy(), y[:20].copy()
    x[3], y[7] = np.nan, np.nan
    lr_graph = regression_graph()
    fisher = MAPFisherModel(lr_graph, {lr_graph.x: x, lr_graph.y: y}, seed=0).solve()
    # y7 given (a, b) is N(a x7 + b, 0.25): its Laplace moments follow from those of (a, b)
    means = fisher.get_means(lr_graph)
    assert np.isfinite(means["x"]).all() and np.isfinite(means["y"]).all()
    a, b = means["a"], means["b"]
    np.testing.assert_allclose(means["y"][7], a * x[7] + b, rtol=1e-8)
    # the observed entries are kept exactly
    keep = np.ones(20, bool)
    keep[3] = False
    np.testing.assert_array_equal(means["x"][keep], x[keep])
    variances = fisher.get_variances(lr_graph.y)
    gradient = np.array([x[7], 1.0])
    cov_ab = fisher.get_covariance([lr_graph.a, lr_graph.b])
    np.testing.assert_allclose(variances[7], 0.25 + gradient @ cov_ab @ gradient, rtol=1e-9)
    assert np.all(np.delete(variances, 7) == 0)
    assert fisher.get_variances(lr_graph.x)[3] > 0


def test_lognormal_map_is_mode_of_own_density():
    mu, s2 = 0.3, 0.5
    v = Variable("v", distribution="LogNormal", mean_log=mu, variance_log=s2)
    model = MAPModel(v, seed=0).solve()
    np.testing.assert_allclose(model.get_means(v), [np.exp(mu - s2)], rtol=1e-8)
    fisher = MAPFisherModel(v, seed=0).solve()
    draws = fisher.get_samples(v, n_samples=500)
    assert (draws > 0).all()
    # the Gaussian lives in log-space around log(mode): the draws' median is the MAP point
    assert abs(np.median(draws) / np.exp(mu - s2) - 1) < 5 * np.sqrt(s2 / 500)


def test_logistic_regression_map_gradient_vanishes():
    rng = np.random.default_rng(3)
    xs = rng.normal(size=50)
    labels = rng.random(50) < 1 / (1 + np.exp(-(1.5 * xs - 0.5)))
    with Graph("logit") as g:
        w = StaticVariable("w", mean=0, variance=4)
        c = StaticVariable("c", mean=0, variance=4)
        x = Variable("x")
        Variable("label", distribution="Bernoulli", logit=w * x + c)
    model = MAPModel(g, {g.x: xs, g.label: labels}, seed=0).solve()
    w_hat, c_hat = (float(v) for v in model.get_means([g.w, g.c]))
    p = 1 / (1 + np.exp(-(w_hat * xs + c_hat)))
    grad_w = np.sum((labels - p) * xs) - w_hat / 4
    grad_c = np.sum(labels - p) - c_hat / 4
    np.testing.assert_allclose([grad_w, grad_c], 0, atol=1e-8)


def test_discrete_latent_is_a_clear_error():
    with Graph("g") as g:
        Variable("flag", distribution="Bernoulli", mean=0.3)
    with pytest.raises(DiscreteLatentError, match="discrete variable 'g/flag'"):
        MAPModel(g)
    with pytest.raises(DiscreteLatentError, match="missing entries of"):
        MAPFisherModel(g, {g.flag: [1.0, np.nan]})
    draws = ForwardModel(g, DataLinker(n_data=5), seed=0).get_samples(g.flag, n_samples=3)
    assert draws.dtype == bool and draws.shape == (3, 5)


def test_convergence_is_never_silent():
    x, y = seed_regression_data()
    lr_graph = regression_graph()
    with pytest.warns(ConvergenceWarning, match="max_iterations=1"):
        MAPModel(lr_graph, {lr_graph.x: x, lr_graph.y: y}, max_iterations=1, seed=0).solve()
    with Graph("bad") as bad:
        v = Variable("v", mean=0, variance=1)
        Variable("y", mean=0, variance=v)  # a variance expression that is 0 at the start
    with pytest.raises(InvalidParameterError, match="'variance' of 'bad/y'.* is 0 at"):
        MAPModel(bad, {bad.y: [1.0]}, random_initial_value_scale=0.0).solve()
    with Graph("flat") as flat:
        Variable("free", distribution="NoDistribution")
    with pytest.raises(ImproperPosteriorError, match="'flat/free' has a flat prior"):
        MAPFisherModel(flat).solve()
    with Graph("sum") as total:  # informed, yet improper: only a + b is seen
        a = Variable("a", distribution="NoDistribution")
        b = Variable("b", distribution="NoDistribution")
        Variable("y", mean=a + b, variance=1.0)
    with pytest.raises(ConvergenceError, match="not positive definite"):
        MAPFisherModel(total, {total.y: [1.0]}).solve()


def test_requests_structures_and_names(family):
    model = MAPModel(family, {family.sally.genetic_factor: [20.0]}, seed=0).solve()
    by_entity = model.get_means(family.alice)
    assert set(by_entity) == {"genetic_factor", "height"}
    whole = model.get_means(family)
    assert set(whole) == {"alice", "bob", "harry", "sally"}  # empty inputs/outputs left out
    as_tuple = model.get_means((family.alice.height, "family/bob/height", "sally/height"))
    assert isinstance(as_tuple, tuple) and len(as_tuple) == 3
    as_dict = model.get_variances({"h": [family.harry.height]})
    assert as_dict["h"][0].tolist() == [0.0]
    with pytest.raises(MissingVariableError, match="not a variable of this model"):
        model.get_means(Variable("stranger"))
    with pytest.raises(ExpressionError, match="cannot ask a model for 3"):
        model.get_means(3)


def test_seeds_make_results_reproducible(family):
    first = ForwardModel(family, seed=11).get_samples(family.bob.height, n_samples=5)
    second = ForwardModel(family, seed=11).get_samples(family.bob.height, n_samples=5)
    np.testing.assert_array_equal(first, second)
    other = ForwardModel(family, seed=12).get_samples(family.bob.height, n_samples=5)
    assert not np.array_equal(first, other)


def test_factories_and_options():
    g = regression_graph()
    assert isinstance(get_generative_model(g), ForwardModel)
    assert isinstance(get_posterior_model(g, method="MAP"), MAPModel)
    assert isinstance(get_posterior_model(g), MAPFisherModel)
    assert all(issubclass(c, ModelBase) for c in (ForwardModel, MAPModel, MAPFisherModel))
    with pytest.raises(OptionError, match="unknown method 'Gibbs'"):
        get_posterior_model(g, method="Gibbs")
    with pytest.raises(OptionError, match="compiler='tensorflow'"):
        MAPModel(g, compiler="tensorflow")
    with pytest.raises(OptionError, match="dtype must be"):
        MAPModel(g, dtype="float16")
    assert issubclass(OptionError, BayesGraphError) and issubclass(OptionError, ValueError)
    with pytest.raises(DataError, match="NoDistribution"):
        with Graph("free") as free:
            Variable("f", distribution="NoDistribution")
        ForwardModel(free)


def test_initial_values_and_adam():
    x, y = seed_regression_data()
    g = regression_graph()
    mean, _ = ridge(x, y)
    model = MAPModel(g, {g.x: x, g.y: y}, initial_values={g.a: 0.4, "lr_graph/b": 0.0},
                     seed=0).solve()
    np.testing.assert_allclose(model.get_means([g.a, g.b]), mean, atol=1e-10)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        adam = MAPModel(g, {g.x: x, g.y: y}, solver="Adam", learning_rate=0.05,
                        max_iterations=3000, tolerance=1e-6, seed=0).solve()
    np.testing.assert_allclose(adam.get_means([g.a, g.b]), mean, atol=1e-3)
    with pytest.raises(DataError, match="has no unobserved entries"):
        MAPModel(g, {g.x: x, g.y: y}, initial_values={g.x: 1.0}).solve()


def test_dirac_and_static_holes():
    with Graph("g") as g:
        z = StaticVariable("z", shape=(3,), mean=[1.0, 2.0, 3.0], variance=1.0)
        Variable("d", distribution="Dirac", mean=2 * z[0])
        Variable("obs", mean=z[0] + z[1], variance=1.0)
    model = MAPFisherModel(g, {g.z: [0.5, np.nan, np.nan], g.obs: [4.0, 4.0]}, seed=0).solve()
    # z1 | z0 = .5, two observations of z0 + z1 = 4 with unit noise: precision 1 + 2
    z_mean = model.get_means(g.z)
    np.testing.assert_allclose(z_mean, [0.5, (2.0 + 2 * 3.5) / 3, 3.0], atol=1e-9)
    np.testing.assert_allclose(model.get_variances(g.z), [0.0, 1 / 3, 1.0], rtol=1e-9)
    np.testing.assert_allclose(model.get_means(g.d), [1.0, 1.0], atol=1e-12)


def test_entity_root_and_repr():
    with Entity("e") as e:
        Variable("a", mean=2.0, variance=1.0)
    model = MAPModel(e, seed=0).solve()
    np.testing.assert_allclose(model.get_means(e.a), [2.0], atol=1e-9)
    assert "solved" in repr(model)


def test_forward_draws_of_a_graph_without_random_values():
    # every variable observed or computed: the draws are the computed values, repeated
    with Graph("fixed") as fixed:
        x = Variable("x", distribution="NoDistribution")
        Variable("y", distribution="Dirac", mean=2 * x)
    draws = ForwardModel(fixed, {fixed.x: [1.0, 2.0]}).get_samples(fixed.y, n_samples=3)
    np.testing.assert_array_equal(draws, [[2.0, 4.0]] * 3)


# -- MAP modes on the boundary of a support (issue 8 item 1) -------------------------------------
def _map_warnings(graph, data):
    from bayesgraph.exceptions import BoundaryWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        MAPModel(graph, data, seed=0).solve()
    return [str(w.message) for w in caught if issubclass(w.category, BoundaryWarning)]


def test_a_scale_collapsing_to_a_tiny_value_is_reported_on_the_boundary():
    """Non-centred eight schools: the MAP's tau is ~4e-9 with a gradient below any tolerance
    (exp(-19) is not 'beyond 1e-11'); the density is flat towards 0: a boundary mode."""
    from corpus import eight_schools_noncentered

    case = eight_schools_noncentered()
    found = _map_warnings(case.graph, case.data)
    assert len(found) == 1 and "tau" in found[0] and "boundary" in found[0]


def test_a_truncated_prior_whose_mode_is_its_bound_is_reported():
    with Graph("tr") as g:
        mu = StaticVariable("mu", mean=0.0, variance=1.0, lower=0.0)
        Variable("x", mean=mu, variance=1.0)
    found = _map_warnings(g, {g.x: np.array([-0.3, 0.2, -0.1])})
    assert len(found) == 1 and "'tr/mu'" in found[0]


@pytest.mark.parametrize("n, scale", [(5, 1.0), (5, 1e-3), (40, 30.0)])
def test_interior_scale_modes_do_not_warn_whatever_their_units(n, scale):
    """A scale pinned by a few data points, in any units (1e-3 is far from 1 on the log axis,
    yet an interior mode): no false alarm."""
    rng = np.random.default_rng(n)
    with Graph("s") as g:
        sigma = StaticVariable("sigma", distribution="NoDistribution", lower=0.0)
        Variable("x", mean=0.0, variance=sigma**2)
    assert _map_warnings(g, {g.x: rng.normal(0, scale, n)}) == []
