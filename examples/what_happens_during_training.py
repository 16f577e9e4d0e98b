"""Halerium's notebook "What happens during model creation and training", with bayesgraph.

The notebook's code with ``halerium`` replaced by ``bayesgraph``: the family graph built from
the templates ``Woman`` and ``Man``, the ForwardModel with and without data, MAPModel and
MAPFisherModel, and a linear regression solved with MAPModel and MAPFisherModel. IPython's
``display(...)`` became ``print``; the plots are left out.

Unlike the notebook, the script checks the answers against their closed forms:

* forward, alice's genetic factor = 20: sally's is N(10, 56.25) (Monte Carlo, 20000 draws);
* posterior, sally's genetic factor = 20: alice's is N(10, 56.25) (exact for MAP/MAPFisher);
* regression: a, b equal the ridge-regression posterior mean, their standard deviations the
  square roots of the diagonal of the posterior covariance.

Run it with ``python3 examples/what_happens_during_training.py``.
"""

import numpy as np

from bayesgraph.core import Entity, Graph, StaticVariable, Variable
from bayesgraph.core.model import ForwardModel, MAPFisherModel, MAPModel, get_posterior_model

N_MC = 20000  # Monte-Carlo draws for the forward model's checks


def heading(text):
    print()
    print(text)
    print("-" * len(text))


def check_mc(label, values, expected_mean, expected_variance, n):
    """Assert Monte-Carlo estimates of a Gaussian's moments within 5 standard errors."""
    mean, variance = float(values[0]), float(values[1])
    se_mean = np.sqrt(expected_variance / n)
    se_variance = expected_variance * np.sqrt(2.0 / (n - 1))
    assert abs(mean - expected_mean) < 5 * se_mean, (label, mean, expected_mean)
    assert abs(variance - expected_variance) < 5 * se_variance, (label, variance)
    print(f"  check: {label} mean {mean:.3f} (exact {expected_mean}, +/- {se_mean:.3f}), "
          f"variance {variance:.2f} (exact {expected_variance}, +/- {se_variance:.2f})")


# --- The family graph --------------------------------------------------------------------
# Bare names such as `genetic_factor` work inside the `with` blocks: creating a variable binds
# its name in this module, and entering a scope binds the names of its children.
with Entity("woman") as woman:
    Variable("genetic_factor", shape=(), mean=0, variance=75)
    Variable("height", shape=(), mean=167 + genetic_factor, variance=25)  # noqa: F821
Woman = woman.get_template("Woman")

with Entity("man") as man:
    Variable("genetic_factor", shape=(), mean=0, variance=75)
    Variable("height", shape=(), mean=175 + genetic_factor, variance=25)  # noqa: F821
Man = man.get_template("Man")

with Graph("family") as family:
    alice = Woman("alice")
    bob = Man("bob")
    harry = Man("harry")
    sally = Woman("sally")

heading("Variables of the family graph")
for v in family.get_all_variables():
    print(f"  {v.global_name!r}")
assert [v.global_name for v in family.get_all_variables()] == [
    f"family/{person}/{quantity}"
    for person in ("alice", "bob", "harry", "sally")
    for quantity in ("genetic_factor", "height")
]

with family:
    harry.genetic_factor.mean = (alice.genetic_factor + bob.genetic_factor) / 2
    harry.genetic_factor.variance = 37.5
    sally.genetic_factor.mean = (alice.genetic_factor + bob.genetic_factor) / 2
    sally.genetic_factor.variance = 37.5

# --- ForwardModel without data -----------------------------------------------------------
heading("ForwardModel, no data: sally's genetic factor")
forward_model = ForwardModel(graph=family, seed=1)
g_sally_example = forward_model.get_example(family.sally.genetic_factor)
g_sally_mean = forward_model.get_means(family.sally.genetic_factor, n_samples=N_MC)
g_sally_variance = forward_model.get_variances(family.sally.genetic_factor, n_samples=N_MC)
print("sally genetic factor example:", g_sally_example)
print("sally genetic factor mean:", g_sally_mean)
print("sally genetic factor variance:", g_sally_variance)
# Prior: mean 0, variance 37.5 + (75 + 75) / 4 = 75.
check_mc("prior of sally", (g_sally_mean[0], g_sally_variance[0]), 0.0, 75.0, N_MC)

# --- ForwardModel with data for alice: information flows forward ------------------------
heading("ForwardModel, alice's genetic factor = 20: sally's genetic factor")
forward_model = ForwardModel(graph=family, data={family.alice.genetic_factor: [20.]}, seed=2)
g_sally_example = forward_model.get_example(family.sally.genetic_factor)
g_sally_mean = forward_model.get_means(family.sally.genetic_factor, n_samples=N_MC)
g_sally_variance = forward_model.get_variances(family.sally.genetic_factor, n_samples=N_MC)
print("sally genetic factor example:", g_sally_example)
print("sally genetic factor mean:", g_sally_mean)
print("sally genetic factor variance:", g_sally_variance)
# mean (20 + 0) / 2 = 10, variance 37.5 + 75 / 4 = 56.25
check_mc("sally given alice", (g_sally_mean[0], g_sally_variance[0]), 10.0, 56.25, N_MC)

# --- ForwardModel with data for sally: nothing flows backward ---------------------------
heading("ForwardModel, sally's genetic factor = 20: alice's genetic factor")
forward_model = ForwardModel(graph=family, data={family.sally.genetic_factor: [20.]}, seed=3)
g_alice_example = forward_model.get_example(family.alice.genetic_factor)
g_alice_mean = forward_model.get_means(family.alice.genetic_factor, n_samples=N_MC)
g_alice_variance = forward_model.get_variances(family.alice.genetic_factor, n_samples=N_MC)
print("alice genetic factor example:", g_alice_example)
print("alice genetic factor mean:", g_alice_mean)
print("alice genetic factor variance:", g_alice_variance)
check_mc("alice (prior, unaffected)", (g_alice_mean[0], g_alice_variance[0]), 0.0, 75.0, N_MC)

# --- MAPModel: information flows backward too -------------------------------------------
# The exact posterior of alice given sally = 20: sally = (alice + bob) / 2 + noise, so
# cov(alice, sally) = 75 / 2, var(sally) = 75, mean = 37.5 / 75 * 20 = 10 and
# variance = 75 - 37.5**2 / 75 = 56.25.
heading("MAPModel, sally's genetic factor = 20: alice's genetic factor")
map_model = MAPModel(graph=family, data={family.sally.genetic_factor: [20.]}, seed=4)
map_model.solve()
g_alice_example = map_model.get_example(family.alice.genetic_factor)
g_alice_mean = map_model.get_means(family.alice.genetic_factor, n_samples=3)
g_alice_variance = map_model.get_variances(family.alice.genetic_factor, n_samples=3)
print("alice genetic factor example:", g_alice_example)
print("alice genetic factor mean:", g_alice_mean)
print("alice genetic factor variance:", g_alice_variance)
assert abs(g_alice_mean[0] - 10.0) < 1e-8, g_alice_mean
assert g_alice_example[0] == g_alice_mean[0]
assert g_alice_variance[0] == 0.0
print("  check: MAP mean = 10 to 1e-8, variance = 0")

# --- MAPFisherModel: a Gaussian around the MAP point ------------------------------------
heading("MAPFisherModel, sally's genetic factor = 20: alice's genetic factor")
map_fisher_model = MAPFisherModel(graph=family, data={family.sally.genetic_factor: [20.]},
                                  seed=5)
map_fisher_model.solve()
g_alice_example = map_fisher_model.get_example(family.alice.genetic_factor)
g_alice_mean = map_fisher_model.get_means(family.alice.genetic_factor, n_samples=1000)
g_alice_variance = map_fisher_model.get_variances(family.alice.genetic_factor, n_samples=1000)
print("alice genetic factor example:", g_alice_example)
print("alice genetic factor mean:", g_alice_mean)
print("alice genetic factor variance:", g_alice_variance)
# For variables with real support (Normal here) MAPFisher's means and variances are exact,
# read off the Gaussian rather than estimated from the n_samples draws.
assert abs(g_alice_mean[0] - 10.0) < 1e-8, g_alice_mean
assert abs(g_alice_variance[0] - 56.25) < 1e-8, g_alice_variance
print("  check: MAPFisher mean = 10 and variance = 56.25, both to 1e-8")

# --- Linear regression -------------------------------------------------------------------
heading("Linear regression: example data")
n_examples = 100
np.random.seed(42)
sigma_x = 3
sigma_a = 1
sigma_b = 1
sigma_n = 0.5
a_true = np.random.normal(0, sigma_a)
b_true = np.random.normal(0, sigma_b)
x_data = np.random.normal(0, sigma_x, size=(n_examples,))
y_data = a_true * x_data + b_true + np.random.normal(0, sigma_n, size=(n_examples,))
print("true a =", a_true)
print("true b =", b_true)
assert a_true == 0.4967141530112327 and b_true == -0.13826430117118466  # as in the notebook

with Graph("lr_graph") as lr_graph:
    x = Variable("x", shape=(), mean=0, variance=sigma_x**2)
    a = StaticVariable("a", shape=(), mean=0, variance=sigma_a**2)
    b = StaticVariable("b", shape=(), mean=0, variance=sigma_b**2)
    x = Variable("y", shape=(), mean=a*x + b, variance=sigma_n**2)  # sic: the notebook's code

# The exact posterior of (a, b) is Gaussian (ridge regression): precision X^T X / sigma_n^2 + I
# (the prior precision of a and b is 1), mean = covariance @ X^T y / sigma_n^2.
design = np.stack([x_data, np.ones_like(x_data)], axis=1)
precision = design.T @ design / sigma_n**2 + np.diag([1 / sigma_a**2, 1 / sigma_b**2])
covariance = np.linalg.inv(precision)
a_exact, b_exact = covariance @ design.T @ y_data / sigma_n**2
a_std_exact, b_std_exact = np.sqrt(np.diag(covariance))
print(f"closed form: a = {float(a_exact)!r} +/- {a_std_exact:.7f}")
print(f"             b = {float(b_exact)!r} +/- {b_std_exact:.7f}")
assert abs(a_std_exact - 0.0182837) < 1e-7 and abs(b_std_exact - 0.0504097) < 1e-7

heading("MAPModel on the regression")
map_model = MAPModel(graph=lr_graph, data={lr_graph.x: x_data, lr_graph.y: y_data}, seed=6)
map_model.solve()
a_estimated = map_model.get_means(lr_graph.a)
b_estimated = map_model.get_means(lr_graph.b)
print("estimated a =", a_estimated)
print("estimated b =", b_estimated)
print("true a =", a_true)
print("true b =", b_true)
assert abs(a_estimated - a_exact) < 1e-8 and abs(b_estimated - b_exact) < 1e-8
# Halerium printed a = 0.4736983304278624, b = -0.1217203455949462; those values are 9e-9 and
# 2e-8 away from the exact ridge solution (its optimiser's tolerance), so compare within 3e-8.
assert abs(a_estimated - 0.4736983304278624) < 3e-8
assert abs(b_estimated - -0.1217203455949462) < 3e-8
print("  check: equal to the closed form to 1e-8, and to Halerium's printed values to 3e-8")

heading("MAPFisherModel on the regression")
map_fisher_model = MAPFisherModel(graph=lr_graph, data={lr_graph.x: x_data, lr_graph.y: y_data},
                                  seed=7)
map_fisher_model.solve()
a_estimated = map_fisher_model.get_means(lr_graph.a)
b_estimated = map_fisher_model.get_means(lr_graph.b)
a_uncertainty = map_fisher_model.get_standard_deviations(lr_graph.a)
b_uncertainty = map_fisher_model.get_standard_deviations(lr_graph.b)
print("estimated a =", a_estimated, "+/-", a_uncertainty)
print("estimated b =", b_estimated, "+/-", b_uncertainty)
print("true a =", a_true)
print("true b =", b_true)
assert abs(a_estimated - a_exact) < 1e-8 and abs(b_estimated - b_exact) < 1e-8
# Halerium printed +/- 0.01879 and 0.05082; the exact Laplace (= exact posterior here)
# standard deviations are 0.0182837 and 0.0504097, which bayesgraph returns.
assert abs(a_uncertainty / a_std_exact - 1) < 1e-6, a_uncertainty
assert abs(b_uncertainty / b_std_exact - 1) < 1e-6, b_uncertainty
print("  check: means and standard deviations equal the closed form")

# --- get_posterior_model: the factory ----------------------------------------------------
heading("get_posterior_model (default method 'MAPFisher')")
posterior_model = get_posterior_model(lr_graph, data={lr_graph.x: x_data, lr_graph.y: y_data},
                                      seed=8)
print("model:", posterior_model)
posterior_model.solve()
means = posterior_model.get_means([lr_graph.a, lr_graph.b])
stds = posterior_model.get_standard_deviations([lr_graph.a, lr_graph.b])
print("a =", means[0], "+/-", stds[0])
print("b =", means[1], "+/-", stds[1])
assert isinstance(posterior_model, MAPFisherModel)
assert np.allclose(means, [a_exact, b_exact], rtol=0, atol=1e-8)
assert np.allclose(stds, [a_std_exact, b_std_exact], rtol=1e-6, atol=0)
print("  check: same answers as MAPFisherModel")

print()
print("All checks passed.")
