"""Build the C test runner with meson (test-only helper shared by the C-test modules).

The C tests are built from the source tree into ``build/ctest-<variant>`` (incremental across
runs) with warnings as errors; the ``asan`` variant adds AddressSanitizer and
UndefinedBehaviorSanitizer.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BUILD = Path(os.environ.get("HOTLOOP_CTEST_BUILD", ROOT / "build"))


def tool_env() -> dict[str, str]:
    """The environment with this interpreter's scripts (meson, ninja) first on PATH."""
    env = dict(os.environ)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    return env


def meson_cmd() -> list[str]:
    exe = shutil.which("meson", path=tool_env()["PATH"])
    return [exe] if exe else [sys.executable, "-m", "mesonbuild.mesonmain"]


def build_ctests(variant: str) -> Path:
    """Configure (once) and build the C test runner; return its path."""
    builddir = BUILD / f"ctest-{variant}"
    options = ["-Dctests=true", "-Dwerror=true", "--buildtype=debugoptimized"]
    if variant == "asan":
        options += ["-Dpython=false", "-Db_sanitize=address,undefined", "-Db_lundef=false"]
    else:
        # The release variant also compiles the binding (ext/), so -Werror covers it too.
        options += ["-Dpython=true"]
    env = tool_env()
    if not (builddir / "build.ninja").exists():
        subprocess.run(
            [*meson_cmd(), "setup", str(builddir), str(ROOT), *options],
            check=True, env=env, capture_output=True, text=True,
        )
    proc = subprocess.run(
        [*meson_cmd(), "compile", "-C", str(builddir)], env=env, capture_output=True, text=True
    )
    if proc.returncode != 0:
        raise AssertionError(f"C build ({variant}) failed:\n{proc.stdout}\n{proc.stderr}")
    return builddir / "core" / "tests" / "hl_ctest"
