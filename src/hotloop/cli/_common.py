"""Helpers every subcommand shares: the runtime error type, safe output files, argument types."""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import re
import stat
import sys
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from hotloop._seed import SEED_MAX


class CLIError(Exception):
    """An expected failure of a subcommand: printed as one line, exit code 1."""


def _output_problem(path: str | os.PathLike[str]) -> str | None:
    """Why ``path`` cannot be an output file, as a message naming it, or None.

    Checked before the temporary file is made, so a failure names the user's path, not the
    temporary one (``os.replace`` onto a directory would report the temporary file's name)."""
    text = os.fspath(path)
    if text == "":
        return "the output file name is empty"
    target = Path(text)
    directory = target.parent
    if text.endswith(os.sep):  # Path() would drop it and name a file
        return f"{text}: a file name cannot end with {os.sep}"
    if target.is_dir():
        return f"{text}: is a directory"
    if not directory.exists():
        return f"{text}: directory {directory} does not exist"
    if not directory.is_dir():
        return f"{text}: {directory} is not a directory"
    return None


# Names of an already open stream (the shell's redirection of stdout, a descriptor): written
# to as they are, even when the stream is a regular file, which must not be replaced by name
# (the shell would go on writing to the replaced file).
_STREAM_NAME = re.compile(
    r"/dev/(stdout|stderr)|/dev/fd/(\d+)|/proc/(self|thread-self|\d+)/fd/(\d+)")


def _own_descriptor(shown: str) -> int | None:
    """The descriptor of this process that the stream name ``shown`` stands for (/dev/stdout is
    1, /dev/fd/N and /proc/self/fd/N are N), or None for other names."""
    match = _STREAM_NAME.fullmatch(os.path.abspath(shown))
    if match is None:
        return None
    std, fd, pid, proc_fd = match.groups()
    if std is not None:
        return 1 if std == "stdout" else 2
    if fd is not None:
        return int(fd)
    if pid.isdigit() and int(pid) != os.getpid():
        return None  # another process's descriptor: only its name can reach it
    return int(proc_fd)


def is_stream(shown: str, target: Path) -> bool:
    """Whether the output ``shown`` (resolving to ``target``) is written to directly: a name of
    an open stream, or an existing file that is not a regular one (/dev/null, a FIFO, a
    terminal), which cannot be replaced."""
    return bool(_STREAM_NAME.fullmatch(os.path.abspath(shown))) or (
        target.exists() and not target.is_file())


def _access_problem(shown: str, target: Path, stream: bool) -> str | None:
    """Why the output cannot be written for lack of permission, or None."""
    if stream:
        return None if os.access(shown, os.W_OK) else f"{shown}: cannot write: permission denied"
    if target.is_file() and not os.access(target, os.W_OK):
        return f"{shown}: cannot write: the file is read-only"
    directory = target.parent  # of the file a symbolic link points to: the new file goes there
    if not directory.is_dir():
        return f"{shown}: cannot write: directory {directory} does not exist"
    if not os.access(directory, os.W_OK | os.X_OK):
        return f"{shown}: cannot write: directory {directory} is not writable"
    return None


def _checked_output(path: str | os.PathLike[str]) -> tuple[str, Path, bool]:
    """``path`` as given, the file it resolves to, and whether it is written in place (a
    stream, see is_stream); ``CLIError`` naming it when it cannot be written."""
    problem = _output_problem(path)
    if problem is not None:
        raise CLIError(problem)
    shown = os.fspath(path)
    target = Path(os.path.realpath(path))
    stream = is_stream(shown, target)
    problem = _access_problem(shown, target, stream)
    if problem is not None:
        raise CLIError(problem)
    return shown, target, stream


@contextlib.contextmanager
def atomic_output(path: str | os.PathLike[str], mode: str = "wb") -> Iterator[IO[bytes] | IO[str]]:
    """Open a temporary file beside ``path`` and rename it to ``path`` only on success.

    A failed or interrupted run never leaves a half-written file (nor the temporary one). The
    directory must exist and be writable, and ``path`` must not be a directory; otherwise
    ``CLIError`` names the path. An existing file keeps its permissions (a read-only one is
    refused, as the shell's ``>`` would). A symbolic link is followed: the file it points to is
    replaced and the link stays. A file that is not a regular one (``/dev/null``, a FIFO, a
    terminal) and a name of an open stream (``/dev/stdout``, ``/dev/fd/N``) are written to
    directly, appending after what the process has printed, as a shell redirection would:
    they cannot be replaced. A write that fails (disk full, file too large) raises
    ``CLIError`` naming the path.
    """
    shown, target, stream = _checked_output(path)
    if stream:
        # Appending, after what this process printed: "-o /dev/stdout > file" must not
        # truncate the file the shell opened, nor land before the summary printed first.
        sys.stdout.flush()
        sys.stderr.flush()
        append = mode.replace("w", "a")
        fd = _own_descriptor(shown)
        # A name of our own descriptor (/dev/stdout, /dev/fd/N) is written through a copy of
        # it, which shares its file offset with the shell's: opened again by name, a regular
        # file would get an offset of its own, and "{ hotloop ... -o /dev/stdout; echo next; }
        # > file" would overwrite the start of the output with what comes after it. Other
        # streams (/dev/null, a FIFO) are opened by name.
        try:
            handle = (os.fdopen(os.dup(fd), append) if fd is not None
                      else open(shown, append))  # noqa: SIM115 - closed below
        except OSError as exc:
            raise CLIError(f"{shown}: cannot write: {exc.strerror}") from None
        with _naming_write_errors(shown), handle:
            yield handle
        return
    # a new file gets open()'s permissions; an existing one keeps its own
    permissions = stat.S_IMODE(target.stat().st_mode) if target.is_file() else 0o666 & ~_umask()
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except OSError as exc:
        raise CLIError(f"{shown}: cannot write: {exc.strerror}") from None
    try:
        with _naming_write_errors(shown), os.fdopen(fd, mode) as handle:
            yield handle
        os.chmod(tmp, permissions)
        try:
            os.replace(tmp, target)
        except OSError as exc:  # e.g. a directory created there meanwhile: name the target
            raise CLIError(f"{shown}: cannot write: {exc.strerror}") from None
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


@contextlib.contextmanager
def _naming_write_errors(shown: str) -> Iterator[None]:
    """An OSError without a file name inside an output's block is a failed write or close of
    that output (ENOSPC, EFBIG, EIO): reported as ``CLIError`` naming the output, where
    ``str(exc)`` would give "[Errno 27] File too large" alone. Errors that name their own file
    (an input that cannot be read) pass through, and so does a broken pipe (the reader of a
    stream stopped reading: not an error, see ``hotloop.cli.main``)."""
    try:
        yield
    except OSError as exc:
        if exc.filename is not None or isinstance(exc, BrokenPipeError):
            raise
        raise CLIError(f"{shown}: cannot write: {exc.strerror or exc}") from None


def check_output_path(path: str | os.PathLike[str]) -> None:
    """Fail early (``CLIError``) when ``path`` cannot be written by :func:`atomic_output`: empty,
    a directory, its directory missing, not a directory or not writable, a read-only file.
    Called before a long computation, so a typo in ``-o`` does not cost the whole run;
    atomic_output still checks again when it writes."""
    _checked_output(path)


# What argparse takes for a negative number rather than an option when a value starts with
# "-". Python 3.11's own pattern knows only "-1" and "-1.5", so "-x -1e-3" failed with
# "expected one argument"; this one also takes exponents and "-1.". It takes -inf and -nan too,
# so that the option's own check names the problem, except where a short option is a prefix
# of them (julia's -i makes "-inf" read as "-i nf"): argparse tries the options first, and
# that is a usage error as well. Set per parser: see accept_negative_numbers.
_NEGATIVE_NUMBER = re.compile(
    r"^-(?:(?:\d[\d_]*\.?[\d_]*|\.\d[\d_]*)(?:[eE][-+]?\d+)?|inf|infinity|nan)$", re.IGNORECASE
)


def accept_negative_numbers(parser: argparse.ArgumentParser) -> None:
    """Let ``parser`` read values such as ``-1e-3`` as numbers, not as unknown options. None
    of hotloop's options look like a number, which is what argparse's rule requires."""
    parser._negative_number_matcher = _NEGATIVE_NUMBER


def png_plot_problem(path: str | None) -> str | None:
    """The usage error of a --plot that is not a .png file (the plots are always PNG), or
    None (also for no --plot)."""
    if path is not None and Path(path).suffix.lower() != ".png":
        return f"--plot {path}: the plot must end in .png"
    return None


def loadtxt_quietly(source: str | os.PathLike[str] | IO[str], **kwargs: Any) -> Any:
    """np.loadtxt without its UserWarning for an input with no data: the commands report an
    empty input as their own one-line error."""
    import numpy as np  # here: `hotloop --version` and --help need no NumPy

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return np.loadtxt(source, **kwargs)


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


# What int() reads as an integer (blanks around, a sign, digits with single underscores
# between them); beyond 4300 digits it raises ValueError as for a word.
_INTEGER = re.compile(r"\s*[+-]?\d+(_\d+)*\s*")


def shortened(text: str, width: int = 24) -> str:
    """``repr(text)``, or for a long text its start and end around the number of characters
    left out, so that a message never echoes thousands of digits."""
    if len(text) <= width:
        return repr(text)
    keep = width // 2
    return repr(f"{text[:keep]}...{text[-keep:]}") + f" ({len(text)} characters)"


def read_int(text: str) -> int:
    """``int(text)`` for an integer flag. ArgumentTypeError for a non-integer, and for an
    integer beyond int()'s 4300 digits (out of every flag's range; zeros aside)."""
    try:
        return int(text)
    except ValueError:
        if not _INTEGER.fullmatch(text):
            raise argparse.ArgumentTypeError(
                f"expected an integer, got {shortened(text)}") from None
        if not re.sub(r"[\s+_-]", "", text).lstrip("0"):
            return 0
        raise argparse.ArgumentTypeError(
            f"expected an integer of at most 4300 digits, got {shortened(text.strip())}"
        ) from None


def shown_int(text: str, value: int) -> str:
    """An integer flag's value for a message: its digits, or its shortened text when long."""
    return str(value) if len(text.strip()) <= 24 else shortened(text.strip())


def _int_at_least(text: str, least: int) -> int:
    value = read_int(text)
    if value < least:
        raise argparse.ArgumentTypeError(
            f"expected an integer >= {least}, got {shown_int(text, value)}")
    return value


def non_negative_int(text: str) -> int:
    return _int_at_least(text, 0)


def positive_int(text: str) -> int:
    return _int_at_least(text, 1)


def seed_value(text: str) -> int:
    """A seed for --seed: an integer from 0 to 2^64 - 1 (hotloop._seed's range)."""
    value = _int_at_least(text, 0)
    if value > SEED_MAX:
        raise argparse.ArgumentTypeError(
            f"expected an integer from 0 to 2^64 - 1, got {shown_int(text, value)}")
    return value


def positive_finite_float(text: str) -> float:
    value = finite_float(text)
    if not value > 0.0:
        raise argparse.ArgumentTypeError(f"expected a number > 0, got {text!r}")
    return value


def finite_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return value
