"""Cell methods: U users share one power budget (beyond the papers).

=================  ====================================================  ===========
method             max-served / min-mean-perception                      optimality
=================  ====================================================  ===========
``dual``           exact sort / Lagrangian on the sampled frontiers,      heuristic
                   bisection on λ, repair and fill (default)
``knapsack``       exact sort / multiple-choice knapsack DP on a power    global
                   grid (exact over the same options; small cells)
``equal-power``    B/U per user, semantic-aware split inside it           baseline
``unaware``        as ``dual`` with an equal-SNR split inside each user   baseline
=================  ====================================================  ===========
"""

from semopt.allocators.cell.base import CellMethod
from semopt.allocators.cell.baselines import EqualPowerMethod, UnawareCellMethod
from semopt.allocators.cell.dual import DualMethod, KnapsackMethod

__all__ = ["CellMethod", "DualMethod", "EqualPowerMethod", "KnapsackMethod",
           "UnawareCellMethod"]
