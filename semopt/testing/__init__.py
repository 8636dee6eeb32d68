"""Reference problems and conformance checks that every registered allocator must pass.

:class:`ReferenceProblem` is the one shape of a reference case for every problem;
:func:`reference_problems` returns a problem's shared cases (each problem module in
``semopt.testing`` provides them) and :func:`conformance_violations` lists what is wrong
with one result (empty list = conforming): the result type, field shapes and dtypes
(the one result contract), statuses, non-negative finite power, the budget, and the
problem's own feasibility recheck. The project's suite runs them against every
registered method; users can run them against their own allocators (cvxpy's
``SolverTestHelper`` idea).
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from semopt.result import STATUSES, SUCCESS_STATUSES, Allocation

__all__ = ["ReferenceProblem", "conformance_violations", "reference_problems"]

_MODULES = {"min-power": "semopt.testing.minpower", "latency": "semopt.testing.latency",
            "gvif": "semopt.testing.gvif", "operating-point": "semopt.testing.operating_point",
            "symbol-split": "semopt.testing.symbol_split", "cell": "semopt.testing.cell"}


@dataclass(frozen=True)
class ReferenceProblem:
    """One reference case of any problem.

    Attributes
    ----------
    name : str
        Unique, readable id.
    problem : str
        Registered problem name.
    options : mapping
        Problem options for ``semopt.allocate`` (``table`` included).
    snr, budget, target
        The three call arguments.
    budget_w : float, optional
        Power cap a successful allocation must respect (power problems).
    check : callable, optional
        ``check(allocation) -> list[str]``: the problem's independent feasibility
        recheck of a result (constraint recomputed with the link model).
    expect_feasible : bool or None
        Whether an exact method must succeed (None: not known).
    """

    name: str
    problem: str
    options: Mapping[str, Any]
    snr: Any
    budget: Any
    target: Any
    budget_w: float | None = None
    check: Callable[[Allocation], list[str]] | None = field(default=None, compare=False)
    expect_feasible: bool | None = None


def reference_problems(problem: str) -> list[ReferenceProblem]:
    """The shared reference cases of ``problem``; ``ValueError`` if it has none."""
    if problem not in _MODULES:
        raise ValueError(f"problem: no reference problems for {problem!r}; "
                         f"available: {', '.join(sorted(_MODULES))}")
    return list(importlib.import_module(_MODULES[problem]).reference_problems())


def _batch_shape(snr: Any, problem: str) -> tuple[int, ...] | None:
    """The batch shape a call with ``snr`` must give (None: not determined by ``snr``)."""
    from semopt.registry import get_problem

    shape = np.shape(snr)
    if get_problem(problem).stream_axis:
        return None  # a trailing stream axis may broadcast; checked against power_w instead
    return shape


def conformance_violations(allocation: Any, reference: ReferenceProblem | None = None, *,
                           budget_w: float | None = None, rtol: float = 1e-9) -> list[str]:
    """Invariants every allocation must satisfy; returns the list of violations.

    Checks the one result contract: the result type; ``success`` a bool (array) and
    ``status`` a str (numpy string array) of the batch shape, with known values and
    ``success`` exactly for successful statuses; every per-realization field of the
    batch shape; non-negative, finite power whose sum is ``total_power_w``; on success,
    total power within the budget and the problem's own recheck (``reference.check``).
    """
    out: list[str] = []
    if not isinstance(allocation, Allocation):
        return [f"result is a {type(allocation).__name__}, not semopt.Allocation"]
    budget_w = budget_w if budget_w is not None else (reference.budget_w if reference else None)
    shape = allocation.batch_shape
    success = np.asarray(allocation.success)
    status = np.asarray(allocation.status)
    if shape == ():
        if not isinstance(allocation.success, bool):
            out.append(f"success of a single realization is a {type(allocation.success).__name__}, "
                       "not bool")
        if not isinstance(allocation.status, str):
            out.append(f"status of a single realization is a {type(allocation.status).__name__}, "
                       "not str")
    else:
        if success.dtype != bool:
            out.append(f"success dtype {success.dtype}, expected bool")
        if status.dtype.kind != "U":
            out.append(f"status dtype {status.dtype}, expected a numpy string dtype")
    if status.shape != shape:
        out.append(f"status shape {status.shape} != batch shape {shape}")
    for name in ("total_power_w", "perception", "objective", "latency_s"):
        if np.shape(getattr(allocation, name)) != shape:
            out.append(f"{name} shape {np.shape(getattr(allocation, name))} != batch shape {shape}")
    for name in ("power_w", "error_rate"):
        if np.shape(getattr(allocation, name))[:len(shape)] != shape:
            out.append(f"{name} shape {np.shape(getattr(allocation, name))} does not start with "
                       f"the batch shape {shape}")
    if reference is not None:
        expected = _batch_shape(reference.snr, reference.problem)
        if expected is not None and expected != shape:
            out.append(f"batch shape {shape} != shape of snr {expected}")
    if not np.all(np.isin(status, STATUSES)):
        out.append(f"unknown status in {np.unique(status)}")
    if np.any(success != np.isin(status, SUCCESS_STATUSES)):
        out.append("success does not match status")
    power = np.asarray(allocation.power_w, dtype=float)
    defined = ~np.isnan(power)
    if np.any(power[defined] < 0) or np.any(np.isinf(power)):
        out.append("negative or infinite power")
    if np.any(defined):
        total = np.asarray(allocation.total_power_w, dtype=float)
        if not np.allclose(np.nansum(power, axis=-1), np.where(np.isnan(total), 0, total),
                           rtol=1e-12, atol=0):
            out.append("total_power_w is not the sum of power_w")
        if budget_w is not None and np.any(success & (np.nan_to_num(total) > budget_w * (1 + rtol))):
            out.append(f"successful allocation over budget ({np.nanmax(total)} > {budget_w})")
    if reference is not None and reference.check is not None and np.any(success):
        out.extend(reference.check(allocation))
    if not isinstance(allocation.message, str) or not allocation.message:
        out.append("empty message")
    if not (isinstance(allocation.wall_time_s, float) and math.isfinite(allocation.wall_time_s)):
        out.append("wall_time_s is not a finite float")
    if not isinstance(allocation.iterations, int) or not isinstance(allocation.evaluations, int):
        out.append("iterations / evaluations are not ints")
    return out
