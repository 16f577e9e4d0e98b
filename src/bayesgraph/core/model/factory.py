"""Factories: :func:`get_posterior_model` and :func:`get_generative_model`.

Examples
--------
>>> from bayesgraph.core import Graph, Variable
>>> from bayesgraph.core.model import get_posterior_model
>>> with Graph("g") as g:
...     _ = Variable("x")
>>> type(get_posterior_model(g, method="MAP")).__name__
'MAPModel'
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bayesgraph.core.model.advi import ADVIModel
from bayesgraph.core.model.base import ModelBase
from bayesgraph.core.model.forward import ForwardModel
from bayesgraph.core.model.map import MAPModel
from bayesgraph.core.model.map_fisher import MAPFisherModel
from bayesgraph.core.model.mcmc import MCMCModel
from bayesgraph.core.model.mgvi import MGVIModel
from bayesgraph.core.scope import NamedObject
from bayesgraph.exceptions import OptionError

#: method name -> model class; later inference families register here
METHODS: dict[str, type[ModelBase]] = {
    "Forward": ForwardModel,
    "MAP": MAPModel,
    "MAPFisher": MAPFisherModel,
    "ADVI": ADVIModel,
    "MGVI": MGVIModel,
    "MCMC": MCMCModel,
}


def get_posterior_model(graph: NamedObject, data: Mapping | None = None,
                        method: str = "MAPFisher", **kwargs: Any) -> ModelBase:
    """Build an (unsolved) posterior model of ``graph`` given ``data``.

    Parameters
    ----------
    graph : Graph, Entity or Variable
        The model's structure.
    data : dict or DataLinker, optional
        Observed values (``NaN`` = missing).
    method : str
        One of :data:`METHODS`: ``'Forward'``, ``'MAP'``, ``'MAPFisher'`` (default, as in
        Halerium), ``'ADVI'``, ``'MGVI'``, ``'MCMC'`` (NUTS; an extension of Halerium).
    **kwargs
        Passed to the model class.

    Examples
    --------
    >>> from bayesgraph.core import Graph, Variable
    >>> from bayesgraph.core.model import get_posterior_model
    >>> with Graph("g") as g:
    ...     _ = Variable("x")
    >>> get_posterior_model(g, method="Gibbs")
    Traceback (most recent call last):
    ...
    bayesgraph.exceptions.OptionError: unknown method 'Gibbs'; valid: 'Forward', 'MAP', ...
    """
    if method not in METHODS:
        valid = ", ".join(repr(m) for m in METHODS)
        raise OptionError(f"unknown method {method!r}; valid: {valid}")
    return METHODS[method](graph, data, **kwargs)


def get_generative_model(graph: NamedObject, data: Mapping | None = None,
                         **kwargs: Any) -> ForwardModel:
    """Build the generative (prior, forward-sampling) model of ``graph``.

    Examples
    --------
    >>> from bayesgraph.core import Graph, Variable, DataLinker
    >>> from bayesgraph.core.model import get_generative_model
    >>> with Graph("g") as g:
    ...     _ = Variable("x")
    >>> get_generative_model(g, data=DataLinker(n_data=7), seed=0).get_example(g.x).shape
    (7,)
    """
    return ForwardModel(graph, data, **kwargs)
