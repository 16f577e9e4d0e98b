"""bayesgraph.causal_structure: dependencies, training, prediction in both causal directions
(against the closed-form linear-Gaussian answer), evaluation, bad input, and the
objective-based methods (run once bayesgraph.core.objectives exists)."""

from __future__ import annotations

import sys

import numpy as np
import pytest

pd = pytest.importorskip("pandas")

import bayesgraph  # noqa: E402
from bayesgraph.causal_structure import (  # noqa: E402
    CausalStructure,
    CyclicDependencyError,
    Dependencies,
    Dependency,
)
from bayesgraph.exceptions import (  # noqa: E402
    BayesGraphError,
    DataError,
    DependencyError,
    MissingVariableError,
    OptionalDependencyError,
)

A, B, C = "(a)", "(b|a)", "(c|a,b)"
STRUCTURE = [[A, B], [[A, B], C]]


# -- dependencies --------------------------------------------------------------------------
@pytest.mark.parametrize("make", [
    lambda: Dependency("a", "b"),
    lambda: Dependency(["a", "b"]),
    lambda: Dependency([["a"], ["b"]]),
    lambda: Dependency(features="a", targets="b"),
    lambda: Dependency({"features": "a", "targets": "b"}),
    lambda: Dependency(inputs="a", outputs="b"),
    lambda: Dependency({"inputs": ["a"], "outputs": {"b"}}),
])
def test_dependency_forms(make):
    dependency = make()
    assert repr(dependency) == "Dependency(features={'a'}, targets={'b'})"
    assert dependency.features == {"a"} and dependency.inputs == {"a"}
    assert dependency.targets == {"b"} and dependency.outputs == {"b"}


def test_dependency_cycles_and_reprs():
    with pytest.raises(CyclicDependencyError) as caught:
        Dependency("a", "a")
    assert str(caught.value) == "Cyclic dependency detected for 'a'."
    with pytest.raises(CyclicDependencyError, match=r"^Cyclic dependency detected for 'b'\.$"):
        Dependency(features=["a", "b"], targets=["b", "c"])
    with pytest.raises(CyclicDependencyError) as caught:
        Dependencies([["a", "b"], ["b", "c"], [["c", "x"], "b"]])
    assert str(caught.value) == "Cyclic dependency detected for {'b', 'c'}."
    with pytest.raises(CyclicDependencyError):
        CausalStructure([["a", "b"], ["b", "c"], ["c", "a"]])
    assert isinstance(caught.value, bayesgraph.exceptions.CyclicGraphError)
    deps = Dependencies([["a", "b"], ["b", "c"], [{"c", "b"}, "d"]])
    assert repr(deps) == "Dependencies([[{'a'}, 'b'], [{'b'}, 'c'], [{'b', 'c'}, 'd']])"
    split = Dependencies([[{"a", "b"}, {"c", "d"}]])
    assert repr(split) == "Dependencies([[{'a', 'b'}, 'c'], [{'a', 'b'}, 'd']])"
    assert len(split) == 2 and list(split)[0] == Dependency([["a", "b"], "c"])
    assert repr(CausalStructure(split)) == "CausalStructure([[{'a', 'b'}, 'c'], [{'a', 'b'}, 'd']])"
    assert Dependencies([["c", "d"], ["a", "c"]]).parameters == ["a", "c", "d"]
    for bad in (["a"], [1, "b"], "ab", ["a/b", "c"], {"features": "a", "effect": "b"}):
        with pytest.raises(DependencyError):
            Dependency(bad)


def test_reexports():
    assert bayesgraph.CausalStructure is CausalStructure
    assert bayesgraph.causal_structure.Dependencies is Dependencies


def test_missing_pandas_says_how_to_install(monkeypatch):
    from bayesgraph.causal_structure import structure

    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(OptionalDependencyError, match=r"pip install bayesgraph\[causal\]"):
        structure._pandas()


# -- the walkthrough (reference section 8.10) ----------------------------------------------
def walkthrough_data():
    np.random.seed(100)
    a = 5 + np.random.randn(100) * 0.1
    b = -35 * a + 150 + np.random.randn(100) * 1.0
    c = 10.5 * a + 0.5 * b + np.random.randn(100) * 0.1
    return pd.DataFrame({A: a, B: b, C: c})


@pytest.fixture(scope="module")
def trained():
    data = walkthrough_data()
    copy = data.copy()
    causal_structure = CausalStructure(STRUCTURE)
    assert causal_structure.train(data) is causal_structure
    assert data.equals(copy)
    return causal_structure, data


def _joint(coefficients):
    """Mean and covariance of (a, b, c) in the data's units, from the fitted regressions."""
    fa, fb, fc = coefficients[A], coefficients[B], coefficients[C]
    lower = np.array([[0, 0, 0], [fb["slopes"][A], 0, 0],
                      [fc["slopes"][A], fc["slopes"][B], 0]])
    shift = np.array([fa["intercept"], fb["intercept"], fc["intercept"]])
    noise = np.diag([fa["noise_variance"], fb["noise_variance"], fc["noise_variance"]])
    inverse = np.linalg.inv(np.eye(3) - lower)
    return inverse @ shift, inverse @ noise @ inverse.T


def _condition(mean, cov, given, values):
    """Exact Gaussian conditioning of the joint on the columns ``given``."""
    rest = [i for i in range(len(mean)) if i not in given]
    gain = np.linalg.solve(cov[np.ix_(given, given)], cov[np.ix_(given, rest)]).T
    means = mean[rest] + (values - mean[given]) @ gain.T
    sds = np.sqrt(np.diag(cov[np.ix_(rest, rest)] - gain @ cov[np.ix_(given, rest)]))
    return means, sds


def test_walkthrough_coefficients(trained):
    """The fit is the exact joint MAP: in standardised units each regression's coefficients
    are the ridge solution for its fitted noise variance (priors N(0, 1)), and the log noise
    variance (prior N(0, 10)) is stationary."""
    causal_structure, data = trained
    fitted = causal_structure.coefficients
    centre, spread = data.mean(), data.std(ddof=0)
    z = (data - centre) / spread
    for target, features in ((A, []), (B, [A]), (C, [A, B])):
        fit = fitted[target]
        noise = fit["noise_variance"] / spread[target] ** 2
        slopes = [fit["slopes"][f] * spread[f] / spread[target] for f in features]
        intercept = (fit["intercept"] + sum(fit["slopes"][f] * centre[f] for f in features)
                     - centre[target]) / spread[target]
        design = np.column_stack([np.ones(100), *(z[f] for f in features)])
        ridge = np.linalg.solve(design.T @ design / noise + np.eye(design.shape[1]),
                                design.T @ z[target] / noise)
        assert np.allclose([intercept, *slopes], ridge, atol=1e-8, rtol=0)
        residual = z[target] - design @ ridge
        gradient = -100 / 2 + residual @ residual / (2 * noise) - np.log(noise) / 10
        assert abs(gradient) < 1e-6
    assert abs(fitted[B]["slopes"][A] + 35) < 4 * 1.0  # slope sd ~ 1 / (0.1 * sqrt(100))
    assert abs(fitted[B]["noise_variance"] - 1.0) < 0.4
    assert abs(fitted[C]["slopes"][B] - 0.5) < 0.05


def test_walkthrough_forward_prediction(trained):
    causal_structure, _ = trained
    grid = np.linspace(4.5, 5.5, 100)
    query = pd.DataFrame({A: grid})
    copy = query.copy()
    prediction = causal_structure.predict(data=query)
    assert query.equals(copy)
    assert list(prediction.columns) == [A, B, C] and prediction.index.equals(query.index)
    means, sds = causal_structure.predict(query, return_std=True)
    mean, cov = _joint(causal_structure.coefficients)
    expected, expected_sd = _condition(mean, cov, [0], grid[:, None])
    assert np.allclose(means[[B, C]].to_numpy(), expected, rtol=1e-10, atol=1e-8)
    assert np.allclose(sds[[B, C]].to_numpy(), np.broadcast_to(expected_sd, (100, 2)),
                       rtol=1e-10)
    assert np.array_equal(means[A].to_numpy(), grid) and np.all(sds[A] == 0)
    # against the generating process (b = -35a + 150, c = 10.5a + 0.5b): within the
    # coefficients' own uncertainty (a few sds at a = 5 +- 0.5)
    assert np.all(np.abs(means[B] - (-35 * grid + 150)) < 4 * (0.2 + np.abs(grid - 5) * 1.0))
    assert np.all(np.abs(means[C] - (10.5 * grid + 0.5 * (-35 * grid + 150))) < 1.0)


def test_walkthrough_backward_prediction_and_mapfisher(trained):
    causal_structure, _ = trained
    query = pd.DataFrame({C: [70.0, 72.5, 75.0]}, index=[10, 20, 30])
    means, sds = causal_structure.predict(query, return_std=True)
    mean, cov = _joint(causal_structure.coefficients)
    expected, expected_sd = _condition(mean, cov, [2], query[[C]].to_numpy())
    assert np.allclose(means[[A, B]].to_numpy(), expected, rtol=1e-10, atol=1e-8)
    assert np.allclose(sds[[A, B]].to_numpy()[0], expected_sd, rtol=1e-10)
    assert list(means.index) == [10, 20, 30]
    # the model-class path (MAP-Fisher on the trained graph) is exact for this network
    mf_means, mf_sds = causal_structure.predict(query, return_std=True, method="MAPFisher")
    assert np.allclose(mf_means.to_numpy(), means.to_numpy(), rtol=1e-10, atol=1e-8)
    assert np.allclose(mf_sds.to_numpy(), sds.to_numpy(), rtol=1e-7, atol=1e-9)


def test_nan_means_not_given_and_dicts(trained):
    causal_structure, _ = trained
    query = {A: np.array([5.0, np.nan, 4.9]), C: np.array([np.nan, 75.0, 73.0])}
    means, sds = causal_structure.predict(query, return_std=True)
    assert isinstance(means, dict) and sorted(means) == sorted([A, B, C])
    alone = causal_structure.predict({A: [5.0]})
    assert np.allclose(means[B][0], alone[B][0]) and np.allclose(means[C][0], alone[C][0])
    backward = causal_structure.predict({C: [75.0]})
    assert np.allclose(means[A][1], backward[A][0]) and np.allclose(means[B][1], backward[B][0])
    both = causal_structure.predict({A: [4.9], C: [73.0]})
    assert np.allclose(means[B][2], both[B][0])
    assert sds[A][0] == 0 and sds[A][1] > 0 and sds[C][1] == 0
    only = causal_structure.predict(pd.DataFrame({A: [5.0]}), outputs=[C])
    assert list(only.columns) == [C]


def test_evaluate(trained):
    causal_structure, _ = trained
    rng = np.random.default_rng(1)
    a = 5 + rng.normal(size=50) * 0.1
    b = -35 * a + 150 + rng.normal(size=50)
    test = pd.DataFrame({A: a, B: b, C: 10.5 * a + 0.5 * b + rng.normal(size=50) * 0.1})
    copy = test.copy()
    scores = causal_structure.evaluate(test, inputs=[A])
    assert test.equals(copy) and sorted(scores) == sorted([B, C])
    predicted = causal_structure.predict(test[[A]])
    for name in (B, C):
        error = test[name] - predicted[name]
        r2 = 1 - (error**2).sum() / ((test[name] - test[name].mean()) ** 2).sum()
        assert abs(scores[name] - r2) < 1e-12
        rmse = causal_structure.evaluate(test, inputs=A, outputs=name, metric="rmse")[name]
        assert abs(rmse - np.sqrt((error**2).mean())) < 1e-12
    assert causal_structure.evaluate(test, inputs=[A, B], outputs=C)[C] > 0.9
    with pytest.raises(DataError, match=r"'\(a\)' is both"):
        causal_structure.evaluate(test, inputs=[A], outputs=[A])


# -- bad input -----------------------------------------------------------------------------
def test_bad_input_names_the_column(trained):
    causal_structure, data = trained
    cases = [
        (lambda d: CausalStructure(STRUCTURE).train(d.assign(extra=1.0)), "extra",
         MissingVariableError),
        (lambda d: CausalStructure(STRUCTURE).train(d.drop(columns=[B])), B, DataError),
        (lambda d: CausalStructure(STRUCTURE).train(d.assign(**{C: "x"})), C, DataError),
        (lambda d: CausalStructure(STRUCTURE).train(d.assign(**{B: np.nan})), B, DataError),
        (lambda d: causal_structure.predict(d.assign(extra=1.0)), "extra",
         MissingVariableError),
        (lambda d: causal_structure.predict(d[[A]].assign(**{C: np.nan})), C, DataError),
        (lambda d: causal_structure.predict(d[[A]].astype(str)), A, DataError),
        (lambda d: causal_structure.predict(d[[A, B]], outputs=[B, C]), B, DataError),
    ]
    for call, column, error in cases:
        frame = data.copy()
        before = frame.copy()
        with pytest.raises(error) as caught:
            call(frame)
        assert isinstance(caught.value, BayesGraphError)
        assert repr(column) in str(caught.value), str(caught.value)
        assert frame.equals(before)
    with pytest.raises(bayesgraph.exceptions.NotSolvedError):
        CausalStructure(STRUCTURE).predict(data)


def test_closed_form_training_is_the_compiled_map(trained):
    """Complete data: train() computes the joint MAP in closed form, with no model fitted
    (``_model`` stays None until ``model`` is read); the compiled MAP-Fisher fit finds the
    same mode, and so does the lazily fitted MAPModel started there."""
    causal_structure, data = trained
    assert causal_structure._model is None
    compiled = CausalStructure(STRUCTURE).train(data, method="MAPFisher")
    assert compiled._model is not None
    for target in (A, B, C):
        exact, fit = causal_structure._fitted[target], compiled._fitted[target]
        assert exact["intercept"] == pytest.approx(fit["intercept"], abs=1e-6)
        np.testing.assert_allclose(exact["slopes"], fit["slopes"], atol=1e-6, rtol=0)
        assert exact["noise_variance"] == pytest.approx(fit["noise_variance"], rel=1e-6)
    model = causal_structure.model
    graph = causal_structure.training_graph
    assert float(model.get_means(graph.children[C].intercept)) == pytest.approx(
        causal_structure._fitted[C]["intercept"], abs=1e-6)


def test_training_with_missing_values(trained):
    causal_structure, data = trained
    holes = data.copy()
    holes.loc[::7, C] = np.nan
    holes.loc[3::11, A] = np.nan
    before = holes.copy()
    refit = CausalStructure(STRUCTURE).train(holes)
    assert holes.equals(before)
    full, partial = causal_structure.coefficients, refit.coefficients
    assert abs(partial[B]["slopes"][A] - full[B]["slopes"][A]) < 2.0
    assert abs(partial[C]["slopes"][B] - full[C]["slopes"][B]) < 0.05


def test_polynomial_structure():
    rng = np.random.default_rng(5)
    x = rng.normal(6.0, 2.0, 400)
    data = pd.DataFrame({"x": x, "y": -12 + 4 * x + 3 * x**2 + rng.normal(0, 9.0, 400)})
    causal_structure = CausalStructure([["x", "y"]], order=2).train(data)
    grid = np.linspace(3.0, 9.0, 7)
    means, sds = causal_structure.predict(pd.DataFrame({"x": grid}), return_std=True)
    truth = -12 + 4 * grid + 3 * grid**2
    assert np.all(np.abs(means["y"] - truth) < 4.0)
    assert np.allclose(sds["y"], sds["y"][0]) and abs(sds["y"][0] - 9.0) < 1.5
    with pytest.raises(bayesgraph.exceptions.OptionError, match="order=1"):
        causal_structure.predict(pd.DataFrame({"x": grid}), method="exact")


# -- objective-based methods (need bayesgraph.core.objectives, from the objectives branch) --
def test_probabilities_are_the_gaussian_log_density(trained):
    pytest.importorskip("bayesgraph.core.objectives")
    causal_structure, data = trained
    rows = data.iloc[:5]
    result = causal_structure.estimate_probabilities(data=rows)
    assert list(result.columns) == [A, B, C, "graph"]
    mean, cov = _joint(causal_structure.coefficients)
    centred = rows.to_numpy() - mean
    expected = -0.5 * (np.einsum("ni,ij,nj->n", centred, np.linalg.inv(cov), centred)
                       + np.log(np.linalg.det(2 * np.pi * cov)))
    assert np.allclose(result["graph"].to_numpy(), expected, rtol=1e-6, atol=1e-6)


def test_ranks_outliers_influences_interventions(trained):
    pytest.importorskip("bayesgraph.core.objectives")
    from bayesgraph.core.objectives import Predictor

    causal_structure, data = trained
    ranks = causal_structure.estimate_ranks(data=data.iloc[:10])
    assert list(ranks.columns) == [A, B, C, "graph"]
    assert ranks.to_numpy().min() >= 0 and ranks.to_numpy().max() <= 1
    outliers = causal_structure.detect_outliers(data=data.iloc[:10])
    assert list(outliers.columns) == [A, B, C, "graph"] and outliers.dtypes.eq(bool).all()
    influences = causal_structure.estimate_influences(target=C)
    assert influences.name == f"influence on {C}" and list(influences.index) == [A, B]
    assert np.all(influences.to_numpy() >= 0)
    predicted = causal_structure.evaluate_objective(Predictor, data=data[[A]])
    assert np.allclose(predicted[C], causal_structure.predict(data[[A]])[C], rtol=1e-6)
    # do(b = -25) with a = 5: c follows its regression; a root set is a root observed
    intervened = causal_structure.predict_intervention(
        data=pd.DataFrame({A: [5.0], B: [-25.0]}), n_samples=4000)
    fc = causal_structure.coefficients[C]
    expected = fc["intercept"] + fc["slopes"][A] * 5.0 + fc["slopes"][B] * -25.0
    assert list(intervened.columns) == [A, B, C]
    assert abs(intervened[C].iloc[0] - expected) < 5 * np.sqrt(fc["noise_variance"] / 4000)
    # setting b does not move its cause a (it stays at its mean, up to Monte-Carlo error)
    alone = causal_structure.predict_intervention(data={B: [-25.0]}, n_samples=4000)
    fa = causal_structure.coefficients[A]
    assert abs(alone[A][0] - fa["intercept"]) < 5 * np.sqrt(fa["noise_variance"] / 4000)
