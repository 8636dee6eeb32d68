"""Perception metrics, all returned as **distances** (lower is better).

Every metric scores an output that does not exist (nothing regenerated) as exactly 1,
which is the P_∅ = 1 convention of the perception tables.

============  =====================================================  ===================
name          distance stored in tables                              needs
============  =====================================================  ===================
``msssim``    ``1 - MS-SSIM`` (5 scales, data range 255, Wang 2003)   pytorch-msssim
``psnr``      ``1 - min(PSNR, 50 dB) / 50 dB`` (PSNR on uint8 RGB)     numpy
``mask-psnr`` same, PSNR over the pixels of the importance mask       numpy
``clip``      ``1 - cos(f(x), f(x̂))`` (Xu et al. eq. 6/8)             open_clip + weights
``clip-norm`` ``1 - (cos + 1)/2`` (Qiao et al.'s normalised CLIP)      open_clip + weights
``lpips``     LPIPS distance (Zhang et al. 2018)                      ``lpips`` + weights
============  =====================================================  ===================

The PSNR distance maps 50 dB (visually lossless for 8-bit images) and above to 0 and
0 dB to 1; it is a monotone function of the MSE, so it orders outputs exactly as PSNR
does while fitting the [0, 1] distance convention. GVIF is a model-selection measure
of the GVIF issue (Huang et al.) rather than a per-output perception distance and is
not offered here.

CLIP weights are read from local files only: ``load_clip(model_name, weights)`` or the
environment variables ``SEMOPT_CLIP_MODEL`` (an open_clip architecture name such as
``ViT-B-32``, or a path to a model-config JSON) and ``SEMOPT_CLIP_WEIGHTS`` (a
checkpoint file). Without weights it fails at once and says which variable to set.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import numpy as np

from semopt.profiling.stages import WeightsNotFoundError

__all__ = [
    "PSNR_MAX_DB",
    "ClipMetric",
    "LpipsMetric",
    "MaskPsnrMetric",
    "MsssimMetric",
    "PsnrMetric",
    "clip_preprocess",
    "get_metric",
    "load_clip",
    "metric_names",
    "psnr_db",
]

#: PSNR at and above which the PSNR distance is 0.
PSNR_MAX_DB = 50.0


def _check_pair(reference: np.ndarray, output: np.ndarray) -> None:
    if reference.shape != output.shape:
        raise ValueError(f"output: shape {output.shape} differs from the reference {reference.shape}")


def psnr_db(reference: np.ndarray, output: np.ndarray, mask: np.ndarray | None = None) -> float:
    """PSNR in dB of two ``uint8`` images (optionally over a boolean ``(H, W)`` mask); inf if equal."""
    a = np.asarray(reference, dtype=np.float64)
    b = np.asarray(output, dtype=np.float64)
    _check_pair(a, b)
    err = (a - b) ** 2
    if mask is not None:
        m = np.asarray(mask, dtype=bool)
        if m.shape != a.shape[:2]:
            raise ValueError(f"mask: shape {m.shape} differs from the image {a.shape[:2]}")
        if not m.any():
            return float("inf")
        err = err[m]
    mse = float(np.mean(err))
    return float("inf") if mse <= 0 else 10.0 * np.log10(255.0**2 / mse)


def _psnr_distance(db: float) -> float:
    return float(1.0 - min(max(db, 0.0), PSNR_MAX_DB) / PSNR_MAX_DB)


class PsnrMetric:
    """``1 - min(PSNR, 50 dB)/50 dB`` over all pixels and channels."""

    name = "psnr"
    label = f"1 - min(PSNR, {PSNR_MAX_DB:g} dB)/{PSNR_MAX_DB:g} dB"

    def distance(self, reference: np.ndarray, output: np.ndarray | None, **context: Any) -> float:
        """Normalised PSNR distance; 1 when ``output`` is None."""
        if output is None:
            return 1.0
        return _psnr_distance(psnr_db(reference, output))


class MaskPsnrMetric:
    """PSNR distance restricted to a pixel mask (``context['mask']``, e.g. the foreground)."""

    name = "mask-psnr"
    label = f"1 - min(mask PSNR, {PSNR_MAX_DB:g} dB)/{PSNR_MAX_DB:g} dB"

    def distance(self, reference: np.ndarray, output: np.ndarray | None, **context: Any) -> float:
        """Normalised PSNR distance over ``context['mask']``; 1 when ``output`` is None."""
        if output is None:
            return 1.0
        if context.get("mask") is None:
            raise ValueError("mask-psnr: the stack provides no pixel mask")
        return _psnr_distance(psnr_db(reference, output, context["mask"]))


class MsssimMetric:
    """``1 - MS-SSIM`` (pytorch-msssim, 5 scales, Gaussian window 11, data range 255)."""

    name = "msssim"
    label = "1 - MS-SSIM"

    def distance(self, reference: np.ndarray, output: np.ndarray | None, **context: Any) -> float:
        """1 − MS-SSIM of two uint8 RGB images (each side ≥ 161 px); 1 when ``output`` is None."""
        if output is None:
            return 1.0
        import torch
        from pytorch_msssim import ms_ssim

        _check_pair(reference, output)
        if min(reference.shape[:2]) <= 160:
            raise ValueError(f"msssim: images must be larger than 160 px per side for 5 scales, "
                             f"got {reference.shape[:2]}")

        def t(a: np.ndarray) -> Any:
            return torch.from_numpy(np.ascontiguousarray(a, dtype=np.float32)).permute(2, 0, 1)[None]

        with torch.no_grad():
            value = float(ms_ssim(t(reference), t(output), data_range=255.0, size_average=True))
        return float(min(max(1.0 - value, 0.0), 1.0))


# --- CLIP ---------------------------------------------------------------------------------------

def load_clip(model_name: str | None = None, weights: str | os.PathLike[str] | None = None) -> Any:
    """Load an open_clip model and its tokenizer from **local** weights only.

    Parameters
    ----------
    model_name : str, optional
        open_clip architecture (``ViT-B-32``, ...) or a path to a model-config JSON (it is
        registered with ``open_clip.add_model_config``). Default ``$SEMOPT_CLIP_MODEL`` or
        ``ViT-B-32``.
    weights : path, optional
        Checkpoint file (``state_dict``). Default ``$SEMOPT_CLIP_WEIGHTS``.

    Returns
    -------
    (model, tokenizer)

    Raises
    ------
    WeightsNotFoundError
        (a ``RuntimeError``) at once, naming ``SEMOPT_CLIP_WEIGHTS``, when no weights file is configured or it
        does not exist (nothing is downloaded).
    """
    name = model_name or os.environ.get("SEMOPT_CLIP_MODEL") or "ViT-B-32"
    path = weights or os.environ.get("SEMOPT_CLIP_WEIGHTS")
    if not path or not Path(path).is_file():
        raise WeightsNotFoundError(
            "CLIP metric needs local open_clip weights: set SEMOPT_CLIP_WEIGHTS to a checkpoint "
            f"file (and SEMOPT_CLIP_MODEL to its architecture, now {name!r}) or pass weights=PATH; "
            f"got {str(path) if path else 'nothing'}. Nothing is downloaded.")
    key = (name, str(Path(path).resolve()))
    if key in _CLIP_CACHE:
        return _CLIP_CACHE[key]
    import open_clip

    arch = name
    if name.endswith(".json") and Path(name).is_file():
        open_clip.add_model_config(name)
        arch = Path(name).stem
    model = open_clip.create_model(arch, pretrained=str(path), device="cpu")
    model.eval()
    tokenizer = open_clip.get_tokenizer(arch)
    _CLIP_CACHE[key] = (model, tokenizer)
    return model, tokenizer


_CLIP_CACHE: dict[tuple[str, str], Any] = {}


def clip_preprocess(model: Any, pixels: np.ndarray) -> Any:
    """Center-crop to a square, resize (bicubic) to the model's input size, normalise."""
    import torch
    import torch.nn.functional as F
    from open_clip.constants import OPENAI_DATASET_MEAN, OPENAI_DATASET_STD

    size = model.visual.image_size
    size = tuple(size) if isinstance(size, (tuple, list)) else (int(size), int(size))
    cfg = getattr(model.visual, "preprocess_cfg", None) or {}
    mean = torch.tensor(cfg.get("mean", OPENAI_DATASET_MEAN))[:, None, None]
    std = torch.tensor(cfg.get("std", OPENAI_DATASET_STD))[:, None, None]
    arr = np.asarray(pixels)
    h, w = arr.shape[:2]
    s = min(h, w)
    top, left = (h - s) // 2, (w - s) // 2
    crop = np.ascontiguousarray(arr[top:top + s, left:left + s], dtype=np.float32) / 255.0
    x = torch.from_numpy(crop).permute(2, 0, 1)[None]
    x = F.interpolate(x, size=size, mode="bicubic", align_corners=False).clamp(0, 1)
    return (x - mean) / std


class ClipMetric:
    """CLIP image-image distance ``1 - cos`` or, with ``normalized=True``, ``1 - (cos + 1)/2``.

    Parameters
    ----------
    model_name, weights
        See :func:`load_clip` (loaded lazily on first use, so a stack can be configured on
        a machine without weights; :meth:`check` loads at once).
    normalized : bool
        Qiao et al.'s normalised CLIP ``(cos + 1)/2`` instead of Xu et al.'s cosine.
    """

    def __init__(self, model_name: str | None = None, weights: str | None = None,
                 normalized: bool = False) -> None:
        self.model_name = model_name
        self.weights = weights
        self.normalized = normalized
        self.name = "clip-norm" if normalized else "clip"
        self.label = "1 - (CLIP + 1)/2" if normalized else "1 - CLIP"
        self._ref_cache: dict[str, Any] = {}

    def check(self) -> None:
        """Load the model now (fails fast when weights are missing)."""
        load_clip(self.model_name, self.weights)

    def embed(self, pixels: np.ndarray) -> Any:
        """Unit-norm image embedding."""
        import torch

        model, _ = load_clip(self.model_name, self.weights)
        with torch.no_grad():
            f = model.encode_image(clip_preprocess(model, pixels))[0]
        return f / f.norm()

    def similarity(self, reference: np.ndarray, output: np.ndarray) -> float:
        """Cosine similarity of the two images' CLIP embeddings."""
        key = hashlib.sha1(np.ascontiguousarray(reference).tobytes()).hexdigest()
        if key not in self._ref_cache:
            self._ref_cache = {key: self.embed(reference)}
        return float((self._ref_cache[key] * self.embed(output)).sum())

    def distance(self, reference: np.ndarray, output: np.ndarray | None, **context: Any) -> float:
        """CLIP distance; 1 when ``output`` is None."""
        if output is None:
            return 1.0
        cos = self.similarity(reference, output)
        return float(1.0 - (cos + 1.0) / 2.0) if self.normalized else float(1.0 - cos)


class LpipsMetric:
    """LPIPS (AlexNet) distance; needs the ``lpips`` package and its local weights."""

    name = "lpips"
    label = "LPIPS (alex)"

    def __init__(self) -> None:
        self._model: Any = None

    def distance(self, reference: np.ndarray, output: np.ndarray | None, **context: Any) -> float:
        """LPIPS distance clipped to [0, 1]; 1 when ``output`` is None."""
        if output is None:
            return 1.0
        try:
            import lpips
            import torch
        except ImportError as exc:
            raise RuntimeError("metric 'lpips' needs the optional package lpips "
                               "(pip install lpips) and its AlexNet weights") from exc
        if self._model is None:
            self._model = lpips.LPIPS(net="alex", verbose=False).eval()

        def t(a: np.ndarray) -> Any:
            x = torch.from_numpy(np.ascontiguousarray(a, dtype=np.float32)).permute(2, 0, 1)[None]
            return x / 127.5 - 1.0

        with torch.no_grad():
            return float(min(max(float(self._model(t(reference), t(output))), 0.0), 1.0))


_METRICS: dict[str, Any] = {
    "msssim": MsssimMetric,
    "psnr": PsnrMetric,
    "mask-psnr": MaskPsnrMetric,
    "clip": lambda **kw: ClipMetric(normalized=False, **kw),
    "clip-norm": lambda **kw: ClipMetric(normalized=True, **kw),
    "lpips": LpipsMetric,
}


def metric_names() -> list[str]:
    """Names accepted by :func:`get_metric`."""
    return sorted(_METRICS)


def get_metric(name: str, **options: Any) -> Any:
    """A metric object by name (see the module table); ``ValueError`` lists the valid ones."""
    if name not in _METRICS:
        raise ValueError(f"metric: unknown {name!r}; valid metrics: {', '.join(metric_names())}")
    return _METRICS[name](**options)
