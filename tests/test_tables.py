"""Perception tables: file format, hash, schema errors, exact evaluation, monotone fit."""

from __future__ import annotations

import itertools
import json
import shutil

import cvxpy as cp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from semopt import tables
from semopt.tables import TableFormatError
from semopt.tables.perception import DiscardSubsets, ForwardSurface
from solvers.isotonic import is_monotone_grid, isotonic_grid

SHIPPED = ["xu2025-kodak-clip", "xu2025-kodak-msssim"]


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_tables_load_with_provenance(name):
    table = tables.load(name)
    assert table.kind == "perception" and table.n_streams == 2
    prov = table.provenance
    assert prov["source"] == "published" and "Xu et al." in prov["publication"]
    assert prov["forward"]["source"] == "illustrative"
    assert "NOT measured" in prov["forward"]["what"]


def test_published_values_reproduced_exactly():
    clip, msssim = tables.load(SHIPPED[0]), tables.load(SHIPPED[1])
    assert clip.best("discard") == 0.3191 and clip.best("forward") == 0.3191
    assert clip.worst("forward") == pytest.approx(0.8112, abs=1e-12)
    np.testing.assert_allclose(clip.semantic_values(), [0.5887, 0.3596], atol=1e-12)
    assert msssim.best("discard") == 0.3313
    assert msssim.worst("forward") == pytest.approx(0.4720, abs=1e-12)
    np.testing.assert_allclose(msssim.semantic_values(), [0.5465, 0.6355], atol=1e-12)


def _brute_force_discard(values: np.ndarray, bler: np.ndarray) -> float:
    """E[P_S] over independent block errors, by enumerating every outcome."""
    n = len(bler)
    total = 0.0
    for received in itertools.product((0, 1), repeat=n):
        prob = np.prod([(1 - b) if r else b for r, b in zip(received, bler)])
        total += prob * values[sum(r << i for i, r in enumerate(received))]
    return total


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(0, 1), min_size=3, max_size=3))
def test_discard_formula_matches_enumeration(bler):
    values = np.array([1.0, 0.7, 0.8, 0.5, 0.75, 0.45, 0.6, 0.3])
    table = DiscardSubsets(values, 3)
    b = np.array(bler)
    assert table.value(b) == pytest.approx(_brute_force_discard(values, b), abs=1e-12)


def test_gradients_match_finite_differences():
    table = tables.load(SHIPPED[0])
    rng = np.random.default_rng(0)
    axis = table.forward.axes[0]
    cell_centres = 0.5 * (axis[1:] + axis[:-1])  # the forward interpolant is smooth inside cells
    for scheme, top in [("discard", 1.0), ("forward", 0.5)]:
        if scheme == "forward":
            rates = 10 ** rng.choice(cell_centres[20:-2], size=(20, 2))
        else:
            rates = 10 ** rng.uniform(-6, np.log10(top) - 0.05, size=(20, 2))
        grad = table.gradient(rates, scheme)
        for i in range(2):
            h = np.maximum(rates[:, i] * 1e-6, 1e-9)
            up, dn = rates.copy(), rates.copy()
            up[:, i] += h
            dn[:, i] -= h
            fd = (table.perception(up, scheme) - table.perception(dn, scheme)) / (2 * h)
            np.testing.assert_allclose(grad[:, i], fd, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("name", SHIPPED)
def test_surfaces_are_monotone_in_each_error_rate(name):
    table = tables.load(name)
    grid = np.logspace(-9, np.log10(0.5), 60)
    mesh = np.stack(np.meshgrid(grid, grid, indexing="ij"), -1)
    p = table.perception(mesh, "forward")
    assert is_monotone_grid(p)
    q = table.perception(np.stack(np.meshgrid(grid * 2, grid * 2, indexing="ij"), -1), "discard")
    assert is_monotone_grid(q)


def test_solve_stream_is_the_largest_feasible_error_rate():
    table = tables.load(SHIPPED[0])
    fwd = table.forward
    rng = np.random.default_rng(1)
    u = np.stack([rng.uniform(-8, -1, 50), np.zeros(50)], -1)
    target = np.full(50, 0.45)
    sol = fwd.solve_stream_log10(u, 1, target)
    ok = np.isfinite(sol)
    u[:, 1] = sol
    at = fwd.value_log10(u[ok])
    assert np.all(at <= 0.45 + 1e-12)
    top = ok & (sol < np.log10(0.5))
    u_more = u[top].copy()
    u_more[:, 1] += 1e-6
    assert np.all(fwd.value_log10(u_more) > 0.45 - 1e-9)


def test_round_trip_and_content_hash(tmp_path):
    table = tables.load(SHIPPED[0])
    path = tables.save(table, tmp_path / "copy.json")
    again = tables.load(path)
    assert again.summary()["semantic_values"] == table.summary()["semantic_values"]
    np.testing.assert_array_equal(again.forward.values, table.forward.values)


def test_tampered_file_is_rejected(tmp_path):
    src = tables.load(SHIPPED[0])
    path = tables.save(src, tmp_path / "t.json")
    doc = json.loads(path.read_text())
    doc["data"]["discard"]["values"][3] = 0.1
    path.write_text(json.dumps(doc))
    with pytest.raises(TableFormatError, match="content hash mismatch"):
        tables.load(path)


@pytest.mark.parametrize("mutate, message", [
    (lambda d: d.pop("kind"), "missing field 'kind'"),
    (lambda d: d.__setitem__("kind", "teapot"), "unknown table kind"),
    (lambda d: d.__setitem__("format", "csv"), "not a semopt table"),
    (lambda d: d["provenance"].__setitem__("source", "vibes"), "provenance.source"),
    (lambda d: d["data"]["discard"]["values"].__setitem__(3, 0.9), "never increase"),
    (lambda d: d["data"]["forward"]["values"][5].__setitem__(5, 0.99), "non-decreasing"),
    (lambda d: d["data"]["discard"]["values"].__setitem__(3, 2.0),
     r"discard.values\[3\]: 2 is outside \[0, 1\]"),
])
def test_malformed_tables_are_rejected_with_the_reason(tmp_path, mutate, message):
    path = tables.save(tables.load(SHIPPED[0]), tmp_path / "t.json")
    doc = json.loads(path.read_text())
    mutate(doc)
    from semopt.tables.base import content_hash

    doc["content_hash"] = content_hash(doc, {})
    path.write_text(json.dumps(doc))
    with pytest.raises(TableFormatError, match=message):
        tables.load(path)


def test_not_json_and_missing_file(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(TableFormatError, match="not valid JSON"):
        tables.load(bad)
    with pytest.raises(ValueError, match="no such file"):
        tables.load(tmp_path / "absent.json")
    with pytest.raises(ValueError, match="unknown shipped table"):
        tables.load("absent-table")


def test_shipped_tables_are_not_overwritten(tmp_path):
    import perception_tables

    with pytest.raises(ValueError, match="shipped table"):
        tables.save(tables.load(SHIPPED[0]), perception_tables.path(SHIPPED[0]))
    shutil.copy(perception_tables.path(SHIPPED[0]), tmp_path / "x.json")


def test_isotonic_grid_is_the_least_squares_projection():
    rng = np.random.default_rng(5)
    truth = np.add.outer(np.linspace(0, 1, 6), np.linspace(0, 0.5, 5))
    noisy = truth + rng.normal(0, 0.2, truth.shape)
    weights = rng.uniform(0.5, 2.0, truth.shape)
    fit = isotonic_grid(noisy, weights)
    assert is_monotone_grid(fit)
    x = cp.Variable(truth.shape)
    cons = [x[1:, :] >= x[:-1, :], x[:, 1:] >= x[:, :-1]]
    cp.Problem(cp.Minimize(cp.sum(cp.multiply(weights, cp.square(x - noisy)))), cons).solve()
    np.testing.assert_allclose(fit, x.value, atol=1e-5)


def test_forward_fit_stores_raw_values_and_stderr():
    axis = np.linspace(-5, np.log10(0.5), 4)
    raw = np.array([[0.1, 0.2, 0.15, 0.4], [0.12, 0.1, 0.3, 0.5], [0.3, 0.35, 0.4, 0.6],
                    [0.5, 0.55, 0.6, 0.7]])
    surface = ForwardSurface.fit([axis, axis], raw, stderr=np.full((4, 4), 0.01))
    assert is_monotone_grid(surface.values)
    np.testing.assert_array_equal(surface.raw_values, raw)
    assert surface.stderr is not None
