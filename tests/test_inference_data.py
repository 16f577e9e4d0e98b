"""to_inference_data: groups, names, dims and shapes for every model class; ArviZ accepts them."""

from __future__ import annotations

import warnings

import matplotlib
import numpy as np
import pytest

from bayesgraph.core import Graph, StaticVariable, Variable
from bayesgraph.core.model import ForwardModel, MAPFisherModel, MAPModel
from bayesgraph.core.model.inference_data import arviz_major_version, variable_name
from bayesgraph.core.model.mcmc import MCMCModel, SamplingWarning

matplotlib.use("Agg")


def _graph():
    with Graph("g") as g:
        a = StaticVariable("a", shape=(2,), mean=0, variance=1)
        Variable("x", mean=a[0] + a[1], variance=1)
    return g


DATA = [1.0, np.nan, 2.0]


def _groups(data):
    return set(data.children) if arviz_major_version() >= 1 else set(data.groups())


@pytest.fixture(scope="module")
def mcmc_data():
    g = _graph()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SamplingWarning)
        model = MCMCModel(g, data={g.x: DATA}, num_warmup=150, num_samples=200, seed=0).solve()
    return model.to_inference_data()


def test_names():
    assert variable_name("family/alice/height") == "family.alice.height"


def test_forward_goes_to_prior():
    g = _graph()
    data = ForwardModel(g, data={g.x: DATA}, seed=0).to_inference_data(n_samples=30)
    assert _groups(data) == {"prior", "prior_predictive", "observed_data"}
    prior = data["prior"]
    assert prior["g.a"].dims == ("chain", "draw", "g.a_dim_0")
    assert prior["g.a"].shape == (1, 30, 2)
    # a partly observed variable: its missing entries in prior, its data in observed_data
    assert prior["g.x"].dims == ("chain", "draw", "g.x_missing")
    assert prior["g.x"].shape == (1, 30, 1)
    observed = data["observed_data"]["g.x"]
    assert observed.values.tolist() == [1.0, 2.0]
    assert observed["g.x_observed"].values.tolist() == [0, 2]
    assert data["prior_predictive"]["g.x"].shape == (1, 30, 2)


@pytest.mark.parametrize("cls, draws", [(MAPModel, 40), (MAPFisherModel, 40)])
def test_map_models(cls, draws):
    g = _graph()
    data = cls(g, data={g.x: DATA}, seed=0).solve().to_inference_data(n_samples=40)
    assert _groups(data) == {"posterior", "posterior_predictive", "log_likelihood",
                             "observed_data"}
    assert data["posterior"]["g.a"].shape == (1, draws, 2)
    assert data["posterior"]["g.x"].shape == (1, draws, 1)  # the missing entry only
    if cls is MAPModel:  # n_samples copies of the point (ArviZ needs several draws)
        assert np.all(data["posterior"]["g.a"].values == data["posterior"]["g.a"].values[0, 0])


def test_mcmc_groups_and_stats(mcmc_data):
    assert _groups(mcmc_data) == {"posterior", "posterior_predictive", "log_likelihood",
                                  "sample_stats", "observed_data"}
    post = mcmc_data["posterior"]
    assert post["g.a"].shape == (2, 200, 2)
    assert set(post.data_vars) == {"g.a", "g.x"}
    stats = mcmc_data["sample_stats"]
    for name in ("diverging", "energy", "tree_depth", "acceptance_rate", "lp"):
        assert stats[name].shape == (2, 200)
    assert stats["diverging"].dtype == bool


def test_summary_and_plot(mcmc_data):
    import arviz as az
    import matplotlib.pyplot as plt

    summary = az.summary(mcmc_data, var_names=["g.a"])
    assert len(summary) == 2
    assert "g.a[0]" in str(summary.index[0]) or "0" in str(summary.index[0])
    if arviz_major_version() >= 1:
        az.plot_trace_dist(mcmc_data, var_names=["g.a"])
    else:
        az.plot_trace(mcmc_data, var_names=["g.a"])
    plt.close("all")


def test_discrete_variables_export():
    with Graph("mix") as mix:
        z = Variable("z", distribution="BernoulliDistribution", mean=0.3)
        Variable("x", mean=3.0 * z, variance=1.0)
    data = ForwardModel(mix, data={mix.x: [0.0, 1.0]}, seed=0).to_inference_data(n_samples=5)
    assert data["prior"]["mix.z"].dtype == bool
