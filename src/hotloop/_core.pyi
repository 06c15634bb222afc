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
# tmodel (bind_tmodel.c)
def _tmodel_run(
    x: Any,
    nu: float,
    prior: int,
    variant: int,
    burn_in: int,
    thin: int,
    seed: int,
    threads: int,
    init_mu: Any | None,
    init_sigma2: Any | None,
    mu_out: Any,
    sigma2_out: Any,
    progress: Callable[[int, int], object] | None = None,
) -> None: ...
def _tmodel_conditional(
    which: int,
    variant: int,
    x: Any,
    nu: float,
    prior: int,
    mu: float,
    tau2: float,
    alpha2: float,
    u: Any | None,
    seed: int,
    out: Any,
) -> None: ...
# poisson (ext/bind_poisson.c)
def _poisson_eliminate(
    points: Any,
    n: int,
    out: Any,
    domain: int,
    lo: Any,
    hi: Any,
    d_max: float,
    d_min: float,
    alpha: float,
    progressive: bool,
    factor: float,
    threads: int,
    memory_limit: int = 0,
    progress: Callable[[int, int], object] | None = None,
) -> None: ...
def _poisson_nn_distances(
    points: Any, out: Any, domain: int, lo: Any, hi: Any, r_guess: float, threads: int
) -> None: ...
def _poisson_candidates(
    seed: int, out: Any, domain: int, lo: Any, hi: Any, threads: int
) -> None: ...
def _poisson_max_radius(k: int, measure: float, n: int) -> float: ...
