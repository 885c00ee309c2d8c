"""Phonetic measurements through Praat (praat-parselmouth), and the Bark scale.

Plain arrays in: a sound is a 1-D array of finite samples and its sampling rate in Hz. Each
function checks its input once and raises :class:`~stimgen.errors.StimgenError` for a sound it
cannot measure (wrong shape, NaN or infinite samples, a bad rate, too short for the analysis).
"""

from __future__ import annotations

import numbers

import numpy as np
import parselmouth

from stimgen.errors import StimgenError


def measure_formants(
    y: np.ndarray,
    sr: int,
    max_formant: float = 5500.0,
    n_formants: float = 5.0,
    window: float = 0.025,
    span: tuple[float, float] = (0.25, 0.75),
    count: int = 3,
) -> np.ndarray:
    """Median F1, F2, F3 (Hz) over the central part of a sound, by Praat's Burg method.

    Parameters
    ----------
    y, sr
        The sound and its sampling rate (Hz).
    max_formant
        Praat's "formant ceiling" (Hz). It must fit the voice: see :func:`max_formant_for`.
    n_formants
        How many formants Praat looks for below the ceiling (a multiple of 0.5).
    window
        Praat's window length (s); the Gaussian window Praat applies is twice as long.
    span
        The part of the sound measured, as fractions of its duration: the median is taken over
        the analysis frames whose centres lie inside it.
    count
        How many formants to report, from F1 (1 to 5; F4 serves :func:`vocal_tract_ceiling`).

    Returns
    -------
    numpy.ndarray
        ``count`` floats, F1 upwards in Hz; NaN for a formant Praat did not find in any frame.

    Examples
    --------
    >>> t = np.arange(8000) / 16000
    >>> measure_formants(np.sin(2 * np.pi * 440 * t), 16000).shape
    (3,)
    """
    y, sr = _check_sound(y, sr)
    _check_positive(max_formant, "max_formant")
    _check_positive(window, "window")
    if not (_is_real(n_formants) and 1 <= n_formants <= 7 and float(n_formants * 2).is_integer()):
        raise StimgenError(f"n_formants must be a multiple of 0.5 from 1 to 7, got {n_formants!r}")
    start, stop = _check_span(span)
    if not (isinstance(count, numbers.Integral) and 1 <= count <= 5):
        raise StimgenError(f"count must be a whole number of formants from 1 to 5, got {count!r}")
    duration = len(y) / sr
    if duration < 2 * window:
        raise StimgenError(
            f"sound too short for formant analysis: {duration:.3f} s, needs at least "
            f"{2 * window:.3f} s (twice the window)"
        )

    formant = parselmouth.Sound(y, sampling_frequency=sr).to_formant_burg(
        max_number_of_formants=float(n_formants),
        maximum_formant=float(max_formant),
        window_length=float(window),
    )
    times = np.asarray(formant.xs())
    times = times[(times >= start * duration) & (times <= stop * duration)]
    if times.size == 0:
        raise StimgenError(
            f"span {span!r} of a {duration:.3f} s sound holds no analysis frame; "
            "widen the span or use a longer sound"
        )
    values = np.array([[formant.get_value_at_time(k, t) for k in range(1, count + 1)] for t in times])
    found = ~np.isnan(values)
    return np.array(
        [np.median(values[found[:, k], k]) if found[:, k].any() else np.nan for k in range(count)]
    )


def vocal_tract_ceiling(y: np.ndarray, sr: int, f0: float) -> float:
    """Praat's formant ceiling (Hz) that fits the vocal tract of a recorded voice of mean F0 ``f0``
    (Hz), judged from its formants as well as from its F0.

    Two estimates are made, and the larger is returned, as each errs only low where it fails:

    - from the spacing of the formants. A uniform tube closed at the glottis has its formants at
      (i - 1/2) dF, ``dF = c / 2L`` for a tract of length L. ``dF`` is estimated as Reby & McComb
      (2003) estimate formant dispersion: the least-squares slope, through the origin, of F1-F4
      (Burg, at Praat's neutral 5500 Hz ceiling, median over the central half) against i - 1/2;
      the ceiling is ``5 dF``, below which such a tube has the five formants Praat looks for:
      5000 Hz for a 17.5 cm (adult male) tract, about 6000 Hz for a woman's. Measured at 5500 Hz,
      a child's tract shows too few formants and comes out too long.
    - from F0, :func:`max_formant_for`, which takes a low-pitched woman for a man.

    So a woman speaking at 130 Hz gets a woman's ceiling, and her vowels resynthesised at 120 Hz
    are measured as hers, not as a man's. Where Praat finds fewer than three of F1-F4 only the F0
    estimate is left.

    Examples
    --------
    >>> from stimgen.signal.audio import load_audio
    >>> y, sr = load_audio("i.wav")   # doctest: +SKIP
    >>> vocal_tract_ceiling(y, sr, measure_f0(y, sr))   # doctest: +SKIP
    6412.7
    """
    from_f0 = max_formant_for(f0)
    formants = measure_formants(y, sr, max_formant=5500.0, count=4)
    found = np.isfinite(formants)
    if found.sum() < 3:
        return from_f0
    half = np.arange(1, 5)[found] - 0.5
    return max(from_f0, float(5.0 * np.sum(formants[found] * half) / np.sum(half**2)))


def max_formant_for(f0: float) -> float:
    """Praat's formant ceiling (Hz) that fits a voice, judged from its mean F0.

    The ceiling scales with the inverse of vocal-tract length, for which F0 stands in: 5000 Hz
    for a low (adult male) voice at or below 140 Hz, 6000 Hz at 210 Hz (a typical adult female
    voice) and 8000 Hz at or above 270 Hz (children), interpolated linearly in between so that
    the ceiling does not jump between two near voices. A ceiling too low for the voice makes
    Praat merge F2 and F3 of an /i/ into one spurious F2 (a woman's /i/ measured at 5000 Hz);
    one too high splits formants. These anchors gave the best agreement between the
    synthesised Peterson & Barney targets and Praat's measurements (``stimgen.data.vowels``).
    F0 is only a proxy for vocal-tract length: a low-pitched child or a high-pitched man gets
    a ceiling that fits less well.

    Examples
    --------
    >>> max_formant_for(120.0), max_formant_for(210.0), max_formant_for(300.0)
    (5000.0, 6000.0, 8000.0)
    """
    if not (_is_real(f0) and np.isfinite(f0) and f0 > 0):
        raise StimgenError(f"f0 must be a positive number of Hz, got {f0!r}")
    return float(np.interp(f0, _CEILING_F0, _CEILING_HZ))


def formants_for_voice(y: np.ndarray, sr: int, f0: float, ceiling: float | None = None) -> np.ndarray:
    """F1-F3 (Hz) measured with the Praat ceiling that fits a voice of mean ``f0``.

    The ceiling is ``ceiling`` where it is given and finite (the vocal tract's, from
    :func:`vocal_tract_ceiling`), else :func:`max_formant_for` ``(f0)``; either is capped at the
    Nyquist frequency, and a capped ceiling keeps the expected formant density, as Praat then
    looks for proportionally fewer formants below it.

    Examples
    --------
    >>> t = np.arange(8000) / 16000
    >>> formants_for_voice(np.sin(2 * np.pi * 440 * t), 16000, 120.0).shape
    (3,)
    """
    fitting = float(ceiling) if ceiling is not None and np.isfinite(ceiling) else max_formant_for(f0)
    capped = min(fitting, sr / 2)
    n_formants = max(1.0, round(10 * capped / fitting) / 2)
    return measure_formants(y, sr, max_formant=capped, n_formants=n_formants)


_CEILING_F0 = (140.0, 210.0, 270.0)
_CEILING_HZ = (5000.0, 6000.0, 8000.0)


def measure_f0(y: np.ndarray, sr: int, floor: float = 60.0, ceiling: float = 600.0,
               span: tuple[float, float] = (0.2, 0.8)) -> float:
    """Mean F0 (Hz) over the voiced frames of a sound's middle, by Praat's autocorrelation method.

    ``floor`` and ``ceiling`` bound the pitch search (Hz); the sound must last at least three
    periods of the floor. ``span`` is the part averaged, as fractions of the duration (frames
    whose centres lie inside it; Praat analyses the whole sound): by default the middle 60 %,
    the part :func:`measure_hnr` measures, leaving out onsets and offsets, where a fading voice
    invites Praat's octave errors. Returns NaN when Praat finds no voiced frame there.

    Examples
    --------
    >>> t = np.arange(8000) / 16000
    >>> round(measure_f0(np.sin(2 * np.pi * 200 * t), 16000))
    200
    """
    y, sr = _check_sound(y, sr)
    _check_positive(floor, "floor")
    _check_positive(ceiling, "ceiling")
    if ceiling <= floor:
        raise StimgenError(f"ceiling ({ceiling} Hz) must be above floor ({floor} Hz)")
    duration = len(y) / sr
    if duration < 3 / floor:
        raise StimgenError(
            f"sound too short for pitch analysis with floor {floor} Hz: {duration:.3f} s, "
            f"needs at least {3 / floor:.3f} s"
        )
    start, stop = _check_span(span)
    pitch = parselmouth.Sound(y, sampling_frequency=sr).to_pitch(
        pitch_floor=float(floor), pitch_ceiling=float(ceiling)
    )
    times = np.asarray(pitch.xs())
    f0 = pitch.selected_array["frequency"][(times >= start * duration) & (times <= stop * duration)]
    voiced = f0[f0 > 0]
    return float(voiced.mean()) if voiced.size else float("nan")


def measure_hnr(y: np.ndarray, sr: int, floor: float = 75.0) -> float:
    """Harmonics-to-noise ratio (dB) of a sound by Praat's cross-correlation method, the mean over
    its middle 60 % (ramps and edges left out). Natural sustained vowels measure roughly 15-25 dB,
    hoarse voices below 10 dB; NaN when Praat finds no periodicity.

    Examples
    --------
    >>> t = np.arange(8000) / 16000
    >>> noise = np.random.default_rng(0).normal(0, 0.01, t.size)
    >>> 30 < measure_hnr(np.sin(2 * np.pi * 200 * t) + noise, 16000) < 45
    True
    """
    y, sr = _check_sound(y, sr)
    _check_positive(floor, "floor")
    duration = len(y) / sr
    middle = parselmouth.Sound(y, sampling_frequency=sr).extract_part(0.2 * duration, 0.8 * duration)
    harmonicity = middle.to_harmonicity_cc(0.01, float(floor), 0.1, 1.0)  # analysing only the middle is faster
    hnr = parselmouth.praat.call(harmonicity, "Get mean", 0.0, 0.0)
    return float(hnr) if np.isfinite(hnr) else float("nan")


def hz_to_bark(f):
    """Frequency (Hz) to critical-band rate (Bark), after Traunmueller (1990).

    ``z = 26.81 f / (1960 + f) - 0.53``, element-wise, without Traunmueller's corrections
    below 2 Bark and above 20.1 Bark. Takes a number or an array of frequencies >= 0 and
    returns the same shape.

    Examples
    --------
    >>> round(float(hz_to_bark(1000.0)), 4)
    8.5274
    """
    f = _finite_array(f, "frequency")
    if np.any(f < 0):
        raise StimgenError("frequencies must be >= 0 Hz")
    return (26.81 * f / (1960.0 + f) - 0.53)[()]


def bark_to_hz(z):
    """Critical-band rate (Bark) to frequency (Hz): the exact inverse of :func:`hz_to_bark`.

    ``f = 1960 (z + 0.53) / (26.28 - z)``, element-wise, for -0.53 <= z < 26.28 (the range
    that :func:`hz_to_bark` maps 0 Hz to infinity onto).

    Examples
    --------
    >>> round(float(bark_to_hz(hz_to_bark(440.0))), 6)
    440.0
    """
    z = _finite_array(z, "Bark value")
    if np.any(z < -0.53) or np.any(z >= 26.28):
        raise StimgenError("Bark values must lie in [-0.53, 26.28)")
    return (1960.0 * (z + 0.53) / (26.28 - z))[()]


def _check_sound(y, sr) -> tuple[np.ndarray, float]:
    """The sound as a 1-D float64 array and its rate as a float, or StimgenError."""
    if not (_is_real(sr) and np.isfinite(sr) and sr > 0):
        raise StimgenError(f"sampling rate must be a positive number of Hz, got {sr!r}")
    y = np.asarray(y)
    if y.ndim != 1:
        raise StimgenError(f"sound must be a 1-D array of samples, got shape {y.shape}")
    if y.dtype.kind not in "fiu":
        raise StimgenError(f"sound samples must be real numbers, got dtype {y.dtype}")
    y = y.astype(np.float64)
    if not np.all(np.isfinite(y)):
        raise StimgenError("sound holds NaN or infinite samples")
    return y, float(sr)


def _check_span(span) -> tuple[float, float]:
    """A part of a sound as fractions (start, stop) of its duration, or StimgenError."""
    try:
        start, stop = (float(s) for s in span)
    except (TypeError, ValueError):
        raise StimgenError(f"span must be two fractions (start, stop), got {span!r}") from None
    if not 0.0 <= start < stop <= 1.0:
        raise StimgenError(f"span must satisfy 0 <= start < stop <= 1, got {span!r}")
    return start, stop


def _check_positive(value, name: str) -> None:
    if not (_is_real(value) and np.isfinite(value) and value > 0):
        raise StimgenError(f"{name} must be a positive number, got {value!r}")


def _finite_array(x, name: str) -> np.ndarray:
    x = np.asarray(x)
    if x.dtype.kind not in "fiu":
        raise StimgenError(f"{name}s must be real numbers, got dtype {x.dtype}")
    x = x.astype(np.float64)
    if not np.all(np.isfinite(x)):
        raise StimgenError(f"{name}s must be finite")
    return x


def _is_real(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)
