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
