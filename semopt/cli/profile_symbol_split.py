"""``semopt profile symbol-split``: measure a symbol-split table (quality vs fg / bg rate and prompt).

Example (offline on CPU: the shipped hyperprior models on the held-out sample images)::

    python -m semopt.cli.profile_symbol_split --dataset sample --split validation --size 256 \\
        --jobs 2 --out symbol-split.json

(``semopt profile symbol-split ...`` once the job is registered in
``semopt.cli.PROFILE_CLI``). Every (image, foreground level, background level, repetition)
is cached under ``--cache`` (default ``$SEMOPT_CACHE_DIR/symbol-split`` or
``~/.cache/semopt/profiling/symbol-split``), so a rerun or a killed job resumes without
recomputation. The exact command is recorded in the table's provenance.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from semopt.cli.profile_surface import add_dataset_arguments, default_cache_dir

__all__ = ["add_arguments", "canonical_command", "main", "run"]

_STEPS_HELP = ("comma-separated quantisation steps of the shared latent (1 = the model as trained, "
               "larger = coarser); default 2^(k/2) for k = 10..0 (32 … 1); 'off' (not sent) is "
               "always added")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Flags of ``semopt profile symbol-split``."""
    parser.description = __doc__.splitlines()[0]
    add_dataset_arguments(parser)
    parser.add_argument("--model-table", default="hyperprior-sample",
                        help="model table name or .json path (default hyperprior-sample)")
    parser.add_argument("--model-name", default=None,
                        help="model of the table (default: the largest-λ, highest-rate model)")
    parser.add_argument("--model", default=None, help="a ScaleHyperprior state_dict file instead")
    parser.add_argument("--steps", default=None, help=_STEPS_HELP)
    parser.add_argument("--fg-steps", default=None, help="foreground steps (default: --steps)")
    parser.add_argument("--bg-steps", default=None, help="background steps (default: --steps)")
    parser.add_argument("--importance", default="spectral-residual",
                        choices=["spectral-residual", "cam", "clip"])
    parser.add_argument("--importance-weights", default=None,
                        help="local weights for cam/clip importance")
    parser.add_argument("--fg-fraction", type=float, default=0.25,
                        help="share of latent positions in the foreground branch (default 0.25)")
    parser.add_argument("--editor", default="colour-layout", choices=["colour-layout", "none"],
                        help="stand-in for the text-guided editor (default colour-layout)")
    parser.add_argument("--layout-grid", type=int, default=4,
                        help="colour-layout prompt grid g (g x g cells, 11 + 7 g^2 bytes; default 4)")
    parser.add_argument("--metric", default="psnr,ms-ssim",
                        help="comma-separated: psnr, ms-ssim, clip, lpips (clip/lpips need local weights)")
    parser.add_argument("--clip-model", default=None, help="open_clip architecture ($SEMOPT_CLIP_MODEL)")
    parser.add_argument("--clip-weights", default=None, help="open_clip checkpoint ($SEMOPT_CLIP_WEIGHTS)")
    parser.add_argument("--mcs", default="16qam-1/2",
                        help="MCS of the visual branches (semopt.link.gened.MCS_TABLE; default 16qam-1/2)")
    parser.add_argument("--prompt-mcs", default="16qam-1/2",
                        help="MCS of the prompt (default 16qam-1/2: LDPC rate 1/2 on 16-QAM)")
    parser.add_argument("--reps", type=int, default=1,
                        help="repetitions (only for stochastic editors; the built-in ones are exact)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--jobs", type=int, default=1, help="parallel workers")
    parser.add_argument("--backend", default="loky",
                        choices=["loky", "threading", "sequential", "dask", "ray"])
    parser.add_argument("--scheduler", default=None, help="Dask/Ray address")
    parser.add_argument("--threads", type=int, default=1, help="torch threads per worker")
    parser.add_argument("--chunk-size", type=int, default=None,
                        help="units per task (default: one row of background levels)")
    parser.add_argument("--cache", default=None, help="result cache folder")
    parser.add_argument("--out", required=True, help="output table (.json; .npz beside it)")
    parser.add_argument("--name", default=None, help="table name (default: --out stem)")
    parser.add_argument("--no-progress", action="store_true")
    parser.add_argument("--json", action="store_true", help="print a JSON summary")


_RESULT_FLAGS = ("dataset", "split", "limit", "size", "model_table", "model_name", "model", "steps",
                 "fg_steps", "bg_steps", "importance", "importance_weights", "fg_fraction", "editor",
                 "layout_grid", "metric", "clip_model", "clip_weights", "mcs", "prompt_mcs", "reps",
                 "seed")


def canonical_command(args: argparse.Namespace) -> str:
    """The command line that reproduces the table: every flag that changes results, explicit."""
    parts = ["semopt", "profile", "symbol-split"]
    for key in _RESULT_FLAGS:
        value = getattr(args, key)
        if value is not None:
            parts += [f"--{key.replace('_', '-')}", str(value)]
    parts += ["--out", str(args.out)]
    return " ".join(shlex.quote(p) for p in parts)


def _images(args: argparse.Namespace) -> tuple[list[Any], dict[str, Any]]:
    from semopt.profiling.images import load_image_folder, load_sample_images

    if args.size is None or args.size <= 0:
        raise ValueError(f"--size: must be a positive number of pixels, got {args.size}")
    if args.dataset == "sample":
        images = load_sample_images(args.split, size=args.size)
        info: dict[str, Any] = {"kind": "sample", "split": args.split,
                                "source": "semopt.profiling.images.load_sample_images (skimage, "
                                          "sklearn, matplotlib sample images)"}
    else:
        images = load_image_folder(args.dataset, size=args.size)
        info = {"kind": "folder", "path": str(Path(args.dataset).resolve())}
    if args.limit is not None:
        if args.limit < 1:
            raise ValueError(f"--limit: must be ≥ 1, got {args.limit}")
        images = images[: args.limit]
        info["limit"] = args.limit
    info["size"] = [args.size, args.size]
    return images, info


def run(args: argparse.Namespace) -> int:
    """Run the job, write the table, print a summary; returns the exit status."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from semopt import tables
    from semopt.profiling.symbol_split_job import SymbolSplitJob

    started = time.perf_counter()
    images, dataset = _images(args)
    importance_options = {"weights": args.importance_weights} if args.importance_weights else {}
    options = {"model_table": args.model_table, "model_name": args.model_name,
               "model_path": args.model, "fg_steps": args.fg_steps or args.steps,
               "bg_steps": args.bg_steps or args.steps, "importance": args.importance,
               "importance_options": importance_options, "fg_fraction": args.fg_fraction,
               "editor": args.editor, "layout_grid": args.layout_grid,
               "metrics": [m.strip() for m in args.metric.split(",") if m.strip()],
               "clip_model": args.clip_model, "clip_weights": args.clip_weights,
               "threads": args.threads}
    job = SymbolSplitJob(stack_options=options, images=images, dataset=dataset, reps=args.reps,
                         seed=args.seed, visual_mcs=args.mcs, prompt_mcs=args.prompt_mcs)
    cache = Path(args.cache) if args.cache else default_cache_dir() / "symbol-split"
    results, stats = job.run(cache, n_jobs=args.jobs, backend=args.backend, scheduler=args.scheduler,
                             chunk_size=args.chunk_size, progress=not args.no_progress)
    out = Path(args.out)
    if out.suffix != ".json":
        out = out.with_suffix(".json")
    table = job.table(results, name=args.name or out.stem, stats=stats,
                      command=canonical_command(args), started=started)
    path = tables.save(table, out)
    f, b, _ = table.shape
    summary = {"table": str(path), "images": len(images), "levels": [f, b],
               "metrics": table.metric_names, "run": stats.as_dict(),
               "wall_s": round(time.perf_counter() - started, 2)}
    print(f"cache hits: {stats.cache_hits}/{stats.total}, computed: {stats.computed}, "
          f"wall: {stats.wall_s:.1f} s ({stats.backend}, {stats.n_jobs} job(s))", file=sys.stderr)
    print(json.dumps(summary) if args.json else f"wrote {path}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m semopt.cli.profile_symbol_split``: the same as ``semopt profile symbol-split``."""
    parser = argparse.ArgumentParser(prog="semopt profile symbol-split")
    add_arguments(parser)
    try:
        return run(parser.parse_args(argv))
    except ValueError as exc:
        print(f"semopt profile symbol-split: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
