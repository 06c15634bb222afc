"""Tests of hotloop.julia: bit-exact parity with the document's NumPy code on every SIMD path
and thread count, the function forms, the extensions (Mandelbrot, smooth, float32), bad input,
Ctrl-C and the GIL, the CLI, the benchmark and demo smoke runs."""

from __future__ import annotations

import importlib.util
import io
import os
import re
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from hotloop import julia as hl
from hotloop.cli import main as cli_main
from hotloop.reference import julia as ref
from tests._interrupt import interrupt_after

C_0 = -0.835 - 0.2321j
LEVELS = ("scalar", "avx2", "avx512")

# (region, c_0, threshold, n_iterations, resolution)
CASES = [
    ((-1.6, 1.6, -1.0, 1.0), C_0, 2.0, (5, 80), 500),  # the document's CLI defaults
    ((-0.1, 0.1, -0.1, 0.1), C_0, 2.0, (20, 100), 300),  # the benchmark region, smaller
    ((-2.0, -1.6, -2.0, -1.6), C_0, 2.0, (0, 50), 500),  # int() truncation: 499 columns
    ((-1.5, 1.5, 1.0, -1.0), -0.4 + 0.6j, 2.0, (0, 120), 211),  # reversed y
    ((0.3, 0.3000000001, -0.2, -0.1999999995), 0.285 + 0.01j, 2.0, (0, 300), 64),  # tiny spans
    ((-1.0, 1.0, -0.3, 0.3), -0.8 + 0.156j, 3.7, (3, 90), 257),  # non-square, odd sizes
    ((-1.2, 1.2, -1.2, 1.2), 0.0 - 1.0j, 2.0, (0, 60), 1),  # one pixel
]


def _ref_over(case: tuple) -> np.ndarray:
    region, c, thr, its, res = case
    return ref.JuliaDiv(c, thr, its, res).over(ref.ComplexRegion(*region))


@pytest.fixture(scope="module")
def references() -> list[np.ndarray]:
    return [_ref_over(case) for case in CASES]


def test_overview_image_equals_numpy_bit_for_bit() -> None:
    region = (-1.6, 1.6, -1.0, 1.0)
    want = ref.JuliaDiv(C_0, 2.0, (0, 80), 1000).over(ref.ComplexRegion(*region))
    got = hl.JuliaDiv(C_0, 2.0, (0, 80), 1000).over(hl.ComplexRegion(*region))
    assert got.shape == (1000, 625) and got.dtype == np.float64
    assert np.array_equal(got.view(np.uint64), want.view(np.uint64))


@pytest.mark.parametrize("simd", LEVELS)
@pytest.mark.parametrize("threads", [1, 2, 3])
def test_every_case_level_and_thread_count_bit_exact(
    references: list[np.ndarray], simd: str, threads: int
) -> None:
    for case, want in zip(CASES, references, strict=True):
        region, c, thr, its, res = case
        got = hl.JuliaDiv(c, thr, its, res, threads=threads, simd=simd).over(
            hl.ComplexRegion(*region)
        )
        assert got.shape == want.shape, case
        assert np.array_equal(got.view(np.uint64), want.view(np.uint64)), case


def test_truncation_case_has_499_columns() -> None:
    region = hl.ComplexRegion(-2, -1.6, -2, -1.6)
    assert region.shape(500) == (500, 499)
    assert region.build(500).shape == ref.ComplexRegion(-2, -1.6, -2, -1.6).build(500).shape


def test_build_equals_the_document() -> None:
    for region, *_ in CASES:
        for res in (1, 2, 7, 100):
            got = hl.ComplexRegion(*region).build(res)
            want = ref.ComplexRegion(*region).build(res)
            assert got.dtype == np.complex128 and np.array_equal(got, want)


@settings(max_examples=40, deadline=None)
@given(
    x0=st.floats(-2.0, 2.0),
    dx=st.floats(1e-6, 3.0),
    y0=st.floats(-2.0, 2.0),
    ratio=st.floats(-3.0, 3.0).filter(lambda v: abs(v) > 0.05),
    cr=st.floats(-1.0, 0.5),
    ci=st.floats(-1.0, 1.0),
    thr=st.sampled_from([2.0, 1.5, 4.0, 10.0]),
    itermax=st.integers(1, 60),
    res=st.integers(1, 40),
    simd=st.sampled_from(LEVELS),
)
def test_random_regions_match_the_numpy_loop(  # noqa: PLR0917
    x0: float, dx: float, y0: float, ratio: float, cr: float, ci: float, thr: float,
    itermax: int, res: int, simd: str,
) -> None:
    region = (x0, x0 + dx, y0, y0 + ratio * dx)
    want = ref.JuliaDiv(complex(cr, ci), thr, (0, itermax), res).counts(
        ref.ComplexRegion(*region)
    )
    got = hl.escape_counts(hl.ComplexRegion(*region), complex(cr, ci), thr, itermax, res,
                           simd=simd, threads=2)
    assert got.dtype == np.uint32 and np.array_equal(got, want)


def _numpy_counts(z: np.ndarray, c: complex, thr: float, itermax: int) -> np.ndarray:
    z_s = np.array(z, dtype=np.complex128)
    div = np.full(z_s.shape, itermax, dtype=np.uint32)
    with np.errstate(all="ignore"):
        for i in range(itermax):
            z_s = np.square(z_s) + c
            diverged = np.abs(z_s) >= thr
            div[diverged] = np.uint32(i)
            z_s[diverged] = np.nan
    return div


@pytest.mark.parametrize("simd", LEVELS)
def test_divergence_near_the_threshold_circle_and_non_finite(simd: str) -> None:
    # c = 0: |z_1| = |z_0|^2 lands within a few ulp of the threshold, where |z|^2 < t^2 and
    # NumPy's |z| >= t can disagree; the exact band must decide like NumPy.
    rng = np.random.default_rng(7)
    theta = rng.uniform(0, 2 * np.pi, 20000)
    r = np.sqrt(2.0) * (1 + rng.uniform(-1, 1, theta.size) * 2e-16 * rng.integers(1, 8, theta.size))
    z = r * np.exp(1j * theta)
    z[:8] = [np.inf, np.nan, complex(0, np.nan), complex(1e200, 1e200), complex(-np.inf, 1),
             1e-320, 0, complex(2, 0)]
    want = _numpy_counts(z, 0j, 2.0, 4)
    got = hl.divergence(z, 0j, 2.0, 4, simd=simd, threads=2)
    assert np.array_equal(got, want)
    assert 1000 < np.count_nonzero(got == 0) < z.size - 1000  # both sides exercised
    # a different c, more iterations
    z2 = rng.normal(size=(50, 40)) + 1j * rng.normal(size=(50, 40))
    assert np.array_equal(hl.divergence(z2, C_0, 2.0, 30, simd=simd), _numpy_counts(z2, C_0, 2, 30))


@pytest.mark.parametrize("threshold", [1.0, 1.3, 2.0, 3.0])
def test_every_level_equals_numpy_on_both_sides_of_absorbing_escape(threshold: float) -> None:
    # The AVX-512 kernel tests |z| every second step where escape is absorbing, i.e. where
    # threshold^2 - threshold >= |c| with a margin (julia_internal.h), and every step
    # elsewhere. c just inside, on and beyond that boundary: beyond it a point can escape
    # at an untested step and fall back inside the circle at the next one, so a kernel that
    # tested every second step there would miss escapes.
    gap = threshold * threshold - threshold
    rng = np.random.default_rng(int(threshold * 10))
    for scale in (0.0, 0.5, 0.999, 1.0, 1.001, 1.5, 3.0):
        angle = rng.uniform(0, 2 * np.pi)
        c = complex(gap * scale * np.cos(angle), gap * scale * np.sin(angle)) if gap else 0j
        if scale == 1.5:
            c = complex(-max(gap, 0.25) * 1.5, 0.0)  # real c: orbits bounce on the real axis
        box = (-2.2 * threshold, 2.2 * threshold, -1.3 * threshold, 1.3 * threshold)
        for its in [(0, 41), (3, 40)]:
            want = _ref_over((box, c, threshold, its, 161))
            for simd in LEVELS:
                got = hl.JuliaDiv(c, threshold, its, 161, simd=simd).over(hl.ComplexRegion(*box))
                assert np.array_equal(got, want), (simd, c, its)
        z = (rng.normal(size=4000) + 1j * rng.normal(size=4000)) * threshold
        want = _numpy_counts(z, c, threshold, 33)
        for simd in LEVELS:
            assert np.array_equal(hl.divergence(z, c, threshold, 33, simd=simd), want), (simd, c)


@pytest.mark.parametrize("simd", LEVELS)
def test_divergence_of_every_short_length(simd: str) -> None:
    # the AVX-512 kernel loads points 8 at a time: every partial last group (n mod 8) and
    # groups whose pixels finish far apart
    rng = np.random.default_rng(11)
    for n in range(1, 26):
        z = rng.uniform(-0.6, 0.6, n) + 1j * rng.uniform(-0.6, 0.6, n)
        got = hl.divergence(z, C_0, 2.0, 150, simd=simd)
        assert np.array_equal(got, _numpy_counts(z, C_0, 2.0, 150)), n


def test_escapes_after_hundreds_of_steps_on_every_level() -> None:
    # c just beyond the Mandelbrot set's cusp at 1/4: orbits pass slowly by the near-parabolic
    # fixed point, so counts spread over about 10 to 3000. The AVX-512 kernel counts each
    # lane's steps in a byte until it adds them to the counts (after at most 255 tested steps): a
    # lane that runs hundreds of steps would overflow its byte if that flush came too late.
    c = 0.25 + 1e-5
    rng = np.random.default_rng(3)
    z = rng.uniform(-0.6, 0.6, 4096) + 1j * rng.uniform(-0.3, 0.3, 4096)
    want = _numpy_counts(z, c, 2.0, 3000)
    assert np.count_nonzero((want > 600) & (want < 3000)) > 1000
    # the kernels that test every step: Mandelbrot on the real axis beyond the cusp (one row
    # of c from 0.25001 to 0.2501: 311 to 990 steps) and smooth values
    cusp = hl.ComplexRegion(0.25001, 0.2501, 0.0, 5e-7)
    kw: dict = {"threshold": 2.0, "n_iterations": (0, 3000)}
    mandel = hl.mandelbrot(cusp, resolution=256, simd="scalar", **kw)
    assert mandel.shape == (256, 1) and np.all((mandel > 0.1) & (mandel < 0.34))
    square = hl.ComplexRegion(-0.5, 0.5, -0.3, 0.3)
    smooth = hl.JuliaDiv(c, resolution=48, smooth=True, simd="scalar", **kw).over(square)
    for simd in LEVELS:
        for threads in (1, 2):
            got = hl.divergence(z, c, 2.0, 3000, simd=simd, threads=threads)
            assert np.array_equal(got, want), (simd, threads)
            got = hl.mandelbrot(cusp, resolution=256, simd=simd, threads=threads, **kw)
            assert np.array_equal(got, mandel), (simd, threads)
            div = hl.JuliaDiv(c, resolution=48, smooth=True, simd=simd, threads=threads, **kw)
            assert np.array_equal(div.over(square), smooth), (simd, threads)


def test_divergence_shapes_dtypes_and_input_untouched() -> None:
    z = (np.linspace(-1, 1, 60) + 0.3j).reshape(3, 4, 5)
    before = z.copy()
    got = hl.divergence(z[:, ::2, :], C_0, 2.0, 40)  # non-contiguous view
    assert got.shape == (3, 2, 5) and got.dtype == np.uint32
    assert np.array_equal(got, _numpy_counts(z[:, ::2, :], C_0, 2.0, 40))
    assert np.array_equal(z, before)
    z64 = z.astype(np.complex64)
    assert np.array_equal(hl.divergence(z64, C_0, 2.0, 40), _numpy_counts(z64, C_0, 2.0, 40))
    assert hl.divergence(np.array(0.1 + 0.1j), C_0, 2.0, 40).shape == ()
    assert hl.divergence(np.zeros(0, complex), C_0, 2.0, 40).shape == (0,)
    assert np.array_equal(hl.divergence(z, C_0, 2.0, 0), np.zeros(z.shape, np.uint32))


def test_divergence_checks_its_size_before_allocating(monkeypatch: pytest.MonkeyPatch) -> None:
    """A broadcast view stands for far more points than it holds: its complex128 copy and
    counts are checked against the memory before anything is allocated (NumPy's own
    "Unable to allocate" came after trying, and smaller sizes started allocating)."""
    import tracemalloc

    z = np.broadcast_to(np.complex128(1j), (10**6, 10**6))
    with pytest.raises(MemoryError, match=r"^z: an array of 1000000 x 1000000 points needs "
                       r"18626\.5 GiB for its uint32 counts and a complex128 copy, (more than "
                       r".* \(\d+\.\d GiB\)|beyond any machine's memory)$"):
        hl.divergence(z, C_0)
    # with 1 MiB usable: 10^7 points (200 MB) are refused with nothing allocated
    monkeypatch.setattr(hl, "usable_memory", lambda: 2**20)
    tracemalloc.start()
    try:
        with pytest.raises(MemoryError, match=r"^z: .* 10000000 points needs 0\.2 GiB .*"
                           r"\(0\.0 GiB\)"):
            hl.divergence(np.broadcast_to(np.complex64(0.5j), (10**7,)), mandelbrot=True)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 2**20, peak


def test_divergence_reads_contiguous_input_in_place_and_never_modifies_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import tracemalloc

    z = np.linspace(-1.5, 1.5, 10**5) + 0.25j
    z.setflags(write=False)  # read-only input: read, never written
    want = _numpy_counts(z, C_0, 2.0, 30)
    # 1 MiB usable: the counts (0.4 MB) fit, a copy of z (1.6 MB) would not
    monkeypatch.setattr(hl, "usable_memory", lambda: 2**20)
    tracemalloc.start()
    try:
        got = hl.divergence(z, C_0, 2.0, 30)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert np.array_equal(got, want) and peak < z.nbytes // 2, peak
    with pytest.raises(MemoryError, match="complex128 copy"):  # a strided view needs one
        hl.divergence(np.linspace(0, 1, 2 * 10**5).astype(complex)[::2], C_0, 2.0, 30)
    monkeypatch.undo()
    # an unaligned or byte-swapped buffer is copied (aligned, native) and left as it was
    raw = np.zeros(z.nbytes + 1, np.uint8)
    unaligned = np.frombuffer(raw, np.complex128, count=z.size, offset=1)
    assert not unaligned.flags.aligned
    raw[1:] = z.view(np.uint8)
    swapped = z.astype(">c16")
    for arr in (unaligned, swapped):
        before = arr.copy()
        assert np.array_equal(hl.divergence(arr, C_0, 2.0, 30), want)
        assert np.array_equal(arr, before, equal_nan=True)


def test_divergence_needs_no_c_0_for_the_mandelbrot_set() -> None:
    import inspect

    region = hl.ComplexRegion(-2.2, 0.8, -1.2, 1.2)
    want = ref.mandelbrot_counts(ref.ComplexRegion(-2.2, 0.8, -1.2, 1.2), 120, 2.0, 60)
    grid = region.build(120)
    assert np.array_equal(hl.divergence(grid, itermax=60, mandelbrot=True), want)
    assert np.array_equal(hl.divergence(grid, None, 2.0, 60, mandelbrot=True), want)
    assert np.array_equal(hl.divergence(grid, C_0, 2.0, 60, mandelbrot=True), want)  # ignored
    assert np.array_equal(hl.escape_counts(region, None, 2.0, 60, 120, mandelbrot=True), want)
    assert inspect.signature(hl.divergence).parameters["c_0"].default is None
    # the document's positional order still works, and a Julia set needs its c_0
    assert np.array_equal(hl.divergence(grid, C_0, 2.0, 60), _numpy_counts(grid, C_0, 2.0, 60))
    for call in (lambda: hl.divergence(grid), lambda: hl.divergence(grid, None, 2.0, 60),
                 lambda: hl.escape_counts(region, None)):
        with pytest.raises(TypeError, match=r"^c_0: required unless mandelbrot=True, got None"):
            call()
    with pytest.raises(TypeError, match=r"^c_0"):  # a c_0 given is checked, also when ignored
        hl.divergence(grid, "x", mandelbrot=True)


def test_escape_counts_and_mandelbrot_equal_numpy() -> None:
    region = (-2.2, 0.8, -1.2, 1.2)
    want = ref.mandelbrot_counts(ref.ComplexRegion(*region), 300, 2.0, 100)
    for simd in LEVELS:
        got = hl.escape_counts(hl.ComplexRegion(*region), resolution=300, itermax=100,
                               mandelbrot=True, simd=simd)
        assert np.array_equal(got, want)
    img = hl.mandelbrot(hl.ComplexRegion(*region), 2.0, (10, 100), 300)
    assert np.array_equal(img, (np.maximum(want, 10) - 10) / 90)
    julia = hl.JuliaDiv(C_0, 2.0, (5, 80), 400)
    counts = julia.escape_counts(hl.ComplexRegion(-1.6, 1.6, -1, 1))
    assert np.array_equal(counts, ref.JuliaDiv(C_0, 2.0, (5, 80), 400).counts(
        ref.ComplexRegion(-1.6, 1.6, -1, 1)))


def test_smooth_matches_its_numpy_twin_and_levels_agree() -> None:
    region = hl.ComplexRegion(-1.6, 1.6, -1.0, 1.0)
    z = ref.ComplexRegion(-1.6, 1.6, -1.0, 1.0).build(300)
    want = ref.smooth_numpy(z, C_0, 2.0, (5, 80))
    outs = [hl.JuliaDiv(C_0, 2.0, (5, 80), 300, smooth=True, simd=s).over(region)
            for s in LEVELS]
    for got in outs:
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-9)
        assert np.array_equal(got, outs[0])
        assert got.min() >= 0.0 and got.max() <= 1.0
    banded = hl.JuliaDiv(C_0, 2.0, (5, 80), 300).over(region)
    assert np.all(outs[0] >= banded - 1e-12) and np.all(outs[0] <= banded + 1 / 75 + 1e-12)


@pytest.mark.parametrize("threshold", [1e76, 1e90, 1e150, 1e300])
def test_smooth_is_right_for_huge_thresholds(threshold: float) -> None:
    # |z_{i+1}| reaches threshold^2: |z|^2 overflows the doubles above about 1.2e77 (1e90 with
    # the band filter, 1e150 without) and z_{i+1} itself above about 1.3e154 (1e300)
    region = hl.ComplexRegion(-2, 2, -2, 2)
    z = ref.ComplexRegion(-2, 2, -2, 2).build(60)
    want = ref.smooth_numpy(z, C_0, threshold, (0, 50))
    want_m = ref.smooth_numpy(np.zeros_like(z), z, threshold, (0, 50))
    bands = want * 50 % 1.0
    assert ((bands > 0.01) & (bands < 0.99)).mean() > 0.2  # smooth, not banded
    for simd in LEVELS:
        for threads in (1, 2):
            julia = hl.JuliaDiv(C_0, threshold, (0, 50), 60, smooth=True, simd=simd,
                                threads=threads)
            got = julia.over(region)
            np.testing.assert_allclose(got, want, rtol=0, atol=1e-9)
            assert np.array_equal(julia.picture(region), hl.to_picture(got))
            got_m = hl.mandelbrot(region, threshold, (0, 50), 60, smooth=True, simd=simd,
                                  threads=threads)
            np.testing.assert_allclose(got_m, want_m, rtol=0, atol=1e-9)


def test_reference_log_of_an_overflowing_square_is_exact() -> None:
    # the twin's log|z^2 + c| where z^2 + c overflows, against exact rational arithmetic
    import math
    from fractions import Fraction

    rng = np.random.default_rng(7)
    mags = 10.0 ** rng.uniform(154, 308, 200)
    z = mags * np.exp(2j * np.pi * rng.uniform(size=200))
    c = np.where(rng.uniform(size=200) < 0.5, 0.3 - 0.7j, -1.7e308 + 1e308j)
    got = ref.log_abs_square_plus(z, c)
    for zi, ci, g in zip(z, c, got, strict=True):
        x, y = Fraction(zi.real), Fraction(zi.imag)
        re, im = x * x - y * y + Fraction(ci.real), 2 * x * y + Fraction(ci.imag)
        norm2 = re * re + im * im
        want = 0.5 * (math.log(norm2.numerator) - math.log(norm2.denominator))
        assert abs(g - want) <= 1e-13 * want


def test_float32_smooth_for_thresholds_whose_square_leaves_float32() -> None:
    # float32 |z_{i+1}|^2 overflows above about 1.4e9; float32 mode accepts up to about 1.8e19
    region = hl.ComplexRegion(-2, 2, -2, 2)
    for threshold in (1e10, 1e15, 1.8e19):
        exact = hl.JuliaDiv(C_0, threshold, (0, 50), 200, smooth=True).over(region)
        approx = [hl.JuliaDiv(C_0, threshold, (0, 50), 200, smooth=True, dtype=np.float32,
                              simd=s).over(region) for s in ("scalar", "avx512")]
        assert np.array_equal(approx[0], approx[1])
        assert (np.abs(approx[0] - exact) <= 1e-4).mean() > 0.99, threshold


def test_float32_is_an_approximate_but_deterministic_mode() -> None:
    region = hl.ComplexRegion(-1.6, 1.6, -1.0, 1.0)
    exact = hl.JuliaDiv(C_0, 2.0, (5, 80), 400).over(region)
    approx = [hl.JuliaDiv(C_0, 2.0, (5, 80), 400, dtype=np.float32, simd=s, threads=t)
              .over(region) for s in ("scalar", "avx512") for t in (1, 2)]
    for a in approx:
        assert a.dtype == np.float32 and a.shape == exact.shape
        assert np.array_equal(a, approx[0])
    close = np.abs(approx[0] - exact) <= 2 / 75
    assert close.mean() > 0.97  # differs only near the set's edge
    sm = hl.mandelbrot(region, 2.0, (0, 50), 100, dtype=np.float32, smooth=True)
    assert sm.dtype == np.float32 and sm.min() >= 0 and sm.max() <= 1


@pytest.mark.parametrize(
    ("call", "exc", "word"),
    [
        (lambda: hl.ComplexRegion(0, 0, -1, 1), ValueError, "x span"),
        (lambda: hl.ComplexRegion(-1, 1, 2, 2), ValueError, "y span"),
        (lambda: hl.ComplexRegion(float("nan"), 1, -1, 1), ValueError, "xleft"),
        (lambda: hl.ComplexRegion(-1, float("inf"), -1, 1), ValueError, "xright"),
        (lambda: hl.ComplexRegion(-1e308, 1e308, -1, 1), ValueError, "overflows"),
        (lambda: hl.ComplexRegion("a", 1, -1, 1), TypeError, "xleft"),
        (lambda: hl.ComplexRegion(-1, 1, -1, 1).build(0), ValueError, "resolution"),
        (lambda: hl.ComplexRegion(-1, 1, -1, 1).build(2.5), TypeError, "resolution"),
        (lambda: hl.ComplexRegion(-1, 1, -1, 1).build(True), TypeError, "resolution"),
        (lambda: hl.JuliaDiv(C_0, resolution=-3), ValueError, "resolution"),
        (lambda: hl.JuliaDiv(C_0, 0.0), ValueError, "threshold"),
        (lambda: hl.JuliaDiv(C_0, -1.0), ValueError, "threshold"),
        (lambda: hl.JuliaDiv(C_0, float("nan")), ValueError, "threshold"),
        (lambda: hl.JuliaDiv(C_0, float("inf")), ValueError, "threshold"),  # as the CLI's -t
        (lambda: hl.JuliaDiv(C_0, n_iterations={5, 80}), TypeError, "n_iterations"),  # no order
        (lambda: hl.JuliaDiv(C_0, resolution=20).over(hl.ComplexRegion(-1, 1, -1, 1),
                                                      progress=5), TypeError, "progress"),
        (lambda: hl.divergence(np.zeros(2, complex), C_0, progress="bar"), TypeError,
         "progress"),
        (lambda: hl.divergence([1j, [2j]], C_0), ValueError, "z"),  # ragged
        (lambda: hl.JuliaDiv(complex(np.inf, 0)), ValueError, "c_0"),
        (lambda: hl.JuliaDiv(complex(0, np.nan)), ValueError, "c_0"),
        (lambda: hl.JuliaDiv("x"), TypeError, "c_0"),
        (lambda: hl.JuliaDiv(C_0, n_iterations=(50, 50)), ValueError, "itermin < itermax"),
        (lambda: hl.JuliaDiv(C_0, n_iterations=(60, 50)), ValueError, "itermin < itermax"),
        (lambda: hl.JuliaDiv(C_0, n_iterations=(-1, 50)), ValueError, "itermin"),
        (lambda: hl.JuliaDiv(C_0, n_iterations=(0, 2**32)), ValueError, "itermax"),
        (lambda: hl.JuliaDiv(C_0, n_iterations=5), TypeError, "n_iterations"),
        (lambda: hl.JuliaDiv(C_0, 1.0, smooth=True), ValueError, "smooth"),
        (lambda: hl.JuliaDiv(C_0, dtype=np.int32), ValueError, "dtype"),
        # float32 mode: threshold^2 must be a normal float32
        (lambda: hl.JuliaDiv(C_0, 1.9e19, dtype=np.float32), ValueError, "threshold"),
        (lambda: hl.JuliaDiv(C_0, 1e-20, dtype=np.float32), ValueError, "threshold"),
        (lambda: hl.JuliaDiv(C_0, float("inf"), dtype=np.float32), ValueError, "threshold"),
        (lambda: hl.mandelbrot(hl.ComplexRegion(-1, 1, -1, 1), 1e300, dtype=np.float32),
         ValueError, "threshold"),
        (lambda: hl.JuliaDiv(C_0, threads=-1), ValueError, "threads"),
        (lambda: hl.JuliaDiv(C_0, simd="sse9"), ValueError, "simd"),
        (lambda: hl.divergence(np.ones(3), C_0, 2.0, 10), TypeError, "z"),
        (lambda: hl.divergence([1, 2], C_0, 2.0, 10), TypeError, "z"),
        (lambda: hl.divergence(np.ones(3, complex), C_0, 2.0, -1), ValueError, "itermax"),
        (lambda: hl.divergence(np.ones(3, complex), C_0, 0.0, 5), ValueError, "threshold"),
        # the methods' parameter is the document's `plane`, the functions' `region`
        (lambda: hl.JuliaDiv(C_0).over("region"), TypeError, "^plane: expected a ComplexRegion"),
        (lambda: hl.JuliaDiv(C_0).picture(5), TypeError, "^plane"),
        (lambda: hl.JuliaDiv(C_0).escape_counts(None), TypeError, "^plane"),
        (lambda: hl.escape_counts(None), TypeError, "^region"),
        (lambda: hl.mandelbrot("x"), TypeError, "^region"),
        # a 0-d array is no pair (tuple() of it raised "iteration over a 0-d array")
        (lambda: hl.JuliaDiv(0.1, 2, np.array(5)), TypeError, "^n_iterations: expected a pair"),
        (lambda: hl.JuliaDiv(0.1, 2, np.array([[0, 5]])), TypeError, "^n_iterations: expected"),
        # simd names a path: anything but a str is a TypeError, as for the other arguments
        (lambda: hl.JuliaDiv(C_0, simd=None), TypeError, "^simd: expected a str"),
        (lambda: hl.JuliaDiv(C_0, simd=[]), TypeError, "^simd: expected a str"),
        (lambda: hl.divergence(np.zeros(2, complex), C_0, simd=2), TypeError, "^simd"),
        # integers beyond 4300 digits, which str() refuses: named, with their number of digits
        (lambda: hl.JuliaDiv(0.1, 2.0, (0, 10**5000)), ValueError,
         r"^n_iterations\[1\] \(itermax\): expected an integer in 0..4294967295, got an "
         "integer of about 5001 digits"),
        (lambda: hl.JuliaDiv(0.1, 2.0, (-(10**5000), 5)), ValueError,
         r"^n_iterations\[0\] \(itermin\): .* integer of about 5001 digits"),
        (lambda: hl.divergence(np.zeros(2, complex), 0.1, 2.0, 10**5000), ValueError,
         "^itermax: .* about 5001 digits"),
        (lambda: hl.escape_counts(hl.ComplexRegion(0, 1, 0, 1), 0.1, 2.0, 5, -(10**5000)),
         ValueError, "^resolution: expected an integer >= 1, got .*integer of about 5001 digits"),
        (lambda: hl.ComplexRegion(0, 1, 0, 1).build(-(10**5000)), ValueError,
         "^resolution: .* about 5001 digits"),
        (lambda: hl.JuliaDiv(C_0, n_iterations=10**5000), TypeError,
         "^n_iterations: expected a pair .* about 5001 digits"),
        (lambda: hl.JuliaDiv(C_0, n_iterations=(10**5000,)), TypeError,
         "^n_iterations: .* too large to print"),
        (lambda: hl.JuliaDiv(C_0, dtype=[10**5000]), TypeError, "^dtype: .* too large to print"),
        (lambda: hl.JuliaDiv(C_0, simd=[10**5000]), TypeError, "^simd: expected a str"),
        # integers beyond the doubles: ValueError like inf, not float()'s OverflowError
        (lambda: hl.ComplexRegion(10**400, 1, 0, 1), ValueError, "xleft"),
        (lambda: hl.ComplexRegion(0, 1, 0, -(10**5000)), ValueError, "yright"),
        (lambda: hl.JuliaDiv(0j, 10**400), ValueError, "threshold"),
        (lambda: hl.JuliaDiv(10**400), ValueError, "c_0"),
        (lambda: hl.divergence(np.zeros(2, complex), 10**400), ValueError, "c_0"),
        (lambda: hl.divergence(np.zeros(2, complex), 0j, 10**400), ValueError, "threshold"),
        (lambda: hl.mandelbrot(hl.ComplexRegion(-1, 1, -1, 1), -(10**400)), ValueError,
         "threshold"),
        # ny = int(resolution * |dy| / |dx|) overflows the doubles (int(inf) in the document)
        (lambda: hl.ComplexRegion(0, 1e-300, 0, 1e300).build(1), ValueError, "resolution"),
        (lambda: hl.ComplexRegion(0, 1e-300, 0, 1e300).shape(1), ValueError, "resolution"),
        (lambda: hl.JuliaDiv(C_0, resolution=1).over(hl.ComplexRegion(0, 1e-300, 0, 1e300)),
         ValueError, "resolution"),
        (lambda: hl.escape_counts(hl.ComplexRegion(0, 1, 0, 1e308), resolution=2), ValueError,
         "resolution"),
        # yes/no arguments are bools, not truth values
        (lambda: hl.JuliaDiv(C_0, smooth="no"), TypeError, "smooth"),
        (lambda: hl.mandelbrot(hl.ComplexRegion(-1, 1, -1, 1), smooth=1), TypeError, "smooth"),
        (lambda: hl.escape_counts(hl.ComplexRegion(-1, 1, -1, 1), C_0, mandelbrot="yes"),
         TypeError, "mandelbrot"),
        (lambda: hl.divergence(np.zeros(2, complex), C_0, mandelbrot=None), TypeError,
         "mandelbrot"),
        # a finite long double beyond the doubles: ValueError, not a silent inf
        (lambda: hl.JuliaDiv(C_0, np.longdouble("1e400")), ValueError, "threshold.*1e\\+400"),
        (lambda: hl.JuliaDiv(np.clongdouble(np.longdouble("1e400"))), ValueError,
         "c_0: expected a complex number within the float range"),
        (lambda: hl.divergence(np.zeros(2, complex), C_0, -np.longdouble("1e400")), ValueError,
         "threshold"),
        # arrays that are not one number: named with their dtype and shape
        (lambda: hl.JuliaDiv(np.array([0.1j])), TypeError,
         r"^c_0: expected a complex number, got ndarray of dtype complex128 and shape \(1,\)"),
        (lambda: hl.ComplexRegion(np.array(True), 1, 0, 1), TypeError,
         r"^xleft: expected a real number, got ndarray of dtype bool and shape \(\)"),
        (lambda: hl.JuliaDiv(C_0, np.array("2")), TypeError, "^threshold: .* dtype <U1"),
        (lambda: hl.JuliaDiv(np.array(np.nan + 0j)), ValueError, "^c_0: expected a finite"),
        (lambda: hl.JuliaDiv(C_0, resolution=np.array([10], dtype=np.int64)), TypeError,
         r"^resolution: expected an int, got ndarray of dtype int64 and shape \(1,\)"),
        (lambda: hl.JuliaDiv(C_0, n_iterations=(np.array(5.0), 80)), TypeError,
         r"^n_iterations\[0\] \(itermin\): expected an int, got ndarray of dtype float64"),
    ],
)
def test_bad_input_names_the_argument(call, exc, word) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(exc, match=word):
        call()


def test_0d_arrays_are_the_numbers_they_hold() -> None:
    """np.array(2.0) is a number to a NumPy user, as np.float64(2.0) is (poisson and tmodel
    take both): every real and complex parameter takes a 0-d numeric array."""
    region = hl.ComplexRegion(-1.6, 1.6, -1, 1)
    want = hl.JuliaDiv(C_0, 2.0, (5, 80), 60).over(region)
    got = hl.JuliaDiv(np.array(C_0), np.array(2), (np.array(5), np.array(80)), np.array(60)).over(
        hl.ComplexRegion(np.array(-1.6), np.array(1.6), np.array(-1), np.array(1.0)))
    assert np.array_equal(got, want)
    z = np.array([0.1 + 0.2j, 1.5j])
    assert np.array_equal(hl.divergence(z, np.array(C_0), np.array(2.0), np.array(80)),
                          hl.divergence(z, C_0, 2.0, 80))
    assert np.array_equal(hl.mandelbrot(region, np.array(np.float32(2.0)), (0, 30), 40),
                          hl.mandelbrot(region, 2.0, (0, 30), 40))


def test_huge_sizes_raise_memory_error_before_allocating() -> None:
    with pytest.raises(MemoryError, match="resolution"):  # ny = 1e100: finite but huge
        hl.ComplexRegion(0, 1e-300, 0, 1e-200).build(1)
    region = hl.ComplexRegion(-1, 1, -1, 1)
    with pytest.raises(MemoryError, match="resolution"):
        hl.JuliaDiv(C_0, resolution=10**9).over(region)
    with pytest.raises(MemoryError):
        region.build(10**8)
    thin = hl.ComplexRegion(-1e-9, 1e-9, -1, 1)  # ny = 1e9 * resolution
    with pytest.raises(MemoryError):
        hl.JuliaDiv(C_0, resolution=1000).over(thin)
    for huge in (2**62, 2**62 + 1, 10**20, 10**400):  # one kind of error for every huge size
        with pytest.raises(MemoryError, match="resolution"):
            hl.JuliaDiv(C_0, resolution=huge).over(region)
        with pytest.raises(MemoryError, match="resolution"):
            region.build(huge)


def test_absurd_sizes_raise_memory_error_with_readable_sizes() -> None:
    # ny = 2^62 * 1e139 / 1e-150 is finite (about 4.6e307) but has 308 digits: the message's
    # GiB (nbytes / 2**30) overflowed the doubles (OverflowError), and printed the sides and
    # sizes in full where it did not
    region = hl.ComplexRegion(0, 1e-150, 0, 1e139)
    julia = hl.JuliaDiv(0.1, 2.0, (0, 5), 2**62)
    for call, ny_digits in [(lambda: region.build(2**62), 308),
                            (lambda: julia.over(region), 308),
                            (lambda: julia.picture(region), 308),
                            (lambda: julia.escape_counts(region), 308),
                            (lambda: hl.escape_counts(region, 0.1, 2.0, 5, 2**40), 302)]:
        with pytest.raises(MemoryError, match=r"^resolution: an image of ") as info:
            call()
        text = str(info.value)
        assert f"(an integer of about {ny_digits} digits) pixels needs" in text, text
        assert "beyond any machine's memory" in text and len(text) < 200, text


def test_memory_error_gives_width_x_height_for_images_and_pictures() -> None:
    # 10^9 columns x 2 * 10^9 rows, as the CLI's lines say: the picture's array is (ny, nx)
    # and its message said "2000000000 x 1000000000"
    region = hl.ComplexRegion(-1, 1, -1, 3)
    julia = hl.JuliaDiv(C_0, resolution=10**9)
    for call in (lambda: julia.over(region), lambda: julia.picture(region),
                 lambda: region.build(10**9)):
        with pytest.raises(MemoryError, match="an image of 1000000000 x 2000000000 pixels"):
            call()


def test_zero_columns_give_empty_images_as_in_the_document() -> None:
    # ny = int(3 * 1e-9 / 2) = 0: the document's build gives a (3, 0) grid; so do we
    region = hl.ComplexRegion(-1, 1, 0, 1e-9)
    assert region.build(3).shape == (3, 0)
    assert ref.ComplexRegion(-1, 1, 0, 1e-9).build(3).shape == (3, 0)
    julia = hl.JuliaDiv(C_0, 2.0, (0, 50), 3)
    assert julia.over(region).shape == (3, 0)
    assert julia.picture(region).shape == (0, 3)
    assert julia.escape_counts(region).shape == (3, 0)


def test_instances_are_immutable_and_keep_the_validated_values() -> None:
    import copy
    import dataclasses
    import pickle

    region = hl.ComplexRegion(-1, 1, -0.5, 0.5)
    julia = hl.JuliaDiv(C_0, 3, [2, 40], 64, threads=1, smooth=True, dtype="f4")
    assert (region.xleft, region.xright, region.yleft, region.yright) == (-1, 1, -0.5, 0.5)
    assert isinstance(region.xleft, float)
    assert julia.c_0 == C_0 and julia.threshold == 3.0 and isinstance(julia.threshold, float)
    assert julia.n_iterations == (2, 40) and julia.resolution == 64
    assert julia.threads == 1 and julia.smooth is True and julia.dtype == np.float32
    assert julia.simd == "auto"
    before = julia.over(region)
    for obj, name, value in [
        (julia, "dtype", "f8"), (julia, "threshold", float("nan")), (julia, "resolution", 0),
        (julia, "n_iterations", (5, 1)), (julia, "c_0", "x"), (julia, "threads", -1),
        (julia, "smooth", False), (julia, "simd", "nope"), (region, "xleft", 1.0),
        (region, "yright", float("inf")),
    ]:
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(obj, name, value)
        with pytest.raises(AttributeError):
            delattr(obj, name)
    with pytest.raises(AttributeError):
        julia.other = 1  # type: ignore[attr-defined]
    assert np.array_equal(julia.over(region), before)
    for clone in (copy.copy(julia), copy.deepcopy(julia), pickle.loads(pickle.dumps(julia))):
        assert np.array_equal(clone.over(region), before)
        assert clone.dtype == np.float32 and clone.threads == 1
    assert pickle.loads(pickle.dumps(region)) == region == copy.deepcopy(region)
    assert hash(region) == hash(hl.ComplexRegion(-1.0, 1.0, -0.5, 0.5))


def test_ctrl_c_stops_a_long_render_quickly_and_gil_is_released() -> None:
    # inside the set every pixel runs to itermax: minutes of work
    julia = hl.JuliaDiv(0j, 2.0, (0, 2**32 - 1), 64, threads=2)
    region = hl.ComplexRegion(-0.1, 0.1, -0.1, 0.1)
    ticks = 0
    stop = threading.Event()

    def spin() -> None:
        nonlocal ticks
        while not stop.is_set():
            ticks += 1
            time.sleep(0.001)

    spinner = threading.Thread(target=spin)
    spinner.start()
    try:
        with interrupt_after(0.3) as fired, pytest.raises(KeyboardInterrupt):
            julia.over(region)
        answered = time.perf_counter()
    finally:
        stop.set()
        spinner.join()
    assert fired and answered - fired[0] < 0.1 + 0.15  # 0.1 s, with slack for a loaded box
    assert ticks > 50  # the other thread ran during the render


def test_progress_reaches_the_total() -> None:
    calls: list[tuple[int, int]] = []
    hl.JuliaDiv(C_0, 2.0, (0, 100), 300).over(
        hl.ComplexRegion(-1, 1, -1, 1), progress=lambda d, t: calls.append((d, t))
    )
    assert calls and calls[-1] == (300 * 300, 300 * 300)


def test_repeated_calls_do_not_leak() -> None:
    import resource

    region = hl.ComplexRegion(-1, 1, -1, 1)
    julia = hl.JuliaDiv(C_0, 2.0, (0, 30), 200)
    for _ in range(20):
        julia.over(region)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    for _ in range(300):
        julia.over(region)
        hl.divergence(np.ones(1000, complex), C_0, 2.0, 10)
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    assert after - before < 20_000  # KiB


def test_to_picture_is_the_documents_uint8_flip() -> None:
    img = hl.JuliaDiv(C_0, 2.0, (5, 80), 123).over(hl.ComplexRegion(-1.6, 1.6, -1, 1))
    want = (img.T[::-1] * 255).astype(np.uint8)
    assert np.array_equal(hl.to_picture(img), want)
    assert np.array_equal(hl.to_picture(img.astype(np.float32)),
                          (img.astype(np.float32).T[::-1] * 255).astype(np.uint8))
    for dtype in (">f8", ">f4"):  # either byte order, as divergence() takes
        assert np.array_equal(hl.to_picture(img.astype(dtype)),
                              hl.to_picture(img.astype(dtype[1:])))
    with pytest.raises(TypeError, match="values"):
        hl.to_picture(img.astype(np.float16))
    # values outside [0, 1] saturate, as documented: NaN and below 0 give 0, above 1 give 255
    odd = np.array([[-1.0, -1e-300, np.nan, -np.inf, 1.0, 1.5, np.inf, 0.5]])
    assert hl.to_picture(odd)[::-1, 0].tolist() == [0, 0, 0, 0, 255, 255, 255, 127]


def test_picture_of_a_float32_juliadiv_is_the_exact_float64_one() -> None:
    region = hl.ComplexRegion(-1.6, 1.6, -1, 1)
    for smooth in (False, True):
        f32 = hl.JuliaDiv(C_0, 2.0, (5, 80), 300, dtype=np.float32, smooth=smooth)
        f64 = hl.JuliaDiv(C_0, 2.0, (5, 80), 300, smooth=smooth)
        assert np.array_equal(f32.picture(region), hl.to_picture(f64.over(region)))


@pytest.mark.parametrize("simd", LEVELS)
def test_picture_is_over_then_to_picture_in_one_pass(simd: str) -> None:
    for region, c, thr, its, res in CASES:
        for smooth in (False, True):
            julia = hl.JuliaDiv(c, thr, its, res, simd=simd, threads=2, smooth=smooth)
            want = hl.to_picture(julia.over(hl.ComplexRegion(*region)))
            got = julia.picture(hl.ComplexRegion(*region))
            assert got.dtype == np.uint8 and np.array_equal(got, want), (region, smooth)
    big = hl.JuliaDiv(C_0, 2.0, (0, 70000), 64, simd=simd)  # no lookup table
    region = hl.ComplexRegion(-1.6, 1.6, -1, 1)
    assert np.array_equal(big.picture(region), hl.to_picture(big.over(region)))


@pytest.mark.parametrize("simd", LEVELS)
def test_mandelbrot_picture_is_mandelbrot_then_to_picture_in_one_pass(simd: str) -> None:
    cases = [((-2.2, 0.8, -1.2, 1.2), 2.0, (0, 100), 210),
             ((0.45, -0.3, 0.9, -0.1), 1.5, (7, 60), 97),  # mirrored both ways, not square
             ((-0.75, -0.74, 0.1, 0.1001), 10.0, (3, 300), 64)]  # a thin strip
    for region, thr, its, res in cases:
        for smooth in (False, True):
            plane = hl.ComplexRegion(*region)
            want = hl.to_picture(hl.mandelbrot(plane, thr, its, res, smooth=smooth, simd=simd))
            got = hl.mandelbrot_picture(plane, thr, its, res, smooth=smooth, simd=simd,
                                        threads=2)
            assert got.dtype == np.uint8 and np.array_equal(got, want), (region, smooth)
    with pytest.raises(ValueError, match="smooth"):
        hl.mandelbrot_picture(hl.ComplexRegion(-2, 1, -1, 1), 0.5, smooth=True)
    with pytest.raises(ValueError, match="n_iterations"):
        hl.mandelbrot_picture(hl.ComplexRegion(-2, 1, -1, 1), 2.0, (5, 5))


# ---- the CLI -----------------------------------------------------------------------------

def test_cli_writes_the_documents_picture(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "zoom.png"
    assert cli_main(["julia", "-x=-0.1", "-X=0.1", "-y=-0.1", "-Y=0.1", "-m=20", "-M=100",
                     "-R=300", "-o", str(out)]) == 0
    want = ref.JuliaDiv(C_0, 2.0, (20, 100), 300).over(ref.ComplexRegion(-0.1, 0.1, -0.1, 0.1))
    pic = np.asarray(Image.open(out))
    assert pic.shape == (300, 300) and pic.dtype == np.uint8
    assert np.array_equal(pic, (want.T[::-1] * 255).astype(np.uint8))
    fast = tmp_path / "fast.png"
    assert cli_main(["julia", "-R", "300", "--fast", "-o", str(fast), "--quiet"]) == 0
    defaults = ref.JuliaDiv(C_0, 2.0, (5, 80), 300).over(ref.ComplexRegion(-1.6, 1.6, -1, 1))
    assert np.array_equal(np.asarray(Image.open(fast)),
                          (defaults.T[::-1] * 255).astype(np.uint8))
    assert "300 x 300" in capsys.readouterr().err


def test_cli_quiet_draws_no_progress_bar_on_a_terminal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--quiet prints nothing on success: no progress bar either, also on a terminal."""
    import sys

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr("hotloop.cli.julia.PROGRESS_PIXELS", 1)  # every render has a bar
    monkeypatch.setitem(sys.modules, "tqdm", None)  # the plain bar: drawn by the calls only
    for quiet, drawn in ((False, True), (True, False)):
        terminal = Terminal()
        monkeypatch.setattr(sys, "stderr", terminal)
        args = ["julia", "-R", "200", "-o", str(tmp_path / "q.png")]
        assert cli_main(args + ["--quiet"] * quiet) == 0
        text = terminal.getvalue()
        assert ("julia [" in text) == drawn and (text == "") == quiet, (quiet, text)


def test_cli_out_of_memory_gives_width_x_height_as_the_success_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli_main(["julia", "-R", "100000000", "-o", str(tmp_path / "b.png")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "-R/--resolution 100000000: an image of 100000000 x 62500000 " \
        "pixels" in err[0], err
    assert cli_main(["julia", "-R", "160", "-o", str(tmp_path / "s.png")]) == 0
    assert "s.png: 160 x 100 pixels" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == [tmp_path / "s.png"]


@pytest.mark.parametrize(
    ("flag", "value", "words"),
    [("-M", "9" * 5000, "4300 digits, got '999999999999...999999999999' (5000 characters)"),
     ("-m", "-" + "9" * 5000, "4300 digits, got '-99999999999...999999999999' (5001 characters)"),
     ("-M", "1_000_000_000_0", "0..4294967295, got 10000000000"),
     ("-M", "4294967296", "0..4294967295, got 4294967296"),
     ("-m", "-1", "0..4294967295, got -1"),
     ("-M", "x" + "9" * 5000, "expected an integer, got 'x99999999999...999999999999'")],
)
def test_cli_iteration_counts_out_of_range_are_named_briefly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], flag: str, value: str, words: str
) -> None:
    """Beyond 4300 digits int() refuses the text: it is still an integer, too large, and the
    message quotes it shortened rather than all its digits."""
    err = _cli_usage_error(tmp_path, capsys, [f"{flag}={value}"])
    assert "expected an integer" in err and words in err, err
    assert "9" * 30 not in err and len(err) < 1000


def test_cli_takes_negative_numbers_with_exponents_as_values(tmp_path: Path) -> None:
    """Python 3.11's argparse took "-1e-1" for an option ("expected one argument")."""
    spaced, joined = tmp_path / "spaced.png", tmp_path / "joined.png"
    assert cli_main(["julia", "-x", "-1e-1", "-X", "1E-1", "-y", "-1.E-1", "-Y", "0.1", "-r",
                     "-8.35e-1", "-i", "-.2321", "-R", "60", "-o", str(spaced), "--quiet"]) == 0
    assert cli_main(["julia", "-x=-0.1", "-X=0.1", "-y=-0.1", "-Y=0.1", "-r=-0.835",
                     "-i=-0.2321", "-R=60", "-o", str(joined), "--quiet"]) == 0
    assert spaced.read_bytes() == joined.read_bytes()


def test_cli_colormap_smooth_mandelbrot(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    out = tmp_path / "c.png"
    assert cli_main(["julia", "-R", "120", "--cmap", "viridis", "--smooth", "-o", str(out),
                     "--quiet"]) == 0
    assert np.asarray(Image.open(out)).shape == (75, 120, 3)
    assert cli_main(["julia", "-R", "90", "--mandelbrot", "-x", "-2", "-X", "1", "-o",
                     str(out), "--quiet"]) == 0
    assert np.array_equal(np.asarray(Image.open(out)), hl.to_picture(hl.mandelbrot(
        hl.ComplexRegion(-2, 1, -1, 1), 2.0, (5, 80), 90)))
    with pytest.raises(SystemExit) as info:  # a usage error: exit 2
        cli_cmap_error(tmp_path)
    assert info.value.code == 2
    # checked before the output path: a usage error even where -o could not be written
    with pytest.raises(SystemExit) as info:
        cli_cmap_error(tmp_path, "no-such-dir/x.png")
    assert info.value.code == 2


def test_cli_reversed_grays_go_through_matplotlib(tmp_path: Path) -> None:
    """Only gray/grey are the document's ramp; Greys_r differs from it by up to 29 levels."""
    matplotlib = pytest.importorskip("matplotlib")
    out = tmp_path / "g.png"
    assert cli_main(["julia", "-R", "60", "--cmap", "Greys_r", "-o", str(out), "--quiet"]) == 0
    rgb = np.asarray(Image.open(out))
    levels = hl.JuliaDiv(-0.835 - 0.2321j, 2.0, (5, 80), 60).picture(
        hl.ComplexRegion(-1.6, 1.6, -1.0, 1.0))
    lut = matplotlib.colormaps["Greys_r"](np.arange(256), bytes=True)[:, :3]
    assert rgb.shape == (*levels.shape, 3) and np.array_equal(rgb, lut[levels])


def test_juliadiv_repr_shows_the_options_given() -> None:
    assert repr(hl.JuliaDiv(0.5j, 2.0, (5, 80), 100)) == "JuliaDiv(0.5j, 2.0, (5, 80), 100)"
    assert repr(hl.JuliaDiv(0.5j, 3, (0, 9), 7, threads=2, smooth=True, dtype=np.float32,
                            simd="scalar")) == (
        "JuliaDiv(0.5j, 3.0, (0, 9), 7, threads=2, smooth=True, simd='scalar', "
        "dtype=np.float32)")


def cli_cmap_error(tmp_path: Path, output: str = "x.png") -> None:
    """Runs the CLI with an unknown colormap (it raises SystemExit: a usage error)."""
    cli_main(["julia", "-R", "10", "--cmap", "no-such-map", "-o", str(tmp_path / output)])


def _cli_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                     args: list[str]) -> str:
    """Runs ``hotloop julia ARGS -o tmp_path/bad.png``, checks it exits 2; returns stderr."""
    with pytest.raises(SystemExit) as info:
        cli_main(["julia", *args, "-o", str(tmp_path / "bad.png")])
    assert info.value.code == 2
    return capsys.readouterr().err


@pytest.mark.parametrize(
    "args",
    [["-R", "0"], ["-R", "abc"], ["-x", "nan"], ["-t", "inf"], ["-m", "-1"],
     ["-m", "80", "-M", "80"], ["-x", "1", "-X", "1"], ["-t", "0"], ["-M", "9e99"],
     ["-R", "-5"], ["-r", "1e999"], ["-x", "-nan"], ["-r", "-1e999"], ["-t", "-1e-3"]],
)
def test_cli_bad_numbers_exit_2_with_usage(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str]
) -> None:
    out = tmp_path / "bad.png"
    err = _cli_usage_error(tmp_path, capsys, args)
    assert "usage:" in err
    if args[0] == "-R" and args[1] != "abc":
        assert "expected an integer >= 1" in err  # not ">= 0": 1 is the least resolution
    assert not out.exists()


@pytest.mark.parametrize(
    ("args", "words"),
    [(["-t", "0"], "argument -t/--threshold: expected a number > 0, got '0'"),
     (["-t", "-1e-3"], "argument -t/--threshold: expected a number > 0, got '-1e-3'"),
     (["-t", "1e-400"], "argument -t/--threshold: expected a number > 0, got '1e-400' (0 as a "
                        "double)"),
     (["-t", "nan"], "argument -t/--threshold: expected a finite number, got 'nan'"),
     (["-t", "inf"], "argument -t/--threshold: expected a finite number, got 'inf'"),
     (["-m", "100", "-M", "10"], "arguments -m/--itermin and -M/--itermax: expected itermin < "
                                 "itermax, got 100 and 10"),
     (["-m", "80"], "arguments -m/--itermin and -M/--itermax: expected itermin < itermax, got "
                    "80 and 80"),  # -M's default
     (["-x", "1", "-X", "1"], "arguments -x/--xleft and -X/--xright: expected different "
                              "bounds, got 1.0 and 1.0"),
     (["-y", "0", "-Y", "0"], "arguments -y/--ybottom and -Y/--ytop: expected different bounds"),
     (["-x=-1e308", "-X", "1e308"], "arguments -x/--xleft and -X/--xright: the span from "
                                    "-1e+308 to 1e+308 is beyond the float range"),
     (["-y=-1e308", "-Y", "1e308"], "arguments -y/--ybottom and -Y/--ytop: the span"),
     (["-x", "nan"], "argument -x/--xleft: expected a finite number, got 'nan'"),
     (["-X=-inf"], "argument -X/--xright: expected a finite number, got '-inf'"),
     (["-y", "inf"], "argument -y/--ybottom: expected a finite number"),
     (["-Y", "nan"], "argument -Y/--ytop: expected a finite number"),
     (["-r", "1e999"], "argument -r/--real: expected a finite number"),
     (["-i=nan"], "argument -i/--imag: expected a finite number"),
     (["-t", "1", "--smooth"], "argument --smooth: needs -t/--threshold > 1, got 1.0"),
     (["--mandelbrot", "--smooth", "-t", "0.5"], "argument --smooth: needs -t/--threshold > 1"),
     (["--mandelbrot", "-r", "0.1"], "argument -r/--real: not used with --mandelbrot"),
     (["--mandelbrot", "-i=-0.1"], "argument -i/--imag: not used with --mandelbrot"),
     (["-R", "0"], "argument -R/--resolution: expected an integer >= 1, got 0"),
     (["-R", "1"], "argument -R/--resolution: 1 gives this region an image of 0 rows"),
     (["-R", str(2**31)], "argument -R/--resolution: expected at most 2147483647 (a PNG's "
                          "columns), got 2147483648"),
     (["-x", "0", "-X", "1e-300", "-y", "0", "-Y", "1e300"],
      "argument -R/--resolution: 500 gives this region an image whose ny"),
     (["--threads", "-1"], "argument --threads: expected an integer >= 0, got -1")],
)
def test_cli_usage_errors_name_the_flags_typed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], words: str
) -> None:
    """One line after the usage, naming the flags (the API's argument names, such as
    "threshold:" or "n_iterations:", mean nothing to the command's user)."""
    err = _cli_usage_error(tmp_path, capsys, args).strip().splitlines()
    assert err[0].startswith("usage:") and err[-1].startswith("hotloop julia: error: "), err
    assert words in err[-1], err[-1]
    line = err[-1].removeprefix("hotloop julia: error: ")
    assert line.startswith("argument"), line
    # not the API's names, which flags such as --threshold contain
    assert not re.search(r"(?<!-)\b(n_iterations|threshold:|smooth:|resolution:|[xy] span:)",
                         line), line
    assert list(tmp_path.iterdir()) == []


def test_cli_runtime_errors_name_the_flags_and_exit_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    out = str(tmp_path / "x.png")
    for extra in ([], ["--mandelbrot"]):  # the Julia picture, or the Mandelbrot one
        assert cli_main(["julia", "-R", "100000000", "-o", out, *extra]) == 1
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith(
            "hotloop julia: error: -R/--resolution 100000000: an image of 100000000 x 62500000 "
            "pixels needs "), err
        assert err[0].endswith(" GiB)"), err  # how much is usable
    monkeypatch.setenv("HOTLOOP_NUM_THREADS", "many")  # not a flag: a runtime error
    assert cli_main(["julia", "-R", "20", "-o", out]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "HOTLOOP_NUM_THREADS='many'" in err[0], err
    monkeypatch.delenv("HOTLOOP_NUM_THREADS")
    if importlib.util.find_spec("matplotlib") is not None:
        # a usage error, named: exit 2 with the usage line
        with pytest.raises(SystemExit) as info:
            cli_main(["julia", "-R", "20", "--cmap", "", "-o", out])
        assert info.value.code == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert err[0].startswith("usage: hotloop julia"), err
        assert err[-1] == ("hotloop julia: error: argument --cmap '': unknown colormap; "
                           "expected gray or a matplotlib colormap name such as viridis or "
                           "magma"), err
    assert list(tmp_path.iterdir()) == []


def test_cli_mirrored_bounds_mirror_the_picture_as_the_api_does(tmp_path: Path) -> None:
    """-x 1 -X -1 is kept, as ComplexRegion allows reversed bounds: the API's picture."""
    out = tmp_path / "m.png"
    assert cli_main(["julia", "-x", "1", "-X=-1", "-y", "1", "-Y=-1", "-r", "0.3", "-i", "0.5",
                     "-R", "64", "-o", str(out), "--quiet"]) == 0
    want = hl.JuliaDiv(0.3 + 0.5j, 2.0, (5, 80), 64).picture(hl.ComplexRegion(1, -1, 1, -1))
    assert np.array_equal(np.asarray(Image.open(out)), want)


@pytest.mark.parametrize(
    "args",
    [["-R", "1"],  # ny = int(1 * 2 / 3.2) = 0
     ["-y", "0", "-Y", "1e-9"],  # ny = int(500 * 1e-9 / 3.2) = 0
     ["-x", "0", "-X", "1e-300", "-y", "0", "-Y", "1e300"],  # ny's formula overflows
     ["-R", str(2**31), "-y", "0", "-Y", "1.5e-9", "-x", "0", "-X", "1"],  # 2^31 x 3: too wide
     ["-R", str(2**62 + 1)]],  # beyond the API's own limit (a MemoryError there)
)
def test_cli_sizes_without_a_png_exit_2_naming_the_resolution(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str]
) -> None:
    err = _cli_usage_error(tmp_path, capsys, args)
    assert "usage:" in err and "resolution" in err and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []


def test_cli_colormap_without_matplotlib_falls_back_to_gray(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib -> ImportError
    out, gray = tmp_path / "c.png", tmp_path / "g.png"
    assert cli_main(["julia", "-R", "120", "--cmap", "magma", "-o", str(out), "--quiet"]) == 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "warning" in err[0] and "matplotlib" in err[0], err
    assert cli_main(["julia", "-R", "120", "-o", str(gray), "--quiet"]) == 0
    assert np.array_equal(np.asarray(Image.open(out)), np.asarray(Image.open(gray)))
    assert np.asarray(Image.open(out)).shape == (75, 120)


def test_cli_bad_output_fails_before_the_work_naming_the_output(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_render(*args: object, **kwargs: object) -> None:
        raise AssertionError("rendered before checking the output path")

    monkeypatch.setattr(hl.JuliaDiv, "picture", no_render)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "somedir").mkdir()
    (tmp_path / "afile").write_text("x")
    for output, words in [
        ("somedir", "somedir: is a directory"),
        ("", "output file name is empty"),
        ("afile/x.png", "afile/x.png: afile is not a directory"),
        ("missing/x.png", "directory missing does not exist"),
        ("new/", "cannot end with /"),
    ]:
        assert cli_main(["julia", "-R", "20", "-o", output]) == 1, output
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and words in err[0] and ".tmp" not in err[0], (output, err)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile", "somedir"]
    assert list((tmp_path / "somedir").iterdir()) == []


def test_cli_unwritable_output_exits_1_without_a_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "missing" / "x.png"
    assert cli_main(["julia", "-R", "20", "-o", str(target)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "error" in err[0]
    assert not target.exists() and not target.parent.exists()
    # the output names an existing directory: the rename fails, nothing is left behind
    taken = tmp_path / "taken.png"
    taken.mkdir()
    assert cli_main(["julia", "-R", "20", "-o", str(taken)]) == 1
    assert taken.is_dir() and list(taken.iterdir()) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["taken.png"]
    if os.geteuid() != 0:  # root writes anywhere
        ro = tmp_path / "ro"
        ro.mkdir()
        ro.chmod(0o500)
        try:
            assert cli_main(["julia", "-R", "20", "-o", str(ro / "x.png")]) == 1
            assert list(ro.iterdir()) == []
        finally:
            ro.chmod(0o700)


def test_png_writer_round_trips_gray_and_rgb() -> None:
    from hotloop.cli.julia import png_parts

    for empty in [(0, 5), (5, 0), (0, 0, 3)]:  # no such PNG: a clear error, not memoryview's
        with pytest.raises(ValueError, match="1 to 2147483647 rows and columns"):
            b"".join(png_parts(np.zeros(empty, np.uint8), 6))
    for huge in [(1, 2**31), (2**31, 1)]:  # IHDR's limit, checked before any band is made
        with pytest.raises(ValueError, match=f"got {huge[0]} x {huge[1]}"):
            next(iter(png_parts(np.broadcast_to(np.uint8(0), huge), 6)))
    for bad, lut, what in [(np.zeros((3, 4, 4), np.uint8), None, "picture"),
                           (np.zeros((3, 4), np.float64), None, "picture"),
                           (np.zeros((3, 4, 3), np.uint8), np.zeros((256, 3), np.uint8),
                            "picture"),
                           (np.zeros((3, 4), np.uint8), np.zeros((256, 3)), "lut"),
                           (np.zeros((3, 4), np.uint8), np.zeros((255, 3), np.uint8), "lut")]:
        with pytest.raises(ValueError, match=what):
            b"".join(png_parts(bad, 6, 1, lut))
    one = np.arange(12, dtype=np.uint8).reshape(3, 4, 1)  # a single channel is gray
    img = Image.open(io.BytesIO(b"".join(png_parts(one, 6))))
    assert img.mode == "L" and np.array_equal(np.asarray(img), one[:, :, 0])

    rng = np.random.default_rng(3)
    for shape in [(1, 1), (7, 300), (257, 13), (40, 30, 3)]:
        pic = rng.integers(0, 256, shape, dtype=np.uint8)
        for level, threads in [(1, 1), (6, 3), (0, 2)]:
            data = b"".join(png_parts(pic, level, threads))
            assert np.array_equal(np.asarray(Image.open(io.BytesIO(data))), pic)


@pytest.mark.parametrize("band_bytes", [1, 700, 5000, 1 << 20])  # a row a band .. one band
@pytest.mark.parametrize("threads", [1, 3])
def test_png_bands_and_colormap_round_trip(band_bytes: int, threads: int) -> None:
    from hotloop.cli.julia import png_parts

    rng = np.random.default_rng(band_bytes)
    levels = rng.integers(0, 256, (97, 61), dtype=np.uint8)
    levels[40:] = 7  # compressible rows too
    lut = rng.integers(0, 256, (256, 3), dtype=np.uint8)
    for table, want in ((None, levels), (lut, lut[levels])):
        data = b"".join(png_parts(levels, 6, threads, table, band_bytes=band_bytes))
        img = Image.open(io.BytesIO(data))
        assert img.mode == ("L" if table is None else "RGB")
        assert np.array_equal(np.asarray(img), want)


def test_adler32_of_a_concatenation() -> None:
    import zlib

    from hotloop.cli.julia import adler32_concat

    rng = np.random.default_rng(4)
    for la, lb in [(0, 0), (0, 5), (5, 0), (1, 1), (3000, 70000), (65521, 65522), (200000, 9)]:
        a = rng.integers(0, 256, la, dtype=np.uint8).tobytes()
        b = (rng.integers(250, 256, lb, dtype=np.uint8)).tobytes()  # big sums: the mod matters
        assert adler32_concat(zlib.adler32(a), zlib.adler32(b), lb) == zlib.adler32(a + b)


@pytest.mark.parametrize("threads", [1, 2])
def test_ctrl_c_stops_a_png_write_quickly_and_leaves_no_file(tmp_path: Path,
                                                             threads: int) -> None:
    from hotloop.cli.julia import write_png

    levels = np.random.default_rng(5).integers(0, 256, (3000, 3000), dtype=np.uint8)
    lut = np.random.default_rng(6).integers(0, 256, (256, 3), dtype=np.uint8)
    out = tmp_path / "big.png"  # noise through a colour table: seconds of zlib at level 6
    with interrupt_after(0.15) as fired, pytest.raises(KeyboardInterrupt):
        write_png(levels, str(out), fast=False, threads=threads, lut=lut)
        time.sleep(5)  # finished before the timer: fail below, not here
    answered = time.perf_counter()
    assert fired and answered - fired[0] < 0.1 + 0.15  # 0.1 s, with slack for a loaded box
    assert list(tmp_path.iterdir()) == []


# ---- benchmark and demo smoke runs -------------------------------------------------------

def test_bench_quick_workloads_run() -> None:
    from hotloop.bench.julia import workloads

    loads = workloads(quick=True)
    assert [w.kernel for w in loads] == ["julia"] * 3
    for w in loads:
        data = w.setup()
        for impl in w.impls:
            if impl.name.startswith("hotloop"):
                impl.fn(data)
        assert any(i.hotloop for i in w.impls)
    zoom = loads[0]
    assert zoom.work_units and zoom.work_units > 0
    assert len(zoom.targets) == 2 and zoom.extra_report is not None


def test_demo_runs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from hotloop.demo.julia import run

    run(tmp_path)
    text = capsys.readouterr().out
    assert "0 differing values" in text
    assert np.asarray(Image.open(tmp_path / "julia_zoom.png")).shape == (4000, 4000)
    assert np.asarray(Image.open(tmp_path / "julia_overview.png")).shape == (625, 1000)


@pytest.mark.parametrize("itermax", [37, 16, 33])
def test_escape_at_every_step_of_a_batch_on_the_threshold(itermax: int) -> None:
    # c = 0: |z_k| = |z_0|^(2^k), so |z_0| = 2^(2^-k) (a few ulp either way) reaches the
    # threshold circle at step k, for every k: lanes freeze at every position of the SIMD
    # kernels' batches (16 steps), in and out of the exact band, itermax not a multiple of 16.
    rng = np.random.default_rng(11)
    k = np.repeat(np.arange(1, itermax + 3), 64)
    r = 2.0 ** (2.0 ** -k.astype(np.float64))
    r = r * (1 + rng.integers(-6, 7, k.size) * 2.0**-52)
    z = r * np.exp(1j * rng.uniform(0, 2 * np.pi, k.size))
    rng.shuffle(z)
    want = _numpy_counts(z, 0j, 2.0, itermax)
    assert len(np.unique(want)) == itermax + 1  # every count, itermax included
    for simd in LEVELS:
        for threads in (1, 2):
            got = hl.divergence(z, 0j, 2.0, itermax, simd=simd, threads=threads)
            assert np.array_equal(got, want), (simd, threads)
    # a c with escapes spread over the whole range; itermin > 0, smooth; float32 unchanged
    box = (-1.7, 1.7, -1.1, 1.1)
    region = hl.ComplexRegion(*box)
    for its in [(7, itermax), (0, itermax)]:
        exact = _ref_over((box, C_0, 2.0, its, 203))
        smooth = hl.JuliaDiv(C_0, 2.0, its, 203, simd="scalar", smooth=True).over(region)
        f32 = hl.JuliaDiv(C_0, 2.0, its, 203, simd="scalar", dtype=np.float32).over(region)
        for simd in LEVELS:
            for threads in (1, 2):
                kw = {"simd": simd, "threads": threads}
                got = hl.JuliaDiv(C_0, 2.0, its, 203, **kw).over(region)
                assert np.array_equal(got, exact), (simd, threads, its)
                got = hl.JuliaDiv(C_0, 2.0, its, 203, smooth=True, **kw).over(region)
                assert np.array_equal(got, smooth), (simd, threads, its)
                got = hl.JuliaDiv(C_0, 2.0, its, 203, dtype=np.float32, **kw).over(region)
                assert np.array_equal(got, f32), (simd, threads, its)


# ---- the PNG writer on rows wider than a band -----------------------------------------------

def _idat_raw_pieces(data: bytes) -> list[bytes]:
    """The raw (filtered) bytes each IDAT chunk of a PNG adds to the decompressed stream, in
    order (the writer ends every band with a full flush, so each band's bytes come out whole);
    checks that the zlib stream ends exactly with the last chunk."""
    import struct
    import zlib

    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    inflate = zlib.decompressobj()
    pieces, at = [], 8
    while at < len(data):
        (size,), kind = struct.unpack(">I", data[at:at + 4]), data[at + 4:at + 8]
        if kind == b"IDAT":
            pieces.append(inflate.decompress(data[at + 8:at + 8 + size]))
        at += 12 + size
    assert inflate.eof and not inflate.unused_data
    return pieces


@pytest.mark.parametrize("threads", [1, 3])
@pytest.mark.parametrize("level", [1, 6])
def test_png_rows_wider_than_a_band_are_split_into_pieces(level: int, threads: int) -> None:
    # a band is at most band_bytes of the raw stream, a piece of a row when the row is wider
    # (before: a whole row per band, 1001 to 2101 bytes here, 2 GiB for -R 2147483647)
    from hotloop.cli.julia import png_parts

    rng = np.random.default_rng(level * 10 + threads)
    lut = rng.integers(0, 256, (256, 3), dtype=np.uint8)
    gray = rng.integers(0, 256, (5, 1000), dtype=np.uint8)
    gray[3:] = 9  # compressible rows too
    levels = rng.integers(0, 256, (3, 700), dtype=np.uint8)
    rgb = rng.integers(0, 256, (4, 333, 3), dtype=np.uint8)
    flipped = rng.integers(0, 256, (6, 2000), dtype=np.uint8)[::-1, ::3]  # a strided view
    cases = [(gray, None, gray), (levels, lut, lut[levels]), (rgb, None, rgb),
             (flipped, lut, lut[flipped])]
    for band_bytes in [64, 100, 1, 4]:  # pieces across RGB pixels; one pixel a band
        for picture, table, want in cases:
            data = b"".join(png_parts(picture, level, threads, table, band_bytes=band_bytes))
            img = Image.open(io.BytesIO(data))
            assert img.mode == ("L" if want.ndim == 2 else "RGB")
            assert np.array_equal(np.asarray(img), want), (band_bytes, want.shape)
            pieces = _idat_raw_pieces(data)
            channels = 1 if want.ndim == 2 else 3
            limit = max(band_bytes, 1 + channels)  # a band holds one pixel at least
            assert max(len(p) for p in pieces) <= limit, (band_bytes, want.shape)
            stream = np.zeros((want.shape[0], 1 + want.shape[1] * channels), np.uint8)
            stream[:, 1:] = want.reshape(want.shape[0], -1)  # filter byte 0, then the row
            assert b"".join(pieces) == stream.tobytes()
            assert len(pieces) == len(stream) * -(-want.shape[1] // max(
                1, (band_bytes - 1) // channels)) + 1  # + the Adler-32's chunk


@pytest.mark.parametrize("width, colormap", [(200_000, False), (70_000, True)])
def test_png_writer_memory_does_not_grow_with_the_width(width: int, colormap: bool) -> None:
    # the peak of traced allocations (NumPy's buffers, zlib's state, the bytes) while writing
    # 2 rows of ~200 KB in bands of 4 KiB, beside that of 2 rows that fit in a band: the
    # difference is noise, where it was a whole row (more through the lut) per band before
    import tracemalloc

    from hotloop.cli.julia import png_parts

    rng = np.random.default_rng(width)
    lut = rng.integers(0, 256, (256, 3), dtype=np.uint8) if colormap else None
    channels = 3 if colormap else 1
    narrow = rng.integers(0, 256, (2, 4000 // channels), dtype=np.uint8)
    wide = rng.integers(0, 256, (2, width), dtype=np.uint8)
    row = 1 + width * channels

    def peak(picture: np.ndarray) -> int:
        tracemalloc.start()
        try:
            for _part in png_parts(picture, 1, 1, lut, band_bytes=4096):
                pass  # each part dropped as written
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    peak(narrow)  # warm up: imports and caches out of the measure
    base, got = peak(narrow), peak(wide)
    assert got - base < row // 2, (got, base, row)


def test_divergence_refuses_masked_points() -> None:
    """NumPy would compute the values under the mask as if they were points."""
    z = np.ma.masked_array([1j, 0.1 + 0j, 0.2j], mask=[True, False, False])
    with pytest.raises(TypeError, match=r"z: masked values are not accepted \(1 masked, the "
                                        r"first z\[0\]"):
        hl.divergence(z, 0.3j)
    plain = np.ma.masked_array(z.data)
    np.testing.assert_array_equal(hl.divergence(plain, 0.3j), hl.divergence(z.data, 0.3j))
