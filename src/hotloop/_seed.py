"""The seed convention shared by every seeded kernel.

``seed=None`` draws a fresh 64-bit seed from the operating system; the kernel records it on its
result (e.g. ``model.seed``) so the run can be repeated. An explicit seed is an int in
``[0, 2**64)``: the same seed gives the same result on every run, machine, SIMD path and thread
count.
"""

from __future__ import annotations

import operator
import os

from hotloop._numbers import count_text

SEED_MAX = 2**64 - 1


def resolve_seed(seed: object, name: str = "seed") -> int:
    """Return ``seed`` as an int in ``[0, 2**64)``, drawing one from the OS when it is None.

    Raises ``TypeError`` for a non-integer (bools included) and ``ValueError`` for a value out
    of range, naming the argument ``name``.
    """
    if seed is None:
        return int.from_bytes(os.urandom(8), "little")
    if isinstance(seed, bool):
        raise TypeError(f"{name}: expected an int or None, got bool")
    try:
        value = operator.index(seed)  # type: ignore[arg-type]
    except TypeError:
        raise TypeError(f"{name}: expected an int or None, got {type(seed).__name__}") from None
    if not 0 <= value <= SEED_MAX:
        raise ValueError(f"{name}: expected an int in [0, 2**64), got {count_text(value)}")
    return value
