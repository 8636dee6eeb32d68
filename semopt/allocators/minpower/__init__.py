"""Min-power methods (Xu et al.) for the uncoded forward and coded discard schemes.

Every method solves the problem of :class:`semopt.problems.minpower.MinPowerProblem`

    minimize_q   Σ_i Z_i q_i
    subject to   P_scheme(Φ(q)) ≤ P̄,   Σ_i q_i ≤ P_max,   q ≥ 0

and differs in how it searches:

=================  ==========================================================  =========
method             search                                                      streams
=================  ==========================================================  =========
``proportional``   Theorem 1: equal ratios L̄_i/L_i, the common ratio found so   any
                   the full constraint holds (a 1-D root), closed form per stream
``unaware``        equal received SNR for all streams (1-D root)               any
``bisection``      Algorithm 1: bisection on the sign of the derivative along  2
                   the iso-perception curve (implicit differentiation); local
``global-search``  dense scan of the iso-perception curve + refinement; global  2
``exhaustive``     dense grid, exact constraint solve for the last stream;     2, 3, 4
                   the ground truth
``slsqp``          scipy SLSQP multi-start in log10 error rates (generic)       any
``genetic``        pymoo GA exploration, then SLSQP polish (generic, global)   any
=================  ==========================================================  =========
"""

from semopt.allocators.minpower.base import MinPowerMethod
from semopt.allocators.minpower.curve import BisectionMethod, GlobalSearchMethod
from semopt.allocators.minpower.exhaustive import ExhaustiveMethod
from semopt.allocators.minpower.genetic import GeneticMethod
from semopt.allocators.minpower.rules import ProportionalMethod, UnawareMethod
from semopt.allocators.minpower.slsqp import SlsqpMethod

__all__ = [
    "BisectionMethod",
    "ExhaustiveMethod",
    "GeneticMethod",
    "GlobalSearchMethod",
    "MinPowerMethod",
    "ProportionalMethod",
    "SlsqpMethod",
    "UnawareMethod",
]
