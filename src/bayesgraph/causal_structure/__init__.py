"""bayesgraph.causal_structure: Halerium's high-level workflow on DataFrames.

Write which columns cause which (:class:`Dependency`, :class:`Dependencies`), then train a
:class:`CausalStructure` on a DataFrame and predict, evaluate, find outliers and estimate
influences. pandas is needed for DataFrames: ``pip install bayesgraph[causal]``.

Examples
--------
>>> from bayesgraph.causal_structure import CausalStructure, Dependency, Dependencies
>>> Dependency(features="a", targets="b")
Dependency(features={'a'}, targets={'b'})
>>> Dependencies([["a", "b"], ["b", "c"]])
Dependencies([[{'a'}, 'b'], [{'b'}, 'c']])
"""

from bayesgraph.causal_structure.dependencies import Dependencies, Dependency
from bayesgraph.causal_structure.structure import CausalStructure
from bayesgraph.exceptions import CyclicDependencyError

__all__ = ["Dependency", "Dependencies", "CausalStructure", "CyclicDependencyError"]
