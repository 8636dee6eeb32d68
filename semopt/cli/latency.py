"""``semopt allocate --problem latency``: latency-aware semantic power split (Qiao et al.).

Example::

    semopt allocate --problem latency --snr 15 --budget "10 mW" --target-ber 1e-6 \\
        --prompt-bits 629 --stream-bits 7864 --modulation continuous --json

Every constant not given takes its Table I value (see
:class:`semopt.link.latency.LatencyScenario`).
"""

from __future__ import annotations

import argparse
from typing import Any

import numpy as np

from semopt.result import Allocation
from semopt.units import parse_bandwidth

__all__ = ["add_arguments", "build_allocator", "run"]

METHODS = ("lemma1", "bisection", "discrete", "unaware", "cvxpy", "joint-bandwidth")


def _floats(text: str, name: str) -> list[float]:
    try:
        return [float(v) for v in str(text).split(",") if v.strip()]
    except ValueError as exc:
        raise ValueError(f"{name}: expected comma-separated numbers, got {text!r}") from exc


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the latency problem's flags to ``parser``."""
    g = parser.add_argument_group("latency problem")
    g.add_argument("--method", default=None, choices=METHODS,
                   help="allocator (default: lemma1, or discrete with --modulation discrete)")
    g.add_argument("--snr", required=True,
                   help="average SNR γ̄ in dB; comma-separated values give a batch")
    g.add_argument("--budget", default="10 mW", help="total power P_T (default 10 mW)")
    tgt = g.add_mutually_exclusive_group(required=True)
    tgt.add_argument("--target-ber", help="BER of the conditioning stream(s) (one, or one per "
                                          "stream, comma-separated)")
    tgt.add_argument("--target-metric", action="append", metavar="NAME=VALUE",
                     help="metric threshold ε_j read through the quality curve, e.g. "
                          "clip=0.999 (repeatable)")
    g.add_argument("--table", default=None,
                   help="quality-curve table for --target-metric (default "
                        "qiao2024-table2-quality)")
    g.add_argument("--prompt-bits", type=int, default=None, help="|v_0| (default 629)")
    g.add_argument("--stream-bits", default=None,
                   help="|v_i| per conditioning stream, comma-separated (default 7864)")
    g.add_argument("--modulation", choices=("continuous", "discrete"), default="continuous",
                   help="continuous MQAM spectral efficiency or orders {4,16,64}")
    g.add_argument("--bandwidth", default=None,
                   help="bandwidth in Hz: one value for every stream, or prompt first then "
                        "each stream (default 1 MHz each); '1MHz' accepted")
    c = parser.add_argument_group("Table I constants")
    c.add_argument("--packet-bits", type=int, default=None, help="packet length L (default |v_0|)")
    c.add_argument("--code-rate", type=float, default=None, help="prompt code rate r (0.5)")
    c.add_argument("--prompt-order", type=int, default=None, help="prompt modulation M_0 (4)")
    c.add_argument("--k", type=float, default=None, help="PER fit k of eq. (2) (0.374)")
    c.add_argument("--b", type=float, default=None, help="PER fit b of eq. (2) (-0.31)")
    c.add_argument("--alpha", type=float, default=None, help="α of eq. (4) (1.5)")
    c.add_argument("--beta", type=float, default=None, help="β of eq. (4) (5)")
    c.add_argument("--orders", default=None, help="MQAM orders for discrete (4,16,64)")
    c.add_argument("--reference-power", default=None,
                   help="power at which --snr is measured (default: the budget)")
    c.add_argument("--prompt-ber", type=float, default=None,
                   help="unaware: BER of the single stream (1e-7)")
    c.add_argument("--allow-prompt-overrun", action="store_true",
                   help="discrete: do not require T_0 ≤ T_1 (the paper's Table II rule)")
    c.add_argument("--solver", default=None, help="cvxpy solver for cvxpy / joint-bandwidth")
    c.add_argument("--formulation", choices=("dcp", "dqcp"), default=None,
                   help="joint-bandwidth: convex reformulation (dcp) or cvxpy DQCP")


def _bandwidth(text: str) -> tuple[float, ...]:
    out = []
    for part in str(text).split(","):
        if part.strip():
            out.append(float(parse_bandwidth(part.strip(), "--bandwidth")))
    if not out:
        raise ValueError("--bandwidth: give at least one value")
    return tuple(out)


def build_allocator(args: argparse.Namespace) -> Any:
    """The allocator object the flags describe."""
    from semopt.allocators.latency import METHODS as CLASSES

    method = args.method or ("discrete" if args.modulation == "discrete" else "lemma1")
    if args.modulation == "discrete" and method not in ("discrete", "unaware"):
        raise ValueError(f"--modulation: 'discrete' works with --method discrete or unaware, "
                         f"not {method!r}")
    if args.modulation == "continuous" and method == "discrete":
        raise ValueError("--modulation: --method discrete needs --modulation discrete")
    config: dict[str, Any] = {}
    if args.prompt_bits is not None:
        config["prompt_bits"] = args.prompt_bits
    if args.stream_bits is not None:
        bits = _floats(args.stream_bits, "--stream-bits")
        if any(v < 0 for v in bits):
            raise ValueError(f"--stream-bits: bit counts must be non-negative, got {bits}")
        config["stream_bits"] = tuple(bits)
    if args.bandwidth is not None:
        config["bandwidth_hz"] = _bandwidth(args.bandwidth)
    for flag in ("packet_bits", "code_rate", "prompt_order", "k", "b", "alpha", "beta"):
        value = getattr(args, flag)
        if value is not None:
            config[flag] = value
    if args.orders is not None:
        config["orders"] = tuple(int(v) for v in _floats(args.orders, "--orders"))
    if args.reference_power is not None:
        config["reference_power_w"] = args.reference_power
    if method == "unaware":
        config["modulation"] = args.modulation
        if args.prompt_ber is not None:
            config["prompt_ber"] = args.prompt_ber
    if method == "discrete" and args.allow_prompt_overrun:
        config["prompt_within_stream"] = False
    if method in ("cvxpy", "joint-bandwidth") and args.solver:
        config["solver"] = args.solver
    if method == "joint-bandwidth" and args.formulation:
        config["formulation"] = args.formulation
    return CLASSES[method](table=args.table, **config)


def _target(args: argparse.Namespace) -> Any:
    if args.target_ber is not None:
        values = _floats(args.target_ber, "--target-ber")
        return values[0] if len(values) == 1 else values
    thresholds = {}
    for item in args.target_metric:
        for part in item.split(","):
            name, sep, value = part.partition("=")
            if not sep:
                raise ValueError(f"--target-metric: expected NAME=VALUE, got {part!r}")
            thresholds[name.strip().lower()] = float(value)
    return thresholds


def run(args: argparse.Namespace) -> Allocation:
    """Run the allocation the flags describe."""
    snr = _floats(args.snr, "--snr")
    if not snr:
        raise ValueError("--snr: give at least one value in dB")
    allocator = build_allocator(args)
    return allocator.allocate(snr[0] if len(snr) == 1 else np.asarray(snr), args.budget,
                              _target(args))
