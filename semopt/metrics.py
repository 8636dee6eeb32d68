"""Fidelity metrics on plain arrays (numpy only): GVIF, filtering masks, run-length bits.

The generative visual information fidelity of Huang et al. (eq. 27, Proposition 4.1)
compares the information a human-visual-system channel (additive Gaussian noise of
variance γ²) extracts from the *delivered* latent elements with what it extracts from the
reference latent::

                Σ_{(i,j,c) ∈ P} log2(1 + (β_ijc θʳ_ijc)² / γ²)
    V(β, P) =  ---------------------------------------------- ,   β = θᶜ / θʳ (eq. 30),
                Σ_{(i,j,c) ∈ U} log2(1 + (θʳ_ijc)² / γ²)

θʳ and θᶜ are the hyperprior scales (standard deviations of the Gaussian conditional,
eq. 28/29) of the reference and of the operating source coder for the same image, U is
every latent element and P = {(i, j, c) : I_ij ≥ α} the semantic filtering set (eq. 17).
Since β θʳ = θᶜ the numerator only needs θᶜ; :func:`gvif` still takes both tensors so the
shapes are checked and the elementwise β bound of eq. 21 can be applied (``beta_max``).

Nothing here imports torch: the profiling code produces the arrays, the allocators and
tables consume them.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike

__all__ = [
    "DEFAULT_GAMMA2",
    "filter_mask",
    "gvif",
    "gvif_curve",
    "information_bits",
    "latency_s",
    "mask_psnr_db",
    "run_length_bits",
]

#: Variance of the HVS noise γ² (Huang et al. §VI-A, after Sheikh & Bovik).
DEFAULT_GAMMA2 = 0.1


def _check_gamma2(gamma2: float) -> float:
    g = float(gamma2)
    if not math.isfinite(g) or g <= 0:
        raise ValueError(f"gamma2: must be a positive finite variance, got {gamma2!r}")
    return g


def _as_scales(values: ArrayLike, name: str) -> np.ndarray:
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim == 0:
        raise ValueError(f"{name}: expected an array of scales, got a scalar")
    if np.any(~np.isfinite(arr)) or np.any(arr < 0):
        raise ValueError(f"{name}: scales must be finite and non-negative")
    return arr


def _spatial_mask(mask: ArrayLike, shape: tuple[int, ...], name: str = "mask") -> np.ndarray:
    m = np.asarray(mask)
    if m.dtype != np.bool_:
        if not np.all(np.isin(m, (0, 1))):
            raise ValueError(f"{name}: expected a boolean (or 0/1) array")
        m = m.astype(bool)
    if m.shape == shape:
        return m
    if len(shape) >= 2 and m.shape == shape[-2:]:
        return np.broadcast_to(m, shape)
    raise ValueError(f"{name}: shape {m.shape} matches neither the latent shape {shape} nor its "
                     f"spatial grid {shape[-2:]}")


def information_bits(theta: ArrayLike, gamma2: float = DEFAULT_GAMMA2) -> np.ndarray:
    """Elementwise ``log2(1 + θ² / γ²)``: twice the HVS-channel mutual information (eq. 41).

    Parameters
    ----------
    theta : array_like
        Hyperprior scales (standard deviations), any shape, non-negative.
    gamma2 : float
        HVS noise variance γ² (default 0.1).
    """
    g = _check_gamma2(gamma2)
    t = _as_scales(theta, "theta")
    return np.log2(1.0 + t * t / g)


def gvif(theta_ref: ArrayLike, theta: ArrayLike, mask: ArrayLike, gamma2: float = DEFAULT_GAMMA2, *,
         beta_max: float | None = None) -> float:
    """Generative visual information fidelity of one image (Huang et al. eq. 27).

    Computes::

        V = Σ_P log2(1 + (β θʳ)² / γ²) / Σ_U log2(1 + (θʳ)² / γ²),   β = θ / θʳ,

    where ``P`` is the set of elements where ``mask`` is true and ``U`` all elements.
    ``V = 1`` for a full mask and ``θ = θʳ``; ``V = 0`` for an empty mask.

    Parameters
    ----------
    theta_ref : array_like, shape ``S``
        θʳ, the scales of the reference (least-distortion) source coder, e.g. ``(C, H, W)``.
    theta : array_like, shape ``S``
        θᶜ, the scales of the operating source coder for the same image.
    mask : array_like of bool, shape ``S`` or ``S[-2:]``
        The filtering set P; a spatial ``(H, W)`` mask applies to every channel (eq. 17).
    gamma2 : float
        HVS noise variance γ² (default 0.1).
    beta_max : float, optional
        Clip β = θ/θʳ to ``[0, beta_max]`` (eq. 21 states 0 < β ≤ 1; pass 1.0 to enforce it).
        Default: no clipping, the literal eq. 27 (β > 1 can give V > 1).

    Returns
    -------
    float
        V ≥ 0 (≤ 1 whenever β ≤ 1 elementwise).

    Raises
    ------
    ValueError
        Mismatched shapes of ``theta_ref``/``theta``/``mask``, negative or non-finite scales,
        a non-positive γ², or an all-zero reference (the denominator vanishes).
    """
    t_ref = _as_scales(theta_ref, "theta_ref")
    t = _as_scales(theta, "theta")
    if t.shape != t_ref.shape:
        raise ValueError(f"theta: shape {t.shape} differs from theta_ref {t_ref.shape}; GVIF compares "
                         "the same latent elements, so both source coders must share the latent shape")
    m = _spatial_mask(mask, t.shape)
    g = _check_gamma2(gamma2)
    den = float(np.sum(np.log2(1.0 + t_ref * t_ref / g)))
    if den <= 0:
        raise ValueError("theta_ref: all reference scales are zero, GVIF is undefined")
    if beta_max is not None:
        with np.errstate(divide="ignore", invalid="ignore"):
            beta = np.where(t_ref > 0, t / np.where(t_ref > 0, t_ref, 1.0), 0.0)
        t = np.clip(beta, 0.0, float(beta_max)) * t_ref
    num = float(np.sum(np.log2(1.0 + t * t / g), where=m))
    return num / den


def filter_mask(importance: ArrayLike, alpha: float | ArrayLike) -> np.ndarray:
    """Spatial filtering mask ``I ≥ α`` (eq. 17).

    Parameters
    ----------
    importance : array_like, shape ``(..., H, W)``
        Importance map I in [0, 1].
    alpha : float or array_like, shape ``(A,)``
        Threshold(s); an array adds a leading axis: ``(A, ..., H, W)``.
    """
    imp = np.asarray(importance, dtype=np.float64)
    a = np.asarray(alpha, dtype=np.float64)
    if a.ndim == 0:
        return imp >= a
    return imp[None] >= a.reshape((-1,) + (1,) * imp.ndim)


def gvif_curve(importance: ArrayLike, info_bits: ArrayLike, ref_info_bits: float | ArrayLike,
               alphas: ArrayLike) -> np.ndarray:
    """GVIF of one or many images for many thresholds α at once.

    With per-position information ``w_ij = Σ_c log2(1 + θᶜ_ijc² / γ²)`` and the reference
    total ``W = Σ_U log2(1 + θʳ² / γ²)``, ``V(α) = Σ_{I_ij ≥ α} w_ij / W`` — eq. 27 with the
    spatial filtering set of eq. 17.

    Parameters
    ----------
    importance : array_like, shape ``(..., H, W)``
    info_bits : array_like, shape ``(..., H, W)``
        ``w_ij`` (channels already summed).
    ref_info_bits : float or array_like, shape ``(...)``
        ``W`` per image.
    alphas : array_like, shape ``(A,)``

    Returns
    -------
    ndarray, shape ``(..., A)``
    """
    imp = np.asarray(importance, dtype=np.float64)
    w = np.asarray(info_bits, dtype=np.float64)
    if imp.shape != w.shape:
        raise ValueError(f"info_bits: shape {w.shape} differs from importance {imp.shape}")
    a = np.atleast_1d(np.asarray(alphas, dtype=np.float64))
    sel = imp[..., None, :, :] >= a[:, None, None]
    num = np.sum(np.where(sel, w[..., None, :, :], 0.0), axis=(-2, -1))
    return num / np.asarray(ref_info_bits, dtype=np.float64)[..., None]


def _elias_gamma_bits(n: np.ndarray) -> np.ndarray:
    # 2·floor(log2 n) + 1 bits for a positive integer n.
    return 2 * np.floor(np.log2(np.maximum(n, 1))).astype(np.int64) + 1


def run_length_bits(mask: ArrayLike) -> int | np.ndarray:
    """Bits of the run-length code of a binary mask (§III-C side information).

    The mask is read in raster order; the code is one bit for the first value followed by
    every run length in the Elias-γ code (``2⌊log2 n⌋ + 1`` bits for a run of ``n``). The
    mask shape is known to the receiver from ẑ, so it is not sent.

    Parameters
    ----------
    mask : array_like of bool, shape ``(..., H, W)``
        One mask, or a batch (leading axes) of masks.

    Returns
    -------
    int or ndarray of int
        Bits per mask.
    """
    m = np.asarray(mask, dtype=bool)
    if m.ndim < 2:
        raise ValueError(f"mask: expected an (H, W) array or a batch of them, got shape {m.shape}")
    batch = m.shape[:-2]
    flat = m.reshape(-1, m.shape[-2] * m.shape[-1])
    rows, n = flat.shape
    if rows == 0 or n == 0:
        return np.zeros(batch, dtype=np.int64) if batch else 1
    # A run starts at every row start and wherever the value changes; runs never cross rows.
    start = np.ones_like(flat)
    start[:, 1:] = flat[:, 1:] != flat[:, :-1]
    first = np.flatnonzero(start.ravel())
    lengths = np.diff(np.append(first, flat.size))
    bits = _elias_gamma_bits(lengths)
    row_first = np.searchsorted(first, np.arange(rows) * n)
    out = 1 + np.add.reduceat(bits, row_first)
    return int(out[0]) if not batch else out.reshape(batch)


def mask_psnr_db(reference: ArrayLike, output: ArrayLike, mask: ArrayLike,
                 peak: float = 255.0) -> float:
    """Mask PSNR (eq. 40): ``10 log10(peak² / MSE over the masked pixels)``.

    Parameters
    ----------
    reference, output : array_like, shape ``(H, W, 3)`` (or ``(H, W)``)
    mask : array_like of bool, shape ``(H, W)`` or the image shape
    peak : float
        Peak value (255 for 8-bit images).

    Returns
    -------
    float
        ``inf`` for identical masked pixels; ``nan`` for an empty mask.
    """
    a = np.asarray(reference, dtype=np.float64)
    b = np.asarray(output, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"output: shape {b.shape} differs from reference {a.shape}")
    m = np.asarray(mask, dtype=bool)
    if m.shape == a.shape[:2] and a.ndim == 3:
        m = np.broadcast_to(m[..., None], a.shape)
    if m.shape != a.shape:
        raise ValueError(f"mask: shape {m.shape} matches neither the image {a.shape} nor {a.shape[:2]}")
    count = int(m.sum())
    if count == 0:
        return math.nan
    mse = float(np.sum((a - b) ** 2, where=m)) / count
    return math.inf if mse == 0 else 10.0 * math.log10(peak * peak / mse)


def latency_s(rate_bits: ArrayLike, snr_db: ArrayLike, bandwidth_hz: float = 1e6) -> np.ndarray:
    """Transmission latency ``T = R / (B log2(1 + snr))`` (eq. 8) in seconds."""
    snr = np.power(10.0, np.asarray(snr_db, dtype=np.float64) / 10.0)
    return np.asarray(rate_bits, dtype=np.float64) / (float(bandwidth_hz) * np.log2(1.0 + snr))
