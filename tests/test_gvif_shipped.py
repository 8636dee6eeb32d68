"""The shipped GVIF table ``gvif-hyperprior-sample`` (skipped until it has been measured)."""

import numpy as np
import pytest

import perception_tables
import semopt
from semopt import tables

DEFAULT_TABLE = semopt.get_problem("gvif").default_table

pytestmark = pytest.mark.skipif(
    DEFAULT_TABLE not in perception_tables.list_names(),
    reason="shipped GVIF table not measured yet (build/gvif/ship.sh)",
)


@pytest.fixture(scope="module")
def table():
    return tables.load(DEFAULT_TABLE)


def test_loads_offline_with_full_provenance(table):
    prov = table.provenance
    assert prov["source"] == "measured"
    assert prov["dataset"]["images"] == table.images and prov["dataset"]["hash"].startswith("sha256:")
    shas = {m["name"]: m["sha256"] for m in prov["model_table"]["models"]}
    assert shas == {m.name: m.weights_sha256 for m in table.models}
    assert prov["importance"]["method"] == table.importance_method == "spectral-residual"
    for key in ("gamma2", "alpha_grid", "code_version", "date"):
        assert key in prov
    assert (
        table.has_per_image
        and table.reference_model == min(table.models, key=lambda m: m.distortion_mse).name
    )


def test_rate_distortion_points_are_monotone(table):
    rate0 = table.curves["rate_bits"][:, 0]
    order = np.argsort(rate0)
    assert np.all(np.diff(table.distortion_mse[order]) < 0), "more bits must mean less distortion"


def _run(method, snrs, budget, target, table):
    return semopt.allocate(snrs, budget, target, problem="gvif", method=method, table=table)


@pytest.mark.parametrize("target", [None, "26dB"])
def test_methods_on_the_benchmark_sweep(table, target):
    snrs = np.arange(-6.0, 25.0, 2.0)
    ex, zo, pi = (_run(m, snrs, 0.02, target, table) for m in ("exact", "zo-sgd", "per-image"))
    ok = ex.success
    assert np.all(ex.objective[ok] >= zo.objective[ok] - 1e-12)
    assert np.all(pi.objective[ok] >= ex.objective[ok] - 1e-12)
    assert np.all(ex.latency_s[ok] <= 0.02 * (1 + 1e-12))
    step = table.alpha_grid[1] - table.alpha_grid[0]
    for k in np.flatnonzero(ok & (ex.extras["alpha"] > 0)):
        _, b_prev = table.expected(ex.extras["model"][k], max(0.0, ex.extras["alpha"][k] - step))
        assert ex.extras["rate_bits"][k] <= ex.extras["cap_bits"][k] < b_prev
    # ZO-SGD at its defaults converges everywhere and stays within 0.05 GVIF of exact.
    assert np.array_equal(zo.status, ex.status), zo.message
    assert np.all(ex.objective[ok] - zo.objective[ok] < 0.05)


def test_no_filtering_cliff_on_the_shipped_table(table):
    snrs = np.arange(-6.0, 25.0, 1.0)
    ex, nf = (_run(m, snrs, "20 ms", "26dB", table) for m in ("exact", "no-filtering"))
    cliff = ex.success & ~nf.success
    assert np.any(cliff) and np.all(ex.success)
    # Below the cliff no-filtering reports α = 0 and its true least latency (> 20 ms).
    assert np.all(nf.extras["alpha"] == 0.0) and np.all(nf.latency_s[cliff] > 0.02)
    assert np.all(ex.extras["alpha"][cliff] > 0)
    # α*(Φ) of every model falls as the SNR rises (the chosen model may switch).
    per_model = ex.extras["alpha_per_model"]
    for column in per_model.T:
        finite = column[np.isfinite(column)]
        assert np.all(np.diff(finite) <= 1e-12)
    assert ex.extras["alpha"][0] > 0.3 and ex.extras["alpha"][-1] == 0.0
