"""Importance maps: which parts of an image carry its critical semantics.

One entry point::

    importance_map(pixels, method="spectral-residual", resolution="pixel") -> (H, W) float32 in [0, 1]

Methods
-------
``"spectral-residual"`` (default, needs no weights)
    Spectral-residual saliency (Hou & Zhang, CVPR 2007): the grey image is resized to
    64 px on its long side, the log-amplitude spectrum minus its 3×3 box average is
    recombined with the phase, and the squared inverse transform is Gaussian-blurred
    (σ = 2.5 px at 64 px) and resized back.
``"cam"``
    Class activation map (Zhou et al. 2016) of the top-1 class of a torchvision
    classifier (``resnet18``/``resnet50``/...; global-average-pooled last conv block +
    linear head) with **local** weights: ``weights=`` or ``$SEMOPT_CAM_WEIGHTS``
    (architecture ``arch=`` or ``$SEMOPT_CAM_ARCH``, default ``resnet18``).
``"clip"``
    CLIP patch similarity: cosine similarity of every projected ViT patch token of an
    open_clip model with the image's own embedding (or with a text prompt's embedding
    when ``text=`` is given). Weights from ``$SEMOPT_CLIP_WEIGHTS`` (see
    :func:`semopt.profiling.metrics.load_clip`).

Resolution and downsampling
---------------------------
``resolution="pixel"`` returns ``(H, W)``. ``resolution="latent"`` returns the map on the
latent grid of a learned codec that downsamples by ``factor`` (16 for compressai's
``ScaleHyperprior``) after replicate-padding to a multiple of ``pad_multiple`` (64): the
pixel map is padded the same way and **block-averaged** over ``factor × factor`` blocks,
giving ``(ceil(H/64)·4, ceil(W/64)·4)``, aligned with the latent ``y``. A tuple
``(h, w)`` resizes bilinearly instead. Every result is min-max normalised to [0, 1]
(a constant map becomes all zeros).

The GVIF filtering set P = {(i, j, c): I_ij ≥ α} uses ``resolution="latent"`` directly.
"""

from __future__ import annotations

import math
import os
from typing import Any

import numpy as np
from scipy import ndimage

__all__ = ["METHODS", "block_average", "importance_map", "normalize", "spectral_residual"]

METHODS = ("spectral-residual", "cam", "clip")


def normalize(values: np.ndarray) -> np.ndarray:
    """Min-max normalise to [0, 1] as float32 (a constant map becomes zeros)."""
    v = np.asarray(values, dtype=np.float64)
    lo, hi = float(np.min(v)), float(np.max(v))
    if not np.isfinite(lo) or not np.isfinite(hi) or hi - lo <= 1e-12 * max(1.0, abs(hi)):
        return np.zeros(v.shape, dtype=np.float32)
    return ((v - lo) / (hi - lo)).astype(np.float32)


def _gray(pixels: np.ndarray) -> np.ndarray:
    arr = np.asarray(pixels)
    if arr.ndim == 3:
        arr = arr[..., :3].astype(np.float64) @ np.array([0.299, 0.587, 0.114])
    return arr.astype(np.float64) / (255.0 if np.asarray(pixels).dtype == np.uint8 else 1.0)


def _resize(values: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    zoom = (shape[0] / values.shape[0], shape[1] / values.shape[1])
    out = ndimage.zoom(values, zoom, order=1, mode="nearest", grid_mode=True)
    # zoom may be off by one pixel on odd ratios: crop or edge-pad to the exact shape.
    out = out[: shape[0], : shape[1]]
    pad = ((0, shape[0] - out.shape[0]), (0, shape[1] - out.shape[1]))
    return np.pad(out, pad, mode="edge") if any(p[1] for p in pad) else out


def spectral_residual(pixels: np.ndarray, width: int = 64, sigma: float = 2.5) -> np.ndarray:
    """Spectral-residual saliency at pixel resolution, in [0, 1] (no weights needed)."""
    gray = _gray(pixels)
    h, w = gray.shape
    scale = width / max(h, w)
    small = _resize(gray, (max(8, round(h * scale)), max(8, round(w * scale))))
    spectrum = np.fft.fft2(small)
    log_amp = np.log(np.abs(spectrum) + 1e-9)
    phase = np.angle(spectrum)
    residual = log_amp - ndimage.uniform_filter(log_amp, size=3, mode="nearest")
    sal = np.abs(np.fft.ifft2(np.exp(residual + 1j * phase))) ** 2
    sal = ndimage.gaussian_filter(sal, sigma=sigma, mode="nearest")
    return normalize(_resize(sal, (h, w)))


def block_average(values: np.ndarray, factor: int = 16, pad_multiple: int = 64) -> np.ndarray:
    """Replicate-pad to a multiple of ``pad_multiple`` and average ``factor × factor`` blocks."""
    if factor <= 0 or pad_multiple <= 0 or pad_multiple % factor:
        raise ValueError(f"factor ({factor}) must divide pad_multiple ({pad_multiple})")
    v = np.asarray(values, dtype=np.float64)
    h, w = v.shape
    v = np.pad(v, ((0, (-h) % pad_multiple), (0, (-w) % pad_multiple)), mode="edge")
    hh, ww = v.shape
    return v.reshape(hh // factor, factor, ww // factor, factor).mean(axis=(1, 3))


def _cam(pixels: np.ndarray, weights: str | None = None, arch: str | None = None) -> np.ndarray:
    import torch
    import torchvision

    path = weights or os.environ.get("SEMOPT_CAM_WEIGHTS")
    if not path or not os.path.isfile(path):
        from semopt.profiling.stages import WeightsNotFoundError

        raise WeightsNotFoundError(
            "importance method 'cam' needs local classifier weights: pass weights=PATH or set "
            "SEMOPT_CAM_WEIGHTS to a torchvision state_dict file (e.g. resnet18-f37072fd.pth "
            f"from a machine with network); got {path!r}")
    arch = arch or os.environ.get("SEMOPT_CAM_ARCH", "resnet18")
    model = getattr(torchvision.models, arch)(weights=None)
    model.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
    return cam_from_model(model, pixels)


def cam_from_model(model: Any, pixels: np.ndarray) -> np.ndarray:
    """CAM of the top-1 class for a torchvision ResNet-like ``model`` (``layer4`` + ``fc``)."""
    import torch

    model.eval()
    x = torch.from_numpy(np.ascontiguousarray(pixels)).permute(2, 0, 1)[None].float() / 255.0
    mean = torch.tensor([0.485, 0.456, 0.406])[:, None, None]
    std = torch.tensor([0.229, 0.224, 0.225])[:, None, None]
    x = (x - mean) / std
    feats: dict[str, Any] = {}
    hook = model.layer4.register_forward_hook(lambda _m, _i, out: feats.__setitem__("f", out))
    try:
        with torch.no_grad():
            logits = model(x)
    finally:
        hook.remove()
    cls = int(logits.argmax(dim=1))
    w = model.fc.weight[cls]  # (C,)
    cam = torch.relu(torch.einsum("c,chw->hw", w, feats["f"][0])).detach().numpy()
    return normalize(_resize(cam, np.asarray(pixels).shape[:2]))


def _clip(pixels: np.ndarray, text: str | None = None, **options: Any) -> np.ndarray:
    from semopt.profiling.metrics import load_clip

    model, _tokenizer = load_clip(**options)
    return clip_patch_similarity(model, pixels, text=text, tokenizer=_tokenizer)


def clip_patch_similarity(model: Any, pixels: np.ndarray, text: str | None = None,
                          tokenizer: Any = None) -> np.ndarray:
    """Cosine similarity of each projected patch token with the image (or ``text``) embedding."""
    import torch

    from semopt.profiling.metrics import clip_preprocess

    visual = model.visual
    if not hasattr(visual, "output_tokens") or getattr(visual, "proj", None) is None:
        raise ValueError("clip importance needs an open_clip VisionTransformer with a projection")
    x = clip_preprocess(model, pixels)
    previous = visual.output_tokens
    visual.output_tokens = True
    try:
        with torch.no_grad():
            pooled, tokens = visual(x)
            patches = tokens[0] @ visual.proj
            if text is not None:
                if tokenizer is None:
                    raise ValueError("text: a tokenizer is needed for a text query")
                anchor = model.encode_text(tokenizer([text]))[0]
            else:
                anchor = pooled[0]
    finally:
        visual.output_tokens = previous
    sim = torch.nn.functional.cosine_similarity(patches, anchor[None], dim=-1).numpy()
    side = math.isqrt(sim.size)
    if side * side != sim.size:
        raise ValueError(f"clip importance: {sim.size} patch tokens do not form a square grid")
    return normalize(_resize(sim.reshape(side, side), np.asarray(pixels).shape[:2]))


def importance_map(pixels: np.ndarray, method: str = "spectral-residual", *,
                   resolution: str | tuple[int, int] = "pixel", factor: int = 16,
                   pad_multiple: int = 64, **options: Any) -> np.ndarray:
    """Importance of every pixel (or latent position) of an image, in [0, 1].

    Parameters
    ----------
    pixels : numpy.ndarray
        ``uint8 (H, W, 3)`` image.
    method : {"spectral-residual", "cam", "clip"}
        See the module docstring; ``cam`` and ``clip`` need local weights.
    resolution : "pixel", "latent" or (int, int)
        Output grid (see *Resolution and downsampling* above).
    factor, pad_multiple : int
        Latent downsampling factor and padding multiple for ``resolution="latent"``.
    **options
        Passed to the method (``weights``, ``arch`` for CAM; ``text``, ``model_name``,
        ``weights`` for CLIP).

    Returns
    -------
    numpy.ndarray
        float32 map in [0, 1].
    """
    arr = np.asarray(pixels)
    if arr.ndim != 3 or arr.shape[2] != 3:
        raise ValueError(f"pixels: expected an (H, W, 3) image, got shape {arr.shape}")
    if method == "spectral-residual":
        full = spectral_residual(arr, **options)
    elif method == "cam":
        full = _cam(arr, **options)
    elif method == "clip":
        full = _clip(arr, **options)
    else:
        raise ValueError(f"method: unknown importance method {method!r}; valid: {', '.join(METHODS)}")
    if resolution == "pixel":
        return normalize(full)
    if resolution == "latent":
        return normalize(block_average(full, factor, pad_multiple))
    if isinstance(resolution, tuple) and len(resolution) == 2:
        return normalize(_resize(full, (int(resolution[0]), int(resolution[1]))))
    raise ValueError(f"resolution: expected 'pixel', 'latent' or (h, w), got {resolution!r}")
