"""Every relative link of the docs pages (docs/**/*.md) and the README points at a file that
exists, and every ``page.md#anchor`` at a heading of that page (mkdocs' slugs).

``mkdocs build --strict`` (tox env ``docs``) checks the links of the built site as well; this
test runs without mkdocs, in every test env.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = sorted((ROOT / "docs").rglob("*.md")) + [ROOT / "README.md",
                                                ROOT / "benchmarks" / "README.md"]
LINK = re.compile(r"!?\[[^\]]*\]\((?P<target>[^)\s]+)(?:\s+\"[^\"]*\")?\)")
FENCE = re.compile(r"^(`{3,}|~{3,}).*?^\1", re.S | re.M)


def slug(heading: str) -> str:
    """mkdocs' (Python-Markdown toc's) default slug of a heading's text.

    >>> slug("Many entities: grouped sites")
    'many-entities-grouped-sites'
    """
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading).replace("`", "")
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    text = re.sub(r"[^\w\s-]", "", text).strip().lower()
    return re.sub(r"[-\s]+", "-", text)


def anchors(page: Path) -> set[str]:
    text = FENCE.sub("", page.read_text(encoding="utf-8"))
    found: set[str] = set()
    for line in text.splitlines():
        match = re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
        if match:
            base = slug(match.group(1))
            name, n = base, 1
            while name in found:  # repeated headings get _1, _2, ... as in toc
                name, n = f"{base}_{n}", n + 1
            found.add(name)
    return found


def links(page: Path) -> list[str]:
    text = FENCE.sub("", page.read_text(encoding="utf-8"))
    text = re.sub(r"`[^`\n]*`", "", text)  # inline code is not a link
    return [m["target"] for m in LINK.finditer(text)]


def test_slug_examples():
    assert slug("`get_posterior_model` and `get_generative_model`") == (
        "get_posterior_model-and-get_generative_model")
    assert slug("Graph files (issue 13 item 3)") == "graph-files-issue-13-item-3"


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(ROOT)) for p in PAGES])
def test_relative_links_resolve(page: Path):
    broken = []
    for target in links(page):
        if re.match(r"^[a-zA-Z][a-zA-Z+.-]*:", target):
            continue  # http:, https:, mailto:
        path, _, anchor = target.partition("#")
        file = (page.parent / path).resolve() if path else page
        if not file.exists():
            broken.append(f"{target}: no file {file}")
        elif anchor and file.suffix == ".md" and anchor not in anchors(file):
            broken.append(f"{target}: no heading #{anchor} in {file.name}")
    assert not broken, f"{page.name}: " + "; ".join(broken)
