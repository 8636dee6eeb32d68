"""``semopt allocate --problem gvif``: filtering threshold α and source coder by max expected GVIF.

Example::

    semopt allocate --problem gvif --snr 5 --budget 20ms --target 30dB --method exact --json

``--snr`` is the receive SNR in dB (comma-separated values give a batch), ``--budget`` the
latency cap T_max (seconds, or with a unit: ``20ms``), ``--target`` the distortion cap D_0
(an MSE, or a PSNR floor such as ``30dB``; ``none`` for no cap).
"""

from __future__ import annotations

import argparse
from typing import Any

from semopt.result import Allocation

__all__ = ["add_arguments", "build_allocator", "run"]

METHODS = ("exact", "zo-sgd", "per-image", "no-filtering")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the gvif problem's flags to ``parser``."""
    g = parser.add_argument_group("gvif problem (Huang et al.)")
    g.add_argument("--method", default="exact", choices=METHODS, help="allocator (default: exact)")
    g.add_argument("--snr", required=True, help="receive SNR in dB; comma-separated values give a batch")
    g.add_argument("--budget", required=True, help="latency cap T_max: seconds or e.g. '20ms'")
    g.add_argument("--target", default="none",
                   help="distortion cap D_0: MSE (0…255 scale), a PSNR floor like '30dB', or 'none'")
    g.add_argument("--table", default=None, help="GVIF table name or path (default gvif-hyperprior-sample)")
    g.add_argument("--bandwidth", default="1MHz", help="bandwidth (default 1 MHz)")
    g.add_argument("--alpha-max", type=float, default=None, help="α_th (default: the table's)")
    g.add_argument("--models", default=None, help="comma-separated candidate models")
    z = parser.add_argument_group("zo-sgd options")
    z.add_argument("--alpha0", type=float, default=None, help="α_0 (0.5)")
    z.add_argument("--penalty", type=float, default=None, help="penalty p (100)")
    z.add_argument("--step", type=float, default=None, help="step size η (0.05)")
    z.add_argument("--smoothing", type=float, default=None, help="smoothing ν (0.02)")
    z.add_argument("--batch-size", type=int, default=None, help="mini-batch |Γ| (8)")
    z.add_argument("--max-iter", type=int, default=None, help="iteration cap (300)")
    z.add_argument("--seed", type=int, default=None, help="seed (0)")


def _snr(text: str) -> Any:
    try:
        values = [float(v) for v in str(text).split(",") if v.strip()]
    except ValueError as exc:
        raise ValueError(f"--snr: expected comma-separated numbers in dB, got {text!r}") from exc
    if not values:
        raise ValueError("--snr: give at least one value")
    return values[0] if len(values) == 1 else values


def build_allocator(args: argparse.Namespace) -> Any:
    """The allocator object the flags describe."""
    from semopt.allocators.gvif import DEFAULT_TABLE
    from semopt.allocators.gvif import METHODS as CLASSES

    config: dict[str, Any] = {"table": args.table or DEFAULT_TABLE, "bandwidth_hz": args.bandwidth}
    if args.alpha_max is not None:
        config["alpha_max"] = args.alpha_max
    if args.models:
        config["models"] = [m.strip() for m in args.models.split(",") if m.strip()]
    zo = {"alpha0": args.alpha0, "penalty": args.penalty, "step": args.step, "smoothing": args.smoothing,
          "batch_size": args.batch_size, "max_iter": args.max_iter, "seed": args.seed}
    given = {k: v for k, v in zo.items() if v is not None}
    if given and args.method != "zo-sgd":
        raise ValueError(f"--{next(iter(given)).replace('_', '-')}: only applies to --method zo-sgd")
    config.update(given)
    return CLASSES[args.method](**config)


def run(args: argparse.Namespace) -> Allocation:
    """Build the allocator and solve."""
    target = None if str(args.target).strip().lower() in ("none", "") else args.target
    return build_allocator(args).allocate(_snr(args.snr), args.budget, target)
