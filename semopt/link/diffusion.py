"""Channel as forward diffusion: SNR → equivalent ᾱ_u → diffusion timestep (Guo et al.).

A feature vector ``y`` (unit variance per real element, as Stable Diffusion's scaled
latents are) sent over a channel and equalized without bias arrives as
``ŝ = y + σ_eff · ε`` with ``ε ~ N(0, 1)``. The forward diffusion process gives
``y_u / √ᾱ_u = y + √((1 − ᾱ_u)/ᾱ_u) · ε``, so the channel *is* the u-th forward step when

    ᾱ_u = 1 / (1 + σ_eff²)                                   (Guo et al. eq. 16)

and the receiver feeds ``√ᾱ_u · ŝ`` to the reverse process, starting at step u. The
effective noise variance per real feature element (``P`` = feature power, ``snr`` the
linear SNR) is

- AWGN:                       σ_eff² = P / snr
- Rayleigh, MMSE equalizer:   σ_eff² = P / (snr |h|²)     (the paper's eq. 22 prints |σh|²)
- MIMO, SVD sub-channel i:    σ_eff² = P / (snr σ_i²)     (eq. 29, one ᾱ per singular value)

A noise schedule (:class:`NoiseSchedule`) turns ᾱ into an integer timestep; when the
channel is better than the chosen step, the receiver adds the compensating noise of
variance ``(1 − ᾱ_u)/ᾱ_u − σ_eff²`` (eq. 14). :func:`snr_db_for_timestep` is the inverse.
The simulators draw complex channel symbols (two real features per symbol), apply the
channel and the equalizer, and return the features the mapping describes, so a Monte-Carlo
check (:func:`monte_carlo_noise_check`) can confirm the effective noise.

Every function is vectorized and broadcasts its array arguments. Conventions: timesteps
are 1-indexed as in the paper, ``ᾱ_0 = 1`` and ``ᾱ_u = Π_{s ≤ u} (1 − β_s)``; diffusers'
``alphas_cumprod[t]`` is ``ᾱ_{t+1}`` here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike

__all__ = [
    "CHANNELS",
    "SCHEDULES",
    "ChannelOutput",
    "NoiseSchedule",
    "StepMapping",
    "alpha_bar_from_noise_var",
    "channel_alpha_bar",
    "compensating_noise_var",
    "effective_noise_var",
    "features_to_symbols",
    "get_schedule",
    "map_channel_to_timestep",
    "monte_carlo_noise_check",
    "noise_var_from_alpha_bar",
    "simulate_awgn",
    "simulate_channel",
    "simulate_mimo_svd",
    "simulate_rayleigh_mmse",
    "snr_db_for_alpha_bar",
    "snr_db_for_timestep",
    "symbols_to_features",
]

CHANNELS = ("awgn", "rayleigh", "mimo")
SCHEDULES = ("linear", "scaled-linear", "cosine")
Channel = Literal["awgn", "rayleigh", "mimo"]


# --------------------------------------------------------------------------------------
# validation helpers
# --------------------------------------------------------------------------------------
def _finite(value: ArrayLike, argument: str) -> np.ndarray:
    arr = np.asarray(value, dtype=float)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{argument}: must be finite, got {value!r}")
    return arr


def _positive(value: ArrayLike, argument: str, *, allow_zero: bool = False) -> np.ndarray:
    arr = _finite(value, argument)
    bad = arr < 0 if allow_zero else arr <= 0
    if np.any(bad):
        what = "non-negative" if allow_zero else "positive"
        raise ValueError(f"{argument}: must be {what}, got {value!r}")
    return arr


def _check_channel(channel: str) -> str:
    if channel not in CHANNELS:
        raise ValueError(f"channel: unknown {channel!r}; valid channels: {', '.join(CHANNELS)}")
    return channel


# --------------------------------------------------------------------------------------
# noise schedules
# --------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class NoiseSchedule:
    """A discrete DDPM noise schedule ``β_1 … β_T`` and its ``ᾱ_u``.

    Build one with :meth:`linear` (DDPM, Guo et al.: T = 1000, β from 1e-4 to 0.02),
    :meth:`scaled_linear` (Stable Diffusion: β = linspace(√0.00085, √0.012)²),
    :meth:`cosine` (Nichol & Dhariwal, s = 0.008, β ≤ 0.999) or :meth:`from_betas`.

    Attributes
    ----------
    name : str
    betas : ndarray, shape ``(T,)``
        ``betas[u - 1] = β_u``.
    alpha_bar : ndarray, shape ``(T + 1,)``
        ``alpha_bar[u] = ᾱ_u`` with ``alpha_bar[0] = 1``; strictly decreasing.
    """

    name: str
    betas: np.ndarray
    alpha_bar: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        betas = np.asarray(self.betas, dtype=float).copy()
        if betas.ndim != 1 or betas.size < 1:
            raise ValueError("betas: must be a non-empty 1-D array")
        if not np.all((betas > 0) & (betas < 1)):
            raise ValueError("betas: every β_u must lie in (0, 1)")
        betas.setflags(write=False)
        alpha_bar = np.concatenate([[1.0], np.cumprod(1.0 - betas)])
        alpha_bar.setflags(write=False)
        object.__setattr__(self, "betas", betas)
        object.__setattr__(self, "alpha_bar", alpha_bar)

    # constructors ----------------------------------------------------------------------
    @classmethod
    def linear(cls, num_steps: int = 1000, beta_start: float = 1e-4,
               beta_end: float = 0.02) -> NoiseSchedule:
        """DDPM linear schedule ``β_u = linspace(beta_start, beta_end, T)`` (Guo et al.)."""
        return cls("linear", np.linspace(beta_start, beta_end, int(num_steps)))

    @classmethod
    def scaled_linear(cls, num_steps: int = 1000, beta_start: float = 0.00085,
                      beta_end: float = 0.012) -> NoiseSchedule:
        """Stable Diffusion's ``β_u = linspace(√beta_start, √beta_end, T)²``."""
        return cls("scaled-linear",
                   np.linspace(math.sqrt(beta_start), math.sqrt(beta_end), int(num_steps)) ** 2)

    @classmethod
    def cosine(cls, num_steps: int = 1000, s: float = 0.008,
               max_beta: float = 0.999) -> NoiseSchedule:
        """Cosine schedule: ``ᾱ(t) ∝ cos²((t/T + s)/(1 + s) · π/2)``, β clipped at ``max_beta``."""
        t = np.arange(int(num_steps) + 1) / int(num_steps)
        f = np.cos((t + s) / (1 + s) * np.pi / 2) ** 2
        return cls("cosine", np.minimum(1.0 - f[1:] / f[:-1], max_beta))

    @classmethod
    def from_betas(cls, betas: ArrayLike, name: str = "custom") -> NoiseSchedule:
        """Any schedule given by its ``β_1 … β_T``."""
        return cls(name, np.asarray(betas, dtype=float))

    # queries ---------------------------------------------------------------------------
    @property
    def num_steps(self) -> int:
        """T, the number of forward steps."""
        return int(self.betas.size)

    def alpha_bar_at(self, timestep: ArrayLike) -> np.ndarray:
        """``ᾱ_u`` at integer or fractional ``timestep`` in ``[0, T]`` (linear in 1 − ᾱ)."""
        u = _finite(timestep, "timestep")
        if np.any((u < 0) | (u > self.num_steps)):
            raise ValueError(f"timestep: must lie in [0, {self.num_steps}], got {timestep!r}")
        return np.interp(u, np.arange(self.num_steps + 1), self.alpha_bar)

    def timestep(self, alpha_bar: ArrayLike, *,
                 rounding: Literal["noisier", "nearest"] = "noisier") -> np.ndarray:
        """Integer timestep for a channel-equivalent ``ᾱ`` (vectorized).

        ``rounding="noisier"`` (default) returns the smallest ``u`` with ``ᾱ_u ≤ ᾱ``: the
        step is at least as noisy as the channel, so the compensating noise is ≥ 0 and the
        received features match the step exactly. ``"nearest"`` picks the step nearest in
        ``1 − ᾱ`` (the features may then carry slightly more noise than the step assumes).
        Channels noisier than ``ᾱ_T`` saturate at ``T``.
        """
        a = _finite(alpha_bar, "alpha_bar")
        if np.any((a <= 0) | (a > 1)):
            raise ValueError(f"alpha_bar: must lie in (0, 1], got {alpha_bar!r}")
        neg = -self.alpha_bar  # increasing
        if rounding == "noisier":
            # relative slack of 1e-13 so that ᾱ computed from a step's own SNR maps back to it
            u = np.searchsorted(neg, -a * (1.0 + 1e-13), side="left")
        elif rounding == "nearest":
            u = np.rint(self.fractional_timestep(a))
        else:
            raise ValueError(f"rounding: must be 'noisier' or 'nearest', got {rounding!r}")
        return np.clip(u, 0, self.num_steps).astype(int)

    def fractional_timestep(self, alpha_bar: ArrayLike) -> np.ndarray:
        """Continuous timestep ``u ∈ [0, T]`` with ``ᾱ_u = ᾱ`` (linear in 1 − ᾱ between steps)."""
        a = np.asarray(alpha_bar, dtype=float)
        return np.interp(1.0 - a, 1.0 - self.alpha_bar, np.arange(self.num_steps + 1.0))

    def snr_db(self, timestep: ArrayLike) -> np.ndarray:
        """Signal-to-noise ratio ``ᾱ_u / (1 − ᾱ_u)`` of step ``u`` in dB (unit-power signal)."""
        a = self.alpha_bar_at(timestep)
        with np.errstate(divide="ignore"):
            return 10.0 * np.log10(a / (1.0 - a))


def get_schedule(schedule: str | NoiseSchedule = "linear", num_steps: int = 1000) -> NoiseSchedule:
    """A :class:`NoiseSchedule` by name (``linear``, ``scaled-linear``, ``cosine``) or as is."""
    if isinstance(schedule, NoiseSchedule):
        return schedule
    builders = {"linear": NoiseSchedule.linear, "scaled-linear": NoiseSchedule.scaled_linear,
                "cosine": NoiseSchedule.cosine}
    key = str(schedule).replace("_", "-").lower()
    if key not in builders:
        raise ValueError(f"schedule: unknown {schedule!r}; valid schedules: {', '.join(SCHEDULES)}")
    return builders[key](num_steps)


# --------------------------------------------------------------------------------------
# channel -> effective noise -> alpha_bar and back
# --------------------------------------------------------------------------------------
def _gain_squared(channel: str, gain: ArrayLike | None,
                  singular_values: ArrayLike | None) -> np.ndarray:
    if channel == "awgn":
        if gain is not None or singular_values is not None:
            raise ValueError("gain: the AWGN channel takes no gain or singular values")
        return np.asarray(1.0)
    if channel == "rayleigh":
        if singular_values is not None:
            raise ValueError("singular_values: only for channel='mimo'")
        if gain is None:
            return np.asarray(1.0)  # the paper's experimental assumption |h| = 1
        g = np.asarray(gain)
        g2 = np.abs(g) ** 2 if np.iscomplexobj(g) else np.asarray(g, dtype=float) ** 2
        return _positive(g2, "gain")
    if singular_values is None:
        raise ValueError("singular_values: channel='mimo' needs the singular values of H, "
                         "shape (..., M)")
    if gain is not None:
        raise ValueError("gain: for channel='mimo' pass singular_values instead")
    sv = _positive(singular_values, "singular_values")
    if sv.ndim == 0:
        raise ValueError("singular_values: must have a trailing sub-channel axis (..., M)")
    return sv ** 2


def effective_noise_var(snr_db: ArrayLike, channel: Channel = "awgn", *,
                        gain: ArrayLike | None = None,
                        singular_values: ArrayLike | None = None,
                        signal_power: float = 1.0) -> np.ndarray:
    """Noise variance per real feature element after unbiased equalization.

    ``σ_eff² = P / (snr · g²)`` with ``g = 1`` (AWGN), ``g = |h|`` (Rayleigh, MMSE
    equalizer with its bias removed; default ``|h| = 1`` as in the paper's experiments) or
    ``g = σ_i`` (MIMO with SVD precoding: one value per sub-channel, output shape
    ``snr_db.shape + (M,)`` broadcast against ``singular_values (..., M)``).

    Parameters
    ----------
    snr_db : array_like
        Transmit SNR ``P/σ²`` in dB (per stream for MIMO: each of the M streams carries
        power P and sees noise σ² per receive antenna).
    channel : {"awgn", "rayleigh", "mimo"}
    gain : array_like, optional
        Rayleigh fading coefficient ``h`` (complex) or its magnitude.
    singular_values : array_like, shape ``(..., M)``
        Singular values of the MIMO channel matrix (MIMO only).
    signal_power : float
        Power ``P`` of one real feature element (1 for Stable Diffusion's scaled latents).
    """
    channel = _check_channel(channel)
    snr = 10.0 ** (_finite(snr_db, "snr_db") / 10.0)
    g2 = _gain_squared(channel, gain, singular_values)
    power = float(_positive(signal_power, "signal_power"))
    if channel == "mimo":
        snr = snr[..., None]
    return power / (snr * g2)


def alpha_bar_from_noise_var(noise_var: ArrayLike) -> np.ndarray:
    """``ᾱ_u = 1 / (1 + σ²)`` — the step whose forward noise equals the channel's (eq. 16)."""
    return 1.0 / (1.0 + _positive(noise_var, "noise_var", allow_zero=True))


def noise_var_from_alpha_bar(alpha_bar: ArrayLike) -> np.ndarray:
    """Inverse of :func:`alpha_bar_from_noise_var`: ``σ² = (1 − ᾱ) / ᾱ``."""
    a = _finite(alpha_bar, "alpha_bar")
    if np.any((a <= 0) | (a > 1)):
        raise ValueError(f"alpha_bar: must lie in (0, 1], got {alpha_bar!r}")
    return (1.0 - a) / a


def channel_alpha_bar(snr_db: ArrayLike, channel: Channel = "awgn", *,
                      gain: ArrayLike | None = None, singular_values: ArrayLike | None = None,
                      signal_power: float = 1.0) -> np.ndarray:
    """Channel-equivalent ``ᾱ_u = 1 / (1 + σ_eff²)`` (see :func:`effective_noise_var`)."""
    return alpha_bar_from_noise_var(effective_noise_var(
        snr_db, channel, gain=gain, singular_values=singular_values, signal_power=signal_power))


def snr_db_for_alpha_bar(alpha_bar: ArrayLike, channel: Channel = "awgn", *,
                         gain: ArrayLike | None = None, singular_values: ArrayLike | None = None,
                         signal_power: float = 1.0) -> np.ndarray:
    """Transmit SNR (dB) at which the channel equals the step with this ``ᾱ``.

    ``snr = P ᾱ / ((1 − ᾱ) g²)``; for MIMO ``alpha_bar`` broadcasts against
    ``singular_values (..., M)`` and the result is per sub-channel.
    """
    channel = _check_channel(channel)
    noise_var = noise_var_from_alpha_bar(alpha_bar)
    g2 = _gain_squared(channel, gain, singular_values)
    power = float(_positive(signal_power, "signal_power"))
    with np.errstate(divide="ignore"):
        return 10.0 * np.log10(power / (noise_var * g2))


def snr_db_for_timestep(timestep: ArrayLike, schedule: str | NoiseSchedule = "linear",
                        channel: Channel = "awgn", *, gain: ArrayLike | None = None,
                        singular_values: ArrayLike | None = None,
                        signal_power: float = 1.0) -> np.ndarray:
    """The SNR (dB) that step ``timestep`` of ``schedule`` corresponds to (inverse mapping)."""
    sched = get_schedule(schedule)
    return snr_db_for_alpha_bar(sched.alpha_bar_at(timestep), channel, gain=gain,
                                singular_values=singular_values, signal_power=signal_power)


def compensating_noise_var(noise_var: ArrayLike, alpha_bar_step: ArrayLike, *,
                           on_worse: Literal["raise", "nan"] = "raise") -> np.ndarray:
    """Variance of the noise the receiver adds to reach a fixed step (eq. 14).

    ``σ_cps² = (1 − ᾱ_u)/ᾱ_u − σ_eff²``, in the units of the unscaled received features
    ``ŝ = y + σ_eff ε`` (the diffusion state is then ``√ᾱ_u (ŝ + σ_cps ε')``). Defined only
    when the channel is at least as good as the step (``ᾱ_u ≤ 1/(1 + σ_eff²)``); otherwise
    noise cannot be removed: ``on_worse="raise"`` raises ``ValueError``, ``"nan"`` returns NaN
    there.
    """
    comp = noise_var_from_alpha_bar(alpha_bar_step) - _positive(noise_var, "noise_var",
                                                                allow_zero=True)
    # tolerate round-off at exact equality
    tol = 1e-9 * np.maximum(1.0, np.abs(noise_var_from_alpha_bar(alpha_bar_step)))
    worse = comp < -tol
    if np.any(worse):
        if on_worse == "raise":
            raise ValueError("alpha_bar_step: the channel is noisier than the step "
                             f"({int(np.count_nonzero(worse))} entries); choose a later step "
                             "or on_worse='nan'")
        if on_worse != "nan":
            raise ValueError(f"on_worse: must be 'raise' or 'nan', got {on_worse!r}")
    return np.where(worse, np.nan, np.maximum(comp, 0.0))


@dataclass(frozen=True)
class StepMapping:
    """Result of :func:`map_channel_to_timestep` (arrays broadcast over the inputs).

    Attributes
    ----------
    noise_var : ndarray
        Effective noise variance per real feature element, ``σ_eff²``.
    alpha_bar : ndarray
        Channel-equivalent ``ᾱ = 1/(1 + σ_eff²)``.
    fractional_timestep : ndarray
        Continuous ``u`` with ``ᾱ_u = ᾱ`` (linear in 1 − ᾱ between steps).
    timestep : ndarray of int
        The step the reverse process starts from.
    alpha_bar_step : ndarray
        ``ᾱ`` of that step.
    compensating_noise_var : ndarray
        Noise variance the receiver adds to the unscaled features (NaN where the channel is
        worse than the step, which only happens with ``rounding="nearest"``, a fixed step or
        saturation at T).
    scale : ndarray
        ``√ᾱ_step``: the diffusion state is ``scale · (ŝ + compensation)``.
    saturated : ndarray of bool
        The channel is noisier than the schedule's last step.
    """

    noise_var: np.ndarray
    alpha_bar: np.ndarray
    fractional_timestep: np.ndarray
    timestep: np.ndarray
    alpha_bar_step: np.ndarray
    compensating_noise_var: np.ndarray
    scale: np.ndarray
    saturated: np.ndarray


def map_channel_to_timestep(snr_db: ArrayLike, schedule: str | NoiseSchedule = "linear",
                            channel: Channel = "awgn", *, gain: ArrayLike | None = None,
                            singular_values: ArrayLike | None = None,
                            signal_power: float = 1.0,
                            rounding: Literal["noisier", "nearest"] = "noisier",
                            fixed_timestep: int | None = None) -> StepMapping:
    """Map channel SNR to the diffusion step the receiver starts denoising from.

    Solves, per element, ``u* = min { u : ᾱ_u ≤ 1/(1 + σ_eff²) }`` (``rounding="noisier"``)
    and the compensating noise that makes the received features exactly the forward state
    of step ``u*``. With ``fixed_timestep`` the step is fixed (the paper's non-adaptive
    200-step variant) and only the compensation is computed (NaN where the channel is worse).

    Returns
    -------
    StepMapping
    """
    sched = get_schedule(schedule)
    noise_var = effective_noise_var(snr_db, channel, gain=gain, singular_values=singular_values,
                                    signal_power=signal_power)
    alpha_bar = alpha_bar_from_noise_var(noise_var)
    frac = sched.fractional_timestep(alpha_bar)
    saturated = alpha_bar < sched.alpha_bar[-1]
    if fixed_timestep is None:
        step = sched.timestep(alpha_bar, rounding=rounding)
    else:
        if not (0 <= int(fixed_timestep) <= sched.num_steps):
            raise ValueError(f"fixed_timestep: must lie in [0, {sched.num_steps}], "
                             f"got {fixed_timestep!r}")
        step = np.full(np.shape(alpha_bar), int(fixed_timestep))
    ab_step = sched.alpha_bar[step]
    comp = compensating_noise_var(noise_var, ab_step, on_worse="nan")
    return StepMapping(noise_var=noise_var, alpha_bar=alpha_bar, fractional_timestep=frac,
                       timestep=np.asarray(step), alpha_bar_step=ab_step,
                       compensating_noise_var=comp, scale=np.sqrt(ab_step),
                       saturated=np.asarray(saturated))


# --------------------------------------------------------------------------------------
# symbol-level simulators
# --------------------------------------------------------------------------------------
def features_to_symbols(features: ArrayLike) -> np.ndarray:
    """Pack real features ``(..., 2K)`` into complex symbols ``(..., K)``: ``y[2k] + j y[2k+1]``."""
    y = np.asarray(features, dtype=float)
    if y.ndim == 0 or y.shape[-1] % 2:
        raise ValueError(f"features: last axis must have even length, got shape {y.shape}")
    return y[..., 0::2] + 1j * y[..., 1::2]


def symbols_to_features(symbols: ArrayLike) -> np.ndarray:
    """Inverse of :func:`features_to_symbols`."""
    z = np.asarray(symbols)
    out = np.empty((*z.shape[:-1], 2 * z.shape[-1]))
    out[..., 0::2] = z.real
    out[..., 1::2] = z.imag
    return out


def _cn(rng: np.random.Generator, shape: tuple[int, ...], var: ArrayLike) -> np.ndarray:
    """Circularly-symmetric complex Gaussian with total variance ``var``."""
    std = np.sqrt(np.asarray(var, dtype=float) / 2.0)
    return std * (rng.standard_normal(shape) + 1j * rng.standard_normal(shape))


@dataclass(frozen=True)
class ChannelOutput:
    """Features after a simulated channel (all real arrays shaped like the input features).

    Attributes
    ----------
    equalized : ndarray
        Unbiased equalized features ``ŝ = y + σ_eff ε`` (AWGN: received; Rayleigh: MMSE
        output divided by its bias ``g``; MIMO: ``U^H r / σ_i``).
    noise_var : ndarray
        Predicted effective noise variance per element (``σ_eff²``).
    alpha_bar : ndarray
        Channel-equivalent ``ᾱ = 1/(1 + σ_eff²)`` per element.
    diffusion_state : ndarray
        ``√ᾱ · ŝ``, distributed as the forward state ``√ᾱ y + √(1 − ᾱ) ε``.
    raw : ndarray
        What the receiver computes before de-biasing (AWGN: ``ŝ``; Rayleigh: the MMSE
        output ``w r``; MIMO: ``U^H r``), packed back to real features.
    extras : dict
        Channel draws: ``h`` (Rayleigh) or ``singular_values`` (MIMO), complex.
    """

    equalized: np.ndarray
    noise_var: np.ndarray
    alpha_bar: np.ndarray
    diffusion_state: np.ndarray
    raw: np.ndarray
    extras: dict[str, Any] = field(default_factory=dict)


def _rng(rng: np.random.Generator | int | None) -> np.random.Generator:
    return rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)


def _output(y: np.ndarray, equalized: np.ndarray, noise_var: np.ndarray, raw: np.ndarray,
            extras: dict[str, Any]) -> ChannelOutput:
    noise_var = np.broadcast_to(noise_var, y.shape).copy()
    alpha_bar = 1.0 / (1.0 + noise_var)
    return ChannelOutput(equalized=equalized, noise_var=noise_var, alpha_bar=alpha_bar,
                         diffusion_state=np.sqrt(alpha_bar) * equalized, raw=raw, extras=extras)


def simulate_awgn(features: ArrayLike, snr_db: ArrayLike,
                  rng: np.random.Generator | int | None = None, *,
                  signal_power: float = 1.0) -> ChannelOutput:
    """Send real features as complex symbols over AWGN: ``r = x + n``, ``n ~ CN(0, 2P/snr)``.

    ``snr_db`` broadcasts against ``features.shape[:-1]`` (one SNR per feature vector).
    """
    rng = _rng(rng)
    y = np.asarray(features, dtype=float)
    x = features_to_symbols(y)
    snr = 10.0 ** (_finite(snr_db, "snr_db") / 10.0)
    var_c = 2.0 * float(signal_power) / snr[..., None]
    r = x + _cn(rng, x.shape, var_c)
    s = symbols_to_features(r)
    noise_var = np.repeat(np.broadcast_to(var_c / 2.0, x.shape), 2, axis=-1)
    return _output(y, s, noise_var, s, {})


def simulate_rayleigh_mmse(features: ArrayLike, snr_db: ArrayLike,
                           rng: np.random.Generator | int | None = None, *,
                           gain: ArrayLike | None = None, block_length: int = 1,
                           signal_power: float = 1.0) -> ChannelOutput:
    """Rayleigh fading with MMSE equalization (Guo et al. eqs. 18-22).

    ``r = h x + n`` with ``h ~ CN(0, 1)`` drawn per block of ``block_length`` symbols
    (or ``gain`` given, broadcast against the symbols), ``n ~ CN(0, E_s/snr)``,
    ``E_s = 2P``. The MMSE equalizer ``w = h* / (|h|² + 1/snr)`` gives
    ``w r = g (x + n/h)`` with bias ``g = |h|²/(|h|² + 1/snr)``; removing ``g`` leaves
    ``σ_eff² = P/(snr |h|²)`` per real element. For ``P = 1``, ``g`` equals the
    channel-equivalent ``ᾱ``, so the diffusion state is simply ``w r / √ᾱ``.
    """
    rng = _rng(rng)
    y = np.asarray(features, dtype=float)
    x = features_to_symbols(y)
    snr = 10.0 ** (_finite(snr_db, "snr_db") / 10.0)[..., None]
    es = 2.0 * float(signal_power)
    if gain is None:
        k = x.shape[-1]
        n_blocks = -(-k // int(block_length))
        h_blocks = _cn(rng, (*x.shape[:-1], n_blocks), 1.0)
        h = np.repeat(h_blocks, int(block_length), axis=-1)[..., :k]
    else:
        h = np.broadcast_to(np.asarray(gain, dtype=complex), x.shape)
    var_c = es / snr
    r = h * x + _cn(rng, x.shape, var_c)
    w = np.conj(h) / (np.abs(h) ** 2 + var_c / es)
    mmse = w * r
    bias = np.abs(h) ** 2 / (np.abs(h) ** 2 + var_c / es)
    unbiased = mmse / bias
    noise_var = np.repeat(np.broadcast_to(var_c / 2.0 / np.abs(h) ** 2, x.shape), 2, axis=-1)
    return _output(y, symbols_to_features(unbiased), noise_var, symbols_to_features(mmse),
                   {"h": h})


def simulate_mimo_svd(features: ArrayLike, snr_db: float,
                      rng: np.random.Generator | int | None = None, *, n_antennas: int = 2,
                      channel_matrix: ArrayLike | None = None,
                      signal_power: float = 1.0) -> ChannelOutput:
    """M×M MIMO with SVD precoding and combining (Guo et al. eqs. 23-29).

    The symbols ``(..., K)`` are grouped into ``K/M`` channel uses of M streams; each use
    sends ``V x`` through ``H = U Σ V^H`` (i.i.d. CN(0, 1) entries drawn once per call unless
    ``channel_matrix`` is given, shape ``(M, M)`` or ``(K/M, M, M)``), the receiver applies
    ``U^H`` and gets ``σ_i x_i + n'_i``. Dividing by ``σ_i`` gives ``σ_eff,i² = P/(snr σ_i²)``.
    """
    rng = _rng(rng)
    m = int(n_antennas)
    y = np.asarray(features, dtype=float)
    x = features_to_symbols(y)
    if x.shape[-1] % m:
        raise ValueError(f"features: {2 * m} must divide the feature length, got {y.shape[-1]}")
    uses = x.shape[-1] // m
    xs = x.reshape((*x.shape[:-1], uses, m))
    if channel_matrix is None:
        H = _cn(rng, (m, m), 1.0)
    else:
        H = np.asarray(channel_matrix, dtype=complex)
        if H.shape[-2:] != (m, m):
            raise ValueError(f"channel_matrix: must have shape (..., {m}, {m}), got {H.shape}")
    U, sv, Vh = np.linalg.svd(H)
    V = np.conj(np.swapaxes(Vh, -1, -2))
    snr = 10.0 ** (_finite(snr_db, "snr_db") / 10.0)
    var_c = 2.0 * float(signal_power) / np.asarray(snr)[..., None, None]
    tx = np.einsum("...ij,...j->...i", V, xs)
    r = np.einsum("...ij,...j->...i", H, tx) + _cn(rng, xs.shape, var_c)
    combined = np.einsum("...ji,...j->...i", np.conj(U), r)  # U^H r
    unbiased = combined / sv
    noise_c = np.broadcast_to(var_c / 2.0 / sv ** 2, xs.shape).reshape(x.shape)
    noise_var = np.repeat(noise_c, 2, axis=-1)
    return _output(y, symbols_to_features(unbiased.reshape(x.shape)), noise_var,
                   symbols_to_features(combined.reshape(x.shape)),
                   {"singular_values": sv, "channel_matrix": H})


def simulate_channel(channel: Channel, features: ArrayLike, snr_db: ArrayLike,
                     rng: np.random.Generator | int | None = None, **kwargs: Any) -> ChannelOutput:
    """Run the simulator of ``channel`` (AWGN, Rayleigh + MMSE or MIMO + SVD)."""
    fn = {"awgn": simulate_awgn, "rayleigh": simulate_rayleigh_mmse,
          "mimo": simulate_mimo_svd}[_check_channel(channel)]
    return fn(features, snr_db, rng, **kwargs)


def monte_carlo_noise_check(channel: Channel, snr_db: float, *, n_features: int = 200_000,
                            rng: np.random.Generator | int | None = 0,
                            **kwargs: Any) -> dict[str, float]:
    """Check that the simulated diffusion state has the noise the mapping claims.

    Draws unit-variance Gaussian features, simulates the channel and computes
    ``m = mean[(d − √ᾱ y)² / (1 − ᾱ)]`` where ``d`` is the diffusion state and ``ᾱ`` the
    mapping's per-element prediction. If the mapping is right, ``m = 1`` and
    ``z = (m − 1)/SE`` is approximately standard normal, with ``SE = √(2/n)`` (each
    normalized squared residual is χ²(1) under the hypothesis; the data-estimated SE is
    also returned — a t-statistic built from it has a small negative bias, about
    ``−√2/√n``, because χ²(1) is skewed).

    Returns
    -------
    dict
        ``ratio`` (m), ``standard_error``, ``z``, ``n``, and the predicted and empirical
        mean noise variance of the unbiased equalized features.
    """
    rng = _rng(rng)
    power = float(kwargs.get("signal_power", 1.0))
    y = rng.standard_normal(int(n_features)) * math.sqrt(power)
    out = simulate_channel(channel, y, snr_db, rng, **kwargs)
    resid = out.diffusion_state - np.sqrt(out.alpha_bar) * y
    norm = resid ** 2 / (1.0 - out.alpha_bar)
    n = norm.size
    ratio = float(norm.mean())
    se = math.sqrt(2.0 / n)  # exact under the hypothesis: norm ~ χ²(1), variance 2
    return {"channel": channel, "snr_db": float(snr_db), "n": n, "ratio": ratio,
            "standard_error": se, "z": (ratio - 1.0) / se,
            "standard_error_empirical": float(norm.std(ddof=1) / math.sqrt(n)),
            "predicted_noise_var": float(out.noise_var.mean()),
            "empirical_noise_var": float(((out.equalized - y) ** 2).mean())}
