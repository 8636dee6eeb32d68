"""The ``semopt`` command line: ``allocate``, ``methods``, ``tables``, ``bench``, ``profile``.

``semopt allocate`` runs any registered problem and method through
:func:`semopt.allocate` (flags derived from the declared options, see
:mod:`semopt.cli.allocate`); each profiling job plugs in through :data:`PROFILE_CLI`
(a module with ``add_arguments(parser)`` and ``run(args) -> int``). Every error is one
line on stderr with exit code 2 (``--debug`` shows the traceback).
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import traceback
from collections.abc import Sequence

__all__ = ["PROFILE_CLI", "main"]

PROFILE_CLI: dict[str, str] = {
    "surface": "semopt.cli.profile_surface",
    "gvif": "semopt.cli.profile_gvif",
    "symbol-split": "semopt.cli.profile_symbol_split",
}
_EXTRA_OF_MODULE = {"torch": "profile", "torchvision": "profile", "compressai": "profile",
                    "open_clip": "profile", "skimage": "profile", "sklearn": "profile",
                    "PIL": "profile", "pytorch_msssim": "profile", "tqdm": "profile",
                    "diffusers": "diffusion", "transformers": "diffusion", "dask": "dask",
                    "distributed": "dask", "ray": "ray", "matplotlib": "plot", "mkdocs": "docs"}


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


def _methods(argv: Sequence[str]) -> int:
    from semopt.api import format_options
    from semopt.registry import list_methods

    parser = argparse.ArgumentParser(prog="semopt methods",
                                     description="Problems, methods and their options.")
    parser.add_argument("--problem", default=None, help="only this problem")
    parser.add_argument("--method", default=None, help="only this method (needs --problem)")
    parser.add_argument("--plugin", default=None, metavar="MODULE:CLASS",
                        help="register a user allocator first (imports the module)")
    args = parser.parse_args(argv)
    if args.plugin:
        from semopt.registry import register_from_path

        register_from_path(args.plugin, args.problem or "min-power", args.method)
    if args.method and not args.problem:
        raise ValueError("--method: needs --problem")
    problems = [args.problem] if args.problem else list(list_methods())
    blocks = []
    for problem in problems:
        methods = [args.method] if args.method else list_methods(problem)
        blocks += [format_options(problem, m) for m in methods]
    print("\n\n".join(blocks))
    return 0


def _commands() -> dict:
    return {
        "allocate": lambda rest: importlib.import_module("semopt.cli.allocate").main(rest),
        "methods": _methods,
        "tables": lambda rest: importlib.import_module("semopt.cli.tables").main(rest),
        "bench": lambda rest: importlib.import_module("semopt.cli.bench").main(rest),
        "profile": _profile,
    }


USAGE = """usage: semopt [--version] [--debug] {allocate,methods,tables,bench,profile} ...

  allocate   solve an allocation problem (semopt allocate --problem P --help)
  methods    list problems, methods, capabilities and options
  tables     list, show, plot or validate tables
  bench      run a benchmark (semopt bench --list)
  profile    run a profiling job that measures a new table"""


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``semopt`` command."""
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv[:1]
    if debug:
        argv = argv[1:]
    if argv[:1] == ["--version"]:
        from semopt import __version__

        print(f"semopt {__version__}")
        return 0
    commands = _commands()
    command, rest = (argv[0], argv[1:]) if argv else ("--help", [])
    if command in ("-h", "--help"):
        commands = {command: lambda rest: print(USAGE)}
    if command not in commands:
        print(f"semopt: unknown command {command!r}; valid: {', '.join(commands)}", file=sys.stderr)
        return 2
    try:
        return int(commands[command](rest) or 0)
    except BrokenPipeError:  # e.g. `semopt tables show X | head`
        sys.stdout = None  # type: ignore[assignment]  # silence the flush at exit
        return 0
    except SystemExit as exc:  # argparse: --help (0) or a usage error (2, already printed)
        return int(exc.code or 0) if isinstance(exc.code, int) else 2
    except KeyboardInterrupt:
        print(f"semopt {command}: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # one line, never a traceback (unless --debug)
        if debug:
            traceback.print_exc()
        print(f"semopt {command}: error: {_explain(exc)}", file=sys.stderr)
        if "--json" in rest or "--format=json" in rest:
            print(json.dumps({"success": False, "status": "error", "message": _explain(exc)}))
        return 2


def _explain(exc: BaseException) -> str:
    from semopt.result import SolverError

    if isinstance(exc, ModuleNotFoundError) and exc.name:
        root = exc.name.split(".")[0]
        extra = _EXTRA_OF_MODULE.get(root)
        hint = f"install the extra: pip install 'semopt[{extra}]'" if extra \
            else f"install the package {root!r}"
        return f"needs the missing module {root!r}; {hint}"
    if isinstance(exc, (ValueError, SolverError, OSError)):
        return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    text = str(exc).splitlines()[0] if str(exc) else ""
    return f"internal error {type(exc).__name__}: {text} (rerun with semopt --debug ... for the traceback)"


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
