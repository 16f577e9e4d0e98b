"""Utilities: text renderings and pictures of graphs.

Examples
--------
>>> from bayesgraph.core.utilities import print_child_tree, picture
>>> callable(print_child_tree), callable(picture)
(True, True)
"""

from bayesgraph.core.utilities.pictures import Picture, picture
from bayesgraph.core.utilities.print import print_child_tree, render_text, show

__all__ = ["Picture", "picture", "print_child_tree", "render_text", "show"]
