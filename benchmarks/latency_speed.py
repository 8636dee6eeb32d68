"""Speed and agreement of the latency methods: lemma1 / bisection (batched) vs cvxpy.

Prints and writes ``latency_speed.json`` + ``.png``:

1. Allocations per second of ``lemma1`` and ``bisection`` (one vectorized call) versus
   the batch size, Table I scenario, γ̄ uniform in [0, 30] dB.
2. Per instance on random scenarios with I = 1..4 conditioning streams: median wall
   time of a scalar ``lemma1`` call, ``bisection`` call and ``cvxpy`` call (the problem
   is built once per scenario and re-solved with new parameters, as a user reusing an
   allocator would), the speed ratios, and the relative latency gap of cvxpy and
   lemma1 to bisection.
3. ``joint-bandwidth`` (cvxpy, convex reformulation) against the equal split and the
   fixed Table-I bandwidths: latency gain and time per instance.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np

from semopt.allocators.latency import (
    BisectionAllocator,
    CvxpyAllocator,
    JointBandwidthAllocator,
    Lemma1Allocator,
)
from semopt.benchmarking import time_call, write_results
from semopt.testing.latency import random_instances


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="latency_speed")
    parser.add_argument("--out-dir", default=None)
    parser.add_argument("--instances", type=int, default=12, help="random instances per I")
    parser.add_argument("--max-batch", type=int, default=100_000)
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")
    rng = np.random.default_rng(0)

    # 1. batched throughput
    batches = [b for b in (1, 10, 100, 1_000, 10_000, 100_000, 1_000_000) if b <= args.max_batch]
    throughput = []
    for batch in batches:
        snr = rng.uniform(0, 30, batch)
        row = {"batch": batch}
        for name, cls in (("lemma1", Lemma1Allocator), ("bisection", BisectionAllocator)):
            alloc = cls()
            t = time_call(lambda a=alloc, s=snr: a.allocate(s, 0.01, 1e-6),
                          repeat=3 if batch >= 100_000 else 5)
            row[f"{name}_s"] = t["median_s"]
            row[f"{name}_per_s"] = batch / t["median_s"]
        throughput.append(row)
        print(f"batch {batch:>8}: lemma1 {row['lemma1_per_s']:.3g}/s, "
              f"bisection {row['bisection_per_s']:.3g}/s")

    # 2. per instance vs cvxpy, I = 1..4
    per_instance = []
    for n_streams in (1, 2, 3, 4):
        refs = [r for r in random_instances(8 * args.instances, seed=100 + n_streams)
                if r.scenario.n_streams == n_streams][: args.instances]
        times = {"lemma1": [], "bisection": [], "cvxpy": []}
        gaps_cvx, gaps_newton = [], []
        for ref in refs:
            call = (ref.snr_db, ref.budget_w, list(ref.target_ber))
            lat = {}
            for name, cls in (("lemma1", Lemma1Allocator), ("bisection", BisectionAllocator),
                              ("cvxpy", CvxpyAllocator)):
                alloc = cls(scenario=ref.scenario)
                alloc.allocate(*call)               # warm-up (cvxpy: build + compile)
                t0 = time.perf_counter()
                out = alloc.allocate(*call)
                times[name].append(time.perf_counter() - t0)
                lat[name] = out.latency_s
            gaps_cvx.append(abs(lat["cvxpy"] / lat["bisection"] - 1))
            gaps_newton.append(abs(lat["lemma1"] / lat["bisection"] - 1))
        row = {"streams": n_streams, "instances": len(refs),
               **{f"{k}_median_s": float(np.median(v)) for k, v in times.items()},
               "max_rel_gap_cvxpy": float(max(gaps_cvx)),
               "max_rel_gap_lemma1": float(max(gaps_newton))}
        row["cvxpy_over_lemma1"] = row["cvxpy_median_s"] / row["lemma1_median_s"]
        row["cvxpy_over_bisection"] = row["cvxpy_median_s"] / row["bisection_median_s"]
        per_instance.append(row)
        print(f"I={n_streams}: lemma1 {row['lemma1_median_s'] * 1e3:.3f} ms, bisection "
              f"{row['bisection_median_s'] * 1e3:.3f} ms, cvxpy {row['cvxpy_median_s'] * 1e3:.2f} ms "
              f"(x{row['cvxpy_over_lemma1']:.0f} lemma1); max |gap| cvxpy {row['max_rel_gap_cvxpy']:.1e}, "
              f"lemma1 {row['max_rel_gap_lemma1']:.1e}")

    # 3. joint bandwidth + power
    joint_rows = []
    for ref in random_instances(2 * args.instances, seed=7):
        call = (ref.snr_db, ref.budget_w, list(ref.target_ber))
        n = ref.scenario.n_streams
        total = ref.scenario.total_bandwidth_hz
        equal = Lemma1Allocator(scenario=ref.scenario.with_bandwidth([total / (1 + n)] * (1 + n)))
        fixed = Lemma1Allocator(scenario=ref.scenario).allocate(*call)
        joint_alloc = JointBandwidthAllocator(scenario=ref.scenario)
        joint_alloc.allocate(*call)
        t0 = time.perf_counter()
        joint = joint_alloc.allocate(*call)
        dt = time.perf_counter() - t0
        eq = equal.allocate(*call)
        joint_rows.append({"streams": n, "snr_db": ref.snr_db, "time_s": dt,
                           "latency_joint_s": joint.latency_s, "latency_equal_s": eq.latency_s,
                           "latency_fixed_s": fixed.latency_s,
                           "gain_vs_equal": 1 - joint.latency_s / eq.latency_s,
                           "gain_vs_fixed": 1 - joint.latency_s / fixed.latency_s})
    gains = np.array([r["gain_vs_equal"] for r in joint_rows])
    print(f"joint-bandwidth: median {np.median([r['time_s'] for r in joint_rows]) * 1e3:.1f} ms, "
          f"latency gain vs equal split median {np.median(gains):.1%} "
          f"(min {gains.min():.2e}, max {gains.max():.1%})")
    results = {"throughput": throughput, "per_instance": per_instance, "joint": joint_rows,
               "joint_summary": {"median_gain_vs_equal": float(np.median(gains)),
                                 "min_gain_vs_equal": float(gains.min()),
                                 "max_gain_vs_equal": float(gains.max()),
                                 "median_time_s": float(np.median([r["time_s"]
                                                                   for r in joint_rows]))}}
    write_results("latency_speed", __doc__.strip().splitlines()[0], results,
                  figure=_figure(throughput, per_instance), out_dir=args.out_dir)
    return results


def _figure(throughput: list[dict], per_instance: list[dict]):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4))
    b = [r["batch"] for r in throughput]
    ax1.loglog(b, [r["lemma1_per_s"] for r in throughput], "o-", label="lemma1 (Newton)")
    ax1.loglog(b, [r["bisection_per_s"] for r in throughput], "s-", label="bisection on T")
    ax1.axhline(1e5, color="gray", ls=":", label="1e5 / s")
    ax1.set_xlabel("batch size (one vectorized call)")
    ax1.set_ylabel("allocations per second")
    ax1.set_title("batched throughput, Table I, I = 1")
    ax1.grid(True, which="both", alpha=0.3)
    ax1.legend()
    s = [r["streams"] for r in per_instance]
    for key, marker in (("lemma1", "o"), ("bisection", "s"), ("cvxpy", "^")):
        ax2.semilogy(s, [r[f"{key}_median_s"] * 1e3 for r in per_instance], marker + "-",
                     label=key)
    for r in per_instance:
        ax2.annotate(f"gap {r['max_rel_gap_cvxpy']:.0e}", (r["streams"], r["cvxpy_median_s"] * 1e3),
                     textcoords="offset points", xytext=(-20, 8), fontsize=7)
    ax2.set_xticks(s)
    ax2.set_xlabel("conditioning streams I")
    ax2.set_ylabel("median time per instance (ms)")
    ax2.set_title("per instance (cvxpy: max |latency gap| to bisection)")
    ax2.grid(True, which="both", alpha=0.3)
    ax2.legend()
    fig.tight_layout()
    return fig


if __name__ == "__main__":
    main()
