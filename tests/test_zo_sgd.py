"""solvers.zo_sgd: projected two-point zeroth-order SGD on functions of sample averages."""

import numpy as np
import pytest

from solvers.zo_sgd import quadratic_penalty, zo_sgd


def test_minimizes_a_noisy_quadratic_in_a_box():
    centers = np.random.default_rng(0).normal(0.3, 0.05, size=(50, 2))

    def fn(x, idx):                       # per-sample value ‖x − c_i‖²
        return ((x[None] - centers[idx]) ** 2).sum(axis=1, keepdims=True)

    res = zo_sgd(fn, lambda m: (float(m[0]), np.array([1.0])), [0.9, -0.9], lower=[0, 0], upper=[1, 1],
                 n_samples=50, batch_size=10, step=0.2, smoothing=1e-3, decay=0.01, max_iter=2000,
                 tol=1e-6, rng=1)
    np.testing.assert_allclose(res.x, centers.mean(axis=0), atol=0.03)
    assert res.history.shape == (res.iterations + 1, 2)
    assert res.evaluations == 2 * 10 * res.iterations


def test_projection_keeps_iterates_in_the_box_and_hits_the_bound():
    res = zo_sgd(lambda x, idx: np.tile(-x, (len(idx), 1)), lambda m: (float(m[0]), np.array([1.0])),
                 [0.5], lower=[0.0], upper=[0.8], n_samples=4, step=0.5, max_iter=200, rng=0)
    assert np.all((res.history >= 0) & (res.history <= 0.8))
    assert res.x[0] == pytest.approx(0.8)
    assert res.converged


def test_quadratic_penalty_solves_a_constrained_monotone_problem():
    # max E[g] = 1 − x  s.t.  E[k] = 0.5 − x ≤ 0  →  x* = 0.5 (penalty leaves a small violation).
    def fn(x, idx):
        return np.column_stack([np.full(len(idx), 1 - x[0]), np.full(len(idx), 0.5 - x[0])])

    res = zo_sgd(fn, quadratic_penalty(1e3), [0.9], lower=[0.0], upper=[1.0], n_samples=1,
                 step=0.001, smoothing=0.001, decay=0.0, max_iter=5000, tol=1e-9, rng=3)
    assert res.x[0] == pytest.approx(0.5, abs=2e-3)


def test_deterministic_with_a_seed_and_validates_input():
    def fn(x, idx):
        return np.column_stack([np.sin(3 * x[0]) + 0 * idx])

    outer = lambda m: (-float(m[0]), np.array([-1.0]))  # noqa: E731
    a = zo_sgd(fn, outer, [0.1], lower=[0], upper=[1], n_samples=5, rng=7, max_iter=50)
    b = zo_sgd(fn, outer, [0.1], lower=[0], upper=[1], n_samples=5, rng=7, max_iter=50)
    np.testing.assert_array_equal(a.history, b.history)
    with pytest.raises(ValueError, match="lower"):
        zo_sgd(fn, outer, [0.1], lower=[1], upper=[0], n_samples=5)
    with pytest.raises(ValueError, match="n_samples"):
        zo_sgd(fn, outer, [0.1], lower=[0], upper=[1], n_samples=0)
    with pytest.raises(ValueError, match="penalty"):
        quadratic_penalty(0)
