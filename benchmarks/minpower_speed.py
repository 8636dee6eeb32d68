"""Allocations per second of the min-power methods, against per-instance SLSQP and the grid.

One run, side by side, on the Xu et al. scenario (10 mW budget, d = 100 m, Rayleigh draws),
coded discard and uncoded forward schemes, the shipped CLIP table, P̄ = 0.45:

1. batched throughput of every method on batches of 1e3, 1e4, 1e5 channel realizations
   (one vectorized call; the dense grid and SLSQP on fewer, they are per instance), and on
   the largest batch 10 dB stronger, where every realization is feasible (the ~1–7 % of
   deep fades that cannot meet P̄ each get a best-achievable scan, which dominates the
   cost of the closed-form methods);
2. the optimality gap of each method to the dense-grid ground truth (``exhaustive``)
   on the same draws, and feasibility;
3. the speed ratio of each batched method to per-instance scipy SLSQP (what a user would
   otherwise write), at its measured optimality gap.

Run: ``semopt bench minpower_speed [--max-batch N] [--slsqp N] [--out-dir DIR]``.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np

import semopt
from semopt.benchmarking import progress, time_call, write_results
from semopt.link.channel import rayleigh_power_gain, received_snr_db

TARGET = 0.45
BUDGET_W = 0.01
FAST = ["proportional", "unaware", "bisection", "global-search"]


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="minpower_speed")
    parser.add_argument("--max-batch", type=int, default=100_000)
    parser.add_argument("--slsqp", type=int, default=40, help="instances for per-instance SLSQP")
    parser.add_argument("--grid", type=int, default=2000, help="instances for the dense grid")
    parser.add_argument("--out-dir", default=None)
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")
    rng = np.random.default_rng(0)
    gains = rayleigh_power_gain((args.max_batch, 2), rng)
    snr_all = received_snr_db(BUDGET_W, distance_m=100.0, fading_power_gain=gains)
    batches = [b for b in (1_000, 10_000, 100_000) if b <= args.max_batch]
    out: dict = {"target": TARGET, "budget_w": BUDGET_W, "schemes": {}}
    for scheme in ("discard", "forward"):
        allocators = {m: semopt.make_allocator("min-power", m, scheme=scheme) for m in
                      FAST + ["exhaustive", "slsqp"]}
        rows = []
        for batch in batches:
            row: dict = {"batch": batch}
            for m in FAST:
                snr = snr_all[:batch]
                t = time_call(lambda a=allocators[m], s=snr: a.allocate(s, BUDGET_W, TARGET),
                              repeat=3)
                row[f"{m}_per_s"] = batch / t["median_s"]
            rows.append(row)
            print(f"{scheme:>8} batch {batch:>7}: " + ", ".join(
                f"{m} {row[f'{m}_per_s']:.3g}/s" for m in FAST))
        # The same draws 10 dB stronger: every realization feasible, so no time goes into
        # the best-achievable scan that infeasible realizations get (the solver alone).
        strong = snr_all[: batches[-1]] + 10.0
        feasible_only = {}
        for m in FAST:
            t = time_call(lambda a=allocators[m], s=strong: a.allocate(s, BUDGET_W, TARGET), repeat=3)
            feasible_only[f"{m}_per_s"] = len(strong) / t["median_s"]
        print(f"{scheme:>8} batch {len(strong):>7}, all feasible (+10 dB): " + ", ".join(
            f"{m} {feasible_only[f'{m}_per_s']:.3g}/s" for m in FAST))
        # Per-instance references on the first draws.
        n_grid, n_slsqp = min(args.grid, args.max_batch), min(args.slsqp, args.max_batch)
        t0 = time.perf_counter()
        truth = allocators["exhaustive"].allocate(snr_all[:n_grid], BUDGET_W, TARGET)
        grid_per_s = n_grid / (time.perf_counter() - t0)
        t0 = time.perf_counter()
        slsqp = [allocators["slsqp"].allocate(snr_all[i], BUDGET_W, TARGET)
                 for i in progress(range(n_slsqp), desc=f"{scheme}: per-instance SLSQP")]
        slsqp_per_s = n_slsqp / (time.perf_counter() - t0)
        ok = truth.success
        gaps = {}
        for m in FAST:
            res = allocators[m].allocate(snr_all[:n_grid], BUDGET_W, TARGET)
            both = ok & res.success
            gap = res.objective[both] / truth.objective[both] - 1
            gaps[m] = {"median_gap": float(np.median(gap)), "max_gap": float(np.max(gap)),
                       "feasible": bool(np.all(res.perception[res.success] <= TARGET + 1e-9)),
                       "solved": int(res.success.sum()), "of": n_grid}
        s_obj = np.array([r.objective for r in slsqp])
        s_ok = np.array([r.success for r in slsqp]) & ok[:n_slsqp]
        s_gap = s_obj[s_ok] / truth.objective[:n_slsqp][s_ok] - 1
        gaps["slsqp"] = {"median_gap": float(np.median(s_gap)), "max_gap": float(np.max(s_gap)),
                         "solved": int(s_ok.sum()), "of": n_slsqp}
        biggest = rows[-1]
        ratios = {m: biggest[f"{m}_per_s"] / slsqp_per_s for m in FAST}
        out["schemes"][scheme] = {"throughput": rows, "all_feasible_throughput": feasible_only,
                                  "exhaustive_per_s": grid_per_s,
                                  "slsqp_per_instance_per_s": slsqp_per_s,
                                  "gap_to_dense_grid": gaps, "speedup_vs_slsqp": ratios}
        print(f"{scheme:>8}: dense grid {grid_per_s:.3g}/s, per-instance SLSQP {slsqp_per_s:.3g}/s; "
              + ", ".join(f"{m} ×{ratios[m]:.3g} (max gap {gaps[m]['max_gap']:.2e})" for m in FAST)
              + f"; SLSQP max gap {gaps['slsqp']['max_gap']:.2e}")
    figure = _plot(out)
    path = write_results("minpower_speed", __doc__.splitlines()[0], out, figure=figure,
                         out_dir=args.out_dir)
    print(f"wrote {path}")
    return out


def _plot(out: dict):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), sharey=True)
    for ax, (scheme, data) in zip(axes, out["schemes"].items()):
        batch = [r["batch"] for r in data["throughput"]]
        for k, m in enumerate(FAST):
            ax.loglog(batch, [r[f"{m}_per_s"] for r in data["throughput"]], "-o", color=f"C{k}",
                      label=m)
        ax.axhline(data["slsqp_per_instance_per_s"], color="k", ls="--", label="SLSQP per instance")
        ax.axhline(data["exhaustive_per_s"], color="gray", ls=":", label="dense grid (exhaustive)")
        ax.set_title(f"{scheme} scheme, P̄ = {out['target']}", fontsize=10)
        ax.set_xlabel("batch size (channel realizations per call)")
        ax.grid(alpha=0.3, which="both")
    axes[0].set_ylabel("allocations per second")
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    return fig


if __name__ == "__main__":
    main()
