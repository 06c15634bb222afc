"""``hotloop demo``: the main job.

Runs each kernel's demo (``hotloop.demo.<kernel>.run(out_dir)``) on its source document's
workload; each prints what it computed and how long it took and writes its pictures into
``out_dir``.
"""

from __future__ import annotations

import importlib
import time
from pathlib import Path

from hotloop._version import __version__
from hotloop.cpu import cpu_features

DEMOS = ("julia", "poisson", "distinct", "tmodel")


def run_demo(out_dir: str | Path = "hotloop-demo", kernels: tuple[str, ...] = DEMOS) -> Path:
    """Run the demos of ``kernels`` and return the output directory."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    info = cpu_features()
    print(f"hotloop {__version__} demo: SIMD {info['simd_level']}, {info['cpu_count']} cores, "
          f"pictures in {out}/")
    start = time.perf_counter()
    ran = 0
    for name in kernels:
        try:
            module = importlib.import_module(f"hotloop.demo.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"hotloop.demo.{name}":
                continue
            raise
        print(f"\n== {name}")
        module.run(out)
        ran += 1
    print(f"\n{ran} demo(s) done in {time.perf_counter() - start:.1f} s; pictures in {out}/")
    return out
