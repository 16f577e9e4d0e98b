"""Every inference method against a long NUTS reference on small models (issue 8 item 6).

Prints, per model and method, the error of each key parameter's posterior mean in reference
posterior sds, the ratio of posterior sds (method / reference), the wall time and the class
names of the warnings the fit emitted. Models: eight schools centred and non-centred and a
Poisson regression from tests/corpus.py; a linear-Gaussian regression on an uncentred
covariate, whose reference is the exact (closed-form) posterior instead of NUTS; and a latent
AR(1) observed with noise, with its coefficient and noise scale unknown (the models of issue 8).

    PYTHONPATH=src:tests python benchmarks/bench_trust.py [--ref-samples 4000] [--models ...]
        [--methods ...]

``--models linreg ar1`` runs only the two models of issue 8 (about 2 minutes on two cores).
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np

import corpus
from bayesgraph.core import Graph, StaticVariable, Variable
from bayesgraph.core.model import (
    ADVIModel,
    MAPFisherModel,
    MAPModel,
    MCMCModel,
    MGVIModel,
)


def linear_regression_exact():
    """y = a + b x + noise with known noise sd 0.5 and N(0, 10^2) priors: a Gaussian posterior
    with a, b correlated (the covariate is centred at 3, not 0), known in closed form."""
    rng = np.random.default_rng(21)
    n, noise_var, prior_var = 30, 0.25, 100.0
    x_obs = 3.0 + rng.normal(size=n)
    y_obs = 1.0 + 2.0 * x_obs + np.sqrt(noise_var) * rng.normal(size=n)
    with Graph("linreg") as g:
        a = StaticVariable("a", mean=0.0, variance=prior_var)
        b = StaticVariable("b", mean=0.0, variance=prior_var)
        xv = Variable("x", distribution="NoDistribution")
        Variable("y", mean=a + b * xv, variance=noise_var)
    design = np.stack([np.ones(n), x_obs], axis=1)
    cov = np.linalg.inv(design.T @ design / noise_var + np.eye(2) / prior_var)
    mean = cov @ design.T @ y_obs / noise_var
    sds = np.sqrt(np.diag(cov))
    exact = {"a": (mean[0], sds[0]), "b": (mean[1], sds[1])}
    return corpus.Case("linreg", g, {g.x: x_obs, g.y: y_obs}, None, {}, {}, exact=exact)


def latent_ar1(steps=60):
    """The latent AR(1) of tests/_vi_graphs.py (phi 0.9, s 0.5, 60 steps) as a corpus case."""
    from _vi_graphs import latent_ar1 as build

    g, data = build(steps)
    return corpus.Case("ar1", g, data, None, {}, {})


MODELS = {
    "linreg": (linear_regression_exact, ("a", "b")),
    "ar1": (latent_ar1, ("phi", "s")),
    "poisson": (corpus.poisson_regression, ("a", "b")),
    "schools_centred": (corpus.eight_schools_centered, ("mu", "tau")),
    "schools_noncentred": (corpus.eight_schools_noncentered, ("mu", "tau")),
}

METHODS = {
    "MAP": lambda g, d: MAPModel(g, data=d, seed=0),
    "MAPFisher": lambda g, d: MAPFisherModel(g, data=d, seed=0),
    "ADVI-mf": lambda g, d: ADVIModel(g, data=d, seed=0, guide="mean-field"),
    "ADVI-fr": lambda g, d: ADVIModel(g, data=d, seed=0, guide="full-rank"),
    "MGVI": lambda g, d: MGVIModel(g, data=d, seed=0),
    "MGVI-n20": lambda g, d: MGVIModel(g, data=d, seed=0, n_samples=20),
    # the remedies MGVI's ConvergenceWarning suggests (not in the default --methods)
    "MGVI-i20": lambda g, d: MGVIModel(g, data=d, seed=0, n_iterations=20),
    "MGVI-i20-n20": lambda g, d: MGVIModel(g, data=d, seed=0, n_iterations=20, n_samples=20),
    "MCMC": lambda g, d: MCMCModel(g, data=d, seed=1),
}


def moments(model, var):
    return float(np.ravel(model.get_means(var))[0]), float(np.sqrt(np.ravel(
        model.get_variances(var))[0]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--models", nargs="*", default=list(MODELS),
                    help=f"any of {', '.join(MODELS)}")
    ap.add_argument("--methods", nargs="*",
                    default=[m for m in METHODS if not m.startswith("MGVI-i")],
                    help=f"any of {', '.join(METHODS)}")
    ap.add_argument("--ref-samples", type=int, default=4000)
    args = ap.parse_args()
    print("| model | method | parameter | mean error (ref sds) | sd ratio | time (s) | warnings |")
    print("|---|---|---|---|---|---|---|")
    for name in args.models:
        make, keys = MODELS[name]
        case = make()
        if all(k in case.exact for k in keys):  # closed form: no NUTS reference needed
            refm = {k: tuple(map(float, case.exact[k])) for k in keys}
        else:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                ref = MCMCModel(case.graph, data=case.data, seed=123, num_warmup=1000,
                                num_samples=args.ref_samples, num_chains=2,
                                target_accept_prob=0.95).solve()
            refm = {k: moments(ref, case.var(k)) for k in keys}
            names = ",".join(sorted({type(w.message).__name__ for w in caught})) or "-"
            print(f"| {name} | reference NUTS | "
                  + ", ".join(f"{k} {m:.3g} +- {sd:.2g}" for k, (m, sd) in refm.items())
                  + f" | | | | {names} |", flush=True)
        for method in args.methods:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                t0 = time.perf_counter()
                try:
                    model = METHODS[method](case.graph, case.data).solve()
                    got = {k: moments(model, case.var(k)) for k in keys}
                except Exception as err:  # noqa: BLE001 - report, do not stop the table
                    got, failure = None, type(err).__name__
                wall = time.perf_counter() - t0
            names = ",".join(sorted({type(w.message).__name__ for w in caught})) or "-"
            for k in keys:
                rm, rs = refm[k]
                if got is None:
                    print(f"| {name} | {method} | {k} | error: {failure} | "
                          f"| {wall:.1f} | {names} |")
                    continue
                m, s = got[k]
                print(f"| {name} | {method} | {k} | {(m - rm) / rs:+.2f} | {s / rs:.2f} "
                      f"| {wall:.1f} | {names} |", flush=True)


if __name__ == "__main__":
    main()
