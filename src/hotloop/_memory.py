"""How much memory this process may use, for the kernels' up-front size checks.

The physical memory, or less where a control group limits it: a container started with
``docker run --memory 2g`` on a 64 GB machine still reports 64 GB of physical memory, and a
render or a sample sized against that would be killed by the kernel's OOM killer instead of
raising ``MemoryError``. Both cgroup versions are read (v2's ``memory.max``, v1's
``memory.limit_in_bytes``), for the process's own group and every group above it, since each
ancestor's limit applies too. The answer is cached: the checks ask it on every call.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

_PROC_CGROUP = Path("/proc/self/cgroup")
_CGROUP_ROOT = Path("/sys/fs/cgroup")


def _read_limit(path: Path) -> int | None:
    """The byte limit in a cgroup limit file: None for "max", an unreadable file or garbage."""
    try:
        text = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return int(text) if text.isdigit() else None


def _ancestors(base: Path, group: str) -> list[Path]:
    """``base/group`` and each directory above it up to ``base`` itself."""
    parts = [p for p in group.split("/") if p and p not in (".", "..")]
    return [base.joinpath(*parts[:i]) for i in range(len(parts), -1, -1)]


def cgroup_limit(proc_cgroup: Path = _PROC_CGROUP, root: Path = _CGROUP_ROOT) -> int | None:
    """The smallest memory limit of this process's control groups (v1 or v2), or None when no
    group sets one (or none can be read). ``proc_cgroup`` and ``root`` are parameters for the
    tests; the defaults are the real ones."""
    try:
        lines = proc_cgroup.read_text(encoding="ascii").splitlines()
    except (OSError, UnicodeDecodeError):
        return None
    limits: list[int] = []
    for line in lines:
        fields = line.split(":", 2)
        if len(fields) != 3:
            continue
        hierarchy, controllers, group = fields
        if hierarchy == "0" and controllers == "":  # v2: one unified hierarchy
            files = [d / "memory.max" for d in _ancestors(root, group)]
        elif "memory" in controllers.split(","):  # v1: the memory controller's own tree
            files = [d / "memory.limit_in_bytes" for d in _ancestors(root / "memory", group)]
        else:
            continue
        limits += [v for v in map(_read_limit, files) if v is not None]
    return min(limits) if limits else None


def _physical_memory() -> int | None:
    try:
        return int(os.sysconf("SC_PHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):  # pragma: no cover - non-POSIX
        return None


@functools.lru_cache(maxsize=1)
def usable_memory() -> int | None:
    """Bytes this process may use at most: physical memory, or a control group's smaller
    limit. None where neither is known."""
    known = [v for v in (_physical_memory(), cgroup_limit()) if v is not None]
    return min(known) if known else None


def usable_memory_text(limit: int) -> str:
    """How the checks' messages name ``limit`` (what usable_memory gave): the machine's memory,
    or a control group's limit where that is smaller."""
    physical = _physical_memory()
    if physical is not None and limit < physical:
        return "this process's control-group memory limit"
    return "this machine's memory"
