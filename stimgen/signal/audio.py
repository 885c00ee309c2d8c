"""Reading, writing and conditioning audio stimuli.

Plain float32 mono arrays in [-1, 1] go in and out. Files are read with soundfile (WAV, FLAC,
OGG, ...) and resampled with soxr (high quality, librosa's "soxr_hq"); they are written as 16-bit PCM WAV.
Every problem with a file is raised as :class:`~stimgen.errors.StimgenError` naming the file.
"""

from __future__ import annotations

import os
import struct
import warnings
from dataclasses import dataclass
from pathlib import Path

import librosa
import numpy as np
import soundfile as sf
import soxr

from stimgen.errors import StimgenError, StimgenWarning

#: Peak below which a signal counts as digital silence (about -100 dBFS).
SILENCE_PEAK = 1e-5

#: How far (dB) the channel average may fall below what the loudest channel alone gives it
#: (its RMS over the number of channels: 6.02 dB below it for stereo, as with a silent second
#: channel) before the channels count as cancelling. Channels that do not cancel do not fall below
#: that: a stereo pair loses 0 dB (identical), 3 dB (uncorrelated, equal levels) up to 6.02 dB (the
#: other channel quieter or silent). The margin lets faint anti-phase crosstalk through.
CANCEL_MARGIN_DB = 0.1


def load_audio(
    path: str | os.PathLike, sr: int | None = None, allow_silence: bool = False
) -> tuple[np.ndarray, int]:
    """Load a sound file as float32 mono, resampled to ``sr`` (the file's own rate if None).

    Channels are averaged, unless they cancel (see :func:`mix_to_mono`): then the loudest channel
    is used and a :class:`~stimgen.errors.StimgenWarning` says so. Resampling uses soxr's
    high-quality mode.

    Parameters
    ----------
    path : str or os.PathLike
        A sound file that soundfile reads (WAV, FLAC, OGG, ...).
    sr : int or None
        Sample rate to resample to, in Hz; None keeps the file's own rate.
    allow_silence : bool
        Accept a file that is all silence (peak below ``SILENCE_PEAK``, about -100 dBFS).

    Returns
    -------
    y : np.ndarray
        float32 mono samples (samples,), full scale 1.
    sr : int
        Their sample rate in Hz.

    Raises
    ------
    StimgenError
        Naming the file, for a missing file, a folder, a file soundfile cannot read, a truncated
        file (fewer frames than its header declares), zero length, NaN or infinite samples, and
        (unless ``allow_silence``) a file that is all silence.

    Warns
    -----
    StimgenWarning
        When the channels cancel in their average and the loudest channel is used alone.

    Examples
    --------
    >>> y, sr = load_audio("a.wav", sr=16000)          # doctest: +SKIP
    """
    path = _audio_path(path)
    try:
        with sf.SoundFile(path) as f:
            data = f.read(dtype="float32", always_2d=True)
            reported, file_sr, fmt = f.frames, f.samplerate, f.format
    except _READ_ERRORS as exc:
        raise _unreadable(path, exc) from None
    _check_complete(path, len(data), file_sr, reported if fmt not in _ESTIMATED_LENGTH else 0)
    y = mix_to_mono(data, path=path)
    check_audio(y, path=path, allow_silence=allow_silence)
    if sr is not None and sr != file_sr:
        y = resample(y, file_sr, sr)
    return np.ascontiguousarray(y, dtype=np.float32), int(sr or file_sr)


def audio_info(path: str | os.PathLike):
    """soundfile's information on a sound file from its header (``frames``, ``samplerate``,
    ``duration``, ...), checked as :func:`load_audio` checks the file where no sample is needed: a
    missing file, a folder, a file soundfile cannot read, a WAV or AIFF file truncated (its data
    shorter than its header declares) and one of zero length are refused with the same
    :class:`StimgenError` naming the file.

    Examples
    --------
    >>> audio_info("a.wav").duration                   # doctest: +SKIP
    0.6
    """
    path = _audio_path(path)
    try:
        info = sf.info(path)
    except _READ_ERRORS as exc:
        raise _unreadable(path, exc) from None
    _check_complete(path, info.frames, info.samplerate)
    if info.frames == 0:
        raise StimgenError("has zero length", path=path)
    return info


#: What soundfile raises for a file it cannot read (a format it does not know, broken data, a
#: stream it cannot seek in).
_READ_ERRORS = (sf.LibsndfileError, RuntimeError, TypeError, ValueError)
#: Formats whose length libsndfile may only estimate (MP3 without an info header: from the bit rate).
_ESTIMATED_LENGTH = ("MP3",)
#: WAV format tags whose data chunk holds whole frames of ``block_align`` bytes each: PCM, IEEE
#: float, A-law, mu-law, extensible.
_FRAME_FORMATS = (1, 3, 6, 7, 0xFFFE)
#: A WAV data size from which on it is a placeholder, not a size: what writers that cannot seek
#: back put there (0x7FFFFFFF, 0xFFFFFFFF).
_PLACEHOLDER_SIZE = 0x7FFF0000


def _audio_path(path: str | os.PathLike) -> Path:
    """``path`` as a Path, refused if it does not exist or is a folder."""
    path = Path(path)
    if not path.exists():
        raise StimgenError("no such file", path=path)
    if path.is_dir():
        raise StimgenError("is a folder, not an audio file", path=path)
    return path


def _unreadable(path: Path, exc: BaseException) -> StimgenError:
    """The error for a file soundfile cannot read."""
    return StimgenError(f"not an audio file that can be read ({_first_line(exc)})", path=path)


def _check_complete(path: Path, frames: int, sr: int, reported: int = 0) -> None:
    """Refuse a sound file that holds ``frames`` frames where its header declares more: the
    frames ``reported`` by soundfile (which reads on silently where the data ends), or those of
    its WAV or AIFF header (:func:`_declared_frames`; libsndfile shortens these to what is there)."""
    declared = max(reported, _declared_frames(path) or 0)
    if frames < declared:
        said, held = _seconds(declared / sr, frames / sr)
        raise StimgenError(f"is truncated: its header says {said} s, the file holds {held} s", path=path)


def _declared_frames(path: Path) -> int | None:
    """The frames a WAV file's header declares (its data chunk's size over the bytes of a frame; a
    compressed WAV's fact chunk) or an AIFF file's (its COMM chunk); None for other files, a
    compressed WAV without a fact chunk, and a data size left as a placeholder by a writer that
    streams (0, or :data:`_PLACEHOLDER_SIZE` and above)."""
    with open(path, "rb") as f:
        head = f.read(12)
        if head[:4] in (b"RIFF", b"RIFX") and head[8:12] == b"WAVE":
            order = "<" if head[:4] == b"RIFF" else ">"
        elif head[:4] == b"FORM" and head[8:12] in (b"AIFF", b"AIFC"):
            order = ">"
        else:
            return None
        block_align = fact = None
        while len(chunk := f.read(8)) == 8:
            name, size = chunk[:4], struct.unpack(order + "I", chunk[4:])[0]
            body = f.read(min(size, 16)) if name in (b"fmt ", b"fact", b"COMM") else b""
            if name == b"COMM" and len(body) >= 6:
                return struct.unpack(">I", body[2:6])[0]
            if name == b"fmt " and len(body) >= 14 and struct.unpack(order + "H", body[:2])[0] in _FRAME_FORMATS:
                block_align = struct.unpack(order + "H", body[12:14])[0]
            if name == b"fact" and len(body) >= 4:
                fact = struct.unpack(order + "I", body[:4])[0]
            if name == b"data":
                return (size // block_align if block_align else fact) if 0 < size < _PLACEHOLDER_SIZE else None
            f.seek(size + (size & 1) - len(body), os.SEEK_CUR)
    return None


def _seconds(*values: float) -> list[str]:
    """Durations (s) written with the fewest decimals, from 2, that tell them apart."""
    digits = next((d for d in range(2, 7) if len({f"{v:.{d}f}" for v in values}) == len(values)), 6)
    return [f"{v:.{digits}f}" for v in values]


def mix_to_mono(data: np.ndarray, path: str | os.PathLike | None = None) -> np.ndarray:
    """Mix (samples, channels) audio down to mono: the average of the channels, or the loudest
    channel where the channels cancel in the average.

    The channels cancel when the average's RMS falls more than ``CANCEL_MARGIN_DB`` below the
    loudest channel's RMS divided by the number of channels, i.e. more than 6.1 dB below the
    loudest channel for stereo (an anti-phase pair, say): the other channels take away from it
    instead of adding. Then the loudest channel is returned and a
    :class:`~stimgen.errors.StimgenWarning` names ``path``, the channel and the shortfall.

    Parameters
    ----------
    data : np.ndarray
        Audio (samples, channels); a 1-D array is taken as mono and returned as it is (as float32).
    path : str or os.PathLike or None
        The file the audio came from, named in the warning.

    Returns
    -------
    np.ndarray
        float32 (samples,).

    Warns
    -----
    StimgenWarning
        When the channels cancel and the loudest channel is returned alone.

    Examples
    --------
    >>> left = np.sin(np.linspace(0, 100, 1000)).astype(np.float32)
    >>> mix_to_mono(np.stack([left, left], axis=1)).shape
    (1000,)
    """
    data = np.asarray(data, dtype=np.float32)
    if data.ndim == 1:
        return data
    mix = data.mean(axis=1)
    n = data.shape[1]
    if n < 2 or data.shape[0] == 0 or np.max(np.abs(data)) < SILENCE_PEAK or not np.all(np.isfinite(data)):
        return mix  # silence, emptiness, NaN: check_audio's to report
    rms = np.sqrt(np.mean(np.square(data, dtype=np.float64), axis=0))
    loudest = int(np.argmax(rms))
    mix_rms = float(np.sqrt(np.mean(np.square(mix, dtype=np.float64))))
    if mix_rms * n >= rms[loudest] * 10.0 ** (-CANCEL_MARGIN_DB / 20.0):
        return mix
    shortfall = ("is silent" if np.max(np.abs(mix)) < SILENCE_PEAK else
                 f"is {20.0 * np.log10(rms[loudest] / mix_rms):.1f} dB below the loudest channel")
    name = f"channel {loudest + 1}" + (f" ({('left', 'right')[loudest]})" if n == 2 else f" of {n}")
    warnings.warn(StimgenWarning(f"channels cancel when averaged to mono (the average {shortfall}); "
                                 f"used {name} alone", path=path), stacklevel=3)
    return np.ascontiguousarray(data[:, loudest])


def check_audio(
    y: np.ndarray, path: str | os.PathLike | None = None, allow_silence: bool = False
) -> np.ndarray:
    """Validate a mono signal; return it as float32. ``path`` names it in the error.

    Parameters
    ----------
    y : np.ndarray
        The signal, (samples,).
    path : str or os.PathLike or None
        The file the signal came from, named in errors.
    allow_silence : bool
        Accept a signal that is all silence (peak below ``SILENCE_PEAK``, about -100 dBFS).

    Returns
    -------
    np.ndarray
        ``y`` as float32 (not copied where it already is float32).

    Raises
    ------
    StimgenError
        For a signal that is not 1-D, has zero length, has NaN or infinite samples, or (unless
        ``allow_silence``) is all silence.

    Examples
    --------
    >>> check_audio(np.zeros(3), allow_silence=True).dtype
    dtype('float32')
    >>> check_audio(np.zeros(3))
    Traceback (most recent call last):
    ...
    stimgen.errors.StimgenError: is all silence
    """
    y = np.asarray(y)
    if y.ndim != 1:
        raise StimgenError(f"expected mono audio (1-D array), got shape {y.shape}", path=path)
    if y.size == 0:
        raise StimgenError("has zero length", path=path)
    if not np.all(np.isfinite(y)):
        raise StimgenError("contains NaN or infinite samples", path=path)
    if not allow_silence and np.max(np.abs(y)) < SILENCE_PEAK:
        raise StimgenError("is all silence", path=path)
    return y.astype(np.float32, copy=False)


def resample(y: np.ndarray, orig_sr: int, target_sr: int) -> np.ndarray:
    """Resample with soxr's high-quality mode: librosa's ``res_type="soxr_hq"``, called directly because
    librosa's resample module takes a second to import. One wrapper, so that every caller uses one method.

    Parameters
    ----------
    y : np.ndarray
        Mono audio (samples,).
    orig_sr : int
        Sample rate of ``y`` in Hz.
    target_sr : int
        Sample rate wanted, in Hz.

    Returns
    -------
    np.ndarray
        float32 audio at ``target_sr``; ``y`` itself, unchanged, when the two rates are equal.

    Examples
    --------
    >>> resample(np.zeros(16000, dtype=np.float32), 16000, 8000).shape
    (8000,)
    """
    if orig_sr == target_sr:
        return y
    return soxr.resample(y, orig_sr, target_sr, quality="HQ").astype(np.float32)


def save_wav(path: str | os.PathLike, y: np.ndarray, sr: int) -> None:
    """Write mono audio as 16-bit PCM WAV. Refuses samples outside [-1, 1] rather than clip.

    Parameters
    ----------
    path : str or os.PathLike
        The file to write; missing parent folders are made, an existing file is replaced.
    y : np.ndarray
        Mono audio (samples,), full scale 1; silence is allowed.
    sr : int
        Sample rate in Hz.

    Raises
    ------
    StimgenError
        Naming the file, for audio that is not 1-D, is empty or has NaN or infinite samples, a peak
        above 1, or a sample rate that is not positive.

    Examples
    --------
    >>> save_wav("tone.wav", 0.1 * np.sin(np.linspace(0, 2000, 16000)), 16000)  # doctest: +SKIP
    """
    y = check_audio(y, path=path, allow_silence=True)
    peak = float(np.max(np.abs(y)))
    if peak > 1.0:
        raise StimgenError(f"peak {peak:.3f} exceeds full scale; normalise before saving", path=path)
    if sr <= 0:
        raise StimgenError(f"sample rate must be positive, got {sr}", path=path)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, y, int(sr), subtype="PCM_16", format="WAV")


# --- level ---------------------------------------------------------------------------------


def rms_dbfs(y: np.ndarray) -> float:
    """RMS level in dB relative to a full-scale square wave (a full-scale sine is -3.01 dBFS).

    Parameters
    ----------
    y : np.ndarray
        Audio samples, full scale 1.

    Returns
    -------
    float
        The level in dBFS; the RMS is floored at 1e-12, so silence gives -240 dBFS.

    Examples
    --------
    >>> round(float(rms_dbfs(0.5 * np.ones(100))), 2)
    -6.02
    """
    rms = float(np.sqrt(np.mean(np.square(y, dtype=np.float64))))
    return 20.0 * np.log10(max(rms, 1e-12))


def peak_dbfs(y: np.ndarray) -> float:
    """Sample peak in dBFS.

    Parameters
    ----------
    y : np.ndarray
        Audio samples, full scale 1.

    Returns
    -------
    float
        20 log10 of the largest absolute sample, floored at 1e-12 (-240 dBFS).

    Examples
    --------
    >>> round(float(peak_dbfs(np.array([0.0, -0.5]))), 2)
    -6.02
    """
    return 20.0 * np.log10(max(float(np.max(np.abs(y))), 1e-12))


@dataclass(frozen=True)
class LevelReport:
    """What :func:`normalize_rms` did: the gain applied and the resulting levels."""

    gain_db: float
    rms_dbfs: float
    peak_dbfs: float
    attenuated: bool


def normalize_rms(
    y: np.ndarray, target_dbfs: float = -20.0, max_peak_dbfs: float = -1.0, on_clip: str = "error",
    over: np.ndarray | None = None,
) -> tuple[np.ndarray, LevelReport]:
    """Scale ``y`` to an RMS of ``target_dbfs`` (over the samples ``over`` picks, if given),
    guarding against clipping.

    If the scaled peak would exceed ``max_peak_dbfs``, ``on_clip="error"`` refuses with a
    :class:`StimgenError`, and ``on_clip="attenuate"`` lowers the gain until the peak sits at
    ``max_peak_dbfs`` (the RMS then falls short of the target; a warning says by how much);
    ``on_clip="fit"`` does the same without a warning, for a caller that expects it (silencing
    the warning with :class:`warnings.catch_warnings` instead is not safe on a worker thread: it
    swaps the process's warning filters, and another thread's warnings can be lost).
    The report gives the gain, the resulting RMS and peak, and whether it attenuated.

    Parameters
    ----------
    y : np.ndarray
        Mono audio (samples,), not all silence.
    target_dbfs : float
        RMS level wanted, in dBFS (see :func:`rms_dbfs`).
    max_peak_dbfs : float
        Highest sample peak allowed after scaling, in dBFS.
    on_clip : str
        ``"error"``, ``"attenuate"`` or ``"fit"``: what to do when the peak would exceed ``max_peak_dbfs``.
    over : np.ndarray or None
        A boolean mask as long as ``y``: the samples whose RMS is set (a syllable's sounding part,
        :func:`stimgen.signal.song_features.sounding_samples`); None, all of them.

    Returns
    -------
    y : np.ndarray
        The scaled audio, float32.
    report : LevelReport
        The gain applied (dB), the resulting RMS (over ``over``) and peak (dBFS), and whether it
        attenuated.

    Raises
    ------
    StimgenError
        For an unknown ``on_clip``; for audio that is not 1-D, is empty, has NaN or infinite samples
        or is all silence; and, with ``on_clip="error"``, when the peak would exceed ``max_peak_dbfs``.

    Warns
    -----
    UserWarning
        With ``on_clip="attenuate"``, when the gain was lowered to keep the peak at ``max_peak_dbfs``.

    Examples
    --------
    >>> y = 0.5 * np.sin(np.linspace(0, 2000, 16000))
    >>> z, report = normalize_rms(y, -20.0)
    >>> round(float(rms_dbfs(z)), 2), report.attenuated
    (-20.0, False)
    """
    if on_clip not in ("error", "attenuate", "fit"):
        raise StimgenError(f"on_clip must be 'error', 'attenuate' or 'fit', got {on_clip!r}")
    y = check_audio(y)
    if over is not None and not (np.shape(over) == y.shape and np.asarray(over).dtype == bool and np.any(over)):
        raise StimgenError(f"over must be a boolean mask of {y.size} samples that picks some, got {over!r}")
    measured = y if over is None else y[over]
    gain_db = target_dbfs - rms_dbfs(measured)
    new_peak = peak_dbfs(y) + gain_db
    attenuated = False
    if new_peak > max_peak_dbfs:
        if on_clip == "error":
            raise StimgenError(
                f"normalising to {target_dbfs:g} dBFS RMS would put the peak at {new_peak:.1f} dBFS, "
                f"above the {max_peak_dbfs:g} dBFS limit; lower the target level or allow attenuation"
            )
        if on_clip == "attenuate":
            warnings.warn(
                f"attenuated by {new_peak - max_peak_dbfs:.1f} dB to keep the peak at {max_peak_dbfs:g} dBFS; "
                f"RMS is {target_dbfs - (new_peak - max_peak_dbfs):.1f} dBFS instead of {target_dbfs:g}",
                stacklevel=2,
            )
        gain_db -= new_peak - max_peak_dbfs
        attenuated = True
    out = (y * 10.0 ** (gain_db / 20.0)).astype(np.float32)
    return out, LevelReport(gain_db, rms_dbfs(out if over is None else out[over]), peak_dbfs(out), attenuated)


# --- shape in time -------------------------------------------------------------------------


def apply_ramps(y: np.ndarray, sr: int, ramp_ms: float = 10.0) -> np.ndarray:
    """Raised-cosine (Hann) on and off ramps of ``ramp_ms`` milliseconds, written into the signal.

    Parameters
    ----------
    y : np.ndarray
        Mono audio (samples,); silence is allowed.
    sr : int
        Sample rate of ``y`` in Hz.
    ramp_ms : float
        Length of each ramp in milliseconds (rounded to whole samples; ramps of 0 or 1 sample leave
        the signal as it is).

    Returns
    -------
    np.ndarray
        A float32 copy of ``y`` with the ramps applied; ``y`` itself is not changed.

    Raises
    ------
    StimgenError
        When ``ramp_ms`` is negative or the two ramps together are longer than the signal, or for
        audio that is not 1-D, is empty or has NaN or infinite samples.

    Examples
    --------
    >>> z = apply_ramps(np.ones(16000, dtype=np.float32), 16000, 10.0)
    >>> float(z[0]), float(z[8000]), float(z[-1])
    (0.0, 1.0, 0.0)
    """
    y = check_audio(y, allow_silence=True).copy()
    n = int(round(ramp_ms * 1e-3 * sr))
    if n < 0 or 2 * n > y.size:
        raise StimgenError(f"{ramp_ms:g} ms ramps do not fit in a {y.size / sr * 1e3:.1f} ms signal")
    if n > 1:
        ramp = (0.5 - 0.5 * np.cos(np.pi * np.arange(n) / (n - 1))).astype(np.float32)
        y[:n] *= ramp
        y[-n:] *= ramp[::-1]
    return y


def trim_silence(y: np.ndarray, top_db: float = 40.0) -> np.ndarray:
    """Cut leading and trailing parts more than ``top_db`` below the peak (librosa.effects.trim).

    Parameters
    ----------
    y : np.ndarray
        Mono audio (samples,), not all silence.
    top_db : float
        How far below the peak (dB) a frame must lie to count as silence; frames are 512 samples
        long, 128 apart.

    Returns
    -------
    np.ndarray
        The part of ``y`` from its first to its last frame that is not silence.

    Raises
    ------
    StimgenError
        For audio that is not 1-D, is empty, has NaN or infinite samples or is all silence.

    Examples
    --------
    >>> y = np.concatenate([np.zeros(4000), 0.5 * np.ones(8000), np.zeros(4000)])
    >>> len(trim_silence(y)) < len(y)
    True
    """
    y = check_audio(y)
    return librosa.effects.trim(y, top_db=top_db, frame_length=512, hop_length=128)[0]


FIT_POLICIES = ("pad-or-crop", "pad", "crop", "exact")


def fix_duration(
    y: np.ndarray, sr: int, duration: float, policy: str = "pad-or-crop", align: str = "center"
) -> np.ndarray:
    """Pad with zeros or crop to exactly ``duration`` seconds.

    ``policy``: ``"pad-or-crop"`` does whichever is needed; ``"pad"`` refuses a signal that is
    too long, ``"crop"`` one that is too short, ``"exact"`` any that is not already the length.
    ``align``: where the signal sits in the result (``"start"`` or ``"center"``).

    Parameters
    ----------
    y : np.ndarray
        Mono audio (samples,); silence is allowed.
    sr : int
        Sample rate of ``y`` in Hz.
    duration : float
        Length wanted, in seconds (``round(duration * sr)`` samples).
    policy : str
        ``"pad-or-crop"``, ``"pad"``, ``"crop"`` or ``"exact"``, as above.
    align : str
        ``"start"`` or ``"center"``: where the signal sits in a padded result, and which part of a
        long signal a crop keeps.

    Returns
    -------
    np.ndarray
        float32 audio of exactly ``round(duration * sr)`` samples.

    Raises
    ------
    StimgenError
        For an unknown ``policy`` or ``align``, a ``duration`` of no samples, a length the policy
        refuses, or audio that is not 1-D, is empty or has NaN or infinite samples.

    Examples
    --------
    >>> fix_duration(np.ones(10, dtype=np.float32), 10, 2.0, align="start").shape
    (20,)
    """
    if policy not in FIT_POLICIES:
        raise StimgenError(f"policy must be one of {', '.join(FIT_POLICIES)}, got {policy!r}")
    if align not in ("start", "center"):
        raise StimgenError(f"align must be 'start' or 'center', got {align!r}")
    y = check_audio(y, allow_silence=True)
    n = int(round(duration * sr))
    if n <= 0:
        raise StimgenError(f"duration must be positive, got {duration:g} s")
    have = y.size
    if have == n:
        return y
    if have < n and policy in ("crop", "exact") or have > n and policy in ("pad", "exact"):
        raise StimgenError(
            f"signal lasts {have / sr:.3f} s, not {duration:.3f} s, and the policy is {policy!r}"
        )
    start = 0 if align == "start" else abs(n - have) // 2
    if have < n:
        out = np.zeros(n, dtype=np.float32)
        out[start : start + have] = y
        return out
    return y[start : start + n].copy()


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
