"""The distinct kernel's demo: the source document's workload, exact vs approximate."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any


def _timed(fn: Any, *args: Any, **kwargs: Any) -> tuple[Any, float]:
    t0 = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - t0


def run(out_dir: Path) -> None:
    from hotloop import distinct
    from hotloop.bench.distinct import _words
    from hotloop.reference import distinct as ref

    t0 = time.perf_counter()
    words = _words(100_000, 100)
    print(f"WORDS: {len(words):,} shuffled str, made in {time.perf_counter() - t0:.1f} s "
          "(the document's workload)")
    exact, t_set = _timed(lambda w: len(set(w)), words)
    print(f"  len(set(WORDS))            {exact:>9,}            {t_set:7.3f} s")
    sub = words[:1_000_000]
    ref_est, t_ref = _timed(ref.count_approx_python, sub, seed=1)
    sub_exact = len(set(sub))
    print(f"  document CVM (Python, 1M)  {ref_est:>9,} ({100 * (ref_est / sub_exact - 1):+.2f}%)"
          f" {t_ref:7.3f} s  (on the first 1M items: {sub_exact:,} distinct)")
    rows = [
        ("hotloop count_approx knuth", lambda: distinct.count_approx(words, seed=1)),
        ("hotloop count_approx paper", lambda: distinct.count_approx(words, seed=1,
                                                                     method="paper")),
        ("hotloop count_exact", lambda: distinct.count_exact(words)),
    ]
    for name, fn in rows:
        est, t = _timed(fn)
        print(f"  {name:<26} {est:>9,} ({100 * (est / exact - 1):+.2f}%) {t:7.3f} s  "
              f"({t_set / t:.1f}x faster than set)")
    sk = distinct.Sketch()
    _, t = _timed(sk.update, words)
    lo, hi = sk.bounds()
    est = sk.estimate()
    print(f"  hotloop Sketch (16 KiB)    {est:>9,.0f} ({100 * (est / exact - 1):+.2f}%) {t:7.3f} s"
          f"  ({t_set / t:.1f}x faster than set; 95% bounds {lo:,.0f}..{hi:,.0f};"
          f" {sk.nbytes:,} bytes)")
    halves = distinct.Sketch(), distinct.Sketch()
    halves[0].update(words[: len(words) // 2])
    halves[1].update(words[len(words) // 2 :])
    merged = halves[0] | halves[1]
    print(f"  two half sketches merged == one sketch over all: {merged == sk}; "
          f"serialised size {len(sk.to_bytes()):,} bytes")
