"""hotloop.distinct: API, canonical hashing, exactness, sketches, inputs, bad input, Ctrl-C.

Statistical tests are in test_distinct_stats.py, the CLI in test_distinct_cli.py, Dask in
test_distinct_dask.py.
"""

from __future__ import annotations

import copy
import decimal
import itertools
import math
import os
import pickle
import random
import signal
import subprocess
import sys
import threading
import time
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hotloop import HotloopError, _core
from hotloop.distinct import Sketch, count_approx, count_exact, thresh_for
from hotloop.reference import distinct as ref

try:
    import pyarrow as pa
except ImportError:  # pragma: no cover - pyarrow is a test dependency
    pa = None

needs_arrow = pytest.mark.skipif(pa is None, reason="needs pyarrow")


def hashes(items: Any, key: int = 0) -> list[int]:
    out, local = _core._hash_items(items, key)
    assert not local
    return list(out)


# ---- canonical hashing ---------------------------------------------------------------------


def test_python_equal_builtins_hash_equal() -> None:
    h = hashes([1, 1.0, True, np.int64(1), np.float64(1.0), decimal.Decimal(1)][:5])
    assert len(set(h)) == 1
    assert hashes([0, 0.0, -0.0, False]) == [hashes([0])[0]] * 4
    big = 2**70
    assert hashes([big])[0] == hashes([float(big)])[0]
    assert hashes([-big])[0] == hashes([-float(big)])[0]
    assert hashes([2**63])[0] == hashes([float(2**63)])[0]
    assert hashes([-(2**63)])[0] == hashes([float(-(2**63))])[0]
    assert len(set(hashes([1, 2, 1.5, "1", b"1", None, (1,), (1, 2), (2, 1), ()]))) == 10
    assert hashes([(1, "a")])[0] == hashes([(1.0, "a")])[0]
    assert hashes([float("nan")])[0] == hashes([float("-nan")])[0]


def test_str_storage_does_not_matter() -> None:
    words = ["", "a", "hello", "é", "naïve", "Ωmega", "日本語", "emoji 😀", "x" * 200, "\udc80"]
    # build equal strings with different internal kinds (UCS1/2/4 via slicing a wider string)
    wide = ["😀" + w for w in words]
    assert hashes([w[1:] for w in wide]) == hashes(words)

    class S(str):
        pass

    assert hashes([S(w) for w in words]) == hashes(words)
    arr = np.array(words[:-1])  # NumPy U (lone surrogate not representable in UTF-8 arrays)
    assert _core._hash_sources([(_core.DK_UCS4_FIX, arr, None, None, arr.size, arr.itemsize, 0)],
                               0) == hashes(words[:-1])


def test_short_ascii_fast_path_matches_general_paths() -> None:
    # A list walk hashes exact ASCII str of at most 16 characters inline; a str subclass, a
    # NumPy U array and Arrow take the general paths. All agree at every length around the
    # 16-character boundary, for several keys, and the values stay pinned.
    rnd = random.Random(4)
    words = ["".join(rnd.choice("az09 ~\x01\x7f") for _ in range(n))
             for n in range(41) for _ in range(4)]

    class S(str):
        pass

    arr = np.array(words)
    for key in (0, 3, 2**64 - 1):
        fast = hashes(words, key)
        assert hashes(iter(words), key) == fast  # the iterator walk has the fast path too
        assert hashes([S(w) for w in words], key) == fast
        assert hashes(tuple(words), key) == fast
        assert _core._hash_sources(
            [(_core.DK_UCS4_FIX, arr, None, None, arr.size, arr.itemsize, 0)], key) == fast
        if pa is not None:
            from hotloop.distinct import _classify

            _, srcs, _ = _classify(pa.array(words, type=pa.string()))
            assert _core._hash_sources(srcs, key) == fast
    # mixed with other types, the walk switches between the fast and general paths per item
    mixed = ["abc", 1, "é", "x" * 17, None, "12345", b"abc", ("abc",)]
    assert hashes(mixed, 9) == [hashes([m], 9)[0] for m in mixed]
    assert hashes(["", "abc", "12345", "0123456789abcdefg"]) == [
        0x9A092822AA5A5C96, 0xF06C19AE070241EC, 0x5E93652EF49D2BC7, 0x54E5F0517C1C8DC3]


@needs_arrow
def test_arrow_numpy_python_hash_alike() -> None:
    from hotloop.distinct import _classify

    words = ["", "a", "hello", "é", "日本語", "emoji 😀", "x" * 40]
    for typ in (pa.string(), pa.large_string()):
        how, srcs, _ = _classify(pa.array(words, type=typ))
        assert how == "sources"
        assert _core._hash_sources(srcs, 5) == hashes(words, 5)
    bs = [b"", b"a", b"\x00b", b"xyz" * 9]
    for typ in (pa.binary(), pa.large_binary()):
        _, srcs, _ = _classify(pa.array(bs, type=typ))
        assert _core._hash_sources(srcs, 5) == hashes(bs, 5)
    # NumPy S strips trailing NULs like its item access does
    arr = np.array([b"a", b"bc", b""], dtype="S4")
    _, srcs, _ = _classify(arr)
    assert _core._hash_sources(srcs, 5) == hashes([b"a", b"bc", b""], 5)
    # numbers of every dtype, nulls, bools, sliced arrays
    vals = [0, 1, -1, 127, -128]
    for dt in ("i1", "i2", "i4", "i8", "f4", "f8"):
        _, srcs, _ = _classify(np.array(vals, dtype=dt))
        assert _core._hash_sources(srcs, 1) == hashes(vals, 1), dt
    uvals = [0, 1, 255]
    for dt in ("u1", "u2", "u4", "u8"):
        _, srcs, _ = _classify(np.array(uvals, dtype=dt))
        assert _core._hash_sources(srcs, 1) == hashes(uvals, 1), dt
    wide = np.random.default_rng(5).integers(-(2**63), 2**63 - 1, 1001, dtype=np.int64)
    _, srcs, _ = _classify(wide)  # the SIMD body and its scalar tail
    assert _core._hash_sources(srcs, 3) == hashes(wide.tolist(), 3)
    big = [2**64 - 1, 2**63, 2**63 - 1]
    _, srcs, _ = _classify(np.array(big, dtype=np.uint64))
    assert _core._hash_sources(srcs, 1) == hashes(big, 1)
    _, srcs, _ = _classify(np.array([True, False]))
    assert _core._hash_sources(srcs, 1) == hashes([True, False], 1)
    _, srcs, _ = _classify(np.array([0.5, -0.0, np.nan, np.inf, 1e300], dtype=">f8"))
    assert _core._hash_sources(srcs, 1) == hashes([0.5, 0, float("nan"), math.inf, 1e300], 1)
    col = pa.array([1, None, 3, None, 5, 6, 7, 8, 9, 10], type=pa.int32()).slice(1, 8)
    _, srcs, _ = _classify(col)
    assert _core._hash_sources(srcs, 2) == hashes(col.to_pylist(), 2)
    col = pa.array([True, None, False, True, True, False, None, True, False, True]).slice(3)
    _, srcs, _ = _classify(col)
    assert _core._hash_sources(srcs, 2) == hashes(col.to_pylist(), 2)
    col = pa.array(["x", None, "yy", "", "zzz"]).slice(1, 3)
    _, srcs, _ = _classify(col)
    assert _core._hash_sources(srcs, 2) == hashes(col.to_pylist(), 2)
    d = pa.array(["a", "b", "a", None]).dictionary_encode()
    _, srcs, _ = _classify(d)
    assert _core._hash_sources(srcs, 2) == hashes(["a", "b", "a", None], 2)
    nulls = pa.nulls(5)
    _, srcs, _ = _classify(nulls)
    assert _core._hash_sources(srcs, 2) == hashes([None] * 5, 2)


def test_other_objects_are_process_local() -> None:
    _, local = _core._hash_items([1, "a", frozenset([1])], 0)
    assert local
    s = Sketch()
    s.update([1, 2, object()])
    assert s.process_local
    with pytest.raises(ValueError, match="process only"):
        s.to_bytes()
    with pytest.raises(ValueError, match="process only"):
        pickle.dumps(s)
    with pytest.raises(ValueError, match="process only"):
        Sketch().merge(s)
    s.clear()
    assert not s.process_local


def test_same_sketch_bytes_across_processes() -> None:
    code = (
        "from hotloop.distinct import Sketch\n"
        "s = Sketch(precision=8)\n"
        "s.update(['a', 'é', b'b', 1, 2.5, None, (1, 'x'), True, 2**80] + "
        "[str(i) for i in range(5000)])\n"
        "t = Sketch(precision=12)\n"
        "t.update(['a', 'é', b'b', 1, 2.5, None, (1, 'x'), 2**80])\n"
        "print(s.to_bytes().hex(), t.to_bytes().hex())\n"
        "from hotloop.distinct import count_approx\n"
        "print(count_approx([str(i) for i in range(20000)] * 3, 0.5, 0.5, seed=3))\n"
    )
    outs = set()
    for hashseed in ("1", "2", "random"):
        env = dict(os.environ, PYTHONHASHSEED=hashseed)
        proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                              text=True, check=True, timeout=120)
        outs.add(proc.stdout)
    assert len(outs) == 1


# ---- count_exact -------------------------------------------------------------------------------


class Collider:
    """Equal by value, all with the same hash: exactness must come from ==."""

    def __init__(self, v: int) -> None:
        self.v = v

    def __hash__(self) -> int:
        return 7

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Collider) and other.v == self.v


def test_count_exact_matches_set_semantics() -> None:
    nan1, nan2 = float("nan"), float("nan")
    items = [1, 1.0, True, decimal.Decimal(1), 0, -0.0, False, nan1, nan1, nan2, "a", "a",
             b"a", None, (1, 2), (1.0, 2), 2**100, float(2**100), "é", "e"]
    assert count_exact(items) == len(set(items))
    assert count_exact(tuple(items)) == len(set(items))
    assert count_exact(iter(items)) == len(set(items))
    cols = [Collider(i % 37) for i in range(500)]
    assert count_exact(cols) == 37
    assert count_exact([]) == 0
    assert count_exact(np.array([], dtype=np.int64)) == 0


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(st.integers(-5, 5), st.floats(allow_nan=False, width=16),
                          st.text(max_size=3), st.binary(max_size=2), st.booleans(),
                          st.none(), st.tuples(st.integers(0, 2), st.text(max_size=1))),
                max_size=60))
def test_count_exact_and_small_counts_property(items: list[Any]) -> None:
    n = len(set(items))
    assert count_exact(items) == n
    s = Sketch()
    s.update(items)
    assert s.is_exact and s.estimate() == n
    assert count_approx(items, seed=1) == n  # fewer distinct items than the buffer: exact
    assert count_approx(items, seed=1, method="paper") == n


def test_count_exact_arrays() -> None:
    rng = np.random.default_rng(0)
    a = rng.integers(-1000, 1000, 50_000)
    for dt in ("i1", "i2", "i4", "i8", "u2", "u8", "f4", "f8"):
        b = a.astype(dt)
        assert count_exact(b) == np.unique(b).size, dt
    f = np.array([0.5, np.nan, -0.0, 0.0, np.nan, 1.0, 1.0])
    assert count_exact(f) == 4  # every NaN is one item on arrays, like np.unique
    u = np.array(["a", "bb", "a", "", "é", "é "])
    assert count_exact(u) == 5
    s = np.array([b"a", b"a\x00", b"b", b""], dtype="S3")
    assert count_exact(s) == 3
    assert count_exact(np.array([True, False, True])) == 2
    assert count_exact(a.reshape(100, 500)[:, ::2]) == np.unique(a.reshape(100, 500)[:, ::2]).size
    assert count_exact(np.array([2**64 - 1, 2**63, 2**63, 1], dtype=np.uint64)) == 3


@needs_arrow
def test_count_exact_arrow() -> None:
    words = [str(i % 977) if i % 13 else None for i in range(20_000)]
    col = pa.chunked_array([pa.array(words[:7000]), pa.array(words[7000:])])
    assert count_exact(col) == len(set(words))
    assert count_exact(pa.array(words, type=pa.large_string())) == len(set(words))
    assert count_exact(pa.array([w.encode() if w else None for w in words])) == len(set(words))
    assert count_exact(pa.array([1.5, None, 1.5, 2.0])) == 3


# ---- count_approx --------------------------------------------------------------------------


def test_count_approx_basic_and_deterministic() -> None:
    words = [str(i) for i in range(30_000)] * 4
    random.Random(0).shuffle(words)
    for method in ("knuth", "paper"):
        a = count_approx(words, seed=5, method=method)
        assert a == count_approx(words, seed=5, method=method)
        assert a == count_approx(tuple(words), seed=5, method=method)
        assert abs(a / 30_000 - 1) < 0.5
    # generators use the unsized bound: a larger buffer
    assert thresh_for(0.5, 0.001, None) > thresh_for(0.5, 0.001, len(words))
    g = count_approx((w for w in words), seed=5)
    assert abs(g / 30_000 - 1) < 0.5
    assert count_approx([]) == 0
    assert count_approx(iter([])) == 0
    assert count_approx(np.array([], dtype=np.float64)) == 0
    assert count_approx(["x"] * 1000) == 1
    assert thresh_for(0.5, 0.001, 10_000_000) == 1739  # the document's buffer size


def test_paper_failure_raises() -> None:
    with pytest.raises(HotloopError, match="failure event"):
        _core.cvm_count(list(range(1000)), 0, 1, 0)
    with pytest.raises(HotloopError, match="failure event"):
        _core.cvm_count_sources([(_core.DK_I64, np.arange(100), None, None, 100, 8, 0)], 0, 1, 0)


def test_count_approx_arrays_match_lists() -> None:
    a = np.random.default_rng(1).integers(0, 20_000, 100_000)
    for method in ("knuth", "paper"):
        assert count_approx(a, seed=2, method=method) == count_approx(a.tolist(), seed=2,
                                                                       method=method)
    w = np.array([str(i) for i in a[:50_000]])
    assert count_approx(w, seed=3) == count_approx(w.tolist(), seed=3)


# ---- Sketch ---------------------------------------------------------------------------------


def test_sketch_exact_when_small_and_parameters() -> None:
    s = Sketch()
    assert s.precision == 14 and s.nbytes <= 64 * 1024 and s.seed == 0
    assert abs(s.error - 1.04 / 128) < 1e-12
    assert s.estimate() == 0 and s.is_exact and s.bounds() == (0.0, 0.0)
    for n in (1, 10, 100, 1000, s.sparse_limit):
        t = Sketch()
        t.update(range(n))
        assert t.is_exact and t.estimate() == n and t.bounds() == (n, n)
    t.update([s.sparse_limit + 1])
    assert not t.is_exact
    lo, hi = t.bounds(3)
    assert lo < t.estimate() < hi
    assert Sketch(error=0.26).precision == 4
    assert Sketch(error=0.0021).precision == 18
    assert Sketch(precision=10).nbytes < Sketch(precision=12).nbytes
    assert "estimate" in repr(t)


def test_sketch_order_duplicates_merge_threads() -> None:
    rng = np.random.default_rng(3)
    a = rng.integers(0, 300_000, 1_200_000)
    whole = Sketch(seed=9)
    whole.update(a, threads=1)
    many = Sketch(seed=9)
    many.update(a, threads=4)
    assert many == whole and many.to_bytes() == whole.to_bytes()
    shuffled = Sketch(seed=9)
    shuffled.update(np.concatenate([a[::-1], a[:1000]]))
    assert shuffled.to_bytes() == whole.to_bytes()
    parts = [Sketch(seed=9) for _ in range(3)]
    for p, chunk in zip(parts, np.array_split(a, 3), strict=True):
        p.update(chunk)
    merged = parts[0] | parts[1]
    merged |= parts[2]
    assert merged.to_bytes() == whole.to_bytes()
    as_list = Sketch(seed=9)
    as_list.update(a[:5000].tolist())
    as_arr = Sketch(seed=9)
    as_arr.update(a[:5000])
    assert as_list == as_arr
    # sparse + dense merges in both directions
    small = Sketch(seed=9)
    small.update([1, 2, 3])
    x = small.copy()
    x.merge(whole)
    y = whole.copy()
    y.merge(small)
    z = Sketch(seed=9)
    z.update(np.concatenate([a, [1, 2, 3]]))
    assert x == y == z


def test_sketch_incompatible_merge_and_types() -> None:
    with pytest.raises(ValueError, match="seed"):
        Sketch(seed=1).merge(Sketch(seed=2))
    with pytest.raises(ValueError, match="precision"):
        Sketch(precision=10).merge(Sketch(precision=11))
    with pytest.raises(TypeError):
        Sketch().merge(b"x")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        _ = Sketch() | 3  # type: ignore[operator]


def test_sketch_serialisation_and_pickle() -> None:
    for n in (0, 5, 3000, 100_000):
        s = Sketch(precision=12, seed=42)
        s.update(np.arange(n))
        b = s.to_bytes()
        t = Sketch.from_bytes(b)
        assert t == s and t.to_bytes() == b and t.seed == 42 and t.precision == 12
        assert pickle.loads(pickle.dumps(s)) == s
        assert copy.deepcopy(s) == s and copy.copy(s) == s
        assert Sketch.from_bytes(bytearray(b)) == s
        assert Sketch.from_bytes(memoryview(b)) == s
    assert b[:4] == b"HLLS" and b[4] == _core.HLL_FORMAT_VERSION


def test_from_bytes_fuzz_never_crashes() -> None:
    rng = random.Random(11)
    good = []
    for n in (0, 100, 10_000):
        s = Sketch(precision=8, seed=1)
        s.update(range(n))
        good.append(s.to_bytes())
    for _ in range(3000):
        orig = rng.choice(good)
        b = bytearray(orig)
        op = rng.randrange(4)
        if op == 0:
            del b[rng.randrange(len(b)) :]
        elif op == 1:
            for _ in range(rng.randint(1, 4)):
                b[rng.randrange(len(b))] ^= 1 << rng.randrange(8)
        elif op == 2:
            b += bytes(rng.randrange(256) for _ in range(rng.randint(1, 9)))
        else:
            b = bytearray(rng.randbytes(rng.randrange(64)))
        if bytes(b) == orig:  # two flips of the same bit
            continue
        with pytest.raises(ValueError):
            Sketch.from_bytes(bytes(b))
    for bad in (b"", b"HLLS", b"\x00" * 100, b"HLLS\x02" + b"\x00" * 50):
        with pytest.raises(ValueError):
            Sketch.from_bytes(bad)
    with pytest.raises(TypeError):
        Sketch.from_bytes("text")  # type: ignore[arg-type]


def test_concurrent_update_is_refused_or_safe() -> None:
    a = np.arange(3_000_000)
    s = Sketch()
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def work() -> None:
        barrier.wait()
        for _ in range(4):
            try:
                s.update(a, threads=1)
            except RuntimeError as exc:
                errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ref_sketch = Sketch()
    ref_sketch.update(a)
    assert s == ref_sketch  # never corrupt
    assert all("another thread" in str(e) for e in errors)


# ---- bad input ------------------------------------------------------------------------------


def test_bad_arguments() -> None:
    for bad in (0, 1, -0.1, 1.5, float("nan")):
        with pytest.raises(ValueError, match="epsilon"):
            count_approx([1], epsilon=bad)
        with pytest.raises(ValueError, match="delta"):
            count_approx([1], delta=bad)
    with pytest.raises(TypeError, match="epsilon"):
        count_approx([1], epsilon="0.5")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="method"):
        count_approx([1], method="fast")
    with pytest.raises(ValueError, match="seed"):
        count_approx([1], seed=-1)
    with pytest.raises(ValueError, match="seed"):
        Sketch(seed=2**64)
    with pytest.raises(TypeError, match="seed"):
        Sketch(seed=1.5)  # type: ignore[arg-type]
    for bad_err in (0, 1, 2, -1, 0.001):
        with pytest.raises(ValueError, match="error"):
            Sketch(error=bad_err)
    with pytest.raises(ValueError, match="precision"):
        Sketch(precision=3)
    with pytest.raises(ValueError, match="num_std"):
        Sketch().bounds(-1)
    with pytest.raises(TypeError, match="iterable"):
        count_approx(5)  # type: ignore[arg-type]


def test_unhashable_items_name_the_index() -> None:
    for fn in (count_exact, count_approx, lambda x: Sketch().update(x)):
        with pytest.raises(TypeError, match=r"items\[3\].*list"):
            fn([1, 2, 3, [4], 5])
        with pytest.raises(TypeError, match=r"items\[2\]"):
            fn(iter([1, 2, {}]))
    with pytest.raises(TypeError, match=r"items\[1\]"):
        count_approx([1, (2, [3])])


def test_unsupported_dtypes() -> None:
    with pytest.raises(TypeError, match="dtype"):
        count_exact(np.array([1 + 2j]))
    with pytest.raises(TypeError, match="int64"):
        Sketch().update(np.array(["2020-01-01"], dtype="M8[D]"))
    if pa is not None:
        with pytest.raises(TypeError, match="Arrow type"):
            count_exact(pa.array([[1], [2]]))


def test_inputs_not_modified() -> None:
    a = np.random.default_rng(0).integers(0, 100, 10_000)
    a_copy = a.copy()
    lst = a.tolist()
    lst_copy = list(lst)
    s = Sketch()
    s.update(a)
    s.update(lst)
    count_exact(a)
    count_exact(lst)
    count_approx(a)
    count_approx(lst)
    assert np.array_equal(a, a_copy) and lst == lst_copy


def test_no_leak_over_repeated_calls() -> None:
    import tracemalloc

    words = [str(i) for i in range(2000)] * 3
    arr = np.arange(5000)

    def once() -> None:
        count_exact(words)
        count_approx(words, seed=1)
        s = Sketch()
        s.update(words)
        s.update(arr)
        Sketch.from_bytes(s.to_bytes())

    for _ in range(5):
        once()
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    for _ in range(200):
        once()
    after = tracemalloc.take_snapshot()
    tracemalloc.stop()
    growth = sum(st.size_diff for st in after.compare_to(before, "filename"))
    assert growth < 200_000
    refs = [sys.getrefcount(w) for w in words[:50]]
    for _ in range(20):
        once()
    assert [sys.getrefcount(w) for w in words[:50]] == refs


# ---- Ctrl-C -----------------------------------------------------------------------------------


def _interrupt_after(fn: Any, delay: float = 0.05) -> float:
    # A real signal from the kernel (SIGALRM handled as Ctrl-C), as a user's Ctrl-C is: a
    # timer *thread* calling _thread.interrupt_main() would itself need the GIL, which the
    # list walks hold, so it would measure the GIL hand-over, not the signal check.
    old = signal.signal(signal.SIGALRM, signal.default_int_handler)
    t0 = time.perf_counter()
    signal.setitimer(signal.ITIMER_REAL, delay)
    try:
        with pytest.raises(KeyboardInterrupt):
            fn()
            time.sleep(5)  # not reached if fn was interrupted in time
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
    return time.perf_counter() - t0 - delay


def test_ctrl_c_interrupts_long_calls() -> None:
    # infinite iterables: only Ctrl-C ends these walks (GIL held, signals checked)
    assert _interrupt_after(lambda: Sketch().update(itertools.count())) < 0.1
    assert _interrupt_after(lambda: count_approx(itertools.count(), seed=1)) < 0.1
    # long array calls with the GIL released (count_exact also while it doubles a table of
    # tens of millions of slots)
    big = np.arange(40_000_000, dtype=np.int64)
    assert _interrupt_after(lambda: count_approx(big, seed=1)) < 0.1
    assert _interrupt_after(lambda: count_exact(big), delay=0.3) < 0.1
    few = big % 1_000_003
    assert _interrupt_after(lambda: count_exact(few)) < 0.1
    floats = big.astype(np.float64)
    assert _interrupt_after(lambda: Sketch().update(floats, threads=1)) < 0.1


# ---- reference twin and bench smoke ------------------------------------------------------


def test_reference_exact_and_small() -> None:
    items = [str(i % 50) for i in range(1000)]
    assert ref.count_exact_python(items) == 50
    assert ref.count_approx_python(items, seed=1) == 50
    assert ref.count_approx_knuth_python(items, seed=1) == 50
    with pytest.raises(ref.CVMFailure):
        ref.count_approx_python(list(range(1000)), thresh=1, seed=0)


def test_bench_workloads_quick_smoke() -> None:
    from hotloop.bench import distinct as bench

    for w in bench.workloads(quick=True):
        assert w.kernel == "distinct" and any(i.hotloop for i in w.impls)
    # run the cheapest implementations of one workload end to end
    w = bench._numpy_workload(quick=True)
    data = w.setup()
    results = {i.name: i.fn(data) for i in w.impls if "set" not in i.name}
    assert results["hotloop count_exact"] == np.unique(data).size


def test_count_exact_survives_list_mutation_during_hash() -> None:
    class Evil:
        def __init__(self, lst: list[Any]) -> None:
            self.lst = lst

        def __hash__(self) -> int:
            self.lst.clear()  # frees the other items if nothing else holds them
            return 1

        def __eq__(self, other: object) -> bool:
            return self is other

    for pos in (0, 5, 63, 64, 200):
        lst: list[Any] = [str(i) * 3 for i in range(300)]
        lst.insert(pos, Evil(lst))
        n = count_exact(lst)
        assert 1 <= n <= 301
        lst2: list[Any] = [str(i) * 3 for i in range(300)]
        lst2.insert(pos, Evil(lst2))
        Sketch().update(lst2)  # must not crash either

    class Grow:
        """Grows the list (moving its item array) the first time it is hashed."""

        def __init__(self, lst: list[Any]) -> None:
            self.lst = lst
            self.done = False

        def __hash__(self) -> int:
            if not self.done:
                self.done = True
                self.lst.extend(f"g{i}" for i in range(2000))
            return 2

    for pos in (0, 5, 2047, 2048, 2900):
        lst3: list[Any] = [str(i) for i in range(3000)]
        lst3.insert(pos, Grow(lst3))
        assert count_exact(lst3) == 5001  # the walk sees the items added during it
        lst4: list[Any] = [str(i) for i in range(3000)]
        lst4.insert(pos, Grow(lst4))
        s = Sketch(precision=16)  # exact up to 8192 distinct items
        s.update(lst4)
        assert s.process_local and s.estimate() == 5001


def test_pandas_series_through_numpy_and_arrow() -> None:
    pd = pytest.importorskip("pandas")
    cases = [
        pd.Series([1, 2, 2, 3]),
        pd.Series([1.0, np.nan, 1.0, -0.0, 0.0]),
        pd.Series([1, None, 2, 2], dtype="Int64"),
        pd.Series(["a", "b", "a", None], dtype=object),
        pd.Series(["a", "b", "a", "é"], dtype="category"),
        pd.Series([True, False, True]),
    ]
    if pa is not None:
        cases.append(pd.Series(["a", "b", "a", None], dtype="string[pyarrow]"))
    for s in cases:
        values = [None if v is pd.NA else v for v in s.tolist()]
        n = len({("nan" if isinstance(v, float) and math.isnan(v) else v) for v in values})
        assert count_exact(s) == n, s.dtype
        assert count_approx(s, seed=1) == n, s.dtype
        sk = Sketch()
        sk.update(s)
        ref_sketch = Sketch()
        ref_sketch.update(values)
        assert sk == ref_sketch, s.dtype


def test_seed_none_is_recorded_and_repeats_the_run() -> None:
    import hotloop.distinct as hd

    items = np.arange(50_000) % 20_011
    first = count_approx(items, 0.3, 0.01, seed=None)
    drawn = hd.last_seed()
    assert drawn is not None and 0 <= drawn < 2**64
    assert count_approx(items, 0.3, 0.01, seed=drawn) == first
    count_approx(items, 0.3, 0.01, seed=5)
    assert hd.last_seed() == drawn  # an explicit seed is not recorded
