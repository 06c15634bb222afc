"""MCMC diagnostics: split R-hat, bulk and tail ESS, Monte Carlo standard errors.

The definitions are those of Stan and ArviZ (Vehtari, Gelman, Simpson, Carpenter & Bürkner,
"Rank-normalization, folding, and localization: An improved R-hat for assessing convergence of
MCMC", Bayesian Analysis 2021), written here in vectorised NumPy so hotloop needs neither ArviZ
nor SciPy; the test suite checks them against ArviZ where it is installed.

Every function takes draws shaped ``(chains, draws)`` (a 1-D array is one chain).

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

Batch means (:func:`batch_means_se`) is the simpler, assumption-light standard error the
statistical tests use (Flegal & Jones, "Batch means and spectral variance estimators in MCMC",
Annals of Statistics 2010).
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray

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
        out = out * x + c
    return out


def norm_ppf(p: ArrayLike) -> FloatArray:
    """The standard normal quantile function for ``p`` in ``[exp(-25), 1 - exp(-25)]``
    (values outside are clipped there: about +-7.0), by Wichura's AS 241."""
    p = np.clip(np.asarray(p, dtype=np.float64), _P_MIN, 1.0 - _P_MIN)
    q = p - 0.5
    central = np.abs(q) <= 0.425
    r1 = 0.180625 - q * q
    z_central = q * _poly(_A, r1) / _poly(_B, r1)
    tail_p = np.where(q < 0.0, p, 1.0 - p)
    r2 = np.sqrt(-np.log(np.where(central, 0.5, tail_p))) - 1.6
    z_tail = _poly(_C, r2) / _poly(_D, r2)
    z_tail = np.where(q < 0.0, -z_tail, z_tail)
    return np.where(central, z_central, z_tail)


def _as_chains(draws: ArrayLike) -> FloatArray:
    a = np.asarray(draws, dtype=np.float64)
    if a.ndim == 1:
        a = a[np.newaxis, :]
    if a.ndim != 2:
        raise ValueError(f"draws: expected shape (chains, draws), got {a.shape}")
    return a


def power_of_two_scale(draws: FloatArray) -> float:
    """The power of two 2^e just above the largest ``|draw|`` (1 for zero or non-finite draws;
    at most 2^1023).

    Dividing draws by it is exact (a change of exponent only) and brings them to [-1, 1], so
    the squares and fourth powers of the diagnostics neither overflow nor underflow at any
    scale the sampler reaches (sigma^2 from 1e-300 to 1e300), and every figure is
    scale-equivariant: the ones in the draws' units are those of the scaled draws times the
    scale, bit for bit, and ESS and R-hat are those of the scaled draws."""
    top = float(np.max(np.abs(draws))) if draws.size else 0.0
    if not (top > 0.0 and np.isfinite(top)):
        return 1.0
    return math.ldexp(1.0, min(math.frexp(top)[1], 1023))  # 2^1024 is not a double


def split_chains(draws: ArrayLike) -> FloatArray:
    """Each chain's first and last ``n // 2`` draws as separate chains: shape (2 m, n // 2)."""
    a = _as_chains(draws)
    half = a.shape[1] // 2
    return np.concatenate([a[:, :half], a[:, a.shape[1] - half:]], axis=0)


def _average_ranks(x: FloatArray) -> FloatArray:
    """Ranks 1..S of the flattened x, ties sharing their average rank."""
    flat = x.ravel()
    _, inverse, counts = np.unique(flat, return_inverse=True, return_counts=True)
    first = np.cumsum(counts) - counts  # 0-based position of each distinct value
    avg = first + (counts + 1) / 2.0
    return avg[inverse.ravel()].reshape(x.shape)


def rank_normalize(draws: ArrayLike) -> FloatArray:
    """Blom's normal scores of the pooled draws (ties averaged), in the input's shape."""
    a = np.asarray(draws, dtype=np.float64)
    ranks = _average_ranks(a)
    return norm_ppf((ranks - 0.375) / (a.size + 0.25))


def _rhat_basic(a: FloatArray) -> float:
    n = a.shape[1]
    within = float(np.mean(np.var(a, axis=1, ddof=1)))
    between = n * float(np.var(np.mean(a, axis=1), ddof=1))
    if within == 0.0:  # every chain constant: NaN if they agree, else no mixing at all (ArviZ)
        return float("nan") if between == 0.0 else float("inf")
    return float(np.sqrt((between / within + n - 1) / n))


def rhat(draws: ArrayLike) -> float:
    """Rank-normalised split R-hat (the larger of the bulk and the folded version).
    NaN for fewer than 4 draws per chain."""
    a = _as_chains(draws)
    if a.shape[1] < 4 or not np.all(np.isfinite(a)):
        return float("nan")
    bulk = _rhat_basic(rank_normalize(split_chains(a)))
    # Folded around the median of all draws, before splitting (Vehtari et al. 2021's code, and
    # az.summary's; az.rhat folds the split chains): an odd chain's middle draw, which the split
    # drops, still moves the median.
    folded = _rhat_basic(rank_normalize(split_chains(np.abs(a - np.median(a)))))
    return max(bulk, folded)


def _autocov(a: FloatArray) -> FloatArray:
    """Biased autocovariances of each row for lags 0..n-1 (FFT with zero padding)."""
    n = a.shape[1]
    m = 1 << int(2 * n - 1).bit_length()
    centred = a - a.mean(axis=1, keepdims=True)
    f = np.fft.rfft(centred, n=m, axis=1)
    acov: FloatArray = np.fft.irfft(f * np.conjugate(f), n=m, axis=1)[:, :n] / n
    return acov


def ess(draws: ArrayLike) -> float:
    """Effective sample size of (already split, if wanted) chains, Stan's estimator.

    NaN for fewer than 2 draws per chain (no variance to estimate) or non-finite draws. The
    wrappers below ask for 4 draws per chain before splitting, as ArviZ does, so the split
    chains they pass here may have 2 or 3 draws: the sum then has no lags to use and gives
    ``S log10 S`` (the cap ``tau >= 1 / log10 S``), ArviZ's value too."""
    a = _as_chains(draws)
    m, n = a.shape
    if n < 2 or not np.all(np.isfinite(a)):
        return float("nan")
    a = a / power_of_two_scale(a)  # exact; ESS does not depend on the scale
    # Draws that agree to about 1e-15 of their magnitude are constant: ArviZ's test, made
    # relative by the scaling (ArviZ compares the raw spread with 1e-15, so draws at 1e-20
    # counted as constant there).
    if np.max(a) - np.min(a) < np.finfo(np.float64).resolution:
        return float(a.size)
    acov = _autocov(a)
    mean_var = float(np.mean(acov[:, 0])) * n / (n - 1.0)
    var_plus = mean_var * (n - 1.0) / n
    if m > 1:
        var_plus += float(np.var(np.mean(a, axis=1), ddof=1))
    rho = 1.0 - (mean_var - np.mean(acov, axis=0)) / var_plus
    rho[0] = 1.0
    # Pairs P_k = rho_2k + rho_2k+1 that Geyer's sequence may use: k = 0 .. k_last with
    # 2 k + 2 < n (Stan stops before the last few lags, whose estimates are too noisy).
    k_last = (n - 3) // 2
    if k_last < 1:
        return float(a.size * np.log10(a.size))
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
    tau = max(tau, 1.0 / np.log10(a.size))
    return float(a.size / tau)


def ess_bulk(draws: ArrayLike) -> float:
    """Bulk ESS: ESS of the rank-normalised split chains."""
    a = _as_chains(draws)
    if a.shape[1] < 4:
        return float("nan")
    return ess(rank_normalize(split_chains(a)))


def ess_mean(draws: ArrayLike) -> float:
    """ESS of the split chains themselves (for the MCSE of the mean)."""
    a = _as_chains(draws)
    if a.shape[1] < 4:
        return float("nan")
    return ess(split_chains(a))


def ess_tail(draws: ArrayLike) -> float:
    """Tail ESS: the smaller ESS of the 5% and 95% quantile indicators of the split chains."""
    a = _as_chains(draws)
    if a.shape[1] < 4:
        return float("nan")
    q05, q95 = np.quantile(a, [0.05, 0.95])
    low = ess(split_chains((a <= q05).astype(np.float64)))
    high = ess(split_chains((a <= q95).astype(np.float64)))
    return min(low, high)


def mcse_mean(draws: ArrayLike) -> float:
    """Monte Carlo standard error of the posterior mean: sd / sqrt(ESS_mean).
    NaN for fewer than 4 draws per chain."""
    a = _as_chains(draws)
    if a.shape[1] < 4:
        return float("nan")
    scale = power_of_two_scale(a)
    z = a / scale
    return float(scale * (np.std(z, ddof=1) / np.sqrt(ess_mean(z))))


def mcse_sd(draws: ArrayLike) -> float:
    """Monte Carlo standard error of the posterior sd (delta method on the squared deviations,
    their ESS from the split chains). NaN for fewer than 4 draws per chain, and for constant
    draws (the delta method divides by their variance, 0: ArviZ's 0/0 gives NaN too)."""
    a = _as_chains(draws)
    if a.shape[1] < 4:
        return float("nan")
    scale = power_of_two_scale(a)
    z = a / scale  # exact: the squares below stay in range at any scale
    sq = (z - z.mean()) ** 2
    n_eff = ess_mean(sq)
    evar = float(sq.mean())
    if not evar > 0.0:
        return float("nan")
    varvar = (float((sq**2).mean()) - evar**2) / n_eff
    return float(scale * np.sqrt(varvar / evar / 4.0))


def batch_means_se(draws: ArrayLike, batches: int = 20) -> float:
    """Standard error of the mean by non-overlapping batch means, pooled over chains.

    Each chain is cut into ``batches`` equal batches (a remainder at the start is dropped);
    the standard error is the sd of all batch means over sqrt(number of batch means). Valid
    when a batch is much longer than the autocorrelation time (Flegal & Jones 2010).
    """
    a = _as_chains(draws)
    m, n = a.shape
    size = n // batches
    if size < 1:
        raise ValueError(f"batches: {batches} batches need at least {batches} draws per chain")
    trimmed = a[:, n - size * batches:].reshape(m, batches, size)
    means = trimmed.mean(axis=2).ravel()
    return float(np.std(means, ddof=1) / np.sqrt(means.size))
