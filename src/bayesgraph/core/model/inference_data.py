"""Export a model's draws to ArviZ: the one module that knows ArviZ and its versions.

:func:`to_inference_data` works for every model class:

* :class:`~bayesgraph.core.model.mcmc.MCMCModel`: group ``posterior`` with all chains and
  draws, and ``sample_stats`` (``diverging``, ``energy``, ``tree_depth``, ``n_steps``,
  ``acceptance_rate``, ``step_size``, ``lp``);
* :class:`~bayesgraph.core.model.ForwardModel`: its draws go to group ``prior`` (one chain),
  replicate draws of the observed variables to ``prior_predictive``;
* :class:`~bayesgraph.core.model.MAPModel`: ``posterior`` holds ``n_samples`` copies of its
  point (one chain), so that ArviZ's functions, which need several draws, run on it (PSIS-LOO
  then reports every Pareto k above 1: a point is not a posterior);
* every other model (MAPFisher, ADVI, MGVI, ...): ``posterior`` holds ``n_samples`` draws of
  ``model._draw`` as one chain.

Posterior models also get ``posterior_predictive`` (one replicate of each observed variable
per posterior draw) and ``log_likelihood`` (the pointwise log-density of each observed entry
at each posterior draw), so ``az.loo``, ``az.waic``, ``az.compare``, ``az.plot_ppc`` and
``az.plot_loo_pit`` work with their defaults. Both cover the observed variables whose
distribution depends on an inferred value; a replicate is drawn given its parents' actual
values (the data of observed parents), the conditioning of the pointwise log-likelihood.

``observed_data`` holds the data of exactly those variables (ArviZ's ``plot_ppc`` looks up
every ``observed_data`` variable in ``posterior_predictive``, and ArviZ 1.x's ``loo_pit`` in
``log_likelihood``); every other datum goes to ``constant_data``, as PyMC's ``pm.Data``:
covariates (observed variables whose parents are all data, with a prior or NoDistribution,
whose log-likelihood is a constant) and observed Dirac variables. Variables
are named by their global names with ``'/'`` replaced by ``'.'`` (``family.alice.height``):
ArviZ 1.x stores groups in an ``xarray.DataTree``, which forbids ``'/'`` in variable names,
and both versions use the same names. Dimensions are ``chain``, ``draw``, ``example`` (the
examples axis of dynamic variables) and ``<name>_dim_0``, ``<name>_dim_1``, ... for the
variable's own shape. Fully observed variables appear only in ``observed_data``. A partly
observed variable is split as PyMC splits it: ``posterior`` (``prior``) holds its missing
entries only, along the dimension ``<name>_missing``, and ``observed_data``,
``posterior_predictive`` and ``log_likelihood`` its observed entries only, along
``<name>_observed``; each coordinate is the entries' flat positions in ``(example, *shape)``.

With ArviZ 0.x (Python 3.11) the result is an ``arviz.InferenceData``; with ArviZ 1.x
(Python >= 3.12) an ``xarray.DataTree``. ``arviz.summary`` and ``arviz.plot_trace`` (0.x) or
``arviz.plot_trace_dist`` (1.x) accept both.

Examples
--------
>>> from bayesgraph.core import Graph, Variable
>>> from bayesgraph.core.model import ForwardModel
>>> with Graph("g") as g:
...     x = Variable("x", mean=0, variance=1)
>>> data = to_inference_data(ForwardModel(g, seed=0), n_samples=50)
>>> data["prior"]["g.x"].dims
('chain', 'draw', 'example')
"""

from __future__ import annotations

from typing import Any

import numpy as np

from bayesgraph.core.model._resources import check_request
from bayesgraph.exceptions import DuplicateNameError

__all__ = ["to_inference_data", "plot_trace", "plot_ppc", "arviz_major_version", "variable_name",
           "missing_positions"]

#: ArviZ variable names replace the scope separator by this
NAME_SEPARATOR = "."


def plot_trace(data: Any, var_names: Any = None, **kwargs: Any) -> Any:
    """A trace plot of exported draws with the installed ArviZ (0.x ``plot_trace`` or 1.x
    ``plot_trace_dist``), so user code need not branch on the ArviZ version.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from bayesgraph.core import Variable
    >>> from bayesgraph.core.model import MAPFisherModel
    >>> v = Variable("v")
    >>> data = MAPFisherModel(v, seed=0).solve().to_inference_data(n_samples=20)
    >>> plot_trace(data) is not None
    True
    """
    import arviz as az

    if arviz_major_version() >= 1:
        return az.plot_trace_dist(data, var_names=var_names, **kwargs)
    return az.plot_trace(data, var_names=var_names, **kwargs)


def plot_ppc(data: Any, var_names: Any = None, **kwargs: Any) -> Any:
    """A posterior- (or prior-) predictive check plot with the installed ArviZ (0.x
    ``plot_ppc`` or 1.x ``plot_ppc_dist``), so user code need not branch on the version.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from bayesgraph.core import Graph, StaticVariable, Variable
    >>> from bayesgraph.core.model import MAPFisherModel
    >>> with Graph("g") as g:
    ...     mu = StaticVariable("mu", mean=0, variance=10)
    ...     y = Variable("y", mean=mu, variance=1)
    >>> model = MAPFisherModel(g, data={g.y: [0.5, 1.5, 1.0]}, seed=0).solve()
    >>> plot_ppc(model.to_inference_data(n_samples=50)) is not None
    True
    """
    import arviz as az

    if arviz_major_version() >= 1:
        return az.plot_ppc_dist(data, var_names=var_names, **kwargs)
    return az.plot_ppc(data, var_names=var_names, **kwargs)


def arviz_major_version() -> int:
    """The installed ArviZ's major version (0 or 1).

    Examples
    --------
    >>> arviz_major_version() in (0, 1)
    True
    """
    from importlib.metadata import version

    return int(version("arviz").split(".")[0])


def variable_name(global_name: str) -> str:
    """The ArviZ variable name of a bayesgraph global name.

    Examples
    --------
    >>> variable_name("family/alice/height")
    'family.alice.height'
    """
    return global_name.replace("/", NAME_SEPARATOR)


def to_inference_data(model: Any, n_samples: int = 1000, *, observed: bool = True,
                      var_names: list[str] | None = None, log_likelihood: bool = True,
                      predictive: bool = True) -> Any:
    """Export a (solved) model's draws, predictive draws, log-likelihoods, data and sampler
    statistics to ArviZ.

    Parameters
    ----------
    model : ModelBase
        Any bayesgraph model; models that need ``solve()`` must have been solved.
    n_samples : int
        Draws taken from models that are not MCMC (MCMC exports all its draws; MAP exports
        ``n_samples`` copies of its point).
    observed : bool
        Add the ``observed_data`` (the variables with a log-likelihood) and
        ``constant_data`` (every other datum: covariates) groups.
    var_names : list of str, optional
        Global names (or ArviZ names) of the variables to export to ``posterior``/``prior``;
        default all unobserved ones (latent, the missing entries of partially observed,
        and deterministic variables).
    log_likelihood : bool
        Add the ``log_likelihood`` group (posterior models), computed at the same draws as
        ``posterior``.
    predictive : bool
        Add ``posterior_predictive`` (posterior models) or ``prior_predictive``
        (ForwardModel), from the same draws.

    Returns
    -------
    arviz.InferenceData or xarray.DataTree
        InferenceData with ArviZ 0.x, DataTree with ArviZ 1.x.

    Examples
    --------
    >>> from bayesgraph.core import Graph, Variable
    >>> from bayesgraph.core.model import MAPModel
    >>> with Graph("g") as g:
    ...     z = Variable("z", mean=0, variance=1)
    ...     x = Variable("x", mean=z, variance=1)
    >>> idata = to_inference_data(MAPModel(g, data={g.x: [2.0]}).solve())
    >>> idata["posterior"]["g.z"].shape, float(idata["observed_data"]["g.x"][0])
    ((1, 1000, 1), 2.0)
    >>> float(idata["log_likelihood"]["g.x"][0, 0, 0]) < 0
    True
    """
    model._require_solved()
    spec = model.spec
    names = _exported_names(model, var_names)
    prior = not type(model).requires_solve
    check_request(f"to_inference_data of {type(model).__name__}",
                  model._export_draw_count(int(n_samples)), model._values_per_draw(names),
                  fix="or fewer variables (var_names=)", option=model._export_option)
    sites, n, chains = model._export_draws(int(n_samples))

    def by_chain(values: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        return {k: np.asarray(v).reshape(chains, n // chains, *np.shape(v)[1:])
                for k, v in values.items()}

    main = "prior" if prior else "posterior"
    draws = model._values(sites, names, n)
    groups: dict[str, dict[str, np.ndarray]] = {
        main: by_chain({k: _cast(spec.variable(k), v) for k, v in draws.items()})}
    likelihood = model._likelihood_names()
    if predictive and likelihood:
        groups[f"{main}_predictive"] = by_chain(
            model._observed_terms(sites, likelihood, n, predictive=True))
    if log_likelihood and likelihood and not prior:
        groups["log_likelihood"] = by_chain(
            model._observed_terms(sites, likelihood, n, predictive=False))
    stats = model._sample_stats_by_chain()
    if stats:
        groups["sample_stats"] = stats
    if observed:
        data = _observed_data(model)
        random = set(likelihood)
        if any(k in random for k in data):
            groups["observed_data"] = {k: v for k, v in data.items() if k in random}
        if any(k not in random for k in data):
            groups["constant_data"] = {k: v for k, v in data.items() if k not in random}
    datasets = {g: _dataset(model, values, group=g) for g, values in groups.items()}
    return _container(datasets, model)


# -- what goes where ------------------------------------------------------------------------
def _exported_names(model: Any, var_names: list[str] | None) -> list[str]:
    spec = model.spec
    if var_names is None:
        return [v.name for v in spec.variables if v.role != "observed"]
    by_arviz = {variable_name(n): n for n in spec.names}
    by_arviz.update({variable_name(t): c for t, c in spec.aliases})  # linked targets
    chosen = []
    for name in var_names:
        global_name = str(model._resolve(name)) if name not in by_arviz else by_arviz[name]
        chosen.append(global_name)
    return chosen


def missing_positions(model: Any, name: str) -> np.ndarray | None:
    """Flat positions (row-major over ``(n_data, *shape)`` or ``shape``) of the missing
    entries of a partly observed variable, or ``None`` for any other variable.

    Examples
    --------
    >>> from bayesgraph.core import Variable
    >>> from bayesgraph.core.model import ForwardModel
    >>> x = Variable("x", mean=0, variance=1)
    >>> missing_positions(ForwardModel(x, data={x: [1.0, float("nan"), 2.0]}), "x").tolist()
    [1]
    """
    if model.spec.variable(name).role != "partial":
        return None
    return np.asarray(model._member_slices[name][1], dtype=np.int64)


def _cast(var: Any, values: np.ndarray) -> np.ndarray:
    if var.dtype == "bool":
        return np.asarray(values) > 0.5
    if var.dtype == "int":
        return np.rint(values).astype(np.int64)
    return np.asarray(values, dtype=np.float64)


def _observed_data(model: Any) -> dict[str, np.ndarray]:
    lowered = model._lowered
    out = {}
    for name, values in lowered.values.items():
        array = np.array(values, dtype=np.float64)
        missing = lowered.missing.get(name)
        if missing is not None and len(missing):
            array.reshape(-1)[np.asarray(missing)] = np.nan
        out[name] = array
    return out


# -- building xarray objects ----------------------------------------------------------------
_SAMPLED = ("posterior", "prior", "posterior_predictive", "prior_predictive",
            "log_likelihood", "sample_stats")


def _entries(model: Any, name: str, group: str, array: np.ndarray
             ) -> tuple[str, np.ndarray, np.ndarray] | None:
    """For a partly observed variable: ``(dimension, flat positions, values)`` of what
    ``group`` holds of it (the missing entries in ``posterior``/``prior``, the observed ones
    elsewhere); ``None`` for every other variable."""
    missing = missing_positions(model, name)
    if missing is None:
        return None
    lead = 2 if group in _SAMPLED else 0
    flat = array.reshape(*array.shape[:lead], -1)
    full = model.spec.variable(name).full_shape(model._n_rows)
    per_entry = int(np.prod(full, dtype=np.int64)) // flat.shape[-1]  # >1: vector densities
    holes = np.unique(missing // per_entry)
    # coordinates over all rows: with LocalRows this process's rows start at model.rows.start
    first = model.rows.start if model.spec.variable(name).dynamic else 0
    if group in ("posterior", "prior"):
        per_row = int(np.prod(full, dtype=np.int64)) // max(full[0], 1) if first else 0
        return f"{variable_name(name)}_missing", missing + first * per_row, flat[..., missing]
    kept = np.setdiff1d(np.arange(flat.shape[-1]), holes)
    per_row = flat.shape[-1] // max(full[0], 1) if first else 0
    return f"{variable_name(name)}_observed", kept + first * per_row, flat[..., kept]


def _dataset(model: Any, values: dict[str, np.ndarray], group: str) -> Any:
    import xarray as xr

    sampled = group in _SAMPLED
    lead = ["chain", "draw"] if sampled else []
    data_vars = {}
    coords: dict[str, Any] = {}
    for name, array in values.items():
        array = np.asarray(array)
        if name not in model.spec:  # sampler statistics
            arviz_name, dims = name, list(lead)
        elif (entries := _entries(model, name, group, array)) is not None:
            arviz_name = variable_name(name)
            dim, positions, array = entries
            dims, coords[dim] = [*lead, dim], positions
        else:
            arviz_name = variable_name(name)
            var = model.spec.variable(name)
            own = ["example"] if var.dynamic else []
            own += [f"{arviz_name}_dim_{i}" for i in range(len(var.shape))]
            dims = [*lead, *own][:array.ndim]  # log-likelihoods lack event axes
        if arviz_name in data_vars:
            raise DuplicateNameError(
                f"two variables map to the ArviZ name {arviz_name!r}: rename one of them "
                f"(ArviZ names replace '/' by {NAME_SEPARATOR!r})")
        data_vars[arviz_name] = (dims, array)
    if sampled and values:
        first = np.asarray(next(iter(values.values())))
        coords.update(chain=np.arange(first.shape[0]), draw=np.arange(first.shape[1]))
    if any("example" in dims for dims, _ in data_vars.values()):
        coords["example"] = np.arange(model.rows.start, model.rows.stop)  # global rows
    return xr.Dataset(data_vars, coords=coords, attrs=_attrs(model))


def _attrs(model: Any) -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    try:
        bg_version = version("bayesgraph")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        bg_version = "unknown"
    return {"inference_library": "bayesgraph", "inference_library_version": bg_version,
            "model_class": type(model).__name__}


def _container(datasets: dict[str, Any], model: Any) -> Any:
    """InferenceData (ArviZ 0.x) or DataTree (ArviZ 1.x): the only version switch."""
    if arviz_major_version() >= 1:
        import xarray as xr

        return xr.DataTree.from_dict(datasets)
    import arviz as az

    return az.InferenceData(**datasets)
