"""``semopt bench NAME [options]``: run a benchmark script of the ``benchmarks`` package.

The scripts ship with semopt (``benchmarks/`` is installed beside the ``semopt`` package,
by a normal or an editable install), so ``semopt bench --list`` works from a wheel.
Results go to ``./semopt-results/`` (or the script's ``--out-dir``); ``--update-shipped``
writes the committed ``benchmarks/results/`` of a source checkout instead.
"""

from __future__ import annotations

import argparse
import ast
import os
import runpy
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["benchmark_dir", "benchmark_info", "list_benchmarks", "main"]


def benchmark_dir() -> Path:
    """``$SEMOPT_BENCHMARKS``, else the ``benchmarks`` folder installed beside ``semopt``."""
    env = os.environ.get("SEMOPT_BENCHMARKS")
    return Path(env) if env else Path(__file__).resolve().parents[2] / "benchmarks"


def list_benchmarks() -> list[str]:
    """Names of the benchmark scripts (``benchmarks/*.py`` without a leading underscore)."""
    folder = benchmark_dir()
    return sorted(p.stem for p in folder.glob("*.py") if not p.stem.startswith("_"))


def _run_times(folder: Path) -> dict[str, float]:
    """``RUN_TIME_S`` of the folder's ``__init__.py`` (a literal dict), read without importing it."""
    init = folder / "__init__.py"
    if not init.is_file():
        return {}
    for node in ast.parse(init.read_text(encoding="utf-8")).body:
        if (isinstance(node, (ast.Assign, ast.AnnAssign))
                and any(isinstance(t, ast.Name) and t.id == "RUN_TIME_S"
                        for t in (node.targets if isinstance(node, ast.Assign) else [node.target]))):
            value = ast.literal_eval(node.value) if node.value is not None else {}
            return {str(k): float(v) for k, v in value.items()}
    return {}


def _format_duration(seconds: float | None) -> str:
    if seconds is None:
        return "unknown"
    if seconds < 90:
        return f"~{max(seconds, 1):.0f} s"
    return f"~{seconds / 60:.0f} min"


def benchmark_info() -> list[dict[str, Any]]:
    """One dict per benchmark: ``name``, ``description`` (first docstring line), ``run_time_s``.

    Read statically (no script is imported): the description is the first line of the
    script's module docstring; the expected run time (default options) comes from the
    ``RUN_TIME_S`` dict of ``benchmarks/__init__.py`` (``None`` when absent).
    """
    folder = benchmark_dir()
    times = _run_times(folder)
    rows = []
    for name in list_benchmarks():
        doc = ast.get_docstring(ast.parse((folder / f"{name}.py").read_text(encoding="utf-8"))) or ""
        first = doc.strip().splitlines()[0].replace("``", "") if doc.strip() else ""
        rows.append({"name": name, "description": first, "run_time_s": times.get(name)})
    return rows


_USAGE = """usage: semopt bench --list
       semopt bench NAME [--update-shipped] [NAME's options, e.g. --out-dir DIR]
       semopt bench NAME --help

Runs a benchmark script from {folder}.
Results (JSON, PNG) go to ./semopt-results/ unless the script's --out-dir says otherwise;
--update-shipped writes the committed benchmarks/results/ of a source checkout."""


def main(argv: Sequence[str]) -> int:
    """Run the benchmark ``argv[0]`` with the remaining arguments (or list them)."""
    parser = argparse.ArgumentParser(prog="semopt bench", add_help=False, allow_abbrev=False)
    parser.add_argument("name", nargs="?")
    parser.add_argument("--list", action="store_true")
    parser.add_argument("--update-shipped", action="store_true")
    known, rest = parser.parse_known_args(argv)
    folder = benchmark_dir()
    if not known.name and not known.list and any(a in ("-h", "--help") for a in rest):
        print(_USAGE.format(folder=folder))
        return 0
    names = list_benchmarks()
    if not names:
        raise ValueError(f"bench: no benchmark scripts in {folder}; reinstall semopt (the "
                         "'benchmarks' package ships with it) or set SEMOPT_BENCHMARKS to a folder "
                         "of scripts, e.g. the benchmarks/ of a source checkout")
    if known.list or not known.name:
        rows = benchmark_info()
        width = max(len(r["name"]) for r in rows)
        print(f"{'benchmark':<{width}}  {'run time':>9}  description")
        for r in rows:
            print(f"{r['name']:<{width}}  {_format_duration(r['run_time_s']):>9}  {r['description']}")
        print("\n(run time: default options, measured on a shared 2-core machine; "
              f"scripts in {folder})")
        return 0
    if known.name not in names:
        raise ValueError(f"bench: unknown benchmark {known.name!r}; available: {', '.join(names)} "
                         f"(looked in {folder}; set SEMOPT_BENCHMARKS to another folder)")
    rest = list(rest)
    if known.update_shipped:
        if any(a == "--out-dir" or a.startswith("--out-dir=") for a in rest):
            raise ValueError("bench: --update-shipped and --out-dir exclude each other")
        from semopt.benchmarking import shipped_results_dir

        rest += ["--out-dir", str(shipped_results_dir())]
    from semopt.benchmarking import start_clock

    module = runpy.run_path(str(folder / f"{known.name}.py"), run_name="semopt_bench")
    start_clock()
    module["main"](rest)
    return 0
