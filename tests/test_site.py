"""The built documentation site in a real headless browser: the index and a gallery page.

Where the site comes from: ``BAYESGRAPH_SITE_DIR`` (the tox env ``docs`` builds it with
``mkdocs build --strict`` and then runs this file on it); otherwise, when mkdocs is importable
(the ``docs`` extra), the test builds the site itself in a temporary folder, without executing
the examples (``BAYESGRAPH_DOCS_EXECUTE=0``, about 10 s). Without mkdocs it skips, also in CI:
the ``docs`` env is where CI runs it. A missing chromium is a skip locally and a failure when
``CI`` is set (``.ci/run`` installs chromium), as in tests/test_picture.py.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from test_picture import assert_not_blank, dom, screenshot

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    given = os.environ.get("BAYESGRAPH_SITE_DIR")
    if given:
        path = Path(given)
        assert (path / "index.html").is_file(), f"{path} holds no built site (mkdocs build)"
        return path
    pytest.importorskip("mkdocs", reason="the docs extra is not installed (pip install .[docs])")
    pytest.importorskip("mkdocstrings")
    target = tmp_path_factory.mktemp("site")
    env = dict(os.environ, BAYESGRAPH_DOCS_EXECUTE="0", NO_MKDOCS_2_WARNING="1")
    env["PYTHONPATH"] = os.pathsep.join(
        [p for p in [env.get("PYTHONPATH", ""), str(ROOT / "src")] if p])
    result = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-d",
                             str(target)], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr[-4000:]
    return target


@pytest.mark.parametrize("page, title", [
    ("index.html", "bayesgraph documentation"),
    ("gallery/what_happens_during_training.html", "What happens during model creation"),
])
def test_page_renders(site: Path, page: str, title: str, tmp_path):
    url = (site / page).as_uri()
    image = screenshot(url, tmp_path, (1280, 900))
    assert_not_blank(image)
    html = dom(url, tmp_path)
    heading = re.search(r"<h1[^>]*>(.*?)</h1>", html, re.S)
    assert heading and title in re.sub(r"<[^>]+>", "", heading.group(1)), heading
    assert "<title>" in html and "bayesgraph" in html.split("<title>")[1].split("</title>")[0]
