"""Xu et al. Fig. 9: CDF of the achieved perception over Rayleigh draws at several budgets.

Coded discard-with-error scheme, both shipped tables. For every draw and budget P_max:

* **semantic-aware**: the least perception reachable with Σ q_i ≤ P_max (the best split
  of the budget between the streams, including switching a stream off);
* **semantic-unaware**: both streams received at the same SNR, the whole budget spent.

Run: ``semopt bench minpower_cdf [--draws N] [--out-dir DIR]``.
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np

import semopt
from semopt.benchmarking import write_results
from semopt.link.channel import rayleigh_power_gain, received_snr_db
from semopt.plotting import check_figure
from semopt.units import db_to_linear

BUDGETS_DBM = (-18.0, -15.0, -12.0, -9.0, -6.0)


def _unaware_perception(problem, snr_lin: np.ndarray) -> np.ndarray:
    """Equal received SNR s with Σ q_i = P_max: s = 1 / Σ_i (1/snr_i)."""
    s = 1.0 / np.sum(1.0 / snr_lin, axis=-1)
    rates = problem.error_rate(np.repeat(s[:, None], snr_lin.shape[-1], axis=-1))
    return problem.perception(rates)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="minpower_cdf")
    parser.add_argument("--draws", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out-dir", default=None)
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")
    gains = rayleigh_power_gain((args.draws, 2), np.random.default_rng(args.seed))
    curves = []
    for metric in ("clip", "msssim"):
        problem = semopt.make_allocator("min-power", "global-search",
                                        table=f"xu2025-kodak-{metric}", scheme="discard").problem
        for budget_dbm in BUDGETS_DBM:
            budget_w = 1e-3 * 10 ** (budget_dbm / 10)
            snr_lin = db_to_linear(received_snr_db(budget_w, distance_m=100.0,
                                                   fading_power_gain=gains))
            _, aware, _ = problem.best_within_budget(snr_lin)
            unaware = _unaware_perception(problem, snr_lin)
            curves.append({"table": problem.table.name, "budget_dbm": budget_dbm,
                           "aware_sorted": np.sort(aware), "unaware_sorted": np.sort(unaware),
                           "aware_median": float(np.median(aware)),
                           "unaware_median": float(np.median(unaware)),
                           "aware_better_fraction": float(np.mean(aware < unaware - 1e-12))})
            print(f"{metric:>7} {budget_dbm:+5.1f} dBm: median perception aware "
                  f"{np.median(aware):.4f} vs unaware {np.median(unaware):.4f}")
    figure = _plot(curves, args.draws)
    check_figure(figure)
    results = {"draws": args.draws, "seed": args.seed, "budgets_dbm": BUDGETS_DBM,
               "curves": [{k: v for k, v in c.items() if not k.endswith("_sorted")} for c in curves]}
    path = write_results("minpower_cdf", __doc__.splitlines()[0], results, figure=figure,
                         out_dir=args.out_dir)
    print(f"wrote {path}")
    return results


def _plot(curves: list[dict], draws: int):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    cdf = np.arange(1, draws + 1) / draws
    for ax, name in zip(axes, ("xu2025-kodak-clip", "xu2025-kodak-msssim")):
        for k, c in enumerate(x for x in curves if x["table"] == name):
            ax.plot(c["aware_sorted"], cdf, color=f"C{k}", label=f"{c['budget_dbm']:+.0f} dBm aware")
            ax.plot(c["unaware_sorted"], cdf, color=f"C{k}", ls="--", alpha=0.7,
                    label=f"{c['budget_dbm']:+.0f} dBm unaware")
        ax.set_title(f"{name} (coded discard)", fontsize=10)
        ax.set_xlabel("achieved perception (lower is better)")
        ax.set_ylabel("CDF over Rayleigh draws")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


if __name__ == "__main__":
    main()
