"""LocalRows: the arithmetic of several processes each holding its own rows, simulated in one
process (the real multi-process run is examples/distributed_fit.py, a slow test).

Every simulated process lowers its slice; the joined description, the flat indices of all
holes, the slots and the member slices must be those of one process holding every row.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import jax
import numpy as np
import pytest

from bayesgraph.core import Graph, StaticVariable, Variable
from bayesgraph.core.compiler.program import missing_slots
from bayesgraph.core.lowering import group, group_data, lower, member_slices
from bayesgraph.core.model import ADVIModel, LocalRows, MAPModel, MGVIModel
from bayesgraph.core.model import _hosts as hosts
from bayesgraph.exceptions import (
    ConvergenceWarning,
    DataError,
    DtypeError,
    MissingDataWarning,
    OptionError,
)

N = 12


def _graph():
    with Graph("g") as g:
        a = StaticVariable("a", mean=0, variance=1)
        c = StaticVariable("c", mean=0, variance=1, shape=(2,))
        x = Variable("x", mean=0, variance=4)
        # y1 and y2 are one group of two members: holes are ordered member-major
        Variable("y1", mean=a * x, variance=1)
        Variable("y2", mean=a * x + 1, variance=1)
        Variable("z", mean=c * x, variance=1, shape=(2,))  # vector rows
        Variable("w", mean=x, variance=1)  # holes in the rows of one process only
        Variable("u", mean=x, variance=1)  # all NaN in one process's rows
    return g


def _data(g):
    rng = np.random.default_rng(3)
    x = rng.normal(size=N)
    y1, y2, w, u = (rng.normal(size=N) for _ in range(4))
    z = rng.normal(size=(N, 2))
    x[[1, 7]] = np.nan
    y1[[0, 5, 6, 11]] = np.nan
    y2[[3, 8]] = np.nan
    z[2, 1] = z[9, 0] = z[9, 1] = np.nan
    w[[7, 10]] = np.nan  # second half only
    u[:4] = np.nan  # first third (process 0 of 3) has no u at all
    cs = np.array([0.5, np.nan])  # static, partly observed: the same for every process
    return {g.x: x, g.y1: y1, g.y2: y2, g.z: z, g.w: w, g.u: u, g.c: cs}


def _split(data, bounds):
    return [{k: (v[lo:hi] if k.is_dynamic else v) for k, v in data.items()}
            for lo, hi in zip(bounds[:-1], bounds[1:], strict=True)]


@pytest.mark.parametrize("bounds", [(0, 6, 12), (0, 4, 8, 12)])
def test_simulated_processes_give_the_single_process_layout(bounds):
    g = _graph()
    data = _data(g)
    spec, lowered = lower(g, data)
    grouped = group(spec)
    single = group_data(grouped, lowered)
    single_slots = {k: missing_slots(v, single.values[k].shape) for k, v in single.missing.items()}
    single_slices = member_slices(grouped, single)

    parts = [hosts.lower_local(g, part)[:2] for part in _split(data, bounds)]
    summaries = np.stack([hosts.summary(*p) for p in parts])
    joined = [hosts.global_spec(s, summaries) for s, _ in parts]
    for j in joined:
        assert j.n_data == N
        for var, ref in zip(j.variables, spec.variables, strict=True):
            assert (var.name, var.role, var.n_missing, var.value_is_fixed,
                    var.density_is_fixed) == (ref.name, ref.role, ref.n_missing,
                                              ref.value_is_fixed, ref.density_is_fixed)
    groups = [group(j) for j in joined]
    assert {gs.fingerprint for gs in groups} == {grouped.fingerprint}  # the same program

    layouts = [hosts.RowLayout(N, lo, hi - lo) for lo, hi in zip(bounds[:-1], bounds[1:])]
    locals_ = [hosts.local_grouped_data(gs, hosts.align(*p, j), lay.n_local)
               for gs, p, j, lay in zip(groups, parts, joined, layouts, strict=True)]
    holes = [hosts.global_holes(gs, loc, lay)
             for gs, loc, lay in zip(groups, locals_, layouts, strict=True)]
    everyone = {k: [h[k] for h in holes] for k in holes[0]}
    out = [hosts.joined_data(gs, loc, lay, everyone)
           for gs, loc, lay in zip(groups, locals_, layouts, strict=True)]

    for k in single.missing:
        for d, _, _ in out:
            np.testing.assert_array_equal(d.missing[k], single.missing[k])
    dynamic = {gr.name: gr.dynamic for gr in grouped.groups}
    for k in single.values:
        if dynamic[k]:
            joined_values = np.concatenate([d.values[k] for d, _, _ in out], axis=1)
        else:
            joined_values = out[0][0].values[k]
        np.testing.assert_array_equal(joined_values, single.values[k])
    for k in single_slots:
        pieces = [s[k] for _, s, _ in out]
        got = np.concatenate(pieces, axis=1) if dynamic[k] else pieces[0]
        np.testing.assert_array_equal(got, single_slots[k])

    # member slices: each process's (site slice, local positions) are the single-process
    # ones restricted to its rows
    for name, (where, positions) in single_slices.items():
        var = spec.variable(name)
        per_row = int(np.prod(var.shape, dtype=np.int64))
        site = np.arange(where.start, where.stop)
        for (_, _, slices), lay in zip(out, layouts, strict=True):
            w, pos = slices[name]
            if not var.dynamic:
                assert (w, pos.tolist()) == (where, positions.tolist())
                continue
            mine = (positions // per_row >= lay.offset) & (
                positions // per_row < lay.offset + lay.n_local)
            np.testing.assert_array_equal(np.arange(w.start, w.stop), site[mine])
            np.testing.assert_array_equal(pos + lay.offset * per_row, positions[mine])


def test_all_nan_in_one_process_warns_only_when_all_nan_everywhere():
    g = _graph()
    data = _data(g)
    parts = [hosts.lower_local(g, part) for part in _split(data, (0, 4, 12))]
    assert any("'g/u'" in str(w.message) for w in parts[0][2])  # held back, not raised
    summaries = np.stack([hosts.summary(s, lo) for s, lo, _ in parts])
    stack = iter([summaries[:, :2] * [[0, 1]] + [[summaries.shape[1], 0]], summaries])
    with warnings.catch_warnings():
        warnings.simplefilter("error", MissingDataWarning)
        joined = hosts.prepare(g, LocalRows(_split(data, (0, 4, 12))[0]),
                               gather=lambda _: next(stack))
    assert joined.spec.variable("g/u").role == "partial"
    assert joined.n_locals == (4, 8)


def test_different_static_data_are_refused():
    g = _graph()
    data = _data(g)
    first, second = _split(data, (0, 6, 12))
    second[g.c] = np.array([0.4, np.nan])
    parts = [lower(g, p) for p in (first, second)]
    summaries = np.stack([hosts.summary(*p) for p in parts])
    with pytest.raises(DataError, match="static variable 'g/c'"):
        hosts.global_spec(parts[0][0], summaries)


def test_holes_elsewhere_in_a_continuous_int_variable_are_refused():
    with Graph("h") as h:
        Variable("k", mean=0, variance=1, dtype="int")
    spec, lowered = lower(h, {h.k: [1, 2]})  # observed here
    other = hosts.summary(spec, lowered)
    other[2:4] = [2, 1]  # another process: partial, one hole (its lowering refused it)
    with pytest.raises(DtypeError, match="'h/k' has dtype 'int'.*other processes' rows"):
        hosts.global_spec(spec, np.stack([hosts.summary(spec, lowered), other]))


def test_different_graphs_are_refused():
    g = _graph()
    first = lower(g, {})
    with Graph("other") as other:
        Variable("x", mean=0, variance=4)
    second = lower(other, {})
    headers = [hosts.summary(*p) for p in (first, second)]
    with pytest.raises(OptionError, match="different graphs"):
        hosts._same_graph(np.stack([[len(s), s[1]] for s in headers]))


def test_uneven_rows_are_refused_with_the_fix():
    class Device:
        def __init__(self, process_index):
            self.process_index = process_index

    devices = [Device(0), Device(0), Device(1), Device(1)]
    with pytest.raises(OptionError, match="process 0: 6 rows on 2 devices, process 1: 4"):
        hosts.row_layout([6, 4], devices, None, 0)
    with pytest.raises(OptionError, match="divisible by 4"):
        hosts.row_layout([3, 3], devices, None, 0)
    assert hosts.row_layout([4, 4], devices, None, 1).n_data == 8


def test_one_process_local_rows_are_all_rows():
    with Graph("one") as g:
        a = StaticVariable("a", mean=0, variance=1)
        Variable("y", mean=a, variance=1)
    data = {g.y: np.array([0.5, np.nan, 1.5, 2.0])}
    plain = MAPModel(g, data=data, seed=0, devices=1).solve()
    local = MAPModel(g, data=LocalRows(data), seed=0, devices=1).solve()
    assert jax.process_count() == 1 and local.rows == slice(0, 4)
    np.testing.assert_array_equal(local.get_means(g.y), plain.get_means(g.y))


def test_initial_values_of_local_holes_are_refused():
    from bayesgraph.core.model._common import site_values

    with Graph("iv") as g:
        a = StaticVariable("a", mean=0, variance=1)
        Variable("y", mean=a, variance=1)
    model = MAPModel(g, data={g.y: np.array([0.5, np.nan, 1.5, 2.0])}, devices=1)
    assert set(site_values(model, {g.y: np.zeros(4)})) == {"iv/y/missing"}
    model.rows = slice(0, 2)  # as in process 0 of 2 with LocalRows
    with pytest.raises(OptionError, match="missing entries of 'iv/y' cannot be given"):
        site_values(model, {g.y: np.zeros(4)})


def test_initial_values_of_per_row_latents_are_refused_with_local_rows():
    from bayesgraph.core.model._common import site_values

    with Graph("iv") as g:
        a = StaticVariable("a", mean=0, variance=1)
        h = Variable("h", mean=a, variance=1)  # no data: a latent value per row
        Variable("y", mean=h, variance=1)
    model = MAPModel(g, data={g.y: np.array([0.5, 1.0, 1.5, 2.0])}, devices=1)
    assert set(site_values(model, {g.h: np.zeros(4), g.a: 1.0})) == {"iv/h", "iv/a"}
    model.rows = slice(2, 4)  # as in process 1 of 2 with LocalRows
    assert set(site_values(model, {g.a: 1.0})) == {"iv/a"}  # static: global, allowed
    with pytest.raises(OptionError, match="per-row variable 'iv/h' cannot be given with "
                                          "LocalRows"):
        site_values(model, {g.h: np.zeros(4)})


# -- two real processes on localhost (gloo) --------------------------------------------------


def _fit(rows: slice | None) -> dict[str, list]:
    """MAP (and short ADVI and MGVI fits) of ``_graph`` on the rows ``rows`` of ``_data``
    (``None``: all rows, one process, one device)."""
    g = _graph()
    data = _data(g)
    data[g.u][:6] = np.nan  # u: no data in process 0's rows (w: holes in process 1's only)
    if rows is not None:
        data = LocalRows({k: (v[rows] if k.is_dynamic else v) for k, v in data.items()})
    devices = None if rows is not None else 1
    model = MAPModel(g, data=data, seed=0, devices=devices).solve()
    names = ["a", "c", "x", "y1", "y2", "z", "w", "u"]
    values = model._data["values"]["g/x"]  # this process's shards of the global array
    held = sum(shard.data.shape[1] for shard in values.addressable_shards)
    out = {"rows": [model.rows.start, model.rows.stop], "devices": len(model.devices),
           "held": held, "addressable": values.is_fully_addressable,
           **{n: np.asarray(model.get_means(getattr(g, n)), float).tolist() for n in names}}
    short = {ADVIModel: {"num_steps": 500}, MGVIModel: {"n_iterations": 2, "n_samples": 2}}
    for cls, options in short.items():  # draws given the seed: the same on every process
        with warnings.catch_warnings():  # the short runs are not settled: equality is tested
            warnings.simplefilter("ignore", ConvergenceWarning)
            fitted = cls(g, data=data, seed=0, devices=devices, check=False, **options).solve()
        for n in ("a", "y1"):
            out[f"{cls.__name__}/{n}"] = np.asarray(
                fitted.get_means(getattr(g, n), n_samples=20), float).tolist()
    return out


def _per_row_graph():
    with Graph("p") as g:
        a = StaticVariable("a", mean=0, variance=1)
        h = Variable("h", mean=a, variance=1)  # a latent value per row: no data anywhere
        Variable("d", distribution="DiracDistribution", mean=2 * h + a)  # per-row Dirac
        Variable("y", mean=h, variance=0.5)
    return g


#: the outputs of ``_outputs`` whose rows are along axis 0 (the rest: axis 1, after draws)
_ROWS_FIRST = ("means", "variances")


def _outputs(rows: slice | None, devices: int | None = None) -> dict[str, Any]:
    """Per-row outputs without data (the latent ``h``, the Dirac ``d``), predictive draws,
    log-likelihoods and the ArviZ export of each model fitting ``_per_row_graph`` (``rows``:
    this process's rows as LocalRows; ``None``: all rows)."""
    from bayesgraph.core.model import MAPFisherModel

    g = _per_row_graph()
    y = np.random.default_rng(5).normal(size=N)
    y[[2, 8]] = np.nan  # a hole in the rows of each process
    data: Any = {g.y: y} if rows is None else LocalRows({g.y: y[rows]})
    short = {MAPModel: {}, MAPFisherModel: {"check": False},
             ADVIModel: {"num_steps": 300, "check": False},
             MGVIModel: {"n_iterations": 2, "n_samples": 2, "check": False}}
    out: dict[str, Any] = {}
    for cls, options in short.items():
        with warnings.catch_warnings():  # the short runs are not settled: equality is tested
            warnings.simplefilter("ignore", ConvergenceWarning)
            model = cls(g, data=data, seed=0, devices=devices, **options).solve()
        name = cls.__name__
        out[f"{name}/rows"] = [model.rows.start, model.rows.stop]
        for what, values in (
                ("means", model.get_means([g.a, g.h, g.d, g.y], n_samples=20)),
                ("variances", model.get_variances([g.h, g.d, g.y], n_samples=20)),
                ("samples", model.get_samples([g.h, g.d], n_samples=3)),
                ("predictive", [model.get_posterior_predictive(g.y, n_samples=3)]),
                ("loglik", [model.get_log_likelihood(g.y, n_samples=3)])):
            for i, value in enumerate(values):
                out[f"{name}/{what}/{i}"] = np.asarray(value, float).tolist()
        exported = model.to_inference_data(n_samples=3)
        for part, names in (("posterior", ("p.a", "p.h", "p.d", "p.y")),
                             ("posterior_predictive", ("p.y",)), ("log_likelihood", ("p.y",)),
                             ("observed_data", ("p.y",))):
            for var in names:
                array = exported[part][var]
                out[f"{name}/az/{part}/{var}"] = {
                    "dims": list(array.dims), "values": np.asarray(array, float).tolist(),
                    "coords": {d: np.asarray(array.coords[d]).tolist() for d in array.dims}}
    return out


def _selected(ref: dict[str, Any], got: dict[str, Any]) -> np.ndarray:
    """The entries of an exported array ``ref`` at the coordinates of ``got``."""
    values = np.asarray(ref["values"], float)
    for axis, dim in enumerate(ref["dims"]):
        where = [ref["coords"][dim].index(c) for c in got["coords"][dim]]
        values = np.take(values, where, axis=axis)
    return values


def _worker(port: int, process: int, mode: str) -> None:
    import json

    jax.config.update("jax_cpu_collectives_implementation", "gloo")
    jax.distributed.initialize(f"127.0.0.1:{port}", 2, process)
    rows = (slice(0, 5) if process == 0 else slice(5, N)) if mode == "uneven" else (
        slice(0, 6) if process == 0 else slice(6, N))
    try:
        if mode == "outputs":  # every process all rows, then its own rows (LocalRows)
            result = {"all": _outputs(None), "local": _outputs(rows)}
        else:
            result = _fit(rows)
        print("RESULT " + json.dumps(result), flush=True)
    except OptionError as err:
        print("ERROR " + str(err), flush=True)
    jax.distributed.shutdown()


def _two_processes(mode: str, devices: int) -> list[str]:
    """Run ``_worker`` in two processes with ``devices`` CPU devices each."""
    import os
    import socket
    import subprocess
    import sys

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = dict(os.environ, JAX_PLATFORMS="cpu")
    env["XLA_FLAGS"] = f"--xla_force_host_platform_device_count={devices}"
    src = str(Path(__file__).resolve().parent.parent / "src")
    env["PYTHONPATH"] = os.pathsep.join([src, env.get("PYTHONPATH", "")])
    workers = [subprocess.Popen([sys.executable, __file__, str(port), str(i), mode],
                                env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True) for i in range(2)]
    outputs = [w.communicate(timeout=600) for w in workers]
    lines = []
    for w, (out, err) in zip(workers, outputs, strict=True):
        found = [x for x in out.splitlines() if x.startswith(("RESULT ", "ERROR "))]
        assert w.returncode == 0 and found, err[-4000:]
        lines.append(found[-1])
    return lines


@pytest.mark.slow
def test_two_processes_equal_one():
    """Two processes of two CPU devices each (examples/distributed_fit.py runs one each)."""
    import json

    results = [json.loads(line.removeprefix("RESULT ")) for line in _two_processes("fit", 2)]
    alone = _fit(None)
    for r in results:
        assert r["devices"] == 4
        lo, hi = r["rows"]
        for name in ("a", "c", "ADVIModel/a", "MGVIModel/a"):  # static: global everywhere
            np.testing.assert_allclose(r[name], alone[name], rtol=1e-8, atol=1e-12)
        for name in ("x", "y1", "y2", "z", "w", "u", "ADVIModel/y1", "MGVIModel/y1"):
            # per row with data: this process's rows
            np.testing.assert_allclose(r[name], np.asarray(alone[name])[lo:hi], rtol=1e-8,
                                       atol=1e-12)
    assert [r["rows"] for r in results] == [[0, 6], [6, N]]
    assert [(r["held"], r["addressable"]) for r in results] == [(6, False), (6, False)]


@pytest.mark.slow
def test_two_processes_refuse_uneven_rows():
    lines = _two_processes("uneven", devices=2)
    for line in lines:  # both processes refuse, neither waits for the other
        assert line.startswith("ERROR LocalRows: the rows do not split evenly"), line
        assert "process 0: 5 rows on 2 devices, process 1: 7 rows on 2 devices" in line


@pytest.mark.slow
def test_two_processes_per_row_outputs_equal_one():
    """Per-row latents without data, per-row Dirac variables, predictive draws, pointwise
    log-likelihoods and the ArviZ export in two processes of two devices each: without
    LocalRows every process answers for all rows, with LocalRows for its own
    (``model.rows``), each as one process fitting all rows (MAP, MAPFisher, ADVI, MGVI)."""
    import json

    results = [json.loads(line.removeprefix("RESULT ")) for line in _two_processes("outputs", 2)]
    alone = _outputs(None, devices=1)
    # 1e-8 relative, and 1e-9 absolute: the values are O(1), and one near 0 (a draw of h at
    # -5e-4) is a difference of O(1) terms (MGVI's fits differ by 1e-11 across processes)
    close = {"rtol": 1e-8, "atol": 1e-9}
    for process, result in enumerate(results):
        for kind, got in result.items():
            lo, hi = (0, N) if kind == "all" else ((0, 6), (6, N))[process]
            assert set(got) == set(alone)
            for key, ref in alone.items():
                if key.endswith("/rows"):
                    assert got[key] == [lo, hi], (kind, key)
                    continue
                if "/az/" in key:
                    assert got[key]["dims"] == ref["dims"], key
                    if "example" in ref["dims"]:
                        assert got[key]["coords"]["example"] == list(range(lo, hi)), key
                    expected = _selected(ref, got[key])
                    assert expected.size and expected.shape == np.shape(got[key]["values"])
                    np.testing.assert_allclose(got[key]["values"], expected, **close,
                                               err_msg=f"{kind} {key}")
                    continue
                expected = np.asarray(ref, float)
                if not key.endswith("means/0"):  # all but the static a: per row
                    axis = 0 if key.split("/")[1] in _ROWS_FIRST else 1
                    expected = np.take(expected, np.arange(lo, hi), axis=axis)
                np.testing.assert_allclose(got[key], expected, **close, err_msg=f"{kind} {key}")


if __name__ == "__main__":
    import sys

    _worker(int(sys.argv[1]), int(sys.argv[2]), sys.argv[3])
