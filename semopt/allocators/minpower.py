"""Min-power allocators (Xu et al.) for the uncoded forward and coded discard schemes.

Every method solves

    minimize_q   Σ_i Z_i q_i
    subject to   P_scheme(Φ(q)) ≤ P̄,   Σ_i q_i ≤ P_max,   q ≥ 0

(see :mod:`semopt.problems.minpower`) and differs in how it searches:

=================  ==========================================================  =========
method             search                                                      streams
=================  ==========================================================  =========
``proportional``   Theorem 1: equal ratios L̄_i/L_i, the common ratio found so   any
                   the full constraint holds (a 1-D root), closed form per stream
``unaware``        equal received SNR for all streams (1-D root)               any
``bisection``      Algorithm 1: bisection on the sign of the derivative along  2
                   the iso-perception curve (implicit differentiation); local
``global-search``  dense scan of the iso-perception curve + refinement; global  2
``exhaustive``     dense grid, exact constraint solve for the last stream;     2, 3, 4
                   the ground truth
``slsqp``          scipy SLSQP multi-start in log10 error rates (generic)       any
``genetic``        pymoo GA exploration, then SLSQP polish (generic, global)   any
=================  ==========================================================  =========

The constraint set depends only on the table and P̄, so batched calls tabulate it
once per distinct target (cached per allocator object) and evaluate every channel
realization from the tabulation.
"""

from __future__ import annotations

import itertools
import math
import os
import time
from typing import Any, ClassVar, NamedTuple

import numpy as np
from numpy.typing import ArrayLike
from scipy.optimize import brentq, minimize

from semopt.problems.isocurve import IsoPerceptionCurve
from semopt.problems.minpower import MinPowerInputs, MinPowerProblem
from semopt.registry import ProblemSpec, register_allocator, register_problem
from semopt.result import INFEASIBLE, OPTIMAL, Allocation, SolverError
from semopt.tables.perception import PerceptionTable
from solvers.curve import bisect_sign_on_nodes, golden_section, scan_argmin
from solvers.evolutionary import minimize_ga

__all__ = [
    "BisectionAllocator",
    "ExhaustiveAllocator",
    "GlobalSearchAllocator",
    "MinPowerAllocator",
    "ProportionalAllocator",
    "SlsqpAllocator",
    "UnawareAllocator",
]

PROBLEM = register_problem(ProblemSpec(
    name="min-power", default_method="global-search",
    description="least total power (Σ Z_i q_i) meeting a perception target (Xu et al.)",
    table_kinds=("perception",), default_table="xu2025-kodak-clip"))

PERCEPTION_TOL = 1e-9
BUDGET_RTOL = 1e-9


class Solution(NamedTuple):
    """What a method returns for the realizations that share one target.

    ``log10_rates`` (b, I): log10 error rates (NaN rows: no budget-feasible point);
    ``required_snr`` (b, I): the linear SNRs achieving them, when the method computed
    them anyway (else None); iteration and constraint-evaluation counts.
    """

    log10_rates: np.ndarray
    required_snr: np.ndarray | None
    iterations: int
    evaluations: int


class MinPowerAllocator:
    """Common machinery: validation, batching by target, result assembly.

    Parameters
    ----------
    table : str, path or PerceptionTable
        Perception table (default ``"xu2025-kodak-clip"``).
    scheme : {"discard", "forward"}
        Coded discard-with-error (finite-blocklength BLER) or uncoded forward-with-error
        (BPSK BER).
    bits : sequence of int, optional
        Payload bits K_i per stream (default: the table's stream lengths).
    code_rate : float or sequence, optional
        K_i/N_i for the coded scheme (default: the table's).
    log_term : bool
        Include the ½·log2(N) term of the finite-blocklength normal approximation.

    Notes
    -----
    ``allocate(snr, budget, target)``: ``snr`` is the per-stream received SNR in dB at
    the full budget (scalar, ``(I,)`` or batched ``(..., I)``), ``budget`` the total
    transmit power cap P_max (W, or ``"10 mW"``), ``target`` the perception value P̄ to
    stay under, in (P_best, P_worst) of the table.
    """

    name: ClassVar[str] = ""
    problem: ClassVar[str] = "min-power"
    stream_counts: ClassVar[tuple[int, ...] | None] = None

    def __init__(self, *, table: str | os.PathLike[str] | PerceptionTable = "xu2025-kodak-clip",
                 scheme: str = "discard", bits: ArrayLike | None = None,
                 code_rate: ArrayLike | None = None, log_term: bool = False) -> None:
        self.scenario = MinPowerProblem(table=table, scheme=scheme, bits=bits,
                                        code_rate=code_rate, log_term=log_term)
        if self.stream_counts is not None and self.scenario.n_streams not in self.stream_counts:
            raise ValueError(f"table: method {self.name!r} handles {self.stream_counts} streams, "
                             f"the table has {self.scenario.n_streams}; use 'slsqp' or "
                             "'proportional' for other stream counts")

    # -- to implement ----------------------------------------------------------------------
    def _solve_group(self, target: float, snr: np.ndarray, budget: np.ndarray) -> Solution:
        """Solve every realization sharing one target; see :class:`Solution`."""
        raise NotImplementedError

    # -- shared ----------------------------------------------------------------------------
    def allocate(self, snr: ArrayLike, budget: Any, target: ArrayLike) -> Allocation:
        start = time.perf_counter()
        inputs = self.scenario.parse(snr, budget, target)
        n = self.scenario.n_streams
        snr_flat = inputs.snr_linear.reshape(-1, n)
        budget_flat = inputs.budget_w.reshape(-1)
        target_flat = inputs.target.reshape(-1)
        log_rates = np.full(snr_flat.shape, np.nan)
        required = np.full(snr_flat.shape, np.nan)
        iterations = evaluations = 0
        values, inverse = np.unique(target_flat, return_inverse=True)
        for index, value in enumerate(values):
            rows = np.flatnonzero(inverse == index) if len(values) > 1 else slice(None)
            sol = self._solve_group(float(value), snr_flat[rows], budget_flat[rows])
            log_rates[rows] = sol.log10_rates
            if sol.required_snr is not None:
                required[rows] = sol.required_snr
            iterations, evaluations = max(iterations, sol.iterations), evaluations + sol.evaluations
        flat = MinPowerInputs(snr_flat, budget_flat, target_flat, (len(budget_flat),))
        return self._result(log_rates, required, flat, inputs.batch_shape, iterations,
                            evaluations, time.perf_counter() - start)

    def _result(self, log_rates: np.ndarray, required: np.ndarray, inputs: MinPowerInputs,
                batch_shape: tuple[int, ...], iterations: int, evaluations: int,
                wall_time_s: float) -> Allocation:
        sc = self.scenario
        solved = np.all(np.isfinite(log_rates), axis=-1)
        rates = np.where(solved[:, None], 10.0 ** np.minimum(log_rates, sc.log10_max),
                         sc.max_error_rate)
        missing = solved & np.any(np.isnan(required), axis=-1)
        if np.any(missing):
            required[missing] = sc.required_snr(rates[missing])
        required = np.where(solved[:, None], required, 0.0)
        power = inputs.budget_w[:, None] * required / inputs.snr_linear
        perception = sc.perception(rates)
        total = power.sum(axis=-1)
        ok = solved & (perception <= inputs.target + PERCEPTION_TOL) \
            & (total <= inputs.budget_w * (1.0 + BUDGET_RTOL))
        over_budget = solved & ~ok
        bad = np.flatnonzero(~ok)
        if bad.size:
            sub = MinPowerInputs(inputs.snr_linear[bad], inputs.budget_w[bad], inputs.target[bad],
                                 (bad.size,))
            rates[bad], best_p = self.best_within_budget(sub)
            power[bad] = sc.powers(rates[bad], sub)
            perception[bad] = best_p
            total[bad] = power[bad].sum(axis=-1)
        objective = power @ sc.symbols
        status = np.where(ok, OPTIMAL, INFEASIBLE)
        message = self._message(ok, over_budget, perception, inputs, total)
        shape = batch_shape

        def out(a: np.ndarray) -> Any:
            a = a.reshape(shape + a.shape[1:])
            return a.item() if a.ndim == 0 else a

        return Allocation(
            method=self.name, problem=self.problem, success=out(ok), status=out(status),
            message=message, power_w=power.reshape(shape + (sc.n_streams,)),
            total_power_w=out(total), error_rate=rates.reshape(shape + (sc.n_streams,)),
            perception=out(perception), objective=out(objective), iterations=iterations,
            evaluations=evaluations, wall_time_s=wall_time_s,
            extras={"scheme": sc.scheme, "table": sc.table.name,
                    "symbols": sc.symbols.astype(int).tolist(),
                    "streams": [s.name for s in sc.table.streams]})

    def _message(self, ok: np.ndarray, over_budget: np.ndarray, perception: np.ndarray,
                 inputs: MinPowerInputs, total: np.ndarray) -> str:
        if ok.size == 1:
            if ok[0]:
                return (f"target P̄ = {inputs.target[0]:.6g} met with total power "
                        f"{total[0]:.6g} W ≤ budget {inputs.budget_w[0]:.6g} W")
            why = (f"this method's allocation needs more than the budget {inputs.budget_w[0]:.6g} W"
                   if over_budget[0] else f"not reachable within the budget "
                                          f"{inputs.budget_w[0]:.6g} W")
            return (f"infeasible: P̄ = {inputs.target[0]:.6g} is {why}; the best achievable "
                    f"perception with the full budget is {perception[0]:.6g} (allocation returned)")
        n_bad = int(np.count_nonzero(~ok))
        msg = f"{ok.size - n_bad} of {ok.size} realizations meet the target"
        if n_bad:
            msg += (f"; {n_bad} infeasible (best achievable perception returned for those, "
                    f"median {np.median(perception[~ok]):.6g})")
        return msg

    def best_within_budget(self, inputs: MinPowerInputs, n_scan: int = 257,
                           seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """Least perception with Σ q_i = P_max: the error rates and the perception.

        Two streams: scan of the power split t = q_1/P_max on ``n_scan`` points, then
        golden-section refinement in the cells around the best point. More streams:
        the simplex vertices and seeded Dirichlet samples.
        """
        sc = self.scenario
        n = sc.n_streams

        def perception_at(fractions: np.ndarray, snr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            rates = sc.error_rate(snr[:, None, :] * fractions)
            return rates, sc.perception(rates)

        snr = inputs.snr_linear
        if n == 1:
            fractions = np.ones((1, 1))
        elif n == 2:
            t = np.linspace(0.0, 1.0, n_scan)
            fractions = np.stack([t, 1.0 - t], axis=-1)
        else:
            rng = np.random.default_rng(seed)
            fractions = np.vstack([np.eye(n), rng.dirichlet(np.ones(n), size=400 * n)])
        rates, p = perception_at(fractions[None], snr)
        k = np.argmin(p, axis=-1)
        rows = np.arange(len(k))
        best_rates, best_p = rates[rows, k], p[rows, k]
        if n == 2:
            step = 1.0 / (n_scan - 1)
            lo, hi = np.maximum(k - 1, 0) * step, np.minimum(k + 1, n_scan - 1) * step

            def along(x: np.ndarray) -> np.ndarray:
                split = np.stack([x, 1.0 - x], axis=-1)[:, None, :]
                return perception_at(split, snr)[1][:, 0]

            x, _ = golden_section(along, lo, hi, xtol=1e-9)
            split = np.stack([x, 1.0 - x], axis=-1)[:, None, :]
            r_ref, p_ref = perception_at(split, snr)
            better = p_ref[:, 0] < best_p
            best_rates = np.where(better[:, None], r_ref[:, 0], best_rates)
            best_p = np.where(better, p_ref[:, 0], best_p)
        return best_rates, best_p


# ---------------------------------------------------------------------------------------
def _solve_monotone_root(fun: Any, lo: float, hi: float, what: str) -> float:
    """Root of a monotone scalar function on [lo, hi] with brentq."""
    f_lo, f_hi = fun(lo), fun(hi)
    if f_lo == 0:
        return lo
    if f_hi == 0:
        return hi
    if np.sign(f_lo) == np.sign(f_hi):
        raise SolverError(f"{what}: no sign change on [{lo}, {hi}] ({f_lo:.3g}, {f_hi:.3g})")
    return brentq(fun, lo, hi, xtol=1e-14, rtol=4 * np.finfo(float).eps, maxiter=500)


def _shared_solution(problem: MinPowerProblem, rates: np.ndarray, b: int,
                     evaluations: int) -> Solution:
    """One error-rate vector for every realization of the group (channel-independent rules)."""
    with np.errstate(divide="ignore"):
        log_rates = np.log10(rates)
    required = problem.required_snr(rates)
    return Solution(np.broadcast_to(log_rates, (b, rates.size)),
                    np.broadcast_to(required, (b, rates.size)), evaluations, evaluations)


def _no_solution(n_rows: int, n_streams: int, evaluations: int = 1) -> Solution:
    return Solution(np.full((n_rows, n_streams), np.nan), None, 0, evaluations)


@register_allocator("min-power", "proportional")
class ProportionalAllocator(MinPowerAllocator):
    """Semantic-proportional allocation (Theorem 1 of Xu et al.).

    Each stream gets the least power meeting L̂_i(Φ_i) = ρ·L_i (closed form per stream:
    eq. 27 uncoded, the generalized-Lambert-W form of eq. 28 coded); the common ratio
    ρ = L̄_i/L_i is the root of P(Φ(ρ)) = P̄ so the *full* constraint holds. For the
    discard scheme L̂_i = (1 − Ψ_i) L_i, so ρ fixes equal BLERs Ψ_i = 1 − ρ.
    """

    def _rates(self, rho: float) -> np.ndarray:
        sc = self.scenario
        if sc.scheme == "discard":
            return np.full(sc.n_streams, 1.0 - rho)
        fwd = sc.table.forward
        if fwd.single_stream is None:
            raise ValueError("table: the forward surface has no single-stream curves, "
                             "which the proportional method needs")
        out = np.empty(sc.n_streams)
        for i in range(sc.n_streams):
            # Largest ψ with P^(i)(ψ) ≤ 1 − ρ L_i on the monotone single-stream curve,
            # L_i = 1 − P^(i)(0) the error-free semantic value of the same curve.
            axis, curve = fwd.axes[i], fwd.single_stream[i]
            level = 1.0 - rho * (1.0 - curve[0])
            k = int(np.searchsorted(curve, level, side="right"))
            if k >= len(axis):
                u = axis[-1]
            elif k == 0:
                u = axis[0]
            else:
                u = axis[k - 1] + (level - curve[k - 1]) / (curve[k] - curve[k - 1]) \
                    * (axis[k] - axis[k - 1])
            out[i] = 10.0**u
        return out

    def _solve_group(self, target: float, snr: np.ndarray, budget: np.ndarray) -> Solution:
        count = [0]

        def gap(rho: float) -> float:
            count[0] += 1
            return float(self.scenario.perception(self._rates(rho))) - target

        if gap(1.0) > 0:  # even error-free semantic values miss the target
            return _no_solution(len(budget), self.scenario.n_streams)
        rho = _solve_monotone_root(gap, 0.0, 1.0, "proportional ratio")
        rates = self._rates(rho)
        # The root's round-off may sit a hair above P̄: step towards more reliability.
        while float(self.scenario.perception(rates)) > target and rho < 1.0:
            rho = min(1.0, rho + 1e-13)
            rates = self._rates(rho)
        return _shared_solution(self.scenario, rates, len(budget), count[0])


@register_allocator("min-power", "unaware")
class UnawareAllocator(MinPowerAllocator):
    """Semantic-unaware baseline: every stream is received at the same SNR s.

    s is the root of P(Φ_1(s), ..., Φ_I(s)) = P̄ (equal BERs uncoded; BLERs differ with
    the stream lengths coded), and q_i = P_max · s / snr_i.
    """

    def _solve_group(self, target: float, snr: np.ndarray, budget: np.ndarray) -> Solution:
        sc = self.scenario
        count = [0]

        def gap(log10_s: float) -> float:
            count[0] += 1
            s = np.full(sc.n_streams, 10.0**log10_s)
            return float(sc.perception(sc.error_rate(s))) - target

        log10_s = _solve_monotone_root(gap, -8.0, 6.0, "equal-SNR level")
        while gap(log10_s) > 0:
            log10_s += 1e-12
        rates = np.maximum(sc.error_rate(np.full(sc.n_streams, 10.0**log10_s)), 1e-300)
        return _shared_solution(sc, rates, len(budget), count[0])


class _CurveAllocator(MinPowerAllocator):
    """Two-stream methods that work on the tabulated iso-perception curve."""

    stream_counts = (2,)
    n_nodes: ClassVar[int] = 4097

    max_cached_curves: ClassVar[int] = 32

    def _curve(self, target: float) -> IsoPerceptionCurve:
        """The tabulated curve of ``target`` (channel-independent, cached per allocator)."""
        cache = self.__dict__.setdefault("_curves", {})
        if target not in cache:
            if len(cache) >= self.max_cached_curves:
                cache.pop(next(iter(cache)))
            cache[target] = IsoPerceptionCurve(self.scenario, target, n_nodes=self.n_nodes)
        return cache[target]

    def _at(self, curve: IsoPerceptionCurve, position: np.ndarray,
            snr: np.ndarray, evaluations: int) -> Solution:
        """Exact solution (u_2 solved, required SNRs) at fractional node positions."""
        n = len(curve.u1)
        k = np.clip(np.floor(position).astype(np.int64), 0, n - 1)
        t = position - k
        u1 = np.where(t > 0, curve.u1[k] + t * curve.node_spacing(), curve.u1[k])  # nodes exact
        u = np.stack([u1, curve.exact_u2(u1)], axis=-1)
        return Solution(u, self.scenario.required_snr(10.0**u), 1, evaluations)

    def _global(self, curve: IsoPerceptionCurve, snr: np.ndarray,
                budget: np.ndarray) -> Solution:
        """Exact minimum over all nodes (convex-hull query), refined inside its cells.

        Over the nodes, min_k w_1 s_1k + w_2 s_2k is attained at a vertex of the
        lower-left convex hull of the points (s_2k, s_1k), found by a binary search over
        the hull's edge slopes. The refinement looks for a zero of the interpolated
        implicit derivative in the two cells around that node and keeps it if it is
        cheaper. Realizations whose optimum exceeds the power budget are re-solved by
        a scan restricted to the budget-feasible nodes.
        """
        b, n = len(budget), len(curve.u1)
        w = self.scenario.weights(MinPowerInputs(snr, budget, np.zeros(b), ()))
        k = curve.hull.argmin(w[:, 0], w[:, 1])
        load = curve.s1[k] / snr[:, 0] + curve.s2[k] / snr[:, 1]
        over = np.flatnonzero(load > 1.0 + BUDGET_RTOL)
        has = np.ones(b, dtype=bool)
        for start in range(0, over.size, 256):
            rows = over[start:start + 256]
            values = np.where(curve.node_load(1.0 / snr[rows]) <= 1.0 + BUDGET_RTOL,
                              curve.node_objective(w[rows]), np.inf)
            k[rows] = scan_argmin(values)
            has[rows] = np.isfinite(values[np.arange(len(rows)), k[rows]])
        coef = np.stack([curve.a, curve.b], axis=-1)
        lo, hi = np.maximum(k - 1, 0), np.minimum(k + 1, n - 1)
        position, _ = bisect_sign_on_nodes(coef, w, lo, hi)
        node = self._at(curve, k.astype(float), snr, n)
        refined = self._at(curve, position, snr, n)
        f_node = (w * node.required_snr).sum(axis=-1)
        f_ref = (w * refined.required_snr).sum(axis=-1)
        fits = (refined.required_snr / snr).sum(axis=-1) <= 1.0 + BUDGET_RTOL
        take = (fits & (f_ref < f_node))[:, None]
        return Solution(np.where(has[:, None], np.where(take, refined.log10_rates, node.log10_rates),
                                 np.nan),
                        np.where(take, refined.required_snr, node.required_snr), 2, n)


@register_allocator("min-power", "bisection")
class BisectionAllocator(_CurveAllocator):
    """Semantic-aware bisection (Algorithm 1 of Xu et al.) on arcs of the curve.

    Algorithm 1 takes two endpoints (Φ^L, Φ^R) of the iso-perception curve and bisects
    the sign of the total derivative df/dΦ_1 = ∂f/∂Φ_1 + ∂f/∂Φ_2 · dΦ_2/dΦ_1 (implicit
    differentiation of P(Φ_1, Φ_2) = P̄): the left end if the derivative there is ≥ 0,
    the right end if it is ≤ 0, else the sign change — a local optimum. In the coded
    scheme both curve endpoints (one stream switched off) are always local optima
    (the BLER of a stream falls from 1 only after a finite SNR, so df/dΦ is infinite
    there), so Algorithm 1 on the whole curve returns an endpoint even when the
    interior is cheaper. Here the curve is cut into ``segments`` arcs, Algorithm 1 runs
    on every arc (vectorized) and the cheapest result is kept; ``segments=1`` is the
    paper's algorithm verbatim.

    The derivative's coefficients are tabulated at the 4097 nodes of the curve (in
    log10 Φ_1; the paper bisects Φ_1 linearly) and interpolated linearly between them,
    so bisection runs over node indices and ends with the exact zero of the linear
    piece inside the last cell. If the point found exceeds the power budget, the
    budget-feasible part of the curve is searched globally instead.

    Parameters
    ----------
    segments : int
        Number of arcs Algorithm 1 runs on (default 16).
    """

    def __init__(self, *, segments: int = 16, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if int(segments) < 1:
            raise ValueError(f"segments: must be a positive integer, got {segments!r}")
        self.segments = int(segments)

    def _solve_group(self, target: float, snr: np.ndarray, budget: np.ndarray) -> Solution:
        curve = self._curve(target)
        b, m, n = len(budget), self.segments, self.n_nodes
        if not curve.feasible:
            return _no_solution(b, 2)
        w = self.scenario.weights(MinPowerInputs(snr, budget, np.zeros(b), ()))
        edges = np.linspace(0, n - 1, m + 1).round().astype(np.int64)
        coef = np.stack([curve.a, curve.b], axis=-1)
        position, evals = bisect_sign_on_nodes(coef, np.repeat(w, m, axis=0),
                                               np.tile(edges[:-1], b), np.tile(edges[1:], b))
        position = position.reshape(b, m)
        if m > 1:
            k = np.floor(position).astype(np.int64)
            t = position - k
            k1 = np.minimum(k + 1, n - 1)
            cost = w[:, :1] * (curve.s1[k] * (1 - t) + curve.s1[k1] * t) \
                + w[:, 1:] * (curve.s2[k] * (1 - t) + curve.s2[k1] * t)
            position = position[np.arange(b), np.argmin(cost, axis=1)]
        else:
            position = position[:, 0]
        sol = self._at(curve, position, snr, evals * m + n)
        over = (sol.required_snr / snr).sum(axis=-1) > 1.0 + BUDGET_RTOL
        if np.any(over):
            fallback = self._global(curve, snr[over], budget[over])
            sol.log10_rates[over] = fallback.log10_rates
            sol.required_snr[over] = fallback.required_snr
        return Solution(sol.log10_rates, sol.required_snr, evals, evals * m + n)


@register_allocator("min-power", "global-search")
class GlobalSearchAllocator(_CurveAllocator):
    """Global 1-D search on the iso-perception curve (the default two-stream method).

    The curve is tabulated at 4097 nodes with exact constraint solves (the paper's
    endpoints L and R included), the cheapest node is found exactly for every
    realization (convex-hull query; a budget-restricted scan where the optimum exceeds
    the budget), then refined by the zero of the implicit derivative in the adjacent
    cells. Zero power for a stream (a curve endpoint) is a legitimate optimum.
    """

    def _solve_group(self, target: float, snr: np.ndarray, budget: np.ndarray) -> Solution:
        curve = self._curve(target)
        if not curve.feasible:
            return _no_solution(len(budget), 2)
        return self._global(curve, snr, budget)


@register_allocator("min-power", "exhaustive")
class ExhaustiveAllocator(MinPowerAllocator):
    """Dense-grid ground truth: a grid over the first I−1 log10 error rates, the last
    stream's error rate solved exactly from P = P̄, the cheapest budget-feasible node.

    Parameters
    ----------
    grid_points : int, optional
        Points per gridded stream (default 20001 for two streams, 401 for three,
        61 for four).
    """

    stream_counts = (2, 3, 4)

    def __init__(self, *, grid_points: int | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        default = {2: 20001, 3: 401, 4: 61}[self.scenario.n_streams]
        self.grid_points = int(grid_points or default)

    def _grid(self, target: float) -> tuple[np.ndarray, np.ndarray]:
        sc = self.scenario
        n = sc.n_streams
        axes = [np.linspace(sc.log10_min[i], sc.log10_max, self.grid_points) for i in range(n - 1)]
        if n == 2:  # add the exact curve endpoints (a stream switched off / at its floor)
            ends = [sc.solve_stream_log10(np.array([0.0, v]), 0, np.asarray(target))
                    for v in (sc.log10_max, sc.log10_min[1])]
            axes = [np.union1d(axes[0], [float(e) for e in ends if np.isfinite(e)])]
        mesh = np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, n - 1)
        u = np.concatenate([mesh, np.zeros((len(mesh), 1))], axis=-1)
        u[:, -1] = sc.solve_stream_log10(u, n - 1, np.asarray(target))
        keep = np.isfinite(u[:, -1])
        u = u[keep]
        return u, sc.required_snr(10.0**u)

    def _solve_group(self, target: float, snr: np.ndarray, budget: np.ndarray) -> Solution:
        u, s = self._grid(target)
        b = len(budget)
        if len(u) == 0:
            return _no_solution(b, self.scenario.n_streams)
        out = np.full((b, self.scenario.n_streams), np.nan)
        w = self.scenario.weights(MinPowerInputs(snr, budget, np.zeros(b), ()))
        chunk = max(1, int(2e7 // len(u)))
        for start in range(0, b, chunk):
            sl = slice(start, start + chunk)
            values = w[sl] @ s.T
            values = np.where((1.0 / snr[sl]) @ s.T <= 1.0 + BUDGET_RTOL, values, np.inf)
            k = scan_argmin(values)
            has = np.isfinite(values[np.arange(len(k)), k])
            out[sl] = np.where(has[:, None], u[k], np.nan)
        return Solution(out, None, 1, len(u))


@register_allocator("min-power", "slsqp")
class SlsqpAllocator(MinPowerAllocator):
    """Generic method for any number of streams: scipy SLSQP, one instance at a time.

    Solves min Σ_i w_i s_i(10^{u_i}) s.t. P(10^u) ≤ P̄ and Σ_i s_i/snr_i ≤ 1 over
    u ∈ [log10 Φ_min, log10 Φ_max]^I with analytic gradients, from several starts (the
    proportional and unaware solutions, the all-equal-error-rate point, and seeded random
    points) and keeps the best feasible result. Also the "generic solver" baseline of the
    benchmarks.

    Parameters
    ----------
    starts : int
        Number of extra random starts (default 4).
    seed : int
        Seed of the random starts (deterministic).
    """

    def __init__(self, *, starts: int = 4, seed: int = 0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.starts, self.seed = int(starts), int(seed)
        self._helpers = [ProportionalAllocator(table=self.scenario.table, scheme=self.scenario.scheme,
                                               bits=self.scenario.bits,
                                               code_rate=self.scenario.code_rate,
                                               log_term=self.scenario.log_term),
                         UnawareAllocator(table=self.scenario.table, scheme=self.scenario.scheme,
                                          bits=self.scenario.bits,
                                          code_rate=self.scenario.code_rate,
                                          log_term=self.scenario.log_term)]

    def _solve_one(self, target: float, w: np.ndarray, inv_snr: np.ndarray,
                   starts: list[np.ndarray]) -> tuple[np.ndarray, int]:
        """Best feasible SLSQP result over every on/off pattern of the streams.

        A stream switched off sits at Φ_max (zero power). In the coded scheme the
        required SNR has an infinite slope there, which gradient methods cannot cross,
        so each non-empty set of active streams is optimized separately (the others
        fixed at Φ_max) with active error rates bounded by 0.999·Φ_max.
        """
        sc = self.scenario
        n = sc.n_streams
        top = sc.log10_max
        scale = float(np.sum(w * sc.required_snr(np.full(n, 1e-3)))) or 1.0
        best, best_f, evals = None, math.inf, 0
        patterns = [np.array(p, dtype=bool) for p in itertools.product((True, False), repeat=n)
                    if any(p)] if n <= 8 else [np.ones(n, dtype=bool)]
        for on in patterns:
            def full(x: np.ndarray, on: np.ndarray = on) -> np.ndarray:
                u = np.full(n, top)
                u[on] = x
                return u

            def objective(x: np.ndarray, on: np.ndarray = on) -> tuple[float, np.ndarray]:
                rates = 10.0 ** full(x)
                grad = w * sc.required_snr_slope_log10(rates) / scale
                return float(w @ sc.required_snr(rates)) / scale, grad[on]

            constraints = [
                {"type": "ineq", "fun": lambda x: target - float(sc.perception_log10(full(x))),
                 "jac": lambda x, on=on: -sc.gradient_log10(full(x))[on]},
                {"type": "ineq",
                 "fun": lambda x: 1.0 - float(inv_snr @ sc.required_snr(10.0 ** full(x))),
                 "jac": lambda x, on=on: -(inv_snr * sc.required_snr_slope_log10(10.0 ** full(x)))[on]},
            ]
            lo = sc.log10_min[on]
            hi = np.full(lo.shape, top + np.log10(0.999))
            if float(sc.perception_log10(full(lo))) > target:
                continue  # this set of streams cannot reach the target at all
            for x0 in starts:
                x0 = np.clip(np.where(np.isfinite(x0[on]), x0[on], hi - 0.5), lo, hi)
                res = minimize(objective, x0, jac=True, method="SLSQP", bounds=list(zip(lo, hi)),
                               constraints=constraints, options={"maxiter": 200, "ftol": 1e-12})
                evals += int(res.nfev)
                u = self._repair(full(np.clip(res.x, lo, hi)), target, on, w)
                if u is None:
                    continue
                f = float(w @ sc.required_snr(10.0**u))
                if float(inv_snr @ sc.required_snr(10.0**u)) <= 1.0 + BUDGET_RTOL and f < best_f:
                    best, best_f = u, f
        return (np.full(n, np.nan) if best is None else best), evals

    def _repair(self, u: np.ndarray, target: float, on: np.ndarray,
                w: np.ndarray) -> np.ndarray | None:
        """Make a nearly feasible SLSQP point exactly feasible (P ≤ P̄) if it is not.

        Each active stream in turn is set to the largest error rate meeting P̄ with the
        others fixed; the cheapest repair wins. Switched-off streams stay off.
        """
        sc = self.scenario
        if float(sc.perception_log10(u)) <= target:
            return u
        best, best_f = None, math.inf
        for i in np.flatnonzero(on):
            fixed = sc.solve_stream_log10(u, int(i), np.asarray(target))
            if not np.isfinite(fixed):
                continue
            v = u.copy()
            v[i] = fixed
            f = float(w @ sc.required_snr(10.0**v))
            if float(sc.perception_log10(v)) <= target and f < best_f:
                best, best_f = v, f
        return best

    def _solve_group(self, target: float, snr: np.ndarray, budget: np.ndarray) -> Solution:
        sc = self.scenario
        w = sc.weights(MinPowerInputs(snr, budget, np.zeros(len(budget)), ()))
        starts = self._starts(target, snr, budget)
        out = np.empty((len(budget), sc.n_streams))
        evals = 0
        for row in range(len(budget)):
            out[row], ev = self._solve_one(target, w[row], 1.0 / snr[row], starts)
            evals += ev
        return Solution(out, None, evals, evals)

    def _starts(self, target: float, snr: np.ndarray, budget: np.ndarray) -> list[np.ndarray]:
        """All-equal 1e-3, the proportional and unaware solutions, seeded random points."""
        sc = self.scenario
        base = [np.full(sc.n_streams, -3.0)]
        for helper in self._helpers:
            try:
                base.append(helper._solve_group(target, snr[:1], budget[:1]).log10_rates[0])
            except (ValueError, SolverError):
                pass  # e.g. no single-stream curves for the proportional start
        rng = np.random.default_rng(self.seed)
        return base + [rng.uniform(sc.log10_min, sc.log10_max) for _ in range(self.starts)]


@register_allocator("min-power", "genetic")
class GeneticAllocator(SlsqpAllocator):
    """Generic global method for any number of streams: pymoo GA, then SLSQP polish.

    pymoo's genetic algorithm explores u ∈ [log10 Φ_min, log10 Φ_max]^I with the
    whole population evaluated in one vectorized call (objective Σ_i w_i s_i(10^{u_i}),
    constraints P(10^u) ≤ P̄ and Σ_i s_i/snr_i ≤ 1; error rates within 1 % of Φ_max
    count as switched off). Its best point, beside the ``slsqp`` starts, starts the SLSQP
    polish of every on/off pattern (see ``slsqp``). One instance at a time.

    Parameters
    ----------
    pop_size, generations : int
        GA population and number of generations (defaults 48 and 40).
    seed : int
        Seed of the GA (deterministic).
    """

    def __init__(self, *, pop_size: int = 48, generations: int = 40, seed: int = 0,
                 **kwargs: Any) -> None:
        super().__init__(starts=0, seed=seed, **kwargs)
        self.pop_size, self.generations = int(pop_size), int(generations)

    def _solve_group(self, target: float, snr: np.ndarray, budget: np.ndarray) -> Solution:
        sc = self.scenario
        w = sc.weights(MinPowerInputs(snr, budget, np.zeros(len(budget)), ()))
        off = sc.log10_max + np.log10(0.99)

        def snapped(u: np.ndarray) -> np.ndarray:
            return np.where(u >= off, sc.log10_max, u)

        base = self._starts(target, snr, budget)
        out = np.empty((len(budget), sc.n_streams))
        evals = 0
        for row in range(len(budget)):
            inv_snr = 1.0 / snr[row]

            def objective(u: np.ndarray, row: int = row) -> np.ndarray:
                return sc.required_snr(10.0 ** snapped(u)) @ w[row]

            def constraint(u: np.ndarray, inv_snr: np.ndarray = inv_snr) -> np.ndarray:
                v = snapped(u)
                excess = sc.perception_log10(v) - target
                load = sc.required_snr(10.0**v) @ inv_snr - 1.0
                return np.maximum(excess, load)

            x, _, ev = minimize_ga(objective, constraint, sc.log10_min,
                                   np.full(sc.n_streams, sc.log10_max),
                                   pop_size=self.pop_size, generations=self.generations,
                                   seed=self.seed)
            start = ([snapped(x)] if x is not None else []) + base
            out[row], ev2 = self._solve_one(target, w[row], inv_snr, start)
            evals += ev + ev2
        return Solution(out, None, self.generations, evals)
