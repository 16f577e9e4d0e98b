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

from bayesgraph import exceptions
from bayesgraph.core.scope import name_injection_enabled, no_name_injection, set_name_injection

try:
    __version__ = version("bayesgraph")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0+unknown"

__all__ = ["__version__", "exceptions", "set_name_injection", "no_name_injection",
           "name_injection_enabled", "CausalStructure"]

_LAZY = {"CausalStructure": "bayesgraph.causal_structure",
         "causal_structure": "bayesgraph.causal_structure"}


def __getattr__(name: str):
    if name in _LAZY:  # loaded on first use: importing bayesgraph stays light
        import importlib

        module = importlib.import_module(_LAZY[name])
        return module if name == "causal_structure" else getattr(module, name)
    raise AttributeError(f"module 'bayesgraph' has no attribute {name!r}")
