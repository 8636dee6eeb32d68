"""``zo-sgd``: the paper's Algorithm 1 (zeroth-order SGD on the quadratic penalty), then eq. 39."""

from __future__ import annotations

from typing import Any

import numpy as np

from semopt.allocators.gvif.base import GvifMethod, non_negative, positive, positive_int, unique_rows
from semopt.options import Option
from semopt.problems.gvif import GvifInputs, GvifSolution
from semopt.registry import register_allocator
from semopt.units import as_float_array
from solvers.zo_sgd import DIRECTIONS, derive_keys, zo_sgd

__all__ = ["ZoSgdMethod"]

_TINY = 1e-300


def _alpha0(value: Any, name: str) -> float:
    out = float(as_float_array(value, name))
    if not 0.0 <= out <= 1.0:
        raise ValueError(f"{name}: α_0 must lie in [0, 1], got {value!r}")
    return out


def _window(value: Any, name: str) -> int:
    out = positive_int(value, name)
    if out < 2:
        raise ValueError(f"{name}: must be ≥ 2, got {value!r}")
    return out


def _repair_steps(value: Any, name: str) -> int:
    out = as_float_array(value, name)
    if out.ndim or out != np.round(out) or out < 0:
        raise ValueError(f"{name}: must be an integer ≥ 0, got {value!r}")
    return int(out)


def _seed(value: Any, name: str) -> int:
    out = as_float_array(value, name)
    if out.ndim or out != np.round(out):
        raise ValueError(f"{name}: must be an integer, got {value!r}")
    return int(out)


def _batch(value: Any, name: str) -> int | None:
    return None if value is None else positive_int(value, name)


@register_allocator("gvif")
class ZoSgdMethod(GvifMethod):
    """The paper's Algorithm 1: per model, projected zeroth-order SGD on a quadratic penalty.

    For every allowed model Φ and every SNR of the batch (all runs advance together,
    :func:`solvers.zo_sgd.zo_sgd`), from α_0 = 0.5, minimize over α ∈ [0, α_th]

    ``scaling="log"`` (default)::

        L(α) = −ln(E[V](α) / E[V](0)) + p · max(0, ln(E[B](α) / (C T_max)))²

    ``scaling="linear"`` (eq. 33 with the violation in units of the cap)::

        L(α) = −E[V](α) / E[V](0) + p · max(0, E[B](α) / (C T_max) − 1)²

    with two-point estimates of ∇L on mini-batches of images (all images by default),
    directions m ~ U[−1, 1], and step, smoothing and tolerance in units of α's range α_th.
    Both scalings have the same minimizers as eq. 32 for p → ∞ (ln is increasing); the log
    form makes the slopes of both terms O(1) at every SNR (E[B] falls roughly
    exponentially in α), so one step size fits the whole range. A run converges when its
    last ``window`` iterates lie within ``tol``·α_th (Algorithm 1's ‖α_{t+1} − α_t‖ < ξ, on
    a window). A finite penalty leaves the stationary point slightly infeasible, so a
    **feasibility repair** follows: where the full-image E[B] at the ZO-SGD point α̃
    exceeds the cap, bisection on [α̃, α_th] (``repair_steps`` full-image evaluations)
    returns the smallest feasible α it finds; if even α_th does not fit, the model is
    infeasible. Eq. 39 then picks the model. A row whose runs did not all converge within
    ``max_iter`` is reported ``max_iterations`` (feasible, not certified).

    ``iterations``: the most any run needed; ``evaluations``: per-image evaluations of
    (V, B): 2|Γ| per iteration per run, plus N per model for E[V](0), N at α̃ and N per
    repair step. Extras: ``alpha_penalty`` (α̃ of the chosen model), ``zo_iterations``
    (the most iterations of the row's runs).
    """

    name = "zo-sgd"
    optimality = "local"
    vectorized = True
    scope = "at its ZO-SGD point nor at α_th"
    options = {
        "alpha0": Option(0.5, "starting threshold α_0", kind="float", parse=_alpha0),
        "penalty": Option(5.0, "penalty parameter p of the scaled violation", kind="float",
                          parse=positive),
        "step": Option(0.01, "step size η in units of α_th (the scaled objective's slopes are "
                       "O(1))", kind="float", parse=positive),
        "smoothing": Option(0.02, "smoothing radius ν of the two-point estimate, in units of "
                            "α_th", kind="float", parse=positive),
        "decay": Option(0.05, "step schedule η_t = η / (1 + decay·t)", kind="float",
                        parse=non_negative),
        "batch_size": Option(None, "mini-batch |Γ_t| of images (default: every image of the "
                             "table)", kind="int", parse=_batch),
        "max_iter": Option(500, "iteration cap per run (model and SNR)", kind="int",
                           parse=positive_int),
        "tol": Option(1e-3, "ξ: converged when the last `window` iterates lie within tol·α_th",
                      kind="float", parse=non_negative),
        "window": Option(10, "iterates the stopping rule looks back on", kind="int",
                         parse=_window),
        "scaling": Option("log", "penalty formulation: log (ln E[V], ln of the rate over the "
                          "cap) or linear (E[V]/E[V](0), rate/cap − 1)", kind="str",
                          choices=("log", "linear")),
        "direction": Option("uniform", "direction m of the two-point estimate: U[−1, 1] (the "
                            "paper) or ±1", kind="str", choices=tuple(DIRECTIONS)),
        "repair_steps": Option(20, "bisection steps of the feasibility repair (full image set)",
                               kind="int", parse=_repair_steps),
        "seed": Option(0, "seed of the mini-batches and directions (a run's stream depends "
                       "only on the seed, the model and the cap)", kind="int", parse=_seed),
    }

    def solve(self, inputs: GvifInputs) -> GvifSolution:
        problem, curves = self.problem, self.problem.curves
        n_models = inputs.models_ok.shape[1]
        first, inverse = unique_rows(inputs)
        allowed = inputs.models_ok[first]                                 # (U, P)
        run_row, run_model = np.nonzero(allowed)                          # runs = (row, model)
        cap = inputs.cap_bits[first][run_row]
        amax = problem.alpha_max
        n_images = curves.n_images if curves.has_per_image else 1
        models_used = np.flatnonzero(np.any(allowed, axis=0))
        gvif0, _ = curves.expected(np.arange(n_models), np.zeros(n_models))
        v0 = np.maximum(gvif0[run_model], _TINY)
        penalty, log_scale = self.penalty, self.scaling == "log"

        def fn(x: np.ndarray, idx: np.ndarray, runs: np.ndarray) -> np.ndarray:
            if curves.has_per_image:
                v, b = curves.per_image(run_model[runs], x[:, 0])
                return np.stack([np.take_along_axis(v, idx, axis=1),
                                 np.take_along_axis(b, idx, axis=1)], axis=2)
            v, b = curves.expected(run_model[runs], x[:, 0])
            return np.stack([v, b], axis=1)[:, None, :]

        def outer(means: np.ndarray, runs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            g = np.maximum(means[:, 0], _TINY)
            rate, c, g0 = means[:, 1], cap[runs], v0[runs]
            if log_scale:
                viol = np.maximum(0.0, np.log(rate / c))
                value = -np.log(g / g0) + penalty * viol**2
                grad = np.stack([-1.0 / g, 2.0 * penalty * viol / rate], axis=1)
            else:
                viol = np.maximum(0.0, rate / c - 1.0)
                value = -g / g0 + penalty * viol**2
                grad = np.stack([-1.0 / g0, 2.0 * penalty * viol / c], axis=1)
            return value, grad

        evaluations = n_images * models_used.size
        n_runs = run_row.size
        alpha_tilde = np.zeros(n_runs)
        converged_run = np.ones(n_runs, dtype=bool)
        iterations_run = np.zeros(n_runs, dtype=int)
        if n_runs and amax > 0:
            res = zo_sgd(fn, outer, np.full((n_runs, 1), min(self.alpha0, amax)), lower=[0.0],
                         upper=[amax], n_samples=n_images, batch_size=self.batch_size,
                         step=self.step, smoothing=self.smoothing, decay=self.decay,
                         max_iter=self.max_iter, tol=self.tol, window=self.window,
                         direction=self.direction,
                         keys=derive_keys(self.seed, run_model, cap))
            alpha_tilde = res.x[:, 0]
            converged_run, iterations_run = res.converged, res.iterations
            evaluations += int(res.evaluations.sum())
        # Feasibility repair on the full image set.
        alpha, (gvif, rate) = alpha_tilde.copy(), curves.expected(run_model, alpha_tilde)
        evaluations += n_images * n_runs
        over = np.flatnonzero(rate > cap)
        if over.size:
            top_v, top_b = curves.expected(run_model[over], np.full(over.size, amax))
            evaluations += n_images * over.size
            ok_top = top_b <= cap[over]
            lo, hi = alpha_tilde[over].copy(), np.full(over.size, amax)
            hi_v, hi_b = top_v, top_b
            fix = np.flatnonzero(ok_top)
            for _ in range(self.repair_steps if fix.size else 0):
                mid = 0.5 * (lo[fix] + hi[fix])
                v_mid, b_mid = curves.expected(run_model[over[fix]], mid)
                evaluations += n_images * fix.size
                fits = b_mid <= cap[over[fix]]
                hi[fix] = np.where(fits, mid, hi[fix])
                hi_v[fix] = np.where(fits, v_mid, hi_v[fix])
                hi_b[fix] = np.where(fits, b_mid, hi_b[fix])
                lo[fix] = np.where(fits, lo[fix], mid)
            alpha[over], gvif[over], rate[over] = hi, hi_v, hi_b
        feasible = rate <= cap
        # Eq. 39 per distinct row; rows without a feasible run return their least-rate run.
        n_unique = first.size
        score = np.full((n_unique, n_models), -np.inf)
        score[run_row[feasible], run_model[feasible]] = gvif[feasible]
        least = np.full((n_unique, n_models), np.inf)
        least[run_row, run_model] = rate
        run_index = np.full((n_unique, n_models), -1)
        run_index[run_row, run_model] = np.arange(n_runs)
        found_u = np.any(np.isfinite(score), axis=1)
        pick = np.where(found_u, np.argmax(score, axis=1), np.argmin(least, axis=1))
        any_u = np.any(allowed, axis=1)
        chosen = run_index[np.arange(n_unique), pick]
        per_model_u = np.full((n_unique, n_models), np.nan)
        per_model_u[run_row[feasible], run_model[feasible]] = alpha[feasible]
        conv_u = np.ones(n_unique, dtype=bool)
        np.logical_and.at(conv_u, run_row, converged_run)
        its_u = np.zeros(n_unique, dtype=int)
        np.maximum.at(its_u, run_row, iterations_run)
        take = np.where(any_u, chosen, 0)
        model_u = np.where(any_u, pick, -1)
        alpha_u = np.where(any_u, alpha[take] if n_runs else np.nan, np.nan)
        tilde_u = np.where(any_u, alpha_tilde[take] if n_runs else np.nan, np.nan)
        return GvifSolution(
            model=model_u[inverse], alpha=alpha_u[inverse], claimed=found_u[inverse],
            converged=conv_u[inverse], alpha_per_model=per_model_u[inverse],
            iterations=int(iterations_run.max(initial=0)), evaluations=int(evaluations),
            scope=self.scope,
            batch_extras={"alpha_penalty": tilde_u[inverse], "zo_iterations": its_u[inverse]})
