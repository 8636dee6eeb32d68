"""The max-fidelity (GVIF) problem of Huang et al.: filtering threshold α and source coder Φ.

Given a GVIF table (:class:`semopt.tables.gvif.GvifTable`) of source coders Φ_1 … Φ_P with
distortions D(Φ) and, per α, the expected GVIF E[V](Φ, α) and the expected rate
E[B](Φ, α) in bits per image, the problem (eq. 31) is::

    maximize_{α, Φ}   E_x[ V(Φ, α; x) ]
    subject to        E_x[ B(Φ, α; x) ] / (W log2(1 + snr)) ≤ T_max       (31a, latency)
                      Φ ∈ {Φ_1, …, Φ_P},   D(Φ) ≤ D_0                    (31b, 31c)
                      0 ≤ α ≤ α_th                                        (31d)

with W the bandwidth (``bandwidth_hz``, 1 MHz by default, as in the paper). The three
call arguments of ``allocate(snr, budget, target)``:

``snr``
    Receive SNR |h|²/σ² in dB, one per realization: a scalar or shape ``(B,)`` (any
    array shape is a batch). No power is allocated, so there is no reference power.
``budget``
    The latency cap T_max in s (``0.02`` or ``"20 ms"``); broadcasts against ``snr``.
``target``
    The distortion cap D_0: a PSNR floor written in dB (``"30dB"``, D_0 = 255² / 10³),
    an MSE on the 0…255 scale (``65.0``), or ``None`` / ``"none"`` (no cap). It caps the
    coder's distortion D(Φ) of eq. 12 (mean per-image MSE of the unfiltered
    reconstruction), a property of the model independent of α: our reading of the
    paper's "minimal mask PSNR of the interested region" (the critical pixels are coded
    by Φ).

The problem owns the shared, table-only work: :attr:`GvifProblem.curves` (every
breakpoint of E[V] and E[B] of every model, and the per-image values at every
importance-sorted position) is built once per table object and α_th and cached, so a
batch of SNRs, a later call, or another problem on the same loaded table reuses it.
:meth:`GvifProblem.assemble` rechecks every row: the expected GVIF and rate are
recomputed from the returned model and α with the table's per-image arrays (or its
grid), the latency from the rate and the capacity, the
distortion from the model; only a row that meets T_max and D_0 when rechecked (and whose
method certified convergence) is ``optimal``. Infeasible rows return the least expected
latency any model meeting D_0 can reach (a true number, in the message and in the
``least_latency_s`` extra).
"""

from __future__ import annotations

import math
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from semopt.options import Option
from semopt.problems.base import Problem
from semopt.registry import register_problem
from semopt.result import (
    INFEASIBLE,
    MAX_ITERATIONS,
    NUMERICAL_ERROR,
    OPTIMAL,
    STATUS_DTYPE,
    Allocation,
    build_allocation,
)
from semopt.tables.gvif import GvifTable
from semopt.units import as_float_array, parse_bandwidth, parse_db, parse_duration, parse_snr_db

__all__ = [
    "LATENCY_RTOL",
    "GvifCurves",
    "GvifEnvelope",
    "GvifInputs",
    "GvifProblem",
    "GvifSolution",
    "parse_distortion_target",
]

LATENCY_RTOL = 1e-12
"""Relative tolerance of the latency recheck (E[B] ≤ C·T_max·(1 + LATENCY_RTOL))."""
PEAK = 255.0
"""Peak pixel value of the PSNR ↔ MSE conversion (8-bit images)."""
_SHARED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
"""table -> {α_th: (GvifCurves, envelopes by allowed-model set)}, shared by problems."""


def _psnr_db(mse: np.ndarray | float) -> np.ndarray:
    with np.errstate(divide="ignore"):
        return 10.0 * np.log10(PEAK**2 / np.asarray(mse, dtype=float))


def _one_distortion_target(value: Any) -> float:
    if value is None or (isinstance(value, str) and value.strip().lower() in ("none", "")):
        return math.inf
    number, is_db = parse_db(value, "target")
    if math.isnan(number):
        raise ValueError(f"target: the distortion cap D_0 must be a number, got {value!r}")
    if is_db:
        if not math.isfinite(number):
            raise ValueError(f"target: a PSNR floor must be finite, got {value!r}")
        return PEAK**2 / 10.0 ** (number / 10.0)
    if number <= 0:
        raise ValueError(f"target: the distortion cap D_0 (an MSE on the 0…255 scale) must be "
                         f"positive, got {value!r}; write a PSNR floor as '30dB'")
    return number


def parse_distortion_target(target: Any) -> float | np.ndarray:
    """D_0 as an MSE (0…255 scale) from a number, a PSNR floor ``"30dB"`` or ``None`` (inf).

    A sequence or array gives one cap per realization (an array of the same shape).

    Raises
    ------
    ValueError
        Naming ``target`` for a non-positive MSE, a non-finite PSNR, a bool, or a value
        in another unit (``"30 dBm"``).
    """
    if target is None or isinstance(target, str):
        return _one_distortion_target(target)
    if isinstance(target, (bool, np.bool_)):
        raise ValueError(f"target: expected a distortion cap, got the bool {target!r}")
    if isinstance(target, (Sequence, np.ndarray)):
        obj = np.asarray(target, dtype=object)
        out = np.empty(obj.shape)
        for index, item in np.ndenumerate(obj):
            if isinstance(item, (bool, np.bool_)):
                raise ValueError(f"target: expected a distortion cap, got the bool {item!r}")
            out[index] = _one_distortion_target(item if item is None or isinstance(item, str)
                                                else float(as_float_array(item, "target")))
        return out
    return _one_distortion_target(float(as_float_array(target, "target")))


class GvifInputs(NamedTuple):
    """Validated call data, flattened to B = prod(batch_shape) rows.

    ``snr_db`` (B,) receive SNR; ``t_max_s`` (B,) latency cap; ``d0_mse`` (B,) distortion
    cap (inf: none); ``capacity_bps`` (B,) W log2(1 + snr) in bit/s; ``cap_bits`` (B,)
    C·T_max, the largest E[B] that fits; ``models_ok`` (B, P): candidate models with
    D(Φ) ≤ D_0; ``patterns`` (U, P): the distinct rows of ``models_ok`` (a batch with one
    D_0 has one) and ``pattern`` (B,) the index of each row's; ``batch_shape`` of the call.
    """

    snr_db: np.ndarray
    t_max_s: np.ndarray
    d0_mse: np.ndarray
    capacity_bps: np.ndarray
    cap_bits: np.ndarray
    models_ok: np.ndarray
    patterns: np.ndarray
    pattern: np.ndarray
    batch_shape: tuple[int, ...]


class GvifSolution(NamedTuple):
    """What a GVIF method returns for B rows.

    Attributes
    ----------
    model : ndarray of int, shape (B,)
        Chosen model index; for a row the method could not solve, the least-latency point
        of its own search space (or -1: the problem then reports its own least-latency
        point).
    alpha : ndarray, shape (B,)
        The shared threshold α (for per-image solutions: their mean).
    claimed : ndarray of bool, shape (B,)
        The method's claim that the row meets T_max and D_0 (rechecked by the problem).
    converged : ndarray of bool, shape (B,)
        The method's own stopping criterion was met (False: it stopped at its cap).
    alpha_per_model : ndarray, shape (B, P)
        α*(Φ) per model (NaN where the method found none feasible or did not try).
    iterations, evaluations : int
        As defined by :class:`~semopt.result.Allocation`.
    scope : str
        The method's search space in words ("at any shared α ≤ α_th", "at α = 0"), used in
        the infeasibility message.
    alpha_per_image : ndarray, shape (B, N), optional
        One α per image (``per-image``); the recheck then evaluates each image at its own α.
    batch_extras : mapping, optional
        Method-specific per-row fields (leading axis B) passed to the result's extras.
    """

    model: np.ndarray
    alpha: np.ndarray
    claimed: np.ndarray
    converged: np.ndarray
    alpha_per_model: np.ndarray
    iterations: int
    evaluations: int
    scope: str = "at any shared α ≤ α_th"
    alpha_per_image: np.ndarray | None = None
    batch_extras: dict[str, Any] | None = None


@dataclass(frozen=True)
class GvifCurves:
    """Table-only curves of one problem (models × breakpoints, images × sorted positions).

    Built once per problem (:attr:`GvifProblem.curves`) from the table's per-image arrays
    (or its α grid when it has none) and shared by every method and every call.

    Attributes
    ----------
    alpha_max : float
        α_th of the problem.
    bp_alpha : ndarray, shape (K,)
        Breakpoints: every distinct importance value ≤ α_th of every image, plus α_th (the
        grid points ≤ α_th for a grid-only table). Any α in ``(bp_alpha[k-1], bp_alpha[k]]``
        selects the same sets as ``bp_alpha[k]``.
    bp_gvif, bp_rate_bits : ndarray, shape (P, K)
        E[V] and E[B] (bits per image) of each model at each breakpoint.
    bp_neg_run_min : ndarray, shape (P, K)
        ``−min(E[B][:k+1])``, increasing in k: the first k with E[B] ≤ cap is
        ``searchsorted(bp_neg_run_min[p], −cap)``.
    least_k : ndarray of int, shape (P,)
        The breakpoint of least E[B] of each model.
    sorted_alpha : ndarray, shape (N, Q + 1) or None
        Per image, the importance values in ascending order and a final ``inf``; column k
        stands for the set of the sorted positions ≥ k.
    image_gvif, image_rate_bits : ndarray, shape (P, N, Q + 1) or None
        V_n and B_n of that set (rate: ŷ bits of the set + ẑ bits + run-length mask bits).
    image_valid : ndarray of bool, shape (N, Q + 1) or None
        Columns reachable by some α ≤ α_th (the first of each tie group, and the set at α_th).
    image_alpha : ndarray, shape (N, Q + 1) or None
        An α that selects each valid column: ``min(sorted_alpha, α_th)``.
    grid_alpha : ndarray, shape (A,)
        The table's α grid; ``grid_gvif``, ``grid_rate_bits`` (P, A) its E[V] and E[B]
        curves (what a table without per-image arrays is evaluated on).
    """

    alpha_max: float
    bp_alpha: np.ndarray
    bp_gvif: np.ndarray
    bp_rate_bits: np.ndarray
    bp_neg_run_min: np.ndarray
    least_k: np.ndarray
    sorted_alpha: np.ndarray | None
    image_gvif: np.ndarray | None
    image_rate_bits: np.ndarray | None
    image_valid: np.ndarray | None
    image_alpha: np.ndarray | None
    grid_alpha: np.ndarray
    grid_gvif: np.ndarray
    grid_rate_bits: np.ndarray
    sorted_flat: np.ndarray | None = None

    @classmethod
    def build(cls, table: GvifTable, alpha_max: float) -> GvifCurves:
        """Every breakpoint curve and per-image array of ``table`` for α in [0, alpha_max]."""
        grid = table.alpha_grid
        grid_gvif, grid_rate = table.curves["gvif"], table.curves["rate_bits"]
        if not table.has_per_image:
            keep = grid <= alpha_max + 1e-12
            if not np.any(keep):
                raise ValueError(f"alpha_max: {alpha_max} is below the table's first α grid point")
            alpha, gv, rb = grid[keep], grid_gvif[:, keep], grid_rate[:, keep]
            return cls._finish(alpha_max, alpha, gv, rb, None, None, None, None, None,
                               grid, grid_gvif, grid_rate)
        n_models = len(table.models)
        columns = [table.image_candidates(p, alpha_max) for p in range(n_models)]
        image_gvif = np.stack([c[1] for c in columns])                          # (P, N, Q+1)
        image_rate = np.stack([c[2] for c in columns])
        importance = np.asarray(table.per_image["importance"], dtype=np.float64)
        n = importance.shape[0]
        flat = np.sort(importance.reshape(n, -1), axis=1)
        sorted_alpha = np.concatenate([flat, np.full((n, 1), np.inf)], axis=1)   # (N, Q+1)
        first = np.ones(sorted_alpha.shape, dtype=bool)
        first[:, 1:] = sorted_alpha[:, 1:] != sorted_alpha[:, :-1]
        k_at_max = np.sum(flat < alpha_max, axis=1)                              # set at α_th
        valid = first & (sorted_alpha <= alpha_max)
        valid[np.arange(n), k_at_max] = True
        image_alpha = np.minimum(sorted_alpha, alpha_max)
        # Breakpoints: every distinct importance value ≤ α_th, plus α_th itself.
        bp_alpha = np.unique(np.concatenate([flat[flat <= alpha_max], [alpha_max]]))
        k = _row_searchsorted(sorted_alpha, bp_alpha[:, None]).T                  # (N, K)
        rows = np.arange(n)[:, None]
        bp_gvif = image_gvif[:, rows, k].mean(axis=1)                              # (P, K)
        bp_rate = image_rate[:, rows, k].mean(axis=1)
        return cls._finish(alpha_max, bp_alpha, bp_gvif, bp_rate, sorted_alpha, image_gvif,
                           image_rate, valid, image_alpha, grid, grid_gvif, grid_rate)

    @classmethod
    def _finish(cls, alpha_max: float, alpha: np.ndarray, gvif: np.ndarray, rate: np.ndarray,
                *rest: Any) -> GvifCurves:
        neg_run_min = -np.minimum.accumulate(rate, axis=1)
        sorted_alpha = rest[0]
        flat = None if sorted_alpha is None else _shifted_rows(sorted_alpha)
        arrays = [alpha, gvif, rate, neg_run_min, np.argmin(rate, axis=1), *rest, flat]
        for arr in arrays:
            if isinstance(arr, np.ndarray):
                arr.setflags(write=False)
        return cls(float(alpha_max), *arrays)

    @property
    def has_per_image(self) -> bool:
        return self.sorted_alpha is not None

    @property
    def n_images(self) -> int:
        return 0 if self.sorted_alpha is None else int(self.sorted_alpha.shape[0])

    def columns(self, alpha: np.ndarray) -> np.ndarray:
        """Per-image column (set index) of thresholds ``alpha`` of shape (R, N): I ≥ α."""
        return _row_searchsorted(self.sorted_alpha, np.asarray(alpha, dtype=float), self.sorted_flat)

    def per_image(self, model: np.ndarray, alpha: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """V_n and B_n (R, N) of ``model`` (R,) at thresholds ``alpha`` (R,) or (R, N), any α."""
        model = np.asarray(model, dtype=int)
        alpha = np.asarray(alpha, dtype=float)
        n = self.n_images
        alpha_rows = np.broadcast_to(alpha[:, None] if alpha.ndim == 1 else alpha, (model.size, n))
        k = self.columns(alpha_rows)
        images = np.arange(n)[None, :]
        return (self.image_gvif[model[:, None], images, k],
                self.image_rate_bits[model[:, None], images, k])

    def expected(self, model: np.ndarray, alpha: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """E[V] and E[B] (R,) of ``model`` (R,) at ``alpha`` (R,) shared or (R, N) per image.

        With per-image arrays: exact at any α (the means of V_n, B_n of the sets I ≥ α);
        without: linear interpolation on the table's α grid (shared α only).
        """
        model = np.asarray(model, dtype=int)
        alpha = np.asarray(alpha, dtype=float)
        if alpha.ndim == 1 and model.size > 1:
            # A batch repeats few (model, α) pairs: evaluate each distinct pair once.
            order = np.lexsort((alpha, model))
            m_sorted, a_sorted = model[order], alpha[order]
            new = np.ones(order.size, dtype=bool)
            new[1:] = (m_sorted[1:] != m_sorted[:-1]) | (a_sorted[1:] != a_sorted[:-1])
            group = np.cumsum(new) - 1
            v_u, b_u = self._expected(m_sorted[new], a_sorted[new])
            v = np.empty(model.size)
            b = np.empty(model.size)
            v[order], b[order] = v_u[group], b_u[group]
            return v, b
        return self._expected(model, alpha)

    def _expected(self, model: np.ndarray, alpha: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if self.has_per_image:
            v, b = self.per_image(model, alpha)
            return v.mean(axis=1), b.mean(axis=1)
        if alpha.ndim != 1:
            raise ValueError("alpha: per-image thresholds need a table with per-image arrays")
        v = np.empty(model.size)
        b = np.empty(model.size)
        for p in np.unique(model):
            rows = model == p
            v[rows] = np.interp(alpha[rows], self.grid_alpha, self.grid_gvif[p])
            b[rows] = np.interp(alpha[rows], self.grid_alpha, self.grid_rate_bits[p])
        return v, b


def _shifted_rows(sorted_rows: np.ndarray) -> np.ndarray:
    """Rows of ``sorted_rows`` (N, M), clipped to [-1, 2] and shifted by 4n, concatenated."""
    n = sorted_rows.shape[0]
    return (np.clip(sorted_rows, -1.0, 2.0) + 4.0 * np.arange(n)[:, None]).ravel()


def _row_searchsorted(sorted_rows: np.ndarray, values: np.ndarray,
                      flat: np.ndarray | None = None) -> np.ndarray:
    """``searchsorted(sorted_rows[n], values[..., n], 'left')`` for every row n at once.

    ``sorted_rows`` (N, M) ascending per row (values in [0, 1], ``inf`` allowed);
    ``values`` broadcastable to (..., N); ``flat``: :func:`_shifted_rows` of the rows, if
    already computed. Shifting row n by 4n keeps the concatenated rows sorted, so one
    binary search serves every row.
    """
    n, m = sorted_rows.shape
    flat = _shifted_rows(sorted_rows) if flat is None else flat
    offsets = 4.0 * np.arange(n)
    shifted = np.clip(np.asarray(values, dtype=float), -1.0, 2.0) + offsets
    k = np.searchsorted(flat, shifted, side="left") - m * np.arange(n)
    return np.clip(k, 0, m - 1)


@dataclass(frozen=True)
class GvifEnvelope:
    """Best breakpoint of every allowed model, and the best model, as step functions of the cap.

    For a cap c, model p's best α is its first breakpoint with E[B] ≤ c, which changes only
    where c crosses a value of the running minimum of E[B]. Over the sorted distinct
    values ``thresholds`` (J,) of every allowed model, row j holds the answer for caps in
    ``[thresholds[j], thresholds[j+1])``: ``k`` (J, P) the breakpoint per model (K where the
    model has none, or is not allowed), ``model`` (J,) the allowed model of largest E[V]
    there and ``gvif`` (J,) that E[V]. A cap below ``thresholds[0]`` fits no allowed model.
    """

    thresholds: np.ndarray
    k: np.ndarray
    model: np.ndarray
    gvif: np.ndarray

    @classmethod
    def build(cls, curves: GvifCurves, allowed: np.ndarray) -> GvifEnvelope:
        n_models, n_bp = curves.bp_rate_bits.shape
        run_min = -curves.bp_neg_run_min
        thresholds = np.unique(run_min[allowed].ravel()) if np.any(allowed) else np.zeros(0)
        k = np.full((thresholds.size, n_models), n_bp, dtype=np.intp)
        for p in np.flatnonzero(allowed):
            k[:, p] = np.searchsorted(curves.bp_neg_run_min[p], -thresholds, side="left")
        feasible = k < n_bp
        gvif = np.where(feasible, curves.bp_gvif[np.arange(n_models), np.minimum(k, n_bp - 1)],
                        -np.inf)
        model = np.argmax(gvif, axis=1) if thresholds.size else np.zeros(0, dtype=np.intp)
        best = gvif[np.arange(thresholds.size), model]
        for arr in (thresholds, k, model, best):
            arr.setflags(write=False)
        return cls(thresholds, k, model, best)


def _bandwidth(value: Any, name: str) -> float:
    out = float(parse_bandwidth(value, name))
    if not out > 0:
        raise ValueError(f"{name}: must be positive, got {value!r}")
    return out


def _alpha_max(value: Any, name: str) -> float:
    out = float(as_float_array(value, name))
    if not 0.0 <= out <= 1.0:
        raise ValueError(f"{name}: α_th must lie in [0, 1], got {value!r}")
    return out


def _models(value: Any, name: str) -> tuple[str, ...]:
    names = [v.strip() for v in value.split(",")] if isinstance(value, str) else list(value)
    names = [str(v) for v in names if str(v)]
    if not names:
        raise ValueError(f"{name}: give at least one model name")
    return tuple(names)


@register_problem
class GvifProblem(Problem):
    """Largest expected GVIF within a latency cap and a distortion cap (Huang et al., eq. 31).

    Parameters
    ----------
    table : str, path or GvifTable
        GVIF table (default ``"gvif-hyperprior-sample"``).
    bandwidth_hz : float or str
        Channel bandwidth W (default 1 MHz; ``"1 MHz"`` accepted).
    alpha_max : float, optional
        α_th of eq. 31d (default: the table's, 0.8 for the shipped one).
    models : sequence of str or str, optional
        Candidate models (comma-separated names accepted); the reference model of eq. 27
        stays the table's.

    Notes
    -----
    See the module docstring for ``allocate(snr, budget, target)``. ``objective`` is the
    expected GVIF (dimensionless, in [0, 1] up to β > 1 of non-reference models);
    ``perception`` the distortion D(Φ) (MSE) of the chosen model; ``latency_s`` the
    expected latency E[B]/(W log2(1 + snr)); the power fields are NaN. Extras: ``alpha``,
    ``model``, ``rate_bits``, ``psnr_db``, ``cap_bits``, ``distortion_cap_mse``,
    ``least_latency_s`` (least E[B]/C of any model meeting D_0 with one shared α ≤ α_th),
    ``alpha_per_model`` (B, P) with ``models`` naming the columns, and method-specific
    fields (``alpha_per_image`` for ``per-image``, ``alpha_penalty`` for ``zo-sgd``).
    ``evaluations`` counts per-image (V, B) evaluations in every method.
    """

    name = "gvif"
    description = ("largest expected GVIF over the filtering threshold α and the source coder Φ "
                   "within a latency cap and a distortion cap (Huang et al.)")
    default_method = "exact"
    table_kinds = ("gvif",)
    default_table = "gvif-hyperprior-sample"
    stream_axis = False
    snr = "receive SNR |h|²/σ² in dB, one per realization (scalar or (B,)); no reference power"
    budget = "latency cap T_max in s ('20 ms', 0.02)"
    target = ("distortion cap D_0 on the coder's D(Φ): a PSNR floor '30dB', an MSE on the "
              "0…255 scale, or none")
    objective = "expected GVIF E_x[V(Φ, α; x)] (dimensionless)"
    options = {
        "bandwidth_hz": Option(1e6, "channel bandwidth W ('1 MHz' accepted)", unit="Hz",
                               kind="str", parse=_bandwidth),
        "alpha_max": Option(None, "largest filtering threshold α_th of eq. 31d (default: the "
                            "table's)", kind="float", parse=_alpha_max),
        "models": Option(None, "candidate source coders, comma-separated names (default: every "
                         "model of the table)", kind="strs", parse=_models),
    }

    def __init__(self, *, table: Any = None, **options: Any) -> None:
        super().__init__(table=table, **options)
        loaded: GvifTable = self.table
        self.bandwidth_hz = float(self.bandwidth_hz)
        self.alpha_max = loaded.alpha_max if self.alpha_max is None else float(self.alpha_max)
        names = loaded.model_names
        if self.models is None:
            self.candidates = np.arange(len(names))
        else:
            self.candidates = np.array([loaded.model_index(m) for m in self.models], dtype=int)
        self.model_names = names
        self.distortion_mse = loaded.distortion_mse
        self.n_models = len(names)
        self._envelopes: dict[bytes, GvifEnvelope] = {}

    @property
    def curves(self) -> GvifCurves:
        """The table-only curves, built on first use and shared by every call.

        They depend only on the table object and α_th, so every problem built on the same
        (loaded) table shares them, and their envelopes (a weak cache: nothing is kept once
        the table is gone).
        """
        shared = _SHARED.setdefault(self.table, {})
        if self.alpha_max not in shared:
            shared[self.alpha_max] = (GvifCurves.build(self.table, self.alpha_max), {})
        curves, envelopes = shared[self.alpha_max]
        self._envelopes = envelopes
        return curves

    # -- input validation --------------------------------------------------------------
    def parse(self, snr: Any, budget: Any, target: Any) -> GvifInputs:
        """Validate and broadcast ``(snr_db, T_max, D_0)`` (see the module docstring)."""
        snr_db = parse_snr_db(snr, "snr")
        t_max = np.asarray(parse_duration(budget, "budget"), dtype=float)
        d0 = np.asarray(parse_distortion_target(target), dtype=float)
        try:
            batch_shape = np.broadcast_shapes(snr_db.shape, t_max.shape, d0.shape)
        except ValueError as exc:
            raise ValueError(f"snr, budget, target: shapes {snr_db.shape}, {t_max.shape}, "
                             f"{d0.shape} do not broadcast") from exc
        flat = (int(np.prod(batch_shape, dtype=int)),)
        snr_db = np.broadcast_to(snr_db, batch_shape).reshape(flat)
        t_max = np.broadcast_to(t_max, batch_shape).reshape(flat)
        d0 = np.broadcast_to(d0, batch_shape).reshape(flat)
        capacity = self.bandwidth_hz * np.log2(1.0 + 10.0 ** (snr_db / 10.0))
        candidate = np.zeros(self.n_models, dtype=bool)
        candidate[self.candidates] = True
        models_ok = candidate[None, :] & (self.distortion_mse[None, :] <= d0[:, None])
        if d0.size == 0 or np.all(d0 == d0[0]):
            patterns = models_ok[:1] if d0.size else candidate[None, :] & False
            pattern = np.zeros(d0.size, dtype=np.intp)
        else:
            patterns, pattern = np.unique(models_ok, axis=0, return_inverse=True)
        return GvifInputs(snr_db, t_max, d0, capacity, t_max * capacity, models_ok, patterns,
                          pattern.reshape(-1), batch_shape)

    # -- shared helpers for methods --------------------------------------------------------
    def envelope(self, allowed: np.ndarray) -> GvifEnvelope:
        """The best (model, breakpoint) as a function of the cap, for one set of allowed models.

        Cached per set (a table-only computation). With per-image arrays only; see
        :class:`GvifEnvelope`.
        """
        allowed = np.asarray(allowed, dtype=bool)
        key = allowed.tobytes()
        curves = self.curves
        if key not in self._envelopes:
            self._envelopes[key] = GvifEnvelope.build(curves, allowed)
        return self._envelopes[key]

    def least_latency_point(self, inputs: GvifInputs) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Least-E[B] point over the models allowed per row, one shared α ≤ α_th.

        Returns ``(model, alpha, rate_bits)`` of shape (B,); model -1 (α, rate NaN) where no
        model is allowed.
        """
        c = self.curves
        least = c.bp_rate_bits[np.arange(self.n_models), c.least_k]                  # (P,)
        masked = np.where(inputs.patterns, least[None, :], np.inf)                   # (U, P)
        model_u = np.argmin(masked, axis=1)
        none_u = ~np.any(inputs.patterns, axis=1)
        alpha_u = np.where(none_u, np.nan, c.bp_alpha[c.least_k[model_u]])
        rate_u = np.where(none_u, np.nan, least[model_u])
        model_u = np.where(none_u, -1, model_u)
        return model_u[inputs.pattern], alpha_u[inputs.pattern], rate_u[inputs.pattern]

    # -- result ----------------------------------------------------------------------------
    def assemble(self, inputs: GvifInputs, solution: GvifSolution, *, method: str,
                 wall_time_s: float) -> Allocation:
        """Recheck every row with the table and build the :class:`Allocation`.

        A row is ``optimal`` only if the method claims it feasible and converged, and the
        recheck agrees: the model is a candidate with D(Φ) ≤ D_0, α lies in [0, α_th], and
        E[B] recomputed from (model, α) with the table fits C·T_max. A feasible row whose
        method stopped at its iteration cap is ``max_iterations``; a claimed row the recheck
        refuses is ``numerical_error``; other rows are ``infeasible`` and return the least
        expected latency of the method's search space (latency and message) and of the
        problem (``least_latency_s``).
        """
        b = inputs.cap_bits.size
        model = np.asarray(solution.model, dtype=int).copy()
        alpha = np.asarray(solution.alpha, dtype=float).copy()
        per_image = None if solution.alpha_per_image is None \
            else np.array(solution.alpha_per_image, dtype=float)
        claimed = np.asarray(solution.claimed, dtype=bool)
        converged = np.asarray(solution.converged, dtype=bool)
        any_model = np.any(inputs.patterns, axis=1)[inputs.pattern]
        least_model, least_alpha, least_rate = self.least_latency_point(inputs)
        # Rows the method left without a point: the problem's least-latency point.
        fill = any_model & ((model < 0) | (model >= self.n_models))
        model[fill], alpha[fill] = least_model[fill], least_alpha[fill]
        if per_image is not None:
            per_image[fill] = least_alpha[fill, None]
        has_point = any_model & (model >= 0)
        gvif = np.full(b, np.nan)
        rate = np.full(b, np.nan)
        rows = np.flatnonzero(has_point)
        if rows.size:
            a = alpha[rows] if per_image is None else per_image[rows]
            finite = np.isfinite(a) if per_image is None else np.all(np.isfinite(a), axis=1)
            v, r = self.curves.expected(model[rows], np.where(np.isfinite(a), a, 0.0))
            gvif[rows] = np.where(finite, v, np.nan)
            rate[rows] = np.where(finite, r, np.nan)
        amax = self.alpha_max * (1.0 + 1e-12)
        if per_image is None:
            in_box = (alpha >= 0) & (alpha <= amax)
        else:
            in_box = np.all((per_image >= 0) & (per_image <= amax), axis=1)
        model_ok = np.zeros(b, dtype=bool)
        model_ok[rows] = inputs.models_ok[rows, model[rows]]
        with np.errstate(invalid="ignore"):
            latency = rate / inputs.capacity_bps
            fits = rate <= inputs.cap_bits * (1.0 + LATENCY_RTOL)
        rechecked = has_point & np.isfinite(gvif) & np.isfinite(rate) & in_box & model_ok & fits
        ok_claim = claimed & rechecked
        numerical = claimed & ~rechecked & any_model
        status = np.full(b, INFEASIBLE, dtype=STATUS_DTYPE)
        status[ok_claim & converged] = OPTIMAL
        status[ok_claim & ~converged] = MAX_ITERATIONS
        status[numerical] = NUMERICAL_ERROR
        success = ok_claim & converged
        distortion = np.where(has_point, self.distortion_mse[np.maximum(model, 0)], np.nan)
        names = np.asarray([*self.model_names, ""])[model]                   # -1 -> ""
        least_latency = least_rate / inputs.capacity_bps
        per_model = np.asarray(solution.alpha_per_model, dtype=float).reshape(b, self.n_models)
        batch_extras: dict[str, Any] = {
            "alpha": alpha, "model": names, "rate_bits": rate,
            "psnr_db": _psnr_db(distortion), "cap_bits": inputs.cap_bits,
            "distortion_cap_mse": inputs.d0_mse, "least_latency_s": least_latency,
            "alpha_per_model": per_model,
        }
        if per_image is not None:
            batch_extras["alpha_per_image"] = per_image
        batch_extras.update(dict(solution.batch_extras or {}))
        extras = {"table": self.table.name, "bandwidth_hz": self.bandwidth_hz,
                  "alpha_max": self.alpha_max, "models": list(self.model_names)}
        if per_image is not None:
            extras["images"] = list(self.table.images)
        nan = np.full((b, 1), np.nan)
        message = self._message(method, solution.scope, inputs, status, model, alpha, gvif, rate,
                                latency, least_model, least_alpha, least_latency, distortion,
                                any_model, per_image is not None)
        return build_allocation(
            inputs.batch_shape, method=method, problem=self.name, success=success,
            status=status, message=message, power_w=nan, error_rate=nan,
            perception=distortion, objective=gvif, latency_s=latency,
            iterations=solution.iterations, evaluations=solution.evaluations,
            wall_time_s=wall_time_s, extras=extras, batch_extras=batch_extras)

    def _message(self, method: str, scope: str, inputs: GvifInputs, status: np.ndarray,
                 model: np.ndarray, alpha: np.ndarray, gvif: np.ndarray, rate: np.ndarray,
                 latency: np.ndarray, least_model: np.ndarray, least_alpha: np.ndarray,
                 least_latency: np.ndarray, distortion: np.ndarray, any_model: np.ndarray,
                 per_image: bool) -> str:
        b = status.size
        d0 = inputs.d0_mse
        if b == 1:
            s = status[0]
            name = self.model_names[model[0]] if model[0] >= 0 else ""
            a_text = f"mean α = {alpha[0]:.4g}" if per_image else f"α = {alpha[0]:.4g}"
            t_ms = 1e3 * inputs.t_max_s[0]
            cap = inputs.cap_bits[0]
            d0_text = "no distortion cap" if math.isinf(d0[0]) else \
                f"D_0 = {d0[0]:.4g} (PSNR {float(_psnr_db(d0[0])):.2f} dB)"
            if not any_model[0]:
                candidates = self.distortion_mse[self.candidates]
                best = float(np.min(candidates))
                return (f"{method}: infeasible: no candidate model meets {d0_text}; the least "
                        f"distortion of a candidate is D(Φ) = {best:.4g} "
                        f"(PSNR {float(_psnr_db(best)):.2f} dB)")
            point = (f"model {name}, {a_text}, E[GVIF] = {gvif[0]:.4f}, E[B] = {rate[0]:.0f} bits, "
                     f"expected latency {1e3 * latency[0]:.4g} ms")
            if s in (OPTIMAL, MAX_ITERATIONS):
                text = (f"{method}: {point} ≤ T_max = {t_ms:.4g} ms (cap {cap:.0f} bits); "
                        f"D(Φ) = {distortion[0]:.4g} (PSNR {float(_psnr_db(distortion[0])):.2f} dB), "
                        f"{d0_text}")
                if s == MAX_ITERATIONS:
                    text += ("; stopped at the iteration cap before the convergence test passed: "
                             "feasible (rechecked) but not certified optimal")
                return text
            least = (f"the least expected latency of any model meeting D_0 with one shared "
                     f"α ≤ α_th = {self.alpha_max:.4g} is {1e3 * least_latency[0]:.4g} ms "
                     f"(model {self.model_names[least_model[0]]}, α = {least_alpha[0]:.4g})")
            if s == NUMERICAL_ERROR:
                return (f"{method}: numerical error: the method's point ({point}) does not meet "
                        f"T_max = {t_ms:.4g} ms or D_0 when rechecked; {least}")
            return (f"{method}: infeasible: no model meeting D_0 fits T_max = {t_ms:.4g} ms "
                    f"(cap {cap:.0f} bits) {scope}; returned point: {point} > T_max; {least}")
        counts = {k: int(np.count_nonzero(status == k)) for k in
                  (OPTIMAL, MAX_ITERATIONS, INFEASIBLE, NUMERICAL_ERROR)}
        msg = f"{method}: {counts[OPTIMAL]} of {b} realizations optimal"
        if counts[MAX_ITERATIONS]:
            msg += (f"; {counts[MAX_ITERATIONS]} feasible but stopped at the iteration cap "
                    "(not certified optimal)")
        infeasible = status == INFEASIBLE
        no_model = infeasible & ~any_model
        latency_bad = infeasible & any_model
        if np.any(no_model):
            msg += f"; {int(np.count_nonzero(no_model))} infeasible: no candidate model meets D_0"
        if np.any(latency_bad):
            lat = 1e3 * latency[latency_bad]
            low = 1e3 * least_latency[latency_bad]
            msg += (f"; {int(np.count_nonzero(latency_bad))} infeasible: no model meeting D_0 "
                    f"fits T_max {scope} (returned points: expected latency "
                    f"{np.min(lat):.4g}–{np.max(lat):.4g} ms; least with one shared α ≤ α_th: "
                    f"{np.min(low):.4g}–{np.max(low):.4g} ms)")
        if counts[NUMERICAL_ERROR]:
            msg += f"; {counts[NUMERICAL_ERROR]} refused by the recheck (numerical error)"
        return msg
