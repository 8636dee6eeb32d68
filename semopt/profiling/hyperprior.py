"""Build, load, save and measure compressai ``ScaleHyperprior`` models (Ballé et al. 2018).

Weights are plain ``state_dict`` files read with ``torch.load(weights_only=True)``: no
pickled code is ever executed. Shipped files store floating-point weights in float16
(except the entropy bottleneck and the Gaussian conditional's bounds, kept in float32);
:func:`load_model` casts back to float32 and calls ``model.update(force=True)`` so the real range coder works.

All rate numbers come from the real entropy coder: ``model.compress`` byte strings of
``y`` and ``z``. Images are padded (replicate) to a multiple of 64 before coding and the
reconstruction is cropped back; bits per pixel are counted over the *original* pixels.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import torch
    from compressai.models import ScaleHyperprior

__all__ = [
    "PAD_MULTIPLE",
    "SHIPPED_TABLE",
    "LatentStatistics",
    "RateDistortion",
    "build_model",
    "count_parameters",
    "file_sha256",
    "from_zoo",
    "latent_statistics",
    "load_model",
    "load_model_table",
    "load_table_model",
    "measure_rate_distortion",
    "save_model",
    "scales",
    "to_tensor",
]

#: Name of the shipped λ-sweep table in ``perception_tables/models``.
SHIPPED_TABLE = "hyperprior-sample"

#: ScaleHyperprior downsamples by 16 (g_a) x 4 (h_a): inputs must be multiples of 64.
PAD_MULTIPLE = 64


def _torch() -> Any:
    try:
        import torch
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "semopt.profiling.hyperprior needs torch and compressai: "
            "pip install 'semopt[profile]'"
        ) from exc
    return torch


def build_model(N: int = 64, M: int = 96) -> ScaleHyperprior:
    """A freshly initialised ``compressai.models.ScaleHyperprior(N, M)`` in eval mode."""
    _torch()
    from compressai.models import ScaleHyperprior

    if N <= 0 or M <= 0:
        raise ValueError(f"N and M must be positive, got N={N}, M={M}")
    return ScaleHyperprior(N, M).eval()


def count_parameters(model: torch.nn.Module) -> int:
    """Number of trainable parameters (entropy-bottleneck quantiles included)."""
    return int(sum(p.numel() for p in model.parameters()))


def file_sha256(path: str | Path) -> str:
    """``"sha256:<hex>"`` of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return "sha256:" + h.hexdigest()


def _is_derived(key: str) -> bool:
    # CDF tables: rebuilt by model.update() on load; stored as-is (never cast).
    return key.rsplit(".", 1)[-1] in {"_quantized_cdf", "_offset", "_cdf_length", "scale_table"}


def save_model(model: torch.nn.Module, path: str | Path, half: bool = True) -> str:
    """Save a plain ``state_dict`` atomically and return its sha256.

    Parameters
    ----------
    model : torch.nn.Module
        A ``ScaleHyperprior``.
    path : str or pathlib.Path
        Destination ``.pt`` file (written via a temporary file + rename).
    half : bool
        Store floating weights as float16 (the entropy bottleneck and the Gaussian
        conditional's constant bounds stay float32).

    Returns
    -------
    str
        ``"sha256:<hex>"`` of the written file.
    """
    torch = _torch()
    state = {}
    for key, value in model.state_dict().items():
        v = value.detach().cpu().clone()
        # the entropy models stay float32: float16 would turn the Gaussian conditional's
        # 1e-9 likelihood bound into 0 (infinite -log2 likelihood)
        if half and v.is_floating_point() and not _is_derived(key) \
                and not key.startswith(("entropy_bottleneck.", "gaussian_conditional.")):
            v = v.half()
        state[key] = v
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    torch.save(state, tmp)
    tmp.replace(path)
    return file_sha256(path)


def load_model(
    path: str | Path, expected_sha256: str | None = None, N: int | None = None,
    M: int | None = None,
) -> ScaleHyperprior:
    """Load a ``ScaleHyperprior`` from a local ``state_dict`` file, ready to entropy-code.

    Parameters
    ----------
    path : str or pathlib.Path
        ``.pt``/``.pth`` state dict (plain tensors; read with ``weights_only=True``).
        Both the float16 files written by :func:`save_model` and full compressai
        checkpoints (including CDF buffers) are accepted.
    expected_sha256 : str, optional
        ``"sha256:<hex>"`` (or bare hex); the file is rejected if it differs.
    N, M : int, optional
        Channel counts; inferred from the weights when omitted (and checked when given).

    Returns
    -------
    compressai.models.ScaleHyperprior
        float32, eval mode, ``update(force=True)`` already called.

    Raises
    ------
    FileNotFoundError, ValueError
        Missing file, checksum mismatch, or weights that are not a ScaleHyperprior.
    """
    torch = _torch()
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"model weights not found: {path}")
    if expected_sha256 is not None:
        want = expected_sha256.removeprefix("sha256:")
        got = file_sha256(path).removeprefix("sha256:")
        if got != want:
            raise ValueError(f"sha256 mismatch for {path}: expected {want}, got {got}")
    state = torch.load(path, map_location="cpu", weights_only=True)
    if isinstance(state, dict) and "state_dict" in state and isinstance(state["state_dict"], dict):
        state = state["state_dict"]
    if not isinstance(state, dict) or "g_a.0.weight" not in state or "g_a.6.weight" not in state:
        raise ValueError(f"{path} is not a ScaleHyperprior state_dict")
    n_inf, m_inf = int(state["g_a.0.weight"].shape[0]), int(state["g_a.6.weight"].shape[0])
    if (N is not None and N != n_inf) or (M is not None and M != m_inf):
        raise ValueError(f"{path}: weights have N={n_inf}, M={m_inf}; expected N={N}, M={M}")
    state = {k: (v.float() if v.is_floating_point() else v) for k, v in state.items()}
    model = build_model(n_inf, m_inf)
    missing, unexpected = model.load_state_dict(state, strict=False)
    missing = [k for k in missing if not _is_derived(k)]
    if missing or unexpected:
        raise ValueError(
            f"{path}: state_dict does not match ScaleHyperprior(N={n_inf}, M={m_inf}); "
            f"missing={missing[:5]}, unexpected={list(unexpected)[:5]}"
        )
    model.update(force=True)
    return model.eval()


def load_model_table(table: str | Path = SHIPPED_TABLE, verify: bool = True) -> dict[str, Any]:
    """Read a model-table JSON (shipped name or path) and check its weights files.

    Parameters
    ----------
    table : str or pathlib.Path
        A shipped table name (``"hyperprior-sample"``) or a path to a ``.json`` file; the
        weights files are resolved relative to the JSON's folder.
    verify : bool
        Check that every weights file exists and matches its recorded sha256.

    Returns
    -------
    dict
        The parsed table with an extra ``"_dir"`` key (the folder holding the weights).

    Raises
    ------
    FileNotFoundError, ValueError
        Missing table/weights, tampered weights, or mixed latent shapes.
    """
    import json

    path = Path(table)
    if not path.suffix:
        from importlib import resources

        path = Path(str(resources.files("perception_tables") / "models" / f"{table}.json"))
    if not path.is_file():
        raise FileNotFoundError(f"model table not found: {table!r} ({path})")
    data = json.loads(path.read_text())
    models = data.get("models")
    if not isinstance(models, list) or not models:
        raise ValueError(f"{path}: not a model table (no 'models' list)")
    shapes = {(m["N"], m["M"]) for m in models}
    if len(shapes) != 1:
        raise ValueError(f"{path}: models do not share one latent shape: {sorted(shapes)}")
    if verify:
        for m in models:
            w = path.parent / m["weights"]
            if not w.is_file():
                raise FileNotFoundError(f"{path}: weights file missing: {w}")
            if file_sha256(w) != m["sha256"]:
                raise ValueError(f"{path}: sha256 mismatch for {w} (file modified?)")
    data["_dir"] = str(path.parent)
    return data


def load_table_model(table: dict[str, Any] | str | Path, name: str) -> ScaleHyperprior:
    """Load model ``name`` (e.g. ``"hp-l0.0048"``) of a model table, checksum-verified."""
    data = table if isinstance(table, dict) else load_model_table(table, verify=False)
    for m in data["models"]:
        if m["name"] == name:
            return load_model(Path(data["_dir"]) / m["weights"], expected_sha256=m["sha256"],
                              N=m["N"], M=m["M"])
    raise KeyError(f"no model {name!r} in table; have {[m['name'] for m in data['models']]}")


def from_zoo(quality: int, pretrained: bool = True) -> ScaleHyperprior:
    """The compressai zoo ``bmshj2018_hyperprior(quality)`` (needs network or a warm cache).

    Parameters
    ----------
    quality : int
        1..8 (compressai's quality index; 1-5 have N=128, M=192; 6-8 N=192, M=320).
    pretrained : bool
        Download (or read torch-hub cached) MSE-trained weights.

    Raises
    ------
    RuntimeError
        Immediately, with advice, when ``HF_HUB_OFFLINE``/``SEMOPT_OFFLINE`` is set or the
        download fails (offline machine).
    """
    import os

    _torch()
    if not 1 <= int(quality) <= 8:
        raise ValueError(f"quality must be in 1..8, got {quality}")
    advice = (
        "compressai zoo weights could not be obtained (no network?). Download them on a "
        "machine with network (they are cached under ~/.cache/torch/hub/checkpoints) or "
        "train/ship local weights and use semopt.profiling.hyperprior.load_model(path)."
    )
    offline = any(
        os.environ.get(v, "").strip().lower() in {"1", "true", "yes", "on"}
        for v in ("SEMOPT_OFFLINE", "HF_HUB_OFFLINE")
    )
    if pretrained and offline and not _zoo_cached(int(quality)):
        raise RuntimeError(f"offline mode (HF_HUB_OFFLINE/SEMOPT_OFFLINE set): {advice}")
    from compressai.zoo import bmshj2018_hyperprior

    try:
        model = bmshj2018_hyperprior(int(quality), metric="mse", pretrained=pretrained)
    except Exception as exc:  # network errors come in many types (URLError, OSError, ...)
        raise RuntimeError(f"{advice} ({type(exc).__name__}: {exc})") from exc
    model.update(force=True)
    return model.eval()


def _zoo_cached(quality: int) -> bool:
    try:
        import torch
        from compressai.zoo.image import model_urls

        url = model_urls["bmshj2018-hyperprior"]["mse"][quality]
    except Exception:
        return False
    cache = Path(torch.hub.get_dir()) / "checkpoints" / url.rsplit("/", 1)[-1]
    return cache.is_file()


def to_tensor(pixels: np.ndarray) -> torch.Tensor:
    """``uint8 (H, W, 3)`` -> float32 ``(1, 3, H, W)`` in [0, 1]."""
    torch = _torch()
    arr = np.asarray(pixels)
    if arr.dtype != np.uint8 or arr.ndim != 3 or arr.shape[2] != 3:
        raise ValueError(f"expected a uint8 (H, W, 3) image, got {arr.dtype} {arr.shape}")
    return torch.from_numpy(np.array(arr, copy=True)).permute(2, 0, 1)[None].float() / 255.0


def _pad(x: torch.Tensor) -> torch.Tensor:
    import torch.nn.functional as F

    h, w = x.shape[-2:]
    ph, pw = (-h) % PAD_MULTIPLE, (-w) % PAD_MULTIPLE
    return F.pad(x, (0, pw, 0, ph), mode="replicate") if ph or pw else x


@dataclass(frozen=True)
class RateDistortion:
    """Rate--distortion of one model on a set of images (real entropy coder).

    Attributes
    ----------
    bpp : float
        Total bits / total pixels over all images (y + z strings, original pixel count).
    mse : float
        Mean squared error on the 0..255 scale, pooled over all pixels and channels.
    psnr : float
        ``10 log10(255^2 / mse)`` of the pooled MSE.
    per_image : list of dict
        ``name``, ``bits``, ``y_bits``, ``z_bits``, ``pixels``, ``bpp``, ``mse``, ``psnr``.
    """

    bpp: float
    mse: float
    psnr: float
    per_image: list[dict[str, Any]]


def _psnr(mse: float) -> float:
    return float("inf") if mse <= 0 else 10.0 * math.log10(255.0**2 / mse)


def measure_rate_distortion(
    model: torch.nn.Module, images: Iterable[Any], names: Sequence[str] | None = None
) -> RateDistortion:
    """Compress/decompress each image with the real coder and measure bpp, MSE, PSNR.

    Parameters
    ----------
    model : compressai.models.ScaleHyperprior
        A model whose CDFs are built (``update()`` called; :func:`load_model` does it).
    images : iterable
        ``uint8 (H, W, 3)`` arrays or objects with ``.pixels`` and ``.name``
        (:class:`semopt.profiling.images.NamedImage`).
    names : sequence of str, optional
        Names for plain arrays.

    Returns
    -------
    RateDistortion
        Reconstructions are rounded to uint8 before measuring MSE (what a receiver shows).
    """
    torch = _torch()
    model.eval()
    per_image: list[dict[str, Any]] = []
    tot_bits = tot_pix = 0
    tot_se = 0.0
    for k, item in enumerate(images):
        pixels = getattr(item, "pixels", item)
        name = getattr(item, "name", None) or (names[k] if names else f"image{k}")
        x = to_tensor(pixels)
        h, w = x.shape[-2:]
        with torch.no_grad():
            enc = model.compress(_pad(x))
            y_bits = 8 * sum(len(s) for s in enc["strings"][0])
            z_bits = 8 * sum(len(s) for s in enc["strings"][1])
            x_hat = model.decompress(enc["strings"], enc["shape"])["x_hat"][..., :h, :w]
        rec = torch.round(x_hat.clamp(0, 1) * 255.0)
        se = float(((rec - torch.round(x * 255.0)) ** 2).sum())
        n_pix = h * w
        mse = se / (3 * n_pix)
        per_image.append(
            {"name": name, "bits": y_bits + z_bits, "y_bits": y_bits, "z_bits": z_bits,
             "pixels": n_pix, "bpp": (y_bits + z_bits) / n_pix, "mse": mse, "psnr": _psnr(mse)}
        )
        tot_bits += y_bits + z_bits
        tot_pix += n_pix
        tot_se += se
    if not per_image:
        raise ValueError("no images given")
    mse = tot_se / (3 * tot_pix)
    return RateDistortion(tot_bits / tot_pix, mse, _psnr(mse), per_image)


@dataclass(frozen=True)
class LatentStatistics:
    """What the GVIF pipeline needs from one image (all tensors on CPU, batch of 1).

    Attributes
    ----------
    y : torch.Tensor
        Analysis latent ``g_a(x)``, shape ``(1, M, H/16, W/16)`` of the *padded* image.
    y_hat : torch.Tensor
        Quantised latent as coded (``round(y)``, no mean).
    scales_hat : torch.Tensor
        θ: the Gaussian-conditional scales ``h_s(ẑ)`` (same shape as ``y``).
    y_likelihoods : torch.Tensor
        Per-element likelihoods of ``y_hat`` under ``N(0, θ²)`` convolved with U(-½, ½)
        (lower-bounded as in compressai); ``-log2`` gives per-element bits.
    z_hat : torch.Tensor
        Decoded hyper-latent.
    z_bits : int
        Entropy-coded size of ẑ in bits (real coder).
    image_shape : tuple of int
        ``(H, W)`` before padding.
    """

    y: torch.Tensor
    y_hat: torch.Tensor
    scales_hat: torch.Tensor
    y_likelihoods: torch.Tensor
    z_hat: torch.Tensor
    z_bits: int
    image_shape: tuple[int, int]


def latent_statistics(model: torch.nn.Module, pixels: Any) -> LatentStatistics:
    """Encoder-side latents and θ of one image, exactly as the real coder sees them.

    ``ẑ`` is obtained through the entropy bottleneck's compress/decompress, so
    ``scales_hat`` equals what the receiver reconstructs.
    """
    torch = _torch()
    pixels = getattr(pixels, "pixels", pixels)
    x = to_tensor(pixels)
    h, w = x.shape[-2:]
    model.eval()
    with torch.no_grad():
        y = model.g_a(_pad(x))
        z = model.h_a(torch.abs(y))
        z_strings = model.entropy_bottleneck.compress(z)
        z_hat = model.entropy_bottleneck.decompress(z_strings, z.size()[-2:])
        scales_hat = model.h_s(z_hat)
        y_hat = model.gaussian_conditional.quantize(y, "dequantize")
        y_lik = model.gaussian_conditional._likelihood(y_hat, scales_hat)
        if model.gaussian_conditional.use_likelihood_bound:
            y_lik = model.gaussian_conditional.likelihood_lower_bound(y_lik)
    return LatentStatistics(
        y=y, y_hat=y_hat, scales_hat=scales_hat, y_likelihoods=y_lik, z_hat=z_hat,
        z_bits=8 * sum(len(s) for s in z_strings), image_shape=(int(h), int(w)),
    )


def scales(model: torch.nn.Module, pixels: Any) -> torch.Tensor:
    """θ for one image: the hyperprior scales ``h_s(ẑ)``, shape ``(1, M, ⌈H/64⌉·4, ⌈W/64⌉·4)``."""
    return latent_statistics(model, pixels).scales_hat
