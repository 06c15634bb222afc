"""The ``hotloop`` command as a user runs it: version, usage errors, exit codes, safe output."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

import pytest

from hotloop.cli import main
from hotloop.cli._common import CLIError, atomic_output, check_output_path, positive_int


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hotloop", *args],
        capture_output=True, text=True, env={**os.environ, **(env or {})}, timeout=300,
    )


def test_version_lists_python_features_and_threads() -> None:
    proc = run_cli("--version")
    assert proc.returncode == 0
    out = proc.stdout
    assert out.startswith("hotloop 0.1.0")
    assert "Python 3." in out and "CPU features active" in out and "threads:" in out


def test_version_follows_disabled_features() -> None:
    full = run_cli("--version").stdout
    masked = run_cli("--version", env={"HOTLOOP_DISABLE_CPU_FEATURES": "avx512,avx2"}).stdout
    assert "SIMD level: scalar" in masked
    active_line = next(line for line in masked.splitlines() if "active" in line)
    assert "avx2" not in active_line.split("(")[0]
    if "avx2" in full.split("(")[0]:
        assert full != masked


def test_console_script_installed() -> None:
    exe = Path(sys.executable).parent / "hotloop"
    if not exe.exists():
        pytest.skip("console script not installed next to this interpreter")
    proc = subprocess.run([str(exe), "--version"], capture_output=True, text=True)
    assert proc.returncode == 0 and "hotloop" in proc.stdout


def test_no_command_and_unknown_command_are_usage_errors() -> None:
    assert run_cli().returncode == 2
    proc = run_cli("frobnicate")
    assert proc.returncode == 2
    assert "usage:" in proc.stderr


@pytest.mark.parametrize(
    ("argv", "command"),
    [(["julia", "--bogus"], "julia"), (["julia", "-R", "10", "extra"], "julia"),
     (["gibbs", "d.csv", "--nu", "6", "--zzz"], "gibbs"), (["poisson", "5", "-o", "x", "y"],
                                                          "poisson"),
     (["count", "--zz"], "count"), (["demo", "extra"], "demo"), (["bench", "--x"], "bench"),
     (["--zz"], None), (["--zz", "julia"], None), (["--zz", "julia", "-R", "5", "q"], None)],
)
def test_unknown_arguments_show_the_commands_own_usage(
    argv: list[str], command: str | None, capsys: pytest.CaptureFixture[str]
) -> None:
    """argparse reports a subcommand's unknown arguments from the top-level parser, with
    hotloop's usage; the user needs the usage of the command typed. Those typed before the
    command are the top level's."""
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    err = capsys.readouterr().err.splitlines()
    prog = "hotloop" if command is None else f"hotloop {command}"
    assert err[0].startswith(f"usage: {prog} ["), err
    unknown = [a for a in argv if a in ("--zz", "q")] if command is None else argv[-1:]
    assert err[-1] == f"{prog}: error: unrecognized arguments: {' '.join(unknown)}", err


def test_bench_rejects_unknown_kernel_with_usage() -> None:
    proc = run_cli("bench", "nope")
    assert proc.returncode == 2
    assert "usage:" in proc.stderr and "unknown kernel" in proc.stderr


def test_runtime_errors_exit_1_with_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    def boom(args: argparse.Namespace) -> int:
        raise CLIError("data.csv: no such file")

    from hotloop import cli

    parser = cli.build_parser()
    args = parser.parse_args(["demo"])
    args.func = boom
    # Drive main's error handling with a parsed namespace.
    original = cli.build_parser

    class _P:
        def parse_known_args(self, argv: object) -> tuple[argparse.Namespace, list[str]]:
            return args, []

    cli.build_parser = _P  # type: ignore[assignment]
    try:
        assert main([]) == 1
    finally:
        cli.build_parser = original
    err = capsys.readouterr().err
    assert err.strip() == "hotloop demo: error: data.csv: no such file"


def test_atomic_output_leaves_nothing_on_failure(tmp_path: Path) -> None:
    target = tmp_path / "out.bin"
    with pytest.raises(RuntimeError), atomic_output(target) as f:
        f.write(b"half")  # type: ignore[arg-type]
        raise RuntimeError("fail mid-write")
    assert list(tmp_path.iterdir()) == []
    with atomic_output(target) as f:
        f.write(b"whole")  # type: ignore[arg-type]
    assert target.read_bytes() == b"whole"
    assert [p.name for p in tmp_path.iterdir()] == ["out.bin"]


def test_atomic_output_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(CLIError, match="does not exist"), atomic_output(tmp_path / "no" / "x"):
        pass


def test_output_errors_name_the_output_not_the_temporary_file(tmp_path: Path) -> None:
    (tmp_path / "dir").mkdir()
    (tmp_path / "file").write_text("x")
    cases = [
        (str(tmp_path / "dir"), "is a directory"),
        ("", "output file name is empty"),
        (str(tmp_path / "file" / "x.png"), f"{tmp_path / 'file'} is not a directory"),
        (str(tmp_path / "no" / "x.png"), "does not exist"),
        (str(tmp_path / "new") + os.sep, "cannot end with"),
    ]
    for path, words in cases:
        for check in (check_output_path, _open_atomic):
            with pytest.raises(CLIError) as info:
                check(path)
            assert words in str(info.value) and ".tmp" not in str(info.value), (path, info)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dir", "file"]
    assert list((tmp_path / "dir").iterdir()) == []


def _open_atomic(path: str) -> None:
    with atomic_output(path) as f:
        f.write(b"data")  # type: ignore[arg-type]


def test_atomic_output_follows_a_symlink_and_keeps_it(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    link = tmp_path / "link.png"
    link.symlink_to(tmp_path / "real" / "target.png")  # dangling until written
    for data in (b"first", b"second"):
        _write(link, data)
        assert link.is_symlink() and (tmp_path / "real" / "target.png").read_bytes() == data
    assert sorted(p.name for p in (tmp_path / "real").iterdir()) == ["target.png"]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_atomic_output_writes_into_a_fifo_instead_of_replacing_it(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    count = f"print(len(open({str(fifo)!r}, 'rb').read()))"
    reader = subprocess.Popen([sys.executable, "-c", count], stdout=subprocess.PIPE, text=True)
    _write(fifo, b"x" * 1000)
    out, _ = reader.communicate(timeout=30)
    assert out.strip() == "1000"
    assert fifo.is_fifo()


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_a_failed_write_is_one_error_naming_the_output(tmp_path: Path) -> None:
    with pytest.raises(CLIError, match=r"^/dev/full: cannot write: No space left on device$"):
        _write("/dev/full", b"x" * 100_000)
    assert Path("/dev/full").is_char_device()
    # a regular file: the temporary file goes, the old output stays
    target = tmp_path / "out.bin"
    target.write_bytes(b"old")
    with pytest.raises(CLIError, match=r"out.bin: cannot write: No space left on device"), \
            atomic_output(target):
        raise OSError(28, "No space left on device")  # what a failed write() raises
    assert target.read_bytes() == b"old" and [p.name for p in tmp_path.iterdir()] == ["out.bin"]
    # an error that names its own file (an input) is left alone
    with pytest.raises(FileNotFoundError), atomic_output(target):
        open(tmp_path / "missing")  # noqa: SIM115
    assert target.read_bytes() == b"old"


def test_atomic_output_keeps_an_existing_files_permissions(tmp_path: Path) -> None:
    target = tmp_path / "out.bin"
    target.write_bytes(b"old")
    target.chmod(0o640)
    _write(target, b"new")
    assert target.read_bytes() == b"new" and (target.stat().st_mode & 0o777) == 0o640
    target.chmod(0o444)
    if os.geteuid() != 0:  # root may write anything, as with the shell's >
        with pytest.raises(CLIError, match=r"out\.bin: cannot write: the file is read-only"):
            _write(target, b"newer")
        assert target.read_bytes() == b"new"
    else:
        _write(target, b"newer")
        assert (target.stat().st_mode & 0o777) == 0o444


@pytest.mark.skipif(not os.path.exists("/dev/stdout"), reason="needs /dev/stdout")
def test_output_to_dev_stdout_follows_what_was_printed(tmp_path: Path) -> None:
    """``-o /dev/stdout`` with stdout redirected to a file or a pipe: the draws come after the
    summary printed first (the file is neither replaced by name nor truncated)."""
    data = tmp_path / "d.csv"
    data.write_text("1\n2\n4\n7\n")
    args = [sys.executable, "-m", "hotloop", "gibbs", str(data), "--nu", "4", "--draws", "5",
            "--burn-in", "5", "--chains", "1", "--seed", "1", "-o", "/dev/stdout"]
    out = tmp_path / "out.txt"
    with open(out, "wb") as f:
        assert subprocess.run(args, stdout=f, timeout=120, check=False).returncode == 0
    piped = subprocess.run(args, capture_output=True, timeout=120, check=False)
    assert piped.returncode == 0, piped.stderr
    for text in (out.read_text(), piped.stdout.decode()):
        assert text.index("r_hat") < text.index("chain,draw,mu,sigma2"), text
        assert len(text.splitlines()) == 5 + 6, text  # summary (5 lines), header, 5 draws
    # The shell's file offset moves past the draws, so what the next command writes to the
    # same redirection comes after them (opened again by name, the file had an offset of its
    # own, and "next" overwrote the start of the output).
    with open(out, "wb") as f:
        for cmd in (args, [sys.executable, "-c", "print('next')"]):
            assert subprocess.run(cmd, stdout=f, timeout=120, check=False).returncode == 0
    lines = out.read_text().splitlines()
    assert len(lines) == 5 + 6 + 1 and lines[-1] == "next" and lines[0].startswith("scaled"), lines


@pytest.mark.skipif(not os.path.isdir("/dev/shm"), reason="needs /dev/shm")
def test_a_regular_file_under_dev_is_replaced_not_appended_to() -> None:
    """Only names of open streams (/dev/stdout, /dev/fd/N) and files that are not regular
    are written to in place; a file in /dev/shm is an ordinary output."""
    path = Path(f"/dev/shm/hotloop-test-{os.getpid()}.bin")
    try:
        for data in (b"first", b"2nd"):
            _write(path, data)
        assert path.read_bytes() == b"2nd"
    finally:
        path.unlink(missing_ok=True)


def test_check_output_path_sees_read_only_files_and_link_targets(tmp_path: Path) -> None:
    """Checked before the work, as atomic_output checks when it writes."""
    check_output_path("/dev/null")  # written in place: /dev itself need not be writable
    target = tmp_path / "ro.bin"
    target.write_bytes(b"x")
    target.chmod(0o444)
    missing = tmp_path / "link.bin"
    missing.symlink_to(tmp_path / "gone" / "x.bin")
    with pytest.raises(CLIError, match="gone does not exist"):
        check_output_path(missing)
    if os.geteuid() != 0:  # root may write anything
        with pytest.raises(CLIError, match="read-only"):
            check_output_path(target)


def _write(path: str | Path, data: bytes) -> None:
    with atomic_output(path) as f:
        f.write(data)  # type: ignore[arg-type]


def test_positive_int_says_the_least_value_is_1() -> None:
    for text in ("-5", "0"):
        with pytest.raises(argparse.ArgumentTypeError, match="integer >= 1"):
            positive_int(text)
    with pytest.raises(argparse.ArgumentTypeError, match="expected an integer"):
        positive_int("x")
    assert positive_int("7") == 7


def test_demo_runs_and_writes_into_out_dir(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    proc = run_cli("demo", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    assert "demo(s) done" in proc.stdout
    assert out.is_dir()


def test_integer_flags_beyond_printing_are_described() -> None:
    from hotloop.cli._common import non_negative_int, positive_int, seed_value

    with pytest.raises(argparse.ArgumentTypeError, match=r"at most 4300 digits, got "
                                                         r"'999999999999...999999999999' \(5000 c"):
        positive_int("9" * 5000)
    with pytest.raises(argparse.ArgumentTypeError, match=r"4300 digits, got '-99999999999.*\(5001"):
        non_negative_int("-" + "9" * 5000)
    assert non_negative_int("0" * 5000) == 0
    with pytest.raises(argparse.ArgumentTypeError, match=r"2\^64 - 1, got 18446744073709551621$"):
        seed_value(str(2**64 + 5))
    with pytest.raises(argparse.ArgumentTypeError,
                       match=r"2\^64 - 1, got '100000000000[.]{3}0+' \(91 ch"):
        seed_value("1" + "0" * 90)
    with pytest.raises(argparse.ArgumentTypeError) as info:
        positive_int("x" * 5000)
    assert len(str(info.value)) < 100
    with pytest.raises(argparse.ArgumentTypeError, match="got -3"):
        non_negative_int("-3")
    assert positive_int(" 12 ") == 12


def _run_into_closed_pipe(*args: str, take: int) -> tuple[int, str]:
    """Runs ``python -m hotloop ARGS`` with its stdout a pipe whose reader closes it after
    ``take`` bytes (``| head -c TAKE``); returns the exit code and stderr."""
    proc = subprocess.Popen([sys.executable, "-m", "hotloop", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.read(take)
    proc.stdout.close()
    err = proc.stderr.read().decode()
    return proc.wait(timeout=300), err


@pytest.mark.parametrize("args", [
    ("poisson", "20000", "--seed", "1", "-o", "/dev/stdout"),  # an output stream
    ("gibbs", "DATA", "--nu", "4", "--draws", "200000"),  # the summary, after its header
    ("--version",),  # printed by argparse's action
], ids=["poisson-output", "gibbs-summary", "version"])
def test_a_reader_that_stops_reading_ends_the_command_quietly(
        args: tuple[str, ...], tmp_path: Path) -> None:
    """``hotloop ... | head`` ends as ``seq | head`` does: exit 141 (128 + SIGPIPE) and no
    message; it used to say "error: /dev/stdout: cannot write: Broken pipe" (exit 1), or print
    a traceback for --version."""
    data = tmp_path / "data.csv"
    data.write_text("\n".join(str(v) for v in range(-20, 20)) + "\n")
    args = tuple(str(data) if a == "DATA" else a for a in args)
    code, err = _run_into_closed_pipe(*args, take=0 if args == ("--version",) else 10)
    assert code == 141, err
    assert "rror" not in err and "Traceback" not in err, err


def test_count_into_a_closed_pipe_ends_quietly(tmp_path: Path) -> None:
    lines = tmp_path / "lines.txt"
    lines.write_text("a\nb\n")
    code, err = _run_into_closed_pipe("count", str(lines), take=0)
    assert (code, err) == (141, ""), err


def test_ctrl_c_while_the_command_line_is_imported(monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    """A Ctrl-C while ``hotloop.cli`` (and NumPy) load is "interrupted" and exit 130, not a
    traceback: the console script imports the command line inside its guard."""
    import builtins

    from hotloop import _console

    real_import = builtins.__import__

    def interrupted_import(name: str, *args: object, **kwargs: object) -> object:
        if name == "hotloop.cli":
            raise KeyboardInterrupt
        return real_import(name, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(builtins, "__import__", interrupted_import)
    assert _console.main() == 130
    assert capsys.readouterr().err == "hotloop: interrupted\n"


def test_ctrl_c_while_the_parser_is_built(monkeypatch: pytest.MonkeyPatch,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    """build_parser imports every subcommand's module: a Ctrl-C there is answered too."""
    from hotloop import cli

    def interrupted() -> argparse.ArgumentParser:
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "build_parser", interrupted)
    assert cli.main(["poisson", "10"]) == 130
    assert capsys.readouterr().err == "hotloop: interrupted\n"


def test_import_hotloop_loads_no_numpy() -> None:
    """``import hotloop`` stays cheap (the console script's guard relies on it: what the
    package's __init__ imports runs before the guard)."""
    code = "import sys, hotloop; print('numpy' in sys.modules, hotloop.resolve_threads(2))"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60)
    assert proc.stdout.split() == ["False", "2"], proc.stderr
