"""Generalized Lambert W: every real branch against mpmath at 50 digits."""

from __future__ import annotations

import mpmath as mp
import numpy as np
import pytest

from solvers.lambertw import (
    BRANCHES,
    generalized_lambertw,
    generalized_lambertw_all,
    generalized_lambertw_extrema,
)

EPS = np.finfo(float).eps


def _mp_reference(t1: float, t2: float, a: float, branch: str):
    """Root on ``branch`` at mp.dps digits (None when the branch has no real root).

    Independent of the implementation: critical points and their values from the
    quadratic formula in mpmath, then a bisection + secant on the monotone function
    w -> L(e ± exp(w)) in the log-distance w to the adjacent zero e of f.
    """
    T1, T2, A = mp.mpf(t1), mp.mpf(t2), mp.mpf(a)
    P, Q = min(T1, T2), max(T1, T2)
    r = mp.sqrt(4 + (Q - P) ** 2)
    c1, c2 = (P + Q - 2 - r) / 2, (P + Q - 2 + r) / 2
    fc1 = (c1 - T1) * (c1 - T2) * mp.exp(c1)
    fc2 = (c2 - T1) * (c2 - T2) * mp.exp(c2)
    exists = {"left": 0 < A <= fc1, "middle": fc2 <= A <= fc1, "right": A >= fc2}[branch]
    if not exists:
        return None
    if A == 0:
        return P if branch == "middle" else Q
    big, small = mp.mpf(12), mp.mpf(-3000)
    if branch == "left":
        e, s, wl, wh = P, -1, mp.log(P - c1), big
    elif branch == "middle" and A > 0:
        e, s, wl, wh = P, -1, small, mp.log(P - c1)
    elif branch == "middle":
        e, s, wl, wh = P, 1, small, mp.log(c2 - P)
    elif A < 0:
        e, s, wl, wh = Q, -1, small, mp.log(Q - c2)
    else:
        e, s, wl, wh = Q, 1, small, big
    other = Q if e == P else P
    la = mp.log(abs(A))

    gap = e - other  # exact; avoids forming x - other from a rounded x

    def g(w):
        u = s * mp.exp(w)
        return w + mp.log(abs(gap + u)) + e + u - la

    gl, gh = g(wl), g(wh)
    if gl == 0 or gh == 0:
        w = wl if gl == 0 else wh
    else:
        assert gl * gh < 0
        for _ in range(200):
            wm = (wl + wh) / 2
            gm = g(wm)
            if (gm < 0) == (gl < 0):
                wl, gl = wm, gm
            else:
                wh = wm
            if wh - wl < mp.mpf(10) ** -20:
                break
        w = mp.findroot(g, (wl, wh), solver="secant")
    return e + s * mp.exp(w)


def _tolerance(x_ref, t1: float, t2: float, a: float) -> float:
    """Forward-error bound: a few ulps of the terms of L divided by |L'| at the root."""
    X = x_ref
    lp, lq = mp.log(abs(X - t1)) if X != t1 else 0, mp.log(abs(X - t2)) if X != t2 else 0
    dl = abs(1 / (X - t1) + 1 / (X - t2) + 1) if X not in (t1, t2) else mp.inf
    scale = abs(lp) + abs(lq) + abs(X) + abs(mp.log(abs(a))) + 1
    # rounding of x - t when x is not close to t (Sterbenz makes it exact otherwise)
    scale += abs(X) * (1 / abs(X - t1) + 1 / abs(X - t2)) if X not in (t1, t2) else 0
    bound = 8 * EPS * float(scale / dl) if dl != mp.inf else 0.0
    return max(bound, 4 * EPS * abs(float(X)), 1e-300)


def _random_cases(seed: int, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    t1 = rng.normal(0, 1, n) * 10 ** rng.uniform(-3, 2.7, n)
    t2 = np.where(rng.random(n) < 0.1, t1,  # equal parameters: (x - t)^2 e^x = a
                  t1 + rng.normal(0, 1, n) * 10 ** rng.uniform(-8, 2.5, n))
    _, f_max, _, f_min = generalized_lambertw_extrema(t1, t2)
    u = rng.random(n)
    a = np.where(
        u < 0.4, rng.choice([-1.0, 1.0], n) * 10 ** rng.uniform(-300, 300, n),
        np.where(u < 0.6, f_max * rng.uniform(0, 1.2, n),
                 np.where(u < 0.8, f_min * rng.uniform(0, 1.2, n), rng.normal(0, 1, n))))
    return t1, t2, a


@pytest.mark.parametrize("seed", [0, 1])
def test_all_branches_against_mpmath_50_digits(seed: int) -> None:
    mp.mp.dps = 50
    t1, t2, a = _random_cases(seed, 250)
    roots = generalized_lambertw_all(t1, t2, a)
    assert roots.shape == (t1.size, 3)
    n_checked = 0
    for i in range(t1.size):
        for j, branch in enumerate(BRANCHES):
            ref = _mp_reference(t1[i], t2[i], a[i], branch)
            if ref is None:
                assert np.isnan(roots[i, j]), (t1[i], t2[i], a[i], branch, roots[i, j])
                continue
            assert np.isfinite(roots[i, j]), (t1[i], t2[i], a[i], branch)
            tol = _tolerance(ref, t1[i], t2[i], a[i])
            assert abs(roots[i, j] - float(ref)) <= tol, (t1[i], t2[i], a[i], branch,
                                                         roots[i, j], ref, tol)
            n_checked += 1
    assert n_checked > 300


def test_relative_accuracy_well_conditioned() -> None:
    """Away from double roots and cancellation the result is within a few ulps."""
    mp.mp.dps = 50
    rng = np.random.default_rng(7)
    t1 = rng.uniform(-20, 20, 150)
    t2 = t1 + rng.uniform(0.5, 20, 150)
    a = rng.choice([-1.0, 1.0], 150) * np.exp(rng.uniform(-40, 40, 150))
    roots = generalized_lambertw_all(t1, t2, a)
    worst = 0.0
    for i in range(t1.size):
        for j, branch in enumerate(BRANCHES):
            ref = _mp_reference(t1[i], t2[i], a[i], branch)
            if ref is None or abs(ref) < 1:
                continue
            x = mp.mpf(roots[i, j])
            lp = abs(1 / (ref - t1[i]) + 1 / (ref - t2[i]) + 1)
            if lp < 0.1:  # near a double root
                continue
            worst = max(worst, float(abs(x - ref) / abs(ref)))
    assert worst <= 8 * EPS


def test_nan_exactly_when_branch_missing() -> None:
    t1, t2 = 1.0, -1.0
    c1, f_max, c2, f_min = generalized_lambertw_extrema(t1, t2)
    assert c1 < -1 < c2 < 1 and f_max > 0 > f_min
    a = np.array([2 * f_max, f_max, 0.5 * f_max, 0.0, 0.5 * f_min, f_min, 2 * f_min])
    got = np.isnan(generalized_lambertw_all(t1, t2, a))
    expected_nan = np.array([
        [True, True, False],   # above the local max: only the right root
        [False, False, False],  # at the max: double root c1 (left == middle)
        [False, False, False],  # three roots
        [True, False, False],  # a = 0: t1 and t2
        [True, False, False],  # two roots between t1 and t2
        [True, False, False],  # at the min: double root c2 (middle == right)
        [True, True, True],    # below the local min: no real root
    ])
    np.testing.assert_array_equal(got, expected_nan)


def test_a_zero_and_double_roots() -> None:
    np.testing.assert_array_equal(generalized_lambertw_all(3.0, -2.0, 0.0)[1:], [-2.0, 3.0])
    c1, f_max, c2, f_min = generalized_lambertw_extrema(0.5, 2.0)
    w = generalized_lambertw_all(0.5, 2.0, f_max)
    np.testing.assert_allclose(w[:2], [c1, c1], rtol=1e-7)
    w = generalized_lambertw_all(0.5, 2.0, f_min)
    np.testing.assert_allclose(w[1:], [c2, c2], rtol=1e-7)


def test_equal_parameters_reduce_to_squared_form() -> None:
    t = 1.5
    a = np.array([-1.0, 1e-3, 1.0, 100.0])
    w = generalized_lambertw_all(t, t, a)
    assert np.isnan(w[0]).all()  # (x - t)^2 e^x >= 0
    ok = ~np.isnan(w)
    x = w[ok]
    np.testing.assert_allclose((x - t) ** 2 * np.exp(x), np.broadcast_to(a[:, None], w.shape)[ok],
                               rtol=1e-13)


def test_extreme_arguments_no_overflow() -> None:
    # e^x far beyond the double range on both sides
    for t1, t2, a in [(800.0, -900.0, -1e300), (-700.0, -690.0, 1e-300), (0.0, 1.0, 1e308),
                      (500.0, 500.0 + 1e-9, 1e-250), (-3.0, 2.0, -5e-324)]:
        w = generalized_lambertw_all(t1, t2, a)
        for x in w[~np.isnan(w)]:
            mp.mp.dps = 50
            X = mp.mpf(x)
            res = mp.log(abs(X - t1)) + mp.log(abs(X - t2)) + X - mp.log(abs(mp.mpf(a))) \
                if X not in (t1, t2) else mp.mpf(0)
            assert abs(res) < 1e-9 or X in (t1, t2), (t1, t2, a, x, res)


def test_vectorized_shapes_and_scalars() -> None:
    t1 = np.linspace(-2, 2, 6).reshape(2, 3, 1)
    a = np.array([-0.1, 0.2, 3.0, 50.0])
    w = generalized_lambertw(t1, 1.0, a, "right")
    assert w.shape == (2, 3, 4)
    assert generalized_lambertw_all(t1, 1.0, a).shape == (2, 3, 4, 3)
    for i in np.ndindex(w.shape):
        assert np.array_equal(w[i], generalized_lambertw(t1[i[0], i[1], 0], 1.0, a[i[2]], "right"),
                              equal_nan=True)
    s = generalized_lambertw(1.0, -1.0, -0.5, "right")
    assert np.ndim(s) == 0 and abs(s - 0.8916315704191098) < 1e-15
    assert np.isnan(generalized_lambertw(np.nan, 1.0, 1.0, "right"))
    assert np.isnan(generalized_lambertw(0.0, 1.0, np.inf, "right"))


def test_sorted_roots() -> None:
    t1, t2, a = _random_cases(3, 2000)
    w = generalized_lambertw_all(t1, t2, a)
    for j in range(2):
        both = ~np.isnan(w[:, j]) & ~np.isnan(w[:, j + 1])
        assert np.all(w[both, j] <= w[both, j + 1])


def test_bad_branch() -> None:
    with pytest.raises(ValueError, match="branch"):
        generalized_lambertw(0.0, 1.0, 1.0, "upper")  # type: ignore[arg-type]


def _mp_local_min(t1: float, t2: float) -> tuple[mp.mpf, mp.mpf]:
    """c2 and f(c2) at mp.dps digits, from the quadratic formula."""
    P, Q = min(mp.mpf(t1), mp.mpf(t2)), max(mp.mpf(t1), mp.mpf(t2))
    c2 = (P + Q - 2 + mp.sqrt(4 + (Q - P) ** 2)) / 2
    return c2, (c2 - P) * (c2 - Q) * mp.exp(c2)


D_SWEEP = 10.0 ** np.arange(-10.0, -0.9, 0.5)  # t2 - t1 from 1e-10 to 1e-1
ABOVE_MIN = np.array([1e-12, 1e-9, 1e-6, 1e-4, 1e-2, 0.1, 0.5, 0.9])  # 1 - a/f(c2)


@pytest.mark.parametrize("t1", [0.3, -5.0, 40.0, -250.0])
@pytest.mark.parametrize("swap", [False, True])
def test_near_double_root_t1_close_to_t2(t1: float, swap: bool) -> None:
    """Regression: t1 ≈ t2 and f(c2) < a < 0 has two real roots (middle, right).

    q − c2 was computed as 1 − 2/(√(4 + d²) + d), which cancels for small d, so f(c2)
    came out wrong and both branches returned NaN for d between ~1e-8 and 1e-4 with a
    just above f(c2). Checked against the 50-digit reference over a sweep of d and of
    a across (f(c2), 0), and the local minimum itself to a relative 1e-13.
    """
    mp.mp.dps = 50
    n_pairs = 0
    for d in D_SWEEP:
        p, q = t1, t1 + d
        a1, a2 = (q, p) if swap else (p, q)
        c2_ref, fc2_ref = _mp_local_min(a1, a2)
        _, _, c2, f_min = generalized_lambertw_extrema(a1, a2)
        assert abs(c2 - float(c2_ref)) <= 4 * EPS * max(1.0, abs(float(c2_ref)))
        if np.isfinite(f_min) and f_min != 0:
            assert abs(f_min / float(fc2_ref) - 1) <= 1e-13, (a1, a2, f_min, fc2_ref)
        for above in ABOVE_MIN:
            a = float(fc2_ref * (1 - mp.mpf(above)))
            if a == 0.0 or not np.isfinite(a):
                continue
            roots = generalized_lambertw_all(a1, a2, a)
            for j, branch in enumerate(BRANCHES):
                ref = _mp_reference(a1, a2, a, branch)
                if ref is None:
                    assert np.isnan(roots[j]), (a1, a2, a, branch, roots[j])
                    continue
                assert np.isfinite(roots[j]), (a1, a2, a, branch, d, above)
                tol = _tolerance(ref, a1, a2, a)
                assert abs(roots[j] - float(ref)) <= tol, (a1, a2, a, branch, roots[j], ref, tol)
            assert np.isnan(roots[0]) and roots[1] <= roots[2]
            n_pairs += 1
        # just below the local minimum (beyond rounding) there is no real root
        below = float(fc2_ref * (1 + mp.mpf("1e-6")))
        if below != 0.0 and np.isfinite(below):
            assert np.isnan(generalized_lambertw_all(a1, a2, below)).all(), (a1, a2, below)
    assert n_pairs >= len(D_SWEEP) * 4
