"""GVIF methods (Huang et al.): filtering threshold α and source coder Φ by max expected GVIF.

Every method solves the problem of :class:`semopt.problems.gvif.GvifProblem` (eq. 31)

    maximize_{α, Φ}  E[V](Φ, α)   s.t.  E[B](Φ, α) ≤ W log2(1 + snr)·T_max,
                                        D(Φ) ≤ D_0,   0 ≤ α ≤ α_th

and picks the model by eq. 39 (the allowed Φ with the largest E[V] at its α*(Φ)). They
differ in how α is searched:

================  =========================================================  ===========
method            search                                                     optimality
================  =========================================================  ===========
``exact``         every breakpoint of the step functions, a binary search    global
                  per model over the whole batch (curves cached per problem)
``zo-sgd``        the paper's Algorithm 1: projected two-point zeroth-order  local
                  SGD on the quadratic penalty, then a feasibility repair
``per-image``     one α per image: a Lagrange multiplier on the mean rate,   heuristic
                  a greedy fill, never below ``exact``
``no-filtering``  α = 0 (every latent element sent): the paper's VAE          baseline
                  baseline without semantic filtering
================  =========================================================  ===========
"""

from semopt.allocators.gvif.base import GvifMethod
from semopt.allocators.gvif.exact import ExactMethod
from semopt.allocators.gvif.no_filtering import NoFilteringMethod
from semopt.allocators.gvif.per_image import PerImageMethod
from semopt.allocators.gvif.zo_sgd import ZoSgdMethod

__all__ = ["ExactMethod", "GvifMethod", "NoFilteringMethod", "PerImageMethod", "ZoSgdMethod"]
