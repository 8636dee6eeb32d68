"""Reference problems for the ``gvif`` (max-fidelity) problem and a synthetic GVIF table.

:func:`synthetic_table` builds a small GVIF table (provenance ``illustrative``: random
smooth importance maps and log-normal hyperprior scales, not a measurement) with the
per-image arrays, shaped like the shipped one: ``P`` source coders with scales
``θᶜ = β_p θʳ`` (β ≤ 1, smaller for cheaper coders), rate terms from the Gaussian
entropy of each element, and distortions falling with the rate.
:func:`reference_problems` returns the shared cases (binding, slack, infeasible latency,
infeasible distortion, a batch; on the synthetic table and on the shipped one) that the
conformance tests run against every registered ``gvif`` method, each with an independent
:func:`check_allocation`: E[V], E[B] recomputed from the raw per-image arrays with
explicit masks (not the cached breakpoint curves the methods use).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy import ndimage

from semopt.metrics import run_length_bits
from semopt.result import Allocation
from semopt.tables.gvif import GvifModel, GvifTable
from semopt.testing import ReferenceProblem

__all__ = ["brute_force_shared_alpha", "check_allocation", "direct_expectation",
           "reference_problems", "synthetic_table"]


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


def direct_expectation(table: GvifTable, model: str | int,
                       alpha: float | np.ndarray) -> tuple[float, float]:
    """E[V] and E[B] by explicit masks on the raw per-image arrays (eq. 27, eq. 6 + mask).

    ``alpha`` is one shared threshold or one per image (N,). Independent of the table's
    cached sums: V_n = Σ_{I ≥ α_n} info_bits / Σ info_bits^ref,
    B_n = Σ_{I ≥ α_n} y_bits + z_bits + RLE(I ≥ α_n).
    """
    arr = table.per_image
    p = table.model_index(model)
    ref = table.model_index(table.reference_model)
    imp = np.asarray(arr["importance"], dtype=np.float64)
    thresholds = np.broadcast_to(np.asarray(alpha, dtype=float), (imp.shape[0],))
    mask = imp >= thresholds[:, None, None]
    info = np.asarray(arr["info_bits"][p], dtype=np.float64)
    v = (info * mask).sum(axis=(1, 2)) / np.asarray(arr["info_bits"][ref], dtype=np.float64).sum(axis=(1, 2))
    b = ((np.asarray(arr["y_bits"][p], dtype=np.float64) * mask).sum(axis=(1, 2))
         + np.asarray(arr["z_bits"][p], dtype=np.float64) + run_length_bits(mask))
    return float(v.mean()), float(b.mean())


def check_allocation(allocation: Allocation, table: GvifTable, snr_db: Any, budget_s: Any,
                     target: Any, *, bandwidth_hz: float = 1e6,
                     alpha_max: float | None = None) -> list[str]:
    """Independent recheck of a ``gvif`` result (empty list: consistent).

    For every row with a returned point: the objective, ``rate_bits`` and ``latency_s``
    equal E[V], E[B] and E[B]/(W log2(1 + snr)) recomputed by :func:`direct_expectation`;
    for every successful row also α ∈ [0, α_th], latency ≤ T_max and D(Φ) ≤ D_0; for every
    infeasible row with a returned point, its latency really exceeds T_max.
    """
    from semopt.problems.gvif import parse_distortion_target
    from semopt.units import parse_duration, parse_snr_db

    amax = table.alpha_max if alpha_max is None else alpha_max
    shape = allocation.batch_shape
    snr = np.broadcast_to(parse_snr_db(snr_db), shape).ravel()
    t_max = np.broadcast_to(np.asarray(parse_duration(budget_s), dtype=float), shape).ravel()
    d0 = np.broadcast_to(np.asarray(parse_distortion_target(target), dtype=float), shape).ravel()
    capacity = bandwidth_hz * np.log2(1.0 + 10.0 ** (snr / 10.0))

    def flat(value: Any) -> np.ndarray:
        return np.asarray(value).reshape(-1) if shape else np.asarray([value])

    success, status = flat(allocation.success), flat(allocation.status)
    model, alpha = flat(allocation.extras["model"]), flat(allocation.extras["alpha"])
    objective, latency = flat(allocation.objective), flat(allocation.latency_s)
    rate = flat(allocation.extras["rate_bits"])
    per_image = allocation.extras.get("alpha_per_image")
    per_image = None if per_image is None else np.asarray(per_image).reshape(-1, table.n_images)
    out: list[str] = []
    for row in range(success.size):
        if not model[row]:
            if success[row]:
                out.append(f"row {row}: success without a model")
            continue
        a = alpha[row] if per_image is None else per_image[row]
        v, b = direct_expectation(table, str(model[row]), a)
        lat = b / capacity[row]
        for name, got, want in (("objective", objective[row], v), ("rate_bits", rate[row], b),
                                ("latency_s", latency[row], lat)):
            if not np.isclose(got, want, rtol=1e-9, atol=1e-12):
                out.append(f"row {row}: {name} {got!r} != recomputed {want!r}")
        if success[row]:
            a_arr = np.atleast_1d(a)
            if np.any(a_arr < 0) or np.any(a_arr > amax * (1 + 1e-12)):
                out.append(f"row {row}: α outside [0, {amax}]")
            if lat > t_max[row] * (1 + 1e-9):
                out.append(f"row {row}: latency {lat:.9g} s exceeds T_max {t_max[row]:.9g} s")
            d = table.models[table.model_index(str(model[row]))].distortion_mse
            if d > d0[row]:
                out.append(f"row {row}: D(Φ) {d:.6g} exceeds D_0 {d0[row]:.6g}")
        elif status[row] == "infeasible" and lat <= t_max[row]:
            out.append(f"row {row}: reported infeasible but its point meets T_max ({lat:.6g} s)")
    return out


def reference_problems() -> list[ReferenceProblem]:
    """Shared ``gvif`` cases: the synthetic table (binding, slack, infeasible, a batch) and
    the shipped table at its feasible distortion range (26 dB) and beyond it (30 dB)."""
    from semopt import tables

    synthetic = synthetic_table()
    cases: list[tuple[str, GvifTable, Any, Any, Any, bool]] = [
        ("synthetic/binding-low-snr", synthetic, 0.0, 0.0004, None, True),
        ("synthetic/binding-mid-snr", synthetic, 6.0, 0.0004, None, True),
        ("synthetic/binding-distortion-cap", synthetic, 6.0, "0.4 ms", "28dB", True),
        ("synthetic/slack", synthetic, 20.0, 0.05, None, True),
        ("synthetic/infeasible-latency", synthetic, -10.0, 0.00002, None, False),
        ("synthetic/infeasible-distortion", synthetic, 10.0, 0.01, 1.0, False),
        ("synthetic/batch", synthetic, [2.0, 4.0, 9.0, 16.0], "0.4 ms", "26dB", True),
    ]
    try:
        shipped = tables.load("gvif-hyperprior-sample")
    except ValueError:  # pragma: no cover - the shipped table is part of the package
        shipped = None
    if shipped is not None:
        cases += [
            ("shipped/minus2dB-26dB", shipped, -2.0, "20 ms", "26dB", True),
            ("shipped/sweep-26dB", shipped, [-6.0, 0.0, 6.0, 12.0, 24.0], "20 ms", "26dB", True),
            ("shipped/paper-setting-30dB", shipped, -2.0, "20 ms", "30dB", False),
        ]
    out = []
    for name, table, snr, budget, target, feasible in cases:

        def check(allocation: Allocation, table: GvifTable = table, snr: Any = snr,
                  budget: Any = budget, target: Any = target) -> list[str]:
            return check_allocation(allocation, table, snr, budget, target)

        out.append(ReferenceProblem(name, "gvif", {"table": table}, snr, budget, target,
                                    check=check, expect_feasible=feasible))
    return out
