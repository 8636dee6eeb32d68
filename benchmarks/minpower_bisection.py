"""Gap of bisection (the paper's Algorithm 1 and its 16-arc form) and global-search to the dense grid.

Targets P̄ in each regime set by the one-stream perception values (coded: the subset
values P_{1}, P_{2}; uncoded: P_fwd(0, ½), P_fwd(½, 0)), sorted, cutting (P_best,
P_worst) into three intervals with ``--targets``/3 targets each; ``--draws`` channels
(unit fading, then Rayleigh draws) around the paper's 22 dB at 10 mW; both shipped
tables, both schemes (the uncoded surfaces are illustrative); every summary is also given
for the first 6 channels (60 targets × 6 draws). Methods: ``bisection``
with ``segments=1`` (Algorithm 1 on the whole curve, verbatim), ``bisection`` (16 arcs,
the default), ``global-search``, each against ``exhaustive`` (a 20001-point grid, itself
up to ~3e-5 above the optimum where the curve is steep; negative gaps are real).

Run: ``semopt bench minpower_bisection [--targets N] [--draws N] [--out-dir DIR]``.
"""

from __future__ import annotations

import argparse
import itertools
import warnings

import numpy as np

import semopt
from semopt import tables
from semopt.benchmarking import write_results
from semopt.plotting import check_figure, stamp_illustrative

METHODS = {"bisection (segments=1, Algorithm 1)": ("bisection", {"segments": 1}),
           "bisection (16 arcs)": ("bisection", {}),
           "global-search": ("global-search", {})}
BUDGET_W = 0.01
FIRST_DRAWS = 6
"""Also summarized: the first 6 channels (unit fading + 5 draws; the same for any --draws)."""


def regime_edges(table, scheme: str) -> np.ndarray:
    if scheme == "discard":
        alone = table.discard.values[[1, 2]]
    else:
        alone = table.perception(np.array([[0.0, 0.5], [0.5, 0.0]]), "forward")
    return np.concatenate([[table.best(scheme)], np.sort(alone), [table.worst(scheme)]])


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="minpower_bisection")
    parser.add_argument("--targets", type=int, default=60, help="targets (a multiple of 3)")
    parser.add_argument("--draws", type=int, default=30, help="channels: unit fading + Rayleigh")
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--out-dir", default=None)
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")
    rng = np.random.default_rng(args.seed)
    gains_db = np.vstack([np.zeros((1, 2)),
                          10 * np.log10(rng.exponential(size=(args.draws - 1, 2)))])
    snr = 22.0 + gains_db
    per = max(args.targets // 3, 1)
    panels = []
    for name in ("xu2025-kodak-clip", "xu2025-kodak-msssim"):
        table = tables.load(name)
        for scheme in ("discard", "forward"):
            edges = regime_edges(table, scheme)
            targets = np.concatenate([lo + (hi - lo) * np.linspace(0.02, 0.98, per)
                                      for lo, hi in itertools.pairwise(edges)])
            regime = np.repeat(np.arange(3), per)
            grid_snr = np.repeat(snr[:, None, :], len(targets), axis=1)
            grid_t = np.broadcast_to(targets, grid_snr.shape[:2])
            truth = semopt.allocate(grid_snr, BUDGET_W, grid_t, method="exhaustive",
                                    table=table, scheme=scheme)
            panel = {"table": name, "scheme": scheme, "source": table.sources[scheme],
                     "regime_edges": edges, "targets": targets,
                     "cases": int(truth.success.size), "solved": int(truth.success.sum()),
                     "methods": {}}
            for label, (method, options) in METHODS.items():
                res = semopt.allocate(grid_snr, BUDGET_W, grid_t, method=method, table=table,
                                      scheme=scheme, **options)
                ok = truth.success & res.success
                gap = np.where(ok, res.objective / truth.objective - 1.0, np.nan)
                first = gap[:FIRST_DRAWS]
                entry = {"status_mismatches": int(np.sum(res.success != truth.success)),
                         "max_gap": float(np.nanmax(gap)), "median_gap": float(np.nanmedian(gap)),
                         "min_gap": float(np.nanmin(gap)),
                         "max_gap_per_target": np.nanmax(gap, axis=0),
                         "max_gap_per_regime": [float(np.nanmax(gap[:, regime == r]))
                                                for r in range(3)],
                         f"max_gap_first_{FIRST_DRAWS}_draws": float(np.nanmax(first)),
                         f"max_gap_per_regime_first_{FIRST_DRAWS}_draws": [
                             float(np.nanmax(first[:, regime == r])) for r in range(3)]}
                panel["methods"][label] = entry
                print(f"{name:>20} {scheme:>8} {label:>36}: max gap {entry['max_gap']:.3g} "
                      f"(first {FIRST_DRAWS} draws {np.nanmax(first):.3g}), per regime "
                      f"{[f'{g:.3g}' for g in entry['max_gap_per_regime']]}, "
                      f"status mismatches {entry['status_mismatches']}")
            panels.append(panel)
    figure = _plot(panels)
    check_figure(figure, illustrative=True)
    results = {"budget_w": BUDGET_W, "snr_db": snr, "seed": args.seed, "panels": panels}
    path = write_results("minpower_bisection", __doc__.splitlines()[0], results, figure=figure,
                         out_dir=args.out_dir)
    print(f"wrote {path}")
    return results


def _plot(panels: list[dict]):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 2, figsize=(12, 8.4))
    styles = ["C3-o", "C0-s", "C2:^"]
    floor = 1e-12
    for ax, panel in zip(axes.ravel(), panels):
        for (label, entry), style in zip(panel["methods"].items(), styles):
            ax.semilogy(panel["targets"], np.maximum(entry["max_gap_per_target"], floor), style,
                        ms=3, label=label)
        for edge in panel["regime_edges"][1:-1]:
            ax.axvline(edge, color="gray", lw=0.8, ls="-.")
        ax.axhline(5e-3, color="k", lw=0.8, ls="--", label="0.5 % (test bound of bisection)")
        what = "uncoded (illustrative surface)" if panel["scheme"] == "forward" else "coded"
        ax.set_title(f"{panel['table']} — {what}; dash-dot: regime edges", fontsize=9)
        ax.set_xlabel("perception target P̄")
        ax.set_ylabel(f"max over draws of the gap to the dense grid (clipped at {floor:g})")
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=7)
    fig.tight_layout()
    stamp_illustrative(fig, detail="uncoded panels: illustrative forward surface")
    return fig


if __name__ == "__main__":
    main()
