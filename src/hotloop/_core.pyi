"""Type stubs of the C extension hotloop._core (the binding; see ext/)."""

from collections.abc import Callable
from typing import Any

CORE_VERSION: int
MAX_THREADS: int

class HotloopError(RuntimeError): ...

def cpu_info() -> dict[str, Any]: ...
def _available_cores() -> int: ...
def _default_threads() -> int: ...

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
def _tmodel_ties(x: Any) -> int: ...
def _tmodel_range_bounds(n: int, power: float, prior: int) -> tuple[float, float]: ...
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
def _poisson_scan(points: Any, mode: int, lohi: Any = None) -> int: ...
_POISSON_SMALL_MAX_POINTS: int
def _poisson_eliminate_small(
    points: Any, n: Any, out: Any, domain: Any, threads: Any, alpha: Any, beta: Any, gamma: Any
) -> Any: ...
def _poisson_measure(domain: int, dim: int) -> float: ...
def _poisson_level_radii(
    domain: int, r_max: float, m: int, n: int, beta: float, gamma: float, weight_limiting: bool
) -> tuple[float, float]: ...
# distinct (ext/bind_distinct.c)
DK_I8: int
DK_I16: int
DK_I32: int
DK_I64: int
DK_U8: int
DK_U16: int
DK_U32: int
DK_U64: int
DK_F32: int
DK_F64: int
DK_BITS: int
DK_BYTES_FIX: int
DK_UCS4_FIX: int
DK_UTF8_O32: int
DK_UTF8_O64: int
DK_BIN_O32: int
DK_BIN_O64: int
HLL_MIN_P: int
HLL_MAX_P: int
HLL_FORMAT_VERSION: int

_DSource = tuple[int, Any, Any, Any, int, int, int]

class Sketch:
    def __new__(cls, precision: int, key: int, /) -> Sketch: ...
    def update(self, items: Any, /) -> None: ...
    def update_sources(self, sources: list[_DSource], threads: int, /) -> None: ...
    def update_lines(self, fd: int, /) -> tuple[int, int]: ...
    def estimate(self) -> tuple[float, bool]: ...
    def merge(self, other: Sketch, /) -> None: ...
    def copy(self) -> Sketch: ...
    def clear(self) -> None: ...
    def to_bytes(self) -> bytes: ...
    @classmethod
    def from_bytes(cls, data: Any, /) -> Sketch: ...
    def equals(self, other: Sketch, /) -> bool: ...
    @property
    def precision(self) -> int: ...
    @property
    def key(self) -> int: ...
    @property
    def is_sparse(self) -> bool: ...
    @property
    def process_local(self) -> bool: ...
    @property
    def nbytes(self) -> int: ...
    @property
    def rse(self) -> float: ...
    @property
    def sparse_limit(self) -> int: ...

def cvm_threshold(epsilon: float, delta: float, m: float, /) -> int: ...
def cvm_count(items: Any, method: int, thresh: int, seed: int, /) -> int: ...
def cvm_count_sources(sources: list[_DSource], method: int, thresh: int, seed: int, /) -> int: ...
def exact_count(items: Any, /) -> int: ...
def exact_count_sources(sources: list[_DSource], /) -> int: ...
def exact_count_lines(fds: list[int], /) -> tuple[int, int, int]: ...
def _hash_items(items: Any, key: int, /) -> tuple[list[int], bool]: ...
def _hash_sources(sources: list[_DSource], key: int, /) -> list[int]: ...
