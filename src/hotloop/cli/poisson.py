"""``hotloop poisson N``: Poisson disc samples (or a Poisson disc subset of your points).

Examples::

    hotloop poisson 2000 -o pts.npy --plot pts.png          # 2000 points in the unit square
    hotloop poisson 500 --dim 3 --periodic --seed 1 -o pts.csv
    hotloop poisson 200 --rotations -o quats.npy             # unit quaternions, q ~ -q
    hotloop poisson 1000 --input cloud.npy -o subset.npy     # choose 1000 of your points
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import re
import sys
import time
from pathlib import Path
from typing import IO, Any

import numpy as np

from hotloop._progress import ProgressBar
from hotloop.cli._common import (
    CLIError,
    add_threads_argument,
    atomic_output,
    check_output_path,
    finite_float,
    is_stream,
    loadtxt_quietly,
    png_plot_problem,
    positive_int,
    seed_value,
)


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "poisson",
        help="Poisson disc sampling by weighted sample elimination",
        description="Write N Poisson disc points (Yuksel's weighted sample elimination): in a "
        "box (default the unit square or cube), periodic box, on a sphere, or as rotations; or, "
        "with --input, the best N of your own points.",
    )
    parser.add_argument("n", type=positive_int, metavar="N", help="number of points to keep")
    parser.add_argument("--dim", type=positive_int, default=None, metavar="D",
                        help="dimension (default 2; with --sphere the ambient dimension, "
                        "default 3); not with --input (the file's columns are)")
    parser.add_argument("--bounds", type=finite_float, nargs="+", metavar="X",
                        help="box as lo0 hi0 lo1 hi1 ... (default: unit box; with --input the "
                        "points' bounding box, and required with --periodic --input)")
    parser.add_argument("--periodic", action="store_true",
                        help="toroidal distances in the box (the result tiles)")
    parser.add_argument("--progressive", action="store_true",
                        help="order the points so that every prefix is a Poisson disc set")
    shape = parser.add_mutually_exclusive_group()
    shape.add_argument("--sphere", action="store_true", help="points on the unit sphere")
    shape.add_argument("--rotations", action="store_true",
                       help="rotations as unit quaternions (w, x, y, z), q ~ -q")
    parser.add_argument("--oversample", type=finite_float, default=None, metavar="F",
                        help="candidates per kept point (default 5); not with --input")
    parser.add_argument("--seed", type=seed_value, default=None, metavar="S",
                        help="random seed (default: drawn from the OS and printed); not with "
                        "--input")
    parser.add_argument("--input", metavar="FILE",
                        help="choose among these points (.npy or .csv, one point per row); "
                        "nothing is drawn, so --dim, --seed and --oversample do not apply")
    parser.add_argument("--indices", action="store_true",
                        help="with --input: write the chosen row indices instead of the points")
    parser.add_argument("-o", "--output", required=True, metavar="FILE",
                        help="output file, .npy or .csv")
    parser.add_argument("--plot", metavar="PNG", help="also draw the points as PNG")
    add_threads_argument(parser)
    parser.set_defaults(func=run, _parser=parser)


def _load(path: str) -> np.ndarray:
    p = Path(path)
    if not p.is_file():
        raise CLIError(f"--input {path}: no such file")
    try:
        if p.suffix.lower() == ".npy":
            arr = np.load(p, allow_pickle=False)
        else:
            arr = loadtxt_quietly(p, delimiter=",", ndmin=2)
    except (OSError, ValueError) as exc:
        raise CLIError(f"--input {path}: cannot read points ({exc})") from None
    arr = np.asarray(arr)
    if arr.size == 0:
        raise CLIError(f"--input {path}: no points in the file")
    return arr


# The API's errors start with the name of the argument at fault ("n: expected ..."); the
# command line names what the user typed instead: the prefixes of hotloop.poisson's messages
# and their spellings here (None: a sampler's own name, left out; "points" and "eliminate",
# about the input file, are named in _cli_message), then phrases of the messages' bodies that
# name API arguments or Python.
_NAMES: dict[str, str | None] = {
    "n": "N", "dim": "--dim", "bounds": "--bounds", "oversample": "--oversample",
    "seed": "--seed", "threads": "--threads",
    "sample": None, "sample_sphere": None, "sample_rotations": None,
}
_PHRASES = (
    ("; pass bounds=...", "; pass --bounds"),
    ("outside bounds", "outside --bounds"),
    ("keep more points, pass a smaller r_max, or a larger box",
     "pass a larger N or a larger box in --bounds"),
    ("oversample = ", "--oversample "),
    ("their bounding box's", "the points' bounding box's"),
    ("; normalise first, e.g. q / np.linalg.norm(q, axis=1, keepdims=True)",
     "; normalise the rows first"),
)
_ZERO_EXTENT = "the points have zero extent"  # a "bounds:" error about the file's points
_API_N = re.compile(r"(?<![\w-])n(?![\w-])")  # the API's argument n, as a word: N here


def _cli_message(exc: BaseException, args: argparse.Namespace) -> str:
    """The one line for an error of hotloop.poisson, naming the command line's arguments (N,
    --bounds, --dim, --input FILE, ...) instead of the API's (n, bounds, dim, points)."""
    text = " ".join(str(exc).split())
    head, sep, body = text.partition(": ")
    name: str | None
    if not sep:
        return text
    if head in ("points", "eliminate") or (head == "bounds" and body.startswith(_ZERO_EXTENT)):
        name = f"--input {args.input}" if args.input is not None else "the points"
    elif head in _NAMES:
        name = _NAMES[head]
    else:
        return text  # not an argument's error (e.g. $HOTLOOP_NUM_THREADS): as it is
    for api, cli in _PHRASES:
        body = body.replace(api, cli)
    body = _API_N.sub("N", body)
    if args.input is not None:
        body = body.replace("(the number of points)", f"(the number of points in {args.input})")
    return body if name is None else f"{name}: {body}"


def _box_problem(args: argparse.Namespace) -> str | None:
    """The usage error of a box the API would refuse, found before anything is drawn or read:
    --bounds (or the default unit box) whose sides or volume leave the doubles, or with
    --periodic an N too small for the box (d_max at most half its shortest side). Judged by
    hotloop.poisson's own checks, so the verdicts are the API's."""
    import hotloop.poisson as pd

    if args.sphere or args.rotations:
        return None
    if args.bounds is not None:
        pairs = [(args.bounds[i], args.bounds[i + 1]) for i in range(0, len(args.bounds), 2)]
    elif args.input is None:
        pairs = [(0.0, 1.0)] * (args.dim or 2)
    else:
        return None  # the points' bounding box: judged once the file is read
    domain = "periodic" if args.periodic else "box"
    try:
        geo = pd._Geometry(domain, np.empty((0, len(pairs))), pairs, "bounds")
        if args.periodic and args.n <= pd._MAX_COUNT:  # beyond: a MemoryError, later
            pd.check_periodic_reach(geo, 2.0 * geo.r_max(args.n))
    except ValueError as exc:
        return _cli_message(exc, args)
    return None


def _write_outputs(args: argparse.Namespace, result: np.ndarray, plot_pts: np.ndarray,
                   title: str) -> None:
    """-o and --plot, both or neither: each regular file goes to a temporary file first, and
    they replace their targets only once both are written (a plot that fails on the way, a
    full disk, leaves no -o file behind either); streams (/dev/stdout, a pipe) are written in
    place, as CSV unless their name ends in .npy."""
    csv = Path(args.output).suffix.lower() != ".npy"
    with contextlib.ExitStack() as outputs:
        out = outputs.enter_context(atomic_output(args.output, "w" if csv else "wb"))
        plot = None if args.plot is None else outputs.enter_context(
            atomic_output(args.plot, "wb"))
        if csv:
            fmt = "%d" if result.dtype.kind in "iu" else "%.17g"
            np.savetxt(out, result, delimiter=",", fmt=fmt)
        else:
            np.save(out, result)  # type: ignore[arg-type]
        if plot is not None:
            _plot(plot, plot_pts, title)


def _plot(f: IO[Any], pts: np.ndarray, title: str) -> None:
    """The points' first two coordinates as a PNG, into the open binary file f."""
    if importlib.util.find_spec("matplotlib") is None:
        from hotloop._pictures import scatter_panel

        scatter_panel(pts, title).save(f, format="PNG")
        return
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 6), dpi=100)
    try:
        if pts.shape[1] == 1:
            ax.scatter(pts[:, 0], np.zeros(len(pts)), s=4)
        else:
            ax.scatter(pts[:, 0], pts[:, 1], s=max(1.0, 4000.0 / len(pts)))
            ax.set_aspect("equal")
        ax.set_title(title)
        fig.savefig(f, format="png")
    finally:
        plt.close(fig)


def _compute(args: argparse.Namespace, pd: Any, domain: str, bounds: Any,
             bar: Any) -> tuple[np.ndarray, np.ndarray, str]:
    """Run the elimination the arguments ask for: (result to write, points to plot, label)."""
    if args.input is not None:
        points = _load(args.input)
        d = points.shape[1] if points.ndim == 2 else None
        if bounds is not None and d is not None and len(bounds) != d:
            args._parser.error(f"--bounds: {len(bounds)} pairs lo hi, but the points in "
                               f"{args.input} have {d} coordinates")
        chosen = pd.eliminate(points, args.n, bounds=bounds, domain=domain,
                              progressive=args.progressive, threads=args.threads, progress=bar)
        result = chosen if args.indices else np.asarray(points)[chosen]
        plot_pts = np.asarray(points, dtype=float)[chosen]
        what = f"{args.n} of {len(points)} input points"
    else:
        seed = args.seed
        if seed is None:
            import secrets

            seed = secrets.randbits(63)
            print(f"seed: {seed}", file=sys.stderr)
        oversample = 5.0 if args.oversample is None else args.oversample
        common: dict[str, Any] = dict(oversample=oversample, seed=seed,
                                      progressive=args.progressive, threads=args.threads,
                                      progress=bar)
        if domain == "rotations":
            result = pd.sample_rotations(args.n, **common)
        elif domain == "sphere":
            result = pd.sample_sphere(args.n, dim=args.dim or 3, **common)
        else:
            dim = args.dim or (len(bounds) if bounds is not None else 2)
            if bounds is None:
                bounds = [(0.0, 1.0)] * dim
            result = pd.sample(args.n, bounds, domain=domain, **common)
        plot_pts = result
        what = f"{args.n} rotations" if domain == "rotations" else f"{args.n} {domain} points"
    return result, plot_pts, what

def _usage_problem(args: argparse.Namespace) -> str | None:
    """What is wrong with the combination of arguments, as a usage error (exit 2), or None.
    Checked before anything is computed or written, so no run ends in a usage mistake."""
    from hotloop.poisson import MAX_DIM

    if args.input is not None:
        # These only shape the random candidates, which --input replaces: refused rather
        # than silently ignored.
        given = [flag for flag, value in (("--dim", args.dim), ("--seed", args.seed),
                                          ("--oversample", args.oversample)) if value is not None]
        if given:
            return (f"{', '.join(given)}: not used with --input (the points are read, not "
                    "drawn; their dimension is the file's)")
    elif args.indices:
        return "--indices needs --input (the indices are rows of the input file)"
    if Path(args.output).suffix.lower() not in (".npy", ".csv") and not is_stream(
            args.output, Path(args.output).resolve()):
        return (f"-o {args.output}: the output must end in .npy or .csv (or be a stream such "
                "as /dev/stdout or a pipe, written as CSV)")
    plot_problem = png_plot_problem(args.plot)
    if plot_problem is not None:
        return plot_problem
    curved = "--rotations" if args.rotations else "--sphere" if args.sphere else None
    if curved is not None:
        if args.periodic:
            return f"--periodic applies to boxes, not to {curved}"
        if args.bounds is not None:
            return f"--bounds applies to boxes, not to {curved}"
    if args.rotations and args.dim is not None:
        return "--dim: not used with --rotations (unit quaternions have 4 coordinates)"
    if args.sphere and args.dim is not None and not 2 <= args.dim <= MAX_DIM:
        return f"--dim: the sphere's ambient dimension is 2 to {MAX_DIM}, got {args.dim}"
    if not (args.sphere or args.rotations) and args.dim is not None and args.dim > MAX_DIM:
        return f"--dim: expected 1 to {MAX_DIM}, got {args.dim}"
    if args.periodic and args.input is not None and args.bounds is None:
        return "--periodic with --input needs --bounds: the box the points repeat in"
    if args.bounds is not None:
        if len(args.bounds) % 2:
            return f"--bounds: expected pairs lo hi, got {len(args.bounds)} numbers"
        pairs = len(args.bounds) // 2
        if args.dim is not None and pairs != args.dim:
            return f"--bounds: {pairs} pairs lo hi, but --dim is {args.dim}"
        if pairs > MAX_DIM:
            return f"--bounds: {pairs} pairs lo hi; the dimension is 1 to {MAX_DIM}"
        for i in range(pairs):
            lo, hi = args.bounds[2 * i], args.bounds[2 * i + 1]
            if not lo < hi:
                return f"--bounds: pair {i} is {lo:g} {hi:g}; expected lo < hi"
    if args.oversample is not None and not args.oversample > 1.0:
        return f"--oversample: expected more than 1 candidate per point, got {args.oversample:g}"
    return _box_problem(args)


def run(args: argparse.Namespace) -> int:
    import hotloop.poisson as pd

    problem = _usage_problem(args)
    if problem is not None:
        args._parser.error(problem)
    # fail before the work: an output path that cannot be written
    check_output_path(args.output)
    if args.plot is not None:
        check_output_path(args.plot)
    domain = "rotations" if args.rotations else "sphere" if args.sphere else (
        "periodic" if args.periodic else "box")
    bounds = None
    if args.bounds is not None:
        bounds = [(args.bounds[i], args.bounds[i + 1]) for i in range(0, len(args.bounds), 2)]
    t0 = time.perf_counter()
    with ProgressBar("poisson") as bar:  # drawn on stderr when it is a terminal
        try:
            result, plot_pts, what = _compute(args, pd, domain, bounds, bar)
        except (ValueError, TypeError, MemoryError) as exc:  # the API's, naming its arguments
            raise CLIError(_cli_message(exc, args)) from None
    elapsed = time.perf_counter() - t0
    _write_outputs(args, result, plot_pts, f"hotloop poisson: {what}")
    print(f"{what} in {elapsed:.3f} s -> {args.output}", file=sys.stderr)
    return 0
