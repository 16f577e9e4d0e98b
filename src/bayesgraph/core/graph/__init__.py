"""Graphs.

Examples
--------
>>> from bayesgraph.core.graph import Graph
>>> Graph("g").name
'g'
"""

from bayesgraph.core.graph.graph import Graph, Inputs, Outputs

__all__ = ["Graph", "Inputs", "Outputs"]
