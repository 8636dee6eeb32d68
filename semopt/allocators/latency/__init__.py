"""Latency methods (Qiao et al. 2024) for the problem of :mod:`semopt.problems.latency`.

Every method solves

    minimize_p   max_i T_i(p_i)      s.t.   Σ_i p_i ≤ P_T,   BER_i at the target

and differs in how it searches:

===================  ===================================================  ===========  =========
method               search                                               optimality   batch
===================  ===================================================  ===========  =========
``lemma1``           monotone Newton on the equal-latency root (Lemma 1)   global       vectorized
``bisection``        bisection on the latency, closed-form least powers    global       vectorized
``discrete``         M-QAM orders by exact enumeration (Table II)          global       vectorized
``unaware``          one stream for everything (the paper's benchmark)     baseline     vectorized
``cvxpy``            epigraph convex program, fixed bandwidths             global       per instance
``joint-bandwidth``  bandwidths and powers, one convex program             global       per instance
===================  ===================================================  ===========  =========
"""

from semopt.allocators.latency.base import LatencyMethod
from semopt.allocators.latency.bisection import BisectionMethod
from semopt.allocators.latency.convex import CvxpyMethod, JointBandwidthMethod
from semopt.allocators.latency.discrete import DiscreteMethod
from semopt.allocators.latency.lemma1 import Lemma1Method
from semopt.allocators.latency.unaware import UnawareMethod

__all__ = [
    "BisectionMethod",
    "CvxpyMethod",
    "DiscreteMethod",
    "JointBandwidthMethod",
    "LatencyMethod",
    "Lemma1Method",
    "UnawareMethod",
]
