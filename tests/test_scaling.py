"""Scaling regressions, counted in operations rather than seconds (issue 16).

A pedigree of ``N`` persons (``benchmarks/bench_pedigree.py``: 2 N variables, parents drawn
at random among earlier persons, so many generations deep) must cost near-linear work in
every Python stage, and its compiled log-density must not grow with ``N`` at all (the
persons are batched into a few sites, the generations swept by a loop). Times are noisy on
shared machines; counts are not:

* the number of jaxpr equations of the log-density (sub-jaxprs of loops included) is the
  same for 200 and 400 persons;
* the number of Python function calls and executed lines (``sys.settrace``) made by building
  the graph, and by lowering and grouping it, grows at most 2.2x when ``N`` doubles: a
  stage that is quadratic in ``N`` (a loop over the variables inside a loop over the
  variables, a recursion per pair) fails.

Work done inside C without Python frames (``list.index``, ``x in some_list``) is not counted:
those need the benchmark (``bench_pedigree.py --stages``).
"""

from __future__ import annotations

import os
import sys

import jax
import numpy as np
import pytest

from bayesgraph.core.compiler import Program
from bayesgraph.core.lowering import group, group_data, lower

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "benchmarks"))
from bench_pedigree import build  # noqa: E402

#: the most that a stage's counted work may grow when the pedigree doubles (linear: 2)
MAX_GROWTH = 2.2


def _equations(jaxpr) -> int:
    """Equations of ``jaxpr`` and of every jaxpr nested in its equations' parameters."""
    count = 0
    for eqn in jaxpr.eqns:
        count += 1
        for value in eqn.params.values():
            for sub in value if isinstance(value, (tuple, list)) else (value,):
                inner = getattr(sub, "jaxpr", sub)  # a ClosedJaxpr holds a Jaxpr
                if hasattr(inner, "eqns"):
                    count += _equations(inner)
    return count


def _log_density_equations(n: int) -> tuple[int, int]:
    """(jaxpr equations of the log-density, latent sites) of a pedigree of ``n`` persons."""
    graph, _, data = build(n, seed=0)
    spec, lowered = lower(graph, data)
    grouped = group(spec)
    program = Program(grouped)
    with jax.enable_x64(True):  # as the models run
        args = program.data_args(group_data(grouped, lowered))
        latents = program.unconstrain(program.central_latents(args), args)
        jaxpr = jax.make_jaxpr(program.log_density)(latents, args)
    return _equations(jaxpr.jaxpr), len(program.latent_sites)


def test_log_density_of_a_pedigree_does_not_grow_with_its_size():
    small, sites_small = _log_density_equations(200)
    large, sites_large = _log_density_equations(400)
    assert sites_small == sites_large == 3  # founders, descendants, the unobserved heights
    assert small == large, (small, large)


class _Counter:
    """Python calls and executed lines while installed with ``sys.settrace``."""

    def __init__(self) -> None:
        self.calls = 0
        self.lines = 0

    def __call__(self, frame, event, arg):
        if event == "call":
            self.calls += 1
            return self._local
        return None

    def _local(self, frame, event, arg):
        if event == "line":
            self.lines += 1
        return self._local


def _counted(function, *args) -> tuple[tuple[int, int], object]:
    counter = _Counter()
    previous = sys.gettrace()
    sys.settrace(counter)
    try:
        result = function(*args)
    finally:
        sys.settrace(previous)
    return (counter.calls, counter.lines), result


def _stage_counts(n: int) -> dict[str, tuple[int, int]]:
    build_counts, (graph, _, data) = _counted(build, n, 0)

    def lower_and_group():
        spec, _ = lower(graph, data)
        return group(spec)

    lowering_counts, _ = _counted(lower_and_group)
    return {"build": build_counts, "lower+group": lowering_counts}


@pytest.fixture(scope="module")
def stage_counts() -> dict[int, dict[str, tuple[int, int]]]:
    return {n: _stage_counts(n) for n in (300, 600)}


@pytest.mark.parametrize("stage", ["build", "lower+group"])
def test_python_work_of_a_stage_grows_linearly(stage_counts, stage):
    (calls_n, lines_n), (calls_2n, lines_2n) = stage_counts[300][stage], stage_counts[600][stage]
    assert calls_n > 1000 and lines_n > 1000  # the counter saw the stage's work
    assert calls_2n <= MAX_GROWTH * calls_n, (stage, calls_n, calls_2n)
    assert lines_2n <= MAX_GROWTH * lines_n, (stage, lines_n, lines_2n)


def test_the_counter_sees_a_quadratic_loop():
    """The measure itself: a loop over pairs grows 4x when its input doubles."""

    def pairs(items):
        return sum(1 for a in items for b in items if a < b)

    (calls, lines), _ = _counted(pairs, list(range(300)))
    (calls2, lines2), _ = _counted(pairs, list(range(600)))
    assert lines2 > 3.5 * lines and not calls2 <= MAX_GROWTH * calls
    assert np.isclose(lines2 / lines, 4, rtol=0.05)
