"""Built-in allocators. Importing this package registers every problem and method."""

from semopt.allocators import gvif, latency, minpower, operating_point

__all__ = ["gvif", "latency", "minpower", "operating_point"]
