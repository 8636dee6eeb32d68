r"""Two-parameter generalized Lambert W function (Mező–Baricz), real branches.

The generalized Lambert function :math:`W(t_1, t_2; a)` denotes the real solutions
:math:`x` of

.. math::

    (x - t_1)(x - t_2)\,e^{x} = a .

Let :math:`p = \min(t_1, t_2)`, :math:`q = \max(t_1, t_2)`, :math:`d = q - p \ge 0` and
:math:`f(x) = (x - t_1)(x - t_2) e^{x}`. Since

.. math::

    f'(x) = e^{x}\,\bigl(x^2 + (2 - t_1 - t_2)x + t_1 t_2 - t_1 - t_2\bigr),

whose discriminant is :math:`4 + d^2 > 0`, :math:`f` always has exactly two critical
points

.. math::

    c_1 = p - 1 - \frac{2}{\sqrt{4 + d^2} + d} \;<\; p \;\le\;
    c_2 = p + \frac{d - 2 + \sqrt{4 + d^2}}{2} \;\le\; q ,

a local maximum :math:`f(c_1) > 0` and a local minimum :math:`f(c_2) \le 0`
(:math:`= 0` iff :math:`t_1 = t_2`). :math:`f` increases from :math:`0^+` on
:math:`(-\infty, c_1]`, decreases on :math:`[c_1, c_2]` (through :math:`0` at :math:`p`),
and increases to :math:`+\infty` on :math:`[c_2, \infty)` (through :math:`0` at
:math:`q`). Each monotone piece defines one real branch:

============  =====================  =================================
branch        range of :math:`x`     exists iff
============  =====================  =================================
``"left"``    :math:`(-\infty, c_1]`  :math:`0 < a \le f(c_1)`
``"middle"``  :math:`[c_1, c_2]`      :math:`f(c_2) \le a \le f(c_1)`
``"right"``   :math:`[c_2, \infty)`   :math:`a \ge f(c_2)`
============  =====================  =================================

So there are at most three real solutions: for :math:`0 < a < f(c_1)` three (two left
of :math:`p`, one right of :math:`q`), for :math:`f(c_2) < a < 0` two (both between
:math:`p` and :math:`q`), for :math:`a = 0` the two points :math:`t_1, t_2`
(``"middle"`` gives :math:`p`, ``"right"`` gives :math:`q`). With :math:`t_1 = t_2 = t`
this reduces to :math:`(x - t)^2 e^x = a` (:math:`c_1 = t - 2`, :math:`c_2 = t`).

Numerics: every branch is solved on the logarithmic form

.. math::

    L(x) = \log|x - p| + \log|x - q| + x - \log|a| = 0,

which never overflows (``t`` of several hundreds is fine), with safeguarded Halley
iterations inside a guaranteed bracket derived analytically for each branch. When an
iterate leaves the bracket a bisection step is taken instead; brackets that hug one of
the zeros :math:`p, q` of :math:`f` are bisected geometrically in the distance to that
zero, so roots at :math:`q - 10^{-200}` converge as fast as roots at :math:`q - 1`.
Results are accurate to a few units in the last place of :math:`x` except where the
problem itself is ill-conditioned (:math:`a` within rounding of :math:`f(c_1)` or
:math:`f(c_2)`, a double root).
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from numpy.typing import ArrayLike

__all__ = [
    "BRANCHES",
    "Branch",
    "generalized_lambertw",
    "generalized_lambertw_all",
    "generalized_lambertw_extrema",
]

Branch = Literal["left", "middle", "right"]
BRANCHES: tuple[Branch, Branch, Branch] = ("left", "middle", "right")

_EPS = np.finfo(float).eps
_MAXITER = 100


def _as_float_arrays(*values: ArrayLike) -> tuple[np.ndarray, ...]:
    arrays = [np.asarray(v, dtype=float) for v in values]
    return tuple(np.broadcast_arrays(*arrays))


def _geometry(p: np.ndarray, q: np.ndarray) -> dict[str, np.ndarray]:
    """Critical points of f relative to p <= q, computed without cancellation."""
    d = q - p
    with np.errstate(over="ignore"):
        r = np.where(d < 1e150, np.sqrt(4.0 + d * d), d)  # sqrt(4 + d^2)
    h = 1.0 + 2.0 / (r + d)  # p - c1  (>= 1)
    # c2 - p = (d - 2 + r)/2 and q - c2 = (d + 2 - r)/2 with r - 2 = d^2/(r + 2) and
    # r - d = 4/(r + d): both written without a difference of nearly equal numbers
    # (the textbook 1 - 2/(r + d) for q - c2 loses every digit as d -> 0).
    g = 0.5 * (d + d * (d / (r + 2.0)))  # c2 - p  (>= 0), ~ d/2 for small d
    k = d * ((1.0 + 2.0 / (r + d)) / (r + 2.0))  # q - c2  (>= 0), ~ d/2 for small d
    c1 = p - h
    c2 = np.where(g <= k, p + g, q - k)
    with np.errstate(divide="ignore"):
        log_f_c1 = np.log(h) + np.log(h + d) + c1  # log f(c1) > ...
        log_abs_f_c2 = np.log(g) + np.log(k) + c2  # -inf when d == 0
    return {"h": h, "g": g, "k": k, "c1": c1, "c2": c2,
            "log_f_c1": log_f_c1, "log_abs_f_c2": log_abs_f_c2}


def generalized_lambertw_extrema(
    t1: ArrayLike, t2: ArrayLike
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    r"""Local extrema of :math:`f(x) = (x - t_1)(x - t_2)e^x`.

    Parameters
    ----------
    t1, t2 : array_like
        Parameters (broadcast together).

    Returns
    -------
    x_max, f_max, x_min, f_min : ndarray
        Location and value of the local maximum (:math:`c_1`, :math:`f(c_1) > 0`) and of
        the local minimum (:math:`c_2`, :math:`f(c_2) \le 0`). Values that exceed the
        double range are returned as ``±inf``; the solver itself compares in log space.
    """
    t1a, t2a = _as_float_arrays(t1, t2)
    geo = _geometry(np.minimum(t1a, t2a), np.maximum(t1a, t2a))
    with np.errstate(over="ignore"):
        f_max = np.exp(geo["log_f_c1"])
        f_min = -np.exp(geo["log_abs_f_c2"])
    return geo["c1"][()], f_max[()], geo["c2"][()], f_min[()]


def _exists(branch: str, a: np.ndarray, log_abs_a: np.ndarray,
            geo: dict[str, np.ndarray]) -> np.ndarray:
    pos, neg, zero = a > 0, a < 0, a == 0
    # a within rounding of an extremum counts as the (double) root there
    slack_max = 4.0 * _EPS * (np.abs(geo["c1"]) + np.abs(np.log(geo["h"])) + 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        slack_min = 4.0 * _EPS * (np.abs(geo["c2"]) + np.abs(np.log(geo["g"]))
                                  + np.abs(np.log(geo["k"])) + 1.0)
        slack_min = np.where(np.isfinite(slack_min), slack_min, 0.0)
    below_max = pos & (log_abs_a <= geo["log_f_c1"] + slack_max)
    above_min = neg & (log_abs_a <= geo["log_abs_f_c2"] + slack_min)
    if branch == "left":
        return below_max
    if branch == "middle":
        return below_max | zero | above_min
    return pos | zero | above_min


def _residual(x: np.ndarray, p: np.ndarray, q: np.ndarray, log_abs_a: np.ndarray
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """L(x), L'(x), L''(x) and the rounding-noise scale of L, L = log|x-p| + log|x-q| + x - log|a|."""
    up = x - p
    uq = x - q
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        lp = np.log(np.abs(up))
        lq = np.log(np.abs(uq))
        ip = np.divide(1.0, up, out=up)
        iq = np.divide(1.0, uq, out=uq)
        val = lp + lq
        val += x
        val -= log_abs_a
        d1 = ip + iq
        d1 += 1.0
        ip *= ip
        iq *= iq
        d2 = ip
        d2 += iq
        np.negative(d2, out=d2)
        scale = np.abs(lp, out=lp)
        scale += np.abs(lq, out=lq)
        scale += np.abs(x)
        scale += np.abs(log_abs_a)
    return val, d1, d2, scale


def _value(x: np.ndarray, p: np.ndarray, q: np.ndarray, log_abs_a: np.ndarray) -> np.ndarray:
    """L(x) only."""
    with np.errstate(divide="ignore", invalid="ignore"):
        val = np.log(np.abs(x - p))
        val += np.log(np.abs(x - q))
    val += x
    val -= log_abs_a
    return val


def _best_guess(candidates: list[np.ndarray], lo: np.ndarray, hi: np.ndarray,
                p: np.ndarray, q: np.ndarray, log_abs_a: np.ndarray) -> np.ndarray:
    """Among candidate starting points (clipped into [lo, hi]) take the smallest |L|.

    The bracket midpoint replaces candidates that are not finite.
    """
    mid = lo + 0.5 * (hi - lo)
    best = best_res = None
    for cand in candidates:
        c = np.clip(np.where(np.isfinite(cand), cand, mid), lo, hi)
        res = np.abs(_value(c, p, q, log_abs_a))
        res = np.where(np.isnan(res), np.inf, res)
        if best is None:
            best, best_res = c, res
        else:
            better = res < best_res
            best = np.where(better, c, best)
            best_res = np.where(better, res, best_res)
    return best


def _safeguarded_halley(x: np.ndarray, lo: np.ndarray, hi: np.ndarray, sigma: float,
                        anchor: np.ndarray | None, p: np.ndarray, q: np.ndarray,
                        log_abs_a: np.ndarray) -> np.ndarray:
    """Solve L(x) = 0 where sigma*L is increasing on [lo, hi], sigma*L(lo) <= 0 <= sigma*L(hi).

    ``anchor`` is the zero of f (p or q) the bracket is adjacent to, or None; bisection
    steps are geometric in the distance to the anchor when the bracket spans orders of
    magnitude. All arrays are 1-D of equal length; iterations run on the shrinking
    active subset only.
    """
    x = x.copy()
    active = np.flatnonzero(lo < hi)
    xa, la, ha = x[active], lo[active], hi[active]
    pa, qa, aa = p[active], q[active], log_abs_a[active]
    ea = anchor[active] if anchor is not None else None
    for _ in range(_MAXITER):
        if active.size == 0:
            break
        val, d1, d2, scale = _residual(xa, pa, qa, aa)
        gval = sigma * val
        # shrink the bracket with the sign at the current iterate
        la = np.where(gval < 0, xa, la)
        ha = np.where(gval > 0, xa, ha)
        # Halley step; plain Newton when the Halley correction is unreliable
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            newton = -val / d1
            corr = 1.0 + 0.5 * newton * d2 / d1
            step = np.where(corr > 0.5, newton / corr, newton)
        xn = xa + step
        inside = (xn > la) & (xn < ha)  # False for NaN
        # convergence: step below an ulp, residual at the rounding-noise floor of L
        # (also ends the linear convergence at double roots), or a collapsed bracket
        tol = 2.0 * _EPS * np.abs(xa) + 1e-300
        small = (np.abs(step) <= tol) | (np.abs(val) <= 4.0 * _EPS * scale)
        collapsed = (ha - la <= tol) & ~small
        done = small | collapsed | (gval == 0)
        if np.any(~inside):
            # safeguard: bisection, geometric around the anchor when appropriate
            mid = la + 0.5 * (ha - la)
            if ea is not None:
                with np.errstate(invalid="ignore"):
                    dl = np.abs(la - ea)
                    dh = np.abs(ha - ea)
                    dmax = np.maximum(dl, dh)
                    dmin = np.maximum(np.minimum(dl, dh), 1e-30 * dmax)
                    gmid = ea + np.sign(mid - ea) * (np.sqrt(dmin) * np.sqrt(dmax))
                mid = np.where(dmax > 4.0 * dmin, gmid, mid)
            xn = np.where(inside, xn, mid)
        final = np.where(inside & (gval != 0), xn, xa)
        if np.any(collapsed):
            # bracket down to adjacent floats: keep the endpoint with the smaller residual
            rl = np.abs(_value(la, pa, qa, aa))
            rh = np.abs(_value(ha, pa, qa, aa))
            final = np.where(collapsed, np.where(rl <= rh, la, ha), final)
        if np.any(done):
            x[active[done]] = final[done]
            keep = ~done
            active = active[keep]
            xa, la, ha = xn[keep], la[keep], ha[keep]
            pa, qa, aa = pa[keep], qa[keep], aa[keep]
            if ea is not None:
                ea = ea[keep]
        else:
            xa = xn
    if active.size:
        x[active] = xa
    return x


def _solve_case(case: str, p: np.ndarray, q: np.ndarray, a: np.ndarray,
                log_abs_a: np.ndarray, geo: dict[str, np.ndarray]) -> np.ndarray:
    """Root for 1-D arrays of one case (branch and sign of a), where the root exists.

    Brackets are rigorous bounds on the distance u to the nearest zero of f (p or q)
    or to the critical point; the candidate starting points are the linearization of
    f at that zero, the quadratic model of L at the critical point, and for the
    unbounded branches a fixed-point iteration of the asymptotic form.
    """
    d = q - p
    h, g, k, c1, c2 = geo["h"], geo["g"], geo["k"], geo["c1"], geo["c2"]
    anchor: np.ndarray | None
    with np.errstate(divide="ignore", invalid="ignore", over="ignore", under="ignore"):
        if case == "left":  # x = p - u, u in [h, inf), 0 < a <= f(c1), L increasing
            off = np.sqrt(2.0 * np.maximum(geo["log_f_c1"] - log_abs_a, 0.0)
                          / (1.0 / (h * h) + 1.0 / ((h + d) * (h + d))))
            big_b = log_abs_a - p - d / h
            lo = p - np.maximum(h, 2.0 * (2.0 * np.log(4.0) - 2.0 - big_b))
            hi = c1
            sigma, anchor = 1.0, None
            u = np.maximum(h, p - log_abs_a)
            for _ in range(4):  # fixed point of u = p - log a + log u + log(u + d)
                u = np.maximum(h, p - log_abs_a + np.log(u) + np.log(u + d))
            cands = [p - u, c1 - off]
        elif case == "middle+":  # x = p - u, u in (0, h], 0 < a <= f(c1), L decreasing
            off = np.sqrt(2.0 * np.maximum(geo["log_f_c1"] - log_abs_a, 0.0)
                          / (1.0 / (h * h) + 1.0 / ((h + d) * (h + d))))
            big_a = np.exp(log_abs_a - p)
            u_lb = 2.0 * big_a / (d + np.sqrt(d * d + 4.0 * big_a))  # from e^-u <= 1
            big_ae = big_a * np.e
            u_ub = 2.0 * big_ae / (d + np.sqrt(d * d + 4.0 * big_ae))  # from e^-u >= 1/e, u <= 1
            lo = np.where(u_ub <= 1.0, p - u_ub, c1)
            hi = p - np.minimum(u_lb, h)
            sigma, anchor = -1.0, p
            cands = [p - u_lb, c1 + off]
        elif case == "middle-":  # x = p + u, u in (0, g], f(c2) <= a < 0, L increasing
            off = np.sqrt(2.0 * np.maximum(geo["log_abs_f_c2"] - log_abs_a, 0.0)
                          / (1.0 / (g * g) + 1.0 / (k * k)))
            u_lin = np.exp(log_abs_a - p - np.log(d))
            u_lb = u_lin * np.exp(-g)  # from d - u <= d, e^u <= e^g
            u_ub = 2.0 * u_lin  # from d - u >= d/2, e^u >= 1, valid for u <= d/2
            lo = p + np.minimum(u_lb, g)
            hi = np.where(u_ub <= np.minimum(0.5 * d, g), p + u_ub, c2)
            sigma, anchor = 1.0, p
            cands = [p + u_lin, c2 - off]
        elif case == "right-":  # x = q - u, u in (0, k], f(c2) <= a < 0, L decreasing
            off = np.sqrt(2.0 * np.maximum(geo["log_abs_f_c2"] - log_abs_a, 0.0)
                          / (1.0 / (g * g) + 1.0 / (k * k)))
            u_lb = np.exp(log_abs_a - np.log(d) - q)  # from d - u <= d, e^-u <= 1
            u_ub = 2.0 * np.e * u_lb  # from d - u >= d/2, e^-u >= 1/e, valid for u <= 1, d/2
            lo = np.where(u_ub <= np.minimum(np.minimum(0.5 * d, 1.0), k), q - u_ub, c2)
            hi = q - np.minimum(u_lb, k)
            sigma, anchor = -1.0, q
            cands = [q - u_lb, c2 + off]
        else:  # "right+": x = q + u, u > 0, a > 0, L increasing
            log_big_a = log_abs_a - q
            big_a = np.exp(log_big_a)
            # u(u + d) = A bounds u from above (e^u >= 1); stable for A -> 0 and A -> inf
            u_lin = np.where(big_a < 1e300,
                             2.0 * big_a / (d + np.sqrt(d * d + 4.0 * big_a)), np.inf)
            u_hi = np.minimum(u_lin, np.maximum(1.0, log_big_a))
            m = np.log(u_hi) + np.log(u_hi + d)
            u_lo = np.maximum(np.where(u_lin < 700.0, u_lin * np.exp(-u_lin), 0.0),
                              log_big_a - m)
            u_lo = np.where(np.isfinite(u_lo), np.minimum(u_lo, u_hi), 0.0)
            lo = q + u_lo
            hi = q + u_hi
            sigma, anchor = 1.0, q
            u = np.maximum(u_hi, 1.0)
            for _ in range(4):  # fixed point of u = log A - log u - log(u + d), large A
                u = np.maximum(log_big_a - np.log(u) - np.log(u + d), 1e-300)
            cands = [q + u_lin, q + u]
    lo = np.minimum(lo, hi)
    x0 = _best_guess(cands, lo, hi, p, q, log_abs_a)
    x = _safeguarded_halley(x0, lo, hi, sigma, anchor, p, q, log_abs_a)
    return _polish(x, p, q, a, lo, hi)


def _polish(x: np.ndarray, p: np.ndarray, q: np.ndarray, a: np.ndarray,
            lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """One Newton step on the direct form f(x) - a where e^x is harmless (|x| <= 30).

    The log form carries an absolute rounding error of a few eps times the size of its
    terms (|log|x - p|| + |log|x - q|| + |log|a||), which costs digits when those terms
    are large and x is not; the direct form has a relative error of a few eps in f.
    The step is kept only when it is tiny (so near-double roots are left alone).
    """
    small = np.abs(x) <= 30.0
    if not np.any(small):
        return x
    xs, ps, qs = x[small], p[small], q[small]
    with np.errstate(all="ignore"):
        up, uq, ex = xs - ps, xs - qs, np.exp(xs)
        f = up * uq * ex - a[small]
        df = ex * (up * uq + up + uq)
        xn = xs - f / df
    ok = (np.isfinite(xn) & (np.abs(xn - xs) <= 1e-11 * np.abs(xs))
          & (xn >= lo[small]) & (xn <= hi[small]))
    out = x.copy()
    out[small] = np.where(ok, xn, xs)
    return out


_CASES: dict[str, tuple[tuple[str, int], ...]] = {
    "left": (("left", 1),),
    "middle": (("middle+", 1), ("middle-", -1)),
    "right": (("right+", 1), ("right-", -1)),
}


def generalized_lambertw(t1: ArrayLike, t2: ArrayLike, a: ArrayLike,
                         branch: Branch = "right") -> np.ndarray:
    r"""Real branch of the generalized Lambert function :math:`W(t_1, t_2; a)`.

    Returns :math:`x` with :math:`(x - t_1)(x - t_2)\,e^{x} = a` on the requested
    monotone piece of :math:`f(x) = (x - t_1)(x - t_2)e^x` (see the module docstring).

    Parameters
    ----------
    t1, t2 : array_like
        The two parameters (real; order does not matter).
    a : array_like
        Right-hand side (real). ``t1``, ``t2`` and ``a`` are broadcast together.
    branch : {"left", "middle", "right"}
        ``"left"``: :math:`x \le c_1` (exists for :math:`0 < a \le f(c_1)`);
        ``"middle"``: :math:`c_1 \le x \le c_2` (exists for :math:`f(c_2) \le a \le
        f(c_1)`, contains :math:`\min(t_1,t_2)` at :math:`a = 0`);
        ``"right"``: :math:`x \ge c_2` (exists for :math:`a \ge f(c_2)`, contains
        :math:`\max(t_1,t_2)` at :math:`a = 0`). :math:`c_1 < c_2` are the critical
        points of :math:`f`, roots of :math:`x^2 + (2 - t_1 - t_2)x + t_1t_2 - t_1 - t_2`.

    Returns
    -------
    ndarray
        The solution, NaN where the branch has no real solution (including ``"left"`` at
        :math:`a = 0`, whose limit is :math:`-\infty`) or where an input is not finite.
        A 0-d input gives a numpy scalar.

    Raises
    ------
    ValueError
        If ``branch`` is not one of ``"left"``, ``"middle"``, ``"right"``.

    Examples
    --------
    >>> float(generalized_lambertw(1.0, -1.0, -0.5, "right"))  # doctest: +ELLIPSIS
    0.8916...
    """
    if branch not in BRANCHES:
        raise ValueError(f"branch: expected one of {BRANCHES}, got {branch!r}")
    t1a, t2a, aa = _as_float_arrays(t1, t2, a)
    shape = aa.shape
    t1f, t2f, af = t1a.ravel(), t2a.ravel(), aa.ravel()
    out = np.full(af.shape, np.nan)
    finite = np.isfinite(t1f) & np.isfinite(t2f) & np.isfinite(af)
    p = np.minimum(t1f, t2f)
    q = np.maximum(t1f, t2f)
    with np.errstate(divide="ignore"):
        log_abs_a = np.log(np.abs(af))
    geo = _geometry(p, q)
    exists = finite & _exists(branch, af, log_abs_a, geo)
    zero = exists & (af == 0)
    if branch == "middle":
        out[zero] = p[zero]
    elif branch == "right":
        out[zero] = q[zero]
    for case, sign in _CASES[branch]:
        mask = exists & (np.sign(af) == sign)
        if mask.all():
            out = _solve_case(case, p, q, af, log_abs_a, geo)
        elif mask.any():
            idx = np.flatnonzero(mask)
            sub_geo = {key: val[idx] for key, val in geo.items()}
            out[idx] = _solve_case(case, p[idx], q[idx], af[idx], log_abs_a[idx], sub_geo)
    return out.reshape(shape)[()]


def generalized_lambertw_all(t1: ArrayLike, t2: ArrayLike, a: ArrayLike) -> np.ndarray:
    r"""All real solutions of :math:`(x - t_1)(x - t_2)e^x = a`, one column per branch.

    Parameters
    ----------
    t1, t2, a : array_like
        Broadcast together, as in :func:`generalized_lambertw`.

    Returns
    -------
    ndarray, shape ``broadcast_shape + (3,)``
        ``[..., 0]`` the ``"left"``, ``[..., 1]`` the ``"middle"`` and ``[..., 2]`` the
        ``"right"`` branch; NaN where a branch has no real solution. Non-NaN entries are
        sorted ascending along the last axis. At :math:`a = f(c_1)` (resp.
        :math:`f(c_2)`) two adjacent columns hold the same double root.
    """
    return np.stack([np.asarray(generalized_lambertw(t1, t2, a, b)) for b in BRANCHES],
                    axis=-1)
