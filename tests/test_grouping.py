"""Grouping variables of the same kind into vectorised sites.

The per-variable program (``grouping=False``: one group, one site per variable) is the
reference: it is the compiler that the closed-form property tests check. The grouped program
must give the same log-density (relative 1e-12), the same ancestral values (start values,
standardised coordinates), the same MAP point and the same Laplace covariance, on hand-made
cases (templates, hand-written entities, pedigrees whose children are parents, Dirac chains,
Uniform bounds read along a chain) and on generated graphs of repeated entities.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

import bayesgraph.core as bgc
from bayesgraph.core import (
    Entity,
    Graph,
    StaticVariable,
    Variable,
    get_data_linker,
    matmul,
    stack,
)
from bayesgraph.core import sum as bg_sum
from bayesgraph.core.compiler import Program
from bayesgraph.core.compiler.standardise import StandardEmitter
from bayesgraph.core.lowering import group, group_data, lower
from bayesgraph.core.lowering.groups import Member, PerMember, Shared
from bayesgraph.core.model import (
    ADVIModel,
    ForwardModel,
    MAPFisherModel,
    MAPModel,
    MCMCModel,
    MGVIModel,
)
from bayesgraph.exceptions import ConvergenceWarning

pytestmark = pytest.mark.filterwarnings("ignore:all data for .* are NaN:UserWarning")


@pytest.fixture(autouse=True)
def x64():
    with jax.enable_x64(True):
        yield


def programs(graph, data=None):
    """Grouped and per-variable programs of the same graph, with their data arguments."""
    spec, lowered = lower(graph, data)
    out = []
    for grouping in (True, False):
        grouped = group(spec, grouping=grouping)
        program = Program(grouped)
        out.append((program, program.data_args(group_data(grouped, lowered))))
    return out


def to_sites(source, target, values):
    """Site values of ``source`` (a dict by site) re-expressed for ``target``'s sites, by
    going through the variables (both programs describe the same variables)."""
    program_s, args_s = source
    program_t, args_t = target
    full = {}  # variable -> its full value with NaN at observed entries
    for site in program_s.latent_sites:
        group_s = site.spec
        shape = group_s.full_shape(program_s.n_data)
        flat = np.full(int(np.prod(shape)), np.nan)
        idx = (np.asarray(args_s["missing"][group_s.name]) if site.partial
               else np.arange(flat.size))
        flat[idx] = np.asarray(values[site.name]).reshape(-1)
        flat = flat.reshape(shape)
        for m, name in enumerate(group_s.members):
            full[name] = flat[m]
    out = {}
    for site in program_t.latent_sites:
        group_t = site.spec
        stacked = np.stack([full[name] for name in group_t.members])
        if site.partial:
            stacked = stacked.reshape(-1)[np.asarray(args_t["missing"][group_t.name])]
        out[site.name] = jnp.asarray(stacked)
    return out


def assert_programs_agree(graph, data=None, seed=0):
    """Log-densities, start values and standardised values of the two programs agree."""
    grouped, reference = programs(graph, data)
    program, args = grouped
    rng = np.random.default_rng(seed)
    u = {s.name: jnp.asarray(rng.normal(size=s.shape)) for s in program.latent_sites}
    u_ref = to_sites(grouped, reference, u)
    for jacobian in (False, True):
        ours = program.log_density(u, args, jacobian=jacobian, skip_fixed=False)
        ref = reference[0].log_density(u_ref, reference[1], jacobian=jacobian,
                                       skip_fixed=False)
        np.testing.assert_allclose(ours, ref, rtol=1e-12)
    central = to_sites(grouped, reference, program.central_latents(args))
    central_ref = reference[0].central_latents(reference[1])
    for name, value in central_ref.items():
        np.testing.assert_allclose(central[name], value, rtol=1e-12, atol=1e-12)
    # MGVI's map from standard-normal coordinates runs the blocks level by level
    xi = {s.name: jnp.asarray(rng.normal(size=s.shape)) for s in program.latent_sites}
    env = program.execute(args, StandardEmitter(xi, args["missing"]))
    env_ref = reference[0].execute(reference[1], StandardEmitter(
        to_sites(grouped, reference, xi), reference[1]["missing"]))
    for name in program.spec.names:
        np.testing.assert_allclose(program.variable_value(env, name),
                                   reference[0].variable_value(env_ref, name),
                                   rtol=1e-12, atol=1e-12)
    return program


def assert_models_agree(graph, data=None, names=None):
    """MAP points and Laplace covariances of the grouped and per-variable models agree."""
    names = names or lower(graph)[0].names
    fits = []
    for grouping in (True, False):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            fits.append(MAPFisherModel(graph, data=data, seed=1, grouping=grouping).solve())
    for name in names:  # the MAP point (get_means samples constrained variables)
        np.testing.assert_allclose(fits[0]._point([name])[name], fits[1]._point([name])[name],
                                   rtol=1e-8, atol=1e-8)
    real = [n for n in names if fits[0].spec.variable(n).distribution
            in ("NormalDistribution", "NoDistribution")]
    if real:
        np.testing.assert_allclose(fits[0].get_covariance(real), fits[1].get_covariance(real),
                                   rtol=1e-7, atol=1e-9)
    return fits[0]


# -- hand-made cases ----------------------------------------------------------------------------
def person_templates():
    with Entity("woman") as woman:
        gf = Variable("genetic_factor", mean=0, variance=75)
        Variable("height", mean=167 + gf, variance=25)
    with Entity("man") as man:
        gf = Variable("genetic_factor", mean=0, variance=75)
        Variable("height", mean=175 + gf, variance=25)
    return woman.get_template("Woman"), man.get_template("Man")


def pedigree(n: int, seed: int = 0, founders_only: bool = False):
    """A fifth founders; every other person's genetic factor the mean of two earlier ones'
    (of two founders' with ``founders_only``)."""
    Woman, Man = person_templates()
    rng = np.random.default_rng(seed)
    with Graph("ped") as ped:
        persons = [(Woman if i % 2 == 0 else Man)(f"p{i}") for i in range(n)]
    with ped:
        first = max(2, n // 5)
        for i in range(first, n):
            last = first if founders_only else i
            mother = persons[2 * rng.integers(0, (last + 1) // 2)]
            father = persons[2 * rng.integers(0, last // 2) + 1]
            persons[i].genetic_factor.mean = (mother.genetic_factor + father.genetic_factor) / 2
            persons[i].genetic_factor.variance = 37.5
    data = {persons[i].height: [170.0 + 5 * rng.normal()] for i in range(0, n, 2)}
    data[persons[2].height] = [np.nan]  # all-NaN data: unobserved
    return ped, persons, data


def test_templates_and_hand_written_entities_group_alike():
    Woman, _ = person_templates()
    with Graph("g") as g:
        Woman("alice")
        with Entity("bob"):  # written by hand, same structure, another constant
            gf = Variable("genetic_factor", mean=0, variance=75)
            Variable("height", mean=175 + gf, variance=25)
    grouped = group(lower(g)[0])
    assert [gr.members for gr in grouped.groups] == [
        ("g/alice/genetic_factor", "g/bob/genetic_factor"),
        ("g/alice/height", "g/bob/height")]
    mean = dict(grouped.groups[1].params)["mean"]
    constant, reference = mean.args
    assert isinstance(constant, PerMember)
    assert grouped.arrays[constant.key].tolist() == [167.0, 175.0]
    assert isinstance(reference, Member) and reference.mode == "aligned"
    assert isinstance(dict(grouped.groups[0].params)["variance"], Shared)
    assert grouped.locate("g/bob/height") == (1, 1)
    assert_programs_agree(g)


def test_parents_are_index_arrays_and_children_of_children_a_block():
    ped, persons, data = pedigree(30)
    grouped = group(lower(ped, data)[0])
    assert len(grouped.groups) == 3  # founders' factors, children's factors, heights
    children = grouped.group_of("ped/p29/genetic_factor")
    assert children.block is not None and grouped.blocks[children.block].n_levels > 2
    mother = dict(children.params)["mean"].args[0].args[0]
    assert isinstance(mother, Member) and mother.mode == "gather"
    assert len(mother.sources) == 2  # a mother is a founder or another child
    assert grouped.arrays[mother.key].shape == (children.size,)
    heights = grouped.group_of("ped/p0/height")
    assert heights.role == "partial" and heights.n_missing == 16
    assert_programs_agree(ped, data)
    assert_models_agree(ped, data, [p.genetic_factor.global_name for p in persons[-5:]]
                        + [persons[2].height.global_name])


def test_mgvi_of_a_pedigree_equals_the_reference():
    ped, persons, data = pedigree(15, seed=3)
    names = [p.genetic_factor.global_name for p in persons]
    fits = [MGVIModel(ped, data=data, seed=0, grouping=g).solve() for g in (True, False)]
    for a, b in zip(fits[0].get_means(names), fits[1].get_means(names)):
        np.testing.assert_allclose(a, b, rtol=1e-8, atol=1e-8)
    for a, b in zip(fits[0].get_variances(names), fits[1].get_variances(names)):
        np.testing.assert_allclose(a, b, rtol=1e-7)


def test_dirac_chain_and_uniform_bounds_on_a_chain_are_split_by_depth():
    with Graph("chain") as chain:
        previous, bound = None, None
        for i in range(5):
            with Entity(f"step{i}") as step:
                z = Variable("z", mean=0.0, variance=1.0)
                total = Variable("total", distribution="Dirac",
                                 mean=z if previous is None else previous + z)
                low = Variable("low", distribution="Uniform",
                               center=0.0 if bound is None else bound + 0.5, width=10.0)
            previous, bound = total, low
            Variable(f"obs{i}", mean=step.total + step.low, variance=0.5)
    data = {f"obs{i}": [0.3 * i] for i in range(5)}  # a mode inside the bounds
    grouped = group(lower(chain, data)[0])
    assert not grouped.blocks
    totals = {grouped.locate(f"chain/step{i}/total")[0] for i in range(5)}
    assert len(totals) == 5  # the first reads no total; the others split by depth
    assert_programs_agree(chain, data)
    assert_models_agree(chain, data)


def test_structural_operators_on_member_and_example_axes():
    rng = np.random.default_rng(4)
    with Graph("ops") as ops:
        for i in range(3):
            with Entity(f"e{i}"):
                w = StaticVariable("w", shape=(3,), mean=rng.normal(size=3).tolist())
                m = StaticVariable("m", shape=(2, 3), mean=0.0, variance=0.5)
                x = Variable("x", shape=(3,), mean=w, variance=1.0)
                c = Variable("c", mean=0.1 * i)
                Variable("y", shape=(2,), variance=1.0,
                         mean=matmul(m, x) * c + x[0] - bg_sum(x, axis=0)
                         + stack([x[2], bg_sum(w * x)]) + (x @ w) * m[:, 1]
                         + np.array([1.0, -1.0]) * bg_sum(x[[0, 2]])
                         + bgc.reshape(bgc.transpose(m), (6,))[1:3]
                         + bgc.concatenate([x[:1], bgc.softmax(x)[1:2]])
                         + bgc.logsumexp(m, axis=1) + bgc.dot(m, w) * bgc.max(x)
                         + bgc.mean(m * x, axis=-1))
                Variable("d", distribution="Dirac", mean=bg_sum(x[1:] * x[1:]) + c)
    data = {f"e{i}/y": rng.normal(size=(4, 2)) for i in range(3)}
    data.update({f"e{i}/c": [0.5, np.nan, 1.5, 2.0] for i in range(3)})
    program = assert_programs_agree(ops, data)
    assert len(program.grouped.groups) == 6  # one group per kind, three members each


# -- identity: fingerprints and no recompilation --------------------------------------------------
def test_fingerprint_is_the_structure_not_the_data():
    ped, _, data = pedigree(20)
    same, _, same_data = pedigree(20)          # rebuilt identically
    new_values = {k: [v[0] + 1.0] for k, v in data.items()}
    fp = group(lower(ped, data)[0]).fingerprint
    assert group(lower(same, same_data)[0]).fingerprint == fp
    assert group(lower(ped, new_values)[0]).fingerprint == fp
    # who the parents are is data (index arrays); the depth of a pedigree is structure
    founders = [group(lower(pedigree(20, seed, founders_only=True)[0], data)[0]).fingerprint
                for seed in (1, 2)]
    assert founders[0] == founders[1]
    fewer = {k: v for k, v in list(data.items())[1:]}  # another number of missing values
    assert group(lower(ped, fewer)[0]).fingerprint != fp
    with ped:
        ped.p19.genetic_factor.variance = 30.0
    assert group(lower(ped, data)[0]).fingerprint != fp


class _Counter:
    """Counts JAX's tracings and backend compilations while active."""

    active: _Counter | None = None

    def __init__(self) -> None:
        self.events: list[str] = []

    def __enter__(self) -> _Counter:
        _Counter.active = self
        return self

    def __exit__(self, *exc) -> None:
        _Counter.active = None


def _listen(event: str, duration: float, **kwargs) -> None:
    if _Counter.active is not None and event in (
            "/jax/core/compile/jaxpr_trace_duration",
            "/jax/core/compile/backend_compile_duration"):
        _Counter.active.events.append(event)


jax.monitoring.register_event_duration_secs_listener(_listen)


FITS = {
    "MAP": (MAPModel, {}),
    "MAPFisher": (MAPFisherModel, {}),
    "MGVI": (MGVIModel, {"n_iterations": 2}),
    "ADVI": (ADVIModel, {"num_steps": 50}),
    "MCMC": (MCMCModel, {"num_warmup": 20, "num_samples": 20, "progress_bar": False}),
    "Forward": (ForwardModel, {}),
}


@pytest.mark.filterwarnings("ignore::bayesgraph.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("method", sorted(FITS))
def test_a_second_model_of_the_same_structure_is_not_compiled_again(method):
    cls, options = FITS[method]
    ped, persons, data = pedigree(24, seed=7)

    def fit(graph, data, persons):
        model = cls(graph, data=data, seed=0, **options)
        model.solve()
        model.get_variances([p.genetic_factor for p in persons[-3:]], n_samples=10)

    with _Counter() as first:
        fit(ped, data, persons)
    assert first.events  # the first model traced and compiled
    rebuilt, persons, _ = pedigree(24, seed=7)  # the same graph built again, with new data
    new_data = {k.global_name: [v[0] - 2.0] for k, v in data.items()}
    with _Counter() as second:
        fit(rebuilt, new_data, persons)
    if method == "MCMC":  # numpyro's MCMC.run traces its sampling loop (fori_collect) anew
        assert len(second.events) <= 4 < len(first.events)  # at each run; nothing else
    else:
        assert second.events == []


# -- generated graphs of repeated entities ------------------------------------------------------
@dataclass(frozen=True)
class Kind:
    """One variable of the template: its kind and the template variables it reads."""

    static: bool
    shape: tuple[int, ...]
    reads: tuple[tuple[int, float], ...]  # (template variable, coefficient)
    variance: float


@st.composite
def repeated_entities(draw):
    n_kinds = draw(st.integers(1, 3))
    kinds = []
    for j in range(n_kinds):
        static = draw(st.booleans())
        eligible = [k for k in range(j) if kinds[k].static or not static]
        if draw(st.booleans()):
            eligible.append(j)  # read the same kind of an earlier entity
        reads = tuple((k, draw(st.floats(-0.9, 0.9))) for k in eligible if draw(st.booleans()))
        kinds.append(Kind(static, draw(st.sampled_from([(), (2,)])), reads,
                          draw(st.floats(0.3, 3.0))))
    n_entities = draw(st.integers(2, 5))
    n_data = draw(st.integers(1, 3))
    # for each entity and read: the entity read (itself for other kinds, an earlier one for
    # its own kind); per-entity offsets, equal or not
    sources = [[draw(st.integers(0, e - 1)) if (k == j or draw(st.booleans())) and e else e
                for k, _ in kinds[j].reads] for e in range(n_entities) for j in range(n_kinds)]
    same_offsets = draw(st.booleans())
    offsets = [draw(st.floats(-2.0, 2.0)) for _ in range(n_entities * n_kinds)]
    if same_offsets:
        offsets = [offsets[j % n_kinds] for j in range(len(offsets))]
    modes = [draw(st.sampled_from(["omit", "full", "partial"]))
             for _ in range(n_entities * n_kinds)]
    seed = draw(st.integers(0, 2**16))
    return kinds, n_entities, n_data, sources, offsets, modes, seed


def build_repeated(kinds, n_entities, n_data, sources, offsets, modes, seed):
    rng = np.random.default_rng(seed)
    made: dict[tuple[int, int], object] = {}
    data = {}
    with Graph("g") as g:
        for e in range(n_entities):
            with Entity(f"e{e}"):
                for j, kind in enumerate(kinds):
                    index = e * len(kinds) + j
                    mean = offsets[index]
                    for (k, coef), source in zip(kind.reads, sources[index]):
                        if source == e and k == j:
                            continue  # no entity reads itself
                        parent = made.get((source, k))
                        if parent is None:
                            continue
                        term = coef * parent
                        if kind.shape and not parent.shape:
                            term = term * np.ones(2)
                        elif parent.shape and not kind.shape:
                            term = bg_sum(term)
                        mean = mean + term
                    cls = StaticVariable if kind.static else Variable
                    var = cls(f"v{j}", shape=kind.shape, mean=mean, variance=kind.variance)
                    made[(e, j)] = var
                    full = var.shape if kind.static else (n_data, *var.shape)
                    if modes[index] != "omit":
                        values = rng.normal(size=full)
                        if modes[index] == "partial":
                            values[rng.random(full) < 0.5] = np.nan
                        data[var] = values
    if not any(v.is_dynamic for v in data):
        return g, get_data_linker(data, n_data=n_data)
    return g, data


@given(repeated_entities())
@settings(max_examples=25, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
def test_generated_repeated_entities_agree_with_the_reference(problem):
    g, data = build_repeated(*problem)
    note(repr(problem))
    assert_programs_agree(g, data)


@pytest.mark.slow
@given(repeated_entities())
@settings(max_examples=25, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
def test_generated_repeated_entities_map_and_laplace_agree(problem):
    g, data = build_repeated(*problem)
    note(repr(problem))
    assert_models_agree(g, data)
