"""Export a model's draws to ArviZ: the one module that knows ArviZ and its versions.

:func:`to_inference_data` works for every model class:

* :class:`~bayesgraph.core.model.mcmc.MCMCModel`: group ``posterior`` with all chains and
  draws, and ``sample_stats`` (``diverging``, ``energy``, ``tree_depth``, ``n_steps``,
  ``acceptance_rate``, ``step_size``, ``lp``);
* :class:`~bayesgraph.core.model.ForwardModel`: its draws go to group ``prior`` (one chain);
* :class:`~bayesgraph.core.model.MAPModel`: ``posterior`` holds its point (one chain, one draw);
* every other model (MAPFisher, ADVI, MGVI, ...): ``posterior`` holds ``n_samples`` draws of
  ``model._draw`` as one chain.

Every export has ``observed_data``: the data given, with ``NaN`` at missing entries. Variables
are named by their global names with ``'/'`` replaced by ``'.'`` (``family.alice.height``):
ArviZ 1.x stores groups in an ``xarray.DataTree``, which forbids ``'/'`` in variable names,
and both versions use the same names. Dimensions are ``chain``, ``draw``, ``example`` (the
examples axis of dynamic variables) and ``<name>_dim_0``, ``<name>_dim_1``, ... for the
variable's own shape. Fully observed variables appear only in ``observed_data``.

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

__all__ = ["to_inference_data", "plot_trace", "arviz_major_version", "variable_name"]

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
                      var_names: list[str] | None = None) -> Any:
    """Export a (solved) model's draws, data and sampler statistics to ArviZ.

    Parameters
    ----------
    model : ModelBase
        Any bayesgraph model; models that need ``solve()`` must have been solved.
    n_samples : int
        Draws taken from models that are not MCMC or MAP (ignored for those: MCMC exports
        all its draws, MAP its point).
    observed : bool
        Add the ``observed_data`` group.
    var_names : list of str, optional
        Global names (or ArviZ names) of the variables to export; default all unobserved
        ones (latent, partially observed and deterministic variables).

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
    ((1, 1, 1), 2.0)
    """
    model._require_solved()
    spec = model.spec
    names = _exported_names(model, var_names)
    groups: dict[str, dict[str, np.ndarray]] = {}
    kind = _kind(model)
    if kind == "mcmc":
        draws = model._draws_by_chain(names)
        groups["posterior"] = {n: draws[n] for n in names}
        groups["sample_stats"] = model._sample_stats_by_chain()
    else:
        n = 1 if kind == "point" else int(n_samples)
        draws = model._draws(n, names)
        group = "prior" if kind == "prior" else "posterior"
        groups[group] = {name: np.asarray(draws[name])[None] for name in names}
    for group in ("posterior", "prior"):
        if group in groups:
            groups[group] = {k: _cast(spec.variable(k), v) for k, v in groups[group].items()}
    if observed:
        data = _observed_data(model)
        if data:
            groups["observed_data"] = data
    datasets = {g: _dataset(model, values, sampled=g != "observed_data")
                for g, values in groups.items()}
    return _container(datasets, model)


# -- what goes where ------------------------------------------------------------------------
def _kind(model: Any) -> str:
    from bayesgraph.core.model.map import MAPModel
    from bayesgraph.core.model.map_fisher import MAPFisherModel

    if hasattr(model, "_draws_by_chain"):
        return "mcmc"
    if not type(model).requires_solve:
        return "prior"
    if isinstance(model, MAPModel) and not isinstance(model, MAPFisherModel):
        return "point"
    return "draws"


def _exported_names(model: Any, var_names: list[str] | None) -> list[str]:
    spec = model.spec
    if var_names is None:
        return [v.name for v in spec.variables if v.role != "observed"]
    by_arviz = {variable_name(n): n for n in spec.names}
    chosen = []
    for name in var_names:
        global_name = str(model._resolve(name)) if name not in by_arviz else by_arviz[name]
        chosen.append(global_name)
    return chosen


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
def _dims(var: Any, arviz_name: str) -> list[str]:
    dims = ["example"] if var.dynamic else []
    dims += [f"{arviz_name}_dim_{i}" for i in range(len(var.shape))]
    return dims


def _dataset(model: Any, values: dict[str, np.ndarray], sampled: bool) -> Any:
    import xarray as xr

    data_vars = {}
    for name, array in values.items():
        array = np.asarray(array)
        if name in model.spec:
            arviz_name = variable_name(name)
            dims = _dims(model.spec.variable(name), arviz_name)
        else:  # sampler statistics
            arviz_name, dims = name, []
        if sampled:
            dims = ["chain", "draw", *dims]
        if arviz_name in data_vars:
            raise ValueError(f"two variables map to the ArviZ name {arviz_name!r}")
        data_vars[arviz_name] = (dims, array)
    coords: dict[str, Any] = {}
    if sampled and values:
        first = np.asarray(next(iter(values.values())))
        coords = {"chain": np.arange(first.shape[0]), "draw": np.arange(first.shape[1])}
    if any("example" in dims for dims, _ in data_vars.values()):
        coords["example"] = np.arange(model.n_data)
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
