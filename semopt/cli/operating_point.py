"""``semopt allocate --problem operating-point``: select a tabulated operating point.

Examples::

    semopt allocate --problem operating-point --snr 7 --target "psnr>=20" \\
        --channel rayleigh --dataset lsun-churches
    semopt allocate --problem operating-point --table my-sweep.json --snr 3 6 9 \\
        --budget "1024 symbols" --target "lpips<=0.3" --method best-within-budget --json
"""

from __future__ import annotations

import argparse

from semopt.allocators.operating_point import (
    DEFAULT_TABLE,
    BestWithinBudgetSelector,
    CheapestSelector,
)
from semopt.result import Allocation

__all__ = ["add_arguments", "run"]

_METHODS = {"cheapest": CheapestSelector, "best-within-budget": BestWithinBudgetSelector}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Flags of the operating-point problem."""
    parser.add_argument("--snr", type=float, nargs="+", required=True,
                        help="channel SNR in dB (several values: one selection each)")
    parser.add_argument("--budget", default=None,
                        help="cost cap: a number in the ranking cost's unit, or '2000 symbols', "
                             "'20 ms', '12 kbit', '0.01 bpp'; comma-separate several caps")
    parser.add_argument("--target", default=None,
                        help="metric floors/ceilings, e.g. 'psnr>=22,lpips<=0.2'")
    parser.add_argument("--method", default="cheapest", choices=sorted(_METHODS),
                        help="cheapest (default): least cost meeting the target; "
                             "best-within-budget: best objective metric within the budget")
    parser.add_argument("--table", default=DEFAULT_TABLE,
                        help=f"operating-points table name or path (default {DEFAULT_TABLE})")
    parser.add_argument("--channel", default="awgn", help="channel type (default awgn)")
    parser.add_argument("--dataset", default=None,
                        help="dataset whose points to compare (needed if the table has several)")
    parser.add_argument("--cost", default=None, help="cost to minimize (symbols, latency_s, ...)")
    parser.add_argument("--objective", default=None,
                        help="metric best-within-budget maximizes (default: the target metric)")
    parser.add_argument("--extrapolate", default="no", choices=["no", "linear", "clamp"],
                        help="allow SNRs outside the table's range (default: error)")


def _budget(text: str | None) -> object:
    if text is None or "," not in text:
        return text
    caps: dict[str, str] = {}
    from semopt.allocators.operating_point import parse_budget

    for part in text.split(","):
        for key in parse_budget(part.strip(), "symbols"):
            caps[key] = part.strip()
    return caps


def run(args: argparse.Namespace) -> Allocation:
    """Build the selector from the flags and run it."""
    cls = _METHODS[args.method]
    allocator = cls(table=args.table, channel=args.channel, dataset=args.dataset,
                    cost=args.cost, objective=args.objective,
                    extrapolate=False if args.extrapolate == "no" else args.extrapolate)
    snr = args.snr[0] if len(args.snr) == 1 else args.snr
    return allocator.allocate(snr, _budget(args.budget), args.target)
