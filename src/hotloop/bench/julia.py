"""``hotloop bench julia``: the source document's Julia set timings, with hotloop beside them.

Workloads (the document's, in one process so ratios are side by side):

- zoom: c = -0.835-0.2321i, threshold 2, region [-0.1, 0.1]^2 at 4000 x 4000, itermin 20,
  itermax 100 (528,529,990 iterations): ``over()`` compute only. Rows: the NumPy loop, Numba
  with ``abs``, Numba without the square root, hotloop on 1 thread and on all threads.
- overview: the document's 1000 x 625 overview image (itermax 80), adding the naive
  ``np.vectorize`` version (the zoom would take minutes with it).
- png: the whole command-line job writing the zoom's PNG: Numba (no square root) + Pillow as
  in the document, against ``hotloop julia`` with ``--fast`` and with default compression.

The report adds iterations per second per core and the fraction of the core's measured
float64 multiply/FMA peak: an exact NumPy step needs 4 multiply-unit operations (y*y, x*y and
two FMAs; |z|^2 then costs adds only), so the ceiling is peak / 4 iterations per second.
"""

from __future__ import annotations

import os
import tempfile
from typing import Any

import numpy as np

from hotloop.bench import Impl, Result, Target, Workload, verdict
from hotloop.reference import julia as ref

C_0 = -0.835 - 0.2321j
MUL_OPS_PER_ITERATION = 4
FAST_PNG_LIMIT_S = 0.35


def _iterations(counts: np.ndarray[Any, Any], itermax: int) -> int:
    """z updates the loop performs: count + 1 for an escaped pixel, itermax otherwise."""
    c = counts.astype(np.int64)
    return int(np.where(c < itermax, c + 1, itermax).sum())


def _peak_lines(results: dict[str, Result], work: float, *, single: str, parallel: str,
                threads: int, quick: bool) -> list[str]:
    """The iterations per second per core of the one-thread and all-threads rows, and the
    one-thread row's fraction of the measured FMA peak (the issue's 50 % target)."""
    from hotloop.julia import fma_peak

    lines: list[str] = []
    r = results.get(single)
    if r is None or r.status != "ok":
        return lines
    peak = fma_peak("auto", 0.2)
    rate = work / r.median
    ceiling = peak / MUL_OPS_PER_ITERATION
    frac = rate / ceiling
    lines.append(
        f"{single}: {rate / 1e9:.2f} G iterations/s on one core; measured FMA peak "
        f"{peak / 1e9:.1f} G lane-ops/s -> ceiling {ceiling / 1e9:.2f} G iterations/s "
        f"({MUL_OPS_PER_ITERATION} multiply-unit ops each): {frac:.1%} of peak "
        f"(target 50%) -> {verdict(frac >= 0.5, quick)}"
    )
    p = results.get(parallel)
    if p is not None and p.status == "ok" and threads > 1:
        both = work / p.median
        # per core: more threads than cores (HOTLOOP_NUM_THREADS) share the cores
        cores = min(threads, os.cpu_count() or threads)
        lines.append(f"{parallel}: {both / 1e9:.2f} G iterations/s, "
                     f"{both / cores / 1e9:.2f} G per core on {cores} cores "
                     f"({both / rate:.2f}x one thread)")
    return lines


def workloads(quick: bool) -> list[Workload]:
    from hotloop import julia as hl
    from hotloop._threads import resolve_threads

    res = 400 if quick else 4000
    threads = resolve_threads(None)
    zoom_region = (-0.1, 0.1, -0.1, 0.1)
    n_iter = (20, 100)

    def zoom_setup() -> dict[str, Any]:
        counts = hl.escape_counts(hl.ComplexRegion(*zoom_region), C_0, 2.0, n_iter[1], res)
        return {"region": ref.ComplexRegion(*zoom_region),
                "work": _iterations(counts, n_iter[1])}

    ref_julia = ref.JuliaDiv(C_0, 2.0, n_iter, res)
    hl_region = hl.ComplexRegion(*zoom_region)
    zoom_work = float(
        _iterations(hl.escape_counts(hl_region, C_0, 2.0, n_iter[1], res), n_iter[1]))
    zoom = Workload(
        kernel="julia",
        name=f"zoom {res}x{res}, itermax 100 (over() compute only)",
        description=f"c = {C_0}, threshold 2, [-0.1, 0.1]^2, itermin 20, "
        f"{int(zoom_work):,} iterations; hotloop all threads = {threads}",
        setup=zoom_setup,
        impls=[
            Impl("NumPy loop (document)", lambda d: ref_julia.over(d["region"]), repeats=1),
            Impl("Numba, abs (document)", lambda d: ref.over_numba(ref_julia, d["region"], True),
                 requires=("numba",), repeats=3),
            Impl("Numba, no sqrt (document)",
                 lambda d: ref.over_numba(ref_julia, d["region"], False), requires=("numba",),
                 repeats=3),
            Impl("hotloop, 1 thread",
                 lambda d: hl.JuliaDiv(C_0, 2.0, n_iter, res, threads=1).over(hl_region)),
            Impl(f"hotloop, {threads} threads",
                 lambda d: hl.JuliaDiv(C_0, 2.0, n_iter, res, threads=threads).over(hl_region),
                 hotloop=True),
            Impl(f"hotloop float32, {threads} threads",
                 lambda d: hl.JuliaDiv(C_0, 2.0, n_iter, res, threads=threads,
                                       dtype=np.float32).over(hl_region),
                 note="approximate mode"),
        ],
        work_units=zoom_work,
        unit_name="iter",
        targets=[
            Target(f"hotloop, {threads} threads", "Numba, no sqrt (document)", 20.0),
            Target("hotloop, 1 thread", "Numba, no sqrt (document)", 10.0),
        ],
        extra_report=lambda r: _peak_lines(r, zoom_work, single="hotloop, 1 thread",
                                           parallel=f"hotloop, {threads} threads",
                                           threads=threads, quick=quick),
    )

    ov_res = 250 if quick else 1000
    ov_region = (-1.6, 1.6, -1.0, 1.0)
    ov_ref = ref.JuliaDiv(C_0, 2.0, (0, 80), ov_res)
    ov_hl = hl.ComplexRegion(*ov_region)
    ov_work = float(_iterations(hl.escape_counts(ov_hl, C_0, 2.0, 80, ov_res), 80))
    overview = Workload(
        kernel="julia",
        name=f"overview {ov_res}x{ov_res * 5 // 8}, itermax 80",
        description="the document's overview image, with its naive np.vectorize version",
        setup=lambda: ref.ComplexRegion(*ov_region),
        impls=[
            Impl("naive Python (np.vectorize)", ov_ref.over_vectorize,
                 repeats=1),
            Impl("NumPy loop (document)", ov_ref.over, repeats=2),
            Impl("Numba, no sqrt (document)", lambda reg: ref.over_numba(ov_ref, reg, False),
                 requires=("numba",)),
            Impl(f"hotloop, {threads} threads",
                 lambda reg: hl.JuliaDiv(C_0, 2.0, (0, 80), ov_res).over(ov_hl), hotloop=True),
        ],
        work_units=ov_work,
        unit_name="iter",
    )

    tmpdir = tempfile.mkdtemp(prefix="hotloop-bench-julia-")
    out_png = os.path.join(tmpdir, "zoom.png")
    cli_args = ["julia", "-x=-0.1", "-X=0.1", "-y=-0.1", "-Y=0.1", "-m=20", "-M=100",
                f"-R={res}", "-o", out_png, "--quiet"]

    def numba_png(_: Any) -> None:
        from PIL import Image

        values = ref.over_numba(ref_julia, ref.ComplexRegion(*zoom_region), False)
        Image.fromarray((values.T[::-1] * 255).astype(np.uint8)).save(out_png)

    def cli(extra: list[str]) -> Any:
        # The command's own parser and run(), in process (hotloop.cli.main would also import
        # every other subcommand, which an editable install rebuilds on each import).
        import argparse

        from hotloop.cli import julia as cli_julia

        parser = argparse.ArgumentParser(prog="hotloop")
        cli_julia.register(parser.add_subparsers())
        parsed = parser.parse_args([*cli_args, *extra])

        def go(_: Any) -> None:
            if parsed.func(parsed) != 0:
                raise RuntimeError("hotloop julia failed")

        return go

    def png_lines(results: dict[str, Result]) -> list[str]:
        r = results.get("hotloop julia --fast")
        if r is None or r.status != "ok":
            return []
        return [f"target hotloop julia --fast under {FAST_PNG_LIMIT_S} s: "
                f"{r.median:.3f} s -> {verdict(r.median < FAST_PNG_LIMIT_S, quick)}"]

    png = Workload(
        kernel="julia",
        name=f"zoom {res}x{res} to PNG (whole CLI job)",
        description="compute + 8-bit picture + PNG file, in process",
        setup=lambda: None,
        impls=[
            Impl("Numba no sqrt + Pillow (document)", numba_png, requires=("numba",), repeats=3),
            Impl("hotloop julia (default compression)", cli([]), hotloop=True),
            Impl("hotloop julia --fast", cli(["--fast"])),
        ],
        targets=[Target("hotloop julia (default compression)",
                        "Numba no sqrt + Pillow (document)", 8.0)],
        measure_memory=False,
        extra_report=png_lines,
    )
    return [zoom, overview, png]
