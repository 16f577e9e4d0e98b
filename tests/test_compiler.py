"""The compiled program agrees with numpyro and with numpy on every mode."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from numpyro.infer.util import log_density, potential_energy

from bayesgraph.core import Graph, StaticVariable, Variable, exp, matmul, softplus
from bayesgraph.core import sum as bg_sum
from bayesgraph.core.compiler import Program
from bayesgraph.core.compiler.program import NumpyroEmitter, ValueEmitter
from bayesgraph.core.lowering import group, group_data, lower


@pytest.fixture(autouse=True)
def x64():
    with jax.enable_x64(True):
        yield


def compiled(graph, data=None, grouping=True):
    """The program of ``graph`` and its data arguments."""
    spec, lowered = lower(graph, data)
    grouped = group(spec, grouping=grouping)
    program = Program(grouped)
    return program, program.data_args(group_data(grouped, lowered))


def mixed_graph():
    with Graph("g") as g:
        s = StaticVariable("s", shape=(2,), mean=[0.5, -0.5], variance=2.0)
        scale = StaticVariable("scale", distribution="LogNormal", mean_log=0.0,
                               variance_log=0.3)
        z = Variable("z", mean=s[0], variance=1.5)
        Variable("lap", distribution="Laplace", mean=z, variance=2.0)
        Variable("pos", distribution="Exponential", rate=softplus(z) + 0.5)
        Variable("u", distribution="Uniform", center=s[1], width=4.0)
        Variable("w", shape=(2,), mean=z * s + 1.0, variance=scale)
        Variable("flag", distribution="Bernoulli", logit=z)
        Variable("count", distribution="Poisson", log_mean=0.3 * z)
        Variable("cat", distribution="Categorical", logits=exp(z) * np.array([0.0, 1.0, -1.0]))
        Variable("det", distribution="Dirac", mean=bg_sum(s) + z)
    return g


@pytest.mark.parametrize("grouping", [True, False])
def test_log_density_matches_numpyro(grouping):
    g = mixed_graph()
    data = {
        g.lap: [0.3, np.nan, -1.0],
        g.pos: [np.nan, 1.2, 0.4],
        g.u: [0.0, 0.1, np.nan],
        g.w: [[1.0, np.nan], [0.0, 1.0], [np.nan, np.nan]],
        g.flag: [1, 0, 1],
        g.count: [0, 3, 1],
        g.cat: [2, 0, 1],
    }
    program, args = compiled(g, data, grouping)
    start = program.central_latents(args)
    key = jax.random.PRNGKey(0)
    unconstrained = {k: v + 0.1 * jax.random.normal(key, jnp.shape(v))
                     for k, v in program.unconstrain(start, args).items()}
    constrained = program.constrain(unconstrained, args)
    ours = program.log_density(unconstrained, args, jacobian=False, skip_fixed=False)
    with_all = lambda data: program.execute(data, NumpyroEmitter(3, skip_fixed=False))  # noqa: E731
    theirs = log_density(with_all, (args,), {}, constrained)[0]
    np.testing.assert_allclose(ours, theirs, rtol=1e-12)
    ours_u = program.log_density(unconstrained, args, jacobian=True, skip_fixed=False)
    theirs_u = -potential_energy(with_all, (args,), {}, unconstrained)
    np.testing.assert_allclose(ours_u, theirs_u, rtol=1e-12)
    # skipping fixed terms only drops constants
    other = {k: v + 0.3 for k, v in unconstrained.items()}
    diff_full = (program.log_density(other, args, skip_fixed=False)
                 - program.log_density(unconstrained, args, skip_fixed=False))
    diff_skip = (program.log_density(other, args)
                 - program.log_density(unconstrained, args))
    np.testing.assert_allclose(diff_full, diff_skip, rtol=1e-10)


def test_missing_entries_are_their_own_sites():
    g = mixed_graph()
    program, args = compiled(g, {g.w: [[1.0, np.nan], [np.nan, np.nan]]})
    site = program.site_of("g/w")
    assert site.name == "g/w/missing" and site.shape == (3,) and site.partial
    latents = program.central_latents(args)
    latents["g/w/missing"] = jnp.array([7.0, 8.0, 9.0])
    values = program.values_at(latents, args)
    np.testing.assert_array_equal(program.variable_value(values, "g/w"),
                                  [[1.0, 7.0], [8.0, 9.0]])


def test_operators_per_example_match_numpy():
    with Graph("g") as g:
        m = StaticVariable("m", shape=(2, 3))
        x = Variable("x", shape=(3,))
        c = Variable("c")
        Variable("y", shape=(2,), mean=matmul(m, x) * c + x[0] - bg_sum(x, axis=0),
                 variance=1.0)
        Variable("d", distribution="Dirac", mean=bg_sum(x[1:] * x[1:]) + c)
    rng = np.random.default_rng(0)
    mv, xv, cv = rng.normal(size=(2, 3)), rng.normal(size=(4, 3)), rng.normal(size=4)
    program, args = compiled(g, {g.m: mv, g.x: xv, g.c: cv})
    env = program.execute(args, ValueEmitter({"g/y": jnp.zeros((1, 4, 2))}))
    expected_d = np.array([np.sum(xv[i, 1:] ** 2) + cv[i] for i in range(4)])
    np.testing.assert_allclose(program.variable_value(env, "g/d"), expected_d, rtol=1e-12)
    group_y, _ = program.locate("g/y")
    params = program._parameters(group_y, env, args)
    expected = np.array([mv @ xv[i] * cv[i] + xv[i, 0] - xv[i].sum() for i in range(4)])
    np.testing.assert_allclose(params["mean"][0], expected, rtol=1e-12)


def test_forward_sampling_clamps_data():
    with Graph("g") as g:
        a = Variable("a", mean=0, variance=1)
        Variable("b", mean=a, variance=1e-12)
    program, args = compiled(g, {g.a: [3.0, np.nan]})
    draw = program.sample(jax.random.PRNGKey(1), args)
    a, b = program.variable_value(draw, "g/a"), program.variable_value(draw, "g/b")
    assert float(a[0]) == 3.0
    np.testing.assert_allclose(b, a, atol=1e-4)
