"""The method side of the contract: configuration at construction, ``solve`` only.

Every built-in allocator is a :class:`Method` subclass. It declares its options and its
capabilities as class attributes (cvxpy's ``Solver`` flags), receives parsed inputs
from its problem and returns that problem's solution type; :meth:`Method.allocate`,
written once here, runs parse → solve → assemble with one clock. A user's own
allocator may subclass :class:`Method` (and get parsing, recheck, result assembly and
conformance for free) or implement only ``allocate(snr, budget, target) -> Allocation``.
"""

from __future__ import annotations

import importlib.util
import time
from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any, ClassVar

from semopt.options import Option, resolve_options
from semopt.problems.base import Problem
from semopt.result import Allocation

__all__ = ["OPTIMALITY", "Method"]

OPTIMALITY = ("global", "local", "heuristic", "baseline")
"""What a method's ``optimal`` status certifies: a global optimum (up to its stated
tolerance), a local optimum, a heuristic point, or a baseline rule (the rule's own
solution, not an optimum of the problem)."""


class Method(ABC):
    """Base class of every built-in allocator.

    Parameters
    ----------
    table : str, path or Table, optional
        The problem's table (default: the problem's ``default_table``).
    problem : Problem, optional
        An already-built problem to share (its table and scenario); then no problem
        options may be passed.
    **options
        Problem options (``problem_class.options``) and method options
        (``options``); anything else raises ``ValueError`` listing the valid ones.

    Class attributes (capabilities)
    -------------------------------
    name : str
        Registry name of the method.
    problem_class : type of Problem
    options : mapping of str to Option
        The method's own options.
    stream_counts : tuple of int or None
        Stream counts the method handles (None: any).
    vectorized : bool
        True if a batch is solved in one vectorized pass, False if per instance.
    optimality : str
        One of :data:`OPTIMALITY`.
    requires : tuple of str
        Modules the method needs beyond the core (checked at construction).
    """

    name: ClassVar[str] = ""
    problem_class: ClassVar[type[Problem]]
    options: ClassVar[Mapping[str, Option]] = {}
    stream_counts: ClassVar[tuple[int, ...] | None] = None
    vectorized: ClassVar[bool] = True
    optimality: ClassVar[str] = "global"
    requires: ClassVar[tuple[str, ...]] = ()

    def __init__(self, *, table: Any = None, problem: Problem | None = None,
                 **options: Any) -> None:
        problem_options = {k: v for k, v in options.items() if k in self.problem_class.options}
        method_options = {k: v for k, v in options.items() if k not in self.problem_class.options}
        owner = f"{self.problem_class.name}/{self.name}"
        unknown = sorted(set(method_options) - set(self.options))
        if unknown:
            valid = sorted(set(self.options) | set(self.problem_class.options) | {"table"})
            raise ValueError(f"{unknown[0]}: unknown option for {owner}; valid options: "
                             f"{', '.join(valid)}")
        for module in self.requires:
            if importlib.util.find_spec(module) is None:
                raise ValueError(f"method: {owner} needs the {module!r} package; install it "
                                 f"(pip install {module})")
        if problem is None:
            problem = self.problem_class(table=table, **problem_options)
        elif problem_options or table is not None:
            raise ValueError("problem: pass either a built problem or its options, not both")
        self.problem = problem
        self.config = resolve_options(self.options, method_options, owner)
        for key, value in self.config.items():
            setattr(self, key, value)
        self.method_name = self.name
        self.check_problem(problem)

    def check_problem(self, problem: Problem) -> None:
        """Refuse a problem this method cannot solve (default: ``stream_counts``)."""
        n = getattr(problem, "n_streams", None)
        if self.stream_counts is not None and n is not None and n not in self.stream_counts:
            raise ValueError(f"table: method {self.name!r} handles {self.stream_counts} streams, "
                             f"the table has {n}")

    @abstractmethod
    def solve(self, inputs: Any) -> Any:
        """Solve parsed inputs; return the problem's solution type."""

    def allocate(self, snr: Any, budget: Any, target: Any) -> Allocation:
        """Parse, solve, recheck and assemble (see the problem's docstring for the arguments)."""
        start = time.perf_counter()
        inputs = self.problem.parse(snr, budget, target)
        solution = self.solve(inputs)
        return self.problem.assemble(inputs, solution, method=self.method_name,
                                     wall_time_s=time.perf_counter() - start)
