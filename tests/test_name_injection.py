"""Name injection never destroys the user's data, and can be switched off (issue 8 item 4).

Also: all-NaN data for a variable give a bayesgraph warning class naming the variable.
"""

from __future__ import annotations

import textwrap
import warnings

import numpy as np
import pytest

import bayesgraph
from bayesgraph.core import Entity, Graph, StaticVariable, Variable
from bayesgraph.core.lowering import lower
from bayesgraph.exceptions import (
    BayesGraphWarning,
    MissingDataWarning,
    NameInjectionWarning,
    OptionError,
)


def run_cell(source: str, namespace: dict) -> dict:
    """Run ``source`` like a notebook cell (module-level code) in ``namespace``."""
    exec(textwrap.dedent(source), namespace)
    return namespace


def injection_warnings(caught) -> list[str]:
    return [str(w.message) for w in caught if issubclass(w.category, NameInjectionWarning)]


def test_function_argument_is_kept_and_warned():
    def fit(x):
        with Graph("g") as g:
            Variable("x", mean=0, variance=1)
        return x, g

    data = np.array([1.0, 2.0, 3.0])
    with pytest.warns(NameInjectionWarning) as caught:
        x, g = fit(data)
    assert x is data  # the argument was not replaced by the variable
    assert g.x.global_name == "g/x"
    [message] = injection_warnings(caught)
    assert "'x'" in message and "g.x" in message and "of type numpy.ndarray" in message
    assert "set_name_injection(False)" in message and "no_name_injection" in message
    assert caught[0].filename == __file__  # points at the user's line, not into bayesgraph


def test_function_global_array_is_kept():
    namespace = run_cell("""
        import numpy as np
        from bayesgraph.core import Graph, Variable
        y = np.zeros(3)
        def build():
            with Graph("h") as h:
                Variable("y", mean=0, variance=1)
                inside = y
            return h, inside
    """, {})
    with pytest.warns(NameInjectionWarning, match="'y'.*h\\.y"):
        h, inside = namespace["build"]()
    assert isinstance(inside, np.ndarray) and isinstance(namespace["y"], np.ndarray)
    assert h.y.global_name == "h/y"


def test_module_level_array_kept_on_creation_and_on_entering():
    namespace = {"np": np}
    with pytest.warns(NameInjectionWarning, match="'x'.*Variable 'g/e/x'.*g\\.e\\.x"):
        run_cell("""
            from bayesgraph.core import Entity, Graph, Variable
            x = np.arange(4.0)
            with Graph("g") as g:
                with Entity("e") as e:
                    Variable("x", mean=0, variance=1)
                    Variable("y", mean=2 * e.x, variance=1)
        """, namespace)
    assert isinstance(namespace["x"], np.ndarray)
    g = namespace["g"]
    assert g.e.y.get_parents() == [g.e.x]
    assert namespace["y"] is g.e.y  # free names are injected as before
    with pytest.warns(NameInjectionWarning, match="'x'.*g\\.e\\.x"):
        run_cell("""
            with e:
                inside = x
        """, namespace)
    assert isinstance(namespace["inside"], np.ndarray)
    assert isinstance(namespace["x"], np.ndarray)


class FakeFrame:
    """A DataFrame-like object of the user's own (pandas is not a dependency)."""

    def __init__(self, columns):
        self.columns = columns


def test_dataframe_like_and_other_user_values_kept():
    frame = FakeFrame(["height"])
    namespace = {"height": frame, "count": 3, "np": np}
    with pytest.warns(NameInjectionWarning) as caught:
        run_cell("""
            from bayesgraph.core import Entity, Variable
            with Entity("person") as person:
                Variable("height", mean=170, variance=100)
                Variable("count", mean=1, variance=1)
                Variable("np", mean=0, variance=1)
        """, namespace)
    assert namespace["height"] is frame and namespace["count"] == 3 and namespace["np"] is np
    messages = injection_warnings(caught)
    assert len(messages) == 3
    assert "test_name_injection.FakeFrame" in messages[0] and "person.height" in messages[0]
    assert "of type int," in messages[1] and "of type module," in messages[2]


def test_warns_once_per_name_within_a_with_block():
    def build(x):
        with Graph("loop") as loop:
            for i in range(5):
                with Entity(f"e{i}"):
                    Variable("x", mean=0, variance=1)
        return loop

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        loop = build(np.ones(2))
    [message] = injection_warnings(caught)
    assert "loop.e0.x" in message
    assert len(loop.get_all_variables()) == 5
    with warnings.catch_warnings(record=True) as caught:  # a new block warns again
        warnings.simplefilter("always")
        build(np.ones(2))
    assert len(injection_warnings(caught)) == 1


def test_root_object_warning_says_to_use_the_returned_object():
    def make(z):
        Variable("z", mean=0, variance=1)
        return z

    with pytest.warns(NameInjectionWarning, match="use the object that Variable\\('z', ...\\)"):
        assert make(5.0) == 5.0


def test_rebinding_bayesgraph_objects_and_placeholders_is_silent():
    cell = """
        from bayesgraph.core import Graph, StaticVariable, Variable
        with Graph("g") as g:
            StaticVariable("a", mean=0, variance=1)
            Variable("x", mean=0, variance=1)
            Variable("y", mean=a * x, variance=1)
        total = g.a + 1
    """
    namespace: dict = {"x": None, "total": None}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        run_cell(cell, namespace)  # a placeholder None is replaced
        first = namespace["g"]
        assert namespace["x"] is first.x
        run_cell(cell, namespace)  # re-running the cell rebinds the previous variables
        second = namespace["g"]
        assert second is not first and namespace["x"] is second.x
        assert second.y.get_parents() == [second.a, second.x]
        run_cell("""
            with Graph("h") as h:
                Variable("total", mean=0, variance=1)  # `total` held an expression
        """, namespace)
        assert namespace["total"] is namespace["h"].total


def test_explicit_assignment_of_the_same_name_is_silent():
    namespace = {"x": np.ones(3)}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        run_cell("""
            from bayesgraph.core import Graph, Variable
            with Graph("lr") as lr:
                x = Variable("x", mean=0, variance=9)
        """, namespace)

        def fit(x):
            with Graph("fitted"):
                x = Variable("x", mean=0, variance=1)
            return x

        assert fit(np.zeros(2)).global_name == "fitted/x"
    assert namespace["x"] is namespace["lr"].x


def radon():  # a module-level function called like the graph it builds
    with Graph("radon") as g:
        Variable("log_radon", mean=0, variance=1)
    return g


def test_object_assigned_by_its_own_statement_keeps_the_name_silently():
    namespace = {"x": np.ones(3)}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        g = radon()
        assert callable(radon) and radon().log_radon.global_name == "radon/log_radon"
        run_cell("""
            from bayesgraph.core import Entity, Variable
            with Entity("ent") as ent:
                y = Variable("x", mean=0, variance=1)
        """, namespace)
    assert g.name == "radon" and isinstance(namespace["x"], np.ndarray)
    assert namespace["y"] is namespace["ent"].x
    with pytest.warns(NameInjectionWarning, match="'x'.*ent\\.x"):
        run_cell("""
            with ent as entered:  # entering binds children: not assigned by this statement
                inside = x
        """, namespace)
    assert isinstance(namespace["inside"], np.ndarray)


def test_switch_off_binds_nothing_and_the_model_still_solves():
    from bayesgraph.core.model import MAPModel

    assert bayesgraph.name_injection_enabled()
    previous = bayesgraph.set_name_injection(False)
    try:
        assert previous is True and not bayesgraph.name_injection_enabled()
        namespace = run_cell("""
            from bayesgraph.core import Entity, Graph, StaticVariable, Variable
            with Graph("g") as g:
                StaticVariable("a", mean=0.0, variance=1.0)
                Variable("x", mean=0.0, variance=1.0)
                Variable("y", mean=g.a * g.x, variance=1.0)
            with g:
                inside = "a" in dir()
            frame_arg = Variable("explicit", frame=__import__("sys")._getframe())
        """, {})
    finally:
        bayesgraph.set_name_injection(previous)
    for name in ("a", "x", "y", "explicit"):
        assert name not in namespace
    assert namespace["inside"] is False
    g = namespace["g"]
    assert [v.global_name for v in g.get_all_variables()] == ["g/a", "g/x", "g/y"]
    x, y = np.array([1.0, -2.0, 0.5]), np.array([2.1, -3.8, 1.2])
    a_map = MAPModel(g, data={g.x: x, g.y: y}).solve().get_means(g.a)
    # a ~ N(0, 1), y | a ~ N(a x, 1): the posterior of a is Gaussian with this mean (= mode)
    np.testing.assert_allclose(a_map, (x @ y) / (1.0 + x @ x), rtol=1e-4)
    assert bayesgraph.name_injection_enabled()


def test_context_manager_restores_even_on_exception_and_wins_over_the_process_setting():
    with pytest.raises(RuntimeError, match="boom"):
        with bayesgraph.no_name_injection():
            assert not bayesgraph.name_injection_enabled()
            raise RuntimeError("boom")
    assert bayesgraph.name_injection_enabled()

    with bayesgraph.no_name_injection():
        previous = bayesgraph.set_name_injection(True)
        assert not bayesgraph.name_injection_enabled()  # the block wins in its thread
        with bayesgraph.no_name_injection():  # nested blocks restore the outer state
            pass
        assert not bayesgraph.name_injection_enabled()
    assert previous is True and bayesgraph.name_injection_enabled()

    @bayesgraph.no_name_injection()
    def build():
        with Graph("lib") as lib:
            Variable("w", mean=0, variance=1)
            w = "mine"
        return lib, w

    lib, w = build()
    assert w == "mine" and lib.w.global_name == "lib/w"
    with pytest.raises(OptionError, match="enabled must be True or False"):
        bayesgraph.set_name_injection("no")


def test_halerium_frame_argument_unchanged_when_on():
    import sys

    def caller_namespace():
        return sys._getframe(1)

    namespace: dict = {}
    exec("import sys\nframe = sys._getframe()", namespace)
    Variable("via_frame", frame=namespace["frame"])
    assert namespace["via_frame"].global_name == "via_frame"
    assert StaticVariable("s", frame=caller_namespace()).name == "s"


def test_all_nan_data_warning_class_names_the_variable():
    with Graph("lr") as lr:
        Variable("x", mean=0, variance=1)
        Variable("y", mean=lr.x, variance=1)
    with pytest.warns(MissingDataWarning, match="all data for 'lr/x' are NaN") as caught:
        spec, _ = lower(lr, {lr.x: [np.nan, np.nan], lr.y: [1.0, 2.0]})
    assert issubclass(caught[0].category, BayesGraphWarning)
    assert caught[0].filename == __file__
    assert spec.variable("lr/x").role == "latent"
