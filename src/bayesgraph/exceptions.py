"""The bayesgraph exception hierarchy.

Every error that bayesgraph raises on purpose derives from :class:`BayesGraphError` and also
from the builtin exception that matches its meaning, so both ``except BayesGraphError`` and
``except ValueError`` (or ``KeyError``, ``TypeError``, ``RuntimeError``) catch it.

Messages name the variable concerned (by its global name, e.g. ``family/alice/height``), say
what is valid and suggest the fix.

Examples
--------
>>> from bayesgraph.exceptions import BayesGraphError, DataError
>>> try:
...     raise DataError("data for 'g/x' has shape (3, 2); expected (n_data,) = (3,)")
... except ValueError as err:
...     print(type(err).__name__, isinstance(err, BayesGraphError))
DataError True
"""

from __future__ import annotations

__all__ = [
    "BayesGraphError",
    "GraphStructureError",
    "DuplicateNameError",
    "ScopeError",
    "CyclicGraphError",
    "LinkError",
    "DependencyError",
    "CyclicDependencyError",
    "ShapeError",
    "DistributionError",
    "UnknownDistributionError",
    "UnknownParameterError",
    "ConstraintError",
    "ExpressionError",
    "InvalidParameterError",
    "ImproperPosteriorError",
    "ResourceError",
    "OptionalDependencyError",
    "ApproximationWarning",
    "BoundaryWarning",
    "DtypeError",
    "DataError",
    "MissingVariableError",
    "DiscreteLatentError",
    "NotSolvedError",
    "ConvergenceError",
    "OptionError",
    "ConvergenceWarning",
    "BayesGraphWarning",
    "NameInjectionWarning",
    "MissingDataWarning",
    "SpecificationError",
]


class BayesGraphError(Exception):
    """Base class of all errors raised by bayesgraph on purpose.

    Examples
    --------
    >>> issubclass(NotSolvedError, BayesGraphError)
    True
    """


class GraphStructureError(BayesGraphError, ValueError):
    """The graph's structure is invalid (containment, references outside the graph, ...).

    Examples
    --------
    >>> issubclass(GraphStructureError, ValueError)
    True
    """


class DuplicateNameError(GraphStructureError):
    """Two children of the same scope have the same name.

    Examples
    --------
    >>> issubclass(DuplicateNameError, GraphStructureError)
    True
    """


class ScopeError(GraphStructureError):
    """An object was created in a scope that may not contain it (e.g. a Graph in an Entity).

    Examples
    --------
    >>> issubclass(ScopeError, GraphStructureError)
    True
    """


class CyclicGraphError(GraphStructureError):
    """The variables' dependencies form a cycle.

    Examples
    --------
    >>> issubclass(CyclicGraphError, ValueError)
    True
    """


class LinkError(GraphStructureError):
    """A link that cannot be made or used: mismatched ends, two sources, a cycle.

    Examples
    --------
    >>> from bayesgraph.core import Variable, StaticVariable, link
    >>> from bayesgraph.core import Graph
    >>> with Graph("g") as g:
    ...     link(StaticVariable("a"), Variable("b"))
    Traceback (most recent call last):
    ...
    bayesgraph.exceptions.LinkError: cannot link 'g/a' to 'g/b': their kinds differ ...
    """


class DependencyError(GraphStructureError):
    """A causal-structure dependency that cannot be read (a name that is not a string, a
    malformed entry).

    Examples
    --------
    >>> issubclass(DependencyError, ValueError)
    True
    """


class CyclicDependencyError(DependencyError, CyclicGraphError):
    """Dependencies of a causal structure that form a cycle (also re-exported as
    ``bayesgraph.causal_structure.CyclicDependencyError``).

    Examples
    --------
    >>> from bayesgraph.causal_structure import Dependency
    >>> Dependency("a", "a")
    Traceback (most recent call last):
    ...
    bayesgraph.exceptions.CyclicDependencyError: Cyclic dependency detected for 'a'.
    """


class ShapeError(BayesGraphError, ValueError):
    """Shapes of a parameter, an expression or a variable do not fit together.

    Examples
    --------
    >>> issubclass(ShapeError, ValueError)
    True
    """


class DistributionError(BayesGraphError, ValueError):
    """A distribution is misconfigured (bad parameter value, e.g. a negative variance).

    Examples
    --------
    >>> issubclass(DistributionError, ValueError)
    True
    """


class UnknownDistributionError(DistributionError, KeyError):
    """A distribution name is not one of bayesgraph's distributions.

    Examples
    --------
    >>> issubclass(UnknownDistributionError, KeyError)
    True
    """

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0]) if self.args else ""


class ConstraintError(DistributionError):
    """A ``lower=``/``upper=``/``constraint=`` that is invalid or that the variable's
    distribution cannot take.

    Examples
    --------
    >>> issubclass(ConstraintError, ValueError)
    True
    """


class InvalidParameterError(DistributionError):
    """A distribution parameter outside its valid range where the prior puts its centre (a
    negative variance expression, a probability above 1); raised by every model class.

    Examples
    --------
    >>> issubclass(InvalidParameterError, ValueError)
    True
    """


class ImproperPosteriorError(BayesGraphError, ValueError):
    """A variable with a flat prior that no data inform: its posterior is improper.

    Examples
    --------
    >>> issubclass(ImproperPosteriorError, ValueError)
    True
    """


class UnknownParameterError(DistributionError, AttributeError):
    """A distribution parameter name is not valid for the variable's distribution.

    Examples
    --------
    >>> issubclass(UnknownParameterError, AttributeError)
    True
    """


class ExpressionError(BayesGraphError, TypeError):
    """Something that cannot take part in an expression (a string, an object array), or a
    question about an expression that has no answer before the model runs (``bool(x)``), or
    a model request of the wrong kind.

    Examples
    --------
    >>> issubclass(ExpressionError, TypeError)
    True
    """


class DtypeError(BayesGraphError, TypeError):
    """A dtype is not allowed for a distribution, or data do not fit a variable's dtype.

    Examples
    --------
    >>> issubclass(DtypeError, TypeError)
    True
    """


class DataError(BayesGraphError, ValueError):
    """Data are invalid: wrong shape, inconsistent number of examples, non-numeric, infinite.

    Examples
    --------
    >>> issubclass(DataError, ValueError)
    True
    """


class MissingVariableError(DataError, KeyError):
    """Data (or a request) names a variable that is not part of the graph.

    Examples
    --------
    >>> issubclass(MissingVariableError, KeyError)
    True
    """

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class DiscreteLatentError(BayesGraphError, TypeError):
    """An inference method cannot handle a discrete variable that is not fully observed.

    Examples
    --------
    >>> issubclass(DiscreteLatentError, TypeError)
    True
    """


class NotSolvedError(BayesGraphError, RuntimeError):
    """Results were asked for before ``solve()`` was called.

    Examples
    --------
    >>> issubclass(NotSolvedError, RuntimeError)
    True
    """


class ConvergenceError(BayesGraphError, RuntimeError):
    """An optimisation failed (non-finite objective or gradient).

    Examples
    --------
    >>> issubclass(ConvergenceError, RuntimeError)
    True
    """


class SpecificationError(BayesGraphError, ValueError):
    """A graph file (or string, or dict) that cannot be read, or a graph that cannot be written.

    ``pointer`` is the JSON pointer (RFC 6901) of the offending place in the file, e.g.
    ``'/root/children/2/parameters/mean'`` (``''`` is the whole document; ``None`` when the
    text is not JSON at all, in which case the message gives the line and column).

    Examples
    --------
    >>> err = SpecificationError("bad version", pointer="/version")
    >>> isinstance(err, ValueError), err.pointer
    (True, '/version')
    """

    def __init__(self, message: str, pointer: str | None = None) -> None:
        super().__init__(message)
        self.pointer = pointer


class OptionError(BayesGraphError, ValueError):
    """An invalid option of a model class (an unknown guide, a non-positive step count).

    Examples
    --------
    >>> issubclass(OptionError, ValueError)
    True
    """


class ResourceError(BayesGraphError, MemoryError):
    """A request that needs more memory (or time) than this machine has; the message gives
    the estimate and the fix.

    Examples
    --------
    >>> issubclass(ResourceError, MemoryError)
    True
    """


class OptionalDependencyError(BayesGraphError, ImportError):
    """An optional dependency (pandas for ``bayesgraph.causal_structure``) is not installed;
    the message gives the ``pip install`` command.

    Examples
    --------
    >>> issubclass(OptionalDependencyError, ImportError)
    True
    """


class BayesGraphWarning(UserWarning):
    """Base class of bayesgraph's warnings.

    Examples
    --------
    >>> issubclass(ConvergenceWarning, BayesGraphWarning)
    True
    """


class NameInjectionWarning(BayesGraphWarning):
    """Name injection kept a name that holds your own value (an array, a function argument)
    instead of binding it to a bayesgraph object; the message says how to reach the object.

    Examples
    --------
    >>> issubclass(NameInjectionWarning, UserWarning)
    True
    """


class MissingDataWarning(BayesGraphWarning):
    """Data given for a variable are all missing (NaN): the variable is treated as unobserved.

    Examples
    --------
    >>> issubclass(MissingDataWarning, BayesGraphWarning)
    True
    """


class ConvergenceWarning(BayesGraphWarning):
    """An optimisation stopped before its convergence criterion was met.

    Examples
    --------
    >>> issubclass(ConvergenceWarning, UserWarning)
    True
    """


class ApproximationWarning(BayesGraphWarning):
    """A fitted approximation (ADVI's Gaussian) does not cover the posterior: its Pareto
    k-hat is above 0.7, so its means and sds cannot be trusted, even though it converged.

    Examples
    --------
    >>> issubclass(ApproximationWarning, UserWarning)
    True
    """


class BoundaryWarning(ConvergenceWarning):
    """A mode (MAP, MAP-Fisher) on the boundary of a variable's support, where the Laplace
    approximation is not valid.

    Examples
    --------
    >>> issubclass(BoundaryWarning, ConvergenceWarning)
    True
    """
