"""bayesgraph: Bayesian networks written as graphs of entities and variables.

The API follows Halerium's: code written for ``halerium`` runs with ``bayesgraph`` in its
imports. Graphs compile to numpyro programs; inference runs on JAX.

Examples
--------
>>> import bayesgraph
>>> from bayesgraph.core import Graph, Variable
>>> isinstance(bayesgraph.__version__, str)
True
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import Any

from bayesgraph import exceptions
from bayesgraph.core.scope import name_injection_enabled, no_name_injection, set_name_injection

try:
    __version__ = version("bayesgraph")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0+unknown"

#: the objectives, the Trainer and CausalStructure load JAX (or pandas), so they resolve
#: lazily (``import bayesgraph`` and the modelling language never import them)
_LAZY = {name: "bayesgraph.core.objectives" for name in (
    "Predictor", "Evaluator", "ProbabilityEstimator", "RankEstimator", "OutlierDetector",
    "InfluenceEstimator", "InterventionPredictor")}
_LAZY["Trainer"] = "bayesgraph.core.model"
_LAZY["CausalStructure"] = "bayesgraph.causal_structure"
_LAZY["causal_structure"] = "bayesgraph.causal_structure"

__all__ = ["__version__", "exceptions", "set_name_injection", "no_name_injection",  # noqa: F822
           "name_injection_enabled", *_LAZY]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        module = importlib.import_module(_LAZY[name])
        return module if name == "causal_structure" else getattr(module, name)
    raise AttributeError(f"module 'bayesgraph' has no attribute {name!r}")
