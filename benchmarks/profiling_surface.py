"""Profiling-job throughput (1 vs 2 workers), cache-hit rerun time, Monte Carlo stderr vs reps.

Runs the embedded fg-bg stack (shipped ScaleHyperprior, spectral-residual mask, MS-SSIM +
PSNR) on sample images:

1. the same job (images × 3×3 BER grid × 2 reps) with 1 worker and with 2 workers, each
   from an empty cache: units (image × grid point × repetition) per second and speed-up;
2. the 2-worker job again on its now-full cache: wall time of an unchanged rerun;
3. the job with up to ``--max-reps`` repetitions: Monte Carlo standard error of the mean
   (within-image, channel randomness only) against the number of repetitions.

Usage::

    HF_HUB_OFFLINE=1 python benchmarks/profiling_surface.py [--model PATH] [--images 2]
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from semopt.benchmarking import write_results

NAME = "profiling_surface"
GRID = "1e-5,1e-4"


def _job(images: list, reps: int, model: str | None) -> Any:
    from semopt.profiling.surface_job import SurfaceJob

    options: dict[str, Any] = {"metrics": ["msssim", "psnr"]}
    if model:
        options["model_path"] = model
    return SurfaceJob(stack="fg-bg", stack_options=options, images=images,
                      dataset={"kind": "sample", "size": 256}, grid=GRID, reps=reps, seed=0)


def _timed(job: Any, cache: Path, n_jobs: int) -> dict[str, Any]:
    t0 = time.perf_counter()
    results, stats = job.run(cache, n_jobs=n_jobs, progress=False)
    wall = time.perf_counter() - t0
    return {"results": results, "stats": stats.as_dict(), "wall_s": wall,
            "units_per_s": stats.computed / wall if stats.computed else float("nan")}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the benchmark, print and write ``benchmarks/results/profiling_surface.{json,png}``."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="ScaleHyperprior file (default: shipped)")
    parser.add_argument("--images", type=int, default=2)
    parser.add_argument("--max-reps", type=int, default=6)
    parser.add_argument("--out-dir", default=None)
    args = parser.parse_args(argv)

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from semopt.profiling.images import load_sample_images
    from semopt.profiling.surface_job import _stderr

    images = load_sample_images("validation", size=256)[: args.images]
    work = Path(tempfile.mkdtemp(prefix="semopt-bench-profiling-"))
    try:
        job = _job(images, 2, args.model)
        n_units = len(job.units())
        # Warm-up: load torch/compressai and the model in this process and in the two loky
        # workers (reused across calls), so the timed runs measure steady-state throughput.
        warm = _job(images[:1], 1, args.model)
        warm1 = _timed(warm, work / "w1", 1)
        warm2 = _timed(warm, work / "w2", 2)
        one = _timed(job, work / "c1", 1)
        two = _timed(job, work / "c2", 2)
        rerun = _timed(job, work / "c2", 2)
        strip = lambda r: {k: {m: v for m, v in d.items() if m != "_s"} for k, d in r.items()}  # noqa: E731
        assert strip(one["results"]) == strip(two["results"]) == strip(rerun["results"])
        # Monte Carlo standard error vs repetitions (reuses the 2-worker cache for reps 0-1).
        big = _job(images, args.max_reps, args.model)
        full = _timed(big, work / "c2", 2)
        units = big.units()
        G = len(big.grid)
        arr = np.full((len(images), args.max_reps, G, G), np.nan)
        for unit in units:
            kind, index, _r, rep, k = unit.spec
            if kind == "surface":
                arr[k, rep, index[0], index[1]] = full["results"][unit.key]["msssim"]
        se_by_reps = []
        for r in range(2, args.max_reps + 1):
            _mean, se, mc = _stderr(arr[:, :r])
            se_by_reps.append({"reps": r, "mc_stderr_median": float(np.median(mc)),
                               "mc_stderr_max": float(np.max(mc)),
                               "dataset_stderr_median": float(np.median(se))})
    finally:
        shutil.rmtree(work, ignore_errors=True)

    speedup = one["wall_s"] / two["wall_s"]
    results = {
        "job": {"stack": "fg-bg", "images": [im.name for im in images], "size": 256,
                "grid_ber": job.grid, "reps": 2, "units": n_units,
                "model": job.stack_obj.model_spec},
        "one_worker": {"wall_s": one["wall_s"], "units_per_s": one["units_per_s"],
                       "image_grid_points_per_s": one["units_per_s"]},
        "two_workers": {"wall_s": two["wall_s"], "units_per_s": two["units_per_s"],
                        "speedup": speedup},
        "warmup_wall_s": {"one_worker": warm1["wall_s"], "two_workers_incl_worker_start":
                          warm2["wall_s"], "units": len(warm.units())},
        "rerun_cache_hits": {"wall_s": rerun["wall_s"], "cache_hits": rerun["stats"]["cache_hits"],
                             "computed": rerun["stats"]["computed"],
                             "fraction_of_first_run": rerun["wall_s"] / two["wall_s"]},
        "mc_stderr_vs_reps": se_by_reps,
        "note": "unit = one (image, grid point, repetition): corrupt, entropy-decode, g_s, "
                "MS-SSIM + PSNR. Workers are warmed up first (worker start-up is in warmup_wall_s). "
                "2-core machine shared with other jobs (two model-training processes ran "
                "concurrently): the speed-up is bounded by 2 and reduced by that contention.",
    }
    print(f"units per job: {n_units}")
    print(f"1 worker : {one['wall_s']:.2f} s, {one['units_per_s']:.2f} units/s")
    print(f"2 workers: {two['wall_s']:.2f} s, {two['units_per_s']:.2f} units/s "
          f"(speed-up {speedup:.2f}x)")
    print(f"rerun (all cache hits): {rerun['wall_s']:.3f} s "
          f"({rerun['stats']['cache_hits']} hits, {rerun['stats']['computed']} computed)")
    for row in se_by_reps:
        print(f"reps {row['reps']}: MC stderr median {row['mc_stderr_median']:.4f}, "
              f"max {row['mc_stderr_max']:.4f}")

    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 3.8))
    labels = ["1 worker", "2 workers", "rerun\n(cache)"]
    walls = [one["wall_s"], two["wall_s"], rerun["wall_s"]]
    a.bar(labels, walls, color=["C0", "C1", "C2"])
    for x, w in enumerate(walls):
        a.text(x, w, f"{w:.2f} s", ha="center", va="bottom")
    a.set_ylabel("wall time (s)")
    a.set_title(f"fg-bg job: {n_units} units, speed-up {speedup:.2f}x")
    reps = np.array([r["reps"] for r in se_by_reps])
    med = np.array([r["mc_stderr_median"] for r in se_by_reps])
    b.loglog(reps, med, "o-", label="median MC stderr (1 - MS-SSIM)")
    b.loglog(reps, [r["mc_stderr_max"] for r in se_by_reps], "s--", label="max over grid")
    b.loglog(reps, med[0] * np.sqrt(reps[0] / reps), "k:", label=r"$\propto 1/\sqrt{R}$")
    b.set_xlabel("repetitions R")
    b.set_ylabel("standard error")
    b.legend(fontsize=8)
    b.set_title("Monte Carlo standard error vs repetitions")
    fig.tight_layout()
    write_results(NAME, __doc__.splitlines()[0], results, figure=fig, out_dir=args.out_dir)
    plt.close(fig)
    return results


if __name__ == "__main__":
    main()
