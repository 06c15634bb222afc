"""Masked arrays as inputs: their values where nothing is masked, a clear error otherwise.

NumPy converts a ``numpy.ma.MaskedArray`` to a plain array by dropping the mask: the values
hidden under it are used as if they were data (and ``np.ma.masked`` itself becomes 0.0). Every
kernel's inputs go through :func:`unmasked` first, so a masked entry is refused by name
instead of being computed with.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from hotloop._numbers import count_text, short_repr


def unmasked(value: Any, name: str, hint: str = "") -> Any:
    """``value`` itself unless it is a masked array; then its values (``.data``) when nothing
    is masked (the mask all False, or none). ``TypeError`` naming ``name``, the number of
    masked entries and the first of them otherwise (``hint`` is appended to the message). The
    mask is checked by NumPy (``mask.any()``), without a Python loop."""
    if not isinstance(value, np.ma.MaskedArray):  # np.ma.masked is one too
        return value
    mask = np.ma.getmask(value)
    if mask is np.ma.nomask:
        return value.data
    if mask.dtype.names is not None:  # a structured array: refused as not numbers
        raise TypeError(f"{name}: expected real numbers, got a structured masked array")
    if not mask.any():
        return value.data
    if mask.ndim == 0:
        raise TypeError(f"{name}: got a masked value ({short_repr(value)}), not a number{hint}")
    first = np.unravel_index(int(np.argmax(mask)), mask.shape)
    where = ", ".join(str(int(i)) for i in first)
    count = int(np.count_nonzero(mask))
    raise TypeError(f"{name}: masked values are not accepted ({count_text(count)} masked, the "
                    f"first {name}[{where}]; NumPy would use the values under the mask){hint}")
