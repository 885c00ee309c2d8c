"""The built-in vowel set: Peterson & Barney (1952) formant targets, synthesised and measured.

:func:`peterson_barney` reads the table that ships with Praat (76 speakers: men, women and
children; 10 American English vowels; 2 tokens each). :func:`synthesize_vowel` is a
source-filter synthesiser in plain numpy/scipy, so a token is bit-identical for a given seed
(with the same numpy and scipy). :func:`generate` turns the table into audio and labels, and
measures every token back with Praat so that users can see how well each target was realised.
"""

from __future__ import annotations

import io
import math
import numbers

import numpy as np
import pandas as pd
import parselmouth
from scipy import signal
from tqdm import tqdm

from stimgen.data.folder import BETWEEN_COLUMNS
from stimgen.errors import StimgenError
from stimgen.signal.audio import apply_ramps, resample
from stimgen.signal.phonetics import bark_to_hz, formants_for_voice, hz_to_bark

N_TABLE = 1520
MIN_DURATION = 0.1  # s: room for the on/off ramps and for Praat's analysis window
RAMP = 0.020  # s, raised-cosine on and off ramps
PEAK = 0.5
MODEL_SR = 16000  # Hz: the rate the source-filter model runs at, resampled to the rate asked for

_VOICE_NAMES = {"m": "man", "w": "woman", "c": "child"}
# Upper formants (F4, F5, Hz) and bandwidths (B1..B5, Hz) per voice. F4 and F5 follow vocal-tract
# length (about 17, 14.5 and 12 cm: formant spacing c / 2L of about 1000, 1200 and 1450 Hz).
_UPPER_FORMANTS = {"man": (3500.0, 4500.0), "woman": (4100.0, 5200.0), "child": (4900.0, 6300.0)}
_BANDWIDTHS = {
    "man": (70.0, 90.0, 150.0, 250.0, 300.0),
    "woman": (80.0, 100.0, 170.0, 280.0, 330.0),
    "child": (90.0, 110.0, 190.0, 300.0, 360.0),
}
# Praat's trigraphs for the table's vowels, and the IPA symbols they stand for.
_PRAAT_IPA = {
    "i": "i", "\\ic": "ɪ", "\\ef": "ɛ", "\\ae": "æ", "\\vt": "ʌ",
    "\\as": "ɑ", "\\ct": "ɔ", "\\hs": "ʊ", "u": "u", "\\er\\hr": "ɝ",
}
_F0_JITTER = 0.10  # extra tokens: F0 within +-10 % of the source row
_FORMANT_JITTER = 0.07  # extra tokens: F1-F3 within +-7 %


def peterson_barney() -> pd.DataFrame:
    """Praat's Peterson & Barney (1952) formant table as a DataFrame.

    Columns: ``type`` (m, w, c), ``sex`` (m, f), ``speaker`` (1-76), ``vowel`` (ARPAbet-like
    code: iy, ih, eh, ae, ah, aa, ao, uh, uw, er), ``ipa`` (Unicode IPA; Praat stores trigraphs
    such as ``\\ic``), ``f0``, ``f1``, ``f2``, ``f3`` (Hz). 1,520 rows in Praat's order.
    A few rows carry F1 equal to F2, as measured in 1952.

    Examples
    --------
    >>> peterson_barney().shape
    (1520, 9)
    """
    table = parselmouth.praat.call("Create formant table (Peterson & Barney 1952)")
    text = parselmouth.praat.call(table, "List", False)
    df = pd.read_csv(io.StringIO(text), sep="\t", dtype={"Type": str, "Sex": str})
    df.columns = [c.lower() for c in df.columns]
    df["ipa"] = df["ipa"].map(_PRAAT_IPA)
    return df


def vocal_tract(f1: float, f2: float, f3: float,
                voice: str = "man") -> tuple[np.ndarray, np.ndarray]:
    """Five formants and their bandwidths (Hz) for F1-F3 targets and a voice.

    ``voice`` is ``"man"``, ``"woman"`` or ``"child"``: it sets F4 and F5 (from typical
    vocal-tract lengths, kept at least 300 Hz above F3 and 700 Hz above F4) and Klatt-like
    bandwidths, slightly wider for the shorter vocal tracts.

    Examples
    --------
    >>> vocal_tract(342, 2322, 3000)[0].tolist()
    [342.0, 2322.0, 3000.0, 3500.0, 4500.0]
    """
    if voice not in _UPPER_FORMANTS:
        raise StimgenError(f"voice must be one of {sorted(_UPPER_FORMANTS)}, got {voice!r}")
    f1, f2, f3 = _hz_vector([f1, f2, f3], "F1-F3")
    f4_default, f5_default = _UPPER_FORMANTS[voice]
    f4 = max(f4_default, f3 + 300.0)
    f5 = max(f5_default, f4 + 700.0)
    return np.array([f1, f2, f3, f4, f5], dtype=float), np.array(_BANDWIDTHS[voice])


def synthesize_vowel(
    f0: float,
    formants,
    bandwidths,
    sr: int = 16000,
    duration: float = 0.4,
    rng: np.random.Generator | int | None = None,
) -> np.ndarray:
    """A synthetic vowel: glottal pulses through a cascade of formant resonators.

    Source: KLGLOTT88 glottal flow pulses (open quotient rising from about 0.55 for low voices
    to 0.7 for high ones) with an extra one-pole spectral tilt; an F0 contour that rises by 1-3 %
    over the first quarter and then declines by 4-7 %, scaled so that its mean is ``f0``;
    cycle-to-cycle jitter (period s.d. 0.8 %; Praat measures about 0.5 % local jitter) and
    shimmer (amplitude s.d. 2 %); aspiration noise during the open phase (HNR near 18 dB).
    Filter: one Klatt second-order resonator per formant, in cascade. Then lip radiation (first
    difference), 20 ms raised-cosine on/off ramps, and peak normalisation to 0.5.

    The model runs at 16 kHz and is resampled to ``sr``: a cascade of five formants describes
    the spectrum up to about 8 kHz only (at higher rates its steep roll-off above F5 makes Praat
    find spurious formants), so the signal holds nothing above 8 kHz, and a rate below 16 kHz
    filters out what lies above its Nyquist frequency.

    Parameters
    ----------
    f0
        Mean fundamental frequency (Hz), 40 to 1000.
    formants, bandwidths
        Formant frequencies and bandwidths (Hz), equal lengths; every formant below 8000 Hz.
        :func:`vocal_tract` makes a natural set of five.
    sr
        Sampling rate of the result (Hz), at least 8000.
    duration
        Length (s), at least 0.1.
    rng
        Seed or generator for the random parts (contour shape, jitter, shimmer, noise, voice
        quality): the same seed gives the same samples. ``None`` draws fresh randomness.

    Returns
    -------
    numpy.ndarray
        float32 samples, ``round(duration * sr)`` of them, peak 0.5.

    Examples
    --------
    >>> formants, bandwidths = vocal_tract(768, 1333, 2522)
    >>> y = synthesize_vowel(123, formants, bandwidths, rng=0)
    >>> y.dtype, y.shape, float(abs(y).max())
    (dtype('float32'), (6400,), 0.5)
    """
    if not (_is_real(f0) and 40 <= f0 <= 1000):
        raise StimgenError(f"f0 must be between 40 and 1000 Hz, got {f0!r}")
    _check_rate_and_duration(sr, duration)
    formants = _hz_vector(formants, "formants")
    bandwidths = _hz_vector(bandwidths, "bandwidths")
    if formants.shape != bandwidths.shape:
        raise StimgenError(
            f"formants and bandwidths differ in length ({formants.size} and {bandwidths.size})"
        )
    if np.any(formants >= MODEL_SR / 2):
        raise StimgenError(f"formants must lie below {MODEL_SR // 2} Hz, got {formants.tolist()}")
    rng = np.random.default_rng(rng)

    n = round(duration * sr)
    # 10 ms more than needed, so that the resampler's edge lies beyond the end kept
    n_model = math.ceil(n * MODEL_SR / sr) + MODEL_SR // 100
    # open quotient: 0.55 at 100 Hz or lower, 0.7 at 300 Hz or higher, +-0.03 by token
    open_quotient = float(np.clip(0.55 + 0.15 * (f0 - 100) / 200, 0.55, 0.7))
    open_quotient += rng.uniform(-0.03, 0.03)
    flow = _glottal_flow(f0, duration, n_model, open_quotient, rng)
    aspiration = 0.01 * rng.standard_normal(n_model) * (0.25 + flow)
    tilt = math.exp(-2 * math.pi * rng.uniform(2500.0, 3500.0) / MODEL_SR)
    source = signal.lfilter([1 - tilt], [1, -tilt], flow + aspiration)
    y = signal.sosfilt(_resonators(formants, bandwidths, MODEL_SR), source)
    y = np.diff(y, prepend=0.0)
    y = apply_ramps(resample(y.astype(np.float32), MODEL_SR, sr)[:n], sr, RAMP * 1e3)
    return (PEAK * y / np.max(np.abs(y))).astype(np.float32)


def mean_vowel(
    vowel: str, voice: str = "man", f0: float | None = None, sr: int = 16000, duration: float = 0.5,
    rng: np.random.Generator | int | None = 0,
) -> np.ndarray:
    """A token of ``vowel`` (a Peterson & Barney code: iy, ih, eh, ae, ah, aa, ao, uh, uw, er) at
    the table's mean F1-F3 for ``voice`` (man, woman, child), and its mean F0 unless ``f0`` is given.

    Examples
    --------
    >>> y = mean_vowel("iy", "man", f0=120.0, duration=1.0)
    >>> y.shape
    (16000,)
    """
    if voice not in _UPPER_FORMANTS:
        raise StimgenError(f"voice must be one of {sorted(_UPPER_FORMANTS)}, got {voice!r}")
    table = peterson_barney()
    rows = table[(table["vowel"] == vowel) & (table["type"].map(_VOICE_NAMES) == voice)]
    if rows.empty:
        raise StimgenError(f"vowel must be one of {', '.join(table['vowel'].unique())}, got {vowel!r}")
    means = rows[["f0", "f1", "f2", "f3"]].astype(float).mean()
    formants, bandwidths = vocal_tract(means.f1, means.f2, means.f3, voice)
    return synthesize_vowel(means.f0 if f0 is None else f0, formants, bandwidths, sr=sr, duration=duration, rng=rng)


def generate(
    n: int | None = None,
    seed: int = 0,
    sr: int = 16000,
    duration: float = 0.4,
    progress: bool = False,
    between: int = 0,
) -> tuple[list[np.ndarray], pd.DataFrame]:
    """Synthesised Peterson & Barney vowels with their labels.

    Parameters
    ----------
    n
        ``None``: the 1,520 table tokens, in table order. ``n <= 1520``: a random subset of
        ``n`` table rows chosen with ``seed``, kept in table order. ``n > 1520``: all table
        tokens, then ``n - 1520`` extra tokens, each made from a randomly chosen table row with
        F0 jittered within +-10 % and F1-F3 within +-7 % (redrawn until F1 < F2 < F3).
    seed
        Seeds everything. A token's audio depends only on ``seed`` and its table row (or its
        position among the extra tokens), so a subset holds exactly the same audio as the full
        set for the same seed.
    sr
        Sampling rate (Hz), at least 8000 (see :func:`synthesize_vowel` on rates).
    duration
        Length of every token (s), at least 0.1.
    progress
        Show a progress bar.
    between
        Tokens added after the others, each between two tokens of the set of one speaker with
        different vowels (see :func:`_between_rows`): the paths between the categories that a
        continuum crosses, and what a model trained with ``between_weight`` learns its
        interpolations from.

    Returns
    -------
    audio, labels
        ``audio``: one float32 array per token. ``labels``: one row per token with ``type``
        (man, woman, child), ``sex``, ``speaker``, ``vowel``, ``ipa``; ``f0``, ``f1``, ``f2``,
        ``f3``, the targets synthesised (Hz); ``f1_measured``, ``f2_measured``, measured back
        with Praat (ceiling from :func:`~stimgen.signal.phonetics.max_formant_for`, over the central
        half of the token); ``jittered``, True for the extra tokens; with ``between``, also
        ``other_vowel``, ``between_a``, ``between_b`` and ``between_at``: a between token lies
        ``between_at`` (0-1) of the way from token ``between_a`` to token ``between_b`` (their
        positions in the set), its ``vowel`` is the nearer one's, ``other_vowel`` the farther
        one's; the other tokens have -1, -1, NaN and an empty other_vowel.
    """
    if n is not None and not (_is_integer(n) and n >= 1):
        raise StimgenError(f"n must be a whole number of tokens, at least 1, got {n!r}")
    if not (_is_integer(seed) and seed >= 0):
        raise StimgenError(f"seed must be a whole number >= 0, got {seed!r}")
    if not (_is_integer(between) and between >= 0):
        raise StimgenError(f"between must be a whole number of tokens, at least 0, got {between!r}")
    _check_rate_and_duration(sr, duration)

    table = peterson_barney()
    table["type"] = table["type"].map(_VOICE_NAMES)
    table[["f0", "f1", "f2", "f3"]] = table[["f0", "f1", "f2", "f3"]].astype(float)
    table["jittered"] = False
    if n is not None and n <= N_TABLE:
        chosen = np.random.default_rng([seed, 1]).choice(N_TABLE, size=n, replace=False)
        table = table.iloc[np.sort(chosen)]
    elif n is not None:
        extra = _jittered_rows(table, n - N_TABLE, np.random.default_rng([seed, 2]))
        table = pd.concat([table, extra])
    if between:
        table = pd.concat([table.assign(other_vowel="", between_a=-1, between_b=-1, between_at=np.nan),
                           _between_rows(table, between, np.random.default_rng([seed, 3]))])
    # the stream of each token: its table row, or its position in the set for an extra token
    extra = table["jittered"].to_numpy() | (table["between_a"].to_numpy() >= 0 if between else False)
    streams = np.where(extra, np.arange(len(table)), table.index)
    labels = table.reset_index(drop=True)
    if between:
        labels = labels.astype({"between_a": int, "between_b": int, "between_at": float})

    audio, measured = [], []
    for row, stream in tqdm(zip(labels.itertuples(), streams), total=len(labels),
                            disable=not progress, desc="vowels", unit="token"):
        formants, bandwidths = vocal_tract(row.f1, row.f2, row.f3, row.type)
        y = synthesize_vowel(row.f0, formants, bandwidths, sr, duration,
                             rng=np.random.default_rng([seed, 0, stream]))
        audio.append(y)
        measured.append(formants_for_voice(y, sr, row.f0)[:2])
    labels[["f1_measured", "f2_measured"]] = np.array(measured).reshape(-1, 2)
    columns = ["type", "sex", "speaker", "vowel", "ipa", "f0", "f1", "f2", "f3", "f1_measured", "f2_measured",
               "jittered"]
    return audio, labels[columns + (["other_vowel", *BETWEEN_COLUMNS] if between else [])]


def _between_rows(table: pd.DataFrame, count: int, rng: np.random.Generator) -> pd.DataFrame:
    """``count`` tokens between two of ``table``'s rows of one speaker with different vowels.

    Each takes a random row and another row of the same speaker with a different vowel, and a
    weight ``between_at`` uniform in [0, 1]: F1-F3 are mixed linearly in Bark and F0 log-linearly,
    so the tokens fill the paths between that speaker's vowels. ``between_a`` and ``between_b``
    are the two rows' positions in ``table``; ``vowel`` and ``ipa`` name the nearer vowel,
    ``other_vowel`` the farther one.
    """
    speakers, vowels = table["speaker"].to_numpy(), table["vowel"].to_numpy()
    mates = [np.flatnonzero((speakers == speakers[i]) & (vowels != vowels[i])) for i in range(len(table))]
    usable = np.flatnonzero([len(m) > 0 for m in mates])
    if not len(usable):
        raise StimgenError("between tokens need two vowels of one speaker among the tokens; give a larger n")
    rows = []
    for i, w in zip(rng.choice(usable, size=count), rng.uniform(0.0, 1.0, size=count)):
        j = rng.choice(mates[i])
        a, b = table.iloc[i], table.iloc[j]
        near, far = (a, b) if w < 0.5 else (b, a)
        row = near.copy()
        row[["f1", "f2", "f3"]] = bark_to_hz((1 - w) * hz_to_bark(a[["f1", "f2", "f3"]].to_numpy(float))
                                             + w * hz_to_bark(b[["f1", "f2", "f3"]].to_numpy(float)))
        row["f0"] = math.exp((1 - w) * math.log(a["f0"]) + w * math.log(b["f0"]))
        row["other_vowel"], row["jittered"] = far["vowel"], False
        row["between_a"], row["between_b"], row["between_at"] = i, j, w
        rows.append(row)
    return pd.DataFrame(rows)


def _jittered_rows(table: pd.DataFrame, count: int, rng: np.random.Generator) -> pd.DataFrame:
    """``count`` rows drawn from ``table`` with F0 and F1-F3 jittered; ``jittered`` set True.

    F0 is scaled by a factor uniform in 1 +- 10 %, each of F1-F3 by its own factor uniform in
    1 +- 7 %; draws that would break F1 < F2 < F3 are redrawn.
    """
    rows = table.iloc[rng.integers(0, len(table), size=count)].copy()
    rows["f0"] = rows["f0"] * rng.uniform(1 - _F0_JITTER, 1 + _F0_JITTER, size=count)
    targets = rows[["f1", "f2", "f3"]].to_numpy(dtype=float)
    jittered = np.empty_like(targets)
    redraw = np.ones(count, dtype=bool)
    while redraw.any():
        factors = rng.uniform(1 - _FORMANT_JITTER, 1 + _FORMANT_JITTER, size=(redraw.sum(), 3))
        jittered[redraw] = targets[redraw] * factors
        redraw = ~((jittered[:, 0] < jittered[:, 1]) & (jittered[:, 1] < jittered[:, 2]))
    rows[["f1", "f2", "f3"]] = jittered
    rows["jittered"] = True
    return rows


def _glottal_flow(f0: float, duration: float, n: int, open_quotient: float,
                  rng: np.random.Generator) -> np.ndarray:
    """KLGLOTT88 flow pulses, ``n`` samples at the model rate, with jitter and shimmer.

    The F0 contour spans ``duration`` (its last value holds beyond).
    """
    rise = rng.uniform(0.01, 0.03)
    fall = rng.uniform(0.04, 0.07)
    knots_t = np.array([0.0, 0.25, 1.0]) * duration
    knots_f = np.array([1.0, 1.0 + rise, 1.0 + rise - fall])
    # the mean of the piecewise-linear contour over the token, so that the mean F0 is f0
    mean = 0.25 * (knots_f[0] + knots_f[1]) / 2 + 0.75 * (knots_f[1] + knots_f[2]) / 2
    knots_f *= f0 / mean

    onsets, amplitudes = [], []
    t = -rng.uniform(0.0, 1.0 / f0)  # the first cycle starts at or before the first sample
    while t < n / MODEL_SR:
        onsets.append(t)
        amplitudes.append(1.0 + 0.02 * rng.standard_normal())
        t += (1.0 + 0.008 * rng.standard_normal()) / np.interp(t, knots_t, knots_f)
    onsets.append(t)
    onsets = np.array(onsets)

    times = np.arange(n) / MODEL_SR
    cycle = np.searchsorted(onsets, times, side="right") - 1
    times_in = times - onsets[cycle]
    periods = np.diff(onsets)[cycle]
    x = times_in / (open_quotient * periods)
    pulse = np.where(x < 1.0, 6.75 * x**2 * (1.0 - x), 0.0)
    return np.asarray(amplitudes)[cycle] * pulse


def _resonators(formants: np.ndarray, bandwidths: np.ndarray, sr: int) -> np.ndarray:
    """Klatt (1980) digital resonators, unity gain at 0 Hz, as second-order sections."""
    c = -np.exp(-2 * np.pi * bandwidths / sr)
    b = 2 * np.exp(-np.pi * bandwidths / sr) * np.cos(2 * np.pi * formants / sr)
    a = 1 - b - c
    zeros = np.zeros_like(a)
    return np.column_stack([a, zeros, zeros, np.ones_like(a), -b, -c])


def _check_rate_and_duration(sr, duration) -> None:
    if not (_is_integer(sr) and sr >= 8000):
        raise StimgenError(f"sr must be a whole number of Hz, at least 8000, got {sr!r}")
    if not (_is_real(duration) and math.isfinite(duration) and duration >= MIN_DURATION):
        raise StimgenError(f"duration must be at least {MIN_DURATION} s, got {duration!r}")


def _hz_vector(values, name: str) -> np.ndarray:
    try:
        values = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        raise StimgenError(f"{name} must be numbers (Hz)") from None
    if values.ndim != 1 or values.size == 0:
        raise StimgenError(f"{name} must be a non-empty list of numbers (Hz)")
    if not np.all(np.isfinite(values) & (values > 0)):
        raise StimgenError(f"{name} must be positive and finite, got {values.tolist()}")
    return values


def _is_real(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _is_integer(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)
