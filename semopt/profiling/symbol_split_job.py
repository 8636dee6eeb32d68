"""Measure a symbol-split table: quality vs (foreground rate, background rate, prompt delivered).

The stack (:class:`SymbolSplitStack`, offline on CPU)
-----------------------------------------------------
1. **Encoder.** One ScaleHyperprior of the model table (default: the model with the largest
   λ, i.e. the highest rate, looked up in the table -- not a fixed name) analyses the image:
   latent ``y``, hyper-latent ``ẑ`` (rANS-coded) and the Gaussian-conditional scales
   ``σ = h_s(ẑ)``.
2. **Split.** The spectral-residual importance map (or CAM / CLIP with local weights),
   block-averaged to the latent grid, ranks the latent positions; the top ``fg_fraction``
   form the **foreground** branch, the rest the **background** branch (all channels of a
   position in one branch) -- :class:`~semopt.profiling.extractors.LatentSplitExtractor`.
3. **Rate of each branch: its own quantisation step on the shared model.** Branch ``b`` at
   step ``Δ_b`` sends the symbols ``round(y/Δ_b)`` of its positions, rANS-coded with the
   Gaussian conditional of scale ``σ/Δ_b`` (the distribution of ``y/Δ_b``); the receiver
   decodes the byte string and uses ``ŷ = Δ_b · symbols``. ``Δ = 1`` is the model as
   trained; a larger step lowers the rate. A branch that is **not sent** (level ``off``)
   has ``ŷ = 0`` (the mean of the zero-mean conditional). Both branches land in one latent,
   so a single synthesis ``g_s`` decodes the image and every element it uses was
   transmitted and counted. (The alternative -- one model / λ per branch -- needs two
   latents, two synthesis passes and a pixel composite in which each decoder sees zeros
   across the mask boundary; it is not used.)
4. **Cost.** The information bits of each branch are the real rANS byte strings
   (``8 · bytes``); side information -- the ẑ string, the latent mask (one bit per
   position) and a one-byte level header -- is charged whenever at least one branch is
   sent; the prompt costs ``8 · bytes`` of its UTF-8 text. Channel symbols follow for the
   table's MCS (:func:`semopt.link.gened.digital_symbols`). The visual bits are assumed
   delivered (they would be sent on a reliable MCS); only the prompt's delivery is
   modelled, when the table is queried (:meth:`SymbolSplitTable.expected_quality`).
5. **Editor (the prompt).** No generative editor's weights exist offline, so the receiver's
   text-guided background regeneration has two documented stand-ins:

   ``colour-layout`` (default)
       The prompt is a machine-written text description of the **background**: the mean
       colour of its pixels in each cell of a ``g × g`` grid (``"bg 4x4 rgb: 8a8a8a …"``,
       ``------`` for a cell without background). With the prompt, the receiver parses it
       and repaints the background: in every cell, the difference between the prompt's
       colour and the decoded background's mean is interpolated bilinearly over the image
       and added to the background pixels (foreground pixels are kept, as GenED-SC's editor
       keeps the foreground). Without the prompt the decoder's output is shown.
   ``none``
       The codec decoder's output whether or not the prompt arrives (the same colour-layout
       prompt is sent and costs the same, but is ignored): ``Q(delivered) = Q(lost)``.

   Both are deterministic, so one repetition is exact (the job refuses ``reps > 1``);
   an editor that draws random numbers gets ``default_rng([seed, image hash, rep])``
   (common random numbers over the grid) and the Monte Carlo spread is recorded.
6. **Metrics** (quality, natural units): ``psnr`` (dB of uint8 RGB, capped at 100 dB),
   ``ms-ssim`` (pytorch-msssim, 5 scales), and -- only with local weights, which this
   machine does not have -- ``clip`` (cosine of open_clip image embeddings) and
   ``lpips`` (lower is better).

The job
-------
One work unit per (image, foreground level, background level, repetition): both prompt
states and all metrics come from one decode. Units run through
:func:`semopt.profiling.runner.run_units` (joblib processes, threads, Dask or Ray; a
progress bar; one cached JSON result per unit, written atomically, so a rerun or a killed
job recomputes only what is missing). The cache key covers the image bytes, the model
sha256, the split, the editor, the metrics, both steps, the repetition, the seed and
:data:`CODE_VERSION`.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import math
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from semopt.profiling.runner import ResultCache, RunStats, WorkUnit, cache_key, run_units
from semopt.provenance import git_commit

__all__ = [
    "CODE_VERSION",
    "DEFAULT_STEPS",
    "EDITORS",
    "ColourLayoutEditor",
    "DecoderOutputEditor",
    "SymbolSplitJob",
    "SymbolSplitStack",
    "compute_units",
    "parse_steps",
]

#: Bump when a change alters measured values (part of every cache key).
CODE_VERSION = "symbol-split-job/1"
#: Default quantisation steps of both branches: 2^(k/2), k = 10 … 0 (32 … 1), coarse to fine.
DEFAULT_STEPS: tuple[float, ...] = tuple(2.0 ** (k / 2) for k in range(10, -1, -1))
DEFAULT_MODEL_TABLE = "hyperprior-sample"
PSNR_CAP_DB = 100.0
HEADER_BITS = 8
METRIC_ALIASES = {"msssim": "ms-ssim", "ms_ssim": "ms-ssim"}
SUPPORTED_METRICS = ("psnr", "ms-ssim", "clip", "lpips")


def parse_steps(text: str | Sequence[float] | None) -> tuple[float, ...]:
    """Quantisation steps from ``"32,16,8,4,2,1"`` (or a sequence); sorted coarse to fine.

    Raises ``ValueError`` for non-positive, non-finite or duplicate steps.
    """
    if text is None:
        return DEFAULT_STEPS
    if isinstance(text, str):
        try:
            values = [float(v) for v in text.split(",") if v.strip()]
        except ValueError as exc:
            raise ValueError(f"steps: expected comma-separated positive numbers, got {text!r}") from exc
    else:
        values = [float(v) for v in text]
    if not values or any(not (math.isfinite(v) and v > 0) for v in values):
        raise ValueError(f"steps: need positive finite quantisation steps, got {values}")
    if len(set(values)) != len(values):
        raise ValueError(f"steps: duplicate values in {values}")
    return tuple(sorted(values, reverse=True))


def _level_name(step: float | None) -> str:
    return "off" if step is None else f"step-{step:.4g}"


# --------------------------------------------------------------------------------------------------
# Editors (stand-ins for the text-guided generative editor)

def _cells(h: int, w: int, grid: int) -> list[tuple[slice, slice]]:
    return [(slice(a * h // grid, (a + 1) * h // grid), slice(b * w // grid, (b + 1) * w // grid))
            for a in range(grid) for b in range(grid)]


def _bilinear(cell_values: np.ndarray, h: int, w: int) -> np.ndarray:
    """Cell-centred bilinear interpolation of a ``(g, g, C)`` array to ``(h, w, C)``."""
    g = cell_values.shape[0]

    def axis(n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        u = np.clip((np.arange(n) + 0.5) * g / n - 0.5, 0.0, g - 1.0)
        lo = np.floor(u).astype(int)
        hi = np.minimum(lo + 1, g - 1)
        return lo, hi, u - lo

    r0, r1, fr = axis(h)
    c0, c1, fc = axis(w)
    top = cell_values[r0][:, c0] * (1 - fc)[None, :, None] + cell_values[r0][:, c1] * fc[None, :, None]
    bot = cell_values[r1][:, c0] * (1 - fc)[None, :, None] + cell_values[r1][:, c1] * fc[None, :, None]
    return top * (1 - fr)[:, None, None] + bot * fr[:, None, None]


class ColourLayoutEditor:
    """Stand-in editor: a text colour layout of the background repaints the decoded background.

    Parameters
    ----------
    grid : int
        ``g``: the prompt describes ``g × g`` cells (prompt length ``11 + 7 g²`` bytes).
    """

    name = "colour-layout"
    stochastic = False

    def __init__(self, grid: int = 4) -> None:
        if int(grid) < 1 or int(grid) > 32:
            raise ValueError(f"layout_grid: must be in 1..32, got {grid!r}")
        self.grid = int(grid)

    def config(self) -> dict[str, Any]:
        """Everything that changes the results."""
        return {"editor": self.name, "grid": self.grid}

    def prompt(self, pixels: np.ndarray, background: np.ndarray) -> str:
        """The prompt text: mean RGB of the background pixels per cell, row-major, hex."""
        px = np.asarray(pixels, dtype=np.float64)
        h, w = background.shape
        tokens = []
        for rows, cols in _cells(h, w, self.grid):
            sel = background[rows, cols]
            if not sel.any():
                tokens.append("------")
                continue
            mean = np.clip(np.round(px[rows, cols][sel].mean(axis=0)), 0, 255).astype(int)
            tokens.append("".join(f"{v:02x}" for v in mean))
        return f"bg {self.grid}x{self.grid} rgb: " + " ".join(tokens)

    def parse(self, prompt: str) -> np.ndarray:
        """``(g, g, 3)`` colours from a prompt (NaN for ``------`` cells)."""
        head = f"bg {self.grid}x{self.grid} rgb: "
        if not prompt.startswith(head):
            raise ValueError(f"prompt: not a {self.grid}x{self.grid} colour layout: {prompt[:40]!r}")
        tokens = prompt[len(head):].split(" ")
        if len(tokens) != self.grid**2 or not all(re.fullmatch(r"[0-9a-f]{6}|-{6}", t) for t in tokens):
            raise ValueError("prompt: malformed colour layout")
        out = np.full((self.grid**2, 3), np.nan)
        for k, t in enumerate(tokens):
            if t != "------":
                out[k] = [int(t[i:i + 2], 16) for i in (0, 2, 4)]
        return out.reshape(self.grid, self.grid, 3)

    def edit(self, image: np.ndarray, prompt: str | None, background: np.ndarray | None,
             rng: np.random.Generator | None = None) -> np.ndarray:
        """The displayed image: ``image`` itself without a prompt, else the repainted background.

        ``background`` is the receiver's pixel mask (``None`` when no visual branch, hence no
        mask, was received: every pixel is treated as background).
        """
        if prompt is None:
            return image
        target = self.parse(prompt)
        out = np.asarray(image, dtype=np.float64)
        h, w = out.shape[:2]
        bg = np.ones((h, w), dtype=bool) if background is None else background
        corr = np.zeros((self.grid, self.grid, 3))
        for k, (rows, cols) in enumerate(_cells(h, w, self.grid)):
            a, b = divmod(k, self.grid)
            sel = bg[rows, cols]
            if sel.any() and not np.isnan(target[a, b, 0]):
                corr[a, b] = target[a, b] - out[rows, cols][sel].mean(axis=0)
        field_ = _bilinear(corr, h, w)
        out = out + field_ * bg[..., None]
        return np.clip(np.round(out), 0, 255).astype(np.uint8)


class DecoderOutputEditor(ColourLayoutEditor):
    """No editor: the codec decoder's output is shown whether or not the prompt arrives.

    The colour-layout prompt is still produced (so the prompt costs the same as with
    :class:`ColourLayoutEditor`) but it is ignored.
    """

    name = "none"

    def edit(self, image: np.ndarray, prompt: str | None, background: np.ndarray | None,
             rng: np.random.Generator | None = None) -> np.ndarray:
        """``image`` unchanged."""
        return image


EDITORS = {"colour-layout": ColourLayoutEditor, "none": DecoderOutputEditor}


# --------------------------------------------------------------------------------------------------
# The stack

def _model_spec(model_path: str | None, model_table: str, model_name: str | None) -> dict[str, Any]:
    """Model name, sha256, λ and weights path, looked up in the model table (or a file)."""
    from semopt.profiling import hyperprior as hp
    from semopt.profiling.stages import WeightsNotFoundError

    if model_path:
        path = Path(model_path)
        if not path.is_file():
            raise WeightsNotFoundError(f"--model: ScaleHyperprior weights file not found: {path}")
        return {"path": str(path.resolve()), "name": path.stem, "sha256": hp.file_sha256(path),
                "lambda": None, "table": None, "table_models": []}
    table = hp.load_model_table(model_table, verify=False)
    models = table["models"]
    if model_name is None:
        entry = max(models, key=lambda m: float(m.get("lambda") or 0.0))
    else:
        found = [m for m in models if m["name"] == model_name]
        if not found:
            raise ValueError(f"--model-name: no {model_name!r} in model table {model_table!r}; have "
                             f"{[m['name'] for m in models]}")
        entry = found[0]
    return {"table": str(model_table), "name": entry["name"], "sha256": entry["sha256"],
            "lambda": entry.get("lambda"), "N": entry["N"], "M": entry["M"],
            "weights": entry["weights"], "path": str(Path(table["_dir"]) / entry["weights"]),
            "table_models": [{"name": m["name"], "lambda": m.get("lambda"), "sha256": m["sha256"]}
                             for m in models]}


def _set_threads(threads: int) -> None:
    import torch

    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)


class SymbolSplitStack:
    """Hyperprior latents split fg/bg, per-branch quantisation steps, prompt editor, metrics.

    Parameters
    ----------
    model_table : str
        Model-table name or path (default ``hyperprior-sample``).
    model_name : str, optional
        Model of the table; default the largest-λ (highest-rate) model.
    model_path : str, optional
        A ScaleHyperprior ``state_dict`` file instead of the table.
    fg_steps, bg_steps : sequence of float, optional
        Quantisation steps of each branch (default :data:`DEFAULT_STEPS`); the level ``off``
        (not sent) is always added first.
    importance : str
        Importance method (:func:`semopt.profiling.importance.importance_map`).
    importance_options : dict, optional
        Its options (local weights, text query).
    fg_fraction : float
        Share of latent positions in the foreground branch.
    editor : {"colour-layout", "none"}
        The stand-in for the text-guided editor (module docstring).
    layout_grid : int
        Grid of the colour-layout prompt.
    metrics : sequence of str
        ``psnr``, ``ms-ssim`` (``msssim``), ``clip``, ``lpips``.
    clip_model, clip_weights : str, optional
        Local open_clip architecture / checkpoint for ``clip``.
    threads : int
        torch threads per worker.
    """

    name = "symbol-split"

    def __init__(self, *, model_table: str = DEFAULT_MODEL_TABLE, model_name: str | None = None,
                 model_path: str | None = None, fg_steps: Sequence[float] | None = None,
                 bg_steps: Sequence[float] | None = None, importance: str = "spectral-residual",
                 importance_options: Mapping[str, Any] | None = None, fg_fraction: float = 0.25,
                 editor: str = "colour-layout", layout_grid: int = 4,
                 metrics: Sequence[str] = ("psnr", "ms-ssim"), clip_model: str | None = None,
                 clip_weights: str | None = None, threads: int = 1) -> None:
        self.model_spec = _model_spec(model_path, model_table, model_name)
        self.fg_steps = parse_steps(fg_steps)
        self.bg_steps = parse_steps(bg_steps)
        self.importance = str(importance)
        self.importance_options = dict(importance_options or {})
        if not 0.0 < float(fg_fraction) < 1.0:
            raise ValueError(f"fg_fraction: must be in (0, 1), got {fg_fraction}")
        self.fg_fraction = float(fg_fraction)
        if editor not in EDITORS:
            raise ValueError(f"editor: unknown {editor!r}; valid: {', '.join(EDITORS)}")
        self.editor = EDITORS[editor](layout_grid)
        names = [METRIC_ALIASES.get(m.strip(), m.strip()) for m in metrics]
        bad = [m for m in names if m not in SUPPORTED_METRICS]
        if bad or not names or len(set(names)) != len(names):
            raise ValueError(f"metric: {metrics!r} is not a list of distinct metrics from "
                             f"{', '.join(SUPPORTED_METRICS)}")
        self.metric_names = tuple(names)
        self.clip_model, self.clip_weights = clip_model, clip_weights
        self.threads = int(threads)
        self._model: Any = None
        self._metrics: dict[str, Any] | None = None

    @property
    def levels(self) -> dict[str, list[float | None]]:
        """Steps per branch with ``None`` (off) first, coarse to fine."""
        return {"foreground": [None, *self.fg_steps], "background": [None, *self.bg_steps]}

    @property
    def model(self) -> Any:
        """The ScaleHyperprior (lazy, checksum-verified)."""
        if self._model is None:
            from semopt.profiling import hyperprior as hp

            self._model = hp.load_model(self.model_spec["path"], expected_sha256=self.model_spec["sha256"])
        return self._model

    def _metric_objects(self) -> dict[str, Any]:
        if self._metrics is None:
            from semopt.profiling.metrics import ClipMetric, LpipsMetric, MsssimMetric

            objs: dict[str, Any] = {}
            for m in self.metric_names:
                if m == "ms-ssim":
                    objs[m] = MsssimMetric()
                elif m == "clip":
                    objs[m] = ClipMetric(self.clip_model, self.clip_weights)
                elif m == "lpips":
                    objs[m] = LpipsMetric()
            self._metrics = objs
        return self._metrics

    def check(self) -> None:
        """Load the model and every metric's weights now (fail fast, before any work)."""
        _ = self.model
        objs = self._metric_objects()
        if "clip" in objs:
            objs["clip"].check()
        if "lpips" in objs:
            try:
                import lpips  # noqa: F401
            except ImportError as exc:
                from semopt.profiling.stages import WeightsNotFoundError

                raise WeightsNotFoundError("metric 'lpips' needs the optional package lpips and its "
                                           "AlexNet weights installed locally") from exc

    def config(self) -> dict[str, Any]:
        """Everything that changes the results (enters the cache key)."""
        return {"stack": self.name, "model": {k: self.model_spec[k] for k in ("name", "sha256")},
                "importance": self.importance,
                "importance_options": {k: str(v) for k, v in sorted(self.importance_options.items())},
                "fg_fraction": self.fg_fraction, "editor": self.editor.config(),
                "metrics": list(self.metric_names), "psnr_cap_db": PSNR_CAP_DB,
                "clip": [self.clip_model, self.clip_weights] if "clip" in self.metric_names else None,
                "rate_control": "per-branch quantisation step on a shared model",
                "absent": "zeros", "codec": "compressai rANS, Gaussian conditional at scale/step"}

    def describe(self) -> dict[str, Any]:
        """Provenance of the stages."""
        # weights of a model table are named relative to the table; a --model file by its path
        hidden = {"table_models"} | ({"path"} if self.model_spec["table"] is not None else set())
        return {
            "encoder": {"model": {k: v for k, v in self.model_spec.items() if k not in hidden},
                        "architecture": "compressai ScaleHyperprior",
                        "split": f"latent positions ranked by {self.importance} importance (block-averaged "
                                 f"to the latent grid); top {self.fg_fraction:g} -> foreground, rest -> "
                                 "background; all channels of a position in one branch"},
            "rate_control": "each branch its own quantisation step Δ on the shared model: symbols "
                            "round(y/Δ) rANS-coded with the Gaussian conditional of scale σ/Δ, decoded "
                            "ŷ = Δ·symbols; level 'off' = branch not sent (ŷ = 0)",
            "codec": "compressai rANS, one string per branch (decoded from the bytes and checked)",
            "side_information": f"ẑ rANS string + latent mask (1 bit per position) + {HEADER_BITS}-bit "
                                "level header, charged when at least one branch is sent",
            "channel": "visual branches and side information delivered (error-free when sent); the "
                       "prompt's delivery probability is applied when the table is queried",
            "generator": "ScaleHyperprior synthesis g_s on the assembled ŷ",
            "editor": {**self.editor.config(),
                       "what": ("stand-in for the text-guided generative editor: the prompt is a "
                                f"{self.editor.grid}x{self.editor.grid} text colour layout of the "
                                "background; delivered -> background repainted to it (bilinear "
                                "cell-mean correction), lost -> decoder output")
                       if self.editor.name == "colour-layout" else
                       "none: the codec decoder's output in both prompt states (prompt sent, ignored)"},
            "metrics": {"psnr": f"dB on uint8 RGB, capped at {PSNR_CAP_DB:g}",
                        "ms-ssim": "pytorch-msssim, 5 scales, data range 255",
                        "clip": "cosine of open_clip image embeddings (local weights)",
                        "lpips": "LPIPS alex (lower is better)"},
        }

    def prepare(self, name: str, pixels: np.ndarray) -> dict[str, Any]:
        """Analyse one image: latent, scales, mask, side bits and the prompt."""
        import torch

        from semopt.profiling.extractors import LatentSplitExtractor
        from semopt.profiling.hyperprior import _pad, to_tensor

        _set_threads(self.threads)
        m = self.model
        px = np.asarray(pixels, dtype=np.uint8)
        split = LatentSplitExtractor(m, self.importance, self.fg_fraction,
                                     self.importance_options).extract(px)
        with torch.no_grad():
            y = m.g_a(_pad(to_tensor(px)))
            z = m.h_a(torch.abs(y))
            z_strings = m.entropy_bottleneck.compress(z)
            z_hat = m.entropy_bottleneck.decompress(z_strings, z.size()[-2:])
            scales = m.h_s(z_hat)
        h, w = px.shape[:2]
        factor = int(_pad(to_tensor(px)).shape[-1]) // int(y.shape[-1])
        pixel_fg = np.kron(split.mask, np.ones((factor, factor), dtype=bool))[:h, :w]
        prompt = self.editor.prompt(px, ~pixel_fg)
        z_bits = 8 * sum(len(s) for s in z_strings)
        return {"name": name, "reference": px, "y": y, "scales": scales, "mask": split.mask,
                "background": ~pixel_fg, "prompt": prompt,
                "extras": {"name": name, "z_bits": z_bits, "mask_bits": int(split.mask.size),
                           "header_bits": HEADER_BITS,
                           "side_bits": z_bits + int(split.mask.size) + HEADER_BITS,
                           "prompt": prompt, "prompt_bytes": len(prompt.encode("utf-8")),
                           "latent_shape": [int(v) for v in y.shape[1:]],
                           "foreground_positions": int(split.mask.sum()),
                           "foreground_pixel_fraction": float(pixel_fg.mean())}}

    def _branch(self, prep: dict[str, Any], foreground: bool, step: float) -> tuple[np.ndarray, int]:
        """Code one branch at ``step`` and decode it from its bytes: (ŷ values, bits)."""
        import torch

        from semopt.profiling.codecs import GaussianConditionalCodec

        m = self.model
        sel = np.broadcast_to(prep["mask"] if foreground else ~prep["mask"], tuple(prep["y"].shape))
        with torch.no_grad():
            symbols = torch.round(prep["y"] / step).numpy().astype(np.int64)[sel]
            indexes = m.gaussian_conditional.build_indexes(prep["scales"] / step)
            indexes = indexes.numpy().astype(np.int64)[sel]
        codec = GaussianConditionalCodec(m)
        data = codec.encode((symbols, indexes))
        decoded = codec.decode(data, indexes=indexes)
        if not np.array_equal(decoded, symbols):
            raise RuntimeError("rANS round trip failed: decoded symbols differ from the coded ones")
        return decoded.astype(np.float32) * np.float32(step), 8 * len(data)

    def _score(self, reference: np.ndarray, output: np.ndarray) -> dict[str, float]:
        from semopt.profiling.metrics import psnr_db

        out: dict[str, float] = {}
        objs = self._metric_objects()
        for m in self.metric_names:
            if m == "psnr":
                out[m] = float(min(psnr_db(reference, output), PSNR_CAP_DB))
            elif m == "ms-ssim":
                out[m] = float(1.0 - objs[m].distance(reference, output))
            elif m == "clip":
                out[m] = float(objs[m].similarity(reference, output))
            else:
                out[m] = float(objs[m].distance(reference, output))
        return out

    def measure(self, prep: dict[str, Any], fg_step: float | None, bg_step: float | None,
                rng: np.random.Generator) -> dict[str, Any]:
        """Bits of both branches and every metric with the prompt lost and delivered."""
        from semopt.profiling.generators import HyperpriorDecoderGenerator

        _set_threads(self.threads)
        y_hat = np.zeros(tuple(prep["y"].shape), dtype=np.float32)
        bits = [0, 0]
        for k, (foreground, step) in enumerate(((True, fg_step), (False, bg_step))):
            if step is None:
                continue
            values, bits[k] = self._branch(prep, foreground, step)
            y_hat[np.broadcast_to(prep["mask"] if foreground else ~prep["mask"], y_hat.shape)] = values
        h, w = prep["reference"].shape[:2]
        decoded = HyperpriorDecoderGenerator(self.model).generate([y_hat], image_shape=(h, w))
        mask = prep["background"] if (fg_step is not None or bg_step is not None) else None
        lost = self.editor.edit(decoded, None, mask, rng)
        delivered = self.editor.edit(decoded, prep["prompt"], mask, rng)
        lost_scores = self._score(prep["reference"], lost)
        same = delivered is lost or np.array_equal(delivered, lost)
        return {"bits": bits, "lost": lost_scores,
                "delivered": dict(lost_scores) if same else self._score(prep["reference"], delivered)}


# --------------------------------------------------------------------------------------------------
# Work units (run in worker processes)

_STACKS: dict[str, SymbolSplitStack] = {}
_PREPARED: OrderedDict[tuple[str, str], dict[str, Any]] = OrderedDict()
_LOCK = threading.Lock()


def _stack_from(options: Mapping[str, Any]) -> SymbolSplitStack:
    key = json.dumps(options, sort_keys=True, default=str)
    with _LOCK:
        if key not in _STACKS:
            _STACKS[key] = SymbolSplitStack(**options)
        return _STACKS[key]


def _prepared(stack: SymbolSplitStack, stack_key: str, image: Mapping[str, Any]) -> dict[str, Any]:
    key = (stack_key, image["hash"])
    with _LOCK:
        if key not in _PREPARED:
            _PREPARED[key] = stack.prepare(image["name"], image["pixels"])
            while len(_PREPARED) > 4:
                _PREPARED.popitem(last=False)
        _PREPARED.move_to_end(key)
        return _PREPARED[key]


def compute_units(context: Mapping[str, Any], units: Sequence[WorkUnit]) -> list[dict[str, Any]]:
    """Worker entry point: measure the units of one (image, repetition) group."""
    stack = _stack_from(context["options"])
    image = context["image"]
    prep = _prepared(stack, context["stack_key"], image)
    levels = stack.levels
    image_seed = int(image["hash"][:8], 16)
    out = []
    for unit in units:
        t0 = time.perf_counter()
        _k, i, j, rep = unit.spec
        rng = np.random.default_rng([context["seed"], image_seed, rep])
        value = stack.measure(prep, levels["foreground"][i], levels["background"][j], rng)
        value["_s"] = round(time.perf_counter() - t0, 4)
        out.append(value)
    return out


# --------------------------------------------------------------------------------------------------
# The job

@dataclass
class SymbolSplitJob:
    """A dataset × foreground levels × background levels × repetitions job.

    Parameters
    ----------
    stack_options : dict
        Keyword arguments of :class:`SymbolSplitStack`.
    images : list of NamedImage
        The dataset (one size, already resized).
    dataset : dict
        Provenance description (kind, split, size, ...).
    reps : int
        Repetitions (1 for the deterministic editors; more only for stochastic ones).
    seed : int
    visual_mcs, prompt_mcs : str
        MCS names (:data:`semopt.link.gened.MCS_TABLE`) the table costs its parts with.
    """

    stack_options: dict[str, Any]
    images: list[Any]
    dataset: dict[str, Any]
    reps: int = 1
    seed: int = 0
    visual_mcs: str = "16qam-1/2"
    prompt_mcs: str = "16qam-1/2"
    _stack: SymbolSplitStack = field(default=None, repr=False)  # type: ignore[assignment]

    def __post_init__(self) -> None:
        from semopt.link.gened import get_mcs

        get_mcs(self.visual_mcs)
        get_mcs(self.prompt_mcs)
        if not self.images:
            raise ValueError("dataset: no images")
        shapes = {tuple(im.pixels.shape) for im in self.images}
        if len(shapes) != 1:
            raise ValueError(f"dataset: images must share one size, got {sorted(shapes)}")
        if min(next(iter(shapes))[:2]) <= 160 and "ms-ssim" in [
                METRIC_ALIASES.get(m, m) for m in self.stack_options.get("metrics", ("ms-ssim",))]:
            raise ValueError("size: MS-SSIM (5 scales) needs images larger than 160 px per side")
        self._stack = SymbolSplitStack(**self.stack_options)
        if self.reps < 1:
            raise ValueError(f"reps: must be ≥ 1, got {self.reps}")
        if self.reps > 1 and not self._stack.editor.stochastic:
            raise ValueError(f"reps: the pipeline is deterministic (editor {self._stack.editor.name!r}); "
                             "repetitions would repeat identical results -- use --reps 1")
        self._hashes = [hashlib.sha256(np.ascontiguousarray(im.pixels).tobytes()).hexdigest()
                        for im in self.images]

    @property
    def stack(self) -> SymbolSplitStack:
        """The stack of this (parent) process."""
        return self._stack

    def units(self) -> list[WorkUnit]:
        """All work units with their cache keys."""
        base = {"code": CODE_VERSION, "stack": self._stack.config(), "seed": self.seed}
        levels = self._stack.levels
        out = []
        for k, digest in enumerate(self._hashes):
            for rep in range(self.reps):
                for i, fs in enumerate(levels["foreground"]):
                    for j, bs in enumerate(levels["background"]):
                        key = cache_key({**base, "image": digest, "fg_step": fs, "bg_step": bs,
                                         "rep": rep})
                        out.append(WorkUnit(key=key, group=(k, rep), spec=(k, i, j, rep)))
        return out

    def _options(self) -> dict[str, Any]:
        opts = dict(self.stack_options)
        for key in ("fg_steps", "bg_steps"):
            if opts.get(key) is not None:
                opts[key] = list(parse_steps(opts[key]))
        return opts

    def _context(self, group: tuple[Any, ...]) -> dict[str, Any]:
        image = self.images[group[0]]
        options = self._options()
        return {"options": options, "stack_key": json.dumps(options, sort_keys=True, default=str),
                "seed": self.seed, "image": {"name": image.name, "pixels": image.pixels,
                                             "hash": self._hashes[group[0]]}}

    def run(self, cache: ResultCache | str | Path, *, n_jobs: int = 1, backend: str = "loky",
            scheduler: str | None = None, chunk_size: int | None = None,
            progress: bool = True) -> tuple[dict[str, Any], RunStats]:
        """Compute (or read from ``cache``) every unit; ``(results by key, stats)``."""
        self._stack.check()
        cache = cache if isinstance(cache, ResultCache) else ResultCache(cache)
        chunk = chunk_size or len(self._stack.levels["background"])
        return run_units(self.units(), compute_units, self._context, cache=cache, n_jobs=n_jobs,
                         backend=backend, scheduler=scheduler, chunk_size=chunk, progress=progress,
                         desc="profile symbol-split")

    def per_image_extras(self) -> list[dict[str, Any]]:
        """Side bits, prompt and split facts per image (prepared in this process)."""
        key = json.dumps(self._options(), sort_keys=True, default=str)
        _STACKS.setdefault(key, self._stack)
        return [_prepared(self._stack, key, {"name": im.name, "pixels": im.pixels,
                                             "hash": self._hashes[k]})["extras"]
                for k, im in enumerate(self.images)]

    def table(self, results: Mapping[str, Mapping[str, Any]], *, name: str,
              stats: RunStats | None = None, command: str | None = None,
              started: float | None = None, description: str | None = None) -> Any:
        """Assemble the :class:`~semopt.tables.symbol_split.SymbolSplitTable`."""
        from semopt.profiling.images import dataset_hash
        from semopt.tables.operating_points import KNOWN_METRICS
        from semopt.tables.symbol_split import SplitLevel, SymbolSplitTable

        stack = self._stack
        levels = stack.levels
        K, R = len(self.images), self.reps
        F, B = len(levels["foreground"]), len(levels["background"])
        metrics = stack.metric_names
        quality = {m: np.full((K, R, F, B, 2), np.nan) for m in metrics}
        fg_bits = np.full((K, R, F, B), -1, dtype=np.int64)
        bg_bits = np.full((K, R, F, B), -1, dtype=np.int64)
        seconds = 0.0
        for unit in self.units():
            value = results[unit.key]
            k, i, j, rep = unit.spec
            seconds += float(value.get("_s", 0.0))
            fg_bits[k, rep, i, j], bg_bits[k, rep, i, j] = value["bits"]
            for m in metrics:
                quality[m][k, rep, i, j] = [value["lost"][m], value["delivered"][m]]
        # a branch's bits depend on its own level only (and not on the repetition)
        if np.any(fg_bits != fg_bits[:, :1, :, :1]) or np.any(bg_bits != bg_bits[:, :1, :1, :]):
            raise RuntimeError("measured branch bits depend on the other branch's level or the repetition")
        extras = self.per_image_extras()
        per_image = {"foreground_bits": fg_bits[:, 0, :, 0], "background_bits": bg_bits[:, 0, 0, :],
                     "side_bits": np.array([e["side_bits"] for e in extras], dtype=np.int64),
                     "prompt_bits": np.array([8 * e["prompt_bytes"] for e in extras], dtype=np.int64)}
        mc = {}
        for m in metrics:
            per_image[f"quality_{m}"] = quality[m].mean(axis=1)
            mc[m] = (np.sqrt(quality[m].var(axis=1, ddof=1).mean(axis=0) / R) / math.sqrt(K)
                     if R > 1 else np.zeros((F, B, 2)))
        spec = {m: KNOWN_METRICS[m] for m in metrics}
        prov: dict[str, Any] = {
            "source": "measured",
            "producer": "semopt profile symbol-split",
            "command": command,
            "stack": stack.name,
            "stack_config": stack.config(),
            **stack.describe(),
            "model_table_models": stack.model_spec.get("table_models", []),
            "dataset": {**self.dataset, "n_images": K, "names": [im.name for im in self.images],
                        "hash": dataset_hash(self.images)},
            "levels": {b: [_level_name(s) for s in levels[b]] for b in ("foreground", "background")},
            "repetitions": R,
            "seed": self.seed,
            "stderr": "standard error of the mean over the images (per-image means over the "
                      "repetitions, ddof=1, / sqrt(n_images)); mc_stderr: the repetition part, "
                      "sqrt(mean_k var_k / R) / sqrt(K) (0: deterministic pipeline, one repetition)",
            "fit": "SymbolSplitTable.quality(fitted=True): weighted isotonic least squares "
                   "(weights 1/stderr^2), monotone in both rates per prompt state; raw means stored",
            "metrics_not_measured": "clip and lpips need local weights (open_clip checkpoint, lpips "
                                    "AlexNet); none were available, so they are absent"
            if not {"clip", "lpips"} & set(metrics) else None,
            "per_image": extras,
            "code_version": CODE_VERSION,
            "git_commit": git_commit(),
            "date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            "compute_s": round(seconds, 2),
        }
        if stats is not None:
            prov["last_run"] = stats.as_dict()
        if started is not None:
            prov["run_wall_s"] = round(time.perf_counter() - started, 2)
        desc = description or (
            f"measured {stack.name} stack on {K} images ({self.dataset.get('kind')}"
            f"{', ' + str(self.dataset['split']) if self.dataset.get('split') else ''}), "
            f"{F}x{B} rate levels x prompt lost/delivered, editor {stack.editor.name!r}, "
            f"{', '.join(metrics)}")
        return SymbolSplitTable.from_per_image(
            per_image=per_image, mc_stderr=mc,
            foreground_levels=[SplitLevel(_level_name(s), s) for s in levels["foreground"]],
            background_levels=[SplitLevel(_level_name(s), s) for s in levels["background"]],
            metrics=spec, visual_mcs=self.visual_mcs, prompt_mcs=self.prompt_mcs,
            images=[im.name for im in self.images], repetitions=R,
            pixels_per_image=int(self.images[0].pixels.shape[0] * self.images[0].pixels.shape[1]),
            name=name, description=desc, provenance=prov)
