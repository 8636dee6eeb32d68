"""The ``semopt`` command line: ``allocate``, ``tables``, ``bench``, ``profile``.

Each problem plugs its own ``allocate`` options in through a module listed in
:data:`PROBLEM_CLI` that defines ``add_arguments(parser)`` and ``run(args) -> Allocation``;
each profiling job plugs in through :data:`PROFILE_CLI` (``add_arguments(parser)`` and
``run(args) -> int``). The ``--problem`` flag is read first, then the chosen
problem's parser parses the rest, so ``semopt allocate --problem X --help`` shows
that problem's flags.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from collections.abc import Sequence

from semopt.result import SolverError

__all__ = ["PROBLEM_CLI", "PROFILE_CLI", "main"]

PROBLEM_CLI: dict[str, str] = {
    "min-power": "semopt.cli.minpower",
    "latency": "semopt.cli.latency",
    "gvif": "semopt.cli.gvif",
    "operating-point": "semopt.cli.operating_point",
}
PROFILE_CLI: dict[str, str] = {
    "surface": "semopt.cli.profile_surface",
    "gvif": "semopt.cli.profile_gvif",
}


def _allocate(argv: Sequence[str]) -> int:
    pre = argparse.ArgumentParser(add_help=False)
    pre.add_argument("--problem", default="min-power")
    known, _ = pre.parse_known_args(argv)
    if known.problem not in PROBLEM_CLI:
        raise ValueError(f"--problem: unknown {known.problem!r}; valid problems: "
                         f"{', '.join(sorted(PROBLEM_CLI))}")
    module = importlib.import_module(PROBLEM_CLI[known.problem])
    parser = argparse.ArgumentParser(
        prog="semopt allocate",
        description=f"Allocate resources for the {known.problem!r} problem.")
    parser.add_argument("--problem", default="min-power", choices=sorted(PROBLEM_CLI),
                        help="problem to solve (default: min-power)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    module.add_arguments(parser)
    args = parser.parse_args(argv)
    allocation = module.run(args)
    if args.json:
        print(allocation.to_json(indent=2))
    else:
        print(allocation)
    return 0


def _profile(argv: Sequence[str]) -> int:
    if not argv or argv[0] in ("-h", "--help"):
        print("usage: semopt profile JOB [options]\n\njobs: " + ", ".join(sorted(PROFILE_CLI)))
        return 0
    job, rest = argv[0], argv[1:]
    if job not in PROFILE_CLI:
        raise ValueError(f"profile: unknown job {job!r}; valid jobs: {', '.join(sorted(PROFILE_CLI))}")
    module = importlib.import_module(PROFILE_CLI[job])
    parser = argparse.ArgumentParser(prog=f"semopt profile {job}")
    module.add_arguments(parser)
    return int(module.run(parser.parse_args(rest)))


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``semopt`` command."""
    argv = list(sys.argv[1:] if argv is None else argv)
    commands = {
        "allocate": _allocate,
        "tables": lambda rest: importlib.import_module("semopt.cli.tables").main(rest),
        "bench": lambda rest: importlib.import_module("semopt.cli.bench").main(rest),
        "profile": _profile,
    }
    if not argv or argv[0] in ("-h", "--help"):
        print("usage: semopt {allocate,tables,bench,profile} ...\n\n"
              "  allocate   solve an allocation problem (semopt allocate --help)\n"
              "  tables     list, show, plot or validate perception tables\n"
              "  bench      run a benchmark from benchmarks/ (semopt bench --list)\n"
              "  profile    run a profiling job that measures a new table")
        return 0
    command, rest = argv[0], argv[1:]
    if command not in commands:
        print(f"semopt: unknown command {command!r}; valid: {', '.join(commands)}", file=sys.stderr)
        return 2
    try:
        return int(commands[command](rest) or 0)
    except BrokenPipeError:  # e.g. `semopt tables show X | head`
        sys.stdout = None  # type: ignore[assignment]  # silence the flush at exit
        return 0
    except (ValueError, SolverError) as exc:
        if "--json" in rest:
            print(json.dumps({"success": False, "status": "error", "message": str(exc)}))
        print(f"semopt {command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
