"""The ``bayesgraph`` command line, run as a user runs it: in a subprocess.

The command is the installed entry point ``bayesgraph`` when it sits next to ``sys.executable``
(tox installs the package, so it does), and ``python -m bayesgraph`` with ``src`` on the path
otherwise (a source checkout with ``PYTHONPATH=src``).

The round trip: the seed regression (examples/what_happens_during_training.py) saved as a
graph file and a CSV, ``fit`` then ``predict``; the fit's draws equal the Python API's to
1e-10, the posterior mean the closed form, and the predictions the Python API's forward draws.
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from bayesgraph.core import Graph, StaticVariable, Variable
from bayesgraph.core.scope import no_name_injection

ROOT = Path(__file__).resolve().parent.parent
DRAWS = 20


def command() -> list[str]:
    script = Path(sys.executable).with_name("bayesgraph")
    if script.is_file() and os.access(script, os.X_OK):
        return [str(script)]
    return [sys.executable, "-m", "bayesgraph"]


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    paths = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    env["PYTHONPATH"] = os.pathsep.join([*paths, str(ROOT / "src")])
    return subprocess.run([*command(), *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=300)


@no_name_injection()
def regression_graph() -> Graph:
    with Graph("lr_graph") as lr_graph:
        x = Variable("x", shape=(), mean=0, variance=3**2)
        a = StaticVariable("a", shape=(), mean=0, variance=1)
        b = StaticVariable("b", shape=(), mean=0, variance=1)
        Variable("y", shape=(), mean=a * x + b, variance=0.5**2)
    return lr_graph


def regression_data() -> tuple[np.ndarray, np.ndarray]:
    """The seed walkthrough's data (np.random.seed(42), 100 examples)."""
    np.random.seed(42)
    a_true, b_true = np.random.normal(0, 1), np.random.normal(0, 1)
    x = np.random.normal(0, 3, size=(100,))
    y = a_true * x + b_true + np.random.normal(0, 0.5, size=(100,))
    return x, y


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> None:
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("cli")
    regression_graph().dump_file(folder / "graph.json")
    x, y = regression_data()
    # one global name, one root-relative name; one empty cell (missing y)
    rows = [[repr(float(u)), repr(float(v))] for u, v in zip(x, y)]
    rows[7][1] = ""
    write_csv(folder / "data.csv", ["lr_graph/x", "y"], rows)
    write_csv(folder / "new.csv", ["x"], [["1.0"], ["-2.5"], ["NaN"]])
    return folder


def test_method_names_match_the_models():
    from bayesgraph.cli import METHOD_NAMES
    from bayesgraph.core.model import METHODS

    assert tuple(METHODS) == METHOD_NAMES


def test_help_does_not_import_jax():
    code = ("import sys; from bayesgraph.cli import main; main(['--version']); "
            "assert 'jax' not in sys.modules, 'jax imported'")
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    help_run = run("--help", cwd=ROOT)
    assert help_run.returncode == 0 and "predict" in help_run.stdout


def test_fit_then_predict_equals_the_python_api(files: Path):
    import xarray as xr

    from bayesgraph.core.model import ForwardModel, MAPFisherModel

    fit = run("fit", "graph.json", "data.csv", "--method", "MAPFisher", "--out", "fit.nc",
              "--draws", str(DRAWS), "--seed", "3", cwd=files)
    assert fit.returncode == 0, fit.stderr
    assert "lr_graph.a" in fit.stdout and "mean" in fit.stdout  # the ArviZ summary, on stdout
    assert "fit:" in fit.stderr and "fit:" not in fit.stdout    # progress on stderr

    # The Python API on the same file and data.
    graph = Graph.from_specification(file=files / "graph.json")
    x, y = regression_data()
    y_missing = y.copy()
    y_missing[7] = np.nan
    model = MAPFisherModel(graph, data={graph.x: x, graph.y: y_missing}, seed=3).solve()
    expected = model.to_inference_data(n_samples=DRAWS)["posterior"]
    with xr.open_dataset(files / "fit.nc", group="posterior") as written:
        assert set(written.data_vars) == set(expected.data_vars)  # a, b and the missing y
        for name in expected.data_vars:
            np.testing.assert_allclose(written[name].values, expected[name].values,
                                       rtol=0, atol=1e-10)
        posterior = {str(n): written[n].values for n in written.data_vars}

    # The closed form of the posterior mean of (a, b) (ridge regression, y[7] missing).
    keep = ~np.isnan(y_missing)
    design = np.stack([x[keep], np.ones(keep.sum())], axis=1)
    precision = design.T @ design / 0.25 + np.eye(2)
    exact = np.linalg.solve(precision, design.T @ y[keep] / 0.25)
    np.testing.assert_allclose(model.get_means([graph.a, graph.b]), exact, rtol=0, atol=1e-8)

    predicted = run("predict", "graph.json", "fit.nc", "new.csv", "--out", "pred.csv",
                    "--seed", "5", "--quiet", cwd=files)
    assert predicted.returncode == 0, predicted.stderr
    assert predicted.stderr == ""  # --quiet
    with open(files / "pred.csv", newline="") as handle:
        table = list(csv.DictReader(handle))
    assert list(table[0]) == ["lr_graph/x", "lr_graph/x_sd", "lr_graph/y", "lr_graph/y_sd"]

    # Predicting from a fit: a, b fixed at each posterior draw s, ceil(200 / DRAWS) forward
    # draws (seed 5 + s).
    new_x = np.array([1.0, -2.5, np.nan])
    k = -(-200 // DRAWS)
    draws = {"x": [], "y": []}
    for s in range(DRAWS):
        forward = ForwardModel(graph, {graph.x: new_x, graph.a: posterior["lr_graph.a"][0, s],
                                       graph.b: posterior["lr_graph.b"][0, s]}, seed=5 + s)
        xs, ys = forward.get_samples([graph.x, graph.y], n_samples=k)
        draws["x"].append(xs)
        draws["y"].append(ys)
    for name in ("x", "y"):
        values = np.concatenate(draws[name])
        column = np.array([float(row[f"lr_graph/{name}"]) for row in table])
        column_sd = np.array([float(row[f"lr_graph/{name}_sd"]) for row in table])
        np.testing.assert_allclose(column, values.mean(axis=0), rtol=0, atol=1e-10)
        np.testing.assert_allclose(column_sd, values.std(axis=0), rtol=0, atol=1e-10)
    # Given cells are kept; y of the given rows is about a x + b (noise sd 0.5, 200 draws).
    assert column_sd[0] > 0 and [row["lr_graph/x"] for row in table[:2]] == ["1.0", "-2.5"]
    line = exact[0] * new_x[:2] + exact[1]
    ys = np.array([float(row["lr_graph/y"]) for row in table[:2]])
    assert np.all(np.abs(ys - line) < 5 * 0.55 / np.sqrt(k * DRAWS))


def test_show_and_bad_inputs(files: Path):
    shown = run("show", "graph.json", "--out", "graph.svg", cwd=files)
    assert shown.returncode == 0, shown.stderr
    assert (files / "graph.svg").read_text().lstrip().startswith(("<svg", "<?xml"))

    write_csv(files / "unknown.csv", ["x", "height"], [["1", "2"]])
    write_csv(files / "text.csv", ["x", "y"], [["1", "tall"]])
    (files / "broken.json").write_text('{"format": "bayesgraph.graph", ')
    cases = {
        "unknown column": (["fit", "graph.json", "unknown.csv", "--out", "o.nc"], "height"),
        "missing data file": (["fit", "graph.json", "nope.csv", "--out", "o.nc"], "nope.csv"),
        "wrong graph file": (["fit", "data.csv", "data.csv", "--out", "o.nc"], "data.csv"),
        "broken graph file": (["fit", "broken.json", "data.csv", "--out", "o.nc"],
                              "broken.json"),
        "unknown method": (["fit", "graph.json", "data.csv", "--method", "Gibbs", "--out",
                            "o.nc"], "Gibbs"),
        "not a number": (["fit", "graph.json", "text.csv", "--out", "o.nc"], "tall"),
        "wrong fit file": (["predict", "graph.json", "data.csv", "new.csv", "--out", "o.csv"],
                           "data.csv"),
        "missing fit file": (["predict", "graph.json", "nofit.nc", "new.csv", "--out",
                              "o.csv"], "nofit.nc"),
        "unknown option": (["fit", "graph.json", "data.csv", "--out", "o.nc", "--sampler",
                            "x"], "--sampler"),
        "wrong picture type": (["show", "graph.json", "--out", "o.png"], ".png"),
    }
    before = set(os.listdir(files))
    for label, (args, culprit) in cases.items():
        result = run(*args, cwd=files)
        assert result.returncode == 2, (label, result.returncode, result.stderr)
        message = result.stderr.strip()
        assert "\n" not in message and culprit in message, (label, message)
        assert result.stdout == "", (label, result.stdout)
    assert set(os.listdir(files)) == before  # nothing written, not even a temporary file
