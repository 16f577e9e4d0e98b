"""Benchmark: the seed linear regression, bayesgraph against a hand-written numpyro program,
PyMC and the closed form, all in one process run.

Data: ``x ~ N(0, 3^2)``, ``y = 0.4967 x - 0.1383 + N(0, 0.5^2)`` drawn with
``np.random.default_rng(42)``; priors ``a, b ~ N(0, 1)``; noise variance 0.25, known.

Contenders, each timed from model definition to answers as numpy values, compile included:

* ``bayesgraph``: ``MAPModel(...).solve().get_means`` and ``MAPFisherModel(...).solve()``
  with ``get_means`` and ``get_standard_deviations``; graph construction is inside the timer;
* ``expert``: the program a numpyro expert writes by hand (``shared/baselines/
  expert_numpyro_regression.py``, copied here): optax L-BFGS in a jitted ``lax.while_loop``,
  data passed as arguments, the Hessian computed in the same jit. Its jitted function is
  built afresh in every repetition, as bayesgraph builds its own, so both compile every time;
* ``pymc``: ``pm.find_MAP`` (and ``pm.find_hessian`` for the standard deviations), if PyMC is
  importable (``pip install pymc``); otherwise skipped with a message;
* ``closed form``: the Gaussian posterior, precision ``X^T X / 0.25 + I``, mean
  ``cov X^T y / 0.25`` (the reference for accuracy).

All imports happen before any timer starts. Before the timed repetitions each contender runs
once untimed at the same size (this warms JAX's eager-op caches and PyMC's on-disk C cache,
not the jitted programs, which are new objects every time). The timed repetitions are
interleaved, in a rotating order; the median and minimum wall-clock times and the median
process CPU time are reported.

Usage::

    PYTHONPATH=src python benchmarks/bench_regression.py --n 1000000 10000000

The run fails (exit status 1) if bayesgraph's answers differ from the closed form by more
than ``--rtol`` (relative).
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from importlib import metadata

import jax
import jax.numpy as jnp
import numpy as np

# The expert program switches float64 on globally, at import, as its file does; bayesgraph
# works in float64 by default (a scoped switch), so both compute in the same precision.
jax.config.update("jax_enable_x64", True)
# Compilation is part of what is measured: a persistent compilation cache (bayesgraph's default,
# or JAX_COMPILATION_CACHE_DIR) would turn every repetition after the first into a cache hit.
# It is off unless --cache warm asks for it (then for both JAX contenders).
PERSISTENT_CACHE = jax.config.jax_compilation_cache_dir
#: --cache reuse: keep bayesgraph's in-process cache of programs between its runs
REUSE_IN_PROCESS = False
jax.config.update("jax_enable_compilation_cache", False)

import numpyro  # noqa: E402
import numpyro.distributions as dist  # noqa: E402
import optax  # noqa: E402
import optax.tree_utils as otu  # noqa: E402
from numpyro.infer.util import log_density  # noqa: E402

from bayesgraph.core import Graph, StaticVariable, Variable  # noqa: E402
from bayesgraph.core.model import MAPFisherModel, MAPModel  # noqa: E402
from bayesgraph.core.model._compilation_cache import clear_caches  # noqa: E402

try:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pymc as pm
except Exception as err:  # any failure to import means "no PyMC"
    pm = None
    PYMC_ERROR = f"{type(err).__name__}: {err}"
else:
    PYMC_ERROR = ""

TRUE_A, TRUE_B = 0.4967, -0.1383
NOISE_VARIANCE = 0.25
KINDS = ("map", "fisher")


def make_data(n: int) -> tuple[np.ndarray, np.ndarray]:
    """The seed regression's data (seed 42)."""
    rng = np.random.default_rng(42)
    x_data = rng.normal(0, 3, n)
    y_data = TRUE_A * x_data + TRUE_B + rng.normal(0, 0.5, n)
    return x_data, y_data


# -- contenders: each returns (map point [a, b], standard deviations [a, b] or None, stages) ---
def run_closed_form(x_data, y_data, kind):
    """The exact Gaussian posterior of (a, b)."""
    sx, sy = float(np.sum(x_data)), float(np.sum(y_data))
    sxx, sxy = float(np.dot(x_data, x_data)), float(np.dot(x_data, y_data))
    precision = np.array([[sxx, sx], [sx, x_data.size]]) / NOISE_VARIANCE + np.eye(2)
    cov = np.linalg.inv(precision)
    mean = cov @ (np.array([sxy, sy]) / NOISE_VARIANCE)
    return mean, np.sqrt(np.diag(cov)), {}


def run_bayesgraph(x_data, y_data, kind):
    """bayesgraph, as its README writes it; returns the answers and per-stage seconds.

    bayesgraph binds the names of new variables (x, a, b, y) in the calling frame, as Halerium
    does; the data arrays are therefore called ``x_data`` and ``y_data``.
    Unless ``--cache reuse``, bayesgraph's in-process cache of compiled programs (keyed by the
    model's fingerprint) is emptied first, so that every run traces and compiles its program
    as the expert's does.
    """
    if not REUSE_IN_PROCESS:
        clear_caches()
    t0 = time.perf_counter()
    with Graph("lr") as lr:
        x = Variable("x", mean=0, variance=9)
        a = StaticVariable("a", mean=0, variance=1)
        b = StaticVariable("b", mean=0, variance=1)
        y = Variable("y", mean=a * x + b, variance=0.25)  # noqa: F841 - part of the graph
    t1 = time.perf_counter()
    model_class = MAPFisherModel if kind == "fisher" else MAPModel
    model = model_class(lr, data={lr.x: x_data, lr.y: y_data})
    t2 = time.perf_counter()
    model.solve()
    t3 = time.perf_counter()
    a_hat, b_hat = model.get_means([lr.a, lr.b])
    sd = None
    if kind == "fisher":
        sd = np.array(model.get_standard_deviations([lr.a, lr.b]), dtype=float)
    t4 = time.perf_counter()
    stages = {"graph": t1 - t0, "construct": t2 - t1, "solve": t3 - t2, "results": t4 - t3}
    return np.array([a_hat, b_hat], dtype=float), sd, stages


def run_expert(x_data, y_data, kind):
    """The hand-written numpyro program (shared/baselines/expert_numpyro_regression.py).

    Defined here, inside the timed call, so that its jitted function is a new object (and is
    compiled again) in every repetition, as bayesgraph's is.
    """

    def model(x, y):
        a = numpyro.sample("a", dist.Normal(0.0, 1.0))
        b = numpyro.sample("b", dist.Normal(0.0, 1.0))
        with numpyro.plate("N", x.shape[0]):
            numpyro.sample("y", dist.Normal(a * x + b, 0.5), obs=y)

    @jax.jit
    def solve(z, x, y):  # the data are arguments, never constants closed over
        f = lambda z: -log_density(model, (x, y), {}, {"a": z[0], "b": z[1]})[0]  # noqa: E731
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
            return (it == 0) | ((it < 500) & (otu.tree_norm(g) >= 1e-9 * jnp.maximum(
                1.0, jnp.abs(v))))

        z, _ = jax.lax.while_loop(cont, step, (z, opt.init(z)))
        if kind == "fisher":
            return z, jnp.sqrt(jnp.diag(jnp.linalg.inv(jax.hessian(f)(z))))
        return z, jnp.zeros_like(z)

    z, sd = solve(jnp.zeros(2), jnp.asarray(x_data), jnp.asarray(y_data))
    z, sd = np.asarray(z), np.asarray(sd)
    return z, (sd if kind == "fisher" else None), {}


def run_pymc(x_data, y_data, kind):
    """PyMC: ``find_MAP`` (L-BFGS-B through scipy), then ``find_hessian`` for 'fisher'."""
    with pm.Model():
        a = pm.Normal("a", 0.0, 1.0)
        b = pm.Normal("b", 0.0, 1.0)
        pm.Normal("y", mu=a * x_data + b, sigma=0.5, observed=y_data)
        point = pm.find_MAP(progressbar=False)
        sd = None
        if kind == "fisher":
            # negate_output=False: the Hessian of log p; the precision is its negative
            hessian = pm.find_hessian(point, vars=[a, b], negate_output=False)
            sd = np.sqrt(np.diag(np.linalg.inv(-np.asarray(hessian))))
    return np.array([point["a"], point["b"]], dtype=float), sd, {}


CONTENDERS: dict[str, Callable] = {
    "bayesgraph": run_bayesgraph,
    "expert": run_expert,
    "pymc": run_pymc,
    "closed form": run_closed_form,
}


# -- timing ----------------------------------------------------------------------------------
def timed(fn, x_data, y_data, kind):
    gc.collect()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # PyMC's notices, not results
        t0, c0 = time.perf_counter(), time.process_time()
        z, sd, stages = fn(x_data, y_data, kind)
        seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    return seconds, cpu, z, sd, stages


def bench_size(n, names, repeats, pymc_repeats):
    """Time every contender at ``n`` rows; return ``{(name, kind): record}``."""
    x_data, y_data = make_data(n)
    # the closed form gives the MAP and the standard deviations at once: one row
    jobs = [(name, kind) for name in names for kind in KINDS
            if not (name == "closed form" and kind == "map")]
    records = {job: {"times": [], "cpu": [], "stages": [], "z": None, "sd": None}
               for job in jobs}
    print(f"\n== N = {n:,}: warm-up (untimed); load average {_load()}", flush=True)
    for name, kind in jobs:
        seconds, cpu, *_ = timed(CONTENDERS[name], x_data, y_data, kind)
        print(f"   warm-up {name:<11} {kind:<6} {seconds:8.3f} s (cpu {cpu:.3f} s)", flush=True)
    for rep in range(repeats):
        order = jobs[rep % len(jobs):] + jobs[:rep % len(jobs)]  # rotate: no fixed position
        for name, kind in order:
            if name == "pymc" and rep >= pymc_repeats:
                continue
            seconds, cpu, z, sd, stages = timed(CONTENDERS[name], x_data, y_data, kind)
            rec = records[(name, kind)]
            rec["times"].append(seconds)
            rec["cpu"].append(cpu)
            rec["stages"].append(stages)
            rec["z"], rec["sd"] = z, sd
        line = "  ".join(f"{name}/{kind} {records[(name, kind)]['times'][-1]:.3f}"
                         for name, kind in jobs if len(records[(name, kind)]["times"]) > rep)
        print(f"   rep {rep + 1}: {line}", flush=True)
    print(f"   load average {_load()}", flush=True)
    del x_data, y_data
    gc.collect()
    return records


# -- reporting -------------------------------------------------------------------------------
def _version(package):
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def _load():
    """The 1, 5 and 15 minute load averages (other processes make timings noisy)."""
    return ", ".join(f"{v:.1f}" for v in os.getloadavg())


def _med(times):
    return statistics.median(times)


def report_size(n, records, rtol):
    """Print the table for one size; return whether bayesgraph matched the closed form."""
    exact = records[("closed form", "fisher")]
    ref_z, ref_sd = exact["z"], exact["sd"]
    print(f"\n-- N = {n:,}: seconds from model definition to answers (compile included);"
          " wall clock median and min, process CPU time (all threads) median")
    header = (f"{'contender':<12}{'kind':<8}{'runs':>5}{'median s':>10}{'min s':>9}"
              f"{'cpu s':>9}{'|MAP - exact|':>15}{'|sd - exact|':>14}  a, b")
    print(header)
    print("-" * len(header))
    ok = True
    for (name, kind), rec in records.items():
        times = rec["times"]
        if not times:
            continue
        err_z = float(np.max(np.abs(rec["z"] - ref_z)))
        err_sd = "" if rec["sd"] is None else f"{float(np.max(np.abs(rec['sd'] - ref_sd))):.2e}"
        shown = "both" if name == "closed form" else kind
        print(f"{name:<12}{shown:<8}{len(times):>5}{_med(times):>10.3f}{min(times):>9.3f}"
              f"{_med(rec['cpu']):>9.3f}{err_z:>15.2e}{err_sd:>14}  "
              f"{rec['z'][0]:.10f}, {rec['z'][1]:.10f}")
        if name == "bayesgraph":
            ok &= bool(np.allclose(rec["z"], ref_z, rtol=rtol, atol=0))
            if rec["sd"] is not None:
                ok &= bool(np.allclose(rec["sd"], ref_sd, rtol=rtol, atol=0))
    print(f"closed form sd: {ref_sd[0]:.10e}, {ref_sd[1]:.10e}")

    print("\nratios of times: wall median (wall min, cpu median)")
    pairs = [("bayesgraph", "expert"), ("pymc", "expert"), ("bayesgraph", "pymc")]
    for kind in KINDS:
        parts = []
        for num, den in pairs:
            if (num, kind) not in records or (den, kind) not in records:
                continue
            t_num, t_den = records[(num, kind)]["times"], records[(den, kind)]["times"]
            c_num, c_den = records[(num, kind)]["cpu"], records[(den, kind)]["cpu"]
            if t_num and t_den:
                parts.append(f"{num}/{den} {_med(t_num) / _med(t_den):5.2f} "
                             f"({min(t_num) / min(t_den):.2f}, {_med(c_num) / _med(c_den):.2f})")
        print(f"  {kind:<7} " + "   ".join(parts))

    print("\nbayesgraph stages, median seconds:")
    for kind in KINDS:
        stages = records[("bayesgraph", kind)]["stages"]
        if stages:
            print(f"  {kind:<7} " + "  ".join(
                f"{key} {_med([s[key] for s in stages]):.3f}" for key in stages[0]))
    verdict = "matches" if ok else "DOES NOT match"
    print(f"\nbayesgraph {verdict} the closed form (relative tolerance {rtol:g})")
    return ok


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, nargs="+", default=[1_000_000],
                        help="numbers of examples (default: 1000000)")
    parser.add_argument("--repeats", type=int, default=5, help="timed runs per contender")
    parser.add_argument("--pymc-repeats", type=int, default=3,
                        help="timed runs for PyMC (slower; default 3)")
    parser.add_argument("--no-pymc", action="store_true", help="leave PyMC out")
    parser.add_argument("--rtol", type=float, default=1e-8,
                        help="relative tolerance of bayesgraph against the closed form")
    parser.add_argument("--cache", choices=("cold", "warm", "reuse"), default="cold",
                        help="cold: every run compiles (default); warm: JAX's persistent "
                             "compilation cache is on for both JAX contenders (bayesgraph's "
                             "default), filled by the untimed first run, as PyMC's C cache is; "
                             "reuse: cold, but bayesgraph keeps its in-process cache of "
                             "programs (a second model of the same structure in one process)")
    args = parser.parse_args(argv)
    global REUSE_IN_PROCESS
    REUSE_IN_PROCESS = args.cache == "reuse"
    if args.cache == "warm":
        import tempfile

        jax.config.update("jax_enable_compilation_cache", True)
        jax.config.update("jax_compilation_cache_dir", tempfile.mkdtemp(prefix="bench-jax-"))
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.1)
        print("JAX's persistent compilation cache: on (warm), for bayesgraph and the expert")

    print(f"python {platform.python_version()}, jax {jax.__version__}, "
          f"numpyro {numpyro.__version__}, optax {optax.__version__}, "
          f"pymc {_version('pymc')}, numpy {np.__version__}; "
          f"{jax.devices()[0].platform} backend, {jax.device_count()} device(s)")
    if PERSISTENT_CACHE and args.cache == "cold":
        print(f"JAX's persistent compilation cache ({PERSISTENT_CACHE}) is switched off here")
    names = ["bayesgraph", "expert"]
    if args.no_pymc:
        print("PyMC: left out (--no-pymc)")
    elif pm is None:
        print(f"PyMC: skipped, it cannot be imported ({PYMC_ERROR}); pip install pymc")
    else:
        names.append("pymc")
    names.append("closed form")

    all_ok = True
    for n in args.n:
        records = bench_size(n, names, args.repeats, args.pymc_repeats)
        all_ok &= report_size(n, records, args.rtol)
    return 0 if all_ok else 1


if __name__ == "__main__":
    sys.exit(main())
