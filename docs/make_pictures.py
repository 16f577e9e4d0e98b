"""Draw the pictures of docs/pictures.md into docs/images/ (run it after changing the renderer).

    PYTHONPATH=src python docs/make_pictures.py

``tests/test_picture.py`` checks that the committed files equal what this script draws now.
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

from bayesgraph.core import Entity, Graph, Variable, link
from bayesgraph.core.scope import no_name_injection
from bayesgraph.core.utilities import picture

IMAGES = Path(__file__).resolve().parent / "images"


@no_name_injection()
def templates():
    """Halerium's inheritance example (section 8.1): Man, Woman and the MakeDaughter graph."""
    with Entity("person") as person:
        Variable("height", shape=())
        Variable("genetic_factor", shape=(), mean=0, variance=75)
    person_t = person.get_template("Person")
    man, woman = person_t("man"), person_t("woman")
    man.height.mean, man.height.variance = 175 + man.genetic_factor, 25.0
    woman.height.mean, woman.height.variance = 167 + woman.genetic_factor, 25.0
    man_t, woman_t = man.get_template("Man"), woman.get_template("Woman")
    with Graph("make_daughter") as make_daughter:
        with make_daughter.inputs:
            man_t("father")
            woman_t("mother")
        with make_daughter.outputs:
            woman_t("daughter")
        daughter = make_daughter.outputs.daughter
        father, mother = make_daughter.inputs.father, make_daughter.inputs.mother
        daughter.genetic_factor.mean = (father.genetic_factor + mother.genetic_factor) / 2.0
        daughter.genetic_factor.variance = 37.5
    return man_t, woman_t, make_daughter


@no_name_injection()
def family():
    """The README's family and data observing sally's height."""
    with Entity("woman") as woman:
        factor = Variable("genetic_factor", shape=(), mean=0, variance=75)
        Variable("height", shape=(), mean=167 + factor, variance=25)
    with Entity("man") as man:
        factor = Variable("genetic_factor", shape=(), mean=0, variance=75)
        Variable("height", shape=(), mean=175 + factor, variance=25)
    woman_t, man_t = woman.get_template("Woman"), man.get_template("Man")
    with Graph("family") as graph:
        alice, bob = woman_t("alice"), man_t("bob")
        harry, sally = man_t("harry"), woman_t("sally")
    for child in (harry, sally):
        child.genetic_factor.mean = (alice.genetic_factor + bob.genetic_factor) / 2
        child.genetic_factor.variance = 37.5
    return graph, {graph.sally.height: [170.0]}


@no_name_injection()
def pedigree(n: int = 10_000, founders: int = 1_000):
    """``n`` persons (even: women, odd: men); each after the founders has a mother and a
    father drawn from the persons before; heights observed for every third person."""
    man_t, woman_t, _ = templates()
    with Graph("pedigree") as graph:
        persons = [(woman_t if i % 2 == 0 else man_t)(f"p{i}") for i in range(n)]
    rng = random.Random(0)
    for i in range(founders, n):
        mother = persons[2 * rng.randrange(i // 2)]
        father = persons[2 * rng.randrange((i - 1) // 2) + 1]
        child = persons[i].genetic_factor
        child.mean = (mother.genetic_factor + father.genetic_factor) / 2
        child.variance = 37.5
    return graph, {persons[i].height: [170.0] for i in range(0, n, 3)}


@no_name_injection()
def three_generations():
    """Grandparents, their daughter (made by MakeDaughter) and her daughter (made by
    MakeDaughter again), wired with links (the three-generation family of issue 13)."""

    man_t, woman_t, make_daughter = templates()
    make_daughter_t = make_daughter.get_template("MakeDaughter")
    with Graph("three_generations") as graph:
        grandfather, grandmother, father = man_t("grandfather"), woman_t("grandmother"), \
            man_t("father")
        first, second = make_daughter_t("first"), make_daughter_t("second")
        link(grandfather, first.inputs.father)
        link(grandmother, first.inputs.mother)
        link(first.outputs.daughter, second.inputs.mother)
        link(father, second.inputs.father)
    data = {graph.grandmother.height: [165.0],
            graph.second.outputs.daughter.height: [172.0]}
    return graph, data


def pictures() -> dict[str, str]:
    """``{file name: SVG text}`` of every picture of the docs."""
    made = {}
    graph, data = family()
    made["family.svg"] = picture(graph, data).svg()
    made["make_daughter.svg"] = picture(templates()[2]).svg()
    graph, data = pedigree()
    made["pedigree.svg"] = picture(graph, data).svg()
    made["three_generations.svg"] = picture(*three_generations()).svg()
    return made


def main() -> None:
    IMAGES.mkdir(exist_ok=True)
    for name, svg in pictures().items():
        (IMAGES / name).write_text(svg, encoding="utf-8")
        print(f"wrote {IMAGES / name}", file=sys.stderr)


if __name__ == "__main__":
    main()
