"""Issue 15 item 1: the self-checks fire on big graphs, and stay silent where a method is right.

The pedigree of ``benchmarks/bench_pedigree.py`` has an exact (sparse) Gaussian posterior with
strong correlations: MAPFisher and MGVI are exact there, full-rank ADVI is close, and
mean-field and low-rank ADVI miss most of the variance the correlations add, so they must
warn (ApproximationWarning, naming the variables). Each test turns RuntimeWarnings into
errors, so no bare numpy/JAX warning escapes a self-check.
"""

from __future__ import annotations

import os
import sys
import warnings

import numpy as np
import pytest

from bayesgraph.core.model import ADVIModel, MAPFisherModel, MGVIModel
from bayesgraph.exceptions import ApproximationWarning

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "benchmarks"))
from bench_false_alarms import independent  # noqa: E402
from bench_pedigree import build, exact  # noqa: E402


def _fit(cls, n, **options):
    graph, persons, data = build(n, 0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warnings.simplefilter("error", RuntimeWarning)
        model = cls(graph, data=data, seed=0, **options).solve()
    approx = [str(w.message) for w in caught if issubclass(w.category, ApproximationWarning)]
    return model, persons, approx


def _errors(model, persons, n, n_samples=4000):
    """Largest |mean - exact| / sd and the mean ratio of the variances (exact up to 1000)."""
    means, variances = exact(n, 0, n <= 1000)
    factors = [p.genetic_factor for p in persons]
    got_m = np.array([float(np.squeeze(v)) for v in model.get_means(factors, n_samples)])
    sd = np.sqrt(variances) if variances is not None else None
    if sd is None:
        return float(np.max(np.abs(got_m - means))), None
    got_v = np.array([float(np.squeeze(v)) for v in model.get_variances(factors, n_samples)])
    return float(np.max(np.abs(got_m - means) / sd)), float(np.mean(got_v / variances))


def _warned_about_factors(messages):
    return any("not the best Gaussian" in m and "genetic_factor" in m for m in messages)


@pytest.mark.parametrize("cls", [MAPFisherModel, MGVIModel])
def test_exact_methods_are_exact_and_silent_on_a_pedigree(cls):
    model, persons, approx = _fit(cls, 30)
    assert approx == []
    assert model.curvature.status == "ok"
    assert all(abs(r - 1) < 1e-6 for r in model.curvature.variance_ratio.values())
    shift, ratio = _errors(model, persons, 30)
    assert shift < 1e-6 and abs(ratio - 1) < (1e-6 if cls is MAPFisherModel else 0.1)


def test_mean_field_warns_naming_the_variables_on_a_pedigree():
    model, persons, approx = _fit(ADVIModel, 60)
    assert _warned_about_factors(approx), approx
    # the numbers behind it: the variance ratio of the genetic factors is the measured one
    _, ratio = _errors(model, persons, 60)
    worst = min(model.curvature.variance_ratio.values())
    assert ratio < 0.8 and worst < 1 / 1.5


def test_full_rank_is_close_and_silent_on_a_pedigree():
    model, persons, approx = _fit(ADVIModel, 30, guide="full-rank")
    assert approx == []
    shift, ratio = _errors(model, persons, 30, n_samples=20000)
    assert shift < 0.1 and abs(ratio - 1) < 0.1


def test_mean_field_is_silent_where_it_is_exact():
    graph, data = independent(0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ApproximationWarning)
        warnings.simplefilter("error", RuntimeWarning)
        model = ADVIModel(graph, data, seed=0).solve()
    assert all(abs(r - 1) < 0.2 for r in model.curvature.variance_ratio.values())


def _at_scale(cls, n, exact_method, **options):
    model, persons, approx = _fit(cls, n, **options)
    shift, ratio = _errors(model, persons, n)
    if _warned_about_factors(approx):
        return
    assert not exact_method or approx == []
    # silent: then within the documented accuracy (means 0.25 sd, variances 1.5x)
    assert shift < 0.25 if ratio is not None else shift < 1.0
    assert ratio is None or 1 / 1.5 <= ratio <= 1.5


@pytest.mark.slow
@pytest.mark.parametrize("guide", ["mean-field", "low-rank"])
def test_pedigree_of_1000_advi(guide):
    _at_scale(ADVIModel, 1000, False, guide=guide)


@pytest.mark.slow
def test_pedigree_of_1000_mgvi():
    _at_scale(MGVIModel, 1000, True)


@pytest.mark.slow
def test_pedigree_of_10000_advi():
    """Mean-field only: the issue's case (3 sds off with only a ConvergenceWarning before).
    The low-rank guide (about 15 minutes on two shared cores) and MGVI (49 s to 11 minutes,
    depending on the load) at 10,000 persons are too long for CI; both passed when run by
    hand as ``_at_scale(ADVIModel, 10000, False, guide="low-rank")`` and
    ``_at_scale(MGVIModel, 10000, True)``, and both are tested at 1,000 persons."""
    _at_scale(ADVIModel, 10000, False, guide="mean-field")




def test_self_check_on_an_exact_approximation_raises_no_runtime_warning():
    """Issue 15 item 3: MAPFisher's check on a prior-only model (q equals p: the importance
    ratios are all equal up to rounding) let numpy's 'invalid value encountered in divide'
    escape from _psis.py."""
    from bayesgraph.core import Variable
    from bayesgraph.core.model._psis import pareto_khat

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        v = Variable("v")
        model = MAPFisherModel(v, seed=0).solve()
        assert model.curvature.variance_ratio == {"'v'": pytest.approx(1.0)}
        rng = np.random.default_rng(0)
        pareto_khat(1e-15 * rng.normal(size=1000))
        pareto_khat(np.r_[np.zeros(990), np.ones(10)])  # ties in the tail


@pytest.mark.slow
def test_pedigree_of_10000_full_rank_is_refused_naming_the_guide(monkeypatch):
    """20,000 coordinates: a full-rank guide's 20,000 x 20,000 matrices (about 26 GB) are
    refused before anything is compiled, naming the option and the alternatives (on a
    machine with 16 GiB available, as CI's)."""
    from bayesgraph.core.model import _resources
    from bayesgraph.exceptions import ResourceError

    monkeypatch.setattr(_resources, "available_bytes", lambda: 16 * 2**30)
    graph, _, data = build(10000, 0)
    with pytest.raises(ResourceError, match="guide='full-rank'.*guide='low-rank'"):
        ADVIModel(graph, data=data, guide="full-rank", seed=0)
