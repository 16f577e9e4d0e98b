"""The compiler: the only package that knows numpyro sample sites.

It builds a :class:`~bayesgraph.core.compiler.program.Program` from a frozen, grouped
:class:`~bayesgraph.core.lowering.GroupedSpec`. See ``README.md`` in this folder for the
invariants (site names, shapes, missing values).

Examples
--------
>>> from bayesgraph.core import Variable
>>> from bayesgraph.core.lowering import lower
>>> from bayesgraph.core.compiler import compile_spec
>>> program = compile_spec(lower(Variable("v"))[0])
>>> [s.name for s in program.latent_sites]
['v']
"""

from bayesgraph.core.compiler.program import MISSING_SUFFIX, LatentSite, Program
from bayesgraph.core.lowering import ModelSpec, group


def compile_spec(spec: ModelSpec, *, grouping: bool = True) -> Program:
    """Group a :class:`~bayesgraph.core.lowering.ModelSpec` and compile it to a :class:`Program`.

    ``grouping=False`` keeps one group (one site) per variable: the reference path.

    Examples
    --------
    >>> from bayesgraph.core import Variable
    >>> from bayesgraph.core.lowering import lower
    >>> compile_spec(lower(Variable("v"))[0]).n_data
    1
    """
    return Program(group(spec, grouping=grouping))


__all__ = ["compile_spec", "Program", "LatentSite", "MISSING_SUFFIX"]
