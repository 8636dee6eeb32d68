"""GVIF methods side by side: ZO-SGD's gap to ``exact`` at every SNR, and ``exact``'s speed.

On the default shipped GVIF table (1 MHz, T_max = 20 ms), one run:

1. **Sweep** over every SNR of −6…24 dB in 1 dB steps (this covers the Fig. 9 range
   −2…24 dB), for each target of ``--targets`` (default: the paper's 30 dB minimum PSNR,
   26 dB, and no distortion cap). A target that no model of the table meets is reported
   as such (every SNR infeasible, with the best model PSNR the table has), never dropped.
   Per SNR: ``exact`` (E[GVIF], α*, model); ``zo-sgd`` at its
   defaults for ``--seeds`` seeds (status, E[GVIF], gap to ``exact``, per-image
   evaluations, iterations, the penalty point α̃ and the α after the feasibility repair);
   ``per-image`` (its gain over ``exact``) and ``no-filtering`` (feasible or not, and its
   latency). Checks: ZO-SGD converged (status ``optimal``) wherever ``exact`` is feasible,
   for every seed, within 0.05 GVIF of ``exact``.
2. **ZO-SGD variants** on the same sweep (:data:`VARIANTS`: the linear penalty scaling, no
   clipping, smaller steps, the stall rule without the stationarity test, mini-batches of
   8 images): how many SNRs are certified optimal, how many stop at ``max_iter``, the
   largest gap, to show what each default buys.
3. **Robustness of the defaults** on the synthetic tables of :mod:`semopt.testing.gvif`
   (illustrative data; :data:`SYNTHETIC`), caps 0.2, 0.4 and 1 ms, 3 seeds: certified rows,
   rows at ``max_iter``, the largest gap.
4. **Batch throughput of exact**: batches of 1e3, 1e4 and 1e5 SNRs drawn uniformly in
   −6…24 dB (one warm allocator, median of 5 calls), with the time split into parse,
   solve and assemble (the recheck); and a per-row loop of 1000 single calls.
5. **Single-call times of exact**: cold (table read from its file, problem curves and
   envelope built, then one call; imports already done), a new allocator on an already
   loaded table, and warm (curves cached).

Writes ``gvif_methods.json`` + ``.png``. Run: ``semopt bench gvif_methods``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np

import semopt
from semopt import tables
from semopt.benchmarking import time_call, write_results

GAP_LIMIT = 0.05
VARIANTS = ({}, {"scaling": "linear"}, {"max_step": None}, {"step": 0.01, "max_step": None},
            {"decrease_tol": 1e9}, {"penalty": 50.0, "step": 0.001},
            {"penalty": 50.0, "step": 0.001, "decrease_tol": 1e9}, {"batch_size": 8},
            {"batch_size": 8, "max_iter": 3000})
"""ZO-SGD variants beside the defaults: the linear penalty scaling, no clipping, smaller
steps, a stiff penalty with a small step, each with and without the stationarity test
(``decrease_tol`` 1e9 accepts every stall: Algorithm 1's ξ rule alone), and mini-batches
of 8 images."""
SYNTHETIC = ((0, 12, 4), (1, 8, 3), (2, 16, 5), (3, 5, 4), (5, 6, 4))
"""(seed, images, models) of the synthetic tables of the robustness check (illustrative data)."""



def _sweep(table, snrs, budget, target, seeds):
    """Per-SNR rows for one target (see the module docstring, item 1)."""
    call = {"problem": "gvif", "table": table}
    ex = semopt.allocate(snrs, budget, target, method="exact", **call)
    pi = semopt.allocate(snrs, budget, target, method="per-image", **call)
    nf = semopt.allocate(snrs, budget, target, method="no-filtering", **call)
    rows = []
    for k, s in enumerate(snrs):
        zo = [semopt.allocate(float(s), budget, target, method="zo-sgd", seed=seed, **call)
              for seed in range(seeds)]
        feasible = bool(ex.success[k])
        gaps = [float(ex.objective[k] - z.objective) if feasible else None for z in zo]
        names = list(ex.extras["models"])
        star = [float(ex.extras["alpha_per_model"][k][names.index(z.extras["model"])])
                if feasible and z.extras["model"] else None for z in zo]
        rows.append({
            "snr_db": float(s), "feasible": feasible,
            "exact": {"status": str(ex.status[k]), "gvif": float(ex.objective[k]),
                      "alpha": float(ex.extras["alpha"][k]), "model": str(ex.extras["model"][k]),
                      "least_latency_ms": 1e3 * float(ex.extras["least_latency_s"][k])},
            "zo_sgd": {
                "status": [z.status for z in zo], "gvif": [z.objective for z in zo],
                "gap_to_exact": gaps,
                "gap_max": max(gaps) if feasible else None,
                "evaluations": [z.evaluations for z in zo],
                "iterations": [z.iterations for z in zo],
                "alpha_penalty": [z.extras["alpha_penalty"] for z in zo],
                "alpha_star_of_its_model": star,
                "alpha": [z.extras["alpha"] for z in zo],
                "converged_all": all(z.status == "optimal" for z in zo) if feasible else None,
            },
            "per_image": {"status": str(pi.status[k]), "gvif": float(pi.objective[k]),
                          "gain_over_exact": float(pi.objective[k] - ex.objective[k])
                          if feasible else None},
            "no_filtering": {"status": str(nf.status[k]), "gvif": float(nf.objective[k]),
                             "latency_ms": 1e3 * float(nf.latency_s[k])},
        })
    return rows, ex.evaluations


def _penalty_errors(rows):
    """α̃ − α*(Φ) of every seed and feasible SNR (negative: the infeasible side)."""
    return np.array([a - b for r in rows for a, b in zip(r["zo_sgd"]["alpha_penalty"],
                                                        r["zo_sgd"]["alpha_star_of_its_model"])
                     if b is not None])


def _variant(table, snrs, budget, target, exact, **options):
    """Convergence and largest gap of a zo-sgd variant over a sweep (one batched call)."""
    z = semopt.allocate(snrs, budget, target, problem="gvif", method="zo-sgd", table=table, **options)
    ok = exact.success
    gap = exact.objective[ok] - z.objective[ok]
    return {"options": {k: v for k, v in options.items()},
            "optimal": int(np.count_nonzero(z.status[ok] == "optimal")),
            "feasible_snrs": int(np.count_nonzero(ok)),
            "max_iterations": int(np.count_nonzero(z.status == "max_iterations")),
            "gap_max": float(np.max(gap)) if gap.size else None,
            "evaluations_total": z.evaluations, "iterations_max": z.iterations}


def _robustness(seeds):
    """zo-sgd at its defaults on synthetic tables (illustrative): certified rows and gaps."""
    from semopt.testing.gvif import synthetic_table

    snrs = np.arange(-6.0, 24.0 + 1e-9, 1.0)
    rows, feasible, certified, at_cap, gap = [], 0, 0, 0, 0.0
    for seed, n_images, n_models in SYNTHETIC:
        table = synthetic_table(seed=seed, n_images=n_images, n_models=n_models)
        for budget in ("0.2 ms", "0.4 ms", "1 ms"):
            ex = semopt.allocate(snrs, budget, None, problem="gvif", table=table)
            ok = ex.success
            for run_seed in range(seeds):
                z = semopt.allocate(snrs, budget, None, problem="gvif", method="zo-sgd",
                                    table=table, seed=run_seed)
                n_ok = int(np.count_nonzero(z.status[ok] == "optimal"))
                g = float(np.max(ex.objective[ok] - z.objective[ok])) if ok.any() else 0.0
                feasible += int(ok.sum())
                certified += n_ok
                at_cap += int(np.count_nonzero(z.status[ok] == "max_iterations"))
                gap = max(gap, g)
                rows.append({"table": [seed, n_images, n_models], "budget": budget, "seed": run_seed,
                             "feasible": int(ok.sum()), "optimal": n_ok, "gap_max": g})
    print(f"zo-sgd on {len(SYNTHETIC)} synthetic tables (illustrative) × 3 caps × {seeds} seeds: "
          f"{certified} of {feasible} feasible rows optimal, {at_cap} at max_iter, largest gap {gap:.2e}")
    return {"tables": [list(t) for t in SYNTHETIC], "feasible_rows": feasible,
            "optimal_rows": certified, "max_iterations_rows": at_cap, "gap_max": gap, "runs": rows}


def _throughput(table, budget, target, sizes):
    allocator = semopt.make_allocator("gvif", "exact", table=table)
    allocator.allocate(0.0, budget, target)
    problem = allocator.problem
    rng = np.random.default_rng(0)
    rows = []
    for n in sizes:
        snr = rng.uniform(-6.0, 24.0, n)
        t = time_call(lambda s=snr: allocator.allocate(s, budget, target), repeat=5)
        parts = {"parse": [], "solve": [], "assemble": []}
        for _ in range(5):
            t0 = time.perf_counter()
            inputs = problem.parse(snr, budget, target)
            t1 = time.perf_counter()
            solution = allocator.solve(inputs)
            t2 = time.perf_counter()
            problem.assemble(inputs, solution, method="exact", wall_time_s=0.0)
            t3 = time.perf_counter()
            for key, dt in zip(parts, (t1 - t0, t2 - t1, t3 - t2)):
                parts[key].append(dt)
        rows.append({"batch": n, "median_s": t["median_s"], "per_s": n / t["median_s"],
                     **{f"{k}_s": statistics.median(v) for k, v in parts.items()}})
        print(f"exact, batch {n:>6}: {t['median_s'] * 1e3:8.2f} ms = {n / t['median_s']:,.0f} SNRs/s "
              f"(parse {rows[-1]['parse_s'] * 1e3:.2f} ms, solve {rows[-1]['solve_s'] * 1e3:.2f} ms, "
              f"assemble {rows[-1]['assemble_s'] * 1e3:.2f} ms)")
    snr = rng.uniform(-6.0, 24.0, 1000)
    t0 = time.perf_counter()
    for s in snr:
        allocator.allocate(float(s), budget, target)
    loop_s = time.perf_counter() - t0
    print(f"exact, 1000 single calls in a loop: {loop_s * 1e3:.1f} ms = {1000 / loop_s:,.0f} SNRs/s")
    return {"batches": rows, "loop_1000_single_calls_s": loop_s, "loop_per_s": 1000 / loop_s}


def _single_call_times(table_name, budget, target, repeat=7):
    cold, load, fresh = [], [], []
    for _ in range(repeat):
        t0 = time.perf_counter()
        table = tables.load(table_name)
        t1 = time.perf_counter()
        semopt.make_allocator("gvif", "exact", table=table).allocate(5.0, budget, target)
        t2 = time.perf_counter()
        semopt.make_allocator("gvif", "exact", table=table).allocate(5.0, budget, target)
        t3 = time.perf_counter()
        cold.append(t2 - t0)
        load.append(t1 - t0)
        fresh.append(t3 - t2)
    warm_alloc = semopt.make_allocator("gvif", "exact", table=table)
    warm = time_call(lambda: warm_alloc.allocate(5.0, budget, target), repeat=50)["median_s"]
    out = {"cold_s": statistics.median(cold), "table_load_s": statistics.median(load),
           "new_allocator_on_loaded_table_s": statistics.median(fresh), "warm_s": warm}
    print(f"exact single call: cold {out['cold_s'] * 1e3:.1f} ms (of which table load "
          f"{out['table_load_s'] * 1e3:.1f} ms), new allocator on a loaded table "
          f"{out['new_allocator_on_loaded_table_s'] * 1e3:.1f} ms, warm {warm * 1e3:.3f} ms")
    return out


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="gvif_methods")
    parser.add_argument("--table", default=semopt.get_problem("gvif").default_table)
    parser.add_argument("--out-dir", default=None)
    parser.add_argument("--budget", default="20 ms")
    parser.add_argument("--targets", default="30dB,26dB,none",
                        help="comma-separated distortion caps (the paper's is 30dB)")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--max-batch", type=int, default=100_000)
    args = parser.parse_args(argv)
    table = tables.load(args.table)
    best_psnr = max(m.psnr_db for m in table.models)
    snrs = np.arange(-6.0, 24.0 + 1e-9, 1.0)
    targets = [t.strip() for t in args.targets.split(",") if t.strip()]
    sweeps, variants = {}, {}
    for target in targets:
        cap = None if target.lower() == "none" else target
        exact = semopt.allocate(snrs, args.budget, cap, problem="gvif", method="exact", table=table)
        if not np.any(exact.success) and "no candidate model meets D_0" in exact.message:
            note = (f"no model of {table.name} meets D_0 = {target} (best model PSNR "
                    f"{best_psnr:.2f} dB): every SNR is infeasible for every method")
            print(f"target {target}: {note}")
            sweeps[target] = {"feasible_models": 0, "note": note, "rows": []}
            continue
        rows, exact_evals = _sweep(table, snrs, args.budget, cap, args.seeds)
        feasible = [r for r in rows if r["feasible"]]
        summary = {
            "feasible_snrs": len(feasible), "snrs": len(rows),
            "zo_sgd_converged_at_every_feasible_snr_and_seed": all(r["zo_sgd"]["converged_all"]
                                                                  for r in feasible),
            "zo_sgd_gap_max": max((r["zo_sgd"]["gap_max"] for r in feasible), default=None),
            "zo_sgd_within_limit_everywhere": all(r["zo_sgd"]["gap_max"] < GAP_LIMIT for r in feasible),
            "zo_sgd_evaluations_median": float(np.median([e for r in feasible
                                                          for e in r["zo_sgd"]["evaluations"]]))
            if feasible else None,
            "exact_per_image_evaluations": exact_evals,
            "exact_breakpoint_evaluations": exact_evals // max(1, table.n_images),
            "no_filtering_infeasible_snrs": [r["snr_db"] for r in rows
                                             if r["feasible"] and r["no_filtering"]["status"] != "optimal"],
            "per_image_gain_mean": float(np.mean([r["per_image"]["gain_over_exact"] for r in feasible]))
            if feasible else None,
            # How far the ZO-SGD penalty point α̃ is from exact's α* (before the repair), and
            # how often it is on the infeasible side (α̃ < α*, which the repair closes).
            "penalty_point_error_median": float(np.median(_penalty_errors(feasible)))
            if feasible else None,
            "penalty_point_error_min": float(np.min(_penalty_errors(feasible)))
            if feasible else None,
            "penalty_point_error_max": float(np.max(_penalty_errors(feasible)))
            if feasible else None,
            "penalty_point_infeasible_side_share": float(np.mean(_penalty_errors(feasible) < 0))
            if feasible else None,
        }
        problem = semopt.make_allocator("gvif", "exact", table=table).problem
        allowed = int(problem.parse(0.0, args.budget, cap).models_ok.sum())
        sweeps[target] = {"feasible_models": allowed, "rows": rows, "summary": summary}
        print(f"target {target} (T_max {args.budget}): {summary['feasible_snrs']} of {len(rows)} SNRs "
              f"feasible; exact's answers are drawn from {exact_evals} per-image evaluations "
              f"(breakpoint curves, cached)")
        print(f"{'SNR':>5} {'exact':>7} {'α*':>6} {'model':>12} | zo-sgd gap max  evals(median) "
              f"its(max) status | per-image | no-filtering")
        for r in rows:
            if not r["feasible"]:
                least = r["exact"]["least_latency_ms"]
                print(f"{r['snr_db']:5.1f} infeasible (least latency {least:.3g} ms)")
                continue
            z, nf = r["zo_sgd"], r["no_filtering"]
            nf_text = nf["status"] if nf["status"] == "optimal" else \
                f"{nf['status']} ({nf['latency_ms']:.3g} ms)"
            print(f"{r['snr_db']:5.1f} {r['exact']['gvif']:7.4f} {r['exact']['alpha']:6.3f} "
                  f"{r['exact']['model']:>12} | {z['gap_max']:13.2e}  {np.median(z['evaluations']):12.0f} "
                  f"{max(z['iterations']):8d} {'all optimal' if z['converged_all'] else z['status']} | "
                  f"{r['per_image']['gvif']:.4f} | {nf_text}")
        print("summary:", summary)
        variants[target] = [_variant(table, snrs, args.budget, cap, exact, **opts)
                            for opts in VARIANTS]
        for v in variants[target]:
            print(f"  zo-sgd {v['options'] or 'defaults'}: {v['optimal']} of {v['feasible_snrs']} "
                  f"feasible SNRs optimal, {v['max_iterations']} at max_iter, largest gap "
                  f"{v['gap_max']:.2e}, {v['evaluations_total']} evaluations")
    robustness = _robustness(min(args.seeds, 3))
    sizes = [n for n in (1_000, 10_000, 100_000) if n <= args.max_batch]
    speed_target = next((t for t in targets if sweeps[t]["rows"]), "none")
    speed_cap = None if speed_target.lower() == "none" else speed_target
    throughput = _throughput(table, args.budget, speed_cap, sizes)
    single = _single_call_times(args.table, args.budget, speed_cap)
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    print(f"load average during the timings: {load} on {os.cpu_count()} CPUs")
    results = {"table": table.name, "budget": args.budget, "targets": targets,
               "best_model_psnr_db": best_psnr, "sweeps": sweeps, "zo_sgd_variants": variants,
               "zo_sgd_synthetic_robustness": robustness,
               "speed_target": speed_target, "exact_throughput": throughput,
               "exact_single_call": single, "load_average_1_5_15min": load,
               "cpus": os.cpu_count()}
    fig = _figure(table, snrs, sweeps, throughput)
    write_results("gvif_methods", "GVIF methods: zo-sgd gap and evaluations per SNR, exact throughput "
                  "and single-call times", results, figure=fig, out_dir=args.out_dir)
    return results


def _figure(table, snrs, sweeps, throughput):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(1, 4, figsize=(20, 4.3))
    drawn = [(j, target, sweep) for j, (target, sweep) in enumerate(sweeps.items())
             if sweep["rows"]]
    for k, (j, target, sweep) in enumerate(drawn):
        rows = sweep["rows"]
        # targets may give equal curves (GVIF 1 at high SNR, a zero gap drawn at 1e-7):
        # one marker and line style per target, later ones hollow and larger around the
        # earlier ones, so that no series hides another
        marker, ls = ("o", "s", "^")[k % 3], ("-", "--", ":")[k % 3]
        size = {"ms": 3 + 2.5 * (k % 3), "mfc": None if k % 3 == 0 else "none"}
        snr = [r["snr_db"] for r in rows]
        ex = [r["exact"]["gvif"] if r["feasible"] else np.nan for r in rows]
        ax[0].plot(snr, ex, "-", marker=marker, **size, color=f"C{j}",
                   label=f"exact, D_0 {target}")
        nf = [r["no_filtering"]["gvif"] if r["no_filtering"]["status"] == "optimal" else np.nan
              for r in rows]
        ax[0].plot(snr, nf, ":x", ms=4, color=f"C{j}", label=f"no-filtering, D_0 {target}")
        gap = [max(r["zo_sgd"]["gap_max"], 1e-7) if r["feasible"] else np.nan for r in rows]
        ax[1].semilogy(snr, gap, ls=ls, marker=marker, **size, color=f"C{j}",
                       label=f"zo-sgd max gap, D_0 {target} (0 drawn at 1e-7)")
        ev = [np.median(r["zo_sgd"]["evaluations"]) if r["feasible"] else np.nan for r in rows]
        ax[2].semilogy(snr, ev, ls=ls, marker=marker, **size, color=f"C{j}",
                       label=f"zo-sgd evaluations, D_0 {target}")
    ax[1].axhline(GAP_LIMIT, color="k", lw=0.8, ls="--", label="0.05")
    ax[0].set(xlabel="receive SNR (dB)", ylabel="expected GVIF", title="exact and no-filtering")
    ax[1].set(xlabel="receive SNR (dB)", ylabel="GVIF(exact) − GVIF(zo-sgd)",
              title="zo-sgd gap (max over seeds)")
    ax[2].set(xlabel="receive SNR (dB)", ylabel="per-image evaluations",
              title="zo-sgd evaluations (median over seeds)")
    b = throughput["batches"]
    ax[3].loglog([r["batch"] for r in b], [r["per_s"] for r in b], "-o", ms=4, label="one batched call")
    ax[3].axhline(throughput["loop_per_s"], color="C3", ls=":", label="loop of single calls")
    ax[3].set(xlabel="batch size (SNRs)", ylabel="SNRs per second", title="exact throughput (warm)")
    for a in ax:
        a.grid(alpha=0.3)
        a.legend(fontsize=7)
    fig.suptitle(f"{table.name}: {len(table.models)} models × {table.n_images} images, T_max 20 ms")
    fig.tight_layout()
    return fig


if __name__ == "__main__":
    main()
