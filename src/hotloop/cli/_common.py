"""Helpers every subcommand shares: the runtime error type, safe output files, argument types."""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO


class CLIError(Exception):
    """An expected failure of a subcommand: printed as one line, exit code 1."""


@contextlib.contextmanager
def atomic_output(path: str | os.PathLike[str], mode: str = "wb") -> Iterator[IO[bytes] | IO[str]]:
    """Open a temporary file beside ``path`` and rename it to ``path`` only on success.

    A failed or interrupted run never leaves a half-written file (nor the temporary one). The
    directory must exist and be writable; otherwise ``CLIError`` names the path.
    """
    target = Path(path)
    directory = target.parent if str(target.parent) else Path(".")
    if not directory.is_dir():
        raise CLIError(f"{target}: directory {directory} does not exist")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
    except OSError as exc:
        raise CLIError(f"{target}: cannot write: {exc.strerror}") from None
    try:
        with os.fdopen(fd, mode) as handle:
            yield handle
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def check_output_path(path: str | os.PathLike[str]) -> None:
    """Fail early (``CLIError``) when ``path`` cannot be written by :func:`atomic_output`: its
    directory missing or not writable. Called before a long computation, so a typo in ``-o``
    does not cost the whole run; atomic_output still checks again when it writes."""
    target = Path(path)
    directory = target.parent if str(target.parent) else Path(".")
    if not directory.is_dir():
        raise CLIError(f"{target}: directory {directory} does not exist")
    if not os.access(directory, os.W_OK | os.X_OK):
        raise CLIError(f"{target}: cannot write: directory {directory} is not writable")
    if target.is_dir():
        raise CLIError(f"{target}: is a directory")


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def add_threads_argument(parser: argparse.ArgumentParser) -> None:
    """``--threads N`` (default: $HOTLOOP_NUM_THREADS or all cores; 0 = all cores)."""
    parser.add_argument(
        "--threads",
        type=non_negative_int,
        default=None,
        metavar="N",
        help="threads to use (default: $HOTLOOP_NUM_THREADS or all cores; 0 = all cores)",
    )


def non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {value}")
    return value


def positive_int(text: str) -> int:
    value = non_negative_int(text)
    if value == 0:
        raise argparse.ArgumentTypeError("expected an integer >= 1, got 0")
    return value


def finite_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return value
