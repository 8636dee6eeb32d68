"""solvers.zo_sgd: projected two-point zeroth-order SGD on functions of sample averages, batched."""

import numpy as np
import pytest

from solvers.zo_sgd import derive_keys, quadratic_penalty, zo_sgd


def _identity_outer(means, runs):
    return means[:, 0], np.ones((len(runs), 1))


def test_minimizes_a_noisy_quadratic_in_a_box():
    centers = np.random.default_rng(0).normal(0.3, 0.05, size=(50, 2))

    def fn(x, idx, runs):                       # per-sample value ‖x − c_i‖², (R, b, 1)
        return ((x[:, None, :] - centers[idx]) ** 2).sum(axis=2, keepdims=True)

    res = zo_sgd(fn, _identity_outer, [0.9, 0.1], lower=[0, 0], upper=[1, 1], n_samples=50,
                 batch_size=10, step=0.2, smoothing=1e-3, decay=0.01, max_iter=2000, tol=1e-6,
                 seed=1, keep_history=True)
    np.testing.assert_allclose(res.x, centers.mean(axis=0), atol=0.03)
    assert res.history.shape == (res.iterations + 1, 2)
    assert res.evaluations == 2 * 10 * res.iterations
    assert not res.converged and res.iterations == 2000        # tol 1e-6 is below the noise


def test_runs_are_independent_and_converge_to_their_own_minimizers():
    targets = np.array([0.1, 0.35, 0.6, 0.85])

    def fn(x, idx, runs):
        return ((x[:, 0] - targets[runs]) ** 2)[:, None, None] + 0 * idx[..., None]

    keys = derive_keys(5, np.arange(4))
    # The one-sided difference adds 3ν m³ of noise per step: a decaying step averages it out.
    res = zo_sgd(fn, _identity_outer, np.full((4, 1), 0.5), lower=[0.0], upper=[1.0], n_samples=3,
                 step=0.3, smoothing=0.01, decay=0.05, max_iter=3000, tol=1e-4, keys=keys)
    np.testing.assert_allclose(res.x[:, 0], targets, atol=2e-3)
    assert res.converged.all() and res.x.shape == (4, 1)
    # A run's path depends only on its key, not on which runs share the call.
    alone = zo_sgd(lambda x, idx, runs: fn(x, idx, runs + 2), _identity_outer, [0.5], lower=[0.0],
                   upper=[1.0], n_samples=3, step=0.3, smoothing=0.01, decay=0.05, max_iter=3000,
                   tol=1e-4, keys=keys[2:3])
    assert alone.x[0] == res.x[2, 0] and alone.iterations == res.iterations[2]


def test_projection_keeps_iterates_in_the_box_and_hits_the_bound():
    res = zo_sgd(lambda x, idx, runs: np.repeat(-x[:, None, :], idx.shape[1], axis=1), _identity_outer,
                 [0.5], lower=[0.0], upper=[0.8], n_samples=4, step=0.5, max_iter=200, seed=0,
                 keep_history=True)
    assert np.all((res.history >= 0) & (res.history <= 0.8))
    assert res.x[0] == pytest.approx(0.8)
    assert res.converged


def test_quadratic_penalty_solves_a_constrained_monotone_problem():
    # max E[g] = 1 − x  s.t.  E[k] = 0.5 − x ≤ 0  →  x* = 0.5 (penalty leaves a violation ~1/(2p)).
    def fn(x, idx, runs):
        return np.stack([1 - x[:, 0], 0.5 - x[:, 0]], axis=1)[:, None, :] + 0 * idx[..., None]

    res = zo_sgd(fn, quadratic_penalty(1e3), [0.9], lower=[0.0], upper=[1.0], n_samples=1,
                 step=0.0005, smoothing=0.001, decay=0.0, max_iter=20000, tol=1e-6, seed=3)
    assert res.x[0] == pytest.approx(0.5 - 1 / 2e3, abs=2e-3)
    assert res.converged


def test_a_zero_width_coordinate_stays_fixed_and_uniform_directions_are_unbiased():
    def fn(x, idx, runs):
        return ((x - 0.25) ** 2).sum(axis=1)[:, None, None] + 0 * idx[..., None]

    res = zo_sgd(fn, _identity_outer, [0.9, 0.7], lower=[0.0, 0.7], upper=[1.0, 0.7], n_samples=2,
                 step=0.1, smoothing=0.01, max_iter=2000, seed=2)
    assert res.x[1] == 0.7 and res.x[0] == pytest.approx(0.25, abs=2e-3)
    rad = zo_sgd(fn, _identity_outer, [0.9, 0.7], lower=[0.0, 0.7], upper=[1.0, 0.7], n_samples=2,
                 step=0.1, smoothing=0.01, max_iter=2000, seed=2, direction="rademacher")
    assert rad.x[0] == pytest.approx(0.25, abs=2e-3)


def test_deterministic_keys_and_validation():
    def fn(x, idx, runs):
        return np.sin(3 * x[:, 0])[:, None, None] + 0 * idx[..., None]

    outer = lambda m, r: (-m[:, 0], -np.ones((len(r), 1)))  # noqa: E731
    a = zo_sgd(fn, outer, [0.1], lower=[0], upper=[1], n_samples=5, seed=7, max_iter=50, keep_history=True)
    b = zo_sgd(fn, outer, [0.1], lower=[0], upper=[1], n_samples=5, seed=7, max_iter=50, keep_history=True)
    np.testing.assert_array_equal(a.history, b.history)
    k = derive_keys(0, [1, 1, 2], [0.5, 0.5, 0.5])
    assert k[0] == k[1] != k[2] and k.dtype == np.uint64
    assert derive_keys(0, [0.5]) != derive_keys(0, [0.5 + 1e-16]) or 0.5 == 0.5 + 1e-16
    assert derive_keys(1, [3])[0] != derive_keys(2, [3])[0]
    for kwargs, match in (({"lower": [1], "upper": [0]}, "lower"), ({"n_samples": 0}, "n_samples"),
                          ({"step": 0}, "step"), ({"window": 1}, "window"),
                          ({"direction": "gauss"}, "direction"), ({"batch_size": 0}, "batch_size")):
        args = {"lower": [0], "upper": [1], "n_samples": 5} | kwargs
        with pytest.raises(ValueError, match=match):
            zo_sgd(fn, outer, [0.1], **args)
    with pytest.raises(ValueError, match="penalty"):
        quadratic_penalty(0)


def test_clipped_moves_and_a_certificate_that_must_pass():
    def fn(x, idx, runs):
        return (40.0 * (x[:, 0] - 0.2) ** 2)[:, None, None] + 0 * idx[..., None]

    big = zo_sgd(fn, _identity_outer, [0.9], lower=[0.0], upper=[1.0], n_samples=1, step=1.0,
                 smoothing=0.01, max_step=0.05, max_iter=400, seed=4, keep_history=True)
    assert np.max(np.abs(np.diff(big.history[:, 0]))) <= 0.05 + 1e-15   # clipped, never diverges
    res = zo_sgd(fn, _identity_outer, [0.9], lower=[0.0], upper=[1.0], n_samples=1, step=0.05,
                 smoothing=0.01, max_step=0.05, max_iter=1000, seed=4)
    assert res.converged and res.x[0] == pytest.approx(0.2, abs=0.01)
    calls = []

    def never(x, runs):
        calls.append(len(runs))
        return np.zeros(len(runs), dtype=bool)

    stuck = zo_sgd(fn, _identity_outer, [0.9], lower=[0.0], upper=[1.0], n_samples=1, step=0.05,
                   smoothing=0.01, max_step=0.05, max_iter=1000, seed=4, certify=never)
    assert not stuck.converged and stuck.iterations == 1000 and calls  # stalls are not convergence
    ok = zo_sgd(fn, _identity_outer, [0.9], lower=[0.0], upper=[1.0], n_samples=1, step=0.05,
                smoothing=0.01, max_step=0.05, max_iter=1000, seed=4,
                certify=lambda x, runs: np.abs(x[:, 0] - 0.2) < 0.01)
    assert ok.converged and abs(ok.x[0] - 0.2) < 0.01
