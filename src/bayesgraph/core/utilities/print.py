"""Text renderings of a graph (:func:`print_child_tree`, :func:`render_text`) and
:func:`show`, which draws a picture where one can be seen and prints the text elsewhere.

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

from bayesgraph.core.scope import NamedObject, Scopetor
from bayesgraph.core.utilities.describe import observed_status, variable_line
from bayesgraph.core.utilities.pictures import display, in_notebook, picture


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


def render_text(obj: NamedObject, data=None) -> str:
    """Render the structure of ``obj``: its entities, variables, distributions and parents.

    Each variable line shows its kind (dynamic ``Variable`` or ``StaticVariable``), shape,
    distribution with parameters, and the variables it depends on (``<-``). With ``data``
    (as given to a model), the variables they observe end in ``[observed]`` (or
    ``[partly observed]`` where some values are NaN).

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
    status = {}
    if data is not None:
        status = observed_status(obj, data)
    marks = {"observed": "  [observed]", "partial": "  [partly observed]"}

    def label(node: NamedObject) -> str:
        if isinstance(node, VariableBase):
            return variable_line(node, root) + marks.get(status.get(id(node)), "")
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


def show(obj: NamedObject, data=None, *, path=None, plate_min: int | None = 5,
         max_members: int = 40) -> None:
    """Draw a graph, entity or variable: a picture in Jupyter or in a file, text otherwise.

    * ``path="family.svg"`` writes an SVG picture, ``path="family.html"`` an interactive page
      (zoom, plates that list their members); both work offline.
    * In a Jupyter notebook (without ``path``) the interactive picture is displayed.
    * Anywhere else (a script, a terminal) the structure is printed as text
      (:func:`render_text`), since a terminal cannot show a picture.

    See :func:`bayesgraph.core.utilities.pictures.picture` for what the picture shows.

    Parameters
    ----------
    obj : Graph, Entity or Variable
        What to draw.
    data : mapping or DataLinker, optional
        Data as given to a model: the variables they observe are shaded (the text marks
        them ``[observed]``).
    path : str or path-like, optional
        Write the picture there (``.svg``, ``.html`` or ``.htm``) instead of displaying it.
    plate_min : int or None
        Siblings of one structure are drawn once, as a plate with their count, when there are
        at least this many (default 5); ``None`` draws every entity.
    max_members : int
        How many members of each plate the interactive view draws one by one.

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
    >>> show(g, data={g.x: [1.0]})
    Graph g
    ├─z: Variable () ~ Normal(mean=0, variance=1)
    └─x: Variable () ~ Normal(mean=z, variance=0.1)  <- z  [observed]
    """
    if path is not None or in_notebook():
        pic = picture(obj, data, plate_min=plate_min, max_members=max_members)
        if path is not None:
            pic.save(path)
        else:
            display(pic)
        return
    print(render_text(obj, data))
