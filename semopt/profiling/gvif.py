"""GVIF measurement pipeline (Huang et al.) on compressai ``ScaleHyperprior`` source coders.

For one image x and one source coder Φ this module measures everything a GVIF table
stores (:mod:`semopt.tables.gvif`):

* θ = ``scales_hat = h_s(ẑ)``, the Gaussian-conditional standard deviations the real coder
  uses (ẑ through the entropy bottleneck's compress/decompress,
  :func:`semopt.profiling.hyperprior.latent_statistics`);
* the per-position GVIF terms ``info_bits_ij = Σ_c log2(1 + θ_ijc² / γ²)`` (eq. 27: with
  β = θᶜ/θʳ, β θʳ = θᶜ; the reference's terms give the denominator);
* the per-position rate terms ``y_bits_ij = Σ_c −log2 P(ŷ_ijc | ẑ)`` (eq. 5), the real
  entropy-coded size of ẑ, and on an α grid the real rANS size of only the *selected*
  ŷ elements (``P = {I_ij ≥ α}``; the receiver knows P from the run-length-coded mask, so
  unselected elements are not coded);
* on the α grid, the decoded filtered latents ``x̂ = g_s(ŷ ⊙ 1_P)`` (unselected elements
  set to 0, eq. 18): mask PSNR (eq. 40) over the pixels of P upsampled ×16, and MS-SSIM
  over the whole image; and the unfiltered MSE (eq. 12, α = 0).

:func:`image_gvif` is the direct, one-image form (θ tensors → :func:`semopt.metrics.gvif`).
Models must share one latent shape (β is elementwise): mismatches raise ``ValueError``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from semopt.metrics import DEFAULT_GAMMA2, gvif, run_length_bits
from semopt.profiling import hyperprior as hp

__all__ = ["LATENT_FACTOR", "image_gvif", "latent_importance", "measure_image", "pixel_mask"]

#: ScaleHyperprior's analysis transform downsamples by 16.
LATENT_FACTOR = 16


def latent_importance(pixels: np.ndarray, method: str = "spectral-residual", **options: Any) -> np.ndarray:
    """Importance map I on the latent grid ``(⌈H/64⌉·4, ⌈W/64⌉·4)`` in [0, 1]."""
    from semopt.profiling.importance import importance_map

    return np.asarray(importance_map(pixels, method=method, resolution="latent", factor=LATENT_FACTOR,
                                     pad_multiple=hp.PAD_MULTIPLE, **options), dtype=np.float64)


def pixel_mask(latent_mask: np.ndarray, image_shape: tuple[int, int]) -> np.ndarray:
    """Upsample a latent-grid mask ×16 (nearest) and crop to the image: the receiver's m̄."""
    m = np.repeat(np.repeat(np.asarray(latent_mask, dtype=bool), LATENT_FACTOR, axis=0),
                  LATENT_FACTOR, axis=1)
    return m[: image_shape[0], : image_shape[1]]


def _coder_tables(model: Any) -> tuple[list[Any], list[int], list[int]]:
    cache = getattr(model, "_semopt_cdf_lists", None)
    if cache is None:
        gc = model.gaussian_conditional
        cache = (gc._quantized_cdf.tolist(), gc._cdf_length.reshape(-1).int().tolist(),
                 gc._offset.reshape(-1).int().tolist())
        model._semopt_cdf_lists = cache
    return cache


def _msssim(reference: np.ndarray, output: np.ndarray) -> float:
    from semopt.profiling.metrics import MsssimMetric

    if min(reference.shape[:2]) <= 160:
        return float("nan")
    return 1.0 - MsssimMetric().distance(reference, output)


def measure_image(model: Any, pixels: np.ndarray, importance: np.ndarray, alpha_grid: Sequence[float],
                  *, gamma2: float = DEFAULT_GAMMA2, decode: bool = True,
                  batch: int = 16) -> dict[str, Any]:
    """Measure one (source coder, image) pair for a GVIF table.

    Parameters
    ----------
    model : compressai.models.ScaleHyperprior
        With CDFs built (:func:`semopt.profiling.hyperprior.load_model` does it).
    pixels : ndarray, uint8 ``(H, W, 3)``
    importance : ndarray ``(h, w)``
        I on the latent grid (:func:`latent_importance`).
    alpha_grid : sequence of float, length A
    gamma2 : float
        HVS noise variance γ².
    decode : bool
        Also decode the filtered latents on the grid (mask PSNR, MS-SSIM).
    batch : int
        Filtered latents decoded per ``g_s`` call.

    Returns
    -------
    dict
        ``info_bits`` and ``y_bits`` ``(h, w)``; ``z_bits`` (real coder), ``z_bits_likelihood``;
        ``coded_y_bits``, ``mask_bits``, ``mask_psnr_db``, ``msssim`` (length A);
        ``mse``/``psnr_db`` of the unfiltered reconstruction; ``latent_shape`` ``(C, h, w)``.
    """
    import torch

    pixels = np.asarray(getattr(pixels, "pixels", pixels))
    st = hp.latent_statistics(model, pixels)
    theta = st.scales_hat[0].double().numpy()                          # (C, h, w)
    imp = np.asarray(importance, dtype=np.float64)
    if imp.shape != theta.shape[1:]:
        raise ValueError(f"importance: shape {imp.shape} differs from the latent grid {theta.shape[1:]}")
    info = np.log2(1.0 + theta**2 / float(gamma2)).sum(axis=0)
    ybits = (-np.log2(st.y_likelihoods[0].double().numpy())).sum(axis=0)
    with torch.no_grad():
        z = model.h_a(torch.abs(st.y))
        _, z_lik = model.entropy_bottleneck(z, training=False)
    z_lik_bits = float(-torch.log2(z_lik).sum())
    gc = model.gaussian_conditional
    symbols = gc.quantize(st.y, "symbols")[0].int().numpy()
    indexes = gc.build_indexes(st.scales_hat)[0].int().numpy()
    cdf, cdf_len, offset = _coder_tables(model)
    alphas = np.asarray(alpha_grid, dtype=np.float64)
    masks = imp[None] >= alphas[:, None, None]                          # (A, h, w)
    coded = np.empty(alphas.size)
    for a, m in enumerate(masks):
        sel = np.broadcast_to(m, symbols.shape)
        if sel.any():
            s = gc.entropy_coder.encode_with_indexes(symbols[sel].tolist(), indexes[sel].tolist(),
                                                      cdf, cdf_len, offset)
            coded[a] = 8 * len(s)
        else:
            coded[a] = 0.0
    out: dict[str, Any] = {
        "latent_shape": list(theta.shape), "info_bits": info, "y_bits": ybits,
        "z_bits": int(st.z_bits), "z_bits_likelihood": z_lik_bits, "coded_y_bits": coded,
        "mask_bits": np.asarray(run_length_bits(masks), dtype=float),
    }
    if decode:
        h, w = st.image_shape
        y_hat = st.y_hat[0]
        ref = pixels.astype(np.float64)
        psnr = np.empty(alphas.size)
        ssim = np.empty(alphas.size)
        mse0 = float("nan")
        for start in range(0, alphas.size, batch):
            m = torch.from_numpy(masks[start:start + batch]).to(y_hat.dtype)
            with torch.no_grad():
                x_hat = model.g_s(y_hat[None] * m[:, None])[..., :h, :w].clamp(0, 1)
            rec = torch.round(x_hat * 255.0).permute(0, 2, 3, 1).numpy()
            for j in range(rec.shape[0]):
                a = start + j
                pm = pixel_mask(masks[a], (h, w))
                err = (rec[j] - ref) ** 2
                n = int(pm.sum()) * 3
                mse_m = float(err[pm].sum()) / n if n else float("nan")
                psnr[a] = float("inf") if mse_m == 0 else 10.0 * np.log10(255.0**2 / mse_m)
                ssim[a] = _msssim(pixels, rec[j].astype(np.uint8))
                if alphas[a] <= 0.0 or (a == 0 and masks[a].all()):
                    mse0 = float(err.mean())
        if not np.isfinite(mse0):
            with torch.no_grad():
                x_hat = model.g_s(y_hat[None])[..., :h, :w].clamp(0, 1)
            rec0 = torch.round(x_hat * 255.0)[0].permute(1, 2, 0).numpy()
            mse0 = float(((rec0 - ref) ** 2).mean())
        out.update({"mask_psnr_db": psnr, "msssim": ssim, "mse": mse0,
                    "psnr_db": float("inf") if mse0 == 0 else float(10 * np.log10(255.0**2 / mse0))})
    return out


def image_gvif(reference_model: Any, model: Any, pixels: np.ndarray, alpha: float = 0.0, *,
               importance: np.ndarray | None = None, method: str = "spectral-residual",
               gamma2: float = DEFAULT_GAMMA2) -> dict[str, float]:
    """GVIF (eq. 27–30) and rate of one image for one threshold α.

    Parameters
    ----------
    reference_model, model : ScaleHyperprior
        Φʳ (θʳ, eq. 28) and Φᶜ (θᶜ, eq. 29); they must share the latent shape.
    pixels : ndarray, uint8 ``(H, W, 3)``
    alpha : float
        Filtering threshold (P = {I_ij ≥ α}).
    importance : ndarray, optional
        I on the latent grid; computed with ``method`` when omitted.

    Returns
    -------
    dict
        ``gvif``, ``rate_bits`` (−log2 likelihood of the selected ŷ + ẑ bits + mask bits),
        ``mask_fraction``.
    """
    pixels = np.asarray(getattr(pixels, "pixels", pixels))
    st_r = hp.latent_statistics(reference_model, pixels)
    st_c = hp.latent_statistics(model, pixels)
    t_r = st_r.scales_hat[0].double().numpy()
    t_c = st_c.scales_hat[0].double().numpy()
    if t_r.shape != t_c.shape:
        raise ValueError(f"model: latent shape {t_c.shape} differs from the reference model's "
                         f"{t_r.shape}; GVIF needs source coders with one latent shape")
    imp = latent_importance(pixels, method) if importance is None else np.asarray(importance)
    mask = imp >= float(alpha)
    ybits = -np.log2(st_c.y_likelihoods[0].double().numpy())
    rate = float(ybits.sum(axis=0)[mask].sum()) + st_c.z_bits + run_length_bits(mask)
    return {"gvif": gvif(t_r, t_c, mask, gamma2), "rate_bits": rate, "mask_fraction": float(mask.mean())}
