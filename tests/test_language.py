"""The modelling language: scopes, names, children, templates, copies, parameters, printing."""

import textwrap

import numpy as np
import pytest

from bayesgraph.core import (
    Entity,
    Graph,
    StaticVariable,
    Variable,
    exp,
    print_child_tree,
    render_text,
    show,
)
from bayesgraph.core import sum as bg_sum
from bayesgraph.core.distribution import (
    BernoulliDistribution,
    LogNormalDistribution,
    NormalDistribution,
)
from bayesgraph.core.operator import operators
from bayesgraph.exceptions import (
    BayesGraphError,
    DistributionError,
    DtypeError,
    DuplicateNameError,
    ExpressionError,
    GraphStructureError,
    ScopeError,
    UnknownDistributionError,
    UnknownParameterError,
)


def family_graph():
    with Entity("woman") as woman:
        Variable("genetic_factor", shape=(), mean=0, variance=75)
        Variable("height", shape=(), mean=167 + genetic_factor, variance=25)  # noqa: F821
    Woman = woman.get_template("Woman")
    with Entity("man") as man:
        Variable("genetic_factor", shape=(), mean=0, variance=75)
        Variable("height", shape=(), mean=175 + genetic_factor, variance=25)  # noqa: F821
    Man = man.get_template("Man")
    with Graph("family") as family:
        alice = Woman("alice")
        bob = Man("bob")
        harry = Man("harry")
        sally = Woman("sally")
    with family:
        for child in (harry, sally):
            child.genetic_factor.mean = (alice.genetic_factor + bob.genetic_factor) / 2
            child.genetic_factor.variance = 37.5
    return family


def test_family_names_and_structure():
    family = family_graph()
    assert [v.global_name for v in family.get_all_variables()] == [
        f"family/{p}/{v}" for p in ("alice", "bob", "harry", "sally")
        for v in ("genetic_factor", "height")
    ]
    assert family.sally.genetic_factor.name == "genetic_factor"
    assert family.sally.scope is family
    assert set(family.children) == {"inputs", "outputs", "alice", "bob", "harry", "sally"}
    deps = family.get_all_variable_dependencies()
    assert deps["family/sally/genetic_factor"] == {"family/alice/genetic_factor",
                                                   "family/bob/genetic_factor"}
    assert deps["family/bob/height"] == {"family/bob/genetic_factor"}
    # template instances are independent: different objects, same structure
    assert family.alice.height is not family.sally.height
    assert family.alice.height.get_parents() == [family.alice.genetic_factor]
    assert float(family.bob.height.mean.value.args[0]) == 175.0


def test_bare_names_module_level_and_functions():
    # module level (exec with one namespace, like a notebook cell)
    namespace: dict = {}
    exec(textwrap.dedent("""
        from bayesgraph.core import Graph, Variable
        with Graph("g") as g:
            Variable("z", mean=0, variance=1)
            Variable("x", mean=z + 1, variance=0.1)
        result = g.x.get_parents()[0] is g.z
    """), namespace)
    assert namespace["result"]
    assert namespace["z"] is namespace["g"].z  # creation binds like an assignment

    def build():
        with Graph("h") as h:
            Variable("zz", mean=0, variance=1)
            Variable("xx", mean=2 * zz, variance=0.1)  # noqa: F821
        return h

    h = build()
    assert h.xx.get_parents() == [h.zz]
    assert "zz" not in globals()  # a function's bare names are undone when the scope closes

    def build_with_local():
        zz = None
        with Graph("k") as k:
            Variable("zz", mean=0, variance=1)
            Variable("yy", mean=zz, variance=1)
        return k, zz

    k, zz = build_with_local()
    assert k.yy.get_parents() == [k.zz] and zz is k.zz


def test_entering_scope_binds_children_and_restores():
    namespace: dict = {}
    exec(textwrap.dedent("""
        from bayesgraph.core import Entity, Variable
        with Entity("a") as a:
            Variable("height", mean=1)
        with Entity("b") as b:
            Variable("height", mean=2)
        before = height
        with a:
            inside = height
        after = height
    """), namespace)
    assert namespace["before"] is namespace["b"].height
    assert namespace["inside"] is namespace["a"].height
    assert namespace["after"] is namespace["b"].height


def test_class_body_names():
    class Holder:
        with Graph("c") as c:
            Variable("u")
            Variable("w", mean=u)  # noqa: F821

    assert Holder.c.w.get_parents() == [Holder.c.u]


def test_containment_and_duplicates():
    with Entity("e") as e:
        with pytest.raises(ScopeError, match="cannot create Graph 'g' inside Entity 'e'"):
            Graph("g")
        Variable("v")
        with pytest.raises(DuplicateNameError, match="already has a child named 'v'"):
            Variable("v")
    g = Graph("g2")
    with g.inputs:
        with pytest.raises(ScopeError, match="may only contain Entity"):
            Variable("bad")
    with pytest.raises(GraphStructureError, match="invalid name"):
        Variable("a/b")
    assert list(e.children) == ["v"]  # the failed creations left nothing behind
    with pytest.raises(AttributeError, match="has no attribute or child 'nope'"):
        e.nope  # noqa: B018


def test_templates_and_copies():
    with Entity("car") as car:
        Entity("body")
        with Entity("engine"):
            Variable("power", mean=160.0, variance=4.0)
            Variable("weight", mean=2.4, variance=0.01)
    Car = car.get_template("Car")
    car.engine.power.mean = 1.0  # later edits do not change the template's snapshot
    c2 = Car("car2")
    assert float(c2.engine.power.mean.value) == 160.0
    v = Variable("v", shape=(3,), mean=(0.4, 1.4, 2.4), variance=(0.2, 1.2, 2.2))
    w = v.copy("w")
    assert v.shape == w.shape
    assert np.all(v.mean.value == w.mean.value) and np.all(v.variance.value == w.variance.value)
    outside = Variable("outside")
    with Entity("reader") as reader:
        Variable("r", mean=outside)
    with pytest.raises(GraphStructureError, match="reads 'outside'"):
        reader.copy("reader2")
    loose = reader.copy("reader3", strict=False)
    assert loose.r.get_parents() == [outside]


def test_print_child_tree_format(capsys):
    with Entity("car") as car:
        Entity("body")
        with Entity("engine"):
            Variable("power", mean=160.0, variance=4.0)
            Variable("weight", mean=2.4, variance=0.01)
    print_child_tree(car)
    assert capsys.readouterr().out == "car\n├─body\n└─engine\n  ├─power\n  └─weight\n"


def test_show_names_dependencies(capsys):
    family = family_graph()
    show(family)
    out = capsys.readouterr().out
    assert "sally (Entity)" in out
    assert "genetic_factor: Variable () ~ Normal(mean=((alice/genetic_factor + " in out
    assert "<- alice/genetic_factor, bob/genetic_factor" in out
    assert render_text(family.alice.height).startswith("height: Variable () ~ Normal(")


def test_distributions_dtypes_and_parameters():
    assert type(Variable("a").distribution) is NormalDistribution
    assert type(Variable("b", distribution=LogNormalDistribution).distribution).__module__ == \
        "bayesgraph.core.distribution.log_normal_distribution"
    assert Variable("c", distribution="BernoulliDistribution").dtype == "bool"
    assert Variable("d", distribution="DiracDistribution", dtype="bool").dtype == "bool"
    with pytest.raises(DtypeError, match="not allowed for BernoulliDistribution"):
        Variable("e", distribution=BernoulliDistribution, dtype="float")
    with pytest.raises(DtypeError, match="not allowed for NormalDistribution"):
        Variable("f", dtype="bool")
    with pytest.raises(UnknownDistributionError, match="valid: BernoulliDistribution"):
        Variable("g", distribution="WeibullDistribution")
    with pytest.raises(UnknownParameterError, match="valid parameters: mean, variance"):
        Variable("h", rate=2.0)
    v = Variable("i")
    with pytest.raises(UnknownParameterError, match="has no parameter 'logit'"):
        v.logit = 1.0
    with pytest.raises(AttributeError, match="cannot set 'varianse'"):
        v.varianse = 2.0
    with pytest.raises(DistributionError, match="must be > 0"):
        v.variance = -1.0
    with pytest.raises(DistributionError, match="must lie in \\[0, 1\\]"):
        Variable("j", distribution="Bernoulli", mean=1.5)
    b = Variable("k", distribution="Bernoulli", mean=0.2)
    b.logit = 0.0
    assert list(b.distribution.get_parameters()) == ["logit"]
    v.variance = 37.5
    assert float(v.variance.value) == 37.5
    v.distribution = "Laplace"
    assert type(v.distribution).__name__ == "LaplaceDistribution"
    assert issubclass(DtypeError, TypeError) and issubclass(DtypeError, BayesGraphError)


def test_expressions():
    a = StaticVariable("a", shape=(3,))
    x = Variable("x")
    total = sum([a[0], a[1], a[2]])
    assert isinstance(total, operators.Add)
    e = -(2 ** x) / 3 - 1 + exp(x) * bg_sum(a)
    assert set(e.get_variables()) == {a, x}
    assert isinstance(bg_sum(a), operators.Sum)
    assert isinstance(operators.Sum(a), operators.Sum)
    with pytest.raises(ExpressionError, match="cannot be iterated"):
        list(x)
    with pytest.raises(ExpressionError, match="truth value"):
        bool(x > 0) if hasattr(x, "__gt__") and False else bool(x)
    arr = np.array([1.0, 2.0]) * x  # numpy defers to bayesgraph's reflected operators
    assert isinstance(arr, operators.Mul)
    w = Variable("w", mean=x.mean + 1)  # a parameter in an expression takes its value
    assert w.get_parents() == []
