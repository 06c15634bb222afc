"""Static checks that CI enforces: C formatting (clang-format 18, .clang-format), ruff, mypy
--strict. Compiler warnings are errors in the C test builds (tests/test_c_core.py)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _tool(name: str) -> str:
    exe = shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)
    if exe is None:
        pytest.fail(f"{name} is not installed: pip install '.[test]'")
    return exe


def _c_files() -> list[str]:
    files = []
    for folder in ("core", "ext"):
        files += [str(p) for p in (ROOT / folder).rglob("*.[ch]")]
    return sorted(files)


def test_c_sources_are_clang_formatted() -> None:
    exe = _tool("clang-format")
    version = subprocess.run([exe, "--version"], capture_output=True, text=True).stdout
    assert "version 18." in version, f"expected clang-format 18 (the test extra pins it): {version}"
    proc = subprocess.run(
        [exe, "--dry-run", "-Werror", *_c_files()], capture_output=True, text=True, cwd=ROOT
    )
    assert proc.returncode == 0, "run clang-format -i on these:\n" + proc.stderr[-4000:]


def test_ruff_clean() -> None:
    proc = subprocess.run(
        [_tool("ruff"), "check", "src", "tests", "tools"], capture_output=True, text=True, cwd=ROOT
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]


def test_mypy_strict_clean() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file", str(ROOT / "pyproject.toml"),
         str(ROOT / "src" / "hotloop")],
        capture_output=True, text=True, cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stdout[-4000:]
