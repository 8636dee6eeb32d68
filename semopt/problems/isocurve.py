"""The iso-perception curve of a two-stream min-power problem, tabulated once per target.

For two streams the feasible set {P(Φ_1, Φ_2) ≤ P̄} is bounded by the curve
P(Φ_1, Φ_2) = P̄. Because P is non-decreasing in each error rate, the curve is a
non-increasing function u_2(u_1) in log10 coordinates (u_i = log10 Φ_i) between the
endpoints

* L: the largest u_1 at which stream 2 may be switched off (Φ_2 at its maximum),
  or the search floor if stream 2 is always needed;
* R: the largest u_1 at which the target is still reachable (Φ_2 at its floor).

The curve depends on the table and P̄ only, not on the channel: one tabulation
serves every channel realization of a batch. On it, the min-power objective of a
realization with weights w is f(u_1) = w_1 s_1(u_1) + w_2 s_2(u_2(u_1)) (s_i the linear
received SNR that achieves Φ_i), and its total derivative (implicit differentiation,
Algorithm 1 of Xu et al.) is

    df/du_1 = w_1 s_1'(u_1) + w_2 s_2'(u_2) · du_2/du_1,
    du_2/du_1 = −(∂P/∂u_1)/(∂P/∂u_2),

linear in w with channel-independent coefficients tabulated at the nodes.

Both perception models are bilinear on patches: the discard model is one bilinear
function of the BLERs (Ψ_1, Ψ_2); the forward surface is bilinear in (u_1, u_2) on every
cell of its grid. :class:`TwoStreamSurface` evaluates them in closed form, and the curve
puts a node wherever it crosses a grid line of the forward surface, so that between two
consecutive nodes it stays in one patch: there u_2(u_1) is closed form and f is smooth
(its kinks are nodes).
"""

from __future__ import annotations

import numpy as np
from scipy.special import ndtri

from semopt.link import bpsk, fbl
from semopt.link.fading import InstantaneousBPSK, InstantaneousFBL
from semopt.problems.minpower import SNAP_DECADES, MinPowerProblem
from solvers.curve import LowerHull, implicit_slope

__all__ = ["IsoPerceptionCurve", "TwoStreamSurface", "fbl_snr_in_bracket", "snr_slope_log10"]

_HUGE = 1e300
_LN10 = float(np.log(10.0))
_EPS = float(np.finfo(float).eps)


class TwoStreamSurface:
    """P(Φ_1, Φ_2) of a two-stream :class:`MinPowerProblem` in closed form, batched.

    * discard: P = (1−Ψ_1)(1−Ψ_2)P_{12} + (1−Ψ_1)Ψ_2 P_{1} + Ψ_1(1−Ψ_2)P_{2} + Ψ_1Ψ_2 P_∅
      (the table's subset values);
    * forward: the table's grid interpolated bilinearly in log10 BER on each cell
      (clamped below the first node, as :class:`~semopt.tables.perception.ForwardSurface`).

    The same numbers as ``problem.perception`` (tested to 1e-15), without the generic
    I-stream machinery, for the inner loops of the curve methods and the
    best-within-budget search.
    """

    def __init__(self, problem: MinPowerProblem) -> None:
        if problem.n_streams != 2:
            raise ValueError("problem: TwoStreamSurface needs exactly two streams")
        self.scheme = problem.scheme
        self.top = float(problem.log10_max)
        self.floor = np.asarray(problem.log10_min, dtype=float)
        if self.scheme == "discard":
            v = problem.table.discard.values  # bit mask of received streams
            self.p_none, self.p_first, self.p_second, self.p_both = (float(x) for x in v)
        else:
            surface = problem.table.forward
            self.axis1, self.axis2 = (np.asarray(a, dtype=float) for a in surface.axes)
            self.grid = np.asarray(surface.values, dtype=float)
            self._flat = np.ascontiguousarray(self.grid).ravel()
            self._step1, self._step2 = (self._uniform_step(a) for a in (self.axis1, self.axis2))

    @staticmethod
    def _uniform_step(axis: np.ndarray) -> float | None:
        """The node spacing if the axis is evenly spaced (to 1e-12 relative), else None."""
        steps = np.diff(axis)
        return float(steps.mean()) if np.allclose(steps, steps.mean(), rtol=1e-12, atol=0) \
            else None

    # -- discard ---------------------------------------------------------------------------
    def _discard(self, e1: np.ndarray, e2: np.ndarray) -> np.ndarray:
        return ((1.0 - e1) * ((1.0 - e2) * self.p_both + e2 * self.p_first)
                + e1 * ((1.0 - e2) * self.p_second + e2 * self.p_none))

    # -- forward patches -------------------------------------------------------------------
    @staticmethod
    def _index(axis: np.ndarray, step: float | None, u: np.ndarray) -> np.ndarray:
        """i with axis[i] ≤ u < axis[i+1], clipped to the cells (searchsorted semantics)."""
        last = len(axis) - 2
        if step is None:
            return np.clip(np.searchsorted(axis, u, side="right") - 1, 0, last)
        with np.errstate(invalid="ignore"):
            i = np.clip(np.floor((u - axis[0]) / step), 0, last).astype(np.int64)
        # Exact against the nodes despite the round-off of the division.
        i = np.where((i > 0) & (u < axis[i]), i - 1, i)
        return np.where((i < last) & (u >= axis[np.minimum(i + 1, last + 1)]), i + 1, i)

    def cell(self, u1: np.ndarray, u2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Grid cell (i, j) of the forward surface holding (u_1, u_2) (last cell at the top)."""
        return (self._index(self.axis1, self._step1, u1),
                self._index(self.axis2, self._step2, u2))

    def _corners(self, i: np.ndarray, j: np.ndarray) -> tuple[np.ndarray, ...]:
        """Grid values at the corners (i, j), (i+1, j), (i, j+1), (i+1, j+1)."""
        flat, width = self._flat, self.grid.shape[1]
        base = i * width + j
        return (flat.take(base), flat.take(base + width), flat.take(base + 1),
                flat.take(base + width + 1))

    def _fractions(self, u1: np.ndarray, u2: np.ndarray, i: np.ndarray,
                   j: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        a, b = self.axis1, self.axis2
        h1, h2 = a[i + 1] - a[i], b[j + 1] - b[j]
        t = (np.clip(u1, a[0], a[-1]) - a[i]) / h1
        s = (np.clip(u2, b[0], b[-1]) - b[j]) / h2
        return t, s, h1, h2

    def value_log10(self, u1: np.ndarray, u2: np.ndarray) -> np.ndarray:
        """P at log10 error rates (u_1, u_2) (broadcast; clipped to [floor, top])."""
        u1 = np.minimum(np.asarray(u1, dtype=float), self.top)
        u2 = np.minimum(np.asarray(u2, dtype=float), self.top)
        if self.scheme == "discard":
            return self._discard(10.0**u1, 10.0**u2)
        i, j = self.cell(u1, u2)
        t, s, _, _ = self._fractions(u1, u2, i, j)
        c00, c10, c01, c11 = self._corners(i, j)
        return (1.0 - s) * ((1.0 - t) * c00 + t * c10) + s * ((1.0 - t) * c01 + t * c11)

    def value(self, rates: np.ndarray) -> np.ndarray:
        """P at error rates ``rates[..., 2]`` (BER ≤ ½ forward, BLER ≤ 1 discard)."""
        rates = np.asarray(rates, dtype=float)
        if self.scheme == "discard":
            return self._discard(rates[..., 0], rates[..., 1])
        with np.errstate(divide="ignore"):
            u = np.log10(rates)
        return self.value_log10(u[..., 0], u[..., 1])

    def gradient_in_cell(self, u1: np.ndarray, u2: np.ndarray, i: np.ndarray | None = None,
                         j: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(∂P/∂u_1, ∂P/∂u_2) in log10 coordinates; forward: from inside cell (i, j)."""
        if self.scheme == "discard":
            e1, e2 = 10.0 ** np.minimum(u1, self.top), 10.0 ** np.minimum(u2, self.top)
            d1 = (1.0 - e2) * (self.p_second - self.p_both) + e2 * (self.p_none - self.p_first)
            d2 = (1.0 - e1) * (self.p_first - self.p_both) + e1 * (self.p_none - self.p_second)
            return d1 * e1 * _LN10, d2 * e2 * _LN10
        if i is None or j is None:
            i, j = self.cell(u1, u2)
        t, s, h1, h2 = self._fractions(u1, u2, i, j)
        t, s = np.clip(t, 0.0, 1.0), np.clip(s, 0.0, 1.0)
        c00, c10, c01, c11 = self._corners(i, j)
        d1 = ((1.0 - s) * (c10 - c00) + s * (c11 - c01)) / h1
        d2 = ((1.0 - t) * (c01 - c00) + t * (c11 - c10)) / h2
        return d1, d2

    def solve_u2(self, u1: np.ndarray, target: float, i: np.ndarray | None = None,
                 j: np.ndarray | None = None) -> np.ndarray:
        """Largest u_2 with P(u_1, u_2) ≤ P̄ (closed form; forward: within cell (i, j)).

        Discard: P is affine in Ψ_2 (NaN where even Ψ_2 = 0 misses P̄, the top where
        Ψ_2 = 1 meets it; values within 1e-12 decades of the top snap to it, as
        :meth:`MinPowerProblem.solve_stream_log10`). Forward: the bilinear patch of cell
        (i, j) solved for u_2, not clipped to the cell (the caller clips to the curve).
        """
        u1 = np.minimum(np.asarray(u1, dtype=float), self.top)
        if self.scheme == "discard":
            e1 = 10.0**u1
            at_zero = (1.0 - e1) * self.p_both + e1 * self.p_second
            at_one = (1.0 - e1) * self.p_first + e1 * self.p_none
            with np.errstate(divide="ignore", invalid="ignore"):
                e2 = np.clip((target - at_zero) / (at_one - at_zero), 0.0, 1.0)
                out = np.log10(e2)
            out = np.where(at_one <= target, self.top, out)
            out = np.where((at_zero > target) | (out < self.floor[1]), np.nan, out)
            return np.where(out > self.top - SNAP_DECADES, self.top, out)
        if i is None or j is None:
            raise ValueError("i, j: the forward surface needs the grid cell")
        t = (np.clip(u1, self.axis1[0], self.axis1[-1]) - self.axis1[i]) \
            / (self.axis1[i + 1] - self.axis1[i])
        c00, c10, c01, c11 = self._corners(i, j)
        low = (1.0 - t) * c00 + t * c10
        high = (1.0 - t) * c01 + t * c11
        with np.errstate(divide="ignore", invalid="ignore"):
            s = (target - low) / (high - low)
        s = np.where(high > low, s, np.where(low <= target, 1.0, 0.0))
        return self.axis2[j] + s * (self.axis2[j + 1] - self.axis2[j])


def fbl_snr_in_bracket(bler: np.ndarray, bits: np.ndarray, blocklength: np.ndarray,
                       snr_lo: np.ndarray, snr_hi: np.ndarray, *, log_term: bool = False,
                       snr_start: np.ndarray | None = None, max_iter: int = 10) -> np.ndarray:
    """Linear SNR achieving ``bler`` (eq. 23), by safeguarded Newton inside a bracket.

    The inverse of :func:`semopt.link.fbl.bler` where an SNR bracket
    [``snr_lo``, ``snr_hi``] is known (the neighbouring nodes of a tabulated curve):
    Newton on g(z) = (z − ρ)/√V(z) − α in z = ln(1 + snr) (ρ = R ln 2, α = Q^{-1}(Ψ)/√n,
    V = −expm1(−2z)), from ``snr_start`` (default: the bracket's midpoint in z), falling
    back to bisection whenever a step leaves the bracket.
    Entries not converged to 4 ulp after ``max_iter`` steps are recomputed with
    :func:`semopt.link.fbl.snr_for_bler`. All arrays broadcast; BLER 1 gives 0.
    """
    psi = np.asarray(bler, dtype=float)
    rate = np.asarray(bits, dtype=float) / np.asarray(blocklength, dtype=float)
    n = np.asarray(blocklength, dtype=float)
    if log_term:
        rate = rate - 0.5 * np.log2(n) / n
    rho = rate * np.log(2.0)
    sent = psi < 1.0
    alpha = -ndtri(np.where(sent, psi, 0.5)) / np.sqrt(n)
    lo = np.log1p(np.minimum(snr_lo, snr_hi))
    hi = np.log1p(np.maximum(snr_lo, snr_hi))
    lo, hi, alpha, rho = np.broadcast_arrays(lo, hi, alpha, rho)
    lo, hi = lo.copy(), hi.copy()
    z = 0.5 * (lo + hi) if snr_start is None else np.clip(np.log1p(snr_start), lo, hi)
    done = ~np.broadcast_to(sent, z.shape).copy()
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        for _ in range(max_iter):
            v = -np.expm1(-2.0 * z)
            sqrt_v = np.sqrt(v)
            g = (z - rho) / sqrt_v - alpha
            dg = 1.0 / sqrt_v - (z - rho) * (1.0 - v) / (v * sqrt_v)
            lo = np.where(g < 0, z, lo)
            hi = np.where(g > 0, z, hi)
            step = z - g / dg
            inside = np.isfinite(step) & (step >= lo) & (step <= hi)
            z_new = np.where(inside, step, 0.5 * (lo + hi))
            # Converged: the step, or the residual against its round-off, is a few ulp.
            small = np.abs(z_new - z) <= 4.0 * _EPS * np.abs(z)
            flat = np.abs(g) <= 8.0 * _EPS * (np.abs(alpha) + np.abs(z - rho) / sqrt_v)
            z = np.where(done | flat, z, z_new)
            done |= small | flat
            if np.all(done):
                break
    out = np.where(np.broadcast_to(sent, z.shape), np.expm1(z), 0.0)
    retry = np.flatnonzero(~done.ravel())
    if retry.size:
        flat = out.reshape(-1)
        shape = out.shape
        flat[retry] = fbl.snr_for_bler(np.broadcast_to(psi, shape).ravel()[retry],
                                       np.broadcast_to(bits, shape).ravel()[retry],
                                       np.broadcast_to(blocklength, shape).ravel()[retry],
                                       log_term=log_term)
        out = flat.reshape(shape)
    return out


def _instantaneous(problem: MinPowerProblem) -> bool:
    """True when the problem's link is the instantaneous BPSK / FBL model of Xu et al."""
    return isinstance(getattr(problem, "link", None), (InstantaneousBPSK, InstantaneousFBL))


def snr_slope_log10(problem: MinPowerProblem, rate: np.ndarray, snr: np.ndarray) -> np.ndarray:
    """d s_i/d log10 Φ_i (≤ 0) at error rates ``rate[..., I]`` whose SNRs ``snr`` are known.

    The instantaneous-CSI formula of :meth:`MinPowerProblem.required_snr_slope_log10`
    without recomputing the inverse (other link models: the problem's own slope). At
    Φ_max the coded scheme's SNR leaves 0 with infinite slope (−inf); the uncoded one
    leaves it flat (s = Q^{-1}(ψ)²/2 has slope 0 at ψ = ½).
    """
    if not _instantaneous(problem):
        return problem.required_snr_slope_log10(rate)
    rate = np.clip(np.asarray(rate, dtype=float), 1e-300, problem.max_error_rate)
    s = np.asarray(snr, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if problem.scheme == "forward":
            x = np.sqrt(2.0 * s)  # Q^{-1}(ψ)
            density = np.exp(-0.5 * x * x) / np.sqrt(2.0 * np.pi)
            return -x / density * rate * _LN10  # 0 at ψ = ½: s = x²/2 leaves 0 flat
        n = problem.blocklength
        r = problem.bits / n - (np.log2(n) / (2.0 * n) if problem.log_term else 0.0)
        cap = np.log2(1.0 + s)
        disp = 1.0 - (1.0 + s) ** -2.0
        dcap = 1.0 / ((1.0 + s) * np.log(2.0))
        ddisp = 2.0 * (1.0 + s) ** -3.0
        g = np.log(2.0) * np.sqrt(n / disp) * (cap - r)
        dg = np.log(2.0) * np.sqrt(n) * (dcap / np.sqrt(disp) - 0.5 * (cap - r) * ddisp / disp**1.5)
        density = np.exp(-0.5 * g * g) / np.sqrt(2.0 * np.pi)
        slope = -1.0 / (density * dg) * rate * _LN10
    return np.where(rate >= 1.0, -np.inf, slope)


class IsoPerceptionCurve:
    """Tabulated curve P(Φ_1, Φ_2) = P̄ in log10 coordinates with slope coefficients.

    Nodes: ``n_nodes`` values of u_1 evenly spaced on [L, R], the points where the curve
    crosses ``n_nodes`` evenly spaced levels of u_2 (so that no cell is long in u_2 where
    the curve is steep), and (forward scheme) every grid line u_1 = a_i and every point
    where the curve crosses a grid line u_2 = b_j, so that each cell [u1[k], u1[k+1]] of
    the curve lies in one patch of the surface.

    Attributes
    ----------
    u1, u2 : ndarray, shape (n,)
        Node coordinates (u_2 from the problem's exact constraint solve).
    s1, s2 : ndarray, shape (n,)
        Linear received SNRs achieving the node error rates.
    a, b : ndarray, shape (n,)
        Derivative coefficients at the nodes, df/du_1 = w_1 a + w_2 b (one-sided where
        the surface has a kink: the table's gradient convention).
    right_a, right_b, left_a, left_b : ndarray, shape (n − 1,)
        The same coefficients from inside each cell at its left end (``right_*``) and at
        its right end (``left_*``): smooth within a cell.
    cell_i, cell_j : ndarray, shape (n − 1,)
        Forward scheme: the surface grid cell holding each curve cell.
    hull : LowerHull
        Lower-left convex hull of the node points (s_2k, s_1k).
    """

    def __init__(self, problem: MinPowerProblem, target: float, n_nodes: int = 4097) -> None:
        if problem.n_streams != 2:
            raise ValueError("problem: the iso-perception curve needs exactly two streams")
        self.problem = problem
        self.target = float(target)
        self.surface = TwoStreamSurface(problem)
        lo, top = problem.log10_min, problem.log10_max
        t = np.asarray(self.target)
        right = problem.solve_stream_log10(np.array([0.0, lo[1]]), 0, t)
        self.feasible = bool(np.isfinite(right))
        if not self.feasible:
            self.u1 = self.u2 = np.array([])
            return
        left = problem.solve_stream_log10(np.array([0.0, top]), 0, t)
        left = lo[0] if not np.isfinite(left) else float(left)
        self.left, self.right = float(left), float(right)
        u1 = np.linspace(self.left, self.right, n_nodes)
        # Where the curve is steep in u_2 (a stream near its floor or its maximum), nodes
        # evenly spaced in u_2 as well: the curve's u_1 at n_nodes levels of u_2.
        levels = [np.linspace(lo[1], top, n_nodes)]
        if problem.scheme == "forward":  # and every grid line of the surface
            levels.append(self.surface.axis2)
            u1 = np.concatenate([u1, self.surface.axis1])
        levels = np.concatenate(levels)
        crossings = problem.solve_stream_log10(
            np.stack([np.zeros_like(levels), levels], axis=-1), 0, t)
        u1 = np.concatenate([u1, crossings[np.isfinite(crossings)]])
        u1 = np.unique(u1[(u1 >= self.left) & (u1 <= self.right)])
        self.u1 = u1
        self.u2 = self._exact_nodes(u1)
        self.s1, self.s2 = self._snr(self.u1, self.u2)
        self.a, self.b = self._slope_terms(self.u1, self.u2)
        self._cell_terms()
        self.hull = LowerHull(self.s1, self.s2)

    # -- tabulation ------------------------------------------------------------------------
    def _exact_nodes(self, u1: np.ndarray) -> np.ndarray:
        """u_2 on the curve at ``u1`` with the problem's exact solve (the largest feasible)."""
        u = np.stack([u1, np.zeros_like(u1)], axis=-1)
        u2 = self.problem.solve_stream_log10(u, 1, np.asarray(self.target))
        # Guard the right end against round-off: the floor is always feasible there.
        return np.where(np.isnan(u2) & (u1 <= self.right + 1e-12), self.problem.log10_min[1], u2)

    def _snr(self, u1: np.ndarray, u2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        snr = self.problem.required_snr(10.0 ** np.stack([u1, u2], axis=-1))
        return snr[..., 0], snr[..., 1]

    def _coefficients(self, u1: np.ndarray, u2: np.ndarray, s1: np.ndarray, s2: np.ndarray,
                      g1: np.ndarray, g2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(a, b) with df/du_1 = w_1 a + w_2 b from the gradient (g1, g2) of P."""
        rates = 10.0 ** np.stack([u1, u2], axis=-1)
        ds = snr_slope_log10(self.problem, rates, np.stack([s1, s2], axis=-1))
        du2 = implicit_slope(g1, g2)
        with np.errstate(invalid="ignore"):
            b = ds[..., 1] * du2
        b = np.where(np.isnan(b), 0.0, b)
        return np.clip(ds[..., 0], -_HUGE, _HUGE), np.clip(b, -_HUGE, _HUGE)

    def _slope_terms(self, u1: np.ndarray, u2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Coefficients (a, b) at the nodes with the table's gradient."""
        grad = self.problem.gradient_log10(np.stack([u1, u2], axis=-1))
        return self._coefficients(u1, u2, self.s1, self.s2, grad[..., 0], grad[..., 1])

    def _cell_terms(self) -> None:
        """One-sided coefficients per cell, and the surface cell of each curve cell."""
        u1, u2 = self.u1, self.u2
        if self.problem.scheme == "forward":
            mid = 0.5 * (u1[:-1] + u1[1:])
            mid2 = self._exact_nodes(mid)
            self.cell_i, self.cell_j = self.surface.cell(mid, np.where(np.isfinite(mid2), mid2,
                                                                       u2[1:]))
            ci, cj = self.cell_i, self.cell_j
            g_right = self.surface.gradient_in_cell(u1[:-1], u2[:-1], ci, cj)
            g_left = self.surface.gradient_in_cell(u1[1:], u2[1:], ci, cj)
            # The curve at a cell's ends, extended from inside the cell (a jump of u_2 at a
            # node leaves the node value outside the patch): the patch's own u_2 there.
            u2_right = np.clip(self.surface.solve_u2(u1[:-1], self.target, ci, cj),
                               u2[1:], u2[:-1])
            u2_left = np.clip(self.surface.solve_u2(u1[1:], self.target, ci, cj), u2[1:], u2[:-1])
            s_right = self._snr(u1[:-1], u2_right)
            s_left = self._snr(u1[1:], u2_left)
            self.right_a, self.right_b = self._coefficients(u1[:-1], u2_right, *s_right, *g_right)
            self.left_a, self.left_b = self._coefficients(u1[1:], u2_left, *s_left, *g_left)
        else:
            self.cell_i = self.cell_j = None
            self.right_a, self.right_b = self.a[:-1], self.b[:-1]
            self.left_a, self.left_b = self.a[1:], self.b[1:]

    # -- points on the curve ---------------------------------------------------------------
    def position_u1(self, position: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(cell k, fraction t, u_1) of fractional node positions ``position`` (k + t)."""
        n = len(self.u1)
        k = np.clip(np.floor(position).astype(np.int64), 0, max(n - 2, 0))
        t = np.clip(position - k, 0.0, 1.0)
        return k, t, self.u1[k] + t * (self.u1[np.minimum(k + 1, n - 1)] - self.u1[k])

    def u2_in_cell(self, u1: np.ndarray, k: np.ndarray) -> np.ndarray:
        """u_2 on the curve at ``u1`` inside curve cell ``k`` (closed form, clipped to the cell)."""
        n = len(self.u1)
        k1 = np.minimum(k + 1, n - 1)
        if self.problem.scheme == "forward":
            u2 = self.surface.solve_u2(u1, self.target, self.cell_i[np.minimum(k, n - 2)],
                                       self.cell_j[np.minimum(k, n - 2)])
        else:
            u2 = self.surface.solve_u2(u1, self.target)
        u2 = np.where(np.isnan(u2), self.u2[k1], u2)
        return np.clip(u2, self.u2[k1], self.u2[k])

    def exact_u2(self, u1: np.ndarray) -> np.ndarray:
        """u_2 on the curve at ``u1`` (the largest feasible u_2), anywhere on [L, R]."""
        u1 = np.asarray(u1, dtype=float)
        k = np.clip(np.searchsorted(self.u1, u1, side="right") - 1, 0, len(self.u1) - 2)
        return self.u2_in_cell(u1, k)

    def snr_in_cell(self, u1: np.ndarray, u2: np.ndarray, k: np.ndarray) -> np.ndarray:
        """Required SNRs (b, 2) at curve points inside cell ``k``, bracketed by its nodes."""
        n = len(self.u1)
        k1 = np.minimum(k + 1, n - 1)
        rates = 10.0 ** np.stack([u1, u2], axis=-1)
        pr = self.problem
        if not _instantaneous(pr):
            return pr.required_snr(rates)
        if pr.scheme == "forward":
            return bpsk.snr_for_ber(np.clip(rates, 1e-300, 0.5))
        lo = np.stack([self.s1[k1], self.s2[k]], axis=-1)  # s_1 falls, s_2 rises along u_1
        hi = np.stack([self.s1[k], self.s2[k1]], axis=-1)
        # Start from the linear interpolation between the nodes (in each stream's u).
        with np.errstate(divide="ignore", invalid="ignore"):
            f1 = (u1 - self.u1[k]) / (self.u1[k1] - self.u1[k])
            f2 = (u2 - self.u2[k]) / (self.u2[k1] - self.u2[k])
        f = np.nan_to_num(np.clip(np.stack([f1, f2], axis=-1), 0.0, 1.0), nan=0.5)
        start = np.stack([self.s1[k], self.s2[k]], axis=-1) * (1.0 - f) \
            + np.stack([self.s1[k1], self.s2[k1]], axis=-1) * f
        return fbl_snr_in_bracket(np.minimum(rates, 1.0), pr.bits, pr.blocklength, lo, hi,
                                  log_term=pr.log_term, snr_start=start)

    # -- per-realization quantities ------------------------------------------------------
    def node_objective(self, w: np.ndarray) -> np.ndarray:
        """f at every node for weights ``w`` of shape (B, 2) -> (B, n_nodes)."""
        return w[:, :1] * self.s1[None, :] + w[:, 1:] * self.s2[None, :]

    def node_load(self, inv_snr: np.ndarray) -> np.ndarray:
        """Σ_i s_i/snr_i at every node (total power as a fraction of the budget), (B, n)."""
        return inv_snr[:, :1] * self.s1[None, :] + inv_snr[:, 1:] * self.s2[None, :]
