"""Every docstring example in the package runs (style lesson 9)."""

import doctest
import importlib
import pkgutil

import pytest

import bayesgraph

MODULES = sorted(
    info.name for info in pkgutil.walk_packages(bayesgraph.__path__, "bayesgraph.")
)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE,
                             extraglobs={"np": __import__("numpy")})
    assert result.failed == 0, f"{result.failed} docstring example(s) failed in {name}"


def test_public_objects_have_examples():
    import bayesgraph.core as core
    import bayesgraph.core.model as model

    missing = []
    for mod in (core, model):
        for name in mod.__all__:
            obj = getattr(mod, name)
            if callable(obj) and "Examples" not in (obj.__doc__ or ""):
                missing.append(f"{mod.__name__}.{name}")
    assert not missing, missing
