"""Unit conversions and parsing of quantities written with units.

SI internally (W, s, Hz, linear ratios), dB at the edges. Every function is
vectorized over numpy arrays.
"""

from __future__ import annotations

import re

import numpy as np
from numpy.typing import ArrayLike

__all__ = [
    "db_to_linear",
    "dbm_to_w",
    "linear_to_db",
    "parse_bandwidth",
    "parse_db",
    "parse_duration",
    "parse_power",
    "w_to_dbm",
]


def db_to_linear(value_db: ArrayLike) -> np.ndarray:
    """Convert a power ratio in dB to a linear ratio: ``10 ** (value_db / 10)``."""
    return np.power(10.0, np.asarray(value_db, dtype=float) / 10.0)


def linear_to_db(value: ArrayLike) -> np.ndarray:
    """Convert a linear power ratio to dB (``-inf`` for zero)."""
    with np.errstate(divide="ignore"):
        return 10.0 * np.log10(np.asarray(value, dtype=float))


def dbm_to_w(power_dbm: ArrayLike) -> np.ndarray:
    """Convert a power in dBm to watts."""
    return db_to_linear(power_dbm) * 1e-3


def w_to_dbm(power_w: ArrayLike) -> np.ndarray:
    """Convert a power in watts to dBm."""
    return linear_to_db(np.asarray(power_w, dtype=float) * 1e3)


_NUMBER = r"([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)"
_QUANTITY = re.compile(rf"^\s*{_NUMBER}\s*([A-Za-zµμ]*)\s*$")

_POWER_SCALE_W = {"w": 1.0, "kw": 1e3, "mw": 1e-3, "uw": 1e-6, "µw": 1e-6, "μw": 1e-6,
                  "nw": 1e-9, "pw": 1e-12}
_DURATION_SCALE_S = {"s": 1.0, "ms": 1e-3, "us": 1e-6, "µs": 1e-6, "μs": 1e-6, "ns": 1e-9,
                     "min": 60.0}
_BANDWIDTH_SCALE_HZ = {"hz": 1.0, "khz": 1e3, "mhz": 1e6, "ghz": 1e9}


def _split_quantity(value: str, argument: str) -> tuple[float, str]:
    match = _QUANTITY.match(value)
    if match is None:
        raise ValueError(f"{argument}: cannot parse {value!r} as a number with a unit")
    return float(match.group(1)), match.group(2)


def _parse_scaled(value: str | float | ArrayLike, argument: str, scales: dict[str, float],
                  default_unit: str) -> float | np.ndarray:
    if not isinstance(value, str):
        return np.asarray(value, dtype=float) if np.ndim(value) else float(value)
    number, unit = _split_quantity(value, argument)
    unit = unit or default_unit
    key = unit.lower() if unit.lower() in scales else unit
    if key not in scales:
        valid = ", ".join(sorted(scales))
        raise ValueError(f"{argument}: unknown unit {unit!r} in {value!r}; valid units: {valid}")
    return number * scales[key]


def parse_power(value: str | float | ArrayLike, argument: str = "budget") -> float | np.ndarray:
    """Parse a power into watts.

    Accepts numbers (watts) and strings such as ``"10 mW"``, ``"0.01 W"``,
    ``"10 dBm"`` or ``"-20 dBW"``.
    """
    if isinstance(value, str):
        number, unit = _split_quantity(value, argument)
        if unit.lower() == "dbm":
            return float(dbm_to_w(number))
        if unit.lower() == "dbw":
            return float(db_to_linear(number))
    return _parse_scaled(value, argument, _POWER_SCALE_W, "W")


def parse_duration(value: str | float | ArrayLike, argument: str = "budget") -> float | np.ndarray:
    """Parse a duration into seconds (``"20 ms"``, ``"0.02 s"``, or a number of seconds)."""
    return _parse_scaled(value, argument, _DURATION_SCALE_S, "s")


def parse_bandwidth(value: str | float | ArrayLike, argument: str = "bandwidth") -> float | np.ndarray:
    """Parse a bandwidth into hertz (``"1 MHz"``, ``"200 kHz"``, or a number of hertz)."""
    return _parse_scaled(value, argument, _BANDWIDTH_SCALE_HZ, "Hz")


def parse_db(value: str | float | ArrayLike, argument: str = "target") -> tuple[float, bool]:
    """Parse a value that may be written in dB.

    Returns ``(number, is_db)``: ``"30dB"`` gives ``(30.0, True)``, ``0.01`` gives
    ``(0.01, False)``.
    """
    if isinstance(value, str):
        number, unit = _split_quantity(value, argument)
        if unit.lower() == "db":
            return number, True
        if unit:
            raise ValueError(f"{argument}: expected a number or a value in dB, got {value!r}")
        return number, False
    return float(value), False
