"""The julia part of ``hotloop demo``: the document's two pictures, timed, and checked against
the document's NumPy code on the overview."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

C_0 = -0.835 - 0.2321j


def run(out_dir: Path) -> None:
    from hotloop._threads import resolve_threads
    from hotloop.cli.julia import write_png
    from hotloop.julia import ComplexRegion, JuliaDiv, to_picture
    from hotloop.reference import julia as ref

    t0 = time.perf_counter()
    overview = JuliaDiv(C_0, 2.0, (0, 80), 1000).over(ComplexRegion(-1.6, 1.6, -1.0, 1.0))
    t1 = time.perf_counter()
    expected = ref.JuliaDiv(C_0, 2.0, (0, 80), 1000).over(ref.ComplexRegion(-1.6, 1.6, -1, 1))
    t2 = time.perf_counter()
    differing = int(np.count_nonzero(overview != expected))
    write_png(to_picture(overview), str(out_dir / "julia_overview.png"), fast=False)
    print(f"overview 1000 x 625, c = {C_0}, 80 iterations: {1e3 * (t1 - t0):.1f} ms "
          f"(the document's NumPy code: {t2 - t1:.2f} s, {differing} differing values) "
          f"-> julia_overview.png")

    t3 = time.perf_counter()
    zoom = JuliaDiv(C_0, 2.0, (20, 100), 4000).picture(ComplexRegion(-0.1, 0.1, -0.1, 0.1))
    t4 = time.perf_counter()
    write_png(zoom, str(out_dir / "julia_zoom.png"), fast=True, threads=resolve_threads())
    t5 = time.perf_counter()
    print(f"zoom 4000 x 4000 on [-0.1, 0.1]^2, itermin 20, itermax 100: computed in "
          f"{t4 - t3:.3f} s, PNG written in {t5 - t4:.3f} s -> julia_zoom.png")
