"""Symbol-split methods: split a channel-symbol budget between prompt, foreground and background.

All solve :class:`semopt.problems.symbol_split.SymbolSplitProblem`, vectorized over the
batch:

=================  ===========  ==============================================================
method             optimality   how
=================  ===========  ==============================================================
``exhaustive``     global       every candidate of every row, lexicographic choice (the
(default)                       reference)
``pareto``         global       Pareto front of symbols against ``E[Q]`` per distinct SNR,
                                its upper concave hull, a bisection on the Lagrange
                                multiplier over the hull's breakpoints, then a binary search
                                of the front between the bracketing vertices (the multiplier
                                alone is exact only at hull vertices)
``equal-split``    baseline     the prompt first (when it fits), the visual symbols split
                                equally between foreground and background at the highest
                                levels within each half
=================  ===========  ==============================================================
"""

from semopt.allocators.symbol_split.base import SymbolSplitMethod
from semopt.allocators.symbol_split.equal_split import EqualSplitMethod
from semopt.allocators.symbol_split.exhaustive import ExhaustiveMethod
from semopt.allocators.symbol_split.pareto import ParetoMethod

__all__ = ["EqualSplitMethod", "ExhaustiveMethod", "ParetoMethod", "SymbolSplitMethod"]
