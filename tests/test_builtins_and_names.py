"""Small fixes found while trying links and time series as a user (issue 13 item 5)."""

from __future__ import annotations

import numpy as np
import pytest

from bayesgraph.core import Entity, Graph, StaticVariable, Variable
from bayesgraph.core.lowering import lower
from bayesgraph.core.model import ForwardModel, MAPModel
from bayesgraph.exceptions import DtypeError, ScopeError


def test_star_import_keeps_the_builtins_working():
    namespace: dict = {}
    exec("from bayesgraph.core import *", namespace)
    assert "sum" in namespace and "max" in namespace  # the expression builders are there
    ev = lambda text: eval(text, namespace)  # noqa: E731
    assert ev("sum(range(5))") == 10
    assert ev("sum([0.5, 0.25], 1)") == 1.75
    assert ev("sum(x * x for x in range(4))") == 14
    assert ev("max(3, 7, 5)") == 7 and ev("max([3, 7])") == 7 and ev("max('abc')") == "c"
    assert ev("min(3, 7) ") == 3 and ev("min([], default=-1)") == -1
    assert ev("max([1, 5], key=lambda v: -v)") == 1
    assert ev("abs(-2.5)") == 2.5 and ev("pow(2, 10)") == 1024 and ev("pow(2, 10, 1000)") == 24
    np.testing.assert_array_equal(ev("sum(__import__('numpy').ones((2, 3)))"), [2.0, 2.0, 2.0])


def test_sum_of_a_generator_of_expressions_is_their_sum():
    from bayesgraph.core import sum as bg_sum

    with Graph("g") as g:
        b = StaticVariable("b", shape=(3,), mean=0, variance=1)
        x = Variable("x", shape=(3,), mean=0, variance=1)
        Variable("y1", mean=bg_sum(b[i] * x[i] for i in range(3)), variance=1)
        Variable("y2", mean=bg_sum(b * x), variance=1)
    data = {g.b: [1.0, 2.0, 3.0], g.x: [[1.0, 1.0, 1.0], [0.0, 1.0, 2.0]],
            g.y1: [0.0, 0.0], g.y2: [0.0, 0.0]}
    # both means equal b . x per example: 6 and 8
    spec, _ = lower(g, data)
    assert spec.variable("g/y1").parents == spec.variable("g/y2").parents
    fm = ForwardModel(g, data={g.b: [1.0, 2.0, 3.0], g.x: data[g.x]}, seed=0)
    y1, y2 = fm.get_means([g.y1, g.y2], n_samples=4000)
    np.testing.assert_allclose(y1, [6.0, 8.0], atol=0.15)
    np.testing.assert_allclose(y2, [6.0, 8.0], atol=0.15)
    # max/min of several expressions: elementwise
    from bayesgraph.core import max as bg_max
    from bayesgraph.core import min as bg_min

    assert bg_max(x[0], 0.0).op == "maximum" and bg_min(x[0], x[1], 1.0).op == "minimum"
    assert bg_max(x).op == "max" and bg_max(x, axis=0).kwargs == {"axis": 0}


def test_an_int_variable_holds_whole_numbers_in_every_draw():
    with Graph("g") as g:
        z = Variable("z", mean=0, variance=4)
        k = Variable("k", dtype="int", distribution="Dirac", mean=z * 1.7)
        Variable("child", distribution="Dirac", mean=k * 1.0)
        Variable("flag", dtype="bool", distribution="Dirac", mean=z * 0.3)
    model = ForwardModel(g, seed=1)
    draws = model.get_samples([g.k, g.child, g.z, g.flag], n_samples=200)
    k_draws, child, z_draws, flag = (np.asarray(d) for d in draws)
    assert np.all(child == np.round(child)), "the child saw a non-integer value of k"
    np.testing.assert_array_equal(k_draws, np.round(1.7 * z_draws))
    assert set(np.unique(flag).tolist()) <= {0, 1}


def test_a_continuous_int_variable_without_data_is_refused():
    with Graph("g") as g:
        Variable("count", dtype="int", mean=3, variance=1)  # Normal: continuous
    with pytest.raises(DtypeError, match="'g/count' has dtype 'int'.*continuous"):
        lower(g)
    with pytest.raises(DtypeError, match="missing"):
        lower(g, {g.count: [1.0, np.nan]})
    spec, _ = lower(g, {g.count: [1.0, 2.0]})  # observed: fine
    assert spec.variable("g/count").role == "observed"


@pytest.mark.parametrize("name", ["name", "scope", "children", "copy", "get_template"])
def test_a_child_named_like_an_attribute_is_refused(name):
    with Graph("g") as g:
        with pytest.raises(ScopeError, match=f"{name!r}.*own attribute"):
            Variable(name)
        with Entity("e") as e:
            with pytest.raises(ScopeError, match="choose another name"):
                Variable(name)
        Variable("fine", mean=0, variance=1)
    assert name not in g.children and name not in e.children
    assert MAPModel(g).solve().get_means(g.fine) == pytest.approx([0.0], abs=1e-8)
