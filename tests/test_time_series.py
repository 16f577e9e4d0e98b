"""Time series along the examples axis: TimeIndex, TimeShift, recurrences (issue 13 item 2).

Closed forms: an AR(1) or MA(1) series with known coefficients is linear-Gaussian, so its
joint is a dense Gaussian (``y = (I - a L)^{-1} e`` with ``L`` the lag matrix, or
``y = (I + b L) e``); conditioning on the observed entries gives the exact posterior, which
MAPFisher must reproduce to ~1e-8 (means and Laplace variances) and MCMC within Monte-Carlo
error. Structure: a recurrence is one site (one group), not one per step.
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest

from bayesgraph.core import (
    Entity,
    Graph,
    StaticVariable,
    TimeIndex,
    TimeShift,
    Variable,
    get_data_linker,
    get_generative_model,
    get_posterior_model,
)
from bayesgraph.core.lowering import group, lower
from bayesgraph.core.operator.time import shift_values
from bayesgraph.exceptions import (
    ConvergenceWarning,
    CyclicGraphError,
    DiscreteLatentError,
    ExpressionError,
    GraphStructureError,
)


def _program(graph, data=None):
    from bayesgraph.core.compiler import Program

    spec, _ = lower(graph, data)
    grouped = group(spec)
    return grouped, Program(grouped)


# -- the language ------------------------------------------------------------------------------
def test_time_index_arithmetic_and_the_operator_contract():
    x = Variable("x")
    lag = x[TimeIndex - 2 - 1]
    assert lag.op == "time_shift" and lag.args == (x,)
    assert lag.kwargs == {"shift": -3, "initial_values": 0.0}
    assert isinstance(lag, TimeShift)
    node = TimeShift(x, shift=-2, initial_values=[1.0, 2.0])
    assert node.op == "time_shift" and node.kwargs == {"shift": -2,
                                                       "initial_values": (1.0, 2.0)}
    assert x[TimeIndex] is x
    assert (x[TimeIndex + 1]).kwargs["shift"] == 1
    assert repr(TimeIndex - 1) == "TimeIndex - 1"
    v = Variable("v", shape=(3,))
    element = v[TimeIndex - 1, 2]  # the lag, then an entry of each step's value
    assert element.op == "getitem" and element.args[0].op == "time_shift"
    expression = TimeShift(2 * x + 1, -1)
    assert expression.args[0].op == "add"


@pytest.mark.parametrize("make, match", [
    (lambda x, s: s[TimeIndex - 1], "StaticVariable has one value"),
    (lambda x, s: TimeShift(2 * s, -1), "static"),
    (lambda x, s: TimeShift(3.0, -1), "constant"),
    (lambda x, s: x[TimeIndex - 1.5], "whole number"),
    (lambda x, s: x[TimeIndex * 2], "whole steps"),
    (lambda x, s: TimeShift(x, shift=0.5), "shift=0.5"),
    (lambda x, s: TimeShift(x, -1, initial_values="a"), "initial_values"),
    (lambda x, s: TimeShift(x, -1, initial_values=s), "constants"),
    (lambda x, s: Variable("w", shape=(2,))[0, TimeIndex - 1], "comes first"),
])
def test_bad_time_shifts_are_refused_by_name(make, match):
    x = Variable("x")
    s = StaticVariable("s")
    with pytest.raises(ExpressionError, match=match):
        make(x, s)


def test_numpy_and_jax_shifts_agree():
    import jax.numpy as jnp

    from bayesgraph.core.compiler.ops import time_shift

    x = np.arange(12.0).reshape(2, 6)  # two members, six steps
    for shift, initial in [(-1, 0.0), (-2, (7.0, 8.0)), (2, 5.0), (-7, 1.0), (0, 3.0)]:
        want = shift_values(x, shift=shift, initial_values=initial, axis=1)
        got = np.asarray(time_shift(jnp.asarray(x), shift=shift, initial_values=initial, axis=1))
        np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(shift_values(np.arange(4.0), shift=-2,
                                               initial_values=(7.0, 8.0)), [7, 8, 0, 1])


# -- the cycle check: recurrences are not cycles -----------------------------------------------
def test_own_past_is_a_recurrence_and_a_cycle_within_a_step_is_refused():
    with Graph("ar") as ar:
        y = Variable("y", variance=1.0)
        y.mean = 0.5 * y[TimeIndex - 1]
    grouped, program = _program(ar)
    assert [b.recurrent for b in grouped.blocks] == [True]
    assert [s.name for s in program.latent_sites] == ["ar/y"]

    with Graph("two") as two:  # x reads y's past, y reads x now: a recurrence of two
        x = Variable("x", variance=1.0)
        y = Variable("y", mean=x, variance=1.0)
        x.mean = 0.5 * y[TimeIndex - 1]
    grouped, _ = _program(two)
    (block,) = grouped.blocks
    assert block.recurrent
    assert [grouped.groups[g].members for g in block.groups] == [("two/x",), ("two/y",)]

    with Graph("cyc") as cyc:
        a = Variable("a", variance=1.0)
        b = Variable("b", mean=a, variance=1.0)
        a.mean = b[TimeIndex - 1] + b
    with pytest.raises(CyclicGraphError, match="cycle"):
        lower(cyc)


def test_leads_are_allowed_only_off_a_recurrence():
    with Graph("lead") as lead:
        x = Variable("x", variance=1.0)
        y = Variable("y", mean=x[TimeIndex + 1], variance=1.0)
    grouped, _ = _program(lead)
    assert not grouped.blocks
    with Graph("future") as future:
        y = Variable("y", variance=1.0)
        y.mean = y[TimeIndex + 1]
    with pytest.raises(CyclicGraphError, match="ahead in time"):
        lower(future)


def test_a_random_walk_written_as_a_dirac_recurrence():
    """``s = s[t-1] + e`` as a Dirac variable: computed step by step in every mode (a scan
    in density modes too, since its values are not given), exact posterior of e and s."""
    n = 10
    with Graph("walk") as walk:
        e = Variable("e", mean=0, variance=0.5)
        s = Variable("s", distribution="DiracDistribution")
        s.mean = s[TimeIndex - 1] + e
        obs = Variable("obs", mean=s, variance=0.2)  # noqa: F841
    forward = get_generative_model(walk, get_data_linker({}, n_data=n))
    e_drawn, s_drawn = (np.asarray(v) for v in forward.get_example([walk.e, walk.s]))
    np.testing.assert_allclose(s_drawn, np.cumsum(e_drawn), atol=1e-12)

    data = np.random.default_rng(0).normal(size=n).cumsum()
    data[[2, 6]] = np.nan
    cumulative = np.tril(np.ones((n, n)))
    cov_s = 0.5 * cumulative @ cumulative.T
    cov_se = 0.5 * cumulative
    seen = ~np.isnan(data)
    inverse = np.linalg.inv(cov_s[np.ix_(seen, seen)] + 0.2 * np.eye(seen.sum()))
    fisher = get_posterior_model(walk, {walk.obs: data}, method="MAPFisher").solve()
    gain_e = cov_se[seen].T @ inverse
    np.testing.assert_allclose(fisher.get_means(walk.e), gain_e @ data[seen], atol=1e-8)
    np.testing.assert_allclose(fisher.get_variances(walk.e),
                               np.diag(0.5 * np.eye(n) - gain_e @ cov_se[seen]), rtol=1e-8)
    mode = get_posterior_model(walk, {walk.obs: data}, method="MAP").solve()
    np.testing.assert_allclose(mode.get_means(walk.s), cov_s[:, seen] @ inverse @ data[seen],
                               atol=1e-8)


def test_a_recurrence_whose_support_reads_the_series_is_refused():
    with Graph("bounded") as bounded:
        y = Variable("y", distribution="UniformDistribution", lower=0.0)
        y.upper = y[TimeIndex - 1] + 1.0
    spec, _ = lower(bounded)
    with pytest.raises(GraphStructureError, match="'bounded/y'.*support"):
        group(spec)


# -- the reference's graphs (halerium-api.md 8.11, with halerium replaced by bayesgraph) ---------
Q = 5


def ma_graph_of(q: int = Q) -> Graph:
    with Graph("ma_graph") as ma_graph:
        b = StaticVariable("b", shape=(q,), mean=0, variance=1)
        c = StaticVariable("c", mean=0, variance=1)
        epsilon = Variable("epsilon", mean=0, variance=1)
        y = Variable("y")
        y.mean = sum(b[i] * epsilon[TimeIndex - i - 1] for i in range(q)) + c
        y.variance = (1 / 100) ** 2
        observed = Variable("observed", mean=y, variance=1e-4)  # noqa: F841
    return ma_graph


def arma_graph_of(p: int = 2, q: int = 2) -> Graph:
    with Graph("arma_graph") as arma_graph:
        a = StaticVariable("a", shape=(p,), mean=0, variance=0.25)
        b = StaticVariable("b", shape=(q,), mean=0, variance=1)
        c = StaticVariable("c", mean=0, variance=1)
        epsilon = Variable("epsilon", mean=0, variance=1)
        y = Variable("y")
        y.mean = (sum(a[i] * y[TimeIndex - i - 1] for i in range(p))
                  + sum(b[i] * epsilon[TimeIndex - i - 1] for i in range(q)) + c)
        y.variance = (1 / 100) ** 2
        observed = Variable("observed", mean=y, variance=1e-4)  # noqa: F841
    return arma_graph


def test_ma_graph_of_the_reference_samples_forward():
    ma_graph = ma_graph_of()
    b, c = ma_graph.b, ma_graph.c
    model = get_generative_model(ma_graph, get_data_linker({b: np.ones(Q), c: 0.}, n_data=150))
    example = model.get_example(ma_graph.y)
    assert np.shape(example) == (150,)
    eps, y = (np.asarray(v) for v in model.get_example([ma_graph.epsilon, ma_graph.y]))
    want = sum(shift_values(eps, shift=-i - 1, initial_values=0.0) for i in range(Q))
    np.testing.assert_allclose(y, want, atol=0.06)  # y's sd is 0.01


def test_arma_graph_samples_forward_and_fits():
    arma_graph = arma_graph_of()
    truth = {arma_graph.a: [0.5, -0.2], arma_graph.b: [0.4, 0.3], arma_graph.c: 1.0}
    forward = get_generative_model(arma_graph, get_data_linker(truth, n_data=60), seed=0)
    eps, y, observed = (np.asarray(v) for v in forward.get_example(
        [arma_graph.epsilon, arma_graph.y, arma_graph.observed]))
    assert y.shape == (60,)
    want = np.zeros(60)  # the recurrence, in numpy
    for t in range(60):
        want[t] = (sum(a * (want[t - i - 1] if t - i - 1 >= 0 else 0.0)
                       for i, a in enumerate([0.5, -0.2]))
                   + sum(b * (eps[t - i - 1] if t - i - 1 >= 0 else 0.0)
                         for i, b in enumerate([0.4, 0.3])) + 1.0)
    np.testing.assert_allclose(y, want, atol=0.1)
    # y's tiny variance makes the mode ill-conditioned: L-BFGS needs 4,000 to 5,000+
    # iterations (with 5,000, 3 of 12 random starts stopped short; with 20,000 none did)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        fitted = get_posterior_model(arma_graph, {arma_graph.observed: observed},
                                     method="MAP", max_iterations=20000, seed=0).solve()
    assert np.all(np.abs(fitted.get_means(arma_graph.a) - [0.5, -0.2]) < 0.4)
    assert abs(float(fitted.get_means(arma_graph.c)) - 1.0) < 0.5


def test_ma_graph_fits():
    ma_graph = ma_graph_of(2)
    forward = get_generative_model(ma_graph, get_data_linker(
        {ma_graph.b: [0.8, -0.4], ma_graph.c: 0.5}, n_data=80), seed=0)
    observed = np.asarray(forward.get_example(ma_graph.observed))
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        fitted = get_posterior_model(ma_graph, {ma_graph.observed: observed},
                                     method="MAP", max_iterations=5000, seed=0).solve()
    assert abs(float(fitted.get_means(ma_graph.c)) - 0.5) < 0.5


# -- exact Gaussian posteriors ----------------------------------------------------------------
N, A, S2, R = 14, 0.7, 0.5, 0.2
LAG = np.eye(N, k=-1)


def _condition(cov: np.ndarray, noise: float, data: np.ndarray):
    """Posterior of the latent series given noisy observations ``data`` (NaN: missing)."""
    seen = ~np.isnan(data)
    joint = cov[np.ix_(seen, seen)] + noise * np.eye(seen.sum())
    gain = cov[:, seen] @ np.linalg.inv(joint)
    return gain @ data[seen], cov - gain @ cov[seen, :]


def ar1_graph() -> Graph:
    with Graph("ar") as ar:
        y = Variable("y", variance=S2)
        y.mean = A * y[TimeIndex - 1]
        obs = Variable("obs", mean=y, variance=R)  # noqa: F841
    return ar


def ma1_graph(b: float = 0.6) -> Graph:
    with Graph("ma") as ma:
        e = Variable("e", mean=0, variance=S2)
        y = Variable("y", mean=e + b * e[TimeIndex - 1] + 1.0, variance=1e-2)
        obs = Variable("obs", mean=y, variance=R)  # noqa: F841
    return ma


def _data(seed: int, holes: list[int]) -> np.ndarray:
    data = np.random.default_rng(seed).normal(size=N) + 0.5
    data[holes] = np.nan
    return data


def ar1_exact(data):
    inverse = np.linalg.inv(np.eye(N) - A * LAG)
    return _condition(S2 * inverse @ inverse.T, R, data)


def ma1_exact(data, b: float = 0.6):
    mix = np.eye(N) + b * LAG
    mean, cov = _condition(S2 * mix @ mix.T + 1e-2 * np.eye(N), R, data - 1.0)
    return mean + 1.0, cov


def test_ar1_map_fisher_is_the_exact_gaussian_posterior():
    graph = ar1_graph()
    data = _data(0, [3, 4, 9])
    model = get_posterior_model(graph, {graph.obs: data}, method="MAPFisher").solve()
    mean, cov = ar1_exact(data)
    np.testing.assert_allclose(model.get_means(graph.y), mean, atol=1e-8)
    np.testing.assert_allclose(model.get_variances(graph.y), np.diag(cov), rtol=1e-8)
    # the holes of the observed series are inferred: the predictive of obs there
    np.testing.assert_allclose(model.get_means(graph.obs)[[3, 4, 9]], mean[[3, 4, 9]],
                               atol=1e-8)


def test_missing_entries_of_the_recurring_series_are_inferred():
    graph = ar1_graph()
    series = np.random.default_rng(1).normal(size=N)
    holes = [0, 5, 6, 13]
    series[holes] = np.nan
    model = get_posterior_model(graph, {graph.y: series}, method="MAPFisher").solve()
    inverse = np.linalg.inv(np.eye(N) - A * LAG)
    cov = S2 * inverse @ inverse.T
    seen = ~np.isnan(series)
    gain = cov[np.ix_(~seen, seen)] @ np.linalg.inv(cov[np.ix_(seen, seen)])
    got_means, got_vars = model.get_means(graph.y), model.get_variances(graph.y)
    np.testing.assert_allclose(got_means[~seen], gain @ series[seen], atol=1e-8)
    np.testing.assert_allclose(
        got_vars[~seen], np.diag(cov[np.ix_(~seen, ~seen)] - gain @ cov[np.ix_(seen, ~seen)]),
        rtol=1e-8)
    np.testing.assert_array_equal(got_means[seen], series[seen])


def test_ma1_map_fisher_is_the_exact_gaussian_posterior():
    graph = ma1_graph()
    data = _data(2, [0, 7])
    model = get_posterior_model(graph, {graph.obs: data}, method="MAPFisher").solve()
    mean, cov = ma1_exact(data)
    np.testing.assert_allclose(model.get_means(graph.y), mean, atol=1e-8)
    np.testing.assert_allclose(model.get_variances(graph.y), np.diag(cov), rtol=1e-8)


def test_initial_values_fill_the_first_steps():
    with Graph("g") as g:
        y = Variable("y", variance=1e-10)
        y.mean = 0.5 * TimeShift(y, shift=-1, initial_values=4.0) + 1.0
    model = get_generative_model(g, get_data_linker({}, n_data=6))
    want = [3.0]
    for _ in range(5):
        want.append(0.5 * want[-1] + 1.0)
    np.testing.assert_allclose(np.asarray(model.get_example(g.y)), want, atol=1e-4)


def test_forward_samples_have_the_ar1_moments():
    graph = ar1_graph()
    model = get_generative_model(graph, get_data_linker({}, n_data=N))
    draws = np.asarray(model.get_samples(graph.y, n_samples=4000))
    inverse = np.linalg.inv(np.eye(N) - A * LAG)
    sd = np.sqrt(np.diag(S2 * inverse @ inverse.T))
    assert np.all(np.abs(draws.mean(axis=0)) < 5 * sd / np.sqrt(4000))
    np.testing.assert_allclose(draws.std(axis=0), sd, rtol=0.08)


@pytest.mark.slow
@pytest.mark.parametrize("which", ["ar1", "ma1"])
def test_mcmc_agrees_with_the_exact_posterior(which):
    graph = ar1_graph() if which == "ar1" else ma1_graph()
    data = _data(3, [2, 8])
    mean, cov = ar1_exact(data) if which == "ar1" else ma1_exact(data)
    model = get_posterior_model(graph, {graph.obs: data}, method="MCMC", num_warmup=500,
                                num_samples=2000, num_chains=2, seed=1).solve()
    draws = np.asarray(model.get_samples(graph.y, n_samples=4000))
    sd = np.sqrt(np.diag(cov))
    error = sd / np.sqrt(400)  # effective sample size of at least ~400
    assert np.all(np.abs(draws.mean(axis=0) - mean) < 5 * error)
    np.testing.assert_allclose(draws.std(axis=0), sd, rtol=0.15)


def test_mgvi_is_exact_on_a_linear_gaussian_series():
    graph = ar1_graph()
    data = _data(4, [5])
    mean, _ = ar1_exact(data)
    model = get_posterior_model(graph, {graph.obs: data}, method="MGVI", seed=0).solve()
    np.testing.assert_allclose(model.get_means(graph.y), mean, atol=1e-6)


def test_discrete_latent_under_a_time_shift_is_refused_by_mcmc():
    with Graph("hmm") as hmm:
        z = Variable("z", distribution="Bernoulli", mean=0.5)
        x = Variable("x", mean=2.0 * z[TimeIndex - 1], variance=1.0)  # noqa: F841
    with pytest.raises(DiscreteLatentError, match=re.escape("'hmm/z'")):
        get_posterior_model(hmm, {hmm.x: np.zeros(5)}, method="MCMC", num_warmup=10,
                            num_samples=10)


# -- scale: one site per group, not per step --------------------------------------------------
def panel(n_entities: int):
    with Entity("series") as series:
        a = StaticVariable("a", mean=0, variance=0.25)
        y = Variable("y", variance=1.0)
        y.mean = a * y[TimeIndex - 1]
    Series = series.get_template("Series")
    with Graph("panel") as graph:
        entities = [Series(f"s{i}") for i in range(n_entities)]
    return graph, entities


def test_a_panel_is_one_group_and_a_long_series_one_site():
    graph, entities = panel(40)
    data = {e.y: np.random.default_rng(i).normal(size=30) for i, e in enumerate(entities)}
    data[entities[0].y][4] = np.nan
    grouped, program = _program(graph, data)
    assert len(grouped.groups) == 2  # the 40 coefficients, the 40 series
    (block,) = grouped.blocks
    assert block.recurrent and grouped.groups[block.groups[0]].size == 40
    assert sorted(s.name for s in program.latent_sites) == [
        "panel/s0/a+39", "panel/s0/y+39/missing"]

    with Graph("ar2") as ar2:
        a = StaticVariable("a", shape=(2,), mean=0, variance=0.25)
        y = Variable("y", variance=1.0)
        y.mean = a[0] * y[TimeIndex - 1] + a[1] * y[TimeIndex - 2]
    _, program = _program(ar2, get_data_linker({}, n_data=10_000))
    assert [(s.name, s.shape) for s in program.latent_sites] == [
        ("ar2/a", (1, 2)), ("ar2/y", (1, 10_000))]


def test_panel_fit_matches_per_series_least_squares():
    graph, entities = panel(5)
    rng = np.random.default_rng(0)
    series = rng.normal(size=(5, 40)).cumsum(axis=1) * 0.3
    model = get_posterior_model(graph, {e.y: s for e, s in zip(entities, series)},
                                method="MAPFisher").solve()
    for e, s in zip(entities, series):
        past = np.concatenate([[0.0], s[:-1]])
        # the posterior of a: N(0, 0.25) prior, Gaussian likelihood with unit variance
        precision = 1 / 0.25 + past @ past
        np.testing.assert_allclose(model.get_means(e.a), (past @ s) / precision, rtol=1e-8)
        np.testing.assert_allclose(model.get_variances(e.a), 1 / precision, rtol=1e-8)


def test_forward_sampling_clamps_observed_steps_and_runs_one_scan():
    import jax

    with Graph("g") as g:
        y = Variable("y", variance=1e-10)
        y.mean = 0.5 * y[TimeIndex - 1] + 1.0
    data = np.array([np.nan, 10.0, np.nan, np.nan, 0.0, np.nan])
    drawn = np.asarray(get_generative_model(g, {g.y: data}).get_example(g.y))
    # missing steps follow the recurrence from the (clamped) step before them
    np.testing.assert_allclose(drawn, [1.0, 10.0, 6.0, 4.0, 0.0, 1.0], atol=1e-3)

    from bayesgraph.core.compiler import Program
    from bayesgraph.core.lowering import group_data

    spec, lowered = lower(g, {g.y: data})
    grouped = group(spec)
    program = Program(grouped)
    with jax.enable_x64(True):  # as the models run
        args = program.data_args(group_data(grouped, lowered))
        jaxpr = str(jax.make_jaxpr(program.sample)(jax.random.PRNGKey(0), args))
    assert jaxpr.count("scan[") == 1 and "while[" not in jaxpr


def test_mgvi_infers_missing_steps_of_a_partly_observed_series():
    graph = ar1_graph()
    series = np.random.default_rng(1).normal(size=N)
    series[[2, 3, 7]] = np.nan
    noisy = _data(2, [0, 3])
    data = {graph.y: series, graph.obs: noisy}
    inverse = np.linalg.inv(np.eye(N) - A * LAG)
    cov_y = S2 * inverse @ inverse.T  # the joint of (y, obs), conditioned on what is seen
    joint = np.block([[cov_y, cov_y], [cov_y, cov_y + R * np.eye(N)]])
    values = np.concatenate([series, noisy])
    seen = ~np.isnan(values)
    holes = np.array([2, 3, 7])
    gain = joint[np.ix_(holes, seen)] @ np.linalg.inv(joint[np.ix_(seen, seen)])
    mean = gain @ values[seen]
    variance = np.diag(joint[np.ix_(holes, holes)] - gain @ joint[np.ix_(seen, holes)])
    fisher = get_posterior_model(graph, data, method="MAPFisher").solve()
    np.testing.assert_allclose(fisher.get_means(graph.y)[holes], mean, atol=1e-8)
    np.testing.assert_allclose(fisher.get_variances(graph.y)[holes], variance, rtol=1e-8)
    mgvi = get_posterior_model(graph, data, method="MGVI", seed=0).solve()
    np.testing.assert_allclose(mgvi.get_means(graph.y)[holes], mean, atol=1e-6)
    np.testing.assert_allclose(mgvi.get_variances(graph.y)[holes], variance, rtol=0.05)


@pytest.mark.parametrize("now", [False, True])
@pytest.mark.parametrize("grouping", [True, False])
def test_series_reading_each_other_follow_the_recurrence(now, grouping):
    """Series i reads series i-1's past (members of one group gather each other's lags) and,
    with ``now``, its present too (a chain within each step: the group is split by depth)."""
    from bayesgraph.core.model import ForwardModel

    k, n = 4, 7
    with Graph("chain") as g:
        ys = []
        for i in range(k):
            with Entity(f"s{i}"):
                ys.append(Variable("y", variance=1e-12))
        for i in range(k):
            extra = 1.0 if i == 0 else 0.3 * ys[i - 1][TimeIndex - 1] + (ys[i - 1] if now
                                                                            else 0.0)
            ys[i].mean = 0.5 * ys[i][TimeIndex - 1] + extra
    model = ForwardModel(g, get_data_linker({}, n_data=n), grouping=grouping)
    assert all(b.recurrent for b in model.grouped.blocks)
    if grouping and not now:
        assert len(model.grouped.groups) == 2  # s0, and s1..s3 gathering each other's past
    got = np.array([np.asarray(v) for v in model.get_example(ys)])
    want = np.zeros((k, n))
    for t in range(n):
        for i in range(k):
            past = want[i, t - 1] if t else 0.0
            if i == 0:
                extra = 1.0
            else:
                extra = 0.3 * (want[i - 1, t - 1] if t else 0.0) + (want[i - 1, t] if now
                                                                    else 0.0)
            want[i, t] = 0.5 * past + extra
    np.testing.assert_allclose(got, want, atol=1e-4)
