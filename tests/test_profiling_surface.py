"""The fg-bg surface job end to end: tables, resume after SIGKILL, Dask, allocators."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.torch
torch = pytest.importorskip("torch")
pytest.importorskip("compressai")

from semopt import tables  # noqa: E402
from semopt.profiling import hyperprior as hp  # noqa: E402
from semopt.profiling.images import load_sample_images  # noqa: E402
from semopt.profiling.surface_job import SurfaceJob, build_tables, parse_grid  # noqa: E402
from semopt.tables.perception import PerceptionTable  # noqa: E402
from solvers.isotonic import is_monotone_grid  # noqa: E402

os.environ.setdefault("HF_HUB_OFFLINE", "1")
torch.set_num_threads(1)
ROOT = Path(__file__).resolve().parents[1]
SEMOPT = [sys.executable, "-c", "import sys; from semopt.cli import main; sys.exit(main())"]
GRID = "1e-4,1e-2,0.5"


@pytest.fixture(scope="module")
def model_path(tmp_path_factory) -> str:
    """A small random ScaleHyperprior whose latents use many symbols (fast, non-degenerate)."""
    torch.manual_seed(0)
    model = hp.build_model(16, 24)
    with torch.no_grad():
        model.g_a[6].weight.mul_(40.0)
    model.update(force=True)
    path = tmp_path_factory.mktemp("model") / "tiny-hp.pt"
    hp.save_model(model, path)
    return str(path)


def _job(model_path: str, reps: int = 2) -> SurfaceJob:
    images = load_sample_images("validation", size=192)[:2]
    return SurfaceJob(stack="fg-bg", stack_options={"model_path": model_path,
                                                    "metrics": ["msssim", "psnr"]},
                      images=images, dataset={"kind": "sample", "size": 192, "limit": 2},
                      grid=GRID, reps=reps, seed=0)


@pytest.fixture(scope="module")
def reference(model_path, tmp_path_factory):
    """Uninterrupted in-process run: tables per metric."""
    job = _job(model_path)
    results, stats = job.run(tmp_path_factory.mktemp("cache-ref"), progress=False)
    assert stats.computed == stats.total == 2 * 2 * (9 + 6 + 3)
    return build_tables(job, results, name="ref", stats=stats)


def _cli(args: list[str], **kw) -> subprocess.CompletedProcess:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT)}
    return subprocess.run(SEMOPT + args, capture_output=True, text=True, env=env, cwd=ROOT,
                          timeout=300, **kw)


def _profile_args(model_path: str, cache: Path, out: Path, reps: int = 2) -> list[str]:
    return ["profile", "surface", "--stack", "fg-bg", "--dataset", "sample", "--split",
            "validation", "--limit", "2", "--size", "192", "--grid", GRID, "--reps", str(reps),
            "--metric", "msssim,psnr", "--model", model_path, "--cache", str(cache),
            "--out", str(out), "--no-progress", "--chunk-size", "1"]


def test_parse_grid() -> None:
    assert parse_grid("1e-3,1e-2") == [1e-3, 1e-2, 0.5]
    assert parse_grid("log:-4:-2:3") == pytest.approx([1e-4, 1e-3, 1e-2, 0.5])
    with pytest.raises(ValueError, match="increasing"):
        parse_grid("1e-2,1e-3")
    with pytest.raises(ValueError, match="grid"):
        parse_grid("a,b")


def test_tables_are_monotone_with_stderr_and_all_parts(reference) -> None:
    assert set(reference) == {"msssim", "psnr"}
    for metric, table in reference.items():
        assert isinstance(table, PerceptionTable)
        f = table.forward
        assert f.values.shape == (3, 3)
        assert is_monotone_grid(f.values)
        assert f.raw_values.shape == (3, 3) and f.stderr.shape == (3, 3)
        assert np.all(f.stderr >= 0) and np.any(f.stderr > 0)
        assert np.isclose(f.axes[0][-1], np.log10(0.5))
        assert len(f.single_stream) == 2
        d = table.discard.values
        assert d[0] == 1.0 and np.all(d[3] <= d[1:3] + 1e-12) and np.all(d <= 1.0)
        assert table.streams[0].name == "foreground" and table.streams[0].bits > 0
        assert table.metric == {"msssim": "1 - MS-SSIM",
                                "psnr": "1 - min(PSNR, 50 dB)/50 dB"}[metric]
        prov = table.provenance
        assert prov["source"] == "measured" and prov["repetitions"] == 2
        assert prov["dataset"]["hash"].startswith("sha256:")
        assert len(prov["per_image"]) == 2
        L = table.semantic_values()
        assert np.all((L >= 0) & (L <= 1))


def test_written_table_validates_and_allocators_accept_it(reference, tmp_path) -> None:
    path = tables.save(reference["msssim"], tmp_path / "t.json")
    loaded = tables.load(path)
    assert loaded.to_data() == reference["msssim"].to_data()
    show = _cli(["tables", "show", str(path)])
    assert show.returncode == 0 and "content hash verified" in show.stdout
    minpower = pytest.importorskip("semopt.allocators.minpower")
    from semopt import allocate

    methods = ["proportional", "unaware", "bisection", "global-search", "exhaustive", "slsqp"]
    target = 0.5 * (loaded.best("discard") + loaded.worst("discard"))
    for scheme in ("discard", "forward"):
        lo, hi = loaded.best(scheme), loaded.worst(scheme)
        target = lo + 0.7 * (hi - lo)
        for method in methods:
            out = allocate(20.0, "10 W", target, problem="min-power", table=loaded,
                           scheme=scheme, method=method)
            assert out.method == method
            assert out.success, (scheme, method, out.message)
    assert minpower is not None


def test_sigkill_midway_then_resume_gives_the_same_table(model_path, reference, tmp_path) -> None:
    cache, out = tmp_path / "cache", tmp_path / "kill.json"
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(SEMOPT + _profile_args(model_path, cache, out), cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline:
            if len(list(cache.glob("??/*.json"))) >= 12 or proc.poll() is not None:
                break
            time.sleep(0.01)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    finished = len(list(cache.glob("??/*.json")))
    assert 0 < finished < 72, f"kill did not land midway ({finished} results)"
    again = _cli(_profile_args(model_path, cache, out) + ["--json"])
    assert again.returncode == 0, again.stderr[-2000:]
    import json

    summary = json.loads(again.stdout.strip().splitlines()[-1])
    assert summary["cache_hits"] >= finished > 0
    assert summary["cache_hits"] + summary["computed"] == 72 and summary["computed"] < 72
    for metric in ("msssim", "psnr"):
        resumed = tables.load(tmp_path / f"kill-{metric}.json")
        assert resumed.to_data() == reference[metric].to_data()


def test_dask_local_cluster_gives_the_same_table(model_path, reference, tmp_path) -> None:
    distributed = pytest.importorskip("dask.distributed")
    job = _job(model_path)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                                  protocol="tcp", host="127.0.0.1",
                                  dashboard_address=None) as cluster:
        results, stats = job.run(tmp_path / "cache", n_jobs=2, backend="dask",
                                 scheduler=cluster.scheduler_address, progress=False)
    assert stats.backend == "dask" and stats.computed == stats.total
    built = build_tables(job, results, name="ref", stats=stats)
    for metric in ("msssim", "psnr"):
        assert built[metric].to_data() == reference[metric].to_data()
