"""The GVIF method base and the option parsers the methods share."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from semopt.allocators.base import Method
from semopt.problems.gvif import GvifInputs, GvifProblem
from semopt.units import as_float_array

__all__ = ["GvifMethod", "non_negative", "positive", "positive_int", "unique_rows"]


class GvifMethod(Method):
    """Base of the GVIF methods: the problem, the shared curves, the search-space phrase.

    ``scope`` completes the problem's infeasibility message ("no model meeting D_0 fits
    T_max <scope>"); it must describe what the method searched.
    """

    problem_class = GvifProblem
    problem: GvifProblem
    stream_counts = None
    scope: ClassVar[str] = "at any shared α ≤ α_th"


def positive(value: Any, name: str) -> float:
    out = float(as_float_array(value, name))
    if not (np.isfinite(out) and out > 0):
        raise ValueError(f"{name}: must be a positive number, got {value!r}")
    return out


def non_negative(value: Any, name: str) -> float:
    out = float(as_float_array(value, name))
    if not (np.isfinite(out) and out >= 0):
        raise ValueError(f"{name}: must be a finite number ≥ 0, got {value!r}")
    return out


def positive_int(value: Any, name: str) -> int:
    out = as_float_array(value, name)
    if out.ndim or out != np.round(out) or out < 1:
        raise ValueError(f"{name}: must be an integer ≥ 1, got {value!r}")
    return int(out)


def unique_rows(inputs: GvifInputs) -> tuple[np.ndarray, np.ndarray]:
    """Distinct (cap, allowed models) rows of a batch: ``(first_row_of_each, inverse)``."""
    key = np.column_stack([inputs.cap_bits, inputs.models_ok.astype(float)])
    _, first, inverse = np.unique(key, axis=0, return_index=True, return_inverse=True)
    return first, inverse.reshape(-1)
