"""Build an executable program from a :class:`~bayesgraph.core.lowering.ModelSpec`.

One function, :meth:`Program.execute`, walks the variables in topological order, evaluates
their parameters and hands each random quantity to an *emitter*. The emitter decides what
happens: emit numpyro sample sites (:meth:`Program.model`), sample forward, evaluate a
log-density at given values, or read given values. Every inference family uses one of these
modes, so they all agree on the model by construction.

Sites
-----
* a fully latent variable is the site named by its global name, shaped ``(n_data, *shape)``
  (dynamic: the examples axis is the ``examples`` plate, the own-shape axes are event axes)
  or ``shape`` (static);
* a partially observed variable has a latent site ``"<global name>/missing"`` holding only
  the missing entries (flat, in row-major order) and an observed site under its global name
  for the completed array;
* a fully observed variable is an observed site under its global name;
* a Dirac variable is deterministic: no site.

Examples
--------
>>> import jax
>>> from bayesgraph.core import Variable
>>> from bayesgraph.core.lowering import lower
>>> x = Variable("x", mean=1.0, variance=4.0)
>>> spec, data = lower(x)
>>> program = Program(spec)
>>> [s.name for s in program.latent_sites]
['x']
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import numpyro
from numpyro.distributions import biject_to

from bayesgraph.core.compiler.distributions import build
from bayesgraph.core.lowering.spec import (
    Const,
    Expr,
    LoweredData,
    ModelSpec,
    Op,
    Ref,
    VariableSpec,
)
from bayesgraph.core.operator.operators import OPERATOR_TABLE

DISCRETE = frozenset({"BernoulliDistribution", "PoissonDistribution", "CategoricalDistribution"})
MISSING_SUFFIX = "/missing"


def _resolve(path: str) -> Callable[..., Any]:
    module, _, attr = path.rpartition(".")
    return getattr(importlib.import_module(module), attr)


_JAX_FUNCTIONS = {name: _resolve(spec.jax_fn) for name, spec in OPERATOR_TABLE.items()}


@dataclass(frozen=True)
class LatentSite:
    """One latent sample site.

    Attributes
    ----------
    name : str
        Site name (the variable's global name, or it plus ``"/missing"``).
    variable : str
        The variable's global name.
    shape : tuple of int
        The site's value shape.
    distribution : str
        The variable's distribution name.
    partial : bool
        True for the missing entries of a partially observed variable.

    Examples
    --------
    >>> LatentSite("g/x/missing", "g/x", (3,), "NormalDistribution", True).discrete
    False
    """

    name: str
    variable: str
    shape: tuple[int, ...]
    distribution: str
    partial: bool

    @property
    def discrete(self) -> bool:
        """Whether the site holds integers or booleans."""
        return self.distribution in DISCRETE

    @property
    def size(self) -> int:
        """Number of scalar values in the site."""
        return int(np.prod(self.shape, dtype=np.int64))


class Emitter:
    """What to do with random quantities while a program runs (the default: nothing).

    Examples
    --------
    >>> Emitter().deterministic("x", 1.0)
    1.0
    """

    def latent(self, site: LatentSite, d: Any, var: VariableSpec) -> Any:
        raise NotImplementedError

    def observe(self, name: str, d: Any, value: Any, var: VariableSpec) -> None:
        return None

    def deterministic(self, name: str, value: Any) -> Any:
        return value


class NumpyroEmitter(Emitter):
    """Emit numpyro sample sites (the numpyro model).

    The examples axis of a dynamic variable is the ``examples`` plate (``dim=-1``); the axes of
    the variable's own shape are event axes (``to_event``), so every site's batch shape is
    covered by plates. The missing entries of a partially observed variable form one event.
    """

    def __init__(self, n_data: int) -> None:
        self.n_data = n_data

    def _site(self, name: str, d: Any, var: VariableSpec, **kwargs: Any) -> Any:
        event = d.to_event(len(var.shape)) if var.shape else d
        if var.dynamic:
            with numpyro.plate("examples", self.n_data, dim=-1):
                return numpyro.sample(name, event, **kwargs)
        return numpyro.sample(name, event, **kwargs)

    def latent(self, site: LatentSite, d: Any, var: VariableSpec) -> Any:
        if site.partial:  # the density comes from the observed site of the completed array
            return numpyro.sample(site.name, d.mask(False).to_event(1))
        return self._site(site.name, d, var)

    def observe(self, name: str, d: Any, value: Any, var: VariableSpec) -> None:
        self._site(name, d, var, obs=value)


class SampleEmitter(Emitter):
    """Draw every latent site from its conditional prior (ancestral sampling)."""

    def __init__(self, key: Any) -> None:
        self.key = key

    def latent(self, site: LatentSite, d: Any, var: VariableSpec) -> Any:
        self.key, sub = jax.random.split(self.key)
        return d.sample(sub)


class ValueEmitter(Emitter):
    """Read latent values from a dict ``{site name: constrained value}``."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.values = values

    def latent(self, site: LatentSite, d: Any, var: VariableSpec) -> Any:
        return self.values[site.name]


class DensityEmitter(Emitter):
    """Accumulate the log-density at unconstrained latent values.

    Parameters
    ----------
    unconstrained : dict
        ``{site name: unconstrained value}``; each is mapped to the site's support.
    jacobian : bool
        Add the log-Jacobian of that map (the density of the unconstrained values) or not
        (the density of the variables themselves).
    skip_fixed : bool
        Leave out observed variables whose density does not depend on the latent values.
    """

    def __init__(self, unconstrained: dict[str, Any], jacobian: bool, skip_fixed: bool) -> None:
        self.unconstrained = unconstrained
        self.jacobian = jacobian
        self.skip_fixed = skip_fixed
        self.log_density = 0.0

    def latent(self, site: LatentSite, d: Any, var: VariableSpec) -> Any:
        u = self.unconstrained[site.name]
        transform = biject_to(d.support)
        x = transform(u)
        if not site.partial:
            self.log_density = self.log_density + jnp.sum(d.log_prob(x))
        if self.jacobian:
            self.log_density = self.log_density + jnp.sum(
                transform.log_abs_det_jacobian(u, x))
        return x

    def observe(self, name: str, d: Any, value: Any, var: VariableSpec) -> None:
        if self.skip_fixed and var.density_is_fixed:
            return
        self.log_density = self.log_density + jnp.sum(d.log_prob(value))


class Program:
    """The executable form of a :class:`~bayesgraph.core.lowering.ModelSpec`.

    Parameters
    ----------
    spec : ModelSpec
        The frozen model.

    Examples
    --------
    >>> import jax
    >>> from bayesgraph.core import Graph, Variable
    >>> from bayesgraph.core.lowering import lower
    >>> with Graph("g") as g:
    ...     z = Variable("z")
    ...     x = Variable("x", mean=z + 1, variance=0.5)
    >>> spec, data = lower(g, {g.x: [3.0]})
    >>> program = Program(spec)
    >>> args = program.data_args(data)
    >>> values = program.execute(args, ValueEmitter({"g/z": jax.numpy.ones(1)}))
    >>> float(values["g/x"][0])
    3.0
    """

    def __init__(self, spec: ModelSpec) -> None:
        self.spec = spec
        self.n_data = spec.n_data
        sites = []
        for var in spec.variables:
            if var.distribution == "DiracDistribution" or var.role == "observed":
                continue
            if var.role == "partial":
                sites.append(LatentSite(var.name + MISSING_SUFFIX, var.name, (var.n_missing,),
                                        var.distribution, True))
            else:
                sites.append(LatentSite(var.name, var.name, var.full_shape(spec.n_data),
                                        var.distribution, False))
        self.latent_sites: tuple[LatentSite, ...] = tuple(sites)
        self._site_of = {s.variable: s for s in sites}

    # -- data -----------------------------------------------------------------------------
    def data_args(self, data: LoweredData, dtype: Any = None) -> dict[str, dict[str, Any]]:
        """The data as a pytree of arrays: pass it as an argument to jitted functions.

        Examples
        --------
        >>> from bayesgraph.core import Variable
        >>> from bayesgraph.core.lowering import lower
        >>> x = Variable("x")
        >>> spec, data = lower(x, {x: [1.0, 2.0]})
        >>> Program(spec).data_args(data)["values"]["x"].shape
        (2,)
        """
        dtype = dtype or jnp.result_type(float)
        return {
            "values": {k: jnp.asarray(v, dtype=dtype) for k, v in data.values.items()},
            "missing": {k: jnp.asarray(v) for k, v in data.missing.items()},
        }

    def site_of(self, variable: str) -> LatentSite | None:
        """The latent site holding (part of) ``variable``, or ``None``."""
        return self._site_of.get(variable)

    # -- expression evaluation --------------------------------------------------------------
    def _evaluate(self, expr: Expr, env: dict[str, Any]) -> Any:
        if isinstance(expr, Const):
            return jnp.asarray(expr.value)
        if isinstance(expr, Ref):
            return env[expr.name]
        assert isinstance(expr, Op)
        args = [self._evaluate(a, env) for a in expr.args]
        fn = _JAX_FUNCTIONS[expr.op]
        kwargs = dict(expr.kwargs)
        if not expr.dynamic:
            return fn(*args, **kwargs)
        if OPERATOR_TABLE[expr.op].elementwise:
            rank = len(expr.shape)
            aligned = [self._align(v, a, rank) for v, a in zip(args, expr.args, strict=True)]
            return fn(*aligned, **kwargs)
        in_axes = [0 if a.dynamic else None for a in expr.args]
        return jax.vmap(lambda *xs: fn(*xs, **kwargs), in_axes=in_axes)(*args)

    def _align(self, value: Any, expr: Expr, rank: int) -> Any:
        """Insert unit axes so a dynamic value broadcasts against logical shapes of ``rank``."""
        if not expr.dynamic or len(expr.shape) == rank:
            return value
        return jnp.reshape(value, (value.shape[0],) + (1,) * (rank - len(expr.shape))
                           + tuple(expr.shape))

    def _parameters(self, var: VariableSpec, env: dict[str, Any]) -> dict[str, Any]:
        event = 1 if var.distribution == "CategoricalDistribution" else 0
        params = {}
        for key, expr in var.params:
            value = self._evaluate(expr, env)
            rank = len(var.shape) + (len(expr.shape[-event:]) if event else 0)
            params[key] = self._align(value, expr, rank) if var.dynamic else value
        return params

    # -- execution ------------------------------------------------------------------------
    def execute(self, data: dict[str, dict[str, Any]], emitter: Emitter) -> dict[str, Any]:
        """Run the program; return ``{global name: value}`` for every variable.

        Values have the runtime shape: ``(n_data, *shape)`` for dynamic variables.
        """
        env: dict[str, Any] = {}
        values, missing = data["values"], data["missing"]
        for var in self.spec.variables:
            full_shape = var.full_shape(self.n_data)
            params = self._parameters(var, env)
            if var.distribution == "DiracDistribution":
                value = jnp.broadcast_to(params["mean"], full_shape).astype(jnp.result_type(float))
                if var.role == "observed":
                    value = values[var.name]
                elif var.role == "partial":
                    idx = missing[var.name]
                    value = values[var.name].reshape(-1).at[idx].set(
                        value.reshape(-1)[idx]).reshape(full_shape)
                env[var.name] = emitter.deterministic(var.name, value)
                continue
            site = self._site_of.get(var.name)
            if var.role == "latent":
                d = build(var.distribution, params, full_shape)
                env[var.name] = emitter.latent(site, d, var)
                continue
            d = build(var.distribution, params, full_shape)
            if var.role == "partial":
                idx = missing[var.name]
                d_missing = build(var.distribution, self._gather(params, var, idx))
                filled = emitter.latent(site, d_missing, var)
                value = values[var.name].reshape(-1).at[idx].set(
                    jnp.asarray(filled, dtype=values[var.name].dtype)).reshape(full_shape)
            else:
                value = values[var.name]
            if var.distribution == "CategoricalDistribution":
                emitter.observe(var.name, d, value.astype(jnp.int32), var)
            else:
                emitter.observe(var.name, d, value, var)
            env[var.name] = value
        return env

    def _gather(self, params: dict[str, Any], var: VariableSpec, idx: Any) -> dict[str, Any]:
        full_shape = var.full_shape(self.n_data)
        gathered = {}
        for key, value in params.items():
            value = jnp.asarray(value)
            if var.distribution == "CategoricalDistribution":
                k = value.shape[-1]
                gathered[key] = jnp.broadcast_to(value, (*full_shape, k)).reshape(-1, k)[idx]
            else:
                gathered[key] = jnp.broadcast_to(value, full_shape).reshape(-1)[idx]
        return gathered

    # -- modes ----------------------------------------------------------------------------
    def model(self, data: dict[str, dict[str, Any]]) -> dict[str, Any]:
        """The numpyro model: call it with :meth:`data_args`' result."""
        return self.execute(data, NumpyroEmitter(self.n_data))

    def _keep(self, values: dict[str, Any], observed: bool) -> dict[str, Any]:
        if observed:
            return values
        return {k: v for k, v in values.items() if self.spec.variable(k).role != "observed"}

    def sample(self, key: Any, data: dict[str, dict[str, Any]], observed: bool = True
               ) -> dict[str, Any]:
        """One ancestral draw of every variable (data are clamped and carried forward).

        With ``observed=False`` the fully observed variables (their data) are left out, so
        jitted callers do not copy the data into their outputs.
        """
        return self._keep(self.execute(data, SampleEmitter(key)), observed)

    def values_at(self, latents: dict[str, Any], data: dict[str, dict[str, Any]],
                  observed: bool = True) -> dict[str, Any]:
        """Every variable's value given constrained latent site values (see :meth:`sample`)."""
        return self._keep(self.execute(data, ValueEmitter(latents)), observed)

    def central_latents(self, data: dict[str, dict[str, Any]]) -> dict[str, Any]:
        """Latent site values at the central values of their conditional priors."""
        emitter = _CentralRecorder()
        self.execute(data, emitter)
        return emitter.recorded

    def log_density(self, unconstrained: dict[str, Any], data: dict[str, dict[str, Any]],
                    *, jacobian: bool = False, skip_fixed: bool = True) -> Any:
        """Joint log-density at unconstrained latent values (see :class:`DensityEmitter`)."""
        emitter = DensityEmitter(unconstrained, jacobian, skip_fixed)
        self.execute(data, emitter)
        return emitter.log_density

    def constrain(self, unconstrained: dict[str, Any], data: dict[str, dict[str, Any]]
                  ) -> dict[str, Any]:
        """Map unconstrained latent values to the sites' supports."""
        emitter = _ConstrainRecorder(unconstrained)
        self.execute(data, emitter)
        return emitter.recorded

    def unconstrain(self, constrained: dict[str, Any], data: dict[str, dict[str, Any]]
                    ) -> dict[str, Any]:
        """Map constrained latent values to unconstrained coordinates."""
        emitter = _UnconstrainRecorder(constrained)
        self.execute(data, emitter)
        return emitter.recorded


class _CentralRecorder(Emitter):
    def __init__(self) -> None:
        self.recorded: dict[str, Any] = {}

    def latent(self, site: LatentSite, d: Any, var: VariableSpec) -> Any:
        if site.distribution == "NoDistribution" or site.distribution in DISCRETE:
            x = jnp.zeros(site.shape)
        else:
            mean = _safe_mean(d)
            x = jnp.broadcast_to(mean, site.shape)
        self.recorded[site.name] = x
        return x


def _safe_mean(d: Any) -> Any:
    name = type(d).__name__
    if name == "LogNormal":
        return jnp.exp(d.loc)  # the median: always inside the support, finite
    return d.mean


class _ConstrainRecorder(Emitter):
    def __init__(self, unconstrained: dict[str, Any]) -> None:
        self.unconstrained = unconstrained
        self.recorded: dict[str, Any] = {}

    def latent(self, site: LatentSite, d: Any, var: VariableSpec) -> Any:
        x = biject_to(d.support)(self.unconstrained[site.name])
        self.recorded[site.name] = x
        return x


class _UnconstrainRecorder(Emitter):
    def __init__(self, constrained: dict[str, Any]) -> None:
        self.constrained = constrained
        self.recorded: dict[str, Any] = {}

    def latent(self, site: LatentSite, d: Any, var: VariableSpec) -> Any:
        x = self.constrained[site.name]
        self.recorded[site.name] = biject_to(d.support).inv(x)
        return x
