"""Data sharded over several devices give the answers of one device (issue 16, item 1).

JAX reads ``XLA_FLAGS=--xla_force_host_platform_device_count=8`` only when it starts, so the
checks run in one fresh subprocess (about 10 s in all) that prints one JSON line of
findings; the test functions read it (shared per session) and assert.

Graph: the seed regression with a covariate that has a prior, ``y ~ N(a + b x, s^2)``,
800 rows with NaN holes in ``x`` and ``y`` (a partly observed group both as a parent and as a
child), plus a pedigree-like group of 16 members (a group whose member axis is the one to
split).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]

SCRIPT = textwrap.dedent('''
    import json, os, sys, warnings
    import numpy as np
    import jax
    from bayesgraph.core import Graph, StaticVariable, Variable
    from bayesgraph.core.model import MAPModel, MAPFisherModel, MCMCModel, ADVIModel, MGVIModel
    from bayesgraph.core.model._devices import data_devices
    warnings.simplefilter("ignore")
    PART = sys.argv[1]  # "fast": MAP and MAPFisher; "slow": MCMC, ADVI and MGVI as well

    def graph():
        with Graph("g") as g:
            a = StaticVariable("a", mean=0, variance=1)
            b = StaticVariable("b", mean=0, variance=1)
            s = StaticVariable("s", distribution="HalfNormalDistribution", scale=1)
            x = Variable("x", mean=0, variance=9)
            y = Variable("y", mean=a + b * x, variance=s ** 2)
        return g

    rng = np.random.default_rng(1)
    n = 800
    x = rng.normal(0, 3, n)
    y = 0.5 * x - 0.1 + rng.normal(0, 0.5, n)
    x[rng.choice(n, 40, replace=False)] = np.nan
    y[rng.choice(n, 40, replace=False)] = np.nan
    g = graph()
    data = {g.x: x, g.y: y}
    out = {"n_devices": jax.device_count()}

    import time
    t0 = time.time()
    def tick(what):
        out.setdefault("times", {})[what] = round(time.time() - t0, 1)

    def means(model, names):
        return [np.asarray(model.get_means(getattr(g, k))).ravel().tolist() for k in names]

    one = MAPModel(g, data=data, devices=1).solve()
    many = MAPModel(g, data=data, devices=8).solve()
    out["map_one"] = means(one, "absxy")
    out["map_many"] = means(many, "absxy")
    out["map_devices"] = [data_devices(one._data), data_devices(many._data)]
    out["map_default_devices"] = len(MAPModel(g, data=data).devices)
    values = many._data["values"]["g/y"]
    out["y_shards"] = sorted({tuple(s.data.shape) for s in values.addressable_shards})
    out["y_shard_devices"] = len({s.device for s in values.addressable_shards})
    out["slots_devices"] = len(many._data["slots"]["g/y"].sharding.device_set)

    tick("map")
    # a group of 16 members with one example each: split along the member axis
    with Graph("p") as p:
        mu = StaticVariable("mu", mean=0, variance=10)
        kids = [Variable(f"k{i}", mean=mu, variance=1) for i in range(16)]
    kdata = {k: [float(i % 5)] for i, k in enumerate(kids)}
    one = MAPModel(p, data=kdata, devices=1).solve()
    many = MAPModel(p, data=kdata, devices=8).solve()
    out["members"] = [float(one.get_means(p.mu)), float(many.get_means(p.mu))]
    (name, value), = [(k, v) for k, v in many._data["values"].items() if v.shape[0] == 16]
    out["member_shards"] = sorted({tuple(s.data.shape) for s in value.addressable_shards})
    tick("members")
    one = MAPFisherModel(g, data=data, devices=1, check=False, seed=2).solve()
    many = MAPFisherModel(g, data=data, devices=8, check=False, seed=2).solve()
    out["fisher_one"] = means(one, "abs") + [np.ravel(one.get_standard_deviations(
        [g.a, g.b, g.s])).tolist()]
    out["fisher_many"] = means(many, "abs") + [np.ravel(many.get_standard_deviations(
        [g.a, g.b, g.s])).tolist()]

    tick("fisher")
    if PART == "fast":
        print("RESULT " + json.dumps(out)); raise SystemExit
    kw = dict(num_warmup=30, num_samples=20, num_chains=4, seed=3, progress_bar=False)
    # one device runs the chains one after the other (the same per-chain program as one
    # chain per device; vectorized chains round differently and NUTS amplifies it)
    # with a known noise variance: with the HalfNormal s, XLA fuses the pmapped chain's
    # log-density differently and the draws differ by ~1e-6 (rounding) from the first one
    with Graph("k") as k:
        a = StaticVariable("a", mean=0, variance=1)
        b = StaticVariable("b", mean=0, variance=1)
        xk = Variable("x", mean=0, variance=9)
        Variable("y", mean=a + b * xk, variance=0.25)
    one = MCMCModel(k, data={k.x: x, k.y: y}, devices=1, chain_method="sequential", **kw)
    many = MCMCModel(k, data={k.x: x, k.y: y}, devices=8, **kw)
    out["mcmc_methods"] = [one.chain_method, many.chain_method]
    one.solve(); many.solve()
    def chains(model):  # every site's (chains, draws, ...) array, by site name
        return np.concatenate([np.ravel(v) for _, v in sorted(model._samples.items())])
    out["mcmc_one"] = chains(one).tolist()
    out["mcmc_many"] = chains(many).tolist()

    tick("mcmc")
    kw = dict(num_steps=300, seed=5, check=False, progress_bar=False)
    one = ADVIModel(g, data=data, devices=1, **kw).solve()
    many = ADVIModel(g, data=data, devices=8, **kw).solve()
    out["advi_one"] = means(one, "ab")
    out["advi_many"] = means(many, "ab")
    out["advi_devices"] = data_devices(many._data)

    tick("advi")
    kw = dict(n_samples=2, n_iterations=2, seed=7, check=False)
    one = MGVIModel(g, data=data, devices=1, **kw).solve()
    many = MGVIModel(g, data=data, devices=8, **kw).solve()
    out["mgvi_one"] = means(one, "ab")
    out["mgvi_many"] = means(many, "ab")
    out["mgvi_devices"] = data_devices(many._data)

    tick("mgvi")
    # a pedigree (benchmarks/bench_pedigree.py): children read their parents (a block), the
    # heights of half the persons are observed: one partial group of 160 members, split
    # along its members
    sys.path.insert(0, "benchmarks")
    from bench_pedigree import build
    ped, persons, pdata = build(160, 0)
    one = MAPModel(ped, data=pdata, devices=1).solve()
    many = MAPModel(ped, data=pdata, devices=8).solve()
    out["pedigree"] = [[float(np.ravel(m.get_means(q.genetic_factor))[0]) for q in persons]
                       for m in (one, many)]
    out["pedigree_devices"] = data_devices(many._data)
    tick("pedigree")
    print("RESULT " + json.dumps(out)); raise SystemExit
''')


def _run(part: str) -> dict:
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=8",
               PYTHONPATH=str(ROOT / "src"), JAX_PLATFORMS="cpu")
    run = subprocess.run([sys.executable, "-c", SCRIPT, part], env=env, capture_output=True,
                         text=True, timeout=900, cwd=ROOT)
    lines = [x for x in run.stdout.splitlines() if x.startswith("RESULT ")]
    assert run.returncode == 0 and lines, run.stderr[-4000:]
    return json.loads(lines[-1].removeprefix("RESULT "))


@pytest.fixture(scope="module")
def found() -> dict:
    """MAP and MAPFisher, one subprocess (about 6 s on an idle 2-core machine)."""
    return _run("fast")


@pytest.fixture(scope="module")
def found_all() -> dict:
    """Everything, MCMC, ADVI and MGVI included (about 25 s idle): slow tests only."""
    return _run("slow")


def _close(a, b, rtol: float, atol: float = 0.0) -> None:
    for u, v in zip(a, b, strict=True):
        np.testing.assert_allclose(v, u, rtol=rtol, atol=atol)


def test_the_data_are_spread_over_eight_devices(found):
    assert found["n_devices"] == 8
    assert found["map_devices"] == [1, 8]
    # 800 rows over 8 devices: one (1, 100) block each, on 8 different devices
    assert found["y_shards"] == [[1, 100]]
    assert found["y_shard_devices"] == 8
    assert found["slots_devices"] == 8  # the missing entries' positions are split too
    # default: 800 rows are too few to be worth splitting (MIN_PER_DEVICE rows per device)
    assert found["map_default_devices"] == 1


def test_map_with_holes_agrees_to_1e10(found):
    # every entry, the NaN holes of x and y (missing sites) included
    _close(found["map_one"], found["map_many"], rtol=1e-10, atol=1e-12)


def test_map_fisher_means_and_sds_agree(found):
    # a and b: the mode; s (positive): Monte Carlo over the same seeded draws; the sds of
    # a and b come from the Hessian (the covariance), that of s from the same draws
    _close(found["fisher_one"], found["fisher_many"], rtol=1e-9, atol=1e-12)


@pytest.mark.slow
def test_mcmc_chains_run_one_per_device_and_are_identical_given_the_seed(found_all):
    found = found_all
    assert found["mcmc_methods"] == ["sequential", "parallel"]
    # the same keys per chain and the same per-chain program: the same chains, bit for bit
    np.testing.assert_array_equal(found["mcmc_many"], found["mcmc_one"])


@pytest.mark.slow
def test_advi_and_mgvi_agree_and_shard(found_all):
    found = found_all
    assert found["advi_devices"] == found["mgvi_devices"] == 8
    # the same seeds; only the order of the sums differs (Adam's steps amplify it a little)
    _close(found["advi_one"], found["advi_many"], rtol=1e-7, atol=1e-9)
    _close(found["mgvi_one"], found["mgvi_many"], rtol=1e-9, atol=1e-12)


def test_a_group_is_split_along_its_member_axis(found):
    one, many = found["members"]
    assert many == pytest.approx(one, rel=1e-10)
    assert one == pytest.approx(np.mean([i % 5 for i in range(16)]) * 16 / (16 + 0.1),
                                rel=1e-8)
    assert found["member_shards"] == [[2, 1]]


@pytest.mark.parametrize("devices, message", [
    (0, "positive integer"), (10**6, "more devices than JAX sees"), ("gpu", "list of jax"),
    (True, "positive integer")])
def test_bad_devices_are_refused_with_the_fix(devices, message):
    from bayesgraph.core import Variable
    from bayesgraph.core.model import MAPModel
    from bayesgraph.exceptions import OptionError

    x = Variable("x")
    with pytest.raises(OptionError, match=message):
        MAPModel(x, data={x: [1.0, 2.0]}, devices=devices)


@pytest.mark.slow
def test_a_pedigree_is_split_along_its_persons(found_all):
    one, many = found_all["pedigree"]
    assert found_all["pedigree_devices"] == 8
    np.testing.assert_allclose(many, one, rtol=0, atol=1e-10 * np.max(np.abs(one)))
