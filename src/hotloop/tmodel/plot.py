"""Trace and histogram pictures of the draws (matplotlib, the ``plot`` extra)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
from numpy.typing import NDArray


def plot_draws(draws: Mapping[str, NDArray[np.float64]], path: str | Path, *,
               marks: Mapping[str, float] | None = None, title: str = "") -> None:
    """Write a PNG with, for mu and sigma^2, the trace of each chain (left) and the histogram
    of all draws (right). ``marks`` (e.g. the oracle's posterior means) are drawn as dashed
    lines. Raises ImportError naming the extra when matplotlib is missing."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ImportError("plotting needs matplotlib: pip install 'hotloop[plot]'") from exc
    names = [("mu", "mu"), ("sigma2", "sigma^2")]
    fig, axes = plt.subplots(2, 2, figsize=(10, 6), gridspec_kw={"width_ratios": [3, 1]})
    for row, (key, label) in enumerate(names):
        d = np.atleast_2d(draws[key])
        ax_t, ax_h = axes[row]
        for c in range(d.shape[0]):
            ax_t.plot(d[c], lw=0.4, alpha=0.8, label=f"chain {c}")
        ax_h.hist(d.ravel(), bins=80, orientation="horizontal", color="0.5")
        if marks is not None and key in marks:
            for ax in (ax_t, ax_h):
                ax.axhline(marks[key], color="red", ls="--", lw=1.2)
            ax_h.text(0.98, 0.98, f"oracle mean {marks[key]:.4g}", transform=ax_h.transAxes,
                      ha="right", va="top", color="red", fontsize=8)
        ax_t.set_ylabel(label)
        ax_t.set_xlabel("draw")
        ax_h.set_xlabel("count")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
