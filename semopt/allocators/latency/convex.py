"""``cvxpy`` and ``joint-bandwidth``: the convex programs of the latency problem in cvxpy.

Both build a parametrized (DPP) program once per allocator and re-solve it per instance.
Normalized variables: power fractions ``x_i = p_i/P_T``, ``w = c/γ_0 = ln η_R`` (log of
the expected prompt transmissions), time ``τ = T/T_u`` with
``T_u = |v_0| / (r log2(M_0) B_tot)``; for the joint problem also bandwidth fractions
``β_i`` and ``b = ln β_0``::

    minimize τ
    s.t.  exp(w − ln β_0) ≤ τ                            (T_0 ≤ T)
          x_0 ≥ (c/γ̄) · exp(ln β_0 − ln w)                (γ_0 = c/w)
          β_i log(1 + K_i γ̄ x_i / β_i) ≥ n_i / τ,   n_i = |v_i| ln 2 / (B_tot T_u)
          Σ x_i ≤ 1,  (Σ β_i ≤ 1)

Every constraint is jointly convex (perspective of log, exp of affine minus log), so
the joint bandwidth-power problem is a convex program (no bisection needed).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from semopt.allocators.latency.base import LatencyMethod
from semopt.link.latency import LN2, LatencyScenario
from semopt.options import Option
from semopt.problems.latency import STATUS_CODE, LatencyInputs, LatencySolution
from semopt.problems.latency_math import EqualLatencyTerms, solve_equal_latency
from semopt.registry import register_allocator
from semopt.result import NUMERICAL_ERROR

__all__ = ["CvxpyMethod", "JointBandwidthMethod"]

FORMULATIONS = ("dcp", "dqcp")
JOINT_RTOL = 1e-6
"""A joint-bandwidth point slower than a known feasible split (the scenario's bandwidths
or the equal split, each with its exact power split) by more than this relative margin
contradicts the solver's optimality certificate: the row becomes ``numerical_error``."""


def _solver_name(value: Any, name: str) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError(f"{name}: expected a cvxpy solver name (e.g. 'CLARABEL'), got {value!r}")
    return value.upper()


def _flag(value: Any, name: str) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name}: expected True or False, got {value!r}")
    return bool(value)


def build_program(sc: LatencyScenario, joint: bool, formulation: str = "dcp") -> dict[str, Any]:
    """The parametrized program of the module notes (cvxpy objects in a dict)."""
    import cvxpy as cp

    from solvers.convex import log1p_perspective

    n = sc.n_streams
    bits = np.asarray(sc.stream_bits, float)
    base_num = sc.prompt_bits / (sc.code_rate * np.log2(sc.prompt_order))  # A_0·B_0
    nvec = LN2 * bits / base_num
    x = cp.Variable(1 + n, nonneg=True, name="x")
    w = cp.Variable(pos=True, name="w")
    gain = cp.Parameter(n, nonneg=True, name="gain")        # K_i γ̄
    pcoef = cp.Parameter(nonneg=True, name="pcoef")         # c / γ̄
    cons = [cp.sum(x) <= 1]
    if joint:
        b = cp.Variable(name="b")
        beta = cp.Variable(n, pos=True, name="beta")
        cons += [cp.exp(b) + cp.sum(beta) <= 1, x[0] >= pcoef * cp.exp(b - cp.log(w))]
        t0 = cp.exp(w - b)
    else:
        frac = sc.bandwidth_fraction
        b, beta = float(np.log(frac[0])), frac[1:]
        cons += [x[0] >= pcoef * frac[0] * cp.inv_pos(w)]
        t0 = cp.exp(w) / frac[0]
    active = [i for i in range(n) if bits[i] > 0]
    if formulation == "dqcp":
        rates = [log1p_perspective(beta[i], x[1 + i], gain[i]) for i in active]
        objective = cp.maximum(t0, *[nvec[i] / r for i, r in zip(active, rates)])
        problem = cp.Problem(cp.Minimize(objective), cons)
        tau = None
    else:
        tau = cp.Variable(pos=True, name="tau")
        cons.append(t0 <= tau)
        for i in active:
            cons.append(log1p_perspective(beta[i], x[1 + i], gain[i])
                        >= nvec[i] * cp.inv_pos(tau))
        problem = cp.Problem(cp.Minimize(tau), cons)
    return {"problem": problem, "x": x, "w": w, "b": b, "beta": beta, "tau": tau,
            "gain": gain, "pcoef": pcoef}


class _ConvexMethod(LatencyMethod):
    joint = False
    vectorized = False
    requires = ("cvxpy",)
    optimality = "global"

    def _program(self) -> dict[str, Any]:
        formulation = getattr(self, "formulation", "dcp")
        cache = self.__dict__.setdefault("_programs", {})
        if formulation not in cache:
            cache[formulation] = build_program(self.problem.scenario, self.joint, formulation)
        return cache[formulation]

    def _solve_one(self, gbar: float, gap: np.ndarray) -> tuple[np.ndarray, np.ndarray, str, int]:
        """Fractions, bandwidth fractions, solver name and solver iterations of one instance."""
        from solvers.convex import solve_problem

        formulation = getattr(self, "formulation", "dcp")
        prog = self._program()
        prog["gain"].value = gap * gbar
        prog["pcoef"].value = self.problem.scenario.prompt_c / gbar
        if formulation == "dqcp":
            solvers = (self.solver,) if self.solver else ("SCS", "CLARABEL")
            kwargs = {"qcp": True}
        else:
            solvers = (self.solver,) if self.solver else ("CLARABEL", "SCS")
            kwargs = {}
        used = solve_problem(prog["problem"], solvers, allow_inaccurate=formulation == "dqcp",
                             **kwargs)
        stats = prog["problem"].solver_stats
        its = int(getattr(stats, "num_iters", 0) or 0) if stats is not None else 0
        x = np.maximum(np.asarray(prog["x"].value, float), 0.0)
        sc = self.problem.scenario
        if self.joint:
            beta0 = float(np.exp(prog["b"].value))
            beta = np.concatenate([[beta0], np.maximum(np.asarray(prog["beta"].value, float)
                                                       .reshape(sc.n_streams), 1e-300)])
            beta = beta / beta.sum()  # spend the whole band (more never hurts)
        else:
            beta = sc.bandwidth_fraction
        x = x / max(x.sum(), 1.0)
        tau = prog["tau"].value if prog["tau"] is not None else None
        if not self.joint and tau is not None:
            # The optimal value is what cvxpy certifies; the powers of the interior-point
            # method are less accurate than it (the latency is steep in some powers), so
            # recover them as the least powers for that latency.
            unit_s = sc.prompt_bits / (sc.code_rate * np.log2(sc.prompt_order)
                                       * sc.total_bandwidth_hz)
            terms = EqualLatencyTerms(sc, gap)
            u = np.log(float(tau) * unit_s / terms.a0)
            if np.isfinite(u) and u > 0:
                x = terms.fractions(np.asarray([u]), np.asarray([gbar]))[0]
                x = x / max(x.sum(), 1.0)
        return x, beta, used, its

    def solve_reachable(self, inputs: LatencyInputs) -> LatencySolution:
        from solvers.convex import ConvexSolveError

        sc = self.problem.scenario
        n = sc.n_streams
        rows = inputs.gbar.size
        fractions = np.full((rows, 1 + n), np.nan)
        beta = np.tile(sc.bandwidth_fraction, (rows, 1))
        code = np.zeros(rows, dtype=np.int8)
        used: set[str] = set()
        failures: list[str] = []
        iterations = evaluations = 0
        for r in range(rows):
            try:
                fractions[r], beta[r], name, its = self._solve_one(float(inputs.gbar[r]),
                                                                   inputs.gap)
            except ConvexSolveError as exc:
                code[r] = STATUS_CODE[NUMERICAL_ERROR]
                failures.append(f"row {r} (γ̄ = {10 * np.log10(inputs.gbar[r]):.3f} dB): {exc}")
                continue
            used.add(name)
            iterations = max(iterations, its)
            evaluations += its
        bandwidth = beta * sc.total_bandwidth_hz
        msg = (f"{self.name}: cvxpy ({', '.join(sorted(used)) or 'no solve'}, "
               f"{getattr(self, 'formulation', 'dcp')})")
        if failures:
            msg += f"; the solver failed on {len(failures)} row(s), first {failures[0]}"
        return self._finish(inputs, fractions, bandwidth, code, msg, iterations, evaluations)

    def _finish(self, inputs: LatencyInputs, fractions: np.ndarray, bandwidth: np.ndarray,
                code: np.ndarray, msg: str, iterations: int,
                evaluations: int) -> LatencySolution:
        return LatencySolution(fractions, code, "continuous", iterations=iterations,
                               evaluations=evaluations, message=msg)


@register_allocator("latency")
class CvxpyMethod(_ConvexMethod):
    """Convex cross-check of ``lemma1`` / ``bisection`` with the scenario's bandwidths.

    The epigraph form of problem (5) in normalized units (module notes)::

        min τ   s.t.  T_0(p_0) ≤ τ,  T_i(p_i) ≤ τ,  Σ p_i ≤ P_T

    re-solved per instance with CLARABEL (SCS fallback). The powers are recovered as
    the least powers for the certified optimal latency; the latency reported is
    recomputed from them with the link model.
    """

    name = "cvxpy"
    joint = False
    options = {"solver": Option(None, "cvxpy solver (default CLARABEL, then SCS)", kind="str",
                                parse=_solver_name)}


@register_allocator("latency")
class JointBandwidthMethod(_ConvexMethod):
    """Joint bandwidth and power allocation (beyond the paper), with cvxpy.

    Solves::

        min_{p, B} max_i T_i(p_i, B_i)  s.t.  Σ p_i ≤ P_T,  Σ B_i ≤ B_tot

    (``B_tot``: the sum of the scenario's bandwidths). With ``b = ln B_0`` and
    ``w = c/γ_0`` the prompt's latency ``exp(w − b)`` and power ``exp(b − ln w)`` are
    jointly convex and each stream's rate is the perspective ``B log(1 + c p/B)``, so the
    problem is convex and solved in one cvxpy call per instance (``formulation="dcp"``).
    ``formulation="dqcp"`` minimizes the quasi-convex ``max(T_0, n_i/rate_i)`` with
    cvxpy's DQCP bisection instead (SCS; slower, less accurate: a cross-check). With
    ``polish=True`` the powers are recomputed exactly (the ``lemma1`` root) for the
    bandwidths found. The scenario's own bandwidths and the equal split, each with its
    exact powers, are feasible points of the joint problem: the best of the three is
    returned, and a solver point slower than either by more than 1e-6 relative is
    refused (``numerical_error``: the certificate is contradicted). The bandwidths are
    in ``extras["bandwidth_hz"]``.
    """

    name = "joint-bandwidth"
    joint = True
    options = {
        "solver": Option(None, "cvxpy solver (default CLARABEL, then SCS; dqcp: SCS)",
                         kind="str", parse=_solver_name),
        "formulation": Option("dcp", "convex reformulation (dcp) or cvxpy's quasi-convex "
                              "bisection (dqcp)", kind="str", choices=FORMULATIONS),
        "polish": Option(True, "recompute the powers exactly for the bandwidths found",
                         kind="bool", parse=_flag),
    }

    def _finish(self, inputs: LatencyInputs, fractions: np.ndarray, bandwidth: np.ndarray,
                code: np.ndarray, msg: str, iterations: int,
                evaluations: int) -> LatencySolution:
        sc = self.problem.scenario
        n = sc.n_streams
        solved = code == 0
        latency = np.full(inputs.gbar.size, np.nan)
        if self.polish and np.any(solved):
            terms = EqualLatencyTerms(sc, inputs.gap, bandwidth[solved])
            root = solve_equal_latency(inputs.gbar[solved], terms)
            fractions[solved] = terms.fractions(root.u, inputs.gbar[solved])
            latency[solved] = terms.latency_s(root.u)
        elif np.any(solved):
            latency[solved] = self.problem.stream_latencies(
                inputs, fractions, bandwidth)[solved].max(axis=-1)
        # Known feasible points of the joint problem: fixed and equal bandwidths.
        candidates = [np.broadcast_to(np.asarray(sc.bandwidth_hz, float), bandwidth.shape),
                      np.full(bandwidth.shape, sc.total_bandwidth_hz / (1 + n))]
        refused = 0
        for bw_c in candidates:
            terms = EqualLatencyTerms(sc, inputs.gap, bw_c[0])
            root = solve_equal_latency(inputs.gbar, terms)
            t_c = np.where(root.converged, terms.latency_s(root.u), np.inf)
            worse = solved & (latency > t_c * (1.0 + JOINT_RTOL))
            if np.any(worse):
                code[worse] = STATUS_CODE[NUMERICAL_ERROR]
                solved &= ~worse
                refused += int(np.count_nonzero(worse))
            better = solved & (t_c < latency)
            if np.any(better):
                fractions[better] = terms.fractions(root.u[better], inputs.gbar[better])
                bandwidth[better] = bw_c[better]
                latency[better] = t_c[better]
        if refused:
            msg += (f"; {refused} row(s) where the solver's point is slower than a fixed "
                    "bandwidth split (its optimality certificate is contradicted)")
        return LatencySolution(fractions, code, "continuous", latency_s=latency,
                               bandwidth_hz=bandwidth, iterations=iterations,
                               evaluations=evaluations, message=msg)
