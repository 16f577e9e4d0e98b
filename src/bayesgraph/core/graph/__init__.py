"""Graphs.

Examples
--------
>>> from bayesgraph.core.graph import Graph
>>> Graph("g").name
'g'
"""

from bayesgraph.core.graph.graph import Graph, Inputs, Outputs
from bayesgraph.core.linking import Link, link

__all__ = ["Graph", "Inputs", "Outputs", "Link", "link"]
