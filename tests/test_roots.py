"""Vectorized bracketing root finders."""

from __future__ import annotations

import numpy as np
import pytest

from solvers.roots import bisect, find_root

SOLVERS = [find_root, bisect]


@pytest.mark.parametrize("solver", SOLVERS)
def test_broadcasting_and_shapes(solver) -> None:
    c = np.linspace(0.5, 9.0, 12).reshape(3, 4)
    lo = np.zeros((3, 1))
    x = solver(lambda x, c: x * x - c, lo, 10.0, args=(c,))
    assert x.shape == (3, 4)
    np.testing.assert_allclose(x, np.sqrt(c), rtol=1e-11)


@pytest.mark.parametrize("solver", SOLVERS)
def test_scalar_and_reversed_bracket(solver) -> None:
    x = solver(np.cos, 3.0, 0.0)
    assert np.ndim(x) == 0
    assert abs(x - np.pi / 2) < 1e-11


@pytest.mark.parametrize("solver", SOLVERS)
def test_no_sign_change_gives_nan(solver) -> None:
    c = np.array([4.0, -1.0, 400.0, np.nan])
    x = solver(lambda x, c: x * x - c, 0.0, 10.0, args=(c,))
    assert x[0] == pytest.approx(2.0, rel=1e-11)
    assert np.isnan(x[1:]).all()


@pytest.mark.parametrize("solver", SOLVERS)
def test_endpoint_roots(solver) -> None:
    x = solver(lambda x: x, np.array([-1.0, 0.0, 1.0]), np.array([1.0, 2.0, 3.0]))
    assert x[0] == pytest.approx(0.0, abs=1e-11)
    assert x[1] == 0.0
    assert np.isnan(x[2])


def test_full_precision_tolerances() -> None:
    c = np.geomspace(1e-3, 1e3, 50)
    x = find_root(lambda x, c: np.log(x) - np.log(c), 1e-5, 1e5, args=(c,), xrtol=0.0,
                  xatol=0.0)
    np.testing.assert_allclose(x, c, rtol=2e-15)
    y = bisect(lambda x, c: np.log(x) - np.log(c), 1e-5, 1e5, args=(c,), xtol=0.0)
    np.testing.assert_allclose(y, c, rtol=4e-15)


def test_full_output_and_many_elements() -> None:
    rng = np.random.default_rng(0)
    c = rng.uniform(-1, 1, 100_000)
    x, res = find_root(lambda x, c: x**3 + x - c, -2.0, 2.0, args=(c,), full_output=True)
    np.testing.assert_allclose(x**3 + x, c, atol=1e-14)
    assert np.all(np.asarray(res.status) == 0)


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="xtol"):
        bisect(np.sin, 1, 4, xtol=-1.0)
    with pytest.raises(ValueError, match="rtol"):
        bisect(np.sin, 1, 4, rtol=-1.0)
    with pytest.raises(ValueError, match="maxiter"):
        bisect(np.sin, 1, 4, maxiter=0)
    with pytest.raises(ValueError, match="xatol"):
        find_root(np.sin, 1, 4, xatol=-1.0)
    with pytest.raises(ValueError, match="maxiter"):
        find_root(np.sin, 1, 4, maxiter=-1)
