"""The one result type every allocator returns, its status constants and errors."""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from types import MappingProxyType
from typing import Any

import numpy as np

__all__ = [
    "INFEASIBLE",
    "MAX_ITERATIONS",
    "NUMERICAL_ERROR",
    "OPTIMAL",
    "OUTAGE",
    "STATUSES",
    "STATUS_DTYPE",
    "SUCCESS_STATUSES",
    "Allocation",
    "SolverError",
    "build_allocation",
    "to_jsonable",
]

OPTIMAL = "optimal"
"""The method's own optimality criterion is met (global for exact methods, a local
stationary point for ``bisection`` along the iso-perception curve)."""
INFEASIBLE = "infeasible"
"""The target cannot be met within the budget; the message gives the best achievable value."""
OUTAGE = "outage"
"""A discrete scheme has no feasible mode (e.g. no modulation order meets the BER target)."""
MAX_ITERATIONS = "max_iterations"
"""An iterative method stopped at its iteration cap before its convergence test passed;
the returned point is feasible (rechecked) but not certified optimal, so ``success`` is
False."""
NUMERICAL_ERROR = "numerical_error"
"""The method returned non-finite or inconsistent values; the recheck refused them."""
STATUSES = (OPTIMAL, INFEASIBLE, OUTAGE, MAX_ITERATIONS, NUMERICAL_ERROR)
SUCCESS_STATUSES = (OPTIMAL,)
"""Statuses for which ``success`` is True."""
STATUS_DTYPE = "<U16"
"""dtype of a batched ``status`` array (a single realization gives a ``str``)."""


class SolverError(RuntimeError):
    """A numerical backend (cvxpy, scipy, pymoo) failed in a way the allocator cannot handle."""


def to_jsonable(value: Any) -> Any:
    """Convert numpy arrays/scalars (recursively) to JSON types; NaN and inf become ``None``."""
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return to_jsonable(value.tolist())
    if isinstance(value, np.generic):
        return to_jsonable(value.item())
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


_FRESH = threading.local()
"""Set while :func:`build_allocation` constructs a result from arrays it made itself."""


def _readonly(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        if not getattr(_FRESH, "arrays", False):
            value = value.copy()
        value.setflags(write=False)
    elif isinstance(value, Mapping):
        value = MappingProxyType({k: _readonly(v) for k, v in value.items()})
    elif isinstance(value, list):
        value = tuple(_readonly(v) for v in value)
    return value


def _shaped(value: Any, batch_shape: tuple[int, ...]) -> Any:
    """A flat ``(B, ...)`` array reshaped to ``batch_shape + (...)``; a Python scalar for ``()``."""
    arr = np.asarray(value)
    arr = arr.reshape(batch_shape + arr.shape[1:])
    if arr.ndim == 0:
        return arr.item()
    return arr


def build_allocation(batch_shape: tuple[int, ...], *, method: str, problem: str,
                     success: np.ndarray, status: np.ndarray, message: str,
                     power_w: np.ndarray, error_rate: np.ndarray, perception: np.ndarray,
                     objective: np.ndarray, latency_s: np.ndarray | None = None,
                     iterations: int = 0, evaluations: int = 0, wall_time_s: float = 0.0,
                     extras: Mapping[str, Any] | None = None,
                     batch_extras: Mapping[str, Any] | None = None) -> Allocation:
    """The one assembler of an :class:`Allocation` from flat per-realization arrays.

    It **takes over** the arrays it is given when they own their data: the caller (a
    problem's ``assemble``) must not keep or modify them afterwards. Views (of caches,
    broadcasts) are copied.

    Every array argument (and every value of ``batch_extras``) has a leading axis of
    length B = prod(batch_shape) (plus streams where per stream); it is reshaped to
    ``batch_shape`` (+ trailing axes). A single realization (``batch_shape == ()``)
    gives Python scalars for scalar fields. ``extras`` are stored as given.
    ``total_power_w`` is the NaN-aware sum of ``power_w`` over streams (NaN where every
    stream is NaN).
    """
    power = np.asarray(power_w, dtype=float)
    with np.errstate(invalid="ignore"):
        total = np.where(np.all(np.isnan(power), axis=-1), np.nan, np.nansum(power, axis=-1))
    b = int(np.prod(batch_shape, dtype=int))
    latency = np.full(b, np.nan) if latency_s is None else latency_s

    def own(value: Any, dtype: Any = float) -> Any:
        """The flat array reshaped for the result: taken over when the caller's array owns
        its data (no copy; copying fresh memory is most of the cost of a large batch),
        copied when it is a view of something else (a cache, a broadcast)."""
        arr = np.asarray(value, dtype=dtype)
        shaped = _shaped(arr, batch_shape)
        if isinstance(shaped, np.ndarray) and not (arr.flags.owndata and arr.flags.writeable):
            shaped = np.array(shaped, copy=True)
        return shaped

    merged = {k: np.array(v, copy=True) if isinstance(v, np.ndarray) else v
              for k, v in (extras or {}).items()}
    merged.update({k: own(v, None) for k, v in (batch_extras or {}).items()})
    _FRESH.arrays = True  # every array below is a fresh copy: Allocation need not copy again
    try:
        return Allocation(
            method=method, problem=problem, success=own(success, bool),
            status=own(status, STATUS_DTYPE), message=message,
            power_w=np.asarray(own(power)), total_power_w=own(total),
            error_rate=np.asarray(own(error_rate)), perception=own(perception),
            objective=own(objective), latency_s=own(latency),
            iterations=int(iterations), evaluations=int(evaluations),
            wall_time_s=float(wall_time_s), extras=merged)
    finally:
        _FRESH.arrays = False


@dataclass(frozen=True)
class Allocation:
    """Result of any allocator: the same fields for every method and problem.

    Arrays carry a leading batch shape equal to the batch shape of the input ``snr``
    (empty for a single channel realization, in which case scalars are Python numbers).

    Attributes
    ----------
    method, problem : str
        Registry names of the allocator and of the problem it solved.
    success : bool or ndarray of bool
        ``True`` where the target is met within the budget.
    status : str or ndarray of str
        One of :data:`STATUSES`.
    message : str
        Human-readable summary (for infeasible targets: the best achievable value).
    power_w : ndarray, shape ``(..., I)``
        Transmit power per stream in W (NaN where a problem does not allocate power).
    total_power_w : float or ndarray
        Sum of ``power_w`` over streams.
    error_rate : ndarray, shape ``(..., I)``
        Per-stream BER (uncoded) or BLER (coded) at the allocated power.
    perception : float or ndarray
        Achieved perception / quality value the target constrains.
    objective : float or ndarray
        The problem's objective at the solution (e.g. Σ Z_i q_i, latency, expected GVIF).
    latency_s : float or ndarray
        Transmission latency where the problem defines it, NaN otherwise.
    iterations : int
        The largest number of outer iterations any realization of the call needed
        (0 for closed forms and table look-ups).
    evaluations : int
        Total number of evaluations of the problem's constraint or objective function
        over the whole call (all realizations).
    wall_time_s : float
        Wall-clock time of the call.
    extras : Mapping
        Read-only, problem-specific fields (e.g. ``alpha``, ``model``, ``bits_per_symbol``).
    """

    method: str
    problem: str
    success: Any
    status: Any
    message: str
    power_w: np.ndarray
    total_power_w: Any
    error_rate: np.ndarray
    perception: Any
    objective: Any
    latency_s: Any = math.nan
    iterations: int = 0
    evaluations: int = 0
    wall_time_s: float = 0.0
    extras: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        status = np.asarray(self.status)
        object.__setattr__(self, "status", str(status) if status.ndim == 0
                           else status.astype(STATUS_DTYPE, copy=False))
        success = np.asarray(self.success, dtype=bool)
        object.__setattr__(self, "success", bool(success) if success.ndim == 0 else success)
        for f in fields(self):
            if f.name != "extras":
                object.__setattr__(self, f.name, _readonly(getattr(self, f.name)))
        extras = {k: _readonly(v) for k, v in dict(self.extras).items()}
        object.__setattr__(self, "extras", MappingProxyType(extras))

    @property
    def batch_shape(self) -> tuple[int, ...]:
        """Leading batch shape (``()`` for a single realization)."""
        return np.shape(self.success)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary; ``extras`` are merged at the top level."""
        out = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "extras"}
        for key, value in self.extras.items():
            out.setdefault(key, value)
        return to_jsonable(out)

    def to_json(self, **kwargs: Any) -> str:
        """Serialize :meth:`to_dict` to a JSON string."""
        kwargs.setdefault("ensure_ascii", False)
        return json.dumps(self.to_dict(), **kwargs)

    def __str__(self) -> str:
        if self.batch_shape:
            n_ok = int(np.count_nonzero(self.success))
            return (f"Allocation[{self.problem}/{self.method}] batch {self.batch_shape}: "
                    f"{n_ok} of {np.size(self.success)} successful. {self.message}")

        def fmt(value: Any) -> str:
            if isinstance(value, (float, np.floating)):
                return f"{value:.6g}"
            if isinstance(value, np.ndarray) and value.dtype.kind == "f":
                return np.array2string(value, precision=4)
            if isinstance(value, (list, tuple)) and value and all(
                    isinstance(v, (float, np.floating)) for v in value):
                return "[" + ", ".join(f"{v:.6g}" for v in value) + "]"
            return str(value)

        def defined(value: Any) -> bool:
            return not np.all(np.isnan(np.asarray(value, dtype=float)))

        lines = [f"Allocation[{self.problem}/{self.method}]: {self.status} (success={self.success})"]
        if defined(self.power_w):
            power = ", ".join(f"{p * 1e3:.4g} mW" for p in np.atleast_1d(self.power_w))
            lines += [f"  power per stream : {power}",
                      f"  total power      : {self.total_power_w * 1e3:.6g} mW",
                      f"  error rate       : {fmt(np.asarray(self.error_rate))}"]
        if defined(self.perception):
            lines.append(f"  perception       : {self.perception:.6g}")
        lines.append(f"  objective        : {self.objective:.6g}")
        if defined(self.latency_s):
            lines.append(f"  latency          : {self.latency_s * 1e3:.6g} ms")
        for key, value in self.extras.items():
            lines.append(f"  {key:<17}: {fmt(value)}")
        lines.append(f"  message          : {self.message}")
        return "\n".join(lines)
