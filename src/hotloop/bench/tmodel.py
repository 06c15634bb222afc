"""``hotloop bench tmodel``: the source document's Gibbs-sampler workload.

nu = 6, n = 500 draws of mu + z sqrt(sigma2 nu / chi2_nu) with mu = -3.14, sigma2 = 30, and
run(2000, 2000), with the document's pure-Python and NumPy samplers (bugs fixed), a Numba twin,
and hotloop with 1 and 4 chains; then n = 50,000. Targets (ratios in the same run): one chain at
least 20x faster than NumPy; 4 chains on all cores at least 1.8x the throughput of 4 chains on
one thread (2 cores). Extra lines: nanoseconds per point and sweep (linear scaling in n shows
as a constant), and effective samples per second (bulk ESS of sigma^2).
"""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from hotloop.bench import Impl, Result, Target, Workload

NU = 6.0


def make_data(n: int, seed: int = 2021) -> np.ndarray:
    """The document's data: mu + z sqrt(sigma2 nu / chi2_nu), mu = -3.14, sigma2 = 30."""
    rng = np.random.default_rng(seed)
    z = rng.standard_normal(n)
    c = rng.chisquare(NU, n)
    out: np.ndarray = -3.14 + z * np.sqrt(30.0 * NU / c)
    return out


_NUMBA_CACHE: dict[str, Any] = {}


def _numba_run() -> Any:
    """The NumPy twin's algorithm as one Numba function (compiled on first use). Numba's
    nopython mode supports only the legacy np.random functions (one global stream per thread)."""
    if "run" not in _NUMBA_CACHE:
        import numba

        def run(x: np.ndarray, nu: float, burn: int, size: int, seed: int) -> Any:
            np.random.seed(seed)  # noqa: NPY002
            n = x.size
            mu = x.mean()
            tau2 = 1.0
            out_mu = np.empty(size)
            out_s2 = np.empty(size)
            shape_u = 0.5 * (nu + 1.0)
            for s in range(burn + size):
                s1 = 0.0
                s2 = 0.0
                s3 = 0.0
                for i in range(n):
                    r = x[i] - mu
                    w = 2.0 * np.random.gamma(shape_u) / (nu * tau2 + r * r)  # noqa: NPY002
                    s1 += w
                    s2 += r * r * w
                    s3 += r * w
                a = s2 / np.random.chisquare(n)  # noqa: NPY002
                z = np.random.standard_normal()  # noqa: NPY002
                mu = mu + s3 / s1 + math.sqrt(a / s1) * z
                t = np.random.gamma(0.5 * nu * n) / (0.5 * nu * s1)  # noqa: NPY002
                tau2 = a * t  # the fold
                if s >= burn:
                    out_mu[s - burn] = mu
                    out_s2[s - burn] = tau2
            return out_mu, out_s2

        _NUMBA_CACHE["run"] = numba.njit(cache=False)(run)
    return _NUMBA_CACHE["run"]


def _hotloop(chains: int, threads: int | None, burn: int, size: int) -> Callable[[Any], Any]:
    def fn(x: np.ndarray) -> Any:
        from hotloop.tmodel import ScaledTModel

        return ScaledTModel(x, NU, seed=1).run(burn, size, chains=chains, threads=threads)

    return fn


def _numpy(burn: int, size: int) -> Callable[[Any], Any]:
    def fn(x: np.ndarray) -> Any:
        from hotloop.reference.tmodel import NumpyScaledTModel

        return NumpyScaledTModel(x, NU, seed=1).run(burn, size)

    return fn


def _python(burn: int, size: int) -> Callable[[Any], Any]:
    def fn(x: np.ndarray) -> Any:
        from hotloop.reference.tmodel import PythonScaledTModel

        return PythonScaledTModel(x.tolist(), NU, seed=1).run(burn, size)

    return fn


def _numba(burn: int, size: int) -> Callable[[Any], Any]:
    def fn(x: np.ndarray) -> Any:
        return _numba_run()(x, NU, burn, size, 1)

    return fn


def _extra(n: int, burn: int, size: int) -> Callable[[dict[str, Result]], list[str]]:
    def report(results: dict[str, Result]) -> list[str]:
        from hotloop.reference.tmodel import NumpyScaledTModel
        from hotloop.tmodel import ScaledTModel
        from hotloop.tmodel.diagnostics import ess_bulk

        x = make_data(n)
        lines = []
        one = results.get("hotloop, 1 chain")
        if one is not None and one.status == "ok":
            ns = one.median / (n * (burn + size)) * 1e9
            lines.append(f"hotloop, 1 chain: {ns:.1f} ns per point and sweep")
        def hot(chains: int) -> Callable[[], np.ndarray]:
            return lambda: np.asarray(ScaledTModel(x, NU, seed=1).run(burn, size,
                                                                       chains=chains).sigma2)

        def twin() -> np.ndarray:
            return NumpyScaledTModel(x, NU, seed=1).run(burn, size).get_sigma2()

        ess_rows: list[tuple[str, Callable[[], np.ndarray]]] = [
            ("hotloop, 1 chain", hot(1)), ("hotloop, 4 chains", hot(4))]
        if n <= 1000:
            ess_rows.append(("numpy (document, fixed)", twin))
        for name, draw in ess_rows:
            r = results.get(name)
            if r is None or r.status != "ok":
                continue
            e = ess_bulk(draw())
            lines.append(f"{name}: bulk ESS(sigma^2) {e:.0f}, {e / r.median:.3g} effective "
                         "samples/s")
        return lines

    return report


def workloads(quick: bool) -> list[Workload]:
    burn, size = (200, 200) if quick else (2000, 2000)
    n_big = 5000 if quick else 50_000
    out = []
    for n in (500, n_big):
        big = n > 1000
        impls = []
        if not big:
            impls.append(Impl("pure Python (document, fixed)", _python(burn, size), repeats=1))
        impls.append(Impl("numpy (document, fixed)", _numpy(burn, size),
                          repeats=1 if big else None))
        impls.append(Impl("numba twin", _numba(burn, size), requires=("numba",),
                          repeats=1 if big else None))
        impls += [
            Impl("hotloop, 1 chain", _hotloop(1, None, burn, size), hotloop=True),
            Impl("hotloop, 4 chains", _hotloop(4, None, burn, size),
                 note="4x the draws"),
            Impl("hotloop, 4 chains, 1 thread", _hotloop(4, 1, burn, size),
                 note="4x the draws"),
        ]
        targets = [Target("hotloop, 4 chains", "hotloop, 4 chains, 1 thread", 1.8)]
        if not big:
            targets.insert(0, Target("hotloop, 1 chain", "numpy (document, fixed)", 20.0))
        out.append(Workload(
            kernel="tmodel",
            name=f"scaled t Gibbs, n = {n}, run({burn}, {size})",
            description=f"nu = 6, n = {n} t draws (mu = -3.14, sigma2 = 30), "
                        f"{burn} burn-in + {size} kept sweeps",
            setup=functools.partial(make_data, n),
            impls=impls,
            work_units=float(burn + size),
            unit_name="sweep",
            targets=targets,
            extra_report=_extra(n, burn, size),
        ))
    return out


if __name__ == "__main__":  # pragma: no cover - manual use
    t = time.perf_counter()
    print(len(workloads(True)), time.perf_counter() - t)
