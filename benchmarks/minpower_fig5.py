"""Xu et al. Fig. 5: perception with one stream received correctly, forward vs discard.

For each shipped table (CLIP, MS-SSIM) and each stream kept error-free, the perception as
the other stream's error rate grows from 1e-8 to its maximum:

* **discard** (coded): P(0, Ψ) = (1 − Ψ) P_{1,2} + Ψ P_{1} (edge map varying; the prompt
  varying likewise with P_{2}) — exact from the published subset values;
* **forward** (uncoded): P_fwd(0, ψ) on the table's forward surface — **illustrative**
  (the shipped surface is built to obey the paper's statements, not measured).

The paper's finding (Sec. VI-B): forwarding a high-error stream is worse than discarding
it — P_fwd(0, ½) > P_{1} and P_fwd(½, 0) > P_{2}. The JSON gives both ends. (A BER and
a BLER of the same value are different amounts of damage — a BER of 1e-4 on the 10429-bit
edge map is about one bit error per map — so only the ends are compared.)

Run: ``semopt bench minpower_fig5 [--points N] [--out-dir DIR]``.
"""

from __future__ import annotations

import argparse

import numpy as np

from semopt import tables
from semopt.benchmarking import write_results
from semopt.plotting import check_figure, stamp_illustrative

TABLES = ("xu2025-kodak-clip", "xu2025-kodak-msssim")


def _curves(table, points: int) -> list[dict]:
    """One dict per error-free stream: the other stream's error rate and both perceptions."""
    out = []
    rate = np.logspace(-8.0, 0.0, points)  # BLER up to 1; BER capped at ½ below
    for correct in (0, 1):
        other = 1 - correct
        names = [s.name for s in table.streams]
        ber = np.minimum(rate, 0.5)
        fwd_rates = np.zeros((len(ber), 2))
        fwd_rates[:, other] = ber
        dis_rates = np.zeros((len(rate), 2))
        dis_rates[:, other] = rate
        forward = table.perception(fwd_rates, "forward")
        discard = table.perception(dis_rates, "discard")
        alone = float(table.discard.values[1 << correct])  # P with only `correct` received
        out.append({
            "correct_stream": names[correct], "varying_stream": names[other],
            "error_rate": rate, "forward_perception": forward, "discard_perception": discard,
            "forward_at_max_ber": float(forward[rate >= 0.5][0]),
            "discard_at_bler_1": float(discard[-1]), "only_correct_stream_received": alone,
            "paper_claim_holds": bool(forward[rate >= 0.5][0] > alone)})
    return out


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="minpower_fig5")
    parser.add_argument("--points", type=int, default=321, help="error rates per curve")
    parser.add_argument("--out-dir", default=None)
    args = parser.parse_args(argv)
    panels = []
    for name in TABLES:
        table = tables.load(name)
        curves = _curves(table, args.points)
        panels.append({"table": name, "metric": table.metric, "sources": table.sources,
                       "curves": curves})
        for c in curves:
            print(f"{name:>20}: {c['correct_stream']} correct, {c['varying_stream']} at max error: "
                  f"forward {c['forward_at_max_ber']:.4f} (illustrative) vs discard "
                  f"{c['only_correct_stream_received']:.4f} (published); forwarding worse: "
                  f"{c['paper_claim_holds']}")
    figure = _plot(panels)
    check_figure(figure, illustrative=True)
    results = {"panels": panels,
               "note": "forward curves: illustrative surface (not measured); discard curves: "
                       "exact from the published subset values"}
    path = write_results("minpower_fig5", __doc__.splitlines()[0], results, figure=figure,
                         out_dir=args.out_dir)
    print(f"wrote {path}")
    return results


def _plot(panels: list[dict]):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.4))
    for ax, panel in zip(axes, panels):
        for k, c in enumerate(panel["curves"]):
            colour = f"C{k}"
            x = c["error_rate"]
            ax.semilogx(np.minimum(x, 0.5), c["forward_perception"], "-", color=colour, lw=1.6,
                        label=f"forward, {c['correct_stream']} correct, {c['varying_stream']} "
                              "BER (illustrative)")
            ax.semilogx(x, c["discard_perception"], "--", color=colour, lw=1.6,
                        label=f"discard, {c['correct_stream']} correct, {c['varying_stream']} "
                              "BLER")
            ax.axhline(c["only_correct_stream_received"], color=colour, ls=":", lw=0.9,
                       label=f"only {c['correct_stream']} received (published)")
        ax.set_xlabel("error rate of the other stream (BER uncoded, BLER coded)")
        ax.set_ylabel(f"perception value P ({panel['metric']}, lower is better)")
        ax.set_title(f"{panel['table']}", fontsize=10)
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=7, loc="upper left")
    fig.suptitle("One stream received correctly: forwarding the other at high error is worse "
                 "than discarding it (Xu et al. Fig. 5)", fontsize=10)
    fig.tight_layout()
    stamp_illustrative(fig, detail="forward curves: illustrative surface")
    return fig


if __name__ == "__main__":
    main()
