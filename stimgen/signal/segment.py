"""Cutting recordings into the units a model takes: syllables of song, voiced stretches of speech.

``birdsong``: dynamic thresholding of the spectral envelope, after AVGN / vocalseg (Sainburg et
al. 2020): the band power in dB of a short-time spectrum (5 ms windows, 1 ms hop) is thresholded
a few dB above the recording's noise floor; gaps shorter than ``min_silence`` are closed and
units shorter than ``min_unit`` dropped; while any unit is longer than ``max_unit`` (two
syllables run together) the threshold rises by ``step_db``. ``speech``: the stretches Praat finds
voiced (its pitch track) where the intensity is within ``range_db`` of the loudest frame, gaps
closed and short stretches dropped the same way. In both, a unit whose peak lies more than
``range_db`` below the loudest unit's is noise, not a unit.

:func:`find_units` does one sound (:func:`stimgen.data.recordings.segment_folder` a folder of
recordings, written as a folder data set that ``stimgen train --data`` takes);
:func:`choose_excerpt` the window of a long file that a model takes (never cropped without a
word: see its docstring).

Examples
--------
>>> sr = 32000
>>> t = np.arange(sr) / sr
>>> y = np.where((t > 0.2) & (t < 0.35) | (t > 0.6) & (t < 0.7), np.sin(2 * np.pi * 3000 * t), 0.0)
>>> find_units(y + 1e-4 * np.random.default_rng(0).standard_normal(sr), sr).round(2).tolist()
[[0.2, 0.35], [0.6, 0.7]]
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from stimgen.errors import StimgenError, StimgenWarning
from stimgen.options import SEGMENT_KIND, SEGMENT_KINDS

KINDS = SEGMENT_KINDS
#: What a unit of each kind is called in messages.
UNIT_NAMES = {"birdsong": ("syllable", "syllables"), "speech": ("voiced stretch", "voiced stretches")}
#: Recordings longer than this (seconds) are read and analysed block by block (:func:`find_units_in`).
BLOCK_SECONDS = 30.0
#: How much of a long recording's short-time spectrum is made at a time (seconds: about 10 MB at 48 kHz).
STFT_BLOCK_SECONDS = 5.0
#: Speech read beyond each side of a block (seconds): Praat's pitch and intensity windows (50 ms) and
#: its path through the pitch candidates see, at a block's edges, what they see in one piece.
SPEECH_CONTEXT_SECONDS = 1.0
#: Praat's time step for speech (seconds).
SPEECH_STEP = 0.005
#: The spectrogram preset a folder of each kind's units records in its meta.json.
SPECTROGRAM_PRESETS = {"birdsong": "birdsong", "speech": "vowels"}


@dataclass(frozen=True)
class SegmentSettings:
    """How recordings are cut; :meth:`for_kind` gives the defaults of each kind.

    Times in milliseconds. ``fmin``/``fmax`` (Hz) bound the band whose power is the envelope
    (birdsong; capped at the Nyquist frequency). ``start_db``: the first threshold above the noise
    floor (the 5th percentile of the envelope), raised by ``step_db`` while a unit is longer than
    ``max_unit``. ``range_db``: how far below the loudest a unit (birdsong) or a voiced frame
    (speech) may lie. ``pad``: silence kept on each side of a unit when it is written.
    """

    kind: str = SEGMENT_KIND
    min_unit: float = 20.0
    max_unit: float = 400.0
    min_silence: float = 5.0
    fmin: float = 1000.0
    fmax: float = 12000.0
    start_db: float = 8.0
    step_db: float = 3.0
    range_db: float = 40.0
    pad: float = 5.0

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise StimgenError(f"kind must be one of {', '.join(KINDS)}, got {self.kind!r}")
        for name in ("min_unit", "max_unit", "min_silence", "step_db", "range_db"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and np.isfinite(value) and value > 0):
                raise StimgenError(f"{name} must be a positive number, got {value!r}")
        for name in ("start_db", "pad", "fmin", "fmax"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and np.isfinite(value)):
                raise StimgenError(f"{name} must be a finite number, got {value!r}")
        if not 0 <= self.start_db <= 120:  # a threshold above the noise floor; more than 120 dB finds nothing
            raise StimgenError(f"start_db must lie from 0 to 120 dB above the noise floor, got {self.start_db:g}")
        if not 0 <= self.pad <= 1000 or not 0 <= self.fmin < self.fmax:
            raise StimgenError(f"need 0 <= pad <= 1000 ms and 0 <= fmin < fmax, got pad {self.pad:g}, fmin "
                               f"{self.fmin:g}, fmax {self.fmax:g}")
        if self.max_unit <= self.min_unit:
            raise StimgenError(f"max_unit ({self.max_unit:g} ms) must be longer than min_unit ({self.min_unit:g} ms)")

    @classmethod
    def for_kind(cls, kind: str, **overrides) -> SegmentSettings:
        """Defaults for zebra finch / Bengalese finch song at 32-48 kHz (``birdsong``: syllables
        20-400 ms, 5 ms gaps, the 1-12 kHz band 8 dB above its floor: tuned on hand-labelled
        Bengalese finch song, docs/results/segment-handlabels.md) or for speech (``speech``: voiced
        stretches of 50 ms or more, 50 ms gaps, within 30 dB of the loudest frame); ``overrides``
        replace any of them (None keeps it).

        Examples
        --------
        >>> SegmentSettings.for_kind("speech").min_silence
        50.0
        """
        base = {"speech": {"min_unit": 50.0, "max_unit": 5000.0, "min_silence": 50.0, "range_db": 30.0, "pad": 20.0}}
        return cls(kind=kind, **{**base.get(kind, {}), **{k: v for k, v in overrides.items() if v is not None}})

    def to_dict(self) -> dict:
        """Every setting, as meta.json records it."""
        return dataclasses.asdict(self)


def find_units_in(read, n: int, sr: int, settings: SegmentSettings | None = None,
                  block_seconds: float = BLOCK_SECONDS) -> np.ndarray:
    """The units of a recording of ``n`` samples at ``sr`` Hz that ``read(a, b)`` gives in pieces
    (mono samples ``a`` to ``b``, zeros outside 0..n), so that memory holds one block, not the
    recording: one of ``block_seconds`` or less is read whole and is :func:`find_units`'s; a longer
    one is analysed block by block. Birdsong: its envelope is made frame for frame as of the whole
    sound, so the units are :func:`find_units`'s, a unit across a block boundary found once.
    Speech: Praat analyses each block with :data:`SPEECH_CONTEXT_SECONDS` of the recording on each
    side, and the voiced frames are joined before the stretches are found.

    Examples
    --------
    >>> y = np.zeros(16000)
    >>> find_units_in(lambda a, b: y[a:b], y.size, 16000).shape
    (0, 2)
    """
    settings = settings or SegmentSettings()
    block = max(1, round(block_seconds * sr))
    if n <= block:
        return find_units(read(0, n), sr, settings)
    return BLOCK_UNIT_FINDERS[settings.kind](read, n, sr, settings, block)


def find_units(y: np.ndarray, sr: int, settings: SegmentSettings | None = None) -> np.ndarray:
    """The units of a sound, (k, 2) onsets and offsets in seconds, in time order.

    See the module for the two methods; ``settings`` defaults to birdsong's.

    Examples
    --------
    >>> find_units(np.zeros(16000), 16000).shape
    (0, 2)
    """
    from stimgen.signal.audio import check_audio

    settings = settings or SegmentSettings()
    y = check_audio(y, allow_silence=True).astype(np.float64)
    if not np.any(y):
        return np.zeros((0, 2))
    return UNIT_FINDERS[settings.kind](y, sr, settings)


def _song_frames(sr: int) -> tuple[int, int, int]:
    """The envelope's short-time spectrum at rate ``sr``: hop (1 ms), window (5 ms) and FFT length."""
    win = max(16, round(0.005 * sr))
    return max(1, round(sr / 1000)), win, int(2 ** np.ceil(np.log2(win)))


def _song_band(sr: int, n_fft: int, s: SegmentSettings) -> np.ndarray:
    """Which bins of the spectrum the envelope sums (``fmin`` to ``fmax``, capped at Nyquist)."""
    import librosa

    freqs = librosa.fft_frequencies(sr=sr, n_fft=n_fft)
    band = (freqs >= s.fmin) & (freqs <= min(s.fmax, sr / 2))
    if not band.any():
        raise StimgenError(f"the band {s.fmin:g}-{s.fmax:g} Hz holds no frequency of a sound at {sr} Hz")
    return band


def _song_units(y: np.ndarray, sr: int, s: SegmentSettings) -> np.ndarray:
    import librosa

    hop, win, n_fft = _song_frames(sr)
    band = _song_band(sr, n_fft, s)
    power = np.abs(librosa.stft(y, n_fft=n_fft, hop_length=hop, win_length=win, center=True)) ** 2
    return _song_threshold(10 * np.log10(power[band].sum(0) + 1e-20), hop, sr, s)


def _song_units_in_blocks(read, n: int, sr: int, s: SegmentSettings, block: int) -> np.ndarray:
    """:func:`_song_units` of a long recording: its envelope (one number per 1 ms frame) made
    :data:`STFT_BLOCK_SECONDS` at a time, frame for frame the whole sound's, then thresholded whole."""
    hop, win, n_fft = _song_frames(sr)
    band = _song_band(sr, n_fft, s)
    envelope = [10 * np.log10((np.abs(spectrum[band]) ** 2).sum(0) + 1e-20)
                for spectrum in stft_blocks(read, n, n_fft, hop, round(STFT_BLOCK_SECONDS * sr), win_length=win)]
    return _song_threshold(np.concatenate(envelope), hop, sr, s)


def stft_blocks(read, n: int, n_fft: int, hop: int, block: int, **stft):
    """librosa's centred short-time spectrum (``center=True``, zeros beyond the ends) of a sound of
    ``n`` samples that ``read(a, b)`` gives in pieces (zeros outside 0..n), yielded ``block``
    samples' worth of frames at a time: frame for frame the spectrum of the whole sound."""
    import librosa

    frames, per_block = 1 + (n + 2 * (n_fft // 2) - n_fft) // hop, max(1, block // hop)
    for first in range(0, frames, per_block):
        last = min(frames, first + per_block)
        piece = read(first * hop - n_fft // 2, (last - 1) * hop - n_fft // 2 + n_fft).astype(np.float64)
        yield librosa.stft(piece, n_fft=n_fft, hop_length=hop, center=False, **stft)


def _song_threshold(envelope: np.ndarray, hop: int, sr: int, s: SegmentSettings) -> np.ndarray:
    """Units where the envelope (dB, one value per ``hop`` samples) stands above a threshold that
    starts ``start_db`` above its noise floor and rises until no unit is longer than ``max_unit``."""
    times = np.arange(envelope.size) * hop / sr
    floor, peak = np.percentile(envelope, 5), envelope.max()
    threshold = floor + s.start_db
    while True:
        units = _regions(envelope > threshold, times, hop / sr, s)
        if not len(units) or np.max(units[:, 1] - units[:, 0]) * 1000 <= s.max_unit or threshold >= peak - s.step_db:
            break
        threshold += s.step_db
    return _loud_enough(units, envelope, times, s.range_db)


def _speech_units(y: np.ndarray, sr: int, s: SegmentSettings) -> np.ndarray:
    return _speech_regions(*_speech_track(y, sr), s)


def _speech_units_in_blocks(read, n: int, sr: int, s: SegmentSettings, block: int) -> np.ndarray:
    """:func:`_speech_units` of a long recording: Praat's pitch and intensity of each block, read with
    :data:`SPEECH_CONTEXT_SECONDS` of the recording on each side, kept for the block's own frames."""
    context, tracks = round(SPEECH_CONTEXT_SECONDS * sr), []
    for a in range(0, n, block):
        b, start = min(n, a + block), max(0, a - context)
        times, voiced, level = _speech_track(read(start, min(n, b + context)).astype(np.float64), sr)
        times = times + start / sr
        own = (times >= a / sr) & (times < b / sr)
        tracks.append((times[own], voiced[own], level[own]))
    return _speech_regions(*(np.concatenate(part) for part in zip(*tracks)), s)


def _speech_track(y: np.ndarray, sr: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Praat's 5 ms frames of a sound: their times, whether each is voiced, and its intensity (dB)."""
    import parselmouth

    from stimgen.signal.features import SPEECH_PITCH_RANGE

    sound = parselmouth.Sound(y, sampling_frequency=sr)
    pitch = sound.to_pitch(time_step=SPEECH_STEP, pitch_floor=SPEECH_PITCH_RANGE[0],
                           pitch_ceiling=SPEECH_PITCH_RANGE[1])
    times = pitch.xs()
    intensity = sound.to_intensity(minimum_pitch=SPEECH_PITCH_RANGE[0], time_step=SPEECH_STEP)
    level = np.interp(times, intensity.xs(), intensity.values[0], left=-np.inf, right=-np.inf)
    return times, pitch.selected_array["frequency"] > 0, level


def _speech_regions(times: np.ndarray, voiced: np.ndarray, level: np.ndarray, s: SegmentSettings) -> np.ndarray:
    """Voiced stretches within ``range_db`` of the loudest voiced frame."""
    loud = level >= np.max(level[voiced]) - s.range_db if voiced.any() else voiced
    units = _regions(voiced & loud, times - SPEECH_STEP / 2, SPEECH_STEP, s)
    return _loud_enough(units, level, times, s.range_db)


#: How units of each kind are found in a whole sound, and in a long recording read block by block
#: (the keys are :data:`KINDS`; tests/test_registries.py checks).
UNIT_FINDERS = {"birdsong": _song_units, "speech": _speech_units}
BLOCK_UNIT_FINDERS = {"birdsong": _song_units_in_blocks, "speech": _speech_units_in_blocks}


def _regions(mask: np.ndarray, starts: np.ndarray, frame: float, s: SegmentSettings) -> np.ndarray:
    """Runs of True in ``mask`` (frame i spans ``starts[i]`` to ``starts[i] + frame`` s) as (k, 2)
    seconds, gaps under ``min_silence`` closed, runs under ``min_unit`` dropped."""
    edges = np.flatnonzero(np.diff(np.concatenate([[0], mask.astype(np.int8), [0]])))
    runs = [[starts[a], starts[b - 1] + frame] for a, b in zip(edges[::2], edges[1::2])]
    merged: list[list[float]] = []
    for run in runs:
        if merged and (run[0] - merged[-1][1]) * 1000 < s.min_silence:
            merged[-1][1] = run[1]
        else:
            merged.append(run)
    kept = [r for r in merged if (r[1] - r[0]) * 1000 >= s.min_unit]
    return np.array(kept, dtype=np.float64).reshape(-1, 2)


def _loud_enough(units: np.ndarray, level: np.ndarray, times: np.ndarray, range_db: float) -> np.ndarray:
    """The units whose peak ``level`` (dB, at ``times``) is within ``range_db`` of the loudest's."""
    if not len(units):
        return units
    peaks = np.array([level[(times >= a) & (times <= b)].max(initial=-np.inf) for a, b in units])
    return units[peaks >= peaks.max() - range_db]


@dataclass(frozen=True)
class UnitScore:
    """How well found units agree with true ones (:func:`score_units`): ``matched`` pairs within
    ``tolerance`` seconds at both ends, their signed ``onset_errors`` and ``offset_errors``
    (found minus true, seconds), and what the unmatched units are: ``merges`` (found units that
    overlap two or more true ones), ``splits`` (true units that overlap two or more found ones),
    ``misses`` (true units that overlap no found unit), ``extras`` (found units that overlap no
    true unit); the rest overlap one unit but miss the tolerance."""

    tolerance: float
    found: int
    true: int
    matched: int
    onset_errors: np.ndarray
    offset_errors: np.ndarray
    merges: int
    splits: int
    misses: int
    extras: int

    @property
    def precision(self) -> float:
        """Matched found units over all found units (1 where none was found)."""
        return self.matched / self.found if self.found else 1.0

    @property
    def recall(self) -> float:
        """Matched true units over all true units (1 where there are none)."""
        return self.matched / self.true if self.true else 1.0

    @property
    def f1(self) -> float:
        """The harmonic mean of precision and recall."""
        return 2 * self.precision * self.recall / (self.precision + self.recall) if self.matched else 0.0


def score_units(found: np.ndarray, true: np.ndarray, tolerance: float) -> UnitScore:
    """Match ``found`` units to ``true`` ones ((k, 2) onsets and offsets in seconds) one to one,
    a pair only where both its onsets and its offsets lie within ``tolerance`` seconds, as many
    pairs as can be (the assignment of least total error among those: Hungarian), and say how
    the others went wrong (:class:`UnitScore`).

    Examples
    --------
    >>> true = np.array([[0.10, 0.20], [0.30, 0.40], [0.50, 0.60]])
    >>> found = np.array([[0.102, 0.199], [0.30, 0.60]])          # the second covers two: a merge
    >>> s = score_units(found, true, 0.010)
    >>> s.matched, s.merges, round(s.precision, 2), round(s.recall, 2), s.onset_errors.round(3).tolist()
    (1, 1, 0.5, 0.33, [0.002])
    """
    from scipy.optimize import linear_sum_assignment

    found, true = np.asarray(found, np.float64).reshape(-1, 2), np.asarray(true, np.float64).reshape(-1, 2)
    error = np.maximum(np.abs(found[:, None, 0] - true[None, :, 0]), np.abs(found[:, None, 1] - true[None, :, 1]))
    close = error <= tolerance
    # an impossible pair costs more than all possible pairs together: the most pairs, then the least error
    rows, cols = linear_sum_assignment(np.where(close, error, 1.0 + close.sum() * max(tolerance, 1.0)))
    keep = close[rows, cols]
    rows, cols = rows[keep], cols[keep]
    overlap = (found[:, None, 0] < true[None, :, 1]) & (true[None, :, 0] < found[:, None, 1])
    lone_found, lone_true = np.ones(len(found), bool), np.ones(len(true), bool)
    lone_found[rows], lone_true[cols] = False, False
    return UnitScore(tolerance, len(found), len(true), len(rows), found[rows, 0] - true[cols, 0],
                     found[rows, 1] - true[cols, 1], int(np.sum(lone_found & (overlap.sum(1) >= 2))),
                     int(np.sum(lone_true & (overlap.sum(0) >= 2))), int(np.sum(overlap.sum(0) == 0)),
                     int(np.sum(overlap.sum(1) == 0)))


@dataclass(frozen=True)
class Excerpt:
    """The stretch of a file a model takes: ``onset`` to ``offset`` seconds of a file lasting
    ``length`` seconds, and ``how`` it was chosen."""

    file: str
    onset: float
    offset: float
    length: float
    how: str

    def cut(self, y: np.ndarray, sr: int) -> np.ndarray:
        """The excerpt of the file's samples ``y`` at rate ``sr``."""
        return y[round(self.onset * sr): round(self.offset * sr)]

    def to_dict(self) -> dict:
        """What manifest.json records of the window (under ``inputs``)."""
        return {"file": Path(self.file).name, "onset_s": round(self.onset, 4), "offset_s": round(self.offset, 4),
                "file_s": round(self.length, 4), "window": self.how}


def choose_excerpt(y: np.ndarray, sr: int, window: float, kind: str, onset: float | None = None,
                   path: str | os.PathLike = "sound") -> Excerpt:
    """Which ``window`` seconds of a sound a model takes: a file is never cropped without a word.

    A file no longer than the window is taken whole. ``onset`` (seconds) takes the window that
    starts there. Otherwise the file's units are found (:func:`find_units` with the defaults of
    ``kind``: speech models take the voiced nucleus, birdsong models the syllable) and the window
    is centred on the one unit (on the middle of a unit longer than the window, and the warning
    says so); a file with several units, or none, is refused with one line that says how many and
    how to choose (``--onset``, ``stimgen data segment``). Whenever the file is longer than the
    window, a :class:`~stimgen.errors.StimgenWarning` says which window was used.

    Examples
    --------
    >>> sr = 16000
    >>> y = np.concatenate([np.zeros(sr), 0.3 * np.sin(2 * np.pi * 150 * np.arange(sr // 4) / sr), np.zeros(sr)])
    >>> import warnings
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     e = choose_excerpt(y, sr, 0.5, "speech", path="a.wav")
    >>> round(e.onset, 2), round(e.offset, 2), e.how
    (0.88, 1.38, 'its voiced stretch')
    """
    length = y.size / sr
    if onset is not None:
        if not (np.isfinite(onset) and 0 <= onset < length):
            raise StimgenError(f"--onset {onset:g} s is outside the file (0-{length:.3f} s)", path=path)
        excerpt = Excerpt(str(path), float(onset), min(onset + window, length), length, "--onset")
    elif length <= window + 1.0 / sr:
        return Excerpt(str(path), 0.0, length, length, "whole file")
    else:
        units = find_units(y, sr, SegmentSettings.for_kind(kind))
        one, many = UNIT_NAMES[kind]
        if len(units) != 1:
            where = "" if not len(units) else " (at " + ", ".join(f"{a:.2f}" for a in units[:6, 0]) + (
                ", ..." if len(units) > 6 else "") + " s)"
            found = f"holds {len(units)} {many}{where}" if len(units) else f"holds no {one} that stimgen could find"
            raise StimgenError(f"lasts {length:.2f} s and {found}; the model takes one {window:.2f} s window: "
                               "choose it with --onset SECONDS, or cut the file into units with "
                               "`stimgen data segment`", path=path)
        centre, span = float(units[0].mean()), float(units[0, 1] - units[0, 0])
        start = float(np.clip(centre - window / 2, 0.0, length - window))
        how = f"its {one}" if span <= window else f"the middle of its {span:.2f} s {one}"
        excerpt = Excerpt(str(path), start, start + window, length, how)
    if length > window + 1.0 / sr:
        import warnings

        why = "as --onset asked" if excerpt.how == "--onset" else f"({excerpt.how}); --onset picks another"
        warnings.warn(StimgenWarning(f"lasts {length:.2f} s, longer than the model's {window:.2f} s window: used "
                                     f"{excerpt.onset:.3f}-{excerpt.offset:.3f} s {why}", path=path), stacklevel=2)
    return excerpt
