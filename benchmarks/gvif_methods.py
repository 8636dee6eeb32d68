"""``exact`` vs ``zo-sgd`` (and ``per-image``) on the GVIF problem: objective, evaluations, time.

At each SNR of a sweep (T_max 20 ms, 1 MHz, default shipped table) and for several
ZO-SGD seeds: expected GVIF of each method, the gap to ``exact``, the function
evaluations (per-image evaluations of (V, B): ZO-SGD counts 2|Γ| per iteration plus its
full-dataset checks; ``exact`` evaluates every breakpoint of every feasible model once --
K per model, each one an expectation over the N images, done with cumulative sums) and
the median wall time of one allocation (fresh allocator; ``exact`` also timed warm, when
its per-model breakpoint curves are cached). Writes ``gvif_methods.json`` + ``.png``.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from semopt import tables
from semopt.allocators.gvif import DEFAULT_TABLE, ExactAllocator, PerImageAllocator, ZoSgdAllocator
from semopt.benchmarking import time_call, write_results


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="gvif_methods")
    parser.add_argument("--table", default=DEFAULT_TABLE)
    parser.add_argument("--out-dir", default=None)
    parser.add_argument("--budget", type=float, default=0.02)
    parser.add_argument("--seeds", type=int, default=5)
    args = parser.parse_args(argv)
    table = tables.load(args.table)
    snrs = [-4.0, 0.0, 4.0, 8.0, 12.0, 16.0]
    rows = []
    for s in snrs:
        ex_cold = []
        for _ in range(3):
            t0 = time.perf_counter()
            ex = ExactAllocator(table=table).allocate(s, args.budget, None)
            ex_cold.append(time.perf_counter() - t0)
        warm = ExactAllocator(table=table)
        warm.allocate(s, args.budget, None)
        ex_warm = time_call(lambda a=warm, s=s: a.allocate(s, args.budget, None), repeat=20)["median_s"]
        zo_vals, zo_evals, zo_time, zo_iters = [], [], [], []
        for seed in range(args.seeds):
            t0 = time.perf_counter()
            z = ZoSgdAllocator(table=table, seed=seed).allocate(s, args.budget, None)
            zo_time.append(time.perf_counter() - t0)
            zo_vals.append(z.objective if z.success else np.nan)
            zo_evals.append(z.evaluations)
            zo_iters.append(z.iterations)
        t0 = time.perf_counter()
        pi = PerImageAllocator(table=table).allocate(s, args.budget, None)
        pi_time = time.perf_counter() - t0
        n = max(1, table.n_images)
        row = {
            "snr_db": s,
            "feasible": bool(ex.success),
            "exact": {
                "gvif": ex.objective,
                "alpha": ex.extras["alpha"],
                "model": ex.extras["model"],
                "breakpoint_evaluations": ex.evaluations,
                "per_image_evaluations": ex.evaluations * n,
                "time_cold_s": statistics.median(ex_cold),
                "time_warm_s": ex_warm,
            },
            "zo_sgd": {
                "gvif_median": float(np.nanmedian(zo_vals)),
                "gvif_min": float(np.nanmin(zo_vals)),
                "gap_to_exact_median": float(ex.objective - np.nanmedian(zo_vals)),
                "gap_to_exact_max": float(ex.objective - np.nanmin(zo_vals)),
                "per_image_evaluations_median": float(np.median(zo_evals)),
                "iterations_median": float(np.median(zo_iters)),
                "time_median_s": statistics.median(zo_time),
            },
            "per_image": {
                "gvif": pi.objective,
                "gain_over_exact": float(pi.objective - ex.objective),
                "time_s": pi_time,
            },
        }
        rows.append(row)
        print(
            f"SNR {s:5.1f} dB: exact {ex.objective:.4f} (α {ex.extras['alpha']:.3f}, {ex.extras['model']}, "
            f"{ex.evaluations} breakpoints = {ex.evaluations * n} per-image evals, "
            f"{1e3 * statistics.median(ex_cold):.2f} ms cold / {1e3 * ex_warm:.3f} ms warm) | zo-sgd median "
            f"{np.nanmedian(zo_vals):.4f} (gap {ex.objective - np.nanmedian(zo_vals):.4f}, "
            f"{np.median(zo_evals):.0f} per-image evals, {1e3 * statistics.median(zo_time):.1f} ms) | "
            f"per-image {pi.objective:.4f}"
        )
    summary = {
        "exact_ge_zo_sgd_all_runs": all(
            r["zo_sgd"]["gap_to_exact_max"] >= -1e-12 for r in rows if r["feasible"]
        ),
        "median_time_ratio_zo_over_exact_cold": float(
            np.median([r["zo_sgd"]["time_median_s"] / r["exact"]["time_cold_s"] for r in rows])
        ),
        "median_eval_ratio_zo_over_exact": float(
            np.median(
                [
                    r["zo_sgd"]["per_image_evaluations_median"] / r["exact"]["per_image_evaluations"]
                    for r in rows
                ]
            )
        ),
    }
    print("summary:", summary)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(1, 2, figsize=(11, 4))
    ax[0].plot(snrs, [r["exact"]["gvif"] for r in rows], "-o", label="exact")
    ax[0].plot(
        snrs, [r["zo_sgd"]["gvif_median"] for r in rows], "--s", label=f"zo-sgd (median of {args.seeds})"
    )
    ax[0].plot(snrs, [r["per_image"]["gvif"] for r in rows], "-^", label="per-image")
    ax[0].set(xlabel="receive SNR (dB)", ylabel="expected GVIF", title="objective")
    ax[1].semilogy(
        snrs, [r["exact"]["per_image_evaluations"] for r in rows], "-o", label="exact: evaluations"
    )
    ax[1].semilogy(
        snrs, [r["zo_sgd"]["per_image_evaluations_median"] for r in rows], "--s", label="zo-sgd: evaluations"
    )
    ax[1].semilogy(snrs, [1e6 * r["exact"]["time_cold_s"] for r in rows], "-o", alpha=0.5, label="exact: µs")
    ax[1].semilogy(
        snrs, [1e6 * r["zo_sgd"]["time_median_s"] for r in rows], "--s", alpha=0.5, label="zo-sgd: µs"
    )
    ax[1].set(xlabel="receive SNR (dB)", title="per-image evaluations and wall time (µs)")
    for a in ax:
        a.grid(alpha=0.3)
        a.legend(fontsize=8)
    fig.tight_layout()
    results = {"table": table.name, "budget_s": args.budget, "rows": rows, "summary": summary}
    write_results(
        "gvif_methods",
        "exact vs zo-sgd vs per-image: objective, evaluations, time",
        results,
        figure=fig,
        out_dir=args.out_dir,
    )
    return results


if __name__ == "__main__":
    main()
