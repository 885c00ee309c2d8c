"""The built-in birdsong set: zebra-finch-like syllables from a physical model of the syrinx.

The model (Sitt et al. 2008; Perl et al. 2011; Amador et al. 2013) has three parts:

1. **Labia.** A normal-form oscillator driven by air-sac pressure ``alpha`` and labial tension
   ``beta``. In normalised time ``tau = gamma t``::

       x'' = -alpha - beta x + x^2 - x^3 - (x + 1) x x'

   With this sign convention the labia rest for ``alpha < 0`` and phonate for ``alpha`` of about
   0.12 to 0.5 once ``beta`` is above the saddle-node-on-invariant-circle (SNILC) line
   ``beta_snilc(alpha)`` (which runs from 0.25 at ``alpha = 0`` down through 0 at
   ``alpha = 4/27``). Crossing that line starts (or stops) an oscillation of full amplitude and
   near-zero frequency, so the labia switch on and off with a brief pitch glide as pressure crosses
   the threshold, and near the line the waveform is pulse-like, with many harmonics. The
   fundamental frequency rises with the distance ``beta - beta_snilc``, hardly depends on
   ``alpha`` and scales with ``gamma``.
2. **Trachea.** A delay line of length L with reflection r at the far end; its input is the labial
   velocity ``x'``.
3. **Oro-oesophageal cavity.** A Helmholtz resonator (about 3 kHz) forced by the tracheal output
   pressure; the sound is the beak resistance times the beak flow.

The labia are integrated with RK4 at an internal rate of at least 640 kHz (20 times 32 kHz),
compiled with numba, and the result is decimated to the output rate. Syllable families are shapes
of ``alpha(t)`` and ``beta(t)``; ``beta(t)`` is found from a target pitch contour through a
lookup of the oscillator's frequency over (``alpha``, ``beta``), computed once per process.
"""

from __future__ import annotations

import functools
import math
import numbers

import numba
import numpy as np
import pandas as pd
from scipy import interpolate, signal
from tqdm import tqdm

from stimgen.errors import StimgenError

FAMILIES: tuple[str, ...] = ("stack", "upsweep", "downsweep", "fm", "call", "noisy")
DEFAULT_SR = 32000
MIN_SR = 8000
PEAK = 0.5

# --- the physical model ----------------------------------------------------------------------

INTERNAL_RATE = 640_000  # Hz: lowest integration rate (20 x 32 kHz); RK4 is converged there
SPEED_OF_SOUND = 343.0  # m/s
TRACHEA_REFLECTION = 0.65
# Oro-oesophageal cavity (SI units). The glottal inertance in series with the cavity compliance
# sets the ~3 kHz resonance, 1 / (2 pi sqrt(L_g C)); the beak is the large inertance, as in
# published implementations (beak 1e4, glottis 20-82). The other way round (beak 20, glottis 1e4)
# the cavity is a steep low-pass (-54 dB at 3 kHz re DC) that leaves almost a sine wave.
OEC_COMPLIANCE = 1.43e-10  # m^3/Pa
OEC_BEAK_INERTANCE = 1.0e4
OEC_GLOTTAL_INERTANCE = 20.0
OEC_BEAK_RESISTANCE = 5.0e6
OEC_CAVITY_RESISTANCE = 2.4e4

ALPHA_REST = -0.1  # air-sac pressure between syllables: the labia rest, no sound
LEAD = 0.002  # s of rest before the pressure gesture
TAIL = 0.008  # s of rest after it, for the last cycle and the cavity to ring down
MIN_VOICED_F0 = 200.0  # Hz: slower cycles (the first and last of a glide) are not pitch
# Hysteresis for counting labial cycles: every limit cycle in the phonation range swings below
# -0.57 and above +0.49, and the resting labia sit near x = 1.
CYCLE_LOW, CYCLE_HIGH = -0.25, 0.25


@numba.njit(cache=True, inline="always")
def _labia_rhs(x: float, v: float, alpha: float, beta: float) -> float:
    return -alpha - beta * x + x * x - x * x * x - (x + 1.0) * x * v


@numba.njit(cache=True)
def _labia(alpha: np.ndarray, beta: np.ndarray, steps: int, h: float, x0: float) -> tuple[np.ndarray, np.ndarray]:
    """RK4 with ``steps`` sub-steps per control sample; controls are interpolated linearly.

    ``h`` is the step in normalised time (gamma / internal rate). Returns x and x' (d/dtau)."""
    n = alpha.size * steps
    xs = np.empty(n)
    vs = np.empty(n)
    x, v = x0, 0.0
    for i in range(n):
        j = i // steps
        jn = min(j + 1, alpha.size - 1)
        w0 = (i % steps) / steps
        w1 = w0 + 1.0 / steps
        a0 = alpha[j] + (alpha[jn] - alpha[j]) * w0
        a1 = alpha[j] + (alpha[jn] - alpha[j]) * w1
        b0 = beta[j] + (beta[jn] - beta[j]) * w0
        b1 = beta[j] + (beta[jn] - beta[j]) * w1
        am, bm = 0.5 * (a0 + a1), 0.5 * (b0 + b1)
        k1x, k1v = v, _labia_rhs(x, v, a0, b0)
        k2x, k2v = v + 0.5 * h * k1v, _labia_rhs(x + 0.5 * h * k1x, v + 0.5 * h * k1v, am, bm)
        k3x, k3v = v + 0.5 * h * k2v, _labia_rhs(x + 0.5 * h * k2x, v + 0.5 * h * k2v, am, bm)
        k4x, k4v = v + h * k3v, _labia_rhs(x + h * k3x, v + h * k3v, a1, b1)
        x += h / 6.0 * (k1x + 2.0 * k2x + 2.0 * k3x + k4x)
        v += h / 6.0 * (k1v + 2.0 * k2v + 2.0 * k3v + k4v)
        xs[i] = x
        vs[i] = v
    return xs, vs


@numba.njit(cache=True)
def _trachea(source: np.ndarray, delay: int, r: float) -> np.ndarray:
    """p_in(t) = source(t) + p_back(t - T), p_back(t) = -r p_in(t - T); returns (1 - r) p_in(t - T)."""
    n = source.size
    p_in = np.zeros(n)
    p_out = np.zeros(n)
    for i in range(n):
        p_in[i] = source[i] - (r * p_in[i - 2 * delay] if i >= 2 * delay else 0.0)
        if i >= delay:
            p_out[i] = (1.0 - r) * p_in[i - delay]
    return p_out


@numba.njit(cache=True, inline="always")
def _oec_rhs(i1: float, i2: float, i3: float, v: float, dv: float) -> tuple[float, float, float]:
    c, lb, lg = OEC_COMPLIANCE, OEC_BEAK_INERTANCE, OEC_GLOTTAL_INERTANCE
    rb, rh = OEC_BEAK_RESISTANCE, OEC_CAVITY_RESISTANCE
    di2 = (-i1 / (lg * c) - rh * (1.0 / lb + 1.0 / lg) * i2 + (1.0 / (lg * c) - rb * rh / (lb * lg)) * i3
           + dv / lg + rh * v / (lg * lb))
    di3 = -(lg / lb) * i2 - (rb / lb) * i3 + v / lb
    return i2, di2, di3


@numba.njit(cache=True)
def _oec(pressure: np.ndarray, dt: float) -> np.ndarray:
    """RK4 for the Helmholtz resonator forced by ``pressure`` (linear between samples)."""
    out = np.empty(pressure.size)
    i1 = i2 = i3 = 0.0
    prev = 0.0
    for n in range(pressure.size):
        v1 = pressure[n]
        dv = (v1 - prev) / dt
        vm = 0.5 * (prev + v1)
        k1 = _oec_rhs(i1, i2, i3, prev, dv)
        k2 = _oec_rhs(i1 + 0.5 * dt * k1[0], i2 + 0.5 * dt * k1[1], i3 + 0.5 * dt * k1[2], vm, dv)
        k3 = _oec_rhs(i1 + 0.5 * dt * k2[0], i2 + 0.5 * dt * k2[1], i3 + 0.5 * dt * k2[2], vm, dv)
        k4 = _oec_rhs(i1 + dt * k3[0], i2 + dt * k3[1], i3 + dt * k3[2], v1, dv)
        i1 += dt / 6.0 * (k1[0] + 2.0 * k2[0] + 2.0 * k3[0] + k4[0])
        i2 += dt / 6.0 * (k1[1] + 2.0 * k2[1] + 2.0 * k3[1] + k4[1])
        i3 += dt / 6.0 * (k1[2] + 2.0 * k2[2] + 2.0 * k3[2] + k4[2])
        out[n] = OEC_BEAK_RESISTANCE * i3
        prev = v1
    return out


@numba.njit(cache=True)
def _cycle_times(x: np.ndarray) -> np.ndarray:
    """Sample positions (fractional) where x rises through CYCLE_HIGH after dipping below CYCLE_LOW."""
    times = np.empty(x.size)
    count = 0
    armed = False
    for i in range(1, x.size):
        if x[i] < CYCLE_LOW:
            armed = True
        elif armed and x[i] >= CYCLE_HIGH and x[i - 1] < CYCLE_HIGH:
            times[count] = i - 1 + (CYCLE_HIGH - x[i - 1]) / (x[i] - x[i - 1])
            count += 1
            armed = False
    return times[:count]


def _rest_position(alpha: float, beta: float) -> float:
    """The resting labia: the largest real root of x^3 - x^2 + beta x + alpha = 0."""
    roots = np.roots([1.0, -1.0, beta, alpha])
    return float(roots[np.abs(roots.imag) < 1e-9].real.max())


# --- pitch control: the (alpha, beta) -> f0 lookup ---------------------------------------------

_MAP_ALPHAS = np.linspace(0.12, 0.5, 9)
_MAP_DISTANCES = np.geomspace(2e-4, 0.5, 40)  # beta - beta_snilc(alpha)
_MAP_STEP = 24000.0 / INTERNAL_RATE  # normalised RK4 step at gamma = 24,000
_MAP_SETTLE, _MAP_SPAN = 600.0, 2400.0  # normalised time to settle, then to count cycles over


def _snilc_beta(alpha: np.ndarray) -> np.ndarray:
    """Tension at the SNILC bifurcation for pressure ``alpha > 0``: phonation needs beta above it.

    On the line the fixed point x is double: 2 x^3 - x^2 = alpha (root above 1/2), beta = 2x - 3x^2.
    """
    q = -1.0 / 108.0 - np.asarray(alpha, dtype=float) / 2.0  # depressed cubic in z = x - 1/6
    root = np.sqrt(q * q / 4.0 - 1.0 / 46656.0)
    x = np.cbrt(-q / 2.0 + root) + np.cbrt(-q / 2.0 - root) + 1.0 / 6.0
    return 2.0 * x - 3.0 * x * x


@numba.njit(cache=True, parallel=True)
def _map_frequencies(alphas: np.ndarray, betas: np.ndarray, rests: np.ndarray) -> np.ndarray:
    """Oscillation frequency (cycles per unit normalised time) on a grid; 0 where fewer than 3 cycles."""
    out = np.zeros(betas.shape)
    settle = int(_MAP_SETTLE / _MAP_STEP)
    n = settle + int(_MAP_SPAN / _MAP_STEP)
    for k in numba.prange(betas.size):
        i, j = k // betas.shape[1], k % betas.shape[1]
        # constant controls: two equal control samples with n // 2 RK4 steps each
        x, _ = _labia(np.full(2, alphas[i]), np.full(2, betas[i, j]), n // 2, _MAP_STEP, rests[i, j])
        times = _cycle_times(x[settle:])
        if times.size >= 3:
            out[i, j] = (times.size - 1) / ((times[-1] - times[0]) * _MAP_STEP)
    return out


@functools.lru_cache(maxsize=1)
def _distance_lookup() -> interpolate.RegularGridInterpolator:
    """log(beta - beta_snilc) as a function of (alpha, log f), f in cycles per unit normalised time."""
    betas = _snilc_beta(_MAP_ALPHAS)[:, None] + _MAP_DISTANCES[None, :]
    rests = np.array([[_rest_position(ALPHA_REST, b) for b in row] for row in betas])
    freqs = _map_frequencies(_MAP_ALPHAS, betas, rests)
    lowest = max(row[row > 0].min() for row in freqs)
    log_f = np.linspace(np.log(lowest), np.log(freqs.max(axis=1).min()), 64)
    log_d = np.empty((_MAP_ALPHAS.size, log_f.size))
    for i, row in enumerate(freqs):
        ok = row > 0
        if np.any(np.diff(row[ok]) <= 0):
            raise RuntimeError("birdsong pitch map is not monotonic in tension")  # a model change broke it
        log_d[i] = np.interp(log_f, np.log(row[ok]), np.log(_MAP_DISTANCES[ok]))
    return interpolate.RegularGridInterpolator((_MAP_ALPHAS, log_f), log_d)


def _beta_for_f0(alpha: np.ndarray, f0: np.ndarray, gamma: float) -> np.ndarray:
    """Labial tension that makes the labia oscillate at ``f0`` (Hz) under pressure ``alpha``.

    Below the map's lowest pressure (0.12) the tension stays at its value there, so a falling
    pressure then crosses the SNILC line and the labia stop (and start, when it rises)."""
    lookup = _distance_lookup()
    a_grid, f_grid = lookup.grid
    a = np.clip(alpha, a_grid[0], a_grid[-1])
    log_f = np.clip(np.log(np.asarray(f0) / gamma), f_grid[0], f_grid[-1])
    return _snilc_beta(a) + np.exp(lookup(np.column_stack([a, log_f])))


# --- syllable families: gestures of pressure and tension ----------------------------------------

# Every syllable has all of these (a family that does not use one sets it to a neutral value).
_PARAMETERS = ("gamma", "trachea_length", "alpha_start", "alpha_end", "alpha_noise", "onset", "plateau",
               "offset", "f0_start", "f0_end", "sweep_curvature", "fm_rate", "fm_depth", "fm_phase", "f0_jitter")


def _uniform(rng: np.random.Generator, low: float, high: float) -> float:
    return float(rng.uniform(low, high))


def _log_uniform(rng: np.random.Generator, low: float, high: float) -> float:
    return float(np.exp(rng.uniform(np.log(low), np.log(high))))


def _draw_parameters(family: str, rng: np.random.Generator) -> dict:
    """Every parameter of one syllable, drawn for its family. Times in s, frequencies in Hz.

    The pressure gesture rises over ``onset``, holds for ``plateau`` (drifting from
    ``alpha_start`` to ``alpha_end``) and falls over ``offset``. The target pitch moves from
    ``f0_start`` to ``f0_end`` (log-frequency shaped by ``sweep_curvature``), times a sinusoidal
    modulation (``fm_rate``, ``fm_depth``, ``fm_phase``) and a slow random wander (``f0_jitter``).
    ``alpha_noise`` is the standard deviation of white pressure noise (per output sample).
    """
    p = {
        "gamma": _uniform(rng, 22000.0, 26000.0),
        "trachea_length": _uniform(rng, 0.025, 0.035),
        "alpha_start": _uniform(rng, 0.15, 0.4),
        "alpha_end": _uniform(rng, 0.15, 0.4),
        "onset": _uniform(rng, 0.004, 0.015),
        "offset": _uniform(rng, 0.006, 0.02),
        "sweep_curvature": 1.0,
        "fm_rate": 0.0,
        "fm_depth": 0.0,
        "fm_phase": 0.0,
        "f0_jitter": _uniform(rng, 0.002, 0.01),
        "alpha_noise": 0.0,
    }
    if family == "stack":
        p["plateau"] = _uniform(rng, 0.06, 0.2)
        p["f0_start"] = p["f0_end"] = _log_uniform(rng, 400.0, 1500.0)
    elif family in ("upsweep", "downsweep"):
        p["plateau"] = _uniform(rng, 0.04, 0.17)
        low = _log_uniform(rng, 380.0, 850.0)
        high = low * _uniform(rng, 1.4, 2.2)
        p["f0_start"], p["f0_end"] = (low, high) if family == "upsweep" else (high, low)
        p["sweep_curvature"] = _log_uniform(rng, 0.5, 2.0)
    elif family == "fm":
        p["plateau"] = _uniform(rng, 0.08, 0.2)
        p["f0_start"] = p["f0_end"] = _log_uniform(rng, 450.0, 1200.0)
        p["fm_rate"] = _uniform(rng, 15.0, 50.0)
        p["fm_depth"] = _uniform(rng, 0.1, 0.25)
        p["fm_phase"] = _uniform(rng, 0.0, 2.0 * math.pi)
    elif family == "call":  # a short pressure pulse with no plateau; pitch mostly falls a little
        p["plateau"] = 0.0
        p["onset"] = _uniform(rng, 0.012, 0.035)
        p["offset"] = _uniform(rng, 0.015, 0.045)
        p["alpha_start"] = p["alpha_end"] = _uniform(rng, 0.2, 0.45)
        p["f0_start"] = _log_uniform(rng, 450.0, 1000.0)
        p["f0_end"] = p["f0_start"] * _uniform(rng, 0.75, 1.05)
    elif family == "noisy":
        p["plateau"] = _uniform(rng, 0.05, 0.18)
        p["f0_start"] = p["f0_end"] = _log_uniform(rng, 400.0, 1200.0)
        p["alpha_noise"] = _uniform(rng, 0.1, 0.3)
    else:  # a family of FAMILIES with no parameters here
        raise StimgenError(f"birdsong family {family!r} has no parameters to draw")
    return p


def _raised_cosine(u: np.ndarray) -> np.ndarray:
    return 0.5 - 0.5 * np.cos(np.pi * np.clip(u, 0.0, 1.0))


def _smooth_noise(rng: np.random.Generator, t: np.ndarray, spacing: float) -> np.ndarray:
    """A smooth random curve through standard-normal knots ``spacing`` s apart."""
    knots = np.arange(-1, int(t[-1] / spacing) + 3) * spacing
    return interpolate.CubicSpline(knots, rng.standard_normal(knots.size))(t)


def _controls(p: dict, rng: np.random.Generator, sr: int) -> tuple[np.ndarray, np.ndarray]:
    """alpha(t) and beta(t) at the output rate for the parameters ``p``."""
    gesture = p["onset"] + p["plateau"] + p["offset"]
    n = int(round((LEAD + gesture + TAIL) * sr))
    t = np.arange(n) / sr - LEAD  # time from the start of the gesture
    envelope = _raised_cosine(t / p["onset"]) * _raised_cosine((gesture - t) / p["offset"])
    u = np.clip(t / gesture, 0.0, 1.0)
    target = p["alpha_start"] + (p["alpha_end"] - p["alpha_start"]) * u  # pressure of the plateau

    contour = u ** p["sweep_curvature"]
    f0 = p["f0_start"] * (p["f0_end"] / p["f0_start"]) ** contour
    f0 = f0 * (1.0 + p["fm_depth"] * np.sin(2.0 * np.pi * p["fm_rate"] * t + p["fm_phase"]))
    f0 = f0 * np.exp(p["f0_jitter"] * _smooth_noise(rng, t - t[0], 0.02))
    alpha = ALPHA_REST + (target - ALPHA_REST) * envelope
    beta = _beta_for_f0(alpha, f0, p["gamma"])  # tension follows the smooth pressure

    if p["alpha_noise"] > 0:
        alpha = alpha + p["alpha_noise"] * envelope * rng.standard_normal(n)
    return alpha, beta


# --- synthesis ------------------------------------------------------------------------------------


def _oversampling(sr: int) -> int:
    return max(20, math.ceil(INTERNAL_RATE / sr))


def _render(alpha: np.ndarray, beta: np.ndarray, p: dict, sr: int) -> tuple[np.ndarray, np.ndarray]:
    """Sound at ``sr`` and the labial position x at the internal rate ``sr * _oversampling(sr)``."""
    steps = _oversampling(sr)
    rate = sr * steps
    x0 = _rest_position(float(alpha[0]), float(beta[0]))
    x, velocity = _labia(alpha, beta, steps, p["gamma"] / rate, x0)
    delay = max(1, int(round(p["trachea_length"] / SPEED_OF_SOUND * rate)))
    pressure = _oec(_trachea(velocity, delay, TRACHEA_REFLECTION), 1.0 / rate)
    sound = signal.resample_poly(pressure, 1, steps)[: alpha.size]
    return sound, x


def _mean_f0(x: np.ndarray, rate: float) -> float:
    """Cycles per second of the labia over their voiced cycles (those faster than MIN_VOICED_F0)."""
    periods = np.diff(_cycle_times(x)) / rate
    voiced = periods[periods < 1.0 / MIN_VOICED_F0]
    return float(voiced.size / voiced.sum()) if voiced.size else float("nan")


def _check_sr(sr: int) -> int:
    if isinstance(sr, bool) or not isinstance(sr, numbers.Integral) or sr < MIN_SR:
        raise StimgenError(f"sample rate must be a whole number of at least {MIN_SR} Hz, got {sr!r}")
    return int(sr)


def synthesize_syllable(family: str, rng: np.random.Generator, sr: int = DEFAULT_SR) -> tuple[np.ndarray, dict]:
    """One syllable of a family, with its parameters drawn from ``rng``.

    Parameters
    ----------
    family : str
        One of :data:`FAMILIES`: ``"stack"`` (steady pressure and tension: a harmonic stack),
        ``"upsweep"`` / ``"downsweep"`` (tension ramps), ``"fm"`` (oscillating tension),
        ``"call"`` (a short pressure pulse, 30-80 ms) or ``"noisy"`` (fluctuating pressure).
    rng : numpy.random.Generator
        Source of every random draw.
    sr : int
        Output sample rate in Hz, at least 8000.

    Returns
    -------
    audio : numpy.ndarray
        float32 mono, peak 0.5, at most 0.25 s long, starting and ending at rest.
    labels : dict
        ``family``, ``duration`` (s, the length of ``audio``), ``mean_f0`` (Hz, cycles per second
        of the labia over the voiced part) and every parameter drawn: ``gamma``,
        ``trachea_length`` (m), ``alpha_start``, ``alpha_end``, ``alpha_noise``, ``onset``,
        ``plateau``, ``offset`` (s), ``f0_start``, ``f0_end`` (Hz, target pitch),
        ``sweep_curvature``, ``fm_rate`` (Hz), ``fm_depth``, ``fm_phase`` (rad), ``f0_jitter``.

    Examples
    --------
    >>> audio, labels = synthesize_syllable("stack", np.random.default_rng(0))
    >>> audio.dtype, labels["family"], 300 < labels["mean_f0"] < 1800
    (dtype('float32'), 'stack', True)
    """
    if family not in FAMILIES:
        raise StimgenError(f"unknown birdsong family {family!r}; choose from {', '.join(FAMILIES)}")
    if not isinstance(rng, np.random.Generator):
        raise StimgenError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
    sr = _check_sr(sr)
    p = _draw_parameters(family, rng)
    alpha, beta = _controls(p, rng, sr)
    sound, x = _render(alpha, beta, p, sr)
    audio = (PEAK / np.max(np.abs(sound)) * sound).astype(np.float32)
    labels = {"family": family, "duration": audio.size / sr, "mean_f0": _mean_f0(x, sr * _oversampling(sr))}
    labels.update((name, p[name]) for name in _PARAMETERS)
    return audio, labels


def synthesize_song(rng: np.random.Generator, sr: int = DEFAULT_SR, n_syllables: int = 8,
                    gaps: tuple[float, float] = (0.02, 0.08), snr_db: float = 50.0) -> tuple[np.ndarray, np.ndarray]:
    """A song of ``n_syllables`` syllables (the families in turn) with known onsets and offsets.

    Each syllable is cut to where its own amplitude first and last reaches 1 % of its peak (so
    its onset is known to the sample), scaled to a peak of 0.25-0.5, and followed by a gap drawn
    uniformly from ``gaps`` (s); the song starts with 0.1 s of silence and lies in white noise
    ``snr_db`` below a peak of 0.5. For trying ``stimgen data segment`` and testing it.

    Returns
    -------
    song : numpy.ndarray
        float32 mono at ``sr``.
    units : numpy.ndarray
        (n_syllables, 2) onset and offset of each syllable (s).

    Examples
    --------
    >>> song, units = synthesize_song(np.random.default_rng(0), n_syllables=3)
    >>> units.shape, bool(units[0, 0] == 0.1)
    ((3, 2), True)
    """
    sr = _check_sr(sr)
    start = int(0.1 * sr)
    parts, units, position = [np.zeros(start, dtype=np.float32)], [], start
    for k in range(n_syllables):
        y, _ = synthesize_syllable(FAMILIES[k % len(FAMILIES)], rng, sr=sr)
        loud = np.flatnonzero(np.abs(y) >= 0.01 * np.abs(y).max())
        y = y[loud[0]: loud[-1] + 1] * rng.uniform(0.5, 1.0)
        gap = int(rng.uniform(*gaps) * sr)
        units.append((position / sr, (position + y.size) / sr))
        parts += [y, np.zeros(gap, dtype=np.float32)]
        position += y.size + gap
    song = np.concatenate(parts)
    song += (PEAK * 10 ** (-snr_db / 20) * rng.standard_normal(song.size)).astype(np.float32)
    return song, np.array(units)


def generate(
    n: int, seed: int = 0, sr: int = DEFAULT_SR, progress: bool = False
) -> tuple[list[np.ndarray], pd.DataFrame]:
    """``n`` syllables, the families in turn, parameters drawn from ``np.random.default_rng(seed)``.

    Parameters
    ----------
    n : int
        Number of syllables, at least 1. Families cycle through :data:`FAMILIES`, so counts are
        balanced.
    seed : int
        Seed of the random generator: the same ``n``, ``seed`` and ``sr`` give bit-identical audio.
    sr : int
        Output sample rate in Hz, at least 8000.
    progress : bool
        Show a progress bar.

    Returns
    -------
    audio : list of numpy.ndarray
        float32 mono syllables (see :func:`synthesize_syllable`).
    labels : pandas.DataFrame
        One row per syllable, the columns of :func:`synthesize_syllable`'s labels.

    Examples
    --------
    >>> audio, labels = generate(6, seed=1)
    >>> labels["family"].tolist() == list(FAMILIES)
    True
    """
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 1:
        raise StimgenError(f"number of syllables must be a whole number of at least 1, got {n!r}")
    sr = _check_sr(sr)
    rng = np.random.default_rng(seed)
    audio, rows = [], []
    for i in tqdm(range(n), desc="synthesising birdsong", unit="syllable", disable=not progress):
        y, labels = synthesize_syllable(FAMILIES[i % len(FAMILIES)], rng, sr)
        audio.append(y)
        rows.append(labels)
    return audio, pd.DataFrame(rows)
