"""Train the shipped λ-sweep of ``ScaleHyperprior`` models on the offline images, on CPU.

Usage (the command that produced the shipped table, see ``docs/models.md``)::

    python -m semopt.profiling.train_hyperprior --out perception_tables/models

One *base* model (``--base-lambda``, by default the highest λ: the reference model of a
GVIF table) is trained from scratch; every other λ is fine-tuned from a parent. By default
the parent is the neighbour towards the base (a chain); ``--parent CHILD=PARENT[@STEP]``
re-roots a λ on another model, optionally on the snapshot of that model's training at
``STEP`` (a *fork*), and ``--parent CHILD=`` makes ``CHILD`` a second root trained from
scratch like the base (the default: ``0.0215=``, so the upper and the lower half of the
sweep are two chains that train in parallel processes with ``--only``). Every run is
deterministic given the command line:
crops and quantisation noise are seeded per ``(seed, λ, step)``, the learning rate of the
base is constant after warm-up and decays (cosine) only over its last ``--decay-steps``,
so a fork snapshot does not depend on ``--base-steps``. Checkpoints are written every
``--checkpoint-every`` steps under ``--work-dir`` and a killed run resumes there. When
every λ is finished the float16 weights are exported, re-loaded exactly as a user loads
them and measured with the real entropy coder -- on the held-out validation images at
native resolution and on all sample images at the GVIF size -- and the model table
``<out>/<table-name>.json`` is written atomically.

Training data (:func:`training_images`): the ``train`` split of
:func:`semopt.profiling.images.load_sample_images` plus every other still image shipped
inside the installed packages (:data:`EXTRA_IMAGES`), each at native resolution and
downscaled (short side ``--scales`` pixels), so crops see the detail density of the
256-pixel GVIF images. The validation images (and ``skimage.data.cat``, which *is*
``chelsea``) are never used.

Loss: ``λ · 255² · MSE + bpp`` (likelihood bits, noise-relaxed quantisation), plus
compressai's auxiliary loss for the entropy-bottleneck quantiles on a separate optimiser.
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
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from semopt.profiling import hyperprior as hp
from semopt.profiling.images import (
    VALIDATION_NAMES,
    NamedImage,
    dataset_hash,
    load_sample_images,
    resize_center_crop,
)
from semopt.provenance import git_commit

#: Default λ sweep (the shipped table): ~1.6x apart up to the lower root 0.0215, then 0.035,
#: 0.096 and the top root 0.43. 0.013 is kept (the fg-bg stack's default model). 0.058,
#: 0.16 and 0.26 were trained too and dropped: within 0.05 dB of their neighbours, they were
#: not monotone in rate (see docs/models.md).
DEFAULT_LAMBDAS = (0.00043, 0.0007, 0.0011, 0.0018, 0.0029, 0.0048, 0.0079, 0.013, 0.0215,
                   0.035, 0.096, 0.43)
#: Default parents that differ from the chain: the lower half is a second chain, rooted at
#: 0.0215 (trained from scratch like the base), so the two halves train in parallel.
DEFAULT_PARENTS = ("0.0215=",)
TABLE_SCHEMA = "semopt.model-table/1"
#: Default warm starts of the two roots: the top and a middle model of the previous shipped
#: table (``ScaleHyperprior(64, 96)``, trained by this command at commit 4d0d048 with
#: ``--base-steps 3000 --steps 700``), widened to ``--M`` latent channels by
#: :func:`widen_state`. Paths are relative to ``perception_tables/models``.
DEFAULT_INIT = (
    "0.43=init-hp-l0.2-m96.pt@sha256:bd971facb2a0a587ecca1bdfc844adc538e063fa78efaac655729595d561ef50",
    "0.0215=init-hp-l0.0325-m96.pt@sha256:"
    "4e90ec4c3e3fa04c10ab0279dc9d761d57e73bd7b9078dad187f83f0f2951849",
)
#: Size (pixels, square) at which the GVIF set is measured; also a training scale.
GVIF_SIZE = 256


def model_name(lam: float) -> str:
    """Canonical model name for a λ, e.g. ``hp-l0.0029``."""
    return f"hp-l{lam:g}"


@dataclass(frozen=True)
class Parent:
    """Where a fine-tune starts: model ``lam``'s final weights, or its snapshot at ``step``."""

    lam: float
    step: int | None = None

    def label(self) -> str:
        """``hp-l0.43`` or ``hp-l0.43@5000``."""
        return model_name(self.lam) + ("" if self.step is None else f"@{self.step}")


def parse_parent(spec: str) -> tuple[float, Parent | None]:
    """Parse ``CHILD=PARENT[@STEP]`` (λ values), e.g. ``"0.058=0.43@5000"``.

    ``CHILD=`` (nothing after ``=``) makes ``CHILD`` a second root, trained from scratch
    like the base (``None``).
    """
    try:
        child, rhs = spec.split("=")
        if not rhs.strip():
            return float(child), None
        lam, _, step = rhs.partition("@")
        return float(child), Parent(float(lam), int(step) if step else None)
    except ValueError as exc:
        raise ValueError(f"--parent expects CHILD=PARENT[@STEP], got {spec!r}") from exc


def chain_parents(
    lambdas: Sequence[float], base: float, overrides: Sequence[str] = (), star: bool = False
) -> dict[float, Parent | None]:
    """Parent of each λ: its neighbour towards ``base`` unless overridden (``None``: a root).

    With ``star``, every fine-tune starts from the root its chain leads to instead (all
    models of a chain get the same amount of training after the root, so their order in
    rate follows λ even while the root is still far from converged).

    Raises
    ------
    ValueError
        If ``base`` or an override's λ is not in ``lambdas``, the base is overridden,
        or the overrides make a cycle.
    """
    lams = sorted(lambdas)
    if base not in lams:
        raise ValueError(f"base λ {base} not in {lams}")
    b = lams.index(base)
    out: dict[float, Parent | None] = {
        lam: None if i == b else Parent(lams[i + 1] if i < b else lams[i - 1])
        for i, lam in enumerate(lams)
    }
    for spec in overrides:
        child, par = parse_parent(spec)
        if child not in out or child == base or (
                par is not None and (par.lam not in out or child == par.lam)):
            raise ValueError(f"--parent {spec!r}: λ not in {lams}, or the base, or itself")
        out[child] = par
    for lam in lams:  # every chain must end at a root
        seen, cur = set(), lam
        while (p := out[cur]) is not None:
            if cur in seen:
                raise ValueError(f"--parent overrides make a cycle through λ={cur}")
            seen.add(cur)
            cur = p.lam
    if star:
        def root(lam: float) -> Parent:
            p = out[lam]
            assert p is not None
            return p if p.step is not None or out[p.lam] is None else root(p.lam)

        out = {lam: (None if p is None else root(lam)) for lam, p in out.items()}
    return out


def parse_init(spec: str) -> tuple[float, Path, str | None]:
    """Parse ``LAMBDA=PATH[@sha256:HEX]``; a relative PATH is under ``perception_tables/models``."""
    try:
        lam, rhs = spec.split("=", 1)
        path, _, sha = rhs.partition("@")
        lam_f = float(lam)
    except ValueError as exc:
        raise ValueError(f"--init expects LAMBDA=PATH[@sha256:HEX], got {spec!r}") from exc
    p = Path(path)
    if not p.is_absolute() and not p.is_file():
        from importlib import resources

        p = Path(str(resources.files("perception_tables") / "models")) / p
    return lam_f, p, (sha or None)


def widen_state(model: Any, old: dict[str, Any]) -> dict[str, Any]:
    """Copy a narrower ``ScaleHyperprior(N, M_old)`` state into ``model`` (same N, M ≥ M_old).

    The first ``M_old`` latent channels take the old weights; the new channels keep their
    random analysis filters (``g_a.6``), get zero synthesis and hyper-analysis weights
    (``g_s.0``, ``h_a.0``), so the widened model reconstructs exactly like the old one, and
    their hyper-synthesis rows (``h_s.4``) repeat the old rows cyclically (sensible initial
    scales). The Gaussian conditional's constant buffers keep ``model``'s values; every
    other tensor is copied as is. Returns ``{"M_old", "M"}``.
    """
    import torch

    new = model.state_dict()
    m_old, m_new = int(old["g_a.6.weight"].shape[0]), int(new["g_a.6.weight"].shape[0])
    if int(old["g_a.0.weight"].shape[0]) != int(new["g_a.0.weight"].shape[0]) or m_old > m_new:
        raise ValueError("widen_state: N must agree and M_old ≤ M")
    rep = torch.arange(m_new) % m_old
    out = {}
    for k, v in new.items():
        # derived CDF tables, and the Gaussian conditional's constant bounds (a float16 file
        # holds its 1e-9 likelihood bound as 0, which would make -log2(likelihood) infinite)
        if hp._is_derived(k) or k not in old or k.startswith("gaussian_conditional."):
            out[k] = v
            continue
        o = old[k].to(v.dtype)
        if o.shape == v.shape:
            out[k] = o.clone()
        elif k in ("g_a.6.weight", "g_a.6.bias"):
            out[k] = v.clone()
            out[k][:m_old] = o
        elif k == "g_s.0.weight":  # ConvTranspose2d: (in = M, out = N, k, k)
            out[k] = torch.zeros_like(v)
            out[k][:m_old] = o
        elif k == "h_a.0.weight":  # Conv2d: (N, in = M, k, k)
            out[k] = torch.zeros_like(v)
            out[k][:, :m_old] = o
        elif k in ("h_s.4.weight", "h_s.4.bias"):
            out[k] = o[rep].clone()
        else:
            raise ValueError(f"widen_state: unexpected shape change of {k}: {tuple(o.shape)} -> "
                             f"{tuple(v.shape)}")
    model.load_state_dict(out)
    return {"M_old": m_old, "M": m_new}


# --------------------------------------------------------------------------------------------------
# Training images

def _skimage(name: str, index: int | None = None) -> Callable[[], np.ndarray]:
    def load() -> np.ndarray:
        from skimage import data

        img = getattr(data, name)()
        return img[index] if index is not None else img

    return load


def _matplotlib(filename: str) -> Callable[[], np.ndarray]:
    def load() -> np.ndarray:
        from matplotlib import cbook

        from semopt.profiling.images import load_image

        return load_image(cbook.get_sample_data(filename, asfileobj=False))

    return load


#: Still images shipped inside installed packages beyond the 17 sample images (training
#: only). Left out: ``cat`` (= ``chelsea``, a validation image), ``microaneurysms`` and
#: ``lfw_subset`` (smaller than a crop), generated data (``binary_blobs``) and non-image
#: arrays (matplotlib's elevation grids).
EXTRA_IMAGES: dict[str, Callable[[], np.ndarray]] = {
    "stereo_motorcycle_right": _skimage("stereo_motorcycle", 1),
    "cell": _skimage("cell"),
    "clock": _skimage("clock"),
    "page": _skimage("page"),
    "text": _skimage("text"),
    "colorwheel": _skimage("colorwheel"),
    "logo": _skimage("logo"),
    "horse": _skimage("horse"),
    "shepp_logan_phantom": _skimage("shepp_logan_phantom"),
    "checkerboard": _skimage("checkerboard"),
    "minduka_present_blue_pack": _matplotlib("Minduka_Present_Blue_Pack.png"),
    "matplotlib_logo2": _matplotlib("logo2.png"),
}


def load_extra_images() -> list[NamedImage]:
    """The :data:`EXTRA_IMAGES` available here, as ``uint8 (H, W, 3)`` (missing ones skipped)."""
    from semopt.profiling.images import _to_rgb_uint8

    out = []
    for name, load in EXTRA_IMAGES.items():
        try:
            raw = load()
        except (ImportError, FileNotFoundError, OSError, AttributeError):
            continue
        out.append(NamedImage(name, _to_rgb_uint8(raw, name)))
    return out


def _rescaled(img: NamedImage, short_sides: Sequence[int], crop: int) -> list[np.ndarray]:
    h, w = img.pixels.shape[:2]
    out = [img.pixels] if min(h, w) >= crop else []
    for s in sorted(set(short_sides), reverse=True):
        if crop <= s < min(h, w):
            scale = s / min(h, w)
            out.append(resize_center_crop(img.pixels, (round(h * scale), round(w * scale))))
    return out


def training_images(
    crop: int, scales: Sequence[int], extras: bool = True
) -> tuple[list[list[np.ndarray]], list[list[np.ndarray]], list[NamedImage], list[NamedImage]]:
    """Training pyramids: ``(sample, extra, sample_images, extra_images)``.

    Each pyramid is the list of versions of one image (native, then short side ``s`` for
    every ``s`` in ``scales`` below the native short side; versions smaller than ``crop``
    are dropped). ``sample`` comes from the ``train`` split, ``extra`` from
    :func:`load_extra_images` (empty when ``extras`` is false). The validation images are
    never included.
    """
    train = load_sample_images("train")
    extra = load_extra_images() if extras else []
    banned = set(VALIDATION_NAMES)
    if banned & {im.name for im in train + extra}:  # pragma: no cover - a definition error
        raise RuntimeError("a validation image is in the training set")
    sample = [p for p in (_rescaled(im, scales, crop) for im in train) if p]
    other = [p for p in (_rescaled(im, scales, crop) for im in extra) if p]
    return sample, other, train, extra


def _crop_batch(
    sample: Sequence[Sequence[np.ndarray]], extra: Sequence[Sequence[np.ndarray]],
    extra_weight: float, rng: np.random.Generator, batch: int, crop: int,
) -> np.ndarray:
    """``batch`` random ``crop``² patches, ``uint8 (batch, crop, crop, 3)``.

    Each patch: the extra images with probability ``extra_weight`` (else the sample
    images), then an image and one of its scales uniformly, a uniform position and a
    horizontal flip with probability ½.
    """
    out = np.empty((batch, crop, crop, 3), dtype=np.uint8)
    for k in range(batch):
        group = extra if extra and rng.random() < extra_weight else sample
        versions = group[int(rng.integers(len(group)))]
        img = versions[int(rng.integers(len(versions)))]
        h, w = img.shape[:2]
        top, left = int(rng.integers(h - crop + 1)), int(rng.integers(w - crop + 1))
        patch = img[top : top + crop, left : left + crop]
        if rng.random() < 0.5:
            patch = patch[:, ::-1]
        out[k] = patch
    return out


def lr_at(step: int, total: int, lr_max: float, lr_min: float, warmup: int, decay: int) -> float:
    """Learning rate: linear warm-up, constant, cosine to ``lr_min`` over the last ``decay`` steps."""
    if step < warmup:
        return lr_max * (step + 1) / warmup
    start = max(warmup, total - decay)
    if step < start:
        return lr_max
    t = (step - start) / max(1, total - start)
    return lr_min + 0.5 * (lr_max - lr_min) * (1.0 + math.cos(math.pi * min(1.0, t)))


# --------------------------------------------------------------------------------------------------
# Evaluation during training (likelihood bits, rounding: no entropy coder; cheap)

def _quick_eval(model: Any, images: Sequence[np.ndarray]) -> dict[str, float]:
    """Mean per-image MSE (0..255) -> PSNR, and likelihood bpp, in eval mode (rounding)."""
    import torch

    mses, bits, pix = [], 0.0, 0
    model.eval()
    with torch.no_grad():
        for px in images:
            x = hp.to_tensor(px)
            h, w = x.shape[-2:]
            out = model(hp._pad(x))
            rec = torch.round(out["x_hat"][..., :h, :w].clamp(0, 1) * 255.0)
            mses.append(float(((rec - torch.round(x * 255.0)) ** 2).mean()))
            bits += float(sum(-torch.log2(v).sum() for v in out["likelihoods"].values()))
            pix += h * w
    model.train()
    mse = float(np.mean(mses))
    return {"psnr_db": 10.0 * math.log10(255.0**2 / mse), "mse": mse, "bpp": bits / pix}


# --------------------------------------------------------------------------------------------------
# Training

def _work_paths(work: Path, lam: float) -> tuple[Path, Path, Path]:
    name = model_name(lam)
    return work / f"{name}.ckpt.pt", work / f"{name}.final.pt", work / f"{name}.curve.jsonl"


def snapshot_path(work: Path, parent: Parent) -> Path:
    """File of the fork snapshot ``parent`` (or of the parent's final state)."""
    _, final, _ = _work_paths(work, parent.lam)
    return final if parent.step is None else work / f"{model_name(parent.lam)}.step{parent.step}.pt"


def train_one(
    lam: float,
    parent_state: Path | None,
    steps: int,
    args: argparse.Namespace,
    data: tuple[list[list[np.ndarray]], list[list[np.ndarray]]],
    eval_sets: dict[str, list[np.ndarray]],
    snapshots: Sequence[int] = (),
    init: Path | None = None,
) -> Path:
    """Train (or resume) one λ; return the path of its full-precision final state.

    ``snapshots``: steps at which a copy of the state is kept for fork children. ``init``:
    for a root, a (narrower) ScaleHyperprior weights file to start from (:func:`widen_state`).
    """
    import torch
    from tqdm import tqdm

    work = Path(args.work_dir)
    work.mkdir(parents=True, exist_ok=True)
    name = model_name(lam)
    ckpt, final, curve = _work_paths(work, lam)
    if final.is_file() and torch.load(final, weights_only=True)["step"] >= steps:
        return final

    torch.manual_seed(args.seed)
    model = hp.build_model(args.N, args.M).train()
    main_params = [p for n, p in model.named_parameters() if not n.endswith(".quantiles")]
    aux_params = [p for n, p in model.named_parameters() if n.endswith(".quantiles")]
    opt = torch.optim.Adam(main_params, lr=args.lr)
    aux_opt = torch.optim.Adam(aux_params, lr=1e-3)
    start, cpu_s, wall_s = 0, 0.0, 0.0
    if ckpt.is_file():
        state = torch.load(ckpt, weights_only=True)
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["opt"])
        aux_opt.load_state_dict(state["aux_opt"])
        start, cpu_s, wall_s = int(state["step"]), state["cpu_s"], state["wall_s"]
        print(f"[{name}] resuming at step {start}", flush=True)
    elif parent_state is not None:
        model.load_state_dict(torch.load(parent_state, weights_only=True)["model"])
        print(f"[{name}] fine-tuning from {parent_state.name}", flush=True)
    elif init is not None:
        old = {k: (v.float() if v.is_floating_point() else v)
               for k, v in torch.load(init, map_location="cpu", weights_only=True).items()}
        print(f"[{name}] initialised from {init.name}: {widen_state(model, old)}", flush=True)

    if parent_state is None:
        lr_max, warmup, decay = args.lr, 200, args.decay_steps
    else:
        lr_max, warmup, decay = args.finetune_lr, 20, steps
    key = round(lam * 1e7)
    t_wall, t_cpu = time.time(), time.process_time()

    def save(path: Path, step: int) -> None:
        tmp = path.with_name(path.name + ".tmp")
        torch.save({"model": model.state_dict(), "opt": opt.state_dict(),
                    "aux_opt": aux_opt.state_dict(), "step": step, "lambda": lam,
                    "cpu_s": cpu_s + time.process_time() - t_cpu,
                    "wall_s": wall_s + time.time() - t_wall}, tmp)
        tmp.replace(path)

    def log_eval(step: int) -> None:
        rec = {"step": step, **{k: _quick_eval(model, v) for k, v in eval_sets.items()},
               "cpu_s": round(cpu_s + time.process_time() - t_cpu, 1)}
        with curve.open("a") as f:
            f.write(json.dumps(rec) + "\n")
        print(f"[{name}] eval @{step}: " + ", ".join(
            f"{k} {v['psnr_db']:.2f} dB {v['bpp']:.3f} bpp" for k, v in rec.items()
            if isinstance(v, dict)), flush=True)

    if start == 0 and eval_sets:
        log_eval(0)
    bar = tqdm(range(start, steps), initial=start, total=steps, desc=name,
               mininterval=30.0, file=sys.stderr)
    for step in bar:
        rng = np.random.default_rng([args.seed, key, step])
        torch.manual_seed(int(rng.integers(2**62)))
        lr = lr_at(step, steps, lr_max, args.lr_min, warmup, decay)
        for g in opt.param_groups:
            g["lr"] = lr
        x = torch.from_numpy(_crop_batch(data[0], data[1], args.extra_weight, rng,
                                         args.batch, args.crop))
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
            psnr = 10 * math.log10(1.0 / max(float(mse.detach()), 1e-10))
            bar.set_postfix(bpp=f"{float(bpp):.3f}", psnr=f"{psnr:.2f}", lr=f"{lr:.1e}")
        done = step + 1
        if done % args.checkpoint_every == 0 or done == steps:
            save(ckpt, done)
        if done in snapshots:
            save(work / f"{name}.step{done}.pt", done)
        if eval_sets and (done % args.eval_every == 0 or done == steps):
            log_eval(done)
        if done % 250 == 0:
            print(f"[{name}] step {done}/{steps} loss={float(loss):.4f} lr={lr:.2e} "
                  f"bpp={float(bpp):.4f} mse={float(mse):.2e} aux={float(aux):.1f}", flush=True)
    bar.close()
    save(final, steps)
    return final


def read_curve(path: Path) -> list[dict[str, Any]]:
    """The evaluation curve of one model (last record per step wins; sorted by step)."""
    if not path.is_file():
        return []
    recs = {}
    for line in path.read_text().splitlines():
        if line.strip():
            r = json.loads(line)
            recs[r["step"]] = r
    return [recs[k] for k in sorted(recs)]


def export_and_measure(
    lam: float, final: Path, args: argparse.Namespace, validation: Sequence[NamedImage],
    gvif_set: Sequence[NamedImage],
) -> dict[str, Any]:
    """Write the float16 weights, re-load them like a user would and measure them.

    ``validation``: held-out images at native resolution (pooled bpp/MSE). ``gvif_set``:
    every sample image at the GVIF size; its ``mse`` is the mean per-image MSE (D(Φ) of
    eq. 12, as the GVIF table computes it) and ``psnr`` = 10 log10(255²/mse).
    """
    import torch

    name = model_name(lam)
    model = hp.build_model(args.N, args.M)
    state = torch.load(final, weights_only=True)
    model.load_state_dict(state["model"])
    weights = Path(args.out) / f"{name}.pt"
    sha = hp.save_model(model, weights, half=True)
    shipped = hp.load_model(weights, expected_sha256=sha)
    rd = hp.measure_rate_distortion(shipped, validation)
    g = hp.measure_rate_distortion(shipped, gvif_set)
    g_mse = float(np.mean([p["mse"] for p in g.per_image]))
    return {
        "name": name, "lambda": lam, "N": args.N, "M": args.M, "weights": weights.name,
        "sha256": sha, "file_bytes": weights.stat().st_size,
        "parameters": hp.count_parameters(shipped), "weights_dtype": "float16",
        "validation": {"bpp": rd.bpp, "mse": rd.mse, "psnr": rd.psnr,
                       "per_image": rd.per_image},
        "sample_gvif_size": {"bpp": g.bpp, "mse": g_mse,
                             "psnr": 10.0 * math.log10(255.0**2 / g_mse),
                             "per_image": g.per_image},
        "_cpu_s": float(state.get("cpu_s", float("nan"))),
        "_wall_s": float(state.get("wall_s", float("nan"))),
    }


def build_parser() -> argparse.ArgumentParser:
    """The command-line options (defaults = the shipped table's command)."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", default="perception_tables/models")
    p.add_argument("--table-name", default="hyperprior-sample")
    p.add_argument("--work-dir", default="build/train_hyperprior",
                   help="checkpoints (resumable); not shipped")
    p.add_argument("--lambdas", type=float, nargs="+", default=list(DEFAULT_LAMBDAS))
    p.add_argument("--base-lambda", type=float, default=None,
                   help="λ trained from scratch (default: the highest λ)")
    p.add_argument("--parent", action="append", default=None, metavar="CHILD=PARENT[@STEP]",
                   help=f"re-root a fine-tune (repeatable; default {' '.join(DEFAULT_PARENTS)})")
    p.add_argument("--init", action="append", default=None, metavar="LAMBDA=PATH[@sha256:HEX]",
                   help="warm-start a root from a (narrower) ScaleHyperprior state dict "
                        f"(repeatable; default {' '.join(DEFAULT_INIT)}; --init '' for none)")
    p.add_argument("--topology", choices=["star", "chain"], default="star",
                   help="fine-tune every λ from its chain's root (star) or from its neighbour")
    p.add_argument("--base-steps", type=int, default=1200)
    p.add_argument("--decay-steps", type=int, default=400,
                   help="the base's lr decays (cosine) over its last DECAY_STEPS steps")
    p.add_argument("--steps", type=int, default=150, help="fine-tuning steps per λ")
    p.add_argument("--only", type=float, nargs="*", default=None,
                   help="train only these λ (and missing parents); no table")
    p.add_argument("--N", type=int, default=64)
    p.add_argument("--M", type=int, default=192)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--crop", type=int, default=128)
    p.add_argument("--scales", type=int, nargs="*", default=[384, GVIF_SIZE],
                   help="extra training versions of each image: short side in pixels")
    p.add_argument("--extra-weight", type=float, default=0.25,
                   help="fraction of crops drawn from the extra (non-sample) images")
    p.add_argument("--no-extras", action="store_true", help="train on the train split only")
    p.add_argument("--lr", type=float, default=5e-4)
    p.add_argument("--finetune-lr", type=float, default=1e-3)
    p.add_argument("--lr-min", type=float, default=1e-5)
    p.add_argument("--checkpoint-every", type=int, default=100)
    p.add_argument("--eval-every", type=int, default=1000,
                   help="log PSNR/bpp on the sample images every EVAL_EVERY steps (0: never)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point (see the module docstring)."""
    args = build_parser().parse_args(argv)

    import compressai
    import torch

    torch.set_num_threads(args.threads)
    t0, cpu0 = time.time(), time.process_time()
    lambdas = sorted(set(args.lambdas))
    base = max(lambdas) if args.base_lambda is None else args.base_lambda
    overrides = list(DEFAULT_PARENTS) if args.parent is None else list(args.parent)
    overrides = [s for s in overrides if s]  # --parent "" clears the defaults
    used = {lam for s in overrides for lam in (parse_parent(s)[0],
                                                getattr(parse_parent(s)[1], "lam", None)) if lam}
    if args.parent is None and not set(lambdas) >= used:
        overrides = []  # a user sweep without the default fork points: plain chain
    parents = chain_parents(lambdas, base, overrides, star=args.topology == "star")
    sample_px, extra_px, train, extra = training_images(args.crop, args.scales,
                                                        not args.no_extras)
    print(f"train images: {[im.name for im in train]} + extras {[im.name for im in extra]}; "
          f"{sum(map(len, sample_px))}+{sum(map(len, extra_px))} versions", flush=True)
    eval_sets: dict[str, list[np.ndarray]] = {}
    if args.eval_every > 0:
        eval_sets = {"sample_256": [im.pixels for im in load_sample_images("all", GVIF_SIZE)],
                     "validation": [im.pixels for im in load_sample_images("validation")]}
    snapshots: dict[float, set[int]] = {lam: set() for lam in lambdas}
    for par in parents.values():
        if par is not None and par.step is not None:
            snapshots[par.lam].add(par.step)
    work = Path(args.work_dir)
    inits: dict[float, dict[str, Any]] = {}
    for spec in (DEFAULT_INIT if args.init is None else [s for s in args.init if s]):
        lam, path, sha = parse_init(spec)
        if args.init is None and lam not in lambdas:
            continue  # a user sweep without the default roots
        if parents.get(lam, 0) is not None:
            raise ValueError(f"--init {spec!r}: λ={lam} is not a root of the sweep")
        got = hp.file_sha256(path)
        if sha is not None and got.removeprefix("sha256:") != sha.removeprefix("sha256:"):
            raise ValueError(f"--init {spec!r}: sha256 of {path} is {got}")
        inits[lam] = {"path": path, "sha256": got}

    finals: dict[float, Path] = {}

    def steps_of(lam: float) -> int:
        return args.base_steps if parents[lam] is None else args.steps

    def ensure(lam: float) -> Path:
        if lam not in finals:
            par = parents[lam]
            state = None
            if par is not None:
                snap = snapshot_path(work, par)
                if par.step is None or not snap.is_file():
                    ensure(par.lam)
                if not snap.is_file():
                    raise RuntimeError(f"fork snapshot {snap} missing: its parent finished "
                                       "without it; delete the parent's final state to retrain")
                state = snap
            finals[lam] = train_one(lam, state, steps_of(lam), args, (sample_px, extra_px),
                                    eval_sets, sorted(snapshots[lam]),
                                    inits[lam]["path"] if lam in inits else None)
        return finals[lam]

    for lam in (lambdas if args.only is None else sorted(args.only, reverse=True)):
        ensure(lam)
    cpu = time.process_time() - cpu0
    print(f"training done: wall {time.time() - t0:.0f}s, cpu {cpu:.0f}s", flush=True)
    if args.only is not None:
        return 0

    validation = load_sample_images("validation")
    gvif_set = load_sample_images("all", GVIF_SIZE)
    entries = [export_and_measure(lam, finals[lam], args, validation, gvif_set)
               for lam in lambdas]

    def total_steps(lam: float) -> int:
        par = parents[lam]
        if par is None:
            return args.base_steps
        return args.steps + (par.step if par.step is not None else total_steps(par.lam))

    for e in entries:
        par = parents[e["lambda"]]
        ini = inits.get(e["lambda"])
        e["training"] = {"initialised_from": None if par is None else par.label(),
                         "warm_start": None if ini is None else {
                             "file": Path(ini["path"]).name, "sha256": ini["sha256"]},
                         "steps": steps_of(e["lambda"]),
                         "total_steps": total_steps(e["lambda"]),
                         "cpu_s": round(e.pop("_cpu_s"), 1), "wall_s": round(e.pop("_wall_s"), 1),
                         "curve": read_curve(_work_paths(work, e["lambda"])[2])}
    bpps = [e["validation"]["bpp"] for e in entries]
    psnrs = [e["validation"]["psnr"] for e in entries]
    g_bpps = [e["sample_gvif_size"]["bpp"] for e in entries]
    g_mses = [e["sample_gvif_size"]["mse"] for e in entries]
    monotone = all(b1 < b2 for b1, b2 in itertools.pairwise(bpps)) and all(
        q1 < q2 for q1, q2 in itertools.pairwise(psnrs))
    monotone_gvif = all(b1 < b2 for b1, b2 in itertools.pairwise(g_bpps)) and all(
        d1 > d2 for d1, d2 in itertools.pairwise(g_mses))
    command = " ".join(sys.argv[1:] if argv is None else list(argv))
    table = {
        "schema": TABLE_SCHEMA,
        "name": args.table_name,
        "kind": "model-table",
        "description": "compressai ScaleHyperprior (Ballé et al. 2018) λ sweep trained on "
                       "the offline images (semopt.profiling.train_hyperprior).",
        "architecture": {"class": "compressai.models.ScaleHyperprior", "N": args.N,
                         "M": args.M, "latent_downsampling": 16, "pad_multiple": 64},
        "loss": "lambda * 255^2 * MSE + bpp (likelihood bits)",
        "measurement": "real entropy coder (model.compress y+z byte strings), images "
                       "padded (replicate) to a multiple of 64, bpp over original pixels, "
                       "MSE/PSNR on uint8-rounded reconstructions. 'validation': held-out "
                       "images at native resolution, MSE pooled over the split. "
                       f"'sample_gvif_size': all sample images at {GVIF_SIZE} px "
                       "(resize + centre crop), MSE = mean per-image MSE (D of the GVIF "
                       "table); the 'train' names among them are training images.",
        "dataset": {
            "train": [im.name for im in train],
            "train_extra": [im.name for im in extra],
            "validation": list(VALIDATION_NAMES),
            "train_hash": dataset_hash(train),
            "train_extra_hash": dataset_hash(extra),
            "validation_hash": dataset_hash(validation),
            "sample_gvif_size_hash": dataset_hash(gvif_set),
            "scales_short_side_px": sorted(args.scales, reverse=True),
            "extra_weight": args.extra_weight,
        },
        "training": {
            "command": "python -m semopt.profiling.train_hyperprior " + command,
            "seed": args.seed, "batch": args.batch, "crop": args.crop,
            "base_lambda": base, "roots": [model_name(k) for k, v in parents.items() if v is None],
            "base_steps": args.base_steps,
            "decay_steps": args.decay_steps, "finetune_steps": args.steps,
            "topology": args.topology,
            "parents": {model_name(k): (None if v is None else v.label())
                        for k, v in parents.items()},
            "warm_starts": {model_name(k): {"file": Path(v["path"]).name, "sha256": v["sha256"]}
                            for k, v in inits.items()},
            "lr": args.lr, "finetune_lr": args.finetune_lr, "lr_min": args.lr_min,
            "optimizer": "Adam, grad clip 1.0; base: 200 warm-up steps, constant, cosine over "
                         "the last decay_steps; fine-tunes: 20 warm-up steps, cosine",
            "threads": args.threads,
            "cpu_s_total": round(sum(e["training"]["cpu_s"] for e in entries), 1),
        },
        "rd_monotone": monotone,
        "rd_monotone_sample_gvif_size": monotone_gvif,
        "reference_model": min(entries, key=lambda e: e["sample_gvif_size"]["mse"])["name"],
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
        v, g = e["validation"], e["sample_gvif_size"]
        print(f"{e['name']:>12}: validation {v['bpp']:.4f} bpp {v['psnr']:.2f} dB; "
              f"sample@{GVIF_SIZE} {g['bpp']:.4f} bpp {g['psnr']:.2f} dB; "
              f"{e['file_bytes'] / 1e6:.2f} MB", flush=True)
    print(f"wrote {out} (monotone={monotone}, monotone@{GVIF_SIZE}={monotone_gvif})", flush=True)
    if not (monotone and monotone_gvif):
        print("WARNING: RD points not monotone; train more (raise --steps)", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
