"""hotloop: hot loops in C for four slow Python jobs.

Kernels (imported on first use, so ``import hotloop`` stays cheap):

- :mod:`hotloop.poisson`: Poisson disc sampling by Yuksel's sample elimination.
- :mod:`hotloop.julia`: Julia set images.
- :mod:`hotloop.distinct`: approximate distinct counting and mergeable sketches.
- :mod:`hotloop.tmodel`: the Gibbs sampler of the scaled Student-t model.
"""

from __future__ import annotations

import importlib
import types
from typing import Any

from hotloop._core import HotloopError
from hotloop._threads import resolve_threads
from hotloop._version import __version__
from hotloop.cpu import cpu_features

__all__ = [
    "HotloopError",
    "__version__",
    "cpu_features",
    "resolve_threads",
]

_KERNELS = ("poisson", "julia", "distinct", "tmodel", "reference")


def __getattr__(name: str) -> types.ModuleType:
    if name in _KERNELS:
        module = importlib.import_module(f"hotloop.{name}")
        globals()[name] = module
        return module
    raise AttributeError(f"module 'hotloop' has no attribute {name!r}")


def __dir__() -> list[str]:
    extra: list[Any] = list(_KERNELS)
    return sorted([*globals(), *extra])
