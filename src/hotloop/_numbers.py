"""Shared by the kernels' argument checks: which values are real numbers, and how errors show
numbers too large to print."""

from __future__ import annotations

import math
import numbers
import operator
from decimal import Decimal
from typing import Any

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


def type_text(value: object) -> str:
    """The type of a refused value, for a message (an array's dtype and shape as well)."""
    if isinstance(value, np.ndarray):
        return f"ndarray of dtype {value.dtype} and shape {value.shape}"
    return type(value).__name__


def unwrap_0d(value: object, kinds: str) -> object:
    """A 0-d array whose dtype kind is in ``kinds`` (e.g. "iuf", "iufc") as its one element, a
    NumPy scalar (``np.array(2.0)`` is the number 2.0 to a NumPy user, as NumPy reductions
    return it); any other value unchanged."""
    if isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind in kinds:
        return value[()]
    return value


def as_int(value: object, name: str) -> int:
    """``value`` as an int: anything ``operator.index`` takes (ints, NumPy integers, 0-d integer
    arrays), not a bool (True is not 1 as a count); else a TypeError naming ``name`` and the
    type (an array's dtype and shape). The callers check the range."""
    if isinstance(value, bool):
        raise TypeError(f"{name}: expected an int, got bool")
    try:
        return operator.index(value)  # type: ignore[arg-type]
    except TypeError:
        raise TypeError(f"{name}: expected an int, got {type_text(value)}") from None


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


def is_real_type(kind: type) -> bool:
    """Whether values of type ``kind`` are real numbers as hotloop takes them: ints (any size),
    floats, Fractions, Decimals, NumPy integers and floats; not bools (True is not 1.0 here),
    strings, None, complex numbers or dates, which NumPy would turn into floats without a
    word."""
    return issubclass(kind, (numbers.Real, Decimal)) and not issubclass(kind, (bool, np.bool_))


def first_not_real(items: Any, kinds: set[type] | None = None) -> int:
    """The index of the first element of the sequence ``items`` whose type is not
    :func:`is_real_type`, or -1. The elements' types are collected in C (set(map(type, ...))),
    so a list of a million floats costs no Python loop; the elements are walked only to find
    the culprit. ``kinds``: those types, where the caller has them already."""
    if kinds is None:
        kinds = set(map(type, items))
    if all(is_real_type(k) for k in kinds):
        return -1
    return next(i for i, item in enumerate(items) if not is_real_type(type(item)))
