"""The yes/no argument convention shared by every kernel (``smooth=``, ``progressive=``, ...)."""

from __future__ import annotations

import numpy as np

from hotloop._numbers import short_repr


def as_flag(value: object, name: str) -> bool:
    """``value`` as a bool: only True, False and NumPy bools are taken. Anything else is a
    TypeError naming ``name`` rather than its truth value (``smooth="no"`` would be True)."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    raise TypeError(
        f"{name}: expected True or False, got {type(value).__name__} {short_repr(value, 40)}")
