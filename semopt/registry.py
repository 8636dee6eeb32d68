"""The one registry: problem name -> method name -> allocator class.

Allocator classes take their configuration (table, scenario constants, options)
keyword-only at construction and the data at call time::

    allocator = cls(table=..., **options)
    allocator.allocate(snr, budget, target) -> Allocation

Names are lowercase and hyphenated (``"min-power"``, ``"global-search"``).
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from semopt.result import Allocation

__all__ = [
    "Allocator",
    "ProblemSpec",
    "get_allocator",
    "list_methods",
    "list_problems",
    "register_allocator",
    "register_from_path",
    "register_problem",
]

_NAME = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


@runtime_checkable
class Allocator(Protocol):
    """What every allocator provides: ``allocate(snr, budget, target) -> Allocation``."""

    name: str
    problem: str

    def allocate(self, snr: Any, budget: Any, target: Any) -> Allocation: ...


@dataclass(frozen=True)
class ProblemSpec:
    """A registered problem: its default method and the table kinds it consumes."""

    name: str
    default_method: str
    description: str
    table_kinds: tuple[str, ...] = ()
    default_table: str | None = None


_PROBLEMS: dict[str, ProblemSpec] = {}
_ALLOCATORS: dict[str, dict[str, type]] = {}


def _check_name(name: str, what: str) -> None:
    if not _NAME.match(name):
        raise ValueError(f"{what} {name!r} must be lowercase and hyphenated, e.g. 'global-search'")


def register_problem(spec: ProblemSpec) -> ProblemSpec:
    """Register a problem (idempotent for an identical spec)."""
    _check_name(spec.name, "problem name")
    _PROBLEMS[spec.name] = spec
    _ALLOCATORS.setdefault(spec.name, {})
    return spec


def register_allocator(problem: str, name: str) -> Callable[[type], type]:
    """Class decorator registering an allocator under ``(problem, name)``."""
    _check_name(name, "method name")

    def decorator(cls: type) -> type:
        if problem not in _PROBLEMS:
            raise ValueError(f"unknown problem {problem!r}; register it first")
        cls.name = name
        cls.problem = problem
        _ALLOCATORS[problem][name] = cls
        return cls

    return decorator


def register_from_path(path: str, problem: str, name: str | None = None) -> type:
    """Register a user allocator given as ``"package.module:ClassName"``.

    The class must follow the :class:`Allocator` protocol. Returns the class.
    """
    module_name, sep, attr = path.partition(":")
    if not sep or not attr:
        raise ValueError(f"allocator path {path!r} must look like 'package.module:ClassName'")
    cls = getattr(importlib.import_module(module_name), attr)
    if not callable(getattr(cls, "allocate", None)):
        raise ValueError(f"{path!r} has no allocate(snr, budget, target) method")
    return register_allocator(problem, name or attr.lower().replace("_", "-"))(cls)


def _load_builtin() -> None:
    importlib.import_module("semopt.allocators")


def list_problems() -> list[str]:
    """Names of the registered problems."""
    _load_builtin()
    return sorted(_PROBLEMS)


def problem_spec(problem: str) -> ProblemSpec:
    """The :class:`ProblemSpec` of a problem; ``ValueError`` listing valid ones."""
    _load_builtin()
    if problem not in _PROBLEMS:
        raise ValueError(f"problem: unknown {problem!r}; valid problems: {', '.join(sorted(_PROBLEMS))}")
    return _PROBLEMS[problem]


def problem_for_table_kind(kind: str) -> str | None:
    """The problem that consumes a table kind, if exactly one does."""
    _load_builtin()
    matches = [p.name for p in _PROBLEMS.values() if kind in p.table_kinds]
    return matches[0] if len(matches) == 1 else None


def list_methods(problem: str | None = None) -> list[str] | dict[str, list[str]]:
    """Method names of one problem, or a mapping problem -> methods."""
    _load_builtin()
    if problem is None:
        return {p: sorted(m) for p, m in sorted(_ALLOCATORS.items())}
    problem_spec(problem)
    return sorted(_ALLOCATORS[problem])


def get_allocator(problem: str, method: str) -> type:
    """The allocator class registered under ``(problem, method)``.

    Raises
    ------
    ValueError
        If the problem or the method is unknown; the message lists the valid names.
    """
    problem_spec(problem)
    methods = _ALLOCATORS[problem]
    if method not in methods:
        raise ValueError(
            f"method: unknown {method!r} for problem {problem!r}; "
            f"valid methods: {', '.join(sorted(methods))}"
        )
    return methods[method]
