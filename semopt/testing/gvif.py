"""Reference problems for the ``gvif`` (max-fidelity) problem and a synthetic GVIF table.

:func:`synthetic_table` builds a small GVIF table (provenance ``illustrative``: random
smooth importance maps and log-normal hyperprior scales, not a measurement) with the
per-image arrays, shaped like the shipped one: ``P`` source coders with scales
``θᶜ = β_p θʳ`` (β ≤ 1, smaller for cheaper coders), rate terms from the Gaussian
entropy of each element, and distortions falling with the rate. :data:`REFERENCE_PROBLEMS`
are ``(snr_db, budget_s, target)`` cases, each labelled binding / slack / infeasible,
that the conformance tests run against every registered ``gvif`` method.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import ndimage

from semopt.tables.gvif import GvifModel, GvifTable

__all__ = ["REFERENCE_PROBLEMS", "brute_force_shared_alpha", "synthetic_table"]


def synthetic_table(n_images: int = 12, n_models: int = 4, shape: tuple[int, int, int] = (8, 12, 12),
                    seed: int = 0, alpha_step: float = 0.02, alpha_max: float = 0.8,
                    gamma2: float = 0.1) -> GvifTable:
    """A synthetic GVIF table with per-image arrays (see the module docstring)."""
    rng = np.random.default_rng(seed)
    c, h, w = shape
    imp = ndimage.gaussian_filter(rng.random((n_images, h, w)), sigma=(0, 1.5, 1.5))
    lo = imp.min(axis=(1, 2), keepdims=True)
    hi = imp.max(axis=(1, 2), keepdims=True)
    imp = (imp - lo) / (hi - lo)
    # Reference scales: larger where the image is important (objects carry information).
    theta_ref = np.exp(rng.normal(0.0, 0.8, size=(n_images, c, h, w))) * (0.4 + 1.6 * imp[:, None])
    shrink = np.linspace(1.0, 0.35, n_models)                       # model 0 = reference
    info, ybits, zbits, mse = [], [], [], []
    for p in range(n_models):
        beta = np.clip(shrink[p] * rng.uniform(0.85, 1.0, size=theta_ref.shape), 0, 1)
        if p == 0:
            beta = np.ones_like(theta_ref)
        theta = beta * theta_ref
        info.append(np.log2(1.0 + theta**2 / gamma2).sum(axis=1))
        # Entropy of a unit-step quantised N(0, θ²) ≈ max(0.02, log2(θ √(2πe))).
        ybits.append(np.maximum(0.02, np.log2(theta * math.sqrt(2 * math.pi * math.e))).sum(axis=1))
        zbits.append(rng.uniform(150, 250, size=n_images) * (1.2 - 0.4 * p / max(1, n_models - 1)))
        mse.append(rng.uniform(0.9, 1.1, size=n_images) * 20.0 * (1.0 + 3.0 * p))
    per_image = {"importance": imp.astype(np.float32),
                 "info_bits": np.asarray(info, dtype=np.float32),
                 "y_bits": np.asarray(ybits, dtype=np.float32),
                 "z_bits": np.asarray(zbits, dtype=np.float32),
                 "distortion_mse": np.asarray(mse, dtype=np.float32)}
    d = per_image["distortion_mse"].mean(axis=1)
    models = [GvifModel(name=f"syn-{p}", distortion_mse=float(d[p]),
                        psnr_db=10 * math.log10(255**2 / float(d[p]))) for p in range(n_models)]
    grid = np.round(np.arange(0.0, alpha_max + 1e-9, alpha_step), 10)
    return GvifTable.from_arrays(
        models, grid, per_image, gamma2=gamma2, alpha_max=alpha_max,
        importance_method="synthetic", images=[f"img{k}" for k in range(n_images)],
        latent_shape=shape, curve_units={"gvif": "", "rate_bits": "bits per image"},
        name="synthetic-gvif",
        description="Synthetic GVIF table (random smooth importance, log-normal scales; NOT measured)",
        provenance={"source": "illustrative", "generator": "semopt.testing.gvif.synthetic_table",
                    "seed": seed})


def brute_force_shared_alpha(table: GvifTable, snr_db: float, budget_s: float, d0_mse: float,
                             bandwidth_hz: float = 1e6, alpha_max: float | None = None,
                             n_alpha: int = 4001) -> tuple[float, str | None, float]:
    """Dense-α ground truth for one shared α: ``(best E[V], model, α)``, model ``None`` if infeasible."""
    amax = table.alpha_max if alpha_max is None else alpha_max
    cap = budget_s * bandwidth_hz * math.log2(1 + 10 ** (snr_db / 10))
    best: tuple[float, str | None, float] = (-math.inf, None, math.nan)
    alphas = np.linspace(0.0, amax, n_alpha)
    for m in table.models:
        if m.distortion_mse > d0_mse:
            continue
        for a in alphas:
            v, b = table.expected(m.name, a)
            if b <= cap and v > best[0]:
                best = (v, m.name, float(a))
    return best


#: ``(label, snr_db, budget_s, target)`` on :func:`synthetic_table` with defaults.
REFERENCE_PROBLEMS = [
    ("binding-low-snr", 0.0, 0.0004, None),
    ("binding-mid-snr", 6.0, 0.0004, None),
    ("binding-distortion-cap", 6.0, 0.0004, "28dB"),
    ("slack", 20.0, 0.05, None),
    ("infeasible-latency", -10.0, 0.00002, None),
    ("infeasible-distortion", 10.0, 0.01, 1.0),
]
