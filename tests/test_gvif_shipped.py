"""The shipped GVIF table ``gvif-hyperprior-sample`` (skipped until it has been measured)."""

import numpy as np
import pytest

import perception_tables
from semopt import tables
from semopt.allocators.gvif import DEFAULT_TABLE, ExactAllocator, PerImageAllocator, ZoSgdAllocator

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


def test_methods_on_the_benchmark_sweep(table):
    snrs = np.arange(-6.0, 25.0, 2.0)
    ex = ExactAllocator(table=table).allocate(snrs, 0.02, None)
    zo = ZoSgdAllocator(table=table).allocate(snrs, 0.02, None)
    pi = PerImageAllocator(table=table).allocate(snrs, 0.02, None)
    ok = ex.success
    assert np.all(ex.objective[ok] >= zo.objective[ok] - 1e-12)
    assert np.all(pi.objective[ok] >= ex.objective[ok] - 1e-12)
    assert np.all(ex.latency_s[ok] <= 0.02 * (1 + 1e-12))
    step = table.alpha_grid[1] - table.alpha_grid[0]
    for k in np.flatnonzero(ok & (ex.extras["alpha"] > 0)):
        _, b_prev = table.expected(ex.extras["model"][k], max(0.0, ex.extras["alpha"][k] - step))
        assert ex.extras["rate_bits"][k] <= ex.extras["cap_bits"][k] < b_prev
