"""Utilities (printing).

Examples
--------
>>> from bayesgraph.core.utilities import print_child_tree
>>> callable(print_child_tree)
True
"""

from bayesgraph.core.utilities.print import print_child_tree, render_text, show

__all__ = ["print_child_tree", "render_text", "show"]
