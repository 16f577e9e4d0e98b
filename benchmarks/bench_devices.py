"""Benchmark: the seed regression with its rows sharded over 1, 2, 4, 8 devices (issue 16).

Data (``np.random.default_rng(42)``): ``x ~ N(0, 3^2)``, ``y = 0.4967 x - 0.1383 +
N(0, 0.5^2)``; priors ``a, b ~ N(0, 1)``; noise variance 0.25 known (the seed regression of
``bench_regression.py``).

Each device count runs in its own subprocess (JAX reads the device count when it starts; on
CPU the devices are simulated with ``XLA_FLAGS=--xla_force_host_platform_device_count=K``).
The child builds ``MAPModel(graph, data, devices=K, dtype=...)`` and measures

* ``build``: graph and model construction (lowering, grouping, placing the data);
* ``first solve``: ``solve()`` with compilation;
* ``solve``: ``solve()`` of a second model of the same graph and data (compiled code reused
  from the in-process cache: the time of one L-BFGS solve);
* ``vg``: one jitted value-and-gradient evaluation of the log-density on the placed data
  (median of ``--reps``);
* ``MB/device``: the bytes of the data shards on the busiest device (CPU); on a GPU also the
  device's peak bytes in use (``device.memory_stats()``);

and the same for the expert numpyro program (``shared/baselines/expert_numpyro_regression.py``
written out here: optax L-BFGS in a jitted while loop, the data passed as arguments and placed
with the same ``NamedSharding``), in the same child, so that both see the same machine.

Usage::

    PYTHONPATH=src python benchmarks/bench_devices.py --n 10000000 --devices 1 2 4 8
    # on a GPU machine (real devices, no simulation): 10^8 rows, both precisions
    PYTHONPATH=src python benchmarks/bench_devices.py --platform gpu --n 100000000 \\
        --devices 1 --dtypes float32 float64

The run fails (exit status 1) if a MAP differs from the closed form by more than 1e-6
relative (float64) or 1e-4 (float32).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def make_data(n: int):
    import numpy as np

    rng = np.random.default_rng(42)
    x = rng.normal(0, 3, n)
    y = 0.4967 * x - 0.1383 + rng.normal(0, 0.5, n)
    return x, y


def closed_form(x, y):
    import numpy as np

    design = np.column_stack([np.ones_like(x), x])
    precision = design.T @ design / 0.25 + np.eye(2)
    return np.linalg.solve(precision, design.T @ y / 0.25)  # [a, b]


def _timed(fn, reps: int) -> float:
    """Median seconds of ``fn()`` (which must block until its result is ready)."""
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def _shard_mb(arrays) -> float:
    """MB of shards on the busiest device, over ``arrays``."""
    per: dict = {}
    for a in arrays:
        for s in a.addressable_shards:
            per[s.device] = per.get(s.device, 0) + s.data.nbytes
    return max(per.values()) / 2**20 if per else 0.0


def _peak_device_mb() -> float | None:
    import jax

    stats = [d.memory_stats() for d in jax.local_devices()]
    peaks = [s.get("peak_bytes_in_use") for s in stats if s]
    return max(peaks) / 2**20 if peaks and None not in peaks else None


def child(n: int, k: int, dtype: str, reps: int) -> dict:
    import warnings

    import jax
    import jax.numpy as jnp
    import numpy as np

    from bayesgraph.core import Graph, StaticVariable, Variable
    from bayesgraph.core.model import MAPModel

    warnings.simplefilter("ignore")
    x, y = make_data(n)
    exact = closed_form(x, y)
    out: dict = {"n": n, "devices": k, "dtype": dtype, "platform": jax.devices()[0].platform}

    def build():
        with Graph("reg") as reg:
            a = StaticVariable("a", mean=0, variance=1)
            b = StaticVariable("b", mean=0, variance=1)
            xv = Variable("x")
            Variable("y", mean=b + a * xv, variance=0.25)
        return reg, MAPModel(reg, data={reg.x: x, reg.y: y}, devices=k, dtype=dtype)

    t = time.perf_counter()
    reg, model = build()
    out["build"] = time.perf_counter() - t
    t = time.perf_counter()
    model.solve()
    out["first_solve"] = time.perf_counter() - t
    _, again = build()
    t = time.perf_counter()
    again.solve()
    out["solve"] = time.perf_counter() - t
    found = np.array([float(model.get_means(reg.b)), float(model.get_means(reg.a))])
    out["rel_err"] = float(np.max(np.abs(found - exact) / np.abs(exact)))
    out["data_devices"] = len(model.devices)
    out["mb_per_device"] = _shard_mb([v for part in ("values", "slots")
                                      for v in model._data[part].values()])

    program, data = model.program, model._data
    with jax.enable_x64(dtype == "float64"):
        float_ = jnp.float64 if dtype == "float64" else jnp.float32
        sites = {s.name: jnp.zeros(s.shape, float_) for s in program.latent_sites}
        vg = jax.jit(jax.value_and_grad(lambda z, d: -program.log_density(z, d)))
        jax.block_until_ready(vg(sites, data))
        out["vg_ms"] = 1e3 * _timed(lambda: jax.block_until_ready(vg(sites, data)), reps)
        out.update({f"expert_{k_}": v for k_, v in expert(x, y, k, float_, reps).items()})
    out["peak_device_mb"] = _peak_device_mb()
    return out


def expert(x_np, y_np, k: int, float_, reps: int) -> dict:
    """The expert numpyro program on the same devices, the rows sharded the same way."""
    import jax
    import jax.numpy as jnp
    import numpy as np
    import numpyro
    import numpyro.distributions as dist
    import optax
    import optax.tree_utils as otu
    from jax.sharding import Mesh, NamedSharding, PartitionSpec
    from numpyro.infer.util import log_density

    def model(x, y):
        a = numpyro.sample("a", dist.Normal(0.0, 1.0))
        b = numpyro.sample("b", dist.Normal(0.0, 1.0))
        with numpyro.plate("N", x.shape[0]):
            numpyro.sample("y", dist.Normal(a * x + b, 0.5), obs=y)

    def objective(z, x, y):
        return -log_density(model, (x, y), {}, {"a": z[0], "b": z[1]})[0]

    tol = 1e-9 if float_ == jnp.float64 else 1e-5

    @jax.jit
    def solve(z, x, y):
        f = lambda z: objective(z, x, y)  # noqa: E731
        opt = optax.lbfgs()
        vg = optax.value_and_grad_from_state(f)

        def step(c):
            z, s = c
            v, g = vg(z, state=s)
            u, s = opt.update(g, s, z, value=v, grad=g, value_fn=f)
            return optax.apply_updates(z, u), s

        def cont(c):
            it = otu.tree_get(c[1], "count")
            g = otu.tree_get(c[1], "grad")
            v = otu.tree_get(c[1], "value")
            return (it == 0) | ((it < 500) & (otu.tree_norm(g) >= tol * jnp.maximum(1.0,
                                                                                 jnp.abs(v))))

        return jax.lax.while_loop(cont, step, (z, opt.init(z)))[0]

    devices = jax.devices()[:k]
    if k > 1:
        sharding = NamedSharding(Mesh(np.array(devices), ("data",)), PartitionSpec("data"))
        x, y = (jax.device_put(jnp.asarray(v, float_), sharding) for v in (x_np, y_np))
    else:
        x, y = jnp.asarray(x_np, float_), jnp.asarray(y_np, float_)
    z0 = jnp.zeros(2, float_)
    t = time.perf_counter()
    jax.block_until_ready(solve(z0, x, y))
    first = time.perf_counter() - t
    vg = jax.jit(jax.value_and_grad(objective))
    jax.block_until_ready(vg(z0, x, y))
    return {
        "first_solve": first,
        "solve_ms": 1e3 * _timed(lambda: jax.block_until_ready(solve(z0, x, y)), reps),
        "vg_ms": 1e3 * _timed(lambda: jax.block_until_ready(vg(z0, x, y)), reps),
    }


def spawn(n: int, k: int, dtype: str, reps: int, platform: str) -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(ROOT / "src"), *[p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]])
    if platform == "cpu":
        env["JAX_PLATFORMS"] = "cpu"
        env["XLA_FLAGS"] = f"--xla_force_host_platform_device_count={k}"
    run = subprocess.run([sys.executable, __file__, "--child", str(n), str(k), dtype,
                          str(reps)], env=env, capture_output=True, text=True, timeout=3600)
    lines = [x for x in run.stdout.splitlines() if x.startswith("RESULT ")]
    if run.returncode != 0 or not lines:
        return {"n": n, "devices": k, "dtype": dtype, "error": run.stderr[-2000:]}
    record = json.loads(lines[-1].removeprefix("RESULT "))
    import resource

    record["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return record


def report(records: list[dict]) -> bool:
    ok = True
    print("| rows | devices | dtype | build s | first solve s | solve ms | vg ms | expert solve ms "
          "| expert vg ms | vg ratio | MB/device (data) | peak RSS MB (max so far) | rel. err |")
    print("|" + "---|" * 13)
    for r in records:
        if "error" in r:
            print(f"| {r['n']:.0e} | {r['devices']} | {r['dtype']} | FAILED: "
                  f"{r['error'].splitlines()[-1] if r['error'] else ''} |")
            ok = False
            continue
        limit = 1e-6 if r["dtype"] == "float64" else 1e-4
        ok &= r["rel_err"] <= limit and r["data_devices"] == r["devices"]
        print(f"| {r['n']:.0e} | {r['devices']} | {r['dtype']} | {r['build']:.2f} | "
              f"{r['first_solve']:.2f} | {1e3 * r['solve']:.1f} | {r['vg_ms']:.2f} | "
              f"{r['expert_solve_ms']:.1f} | {r['expert_vg_ms']:.2f} | "
              f"{r['vg_ms'] / r['expert_vg_ms']:.2f} | {r['mb_per_device']:.0f}"
              + (f" (device peak {r['peak_device_mb']:.0f})" if r.get("peak_device_mb") else "")
              + f" | {r['peak_rss_mb']:.0f} | {r['rel_err']:.1e} |")
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, nargs="+", default=[10_000_000])
    parser.add_argument("--devices", type=int, nargs="+", default=[1, 2, 4, 8])
    parser.add_argument("--dtypes", nargs="+", default=["float64"],
                        choices=["float64", "float32"])
    parser.add_argument("--platform", default="cpu", choices=["cpu", "gpu"],
                        help="cpu: simulated devices; gpu: the machine's devices as they are")
    parser.add_argument("--reps", type=int, default=20)
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        n, k, dtype, reps = args.child
        print("RESULT " + json.dumps(child(int(n), int(k), dtype, int(reps))), flush=True)
        return 0
    records = [spawn(n, k, dtype, args.reps, args.platform)
               for n in args.n for dtype in args.dtypes for k in args.devices]
    return 0 if report(records) else 1


if __name__ == "__main__":
    sys.exit(main())
