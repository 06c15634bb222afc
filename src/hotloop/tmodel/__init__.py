"""The scaled Student-t model of BDA3 (p. 295), fitted by a Gibbs sampler written in C.

Model: ``x_i ~ t_nu(mu, sigma^2)`` with ``nu`` fixed, written as ``x_i ~ N(mu, alpha^2 U_i)``,
``U_i ~ Inv-chi^2(nu, tau^2)``, ``sigma^2 = alpha^2 tau^2`` (alpha is BDA3's parameter expansion,
which speeds up mixing). Prior: ``p(mu, log sigma) ∝ 1`` (``prior="log_sigma"``, BDA3's, the
default). The source document's slide says "sigma^2 ∝ const", which is not the prior its
conditionals target; that flat prior is available as ``prior="flat"``, with the two conditionals
it changes derived in ``docs/tmodel.md``.

>>> import numpy as np
>>> from hotloop.tmodel import ScaledTModel
>>> x = np.array([-1.2, 0.3, 0.9, 1.4, 2.2, 2.8, 9.0])
>>> model = ScaledTModel(x, nu=4, seed=1).run(burn_in=500, sample_size=1000, chains=4)
>>> model.mu.shape
(4, 1000)

Results: ``mu`` and ``sigma2`` are read-only NumPy arrays of shape ``(sample_size,)`` for one
chain and ``(chains, sample_size)`` for several; ``get_mu()``/``get_sigma2()`` return the same
arrays (the document's getters). ``summary()`` gives mean, sd, quantiles, split R-hat, bulk and
tail ESS and MCSE (:mod:`hotloop.tmodel.diagnostics`); ``to_inference_data()`` an ArviZ object.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
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
    first_not_real,
    is_real_type,
    short_repr,
    too_large_text,
    unwrap_0d,
)
from hotloop._progress import ProgressBar
from hotloop._seed import resolve_seed
from hotloop._threads import resolve_threads
from hotloop.tmodel import diagnostics

__all__ = ["PRIORS", "ParameterSummary", "ScaledTModel", "Summary", "check_data"]

FloatArray = NDArray[np.float64]

PRIORS = ("log_sigma", "flat")
_PRIOR_CODE = {"log_sigma": 0, "flat": 1}
# What the core allocates per chain beyond the draws: its state (eight U-pass streams, its own
# stream and mu, tau2, alpha2, padded to cache lines: 384 bytes on x86-64), its seed stream and
# the schedule's two words, about 430 bytes; rounded up. Plus 3 doubles per data point.
_CHAIN_BYTES = 512
# The smallest accepted power of sigma near 0 (HL_TMODEL_MIN_POWER in tmodel.h).
MIN_POWER = 1.0
# The largest accepted nu (HL_TMODEL_MAX_NU in tmodel.h: beyond it the sampler's products of nu
# can overflow; a t model with nu beyond about 1e15 is the normal model to double precision).
MAX_NU = 1e100
# Test-only sampler variants of the core (negative controls); see core/include/hotloop/tmodel.h.
_VARIANTS = {"exact": 0, "nofold": 1, "alpha_mul": 2, "tau_frozen": 3}


def check_data(data: ArrayLike, nu: float, prior: str = "log_sigma") -> FloatArray:
    """Validate ``data`` and ``nu`` for the model; return the data as a new float64 array.

    Raises ``ValueError`` (naming the argument) for: nu outside (0, 1e100] (``MAX_NU``: beyond
    it the sampler's products could overflow, and from about 1e15 the model is the normal one to
    double precision); data that is not
    1-D, has NaN or inf, fewer than 2 points (4 for the flat prior), a range (max - min) outside
    [1e-150, 1e150] or outside the narrower range that few points allow (the posterior's tails
    are heavy, and sigma^2 would leave the doubles: ``hl_tmodel_range_bounds`` in the C core,
    docs/tmodel.md), or a posterior that is improper or
    puts real mass at sigma^2 below the doubles: with k the largest number of equal points,
    near sigma = 0 it behaves like sigma^(p - 1), p = nu (n - k) - k + 1 + e (e = 0 for the
    log-sigma prior, 2 for the flat one); it is proper iff p > 0, and hotloop needs p >= 1 (with
    smaller p the chains wander to sigma^2 below the doubles). All points equal, heavy ties, or
    a tiny nu with few points (p = nu (n - 1) when all differ) fail. ``TypeError`` for anything
    but real numbers (complex, bool, strings, masked entries: a masked array with nothing
    masked is taken as its values).
    """
    if prior not in PRIORS:
        raise ValueError(f"prior: expected one of {PRIORS}, got {prior!r}")
    nu_f = _real(nu, "nu")
    if not 0.0 < nu_f <= MAX_NU:
        hint = (" (a t model with nu beyond about 1e15 is the normal model to double precision)"
                if nu_f > MAX_NU else "")
        if isinstance(nu, int):
            shown = count_text(nu)
        else:  # a Fraction beyond the doubles has a repr of hundreds of digits
            shown = too_large_text(nu) if nu_f == math.inf else short_repr(nu)
        raise ValueError(f"nu: expected a number in (0, {MAX_NU:g}], got {shown}{hint}")
    x = _as_float_data(data)
    if x.ndim != 1:
        raise ValueError(f"data: expected a 1-D array, got shape {x.shape}")
    min_n = 4 if prior == "flat" else 2
    if x.size < min_n:
        raise ValueError(f"data: need at least {min_n} points for the {prior} prior "
                         f"(the posterior is improper with fewer), got {x.size}")
    bad = ~np.isfinite(x)
    if bad.any():
        i = int(np.argmax(bad))
        raise ValueError(f"data: values must be finite; data[{i}] = {float(x[i])!r}")
    k = _core._tmodel_ties(x)  # the largest number of equal points (a sort in C, GIL released)
    if k == x.size:
        raise ValueError(f"data: all {x.size} points are equal ({float(x[0])!r}): the posterior is "
                         "improper (sigma -> 0 has unbounded density)")
    e = 2.0 if prior == "flat" else 0.0
    power = nu_f * (x.size - k) - k + 1.0 + e
    if not power >= MIN_POWER:
        what = (f"{k} of {x.size} points are equal" if k > 1 else f"n = {x.size} points")
        raise ValueError(
            f"data: {what} with nu = {nu_f:g}: near sigma = 0 the posterior behaves like "
            f"sigma^({power:.3g} - 1), so it is improper or puts real mass where sigma^2 is "
            f"below the smallest double (hotloop needs nu * (n - k) - k + 1 >= {MIN_POWER:g}, "
            "k the largest number of equal points; +2 under the flat prior)")
    # The range: within [1e-150, 1e150], and narrower with few points (the core's rule).
    lo, hi = _core._tmodel_range_bounds(x.size, power, _PRIOR_CODE[prior])
    spread = float(x.max()) - float(x.min())  # Python floats: inf without an overflow warning
    if not lo <= spread <= hi:
        raise ValueError(
            f"data: the range max - min = {spread:g} is outside [{lo:.3g}, {hi:.3g}], what "
            f"{x.size} points with nu = {nu_f:g} allow under the {prior} prior: sigma^2 (about "
            "the range squared) and the posterior's heavy tails with few points would leave "
            "the doubles; rescale the data")
    return x


def _init_values(value: object, key: str) -> FloatArray:
    """A starting value (or one per chain) as float64: real numbers of any kind (ints of any
    size, Fractions, Decimals, NumPy scalars and arrays), not bools, strings, complex numbers
    or masked values, which NumPy would convert without a word (``np.ma.masked`` to 0.0, a
    masked entry to the value under the mask)."""
    name = f"init[{key!r}]"
    value = unmasked(value, name)  # np.ma.masked too
    try:
        # the elements as given: [True, 1.0] is a float array to NumPy (and NumPy would turn
        # a masked element of a list into NaN with a warning, so look before converting)
        items = value if isinstance(value, np.ndarray) else np.asarray(value, dtype=object)
        if items.dtype == object:
            wrong = first_not_real(items.ravel()) >= 0
        else:
            wrong = items.dtype.kind not in "iuf"
        if wrong:
            raise TypeError(f"{name}: expected real numbers, got {short_repr(value)}")
        raw = np.asarray(value)
    except (TypeError, ValueError) as exc:
        if str(exc).startswith(name):
            raise
        raise TypeError(f"{name}: expected real numbers ({exc})") from None
    try:
        return np.array(raw, dtype=np.float64)
    except OverflowError:
        raise ValueError(f"{name}: a value beyond the float range") from None
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name}: expected real numbers ({exc})") from None


def _as_float_data(data: ArrayLike) -> FloatArray:
    """``data`` as a new float64 array: real numbers only (no complex, bool, strings, masks)."""
    # a masked array is taken as its values when nothing is masked
    data = unmasked(data, "data", "; pass data.compressed() for the unmasked values")
    kinds: set[type] = set()
    if isinstance(data, (list, tuple)):
        kinds = set(map(type, data))
        if any(issubclass(k, np.ma.MaskedArray) for k in kinds):  # NumPy: NaN and a warning
            i = next(i for i, v in enumerate(data) if isinstance(v, np.ma.MaskedArray))
            raise TypeError(f"data: expected real numbers, got data[{i}] = "
                            f"{short_repr(data[i])}")
    try:
        arr = np.asarray(data)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"data: expected a 1-D array of numbers ({exc})") from None
    if arr.dtype.kind not in "iufO":
        raise TypeError(f"data: expected real numbers, got dtype {arr.dtype}"
                        + (" (complex: pass .real explicitly)" if arr.dtype.kind == "c" else ""))
    # NumPy turns a bool among numbers into 0 or 1, and an object array's strings ('2') and
    # None into floats: look at the elements where they can hide (a list's items, an object
    # array's), their types collected in C (first_not_real).
    if arr.dtype.kind == "O":
        items: Any = arr.ravel()
    else:  # a flat list or tuple (other shapes are refused below)
        items = data if isinstance(data, (list, tuple)) and arr.ndim == 1 else ()
    bad = first_not_real(items, kinds if items is data else None)
    if bad >= 0:
        raise TypeError(f"data: expected real numbers, got data[{bad}] = {short_repr(items[bad])}")
    try:  # object arrays (e.g. Decimals) convert element by element in NumPy, or fail
        return np.array(arr, dtype=np.float64, copy=True)
    except OverflowError:
        raise ValueError("data: a value beyond the float range") from None
    except (TypeError, ValueError) as exc:
        raise TypeError(f"data: expected a 1-D array of real numbers ({exc})") from None


def _real(value: object, name: str) -> float:
    value = unwrap_0d(value, "iuf")  # a 0-d array, as NumPy reductions return
    if not is_real_type(type(value)):
        raise TypeError(f"{name}: expected a real number, got {type(value).__name__}")
    try:
        return float(value)  # type: ignore[arg-type]
    except OverflowError:  # an int or Fraction beyond the doubles
        return math.inf if value > 0 else -math.inf  # type: ignore[operator]
    except ValueError:  # Decimal('sNaN')
        return math.nan


def _count(value: object, name: str, minimum: int) -> int:
    """An int, a NumPy integer or a 0-d integer array (anything ``operator.index`` takes, as
    the other kernels' counts), not a bool, at least ``minimum``."""
    v = as_int(value, name)
    if v < minimum:
        raise ValueError(f"{name}: expected an int >= {minimum}, got {count_text(v)}")
    return v


@dataclasses.dataclass(frozen=True)
class ParameterSummary:
    """Posterior summary of one parameter over all chains (Stan/ArviZ definitions).

    The diagnostics need 4 draws per chain: with fewer, ``mcse_*``, ``ess_*`` and ``r_hat``
    are NaN. ``r_hat`` of a single chain compares its two halves (as Stan does; ArviZ gives
    NaN there)."""

    mean: float
    sd: float
    q5: float
    q50: float
    q95: float
    mcse_mean: float
    mcse_sd: float
    ess_bulk: float
    ess_tail: float
    r_hat: float


@dataclasses.dataclass(frozen=True)
class Summary:
    """``summary()``'s result: one :class:`ParameterSummary` per parameter; ``str()`` is the
    table that ``hotloop gibbs`` prints."""

    parameters: dict[str, ParameterSummary]
    chains: int
    draws: int

    def __getitem__(self, name: str) -> ParameterSummary:
        return self.parameters[name]

    def to_dict(self) -> dict[str, dict[str, float]]:
        return {k: dataclasses.asdict(v) for k, v in self.parameters.items()}

    def __str__(self) -> str:
        cols = ("mean", "sd", "q5", "q50", "q95", "mcse_mean", "mcse_sd", "ess_bulk",
                "ess_tail", "r_hat")
        # 12 wide: the longest 4-digit value, "-1.234e+100", is 11, so columns never touch
        w = 12
        head = f"{'':8}" + "".join(f"{c:>{w}}" for c in cols)
        lines = [f"{self.chains} chain(s) x {self.draws} draws", head]
        for name, p in self.parameters.items():
            vals = dataclasses.asdict(p)
            row = f"{name:8}"
            for c in cols:
                v = vals[c]
                if c.startswith("ess"):  # nan (too few draws) and inf print as such
                    row += f"{v:>{w}.0f}"
                elif c == "r_hat":  # inf: chains that disagree completely
                    row += f"{v:>{w}.3f}"
                else:
                    row += f"{v:>{w}.4g}"
            lines.append(row)
        return "\n".join(lines)


def summarize(draws: ArrayLike) -> ParameterSummary:
    """The :class:`ParameterSummary` of draws shaped (chains, draws) (a 1-D array is one
    chain): the figures of :mod:`hotloop.tmodel.diagnostics`, computed together (one sort of
    the draws serves the quantiles and both rank normalisations)."""
    return ParameterSummary(**diagnostics._summary_values(draws))


class ScaledTModel:
    """The scaled Student-t model with a Gibbs sampler in C.

    ``ScaledTModel(data, nu, *, seed=None, prior="log_sigma")``: ``data`` is copied (the caller's
    array is never modified or kept); ``seed=None`` draws a seed from the OS and records it in
    ``self.seed``. Every ``run`` starts afresh from that seed, so the same seed and arguments give
    the same draws, for any thread count.
    """

    def __init__(self, data: ArrayLike, nu: float, *, seed: int | None = None,
                 prior: str = "log_sigma") -> None:
        self._data = check_data(data, nu, prior)
        self._data.setflags(write=False)
        self._nu = float(nu)
        self._prior = prior
        self.seed = resolve_seed(seed)
        self._mu: FloatArray | None = None
        self._sigma2: FloatArray | None = None
        self._draws: tuple[FloatArray, FloatArray] | None = None  # (chains, draws) views

    @property
    def data(self) -> FloatArray:
        """The model's own read-only copy of the data."""
        return self._data

    @property
    def nu(self) -> float:
        return self._nu

    @property
    def prior(self) -> str:
        return self._prior

    def run(self, burn_in: int = 1000, sample_size: int = 2000, *, chains: int = 1,
            thin: int = 1, threads: int | None = None, init: Mapping[str, ArrayLike] | None = None,
            progress: bool = False) -> ScaledTModel:
        """Run ``chains`` chains of ``burn_in + sample_size * thin`` sweeps; keep every
        ``thin``-th sweep after the burn-in. Returns ``self``.

        Chains run in parallel on ``threads`` threads (default ``$HOTLOOP_NUM_THREADS`` or all
        cores) with the GIL released; chain c uses random stream c of ``self.seed``, so the draws
        do not depend on ``threads``. ``init``: ``None`` (each chain draws an overdispersed start
        around the data from its own stream) or a mapping with ``"mu"`` and/or ``"sigma2"``,
        each a number or one value per chain (a start further than 1e100 times the data's
        spread from the data is moved to that distance: the chains run on the standardised
        data, where farther starts would overflow). ``progress=True`` draws a progress bar on
        stderr (tqdm when installed); ``progress`` is True or False (NumPy bools too), anything
        else a ``TypeError`` (``"no"`` would be true). Ctrl-C stops the run within about 0.1 s
        with KeyboardInterrupt and leaves the model as it was before the call.
        ``OverflowError`` if a draw leaves the range of doubles (data with near-ties far closer
        than its range; see :func:`check_data`). ``init`` values that are masked
        (``np.ma.masked``, a masked entry) raise ``TypeError``: NumPy would use 0 or the value
        under the mask.
        """
        return self._run(burn_in, sample_size, chains=chains, thin=thin, threads=threads,
                         init=init, progress=progress, variant="exact")

    def _run(self, burn_in: int, sample_size: int, *, chains: int, thin: int,
             threads: int | None, init: Mapping[str, ArrayLike] | None, progress: bool,
             variant: str) -> ScaledTModel:
        """``run`` with a choice of the core's sampler variant: "exact", or for the test suite
        only "nofold", "alpha_mul" (the Rust bug), "tau_frozen" (the Python bug)."""
        burn = _count(burn_in, "burn_in", 0)
        size = _count(sample_size, "sample_size", 1)
        n_chains = _count(chains, "chains", 1)
        step = _count(thin, "thin", 1)
        n_threads = resolve_threads(threads)
        show_progress = as_flag(progress, "progress")
        if variant not in _VARIANTS:
            raise ValueError(f"variant: expected one of {tuple(_VARIANTS)}, got {variant!r}")
        init_mu, init_s2 = self._parse_init(init, n_chains)
        if burn + size * step >= 2**63:
            raise ValueError("burn_in + sample_size * thin: too many sweeps (>= 2**63)")
        need = 2 * n_chains * size * 8 + n_chains * _CHAIN_BYTES + self._data.size * 24
        avail = usable_memory()
        if avail is not None and need > avail:
            need_text = f"{need / 2**30:.1f} GiB" if need < 2**1000 else "over 2^1000 bytes"
            raise MemoryError(f"chains = {count_text(n_chains)} x sample_size = "
                              f"{count_text(size)} draws need {need_text} "
                              f"(mu, sigma2 and the chains' states), more than "
                              f"{usable_memory_text(avail)} ({avail / 2**30:.1f} GiB)")
        mu = np.empty((n_chains, size))
        s2 = np.empty((n_chains, size))
        with ProgressBar("gibbs", enabled=show_progress) as bar:
            _core._tmodel_run(self._data, self._nu, _PRIOR_CODE[self._prior],
                              _VARIANTS[variant], burn, step, self.seed, n_threads, init_mu,
                              init_s2, mu, s2, bar)
        mu.setflags(write=False)
        s2.setflags(write=False)
        self._draws = (mu, s2)
        self._mu = mu[0] if n_chains == 1 else mu
        self._sigma2 = s2[0] if n_chains == 1 else s2
        return self

    @staticmethod
    def _parse_init(init: Mapping[str, ArrayLike] | None,
                    chains: int) -> tuple[FloatArray | None, FloatArray | None]:
        if init is None:
            return None, None
        if not isinstance(init, Mapping):
            raise TypeError(f"init: expected None or a mapping with 'mu' and/or 'sigma2', got "
                            f"{type(init).__name__}")
        unknown = set(init) - {"mu", "sigma2"}
        if unknown:
            raise ValueError(f"init: unknown keys {sorted(unknown)} (expected 'mu', 'sigma2')")
        out: list[FloatArray | None] = []
        for key in ("mu", "sigma2"):
            if key not in init:
                out.append(None)
                continue
            v = _init_values(init[key], key)
            if v.ndim == 0:
                v = np.full(chains, float(v))
            if v.shape != (chains,):
                raise ValueError(f"init[{key!r}]: expected a number or {chains} values "
                                 f"(one per chain), got shape {v.shape}")
            if not np.all(np.isfinite(v)) or (key == "sigma2" and not np.all(v > 0)):
                what = "finite" if key == "mu" else "finite and > 0"
                raise ValueError(f"init[{key!r}]: values must be {what}")
            out.append(np.ascontiguousarray(v))
        return out[0], out[1]

    def _require(self) -> tuple[FloatArray, FloatArray]:
        if self._draws is None:
            raise RuntimeError("no draws yet: call run() first")
        return self._draws

    @property
    def mu(self) -> FloatArray:
        """Draws of mu: shape (sample_size,) for one chain, (chains, sample_size) otherwise."""
        self._require()
        assert self._mu is not None
        return self._mu

    @property
    def sigma2(self) -> FloatArray:
        """Draws of sigma^2 = alpha^2 tau^2, shaped like ``mu``."""
        self._require()
        assert self._sigma2 is not None
        return self._sigma2

    def get_mu(self) -> FloatArray:
        """The document's getter: the same array as ``mu``."""
        return self.mu

    def get_sigma2(self) -> FloatArray:
        """The document's getter: the same array as ``sigma2``."""
        return self.sigma2

    @property
    def chains(self) -> int:
        return int(self._require()[0].shape[0])

    def draws(self) -> dict[str, FloatArray]:
        """The draws as ``{"mu": ..., "sigma2": ...}``, always shaped (chains, sample_size)."""
        mu, s2 = self._require()
        return {"mu": mu, "sigma2": s2}

    def summary(self) -> Summary:
        """Mean, sd, 5/50/95% quantiles, MCSE of the mean and sd, bulk and tail ESS and
        rank-normalised split R-hat of mu and sigma^2, over all chains."""
        mu, s2 = self._require()
        cache: dict[int, FloatArray] = {}  # the normal scores of the ranks, for both
        parameters = {name: ParameterSummary(**diagnostics._summary_values(draws, cache))
                      for name, draws in (("mu", mu), ("sigma2", s2))}
        return Summary(parameters, chains=mu.shape[0], draws=mu.shape[1])

    def to_inference_data(self) -> Any:
        """The draws as an ``arviz.InferenceData`` (posterior group, dims chain x draw), for
        ArviZ's plots and diagnostics. Needs arviz 0.x: ``pip install 'hotloop[arviz]'``
        (ArviZ 1.x returns an xarray ``DataTree`` from the same converter instead)."""
        mu, s2 = self._require()
        try:
            import arviz
        except ImportError as exc:
            raise ImportError("to_inference_data needs arviz: pip install 'hotloop[arviz]'"
                              ) from exc
        return arviz.from_dict(
            posterior={"mu": np.array(mu), "sigma2": np.array(s2)},
            observed_data={"x": np.array(self._data)},
            attrs={"nu": self._nu, "prior": self._prior, "seed": self.seed,
                   "inference_library": "hotloop"},
        )

    def __repr__(self) -> str:
        state = "not run" if self._draws is None else (
            f"{self._draws[0].shape[0]} chain(s) x {self._draws[0].shape[1]} draws")
        return (f"ScaledTModel(n={self._data.size}, nu={self._nu:g}, prior={self._prior!r}, "
                f"seed={self.seed}, {state})")
