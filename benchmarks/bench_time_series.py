"""Benchmark: long and many time series fitted with MAPFisher (issue 13 item 6).

Two graphs, each simulated from its own model (numpy, seed ``--seed``) and fitted with
``MAPFisherModel``:

* **AR(2)**: one series of ``--steps`` steps (default 10,000),
  ``y.mean = a[0] * y[TimeIndex - 1] + a[1] * y[TimeIndex - 2]``, ``y.variance = 1``,
  ``a ~ N(0, 0.25)`` (shape ``(2,)``); 1% of the steps are missing (NaN), so the fit infers
  them too.
* **panel**: ``--entities`` entities (default 1,000) made from one entity template, each an
  AR(1) series of ``--length`` steps (default 100) with its own coefficient
  ``a ~ N(0, 0.25)``. The examples axis is shared: the panel is 1,000 template instances of
  a dynamic variable with ``n_data = 100``, which the grouped compiler makes one group.

For each, a fresh Python process times build (making the graph), construct (lowering,
grouping, program), solve (tracing, compiling, fitting) and results (means and variances of
the coefficients), and reports the number of latent sample sites and groups (one per group,
whatever the number of steps or entities). The coefficients' posterior is checked against
closed forms: the panel's coefficients are conjugate given complete series (exact to 1e-8);
the AR(2)'s posterior mean must lie within 4 posterior sds of the truth. JAX's persistent
compilation cache is off (``--cache warm`` turns it on), so solve includes compiling.

Usage::

    PYTHONPATH=src python benchmarks/bench_time_series.py
    PYTHONPATH=src python benchmarks/bench_time_series.py --steps 10000 --entities 1000 \\
        --length 100
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np


def simulate_ar(coefficients: list[float], n: int, rng: np.random.Generator) -> np.ndarray:
    y = np.zeros(n)
    for t in range(n):
        y[t] = sum(a * y[t - i - 1] for i, a in enumerate(coefficients) if t - i - 1 >= 0)
        y[t] += rng.normal()
    return y


def run_ar2(steps: int, seed: int) -> dict:
    from bayesgraph.core import Graph, StaticVariable, TimeIndex, Variable
    from bayesgraph.core.model import MAPFisherModel

    rng = np.random.default_rng(seed)
    truth = [0.6, -0.3]
    series = simulate_ar(truth, steps, rng)
    series[rng.choice(steps, size=steps // 100, replace=False)] = np.nan
    t0 = time.perf_counter()
    with Graph("ar2") as graph:
        a = StaticVariable("a", shape=(2,), mean=0, variance=0.25)
        y = Variable("y", variance=1.0)
        y.mean = a[0] * y[TimeIndex - 1] + a[1] * y[TimeIndex - 2]
    t1 = time.perf_counter()
    model = MAPFisherModel(graph, data={graph.y: series})
    t2 = time.perf_counter()
    model.solve()
    t3 = time.perf_counter()
    means = np.asarray(model.get_means(graph.a))
    sds = np.sqrt(np.asarray(model.get_variances(graph.a)))
    filled = np.asarray(model.get_means(graph.y))
    t4 = time.perf_counter()
    ok = bool(np.all(np.abs(means - truth) < 4 * sds) and np.all(np.isfinite(filled)))
    return {"case": f"AR(2), {steps} steps", "build": t1 - t0, "construct": t2 - t1,
            "solve": t3 - t2, "results": t4 - t3, "sites": len(model.program.latent_sites),
            "groups": len(model.grouped.groups), "latent dimension": model.dimension,
            "check": f"|mean - truth| / sd = {np.max(np.abs(means - truth) / sds):.2f}",
            "ok": ok}


def run_panel(entities: int, length: int, seed: int) -> dict:
    from bayesgraph.core import Entity, Graph, StaticVariable, TimeIndex, Variable
    from bayesgraph.core.model import MAPFisherModel

    rng = np.random.default_rng(seed)
    coefficients = rng.uniform(-0.8, 0.8, size=entities)
    series = np.stack([simulate_ar([a], length, rng) for a in coefficients])
    t0 = time.perf_counter()
    with Entity("series") as template:
        a = StaticVariable("a", mean=0, variance=0.25)
        y = Variable("y", variance=1.0)
        y.mean = a * y[TimeIndex - 1]
    make = template.get_template("Series")
    with Graph("panel") as graph:
        members = [make(f"s{i}") for i in range(entities)]
    t1 = time.perf_counter()
    model = MAPFisherModel(graph, data={m.y: s for m, s in zip(members, series)})
    t2 = time.perf_counter()
    model.solve()
    t3 = time.perf_counter()
    means = np.asarray(model.get_means([m.a for m in members])).ravel()
    variances = np.asarray(model.get_variances([m.a for m in members])).ravel()
    t4 = time.perf_counter()
    past = np.concatenate([np.zeros((entities, 1)), series[:, :-1]], axis=1)
    precision = 1 / 0.25 + np.sum(past ** 2, axis=1)
    exact_means = np.sum(past * series, axis=1) / precision
    error = max(np.max(np.abs(means - exact_means) * np.sqrt(precision)),
                np.max(np.abs(variances * precision - 1)))
    return {"case": f"panel, {entities} x AR(1) of {length} steps", "build": t1 - t0,
            "construct": t2 - t1, "solve": t3 - t2, "results": t4 - t3,
            "sites": len(model.program.latent_sites), "groups": len(model.grouped.groups),
            "latent dimension": model.dimension,
            "check": f"max error vs exact (sds, relative variance) = {error:.1e}",
            "ok": bool(error < 1e-6)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=10_000)
    parser.add_argument("--entities", type=int, default=1_000)
    parser.add_argument("--length", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cache", choices=("cold", "warm"), default="cold",
                        help="cold (default): JAX's persistent compilation cache off, so the "
                        "solve time includes compiling")
    parser.add_argument("--child", choices=["ar2", "panel"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        result = (run_ar2(args.steps, args.seed) if args.child == "ar2"
                  else run_panel(args.entities, args.length, args.seed))
        print(json.dumps(result))
        return 0
    rows, failed = [], False
    env = dict(os.environ)
    if args.cache == "cold":
        env["BAYESGRAPH_COMPILATION_CACHE"] = "0"
    env.setdefault("PYTHONHASHSEED", "0")
    for case in ("ar2", "panel"):
        out = subprocess.run([sys.executable, __file__, "--child", case, "--steps",
                              str(args.steps), "--entities", str(args.entities), "--length",
                              str(args.length), "--seed", str(args.seed)],
                             capture_output=True, text=True, check=True, env=env)
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
    print("| case | build s | construct s | solve s | results s | total s | sites | groups "
          "| latent dim | check |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for r in rows:
        total = r["build"] + r["construct"] + r["solve"] + r["results"]
        print(f"| {r['case']} | {r['build']:.2f} | {r['construct']:.2f} | {r['solve']:.2f} | "
              f"{r['results']:.2f} | {total:.2f} | {r['sites']} | {r['groups']} | "
              f"{r['latent dimension']} | {r['check']} |")
        failed |= not r["ok"]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
