"""OrderedLogistic and OrderedProbit: against numpyro's OrderedLogistic and closed forms."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import numpyro.distributions as dist
import pytest
from scipy.special import expit
from scipy.stats import norm

from bayesgraph.core import Graph, StaticVariable, Variable
from bayesgraph.core.compiler.distributions import build
from bayesgraph.core.model import ForwardModel, MAPModel
from bayesgraph.exceptions import DataError, DistributionError

CUTS = np.array([-1.0, 0.2, 1.3])


def _closed_form(link, eta, cuts):
    """P(y = k) = F(c_k - eta) - F(c_{k-1} - eta), with F(-inf) = 0, F(inf) = 1."""
    cdf = link(cuts[None, :] - np.asarray(eta)[:, None])
    cdf = np.c_[np.zeros(len(eta)), cdf, np.ones(len(eta))]
    return np.diff(cdf, axis=1)


@pytest.mark.parametrize("name, link", [("OrderedLogisticDistribution", expit),
                                        ("OrderedProbitDistribution", norm.cdf)])
def test_log_prob_equals_the_closed_form(name, link):
    rng = np.random.default_rng(0)
    eta = rng.normal(scale=3.0, size=50)
    y = rng.integers(0, 4, size=50)
    with jax.enable_x64(True):
        d = build(name, {"predictor": jnp.asarray(eta), "cutpoints": jnp.asarray(CUTS)}, (50,))
        got = np.asarray(d.log_prob(jnp.asarray(y)))
        if name == "OrderedLogisticDistribution":
            ref = np.asarray(dist.OrderedLogistic(jnp.asarray(eta), jnp.asarray(CUTS))
                             .log_prob(jnp.asarray(y)))
            np.testing.assert_allclose(got, ref, rtol=1e-12)
    if name == "OrderedProbitDistribution":
        want = _probit_log_prob(eta, CUTS, y)
    else:
        want = np.log(_closed_form(link, eta, CUTS)[np.arange(50), y])
    np.testing.assert_allclose(got, want, rtol=1e-10)


def _probit_log_prob(eta, cuts, y):
    """log(Phi(u) - Phi(l)) in log space (scipy's logcdf/logsf are exact in the tails), from
    the side of the smaller tail: an evaluation independent of the one under test."""
    full = np.r_[-np.inf, cuts, np.inf]
    u, low = full[y + 1] - eta, full[y] - eta
    with np.errstate(divide="ignore", invalid="ignore"):
        left = norm.logcdf(u) + np.log1p(-np.exp(norm.logcdf(low) - norm.logcdf(u)))
        right = norm.logsf(low) + np.log1p(-np.exp(norm.logsf(u) - norm.logsf(low)))
    return np.where(low > 0, right, left)


def test_probit_keeps_precision_in_the_far_tail():
    with jax.enable_x64(True):
        d = build("OrderedProbitDistribution",
                  {"predictor": jnp.asarray([12.0]), "cutpoints": jnp.asarray(CUTS)}, (1,))
        lp = float(d.log_prob(jnp.asarray([0]))[0])
    assert lp == pytest.approx(float(norm.logcdf(-1.0 - 12.0)), rel=1e-8)


@pytest.mark.parametrize("name, link", [("OrderedLogistic", expit),
                                        ("OrderedProbit", norm.cdf)])
def test_forward_draws_have_the_closed_form_frequencies(name, link):
    with Graph("g") as g:
        Variable("y", distribution=name, predictor=0.4, cutpoints=CUTS.tolist(), dtype="int")
    draws = np.asarray(ForwardModel(g, seed=0).get_samples(g.y, n_samples=20000)).ravel()
    freq = np.bincount(draws.astype(int), minlength=4) / draws.size
    want = _closed_form(link, [0.4], CUTS)[0]
    assert set(np.unique(draws)) <= {0, 1, 2, 3}
    assert np.all(np.abs(freq - want) < 4 * np.sqrt(want * (1 - want) / draws.size))


def test_log_likelihood_of_a_fit_equals_the_closed_form():
    """OrderedProbit regression with unknown ordered cut points: the pointwise
    log-likelihood at the MAP point is the closed form at that point."""
    rng = np.random.default_rng(3)
    x = rng.normal(size=30)
    y_obs = np.searchsorted(CUTS, 0.8 * x + rng.normal(size=30))
    with Graph("ord") as g:
        b = StaticVariable("b", mean=0.0, variance=4.0)
        c = StaticVariable("c", shape=(3,), mean=0.0, variance=25.0, constraint="ordered")
        xv = Variable("x", distribution="NoDistribution")
        Variable("y", distribution="OrderedProbit", predictor=b * xv, cutpoints=c)
    model = MAPModel(g, data={g.x: x, g.y: y_obs}).solve()
    b_hat, c_hat = model.get_means([g.b, g.c])
    assert np.all(np.diff(c_hat) > 0)
    ll = np.asarray(model.get_log_likelihood(g.y, n_samples=1))[0]
    want = np.log(_closed_form(norm.cdf, float(b_hat) * x, np.asarray(c_hat))[np.arange(30), y_obs])
    np.testing.assert_allclose(ll, want, rtol=1e-9)


def test_bad_cut_points_and_data_are_refused():
    with pytest.raises(DistributionError, match="cutpoints.*increase"):
        Variable("y", distribution="OrderedLogistic", cutpoints=[0.5, 0.1])
    with Graph("g") as g:
        Variable("y", distribution="OrderedLogistic", cutpoints=CUTS.tolist(), dtype="int")
    with pytest.raises(DataError, match="4 categories"):
        ForwardModel(g, data={g.y: [0, 4]})
