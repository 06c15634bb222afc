"""The poisson part of ``hotloop demo``: the document's picture (uniform random points beside
Poisson disc points) and its rotation workload (8000 candidate quaternions -> 200), timed."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from PIL import Image

import hotloop.poisson as pd
from hotloop._pictures import scatter_panel


def run(out_dir: Path) -> None:
    n = 1000
    rng = np.random.default_rng(2015)
    uniform = rng.random((n, 2))
    t0 = time.perf_counter()
    disc = pd.sample(n, seed=2015)
    t_disc = time.perf_counter() - t0
    s_u = pd.radius_stats(uniform, bounds=[(0, 1), (0, 1)])
    s_p = pd.radius_stats(disc, bounds=[(0, 1), (0, 1)])
    unit_square = [(0.0, 1.0), (0.0, 1.0)]
    left = scatter_panel(uniform, f"uniform random: min distance {s_u['min_ratio']:.2f} r_max",
                         bounds=unit_square)
    right = scatter_panel(disc, f"Poisson disc (hotloop): min distance "
                          f"{s_p['min_ratio']:.2f} r_max", bounds=unit_square)
    both = Image.new("RGB", (left.width * 2, left.height), "white")
    both.paste(left, (0, 0))
    both.paste(right, (left.width, 0))
    path = Path(out_dir) / "poisson.png"
    both.save(path)
    print(f"{n} Poisson disc points from {5 * n} candidates in {t_disc * 1e3:.1f} ms: "
          f"min/r_max {s_p['min_ratio']:.3f} (uniform: {s_u['min_ratio']:.3f}) -> {path}")

    # The document's workloads: 200 -> 8 and 8000 -> 200 quaternions (Rust: 0.013 s, 374 s).
    for m, k in ((200, 8), (8000, 200)):
        q = rng.normal(size=(m, 4))
        q /= np.linalg.norm(q, axis=1, keepdims=True)
        pd.eliminate(q, k, domain="rotations")  # warm-up
        times = []
        for _ in range(5):
            t0 = time.perf_counter()
            keep = pd.eliminate(q, k, domain="rotations")
            times.append(time.perf_counter() - t0)
        s = pd.radius_stats(q[keep], domain="rotations")
        print(f"rotations {m} -> {k}: {np.median(times) * 1e3:.2f} ms (median of 5; the "
              f"document's Rust: {'0.013 s' if m == 200 else '374 s'}), min angle "
              f"{np.degrees(s['min']):.1f} deg = {s['min_ratio']:.2f} r_max")
