"""Distinct counting: the CVM estimator, exact counts, and a mergeable HyperLogLog sketch.

>>> from hotloop.distinct import count_approx, count_exact, Sketch
>>> words = [str(i) for i in range(100_000)] * 10
>>> count_exact(words)
100000
>>> est = count_approx(words, seed=1)          # CVM (Knuth's Algorithm D), within 50%
>>> s = Sketch(error=0.01)                     # 16 KiB, mergeable, order-free
>>> s.update(words)
>>> lo, hi = s.bounds()                        # +- 2 standard errors

Inputs (never copied where the layout allows): lists, tuples and any iterable of hashables;
NumPy arrays of integers, floats, bool, bytes (``S``) and str (``U``); pyarrow arrays and
chunked arrays (integer, float, bool, string, large_string, binary, large_binary, and
dictionary arrays, which are decoded); pandas Series through NumPy or pyarrow.

Item identity follows Python equality for the built-in types: ``1``, ``1.0`` and ``True`` are one
item, ``-0.0`` is ``0``, a ``str`` is the same item whether it comes from a list, a NumPy ``U``
array, an Arrow string column or a line of a file. Sketches and ``count_approx`` hash items with
a canonical, process-independent hash (str, bytes, int, float, bool, None and tuples of these,
and the array types); objects of other types fall back to ``hash()``, which Python randomises
per process, so such a sketch is marked process-local and cannot be serialised or merged.
NaN: the hash-based functions treat every NaN as one item; ``count_exact`` on a Python iterable
follows ``set`` exactly (distinct NaN objects are distinct), on arrays every NaN is one item
(like ``np.unique``).
"""

from __future__ import annotations

import math
import operator
import secrets
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from hotloop import _core
from hotloop._threads import resolve_threads

__all__ = [
    "Sketch",
    "count_approx",
    "count_exact",
    "dask_count",
    "dask_sketch",
    "last_seed",
    "thresh_for",
]

#: Stream length assumed for ``count_approx``'s buffer size when the input has no ``len()``
#: (a generator): 2**64, an upper bound on any stream, so the guarantee still holds.
UNSIZED_STREAM_BOUND = 2**64

_METHODS = {"paper": 0, "knuth": 1}

# A source is (kind, data, offsets, validity, n, width, offset): see ext/bind_distinct.c.
_Source = tuple[int, Any, Any, Any, int, int, int]


# ---- input classification -------------------------------------------------------------------


def _numpy_input(arr: np.ndarray[Any, Any]) -> tuple[str, list[Any]]:
    """("sources", [source]) for a NumPy array, ("items", list) for object arrays."""
    dt = arr.dtype
    if dt.hasobject:
        return "items", list(arr.ravel().tolist())
    if dt.kind in "iufb" and not dt.isnative:
        arr = arr.astype(dt.newbyteorder("="))  # a copy: the core reads native order
        dt = arr.dtype
    if dt.kind == "U" and not dt.isnative:
        arr = arr.astype(dt.newbyteorder("="))
        dt = arr.dtype
    if dt.kind == "f" and dt.itemsize == 2:
        arr = arr.astype(np.float32)  # a copy: float16 has no core path
        dt = arr.dtype
    flat = np.ascontiguousarray(arr).reshape(-1)  # a view for contiguous input
    n = int(flat.shape[0])
    if dt.kind in "SU" and dt.itemsize == 0:
        return "items", [dt.type()] * n
    if dt.kind == "b":
        return "sources", [(_core.DK_U8, flat.view(np.uint8), None, None, n, 1, 0)]
    if dt.kind in "iu":
        name = ("DK_I" if dt.kind == "i" else "DK_U") + str(8 * dt.itemsize)
        return "sources", [(getattr(_core, name), flat, None, None, n, dt.itemsize, 0)]
    if dt.kind == "f" and dt.itemsize in (4, 8):
        kind = _core.DK_F32 if dt.itemsize == 4 else _core.DK_F64
        return "sources", [(kind, flat, None, None, n, dt.itemsize, 0)]
    if dt.kind == "S":
        return "sources", [(_core.DK_BYTES_FIX, flat, None, None, n, dt.itemsize, 0)]
    if dt.kind == "U":
        return "sources", [(_core.DK_UCS4_FIX, flat, None, None, n, dt.itemsize, 0)]
    hint = " (view datetimes as int64: arr.view('i8'))" if dt.kind in "mM" else ""
    raise TypeError(f"items: unsupported NumPy dtype {dt}{hint}")


def _is_arrow(obj: Any) -> bool:
    mod = type(obj).__module__
    return mod.startswith("pyarrow") and hasattr(obj, "type") and hasattr(obj, "null_count")


def _arrow_sources(obj: Any) -> list[_Source]:
    import pyarrow as pa

    chunks = obj.chunks if isinstance(obj, pa.ChunkedArray) else [obj]
    out: list[_Source] = []
    for ch in chunks:
        out.append(_arrow_array_source(ch))
    return out


def _arrow_array_source(ch: Any) -> _Source:
    import pyarrow as pa

    t = ch.type
    if pa.types.is_dictionary(t):
        ch = ch.dictionary_decode()  # a copy: values are read through the indices
        t = ch.type
    if isinstance(t, pa.ExtensionType):
        ch = ch.storage
        t = ch.type
    n, off = len(ch), ch.offset
    if pa.types.is_null(t):
        zeros = np.zeros((off + n + 7) // 8, dtype=np.uint8)
        return (_core.DK_BITS, zeros, None, zeros, n, 1, 0 if off == 0 else off)
    if pa.types.is_float16(t):
        ch = ch.cast(pa.float32())  # a copy
        t, off = ch.type, ch.offset
    view_types = [getattr(pa.types, name, None) for name in ("is_string_view", "is_binary_view")]
    if any(f is not None and f(t) for f in view_types):
        ch = ch.cast(pa.large_string() if pa.types.is_string_view(t) else pa.large_binary())
        t, off = ch.type, ch.offset
    bufs = ch.buffers()
    validity = bufs[0] if ch.null_count > 0 else None
    if pa.types.is_integer(t):
        name = ("DK_I" if pa.types.is_signed_integer(t) else "DK_U") + str(t.bit_width)
        return (getattr(_core, name), bufs[1], None, validity, n, t.bit_width // 8, off)
    if pa.types.is_floating(t):
        kind = _core.DK_F32 if t.bit_width == 32 else _core.DK_F64
        return (kind, bufs[1], None, validity, n, t.bit_width // 8, off)
    if pa.types.is_boolean(t):
        return (_core.DK_BITS, bufs[1], None, validity, n, 1, off)
    kinds = (
        (pa.types.is_string, _core.DK_UTF8_O32),
        (pa.types.is_large_string, _core.DK_UTF8_O64),
        (pa.types.is_binary, _core.DK_BIN_O32),
        (pa.types.is_large_binary, _core.DK_BIN_O64),
    )
    for test, kind in kinds:
        if test(t):
            data = bufs[2] if bufs[2] is not None else b""
            return (kind, data, bufs[1], validity, n, 0, off)
    raise TypeError(
        f"items: unsupported Arrow type {t} (supported: integers, floats, bool, string, "
        "large_string, binary, large_binary, dictionary of these)"
    )


def _is_pandas(obj: Any) -> bool:
    return type(obj).__module__.startswith("pandas") and hasattr(obj, "to_numpy")


def _pandas_input(obj: Any) -> Any:
    dtype = obj.dtype
    if isinstance(dtype, np.dtype):
        arr = obj.to_numpy()
        return arr
    try:  # extension dtypes (nullable ints, string[pyarrow], ArrowDtype) through Arrow
        import pyarrow as pa

        return pa.array(obj)
    except Exception:  # pyarrow missing or the dtype has no Arrow form
        return list(obj.tolist())


def _classify(items: Any) -> tuple[str, Any, int | None]:
    """('sources', list, n) for arrays, ('items', iterable, len or None) for the rest."""
    if isinstance(items, (list, tuple)):
        return "items", items, len(items)
    if _is_pandas(items):
        items = _pandas_input(items)
    if isinstance(items, np.ndarray):
        how, got = _numpy_input(items)
        return how, got, len(got) if how == "items" else int(got[0][4])
    if _is_arrow(items):
        srcs = _arrow_sources(items)
        return "sources", srcs, sum(s[4] for s in srcs)
    if isinstance(items, (str, bytes, bytearray, memoryview, dict, set, frozenset)) or hasattr(
        items, "__len__"
    ):
        try:
            return "items", items, len(items)
        except TypeError:
            return "items", items, None
    if not isinstance(items, Iterable):
        raise TypeError(f"items: expected an iterable or an array, got {type(items).__name__}")
    return "items", items, None


# ---- argument checks --------------------------------------------------------------------------


def _unit_interval(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name}: expected a number in (0, 1), got {type(value).__name__}")
    v = float(value)
    if not (0.0 < v < 1.0):
        raise ValueError(f"{name}: expected a number in (0, 1), got {value!r}")
    return v


def _seed64(seed: Any, name: str = "seed") -> int:
    if isinstance(seed, bool):
        raise TypeError(f"{name}: expected an int, got bool")
    try:
        value = operator.index(seed)
    except TypeError:
        raise TypeError(f"{name}: expected an int, got {type(seed).__name__}") from None
    if not (0 <= value < 2**64):
        raise ValueError(f"{name}: expected 0 <= {name} < 2**64, got {value}")
    return value


def thresh_for(epsilon: float, delta: float, m: int | None) -> int:
    """The CVM buffer size ``ceil(12 / epsilon**2 * log2(8 m / delta))`` (m = stream length;
    ``None`` means unknown and uses :data:`UNSIZED_STREAM_BOUND`)."""
    eps = _unit_interval("epsilon", epsilon)
    dlt = _unit_interval("delta", delta)
    mm = UNSIZED_STREAM_BOUND if m is None else max(int(m), 1)
    return int(_core.cvm_threshold(eps, dlt, float(mm)))


# ---- public functions -------------------------------------------------------------------------


_last_drawn_seed: int | None = None


def _draw_seed() -> int:
    global _last_drawn_seed
    _last_drawn_seed = secrets.randbits(64)
    return _last_drawn_seed


def last_seed() -> int | None:
    """The seed that the latest ``count_approx(..., seed=None)`` drew from the OS, or None."""
    return _last_drawn_seed


def count_approx(
    items: Any,
    epsilon: float = 0.5,
    delta: float = 0.001,
    *,
    seed: int | None = None,
    method: str = "knuth",
) -> int:
    """Estimate the number of distinct items with the CVM algorithm.

    Guarantee (Chakraborty, Vinodchandran & Meel 2022): P(|estimate - true| > epsilon * true)
    <= delta, with a buffer of ``thresh = ceil(12 / epsilon**2 * log2(8 m / delta))`` item
    hashes, m = ``len(items)`` (for inputs without ``len()``, m = 2**64: a bound on any stream).

    ``method="knuth"`` (default) is Knuth's Algorithm D (2023): a buffer of (item, volatility)
    pairs; it never fails and is unbiased. ``method="paper"`` is the paper's Algorithm 1
    exactly: on its failure event (probability <= delta) it raises ``HotloopError`` rather than
    return a wrong number. The same items in the same order with the same ``seed`` give the
    same answer in every process; ``seed=None`` draws one from the OS, which
    :func:`last_seed` then returns (to repeat the run). Exact (no sampling) while the input has
    fewer than ``thresh`` distinct items.
    """
    eps = _unit_interval("epsilon", epsilon)
    dlt = _unit_interval("delta", delta)
    if method not in _METHODS:
        raise ValueError(f"method: expected 'knuth' or 'paper', got {method!r}")
    s = _draw_seed() if seed is None else _seed64(seed)
    how, data, n = _classify(items)
    thresh = thresh_for(eps, dlt, n)
    if how == "sources":
        return int(_core.cvm_count_sources(data, _METHODS[method], thresh, s))
    return int(_core.cvm_count(data, _METHODS[method], thresh, s))


def count_exact(items: Any) -> int:
    """The exact number of distinct items.

    For Python iterables, the same answer as ``len(set(items))``: Python's ``hash()`` narrows
    the search and ``==`` decides, so hash collisions never merge unequal items. For arrays,
    the canonical hash narrows and the values themselves decide (every NaN is one item, like
    ``np.unique``; a null of an Arrow array is ``None``).
    """
    how, data, _ = _classify(items)
    if how == "sources":
        return int(_core.exact_count_sources(data))
    return int(_core.exact_count(data))


def _precision_for(error: Any, precision: Any) -> int:
    if precision is not None:
        if isinstance(precision, bool):
            raise TypeError("precision: expected an int, got bool")
        p = operator.index(precision)
        if not (_core.HLL_MIN_P <= p <= _core.HLL_MAX_P):
            raise ValueError(
                f"precision: expected {_core.HLL_MIN_P}..{_core.HLL_MAX_P}, got {precision}"
            )
        return p
    if isinstance(error, bool) or not isinstance(error, (int, float, np.floating)):
        raise TypeError(f"error: expected a number, got {type(error).__name__}")
    err = float(error)
    smallest = 1.04 / math.sqrt(2.0**_core.HLL_MAX_P)
    if not (0.0 < err < 1.0):
        raise ValueError(f"error: expected a relative standard error in (0, 1), got {error!r}")
    if err < smallest * (1 - 1e-12):
        raise ValueError(
            f"error: the smallest supported is {smallest:.5f} (2**{_core.HLL_MAX_P} registers)"
            f", got {error!r}"
        )
    p = math.ceil(math.log2((1.04 / err) ** 2) - 1e-12)
    return max(_core.HLL_MIN_P, min(_core.HLL_MAX_P, p))


class Sketch:
    """A deterministic, mergeable distinct-count sketch (HyperLogLog, exact while small).

    ``Sketch(error=0.01, seed=0)`` uses 2**p one-byte registers, the smallest p whose relative
    standard error 1.04 / sqrt(2**p) is at most ``error`` (0.01 -> p = 14: 16 KiB of registers,
    0.81%); ``precision=p`` picks p directly (4..18). Its memory is fixed by p (``nbytes``,
    48 KiB at the default), whatever the input size.

    The state depends only on the set of distinct items added: not on their order, their
    multiplicity, how they were split between sketches that were merged, or the thread count.
    Up to ``sparse_limit`` distinct items (2048 at the default) the sketch keeps their 64-bit
    hashes and its estimate is exact (``is_exact``); beyond, it is Ertl's improved HyperLogLog
    estimator with relative standard error ``error``.

    Sketches with the same precision and seed merge (``a.merge(b)``, ``a | b``); others raise
    ``ValueError``. ``to_bytes()``/``Sketch.from_bytes()`` use a versioned, checksummed format
    that is the same on every machine; pickling goes through it. A sketch is not thread-safe:
    using one from two threads at once raises ``RuntimeError``.
    """

    __slots__ = ("_s",)

    def __init__(self, *, error: float = 0.01, seed: int = 0, precision: int | None = None) -> None:
        self._s = _core.Sketch(_precision_for(error, precision), _seed64(seed))

    @classmethod
    def _wrap(cls, core: Any) -> Sketch:
        obj = cls.__new__(cls)
        obj._s = core
        return obj

    # -- adding items
    def update(self, items: Any, *, threads: int | None = None) -> None:
        """Add items (any iterable or array, see the module docs). Array inputs run in C with
        the GIL released, split across ``threads`` (default: all cores); Python iterables are
        walked in C holding the GIL."""
        how, data, _ = _classify(items)
        if how == "sources":
            self._s.update_sources(data, resolve_threads(threads))
        else:
            self._s.update(data)

    def merge(self, other: Sketch) -> None:
        """Add the items of ``other`` (same precision and seed, else ``ValueError``)."""
        if not isinstance(other, Sketch):
            raise TypeError(f"other: expected a Sketch, got {type(other).__name__}")
        self._s.merge(other._s)

    def __or__(self, other: object) -> Sketch:
        if not isinstance(other, Sketch):
            return NotImplemented
        out = self.copy()
        out.merge(other)
        return out

    def __ior__(self, other: object) -> Sketch:
        if not isinstance(other, Sketch):
            return NotImplemented
        self.merge(other)
        return self

    def clear(self) -> None:
        """Remove every item."""
        self._s.clear()

    # -- results
    def estimate(self) -> float:
        """The estimated number of distinct items (exact while ``is_exact``)."""
        return float(self._s.estimate()[0])

    def bounds(self, num_std: float = 2.0) -> tuple[float, float]:
        """``(lo, hi)`` = estimate * (1 -+ num_std * error); ``(n, n)`` while exact."""
        if isinstance(num_std, bool) or not isinstance(num_std, (int, float, np.floating)):
            raise TypeError(f"num_std: expected a number, got {type(num_std).__name__}")
        k = float(num_std)
        if not (k >= 0.0 and math.isfinite(k)):
            raise ValueError(f"num_std: expected a finite number >= 0, got {num_std!r}")
        est, exact = self._s.estimate()
        if exact:
            return float(est), float(est)
        d = k * self.error * est
        return max(0.0, est - d), est + d

    @property
    def is_exact(self) -> bool:
        """True while the sketch holds few enough items to count them exactly."""
        return bool(self._s.is_sparse)

    @property
    def precision(self) -> int:
        """log2 of the number of registers."""
        return int(self._s.precision)

    @property
    def seed(self) -> int:
        """The seed (the key of the hash)."""
        return int(self._s.key)

    @property
    def error(self) -> float:
        """Relative standard error of the estimate once not exact: 1.04 / sqrt(2**precision)."""
        return float(self._s.rse)

    @property
    def sparse_limit(self) -> int:
        """Distinct items counted exactly (2**precision / 8)."""
        return int(self._s.sparse_limit)

    @property
    def nbytes(self) -> int:
        """Memory the sketch owns, fixed by its precision."""
        return int(self._s.nbytes)

    @property
    def process_local(self) -> bool:
        """True when some item had no stable hash (``hash()`` was used): then the sketch
        cannot be serialised or merged."""
        return bool(self._s.process_local)

    # -- copies, serialisation
    def copy(self) -> Sketch:
        """An independent copy."""
        return Sketch._wrap(self._s.copy())

    __copy__ = copy

    def __deepcopy__(self, memo: dict[int, Any]) -> Sketch:
        return self.copy()

    def to_bytes(self) -> bytes:
        """The versioned, checksummed serialised form (same bytes on every machine for the
        same set of items)."""
        return bytes(self._s.to_bytes())

    @classmethod
    def from_bytes(cls, data: bytes | bytearray | memoryview) -> Sketch:
        """A sketch from :meth:`to_bytes` output; ``ValueError`` for corrupt or foreign
        bytes."""
        return cls._wrap(_core.Sketch.from_bytes(data))

    def __reduce__(self) -> tuple[Any, tuple[bytes]]:
        return (Sketch.from_bytes, (self.to_bytes(),))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sketch):
            return NotImplemented
        return bool(self._s.equals(other._s))

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        est, exact = self._s.estimate()
        what = "exact" if exact else f"+-{100 * self.error:.2g}%"
        return (
            f"Sketch(precision={self.precision}, seed={self.seed}, estimate={est:.6g} ({what}), "
            f"nbytes={self.nbytes}{', process-local' if self.process_local else ''})"
        )


# ---- Dask -------------------------------------------------------------------------------------


def _partition_sketch(part: Any, precision: int, seed: int) -> bytes:
    s = Sketch(precision=precision, seed=seed)
    if _is_pandas(part) and hasattr(part, "columns"):
        raise TypeError("dask_count: expected a Series, Bag or Array, got a DataFrame")
    s.update(part, threads=1)
    return s.to_bytes()


def _merge_sketch_bytes(parts: Sequence[bytes]) -> bytes:
    out = Sketch.from_bytes(parts[0])
    for b in parts[1:]:
        out.merge(Sketch.from_bytes(b))
    return out.to_bytes()


def dask_sketch(
    collection: Any,
    *,
    error: float = 0.01,
    seed: int = 0,
    precision: int | None = None,
    split_every: int = 8,
) -> Sketch:
    """One :class:`Sketch` over a Dask Bag, Array or Series: a sketch per partition (on the
    workers), merged in a tree of ``split_every``-way merges; the result equals the sketch of
    all the data in one place. Sketches travel between processes as ``to_bytes()``."""
    from dask.base import compute
    from dask.delayed import delayed

    p = _precision_for(error, precision)
    s = _seed64(seed)
    if not (isinstance(split_every, int) and split_every >= 2):
        raise ValueError(f"split_every: expected an int >= 2, got {split_every!r}")
    parts = collection.to_delayed()
    if isinstance(parts, np.ndarray):
        parts = list(parts.ravel())
    level = [delayed(_partition_sketch)(part, p, s) for part in parts]
    if not level:
        return Sketch(precision=p, seed=s)
    while len(level) > 1:
        level = [
            delayed(_merge_sketch_bytes)(level[i : i + split_every])
            for i in range(0, len(level), split_every)
        ]
    (data,) = compute(level[0])  # type: ignore[no-untyped-call, unused-ignore]
    return Sketch.from_bytes(data)


def dask_count(collection: Any, **kwargs: Any) -> float:
    """The estimated number of distinct items of a Dask collection
    (``dask_sketch(collection, **kwargs).estimate()``)."""
    return dask_sketch(collection, **kwargs).estimate()
