"""Every registered min-power method (and your own) on the shared reference problems.

For each method: the share of reference problems solved, the optimality gap to the
dense-grid ground truth (``exhaustive``), conformance violations (feasibility, budget,
non-negative power, ...) and the median time per problem. Register your own allocator
by import path to benchmark it beside the built-in ones:

    semopt bench minpower_reference --allocator mypackage.module:MyAllocator

(the class takes the problem's options, e.g. ``table=``, ``scheme=``, keyword-only and
has ``allocate(snr, budget, target) -> semopt.Allocation``; subclassing
``semopt.allocators.minpower.MinPowerMethod`` gives all of that for free).
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings

import numpy as np

import semopt
from semopt.benchmarking import progress, write_results
from semopt.testing import conformance_violations
from semopt.testing.minpower import reference_problems


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="minpower_reference")
    parser.add_argument("--allocator", action="append", default=[],
                        help="user allocator 'package.module:Class' (repeatable)")
    parser.add_argument("--targets", type=int, default=5)
    parser.add_argument("--draws", type=int, default=2)
    parser.add_argument("--out-dir", default=None)
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")
    before = set(semopt.list_methods("min-power"))
    for path in args.allocator:
        semopt.register_from_path(path, "min-power")
    user = sorted(set(semopt.list_methods("min-power")) - before)
    methods = [m for m in semopt.list_methods("min-power") if m != "exhaustive"]
    cases = reference_problems(n_targets=args.targets, fading_draws=args.draws)
    rows: dict[str, dict] = {m: {"gaps": [], "times": [], "solved": 0, "violations": []}
                             for m in methods}
    for case in progress(cases, desc="reference problems"):
        kwargs = dict(case.options)
        truth = semopt.allocate(case.snr, case.budget, case.target, method="exhaustive",
                                **kwargs)
        for m in methods:
            t0 = time.perf_counter()
            res = semopt.allocate(case.snr, case.budget, case.target, method=m, **kwargs)
            rows[m]["times"].append(time.perf_counter() - t0)
            rows[m]["violations"] += [f"{case.name}: {v}" for v in
                                      conformance_violations(res, case)]
            if res.success and truth.success:
                rows[m]["solved"] += 1
                rows[m]["gaps"].append(res.objective / truth.objective - 1)
    summary = {}
    for m, r in rows.items():
        gaps = np.array(r["gaps"]) if r["gaps"] else np.array([np.nan])
        summary[m] = {"user": m in user, "solved": r["solved"], "problems": len(cases),
                      "median_gap": float(np.median(gaps)), "max_gap": float(np.max(gaps)),
                      "median_time_s": statistics.median(r["times"]),
                      "violations": r["violations"][:20]}
        print(f"{m:>14}{' (user)' if m in user else ''}: solved {r['solved']}/{len(cases)}, "
              f"gap median {summary[m]['median_gap']:.2e} max {summary[m]['max_gap']:.2e}, "
              f"{summary[m]['median_time_s'] * 1e3:.2f} ms/problem, "
              f"{len(r['violations'])} violations")
    path = write_results("minpower_reference", __doc__.splitlines()[0],
                         {"methods": summary, "problems": len(cases)}, out_dir=args.out_dir)
    print(f"wrote {path}")
    return summary


if __name__ == "__main__":
    main()
