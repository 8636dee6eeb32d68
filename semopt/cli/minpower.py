"""``semopt allocate --problem min-power`` (the default problem)."""

from __future__ import annotations

import argparse

from semopt.api import allocate
from semopt.result import Allocation

__all__ = ["add_arguments", "run"]


def _floats(text: str) -> list[float]:
    try:
        return [float(x) for x in text.split(",")]
    except ValueError as exc:
        raise ValueError(f"expected comma-separated numbers, got {text!r}") from exc


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Flags of the min-power problem."""
    parser.add_argument("--table", default="xu2025-kodak-clip",
                        help="shipped table name or table file (default: xu2025-kodak-clip)")
    parser.add_argument("--scheme", default="discard", choices=["discard", "forward"],
                        help="coded discard-with-error (BLER) or uncoded forward-with-error (BER)")
    parser.add_argument("--method", default=None,
                        help="proportional, bisection, unaware, global-search (default), "
                             "exhaustive, slsqp")
    parser.add_argument("--snr", required=True,
                        help="per-stream SNR in dB at the full budget: one value or K1,K2,...")
    parser.add_argument("--budget", required=True,
                        help="total transmit power cap: W, or '10 mW', '10 dBm'")
    parser.add_argument("--target", required=True, type=float,
                        help="perception value P̄ to stay under (e.g. 0.40 for 1 - CLIP)")
    parser.add_argument("--bits", default=None, help="payload bits per stream K1,K2,...")
    parser.add_argument("--code-rate", default=None,
                        help="code rate K/N (one value or one per stream), coded scheme")
    parser.add_argument("--log-term", action="store_true",
                        help="include the ½·log2(N) term of the finite-blocklength approximation")


def run(args: argparse.Namespace) -> Allocation:
    """Solve one min-power allocation from parsed flags."""
    snr = _floats(args.snr)
    bits = None if args.bits is None else [int(b) for b in _floats(args.bits)]
    code_rate = None if args.code_rate is None else _floats(args.code_rate)
    if code_rate is not None and len(code_rate) == 1:
        code_rate = code_rate[0]
    budget: str | float = args.budget
    try:
        budget = float(args.budget)
    except ValueError:
        pass
    return allocate(snr[0] if len(snr) == 1 else snr, budget, args.target,
                    problem="min-power", table=args.table, method=args.method,
                    scheme=args.scheme, bits=bits, code_rate=code_rate, log_term=args.log_term)
