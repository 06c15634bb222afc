"""hotloop: hot loops in C for four slow Python jobs.

Kernels (imported on first use, so ``import hotloop`` stays cheap):

- :mod:`hotloop.poisson`: Poisson disc sampling by Yuksel's sample elimination.
- :mod:`hotloop.julia`: Julia set images.
- :mod:`hotloop.distinct`: approximate distinct counting and mergeable sketches.
- :mod:`hotloop.tmodel`: the Gibbs sampler of the scaled Student-t model.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from hotloop._core import HotloopError
from hotloop._version import __version__
from hotloop.cpu import cpu_features

if TYPE_CHECKING:
    from hotloop._threads import resolve_threads

__all__ = [
    "HotloopError",
    "__version__",
    "cpu_features",
    "resolve_threads",
]

_KERNELS = ("poisson", "julia", "distinct", "tmodel", "reference")


def __getattr__(name: str) -> Any:
    if name in _KERNELS:
        module = importlib.import_module(f"hotloop.{name}")
        globals()[name] = module
        return module
    if name == "resolve_threads":  # its module imports NumPy: not before it is used
        from hotloop._threads import resolve_threads

        globals()[name] = resolve_threads
        return resolve_threads
    raise AttributeError(f"module 'hotloop' has no attribute {name!r}")


def __dir__() -> list[str]:
    extra: list[Any] = [*_KERNELS, "resolve_threads"]
    return sorted([*globals(), *extra])
