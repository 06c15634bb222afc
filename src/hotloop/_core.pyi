"""Type stubs of the C extension hotloop._core (the binding; see ext/)."""

from collections.abc import Callable
from typing import Any

CORE_VERSION: int
MAX_THREADS: int

class HotloopError(RuntimeError): ...

def cpu_info() -> dict[str, Any]: ...

# test-only
def _busy(
    units: int,
    unit_ns: int,
    threads: int,
    scratch_bytes: int,
    progress: Callable[[int, int], object] | None = None,
) -> int: ...
def _rng_draw(dist: int, param: float, seed: int, stream: int, out: Any) -> None: ...
