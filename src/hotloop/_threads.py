"""The thread-count convention shared by every kernel.

``threads=None`` (the default everywhere) takes ``HOTLOOP_NUM_THREADS`` from the environment,
or else every core this process may run on. An explicit ``threads`` is a positive int, or 0 for
"all cores". Results never depend on the thread count, only the speed does.
"""

from __future__ import annotations

import operator

from hotloop import _core
from hotloop._numbers import count_text

ENV_THREADS = "HOTLOOP_NUM_THREADS"
MAX_THREADS = _core.MAX_THREADS  # 256: the core clamps every call to it


def available_cores() -> int:
    """Cores this process may run on (its CPU affinity), 1 to MAX_THREADS."""
    return _core._available_cores()


def resolve_threads(threads: int | None = None) -> int:
    """Return the number of threads a kernel call uses (>= 1).

    ``None`` -> ``$HOTLOOP_NUM_THREADS`` if set, else all available cores; ``0`` -> all
    available cores; a positive int -> itself (capped at 256). Raises ``TypeError`` for a
    non-integer and ``ValueError`` for a negative value or a malformed environment variable
    (anything but an optional sign and decimal digits, surrounded by blanks).
    """
    if threads is None:
        # In C (getenv, sched_getaffinity): a small call on cold caches spent about 70 us in
        # os.environ.get and os.sched_getaffinity, a third of a 200 -> 8 elimination.
        return _core._default_threads()
    if isinstance(threads, bool):
        raise TypeError("threads: expected an int or None, got bool")
    try:
        value = operator.index(threads)
    except TypeError:
        raise TypeError(
            f"threads: expected an int or None, got {type(threads).__name__}"
        ) from None
    if value < 0:
        raise ValueError(
            f"threads: expected a non-negative int (0 = all cores), got {count_text(value)}")
    return available_cores() if value == 0 else min(value, MAX_THREADS)
