"""Trace and histogram pictures of the draws.

With matplotlib (the ``plot`` extra) the picture is a matplotlib figure; without it, the same
layout is drawn with Pillow (a runtime dependency), so ``hotloop demo`` and ``hotloop gibbs
--plot`` work after a plain ``pip install``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import IO

import numpy as np
from numpy.typing import NDArray


def plot_draws(draws: Mapping[str, NDArray[np.float64]], path: str | Path | IO[bytes], *,
               marks: Mapping[str, float] | None = None, title: str = "") -> None:
    """Write a PNG (to a path or a binary file) with, for mu and sigma^2, the trace of each
    chain (left) and the histogram of all draws (right), whatever the path's suffix.
    ``marks`` (e.g. the oracle's posterior means) are drawn as dashed lines. Uses matplotlib
    when it is installed, else Pillow."""
    try:
        # A Figure of its own, not pyplot's: nothing of the caller's matplotlib state (its
        # backend, its open figures) is touched.
        import matplotlib  # noqa: F401  (first: the package itself decides, as the test fakes)
        from matplotlib.figure import Figure
    except ImportError:
        _plot_draws_pillow(draws, path, marks=marks, title=title)
        return
    names = [("mu", "mu"), ("sigma2", "sigma^2")]
    fig = Figure(figsize=(10, 6))
    axes = fig.subplots(2, 2, gridspec_kw={"width_ratios": [3, 1]})
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
    fig.savefig(path, dpi=100, format="png")


# Pillow fallback ------------------------------------------------------------------------------

_CHAIN_COLOURS = [(31, 119, 180), (255, 127, 14), (44, 160, 44), (148, 103, 189),
                  (140, 86, 75), (227, 119, 194), (127, 127, 127), (188, 189, 34)]


def _plot_draws_pillow(draws: Mapping[str, NDArray[np.float64]], path: str | Path | IO[bytes], *,
                       marks: Mapping[str, float] | None, title: str) -> None:
    """The same 2 x 2 layout as the matplotlib figure, drawn with Pillow."""
    from PIL import Image, ImageDraw

    width, height, top = 1000, 600, 30
    img = Image.new("RGB", (width, height), "white")
    pen = ImageDraw.Draw(img)
    if title:
        pen.text((10, 8), title, fill="black")
    row_h = (height - top) // 2
    for row, (key, label) in enumerate([("mu", "mu"), ("sigma2", "sigma^2")]):
        d = np.atleast_2d(np.asarray(draws[key], dtype=np.float64))
        y0 = top + row * row_h
        trace = (70, y0 + 10, 730, y0 + row_h - 30)  # left, top, right, bottom
        hist = (750, y0 + 10, 990, y0 + row_h - 30)
        lo, hi = float(np.min(d)), float(np.max(d))
        if marks is not None and key in marks:
            lo, hi = min(lo, marks[key]), max(hi, marks[key])
        span = hi - lo if hi > lo else 1.0

        def ypix(v: NDArray[np.float64] | float, box: tuple[int, int, int, int] = trace,
                 lo: float = lo, span: float = span) -> NDArray[np.float64]:
            return box[3] - (np.asarray(v) - lo) / span * (box[3] - box[1])

        for box in (trace, hist):
            pen.rectangle(box, outline="black")
        for c in range(d.shape[0]):
            xs = np.linspace(trace[0], trace[2], d.shape[1])
            pts = list(zip(xs.tolist(), ypix(d[c]).tolist(), strict=True))
            pen.line(pts, fill=_CHAIN_COLOURS[c % len(_CHAIN_COLOURS)], width=1)
        counts, edges = np.histogram(d.ravel(), bins=80, range=(lo, hi))
        scale = (hist[2] - hist[0]) / max(1, int(counts.max()))
        for k in range(counts.size):
            y_a, y_b = ypix(edges[k + 1], hist), ypix(edges[k], hist)
            pen.rectangle((hist[0], float(y_a), hist[0] + counts[k] * scale, float(y_b)),
                          fill=(128, 128, 128))
        if marks is not None and key in marks:
            ym = float(ypix(marks[key]))
            for box in (trace, hist):
                for xa in range(box[0], box[2], 12):  # dashed
                    pen.line([(xa, ym), (min(xa + 6, box[2]), ym)], fill="red", width=2)
            pen.text((hist[0] + 4, hist[1] + 4), f"oracle mean {marks[key]:.4g}", fill="red")
        pen.text((8, (trace[1] + trace[3]) // 2), label, fill="black")
        pen.text((trace[0], trace[1] - 1), f"{hi:.4g}", fill="black")
        pen.text((trace[0], trace[3] - 12), f"{lo:.4g}", fill="black")
        pen.text(((trace[0] + trace[2]) // 2, trace[3] + 4), "draw", fill="black")
        pen.text(((hist[0] + hist[2]) // 2, hist[3] + 4), "count", fill="black")
    img.save(path, format="PNG")
