"""Unit conversions and strict parsing of quantities written with units.

SI internally (W, s, Hz, linear ratios), dB at the edges. Every conversion is vectorized
over numpy arrays. Parsing is strict:

* SI prefixes are case-sensitive (``"10 MW"`` is ten megawatts, ``"10 mW"`` ten
  milliwatts); an unknown unit raises ``ValueError`` listing the valid ones;
* a ``bool`` is not a number;
* values outside a physically plausible range (:data:`SNR_DB_RANGE`,
  :data:`POWER_W_RANGE`, ...) and values whose linear form overflows raise
  ``ValueError`` naming the argument and the range expected.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

__all__ = [
    "DURATION_S_RANGE",
    "POWER_W_RANGE",
    "SNR_DB_RANGE",
    "as_float_array",
    "db_to_linear",
    "dbm_to_w",
    "linear_to_db",
    "parse_bandwidth",
    "parse_db",
    "parse_duration",
    "parse_power",
    "parse_snr_db",
    "w_to_dbm",
]

SNR_DB_RANGE = (-200.0, 200.0)
"""Plausible SNRs in dB (a received SNR outside this range is an input error)."""
POWER_W_RANGE = (1e-30, 1e9)
"""Plausible transmit powers and power budgets in W."""
DURATION_S_RANGE = (1e-15, 1e9)
"""Plausible latency caps in s."""
BANDWIDTH_HZ_RANGE = (1e-3, 1e15)
"""Plausible bandwidths in Hz."""


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


_NUMBER = r"([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|[-+]?inf|nan)"
_QUANTITY = re.compile(rf"^\s*{_NUMBER}\s*([A-Za-zµμ]*)\s*$")

_POWER_SCALE_W = {"W": 1.0, "kW": 1e3, "MW": 1e6, "GW": 1e9, "mW": 1e-3, "uW": 1e-6,
                  "µW": 1e-6, "μW": 1e-6, "nW": 1e-9, "pW": 1e-12, "fW": 1e-15}
_DURATION_SCALE_S = {"s": 1.0, "ms": 1e-3, "us": 1e-6, "µs": 1e-6, "μs": 1e-6, "ns": 1e-9,
                     "min": 60.0}
_BANDWIDTH_SCALE_HZ = {"Hz": 1.0, "kHz": 1e3, "MHz": 1e6, "GHz": 1e9, "THz": 1e12}


def _split_quantity(value: str, argument: str) -> tuple[float, str]:
    match = _QUANTITY.match(value)
    if match is None:
        raise ValueError(f"{argument}: cannot parse {value!r} as a number with a unit")
    return float(match.group(1)), match.group(2)


def as_float_array(value: Any, argument: str) -> np.ndarray:
    """``value`` as a float array; ``ValueError`` naming ``argument`` for bools and non-numbers."""
    if isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{argument}: expected a number, got the bool {value!r}")
    try:
        arr = np.asarray(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{argument}: expected a number or an array of numbers, got {value!r}") \
            from exc
    if arr.dtype == bool:
        raise ValueError(f"{argument}: expected numbers, got booleans")
    if arr.dtype.kind in "USO":
        return _strings_to_float(arr, argument)
    if arr.dtype.kind not in "iuf":
        raise ValueError(f"{argument}: expected real numbers, got dtype {arr.dtype}")
    try:
        return arr.astype(float)
    except OverflowError as exc:
        raise ValueError(f"{argument}: value overflows a float") from exc


def _strings_to_float(arr: np.ndarray, argument: str) -> np.ndarray:
    out = np.empty(arr.shape)
    for index, item in np.ndenumerate(arr):
        if isinstance(item, (bool, np.bool_)):
            raise ValueError(f"{argument}: expected a number, got the bool {item!r}")
        try:
            out[index] = float(item)
        except (TypeError, ValueError, OverflowError) as exc:
            raise ValueError(f"{argument}: cannot read {item!r} as a number") from exc
    return out


def _check_range(value: np.ndarray, argument: str, bounds: tuple[float, float], unit: str) -> None:
    lo, hi = bounds
    if not np.all(np.isfinite(value)):
        raise ValueError(f"{argument}: must be finite (no NaN or inf), in {unit}")
    if np.any(value < lo) or np.any(value > hi):
        bad = value[(value < lo) | (value > hi)].flat[0]
        raise ValueError(f"{argument}: {bad:.6g} {unit} is outside the plausible range "
                         f"[{lo:g}, {hi:g}] {unit}")


def _parse_scaled(value: Any, argument: str, scales: dict[str, float],
                  default_unit: str) -> float | np.ndarray:
    if isinstance(value, str):
        number, unit = _split_quantity(value, argument)
        unit = unit or default_unit
        if unit not in scales:
            hint = [k for k in scales if k.lower() == unit.lower()]
            extra = f" (units are case-sensitive: did you mean {hint[0]!r}?)" if hint else ""
            raise ValueError(f"{argument}: unknown unit {unit!r} in {value!r}{extra}; valid units: "
                             f"{', '.join(scales)}")
        return number * scales[unit]
    arr = as_float_array(value, argument)
    return arr if arr.ndim else float(arr)


def parse_power(value: Any, argument: str = "budget", *,
                bounds: tuple[float, float] | None = POWER_W_RANGE) -> float | np.ndarray:
    """Parse a power into watts.

    Accepts numbers (watts), arrays, and strings such as ``"10 mW"``, ``"0.01 W"``,
    ``"10 dBm"`` or ``"-20 dBW"``. With ``bounds`` (default :data:`POWER_W_RANGE`) the
    value must be finite and inside them.
    """
    if isinstance(value, str):
        number, unit = _split_quantity(value, argument)
        if unit in ("dBm", "dBW"):
            with np.errstate(over="ignore"):
                out = float(db_to_linear(number)) * (1e-3 if unit == "dBm" else 1.0)
        else:
            out = _parse_scaled(value, argument, _POWER_SCALE_W | {"dBm": 0, "dBW": 0}, "W")
    else:
        out = _parse_scaled(value, argument, _POWER_SCALE_W, "W")
    if bounds is not None:
        _check_range(np.asarray(out), argument, bounds, "W")
    return out


def parse_duration(value: Any, argument: str = "budget", *,
                   bounds: tuple[float, float] | None = DURATION_S_RANGE) -> float | np.ndarray:
    """Parse a duration into seconds (``"20 ms"``, ``"0.02 s"``, or a number of seconds)."""
    out = _parse_scaled(value, argument, _DURATION_SCALE_S, "s")
    if bounds is not None:
        _check_range(np.asarray(out), argument, bounds, "s")
    return out


def parse_bandwidth(value: Any, argument: str = "bandwidth",
                    *, bounds: tuple[float, float] | None = BANDWIDTH_HZ_RANGE) -> float | np.ndarray:
    """Parse a bandwidth into hertz (``"1 MHz"``, ``"200 kHz"``, or a number of hertz)."""
    out = _parse_scaled(value, argument, _BANDWIDTH_SCALE_HZ, "Hz")
    if bounds is not None:
        _check_range(np.asarray(out), argument, bounds, "Hz")
    return out


def parse_db(value: Any, argument: str = "target") -> tuple[float, bool]:
    """Parse a value that may be written in dB.

    Returns ``(number, is_db)``: ``"30dB"`` gives ``(30.0, True)``, ``0.01`` gives
    ``(0.01, False)``.
    """
    if isinstance(value, str):
        number, unit = _split_quantity(value, argument)
        if unit == "dB":
            return number, True
        if unit:
            raise ValueError(f"{argument}: expected a number or a value in dB (e.g. '30 dB'), "
                             f"got {value!r}")
        return number, False
    return float(as_float_array(value, argument)), False


def parse_snr_db(value: Any, argument: str = "snr") -> np.ndarray:
    """Parse SNRs in dB: numbers, arrays, ``"12 dB"`` strings or sequences of them.

    Returns a float array of the input's shape. Raises ``ValueError`` naming ``argument``
    for non-numbers, bools, non-finite values and values outside :data:`SNR_DB_RANGE`.
    """
    if isinstance(value, str):
        out = np.asarray(_db_number(value, argument))
    elif isinstance(value, Sequence) and not isinstance(value, np.ndarray) \
            and any(isinstance(v, str) for v in np.ravel(np.asarray(value, dtype=object))):
        obj = np.asarray(value, dtype=object)
        out = np.empty(obj.shape)
        for index, item in np.ndenumerate(obj):
            out[index] = _db_number(item, argument) if isinstance(item, str) \
                else float(as_float_array(item, argument))
    else:
        out = as_float_array(value, argument)
    _check_range(out, argument, SNR_DB_RANGE, "dB")
    return out


def _db_number(text: str, argument: str) -> float:
    number, unit = _split_quantity(text, argument)
    if unit not in ("", "dB"):
        raise ValueError(f"{argument}: expected an SNR in dB (e.g. '12 dB'), got {text!r}")
    return number


# -- resource caps: symbols, bits, bits per pixel, durations (operating-point budgets) ----

__all__ += ["CAP_UNITS", "COUNT_MAX", "parse_bits", "parse_bpp", "parse_cap",
            "parse_symbols"]

COUNT_MAX = 1e18
"""Largest finite symbol or bit count accepted as a cap (``inf`` means no cap)."""
BPP_MAX = 1e3
"""Largest finite bits-per-pixel cap accepted."""

_SYMBOL_SCALE = {"symbols": 1.0, "symbol": 1.0, "sym": 1.0, "ksymbols": 1e3, "ksym": 1e3,
                 "Msymbols": 1e6, "Msym": 1e6}
_BIT_SCALE = {"bit": 1.0, "bits": 1.0, "kbit": 1e3, "kbits": 1e3, "Mbit": 1e6, "Mbits": 1e6,
              "Gbit": 1e9, "Gbits": 1e9}
_BPP_SCALE = {"bpp": 1.0}
CAP_UNITS: dict[str, dict[str, float]] = {
    "symbol": _SYMBOL_SCALE, "bit": _BIT_SCALE, "s": _DURATION_SCALE_S, "bpp": _BPP_SCALE}
"""Base unit of a cap -> the unit strings :func:`parse_cap` reads for it and their scale
(case-sensitive: ``"Mbit"`` is 10⁶ bit; ``"mbit"`` is refused)."""
_CAP_UPPER = {"symbol": COUNT_MAX, "bit": COUNT_MAX, "s": DURATION_S_RANGE[1], "bpp": BPP_MAX,
              "": np.inf}


def _check_cap(value: Any, argument: str, unit: str, upper: float) -> None:
    arr = np.asarray(value, dtype=float)
    label = f" {unit}" if unit else ""
    if np.any(np.isnan(arr)):
        raise ValueError(f"{argument}: a cap must be a number (inf = no cap), got NaN")
    if np.any(arr < 0):
        raise ValueError(f"{argument}: a cap must be non-negative (inf = no cap), got "
                         f"{arr[arr < 0].flat[0]:.6g}{label}")
    big = np.isfinite(arr) & (arr > upper)
    if np.any(big):
        raise ValueError(f"{argument}: {arr[big].flat[0]:.6g}{label} is outside the plausible "
                         f"range [0, {upper:g}]{label} (inf = no cap)")


def _parse_cap_in(value: Any, argument: str, unit: str) -> float | np.ndarray:
    out = _parse_scaled(value, argument, CAP_UNITS[unit], unit)
    _check_cap(out, argument, unit, _CAP_UPPER[unit])
    return out


def parse_symbols(value: Any, argument: str = "budget") -> float | np.ndarray:
    """Parse a symbol-count cap: ``"2048 symbols"``, ``"2 ksym"``, or a number of symbols.

    Non-negative; ``inf`` (or ``"inf symbols"``) means no cap; NaN, bools and finite
    values above :data:`COUNT_MAX` raise ``ValueError`` naming ``argument``.
    """
    return _parse_cap_in(value, argument, "symbol")


def parse_bits(value: Any, argument: str = "budget") -> float | np.ndarray:
    """Parse a bit-count cap: ``"12 kbit"``, ``"1.5 Mbit"``, or a number of bits.

    Prefixes are case-sensitive (``"mbit"`` and the ambiguous ``"b"`` are refused);
    otherwise as :func:`parse_symbols`.
    """
    return _parse_cap_in(value, argument, "bit")


def parse_bpp(value: Any, argument: str = "budget") -> float | np.ndarray:
    """Parse a bits-per-pixel cap: ``"0.05 bpp"`` or a number (bit per pixel, ≤ :data:`BPP_MAX`)."""
    return _parse_cap_in(value, argument, "bpp")


def parse_cap(value: Any, argument: str = "budget", *,
              unit: str | None = None) -> tuple[str, float | np.ndarray]:
    """Parse one resource cap; returns ``(base unit, value in that unit)``.

    Parameters
    ----------
    value : str, number or array_like
        ``"2048 symbols"`` → ``("symbol", 2048.0)``, ``"12 kbit"`` → ``("bit", 12000.0)``,
        ``"20 ms"`` → ``("s", 0.02)``, ``"0.05 bpp"`` → ``("bpp", 0.05)``; a number, an
        array or a string without unit → ``("", value)`` (the caller decides the unit).
    argument : str
        Name used in error messages.
    unit : str, optional
        Expected base unit (a key of :data:`CAP_UNITS`, or ``""`` for a dimensionless or
        caller-defined cap that takes plain numbers only). A unit of another kind raises
        ``ValueError``.

    Caps are non-negative; ``inf`` means no cap; NaN, bools, unknown or miscased units and
    finite values above the unit's plausible maximum raise ``ValueError`` naming ``argument``.
    """
    if unit is not None and unit not in CAP_UNITS and unit != "":
        raise ValueError(f"unit: unknown cap unit {unit!r}; valid: {', '.join(CAP_UNITS)} or ''")
    found = ""
    if isinstance(value, str):
        _, written = _split_quantity(value, argument)
        if written:
            matches = [base for base, scales in CAP_UNITS.items() if written in scales]
            if not matches:
                known = [u for scales in CAP_UNITS.values() for u in scales]
                hint = [u for u in known if u.lower() == written.lower()]
                extra = f" (units are case-sensitive: did you mean {hint[0]!r}?)" if hint else ""
                raise ValueError(f"{argument}: unknown unit {written!r} in {value!r}{extra}; "
                                 f"valid units: {', '.join(known)}")
            found = matches[0]
    if unit is not None and found and found != unit:
        expected = f"a cap in {unit}" if unit else "a plain number"
        raise ValueError(f"{argument}: expected {expected}, got {value!r} (a cap in {found})")
    base = found or (unit or "")
    if base:
        return base, _parse_cap_in(value, argument, base)
    if isinstance(value, str):
        number = _split_quantity(value, argument)[0]
        _check_cap(number, argument, "", np.inf)
        return "", number
    arr = as_float_array(value, argument)
    _check_cap(arr, argument, "", np.inf)
    return "", arr if arr.ndim else float(arr)
