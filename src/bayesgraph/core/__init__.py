"""bayesgraph.core: the modelling language and, lazily, the models.

Importing this module (and building graphs) never imports JAX or numpyro; the model classes
and factories (``get_posterior_model``, ``get_generative_model``) load them on first use.

Examples
--------
>>> from bayesgraph.core import Graph, Entity, Variable, StaticVariable
>>> with Graph("g") as g:
...     with Entity("e"):
...         _ = Variable("a", mean=0, variance=2)
>>> g.e.a.global_name
'g/e/a'
"""

from __future__ import annotations

from typing import Any

from bayesgraph.core import distribution, operator
from bayesgraph.core.data import DataLinker, get_data_linker
from bayesgraph.core.entity import Entity
from bayesgraph.core.graph import Graph, Inputs, Link, Outputs, link
from bayesgraph.core.operator.functions import *  # noqa: F403
from bayesgraph.core.operator.functions import __all__ as _functions
from bayesgraph.core.operator.operators import TimeShift
from bayesgraph.core.operator.time import TimeIndex
from bayesgraph.core.template import Template, copy_object
from bayesgraph.core.utilities.print import print_child_tree, render_text, show
from bayesgraph.core.variable import StaticVariable, Variable, VariableBase

_LAZY = {
    "get_posterior_model": "bayesgraph.core.model",
    "get_generative_model": "bayesgraph.core.model",
    "model": "bayesgraph.core.model",
    "Trainer": "bayesgraph.core.model",
    "objectives": "bayesgraph.core.objectives",
    **{name: "bayesgraph.core.objectives" for name in (
        "Predictor", "Evaluator", "ProbabilityEstimator", "RankEstimator", "OutlierDetector",
        "InfluenceEstimator", "InterventionPredictor")},
}

__all__ = [  # the model factories resolve lazily through __getattr__
    "Graph", "Entity", "Variable", "StaticVariable", "VariableBase", "Inputs", "Outputs",
    "Link", "link",
    "Template", "copy_object", "show", "render_text", "print_child_tree", "DataLinker",
    "get_data_linker", "get_posterior_model", "get_generative_model", "distribution",  # noqa: F405
    "operator", "TimeIndex", "TimeShift", "Trainer", "Predictor", "Evaluator",  # noqa: F405
    "ProbabilityEstimator", "RankEstimator", "OutlierDetector", "InfluenceEstimator",  # noqa: F405
    "InterventionPredictor", *_functions,  # noqa: F405
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        module = importlib.import_module(_LAZY[name])
        return module if name in ("model", "objectives") else getattr(module, name)
    raise AttributeError(f"module 'bayesgraph.core' has no attribute {name!r}")
