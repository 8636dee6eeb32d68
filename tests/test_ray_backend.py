"""The Ray backend of the profiling runner, on real single-node Ray instances.

Every instance is started and stopped by these tests: ``num_cpus`` 1 or 2, no dashboard,
usage statistics off, session files in a temporary folder that is removed afterwards.
Nothing connects to another host: drivers and workers talk to the instance on this
machine only. (Ray 2.x binds its gRPC servers to every local interface whatever
``_node_ip_address`` says -- observed with ``ss -ltnp`` -- and protects them with its
token authentication; the tests cannot make it loopback-only.)

Skipped cleanly when ``ray`` is not importable (``pip install 'semopt[ray]'``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
ray = pytest.importorskip("ray")

from semopt.profiling.runner import (  # noqa: E402
    ResultCache,
    WorkUnit,
    cache_key,
    demo_compute,
    ray_task_options,
    run_units,
)

pytestmark = pytest.mark.slow
OBJECT_STORE_BYTES = 80 * 2**20


def _units(n: int = 16, groups: int = 4) -> list[WorkUnit]:
    return [WorkUnit(key=cache_key({"i": i, "job": "ray"}), group=(i % groups,), spec=("p", i))
            for i in range(n)]


@pytest.fixture
def temp_dir() -> Iterator[str]:
    """A short folder for Ray's session files (its socket paths must stay short)."""
    path = tempfile.mkdtemp(prefix="semopt-ray-")
    yield path
    shutil.rmtree(path, ignore_errors=True)


def _reference(units: list[WorkUnit], tmp_path: Any) -> dict[str, Any]:
    ref, _ = run_units(units, demo_compute, {}, cache=ResultCache(tmp_path / "loky"), n_jobs=2,
                       backend="loky", chunk_size=3, progress=False)
    return ref


# The first two tests need this process to have no Ray session of its own; they run
# before the module-scoped instance below is started.
def test_runner_starts_and_stops_a_local_instance(tmp_path, monkeypatch, temp_dir) -> None:
    assert not ray.is_initialized()
    units = _units()
    init = ray.init
    seen: dict[str, Any] = {}

    def init_in_temp_dir(*args: Any, **kwargs: Any) -> Any:
        seen.update(kwargs)
        return init(*args, _temp_dir=temp_dir, object_store_memory=OBJECT_STORE_BYTES, **kwargs)

    monkeypatch.setattr(ray, "init", init_in_temp_dir)
    got, stats = run_units(units, demo_compute, {}, cache=ResultCache(tmp_path / "ray"),
                           n_jobs=2, backend="ray", chunk_size=3, progress=False)
    assert stats.backend == "ray" and stats.computed == len(units)
    assert seen["num_cpus"] == 2 and seen["include_dashboard"] is False
    assert not ray.is_initialized()          # the instance it started is stopped
    assert got == _reference(units, tmp_path)


_HEAD = textwrap.dedent("""
    import os, sys
    os.environ["RAY_USAGE_STATS_ENABLED"] = "0"
    import ray
    ray.init(num_cpus=1, include_dashboard=False, log_to_driver=False,
             _temp_dir=sys.argv[1], object_store_memory={store})
    print(ray.get_runtime_context().gcs_address, flush=True)
    sys.stdin.read()          # until the test closes our stdin
    ray.shutdown()
""")


def test_runner_connects_to_a_running_instance_by_address(tmp_path, temp_dir) -> None:
    assert not ray.is_initialized()
    head = subprocess.Popen([sys.executable, "-c", _HEAD.format(store=OBJECT_STORE_BYTES),
                             temp_dir], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        address = head.stdout.readline().strip()
        assert ":" in address, "the head instance did not start"
        units = _units(8)
        got, stats = run_units(units, demo_compute, {}, cache=ResultCache(tmp_path / "ray"),
                               n_jobs=1, backend="ray", scheduler=address, chunk_size=2,
                               progress=False)
        assert stats.backend == "ray" and got == _reference(units, tmp_path)
        assert not ray.is_initialized()      # disconnected; the instance itself keeps running
        assert head.poll() is None
    finally:
        head.stdin.close()
        try:
            head.wait(timeout=120)
        except subprocess.TimeoutExpired:    # pragma: no cover - a stuck shutdown
            head.kill()
            head.wait()
    assert head.returncode == 0


@pytest.fixture(scope="module")
def ray_instance() -> Iterator[Any]:
    """One local instance for the remaining tests, started and stopped here."""
    path = tempfile.mkdtemp(prefix="semopt-ray-")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, _temp_dir=path,
             object_store_memory=OBJECT_STORE_BYTES)
    try:
        yield ray
    finally:
        ray.shutdown()
        shutil.rmtree(path, ignore_errors=True)


def test_ray_task_options_from_the_environment() -> None:
    assert ray_task_options({}) == {"num_cpus": 1}
    assert ray_task_options({"SEMOPT_RAY_TASK_OPTIONS": '{"num_gpus": 1}'}) == {
        "num_cpus": 1, "num_gpus": 1}
    for bad in ("{num_gpus: 1}", '{"gpus": 1}', "[1]"):
        with pytest.raises(ValueError, match="SEMOPT_RAY_TASK_OPTIONS"):
            ray_task_options({"SEMOPT_RAY_TASK_OPTIONS": bad})


def test_ray_gives_the_same_results_as_loky_and_dask(ray_instance, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("SEMOPT_RAY_TASK_OPTIONS", '{"max_retries": 0}')
    distributed = pytest.importorskip("dask.distributed")
    units = _units()
    loky = _reference(units, tmp_path)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                                  protocol="tcp", host="127.0.0.1",
                                  dashboard_address=None) as cluster:
        dask, _ = run_units(units, demo_compute, {}, cache=ResultCache(tmp_path / "dask"),
                            n_jobs=2, backend="dask", scheduler=cluster.scheduler_address,
                            chunk_size=3, progress=False)
    seen = []
    got, stats = run_units(units, demo_compute, {}, cache=ResultCache(tmp_path / "ray"),
                           n_jobs=2, backend="ray", chunk_size=3, progress=False,
                           on_result=lambda unit, value: seen.append(unit.key))
    assert ray_instance.is_initialized()     # the caller's session is left as it was
    assert stats.backend == "ray" and stats.computed == len(units) == len(seen)
    assert got == loky == dask
    again, s2 = run_units(units, demo_compute, {}, cache=ResultCache(tmp_path / "ray"),
                          n_jobs=2, backend="ray", progress=False)
    assert again == got and (s2.cache_hits, s2.computed) == (len(units), 0)


@pytest.mark.torch
def test_a_profiling_job_on_ray_writes_the_same_table_as_loky_and_dask(ray_instance,
                                                                       tmp_path) -> None:
    """The tiny GVIF job (2 images × 2 random hyperprior models) on every backend."""
    torch = pytest.importorskip("torch")
    pytest.importorskip("compressai")
    distributed = pytest.importorskip("dask.distributed")
    import json

    from semopt.profiling import hyperprior as hp
    from semopt.profiling.gvif_job import GvifJob
    from semopt.profiling.images import load_sample_images

    torch.set_num_threads(1)
    entries = []
    for k in range(2):
        torch.manual_seed(k)
        model = hp.build_model(8, 16)
        model.update(force=True)
        sha = hp.save_model(model, tmp_path / f"m{k}.pt", half=False)
        entries.append({"name": f"m{k}", "N": 8, "M": 16, "weights": f"m{k}.pt", "sha256": sha,
                        "lambda": 0.01 * (k + 1)})
    (tmp_path / "tiny.json").write_text(json.dumps({"models": entries}))
    job = GvifJob(images=load_sample_images("validation", size=128)[:2],
                  dataset={"kind": "sample", "split": "validation"},
                  model_table=str(tmp_path / "tiny.json"), alpha_step=0.2, alpha_max=0.8,
                  decode_step=0.4)

    def table_data(backend: str, **kwargs: Any) -> tuple[Any, Any]:
        results, stats = job.run(tmp_path / f"cache-{backend}", n_jobs=2, backend=backend,
                                 progress=False, **kwargs)
        assert stats.computed == 4 and stats.backend == backend
        return job.table(results, name="tiny-gvif", stats=stats).to_data()

    loky = table_data("loky")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                                  protocol="tcp", host="127.0.0.1",
                                  dashboard_address=None) as cluster:
        dask = table_data("dask", scheduler=cluster.scheduler_address)
    on_ray = table_data("ray")
    for other in (dask, on_ray):
        assert other[0] == loky[0]
        assert set(other[1]) == set(loky[1])
        for name, arr in loky[1].items():
            np.testing.assert_array_equal(other[1][name], arr)
