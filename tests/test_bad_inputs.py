"""A catalogue of bad inputs, run against every model class (issue 8, "How it is checked").

Each case builds a tiny graph with one defect and says which bayesgraph error it must raise
and which name (the variable, parameter or option at fault) its message must contain. Every
case is run with each model class it concerns: the six classes for data and model defects,
the classes that have an option for option defects, and once (``language``) for defects that
are refused while the graph is being written, before any model exists (``factory``: an
unknown method name). After the error the
same graph object is repaired (correct data, a valid value, the variable written again) and
a cheap model is solved on it; the result is checked against its closed form, so "the graph is
usable after" is proved, not assumed.

A case the library does not yet refuse properly is marked ``xfail(strict=True)`` with the
reproducer in its reason: it shows up in the test report and fails loudly once fixed (none
is marked today: the 18 found when the catalogue was written are fixed).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from bayesgraph.core import DataLinker, Graph, StaticVariable, Variable
from bayesgraph.core.model import (
    MAPModel,
    get_posterior_model,
)
from bayesgraph.core.model.factory import METHODS
from bayesgraph.exceptions import (
    BayesGraphError,
    ConstraintError,
    CyclicGraphError,
    DataError,
    DiscreteLatentError,
    DistributionError,
    DtypeError,
    DuplicateNameError,
    ExpressionError,
    GraphStructureError,
    ImproperPosteriorError,
    InvalidParameterError,
    MissingVariableError,
    OptionError,
    ResourceError,
    ShapeError,
    UnknownDistributionError,
    UnknownParameterError,
)

#: every registered model class: one a later issue registers joins the catalogue by itself
CLASSES: dict[str, type] = METHODS
ALL = tuple(CLASSES)
POSTERIOR = ("MAP", "MAPFisher", "ADVI", "MGVI", "MCMC")
GRADIENT = ("MAP", "MAPFisher", "ADVI", "MGVI")  # no discrete latent variables
LANGUAGE = ("language",)  # refused while the graph is written: no model class involved
FACTORY = ("factory",)  # refused by get_posterior_model before any class is chosen
#: settings that keep a solve cheap, should a bad input get that far
TINY: dict[str, dict[str, Any]] = {
    "ADVI": {"num_steps": 200},
    "MGVI": {"n_samples": 2, "n_iterations": 2},
    "MCMC": {"num_warmup": 30, "num_samples": 30, "num_chains": 1, "progress_bar": False},
}
Y = np.array([1.0, 2.0, 3.0])


def attempt(method: str, graph: Any, data: Any = None, **options: Any) -> Any:
    """Build a model of class ``method`` (tiny settings), solve it and, for ForwardModel,
    draw: the steps at which a bad input must be refused."""
    model = CLASSES[method](graph, data, **{"seed": 0, **TINY.get(method, {}), **options})
    model.solve()
    if method == "Forward":
        model.get_samples(graph, n_samples=2)
    return model


# -- graphs and the checks that prove them usable ---------------------------------------------
def normal_graph(**extra: Any) -> Graph:
    """``mu ~ N(0, 1)``, ``y ~ N(mu, 1)``, and optionally an observed ``c`` that does not
    depend on ``mu`` (its distribution and parameters in ``extra``)."""
    with Graph("g") as g:
        mu = StaticVariable("mu", mean=0, variance=1)
        Variable("y", mean=mu, variance=1)
        if extra:
            Variable("c", **extra)
    return g


def normal_is_usable(g: Graph, extra: dict | None = None) -> None:
    """MAP on ``g`` with ``y = Y`` recovers the conjugate posterior mean of ``mu``."""
    fit = MAPModel(g, {g.y: Y, **(extra or {})}, seed=0).solve()
    assert float(fit.get_means(g.mu)) == pytest.approx(Y.sum() / (len(Y) + 1), abs=1e-6)


def index_graph() -> Graph:
    with Graph("ix") as g:
        alpha = StaticVariable("alpha", shape=(3,), mean=0, variance=1)
        group = Variable("group", dtype="int", distribution="NoDistribution")
        Variable("y", mean=alpha[group], variance=1)
    return g


def index_is_usable(g: Graph) -> None:
    fit = MAPModel(g, {g.group: [0, 1, 2, 0], g.y: [1.0, 2.0, 3.0, 4.0]}, seed=0).solve()
    np.testing.assert_allclose(fit.get_means(g.alpha), [5 / 3, 1.0, 1.5], atol=1e-6)


# -- the catalogue ----------------------------------------------------------------------------
#: (id, factory, methods, {method: xfail reason}); a factory returns
#: (bad(method), expected error class or {method: class}, culprit, usable_after())
CASES: list[tuple[str, Callable[[], tuple], tuple[str, ...], dict[str, str]]] = []


def case(*methods: str, xfail: dict[str, str] | None = None) -> Callable:
    def register(factory: Callable) -> Callable:
        CASES.append((factory.__name__, factory, methods or ALL, xfail or {}))
        return factory
    return register


def data_case(data: Callable[[Graph], Any], error: type, culprit: str) -> Callable:
    """A defect in the data for the normal graph; fixed by giving ``y = Y``."""
    def factory() -> tuple:
        g = normal_graph()
        return (lambda m: attempt(m, g, data(g)), error, culprit, lambda: normal_is_usable(g))
    return factory


DATA_CASES = [
    ("data_wrong_shape", lambda g: {g.y: np.ones((3, 2))}, DataError, "'g/y'"),
    ("data_strings", lambda g: {g.y: ["a", "b", "c"]}, DataError, "'g/y'"),
    ("data_objects", lambda g: {g.y: [object(), 1.0, 2.0]}, DataError, "'g/y'"),
    ("data_complex", lambda g: {g.y: [1 + 2j, 1.0, 2.0]}, DataError, "'g/y'"),
    ("data_ragged", lambda g: {g.y: [[1.0], [1.0, 2.0]]}, DataError, "'g/y'"),
    ("data_infinite", lambda g: {g.y: [1.0, np.inf, 2.0]}, DataError, "'g/y'"),
    ("data_unknown_name", lambda g: {"g/zzz": Y}, MissingVariableError, "'g/zzz'"),
    ("data_other_graph_variable", lambda g: {Variable("stranger"): Y}, MissingVariableError,
     "'stranger'"),
    ("data_static_with_examples", lambda g: {g.y: Y, g.mu: [1.0, 2.0, 3.0]}, DataError,
     "'g/mu'"),
    ("data_inconsistent_n", lambda g: DataLinker(n_data=4, data={g.y: Y}), DataError, "'g/y'"),
    ("data_not_a_mapping", lambda g: [1.0, 2.0, 3.0], DataError, "data must be a dict"),
    ("data_zero_examples", lambda g: {g.y: []}, DataError, "'g/y'"),
    ("data_given_twice", lambda g: {g.y: Y, "g/y": Y + 1}, DataError, "'g/y'"),
]
for _id, _data, _error, _culprit in DATA_CASES:
    CASES.append((_id, data_case(_data, _error, _culprit), ALL, {}))


def value_case(variable: dict, bad: list, good: list, error: type) -> Callable:
    """Data outside the support of an observed ``c`` (``variable``: its definition)."""
    def factory() -> tuple:
        g = normal_graph(**variable)
        return (lambda m: attempt(m, g, {g.y: Y, g.c: bad}), error, "'g/c'",
                lambda: normal_is_usable(g, {g.c: good}))
    return factory


BINOMIAL = {"distribution": "Binomial", "total_count": 3, "probability": 0.5}
VALUE_CASES = [
    ("poisson_negative", {"distribution": "Poisson", "mean": 2.0}, [1, -1, 0], [1, 3, 0],
     DataError),
    ("poisson_fraction", {"distribution": "Poisson", "mean": 2.0}, [1, 1.5, 0], [1, 2, 0],
     DtypeError),
    ("binomial_fraction", BINOMIAL, [1, 1.5, 0], [1, 2, 0], DtypeError),
    ("binomial_negative", BINOMIAL, [1, -1, 0], [1, 2, 0], DataError),
    ("binomial_above_total_count", BINOMIAL, [1, 4, 0], [1, 3, 0], DataError),
    ("bernoulli_two", {"distribution": "Bernoulli", "mean": 0.3}, [0, 2, 1], [0, 1, 1],
     DtypeError),
    ("categorical_out_of_range", {"distribution": "Categorical", "probabilities": [0.3, 0.7]},
     [0, 2, 1], [0, 1, 1], DataError),
    ("below_lower_bound", {"mean": 1.0, "variance": 1.0, "lower": 0.0}, [1.0, -1.0, 0.5],
     [1.0, 1.0, 0.5], DataError),
    ("beta_above_one", {"distribution": "Beta", "alpha": 2.0, "beta": 2.0}, [0.5, 1.5, 0.2],
     [0.5, 0.5, 0.2], DataError),
    ("gamma_zero", {"distribution": "Gamma", "concentration": 2.0, "rate": 1.0},
     [1.0, 0.0, 2.0], [1.0, 0.5, 2.0], DataError),
    ("lognormal_negative", {"distribution": "LogNormal"}, [1.0, -1.0, 2.0], [1.0, 1.0, 2.0],
     DataError),
    ("uniform_outside", {"distribution": "Uniform", "center": 0.0, "width": 2.0},
     [0.5, 3.0, 0.0], [0.5, 0.9, 0.0], DataError),
]
for _id, _variable, _bad, _good, _error in VALUE_CASES:
    CASES.append((_id, value_case(_variable, _bad, _good, _error), ALL, {}))


def index_case(groups: list, error: type) -> Callable:
    def factory() -> tuple:
        g = index_graph()
        data = {g.group: groups, g.y: np.ones(len(groups))}
        return (lambda m: attempt(m, g, data), error, "'ix/group'", lambda: index_is_usable(g))
    return factory


@case()
def index_without_data() -> tuple:
    g = index_graph()
    return (lambda m: attempt(m, g, {g.y: Y}), DataError, "the index 'ix/group' has no data",
            lambda: index_is_usable(g))


for _id, _groups, _error in [("index_out_of_range", [0, 3, 1], DataError),
                             ("index_negative", [0, -1, 1], DataError),
                             ("index_missing", [0, np.nan, 1], DataError),
                             ("index_fraction", [0, 1.5, 1], DtypeError)]:
    CASES.append((_id, index_case(_groups, _error), ALL, {}))


# -- defects of the model, refused when a model is built or solved ---------------------------
def invalid_parameter(distribution: dict, parameter: str, data: list) -> Callable:
    """A parameter computed from ``sc``, whose prior sits at -5: invalid where the prior puts
    its mass. Fixed by moving the prior of ``sc`` to +0.4 (valid for every parameter)."""
    def factory() -> tuple:
        with Graph("inv") as g:
            sc = StaticVariable("sc", mean=-5.0, variance=1e-4)
            Variable("ob", **{k: (sc if v is None else v) for k, v in distribution.items()})

        def after() -> None:
            g.sc.mean = 0.4
            fit = MAPModel(g, {g.ob: data}, seed=0).solve()
            assert float(fit.get_means(g.sc)) == pytest.approx(0.4, abs=0.01)
        return (lambda m: attempt(m, g, {g.ob: data}), InvalidParameterError,
                f"parameter '{parameter}' of 'inv/ob'", after)
    return factory


for _id, _distribution, _parameter, _data in [
        ("negative_variance_expression", {"mean": 0.0, "variance": None}, "variance",
         [0.1, -0.2]),
        ("probability_expression_above_one", {"distribution": "Bernoulli", "mean": None},
         "mean", [1, 0]),
        ("negative_rate_expression",
         {"distribution": "Gamma", "concentration": 2.0, "rate": None}, "rate", [1.0, 2.0]),
        ("negative_poisson_mean_expression", {"distribution": "Poisson", "mean": None},
         "mean", [0, 1])]:
    CASES.append((_id, invalid_parameter(_distribution, _parameter, _data), ALL, {}))


@case()
def computed_parameter_names_its_sources_and_their_priors() -> tuple:
    """Issue 15 item 3: ``variance=sc`` with ``sc`` centred at -5 is reported against ``sc``
    and its prior, not only against the child that uses it."""
    with Graph("src") as g:
        sc = StaticVariable("sc", mean=-5.0, variance=1.0)
        Variable("ob", mean=0.0, variance=sc * 2.0)

    def after() -> None:
        g.sc.mean = 0.4
        g.sc.variance = 1e-4
        fit = MAPModel(g, {g.ob: [0.1, -0.2]}, seed=0).solve()
        assert float(fit.get_means(g.sc)) == pytest.approx(0.4, abs=0.01)
    return (lambda m: attempt(m, g, {g.ob: [0.1, -0.2]}), InvalidParameterError,
            "computed from 'src/sc' ~ Normal(mean=-5, variance=1)", after)


@case()
def probabilities_expression_not_a_simplex() -> tuple:
    with Graph("cat") as g:
        s = StaticVariable("s", mean=-5.0, variance=1e-4)
        Variable("c", distribution="Categorical",
                 probabilities=[0.5, 0.5] + s * np.array([0.2, -0.2]))

    def after() -> None:
        g.s.mean = 1.0
        fit = MAPModel(g, {g.c: [0, 1, 1]}, seed=0).solve()
        assert float(fit.get_means(g.s)) == pytest.approx(1.0, abs=0.01)
    return (lambda m: attempt(m, g, {g.c: [0, 1, 1]}), InvalidParameterError,
            "parameter 'probabilities' of 'cat/c'", after)


@case()
def improper_posterior() -> tuple:
    g = normal_graph(distribution="NoDistribution")  # 'c': flat, informed by nothing
    errors = {m: ImproperPosteriorError for m in POSTERIOR} | {"Forward": DataError}
    return (lambda m: attempt(m, g, {g.y: Y}), errors, "'g/c'",
            lambda: normal_is_usable(g, {g.c: [0.0, 1.0, 2.0]}))


@case(*GRADIENT)
def discrete_latent() -> tuple:
    g = normal_graph(distribution="Bernoulli", mean=0.3)  # 'c' unobserved and discrete
    return (lambda m: attempt(m, g, {g.y: Y}), DiscreteLatentError, "'g/c'",
            lambda: normal_is_usable(g, {g.c: [0, 1, 1]}))


@case()
def cycle() -> tuple:
    with Graph("cy") as g:
        a = Variable("a")
        b = Variable("b", mean=a, variance=1.0)
    a.mean = b

    def after() -> None:
        g.a.mean = 0.0
        fit = MAPModel(g, {g.b: Y}, seed=0).solve()
        np.testing.assert_allclose(fit.get_means(g.a), Y / 2, atol=1e-6)
    return lambda m: attempt(m, g, {g.b: Y}), CyclicGraphError, "'cy/a' -> 'cy/b'", after


@case()
def reads_a_variable_of_another_graph() -> tuple:
    with Graph("other"):
        outsider = StaticVariable("outsider")
    g = normal_graph()
    g.y.mean = outsider

    def after() -> None:
        g.y.mean = g.mu
        normal_is_usable(g)
    return (lambda m: attempt(m, g, {g.y: Y}), GraphStructureError, "'other/outsider'",
            after)


@case()
def parameter_shape_mismatch() -> tuple:
    g = normal_graph(shape=(3,), mean=[1.0, 2.0])

    def after() -> None:
        g.c.mean = [1.0, 2.0, 3.0]
        normal_is_usable(g, {g.c: np.ones((3, 3))})
    return (lambda m: attempt(m, g, {g.y: Y, g.c: np.ones((3, 3))}), ShapeError,
            "parameter 'mean' of 'g/c'", after)


@case()
def parameter_set_to_the_wrong_shape() -> tuple:
    g = normal_graph()
    g.y.mean = [1.0, 2.0]  # y is a scalar: refused when the model is built

    def after() -> None:
        g.y.mean = g.mu
        normal_is_usable(g)
    return lambda m: attempt(m, g, {g.y: Y}), ShapeError, "parameter 'mean' of 'g/y'", after


@case()
def static_variable_reads_a_dynamic_one() -> tuple:
    g = normal_graph()
    with g:
        StaticVariable("s", mean=g.y)

    def after() -> None:
        g.s.mean = g.mu
        normal_is_usable(g)
    return lambda m: attempt(m, g, {g.y: Y}), ShapeError, "'g/s'", after


# -- options of the model classes ----------------------------------------------------------
def option_case(options: dict, error: type, culprit: str) -> Callable:
    def factory() -> tuple:
        g = normal_graph()
        return (lambda m: attempt(m, g, {g.y: Y}, **options), error, culprit,
                lambda: normal_is_usable(g))
    return factory


OPTION_CASES = [  # (id, options, error, culprit, methods, xfail)
    ("seed_negative", {"seed": -1}, OptionError, "seed", ALL, {}),
    ("seed_string", {"seed": "abc"}, OptionError, "seed", ALL, {}),
    ("seed_fraction", {"seed": 1.5}, OptionError, "seed", ALL, {}),
    ("dtype_unknown", {"dtype": "float16"}, OptionError, "dtype", ALL, {}),
    ("compiler_unknown", {"compiler": "tensorflow"}, OptionError, "compiler", ALL, {}),
    ("option_unknown", {"foo": 1}, OptionError, "foo", ALL, {}),
    ("solver_unknown", {"solver": "SGD"}, OptionError, "'SGD'", ("MAP", "MAPFisher", "MGVI"),
     {}),
    ("initial_value_unknown_variable", {"initial_values": {"g/zzz": 1.0}}, DataError,
     "'g/zzz'", GRADIENT, {}),
    ("initial_value_wrong_shape", {"initial_values": {"g/mu": [1.0, 2.0]}}, DataError,
     "'g/mu'", ("MAP", "MAPFisher"), {}),
    ("lanczos_steps_one", {"lanczos_steps": 1}, OptionError, "lanczos_steps", ("MAPFisher",),
     {}),
    ("guide_unknown", {"guide": "flow"}, OptionError, "'flow'", ("ADVI",), {}),
    ("num_steps_zero", {"num_steps": 0}, OptionError, "num_steps", ("ADVI",), {}),
    ("learning_rate_negative", {"learning_rate": -0.1}, OptionError, "learning_rate",
     ("ADVI",), {}),
    ("rank_negative", {"guide": "low-rank", "rank": -1}, OptionError, "rank", ("ADVI",), {}),
    ("num_steps_string", {"num_steps": "abc"}, OptionError, "num_steps", ("ADVI",), {}),
    ("max_iterations_string", {"max_iterations": "abc"}, OptionError, "max_iterations",
     ("MAP", "MAPFisher"), {}),
    ("tolerance_negative", {"tolerance": -1}, OptionError, "tolerance",
     ("MAP", "MAPFisher", "ADVI"), {}),
    ("option_misspelt", {"num_step": 10}, OptionError, "did you mean 'num_steps'", ("ADVI",),
     {}),
    ("mgvi_n_samples_zero", {"n_samples": 0}, OptionError, "n_samples", ("MGVI",), {}),
    ("num_samples_zero", {"num_samples": 0}, OptionError, "num_samples", ("MCMC",), {}),
    ("target_accept_prob_above_one", {"target_accept_prob": 1.5}, OptionError,
     "target_accept_prob", ("MCMC",), {}),
    ("max_tree_depth_zero", {"max_tree_depth": 0}, OptionError, "max_tree_depth", ("MCMC",),
     {}),
    ("dense_mass_unknown_variable", {"dense_mass": [("g/zzz", "g/mu")]}, OptionError,
     "'g/zzz'", ("MCMC",), {}),
    ("dense_mass_observed_variable", {"dense_mass": [("g/y", "g/mu")]}, OptionError,
     "'g/y'", ("MCMC",), {}),
    ("chain_method_unknown", {"chain_method": "threads"}, OptionError, "chain_method",
     ("MCMC",), {}),
    ("init_strategy_unknown", {"init_strategy": "zero"}, OptionError, "init_strategy",
     ("MCMC",), {}),
]
for _id, _options, _error, _culprit, _methods, _xfail in OPTION_CASES:
    CASES.append((_id, option_case(_options, _error, _culprit), _methods, _xfail))


@case(*FACTORY)
def method_unknown() -> tuple:
    g = normal_graph()
    return (lambda m: get_posterior_model(g, {g.y: Y}, method="Gibbs"), OptionError,
            "'Gibbs'", lambda: normal_is_usable(g))


# -- requests to a solved model ---------------------------------------------------------------
@pytest.fixture(scope="module")
def fits() -> dict[str, Any]:
    """One solved model per class on one normal graph (MCMC: one short chain)."""
    g = normal_graph()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a 30-draw chain warns about its ESS: expected
        return {m: attempt(m, g, {g.y: Y}) for m in ALL}


REQUEST_CASES = [  # (id, request(fit, graph), error, culprit, xfail)
    ("n_samples_zero", lambda f, g: f.get_samples(g.mu, n_samples=0), OptionError,
     "n_samples", {}),
    ("n_samples_negative", lambda f, g: f.get_means(g.mu, n_samples=-3), OptionError,
     "n_samples", {}),
    ("n_samples_fraction", lambda f, g: f.get_samples(g.mu, n_samples=2.5), OptionError,
     "n_samples", {}),
    ("n_samples_string", lambda f, g: f.get_samples(g.mu, n_samples="abc"), OptionError,
     "n_samples", {}),
    ("n_samples_beyond_memory", lambda f, g: f.get_samples(g.mu, n_samples=10**12),
     ResourceError, "1000000000000 draws", {}),
    # issue 15 item 3: a resource error names the option that caused it
    ("n_samples_beyond_memory_names_the_option",
     lambda f, g: f.get_samples(g.mu, n_samples=10**10), ResourceError,
     "n_samples=10000000000", {}),
    ("request_unknown_variable", lambda f, g: f.get_means("g/zzz"), MissingVariableError,
     "'g/zzz'", {}),
    ("request_other_graph_variable", lambda f, g: f.get_means(Variable("stranger")),
     MissingVariableError, "'stranger'", {}),
]


# -- defects refused while the graph is written (no model class involved) -------------------
def language_case(write: Callable[[Graph], Any], error: type, culprit: str) -> Callable:
    """``write(g)`` runs inside ``with g:``; afterwards the graph must be unchanged (no
    half-made variable) and a correct ``c`` can be written under the same name."""
    def factory() -> tuple:
        g = normal_graph()
        before = g.children

        def bad(_: str) -> None:
            with g:
                write(g)

        def after() -> None:
            assert g.children == before
            with g:
                Variable("c", mean=0.0, variance=2.0)
            normal_is_usable(g, {g.c: [0.0, 1.0, -1.0]})
        return bad, error, culprit, after
    return factory


LANGUAGE_CASES = [
    ("negative_variance_constant", lambda g: Variable("c", variance=-1.0), DistributionError,
     "parameter 'variance' of 'g/c'"),
    ("zero_variance_constant", lambda g: Variable("c", variance=0.0), DistributionError,
     "'g/c'"),
    ("nan_mean_constant", lambda g: Variable("c", mean=np.nan), DistributionError, "'g/c'"),
    ("string_mean", lambda g: Variable("c", mean="zero"), DistributionError, "'g/c'"),
    ("probabilities_not_a_simplex",
     lambda g: Variable("c", distribution="Categorical", probabilities=[-0.1, 1.1]),
     DistributionError, "parameter 'probabilities' of 'g/c'"),
    ("probabilities_not_summing_to_one",
     lambda g: Variable("c", distribution="Categorical", probabilities=[0.2, 0.3]),
     DistributionError, "'g/c'"),
    ("beta_alpha_zero", lambda g: Variable("c", distribution="Beta", alpha=0.0, beta=1.0),
     DistributionError, "parameter 'alpha' of 'g/c'"),
    ("gamma_rate_negative",
     lambda g: Variable("c", distribution="Gamma", concentration=1.0, rate=-1.0),
     DistributionError, "parameter 'rate' of 'g/c'"),
    ("bernoulli_mean_above_one", lambda g: Variable("c", distribution="Bernoulli", mean=1.5),
     DistributionError, "parameter 'mean' of 'g/c'"),
    ("binomial_total_count_negative",
     lambda g: Variable("c", distribution="Binomial", total_count=-1, probability=0.5),
     DistributionError, "parameter 'total_count' of 'g/c'"),
    ("binomial_total_count_fraction",
     lambda g: Variable("c", distribution="Binomial", total_count=2.5, probability=0.5),
     DistributionError, "parameter 'total_count' of 'g/c'"),
    ("covariance_not_positive_definite",
     lambda g: Variable("c", shape=(2,), distribution="MultivariateNormal",
                        covariance=[[1.0, 2.0], [2.0, 1.0]]),
     DistributionError, "parameter 'covariance' of 'g/c'"),
    ("covariance_not_symmetric",
     lambda g: Variable("c", shape=(2,), distribution="MultivariateNormal",
                        covariance=[[1.0, 0.5], [0.0, 1.0]]),
     DistributionError, "parameter 'covariance' of 'g/c'"),
    ("lower_not_below_upper", lambda g: Variable("c", lower=1.0, upper=1.0), ConstraintError,
     "'g/c'"),
    ("constraint_unknown", lambda g: Variable("c", constraint="sorted"), ConstraintError,
     "'g/c'"),
    ("distribution_unknown", lambda g: Variable("c", distribution="Weibull"),
     UnknownDistributionError, "'Weibull'"),
    ("parameter_unknown", lambda g: Variable("c", rate=2.0), UnknownParameterError, "'g/c'"),
    ("shape_fraction", lambda g: Variable("c", shape=(2.5,)), ShapeError, "'g/c'"),
    ("shape_negative", lambda g: Variable("c", shape=(-1,)), ShapeError, "'g/c'"),
    ("dtype_unknown_for_variable", lambda g: Variable("c", dtype="complex"), DtypeError,
     "'g/c'"),
    ("dtype_not_allowed", lambda g: Variable("c", distribution="Bernoulli", dtype="float"),
     DtypeError, "'g/c'"),
    ("string_in_expression", lambda g: Variable("c", mean=g.mu + "a"), ExpressionError,
     "'a'"),
    ("truth_value_of_a_variable", lambda g: Variable("c", mean=1.0 if g.mu else 0.0),
     ExpressionError, "'g/mu'"),
    ("iterating_a_variable", lambda g: Variable("c", mean=sum(g.mu)), ExpressionError,
     "'g/mu'"),
    ("duplicate_name", lambda g: Variable("y"), DuplicateNameError, "'y'"),
    ("name_with_slash", lambda g: Variable("c/d"), GraphStructureError, "'c/d'"),
    ("set_negative_variance", lambda g: setattr(g.y, "variance", -1.0), DistributionError,
     "'g/y'"),
    ("set_unknown_parameter", lambda g: setattr(g.y, "rate", 2.0), UnknownParameterError,
     "'g/y'"),
    ("set_distribution_of_wrong_dtype", lambda g: setattr(g.y, "distribution", "Bernoulli"),
     DtypeError, "'g/y'"),
]
for _id, _write, _error, _culprit in LANGUAGE_CASES:
    CASES.append((_id, language_case(_write, _error, _culprit), LANGUAGE, {}))


def _params() -> list:
    params = []
    for name, factory, methods, xfail in CASES:
        for method in methods:
            marks = [pytest.mark.xfail(strict=True, reason=xfail[method])] \
                if method in xfail else []
            params.append(pytest.param(factory, method, id=f"{name}-{method}", marks=marks))
    return params


def _check_error(info: Any, expected: type, culprit: str) -> None:
    assert issubclass(expected, BayesGraphError)
    assert isinstance(info.value, BayesGraphError)
    assert culprit in str(info.value), f"{culprit!r} not named in: {info.value}"


@pytest.mark.parametrize(("factory", "method"), _params())
def test_bad_input_is_refused_naming_its_culprit_and_the_graph_stays_usable(factory, method):
    bad, error, culprit, after = factory()
    expected = error[method] if isinstance(error, dict) else error
    with pytest.raises(expected) as info:
        bad(method)
    _check_error(info, expected, culprit)
    after()


@pytest.mark.parametrize(
    ("request_", "method"),
    [pytest.param(request_, method, id=f"{name}-{method}",
                  marks=[pytest.mark.xfail(strict=True, reason=xfail[method])]
                  if method in xfail else [])
     for name, request_, _, _, xfail in REQUEST_CASES for method in ALL])
def test_bad_request_is_refused_and_the_model_stays_usable(fits, request_, method):
    _, _, error, culprit, _ = next(c for c in REQUEST_CASES if c[1] is request_)
    fit = fits[method]
    g = fit.graph
    with pytest.raises(error) as info:
        request_(fit, g)
    _check_error(info, error, culprit)
    assert fit.get_samples(g.mu, n_samples=3).shape == (3,)
    normal_is_usable(g)


def test_the_catalogue_is_large_enough():
    combinations = len(_params()) + len(REQUEST_CASES) * len(ALL)
    assert len(CASES) + len(REQUEST_CASES) >= 40 and combinations >= 200
    assert len({name for name, *_ in CASES} | {c[0] for c in REQUEST_CASES}) == \
        len(CASES) + len(REQUEST_CASES)


def test_a_bare_runtime_warning_fails_the_test_that_provokes_it():
    """pyproject's filterwarnings makes RuntimeWarning an error (issue 15): numpy's "invalid
    value encountered" from bayesgraph's code would fail the test instead of being listed."""
    with pytest.raises(RuntimeWarning, match="invalid value"):
        np.log(np.array(-1.0))
