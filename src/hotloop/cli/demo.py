"""``hotloop demo [--out DIR]``: the main job, every kernel on its source document's workload."""

from __future__ import annotations

import argparse
from typing import Any


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "demo",
        help="run every kernel on its source document's workload and write pictures",
        description="Run each kernel on its source document's workload, print what it computed "
        "and how long it took, and write pictures into DIR.",
    )
    parser.add_argument("--out", default="hotloop-demo", metavar="DIR",
                        help="where the pictures go (default: ./hotloop-demo)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from hotloop.demo import run_demo

    run_demo(args.out)
    return 0
