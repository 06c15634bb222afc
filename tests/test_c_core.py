"""Run the C test programs (core/tests) for every CPU-feature path and under ASan + UBSan.

The C runner's last line is ``N passed, N failed``; a test here fails when any C test fails,
and shows the runner's output.
"""

from __future__ import annotations

import os
import re
import subprocess

import pytest

from tests._cbuild import build_ctests

PATHS = {
    "native": "",
    "no-avx512": "avx512",
    "scalar": "avx512,avx2",
}


def run_runner(exe: str, disable: str, extra_env: dict[str, str] | None = None) -> str:
    env = dict(os.environ)
    env["HOTLOOP_DISABLE_CPU_FEATURES"] = disable
    env.update(extra_env or {})
    proc = subprocess.run([exe], env=env, capture_output=True, text=True, timeout=900)
    out = proc.stdout + proc.stderr
    last = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else ""
    m = re.fullmatch(r"(\d+) passed, (\d+) failed", last)
    assert m is not None, f"no summary line:\n{out}"
    assert proc.returncode == 0 and int(m.group(2)) == 0, out
    assert int(m.group(1)) > 0, out
    return out


@pytest.fixture(scope="module")
def runner() -> str:
    return str(build_ctests("release"))


@pytest.mark.parametrize("path", list(PATHS))
def test_c_tests_pass_on_every_cpu_path(runner: str, path: str) -> None:
    out = run_runner(runner, PATHS[path])
    level = {"native": None, "no-avx512": ("avx2", "scalar"), "scalar": ("scalar",)}[path]
    first = out.splitlines()[0]
    if level is not None:
        assert first.split()[-1] in level, first


def test_c_tests_pass_under_asan_and_ubsan() -> None:
    exe = str(build_ctests("asan"))
    run_runner(
        exe,
        "",
        {
            "ASAN_OPTIONS": "detect_leaks=1:abort_on_error=0:halt_on_error=1",
            "UBSAN_OPTIONS": "halt_on_error=1:print_stacktrace=1",
        },
    )
