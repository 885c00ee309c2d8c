"""What a birdsong lab measures of a syllable: the features of Sound Analysis Pro (SAP;
Tchernichovski, Nottebohm, Ho, Pesaran & Mitra 2000, "A procedure for an automated measurement of
song similarity", Animal Behaviour 59: 1167-1176), on plain arrays.

A syllable is measured over its *sounding part*: the analysis frames whose level lies within
:data:`SOUNDING_DB` of its loudest frame's (:func:`sounding_frames`), so the silence around a
syllable in a stimulus's window counts for nothing. The frames are SAP's: a short window
(:func:`frame_settings`: 8 ms, zero-padded to a power of two of samples) every millisecond, and the power
spectrum of each is a multitaper estimate (two Slepian tapers, time-bandwidth 1.5), as in SAP.
Only frequencies from the floor of birds' pitch range up count (:data:`BAND_FLOOR_HZ`): below it
lies the rumble of the room and the cage (a quarter of the power of this project's real
syllables), not song; it would drag the centroid down and the entropy up. And only up to
:data:`BAND_TOP_HZ`, whatever the rate: a syllable recorded at 32 kHz and written at 48 kHz holds
nothing above 16 kHz, and counting those empty bins made the written file's entropy read 1 lower
than the recording's.

- ``sounding_s``: the syllable's duration, from its first sounding frame to its last (s);
- ``sounding_rms_dbfs``: its RMS level over the sounding part (dBFS): what birdsong stimuli are
  levelled by (:func:`stimgen.representations.sound.condition`);
- ``pitch_hz``: its mean F0 by Praat's autocorrelation (:func:`~stimgen.signal.phonetics.measure_f0`)
  over the middle 60 % of the sounding part, above :data:`BAND_FLOOR_HZ` as the other features,
  searched in birds' range
  (:data:`~stimgen.signal.features.PITCH_RANGES`); NaN where Praat finds no periodicity;
- ``wiener_entropy``: SAP's Wiener entropy, the natural log of the ratio of the geometric to the
  arithmetic mean of each frame's power spectrum (0 for white noise, very negative for a pure
  tone), the mean over the sounding frames;
- ``spectral_centroid_hz``: the power-weighted mean frequency (librosa's spectral centroid of the
  power spectrogram; SAP's mean frequency), the mean over the sounding frames;
- ``fm_hz_per_ms``: frequency modulation, from the time and frequency derivatives of the spectrum
  as in SAP, but as a rate rather than SAP's angle: in each frame, the least-squares speed at which
  the log-power spectrum's contours move along the frequency axis, fitted beside one change of
  level common to all bins (``dS/dt = -v dS/df + a``, ``S`` in dB, each bin weighted by its share
  of the frame's power), the mean of ``|v|`` in Hz per ms. A steady tone reads 0, and so does one
  that only grows louder; a linear chirp reads its sweep rate. SAP's FM angle is the arctangent of
  a ratio of the same derivatives in its own units of time and frequency, which depend on its
  analysis settings;
- ``am_db_per_ms``: amplitude modulation, SAP's time derivative of the power summed over
  frequencies, as the mean of ``|d level / dt|`` in dB per ms.

FM and AM are means over the frames whose whole window lies in the sounding part, their time
derivatives taken between sounding frames only, so that the silence around a syllable, and how
much of it a window holds, counts for nothing (:func:`_whole`).

Examples
--------
>>> sr = 32000
>>> t = np.arange(sr // 10) / sr
>>> f = song_features(0.3 * np.sin(2 * np.pi * 1000 * t), sr)
>>> round(f["pitch_hz"]), round(f["sounding_s"], 2)
(1000, 0.1)
"""

from __future__ import annotations

import librosa
import numpy as np
import parselmouth
from parselmouth.praat import call

from stimgen.errors import StimgenError
from stimgen.signal.audio import check_audio, rms_dbfs
from stimgen.signal.features import PITCH_RANGES, PITCH_SEARCH_MARGIN
from stimgen.signal.phonetics import measure_f0

#: How far below a sound's loudest frame (dB) a frame still counts as sounding.
SOUNDING_DB = 30.0
#: The analysis frames: about this long (s; rounded up to a power of two of samples), one every :data:`HOP_S`.
WINDOW_S = 0.008
HOP_S = 0.001
#: SAP's multitaper estimate: this many Slepian tapers of this time-bandwidth product.
TAPERS, TIME_BANDWIDTH = 2, 1.5
#: Power this far below the sound's loudest bin (dB) is floored there, before any logarithm.
FLOOR_DB = 100.0
#: The lowest frequency counted (Hz): the floor of birds' pitch range.
BAND_FLOOR_HZ = PITCH_RANGES["birdsong"][0]
#: The width (Hz) of the Hann flank with which pitch is measured above :data:`BAND_FLOOR_HZ` (Praat's default).
BAND_SMOOTHING_HZ = 20.0
#: The highest frequency counted: half of 32 kHz, the rate of this project's real song and of
#: the lowest rate at which song is commonly recorded for these features, so that a file at 32,
#: 44.1 or 48 kHz is measured over the same band.
BAND_TOP_HZ = 16000.0
#: The features :func:`song_features` returns, in the order manifests list them.
SONG_FEATURES = ("sounding_s", "sounding_rms_dbfs", "pitch_hz", "wiener_entropy", "spectral_centroid_hz",
                 "fm_hz_per_ms", "am_db_per_ms")


def frame_settings(sr: int) -> tuple[int, int, int]:
    """The analysis frames at rate ``sr`` (samples): the taper, :data:`WINDOW_S` long; the FFT,
    the taper zero-padded to a power of two; and the hop, :data:`HOP_S`. The taper is the same
    length of time at every rate, so that a syllable is resolved alike in time and frequency
    whether it was recorded at 32 kHz or written at 48 kHz (rounding the taper itself up to a
    power of two made it 8 ms at 32 kHz and 10.7 ms at 48 kHz, and a syllable's FM read 22 and 13 Hz/ms).

    Examples
    --------
    >>> frame_settings(32000), frame_settings(48000)
    ((256, 256, 32), (384, 512, 48))
    """
    sr = _check_rate(sr)
    window = max(2, round(WINDOW_S * sr))
    return window, int(2 ** np.ceil(np.log2(window))), max(1, round(HOP_S * sr))


def multitaper_spectrogram(y: np.ndarray, sr: int) -> np.ndarray:
    """SAP's power spectrogram of a sound, (frames, bins), the bins from :data:`BAND_FLOOR_HZ`
    up to :data:`BAND_TOP_HZ` (:func:`band`): each frame (:func:`frame_settings`, centred on every hop,
    the sound padded with zeros) the mean power spectrum under :data:`TAPERS` Slepian tapers.

    Examples
    --------
    >>> multitaper_spectrogram(np.ones(3200), 32000).shape
    (101, 127)
    """
    # imported here: scipy.signal takes 1.2 s to import, most of a vowel continuum's own time
    from scipy.signal.windows import dpss

    y = check_audio(y, allow_silence=True).astype(np.float64)
    window, n_fft, hop = frame_settings(sr)
    frames = librosa.util.frame(np.pad(y, window // 2), frame_length=window, hop_length=hop, axis=0)
    tapers = dpss(window, TIME_BANDWIDTH, TAPERS)
    power = np.mean([np.abs(np.fft.rfft(frames * taper, n=n_fft, axis=1)) ** 2 for taper in tapers], axis=0)
    return power[:, band(sr)]


def band(sr: int) -> np.ndarray:
    """Which bins of a frame's spectrum (:func:`frame_settings`) count: from :data:`BAND_FLOOR_HZ`
    to :data:`BAND_TOP_HZ`.

    Examples
    --------
    >>> int(band(32000).sum())
    127
    """
    n_fft = frame_settings(sr)[1]
    hz = np.fft.rfftfreq(n_fft, 1.0 / sr)
    return (hz >= BAND_FLOOR_HZ) & (hz <= BAND_TOP_HZ)


def sounding_frames(power: np.ndarray) -> np.ndarray:
    """Which frames of a power spectrogram (frames, bins) sound: those whose summed power lies
    within :data:`SOUNDING_DB` of the loudest frame's (none of a silent one).

    Examples
    --------
    >>> sounding_frames(np.array([[1.0], [1e-2], [1e-4]])).tolist()
    [True, True, False]
    """
    level = np.sum(power, axis=1)
    return level > np.max(level) * 10.0 ** (-SOUNDING_DB / 10.0) if np.max(level) > 0 else np.zeros(len(level), bool)


def sounding_samples(y: np.ndarray, sr: int) -> np.ndarray:
    """Which samples of a sound lie in its sounding part (each sample belongs to the frame centred
    nearest to it; :func:`sounding_frames`): a boolean array as long as ``y``.

    Examples
    --------
    >>> y = np.concatenate([np.zeros(3200), np.sin(np.arange(3200)), np.zeros(3200)])
    >>> int(sounding_samples(y, 32000).sum())
    3423
    """
    y = check_audio(y)
    return _samples(sounding_frames(multitaper_spectrogram(y, sr)), y.size, frame_settings(sr)[2])


def _samples(frames: np.ndarray, n: int, hop: int) -> np.ndarray:
    """A per-frame mask as a per-sample one (``n`` samples; each takes the frame centred nearest it)."""
    return frames[np.minimum(np.round(np.arange(n) / hop).astype(int), frames.size - 1)]


def song_features(y: np.ndarray, sr: int, pitch_range: tuple[float, float] = PITCH_RANGES["birdsong"]
                  ) -> dict[str, float]:
    """SAP's features of a syllable over its sounding part (see the module): duration (s), RMS level
    (dBFS), pitch (Hz), Wiener entropy, spectral centroid (Hz), frequency modulation (Hz/ms) and
    amplitude modulation (dB/ms). Pitch is searched over ``pitch_range`` (Hz; its top widened by
    :data:`~stimgen.signal.features.PITCH_SEARCH_MARGIN`).

    Raises :class:`~stimgen.errors.StimgenError` for a sound that is not 1-D, is empty, holds NaN or
    infinite samples or is all silence, and for a rate that is not a positive whole number of Hz.

    Examples
    --------
    >>> noise = np.random.default_rng(0).normal(0, 0.1, 8000)
    >>> round(song_features(noise, 16000)["wiener_entropy"], 1)
    -0.3
    """
    y = check_audio(y).astype(np.float64)
    sr = _check_rate(sr)
    _, n_fft, hop = frame_settings(sr)
    power = multitaper_spectrogram(y, sr)
    sounding = sounding_frames(power)
    first, last = np.flatnonzero(sounding)[[0, -1]]
    part = y[first * hop: min(y.size, last * hop + 1)]
    freq = np.fft.rfftfreq(n_fft, 1.0 / sr)[band(sr)]
    centroid = librosa.feature.spectral_centroid(S=power.T, freq=freq)[0]
    power = np.maximum(power, np.max(power) * 10.0 ** (-FLOOR_DB / 10.0))
    entropy = np.mean(np.log(power), axis=1) - np.log(np.mean(power, axis=1))
    level = 10.0 * np.log10(np.sum(power, axis=1))
    whole = _whole(sounding, sr)
    return {"sounding_s": float(last - first + 1) * hop / sr,
            "sounding_rms_dbfs": float(rms_dbfs(y[_samples(sounding, y.size, hop)])),
            "pitch_hz": _pitch(part, sr, pitch_range),
            "wiener_entropy": float(np.mean(entropy[sounding])),
            "spectral_centroid_hz": float(np.mean(centroid[sounding])),
            "fm_hz_per_ms": float(np.mean(np.abs(_contour_speed(power, sr, sounding))[whole])),
            "am_db_per_ms": float(np.mean(np.abs(_time_gradient(level, sounding, HOP_S * 1e3))[whole]))}


def _whole(sounding: np.ndarray, sr: int) -> np.ndarray:
    """The sounding frames whose whole window lies in the sounding part: those with sounding
    frames for half a window on either side. FM and AM are derivatives, and a frame whose
    window reaches into the silence around a syllable sees the syllable come or go, more of it
    the more silence there is (docs/results/real-song.md, experiments/song_features_robustness.py).
    All sounding frames where no frame is whole (a syllable shorter than a window)."""
    window, _, hop = frame_settings(sr)
    whole = sounding.copy()
    for shift in range(1, int(np.ceil(window / 2 / hop)) + 1):
        whole[shift:] &= sounding[:-shift]
        whole[:-shift] &= sounding[shift:]
        whole[:shift] = whole[-shift:] = False
    return whole if whole.any() else sounding


def _time_gradient(values: np.ndarray, sounding: np.ndarray, dt: float) -> np.ndarray:
    """The derivative along axis 0 of ``values`` (frames, ...) per ``dt``, taken between sounding
    frames only: central where both neighbours of a frame sound, one-sided where one does, 0 where
    neither does (a lone frame). A silent neighbour is floored at :data:`FLOOR_DB` below the
    loudest bin, so a difference with it would measure the floor: tens of dB per ms at every
    edge, more the more silence a window holds around its syllable."""
    values = np.asarray(values, dtype=np.float64)
    out = np.zeros_like(values)
    if len(values) < 2:
        return out
    shape = (-1,) + (1,) * (values.ndim - 1)
    before = np.r_[False, sounding[:-1]] & sounding
    after = np.r_[sounding[1:], False] & sounding
    prev = np.concatenate([values[:1], values[:-1]])
    nxt = np.concatenate([values[1:], values[-1:]])
    span = (before.astype(int) + after.astype(int)).reshape(shape)
    diff = np.where(after.reshape(shape), nxt, values) - np.where(before.reshape(shape), prev, values)
    np.divide(diff, span * dt, out=out, where=span > 0)
    return out


def _contour_speed(power: np.ndarray, sr: int, sounding: np.ndarray) -> np.ndarray:
    """Each frame's least-squares speed (Hz/ms) of the log-power spectrum's contours along
    frequency, its time derivative taken between ``sounding`` frames (:func:`_time_gradient`).

    The change of each bin is fitted as a shift of the contours plus one change of level common
    to all bins, ``dS/dt = -v dS/df + a`` (weighted least squares in ``v`` and ``a``): a frame that
    only grows louder (a syllable's onset) has no FM, where fitting ``v`` alone reads its growth
    times the spectrum's tilt as a sweep."""
    _, n_fft, hop = frame_settings(sr)
    log_power = 10.0 * np.log10(power)
    d_dt = _time_gradient(log_power, sounding, hop / sr * 1e3)  # dB per ms
    d_df = np.gradient(log_power, sr / n_fft, axis=1)  # dB per Hz
    w = power / np.sum(power, axis=1, keepdims=True)
    d_dt = d_dt - np.sum(w * d_dt, axis=1, keepdims=True)  # less the frame's change of level (AM)
    d_df = d_df - np.sum(w * d_df, axis=1, keepdims=True)
    return -np.sum(w * d_dt * d_df, axis=1) / np.maximum(np.sum(w * d_df**2, axis=1), 1e-30)


def _pitch(part: np.ndarray, sr: int, pitch_range: tuple[float, float]) -> float:
    """Praat's mean F0 of the sounding part above :data:`BAND_FLOOR_HZ` (Praat's "Filter (stop
    Hann band)" below it first); NaN where it is too short for three periods of the floor.

    The room's rumble below the floor holds a quarter of the power of this project's real
    syllables: left in, it made Praat read this bird's `b`, a harmonic stack on about 390 Hz
    (its harmonics at 414, 824, 1230, 1656 Hz), as 1,150-1,590 Hz, or as unvoiced in half of
    its tokens; filtered, all 20 tokens read 359-403 Hz, and its `a` is unchanged (about 1,200 Hz)."""
    floor, ceiling = pitch_range
    if part.size / sr < 3.0 / floor:
        return float("nan")
    return measure_f0(above_band_floor(part, sr), sr, floor=floor, ceiling=ceiling * PITCH_SEARCH_MARGIN)


def above_band_floor(y: np.ndarray, sr: int) -> np.ndarray:
    """A sound with what lies below :data:`BAND_FLOOR_HZ` taken away (Praat's "Filter (stop Hann
    band)", flank :data:`BAND_SMOOTHING_HZ`): the band every song feature counts, for measures
    that take the whole signal (Praat's pitch and HNR).

    Examples
    --------
    >>> t = np.arange(16000) / 16000
    >>> y = np.sin(2 * np.pi * 70 * t) + 0.1 * np.sin(2 * np.pi * 1000 * t)
    >>> round(float(np.std(above_band_floor(y, 16000))), 3)
    0.071
    """
    return call(parselmouth.Sound(y, sampling_frequency=sr), "Filter (stop Hann band)", 0.0, BAND_FLOOR_HZ,
                BAND_SMOOTHING_HZ).values[0]


def _check_rate(sr) -> int:
    if isinstance(sr, bool) or not isinstance(sr, (int, np.integer)) or sr <= 0:
        raise StimgenError(f"sample rate must be a positive whole number of Hz, got {sr!r}")
    return int(sr)
