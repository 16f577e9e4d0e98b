"""Missing data: NaN entries in the data are inferred by the posterior models.

A sensor measures x around an unknown level ``mu`` (a StaticVariable shared by all examples),
and a second quantity y depends linearly on x. Some x and some y readings are missing (NaN).
bayesgraph makes each missing entry a latent value of its own; the observed entries of the
same variable stay data. MAPFisherModel then gives every hole a mean and a variance.

The graph is linear-Gaussian, so the exact answer is Gaussian conditioning of the joint normal
distribution of (mu, x, y) on the observed entries; the script computes it with numpy and
checks MAPFisherModel against it.

Run it with ``python3 examples/missing_data.py``.
"""

import numpy as np

from bayesgraph.core import Graph, StaticVariable, Variable
from bayesgraph.core.model import MAPFisherModel

nan = np.nan
with Graph("sensor") as sensor:
    mu = StaticVariable("mu", mean=0.0, variance=4.0)
    x = Variable("x", mean=mu, variance=1.0)
    y = Variable("y", mean=2.0 * x + 1.0, variance=0.25)

x_data = np.array([1.2, nan, 0.7, 1.9, nan, 1.4])
y_data = np.array([3.5, 4.1, nan, 4.6, nan, 3.9])
# example 1: x missing, y observed -> x is inferred backwards from y
# example 2: y missing, x observed -> y is predicted from x
# example 4: both missing          -> both follow the posterior of mu
n = len(x_data)

model = MAPFisherModel(sensor, data={sensor.x: x_data, sensor.y: y_data}, seed=0)
model.solve()
means = model.get_means(sensor)  # a dict keyed by child name, like the graph
variances = model.get_variances(sensor)
print(f"mu: mean {float(means['mu']):.6f}, variance {float(variances['mu']):.6f}")
print("example   x (data)   x mean    x var     y (data)   y mean    y var")
for i in range(n):
    print(f"{i:7d} {x_data[i]:9.2f} {means['x'][i]:9.4f} {variances['x'][i]:9.5f} "
          f"{y_data[i]:9.2f} {means['y'][i]:9.4f} {variances['y'][i]:9.5f}")

# Observed entries come back unchanged, with zero variance.
observed_x, observed_y = ~np.isnan(x_data), ~np.isnan(y_data)
assert np.array_equal(means["x"][observed_x], x_data[observed_x])
assert np.all(variances["x"][observed_x] == 0) and np.all(variances["y"][observed_y] == 0)

# --- The exact answer --------------------------------------------------------------------
# All quantities are linear in independent standard normals e = (e_mu, e_x[0..n), e_y[0..n)):
#   mu = 2 e_mu,  x_i = mu + e_x[i],  y_i = 2 x_i + 1 + 0.5 e_y[i]
# so z = (mu, x, y) = offset + L @ e with covariance L @ L.T.
L = np.zeros((1 + 2 * n, 1 + 2 * n))
offset = np.zeros(1 + 2 * n)
L[0, 0] = 2.0
for i in range(n):
    L[1 + i] = L[0]
    L[1 + i, 1 + i] = 1.0
    L[1 + n + i] = 2.0 * L[1 + i]
    L[1 + n + i, 1 + n + i] = 0.5
    offset[1 + n + i] = 1.0
cov = L @ L.T
values = np.concatenate([[nan], x_data, y_data])
obs = ~np.isnan(values)
hidden = ~obs
gain = cov[np.ix_(hidden, obs)] @ np.linalg.inv(cov[np.ix_(obs, obs)])
exact_mean = offset[hidden] + gain @ (values[obs] - offset[obs])
exact_var = np.diag(cov[np.ix_(hidden, hidden)] - gain @ cov[np.ix_(obs, hidden)])

model_mean = np.concatenate([[means["mu"]], means["x"], means["y"]])[hidden]
model_var = np.concatenate([[variances["mu"]], variances["x"], variances["y"]])[hidden]
assert np.allclose(model_mean, exact_mean, rtol=0, atol=1e-8), (model_mean, exact_mean)
assert np.allclose(model_var, exact_var, rtol=1e-8, atol=0), (model_var, exact_var)
print("check: the means and variances of mu and of the 5 holes equal the exact Gaussian "
      "conditioning to 1e-8")

# Samples of a hole scatter with that variance; observed entries are the same in every draw.
samples = model.get_samples(sensor.x, n_samples=4000)
assert samples.shape == (4000, n)
assert np.all(samples[:, 0] == x_data[0])
se = exact_var[1] * np.sqrt(2 / 3999)  # hidden order: mu, x[1], x[4], y[2], y[4]
assert abs(samples[:, 1].var() - exact_var[1]) < 5 * se
print(f"check: 4000 samples of x[1] have variance {samples[:, 1].var():.4f} "
      f"(exact {exact_var[1]:.4f})")
print()
print("All checks passed.")
