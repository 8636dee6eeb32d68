"""``unaware``: the paper's semantic-unaware benchmark, one stream for everything."""

from __future__ import annotations

from typing import Any

import numpy as np

from semopt.allocators.latency.base import LatencyMethod, status_codes
from semopt.link import latency as link
from semopt.options import Option
from semopt.problems.latency import LatencyInputs, LatencySolution
from semopt.registry import register_allocator
from semopt.result import OUTAGE
from semopt.units import linear_to_db

__all__ = ["UnawareMethod"]

MODULATIONS = ("continuous", "discrete")


def _ber(value: Any, name: str) -> float:
    if isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name}: expected a BER, got the bool {value!r}")
    try:
        out = float(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name}: expected a BER in (0, 0.2), got {value!r}") from exc
    if not 0.0 < out < 0.5:
        raise ValueError(f"{name}: a BER must lie in (0, 0.5), got {value!r}")
    return out


@register_allocator("latency")
class UnawareMethod(LatencyMethod):
    """The paper's semantic-unaware benchmark: one stream for everything.

    Prompt and conditioning streams are sent as one bit stream of ``|v_0| + Σ|v_i|``
    bits over the whole band ``B_tot`` at full power ``P_T`` with adaptive MQAM,
    without ARQ, at the BER ``min(prompt_ber, target)``::

        T = (|v_0| + Σ_i |v_i|) / (B_tot log2(1 + K γ̄)),   K = α / (−ln(β BER))

    (``modulation="discrete"``: the largest order of ``orders`` that ``γ̄`` supports
    instead of the continuous rate; ``outage`` if none). ``power_w`` reports the single
    stream's power split by the bit shares; ``bandwidth_hz`` the equal split of
    ``B_tot``. A baseline rule: its own optimum, not one of problem (5).
    """

    name = "unaware"
    optimality = "baseline"
    vectorized = True
    options = {
        "prompt_ber": Option(1e-7, "BER of the single stream (the stricter of it and the "
                             "target is used)", kind="float", parse=_ber),
        "modulation": Option("continuous", "continuous MQAM spectral efficiency, or the "
                             "largest supported order of `orders`", kind="str",
                             choices=MODULATIONS),
    }

    def solve_reachable(self, inputs: LatencyInputs) -> LatencySolution:
        sc = self.problem.scenario
        if not self.prompt_ber < 1.0 / sc.beta:
            raise ValueError(f"prompt_ber: must be in (0, {1 / sc.beta:g}) for eq. (4), got "
                             f"{self.prompt_ber}")
        n = sc.n_streams
        ber = float(min(self.prompt_ber, float(np.min(inputs.ber))))
        gap = float(link.mqam_gap(ber, sc.alpha, sc.beta))
        gbar = inputs.gbar
        rows = gbar.size
        if self.modulation == "continuous":
            bps = np.log2(1.0 + gap * gbar)
        else:
            bps = np.zeros(rows)
            for order in sc.orders:
                bps = np.where(gbar >= (order - 1) / gap, np.log2(order), bps)
        ok = bps > 0
        total_bits = sc.prompt_bits + sum(sc.stream_bits)
        with np.errstate(divide="ignore"):
            latency = np.where(ok, total_bits / (sc.total_bandwidth_hz * bps), np.nan)
        shares = np.asarray([sc.prompt_bits, *sc.stream_bits], dtype=float) / total_bits
        fractions = np.empty((rows, 1 + n), order="F")
        fractions[:] = shares
        fractions[~ok] = np.nan
        bits_ps = np.repeat(np.where(ok, bps, 0.0)[:, None], n, axis=1)
        msg = (f"unaware: one stream of {total_bits} bits over {sc.total_bandwidth_hz:g} Hz at "
               f"full power, BER {ber:g} ({self.modulation} MQAM)")
        if not np.all(ok):
            msg += (f"; outage below γ̄ = "
                    f"{float(linear_to_db((min(sc.orders) - 1) / gap)):.2f} dB")
        return LatencySolution(
            fractions, status_codes(ok, OUTAGE), "single-stream", latency_s=latency,
            bandwidth_hz=np.full(1 + n, sc.total_bandwidth_hz / (1 + n)),
            bits_per_symbol=bits_ps, single_stream_ber=ber, iterations=0, evaluations=rows,
            message=msg, batch_extras={"single_stream_snr_db": linear_to_db(gbar)})
