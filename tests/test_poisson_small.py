"""hotloop.poisson.eliminate's path for small calls: at most 256 points with the default options
go through one C call (_core._poisson_eliminate_small) that does the checks, derives the radii
in C (hl_poisson_level_radii, hl_poisson_measure) and eliminates. It must take exactly the
calls it can do with certainty, give the general path's result bit for bit, and hand
everything else back (None) so that the general path words the errors."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import hotloop.poisson as pd
from hotloop import _core

SMALL = _core._POISSON_SMALL_MAX_POINTS
DEFAULTS = (8.0, 0.65, 1.5)  # alpha, beta, gamma as eliminate() declares them


def small(points: Any, n: Any, domain: Any = "box", threads: Any = None,
          weights: tuple[Any, Any, Any] = DEFAULTS) -> np.ndarray | None:
    """The small path alone: the kept indices, or None when it does not take the call."""
    out = np.full(n if type(n) is int and 0 < n < 10**6 else 1, -1, dtype=np.int64)
    got = _core._poisson_eliminate_small(points, n, out, domain, threads, *weights)
    assert got is None or got is out
    return None if got is None else out


def general(points: Any, n: int, domain: str = "box") -> np.ndarray:
    """The general path: alpha given as the int 8 (the same weight) is not the small path's."""
    return pd.eliminate(points, n, domain=domain, alpha=8)


def unit_rows(rng: np.random.Generator, m: int, d: int) -> np.ndarray:
    x = rng.normal(size=(m, d))
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_the_limit_is_the_dense_paths() -> None:
    assert SMALL == 256
    assert pd._SMALL_MAX_POINTS == SMALL


@settings(max_examples=60, deadline=None)
@given(m=st.integers(2, SMALL), frac=st.floats(0.0, 1.0), d=st.integers(1, 8),
       grid=st.sampled_from([0, 3, 8]), seed=st.integers(0, 2**32 - 1),
       domain=st.sampled_from(["box", "sphere", "rotations"]))
def test_takes_every_plain_call_and_matches_the_general_path(  # noqa: PLR0917
        m: int, frac: float, d: int, grid: int, seed: int, domain: str) -> None:
    """Random, lattice (equal distances, ties) and duplicated points, antipodal quaternions."""
    rng = np.random.default_rng(seed)
    n = min(m - 1, max(1, round(frac * m)))
    if domain == "box":
        x = rng.random((m, d))
        if grid:
            x = np.round(x * grid) / grid
            x[0], x[-1] = 0.0, 1.0  # keep an extent in every dimension
    else:
        d = 4 if domain == "rotations" else max(d, 2)
        x = unit_rows(rng, m, d)
        if grid:
            x[m // 2:] = -x[: m - m // 2] if domain == "rotations" else x[: m - m // 2]
    expected = general(x, n, domain)
    got = small(x, n, domain)
    assert got is not None, "a plain call was handed back"
    np.testing.assert_array_equal(got, expected)
    np.testing.assert_array_equal(pd.eliminate(x, n, domain=domain), expected)


def test_public_call_uses_it_and_leaves_the_input_alone() -> None:
    rng = np.random.default_rng(3)
    x = unit_rows(rng, 200, 4)
    x.setflags(write=False)
    before = x.copy()
    out = pd.eliminate(x, 8, domain="rotations")
    assert out.dtype == np.int64 and out.shape == (8,)
    np.testing.assert_array_equal(out, small(x, 8, "rotations"))
    np.testing.assert_array_equal(x, before)
    # threads never change the result (the dense path runs on one thread anyway)
    for threads in (None, 0, 1, 2, 3, 8, 10**6):
        np.testing.assert_array_equal(small(x, 8, "rotations", threads), out)


class _Name(str):
    """A str subclass: it may hash and compare otherwise, so only the general path judges it."""


def _box(m: int = 50, d: int = 2) -> np.ndarray:
    return np.random.default_rng(1).random((m, d))


def _quats(m: int = 50) -> np.ndarray:
    return unit_rows(np.random.default_rng(2), m, 4)


# Calls the small path must hand back: (points, n, domain, threads, weights).
def _declined() -> list[tuple[str, tuple[Any, ...]]]:
    nan = _box()
    nan[7, 1] = np.nan
    inf = _quats()
    inf[3, 0] = np.inf
    flat = _box()
    flat[:, 1] = 0.5  # no extent in dimension 1
    near_unit = _quats()
    near_unit[5] *= 1.0 + 0.9995e-6  # within the tolerance, not within the scan's sure margin
    far_unit = _quats()
    far_unit[5] *= 1.1
    return [
        ("NaN", (nan, 10, "box", None, DEFAULTS)),
        ("inf", (inf, 10, "rotations", None, DEFAULTS)),
        ("no extent", (flat, 10, "box", None, DEFAULTS)),
        ("near-unit norm", (near_unit, 10, "rotations", None, DEFAULTS)),
        ("not unit", (far_unit, 10, "rotations", None, DEFAULTS)),
        ("too many points", (_box(SMALL + 1), 10, "box", None, DEFAULTS)),
        ("n = m", (_box(), 50, "box", None, DEFAULTS)),
        ("n = 0", (_box(), 0, "box", None, DEFAULTS)),
        ("n negative", (_box(), -3, "box", None, DEFAULTS)),
        ("n bool", (_box(), True, "box", None, DEFAULTS)),
        ("n float", (_box(), 10.0, "box", None, DEFAULTS)),
        ("n numpy int", (_box(), np.int64(10), "box", None, DEFAULTS)),
        ("n huge", (_box(), 10**30, "box", None, DEFAULTS)),
        ("float32", (_box().astype(np.float32), 10, "box", None, DEFAULTS)),
        ("int points", ((_box() * 100).astype(np.int64), 10, "box", None, DEFAULTS)),
        ("Fortran order", (np.asfortranarray(_box()), 10, "box", None, DEFAULTS)),
        ("strided", (_box(100)[::2], 10, "box", None, DEFAULTS)),
        ("3-D", (_box().reshape(5, 10, 2), 3, "box", None, DEFAULTS)),
        ("1-D", (_box().ravel(), 3, "box", None, DEFAULTS)),
        ("a list", (_box().tolist(), 10, "box", None, DEFAULTS)),
        ("9 dimensions", (_box(50, 9), 10, "box", None, DEFAULTS)),
        ("0 dimensions", (np.empty((50, 0)), 10, "box", None, DEFAULTS)),
        ("rotations in 3-D", (unit_rows(np.random.default_rng(4), 50, 3), 10, "rotations",
                              None, DEFAULTS)),
        ("sphere in 1-D", (np.ones((50, 1)), 10, "sphere", None, DEFAULTS)),
        ("sphere in 9-D", (unit_rows(np.random.default_rng(4), 50, 9), 10, "sphere", None,
                           DEFAULTS)),
        ("periodic", (_box(), 10, "periodic", None, DEFAULTS)),
        ("unknown domain", (_box(), 10, "torus", None, DEFAULTS)),
        ("domain not a str", (_box(), 10, 0, None, DEFAULTS)),
        ("domain a str subclass", (_box(), 10, _Name("box"), None, DEFAULTS)),
        ("threads negative", (_box(), 10, "box", -1, DEFAULTS)),
        ("threads bool", (_box(), 10, "box", True, DEFAULTS)),
        ("threads float", (_box(), 10, "box", 2.0, DEFAULTS)),
        ("threads huge negative", (_box(), 10, "box", -10**30, DEFAULTS)),
        ("alpha int", (_box(), 10, "box", None, (8, 0.65, 1.5))),
        ("alpha other", (_box(), 10, "box", None, (6.0, 0.65, 1.5))),
        ("beta other", (_box(), 10, "box", None, (8.0, 0.5, 1.5))),
        ("gamma other", (_box(), 10, "box", None, (8.0, 0.65, 2.0))),
        ("gamma numpy", (_box(), 10, "box", None, (8.0, 0.65, np.float64(1.5)))),
    ]


@pytest.mark.parametrize(("case", "args"), _declined(), ids=[c for c, _ in _declined()])
def test_hands_back_what_it_cannot_do_for_certain(case: str, args: tuple[Any, ...]) -> None:
    points, n, domain, threads, weights = args
    assert small(points, n, domain, threads, weights) is None, case


@pytest.mark.parametrize(("case", "args"), _declined(), ids=[c for c, _ in _declined()])
def test_handed_back_calls_behave_as_the_general_path(case: str, args: tuple[Any, ...]) -> None:
    """The public call with the same arguments: the general path's result or error."""
    points, n, domain, threads, (alpha, beta, gamma) = args

    def call(alpha: Any) -> object:
        try:
            return pd.eliminate(points, n, domain=domain, threads=threads, alpha=alpha,
                                beta=beta, gamma=gamma).tolist()
        except (TypeError, ValueError, MemoryError) as exc:
            return type(exc), str(exc)

    forced = 8 if alpha == 8.0 and type(alpha) is float else alpha  # the general path
    assert call(alpha) == call(forced), case


def test_malformed_thread_variable_raises_as_the_general_path(
        monkeypatch: pytest.MonkeyPatch) -> None:
    x = _quats()
    monkeypatch.setenv("HOTLOOP_NUM_THREADS", "two")
    with pytest.raises(ValueError, match="HOTLOOP_NUM_THREADS='two'"):
        pd.eliminate(x, 8, domain="rotations")
    with pytest.raises(ValueError, match="HOTLOOP_NUM_THREADS='two'"):
        small(x, 8, "rotations")
    assert small(x, 8, "rotations", threads=2) is not None  # threads given: not read
    monkeypatch.setenv("HOTLOOP_NUM_THREADS", "3")
    np.testing.assert_array_equal(small(x, 8, "rotations"), general(x, 8, "rotations"))


def test_out_is_checked() -> None:
    x = _box()
    with pytest.raises(ValueError, match="out: expected 10 items"):
        _core._poisson_eliminate_small(x, 10, np.empty(9, np.int64), "box", None, *DEFAULTS)
    with pytest.raises(TypeError, match="out"):
        _core._poisson_eliminate_small(x, 10, np.empty(10), "box", None, *DEFAULTS)
    with pytest.raises(TypeError, match="8 arguments"):
        _core._poisson_eliminate_small(x, 10)


@settings(max_examples=200, deadline=None)
@given(domain=st.sampled_from(["box", "sphere", "rotations"]), r=st.floats(1e-6, 10.0),
       m=st.integers(2, 10**6), frac=st.floats(0.0, 1.0), beta=st.floats(0.0, 0.99),
       gamma=st.floats(0.1, 4.0), weight_limiting=st.booleans())
def test_core_radii_are_the_python_layers_bit_for_bit(  # noqa: PLR0917
        domain: str, r: float, m: int, frac: float, beta: float, gamma: float,
        weight_limiting: bool) -> None:
    """hl_poisson_level_radii against the general path's own derivation in Python."""
    n = min(m - 1, max(1, round(frac * m)))
    d_max = 2.0 * r
    d_min = d_max * pd.weight_limit_fraction(m, n, beta, gamma) if weight_limiting else 0.0
    expected = pd.core_radii(domain, d_max, d_min)
    got = _core._poisson_level_radii(pd.DOMAINS[domain], r, m, n, beta, gamma, weight_limiting)
    assert got == expected  # exact equality of the doubles


def test_measures() -> None:
    """The core's measures, which both paths use, against their closed forms (the core's are
    correctly rounded literals; libm's and math.gamma's are within an ulp or two of them)."""
    assert 8.0 * math.pi**2 == pd._ROTATION_MEASURE
    for d in range(2, 17):
        closed = 2.0 * math.pi ** (d / 2.0) / math.gamma(d / 2.0)
        assert _core._poisson_measure(pd.DOMAINS["sphere"], d) == pytest.approx(closed, rel=1e-15)
    assert pd._sphere_measure(3) == 4.0 * math.pi
    assert pd._sphere_measure(5) == 8.0 * math.pi**2 / 3.0
    assert pd._sphere_measure(8) == 32.46969701133415  # pi^4 / 3, correctly rounded
    assert math.isnan(_core._poisson_measure(pd.DOMAINS["box"], 2))
    assert math.isnan(_core._poisson_measure(pd.DOMAINS["rotations"], 3))
    assert math.isnan(_core._poisson_measure(pd.DOMAINS["sphere"], 1))
    assert math.isnan(_core._poisson_measure(pd.DOMAINS["sphere"], -1))
