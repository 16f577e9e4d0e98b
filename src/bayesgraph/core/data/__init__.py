"""Data containers.

Examples
--------
>>> from bayesgraph.core.data import DataLinker
>>> DataLinker(n_data=3).n_data
3
"""

from bayesgraph.core.data.data_linker import DataLinker, get_data_linker

__all__ = ["DataLinker", "get_data_linker"]
