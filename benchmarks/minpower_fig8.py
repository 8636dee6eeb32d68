"""Xu et al. Fig. 8: per-stream BER/BLER and capacity against P̄ (CLIP table).

Four panels on the shipped CLIP table at unit fading (22 dB received SNR per stream at the
10 mW budget, the paper's d = 100 m scenario), for the ``unaware``, ``proportional`` and
``bisection`` methods: (a) BER, uncoded forward-with-error (illustrative surface);
(b) capacity log2(1 + snr_i) of each stream at its allocated power, uncoded; (c) BLER,
coded discard-with-error (published subset values); (d) capacity, coded. The capacities
come from the allocation's ``capacity_bits_per_use`` extra (received SNR in
``received_snr_db``). The paper's readings checked in the JSON: unaware gives both
streams the same capacity (equal received SNRs) and, uncoded, the same BER; coded,
proportional gives both streams the same BLER; above a threshold the edge map's BLER is
1 and its capacity 0 (no power).

Run: ``semopt bench minpower_fig8 [--targets N] [--out-dir DIR]``.
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np

import semopt
from semopt import tables
from semopt.benchmarking import write_results
from semopt.link.channel import received_snr_db
from semopt.plotting import check_figure, stamp_illustrative

BUDGET_W = 0.01
TABLE = "xu2025-kodak-clip"
METHODS = ("unaware", "proportional", "bisection")


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="minpower_fig8")
    parser.add_argument("--targets", type=int, default=80, help="targets P̄ per scheme")
    parser.add_argument("--out-dir", default=None)
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")
    table = tables.load(TABLE)
    snr_db = float(received_snr_db(BUDGET_W, distance_m=100.0))
    schemes = {}
    for scheme in ("forward", "discard"):
        best, worst = table.best(scheme), table.worst(scheme)
        targets = np.linspace(best + 0.01 * (worst - best), best + 0.95 * (worst - best),
                              args.targets)
        snr = np.full((len(targets), 2), snr_db)
        data: dict = {"targets": targets, "source": table.sources[scheme]}
        for m in METHODS:
            r = semopt.allocate(snr, BUDGET_W, targets, method=m, table=table, scheme=scheme)
            data[m] = {"success": r.success, "error_rate": r.error_rate, "power_w": r.power_w,
                       "capacity_bits_per_use": np.asarray(r.extras["capacity_bits_per_use"]),
                       "received_snr_db": np.asarray(r.extras["received_snr_db"])}
        una, pro, bis = (data[m] for m in METHODS)
        ok = una["success"]
        checks = {"unaware_equal_capacity_max_diff_bits": float(np.max(np.abs(
            np.diff(una["capacity_bits_per_use"][ok], axis=1))))}
        if scheme == "forward":  # equal SNRs give equal BERs (uncoded)
            checks["unaware_equal_ber_max_rel_diff"] = float(np.max(np.abs(
                una["error_rate"][ok, 0] / una["error_rate"][ok, 1] - 1)))
        else:  # equal ratios L̄_i/L_i give equal BLERs (coded)
            done = pro["success"]
            checks["proportional_equal_bler_max_rel_diff"] = float(np.max(np.abs(
                pro["error_rate"][done, 0] / pro["error_rate"][done, 1] - 1)))
            checks["unaware_bler_differ_min_ratio"] = float(np.min(
                una["error_rate"][ok, 1] / una["error_rate"][ok, 0]))
        off = targets[bis["success"] & (bis["power_w"][:, 1] == 0.0)]
        checks["bisection_edge_off_from_target"] = float(off.min()) if off.size else None
        data["checks"] = checks
        schemes[scheme] = data
        print(f"{scheme:>8}: {checks}")
    figure = _plot(schemes, table)
    check_figure(figure, illustrative=True)
    results = {"table": TABLE, "snr_db_per_stream_at_budget": snr_db, "budget_w": BUDGET_W,
               "streams": [s.name for s in table.streams], "schemes": schemes,
               "note": "uncoded panels use the illustrative forward surface"}
    path = write_results("minpower_fig8", __doc__.splitlines()[0], results, figure=figure,
                         out_dir=args.out_dir)
    print(f"wrote {path}")
    return results


def _plot(schemes: dict, table):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 2, figsize=(12, 8.4))
    names = [s.name for s in table.streams]
    colours = {"unaware": "k", "proportional": "C0", "bisection": "C3"}
    styles = {0: ("-", "o"), 1: ("--", "s")}
    for row, scheme in enumerate(("forward", "discard")):
        data = schemes[scheme]
        x = data["targets"]
        rate_ax, cap_ax = axes[row]
        for m in METHODS:
            for i in range(2):
                ls, marker = styles[i]
                kw = dict(color=colours[m], ls=ls, marker=marker, ms=3, markevery=(i * 3, 8),
                          label=f"{m}: {names[i]}")
                rate_ax.semilogy(x, data[m]["error_rate"][:, i], **kw)
                cap_ax.plot(x, data[m]["capacity_bits_per_use"][:, i], **kw)
        what = "BER" if scheme == "forward" else "BLER"
        label = "uncoded forward-with-error (illustrative surface)" if scheme == "forward" \
            else "coded discard-with-error"
        letters = "ab" if scheme == "forward" else "cd"
        rate_ax.set_ylabel(f"{what} per stream")
        rate_ax.set_title(f"({letters[0]}) {what}, {label}", fontsize=9)
        cap_ax.set_ylabel("capacity log2(1 + snr_i) (bit/channel use)")
        cap_ax.set_title(f"({letters[1]}) capacity, {label}", fontsize=9)
        for ax in (rate_ax, cap_ax):
            ax.set_xlabel("perception target P̄ (1 − CLIP similarity)")
            ax.grid(alpha=0.3, which="both")
            ax.legend(fontsize=7)
    fig.suptitle(f"{table.name}: per-stream error rate and capacity at 22 dB per stream "
                 "(10 mW, unit fading; Xu et al. Fig. 8)", fontsize=10)
    fig.tight_layout()
    stamp_illustrative(fig, detail="panels (a), (b): illustrative forward surface")
    return fig


if __name__ == "__main__":
    main()
