"""``hotloop count [FILE ...] [--exact] [--error E] [--seed S]``: distinct lines of files.

The files (or stdin) are read in C with large buffered reads; each line (newline excluded, a
CRLF's carriage return too; a last line without newline counts) is one str item. The default
is the Sketch estimate with its bounds; ``--exact`` counts exactly (keeping one copy of each
distinct line). The Unix equivalent is ``sort -u FILE | wc -l``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import time
from typing import Any

from hotloop.cli._common import CLIError, finite_float, non_negative_int


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "count",
        help="count the distinct lines of files (like sort -u | wc -l, much faster)",
        description="Count the distinct lines of FILEs (or stdin): an estimate with bounds from "
        "a mergeable sketch, or the exact count with --exact. Lines are compared without their "
        "newline (CRLF and LF alike).",
    )
    parser.add_argument("files", nargs="*", metavar="FILE",
                        help="files to read ('-' or none: stdin)")
    parser.add_argument("--exact", action="store_true", help="count exactly (memory grows with "
                        "the distinct lines)")
    parser.add_argument("--error", type=finite_float, default=0.01, metavar="E",
                        help="relative standard error of the sketch (default 0.01: 48 KiB)")
    parser.add_argument("--seed", type=non_negative_int, default=0, metavar="S",
                        help="hash seed of the sketch (default 0)")
    parser.add_argument("--stats", action="store_true",
                        help="also print bytes, lines and throughput on stderr")
    parser.set_defaults(func=run)


def _open_inputs(files: list[str]) -> list[tuple[str, int, bool]]:
    """(name, fd, owned) for each input; opening errors become one-line CLIErrors."""
    out: list[tuple[str, int, bool]] = []
    for name in files or ["-"]:
        if name == "-":
            out.append(("<stdin>", sys.stdin.fileno(), False))
            continue
        if os.path.isdir(name):
            raise CLIError(f"{name}: is a directory")
        try:
            fd = os.open(name, os.O_RDONLY)
        except OSError as exc:
            for _, f, owned in out:
                if owned:
                    os.close(f)
            raise CLIError(f"{name}: {exc.strerror}") from None
        out.append((name, fd, True))
    return out


def run(args: argparse.Namespace) -> int:
    from hotloop import _core
    from hotloop.distinct import Sketch

    sketch = None
    if not args.exact:
        try:
            sketch = Sketch(error=args.error, seed=args.seed)
        except ValueError as exc:
            raise CLIError(str(exc)) from None
    inputs = _open_inputs(list(args.files))
    start = time.perf_counter()
    total_bytes = total_lines = 0
    try:
        if args.exact:
            count, total_bytes, total_lines = _core.exact_count_lines([fd for _, fd, _ in inputs])
            print(f"{count}")
        else:
            assert sketch is not None
            for name, fd, _ in inputs:
                try:
                    nbytes, nlines = sketch._s.update_lines(fd)
                except OSError as exc:
                    raise CLIError(f"{name}: {exc.strerror or exc}") from None
                total_bytes += nbytes
                total_lines += nlines
            est = sketch.estimate()
            lo, hi = sketch.bounds(2.0)
            if sketch.is_exact:
                print(f"{round(est)}\t(exact)")
            else:
                print(f"{round(est)}\t(95% bounds {lo:.0f}..{hi:.0f}, +-{100 * sketch.error:.2g}% "
                      "standard error)")
    except BrokenPipeError:
        raise  # the reader of stdout went away: hotloop.cli.main ends quietly
    except OSError as exc:
        raise CLIError(exc.strerror or str(exc)) from None
    finally:
        for _, fd, owned in inputs:
            if owned:
                with contextlib.suppress(OSError):
                    os.close(fd)
    if args.stats:
        dt = time.perf_counter() - start
        rate = total_bytes / dt / 1e6 if dt > 0 else float("inf")
        print(f"{total_bytes} bytes, {total_lines} lines in {dt:.3f} s ({rate:.0f} MB/s)",
              file=sys.stderr)
    return 0
