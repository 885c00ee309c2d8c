"""One sound put in the place of a part of another: a morph step in the place of a syllable of its song.

Plain float mono arrays in and out, at one sample rate, validated at the boundary (a
:class:`~stimgen.errors.StimgenError` names the problem):

- :func:`split_band`: a song as its low band (the background that goes on under the new sound:
  hum, cage noise) and the rest, which add up to it exactly;
- :func:`level_gain_db`: the gain that gives a sound the RMS (or peak) of another;
- :func:`splice`: the song with the new sound from the onset on, crossfaded in and out with
  equal-power fades; outside the part replaced, the song's samples as they are.

Examples
--------
>>> song = np.ones(100, dtype=np.float32)
>>> out = splice(song, np.zeros(20, dtype=np.float32), 40, 60, crossfade=4)
>>> out[:40].tolist() == song[:40].tolist(), float(out[50]), out[60:].tolist() == song[60:].tolist()
(True, 0.0, True)
"""

from __future__ import annotations

import numbers

import numpy as np
import scipy.signal

from stimgen.errors import StimgenError
from stimgen.options import LEVEL_MATCHES as MATCHES  # what level_gain_db matches: the RMS or the sample peak
from stimgen.signal.audio import check_audio, peak_dbfs, rms_dbfs

#: The order of the Butterworth low-pass of :func:`split_band` (run forward and back: twice this in effect).
BAND_ORDER = 4


def split_band(y: np.ndarray, sr: int, cutoff_hz: float) -> tuple[np.ndarray, np.ndarray]:
    """``y`` as its part below ``cutoff_hz`` and the rest: ``low + high == y`` (to float64 rounding).

    The low part is a zero-phase Butterworth low-pass (order :data:`BAND_ORDER`, run forward and
    back, so nothing moves in time); the high part is what is left. A cutoff of 0 puts everything
    in the high part.

    Parameters
    ----------
    y : np.ndarray
        Mono audio (samples,); silence is allowed.
    sr : int
        Its sample rate, Hz.
    cutoff_hz : float
        From 0 to below half of ``sr``.

    Returns
    -------
    low, high : np.ndarray
        float64 arrays of ``y``'s length.

    Examples
    --------
    >>> t = np.arange(32000) / 32000
    >>> low, high = split_band(np.sin(2 * np.pi * 100 * t) + np.sin(2 * np.pi * 4000 * t), 32000, 500.0)
    >>> round(float(np.std(low[1000:-1000])), 2), round(float(np.std(high[1000:-1000])), 2)
    (0.71, 0.71)
    """
    y = check_audio(y, allow_silence=True).astype(np.float64)
    if not (isinstance(cutoff_hz, numbers.Real) and 0 <= cutoff_hz < sr / 2):
        raise StimgenError(f"the cutoff must lie from 0 to below half the sample rate ({sr / 2:g} Hz), "
                           f"got {cutoff_hz!r}")
    if cutoff_hz == 0:
        return np.zeros_like(y), y
    sos = scipy.signal.butter(BAND_ORDER, cutoff_hz, btype="lowpass", fs=sr, output="sos")
    low = scipy.signal.sosfiltfilt(sos, y, padlen=min(y.size - 1, 3 * (2 * len(sos) + 1)))
    return low, y - low


def level_gain_db(y: np.ndarray, reference: np.ndarray, match: str = "rms") -> float:
    """The gain (dB) that gives ``y`` the RMS (``match="rms"``) or sample peak (``"peak"``) of
    ``reference``.

    Examples
    --------
    >>> round(level_gain_db(np.full(10, 0.1), np.full(10, 0.2)), 2)
    6.02
    """
    if match not in MATCHES:
        raise StimgenError(f"the level is matched on one of {', '.join(MATCHES)}, got {match!r}")
    y, reference = check_audio(y), check_audio(reference)
    level = rms_dbfs if match == "rms" else peak_dbfs
    return float(level(reference) - level(y))


def splice(song: np.ndarray, insert: np.ndarray, onset: int, offset: int, crossfade: int,
           background: np.ndarray | None = None) -> np.ndarray:
    """``song`` with ``insert`` in the place of ``song[onset:offset]``, starting at ``onset``.

    The rest of the song keeps its length and its times. The song is replaced from ``onset`` to
    ``end = max(offset, onset + len(insert))``: an insert shorter than ``offset - onset`` is
    followed by silence up to ``offset``; a longer one runs on past ``offset`` over what the song
    has there. The fades lie inside that part, ``crossfade`` samples each, equal-power
    (sine and cosine quarter waves, whose squares add to 1): the song fades out over
    ``[onset, onset + crossfade)`` as the insert fades in, the insert fades out over its last
    ``crossfade`` samples, and the song fades back in over ``[end - crossfade, end)``. Outside
    ``[onset, end)`` the result is ``song`` sample for sample.

    ``background`` (the song's own low band, :func:`split_band`), when given, goes on under the
    insert unchanged: only ``song - background`` is faded out and in.

    Parameters
    ----------
    song : np.ndarray
        Mono audio (samples,).
    insert : np.ndarray
        Mono audio to put in, at the song's rate, at least ``2 * crossfade`` samples long.
    onset, offset : int
        The part of the song replaced, in samples: ``0 <= onset < offset <= len(song)``.
    crossfade : int
        Samples of each fade; 0 cuts without fading.
    background : np.ndarray or None
        The part of ``song`` that is kept under the insert, of the song's length.

    Returns
    -------
    np.ndarray
        float32 audio of the song's length.

    Examples
    --------
    >>> out = splice(np.ones(100), np.full(30, 0.5), 40, 60, crossfade=0)
    >>> out[38:42].tolist(), out[68:72].tolist()
    ([1.0, 1.0, 0.5, 0.5], [0.5, 0.5, 1.0, 1.0])
    """
    song = check_audio(song, allow_silence=True)
    insert = check_audio(insert, allow_silence=True)
    for name, value in (("onset", onset), ("offset", offset), ("crossfade", crossfade)):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise StimgenError(f"{name} must be a whole number of samples, got {value!r}")
    if not 0 <= onset < offset <= song.size:
        raise StimgenError(f"the part replaced must lie in the song (0 to {song.size} samples), onset before "
                           f"offset; got {onset} to {offset}")
    if crossfade < 0 or 2 * crossfade > insert.size:
        raise StimgenError(f"a crossfade of {crossfade} samples does not fit twice in the {insert.size} samples "
                           "put in")
    end = max(offset, onset + insert.size)
    if end > song.size:
        raise StimgenError(f"the {insert.size} samples put in at sample {onset} run past the song's end "
                           f"({song.size} samples)")
    if background is None:
        background = np.zeros(song.size)
    elif np.shape(background) != song.shape:
        raise StimgenError(f"the background must have the song's shape {song.shape}, got {np.shape(background)}")
    ramp = np.sin(0.5 * np.pi * (np.arange(crossfade) + 0.5) / max(crossfade, 1))  # 0 -> 1, equal-power
    keep = np.zeros(end - onset)  # the song's gain over [onset, end): out and back in
    keep[:crossfade] = ramp[::-1]
    keep[keep.size - crossfade:] = ramp
    gain = np.ones(insert.size)
    gain[:crossfade] = ramp
    gain[gain.size - crossfade:] = ramp[::-1]
    out = song.astype(np.float64)
    part = slice(onset, end)
    out[part] = background[part] + (song[part] - background[part]) * keep
    out[onset:onset + insert.size] += insert * gain
    return out.astype(np.float32)
