"""The base class of distributions: a distribution is data, not code.

A distribution has a name, named parameters (some of them mutually exclusive alternatives,
e.g. Bernoulli's ``mean`` or ``logit``), defaults, allowed dtypes and a support. The compiler
maps each distribution name to a numpyro class and translates the parameters (variance to
scale, center/width to low/high); nothing here knows numpyro.

Examples
--------
>>> from bayesgraph.core.distribution import NormalDistribution
>>> d = NormalDistribution(mean=1.0)
>>> sorted(d.get_parameters())
['mean', 'variance']
>>> float(d.get_parameters()["variance"])
1.0
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import numpy as np

from bayesgraph.exceptions import DistributionError, UnknownParameterError

#: ``{distribution class: (its parameter_groups, the names in them)}``, asked at every
#: parameter assignment
_PARAMETER_NAMES: dict[type, tuple[Any, tuple[str, ...]]] = {}


class DistributionBase:
    """Common base of every distribution.

    Parameters
    ----------
    **parameters
        Initial parameter values: constants (numbers, lists, arrays) or expressions of
        variables. Unset parameters take the class defaults.

    Examples
    --------
    >>> from bayesgraph.core.distribution import BernoulliDistribution
    >>> d = BernoulliDistribution(logit=0.3)
    >>> list(d.get_parameters())
    ['logit']
    """

    #: the parameters; each group lists mutually exclusive alternatives, first is the default.
    parameter_groups: ClassVar[tuple[tuple[str, ...], ...]] = ()
    #: default values of parameters that have one
    defaults: ClassVar[dict[str, Any]] = {}
    #: dtypes a variable with this distribution may have; the first is the default
    dtypes: ClassVar[tuple[str, ...]] = ("float",)
    #: True for distributions over integers or booleans
    discrete: ClassVar[bool] = False
    #: parameters that must be strictly positive
    positive: ClassVar[tuple[str, ...]] = ()
    #: parameters that must lie in [0, 1]
    unit_interval: ClassVar[tuple[str, ...]] = ()
    #: parameters that must lie on the simplex along their last axis (probabilities)
    simplex: ClassVar[tuple[str, ...]] = ()
    #: parameters that must be >= 0 (Binomial's total_count)
    nonnegative: ClassVar[tuple[str, ...]] = ()
    #: parameters that must be whole numbers (Binomial's total_count)
    integer: ClassVar[tuple[str, ...]] = ()
    #: parameters that must increase along their last axis (OrderedLogistic's cut points)
    increasing: ClassVar[tuple[str, ...]] = ()
    #: support 'categories': the number of categories is the last axis of the first 'free'
    #: parameter plus this (K - 1 cut points: 1)
    extra_categories: ClassVar[int] = 0
    #: parameter groups that may stay unset (TruncatedNormal's lower and upper)
    optional: ClassVar[tuple[str, ...]] = ()
    #: number of trailing axes of the variable's shape that form one draw (a vector
    #: distribution such as Dirichlet or MultivariateNormal: 1; LKJCholesky: 2)
    event_dims: ClassVar[int] = 0
    #: per parameter, the shape of its value for one draw: absent = one value per draw,
    #: ``'event'`` = the draw's shape (a mean vector), ``'square'`` = the draw's length twice
    #: (a covariance matrix), ``'free'`` = one extra axis of any length (category weights)
    parameter_kinds: ClassVar[dict[str, str]] = {}
    #: the set of values: 'real', 'positive' (> 0), 'nonnegative' (>= 0), 'unit_interval'
    #: ((0, 1)), 'interval' (given by :attr:`support_parameters`), 'boolean',
    #: 'nonnegative_integer', 'bounded_integer' (``0 .. total_count``), 'categories'
    #: (``0 .. K-1``, K from the parameter's last axis), 'simplex' (positive, summing to 1
    #: along the last axis), 'corr_cholesky' (Cholesky factors of correlation matrices) or
    #: 'deterministic' (Dirac: no density)
    support: ClassVar[str] = "real"
    #: parameters the support depends on (Uniform: center and width); empty for fixed supports
    support_parameters: ClassVar[tuple[str, ...]] = ()
    #: True for the improper flat prior (NoDistribution)
    improper: ClassVar[bool] = False
    #: whether a variable with this prior may take ``lower=``/``upper=`` bounds (the prior is
    #: then truncated and renormalised); NoDistribution takes any bounds
    truncatable: ClassVar[bool] = False

    @classmethod
    def parameter_draw_shape(cls, name: str, value_shape: tuple[int, ...],
                             parameter_shape: tuple[int, ...]) -> tuple[int, ...] | None:
        """The trailing shape parameter ``name`` has for one draw of a value of ``value_shape``.

        Returns ``None`` when ``parameter_shape`` has too few axes for it.

        Examples
        --------
        >>> from bayesgraph.core.distribution import MultivariateNormalDistribution as MVN
        >>> MVN.parameter_draw_shape("covariance", (3,), (3, 3))
        (3, 3)
        >>> MVN.parameter_draw_shape("mean", (3,), ())
        (3,)
        """
        kind = cls.parameter_kinds.get(name)
        event = value_shape[len(value_shape) - cls.event_dims:] if cls.event_dims else ()
        if kind == "event":
            return event
        if kind == "square":
            return (*event, *event)
        if kind == "free":
            return parameter_shape[-1:] if parameter_shape else None
        return ()

    @classmethod
    def category_count(cls, shapes: dict[str, tuple[int, ...]]) -> int | None:
        """The number of categories (support 'categories') from the parameters' shapes, or
        ``None`` when it cannot be told (no 'free' parameter with an axis).

        Examples
        --------
        >>> from bayesgraph.core.distribution import CategoricalDistribution
        >>> CategoricalDistribution.category_count({"probabilities": (5, 3)})
        3
        """
        for name, shape in shapes.items():
            if cls.parameter_kinds.get(name) == "free" and shape:
                return int(shape[-1]) + cls.extra_categories
        return None

    @classmethod
    def parameter_shape(cls, name: str, value_shape: tuple[int, ...],
                        parameter_shape: tuple[int, ...]) -> tuple[int, ...] | None:
        """The full per-example shape parameter ``name`` must broadcast to (``None``: too few
        axes).

        Examples
        --------
        >>> from bayesgraph.core.distribution import CategoricalDistribution as C
        >>> C.parameter_shape("probabilities", (2,), (3,))
        (2, 3)
        """
        draw = cls.parameter_draw_shape(name, value_shape, parameter_shape)
        if draw is None:
            return None
        return (*value_shape[:len(value_shape) - cls.event_dims], *draw)

    def __init__(self, **parameters: Any) -> None:
        self._values: dict[str, Any] = {}
        self._owner_name = "?"
        for name, value in parameters.items():
            self.set_parameter(name, value)

    # -- parameter handling --------------------------------------------------------------
    @classmethod
    def parameter_names(cls) -> tuple[str, ...]:
        """All parameter names of this distribution.

        Examples
        --------
        >>> from bayesgraph.core.distribution import ExponentialDistribution
        >>> ExponentialDistribution.parameter_names()
        ('mean', 'log_mean', 'rate')
        """
        names = _PARAMETER_NAMES.get(cls)
        if names is None or names[0] is not cls.parameter_groups:  # groups may be replaced
            names = (cls.parameter_groups,
                     tuple(name for group in cls.parameter_groups for name in group))
            _PARAMETER_NAMES[cls] = names
        return names[1]

    def _group_of(self, name: str) -> tuple[str, ...]:
        for group in self.parameter_groups:
            if name in group:
                return group
        valid = ", ".join(self.parameter_names()) or "none"
        raise UnknownParameterError(
            f"{type(self).__name__} of {self._owner_name!r} has no parameter {name!r}; "
            f"valid parameters: {valid}"
        )

    def set_parameter(self, name: str, value: Any) -> None:
        """Set a parameter; setting one of several alternatives clears the others.

        Examples
        --------
        >>> from bayesgraph.core.distribution import PoissonDistribution
        >>> d = PoissonDistribution(mean=2.0)
        >>> d.set_parameter("log_mean", 0.0)
        >>> list(d.get_parameters())
        ['log_mean']
        """
        from bayesgraph.core.operator.operators import as_node

        group = self._group_of(name)
        node = as_node(value)
        if isinstance(node, np.ndarray):
            node = self._check_constant(name, node)
        for other in group:
            self._values.pop(other, None)
        self._values[name] = node

    def _check_constant(self, name: str, value: np.ndarray) -> np.ndarray:
        if value.dtype.kind not in "biuf":
            raise DistributionError(
                f"parameter {name!r} of {self._owner_name!r} must be numeric, got {value!r}"
            )
        value = value.astype(np.float64)
        if value.ndim == 0 and name not in self.simplex:
            x = float(value)  # a scalar (the common case): the checks below without numpy
            if (math.isfinite(x) and not (name in self.positive and x <= 0)
                    and not (name in self.unit_interval and not 0 <= x <= 1)
                    and not (name in self.nonnegative and x < 0)
                    and not (name in self.integer and x != round(x))):
                return value
        where = f"parameter {name!r} of {self._owner_name!r} ({type(self).__name__})"
        if not np.all(np.isfinite(value)):
            raise DistributionError(f"{where} must be finite, got {value}")
        if name in self.positive and np.any(value <= 0):
            raise DistributionError(
                f"{where} must be > 0, got {value}; {name} is a positive parameter"
            )
        if name in self.unit_interval and np.any((value < 0) | (value > 1)):
            raise DistributionError(f"{where} must lie in [0, 1], got {value}")
        if name in self.nonnegative and np.any(value < 0):
            raise DistributionError(f"{where} must be >= 0, got {value}")
        if name in self.integer and np.any(value != np.round(value)):
            raise DistributionError(f"{where} must be a whole number, got {value}")
        if name in self.increasing and value.ndim and np.any(np.diff(value, axis=-1) <= 0):
            raise DistributionError(
                f"{where} must increase along the last axis, got {value}; give ordered "
                "cut points (a variable with constraint='ordered' for unknown ones)")
        if name in self.simplex and (np.any(value < 0) or not np.allclose(
                value.sum(axis=-1), 1.0, rtol=1e-8, atol=1e-10)):
            raise DistributionError(
                f"{where} must be >= 0 and sum to 1 along the last axis, got {value}")
        return value

    def get_parameters(self) -> dict[str, Any]:
        """The active parameter of every group: the one set, else the default.

        Examples
        --------
        >>> from bayesgraph.core.distribution import UniformDistribution
        >>> {k: float(v) for k, v in UniformDistribution(center=2.0).get_parameters().items()}
        {'center': 2.0, 'width': 1.0}
        """
        active: dict[str, Any] = {}
        for group in self.parameter_groups:
            chosen = [name for name in group if name in self._values]
            if chosen:
                active[chosen[0]] = self._values[chosen[0]]
            elif group[0] in self.defaults:
                active[group[0]] = np.asarray(self.defaults[group[0]], dtype=np.float64)
        return active

    def is_set(self, name: str) -> bool:
        """Whether ``name`` was given explicitly (rather than taken from the defaults).

        Examples
        --------
        >>> from bayesgraph.core.distribution import NormalDistribution
        >>> NormalDistribution(mean=1).is_set("variance")
        False
        """
        return name in self._values

    def copy(self) -> DistributionBase:
        """A copy with the same parameter values (expressions are shared, not copied).

        Examples
        --------
        >>> from bayesgraph.core.distribution import NormalDistribution
        >>> NormalDistribution(mean=3.0).copy().get_parameters()["mean"].item()
        3.0
        """
        new = type(self).__new__(type(self))
        new._values = dict(self._values)
        new._owner_name = self._owner_name
        return new

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(self.parameter_names())})"
