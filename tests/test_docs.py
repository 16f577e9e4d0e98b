"""Execute the ```python code blocks of every docs/**/*.md page (docs/objectives/ too).

The blocks of one page run in order in one fresh namespace, so a page's blocks build on each
other. Blocks fenced as anything other than ``python`` (``text``, ``bash``, ``sh``, ...) are
not run. A failure names the page, the block number and the block's first line in the file.
The pages assert the facts they state, so running them checks the documentation.
"""

from __future__ import annotations

import re
import traceback
import warnings
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = sorted((ROOT / "docs").rglob("*.md"))
FENCE = re.compile(r"^(?P<indent>[ ]{0,3})(?P<fence>`{3,}|~{3,})(?P<info>[^`]*)$")


def python_blocks(text: str) -> list[tuple[int, str]]:
    """Return ``(line number, code)`` for each fenced block whose info string is ``python``.

    >>> python_blocks("a\\n```python\\nx = 1\\n```\\n```text\\ny\\n```\\n")
    [(3, 'x = 1\\n')]
    """
    blocks: list[tuple[int, str]] = []
    lines = text.splitlines(keepends=True)
    i = 0
    while i < len(lines):
        match = FENCE.match(lines[i].rstrip("\n"))
        if not match:
            i += 1
            continue
        fence, info = match["fence"], match["info"].strip().split()
        language = info[0].lower() if info else ""
        body: list[str] = []
        start = i + 2
        i += 1
        while i < len(lines):
            stripped = lines[i].strip()
            if stripped.startswith(fence[0] * len(fence)) and not stripped.strip(fence[0]):
                break
            body.append(lines[i])
            i += 1
        i += 1
        if language in ("python", "py", "python3"):
            blocks.append((start, "".join(body)))
    return blocks


def test_docs_exist():
    names = {path.name for path in DOCS}
    assert {"index.md", "getting-started.md", "decisions.md"} <= names
    nested = {path.relative_to(ROOT / "docs").as_posix() for path in DOCS}
    assert "objectives/predictor.md" in nested   # pages in subfolders are executed too


def test_block_extraction():
    text = "```python\na = 1\n```\n\n```bash\nexit 1\n```\n````python\nb = 2\n````\n"
    assert python_blocks(text) == [(2, "a = 1\n"), (9, "b = 2\n")]


@pytest.mark.parametrize("page", DOCS,
                         ids=[path.relative_to(ROOT / "docs").as_posix() for path in DOCS])
def test_doc_page_runs(page: Path):
    namespace: dict = {"__name__": f"docs_{page.stem.replace('-', '_')}"}
    blocks = python_blocks(page.read_text(encoding="utf-8"))
    where = page.relative_to(ROOT / "docs").as_posix()
    for number, (line, code) in enumerate(blocks, start=1):
        label = f"{where}, python block {number} (line {line})"
        try:
            compiled = compile(code, f"<{label}>", "exec")
            with warnings.catch_warnings():
                warnings.simplefilter("default")
                exec(compiled, namespace)
        except Exception:  # noqa: BLE001 - report any failure with the block's location
            pytest.fail(f"{label} failed:\n{code}\n{traceback.format_exc()}", pytrace=False)
