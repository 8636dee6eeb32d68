"""The one registry: problem name -> problem class, and (problem, method) -> allocator.

Built-in problems and methods are loaded before any lookup or registration, so a
plug-in registered from a fresh interpreter sees them. Names are lowercase and
hyphenated (``"min-power"``, ``"global-search"``). Registering never modifies the
registered class; a name that is taken raises ``ValueError`` unless ``replace=True``.

An allocator is anything with ``allocate(snr, budget, target) -> Allocation`` that
takes its configuration keyword-only at construction::

    allocator = cls(table=..., **options)
    allocator.allocate(snr, budget, target) -> Allocation

Subclassing :class:`semopt.allocators.base.Method` gives parsing, the recheck, result
assembly and declared options for free.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable
from typing import Any, Protocol, TypeVar, runtime_checkable

from semopt.result import Allocation

__all__ = [
    "Allocator",
    "get_allocator",
    "get_problem",
    "list_methods",
    "list_problems",
    "problem_for_table_kind",
    "register_allocator",
    "register_from_path",
    "register_problem",
]

_NAME = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
T = TypeVar("T", bound=type)


@runtime_checkable
class Allocator(Protocol):
    """What every allocator provides: ``allocate(snr, budget, target) -> Allocation``."""

    def allocate(self, snr: Any, budget: Any, target: Any) -> Allocation: ...


_PROBLEMS: dict[str, type] = {}
_ALLOCATORS: dict[str, dict[str, type]] = {}
_BUILTIN_STATE = {"state": "unloaded"}


def _load_builtin() -> None:
    """Import the built-in allocators once (their modules register themselves)."""
    if _BUILTIN_STATE["state"] != "unloaded":
        return
    _BUILTIN_STATE["state"] = "loading"
    try:
        importlib.import_module("semopt.allocators")
    except BaseException:
        _BUILTIN_STATE["state"] = "unloaded"
        raise
    _BUILTIN_STATE["state"] = "loaded"


def _load_builtin_for(cls: type) -> None:
    """Load the built-ins before a user's registration (built-in modules register while loading)."""
    if not str(getattr(cls, "__module__", "")).startswith(("semopt.", "solvers.")):
        _load_builtin()


def _check_name(name: str, what: str) -> None:
    if not isinstance(name, str) or not _NAME.match(name):
        raise ValueError(f"{what} {name!r} must be lowercase and hyphenated, e.g. 'global-search'")


def register_problem(cls: T, *, replace: bool = False) -> T:
    """Register a :class:`~semopt.problems.base.Problem` subclass under ``cls.name``.

    Usable as a class decorator. Raises ``ValueError`` if the name is taken by another
    class and ``replace`` is False.
    """
    _load_builtin_for(cls)
    name = getattr(cls, "name", "")
    _check_name(name, "problem name")
    if name in _PROBLEMS and _PROBLEMS[name] is not cls and not replace:
        raise ValueError(f"problem {name!r} is already registered "
                         f"({_PROBLEMS[name].__qualname__}); pass replace=True to replace it")
    _PROBLEMS[name] = cls
    _ALLOCATORS.setdefault(name, {})
    return cls


def register_allocator(problem: str, name: str | None = None, *,
                       replace: bool = False) -> Callable[[T], T]:
    """Class decorator registering an allocator under ``(problem, name)``.

    ``name`` defaults to the ``name`` attribute the class itself defines (an inherited one
    does not count). The class is not modified;
    the same class may be registered under several names (aliases).

    Raises
    ------
    ValueError
        For an unknown problem, a badly formed name, or a name already registered for
        this problem (unless ``replace=True``).
    """

    def decorator(cls: T) -> T:
        _load_builtin_for(cls)
        method = name or vars(cls).get("name", "")
        _check_name(method, "method name")
        if problem not in _PROBLEMS:
            raise ValueError(f"problem: unknown {problem!r}; valid problems: "
                             f"{', '.join(sorted(_PROBLEMS))}")
        if not callable(getattr(cls, "allocate", None)):
            raise ValueError(f"{cls.__qualname__} has no allocate(snr, budget, target) method")
        taken = _ALLOCATORS[problem].get(method)
        if taken is not None and taken is not cls and not replace:
            raise ValueError(f"method {method!r} of problem {problem!r} is already registered "
                             f"({taken.__qualname__}); pass replace=True to replace it")
        _ALLOCATORS[problem][method] = cls
        return cls

    return decorator


def register_from_path(path: str, problem: str, name: str | None = None, *,
                       replace: bool = False) -> type:
    """Register a user allocator given as ``"package.module:ClassName"``.

    This **imports the module, which runs its top-level code**: only register paths you
    trust. ``name`` defaults to the ``name`` attribute the class itself defines, else its
    lowercased, hyphenated class name. Returns the class.
    """
    module_name, sep, attr = str(path).partition(":")
    if not sep or not attr or not module_name:
        raise ValueError(f"allocator path {path!r} must look like 'package.module:ClassName'")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ValueError(f"allocator path {path!r}: cannot import {module_name!r} ({exc})") from exc
    cls = getattr(module, attr, None)
    if cls is None:
        raise ValueError(f"allocator path {path!r}: module {module_name!r} has no {attr!r}")
    # A class's own ``name`` (not one inherited from a built-in it subclasses).
    default = vars(cls).get("name", "") or re.sub(r"[^a-z0-9]+", "-", attr.lower()).strip("-")
    return register_allocator(problem, name or default, replace=replace)(cls)


def list_problems() -> list[str]:
    """Names of the registered problems."""
    _load_builtin()
    return sorted(_PROBLEMS)


def get_problem(problem: str) -> type:
    """The problem class registered as ``problem``; ``ValueError`` listing valid ones."""
    _load_builtin()
    if problem not in _PROBLEMS:
        raise ValueError(f"problem: unknown {problem!r}; valid problems: {', '.join(sorted(_PROBLEMS))}")
    return _PROBLEMS[problem]


def problem_for_table_kind(kind: str) -> str | None:
    """The problem that consumes a table kind, if exactly one does."""
    _load_builtin()
    matches = [name for name, cls in _PROBLEMS.items() if kind in getattr(cls, "table_kinds", ())]
    return matches[0] if len(matches) == 1 else None


def list_methods(problem: str | None = None) -> list[str] | dict[str, list[str]]:
    """Method names of one problem, or a mapping problem -> methods."""
    _load_builtin()
    if problem is None:
        return {p: sorted(m) for p, m in sorted(_ALLOCATORS.items())}
    get_problem(problem)
    return sorted(_ALLOCATORS[problem])


def get_allocator(problem: str, method: str) -> type:
    """The allocator class registered under ``(problem, method)``.

    Raises
    ------
    ValueError
        If the problem or the method is unknown; the message lists the valid names.
    """
    get_problem(problem)
    methods = _ALLOCATORS[problem]
    if method not in methods:
        raise ValueError(
            f"method: unknown {method!r} for problem {problem!r}; "
            f"valid methods: {', '.join(sorted(methods))}"
        )
    return methods[method]
