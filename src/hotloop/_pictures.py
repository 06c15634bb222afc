"""Small pictures drawn with Pillow (a runtime dependency), for demos and ``--plot`` options
when matplotlib is not installed."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from PIL import Image, ImageDraw

PANEL = 480  # pixels per side of the plotting area
MARGIN = 20


def scatter_panel(points: ArrayLike, title: str, *, bounds: ArrayLike | None = None,
                  size: int = PANEL) -> Image.Image:
    """A square scatter plot of the first two coordinates of ``points`` (one coordinate: all on
    a line), scaled from ``bounds`` ((lo, hi) per axis; default the points' bounding box)."""
    pts = np.asarray(points, dtype=np.float64)
    if pts.ndim != 2 or pts.shape[1] < 1:
        raise ValueError("points: expected an (n, d) array")
    xy = pts[:, :2] if pts.shape[1] >= 2 else np.column_stack([pts[:, 0], np.full(len(pts), 0.5)])
    if bounds is None:
        lo, hi = xy.min(axis=0), xy.max(axis=0)
    else:
        b = np.asarray(bounds, dtype=np.float64)[:2]
        lo, hi = b[:, 0], b[:, 1]
        if pts.shape[1] == 1:
            lo, hi = np.array([lo[0], 0.0]), np.array([hi[0], 1.0])
    span = np.where(hi > lo, hi - lo, 1.0)
    unit = (xy - lo) / span
    img = Image.new("RGB", (size + 2 * MARGIN, size + 3 * MARGIN), "white")
    draw = ImageDraw.Draw(img)
    draw.text((MARGIN, 4), title, fill="black")
    top = 2 * MARGIN
    draw.rectangle([MARGIN - 1, top - 1, MARGIN + size, top + size], outline="gray")
    radius = float(np.clip(size / np.sqrt(max(len(pts), 1)) / 6.0, 0.8, 2.5))
    for x, y in unit:
        cx, cy = MARGIN + x * size, top + (1.0 - y) * size
        draw.ellipse([cx - radius, cy - radius, cx + radius, cy + radius], fill=(30, 70, 160))
    return img
