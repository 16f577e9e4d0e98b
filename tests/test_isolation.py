"""The modelling language never imports JAX or numpyro (style lesson 1)."""

import subprocess
import sys
import textwrap


def test_modelling_language_imports_no_jax():
    code = textwrap.dedent("""
        import sys
        import numpy as np
        from bayesgraph.core import Graph, Entity, Variable, StaticVariable, show, exp
        from bayesgraph.core.lowering import lower
        from bayesgraph.core import distribution, operator, get_data_linker
        with Graph("g") as g:
            with Entity("e"):
                Variable("a", mean=0, variance=2)
            s = StaticVariable("s", shape=(2,))
            Variable("y", mean=exp(e.a) + s[0], variance=1)
        show(g)
        lower(g, {g.y: [1.0, np.nan]})
        bad = [m for m in ("jax", "jaxlib", "numpyro", "optax", "arviz") if m in sys.modules]
        assert not bad, bad
    """)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_only_the_compiler_knows_numpyro_sites():
    """numpyro sample/factor/plate/deterministic sites are emitted by the compiler alone."""
    import pathlib
    import re

    import bayesgraph

    root = pathlib.Path(bayesgraph.__file__).parent
    pattern = re.compile(r"numpyro\.(sample|factor|plate|deterministic|param)\(")
    offenders = [
        str(path.relative_to(root)) for path in root.rglob("*.py")
        if path.relative_to(root).parts[:2] != ("core", "compiler")
        and pattern.search(path.read_text())
    ]
    assert not offenders, offenders
