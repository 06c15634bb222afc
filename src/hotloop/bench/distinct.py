"""``hotloop bench distinct``: the source document's workload and the array/Arrow/CLI ones.

Document: ``WORDS = [str(i) for i in range(100_000)] * 100``, shuffled (10M str, 100k
distinct): ``len(set(WORDS))`` (0.14 s in the document), the document's pure-Python CVM
(0.78 s there), its Rust extension (0.37 s naive, 0.21 s optimised; not on PyPI), hotloop's
``count_approx``, ``count_exact`` and ``Sketch``, and the PyPI peer ``datasketches`` (HLL, fed
item by item: the only way its Python API takes a list).
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import subprocess
import tempfile
from typing import Any

import numpy as np

from hotloop.bench import Impl, Result, Target, Workload, verdict

N_DISTINCT = 100_000


def _words(n_distinct: int, repeat: int, seed: int = 0) -> list[str]:
    """The document's WORDS, shuffled with a seeded permutation (fast, same every run)."""
    base = np.array([str(i) for i in range(n_distinct)], dtype=object)
    idx = np.random.default_rng(seed).permutation(n_distinct * repeat) % n_distinct
    out: list[str] = base[idx].tolist()
    return out


def _datasketches_hll(words: list[str]) -> float:
    import datasketches

    sk = datasketches.hll_sketch(14, datasketches.tgt_hll_type.HLL_8)
    update = sk.update
    for w in words:
        update(w)
    return float(sk.get_estimate())


def _document_workload(quick: bool) -> Workload:
    from hotloop import distinct
    from hotloop.reference import distinct as ref

    repeat = 10 if quick else 100

    def setup() -> list[str]:
        return _words(N_DISTINCT, repeat)

    def sketch(w: list[str]) -> float:
        s = distinct.Sketch()
        s.update(w)
        return s.estimate()

    impls = [
        Impl("len(set(WORDS))", lambda w: len(set(w))),
        Impl("document CVM (pure Python)", lambda w: ref.count_approx_python(w, seed=1),
             repeats=1),
        Impl("datasketches HLL p=14 (per item)", _datasketches_hll, requires=("datasketches",),
             repeats=1),
        Impl("hotloop count_approx (knuth)", lambda w: distinct.count_approx(w, seed=1),
             hotloop=True),
        Impl("hotloop count_approx (paper)",
             lambda w: distinct.count_approx(w, seed=1, method="paper")),
        Impl("hotloop count_exact", distinct.count_exact),
        Impl("hotloop Sketch.update", sketch),
    ]
    return Workload(
        kernel="distinct",
        name="document: WORDS (str)",
        description=f"{N_DISTINCT * repeat:,} shuffled str, {N_DISTINCT:,} distinct "
        "(document: set 0.14 s, Python CVM 0.78 s, Rust 0.37/0.21 s)",
        setup=setup,
        impls=impls,
        work_units=N_DISTINCT * repeat,
        unit_name="items",
        targets=[
            Target("hotloop count_approx (knuth)", "len(set(WORDS))", 5.0),
            Target("hotloop Sketch.update", "len(set(WORDS))", 8.0),
        ],
    )


def _rate_report(name: str, n: int, target: float, quick: bool) -> Any:
    def report(results: dict[str, Result]) -> list[str]:
        r = results.get(name)
        if r is None or r.status != "ok":
            return [f"throughput target {name} >= {target / 1e6:.0f} M items/s: not measured"]
        rate = n / r.median
        return [f"throughput target {name} >= {target / 1e6:.0f} M items/s: "
                f"{rate / 1e6:.0f} M items/s -> {verdict(rate >= target, quick)}"]

    return report


def _numpy_workload(quick: bool) -> Workload:
    from hotloop import distinct

    n = 1_000_000 if quick else 10_000_000

    def setup() -> np.ndarray[Any, Any]:
        return np.random.default_rng(0).integers(0, N_DISTINCT, n, dtype=np.int64)

    def sketch(threads: int | None) -> Any:
        def fn(a: np.ndarray[Any, Any]) -> float:
            s = distinct.Sketch()
            s.update(a, threads=threads)
            return s.estimate()

        return fn

    sk1 = "hotloop Sketch.update (1 thread)"
    return Workload(
        kernel="distinct",
        name="NumPy int64",
        description=f"{n:,} int64, {N_DISTINCT:,} distinct",
        setup=setup,
        impls=[
            Impl("np.unique", lambda a: np.unique(a).size),
            Impl("len(set(arr.tolist()))", lambda a: len(set(a.tolist())), repeats=2),
            Impl(sk1, sketch(1), hotloop=True),
            Impl("hotloop Sketch.update (all cores)", sketch(None)),
            Impl("hotloop count_exact", distinct.count_exact),
            Impl("hotloop count_approx", lambda a: distinct.count_approx(a, seed=1)),
        ],
        work_units=n,
        unit_name="items",
        targets=[
            Target(sk1, "np.unique", 20.0),
            Target("hotloop count_exact", "np.unique", 5.0),
        ],
        extra_report=_rate_report(sk1, n, 400e6, quick),
    )


def _arrow_workload(quick: bool) -> Workload | None:
    import importlib.util

    if importlib.util.find_spec("pyarrow") is None:
        return None
    from hotloop import distinct

    n = 1_000_000 if quick else 10_000_000

    def setup() -> Any:
        import pyarrow as pa

        return pa.array(_words(N_DISTINCT, n // N_DISTINCT, seed=1), type=pa.string())

    def sketch(col: Any) -> float:
        s = distinct.Sketch()
        s.update(col, threads=1)
        return s.estimate()

    def pc_count(col: Any) -> int:
        import pyarrow.compute as pc

        return int(pc.count_distinct(col).as_py())

    name = "hotloop Sketch.update (1 thread)"
    return Workload(
        kernel="distinct",
        name="Arrow string column",
        description=f"{n:,} rows of pyarrow string, {N_DISTINCT:,} distinct",
        setup=setup,
        impls=[
            Impl("pyarrow.compute.count_distinct", pc_count, requires=("pyarrow",)),
            Impl("np.unique(col.to_numpy())", lambda c: np.unique(c.to_numpy(False)).size,
                 repeats=1),
            Impl(name, sketch, hotloop=True),
            Impl("hotloop count_exact", distinct.count_exact),
            Impl("hotloop count_approx", lambda c: distinct.count_approx(c, seed=1)),
        ],
        work_units=n,
        unit_name="items",
        targets=[Target(name, "pyarrow.compute.count_distinct", 1.0)],
        extra_report=_rate_report(name, n, 100e6, quick),
    )


def _make_text(path: str, target_bytes: int) -> int:
    """Write WORDS-like lines (shuffled decimal numbers, 1M distinct) up to target_bytes."""
    rng = np.random.default_rng(2)
    written = 0
    with open(path, "wb") as f:
        while written < target_bytes:
            block = rng.integers(0, 1_000_000, 1_000_000)
            data = ("\n".join(map(str, block.tolist())) + "\n").encode()
            f.write(data)
            written += len(data)
    return written


def _cli_workload(quick: bool) -> Workload:
    size = (64 if quick else 1024) * 2**20
    state: dict[str, Any] = {}

    def setup() -> str:
        if "path" not in state:  # made when the workload runs, removed by its report
            state["dir"] = tempfile.mkdtemp(prefix="hotloop-bench-")
            state["path"] = os.path.join(state["dir"], "lines.txt")
            state["bytes"] = _make_text(state["path"], size)
        path: str = state["path"]
        with open(path, "rb") as f:  # warm the page cache
            while f.read(1 << 24):
                pass
        return path

    def hotloop_count(exact: bool) -> Any:
        def fn(p: str) -> str:
            from hotloop.cli import main

            buf = io.StringIO()
            with contextlib.redirect_stdout(buf):
                rc = main(["count", *(["--exact"] if exact else []), p])
            if rc != 0:
                raise RuntimeError(f"hotloop count exited {rc}")
            return buf.getvalue()

        return fn

    def sort_u(p: str) -> int:
        env = dict(os.environ, LC_ALL="C")
        out = subprocess.run(f"sort -u '{p}' | wc -l", shell=True, check=True, env=env,
                             capture_output=True, text=True)
        return int(out.stdout.strip())

    impls = [Impl("hotloop count", hotloop_count(False), hotloop=True),
             Impl("hotloop count --exact", hotloop_count(True), repeats=1)]
    if shutil.which("sort") and shutil.which("wc"):
        impls.insert(0, Impl("LC_ALL=C sort -u | wc -l", sort_u, repeats=1))

    def report(results: dict[str, Result]) -> list[str]:
        r = results.get("hotloop count")
        nbytes = state.get("bytes", size)
        lines = []
        if r is not None and r.status == "ok":
            rate = nbytes / r.median / 1e6
            lines.append(f"throughput target hotloop count >= 500 MB/s (cached file): "
                         f"{rate:.0f} MB/s -> {verdict(rate >= 500, quick)}")
        if "dir" in state:
            shutil.rmtree(state.pop("dir"), ignore_errors=True)
            state.pop("path", None)
        return lines

    return Workload(
        kernel="distinct",
        name="CLI: distinct lines of a text file",
        description=f"{size / 2**20:.0f} MiB of decimal-number lines, 1M distinct, cached",
        setup=setup,
        impls=impls,
        targets=[Target("hotloop count", "LC_ALL=C sort -u | wc -l", 10.0)],
        measure_memory=False,
        extra_report=report,
    )


def workloads(quick: bool) -> list[Workload]:
    out = [_document_workload(quick), _numpy_workload(quick)]
    arrow = _arrow_workload(quick)
    if arrow is not None:
        out.append(arrow)
    out.append(_cli_workload(quick))
    return out
