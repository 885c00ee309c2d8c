"""What a stimulus measures: the features every manifest reports.

Audio: duration, RMS and peak level, F0 (Praat, autocorrelation), the harmonics-to-noise ratio
(Praat, cross-correlation; how clean a voice is), both over the middle 60 % of the sound, and
F1/F2 (Praat, Burg, median over the central half, :func:`~stimgen.signal.phonetics.formants_for_voice`),
also in Bark, with the formant ceiling that fits the vocal tract where it is known (a voiced
stimulus's, from its recordings: :func:`~stimgen.signal.phonetics.vocal_tract_ceiling`), else the one
that fits the measured F0; the ceiling used is reported too. F1/F2 mean something for voices
only; for other sounds they are reported as Praat finds them, except that an F1 at the
fundamental is no formant (:data:`FORMANT_RULE`). Images: mean intensity. Values Praat cannot
find are NaN (empty cells in a CSV).
"""

from __future__ import annotations

import numpy as np

from stimgen.signal.audio import check_audio, peak_dbfs, rms_dbfs
from stimgen.signal.phonetics import formants_for_voice, hz_to_bark, max_formant_for, measure_f0, measure_hnr

#: Pitch search range (Hz) for sounds whose kind is not known: human voices.
SPEECH_PITCH_RANGE = (60.0, 600.0)
#: Pitch search range (Hz) for the sounds of built-in data sets (birdsong syllables: 400-1500 Hz).
PITCH_RANGES = {"vowels": SPEECH_PITCH_RANGE, "birdsong": (250.0, 2500.0)}
#: How far above the top of a pitch range Praat's search reaches: its autocorrelation drops a
#: candidate at its ceiling, so a voice at the top of the range (600 Hz) would read an octave low.
PITCH_SEARCH_MARGIN = 1.05
#: An F1 below this many times F0 is the voice's first harmonic, not a formant: where a vowel's F1
#: lies near or below F0 (a high voice on a close vowel), Praat finds the fundamental instead.
FUNDAMENTAL_MARGIN = 1.15
#: Why F1/F2 may be empty although F0 was measured (manifest.json records it beside the pitch range).
FORMANT_RULE = (f"F1 and F2 are left empty where Praat's F1 lies below {FUNDAMENTAL_MARGIN:g} x F0: there it "
                "finds the voice's fundamental, not a formant (the F0 is too high for the vowel's F1 to be measured)")


def audio_features(y: np.ndarray, sr: int, pitch_range: tuple[float, float] = SPEECH_PITCH_RANGE,
                   formant_ceiling: float | None = None, hnr: bool = True) -> dict[str, float]:
    """Duration (s), RMS and peak level (dBFS), mean F0, harmonics-to-noise ratio (dB; NaN unless
    ``hnr``: it takes a third of the time), median F1/F2 (Hz and Bark) of a sound, and the formant
    ceiling (Hz) they were measured with:
    ``formant_ceiling`` if given and finite, else :func:`~stimgen.signal.phonetics.max_formant_for` the F0.
    F0 is searched over ``pitch_range`` (its top widened by :data:`PITCH_SEARCH_MARGIN`); F1/F2 are
    NaN where F0 is not found, and where F1 is the fundamental (:data:`FORMANT_RULE`).

    Examples
    --------
    >>> t = np.arange(16000) / 16000
    >>> f = audio_features(0.1 * np.sin(2 * np.pi * 200 * t), 16000)
    >>> round(f["duration_s"], 3), round(f["f0_hz"])
    (1.0, 200)
    """
    y = check_audio(y)
    f0 = measure_f0(y, sr, floor=pitch_range[0], ceiling=pitch_range[1] * PITCH_SEARCH_MARGIN)
    f1 = f2 = ceiling = float("nan")
    if np.isfinite(f0):
        known = formant_ceiling is not None and np.isfinite(formant_ceiling)
        ceiling = float(formant_ceiling) if known else max_formant_for(f0)
        f1, f2 = (float(v) for v in formants_for_voice(y, sr, f0, ceiling)[:2])
        if f1 < FUNDAMENTAL_MARGIN * f0:  # the fundamental, not a formant (NaN stays NaN)
            f1 = f2 = float("nan")
    harmonicity = measure_hnr(y, sr, floor=pitch_range[0]) if hnr and np.isfinite(f0) else float("nan")
    return {"duration_s": len(y) / sr, "rms_dbfs": rms_dbfs(y), "peak_dbfs": peak_dbfs(y), "f0_hz": f0,
            "hnr_db": harmonicity,
            "f1_hz": f1, "f2_hz": f2, "f1_bark": _bark(f1), "f2_bark": _bark(f2), "formant_ceiling_hz": ceiling}


def _bark(f: float) -> float:
    return float(hz_to_bark(f)) if np.isfinite(f) else float("nan")


def image_features(x: np.ndarray) -> dict[str, float]:
    """Mean intensity in [0, 1] of an image ((H, W) or (H, W, 3)).

    Examples
    --------
    >>> image_features(np.full((4, 4), 0.25))
    {'mean_intensity': 0.25}
    """
    return {"mean_intensity": float(np.mean(x))}
