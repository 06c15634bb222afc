"""CPU features: what the machine has and what hotloop's kernels use."""

from __future__ import annotations

import os
import warnings
from typing import TypedDict

from hotloop import _core

ENV_DISABLE = "HOTLOOP_DISABLE_CPU_FEATURES"
_KNOWN = ("avx512", "avx2", "fma", "avx512f", "avx512dq", "avx512bw", "avx512vl")


class CpuFeatures(TypedDict):
    """What :func:`cpu_features` returns."""

    detected: list[str]
    active: list[str]
    simd_level: str
    cpu_count: int


def cpu_features() -> CpuFeatures:
    """Return the CPU's SIMD features and the level hotloop's kernels run at.

    ``detected`` lists what the CPU and OS support; ``active`` what remains after
    ``HOTLOOP_DISABLE_CPU_FEATURES`` (a comma-separated list such as ``avx512,avx2``, read
    once when hotloop is first imported); ``simd_level`` is the best level every kernel uses:
    ``"avx512"``, ``"avx2"`` or ``"scalar"``; ``cpu_count`` the CPUs this process may run on
    (its affinity mask), what ``threads=0`` uses.
    """
    info = _core.cpu_info()
    return CpuFeatures(
        detected=list(info["detected"]),
        active=list(info["active"]),
        simd_level=str(info["simd_level"]),
        cpu_count=int(info["cpu_count"]),
    )


def _warn_unknown_disable() -> None:
    spec = os.environ.get(ENV_DISABLE, "")
    unknown = [t.strip() for t in spec.split(",") if t.strip() and t.strip().lower() not in _KNOWN]
    if unknown:
        warnings.warn(
            f"{ENV_DISABLE}: unknown feature name(s) {', '.join(unknown)} ignored; "
            f"known: {', '.join(_KNOWN)}",
            RuntimeWarning,
            stacklevel=3,
        )


_warn_unknown_disable()
