"""Shared helpers for the scripts in ``benchmarks/``: timing, machine info, output.

Every benchmark prints its results and writes ``<out_dir>/<name>.json`` (name,
description, machine, results) and, where it makes a figure, ``<name>.png``.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from semopt.result import to_jsonable

__all__ = ["default_out_dir", "machine_info", "time_call", "write_results"]


def default_out_dir() -> Path:
    """``$SEMOPT_BENCH_DIR`` or ``benchmarks/results`` in the source tree."""
    env = os.environ.get("SEMOPT_BENCH_DIR")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[1] / "benchmarks" / "results"


def machine_info() -> dict[str, Any]:
    """CPU, core count, Python and library versions for the JSON record."""
    import scipy

    info: dict[str, Any] = {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
    }
    try:
        import cvxpy

        info["cvxpy"] = cvxpy.__version__
    except ImportError:  # pragma: no cover
        pass
    return info


def time_call(fn: Callable[[], Any], *, repeat: int = 5, min_time_s: float = 0.0) -> dict[str, float]:
    """Median / min / max wall time of ``fn()`` over ``repeat`` runs (after one warm-up)."""
    fn()
    samples = []
    start = time.perf_counter()
    while len(samples) < repeat or time.perf_counter() - start < min_time_s:
        t0 = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t0)
    return {"median_s": statistics.median(samples), "min_s": min(samples),
            "max_s": max(samples), "runs": len(samples)}


def write_results(name: str, description: str, results: Any, *, figure: Any = None,
                  out_dir: str | os.PathLike[str] | None = None) -> Path:
    """Write ``<name>.json`` (and ``<name>.png`` from a matplotlib figure) and return the JSON path."""
    out = Path(out_dir) if out_dir is not None else default_out_dir()
    out.mkdir(parents=True, exist_ok=True)
    record = {"name": name, "description": description, "machine": machine_info(),
              "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "results": results}
    path = out / f"{name}.json"
    path.write_text(json.dumps(to_jsonable(record), indent=1) + "\n")
    if figure is not None:
        figure.savefig(out / f"{name}.png", dpi=120, bbox_inches="tight")
    return path
