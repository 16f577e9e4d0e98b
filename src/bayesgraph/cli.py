"""The ``bayesgraph`` command line: fit a graph file to a CSV, predict, draw, demo.

Commands::

    bayesgraph fit GRAPH.json DATA.csv --method MAPFisher --out fit.nc
    bayesgraph predict GRAPH.json FIT.nc DATA.csv --out predictions.csv
    bayesgraph show GRAPH.json --out graph.svg
    bayesgraph demo

``GRAPH.json`` is a graph file (``graph.dump_file(path)``, see docs/files.md). A CSV has a
header row naming one scalar dynamic variable per column, by its global name
(``lr/x``) or by its name relative to the root graph (``x``); each further row is one example.
Empty cells, ``nan`` and ``NaN`` are missing values (inferred by ``fit``, predicted by
``predict``).

``fit`` solves the model of the chosen method on the data, prints the ArviZ summary of its
posterior on stdout and writes its ``to_inference_data()`` export as netCDF.

``predict`` predicts, for every row of a new CSV, each dynamic variable the CSV does not give
(whole columns, or single empty cells): for each posterior draw ``s`` of the fit, the static
variables are fixed at their values in draw ``s`` and forward (ancestral) draws of the new
rows are taken given the columns there, with seed ``seed + s`` (one per posterior draw, or
more when the fit has fewer than ``--samples`` draws: a MAP fit's one point). The predictive
mean and standard deviation over the draws are written as columns ``NAME`` and ``NAME_sd``
(given cells keep their value, with sd 0). Information flows forward only: a given child
column does not inform a missing parent in the new rows (fit those rows instead: ``fit``
infers empty cells).

Bad input (a missing or malformed file, an unknown column or method, a cell that is not a
number) exits with status 2 and one line on stderr naming the culprit; nothing is written
then. Progress goes to stderr (``--quiet`` silences it), results to stdout.

JAX and numpyro are imported only by the commands that run a model, so ``bayesgraph --help``
is fast.

Examples
--------
>>> import io, contextlib
>>> out = io.StringIO()
>>> with contextlib.redirect_stdout(out):
...     status = main(["--version"])
>>> status, out.getvalue().startswith("bayesgraph ")
(0, True)
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import os
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

#: The methods of ``fit`` (the keys of ``bayesgraph.core.model.METHODS``, listed here so that
#: ``--help`` does not import JAX; tests/test_cli.py checks they agree).
METHOD_NAMES = ("Forward", "MAP", "MAPFisher", "ADVI", "MGVI", "MCMC")

MISSING_CELLS = ("", "nan", "NaN", "NAN", "NA")

__all__ = ["main", "CommandError", "load_graph", "read_csv", "predict", "METHOD_NAMES"]


class CommandError(Exception):
    """Bad input to a command: reported as one line on stderr, exit status 2.

    Examples
    --------
    >>> str(CommandError("data.csv: no such file"))
    'data.csv: no such file'
    """


class _Parser(argparse.ArgumentParser):
    """argparse with a one-line error message (argparse prints the usage first)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


# -- input -------------------------------------------------------------------------------------

def load_graph(path: str | os.PathLike) -> Any:
    """Read a graph file; a missing or malformed file is a :class:`CommandError`.

    Examples
    --------
    >>> load_graph("no/such/graph.json")
    Traceback (most recent call last):
    ...
    bayesgraph.cli.CommandError: no/such/graph.json: no such file
    """
    from bayesgraph.core import Graph
    from bayesgraph.exceptions import BayesGraphError

    if not Path(path).is_file():
        raise CommandError(f"{path}: no such file")
    try:
        return Graph.from_specification(file=path)
    except (BayesGraphError, OSError, UnicodeDecodeError) as err:
        first = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise CommandError(f"{path}: not a bayesgraph graph file ({first})") from None


def _columns(graph: Any) -> dict[str, Any]:
    """Column name -> variable, for the global and the root-relative name of each variable."""
    root = graph.global_name
    names: dict[str, Any] = {}
    for variable in graph.get_all_variables():
        names[variable.global_name] = variable
        relative = variable.global_name[len(root) + 1:]
        names.setdefault(relative, variable)
    return names


def read_csv(path: str | os.PathLike, graph: Any) -> dict[Any, Any]:
    """Read a CSV of examples into ``{variable: float array}`` (``NaN`` where missing).

    Parameters
    ----------
    path : str or path
        A CSV file whose header names scalar dynamic variables of ``graph``, by global name
        or by name relative to the root graph.
    graph : Graph
        The graph the columns belong to.

    Raises
    ------
    CommandError
        For a missing file, an empty file, an unknown, repeated, static or non-scalar column,
        a row of the wrong length or a cell that is not a number.

    Examples
    --------
    >>> import os, pathlib, tempfile
    >>> from bayesgraph.core import Graph, Variable
    >>> with Graph("g") as g:
    ...     _ = Variable("x")
    >>> path = os.path.join(tempfile.mkdtemp(), "d.csv")
    >>> _ = pathlib.Path(path).write_text("x\\n1.5\\n\\n")
    >>> [(v.global_name, a.tolist()) for v, a in read_csv(path, g).items()]
    [('g/x', [1.5])]
    >>> _ = pathlib.Path(path).write_text("x,z\\n1,2\\n")
    >>> read_csv(path, g)
    Traceback (most recent call last):
    ...
    bayesgraph.cli.CommandError: ...d.csv: unknown column 'z': no variable g/z in graph 'g'
    """
    import numpy as np

    from bayesgraph.core import StaticVariable

    if not Path(path).is_file():
        raise CommandError(f"{path}: no such file")
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            rows = [row for row in csv.reader(handle) if row]
    except (OSError, UnicodeDecodeError, csv.Error) as err:
        raise CommandError(f"{path}: not a readable CSV file ({err})") from None
    if not rows:
        raise CommandError(f"{path}: empty file; the first row must name the columns")
    header = [name.strip() for name in rows[0]]
    names = _columns(graph)
    root = graph.global_name
    variables = []
    for name in header:
        if name not in names:
            raise CommandError(f"{path}: unknown column {name!r}: no variable {root}/{name} in "
                               f"graph {root!r}")
        variable = names[name]
        if isinstance(variable, StaticVariable):
            raise CommandError(f"{path}: column {name!r} is a StaticVariable; a CSV row is one "
                               "example, so only dynamic variables can be columns")
        if tuple(variable.shape) != ():
            raise CommandError(f"{path}: column {name!r} is variable {variable.global_name} of "
                               f"shape {tuple(variable.shape)}; CSV columns must be scalar")
        if variable in variables:
            raise CommandError(f"{path}: column {name!r} repeats variable "
                               f"{variable.global_name}")
        variables.append(variable)
    values = np.full((len(rows) - 1, len(header)), np.nan)
    for i, row in enumerate(rows[1:], start=2):
        if len(row) != len(header):
            raise CommandError(f"{path}: line {i} has {len(row)} cells; the header has "
                               f"{len(header)}")
        for j, cell in enumerate(row):
            cell = cell.strip()
            if cell in MISSING_CELLS:
                continue
            try:
                values[i - 2, j] = float(cell)
            except ValueError:
                raise CommandError(f"{path}: line {i}, column {header[j]!r}: {cell!r} is not "
                                   "a number") from None
    return {variable: values[:, j] for j, variable in enumerate(variables)}


# -- output ------------------------------------------------------------------------------------

@contextlib.contextmanager
def _atomic(path: str | os.PathLike) -> Iterator[str]:
    """A temporary path beside ``path``, renamed to it when the block succeeds."""
    target = Path(path)
    if not target.parent.is_dir():
        raise CommandError(f"{path}: directory {str(target.parent)!r} does not exist")
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    os.close(handle)
    try:
        yield temporary
        os.replace(temporary, target)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)


def _write_netcdf(data: Any, path: str, shown: str) -> None:
    """Write ``data`` to ``path``; a missing netCDF backend is a :class:`CommandError`."""
    try:
        data.to_netcdf(path)
    except (ImportError, ValueError) as err:
        text = str(err)
        if isinstance(err, ImportError) or "engine" in text or "backend" in text:
            raise CommandError(
                f"{shown}: cannot write netCDF ({text.splitlines()[0]}); install the netCDF "
                "backend: python3 -m pip install h5netcdf h5py") from None
        raise


def _read_posterior(path: str | os.PathLike) -> dict[str, Any]:
    """The ``posterior`` group of a fit's netCDF file as ``{arviz name: array}``."""
    import xarray as xr

    if not Path(path).is_file():
        raise CommandError(f"{path}: no such file")
    try:
        with xr.open_dataset(path, group="posterior") as dataset:
            return {str(name): dataset[name].values for name in dataset.data_vars}
    except (OSError, ValueError, KeyError) as err:
        first = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise CommandError(f"{path}: not a fit written by 'bayesgraph fit' ({first})") from None


# -- prediction --------------------------------------------------------------------------------

def predict(graph: Any, posterior: dict[str, Any], data: dict[Any, Any], seed: int = 0,
            n_samples: int = 200, progress: Callable[[str], None] | None = None
            ) -> dict[str, tuple[Any, Any]]:
    """Predict the dynamic variables ``data`` does not give, from a fit's posterior draws.

    For each of the ``S`` draws ``s`` the static variables are fixed at their values in
    ``posterior`` and a :class:`~bayesgraph.core.model.ForwardModel` with seed ``seed + s``
    draws the new rows ``k = ceil(n_samples / S)`` times, given ``data`` (once per draw for a
    fit of at least ``n_samples`` draws; ``n_samples`` times the one point of a MAP fit).
    Static variables that ``posterior`` lacks are drawn from their prior.

    Parameters
    ----------
    graph : Graph
        The fitted graph.
    posterior : dict
        ArviZ name (``lr.a``) -> draws of shape ``(chain, draw, *shape)``, as in the fit's
        ``posterior`` group.
    data : dict
        Variable -> values of the new rows (``NaN`` = to predict), as :func:`read_csv` gives.
    seed : int
        The seed of the first draw.
    n_samples : int
        The least number of predictive draws in all.

    Returns
    -------
    dict
        Global name -> ``(mean, sd)`` over the draws, one entry per row, for each scalar
        dynamic variable that is missing in some row; given entries keep their value (sd 0).

    Examples
    --------
    >>> import numpy as np
    >>> from bayesgraph.core import Graph, StaticVariable, Variable
    >>> with Graph("g") as g:
    ...     a = StaticVariable("a", mean=0, variance=1)
    ...     x = Variable("x", mean=0, variance=1)
    ...     y = Variable("y", mean=a * x, variance=1e-12)
    >>> draws = {"g.a": np.array([[1.0, 3.0]])}
    >>> out = predict(g, draws, {g.x: np.array([1.0, 2.0])})
    >>> np.round(out["g/y"][0], 4).tolist(), np.round(out["g/y"][1], 4).tolist()
    ([2.0, 4.0], [1.0, 2.0])
    >>> np.round(predict(g, {"g.a": np.array([[2.0]])}, {g.x: np.array([1.0])})["g/y"][0], 4)
    array([2.])
    """
    import numpy as np

    from bayesgraph.core import StaticVariable
    from bayesgraph.core.model import ForwardModel
    from bayesgraph.core.model.inference_data import variable_name

    n_rows = len(next(iter(data.values()))) if data else 1
    statics = [v for v in graph.get_all_variables() if isinstance(v, StaticVariable)]
    fixed = {v: np.asarray(posterior[variable_name(v.global_name)]) for v in statics
             if variable_name(v.global_name) in posterior}
    given = {v.global_name: np.asarray(values, dtype=float) for v, values in data.items()}
    targets = [v for v in graph.get_all_variables()
               if not isinstance(v, StaticVariable) and tuple(v.shape) == ()
               and not (v.global_name in given and not np.isnan(given[v.global_name]).any())]
    shapes = {tuple(a.shape[:2]) for a in fixed.values()}
    if len(shapes) > 1:
        raise CommandError(f"the fit's static variables have different (chain, draw) shapes: "
                           f"{sorted(shapes)}")
    chains, draws = shapes.pop() if shapes else (1, 1)
    n = chains * draws
    flat = {v: a.reshape((n, *a.shape[2:])) for v, a in fixed.items()}
    k = max(1, -(-n_samples // n))  # forward draws per posterior draw
    samples = {v.global_name: np.empty((n, k, n_rows)) for v in targets}
    for s in range(n):
        step = {**data, **{v: a[s] for v, a in flat.items()}}
        model = ForwardModel(graph, step, seed=seed + s, copy_graph=False)
        if targets:
            values = model.get_samples(targets, n_samples=k)
            for v, value in zip(targets, values):
                samples[v.global_name][s] = np.asarray(value, dtype=float).reshape(k, n_rows)
        if progress is not None and (s + 1) % max(1, n // 10) == 0:
            progress(f"predict: {s + 1}/{n} draws")
    result = {}
    for name, draws_of in samples.items():
        flat_draws = draws_of.reshape(n * k, n_rows)
        mean, sd = flat_draws.mean(axis=0), flat_draws.std(axis=0)
        if name in given:
            known = ~np.isnan(given[name])
            mean[known], sd[known] = given[name][known], 0.0
        result[name] = (mean, sd)
    return result


# -- commands ----------------------------------------------------------------------------------

def _fit(args: argparse.Namespace, say: Callable[[str], None]) -> None:
    if args.method not in METHOD_NAMES:
        raise CommandError(f"unknown method {args.method!r}; valid: {', '.join(METHOD_NAMES)}")
    if args.draws < 1:
        raise CommandError(f"--draws {args.draws}: must be at least 1")
    graph = load_graph(args.graph)
    data = read_csv(args.data, graph)
    say(f"fit: {len(next(iter(data.values()))) if data else 0} rows, columns "
        f"{', '.join(v.global_name for v in data)}; method {args.method}")
    say("fit: importing JAX and compiling the model")
    import arviz as az

    from bayesgraph.core.model import get_posterior_model

    model = get_posterior_model(graph, data, method=args.method, seed=args.seed)
    if model.requires_solve:
        model.solve()
    say(f"fit: solved; exporting {args.draws} draws")
    idata = model.to_inference_data(n_samples=args.draws)
    group = "prior" if args.method == "Forward" else "posterior"
    with _atomic(args.out) as temporary:
        _write_netcdf(idata, temporary, args.out)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # one chain: ArviZ warns that r_hat needs two
        try:
            summary = az.summary(idata, group=group, kind="stats")
        except (TypeError, ValueError):  # an ArviZ whose summary lacks these options
            summary = az.summary(idata, group=group)
    print(summary.to_string())
    say(f"fit: wrote {args.out}")


def _predict(args: argparse.Namespace, say: Callable[[str], None]) -> None:
    graph = load_graph(args.graph)
    data = read_csv(args.data, graph)
    posterior = _read_posterior(args.fit)
    n_draws = next((a.shape[0] * a.shape[1] for a in posterior.values()), 1)
    say(f"predict: {n_draws} posterior draws")
    if n_draws == 1:
        say("predict: the fit holds one draw (a MAP point): the sds are those of the noise "
            "given it; fit with MAPFisher, ADVI, MGVI or MCMC for the parameters' uncertainty")
    if args.samples < 1:
        raise CommandError(f"--samples {args.samples}: must be at least 1")
    result = predict(graph, posterior, data, seed=args.seed, n_samples=args.samples,
                     progress=say)
    given = [v.global_name for v in data]
    columns = given + [name for name in result if name not in given]
    n_rows = len(next(iter(data.values()))) if data else 1
    header = []
    for name in columns:
        header.append(name)
        if name in result:
            header.append(f"{name}_sd")
    with _atomic(args.out) as temporary:
        with open(temporary, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(header)
            values = {v.global_name: a for v, a in data.items()}
            for i in range(n_rows):
                row = []
                for name in columns:
                    if name in result:
                        row += [repr(float(result[name][0][i])), repr(float(result[name][1][i]))]
                    else:
                        row.append(repr(float(values[name][i])))
                writer.writerow(row)
    print(f"wrote {n_rows} rows, predicted {', '.join(n for n in result) or 'nothing'} "
          f"to {args.out}")


def _show(args: argparse.Namespace, say: Callable[[str], None]) -> None:
    from bayesgraph.core import show

    graph = load_graph(args.graph)
    suffix = Path(args.out).suffix.lower()
    if suffix not in (".svg", ".html"):
        raise CommandError(f"{args.out}: the picture is written as .svg or .html, not "
                           f"{suffix or 'a file without suffix'!r}")
    with _atomic(args.out) as temporary:
        final = f"{temporary}{suffix}"
        try:
            show(graph, path=final)
            os.replace(final, temporary)
        finally:
            if os.path.exists(final):
                os.remove(final)
    print(f"wrote {args.out}")


def _demo(args: argparse.Namespace, say: Callable[[str], None]) -> None:
    """The README's family: alice's genetic factor given sally's, against the closed form."""
    from bayesgraph.core import Entity, Graph, Variable
    from bayesgraph.core.scope import no_name_injection

    with no_name_injection():
        with Entity("person") as person:
            Variable("genetic_factor", shape=(), mean=0, variance=75)
        person_t = person.get_template("Person")
        with Graph("family") as family:
            alice, bob, sally = person_t("alice"), person_t("bob"), person_t("sally")
        with family:
            sally.genetic_factor.mean = (alice.genetic_factor + bob.genetic_factor) / 2
            sally.genetic_factor.variance = 37.5
    say("demo: importing JAX and solving MAPFisher")
    from bayesgraph.core.model import MAPFisherModel

    model = MAPFisherModel(family, data={family.sally.genetic_factor: [20.0]}, seed=0).solve()
    mean = float(model.get_means(family.alice.genetic_factor)[0])
    variance = float(model.get_variances(family.alice.genetic_factor)[0])
    print("family: alice and bob, their daughter sally; genetic factors N(0, 75), sally's "
          "N((alice + bob) / 2, 37.5)")
    print("given sally's genetic factor = 20, MAPFisher says alice's is")
    print(f"  mean {mean:.6f} (exact 10), variance {variance:.6f} (exact 56.25)")
    if abs(mean - 10) > 1e-6 or abs(variance - 56.25) > 1e-6:
        raise RuntimeError("the demo's answer differs from the closed form")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``bayesgraph`` (its sub-commands and options).

    Examples
    --------
    >>> build_parser().parse_args(["show", "g.json", "--out", "g.svg"]).command
    'show'
    """
    from bayesgraph import __version__

    parser = _Parser(prog="bayesgraph", description="Fit, predict and draw bayesgraph graph "
                     "files (written by graph.dump_file).")
    parser.add_argument("--version", action="version", version=f"bayesgraph {__version__}")
    parser.add_argument("--quiet", "-q", action="store_true", help="no progress on stderr")
    # --quiet also after the command (bayesgraph fit ... --quiet); SUPPRESS keeps the top
    # level's value when the command does not repeat it.
    quiet = argparse.ArgumentParser(add_help=False)
    quiet.add_argument("--quiet", "-q", action="store_true", default=argparse.SUPPRESS,
                       help="no progress on stderr")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    fit = commands.add_parser("fit", parents=[quiet], help="fit a graph file to a CSV; save "
                              "the posterior as netCDF",
                              description="Fit GRAPH to DATA and write the ArviZ export of the "
                              "model as netCDF; print its summary.")
    fit.add_argument("graph", metavar="GRAPH.json")
    fit.add_argument("data", metavar="DATA.csv", help="columns named by the variables' global "
                     "names or names relative to the root graph; empty cells/NaN are missing")
    fit.add_argument("--method", default="MAPFisher",
                     help=f"one of {', '.join(METHOD_NAMES)} (default MAPFisher)")
    fit.add_argument("--out", required=True, metavar="FIT.nc")
    fit.add_argument("--draws", type=int, default=500, help="posterior draws exported "
                     "(default 500; MAP exports its one point)")
    fit.add_argument("--seed", type=int, default=0)

    pred = commands.add_parser("predict", parents=[quiet],
                               help="predict the columns a CSV lacks from a fit",
                               description="Predict, for each row of DATA, the dynamic "
                               "variables it does not give: the static variables fixed at each "
                               "posterior draw of FIT, one forward draw per posterior draw; "
                               "writes the mean NAME and sd NAME_sd of each.")
    pred.add_argument("graph", metavar="GRAPH.json")
    pred.add_argument("fit", metavar="FIT.nc")
    pred.add_argument("data", metavar="DATA.csv")
    pred.add_argument("--out", required=True, metavar="PREDICTIONS.csv")
    pred.add_argument("--seed", type=int, default=0, help="draw s uses seed + s (default 0)")
    pred.add_argument("--samples", type=int, default=200, help="the least number of "
                      "predictive draws: ceil(samples / draws of the fit) per posterior draw "
                      "(default 200)")

    show = commands.add_parser("show", parents=[quiet], help="draw a graph file as SVG or HTML")
    show.add_argument("graph", metavar="GRAPH.json")
    show.add_argument("--out", required=True, metavar="GRAPH.svg")

    commands.add_parser("demo", parents=[quiet],
                        help="solve a small family graph and check it (about 10 s)")
    return parser


_COMMANDS = {"fit": _fit, "predict": _predict, "show": _show, "demo": _demo}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default ``sys.argv[1:]``); return the exit status.

    Examples
    --------
    >>> import contextlib, io
    >>> err = io.StringIO()
    >>> with contextlib.redirect_stderr(err):
    ...     status = main(["show", "missing.json", "--out", "g.svg"])
    >>> status, err.getvalue().strip()
    (2, 'bayesgraph: error: missing.json: no such file')
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as stop:
        return int(stop.code or 0)
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2

    def say(message: str) -> None:
        if not args.quiet:
            print(message, file=sys.stderr, flush=True)

    try:
        _COMMANDS[args.command](args, say)
    except CommandError as err:
        print(f"bayesgraph: error: {err}", file=sys.stderr)
        return 2
    except Exception as err:  # a bayesgraph error in the model (bad data for it, ...)
        from bayesgraph.exceptions import BayesGraphError

        if isinstance(err, BayesGraphError):
            message = str(err).splitlines()[0]
            print(f"bayesgraph: error: {type(err).__name__}: {message}", file=sys.stderr)
            return 2
        raise
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
