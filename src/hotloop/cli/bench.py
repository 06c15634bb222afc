"""``hotloop bench [KERNEL ...] [--quick] [--json FILE]``."""

from __future__ import annotations

import argparse
from typing import Any


def register(subparsers: Any) -> None:
    from hotloop.bench import KERNELS

    parser: argparse.ArgumentParser = subparsers.add_parser(
        "bench",
        help="run the source documents' benchmarks",
        description="Run the source documents' workloads with every available implementation "
        "in one process and print medians and ratios to hotloop.",
    )
    def kernel_name(text: str) -> str:
        if text not in KERNELS:
            raise argparse.ArgumentTypeError(
                f"unknown kernel {text!r} (choose from {', '.join(KERNELS)})"
            )
        return text

    parser.add_argument("kernels", nargs="*", metavar="KERNEL", type=kernel_name,
                        help=f"kernels to run (default: all of {', '.join(KERNELS)})")
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    parser.add_argument("--repeats", type=int, default=None, metavar="N",
                        help="timed runs per implementation (default: 5, or 3 with --quick)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from hotloop.bench import run_benchmarks

    run_benchmarks(args.kernels or None, quick=args.quick, json_path=args.json,
                   repeats=args.repeats)
    return 0
