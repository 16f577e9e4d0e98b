"""The notebooks of examples/ run top to bottom in a real Jupyter kernel (nbclient + ipykernel,
in the ``test`` extra); their cells assert the closed-form answers, so a clean run checks them.

The kernel is the ``python3`` kernel of the running interpreter; it inherits this process's
environment, with ``<repo>/src`` appended to ``PYTHONPATH`` for a source checkout. Without
nbclient or ipykernel the test skips, except in CI (``CI`` set), where it fails.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "examples").glob("*.ipynb"))


def _require(module: str):
    try:
        return __import__(module)
    except ImportError:
        message = f"{module} is not installed (pip install .[test])"
        if os.environ.get("CI"):
            pytest.fail(f"{message}; in CI it is required")
        pytest.skip(message)


def test_notebooks_exist():
    assert {p.name for p in NOTEBOOKS} >= {"what_happens_during_training.ipynb",
                                           "inheritance.ipynb"}


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_runs(notebook: Path, monkeypatch):
    nbformat = _require("nbformat")
    _require("ipykernel")
    nbclient = _require("nbclient")
    paths = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([*paths, str(ROOT / "src")]))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    nb = nbformat.read(notebook, as_version=4)
    client = nbclient.NotebookClient(nb, timeout=300, kernel_name="python3",
                                     resources={"metadata": {"path": str(notebook.parent)}})
    client.execute()  # raises CellExecutionError, with the cell and its traceback, on failure
    outputs = "".join(out.get("text", "") for cell in nb.cells if cell.cell_type == "code"
                      for out in cell.get("outputs", []))
    assert "All checks passed." in outputs
    asserts = sum(cell.source.count("assert ") for cell in nb.cells if cell.cell_type == "code")
    assert asserts >= 2, "the notebook checks its answers in assert cells"
