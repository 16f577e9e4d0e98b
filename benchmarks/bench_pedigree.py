"""Benchmark: pedigrees of many persons, from build to results, against the exact answer.

The graph is the README's family grown to ``N`` persons: persons alternate between the Woman
and Man templates (``genetic_factor ~ N(0, 75)``, ``height ~ N(167 or 175 + genetic_factor,
25)``); the first fifth are founders, every later person's ``genetic_factor`` has mean
``(mother + father) / 2`` and variance 37.5, with a random earlier woman and man as parents
(so children of children are common: the pedigree is many generations deep). The heights of
a random half of the persons are observed (simulated from the model, seed ``--seed``).

For every size and method (``MAPModel``, ``MAPFisherModel``, ``ADVIModel``, ``MGVIModel``,
optionally ``MCMCModel``) a fresh Python process (so that compilation and peak memory are
the method's own; JAX's persistent compilation cache is off unless ``--cache warm``) times

* **build**: making the graph;
* **construct**: ``Model(graph, data=..., seed=0)`` (lowering, grouping, program);
* **solve**: ``solve()`` (tracing, compiling and fitting);
* **results**: ``get_means`` and ``get_variances`` of every person's ``genetic_factor``;

and reads the peak resident memory. The exact posterior is a sparse Gaussian solve (the
graph is linear-Gaussian: a structural equation model over all ``2 N`` scalars, conditioned
on the observed heights; ``scipy.sparse.linalg.spsolve`` up to ``DIRECT_MAX`` unknowns,
Jacobi-preconditioned conjugate gradients beyond, checked against each other on 2,000
persons), with exact variances up to 1,000
persons (dense inverse). Reported: ``max |mean - exact| / posterior sd`` over the genetic
factors and, up to 1,000 persons, the largest relative error of the variances. MAP and
MAPFisher must match the exact means to 1e-8 posterior sds and MAPFisher's variances (up to
1,000 persons, dense path) to 1e-6 relative; the script exits with status 1 otherwise. The growth
exponent of each total time between successive sizes is ``log(t2 / t1) / log(N2 / N1)``.

Usage::

    PYTHONPATH=src python benchmarks/bench_pedigree.py
    PYTHONPATH=src python benchmarks/bench_pedigree.py --sizes 10 100 1000 10000 \\
        --methods MAP MAPFisher ADVI MGVI
    PYTHONPATH=src python benchmarks/bench_pedigree.py --sizes 300 --grouping off --methods MAP

``--grouping off`` compiles one site per variable (the reference path), to measure what
grouping saves. ``--wiring links`` writes the same pedigree with a graph template per family
(inputs mother and father, output child) and ``link`` between families instead of
assignments (issue 13 item 6); ``--wiring both`` measures both, one after the other, and
prints the ratio of the fit times (construct + solve) links / assignments.
``--kwargs MAPFisher='{"max_dense_dimension": 100000}'`` passes options.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import resource
import subprocess
import sys
import time
import warnings

import numpy as np

BASE_HEIGHT = (167.0, 175.0)  # woman, man
VARIANCES = {"founder": 75.0, "child": 37.5, "height": 25.0}
#: unobserved scalars up to which exact() solves directly (sparse LU), beyond: CG
DIRECT_MAX = 20_000


# -- the pedigree ------------------------------------------------------------------------------
def structure(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Parents (-1 for founders) and the persons whose height is observed."""
    rng = np.random.default_rng(seed)
    mothers = np.full(n, -1)
    fathers = np.full(n, -1)
    for i in range(max(2, n // 5), n):
        mothers[i] = 2 * rng.integers(0, (i + 1) // 2)
        fathers[i] = 2 * rng.integers(0, i // 2) + 1
    observed = np.sort(rng.choice(n, size=n // 2, replace=False))
    return mothers, fathers, observed


def simulate(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Genetic factors and heights drawn from the model (numpy, in person order)."""
    mothers, fathers, _ = structure(n, seed)
    rng = np.random.default_rng(seed + 1)
    factors = np.zeros(n)
    for i in range(n):
        if mothers[i] < 0:
            factors[i] = rng.normal(0.0, math.sqrt(VARIANCES["founder"]))
        else:
            mean = (factors[mothers[i]] + factors[fathers[i]]) / 2
            factors[i] = rng.normal(mean, math.sqrt(VARIANCES["child"]))
    base = np.where(np.arange(n) % 2 == 0, *BASE_HEIGHT)
    heights = base + factors + rng.normal(0.0, math.sqrt(VARIANCES["height"]), n)
    return factors, heights


def person_templates():
    """The Woman and Man templates (genetic factor and height)."""
    from bayesgraph.core import Entity, Variable

    templates = []
    for kind, base in zip(("woman", "man"), BASE_HEIGHT):
        with Entity(kind) as person:
            factor = Variable("genetic_factor", mean=0, variance=VARIANCES["founder"])
            Variable("height", mean=base + factor, variance=VARIANCES["height"])
        templates.append(person.get_template(kind.capitalize()))
    return tuple(templates)


def build(n: int, seed: int):
    """The bayesgraph graph, its persons and the data (observed heights)."""
    from bayesgraph.core import Graph

    templates = person_templates()
    mothers, fathers, observed = structure(n, seed)
    with Graph("pedigree") as graph:
        persons = [templates[i % 2](f"p{i}") for i in range(n)]
    with graph:
        for i in range(n):
            if mothers[i] >= 0:
                child = persons[i].genetic_factor
                child.mean = (persons[mothers[i]].genetic_factor
                              + persons[fathers[i]].genetic_factor) / 2
                child.variance = VARIANCES["child"]
    _, heights = simulate(n, seed)
    data = {persons[i].height: [heights[i]] for i in observed}
    return graph, persons, data


def build_linked(n: int, seed: int):
    """The same pedigree from a graph template per family, wired with links.

    ``MakeDaughter``/``MakeSon`` hold ``inputs.mother`` (a Woman), ``inputs.father`` (a Man)
    and ``outputs.child``, whose genetic factor has mean ``(mother + father) / 2``. Every
    non-founder is the child of one instance, whose inputs are linked to the parents.
    """
    from bayesgraph import no_name_injection

    with no_name_injection():
        return _build_linked(n, seed)


def _build_linked(n: int, seed: int):
    from bayesgraph.core import Graph, link

    Woman, Man = person_templates()
    families = []
    for child_template in (Woman, Man):
        with Graph("make_child") as make_child:
            with make_child.inputs:
                Woman("mother")
                Man("father")
            with make_child.outputs:
                child_template("child")
            gf = make_child.outputs.child.genetic_factor
            gf.mean = (make_child.inputs.mother.genetic_factor
                       + make_child.inputs.father.genetic_factor) / 2
            gf.variance = VARIANCES["child"]
        families.append(make_child.get_template())
    mothers, fathers, observed = structure(n, seed)
    persons = []
    with Graph("pedigree") as graph:
        for i in range(n):
            if mothers[i] < 0:
                persons.append((Woman, Man)[i % 2](f"p{i}"))
                continue
            family = families[i % 2](f"family{i}")
            link(persons[mothers[i]], family.inputs.mother)
            link(persons[fathers[i]], family.inputs.father)
            persons.append(family.outputs.child)
    _, heights = simulate(n, seed)
    data = {persons[i].height: [heights[i]] for i in observed}
    return graph, persons, data


def exact(n: int, seed: int, variances: bool) -> tuple[np.ndarray, np.ndarray | None]:
    """Exact posterior means (and variances) of the genetic factors: a sparse solve.

    Scalars: genetic factors 0..n-1, heights n..2n-1. Prior: ``x = B x + c + e``,
    ``e ~ N(0, D)``; precision ``Q = (I - B)^T D^{-1} (I - B)``, linear term
    ``b = (I - B)^T D^{-1} c``; conditioning on observed entries ``o`` leaves
    ``Q_uu x_u = b_u - Q_uo x_o`` for the unobserved ones ``u``.
    """
    import scipy.sparse as sp
    import scipy.sparse.linalg as spl

    mothers, fathers, observed = structure(n, seed)
    _, heights = simulate(n, seed)
    rows, cols, vals = [], [], []
    c = np.zeros(2 * n)
    d = np.zeros(2 * n)
    for i in range(n):
        if mothers[i] >= 0:
            rows += [i, i]
            cols += [mothers[i], fathers[i]]
            vals += [0.5, 0.5]
            d[i] = VARIANCES["child"]
        else:
            d[i] = VARIANCES["founder"]
        rows.append(n + i)
        cols.append(i)
        vals.append(1.0)
        c[n + i] = BASE_HEIGHT[i % 2]
        d[n + i] = VARIANCES["height"]
    B = sp.csr_matrix((vals, (rows, cols)), shape=(2 * n, 2 * n))
    A = sp.identity(2 * n, format="csr") - B
    Q = (A.T @ sp.diags(1.0 / d) @ A).tocsc()
    b = A.T @ (c / d)
    is_obs = np.zeros(2 * n, bool)
    is_obs[n + observed] = True
    x_o = heights[observed]
    u = np.flatnonzero(~is_obs)
    o = np.flatnonzero(is_obs)
    Q_uu = Q[u][:, u]
    rhs = b[u] - Q[u][:, o] @ x_o
    if len(u) <= DIRECT_MAX:
        # a symmetric fill-reducing ordering: with spsolve's default (COLAMD on Q's columns)
        # the factor of a pedigree's precision filled in so much that 10^4 persons took 64 s
        mean_u = spl.spsolve(Q_uu.tocsc(), rhs, permc_spec="MMD_AT_PLUS_A")
    else:
        # even that fills in faster than N (3 s at 10^4 persons, 19x the time of 3,000):
        # conjugate gradients, Jacobi-preconditioned, to a relative residual of 1e-13
        diagonal = Q_uu.diagonal()
        jacobi = spl.LinearOperator(Q_uu.shape, matvec=lambda v: v / diagonal)
        mean_u, info = spl.cg(Q_uu, rhs, rtol=1e-13, atol=0.0, maxiter=20_000, M=jacobi)
        residual = np.linalg.norm(Q_uu @ mean_u - rhs) / np.linalg.norm(rhs)
        if info != 0 or residual > 1e-12:
            raise RuntimeError(f"exact(): CG did not converge (info {info}, residual "
                               f"{residual:.1e})")
    var_u = np.diag(np.linalg.inv(Q_uu.toarray())) if variances else None
    factors = u < n  # the genetic factors are all unobserved, first in u
    return mean_u[factors], (var_u[factors] if var_u is not None else None)


def check_oracle() -> None:
    """The sparse oracle against dense Gaussian conditioning of the joint, on 10 persons."""
    n, seed = 10, 0
    mothers, fathers, observed = structure(n, seed)
    _, heights = simulate(n, seed)
    B = np.zeros((2 * n, 2 * n))
    c = np.zeros(2 * n)
    d = np.zeros(2 * n)
    for i in range(n):
        if mothers[i] >= 0:
            B[i, mothers[i]] = B[i, fathers[i]] = 0.5
        d[i] = VARIANCES["child"] if mothers[i] >= 0 else VARIANCES["founder"]
        B[n + i, i] = 1.0
        c[n + i] = BASE_HEIGHT[i % 2]
        d[n + i] = VARIANCES["height"]
    inv = np.linalg.inv(np.eye(2 * n) - B)
    mean, cov = inv @ c, inv @ np.diag(d) @ inv.T
    o = n + observed
    u = np.setdiff1d(np.arange(2 * n), o)
    gain = cov[np.ix_(u, o)] @ np.linalg.inv(cov[np.ix_(o, o)])
    post_mean = mean[u] + gain @ (heights[observed] - mean[o])
    post_cov = cov[np.ix_(u, u)] - gain @ cov[np.ix_(o, u)]
    got_mean, got_var = exact(n, seed, True)
    assert np.allclose(got_mean, post_mean[:n], rtol=1e-10, atol=1e-10)
    assert np.allclose(got_var, np.diag(post_cov)[:n], rtol=1e-10)
    # the CG path of exact() (large pedigrees) against its direct path, on 2,000 persons
    global DIRECT_MAX
    direct, _ = exact(2000, seed, False)
    DIRECT_MAX, saved = 0, DIRECT_MAX
    try:
        iterative, _ = exact(2000, seed, False)
    finally:
        DIRECT_MAX = saved
    assert np.max(np.abs(iterative - direct)) < 1e-9 * np.sqrt(VARIANCES["child"])


# -- per-stage timing (--stages) --------------------------------------------------------------
#: stages of construction, timed by wrapping the functions ``ModelBase.__init__`` calls
_CONSTRUCT_STAGES = {"lower": "lower", "group": "group", "program_for": "program",
                     "group_data": "data", "member_slices": "data"}
#: self-checks after the fit (MAPFisher), timed apart from the solve
_CHECK_METHODS = ("_check_fit", "_check_curvature", "_parameter_problem")
_TRACE_EVENTS = ("/jax/core/compile/jaxpr_trace_duration",
                 "/jax/core/compile/jaxpr_to_mlir_module_duration")
_COMPILE_EVENT = "/jax/core/compile/backend_compile_duration"


class StageTimer:
    """Seconds per stage of one model's life, from wrappers around the functions
    ``ModelBase.__init__`` calls, the self-check methods, and JAX's own duration events
    (tracing and lowering to MLIR: ``trace``; XLA: ``compile``), each attributed to the stage
    that was running. Installed once per child process (``--stages``)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.current = "other"

    def add(self, stage: str, seconds: float) -> None:
        self.seconds[stage] = self.seconds.get(stage, 0.0) + seconds

    def timed(self, stage: str, function):
        import functools

        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            outer, self.current = self.current, stage
            start = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                if outer != stage:  # nested calls of one stage count once
                    self.add(stage, time.perf_counter() - start)
                self.current = outer
        return wrapper

    def install(self) -> None:
        import jax

        import bayesgraph.core.compiler.program as program
        import bayesgraph.core.model.base as base
        import bayesgraph.core.model.map_fisher as map_fisher

        for name, stage in _CONSTRUCT_STAGES.items():
            if hasattr(base, name):
                setattr(base, name, self.timed(stage, getattr(base, name)))
        if hasattr(program.Program, "data_args"):
            program.Program.data_args = self.timed("data", program.Program.data_args)
        for cls in (base.ModelBase, map_fisher.MAPFisherModel):
            for name in _CHECK_METHODS:
                if name in cls.__dict__:
                    setattr(cls, name, self.timed("check", cls.__dict__[name]))

        def listen(event: str, seconds: float, **_: object) -> None:
            if event in _TRACE_EVENTS:
                self.add(f"{self.current}/trace", seconds)
            elif event == _COMPILE_EVENT:
                self.add(f"{self.current}/compile", seconds)

        jax.monitoring.register_event_duration_secs_listener(listen)

    def table(self, construct: float, solve: float) -> dict[str, float]:
        """The stages as reported: lower, group, program, data, construct_other, trace and
        compile (of the fit), run (solve less those and the checks), check (with its own
        compiles)."""
        s = self.seconds
        out = {k: s.get(k, 0.0) for k in ("lower", "group", "program", "data")}
        out["construct_other"] = construct - sum(out.values())
        out["trace"] = s.get("solve/trace", 0.0)
        out["compile"] = s.get("solve/compile", 0.0)
        out["check"] = s.get("check", 0.0)
        out["run"] = solve - out["trace"] - out["compile"] - out["check"]
        return out


# -- one measurement (in a child process) -----------------------------------------------------
def child(n: int, method: str, seed: int, grouping: bool, options: dict,
          wiring: str = "assign", stages: bool = False) -> dict:
    timer = StageTimer()
    if stages:
        timer.install()
    import bayesgraph.core.model as models

    cls = getattr(models, f"{method}Model")
    t0 = time.perf_counter()
    graph, persons, data = (build_linked if wiring == "links" else build)(n, seed)
    t1 = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = cls(graph, data=data, seed=0, grouping=grouping, **options)
        t2 = time.perf_counter()
        timer.current = "solve"
        model.solve()
        timer.current = "results"
        t3 = time.perf_counter()
        factors = [p.genetic_factor for p in persons]
        means = np.ravel(model.get_means(factors))
        variances = np.ravel(model.get_variances(factors)) if method != "MAP" else None
        t4 = time.perf_counter()
    return {
        "n": n, "method": method, "wiring": wiring, "build": t1 - t0, "construct": t2 - t1,
        "solve": t3 - t2,
        "results": t4 - t3, "total": t4 - t0,
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "sites": len(model.program.latent_sites),
        "devices": len(getattr(model, "devices", ()) or ()) or 1,
        "path": {True: "dense", False: "matrix-free", None: ""}[getattr(model, "dense", None)],
        "means": means.tolist(),
        "variances": None if variances is None else variances.tolist(),
        "warnings": sorted({type(w.message).__name__ for w in caught}),
        "stages": timer.table(t2 - t1, t3 - t2) if stages else None,
    }


def measure(n: int, method: str, args: argparse.Namespace, wiring: str = "assign") -> dict:
    env = dict(os.environ)
    if args.cache == "cold":
        env["BAYESGRAPH_COMPILATION_CACHE"] = "0"
    env.setdefault("PYTHONHASHSEED", "0")
    options = json.loads(args.kwargs.get(method, "{}"))
    if method == "ADVI":
        options.setdefault("num_steps", args.advi_steps)
    if method == "MCMC":
        options.update({"num_warmup": 200, "num_samples": 200, "num_chains": 1,
                        "progress_bar": False, **options})
    command = [sys.executable, __file__, "--child", str(n), method, str(args.seed),
               args.grouping, json.dumps(options), wiring, "stages" if args.stages else "-"]
    try:
        done = subprocess.run(command, capture_output=True, text=True, env=env,
                              timeout=args.timeout)
    except subprocess.TimeoutExpired:
        return {"n": n, "method": method, "error": f"timeout after {args.timeout} s"}
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode or not lines:
        return {"n": n, "method": method, "error": done.stderr.strip().splitlines()[-1:]}
    return json.loads(lines[-1])


def print_stages(records: dict, sizes: list[int], methods: list[str], wiring: str) -> None:
    """The --stages table (seconds), then each stage's growth exponent between the first and
    the last size measured."""
    columns = ["lower", "group", "program", "data", "construct_other", "trace", "compile",
               "run", "check"]
    print(f"\nseconds per stage ({wiring}; trace = jaxpr tracing and lowering to MLIR, compile "
          "= XLA, run = solve less those and the self-checks, check = the self-checks with "
          "their compiles):")
    print("| persons | method | devices | build | " + " | ".join(columns)
          + " | results | total | peak MB |")
    print("|---|---|---|---|" + "---|" * len(columns) + "---|---|---|")
    for method in methods:
        for n in sizes:
            r = records.get((method, n), {})
            if not r.get("stages"):
                continue
            st = r["stages"]
            cells = " | ".join(f"{st[c]:.2f}" for c in columns)
            print(f"| {n} | {method} | {r.get('devices', 1)} | {r['build']:.2f} | {cells} | "
                  f"{r['results']:.2f} | "
                  f"{r['total']:.2f} | {r['peak_mb']:.0f} |")
        done = [n for n in sizes if (records.get((method, n)) or {}).get("stages")]
        if len(done) > 1:
            a, b = records[(method, done[0])], records[(method, done[-1])]
            ratio = done[-1] / done[0]

            def slope(x: float, y: float, ratio: float = ratio) -> float:
                return math.log(y / x) / math.log(ratio) if x > 0.05 and y > 0 else math.nan
            parts = [f"build {slope(a['build'], b['build']):.2f}"]
            parts += [f"{c} {slope(a['stages'][c], b['stages'][c]):.2f}" for c in columns]
            parts.append(f"results {slope(a['results'], b['results']):.2f}")
            print(f"  {method} growth exponents {done[0]}->{done[-1]}: " + ", ".join(parts))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 100, 1000, 10000])
    parser.add_argument("--methods", nargs="+", default=["MAP", "MAPFisher", "ADVI", "MGVI"],
                        choices=["MAP", "MAPFisher", "ADVI", "MGVI", "MCMC"])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--grouping", choices=("on", "off"), default="on")
    parser.add_argument("--cache", choices=("cold", "warm"), default="cold")
    parser.add_argument("--advi-steps", type=int, default=2000)
    parser.add_argument("--timeout", type=float, default=600.0)
    parser.add_argument("--wiring", choices=("assign", "links", "both"), default="assign",
                        help="assignments between persons, links between family graphs, or both")
    parser.add_argument("--stages", action="store_true",
                        help="also print a table of seconds per stage (build, lower, group, "
                             "program, data, trace, compile, run, check, results) and peak RSS")
    parser.add_argument("--no-exact", action="store_true",
                        help="skip the exact sparse solve and the accuracy columns (for sizes "
                             "where its Python loops and spsolve cost more than the fit)")
    parser.add_argument("--kwargs", nargs="*", default=[],
                        help="METHOD='{json options}' passed to the model class")
    args = parser.parse_args(argv)
    args.kwargs = dict(item.split("=", 1) for item in args.kwargs)

    check_oracle()
    print(f"# bench_pedigree: {platform.python_version()} on {os.cpu_count()} cpus, "
          f"grouping {args.grouping}, cache {args.cache}, seed {args.seed}")
    failed = False
    records: dict[tuple[str, int], dict] = {}
    wirings = ["assign", "links"] if args.wiring == "both" else [args.wiring]
    print("| persons | method | wiring | sites | path | build | construct | solve | results "
          "| total | peak MB | max err / sd | max rel. var err | warnings |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    ratios = []
    for n in args.sizes:
        exact_mean, exact_var = (None, None) if args.no_exact else exact(
            n, args.seed, variances=n <= 1000)
        sd = np.sqrt(exact_var) if exact_var is not None else None
        for method, wiring in [(m, w) for m in args.methods for w in wirings]:
            r = measure(n, method, args, wiring)
            records[(method, n) if wiring == wirings[0] else (method, n, wiring)] = r
            if "error" in r:
                print(f"| {n} | {method} | {wiring} | | | | | | | | | {r['error']} | | |")
                continue
            if wiring == "links" and "construct" in records.get((method, n), {}):
                base = records[(method, n)]
                ratios.append((n, method, (r["construct"] + r["solve"])
                               / (base["construct"] + base["solve"]),
                               r["sites"] == base["sites"]))
            means = np.asarray(r["means"])
            scale = sd if sd is not None else np.sqrt(VARIANCES["child"])
            err = (float(np.max(np.abs(means - exact_mean) / scale)) if exact_mean is not None
                   else float("nan"))
            var_err = ""
            if r["variances"] is not None and exact_var is not None:
                var_err = float(np.max(np.abs(np.asarray(r["variances"]) / exact_var - 1)))
            if method in ("MAP", "MAPFisher") and err > 1e-8:
                failed = True
            if method == "MAPFisher" and var_err != "" and r["path"] == "dense" \
                    and var_err > 1e-6:
                failed = True
            print(f"| {n} | {method} | {wiring} | {r['sites']} | {r['path']} | {r['build']:.2f} | "
                  f"{r['construct']:.2f} | {r['solve']:.2f} | {r['results']:.2f} | "
                  f"{r['total']:.2f} | {r['peak_mb']:.0f} | {err:.1e} | "
                  + (f"{var_err:.1e}" if var_err != "" else "") + f" | "
                  f"{', '.join(r['warnings'])} |", flush=True)
    if args.stages:
        print_stages(records, args.sizes, args.methods, wirings[0])
    print("\ngrowth exponents of the total time (log t2/t1 / log N2/N1):")
    for method in args.methods:
        parts = []
        for a, b in zip(args.sizes, args.sizes[1:]):
            ra, rb = records.get((method, a), {}), records.get((method, b), {})
            if "total" in ra and "total" in rb:
                slope = math.log(rb["total"] / ra["total"]) / math.log(b / a)
                parts.append(f"{a}->{b}: {slope:.2f}")
        print(f"  {method}: " + ", ".join(parts))
    for n, method, ratio, same_sites in ratios:
        print(f"  links / assignments, {method} at {n}: fit time (construct + solve) x{ratio:.2f}"
              f", {'the same' if same_sites else 'DIFFERENT'} sites")
        failed = failed or not same_sites
    if failed:
        print("FAIL: MAP or MAPFisher differ from the exact posterior, or links changed sites")
    return 1 if failed else 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        n, method, seed, grouping, options, wiring, stages = sys.argv[2:9]
        print(json.dumps(child(int(n), method, int(seed), grouping == "on", json.loads(options),
                               wiring, stages == "stages")))
        sys.exit(0)
    sys.exit(main())
