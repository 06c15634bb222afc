"""How argument errors show numbers too large to print: shared by the kernels' checks."""

from __future__ import annotations

import math
import numbers

import numpy as np


def too_large_text(value: object) -> str:
    """A short description of a number too large for a float: its repr has hundreds of digits
    (and raises ValueError beyond 4300 of them)."""
    if isinstance(value, numbers.Integral):
        v = int(value)
        sign = "a negative integer" if v < 0 else "an integer"
        return f"{sign} of about {int(v.bit_length() * math.log10(2)) + 1} digits"
    if isinstance(value, (np.floating, np.complexfloating)):
        return f"{type(value).__name__} {value!s}"
    return f"a {type(value).__name__} too large"


def count_text(n: int) -> str:
    """A count for a message: its digits, or their number when there are more than 64 bits."""
    return str(n) if n.bit_length() <= 64 else too_large_text(n)


def short_repr(value: object, width: int = 60) -> str:
    """repr(value) cut to `width` characters, or a description where repr itself fails (an int
    beyond 4300 digits anywhere inside)."""
    try:
        return repr(value)[:width]
    except ValueError:
        if isinstance(value, numbers.Integral):
            return too_large_text(value)
        return f"a {type(value).__name__} holding an integer too large to print"
