"""MCMC diagnostics: split R-hat, bulk and tail ESS, Monte Carlo standard errors.

The definitions are those of Stan and ArviZ (Vehtari, Gelman, Simpson, Carpenter & Bürkner,
"Rank-normalization, folding, and localization: An improved R-hat for assessing convergence of
MCMC", Bayesian Analysis 2021), written here in vectorised NumPy so hotloop needs neither ArviZ
nor SciPy; the test suite checks them against ArviZ where it is installed.

Every function takes draws shaped ``(chains, draws)`` (a 1-D array is one chain) of real
numbers; complex numbers, bools, strings, ``None`` and masked entries (NumPy would use the
values under the mask) raise ``TypeError`` naming the argument, and other shapes or no chains
``ValueError``. A float64 array is used as it is (never copied to be checked, never modified).

- Split chains: each chain is cut into its first and last ``draws // 2`` draws (the middle draw
  of an odd-length chain is dropped), so a trend inside a chain shows up as disagreement.
- Rank normalisation: all draws are replaced by ``Phi^-1((rank - 3/8) / (S + 1/4))`` (Blom 1958;
  average ranks for ties), which makes R-hat and ESS work for heavy tails.
- ESS: ``S / tau`` with ``tau = -1 + 2 sum rho_t`` summed over Geyer's initial positive sequence
  of autocorrelation pairs, made monotone (Geyer 1992), the autocorrelations combining the
  within-chain autocovariances (by FFT) and the between-chain variance as in Stan.
- Bulk ESS: ESS of the rank-normalised split chains. Tail ESS: the smaller ESS of the indicators
  ``draw <= q05`` and ``draw <= q95``. R-hat: the larger of the rank-normalised split R-hat and
  the same for the draws folded around the median.
- MCSE of the mean: ``sd / sqrt(ESS_mean)``; MCSE of the sd by the delta method on the squared
  centred draws (ArviZ's ``mcse(method="sd")``).
- Scale: the draws are first divided by a power of two near their largest magnitude (exact),
  so every figure is scale-equivariant from 1e-300 to 1e300 (ArviZ's squares overflow from
  about 1e77 and its constant-draws test is absolute, 1e-15).

Speed: ``ScaledTModel.summary()`` computes the figures together (``_summary_values``). One
sort of the split draws gives the bulk ranks, the quantiles (for an even number of draws per
chain) and, merged with itself in one pass, the folded ranks; the normal scores of untied ranks
are one table per size; each ESS takes one FFT per chain, of a 5-smooth length, and a single
inverse FFT of the chains' summed power spectra. For 4 chains x 250,000 draws that took the
summary from about 2.5 s to about 0.5 s on the development machine (docs/tmodel.md), with the
same figures up to rounding (relative differences below 2e-15 in the comparisons made).

Batch means (:func:`batch_means_se`) is the simpler, assumption-light standard error the
statistical tests use (Flegal & Jones, "Batch means and spectral variance estimators in MCMC",
Annals of Statistics 2010).
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray

from hotloop._masked import unmasked
from hotloop._numbers import as_int, is_real_type

FloatArray = NDArray[np.float64]

__all__ = [
    "batch_means_se",
    "ess",
    "ess_bulk",
    "ess_mean",
    "ess_tail",
    "mcse_mean",
    "mcse_sd",
    "norm_ppf",
    "power_of_two_scale",
    "rank_normalize",
    "rhat",
    "split_chains",
]

# Wichura, "Algorithm AS 241: The percentage points of the normal distribution", Applied
# Statistics 37 (1988), PPND16 (relative accuracy about 1e-16). Coefficients in increasing
# powers: a/b for |p - 0.5| <= 0.425, c/d for r = sqrt(-log(min(p, 1 - p))) <= 5.
_A = (3.3871328727963666080e0, 1.3314166789178437745e2, 1.9715909503065514427e3,
      1.3731693765509461125e4, 4.5921953931549871457e4, 6.7265770927008700853e4,
      3.3430575583588128105e4, 2.5090809287301226727e3)
_B = (1.0, 4.2313330701600911252e1, 6.8718700749205790830e2, 5.3941960214247511077e3,
      2.1213794301586595867e4, 3.9307895800092710610e4, 2.8729085735721942674e4,
      5.2264952788528545610e3)
_C = (1.42343711074968357734e0, 4.63033784615654529590e0, 5.76949722146069140550e0,
      3.64784832476320460504e0, 1.27045825245236838258e0, 2.41780725177450611770e-1,
      2.27238449892691845833e-2, 7.74545014278341407640e-4)
_D = (1.0, 2.05319162663775882187e0, 1.67638483018380384940e0, 6.89767334985100004550e-1,
      1.48103976427480074590e-1, 1.51986665636164571966e-2, 5.47593808499534494600e-4,
      1.05075007164441684324e-9)
# The third region of AS 241 (r > 5, p < 1.4e-11) is not needed: rank-normalised
# probabilities are at least 0.625 / (S + 0.25), so it would take S > 4e10 draws.
_P_MIN = float(np.exp(-25.0))


def _poly(coef: tuple[float, ...], x: FloatArray) -> FloatArray:
    out = np.full_like(x, coef[-1])
    for c in coef[-2::-1]:
        out *= x
        out += c
    return out


def _norm_ppf(p: FloatArray) -> FloatArray:
    """:func:`norm_ppf` without the argument checks, each branch evaluated only where it is
    used (the same arithmetic per element)."""
    p = np.clip(p, _P_MIN, 1.0 - _P_MIN)
    q = p - 0.5
    out = np.empty_like(q)
    central = np.abs(q) <= 0.425
    qc = q[central]
    r1 = 0.180625 - qc * qc
    out[central] = qc * _poly(_A, r1) / _poly(_B, r1)
    tail = ~central
    qt, pt = q[tail], p[tail]
    r2 = np.sqrt(-np.log(np.where(qt < 0.0, pt, 1.0 - pt))) - 1.6
    zt = _poly(_C, r2) / _poly(_D, r2)
    out[tail] = np.where(qt < 0.0, -zt, zt)
    return out


def _real_array(values: object, name: str) -> FloatArray:
    """``values`` as a float64 array (no copy when it is one already): real numbers only.

    ``TypeError`` naming ``name`` for what NumPy would turn into floats without a word:
    complex numbers, bools (``True`` as 1.0), strings, ``None``, and masked arrays with masked
    entries (the values under the mask would be used); a masked array with nothing masked is
    taken as its values. The dtype is checked, and a list's elements' types are collected in C
    (``set(map(type, ...))``), so no Python loop runs over the data."""
    values = unmasked(values, name, "; pass the unmasked values")
    try:
        # A list's elements as given: [True, 2.0] is a float array to NumPy, and a masked
        # element would become NaN with a warning. (Arrays and array-likes have a dtype.)
        arr = np.asarray(values, dtype=object if isinstance(values, (list, tuple)) else None)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name}: expected an array of real numbers ({exc})") from None
    kind = arr.dtype.kind
    if kind == "O":
        for k in set(map(type, arr.ravel())):
            if not is_real_type(k):
                raise TypeError(f"{name}: expected real numbers, got an element of type "
                                f"{k.__name__}")
        try:
            return np.asarray(arr, dtype=np.float64)
        except OverflowError:
            raise ValueError(f"{name}: a value beyond the float range") from None
        except (TypeError, ValueError) as exc:  # Decimal('sNaN')
            raise TypeError(f"{name}: expected real numbers ({exc})") from None
    if kind == "b":
        raise TypeError(f"{name}: expected real numbers, got dtype bool (for an indicator, "
                        "pass .astype(float))")
    if kind not in "iuf":
        raise TypeError(f"{name}: expected real numbers, got dtype {arr.dtype}"
                        + (" (complex: pass .real explicitly)" if kind == "c" else ""))
    return np.asarray(arr, dtype=np.float64)


def norm_ppf(p: ArrayLike) -> FloatArray:
    """The standard normal quantile function for ``p`` in ``[exp(-25), 1 - exp(-25)]``
    (values in [0, 1] outside that are clipped there: about +-6.66), by Wichura's AS 241.

    ``ValueError`` for ``p`` outside [0, 1] or NaN (not a probability), ``TypeError`` for
    anything but real numbers."""
    a = _real_array(p, "p")
    bad = ~((a >= 0.0) & (a <= 1.0))
    if bad.any():
        value = float(a.ravel()[int(np.argmax(bad.ravel()))])
        raise ValueError(f"p: expected probabilities in [0, 1], got {value!r}")
    return _norm_ppf(a)


def _as_chains(draws: object, name: str = "draws") -> FloatArray:
    """Draws shaped (chains, draws) as float64 (a 1-D array is one chain); see
    :func:`_real_array` for what is refused, and ``ValueError`` for other shapes or no
    chains."""
    a = _real_array(draws, name)
    if a.ndim == 1:
        a = a[np.newaxis, :]
    if a.ndim != 2:
        raise ValueError(f"{name}: expected shape (chains, draws) or (draws,), got {a.shape}")
    if a.shape[0] == 0:
        raise ValueError(f"{name}: expected at least one chain, got shape {a.shape}")
    return a


def power_of_two_scale(draws: ArrayLike) -> float:
    """The power of two 2^e just above the largest ``|draw|`` (1 for zero or non-finite draws;
    at most 2^1023). ``draws`` may have any shape.

    Dividing draws by it is exact (a change of exponent only) and brings them to [-1, 1], so
    the squares and fourth powers of the diagnostics neither overflow nor underflow at any
    scale the sampler reaches (sigma^2 from 1e-300 to 1e300), and every figure is
    scale-equivariant: the ones in the draws' units are those of the scaled draws times the
    scale, bit for bit, and ESS and R-hat are those of the scaled draws."""
    return _scale(_real_array(draws, "draws"))


def _scale(a: FloatArray) -> float:
    top = float(max(-np.min(a), np.max(a))) if a.size else 0.0  # max |a|, no temporary
    if not (top > 0.0 and np.isfinite(top)):
        return 1.0
    return math.ldexp(1.0, min(math.frexp(top)[1], 1023))  # 2^1024 is not a double


def split_chains(draws: ArrayLike) -> FloatArray:
    """Each chain's first and last ``n // 2`` draws as separate chains: shape (2 m, n // 2)."""
    return _split(_as_chains(draws))


def _split(a: FloatArray) -> FloatArray:
    half = a.shape[1] // 2
    return np.concatenate([a[:, :half], a[:, a.shape[1] - half:]], axis=0)


def _blom_scores(size: int, cache: dict[int, FloatArray] | None) -> FloatArray:
    """Blom's scores of the ranks 1..size, ``Phi^-1((r - 3/8) / (size + 1/4))``: the normal
    scores of any ``size`` distinct values in sorted order. ``cache`` (size -> scores) lets
    the rankings of one summary share them."""
    scores = None if cache is None else cache.get(size)
    if scores is None:
        scores = _norm_ppf((np.arange(1, size + 1, dtype=np.float64) - 0.375) / (size + 0.25))
        if cache is not None:
            cache[size] = scores
    return scores


def _scores_of_sorted(values: FloatArray, order: NDArray[np.intp],
                      cache: dict[int, FloatArray] | None = None) -> FloatArray:
    """Blom's normal scores of the flat array x whose sorted values are ``values`` =
    ``x[order]``, in x's order: ties (NaNs among them) share their average rank, as
    ``np.unique`` groups them. Without ties the sorted scores are the table of
    :func:`_blom_scores`; with ties only the tied places are computed."""
    size = values.size
    scores = _blom_scores(size, cache)
    if size > 1:
        new = values[1:] != values[:-1]
        if np.isnan(values[-1]):  # NaNs sort last: they are one group (np.unique's equal_nan)
            new[int(np.argmax(np.isnan(values))):] = False
        if not new.all():
            starts = np.flatnonzero(np.concatenate(([True], new)))
            counts = np.diff(np.append(starts, size))
            tied = counts > 1
            first, count = starts[tied], counts[tied]
            avg = first + (count + 1) / 2.0  # the average of ranks first + 1 .. first + count
            places = np.repeat(first - (np.cumsum(count) - count), count) + np.arange(count.sum())
            scores = scores.copy()
            scores[places] = _norm_ppf((np.repeat(avg, count) - 0.375) / (size + 0.25))
    out = np.empty(size)
    out[order] = scores
    return out


def rank_normalize(draws: ArrayLike) -> FloatArray:
    """Blom's normal scores of the pooled draws (ties averaged), in the input's shape."""
    a = _real_array(draws, "draws")
    flat = a.ravel()
    order = np.argsort(flat)
    return _scores_of_sorted(flat[order], order).reshape(a.shape)


def _rhat_basic(a: FloatArray) -> float:
    n = a.shape[1]
    within = float(np.mean(np.var(a, axis=1, ddof=1)))
    between = n * float(np.var(np.mean(a, axis=1), ddof=1))
    if within == 0.0:  # every chain constant: NaN if they agree, else no mixing at all (ArviZ)
        return float("nan") if between == 0.0 else float("inf")
    return float(np.sqrt((between / within + n - 1) / n))


class _Ranked:
    """The rank-normalised split chains of draws ``a`` (chains, n >= 4) from one sort of the
    split draws: ``bulk`` at once, and for finite draws ``folded()``, those folded around the
    median of all draws. The folded values are ``|y - median|``, whose order is a merge of the
    sorted values above the median with those below it read backwards: a stable sort of two
    sorted runs, which NumPy's stable sort (a merge sort that finds runs) merges in one pass,
    in about a tenth of the first sort's time. ``sorted`` holds the split draws sorted; for
    an even n they are all the draws."""

    def __init__(self, a: FloatArray, cache: dict[int, FloatArray] | None = None) -> None:
        self._a = a
        self._cache = cache
        y = _split(a)
        self._shape = y.shape
        flat = y.ravel()
        self._order = np.argsort(flat)
        self.sorted = flat[self._order]
        self.bulk = _scores_of_sorted(self.sorted, self._order, cache).reshape(y.shape)

    def folded(self) -> FloatArray:
        order = self._order
        # On the draws divided by a power of two (exact, so the ranks are the same), else the
        # median of two draws beyond 9e307 would overflow to inf.
        scale = _scale(self._a)
        ys = self.sorted / scale
        # Folded around the median of all draws, before splitting (Vehtari et al. 2021's code,
        # and az.summary's; az.rhat folds the split chains): an odd chain's middle draw, which
        # the split drops, still moves the median. np.median of a permutation is the same.
        median = np.median(ys if 2 * self._shape[1] == self._a.shape[1] else self._a / scale)
        below = int(np.searchsorted(ys, median))  # ys[:below] < median <= ys[below:]
        dist = np.abs(ys - median)  # the values of |y - median|, y in sorted order
        runs = np.concatenate((dist[:below][::-1], dist[below:]))  # two ascending runs
        merge = np.argsort(runs, kind="stable")
        places = np.concatenate((order[:below][::-1], order[below:]))[merge]
        return _scores_of_sorted(runs[merge], places, self._cache).reshape(self._shape)

    def rhat(self) -> float:
        return max(_rhat_basic(self.bulk), _rhat_basic(self.folded()))


def rhat(draws: ArrayLike) -> float:
    """Rank-normalised split R-hat (the larger of the bulk and the folded version).
    NaN for fewer than 4 draws per chain."""
    a = _as_chains(draws)
    if a.shape[1] < 4 or not np.all(np.isfinite(a)):
        return float("nan")
    return _Ranked(a).rhat()


def _fft_size(k: int) -> int:
    """The smallest 2^a 3^b 5^c >= k: a length that NumPy's FFT does fast, up to about 25%
    shorter than the next power of two (262144 against 250000 for 125,000 draws per chain)."""
    best = 1 << max(k - 1, 0).bit_length()
    p5 = 1
    while p5 < best:
        p35 = p5
        while p35 < best:
            q = -(-k // p35)  # times the smallest power of two reaching k
            best = min(best, p35 << max(q - 1, 0).bit_length())
            p35 *= 3
        p5 *= 5
    return best


def _ess(a: FloatArray, split: bool = False) -> float:
    """ESS of the rows of ``a``, or with ``split`` of its split chains (without copying them:
    the halves go straight into the FFT's zero-padded buffer)."""
    m, n = a.shape
    if split:
        h = n // 2
        parts: tuple[FloatArray, ...] = (a[:, :h], a[:, n - h:])
    else:
        h = n
        parts = (a,)
    if h < 2 or not all(np.all(np.isfinite(part)) for part in parts):
        return float("nan")
    rows = m * len(parts)
    scale = max(_scale(part) for part in parts)  # exact; ESS does not depend on the scale
    # Draws that agree to about 1e-15 of their magnitude are constant: ArviZ's test, made
    # relative by the scaling (ArviZ compares the raw spread with 1e-15, so draws at 1e-20
    # counted as constant there).
    top = max(float(np.max(part)) for part in parts) / scale
    bottom = min(float(np.min(part)) for part in parts) / scale
    if top - bottom < np.finfo(np.float64).resolution:
        return float(rows * h)
    # The biased autocovariances of the centred rows for lags 0..h-1, averaged over the rows:
    # one FFT per row, zero-padded to at least 2 h - 1 (no wrap-around), and one inverse FFT
    # of the rows' summed power spectra (the inverse is linear: the mean of the rows').
    size = _fft_size(2 * h - 1)
    buf = np.zeros((rows, size))
    for i, part in enumerate(parts):
        np.divide(part, scale, out=buf[i * m:(i + 1) * m, :h])
    means = buf[:, :h].mean(axis=1, keepdims=True)
    buf[:, :h] -= means
    f = np.fft.rfft(buf, axis=1).view(np.float64)  # (re, im) pairs
    sums = np.einsum("ij,ij->j", f, f)  # the squares of re and im summed over the rows
    acov = np.fft.irfft(sums[0::2] + sums[1::2], n=size)[:h] / (h * rows)
    mean_var = float(acov[0]) * h / (h - 1.0)
    var_plus = mean_var * (h - 1.0) / h
    if rows > 1:
        var_plus += float(np.var(means, ddof=1))
    rho = 1.0 - (mean_var - acov) / var_plus
    rho[0] = 1.0
    # Pairs P_k = rho_2k + rho_2k+1 that Geyer's sequence may use: k = 0 .. k_last with
    # 2 k + 2 < h (Stan stops before the last few lags, whose estimates are too noisy).
    k_last = (h - 3) // 2
    size_all = rows * h
    if k_last < 1:
        return float(size_all * np.log10(size_all))
    pairs = rho[0 : 2 * k_last + 2 : 2] + rho[1 : 2 * k_last + 2 : 2]
    if pairs[0] <= 0.0:
        tau = 0.0
    else:
        nonpos = np.nonzero(pairs[1:] <= 0.0)[0]
        if nonpos.size > 0:
            big_k = int(nonpos[0]) + 1  # the first pair that is not positive ends the sequence
            extra = rho[2 * big_k] if (pairs[big_k] == 0.0 or rho[2 * big_k] > 0.0) else 0.0
        else:
            big_k = k_last  # ran out of lags: the last pair's even term is kept alone
            extra = rho[2 * big_k]
        # Geyer's initial monotone sequence: each pair no larger than the one before.
        monotone = np.minimum.accumulate(pairs[:big_k])
        tau = -1.0 + 2.0 * float(np.sum(monotone)) + float(extra)
    tau = max(tau, 1.0 / np.log10(size_all))
    return float(size_all / tau)


def ess(draws: ArrayLike) -> float:
    """Effective sample size of (already split, if wanted) chains, Stan's estimator.

    NaN for fewer than 2 draws per chain (no variance to estimate) or non-finite draws. The
    wrappers below ask for 4 draws per chain before splitting, as ArviZ does, so the split
    chains they pass here may have 2 or 3 draws: the sum then has no lags to use and gives
    ``S log10 S`` (the cap ``tau >= 1 / log10 S``), ArviZ's value too."""
    return _ess(_as_chains(draws))


def ess_bulk(draws: ArrayLike) -> float:
    """Bulk ESS: ESS of the rank-normalised split chains."""
    a = _as_chains(draws)
    if a.shape[1] < 4:
        return float("nan")
    return _ess(_Ranked(a).bulk)


def ess_mean(draws: ArrayLike) -> float:
    """ESS of the split chains themselves (for the MCSE of the mean)."""
    a = _as_chains(draws)
    if a.shape[1] < 4:
        return float("nan")
    return _ess(a, split=True)


def _ess_tail(a: FloatArray, q05: float, q95: float) -> float:
    return min(_ess((a <= q05).astype(np.float64), split=True),
               _ess((a <= q95).astype(np.float64), split=True))


def ess_tail(draws: ArrayLike) -> float:
    """Tail ESS: the smaller ESS of the 5% and 95% quantile indicators of the split chains."""
    a = _as_chains(draws)
    if a.shape[1] < 4:
        return float("nan")
    q05, q95 = np.quantile(a, [0.05, 0.95])
    return _ess_tail(a, float(q05), float(q95))


def _mcse_mean(z: FloatArray, scale: float) -> float:
    """The MCSE of the mean of draws ``scale * z`` (``z = a / _scale(a)``)."""
    return float(scale * (np.std(z, ddof=1) / np.sqrt(_ess(z, split=True))))


def _mcse_sd(z: FloatArray, scale: float) -> float:
    """The MCSE of the sd of draws ``scale * z`` (``z = a / _scale(a)``)."""
    sq = (z - z.mean()) ** 2
    n_eff = _ess(sq, split=True)
    evar = float(sq.mean())
    if not evar > 0.0:
        return float("nan")
    varvar = (float((sq**2).mean()) - evar**2) / n_eff
    return float(scale * np.sqrt(varvar / evar / 4.0))


def mcse_mean(draws: ArrayLike) -> float:
    """Monte Carlo standard error of the posterior mean: sd / sqrt(ESS_mean).
    NaN for fewer than 4 draws per chain."""
    a = _as_chains(draws)
    if a.shape[1] < 4:
        return float("nan")
    scale = _scale(a)
    return _mcse_mean(a / scale, scale)


def mcse_sd(draws: ArrayLike) -> float:
    """Monte Carlo standard error of the posterior sd (delta method on the squared deviations,
    their ESS from the split chains). NaN for fewer than 4 draws per chain, and for constant
    draws (the delta method divides by their variance, 0: ArviZ's 0/0 gives NaN too)."""
    a = _as_chains(draws)
    if a.shape[1] < 4:
        return float("nan")
    scale = _scale(a)
    return _mcse_sd(a / scale, scale)  # exact: the squares stay in range at any scale


def _summary_values(draws: ArrayLike,
                   cache: dict[int, FloatArray] | None = None) -> dict[str, float]:
    """Everything ``ScaledTModel.summary()`` reports for one parameter, from draws shaped
    (chains, draws): mean, sd, q5, q50, q95, mcse_mean, mcse_sd, ess_bulk, ess_tail, r_hat,
    each equal to what the functions above give (sd NaN for a single draw; the diagnostics NaN
    below 4 draws per chain).

    Computed together, the figures share their work: one sort of the split draws gives the
    bulk and the folded rank normalisation (and, for an even number of draws per chain, the
    quantiles), the quantiles give the tail indicators, and each ESS takes one FFT per chain
    and one inverse FFT. ``cache`` (a dict, filled here) shares the table of normal scores
    between calls on draws of the same size, as the parameters of one model have."""
    a = _as_chains(draws)
    n = a.shape[1]
    nan = float("nan")
    scale = _scale(a)
    z = a / scale  # exact: no overflow of sums and squares
    out = {
        "mean": float(scale * z.mean()) if a.size else nan,
        "sd": float(scale * z.std(ddof=1)) if a.size > 1 else nan,
    }
    if n < 4 or not np.all(np.isfinite(a)):  # each figure as its own function gives it
        q = np.quantile(a, [0.05, 0.5, 0.95]) if a.size else np.full(3, nan)
        out.update(q5=float(q[0]), q50=float(q[1]), q95=float(q[2]), mcse_mean=mcse_mean(a),
                   mcse_sd=mcse_sd(a), ess_bulk=ess_bulk(a), ess_tail=ess_tail(a),
                   r_hat=rhat(a))
        return out
    ranked = _Ranked(a, cache)
    # np.quantile of a permutation is the same: for an even n the sorted split draws are all
    # the draws, and quantiles of sorted values take no partitioning work.
    q = np.quantile(ranked.sorted if n % 2 == 0 else a, [0.05, 0.5, 0.95])
    out.update(q5=float(q[0]), q50=float(q[1]), q95=float(q[2]))
    out.update(
        mcse_mean=_mcse_mean(z, scale),
        mcse_sd=_mcse_sd(z, scale),
        ess_bulk=_ess(ranked.bulk),
        ess_tail=_ess_tail(a, out["q5"], out["q95"]),
        r_hat=ranked.rhat(),
    )
    return out


def batch_means_se(draws: ArrayLike, batches: int = 20) -> float:
    """Standard error of the mean by non-overlapping batch means, pooled over chains.

    Each chain is cut into ``batches`` equal batches (a remainder at the start is dropped);
    the standard error is the sd of all batch means over sqrt(number of batch means). Valid
    when a batch is much longer than the autocorrelation time (Flegal & Jones 2010).
    ``batches`` is an int from 2 to the number of draws per chain (a batch of one draw at
    the most): ``TypeError``/``ValueError`` naming it otherwise."""
    a = _as_chains(draws)
    m, n = a.shape
    b = as_int(batches, "batches")
    if n < 2:
        raise ValueError(f"draws: batch means need at least 2 draws per chain, got shape "
                         f"{a.shape}")
    if not 2 <= b <= n:
        raise ValueError(f"batches: expected an int from 2 to {n} (the draws per chain), "
                         f"got {b}")
    size = n // b
    trimmed = a[:, n - size * b:].reshape(m, b, size)
    means = trimmed.mean(axis=2).ravel()
    return float(np.std(means, ddof=1) / np.sqrt(means.size))
