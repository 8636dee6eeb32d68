"""Speed of the latency methods against what an expert writes: brentq and cvxpy per instance.

Prints and writes ``latency_speed.json`` + ``.png``. Setting of issue 16 unless stated:
Table I scenario, BER 1e-5, average SNR γ̄ uniform in [0, 25] dB (seeded).

1. **Expert baseline**: ``scipy.optimize.brentq`` per instance on
   ``ln T_0(f) = ln T_1(f)`` over the prompt's power fraction ``f`` (scalar ``math``
   functions, bracket ``(1e-300, 1 − 2⁻⁵³)``, ``rtol = 4 eps``): instances/s, and the
   largest relative latency difference to ``lemma1`` on the same instances.
2. **Batched throughput** of ``lemma1``, ``bisection`` and ``discrete`` (one
   ``semopt.make_allocator("latency", m).allocate`` call on a batch) for batches 1 to
   1e6 (calls back to back, medians), with each method's ratio to the brentq baseline
   timed right before and right after that method's calls (the mean of the two: the
   load of the shared machine drifts during the run).
3. **Where the time goes**: parse (validation, dB conversion), solve (the method's
   iterations) and assemble (recheck with the link model, extras, result construction)
   at batches 1e4–1e6, and the top functions of ``cProfile`` for one call at 1e5.
4. **Growth with the number of conditioning streams** I = 1..8 (seeded random
   scenario per I, batch 1e5): throughput of the three batched methods and of a
   per-instance brentq on the common latency ``Σ_i p_i(T) = P_T``.
5. **Per instance against cvxpy** (random scenarios, I = 1..4): median time of a scalar
   ``lemma1``, ``bisection`` and ``cvxpy`` call (the cvxpy program is built once per
   allocator and re-solved, as a user reusing an allocator would), the per-instance
   brentq on ``T``, the ratios, and the latency gaps to ``bisection``.
6. ``joint-bandwidth`` against the equal split and the fixed bandwidths.
7. The old benchmark's setting (γ̄ in [0, 30] dB, BER 1e-6) for ``lemma1`` and
   ``bisection``, to put beside a previous run (``--before PATH`` copies that run's
   throughput rows into this record under ``before``).
8. A diagnostic: section 2 for ``lemma1`` repeated in a child process whose glibc
   allocator keeps freed memory (``GLIBC_TUNABLES`` with large ``mmap_threshold`` /
   ``trim_threshold`` / ``top_pad``), which shows the share of the batched time spent
   in first-touch page faults of fresh result arrays (a property of the machine and
   allocator, not of semopt; not used for the headline numbers).

The machine is shared: the JSON records the load average before and after, and every
ratio is between timings taken in the same process minutes apart.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import math
import os
import pstats
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
from scipy.optimize import brentq

import semopt
from semopt.benchmarking import time_call, write_results
from semopt.link.latency import LN2, LatencyScenario, mqam_gap
from semopt.testing.latency import random_instances, scenario_of, scenario_options

BER = 1e-5
SNR_RANGE_DB = (0.0, 25.0)
BATCHES = (1, 10, 100, 1_000, 10_000, 100_000, 1_000_000)
BATCHED = ("lemma1", "bisection", "discrete")
EPS = float(np.finfo(float).eps)


# --------------------------------------------------------------------------------------
# The expert baselines
# --------------------------------------------------------------------------------------
def brentq_power_fraction(gbar: float, sc: LatencyScenario, ber: float) -> float:
    """Latency (s) from ``brentq`` on ``ln T_0(f) = ln T_1(f)``, one conditioning stream."""
    w0, w1 = sc.bandwidth_fraction
    a0 = sc.prompt_bits / (sc.code_rate * math.log2(sc.prompt_order) * sc.bandwidth_hz[0])
    log_a0 = math.log(a0)
    cw = sc.prompt_c * w0 / gbar
    kg = float(mqam_gap(ber, sc.alpha, sc.beta)) * gbar / w1
    log_b = math.log(sc.stream_bits[0] * LN2 / sc.bandwidth_hz[1])

    def gap(f: float) -> float:  # ln T_0 − ln T_1
        return log_a0 + cw / f - log_b + math.log(math.log1p(kg * (1.0 - f)))

    f = brentq(gap, 1e-300, 1.0 - 2.0**-53, xtol=1e-300, rtol=4 * EPS)
    return a0 * math.exp(cw / f)


def brentq_latency(gbar: float, sc: LatencyScenario, ber: np.ndarray) -> float:
    """Latency (s) from ``brentq`` on ``Σ_i p_i(T)/P_T = 1`` in ``u = ln(T/A_0)``, any I."""
    w = sc.bandwidth_fraction
    a0 = sc.prompt_bits / (sc.code_rate * math.log2(sc.prompt_order) * sc.bandwidth_hz[0])
    pc = w[0] * sc.prompt_c / gbar
    gaps = mqam_gap(ber, sc.alpha, sc.beta)
    streams = [(w[1 + i] / (gaps[i] * gbar), LN2 * sc.stream_bits[i] / (sc.bandwidth_hz[1 + i] * a0))
               for i in range(sc.n_streams) if sc.stream_bits[i] > 0]

    def excess(u: float) -> float:
        e = math.exp(-u)
        return math.log(pc / u + sum(k * math.expm1(a * e) for k, a in streams))

    lo = max([pc] + [math.log(a / math.log1p(1.0 / k)) for k, a in streams])
    hi = max([(1 + len(streams)) * pc]
             + [math.log(a / math.log1p(1.0 / ((1 + len(streams)) * k))) for k, a in streams])
    hi = max(hi, lo) * (1 + 1e-12) + 1e-300
    if excess(lo) <= 0:
        return a0 * math.exp(lo)
    u = brentq(excess, lo, hi, xtol=1e-300, rtol=4 * EPS)
    return a0 * math.exp(u)


def _rate(fn, items, repeat: int = 3) -> tuple[float, list]:
    """Instances per second of ``fn`` over ``items`` (median of ``repeat`` passes)."""
    times, out = [], []
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = [fn(v) for v in items]
        times.append(time.perf_counter() - t0)
    return len(items) / statistics.median(times), out


# --------------------------------------------------------------------------------------
# Sections
# --------------------------------------------------------------------------------------
def expert_section(rng: np.random.Generator, n: int) -> dict:
    sc = LatencyScenario()
    snr = rng.uniform(*SNR_RANGE_DB, n)
    gbar = 10.0 ** (snr / 10.0)
    rate, latency = _rate(lambda g: brentq_power_fraction(g, sc, BER), gbar)
    ours = semopt.allocate(snr, 0.01, BER, problem="latency", method="lemma1").latency_s
    gap = float(np.max(np.abs(np.asarray(latency) / ours - 1.0)))
    print(f"brentq per instance: {rate:.3g}/s over {n} instances; max |latency/lemma1 − 1| "
          f"= {gap:.1e}")
    return {"instances": n, "per_s": rate, "max_rel_latency_gap_to_lemma1": gap}


def throughput_section(rng: np.random.Generator, max_batch: int, brentq_n: int,
                       snr_range: tuple[float, float] = SNR_RANGE_DB, ber: float = BER,
                       methods: tuple[str, ...] = BATCHED, with_brentq: bool = True) -> list:
    """Throughput per batch size, each method's calls back to back (median of repeats).

    With brentq, the baseline is timed (median of 3 passes over ``brentq_n`` instances)
    right before and right after each method's calls; the ratio uses the mean of the two
    (the machine is shared, so the load can drift between sections of the run).
    """
    sc = LatencyScenario()
    rows = []
    allocators = {m: semopt.make_allocator("latency", m) for m in methods}
    for batch in (b for b in BATCHES if b <= max_batch):
        snr = rng.uniform(*snr_range, batch)
        g = 10.0 ** (rng.uniform(*snr_range, brentq_n) / 10.0)
        row: dict = {"batch": batch}
        brentq_rates = []
        for name, allocator in allocators.items():
            heavy = batch * (20 if name == "bisection" else 1) >= 1_000_000
            if with_brentq:
                before = _rate(lambda v: brentq_power_fraction(v, sc, ber), g)[0]
            t = time_call(lambda a=allocator, s=snr: a.allocate(s, 0.01, ber),
                          repeat=3 if heavy else 7)
            row[f"{name}_s"] = t["median_s"]
            row[f"{name}_min_s"] = t["min_s"]
            row[f"{name}_per_s"] = batch / t["median_s"]
            if with_brentq:
                after = _rate(lambda v: brentq_power_fraction(v, sc, ber), g)[0]
                baseline = 0.5 * (before + after)
                brentq_rates += [before, after]
                row[f"{name}_brentq_per_s"] = baseline
                row[f"{name}_over_brentq"] = row[f"{name}_per_s"] / baseline
        if with_brentq:
            row["brentq_per_s"] = statistics.median(brentq_rates)
        rows.append(row)
        text = ", ".join(f"{m} {row[f'{m}_per_s']:.3g}/s"
                         + (f" ({row[f'{m}_over_brentq']:.0f}x brentq)" if with_brentq else "")
                         for m in methods)
        print(f"batch {batch:>8}: {text}"
              + (f"; brentq {row['brentq_per_s']:.3g}/s" if with_brentq else ""))
    return rows


def stages_section(rng: np.random.Generator, max_batch: int) -> dict:
    out: dict = {"rows": []}
    for name in BATCHED:
        allocator = semopt.make_allocator("latency", name)
        problem = allocator.problem
        for batch in (b for b in (10_000, 100_000, 1_000_000) if b <= max_batch):
            snr = rng.uniform(*SNR_RANGE_DB, batch)
            inputs = problem.parse(snr, 0.01, BER)
            solution = allocator.solve(inputs)
            repeat = 3 if batch >= 1_000_000 or name == "bisection" else 5
            parse = time_call(lambda p=problem, s=snr: p.parse(s, 0.01, BER), repeat=repeat)
            solve = time_call(lambda a=allocator, i=inputs: a.solve(i), repeat=repeat)
            assemble = time_call(lambda p=problem, i=inputs, s=solution, m=name: p.assemble(
                i, s, method=m, wall_time_s=0.0), repeat=repeat)
            row = {"method": name, "batch": batch, "iterations": solution.iterations,
                   **{f"{k}_ns_per_row": v["median_s"] / batch * 1e9
                      for k, v in (("parse", parse), ("solve", solve), ("assemble", assemble))}}
            out["rows"].append(row)
            print(f"{name:>9} batch {batch:>8}: parse {row['parse_ns_per_row']:.0f}, solve "
                  f"{row['solve_ns_per_row']:.0f} ({solution.iterations} iterations), assemble "
                  f"{row['assemble_ns_per_row']:.0f} ns/row")
    allocator = semopt.make_allocator("latency", "lemma1")
    snr = rng.uniform(*SNR_RANGE_DB, 100_000)
    allocator.allocate(snr, 0.01, BER)
    profile = cProfile.Profile()
    profile.enable()
    for _ in range(3):
        allocator.allocate(snr, 0.01, BER)
    profile.disable()
    text = io.StringIO()
    pstats.Stats(profile, stream=text).sort_stats("tottime").print_stats(12)
    out["cprofile_lemma1_1e5_x3"] = [line.rstrip() for line in text.getvalue().splitlines()
                                     if line.strip()][:30]
    return out


def streams_section(rng: np.random.Generator, batch: int, brentq_n: int) -> list:
    rows = []
    for n in range(1, 9):
        sc = LatencyScenario(stream_bits=tuple(int(v) for v in rng.integers(2000, 12000, n)),
                             bandwidth_hz=(1e6,))
        ber = np.full(n, BER)
        options = scenario_options(sc)
        snr = rng.uniform(*SNR_RANGE_DB, batch)
        row: dict = {"streams": n, "batch": batch}
        for name in BATCHED:
            allocator = semopt.make_allocator("latency", name, **options)
            t = time_call(lambda a=allocator, s=snr, t=list(ber): a.allocate(s, 0.01, t),
                          repeat=3)
            row[f"{name}_per_s"] = batch / t["median_s"]
        g = 10.0 ** (rng.uniform(*SNR_RANGE_DB, brentq_n) / 10.0)
        row["brentq_t_per_s"], lat = _rate(lambda v, sc=sc, ber=ber: brentq_latency(v, sc, ber), g)
        ours = semopt.allocate(10 * np.log10(g), 0.01, list(ber), problem="latency",
                               **options).latency_s
        row["max_rel_gap_brentq_t"] = float(np.max(np.abs(np.asarray(lat) / ours - 1)))
        row["lemma1_over_brentq_t"] = row["lemma1_per_s"] / row["brentq_t_per_s"]
        rows.append(row)
        print(f"I={n}: " + ", ".join(f"{m} {row[f'{m}_per_s']:.3g}/s" for m in BATCHED)
              + f", brentq on T {row['brentq_t_per_s']:.3g}/s (lemma1 "
                f"{row['lemma1_over_brentq_t']:.0f}x, gap {row['max_rel_gap_brentq_t']:.1e})")
    return rows


def per_instance_section(instances: int, lemma1_batched_per_s: float) -> list:
    rows = []
    for n_streams in (1, 2, 3, 4):
        refs = [r for r in random_instances(8 * instances, seed=100 + n_streams)
                if len(r.options["stream_bits"]) == n_streams][:instances]
        times: dict[str, list[float]] = {"lemma1": [], "bisection": [], "cvxpy": [],
                                         "brentq_t": []}
        gaps_cvx, gaps_newton, gaps_brentq = [], [], []
        for ref in refs:
            call = (ref.snr, ref.budget, ref.target)
            lat = {}
            for name in ("lemma1", "bisection", "cvxpy"):
                allocator = semopt.make_allocator("latency", name, **ref.options)
                allocator.allocate(*call)               # warm-up (cvxpy: build + compile)
                t0 = time.perf_counter()
                out = allocator.allocate(*call)
                times[name].append(time.perf_counter() - t0)
                lat[name] = out.latency_s
            sc = scenario_of(ref)
            g = 10.0 ** (ref.snr / 10.0)
            t0 = time.perf_counter()
            lat["brentq_t"] = brentq_latency(g, sc, np.asarray(ref.target))
            times["brentq_t"].append(time.perf_counter() - t0)
            gaps_cvx.append(abs(lat["cvxpy"] / lat["bisection"] - 1))
            gaps_newton.append(abs(lat["lemma1"] / lat["bisection"] - 1))
            gaps_brentq.append(abs(lat["brentq_t"] / lat["bisection"] - 1))
        row = {"streams": n_streams, "instances": len(refs),
               **{f"{k}_median_s": float(np.median(v)) for k, v in times.items()},
               "max_rel_gap_cvxpy": float(max(gaps_cvx)),
               "max_rel_gap_lemma1": float(max(gaps_newton)),
               "max_rel_gap_brentq_t": float(max(gaps_brentq))}
        row["cvxpy_over_lemma1_call"] = row["cvxpy_median_s"] / row["lemma1_median_s"]
        row["cvxpy_over_brentq_t"] = row["cvxpy_median_s"] / row["brentq_t_median_s"]
        row["lemma1_batched_over_cvxpy"] = lemma1_batched_per_s * row["cvxpy_median_s"]
        row["lemma1_batched_over_brentq_t"] = lemma1_batched_per_s * row["brentq_t_median_s"]
        rows.append(row)
        print(f"I={n_streams}: lemma1 call {row['lemma1_median_s'] * 1e3:.3f} ms, bisection "
              f"{row['bisection_median_s'] * 1e3:.3f} ms, cvxpy {row['cvxpy_median_s'] * 1e3:.2f} "
              f"ms, brentq on T {row['brentq_t_median_s'] * 1e6:.0f} µs; batched lemma1 is "
              f"{row['lemma1_batched_over_cvxpy']:.0f}x cvxpy and "
              f"{row['lemma1_batched_over_brentq_t']:.0f}x brentq per instance; max |gap| "
              f"cvxpy {row['max_rel_gap_cvxpy']:.1e}, lemma1 {row['max_rel_gap_lemma1']:.1e}")
    return rows


def joint_section(instances: int) -> tuple[list, dict]:
    rows = []
    for ref in random_instances(2 * instances, seed=7):
        call = (ref.snr, ref.budget, ref.target)
        sc = scenario_of(ref)
        n, total = sc.n_streams, sc.total_bandwidth_hz
        equal = scenario_options(sc.with_bandwidth([total / (1 + n)] * (1 + n)))
        fixed = semopt.allocate(*call, problem="latency", **ref.options)
        eq = semopt.allocate(*call, problem="latency", **equal)
        joint_alloc = semopt.make_allocator("latency", "joint-bandwidth", **ref.options)
        joint_alloc.allocate(*call)
        t0 = time.perf_counter()
        joint = joint_alloc.allocate(*call)
        dt = time.perf_counter() - t0
        rows.append({"streams": n, "snr_db": ref.snr, "time_s": dt, "status": joint.status,
                     "latency_joint_s": joint.latency_s, "latency_equal_s": eq.latency_s,
                     "latency_fixed_s": fixed.latency_s,
                     "gain_vs_equal": 1 - joint.latency_s / eq.latency_s,
                     "gain_vs_fixed": 1 - joint.latency_s / fixed.latency_s})
    gains = np.array([r["gain_vs_equal"] for r in rows])
    summary = {"median_gain_vs_equal": float(np.nanmedian(gains)),
               "min_gain_vs_equal": float(np.nanmin(gains)),
               "max_gain_vs_equal": float(np.nanmax(gains)),
               "median_time_s": float(np.median([r["time_s"] for r in rows])),
               "optimal": int(sum(r["status"] == "optimal" for r in rows)), "instances": len(rows)}
    print(f"joint-bandwidth: median {summary['median_time_s'] * 1e3:.1f} ms, latency gain vs "
          f"equal split median {summary['median_gain_vs_equal']:.1%} (min "
          f"{summary['min_gain_vs_equal']:.2e}, max {summary['max_gain_vs_equal']:.1%}); "
          f"{summary['optimal']} of {summary['instances']} optimal")
    return rows, summary


MALLOC_TUNABLES = ("glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold="
                   "4294967296:glibc.malloc.top_pad=536870912")


def malloc_diagnostic(max_batch: int, brentq_n: int) -> dict:
    """Section 2 for lemma1 in a child process with a retaining glibc allocator."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "child.json"
        env = dict(os.environ, GLIBC_TUNABLES=MALLOC_TUNABLES)
        done = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--child-json",
                               str(path), "--max-batch", str(max_batch), "--brentq-instances",
                               str(brentq_n)], env=env, capture_output=True, text=True,
                              check=False)
        if done.returncode != 0 or not path.is_file():
            return {"error": done.stderr[-2000:]}
        rows = json.loads(path.read_text())
    print("malloc diagnostic (GLIBC_TUNABLES, child process): " + "; ".join(
        f"batch {r['batch']} lemma1 {r['lemma1_per_s']:.3g}/s = {r['lemma1_over_brentq']:.0f}x"
        for r in rows if r["batch"] >= 10_000))
    return {"glibc_tunables": MALLOC_TUNABLES, "throughput": rows}


# --------------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="latency_speed")
    parser.add_argument("--out-dir", default=None)
    parser.add_argument("--instances", type=int, default=12, help="random instances per I")
    parser.add_argument("--max-batch", type=int, default=1_000_000)
    parser.add_argument("--brentq-instances", type=int, default=2000)
    parser.add_argument("--before", type=Path, default=None,
                        help="a previous latency_speed.json whose throughput rows are copied "
                             "into this record (side-by-side comparison)")
    parser.add_argument("--no-malloc-diagnostic", action="store_true")
    parser.add_argument("--child-json", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")
    if args.child_json is not None:
        rows = throughput_section(np.random.default_rng(1), args.max_batch,
                                  args.brentq_instances, methods=("lemma1",))
        args.child_json.write_text(json.dumps([r for r in rows if r["batch"] >= 1000]))
        return {}
    load_before = os.getloadavg()
    rng = np.random.default_rng(0)
    expert = expert_section(rng, args.brentq_instances)
    throughput = throughput_section(rng, args.max_batch, args.brentq_instances)
    stages = stages_section(rng, args.max_batch)
    streams = streams_section(rng, min(100_000, args.max_batch), args.brentq_instances // 4)
    big = [r for r in throughput if r["batch"] >= 10_000]
    lemma1_best = max((r["lemma1_per_s"] for r in big), default=throughput[-1]["lemma1_per_s"])
    per_instance = per_instance_section(args.instances, lemma1_best)
    joint_rows, joint_summary = joint_section(args.instances)
    print("old benchmark setting (γ̄ in [0, 30] dB, BER 1e-6):")
    old_setting = throughput_section(rng, args.max_batch, args.brentq_instances,
                                     snr_range=(0.0, 30.0), ber=1e-6,
                                     methods=("lemma1", "bisection"), with_brentq=False)
    diagnostic = None if args.no_malloc_diagnostic else malloc_diagnostic(
        args.max_batch, args.brentq_instances)
    ratios = {f"batch_{r['batch']}": {m: r[f"{m}_over_brentq"] for m in BATCHED} for r in big}
    results = {
        "setting": {"scenario": "Table I", "ber": BER, "snr_db_range": SNR_RANGE_DB,
                    "load_average_before": load_before},
        "expert_brentq": expert, "throughput": throughput, "ratios_to_brentq": ratios,
        "stages": stages, "streams": streams, "per_instance": per_instance,
        "joint": joint_rows, "joint_summary": joint_summary,
        "old_setting_throughput": old_setting, "malloc_diagnostic": diagnostic,
    }
    if args.before is not None:
        before = json.loads(args.before.read_text())
        results["before"] = {"date": before.get("date"), "machine": before.get("machine"),
                             "throughput": before["results"]["throughput"],
                             "per_instance": before["results"].get("per_instance")}
    results["setting"]["load_average_after"] = os.getloadavg()
    for key, value in ratios.items():
        print(f"{key}: " + ", ".join(f"{m} {v:.0f}x brentq" for m, v in value.items()))
    write_results("latency_speed", __doc__.strip().splitlines()[0], results,
                  figure=_figure(throughput, streams, per_instance, old_setting,
                                 results.get("before")), out_dir=args.out_dir)
    return results


def _figure(throughput: list[dict], streams: list[dict], per_instance: list[dict],
            old_setting: list[dict], before: dict | None):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax1, ax2, ax3) = plt.subplots(1, 3, figsize=(16, 4.4))
    b = [r["batch"] for r in throughput]
    for name, marker in zip(BATCHED, "osd"):
        ax1.loglog(b, [r[f"{name}_per_s"] for r in throughput], marker + "-", label=name)
    ax1.loglog(b, [r["brentq_per_s"] for r in throughput], "k:", label="brentq per instance")
    ax1.loglog(b, [300 * r["brentq_per_s"] for r in throughput], color="gray", ls="--",
               label="300 × brentq")
    if before is not None:
        bb = [r["batch"] for r in before["throughput"]]
        ax1.loglog(bb, [r["lemma1_per_s"] for r in before["throughput"]], "o", mfc="none",
                   color="tab:blue", label="lemma1 before the port (old setting)")
        ax1.loglog([r["batch"] for r in old_setting], [r["lemma1_per_s"] for r in old_setting],
                   "x", color="tab:blue", label="lemma1 now (old setting)")
    ax1.set_xlabel("batch size (one call)")
    ax1.set_ylabel("allocations per second")
    ax1.set_title("batched throughput, Table I, I = 1")
    ax1.grid(True, which="both", alpha=0.3)
    ax1.legend(fontsize=7)
    s = [r["streams"] for r in streams]
    for name, marker in zip(BATCHED, "osd"):
        ax2.semilogy(s, [r[f"{name}_per_s"] for r in streams], marker + "-", label=name)
    ax2.semilogy(s, [r["brentq_t_per_s"] for r in streams], "k:", label="brentq on T per instance")
    ax2.set_xlabel("conditioning streams I")
    ax2.set_ylabel("allocations per second")
    ax2.set_title(f"growth with I (batch {streams[0]['batch']:g})")
    ax2.grid(True, which="both", alpha=0.3)
    ax2.legend(fontsize=7)
    s = [r["streams"] for r in per_instance]
    for key, marker in (("lemma1", "o"), ("bisection", "s"), ("cvxpy", "^"), ("brentq_t", "v")):
        ax3.semilogy(s, [r[f"{key}_median_s"] * 1e3 for r in per_instance], marker + "-",
                     label=f"{key} (one call)")
    ax3.set_xticks(s)
    ax3.set_xlabel("conditioning streams I")
    ax3.set_ylabel("median time per instance (ms)")
    ax3.set_title("per instance, random scenarios")
    ax3.grid(True, which="both", alpha=0.3)
    ax3.legend(fontsize=7)
    fig.tight_layout()
    return fig


if __name__ == "__main__":
    main()
