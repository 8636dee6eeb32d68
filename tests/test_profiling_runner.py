"""Job runner: cache, resume, determinism, backends (no torch needed)."""

from __future__ import annotations

import json

import pytest

from semopt.profiling.runner import ResultCache, WorkUnit, cache_key, demo_compute, run_units


def _units(n: int = 20, groups: int = 3) -> list[WorkUnit]:
    return [WorkUnit(key=cache_key({"i": i, "job": "demo"}), group=(i % groups,), spec=("p", i))
            for i in range(n)]


def test_cache_key_depends_on_every_field_and_not_on_order() -> None:
    a = cache_key({"image": "x", "rep": 0, "seed": 1})
    assert a == cache_key({"seed": 1, "rep": 0, "image": "x"})
    assert a != cache_key({"image": "x", "rep": 1, "seed": 1})
    assert a != cache_key({"image": "x", "rep": 0, "seed": 2})


def test_result_cache_roundtrip_and_rejects_garbage(tmp_path) -> None:
    cache = ResultCache(tmp_path)
    key = cache_key({"a": 1})
    assert cache.get(key) is None
    cache.put(key, {"v": 0.25}, unit=["x"])
    assert cache.get(key) == {"v": 0.25}
    assert len(cache) == 1
    path = tmp_path / key[:2] / f"{key}.json"
    path.write_text("{not json")
    assert cache.get(key) is None  # a torn/garbled entry is a miss, never an error
    path.write_text(json.dumps({"key": "other", "value": {"v": 1}}))
    assert cache.get(key) is None
    assert not list(tmp_path.rglob("*.tmp"))


def test_rerun_is_all_cache_hits_and_identical(tmp_path) -> None:
    units = _units()
    cache = ResultCache(tmp_path / "c")
    first, s1 = run_units(units, demo_compute, {}, cache=cache, progress=False)
    again, s2 = run_units(units, demo_compute, {}, cache=cache, progress=False)
    assert (s1.computed, s1.cache_hits) == (20, 0)
    assert (s2.computed, s2.cache_hits) == (0, 20)
    assert first == again


def test_partial_cache_resumes_only_missing(tmp_path) -> None:
    units = _units()
    cache = ResultCache(tmp_path / "c")
    run_units(units[:7], demo_compute, {}, cache=cache, progress=False)
    seen = []
    results, stats = run_units(units, demo_compute, {}, cache=cache, progress=False,
                               on_result=lambda u, v: seen.append(u.key))
    assert stats.cache_hits == 7 and stats.computed == 13
    assert set(seen) == {u.key for u in units[7:]}
    reference, _ = run_units(units, demo_compute, {}, cache=ResultCache(tmp_path / "d"),
                             progress=False)
    assert results == reference


@pytest.mark.parametrize("backend", ["threading", "loky"])
def test_parallel_backends_give_the_same_results(tmp_path, backend) -> None:
    units = _units(12)
    ref, _ = run_units(units, demo_compute, {}, cache=ResultCache(tmp_path / "ref"), progress=False)
    got, stats = run_units(units, demo_compute, {}, cache=ResultCache(tmp_path / backend),
                           n_jobs=2, backend=backend, chunk_size=2, progress=False)
    assert got == ref and stats.computed == 12


def test_callable_context_is_evaluated_per_task(tmp_path) -> None:
    groups = []

    def context(group):
        groups.append(group)
        return {}

    run_units(_units(6, groups=2), demo_compute, context, cache=ResultCache(tmp_path),
              chunk_size=10, progress=False)
    assert sorted(groups) == [(0,), (1,)]


def test_dask_local_cluster_on_loopback(tmp_path) -> None:
    distributed = pytest.importorskip("dask.distributed")
    units = _units(10)
    ref, _ = run_units(units, demo_compute, {}, cache=ResultCache(tmp_path / "ref"), progress=False)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                                  protocol="tcp", host="127.0.0.1", dashboard_address=None) as cluster:
        got, stats = run_units(units, demo_compute, {}, cache=ResultCache(tmp_path / "dask"),
                               n_jobs=2, backend="dask", scheduler=cluster.scheduler_address,
                               progress=False)
    assert stats.backend == "dask" and got == ref


def test_bad_arguments(tmp_path) -> None:
    units = _units(2)
    with pytest.raises(ValueError, match="duplicate"):
        run_units(units + units[:1], demo_compute, {}, cache=ResultCache(tmp_path), progress=False)
    with pytest.raises(ValueError, match="n_jobs"):
        run_units(units, demo_compute, {}, cache=ResultCache(tmp_path), n_jobs=0, progress=False)
    with pytest.raises(ValueError, match="backend"):
        run_units(units, demo_compute, {}, cache=ResultCache(tmp_path), n_jobs=2, backend="mpi",
                  progress=False)
