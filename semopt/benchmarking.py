"""Shared helpers for the scripts in ``benchmarks/``: timing, progress, machine info, output.

Every benchmark prints its results and writes ``<out_dir>/<name>.json`` (name,
description, machine, date, wall time ``wall_s``, results) and, where it makes a figure,
``<name>.png``. The output folder is ``--out-dir``, else ``$SEMOPT_BENCH_DIR``, else
``./semopt-results`` in the current directory; the committed ``benchmarks/results/`` of a
source checkout is written only on request (``semopt bench NAME --update-shipped``).
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, Generic, TypeVar

import numpy as np

from semopt.result import to_jsonable

__all__ = [
    "DEFAULT_OUT_DIR_NAME",
    "default_out_dir",
    "machine_info",
    "progress",
    "shipped_results_dir",
    "start_clock",
    "time_call",
    "write_results",
]

T = TypeVar("T")

DEFAULT_OUT_DIR_NAME = "semopt-results"
_START = time.perf_counter()


def start_clock() -> None:
    """Restart the wall clock that :func:`write_results` records as ``wall_s``.

    ``semopt bench`` calls it just before a benchmark's ``main``; a script run directly
    measures from the import of this module.
    """
    global _START
    _START = time.perf_counter()


def default_out_dir() -> Path:
    """``$SEMOPT_BENCH_DIR``, else ``./semopt-results`` under the current directory."""
    env = os.environ.get("SEMOPT_BENCH_DIR")
    if env:
        return Path(env)
    return Path.cwd() / DEFAULT_OUT_DIR_NAME


def shipped_results_dir() -> Path:
    """The committed ``benchmarks/results/`` folder of a source checkout.

    Raises
    ------
    ValueError
        When semopt is not run from a source checkout (a wheel install has no committed
        results to update): clone the repository and ``pip install -e .`` there.
    """
    root = Path(__file__).resolve().parents[1]
    if not ((root / "pyproject.toml").is_file() and (root / "benchmarks").is_dir()):
        raise ValueError(f"--update-shipped: semopt at {root} is not a source checkout (no "
                         "pyproject.toml beside it); clone the repository, `pip install -e .` "
                         "there, or write elsewhere with --out-dir")
    return root / "benchmarks" / "results"


class _TextProgress(Generic[T]):
    """Fallback bar without tqdm: one stderr line (count, rate, ETA) at most every 5 s."""

    def __init__(self, iterable: Iterable[T], total: int | None, desc: str, interval_s: float = 5.0):
        self.iterable, self.total, self.desc, self.interval_s = iterable, total, desc, interval_s

    def __iter__(self) -> Iterator[T]:
        start = last = time.perf_counter()
        n = 0
        for item in self.iterable:
            yield item
            n += 1
            now = time.perf_counter()
            if now - last >= self.interval_s or (self.total is not None and n == self.total):
                last = now
                rate = n / max(now - start, 1e-9)
                eta = f", ETA {(self.total - n) / rate:.0f} s" if self.total else ""
                of = f"/{self.total}" if self.total else ""
                print(f"{self.desc}: {n}{of} ({rate:.2f}/s{eta})", file=sys.stderr, flush=True)


def progress(iterable: Iterable[T], *, total: int | None = None, desc: str = "",
             enabled: bool | None = None) -> Iterable[T]:
    """Wrap a long loop of a benchmark in a progress bar with rate and ETA on stderr.

    Parameters
    ----------
    iterable : iterable
        The loop's items (``len()`` is used for the total when it has one).
    total : int, optional
        Number of items when ``iterable`` has no ``len()``.
    desc : str
        Label in front of the bar.
    enabled : bool, optional
        Force the bar on or off. Default: ``$SEMOPT_PROGRESS`` (``0``/``1``) if set, else
        on when stderr is a terminal.

    Returns
    -------
    iterable
        A tqdm bar (when tqdm is installed) or a plain-text fallback that prints one line
        every 5 s; the items are yielded unchanged.
    """
    if total is None and hasattr(iterable, "__len__"):
        total = len(iterable)  # type: ignore[arg-type]
    if enabled is None:
        env = os.environ.get("SEMOPT_PROGRESS")
        enabled = env not in ("0", "false", "no", "") if env is not None else sys.stderr.isatty()
    if not enabled:
        return iterable
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return _TextProgress(iterable, total, desc or "progress")
    return tqdm(iterable, total=total, desc=desc or None, file=sys.stderr, dynamic_ncols=True)


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
              "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
              "wall_s": round(time.perf_counter() - _START, 3), "results": results}
    path = out / f"{name}.json"
    path.write_text(json.dumps(to_jsonable(record), indent=1) + "\n")
    if figure is not None:
        figure.savefig(out / f"{name}.png", dpi=120, bbox_inches="tight")
    return path
