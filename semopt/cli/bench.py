"""``semopt bench NAME [options]``: run a script from ``benchmarks/``."""

from __future__ import annotations

import argparse
import os
import runpy
from collections.abc import Sequence
from pathlib import Path

__all__ = ["benchmark_dir", "list_benchmarks", "main"]


def benchmark_dir() -> Path:
    """``$SEMOPT_BENCHMARKS`` or the ``benchmarks/`` folder of the source checkout."""
    env = os.environ.get("SEMOPT_BENCHMARKS")
    return Path(env) if env else Path(__file__).resolve().parents[2] / "benchmarks"


def list_benchmarks() -> list[str]:
    """Names of the benchmark scripts (``benchmarks/*.py`` without a leading underscore)."""
    folder = benchmark_dir()
    return sorted(p.stem for p in folder.glob("*.py") if not p.stem.startswith("_"))


def main(argv: Sequence[str]) -> int:
    """Run the benchmark ``argv[0]`` with the remaining arguments."""
    parser = argparse.ArgumentParser(prog="semopt bench", add_help=False)
    parser.add_argument("name", nargs="?")
    parser.add_argument("--list", action="store_true")
    known, rest = parser.parse_known_args(argv)
    names = list_benchmarks()
    if known.list or not known.name:
        print("benchmarks: " + ", ".join(names))
        return 0
    if known.name not in names:
        raise ValueError(f"bench: unknown benchmark {known.name!r}; available: {', '.join(names)} "
                         f"(looked in {benchmark_dir()}; set SEMOPT_BENCHMARKS to another folder)")
    module = runpy.run_path(str(benchmark_dir() / f"{known.name}.py"), run_name="semopt_bench")
    module["main"](list(rest))
    return 0
