"""Max-fidelity (GVIF) allocation: filtering threshold α and source coder Φ (Huang et al.).

Problem ``gvif`` (eq. 31). Given a GVIF table (:class:`semopt.tables.gvif.GvifTable`) of
source coders Φ_1 … Φ_P with distortions D(Φ) and, per α, the expected GVIF E[V](Φ, α)
and expected rate E[B](Φ, α) in bits per image::

    maximize_{α, Φ}   E_x[ V(Φ, α; x) ]
    subject to        E_x[ B(Φ, α; x) ] / (W log2(1 + snr)) ≤ T_max       (31a, latency)
                      Φ ∈ {Φ_1, …, Φ_P},   D(Φ) ≤ D_0                    (31b, 31c)
                      0 ≤ α ≤ α_th                                        (31d)

with W the bandwidth (1 MHz default). Arguments of ``allocate(snr, budget, target)``:

``snr``
    Receive SNR |h|²/σ² in dB (scalar, or any array shape = a batch of channel states).
``budget``
    The latency cap T_max in seconds (``0.02`` or ``"20 ms"``).
``target``
    The distortion cap D_0: an MSE on the 0…255 scale (``65.0``), a PSNR floor written
    ``"30dB"`` (D_0 = 255² / 10^(30/10)), or ``None`` (no distortion constraint).

Methods (all pick the model by eq. 39: the feasible Φ with the largest E[V] at its α*):

``exact`` (default)
    For one model both E[V] and the ŷ-part of E[B] are non-increasing in α, so the
    optimum is the smallest feasible α. With per-image arrays in the table every
    breakpoint of the step functions is evaluated once (all distinct importance values
    ≤ α_th); the answer is the first breakpoint whose E[B] fits the cap (a binary search
    on the running minimum of E[B], which stays exact even where the few run-length mask
    bits make E[B] non-monotone by a few bits). Tables without per-image arrays use
    their α grid.
``zo-sgd``
    The paper's Algorithm 1: quadratic penalty ``L(α) = −E[V] + p·max(0, E[B]/(C T_max) − 1)²``
    minimized by projected two-point zeroth-order SGD on mini-batches of images
    (:func:`solvers.zo_sgd.zo_sgd`, α_0 = 0.5), then a feasibility repair (α raised in
    steps of ν until the full-dataset E[B] fits) so the returned point is feasible.
``per-image``
    One α per image, ``max (1/N) Σ_n V_n(α_n) s.t. (1/N) Σ_n B_n(α_n) ≤ C T_max``, by a
    single Lagrange multiplier μ (each image maximizes V_n − μ B_n over its achievable
    sets; bisection on μ), a greedy fill of the budget left at the critical μ, and a
    final comparison with the shared-α optimum, so it never returns less than ``exact``.
``no-filtering``
    α = 0 (every latent element sent) with the best feasible model: the paper's
    "VAE-based source coding without filtering" baseline.

``Allocation`` fields: ``objective`` = expected GVIF; ``perception`` = D(Φ) of the chosen
model (MSE, the constrained quantity); ``latency_s`` = E[B] / (W log2(1 + snr));
``power_w``, ``total_power_w``, ``error_rate`` are NaN (no power is allocated). Extras:
``alpha`` (the chosen α; for ``per-image`` the mean over images), ``model``, ``gvif``,
``rate_bits``, ``psnr_db``, ``cap_bits``, ``alpha_per_model`` (α*(Φ) of every model,
NaN where infeasible), and for ``per-image`` ``alpha_per_image`` and ``alpha_summary``.
An infeasible instance (no model meets D_0, or even α_th does not meet T_max) returns
``success=False``, ``status="infeasible"`` and the least achievable latency (or
distortion) in the message; its extras describe the least-latency point.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from semopt import tables
from semopt.registry import ProblemSpec, register_allocator, register_problem
from semopt.result import INFEASIBLE, MAX_ITERATIONS, OPTIMAL, Allocation
from semopt.tables.gvif import GvifTable
from semopt.units import parse_bandwidth, parse_db, parse_duration
from solvers.zo_sgd import quadratic_penalty, zo_sgd

__all__ = [
    "DEFAULT_TABLE",
    "ExactAllocator",
    "GvifAllocator",
    "NoFilteringAllocator",
    "PerImageAllocator",
    "ZoSgdAllocator",
    "parse_distortion_target",
]

DEFAULT_TABLE = "gvif-hyperprior-sample"

register_problem(ProblemSpec(
    name="gvif", default_method="exact",
    description="maximize the expected GVIF over the filtering threshold α and the source coder "
                "subject to a latency cap and a distortion cap (Huang et al.)",
    table_kinds=("gvif",), default_table=DEFAULT_TABLE))


def parse_distortion_target(target: Any) -> float:
    """D_0 as an MSE (0…255 scale): a number, ``"30dB"`` (PSNR floor) or ``None`` (inf)."""
    if target is None:
        return math.inf
    value, is_db = parse_db(target, "target")
    if not math.isfinite(value):
        raise ValueError(f"target: must be finite, got {target!r}")
    if is_db:
        return 255.0**2 / 10.0 ** (value / 10.0)
    if value <= 0:
        raise ValueError(f"target: the distortion cap D_0 (MSE) must be positive, got {target!r}")
    return value


@dataclass
class _Solution:
    feasible: bool
    model: int = -1
    alpha: float = math.nan
    gvif: float = math.nan
    rate_bits: float = math.nan
    alpha_per_model: dict[str, float] = field(default_factory=dict)
    alpha_per_image: np.ndarray | None = None
    iterations: int = 0
    evaluations: int = 0
    converged: bool = True
    note: str = ""


class GvifAllocator:
    """Shared machinery of the ``gvif`` methods (see the module docstring).

    Parameters
    ----------
    table : str, path or GvifTable
        Default: the shipped ``gvif-hyperprior-sample``.
    bandwidth_hz : float or str
        Channel bandwidth W (default 1 MHz; ``"1 MHz"`` accepted).
    alpha_max : float, optional
        α_th (default: the table's, 0.8 for the shipped one).
    models : sequence of str, optional
        Restrict the candidate models (the reference of eq. 27 stays the table's).
    """

    name = "base"
    problem = "gvif"

    def __init__(self, *, table: str | GvifTable = DEFAULT_TABLE, bandwidth_hz: float | str = 1e6,
                 alpha_max: float | None = None, models: Sequence[str] | None = None) -> None:
        loaded = tables.load(table)
        if not isinstance(loaded, GvifTable):
            raise ValueError(f"table: {loaded.name!r} is a {loaded.kind!r} table; the gvif problem "
                             "needs a 'gvif' table")
        self.table = loaded
        self.bandwidth_hz = float(parse_bandwidth(bandwidth_hz, "bandwidth_hz"))
        if not (math.isfinite(self.bandwidth_hz) and self.bandwidth_hz > 0):
            raise ValueError(f"bandwidth_hz: must be positive, got {bandwidth_hz!r}")
        self.alpha_max = loaded.alpha_max if alpha_max is None else float(alpha_max)
        if not 0 <= self.alpha_max <= 1:
            raise ValueError(f"alpha_max: must lie in [0, 1], got {alpha_max!r}")
        if models is None:
            self.candidates = list(range(len(loaded.models)))
        else:
            self.candidates = [loaded.model_index(m) for m in models]
            if not self.candidates:
                raise ValueError("models: give at least one model name")
        self._bp: dict[int, Any] = {}

    # -------------------------------------------------------------------- helpers
    def breakpoints(self, p: int) -> Any:
        """Cached :meth:`GvifTable.breakpoints` of model ``p`` with a running minimum of E[B]."""
        if p not in self._bp:
            bp = self.table.breakpoints(p, self.alpha_max)
            self._bp[p] = (bp, np.minimum.accumulate(bp.rate_bits))
        return self._bp[p]

    def _exact_model(self, p: int, cap: float) -> tuple[bool, int, Any]:
        bp, run_min = self.breakpoints(p)
        k = int(np.searchsorted(-run_min, -cap, side="left"))  # first k with min(E[B][:k+1]) ≤ cap
        return k < bp.alpha.size, k, bp

    def _solve(self, feasible_models: list[int], cap: float) -> _Solution:  # pragma: no cover
        raise NotImplementedError

    def _least_latency(self, feasible_models: list[int]) -> tuple[int, float, float, float]:
        best = (-1, math.nan, math.nan, math.inf)
        for p in feasible_models:
            bp, _ = self.breakpoints(p)
            k = int(np.argmin(bp.rate_bits))
            if bp.rate_bits[k] < best[3]:
                best = (p, float(bp.alpha[k]), float(bp.gvif[k]), float(bp.rate_bits[k]))
        return best

    # -------------------------------------------------------------------- entry point
    def allocate(self, snr: Any, budget: Any, target: Any) -> Allocation:
        """Solve eq. 31 for every SNR (see the module docstring for the arguments)."""
        start = time.perf_counter()
        snr_db = np.asarray(snr, dtype=float)
        if snr_db.size == 0 or np.any(~np.isfinite(snr_db)):
            raise ValueError(f"snr: must be finite numbers in dB, got {snr!r}")
        t_max = np.asarray(parse_duration(budget, "budget"), dtype=float)
        if np.any(~np.isfinite(t_max)) or np.any(t_max <= 0):
            raise ValueError(f"budget: the latency cap T_max must be positive seconds, got {budget!r}")
        try:
            snr_b, t_b = np.broadcast_arrays(snr_db, t_max)
        except ValueError:
            raise ValueError(f"budget: shape {t_max.shape} does not broadcast with snr {snr_db.shape}") \
                from None
        d0 = parse_distortion_target(target)
        d = self.table.distortion_mse
        feasible_models = [p for p in self.candidates if d[p] <= d0]
        capacity = self.bandwidth_hz * np.log2(1.0 + 10.0 ** (snr_b / 10.0))
        caps = t_b * capacity
        shape = snr_b.shape
        names = self.table.model_names
        sols = [self._solve(feasible_models, float(c)) if feasible_models else _Solution(False)
                for c in caps.ravel()]
        least = self._least_latency(feasible_models) if feasible_models else None
        out: dict[str, list[Any]] = {k: [] for k in ("success", "status", "alpha", "model", "gvif",
                                                      "rate_bits", "psnr_db", "perception")}
        per_model: dict[str, list[float]] = {names[p]: [] for p in self.candidates}
        messages = []
        iterations = evaluations = 0
        per_image_alpha = []
        for sol, cap, cap_s in zip(sols, caps.ravel(), capacity.ravel()):
            iterations += sol.iterations
            evaluations += sol.evaluations
            for p in self.candidates:
                per_model[names[p]].append(sol.alpha_per_model.get(names[p], math.nan))
            if sol.feasible:
                status = OPTIMAL if sol.converged else MAX_ITERATIONS
                p, alpha, v, b = sol.model, sol.alpha, sol.gvif, sol.rate_bits
                messages.append(f"{self.name}: model {names[p]}, α = {alpha:.4g}, E[GVIF] = {v:.4f}, "
                                f"E[B] = {b:.0f} bits ≤ cap {cap:.0f} bits "
                                f"(latency {1e3 * b / cap_s:.3g} ms){sol.note}")
            elif least is None:
                status = INFEASIBLE
                p, alpha, v, b = -1, math.nan, math.nan, math.nan
                best = min(d[q] for q in self.candidates)
                messages.append(f"{self.name}: no model meets D_0 = {d0:.4g} (MSE); the least distortion "
                                f"is {best:.4g} (PSNR {10 * math.log10(255**2 / best):.2f} dB)")
            else:
                status = INFEASIBLE
                p, alpha, v, b = least
                messages.append(f"{self.name}: latency cap infeasible: the least expected latency is "
                                f"{1e3 * b / cap_s:.4g} ms (model {names[p]}, α = {alpha:.3g}, "
                                f"{b:.0f} bits) > T_max; cap is {cap:.0f} bits")
            out["success"].append(bool(sol.feasible))
            out["status"].append(status)
            out["alpha"].append(alpha)
            out["model"].append(names[p] if p >= 0 else "")
            out["gvif"].append(v)
            out["rate_bits"].append(b)
            out["perception"].append(d[p] if p >= 0 else math.nan)
            out["psnr_db"].append(self.table.models[p].psnr_db if p >= 0 else math.nan)
            per_image_alpha.append(sol.alpha_per_image)

        def shaped(values: list[Any], dtype: Any = float) -> Any:
            arr = np.asarray(values, dtype=dtype).reshape(shape)
            return arr.item() if arr.ndim == 0 else arr

        rate = np.asarray(out["rate_bits"], dtype=float).reshape(shape)
        latency = rate / capacity
        extras: dict[str, Any] = {
            "alpha": shaped(out["alpha"]), "model": shaped(out["model"], object)
            if shape else out["model"][0], "gvif": shaped(out["gvif"]),
            "rate_bits": shaped(out["rate_bits"]), "psnr_db": shaped(out["psnr_db"]),
            "cap_bits": shaped(list(caps.ravel())), "distortion_cap_mse": d0,
            "bandwidth_hz": self.bandwidth_hz, "table": self.table.name,
            "alpha_per_model": {k: shaped(v) for k, v in per_model.items()},
        }
        if shape:
            extras["model"] = np.asarray(out["model"], dtype=str).reshape(shape)
        if any(a is not None for a in per_image_alpha):
            if not shape:
                a = per_image_alpha[0]
                extras["alpha_per_image"] = a
                if a is not None:
                    extras["alpha_summary"] = {"min": float(a.min()), "mean": float(a.mean()),
                                               "median": float(np.median(a)), "max": float(a.max()),
                                               "images": list(self.table.images)}
            else:
                extras["alpha_per_image"] = np.asarray(
                    [a if a is not None else np.full(self.table.n_images, np.nan)
                     for a in per_image_alpha]).reshape(shape + (-1,))
        nan_w = np.full(shape + (1,), np.nan)
        message = messages[0] if not shape else (
            f"{self.name}: {int(np.sum(out['success']))} of {len(sols)} channel states feasible")
        return Allocation(
            method=self.name, problem=self.problem,
            success=shaped(out["success"], bool), status=shaped(out["status"], object)
            if shape else out["status"][0], message=message,
            power_w=nan_w, total_power_w=shaped([math.nan] * len(sols)), error_rate=nan_w,
            perception=shaped(out["perception"]), objective=shaped(out["gvif"]),
            latency_s=latency.item() if latency.ndim == 0 else latency,
            iterations=iterations, evaluations=evaluations,
            wall_time_s=time.perf_counter() - start, extras=extras)


@register_allocator("gvif", "exact")
class ExactAllocator(GvifAllocator):
    """Smallest feasible α per model over every breakpoint, then eq. 39 (module docstring)."""

    def _solve(self, feasible_models: list[int], cap: float) -> _Solution:
        best = _Solution(False)
        names = self.table.model_names
        for p in feasible_models:
            ok, k, bp = self._exact_model(p, cap)
            best.evaluations += bp.alpha.size
            best.alpha_per_model[names[p]] = float(bp.alpha[k]) if ok else math.nan
            if ok and (not best.feasible or bp.gvif[k] > best.gvif):
                best.feasible, best.model = True, p
                best.alpha, best.gvif, best.rate_bits = float(bp.alpha[k]), float(bp.gvif[k]), \
                    float(bp.rate_bits[k])
        best.iterations = len(feasible_models)
        return best


@register_allocator("gvif", "no-filtering")
class NoFilteringAllocator(GvifAllocator):
    """α = 0 (no semantic filtering) with the best feasible model (the paper's VAE baseline)."""

    def _solve(self, feasible_models: list[int], cap: float) -> _Solution:
        best = _Solution(False)
        names = self.table.model_names
        for p in feasible_models:
            bp, _ = self.breakpoints(p)
            ok = bool(bp.rate_bits[0] <= cap)
            best.evaluations += 1
            best.alpha_per_model[names[p]] = float(bp.alpha[0]) if ok else math.nan
            if ok and (not best.feasible or bp.gvif[0] > best.gvif):
                best.feasible, best.model = True, p
                best.alpha, best.gvif, best.rate_bits = float(bp.alpha[0]), float(bp.gvif[0]), \
                    float(bp.rate_bits[0])
        best.iterations = len(feasible_models)
        return best


@register_allocator("gvif", "zo-sgd")
class ZoSgdAllocator(GvifAllocator):
    """The paper's Algorithm 1 (zeroth-order SGD on the quadratic penalty), then eq. 39.

    Parameters
    ----------
    alpha0 : float
        Starting threshold α_0 (0.5).
    penalty : float
        p of eq. 33, applied to the normalized violation ``E[B]/(C T_max) − 1``.
    step, smoothing, decay : float
        η, ν, and the step schedule ``η_t = η / (1 + decay·t)``.
    batch_size, max_iter, patience : int
        |Γ_t|, the iteration cap, and how many consecutive small steps stop the loop.
    tol : float
        ξ of Algorithm 1 (stop when |α_{t+1} − α_t| < ξ).
    seed : int
        Seed of the mini-batches and directions (results are deterministic).
    **config
        Passed to :class:`GvifAllocator`.
    """

    def __init__(self, *, alpha0: float = 0.5, penalty: float = 100.0, step: float = 0.05,
                 smoothing: float = 0.02, decay: float = 0.02, batch_size: int = 8, max_iter: int = 300,
                 tol: float = 1e-4, patience: int = 5, seed: int = 0, **config: Any) -> None:
        super().__init__(**config)
        self.options = dict(penalty=penalty, step=step, smoothing=smoothing, decay=decay,
                            batch_size=batch_size, max_iter=max_iter, tol=tol, patience=patience)
        self.alpha0 = float(alpha0)
        self.seed = int(seed)

    def _fn(self, p: int, cap: float) -> tuple[Any, int]:
        table = self.table
        if table.has_per_image:
            def fn(x: np.ndarray, idx: np.ndarray) -> np.ndarray:
                v, b = table.per_image_values(p, float(x[0]), images=idx)
                return np.stack([v, b / cap - 1.0], axis=1)
            return fn, table.n_images

        def fn_grid(x: np.ndarray, idx: np.ndarray) -> np.ndarray:
            v, b = table.expected(p, float(x[0]))
            return np.array([[v, b / cap - 1.0]])
        return fn_grid, 1

    def _solve(self, feasible_models: list[int], cap: float) -> _Solution:
        best = _Solution(False)
        names = self.table.model_names
        opts = self.options
        for p in feasible_models:
            fn, n = self._fn(p, cap)
            res = zo_sgd(fn, quadratic_penalty(opts["penalty"]), [self.alpha0], lower=[0.0],
                         upper=[self.alpha_max], n_samples=n, batch_size=opts["batch_size"],
                         step=opts["step"], smoothing=opts["smoothing"], decay=opts["decay"],
                         max_iter=opts["max_iter"], tol=opts["tol"], patience=opts["patience"],
                         rng=np.random.default_rng([self.seed, p, int(cap)]))
            best.iterations += res.iterations
            best.evaluations += res.evaluations
            best.converged &= res.converged
            alpha = float(res.x[0])
            v, b = self.table.expected(p, alpha)
            best.evaluations += n
            # Feasibility repair: the penalty leaves a small violation; raise α by ν until E[B] fits.
            while b > cap and alpha < self.alpha_max:
                alpha = min(self.alpha_max, alpha + opts["smoothing"])
                v, b = self.table.expected(p, alpha)
                best.evaluations += n
            ok = b <= cap
            best.alpha_per_model[names[p]] = alpha if ok else math.nan
            if ok and (not best.feasible or v > best.gvif):
                best.feasible, best.model, best.alpha, best.gvif, best.rate_bits = True, p, alpha, v, b
        return best


@register_allocator("gvif", "per-image")
class PerImageAllocator(GvifAllocator):
    """One α per image by a single Lagrange multiplier on the average rate (module docstring).

    Parameters
    ----------
    mu_iterations : int
        Bisection steps on log μ (default 100).
    **config
        Passed to :class:`GvifAllocator`.
    """

    def __init__(self, *, mu_iterations: int = 100, **config: Any) -> None:
        super().__init__(**config)
        if not self.table.has_per_image:
            raise ValueError(f"table: per-image allocation needs the per-image arrays, which "
                             f"{self.table.name!r} does not have")
        self.mu_iterations = int(mu_iterations)
        self._cand: dict[int, Any] = {}

    def _candidates(self, p: int) -> Any:
        if p not in self._cand:
            alpha, v, b, valid = self.table.image_candidates(p, self.alpha_max)
            v = np.where(valid, v, -np.inf)
            self._cand[p] = (alpha, v, b, valid)
        return self._cand[p]

    def _choose(self, p: int, mu: float) -> np.ndarray:
        _, v, b, _ = self._candidates(p)
        return np.argmax(v - mu * b, axis=1)

    def _model(self, p: int, cap: float) -> tuple[bool, np.ndarray, float, float, int]:
        _, v, b, valid = self._candidates(p)
        rows = np.arange(v.shape[0])

        def rate(k: np.ndarray) -> float:
            return float(b[rows, k].mean())

        k0 = self._choose(p, 0.0)
        if rate(k0) <= cap:
            return True, k0, float(v[rows, k0].mean()), rate(k0), 1
        # Largest μ: every image takes its least-rate achievable set.
        k_min = np.argmin(np.where(valid, b, np.inf), axis=1)
        if rate(k_min) > cap:
            return False, k_min, float(v[rows, k_min].mean()), rate(k_min), 1
        lo, hi = -30.0, 5.0          # log10 μ: rate(10^lo) > cap (checked), rate(10^hi) ≤ cap
        k_hi = self._choose(p, 10.0**hi)
        while rate(k_hi) > cap:      # pragma: no cover - only for huge rate scales
            hi += 5.0
            k_hi = self._choose(p, 10.0**hi)
        its = 2
        for _ in range(self.mu_iterations):
            mid = 0.5 * (lo + hi)
            k = self._choose(p, 10.0**mid)
            its += 1
            if rate(k) <= cap:
                hi, k_hi = mid, k
            else:
                lo = mid
            if hi - lo < 1e-12:
                break
        k_lo = self._choose(p, 10.0**lo)
        # Greedy fill: move images from their μ_hi choice to their μ_lo choice, best ΔV/ΔB first.
        k = k_hi.copy()
        dv = v[rows, k_lo] - v[rows, k_hi]
        db = b[rows, k_lo] - b[rows, k_hi]
        spare = cap * v.shape[0] - float(b[rows, k].sum())
        movers = np.flatnonzero((dv > 0) & (k_lo != k_hi))
        order = movers[np.argsort(-dv[movers] / np.maximum(db[movers], 1e-12), kind="stable")]
        for i in order:
            if db[i] <= spare:
                k[i] = k_lo[i]
                spare -= max(db[i], 0.0)
        return True, k, float(v[rows, k].mean()), rate(k), its

    def _solve(self, feasible_models: list[int], cap: float) -> _Solution:
        best = _Solution(False)
        names = self.table.model_names
        for p in feasible_models:
            alpha_c, _, _, valid = self._candidates(p)
            ok, k, ev, eb, its = self._model(p, cap)
            best.iterations += its
            best.evaluations += int(valid.sum())
            alphas = alpha_c[np.arange(k.size), k]
            # Never below one shared α (which is one feasible per-image choice).
            shared_ok, ks, bp = self._exact_model(p, cap)
            if shared_ok and (not ok or bp.gvif[ks] > ev):
                ok, ev, eb = True, float(bp.gvif[ks]), float(bp.rate_bits[ks])
                alphas = np.full(k.size, float(bp.alpha[ks]))
            best.alpha_per_model[names[p]] = float(np.mean(alphas)) if ok else math.nan
            if ok and (not best.feasible or ev > best.gvif):
                best.feasible, best.model, best.gvif, best.rate_bits = True, p, ev, eb
                best.alpha, best.alpha_per_image = float(np.mean(alphas)), alphas
        return best


METHODS = {"exact": ExactAllocator, "zo-sgd": ZoSgdAllocator, "per-image": PerImageAllocator,
           "no-filtering": NoFilteringAllocator}
