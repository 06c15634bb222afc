"""``hotloop count``: as a user runs it (a subprocess), and in-process for the details."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from hotloop.cli import main
from hotloop.distinct import Sketch


def run_cli(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "hotloop", "count", *args], input=stdin,
                          capture_output=True, timeout=120, check=False)


def test_lines_crlf_and_last_line(tmp_path: Path) -> None:
    f = tmp_path / "a.txt"
    f.write_bytes(b"a\nb\r\na\n\nc\nb\nlast")
    out = run_cli(str(f))
    assert out.returncode == 0, out.stderr
    assert out.stdout.decode().split()[0] == "5"  # a, b, "", c, last
    out = run_cli("--exact", str(f))
    assert out.stdout.decode().strip() == "5"
    out = run_cli(stdin=b"x\ny\nx\n")
    assert out.stdout.decode().split()[0] == "2"
    out = run_cli("-", stdin=b"")
    assert out.stdout.decode().split()[0] == "0"
    g = tmp_path / "b.txt"
    g.write_bytes(b"last\nzz\n")
    out = run_cli("--exact", str(f), str(g))  # several files: one count
    assert out.stdout.decode().strip() == "6"


def test_estimate_matches_python_sketch_and_sort_u(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    lines = [f"w{i % 30_000}é" for i in range(100_000)]
    f = tmp_path / "words.txt"
    f.write_text("\n".join(lines) + "\n", encoding="utf-8")
    s = Sketch(seed=3)
    s.update(lines)
    assert main(["count", "--seed", "3", str(f)]) == 0
    got = capsys.readouterr().out
    assert got.split()[0] == str(round(s.estimate()))
    assert "bounds" in got
    lo, hi = s.bounds()
    assert lo <= 30_000 <= hi
    assert main(["count", "--exact", str(f)]) == 0
    assert capsys.readouterr().out.strip() == "30000"
    if os.path.exists("/usr/bin/sort"):
        proc = subprocess.run(f"sort -u '{f}' | wc -l", shell=True, capture_output=True,
                              text=True, check=True)
        assert int(proc.stdout) == 30_000


def test_long_lines_grow_the_buffer(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "long.txt"
    big = b"x" * (9 << 20)
    f.write_bytes(big + b"\n" + big + b"y\n" + big + b"\n")
    assert main(["count", "--exact", str(f)]) == 0
    assert capsys.readouterr().out.strip() == "2"


def test_errors_exit_1_with_one_line(tmp_path: Path) -> None:
    out = run_cli(str(tmp_path / "missing.txt"))
    assert out.returncode == 1
    err = out.stderr.decode().strip().splitlines()
    assert len(err) == 1 and "missing.txt" in err[0] and "No such file" in err[0]
    out = run_cli(str(tmp_path))
    assert out.returncode == 1 and len(out.stderr.decode().strip().splitlines()) == 1
    if os.geteuid() != 0:  # root reads anything
        f = tmp_path / "secret.txt"
        f.write_text("x\n")
        f.chmod(0)
        out = run_cli(str(f))
        assert out.returncode == 1 and "Permission denied" in out.stderr.decode()
    out = run_cli("--error", "5", str(tmp_path))
    assert out.returncode == 1
    out = run_cli("--error", "abc")
    assert out.returncode == 2  # usage error
