"""Xu et al. Fig. 7: per-stream transmit power against the perception target P̄ (coded).

Coded discard-with-error scheme, both shipped tables (published subset values), the
paper's scenario (d = 100 m, −30 dB at 1 m, exponent 3.4, σ² = −110 dBm, 10 mW budget,
Rayleigh draws; the mean over the draws that every method solves at every target) and
unit fading. For ``global-search`` (the optimum; ``bisection`` agrees to 0.5 %) and the
``unaware`` baseline: the power q_i of each stream, and its energy per payload bit
N_i q_i / K_i. The paper's reading: power drops sharply where one stream's power
becomes zero — the edge map above P̄ = P_{1} (the prompt alone suffices); the JSON also
records where the prompt is off (MS-SSIM: between P_{2} and P_{1}).

Run: ``semopt bench minpower_fig7 [--draws N] [--targets N] [--out-dir DIR]``.
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np

import semopt
from semopt import tables
from semopt.benchmarking import write_results
from semopt.link.channel import rayleigh_power_gain, received_snr_db
from semopt.plotting import check_figure

BUDGET_W = 0.01
METHODS = ("global-search", "unaware")


def _off_ranges(targets: np.ndarray, power: np.ndarray) -> list[list[float] | None]:
    """Per stream, [first, last] target at which its power is exactly zero (None if never)."""
    out = []
    for i in range(power.shape[-1]):
        off = targets[power[:, i] == 0.0]
        out.append([float(off.min()), float(off.max())] if off.size else None)
    return out


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="minpower_fig7")
    parser.add_argument("--draws", type=int, default=200, help="Rayleigh draws per target")
    parser.add_argument("--targets", type=int, default=120, help="targets P̄ per panel")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out-dir", default=None)
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")
    gains = rayleigh_power_gain((args.draws, 2), np.random.default_rng(args.seed))
    snr_db = received_snr_db(BUDGET_W, distance_m=100.0, fading_power_gain=gains)
    unit_db = received_snr_db(BUDGET_W, distance_m=100.0)
    panels = []
    for name in ("xu2025-kodak-clip", "xu2025-kodak-msssim"):
        table = tables.load(name)
        best, worst = table.best("discard"), table.worst("discard")
        targets = np.linspace(best + 0.005 * (worst - best), best + 0.95 * (worst - best),
                              args.targets)
        snr = np.repeat(snr_db[None], len(targets), axis=0)
        tgt = np.repeat(targets[:, None], args.draws, axis=1)
        faded = {m: semopt.allocate(snr, BUDGET_W, tgt, method=m, table=table, scheme="discard")
                 for m in METHODS}
        unit = {m: semopt.allocate(np.full((len(targets), 2), unit_db), BUDGET_W, targets,
                                   method=m, table=table, scheme="discard") for m in METHODS}
        solved = np.logical_and.reduce([r.success for r in faded.values()]).all(axis=0)
        k_bits = np.array([s.bits for s in table.streams], dtype=float)
        n_sym = np.asarray(unit["global-search"].extras["symbols"], dtype=float)
        panel = {"table": name, "targets": targets, "draws_used": int(solved.sum()),
                 "streams": [s.name for s in table.streams],
                 "prompt_only_P1": float(table.discard.values[1]),
                 "edge_only_P2": float(table.discard.values[2]),
                 "unit_fading_snr_db": float(unit_db)}
        for m in METHODS:
            power = np.where(solved[None, :, None], faded[m].power_w, np.nan)
            mean = np.nanmean(power, axis=1)
            panel[f"{m}_mean_power_w"] = mean
            panel[f"{m}_mean_energy_per_bit"] = mean * n_sym / k_bits
            panel[f"{m}_unit_power_w"] = unit[m].power_w
            panel[f"{m}_unit_off_range"] = _off_ranges(targets, unit[m].power_w)
            panel[f"{m}_fraction_of_draws_stream_off"] = np.mean(
                faded[m].power_w[:, solved] == 0.0, axis=1)
        total = panel["global-search_mean_power_w"] @ n_sym
        jump = np.argmax(total[:-1] / np.maximum(total[1:], 1e-300))
        panel["sharpest_drop"] = {"between_targets": [float(targets[jump]),
                                                      float(targets[jump + 1])],
                                  "ratio": float(total[jump] / total[jump + 1])}
        panels.append(panel)
        print(f"{name:>20}: unit fading, global-search stream off at P̄ in "
              f"{dict(zip(panel['streams'], panel['global-search_unit_off_range']))}; "
              f"sharpest drop of the mean Σ N_i q_i ×{panel['sharpest_drop']['ratio']:.3g} "
              f"between P̄ = {panel['sharpest_drop']['between_targets']} "
              f"(P_{{1}} = {panel['prompt_only_P1']}, P_{{2}} = {panel['edge_only_P2']})")
    figure = _plot(panels)
    check_figure(figure)
    results = {"scenario": {"distance_m": 100.0, "path_gain_at_1m_db": -30.0, "exponent": 3.4,
                            "noise_dbm": -110.0, "budget_w": BUDGET_W, "draws": args.draws,
                            "seed": args.seed, "scheme": "discard"}, "panels": panels}
    path = write_results("minpower_fig7", __doc__.splitlines()[0], results, figure=figure,
                         out_dir=args.out_dir)
    print(f"wrote {path}")
    return results


def _plot(panels: list[dict]):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(12, 4.6))
    styles = {("global-search", 0): ("C0", "-", "o"), ("global-search", 1): ("C3", "-", "s"),
              ("unaware", 0): ("C0", "--", None), ("unaware", 1): ("C3", "--", None)}
    for ax, panel in zip(axes, panels):
        for m in METHODS:
            for i, stream in enumerate(panel["streams"]):
                colour, ls, marker = styles[(m, i)]
                ax.plot(panel["targets"], 1e6 * panel[f"{m}_mean_power_w"][:, i], ls,
                        color=colour, marker=marker, ms=2.5, markevery=6,
                        label=f"{m}: {stream} (Rayleigh mean)")
            unit = panel["global-search_unit_power_w"]
        for i, stream in enumerate(panel["streams"]):
            ax.plot(panel["targets"], 1e6 * unit[:, i], ":", color=styles[("global-search", i)][0],
                    lw=1.0, label=f"global-search: {stream} (unit fading)")
        for key, label in (("prompt_only_P1", r"$P_{\{1\}}$ (prompt only)"),
                           ("edge_only_P2", r"$P_{\{2\}}$ (edge only)")):
            ax.axvline(panel[key], color="gray", lw=0.8, ls="-.")
            ax.text(panel[key], ax.get_ylim()[1] * 0.97, f" {label}", fontsize=7, va="top",
                    rotation=90, color="gray")
        ax.set_xlabel("perception target P̄ (1 − similarity, lower is stricter)")
        ax.set_ylabel("transmit power per stream q_i (µW)")
        ax.set_title(f"{panel['table']} — coded discard-with-error", fontsize=10)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.suptitle("Per-stream power vs P̄ (Xu et al. Fig. 7 scenario, 10 mW, d = 100 m)",
                 fontsize=10)
    fig.tight_layout()
    return fig


if __name__ == "__main__":
    main()
