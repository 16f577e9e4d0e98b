"""MAPFisher's results on the pedigree: one fitted model, then ``get_means`` +
``get_variances`` of every genetic factor, then ``get_variances`` again (seconds), and the
curvature check's status; with ``N <= 3000`` also the rms relative error of the variances
against the exact ones (MAPFisher is dense up to 3,333 persons: give ``MAX_DENSE``, e.g.
10, to force the matrix-free path).

Usage (run it back to back on two checkouts to compare them at the same load)::

    PYTHONPATH=src python benchmarks/bench_mapfisher_results.py 10000 LABEL
    PYTHONPATH=src python benchmarks/bench_mapfisher_results.py 1000 LABEL 10
"""

from __future__ import annotations

import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_pedigree as bp  # noqa: E402


def main(n: int, label: str, max_dense: int = 5000) -> None:
    from bayesgraph.core.model import MAPFisherModel

    graph, persons, data = bp.build(n, 0)
    warnings.simplefilter("ignore")
    model = MAPFisherModel(graph, data=data, seed=0, max_dense_dimension=max_dense)
    start = time.perf_counter()
    model.solve()
    solve = time.perf_counter() - start
    factors = [p.genetic_factor for p in persons]
    start = time.perf_counter()
    model.get_means(factors)
    first = np.ravel(model.get_variances(factors))
    results = time.perf_counter() - start
    start = time.perf_counter()
    second = np.ravel(model.get_variances(factors))
    again = time.perf_counter() - start
    status = model.curvature.status if model.curvature else None
    print(f"{label}: solve(incl. check) {solve:.2f} results {results:.2f} second "
          f"get_variances {again:.2f} status {status}", flush=True)
    if n <= 3000:
        _, exact = bp.exact(n, 0, variances=True)
        errors = [np.sqrt(np.mean((v / exact - 1) ** 2)) for v in (first, second)]
        print(f"  rms relative error of the variances: {errors[0]:.3f}, {errors[1]:.3f}")


if __name__ == "__main__":
    main(int(sys.argv[1]), sys.argv[2] if len(sys.argv) > 2 else "",
         int(sys.argv[3]) if len(sys.argv) > 3 else 5000)
