"""The benchmark harness: timing, ratios, skips, failures, targets, JSON."""

from __future__ import annotations

import io
import json
import time
from pathlib import Path
from typing import Any

import pytest

from hotloop import bench
from hotloop.bench import Impl, Result, Target, Workload, format_report, run_workload


def _sleep(seconds: float) -> Any:
    return lambda data: time.sleep(seconds)


def _workload() -> Workload:
    return Workload(
        kernel="fake",
        name="sleepers",
        description="sleeps of known length",
        setup=lambda: None,
        impls=[
            Impl("slow", _sleep(0.02)),
            Impl("hotloop", _sleep(0.005), hotloop=True),
            Impl("needs-a-module", _sleep(0.0), requires=("no_such_module_xyz",), extra="bench"),
            Impl("broken", lambda data: 1 / 0),
        ],
        work_units=1000.0,
        unit_name="items",
        targets=[Target("hotloop", "slow", 2.0), Target("hotloop", "slow", 100.0)],
    )


def test_ratios_skips_failures_and_targets() -> None:
    wl = _workload()
    results = run_workload(wl, repeats=3)
    assert results["hotloop"].ratio == pytest.approx(1.0)
    assert results["slow"].ratio is not None and 2.5 < results["slow"].ratio < 8
    assert len(results["slow"].times) == 3
    assert results["needs-a-module"].status == "skipped"
    assert "hotloop[bench]" in results["needs-a-module"].note
    assert results["broken"].status == "failed" and "ZeroDivisionError" in results["broken"].note
    report = "\n".join(format_report(wl, results))
    assert "-> met" in report and "-> MISSED" in report
    assert "items/s" in report


def test_a_missed_target_never_prints_as_the_target() -> None:
    wl = _workload()
    wl.targets = [Target("hotloop", "slow", 1.8)]
    results = {"slow": Result("slow", "ok", times=[1.79], cpu_times=[1.79]),
               "hotloop": Result("hotloop", "ok", times=[1.0], cpu_times=[1.0])}
    for name in ("needs-a-module", "broken"):
        results[name] = Result(name, "skipped")
    report = "\n".join(format_report(wl, results))
    assert "1.79x -> MISSED" in report
    # at --quick sizes the ratio is shown without a verdict: the targets are for the full sizes
    quick = "\n".join(format_report(wl, results, quick=True))
    assert "1.79x -> no verdict at --quick sizes" in quick and "MISSED" not in quick


def test_run_benchmarks_writes_json(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bench, "load_workloads", lambda kernels, quick: [_workload()])
    out = io.StringIO()
    path = tmp_path / "b.json"
    bench.run_benchmarks(["julia"], quick=True, json_path=str(path), stream=out)
    doc = json.loads(path.read_text())
    assert doc["quick"] is True and doc["repeats"] == 3
    assert doc["machine"]["cpu_features"]["simd_level"] in ("scalar", "avx2", "avx512")
    rows = {r["impl"]: r for r in doc["workloads"][0]["results"]}
    assert rows["hotloop"]["median"] > 0
    assert "load average" in out.getvalue()


def test_every_kernel_bench_module_smoke() -> None:
    # Each kernel's quick workloads must at least run (the kernels' own tests check numbers).
    for wl in bench.load_workloads(None, quick=True):
        assert wl.impls and any(i.hotloop for i in wl.impls), wl.name


def test_timed_runs_are_interleaved() -> None:
    # Round r times every implementation that still has runs left, so a drift in the machine's
    # speed falls on all rows alike; a row with repeats=1 runs in the first round only.
    calls: list[str] = []

    def record(name: str) -> Any:
        return lambda data: calls.append(name)

    wl = Workload(
        kernel="fake",
        name="order",
        description="call order",
        setup=lambda: None,
        impls=[Impl("a", record("a"), hotloop=True), Impl("b", record("b")),
               Impl("once", record("once"), repeats=1)],
    )
    results = run_workload(wl, repeats=3)
    assert calls[:3] == ["a", "b", "once"]  # the warm-ups
    assert calls[3:10] == ["a", "b", "once", "a", "b", "a", "b"]
    assert [len(results[n].times) for n in ("a", "b", "once")] == [3, 3, 1]
