"""Tests of hotloop.poisson: exact parity with the brute-force twin, invariances of the domains,
thread-count independence, quality floors, the rotation seam, bad input, Ctrl-C, the CLI and
the benchmark workloads."""

from __future__ import annotations

import itertools
import math
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import hotloop.poisson as pd
import hotloop.reference.poisson as ref
from tests._interrupt import interrupt_after


def unit_rows(rng: np.random.Generator, m: int, d: int) -> np.ndarray:
    x = rng.normal(size=(m, d))
    return x / np.linalg.norm(x, axis=1, keepdims=True)


# ---- exact parity with the twin ----------------------------------------------------------

CASES = [
    ("box", 1), ("box", 2), ("box", 3), ("box", 5), ("box", 8),
    ("periodic", 2), ("periodic", 3), ("sphere", 2), ("sphere", 3), ("rotations", 4),
]


@pytest.mark.parametrize(("domain", "d"), CASES)
@pytest.mark.parametrize("progressive", [False, True])
def test_matches_the_brute_force_twin(domain: str, d: int, progressive: bool) -> None:
    rng = np.random.default_rng(d * 7 + len(domain))
    m, n = 500, 90
    x = unit_rows(rng, m, d) if domain in ("sphere", "rotations") else rng.random((m, d))
    bounds = [(0.0, 1.0)] * d if domain == "periodic" else None
    got = pd.eliminate(x, n, domain=domain, bounds=bounds, progressive=progressive)
    want = ref.eliminate(x, n, domain=domain, bounds=bounds, progressive=progressive)
    assert got.dtype == np.int64 and got.shape == (n,)
    np.testing.assert_array_equal(got, want)
    assert len(set(got.tolist())) == n


@pytest.mark.parametrize(("domain", "d", "n"), [
    ("box", 3, 500), ("periodic", 2, 500), ("rotations", 4, 100), ("sphere", 3, 300),
])
def test_parity_across_several_chunks(domain: str, d: int, n: int) -> None:
    """More points than one chunk of neighbour lists (1024): pairs within a chunk are evaluated
    once and shared, pairs across chunks twice; both must agree with the twin."""
    rng = np.random.default_rng(d + n)
    m = 2600
    x = unit_rows(rng, m, d) if domain in ("sphere", "rotations") else rng.random((m, d))
    bounds = [(0.0, 1.0)] * d if domain == "periodic" else None
    np.testing.assert_array_equal(
        pd.eliminate(x, n, domain=domain, bounds=bounds, threads=2),
        ref.eliminate(x, n, domain=domain, bounds=bounds))


@pytest.mark.parametrize("kwargs", [
    {}, {"weight_limiting": False}, {"alpha": 3.5}, {"alpha": 8.0, "beta": 0.0},
    {"r_max": 0.05, "gamma": 2.5}, {"progressive": True, "alpha": 2.0},
])
def test_parity_with_ties_and_duplicates(kwargs: dict[str, object]) -> None:
    rng = np.random.default_rng(5)
    x = np.round(rng.random((400, 2)) * 8) / 8  # a lattice: equal distances, many duplicates
    x[::7] = x[3::7][0]
    np.testing.assert_array_equal(pd.eliminate(x, 70, **kwargs), ref.eliminate(x, 70, **kwargs))


def _either(call: object) -> object:
    try:
        return call()  # type: ignore[operator]
    except ValueError as exc:
        return type(exc)


# Everything of a parity case but its size (the two parity tests below differ in m only).
_PARITY_CASE = {
    "frac": st.floats(0.01, 0.99),
    "d": st.integers(1, 4),
    "grid": st.sampled_from([0, 4, 16]),
    "seed": st.integers(0, 2**32 - 1),
    "progressive": st.booleans(),
    "domain": st.sampled_from(["box", "periodic", "sphere", "rotations"]),
}


@settings(max_examples=40, deadline=None)
@given(m=st.integers(3, 120), **_PARITY_CASE)
def test_parity_property(  # noqa: PLR0917 (hypothesis passes keywords)
    m: int, frac: float, d: int, grid: int, seed: int, progressive: bool, domain: str
) -> None:
    """Any small input, on any domain (duplicates, lattices, antipodal pairs included): the C
    kernel and the twin give the same indices, or both refuse. Up to 256 points the kernel
    takes its dense path (all pairs, no tree)."""
    _check_parity_case(m, frac, d, grid, seed, progressive, domain)


@settings(max_examples=12, deadline=None)
@given(m=st.integers(257, 420), **_PARITY_CASE)
def test_parity_property_tree_path(  # noqa: PLR0917 (hypothesis passes keywords)
    m: int, frac: float, d: int, grid: int, seed: int, progressive: bool, domain: str
) -> None:
    """As above just past the dense path's 256 points: the kd-tree, the neighbour lists and the
    blocked heap on the same kinds of inputs (progressive levels fall back to the dense path)."""
    _check_parity_case(m, frac, d, grid, seed, progressive, domain)


def _check_parity_case(  # noqa: PLR0917
    m: int, frac: float, d: int, grid: int, seed: int, progressive: bool, domain: str
) -> None:
    rng = np.random.default_rng(seed)
    bounds = None
    if domain in ("sphere", "rotations"):
        d = 4 if domain == "rotations" else d + 1
        x = unit_rows(rng, m, d)
        if grid:
            x[m // 2:] = -x[: m - m // 2] if domain == "rotations" else x[: m - m // 2]
    else:
        x = rng.random((m, d))
        if grid:
            x = np.round(x * grid) / grid
        x[0] = 0.0
        x[-1] = 1.0
        if domain == "periodic":
            bounds = [(0.0, 1.0)] * d
    n = min(m - 1, max(1, int(frac * m)))
    got = _either(lambda: pd.eliminate(x, n, domain=domain, bounds=bounds,
                                       progressive=progressive))
    want = _either(lambda: ref.eliminate(x, n, domain=domain, bounds=bounds,
                                         progressive=progressive))
    if isinstance(got, np.ndarray):
        assert isinstance(want, np.ndarray)
        np.testing.assert_array_equal(got, want)
    else:
        assert got is want


def test_nn_distances_match_the_twin() -> None:
    rng = np.random.default_rng(3)
    for domain, x, bounds in [
        ("box", rng.random((300, 3)), None),
        ("periodic", rng.random((300, 2)), [(0, 1), (0, 1)]),
        ("rotations", unit_rows(rng, 300, 4), None),
        ("sphere", unit_rows(rng, 300, 3), None),
    ]:
        got = pd.nn_distances(x, domain=domain, bounds=bounds)
        want = ref.nn_distances(x, domain=domain, bounds=bounds)
        np.testing.assert_array_equal(got, want)


# ---- invariances, threads, determinism -----------------------------------------------------

def test_thread_counts_give_identical_output() -> None:
    rng = np.random.default_rng(11)
    x = rng.random((30000, 2))
    base = pd.eliminate(x, 6000, threads=1)
    for t in (2, 3, 8):
        np.testing.assert_array_equal(pd.eliminate(x, 6000, threads=t), base)
    prog = pd.eliminate(x, 6000, threads=1, progressive=True)
    np.testing.assert_array_equal(pd.eliminate(x, 6000, threads=3, progressive=True), prog)
    np.testing.assert_array_equal(np.sort(prog), base)


def test_sampling_is_reproducible_and_seeded() -> None:
    a = pd.sample(500, seed=42)
    np.testing.assert_array_equal(a, pd.sample(500, seed=42, threads=1))
    assert not np.array_equal(a, pd.sample(500, seed=43))
    pd.sample(50)
    seed = pd.last_seed()
    assert isinstance(seed, int)
    drawn = pd.sample(50, seed=None)
    np.testing.assert_array_equal(drawn, pd.sample(50, seed=pd.last_seed()))
    assert pd.last_seed() != seed


def test_periodic_result_is_invariant_under_translation_mod_box() -> None:
    rng = np.random.default_rng(8)
    x = np.floor(rng.random((4000, 2)) * 2**20) / 2**20  # dyadic: the shift is exact
    bounds = [(0.0, 1.0), (0.0, 1.0)]
    a = pd.eliminate(x, 800, domain="periodic", bounds=bounds)
    for shift in ([0.375, 0.0], [0.5, 0.8125]):
        y = np.mod(x + np.array(shift), 1.0)
        np.testing.assert_array_equal(pd.eliminate(y, 800, domain="periodic", bounds=bounds), a)


def test_rotations_are_invariant_under_sign_flips() -> None:
    rng = np.random.default_rng(9)
    q = unit_rows(rng, 3000, 4)
    a = pd.eliminate(q, 300, domain="rotations")
    flip = rng.random(3000) < 0.5
    q2 = np.where(flip[:, None], -q, q)
    np.testing.assert_array_equal(pd.eliminate(q2, 300, domain="rotations"), a)
    np.testing.assert_array_equal(pd.eliminate(q2, 300, domain="rotations", progressive=True),
                                  pd.eliminate(q, 300, domain="rotations", progressive=True))


def _frac_near_w0(n: int, a: float) -> float:
    """P(|w| < a) for uniform rotations: w has density (2/pi) sqrt(1 - w^2) on [-1, 1]."""
    return 2.0 / math.pi * (a * math.sqrt(1 - a * a) + math.asin(a))


def test_no_seam_at_w_zero() -> None:
    """A naive elimination of w >= 0 quaternions on the sphere keeps too many points near
    w = 0 (their neighbours across the seam are missed); the rotation domain does not.
    Bound: 4 binomial standard deviations of the uniform expectation (a Poisson disc set is
    more regular than a binomial sample, so the false-failure rate is below 1e-4); seeds fixed."""
    n, a = 4000, 0.1
    q = pd.sample_rotations(n, seed=2024)
    p = _frac_near_w0(n, a)
    count = int(np.sum(np.abs(q[:, 0]) < a))
    sigma = math.sqrt(n * p * (1 - p))
    assert abs(count - n * p) < 4 * sigma, (count, n * p)
    # the naive way shows the seam this test would catch
    rng = np.random.default_rng(7)
    cand = unit_rows(rng, 5 * n, 4)
    cand[cand[:, 0] < 0] *= -1
    naive = cand[pd.eliminate(cand, n, domain="sphere")]
    naive_count = int(np.sum(naive[:, 0] < a))
    assert naive_count > n * p + 4 * sigma, (naive_count, n * p)


# ---- quality -----------------------------------------------------------------------------

def test_quality_in_the_unit_square_and_cube() -> None:
    s2 = pd.radius_stats(pd.sample(20000, seed=1))
    assert s2["min_ratio"] >= 1.36 and s2["mean_ratio"] >= 1.57, s2
    s3 = pd.radius_stats(pd.sample(8000, [(0, 1)] * 3, seed=1), bounds=[(0, 1)] * 3)
    assert s3["min_ratio"] >= 1.3 and s3["mean_ratio"] >= 1.5, s3
    uniform = pd.radius_stats(np.random.default_rng(1).random((20000, 2)))
    assert uniform["min_ratio"] < 0.1  # the figure discriminates


def test_progressive_prefixes_meet_a_quality_floor() -> None:
    pts = pd.sample(4000, seed=5, progressive=True)
    for k in (2000, 1000, 500, 250, 125):
        s = pd.radius_stats(pts[:k], bounds=[(0, 1), (0, 1)])
        assert s["min_ratio"] >= 1.0 and s["mean_ratio"] >= 1.4, (k, s)


def test_periodic_and_sphere_samples() -> None:
    pts = pd.sample(3000, seed=3, domain="periodic")
    s = pd.radius_stats(pts, bounds=[(0, 1), (0, 1)], domain="periodic")
    assert s["min_ratio"] >= 1.36, s
    sph = pd.sample_sphere(2000, dim=3, seed=4)
    np.testing.assert_allclose(np.linalg.norm(sph, axis=1), 1.0, atol=1e-12)
    assert pd.radius_stats(sph, domain="sphere")["min_ratio"] >= 1.3
    rot = pd.sample(300, domain="rotations", seed=1)
    assert rot.shape == (300, 4)
    assert pd.radius_stats(rot, domain="rotations")["min_ratio"] >= 1.2


def test_sample_dimensions_one_to_eight() -> None:
    for d in range(1, 9):
        pts = pd.sample(300, [(0, 1)] * d, seed=d)
        assert pts.shape == (300, d)
        assert ((pts >= 0) & (pts <= 1)).all()


# ---- the limit on alpha (quantised weights must reach 0.7 d_max) -----------------------------

def test_an_alpha_whose_weights_truncate_is_refused() -> None:
    x = np.random.default_rng(6).random((1500, 2))
    with pytest.raises(ValueError, match=r"alpha: 64 is too large for weight_limiting=False.*"
                       r"beyond 0\.277 d_max.*alpha <= 17\.2"):
        pd.eliminate(x, 300, alpha=64.0, weight_limiting=False)
    with pytest.raises(ValueError, match=r"alpha: 64 is too large for weight_limiting=False"):
        ref.eliminate(x[:400], 80, alpha=64.0, weight_limiting=False)
    with pytest.raises(ValueError, match="alpha"):
        pd.sample(100, seed=1, alpha=32.0, weight_limiting=False)
    # Weight limiting allows alpha 64 on level 0 (d_min = 0.59 d_max); progressive levels keep
    # d_min and widen d_max, and the last of the 7 reaches least.
    assert pd.eliminate(x, 300, alpha=64.0).shape == (300,)
    pd.eliminate(x, 300, alpha=40.0)
    with pytest.raises(ValueError, match=r"n=300 of M=1500 .* at progressive level 7 of 7"):
        pd.eliminate(x, 300, alpha=40.0, progressive=True)
    with pytest.raises(ValueError, match="alpha"):
        ref.eliminate(x[:600], 120, alpha=40.0, progressive=True)
    # w(d_min) too small for the scale to be a double (it was an undefined cast in the core)
    with pytest.raises(ValueError, match=r"alpha: 1e\+06 .* below that range"):
        pd.eliminate(x, 300, alpha=1e6)


def test_the_alpha_limit_boundary_is_the_cores() -> None:
    """Without weight limiting x0 = 1 - 2^(-30/alpha) is 0.7 at alpha 17.27: 17.2 passes, 17.3
    does not, in Python and in the core itself (whose refusal is the binding's plain message).
    Random (d_min, alpha) pairs around the limit get the same verdict from both."""
    from hotloop import _core

    rng = np.random.default_rng(12)
    x = rng.random((300, 2))
    pd.eliminate(x, 60, alpha=17.2, weight_limiting=False)
    with pytest.raises(ValueError, match=r"alpha: 17\.3 is too large"):
        pd.eliminate(x, 60, alpha=17.3, weight_limiting=False)
    out = np.empty(60, dtype=np.int64)
    d_max, factor = 0.2, math.sqrt(2.0)

    def core_accepts(d_min: float, alpha: float, progressive: bool) -> bool:
        try:
            _core._poisson_eliminate(x, 60, out, 0, None, None, d_max, d_min, alpha,
                                     progressive, factor, 1)
        except ValueError:
            return False
        return True

    assert core_accepts(0.0, 17.2, False) and not core_accepts(0.0, 17.3, False)
    verdicts = set()
    for _ in range(60):
        x_min = float(rng.choice([0.0, rng.uniform(0.0, 0.95)]))
        alpha = pd._alpha_limit(x_min) * float(rng.uniform(0.97, 1.3))
        progressive = bool(rng.random() < 0.5)
        try:
            pd.check_alpha(alpha, m=300, n=60, d_max=d_max, d_min=x_min * d_max,
                           progressive=progressive, factor=factor, weight_limiting=True)
            ok = True
        except ValueError:
            ok = False
        assert core_accepts(x_min * d_max, alpha, progressive) == ok, (x_min, alpha, progressive)
        verdicts.add(ok)
    assert verdicts == {True, False}


def test_alpha_up_to_15_is_never_refused() -> None:
    """The claim that lets eliminate() skip the check: with alpha <= 15 a neighbour at 0.7 d_max
    contributes on any level, whatever d_min (x0 >= 1 - 2^(-30/15) = 0.75); and whole calls
    with the default alpha 8 in the settings that reach least pass."""
    x_mins = np.concatenate([np.linspace(0.0, 1.0, 401)[:-1], 1.0 - np.logspace(-16, -1, 40)])
    for alpha in np.concatenate([np.linspace(0.05, 15.0, 300), [8.0]]):
        for x_min in x_mins:
            assert pd._level_reaches(1.0, float(x_min), float(alpha)), (alpha, x_min)
    rng = np.random.default_rng(13)
    x = rng.random((3000, 3))
    for kwargs in [{"weight_limiting": False, "progressive": True}, {"beta": 0.0},
                   {"gamma": 0.01, "beta": 0.999, "progressive": True},
                   {"alpha": 15.0, "weight_limiting": False, "progressive": True}]:
        assert pd.eliminate(x, 2999, **kwargs).shape == (2999,)  # type: ignore[arg-type]
        assert pd.eliminate(x, 3, **kwargs).shape == (3,)  # type: ignore[arg-type]
    q = unit_rows(rng, 2000, 4)
    pd.eliminate(q, 1000, domain="rotations", progressive=True, weight_limiting=False)


# ---- bad input -------------------------------------------------------------------------

GOOD = np.random.default_rng(0).random((100, 2))


@pytest.mark.parametrize(("call", "exc", "word"), [
    (lambda: pd.eliminate(GOOD[:, 0], 10), ValueError, "points"),
    (lambda: pd.eliminate("abc", 10), TypeError, "points"),
    (lambda: pd.eliminate(GOOD.astype(complex), 10), TypeError, "points"),
    (lambda: pd.eliminate(GOOD > 0.5, 10), TypeError, "points"),
    (lambda: pd.eliminate(np.vstack([GOOD, [[np.nan, 0]]]), 10), ValueError, "points"),
    (lambda: pd.eliminate(np.vstack([GOOD, [[np.inf, 0]]]), 10), ValueError, "points"),
    (lambda: pd.eliminate(np.zeros((10, 9)), 3), ValueError, "dimension"),
    (lambda: pd.eliminate(GOOD, 0), ValueError, "n"),
    (lambda: pd.eliminate(GOOD, 100), ValueError, "n"),
    (lambda: pd.eliminate(GOOD, 2.5), TypeError, "n"),
    (lambda: pd.eliminate(GOOD, 10, bounds=[(0, 1), (1, 0)]), ValueError, "bounds"),
    (lambda: pd.eliminate(GOOD, 10, bounds=[(0, 1)]), ValueError, "bounds"),
    (lambda: pd.eliminate(GOOD, 10, bounds=[(0, 0.5), (0, 1)]), ValueError, "outside"),
    (lambda: pd.eliminate(GOOD, 10, domain="periodic", bounds=[(0, 0.5), (0, 1)]), ValueError,
     "outside"),
    (lambda: pd.eliminate(GOOD, 2, domain="periodic", bounds=[(0, 1), (0, 1)]), ValueError,
     "half"),
    (lambda: pd.eliminate(GOOD, 10, domain="periodic"), ValueError, "bounds: required"),
    (lambda: ref.eliminate(GOOD, 10, domain="periodic"), ValueError, "bounds: required"),
    (lambda: pd.radius_stats(GOOD, domain="periodic"), ValueError, "bounds: required"),
    (lambda: pd.eliminate(GOOD, 10, domain="torus"), ValueError, "domain"),
    (lambda: pd.eliminate(GOOD, 10, domain="rotations"), ValueError, "quaternions"),
    (lambda: pd.eliminate(np.ones((50, 4)), 10, domain="rotations"), ValueError, "unit"),
    (lambda: pd.eliminate(GOOD * 3, 10, domain="sphere"), ValueError, "unit"),
    (lambda: pd.eliminate(GOOD, 10, alpha=0), ValueError, "alpha"),
    (lambda: pd.eliminate(GOOD, 10, beta=1.0), ValueError, "beta"),
    (lambda: pd.eliminate(GOOD, 10, gamma=float("nan")), ValueError, "gamma"),
    (lambda: pd.eliminate(GOOD, 10, r_max=-1.0), ValueError, "r_max"),
    (lambda: pd.eliminate(GOOD, 10, threads=-1), ValueError, "threads"),
    (lambda: pd.eliminate(np.zeros((10, 2)), 3), ValueError, "bounds"),
    (lambda: pd.sample(0), ValueError, "n"),
    (lambda: pd.sample(10, oversample=1.0), ValueError, "oversample"),
    (lambda: pd.sample(10, seed=-1), ValueError, "seed"),
    (lambda: pd.sample(10, [(0, 1)] * 9), ValueError, "bounds"),
    (lambda: pd.sample(10, "x"), TypeError, "bounds"),
    (lambda: pd.sample(10, [(0, 1), (0, "a")]), TypeError, "bounds"),
    (lambda: pd.sample(10, [(0, 1), (0,)]), TypeError, "bounds"),
    (lambda: pd.sample(10, [(0, 5)] * 4, seed=1, domain="rotations"), ValueError, "bounds"),
    (lambda: pd.sample(10, [(0, 5)] * 3, seed=1, domain="sphere"), ValueError, "bounds"),
    (lambda: pd.sample_sphere(10, dim=1), ValueError, "dim"),
    (lambda: pd.radius_stats(GOOD[:1]), ValueError, "points"),
    (lambda: pd.eliminate(GOOD, 10, progressive="no"), TypeError, "progressive"),  # type: ignore[arg-type]
    (lambda: pd.eliminate(GOOD, 10, weight_limiting="no"), TypeError, "weight_limiting"),  # type: ignore[arg-type]
    (lambda: pd.eliminate(GOOD, 10, weight_limiting=1), TypeError, "weight_limiting"),
    (lambda: pd.eliminate(GOOD, 10, progress=5), TypeError, "progress"),  # type: ignore[arg-type]
    (lambda: pd.sample(10, progressive="no"), TypeError, "progressive"),  # type: ignore[arg-type]
    (lambda: pd.sample_rotations(10, progress=5), TypeError, "progress"),
    (lambda: pd.sample_sphere(10, weight_limiting=None), TypeError, "weight_limiting"),
    (lambda: ref.eliminate(GOOD, 10, progressive="no"), TypeError, "progressive"),  # type: ignore[arg-type]
    (lambda: pd.eliminate(GOOD, 10, domain="periodic", bounds=[(0, 1), (0, 1)], r_max=0.3),
     ValueError, "^r_max: d_max"),
    (lambda: ref.eliminate(GOOD, 10, domain="periodic", bounds=[(0, 1), (0, 1)], r_max=0.3),
     ValueError, "^r_max: d_max"),
    # numbers beyond any size or the doubles: named, not a bare OverflowError
    (lambda: pd.sample(2**63, seed=1), MemoryError, "2\\^53 candidates"),
    (lambda: pd.sample_rotations(2**70), MemoryError, "2\\^53 candidates"),
    (lambda: pd.sample_sphere(10, oversample=1e300), MemoryError, "oversample = 1e\\+300"),
    (lambda: pd.max_radius(2**70, 2, 1.0), ValueError, "^n: .* about 22 digits"),
    (lambda: pd.max_radius(10, 2, "1"), TypeError, "^measure"),
    (lambda: pd.max_radius(10, 2, 10**400), ValueError, "^measure: .* about 401 digits"),
    (lambda: pd.max_radius(10, 2, 10**5000), ValueError, "about 5001 digits"),  # no str()
    (lambda: pd.sample(10**5000, seed=1), MemoryError, "^sample: n = an integer of about 5001"),
    (lambda: pd.sample(10, [(0, 10**5000), (0, 1)]), ValueError, "^bounds: a value beyond"),
    (lambda: pd.sample(10, [(0, "a", 10**5000)]), TypeError, "^bounds: .* too large to print"),
    (lambda: pd.max_radius(10, 1000, 1.0), ValueError, "^dim"),  # was inf: V_k underflowed
    (lambda: pd.eliminate(np.full((10, 2), np.longdouble("1e400")), 3), ValueError,
     "row 0 has a coordinate beyond the float64 range"),
])
@pytest.mark.filterwarnings("error")  # the error alone, without NumPy's overflow warnings
def test_bad_input_names_the_argument(call: object, exc: type[Exception], word: str) -> None:
    with pytest.raises(exc, match=word):
        call()  # type: ignore[operator]


# Values NumPy would turn into numbers, which are not numbers: bounds of strings ("1" was a box
# of side 1 in 1-D, ['0', '1'] pairs the unit square), bools, complex numbers (their imaginary
# part dropped with a warning), dates (their day counts), None.
NOT_REAL_BOUNDS = [
    "1", b"1", "01", [("0", "1"), ("0", "1")], np.array([["0", "1"], ["0", "1"]]),
    np.array([[b"0", b"1"], [b"0", b"1"]]), True, np.bool_(True), np.array(True),
    [(False, True), (False, True)], [(0, True), (0, 1)], np.array([[False, True]] * 2),
    [(0j, 1 + 0j)] * 2, np.array([[0, 1], [0, 1]], dtype=complex),
    np.array([["2020-01-01", "2021-01-01"]] * 2, dtype="datetime64[D]"),
    np.array([[0, 1], [0, 1]], dtype="timedelta64[s]"), [(0, None), (0, 1)], {0: 1},
]


@pytest.mark.parametrize("bounds", NOT_REAL_BOUNDS, ids=lambda b: re.sub(r"\s+", " ", repr(b)))
@pytest.mark.filterwarnings("error")  # a ComplexWarning is not the error
def test_bounds_that_are_not_real_numbers_are_a_type_error(bounds: object) -> None:
    """Bounds are checked as the points are: real numbers only. Small calls (the binding's fast
    path) and large ones, every function that takes bounds."""
    rng = np.random.default_rng(3)
    small, large = rng.random((50, 2)), rng.random((2000, 2))
    calls = [
        lambda: pd.eliminate(small, 10, bounds=bounds),
        lambda: pd.eliminate(large, 300, bounds=bounds),
        lambda: pd.eliminate(large, 300, bounds=bounds, domain="periodic"),
        lambda: pd.eliminate(small[:, :1], 10, bounds=bounds),  # 1-D: one pair
        lambda: pd.sample(10, bounds, seed=1),
        lambda: pd.sample(10, bounds, seed=1, domain="periodic"),
        lambda: pd.radius_stats(small, bounds=bounds),
        lambda: pd.nn_distances(large, bounds=bounds),
        lambda: ref.eliminate(small, 10, bounds=bounds),
    ]
    for call in calls:
        with pytest.raises(TypeError, match=r"^bounds: expected d pairs \(lo, hi\) of real "
                                            r"numbers, got \S"):
            call()


@pytest.mark.filterwarnings("error")  # the error alone, without NumPy's overflow warnings
def test_bounds_of_any_real_number_type_are_taken() -> None:
    """Python ints (beyond int64 too), Fractions, Decimals, NumPy scalars and 0-d arrays, any
    integer or float dtype: the same box as floats; values beyond the doubles are named."""
    x = np.random.default_rng(4).random((60, 2)) * 2
    want = pd.eliminate(x, 12, bounds=[(0.0, 2.0)] * 2)
    for b in ([(Fraction(0), Fraction(2))] * 2, [(Decimal(0), Decimal("2.0"))] * 2,
              [(np.array(0.0), np.int64(2))] * 2, [(0, 2)] * 2,
              np.array([[0, 2]] * 2, dtype=np.uint8), np.array([[0, 2]] * 2, dtype=np.float32),
              np.array([[0, 2]] * 2, dtype=np.longdouble)):
        np.testing.assert_array_equal(pd.eliminate(x, 12, bounds=b), want)  # type: ignore[arg-type]
    np.testing.assert_array_equal(pd.sample(30, [(0, 2**70)], seed=1),
                                  pd.sample(30, [(0.0, 2.0**70)], seed=1))
    for b in ([(0, Decimal("1e400")), (0, 1)], [(0, Fraction(10**400, 3)), (0, 1)],
              np.array([[0, np.longdouble("1e400")], [0, 1]], dtype=np.longdouble),
              [(0, np.longdouble("1e400")), (0, 1)]):
        with pytest.raises(ValueError, match=r"^bounds: a value beyond the float range"):
            pd.sample(10, b, seed=1)


@pytest.mark.parametrize("kind", [Fraction, Decimal, np.array, np.float32, np.float64],
                         ids=lambda k: getattr(k, "__name__", str(k)))
@pytest.mark.filterwarnings("error")
def test_real_parameters_take_any_real_number_type(kind: object) -> None:
    """alpha, beta, gamma, r_max, oversample and max_radius's measure were refused as Fractions,
    Decimals and 0-d arrays ("expected a number, got Fraction"): they are numbers. Small and
    large calls give the floats' result."""
    conv = kind if kind is not np.array else (lambda text: np.array(float(text)))
    rng = np.random.default_rng(5)
    for x, n in ((rng.random((50, 2)), 10), (rng.random((2000, 2)), 300)):
        want = pd.eliminate(x, n, alpha=6.0, beta=0.5, gamma=2.0, r_max=0.0625)
        got = pd.eliminate(x, n, alpha=conv("6"), beta=conv("0.5"), gamma=conv("2"),  # type: ignore[operator]
                           r_max=conv("0.0625"))  # type: ignore[operator]
        np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(pd.sample(40, seed=1, oversample=conv("4")),  # type: ignore[operator]
                                  pd.sample(40, seed=1, oversample=4.0))
    assert pd.max_radius(10, 2, conv("2")) == pd.max_radius(10, 2, 2.0)  # type: ignore[operator]


@pytest.mark.parametrize("name", ["alpha", "beta", "gamma", "r_max", "oversample"])
@pytest.mark.parametrize("value", ["1", b"1", True, np.bool_(False), np.array(True),
                                   np.array("1"), 1 + 0j, np.complex128(1), [0.5],
                                   np.array([0.5])], ids=repr)
def test_real_parameters_refuse_what_is_not_a_real_number(name: str, value: object) -> None:
    rng = np.random.default_rng(6)
    calls = [lambda: pd.sample(10, seed=1, **{name: value}),
             lambda: pd.sample_rotations(10, seed=1, **{name: value})]
    if name != "oversample":
        calls += [lambda: pd.eliminate(rng.random((50, 2)), 10, **{name: value}),
                  lambda: pd.eliminate(rng.random((2000, 2)), 300, **{name: value})]
    for call in calls:
        with pytest.raises(TypeError, match=f"^{name}: expected a real number, got \\w"):
            call()
    with pytest.raises(TypeError, match=r"^measure: expected a real number"):
        pd.max_radius(10, 2, value)  # type: ignore[arg-type]


@pytest.mark.parametrize(("call", "exc", "message"), [
    # ints beyond 4300 digits: str() raises Python's own ValueError ("Exceeds the limit"),
    # which named no argument; beyond 64 bits the message counts the digits
    (lambda: pd.eliminate(GOOD[:50], 10**5000), ValueError,
     r"^n: expected 1 <= n < 50 \(the number of points\), got an integer of about 5001"),
    (lambda: pd.eliminate(np.random.default_rng(0).random((2000, 2)), -(10**5000)), ValueError,
     r"^n: expected 1 <= n < 2000 .*, got a negative integer of about 5001 digits"),
    (lambda: pd.eliminate(GOOD, 2**70), ValueError, r"^n: .* got an integer of about 22 digits"),
    (lambda: pd.sample(-(10**5000)), ValueError, r"^n: expected >= 1, got a negative integer"),
    (lambda: pd.sample_sphere(-(10**5000)), ValueError, r"^n: expected >= 1, got a negative"),
    (lambda: pd.sample_rotations(-(2**70)), ValueError, r"^n: expected >= 1, got a negative"),
    (lambda: pd.sample_sphere(10, dim=10**5000), ValueError, r"^dim: expected 2 to 8, got an"),
    (lambda: pd.max_radius(-(10**5000), 2, 1.0), ValueError, r"^n: expected >= 1, got a neg"),
    (lambda: pd.max_radius(10, -(10**5000), 1.0), ValueError, r"^dim: expected >= 1, got a neg"),
    (lambda: pd.eliminate(GOOD, 10, domain=10**5000), TypeError, r"^domain: .* got int$"),  # type: ignore[arg-type]
    (lambda: pd.radius_stats(GOOD, domain=None), TypeError, r"^domain: .* got NoneType$"),  # type: ignore[arg-type]
    (lambda: pd.eliminate(GOOD, 10, alpha=Fraction(10**5000, 3)), ValueError,
     r"^alpha: expected a finite number in \(0, inf\), got a Fraction holding an integer"),
    (lambda: pd.eliminate(GOOD, 10, beta=Decimal("sNaN")), ValueError,
     r"^beta: expected a finite number in \[0, 1\), got sNaN"),
    (lambda: pd.eliminate(GOOD, 10, r_max=np.longdouble("1e400")), ValueError,
     r"^r_max: expected a finite number in \(0, inf\), got 1e\+400"),
    (lambda: pd.eliminate(GOOD, np.array(5.0)), TypeError,
     r"^n: expected an int, got ndarray of dtype float64 and shape \(\)"),
    (lambda: pd.sample(10, seed=1, alpha=np.array([8.0])), TypeError,
     r"^alpha: expected a real number, got ndarray of dtype float64 and shape \(1,\)"),
])
@pytest.mark.filterwarnings("error")
def test_numbers_beyond_printing_or_the_doubles_name_the_argument(
        call: object, exc: type[Exception], message: str) -> None:
    with pytest.raises(exc, match=message):
        call()  # type: ignore[operator]


@pytest.mark.parametrize(("domain", "d"), [("box", 2), ("periodic", 3), ("sphere", 3),
                                           ("rotations", 4)])
def test_radius_stats_counts_are_ints_and_distances_floats(domain: str, d: int) -> None:
    """"n" was a float (50.0): a count is an int; the distances and ratios are Python floats."""
    rng = np.random.default_rng(7)
    x = unit_rows(rng, 50, d) if domain in ("sphere", "rotations") else rng.random((50, d))
    bounds = [(0.0, 1.0)] * d if domain == "periodic" else None
    stats = pd.radius_stats(x, bounds=bounds, domain=domain)
    assert list(stats) == ["n", "r_max", "min", "mean", "min_ratio", "mean_ratio"]
    assert type(stats["n"]) is int and stats["n"] == 50
    for key in ("r_max", "min", "mean", "min_ratio", "mean_ratio"):
        assert type(stats[key]) is float, key


def test_sample_bounds_default_and_explicit_are_told_apart() -> None:
    """The sphere and rotation domains take no bounds: left out (or None) they sample, given
    they are refused on both (rotations used to ignore them, the sphere to refuse even the
    default)."""
    rot = pd.sample(40, seed=1, domain="rotations")
    np.testing.assert_array_equal(rot, pd.sample_rotations(40, seed=1))
    np.testing.assert_array_equal(pd.sample(40, None, seed=1, domain="rotations"), rot)
    sph = pd.sample(40, seed=1, domain="sphere")
    np.testing.assert_array_equal(sph, pd.sample_sphere(40, seed=1))
    with pytest.raises(ValueError, match="bounds: not used by domain='rotations'"):
        pd.sample(40, ((0.0, 1.0), (0.0, 1.0)), seed=1, domain="rotations")  # equal, yet given
    # the default for boxes is still the unit square
    np.testing.assert_array_equal(pd.sample(40, seed=2), pd.sample(40, [(0, 1), (0, 1)], seed=2))


@pytest.mark.parametrize("dtype", [np.float16, np.float32])
def test_unit_rows_normalised_in_a_coarse_dtype_are_accepted(dtype: type) -> None:
    """Rows normalised in float16 are within 2 of its epsilons of norm 1 (1e-3), far beyond the
    float64 tolerance 1e-6: the tolerance is 4 epsilons of the input's dtype (at least 1e-6),
    in the kernel, the statistics and the twin alike; unnormalised rows are still refused."""
    rng = np.random.default_rng(14)
    q = rng.normal(size=(400, 4)).astype(dtype)
    q = q / np.linalg.norm(q, axis=1, keepdims=True)
    assert q.dtype == dtype
    got = pd.eliminate(q, 40, domain="rotations")
    np.testing.assert_array_equal(got, ref.eliminate(q, 40, domain="rotations"))
    assert pd.radius_stats(q, domain="rotations")["min"] > 0
    s = rng.normal(size=(300, 3)).astype(dtype)
    s = s / np.linalg.norm(s, axis=1, keepdims=True)
    assert pd.eliminate(s, 30, domain="sphere").shape == (30,)
    assert pd.nn_distances(s, domain="sphere").shape == (300,)
    far = (q * dtype(1.02)).astype(dtype)
    with pytest.raises(ValueError, match=r"not a unit quaternion .* allowed 1 \+- "):
        pd.eliminate(far, 40, domain="rotations")
    if dtype is np.float16:  # the tolerance is the dtype's: the same values in float64 fail
        with pytest.raises(ValueError, match=r"allowed 1 \+- 1e-06"):
            pd.eliminate(q.astype(np.float64), 40, domain="rotations")


def test_numpy_bools_are_flags_and_ties_remove_the_smallest_index() -> None:
    np.testing.assert_array_equal(pd.eliminate(GOOD, 10, progressive=np.bool_(True)),
                                  pd.eliminate(GOOD, 10, progressive=True))
    np.testing.assert_array_equal(pd.eliminate(GOOD, 10, weight_limiting=np.False_),
                                  pd.eliminate(GOOD, 10, weight_limiting=False))
    # Two copies of a point weigh the same, the far point nothing: the copy with the smaller
    # index (row 1 of rows 1 and 2) is removed, the documented rule, on both paths.
    x = np.array([[0.9, 0.9], [0.0, 0.0], [0.0, 0.0], [0.1, 0.9]])
    for kwargs in ({}, {"weight_limiting": False}):
        np.testing.assert_array_equal(pd.eliminate(x, 3, **kwargs), [0, 2, 3])
        np.testing.assert_array_equal(ref.eliminate(x, 3, **kwargs), [0, 2, 3])
    y = np.vstack([np.random.default_rng(2).random((300, 2)), [[0.5, 0.5]] * 4])  # tree path
    kept = pd.eliminate(y, 301)
    assert 303 in kept and not {300, 301, 302} & set(kept.tolist())


@pytest.mark.filterwarnings("error")
def test_boxes_beyond_the_doubles_are_one_error_without_warnings() -> None:
    with pytest.raises(ValueError, match="bounds: the box's side in dimension 0 is inf"):
        pd.sample(10, [(-1e308, 1e308)], seed=1)
    with pytest.raises(ValueError, match="points: their bounding box's side in dimension 0 is inf"):
        pd.eliminate(np.array([[-1e308], [1e308], [0.0]]), 1)
    # sides within their range whose product leaves the doubles
    with pytest.raises(ValueError, match="bounds: the box's measure"):
        pd.sample(10, [(0, 1e90)] * 4, seed=1)


def test_sample_checks_the_weight_parameters_before_drawing(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """4M points draw 20M candidates (about 0.3 s here) before eliminate would look at alpha:
    the mistake must be found first."""
    def no_drawing(*args: object) -> None:
        raise AssertionError("candidates drawn before the parameters were checked")

    monkeypatch.setattr(pd, "_candidates", no_drawing)
    for kwargs, word in [({"alpha": -1.0}, "alpha"), ({"beta": 2.0}, "beta"),
                         ({"gamma": "x"}, "gamma")]:
        for sampler in (pd.sample, pd.sample_rotations, pd.sample_sphere):
            with pytest.raises((ValueError, TypeError), match=f"^{word}"):
                sampler(4_000_000, seed=1, **kwargs)


def test_sizes_beyond_memory_raise_memory_error_before_allocating() -> None:
    x = np.random.default_rng(0).random((300000, 2))
    t0 = time.perf_counter()
    with pytest.raises(MemoryError):
        pd.eliminate(x, 1)
    assert time.perf_counter() - t0 < 1.0


def _peak_kib_of_memory_errors(calls: list[str], prelude: str = "") -> int:
    """Runs each Python expression of ``calls`` in a fresh process, checks that it raises the
    neighbour lists' MemoryError, and returns the process's peak resident memory in KiB (its
    own VmHWM: ru_maxrss would carry over the parent's peak, which Linux keeps across fork and
    exec, and pytest's process is large). ``prelude``: a statement run first."""
    code = "\n".join([
        "import re, numpy as np, hotloop.poisson as pd",
        prelude,
        f"for call in {calls!r}:",
        "    try:",
        "        eval(call)",
        "    except MemoryError as exc:",
        "        assert 'neighbour lists' in str(exc), exc",
        "    else:",
        "        raise AssertionError('no MemoryError: ' + call)",
        "status = open('/proc/self/status').read()",
        "print(re.search(r'VmHWM:\\s*(\\d+) kB', status).group(1))",
    ])
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    return int(proc.stdout)


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux's /proc")
def test_duplicates_whose_lists_cannot_fit_raise_before_allocating() -> None:
    """150000 copies of one point have 150000 neighbours each (180 GB of lists): the Python
    estimate (evenly spread points) cannot see it, the core's sample of the points does, so the
    MemoryError comes before the lists are allocated (it used to come at the memory limit, 3/4
    of the machine, after many seconds). Peak memory in a fresh process stays small."""
    peak = _peak_kib_of_memory_errors(
        ["pd.eliminate(np.vstack([np.full((150000, 2), 0.5), [[0.0, 0.0], [1.0, 1.0]]]), 1000)"])
    assert peak < 400_000, peak  # KiB: the input and the tree, no lists


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux's /proc")
def test_lists_just_beyond_the_limit_are_counted_not_built() -> None:
    """A cluster whose lists are 1.2 times the memory limit (10000 points in 1% of a periodic
    box: its lists and a region's own entries beside them need more than 1 GiB, less than 2): the
    sampled estimate is under twice the limit, so the core used to build up to the limit before
    failing (0.9 GB resident here; a 70000-point cluster under the default limit: 17.5 GB
    resident and 55 s). The borderline is now counted exactly first."""
    peak = _peak_kib_of_memory_errors(
        ["pd.eliminate(np.random.default_rng(0).random((10000, 2)), 2000, "
         "bounds=[(0, 100), (0, 100)], domain='periodic')"],
        prelude="pd._memory_limit = lambda: 1 << 30")
    assert peak < 300_000, peak  # KiB: no lists (about 1 GB before)


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux's /proc")
def test_sample_and_strided_inputs_check_memory_before_drawing_or_copying() -> None:
    """sample* checks the neighbour lists before drawing the candidates, and eliminate checks
    them before its float64 copy of a float32 or broadcast input: the MemoryError comes with
    little memory used (r_max = 1 makes every pair neighbours: terabytes of lists; the old
    code drew 240-480 MB of candidates, or copied 400 MB, first)."""
    peak = _peak_kib_of_memory_errors([
        "pd.sample(3_000_000, r_max=1.0, seed=1)",
        "pd.sample_sphere(3_000_000, r_max=1.0, seed=1)",
        "pd.sample_rotations(3_000_000, r_max=3.0, seed=1)",
        "pd.eliminate(np.broadcast_to(np.float32(0.5), (50_000_000, 2)), 10)",
        "pd.eliminate(np.broadcast_to(np.float32(0.5), (50_000_000, 2)), np.int64(10))",
    ])
    assert peak < 200_000, peak  # KiB: no candidates, no copy


def test_memory_checks_come_after_the_periodic_reach_check() -> None:
    """The early memory checks (before drawing, before a float64 copy) must not hide the error
    a periodic call with a d_max beyond half the box gets."""
    # a copy to make, large enough (over 2^21 values) for the check before it
    x = np.random.default_rng(0).random((1_100_000, 2)).astype(np.float32)
    with pytest.raises(ValueError, match="n: d_max"):
        pd.eliminate(x, 3, domain="periodic", bounds=[(0, 1)] * 2)
    with pytest.raises(ValueError, match="r_max: d_max"):
        pd.sample(200_000, [(0, 1)] * 2, seed=1, domain="periodic", r_max=0.4)


def test_degenerate_inputs_name_the_problem() -> None:
    for m in (0, 1):
        with pytest.raises(ValueError, match=f"points: need at least 2 points.*got {m}"):
            pd.eliminate(np.zeros((m, 2)), 1)
    rng = np.random.default_rng(3)
    for scale in (1e200, 1e-170):  # the bounding box's sides leave their range
        with pytest.raises(ValueError, match="points: their bounding box's side"):
            pd.eliminate(rng.random((50, 2)) * scale, 10)
    with pytest.raises(ValueError, match="bounds: the box's side"):
        pd.sample(10, [(0, 1e200), (0, 1e200)])


def test_inputs_are_not_modified_and_any_dtype_or_stride_works() -> None:
    rng = np.random.default_rng(4)
    base = rng.random((1200, 4))
    view = base[::2, 1:3]  # non-contiguous
    before = view.copy()
    a = pd.eliminate(view, 100)
    np.testing.assert_array_equal(view, before)
    np.testing.assert_array_equal(a, pd.eliminate(np.ascontiguousarray(view), 100))
    f32 = view.astype(np.float32)
    np.testing.assert_array_equal(pd.eliminate(f32, 100), pd.eliminate(f32.astype(float), 100))
    ints = (view * 1000).astype(np.int32)
    assert pd.eliminate(ints, 100).shape == (100,)
    q = unit_rows(rng, 500, 4)
    q_before = q.copy()
    pd.eliminate(q, 50, domain="rotations")
    np.testing.assert_array_equal(q, q_before)


def test_no_leak_over_repeated_calls() -> None:
    def rss() -> int:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * 4096

    x = np.random.default_rng(1).random((20000, 2))
    for _ in range(3):
        pd.eliminate(x, 4000)
    start = rss()
    for _ in range(30):
        pd.eliminate(x, 4000, progressive=True)
        pd.nn_distances(x)
    assert rss() - start < 16 * 2**20


@pytest.mark.parametrize("domain, n, progressive", [
    ("box", 80000, False),
    ("box", 300000, True),  # the progressive levels are most of the work when n is near M
    ("rotations", 30000, True),  # the rotation levels without lists
])
def test_progress_counts_up_to_its_total(domain: str, n: int, progressive: bool) -> None:
    calls: list[tuple[int, int]] = []
    rng = np.random.default_rng(2)
    x = rng.random((400000, 2)) if domain == "box" else unit_rows(rng, 60000, 4)
    pd.eliminate(x, n, domain=domain, progressive=progressive,
                 progress=lambda done, total: calls.append((done, total)))
    done = [d for d, _ in calls]
    assert calls and len({t for _, t in calls}) == 1
    assert all(0 <= a <= b for a, b in itertools.pairwise(done)), "progress went back"
    assert done[-1] == calls[-1][1], "progress did not end at its total"


def test_ctrl_c_interrupts_within_a_tenth_of_a_second() -> None:
    x = np.random.default_rng(3).random((1500000, 2))
    best = math.inf  # best of three: a loaded machine may not schedule the main thread at once
    for _ in range(3):
        with interrupt_after(0.3) as fired, pytest.raises(KeyboardInterrupt):
            pd.eliminate(x, 300000)
            time.sleep(5)  # finished too early: the interrupt lands here (and fails below)
        best = min(best, time.perf_counter() - fired[0])
        if best < 0.1:
            break
    assert best < 0.1, best


def test_ctrl_c_is_prompt_on_duplicate_heavy_input() -> None:
    """12000 copies of one point: every point is every other's neighbour (144 million list
    entries, 1.2 GB). Ctrl-C used to wait seconds here: the list layout never polled, and its
    first points faulted in every page of the lists between two polls. Interrupts at several
    moments (the searches, the layout, the elimination, as far as the machine's speed puts
    them there) must each be answered within 0.5 s: generous, for a shared machine (measured
    0.01-0.07 s on two busy cores; 2-5 s before). A call that ends before its interrupt fires
    measures nothing; one that ends after it, without seeing it, measures the wait."""
    y = np.vstack([np.full((12000, 2), 0.5), [[0.0, 0.0], [1.0, 1.0]]])
    latencies: list[float] = []
    for delay in (0.1, 0.4, 0.9):
        try:
            with interrupt_after(delay) as fired:
                pd.eliminate(y, 1000)
            if fired:  # fired during the call, unseen: it is raised at the next bytecode
                time.sleep(0.0)
                for _ in range(1000):
                    pass
        except KeyboardInterrupt:
            latencies.append(time.perf_counter() - fired[0])
    assert latencies, "every call ended before its interrupt: make the input larger"
    assert max(latencies) < 0.5, latencies


# ---- CLI, bench, demo ----------------------------------------------------------------------

def test_cli_writes_npy_csv_and_plot(tmp_path: Path) -> None:
    from hotloop.cli import main

    out = tmp_path / "pts.npy"
    assert main(["poisson", "300", "--seed", "1", "-o", str(out)]) == 0
    pts = np.load(out)
    np.testing.assert_array_equal(pts, pd.sample(300, seed=1))
    csv = tmp_path / "pts.csv"
    png = tmp_path / "pts.png"
    assert main(["poisson", "200", "--dim", "3", "--bounds", "0", "2", "0", "1", "0", "1",
                 "--periodic", "--progressive", "--seed", "2", "-o", str(csv),
                 "--plot", str(png)]) == 0
    arr = np.loadtxt(csv, delimiter=",")
    assert arr.shape == (200, 3) and png.stat().st_size > 1000
    rot = tmp_path / "rot.npy"
    assert main(["poisson", "50", "--rotations", "--seed", "3", "-o", str(rot)]) == 0
    assert np.load(rot).shape == (50, 4)
    sph = tmp_path / "sph.npy"
    assert main(["poisson", "50", "--sphere", "--dim", "3", "--seed", "3", "-o", str(sph)]) == 0
    inp = tmp_path / "in.npy"
    np.save(inp, np.random.default_rng(0).random((500, 2)))
    sel = tmp_path / "sel.npy"
    assert main(["poisson", "100", "--input", str(inp), "-o", str(sel)]) == 0
    assert np.load(sel).shape == (100, 2)


def test_cli_errors_exit_1_without_traceback(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    from hotloop.cli import main

    out = tmp_path / "x.npy"
    assert main(["poisson", "10", "--input", str(tmp_path / "missing.npy"), "-o", str(out)]) == 1
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    assert main(["poisson", "10", "--input", str(empty), "-o", str(out)]) == 1
    # output paths are checked before the work: a bad --plot path leaves no -o file either
    assert main(["poisson", "10", "--seed", "1", "-o", str(tmp_path / "no" / "x.npy")]) == 1
    assert main(["poisson", "10", "--seed", "1", "-o", str(out),
                 "--plot", str(tmp_path / "no" / "p.png")]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err and "Warning" not in err
    assert "no such file" in err and "no points in the file" in err
    assert err.count("does not exist") == 2 and "seed:" not in err
    assert list(tmp_path.iterdir()) == [empty]
    # a plot that fails while it is written (a full disk) leaves no -o file either
    if os.path.exists("/dev/full"):
        full = tmp_path / "full.png"
        full.symlink_to("/dev/full")
        assert main(["poisson", "10", "--seed", "1", "-o", str(out), "--plot", str(full)]) == 1
        assert "full.png: cannot write" in capsys.readouterr().err and not out.exists()
        full.unlink()
    # a count beyond any memory: one line, no traceback
    assert main(["poisson", str(10**20), "-o", str(out)]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err and "beyond any machine's memory" in err
    assert list(tmp_path.iterdir()) == [empty]


@pytest.mark.parametrize(
    ("flags", "words"),
    [(["--dim", "9"], "--dim"), (["--sphere", "--dim", "1"], "--dim"),
     (["--rotations", "--dim", "7"], "not used with --rotations"),
     (["--oversample", "0.5"], "--oversample"), (["--oversample", "1"], "--oversample"),
     (["--seed", str(2**64)], "--seed"), (["--periodic", "--sphere"], "--periodic"),
     (["--rotations", "--bounds", "0", "1"], "--bounds"), (["--indices"], "--indices"),
     (["--bounds", "1", "0", "0", "1"], "lo < hi"), (["--bounds", "0", "1", "0"], "pairs"),
     (["--dim", "3", "--bounds", "0", "1", "0", "1"], "--dim is 3"),
     (["-o", "x.txt"], ".npy or .csv"), (["--plot", "p.jpg"], ".png"),
     (["--sphere", "--rotations"], "not allowed with")],
)
def test_cli_usage_mistakes_exit_2_before_any_work(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], flags: list[str],
        words: str) -> None:
    from hotloop.cli import main

    args = ["poisson", "10", "-o", str(tmp_path / "x.npy"), *flags]
    with pytest.raises(SystemExit) as info:
        main(args)
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "usage:" in err and words in err and not re.search("^seed:", err, re.M), err
    assert list(tmp_path.iterdir()) == []


def test_cli_periodic_input_needs_bounds(tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    from hotloop.cli import main

    inp = tmp_path / "in.npy"
    np.save(inp, np.random.default_rng(0).random((200, 2)))
    with pytest.raises(SystemExit) as info:
        main(["poisson", "10", "--input", str(inp), "--periodic", "-o", str(tmp_path / "x.npy")])
    assert info.value.code == 2
    assert "--periodic with --input needs --bounds" in capsys.readouterr().err
    # bounds of another dimension than the file's points: a usage error too, once it is read
    with pytest.raises(SystemExit) as info:
        main(["poisson", "10", "--input", str(inp), "--bounds", "0", "1", "0", "1", "0", "1",
              "-o", str(tmp_path / "x.npy")])
    assert info.value.code == 2
    assert "--bounds: 3 pairs lo hi, but the points in" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.npy"]


@pytest.mark.parametrize("flags", [["--seed", "1"], ["--dim", "3"], ["--oversample", "8"],
                                   ["--dim", "2", "--seed", "0"]])
def test_cli_refuses_sampling_options_with_input(tmp_path: Path, flags: list[str],
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    """--dim, --seed and --oversample shape the random candidates, which --input replaces:
    a usage error naming them (exit 2), not options silently ignored."""
    from hotloop.cli import main

    inp = tmp_path / "in.npy"
    np.save(inp, np.random.default_rng(0).random((200, 2)))
    out = tmp_path / "sel.npy"
    with pytest.raises(SystemExit) as info:
        main(["poisson", "50", "--input", str(inp), *flags, "-o", str(out)])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert f"{flags[0]}" in err and "not used with --input" in err, err
    assert not out.exists()
    assert main(["poisson", "50", "--input", str(inp), "-o", str(out)]) == 0


def _cli_inputs(tmp_path: Path) -> dict[str, Path]:
    """Input files with something wrong in them, for the CLI's messages."""
    rng = np.random.default_rng(8)
    files = {"five": rng.random((5, 2)), "one": rng.random((1, 2)), "flat": rng.random(300),
             "wide": rng.random((300, 9)), "quat": rng.random((300, 4)) + 0.1,
             "big": rng.random((300, 2)) * 5 + 1.5, "const": np.zeros((300, 2)),
             "bool": rng.random((300, 2)) > 0.5}
    nan = rng.random((300, 2))
    nan[7, 1] = np.nan
    files["nan"] = nan
    paths = {}
    for name, arr in files.items():
        paths[name] = tmp_path / f"{name}.npy"
        np.save(paths[name], arr)
    paths["csv"] = tmp_path / "pts.csv"
    paths["csv"].write_text("0.1,0.2\n0.3,nan\n0.5,0.6\n")
    return paths


@pytest.mark.parametrize(("argv", "code", "message"), [
    # the example of the audit: N, not the API's n
    (["10", "--input", "{five}"], 1,
     "N: expected 1 <= N < 5 (the number of points in {five}), got 10"),
    (["5", "--input", "{five}"], 1, "N: expected 1 <= N < 5 (the number of points in {five})"),
    (["1", "--input", "{one}"], 1, "--input {one}: need at least 2 points (N of them are kept)"),
    (["10", "--input", "{nan}"], 1, "--input {nan}: row 7 has a NaN or infinite coordinate"),
    (["1", "--input", "{csv}"], 1, "--input {csv}: row 1 has a NaN or infinite coordinate"),
    (["10", "--input", "{flat}"], 1, "--input {flat}: expected a 2-D array"),
    (["10", "--input", "{wide}"], 1, "--input {wide}: dimension 9 is not supported"),
    (["10", "--input", "{bool}"], 1, "--input {bool}: expected a 2-D array of real numbers"),
    (["10", "--input", "{quat}", "--rotations"], 1,
     "--input {quat}: row 0 is not a unit quaternion"),
    (["10", "--input", "{big}", "--rotations"], 1,
     "--input {big}: rotations are unit quaternions, expected 4 columns, got 2"),
    (["10", "--input", "{big}", "--periodic", "--bounds", "0", "1", "0", "1"], 1,
     "--input {big}: row 0 lies outside --bounds"),
    (["10", "--input", "{const}"], 1,
     "--input {const}: the points have zero extent in dimension 0; pass --bounds"),
    (["10", "--input", "{missing}"], 1, "--input {missing}: no such file"),
    # arguments the API refuses, found before anything is drawn: usage errors
    (["10", "--bounds", "0", "1e200"], 2, "--bounds: the box's side in dimension 0 is 1e+200"),
    (["10", "--bounds", "0", "1", "0", "1e-101"], 2, "--bounds: the box's side in dimension 1"),
    (["10", "--bounds", *["0", "1e-60"] * 6], 2, "--bounds: the box's measure"),
    (["2", "--periodic"], 2, "N: d_max = 2 r_max = 0.759836 exceeds half the shortest side of "
     "the periodic box (0.5); pass a larger N or a larger box in --bounds"),
    (["3", "--input", "{big}", "--periodic", "--bounds", "0", "1", "0", "1"], 2,
     "N: d_max = 2 r_max"),
    (["10", "--periodic", "--bounds", "0", "1e200", "0", "1"], 2, "--bounds: the box's side"),
    # beyond any memory: a runtime error, in the command line's names
    (["10", "--oversample", "1e300"], 1,
     "N = 10 with --oversample 1e+300 asks for more than 2^53 candidates"),
    (["10000000000000000000", "--sphere"], 1, "N = 10000000000000000000 with --oversample 5"),
])
def test_cli_errors_name_what_the_user_typed(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], code: int,
        message: str) -> None:
    """The API's errors named its arguments (n, points, bounds, r_max): the command line's
    name N, --input FILE, --bounds, --oversample, in one line; a box the API refuses is a
    usage error (exit 2) found before the seed is drawn, not a runtime one after it."""
    from hotloop.cli import main

    names = {k: str(v) for k, v in _cli_inputs(tmp_path).items()}
    names["missing"] = str(tmp_path / "missing.npy")
    out = tmp_path / "out.npy"
    args = ["poisson", *(a.format(**names) for a in argv), "-o", str(out)]
    if code == 2:
        with pytest.raises(SystemExit) as info:
            main(args)
        got = info.value.code
    else:
        got = main(args)
    err = capsys.readouterr().err
    assert got == code, err
    lines = [line for line in err.splitlines() if "error:" in line]
    assert len(lines) == 1, err
    assert lines[0].startswith("hotloop poisson: error: " + message.format(**names)), err
    assert not re.search(r"error: (n|points|bounds|dim|oversample|eliminate|sample\w*):",
                         err), err
    assert "np.linalg" not in err and "r_max," not in err and "bounds=" not in err
    assert "seed:" not in err or code == 1
    assert not out.exists()


def test_bench_workloads_smoke() -> None:
    """Every workload of the quick benchmark runs (peers from other packages, Numba and SciPy,
    are left to the benchmark itself: compiling and running them takes most of a minute)."""
    from hotloop.bench import poisson as bench

    for wl in bench.workloads(quick=True):
        data = wl.setup()
        for impl in wl.impls:
            if impl.requires:
                continue
            result = impl.fn(data)
            assert result is not None


def test_demo_runs(tmp_path: Path) -> None:
    from hotloop.demo import poisson as demo

    demo.run(tmp_path)
    assert (tmp_path / "poisson.png").stat().st_size > 1000


def test_a_slow_progress_callback_is_called_about_ten_times_a_second_of_work() -> None:
    """The intervals between callbacks count from the end of the last one: stamped from its
    start, a callback slower than 0.1 s was called again at the very next poll, one poll's
    work apart (45 calls, and 6.8 s, for a call of 0.04 s)."""
    x = np.random.default_rng(0).random((50000, 2))
    seen: list[int] = []

    def slow(done: int, total: int) -> None:
        seen.append(done)
        time.sleep(0.15)

    np.testing.assert_array_equal(pd.eliminate(x, 10000, progress=slow),
                                  pd.eliminate(x, 10000))
    # the work (0.04 s here, a few tenths on a slow machine) leaves room for a few calls at
    # 0.1 s intervals of work, plus the final one at 100 %
    assert len(seen) <= 6, seen


@pytest.mark.parametrize("scale", [1e200, 1e-200, 1e-158])
def test_coordinates_whose_squares_leave_the_doubles_are_refused(scale: float) -> None:
    """A 1-D input times 1e200 kept its last 400 rows (the squared distances overflowed) and
    radius_stats said inf; times 1e-200 (and a 2-D box of sides 1e-158, inside the volume
    check) the squares lost their digits. Sides are now held to [1e-100, 1e100]."""
    x = np.random.default_rng(0).random((2000, 1)) * scale
    for call in (lambda: pd.eliminate(x, 400), lambda: pd.eliminate(x[:200], 40),
                 lambda: pd.radius_stats(x)):
        with pytest.raises(ValueError, match=r"points: their bounding box's side in dimension 0"):
            call()
    with pytest.raises(ValueError, match=r"bounds: the box's side in dimension 1 is 1e\+200"):
        pd.sample(100, [(0, 1), (0, 1e200)], seed=1)
    np.testing.assert_array_equal(pd.eliminate(x / scale * 1e99, 400),
                                  pd.eliminate(x / scale, 400))  # the window's edge is fine


def test_an_r_max_whose_square_leaves_the_doubles_is_named() -> None:
    x = np.random.default_rng(0).random((500, 2))
    for call in (lambda: pd.eliminate(x, 100, r_max=1.7e308),
                 lambda: pd.sample(10, seed=1, r_max=1.7e308),
                 lambda: pd.eliminate(x, 100, r_max=1e-320)):
        with pytest.raises(ValueError, match=r"r_max: expected a radius in \[1e-150, 1e\+150\]"):
            call()


def test_cli_writes_csv_to_a_stream() -> None:
    """docs/poisson.md says streams such as /dev/stdout are written in place; the CLI refused
    any output not ending in .npy or .csv."""
    done = subprocess.run([sys.executable, "-m", "hotloop", "poisson", "7", "--seed", "1",
                           "-o", "/dev/stdout"], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    rows = np.loadtxt(done.stdout.splitlines(), delimiter=",")
    np.testing.assert_array_equal(rows, pd.sample(7, seed=1))
    assert "-> /dev/stdout" in done.stderr


def test_sphere_and_rotation_samplers_name_their_own_keyword_errors(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """domain= or an unknown keyword was passed on to eliminate, after the candidates were
    drawn, and reported as eliminate()'s."""
    def no_drawing(*args: object) -> None:
        raise AssertionError("candidates drawn before the keywords were checked")

    monkeypatch.setattr(pd, "_candidates", no_drawing)
    for sampler, name in ((pd.sample_sphere, "sample_sphere"),
                          (pd.sample_rotations, "sample_rotations")):
        for kwargs in ({"domain": "box"}, {"foo": 1}, {"bounds": [(0, 1)]}):
            with pytest.raises(TypeError, match=f"^{name}\\(\\) got unexpected keyword"):
                sampler(1000, seed=1, **kwargs)


def test_the_twin_names_a_huge_n_by_its_digits() -> None:
    """Not Python's 'Exceeds the limit (4300 digits)' error from printing n."""
    with pytest.raises(ValueError, match="n: expected 1 <= n < 10, got an integer of about 5001"):
        ref.eliminate(np.random.default_rng(0).random((10, 2)), 10**5000)


@pytest.mark.parametrize("m", [50, 2000])  # the small-call path and the general one
def test_masked_points_and_bounds_are_refused(m: int) -> None:
    """NumPy (and the buffer protocol) would use the values under a mask; a masked array with
    nothing masked is its values."""
    x = np.random.default_rng(5).random((m, 2))
    masked = np.ma.masked_array(x, mask=np.zeros_like(x, dtype=bool))
    masked.mask[3, 1] = True
    with pytest.raises(TypeError, match=r"points: masked values are not accepted \(1 masked, "
                                        r"the first points\[3, 1\]"):
        pd.eliminate(masked, 5)
    with pytest.raises(TypeError, match="points: masked values"):
        pd.radius_stats(masked)
    box = np.ma.masked_array([[0.0, 1.0], [0.0, 1.0]], mask=[[False, True], [False, False]])
    with pytest.raises(TypeError, match=r"bounds: masked values .* bounds\[0, 1\]"):
        pd.eliminate(x, 5, bounds=box)
    plain = np.ma.masked_array(x)  # nothing masked
    np.testing.assert_array_equal(pd.eliminate(plain, 5), pd.eliminate(x, 5))
    np.testing.assert_array_equal(pd.eliminate(x, 5, bounds=np.ma.masked_array(box.data)),
                                  pd.eliminate(x, 5, bounds=box.data))


@pytest.mark.parametrize("call", [
    lambda **kw: pd.sample(100, **kw),
    lambda **kw: pd.sample(100, bounds=[(0, 2), (0, 1)], domain="periodic", **kw),
    lambda **kw: pd.sample_sphere(100, 3, **kw),
    lambda **kw: pd.sample_rotations(100, **kw),
], ids=["box", "periodic", "sphere", "rotations"])
def test_samplers_refuse_alpha_and_threads_before_drawing(call: Callable[..., Any]) -> None:
    """eliminate's alpha limit and the thread count are judged before the seed is drawn and
    the candidates made: last_seed() stays that of the last call that ran (it was the failed
    call's, after all the candidates were drawn)."""
    call(seed=None)
    before = pd.last_seed()
    with pytest.raises(ValueError, match="alpha"):
        call(seed=None, alpha=40.0, weight_limiting=False)
    with pytest.raises(ValueError, match="alpha"):
        call(seed=None, alpha=40.0, progressive=True)
    with pytest.raises(TypeError, match="threads"):
        call(seed=None, threads="x")
    assert pd.last_seed() == before
    # an alpha the levels take still runs, and matches eliminate's verdict on its candidates
    call(seed=1, alpha=12.0)
