"""Entities.

Examples
--------
>>> from bayesgraph.core.entity import Entity
>>> Entity("e").name
'e'
"""

from bayesgraph.core.entity.entity import Entity

__all__ = ["Entity"]
