"""``hotloop demo`` part for tmodel: the source document's workload, checked against the oracle.

Runs ScaledTModel on the document's data (nu = 6, n = 500, mu = -3.14, sigma^2 = 30) with
run(2000, 2000) and 4 chains, prints the summary and the timing next to the NumPy twin's, the
oracle's posterior means (grid integration), and writes a trace and histogram picture of mu and
sigma^2 with the oracle's means marked.
"""

from __future__ import annotations

import time
from pathlib import Path

from hotloop.bench.tmodel import NU, make_data


def run(out_dir: Path) -> None:
    from hotloop.reference.tmodel import NumpyScaledTModel, posterior_summary
    from hotloop.tmodel import ScaledTModel

    x = make_data(500)
    t0 = time.perf_counter()
    model = ScaledTModel(x, NU, seed=2021).run(2000, 2000, chains=4)
    t_hot = time.perf_counter() - t0
    t0 = time.perf_counter()
    NumpyScaledTModel(x, NU, seed=2021).run(2000, 2000)
    t_np = time.perf_counter() - t0
    print(f"scaled t model, nu = {NU:g}, n = {x.size}, run(2000, 2000):")
    print(f"  hotloop, 4 chains: {t_hot * 1e3:.1f} ms; NumPy twin, 1 chain: {t_np * 1e3:.0f} ms")
    s = model.summary()
    print("  " + str(s).replace("\n", "\n  "))
    t0 = time.perf_counter()
    oracle = posterior_summary(x, NU, tol=3e-3)
    t_or = time.perf_counter() - t0
    print(f"  oracle (grid integration, {oracle.grid_points}^2 points, {t_or:.1f} s): "
          f"E[mu] = {oracle.mean_mu:.4f}, E[sigma^2] = {oracle.mean_sigma2:.4f}")
    for name, want in (("mu", oracle.mean_mu), ("sigma2", oracle.mean_sigma2)):
        p = s[name]
        print(f"  {name}: sampler {p.mean:.4f} +- {p.mcse_mean:.4f} (MCSE), oracle {want:.4f}, "
              f"z = {(p.mean - want) / p.mcse_mean:+.2f}")
    try:
        from hotloop.tmodel.plot import plot_draws

        path = out_dir / "tmodel_trace.png"
        plot_draws(model.draws(), path, marks={"mu": oracle.mean_mu,
                                               "sigma2": oracle.mean_sigma2},
                   title="scaled t Gibbs sampler (4 chains); dashed: oracle posterior means")
        print(f"  wrote {path}")
    except ImportError as exc:
        print(f"  (no picture: {exc})")
