"""Scale-out: Sketch objects built on Dask partitions on a real dask.distributed LocalCluster
(worker processes, each with its own PYTHONHASHSEED) merge to the sketch of all the data."""

from __future__ import annotations

import numpy as np
import pytest

from hotloop.distinct import Sketch, dask_count, dask_sketch

distributed = pytest.importorskip("distributed")
da = pytest.importorskip("dask.array")
db = pytest.importorskip("dask.bag")


@pytest.fixture(scope="module")
def client():  # type: ignore[no-untyped-def]
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       dashboard_address=None, silence_logs=50)
    c = distributed.Client(cluster)
    try:
        yield c
    finally:
        c.close()
        cluster.close()


def test_dask_partitions_merge_to_one_sketch(client) -> None:  # type: ignore[no-untyped-def]
    words = [f"user-{i % 50_000}" for i in range(200_000)]
    bag = db.from_sequence(words, npartitions=11)
    one = Sketch(seed=4)
    one.update(words)
    got = dask_sketch(bag, seed=4, split_every=3)
    assert got == one and got.to_bytes() == one.to_bytes()
    assert dask_count(bag, seed=4) == one.estimate()

    arr = np.random.default_rng(0).integers(0, 300_000, 1_000_000)
    darr = da.from_array(arr, chunks=90_000)
    one = Sketch(precision=12)
    one.update(arr)
    assert dask_sketch(darr, precision=12) == one

    small = db.from_sequence(["a", "b", "a"], npartitions=2)
    s = dask_sketch(small)
    assert s.is_exact and s.estimate() == 2


def test_dask_bad_arguments(client) -> None:  # type: ignore[no-untyped-def]
    bag = db.from_sequence([1, 2, 3], npartitions=1)
    with pytest.raises(ValueError, match="split_every"):
        dask_sketch(bag, split_every=1)
    with pytest.raises(ValueError, match="process only"):
        dask_sketch(db.from_sequence([object(), object()], npartitions=2))


def test_dask_dataframe_series(client) -> None:  # type: ignore[no-untyped-def]
    pd = pytest.importorskip("pandas")
    dd = pytest.importorskip("dask.dataframe")
    s = pd.Series([f"k{i % 777}" for i in range(20_000)])
    one = Sketch()
    one.update(s)
    frame = dd.from_pandas(pd.DataFrame({"x": s, "y": 1}), npartitions=4)
    assert dask_sketch(frame["x"]) == one
    with pytest.raises(TypeError, match="DataFrame"):
        dask_sketch(frame)
