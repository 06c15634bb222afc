"""``hotloop gibbs DATA.csv --nu NU``: fit the scaled Student-t model and print the summary."""

from __future__ import annotations

import argparse
import io
import sys
from typing import IO, Any, cast

import numpy as np

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
    parser.add_argument("--nu", type=positive_finite_float, required=True,
                        help="degrees of freedom of the t distribution (> 0)")
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
    return x


def run(args: argparse.Namespace) -> int:
    from hotloop.tmodel import ScaledTModel

    problem = png_plot_problem(args.plot)
    if problem is not None:
        args._parser.error(problem)
    for out in (args.output, args.plot):
        if out is not None:
            check_output_path(out)
    x = read_column(args.data)
    model = ScaledTModel(x, args.nu, seed=args.seed, prior=args.prior)
    model.run(args.burn_in, args.draws, chains=args.chains, thin=args.thin,
              threads=args.threads, progress=args.progress)
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
        buf = io.StringIO()
        np.savetxt(buf, table, delimiter=",", fmt=["%d", "%d", "%.17g", "%.17g"],
                   header="chain,draw,mu,sigma2", comments="")
        with atomic_output(args.output, "wb") as f:
            cast(IO[bytes], f).write(buf.getvalue().encode())
        print(f"draws written to {args.output}", file=sys.stderr)
    if args.plot is not None:
        from hotloop.tmodel.plot import plot_draws

        with atomic_output(args.plot, "wb") as f:
            plot_draws(d, cast(IO[bytes], f),
                       title=f"scaled t, nu = {args.nu:g}, n = {x.size}")
        print(f"plot written to {args.plot}", file=sys.stderr)
    return 0
