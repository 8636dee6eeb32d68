"""``semopt profile surface``: measure a perception-error surface and write perception tables.

Example (the embedded default stack, offline on CPU)::

    semopt profile surface --stack fg-bg --dataset sample --limit 2 --grid 1e-4,1e-2,0.5 \\
        --reps 2 --metric msssim,psnr --jobs 2 --out fgbg.json

writes ``fgbg-msssim.json`` and ``fgbg-psnr.json`` (one table per metric; with a single
metric exactly ``--out``). Every finished (image, grid point, repetition) is cached under
``--cache`` (default ``$SEMOPT_CACHE_DIR`` or ``~/.cache/semopt/profiling``), so a rerun or a
killed job resumes without recomputation. torch is imported only inside
``semopt.profiling``.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
import time
from pathlib import Path

__all__ = ["add_arguments", "add_dataset_arguments", "default_cache_dir", "run"]


def default_cache_dir() -> Path:
    """``$SEMOPT_CACHE_DIR`` or ``~/.cache/semopt/profiling``."""
    env = os.environ.get("SEMOPT_CACHE_DIR")
    return Path(env) if env else Path.home() / ".cache" / "semopt" / "profiling"


def add_dataset_arguments(parser: argparse.ArgumentParser) -> None:
    """Dataset flags shared by the profiling jobs: ``--dataset --split --limit --size``."""
    parser.add_argument("--dataset", default="sample",
                        help="'sample' (bundled offline images) or a folder of images")
    parser.add_argument("--split", default="all", choices=["all", "train", "validation"],
                        help="sample split (default: all)")
    parser.add_argument("--limit", type=int, default=None, help="use the first N images")
    parser.add_argument("--size", type=int, default=256,
                        help="resize + center-crop images to SIZE x SIZE (default 256)")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Flags of ``semopt profile surface``."""
    parser.description = __doc__.splitlines()[0]
    parser.add_argument("--stack", default="fg-bg", choices=["fg-bg", "controlnet"])
    add_dataset_arguments(parser)
    parser.add_argument("--captions", default=None,
                        help="captions file (JSON or name<TAB>caption), controlnet stack")
    parser.add_argument("--metric", default=None,
                        help="comma-separated metrics (fg-bg: msssim,psnr; controlnet: clip)")
    parser.add_argument("--grid", default="1e-5,1e-4,1e-3,1e-2,0.5",
                        help="BER grid: comma-separated values or log:LO:HI:N; 0.5 is appended. "
                             "The surface is constant below the lowest BER, so make it "
                             "error-free in practice (stream bits x BER << 1, e.g. 1e-7)")
    parser.add_argument("--reps", type=int, default=2, help="Monte Carlo repetitions")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--jobs", type=int, default=1, help="parallel workers")
    parser.add_argument("--backend", default="loky",
                        choices=["loky", "threading", "sequential", "dask", "ray"])
    parser.add_argument("--scheduler", default=None,
                        help="Dask scheduler address (tcp://HOST:PORT) or Ray cluster address")
    parser.add_argument("--threads", type=int, default=1, help="torch threads per worker")
    parser.add_argument("--chunk-size", type=int, default=6, help="units per task")
    parser.add_argument("--cache", default=None, help="result cache folder")
    parser.add_argument("--out", required=True, help="output table file (.json)")
    parser.add_argument("--name", default=None, help="table name (default: --out stem)")
    parser.add_argument("--model", default=None, help="ScaleHyperprior state_dict file")
    parser.add_argument("--model-table", default="hyperprior-sample")
    parser.add_argument("--model-name", default="hp-l0.013")
    parser.add_argument("--importance", default="spectral-residual",
                        choices=["spectral-residual", "cam", "clip"])
    parser.add_argument("--fg-fraction", type=float, default=0.25)
    parser.add_argument("--sd-dir", default=None, help="Stable Diffusion folder ($SEMOPT_SD_DIR)")
    parser.add_argument("--controlnet-dir", default=None,
                        help="ControlNet folder ($SEMOPT_CONTROLNET_DIR)")
    parser.add_argument("--clip-model", default=None, help="open_clip architecture ($SEMOPT_CLIP_MODEL)")
    parser.add_argument("--clip-weights", default=None, help="open_clip checkpoint ($SEMOPT_CLIP_WEIGHTS)")
    parser.add_argument("--steps", type=int, default=20, help="diffusion steps (controlnet)")
    parser.add_argument("--device", default="cpu", help="torch device for the generator")
    parser.add_argument("--no-progress", action="store_true")
    parser.add_argument("--json", action="store_true", help="print a JSON summary")


def _images(args: argparse.Namespace) -> tuple[list, dict]:
    from semopt.profiling.images import load_image_folder, load_sample_images

    if args.dataset == "sample":
        images = load_sample_images(args.split, size=args.size)
        dataset = {"kind": "sample", "split": args.split, "size": args.size,
                   "source": "semopt.profiling.images.load_sample_images (skimage, sklearn, "
                             "matplotlib sample images)"}
    else:
        images = load_image_folder(args.dataset, size=args.size)
        dataset = {"kind": "folder", "path": str(Path(args.dataset).resolve()), "size": args.size}
    if args.limit is not None:
        if args.limit < 1:
            raise ValueError(f"--limit: must be ≥ 1, got {args.limit}")
        images = images[: args.limit]
        dataset["limit"] = args.limit
    return images, dataset


def _stack_options(args: argparse.Namespace) -> dict:
    metrics = args.metric.split(",") if args.metric else (
        ["msssim", "psnr"] if args.stack == "fg-bg" else ["clip"])
    common = {"model_path": args.model, "model_table": args.model_table,
              "model_name": args.model_name, "metrics": metrics, "threads": args.threads}
    if args.stack == "fg-bg":
        return {**common, "importance": args.importance, "fg_fraction": args.fg_fraction}
    if not args.captions:
        raise ValueError("--captions: the controlnet stack needs a captions file")
    return {**common, "captions": str(Path(args.captions).resolve()), "sd_dir": args.sd_dir,
            "controlnet_dir": args.controlnet_dir, "clip_model": args.clip_model,
            "clip_weights": args.clip_weights, "steps": args.steps, "device": args.device}


def run(args: argparse.Namespace) -> int:
    """Run the job, write the tables, print a summary."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from semopt import tables as table_io
    from semopt.profiling.surface_job import SurfaceJob, build_tables

    started = time.perf_counter()
    images, dataset = _images(args)
    job = SurfaceJob(stack=args.stack, stack_options=_stack_options(args), images=images,
                     dataset=dataset, grid=args.grid, reps=args.reps, seed=args.seed)
    cache = Path(args.cache) if args.cache else default_cache_dir()
    results, stats = job.run(cache, n_jobs=args.jobs, backend=args.backend,
                             scheduler=args.scheduler, chunk_size=args.chunk_size,
                             progress=not args.no_progress)
    out = Path(args.out)
    if out.suffix != ".json":
        out = out.with_suffix(".json")
    name = args.name or out.stem
    command = "semopt profile surface " + " ".join(shlex.quote(a) for a in sys.argv[3:]) \
        if sys.argv[1:3] == ["profile", "surface"] else None
    built = build_tables(job, results, name=name, stats=stats, command=command, started=started)
    written = []
    for metric, table in built.items():
        path = out if len(built) == 1 else out.with_name(f"{out.stem}-{metric}.json")
        table_io.save(table, path)
        written.append(str(path))
    summary = {**stats.as_dict(), "written": written, "units": stats.total}
    print(f"cache hits: {stats.cache_hits}/{stats.total}, computed: {stats.computed}, "
          f"wall: {stats.wall_s:.1f} s ({stats.backend}, {stats.n_jobs} job(s))", file=sys.stderr)
    if args.json:
        print(json.dumps(summary))
    else:
        for path in written:
            print(f"wrote {path}")
    return 0
