"""Benchmark: NUTS and ADVI on a large linear regression (10^6 rows, 3 features), bayesgraph
against a hand-written numpyro program; wall time, peak memory and memory growth from one fit
to the next, each fit in its own process.

Data (``np.random.default_rng(42)``): ``feats ~ N(0, 1)`` of shape ``(N, 3)``,
``y = feats @ [0.5, -1.0, 2.0] + 0.3 + N(0, 0.5^2)``. Priors ``w ~ N(0, 1)`` (3 entries),
``b ~ N(0, 1)``; the noise variance 0.25 is known.

Contenders:

* ``bayesgraph`` (public API only): ``feats = Variable("feats", shape=(3,))`` (data),
  ``w = StaticVariable("w", shape=(3,), mean=0, variance=1)``,
  ``b = StaticVariable("b", mean=0, variance=1)``,
  ``y = Variable("y", mean=<predictor> + b, variance=0.25)``, with the predictor written, by
  ``--idioms``, as ``feats @ w`` (``matmul``) or ``bayesgraph.core.sum(w * feats)`` (``sum``:
  the sum over the feature axis of each example). ``MCMCModel(graph, data, num_warmup=W,
  num_samples=S, num_chains=2, seed=0, progress_bar=False)`` or ``ADVIModel(graph, data,
  guide="mean-field", num_steps=K, seed=0, progress_bar=False)``, then ``solve()`` and
  ``get_means([w, b])`` (for ADVI these are Monte Carlo means over 100 guide draws, the
  default ``n_samples``);
* ``expert``: the numpyro program written by hand, float64 (``jax_enable_x64``), data passed
  as arguments: ``w = sample("w", Normal(0, 1).expand([3]).to_event(1))``,
  ``b = sample("b", Normal(0, 1))``, ``with plate("N", n): sample("y", Normal(feats @ w + b,
  0.5), obs=y)``. NUTS: ``MCMC(NUTS(model), num_warmup=W, num_samples=S, num_chains=2,
  chain_method="vectorized", jit_model_args=True, progress_bar=False).run(key, feats, y,
  extra_fields=("num_steps",))``, then the means of the draws. ADVI: ``SVI`` with
  ``AutoNormal`` and ``optax.adam`` whose rate decays exponentially from 0.02 to a tenth over
  the K steps (bayesgraph's schedule), the K steps in one jitted ``lax.scan`` over
  ``svi.update``; means = the guide's locations (last iterate; bayesgraph averages the last
  20 % of iterates).

Each (contender, method, idiom) runs in its own subprocess (``--child``). After its imports
and the data, the child runs the fit twice, from model definition to posterior means as numpy
values, in the same process: the first fit's wall time includes compilation; the second is a
new fit of the same kind (bayesgraph: a new graph and model; expert: a new MCMC object or a
new jitted SVI function), to catch memory that grows from one fit to the next (the issue: a
second fit killed at 22 GB). It reports both wall times, ``ru_maxrss`` after each fit (peak
resident memory so far, imports included), the current RSS after the set-up and after each
fit, the posterior means and, for NUTS, the number of leapfrog steps after warm-up (bayesgraph's
read defensively from the fitted model; trajectories differ with the random keys, so this
tells a slower sampler from a longer run), as one JSON line.

The table gives the time ratio bayesgraph / expert (first fit and second fit) and the
peak-memory ratio. Exact reference: the conjugate posterior over ``[w, b]``, precision
``X^T X / 0.25 + I`` with ``X = [feats, 1]``, mean ``cov X^T y / 0.25``. NUTS means of both
contenders, both fits, must lie within ``--nsd`` (5) posterior standard deviations of it
(PASS/FAIL, exit status 1 on a FAIL or a failed child; a timeout is reported only). ADVI's
distance is reported.

``--cache cold`` (default): ``BAYESGRAPH_COMPILATION_CACHE=0`` and no
``JAX_COMPILATION_CACHE_DIR`` in the children, and the expert switches JAX's persistent cache
off, so every first fit compiles. ``--cache warm``: both use a fresh shared cache folder and
each child runs once untimed first to fill it.

Usage::

    PYTHONPATH=src python benchmarks/bench_big_regression.py                 # 10^6 rows
    PYTHONPATH=src python benchmarks/bench_big_regression.py --n 100000 --warmup 100 \\
        --samples 100 --advi-steps 500

Options: ``--n``, ``--idioms`` (matmul sum), ``--methods`` (MCMC ADVI), ``--warmup`` and
``--samples`` (300 each), ``--advi-steps`` (2000), ``--timeout`` (seconds per child, 900),
``--cache cold|warm``, ``--nsd``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from importlib import metadata

import numpy as np

W_TRUE = np.array([0.5, -1.0, 2.0])
B_TRUE = 0.3
NOISE_SD = 0.5
METHODS = ("MCMC", "ADVI")
IDIOMS = ("matmul", "sum")
NUM_CHAINS = 2
LEARNING_RATE = 0.02


def make_data(n: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(42)
    feats_data = rng.normal(size=(n, 3))
    y_data = feats_data @ W_TRUE + B_TRUE + rng.normal(0.0, NOISE_SD, n)
    return feats_data, y_data


def exact_posterior(feats_data, y_data):
    """Mean and standard deviations of the conjugate posterior of ``[w0, w1, w2, b]``."""
    X = np.hstack([feats_data, np.ones((feats_data.shape[0], 1))])
    precision = X.T @ X / NOISE_SD**2 + np.eye(4)
    cov = np.linalg.inv(precision)
    return cov @ (X.T @ y_data) / NOISE_SD**2, np.sqrt(np.diag(cov))


# -- the two contenders (run in a child process) ----------------------------------------------
def bayesgraph_fit(feats_data, y_data, method, idiom, cfg):
    """bayesgraph from the graph to the means; returns (means [w0, w1, w2, b], stages,
    leapfrog steps after warm-up or None).

    bayesgraph binds the names of new variables in the calling frame (as Halerium does), so
    the data arrays are called ``feats_data`` and ``y_data``, never ``feats`` or ``y``.
    """
    import bayesgraph.core as bg
    from bayesgraph.core import Graph, StaticVariable, Variable
    from bayesgraph.core.model import ADVIModel, MCMCModel

    t0 = time.perf_counter()
    with Graph("regression") as graph:
        feats = Variable("feats", shape=(3,))
        w = StaticVariable("w", shape=(3,), mean=0, variance=1)
        b = StaticVariable("b", mean=0, variance=1)
        predictor = feats @ w if idiom == "matmul" else bg.sum(w * feats)
        y = Variable("y", mean=predictor + b, variance=NOISE_SD**2)  # noqa: F841 - in graph
    data = {graph.feats: feats_data, graph.y: y_data}
    t1 = time.perf_counter()
    if method == "MCMC":
        model = MCMCModel(graph, data, num_warmup=cfg["warmup"], num_samples=cfg["samples"],
                          num_chains=NUM_CHAINS, seed=0, progress_bar=False)
    else:
        model = ADVIModel(graph, data, guide="mean-field", num_steps=cfg["advi_steps"], seed=0,
                          progress_bar=False)
    t2 = time.perf_counter()
    model.solve()
    t3 = time.perf_counter()
    w_mean, b_mean = model.get_means([w, b])
    means = np.concatenate([np.ravel(w_mean), np.ravel(b_mean)])
    t4 = time.perf_counter()
    stages = {"graph": t1 - t0, "construct": t2 - t1, "solve": t3 - t2, "results": t4 - t3}
    # leapfrog steps after warm-up, where the model keeps them (read defensively: internal)
    extra = getattr(model, "_extra", None)
    steps = (int(np.sum(extra["num_steps"]))
             if isinstance(extra, dict) and "num_steps" in extra else None)
    return means, stages, steps


def expert_fit(feats_data, y_data, method, idiom, cfg):
    """The hand-written numpyro program; returns (means [w0, w1, w2, b], {}, leapfrog steps
    after warm-up or None)."""
    import jax
    import jax.numpy as jnp
    import numpyro
    import numpyro.distributions as dist
    import optax
    from numpyro.infer import MCMC, NUTS, SVI, Trace_ELBO
    from numpyro.infer.autoguide import AutoNormal

    def model(feats, y=None):
        w = numpyro.sample("w", dist.Normal(0.0, 1.0).expand([3]).to_event(1))
        b = numpyro.sample("b", dist.Normal(0.0, 1.0))
        with numpyro.plate("N", feats.shape[0]):
            numpyro.sample("y", dist.Normal(feats @ w + b, NOISE_SD), obs=y)

    feats, y = jnp.asarray(feats_data), jnp.asarray(y_data)
    key = jax.random.PRNGKey(0)
    if method == "MCMC":
        mcmc = MCMC(NUTS(model), num_warmup=cfg["warmup"], num_samples=cfg["samples"],
                    num_chains=NUM_CHAINS, chain_method="vectorized", jit_model_args=True,
                    progress_bar=False)
        mcmc.run(key, feats, y, extra_fields=("num_steps",))
        draws = mcmc.get_samples()
        means = np.concatenate([np.asarray(draws["w"]).mean(axis=0),
                                [float(np.asarray(draws["b"]).mean())]])
        return means, {}, int(np.sum(mcmc.get_extra_fields()["num_steps"]))
    steps = cfg["advi_steps"]
    schedule = optax.exponential_decay(LEARNING_RATE, steps, 0.1)
    svi = SVI(model, AutoNormal(model), optax.adam(schedule), Trace_ELBO())

    @jax.jit
    def fit(key, feats, y):  # the data are arguments, never constants closed over
        state = svi.init(key, feats, y)

        def step(state, _):
            return svi.update(state, feats, y)

        state, losses = jax.lax.scan(step, state, None, length=steps)
        return svi.get_params(state), losses

    params, _ = fit(key, feats, y)
    means = np.concatenate([np.asarray(params["w_auto_loc"]),
                            [float(np.asarray(params["b_auto_loc"]))]])
    return means, {}, None


def _rss_mb() -> float:
    """Current resident memory (Linux /proc; NaN elsewhere)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_child(contender, method, idiom, n, cfg, cache):
    import gc
    import warnings

    import jax

    if contender == "expert":
        jax.config.update("jax_enable_x64", True)
        if cache == "cold":
            jax.config.update("jax_enable_compilation_cache", False)
        else:
            jax.config.update("jax_compilation_cache_dir", os.environ["BENCH_JAX_CACHE_DIR"])
            jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.1)
        import numpyro  # noqa: F401 - imported before the timer
        import optax  # noqa: F401
        fit = expert_fit
    else:
        import bayesgraph.core.model  # noqa: F401 - imported before the timer
        fit = bayesgraph_fit
    feats_data, y_data = make_data(n)
    out = {"rss_setup": _rss_mb(), "peak_setup": _peak_mb()}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for k in (1, 2):
            t0 = time.perf_counter()
            means, stages, steps = fit(feats_data, y_data, method, idiom, cfg)
            out[f"wall{k}"] = time.perf_counter() - t0
            out[f"steps{k}"] = steps
            out[f"means{k}"] = [float(v) for v in means]
            out[f"stages{k}"] = stages
            gc.collect()
            out[f"peak{k}"] = _peak_mb()
            out[f"rss{k}"] = _rss_mb()
    out["warnings"] = sorted({f"{w.category.__name__}: {str(w.message)[:160]}" for w in caught})
    return out


# -- the parent -------------------------------------------------------------------------------
def spawn(args, contender, method, idiom, env):
    cmd = [sys.executable, os.path.abspath(__file__), "--child", contender, "--n", str(args.n),
           "--methods", method, "--idioms", idiom, "--warmup", str(args.warmup),
           "--samples", str(args.samples), "--advi-steps", str(args.advi_steps),
           "--cache", args.cache]
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True,
                              timeout=args.timeout)
    except subprocess.TimeoutExpired:
        return {"status": "timeout", "wall": time.perf_counter() - t0}
    wall = time.perf_counter() - t0
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        why = (f"killed by signal {-proc.returncode}" if proc.returncode < 0
               else f"exit status {proc.returncode}")
        return {"status": "error", "why": why, "wall": wall,
                "stderr": "\n".join(proc.stderr.strip().splitlines()[-15:])}
    record = json.loads(lines[-1])
    record.update(status="ok", wall=wall)
    return record


def _version(package):
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def _load():
    return ", ".join(f"{v:.1f}" for v in os.getloadavg())


def _err_sd(record, k, exact_mean, exact_sd):
    return float(np.max(np.abs(np.asarray(record[f"means{k}"]) - exact_mean) / exact_sd))


def _cell(record, key, spec):
    return format(record[key], spec) if record["status"] == "ok" else record["status"]


def report(args, results, exact_mean, exact_sd) -> bool:
    ok = True
    print(f"\n## Results, N = {args.n:,} (seconds, model definition to means; peak MB = "
          "ru_maxrss after both fits, imports included)\n")
    print("| method | idiom | bayesgraph 1st | expert 1st | ratio | bayesgraph 2nd | expert 2nd"
          " | ratio 2nd | bayesgraph peak MB | expert peak MB | mem ratio | bayesgraph "
          "max \\|mean-exact\\|/sd | expert max \\|mean-exact\\|/sd | check |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for method in args.methods:
        e = results[("expert", method, "-")]
        for idiom in args.idioms:
            g = results[("bayesgraph", method, idiom)]
            both = g["status"] == e["status"] == "ok"
            errs = {}
            for name, r in (("bayesgraph", g), ("expert", e)):
                if r["status"] == "ok":
                    errs[name] = max(_err_sd(r, 1, exact_mean, exact_sd),
                                     _err_sd(r, 2, exact_mean, exact_sd))
            check = ""
            if method == "MCMC":
                good = len(errs) == 2 and all(v <= args.nsd for v in errs.values())
                check = "PASS" if good else "FAIL"
                ok &= good
            ok &= all(r["status"] in ("ok", "timeout") for r in (g, e))
            ratio = {key: (f"{g[key] / e[key]:.2f}" if both else "")
                     for key in ("wall1", "wall2", "peak2")}
            print(f"| {method} | {idiom} | {_cell(g, 'wall1', '.2f')} | {_cell(e, 'wall1', '.2f')}"
                  f" | {ratio['wall1']} | {_cell(g, 'wall2', '.2f')} | "
                  f"{_cell(e, 'wall2', '.2f')} | {ratio['wall2']} | {_cell(g, 'peak2', '.0f')} |"
                  f" {_cell(e, 'peak2', '.0f')} | {ratio['peak2']} | "
                  f"{errs.get('bayesgraph', float('nan')):.2f} | "
                  f"{errs.get('expert', float('nan')):.2f} | {check} |")
    print("\nMemory per child, MB (RSS = resident now; peak = ru_maxrss so far):\n")
    print("| contender | method | idiom | RSS after set-up | peak after fit 1 | RSS after fit 1 "
          "| peak after fit 2 | RSS after fit 2 | growth fit 1 -> 2 (RSS) |")
    print("|---|---|---|---:|---:|---:|---:|---:|---:|")
    for (contender, method, idiom), r in results.items():
        if r["status"] != "ok":
            print(f"| {contender} | {method} | {idiom} | {r['status']} | | | | | |")
            continue
        print(f"| {contender} | {method} | {idiom} | {r['rss_setup']:.0f} | {r['peak1']:.0f} | "
              f"{r['rss1']:.0f} | {r['peak2']:.0f} | {r['rss2']:.0f} | "
              f"{r['rss2'] - r['rss1']:+.0f} |")
    stages = [(k, r) for k, r in results.items() if k[0] == "bayesgraph" and r["status"] == "ok"]
    if stages:
        print("\nbayesgraph stages, seconds (fit 1 / fit 2):\n")
        for (_, method, idiom), r in stages:
            print(f"  {method:<5} {idiom:<7} " + "  ".join(
                f"{key} {r['stages1'][key]:.3f}/{r['stages2'][key]:.3f}"
                for key in r["stages1"]))
    print("\nexact posterior [w0, w1, w2, b]: mean "
          + ", ".join(f"{v:.6f}" for v in exact_mean) + "; sd "
          + ", ".join(f"{v:.2e}" for v in exact_sd))
    for (contender, method, idiom), r in results.items():
        if r["status"] == "ok":
            steps = ("" if r["steps1"] is None else
                     f"  (leapfrog steps after warm-up: {r['steps1']}, {r['steps2']})")
            print(f"  {contender:<10} {method:<5} {idiom:<7} fit 1 "
                  + ", ".join(f"{v:.6f}" for v in r["means1"]) + "  fit 2 "
                  + ", ".join(f"{v:.6f}" for v in r["means2"]) + steps)
    return ok


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="rows (default 10^6)")
    parser.add_argument("--idioms", nargs="+", default=list(IDIOMS), choices=IDIOMS,
                        help="how bayesgraph writes the predictor (default: matmul sum)")
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    parser.add_argument("--warmup", type=int, default=300, help="NUTS warm-up draws per chain")
    parser.add_argument("--samples", type=int, default=300, help="NUTS draws per chain")
    parser.add_argument("--advi-steps", type=int, default=2000, help="ADVI steps")
    parser.add_argument("--timeout", type=float, default=900, help="seconds per child")
    parser.add_argument("--cache", choices=("cold", "warm"), default="cold",
                        help="cold: no persistent compilation cache (default); warm: a fresh "
                             "shared cache, filled by an untimed run of each child")
    parser.add_argument("--nsd", type=float, default=5.0,
                        help="NUTS means must lie within this many posterior sds of the exact")
    parser.add_argument("--child", choices=("bayesgraph", "expert"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    cfg = {"warmup": args.warmup, "samples": args.samples, "advi_steps": args.advi_steps}

    if args.child:
        record = run_child(args.child, args.methods[0], args.idioms[0], args.n, cfg,
                           args.cache)
        print(json.dumps(record), flush=True)
        return 0

    env = dict(os.environ)
    src = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "src")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (src, env.get("PYTHONPATH")) if p)
    env.pop("JAX_COMPILATION_CACHE_DIR", None)
    if args.cache == "cold":
        env["BAYESGRAPH_COMPILATION_CACHE"] = "0"
    else:
        env.pop("BAYESGRAPH_COMPILATION_CACHE", None)
        folder = tempfile.mkdtemp(prefix="bench-big-regression-jax-")
        env["BAYESGRAPH_CACHE_DIR"] = env["BENCH_JAX_CACHE_DIR"] = folder
    print(f"python {platform.python_version()}, jax {_version('jax')}, "
          f"numpyro {_version('numpyro')}, optax {_version('optax')}, numpy {np.__version__}; "
          f"{os.cpu_count()} CPUs; N = {args.n:,}; NUTS {NUM_CHAINS} chains x ({args.warmup} "
          f"warm-up + {args.samples} draws); ADVI {args.advi_steps} steps; cache {args.cache}")
    exact_mean, exact_sd = exact_posterior(*make_data(args.n))

    jobs = [(c, m, i) for m in args.methods
            for c, i in [("expert", "-")] + [("bayesgraph", i) for i in args.idioms]]
    results = {}
    for contender, method, idiom in jobs:
        if args.cache == "warm":
            spawn(args, contender, method, idiom if idiom != "-" else "matmul", env)
        r = spawn(args, contender, method, idiom if idiom != "-" else "matmul", env)
        results[(contender, method, idiom)] = r
        if r["status"] != "ok":
            print(f"   {contender:<10} {method:<5} {idiom:<7} {r['status']} after "
                  f"{r['wall']:.1f} s {r.get('why', '')}\n{r.get('stderr', '')}", flush=True)
            continue
        print(f"   {contender:<10} {method:<5} {idiom:<7} fit 1 {r['wall1']:.2f} s, fit 2 "
              f"{r['wall2']:.2f} s; peak {r['peak1']:.0f} -> {r['peak2']:.0f} MB; "
              f"|mean - exact| / sd {_err_sd(r, 1, exact_mean, exact_sd):.2f} (load "
              f"{_load()})", flush=True)
        for w in r["warnings"]:
            print(f"     warning: {w}")
    ok = report(args, results, exact_mean, exact_sd)
    print(f"\nNUTS means within {args.nsd:g} posterior sd of the exact, both contenders: "
          + ("PASS" if ok else "FAIL (or a child failed)"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
