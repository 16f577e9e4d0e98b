"""Benchmark: every objective over 10^5 examples of the seed regression (issue 14).

Data: ``x ~ N(0, 3^2)``, ``y = 0.4967 x - 0.1383 + N(0, 0.5^2)`` (``default_rng(42)``);
graph ``x ~ N(0, 9)``, ``a, b ~ N(0, 1)`` static, ``y ~ N(a x + b, 0.25)``. The graph is
first trained on the data (Trainer, MAPFisher); each objective then runs on the trained graph
over all examples, timed from construction to answers as numpy values, compile included
(bayesgraph's in-process compilation cache is emptied before each, the persistent cache is
off). Each line also gives the number of XLA compilations (from jax's compile log: the
count does not depend on the machine's load) and the seconds spent compiling:

* ``Predictor``: ``y`` (mean) given ``x``;
* ``Evaluator``: inputs ``x``, outputs ``y``, metric r2;
* ``ProbabilityEstimator``: log density of ``(x, y)`` per example, checked against the
  closed form (``x`` Gaussian; ``y | x`` Gaussian with the trained posterior's variance);
* ``OutlierDetector``: ``'upsampled'`` and ``'marginalized'``, 1000 model draws (the data
  are complete, so both give the same flags);
* ``InfluenceEstimator``: target ``y``, elements ``x``, ``a``, ``b``, with n_samples equal
  to the number of examples.

Usage::

    PYTHONPATH=src python benchmarks/bench_objectives.py --n 100000

Fails (exit status 1) if an objective or the Trainer takes longer than ``--limit`` seconds
(default 5), the log densities differ from the closed form by more than 1e-6, or the two
outlier methods disagree.
"""

from __future__ import annotations

import argparse
import logging
import platform
import sys
import time

import jax
import numpy as np

jax.config.update("jax_enable_compilation_cache", False)

from bayesgraph import (  # noqa: E402
    Evaluator,
    InfluenceEstimator,
    OutlierDetector,
    Predictor,
    ProbabilityEstimator,
    Trainer,
)
from bayesgraph.core import Graph, StaticVariable, Variable  # noqa: E402
from bayesgraph.core.model import MAPFisherModel  # noqa: E402
from bayesgraph.core.model._compilation_cache import clear_caches  # noqa: E402


class _Compiles(logging.Handler):
    """Counts XLA compilations (and their seconds) from jax's compile log."""

    def __init__(self):
        super().__init__()
        self.count, self.seconds = 0, 0.0

    def emit(self, record):
        message = record.getMessage()
        if message.startswith("Finished XLA compilation"):
            self.count += 1
            self.seconds += float(message.split(" in ")[-1].split()[0])


def timed(label, fn, results):
    clear_caches()
    counter = _Compiles()
    logger = logging.getLogger("jax")
    logger.addHandler(counter)
    try:
        with jax.log_compiles(True):
            t0 = time.perf_counter()
            value = fn()
            seconds = time.perf_counter() - t0
    finally:
        logger.removeHandler(counter)
    results.append((label, seconds))
    print(f"{label:22s} {seconds:7.2f} s   {counter.count:3d} XLA compilations "
          f"({counter.seconds:5.2f} s of compiling)", flush=True)
    return value


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--limit", type=float, default=5.0)
    args = parser.parse_args()
    rng = np.random.default_rng(42)
    x_data = rng.normal(0, 3, args.n)
    y_data = 0.4967 * x_data - 0.1383 + rng.normal(0, 0.5, args.n)
    print(f"n = {args.n}; python {platform.python_version()}, jax {jax.__version__}, "
          f"{jax.devices()[0].platform}")

    with Graph("lr") as lr:
        x = Variable("x", mean=0, variance=9)
        a = StaticVariable("a", mean=0, variance=1)
        b = StaticVariable("b", mean=0, variance=1)
        Variable("y", mean=a * x + b, variance=0.25)
    results: list[tuple[str, float]] = []
    data = {lr.x: x_data, lr.y: y_data}
    trained = timed("Trainer (MAPFisher)", lambda: Trainer(lr, data)(), results)
    tdata = {trained.x: x_data, trained.y: y_data}

    timed("Predictor", lambda: Predictor(trained, {trained.x: x_data})(trained.y), results)
    r2 = timed("Evaluator (r2)", lambda: Evaluator(trained, tdata, inputs=[trained.x],
                                                   outputs=[trained.y], metric="r2")(),
               results)
    lp = timed("ProbabilityEstimator",
               lambda: ProbabilityEstimator(trained, tdata)(trained), results)
    flags = timed("OutlierDetector", lambda: OutlierDetector(trained, tdata)(trained),
                  results)
    marginal = timed("OutlierDetector (marg.)",
                     lambda: OutlierDetector(trained, tdata, method="marginalized")(trained),
                     results)
    infl = timed("InfluenceEstimator",
                 lambda: InfluenceEstimator(trained, target=trained.y, n_samples=args.n)(
                     [trained.x, trained.a, trained.b]), results)

    model = MAPFisherModel(trained).solve()
    mean = np.array(model.get_means([trained.a, trained.b]), dtype=float)
    cov = model.get_covariance([trained.a, trained.b])
    design = np.c_[x_data, np.ones(args.n)]
    var = np.einsum("ij,jk,ik->i", design, cov, design) + 0.25
    exact = (-0.5 * (np.log(2 * np.pi * 9) + x_data ** 2 / 9)
             - 0.5 * (np.log(2 * np.pi * var) + (y_data - design @ mean) ** 2 / var))
    error = float(np.max(np.abs(lp - exact)))
    print(f"r2 = {r2['lr']:.4f}; outliers: {flags.mean():.4f} of examples (expected about "
          f"0.05); influences on y of x, a, b: {np.round(infl, 4).tolist()}; max |log density"
          f" - closed form| = {error:.2e}")
    slow = [label for label, s in results if s > args.limit]
    if not np.array_equal(flags, marginal):
        print("FAILED: 'upsampled' and 'marginalized' flag different examples")
        return 1
    if slow or error > 1e-6:
        print(f"FAILED: over {args.limit} s: {slow}; density error {error:.2e}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
