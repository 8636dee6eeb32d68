"""Built-in allocators. Importing this package registers every problem and method."""

from semopt.allocators import minpower  # noqa: F401
from semopt.allocators import operating_point  # noqa: F401
from semopt.allocators import latency  # noqa: F401
from semopt.allocators import gvif  # noqa: F401
