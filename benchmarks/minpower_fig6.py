"""Xu et al. Fig. 6: total power Σ Z_i q_i versus the perception target P̄.

Both schemes (uncoded forward / coded discard), both shipped tables (CLIP, MS-SSIM),
the methods ``proportional``, ``bisection``, ``unaware`` and the global reference
``global-search``, in the paper's scenario: d = 100 m, −30 dB at 1 m, exponent 3.4,
σ² = −110 dBm, Rayleigh fading (unit mean power gain, seeded draws), a 10 mW budget.
The objective is averaged over the draws that every method solves at every target;
the savings of each method against ``unaware`` are reported (1 − P_method/P_unaware),
over the whole range and below the target above which one stream alone meets P̄ (the
smaller one-stream value: discard subsets P_{1}, P_{2}; forward P_fwd(0, ½), P_fwd(½, 0)),
where both streams must be transmitted. The uncoded panels use the shipped forward
surfaces, which are **illustrative** (built to obey Sec. VI-B, not measured).

Run: ``semopt bench minpower_fig6 [--draws N] [--targets N] [--out-dir DIR]``.
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np

import semopt
from semopt import tables
from semopt.benchmarking import write_results
from semopt.link.channel import rayleigh_power_gain, received_snr_db
from semopt.plotting import check_figure, stamp_illustrative

METHODS = ["unaware", "proportional", "bisection", "global-search"]
BUDGET_W = 0.01


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="minpower_fig6")
    parser.add_argument("--draws", type=int, default=200, help="Rayleigh draws per target")
    parser.add_argument("--targets", type=int, default=25, help="targets P̄ per panel")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out-dir", default=None)
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")
    gains = rayleigh_power_gain((args.draws, 2), np.random.default_rng(args.seed))
    snr_db = received_snr_db(BUDGET_W, distance_m=100.0, fading_power_gain=gains)
    panels = []
    for metric in ("clip", "msssim"):
        table = tables.load(f"xu2025-kodak-{metric}")
        for scheme in ("forward", "discard"):
            best, worst = table.best(scheme), table.worst(scheme)
            targets = np.linspace(best + 0.02 * (worst - best), best + 0.95 * (worst - best),
                                  args.targets)
            snr = np.repeat(snr_db[None], len(targets), axis=0)
            tgt = np.repeat(targets[:, None], args.draws, axis=1)
            results = {m: semopt.allocate(snr, BUDGET_W, tgt, method=m, table=table, scheme=scheme)
                       for m in METHODS}
            # One fixed set of draws for the whole panel: those every method solves at
            # every target (a varying set would make the mean jump between targets).
            solved = np.logical_and.reduce([r.success for r in results.values()]).all(axis=0)
            solved = np.broadcast_to(solved, tgt.shape)
            if scheme == "discard":
                alone = table.discard.values[[1, 2]]
            else:
                alone = table.perception(np.array([[0.0, 0.5], [0.5, 0.0]]), "forward")
            panel = {"table": table.name, "scheme": scheme, "targets": targets,
                     "source": table.sources[scheme], "draws_used": int(solved[0].sum()),
                     "one_stream_values": alone, "both_streams_needed_below": float(alone.min())}
            for m, r in results.items():
                obj = np.where(solved, r.objective, np.nan)
                panel[f"{m}_objective"] = np.nanmean(obj, axis=1)
            both = targets < panel["both_streams_needed_below"]
            for m in METHODS[1:]:
                saving = 1 - panel[f"{m}_objective"] / panel["unaware_objective"]
                panel[f"{m}_saving_vs_unaware"] = saving
                panel[f"{m}_max_saving"] = float(np.nanmax(saving))
                panel[f"{m}_min_saving"] = float(np.nanmin(saving))
                panel[f"{m}_max_saving_both_streams_needed"] = float(np.nanmax(saving[both]))
                panel[f"{m}_min_saving_both_streams_needed"] = float(np.nanmin(saving[both]))
            panels.append(panel)
            print(f"{table.name:>20} {scheme:>8}: saving vs unaware, max (below "
                  f"{panel['both_streams_needed_below']:.4f} / whole range) — "
                  + ", ".join(f"{m} {panel[f'{m}_max_saving_both_streams_needed'] * 100:.1f}% / "
                              f"{panel[f'{m}_max_saving'] * 100:.1f}% (min "
                              f"{panel[f'{m}_min_saving'] * 100:.1f}%)" for m in METHODS[1:]))
    figure = _plot(panels)
    check_figure(figure, illustrative=True)
    results = {"scenario": {"distance_m": 100.0, "path_gain_at_1m_db": -30.0, "exponent": 3.4,
                            "noise_dbm": -110.0, "budget_w": BUDGET_W, "draws": args.draws,
                            "seed": args.seed}, "panels": panels}
    path = write_results("minpower_fig6", __doc__.splitlines()[0], results, figure=figure,
                         out_dir=args.out_dir)
    print(f"wrote {path}")
    return results


def _plot(panels: list[dict]):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 2, figsize=(11, 8.4))
    styles = {"unaware": "k--", "proportional": "C0-o", "bisection": "C3-s", "global-search": "C2:"}
    for ax, panel in zip(axes.ravel(), panels):
        for m, style in styles.items():
            ax.semilogy(panel["targets"], panel[f"{m}_objective"], style, ms=3, label=m)
        ax.axvline(panel["both_streams_needed_below"], color="gray", lw=0.8, ls="-.",
                   label="one stream alone suffices above")
        what = ("uncoded forward (illustrative surface)" if panel["scheme"] == "forward"
                else "coded discard")
        ax.set_title(f"{panel['table']} — {what}", fontsize=10)
        ax.set_xlabel("perception target P̄")
        ax.set_ylabel("mean Σ Z_i q_i  (W·symbols)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.suptitle("Total power vs perception target (Xu et al. Fig. 6 scenario, Rayleigh mean)")
    fig.tight_layout()
    stamp_illustrative(fig, detail="uncoded panels: illustrative forward surface")
    return fig


if __name__ == "__main__":
    main()
