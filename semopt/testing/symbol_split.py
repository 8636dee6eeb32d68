"""Reference problems, a brute-force ground truth and an independent recheck for ``symbol-split``.

:func:`illustrative_table` builds a small synthetic symbol-split table (provenance
``illustrative``: a smooth model with a convex start, so that its Pareto fronts are not
concave and some optima lie off the hull; not measured) with a higher-is-better
(``psnr``) and a lower-is-better (``lpips``) metric. :func:`brute_force` enumerates the
candidates with plain loops (its own cost and ``E[Q]`` arithmetic from the table's
levels, bits, quality and delivery probability), :func:`equal_split_reference` is a loop
version of the ``equal-split`` rule, and :func:`check_split` rechecks a result row by row
against both. :func:`reference_problems` returns the shared cases the conformance suite
runs against every registered method.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from semopt.link.gened import digital_symbols, get_mcs
from semopt.result import Allocation
from semopt.tables.symbol_split import SymbolSplitTable
from semopt.testing import ReferenceProblem

__all__ = ["EXACT_METHODS", "brute_force", "check_split", "equal_split_reference",
           "illustrative_table", "reference_problems"]

EXACT_METHODS = ("exhaustive", "pareto")
"""Built-in methods that must equal :func:`brute_force`."""
RTOL = 1e-9


def illustrative_table(name: str = "illustrative-symbol-split") -> SymbolSplitTable:
    """A synthetic 5 × 4 level table with ``psnr`` (dB) and ``lpips`` (see the module docstring)."""
    bits_f = np.array([0.0, 400.0, 1200.0, 3000.0, 7000.0])
    bits_b = np.array([0.0, 600.0, 2000.0, 6000.0])
    rf = bits_f[:, None] / 1000.0
    rb = bits_b[None, :] / 1000.0
    grow_f = 1.0 - np.exp(-rf / 2.0)
    grow_b = (rb / (rb + 1.5)) ** 2                        # convex start: non-concave fronts
    psnr_lost = 12.0 + 6.0 * grow_f + 8.0 * grow_b
    lpips_lost = 0.8 - 0.3 * grow_f - 0.35 * grow_b
    editor = np.exp(-rb) * np.ones_like(rf)
    quality = {
        "psnr": {"mean": np.stack([psnr_lost, psnr_lost + 3.0 * editor], axis=-1),
                 "stderr": np.full((5, 4, 2), 0.1)},
        "lpips": {"mean": np.stack([lpips_lost, lpips_lost - 0.1 * editor], axis=-1),
                  "stderr": np.full((5, 4, 2), 0.01)},
    }
    steps = [None, 8.0, 4.0, 2.0, 1.0]
    return SymbolSplitTable(
        foreground_levels=[{"name": "off" if s is None else f"step-{s:g}", "step": s} for s in steps],
        background_levels=[{"name": "off" if s is None else f"step-{s:g}", "step": s}
                           for s in steps[:4]],
        metrics={"psnr": {"direction": "higher", "unit": "dB", "description": "illustrative"},
                 "lpips": {"direction": "lower", "unit": "", "description": "illustrative"}},
        quality=quality, bits={"foreground": bits_f, "background": bits_b, "side": 300.0,
                               "prompt": 400.0},
        visual_mcs="16qam-1/2", prompt_mcs="16qam-1/2", images=["synthetic"],
        pixels_per_image=65536, name=name,
        description="Illustrative symbol-split table (synthetic model, NOT measured)",
        provenance={"source": "illustrative",
                    "model": "psnr/lpips from saturating rate terms with a convex background "
                             "start; see semopt/testing/symbol_split.py"})


def _costs(table: SymbolSplitTable, mcs: str | None) -> tuple[list[float], list[float], float, float]:
    """Mean symbols per level (fg, bg), side and prompt, from the bits (per image when stored)."""
    vm = table.visual_mcs if mcs is None else get_mcs(mcs)
    if table.per_image is not None:
        arr = table.per_image
        fg = [float(np.mean(digital_symbols(arr["foreground_bits"][:, k], vm)))
              for k in range(table.shape[0])]
        bg = [float(np.mean(digital_symbols(arr["background_bits"][:, k], vm)))
              for k in range(table.shape[1])]
        side = float(np.mean(digital_symbols(arr["side_bits"], vm)))
        prompt = float(np.mean(digital_symbols(arr["prompt_bits"], table.prompt_mcs)))
    else:
        fg = [float(digital_symbols(round(v), vm)) for v in table.bits["foreground"]]
        bg = [float(digital_symbols(round(v), vm)) for v in table.bits["background"]]
        side = float(digital_symbols(round(table.side_bits), vm))
        prompt = float(digital_symbols(round(table.prompt_bits), table.prompt_mcs))
    return fg, bg, side, prompt


def _candidates(table: SymbolSplitTable, metric: str, snr_db: float, *, mcs: str | None,
                capacity: str, fitted: bool, prompt: str) -> list[tuple[int, int, bool, float, float]]:
    """Every allowed (i, j, sent, symbols, E[Q]) with plain loops."""
    fg, bg, side, prompt_sym = _costs(table, mcs)
    p = float(table.delivery_probability(snr_db, capacity=capacity))
    q_d = table.quality(metric, "delivered", fitted=fitted)
    q_l = table.quality(metric, "lost", fitted=fitted)
    out = []
    for i, lf in enumerate(table.levels["foreground"]):
        for j, lb in enumerate(table.levels["background"]):
            for sent in (False, True):
                if (prompt == "always" and not sent) or (prompt == "never" and sent):
                    continue
                symbols = fg[i] + bg[j] + (side if (lf.sent or lb.sent) else 0.0) \
                    + (prompt_sym if sent else 0.0)
                quality = p * q_d[i, j] + (1.0 - p) * q_l[i, j] if sent else q_l[i, j]
                out.append((i, j, sent, symbols, float(quality)))
    return out


def brute_force(table: SymbolSplitTable, snr_db: float, budget: float, target: float | None, *,
                metric: str, mcs: str | None = None, capacity: str = "gaussian",
                fitted: bool = True, prompt: str = "optional") -> dict[str, Any]:
    """The optimum by enumeration: ``{"symbols", "quality", "levels"}`` (None values if none).

    Fewest symbols meeting ``target`` within ``budget`` (ties: better quality), or, with
    ``target=None``, the best quality within ``budget`` (ties: fewer symbols).
    """
    sign = 1.0 if table.higher_is_better(metric) else -1.0
    best: tuple[float, float] | None = None
    choice = None
    for i, j, sent, symbols, quality in _candidates(table, metric, snr_db, mcs=mcs,
                                                     capacity=capacity, fitted=fitted,
                                                     prompt=prompt):
        if symbols > budget:
            continue
        if target is not None and not sign * quality >= sign * target:
            continue
        key = (symbols, -sign * quality) if target is not None else (-sign * quality, symbols)
        if best is None or key < best:
            best, choice = key, (i, j, sent, symbols, quality)
    if choice is None:
        return {"symbols": None, "quality": None, "levels": None}
    return {"symbols": choice[3], "quality": choice[4], "levels": choice[:3]}


def equal_split_reference(table: SymbolSplitTable, snr_db: float, budget: float,
                          target: float | None, *, metric: str, mcs: str | None = None,
                          capacity: str = "gaussian", fitted: bool = True,
                          prompt: str = "optional", prompt_rule: str = "first") -> dict[str, Any]:
    """The ``equal-split`` rule with loops (see :class:`EqualSplitMethod`), same return as
    :func:`brute_force`.

    With a target the rule is evaluated at every budget where it can change (whole
    symbol sums) in increasing order up to ``budget``.
    """
    fg, bg, side, prompt_sym = _costs(table, mcs)
    sign = 1.0 if table.higher_is_better(metric) else -1.0
    p = float(table.delivery_probability(snr_db, capacity=capacity))
    q_d = table.quality(metric, "delivered", fitted=fitted)
    q_l = table.quality(metric, "lost", fitted=fitted)
    off = (not table.levels["foreground"][0].sent) and (not table.levels["background"][0].sent)

    def rule(beta: float, sent: bool) -> tuple[int, int, bool, float, float] | None:
        base = prompt_sym if sent else 0.0
        if beta < base:
            return None
        half = (beta - base - side) / 2.0
        if half < 0:
            if not off:
                return None
            i = j = 0
        else:
            fits_f = [k for k, v in enumerate(fg) if v <= half]
            fits_b = [k for k, v in enumerate(bg) if v <= half]
            if not fits_f or not fits_b:
                return None
            i, j = fits_f[-1], fits_b[-1]
        on = table.levels["foreground"][i].sent or table.levels["background"][j].sent
        symbols = fg[i] + bg[j] + (side if on else 0.0) + base
        quality = p * q_d[i, j] + (1.0 - p) * q_l[i, j] if sent else q_l[i, j]
        return (i, j, sent, symbols, float(quality))

    def point(beta: float) -> tuple[int, int, bool, float, float] | None:
        with_p, without = rule(beta, True), rule(beta, False)
        if prompt == "always":
            return with_p
        if prompt == "never":
            return without
        if prompt_rule == "first":
            return with_p if with_p is not None else without
        if with_p is not None and (without is None or sign * with_p[4] > sign * without[4]):
            return with_p
        return without

    if target is None:
        chosen = point(budget)
    else:
        levels = sorted(set(fg) | set(bg))
        betas = sorted({0.0, prompt_sym} | {side + 2 * v for v in levels}
                       | {prompt_sym + side + 2 * v for v in levels})
        chosen = None
        for beta in betas:
            if beta > budget:
                break
            cand = point(beta)
            if cand is not None and sign * cand[4] >= sign * target:
                chosen = cand
                break
    if chosen is None:
        return {"symbols": None, "quality": None, "levels": None}
    return {"symbols": chosen[3], "quality": chosen[4], "levels": chosen[:3]}


def _flat(value: Any, n: int) -> np.ndarray:
    arr = np.asarray(value).ravel()
    return np.broadcast_to(arr, (n,)) if arr.size == 1 else arr


def check_split(allocation: Allocation, *, table: SymbolSplitTable, snr_db: Any, budget: Any,
                target: Any, metric: str, mcs: str | None = None, capacity: str = "gaussian",
                fitted: bool = True, prompt: str = "optional",
                prompt_rule: str = "first") -> list[str]:
    """Independent recheck of a ``symbol-split`` result; returns the violations.

    ``snr_db``, ``budget`` (symbols, ``inf`` = none) and ``target`` (number, or None) are
    given as plain numbers or arrays, not parsed by the problem. For every successful row:
    the levels (by name) exist; ``extras["symbols"]`` equals the symbols recomputed from
    the bits and sums to ``total_symbols`` ≤ budget; the achieved ``E[Q]`` recomputed from
    the table and the delivery probability equals ``perception`` and meets the target;
    the objective is the symbols (with a target) or the quality (without). For the exact
    built-ins (:data:`EXACT_METHODS`) ``success`` and the objective must equal
    :func:`brute_force`; for ``equal-split`` they must equal :func:`equal_split_reference`.
    """
    out: list[str] = []
    n = int(np.prod(allocation.batch_shape, dtype=int)) if allocation.batch_shape else 1
    snr = _flat(np.asarray(snr_db, dtype=float), n)
    caps = _flat(np.asarray(budget, dtype=float), n)
    taus = None if target is None else _flat(np.asarray(target, dtype=float), n)
    success = _flat(allocation.success, n)
    fg_names = _flat(np.asarray(allocation.extras["foreground_level"], dtype=str), n)
    bg_names = _flat(np.asarray(allocation.extras["background_level"], dtype=str), n)
    sent = _flat(allocation.extras["prompt_sent"], n)
    parts = {k: _flat(allocation.extras["symbols"][k], n) for k in
             ("prompt", "foreground", "background", "side")}
    total = _flat(allocation.extras["total_symbols"], n)
    quality = _flat(allocation.perception, n)
    objective = _flat(allocation.objective, n)
    fg, bg, side, prompt_sym = _costs(table, mcs)
    f_names = [lv.name for lv in table.levels["foreground"]]
    b_names = [lv.name for lv in table.levels["background"]]
    sign = 1.0 if table.higher_is_better(metric) else -1.0
    for r in range(n):
        tau = None if taus is None else float(taus[r])
        if success[r]:
            if fg_names[r] not in f_names or bg_names[r] not in b_names:
                out.append(f"row {r}: unknown levels {fg_names[r]!r}, {bg_names[r]!r}")
                continue
            i, j = f_names.index(fg_names[r]), b_names.index(bg_names[r])
            on = table.levels["foreground"][i].sent or table.levels["background"][j].sent
            expect = {"prompt": prompt_sym if sent[r] else 0.0, "foreground": fg[i],
                      "background": bg[j], "side": side if on else 0.0}
            for key, value in expect.items():
                if not math.isclose(float(parts[key][r]), value, rel_tol=RTOL, abs_tol=1e-9):
                    out.append(f"row {r}: {key} symbols {parts[key][r]} != recomputed {value}")
            summed = sum(expect.values())
            if not math.isclose(float(total[r]), summed, rel_tol=RTOL, abs_tol=1e-9):
                out.append(f"row {r}: total_symbols {total[r]} != sum of the parts {summed}")
            if summed > caps[r] * (1 + RTOL):
                out.append(f"row {r}: {summed} symbols exceed the budget {caps[r]}")
            p = float(table.delivery_probability(float(snr[r]), capacity=capacity))
            q_d = float(table.quality(metric, "delivered", fitted=fitted)[i, j])
            q_l = float(table.quality(metric, "lost", fitted=fitted)[i, j])
            q = p * q_d + (1 - p) * q_l if sent[r] else q_l
            if not math.isclose(float(quality[r]), q, rel_tol=RTOL, abs_tol=1e-9):
                out.append(f"row {r}: perception {quality[r]} != recomputed E[Q] {q}")
            if tau is not None and sign * q < sign * tau - RTOL * max(1.0, abs(tau)):
                out.append(f"row {r}: E[{metric}] = {q} misses the target {tau}")
            want = summed if tau is not None else q
            if not math.isclose(float(objective[r]), want, rel_tol=RTOL, abs_tol=1e-9):
                out.append(f"row {r}: objective {objective[r]} != {want}")
            if (prompt == "always" and not sent[r]) or (prompt == "never" and sent[r]):
                out.append(f"row {r}: prompt policy {prompt!r} violated")
        if allocation.method in EXACT_METHODS or allocation.method == "equal-split":
            kwargs = dict(metric=metric, mcs=mcs, capacity=capacity, fitted=fitted, prompt=prompt)
            if allocation.method == "equal-split":
                ref = equal_split_reference(table, float(snr[r]), float(caps[r]), tau,
                                            prompt_rule=prompt_rule, **kwargs)
            else:
                ref = brute_force(table, float(snr[r]), float(caps[r]), tau, **kwargs)
            if bool(success[r]) != (ref["symbols"] is not None):
                out.append(f"row {r}: {allocation.method} success={bool(success[r])}, reference "
                           f"{'finds' if ref['symbols'] is not None else 'finds no'} point")
            elif success[r]:
                want = ref["symbols"] if tau is not None else ref["quality"]
                if not math.isclose(float(objective[r]), want, rel_tol=RTOL, abs_tol=1e-9):
                    out.append(f"row {r}: {allocation.method} objective {objective[r]} != "
                               f"reference {want}")
    return out


_CASES: list[dict[str, Any]] = [
    # call arguments, and the plain numbers they mean (read by the check, not the parser)
    {"snr": 7.0, "budget": "8618 symbols", "target": None, "caps": 8618.0, "tau": None},
    {"snr": 7.0, "budget": "8618 symbols", "target": 25.0, "caps": 8618.0, "tau": 25.0},
    {"snr": 4.0, "budget": 8618, "target": "psnr>=25", "caps": 8618.0, "tau": 25.0},
    {"snr": [1.0, 4.0, 7.0, 10.0], "budget": "5 ksym", "target": None, "caps": 5000.0,
     "tau": None},
    {"snr": 7.0, "budget": None, "target": "ms-ssim>=0.95", "caps": math.inf, "tau": 0.95,
     "metric": "ms-ssim"},
    {"snr": 7.0, "budget": "3000 symbols", "target": "28 dB", "caps": 3000.0, "tau": 28.0},
    {"snr": [7.0, 7.0, 7.0], "budget": [1500, 3000, 8618], "target": None, "caps": [1500.0, 3000.0, 8618.0],
     "tau": None},
    {"snr": [4.5, 5.0, 5.5], "budget": 2000, "target": None, "caps": 2000.0, "tau": None,
     "options": {"capacity": "constellation"}},
    {"snr": 7.0, "budget": 300, "target": None, "caps": 300.0, "tau": None,
     "options": {"prompt": "always"}},
    {"snr": [10.0, 10.0], "budget": "4 ksym", "target": [24.0, 26.0], "caps": 4000.0,
     "tau": [24.0, 26.0], "options": {"mcs": "64qam-5/6"}},
    {"snr": [3.0, 7.0], "budget": 6000, "target": None, "caps": 6000.0, "tau": None,
     "options": {"fitted": False, "prompt": "never"}},
    {"snr": [2.0, 6.0], "budget": [1500, 4000], "target": "psnr>=20", "caps": [1500.0, 4000.0],
     "tau": 20.0, "illustrative": True},
    {"snr": [2.0, 6.0, 9.0], "budget": 2500, "target": None, "caps": 2500.0, "tau": None,
     "illustrative": True, "metric": "lpips"},
    {"snr": 6.0, "budget": None, "target": "lpips<=0.5", "caps": math.inf, "tau": 0.5,
     "illustrative": True, "metric": "lpips"},
]


def reference_problems() -> list[ReferenceProblem]:
    """The shared ``symbol-split`` cases (shipped measured table and the illustrative one).

    Both modes, batches of SNRs, budgets and targets, the prompt link models, prompt
    policies, another visual MCS, raw means, a lower-is-better metric, and infeasible
    rows; each with a ``check`` (:func:`check_split`).
    """
    from semopt import tables

    shipped = tables.load("symbol-split-sample")
    illustrative = illustrative_table()
    out = []
    for k, case in enumerate(_CASES):
        table = illustrative if case.get("illustrative") else shipped
        options: dict[str, Any] = {"table": table, **case.get("options", {})}
        if "metric" in case and case.get("illustrative"):
            options["metric"] = case["metric"]
        metric = case.get("metric", table.metric_names[0])
        settings = {"mcs": options.get("mcs"), "capacity": options.get("capacity", "gaussian"),
                    "fitted": options.get("fitted", True), "prompt": options.get("prompt",
                                                                                  "optional")}
        snrs = np.atleast_1d(np.asarray(case["snr"], dtype=float))
        n = max(snrs.size, np.size(case["caps"]), 1 if case["tau"] is None else np.size(case["tau"]))
        caps = _flat(np.asarray(case["caps"], dtype=float), n)
        taus = None if case["tau"] is None else _flat(np.asarray(case["tau"], dtype=float), n)
        feasible = [brute_force(table, float(_flat(snrs, n)[r]), float(caps[r]),
                                None if taus is None else float(taus[r]), metric=metric,
                                **settings)["symbols"] is not None for r in range(n)]

        def check(allocation: Allocation, case: Mapping[str, Any] = case, table: Any = table,
                  metric: str = metric, settings: Mapping[str, Any] = settings) -> list[str]:
            return check_split(allocation, table=table, snr_db=case["snr"], budget=case["caps"],
                               target=case["tau"], metric=metric, **settings)

        out.append(ReferenceProblem(
            name=f"{table.name}/case{k}", problem="symbol-split", options=options,
            snr=case["snr"], budget=case["budget"], target=case["target"], check=check,
            expect_feasible=all(feasible) if all(feasible) or not any(feasible) else None))
    return out
