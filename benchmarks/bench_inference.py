"""Benchmark: NUTS and ADVI on the non-centred eight-schools model, bayesgraph against the
numpyro program an expert writes by hand, in one process run.

Model (non-centred, the same on both sides)::

    mu  ~ Normal(0, 5^2)            tau ~ Exponential(rate 0.2)
    eta_j ~ Normal(0, 1)            theta_j = mu + tau * eta_j      (j = 1..8)
    y_j ~ Normal(theta_j, sigma_j^2), with the classic data
    y = [28, 8, -3, 7, -1, 1, 18, 12], sigma = [15, 10, 16, 11, 9, 11, 10, 18].

bayesgraph writes it as a graph (``mu``, ``tau`` StaticVariables, ``eta`` a Variable with one
value per school, ``theta`` a Dirac variable, ``sigma`` a NoDistribution variable given as
data); the expert writes a numpyro model with a plate over the schools.

1. **NUTS** (``MCMCModel`` against ``numpyro.infer.MCMC(NUTS(...))``): the same settings on both
   sides (float64, ``target_accept_prob`` 0.8, ``num_warmup``, ``num_samples``, 2 chains,
   ``chain_method`` as bayesgraph picks it: ``'vectorized'`` on one device). Each side is timed
   from model definition to finished draws as numpy arrays, compilation included. The effective
   sample sizes come from ``numpyro.diagnostics.effective_sample_size`` on the draws grouped by
   chain, for the sites mu, tau and the eight eta (10 numbers); reported are the minimum and
   the mean of them per second of wall time. Repetition ``r`` uses seed ``r`` on both sides.
2. **ADVI** (``ADVIModel(guide='mean-field')`` against numpyro ``SVI`` with an ``AutoNormal``
   guide, ``optax.adam`` at the same initial learning rate, the same number of steps, one
   jitted ``lax.scan`` with the data as arguments). bayesgraph's ADVI decays its learning rate
   exponentially to a tenth and averages the iterates of the last 20% of the steps; the
   expert uses a constant learning rate and the last iterate (what the numpyro docs show).
   Reported: wall time for the run (compile included), the final loss (negative ELBO, mean of
   the last 10% of the loss history) and the *time to a common target*:

   * target loss = the worse (higher) of the two final losses + ``--margin`` nats;
   * the step at which a side reaches it = the first step whose trailing mean of the loss
     over ``--window`` steps is at or below the target;
   * per-step time = the wall time of a second, already-compiled run of the same fit
     (bayesgraph: ``solve()`` again on the same model object; expert: the jitted function
     called again) divided by the number of steps; fixed cost = first-run time minus that;
   * time to target = fixed cost + steps to target * per-step time.

All imports happen before any timer starts; JAX's persistent compilation cache is switched off
so that every fit compiles (as a fresh process does). Each contender runs once untimed at a
small size first (warms JAX's eager-op caches, not the jitted programs). The timed repetitions
are interleaved, in a rotating order; medians are reported.

Usage::

    PYTHONPATH=src python benchmarks/bench_inference.py
    PYTHONPATH=src python benchmarks/bench_inference.py --repeats 5 --num-samples 2000
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

import jax
import jax.numpy as jnp
import numpy as np

# The expert switches float64 on globally; bayesgraph works in float64 by default (a scoped
# switch), so both sides compute in the same precision.
jax.config.update("jax_enable_x64", True)
# Compilation is part of what is measured: no persistent compilation cache.
PERSISTENT_CACHE = jax.config.jax_compilation_cache_dir
jax.config.update("jax_enable_compilation_cache", False)

import numpyro  # noqa: E402
import numpyro.distributions as dist  # noqa: E402
import optax  # noqa: E402
from numpyro.diagnostics import effective_sample_size  # noqa: E402
from numpyro.infer import MCMC, NUTS, SVI, Trace_ELBO  # noqa: E402
from numpyro.infer.autoguide import AutoNormal  # noqa: E402

from bayesgraph.core import Graph, StaticVariable, Variable  # noqa: E402
from bayesgraph.core.model import ADVIModel, MCMCModel  # noqa: E402

Y_OBS = np.array([28.0, 8.0, -3.0, 7.0, -1.0, 1.0, 18.0, 12.0])
SIGMA_OBS = np.array([15.0, 10.0, 16.0, 11.0, 9.0, 11.0, 10.0, 18.0])
TAU_RATE = 0.2
SITES = ("mu", "tau", "eta")


# -- the two model definitions ----------------------------------------------------------------
def bayesgraph_schools():
    """The graph; bayesgraph binds the new variables' names in this frame, as Halerium does."""
    with Graph("schools") as g:
        mu = StaticVariable("mu", mean=0, variance=25)
        tau = StaticVariable("tau", distribution="Exponential", rate=TAU_RATE)
        eta = Variable("eta", mean=0, variance=1)
        theta = Variable("theta", distribution="Dirac", mean=mu + tau * eta)
        sigma = Variable("sigma", distribution="NoDistribution")
        y = Variable("y", mean=theta, variance=sigma ** 2)  # noqa: F841 - part of the graph
    return g


def expert_schools(sigma, y=None):
    mu = numpyro.sample("mu", dist.Normal(0.0, 5.0))
    tau = numpyro.sample("tau", dist.Exponential(TAU_RATE))
    with numpyro.plate("schools", sigma.shape[0]):
        eta = numpyro.sample("eta", dist.Normal(0.0, 1.0))
        theta = numpyro.deterministic("theta", mu + tau * eta)
        numpyro.sample("y", dist.Normal(theta, sigma), obs=y)


def _ess(draws):
    """{site: ESS array} from {site: (chains, draws, ...)} for the sites compared."""
    return {s: np.atleast_1d(np.asarray(effective_sample_size(np.asarray(draws[s], float))))
            for s in SITES}


# -- NUTS -------------------------------------------------------------------------------------
def nuts_bayesgraph(seed, cfg):
    t0 = time.perf_counter()
    g = bayesgraph_schools()
    model = MCMCModel(g, data={g.y: Y_OBS, g.sigma: SIGMA_OBS}, num_warmup=cfg.num_warmup,
                      num_samples=cfg.num_samples, num_chains=cfg.num_chains, seed=seed,
                      progress_bar=False, target_accept_prob=0.8)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SamplingWarnings go to the table, not stderr
        model.solve()
    seconds = time.perf_counter() - t0
    # the draws grouped by chain, taken as bayesgraph stores them (site names "schools/...")
    draws = {s: model._samples[f"schools/{s}"] for s in SITES}
    return seconds, _ess(draws), model.diagnostics["num_divergences"], model.chain_method


def nuts_expert(seed, cfg, chain_method):
    t0 = time.perf_counter()
    kernel = NUTS(expert_schools, target_accept_prob=0.8)
    mcmc = MCMC(kernel, num_warmup=cfg.num_warmup, num_samples=cfg.num_samples,
                num_chains=cfg.num_chains, chain_method=chain_method, progress_bar=False)
    mcmc.run(jax.random.PRNGKey(seed), jnp.asarray(SIGMA_OBS), y=jnp.asarray(Y_OBS),
             extra_fields=("diverging",))
    draws = {k: np.asarray(v) for k, v in mcmc.get_samples(group_by_chain=True).items()}
    n_div = int(np.sum(mcmc.get_extra_fields()["diverging"]))
    seconds = time.perf_counter() - t0
    return seconds, _ess(draws), n_div, chain_method


# -- ADVI -------------------------------------------------------------------------------------
def advi_bayesgraph(seed, cfg):
    t0 = time.perf_counter()
    g = bayesgraph_schools()
    model = ADVIModel(g, data={g.y: Y_OBS, g.sigma: SIGMA_OBS}, guide="mean-field",
                      num_steps=cfg.num_steps, learning_rate=cfg.learning_rate, seed=seed,
                      progress_bar=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.solve()
    first = time.perf_counter() - t0
    losses = model.loss_history.copy()
    t1 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.solve()  # the same jitted fit again: no compilation
    second = time.perf_counter() - t1
    return first, second, losses


def advi_expert(seed, cfg):
    t0 = time.perf_counter()
    guide = AutoNormal(expert_schools)
    svi = SVI(expert_schools, guide, optax.adam(cfg.learning_rate), Trace_ELBO())
    num_steps = cfg.num_steps

    @jax.jit
    def fit(key, sigma, y):  # data are arguments
        state = svi.init(key, sigma, y=y)

        def step(state, _):
            state, loss = svi.update(state, sigma, y=y)
            return state, loss

        state, losses = jax.lax.scan(step, state, None, length=num_steps)
        return svi.get_params(state), losses

    args = (jax.random.PRNGKey(seed), jnp.asarray(SIGMA_OBS), jnp.asarray(Y_OBS))
    params, losses = fit(*args)
    losses = np.asarray(losses)
    jax.tree.map(np.asarray, params)
    first = time.perf_counter() - t0
    t1 = time.perf_counter()
    params, again = fit(*args)
    np.asarray(again)
    jax.tree.map(np.asarray, params)
    second = time.perf_counter() - t1
    return first, second, losses


def _final(losses):
    return float(np.mean(losses[-max(1, len(losses) // 10):]))


def _steps_to(losses, target, window):
    """First step (1-based) whose trailing mean over ``window`` steps is <= target."""
    csum = np.cumsum(np.concatenate([[0.0], losses]))
    steps = np.arange(1, len(losses) + 1)
    width = np.minimum(steps, window)
    trailing = (csum[steps] - csum[steps - width]) / width
    hit = np.nonzero((steps >= window) & (trailing <= target))[0]
    return int(steps[hit[0]]) if hit.size else None


# -- running ----------------------------------------------------------------------------------
def _load():
    return ", ".join(f"{v:.1f}" for v in os.getloadavg())


def _med(values):
    return statistics.median(values)


def bench_nuts(cfg):
    print(f"\n== NUTS: {cfg.num_chains} chains x ({cfg.num_warmup} warm-up + "
          f"{cfg.num_samples} draws); load average {_load()}", flush=True)
    small = argparse.Namespace(**{**vars(cfg), "num_warmup": 20, "num_samples": 20})
    _, _, _, method = nuts_bayesgraph(0, small)
    nuts_expert(0, small, method)
    print(f"   chain_method (bayesgraph's choice, used on both sides): {method}", flush=True)
    recs = {"bayesgraph": [], "expert": []}
    for rep in range(cfg.repeats):
        order = ["bayesgraph", "expert"][::1 if rep % 2 == 0 else -1]
        for name in order:
            gc.collect()
            if name == "bayesgraph":
                res = nuts_bayesgraph(rep, cfg)
            else:
                res = nuts_expert(rep, cfg, method)
            seconds, ess, n_div, _ = res
            all_ess = np.concatenate([ess[s] for s in SITES])
            recs[name].append({"s": seconds, "min": float(all_ess.min()),
                               "mean": float(all_ess.mean()), "div": n_div,
                               "tau": float(ess["tau"][0])})
        print(f"   rep {rep + 1}: " + "  ".join(
            f"{n} {recs[n][-1]['s']:.2f} s min-ESS {recs[n][-1]['min']:.0f}" for n in recs),
            flush=True)
    print(f"   load average {_load()}")
    print("\n-- NUTS, medians over repetitions (seconds: model definition to draws, compile "
          "included; ESS over mu, tau, eta[8])")
    header = (f"{'contender':<12}{'runs':>5}{'wall s':>9}{'min ESS':>9}{'mean ESS':>10}"
              f"{'ESS tau':>9}{'minESS/s':>10}{'meanESS/s':>11}{'diverg.':>9}")
    print(header)
    print("-" * len(header))
    med = {}
    for name, rows in recs.items():
        m = {k: _med([r[k] for r in rows]) for k in ("s", "min", "mean", "tau", "div")}
        m["min_s"] = _med([r["min"] / r["s"] for r in rows])
        m["mean_s"] = _med([r["mean"] / r["s"] for r in rows])
        med[name] = m
        print(f"{name:<12}{len(rows):>5}{m['s']:>9.2f}{m['min']:>9.0f}{m['mean']:>10.0f}"
              f"{m['tau']:>9.0f}{m['min_s']:>10.1f}{m['mean_s']:>11.1f}{m['div']:>9.0f}")
    b, e = med["bayesgraph"], med["expert"]
    print(f"\nratios bayesgraph/expert: min-ESS/s {b['min_s'] / e['min_s']:.3f}, "
          f"mean-ESS/s {b['mean_s'] / e['mean_s']:.3f} (target >= 0.95); "
          f"wall time {b['s'] / e['s']:.3f}")
    return med


def bench_advi(cfg):
    print(f"\n== ADVI (mean-field): {cfg.num_steps} steps, learning rate {cfg.learning_rate}; "
          f"load average {_load()}", flush=True)
    small = argparse.Namespace(**{**vars(cfg), "num_steps": 20})
    advi_bayesgraph(0, small)
    advi_expert(0, small)
    recs = {"bayesgraph": [], "expert": []}
    for rep in range(cfg.repeats):
        order = ["bayesgraph", "expert"][::1 if rep % 2 == 0 else -1]
        for name in order:
            gc.collect()
            fn = advi_bayesgraph if name == "bayesgraph" else advi_expert
            first, second, losses = fn(rep, cfg)
            recs[name].append({"first": first, "second": second, "losses": losses,
                               "final": _final(losses)})
        print(f"   rep {rep + 1}: " + "  ".join(
            f"{n} {recs[n][-1]['first']:.2f} s (again {recs[n][-1]['second']:.3f} s) "
            f"loss {recs[n][-1]['final']:.3f}" for n in recs), flush=True)
    print(f"   load average {_load()}")
    # the common target, per repetition: the worse final loss + margin
    for rep in range(cfg.repeats):
        target = max(recs[n][rep]["final"] for n in recs) + cfg.margin
        for n in recs:
            r = recs[n][rep]
            k = _steps_to(r["losses"], target, cfg.window)
            per_step = r["second"] / cfg.num_steps
            fixed = r["first"] - r["second"]
            r.update(target=target, k=k, per_step=per_step, fixed=fixed,
                     to_target=None if k is None else fixed + k * per_step)
    print(f"\n-- ADVI, medians over repetitions (target = worse final loss + {cfg.margin} "
          f"nats; reached when the trailing {cfg.window}-step mean loss is at or below it)")
    header = (f"{'contender':<12}{'runs':>5}{'wall s':>9}{'again s':>9}{'fixed s':>9}"
              f"{'us/step':>9}{'final loss':>12}{'steps->tgt':>12}{'s->target':>11}")
    print(header)
    print("-" * len(header))
    med = {}
    for name, rows in recs.items():
        hit = [r for r in rows if r["k"] is not None]
        m = {k: _med([r[k] for r in rows]) for k in ("first", "second", "fixed", "per_step",
                                                     "final")}
        m["k"] = _med([r["k"] for r in hit]) if hit else float("nan")
        m["to_target"] = _med([r["to_target"] for r in hit]) if hit else float("nan")
        med[name] = m
        print(f"{name:<12}{len(rows):>5}{m['first']:>9.2f}{m['second']:>9.3f}"
              f"{m['fixed']:>9.2f}{m['per_step'] * 1e6:>9.1f}{m['final']:>12.3f}"
              f"{m['k']:>12.0f}{m['to_target']:>11.2f}"
              + ("" if len(hit) == len(rows) else f"  (reached in {len(hit)}/{len(rows)})"))
    b, e = med["bayesgraph"], med["expert"]
    print(f"\nratios bayesgraph/expert: wall time {b['first'] / e['first']:.3f}, per step "
          f"{b['per_step'] / e['per_step']:.3f}, time to target "
          f"{b['to_target'] / e['to_target']:.3f}; final loss difference "
          f"{b['final'] - e['final']:+.3f} nats (lower is better)")
    print("note: bayesgraph decays the learning rate to a tenth and averages the last 20% of "
          "iterates; the expert uses a constant rate and the last iterate")
    return med


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per contender")
    parser.add_argument("--num-warmup", type=int, default=1000)
    parser.add_argument("--num-samples", type=int, default=1000)
    parser.add_argument("--num-chains", type=int, default=2)
    parser.add_argument("--num-steps", type=int, default=5000, help="ADVI steps")
    parser.add_argument("--learning-rate", type=float, default=0.02,
                        help="ADVI (initial) learning rate, bayesgraph's default")
    parser.add_argument("--margin", type=float, default=0.5,
                        help="nats added to the worse final loss to make the ADVI target")
    parser.add_argument("--window", type=int, default=100,
                        help="steps in the trailing mean of the loss")
    parser.add_argument("--skip", choices=("nuts", "advi"), default=None,
                        help="leave one part out")
    cfg = parser.parse_args(argv)
    print(f"python {platform.python_version()}, jax {jax.__version__}, "
          f"numpyro {numpyro.__version__}, optax {optax.__version__}, numpy {np.__version__}; "
          f"{jax.devices()[0].platform} backend, {jax.device_count()} device(s), "
          f"{os.cpu_count()} CPUs")
    if PERSISTENT_CACHE:
        print(f"JAX's persistent compilation cache ({PERSISTENT_CACHE}) is switched off here")
    if cfg.skip != "nuts":
        bench_nuts(cfg)
    if cfg.skip != "advi":
        bench_advi(cfg)
    return 0


if __name__ == "__main__":
    sys.exit(main())
