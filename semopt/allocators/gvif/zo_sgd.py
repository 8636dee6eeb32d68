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


def _optional_positive(value: Any, name: str) -> float | None:
    return None if value is None else positive(value, name)


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

    with two-point estimates of dL/dα on mini-batches of images (all images by default),
    directions m ~ U[−1, 1], the step η_t = η / (1 + decay·t) with each move clipped to
    ``max_step``, and step, smoothing, clip and tolerances in units of α's range α_th. Both
    scalings have the same minimizers as eq. 32 as p → ∞ (ln is increasing); the log form
    keeps the slopes of both terms within O(0.1–10) at every SNR (E[B] falls roughly
    exponentially in α), so one step size fits the whole range.

    **Stopping rule.** A run has stalled when its last ``window`` iterates lie within
    ``tol``·α_th (Algorithm 1's ‖α_{t+1} − α_t‖ < ξ, on a window). A stall is accepted as
    convergence only if the full-image L passes a stationarity test at that point (central
    differences at ±ν): the Newton estimate |L'/L''| of the distance to a stationary point
    is at most ``stationarity_tol``, or the point sits on a bound L pushes against, or the
    linear model of L promises at most ``decrease_tol`` anywhere in the box (L is flat);
    otherwise the step schedule restarts and the run goes on. A row whose runs did not all
    converge within ``max_iter`` is reported ``max_iterations`` (feasible, not certified).

    **Feasibility repair.** A finite penalty leaves the stationary point slightly
    infeasible, so where the full-image E[B] at the ZO-SGD point α̃ exceeds the cap,
    bisection on [α̃, α_th] (``repair_steps`` full-image evaluations) returns the smallest
    feasible α it finds; if even α_th does not fit, the model is infeasible. α = 0 replaces
    the result wherever E[B](0) fits (E[V] is largest there; the run-length mask bits make
    E[B] slightly non-monotone just above 0, which can hide it from α̃). Eq. 39 then picks
    the model.

    ``iterations``: the most any run needed; ``evaluations``: per-image evaluations of
    (V, B): 2|Γ| per iteration per run and 3N per stationarity test, plus N per model for
    E[V](0), N at α̃, at α_th, per repair step and at α = 0. Extras: ``alpha_penalty``
    (α̃ of the chosen model, before the repair), ``zo_iterations`` (the most iterations of
    the row's runs).
    """

    name = "zo-sgd"
    optimality = "local"
    vectorized = True
    scope = "at its ZO-SGD point nor at α_th"
    options = {
        "alpha0": Option(0.5, "starting threshold α_0", kind="float", parse=_alpha0),
        "penalty": Option(5.0, "penalty parameter p of the scaled violation", kind="float",
                          parse=positive),
        "step": Option(0.03, "step size η in units of α_th (the scaled objective's slopes are "
                       "O(0.1–10))", kind="float", parse=positive),
        "smoothing": Option(0.02, "smoothing radius ν of the two-point estimate, in units of "
                            "α_th", kind="float", parse=positive),
        "decay": Option(0.05, "step schedule η_t = η / (1 + decay·t)", kind="float",
                        parse=non_negative),
        "max_step": Option(0.05, "largest move of α per iteration, in units of α_th (gradient "
                           "clipping; None: unclipped)", kind="float", parse=_optional_positive),
        "batch_size": Option(None, "mini-batch |Γ_t| of images (default: every image of the "
                             "table)", kind="int", parse=_batch),
        "max_iter": Option(1000, "iteration cap per run (model and SNR)", kind="int",
                           parse=positive_int),
        "tol": Option(1e-3, "ξ: converged when the last `window` iterates lie within tol·α_th",
                      kind="float", parse=non_negative),
        "window": Option(10, "iterates the stopping rule looks back on", kind="int",
                         parse=_window),
        "stationarity_tol": Option(0.01, "a stalled run converges only if |L'/L''| (full "
                                   "image set) is at most this, in units of α_th, or it sits on "
                                   "a bound L pushes against", kind="float", parse=positive),
        "decrease_tol": Option(0.005, "… or the full-image linear model of L promises at most this "
                               "decrease within [0, α_th] (L ≈ −ln E[V]: a relative GVIF gain)",
                               kind="float", parse=positive),
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
        checks = [0]
        h = self.smoothing

        def certify(x: np.ndarray, runs: np.ndarray) -> np.ndarray:
            # Full-image L at u - h, u, u + h (clipped to the box): the Newton estimate
            # |L'/L''| of the distance to a stationary point must be below stationarity_tol,
            # or the point sits on a bound that L pushes against, or L is flat there.
            u = x[:, 0] / amax
            a, c = np.maximum(u - h, 0.0), np.minimum(u + h, 1.0)
            n = runs.size
            v, b = curves.expected(np.tile(run_model[runs], 3), amax * np.concatenate([a, u, c]))
            checks[0] += 3 * n_images * n
            f = outer(np.stack([v, b], axis=1), np.tile(runs, 3))[0]
            fa, fb, fc = f[:n], f[n:2 * n], f[2 * n:]
            with np.errstate(divide="ignore", invalid="ignore"):
                left = np.where(u > a, (fb - fa) / (u - a), np.nan)      # slopes either side
                right = np.where(c > u, (fc - fb) / (c - u), np.nan)
                both = np.isfinite(left) & np.isfinite(right)
                slope = np.where(both, (left * (c - u) + right * (u - a)) / (c - a),
                                 np.where(np.isfinite(left), left, right))
                curvature = np.where(both, 2.0 * (right - left) / (c - a), np.nan)
                newton = np.abs(slope) / curvature
            at_lower = (u <= 0.0) & (right >= 0.0)
            at_upper = (u >= 1.0) & (left <= 0.0)
            inside = (curvature > 0) & (newton <= self.stationarity_tol)
            # Flat: the linear model of L promises at most decrease_tol anywhere in the box.
            promise = np.where(slope > 0, slope * u, -slope * (1.0 - u))
            return at_lower | at_upper | inside | (promise <= self.decrease_tol)

        n_runs = run_row.size
        alpha_tilde = np.zeros(n_runs)
        converged_run = np.ones(n_runs, dtype=bool)
        iterations_run = np.zeros(n_runs, dtype=int)
        if n_runs and amax > 0:
            res = zo_sgd(fn, outer, np.full((n_runs, 1), min(self.alpha0, amax)), lower=[0.0],
                         upper=[amax], n_samples=n_images, batch_size=self.batch_size,
                         step=self.step, smoothing=self.smoothing, decay=self.decay,
                         max_step=self.max_step,
                         max_iter=self.max_iter, tol=self.tol, window=self.window,
                         direction=self.direction, certify=certify,
                         keys=derive_keys(self.seed, run_model, cap))
            alpha_tilde = res.x[:, 0]
            converged_run, iterations_run = res.converged, res.iterations
            evaluations += int(res.evaluations.sum()) + checks[0]
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
        # E[V] is largest at α = 0 (every element sent): take it wherever it fits. (The mask
        # bits make E[B] slightly non-monotone just above 0, which can hide this from α̃.)
        above = np.flatnonzero(alpha > 0)
        if above.size:
            v0_full, b0_full = curves.expected(run_model[above], np.zeros(above.size))
            evaluations += n_images * above.size
            zero = b0_full <= cap[above]
            pick = above[zero]
            alpha[pick], gvif[pick], rate[pick] = 0.0, v0_full[zero], b0_full[zero]
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
