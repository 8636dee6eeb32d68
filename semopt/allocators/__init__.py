"""Built-in allocators. Importing this package registers every problem and method."""

from semopt.allocators import gvif, minpower, operating_point

__all__ = ["minpower", "operating_point"]
