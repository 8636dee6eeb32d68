"""Generators: turn the received streams back into an image.

* :class:`HyperpriorDecoderGenerator` -- the codec's own decoder: ``ŷ -> g_s(ŷ)`` of a
  ``ScaleHyperprior``, rounded to ``uint8`` and cropped to the original size.
* :class:`ControlNetGenerator` -- Stable Diffusion + ControlNet (diffusers, the
  ``diffusion`` extra) conditioned on a prompt and an edge map. Weights come from local
  directories only: ``sd_dir=``/``$SEMOPT_SD_DIR`` (a diffusers Stable Diffusion folder
  or a model id already in the HF cache) and ``controlnet_dir=``/``$SEMOPT_CONTROLNET_DIR``.
  When they are not configured, :meth:`ControlNetGenerator.check` (called by the stack
  before any work starts) raises at once and names the variables to set.

An absent prompt is the empty prompt; an absent edge map is an all-black control image;
with both absent nothing is generated (``None``, distance 1).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from semopt.profiling.stages import WeightsNotFoundError

__all__ = ["ControlNetGenerator", "HyperpriorDecoderGenerator", "WeightsNotFoundError"]


class HyperpriorDecoderGenerator:
    """The ScaleHyperprior synthesis transform as the receiver's generator."""

    name = "hyperprior-decoder"

    def __init__(self, model: Any) -> None:
        self.model = model

    def generate(self, features: Sequence[Any | None], **side: Any) -> np.ndarray | None:
        """Decode one latent ``ŷ`` (``features[0]``, float array shaped like ``y``)."""
        import torch

        y_hat = features[0]
        if y_hat is None:
            return None
        y = torch.as_tensor(np.asarray(y_hat, dtype=np.float32))
        with torch.no_grad():
            x_hat = self.model.g_s(y).clamp(0, 1)
        h, w = side["image_shape"]
        img = torch.round(x_hat[0, :, :h, :w] * 255.0).to(torch.uint8).permute(1, 2, 0)
        return np.ascontiguousarray(img.numpy())


def _resolve_dir(value: str | None, env: str, what: str) -> str:
    path = value or os.environ.get(env)
    if not path:
        raise WeightsNotFoundError(
            f"ControlNet generator: no {what} configured; set {env} to a local diffusers "
            f"folder (or pass it explicitly). Nothing is downloaded.")
    if Path(path).is_dir():
        return str(path)
    # A hub id is accepted only if it is already in the local HF cache.
    try:
        from huggingface_hub import snapshot_download

        return snapshot_download(path, local_files_only=True)
    except Exception as exc:
        raise WeightsNotFoundError(
            f"ControlNet generator: {what} {path!r} (from {env}) is neither a local folder nor "
            f"a model in the local Hugging Face cache; set {env} to a folder with the weights") \
            from exc


class ControlNetGenerator:
    """Stable Diffusion + ControlNet image generation from (prompt, edge map).

    Parameters
    ----------
    sd_dir, controlnet_dir : str, optional
        Local diffusers folders (defaults: ``$SEMOPT_SD_DIR``, ``$SEMOPT_CONTROLNET_DIR``).
    steps : int
        Denoising steps.
    guidance : float
        Classifier-free guidance scale.
    size : int, optional
        Generation resolution (square); default: the reference image size.
    device : str
        ``"cpu"`` or ``"cuda"`` (float16 on CUDA).
    """

    name = "controlnet-sd"

    def __init__(self, sd_dir: str | None = None, controlnet_dir: str | None = None, *,
                 steps: int = 20, guidance: float = 7.5, size: int | None = None,
                 device: str = "cpu") -> None:
        self.sd_dir, self.controlnet_dir = sd_dir, controlnet_dir
        self.steps, self.guidance, self.size, self.device = int(steps), float(guidance), size, device
        self._pipe: Any = None

    def config(self) -> dict[str, Any]:
        """What enters the cache key."""
        return {"sd": self.sd_dir or os.environ.get("SEMOPT_SD_DIR"),
                "controlnet": self.controlnet_dir or os.environ.get("SEMOPT_CONTROLNET_DIR"),
                "steps": self.steps, "guidance": self.guidance, "size": self.size}

    def check(self) -> None:
        """Resolve both weight folders now (fail fast with the variable to set)."""
        _resolve_dir(self.sd_dir, "SEMOPT_SD_DIR", "Stable Diffusion weights")
        _resolve_dir(self.controlnet_dir, "SEMOPT_CONTROLNET_DIR", "ControlNet weights")

    def pipeline(self) -> Any:
        """The loaded diffusers pipeline (cached)."""
        if self._pipe is None:
            try:
                import torch
                from diffusers import ControlNetModel, StableDiffusionControlNetPipeline
            except ImportError as exc:
                raise ImportError("the ControlNet generator needs the 'diffusion' extra: "
                                  "pip install 'semopt[diffusion]'") from exc
            sd = _resolve_dir(self.sd_dir, "SEMOPT_SD_DIR", "Stable Diffusion weights")
            cn = _resolve_dir(self.controlnet_dir, "SEMOPT_CONTROLNET_DIR", "ControlNet weights")
            dtype = torch.float16 if self.device.startswith("cuda") else torch.float32
            controlnet = ControlNetModel.from_pretrained(cn, torch_dtype=dtype, local_files_only=True)
            pipe = StableDiffusionControlNetPipeline.from_pretrained(
                sd, controlnet=controlnet, torch_dtype=dtype, safety_checker=None,
                feature_extractor=None, requires_safety_checker=False, local_files_only=True)
            pipe.set_progress_bar_config(disable=True)
            self._pipe = pipe.to(self.device)
        return self._pipe

    def generate(self, features: Sequence[Any | None], **side: Any) -> np.ndarray | None:
        """``features = [prompt or None, edge map (bool HxW) or None]``; ``side['seed']`` seeds SD."""
        import torch
        from PIL import Image

        prompt, edges = features
        if prompt is None and edges is None:
            return None
        h, w = side["image_shape"]
        size = self.size or max(8, (min(h, w) // 8) * 8)
        control = np.zeros((h, w), dtype=np.uint8) if edges is None else \
            (np.asarray(edges, dtype=bool) * 255).astype(np.uint8)
        control_img = Image.fromarray(np.repeat(control[..., None], 3, axis=2)).resize((size, size))
        pipe = self.pipeline()
        gen = torch.Generator(device="cpu").manual_seed(int(side.get("seed", 0)))
        out = pipe(prompt=prompt or "", image=control_img, num_inference_steps=self.steps,
                   guidance_scale=self.guidance, generator=gen, height=size, width=size,
                   output_type="np").images[0]
        img = Image.fromarray(np.clip(np.round(out * 255.0), 0, 255).astype(np.uint8))
        return np.asarray(img.resize((w, h), Image.Resampling.BICUBIC))
