"""The problem side of the contract: parse once, recheck, assemble one result.

A :class:`Problem` owns everything that does not depend on how a method searches:
the scenario constants and the table (fixed at construction), parsing and validating
the call data ``(snr, budget, target)`` once into SI units with a batch shape, and
assembling the :class:`~semopt.result.Allocation` from what a method returns: the
recheck of the constraint and the budget with the link model, the status, the
best-achievable report when the target cannot be met, and the message.

A method (:class:`semopt.allocators.base.Method`) only solves parsed inputs.
This is the split of pymoo's ``Problem`` / ``Algorithm`` / ``Result`` and of
``scipy.optimize.minimize`` (validate once, dispatch, one result type).
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any, ClassVar

from semopt.options import Option, resolve_options
from semopt.result import Allocation

__all__ = ["Problem", "TableSource"]

TableSource = "str | os.PathLike[str] | semopt.tables.Table"


class Problem(ABC):
    """Base class of every problem.

    Subclasses set the class attributes, implement :meth:`parse` and
    :meth:`assemble`, and read their validated options from ``self.config`` (or the
    attributes of the same names).

    Class attributes
    ----------------
    name : str
        Registry name (lowercase, hyphenated).
    description : str
        One line: the objective and the constraint.
    default_method : str
        Method used when ``allocate`` gets none.
    table_kinds : tuple of str
        Table kinds the problem consumes (the problem is inferred from a table's kind).
    default_table : str or None
        Shipped table used when none is given.
    options : mapping of str to Option
        Scenario options accepted at construction (keyword-only).
    snr, budget, target : str
        What the three call arguments mean, with units (shown in the docs and by
        :func:`semopt.show_options`).
    objective : str
        What ``Allocation.objective`` holds, with its unit.
    stream_axis : bool
        True if ``snr`` has a last axis of streams (``(..., I)``); False if the problem
        takes one SNR per realization (``(B,)``).
    snr_shape : str
        Shape of ``snr`` as the docs show it (default from ``stream_axis``).
    summary_extras : tuple of str
        Per-realization ``extras`` the CLI shows as columns of a batch (e.g. the chosen
        point or model).
    """

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    default_method: ClassVar[str] = ""
    table_kinds: ClassVar[tuple[str, ...]] = ()
    default_table: ClassVar[str | None] = None
    options: ClassVar[Mapping[str, Option]] = {}
    snr: ClassVar[str] = ""
    budget: ClassVar[str] = ""
    target: ClassVar[str] = ""
    objective: ClassVar[str] = ""
    stream_axis: ClassVar[bool] = False
    snr_shape: ClassVar[str] = ""
    summary_extras: ClassVar[tuple[str, ...]] = ()

    def __init__(self, *, table: Any = None, **options: Any) -> None:
        self.config = resolve_options(self.options, options, f"problem {self.name!r}")
        for key, value in self.config.items():
            setattr(self, key, value)
        self._table_source = table if table is not None else self.default_table
        self._table: Any = None

    @property
    def table(self) -> Any:
        """The problem's table, loaded (and kind-checked) on first use."""
        if self._table is None and self._table_source is not None:
            from semopt import tables

            loaded = tables.load(self._table_source) \
                if isinstance(self._table_source, (str, os.PathLike)) else self._table_source
            kind = getattr(loaded, "kind", None)
            if self.table_kinds and kind not in self.table_kinds:
                raise ValueError(f"table: {getattr(loaded, 'name', loaded)!r} is a {kind!r} table; "
                                 f"the {self.name!r} problem needs one of "
                                 f"{', '.join(map(repr, self.table_kinds))}")
            self._table = loaded
        return self._table

    @abstractmethod
    def parse(self, snr: Any, budget: Any, target: Any) -> Any:
        """Validate and standardize the call data (SI units, flat batch + ``batch_shape``).

        Raises ``ValueError`` naming the argument and the valid range.
        """

    @abstractmethod
    def assemble(self, inputs: Any, solution: Any, *, method: str,
                 wall_time_s: float) -> Allocation:
        """Recheck ``solution`` against ``inputs`` and build the one result type."""
