"""Unit conversions and parsing."""

import numpy as np
import pytest

from semopt.units import (
    db_to_linear,
    dbm_to_w,
    linear_to_db,
    parse_bandwidth,
    parse_db,
    parse_duration,
    parse_power,
    w_to_dbm,
)


def test_round_trips():
    x = np.array([-30.0, 0.0, 13.5])
    np.testing.assert_allclose(linear_to_db(db_to_linear(x)), x)
    np.testing.assert_allclose(w_to_dbm(dbm_to_w(x)), x)
    assert dbm_to_w(30) == pytest.approx(1.0)


@pytest.mark.parametrize("text, watts", [
    ("10 mW", 0.01), ("10mW", 0.01), ("0.01 W", 0.01), ("10 dBm", 0.01), ("-20 dBW", 0.01),
    ("1e-2", 0.01), ("10000 uW", 0.01), (0.01, 0.01),
])
def test_parse_power(text, watts):
    assert parse_power(text) == pytest.approx(watts)


def test_parse_other_quantities():
    assert parse_duration("20 ms") == pytest.approx(0.02)
    assert parse_bandwidth("1 MHz") == pytest.approx(1e6)
    assert parse_db("30dB") == (30.0, True)
    assert parse_db(0.01) == (0.01, False)


@pytest.mark.parametrize("bad", ["ten mW", "10 parsecs", "", "mW"])
def test_parse_power_rejects_with_the_argument_name(bad):
    with pytest.raises(ValueError, match="budget"):
        parse_power(bad)
