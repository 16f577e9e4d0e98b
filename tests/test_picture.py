"""Pictures of graphs (``show``, ``picture``): the SVG's structure, plates at scale, the HTML
view, and the rendering in a real headless browser (Debian's chromium).

The browser tests skip when chromium is missing, except in CI (the environment variable
``CI`` is set), where a missing browser is a failure: ``.ci/run`` installs it.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import textwrap
import time
import types
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

from bayesgraph.core import Entity, Graph, StaticVariable, Variable, show
from bayesgraph.core.utilities import Picture, picture
from bayesgraph.exceptions import MissingVariableError, OptionError

SVG = "{http://www.w3.org/2000/svg}"


# -- graphs -----------------------------------------------------------------------------------

def _load_make_pictures():
    """docs/make_pictures.py, the script that draws the docs' pictures (it is not a package)."""
    docs = Path(__file__).resolve().parent.parent / "docs"
    spec = importlib.util.spec_from_file_location("make_pictures", docs / "make_pictures.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


MAKE_PICTURES = _load_make_pictures()


def family_graph():
    """The README's family: two founders, two children of theirs (the docs' own graph)."""
    return MAKE_PICTURES.family()[0]


def crowd_graph(n: int):
    """A static slope and ``n`` entities of one template that read it."""
    with Entity("unit") as unit:
        Variable("x", mean=0, variance=1)
    unit_t = unit.get_template("Unit")
    with Graph("crowd") as crowd:
        slope = StaticVariable("slope", mean=0, variance=1)
        units = [unit_t(f"u{i}") for i in range(n)]
    with crowd:
        for member in units:
            member.x.mean = slope
    return crowd


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def classes(element: ET.Element) -> set[str]:
    return set(element.get("class", "").split())


def find(root: ET.Element, cls: str) -> list[ET.Element]:
    return [e for e in root.iter() if cls in classes(e)]


def box_rect(group: ET.Element) -> tuple[float, float, float, float]:
    rect = [r for r in group if r.tag == SVG + "rect"][-1]  # the front frame
    return (float(rect.get("x")), float(rect.get("y")), float(rect.get("width")),
            float(rect.get("height")))


def node_rect(group: ET.Element) -> tuple[float, float, float, float]:
    shape = next(e for e in group if e.tag in (SVG + "ellipse", SVG + "rect"))
    if shape.tag == SVG + "ellipse":
        cx, cy, rx, ry = (float(shape.get(k)) for k in ("cx", "cy", "rx", "ry"))
        return cx - rx, cy - ry, 2 * rx, 2 * ry
    return tuple(float(shape.get(k)) for k in ("x", "y", "width", "height"))


def inside(inner, outer) -> bool:
    return (inner[0] >= outer[0] - 1e-6 and inner[1] >= outer[1] - 1e-6
            and inner[0] + inner[2] <= outer[0] + outer[2] + 1e-6
            and inner[1] + inner[3] <= outer[1] + outer[3] + 1e-6)


def overlap(a, b) -> bool:
    return (a[0] < b[0] + b[2] and b[0] < a[0] + a[2] and a[1] < b[1] + b[3]
            and b[1] < a[1] + a[3])


# -- the SVG's structure ----------------------------------------------------------------------

def test_family_has_a_box_per_entity_a_node_per_variable_an_arrow_per_dependency():
    family = family_graph()
    root = parse(picture(family).svg())
    boxes = {g.get("data-name"): g for g in find(root, "bg-box")}
    assert set(boxes) == {"family", "family/alice", "family/bob", "family/harry",
                          "family/sally"}
    assert "bg-graph" in classes(boxes["family"]) and "bg-entity" in classes(boxes["family/bob"])
    nodes = {g.get("data-name"): g for g in find(root, "bg-node")}
    assert set(nodes) == {v.global_name for v in family.get_all_variables()}
    by_id = {g.get("id"): g.get("data-name") for g in nodes.values()}
    drawn = {(by_id[e.get("data-source")], by_id[e.get("data-target")])
             for e in find(root, "bg-dependency")}
    expected = {(parent, child) for child, parents in
                family.get_all_variable_dependencies().items() for parent in parents}
    assert drawn == expected and len(find(root, "bg-dependency")) == len(expected) == 8
    # Nesting: every node lies in its entity's box, every entity box in the graph's box,
    # and no two nodes or sibling boxes overlap.
    for name, group in nodes.items():
        assert inside(node_rect(group), box_rect(boxes[name.rsplit("/", 1)[0]])), name
    entity_rects = [box_rect(g) for n, g in boxes.items() if n != "family"]
    for rect in entity_rects:
        assert inside(rect, box_rect(boxes["family"]))
    rects = [node_rect(g) for g in nodes.values()]
    for group in (rects, entity_rects):
        for i in range(len(group)):
            for j in range(i):
                assert not overlap(group[i], group[j])
    # A label per node, the node's own name.
    labels = {g.get("data-label") for g in nodes.values()}
    assert labels == {"genetic_factor", "height"}
    texts = {t.text for t in root.iter(SVG + "text")}
    assert {"genetic_factor", "height", "alice", "bob", "harry", "sally", "family"} <= texts


def test_observed_and_partly_observed_variables_are_marked():
    family = family_graph()
    data = {family.sally.height: [170.0, 171.0], "family/alice/height": [160.0, np.nan],
            family.bob.height: [np.nan, np.nan]}
    nodes = {g.get("data-name"): classes(g) for g in find(parse(picture(family, data).svg()),
                                                          "bg-node")}
    assert "bg-observed" in nodes["family/sally/height"]
    assert "bg-partial" in nodes["family/alice/height"]
    assert "bg-latent" in nodes["family/bob/height"]  # all NaN: observes nothing
    assert "bg-latent" in nodes["family/harry/genetic_factor"]
    with pytest.raises(MissingVariableError, match="family/nobody"):
        picture(family, {"family/nobody": [1.0]})


def test_static_and_dynamic_variables_are_told_apart():
    with Graph("lr") as lr:
        a = StaticVariable("a", mean=0, variance=1)
        x = Variable("x", mean=0, variance=9)
        Variable("y", mean=a * x, variance=0.25)
    nodes = {g.get("data-name"): g for g in find(parse(picture(lr).svg()), "bg-node")}
    assert "bg-static" in classes(nodes["lr/a"]) and "bg-dynamic" in classes(nodes["lr/y"])
    assert nodes["lr/a"][1].tag == SVG + "rect" and nodes["lr/y"][1].tag == SVG + "ellipse"


def test_siblings_of_one_structure_are_one_plate_with_their_count():
    crowd = crowd_graph(12)
    pic = picture(crowd, {f"crowd/u{i}/x": [1.0] for i in range(3)})
    root = parse(pic.svg())
    plates = find(root, "bg-plate")
    assert len(plates) == 1 and plates[0].get("data-count") == "12"
    assert plates[0].get("data-name") == "crowd/u0"
    assert any(t.text == "\u00d712" for t in plates[0].iter(SVG + "text"))
    nodes = {g.get("data-name"): g for g in find(root, "bg-node")}
    assert set(nodes) == {"crowd/slope", "crowd/u0/x"}  # one node stands for the 12 x's
    assert "bg-partial" in classes(nodes["crowd/u0/x"])  # 3 of 12 observed
    assert inside(node_rect(nodes["crowd/u0/x"]), box_rect(plates[0]))
    (edge,) = find(root, "bg-dependency")
    assert (edge.get("data-source"), edge.get("data-target")) == (
        nodes["crowd/slope"].get("id"), nodes["crowd/u0/x"].get("id"))
    assert "12 dependencies" in edge.find(SVG + "title").text
    assert pic.counts() == {"boxes": 1, "plates": 1, "nodes": 2, "dependencies": 1,
                            "links": 0}
    # Below plate_min, or with plate_min=None, every entity is drawn.
    assert picture(crowd, plate_min=13).counts()["plates"] == 0
    assert picture(crowd, plate_min=None).counts()["nodes"] == 13
    # Sibling variables of one structure make a plate too.
    with Graph("vs") as vs:
        for i in range(6):
            Variable(f"v{i}", mean=0, variance=1)
    root = parse(picture(vs).svg())
    (plate,) = find(root, "bg-plate")
    assert plate.get("data-count") == "6" and len(find(root, "bg-node")) == 1


def test_plate_members_reading_each_other_get_a_loop():
    with Entity("p") as p:
        Variable("g", mean=0, variance=1)
    person = p.get_template("Person")
    with Graph("line") as line:
        people = [person(f"p{i}") for i in range(8)]
    with line:
        for before, after in zip(people[1:-1], people[2:]):
            after.g.mean = before.g
    root = parse(picture(line).svg())
    plates = find(root, "bg-plate")
    assert [pl.get("data-count") for pl in plates] == ["6"]  # p2..p7; p0, p1 drawn alone
    loops = [e for e in find(root, "bg-dependency")
             if e.get("data-source") == e.get("data-target")]
    assert len(loops) == 1


def test_ten_thousand_entities_are_drawn_in_seconds():
    crowd = crowd_graph(10_000)
    start = time.perf_counter()
    pic = picture(crowd)
    svg, page = pic.svg(), pic.html()
    elapsed = time.perf_counter() - start
    assert elapsed < 3.0, elapsed
    root = parse(svg)
    assert [pl.get("data-count") for pl in find(root, "bg-plate")] == ["10000"]
    assert len(find(root, "bg-node")) == 2 and len(svg) < 20_000
    assert "the first 40 of 10000" in page  # the plate's panel draws 40 members one by one
    assert "u1999 … and 8000 more" in page and "u2000" not in page  # 2000 listed


def test_links_are_dashed_arrows_from_source_to_target():
    """A link between variables is a dashed arrow between their nodes; its target's own
    prior is ignored, so no dependency arrow enters the target."""
    from bayesgraph.core import link

    with Graph("outer") as outer:
        source = Variable("source", mean=0, variance=1)
        other = Variable("other", mean=0, variance=1)
        with Graph("inner"):
            target = Variable("target", mean=other, variance=1)
        link(source, target, name="wire")
    root = parse(picture(outer).svg())
    nodes = {g.get("data-name"): g for g in find(root, "bg-node")}
    ids = {name: g.get("id") for name, g in nodes.items()}
    (arrow,) = find(root, "bg-link")
    assert (arrow.get("data-source"), arrow.get("data-target")) == (
        ids["outer/source"], ids["outer/inner/target"])
    assert arrow.get("stroke-dasharray") and "wire" in arrow.find(SVG + "title").text
    assert not find(root, "bg-dependency")  # target reads `other`, but its prior is ignored
    assert "bg-linked" in classes(nodes["outer/inner/target"])
    assert "bg-linked" not in classes(nodes["outer/source"])
    assert picture(outer).counts()["links"] == 1


def test_links_between_entities_are_one_arrow_between_their_boxes():
    from bayesgraph.core import link

    with Entity("person") as person:
        Variable("g", mean=0, variance=1)
        Variable("h", mean=person.g, variance=1)
    person_t = person.get_template("Person")
    with Graph("sub") as sub:
        with sub.inputs:
            person_t("parent")
        with sub.outputs:
            person_t("child")
        sub.outputs.child.g.mean = sub.inputs.parent.g
    sub_t = sub.get_template("Sub")
    with Graph("top") as top:
        founder = person_t("founder")
        first, second = sub_t("first"), sub_t("second")
        link(founder, first.inputs.parent)
        link(first.outputs.child, second.inputs.parent)
    root = parse(picture(top).svg())
    boxes = {g.get("data-name"): g.get("id") for g in find(root, "bg-box")}
    drawn = {(e.get("data-source"), e.get("data-target")) for e in find(root, "bg-box-link")}
    assert drawn == {(boxes["top/founder"], boxes["top/first/inputs/parent"]),
                     (boxes["top/first/outputs/child"], boxes["top/second/inputs/parent"])}
    linked = {g.get("data-name") for g in find(root, "bg-linked")}
    assert linked == {f"top/{s}/inputs/parent/{v}" for s in ("first", "second") for v in "gh"}
    assert picture(top).counts()["links"] == 2


# -- files, Jupyter, the terminal ---------------------------------------------------------------

def test_show_writes_svg_and_html_files(tmp_path):
    family = family_graph()
    show(family, data={family.sally.height: [170.0]}, path=tmp_path / "family.svg")
    show(family, path=str(tmp_path / "family.html"))
    svg = (tmp_path / "family.svg").read_text(encoding="utf-8")
    assert "bg-observed" in parse(svg).find(f".//{SVG}g[@data-name='family/sally/height']").get(
        "class")
    page = (tmp_path / "family.html").read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and "<script>" in page
    # Offline: no address other than the SVG namespace, nothing fetched.
    assert page.replace("http://www.w3.org/2000/svg", "").count("http") == 0
    assert "src=" not in page and "@import" not in page
    with pytest.raises(OptionError, match="must end in .svg"):
        show(family, path=tmp_path / "family.png")
    with pytest.raises(OptionError, match="plate_min"):
        picture(family, plate_min=1)


def test_show_prints_text_in_a_terminal_and_displays_in_jupyter(capsys, monkeypatch):
    family = family_graph()
    show(family, data={family.sally.height: [170.0]})
    out = capsys.readouterr().out
    assert out.startswith("Graph family") and "height: Variable" in out
    assert sum("[observed]" in line for line in out.splitlines()) == 1

    shown = []

    class ZMQInteractiveShell:  # the class name IPython's kernel shell has
        pass

    ipython = types.ModuleType("IPython")
    ipython.get_ipython = lambda: ZMQInteractiveShell()
    display = types.ModuleType("IPython.display")
    display.display = shown.append
    ipython.display = display
    monkeypatch.setitem(sys.modules, "IPython", ipython)
    monkeypatch.setitem(sys.modules, "IPython.display", display)
    show(family)
    assert capsys.readouterr().out == ""
    (pic,) = shown
    assert isinstance(pic, Picture)
    fragment = pic._repr_html_()
    assert fragment.startswith('<div class="bg-view"') and "<html" not in fragment


def test_pictures_import_no_jax():
    code = textwrap.dedent("""
        import sys
        from bayesgraph.core import Graph, Variable
        from bayesgraph.core.utilities import picture
        with Graph("g") as g:
            Variable("a"); Variable("b", mean=a)
        picture(g, {g.b: [1.0]}).html()
        bad = [m for m in ("jax", "numpyro", "arviz", "IPython") if m in sys.modules]
        assert not bad, bad
    """)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


# -- a real browser ---------------------------------------------------------------------------

def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        path = shutil.which(name)
        if path:
            return path
    message = ("chromium is not installed (Debian: apt-get install chromium); the picture "
               "tests need a headless browser")
    if os.environ.get("CI"):
        pytest.fail(f"{message}; in CI it is required (.ci/run installs it)")
    pytest.skip(message)


def run_browser(args: list[str], tmp_path) -> subprocess.CompletedProcess:
    command = [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
               "--hide-scrollbars", "--no-first-run", "--disable-extensions",
               f"--user-data-dir={tmp_path / 'profile'}", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=120)


def screenshot(url: str, tmp_path, size: tuple[int, int]) -> np.ndarray:
    from matplotlib.image import imread

    target = tmp_path / "shot.png"
    result = run_browser([f"--screenshot={target}", f"--window-size={size[0]},{size[1]}", url],
                         tmp_path)
    assert target.exists(), result.stderr[-2000:]
    return imread(str(target))


def dom(url: str, tmp_path) -> str:
    result = run_browser(["--dump-dom", url], tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def assert_not_blank(image: np.ndarray) -> None:
    rgb = image[..., :3]
    ink = (rgb < 0.9).any(axis=-1).mean()  # share of pixels that are not (near) white
    colours = len(np.unique((rgb * 255).astype(np.uint8).reshape(-1, 3), axis=0))
    assert 0.01 < ink < 0.6, ink
    assert colours > 20, colours


def test_browser_renders_the_family_page(tmp_path):
    family = family_graph()
    pic = picture(family, {family.sally.height: [170.0]})
    pic.save(tmp_path / "family.html")
    pic.save(tmp_path / "family.svg")
    url = (tmp_path / "family.html").as_uri()
    assert_not_blank(screenshot(url, tmp_path, (800, 700)))
    assert_not_blank(screenshot((tmp_path / "family.svg").as_uri(), tmp_path, (600, 560)))
    page = dom(url, tmp_path)
    assert 'data-ready="1"' in page  # the inline script ran
    for var in family.get_all_variables():
        assert f'data-name="{var.global_name}"' in page
        assert f">{var.name}</text>" in page
    for name in ("alice", "bob", "harry", "sally"):
        assert f">{name}</text>" in page


def test_browser_renders_ten_thousand_entities(tmp_path):
    crowd = crowd_graph(10_000)
    picture(crowd).save(tmp_path / "crowd.html")
    url = (tmp_path / "crowd.html").as_uri()
    assert_not_blank(screenshot(url, tmp_path, (900, 700)))
    page = dom(url, tmp_path)
    assert 'data-ready="1"' in page and "\u00d710000" in page
    assert ">slope</text>" in page and ">x</text>" in page
    assert "the first 40 of 10000" in page


def test_constants_split_a_plate_only_when_they_take_few_values():
    with Entity("woman") as woman:
        Variable("height", mean=167, variance=25)
    with Entity("man") as man:
        Variable("height", mean=175, variance=25)
    woman_t, man_t = woman.get_template("Woman"), man.get_template("Man")
    with Graph("people") as people:
        for i in range(12):
            (woman_t if i % 2 == 0 else man_t)(f"p{i}")
    counts = sorted(int(p.get("data-count")) for p in find(parse(picture(people).svg()),
                                                           "bg-plate"))
    assert counts == [6, 6]  # two constants: women and men apart
    with Graph("covariates") as covariates:
        for i in range(12):
            with Entity(f"c{i}"):
                Variable("y", mean=float(i), variance=1)  # a constant per entity
    counts = [p.get("data-count") for p in find(parse(picture(covariates).svg()), "bg-plate")]
    assert counts == ["12"]


def test_the_pictures_in_the_docs_are_up_to_date():
    """docs/images/*.svg are what docs/make_pictures.py draws now (rerun it after a change)."""
    docs = Path(__file__).resolve().parent.parent / "docs"
    made = MAKE_PICTURES.pictures()
    assert set(made) == {"family.svg", "make_daughter.svg", "pedigree.svg",
                         "three_generations.svg"}
    for name, svg in made.items():
        path = docs / "images" / name
        assert path.exists() and path.read_text(encoding="utf-8") == svg, (
            f"docs/images/{name} is out of date: run PYTHONPATH=src python docs/make_pictures.py")


def test_linked_members_of_one_plate_get_a_loop_and_nested_plates_count_all_members():
    from bayesgraph.core import link

    with Entity("person") as person:
        Variable("g", mean=0, variance=1)
    person_t = person.get_template("Person")
    with Graph("row") as row:
        people = [person_t(f"p{i}") for i in range(7)]
        for before, after in zip(people[1:-1], people[2:]):
            link(before, after)
    root = parse(picture(row).svg())
    (loop,) = [e for e in find(root, "bg-box-link")
               if e.get("data-source") == e.get("data-target")]
    (plate,) = find(root, "bg-plate")
    assert loop.get("data-source") == plate.get("id") and plate.get("data-count") == "7"

    # A plate of 6 families, each with a plate of 5 children: one node per child variable
    # stands for all 30, and observing 3 of them half-shades it.
    with Entity("child") as child:
        Variable("h", mean=0, variance=1)
    child_t = child.get_template("Child")
    with Entity("household") as household:
        for i in range(5):
            child_t(f"c{i}")
    household_t = household.get_template("Household")
    with Graph("town") as town:
        homes = [household_t(f"home{i}") for i in range(6)]
    data = {homes[i].c0.h: [1.0] for i in range(3)}
    pic = picture(town, data)
    root = parse(pic.svg())
    counts = sorted(int(p.get("data-count")) for p in find(root, "bg-plate"))
    assert counts == [5, 6]
    (node,) = find(root, "bg-node")
    assert "bg-partial" in classes(node) and "30 variables" in node.find(SVG + "title").text
    assert "3 observed" in node.find(SVG + "title").text
    assert "home0 \u2026 home5: all 6" in pic.html()
