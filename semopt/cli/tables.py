"""``semopt tables list|show|plot|validate``.

Every error is a ``ValueError`` (a :class:`semopt.tables.TableError` for table files),
which the main CLI prints as one line with exit code 2. ``validate`` prints a report per
file and exits with 2 when any file is rejected.
"""

from __future__ import annotations

import argparse
import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from semopt import tables
from semopt.result import to_jsonable
from semopt.tables.report import describe

__all__ = ["main"]

_SAFE_STEM = re.compile(r"[^A-Za-z0-9._-]+")
_PLOT_SUFFIXES = (".png", ".pdf", ".svg")


def _default_plot_path(source: str) -> Path:
    """``<stem>.png`` in the working directory, from the table argument (never its contents)."""
    stem = _SAFE_STEM.sub("_", Path(source).name.removesuffix(".json")).strip("._") or "table"
    return Path(f"{stem[:100]}.png")


def _check_output(out: Path) -> Path:
    if out.suffix.lower() not in _PLOT_SUFFIXES:
        raise ValueError(f"--out: {str(out)!r} must end in {', '.join(_PLOT_SUFFIXES)}")
    parent = out.parent
    if not parent.is_dir():
        raise ValueError(f"--out: the directory {str(parent)!r} does not exist")
    if out.is_dir():
        raise ValueError(f"--out: {str(out)!r} is a directory")
    return out


def _dump_everything(table: tables.Table) -> dict[str, Any]:
    """Summary, the whole ``data`` object, and name/shape/dtype of each NPZ array."""
    data, arrays = table.to_data()
    out = dict(to_jsonable(table.summary()))
    out["data"] = to_jsonable(data)
    out["arrays"] = {k: {"shape": list(v.shape), "dtype": str(v.dtype)} for k, v in arrays.items()}
    return out


def _print_report(report: tables.ValidationReport) -> None:
    verdict = "OK" if report.ok else "REJECTED"
    print(f"{report.path}: {verdict}" + ("" if report.ok else f": {report.error}"))
    if report.kind or report.name:
        print(f"  kind {report.kind!r}, name {report.name!r}, source {report.source!r}")
    width = max((len(c) for c, _, _ in report.checks), default=0)
    for check, status, detail in report.checks:
        print(f"  {check:<{width}}  {status:<4}  {detail}")


def main(argv: Sequence[str]) -> int:
    """Entry point of ``semopt tables``."""
    parser = argparse.ArgumentParser(prog="semopt tables")
    sub = parser.add_subparsers(dest="action", required=True)
    p_list = sub.add_parser("list", help="list the shipped tables")
    p_list.add_argument("--json", action="store_true")
    p_show = sub.add_parser("show", help="validate a table (name or path) and print it readably")
    p_show.add_argument("table")
    p_show.add_argument("--json", action="store_true",
                        help="dump everything (summary, data, array shapes) as JSON")
    p_show.add_argument("--all", action="store_true", help="print every row and column")
    p_show.add_argument("--rows", type=int, default=10,
                        help="rows shown of a large grid (default 10; lists show 4x as many)")
    p_plot = sub.add_parser("plot", help="plot a table to PNG (or PDF/SVG)")
    p_plot.add_argument("table")
    p_plot.add_argument("--out", default=None,
                        help="output path (default: <table argument's file stem>.png here)")
    p_val = sub.add_parser("validate", help="check table files: limits, schema and bounds, "
                                            "content hash; exit 2 if any is rejected")
    p_val.add_argument("files", nargs="+", metavar="FILE", help="table files (or shipped names)")
    p_val.add_argument("--expect-hash", default=None, metavar="SHA256",
                       help="the content hash the (single) file must have, from a trusted source")
    p_val.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)

    if args.action == "list":
        rows = tables.list_tables()
        if args.json:
            print(json.dumps(rows, indent=2))
        else:
            width = max((len(r["name"]) for r in rows), default=4)
            label = max((len(r["source_label"]) for r in rows), default=6)
            for row in rows:
                print(f"{row['name']:<{width}}  {row['kind']:<16} {row['source_label']:<{label}}  "
                      f"{row['description']}")
        return 0
    if args.action == "validate":
        if args.expect_hash is not None and len(args.files) != 1:
            raise ValueError("--expect-hash: give exactly one file")
        reports = [tables.validate(f, expected_hash=args.expect_hash) for f in args.files]
        if args.json:
            print(json.dumps([r.as_dict() for r in reports], indent=2))
        else:
            for report in reports:
                _print_report(report)
            rejected = sum(not r.ok for r in reports)
            print(f"{len(reports) - rejected} of {len(reports)} files valid"
                  + (f", {rejected} rejected" if rejected else ""))
        return 2 if any(not r.ok for r in reports) else 0
    if args.action == "show":
        if args.rows < 2:
            raise ValueError(f"--rows: must be ≥ 2, got {args.rows}")
        table = tables.load(args.table)
        if args.json:
            print(json.dumps(_dump_everything(table), indent=2))
        else:
            print(describe(table, full=args.all, limit=args.rows, verified=True))
        return 0
    out = _check_output(Path(args.out) if args.out else _default_plot_path(args.table))
    table = tables.load(args.table)
    if not hasattr(table, "plot"):
        raise ValueError(f"table: kind {table.kind!r} has no plot")
    table.plot(str(out))
    print(f"wrote {out}")
    return 0
