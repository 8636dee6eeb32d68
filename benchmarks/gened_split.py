"""GenED-SC symbol split: best E[Q] vs symbol budget at 1/4/7/10 dB vs equal split and the paper's point.

On the shipped measured table ``symbol-split-sample`` (4 images; its editor is a
documented stand-in, a colour-layout prompt, not a generative MLLM editor), for PSNR and
MS-SSIM and each SNR of :data:`SNRS_DB` (GenED-SC's evaluation SNRs), over a grid of symbol
budgets (:func:`budget_grid`, with the paper's 8618 in it):

1. **Best E[Q] within the budget**: the optimum (``pareto``, checked equal to
   ``exhaustive`` at every SNR and budget: same point, same objective), the optimum
   without the prompt (``prompt="never"``), and the ``equal-split`` baseline with the
   prompt first (GenED-SC sends it always) and with the prompt only when it pays.
2. **The paper's fixed design point**: the budget of :func:`semopt.link.gened.paper_design_point`
   (8192 visual + 426 text = 8618 symbols, computed, not typed in) spent by GenED-SC's
   rule (:func:`semopt.link.gened.split_symbol_budget`: prompt first, the rest split by
   area with the table's foreground fraction, density ratio 1, after the side
   information) at the highest levels within each branch's share; the same levels at
   every SNR (the design does not adapt).
3. **Measured gains**: quality gain of the optimum over each baseline (median, max per
   SNR), gain at the paper's budget, and the symbols the optimum needs to reach each
   baseline's quality (``fewest-symbols`` mode), i.e. the saving at equal quality.
4. **pareto vs exhaustive** in both modes on the whole grid (and a target grid), the
   fraction of optima off the hull (where the multiplier step alone would be wrong) and
   the largest loss of the hull point; speed of both (medians, ratio) on the grid batch, on
   a large batch at the four SNRs and on a batch whose SNRs are all distinct.

Writes ``gened_split.json`` + ``.png``. Run: ``semopt bench gened_split``.
"""

from __future__ import annotations

import argparse
from typing import Any

import numpy as np

import semopt
from semopt import tables
from semopt.benchmarking import time_call, write_results
from semopt.link.gened import paper_design_point, split_symbol_budget

SNRS_DB = (1.0, 4.0, 7.0, 10.0)
"""GenED-SC's evaluation SNRs (Es/N0 of the prompt link, dB)."""
METRICS = ("psnr", "ms-ssim")
TABLE = "symbol-split-sample"


def design_budget() -> float:
    """The paper's total symbol budget, recomputed by :func:`paper_design_point` (8618)."""
    return float(paper_design_point().total_symbols)


def budget_grid(table: Any, points: int = 64) -> np.ndarray:
    """Whole-symbol budgets from 100 to the full-rate cost (+ prompt), log-spaced, with the
    paper's design budget included."""
    top = float(table.symbols().visual.max() + table.symbols().prompt)
    grid = np.round(np.geomspace(100.0, top * 1.02, points))
    return np.unique(np.append(grid, design_budget()))


def paper_rule_levels(table: Any, budget: float) -> tuple[int, int, dict[str, float]]:
    """GenED-SC's rule at ``budget``: prompt first, the visual rest split by area.

    :func:`split_symbol_budget` with the table's prompt (its bytes), its foreground
    fraction (provenance) and density ratio 1, applied to the budget minus the side
    information; each branch then takes its highest level within its share.
    """
    sym = table.symbols()
    rho = float(table.provenance.get("stack_config", {}).get("fg_fraction", 0.25))
    prompt_bytes = round(table.prompt_bits / 8)
    split = split_symbol_budget(round(budget - sym.side), prompt_bytes,
                                foreground_fraction=rho, foreground_density_ratio=1.0)
    fg_share, bg_share = float(split.foreground_symbols), float(split.background_symbols)
    i = int(np.searchsorted(sym.foreground, fg_share, side="right") - 1)
    j = int(np.searchsorted(sym.background, bg_share, side="right") - 1)
    used = float(sym.foreground[i] + sym.background[j] + sym.side + sym.prompt)
    return i, j, {"foreground_fraction": rho, "prompt_symbols": float(split.text_symbols),
                  "foreground_share": fg_share, "background_share": bg_share,
                  "symbols_used": used}


def _time_methods(alloc: dict[str, Any], snr: np.ndarray, budget: np.ndarray,
                  repeat: int) -> dict[str, float]:
    """Median wall time of one best-within-budget call of ``exhaustive`` and ``pareto``."""
    return {k: time_call(lambda k=k: alloc[k].allocate(snr, budget, None), repeat=repeat)["median_s"]
            for k in ("exhaustive", "pareto")}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="gened_split")
    parser.add_argument("--points", type=int, default=64, help="budgets on the grid")
    parser.add_argument("--targets", type=int, default=40, help="targets per SNR (mode check)")
    parser.add_argument("--repeat", type=int, default=5, help="timing repetitions")
    parser.add_argument("--batch", type=int, default=20_000, help="rows of the large timed batch")
    parser.add_argument("--out-dir", default=None)
    args = parser.parse_args(argv)
    table = tables.load(TABLE)
    budgets = budget_grid(table, args.points)
    snr = np.array(SNRS_DB)
    snr_grid = np.repeat(snr, budgets.size)                   # (S·G,) row-major: SNR, budget
    budget_rows = np.tile(budgets, snr.size)
    design = paper_design_point(SNRS_DB)
    b_design = design_budget()
    k_design = int(np.flatnonzero(budgets == b_design)[0])
    results: dict[str, Any] = {
        "table": table.name, "table_source": table.provenance.get("source"),
        "table_description": table.description,
        "editor": ("stand-in: " + str(table.provenance.get("editor", {}).get("what", ""))),
        "snr_db": snr, "budgets_symbols": budgets,
        "paper_design_point": {
            "visual_symbols": design.visual_symbols, "text_symbols": design.text_symbols,
            "total_symbols": design.total_symbols, "text_share": design.text_share,
            "visual_symbols_at_stated_cbr": design.visual_symbols_at_stated_cbr,
            "prompt_delivery_probability": design.delivery_probability,
            "note": ("budget only: the paper's visual stream is analog JSCC; here the 8618 "
                     "symbols are spent on the table's digital branches and its 492-symbol "
                     "colour-layout prompt (the paper's prompts average 426 symbols)")},
        "metrics": {},
    }
    fi, bj, rule_info = paper_rule_levels(table, b_design)
    results["paper_rule"] = {"foreground_level": table.levels["foreground"][fi].name,
                             "background_level": table.levels["background"][bj].name,
                             **rule_info}
    curves: dict[str, dict[str, np.ndarray]] = {}
    for metric in METRICS:
        alloc = {name: semopt.make_allocator("symbol-split", method, metric=metric, **opts)
                 for name, method, opts in (
                     ("exhaustive", "exhaustive", {}), ("pareto", "pareto", {}),
                     ("no_prompt", "pareto", {"prompt": "never"}),
                     ("equal_first", "equal-split", {}),
                     ("equal_best", "equal-split", {"prompt_rule": "best"}))}
        res = {k: a.allocate(snr_grid, budget_rows, None) for k, a in alloc.items()}
        q = {k: np.asarray(r.perception).reshape(snr.size, budgets.size) for k, r in res.items()}
        used = {k: np.asarray(r.extras["total_symbols"]).reshape(snr.size, budgets.size)
                for k, r in res.items()}
        ex, pa = res["exhaustive"], res["pareto"]
        same_best = bool(
            np.array_equal(ex.success, pa.success)
            and np.array_equal(np.asarray(ex.objective), np.asarray(pa.objective))
            and all(np.array_equal(np.asarray(ex.extras[k]), np.asarray(pa.extras[k]))
                    for k in ("foreground_index", "background_index", "prompt_sent")))
        # fewest-symbols mode on a target grid, without and with the paper's budget
        q_all = q["exhaustive"]
        targets = np.linspace(np.nanmin(q_all), np.nanmax(q_all), args.targets)
        t_rows, s_rows = np.tile(targets, snr.size), np.repeat(snr, targets.size)
        same_fewest = True
        for cap in (None, b_design):
            a, b = (alloc[k].allocate(s_rows, cap, t_rows) for k in ("exhaustive", "pareto"))
            same_fewest &= bool(np.array_equal(a.success, b.success) and np.array_equal(
                np.nan_to_num(np.asarray(a.objective), nan=-1.0),
                np.nan_to_num(np.asarray(b.objective), nan=-1.0)))
        on_hull = np.asarray(pa.extras["on_hull"])
        hull_loss = np.asarray(pa.perception) - np.asarray(pa.extras["hull_quality"])
        sign = 1.0 if table.higher_is_better(metric) else -1.0
        # the paper's rule: fixed levels, E[Q] at each SNR (prompt sent)
        paper_q = table.expected_quality(metric, snr)[:, fi, bj]
        # symbols the optimum needs to reach each baseline's quality (equal quality saving)
        fewest = alloc["exhaustive"]
        need_eq = np.asarray(fewest.allocate(snr_grid, None, np.ravel(q["equal_first"])
                                             ).objective).reshape(snr.size, budgets.size)
        need_paper = np.asarray(fewest.allocate(snr, None, paper_q).objective)
        gain = {k: sign * (q["pareto"] - q[k]) for k in ("equal_first", "equal_best", "no_prompt")}
        saving = 1.0 - need_eq / np.where(used["equal_first"] > 0, used["equal_first"], np.nan)
        per_snr = {}
        for s, value in enumerate(SNRS_DB):
            per_snr[f"{value:g} dB"] = {
                "gain_over_equal_split": {"median": float(np.median(gain["equal_first"][s])),
                                          "max": float(np.max(gain["equal_first"][s]))},
                "gain_over_equal_split_prompt_best": {
                    "median": float(np.median(gain["equal_best"][s])),
                    "max": float(np.max(gain["equal_best"][s]))},
                "gain_over_no_prompt": {"median": float(np.median(gain["no_prompt"][s])),
                                        "max": float(np.max(gain["no_prompt"][s]))},
                "symbol_saving_at_equal_split_quality": {
                    "median": float(np.nanmedian(saving[s])), "max": float(np.nanmax(saving[s]))},
                "at_paper_budget": {
                    "optimum": float(q["pareto"][s, k_design]),
                    "optimum_symbols": float(used["pareto"][s, k_design]),
                    "optimum_sends_prompt": bool(np.asarray(pa.extras["prompt_sent"]).reshape(
                        snr.size, budgets.size)[s, k_design]),
                    "equal_split": float(q["equal_first"][s, k_design]),
                    "equal_split_symbols": float(used["equal_first"][s, k_design]),
                    "paper_rule": float(paper_q[s]),
                    "paper_rule_symbols": rule_info["symbols_used"],
                    "gain_over_paper_rule": float(sign * (q["pareto"][s, k_design] - paper_q[s])),
                    "optimum_symbols_for_paper_rule_quality": float(need_paper[s]),
                    "symbol_saving_vs_paper_budget": float(1.0 - need_paper[s] / b_design)},
            }
        # speed on the grid batch (S·G rows), both exact methods, medians side by side
        times = _time_methods(alloc, snr_grid, budget_rows, args.repeat)
        # and a large batch: random budgets at the four SNRs (the front is built per SNR)
        rng = np.random.default_rng(0)
        big_snr = rng.choice(snr, args.batch)
        big_budget = np.round(rng.uniform(0.0, budgets[-1], args.batch))
        big = _time_methods(alloc, big_snr, big_budget, args.repeat)
        spread_snr = rng.uniform(min(SNRS_DB), max(SNRS_DB), args.batch // 4)   # all distinct
        spread = _time_methods(alloc, spread_snr, big_budget[: spread_snr.size], args.repeat)
        big_same = bool(np.array_equal(
            np.asarray(alloc["exhaustive"].allocate(big_snr, big_budget, None).objective),
            np.asarray(alloc["pareto"].allocate(big_snr, big_budget, None).objective)))
        results["metrics"][metric] = {
            "unit": table.metrics[metric].unit, "per_snr": per_snr,
            "quality": {k: v for k, v in q.items() if k != "exhaustive"},
            "symbols_used": {k: v for k, v in used.items() if k != "exhaustive"},
            "paper_rule_quality": paper_q,
            "pareto_equals_exhaustive": {"best_quality_every_snr_and_budget": same_best,
                                         "fewest_symbols_on_target_grid": same_fewest,
                                         "rows": int(snr_grid.size),
                                         "target_rows": int(2 * t_rows.size)},
            "multiplier_only": {"fraction_off_hull": float(1.0 - on_hull.mean()),
                                "max_quality_loss": float(np.nanmax(sign * hull_loss)),
                                "max_multiplier_steps": int(pa.iterations)},
            "speed_grid_batch": {"rows": int(snr_grid.size),
                                 "exhaustive_median_s": times["exhaustive"],
                                 "pareto_median_s": times["pareto"],
                                 "exhaustive_over_pareto": times["exhaustive"] / times["pareto"]},
            "speed_large_batch": {"rows": args.batch, "distinct_snrs": int(snr.size),
                                  "exhaustive_median_s": big["exhaustive"],
                                  "pareto_median_s": big["pareto"],
                                  "exhaustive_over_pareto": big["exhaustive"] / big["pareto"],
                                  "same_objective": big_same},
            "speed_distinct_snrs": {"rows": int(spread_snr.size),
                                    "distinct_snrs": int(np.unique(spread_snr).size),
                                    "exhaustive_median_s": spread["exhaustive"],
                                    "pareto_median_s": spread["pareto"],
                                    "exhaustive_over_pareto": spread["exhaustive"]
                                    / spread["pareto"]},
        }
        curves[metric] = {"q": q, "paper": paper_q}

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(METRICS), snr.size, figsize=(4.2 * snr.size, 3.6 * len(METRICS)),
                             sharex=True, squeeze=False)
    styles = {"pareto": ("optimum (pareto = exhaustive)", "C0", "-", None),
              "no_prompt": ("optimum without the prompt", "C1", "--", None),
              "equal_first": ("equal split, prompt first", "C2", "-.", None),
              "equal_best": ("equal split, prompt when it pays", "C4", ":", None)}
    for r, metric in enumerate(METRICS):
        unit = table.metrics[metric].unit
        for s, value in enumerate(SNRS_DB):
            ax = axes[r, s]
            for key, (label, colour, ls, _) in styles.items():
                ax.step(budgets, curves[metric]["q"][key][s], where="post", color=colour, ls=ls,
                        lw=1.3, label=label if (r, s) == (0, 0) else None)
            ax.plot([b_design], [curves[metric]["paper"][s]], "*", color="C3", ms=11,
                    label="paper's design point (GenED-SC rule)" if (r, s) == (0, 0) else None)
            ax.axvline(b_design, color="0.5", ls=":", lw=0.8)
            ax.set_xscale("log")
            ax.grid(alpha=0.3)
            ax.set_title(f"{metric}, Es/N0 = {value:g} dB (prompt p = "
                         f"{float(table.delivery_probability(value)):.3g})", fontsize=9)
            if r == len(METRICS) - 1:
                ax.set_xlabel("symbol budget (symbols)")
            ax.set_ylabel(f"E[{metric}]" + (f" ({unit})" if unit else ""))
    axes[0, 0].legend(fontsize=7, loc="lower right")
    fig.suptitle(f"{table.name}: measured, 4 images; editor = colour-layout stand-in (not a "
                 f"generative MLLM editor); dotted line: the paper's {b_design:g}-symbol budget",
                 fontsize=10)
    fig.tight_layout()
    path = write_results("gened_split", "GenED-SC symbol split on the shipped measured table: "
                         "best E[quality] vs symbol budget at 1/4/7/10 dB, optimum vs equal split "
                         "vs the paper's fixed design point, pareto vs exhaustive, speed",
                         results, figure=fig, out_dir=args.out_dir)
    for metric, block in results["metrics"].items():
        print(f"{metric}: pareto == exhaustive {block['pareto_equals_exhaustive']}; multiplier "
              f"only {block['multiplier_only']}; speed {block['speed_grid_batch']}, "
              f"{block['speed_large_batch']}, {block['speed_distinct_snrs']}")
        for key, v in block["per_snr"].items():
            d = v["at_paper_budget"]
            print(f"  {key}: gain over equal split median {v['gain_over_equal_split']['median']:.4g} "
                  f"max {v['gain_over_equal_split']['max']:.4g}; saving at equal quality median "
                  f"{v['symbol_saving_at_equal_split_quality']['median']:.3f}; at {b_design:g}: "
                  f"optimum {d['optimum']:.4g}, equal {d['equal_split']:.4g}, paper rule "
                  f"{d['paper_rule']:.4g} (optimum reaches it with "
                  f"{d['optimum_symbols_for_paper_rule_quality']:.0f} symbols)")
    print(f"wrote {path}")
    return results


if __name__ == "__main__":
    main()
