"""``semopt profile gvif``: measure a GVIF table (kind ``gvif``) for a model table on a dataset.

Example (offline on CPU, the shipped models on the bundled sample images)::

    semopt profile gvif --dataset sample --split all --size 256 --jobs 2 \\
        --model-table hyperprior-sample --importance spectral-residual \\
        --alpha-step 0.02 --alpha-max 0.8 --gamma2 0.1 --out gvif.json

Every (image, model) result is cached under ``--cache`` (default ``$SEMOPT_CACHE_DIR`` or
``~/.cache/semopt/profiling``); a rerun or a killed job resumes without recomputation.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from pathlib import Path
from typing import Any

from semopt.cli.profile_surface import add_dataset_arguments, default_cache_dir

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Flags of ``semopt profile gvif``."""
    parser.description = __doc__.splitlines()[0]
    add_dataset_arguments(parser)
    parser.add_argument("--model-table", default="hyperprior-sample",
                        help="model table name or .json path (default hyperprior-sample)")
    parser.add_argument("--models", default=None, help="comma-separated subset of the model table")
    parser.add_argument("--importance", default="spectral-residual",
                        choices=["spectral-residual", "cam", "clip"])
    parser.add_argument("--importance-weights", default=None,
                        help="local weights for cam/clip importance (else $SEMOPT_CAM_WEIGHTS / "
                             "$SEMOPT_CLIP_WEIGHTS)")
    parser.add_argument("--importance-text", default=None, help="clip: text query")
    parser.add_argument("--alpha-step", type=float, default=0.02)
    parser.add_argument("--alpha-max", type=float, default=0.8, help="α_th (default 0.8)")
    parser.add_argument("--decode-step", type=float, default=0.1,
                        help="decode filtered latents (mask PSNR, MS-SSIM) every this much α")
    parser.add_argument("--gamma2", type=float, default=0.1, help="HVS noise variance γ²")
    parser.add_argument("--jobs", type=int, default=1, help="parallel workers")
    parser.add_argument("--backend", default="loky",
                        choices=["loky", "threading", "sequential", "dask", "ray"])
    parser.add_argument("--scheduler", default=None, help="Dask/Ray address")
    parser.add_argument("--threads", type=int, default=1, help="torch threads per worker")
    parser.add_argument("--cache", default=None, help="result cache folder")
    parser.add_argument("--out", required=True, help="output table file (.json; .npz beside it)")
    parser.add_argument("--name", default=None, help="table name (default: --out stem)")
    parser.add_argument("--no-progress", action="store_true")
    parser.add_argument("--json", action="store_true", help="print a JSON summary")


def _images(args: argparse.Namespace) -> tuple[list[Any], dict[str, Any]]:
    from semopt.profiling.images import dataset_hash, load_image_folder, load_sample_images

    if args.size is None or args.size <= 0:
        raise ValueError(f"--size: must be a positive number of pixels, got {args.size}")
    if args.dataset == "sample":
        images = load_sample_images(args.split, size=args.size)
        info: dict[str, Any] = {"kind": "sample", "split": args.split}
    else:
        images = load_image_folder(args.dataset, size=args.size)
        info = {"kind": "folder", "path": str(Path(args.dataset).resolve())}
    if args.limit is not None:
        if args.limit < 1:
            raise ValueError(f"--limit: must be ≥ 1, got {args.limit}")
        images = images[: args.limit]
    info.update({"size": [args.size, args.size], "count": len(images), "hash": dataset_hash(images)})
    return images, info


def run(args: argparse.Namespace) -> int:
    """Run the job and write the table; returns the exit status."""
    from semopt import tables
    from semopt.profiling.gvif_job import GvifJob

    images, info = _images(args)
    options: dict[str, Any] = {}
    if args.importance_weights:
        options["weights"] = args.importance_weights
    if args.importance_text:
        options["text"] = args.importance_text
    job = GvifJob(images=images, dataset=info, model_table=args.model_table,
                  models=[m.strip() for m in args.models.split(",")] if args.models else None,
                  importance=args.importance, importance_options=options, alpha_step=args.alpha_step,
                  alpha_max=args.alpha_max, decode_step=args.decode_step, gamma2=args.gamma2,
                  threads=args.threads)
    cache = Path(args.cache) if args.cache else default_cache_dir() / "gvif"
    start = time.perf_counter()
    results, stats = job.run(cache, n_jobs=args.jobs, backend=args.backend, scheduler=args.scheduler,
                             progress=not args.no_progress)
    out = Path(args.out)
    table = job.table(results, name=args.name or out.stem, stats=stats)
    table.provenance["command"] = "semopt profile gvif " + " ".join(shlex.quote(a) for a in sys.argv[3:])
    path = tables.save(table, out)
    summary = {"table": str(path), "models": table.model_names, "images": len(images),
               "reference_model": table.reference_model, "run": stats.as_dict(),
               "wall_s": round(time.perf_counter() - start, 2)}
    print(json.dumps(summary, indent=1) if args.json else
          f"wrote {path}: {len(table.models)} models × {len(images)} images, "
          f"{stats.computed} computed, {stats.cache_hits} cached, {summary['wall_s']} s")
    return 0
