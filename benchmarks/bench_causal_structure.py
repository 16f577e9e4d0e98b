"""CausalStructure train + predict on a 10-column DataFrame against the same regression
written by hand in numpyro (issue 14).

usage: python benchmarks/bench_causal_structure.py [--sizes 100000 1000000] [--warm]

The data: columns c0 .. c9; c0, c1, c2 are roots (independent Normals), every later column is
a linear regression on the three before it plus Gaussian noise. bayesgraph's side is
``CausalStructure(dependencies).train(df)`` followed by
``predict(df[["c0", "c1", "c2"]], return_std=True)`` (the seven other columns, means and sds,
for every row). The expert's side is the same model as a numpyro expert writes it: the data
standardised with numpy, one numpyro model with a stacked latent vector (intercepts, slopes,
log noise variances; the same priors N(0, 1), N(0, 1), N(0, 10)), the MAP by optax L-BFGS in
a jitted while loop (the data are arguments), and the
predictions propagated through the fitted regressions (means and variances, vectorised
over rows). Each side runs in a fresh process (cold: JAX's persistent cache off unless
``--warm``), timed from the start of the model definition to the predictions as numpy
arrays, compile included. The parent process checks that both sides predict the same means
(to 1e-6 sds) and prints a table: bayesgraph, the expert from zeros (as the seed baseline
starts), and the expert from bayesgraph's start (each regression's ridge solution).
With complete data bayesgraph's training computes the joint MAP in closed form (no
optimiser, no compilation; its iterations column says "closed form").
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np

COLUMNS = [f"c{i}" for i in range(10)]
ROOTS = COLUMNS[:3]


def parents_of(i: int) -> list[str]:
    return [] if i < 3 else COLUMNS[i - 3:i]


def make_data(n: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(42)
    out: dict[str, np.ndarray] = {}
    for i, name in enumerate(COLUMNS):
        parents = parents_of(i)
        if not parents:
            out[name] = rng.normal(i, 1.0 + i, n)
        else:
            weights = rng.normal(0, 1, len(parents))
            out[name] = (0.5 * i + sum(w * out[p] for w, p in zip(weights, parents))
                         + rng.normal(0, 1.0, n))
    return out


def run_bayesgraph(n: int) -> dict:
    import pandas as pd

    from bayesgraph.causal_structure import CausalStructure

    frame = pd.DataFrame(make_data(n))
    dependencies = [[parents_of(i), name] for i, name in enumerate(COLUMNS) if i >= 3]
    t0 = time.perf_counter()
    structure = CausalStructure(dependencies).train(frame)
    trained = time.perf_counter()
    means, sds = structure.predict(frame[ROOTS], return_std=True)
    means, sds = means.to_numpy(), sds.to_numpy()
    done = time.perf_counter()
    return {"train": trained - t0, "predict": done - trained, "total": done - t0,
            "means": means[:5].tolist(), "sds": sds[0].tolist(),
            # complete data: the MAP in closed form, no optimiser ran (reading .model would
            # fit one)
            "iterations": ("closed form" if structure._model is None
                           else structure.model.optimisation["iterations"])}


def run_expert(n: int, start: str = "zeros") -> dict:
    import jax
    import jax.numpy as jnp

    jax.config.update("jax_enable_x64", True)
    import numpyro
    import numpyro.distributions as dist
    import optax
    import optax.tree_utils as otu
    from numpyro.infer.util import log_density

    data = make_data(n)
    t0 = time.perf_counter()
    raw = np.column_stack([data[c] for c in COLUMNS])
    centre, spread = raw.mean(axis=0), raw.std(axis=0)
    z = (raw - centre) / spread
    targets = list(range(3, 10))

    def model(z):
        intercept = numpyro.sample("intercept", dist.Normal(jnp.zeros(10), 1.0).to_event(1))
        slopes = numpyro.sample("slopes", dist.Normal(jnp.zeros((7, 3)), 1.0).to_event(2))
        log_noise = numpyro.sample("log_noise", dist.Normal(jnp.zeros(10), jnp.sqrt(10.0))
                                   .to_event(1))
        mean = jnp.concatenate([jnp.broadcast_to(intercept[:3], (z.shape[0], 3)),
                                intercept[3:] + jnp.stack(
                                    [z[:, t - 3:t] @ slopes[k] for k, t in enumerate(targets)],
                                    axis=1)], axis=1)
        with numpyro.plate("rows", z.shape[0]):
            numpyro.sample("z", dist.Normal(mean, jnp.exp(log_noise / 2)).to_event(1), obs=z)

    def unpack(w):
        return {"intercept": w[:10], "slopes": w[10:31].reshape(7, 3), "log_noise": w[31:]}

    @jax.jit
    def solve(w, z):
        f = lambda w: -log_density(model, (z,), {}, unpack(w))[0]  # noqa: E731
        opt = optax.lbfgs()
        vg = optax.value_and_grad_from_state(f)

        def step(c):
            w, s = c
            v, g = vg(w, state=s)
            u, s = opt.update(g, s, w, value=v, grad=g, value_fn=f)
            return optax.apply_updates(w, u), s

        def cont(c):
            it = otu.tree_get(c[1], "count")
            g = otu.tree_get(c[1], "grad")
            v = otu.tree_get(c[1], "value")
            return (it == 0) | ((it < 1000) & (otu.tree_norm(g)
                                               >= 1e-11 * jnp.maximum(1.0, jnp.abs(v))))

        w, state = jax.lax.while_loop(cont, step, (w, opt.init(w)))
        return w, otu.tree_get(state, "count")

    def predict(w, roots):
        """Means and sds of every column given the roots: the fitted regressions
        propagated over all rows at once (numpy), the covariance on 10 x 10 matrices."""
        p = {k: np.asarray(v) for k, v in unpack(w).items()}
        lower = np.zeros((10, 10))
        for k, t in enumerate(targets):
            lower[t, t - 3:t] = p["slopes"][k]
        means = np.zeros((roots.shape[0], 10))
        means[:, :3] = roots
        for t in targets:
            means[:, t] = p["intercept"][t] + means[:, t - 3:t] @ lower[t, t - 3:t]
        noise = np.exp(p["log_noise"])
        noise[:3] = 0.0  # the roots are given
        inverse = np.linalg.inv(np.eye(10) - lower)
        sds = np.sqrt(np.diag(inverse @ np.diag(noise) @ inverse.T))
        return means, np.broadcast_to(sds, means.shape)

    w0 = np.zeros(41)
    if start == "ridge":  # the same start as bayesgraph's: each regression's ridge solution
        for t in [*range(3), *targets]:
            x = np.column_stack([np.ones(n), *([z[:, t - 3:t]] if t >= 3 else [])])
            coef = np.linalg.lstsq(x, z[:, t], rcond=None)[0]
            noise = np.mean((z[:, t] - x @ coef) ** 2)
            coef = np.linalg.solve(x.T @ x / noise + np.eye(x.shape[1]), x.T @ z[:, t] / noise)
            w0[t], w0[31 + t] = coef[0], np.log(noise)
            if t >= 3:
                w0[10 + 3 * (t - 3):13 + 3 * (t - 3)] = coef[1:]
    w, iterations = jax.block_until_ready(solve(jnp.asarray(w0), jnp.asarray(z)))
    trained = time.perf_counter()
    means, sds = predict(w, z[:, :3])
    means = np.asarray(means) * spread + centre
    sds = np.asarray(sds) * spread
    done = time.perf_counter()
    return {"train": trained - t0, "predict": done - trained, "total": done - t0,
            "means": means[:5].tolist(), "sds": sds[0].tolist(), "iterations": int(iterations)}


def child(side: str, n: int) -> dict:
    env = dict(os.environ)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env["PYTHONPATH"] = os.pathsep.join([os.path.join(root, "src"), env.get("PYTHONPATH", "")])
    out = subprocess.run([sys.executable, __file__, "--side", side, "--n", str(n)], env=env,
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--warm", action="store_true", help="keep bayesgraph's disk cache on")
    parser.add_argument("--side", choices=["bayesgraph", "expert", "expert-ridge"],
                        help=argparse.SUPPRESS)
    parser.add_argument("--n", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.side:
        if args.side == "bayesgraph":
            print(json.dumps(run_bayesgraph(args.n)))
        else:
            print(json.dumps(run_expert(args.n, "ridge" if args.side == "expert-ridge"
                                        else "zeros")))
        return 0
    if not args.warm:
        os.environ["BAYESGRAPH_COMPILATION_CACHE"] = "0"
    print("| rows | side | train | predict | total | L-BFGS iterations | bayesgraph / side "
          "| max diff / sd |")
    print("|---|---|---|---|---|---|---|---|")
    status = 0
    for n in args.sizes:
        ours = child("bayesgraph", n)
        print(f"| {n} | bayesgraph | {ours['train']:.2f} | {ours['predict']:.2f} "
              f"| {ours['total']:.2f} | {ours['iterations']} | | |", flush=True)
        for side in ("expert", "expert-ridge"):
            theirs = child(side, n)
            sds = np.array(theirs["sds"])
            scale = np.where(sds > 0, sds, 1.0)
            diff = np.max(np.abs(np.array(ours["means"]) - np.array(theirs["means"])) / scale)
            print(f"| {n} | {side} | {theirs['train']:.2f} | {theirs['predict']:.2f} "
                  f"| {theirs['total']:.2f} | {theirs['iterations']} "
                  f"| {ours['total'] / theirs['total']:.2f} | {diff:.1e} |", flush=True)
            if diff > 1e-6:
                status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
