"""``hotloop gibbs DATA.csv --nu NU``: fit the scaled Student-t model and print the summary."""

from __future__ import annotations

import argparse
import io
import re
import sys
from typing import IO, Any, cast

import numpy as np

from hotloop._numbers import count_text
from hotloop.cli._common import (
    CLIError,
    add_threads_argument,
    atomic_output,
    check_output_path,
    loadtxt_quietly,
    non_negative_int,
    png_plot_problem,
    positive_finite_float,
    positive_int,
    seed_value,
)


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "gibbs",
        help="fit the scaled Student-t model by Gibbs sampling",
        description="Fit x_i ~ t_nu(mu, sigma^2) (BDA3 p. 295, prior p(mu, log sigma) ∝ 1) to "
        "the numbers in the first column of DATA.csv (a header line is skipped) and print the "
        "posterior summary: mean, sd, quantiles, MCSE, bulk/tail ESS, split R-hat.",
    )
    parser.add_argument("data", metavar="DATA.csv", help="CSV file; its first column is used")
    parser.add_argument("--nu", type=nu_value, required=True,
                        help="degrees of freedom of the t distribution (> 0, at most 1e100)")
    parser.add_argument("--burn-in", type=non_negative_int, default=1000, metavar="N",
                        help="sweeps discarded per chain (default 1000)")
    parser.add_argument("--draws", type=positive_int, default=2000, metavar="N",
                        help="draws kept per chain (default 2000)")
    parser.add_argument("--chains", type=positive_int, default=4, metavar="N",
                        help="independent chains (default 4)")
    parser.add_argument("--thin", type=positive_int, default=1, metavar="N",
                        help="keep every N-th sweep (default 1)")
    parser.add_argument("--seed", type=seed_value, default=None,
                        help="random seed (default: from the OS, printed)")
    parser.add_argument("--prior", choices=("log_sigma", "flat"), default="log_sigma",
                        help="prior on sigma: p(log sigma) ∝ 1 (default) or p(sigma^2) ∝ 1")
    parser.add_argument("-o", "--output", metavar="draws.csv",
                        help="write the draws as CSV: chain,draw,mu,sigma2")
    parser.add_argument("--plot", metavar="trace.png",
                        help="write trace and histogram plots (a .png file)")
    parser.add_argument("--progress", action="store_true", help="show a progress bar")
    add_threads_argument(parser)
    parser.set_defaults(func=run, _parser=parser)


# The most sweeps a chain can run (the core counts them in a signed 64-bit size).
_MAX_SWEEPS = 2**63 - 1


def nu_value(text: str) -> float:
    """--nu: a number in (0, MAX_NU] (hotloop.tmodel's bound, beyond which the sampler's
    products of nu could overflow)."""
    from hotloop.tmodel import MAX_NU

    value = positive_finite_float(text)
    if value > MAX_NU:
        raise argparse.ArgumentTypeError(
            f"expected a number in (0, {MAX_NU:g}], got {text!r} (a t model with nu beyond "
            "about 1e15 is the normal model to double precision)")
    return value


def read_column(path: str) -> np.ndarray:
    """The first column of a CSV file as float64, skipping one header line if present."""
    try:
        with open(path, encoding="utf-8-sig") as f:  # -sig: drops a byte-order mark (Excel)
            text = f.read()
    except UnicodeDecodeError:
        raise CLIError(f"{path}: not a text file") from None
    lines = text.splitlines()
    skip = 0
    if lines:
        first = lines[0].split(",")[0].strip()
        try:
            float(first)
        except ValueError:
            skip = 1
    try:
        x: np.ndarray = loadtxt_quietly(io.StringIO(text), delimiter=",", usecols=0,
                                        skiprows=skip, ndmin=1, dtype=np.float64)
    except ValueError as exc:
        raise CLIError(f"{path}: cannot read numbers from the first column: {exc}") from None
    if x.size == 0:
        raise CLIError(f"{path}: no data")
    bad = ~np.isfinite(x)
    if bad.any():  # named here by its place in the column (the model would say data[i])
        i = int(np.argmax(bad))
        raise CLIError(f"{path}: values must be finite; number {i + 1} of the first column "
                       f"is {float(x[i])!r}")
    return x


def run(args: argparse.Namespace) -> int:
    from hotloop.tmodel import ScaledTModel

    problem = png_plot_problem(args.plot)
    if problem is not None:
        args._parser.error(problem)
    sweeps = args.burn_in + args.draws * args.thin
    if sweeps > _MAX_SWEEPS:
        args._parser.error(f"--burn-in + --draws x --thin = {count_text(sweeps)} sweeps per "
                           "chain: too many (at most 2^63 - 1)")
    for out in (args.output, args.plot):
        if out is not None:
            check_output_path(out)
    x = read_column(args.data)
    # The model's errors name its arguments (data, chains, sample_size); the user typed a file
    # name and flags, so its messages are given in those terms.
    try:
        model = ScaledTModel(x, args.nu, seed=args.seed, prior=args.prior)
    except ValueError as exc:
        raise CLIError(_in_cli_terms(str(exc), args.data)) from None
    try:
        model.run(args.burn_in, args.draws, chains=args.chains, thin=args.thin,
                  threads=args.threads, progress=args.progress)
    except MemoryError as exc:
        raise CLIError(_in_cli_terms(str(exc), args.data)) from None
    except OverflowError:
        raise CLIError(
            f"{args.data}: a draw left the range of doubles (for this data the posterior "
            "reaches beyond it: an extreme scale, or values far closer together than the "
            "data's range); rescale the data") from None
    print(f"scaled t model: n = {x.size}, nu = {args.nu:g}, prior {args.prior}, "
          f"seed {model.seed}")
    print(model.summary())
    d = model.draws()
    if args.output is not None:
        chains, draws = d["mu"].shape
        table = np.column_stack([
            np.repeat(np.arange(chains), draws), np.tile(np.arange(draws), chains),
            d["mu"].ravel(), d["sigma2"].ravel(),
        ])
        # straight into the file, a row at a time: the text (about 45 bytes a draw) is never
        # held whole, which for millions of draws was several times the draws' own size
        with atomic_output(args.output, "wb") as f:
            np.savetxt(cast(IO[bytes], f), table, delimiter=",",
                       fmt=["%d", "%d", "%.17g", "%.17g"], header="chain,draw,mu,sigma2",
                       comments="")
        print(f"draws written to {args.output}", file=sys.stderr)
    if args.plot is not None:
        from hotloop.tmodel.plot import plot_draws

        with atomic_output(args.plot, "wb") as f:
            plot_draws(d, cast(IO[bytes], f),
                       title=f"scaled t, nu = {args.nu:g}, n = {x.size}")
        print(f"plot written to {args.plot}", file=sys.stderr)
    return 0


def _in_cli_terms(message: str, path: str) -> str:
    """An error message of hotloop.tmodel in the terms the user typed: ``data:`` becomes the
    file's name, ``chains = 4 x sample_size = 10 draws`` becomes ``--chains 4 x --draws 10``."""
    if message.startswith("data: "):
        message = f"{path}: {message[len('data: '):]}"
    elif message.startswith("nu: "):
        message = f"--nu: {message[len('nu: '):]}"
    return re.sub(r"\bchains = (.+?) x sample_size = (.+?) draws need",
                  r"--chains \1 x --draws \2 need", message)
