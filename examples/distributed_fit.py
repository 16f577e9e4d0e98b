"""One model fitted by several processes (hosts) joined with ``jax.distributed``, each
holding only its own rows.

Every process runs this script with the same coordinator address and its own process id::

    python examples/distributed_fit.py --coordinator HOST:PORT --num-processes 2 --process-id 0
    python examples/distributed_fit.py --coordinator HOST:PORT --num-processes 2 --process-id 1

Each process

1. calls ``jax.distributed.initialize(coordinator, num_processes, process_id)`` before any
   model exists (on CPU the cross-process collectives go through gloo);
2. loads only its own slice of the rows (here: draws them from a seeded generator), with
   NaN holes in both variables, and passes them as ``data=LocalRows({...})``: the processes
   exchange row counts, per-variable counts of missing entries and the holes' positions,
   never rows;
3. builds the model with ``devices=None``: with several processes that is every device of
   every process, and each device receives only its shard of the rows;
4. ends with the same estimates of the static variables as every other process, and as one
   process alone with every row; the missing entries of its own rows (``model.rows``) are
   those of the single-process fit.

Run without arguments, the script is its own test: it starts two worker processes on
localhost (a free port), fits the same data in this process on one device, and checks that
all three answers agree to 1e-8 relative (MAP modes, MAPFisher sds, and the means of the
missing entries of each worker's rows). They are not bit for bit equal: the processes sum
the log-density in another order, so L-BFGS takes slightly different steps and stops at
another point inside its tolerance (measured: about 1e-9 relative).
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
    y[::97] = np.nan  # holes in the child: inferred, in the rows of every process
    x[5::89] = np.nan  # and in the parent
    return x[start:stop], y[start:stop]


def fit(devices):
    """MAP and MAPFisher of the seed regression (noise sd unknown); with several processes
    each holds only its own rows."""
    import jax
    import numpy as np

    from bayesgraph.core import Graph, StaticVariable, Variable
    from bayesgraph.core.model import LocalRows, MAPFisherModel, MAPModel

    with Graph("reg") as reg:
        a = StaticVariable("a", mean=0, variance=1)
        b = StaticVariable("b", mean=0, variance=1)
        s = StaticVariable("s", distribution="HalfNormalDistribution", scale=1)
        x = Variable("x", mean=0, variance=9)
        Variable("y", mean=a + b * x, variance=s ** 2)
    count, me = jax.process_count(), jax.process_index()
    start, stop = N_ROWS * me // count, N_ROWS * (me + 1) // count
    xs, ys = rows(start, stop)  # only this process's rows are loaded
    data = LocalRows({reg.x: xs, reg.y: ys})  # one process: its rows are all rows
    mode = MAPModel(reg, data=data, devices=devices, seed=0).solve()
    laplace = MAPFisherModel(reg, data=data, devices=devices, seed=0, check=False).solve()
    assert mode.rows == slice(start, stop) and mode.n_data == N_ROWS, mode.rows
    if count > 1:
        held_rows(mode, stop - start)
    holes = {name: np.flatnonzero(np.isnan(v)) for name, v in (("x", xs), ("y", ys))}
    return {
        "map": [float(np.ravel(mode.get_means(v))[0]) for v in (reg.a, reg.b, reg.s)],
        "sd": [float(np.ravel(laplace.get_standard_deviations(v))[0]) for v in (reg.a, reg.b)],
        "devices": len(mode.devices),
        "rows": [start, stop],
        # the missing entries of this process's rows: global row -> mode, Laplace sd
        "holes": {name: [[start + int(i), float(np.ravel(mode.get_means(v))[i]),
                          float(np.ravel(laplace.get_standard_deviations(v))[i])]
                         for i in holes[name]] for name, v in (("x", reg.x), ("y", reg.y))},
    }


def held_rows(model, n_local: int) -> None:
    """The self-test's check (not part of the recipe): the model's host copy of the data and
    this process's shards of the device arrays hold this process's rows only."""
    for name, values in model._grouped_data.values.items():
        if values.ndim > 1 and values.shape[1] > 1:  # per-row groups: (members, rows, ...)
            assert values.shape[1] == n_local, (name, values.shape)
    for part in ("values", "slots"):
        for name, array in model._data[part].items():
            if array.ndim > 1 and not array.is_fully_replicated:
                assert not array.is_fully_addressable, name
                held = sum(shard.data.shape[1] for shard in array.addressable_shards)
                assert held == n_local, (name, held)


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
    worst = 0.0
    for r in results:
        assert r["devices"] == num_processes, r
        np.testing.assert_allclose(r["map"], alone["map"], rtol=1e-8)
        np.testing.assert_allclose(r["sd"], alone["sd"], rtol=1e-8)
        both, ref = r["map"] + r["sd"], alone["map"] + alone["sd"]
        worst = max(worst, *np.abs(np.divide(both, ref) - 1))
        for name in ("x", "y"):
            mine = np.array(r["holes"][name])
            assert len(mine) > 0, (name, r["rows"])  # every worker has holes of both
            lo, hi = r["rows"]
            ref = np.array([h for h in alone["holes"][name] if lo <= h[0] < hi])
            np.testing.assert_array_equal(mine[:, 0], ref[:, 0])
            np.testing.assert_allclose(mine[:, 1:], ref[:, 1:], rtol=1e-8)
            worst = max(worst, *np.abs(mine[:, 1:] / ref[:, 1:] - 1).ravel())
    assert sum(len(r["holes"]["y"]) for r in results) == len(alone["holes"]["y"])
    print(f"{num_processes} processes: MAP {results[0]['map']}, sds {results[0]['sd']}; "
          f"one process: MAP {alone['map']}; largest relative difference {worst:.1e} "
          f"(MAP, sds, and {len(alone['holes']['x']) + len(alone['holes']['y'])} missing "
          "entries' modes and sds)")
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
