"""GVIF vs SNR and vs latency cap (Huang et al. Fig. 9) for every ``gvif`` method, and α* vs SNR.

Prints and writes ``gvif_fig9.json`` + ``.png`` (on the shipped ``gvif-hyperprior-sample``
table by default):

1. Expected GVIF vs receive SNR at T_max (default 20 ms, 1 MHz) for ``exact``, ``zo-sgd``,
   ``per-image`` and ``no-filtering`` (α = 0 with the best feasible model), with the
   chosen model and α* per method; checks ``exact ≥ zo-sgd``, ``per-image ≥ exact``, the
   latency constraint, and that a binding constraint leaves less than one α grid step of
   rate unused.
2. Expected GVIF vs the latency cap T_max at a fixed SNR (default 10 dB).
"""

from __future__ import annotations

import argparse

import numpy as np

from semopt import tables
from semopt.allocators.gvif import DEFAULT_TABLE, METHODS
from semopt.benchmarking import write_results

ORDER = ("exact", "zo-sgd", "per-image", "no-filtering")


def _run(table, snr, budget, target):
    out = {}
    for name in ORDER:
        r = METHODS[name](table=table).allocate(snr, budget, target)
        out[name] = r
    return out


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="gvif_fig9")
    parser.add_argument("--table", default=DEFAULT_TABLE)
    parser.add_argument("--out-dir", default=None)
    parser.add_argument("--budget", default="20 ms", help="T_max for the SNR sweep")
    parser.add_argument("--target", default="none", help="D_0 (MSE or e.g. '26dB'; 'none')")
    parser.add_argument("--snr-min", type=float, default=-6.0)
    parser.add_argument("--snr-max", type=float, default=24.0)
    parser.add_argument("--latency-snr", type=float, default=10.0)
    args = parser.parse_args(argv)
    target = None if args.target.lower() == "none" else args.target
    table = tables.load(args.table)
    snrs = np.arange(args.snr_min, args.snr_max + 1e-9, 1.0)
    res = _run(table, snrs, args.budget, target)
    ex, zo, pi = res["exact"], res["zo-sgd"], res["per-image"]
    ok = np.asarray(ex.success)
    step = float(table.alpha_grid[1] - table.alpha_grid[0])
    binding, within = 0, 0
    for k in np.flatnonzero(ok):
        m, a = ex.extras["model"][k], float(ex.extras["alpha"][k])
        if a > 0:  # the constraint binds (α = 0 would be better)
            binding += 1
            _, b_prev = table.expected(m, max(0.0, a - step))
            within += int(ex.extras["rate_bits"][k] <= ex.extras["cap_bits"][k] < b_prev)
    sweep = {
        "snr_db": snrs,
        "budget": args.budget,
        "target": args.target,
        "methods": {
            n: {
                "success": r.success,
                "gvif": r.objective,
                "alpha": r.extras["alpha"],
                "model": list(r.extras["model"]),
                "rate_bits": r.extras["rate_bits"],
                "latency_s": r.latency_s,
                "evaluations_total": r.evaluations,
                "wall_time_s": r.wall_time_s,
            }
            for n, r in res.items()
        },
        "checks": {
            "exact_ge_zo_sgd_everywhere": bool(np.all(ex.objective[ok] >= zo.objective[ok] - 1e-12)),
            "per_image_ge_exact_everywhere": bool(np.all(pi.objective[ok] >= ex.objective[ok] - 1e-12)),
            "exact_latency_within_cap": bool(np.all(ex.latency_s[ok] <= _seconds(args.budget) * (1 + 1e-12))),
            "binding_points": binding,
            "binding_within_one_grid_step": within,
            "max_gap_exact_minus_zo_sgd": float(np.max(ex.objective[ok] - zo.objective[ok]))
            if ok.any()
            else None,
            "mean_gain_per_image_minus_exact": float(np.mean(pi.objective[ok] - ex.objective[ok]))
            if ok.any()
            else None,
        },
    }
    budgets_ms = np.array([2, 3, 5, 7, 10, 15, 20, 30, 40, 60, 80])
    lat = {n: [] for n in ORDER}
    for b in budgets_ms:
        r = _run(table, args.latency_snr, b * 1e-3, target)
        for n in ORDER:
            lat[n].append(r[n].objective if r[n].success else np.nan)
    latency = {"snr_db": args.latency_snr, "budget_ms": budgets_ms, "gvif": lat}

    print(f"GVIF vs SNR on {table.name} (T_max = {args.budget}, D_0 = {args.target})")
    print("snr_dB " + " ".join(f"{n:>12}" for n in ORDER) + "   α*(exact) model(exact)")
    for k, s in enumerate(snrs):
        vals = " ".join(
            f"{res[n].objective[k]:12.4f}" if res[n].success[k] else f"{'infeasible':>12}" for n in ORDER
        )
        print(f"{s:6.1f} {vals}   {ex.extras['alpha'][k]:.3f} {ex.extras['model'][k]}")
    print("checks:", sweep["checks"])
    print(f"GVIF vs T_max at {args.latency_snr} dB:")
    for j, b in enumerate(budgets_ms):
        print(f"  {b:4d} ms " + " ".join(f"{lat[n][j]:8.4f}" for n in ORDER))
    results = {"table": table.name, "sweep": sweep, "latency": latency}
    fig = _figure(table, sweep, latency)
    write_results(
        "gvif_fig9",
        "GVIF vs SNR and vs latency (Huang et al. Fig. 9), α* vs SNR",
        results,
        figure=fig,
        out_dir=args.out_dir,
    )
    return results


def _seconds(budget: str) -> float:
    from semopt.units import parse_duration

    return float(parse_duration(budget))


def _figure(table, sweep, latency):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(1, 3, figsize=(15, 4.2))
    styles = {"exact": "-o", "zo-sgd": "--s", "per-image": "-^", "no-filtering": ":x"}
    snr = sweep["snr_db"]
    for n in ORDER:
        m = sweep["methods"][n]
        y = np.where(np.asarray(m["success"]), m["gvif"], np.nan)
        ax[0].plot(snr, y, styles[n], ms=3, label=n)
        ax[2].plot(latency["budget_ms"], latency["gvif"][n], styles[n], ms=3, label=n)
    ax[0].set(
        xlabel="receive SNR (dB)", ylabel="expected GVIF", title=f"GVIF vs SNR (T_max = {sweep['budget']})"
    )
    for n in ("exact", "zo-sgd", "per-image"):
        m = sweep["methods"][n]
        y = np.where(np.asarray(m["success"]), m["alpha"], np.nan)
        ax[1].plot(snr, y, styles[n], ms=3, label=n + (" (mean)" if n == "per-image" else ""))
    ax[1].set(xlabel="receive SNR (dB)", ylabel="α*", title="filtering threshold α* vs SNR")
    ax[2].set(
        xlabel="latency cap T_max (ms)",
        ylabel="expected GVIF",
        xscale="log",
        title=f"GVIF vs latency ({latency['snr_db']} dB)",
    )
    from matplotlib.ticker import NullFormatter

    ax[2].set_xticks([int(b) for b in latency["budget_ms"]])
    ax[2].set_xticklabels([str(int(b)) for b in latency["budget_ms"]], fontsize=7)
    ax[2].xaxis.set_minor_formatter(NullFormatter())
    for a in ax:
        a.grid(alpha=0.3)
        a.legend(fontsize=8)
    fig.suptitle(
        f"{table.name}: {len(table.models)} models × {len(table.images)} images, "
        f"importance {table.importance_method}"
    )
    fig.tight_layout()
    return fig


if __name__ == "__main__":
    main()
