"""``semopt tables list|show|plot|validate``."""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence

from semopt import tables
from semopt.result import to_jsonable

__all__ = ["main"]


def main(argv: Sequence[str]) -> int:
    """Entry point of ``semopt tables``."""
    parser = argparse.ArgumentParser(prog="semopt tables")
    sub = parser.add_subparsers(dest="action", required=True)
    p_list = sub.add_parser("list", help="list the shipped tables")
    p_list.add_argument("--json", action="store_true")
    p_show = sub.add_parser("show", help="validate a table (name or path) and print its summary")
    p_show.add_argument("table")
    p_show.add_argument("--json", action="store_true")
    p_plot = sub.add_parser("plot", help="plot a table to PNG")
    p_plot.add_argument("table")
    p_plot.add_argument("--out", default=None, help="PNG path (default: <name>.png)")
    args = parser.parse_args(argv)

    if args.action == "list":
        rows = tables.list_tables()
        if args.json:
            print(json.dumps(rows, indent=2))
        else:
            width = max((len(r["name"]) for r in rows), default=4)
            for row in rows:
                print(f"{row['name']:<{width}}  {row['kind']:<16} {row['source']:<12} "
                      f"{row['description']}")
        return 0
    table = tables.load(args.table)
    if args.action == "show":
        summary = to_jsonable(table.summary())
        if args.json:
            print(json.dumps(summary, indent=2))
        else:
            print(f"{table.name}: valid {table.kind!r} table (content hash verified)")
            for key, value in summary.items():
                if key != "name":
                    print(f"  {key}: {json.dumps(value) if isinstance(value, (dict, list)) else value}")
        return 0
    if not hasattr(table, "plot"):
        raise ValueError(f"table: kind {table.kind!r} has no plot")
    out = args.out or f"{table.name}.png"
    table.plot(out)
    print(f"wrote {out}")
    return 0
