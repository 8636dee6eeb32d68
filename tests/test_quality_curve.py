"""Quality curves (Qiao et al. Fig. 2 / Table II): validation, interpolation, inverse."""

from __future__ import annotations

import json

import numpy as np
import pytest

from semopt import tables
from semopt.tables.base import TableFormatError, read_table_file, write_table_file
from semopt.tables.quality_curve import QualityCurve, qiao2024_table2_curve


def _curve() -> QualityCurve:
    return QualityCurve([1e-6, 1e-5, 1e-4, 1e-3], {"clip": [0.99, 0.98, 0.95, 0.95],
                                                    "ms-ssim": [0.95, 0.9, 0.8, 0.6]},
                        name="toy", provenance={"source": "illustrative"})


def test_value_interpolates_in_log_ber_and_clamps_below():
    c = _curve()
    assert float(c.value("clip", 0.0)) == 0.99
    assert float(c.value("clip", 1e-7)) == 0.99
    assert float(c.value("clip", np.sqrt(1e-6 * 1e-5))) == pytest.approx(0.985)
    with pytest.raises(ValueError):
        c.value("clip", 1e-2)
    with pytest.raises(ValueError):
        c.value("lpips", 1e-5)


def test_generalized_inverse():
    c = _curve()
    assert float(c.inverse("clip", 0.98)) == pytest.approx(1e-5)
    assert float(c.inverse("clip", 0.985)) == pytest.approx(np.sqrt(1e-11))
    # flat segment: the supremum is the right end
    assert float(c.inverse("clip", 0.95)) == pytest.approx(1e-3)
    assert float(c.inverse("clip", 0.5)) == pytest.approx(1e-3)
    assert float(c.inverse("clip", 0.999)) == 0.0            # unreachable
    assert c.ber_for({"clip": 0.98, "ms-ssim": 0.95}) == pytest.approx(1e-6)
    # round trip on the strictly decreasing metric
    ber = np.logspace(-6, -3, 7)
    np.testing.assert_allclose(c.inverse("ms-ssim", c.value("ms-ssim", ber)), ber, rtol=1e-10)


@pytest.mark.parametrize("ber, metrics, match", [
    ([1e-5, 1e-6], {"clip": [0.9, 0.8]}, "increasing"),
    ([0.0, 1e-6], {"clip": [0.9, 0.8]}, r"\(0, 0.5\]"),
    ([1e-6, 1e-5], {"clip": [0.8, 0.9]}, "non-increasing"),
    ([1e-6, 1e-5], {"clip": [0.9]}, "expected 2"),
    ([1e-6, 1e-5], {}, "at least one"),
])
def test_validation(ber, metrics, match):
    with pytest.raises(TableFormatError, match=match):
        QualityCurve(ber, metrics, name="bad")


def test_monotone_envelope():
    raw = [0.9, 0.95, 0.85, 0.87, 0.8]
    env = QualityCurve.monotone_envelope(raw)
    assert env.tolist() == [0.9, 0.9, 0.85, 0.85, 0.8]
    QualityCurve([1e-5, 1e-4, 1e-3, 1e-2, 1e-1], {"m": env}, name="ok")


def test_file_round_trip_and_tamper_detection(tmp_path):
    path = write_table_file(_curve(), tmp_path / "toy.json")
    loaded = read_table_file(path)
    assert isinstance(loaded, QualityCurve) and loaded.metric_names == ["clip", "ms-ssim"]
    np.testing.assert_array_equal(loaded.metrics["ms-ssim"], _curve().metrics["ms-ssim"])
    doc = json.loads(path.read_text())
    doc["data"]["metrics"]["clip"][0] = 0.5
    path.write_text(json.dumps(doc))
    with pytest.raises(TableFormatError, match="hash"):
        read_table_file(path)


def test_shipped_table_matches_its_generator():
    shipped = tables.load("qiao2024-table2-quality")
    ref = qiao2024_table2_curve()
    assert shipped.kind == "quality-curve"
    np.testing.assert_array_equal(shipped.ber, ref.ber)
    for key in ref.metrics:
        np.testing.assert_array_equal(shipped.metrics[key], ref.metrics[key])
    assert shipped.provenance["source"] == "published"
    # Table II targets map to the decades the gamma_1 column implies
    assert shipped.ber_for({"clip": 0.999, "ms-ssim": 0.991}) == pytest.approx(1e-6)
    assert shipped.ber_for({"clip": 0.997, "ms-ssim": 0.982}) == pytest.approx(1e-5)
    assert shipped.ber_for({"clip": 0.978, "ms-ssim": 0.918}) == pytest.approx(1e-4)
    assert "quality-curve" in json.dumps(shipped.summary())
