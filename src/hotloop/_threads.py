"""The thread-count convention shared by every kernel.

``threads=None`` (the default everywhere) takes ``HOTLOOP_NUM_THREADS`` from the environment,
or else every core this process may run on. An explicit ``threads`` is a positive int, or 0 for
"all cores". Results never depend on the thread count, only the speed does.
"""

from __future__ import annotations

import operator
import os

ENV_THREADS = "HOTLOOP_NUM_THREADS"
MAX_THREADS = 256


def available_cores() -> int:
    """Cores this process may run on (its CPU affinity), at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # pragma: no cover - non-Linux
        return max(1, os.cpu_count() or 1)


def resolve_threads(threads: int | None = None) -> int:
    """Return the number of threads a kernel call uses (>= 1).

    ``None`` -> ``$HOTLOOP_NUM_THREADS`` if set, else all available cores; ``0`` -> all
    available cores; a positive int -> itself (capped at 256). Raises ``TypeError`` for a
    non-integer and ``ValueError`` for a negative value or a malformed environment variable.
    """
    if threads is None:
        env = os.environ.get(ENV_THREADS, "").strip()
        if not env:
            return available_cores()
        try:
            value = int(env)
        except ValueError:
            raise ValueError(
                f"{ENV_THREADS}={env!r}: expected a non-negative integer (0 = all cores)"
            ) from None
        if value < 0:
            raise ValueError(f"{ENV_THREADS}={env!r}: expected a non-negative integer")
        return available_cores() if value == 0 else min(value, MAX_THREADS)
    if isinstance(threads, bool):
        raise TypeError("threads: expected an int or None, got bool")
    try:
        value = operator.index(threads)
    except TypeError:
        raise TypeError(
            f"threads: expected an int or None, got {type(threads).__name__}"
        ) from None
    if value < 0:
        raise ValueError(f"threads: expected a non-negative int (0 = all cores), got {value}")
    return available_cores() if value == 0 else min(value, MAX_THREADS)
