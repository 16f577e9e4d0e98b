"""Every inference method against a long NUTS reference on small models (issue 8 item 6).

Prints, per model and method, the error of each key parameter's posterior mean in reference
posterior sds, the ratio of posterior sds (method / reference), the wall time and the class
names of the warnings the fit emitted. Models come from tests/corpus.py (eight schools centred
and non-centred, Poisson regression). PARTIAL: the linear-Gaussian and latent AR(1) models of
the issue are not in this script yet.

    PYTHONPATH=src:tests python benchmarks/bench_trust.py [--ref-samples 4000] [--models ...]
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np

import corpus
from bayesgraph.core.model import (
    ADVIModel,
    MAPFisherModel,
    MAPModel,
    MCMCModel,
    MGVIModel,
)

MODELS = {
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
    "MCMC": lambda g, d: MCMCModel(g, data=d, seed=1),
}


def moments(model, var):
    return float(np.ravel(model.get_means(var))[0]), float(np.sqrt(np.ravel(
        model.get_variances(var))[0]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--models", nargs="*", default=list(MODELS))
    ap.add_argument("--methods", nargs="*", default=list(METHODS))
    ap.add_argument("--ref-samples", type=int, default=4000)
    args = ap.parse_args()
    print("| model | method | parameter | mean error (ref sds) | sd ratio | time (s) | warnings |")
    print("|---|---|---|---|---|---|---|")
    for name in args.models:
        make, keys = MODELS[name]
        case = make()
        ref = MCMCModel(case.graph, data=case.data, seed=123, num_warmup=1000,
                        num_samples=args.ref_samples, num_chains=2,
                        target_accept_prob=0.95).solve()
        refm = {k: moments(ref, case.var(k)) for k in keys}
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
