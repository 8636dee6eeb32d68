"""``equal-split``: the prompt first, the visual symbols split equally between the branches."""

from __future__ import annotations

import numpy as np

from semopt.allocators.symbol_split.base import SymbolSplitMethod
from semopt.options import Option
from semopt.problems.symbol_split import MODES, SymbolSplitInputs, SymbolSplitSolution
from semopt.registry import register_allocator

__all__ = ["EqualSplitMethod"]

PROMPT_RULES = ("first", "best")


@register_allocator("symbol-split")
class EqualSplitMethod(SymbolSplitMethod):
    """Baseline: the prompt first, then half of the visual symbols to each branch.

    At a budget ``β`` the rule sends the prompt when it fits (``prompt_rule="first"``, as
    GenED-SC always sends its prompt; ``"best"``: only if that gives the better ``E[Q]``
    under the same rule; the problem's ``prompt`` policy overrides both), gives each
    branch the share ``h = (β − S_prompt − S_side) / 2`` and takes for each branch the
    highest level whose symbols fit ``h`` (the nearest level from below, so the budget
    holds); with ``h < 0`` both branches are off (no side information). With a target it
    returns the rule's point at the least budget ``β ≤ budget`` at which that point meets
    the target (the rule changes only at the budgets ``S_prompt·s + S_side + 2·S_level``,
    which are enumerated); ``objective`` is the symbols that point uses. A baseline: its
    ``optimal`` status says the rule's point passed the recheck, not that it is the optimum.
    """

    name = "equal-split"
    optimality = "baseline"
    options = {
        "prompt_rule": Option("first", "send the prompt whenever it fits (GenED-SC), or only "
                              "when it gives the better E[Q] under the equal split",
                              kind="str", choices=PROMPT_RULES),
    }

    def _rule_points(self, budget: np.ndarray, send: bool) -> np.ndarray:
        """Candidate index of the equal split at budgets ``budget`` (any shape), -1 where none."""
        tab = self.problem.table
        sym = tab.symbols(self.problem.visual_mcs)
        fg = np.asarray(sym.foreground, dtype=float)
        bg = np.asarray(sym.background, dtype=float)
        n_b = bg.size
        base = sym.prompt if send else 0.0
        share = (budget - base - sym.side) / 2.0
        with np.errstate(invalid="ignore"):
            i = np.searchsorted(fg, share, side="right") - 1
            j = np.searchsorted(bg, share, side="right") - 1
        off_f = not tab.levels["foreground"][0].sent
        off_b = not tab.levels["background"][0].sent
        nothing = (share < 0) & off_f & off_b & (budget >= base)     # only the prompt, if sent
        i = np.where(nothing, 0, i)
        j = np.where(nothing, 0, j)
        ok = (i >= 0) & (j >= 0) & (budget >= base)
        return np.where(ok, (np.maximum(i, 0) * n_b + np.maximum(j, 0)) * 2 + int(send), -1)

    def _choose(self, budget: np.ndarray, score: np.ndarray) -> np.ndarray:
        """The rule's candidate at budgets ``budget`` (B, K) given scores (B, P); -1: none."""
        with_p = self._rule_points(budget, True)
        without = self._rule_points(budget, False)
        policy = self.problem.prompt
        if policy == "always":
            return with_p
        if policy == "never":
            return without
        if self.prompt_rule == "first":
            return np.where(with_p >= 0, with_p, without)
        rows = np.arange(score.shape[0])[:, None]
        s_with = np.where(with_p >= 0, score[rows, np.maximum(with_p, 0)], -np.inf)
        s_without = np.where(without >= 0, score[rows, np.maximum(without, 0)], -np.inf)
        return np.where((s_with > s_without) & (with_p >= 0), with_p, without)

    def solve(self, inputs: SymbolSplitInputs) -> SymbolSplitSolution:
        score = self.scores(inputs, inputs.snr_db)                      # (B, P)
        budget = inputs.budget_symbols
        rows = np.arange(budget.size)
        if inputs.mode == MODES[1]:
            index = self._choose(budget[:, None], score)[:, 0]
            return self.solution(index, iterations=0, evaluations=score.size)
        tab = self.problem.table
        sym = tab.symbols(self.problem.visual_mcs)
        levels = np.unique(np.concatenate([sym.foreground, sym.background]))
        breaks = np.unique(np.concatenate([
            [0.0, sym.prompt], sym.side + 2.0 * levels, sym.prompt + sym.side + 2.0 * levels]))
        index = self._choose(np.broadcast_to(breaks, (budget.size, breaks.size)), score)  # (B, K)
        tau = self.problem.sign(inputs.metric) * inputs.target
        met = (index >= 0) & (breaks[None, :] <= budget[:, None]) & (
            score[rows[:, None], np.maximum(index, 0)] >= tau[:, None])
        first = np.argmax(met, axis=1)
        chosen = np.where(met.any(axis=1), index[rows, first], -1)
        return self.solution(chosen, iterations=0, evaluations=score.size)
