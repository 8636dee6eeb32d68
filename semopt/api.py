"""The one entry point :func:`allocate`, :func:`make_allocator` and :func:`show_options`."""

from __future__ import annotations

import os
from typing import Any

from semopt import tables
from semopt.registry import get_allocator, get_problem, problem_for_table_kind
from semopt.result import Allocation

__all__ = ["allocate", "make_allocator", "show_options"]


def _resolve_problem(problem: str | None, table: Any) -> tuple[str, Any]:
    """The problem name (inferred from the table kind when omitted) and the table, loaded once."""
    if problem is not None:
        return problem, table
    if table is None:
        return "min-power", None
    loaded = tables.load(table) if isinstance(table, (str, os.PathLike)) else table
    return problem_for_table_kind(getattr(loaded, "kind", "")) or "min-power", loaded


def make_allocator(problem: str | None = None, method: str | None = None, *,
                   table: str | os.PathLike[str] | tables.Table | None = None,
                   **options: Any) -> Any:
    """Build the allocator object :func:`allocate` would use (to reuse it over many calls).

    The problem is inferred from the table kind when not given (default
    ``"min-power"``); the method defaults to the problem's ``default_method``. Options
    are split between the problem (scenario) and the method; an unknown one raises
    ``ValueError`` listing the valid ones.
    """
    problem, table = _resolve_problem(problem, table)
    problem_cls = get_problem(problem)
    method = method or problem_cls.default_method
    cls = get_allocator(problem, method)
    if table is not None:
        options["table"] = table
    allocator = cls(**options)
    if hasattr(allocator, "method_name"):
        allocator.method_name = method  # the registered name (aliases included)
    return allocator


def allocate(snr: Any, budget: Any, target: Any, *, problem: str | None = None,
             method: str | None = None,
             table: str | os.PathLike[str] | tables.Table | None = None,
             **options: Any) -> Allocation:
    """Allocate radio resources so the regenerated signal meets ``target`` at least cost.

    Parameters
    ----------
    snr : float, str or array_like
        Channel quality in dB (``"12 dB"`` accepted). For every power problem it is the
        per-stream **received SNR at the reference transmit power**
        ``reference_power_w``, which defaults to the budget; so with the reference
        named, a budget that does not bind does not change the answer. The last axis
        is streams (a scalar broadcasts to all streams), leading axes are a batch of
        channel realizations solved in one call; a problem with one SNR per
        realization (latency, gvif, operating-point) takes shape ``(B,)``.
    budget : float or str
        The resource cap: total transmit power in W (``"10 mW"``, ``"10 dBm"``) for
        min-power and latency, a latency cap in s (``"20 ms"``) for gvif, a symbol /
        rate / latency budget for operating-point selection.
    target : float, str or mapping
        The quality requirement: perception value P̄ to stay under (min-power), BER or
        metric floors (latency), distortion cap D₀ (gvif), metric floors and ceilings
        (operating-point).
    problem : str, optional
        A registered problem (:func:`semopt.list_problems`); inferred from the table
        kind when a table is given, else ``"min-power"``.
    method : str, optional
        A registered method of the problem (:func:`semopt.list_methods`); the
        problem's default when omitted.
    table : str, path or Table, optional
        Shipped table name, table file path, or table object.
    **options
        Problem and method options (:func:`semopt.show_options`), e.g. ``scheme``,
        ``reference_power_w``, ``segments``.

    Returns
    -------
    Allocation
        The one result type: per-realization fields have the batch shape (plus
        streams where per stream); ``status`` is a numpy string array (a ``str`` for a
        single realization) and ``success`` a bool array (a ``bool``).
    """
    return make_allocator(problem, method, table=table, **options).allocate(snr, budget, target)


def show_options(problem: str = "min-power", method: str | None = None, *,
                 disp: bool = False) -> dict[str, dict[str, Any]]:
    """The options of a problem and one of its methods, with defaults, units and help.

    Returns ``{"problem": {name: {...}}, "method": {name: {...}}}``; each option maps
    to ``default``, ``unit``, ``choices`` and ``help``. ``disp=True`` also prints
    them (scipy's ``show_options``).
    """
    problem_cls = get_problem(problem)
    method = method or problem_cls.default_method
    cls = get_allocator(problem, method)

    def describe(declared: Any) -> dict[str, Any]:
        return {name: {"default": o.default, "unit": o.unit, "choices": o.choices, "help": o.help}
                for name, o in dict(declared or {}).items()}

    out = {"problem": describe(getattr(problem_cls, "options", {})),
           "method": describe(getattr(cls, "options", {}))}
    if disp:
        print(format_options(problem, method))
    return out


def format_options(problem: str, method: str) -> str:
    """Human-readable text of :func:`show_options` (also ``semopt methods``)."""
    problem_cls = get_problem(problem)
    cls = get_allocator(problem, method)
    lines = [f"{problem} / {method}: {(cls.__doc__ or '').strip().splitlines()[0]}"]
    caps = [f"{flag}={getattr(cls, flag)!r}" for flag in
            ("optimality", "vectorized", "stream_counts", "requires") if hasattr(cls, flag)]
    if caps:
        lines.append("  capabilities: " + ", ".join(caps))
    for title, declared in (("problem options", getattr(problem_cls, "options", {})),
                            ("method options", getattr(cls, "options", {}))):
        if declared:
            lines.append(f"  {title}:")
            lines += [f"    {o.describe(name)}" for name, o in declared.items()]
    return "\n".join(lines)


def conventions_markdown() -> str:
    """The table of every problem's ``snr`` / ``budget`` / ``target`` / ``objective`` (Markdown).

    ``docs/api.md`` embeds it between ``<!-- conventions:start -->`` and
    ``<!-- conventions:end -->``; a test keeps the two equal.
    """
    from semopt.registry import list_problems

    rows = ["| problem | `snr` (shape) | `budget` | `target` | `objective` | default method |",
            "|---|---|---|---|---|---|"]
    for name in list_problems():
        cls = get_problem(name)
        shape = getattr(cls, "snr_shape", "") or ("(..., I)" if cls.stream_axis else "(B,)")
        cells = [f"`{name}`", f"{cls.snr} — shape {shape}", cls.budget, cls.target, cls.objective,
                 f"`{cls.default_method}`"]
        rows.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(rows)
