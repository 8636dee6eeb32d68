"""Built-in allocators. Importing this package registers every problem and method."""

from semopt.allocators import cell, gvif, latency, minpower, operating_point, symbol_split

__all__ = ["cell", "gvif", "latency", "minpower", "operating_point", "symbol_split"]
