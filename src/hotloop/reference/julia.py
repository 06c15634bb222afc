"""The source document's Julia set implementations: the test oracles and benchmark baselines.

- :class:`ComplexRegion` and :class:`JuliaDiv` (``over`` = the NumPy array loop) exactly as the
  document writes them; ``JuliaDiv.over_vectorize`` is its first version (``np.vectorize`` over
  the scalar :func:`divergence`).
- :func:`numba_divergence` compiles the document's two Numba versions (``abs`` and "no square
  root") when Numba is installed.
- :func:`mandelbrot_numpy` and :func:`smooth_numpy` are NumPy twins of hotloop's extensions
  (the Mandelbrot set; continuous escape time).

hotloop's float64 results equal :meth:`JuliaDiv.over` bit for bit. The naive scalar
:func:`divergence` uses Python's complex ``**`` and ``abs`` (``hypot``), which round differently
from NumPy's SIMD loops near the threshold, so it can differ from both in rare pixels.
"""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray


@dataclasses.dataclass(frozen=True)
class ComplexRegion:
    """An area of the complex plane (the document's class)."""

    xleft: float
    xright: float
    yleft: float
    yright: float

    def build(self, resolution: int) -> NDArray[np.complex128]:
        """The grid of starting points: x along axis 0, ``resolution`` points along x."""
        x = np.linspace(self.xleft, self.xright, resolution)
        ny = int(resolution * abs(self.yright - self.yleft) / abs(self.xright - self.xleft))
        y = np.linspace(self.yleft, self.yright, ny)
        return x[:, np.newaxis] + 1j * y[np.newaxis, :]


def divergence(z_0: complex, c_0: complex, threshold: float, itermax: int) -> int:
    """The document's scalar escape count."""
    for i in range(itermax):
        z_0 = z_0**2 + c_0
        if abs(z_0) >= threshold:
            return i
    return itermax


@dataclasses.dataclass(frozen=True)
class JuliaDiv:
    """The document's Julia set renderer."""

    c_0: complex
    threshold: float = 2.0
    n_iterations: tuple[int, int] = (0, 50)
    resolution: int = 1000

    def counts(self, plane: ComplexRegion) -> NDArray[np.uint32]:
        """The document's NumPy loop, returning the raw escape counts ``div``."""
        itermin, itermax = self.n_iterations
        assert itermin < itermax
        z_s = plane.build(self.resolution)
        div = np.full_like(z_s, itermax, dtype=np.uint32)
        for i in range(itermax):
            z_s = np.square(z_s) + self.c_0
            diverged = np.abs(z_s) >= self.threshold
            div[diverged] = np.uint32(i)
            z_s[diverged] = np.nan
        return div

    def over(self, plane: ComplexRegion) -> NDArray[np.floating[Any]]:
        """The document's NumPy version of ``over``."""
        itermin, itermax = self.n_iterations
        div = self.counts(plane)
        result: NDArray[np.floating[Any]] = (np.maximum(div, itermin) - itermin) / (
            itermax - itermin
        )
        return result

    def over_vectorize(self, plane: ComplexRegion) -> NDArray[np.floating[Any]]:
        """The document's first version: ``np.vectorize`` over the scalar ``divergence``."""
        itermin, itermax = self.n_iterations
        assert itermin < itermax
        z_s = plane.build(self.resolution)
        div_vect = np.vectorize(divergence, otypes=[np.uint32])
        div = div_vect(z_s, self.c_0, self.threshold, itermax)
        result: NDArray[np.floating[Any]] = (np.maximum(div, itermin) - itermin) / (
            itermax - itermin
        )
        return result


def numba_divergence(sqrt: bool = True) -> Callable[..., Any]:
    """The document's ``numba.vectorize`` ufunc: with ``abs`` (``sqrt=True``) or comparing
    ``re**2 + im**2`` with ``threshold**2`` (``sqrt=False``). Needs Numba (ImportError
    otherwise); compiled on first call and cached per process."""
    key = bool(sqrt)
    if key not in _NUMBA_CACHE:
        numba: Any = importlib.import_module("numba")

        if key:

            def div_abs(z_0: complex, c_0: complex, threshold: float, itermax: int) -> int:
                for i in range(itermax):
                    z_0 = z_0**2 + c_0
                    if abs(z_0) >= threshold:
                        return i
                return itermax

            fn = div_abs
        else:

            def div_sqr(z_0: complex, c_0: complex, threshold: float, itermax: int) -> int:
                thr_sqr = threshold**2
                for i in range(itermax):
                    z_0 = z_0**2 + c_0
                    if z_0.real**2 + z_0.imag**2 >= thr_sqr:
                        return i
                return itermax

            fn = div_sqr
        _NUMBA_CACHE[key] = numba.vectorize(["uint32(complex128, complex128, float64, uint32)"])(fn)
    return _NUMBA_CACHE[key]


_NUMBA_CACHE: dict[bool, Callable[..., Any]] = {}


def over_numba(
    julia: JuliaDiv, plane: ComplexRegion, sqrt: bool = True
) -> NDArray[np.floating[Any]]:
    """The document's Numba version of ``over``."""
    itermin, itermax = julia.n_iterations
    z_s = plane.build(julia.resolution)
    div = numba_divergence(sqrt)(z_s, julia.c_0, julia.threshold, itermax)
    result: NDArray[np.floating[Any]] = (np.maximum(div, itermin) - itermin) / (itermax - itermin)
    return result


def mandelbrot_counts(
    plane: ComplexRegion, resolution: int, threshold: float, itermax: int
) -> NDArray[np.uint32]:
    """The document's NumPy loop for the Mandelbrot set: c = the pixel, z_0 = 0."""
    c_s = plane.build(resolution)
    z_s = np.zeros_like(c_s)
    div = np.full_like(c_s, itermax, dtype=np.uint32)
    for i in range(itermax):
        z_s = np.square(z_s) + c_s
        diverged = np.abs(z_s) >= threshold
        div[diverged] = np.uint32(i)
        z_s[diverged] = np.nan
    return div


def smooth_numpy(
    z_s: NDArray[np.complex128],
    c_s: complex | NDArray[np.complex128],
    threshold: float,
    n_iterations: tuple[int, int],
) -> NDArray[np.float64]:
    """Continuous escape time (Vepstas 1997), normalised like ``over``: a pixel escaping at
    count i with |z| gets nu = i + 1 - log2(log|z| / log(threshold)) clamped to [i, i + 1];
    one that never escapes gets itermax. Agrees with hotloop's ``smooth=True`` to ~1e-12.

    For thresholds above about 1.3e154 the escaping z = z_i^2 + c can overflow to inf in
    double arithmetic; its log|z| is then taken from z_i (:func:`log_abs_square_plus`), so the
    value is right for every finite threshold."""
    itermin, itermax = n_iterations
    z_s = np.array(z_s, dtype=np.complex128)
    c_all = np.broadcast_to(np.asarray(c_s, dtype=np.complex128), z_s.shape)
    nu = np.full(z_s.shape, float(itermax))
    alive = np.ones(z_s.shape, dtype=bool)
    for i in range(itermax):
        z_prev = z_s
        with np.errstate(over="ignore", invalid="ignore"):  # overflow is an escape
            z_s = np.square(z_s) + c_s
        mod = np.abs(z_s)
        diverged = alive & (mod >= threshold)
        with np.errstate(all="ignore"):
            log_mod = np.log(mod[diverged])
            over = np.isinf(log_mod) & (log_mod > 0)
            if over.any():
                log_mod[over] = log_abs_square_plus(
                    z_prev[diverged][over], c_all[diverged][over]
                )
            frac = np.log2(log_mod / np.log(threshold))
        val = np.clip(i + 1.0 - frac, i, i + 1.0)
        val[np.isnan(val)] = i
        nu[diverged] = val
        alive &= ~diverged
        z_s[~alive] = 0.0
    result: NDArray[np.float64] = (np.maximum(nu, itermin) - itermin) / (itermax - itermin)
    return result


def log_abs_square_plus(
    z: NDArray[np.complex128], c: NDArray[np.complex128]
) -> NDArray[np.float64]:
    """log|z^2 + c| for finite z and c, also where z^2 + c overflows the doubles: z is scaled by
    2^-e and c by 2^-2e (exact), with e making the larger of |z| and sqrt|c| about 1, and
    2e*log(2) is added back."""
    mz = np.maximum(np.abs(z.real), np.abs(z.imag))
    mc = np.maximum(np.abs(c.real), np.abs(c.imag))
    e = np.maximum(np.frexp(mz)[1], np.frexp(mc)[1] // 2)  # frexp: 0 for 0
    u, v = np.ldexp(z.real, -e), np.ldexp(z.imag, -e)
    w = (u * u - v * v + np.ldexp(c.real, -2 * e)) + 1j * (2 * u * v + np.ldexp(c.imag, -2 * e))
    result: NDArray[np.float64] = 2.0 * e * np.log(2.0) + np.log(np.abs(w))
    return result
