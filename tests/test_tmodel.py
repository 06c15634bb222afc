"""hotloop.tmodel: API, determinism, bad input, Ctrl-C, diagnostics vs ArviZ, CLI, bench smoke.

The statistical tests against the exact posterior are in test_tmodel_oracle.py.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import math
import os
import re
import subprocess
import sys
import time
import tracemalloc
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from hotloop import _core as hl_core
from hotloop.cli import main as cli_main
from hotloop.tmodel import ScaledTModel, check_data, diagnostics, summarize
from tests._interrupt import interrupt_after

X = np.array([-1.2, 0.3, 0.9, 1.4, 2.2, 2.8, 9.0, -0.4, 1.1, 0.2])


def test_shapes_getters_and_readonly() -> None:
    m = ScaledTModel(X, 4, seed=3).run(100, 300)
    assert m.mu.shape == (300,) and m.sigma2.shape == (300,)
    assert m.get_mu() is m.mu and m.get_sigma2() is m.sigma2
    assert np.all(m.sigma2 > 0) and np.all(np.isfinite(m.mu))
    with pytest.raises(ValueError):
        m.mu[0] = 1.0
    m.run(100, 300, chains=3)
    assert m.mu.shape == (3, 300) and m.chains == 3
    assert m.draws()["sigma2"].shape == (3, 300)


def test_same_seed_same_draws_any_threads() -> None:
    a = ScaledTModel(X, 4, seed=9).run(200, 500, chains=5, threads=1)
    b = ScaledTModel(X, 4, seed=9).run(200, 500, chains=5, threads=2)
    c = ScaledTModel(X, 4, seed=9).run(200, 500, chains=5, threads=0)
    assert np.array_equal(a.mu, b.mu) and np.array_equal(a.sigma2, c.sigma2)
    one = ScaledTModel(X, 4, seed=9).run(200, 500)
    assert np.array_equal(one.mu, a.mu[0])  # chain 0's stream ignores the other chains
    again = a.run(200, 500, chains=5)
    assert np.array_equal(again.mu, b.mu)  # every run starts afresh from the seed
    other = ScaledTModel(X, 4, seed=10).run(200, 500, chains=5)
    assert not np.array_equal(other.mu, a.mu)


def test_chains_that_move_between_threads_keep_their_draws() -> None:
    # With 2000 points a chain runs in segments of 32 sweeps (down to 4 near the end of the run),
    # each taken by whichever worker is free, so the chains change threads many times within a
    # run: the draws must not notice.
    x = np.random.default_rng(3).standard_t(5, 2000) * 2.0 + 1.0
    runs = [ScaledTModel(x, 5, seed=4).run(100, 300, chains=3, threads=t) for t in (1, 2, 3)]
    for r in runs[1:]:
        assert np.array_equal(r.mu, runs[0].mu) and np.array_equal(r.sigma2, runs[0].sigma2)


def test_seed_none_is_recorded_and_reproducible() -> None:
    m = ScaledTModel(X, 4).run(50, 100)
    assert isinstance(m.seed, int) and 0 <= m.seed < 2**64
    again = ScaledTModel(X, 4, seed=m.seed).run(50, 100)
    assert np.array_equal(m.mu, again.mu)


def test_thin_keeps_every_kth_sweep() -> None:
    full = ScaledTModel(X, 4, seed=1).run(10, 60)
    thin = ScaledTModel(X, 4, seed=1).run(10, 20, thin=3)
    assert np.array_equal(thin.mu, full.mu[2::3])
    shifted = ScaledTModel(X, 4, seed=1).run(16, 54)
    assert np.array_equal(shifted.mu, full.mu[6:])  # burn-in is just the first sweeps


def test_init_is_used_and_validated() -> None:
    m = ScaledTModel(X, 4, seed=1)
    up = m.run(0, 5, chains=2, init={"mu": [1e3, 2e3], "sigma2": 1.0}).mu.copy()
    down = m.run(0, 5, chains=2, init={"mu": -1e3, "sigma2": [1.0, 2.0]}).mu.copy()
    default = m.run(0, 5, chains=2).mu.copy()
    # Same streams, different starts: the draws differ (one Gibbs sweep already forgets most of
    # a start, so the first draws are all near the data).
    assert not np.array_equal(up[:, 0], down[:, 0])
    assert not np.array_equal(up[:, 0], default[:, 0])
    with pytest.raises(ValueError, match=r"init\['sigma2'\]"):
        m.run(0, 1, init={"sigma2": -1.0})
    with pytest.raises(ValueError, match=r"init\['mu'\]"):
        m.run(0, 1, chains=2, init={"mu": [1.0, 2.0, 3.0]})
    with pytest.raises(ValueError, match="unknown keys"):
        m.run(0, 1, init={"tau": 1.0})
    with pytest.raises(TypeError, match="init"):
        m.run(0, 1, init=[1.0])  # type: ignore[arg-type]
    for bad in (True, "1.5", [1.0, "2"], 1 + 0j, None, [True, 1.0], np.array([True, False])):
        with pytest.raises(TypeError, match=r"init\['mu'\]"):  # not converted without a word
            m.run(0, 1, chains=2, init={"mu": bad})
    with pytest.raises(ValueError, match=r"init\['mu'\]: a value beyond the float range"):
        m.run(0, 1, chains=2, init={"mu": 10**400})
    with pytest.raises(TypeError, match=r"init\['mu'\]: .* too large to print"):  # no repr()
        m.run(0, 1, chains=2, init={"mu": [10**5000, "x"]})
    same = m.run(0, 5, chains=2, init={"mu": 1.5}).mu.copy()
    for good in (Fraction(3, 2), Decimal("1.5"), [np.float32(1.5), 3 // 2 + 0.5]):
        assert np.array_equal(m.run(0, 5, chains=2, init={"mu": good}).mu, same), good
    m.run(0, 1, chains=2, init={"mu": [10**20, 3 * 10**20]})  # ints of any size


def test_input_is_copied_not_modified() -> None:
    x = X.copy()
    m = ScaledTModel(x, 4, seed=1)
    x[:] = 0.0
    m.run(10, 10)
    assert np.array_equal(m.data, X)
    y = X.copy()
    ScaledTModel(y, 4, seed=1).run(10, 10)
    assert np.array_equal(y, X)
    ScaledTModel(list(X), 4, seed=1).run(5, 5)  # lists work too


@pytest.mark.parametrize(
    ("data", "nu", "match"),
    [
        (X, 0.0, "nu"), (X, -2.0, "nu"), (X, float("inf"), "nu"), (X, float("nan"), "nu"),
        ([1.0, float("nan"), 2.0], 4.0, r"data\[1\]"), ([1.0, float("inf")], 4.0, "data"),
        ([1.0], 4.0, "at least 2"), ([], 4.0, "at least 2"), ([2.0, 2.0, 2.0], 4.0, "equal"),
        ([1.0, 1.0, 2.0], 1.0, "improper"), ([[1.0, 2.0], [3.0, 4.0]], 4.0, "1-D"),
        (list(range(50)), 1e-3, "improper or puts real mass"),
        ([-1e200, 0.0, 1e200], 4.0, "range"), ([0.0, 1e-160, 2e-160], 4.0, "range"),
    ],
)
def test_bad_data_and_nu(data: object, nu: float, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        ScaledTModel(data, nu)  # type: ignore[arg-type]


def test_bad_types() -> None:
    with pytest.raises(TypeError, match="nu"):
        ScaledTModel(X, "6")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="seed"):
        ScaledTModel(X, 6, seed=1.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="seed"):
        ScaledTModel(X, 6, seed=-1)
    with pytest.raises(ValueError, match="prior"):
        ScaledTModel(X, 6, prior="jeffreys")
    with pytest.raises(ValueError, match="at least 4"):
        ScaledTModel([1.0, 2.0, 3.0], 6, prior="flat")
    # Not real numbers: refused rather than cast (NumPy would drop the imaginary part, ignore
    # the mask, or read True as 1).
    for bad in (X + 1j, np.ma.masked_array(X, mask=[0] * (X.size - 1) + [1]),
                [True, False, True], ["1", "2", "3"]):
        with pytest.raises(TypeError, match="data"):
            ScaledTModel(bad, 6)
    assert ScaledTModel(X, np.array(6.0)).nu == 6.0  # a 0-d array, as NumPy reductions give


def test_the_range_allowed_narrows_with_few_points() -> None:
    """With n = 2 the posterior of sigma has a 1/t upper tail: data spread over 1e150 overflowed
    sigma^2 in about 1 run in 10 (4 chains x 3000 sweeps). The check now asks for 20 digits of
    headroom in each tail (hl_tmodel_range_bounds): 1.3e134 for n = 2, 1e150 from n = 6."""
    with pytest.raises(ValueError, match="heavy tails"):
        ScaledTModel([-5e149, 5e149], 4.0)
    with pytest.raises(ValueError, match="heavy tails"):
        ScaledTModel([0.0, 1e-140], 1.0)  # lower tail: P(sigma < t R) ~ t^(nu (n - 1))
    lo2, hi2 = hl_core._tmodel_range_bounds(2, 4.0, 0)
    assert hi2 == pytest.approx(1.3e134) and lo2 == pytest.approx(1.5e-149)
    assert hl_core._tmodel_range_bounds(6, 20.0, 0) == (1e-150, 1e150)
    ScaledTModel(np.linspace(-5e149, 5e149, 6), 4.0)  # six points may spread that far
    # At the edge, no draw leaves the doubles: the chance is about 1e-20 per draw, so this
    # test's false-failure rate is nil; before the change 10 % of such runs failed.
    for seed in range(20):
        for x, nu in (([-6.4e133, 6.4e133], 4.0), ([0.0, 1.6e-134], 1.0)):
            m = ScaledTModel(x, nu, seed=seed).run(500, 1000, chains=4)
            assert np.all(np.isfinite(m.sigma2)) and np.all(m.sigma2 > 1e-300)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"burn_in": -1}, "burn_in"), ({"sample_size": 0}, "sample_size"), ({"thin": 0}, "thin"),
     ({"chains": 0}, "chains"), ({"threads": -1}, "threads")],
)
def test_bad_run_arguments(kwargs: dict[str, int], match: str) -> None:
    m = ScaledTModel(X, 4, seed=1)
    with pytest.raises(ValueError, match=match):
        m.run(**kwargs)
    with pytest.raises(TypeError, match="sample_size"):
        m.run(sample_size=2.5)  # type: ignore[arg-type]


def test_counts_take_numpy_integers_and_0d_arrays() -> None:
    """As the other kernels' counts: anything operator.index takes, same draws as plain ints;
    a 0-d float array or a 1-element array is refused, named with its dtype and shape."""
    want = ScaledTModel(X, 4, seed=3).run(10, 20, chains=2, thin=2)
    got = ScaledTModel(X, np.array(4.0), seed=3).run(
        np.array(10), np.int32(20), chains=np.uint8(2), thin=np.array(2, dtype=np.int16))
    assert np.array_equal(got.mu, want.mu) and np.array_equal(got.sigma2, want.sigma2)
    m = ScaledTModel(X, 4, seed=3)
    with pytest.raises(TypeError, match=r"^burn_in: expected an int, got ndarray of dtype "
                                        r"float64 and shape \(\)"):
        m.run(np.array(10.0), 20)
    with pytest.raises(TypeError, match=r"^chains: .* shape \(1,\)"):
        m.run(10, 20, chains=np.array([2]))


def test_results_before_run_raise() -> None:
    m = ScaledTModel(X, 4)
    for attr in ("mu", "sigma2"):
        with pytest.raises(RuntimeError, match="run"):
            getattr(m, attr)
    with pytest.raises(RuntimeError, match="run"):
        m.get_mu()
    with pytest.raises(RuntimeError, match="run"):
        m.summary()
    assert "not run" in repr(m)


def test_sizes_beyond_memory_raise_before_allocating() -> None:
    m = ScaledTModel(X, 4, seed=1)
    with pytest.raises(MemoryError, match="GiB"):
        m.run(0, 10**12, chains=4)
    # The chains' own states count too (about 430 bytes each against 16 for one draw).
    phys = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    with pytest.raises(MemoryError, match="states"):
        m.run(0, 1, chains=phys // 100)
    with pytest.raises(ValueError, match="sweeps"):
        m.run(2**62, 10, thin=2**61)


def test_ties_in_large_data_are_counted_exactly() -> None:
    # Past a few thousand points the tie count comes from the C radix sort: the boundary of
    # nu (n - k) - k + 1 >= 1 with nu = 1, n = 6000 is k = 3000, so 2999 ties pass and 3001
    # fail, wherever the tied points sit and whatever their sign (-0.0 and 0.0 are equal).
    rng = np.random.default_rng(5)
    base = rng.normal(size=6000) * 1e3
    ok, bad = base.copy(), base.copy()
    ok[rng.permutation(6000)[:2999]] = -2.5
    tied = rng.permutation(6000)[:3001]
    bad[tied] = 0.0
    bad[tied[::2]] = -0.0
    check_data(ok, 1.0)
    with pytest.raises(ValueError, match="3001 of 6000 points are equal"):
        check_data(bad, 1.0)
    assert hl_core._tmodel_ties(bad) == 3001 and hl_core._tmodel_ties(ok) == 2999


def test_check_data_returns_a_float_copy() -> None:
    out = check_data([1, 2, 3], 2.0)
    assert out.dtype == np.float64 and list(out) == [1.0, 2.0, 3.0]


def test_many_short_chains_match_across_threads() -> None:
    """Thousands of chains of a few sweeps (the chain queue hands them out in O(log chains)):
    each chain's draws do not depend on the thread count."""
    m1 = ScaledTModel(X, 4, seed=9).run(2, 3, chains=5000, threads=1)
    m2 = ScaledTModel(X, 4, seed=9).run(2, 3, chains=5000, threads=3)
    assert np.array_equal(m1.mu, m2.mu) and np.array_equal(m1.sigma2, m2.sigma2)
    one = ScaledTModel(X, 4, seed=9).run(2, 3, chains=5000, threads=2)
    assert np.array_equal(one.mu[4321], m1.mu[4321])


def test_n3_a_million_sweeps_stays_finite() -> None:
    m = ScaledTModel([-1.0, 0.25, 3.0], 2.0, seed=4).run(1_000_000, 1000)
    assert np.all(np.isfinite(m.mu)) and np.all(np.isfinite(m.sigma2) & (m.sigma2 > 0))


def test_ctrl_c_interrupts_within_100ms_and_model_stays_usable() -> None:
    x = np.random.default_rng(0).standard_t(4, 20_000)
    m = ScaledTModel(x, 4, seed=1).run(10, 10)
    before = m.mu.copy()
    t0 = time.perf_counter()
    with interrupt_after(0.2), pytest.raises(KeyboardInterrupt):
        m.run(10**6, 10, chains=2)  # hours of work if not interrupted
    elapsed = time.perf_counter() - t0
    assert elapsed < 0.2 + 0.1 + 0.15  # the interrupt lands 0.2 s in; answered within ~0.1 s
    assert np.array_equal(m.mu, before)
    m.run(10, 10)  # still usable


def test_ctrl_c_during_the_setup_of_many_chains_on_much_data() -> None:
    """The chains' starting values come from the data's mean and variance: once for all chains
    (each chain made its own two passes, 20000 x 2 x 400k points here, seconds unpolled), so
    the run reaches its polled segments at once."""
    x = np.random.default_rng(0).standard_t(4, 400_000)
    m = ScaledTModel(x, 4, seed=1)
    t0 = time.perf_counter()
    with interrupt_after(0.2), pytest.raises(KeyboardInterrupt):
        m.run(0, 1, chains=20_000)  # seconds of sweeps if not interrupted
    assert time.perf_counter() - t0 < 0.2 + 0.1 + 0.15


def test_progress_bar_draws(capsys: pytest.CaptureFixture[str]) -> None:
    ScaledTModel(X, 4, seed=1).run(50_000, 10, progress=True)
    err = capsys.readouterr().err
    assert "gibbs" in err and ("100" in err or "#" in err)


def test_progress_bar_without_stderr(monkeypatch: pytest.MonkeyPatch) -> None:
    """pythonw and some service processes have sys.stderr = None: no bar, and no error."""
    monkeypatch.setattr("sys.stderr", None)
    m = ScaledTModel(X, 4, seed=1).run(50, 10, progress=True)
    assert np.array_equal(m.mu, ScaledTModel(X, 4, seed=1).run(50, 10).mu)


def test_repeated_runs_do_not_leak() -> None:
    m = ScaledTModel(X, 4, seed=1)
    for _ in range(5):
        m.run(10, 1000, chains=2)
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    for _ in range(50):
        m.run(10, 1000, chains=2)
    grown = tracemalloc.get_traced_memory()[0] - base
    tracemalloc.stop()
    assert grown < 200_000  # two (2, 1000) result arrays are 32 kB
    # The C side (chain states, thread scratch) is invisible to tracemalloc: watch the RSS.
    page = os.sysconf("SC_PAGE_SIZE")

    def rss() -> int:
        with open("/proc/self/statm", encoding="ascii") as f:
            return int(f.read().split()[1]) * page

    before = rss()
    for _ in range(300):
        m.run(10, 1000, chains=4, threads=2)
    assert rss() - before < 8 * 2**20


@pytest.mark.filterwarnings("error")  # no RuntimeWarning either
@pytest.mark.parametrize("chains, draws", [(1, 1), (2, 1), (1, 3), (4, 3)])
def test_summary_of_too_few_draws_is_nan_not_an_error(chains: int, draws: int) -> None:
    s = ScaledTModel(X, 4, seed=1).run(10, draws, chains=chains).summary()
    for p in (s["mu"], s["sigma2"]):
        assert math.isfinite(p.mean)
        assert math.isnan(p.sd) == (chains * draws == 1)
        assert all(math.isnan(v) for v in (p.mcse_mean, p.mcse_sd, p.ess_bulk, p.ess_tail,
                                           p.r_hat))
    assert "nan" in str(s)


def test_mcse_sd_of_constant_draws_is_nan() -> None:
    assert math.isnan(diagnostics.mcse_sd(np.full((2, 10), 3.0)))
    assert diagnostics.ess(np.full((2, 10), 3.0)) == 20.0  # ArviZ's convention: all of them


def test_summary_values_and_table() -> None:
    m = ScaledTModel(X, 4, seed=1).run(500, 2000, chains=4)
    s = m.summary()
    mu = m.mu
    assert math.isclose(s["mu"].mean, float(mu.mean()))
    assert math.isclose(s["mu"].q50, float(np.median(mu)))
    assert 0.99 < s["mu"].r_hat < 1.02 and s["sigma2"].ess_bulk > 1000
    assert s["sigma2"].mcse_mean > 0
    text = str(s)
    assert "ess_bulk" in text and "r_hat" in text and "sigma2" in text
    assert set(s.to_dict()) == {"mu", "sigma2"}
    one = ScaledTModel(X, 4, seed=1).run(100, 400).summary()  # split R-hat with one chain
    assert math.isfinite(one["mu"].r_hat)
    # negative values with 3-digit exponents ("-3.412e+100", 11 characters) keep their columns
    huge = str(ScaledTModel(-X * 1e100, 4, seed=1).run(100, 400, chains=2).summary())
    for row in huge.splitlines()[1:]:
        assert len(row.split()) == (10 if row.startswith(" ") else 11), row


@pytest.mark.filterwarnings("error")
def test_a_range_beyond_the_doubles_is_one_error_without_warnings() -> None:
    with pytest.raises(ValueError, match="range max - min = inf"):
        ScaledTModel([1e308, -1e308, 0.0], 4)


@pytest.mark.filterwarnings("error")
def test_summary_is_scale_equivariant_over_the_accepted_range() -> None:
    """Data at 1e-100 or 1e140 (the sampler accepts ranges up to 1e150) give the summary of
    the same data at scale 1, scaled: ArviZ's formulas overflowed in the squares of sigma^2
    from about 1e38 (OverflowError), underflowed to 0 below 1e-40, and took draws at 1e-20 for
    constant (MCSE 25% low)."""
    base = np.random.default_rng(3).standard_t(4, 50)
    want = ScaledTModel(base, 4, seed=1).run(100, 1000, chains=4).summary()
    for scale in (1e-100, 1e-40, 1e-20, 1e38, 1e100, 1e140):
        got = ScaledTModel(base * scale, 4, seed=1).run(100, 1000, chains=4).summary()
        for name, power in (("mu", 1), ("sigma2", 2)):
            g, w = dataclasses.asdict(got[name]), dataclasses.asdict(want[name])
            for col, value in w.items():
                unit = 1.0 if col.startswith(("ess", "r_hat")) else scale**power
                assert math.isclose(g[col] / unit, value, rel_tol=1e-9), (scale, name, col)


@pytest.mark.filterwarnings("error")
def test_diagnostics_of_draws_near_the_largest_double() -> None:
    a = np.random.default_rng(0).uniform(0.5, 1.0, (4, 100)) * 1.6e308  # 2^1024 is not a double
    small = a / 2.0**1000
    assert math.isclose(diagnostics.ess(a), diagnostics.ess(small), rel_tol=1e-12)
    for f in (diagnostics.mcse_mean, diagnostics.mcse_sd):
        assert math.isclose(f(a) / 2.0**1000, f(small), rel_tol=1e-12)


def test_rhat_flags_chains_that_disagree() -> None:
    rng = np.random.default_rng(1)
    good = rng.standard_normal((4, 1000))
    bad = good + np.array([[0.0], [0.0], [0.0], [2.0]])
    assert diagnostics.rhat(good) < 1.01
    assert diagnostics.rhat(bad) > 1.1
    trend = good + np.linspace(0, 3, 1000)  # a trend inside each chain: split R-hat sees it
    assert diagnostics.rhat(trend) > 1.1


def test_ess_of_known_ar1() -> None:
    """AR(1) with phi has ESS/draw (1 - phi) / (1 + phi)."""
    rng = np.random.default_rng(2)
    phi, n = 0.8, 200_000
    e = rng.standard_normal(n)
    x = np.empty(n)
    x[0] = e[0]
    for t in range(1, n):
        x[t] = phi * x[t - 1] + math.sqrt(1 - phi**2) * e[t]
    got = diagnostics.ess(x) / n
    assert abs(got - (1 - phi) / (1 + phi)) < 0.01
    assert abs(diagnostics.batch_means_se(x, 20) - 3.0 / math.sqrt(n)) < 0.3 / math.sqrt(n)


def test_norm_ppf_against_known_values() -> None:
    assert abs(float(diagnostics.norm_ppf(0.975)) - 1.959963984540054) < 1e-14
    assert abs(float(diagnostics.norm_ppf(1e-6)) + 4.753424308822899) < 1e-12
    assert float(diagnostics.norm_ppf(0.5)) == 0.0


HAS_ARVIZ = importlib.util.find_spec("arviz") is not None


@pytest.mark.skipif(not HAS_ARVIZ, reason="arviz not installed")
@pytest.mark.filterwarnings("ignore::FutureWarning")
@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # ArviZ's own, on too few draws
@pytest.mark.filterwarnings("ignore:More chains:UserWarning")  # ArviZ's guess at the layout
@pytest.mark.parametrize("chains, draws", [
    (3, 1500), (2, 8), (4, 10),
    (4, 4), (4, 5), (4, 6), (4, 7),  # split chains of 2 and 3 draws: no lags to sum
    (4, 3), (1, 1), (1, 6),  # too few draws: NaN (one chain: R-hat aside, below)
])
def test_diagnostics_match_arviz(chains: int, draws: int) -> None:
    import arviz as az

    m = ScaledTModel(X, 4, seed=5).run(200, draws, chains=chains)
    idata = m.to_inference_data()
    assert isinstance(idata, az.InferenceData)
    assert idata.posterior["mu"].shape == (chains, draws)
    ours = m.summary()
    theirs = az.summary(idata, round_to="none", stat_focus="mean")
    columns = ["mean", "sd", "ess_bulk", "ess_tail", "mcse_mean", "mcse_sd"]
    if chains > 1:  # ArviZ gives no R-hat for one chain; hotloop splits it, as Stan does
        columns.append("r_hat")
    for name in ("mu", "sigma2"):
        for col in columns:
            val, want = getattr(ours[name], col), float(theirs.loc[name, col])
            assert (math.isnan(val) and math.isnan(want)) or math.isclose(
                val, want, rel_tol=1e-8), (name, col, val, want)


@pytest.mark.skipif(not HAS_ARVIZ, reason="arviz not installed")
@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # ArviZ's own 0/0
@pytest.mark.parametrize("draws", [
    [[2.5] * 10] * 4,  # constant: R-hat and MCSE NaN
    [[1.0, 0.0] * 4, [0.0, 1.0] * 4],  # the folded draws are constant
    [[0.0, 0.0, 1.0, 1.0]] * 2,  # constant split chains that disagree: R-hat inf
    [[0.0, 0.0, 1.0, 1.0], [0.0, 0.0, 1.0, 1.0], [3.0] * 4],
])
def test_degenerate_draws_match_arviz(draws: list[list[float]]) -> None:
    import arviz as az

    a = np.array(draws)
    ours = summarize(a)
    theirs = az.summary(az.convert_to_inference_data({"x": a}), round_to="none")
    for col in ("ess_bulk", "ess_tail", "r_hat", "mcse_mean", "mcse_sd"):
        val, want = getattr(ours, col), float(theirs.loc["x", col])
        assert (math.isnan(val) and math.isnan(want)) or val == want or math.isclose(
            val, want, rel_tol=1e-8), (col, val, want)


def test_to_inference_data_without_arviz(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "arviz", None)
    m = ScaledTModel(X, 4, seed=5).run(10, 10)
    with pytest.raises(ImportError, match=r"pip install 'hotloop\[arviz\]'"):
        m.to_inference_data()


# ---- CLI -------------------------------------------------------------------------------------


def test_cli_gibbs_prints_summary_and_writes_draws(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "data.csv"
    data.write_text("x,other\n" + "\n".join(f"{v},1" for v in X) + "\n")
    out = tmp_path / "draws.csv"
    code = cli_main(["gibbs", str(data), "--nu", "4", "--draws", "300", "--burn-in", "50",
                     "--chains", "2", "--seed", "3", "-o", str(out)])
    assert code == 0
    text = capsys.readouterr().out
    assert "seed 3" in text and "r_hat" in text and "sigma2" in text
    table = np.loadtxt(out, delimiter=",", skiprows=1)
    assert table.shape == (600, 4)
    ref = ScaledTModel(X, 4, seed=3).run(50, 300, chains=2)
    assert np.array_equal(table[:, 2].reshape(2, 300), ref.mu)


def test_cli_gibbs_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "d.csv"
    data.write_text("1\n2\nabc\n")
    assert cli_main(["gibbs", str(data), "--nu", "4"]) == 1
    assert "first column" in capsys.readouterr().err
    data.write_text("1\n1\n1\n")
    assert cli_main(["gibbs", str(data), "--nu", "4"]) == 1
    assert "equal" in capsys.readouterr().err
    assert cli_main(["gibbs", str(tmp_path / "missing.csv"), "--nu", "4"]) == 1
    with pytest.raises(SystemExit):
        cli_main(["gibbs", str(data), "--nu", "nan"])
    # An output in a missing directory fails before the run (no summary printed).
    data.write_text("1\n2\n4\n")
    capsys.readouterr()
    bad_out = str(tmp_path / "nowhere" / "draws.csv")
    assert cli_main(["gibbs", str(data), "--nu", "4", "-o", bad_out]) == 1
    out, err = capsys.readouterr()
    assert "does not exist" in err and "mean" not in out


@pytest.mark.parametrize(("flags", "words"), [
    (["--nu", "0"], "--nu"), (["--nu", "-1"], "--nu"), (["--nu", "inf"], "--nu"),
    (["--nu", "4", "--seed", str(2**64)], "--seed"), (["--nu", "4", "--seed", "-1"], "--seed"),
    (["--nu", "4", "--plot", "t.txt"], ".png"),
])
def test_cli_gibbs_bad_arguments_exit_2_before_the_run(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], flags: list[str],
        words: str) -> None:
    data = tmp_path / "d.csv"
    data.write_text("\n".join(str(v) for v in X))
    out = tmp_path / "draws.csv"
    with pytest.raises(SystemExit) as info:
        cli_main(["gibbs", str(data), *flags, "-o", str(out)])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "usage:" in err and words in err, err
    assert not out.exists()


@pytest.mark.filterwarnings("error")
def test_cli_gibbs_empty_inputs_and_outputs_are_one_line_errors(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "d.csv"
    for text in ("", "value\n"):  # nothing, or a header alone: no loadtxt warning
        data.write_text(text)
        assert cli_main(["gibbs", str(data), "--nu", "4"]) == 1
        assert "no data" in capsys.readouterr().err
    data.write_text("\n".join(str(v) for v in X))
    assert cli_main(["gibbs", str(data), "--nu", "4", "-o", ""]) == 1  # was silently ignored
    out, err = capsys.readouterr()
    assert "output file name is empty" in err and "mean" not in out


def test_cli_gibbs_reads_a_utf8_bom_file(tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    """Excel's "CSV UTF-8" starts with a byte-order mark: the first value must not be taken
    for a header and dropped."""
    data = tmp_path / "bom.csv"
    data.write_text("10.0\n1\n2\n3\n4\n", encoding="utf-8-sig")
    assert cli_main(["gibbs", str(data), "--nu", "4", "--draws", "50", "--burn-in", "10",
                     "--seed", "1"]) == 0
    assert "n = 5," in capsys.readouterr().out


def test_cli_gibbs_plot(tmp_path: Path) -> None:
    data = tmp_path / "d.csv"
    data.write_text("\n".join(str(v) for v in X))
    png = tmp_path / "trace.png"
    assert cli_main(["gibbs", str(data), "--nu", "4", "--draws", "200", "--plot", str(png)]) == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_cli_gibbs_as_a_user_runs_it(tmp_path: Path) -> None:
    data = tmp_path / "d.csv"
    data.write_text("\n".join(str(v) for v in X))
    proc = subprocess.run([sys.executable, "-m", "hotloop", "gibbs", str(data), "--nu", "4",
                           "--draws", "200", "--seed", "1"], capture_output=True, text=True,
                          timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    assert "mu" in proc.stdout


# ---- bench and reference twins ---------------------------------------------------------------


def test_bench_workloads_quick_smoke() -> None:
    from hotloop.bench import run_workload
    from hotloop.bench.tmodel import workloads

    ws = workloads(quick=True)
    assert len(ws) == 2
    w = ws[0]
    w.impls = [i for i in w.impls if "Python" not in i.name and "numba" not in i.name]
    results = run_workload(w, repeats=1)
    assert all(r.status == "ok" for r in results.values()), results
    assert w.extra_report is not None
    lines = w.extra_report(results)
    assert any("effective samples/s" in line for line in lines)


def test_python_twin_runs_and_agrees_roughly() -> None:
    from hotloop.reference.tmodel import PythonScaledTModel

    py = PythonScaledTModel(list(X), 4, seed=1).run(200, 1500)
    hot = ScaledTModel(X, 4, seed=1).run(200, 20_000)
    assert len(py.get_mu()) == 1500
    assert abs(float(np.mean(py.get_mu())) - float(hot.mu.mean())) < 0.3


def test_fold_is_what_keeps_long_runs_finite() -> None:
    """The textbook sampler (no fold) lets log alpha random-walk until it overflows at n = 3
    (the core then raises OverflowError instead of returning NaN); the folded one, same seed,
    stays finite."""
    x = [-1.0, 0.25, 3.0]
    with pytest.raises(OverflowError, match="range of doubles"):
        ScaledTModel(x, 2.0, seed=1)._run(3_000_000, 10, chains=1, thin=1, threads=None,
                                          init=None, progress=False, variant="nofold")
    m = ScaledTModel(x, 2.0, seed=1).run(3_000_000, 10)
    assert np.all(np.isfinite(m.mu)) and np.all(m.sigma2 > 0)


def test_scalar_path_gives_the_same_draws_through_python() -> None:
    """The U pass's SIMD variants and the portable scalar code give the same bits (also checked
    in C); here through the binding, with the features masked in a child process."""
    code = ("import numpy as np, sys; from hotloop.tmodel import ScaledTModel; "
            "x = np.linspace(-3, 5, 203) ** 3 / 10; "
            "m = ScaledTModel(x, 3.0, seed=8).run(100, 200, chains=2); "
            "sys.stdout.write(m.mu.tobytes().hex() + m.sigma2.tobytes().hex())")
    outs = []
    for mask in ("", "avx512", "avx512,avx2"):
        env = {**os.environ, "HOTLOOP_DISABLE_CPU_FEATURES": mask}
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                              env=env, timeout=120, check=False)
        assert proc.returncode == 0, proc.stderr
        outs.append(proc.stdout)
    assert outs[0] == outs[1] == outs[2]


@settings(max_examples=40, deadline=None)
@given(
    x=arrays(np.float64, st.integers(2, 40),
             elements=st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)),
    nu=st.floats(0.2, 50.0),
)
def test_any_valid_data_gives_finite_draws(x: np.ndarray, nu: float) -> None:
    """Property: data that check_data accepts never gives NaN, inf or sigma^2 <= 0 (and is left
    unmodified); data it refuses raise ValueError, never a crash."""
    original = x.copy()
    try:
        model = ScaledTModel(x, nu, seed=1)
    except ValueError:
        return
    model.run(20, 30, chains=2)
    assert np.all(np.isfinite(model.mu)) and np.all(np.isfinite(model.sigma2))
    assert np.all(model.sigma2 > 0)
    assert np.array_equal(x, original)


def test_draws_scale_with_the_data() -> None:
    """The sampler standardises the data, so scaling it by a power of two scales the draws
    exactly, and data at 1e100 or 1e-100 runs."""
    base = ScaledTModel(X, 4, seed=2).run(50, 200, chains=2)
    for f in (2.0**330, 2.0**-330):
        m = ScaledTModel(X * f, 4, seed=2).run(50, 200, chains=2)
        assert np.array_equal(m.mu, base.mu * f)
        assert np.array_equal(m.sigma2, base.sigma2 * f * f)
    shifted = ScaledTModel(X + 1e9, 4, seed=2).run(50, 200, chains=2)
    assert np.allclose(shifted.mu - 1e9, base.mu, atol=1e-6)


def test_demo_part_runs_and_writes_its_picture(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    from hotloop.demo import tmodel as demo

    demo.run(tmp_path)
    out = capsys.readouterr().out
    assert "oracle" in out and "z = " in out
    assert (tmp_path / "tmodel_trace.png").read_bytes()[:4] == b"\x89PNG"


def test_plot_without_matplotlib_draws_with_pillow(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    from hotloop.tmodel.plot import plot_draws

    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib -> ImportError
    model = ScaledTModel(X, 4, seed=3).run(50, 300, chains=2)
    png = tmp_path / "trace.png"
    plot_draws(model.draws(), png, marks={"mu": 0.0, "sigma2": 1.0}, title="pillow")
    from PIL import Image

    with Image.open(png) as img:
        assert img.size == (1000, 600)
        pixels = np.asarray(img.convert("RGB")).reshape(-1, 3)
    colours = {tuple(int(v) for v in p) for p in pixels[:: 7]}
    assert (255, 0, 0) in colours  # the dashed marks
    assert (31, 119, 180) in colours and (255, 127, 14) in colours  # two chains


def test_a_sigma2_below_the_normal_doubles_is_refused_not_returned() -> None:
    """Near-ties far closer than the range (0 and 2e-205 in a range of 2e-145) put the
    posterior's lower tail below the doubles: such draws once came back as 0.0 and subnormals
    (44 zeros in these 20000 draws); now the run raises OverflowError, as documented."""
    with pytest.raises(OverflowError, match="range of doubles"):
        ScaledTModel([0.0, 2e-205, 2e-145], nu=1.1, seed=1).run(1000, 5000, chains=4)


def test_cli_gibbs_reports_a_run_that_leaves_the_doubles_in_one_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "d.csv"
    data.write_text("0\n1e-300\n1\n")
    assert cli_main(["gibbs", str(data), "--nu", "0.6", "--seed", "1"]) == 1
    err = capsys.readouterr().err
    # named by the file, not the API's "tmodel.run" and its "init" (no such flag)
    assert err.startswith(f"hotloop gibbs: error: {data}: a draw left the range of doubles")
    assert "init" not in err and "tmodel.run" not in err
    assert "Traceback" not in err and err.count("\n") == 1


@pytest.mark.parametrize("bad", [
    [True, 2.0, 3.0], [1.0, 2.0, np.True_], np.array([1, "2", 3], dtype=object),
    np.array([True, False, 2], dtype=object), [1.0, None, 3.0],
])
def test_data_holding_bools_strings_or_none_is_refused(bad: object) -> None:
    """NumPy reads these as numbers (True as 1.0, '2' as 2.0 in an object array, None as
    NaN); check_data's docstring promises a TypeError naming the element."""
    with pytest.raises(TypeError, match=r"data: expected real numbers, got data\[\d\]"):
        check_data(bad, 3)  # type: ignore[arg-type]
    assert check_data(np.array([1, Decimal("2.5"), Fraction(7, 2)], dtype=object), 3).tolist() \
        == [1.0, 2.5, 3.5]


def test_huge_numbers_are_named() -> None:
    with pytest.raises(ValueError, match=r"nu: expected a number in \(0, 1e\+100\], got an "
                                         r"integer of about 401 digits"):
        check_data(X, 10**400)
    with pytest.raises(ValueError, match=r"nu: .* got a Fraction too large"):
        check_data(X, Fraction(10**400, 3))
    with pytest.raises(ValueError, match="data: a value beyond the float range"):
        check_data([0, 1, 10**400], 3)
    model = ScaledTModel(X, 4, seed=1)
    for kwargs, name in (({"burn_in": -10**5000}, "burn_in"), ({"chains": -10**5000}, "chains"),
                         ({"threads": -10**5000}, "threads")):
        with pytest.raises(ValueError, match=f"{name}: .*a negative integer of about 5001 digits"):
            model.run(**({"burn_in": 1, "sample_size": 1} | kwargs))  # type: ignore[arg-type]
    with pytest.raises(MemoryError, match="chains = an integer of about 401 digits"):
        model.run(1, 1, chains=10**400)
    with pytest.raises(ValueError, match=r"seed: .*an integer of about 5001 digits"):
        ScaledTModel(X, 4, seed=10**5000)
    assert check_data(X, Decimal("3.5")).size == X.size  # a Decimal nu, as Decimal data


def test_nu_beyond_the_bound_is_refused_and_the_bound_runs() -> None:
    """Beyond about 1e305 / n the sampler's products of nu overflowed (from 1e150 with starts
    far from the data), and a run failed with an error that blamed the data. nu is now bounded
    at 1e100, which runs even from the farthest starts allowed (the clamps at 1e-100 and 1e100
    data scales)."""
    with pytest.raises(ValueError, match="normal model"):
        ScaledTModel(X, 1.01e100)
    x = np.random.default_rng(0).normal(size=2000)
    model = ScaledTModel(x, 4, seed=1)
    model._nu = 1e101  # past the Python check: the core refuses it too
    with pytest.raises(ValueError):
        model.run(1, 1)
    for init in (None, {"sigma2": 1e-300, "mu": 1e300}, {"sigma2": 1e300, "mu": -1e300}):
        m = ScaledTModel(x, 1e100, seed=1).run(50, 200, chains=2, init=init)
        assert np.all(np.isfinite(m.sigma2)) and np.all(m.sigma2 > 0)
    # nu that large is the normal model: sigma^2's posterior mean is near the sample variance
    assert np.mean(m.sigma2[:, 100:]) == pytest.approx(np.var(x), rel=0.1)


def test_plot_draws_leaves_the_callers_matplotlib_backend(tmp_path: Path) -> None:
    matplotlib = pytest.importorskip("matplotlib")
    import io

    from hotloop.tmodel.plot import plot_draws

    before = matplotlib.get_backend()
    matplotlib.use("svg")
    try:
        model = ScaledTModel(X, 4, seed=3).run(20, 100, chains=2)
        buf = io.BytesIO()
        plot_draws(model.draws(), buf)
        assert buf.getvalue().startswith(b"\x89PNG")
        assert matplotlib.get_backend() == "svg"
    finally:
        matplotlib.use(before)


def test_summary_table_prints_an_infinite_r_hat_as_inf() -> None:
    """Chains that disagree completely (each constant, at different values) have R-hat inf,
    which the table once printed as 'nan' (not computable)."""
    from hotloop.tmodel import Summary

    p = summarize(np.repeat([[1.0], [2.0]], 8, axis=1))
    assert p.r_hat == math.inf
    row = str(Summary({"mu": p}, chains=2, draws=8)).splitlines()[-1]
    assert row.split()[-1] == "inf"


# ---- masked values, progress flags, diagnostics' arguments, summary's work, CLI terms -------


@pytest.mark.filterwarnings("error")  # NumPy's "converting a masked element to nan" included
def test_masked_values_in_init_are_refused() -> None:
    """np.ma.masked became 0.0 and a masked entry the value under the mask, without a word."""
    m = ScaledTModel(X, 6, seed=1)
    for key, bad in (("mu", np.ma.masked), ("sigma2", np.ma.masked),
                     ("mu", np.ma.masked_array([1.0, 2.0], mask=[False, True])),
                     ("mu", [1.0, np.ma.masked]),
                     ("sigma2", np.array([1.0, np.ma.masked], dtype=object))):
        init = {"mu": 0.0, "sigma2": 1.0, key: bad}
        with pytest.raises(TypeError, match=rf"init\['{key}'\]"):
            m.run(10, 10, chains=2, init=init)
    given = np.ma.masked_array([1.0, 2.0], mask=[False, True])
    with pytest.raises(TypeError, match=r"init\['mu'\]: masked values .* init\['mu'\]\[1\]"):
        m.run(10, 10, chains=2, init={"mu": given})
    assert given.mask.tolist() == [False, True] and given.data.tolist() == [1.0, 2.0]
    # Nothing masked: the values are used.
    want = m.run(10, 10, chains=2, init={"mu": [1.0, 2.0]}).mu.copy()
    for fine in (np.ma.masked_array([1.0, 2.0]), np.ma.masked_array([1.0, 2.0], mask=[0, 0])):
        assert np.array_equal(m.run(10, 10, chains=2, init={"mu": fine}).mu, want)


@pytest.mark.filterwarnings("error")
def test_masked_values_in_data_are_refused_and_unmasked_arrays_are_their_values() -> None:
    masked = np.ma.masked_array(X, mask=[False] * 8 + [True, True])
    with pytest.raises(TypeError, match=r"data: masked values .*2 masked, the first data\[8\]"):
        ScaledTModel(masked, 6)
    assert np.array_equal(masked.data, X) and masked.mask.sum() == 2  # left as it was
    with pytest.raises(TypeError, match=r"data: expected real numbers, got data\[3\] = masked"):
        ScaledTModel([*X[:3], np.ma.masked, *X[3:]], 6)  # NumPy: NaN and a UserWarning
    want = ScaledTModel(X, 6, seed=2).run(10, 20).mu
    for fine in (np.ma.masked_array(X), np.ma.masked_array(X, mask=np.zeros(X.size, bool))):
        assert np.array_equal(ScaledTModel(fine, 6, seed=2).run(10, 20).mu, want)


def test_progress_takes_only_true_or_false(capsys: pytest.CaptureFixture[str]) -> None:
    """progress="no" is a true string: it drew a bar."""
    m = ScaledTModel(X, 4, seed=1)
    for bad in ("no", "yes", 1, 0, None, 1.0, print, [True]):
        with pytest.raises(TypeError, match="progress: expected True or False"):
            m.run(10, 10, progress=bad)  # type: ignore[arg-type]
    assert capsys.readouterr().err == ""  # no bar was drawn
    m.run(50_000, 10, progress=np.True_)
    assert "gibbs" in capsys.readouterr().err
    m.run(50_000, 10, progress=np.False_)
    m.run(10, 10, progress=False)
    assert capsys.readouterr().err == ""


def test_batch_means_se_checks_batches() -> None:
    x = np.random.default_rng(4).standard_normal((2, 100))
    for bad in (0, 1, -3, 101):  # 0 raised ZeroDivisionError
        with pytest.raises(ValueError, match=r"batches: expected an int from 2 to 100"):
            diagnostics.batch_means_se(x, bad)
    for bad_type in (2.5, 20.0, True, "20", None):
        with pytest.raises(TypeError, match="batches: expected an int"):
            diagnostics.batch_means_se(x, bad_type)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="draws: batch means need at least 2 draws per chain"):
        diagnostics.batch_means_se(np.ones((3, 1)), 2)
    assert math.isfinite(diagnostics.batch_means_se(x, 100))  # batches of one draw
    assert diagnostics.batch_means_se(x, np.int64(10)) == diagnostics.batch_means_se(x, 10)


DIAGNOSTICS = [diagnostics.ess, diagnostics.ess_bulk, diagnostics.ess_mean, diagnostics.ess_tail,
               diagnostics.mcse_mean, diagnostics.mcse_sd, diagnostics.rhat,
               diagnostics.split_chains, diagnostics.rank_normalize,
               diagnostics.power_of_two_scale, diagnostics.batch_means_se, summarize]


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("func", DIAGNOSTICS, ids=lambda f: f.__name__)
def test_diagnostics_refuse_what_is_not_draws(func: object) -> None:
    """NumPy would cast these to floats without a word (or fail deep inside: no chains)."""
    good = np.random.default_rng(0).standard_normal((2, 40))
    masked = np.ma.masked_array(good, mask=good > 2.0)
    for bad in (good + 1j, good > 0, [[1.0, True, 2.0, 3.0]], [["1", "2", "3", "4"]],
                [[1.0, None, 2.0, 3.0]], masked, [[1.0, np.ma.masked, 2.0, 3.0]]):
        with pytest.raises(TypeError, match="draws: "):
            func(bad)  # type: ignore[operator]
    assert masked.mask.any() and np.array_equal(masked.data, good)  # left as it was
    if func not in (diagnostics.rank_normalize, diagnostics.power_of_two_scale):  # any shape
        for shape in ((0, 40), (2, 2, 10), ()):
            with pytest.raises(ValueError, match=r"draws: expected"):
                func(np.zeros(shape))  # type: ignore[operator]
    # Real numbers of other kinds, and a masked array with nothing masked, are their values.
    want = func(good)  # type: ignore[operator]
    for same in (good.tolist(), np.ma.masked_array(good), good.astype(object)):
        got = func(same)  # type: ignore[operator]
        if isinstance(want, float):
            assert got == want or (math.isnan(got) and math.isnan(want))
        else:
            assert got == want if not isinstance(want, np.ndarray) else np.array_equal(got, want)


def test_norm_ppf_refuses_what_is_not_a_probability() -> None:
    for bad in (1.5, -0.1, float("nan"), [0.5, 2.0]):
        with pytest.raises(ValueError, match=r"p: expected probabilities in \[0, 1\]"):
            diagnostics.norm_ppf(bad)
    for bad_type in ("0.5", 0.5 + 0j, True, [0.5, None]):
        with pytest.raises(TypeError, match="p: expected real numbers"):
            diagnostics.norm_ppf(bad_type)  # type: ignore[arg-type]
    assert -6.66 < float(diagnostics.norm_ppf(0.0)) < -6.65  # clipped at exp(-25), not -inf
    assert 6.65 < float(diagnostics.norm_ppf(1.0)) < 6.66
    assert np.array_equal(diagnostics.norm_ppf([0.5, Fraction(1, 2)]), [0.0, 0.0])


def _ranks_by_unique(x: np.ndarray) -> np.ndarray:
    """The rank normalisation the way it was first written (np.unique's average ranks)."""
    _, inverse, counts = np.unique(x.ravel(), return_inverse=True, return_counts=True)
    avg = (np.cumsum(counts) - counts) + (counts + 1) / 2.0
    ranks = avg[inverse.ravel()].reshape(x.shape)
    return diagnostics.norm_ppf((ranks - 0.375) / (x.size + 0.25))


def test_summary_sorts_each_parameter_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """summary() of 1M draws per parameter took 2.7 s: np.unique sorted the draws three times
    per parameter (twice the same split chains). Now one sort per parameter gives the bulk
    ranks, the quantiles and, merged in one pass, the folded ranks: the work, not the time, is
    what is tested (timings belong to the benchmark)."""
    m = ScaledTModel(X, 4, seed=1).run(100, 2000, chains=4)
    want = m.summary()
    sorts: list[str] = []
    real_argsort, real_unique = np.argsort, np.unique

    def argsort(a: np.ndarray, *args: object, **kwargs: object) -> np.ndarray:
        if np.size(a) >= 8000:  # the draws, not np.quantile's few indices
            sorts.append(str(kwargs.get("kind", "full")))
        return real_argsort(a, *args, **kwargs)  # type: ignore[call-overload, no-any-return]

    def unique(a: np.ndarray, *args: object, **kwargs: object) -> object:
        if np.size(a) >= 8000:
            sorts.append("unique")
        return real_unique(a, *args, **kwargs)  # type: ignore[call-overload]

    monkeypatch.setattr(np, "argsort", argsort)
    monkeypatch.setattr(np, "unique", unique)
    assert m.summary() == want
    assert sorted(sorts) == ["full", "full", "stable", "stable"]  # a merge of two runs each


@pytest.mark.parametrize("shape", [(4, 1000), (3, 999), (1, 7), (2, 4)])
def test_rank_normalisation_by_one_sort_matches_the_definition(shape: tuple[int, int]) -> None:
    rng = np.random.default_rng(sum(shape))
    cases = [rng.standard_normal(shape), np.round(rng.standard_normal(shape), 1),
             rng.integers(0, 3, shape).astype(float), np.full(shape, 2.0)]
    nan = rng.standard_normal(shape)
    nan.flat[::3] = np.nan  # NaNs tie with each other, as np.unique counts them
    for x in [*cases, nan]:
        assert np.array_equal(diagnostics.rank_normalize(x), _ranks_by_unique(x))
    for x in cases:  # the folded ranks, from the merge, against folding and ranking anew
        if shape[1] >= 4:
            ranked = diagnostics._Ranked(x)
            y = diagnostics.split_chains(x)
            assert np.array_equal(ranked.bulk, _ranks_by_unique(y))
            folded = diagnostics.split_chains(np.abs(x - np.median(x)))
            assert np.array_equal(ranked.folded(), _ranks_by_unique(folded))
        p = summarize(x)
        for name, func in (("ess_bulk", diagnostics.ess_bulk), ("ess_tail", diagnostics.ess_tail),
                           ("r_hat", diagnostics.rhat), ("mcse_mean", diagnostics.mcse_mean),
                           ("mcse_sd", diagnostics.mcse_sd)):
            got, alone = getattr(p, name), func(x)
            assert got == alone or (math.isnan(got) and math.isnan(alone)), name
        assert [p.q5, p.q50, p.q95] == np.quantile(x, [0.05, 0.5, 0.95]).tolist()


@pytest.mark.parametrize(("flags", "flag", "code"), [
    (["--nu", "1e101"], "--nu", 2),
    (["--nu", "4", "--draws", str(10**20)], "--draws", 2),
    (["--nu", "4", "--burn-in", str(2**63 - 1), "--draws", "1"], "--burn-in", 2),
    (["--nu", "4", "--thin", str(2**62), "--draws", "2"], "--thin", 2),
    (["--nu", "4", "--chains", str(10**12), "--draws", "10"], "--chains", 1),
    (["--nu", "4", "--chains", str(10**30)], "--draws 2000", 1),
])
def test_cli_gibbs_names_its_flags_not_the_apis_arguments(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], flags: list[str], flag: str,
        code: int) -> None:
    """Errors for values the user typed named the API's arguments (nu:, sample_size, chains =,
    burn_in + sample_size * thin)."""
    from hotloop._memory import usable_memory

    if code == 1 and usable_memory() is None:
        pytest.skip("no memory limit known here: the run would try to allocate")
    data = tmp_path / "d.csv"
    data.write_text("\n".join(str(v) for v in X))
    if code == 2:
        with pytest.raises(SystemExit) as info:
            cli_main(["gibbs", str(data), *flags])
        assert info.value.code == 2
    else:
        assert cli_main(["gibbs", str(data), *flags]) == 1
    err = capsys.readouterr().err
    line = err.splitlines()[-1]
    assert flag in line, err
    assert not re.search(r"(?<![-\w])(sample_size|burn_in|nu:|thin:|chains =)", line), err
    if code == 1:
        assert err.count("\n") == 1 and "usage" not in err


@pytest.mark.parametrize(("text", "words"), [
    ("1\nnan\n3\n", "number 2 of the first column is nan"),
    ("x\n1\n2\ninf\n", "number 3 of the first column is inf"),
    ("1\n1\n1\n", "all 3 points are equal"),
    ("1\n", "need at least 2 points"),
    ("1\n2\n1e200\n", "the range max - min"),
])
def test_cli_gibbs_names_the_file_for_its_data(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, words: str) -> None:
    data = tmp_path / "d.csv"
    data.write_text(text)
    assert cli_main(["gibbs", str(data), "--nu", "4"]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"hotloop gibbs: error: {data}: ") and words in err, err
    assert "data:" not in err and "data[" not in err and err.count("\n") == 1


@pytest.mark.filterwarnings("error")
def test_folded_rhat_of_draws_near_the_largest_double() -> None:
    """Chains with one centre and different spreads: only the folded R-hat sees them. Near
    1e308 the median of two draws overflowed to inf, the folded R-hat was NaN and max() kept
    the bulk one (1.0) without a word; the fold now works on the exactly scaled draws."""
    rng = np.random.default_rng(6)
    a = 1.0 + rng.standard_normal((4, 1000)) * np.array([[0.05], [0.05], [0.15], [0.15]])
    assert diagnostics.rhat(a) > 1.1
    assert diagnostics.rhat(a * 2.0**1023) == diagnostics.rhat(a)
    assert summarize(a * 2.0**1023).r_hat == summarize(a).r_hat
