"""Links between graphs: a linked target is its source (issue 13 item 1).

The three-generation family is built from a graph template per daughter (the reference's
inheritance example, section 8.1) wired with ``link``; its posterior is the closed-form
Gaussian of the linear structural equations, written out here independently of bayesgraph.
"""

from __future__ import annotations

import numpy as np
import pytest

from bayesgraph.core import Entity, Graph, StaticVariable, Variable, link
from bayesgraph.core.lowering import group, lower
from bayesgraph.core.model import MAPFisherModel, MAPModel, MCMCModel, MGVIModel
from bayesgraph.exceptions import CyclicGraphError, DataError, LinkError
from linear_gaussian_oracle import posterior


def _templates():
    """The reference's inheritance example (section 8.1), ``halerium`` -> ``bayesgraph``."""
    import bayesgraph.core as hal

    person = hal.Entity("person")
    with person:
        hal.Variable("height", shape=[])
        hal.Variable("genetic_factor", shape=[], mean=0, variance=75)
    Person = person.get_template()
    man = Person("man")
    with man:
        man.height.mean = 175 + man.genetic_factor
        man.height.variance = 25.
    woman = Person("woman")
    with woman:
        woman.height.mean = 167 + woman.genetic_factor
        woman.height.variance = 25.
    Man = man.get_template()
    Woman = woman.get_template()
    make_daughter = hal.Graph("make_daughter")
    with make_daughter:
        with make_daughter.inputs:
            Man("father")
            Woman("mother")
        with make_daughter.outputs:
            Woman("daughter")
        make_daughter.outputs.daughter.genetic_factor.mean = (
            make_daughter.inputs.father.genetic_factor
            + make_daughter.inputs.mother.genetic_factor) / 2.
        make_daughter.outputs.daughter.genetic_factor.variance = 37.5
    return Man, Woman, make_daughter.get_template()


def three_generations():
    """grandpa + grandma -> mother; father + mother -> child: two daughter templates, 4 links."""
    Man, Woman, MakeDaughter = _templates()
    with Graph("family") as family:
        Man("grandpa")
        Woman("grandma")
        Man("father")
        MakeDaughter("first")
        MakeDaughter("second")
        link(family.grandpa, family.first.inputs.father)
        link(family.grandma, family.first.inputs.mother)
        link(family.father, family.second.inputs.father)
        link(family.first.outputs.daughter, family.second.inputs.mother)
    return family


# The same family as linear structural equations: x = B x + c + e, e ~ N(0, diag(d)).
_NAMES = ["grandpa_g", "grandpa_h", "grandma_g", "grandma_h", "father_g", "father_h",
          "mother_g", "mother_h", "child_g", "child_h"]


def _exact(observed: dict[str, float]) -> tuple[np.ndarray, np.ndarray]:
    k = {n: i for i, n in enumerate(_NAMES)}
    B = np.zeros((10, 10))
    c = np.zeros(10)
    d = np.zeros(10)
    for person, base in (("grandpa", 175), ("grandma", 167), ("father", 175), ("mother", 167),
                         ("child", 167)):
        B[k[f"{person}_h"], k[f"{person}_g"]] = 1.0
        c[k[f"{person}_h"]] = base
        d[k[f"{person}_h"]] = 25.0
        d[k[f"{person}_g"]] = 75.0
    for child, (pa, ma) in (("mother", ("grandpa", "grandma")), ("child", ("father", "mother"))):
        B[k[f"{child}_g"], k[f"{pa}_g"]] = B[k[f"{child}_g"], k[f"{ma}_g"]] = 0.5
        d[k[f"{child}_g"]] = 37.5
    inv = np.linalg.inv(np.eye(10) - B)
    mean, cov = inv @ c, inv @ np.diag(d) @ inv.T
    mask = np.array([n in observed for n in _NAMES])
    values = np.array([observed.get(n, 0.0) for n in _NAMES])
    return posterior(mean, cov, mask, values)


def _by_role(f):
    """Each oracle entry as the family's variables, through *target* names where possible."""
    return {
        "grandpa_g": f.first.inputs.father.genetic_factor, "grandpa_h": f.grandpa.height,
        "grandma_g": f.grandma.genetic_factor, "grandma_h": f.first.inputs.mother.height,
        "father_g": f.second.inputs.father.genetic_factor, "father_h": f.father.height,
        "mother_g": f.second.inputs.mother.genetic_factor,
        "mother_h": f.first.outputs.daughter.height,
        "child_g": f.second.outputs.daughter.genetic_factor,
        "child_h": f.second.outputs.daughter.height,
    }


OBSERVED = {"grandpa_h": 181.0, "mother_h": 171.0, "child_h": 160.0}


def _data(f):
    roles = _by_role(f)
    # the grandpa's height is given under the *target* name first/inputs/father/height
    return {f.first.inputs.father.height: [OBSERVED["grandpa_h"]],
            roles["mother_h"]: [OBSERVED["mother_h"]],
            roles["child_h"]: [OBSERVED["child_h"]]}


@pytest.fixture(scope="module")
def family():
    return three_generations()


def test_a_linked_target_is_no_variable_of_its_own(family):
    spec, _ = lower(family)
    assert len(spec.names) == 10  # 5 persons x 2, the 4 linked inputs are aliases
    assert dict(spec.aliases)["family/second/inputs/mother/genetic_factor"] == (
        "family/first/outputs/daughter/genetic_factor")
    child = spec.variable("family/second/outputs/daughter/genetic_factor")
    assert set(child.parents) == {"family/father/genetic_factor",
                                  "family/first/outputs/daughter/genetic_factor"}
    # the target's own prior (Man's genetic factor N(0, 75)) plays no part; grouping as usual
    assert len(group(spec).groups) == len(group(lower(_assigned_family())[0]).groups)


def _assigned_family():
    """The same family written with assignments instead of links."""
    Man, Woman, _ = _templates()
    with Graph("family") as f:
        for name, T in (("grandpa", Man), ("grandma", Woman), ("father", Man),
                        ("mother", Woman), ("child", Woman)):
            T(name)
        f.mother.genetic_factor.mean = (f.grandpa.genetic_factor + f.grandma.genetic_factor) / 2
        f.mother.genetic_factor.variance = 37.5
        f.child.genetic_factor.mean = (f.father.genetic_factor + f.mother.genetic_factor) / 2
        f.child.genetic_factor.variance = 37.5
    return f


@pytest.mark.parametrize("cls", [MAPModel, MAPFisherModel])
def test_three_generations_map_and_laplace_are_exact(family, cls):
    mean, cov = _exact(OBSERVED)
    model = cls(family, data=_data(family)).solve()
    roles = _by_role(family)
    for i, name in enumerate(_NAMES):
        np.testing.assert_allclose(model.get_means(roles[name]), [mean[i]], rtol=0, atol=1e-8)
    if cls is MAPFisherModel:
        variables = [roles[n] for n in _NAMES]
        np.testing.assert_allclose(model.get_covariance(variables), cov, rtol=1e-8,
                                   atol=1e-8)
        np.testing.assert_allclose(model.get_variances(roles["mother_g"]),
                                   [cov[6, 6]], rtol=1e-9)


def test_three_generations_mgvi_is_exact(family):
    mean, cov = _exact(OBSERVED)
    model = MGVIModel(family, data=_data(family), seed=0).solve()
    roles = _by_role(family)
    for i, name in enumerate(_NAMES):
        np.testing.assert_allclose(model.get_means(roles[name]), [mean[i]], rtol=0, atol=1e-6)
        np.testing.assert_allclose(model.get_variances(roles[name]), [cov[i, i]], rtol=1e-4,
                                   atol=1e-12)


@pytest.mark.slow
def test_three_generations_mcmc_within_monte_carlo_error(family):
    mean, cov = _exact(OBSERVED)
    model = MCMCModel(family, data=_data(family), num_warmup=500, num_samples=2000,
                      num_chains=2, seed=3).solve()
    roles = _by_role(family)
    samples = {n: np.asarray(model.get_samples(roles[n])).reshape(-1) for n in _NAMES}
    for i, name in enumerate(_NAMES):
        if name in OBSERVED:
            continue
        sd = np.sqrt(cov[i, i])
        # 4 000 correlated draws: an effective sample size above 400 keeps the error of the
        # mean below 0.05 sd and of the variance below ~15 % (with 4-sigma margins)
        assert abs(samples[name].mean() - mean[i]) < 0.2 * sd, name
        assert abs(samples[name].var() / cov[i, i] - 1) < 0.3, name


def test_either_name_in_results_data_and_initial_values(family):
    roles = _by_role(family)
    model = MAPModel(family, data=_data(family),
                     initial_values={family.first.inputs.mother.genetic_factor: 1.0}).solve()
    a = model.get_means(family.second.inputs.mother.genetic_factor)
    b = model.get_means(family.first.outputs.daughter.genetic_factor)
    c = model.get_means("second/inputs/mother/genetic_factor")
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a, c)
    # an entity's request mirrors its structure, with the source's values at the leaves
    result = model.get_means(family.second.inputs)
    assert set(result) == {"father", "mother"}
    np.testing.assert_array_equal(result["mother"]["height"], model.get_means(roles["mother_h"]))


def test_data_on_both_ends(family):
    same = {family.grandpa.height: [181.0], family.first.inputs.father.height: [181.0]}
    spec, data = lower(family, same)
    assert spec.variable("family/grandpa/height").role == "observed"
    with pytest.raises(DataError, match="linked.*differ"):
        lower(family, {family.grandpa.height: [181.0],
                       family.first.inputs.father.height: [180.0]})


def test_arviz_export_accepts_the_target_name(family):
    pytest.importorskip("arviz")
    model = MAPFisherModel(family, data=_data(family)).solve()
    source = "family.first.outputs.daughter.genetic_factor"
    for requested in (family.second.inputs.mother.genetic_factor.global_name,
                      "family.second.inputs.mother.genetic_factor"):
        idata = model.to_inference_data(var_names=[requested], n_samples=20)
        assert list(idata["posterior"].data_vars) == [source]


# -- errors ----------------------------------------------------------------------------------

def _pair():
    with Graph("g") as g:
        Variable("a", mean=0, variance=1)
        Variable("b")
        Variable("c")
        StaticVariable("s")
        Variable("v", shape=(2,))
    return g


def test_two_sources_on_one_target():
    g = _pair()
    link(g.a, g.c)
    with pytest.raises(LinkError, match="already has a source, 'g/a'"):
        link(g.b, g.c)


def test_a_cycle_of_links_is_refused():
    g = _pair()
    link(g.a, g.b)
    link(g.b, g.c)
    with pytest.raises(LinkError, match="closes a cycle"):
        link(g.c, g.a)


def test_mismatched_ends():
    g = _pair()
    with pytest.raises(LinkError, match="kinds differ"):
        link(g.s, g.b)
    with pytest.raises(LinkError, match="shapes differ"):
        link(g.a, g.v)
    with pytest.raises(LinkError, match="variable to a variable"):
        link(g, g.a)
    with Graph("h") as h:
        with Entity("src"):
            Variable("x")
        with Entity("dst"):
            Variable("x")
            Variable("extra")
    with pytest.raises(LinkError, match="'extra', which the source lacks"):
        link(h.src, h.dst)


def test_ends_in_different_graphs():
    g, h = _pair(), _pair()
    with pytest.raises(LinkError, match="no graph contains both"):
        link(g.a, h.b)


def test_a_dependency_cycle_through_a_link_names_the_link():
    with Graph("g") as g:
        Variable("x", mean=0, variance=1)
        Variable("port")
        Variable("y", mean=g.port, variance=1)
        g.x.mean = g.y
        link(g.x, g.port)
    with pytest.raises(CyclicGraphError, match="through the links: link_0"):
        lower(g)


def test_assigning_a_linked_parameter_names_the_source():
    g = _pair()
    link(g.a, g.b)
    with pytest.raises(LinkError, match="set 'mean' of 'g/a' instead"):
        g.b.mean = 3.0
    with pytest.raises(LinkError, match="linked to 'g/a'"):
        g.b.distribution = "LaplaceDistribution"
    g.a.mean = 3.0  # the source stays settable; the graph is still usable
    model = MAPModel(g).solve()
    np.testing.assert_allclose(model.get_means(g.b), [3.0], atol=1e-8)


def test_links_are_copied_with_copies_and_templates():
    with Graph("chain") as chain:
        Variable("a", mean=1, variance=1)
        Variable("b")
        Variable("y", mean=chain.b, variance=1)
        link(chain.a, chain.b)
    with Graph("holder") as holder:
        copy = chain.copy("dup")
        templated = chain.get_template()("templated")
    for made in (copy, templated):
        assert [(lk.source.global_name, lk.target.global_name) for lk in made.links] == [
            (f"holder/{made.name}/a", f"holder/{made.name}/b")]
    spec, _ = lower(holder)
    assert spec.variable("holder/dup/y").parents == ("holder/dup/a",)
    # links kept outside the copied object (its wiring) are not copied: the copy is i.i.d.
    with Graph("outside") as outside:
        Variable("src", mean=0, variance=1)
        with Graph("sub") as sub:
            Variable("dst")
        link(outside.src, sub.dst)
    with Graph("elsewhere") as elsewhere:
        sub.copy("sub2")
    assert elsewhere.sub2.links == [] and lower(elsewhere)[0].aliases == ()
    # a link kept above a model's root is not part of that model
    assert lower(sub)[0].aliases == ()


def test_a_pedigree_wired_with_links_compiles_to_the_same_sites():
    """Issue 13 item 6: links are aliases before grouping, so a pedigree of family graphs
    wired with links is the pedigree written with assignments: same groups, same answer."""
    import importlib.util
    import pathlib

    path = pathlib.Path(__file__).parents[1] / "benchmarks" / "bench_pedigree.py"
    spec_ = importlib.util.spec_from_file_location("bench_pedigree", path)
    bench = importlib.util.module_from_spec(spec_)
    spec_.loader.exec_module(bench)
    n = 40
    models = []
    for build in (bench.build, bench.build_linked):
        graph, persons, data = build(n, 0)
        model = MAPModel(graph, data=data).solve()
        means = np.ravel(model.get_means([p.genetic_factor for p in persons]))
        models.append((model, means))
    (assigned, m1), (linked, m2) = models
    assert len(linked.program.latent_sites) == len(assigned.program.latent_sites) == 3
    assert len(linked.grouped.groups) == len(assigned.grouped.groups)
    exact_mean, _ = bench.exact(n, 0, variances=False)
    np.testing.assert_allclose(m2, exact_mean, rtol=0, atol=1e-8)
    np.testing.assert_allclose(m2, m1, rtol=0, atol=1e-10)
