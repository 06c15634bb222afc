"""The ``hotloop`` command.

Each kernel's subcommand lives in its own module of this package (``julia``, ``poisson``,
``count``, ``gibbs``) with a ``register(subparsers)`` function that adds its parser and sets
``func`` (``args -> int``). ``bench`` and ``demo`` are registered the same way.

Exit codes: 0 success; 1 an expected runtime failure (bad file, bad value found while running),
reported as one line on stderr without a traceback; 2 a usage error (argparse prints the usage
line); 130 interrupted by Ctrl-C; 141 (128 + SIGPIPE, what ``seq`` or ``cat`` give) when the
reader of the output stopped reading (``hotloop poisson 1000 -o /dev/stdout | head``), quietly,
as those tools end.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import platform
import sys
from collections.abc import Sequence

from hotloop._core import HotloopError
from hotloop._threads import resolve_threads
from hotloop._version import __version__
from hotloop.cli._common import CLIError, accept_negative_numbers
from hotloop.cpu import cpu_features

# Subcommand modules, in the order `hotloop --help` lists them. A module that is missing
# (a kernel not built into this version) is skipped.
COMMAND_MODULES = ("julia", "poisson", "count", "gibbs", "bench", "demo")


def version_text() -> str:
    """The text of ``hotloop --version``: version, Python, CPU features, threads."""
    info = cpu_features()
    try:
        threads = str(resolve_threads(None))
    except ValueError as exc:
        threads = f"invalid ({exc})"
    active = ", ".join(info["active"]) or "none"
    detected = ", ".join(info["detected"]) or "none"
    return (
        f"hotloop {__version__}\n"
        f"Python {platform.python_version()} ({platform.python_implementation()}, "
        f"{platform.machine()})\n"
        f"CPU features active: {active} (detected: {detected})\n"
        f"SIMD level: {info['simd_level']}\n"
        f"threads: {threads} (cores: {info['cpu_count']})"
    )


class _VersionAction(argparse.Action):
    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: object) -> None:
        super().__init__(option_strings, dest, nargs=0, help="show version, CPU features, exit")

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: object,
        option_string: str | None = None,
    ) -> None:
        print(version_text())
        parser.exit(0)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hotloop",
        description="Hot loops in C: Julia sets, Poisson disc sampling, distinct counting, "
        "a Student-t Gibbs sampler.",
    )
    parser.add_argument("--version", action=_VersionAction)
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(f"hotloop.cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"hotloop.cli.{name}":
                continue
            raise
        module.register(subparsers)
    for sub in (parser, *subparsers.choices.values()):
        accept_negative_numbers(sub)
    for sub in subparsers.choices.values():
        # its unknown arguments are reported with its own usage (see main); the commands whose
        # run() reports usage errors set this themselves, for callers that build their parser
        sub.set_defaults(_parser=sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``hotloop`` command with ``argv`` (default: ``sys.argv[1:]``); return the exit
    code. Ctrl-C and a broken pipe are answered at any moment, also while the parser imports
    the subcommands' modules or prints help."""
    prog = "hotloop"
    try:
        parser = build_parser()
        args, unknown = parser.parse_known_args(argv)
        if args.command is None:
            if unknown:
                parser.error(f"unrecognized arguments: {' '.join(unknown)}")
            parser.print_help()
            return 2
        if unknown:
            # typed before the command: the top level's; after it: the command's, with its
            # usage (argparse reports both from the top level, "hotloop COMMAND ...")
            words = list(sys.argv[1:] if argv is None else argv)
            before = set(words[:words.index(args.command)])
            owner = parser if any(u in before for u in unknown) else args._parser
            owner.error(f"unrecognized arguments: {' '.join(unknown)}")
        prog = f"hotloop {args.command}"
        return _run(prog, args)
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        return _reader_gone()


def _run(prog: str, args: argparse.Namespace) -> int:
    """The subcommand's exit code; its expected failures as one line on stderr (exit 1)."""
    try:
        code: int = args.func(args)
    except (BrokenPipeError, KeyboardInterrupt):
        raise
    except (CLIError, OSError, ValueError, TypeError, MemoryError, OverflowError,
            HotloopError) as exc:
        print(f"{prog}: error: {_one_line(exc)}", file=sys.stderr)
        return 1
    return code


# The exit code after Ctrl-C: 128 + SIGINT, as a shell reports a tool that SIGINT ended.
EXIT_INTERRUPTED = 130

# The exit code of a command whose reader went away: 128 + SIGPIPE, as a shell reports a tool
# that SIGPIPE ended (Python ignores the signal and raises BrokenPipeError instead).
EXIT_BROKEN_PIPE = 141


def _reader_gone() -> int:
    """End quietly after a broken pipe. What is left in stdout's buffer could not be written
    either, and Python's flush of it at exit would print "Exception ignored ... BrokenPipeError":
    if stdout is the broken stream, it is pointed at /dev/null first."""
    try:
        sys.stdout.flush()
    except (BrokenPipeError, ValueError):  # ValueError: stdout already closed
        with contextlib.suppress(OSError, ValueError):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            os.close(devnull)
    return EXIT_BROKEN_PIPE


def _one_line(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror and exc.filename is not None:
        return f"{exc.filename}: {exc.strerror}"
    text = str(exc) or type(exc).__name__
    return " ".join(text.split())
