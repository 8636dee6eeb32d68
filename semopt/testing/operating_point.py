"""Reference problems for ``operating-point`` selection and a brute-force ground truth.

:func:`illustrative_table` builds a synthetic multi-rate table (provenance
``illustrative``: the numbers come from a smooth monotone model, not from a measurement)
shaped like Guo et al.'s compression sweep: ``C ∈ {1, 2, 4, 8, 16}`` transmitted channels
of a 16×16 feature map (``128·C`` complex symbols, ``r = 0.0013·C``), PSNR/SSIM/CLIP
rising and LPIPS/FID falling with both C and SNR, on AWGN and Rayleigh channels.
:func:`brute_force_select` is a loop-per-point reference the vectorized methods must
match; :func:`reference_problems` returns the shared cases the conformance tests run
against every registered method, each with an independent ``check``
(:func:`check_selection`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from semopt.result import Allocation
from semopt.tables.operating_points import KNOWN_METRICS, OperatingPoint, OperatingPointTable
from semopt.testing import ReferenceProblem

__all__ = ["MODES", "brute_force_select", "check_selection", "illustrative_table",
           "reference_problems"]

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
    """Loop over points with ``np.interp``; returns ``{"point": name or None, "key": ...}``.

    ``mode`` is ``"cheapest"`` (key: cost, then the signed objective metric) or
    ``"best-within-budget"`` (key: signed objective metric, then cost); an unknown cost
    ranks as ``inf``; ties go to table order.
    """
    if mode not in MODES:
        raise ValueError(f"mode: must be one of {MODES}, got {mode!r}")
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


_CASES: list[dict[str, Any]] = [
    # call arguments, and the caps / targets they mean, written out independently of the
    # problem's parser (the check reads these, not the parser's output)
    {"snr": 6.0, "budget": None, "target": {"psnr": 20.0}, "channel": "awgn",
     "caps": {}, "targets": {"psnr": 20.0}},
    {"snr": 4.5, "budget": "1024 symbols", "target": "psnr>=18, lpips<=0.5", "channel": "awgn",
     "caps": {"symbols": 1024.0}, "targets": {"psnr": 18.0, "lpips": 0.5}},
    {"snr": 10.0, "budget": None, "target": {"lpips": 0.35}, "channel": "rayleigh",
     "caps": {}, "targets": {"lpips": 0.35}},
    {"snr": 0.0, "budget": "0.5 ms", "target": "ssim>=0.35", "channel": "awgn",
     "caps": {"latency_s": 0.5e-3}, "targets": {"ssim": 0.35}},
    {"snr": 12.0, "budget": 600, "target": None, "channel": "awgn",
     "caps": {"symbols": 600.0}, "targets": {}},
    {"snr": -3.0, "budget": None, "target": {"psnr": 40.0}, "channel": "awgn",  # infeasible
     "caps": {}, "targets": {"psnr": 40.0}},
    {"snr": 7.3, "budget": {"symbols": 2048, "latency_s": "1 ms"}, "target": {"clip": 0.65},
     "channel": "rayleigh", "caps": {"symbols": 2048.0, "latency_s": 1e-3},
     "targets": {"clip": 0.65}},
    {"snr": [0.0, 6.0, 12.0], "budget": "768 symbols", "target": "psnr>=18", "channel": "awgn",
     "caps": {"symbols": 768.0}, "targets": {"psnr": 18.0}},
    {"snr": [7.0, 9.0], "budget": None, "target": "psnr>=19.9", "channel": "awgn",
     "dataset": "lsun-churches", "table": "guo2025-tables-iii-iv", "caps": {},
     "targets": {"psnr": 19.9}},
]

MODES = ("cheapest", "best-within-budget")
"""Built-in methods; :func:`brute_force_select` takes their names as ``mode``."""


def check_selection(allocation: Allocation, *, table: OperatingPointTable, snr_db: Any,
                    channel: str, caps: Mapping[str, float], targets: Mapping[str, float],
                    dataset: str | None = None, rtol: float = 1e-9) -> list[str]:
    """Independent recheck of an ``operating-point`` result; returns the violations.

    For every successful row the chosen point (by name) is read from ``table`` again,
    its metrics interpolated with ``np.interp`` at the row's SNR, and every target and cap
    checked. For the built-in methods (:data:`MODES`) the choice and ``success`` must also
    equal :func:`brute_force_select` row by row.
    """
    out: list[str] = []
    snr = np.atleast_1d(np.asarray(snr_db, dtype=float)).ravel()
    success = np.atleast_1d(np.asarray(allocation.success)).ravel()
    names = np.atleast_1d(np.asarray(allocation.extras["point"], dtype=str)).ravel()
    if success.shape != snr.shape or names.shape != snr.shape:
        return [f"success / point shapes {success.shape}, {names.shape} != snr {snr.shape}"]
    mode = allocation.method if allocation.method in MODES else None
    cost = next(iter(caps)) if len(caps) == 1 else "symbols"
    pool = [p for p in table.points if channel in p.quality
            and (dataset is None or p.dataset == dataset)]
    reported = [m for m in table.metrics if all(m in p.quality[channel] for p in pool)]
    objective = next(iter(targets)) if len(targets) == 1 else (reported or list(table.metrics))[0]
    for row, (s, ok, name) in enumerate(zip(snr, success, names)):
        if ok:
            try:
                point = table.point(str(name))
            except ValueError:
                out.append(f"row {row}: chosen point {name!r} is not in table {table.name!r}")
                continue
            if dataset is not None and point.dataset != dataset:
                out.append(f"row {row}: point {name!r} is of dataset {point.dataset!r}")
            for metric, threshold in targets.items():
                value = float(np.interp(s, point.snr_db, point.quality[channel][metric]))
                higher = table.metrics[metric].higher_is_better
                slack = rtol * max(1.0, abs(threshold))
                if (value < threshold - slack) if higher else (value > threshold + slack):
                    out.append(f"row {row}: {name!r} has {metric} = {value:.9g} at {s:g} dB, "
                               f"target {'>=' if higher else '<='} {threshold:g}")
            for key, cap in caps.items():
                if not point.cost.get(key, math.nan) <= cap * (1 + rtol):
                    out.append(f"row {row}: {name!r} costs {key} = {point.cost.get(key)} > {cap:g}")
        if mode is not None:
            ref = brute_force_select(table, float(s), channel=channel, caps=caps, targets=targets,
                                     mode=mode, cost=cost, objective=objective, dataset=dataset)
            if (str(name) if ok else None) != ref["point"]:
                out.append(f"row {row}: {allocation.method} chose {name!r} (success={bool(ok)}), "
                           f"brute force {ref['point']!r}")
    return out


def reference_problems() -> list[ReferenceProblem]:
    """The shared ``operating-point`` cases (illustrative table, and the published Guo tables).

    Single SNRs and batches, symbol / latency / mixed caps, floors and ceilings, one
    infeasible case; each with a ``check`` (:func:`check_selection`) against the brute force.
    """
    out = []
    illustrative = illustrative_table()
    for k, case in enumerate(_CASES):
        table = illustrative if "table" not in case else _load(case["table"])
        options: dict[str, Any] = {"table": table if "table" not in case else case["table"],
                                   "channel": case["channel"]}
        if "dataset" in case:
            options["dataset"] = case["dataset"]
        feasible = [brute_force_select(table, float(s), channel=case["channel"], caps=case["caps"],
                                       targets=case["targets"], dataset=case.get("dataset"),
                                       cost=next(iter(case["caps"])) if len(case["caps"]) == 1
                                       else "symbols")["point"] is not None
                    for s in np.atleast_1d(case["snr"])]

        def check(allocation: Allocation, case: dict = case, table: Any = table) -> list[str]:
            return check_selection(allocation, table=table, snr_db=case["snr"],
                                   channel=case["channel"], caps=case["caps"],
                                   targets=case["targets"], dataset=case.get("dataset"))

        out.append(ReferenceProblem(
            name=f"{table.name}/{case['channel']}/case{k}", problem="operating-point",
            options=options, snr=case["snr"], budget=case["budget"], target=case["target"],
            check=check, expect_feasible=all(feasible) if all(feasible) or not any(feasible)
            else None))
    return out


def _load(name: str) -> OperatingPointTable:
    from semopt import tables

    loaded = tables.load(name)
    assert isinstance(loaded, OperatingPointTable)
    return loaded
