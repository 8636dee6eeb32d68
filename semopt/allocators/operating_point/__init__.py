"""Operating-point methods: choose one tabulated point for a channel and SNR.

Both solve :class:`semopt.problems.operating_point.OperatingPointProblem` exactly by
enumerating the candidates (vectorized over the batch of SNRs):

========================  ==============================================================
method                    question it answers
========================  ==============================================================
``cheapest`` (default)    the least ranking cost meeting every metric target within the
                          caps (ties: better objective metric, then table order)
``best-within-budget``    the best objective metric within the caps (and any targets);
                          ties: lower ranking cost, then table order
========================  ==============================================================
"""

from semopt.allocators.operating_point.base import OperatingPointMethod
from semopt.allocators.operating_point.best import BestWithinBudgetMethod
from semopt.allocators.operating_point.cheapest import CheapestMethod

__all__ = ["BestWithinBudgetMethod", "CheapestMethod", "OperatingPointMethod"]
