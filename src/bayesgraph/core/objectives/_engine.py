"""Per-example programs: the batched machinery every density-based objective shares.

An objective that needs one number per example (a log density, a rank, a completion) treats
each example as its own problem: the graph with one example (``n_data = 1``) is compiled once
per *pattern* of observed entries, and that program is ``jax.vmap``-ed over the examples of
the pattern, whose values are the program's data arguments. Static variables that are not
given are latent in each example's problem, so every example's density has them marginalised
under their prior (for a graph from :class:`~bayesgraph.core.model.Trainer`, their
posterior). No Python loop runs over examples: the loops run over patterns (at most one per
distinct set of missing entries) and are vectorised inside.

The marginal density of the observed entries of one example is the Laplace approximation of
the integral over its latent coordinates (unconstrained, Jacobian included), found by damped
Newton iterations on the dense per-example Hessian. For a linear-Gaussian graph the log
joint is quadratic in the latents, so the approximation is the exact Gaussian marginal.

Examples
--------
>>> import numpy as np
>>> from bayesgraph.core import Graph, Variable
>>> from bayesgraph.core.objectives._engine import ExampleData
>>> with Graph("g") as g:
...     z = Variable("z", mean=0, variance=1)
...     x = Variable("x", mean=z, variance=1)
>>> d = ExampleData(g, {g.x: [0.0, 2.0]})
>>> lp = d.log_marginal(d.observed_mask())   # x ~ N(0, 2) marginally
>>> bool(np.allclose(lp, -0.5 * np.log(2 * np.pi * 2) - np.array([0.0, 4.0]) / 4))
True
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree

from bayesgraph.core.compiler.program import SampleEmitter
from bayesgraph.core.lowering import group, group_data, lower
from bayesgraph.core.model._compilation_cache import cached_functions, program_for
from bayesgraph.core.objectives._linear_gaussian import is_quadratic
from bayesgraph.core.scope import NamedObject
from bayesgraph.core.variable.variable import VariableBase
from bayesgraph.exceptions import DataError, MissingVariableError

_NEWTON_STEPS = 50


class _NoData(Exception):
    """A pattern without any data to vmap over (the caller falls back)."""


def data_dict(graph: NamedObject, data: Mapping | None) -> tuple[Any, dict[str, np.ndarray]]:
    """Validate ``data`` by lowering it and return ``(spec, {global name: float array})``.

    Dynamic variables get ``(n_data, *shape)`` arrays (``NaN`` = missing), static ones their
    shape. Keys may be variables or global names (relative to the graph or absolute).
    """
    spec, _ = lower(graph, data)
    out: dict[str, np.ndarray] = {}
    for key, value in (data or {}).items():
        name = _name_of(spec, key)
        var = spec.variable(name)
        arr = np.asarray(value, dtype=np.float64)
        out[name] = np.broadcast_to(arr, var.full_shape(spec.n_data)).copy()
    return spec, out


def _name_of(spec: Any, key: Any) -> str:
    if isinstance(key, VariableBase):
        name = key.global_name
    else:
        name = str(key)
        if name not in spec:
            name = f"{spec.root_name}/{name}"
    if name not in spec:
        raise MissingVariableError(
            f"{key!r} is not a variable of the graph {spec.root_name!r}: give data only for "
            "its variables")
    return spec.canonical(name)


class ExampleData:
    """The examples of ``data`` for per-example programs (see the module docstring).

    Parameters
    ----------
    graph : Graph
        The model's structure.
    data : dict or DataLinker, optional
        Observed values; ``NaN`` marks missing entries.
    dtype : str
        ``'float64'`` (default) or ``'float32'``.

    Examples
    --------
    >>> from bayesgraph.core import Graph, Variable
    >>> from bayesgraph.core.objectives._engine import ExampleData
    >>> with Graph("g") as g:
    ...     _ = Variable("x")
    >>> ExampleData(g, {g.x: [1.0, 2.0, 3.0]}).n_data
    3
    """

    def __init__(self, graph: NamedObject, data: Mapping | None = None,
                 dtype: str = "float64") -> None:
        self.graph = graph
        self.spec, self.values = data_dict(graph, data)
        self.n_data = self.spec.n_data
        self.dtype = dtype
        self.dynamic = [v.name for v in self.spec.variables
                        if v.dynamic and v.distribution != "DiracDistribution"]
        self.statics = {k: v for k, v in self.values.items()
                        if not self.spec.variable(k).dynamic}

    # -- patterns ---------------------------------------------------------------------------
    def observed_mask(self, names: list[str] | None = None) -> dict[str, np.ndarray]:
        """``{dynamic variable: bool (n_data, *shape)}``: the finite entries of the data
        (restricted to ``names`` if given; other variables count as not observed)."""
        out = {}
        for name in self.dynamic:
            if name in self.values and (names is None or name in names):
                out[name] = np.isfinite(self.values[name])
        return out

    def _patterns(self, mask: dict[str, np.ndarray], n: int
                  ) -> list[tuple[dict[str, np.ndarray], np.ndarray]]:
        """Split examples by observed pattern: ``[(pattern masks of one example, rows)]``."""
        names = sorted(mask)
        if not names:
            return [({}, np.arange(n))]
        flat = np.concatenate([mask[k].reshape(n, -1) for k in names], axis=1)
        unique, inverse = np.unique(flat, axis=0, return_inverse=True)
        inverse = np.asarray(inverse).reshape(-1)
        out = []
        for p in range(unique.shape[0]):
            rows = np.flatnonzero(inverse == p)
            one = {k: mask[k][rows[0]] for k in names}
            out.append((one, rows))
        return out

    # -- per-example programs ---------------------------------------------------------------
    def _problem(self, values: dict[str, np.ndarray], pattern: dict[str, np.ndarray],
                 rows: np.ndarray) -> tuple[Any, Any, Any, bool]:
        """``(program, batched data, in_axes, quadratic)`` for the examples ``rows`` of
        ``values`` observed as ``pattern``: the program of one example, its data with the
        examples of the dynamic groups' values stacked along their examples axis, and
        whether its log density is quadratic in the latents (a linear-Gaussian problem:
        one Newton step is exact, see :func:`_newton`)."""
        def data_for(take):
            d = dict(self.statics)
            for name, m in pattern.items():
                if not m.any():
                    continue
                v = values[name][take]
                d[name] = np.where(m, v, np.nan) if not m.all() else v
            return d

        one_spec, one_lowered = lower(self.graph, data_for(rows[:1]))
        grouped = group(one_spec)
        program = program_for(grouped)
        all_spec, all_lowered = lower(self.graph, data_for(rows))
        batch = group_data(group(all_spec), all_lowered)
        with self._precision():
            template = program.data_args(group_data(grouped, one_lowered), self._float())
            dynamic = {g.name for g in grouped.groups if g.dynamic}
            values_arg = {}
            for k, v in template["values"].items():
                if k in dynamic:
                    # (M, n, ...) -> (M, n, 1, ...): vmapped over axis 1, each example keeps its
                    # examples axis of length one
                    values_arg[k] = jnp.asarray(np.expand_dims(batch.values[k], 2),
                                                dtype=self._float())
                else:
                    values_arg[k] = v
            data = dict(template, values=values_arg)
            axes = {"values": {k: (1 if k in dynamic else None) for k in values_arg},
                    "missing": {k: None for k in template["missing"]},
                    "slots": {k: None for k in template["slots"]},
                    "arrays": {k: None for k in template["arrays"]}}
        return program, data, axes, is_quadratic(one_spec)

    def _precision(self):
        return jax.enable_x64(self.dtype == "float64")

    def _float(self) -> Any:
        return np.float64 if self.dtype == "float64" else np.float32

    def log_marginal(self, mask: dict[str, np.ndarray], values: dict[str, np.ndarray] | None
                     = None) -> np.ndarray:
        """Per-example log density of the entries ``mask`` marks (of ``values``, default the
        data), every other unobserved quantity marginalised (Laplace; exact for
        linear-Gaussian graphs)."""
        values = self.values if values is None else values
        n = next(iter(mask.values())).shape[0] if mask else self.n_data
        out = np.empty(n)
        for pattern, rows in self._patterns(mask, n):
            if not any(m.any() for m in pattern.values()):
                out[rows] = 0.0  # nothing observed: the density of the empty set
                continue
            program, data, axes, quadratic = self._problem(values, pattern, rows)
            fn = _evidence_function(program, axes, self.dtype, quadratic)
            with self._precision():
                out[rows] = np.asarray(fn(data))
        return out

    def coupled(self) -> list[str]:
        """Observed variables that inform a latent static variable (a descendant of one):
        where there are any, the examples share information and cannot be treated one by
        one for posterior questions."""
        latent_statics = {v.name for v in self.spec.variables
                          if not v.dynamic and v.name not in self.values}
        ancestors: dict[str, set[str]] = {}
        for var in self.spec.variables:
            found: set[str] = set()
            for p in var.parents:
                p = self.spec.canonical(p)
                found |= {p} | ancestors.get(p, set())
            ancestors[var.name] = found
        observed = [n for n, v in self.values.items()
                    if not self.spec.variable(n).dynamic or np.isfinite(v).any()]
        return [n for n in observed if ancestors[n] & latent_statics]

    def posterior_moments(self, names: list[str]) -> tuple[dict, dict]:
        """Per-example posterior means and variances of ``names`` given each example's data
        (Laplace in the unconstrained coordinates, variances by the delta method; exact
        for linear-Gaussian graphs). Valid when :meth:`coupled` is empty."""
        mask = self.observed_mask()
        means = {k: np.empty(self.spec.variable(k).full_shape(self.n_data)) for k in names}
        variances = {k: np.empty_like(v) for k, v in means.items()}
        dynamic = {k: self.spec.variable(k).dynamic for k in names}
        for pattern, rows in self._patterns(mask, self.n_data):
            if not any(m.any() for m in pattern.values()):
                pattern = {}
            program, data, axes, quadratic = self._problem(self.values, pattern, rows)
            if not any(v == 1 for v in axes["values"].values()):
                data = dict(data, values={k: jnp.repeat(v[:, None], len(rows), axis=1)
                                          for k, v in data["values"].items()})
                axes = dict(axes, values={k: 1 for k in data["values"]})
                if not data["values"]:
                    raise _NoData
            fn = _moments_function(program, axes, tuple(names), self.dtype, quadratic)
            with self._precision():
                m, v = fn(data)
            for k in names:
                mk, vk = np.asarray(m[k]), np.asarray(v[k])
                if dynamic[k]:
                    means[k][rows], variances[k][rows] = mk[:, 0], vk[:, 0]
                else:
                    means[k], variances[k] = mk[0], vk[0]
        return means, variances

    def completions(self, mask: dict[str, np.ndarray], seed: int) -> dict[str, np.ndarray]:
        """The data with the entries ``mask`` does not mark drawn from their (Laplace;
        exact for linear-Gaussian graphs) conditional distribution given the marked ones,
        one completion per example: ``{dynamic variable: (n_data, *shape)}``."""
        out = {name: np.array(self.values.get(
            name, np.full(self.spec.variable(name).full_shape(self.n_data), np.nan)))
            for name in self.dynamic}
        key = jax.random.PRNGKey(seed)
        for p, (pattern, rows) in enumerate(self._patterns(mask, self.n_data)):
            if all(pattern.get(name, np.zeros(1, bool)).all() for name in self.dynamic):
                continue  # nothing missing: the example is its own completion
            program, data, axes, quadratic = self._problem(self.values, pattern, rows)
            fn = _completion_function(program, axes, tuple(self.dynamic), self.dtype,
                                      quadratic)
            with self._precision():
                keys = jax.random.split(jax.random.fold_in(key, p), len(rows))
                drawn = fn(data, keys)
            for name in self.dynamic:
                m = pattern.get(name, np.zeros(self.spec.variable(name).shape, bool))
                value = np.asarray(drawn[name]).reshape(len(rows), *m.shape)
                out[name][rows] = np.where(m, out[name][rows], value)
        return out


def prior_draws(graph: NamedObject, n: int, seed: int, dtype: str = "float64",
                statics: bool = False) -> dict[str, np.ndarray]:
    """``n`` independent draws of one example, statics drawn afresh in each:
    ``{variable: (n, *shape)}`` for the dynamic variables (and the static ones if
    ``statics``), vmapped over keys in one jitted program."""
    return clamped_draws(graph, {}, n, seed, dtype, statics=statics)


def clamped_draws(graph: NamedObject, given: dict[str, np.ndarray], n: int, seed: int,
                  dtype: str = "float64", names: tuple[str, ...] | None = None,
                  statics: bool = False) -> dict[str, np.ndarray]:
    """``n`` draws of one example with the variables ``given`` clamped to their values in
    each draw (``{name: (n, *shape)}``; a do-intervention: their descendants are drawn given
    them, their ancestors as before). Returns ``{variable: (n, *shape)}`` for ``names``
    (default: every dynamic variable, and the static ones if ``statics``)."""
    bare, _ = lower(graph, None)
    first = {k: (v[:1] if bare.variable(k).dynamic else v[0]) for k, v in given.items()}
    spec, lowered = lower(graph, first)
    grouped = group(spec)
    program = program_for(grouped)
    if names is None:
        names = tuple(v.name for v in spec.variables if v.dynamic or statics)
    dynamic = {v.name: v.dynamic for v in spec.variables}
    template = group_data(grouped, lowered).values
    batched = {}
    for g in grouped.groups:
        members = [i for i, m in enumerate(g.members) if m in given]
        if g.role == "latent" or not members:
            continue
        # every draw starts from the one-example values; the given members' rows differ
        value = np.repeat(np.asarray(template[g.name], dtype=np.float64)[None], n, axis=0)
        for i in members:
            value[:, i] = given[g.members[i]].reshape(n, *((1,) if g.dynamic else ()),
                                                      *g.shape)
        batched[g.name] = value

    def build():
        def run(keys, data):
            def one(key, data):
                env = program.sample(key, data)
                return {k: (program.variable_value(env, k)[0] if dynamic[k]
                            else program.variable_value(env, k)) for k in names}
            axes = {"values": {k: (0 if k in batched else None) for k in data["values"]},
                    "missing": {k: None for k in data["missing"]},
                    "slots": {k: None for k in data["slots"]},
                    "arrays": {k: None for k in data["arrays"]}}
            return jax.vmap(one, in_axes=(0, axes))(keys, data)
        return jax.jit(run)

    fn = cached_functions(("objectives-clamped", grouped.fingerprint, dtype, names,
                           tuple(sorted(batched))), build)
    with jax.enable_x64(dtype == "float64"):
        float_ = np.float64 if dtype == "float64" else np.float32
        data = program.data_args(group_data(grouped, lowered), float_)
        data = dict(data, values={k: (jnp.asarray(batched[k], dtype=float_) if k in batched
                                      else v) for k, v in data["values"].items()})
        keys = jax.random.split(jax.random.PRNGKey(seed), n)
        out = fn(keys, data)
        return {k: np.asarray(v, dtype=np.float64) for k, v in out.items()}


def _flat_problem(program: Any, data: Any) -> tuple[Any, Any]:
    """Start point (flat unconstrained latents) and unravel function of one example."""
    start = program.unconstrain(program.central_latents(data), data)
    flat, unravel = ravel_pytree(start)
    return flat, unravel


def _newton(f: Any, z: Any, quadratic: bool = False) -> tuple[Any, Any, Any]:
    """Damped Newton ascent on ``f`` from ``z``: the mode, the Hessian there and the
    Cholesky factor of its negative (``NaN`` where it is not positive definite).

    Callers take every factorisation they need from that one factor: two LAPACK calls
    that do not depend on each other may run at once, and on a batch of 10^5 examples
    each then waits for its share of XLA's CPU thread pool held by the other (a deadlock
    seen with jax 0.10 on 2 cores; see docs/decisions.md).

    ``quadratic``: ``f`` is known to be quadratic (a linear-Gaussian problem, see
    :func:`~bayesgraph.core.objectives._linear_gaussian.is_quadratic`); then the one full
    Newton step is the exact mode, taken without the loop (a smaller program to trace and
    compile, the same answer).

    Each step is the best of eight lengths along the Newton direction (where the Hessian is
    not negative definite, along the direction of a shifted one, by a Gershgorin bound); it
    stops when a step gains nothing. A quadratic ``f`` (a linear-Gaussian graph) is solved
    by the first step.
    """
    if z.shape[0] == 0:
        empty = jnp.zeros((0, 0), z.dtype)
        return z, empty, empty
    grad, hess = jax.grad(f), jax.hessian(f)
    if quadratic:
        h = hess(z)
        chol = jnp.linalg.cholesky(-h)
        return z + jax.scipy.linalg.cho_solve((chol, True), grad(z)), h, chol
    lengths = 0.5 ** jnp.arange(8.0)
    eye = jnp.eye(z.shape[0], dtype=z.dtype)

    def step(state):
        i, z, value, g, h, _ = state
        definite = jnp.all(jnp.isfinite(jnp.linalg.cholesky(-h)))
        shift = jnp.max(jnp.sum(jnp.abs(h), axis=1)) * 1.01 + 1e-12
        # the shifted matrix is diagonally dominant, so positive definite: one Cholesky
        # solve either way; the second factorisation reads the first's outcome, so the
        # two never run at once (see above)
        chol = jnp.linalg.cholesky(jnp.where(definite, -h, shift * eye - h))
        direction = jax.scipy.linalg.cho_solve((chol, True), g)
        candidates = z[None] + lengths[:, None] * direction[None]
        values = jax.vmap(f)(candidates)
        values = jnp.where(jnp.isfinite(values), values, -jnp.inf)
        best = jnp.argmax(values)
        better = values[best] > value
        gain = jnp.where(better, values[best] - value, 0.0)
        z = jnp.where(better, candidates[best], z)
        value = jnp.where(better, values[best], value)
        done = gain <= 1e-13 * (1.0 + jnp.abs(value))
        return i + 1, z, value, grad(z), hess(z), done

    def running(state):
        return (state[0] < _NEWTON_STEPS) & ~state[-1]

    start = (0, z, f(z), grad(z), hess(z), False)
    _, z, _, _, h, _ = jax.lax.while_loop(running, step, start)
    return z, h, jnp.linalg.cholesky(-h)


def _evidence_function(program: Any, axes: Any, dtype: str, quadratic: bool = False) -> Any:
    def build():
        def one(data):
            z0, unravel = _flat_problem(program, data)

            def f(z):
                return program.log_density(unravel(z), data, jacobian=True, skip_fixed=False)

            z, _, chol = _newton(f, z0, quadratic)
            k = z.shape[0]
            if k == 0:
                return f(z)
            logdet = 2.0 * jnp.sum(jnp.log(jnp.diagonal(chol)))
            value = f(z) + 0.5 * k * jnp.log(2 * jnp.pi) - 0.5 * logdet
            return jnp.where(jnp.isfinite(logdet), value, jnp.nan)
        return jax.jit(jax.vmap(one, in_axes=(axes,)))

    return cached_functions(("objectives-evidence", program.grouped.fingerprint, dtype,
                             _hashable(axes), quadratic), build)


def _completion_function(program: Any, axes: Any, names: tuple[str, ...], dtype: str,
                         quadratic: bool = False) -> Any:
    def build():
        def one(data, key):
            z0, unravel = _flat_problem(program, data)

            def f(z):
                return program.log_density(unravel(z), data, jacobian=True, skip_fixed=False)

            z, _, chol = _newton(f, z0, quadratic)
            if z.shape[0]:
                eps = jax.random.normal(key, z.shape, z.dtype)
                z = z + jax.scipy.linalg.solve_triangular(chol.T, eps, lower=False)
            env = program.values_at(program.constrain(unravel(z), data), data)
            return {k: program.variable_value(env, k)[0] for k in names}
        return jax.jit(jax.vmap(one, in_axes=(axes, 0)))

    return cached_functions(("objectives-completion", program.grouped.fingerprint, dtype,
                             _hashable(axes), names, quadratic), build)


def _moments_function(program: Any, axes: Any, names: tuple[str, ...], dtype: str,
                      quadratic: bool = False) -> Any:
    def build():
        def one(data):
            z0, unravel = _flat_problem(program, data)

            def f(z):
                return program.log_density(unravel(z), data, jacobian=True, skip_fixed=False)

            def values(z):
                env = program.values_at(program.constrain(unravel(z), data), data)
                return {k: program.variable_value(env, k) for k in names}

            z, _, chol = _newton(f, z0, quadratic)
            means = values(z)
            if z.shape[0] == 0:
                return means, {k: jnp.zeros_like(v) for k, v in means.items()}
            cov = jax.scipy.linalg.cho_solve((chol, True), jnp.eye(z.shape[0], dtype=z.dtype))
            jac = jax.jacfwd(values)(z)
            variances = {k: jnp.einsum("...i,ij,...j->...", j, cov, j) for k, j in jac.items()}
            return means, variances
        return jax.jit(jax.vmap(one, in_axes=(axes,)))

    return cached_functions(("objectives-moments", program.grouped.fingerprint, dtype,
                             _hashable(axes), names, quadratic), build)


def _hashable(axes: Any) -> Any:
    return tuple((part, tuple(sorted(v.items()))) for part, v in sorted(axes.items()))


def check_names(spec: Any, names: list[str], what: str) -> None:
    """Refuse names that are not variables of ``spec`` (a DataError naming them)."""
    for name in names:
        if name not in spec:
            raise DataError(f"{what}: {name!r} is not a variable of {spec.root_name!r}")


class _ClampEmitter(SampleEmitter):
    """Ancestral draws with some members of some sites *set* (a do-intervention as data):
    ``flags[site]`` (bool, the site's shape) marks the entries replaced by
    ``given[site]``; their descendants are drawn given them, as in
    :func:`clamped_draws`, but the program is the same whatever is clamped."""

    def __init__(self, key: Any, given: dict[str, Any], flags: dict[str, Any]) -> None:
        super().__init__(key)
        self.given, self.flags = given, flags

    def draw(self, site: Any, d: Any, rows: Any, level: Any) -> Any:
        value = super().draw(site, d, rows, level)
        if site.name in self.flags and rows is None:
            value = jnp.where(self.flags[site.name], self.given[site.name].astype(value.dtype),
                              value)
        return value


class ClampSampler:
    """One jitted program for ``n`` draws of one example with any set of variables clamped
    (see :class:`_ClampEmitter`): what is clamped is data (flags), so every intervention
    of :class:`~bayesgraph.core.objectives.InfluenceEstimator` shares one compilation.

    ``supports(names)`` says whether the variables can be clamped this way (latent sites
    outside blocks; a Dirac variable cannot).

    Examples
    --------
    >>> from bayesgraph.core import Graph, Variable
    >>> from bayesgraph.core.objectives._engine import ClampSampler
    >>> with Graph("g") as g:
    ...     a = Variable("a", mean=0, variance=1)
    ...     b = Variable("b", mean=a, variance=1e-12)
    >>> s = ClampSampler(g, 3, seed=0)
    >>> free = s.draw({}, ("g/a", "g/b"), 0)
    >>> clamped = s.draw({"g/a": free["g/a"] + 1}, ("g/b",), 1)
    >>> bool(abs(clamped["g/b"] - free["g/a"] - 1).max() < 1e-4)
    True
    """

    def __init__(self, graph: NamedObject, n: int, seed: int, dtype: str = "float64") -> None:
        spec, lowered = lower(graph, None)
        self.grouped = group(spec)
        self.program = program_for(self.grouped)
        self.n, self.seed, self.dtype = n, seed, dtype
        self.dynamic = {v.name: v.dynamic for v in spec.variables}
        self._sites = {s.group: s for s in self.program.latent_sites}
        in_blocks = {g for b in self.grouped.blocks for g in b.groups}
        self._clampable = {}
        for v in spec.variables:
            gi, member = self.grouped.locate(v.name)
            site = self._sites.get(gi)
            if site is not None and not site.partial and gi not in in_blocks:
                self._clampable[v.name] = (site, member)
        with jax.enable_x64(dtype == "float64"):
            self._data = self.program.data_args(group_data(self.grouped, lowered),
                                                np.float64 if dtype == "float64"
                                                else np.float32)

    def supports(self, names: Any) -> bool:
        return all(n in self._clampable for n in names)

    def draw(self, given: dict[str, np.ndarray], names: tuple[str, ...], stream: int
             ) -> dict[str, np.ndarray]:
        """``{name: (n, *shape)}`` of ``names`` over ``n`` draws with ``given``
        (``{variable: (n, *shape)}``) clamped; ``stream`` picks the random numbers."""
        program, sites = self.program, {s.name: s for s in self._sites.values()}
        site_given = {name: np.zeros((self.n, *s.shape)) for name, s in sites.items()}
        flags = {name: np.zeros(s.shape, bool) for name, s in sites.items()}
        for var, value in given.items():
            site, member = self._clampable[var]
            site_given[site.name][:, member] = np.reshape(
                value, (self.n, *site_given[site.name].shape[2:]))
            flags[site.name][member] = True
        dynamic = self.dynamic

        def build():
            def run(key, site_given, flags, data):
                def one(i, given):
                    env = program.execute(data, _ClampEmitter(jax.random.fold_in(key, i),
                                                              given, flags))
                    return {k: (program.variable_value(env, k)[0] if dynamic[k]
                                else program.variable_value(env, k)) for k in names}
                return jax.vmap(one)(jnp.arange(self.n), site_given)
            return jax.jit(run)

        fn = cached_functions(("objectives-clamp", self.grouped.fingerprint, self.dtype,
                               names, self.n), build)
        with jax.enable_x64(self.dtype == "float64"):
            key = jax.random.fold_in(jax.random.PRNGKey(self.seed), stream)
            out = fn(key, site_given, flags, self._data)
            return {k: np.asarray(v, dtype=np.float64) for k, v in out.items()}
