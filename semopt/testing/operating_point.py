"""Reference problems for ``operating-point`` selection and a brute-force ground truth.

:func:`illustrative_table` builds a synthetic multi-rate table (provenance
``illustrative``: the numbers come from a smooth monotone model, not from a measurement)
shaped like Guo et al.'s compression sweep: ``C ∈ {1, 2, 4, 8, 16}`` transmitted channels
of a 16×16 feature map (``128·C`` complex symbols, ``r = 0.0013·C``), PSNR/SSIM/CLIP
rising and LPIPS/FID falling with both C and SNR, on AWGN and Rayleigh channels.
:func:`brute_force_select` is a loop-per-point reference the vectorized allocators must
match; :data:`REFERENCE_PROBLEMS` are shared cases the conformance tests run against every
registered method.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from semopt.tables.operating_points import KNOWN_METRICS, OperatingPoint, OperatingPointTable

__all__ = ["REFERENCE_PROBLEMS", "brute_force_select", "illustrative_table"]

CHANNELS_C = (1, 2, 4, 8, 16)
SNR_GRID_DB = (-3.0, 0.0, 3.0, 6.0, 9.0, 12.0, 15.0)
SYMBOL_RATE_HZ = 1e6


def _quality(c: int, snr_db: np.ndarray, shift_db: float) -> dict[str, list[float]]:
    s = 1.0 - np.exp(-(snr_db + shift_db + 6.0) / 7.0)  # saturating SNR response in (0, 1)
    capacity = math.log2(1 + c) / math.log2(17)  # 0.24 … 1
    psnr = 12.0 + 14.0 * capacity * s
    ssim = 0.25 + 0.6 * capacity * s
    clip = 0.45 + 0.45 * s * (0.6 + 0.4 * capacity)
    lpips = 0.85 - 0.7 * capacity * s
    fid = 20.0 + 230.0 * (1.0 - capacity * s) ** 2
    return {k: [round(float(x), 4) for x in v] for k, v in
            {"psnr": psnr, "ssim": ssim, "clip": clip, "lpips": lpips, "fid": fid}.items()}


def illustrative_table(name: str = "illustrative-compression-sweep") -> OperatingPointTable:
    """A synthetic, monotone multi-rate operating-point table (see the module docstring)."""
    grid = np.asarray(SNR_GRID_DB)
    points = []
    for c in CHANNELS_C:
        symbols = 128 * c
        points.append(OperatingPoint(
            name=f"C{c}", snr_db=grid,
            quality={"awgn": _quality(c, grid, 0.0), "rayleigh": _quality(c, grid, -6.0)},
            cost={"symbols": symbols, "bits": math.nan,
                  "latency_s": symbols / SYMBOL_RATE_HZ, "rate": 0.0013 * c},
            model="illustrative", dataset="synthetic", channels_c=c,
            source="semopt.testing.operating_point (illustrative model)"))
    return OperatingPointTable(
        points, name=name,
        description="Illustrative compression sweep (synthetic monotone model, NOT measured)",
        provenance={"source": "illustrative",
                    "model": "q = f(capacity(C) · (1 − exp(−(snr_dB + shift + 6)/7))), "
                             "Rayleigh shifted by −6 dB; see semopt/testing/operating_point.py"},
        metrics={m: KNOWN_METRICS[m] for m in ("psnr", "ssim", "clip", "lpips", "fid")},
        channels=["awgn", "rayleigh"],
        costs={"symbols": "complex channel symbols per image (128·C)",
               "bits": "not applicable (analog JSCC)",
               "latency_s": "symbols / 1 MHz symbol rate", "rate": "r = 0.0013·C"},
        diffusion={"schedule": "linear", "num_steps": 1000})


def brute_force_select(table: OperatingPointTable, snr_db: float, *, channel: str,
                       caps: Mapping[str, float], targets: Mapping[str, float],
                       mode: str = "cheapest", cost: str = "symbols",
                       objective: str = "psnr", dataset: str | None = None) -> dict[str, Any]:
    """Loop over points with ``np.interp``; returns ``{"point": name or None, ...}``."""
    best_key = None
    best_name = None
    for p in table.points:
        if dataset is not None and p.dataset != dataset:
            continue
        if channel not in p.quality:
            continue
        if any(not p.cost.get(k, math.nan) <= v for k, v in caps.items() if math.isfinite(v)):
            continue
        ok = True
        values = {}
        for metric in set(targets) | {objective}:
            v = float(np.interp(snr_db, p.snr_db, p.quality[channel][metric]))
            values[metric] = v
        for metric, thr in targets.items():
            higher = table.metrics[metric].higher_is_better
            if not (values[metric] >= thr if higher else values[metric] <= thr):
                ok = False
        if not ok:
            continue
        sign = -1.0 if table.metrics[objective].higher_is_better else 1.0
        c = p.cost.get(cost, math.nan)
        c = math.inf if math.isnan(c) else c
        key = (c, sign * values[objective]) if mode == "cheapest" else (sign * values[objective], c)
        if best_key is None or key < best_key:
            best_key, best_name = key, p.name
    return {"point": best_name, "key": best_key}


REFERENCE_PROBLEMS: list[dict[str, Any]] = [
    {"snr": 6.0, "budget": None, "target": {"psnr": 20.0}, "channel": "awgn"},
    {"snr": 4.5, "budget": "1024 symbols", "target": {"psnr": 18.0, "lpips": 0.5},
     "channel": "awgn"},
    {"snr": 10.0, "budget": None, "target": {"lpips": 0.3}, "channel": "rayleigh"},
    {"snr": 0.0, "budget": "0.5 ms", "target": {"ssim": 0.4}, "channel": "awgn"},
    {"snr": 12.0, "budget": 600, "target": None, "channel": "awgn"},
    {"snr": -3.0, "budget": None, "target": {"psnr": 40.0}, "channel": "awgn"},  # infeasible
    {"snr": 7.3, "budget": {"symbols": 2048, "latency_s": 0.001}, "target": {"clip": 0.7},
     "channel": "rayleigh"},
]
"""Shared cases (table: :func:`illustrative_table`)."""
