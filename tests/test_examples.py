"""Run every script in examples/ in a fresh interpreter; each must exit with status 0.

The scripts assert their own answers (closed forms, Monte-Carlo bounds), so a zero exit
status means the numbers are right. The subprocess sees the package both when it is installed
(tox) and from the source tree: ``<repo>/src`` is appended to ``PYTHONPATH``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("*.py"))


def _env() -> dict[str, str]:
    env = dict(os.environ)
    paths = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    env["PYTHONPATH"] = os.pathsep.join([*paths, str(ROOT / "src")])
    env.setdefault("MPLBACKEND", "Agg")  # no display needed, should a script import pyplot
    return env


def test_examples_exist():
    names = {path.name for path in EXAMPLES}
    assert {"what_happens_during_training.py", "missing_data.py"} <= names


#: Scripts that take a minute or more: slow, so they run in CI on one Python version only.
#: distributed_fit.py starts two jax.distributed processes on localhost and one more to compare.
SLOW = {"distributed_fit.py"}


@pytest.mark.parametrize("script", [
    pytest.param(path, id=path.name, marks=[pytest.mark.slow] if path.name in SLOW else [])
    for path in EXAMPLES
])
def test_example_runs(script: Path):
    result = subprocess.run(
        [sys.executable, str(script)], cwd=ROOT, env=_env(), capture_output=True, text=True,
        timeout=300,
    )
    assert result.returncode == 0, (
        f"{script.name} exited with status {result.returncode}\n"
        f"--- stdout ---\n{result.stdout[-4000:]}\n--- stderr ---\n{result.stderr[-8000:]}"
    )
    assert "All checks passed." in result.stdout
