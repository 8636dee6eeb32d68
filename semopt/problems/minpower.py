"""The min-power problem of Xu et al. for both transmission schemes.

For streams i = 1..I with per-stream received SNR snr_i at the reference transmit power
P_ref (``reference_power_w``, default the budget P_max), allocating power q_i gives the
received SNR snr_i · q_i / P_ref and the error rate Φ_i = ψ_i (uncoded BPSK BER,
eq. 21) or Ψ_i (finite-blocklength BLER, eq. 23). The problem is

    minimize_q   Σ_i Z_i q_i                       (Z_i = K_i uncoded, N_i coded)
    subject to   P_scheme(Φ_1(q_1), ..., Φ_I(q_I)) ≤ P̄
                 Σ_i q_i ≤ P_max,   q_i ≥ 0.

Writing Φ_i as the variable, the power a stream needs is q_i = P_ref · s_i(Φ_i) / snr_i
with s_i the SNR that achieves Φ_i. Internally the SNRs are rescaled to the budget,
γ_i = snr_i · P_max / P_ref, so q_i = P_max · s_i(Φ_i) / γ_i; the objective is
Σ_i w_i s_i(Φ_i) with weights w_i = Z_i P_max / γ_i, and the constraint set depends only
on the table and P̄, not on the channel.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
from numpy.typing import ArrayLike

from semopt.link.fading import CSI_MODES, link_model
from semopt.options import Option
from semopt.problems.base import Problem
from semopt.registry import register_problem
from semopt.result import INFEASIBLE, NUMERICAL_ERROR, OPTIMAL, Allocation, build_allocation
from semopt.tables.perception import MAX_ERROR_RATE, SCHEMES
from semopt.units import as_float_array, db_to_linear, linear_to_db, parse_power, parse_snr_db
from solvers.curve import golden_section

__all__ = ["MinPowerInputs", "MinPowerProblem", "MinPowerSolution"]

SNAP_DECADES = 1e-12
"""Error rates this close to Φ_max (in log10) are treated as Φ_max: the stream is off."""
LOG10_BLER_MIN = -15.0
"""Smallest BLER the coded scheme searches (P̄ must exceed P_best by more than this)."""
MAX_BITS = 1e9
"""Largest payload per stream (bits) the problem accepts."""
MIN_CODE_RATE = 1e-4
"""Smallest code rate K/N accepted (lower rates give blocklengths beyond any use)."""
PERCEPTION_TOL = 1e-9
"""Absolute tolerance of the perception recheck."""
BUDGET_RTOL = 1e-9
"""Relative tolerance of the budget recheck."""


class MinPowerSolution(NamedTuple):
    """What a min-power method returns for a batch of B realizations.

    ``log10_rates`` (B, I): log10 error rates (NaN rows: the method found no
    budget-feasible point); ``required_snr`` (B, I): the linear received SNRs achieving
    them, when the method computed them anyway (else None); ``iterations`` (the largest
    over the batch) and ``evaluations`` (total) as defined by :class:`Allocation`.
    """

    log10_rates: np.ndarray
    required_snr: np.ndarray | None
    iterations: int
    evaluations: int


class MinPowerInputs(NamedTuple):
    """Validated, broadcast call data, flattened to B = prod(batch_shape) rows.

    ``snr_linear`` (B, I): linear received SNR γ_i at the **budget** (the user's SNR
    rescaled from the reference power); ``budget_w`` (B,); ``target`` (B,) P̄;
    ``batch_shape`` of the call.
    """

    snr_linear: np.ndarray
    budget_w: np.ndarray
    target: np.ndarray
    batch_shape: tuple[int, ...]


def _reference_power(value: Any, name: str) -> float:
    return float(parse_power(value, name))


@register_problem
class MinPowerProblem(Problem):
    """Least total power Σ Z_i q_i meeting a perception target P̄ (Xu et al.).

    Parameters
    ----------
    table : str, path or PerceptionTable
        Perception table (default ``"xu2025-kodak-clip"``).
    scheme : {"discard", "forward"}
        Coded discard-with-error (BLER, finite blocklength) or uncoded
        forward-with-error (BER, BPSK).
    bits : sequence of int, optional
        Payload bits K_i per stream (default: the table's).
    code_rate : float or sequence of float, optional
        K_i/N_i for the coded scheme (default: the table's).
    log_term : bool
        Include the ½·log2(N) term of the normal approximation in eq. 23.
    reference_power_w : float or str, optional
        Transmit power at which ``snr`` is measured (default: the budget).
    csi : {"instantaneous", "statistical"}
        ``"statistical"``: ``snr`` is the mean SNR of independent Rayleigh fading per
        stream and the target constrains the fading-averaged perception (exact for the
        discard scheme; the forward scheme evaluates the surface at the mean BER, see
        :mod:`semopt.link.fading`).
    cost : {"energy", "power"}
        Objective: the paper's Σ Z_i q_i (energy per image, W·symbol) or the total power
        Σ q_i (W).

    Notes
    -----
    ``allocate(snr, budget, target)``: ``snr`` in dB, scalar, ``(I,)`` or ``(..., I)``
    (a batch of channel realizations), the received SNR per stream at
    ``reference_power_w``; ``budget`` the total power cap P_max (W, ``"10 mW"``,
    ``"10 dBm"``); ``target`` the perception value P̄ to stay under, inside
    (P_best, P_worst) of the table and scheme. ``objective`` is Σ_i Z_i q_i in W·symbol
    (Σ_i q_i in W with ``cost="power"``). ``extras["received_snr_db"]`` and
    ``extras["capacity_bits_per_use"]`` are per stream (mean values with statistical CSI).
    """

    name = "min-power"
    description = "least total power (Σ Z_i q_i) meeting a perception target (Xu et al.)"
    default_method = "global-search"
    table_kinds = ("perception",)
    default_table = "xu2025-kodak-clip"
    snr = ("per-stream received SNR in dB at reference_power_w (default: the budget); the "
           "mean SNR of Rayleigh fading with csi='statistical'")
    budget = "total transmit power cap P_max in W ('10 mW', '10 dBm')"
    target = "perception value P̄ to stay under, in (P_best, P_worst) of the table"
    objective = ("Σ_i Z_i q_i in W·symbol (Z_i = K_i uncoded, N_i coded); Σ_i q_i in W with "
                 "cost='power'")
    stream_axis = True
    options = {
        "scheme": Option("discard", "coded discard-with-error (BLER) or uncoded "
                         "forward-with-error (BER)", kind="str", choices=SCHEMES),
        "bits": Option(None, "payload bits K_i per stream (default: the table's)", unit="bit",
                       kind="ints"),
        "code_rate": Option(None, "code rate K_i/N_i, one value or one per stream, coded "
                            "scheme (default: the table's)", kind="floats"),
        "log_term": Option(False, "include the ½·log2(N) term of the finite-blocklength "
                           "normal approximation", kind="bool"),
        "reference_power_w": Option(None, "transmit power at which snr is measured "
                                    "(default: the budget)", unit="W", kind="power",
                                    parse=_reference_power),
        "csi": Option("instantaneous", "channel knowledge: 'instantaneous' (snr is the "
                      "received SNR) or 'statistical' (snr is the mean SNR of Rayleigh block "
                      "fading; the target constrains the fading-averaged perception)",
                      kind="str", choices=CSI_MODES),
        "cost": Option("energy", "what is minimized: 'energy' = Σ Z_i q_i in W·symbol (Xu et "
                       "al.) or 'power' = Σ q_i in W (total transmit power)", kind="str",
                       choices=("energy", "power")),
    }

    def __init__(self, *, table: Any = None, **options: Any) -> None:
        super().__init__(table=table, **options)
        loaded = self.table
        scheme, bits, code_rate = self.scheme, self.bits, self.code_rate
        if scheme not in loaded.schemes:
            raise ValueError(f"scheme: table {loaded.name!r} has no {scheme!r} data; "
                             f"available: {loaded.schemes}")
        self.n_streams = loaded.n_streams
        self.bits = self._per_stream(bits, [s.bits for s in loaded.streams], "bits")
        if not np.all(np.isfinite(self.bits)) or np.any(self.bits < 1) \
                or np.any(self.bits > MAX_BITS) or np.any(self.bits != np.round(self.bits)):
            raise ValueError(f"bits: must be integers in [1, {MAX_BITS:.0e}], got {bits!r}")
        self.code_rate = self._per_stream(code_rate, [s.code_rate for s in loaded.streams],
                                          "code_rate")
        if not np.all(np.isfinite(self.code_rate)) or np.any(self.code_rate < MIN_CODE_RATE) \
                or np.any(self.code_rate > 1):
            raise ValueError(f"code_rate: must lie in [{MIN_CODE_RATE:g}, 1], got {code_rate!r}")
        self.blocklength = np.round(self.bits / self.code_rate)
        self.log_term = bool(self.log_term)
        self.stream_symbols = self.bits if scheme == "forward" else self.blocklength
        # Objective weights Z_i: symbols per stream (energy), or 1 (total power, cost="power").
        self.symbols = self.stream_symbols if self.cost == "energy" \
            else np.ones(self.n_streams)
        self.link = link_model(scheme, self.csi, self.bits, self.blocklength, self.log_term)
        self.max_error_rate = MAX_ERROR_RATE[scheme]
        self.log10_max = float(np.log10(self.max_error_rate))
        if scheme == "forward":
            self.log10_min = np.array([a[0] for a in loaded.forward.axes])
        else:
            self.log10_min = np.full(self.n_streams, LOG10_BLER_MIN)
        self.best = loaded.best(scheme)
        self.worst = loaded.worst(scheme)

    def _per_stream(self, value: ArrayLike | None, default: list[float], name: str) -> np.ndarray:
        arr = as_float_array(default if value is None else value, name)
        arr = np.broadcast_to(arr, (self.n_streams,)) if arr.ndim == 0 else arr
        if arr.shape != (self.n_streams,):
            raise ValueError(f"{name}: expected {self.n_streams} values (one per stream), "
                             f"got {arr.shape[0] if arr.ndim else 1}")
        return arr.astype(float)

    # -- input validation --------------------------------------------------------------
    def parse(self, snr: ArrayLike, budget: Any, target: ArrayLike) -> MinPowerInputs:
        """Validate and broadcast ``(snr_db, budget, target)`` (see the class notes)."""
        snr_db = parse_snr_db(snr, "snr")
        if snr_db.ndim == 0:
            snr_db = np.full(self.n_streams, float(snr_db))
        if snr_db.shape[-1] not in (1, self.n_streams):
            raise ValueError(f"snr: wrong number of streams: last dimension {snr_db.shape[-1]}, "
                             f"expected {self.n_streams} (or 1, or a scalar)")
        snr_db = np.broadcast_to(snr_db, snr_db.shape[:-1] + (self.n_streams,))
        budget_w = np.asarray(parse_power(budget, "budget"), dtype=float)
        target_arr = as_float_array(target, "target")
        if not np.all(np.isfinite(target_arr)) or np.any(target_arr <= self.best) \
                or np.any(target_arr >= self.worst):
            raise ValueError(f"target: perception value P̄ must lie in ({self.best:.6g}, "
                             f"{self.worst:.6g}) (best, worst) for table {self.table.name!r}, "
                             f"{self.scheme} scheme; got {target!r}")
        try:
            batch_shape = np.broadcast_shapes(snr_db.shape[:-1], budget_w.shape, target_arr.shape)
        except ValueError as exc:
            raise ValueError(f"snr, budget, target: batch shapes {snr_db.shape[:-1]}, "
                             f"{budget_w.shape}, {target_arr.shape} do not broadcast") from exc
        reference = budget_w if self.reference_power_w is None else self.reference_power_w
        gain = np.asarray(budget_w / reference)
        snr_at_budget = db_to_linear(snr_db) * gain[..., None]
        if not np.all(np.isfinite(snr_at_budget)) or np.any(snr_at_budget <= 0):
            raise ValueError("snr: the SNR rescaled to the budget overflows or underflows; "
                             "check snr, budget and reference_power_w")
        n = self.n_streams
        flat = (int(np.prod(batch_shape, dtype=int)),)
        return MinPowerInputs(
            np.broadcast_to(snr_at_budget, batch_shape + (n,)).reshape(flat + (n,)),
            np.broadcast_to(budget_w, batch_shape).reshape(flat),
            np.broadcast_to(target_arr, batch_shape).reshape(flat), batch_shape)

    # -- link: error rate <-> SNR (the CSI mode's link strategy, semopt.link.fading) -------
    def required_snr(self, error_rate: np.ndarray) -> np.ndarray:
        """Linear received SNR s_i(Φ_i) that achieves the error rates ``[..., I]``.

        With ``csi="statistical"`` the SNR is the mean SNR of Rayleigh block fading and
        Φ_i the fading-averaged error rate.
        """
        return self.link.required_snr(error_rate)

    def error_rate(self, snr_linear: np.ndarray) -> np.ndarray:
        """Error rates Φ_i at linear received SNRs ``[..., I]`` (fading-averaged with
        ``csi="statistical"``)."""
        return self.link.error_rate(snr_linear)

    def required_snr_slope_log10(self, error_rate: np.ndarray) -> np.ndarray:
        """d s_i / d log10(Φ_i) (≤ 0), analytic (−inf at Φ_max)."""
        return self.link.required_snr_slope_log10(error_rate)

    # -- perception ----------------------------------------------------------------------
    def perception(self, error_rate: np.ndarray) -> np.ndarray:
        return self.table.perception(error_rate, self.scheme)

    def perception_log10(self, u: np.ndarray) -> np.ndarray:
        """P at log10 error rates ``u`` (clipped to the valid range)."""
        u = np.minimum(u, self.log10_max)
        if self.scheme == "forward":
            return self.table.forward.value_log10(u)
        return self.table.discard.value(10.0**u)

    def gradient_log10(self, u: np.ndarray) -> np.ndarray:
        """∂P/∂log10(Φ_i)."""
        u = np.minimum(u, self.log10_max)
        if self.scheme == "forward":
            return self.table.forward.gradient_log10(u)
        rate = 10.0**u
        return self.table.discard.gradient(rate) * rate * np.log(10.0)

    def solve_stream_log10(self, u: np.ndarray, stream: int, target: np.ndarray) -> np.ndarray:
        """Largest log10 Φ_stream with P ≤ target given the other streams (NaN if none).

        A solution within 1e-12 decades of Φ_max is snapped to Φ_max: at a curve
        endpoint the stream is switched off exactly (round-off would otherwise leave a
        BLER of 1 − 1e-16, which in the coded scheme costs a finite, large SNR).
        """
        if self.scheme == "forward":
            out = self.table.forward.solve_stream_log10(u, stream, target)
        else:
            rate = 10.0 ** np.minimum(u, self.log10_max)
            sol = self.table.discard.solve_stream(rate, stream, target)
            with np.errstate(divide="ignore"):
                out = np.log10(sol)
            # Below the search floor counts as infeasible (P̄ too close to P_best).
            out = np.where(out < self.log10_min[stream], np.nan, out)
        return np.where(out > self.log10_max - SNAP_DECADES, self.log10_max, out)

    # -- costs ---------------------------------------------------------------------------
    def powers(self, error_rate: np.ndarray, snr_linear: np.ndarray,
               budget_w: np.ndarray) -> np.ndarray:
        """q_i = P_max · s_i(Φ_i) / γ_i (W); ``snr_linear`` γ at the budget, (B, I)."""
        return budget_w[..., None] * self.required_snr(error_rate) / snr_linear

    def weights(self, snr_linear: np.ndarray, budget_w: np.ndarray) -> np.ndarray:
        """w_i = Z_i P_max / γ_i so that Σ Z_i q_i = Σ w_i s_i(Φ_i)."""
        return self.symbols * budget_w[..., None] / snr_linear

    # -- result ----------------------------------------------------------------------------
    def assemble(self, inputs: MinPowerInputs, solution: MinPowerSolution, *, method: str,
                 wall_time_s: float) -> Allocation:
        """Recheck every row with the link model and build the :class:`Allocation`.

        A row is ``optimal`` only if its powers are finite and non-negative, their sum is
        within the budget, and the perception recomputed from the error rates the powers
        *achieve* (link model evaluated at q_i, float64) meets P̄. Other rows return the
        best perception reachable within the budget (``infeasible``), or
        ``numerical_error`` where the method's numbers are not finite.
        """
        log_rates = np.asarray(solution.log10_rates, dtype=float)
        required = np.full(log_rates.shape, np.nan) if solution.required_snr is None \
            else np.array(solution.required_snr, dtype=float)
        snr, budget, target = inputs.snr_linear, inputs.budget_w, inputs.target
        n = log_rates.shape[-1]

        def _all_columns(mask: np.ndarray) -> np.ndarray:
            # Row-wise all() over the (short) stream axis column by column: much faster
            # than numpy's axis=-1 reduction on (B, I) arrays.
            out = mask[:, 0].copy()
            for i in range(1, n):
                out &= mask[:, i]
            return out

        solved = _all_columns(np.isfinite(log_rates))
        with np.errstate(invalid="ignore"):
            rates = 10.0 ** np.minimum(log_rates, self.log10_max)
        rates[~solved] = self.max_error_rate
        missing = solved & ~_all_columns(~np.isnan(required))
        if np.any(missing):
            required[missing] = self.required_snr(rates[missing])
        required[~solved] = 0.0
        with np.errstate(invalid="ignore", over="ignore"):
            power = budget[:, None] * required / snr
            total = power[:, 0].copy()
            for i in range(1, n):
                total += power[:, i]
            finite = _all_columns(np.isfinite(power) & (power >= 0))
            received = np.where(finite[:, None], power / budget[:, None] * snr, 0.0)
            achieved = self.error_rate(received)
            achieved[power == 0] = self.max_error_rate
            achieved[~finite] = self.max_error_rate
            rechecked = self.perception(achieved)
        numerical = solved & ~finite
        ok = solved & finite & (rechecked <= target + PERCEPTION_TOL) \
            & (total <= budget * (1.0 + BUDGET_RTOL))
        perception = np.where(ok, rechecked, np.nan)
        over_budget = solved & finite & ~ok
        bad = np.flatnonzero(~ok)
        if bad.size:
            rates[bad], perception[bad], split = self.best_within_budget(snr[bad])
            power[bad] = budget[bad, None] * split
            total[bad] = power[bad].sum(axis=-1)
        status = np.where(ok, OPTIMAL, np.where(numerical, NUMERICAL_ERROR, INFEASIBLE))
        if bad.size:
            received[bad] = snr[bad] * split
        with np.errstate(divide="ignore"):
            capacity = np.log2(1.0 + received)
        message = self._message(ok, over_budget, numerical, perception, inputs, total)
        extras = {"scheme": self.scheme, "table": self.table.name, "csi": self.csi,
                  "cost": self.cost, "symbols": self.stream_symbols.astype(int).tolist(),
                  "streams": [s.name for s in self.table.streams]}
        # An allocation on an illustrative (neither measured nor published) perception
        # surface illustrates the method only: say so in the message and the extras.
        source = getattr(self.table, "sources", {}).get(self.scheme)
        extras["illustrative"] = source == "illustrative"
        if extras["illustrative"]:
            extras["caveat"] = (f"ILLUSTRATIVE: the {self.scheme} perception surface of table "
                                f"{self.table.name!r} is illustrative (neither measured nor "
                                "published); these powers and perception values illustrate "
                                "the method, not the system")
            message = f"{message} [{extras['caveat']}]"
        return build_allocation(
            inputs.batch_shape, method=method, problem=self.name, success=ok, status=status,
            message=message,
            power_w=power, error_rate=rates, perception=perception, objective=power @ self.symbols,
            iterations=solution.iterations, evaluations=solution.evaluations,
            wall_time_s=wall_time_s,
            extras=extras,
            batch_extras={"received_snr_db": linear_to_db(received),
                          "capacity_bits_per_use": capacity})

    def _message(self, ok: np.ndarray, over_budget: np.ndarray, numerical: np.ndarray,
                 perception: np.ndarray, inputs: MinPowerInputs, total: np.ndarray) -> str:
        target, budget = inputs.target, inputs.budget_w
        if ok.size == 1:
            if ok[0]:
                return (f"target P̄ = {target[0]:.6g} met with total power "
                        f"{total[0]:.6g} W ≤ budget {budget[0]:.6g} W")
            if numerical[0]:
                why = "the method returned non-finite powers"
            elif over_budget[0]:
                why = (f"this method's allocation needs more than the budget {budget[0]:.6g} W "
                       "or misses P̄ when rechecked")
            else:
                why = f"not reachable within the budget {budget[0]:.6g} W"
            return (f"infeasible: P̄ = {target[0]:.6g} is {why}; the best achievable "
                    f"perception with the full budget is {perception[0]:.6g} (allocation returned)")
        n_bad = int(np.count_nonzero(~ok))
        msg = f"{ok.size - n_bad} of {ok.size} realizations meet the target"
        if n_bad:
            msg += (f"; {n_bad} infeasible (best achievable perception returned for those, "
                    f"median {np.median(perception[~ok]):.6g})")
        if np.any(numerical):
            msg += f"; {int(np.count_nonzero(numerical))} with non-finite method output"
        return msg

    def best_within_budget(self, snr_linear: np.ndarray, n_scan: int = 129,
                           seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Least perception with Σ q_i = P_max: error rates (B, I), perception (B,), split (B, I).

        ``snr_linear`` (B, I) is γ at the budget; the split is q_i/P_max (non-negative,
        summing to 1), and the error rates are those the split achieves (link model).
        Two streams: the split t = q_1/P_max is searched on the candidates where a
        stream's error rate crosses a node of a fixed, channel-independent log10 grid
        (the forward surface's own grid lines, where P(t) has its kinks; ``n_scan``
        points from the BLER floor to 1 in the coded scheme), both ends t = 0, 1 (a
        stream switched off) included — a coarse pass on every third candidate, then
        every candidate within three places of the best — and golden-section refinement
        (to 1e-7 in t) between the neighbours of the best candidate. The required SNRs
        of the grid are tabulated once per problem. More streams: the simplex vertices
        and seeded Dirichlet samples.
        """
        n = self.n_streams
        snr = np.asarray(snr_linear, dtype=float)
        if n == 2:
            return self._best_split_two(snr, n_scan)
        if n == 1:
            fractions = np.ones((1, 1))
        else:
            rng = np.random.default_rng(seed)
            fractions = np.vstack([np.eye(n), rng.dirichlet(np.ones(n), size=400 * n)])
        rates = self.error_rate(snr[:, None, :] * fractions[None])
        p = self.perception(rates)
        k = np.argmin(p, axis=-1)
        rows = np.arange(len(k))
        return rates[rows, k], p[rows, k], np.broadcast_to(fractions[k], snr.shape).copy()

    def _best_split_two(self, snr: np.ndarray, n_scan: int
                        ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Two-stream :meth:`best_within_budget` (see there)."""
        from semopt.problems.isocurve import TwoStreamSurface

        cache = self.__dict__.setdefault("_split_cache", {})
        if n_scan not in cache:
            if self.scheme == "forward":
                grids = [np.asarray(a, dtype=float) for a in self.table.forward.axes]
            else:
                grids = [np.linspace(self.log10_min[i], self.log10_max, n_scan) for i in range(2)]
            levels = []
            for i, g in enumerate(grids):
                grid_rates = np.full((len(g), 2), self.max_error_rate)
                grid_rates[:, i] = 10.0**g
                levels.append(self.required_snr(grid_rates)[:, i])
            cache[n_scan] = (TwoStreamSurface(self), levels)
        surface, levels = cache[n_scan]
        b = len(snr)

        def split_value(t: np.ndarray, rows: np.ndarray | slice = slice(None)) -> np.ndarray:
            rates = self.error_rate(np.stack([t * snr[rows, 0], (1.0 - t) * snr[rows, 1]], -1))
            return surface.value(rates)

        # Candidates: t where stream 1 reaches a grid level with t ≤ 1, where stream 2 does
        # with t ≥ 0, and both ends; sorted per row.
        with np.errstate(divide="ignore"):
            first = levels[0][None, :] / snr[:, :1]
            second = 1.0 - levels[1][None, :] / snr[:, 1:]
        cand = np.concatenate([np.zeros((b, 1)), np.ones((b, 1)), first, second], axis=1)
        # Candidates outside [0, 1] (a level the stream cannot reach) sort to the end.
        cand = np.sort(np.where((cand >= 0.0) & (cand <= 1.0), cand, np.inf), axis=1)
        # Repeated candidates (a level at t = 0 or 1, equal levels) too, so that the
        # neighbours of the best one bracket a non-empty interval.
        repeated = np.zeros(cand.shape, dtype=bool)
        repeated[:, 1:] = cand[:, 1:] == cand[:, :-1]
        cand = np.sort(np.where(repeated, np.inf, cand), axis=1)
        m = cand.shape[1]
        values = np.full(cand.shape, np.inf)
        valid = np.isfinite(cand)
        last = valid.sum(axis=1) - 1
        rows = np.arange(b)

        def evaluate(mask: np.ndarray) -> None:
            for start in range(0, b, 4096):
                sl = slice(start, start + 4096)
                r, c = np.nonzero(mask[sl] & valid[sl] & np.isinf(values[sl]))
                values[sl][r, c] = split_value(cand[sl][r, c], r + start)

        # Coarse pass on every third candidate (and the last), then all candidates within
        # three places of the coarse best.
        stride = 3
        coarse = np.zeros(cand.shape, dtype=bool)
        coarse[:, ::stride] = True
        coarse[rows, last] = True
        evaluate(coarse)
        k = np.argmin(values, axis=1)
        offsets = np.arange(m)[None, :] - k[:, None]
        evaluate(np.abs(offsets) <= stride)
        k = np.argmin(values, axis=1)
        lo = cand[rows, np.maximum(k - 1, 0)]
        hi = cand[rows, np.minimum(k + 1, last)]
        t_best, p_best = cand[rows, k], values[rows, k]
        x, _ = golden_section(lambda t: split_value(t), lo, hi, xtol=1e-7)
        p_ref = split_value(x)
        t = np.where(p_ref < p_best, x, t_best)
        fractions = np.stack([t, 1.0 - t], axis=-1)
        rates = self.error_rate(snr * fractions)
        return rates, self.perception(rates), fractions
