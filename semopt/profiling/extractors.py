"""Semantic extractors: caption text, Canny edge maps, importance-split hyperprior latents.

* :class:`CaptionExtractor` -- the prompt of an image, from a captions file (JSON object
  ``{image name: caption}`` or a tab-separated ``name<TAB>caption`` text file) or from a
  captioner plug-in (any callable ``pixels -> str``).
* :class:`CannyEdgeExtractor` -- a boolean Canny edge map (scikit-image).
* :class:`LatentSplitExtractor` -- a ``ScaleHyperprior``'s quantised latent ``ŷ`` split by
  an importance mask on the latent grid into a *foreground* (critical) and a
  *background* set of symbols, with their Gaussian-conditional CDF indexes. The mask
  keeps the ``fg_fraction`` most important latent positions (all channels of a
  position go to the same stream); ties are broken by position order, so it is
  deterministic.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["CannyEdgeExtractor", "CaptionExtractor", "LatentSplit", "LatentSplitExtractor",
           "load_captions"]


def load_captions(path: str | Path) -> dict[str, str]:
    """Read a captions file: a JSON object, or ``name<TAB>caption`` lines (``#`` comments)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"captions file not found: {path}")
    text = path.read_text(encoding="utf-8")
    if path.suffix.lower() == ".json":
        data = json.loads(text)
        if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
            raise ValueError(f"{path}: expected a JSON object {{image name: caption}}")
        return dict(data)
    out: dict[str, str] = {}
    for k, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if "\t" not in line:
            raise ValueError(f"{path}:{k}: expected 'name<TAB>caption'")
        name, caption = line.split("\t", 1)
        out[name.strip()] = caption.strip()
    return out


class CaptionExtractor:
    """Prompt text per image from a captions mapping/file or a captioner callable."""

    name = "caption"

    def __init__(self, captions: Mapping[str, str] | str | Path | None = None,
                 captioner: Callable[[np.ndarray], str] | None = None) -> None:
        if captions is None and captioner is None:
            raise ValueError("captions: give a captions file/mapping or a captioner plug-in")
        self.captions = load_captions(captions) if isinstance(captions, (str, Path)) else \
            (dict(captions) if captions is not None else None)
        self.captioner = captioner

    def extract(self, pixels: np.ndarray, **context: Any) -> dict[str, str]:
        """``{"prompt": caption}``; looks up ``context['name']`` (with and without suffix)."""
        name = str(context.get("name", ""))
        if self.captions is not None:
            for key in (name, Path(name).stem, Path(name).name):
                if key in self.captions:
                    return {"prompt": self.captions[key]}
        if self.captioner is not None:
            return {"prompt": str(self.captioner(pixels))}
        raise KeyError(f"captions: no caption for image {name!r}")


class CannyEdgeExtractor:
    """Canny edges (scikit-image) of the grey image: ``{"edge": bool (H, W)}``."""

    name = "canny"

    def __init__(self, sigma: float = 2.0, low: float | None = None,
                 high: float | None = None) -> None:
        self.sigma, self.low, self.high = sigma, low, high

    def extract(self, pixels: np.ndarray, **context: Any) -> dict[str, np.ndarray]:
        """Boolean edge map of one image."""
        from skimage.color import rgb2gray
        from skimage.feature import canny

        gray = rgb2gray(np.asarray(pixels))
        return {"edge": canny(gray, sigma=self.sigma, low_threshold=self.low,
                              high_threshold=self.high)}


@dataclass
class LatentSplit:
    """The output of :class:`LatentSplitExtractor` for one image.

    Attributes
    ----------
    symbols, indexes : numpy.ndarray
        ``int64`` arrays shaped like ``y`` ``(1, M, h, w)``: quantised symbols and CDF indexes.
    mask : numpy.ndarray
        Boolean ``(h, w)`` foreground mask on the latent grid.
    importance : numpy.ndarray
        The latent-resolution importance map in [0, 1].
    z_strings : list of bytes
        Entropy-coded hyper-latent (side information).
    z_shape : tuple of int
        Spatial shape of ``z``.
    image_shape : tuple of int
        ``(H, W)`` before padding.
    """

    symbols: np.ndarray
    indexes: np.ndarray
    mask: np.ndarray
    importance: np.ndarray
    z_strings: list[bytes]
    z_shape: tuple[int, int]
    image_shape: tuple[int, int]

    def stream(self, foreground: bool) -> tuple[np.ndarray, np.ndarray]:
        """``(symbols, indexes)`` of the foreground (or background) positions, all channels."""
        sel = np.broadcast_to(self.mask if foreground else ~self.mask, self.symbols.shape)
        return self.symbols[sel], self.indexes[sel]

    def selection(self, foreground: bool) -> np.ndarray:
        """Boolean array shaped like ``y`` selecting that stream's elements."""
        return np.broadcast_to(self.mask if foreground else ~self.mask, self.symbols.shape)


class LatentSplitExtractor:
    """ScaleHyperprior latents split by an importance mask into foreground / background.

    Parameters
    ----------
    model : compressai.models.ScaleHyperprior
        Ready to code (``update()`` called).
    importance : str
        Method for :func:`semopt.profiling.importance.importance_map`.
    fg_fraction : float
        Fraction of latent positions assigned to the foreground stream, in (0, 1).
    importance_options : dict, optional
        Extra options for the importance method (e.g. local weights).
    """

    name = "hyperprior-latent-split"

    def __init__(self, model: Any, importance: str = "spectral-residual", fg_fraction: float = 0.25,
                 importance_options: Mapping[str, Any] | None = None) -> None:
        if not 0.0 < fg_fraction < 1.0:
            raise ValueError(f"fg_fraction: must be in (0, 1), got {fg_fraction}")
        self.model = model
        self.importance = importance
        self.fg_fraction = float(fg_fraction)
        self.importance_options = dict(importance_options or {})

    def extract(self, pixels: np.ndarray, **context: Any) -> LatentSplit:
        """Analyse one image: latents, hyper-latent, importance mask."""
        import torch

        from semopt.profiling.hyperprior import PAD_MULTIPLE, _pad, to_tensor
        from semopt.profiling.importance import importance_map

        x = to_tensor(pixels)
        h, w = x.shape[-2:]
        m = self.model
        xp = _pad(x)
        with torch.no_grad():
            y = m.g_a(xp)
            z = m.h_a(torch.abs(y))
            z_strings = m.entropy_bottleneck.compress(z)
            z_hat = m.entropy_bottleneck.decompress(z_strings, z.size()[-2:])
            indexes = m.gaussian_conditional.build_indexes(m.h_s(z_hat))
            symbols = m.gaussian_conditional.quantize(y, "symbols")
        factor = int(xp.shape[-1]) // int(y.shape[-1])
        imp = importance_map(np.asarray(pixels), self.importance, resolution="latent",
                             factor=factor, pad_multiple=PAD_MULTIPLE, **self.importance_options)
        if imp.shape != tuple(y.shape[-2:]):
            raise ValueError(f"importance map {imp.shape} does not match the latent grid "
                             f"{tuple(y.shape[-2:])}")
        n_fg = max(1, min(imp.size - 1, round(self.fg_fraction * imp.size)))
        order = np.argsort(-imp.ravel(), kind="stable")
        mask = np.zeros(imp.size, dtype=bool)
        mask[order[:n_fg]] = True
        return LatentSplit(symbols=symbols.numpy().astype(np.int64),
                           indexes=indexes.numpy().astype(np.int64),
                           mask=mask.reshape(imp.shape), importance=imp,
                           z_strings=list(z_strings), z_shape=tuple(z.shape[-2:]),
                           image_shape=(int(h), int(w)))
