"""Benchmark: writing and reading graph files of pedigrees (issue 13 item 3).

A pedigree of ``N`` persons (one entity per person from a template; from the third person
on, each ``genetic_factor`` has mean ``(a + b) / 2`` of two earlier persons and variance
37.5) is written with ``dump_string``, read with ``Graph.from_specification`` and written
again. Reported per size: the text's size, the time to write, to read (parsing, limits and
building the graph), and, for scale, to lower the same graph (``lower``, what every model
does first). The script exits with status 1 if writing the loaded graph does not give the
same text.

Usage::

    PYTHONPATH=src python benchmarks/bench_files.py
    PYTHONPATH=src python benchmarks/bench_files.py --persons 1000 10000
"""

from __future__ import annotations

import argparse
import sys
import time

import bayesgraph
from bayesgraph.core import Entity, Graph, Variable
from bayesgraph.core.lowering import lower


def pedigree(n: int) -> Graph:
    with bayesgraph.no_name_injection():
        with Entity("person") as person:
            factor = Variable("genetic_factor", mean=0, variance=75)
            Variable("height", mean=167 + factor, variance=25)
        person_template = person.get_template("Person")
        with Graph("pedigree") as graph:
            people = [person_template(f"p{i}") for i in range(n)]
            for i in range(2, n):
                a, b = people[(i - 1) // 2], people[(i - 2) // 2]
                people[i].genetic_factor.mean = (a.genetic_factor + b.genetic_factor) / 2
                people[i].genetic_factor.variance = 37.5
    return graph


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, nargs="+", default=[1000, 10000])
    args = parser.parse_args()
    print(f"{'persons':>8} {'MB':>6} {'write s':>8} {'read s':>7} {'lower s':>8}")
    status = 0
    for n in args.persons:
        graph = pedigree(n)
        start = time.perf_counter()
        text = graph.dump_string()
        written = time.perf_counter()
        loaded = Graph.from_specification(text)
        read = time.perf_counter()
        again = loaded.dump_string()
        start_lower = time.perf_counter()
        lower(graph)
        lowered = time.perf_counter()
        if again != text:
            print(f"{n}: writing the loaded graph gave a different text", file=sys.stderr)
            status = 1
        print(f"{n:>8} {len(text) / 1e6:>6.1f} {written - start:>8.2f} {read - written:>7.2f} "
              f"{lowered - start_lower:>8.2f}")
    return status


if __name__ == "__main__":
    sys.exit(main())
