"""Pure-Python twins of :mod:`hotloop.distinct` (the source document's code, bugs fixed).

- :func:`count_approx_python`: the document's CVM function, with the paper's failure event
  (the document raised when the buffer became *empty* after halving; the paper's Algorithm 1
  fails when it is still *full*) and the paper's ``ceil`` for the buffer size (the document
  used ``round``). A seeded ``random.Random`` replaces the global generator.
- :func:`count_approx_knuth_python`: Knuth's Algorithm D, the never-failing variant.
- :func:`count_exact_python`: ``len(set(items))``.

They serve as oracles in the tests and as the baseline rows of ``hotloop bench distinct``.
"""

from __future__ import annotations

import heapq
import math
import random
from collections.abc import Hashable, Sequence


class CVMFailure(RuntimeError):
    """The paper's failure event: the buffer was still full after halving."""


def thresh_python(epsilon: float, delta: float, m: int) -> int:
    """``ceil(12 / epsilon**2 * log2(8 m / delta))``, the paper's buffer size."""
    return math.ceil(12 / epsilon**2 * math.log2(8 * max(m, 1) / delta))


def count_approx_python(
    items: Sequence[Hashable],
    epsilon: float = 0.5,
    delta: float = 0.001,
    *,
    seed: int | None = None,
    thresh: int | None = None,
) -> int:
    """The CVM algorithm as in the source document (Algorithm 1 of arXiv 2301.10191)."""
    rng = random.Random(seed)
    p = 1.0
    tracked: set[Hashable] = set()
    max_tracked = thresh if thresh is not None else thresh_python(epsilon, delta, len(items))
    for item in items:
        tracked.discard(item)
        if rng.random() < p:
            tracked.add(item)
        if len(tracked) == max_tracked:
            tracked = {x for x in tracked if rng.random() < 0.5}
            p /= 2
            if len(tracked) == max_tracked:
                raise CVMFailure("the buffer is still full after halving")
    return round(len(tracked) / p)


def count_approx_knuth_python(
    items: Sequence[Hashable],
    epsilon: float = 0.5,
    delta: float = 0.001,
    *,
    seed: int | None = None,
    thresh: int | None = None,
) -> int:
    """Knuth's Algorithm D: a buffer of (item, volatility) pairs, evicting the largest."""
    rng = random.Random(seed)
    s = thresh if thresh is not None else thresh_python(epsilon, delta, len(items))
    p = 1.0
    vol: dict[Hashable, float] = {}  # item -> volatility
    heap: list[tuple[float, int, Hashable]] = []  # (-volatility, tiebreak, item), lazy
    counter = 0
    for item in items:
        vol.pop(item, None)  # D3 (the heap entry becomes stale)
        u = rng.random()  # D4
        if u >= p:
            continue
        if len(vol) < s:
            vol[item] = u
            counter += 1
            heapq.heappush(heap, (-u, counter, item))
            continue
        # D5: the live entry of largest volatility
        while True:
            neg, _, top = heap[0]
            if vol.get(top) == -neg:
                break
            heapq.heappop(heap)
        if u > -neg:
            p = u
        else:
            p = -neg
            heapq.heappop(heap)
            del vol[top]
            vol[item] = u
            counter += 1
            heapq.heappush(heap, (-u, counter, item))
    return round(len(vol) / p)


def count_exact_python(items: Sequence[Hashable]) -> int:
    """The document's exact count."""
    return len(set(items))
