"""The compiler: the only package that knows numpyro sample sites.

It builds a :class:`~bayesgraph.core.compiler.program.Program` from a frozen
:class:`~bayesgraph.core.lowering.ModelSpec`. See ``README.md`` in this folder for the
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

from bayesgraph.core.compiler.program import DISCRETE, MISSING_SUFFIX, LatentSite, Program


def compile_spec(spec):
    """Compile a :class:`~bayesgraph.core.lowering.ModelSpec` into a :class:`Program`.

    Examples
    --------
    >>> from bayesgraph.core import Variable
    >>> from bayesgraph.core.lowering import lower
    >>> compile_spec(lower(Variable("v"))[0]).n_data
    1
    """
    return Program(spec)


__all__ = ["compile_spec", "Program", "LatentSite", "DISCRETE", "MISSING_SUFFIX"]
