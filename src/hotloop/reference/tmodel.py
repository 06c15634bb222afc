"""Reference twins of :mod:`hotloop.tmodel` and its independent oracle.

- :class:`PythonScaledTModel` and :class:`NumpyScaledTModel`: the source document's pure-Python
  and NumPy Gibbs samplers for the scaled Student-t model (BDA3 p. 295), with its bugs fixed:
  ``_update_tau2`` is called (the document wrote ``self._update_tau2`` without parentheses, so
  tau^2 stayed 1), the U conditional divides by alpha^2 (the Rust version multiplied), and alpha
  is folded into tau and U after each sweep so log alpha cannot drift to overflow.
- :func:`posterior_grid`: the oracle. The exact posterior of (mu, log sigma^2), the Student-t
  likelihood times the prior, integrated numerically on a 2-D grid; :func:`posterior_summary`
  refines that grid until the reported values stop changing. It shares no code and no random
  numbers with the samplers, so agreement is evidence that the sampler targets the right
  posterior.

These are written for clarity, not speed (they are the baselines of ``hotloop bench tmodel``).
"""

from __future__ import annotations

import dataclasses
import math
import random
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.float64]

PRIORS = ("log_sigma", "flat")


class PythonScaledTModel:
    """The document's pure-Python sampler (bugs fixed). ``run`` returns ``self``; the draws are
    ``get_mu()`` and ``get_sigma2()`` (lists)."""

    def __init__(self, data: Sequence[float], nu: float, seed: int | None = None) -> None:
        self._data = [float(v) for v in data]
        self._n = len(self._data)
        self._nu = float(nu)
        self._rng = random.Random(seed)
        self._u = [0.0] * self._n
        self._tau2 = 1.0
        self._alpha2 = 1.0
        self._mu = sum(self._data) / self._n
        self._results_mu: list[float] = []
        self._results_sigma2: list[float] = []

    def _scaled_inv_chi2(self, df: float, scale: float) -> float:
        return df * scale / (2.0 * self._rng.gammavariate(df / 2.0, 1.0))

    def _update_u(self) -> None:
        nu = self._nu
        for i in range(self._n):
            r = self._data[i] - self._mu
            scale = (nu * self._tau2 + r * r / self._alpha2) / (nu + 1.0)
            self._u[i] = self._scaled_inv_chi2(nu + 1.0, scale)

    def _update_alpha2(self) -> None:
        s = sum((x - self._mu) ** 2 / u for x, u in zip(self._data, self._u, strict=True))
        self._alpha2 = self._scaled_inv_chi2(self._n, s / self._n)

    def _update_mu(self) -> None:
        prec = 0.0
        wsum = 0.0
        for x, u in zip(self._data, self._u, strict=True):
            prec += 1.0 / u
            wsum += x / u
        var = self._alpha2 / prec
        self._mu = self._rng.gauss(wsum / prec, math.sqrt(var))

    def _update_tau2(self) -> None:
        rate = 0.5 * self._nu * sum(1.0 / u for u in self._u)
        self._tau2 = self._rng.gammavariate(0.5 * self._nu * self._n, 1.0 / rate)

    def _fold(self) -> None:
        a = self._alpha2
        self._tau2 *= a
        self._u = [u * a for u in self._u]
        self._alpha2 = 1.0

    def _sweep(self) -> None:
        self._update_u()
        self._update_alpha2()
        self._update_mu()
        self._update_tau2()

    def run(self, burn_in: int = 1000, sample_size: int = 2000) -> PythonScaledTModel:
        self._results_mu = [0.0] * sample_size
        self._results_sigma2 = [0.0] * sample_size
        for _ in range(burn_in):
            self._sweep()
            self._fold()
        for i in range(sample_size):
            self._sweep()
            self._results_mu[i] = self._mu
            self._results_sigma2[i] = self._alpha2 * self._tau2
            self._fold()
        return self

    def get_mu(self) -> list[float]:
        return self._results_mu

    def get_sigma2(self) -> list[float]:
        return self._results_sigma2


class NumpyScaledTModel:
    """The document's NumPy sampler (bugs fixed), method for method: one NumPy pass per
    conditional, with the document's reusable temporaries. ``prior`` may be ``"log_sigma"``
    (BDA3's, the default) or ``"flat"`` (uniform sigma^2: alpha^2 from chi^2 with n - 2 degrees
    of freedom and tau^2 shape nu n / 2 + 1)."""

    def __init__(self, data: ArrayLike, nu: float, seed: int | None = None,
                 prior: str = "log_sigma") -> None:
        if prior not in PRIORS:
            raise ValueError(f"prior: expected one of {PRIORS}, got {prior!r}")
        self._data = np.array(data, dtype=np.float64)
        self._data_size = self._data.size
        self._nu = float(nu)
        self._flat = prior == "flat"
        self._rng = np.random.default_rng(seed)
        self._extended_vars = np.zeros(self._data_size)
        self._tau2 = 1.0
        self._mu = float(self._data.sum() / self._data_size)
        self._alpha2 = 1.0
        # temporary data holders, so that we reuse memory (as the document does)
        self._tmp = np.zeros(self._data_size)
        self._tmp2 = np.zeros(self._data_size)
        self._update_extended_vars()
        self._results_mu = np.zeros(0)
        self._results_sigma2 = np.zeros(0)

    def _sample_scaled_inv_chi2(self, df: float, scale: float) -> float:
        return float(df * scale / self._rng.chisquare(df))

    def _update_extended_vars(self) -> None:
        # U_i ~ Inv-chi^2(nu + 1, (nu tau^2 + ((x_i - mu) / alpha)^2) / (nu + 1)); the Rust
        # version multiplied by alpha^2 here.
        nu = self._nu
        np.subtract(self._data, self._mu, out=self._tmp)
        np.multiply(self._tmp, self._tmp, out=self._tmp)
        self._tmp /= self._alpha2
        self._tmp += nu * self._tau2
        self._extended_vars = self._tmp / self._rng.chisquare(nu + 1.0, self._data_size)

    def _update_alpha2(self) -> None:
        np.subtract(self._data, self._mu, out=self._tmp)
        self._tmp = (self._tmp * self._tmp) / self._extended_vars
        x = float(self._tmp.sum()) / self._data_size
        if self._flat:
            df = self._data_size - 2
            self._alpha2 = self._sample_scaled_inv_chi2(df, x * self._data_size / df)
        else:
            self._alpha2 = self._sample_scaled_inv_chi2(self._data_size, x)

    def _update_mu(self) -> None:
        np.reciprocal(self._extended_vars, out=self._tmp)
        self._tmp2 = self._data * self._tmp
        variance = float(self._tmp.sum())
        expected_value = float(self._tmp2.sum())
        variance /= self._alpha2
        expected_value /= self._alpha2
        variance = 1.0 / variance
        expected_value = expected_value * variance
        self._mu = float(self._rng.normal(expected_value, math.sqrt(variance)))

    def _update_tau2(self) -> None:
        np.reciprocal(self._extended_vars, out=self._tmp)
        x = float(self._tmp.sum())
        shape = self._data_size * self._nu / 2.0 + (1.0 if self._flat else 0.0)
        self._tau2 = float(self._rng.gamma(shape, 2.0 / (self._nu * x)))

    def _fold(self) -> None:
        # alpha into tau and U, so log alpha cannot drift (the draws of mu, sigma^2 unchanged)
        self._tau2 *= self._alpha2
        self._extended_vars *= self._alpha2
        self._alpha2 = 1.0

    def _sweep(self) -> None:
        self._update_extended_vars()
        self._update_alpha2()
        self._update_mu()
        self._update_tau2()  # the document wrote self._update_tau2 (never called)

    def run(self, burn_in: int = 1000, sample_size: int = 2000) -> NumpyScaledTModel:
        self._results_mu = np.zeros(sample_size)
        self._results_sigma2 = np.zeros(sample_size)
        for _ in range(burn_in):
            self._sweep()
            self._fold()
        for i in range(sample_size):
            self._sweep()
            self._results_mu[i] = self._mu
            self._results_sigma2[i] = self._alpha2 * self._tau2
            self._fold()
        return self

    def get_mu(self) -> FloatArray:
        return self._results_mu

    def get_sigma2(self) -> FloatArray:
        return self._results_sigma2


# ---- the oracle ------------------------------------------------------------------------------


def log_posterior(mu: FloatArray, eta: FloatArray, x: FloatArray, nu: float,
                  prior: str = "log_sigma") -> FloatArray:
    """Unnormalised log density of (mu, eta = log sigma^2) on the grid ``mu[:, None]`` x
    ``eta[None, :]``: sum_i log t_nu(x_i | mu, sigma^2) plus the log prior in these coordinates
    (0 for p(mu, log sigma) ∝ 1; eta for p(mu, sigma^2) ∝ 1, the Jacobian of sigma^2 = e^eta)."""
    x = np.asarray(x, dtype=np.float64)
    n = x.size
    d2 = (mu[:, None] - x[None, :]) ** 2  # (len(mu), n)
    out = np.empty((mu.size, eta.size))
    for j, e in enumerate(eta):  # one grid column at a time keeps memory at len(mu) * n
        out[:, j] = -0.5 * n * e - 0.5 * (nu + 1.0) * np.log1p(d2 * (math.exp(-e) / nu)).sum(1)
    if prior == "flat":
        out += eta[None, :]
    return out


@dataclasses.dataclass
class PosteriorSummary:
    """Posterior means, sds and quantiles of mu, sigma^2 and log sigma^2 from the grid.

    Means and sds are NaN where the posterior variance is infinite (see :func:`moments_exist`).
    ``error`` is the largest change of any reported value, in units of the posterior sd of its
    variable, between the final grid and the one before (the convergence check)."""

    mean_mu: float
    sd_mu: float
    q_mu: dict[float, float]
    mean_log_sigma2: float
    sd_log_sigma2: float
    mean_sigma2: float
    sd_sigma2: float
    q_sigma2: dict[float, float]
    error: float
    grid_points: int

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
_ETA_REACH = 80.0


def moments_exist(n: int, prior: str = "log_sigma") -> dict[str, bool]:
    """Which posterior moments are finite. With e = 0 (log-sigma prior) or 2 (flat prior), the
    marginal of mu decays like |mu|^-(n - e) (for |mu| far from the data the best sigma is about
    |mu|: n likelihood factors of 1/sigma, the prior, and the sigma integral give that power) and
    the marginal of sigma like sigma^-(n - e). So E[mu] exists iff n - e > 2, Var[mu] iff
    n - e > 3, E[sigma^2] iff n - e > 3 and Var[sigma^2] iff n - e > 5. The summary reports
    means only where the variance is finite too (else the grid's truncation error decays too
    slowly to check, and a sampler's mean has no central limit theorem)."""
    e = 2 if prior == "flat" else 0
    return {"mu": n - e > 3, "sigma2": n - e > 5}


def _cdf_quantiles(t: FloatArray, density: FloatArray, probs: Sequence[float]) -> list[float]:
    """Quantiles of a density tabulated on the uniform grid t: the CDF of its piecewise-linear
    interpolant (the trapezoid sums) inverted exactly, a quadratic within each cell."""
    h = float(t[1] - t[0])
    cells = 0.5 * (density[1:] + density[:-1]) * h
    total = float(cells.sum())
    f = density / total
    cdf = np.concatenate([[0.0], np.cumsum(cells) / total])
    out = []
    for p in probs:
        k = int(np.clip(np.searchsorted(cdf, p) - 1, 0, t.size - 2))
        f0, f1 = float(f[k]), float(f[k + 1])
        a, b, c = 0.5 * (f1 - f0) * h, f0 * h, float(cdf[k]) - p
        disc = max(b * b - 4.0 * a * c, 0.0)
        s = (-2.0 * c / (b + math.sqrt(disc))) if b + math.sqrt(disc) > 0.0 else 0.0
        out.append(float(t[k] + min(max(s, 0.0), 1.0) * h))
    return out


def posterior_grid(x: ArrayLike, nu: float, *, prior: str = "log_sigma",
                   center: tuple[float, float], scale: tuple[float, float],
                   points: int = 201, span: float = 9.0) -> PosteriorSummary:
    """Integrates the posterior on one grid: mu = c_mu + s_mu sinh(v), eta = c_eta +
    s_eta sinh(w), with (v, w) uniform on [-span, span]^2 (``points`` each). The sinh map puts
    half the points within a few posterior sds of the centre and still reaches sinh(9) ~ 4000
    sds, so the polynomial tails of mu (like |mu|^-n) are integrated too. Trapezoid rule (which
    converges fast for smooth integrands that vanish at the ends)."""
    xv = np.asarray(x, dtype=np.float64)
    n = xv.size
    t = np.linspace(-span, span, points)
    # log sigma^2 needs no more than +-80 around its centre (its tails are at least as light
    # as exp(-|eta| / 2)), and exp() must not overflow: its span is capped there.
    span_eta = min(span, math.asinh(_ETA_REACH / scale[1]))
    te = np.linspace(-span_eta, span_eta, points)
    mu = center[0] + scale[0] * np.sinh(t)
    eta = center[1] + scale[1] * np.sinh(te)
    logp = log_posterior(mu, eta, xv, nu, prior)
    logp -= logp.max()
    p = np.exp(logp) * np.cosh(t)[:, None] * np.cosh(te)[None, :]
    # Trapezoid weights on the uniform (v, w) grid (ends halved).
    wt = np.ones(points)
    wt[0] = wt[-1] = 0.5
    p *= wt[:, None] * wt[None, :]
    p /= p.sum()
    pm, pe = p.sum(axis=1), p.sum(axis=0)
    exist = moments_exist(n, prior)
    mean_mu = float(pm @ mu) if exist["mu"] else float("nan")
    sd_mu = float(np.sqrt(pm @ (mu - mean_mu) ** 2)) if exist["mu"] else float("nan")
    mean_eta = float(pe @ eta)
    sd_eta = float(np.sqrt(pe @ (eta - mean_eta) ** 2))
    s2 = np.exp(eta)
    mean_s2 = float(pe @ s2) if exist["sigma2"] else float("nan")
    sd_s2 = float(np.sqrt(pe @ (s2 - mean_s2) ** 2)) if exist["sigma2"] else float("nan")
    # Marginal densities in t (undo the trapezoid end weights for the CDF).
    dm = pm / wt
    de = pe / wt
    qt_mu = _cdf_quantiles(t, dm, QUANTILES)
    qt_eta = _cdf_quantiles(te, de, QUANTILES)
    q_mu = {q: float(center[0] + scale[0] * np.sinh(v)) for q, v in zip(QUANTILES, qt_mu,
                                                                          strict=True)}
    q_s2 = {q: float(np.exp(center[1] + scale[1] * np.sinh(v))) for q, v in zip(QUANTILES, qt_eta,
                                                                                strict=True)}
    return PosteriorSummary(mean_mu, sd_mu, q_mu, mean_eta, sd_eta, mean_s2, sd_s2, q_s2,
                            error=float("nan"), grid_points=points)


def _distance(a: PosteriorSummary, b: PosteriorSummary) -> float:
    """Largest difference of the reported values in units of each variable's posterior spread
    (the interquartile range / 1.349 of mu; the sd of log sigma^2, on the log scale, for
    sigma^2)."""
    s_mu = (b.q_mu[0.75] - b.q_mu[0.25]) / 1.349
    s_eta = b.sd_log_sigma2
    d = [abs(a.mean_log_sigma2 - b.mean_log_sigma2) / s_eta,
         abs(a.sd_log_sigma2 - b.sd_log_sigma2) / s_eta]
    for q in QUANTILES:
        d.append(abs(a.q_mu[q] - b.q_mu[q]) / s_mu)
        d.append(abs(math.log(a.q_sigma2[q] / b.q_sigma2[q])) / s_eta)
    if not math.isnan(b.mean_mu):
        d += [abs(a.mean_mu - b.mean_mu) / b.sd_mu, abs(a.sd_mu - b.sd_mu) / b.sd_mu]
    if not math.isnan(b.mean_sigma2):
        d += [abs(a.mean_sigma2 - b.mean_sigma2) / b.sd_sigma2,
              abs(a.sd_sigma2 - b.sd_sigma2) / b.sd_sigma2]
    return max(d)


def posterior_summary(x: ArrayLike, nu: float, *, prior: str = "log_sigma", tol: float = 3e-4,
                      max_points: int = 3201) -> PosteriorSummary:
    """The posterior summary of the scaled-t model to within ``tol`` posterior sds.

    A first grid centred on the data's median and log variance (with wide sinh spans) locates the
    posterior; the grid is then re-centred on the posterior median with scales from its
    interquartile ranges (robust when sd(mu) is infinite, as it is for n <= 3), and refined by
    doubling the points (and widening the span) until two successive grids agree within
    ``tol``. Raises RuntimeError if that does not happen by ``max_points``."""
    from hotloop.tmodel import check_data  # the propriety check (ValueError when improper)

    xv = check_data(x, nu, prior)
    n = xv.size
    med = float(np.median(xv))
    spread = float(np.median(np.abs(xv - med))) or float(np.std(xv)) or 1.0
    first = posterior_grid(xv, nu, prior=prior, center=(med, math.log(spread**2)),
                           scale=(spread / math.sqrt(n), 1.0 / math.sqrt(n)), points=201,
                           span=12.0)
    c_mu = first.q_mu[0.5]
    s_mu = (first.q_mu[0.75] - first.q_mu[0.25]) / 1.349
    c_eta = math.log(first.q_sigma2[0.5])
    s_eta = math.log(first.q_sigma2[0.75] / first.q_sigma2[0.25]) / 1.349
    points, span = 101, 8.0
    prev = posterior_grid(xv, nu, prior=prior, center=(c_mu, c_eta), scale=(s_mu, s_eta),
                          points=points, span=span)
    while True:
        points, span = 2 * points - 1, span + 0.5
        cur = posterior_grid(xv, nu, prior=prior, center=(c_mu, c_eta), scale=(s_mu, s_eta),
                             points=points, span=span)
        err = _distance(prev, cur)
        if err < tol:
            cur.error = err
            return cur
        if points >= max_points:
            raise RuntimeError(f"posterior grid did not converge: change {err:.2e} sd at "
                               f"{points} points")
        prev = cur
