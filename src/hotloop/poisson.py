"""Poisson disc sample sets by weighted sample elimination (Yuksel 2015), in C.

From ``M`` candidate points keep exactly ``n`` that are evenly spread: every point's weight is
the sum of ``(1 - d_hat / d_max) ** alpha`` over its neighbours closer than ``d_max``, and the
heaviest point is removed until ``n`` remain (Cem Yuksel, "Sample Elimination for Generating
Poisson Disk Sample Sets", Computer Graphics Forum 34(2), Eurographics 2015; the reference
implementation is cyCodeBase's ``cySampleElim.h``).

>>> import numpy as np, hotloop.poisson as pd
>>> pts = pd.sample(1000, seed=1)                       # 1000 points in the unit square
>>> rng = np.random.default_rng(0)
>>> cand = rng.random((5000, 3))
>>> keep = pd.eliminate(cand, 800)                      # indices: keep labels, normals, ...
>>> q = pd.sample_rotations(200, seed=2)                # unit quaternions, q ~ -q
>>> pd.radius_stats(pts)["min_ratio"] > 1.3
True

Exactness and determinism: neighbour weights are accumulated in 64-bit fixed point, so every
weight is an exact function of the set of surviving neighbours; on a tie (equal heaviest
weights) the point with the smallest input index is the one removed. The same input gives the
same output on every run, thread count and machine, and the brute-force twin
:func:`hotloop.reference.poisson.eliminate` reproduces it index for index.

Domains (``domain=``):

- ``"box"``: Euclidean distance; ``bounds`` (default: the points' bounding box) gives the area
  or volume that sets ``r_max``.
- ``"periodic"``: toroidal distance in ``bounds`` (required: the period; points must lie inside;
  ``d_max`` at most half the shortest side), as cyCodeBase's tiling: no boundary effects, the
  result tiles.
- ``"sphere"``: unit vectors on S^(d-1), chord distance, ``r_max`` from the sphere's measure.
- ``"rotations"``: unit quaternions (M x 4) where ``q`` and ``-q`` are the same rotation.
  Neighbourhoods are exact in the rotation angle ``theta`` (``r_max``, ``radius_stats`` and
  ``nn_distances`` are in radians); inside the core the weights use the chord to the nearer of
  ``q'`` and ``-q'``, ``c = 2 sin(theta / 4)`` (monotone in ``theta``, within 1% of
  ``theta / 2`` up to 0.5 rad), which needs no ``asin`` per pair. No seam at ``w = 0``.
  Non-unit quaternions are refused (normalise them first), so the returned indices always
  refer to your rows unchanged; unit means ``|norm - 1| <= max(1e-6, 4 eps)`` with ``eps``
  the machine epsilon of the dtype passed in (float16: 3.9e-3), the same for sphere points.

``r_max`` is the maximal Poisson disc radius of ``n`` points (2D: ``sqrt(A / (2 sqrt(3) n))``,
3D: ``cbrt(V / (4 sqrt(2) n))``, else ``(measure / (n V_k)) ** (1/k)``, ``V_k`` the unit
k-ball volume, ``k`` the intrinsic dimension: ``d``, ``d - 1`` on a sphere, 3 for rotations);
``d_max = 2 r_max`` and, with weight limiting, ``d_min = d_max * beta * (1 - (n/M) ** gamma)``.
"""

from __future__ import annotations

import contextlib
import math
import numbers
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from hotloop import _core
from hotloop._flags import as_flag
from hotloop._masked import unmasked
from hotloop._memory import usable_memory, usable_memory_text
from hotloop._numbers import (
    as_int,
    count_text,
    is_real_type,
    short_repr,
    type_text,
    unwrap_0d,
)
from hotloop._progress import check_progress
from hotloop._seed import resolve_seed
from hotloop._threads import MAX_THREADS, resolve_threads

__all__ = [
    "DOMAINS",
    "eliminate",
    "last_seed",
    "max_radius",
    "nn_distances",
    "radius_stats",
    "sample",
    "sample_rotations",
    "sample_sphere",
]

DOMAINS = {"box": 0, "periodic": 1, "sphere": 2, "rotations": 3}
MAX_DIM = 8
# Counts (points, candidates) above 2^53 are beyond any memory and inexact as doubles.
_MAX_COUNT = 2**53
UNIT_TOLERANCE = 1e-6  # |norm - 1| allowed for sphere points and quaternions (see _unit_tolerance)
# Volume of SO(3) with the rotation-angle metric, 8 pi^2; the sphere's below. Both from the
# core (hl_poisson_measure), whose small-call path derives its radii from the same doubles.
_ROTATION_MEASURE = _core._poisson_measure(DOMAINS["rotations"], 4)
# The sides a box may have, and the radii r_max may be given: distances are square roots of
# sums of squares, which overflow beyond about 1e154 and lose their digits below 1e-154 (a
# 1-D input times 1e200 kept its last 400 rows, silently). The binding's small path
# (ext/bind_poisson.c) declines the same sides.
SIDE_RANGE = (1e-100, 1e100)
R_MAX_RANGE = (1e-150, 1e150)
_SMALL_MAX_POINTS = _core._POISSON_SMALL_MAX_POINTS  # the binding's small-call path (eliminate)
_I64 = np.dtype(np.int64)

_drawn_seeds: list[int] = []  # seeds drawn from the OS for seed=None, latest last


def last_seed() -> int | None:
    """The seed the latest call with ``seed=None`` drew from the OS (to reproduce it)."""
    return _drawn_seeds[-1] if _drawn_seeds else None

Bounds = ArrayLike | None


_F64 = np.dtype(np.float64)
# Modes of _core._poisson_scan: one C pass over the points instead of several NumPy passes
# and temporaries (which are most of a small call's time). The scan finds the first row to
# look at; the messages, and every verdict that is not exact in C, stay here.
_SCAN_FINITE, _SCAN_UNIT, _SCAN_BOX, _SCAN_INSIDE = 0, 1, 2, 3


def _as_points(points: ArrayLike, name: str = "points") -> NDArray[np.float64]:
    """A C-contiguous float64 (M, d) view or copy of ``points``; the input is never written."""
    return _points_checked(points, name, False)[0]


def _unit_tolerance(dtype: np.dtype[Any]) -> float:
    """The ``|norm - 1|`` allowed for sphere points and quaternions given in ``dtype``:
    ``UNIT_TOLERANCE``, or 4 machine epsilons of a coarser float type (float16: 3.9e-3), so that
    rows normalised in their own type pass (they are within 2 epsilons: measured 1.74 at most
    for float16 and float32, dimensions 2 to 8) while rows that were never normalised do not."""
    if dtype.kind == "f":
        return max(UNIT_TOLERANCE, 4.0 * float(np.finfo(dtype).eps))
    return UNIT_TOLERANCE


def _points_checked(points: ArrayLike, name: str,
                    unit: bool) -> tuple[NDArray[np.float64], bool, float]:
    """:func:`_as_points`; with ``unit`` whether every row is certainly a unit vector (one
    pass for both checks; False leaves the verdict to :class:`_Geometry`); and the unit-norm
    tolerance of the input's dtype (:func:`_unit_tolerance`)."""
    tol = UNIT_TOLERANCE
    if (type(points) is np.ndarray and points.dtype is _F64 and points.ndim == 2
            and points.flags.c_contiguous and 1 <= points.shape[1] <= MAX_DIM):
        out = points  # already what the core takes: every check below would pass
    else:
        points = unmasked(points, name)  # else NumPy would use the values under the mask
        if isinstance(points, np.ndarray):
            arr = points
        else:
            try:
                arr = np.asarray(points)
            except (TypeError, ValueError) as exc:
                raise TypeError(f"{name}: expected a 2-D numeric array ({exc})") from None
        if arr.dtype == np.bool_ or arr.dtype.kind not in "fiu":
            raise TypeError(
                f"{name}: expected a 2-D array of real numbers, got dtype {arr.dtype}")
        if arr.ndim != 2:
            raise ValueError(f"{name}: expected a 2-D array (M points x d coordinates), "
                             f"got {arr.ndim} dimension(s)")
        if not 1 <= arr.shape[1] <= MAX_DIM:
            raise ValueError(
                f"{name}: dimension {arr.shape[1]} is not supported (1 to {MAX_DIM})")
        if arr.dtype.itemsize > 8 and arr.dtype.kind == "f":  # long double: may not fit
            with np.errstate(over="ignore"):
                out = np.ascontiguousarray(arr, dtype=np.float64)
            beyond = np.flatnonzero((np.isinf(out) & np.isfinite(arr)).any(axis=1))
            if beyond.size:
                raise ValueError(f"{name}: row {int(beyond[0])} has a coordinate beyond the "
                                 "float64 range")
        else:
            out = np.ascontiguousarray(arr, dtype=np.float64)
        tol = _unit_tolerance(arr.dtype)
    if out.shape[0] == 0:
        return out, False, tol
    row = _core._poisson_scan(out, _SCAN_UNIT if unit else _SCAN_FINITE)
    if row < 0:
        return out, unit, tol
    if unit:  # a row to look at: not finite (the error here), or a norm to judge later
        row = _core._poisson_scan(out, _SCAN_FINITE)
    if row >= 0:
        raise ValueError(f"{name}: row {row} has a NaN or infinite coordinate")
    return out, False, tol


def _as_domain(domain: object) -> str:
    names = ", ".join(map(repr, DOMAINS))
    if not isinstance(domain, str):  # its type is the problem (and repr(10**5000) raises)
        raise TypeError(f"domain: expected one of {names}, got {type_text(domain)}")
    if domain not in DOMAINS:
        raise ValueError(f"domain: expected one of {names}, got {short_repr(domain)}")
    return domain


def _is_real(value: object) -> bool:
    """Whether ``value`` is one real number: an int, float, Fraction, Decimal, NumPy integer or
    floating scalar, or a 0-d array of one; not a bool (True is not 1.0 here), a string (NumPy
    would read "1" as 1.0), a complex number or a date."""
    return is_real_type(type(unwrap_0d(value, "iuf")))


def _float_of(value: object) -> float:
    """``float(value)`` of a real number (:func:`_is_real`): NaN for Decimal('sNaN') (float()
    refuses it), and OverflowError for a finite value beyond the doubles (an int or Fraction
    raises it; a Decimal or np.longdouble would be inf without a word)."""
    if isinstance(value, np.ndarray):
        value = value.item()  # a 0-d array: its number (np.longdouble stays one)
    try:
        v = float(value)  # type: ignore[arg-type]
    except ValueError:  # a signalling NaN
        return math.nan
    if math.isinf(v) and ((isinstance(value, Decimal) and value.is_finite())
                          or (isinstance(value, np.floating) and bool(np.isfinite(value)))):
        raise OverflowError("beyond the doubles")
    return v


def _shown(value: object) -> str:
    """A refused number for a message: never thousands of digits, and never Python's own
    ValueError for an int beyond 4300 of them."""
    if isinstance(value, np.ndarray):
        value = value.item()
    if isinstance(value, numbers.Integral):
        return count_text(int(value))
    try:
        return str(value)
    except ValueError:  # a Fraction of huge ints
        return short_repr(value)


def _as_bounds(bounds: Bounds, d: int) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    lohi = _as_lohi(bounds, d)
    return lohi[0], lohi[1]


def _bounds_array(bounds: Bounds) -> NDArray[np.float64]:
    """``bounds`` as a float64 array of any shape, or a TypeError that names it (not NumPy's
    own message: ragged pairs, non-numbers).

    Every value must be a real number (:func:`_is_real`), as the points must be: NumPy would
    turn the string '1' (or b'1', or ['0', '1']) into 1.0, True into 1.0 and a date into its
    day count, and the call would go on in a box nobody meant. Python ints beyond int64,
    Fractions and Decimals are taken (a list of them is an object array)."""
    bounds = unmasked(bounds, "bounds")
    if isinstance(bounds, np.ndarray) and bounds.dtype.kind in "iuf":
        if bounds.dtype == np.float64:
            return bounds
        with np.errstate(over="ignore"):  # np.longdouble beyond the doubles: refused below
            out = np.asarray(bounds, dtype=np.float64)
        if (np.isinf(out) & np.isfinite(bounds)).any():
            raise ValueError("bounds: a value beyond the float range")
        return out
    given: Any = bounds
    if type(given) in (tuple, list) and all(  # the common case: pairs of plain numbers
            type(pair) in (tuple, list) and all(type(v) in (float, int) for v in pair)
            for pair in given):
        with contextlib.suppress(OverflowError, ValueError):  # else judged below
            return np.array(given, dtype=np.float64)
    try:
        # the values themselves, whatever NumPy would make of them (bools stay bools, strings
        # strings); nested sequences of unequal lengths raise, or leave sequences as values
        values = np.asarray(bounds, dtype=object)
    except (TypeError, ValueError):
        raise TypeError(f"bounds: expected d pairs (lo, hi) of numbers, got "
                        f"{short_repr(bounds)}") from None
    kinds = set(map(type, values.flat))
    if not all(is_real_type(k) for k in kinds):  # (0-d arrays among them are judged below)
        refused = [v for v in values.flat if not _is_real(v)]
        if refused:
            bad = refused[0]
            shown = " ".join(short_repr(bounds).split())  # an array's repr has line breaks
            if isinstance(bad, (list, tuple)) or (isinstance(bad, np.ndarray) and bad.ndim):
                what = f"pairs of unequal lengths: {shown}"  # NumPy left them sequences
            else:
                what = f"{type_text(bad)} {' '.join(short_repr(bad, 40).split())}"
                what += f" in {shown}" if values.ndim else ""
            raise TypeError(f"bounds: expected d pairs (lo, hi) of real numbers, got {what}")
    floats: NDArray[np.float64] | None
    try:
        with np.errstate(over="ignore"):  # a long double beyond the doubles: inf, told below
            floats = values.astype(np.float64)
    except (OverflowError, ValueError):  # an int beyond the doubles, Decimal('sNaN')
        floats = None
    try:
        if floats is None:  # one by one, to tell which
            floats = np.array([_float_of(v) for v in values.flat]).reshape(values.shape)
        for i in np.flatnonzero(np.isinf(floats)):  # inf, or finite beyond the doubles?
            _float_of(values.flat[i])
    except OverflowError:
        raise ValueError("bounds: a value beyond the float range") from None
    return floats


def _as_lohi(bounds: Bounds, d: int) -> NDArray[np.float64]:
    """``bounds`` as a C-contiguous (2, d) array: lows in row 0, highs in row 1."""
    b = _bounds_array(bounds)
    if b.shape == (2,) and d == 1:
        b = b.reshape(1, 2)
    if b.shape != (d, 2):
        raise ValueError(f"bounds: expected {d} pairs (lo, hi), got shape {b.shape}")
    lohi = np.ascontiguousarray(b.T)
    lo, hi = lohi[0], lohi[1]
    if not (np.isfinite(lo).all() and np.isfinite(hi).all()):
        raise ValueError("bounds: must be finite")
    bad = np.flatnonzero(~(lo < hi))
    if bad.size:
        k = int(bad[0])
        raise ValueError(f"bounds: lo must be < hi, dimension {k} has ({lo[k]}, {hi[k]})")
    return lohi


def max_radius(n: int, dim: int, measure: float) -> float:
    """The maximal Poisson disc radius of ``n`` points in a domain of intrinsic dimension
    ``dim`` and the given measure (area, volume, ...), as Yuksel 2015."""
    n = as_int(n, "n")
    dim = as_int(dim, "dim")
    if n < 1:
        raise ValueError(f"n: expected >= 1, got {count_text(n)}")
    if dim < 1:
        raise ValueError(f"dim: expected >= 1, got {count_text(dim)}")
    if n > _MAX_COUNT:
        raise ValueError(f"n: expected at most 2^53, got {count_text(n)}")
    if dim > MAX_DIM:  # as everywhere in this module (beyond about 300 the ball's volume
        raise ValueError(f"dim: expected 1 to {MAX_DIM}, got {count_text(dim)}")  # underflows)
    return _core._poisson_max_radius(dim, _check_param("measure", measure, 0.0), n)


def _sphere_measure(dim: int) -> float:
    """Surface measure of the unit sphere S^(dim-1) in R^dim: 2 pi^(dim/2) / Gamma(dim/2)."""
    return _core._poisson_measure(DOMAINS["sphere"], dim)


class _Geometry:
    """What a domain needs: the bounds passed to the core, the measure and intrinsic dim."""

    def __init__(self, domain: str, pts: NDArray[np.float64], bounds: Bounds,
                 name: str = "points", *, units_ok: bool = False,
                 unit_tol: float = UNIT_TOLERANCE) -> None:
        m, d = pts.shape
        self.domain = domain
        self.lo: NDArray[np.float64] | None = None
        self.hi: NDArray[np.float64] | None = None
        if domain in ("sphere", "rotations"):
            if bounds is not None:
                raise ValueError(f"bounds: not used by domain={domain!r}; leave it None")
            if domain == "rotations" and d != 4:
                raise ValueError(f"{name}: rotations are unit quaternions, expected 4 columns, "
                                 f"got {d}")
            if domain == "sphere" and d < 2:
                raise ValueError(f"{name}: sphere points need at least 2 coordinates, got {d}")
            if m and not units_ok and _core._poisson_scan(pts, _SCAN_UNIT) >= 0:  # judge here
                norms = np.sqrt(np.einsum("ij,ij->i", pts, pts))
                bad = np.flatnonzero(np.abs(norms - 1.0) > unit_tol)
                if bad.size:
                    what = "quaternion" if domain == "rotations" else "point"
                    raise ValueError(
                        f"{name}: row {int(bad[0])} is not a unit {what} (norm "
                        f"{norms[bad[0]]:.9g}, allowed 1 +- {unit_tol:.2g}); normalise first, "
                        "e.g. q / np.linalg.norm(q, axis=1, keepdims=True)")
            self.k = 3 if domain == "rotations" else d - 1
            self.measure = _ROTATION_MEASURE if domain == "rotations" else _sphere_measure(d)
            return
        if bounds is None:
            if domain == "periodic":
                # The points' bounding box is shorter than the period by about one spacing
                # (less the fewer the points), which would shorten every distance across the
                # seams without a word: the period has to be given.
                raise ValueError("bounds: required for domain='periodic' (the box the points "
                                 "repeat in, e.g. bounds=[(0, 1), (0, 1)])")
            if m == 0:
                raise ValueError(f"{name}: no points")
            lohi = np.empty((2, d), dtype=np.float64)
            if _core._poisson_scan(pts, _SCAN_BOX, lohi) >= 0:
                flat = np.flatnonzero(~(lohi[0] < lohi[1]))
                raise ValueError(f"bounds: the points have zero extent in dimension "
                                 f"{int(flat[0])}; pass bounds=...")
        else:
            lohi = _as_lohi(bounds, d)
            if m:
                row = _core._poisson_scan(pts, _SCAN_INSIDE, lohi)
                if row >= 0:
                    raise ValueError(f"{name}: row {row} lies outside bounds")
        self.lo, self.hi = lohi[0], lohi[1]
        self.k = d
        with np.errstate(over="ignore"):  # a side beyond the doubles: inf, refused below
            sides = self.hi - self.lo
        outside = np.flatnonzero(~((sides >= SIDE_RANGE[0]) & (sides <= SIDE_RANGE[1])))
        if outside.size:
            k = int(outside[0])
            what = "bounds: the box's" if bounds is not None else (
                f"{name}: their bounding box's")
            raise ValueError(f"{what} side in dimension {k} is {sides[k]:g}, outside "
                             f"[{SIDE_RANGE[0]:g}, {SIDE_RANGE[1]:g}]: the squares of distances "
                             "would leave the doubles; rescale the coordinates")
        # in Python floats: an overflow is inf, without NumPy's warning
        self.measure = math.prod(
            h - lo_ for lo_, h in zip(self.lo.tolist(), self.hi.tolist(), strict=True))
        if not (math.isfinite(self.measure) and self.measure > 0):
            what = "bounds: the box's" if bounds is not None else (
                f"{name}: their bounding box's")
            raise ValueError(f"{what} measure (the product of its {d} side lengths) is "
                             f"{self.measure:g}, beyond the doubles; rescale the coordinates")

    def r_max(self, n: int) -> float:
        return _core._poisson_max_radius(self.k, self.measure, n)


def _check_r_max(r_max: object) -> float:
    """A given r_max: a number within R_MAX_RANGE."""
    r = _check_param("r_max", r_max, 0.0)
    if not R_MAX_RANGE[0] <= r <= R_MAX_RANGE[1]:
        raise ValueError(f"r_max: expected a radius in [{R_MAX_RANGE[0]:g}, "
                         f"{R_MAX_RANGE[1]:g}] (the squares of distances must stay within the "
                         f"doubles), got {r:g}")
    return r


def _check_options(progressive: object, weight_limiting: object,
                   progress: object) -> tuple[bool, bool]:
    """The flags as bools, and ``progress`` callable or None."""
    check_progress(progress)
    return as_flag(progressive, "progressive"), as_flag(weight_limiting, "weight_limiting")


def _check_weight_params(alpha: object, beta: object,
                         gamma: object) -> tuple[float, float, float]:
    """The weight's alpha > 0, beta in [0, 1) and gamma > 0, as floats."""
    return (_check_param("alpha", alpha, 0.0),
            _check_param("beta", beta, 0.0, 1.0, lo_open=False),
            _check_param("gamma", gamma, 0.0))


def _check_param(name: str, value: object, lo: float, hi: float | None = None,
                 lo_open: bool = True) -> float:
    """A real number (:func:`_is_real`) in the range, as a float."""
    if not _is_real(value):
        raise TypeError(f"{name}: expected a real number, got {type_text(value)}")
    try:
        v = _float_of(value)
    except OverflowError:  # beyond the doubles: refused as inf is
        v = math.inf
    ok = math.isfinite(v) and (v > lo if lo_open else v >= lo) and (hi is None or v < hi)
    if not ok:
        rng = f"{'(' if lo_open else '['}{lo:g}, {'inf' if hi is None else format(hi, 'g')})"
        raise ValueError(f"{name}: expected a finite number in {rng}, got {_shown(value)}")
    return v


def _estimate_bytes(m: int, d: int, k: int, measure: float, d_max: float) -> float:
    """Expected peak bytes of eliminating M uniform candidates in a domain of intrinsic
    dimension ``k`` and the given measure (the neighbour lists dominate)."""
    ball = float(math.pi ** (k / 2.0)) / math.gamma(k / 2.0 + 1.0) * float(d_max**k)
    per_point = min(float(m - 1), m * ball / measure)
    return m * (8.0 * per_point + 12.0 * d + 80.0)  # (id, q) pairs, coordinates, tree, heap


def _refuse_beyond_memory(who: str, m: int, n: int, d: int, *, k: int, measure: float,
                          d_max: float, extra: float = 0.0, extra_what: str = "") -> None:
    """MemoryError when eliminating M candidates (plus ``extra`` bytes of ``extra_what``, e.g.
    the candidates sample() draws) would not fit in 3/4 of memory: checked before anything is
    allocated."""
    limit = _memory_limit()
    # The estimate is at most m * (8 (m - 1) + 12 d + 80): small calls skip the float work.
    if m * (8 * m + 12 * d + 80) + extra <= limit:
        return
    need = _estimate_bytes(m, d, k, measure, d_max) + extra
    if need > limit:
        raise MemoryError(
            f"{who}: {m} candidates with n={n} would need about {need / 2**30:.1f} GiB "
            f"(neighbour lists{' and ' + extra_what if extra else ''}), more than "
            f"{limit / 2**30:.1f} GiB (3/4 of {_memory_text()})")


def _refuse_input_beyond_memory(points: object, n: object, domain: object,
                                r_max: object) -> None:
    """eliminate()'s memory check from the shape of ``points`` alone, before the float64 copy
    of a large float32, strided or broadcast array (the caller's condition). With the default
    r_max the neighbour count does not depend on the measure (the box's cancels out of
    m * ball(d_max) / measure), so the unit box stands in for the points' box. Other calls,
    and periodic ones (whose d_max must first be checked against the box), are left to the
    check after the copy."""
    if not (isinstance(points, np.ndarray) and points.ndim == 2 and r_max is None
            and isinstance(n, (int, np.integer)) and not isinstance(n, bool)
            and type(domain) is str and domain in DOMAINS and domain != "periodic"):
        return
    n = int(n)
    m, d = points.shape
    if not (1 <= n < m and 1 <= d <= MAX_DIM) or (domain == "rotations" and d != 4) or (
            domain == "sphere" and d < 2):
        return
    unit_box = None if domain in ("sphere", "rotations") else np.array([[0.0] * d, [1.0] * d])
    _refuse_before_allocating("eliminate", m, n, d, domain=domain, lohi=unit_box, r_max=None,
                              extra_what="the float64 copy of points")


def rotation_chord(angle: float) -> float:
    """The quaternion chord ``2 sin(angle / 4)`` of a rotation angle (saturating at 2)."""
    return 2.0 * math.sin(min(angle, 2.0 * math.pi) / 4.0)


def chord_to_angle(chord: NDArray[np.float64]) -> NDArray[np.float64]:
    """Rotation angles ``4 asin(c / 2)`` of quaternion chords."""
    return np.asarray(4.0 * np.arcsin(np.minimum(0.5 * chord, 1.0)), dtype=np.float64)


def core_radii(domain: str, d_max: float, d_min: float) -> tuple[float, float]:
    """d_max and d_min in the core's distance: chords for rotations, else unchanged."""
    if domain != "rotations":
        return d_max, d_min
    c_max, c_min = rotation_chord(d_max), rotation_chord(d_min)
    if not c_min < c_max:  # both saturated: every pair is a neighbour anyway
        c_min = 0.0
    return c_max, c_min


def _memory_limit() -> int:
    """3/4 of the memory this process may use (the core's default bound takes 3/4 of physical
    memory; this one also heeds a control group's limit)."""
    usable = usable_memory()
    return usable // 4 * 3 if usable is not None else 1 << 62


def _memory_text() -> str:
    usable = usable_memory()
    return usable_memory_text(usable) if usable is not None else "memory"


def eliminate(
    points: ArrayLike,
    n: int,
    *,
    bounds: Bounds = None,
    domain: str = "box",
    progressive: bool = False,
    r_max: float | None = None,
    alpha: float = 8.0,
    beta: float = 0.65,
    gamma: float = 1.5,
    weight_limiting: bool = True,
    threads: int | None = None,
    progress: Callable[[int, int], object] | None = None,
) -> NDArray[np.int64]:
    """Choose ``n`` of the ``M`` rows of ``points`` as a Poisson disc set; return their indices.

    ``points`` is an (M, d) array of real numbers (any dtype, any strides; never modified),
    d from 1 to 8. Returns an int64 array of exactly ``n`` row indices: in increasing order, or
    with ``progressive=True`` ordered so that every prefix ``[:k]`` is itself a Poisson disc
    set (cyCodeBase's progressive sampling). ``r_max`` overrides the maximal disc radius
    (default: from ``bounds``/``domain`` and ``n``, see the module docstring); ``alpha``,
    ``beta``, ``gamma`` and ``weight_limiting`` are Yuksel's weight parameters. ``threads``:
    None = $HOTLOOP_NUM_THREADS or all cores (the result never depends on it). ``progress``
    is called as ``progress(done, total)`` about ten times a second.

    ``alpha`` is limited by the fixed-point weights: a value whose contributions would
    truncate to 0 before ``0.7 d_max`` on some level is refused (about 17 without weight
    limiting; :func:`check_alpha`, docs/poisson.md).

    ``bounds`` given for ``domain="box"`` are the domain: a point outside them is an error
    (the bounds set ``r_max`` through the box's volume).

    Raises ``TypeError``/``ValueError`` naming the bad argument, ``MemoryError`` when the
    neighbour lists would not fit in memory (checked before allocating, and before a float64
    copy of the input), ``KeyboardInterrupt`` on Ctrl-C (within about 0.1 s).
    """
    # A call of at most 256 points with the default options is one C call: the checks below,
    # the radii and the elimination (about 50 us in the core; on cold caches this layer took
    # about as long again: docs/poisson.md, "Small calls"). It answers None, having done
    # nothing, for anything but plainly valid arguments; the general path then words the error
    # (a malformed $HOTLOOP_NUM_THREADS raises there as it would here).
    if (type(n) is int and 0 < n < _SMALL_MAX_POINTS and bounds is None and r_max is None
            and progressive is False and weight_limiting is True and progress is None
            and not isinstance(points, np.ma.MaskedArray)):  # a buffer without its mask
        out = np.empty(n, _I64)
        if _core._poisson_eliminate_small(points, n, out, domain, threads, alpha, beta,
                                          gamma) is not None:
            return out
    # Small calls are mostly this layer, on cold caches: each check below has a fast path for
    # the common case (a float64 array, default parameters) and the precise one otherwise.
    unit = type(domain) is str and domain in ("rotations", "sphere")
    if (type(points) is np.ndarray and points.size > 1 << 21
            and not (points.dtype is _F64 and points.flags.c_contiguous)):
        _refuse_input_beyond_memory(points, n, domain, r_max)  # before copying a large input
    pts, units_ok, unit_tol = _points_checked(points, "points", unit)
    m, d = pts.shape
    if type(n) is not int:
        n = as_int(n, "n")
    if m < 2:
        raise ValueError(f"points: need at least 2 points (n of them are kept), got {m}")
    if not 1 <= n < m:
        raise ValueError(f"n: expected 1 <= n < {m} (the number of points), got "
                         f"{count_text(n)}")
    if type(domain) is not str or domain not in DOMAINS:
        domain = _as_domain(domain)
    geo = _Geometry(domain, pts, bounds, units_ok=units_ok, unit_tol=unit_tol)
    if type(progressive) is not bool or type(weight_limiting) is not bool or progress is not None:
        progressive, weight_limiting = _check_options(progressive, weight_limiting, progress)
    if (type(alpha) is float and type(beta) is float and type(gamma) is float
            and 0.0 < alpha < math.inf and 0.0 <= beta < 1.0 and 0.0 < gamma < math.inf):
        alpha_f, beta_f, gamma_f = alpha, beta, gamma  # what _check_param would return
    else:
        alpha_f, beta_f, gamma_f = _check_weight_params(alpha, beta, gamma)
    r = geo.r_max(n) if r_max is None else _check_r_max(r_max)
    d_max = 2.0 * r
    d_min = d_max * weight_limit_fraction(m, n, beta_f, gamma_f) if weight_limiting else 0.0
    if domain == "periodic":
        check_periodic_reach(geo, d_max, r_max_given=r_max is not None)
    if type(threads) is int and 0 < threads <= MAX_THREADS:
        nthreads = threads  # what resolve_threads would return
    else:
        nthreads = resolve_threads(threads)
    limit = _memory_limit()
    _refuse_beyond_memory("eliminate", m, n, d, k=geo.k, measure=geo.measure, d_max=d_max)
    out = np.empty(n, _I64)
    c_max, c_min = core_radii(domain, d_max, d_min) if domain == "rotations" else (d_max, d_min)
    factor = math.pow(2.0, 1.0 / geo.k)
    if alpha_f > _ALPHA_ALWAYS_REACHES:  # below, the check cannot fail: skip its float work
        check_alpha(alpha_f, m=m, n=n, d_max=c_max, d_min=c_min, progressive=progressive,
                    factor=factor, weight_limiting=weight_limiting)
    periodic = domain == "periodic"
    _core._poisson_eliminate(
        pts, n, out, DOMAINS[domain], geo.lo if periodic else None, geo.hi if periodic else None,
        c_max, c_min, alpha_f, progressive, factor, nthreads, limit,
        progress)  # limit: 3/4 of what this process may use (a control group's limit included)
    return out


MIN_REACH = 0.7  # in units of d_max; the core's HL_POISSON_MIN_REACH (poisson.h)
_ALPHA_ALWAYS_REACHES = 15.0  # every call with alpha up to this passes check_alpha (eliminate.c)


def _core_weight(t: float, alpha: float) -> float:
    """``t ** alpha`` as the core evaluates it (metric.h): three squarings for 8, else pow."""
    if not t > 0.0:
        return 0.0
    if alpha == 8.0:
        t2 = t * t
        t4 = t2 * t2
        return t4 * t4
    return math.pow(t, alpha)


def _level_reaches(d_max: float, d_min: float, alpha: float) -> bool:
    """Whether one level's quantised weights keep a neighbour at ``MIN_REACH * d_max`` at one
    quantum or more, with a finite scale: the core's test (eliminate.c, level_reaches), the
    same floating-point operations."""
    w_max = _core_weight(1.0 - d_min / d_max, alpha)
    shift = 31 - math.frexp(w_max)[1] if w_max > 0.0 else 0
    if shift > 1023:
        return False  # the scale 2^shift is not a finite double
    d = MIN_REACH * d_max
    t = 1.0 - (d_min if d < d_min else d) / d_max
    return _core_weight(t, alpha) * math.ldexp(1.0, shift) >= 1.0


def _level_radii(d_max: float, n: int, progressive: bool, factor: float) -> list[float]:
    """d_max of every level of a call, as the core computes them: level 0, then one level per
    halving of n while at least 3 points remain, d_max times ``factor`` once more each."""
    radii = [d_max]
    s = n
    while progressive and s >= 3:
        d_max *= factor
        radii.append(d_max)
        s //= 2
    return radii


def _alpha_limit(x_min: float) -> float:
    """The largest alpha a level with ``d_min = x_min d_max`` certainly accepts: a neighbour at
    ``MIN_REACH d_max`` keeps ``((1 - MIN_REACH) / (1 - x_min)) ** alpha * f 2^31 >= 1``
    quantum (f >= 1/2, hence the 30 bits), and ``(1 - x_min) ** alpha >= 2^-992`` keeps the
    scale finite."""
    limit = math.inf
    if x_min < MIN_REACH:
        limit = 30.0 * math.log(2.0) / math.log((1.0 - x_min) / (1.0 - MIN_REACH))
    if x_min > 0.0:
        limit = min(limit, -992.0 * math.log(2.0) / math.log1p(-x_min))
    return limit


def check_alpha(alpha: float, *, m: int, n: int, d_max: float, d_min: float,
                progressive: bool, factor: float, weight_limiting: bool) -> None:
    """Refuse an ``alpha`` whose quantised weights would drop part of every neighbourhood.

    Contributions are kept to 31 bits relative to the largest, ``w(d_min)``, so those beyond
    ``x0 d_max``, ``x0 = 1 - (1 - d_min/d_max) (f 2^31) ** (-1/alpha)``, truncate to 0; a steep
    weight (large alpha) moves x0 in and the result degrades without a sign (docs/poisson.md).
    The core refuses a call where some level has x0 <= ``MIN_REACH``; this raises the same
    verdict first, as a ``ValueError`` that says which alpha is allowed. ``d_max``/``d_min``
    are the core's (chords for rotations); ``factor`` the progressive d_max factor.
    """
    if alpha <= _ALPHA_ALWAYS_REACHES:
        return  # x0 >= 0.75 on every level (the proof is in eliminate.c)
    radii = _level_radii(d_max, n, progressive, factor)
    failed = [k for k, r in enumerate(radii) if not _level_reaches(r, d_min, alpha)]
    if not failed:
        return
    allowed = min(_alpha_limit(d_min / r) for r in radii) * (1.0 - 1e-9)
    allowed = math.floor(allowed * 10.0) / 10.0 if allowed < 100 else math.floor(allowed)

    def reach(k: int) -> float:
        """x0 of level k; -1 when its scale is not finite (the worst case)."""
        w_max = _core_weight(1.0 - d_min / radii[k], alpha)
        if not (w_max > 0.0 and 31 - math.frexp(w_max)[1] <= 1023):
            return -1.0
        top = math.ldexp(math.frexp(w_max)[0], 31)  # w(d_min) in quanta: f 2^31
        return 1.0 - (1.0 - d_min / radii[k]) * math.pow(top, -1.0 / alpha)

    worst = min(failed, key=reach)
    x_min, x0 = d_min / radii[worst], reach(worst)
    if x0 >= 0.0:
        why = (f"neighbours beyond {x0:.3f} d_max would count for nothing (at least "
               f"{MIN_REACH} d_max is required)")
    else:
        w_max = _core_weight(1.0 - x_min, alpha)
        why = f"w(d_min) = (1 - d_min/d_max)^alpha = {w_max:.3g} is below that range"
    what = "weight_limiting=False" if not weight_limiting else (
        f"n={n} of M={m} points with weight limiting (d_min = {x_min:.3g} d_max)")
    if worst:
        what += f" at progressive level {worst} of {len(radii) - 1}"
    hint = " (weight_limiting=True allows more)" if not weight_limiting else ""
    raise ValueError(
        f"alpha: {alpha:g} is too large for {what}: neighbour contributions are kept to 31 bits "
        f"relative to the largest, w(d_min), and {why}; use alpha <= {allowed:g}{hint}")


def check_periodic_reach(geo: _Geometry, d_max: float, *, r_max_given: bool = False) -> None:
    """Periodic domains need d_max <= half the shortest side (one minimal image per pair). The
    error names ``r_max`` when the caller passed it, else ``n`` (which set it)."""
    if geo.domain != "periodic":
        return
    assert geo.lo is not None and geo.hi is not None
    half = float(np.min(geo.hi - geo.lo)) / 2.0
    if d_max > half:
        if r_max_given:
            raise ValueError(
                f"r_max: d_max = 2 r_max = {d_max:.6g} exceeds half the shortest side of the "
                f"periodic box ({half:.6g}); pass r_max <= {half / 2.0:.6g} or a larger box")
        raise ValueError(
            f"n: d_max = 2 r_max = {d_max:.6g} exceeds half the shortest side of the periodic "
            f"box ({half:.6g}); keep more points, pass a smaller r_max, or a larger box")


def weight_limit_fraction(m: int, n: int, beta: float, gamma: float) -> float:
    """d_min / d_max of weight limiting: ``beta * (1 - (n / m) ** gamma)`` (Yuksel 2015, eq. 7;
    evaluated as cyCodeBase does)."""
    return (1.0 - math.pow(n / m, gamma)) * beta


def _seed(seed: int | None) -> int:
    """The shared seed convention (hotloop._seed); a seed drawn for None is recorded, since the
    result (a plain array) cannot carry it: see :func:`last_seed`."""
    value = resolve_seed(seed)
    if seed is None:
        _drawn_seeds[:] = [value]
    return value


def _candidate_count(n: int, oversample: float) -> int:
    """ceil(oversample * n) candidates (at least n + 1); MemoryError beyond 2^53 (far beyond
    any machine's memory, and where the count would stop being exact in a double)."""
    ov = _check_param("oversample", oversample, 1.0)
    if n >= _MAX_COUNT or ov * n >= _MAX_COUNT:
        raise MemoryError(f"sample: n = {count_text(n)} with oversample = {ov:g} asks for more "
                          "than 2^53 candidates, beyond any machine's memory")
    return max(n + 1, math.ceil(ov * n))


# The keywords sample_sphere and sample_rotations pass on to eliminate (their domain is fixed,
# and bounds have no meaning there).
_SAMPLE_KEYWORDS = frozenset({"progressive", "r_max", "alpha", "beta", "gamma",
                              "weight_limiting", "threads", "progress"})


def _check_sample_keywords(kwargs: dict[str, Any], who: str | None = None) -> None:
    """sample*'s keywords that eliminate checks, checked before the candidates are drawn
    (millions of them take a while), so that a mistake there fails at once; for ``who``
    (sample_sphere, sample_rotations) also the names, which eliminate would report as its
    own."""
    if who is not None:
        unknown = sorted(set(kwargs) - _SAMPLE_KEYWORDS)
        if unknown:
            takes = ", ".join(sorted(_SAMPLE_KEYWORDS))
            raise TypeError(f"{who}() got unexpected keyword argument(s) {', '.join(unknown)} "
                            f"(its domain is fixed; it takes {takes})")
    _check_options(kwargs.get("progressive", False), kwargs.get("weight_limiting", True),
                   kwargs.get("progress"))
    _check_weight_params(kwargs.get("alpha", 8.0), kwargs.get("beta", 0.65),
                         kwargs.get("gamma", 1.5))


def _check_before_drawing(who: str, m: int, n: int, d: int, *, domain: str,
                          lohi: NDArray[np.float64] | None, kwargs: dict[str, Any]) -> int:
    """What eliminate would refuse of sample*'s call on m candidates, refused before the seed
    is drawn (last_seed() stays that of the last call that ran) and the candidates made: the
    memory (:func:`_refuse_before_allocating`), an ``alpha`` too steep for the levels
    (:func:`check_alpha`, on the radii eliminate will use), and ``threads``. Returns the
    thread count. The keywords' own values were checked by :func:`_check_sample_keywords`."""
    geo, d_max = _refuse_before_allocating(who, m, n, d, domain=domain, lohi=lohi,
                                           r_max=kwargs.get("r_max"))
    nthreads = resolve_threads(kwargs.get("threads"))
    alpha, beta, gamma = _check_weight_params(kwargs.get("alpha", 8.0), kwargs.get("beta", 0.65),
                                              kwargs.get("gamma", 1.5))
    if alpha > _ALPHA_ALWAYS_REACHES:
        progressive, weight_limiting = _check_options(kwargs.get("progressive", False),
                                                      kwargs.get("weight_limiting", True), None)
        d_min = d_max * weight_limit_fraction(m, n, beta, gamma) if weight_limiting else 0.0
        if domain == "rotations":
            d_max, d_min = core_radii(domain, d_max, d_min)
        check_alpha(alpha, m=m, n=n, d_max=d_max, d_min=d_min, progressive=progressive,
                    factor=math.pow(2.0, 1.0 / geo.k), weight_limiting=weight_limiting)
    return nthreads


def _candidates(seed: int, shape: tuple[int, int], domain: str,
                box: tuple[NDArray[np.float64], NDArray[np.float64]] | None,
                nthreads: int) -> NDArray[np.float64]:
    m, d = shape
    lo, hi = box if box is not None else (None, None)
    if m * d * 8 > _memory_limit():
        raise MemoryError(f"sample: {m} candidates in {d} dimensions do not fit in memory")
    out = np.empty((m, d), dtype=np.float64)
    _core._poisson_candidates(seed, out, DOMAINS[domain], lo, hi, nthreads)
    return out


def _refuse_before_allocating(who: str, m: int, n: int, d: int, *, domain: str,
                              lohi: NDArray[np.float64] | None, r_max: object,
                              extra_what: str = "candidates") -> tuple[_Geometry, float]:
    """The memory check before an (m, d) float64 array is made (sample*'s candidates, or
    eliminate's copy of its input): that array and the elimination's neighbour lists
    together, in the box ``lohi`` ((2, d), or None for the sphere and rotations). Returns the
    geometry and the d_max it judged by."""
    geo = _Geometry(domain, np.empty((0, d)), lohi.T if lohi is not None else None, "bounds")
    r = geo.r_max(n) if r_max is None else _check_r_max(r_max)
    if domain == "periodic":  # the error eliminate would give, before the memory's
        check_periodic_reach(geo, 2.0 * r, r_max_given=r_max is not None)
    _refuse_beyond_memory(who, m, n, d, k=geo.k, measure=geo.measure, d_max=2.0 * r,
                          extra=8.0 * m * d, extra_what=extra_what)
    return geo, 2.0 * r


# sample()'s default bounds, told apart from bounds a caller passes by identity: the sphere and
# rotation domains take no bounds, and must refuse those given rather than ignore them.
_UNIT_SQUARE = ((0.0, 1.0), (0.0, 1.0))


def sample(
    n: int,
    bounds: Bounds = _UNIT_SQUARE,
    *,
    oversample: float = 5.0,
    seed: int | None = None,
    domain: str = "box",
    progressive: bool = False,
    r_max: float | None = None,
    alpha: float = 8.0,
    beta: float = 0.65,
    gamma: float = 1.5,
    weight_limiting: bool = True,
    threads: int | None = None,
    progress: Callable[[int, int], object] | None = None,
) -> NDArray[np.float64]:
    """``n`` Poisson disc points in the box ``bounds`` (d pairs (lo, hi), d from 1 to 8).

    Draws ``ceil(oversample * n)`` uniform candidates from ``seed`` (hotloop's xoshiro256**
    streams: the same seed gives the same points everywhere; None draws one from the OS and
    reports it through ``hotloop.poisson.last_seed()``), then :func:`eliminate`. ``domain`` is
    ``"box"`` or ``"periodic"`` here (for the others see :func:`sample_sphere` and
    :func:`sample_rotations`, which this forwards to; they take no ``bounds``, and bounds
    passed with them are refused). Returns an (n, d) float64 array.
    """
    n = as_int(n, "n")
    if n < 1:
        raise ValueError(f"n: expected >= 1, got {count_text(n)}")
    domain = _as_domain(domain)
    common: dict[str, Any] = dict(oversample=oversample, seed=seed, progressive=progressive,
                                  r_max=r_max, alpha=alpha, beta=beta, gamma=gamma,
                                  weight_limiting=weight_limiting, threads=threads,
                                  progress=progress)
    _check_sample_keywords(common)
    if domain in ("rotations", "sphere"):
        if bounds is not _UNIT_SQUARE and bounds is not None:
            hint = "sample_sphere(n, dim=...) sets the dimension" if domain == "sphere" else (
                "rotations fill SO(3)")
            raise ValueError(f"bounds: not used by domain={domain!r}; leave it out ({hint})")
        if domain == "rotations":
            return sample_rotations(n, **common)
        return sample_sphere(n, **common)
    if bounds is None:
        raise ValueError("bounds: required for domain='box' and 'periodic'")
    b = _bounds_array(bounds)  # eliminate's conversion: errors that name bounds
    d = 1 if b.shape == (2,) else (b.shape[0] if b.ndim == 2 else -1)
    if not 1 <= d <= MAX_DIM:
        raise ValueError(f"bounds: expected d pairs (lo, hi) with d from 1 to {MAX_DIM}, "
                         f"got shape {b.shape}")
    lo, hi = _as_bounds(b, d)
    m = _candidate_count(n, oversample)
    nthreads = _check_before_drawing("sample", m, n, d, domain=domain, lohi=np.stack([lo, hi]),
                                     kwargs=common)
    s = _seed(seed)
    cand = _candidates(s, (m, d), domain, (lo, hi), nthreads)
    keep = eliminate(cand, n, bounds=np.stack([lo, hi], axis=1), domain=domain,
                     progressive=progressive, r_max=r_max, alpha=alpha, beta=beta, gamma=gamma,
                     weight_limiting=weight_limiting, threads=threads, progress=progress)
    return cand[keep]


def sample_sphere(
    n: int,
    dim: int = 3,
    *,
    oversample: float = 5.0,
    seed: int | None = None,
    **kwargs: Any,
) -> NDArray[np.float64]:
    """``n`` Poisson disc points on the unit sphere S^(dim-1) in R^dim (chord distance);
    keywords as :func:`sample`. Returns an (n, dim) float64 array of unit vectors."""
    n = as_int(n, "n")
    dim = as_int(dim, "dim")
    if n < 1:
        raise ValueError(f"n: expected >= 1, got {count_text(n)}")
    if not 2 <= dim <= MAX_DIM:
        raise ValueError(f"dim: expected 2 to {MAX_DIM}, got {count_text(dim)}")
    _check_sample_keywords(kwargs, "sample_sphere")
    m = _candidate_count(n, oversample)
    nthreads = _check_before_drawing("sample_sphere", m, n, dim, domain="sphere", lohi=None,
                                     kwargs=kwargs)
    s = _seed(seed)
    cand = _candidates(s, (m, dim), "sphere", None, nthreads)
    return cand[eliminate(cand, n, domain="sphere", **kwargs)]


def sample_rotations(
    n: int,
    *,
    oversample: float = 5.0,
    seed: int | None = None,
    **kwargs: Any,
) -> NDArray[np.float64]:
    """``n`` Poisson disc rotations as unit quaternions (w, x, y, z), with ``q ~ -q`` and the
    rotation angle as distance; keywords as :func:`sample`. Candidates are uniform (Haar)
    rotations. Returns an (n, 4) float64 array."""
    n = as_int(n, "n")
    if n < 1:
        raise ValueError(f"n: expected >= 1, got {count_text(n)}")
    _check_sample_keywords(kwargs, "sample_rotations")
    m = _candidate_count(n, oversample)
    nthreads = _check_before_drawing("sample_rotations", m, n, 4, domain="rotations",
                                     lohi=None, kwargs=kwargs)
    s = _seed(seed)
    cand = _candidates(s, (m, 4), "rotations", None, nthreads)
    return cand[eliminate(cand, n, domain="rotations", **kwargs)]


def nn_distances(
    points: ArrayLike,
    *,
    bounds: Bounds = None,
    domain: str = "box",
    threads: int | None = None,
) -> NDArray[np.float64]:
    """Each point's distance to its nearest other point in the domain's distance (exact;
    radians for rotations)."""
    pts, _, unit_tol = _points_checked(points, "points", False)
    if pts.shape[0] < 2:
        raise ValueError("points: need at least 2 points")
    domain = _as_domain(domain)
    return _nn_distances(pts, _Geometry(domain, pts, bounds, unit_tol=unit_tol), threads)


def _nn_distances(pts: NDArray[np.float64], geo: _Geometry,
                  threads: int | None) -> NDArray[np.float64]:
    """:func:`nn_distances` of checked points."""
    domain = geo.domain
    out = np.empty(pts.shape[0], dtype=np.float64)
    periodic = domain == "periodic"
    guess = core_radii(domain, geo.r_max(pts.shape[0]), 0.0)[0]
    _core._poisson_nn_distances(pts, out, DOMAINS[domain], geo.lo if periodic else None,
                                geo.hi if periodic else None, guess, resolve_threads(threads))
    return chord_to_angle(out) if domain == "rotations" else out


def radius_stats(
    points: ArrayLike,
    *,
    bounds: Bounds = None,
    domain: str = "box",
    threads: int | None = None,
) -> dict[str, int | float]:
    """Quality figures of a point set: the minimum and mean nearest-neighbour distance and
    their ratios to ``r_max`` of that many points in the domain (Yuksel's relative radius is
    ``min_ratio / 2``; distances in radians for rotations).

    Returns a dict with these keys, in this order:

    - ``"n"`` (int): the number of points;
    - ``"r_max"`` (float): the maximal Poisson disc radius of ``n`` points in the domain;
    - ``"min"``, ``"mean"`` (float): the smallest and the mean nearest-neighbour distance;
    - ``"min_ratio"``, ``"mean_ratio"`` (float): ``min / r_max`` and ``mean / r_max``.
    """
    pts, _, unit_tol = _points_checked(points, "points", False)
    if pts.shape[0] < 2:
        raise ValueError("points: need at least 2 points")
    geo = _Geometry(_as_domain(domain), pts, bounds, unit_tol=unit_tol)
    nn = _nn_distances(pts, geo, threads)
    r = geo.r_max(pts.shape[0])
    mn, mean = float(nn.min()), float(nn.mean())
    return {"n": int(pts.shape[0]), "r_max": float(r), "min": mn, "mean": mean,
            "min_ratio": mn / r, "mean_ratio": mean / r}
