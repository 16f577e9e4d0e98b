"""Where MAPFisher's matrix-free path spends its time on the pedigree: seconds to build the
graph, to construct the model, to solve (with the curvature check) and for
``get_variances`` of every genetic factor (100 draws), each split into the jitted
functions it called (Lanczos pass, second pass or stored vectors, control variate, CG),
with call counts, the Lanczos steps used and the peak memory of the process.

Usage::

    PYTHONPATH=src python benchmarks/bench_mapfisher_draws.py 100000
    XLA_FLAGS=--xla_force_host_platform_device_count=8 PYTHONPATH=src \\
        python benchmarks/bench_mapfisher_draws.py 1000000
    PYTHONPATH=src python benchmarks/bench_mapfisher_draws.py 100000 --basis-values 0

``--basis-values 0`` regenerates the Lanczos vectors (two passes of products per draw)
instead of keeping them (``map_fisher.BASIS_VALUES``), to compare the two.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_pedigree as bp  # noqa: E402

TIMED = ("lanczos", "steps", "from_basis", "control", "covariance", "draw")


def timed(model, calls: dict) -> None:
    """Wrap the model's jitted functions so that each call is timed to completion."""
    import jax

    for name in TIMED:
        if name in model._fns:
            def wrapper(*args, _function=model._fns[name], _name=name, **kwargs):
                start = time.perf_counter()
                out = jax.block_until_ready(_function(*args, **kwargs))
                count = calls.setdefault(_name, [0, 0.0])
                count[0] += 1
                count[1] += time.perf_counter() - start
                return out
            model._fns[name] = wrapper


def show(stage: str, seconds: float, calls: dict, **extra) -> None:
    parts = ", ".join(f"{k} {c} calls {s:.1f} s" for k, (c, s) in calls.items())
    more = "".join(f", {k} {v}" for k, v in extra.items())
    print(f"{stage}: {seconds:.1f} s ({parts}){more}", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", type=int, help="persons")
    parser.add_argument("--basis-values", type=float, default=None,
                        help="override map_fisher.BASIS_VALUES (0: always two passes)")
    args = parser.parse_args(argv)
    import warnings

    import jax

    jax.config.update("jax_enable_x64", True)
    from bayesgraph.core.model import MAPFisherModel, map_fisher

    if args.basis_values is not None:
        map_fisher.BASIS_VALUES = int(args.basis_values)
    warnings.simplefilter("ignore")
    start = time.perf_counter()
    graph, persons, data = bp.build(args.n, 0)
    show("build", time.perf_counter() - start, {})
    start = time.perf_counter()
    model = MAPFisherModel(graph, data=data, seed=0)
    show("construct", time.perf_counter() - start, {}, unknowns=model.dimension,
         devices=len(model.devices or ()) or 1)
    calls: dict = {}
    timed(model, calls)
    start = time.perf_counter()
    model.solve()
    show("solve", time.perf_counter() - start, calls, check=model.curvature.status)
    calls.clear()
    start = time.perf_counter()
    model.get_variances([p.genetic_factor for p in persons])
    show("get_variances", time.perf_counter() - start, calls,
         steps=model.lanczos_steps_used)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak MB {peak:.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
