"""SNR → diffusion timestep for AWGN, Rayleigh (MMSE) and 2×2 MIMO (SVD); schedules; MC check.

Prints and writes ``operating_point_timestep.json`` + ``.png``: the starting timestep u
across SNR for the three channels (linear β, T = 1000, as in Guo et al.), the same for the
three schedules on AWGN, the paper's two numerical claims checked against the mapping,
the Monte-Carlo agreement of the simulated effective noise with the formula, and the
speed of the vectorized mapping against a per-SNR Python loop.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from semopt.benchmarking import time_call, write_results
from semopt.link import diffusion as d


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="operating_point_timestep")
    parser.add_argument("--draws", type=int, default=20_000, help="fading draws per SNR")
    parser.add_argument("--mc-features", type=int, default=200_000)
    parser.add_argument("--out-dir", default=None)
    args = parser.parse_args(argv)
    rng = np.random.default_rng(2025)
    snr_db = np.arange(-10.0, 30.5, 0.5)
    lin = d.get_schedule("linear")

    # --- timestep vs SNR per channel ---------------------------------------------------
    awgn_u = d.map_channel_to_timestep(snr_db, lin).timestep
    h = (rng.standard_normal(args.draws) + 1j * rng.standard_normal(args.draws)) / np.sqrt(2)
    ray = d.map_channel_to_timestep(snr_db[:, None], lin, "rayleigh", gain=h[None, :]).timestep
    H = (rng.standard_normal((args.draws, 2, 2)) + 1j * rng.standard_normal((args.draws, 2, 2)))
    sv = np.linalg.svd(H / np.sqrt(2), compute_uv=False)  # (draws, 2), descending
    mimo = d.map_channel_to_timestep(snr_db[:, None], lin, "mimo",
                                     singular_values=sv[None, :, :]).timestep  # (S, draws, 2)
    pct = [10, 50, 90]
    ray_p = np.percentile(ray, pct, axis=1)
    mimo_p = {i: np.percentile(mimo[:, :, i], pct, axis=1) for i in (0, 1)}

    schedules = {name: d.map_channel_to_timestep(snr_db, name).timestep
                 for name in ("linear", "scaled-linear", "cosine")}

    # --- the paper's numerical statements ------------------------------------------------
    claims = {
        "u200_snr_db": {name: float(d.snr_db_for_timestep(200, name))
                        for name in ("linear", "scaled-linear", "cosine")},
        "paper_u200_snr_db": -1.0,
        "u_at_10db": {name: int(d.map_channel_to_timestep(10.0, name).timestep)
                      for name in ("linear", "scaled-linear", "cosine")},
        "paper_u_at_10db": 70,
    }

    # --- Monte-Carlo agreement -----------------------------------------------------------
    mc = []
    for channel, kw in [("awgn", {}), ("rayleigh", {}), ("rayleigh", {"block_length": 64}),
                        ("mimo", {"n_antennas": 2}), ("mimo", {"n_antennas": 4})]:
        for s in (-5.0, 0.0, 5.0, 10.0, 20.0):
            res = d.monte_carlo_noise_check(channel, s, n_features=args.mc_features,
                                            rng=int(rng.integers(1 << 31)), **kw)
            res["options"] = kw
            mc.append(res)
    zs = np.array([r["z"] for r in mc])

    # --- speed: vectorized vs per-SNR loop ------------------------------------------------
    batch = rng.uniform(-10, 30, 1_000_000)
    vec = time_call(lambda: d.map_channel_to_timestep(batch, lin), repeat=5)
    small = batch[:2000]

    def loop():
        out = np.empty(small.size, dtype=int)
        for i, s in enumerate(small):
            a = 1.0 / (1.0 + 10.0 ** (-s / 10.0))
            out[i] = int(np.argmax(lin.alpha_bar <= a))
        return out

    t0 = time.perf_counter()
    looped = loop()
    loop_s_per = (time.perf_counter() - t0) / small.size
    assert np.array_equal(looped, d.map_channel_to_timestep(small, lin).timestep)
    speed = {"vectorized_1e6_median_s": vec["median_s"],
             "vectorized_per_snr_s": vec["median_s"] / batch.size,
             "python_loop_per_snr_s": loop_s_per,
             "speedup": loop_s_per / (vec["median_s"] / batch.size)}

    results = {
        "snr_db": snr_db, "schedule": "linear, T = 1000 (beta 1e-4 .. 0.02)",
        "awgn_timestep": awgn_u,
        "rayleigh_timestep_percentiles": {str(p): ray_p[i] for i, p in enumerate(pct)},
        "mimo2x2_timestep_percentiles": {
            f"subchannel_{i + 1}": {str(p): mimo_p[i][j] for j, p in enumerate(pct)}
            for i in (0, 1)},
        "awgn_timestep_by_schedule": schedules,
        "paper_claims": claims,
        "monte_carlo": mc,
        "monte_carlo_summary": {"n_checks": len(mc), "max_abs_z": float(np.abs(zs).max()),
                                "mean_z": float(zs.mean())},
        "speed": speed,
    }

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(15, 4.3))
    ax = axes[0]
    ax.plot(snr_db, awgn_u, "k-", lw=2, label="AWGN")
    ax.plot(snr_db, ray_p[1], "C0-", label="Rayleigh + MMSE (median |h|)")
    ax.fill_between(snr_db, ray_p[0], ray_p[2], color="C0", alpha=0.2,
                    label="Rayleigh 10–90 %")
    for i, c in ((0, "C1"), (1, "C2")):
        ax.plot(snr_db, mimo_p[i][1], f"{c}--",
                label=f"2×2 MIMO sub-channel σ{i + 1} (median)")
    ax.set_xlabel("transmit SNR (dB)")
    ax.set_ylabel("starting timestep u")
    ax.set_title("Channel → diffusion step (linear β, T = 1000)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    ax = axes[1]
    for name, u in schedules.items():
        ax.plot(snr_db, u, label=name)
    ax.axhline(200, color="gray", lw=0.8, ls=":")
    ax.annotate("u = 200 (paper: ≈ −1 dB)", (snr_db[0] + 0.5, 210), fontsize=8, color="gray")
    ax.set_xlabel("SNR (dB)")
    ax.set_ylabel("starting timestep u")
    ax.set_title("AWGN: schedule matters")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    ax = axes[2]
    labels = [f"{r['channel']}{'/' + str(r['options'].get('n_antennas', r['options'].get('block_length', ''))) if r['options'] else ''}"  # noqa: E501
              for r in mc]
    snrs = [r["snr_db"] for r in mc]
    points = ax.scatter(range(len(mc)), zs, c=snrs, cmap="viridis")
    fig.colorbar(points, ax=ax, label="SNR of the check (dB)")
    ax.axhspan(-2, 2, color="green", alpha=0.1, label="±2 SE")
    ax.set_xticks(range(0, len(mc), 5), labels[::5], rotation=20, fontsize=8)
    ax.set_xlabel("check: channel/option, 5 SNRs each (−5 … 20 dB)")
    ax.set_ylabel("z = (measured/predicted noise − 1) / SE")
    ax.set_title(f"Monte Carlo, n = {args.mc_features} per point")
    ax.set_ylim(-4, 4)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    path = write_results("operating_point_timestep",
                         "SNR → diffusion timestep for AWGN / Rayleigh-MMSE / 2×2 MIMO-SVD, "
                         "schedules, paper claims, Monte-Carlo check, speed",
                         results, figure=fig, out_dir=args.out_dir)
    print(f"u at 0/10/20 dB (AWGN, linear): {awgn_u[np.searchsorted(snr_db, [0, 10, 20])]}")
    print(f"paper claims: {claims}")
    print(f"Monte Carlo: {len(mc)} checks, max |z| = {np.abs(zs).max():.2f}, "
          f"mean z = {zs.mean():+.2f}")
    print(f"speed: {speed}")
    print(f"wrote {path}")
    return results


if __name__ == "__main__":
    main()
