"""Fig. 4 of Qiao et al. recomputed: optimal wireless parameters versus average SNR γ̄.

Prints and writes ``latency_fig4.json`` + ``.png``. For the three Table II targets —
normalized (CLIP, MS-SSIM) = (0.999, 0.991), (0.997, 0.982), (0.978, 0.918), which the
shipped quality curve maps to edge-map BERs 1e-6, 1e-5, 1e-4 — and Table I constants
(|v_0| = 629, |v_1| = 7864 bits), versus γ̄ from 0 to 30 dB:

(a) share of the power budget given to the prompt, (b) latency, (c) bits/symbol of the
edge map, (d) expected prompt transmissions η_R = 1/(1 − PER); for ``lemma1``
(continuous MQAM) and ``discrete`` (orders 4/16/64, Table II rule), with the
semantic-unaware single-stream benchmark (BER 1e-7, full power and 2 MHz) beside them.
"""

from __future__ import annotations

import argparse

import numpy as np

import semopt
from semopt.benchmarking import write_results

TARGETS = {"(0.999, 0.991)": {"clip": 0.999, "ms-ssim": 0.991},
           "(0.997, 0.982)": {"clip": 0.997, "ms-ssim": 0.982},
           "(0.978, 0.918)": {"clip": 0.978, "ms-ssim": 0.918}}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="latency_fig4")
    parser.add_argument("--out-dir", default=None)
    parser.add_argument("--step-db", type=float, default=0.2)
    args = parser.parse_args(argv)
    snr = np.round(np.arange(0.0, 30.0 + 1e-9, args.step_db), 3)
    results: dict = {"snr_db": snr, "targets": {}}
    for label, target in TARGETS.items():
        cont = semopt.allocate(snr, "10 mW", target, problem="latency", method="lemma1")
        disc = semopt.allocate(snr, "10 mW", target, problem="latency", method="discrete")
        results["targets"][label] = {
            "ber": float(cont.extras["target_ber"][0]),
            "lemma1": {"share_prompt": cont.extras["share_prompt"],
                       "latency_s": cont.latency_s,
                       "bits_per_symbol": cont.extras["bits_per_symbol"][:, 0],
                       "expected_transmissions": cont.extras["expected_transmissions"]},
            "discrete": {"share_prompt": disc.extras["share_prompt"],
                         "latency_s": disc.latency_s,
                         "bits_per_symbol": disc.extras["bits_per_symbol"][:, 0],
                         "expected_transmissions": disc.extras["expected_transmissions"],
                         "status": disc.status},
        }
    un_c = semopt.allocate(snr, "10 mW", 1e-6, problem="latency", method="unaware")
    un_d = semopt.allocate(snr, "10 mW", 1e-6, problem="latency", method="unaware",
                           modulation="discrete")
    results["unaware"] = {"continuous_latency_s": un_c.latency_s,
                          "discrete_latency_s": un_d.latency_s,
                          "ber": 1e-7}
    # where the split (lemma1) is faster than the single stream
    faster = {}
    for label in TARGETS:
        lat = results["targets"][label]["lemma1"]["latency_s"]
        faster[label] = {
            "lemma1_faster_than_unaware_continuous_db": snr[lat < un_c.latency_s].tolist(),
            "discrete_feasible_while_unaware_discrete_outage_db": snr[
                np.asarray(results["targets"][label]["discrete"]["status"]) == "optimal"
            ][~np.isfinite(un_d.latency_s[np.asarray(
                results["targets"][label]["discrete"]["status"]) == "optimal"])].tolist()}
    results["comparison"] = faster
    for label, row in results["targets"].items():
        i10 = int(np.argmin(np.abs(snr - 10)))
        i20 = int(np.argmin(np.abs(snr - 20)))
        print(f"{label} (BER {row['ber']:.0e}): lemma1 T(10 dB) = "
              f"{row['lemma1']['latency_s'][i10] * 1e3:.3f} ms, T(20 dB) = "
              f"{row['lemma1']['latency_s'][i20] * 1e3:.3f} ms; prompt share "
              f"{row['lemma1']['share_prompt'][i10]:.3f} -> {row['lemma1']['share_prompt'][i20]:.3f}")
    print(f"unaware (continuous) T(10 dB) = {un_c.latency_s[i10] * 1e3:.3f} ms, "
          f"T(20 dB) = {un_c.latency_s[i20] * 1e3:.3f} ms")

    fig = _figure(snr, results)
    write_results("latency_fig4", __doc__.strip().splitlines()[0], results, figure=fig,
                  out_dir=args.out_dir)
    return results


def _figure(snr: np.ndarray, results: dict):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 2, figsize=(11, 8))
    colors = ["tab:blue", "tab:orange", "tab:green"]
    for color, (label, row) in zip(colors, results["targets"].items()):
        name = f"{label}, BER {row['ber']:.0e}"
        c, d = row["lemma1"], row["discrete"]
        axes[0, 0].plot(snr, 100 * np.asarray(c["share_prompt"]), color=color,
                        label=f"lemma1 {name}")
        axes[0, 0].plot(snr, 100 * np.asarray(d["share_prompt"]), "--", color=color,
                        label=f"discrete {label}")
        axes[0, 1].semilogy(snr, 1e3 * np.asarray(c["latency_s"]), color=color,
                            label=f"lemma1 {name}")
        axes[0, 1].semilogy(snr, 1e3 * np.asarray(d["latency_s"], float), "--", color=color,
                            label=f"discrete {label}")
        axes[1, 0].plot(snr, c["bits_per_symbol"], color=color, label=f"lemma1 {name}")
        axes[1, 0].step(snr, d["bits_per_symbol"], "--", where="post", color=color,
                        label=f"discrete {label}")
        axes[1, 1].semilogy(snr, c["expected_transmissions"], color=color,
                            label=f"lemma1 {name}")
        axes[1, 1].semilogy(snr, np.asarray(d["expected_transmissions"], float), "--",
                            color=color, label=f"discrete {label}")
    un = results["unaware"]
    axes[0, 1].semilogy(snr, 1e3 * np.asarray(un["continuous_latency_s"]), "k-", lw=2,
                        label="unaware, continuous MQAM (BER 1e-7)")
    axes[0, 1].semilogy(snr, 1e3 * np.asarray(un["discrete_latency_s"], float), "k:", lw=2,
                        label="unaware, orders 4/16/64 (BER 1e-7)")
    titles = ["(a) power share of the prompt", "(b) latency",
              "(c) bits/symbol of the edge map", "(d) expected prompt transmissions"]
    ylabels = ["prompt share of P_T (%)", "latency max_i T_i (ms)",
               "edge-map log2 M (bits/symbol)", "E[transmissions] η_R = 1/(1 − PER)"]
    for ax, title, ylabel in zip(axes.flat, titles, ylabels):
        ax.set_title(title)
        ax.set_ylabel(ylabel)
        ax.set_xlabel("average SNR γ̄ (dB)")
        ax.grid(True, which="both", alpha=0.3)
    axes[0, 1].set_ylim(0.3, 60)
    axes[0, 1].legend(fontsize=7)
    axes[1, 0].legend(fontsize=7, loc="upper left")
    fig.suptitle("Qiao et al. Fig. 4 recomputed (Table I, |v0| = 629 b, |v1| = 7864 b); "
                 "solid: continuous MQAM (lemma1), dashed: discrete orders (Table II rule)",
                 fontsize=10)
    fig.tight_layout()
    return fig


if __name__ == "__main__":
    main()
