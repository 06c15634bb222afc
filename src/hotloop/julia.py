"""Julia (and Mandelbrot) set images, bit-exact with the source document's NumPy code.

A drop-in for the document's classes::

    from hotloop.julia import ComplexRegion, JuliaDiv

    region = ComplexRegion(-1.6, 1.6, -1.0, 1.0)
    image = JuliaDiv(-0.835 - 0.2321j, 2.0, (5, 80), 1000).over(region)   # (1000, 625)

``over`` computes grid, iteration and normalisation in one pass in C (SIMD, all cores, the
GIL released) without building the complex grid. In float64 mode the result equals the
document's NumPy ``JuliaDiv.over`` bit for bit on every SIMD path and thread count.
``dtype=np.float32`` is an explicitly approximate fast mode: single-precision arithmetic, so
pixels near the set's boundary can get different counts. ``smooth=True`` gives the continuous
escape time nu = i + 1 - log2(log|z_{i+1}| / log(threshold)) (clamped to [i, i + 1], Vepstas
1997) normalised the same way.
"""

from __future__ import annotations

import cmath
import dataclasses
import math
import numbers
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, DTypeLike, NDArray

from hotloop import _core
from hotloop._flags import as_flag
from hotloop._masked import unmasked
from hotloop._memory import usable_memory, usable_memory_text
from hotloop._numbers import (
    as_int,
    count_text,
    short_repr,
    too_large_text,
    type_text,
    unwrap_0d,
)
from hotloop._progress import check_progress
from hotloop._threads import resolve_threads

__all__ = [
    "ComplexRegion",
    "JuliaDiv",
    "divergence",
    "escape_counts",
    "mandelbrot",
    "mandelbrot_picture",
    "to_picture",
]

ProgressFn = Callable[[int, int], object]

#: SIMD level names accepted by ``simd=`` (for tests and comparisons; results never differ).
SIMD_LEVELS = {"auto": -1, "scalar": 0, "avx2": 1, "avx512": 2}

_UINT32_MAX = 2**32 - 1
# Output kinds of the core (hl_julia_output).
_COUNTS, _NORMALISED, _SMOOTH, _F32, _F32_SMOOTH, _PICTURE, _PICTURE_SMOOTH = 0, 1, 2, 3, 4, 5, 6


def _real(value: object, name: str) -> float:
    value = unwrap_0d(value, "iufc")  # a 0-d array, as the other kernels take
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name}: expected a real number, got {type_text(value)}")
    try:
        v = float(value)
    except OverflowError:  # an int (or Fraction) beyond the doubles: ValueError like inf
        raise ValueError(f"{name}: expected a number within the float range, got "
                         f"{too_large_text(value)}") from None
    if math.isinf(v) and isinstance(value, np.floating) and np.isfinite(value):
        # a finite np.longdouble beyond the doubles: float() gives inf without a word
        raise ValueError(f"{name}: expected a number within the float range, got "
                         f"{too_large_text(value)}")
    return v


def _finite(value: object, name: str) -> float:
    v = _real(value, name)
    if not math.isfinite(v):
        raise ValueError(f"{name}: expected a finite number, got {v}")
    return v


def _complex(value: object, name: str) -> complex:
    value = unwrap_0d(value, "iufc")  # a 0-d array, as the other kernels take
    if isinstance(value, bool) or not isinstance(value, numbers.Complex):
        raise TypeError(f"{name}: expected a complex number, got {type_text(value)}")
    try:
        c = complex(value)
    except OverflowError:
        raise ValueError(f"{name}: expected a complex number within the float range, got "
                         f"{too_large_text(value)}") from None
    if isinstance(value, np.number) and np.isfinite(value) and not cmath.isfinite(c):
        # a finite np.clongdouble beyond the doubles: complex() gives inf without a word
        raise ValueError(f"{name}: expected a complex number within the float range, got "
                         f"{too_large_text(value)}")
    if not cmath.isfinite(c):
        raise ValueError(f"{name}: expected a finite complex number, got {c}")
    return c


def _int(value: object, name: str, lo: int, hi: int | None) -> int:
    """``value`` as an int in lo..hi (no upper bound for None)."""
    v = as_int(value, name)
    # count_text: str() of an int beyond 4300 digits raises Python's own ValueError
    if hi is None and v < lo:
        raise ValueError(f"{name}: expected an integer >= {lo}, got {count_text(v)}")
    if hi is not None and not lo <= v <= hi:
        raise ValueError(f"{name}: expected an integer in {lo}..{hi}, got {count_text(v)}")
    return v


# The largest resolution: 2^62 pixels a side is far beyond any machine's memory already.
_RESOLUTION_MAX = 2**62


def _resolution(value: object) -> int:
    """The resolution (pixels along x): an integer >= 1. Beyond _RESOLUTION_MAX a MemoryError,
    as for any size the machine cannot hold, rather than a range error."""
    v = _int(value, "resolution", 1, None)
    if v > _RESOLUTION_MAX:
        raise MemoryError(f"resolution: {too_large_text(v) if v > 10**30 else v} pixels a side is "
                          f"beyond any machine's memory")
    return v


def _threshold(value: object) -> float:
    """A finite threshold > 0 (the CLI's -t takes the same: an infinite one would only stop
    pixels whose z overflowed, which says nothing about the set)."""
    t = _real(value, "threshold")
    if not 0.0 < t < math.inf:  # also NaN
        raise ValueError(f"threshold: expected a finite number > 0, got {t}")
    return t


def _iterations(value: object) -> tuple[int, int]:
    # an ordered pair (a sequence or a 1-D array): a set or a dict has no first and second,
    # a 0-d array no items at all
    pair = tuple(value) if isinstance(value, Sequence) or (
        isinstance(value, np.ndarray) and value.ndim > 0) else ()
    if len(pair) != 2:
        raise TypeError(f"n_iterations: expected a pair (itermin, itermax), got "
                        f"{short_repr(value)}")
    itermin, itermax = pair
    lo = _int(itermin, "n_iterations[0] (itermin)", 0, _UINT32_MAX)
    hi = _int(itermax, "n_iterations[1] (itermax)", 0, _UINT32_MAX)
    if lo >= hi:
        raise ValueError(f"n_iterations: expected itermin < itermax, got ({lo}, {hi})")
    return lo, hi


def _simd(value: str) -> int:
    if not isinstance(value, str):
        raise TypeError(f"simd: expected a str, one of {', '.join(SIMD_LEVELS)}, got "
                        f"{type(value).__name__}")
    try:
        return SIMD_LEVELS[value]
    except KeyError:
        raise ValueError(f"simd: expected one of {', '.join(SIMD_LEVELS)}, got "
                         f"{short_repr(value)}") from None


def _float_dtype(dtype: DTypeLike) -> np.dtype[Any]:
    try:
        dt = np.dtype(dtype)
    except (TypeError, ValueError):  # ValueError: str() of an int beyond 4300 digits inside
        raise TypeError(f"dtype: expected float64 or float32, got {short_repr(dtype)}") from None
    if dt not in (np.dtype(np.float64), np.dtype(np.float32)):
        raise ValueError(f"dtype: expected float64 or float32, got {dt}")
    return dt


_F32_INFO = np.finfo(np.float32)


def _check_modes(threshold: float, smooth: bool, dtype: np.dtype[Any]) -> None:
    """The thresholds the smooth and float32 modes can use (the core's rules, checked here so
    the error names the argument)."""
    if smooth and not threshold > 1.0:
        raise ValueError(f"smooth: needs threshold > 1, got {threshold}")
    if dtype == np.float32:
        # the float32 kernels compare |z|^2 with float32(threshold^2): a normal, finite float
        with np.errstate(over="ignore", under="ignore"):
            t2 = np.float32(threshold * threshold)
        if not _F32_INFO.smallest_normal <= t2 <= _F32_INFO.max:
            raise ValueError(
                f"threshold: dtype=float32 needs threshold^2 to be a normal float32 (threshold "
                f"from 2**-63 to about 1.8e19), got {threshold}"
            )


def _size_text(n: int) -> str:
    """A size for a message: count_text's, its description in parentheses (beyond 64 bits)."""
    text = count_text(n)
    return text if text.isdecimal() else f"({text})"


def _check_size(size: tuple[int, int], dtype: DTypeLike) -> None:
    """A MemoryError, before anything is allocated, for an image of ``size`` = (nx, ny)
    beyond the memory this process may use. The message gives the size as width x height
    (nx x ny), as the CLI's lines do, also for a picture (whose array is (ny, nx)); numbers
    beyond 64 bits (ny can have hundreds of digits) are given by their number of digits."""
    nx, ny = size
    problem = _beyond_memory(nx * ny * np.dtype(dtype).itemsize)
    if problem is not None:
        gib, beyond = problem
        raise MemoryError(f"resolution: an image of {_size_text(nx)} x {_size_text(ny)} "
                          f"pixels needs {gib} GiB, {beyond}")


def _beyond_memory(nbytes: int) -> tuple[str, str] | None:
    """None when ``nbytes`` fit in the memory this process may use, else the two parts of a
    MemoryError's message: how many GiB are needed, and what that is beyond: "more than
    <the limit> (Y GiB)", or "beyond any machine's memory" from 2**62 bytes on (or where
    the limit is unknown)."""
    limit = usable_memory()
    if nbytes < 2**62 and (limit is None or nbytes <= limit):
        return None
    gib = f"{nbytes / 2**30:.1f}" if nbytes < 2**94 else _size_text(nbytes >> 30)
    beyond = ("beyond any machine's memory" if nbytes >= 2**62 or limit is None
              else f"more than {usable_memory_text(limit)} ({limit / 2**30:.1f} GiB)")
    return gib, beyond


def _allocate(size: tuple[int, int], dtype: DTypeLike, *, picture: bool = False
              ) -> NDArray[Any]:
    """np.empty for an image of ``size`` = (nx, ny): shape (nx, ny), or (ny, nx) for a
    picture, after _check_size."""
    _check_size(size, dtype)
    return np.empty(size[::-1] if picture else size, dtype=dtype)


# Instances are immutable, as in the document (its PyO3 classes are `#[pyclass(frozen)]`): every
# value the C core sees was validated by __init__, and assigning an attribute raises
# dataclasses.FrozenInstanceError (an AttributeError) instead of failing later in the core.
# (No slots=True: on Python 3.11 a frozen slotted dataclass answers the assignment of an
# unknown attribute with a TypeError from its own super() call.)
@dataclasses.dataclass(frozen=True, init=False, repr=False, eq=False)
class ComplexRegion:
    """An area of the complex plane: x from ``xleft`` to ``xright``, y from ``yleft`` to
    ``yright`` (either may be reversed). Bounds are finite, spans non-zero. Immutable."""

    xleft: float
    xright: float
    yleft: float
    yright: float

    def __init__(self, xleft: float, xright: float, yleft: float, yright: float) -> None:
        bounds = {"xleft": xleft, "xright": xright, "yleft": yleft, "yright": yright}
        for name, value in bounds.items():
            object.__setattr__(self, name, _finite(value, name))
        for name, span in (("x", self.xright - self.xleft), ("y", self.yright - self.yleft)):
            if span == 0.0:
                raise ValueError(f"{name} span: {name}left and {name}right must differ")
            if not math.isfinite(span):
                raise ValueError(f"{name} span: {name}right - {name}left overflows")

    def shape(self, resolution: int) -> tuple[int, int]:
        """``(resolution, ny)`` with the document's ``ny = int(resolution * |dy| / |dx|)``.

        ``ny`` may be 0 (a region much wider than tall): the grid and images are then empty,
        ``(resolution, 0)``, as in the document. When the expression overflows the doubles
        (where the document's ``int()`` raises OverflowError) this raises ValueError; a finite
        but huge ``ny`` is left to the allocation's MemoryError."""
        res = _resolution(resolution)
        dx, dy = abs(self.xright - self.xleft), abs(self.yright - self.yleft)
        ny = res * dy / dx  # the document's expression, evaluated in the same order
        if not math.isfinite(ny):
            raise ValueError(
                f"resolution: the region's y span {dy:g} is too large for its x span {dx:g} "
                f"at resolution {res}: ny = int(resolution * |dy| / |dx|) overflows"
            )
        return res, int(ny)

    def build(self, resolution: int) -> NDArray[np.complex128]:
        """The grid of starting points (the document's ``build``): ``x = linspace(xleft,
        xright, resolution)`` along axis 0, ``y = linspace(yleft, yright, ny)`` along axis 1,
        ``x + 1j*y``."""
        shape = self.shape(resolution)
        _check_size(shape, np.complex128)
        x = np.linspace(self.xleft, self.xright, shape[0])
        y = np.linspace(self.yleft, self.yright, shape[1])
        grid: NDArray[np.complex128] = x[:, np.newaxis] + 1j * y[np.newaxis, :]
        return grid

    def __repr__(self) -> str:
        return f"ComplexRegion({self.xleft!r}, {self.xright!r}, {self.yleft!r}, {self.yright!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ComplexRegion):
            return NotImplemented
        return (self.xleft, self.xright, self.yleft, self.yright) == (
            other.xleft,
            other.xright,
            other.yleft,
            other.yright,
        )

    def __hash__(self) -> int:
        return hash((self.xleft, self.xright, self.yleft, self.yright))


def _region(value: object, name: str = "region") -> ComplexRegion:
    """``value`` as a ComplexRegion; errors name the parameter ``name`` (the functions'
    ``region``, the methods' ``plane``)."""
    if isinstance(value, ComplexRegion):
        return value
    # the reference twin's dataclass (or any object with the four bounds)
    names = ("xleft", "xright", "yleft", "yright")
    if not all(hasattr(value, n) for n in names):
        raise TypeError(f"{name}: expected a ComplexRegion, got {type(value).__name__}")
    return ComplexRegion(*(getattr(value, n) for n in names))


def _render(
    region: ComplexRegion,
    *,
    resolution: int,
    kind: int,
    c_0: complex,
    threshold: float,
    itermin: int,
    itermax: int,
    mandel: bool,
    threads: int | None,
    simd: str,
    progress: ProgressFn | None,
) -> NDArray[Any]:
    shape = region.shape(resolution)
    dtype = {
        _COUNTS: np.uint32,
        _F32: np.float32,
        _F32_SMOOTH: np.float32,
        _PICTURE: np.uint8,
        _PICTURE_SMOOTH: np.uint8,
    }.get(kind, np.float64)
    n_threads = resolve_threads(threads)
    level = _simd(simd)
    check_progress(progress)
    out = _allocate(shape, dtype, picture=kind in (_PICTURE, _PICTURE_SMOOTH))
    _core._julia_render(
        kind,
        c_0.real,
        c_0.imag,
        threshold,
        itermin,
        itermax,
        mandel,
        region.xleft,
        region.xright,
        region.yleft,
        region.yright,
        out,
        level,
        n_threads,
        progress,
    )
    return out


def _float_kind(dtype: np.dtype[Any], smooth: bool) -> int:
    """The core's output kind of a float image: float32 or float64, banded or smooth."""
    if dtype == np.float32:
        return _F32_SMOOTH if smooth else _F32
    return _SMOOTH if smooth else _NORMALISED


@dataclasses.dataclass(frozen=True, init=False, repr=False, eq=False)
class JuliaDiv:
    """The document's Julia set renderer: ``over(region)`` maps each pixel's escape count to
    ``(max(div, itermin) - itermin) / (itermax - itermin)``.

    ``threads`` (None: ``$HOTLOOP_NUM_THREADS`` or all cores), ``smooth`` (continuous escape
    time, needs threshold > 1), ``dtype`` (``np.float32``: approximate fast mode, for
    thresholds from 2**-63 to about 1.8e19, whose square is a normal float32) and ``simd``
    (force a SIMD path; results are identical) go beyond the document. Immutable (see
    ComplexRegion): the attributes hold the validated values (``threshold`` a float,
    ``n_iterations`` a tuple of ints, ``dtype`` a ``np.dtype``).
    """

    c_0: complex
    threshold: float
    n_iterations: tuple[int, int]
    resolution: int
    threads: int | None
    smooth: bool
    dtype: np.dtype[Any]
    simd: str

    def __init__(
        self,
        c_0: complex,
        threshold: float = 2.0,
        n_iterations: tuple[int, int] = (0, 50),
        resolution: int = 1000,
        *,
        threads: int | None = None,
        smooth: bool = False,
        dtype: DTypeLike = np.float64,
        simd: str = "auto",
    ) -> None:
        # validated in the order of the parameters; threads is kept as given (None is resolved
        # at each call, so $HOTLOOP_NUM_THREADS is read then)
        c = _complex(c_0, "c_0")
        t = _threshold(threshold)
        its = _iterations(n_iterations)
        res = _resolution(resolution)
        resolve_threads(threads)
        dt = _float_dtype(dtype)
        smooth = as_flag(smooth, "smooth")
        _check_modes(t, smooth, dt)
        _simd(simd)
        values = {"c_0": c, "threshold": t, "n_iterations": its, "resolution": res,
                  "threads": threads, "smooth": smooth, "dtype": dt, "simd": simd}
        for name, value in values.items():
            object.__setattr__(self, name, value)

    def _kind(self) -> int:
        return _float_kind(self.dtype, self.smooth)

    def _render_as(self, plane: ComplexRegion, kind: int,
                   progress: ProgressFn | None) -> NDArray[Any]:
        itermin, itermax = self.n_iterations
        return _render(
            _region(plane, "plane"),
            resolution=self.resolution,
            kind=kind,
            c_0=self.c_0,
            threshold=self.threshold,
            itermin=itermin,
            itermax=itermax,
            mandel=False,
            threads=self.threads,
            simd=self.simd,
            progress=progress,
        )

    def over(self, plane: ComplexRegion, *, progress: ProgressFn | None = None) -> NDArray[Any]:
        """The image over ``plane``: shape ``(resolution, ny)``, values in [0, 1]."""
        return self._render_as(plane, self._kind(), progress)

    def picture(
        self, plane: ComplexRegion, *, progress: ProgressFn | None = None
    ) -> NDArray[np.uint8]:
        """``to_picture(self.over(plane))`` in one pass: the 8-bit gray picture, shape
        ``(ny, resolution)``, row 0 at the top, pixel ``uint8(value * 255)``.

        The values are always the exact float64 ones: with ``dtype=np.float32`` this is the
        picture of the float64 image, not of the approximate float32 one (which differs in
        the pixels whose counts differ; use ``to_picture(self.over(plane))`` for that)."""
        return self._render_as(plane, _PICTURE_SMOOTH if self.smooth else _PICTURE, progress)

    def escape_counts(
        self, plane: ComplexRegion, *, progress: ProgressFn | None = None
    ) -> NDArray[np.uint32]:
        """The raw escape counts (the document's ``div``) over ``plane``."""
        return escape_counts(
            _region(plane, "plane"),
            self.c_0,
            self.threshold,
            self.n_iterations[1],
            self.resolution,
            threads=self.threads,
            simd=self.simd,
            progress=progress,
        )

    def __repr__(self) -> str:
        # the document's four arguments, then the options that differ from their defaults
        extra = [f"{name}={value!r}" for name, value, default in (
            ("threads", self.threads, None), ("smooth", self.smooth, False),
            ("simd", self.simd, "auto")) if value != default]
        if self.dtype != np.float64:
            extra.append(f"dtype=np.{self.dtype.name}")
        return (
            f"JuliaDiv({self.c_0!r}, {self.threshold!r}, {self.n_iterations!r}, "
            f"{self.resolution!r}{''.join(', ' + e for e in extra)})"
        )


def escape_counts(
    region: ComplexRegion,
    c_0: complex | None = -0.835 - 0.2321j,
    threshold: float = 2.0,
    itermax: int = 50,
    resolution: int = 1000,
    *,
    mandelbrot: bool = False,
    threads: int | None = None,
    simd: str = "auto",
    progress: ProgressFn | None = None,
) -> NDArray[np.uint32]:
    """Raw escape counts over ``region``'s grid: uint32 of shape ``(resolution, ny)``, each
    the first i < itermax with |z_{i+1}| >= threshold, else itermax. ``mandelbrot=True``
    iterates from z_0 = 0 with c = the pixel (``c_0`` is then ignored, and may be None, as
    in :func:`divergence`)."""
    mandel = as_flag(mandelbrot, "mandelbrot")
    if c_0 is None and not mandel:
        raise TypeError("c_0: required unless mandelbrot=True, got None")
    c = 0j if c_0 is None else _complex(c_0, "c_0")
    return _render(
        _region(region),
        resolution=resolution,
        kind=_COUNTS,
        c_0=c,
        threshold=_threshold(threshold),
        itermin=0,
        itermax=_int(itermax, "itermax", 0, _UINT32_MAX),
        mandel=mandel,
        threads=threads,
        simd=simd,
        progress=progress,
    )


def mandelbrot(
    region: ComplexRegion,
    threshold: float = 2.0,
    n_iterations: tuple[int, int] = (0, 50),
    resolution: int = 1000,
    *,
    threads: int | None = None,
    smooth: bool = False,
    dtype: DTypeLike = np.float64,
    simd: str = "auto",
    progress: ProgressFn | None = None,
) -> NDArray[Any]:
    """The Mandelbrot set image over ``region``: like ``JuliaDiv.over`` with c = the pixel
    and z_0 = 0 (bit-exact with the same NumPy loop written for it in float64 mode)."""
    return _render_mandelbrot(region, threshold, n_iterations, resolution, threads=threads,
                              smooth=smooth, dtype=dtype, simd=simd, progress=progress,
                              picture=False)


def mandelbrot_picture(
    region: ComplexRegion,
    threshold: float = 2.0,
    n_iterations: tuple[int, int] = (0, 50),
    resolution: int = 1000,
    *,
    threads: int | None = None,
    smooth: bool = False,
    simd: str = "auto",
    progress: ProgressFn | None = None,
) -> NDArray[np.uint8]:
    """``to_picture(mandelbrot(...))`` in one pass, as ``JuliaDiv.picture`` is for Julia sets:
    the 8-bit gray picture of the float64 image, shape ``(ny, resolution)``, row 0 at the top,
    pixel ``uint8(value * 255)``, with no float image in between."""
    return _render_mandelbrot(region, threshold, n_iterations, resolution, threads=threads,
                              smooth=smooth, dtype=np.float64, simd=simd, progress=progress,
                              picture=True)


def _render_mandelbrot(region: object, threshold: object, n_iterations: object,
                       resolution: int, *, threads: int | None, smooth: object,
                       dtype: DTypeLike, simd: str, progress: ProgressFn | None,
                       picture: bool) -> NDArray[Any]:
    """mandelbrot() (the float image of ``dtype``) or mandelbrot_picture() (the 8-bit picture
    of the float64 image): the arguments checked in the order of their parameters."""
    t = _threshold(threshold)
    itermin, itermax = _iterations(n_iterations)
    dt = _float_dtype(dtype)
    flag = as_flag(smooth, "smooth")
    _check_modes(t, flag, dt)
    kind = (_PICTURE_SMOOTH if flag else _PICTURE) if picture else _float_kind(dt, flag)
    return _render(_region(region), resolution=resolution, kind=kind, c_0=0j, threshold=t,
                   itermin=itermin, itermax=itermax, mandel=True, threads=threads, simd=simd,
                   progress=progress)


def divergence(
    z: ArrayLike,
    c_0: complex | None = None,
    threshold: float = 2.0,
    itermax: int = 50,
    *,
    mandelbrot: bool = False,
    threads: int | None = None,
    simd: str = "auto",
    progress: ProgressFn | None = None,
) -> NDArray[np.uint32]:
    """Escape counts of arbitrary starting points ``z`` (any complex array; the document's
    ``divergence(z, c_0, threshold, itermax)`` vectorised): a uint32 array of ``z``'s shape.
    ``z`` is not modified, nor copied when it is already an aligned C-contiguous complex128
    array; non-finite points behave as in NumPy's loop. ``mandelbrot=True`` takes ``z`` as
    the c values and starts from 0: ``c_0`` may then be omitted (a given one is checked and
    ignored); without ``mandelbrot`` it is required. Arrays whose counts (and the complex128
    copy of ``z``, when one is needed) exceed the memory this process may use raise
    MemoryError before anything is allocated."""
    try:
        arr = np.asarray(unmasked(z, "z"))  # else NumPy would use the values under the mask
    except ValueError as exc:  # ragged nested lists
        raise ValueError(f"z: expected a complex array, got what NumPy cannot make one of: "
                         f"{exc}") from None
    if arr.dtype.kind != "c":
        raise TypeError(f"z: expected a complex array, got dtype {arr.dtype}")
    mandel = as_flag(mandelbrot, "mandelbrot")
    if c_0 is None and not mandel:
        raise TypeError("c_0: required unless mandelbrot=True, got None")
    c = 0j if c_0 is None else _complex(c_0, "c_0")
    t = _threshold(threshold)
    n_iter = _int(itermax, "itermax", 0, _UINT32_MAX)
    n_threads = resolve_threads(threads)
    level = _simd(simd)
    check_progress(progress)
    # the core reads aligned, C-contiguous native complex128 (as interleaved float64); any
    # other z is copied once, after the size check (a broadcast view can stand for terabytes)
    copy = not (arr.dtype == np.complex128 and arr.flags.c_contiguous and arr.flags.aligned)
    problem = _beyond_memory(arr.size * (np.dtype(np.uint32).itemsize
                                         + copy * np.dtype(np.complex128).itemsize))
    if problem is not None:
        gib, beyond = problem
        what = "its uint32 counts and a complex128 copy" if copy else "its uint32 counts"
        raise MemoryError(f"z: an array of {' x '.join(map(str, arr.shape))} points needs "
                          f"{gib} GiB for {what}, {beyond}")
    flat = np.ascontiguousarray(arr, dtype=np.complex128).reshape(-1)
    if not flat.flags.aligned:  # ascontiguousarray keeps an unaligned buffer as it is
        flat = flat.copy()
    out = np.empty(arr.shape, dtype=np.uint32)
    _core._julia_points(
        c.real,
        c.imag,
        t,
        n_iter,
        mandel,
        flat.view(np.float64),
        out.reshape(-1),
        level,
        n_threads,
        progress,
    )
    return out


def to_picture(values: ArrayLike) -> NDArray[np.uint8]:
    """The 8-bit gray picture of an image from ``over``: shape ``(ny, nx)``, row 0 at the top
    (the last y), pixel ``uint8(value * 255)`` as in the document (one cache-blocked pass in
    C instead of NumPy's transposed copy). Values outside [0, 1] saturate: below 0 (and NaN)
    give 0, above 1 give 255, where NumPy's cast would wrap around or be undefined."""
    arr = np.asarray(values)
    if arr.ndim != 2 or arr.dtype.kind != "f" or arr.dtype.itemsize not in (4, 8):
        raise TypeError(
            f"values: expected a 2-D float64/float32 image, got {arr.dtype} "
            f"with {arr.ndim} dimension(s)"
        )
    arr = np.ascontiguousarray(arr, dtype=arr.dtype.newbyteorder("="))  # either byte order
    out = np.empty((arr.shape[1], arr.shape[0]), dtype=np.uint8)
    _core._julia_picture(arr, out)
    return out


def fma_peak(simd: str = "auto", seconds: float = 0.2) -> float:
    """Measured double-precision multiply/FMA lane-operations per second of one core at the
    given SIMD level (the benchmark's "fraction of FMA peak" denominator)."""
    return float(_core._julia_fma_peak(_simd(simd), float(seconds)))
