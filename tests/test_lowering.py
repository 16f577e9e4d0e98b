"""Lowering to the frozen spec: order, shapes, roles, and every input error."""

import numpy as np
import pytest

from bayesgraph.core import (
    DataLinker,
    Entity,
    Graph,
    StaticVariable,
    Variable,
    get_data_linker,
    matmul,
)
from bayesgraph.core.lowering import lower
from bayesgraph.exceptions import (
    CyclicGraphError,
    DataError,
    DistributionError,
    DtypeError,
    GraphStructureError,
    MissingVariableError,
    ShapeError,
)


def regression():
    with Graph("lr") as lr:
        a = StaticVariable("a", mean=0, variance=1)
        b = StaticVariable("b", mean=0, variance=1)
        x = Variable("x", mean=0, variance=9)
        Variable("y", mean=a * x + b, variance=0.25)
    return lr


def test_topological_order_and_roles():
    with Graph("g") as g:
        y = Variable("y")
        x = Variable("x")
    y.mean = 2 * x  # defined before its parent: the order follows dependencies
    spec, data = lower(g, {g.y: [1.0, np.nan, 3.0]})
    assert spec.names == ("g/x", "g/y")
    assert spec.variable("g/y").role == "partial"
    assert spec.variable("g/y").n_missing == 1
    assert data.missing["g/y"].tolist() == [1]
    assert data.values["g/y"].tolist() == [1.0, 0.0, 3.0]
    assert spec.n_data == 3


def test_fixed_density_flags():
    lr = regression()
    spec, _ = lower(lr, {lr.x: [1.0, 2.0], lr.y: [1.0, 2.0]})
    assert spec.variable("lr/x").density_is_fixed  # observed, constant parameters
    assert not spec.variable("lr/y").density_is_fixed  # depends on latent a, b


def test_cycle_is_rejected_with_path():
    with Graph("g") as g:
        a = Variable("a")
        b = Variable("b", mean=a)
        c = Variable("c", mean=b)
    a.mean = c
    with pytest.raises(CyclicGraphError, match="'g/a' -> 'g/c' -> 'g/b' -> 'g/a'|cycle"):
        lower(g)


def test_reference_outside_graph():
    outside = Variable("outside")
    with Graph("g") as g:
        Variable("v", mean=outside)
    with pytest.raises(GraphStructureError, match="reads 'outside', which is not part of 'g'"):
        lower(g)


def test_shape_errors():
    with Graph("g") as g:
        Variable("v", shape=(3,), mean=[1.0, 2.0])
    with pytest.raises(ShapeError, match="parameter 'mean' of 'g/v' has shape \\(2,\\)"):
        lower(g)
    with Graph("h") as h:
        x = Variable("x")
        StaticVariable("s", mean=x)
    with pytest.raises(ShapeError, match="StaticVariable 'h/s' .* depends on a dynamic"):
        lower(h)
    with Graph("k") as k:
        m = StaticVariable("m", shape=(2, 3))
        Variable("w", shape=(2,), mean=matmul(m, np.ones(4)))
    with pytest.raises(ShapeError, match="cannot be computed for operand shapes"):
        lower(k)


def test_vector_shapes_lower():
    with Graph("k") as k:
        m = StaticVariable("m", shape=(2, 3))
        x = Variable("x", shape=(3,))
        Variable("w", shape=(2,), mean=matmul(m, x) + x[0], variance=1)
    spec, _ = lower(k, DataLinker(n_data=4))
    w_mean = spec.variable("k/w").param_dict["mean"]
    assert w_mean.shape == (2,) and w_mean.dynamic


def test_categorical_needs_probabilities():
    with Graph("g") as g:
        Variable("c", distribution="CategoricalDistribution")
    with pytest.raises(DistributionError, match="needs one of probabilities, logits"):
        lower(g)


@pytest.mark.parametrize(
    ("data", "error", "message"),
    [
        ({"lr/zzz": [1.0]}, MissingVariableError, "data given for 'lr/zzz', which is not a var"),
        ({"x": [[1.0, 2.0]]}, DataError, "= \\(n_data,\\) with the examples on the first"),
        ({"x": [1.0, 2.0], "y": [1.0]}, DataError, "inconsistent number of examples"),
        ({"x": ["a", "b"]}, DataError, "must be numeric"),
        ({"x": [1.0, np.inf]}, DataError, "infinite values"),
        ({"a": [1.0, 2.0]}, DataError, "StaticVariable 'lr/a' have shape \\(2,\\)"),
    ],
)
def test_data_errors(data, error, message):
    lr = regression()
    with pytest.raises(error, match=message):
        lower(lr, data)
    # the graph stays usable after a bad call
    spec, _ = lower(lr, {lr.x: [1.0], lr.y: [2.0]})
    assert spec.n_data == 1


def test_data_against_dtype_and_support():
    with Graph("g") as g:
        Variable("flag", distribution="Bernoulli", mean=0.3)
        Variable("count", distribution="Poisson", mean=2.0)
        Variable("pos", distribution="LogNormal")
        Variable("cat", distribution="Categorical", probabilities=[0.2, 0.8])
        Variable("u", distribution="Uniform", center=0.0, width=2.0)
    with pytest.raises(DtypeError, match="bool variable 'g/flag'"):
        lower(g, {g.flag: [0.0, 0.5]})
    with pytest.raises(DtypeError, match="int variable 'g/count'"):
        lower(g, {g.count: [1.5]})
    with pytest.raises(DataError, match="must be > 0"):
        lower(g, {g.pos: [0.0]})
    with pytest.raises(DataError, match="must lie in 0 .. 1"):
        lower(g, {g.cat: [2]})
    with pytest.raises(DataError, match="UniformDistribution"):
        lower(g, {g.u: [1.5]})
    spec, data = lower(g, {g.flag: [True, np.nan], g.count: [3, 0], g.cat: [1, 0]})
    assert spec.variable("g/flag").role == "partial"
    assert data.values["g/flag"].tolist() == [1.0, 0.0]


def test_n_data_and_linkers():
    lr = regression()
    spec, _ = lower(lr, get_data_linker({lr.a: 0.5}, n_data=7))
    assert spec.n_data == 7 and spec.variable("lr/a").role == "observed"
    with pytest.raises(DataError, match="inconsistent number of examples"):
        lower(lr, DataLinker(n_data=3, data={lr.x: [1.0, 2.0]}))
    with pytest.warns(UserWarning, match="all data for 'lr/x' are NaN"):
        spec, _ = lower(lr, {lr.x: [np.nan, np.nan]})
    assert spec.variable("lr/x").role == "latent"
    with pytest.raises(DataError, match="positive integer"):
        DataLinker(n_data=0)


def test_entity_as_model_root():
    with Entity("e") as e:
        Variable("a")
    spec, _ = lower(e)
    assert spec.root_name == "e" and spec.names == ("e/a",)
