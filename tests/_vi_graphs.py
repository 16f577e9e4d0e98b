"""Graphs with known posteriors shared by test_advi.py and test_mgvi.py.

* :func:`linear_gaussian`: ``z ~ N(0, 1)`` static, ``x_i ~ N(2 z + 1, 0.5)`` observed for 5
  examples, ``h_i ~ N(z, 2)`` dynamic with NaN holes; the exact posterior by Gaussian
  conditioning in numpy.
* :func:`poisson`: ``y_i ~ Poisson(exp(0.5 + b x_i))``, ``b ~ N(0, 1)``; the exact posterior
  mean and variance of ``b`` by a fine grid (one parameter: exact to ~1e-8).
* :func:`latent_ar1`: a latent AR(1) observed with noise, whose joint density has no proper
  mode (test_map_fisher_paths.py and benchmarks/bench_trust.py).
"""

from __future__ import annotations

import numpy as np

from bayesgraph.core import Graph, StaticVariable, Variable

X_OBS = np.array([1.0, 2.5, 0.3, 1.7, 2.2])
H_OBS = np.array([0.5, np.nan, 1.0, np.nan, np.nan])


def linear_gaussian():
    """Return ``(graph, data, exact)`` with ``exact = {name: (mean, variance)}``."""
    with Graph("lg") as g:
        z = StaticVariable("z", mean=0, variance=1)
        Variable("x", mean=2 * z + 1, variance=0.5)
        Variable("h", mean=z, variance=2.0)
    n = 5
    # joint of v = [z, h_1..h_5, x_1..x_5] as v = m + A e, e ~ N(0, I)
    dim = 1 + 2 * n
    m = np.zeros(dim)
    m[1 + n:] = 1.0
    a = np.zeros((dim, dim))
    a[0, 0] = 1.0
    for i in range(n):
        a[1 + i, 0], a[1 + i, 1 + i] = 1.0, np.sqrt(2.0)
        a[1 + n + i, 0], a[1 + n + i, 1 + n + i] = 2.0, np.sqrt(0.5)
    cov = a @ a.T
    values = np.concatenate([[np.nan], H_OBS, X_OBS])
    obs = ~np.isnan(values)
    gain = cov[~obs][:, obs] @ np.linalg.inv(cov[obs][:, obs])
    post_mean = m[~obs] + gain @ (values[obs] - m[obs])
    post_var = np.diag(cov[~obs][:, ~obs] - gain @ cov[obs][:, ~obs])
    latent = np.flatnonzero(~obs)
    h_mean, h_var = H_OBS.copy(), np.zeros(n)
    for k, idx in enumerate(latent[1:]):
        h_mean[idx - 1], h_var[idx - 1] = post_mean[1 + k], post_var[1 + k]
    exact = {"z": (post_mean[0], post_var[0]), "h": (h_mean, h_var)}
    return g, {g.x: X_OBS, g.h: H_OBS}, exact


def poisson():
    """Return ``(graph, data, (mean, variance) of b)``."""
    rng = np.random.default_rng(1)
    xs = np.linspace(-1.0, 1.0, 20)
    ys = rng.poisson(np.exp(0.5 + 0.8 * xs)).astype(float)
    with Graph("pois") as g:
        x = Variable("x", mean=0, variance=1)
        b = StaticVariable("b", mean=0, variance=1)
        Variable("y", distribution="PoissonDistribution", log_mean=0.5 + b * x)
    grid = np.linspace(-4.0, 4.0, 40001)
    rate = np.exp(0.5 + grid[:, None] * xs[None, :])
    log_post = -0.5 * grid ** 2 + (ys * np.log(rate) - rate).sum(axis=1)
    w = np.exp(log_post - log_post.max())
    w /= w.sum()
    mean = float(np.sum(w * grid))
    return g, {g.x: xs, g.y: ys}, (mean, float(np.sum(w * (grid - mean) ** 2)))


def latent_ar1(steps=60):
    """``x_t = phi x_{t-1} + s e_t`` (``x_0 ~ N(0, 1)``), ``y_t = x_t + 0.3 e'_t``; ``phi ~
    Uniform(-1, 1)``, ``s ~ HalfNormal(1)``; data simulated with phi 0.9, s 0.5. One
    StaticVariable per step, the way a Halerium user writes it. The joint density is unbounded
    as s -> 0 along ``x_t = phi x_{t-1}``: L-BFGS stops at a local mode 4 sds off. Returns
    ``(graph, data)``."""
    rng = np.random.default_rng(11)
    xs = np.zeros(steps)
    xs[0] = rng.normal()
    for t in range(1, steps):
        xs[t] = 0.9 * xs[t - 1] + 0.5 * rng.normal()
    ys = xs + 0.3 * rng.normal(size=steps)
    with Graph("ar1") as g:
        phi = StaticVariable("phi", distribution="Uniform", center=0.0, width=2.0)
        s = StaticVariable("s", distribution="HalfNormal", scale=1.0)
        prev = StaticVariable("x0", mean=0.0, variance=1.0)
        StaticVariable("y0", mean=prev, variance=0.09)
        for t in range(1, steps):
            prev = StaticVariable(f"x{t}", mean=phi * prev, variance=s**2)
            StaticVariable(f"y{t}", mean=prev, variance=0.09)
    return g, {getattr(g, f"y{t}"): ys[t] for t in range(steps)}
