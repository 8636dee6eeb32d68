"""The one entry point: :func:`allocate`."""

from __future__ import annotations

import os
from typing import Any

from semopt import tables
from semopt.registry import get_allocator, problem_for_table_kind, problem_spec
from semopt.result import Allocation

__all__ = ["allocate", "make_allocator"]


def make_allocator(problem: str | None = None, method: str | None = None, *,
                   table: str | os.PathLike[str] | tables.Table | None = None,
                   **options: Any) -> Any:
    """Build the allocator object ``allocate`` would use (to reuse it over many calls).

    The problem is inferred from the table kind when not given (default ``"min-power"``);
    the method defaults to the problem's default method.
    """
    if problem is None:
        problem = "min-power"
        if table is not None:
            problem = problem_for_table_kind(tables.load(table).kind) or problem
    spec = problem_spec(problem)
    cls = get_allocator(problem, method or spec.default_method)
    if table is None:
        table = spec.default_table
    if table is not None:
        options["table"] = table
    return cls(**options)


def allocate(snr: Any, budget: Any, target: Any, *, problem: str | None = None,
             method: str | None = None,
             table: str | os.PathLike[str] | tables.Table | None = None,
             **options: Any) -> Allocation:
    """Allocate radio resources so the regenerated signal meets ``target`` at least cost.

    Parameters
    ----------
    snr : float or array_like
        Channel quality in dB: per stream, the received SNR the stream would see if the
        whole power budget were spent on it. A scalar broadcasts to all streams; a
        leading batch dimension allocates many channel realizations in one call.
    budget : float or str
        The resource cap: total transmit power in W (``"10 mW"``, ``"10 dBm"`` accepted)
        for min-power and latency problems, a latency cap in s for fidelity problems,
        a symbol/rate budget for operating-point selection.
    target : float, str or mapping
        The quality requirement (perception value to stay under, BER or metric
        thresholds, distortion cap, metric floors) — see each problem.
    problem : str, optional
        ``"min-power"`` (default), or another registered problem; inferred from the
        table kind when a table is given.
    method : str, optional
        Registered method name (:func:`semopt.list_methods`); the problem's default
        when omitted.
    table : str, path or Table, optional
        Shipped table name, table file path, or table object.
    **options
        Allocator configuration (e.g. ``scheme``, ``bits``, ``code_rate``).

    Returns
    -------
    Allocation
        The one result type (see :class:`semopt.Allocation`).
    """
    return make_allocator(problem, method, table=table, **options).allocate(snr, budget, target)
