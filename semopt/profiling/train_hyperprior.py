"""Train the shipped λ-sweep of small ``ScaleHyperprior`` models on the sample images.

Usage::

    python -m semopt.profiling.train_hyperprior --out perception_tables/models \\
        --lambdas 0.00084 0.0021 0.0052 0.013 0.0325 0.081 0.2 --base-lambda 0.013 \\
        --base-steps 3000 --steps 700 --seed 0

One *base* model (``--base-lambda``) is trained from scratch; every other λ is fine-tuned
from its neighbour towards the base (a chain), which costs far fewer steps than training
each from scratch. Every run is deterministic given ``--seed`` (crops and quantisation
noise are seeded per step), checkpoints every ``--checkpoint-every`` steps under
``--work-dir`` and resumes from there when restarted. ``--only`` restricts a run to some
λ (their chain parents are trained first when missing), so independent chains can run in
parallel processes. When every λ is finished, the final weights (float16 state dicts) are
measured on the validation images with the real entropy coder and the model table
``<out>/<table-name>.json`` is written atomically.

Loss: ``λ · 255² · MSE + bpp`` (likelihood bits), plus compressai's auxiliary loss for the
entropy-bottleneck quantiles on a separate optimiser.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import itertools
import json
import math
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from semopt.profiling import hyperprior as hp
from semopt.profiling.images import (
    VALIDATION_NAMES,
    NamedImage,
    dataset_hash,
    load_sample_images,
)
from semopt.provenance import git_commit

DEFAULT_LAMBDAS = (0.00084, 0.0021, 0.0052, 0.013, 0.0325, 0.081, 0.2)
TABLE_SCHEMA = "semopt.model-table/1"


def model_name(lam: float) -> str:
    """Canonical model name for a λ, e.g. ``hp-l0.0021``."""
    return f"hp-l{lam:g}"


def chain_parents(lambdas: Sequence[float], base: float) -> dict[float, float | None]:
    """Parent λ of each λ: its neighbour towards ``base`` (``None`` for the base)."""
    lams = sorted(lambdas)
    if base not in lams:
        raise ValueError(f"base λ {base} not in {lams}")
    b = lams.index(base)
    return {
        lam: None if i == b else (lams[i + 1] if i < b else lams[i - 1])
        for i, lam in enumerate(lams)
    }


def _crop_batch(
    images: Sequence[np.ndarray], rng: np.random.Generator, batch: int, crop: int
) -> np.ndarray:
    out = np.empty((batch, crop, crop, 3), dtype=np.uint8)
    for k in range(batch):
        img = images[int(rng.integers(len(images)))]
        h, w = img.shape[:2]
        top, left = int(rng.integers(h - crop + 1)), int(rng.integers(w - crop + 1))
        patch = img[top : top + crop, left : left + crop]
        if rng.random() < 0.5:
            patch = patch[:, ::-1]
        out[k] = patch
    return out


def _lr(step: int, total: int, lr_max: float, lr_min: float, warmup: int) -> float:
    if step < warmup:
        return lr_max * (step + 1) / warmup
    t = (step - warmup) / max(1, total - warmup)
    return lr_min + 0.5 * (lr_max - lr_min) * (1.0 + math.cos(math.pi * min(1.0, t)))


def train_one(
    lam: float,
    parent_state: str | None,
    steps: int,
    args: argparse.Namespace,
    train_images: Sequence[np.ndarray],
) -> Path:
    """Train (or resume) one λ; return the path of its full-precision final state."""
    import torch
    from tqdm import tqdm

    work = Path(args.work_dir)
    work.mkdir(parents=True, exist_ok=True)
    name = model_name(lam)
    ckpt, final = work / f"{name}.ckpt.pt", work / f"{name}.final.pt"
    if final.is_file() and torch.load(final, weights_only=True)["step"] >= steps:
        return final

    torch.manual_seed(args.seed)
    model = hp.build_model(args.N, args.M).train()
    main_params = [p for n, p in model.named_parameters() if not n.endswith(".quantiles")]
    aux_params = [p for n, p in model.named_parameters() if n.endswith(".quantiles")]
    opt = torch.optim.Adam(main_params, lr=args.lr)
    aux_opt = torch.optim.Adam(aux_params, lr=1e-3)
    start = 0
    if ckpt.is_file():
        state = torch.load(ckpt, weights_only=True)
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["opt"])
        aux_opt.load_state_dict(state["aux_opt"])
        start = int(state["step"])
        print(f"[{name}] resuming at step {start}", flush=True)
    elif parent_state is not None:
        model.load_state_dict(torch.load(parent_state, weights_only=True)["model"])
        print(f"[{name}] fine-tuning from {Path(parent_state).name}", flush=True)

    lr_max = args.lr if parent_state is None else args.finetune_lr
    warmup = 100 if parent_state is None else 20
    key = round(lam * 1e7)

    def save(path: Path, step: int) -> None:
        tmp = path.with_name(path.name + ".tmp")
        torch.save({"model": model.state_dict(), "opt": opt.state_dict(),
                    "aux_opt": aux_opt.state_dict(), "step": step, "lambda": lam}, tmp)
        tmp.replace(path)

    bar = tqdm(range(start, steps), initial=start, total=steps, desc=name,
               mininterval=10.0, file=sys.stderr)
    for step in bar:
        rng = np.random.default_rng([args.seed, key, step])
        torch.manual_seed(int(rng.integers(2**62)))
        lr = _lr(step, steps, lr_max, args.lr_min, warmup)
        for g in opt.param_groups:
            g["lr"] = lr
        x = torch.from_numpy(_crop_batch(train_images, rng, args.batch, args.crop))
        x = x.permute(0, 3, 1, 2).float().div_(255.0)
        out = model(x)
        n_pix = x.shape[0] * x.shape[2] * x.shape[3]
        bpp = sum(-torch.log2(v).sum() for v in out["likelihoods"].values()) / n_pix
        mse = torch.mean((out["x_hat"] - x) ** 2)
        loss = lam * 255.0**2 * mse + bpp
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(main_params, 1.0)
        opt.step()
        aux_opt.zero_grad(set_to_none=True)
        aux = model.aux_loss()
        aux.backward()
        aux_opt.step()
        if step % 50 == 0:
            psnr = 10 * math.log10(1.0 / max(float(mse), 1e-10))
            bar.set_postfix(bpp=f"{float(bpp):.3f}", psnr=f"{psnr:.2f}", lr=f"{lr:.1e}")
        if (step + 1) % args.checkpoint_every == 0 or step + 1 == steps:
            save(ckpt, step + 1)
        if (step + 1) % 250 == 0:
            print(f"[{name}] step {step + 1}/{steps} loss={float(loss):.4f} "
                  f"bpp={float(bpp):.4f} mse={float(mse):.2e} aux={float(aux):.1f}", flush=True)
    bar.close()
    save(final, steps)
    return final


def export_and_measure(
    lam: float, final: Path, args: argparse.Namespace, validation: Sequence[NamedImage]
) -> dict[str, Any]:
    """Write the float16 weights, re-load them like a user would and measure them."""
    import torch

    name = model_name(lam)
    model = hp.build_model(args.N, args.M)
    model.load_state_dict(torch.load(final, weights_only=True)["model"])
    weights = Path(args.out) / f"{name}.pt"
    sha = hp.save_model(model, weights, half=True)
    shipped = hp.load_model(weights, expected_sha256=sha)
    rd = hp.measure_rate_distortion(shipped, validation)
    return {
        "name": name, "lambda": lam, "N": args.N, "M": args.M, "weights": weights.name,
        "sha256": sha, "file_bytes": weights.stat().st_size,
        "parameters": hp.count_parameters(shipped), "weights_dtype": "float16",
        "validation": {"bpp": rd.bpp, "mse": rd.mse, "psnr": rd.psnr,
                       "per_image": rd.per_image},
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point (see the module docstring)."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", default="perception_tables/models")
    p.add_argument("--table-name", default="hyperprior-sample")
    p.add_argument("--work-dir", default="build/train_hyperprior",
                   help="checkpoints (resumable); not shipped")
    p.add_argument("--lambdas", type=float, nargs="+", default=list(DEFAULT_LAMBDAS))
    p.add_argument("--base-lambda", type=float, default=0.013)
    p.add_argument("--base-steps", type=int, default=3000)
    p.add_argument("--steps", type=int, default=700, help="fine-tuning steps per λ")
    p.add_argument("--only", type=float, nargs="*", default=None,
                   help="train only these λ (and missing chain parents); no table")
    p.add_argument("--N", type=int, default=64)
    p.add_argument("--M", type=int, default=96)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--crop", type=int, default=128)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--finetune-lr", type=float, default=3e-4)
    p.add_argument("--lr-min", type=float, default=1e-5)
    p.add_argument("--checkpoint-every", type=int, default=100)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args(argv)

    import compressai
    import torch

    torch.set_num_threads(args.threads)
    t0, cpu0 = time.time(), time.process_time()
    lambdas = sorted(set(args.lambdas))
    parents = chain_parents(lambdas, args.base_lambda)
    train = load_sample_images("train")
    train_px = [im.pixels for im in train if min(im.pixels.shape[:2]) >= args.crop]
    print(f"train images: {[im.name for im in train]}", flush=True)

    finals: dict[float, Path] = {}

    def ensure(lam: float) -> Path:
        if lam not in finals:
            parent = parents[lam]
            parent_state = None if parent is None else str(ensure(parent))
            steps = args.base_steps if parent is None else args.steps
            finals[lam] = train_one(lam, parent_state, steps, args, train_px)
        return finals[lam]

    for lam in (lambdas if args.only is None else sorted(args.only)):
        ensure(lam)
    cpu = time.process_time() - cpu0
    print(f"training done: wall {time.time() - t0:.0f}s, cpu {cpu:.0f}s", flush=True)
    if args.only is not None:
        return 0

    validation = load_sample_images("validation")
    entries = [export_and_measure(lam, finals[lam], args, validation) for lam in lambdas]

    def total_steps(lam: float) -> int:
        par = parents[lam]
        return (args.base_steps if par is None else args.steps + total_steps(par))

    for e in entries:
        par = parents[e["lambda"]]
        e["training"] = {"initialised_from": None if par is None else model_name(par),
                         "steps": args.base_steps if par is None else args.steps,
                         "total_steps": total_steps(e["lambda"])}
    bpps = [e["validation"]["bpp"] for e in entries]
    psnrs = [e["validation"]["psnr"] for e in entries]
    monotone = all(b1 < b2 for b1, b2 in itertools.pairwise(bpps)) and all(
        q1 < q2 for q1, q2 in itertools.pairwise(psnrs)
    )
    table = {
        "schema": TABLE_SCHEMA,
        "name": args.table_name,
        "kind": "model-table",
        "description": "compressai ScaleHyperprior (Ballé et al. 2018) λ sweep trained on "
                       "the offline sample images (semopt.profiling.images).",
        "architecture": {"class": "compressai.models.ScaleHyperprior", "N": args.N,
                         "M": args.M, "latent_downsampling": 16, "pad_multiple": 64},
        "loss": "lambda * 255^2 * MSE + bpp (likelihood bits)",
        "measurement": "real entropy coder (model.compress y+z byte strings), images "
                       "padded (replicate) to a multiple of 64, bpp over original pixels, "
                       "MSE/PSNR on uint8-rounded reconstructions pooled over the split",
        "dataset": {
            "train": [im.name for im in train],
            "validation": list(VALIDATION_NAMES),
            "train_hash": dataset_hash(train),
            "validation_hash": dataset_hash(validation),
        },
        "training": {
            "command": "python -m semopt.profiling.train_hyperprior " + " ".join(
                sys.argv[1:] if argv is None else list(argv)),
            "seed": args.seed, "batch": args.batch, "crop": args.crop,
            "base_lambda": args.base_lambda, "base_steps": args.base_steps,
            "finetune_steps": args.steps, "lr": args.lr, "finetune_lr": args.finetune_lr,
            "lr_min": args.lr_min, "optimizer": "Adam, cosine schedule, grad clip 1.0",
        },
        "rd_monotone": monotone,
        "models": entries,
        "provenance": {
            "code_version": git_commit(),
            "date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            "torch": torch.__version__.split("+")[0], "compressai": compressai.__version__,
            "numpy": np.__version__, "python": sys.version.split()[0],
        },
    }
    out = Path(args.out) / f"{args.table_name}.json"
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(json.dumps(table, indent=1) + "\n")
    os.replace(tmp, out)
    for e in entries:
        v = e["validation"]
        print(f"{e['name']:>12}: bpp={v['bpp']:.4f} psnr={v['psnr']:.2f} "
              f"size={e['file_bytes'] / 1e6:.2f}MB", flush=True)
    print(f"wrote {out} (monotone={monotone})", flush=True)
    if not monotone:
        print("WARNING: RD points not monotone; train more (raise --steps)", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
