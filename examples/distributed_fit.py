"""One model fitted by several processes (hosts) joined with ``jax.distributed``.

Every process runs this script with the same coordinator address and its own process id::

    python examples/distributed_fit.py --coordinator HOST:PORT --num-processes 2 --process-id 0
    python examples/distributed_fit.py --coordinator HOST:PORT --num-processes 2 --process-id 1

Each process

1. calls ``jax.distributed.initialize(coordinator, num_processes, process_id)`` before any
   model exists (on CPU the cross-process collectives go through gloo);
2. loads its own slice of the rows (here: draws them from a seeded generator), and the
   processes exchange their slices (``multihost_utils.process_allgather``), because a
   model lowers all rows (the program's shapes are global);
3. builds the model with ``devices=None``: with several processes that is every device of
   every process, and each device receives only its shard of the rows
   (``jax.make_array_from_callback``);
4. ends with the same answer as every other process, and as one process alone.

Run without arguments, the script is its own test: it starts two worker processes on
localhost (a free port), fits the same data in this process on one device, and checks that
all three answers agree to 1e-8 relative (MAP modes and MAPFisher sds). They are not bit
for bit equal: the processes sum the log-density in another order, so L-BFGS takes slightly
different steps and stops at another point inside its tolerance (measured: 2e-9 relative).
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys

N_ROWS = 2_000


def rows(start: int, stop: int):
    """Rows ``start:stop`` of the data set (the same rows whichever process asks)."""
    import numpy as np

    rng = np.random.default_rng(42)
    x = rng.normal(0, 3, N_ROWS)
    y = 0.4967 * x - 0.1383 + rng.normal(0, 0.5, N_ROWS)
    y[::97] = np.nan  # holes: inferred, and sharded with the rows
    return x[start:stop], y[start:stop]


def fit(devices):
    """MAP and MAPFisher of the seed regression (noise sd unknown) on all rows."""
    import numpy as np

    from bayesgraph.core import Graph, StaticVariable, Variable
    from bayesgraph.core.model import MAPFisherModel, MAPModel

    with Graph("reg") as reg:
        a = StaticVariable("a", mean=0, variance=1)
        b = StaticVariable("b", mean=0, variance=1)
        s = StaticVariable("s", distribution="HalfNormalDistribution", scale=1)
        x = Variable("x")
        Variable("y", mean=a + b * x, variance=s ** 2)
    x_all, y_all = rows_of_this_run()
    data = {reg.x: x_all, reg.y: y_all}
    mode = MAPModel(reg, data=data, devices=devices, seed=0).solve()
    laplace = MAPFisherModel(reg, data=data, devices=devices, seed=0, check=False).solve()
    return {
        "map": [float(np.ravel(mode.get_means(v))[0]) for v in (reg.a, reg.b, reg.s)],
        "sd": [float(np.ravel(laplace.get_standard_deviations(v))[0]) for v in (reg.a, reg.b)],
        "devices": len(mode.devices),
    }


def rows_of_this_run():
    """This process's slice of the rows, joined with the other processes' slices."""
    import jax

    count, me = jax.process_count(), jax.process_index()
    if count == 1:
        return rows(0, N_ROWS)
    from jax.experimental import multihost_utils

    bounds = [N_ROWS * i // count for i in range(count + 1)]
    x, y = rows(bounds[me], bounds[me + 1])  # only this process's rows are loaded
    if len({bounds[i + 1] - bounds[i] for i in range(count)}) != 1:
        raise SystemExit("this recipe splits the rows evenly: use a row count divisible by "
                         "the number of processes")
    joined = multihost_utils.process_allgather({"x": x, "y": y}, tiled=True)
    return joined["x"], joined["y"]


def worker(coordinator: str, num_processes: int, process_id: int) -> None:
    import jax

    jax.config.update("jax_cpu_collectives_implementation", "gloo")  # CPU only; harmless
    jax.distributed.initialize(coordinator, num_processes, process_id)
    result = fit(devices=None)
    print("RESULT " + json.dumps(result), flush=True)
    jax.distributed.shutdown()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def self_test(num_processes: int = 2) -> None:
    import numpy as np

    port = free_port()
    env = dict(os.environ, JAX_PLATFORMS="cpu")
    env.pop("XLA_FLAGS", None)  # one CPU device per process
    workers = [subprocess.Popen(
        [sys.executable, __file__, "--coordinator", f"127.0.0.1:{port}",
         "--num-processes", str(num_processes), "--process-id", str(i)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for i in range(num_processes)]
    outputs = [w.communicate(timeout=600) for w in workers]
    results = []
    for w, (out, err) in zip(workers, outputs, strict=True):
        lines = [x for x in out.splitlines() if x.startswith("RESULT ")]
        if w.returncode != 0 or not lines:
            raise SystemExit(f"a worker failed (status {w.returncode}):\n{err[-4000:]}")
        results.append(json.loads(lines[-1].removeprefix("RESULT ")))
    alone = fit(devices=1)
    for r in results:
        assert r["devices"] == num_processes, r
        np.testing.assert_allclose(r["map"], alone["map"], rtol=1e-8)
        np.testing.assert_allclose(r["sd"], alone["sd"], rtol=1e-8)
    print(f"{num_processes} processes: MAP {results[0]['map']}, sds {results[0]['sd']}; "
          f"one process: MAP {alone['map']}")
    print("All checks passed.")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--coordinator", help="HOST:PORT of process 0")
    parser.add_argument("--num-processes", type=int, default=2)
    parser.add_argument("--process-id", type=int)
    args = parser.parse_args(argv)
    if args.coordinator is None:
        self_test(args.num_processes)
    else:
        worker(args.coordinator, args.num_processes, args.process_id)


if __name__ == "__main__":
    main()
