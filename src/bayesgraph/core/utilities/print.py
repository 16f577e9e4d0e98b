"""Text renderings of a graph: :func:`print_child_tree` and :func:`show`.

Examples
--------
>>> from bayesgraph.core import Entity, Variable
>>> from bayesgraph.core.utilities.print import print_child_tree
>>> with Entity("car") as car:
...     _ = Entity("body")
...     with Entity("engine"):
...         _ = Variable("power", mean=160., variance=4.)
...         _ = Variable("weight", mean=2.4, variance=0.01)
>>> print_child_tree(car)
car
├─body
└─engine
  ├─power
  └─weight
"""

from __future__ import annotations

import numpy as np

from bayesgraph.core.operator.operators import Operator
from bayesgraph.core.scope import NamedObject, Scopetor


def child_tree(obj: NamedObject) -> str:
    """Return the child tree of ``obj`` drawn with box-drawing characters.

    Examples
    --------
    >>> from bayesgraph.core import Entity
    >>> print(child_tree(Entity("e")))
    e
    """
    lines = [obj.name]

    def walk(node: NamedObject, prefix: str) -> None:
        if not isinstance(node, Scopetor):
            return
        items = list(node._children.values())
        for i, child in enumerate(items):
            last = i == len(items) - 1
            lines.append(f"{prefix}{'└─' if last else '├─'}{child.name}")
            walk(child, prefix + ("  " if last else "│ "))

    walk(obj, "")
    return "\n".join(lines)


def print_child_tree(obj: NamedObject) -> None:
    """Print the child tree of ``obj`` (Halerium's ``print_child_tree``).

    Examples
    --------
    >>> from bayesgraph.core import Entity
    >>> print_child_tree(Entity("e"))
    e
    """
    print(child_tree(obj))


def _value_text(value, root: str) -> str:
    from bayesgraph.core.variable.variable import VariableBase

    if isinstance(value, VariableBase):
        return _relative(value.global_name, root)
    if isinstance(value, Operator):
        text = value.describe()
        for var in value.get_variables():
            text = text.replace(var.global_name, _relative(var.global_name, root))
        return text
    array = np.asarray(value)
    if array.ndim == 0:
        return f"{array.item():g}"
    return np.array2string(array, threshold=6, precision=4)


def _relative(global_name: str, root: str) -> str:
    return global_name[len(root) + 1:] if global_name.startswith(root + "/") else global_name


def render_text(obj: NamedObject) -> str:
    """Render the structure of ``obj``: its entities, variables, distributions and parents.

    Each variable line shows its kind (dynamic ``Variable`` or ``StaticVariable``), shape,
    distribution with parameters, and the variables it depends on (``<-``).

    Examples
    --------
    >>> from bayesgraph.core import Graph, Variable, StaticVariable
    >>> with Graph("lr") as lr:
    ...     a = StaticVariable("a", mean=0, variance=1)
    ...     x = Variable("x", mean=0, variance=9)
    ...     y = Variable("y", mean=a * x, variance=0.25)
    >>> print(render_text(lr))
    Graph lr
    ├─a: StaticVariable () ~ Normal(mean=0, variance=1)
    ├─x: Variable () ~ Normal(mean=0, variance=9)
    └─y: Variable () ~ Normal(mean=(a * x), variance=0.25)  <- a, x
    """
    from bayesgraph.core.graph.graph import Inputs, Outputs
    from bayesgraph.core.variable.variable import VariableBase

    root = obj.get_root().global_name
    lines = [f"{type(obj).__name__} {obj.name}"]

    def label(node: NamedObject) -> str:
        if isinstance(node, VariableBase):
            dist = type(node.distribution).__name__.replace("Distribution", "") or "No"
            params = ", ".join(f"{k}={_value_text(v, root)}"
                               for k, v in node.distribution.get_parameters().items())
            text = f"{node.name}: {type(node).__name__} {node.shape} ~ {dist}({params})"
            if node.dtype != node.distribution.dtypes[0]:
                text += f" [{node.dtype}]"
            parents = node.get_parents()
            if parents:
                text += "  <- " + ", ".join(_relative(p.global_name, root) for p in parents)
            return text
        return f"{node.name} ({type(node).__name__})"

    def walk(node: NamedObject, prefix: str) -> None:
        items = [c for c in node._children.values()
                 if not (isinstance(c, (Inputs, Outputs)) and not c._children)]
        for i, child in enumerate(items):
            last = i == len(items) - 1
            lines.append(f"{prefix}{'└─' if last else '├─'}{label(child)}")
            if isinstance(child, Scopetor):
                walk(child, prefix + ("  " if last else "│ "))

    if isinstance(obj, Scopetor):
        walk(obj, "")
    if isinstance(obj, VariableBase):
        lines = [label(obj)]
    return "\n".join(lines)


def show(obj: NamedObject) -> None:
    """Display the structure of a graph, entity or variable as text (see :func:`render_text`).

    Examples
    --------
    >>> from bayesgraph.core import Graph, Variable
    >>> with Graph("g") as g:
    ...     _ = Variable("z", mean=0, variance=1)
    ...     _ = Variable("x", mean=z, variance=0.1)
    >>> show(g)
    Graph g
    ├─z: Variable () ~ Normal(mean=0, variance=1)
    └─x: Variable () ~ Normal(mean=z, variance=0.1)  <- z
    """
    print(render_text(obj))
