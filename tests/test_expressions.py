"""Indexing by data and linear algebra in expressions (issue 7, items 3 and 4).

Every answer is checked against an independent computation: the same model written with a
one-hot matrix and the exact Gaussian posterior (numpy solve) for ``alpha[group]``, numpy and
scipy for the linear-algebra operators, the per-variable program (``grouping=False``) for the
grouped one, and the closed-form GP posterior / marginal likelihood for GP regression.
"""

from __future__ import annotations

import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.linalg
import scipy.optimize
import scipy.stats
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bayesgraph.core import (
    Entity,
    Graph,
    StaticVariable,
    Variable,
    cholesky,
    concatenate,
    cumsum,
    equal,
    exp,
    greater,
    greater_equal,
    less_equal,
    logdet,
    solve_triangular,
    squared_exponential_kernel,
    where,
)
from bayesgraph.core.compiler import Program
from bayesgraph.core.lowering import group, group_data, lower
from bayesgraph.core.lowering.groups import GOp, PerMember
from bayesgraph.core.model import ForwardModel, MAPFisherModel, MAPModel
from bayesgraph.exceptions import (
    BayesGraphError,
    ConvergenceWarning,
    DataError,
    DtypeError,
    ShapeError,
)


@pytest.fixture(autouse=True)
def x64():
    with jax.enable_x64(True):
        yield


def fitted(cls, graph, data, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return cls(graph, data=data, seed=0, **kwargs).solve()


# -- indexing by data ---------------------------------------------------------------------------
K, N = 4, 40
RNG = np.random.default_rng(0)
GROUPS = RNG.integers(0, K, N)
GROUPS[:K] = np.arange(K)  # every group has data
XS = RNG.normal(size=N)
YS = 1.0 + GROUPS + (0.5 - 0.2 * GROUPS) * XS + 0.3 * RNG.normal(size=N)


def varying_intercepts_and_slopes(one_hot: bool):
    with Graph("h") as h:
        mu = StaticVariable("mu", mean=0, variance=100)
        alpha = StaticVariable("alpha", shape=(K,), mean=mu, variance=4)
        beta = StaticVariable("beta", shape=(K,), mean=0, variance=1)
        x = Variable("x")
        if one_hot:
            onehot = Variable("onehot", shape=(K,))
            Variable("y", mean=onehot @ alpha + (onehot @ beta) * x, variance=0.09)
        else:
            g = Variable("group", dtype="int", distribution="NoDistribution")
            Variable("y", mean=alpha[g] + beta[g] * x, variance=0.09)
    data = {h.x: XS, h.y: YS}
    data.update({h.onehot: np.eye(K)[GROUPS]} if one_hot else {h.group: GROUPS})
    return h, data


def exact_posterior():
    """Exact posterior of (mu, alpha, beta): a linear-Gaussian model solved with numpy."""
    prior_cov = np.zeros((1 + 2 * K, 1 + 2 * K))
    prior_cov[:1 + K, :1 + K] = 100.0  # mu and alpha = mu + N(0, 4)
    prior_cov[1:1 + K, 1:1 + K] += 4 * np.eye(K)
    prior_cov[1 + K:, 1 + K:] = np.eye(K)
    design = np.zeros((N, 1 + 2 * K))
    design[np.arange(N), 1 + GROUPS] = 1.0
    design[np.arange(N), 1 + K + GROUPS] = XS
    precision = np.linalg.inv(prior_cov) + design.T @ design / 0.09
    cov = np.linalg.inv(precision)
    return cov @ design.T @ YS / 0.09, cov


@pytest.mark.parametrize("cls", [MAPModel, MAPFisherModel])
def test_alpha_of_group_equals_one_hot_and_the_exact_posterior(cls):
    mean, cov = exact_posterior()
    fits = [fitted(cls, *varying_intercepts_and_slopes(one_hot)) for one_hot in (False, True)]
    names = ["h/mu", "h/alpha", "h/beta"]
    for fit in fits:
        got = np.concatenate([np.atleast_1d(fit._point([n])[n]) for n in names])
        np.testing.assert_allclose(got, mean, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(
        np.concatenate([np.atleast_1d(fits[0]._point([n])[n]) for n in names]),
        np.concatenate([np.atleast_1d(fits[1]._point([n])[n]) for n in names]),
        rtol=1e-8, atol=1e-8)
    if cls is MAPFisherModel:
        for fit in fits:
            np.testing.assert_allclose(fit.get_covariance(names), cov, rtol=1e-6, atol=1e-9)


def test_index_variable_is_data_in_the_compiled_code():
    h, data = varying_intercepts_and_slopes(one_hot=False)
    spec, lowered = lower(h, data)
    grouped = group(spec)
    y = grouped.group_of("h/y")
    mean = dict(y.params)["mean"]
    assert {a.op for a in mean.args} == {"index", "multiply"}
    # new data of the same shapes: same fingerprint, so the compiled program is reused
    other = dict(data)
    other[h.group] = np.roll(GROUPS, 3)
    assert group(lower(h, other)[0]).fingerprint == grouped.fingerprint


def values_of(graph, data, names, grouping=True):
    """Values of (Dirac) variables computed from data, through the grouped compiler."""
    spec, lowered = lower(graph, data)
    grouped = group(spec, grouping=grouping)
    program = Program(grouped)
    args = program.data_args(group_data(grouped, lowered))
    env = program.sample(jax.random.PRNGKey(0), args)
    return {n: np.asarray(program.variable_value(env, n)) for n in names}, grouped


W3 = RNG.normal(size=(3, 4, 5))
IDX_A = RNG.integers(0, 3, N)
IDX_C = RNG.integers(0, 5, N)
V5 = RNG.normal(size=(N, 5))


@pytest.mark.parametrize("case", ["first", "middle", "separated", "static", "constant2d",
                                  "row", "expression", "dynamic_x"])
def test_index_forms_match_numpy(case):
    with Graph("g") as g:
        w = StaticVariable("w", shape=(3, 4, 5), distribution="NoDistribution")
        a = Variable("a", dtype="int", distribution="NoDistribution")
        c = Variable("c", dtype="int", distribution="NoDistribution")
        s = StaticVariable("s", shape=(6,), dtype="int", distribution="NoDistribution")
        v = Variable("v", shape=(5,), distribution="NoDistribution")  # one vector per example
        expr, expected = {
            "first": (lambda: w[a], lambda: W3[IDX_A]),
            "middle": (lambda: w[:, 1, c], lambda: W3[:, 1, IDX_C].T),
            "separated": (lambda: w[a, :, c], lambda: W3[IDX_A, :, IDX_C]),
            "static": (lambda: w[s, 2], lambda: np.broadcast_to(
                W3[np.array([0, 2, 1, 1, 0, 2]), 2], (N, 6, 5))),
            "constant2d": (lambda: w[np.array([[0, 1], [2, 0]])][:, :, 3, 4],
                           lambda: np.broadcast_to(W3[np.array([[0, 1], [2, 0]])][:, :, 3, 4],
                                                   (N, 2, 2))),
            "row": (lambda: w[a, 1:3, :], lambda: W3[IDX_A, 1:3, :]),
            "expression": (lambda: w[2 - a, 0, c], lambda: W3[2 - IDX_A, 0, IDX_C]),
            "dynamic_x": (lambda: v[c], lambda: V5[np.arange(N), IDX_C]),
        }[case]
        Variable("d", shape=expected().shape[1:], distribution="Dirac", mean=expr() + 0 * a)
    data = {g.w: W3, g.a: IDX_A, g.c: IDX_C, g.s: [0, 2, 1, 1, 0, 2], g.v: V5}
    values, _ = values_of(g, data, ["g/d"])
    np.testing.assert_allclose(values["g/d"], expected(), rtol=0, atol=0)


def two_entities_indexing(constant_indices=(1, 3)):
    """Two hand-written entities of one structure reading other entries of a shared vector."""
    with Graph("g") as g:
        alpha = StaticVariable("alpha", shape=(K,), mean=0, variance=1)
        for name, k in zip(("e0", "e1"), constant_indices):
            with Entity(name):
                grp = Variable("group", dtype="int", distribution="NoDistribution")
                Variable("y", mean=alpha[grp] + alpha[k], variance=0.5)
    return g


def test_entities_indexing_other_entries_share_one_group():
    g = two_entities_indexing()
    data = {g.e0.group: GROUPS, g.e1.group: GROUPS[::-1], g.e0.y: YS, g.e1.y: -YS}
    spec, lowered = lower(g, data)
    grouped = group(spec)
    ys = grouped.group_of("g/e0/y")
    assert ys.members == ("g/e0/y", "g/e1/y")
    constant = dict(ys.params)["mean"].args[1]  # alpha[k]: k is per-member data
    assert isinstance(constant, GOp) and constant.op == "index"
    assert isinstance(constant.args[1], PerMember)
    assert grouped.arrays[constant.args[1].key].tolist() == [1, 3]
    other = two_entities_indexing((2, 0))  # other constants: the same compiled code
    assert group(lower(other, {other.e0.group: GROUPS, other.e1.group: GROUPS,
                               other.e0.y: YS, other.e1.y: YS})[0]).fingerprint == \
        grouped.fingerprint
    fits = [fitted(MAPFisherModel, g, data, grouping=grouping) for grouping in (True, False)]
    np.testing.assert_allclose(fits[0]._point(["g/alpha"])["g/alpha"],
                               fits[1]._point(["g/alpha"])["g/alpha"], rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(fits[0].get_covariance(["g/alpha"]),
                               fits[1].get_covariance(["g/alpha"]), rtol=1e-8, atol=1e-10)
    # and the exact posterior of alpha
    design = np.zeros((2 * N, K))
    for rows, idx, k in ((slice(0, N), GROUPS, 1), (slice(N, 2 * N), GROUPS[::-1], 3)):
        design[np.arange(2 * N)[rows], idx] += 1
        design[rows, k] += 1
    precision = np.eye(K) + design.T @ design / 0.5
    mean = np.linalg.solve(precision, design.T @ np.r_[YS, -YS] / 0.5)
    np.testing.assert_allclose(fits[0]._point(["g/alpha"])["g/alpha"], mean, rtol=1e-7)


def test_many_hierarchical_groups_compile_to_one_group():
    n_groups = 30
    with Graph("g") as g:
        mu = StaticVariable("mu", mean=0, variance=10)
        alpha = StaticVariable("alpha", shape=(n_groups,), mean=mu, variance=1)
        for i in range(n_groups):
            with Entity(f"school{i}"):
                Variable("y", mean=alpha[i], variance=1.0)
    ys = RNG.normal(size=(n_groups, 3))
    data = {getattr(g, f"school{i}").y: ys[i] for i in range(n_groups)}
    grouped = group(lower(g, data)[0])
    assert len(grouped.groups) == 3  # mu, alpha, every school's y
    fits = [fitted(MAPFisherModel, g, data, grouping=grouping) for grouping in (True, False)]
    np.testing.assert_allclose(fits[0]._point(["g/alpha"])["g/alpha"],
                               fits[1]._point(["g/alpha"])["g/alpha"], rtol=1e-9, atol=1e-9)
    # exact: alpha_i | mu ~ N(mu, 1), three observations of variance 1 each
    prior = 10.0 * np.ones((n_groups + 1, n_groups + 1))
    prior[1:, 1:] += np.eye(n_groups)
    design = np.kron(np.c_[np.zeros(n_groups), np.eye(n_groups)], np.ones((3, 1)))
    precision = np.linalg.inv(prior) + design.T @ design
    mean = np.linalg.solve(precision, design.T @ ys.reshape(-1))
    np.testing.assert_allclose(fits[0]._point(["g/alpha"])["g/alpha"], mean[1:], rtol=1e-7)


# -- errors -------------------------------------------------------------------------------------
def index_graph(dtype="int", distribution="NoDistribution", static=False):
    with Graph("g") as g:
        alpha = StaticVariable("alpha", shape=(3,), mean=0, variance=1)
        kind = StaticVariable if static else Variable
        shape = (5,) if static else ()
        grp = kind("group", shape=shape, dtype=dtype, distribution=distribution)
        Variable("y", shape=shape, mean=alpha[grp], variance=1)
    return g


def test_index_out_of_range_names_variables_range_and_value():
    g = index_graph()
    with pytest.raises(DataError, match=r"'g/y'.*'g/alpha'.*3 entries.*'g/group'.*value 3 "
                                        r"at example 2.*0 \.\. 2"):
        lower(g, {g.group: [0, 1, 3, 2]})
    with pytest.raises(DataError, match=r"value -1 at example 0"):
        lower(g, {g.group: [-1, 1]})
    gs = index_graph(static=True)
    with pytest.raises(DataError, match=r"value 7 at entry \(4,\)"):
        lower(gs, {gs.group: [0, 1, 2, 0, 7]})
    with Graph("c") as c:
        beta = StaticVariable("beta", shape=(2,))
        Variable("y", shape=(1, 2), mean=beta[np.array([[0, 2]])])
    with pytest.raises(DataError, match=r"'c/beta'.*value 2 at entry \(0, 1\)"):
        lower(c)
    with Graph("c") as c:
        beta = StaticVariable("beta", shape=(2,))
        Variable("y", shape=(2,), mean=beta[[0, 2]])
    with pytest.raises(ShapeError, match="index 2 is out of bounds"):
        lower(c)


def test_non_integer_indices_are_errors():
    g = index_graph()
    with pytest.raises(DtypeError, match=r"'g/group'.*whole numbers"):
        lower(g, {g.group: [0, 1.5]})
    with pytest.raises(DtypeError, match=r"'g/x' of dtype 'float'.*dtype='int'"):
        with Graph("g"):
            x = Variable("x")
            StaticVariable("a", shape=(2,))[x]
    with pytest.raises(DtypeError, match="not an array of integers"):
        StaticVariable("a", shape=(2,))[np.array([0.0, 1.0])]
    with pytest.raises(DtypeError, match="not an integer"):
        StaticVariable("a", shape=(2,))[1.0]
    with Graph("e") as e:
        alpha = StaticVariable("alpha", shape=(3,))
        grp = Variable("group", dtype="int", distribution="NoDistribution")
        Variable("y", mean=alpha[grp / 2])
    with pytest.raises(DtypeError, match=r"\(e/group / 2\).*not all integers: 0.5 at example"):
        lower(e, {e.group: [0, 1]})


def test_index_without_data_is_an_error_naming_it():
    g = index_graph(distribution="NormalDistribution")
    with pytest.raises(DataError, match=r"the index 'g/group' has no data.*give data"):
        lower(g)
    with pytest.raises(DataError, match=r"'g/group' has missing \(NaN\) entries"):
        lower(g, {g.group: [0, np.nan]})
    with pytest.raises(ShapeError, match="None and ... cannot be combined"):
        StaticVariable("a", shape=(2,))[..., Variable("i", dtype="int")]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.integers(-4, 7), min_size=1, max_size=12))
def test_random_index_arrays_are_accepted_exactly_when_in_range(indices):
    g = index_graph()
    values = np.asarray(indices)
    bad = (values < 0) | (values >= 3)
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        with pytest.raises(DataError, match=rf"value {values[first]} at example {first} "):
            lower(g, {g.group: values})
    else:
        spec, _ = lower(g, {g.group: values})
        assert spec.variable("g/group").role == "observed"


def test_errors_are_bayesgraph_errors():
    for err in (DataError, DtypeError, ShapeError):
        assert issubclass(err, BayesGraphError)


# -- linear algebra -----------------------------------------------------------------------------
def spd(n, rng):
    a = rng.normal(size=(n, n))
    return a @ a.T + n * np.eye(n)


A = spd(4, RNG)
B = RNG.normal(size=(4, 3))
V = RNG.normal(size=(4,))


@pytest.mark.parametrize("name", ["cholesky", "solve_lower_vector", "solve_upper_matrix",
                                  "logdet", "cumsum", "cumsum_flat", "concatenate", "where",
                                  "where_equal", "kernel", "kernel_ard"])
def test_linear_algebra_against_numpy(name):
    x1, x2 = RNG.normal(size=(5, 2)), RNG.normal(size=(3, 2))
    with Graph("g") as g:
        a = StaticVariable("a", shape=(4, 4), distribution="NoDistribution")
        b = StaticVariable("b", shape=(4, 3), distribution="NoDistribution")
        v = StaticVariable("v", shape=(4,), distribution="NoDistribution")
        expr, expected = {
            "cholesky": (lambda: cholesky(a), lambda: np.linalg.cholesky(A)),
            "solve_lower_vector": (
                lambda: solve_triangular(cholesky(a), v, lower=True),
                lambda: scipy.linalg.solve_triangular(np.linalg.cholesky(A), V, lower=True)),
            "solve_upper_matrix": (
                lambda: solve_triangular(a, b, lower=False),
                lambda: scipy.linalg.solve_triangular(A, B, lower=False)),
            "logdet": (lambda: logdet(a), lambda: np.linalg.slogdet(A)[1]),
            "cumsum": (lambda: cumsum(b, axis=0), lambda: np.cumsum(B, axis=0)),
            "cumsum_flat": (lambda: cumsum(b), lambda: np.cumsum(B)),
            "concatenate": (lambda: concatenate([v, b[:, 0], [1.0]]),
                            lambda: np.concatenate([V, B[:, 0], [1.0]])),
            "where": (lambda: where(greater(v, 0), v, exp(v)),
                      lambda: np.where(V > 0, V, np.exp(V))),
            "where_equal": (lambda: where(equal(b[:, 0] * 0 + cumsum(v * 0 + 1), 2.0), v, 0.0)
                            + less_equal(v, 0.1) + greater_equal(v, -0.1),
                            lambda: np.where(np.arange(1, 5) == 2, V, 0.0) + (V <= 0.1)
                            + (V >= -0.1)),
            "kernel": (lambda: squared_exponential_kernel(x1[:, 0], x2[:, 0], v[0] ** 2, 0.7),
                       lambda: V[0] ** 2 * np.exp(
                           -0.5 * (x1[:, :1] - x2[:, 0]) ** 2 / 0.49)),
            "kernel_ard": (lambda: squared_exponential_kernel(x1, x2, 1.3, np.array([0.5, 2.0])),
                           lambda: 1.3 * np.exp(-0.5 * (
                               ((x1[:, None, :] - x2[None]) / [0.5, 2.0]) ** 2).sum(-1))),
        }[name]
        Variable("d", shape=np.shape(expected()), distribution="Dirac", mean=expr())
        # a latent: ForwardModel.get_samples of a graph without one fails in jax.vmap (a
        # defect of model/base.py's _deterministic, reported)
        StaticVariable("unused")
    data = {g.a: A, g.b: B, g.v: V}
    values, _ = values_of(g, data, ["g/d"])
    want = expected()
    np.testing.assert_allclose(values["g/d"], np.broadcast_to(want, (1, *np.shape(want))),
                               rtol=1e-10, atol=1e-12)
    forward = ForwardModel(g, data=data, seed=0).get_samples(g.d, n_samples=2)
    np.testing.assert_allclose(forward[0], values["g/d"], rtol=1e-12)


def test_linear_algebra_shape_errors_name_the_operands():
    with Graph("g") as g:
        a = StaticVariable("a", shape=(3, 2))
        Variable("d", distribution="Dirac", mean=cholesky(a))
    with pytest.raises(ShapeError, match=r"'mean' of 'g/d'.*Cholesky\(g/a\).*square"):
        lower(g)
    with Graph("s") as s:
        a = StaticVariable("a", shape=(3, 3))
        b = StaticVariable("b", shape=(2,))
        Variable("d", distribution="Dirac", mean=solve_triangular(a, b, lower=True))
    with pytest.raises(ShapeError, match=r"SolveTriangular\(s/a, s/b.*\(3, 3\), \(2,\)"):
        lower(s)
    with pytest.raises(TypeError, match="lower"):
        solve_triangular(np.eye(2), np.ones(2))  # no default: scipy's would be wrong here
    with pytest.raises(ShapeError, match="1 input dimensions, x2 has 2"):
        squared_exponential_kernel(np.ones(3), np.ones((2, 2)))


def test_batched_linear_algebra_over_entities_and_examples():
    """Two hand-written entities of one structure group together; per-example matrices
    (the examples axis) and per-entity matrices (the member axis) are a batch."""
    n = 5
    mats = np.stack([spd(3, RNG) for _ in range(2 * n)]).reshape(2, n, 3, 3)
    rhs = RNG.normal(size=(2, 3))
    with Graph("g") as g:
        for i in range(2):
            with Entity(f"e{i}"):
                m = Variable("m", shape=(3, 3), distribution="NoDistribution")
                r = StaticVariable("r", shape=(3,), distribution="NoDistribution")
                low = cholesky(m)
                Variable("sol", shape=(3,), distribution="Dirac",
                         mean=solve_triangular(low, r, lower=True))
                Variable("ld", distribution="Dirac", mean=logdet(m) + cumsum(r)[2])
    data = {}
    for i in range(2):
        e = getattr(g, f"e{i}")
        data.update({e.m: mats[i], e.r: rhs[i]})
    names = [f"g/e{i}/{v}" for i in range(2) for v in ("sol", "ld")]
    grouped_values, grouped = values_of(g, data, names)
    assert grouped.group_of("g/e0/sol").members == ("g/e0/sol", "g/e1/sol")
    reference, _ = values_of(g, data, names, grouping=False)
    for i in range(2):
        chol = np.linalg.cholesky(mats[i])
        want = np.stack([scipy.linalg.solve_triangular(c, rhs[i], lower=True) for c in chol])
        np.testing.assert_allclose(grouped_values[f"g/e{i}/sol"], want, rtol=1e-10)
        np.testing.assert_allclose(grouped_values[f"g/e{i}/ld"],
                                   np.linalg.slogdet(mats[i])[1] + rhs[i].sum(), rtol=1e-10)
        for v in ("sol", "ld"):
            np.testing.assert_allclose(grouped_values[f"g/e{i}/{v}"],
                                       reference[f"g/e{i}/{v}"], rtol=1e-12)


# -- GP regression ------------------------------------------------------------------------------
T = np.linspace(0, 5, 12)
F_TRUE = np.sin(T)
Y_GP = F_TRUE + 0.2 * np.random.default_rng(3).normal(size=T.size)


def se_kernel(t, variance, lengthscale):
    return variance * np.exp(-0.5 * (t[:, None] - t[None]) ** 2 / lengthscale**2)


def test_gp_regression_latent_function_is_the_exact_posterior():
    """f = cholesky(K) @ z with z ~ N(0, I) (non-centred GP prior), y ~ N(f, 0.04):
    MAP-Fisher's posterior of z, and so of f, is the exact GP posterior."""
    n, noise = T.size, 0.04
    with Graph("gp") as gp:
        kernel = squared_exponential_kernel(T, T, 1.5, 0.8) + 1e-8 * np.eye(n)
        z = StaticVariable("z", shape=(n,), mean=0, variance=1)
        f = StaticVariable("f", shape=(n,), distribution="Dirac", mean=cholesky(kernel) @ z)
        Variable("y", shape=(n,), mean=f, variance=noise)
    fit = fitted(MAPFisherModel, gp, {gp.y: Y_GP[None]})
    kmat = se_kernel(T, 1.5, 0.8) + 1e-8 * np.eye(n)
    chol = np.linalg.cholesky(kmat)
    precision = np.eye(n) + chol.T @ chol / noise
    z_mean = np.linalg.solve(precision, chol.T @ Y_GP / noise)
    np.testing.assert_allclose(fit._point(["gp/z"])["gp/z"], z_mean, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(fit.get_covariance(["gp/z"]), np.linalg.inv(precision),
                               rtol=1e-6, atol=1e-9)
    gp_mean = kmat @ np.linalg.solve(kmat + noise * np.eye(n), Y_GP)  # textbook GP posterior
    np.testing.assert_allclose(fit._point(["gp/f"])["gp/f"], gp_mean, rtol=1e-6, atol=1e-6)


def test_gp_marginal_likelihood_hyperparameters_by_map():
    """The GP marginal likelihood written with cholesky, solve_triangular and logdet:
    log N(y; 0, C) = -|L^-1 y|^2 / 2 - logdet(C) / 2 + const, C = K(l, s) + noise I.
    The first term is an observed Normal (data 0, mean L^-1 y), the second an observed
    Normal at 0 with mean 0 and variance exp(logdet(C)) (its log-density is
    -logdet(C) / 2 + const). MAP of (log l, log s) equals scipy's optimum of the same
    closed form."""
    n, noise = T.size, 0.04
    with Graph("gp") as gp:
        log_l = StaticVariable("log_l", mean=0, variance=1)
        log_s = StaticVariable("log_s", mean=0, variance=1)
        cov = squared_exponential_kernel(T, T, exp(2 * log_s), exp(log_l)) + noise * np.eye(n)
        low = cholesky(cov)
        StaticVariable("white", shape=(n,), mean=solve_triangular(low, Y_GP, lower=True),
                       variance=1)
        StaticVariable("det", mean=0, variance=exp(logdet(cov)))
    fit = fitted(MAPModel, gp, {gp.white: np.zeros(n), gp.det: 0.0})

    def negative_log_posterior(theta):
        log_l, log_s = theta
        c = se_kernel(T, np.exp(2 * log_s), np.exp(log_l)) + noise * np.eye(n)
        chol = np.linalg.cholesky(c)
        white = scipy.linalg.solve_triangular(chol, Y_GP, lower=True)
        return 0.5 * white @ white + np.log(np.diag(chol)).sum() + 0.5 * (theta @ theta)

    best = scipy.optimize.minimize(negative_log_posterior, np.zeros(2), method="BFGS",
                                   options={"gtol": 1e-10})
    got = np.array([fit._point([v])[v] for v in ("gp/log_l", "gp/log_s")]).ravel()
    np.testing.assert_allclose(got, best.x, atol=1e-5)


def test_gradients_flow_through_index_and_linear_algebra():
    """d/dtheta of the program's log-density equals the finite difference (x64)."""
    with Graph("g") as g:
        s = StaticVariable("s", mean=1.0, variance=1)
        alpha = StaticVariable("alpha", shape=(3,), mean=0, variance=1)
        grp = Variable("group", dtype="int", distribution="NoDistribution")
        cov = squared_exponential_kernel(np.arange(3.0), np.arange(3.0), exp(s), 1.0) \
            + np.eye(3)
        Variable("y", mean=alpha[grp] + logdet(cov) + solve_triangular(
            cholesky(cov), alpha, lower=True)[grp], variance=1)
    data = {g.group: GROUPS % 3, g.y: YS}
    spec, lowered = lower(g, data)
    grouped = group(spec)
    program = Program(grouped)
    args = program.data_args(group_data(grouped, lowered))
    u = {site.name: jnp.asarray(RNG.normal(size=site.shape)) for site in program.latent_sites}

    def f(values):
        return program.log_density(values, args)

    grad = jax.grad(f)(u)
    for name, value in u.items():
        flat = np.asarray(value).reshape(-1)
        for i in range(flat.size):
            step = np.zeros_like(flat)
            step[i] = 1e-6
            up = {**u, name: jnp.asarray((flat + step).reshape(value.shape))}
            down = {**u, name: jnp.asarray((flat - step).reshape(value.shape))}
            numeric = (f(up) - f(down)) / 2e-6
            np.testing.assert_allclose(np.asarray(grad[name]).reshape(-1)[i], numeric,
                                       rtol=1e-5, atol=1e-6)


ENTRY = st.sampled_from(["slice", "int", "constant", "dynamic", "static"])


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(ENTRY, min_size=1, max_size=3), st.integers(0, 2**31))
@example(["slice", "static"], 0)  # the broadcast block moves behind the leading slice
@example(["slice", "constant", "dynamic"], 1)
@example(["dynamic", "slice", "static"], 2)  # separated: the block comes first
@example(["static", "int", "slice"], 3)
def test_random_index_keys_match_numpy_per_example_and_member(kinds, seed):
    """Keys mixing slices, integers, constant arrays and variable indices (per example or
    static), in two entities that group together (member axis) and per variable."""
    rng = np.random.default_rng(seed)
    n, shape = 6, (3, 4, 5)
    ws = rng.normal(size=(2, *shape))
    dyn = [rng.integers(0, 3, n) for _ in range(2)]  # valid for every axis (>= 3 entries)
    sta = [rng.integers(0, 3, 2) for _ in range(2)]
    const = rng.integers(0, 3, 2)
    integer = int(rng.integers(0, 3))
    with Graph("g") as g:
        for e in range(2):
            with Entity(f"e{e}"):
                w = StaticVariable("w", shape=shape, distribution="NoDistribution")
                a = Variable("a", dtype="int", distribution="NoDistribution")
                s = StaticVariable("s", shape=(2,), dtype="int", distribution="NoDistribution")
                pick = {"slice": slice(None), "int": integer, "constant": const,
                        "dynamic": a, "static": s}
                expr = w[tuple(pick[k] for k in kinds)]
                per_example = [
                    ws[e][tuple({"slice": slice(None), "int": integer, "constant": const,
                                 "dynamic": dyn[e][i], "static": sta[e]}[k] for k in kinds)]
                    for i in range(n)]
                expected = np.stack(per_example)
                Variable("d", shape=expected.shape[1:], distribution="Dirac",
                         mean=expr + 0 * a)
                if e == 0:
                    want = [expected]
                else:
                    want.append(expected)
    data = {}
    for e in range(2):
        ent = getattr(g, f"e{e}")
        data.update({ent.w: ws[e], ent.a: dyn[e], ent.s: sta[e]})
    names = ["g/e0/d", "g/e1/d"]
    for grouping in (True, False):
        values, grouped = values_of(g, data, names, grouping=grouping)
        if grouping:
            assert grouped.group_of("g/e0/d").members == tuple(names)
        for e, name in enumerate(names):
            np.testing.assert_array_equal(values[name], want[e])


def test_mgvi_on_alpha_of_group_is_exact():
    """MGVI is exact on linear-Gaussian graphs: the index path gives the exact posterior."""
    from bayesgraph.core.model import MGVIModel

    mean, cov = exact_posterior()
    h, data = varying_intercepts_and_slopes(one_hot=False)
    fit = fitted(MGVIModel, h, data)
    got = np.concatenate([np.atleast_1d(fit.get_means(v)) for v in (h.mu, h.alpha, h.beta)])
    np.testing.assert_allclose(got, mean, rtol=1e-6, atol=1e-6)


@pytest.mark.slow
def test_mcmc_on_alpha_of_group_matches_the_exact_posterior():
    from bayesgraph.core.model import MCMCModel

    mean, cov = exact_posterior()
    h, data = varying_intercepts_and_slopes(one_hot=False)
    fit = MCMCModel(h, data=data, seed=0, num_samples=1000, num_warmup=1000).solve()
    draws = np.concatenate([np.asarray(fit.get_samples(v, n_samples=1000)).reshape(1000, -1)
                            for v in (h.mu, h.alpha, h.beta)], axis=1)
    sd = np.sqrt(np.diag(cov))
    assert np.max(np.abs(draws.mean(0) - mean) / sd) < 0.25  # Monte Carlo error ~0.05 sd
    assert np.allclose(draws.std(0), sd, rtol=0.15)


def test_gp_with_multivariate_normal_and_the_kernel():
    """The same GP written with MultivariateNormal: (a) latent f ~ MVN(0, K), y ~ N(f, noise)
    gives the textbook posterior of f; (b) y ~ MVN(0, K(l, s) + noise I) with latent
    hyper-parameters gives the same MAP as the cholesky/solve_triangular/logdet version
    (scipy's optimum of the closed form)."""
    n, noise = T.size, 0.04
    with Graph("gp") as gp:
        kernel = squared_exponential_kernel(T, T, 1.5, 0.8) + 1e-8 * np.eye(n)
        f = StaticVariable("f", shape=(n,), distribution="MultivariateNormal",
                           covariance=kernel)
        Variable("y", shape=(n,), mean=f, variance=noise)
    fit = fitted(MAPFisherModel, gp, {gp.y: Y_GP[None]})
    kmat = se_kernel(T, 1.5, 0.8) + 1e-8 * np.eye(n)
    solve = np.linalg.solve(kmat + noise * np.eye(n), np.c_[Y_GP, kmat])
    np.testing.assert_allclose(fit._point(["gp/f"])["gp/f"], kmat @ solve[:, 0], atol=1e-6)
    np.testing.assert_allclose(fit.get_covariance(["gp/f"]), kmat - kmat @ solve[:, 1:],
                               atol=1e-6)

    with Graph("marginal") as marginal:
        log_l = StaticVariable("log_l", mean=0, variance=1)
        log_s = StaticVariable("log_s", mean=0, variance=1)
        cov = squared_exponential_kernel(T, T, exp(2 * log_s), exp(log_l)) + noise * np.eye(n)
        StaticVariable("y", shape=(n,), distribution="MultivariateNormal",
                       cholesky_factor=cholesky(cov))
    fit = fitted(MAPModel, marginal, {marginal.y: Y_GP})

    def negative_log_posterior(theta):
        c = se_kernel(T, np.exp(2 * theta[1]), np.exp(theta[0])) + noise * np.eye(n)
        return -scipy.stats.multivariate_normal(np.zeros(n), c).logpdf(Y_GP) + 0.5 * theta @ theta

    best = scipy.optimize.minimize(negative_log_posterior, np.zeros(2), method="BFGS",
                                   options={"gtol": 1e-10})
    got = np.array([fit._point([v])[v] for v in ("marginal/log_l", "marginal/log_s")]).ravel()
    np.testing.assert_allclose(got, best.x, atol=1e-5)


# -- indexing by an unobserved discrete variable (a mixture's mu[z]) -----------------------------
def mixture_graph(k_components=2, k_means=2):
    with Graph("mix") as g:
        w = StaticVariable("w", shape=(k_components,), distribution="Dirichlet",
                           concentration=[2.0] * k_components)
        mu = StaticVariable("mu", shape=(k_means,), mean=0.0, variance=25.0)
        sigma = StaticVariable("sigma", distribution="HalfNormal", scale=2.0)
        z = Variable("z", dtype="int", distribution="Categorical", probabilities=w)
        Variable("y", mean=mu[z], variance=sigma**2)
    return g


def _mixture_log_density(ys, z, w, mu, sigma):
    rows = np.log(w)[None, :] + scipy.stats.norm.logpdf(ys[:, None], mu[None, :], sigma)
    known = ~np.isnan(z)
    likelihood = (scipy.special.logsumexp(rows[~known], axis=1).sum()
                  + rows[known, z[known].astype(int)].sum())
    return (likelihood + scipy.stats.dirichlet.logpdf(w, [2.0, 2.0])
            + scipy.stats.norm.logpdf(mu, 0, 5).sum()
            + scipy.stats.halfnorm.logpdf(sigma, scale=2.0))


@pytest.mark.parametrize("labels", [None, [np.nan, 0, np.nan, 1, np.nan, np.nan]])
def test_mixture_indexed_by_a_latent_category_has_the_marginal_mixture_density(labels):
    """MCMC sums z out: its log-density is sum_i log sum_k w_k N(y_i | mu_k, sigma) (with
    some labels known: their term; the enumeration then adds a constant, so differences
    between two points are compared)."""
    from numpyro.infer.util import log_density

    from bayesgraph.core.model import MCMCModel

    g = mixture_graph()
    ys = np.array([-2.1, -1.5, 2.3, 1.8, 2.6, -0.2])
    z = np.full(len(ys), np.nan) if labels is None else np.array(labels)
    model = MCMCModel(g, data={g.y: ys} if labels is None else {g.y: ys, g.z: z}, seed=0)
    shapes = {site.name: site.shape for site in model.program.latent_sites}

    def got(w, mu, sigma):
        point = {name: jnp.asarray(value).reshape(shapes[name])  # a leading member axis
                 for name, value in {"mix/w": w, "mix/mu": mu, "mix/sigma": sigma}.items()}
        with jax.enable_x64(True):
            return float(log_density(model._enumeration.marginal_model, (model._data,), {},
                                     point)[0])

    a = (np.array([0.3, 0.7]), np.array([-1.8, 2.2]), 0.9)
    b = (np.array([0.6, 0.4]), np.array([0.5, -1.0]), 1.7)
    if labels is None:
        assert got(*a) == pytest.approx(_mixture_log_density(ys, z, *a), rel=1e-10)
    assert got(*a) - got(*b) == pytest.approx(
        _mixture_log_density(ys, z, *a) - _mixture_log_density(ys, z, *b), rel=1e-10)


def test_latent_index_with_more_categories_than_entries_is_an_error():
    g = mixture_graph(k_components=3, k_means=2)
    with pytest.raises(DataError, match=r"'mix/mu', which has 2 entries, with 'mix/z', an "
                                        r"unobserved discrete variable with 3 values"):
        lower(g, {g.y: [0.0, 1.0]})


def test_latent_index_is_refused_by_gradient_methods_and_drawn_by_forward():
    from bayesgraph.core.model import ForwardModel, MAPModel
    from bayesgraph.exceptions import DiscreteLatentError

    g = mixture_graph()
    with pytest.raises(DiscreteLatentError, match="MCMCModel"):
        MAPModel(g, data={g.y: [0.0, 1.0]})
    model = ForwardModel(g, data={g.w: [0.5, 0.5], g.mu: [-100.0, 100.0], g.sigma: 0.01},
                         seed=0)
    z, y = model.get_samples([g.z, g.y], n_samples=50)
    np.testing.assert_allclose(y, np.where(z == 0, -100.0, 100.0), atol=0.1)
