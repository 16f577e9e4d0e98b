"""mkdocs hooks of the documentation site (mkdocs.yml: ``hooks: [docs_hooks.py]``).

What they add to the markdown pages in docs/:

* **the navigation**, from the pages present at build time: pages listed in ``SECTIONS`` appear
  in that order when their file exists (so a page that another branch has not merged yet is
  simply left out), every other page of docs/ under "More";
* **the gallery**: one page per script in examples/ with its source and its output, the
  script executed while the site is built (``BAYESGRAPH_DOCS_EXECUTE=0`` skips that and says
  so on the page), one page per notebook with its cells, and a page of the graph pictures in
  docs/images/;
* **the performance page**, benchmarks/README.md with its links made relative to the site;
* **the API reference**, one mkdocstrings entry per public object (``__all__`` of
  ``bayesgraph.core``, ``bayesgraph.core.model``, ``bayesgraph.core.distribution``, the
  exceptions and the command line);
* **links to repository files**: a link from a page to ``../examples/x.py`` goes to the
  gallery page of that script, ``../benchmarks/README.md`` to the performance page, another
  docs page to that page; a link to any other file of the repository that exists becomes its
  path in code font (the site does not serve the repository). A link to a file that does not
  exist is left alone, so ``mkdocs build --strict`` fails on it.
"""

from __future__ import annotations

import json
import os
import posixpath
import re
import subprocess
import sys
import time
from pathlib import Path

from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File

ROOT = Path(__file__).resolve().parent
DOCS = ROOT / "docs"
EXAMPLES = ROOT / "examples"

#: (section title, pages in order); a page is listed only if it exists at build time
SECTIONS: list[tuple[str, list[str]]] = [
    ("Home", ["index.md"]),
    ("Getting started", ["getting-started.md", "cli.md"]),
    ("Concepts", ["graphs-and-templates.md", "graphs.md", "templates.md", "expressions.md",
                  "distributions.md",
                  "data.md", "links.md", "timeseries.md", "time-series.md", "time_series.md",
                  "causal-structure.md", "files.md", "pictures.md"]),
    ("Objectives", ["objectives.md", "objectives/trainer.md", "objectives/predictor.md",
                    "objectives/evaluator.md", "objectives/probability-estimator.md",
                    "objectives/rank-estimator.md", "objectives/outlier-detector.md",
                    "objectives/influence-estimator.md",
                    "objectives/intervention-predictor.md"]),
    ("Inference methods", ["mcmc.md", "advi.md", "mgvi.md", "forward-optimizer.md", "arviz.md",
                           "trust.md"]),
    ("Examples gallery", ["gallery/index.md"]),  # the gallery's pages are added below
    ("Coming from other tools", ["coming-from-halerium.md", "coming-from-pymc-stan.md"]),
    ("Performance", ["performance.md", "scaling.md"]),
    ("API reference", ["api/index.md"]),
    ("Design decisions", ["decisions.md"]),
]

#: pictures of docs/images/ shown in the gallery's pictures page, with their captions
PICTURES = {
    "family.svg": "The README's family: two founders and their two children.",
    "three_generations.svg": "Three generations chained with links (docs/links.md).",
    "make_daughter.svg": "The graph template MakeDaughter of the inheritance example.",
    "pedigree.svg": "A pedigree of many persons, drawn with plates.",
}

#: example script -> picture of its graph in docs/images/
EXAMPLE_PICTURES = {"what_happens_during_training": "family.svg"}

_generated: dict[str, str] = {}
_notebook_pages: set[str] = set()


# -- the pages made at build time ----------------------------------------------------------

def _docstring(path: Path) -> tuple[str, str]:
    """The title (first line) and the rest of a script's module docstring."""
    import ast

    doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or path.stem
    first, _, rest = doc.partition("\n")
    return first.strip().rstrip("."), rest.strip()


def _run_examples(scripts: list[Path]) -> dict[str, str]:
    """Run the scripts side by side; their stdout, or a note when execution is switched off."""
    if os.environ.get("BAYESGRAPH_DOCS_EXECUTE", "1") == "0":
        return {s.stem: "(not executed in this build: BAYESGRAPH_DOCS_EXECUTE=0)" for s in scripts}
    env = dict(os.environ)
    paths = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    env["PYTHONPATH"] = os.pathsep.join([*paths, str(ROOT / "src")])
    env.setdefault("MPLBACKEND", "Agg")
    started = time.perf_counter()
    running = {s.stem: subprocess.Popen([sys.executable, str(s)], cwd=ROOT, env=env,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                        text=True) for s in scripts}
    outputs = {}
    for name, process in running.items():
        try:
            stdout, stderr = process.communicate(timeout=300)
        except subprocess.TimeoutExpired:
            process.kill()
            raise PluginError(f"examples/{name}.py ran for more than 300 s") from None
        if process.returncode != 0:
            raise PluginError(f"examples/{name}.py exited with status {process.returncode}:\n"
                              f"{stderr[-3000:]}")
        outputs[name] = stdout.rstrip()
    print(f"INFO    -  gallery: ran {len(scripts)} examples in "
          f"{time.perf_counter() - started:.1f} s", file=sys.stderr)
    return outputs


def _fence(text: str, language: str) -> str:
    ticks = "````" if "```" in text else "```"
    return f"{ticks}{language}\n{text.rstrip()}\n{ticks}\n"


def _gallery() -> dict[str, str]:
    pages: dict[str, str] = {}
    scripts = sorted(EXAMPLES.glob("*.py"))
    notebooks = sorted(EXAMPLES.glob("*.ipynb"))
    outputs = _run_examples(scripts)
    entries = []
    for script in scripts:
        title, rest = _docstring(script)
        picture = EXAMPLE_PICTURES.get(script.stem)
        body = [f"# {title}\n", rest + "\n",
                f"The script is `examples/{script.name}`; it checks its own answers and "
                "ends with *All checks passed.*\n"]
        if picture and (DOCS / "images" / picture).exists():
            body.append(f"![The graph of this example](../images/{picture})\n")
        body += ["## Output\n", "Printed when this site was built:\n",
                 _fence(outputs[script.stem], "text"),
                 "## Source\n", _fence(script.read_text(encoding="utf-8"), "python")]
        pages[f"gallery/{script.stem}.md"] = "\n".join(body)
        entries.append(f"* [{title}]({script.stem}.md) (`examples/{script.name}`)")
    for notebook in notebooks:
        cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
        body = []
        for cell in cells:
            source = "".join(cell["source"])
            if cell["cell_type"] == "markdown":
                body.append(source + "\n")
            elif cell["cell_type"] == "code":
                body.append(_fence(source, "python"))
        text = "\n".join(body)
        title = next((line[2:].strip() for line in text.splitlines() if line.startswith("# ")),
                     notebook.stem)
        note = (f"\nThe notebook `examples/{notebook.name}`, executed with a Jupyter kernel by "
                "`tests/test_notebooks.py`; its cells assert the closed-form answers.\n")
        lines = text.splitlines()
        heading = next(i for i, line in enumerate(lines) if line.startswith("# ")) \
            if any(line.startswith("# ") for line in lines) else -1
        if heading < 0:
            text = f"# {title}\n{note}\n{text}"
        else:
            lines.insert(heading + 1, note)
            text = "\n".join(lines)
        pages[f"gallery/{notebook.stem}_notebook.md"] = text
        _notebook_pages.add(f"gallery/{notebook.stem}_notebook.md")
        entries.append(f"* [{title}]({notebook.stem}_notebook.md) (notebook "
                       f"`examples/{notebook.name}`)")
    pictures = ["# Pictures of graphs\n",
                "Drawn by `show(graph, path=...)` (see [Pictures of graphs](../pictures.md)); "
                "`docs/make_pictures.py` makes them.\n"]
    for name, caption in PICTURES.items():
        if (DOCS / "images" / name).exists():
            pictures += [f"## {caption}\n", f"![{caption}](../images/{name})\n"]
    pages["gallery/pictures.md"] = "\n".join(pictures)
    entries.append("* [Pictures of graphs](pictures.md): the pictures of docs/images/")
    pages["gallery/index.md"] = "\n".join([
        "# Examples gallery\n",
        "Each example checks its answers against closed forms. The scripts are executed while "
        "the site is built and their output is shown; the notebooks are executed by the tests.\n",
        *entries, ""])
    return pages


def _performance() -> str:
    text = (ROOT / "benchmarks" / "README.md").read_text(encoding="utf-8")
    text = re.sub(r"^# Benchmarks", "# Performance: the benchmark tables", text, count=1,
                  flags=re.M)
    intro = ("This page is `benchmarks/README.md`: each table says the command that measures "
             "it (run from the repository's root).\n")
    first, _, rest = text.partition("\n")
    return _rewrite_links(f"{first}\n\n{intro}{rest}", "benchmarks", "performance.md")


def _api_pages() -> dict[str, str]:
    sys.path.insert(0, str(ROOT / "src"))
    import bayesgraph.core as core
    import bayesgraph.core.distribution as distribution
    import bayesgraph.core.model as model
    from bayesgraph.core.operator.functions import __all__ as functions

    def entry(obj: object, fallback: str) -> str:
        module = getattr(obj, "__module__", None)
        qualname = getattr(obj, "__qualname__", None)
        if module and qualname and module.startswith("bayesgraph"):
            return f"::: {module}.{qualname}\n"
        return f"::: {fallback}\n"

    language = [n for n in core.__all__ if n not in functions
                and n not in ("distribution", "operator", "get_posterior_model",
                              "get_generative_model")]
    pages = {
        "api/language.md": ["# The modelling language\n",
                            "`from bayesgraph.core import ...`\n",
                            *[entry(getattr(core, n), f"bayesgraph.core.{n}") for n in language]],
        "api/functions.md": ["# Expression functions\n",
                             "`from bayesgraph.core import exp, log, ...`: functions of "
                             "variables and expressions (see [Expressions](../expressions.md)).\n",
                             *[entry(getattr(core, n), f"bayesgraph.core.{n}")
                               for n in functions]],
        "api/models.md": ["# Models\n", "`from bayesgraph.core.model import ...`\n",
                          *[entry(getattr(model, n), f"bayesgraph.core.model.{n}")
                            for n in model.__all__ if n != "METHODS"],
                          "::: bayesgraph.core.model.factory.METHODS\n",
                          "::: bayesgraph.core.model.inference_data\n"],
        "api/distributions.md": ["# Distributions\n",
                                 "`from bayesgraph.core.distribution import ...`; see "
                                 "[Distributions and constraints](../distributions.md).\n",
                                 *[entry(getattr(distribution, n),
                                         f"bayesgraph.core.distribution.{n}")
                                   for n in getattr(distribution, "__all__", [])]],
        "api/files.md": ["# Graph files\n", "See [Graph files](../files.md).\n",
                         "::: bayesgraph.core.graph.specification.Limits\n"],
        "api/exceptions.md": ["# Errors and warnings\n", "::: bayesgraph.exceptions\n"],
        "api/cli.md": ["# The command line\n", "See [Command line](../cli.md).\n",
                       "::: bayesgraph.cli\n"],
        "api/package.md": ["# The package\n", "::: bayesgraph\n"],
    }
    index = ["# API reference\n",
             "Generated from the docstrings (numpy style) of every public object:\n",
             "* [The modelling language](language.md): graphs, entities, variables, templates,"
             " links, pictures",
             "* [Expression functions](functions.md)",
             "* [Models](models.md): the seven model classes, the factories, the ArviZ export",
             "* [Distributions](distributions.md)",
             "* [Graph files](files.md)",
             "* [Errors and warnings](exceptions.md)",
             "* [The command line](cli.md)",
             "* [The package](package.md): name injection switches and the version", ""]
    result = {name: "\n".join(lines) for name, lines in pages.items()}
    result["api/index.md"] = "\n".join(index)
    return result


# -- links ---------------------------------------------------------------------------------

LINK = re.compile(r"(?<!!)\[(?P<text>[^\]]*)\]\((?P<target>[^)\s]+)\)")


def _rewrite_links(markdown: str, base: str, page: str) -> str:
    """Rewrite relative links of a page whose text lives in repository folder ``base``.

    ``page`` is the page's path in the site (``gallery/x.md``).
    """
    page_dir = posixpath.dirname(page)

    def site_link(site_path: str, fragment: str) -> str:
        return posixpath.relpath(site_path, page_dir or ".") + fragment

    def replace(match: re.Match) -> str:
        target = match["target"]
        if re.match(r"^[a-z]+:", target) or target.startswith(("#", "/")):
            return match[0]
        path, hash_, anchor = target.partition("#")
        fragment = hash_ + anchor
        repo = posixpath.normpath(posixpath.join(base, path))
        if repo.startswith("docs/"):
            inside = repo[len("docs/"):]
            if base == "docs" and posixpath.normpath(posixpath.join(page_dir, path)) == inside:
                return match[0]
            return f"[{match['text']}]({site_link(inside, fragment)})"
        if repo.startswith("examples/") and repo.endswith((".py", ".ipynb")):
            stem, suffix = posixpath.splitext(posixpath.basename(repo))
            page_name = f"gallery/{stem}{'_notebook' if suffix == '.ipynb' else ''}.md"
            return f"[{match['text']}]({site_link(page_name, '')})"
        if repo == "benchmarks/README.md":
            return f"[{match['text']}]({site_link('performance.md', fragment)})"
        if (ROOT / repo).exists() and not repo.startswith(".."):
            text = match["text"]
            return text if text.strip("`") == repo else f"{text} (`{repo}`)"
        return match[0]  # not found: left for mkdocs --strict to report

    return LINK.sub(replace, markdown)


# -- mkdocs events -------------------------------------------------------------------------

def on_config(config):
    _generated.clear()
    started = time.perf_counter()
    _generated.update(_gallery())
    _generated["performance.md"] = _performance()
    _generated.update(_api_pages())
    print(f"INFO    -  generated {len(_generated)} pages in "
          f"{time.perf_counter() - started:.1f} s", file=sys.stderr)
    present = {p.relative_to(DOCS).as_posix() for p in DOCS.rglob("*.md")} | set(_generated)
    nav, listed = [], set()
    for title, pages in SECTIONS:
        found = [p for p in pages if p in present]
        if title == "Examples gallery":
            found += sorted(p for p in present if p.startswith("gallery/") and p not in found)
        if title == "API reference":
            found += [p for p in ("api/language.md", "api/functions.md", "api/models.md",
                                  "api/distributions.md", "api/files.md",
                                  "api/exceptions.md", "api/cli.md", "api/package.md")
                      if p in present]
        listed.update(found)
        if found:
            nav.append({title: found} if len(found) > 1 or title != "Home" else found[0])
    more = sorted(p for p in present if p not in listed)
    if more:
        nav.append({"More": more})
    config["nav"] = nav
    return config


def on_files(files, config):
    for name, content in _generated.items():
        files.append(File.generated(config, name, content=content))
    return files


def on_page_markdown(markdown, page, config, files):
    uri = page.file.src_uri
    if uri == "performance.md" and uri in _generated:
        return markdown  # rewritten from benchmarks/ already
    if uri in _notebook_pages:
        base = "examples"
    else:
        base = posixpath.join("docs", posixpath.dirname(uri)).rstrip("/")
    return _rewrite_links(markdown, base, uri)
