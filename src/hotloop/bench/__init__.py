"""The benchmark harness behind ``hotloop bench``.

Each kernel has a module ``hotloop.bench.<kernel>`` with ``workloads(quick) -> list[Workload]``:
the source document's workloads at its sizes, each with every implementation (naive Python,
NumPy, Numba when installed, hotloop, peers from PyPI). Everything runs in one process, so
ratios are measured side by side: a warm-up run (which also compiles Numba functions), then
several timed runs, interleaved across the implementations; we report the median, the min-max
range, the ratio to the workload's hotloop row, CPU time, and the peak memory that tracemalloc
sees (Python objects and NumPy arrays; the C core's scratch is reported by the kernels
themselves where it matters).

Speed targets belong here, not in the tests: a workload lists ``Target`` ratios and the report
says whether each was met in this run.
"""

from __future__ import annotations

import dataclasses
import gc
import importlib
import importlib.util
import json
import os
import platform
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable, Sequence
from typing import Any

from hotloop._version import __version__
from hotloop.cpu import cpu_features

KERNELS = ("julia", "poisson", "distinct", "tmodel")


@dataclasses.dataclass
class Impl:
    """One implementation of a workload.

    ``fn(data)`` runs it on what the workload's ``setup`` returned. ``requires`` names modules
    it imports (it is skipped with a note naming ``extra`` when one is missing). ``repeats``
    overrides the timed-run count (slow baselines run once or twice). ``hotloop`` marks the row
    the ratios are taken against (one per workload).
    """

    name: str
    fn: Callable[[Any], Any]
    requires: tuple[str, ...] = ()
    extra: str = "bench"
    repeats: int | None = None
    hotloop: bool = False
    note: str = ""


@dataclasses.dataclass
class Target:
    """A speed target: ``slow`` must take at least ``factor`` times as long as ``fast``."""

    fast: str
    slow: str
    factor: float

    def describe(self) -> str:
        return f"{self.fast} >= {self.factor:g}x faster than {self.slow}"


@dataclasses.dataclass
class Workload:
    """A benchmark: what the source document timed, at its sizes (smaller with --quick)."""

    kernel: str
    name: str
    description: str
    setup: Callable[[], Any]
    impls: list[Impl]
    work_units: float | None = None  # e.g. iterations or items, for a throughput column
    unit_name: str = ""
    targets: list[Target] = dataclasses.field(default_factory=list)
    measure_memory: bool = True
    # Extra lines the kernel wants in the report (e.g. % of FMA peak), computed from results.
    extra_report: Callable[[dict[str, Result]], list[str]] | None = None


@dataclasses.dataclass
class Result:
    impl: str
    status: str  # "ok", "skipped", "failed"
    note: str = ""
    times: list[float] = dataclasses.field(default_factory=list)
    cpu_times: list[float] = dataclasses.field(default_factory=list)
    peak_bytes: int | None = None
    ratio: float | None = None  # median / hotloop median

    @property
    def median(self) -> float:
        return statistics.median(self.times)


def _missing_module(names: Sequence[str]) -> str | None:
    for name in names:
        if importlib.util.find_spec(name) is None:
            return name
    return None


def _time_once(impl: Impl, data: Any, result: Result) -> None:
    gc.collect()
    c0, t0 = time.process_time(), time.perf_counter()
    impl.fn(data)
    t1, c1 = time.perf_counter(), time.process_time()
    result.times.append(t1 - t0)
    result.cpu_times.append(c1 - c0)


def _failed(impl: Impl, exc: Exception) -> Result:
    return Result(impl.name, "failed", f"{type(exc).__name__}: {exc}")


def run_workload(workload: Workload, repeats: int) -> dict[str, Result]:
    """Times every implementation of ``workload``: one warm-up run each (and JIT compilation),
    then ``repeats`` timed runs each (wall and process CPU time), interleaved: round r times
    every implementation that still has runs left, in order. On a shared machine the speed
    drifts (other jobs, clocks); interleaving lets a drift fall on all rows alike instead of on
    whichever row happened to run during it, so the ratios stay fair. Then each row's peak
    traced memory (rows under 5 s). A failing implementation is reported, not raised: a broken
    peer must not stop the whole benchmark."""
    data = workload.setup()
    results: dict[str, Result] = {}
    runs: dict[str, int] = {}
    for impl in workload.impls:
        missing = _missing_module(impl.requires)
        if missing is not None:
            results[impl.name] = Result(
                impl.name, "skipped", f"needs {missing}: pip install 'hotloop[{impl.extra}]'")
            continue
        try:
            impl.fn(data)
        except Exception as exc:
            results[impl.name] = _failed(impl, exc)
            continue
        results[impl.name] = Result(impl.name, "ok", impl.note)
        runs[impl.name] = max(1, impl.repeats if impl.repeats is not None else repeats)
    for r in range(max(runs.values(), default=0)):
        for impl in workload.impls:
            if r >= runs.get(impl.name, 0) or results[impl.name].status != "ok":
                continue
            try:
                _time_once(impl, data, results[impl.name])
            except Exception as exc:
                results[impl.name] = _failed(impl, exc)
    for impl in workload.impls:
        result = results[impl.name]
        if workload.measure_memory and result.status == "ok" and result.median < 5.0:
            gc.collect()
            tracemalloc.start()
            try:
                impl.fn(data)
                result.peak_bytes = tracemalloc.get_traced_memory()[1]
            finally:
                tracemalloc.stop()
    ref = next((i.name for i in workload.impls if i.hotloop), None)
    if ref is not None and results[ref].status == "ok":
        base = results[ref].median
        for res in results.values():
            if res.status == "ok" and base > 0:
                res.ratio = res.median / base
    return results


def _fmt_time(seconds: float) -> str:
    if seconds >= 1:
        return f"{seconds:.2f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.1f} ms"
    return f"{seconds * 1e6:.0f} us"


def verdict(met: bool, quick: bool) -> str:
    """A target's verdict: met or MISSED, or none at --quick sizes (the targets are set for the
    full sizes, and a toy size says nothing about them)."""
    if quick:
        return "no verdict at --quick sizes"
    return "met" if met else "MISSED"


def format_report(workload: Workload, results: dict[str, Result],
                  quick: bool = False) -> list[str]:
    """The report's lines: one row per implementation, then the targets (``quick``: their
    ratios without a verdict, the targets being set for the full sizes), then the extras."""
    lines = [f"== {workload.kernel}: {workload.name}", f"   {workload.description}"]
    header = f"   {'implementation':<34} {'median':>10} {'min-max':>21} {'vs hotloop':>10}"
    if workload.work_units:
        header += f" {workload.unit_name + '/s':>14}"
    header += f" {'cpu/wall':>8} {'peak MB':>8}"
    lines.append(header)
    for r in results.values():
        if r.status != "ok":
            lines.append(f"   {r.impl:<34} {r.status}: {r.note}")
            continue
        rng = f"{_fmt_time(min(r.times))}-{_fmt_time(max(r.times))}"
        ratio = f"{r.ratio:.2f}x" if r.ratio is not None else "-"
        row = f"   {r.impl:<34} {_fmt_time(r.median):>10} {rng:>21} {ratio:>10}"
        if workload.work_units:
            row += f" {workload.work_units / r.median:>14.3g}"
        cpu = statistics.median(r.cpu_times) / r.median if r.median > 0 else 0.0
        peak = f"{r.peak_bytes / 2**20:.1f}" if r.peak_bytes is not None else "-"
        row += f" {cpu:>8.2f} {peak:>8}"
        if r.note:
            row += f"  ({r.note})"
        lines.append(row)
    for target in workload.targets:
        fast, slow = results.get(target.fast), results.get(target.slow)
        if fast is None or slow is None or fast.status != "ok" or slow.status != "ok":
            lines.append(f"   target {target.describe()}: not measured")
            continue
        factor = slow.median / fast.median
        # two decimals: 1.79x against a 1.8x target must not read "1.8x -> MISSED"
        lines.append(f"   target {target.describe()}: {factor:.2f}x -> "
                     f"{verdict(factor >= target.factor, quick)}")
    if workload.extra_report is not None:
        lines.extend(f"   {line}" for line in workload.extra_report(results))
    return lines


def machine_info() -> dict[str, Any]:
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {
        "cpu": model,
        "cpu_features": dict(cpu_features()),
        "python": platform.python_version(),
        "hotloop": __version__,
        "loadavg": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
    }


def load_workloads(kernels: Sequence[str] | None, quick: bool) -> list[Workload]:
    out: list[Workload] = []
    for kernel in kernels or KERNELS:
        try:
            module = importlib.import_module(f"hotloop.bench.{kernel}")
        except ModuleNotFoundError as exc:
            if exc.name == f"hotloop.bench.{kernel}":
                print(f"(no benchmark for {kernel} in this version)", file=sys.stderr)
                continue
            raise
        out.extend(module.workloads(quick))
    return out


def run_benchmarks(
    kernels: Sequence[str] | None = None,
    *,
    quick: bool = False,
    json_path: str | None = None,
    repeats: int | None = None,
    stream: Any = None,
) -> list[dict[str, Any]]:
    """Run the workloads of ``kernels`` (default: all), print the report, optionally write
    JSON, and return the records."""
    out = stream if stream is not None else sys.stdout
    n = repeats if repeats is not None else (3 if quick else 5)
    info = machine_info()
    feats = info["cpu_features"]
    print(f"hotloop {__version__} bench on {info['cpu']} "
          f"({feats['cpu_count']} cores, SIMD {feats['simd_level']}), "
          f"load average {_fmt_load(info['loadavg'])}", file=out)
    records: list[dict[str, Any]] = []
    for workload in load_workloads(kernels, quick):
        results = run_workload(workload, n)
        print("\n".join(format_report(workload, results, quick)), file=out, flush=True)
        records.append({
            "kernel": workload.kernel,
            "workload": workload.name,
            "description": workload.description,
            "work_units": workload.work_units,
            "unit_name": workload.unit_name,
            "results": [
                {**dataclasses.asdict(r), "median": r.median if r.times else None}
                for r in results.values()
            ],
        })
    info_end = machine_info()["loadavg"]
    print(f"load average at the end: {_fmt_load(info_end)}", file=out)
    if json_path is not None:
        doc = {"machine": info, "loadavg_end": info_end, "quick": quick, "repeats": n,
               "workloads": records}
        with open(json_path, "w", encoding="utf-8") as f:
            json.dump(doc, f, indent=2)
    return records


def _fmt_load(load: list[float] | None) -> str:
    return "n/a" if load is None else " ".join(f"{x:.2f}" for x in load)
