"""``semopt allocate``: any registered problem and method, through :func:`semopt.allocate`.

Flags are the same for every problem: ``--problem``, ``--method``, ``--table``,
``--snr`` (commas separate streams; repeating ``--snr`` gives a batch; ``--snr-file``
reads a CSV or NPY batch), ``--budget``, ``--target``, ``--reference-power``, and one
flag per declared option of the problem and of the method (``semopt methods`` lists
them). ``--plugin module:Class`` registers a user allocator first. Negative values
work without ``=`` (``--snr -3,-1``). A batch prints one row per realization;
``--format text|json|csv`` chooses the output.
"""

from __future__ import annotations

import argparse
import csv
import io
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from semopt.options import Option

__all__ = ["build_parser", "flag_for", "main", "parse_snr_flags"]

_NEGATIVE = re.compile(r"^-(\d|\.\d|inf)")
_UNIT_SUFFIXES = ("_w", "_hz", "_s")
_COMMON = ("problem", "method", "table", "snr", "snr_file", "budget", "target", "plugin",
           "format", "json")


def flag_for(name: str) -> str:
    """The CLI flag of an option: ``reference_power_w`` -> ``--reference-power``."""
    for suffix in _UNIT_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            name = name[: -len(suffix)]
            break
    return "--" + name.replace("_", "-")


def _split(text: str, flag: str, cast: Any) -> Any:
    try:
        values = [cast(v.strip()) for v in str(text).split(",") if v.strip()]
    except (ValueError, OverflowError) as exc:
        what = {int: "integers", float: "numbers"}.get(cast, "values")
        raise argparse.ArgumentTypeError(f"cannot read {text!r} as comma-separated {what}") from exc
    if not values:
        raise ValueError(f"{flag}: no value given")
    return values[0] if len(values) == 1 else values


def _converter(option: Option, flag: str) -> Any:
    kind = option.kind

    def convert(text: str) -> Any:
        try:
            if kind == "float":
                return float(text)
            if kind == "int":
                return int(text)
        except (ValueError, OverflowError) as exc:
            raise argparse.ArgumentTypeError(f"expected a{'n integer' if kind == 'int' else ' number'}, "
                                             f"got {text!r}") from exc
        if kind == "floats":
            return _split(text, flag, float)
        if kind == "ints":
            return _split(text, flag, int)
        if kind in ("bandwidths", "strs"):
            return _split(text, flag, str)
        return text

    return convert


def _add_options(parser: argparse.ArgumentParser, title: str, declared: dict[str, Option],
                 taken: set[str]) -> dict[str, str]:
    """Add one flag per declared option; returns flag dest -> option name."""
    group = parser.add_argument_group(title)
    dests = {}
    for name, option in declared.items():
        if option.kind == "object" or name in _COMMON or name in taken:
            continue
        taken.add(name)
        flag = flag_for(name)
        flags = [flag] + ([f"--{name.replace('_', '-')}"] if flag != f"--{name.replace('_', '-')}"
                          else [])
        unit = f" [{option.unit}]" if option.unit else ""
        help_text = f"{option.help}{unit} (default: {option.default!r})"
        if option.kind == "bool":
            group.add_argument(*flags, dest=name, action=argparse.BooleanOptionalAction,
                               default=None, help=help_text)
        else:
            group.add_argument(*flags, dest=name, default=None, type=_converter(option, flag),
                               choices=option.choices if option.kind == "str" else None,
                               metavar=name.upper(), help=help_text)
        dests[name] = flag
    return dests


class _Parser(argparse.ArgumentParser):
    """argparse with usage errors raised as one-line ``ValueError`` naming the flag."""

    def error(self, message: str) -> None:  # type: ignore[override]
        message = re.sub(r"^argument ([-\w/]+)(?:/[-\w]+)*: ", r"\1: ", message)
        raise ValueError(f"{message} (see semopt allocate --problem ... --help)")


def build_parser(problem: str, method: str | None) -> tuple[argparse.ArgumentParser, dict[str, str]]:
    """The parser of ``semopt allocate`` for one problem/method, and option -> flag."""
    from semopt.registry import get_allocator, get_problem, list_methods, list_problems

    problem_cls = get_problem(problem)
    method = method or problem_cls.default_method
    cls = get_allocator(problem, method)
    parser = _Parser(
        prog="semopt allocate",
        description=f"{problem}: {problem_cls.description}. Method {method!r}.",
        epilog="snr: " + problem_cls.snr + "; budget: " + problem_cls.budget + "; target: "
               + problem_cls.target + ". Options of every method: semopt methods --problem "
               + problem)
    parser.add_argument("--problem", default=problem, choices=list_problems(),
                        help="problem to solve (default: min-power)")
    parser.add_argument("--method", default=method, choices=list_methods(problem),
                        help=f"method (default: {problem_cls.default_method})")
    parser.add_argument("--plugin", default=None, metavar="MODULE:CLASS",
                        help="register a user allocator (imports, and so runs, the module)")
    parser.add_argument("--table", default=None,
                        help=f"shipped table name or table file (default: {problem_cls.default_table})")
    parser.add_argument("--snr", action="append", default=None, metavar="DB[,DB...]",
                        help=f"{problem_cls.snr}; commas separate streams, repeat for a batch")
    parser.add_argument("--snr-file", default=None, type=Path,
                        help="CSV or .npy file with a batch of SNRs in dB (rows = realizations, "
                             "columns = streams)")
    parser.add_argument("--budget", default=None, help=problem_cls.budget)
    parser.add_argument("--target", default=None, help=problem_cls.target)
    parser.add_argument("--format", choices=("text", "json", "csv"), default="text",
                        help="output format (default: text)")
    parser.add_argument("--json", action="store_true", help="same as --format json")
    taken: set[str] = set()
    flags = _add_options(parser, f"{problem} options", dict(problem_cls.options), taken)
    flags.update(_add_options(parser, f"{method} options", dict(getattr(cls, "options", {}) or {}),
                              taken))
    return parser, flags


def parse_snr_flags(values: list[str] | None, snr_file: Path | None, stream_axis: bool) -> Any:
    """SNRs from repeated ``--snr`` flags or a file: a scalar, ``(I,)``, ``(B, I)`` or ``(B,)``."""
    if (values is None) == (snr_file is None):
        raise ValueError("--snr: give --snr (repeatable) or --snr-file, exactly one of them")
    if snr_file is not None:
        if not snr_file.is_file():
            raise ValueError(f"--snr-file: no such file {str(snr_file)!r}")
        if snr_file.suffix == ".npy":
            rows = np.load(snr_file, allow_pickle=False)
        else:
            text = snr_file.read_text()
            rows = np.array([[float(v) for v in row] for row in csv.reader(io.StringIO(text))
                             if row and not row[0].lstrip().startswith("#")], dtype=float)
        rows = np.asarray(rows, dtype=float)
    else:
        parsed = [_split(v, "--snr", str) for v in values]
        parsed = [p if isinstance(p, list) else [p] for p in parsed]
        width = max(len(p) for p in parsed)
        if any(len(p) not in (1, width) for p in parsed):
            raise ValueError("--snr: every repeated --snr needs the same number of streams "
                             "(or one value for all streams)")
        parsed = [p * width if len(p) == 1 else p for p in parsed]
        rows = np.array(parsed, dtype=object)
        if len(rows) == 1:
            single = list(rows[0])
            return single[0] if len(single) == 1 else single
    if rows.ndim == 2 and rows.shape[1] == 1 and not stream_axis:
        rows = rows[:, 0]
    if rows.ndim == 2 and not stream_axis:
        raise ValueError("--snr: this problem takes one SNR per realization; use commas only "
                         "for problems with streams")
    return rows.tolist()


def _number_or_text(text: str | None) -> Any:
    if text is None:
        return None
    try:
        return float(text)
    except ValueError:
        return text


def _join_negative_values(argv: Sequence[str]) -> list[str]:
    """``--snr -3,-1`` -> ``--snr=-3,-1`` so argparse does not read ``-3,-1`` as a flag."""
    out: list[str] = []
    items = list(argv)
    i = 0
    while i < len(items):
        token = items[i]
        if token.startswith("--") and "=" not in token and i + 1 < len(items) \
                and _NEGATIVE.match(items[i + 1]):
            out.append(f"{token}={items[i + 1]}")
            i += 2
            continue
        out.append(token)
        i += 1
    return out


def _rows(allocation: Any, snr: Any) -> list[dict[str, Any]]:
    """One flat record per realization (with the problem's ``summary_extras``)."""
    from semopt.registry import get_problem

    data = allocation.to_dict()
    try:
        shown = tuple(get_problem(allocation.problem).summary_extras)
    except ValueError:
        shown = ()
    shape = allocation.batch_shape
    n = int(np.prod(shape, dtype=int)) if shape else 1
    snr_arr = np.asarray(snr, dtype=object)
    out = []
    for k in range(n):
        index = np.unravel_index(k, shape) if shape else ()
        row: dict[str, Any] = {"index": k}
        if snr_arr.ndim and len(snr_arr) == n:
            row["snr_db"] = snr_arr[k].tolist() if hasattr(snr_arr[k], "tolist") else snr_arr[k]
        for key in ("status", "success", "total_power_w", "perception", "objective", "latency_s",
                    *[k for k in shown if k in data], "power_w", "error_rate"):
            value = np.asarray(data[key], dtype=object)
            if shape and value.ndim >= len(shape):
                item = value[index]
                row[key] = item.tolist() if isinstance(item, np.ndarray) else item
            else:
                row[key] = data[key]
        out.append(row)
    return out


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, list):
        return "[" + ", ".join(_fmt(v) for v in value) + "]"
    return "nan" if value is None else str(value)


def render(allocation: Any, snr: Any, fmt: str) -> str:
    """The allocation as text (one row per realization for a batch), JSON or CSV."""
    if fmt == "json":
        return allocation.to_json(indent=2)
    if fmt == "text" and not allocation.batch_shape:
        return str(allocation)
    rows = _rows(allocation, snr)
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: _fmt(v) if isinstance(v, (list, float)) else v
                             for k, v in row.items()})
        return buffer.getvalue().rstrip("\n")
    columns = [c for c in rows[0] if c not in ("power_w", "error_rate")] + ["power_w"]
    table = [[_fmt(row.get(c)) for c in columns] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in table)) for i, c in enumerate(columns)]
    lines = [f"Allocation[{allocation.problem}/{allocation.method}] batch {allocation.batch_shape}",
             "  ".join(c.ljust(w) for c, w in zip(columns, widths))]
    lines += ["  ".join(v.ljust(w) for v, w in zip(r, widths)) for r in table]
    lines.append(f"message: {allocation.message}")
    return "\n".join(lines)


def main(argv: Sequence[str]) -> int:
    """Run ``semopt allocate``; errors raise ``ValueError`` naming flags."""
    from semopt.api import allocate
    from semopt.registry import get_problem, register_from_path

    argv = _join_negative_values(argv)
    pre = argparse.ArgumentParser(add_help=False)
    pre.add_argument("--problem", default="min-power")
    pre.add_argument("--method", default=None)
    pre.add_argument("--plugin", default=None)
    known, _ = pre.parse_known_args(argv)
    if known.plugin:
        try:
            register_from_path(known.plugin, known.problem, known.method)
        except ValueError as exc:
            raise ValueError(f"--plugin: {exc}") from exc
    parser, flags = build_parser(known.problem, known.method)
    args = parser.parse_args(argv)
    problem_cls = get_problem(args.problem)
    options = {name: getattr(args, name) for name in flags if getattr(args, name) is not None}
    snr = parse_snr_flags(args.snr, args.snr_file, problem_cls.stream_axis)
    if args.budget is None and problem_cls.name in ("min-power",):
        raise ValueError("--budget: required for this problem")
    try:
        allocation = allocate(snr, _number_or_text(args.budget), _number_or_text(args.target),
                              problem=args.problem, method=args.method, table=args.table, **options)
    except ValueError as exc:
        raise ValueError(_name_flags(str(exc), flags)) from exc
    print(render(allocation, snr, "json" if args.json else args.format))
    return 0


def _name_flags(message: str, flags: dict[str, str]) -> str:
    """Replace a leading ``option:`` of an error message by its flag."""
    head, sep, rest = message.partition(":")
    names = dict(flags) | {"snr": "--snr", "budget": "--budget", "target": "--target",
                           "table": "--table", "method": "--method", "problem": "--problem"}
    if sep and head.strip() in names:
        return f"{names[head.strip()]}:{rest}"
    return message


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main(sys.argv[1:]))
