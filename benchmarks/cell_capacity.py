"""Users per cell: semantic users served vs the cell's power budget, mean perception, and cost vs U.

U users are dropped uniformly in an annulus (10–250 m, the Xu et al. path-loss constants:
−30 dB at 1 m, exponent 3.4, σ² = −110 dBm, Rayleigh fading per stream), their SNRs
measured at a 10 mW reference power; the coded discard scheme of the shipped Xu tables
(published subset values), perception targets that need both streams (CLIP 0.40,
MS-SSIM 0.36) and targets one stream can meet (CLIP 0.45, MS-SSIM 0.42).

1. **Users served vs budget** (``objective="max-served"``), Monte Carlo over drops run in
   parallel with joblib (and once more with the Dask backend when ``distributed`` is
   installed, checked equal): semantic-aware least powers (``dual``, the exact sort)
   against the semantic-unaware split (``unaware``) and equal power per user
   (``equal-power``), with instantaneous CSI (the faded SNRs) and statistical CSI (the
   mean SNRs; fading-averaged targets).
2. **Mean perception vs budget** (``objective="min-mean-perception"``, U = 50): ``dual``
   (exact powers and on the knapsack's power grid) against ``knapsack`` and the baselines.
3. **Cost vs U** from 10 to 1e5: max-served against one batched min-power call on the same
   users (interleaved medians, one run), ``dual`` min-mean-perception and ``knapsack``.

Run: ``semopt bench cell_capacity [--drops N] [--users U] [--max-users N] [--jobs N]
[--out-dir DIR]``.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import time
import warnings

import numpy as np

CONFIGS = (("xu2025-kodak-clip", 0.45), ("xu2025-kodak-clip", 0.40),
           ("xu2025-kodak-msssim", 0.42), ("xu2025-kodak-msssim", 0.36))
SERVED_METHODS = ("dual", "unaware", "equal-power")
MEAN_METHODS = {"dual": {}, "dual (grid)": {"grid_points": 2000}, "knapsack": {"grid_points": 2000},
                "equal-power": {}, "unaware": {}}
REFERENCE_W = 0.01
RADIUS_M, INNER_M = 250.0, 10.0


def _drop(users: int, seed: int):
    from semopt.link.channel import drop_users

    return drop_users(users, power_w=REFERENCE_W, radius_m=RADIUS_M, inner_radius_m=INNER_M,
                      rng=seed)


def _served_for_drop(seed: int, table: str, target: float, csi: str, users: int,
                     budgets: list[float]) -> dict[str, list[int]]:
    """Users served per method and budget on one drop (a joblib task)."""
    import semopt

    warnings.simplefilter("ignore")
    drop = _drop(users, seed)
    snr = drop.snr_db if csi == "instantaneous" else drop.mean_snr_db
    out = {}
    for method in SERVED_METHODS:
        out[method] = [int(semopt.allocate(snr, b, target, problem="cell", method=method,
                                           table=table, csi=csi, reference_power_w=REFERENCE_W)
                           .extras["served"]) for b in budgets]
    return out


def _mean_for_drop(seed: int, csi: str, users: int, budgets: list[float]) -> dict:
    """Mean perception per method and budget on one drop (min-mean-perception)."""
    import semopt

    warnings.simplefilter("ignore")
    drop = _drop(users, seed)
    snr = drop.snr_db if csi == "instantaneous" else drop.mean_snr_db
    out: dict = {m: [] for m in MEAN_METHODS}
    out["dual_gap"] = []
    out["dual_frontier"], out["knapsack_frontier"] = [], []
    for b in budgets:
        for method, extra in MEAN_METHODS.items():
            name = method.split(" ")[0]
            res = semopt.allocate(snr, b, None, problem="cell", method=name, csi=csi,
                                  objective="min-mean-perception", reference_power_w=REFERENCE_W,
                                  **extra)
            out[method].append(float(res.extras["mean_perception"]))
            if method == "dual (grid)":
                out["dual_gap"].append(float(res.extras["dual_gap"]))
                out["dual_frontier"].append(float(res.extras["frontier_mean_perception"]))
            if method == "knapsack":
                out["knapsack_frontier"].append(float(res.extras["frontier_mean_perception"]))
    return out


def _parallel(fn, tasks: list[tuple], jobs: int, backend: str | None = None) -> tuple[list, float]:
    from joblib import Parallel, delayed, parallel_backend

    start = time.perf_counter()
    if backend is None:
        out = Parallel(n_jobs=jobs)(delayed(fn)(*t) for t in tasks)
    else:
        with parallel_backend(backend):
            out = Parallel()(delayed(fn)(*t) for t in tasks)
    return list(out), time.perf_counter() - start


def _interleaved(calls: dict, repeat: int) -> dict[str, float]:
    """Median wall time of each call, the calls alternated within every repetition."""
    for fn in calls.values():
        fn()  # warm-up (tabulated curves, caches)
    samples: dict[str, list[float]] = {k: [] for k in calls}
    for _ in range(repeat):
        for key, fn in calls.items():
            t0 = time.perf_counter()
            fn()
            samples[key].append(time.perf_counter() - t0)
    return {k: statistics.median(v) for k, v in samples.items()}


def _cost(max_users: int, max_dual: int, max_knapsack: int, repeat: int) -> list[dict]:
    import semopt

    rows = []
    sizes = [u for u in (10, 100, 1000, 10_000, 100_000) if u <= max_users]
    cell = semopt.make_allocator("cell", "dual", reference_power_w=REFERENCE_W)
    minpower = semopt.make_allocator("min-power", "global-search", cost="power",
                                     reference_power_w=REFERENCE_W)
    for u in sizes:
        snr = _drop(u, 99).snr_db
        calls = {"max_served_s": lambda s=snr: cell.allocate(s, 0.05, 0.45),
                 "minpower_batch_s": lambda s=snr: minpower.allocate(s, 0.05, 0.45)}
        row: dict = {"users": u, **_interleaved(calls, repeat)}
        mean_budget = 0.05 * max(1.0, u / 300)  # min-mean-perception: the budget grows with U
        row["min_mean_budget_w"] = mean_budget
        row["max_served_over_minpower"] = row["max_served_s"] / row["minpower_batch_s"]
        if u <= max_dual:
            dual = semopt.make_allocator("cell", "dual", objective="min-mean-perception",
                                         reference_power_w=REFERENCE_W)
            t0 = time.perf_counter()
            dual.allocate(snr, mean_budget, None)  # first call: builds the levels
            row["dual_first_call_s"] = time.perf_counter() - t0
            row["dual_min_mean_s"] = _interleaved(
                {"d": lambda s=snr, a=dual, b=mean_budget: a.allocate(s, b, None)},
                max(1, repeat - 2))["d"]
        if u <= max_knapsack:
            knap = semopt.make_allocator("cell", "knapsack", objective="min-mean-perception",
                                         reference_power_w=REFERENCE_W)
            row["knapsack_min_mean_s"] = _interleaved(
                {"k": lambda s=snr, a=knap, b=mean_budget: a.allocate(s, b, None)},
                1)["k"]
        print(f"U = {u:>6}: max-served {row['max_served_s']:.4f} s, min-power batch "
              f"{row['minpower_batch_s']:.4f} s (ratio {row['max_served_over_minpower']:.2f})"
              + (f", dual {row['dual_min_mean_s']:.3f} s" if "dual_min_mean_s" in row else "")
              + (f", knapsack {row['knapsack_min_mean_s']:.3f} s"
                 if "knapsack_min_mean_s" in row else ""))
        rows.append(row)
    return rows


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="cell_capacity")
    parser.add_argument("--users", type=int, default=300, help="users per drop (served sweep)")
    parser.add_argument("--drops", type=int, default=16, help="Monte Carlo drops per curve")
    parser.add_argument("--budgets", type=int, default=13, help="budgets from 1 mW to 1 W")
    parser.add_argument("--mean-users", type=int, default=50)
    parser.add_argument("--mean-drops", type=int, default=4)
    parser.add_argument("--mean-budgets", type=int, default=6)
    parser.add_argument("--max-users", type=int, default=100_000)
    parser.add_argument("--max-dual-users", type=int, default=10_000)
    parser.add_argument("--max-knapsack-users", type=int, default=1_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--dask-drops", type=int, default=4)
    parser.add_argument("--out-dir", default=None)
    args = parser.parse_args(argv)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    warnings.simplefilter("ignore")
    from semopt.benchmarking import write_results

    budgets = [float(b) for b in np.logspace(-3, 0, args.budgets)]
    seeds = list(range(args.drops))
    served: list[dict] = []
    parallel_s = 0.0
    for table, target in CONFIGS:
        for csi in ("instantaneous", "statistical"):
            results, wall = _parallel(_served_for_drop, [(s, table, target, csi, args.users,
                                                          budgets) for s in seeds], args.jobs)
            parallel_s += wall
            entry: dict = {"table": table, "target": target, "csi": csi}
            for m in SERVED_METHODS:
                counts = np.array([r[m] for r in results], dtype=float)
                entry[f"{m}_mean"] = counts.mean(axis=0)
                entry[f"{m}_std"] = counts.std(axis=0)
            with np.errstate(divide="ignore", invalid="ignore"):
                entry["gain_over_unaware"] = entry["dual_mean"] / entry["unaware_mean"]
                entry["gain_over_equal_power"] = entry["dual_mean"] / entry["equal-power_mean"]
            g = entry["gain_over_unaware"][np.isfinite(entry["gain_over_unaware"])]
            print(f"{table:>20} P̄={target:.2f} {csi:>13}: served at 10 mW "
                  f"dual/unaware/equal = {np.interp(-2, np.log10(budgets), entry['dual_mean']):.1f}/"
                  f"{np.interp(-2, np.log10(budgets), entry['unaware_mean']):.1f}/"
                  f"{np.interp(-2, np.log10(budgets), entry['equal-power_mean']):.1f}; "
                  f"gain over unaware up to {g.max():.2f}×")
            served.append(entry)
    dask = {"installed": importlib.util.find_spec("distributed") is not None}
    if dask["installed"] and args.dask_drops > 0:
        from dask.distributed import Client, LocalCluster

        table, target = CONFIGS[0]
        tasks = [(s, table, target, "instantaneous", args.users, budgets)
                 for s in seeds[:args.dask_drops]]
        loky, loky_s = _parallel(_served_for_drop, tasks, args.jobs)
        with LocalCluster(n_workers=args.jobs, threads_per_worker=1, processes=True,
                          dashboard_address=None) as cluster, Client(cluster):
            via_dask, dask_s = _parallel(_served_for_drop, tasks, args.jobs, backend="dask")
        dask.update({"drops": len(tasks), "loky_s": loky_s, "dask_s": dask_s,
                     "identical": via_dask == loky})
        print(f"Dask backend: {len(tasks)} drops in {dask_s:.1f} s (loky {loky_s:.1f} s), "
              f"identical results: {dask['identical']}")
    mean_budgets = [float(b) for b in np.logspace(-3, -0.5, args.mean_budgets)]
    mean: list[dict] = []
    for csi in ("instantaneous", "statistical"):
        results, wall = _parallel(_mean_for_drop, [(s, csi, args.mean_users, mean_budgets)
                                                   for s in range(args.mean_drops)], args.jobs)
        parallel_s += wall
        entry = {"csi": csi, "users": args.mean_users}
        for m in list(MEAN_METHODS) + ["dual_gap", "dual_frontier", "knapsack_frontier"]:
            entry[m] = np.mean([r[m] for r in results], axis=0)
        final = np.array([r["dual (grid)"] for r in results]) / \
            np.array([r["knapsack"] for r in results]) - 1
        discrete = np.array([r["dual_frontier"] for r in results]) / \
            np.array([r["knapsack_frontier"] for r in results]) - 1
        entry["dual_vs_knapsack_max_rel"] = float(final.max())
        entry["dual_vs_knapsack_frontier_max_rel"] = float(discrete.max())
        print(f"min-mean-perception {csi:>13}: dual (same grid) vs knapsack, worst "
              f"{entry['dual_vs_knapsack_max_rel'] * 100:+.3f} % (final), "
              f"{entry['dual_vs_knapsack_frontier_max_rel'] * 100:+.3f} % (over the options)")
        mean.append(entry)
    cost = _cost(args.max_users, args.max_dual_users, args.max_knapsack_users, args.repeat)
    results = {"scenario": {"reference_power_w": REFERENCE_W, "radius_m": RADIUS_M,
                            "inner_radius_m": INNER_M, "path_gain_at_1m_db": -30.0,
                            "exponent": 3.4, "noise_dbm": -110.0, "fading": "rayleigh",
                            "scheme": "discard", "users": args.users, "drops": args.drops,
                            "jobs": args.jobs},
               "budgets_w": budgets, "served": served, "dask": dask,
               "mean_budgets_w": mean_budgets, "mean_perception": mean, "cost": cost,
               "parallel_wall_s": parallel_s}
    figure = _plot(results, args.users)
    path = write_results("cell_capacity", __doc__.splitlines()[0], results, figure=figure,
                         out_dir=args.out_dir)
    print(f"wrote {path}")
    return results


def _plot(results: dict, users: int):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from semopt.plotting import check_figure

    fig, axes = plt.subplots(2, 3, figsize=(15, 8.5))
    budgets_mw = np.asarray(results["budgets_w"]) * 1e3
    colors = {"dual": "C3", "unaware": "C0", "equal-power": "C7"}
    markers = {"dual": "o", "unaware": "^", "equal-power": "s"}
    names = {"dual": "semantic-aware (exact)", "unaware": "semantic-unaware",
             "equal-power": "equal power"}
    panels = {}
    for entry in results["served"]:
        panels.setdefault((entry["table"], entry["target"]), []).append(entry)
    for ax, ((table, target), entries) in zip(axes.ravel()[:4], panels.items()):
        for entry in entries:
            style = "-" if entry["csi"] == "instantaneous" else "--"
            for m in SERVED_METHODS:
                ax.semilogx(budgets_mw, entry[f"{m}_mean"], style, marker=markers[m],
                            ms=4 if m == "dual" else 6, mfc="none" if m != "dual" else None,
                            color=colors[m], label=f"{names[m]}, {entry['csi']} CSI")
        ax.set_title(f"{table.split('-')[-1].upper()} target P̄ = {target:.2f}", fontsize=10)
        ax.set_xlabel("cell power budget (mW)")
        ax.set_ylabel(f"users served (of {users})")
        ax.grid(alpha=0.3)
    axes[0, 0].legend(fontsize=7)
    ax = axes[1, 1]
    mean_mw = np.asarray(results["mean_budgets_w"]) * 1e3
    styles = {"dual": "C3-o", "dual (grid)": "C1:^", "knapsack": "k--x", "equal-power": "C7-s",
              "unaware": "C0-d"}
    for entry in results["mean_perception"]:
        if entry["csi"] != "instantaneous":
            continue
        for m, style in styles.items():
            ax.semilogx(mean_mw, entry[m], style, ms=4, label=m)
    ax.set_title(f"min mean perception, U = {results['mean_perception'][0]['users']} "
                 "(instantaneous CSI, CLIP)", fontsize=10)
    ax.set_xlabel("cell power budget (mW)")
    ax.set_ylabel("mean perception P (lower is better)")
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    ax = axes[1, 2]
    cost = results["cost"]
    u = [r["users"] for r in cost]
    ax.loglog(u, [r["max_served_s"] for r in cost], "C3-o", label="cell max-served")
    ax.loglog(u, [r["minpower_batch_s"] for r in cost], "k--x", label="one batched min-power call")
    du = [r for r in cost if "dual_min_mean_s" in r]
    if du:
        ax.loglog([r["users"] for r in du], [r["dual_min_mean_s"] for r in du], "C1-^",
                  label="dual, min-mean-perception")
    ku = [r for r in cost if "knapsack_min_mean_s" in r]
    if ku:
        ax.loglog([r["users"] for r in ku], [r["knapsack_min_mean_s"] for r in ku], "C2:s",
                  label="knapsack, min-mean-perception")
    ax.set_xlabel("users U")
    ax.set_ylabel("wall time per call (s)")
    ax.set_title("cost vs cell size (median, one run)", fontsize=10)
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3, which="both")
    fig.suptitle("Semantic users per cell (Xu et al. tables, coded discard scheme, Rayleigh drops "
                 "10–250 m)")
    fig.tight_layout()
    check_figure(fig)
    return fig


if __name__ == "__main__":
    main()
