"""Brute-force twin of :mod:`hotloop.poisson`: weighted sample elimination in NumPy.

Every pair's distance is computed (O(M^2) memory and time: small inputs only), then the
elimination runs exactly as Yuksel 2015 describes, with the conventions of the C kernel so the
two agree index for index:

- distances and weights evaluate the same floating-point expressions in the same order
  (coordinate sums in increasing coordinate order; ``t**8`` as three squarings; ``pow`` from
  the C library through :mod:`math`; rotations by the chord to the nearer of ``q``, ``-q``);
- contributions are quantised to fixed point, ``trunc(w * 2**S)`` with ``S = 31 - e`` where
  ``w(d_min) = f * 2**e`` (``math.frexp``), and summed exactly in int64;
- on a tie (equal heaviest weights) the point with the smallest input index is removed;
- progressive levels follow cyCodeBase (halve while >= 3 points, d_max times 2^(1/k) per level,
  d_min unchanged);
- an alpha whose quantised weights would drop the neighbours beyond 0.7 d_max on some level is
  refused, with the kernel's message (:func:`hotloop.poisson.check_alpha`).

It also serves as the "pure NumPy" row of ``hotloop bench poisson``.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray

from hotloop._flags import as_flag
from hotloop._numbers import as_int, count_text
from hotloop.poisson import (
    DOMAINS,
    _as_domain,
    _Geometry,
    _points_checked,
    check_alpha,
    check_periodic_reach,
    chord_to_angle,
    core_radii,
)

MAX_POINTS = 6000  # the distance matrices take M^2 doubles


def pair_distances(x: NDArray[np.float64], domain: str, lo: NDArray[np.float64] | None = None,
                   hi: NDArray[np.float64] | None = None) -> NDArray[np.float64]:
    """The (M, M) matrix of domain distances, D[i, j] = d(x_i, x_j), as the C kernel computes
    them (rotations: quaternion chords)."""
    m, d = x.shape
    if domain == "rotations":
        sm = np.zeros((m, m))
        sp = np.zeros((m, m))
        for k in range(d):
            a, b = x[:, k][:, None], x[:, k][None, :]
            dm, dp = a - b, a + b
            sm = sm + dm * dm
            sp = sp + dp * dp
        return np.asarray(np.sqrt(np.minimum(sm, sp)), dtype=np.float64)
    s = np.zeros((m, m))
    for k in range(d):
        diff = x[:, k][None, :] - x[:, k][:, None]  # b - a with a = x_i (row), b = x_j
        if domain == "periodic":
            assert lo is not None and hi is not None
            length = hi[k] - lo[k]
            halfl = 0.5 * length
            diff = np.where(diff > halfl, diff - length,
                            np.where(diff < -halfl, diff + length, diff))
        s = s + diff * diff
    return np.asarray(np.sqrt(s), dtype=np.float64)


def _weight(t: NDArray[np.float64], alpha: float) -> NDArray[np.float64]:
    if alpha == 8.0:
        t2 = t * t
        t4 = t2 * t2
        return np.asarray(t4 * t4, dtype=np.float64)
    power = np.frompyfunc(lambda v: math.pow(v, alpha), 1, 1)
    return np.asarray(power(t).astype(np.float64), dtype=np.float64)


def quantised_weights(dist: NDArray[np.float64], d_max: float, d_min: float,
                      alpha: float) -> NDArray[np.int64]:
    """Q[i, j] = trunc(w(d_ij) * 2**S) for neighbours (d < d_max, i != j), else 0."""
    t_max = 1.0 - d_min / d_max
    w_max = float(_weight(np.array([t_max]), alpha)[0]) if t_max > 0.0 else 0.0
    scale = math.ldexp(1.0, 31 - math.frexp(w_max)[1]) if w_max > 0.0 else 1.0
    near = dist < d_max
    np.fill_diagonal(near, False)
    dh = np.where(dist < d_min, d_min, dist)
    t = 1.0 - dh / d_max
    live = near & (t > 0.0)
    q = np.zeros(dist.shape, dtype=np.int64)
    q[live] = (_weight(t[live], alpha) * scale).astype(np.int64)
    return q


def _level(x: NDArray[np.float64], rows: NDArray[np.int64], n: int, geo: _Geometry,
           radii: tuple[float, float, float]) -> tuple[list[int], NDArray[np.int64]]:
    """One elimination over the points x[rows] with (d_max, d_min, alpha): (removed rows in
    order, kept rows sorted)."""
    m = rows.size
    d_max, d_min, alpha = radii
    periodic = geo.domain == "periodic"
    dist = pair_distances(x[rows], geo.domain, geo.lo if periodic else None,
                          geo.hi if periodic else None)
    q = quantised_weights(dist, d_max, d_min, alpha)
    w = q.sum(axis=1)
    alive = np.ones(m, dtype=bool)
    removed: list[int] = []
    for _ in range(m - n):
        masked = np.where(alive, w, -1)
        top = masked.max()
        i = int(np.flatnonzero(masked == top)[0])  # rows ascending: the smallest input index
        alive[i] = False
        removed.append(int(rows[i]))
        w = w - np.where(alive, q[i], 0)
    return removed, rows[alive]


def eliminate(
    points: ArrayLike,
    n: int,
    *,
    bounds: ArrayLike | None = None,
    domain: str = "box",
    progressive: bool = False,
    r_max: float | None = None,
    alpha: float = 8.0,
    beta: float = 0.65,
    gamma: float = 1.5,
    weight_limiting: bool = True,
) -> NDArray[np.int64]:
    """The brute-force twin of :func:`hotloop.poisson.eliminate` (same arguments, same
    result, M up to a few thousand)."""
    x, _, unit_tol = _points_checked(points, "points", False)
    m = x.shape[0]
    n = as_int(n, "n")
    if not 1 <= n < m:
        raise ValueError(f"n: expected 1 <= n < {m}, got {count_text(n)}")
    if m > MAX_POINTS:
        raise ValueError(f"points: the brute-force twin takes at most {MAX_POINTS} points")
    domain = _as_domain(domain)
    geo = _Geometry(domain, x, bounds, unit_tol=unit_tol)
    progressive = as_flag(progressive, "progressive")
    weight_limiting = as_flag(weight_limiting, "weight_limiting")
    r = geo.r_max(n) if r_max is None else float(r_max)
    d_max = 2.0 * r
    check_periodic_reach(geo, d_max, r_max_given=r_max is not None)
    d_min = d_max * ((1.0 - math.pow(n / m, gamma)) * beta) if weight_limiting else 0.0
    d_max, d_min = core_radii(domain, d_max, d_min)
    factor = math.pow(2.0, 1.0 / geo.k)
    check_alpha(float(alpha), m=m, n=n, d_max=d_max, d_min=d_min, progressive=progressive,
                factor=factor, weight_limiting=weight_limiting)
    rows = np.arange(m, dtype=np.int64)
    _, kept = _level(x, rows, n, geo, (d_max, d_min, float(alpha)))
    if not progressive:
        return kept
    out = np.empty(n, dtype=np.int64)
    size = n
    while size >= 3:
        half = size // 2
        d_max = d_max * factor
        removed, kept = _level(x, kept, half, geo, (d_max, d_min, float(alpha)))
        for k, row in enumerate(removed):
            out[size - 1 - k] = row
        size = half
    out[:size] = kept
    return out


def nn_distances(points: ArrayLike, *, bounds: ArrayLike | None = None,
                 domain: str = "box") -> NDArray[np.float64]:
    """Each point's nearest-neighbour distance, by the full distance matrix."""
    x, _, unit_tol = _points_checked(points, "points", False)
    geo = _Geometry(_as_domain(domain), x, bounds, unit_tol=unit_tol)
    dist = pair_distances(x, domain, geo.lo, geo.hi)
    np.fill_diagonal(dist, np.inf)
    nearest = np.asarray(dist.min(axis=1), dtype=np.float64)
    return chord_to_angle(nearest) if domain == "rotations" else nearest


def naive_eliminate(points: ArrayLike, n: int, r_max: float) -> list[int]:
    """The source document's approach in plain Python (lists, no NumPy, 2-D box, alpha 8, no
    weight limiting): O(M^2) neighbour search by loops. A bench baseline only."""
    pts = [tuple(map(float, p)) for p in np.asarray(points)]
    m = len(pts)
    d_max = 2.0 * r_max
    d2max = d_max * d_max
    nbrs: list[list[tuple[int, float]]] = [[] for _ in range(m)]
    for i in range(m):
        xi = pts[i]
        for j in range(i + 1, m):
            xj = pts[j]
            s = sum((a - b) * (a - b) for a, b in zip(xi, xj, strict=True))
            if s < d2max:
                w = (1.0 - math.sqrt(s) / d_max) ** 8
                nbrs[i].append((j, w))
                nbrs[j].append((i, w))
    weight = [sum(w for _, w in lst) for lst in nbrs]
    alive = [True] * m
    for _ in range(m - n):
        i = max((k for k in range(m) if alive[k]), key=lambda k: weight[k])
        alive[i] = False
        for j, w in nbrs[i]:
            weight[j] -= w
    return [k for k in range(m) if alive[k]]


__all__ = ["DOMAINS", "eliminate", "naive_eliminate", "nn_distances", "pair_distances",
           "quantised_weights"]
