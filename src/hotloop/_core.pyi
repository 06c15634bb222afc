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

# julia (ext/bind_julia.c)
def _julia_render(
    kind: int,
    c_re: float,
    c_im: float,
    threshold: float,
    itermin: int,
    itermax: int,
    mandelbrot: bool,
    xleft: float,
    xright: float,
    yleft: float,
    yright: float,
    out: Any,
    simd: int,
    threads: int,
    progress: Callable[[int, int], object] | None = None,
) -> None: ...
def _julia_points(
    c_re: float,
    c_im: float,
    threshold: float,
    itermax: int,
    mandelbrot: bool,
    z: Any,
    out: Any,
    simd: int,
    threads: int,
    progress: Callable[[int, int], object] | None = None,
) -> None: ...
def _julia_fma_peak(simd: int, seconds: float) -> float: ...
def _julia_picture(values: Any, out: Any) -> None: ...
