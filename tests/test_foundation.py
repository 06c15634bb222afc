"""The shared machinery: version, CPU features, threads convention, errors, the GIL-free runner
(Ctrl-C, other threads, progress, leaks) and the random generators seen from Python."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

import numpy as np
import pytest
from scipy import stats

import hotloop
from hotloop import _core
from hotloop._threads import available_cores, resolve_threads
from tests._interrupt import interrupt_after


def test_version_and_public_names() -> None:
    assert hotloop.__version__ == "0.1.0"
    assert issubclass(hotloop.HotloopError, RuntimeError)
    assert _core.CORE_VERSION == 100
    with pytest.raises(AttributeError):
        hotloop.no_such_thing  # noqa: B018


def test_cpu_features_shape() -> None:
    info = hotloop.cpu_features()
    assert set(info) == {"detected", "active", "simd_level", "cpu_count"}
    assert set(info["active"]) <= set(info["detected"])
    assert info["simd_level"] in ("scalar", "avx2", "avx512")
    assert info["cpu_count"] >= 1


def _features_in_subprocess(disable: str) -> str:
    env = dict(os.environ, HOTLOOP_DISABLE_CPU_FEATURES=disable)
    code = "import hotloop; i = hotloop.cpu_features(); print(i['simd_level'], *i['active'])"
    return subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    ).stdout.split()


def test_disable_cpu_features_masks_levels() -> None:
    level_all, *_ = _features_in_subprocess("")
    level, *active = _features_in_subprocess("avx512")
    assert not any(f.startswith("avx512") for f in active)
    assert level in ("avx2", "scalar")
    level, *active = _features_in_subprocess("avx512,avx2")
    assert level == "scalar" and "avx2" not in active
    if "avx2" in hotloop.cpu_features()["detected"]:
        assert level_all != "scalar"


def test_unknown_disable_name_warns() -> None:
    env = dict(os.environ, HOTLOOP_DISABLE_CPU_FEATURES="avx2,sse9")
    proc = subprocess.run(
        [sys.executable, "-W", "always", "-c", "import hotloop"],
        env=env, capture_output=True, text=True, check=True,
    )
    assert "sse9" in proc.stderr


# ---- threads convention ---------------------------------------------------------------------

def test_resolve_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HOTLOOP_NUM_THREADS", raising=False)
    assert resolve_threads(None) == available_cores()
    assert resolve_threads(0) == available_cores()
    assert resolve_threads(3) == 3
    assert resolve_threads(np.int64(2)) == 2
    assert resolve_threads(10_000) == 256
    monkeypatch.setenv("HOTLOOP_NUM_THREADS", "5")
    assert resolve_threads(None) == 5
    assert resolve_threads(2) == 2  # explicit wins
    monkeypatch.setenv("HOTLOOP_NUM_THREADS", "0")
    assert resolve_threads(None) == available_cores()
    for env, want in ((" 7\t", 7), ("+3", 3), ("-0", available_cores()), ("", available_cores()),
                      ("300", 256), ("9" * 40, 256)):
        monkeypatch.setenv("HOTLOOP_NUM_THREADS", env)
        assert resolve_threads(None) == want, env


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="no CPU affinity here")
def test_threads_follow_the_cpu_affinity() -> None:
    assert available_cores() == min(256, len(os.sched_getaffinity(0)))
    code = ("import os; os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]}); "
            "from hotloop._threads import resolve_threads; from hotloop.cpu import cpu_features; "
            "print(resolve_threads(None), resolve_threads(0), cpu_features()['cpu_count'])")
    env = {k: v for k, v in os.environ.items() if k != "HOTLOOP_NUM_THREADS"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == ["1", "1", "1"]


@pytest.mark.parametrize("bad", [-1, -100])
def test_resolve_threads_rejects_negative(bad: int) -> None:
    with pytest.raises(ValueError, match="threads"):
        resolve_threads(bad)


@pytest.mark.parametrize("bad", [1.5, "2", True, [1]])
def test_resolve_threads_rejects_non_int(bad: object) -> None:
    with pytest.raises(TypeError, match="threads"):
        resolve_threads(bad)  # type: ignore[arg-type]


@pytest.mark.parametrize("env", ["two", "-3", "1.5", "+", "1 2", "0x10"])
def test_resolve_threads_rejects_bad_env(monkeypatch: pytest.MonkeyPatch, env: str) -> None:
    monkeypatch.setenv("HOTLOOP_NUM_THREADS", env)
    with pytest.raises(ValueError, match="HOTLOOP_NUM_THREADS"):
        resolve_threads(None)


# ---- the GIL-free runner ----------------------------------------------------------------------

def test_busy_result_does_not_depend_on_threads() -> None:
    sums = {_core._busy(200, 1000, t, 64) for t in (1, 2, 3, 8)}
    assert len(sums) == 1


def test_binding_rejects_bad_threads() -> None:
    with pytest.raises(ValueError, match="threads"):
        _core._busy(1, 1, -1, 0)
    with pytest.raises(TypeError, match="threads"):
        _core._busy(1, 1, 1.0, 0)  # type: ignore[arg-type]


def test_ctrl_c_interrupts_a_long_call_quickly() -> None:
    # 10,000 units of 1 ms on 2 threads would take ~5 s; an interrupt after 0.2 s must raise
    # KeyboardInterrupt within 0.1 s of it.
    for threads in (1, 2):
        start = time.perf_counter()
        with interrupt_after(0.2) as fired, pytest.raises(KeyboardInterrupt):
            _core._busy(10_000, 1_000_000, threads, 1 << 20)
        end = time.perf_counter()
        assert fired, "the timer did not fire"
        assert end - fired[0] < 0.1, f"took {end - fired[0]:.3f} s to answer Ctrl-C"
        assert end - start < 1.0


def test_other_python_threads_run_during_a_call() -> None:
    ticks = 0
    stop = threading.Event()

    def count() -> None:
        nonlocal ticks
        while not stop.is_set():
            ticks += 1
            time.sleep(0.001)

    worker = threading.Thread(target=count)
    worker.start()
    try:
        _core._busy(300, 1_000_000, 1, 0)  # ~0.3 s in C
    finally:
        stop.set()
        worker.join()
    assert ticks > 50, "the GIL was not released during the core call"


def test_progress_callback_sees_the_work_and_can_cancel() -> None:
    seen: list[tuple[int, int]] = []
    _core._busy(400, 1_000_000, 2, 0, progress=lambda d, t: seen.append((d, t)))
    assert seen[-1] == (400, 400)
    assert all(t == 400 for _, t in seen)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)

    class Stop(Exception):
        pass

    def stop(done: int, total: int) -> None:
        raise Stop

    t0 = time.perf_counter()
    with pytest.raises(Stop):
        _core._busy(10_000, 1_000_000, 2, 0, progress=stop)
    assert time.perf_counter() - t0 < 1.0


def _rss_bytes() -> int:
    with open("/proc/self/statm", encoding="ascii") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="needs /proc")
def test_cancelled_calls_do_not_leak() -> None:
    # Each cancelled call allocates 8 MiB of per-worker scratch; 60 leaked calls would be 480 MiB.
    def cancel(done: int, total: int) -> None:
        raise KeyboardInterrupt

    def once() -> None:
        with pytest.raises(KeyboardInterrupt):
            _core._busy(1000, 200_000, 2, 8 << 20, progress=cancel)

    for _ in range(5):
        once()
    before = _rss_bytes()
    for _ in range(60):
        once()
    assert _rss_bytes() - before < 64 << 20


# ---- random numbers seen from Python ----------------------------------------------------------

def _draw(dist: int, param: float, seed: int, n: int, stream: int = 0) -> np.ndarray:
    out = np.empty(n)
    _core._rng_draw(dist, param, seed, stream, out)
    return out


def test_rng_streams_reproducible_and_distinct() -> None:
    a = _draw(5, 0, 123, 1000).view(np.uint64)
    b = _draw(5, 0, 123, 1000).view(np.uint64)
    c = _draw(5, 0, 123, 1000, stream=1).view(np.uint64)
    assert np.array_equal(a, b)
    assert not np.any(a == c)


# KS tests against scipy's CDFs (an oracle independent of the C tests' own CDF code), level
# 1e-4 each with fixed seeds: 7 tests, so a correct generator fails a fresh seed set with
# probability about 7e-4; these seeds pass.
@pytest.mark.parametrize(
    ("dist", "param", "cdf"),
    [
        (0, 0.0, stats.uniform.cdf),
        (1, 0.0, stats.norm.cdf),
        (2, 0.0, stats.expon.cdf),
        (3, 0.2, stats.gamma(0.2).cdf),
        (3, 4.5, stats.gamma(4.5).cdf),
        (4, 3.0, stats.chi2(3.0).cdf),
        (4, 250.0, stats.chi2(250.0).cdf),
    ],
)
def test_rng_distributions_match_scipy(dist: int, param: float, cdf: object) -> None:
    x = _draw(dist, param, seed=2024 + dist, n=100_000)
    assert stats.kstest(x, cdf).pvalue > 1e-4


def test_rng_bad_parameters() -> None:
    with pytest.raises(ValueError):
        _draw(3, -1.0, 1, 10)
    with pytest.raises(ValueError):
        _draw(99, 0.0, 1, 10)
    with pytest.raises(TypeError, match="out"):
        _core._rng_draw(0, 0.0, 1, 0, np.empty(10, dtype=np.float32))
    with pytest.raises(ValueError, match="out"):
        _core._rng_draw(0, 0.0, 1, 0, np.empty((10, 2))[:, 0])


# ---- seeds and progress bars ------------------------------------------------------------------

def test_resolve_seed() -> None:
    from hotloop._seed import resolve_seed

    assert resolve_seed(5) == 5
    assert resolve_seed(np.uint64(2**64 - 1)) == 2**64 - 1
    drawn = {resolve_seed(None) for _ in range(4)}
    assert len(drawn) == 4 and all(0 <= s < 2**64 for s in drawn)
    with pytest.raises(ValueError, match="seed"):
        resolve_seed(-1)
    with pytest.raises(ValueError, match="seed"):
        resolve_seed(2**64)
    with pytest.raises(TypeError, match="seed"):
        resolve_seed(1.0)
    with pytest.raises(TypeError, match="my_seed"):
        resolve_seed(True, "my_seed")


def test_progress_bar_draws_only_when_asked() -> None:
    import io

    from hotloop._progress import ProgressBar

    stream = io.StringIO()
    with ProgressBar("render", enabled=True, stream=stream) as bar:
        assert bar is not None
        _core._busy(50, 100_000, 1, 0, progress=bar)
    assert "render" in stream.getvalue()
    quiet = io.StringIO()  # not a terminal: no bar by default
    with ProgressBar("render", stream=quiet) as bar:
        assert bar is None
    assert quiet.getvalue() == ""


def test_integers_beyond_printing_are_named_by_their_size() -> None:
    """An int over 4300 digits cannot be formatted (Python raises its own unnamed ValueError
    inside the message); the shared checks describe it instead."""
    from hotloop._seed import resolve_seed

    with pytest.raises(ValueError, match=r"threads: .* got a negative integer of about 5001"):
        resolve_threads(-10**5000)
    with pytest.raises(ValueError, match=r"seed: .* got an integer of about 5001 digits"):
        resolve_seed(10**5000)
    with pytest.raises(ValueError, match=r"seed: .* got -3$"):
        resolve_seed(-3)
