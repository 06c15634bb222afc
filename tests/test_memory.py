"""Tests of hotloop._memory: the memory limit that the kernels' up-front size checks compare
with, from the physical memory and the process's control groups (cgroup v1 and v2), and the
kernels refusing work beyond a control group's limit with a MemoryError that says so."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from hotloop import _memory
from hotloop import julia as hl_julia
from hotloop import poisson as hl_poisson
from hotloop import tmodel as hl_tmodel

GIB = 1 << 30


def _fake(tmp_path: Path, proc: str, files: dict[str, str]) -> tuple[Path, Path]:
    """A /proc/self/cgroup text and a cgroup file system under tmp_path."""
    proc_file = tmp_path / "cgroup"
    proc_file.write_text(proc)
    root = tmp_path / "fs"
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return proc_file, root


def test_cgroup_v2_takes_the_smallest_limit_of_the_group_and_its_ancestors(
        tmp_path: Path) -> None:
    proc, root = _fake(tmp_path, "0::/user.slice/app\n", {
        "user.slice/app/memory.max": f"{2 * GIB}\n",
        "user.slice/memory.max": "max\n",
    })
    assert _memory.cgroup_limit(proc, root) == 2 * GIB
    (root / "user.slice/memory.max").write_text(f"{GIB}\n")  # a parent's limit applies too
    assert _memory.cgroup_limit(proc, root) == GIB
    (root / "user.slice/app/memory.max").write_text("max\n")
    (root / "user.slice/memory.max").write_text("max\n")
    assert _memory.cgroup_limit(proc, root) is None


def test_cgroup_v1_reads_the_memory_controllers_tree(tmp_path: Path) -> None:
    # a container's view: its own group, and the memory controller mounted among others
    proc, root = _fake(tmp_path, "5:cpu,cpuacct:/x\n4:memory:/docker/abc\n0::/\n", {
        "memory/docker/abc/memory.limit_in_bytes": "536870912\n",
        "memory/memory.limit_in_bytes": "9223372036854771712\n",  # v1's "unlimited"
        "cpu,cpuacct/x/memory.limit_in_bytes": "1\n",  # not the memory controller: ignored
    })
    assert _memory.cgroup_limit(proc, root) == 512 << 20
    (root / "memory/docker/abc/memory.limit_in_bytes").unlink()  # a group not mounted here
    assert _memory.cgroup_limit(proc, root) == 9223372036854771712


@pytest.mark.parametrize("proc", ["", "garbage\n", "4:memory\n", "0::/../etc\n"])
def test_unreadable_or_strange_cgroup_files_set_no_limit(tmp_path: Path, proc: str) -> None:
    proc_file, root = _fake(tmp_path, proc, {"memory.max": "lots\n"})
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc/memory.max").write_text("1\n")  # outside the root: ".." never goes there
    assert _memory.cgroup_limit(proc_file, root) is None
    assert _memory.cgroup_limit(tmp_path / "missing", root) is None


def test_usable_memory_is_at_most_the_physical_memory() -> None:
    physical = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    usable = _memory.usable_memory()
    assert usable is not None and 0 < usable <= physical
    assert _memory.usable_memory_text(physical) == "this machine's memory"
    assert "control-group" in _memory.usable_memory_text(physical // 2)


@pytest.fixture
def small_group(monkeypatch: pytest.MonkeyPatch) -> int:
    """Every kernel's check sees a control group of 64 MiB."""
    limit = 64 << 20
    for module in (hl_julia, hl_tmodel, hl_poisson):
        monkeypatch.setattr(module, "usable_memory", lambda: limit)
    return limit


def test_kernels_refuse_work_beyond_a_control_groups_limit(small_group: int) -> None:
    # 4000 x 4000 float64 (122 MiB), 8 chains of 10^6 draws (122 MiB), the neighbour lists of
    # 400,000 points in 2D (about 75 MiB against 3/4 of 64): each over the group's limit and far
    # under this machine's memory, so the message names the group.
    region = hl_julia.ComplexRegion(-0.1, 0.1, -0.1, 0.1)
    with pytest.raises(MemoryError, match="control-group memory limit"):
        hl_julia.JuliaDiv(-0.835 - 0.2321j, 2.0, (20, 100), 4000).over(region)
    model = hl_tmodel.ScaledTModel(np.arange(10.0), 4, seed=1)
    with pytest.raises(MemoryError, match="control-group memory limit"):
        model.run(0, 10**6, chains=8)
    points = np.random.default_rng(1).random((400_000, 2))
    with pytest.raises(MemoryError, match="control-group memory limit"):
        hl_poisson.eliminate(points, 80_000)
    # under the limit everything runs
    assert hl_julia.JuliaDiv(-0.835 - 0.2321j, 2.0, (20, 100), 500).over(region).shape == (500, 500)
    assert model.run(0, 1000, chains=2).mu.shape == (2, 1000)
    assert hl_poisson.eliminate(points[:20_000], 4000).shape == (4000,)
