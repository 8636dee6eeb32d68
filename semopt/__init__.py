"""semopt: radio-resource allocation for generative semantic communication.

``semopt.allocate(snr, budget, target, ...)`` is the one entry point; every method
returns the one result type :class:`Allocation`.
"""

from semopt.api import allocate, make_allocator, show_options
from semopt.registry import (
    get_allocator,
    get_problem,
    list_methods,
    list_problems,
    register_allocator,
    register_from_path,
)
from semopt.result import Allocation, SolverError

__version__ = "0.1.0"

__all__ = [
    "Allocation",
    "SolverError",
    "__version__",
    "allocate",
    "get_allocator",
    "get_problem",
    "list_methods",
    "list_problems",
    "make_allocator",
    "register_allocator",
    "register_from_path",
    "show_options",
]
