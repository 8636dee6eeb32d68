"""Built-in allocators. Importing this package registers every problem and method."""

from semopt.allocators import minpower

__all__ = ["minpower"]
