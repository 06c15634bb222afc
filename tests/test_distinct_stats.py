"""Statistical tests of hotloop.distinct (fixed seeds; each states its false-failure rate).

- count_approx over many seeds: the fraction of runs off by more than epsilon is <= delta;
  method="paper" and "knuth" agree in distribution with the pure-Python reference twins.
- Sketch: exact at small cardinalities; relative error matching its stated standard error
  1.04 / sqrt(2**p) within 10% (pooled over cardinalities 1e5..1e8, hashed integer streams).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from hotloop import _core
from hotloop.distinct import Sketch, count_approx, thresh_for
from hotloop.reference import distinct as ref

scipy_stats = pytest.importorskip("scipy.stats")


def _stream(n: int, d: int, seed: int) -> np.ndarray:
    """n items with exactly d distinct values, in random order."""
    rng = np.random.default_rng(seed)
    a = np.concatenate([np.arange(d), rng.integers(0, d, n - d)])
    rng.shuffle(a)
    return a


@pytest.mark.parametrize("method", ["knuth", "paper"])
def test_cvm_guarantee_over_many_seeds(method: str) -> None:
    # eps = 0.5, delta = 0.05 over 400 seeds: the paper's theorem allows 20 failures; the true
    # rate is far lower (the error's sd is about 5%, so |err| > 50% is a 10-sd event). The
    # test fails only if the guarantee is broken: false-failure rate 0 for a correct kernel.
    n, d, eps, delta = 50_000, 20_000, 0.5, 0.05
    a = _stream(n, d, 1)
    assert thresh_for(eps, delta, n) < d  # the estimator really samples
    est = np.array([count_approx(a, eps, delta, seed=s, method=method) for s in range(400)])
    bad = np.mean(np.abs(est / d - 1) > eps)
    assert bad <= delta
    # and it is centred: |mean error| < 5 standard errors of the mean (false failure ~6e-7)
    rel = est / d - 1
    assert abs(rel.mean()) < 5 * rel.std() / math.sqrt(len(rel)) + 1e-3


@pytest.mark.parametrize("method", ["knuth", "paper"])
def test_cvm_matches_python_reference_in_distribution(method: str) -> None:
    # The same small stream with a forced buffer of 300 items (2000 distinct): 250 seeds of
    # hotloop against 250 of the reference. Two-sample KS test at alpha = 1e-4 (false-failure
    # rate 1e-4 per method).
    items = [str(x) for x in _stream(6000, 2000, 2).tolist()]
    thresh, runs = 300, 250
    ref_fn = ref.count_approx_python if method == "paper" else ref.count_approx_knuth_python
    mine = [_core.cvm_count(items, 0 if method == "paper" else 1, thresh, s) for s in range(runs)]
    theirs = []
    for s in range(runs):
        try:
            theirs.append(ref_fn(items, seed=10_000 + s, thresh=thresh))
        except ref.CVMFailure:  # pragma: no cover - probability ~1e-20 at this size
            continue
    res = scipy_stats.ks_2samp(mine, theirs)
    assert res.pvalue > 1e-4, (np.mean(mine), np.mean(theirs), res)
    assert abs(np.mean(mine) / 2000 - 1) < 0.05


def test_sketch_exact_at_small_cardinalities() -> None:
    for p in (4, 10, 14):
        limit = Sketch(precision=p).sparse_limit
        for n in sorted({1, 2, 10, 100, limit}):
            if n > limit:
                continue
            for seed in range(3):
                s = Sketch(precision=p, seed=seed)
                s.update(np.arange(n) * 7919 - 5)
                assert s.estimate() == n and s.is_exact


def _sketch_rel_errors(p: int, n: int, seeds: range, chunk: int = 10_000_000) -> np.ndarray:
    out = []
    for seed in seeds:
        s = Sketch(precision=p, seed=seed)
        for start in range(0, n, chunk):
            s.update(np.arange(start, min(n, start + chunk), dtype=np.int64))
        out.append(s.estimate() / n - 1)
    return np.array(out)


def test_sketch_error_matches_stated_standard_error() -> None:
    # p = 12: stated error 1.04/64 = 1.625%. 774 sketches over cardinalities 1e5..1e8 (the
    # estimator is scale-free there); the pooled RMS relative error has a relative sd of
    # 1/sqrt(2 * 774) = 2.5%, so the 10% tolerance is 4 sd (false failure ~6e-5).
    p = 12
    stated = Sketch(precision=p).error
    groups = {
        100_000: _sketch_rel_errors(p, 100_000, range(600)),
        1_000_000: _sketch_rel_errors(p, 1_000_000, range(1000, 1150)),
        10_000_000: _sketch_rel_errors(p, 10_000_000, range(2000, 2020)),
        100_000_000: _sketch_rel_errors(p, 100_000_000, range(3000, 3004)),
    }
    pooled = np.concatenate(list(groups.values()))
    rms = math.sqrt(float(np.mean(pooled**2)))
    assert abs(rms / stated - 1) < 0.10, (rms, stated)
    for n, errs in groups.items():
        # each group on its own: within 5 sd of its RMS estimate (4 values at 1e8: loose)
        k = len(errs)
        r = math.sqrt(float(np.mean(errs**2)))
        assert abs(r / stated - 1) < 5 / math.sqrt(2 * k) + 0.1, (n, r)
        assert abs(errs.mean()) < 5 * stated / math.sqrt(k), (n, errs.mean())


def test_sketch_error_below_stated_in_the_small_range() -> None:
    # Between the exact range and ~5 * 2**p registers the estimator behaves like linear
    # counting, whose error is below the asymptotic 1.04 / sqrt(m): check RMS <= 1.1 * stated
    # over 200 seeds (sd of the RMS estimate 5%: false failure < 1e-3 even at equality).
    p = 12
    stated = Sketch(precision=p).error
    for n in (600, 3000, 10_000, 30_000):
        errs = _sketch_rel_errors(p, n, range(200))
        assert math.sqrt(float(np.mean(errs**2))) <= 1.1 * stated, n
