"""WORLD analysis and synthesis: a voice as F0, spectral envelope and aperiodicity.

A sound at ``config.sample_rate`` is split by pyworld (Harvest or DIO + StoneMask for F0,
CheapTrick for the envelope, D4C for aperiodicity) into
- the **envelope**: the log power spectral envelope sampled at ``n_bins`` mel-spaced frequencies,
  one column per frame, scaled to [0, 1] over ``-min_db`` dB: the model's item, the same
  (1, bins, frames) image a log-mel spectrogram is;
- the **voice**: the F0 contour (Hz, 0 where unvoiced) and the aperiodicity in WORLD's coded
  bands, kept beside the item (:class:`Voice`).
Synthesis undoes the frequency warping and hands the envelope, an F0 contour and aperiodicity to
WORLD. F0 is therefore set by the user, not by the model (see :func:`mix_voices`).

pyworld is imported on first use (see :func:`_pyworld` for its ``pkg_resources``).
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from stimgen.errors import StimgenError
from stimgen.signal.audio import check_audio, fix_duration, normalize_rms
from stimgen.signal.spectrogram import TRAINING_LEVEL_DBFS, FrameSettings

F0_METHODS = ("harvest", "dio")


@dataclass(frozen=True)
class WorldConfig(FrameSettings):
    """Every setting of the sound <-> envelope transform, saved in a model's config.json.

    ``n_frames`` frames ``hop_length`` samples apart cover ``n_samples = (n_frames - 1) *
    hop_length`` samples, as a spectrogram's do. ``f0_floor`` / ``f0_ceil`` are hard limits of the
    F0 search (``f0_method`` ``"harvest"``, robust, or ``"dio"``, fast, for high weak voices);
    ``f0_floor`` also sets WORLD's FFT size.

    Examples
    --------
    >>> cfg = WorldConfig()
    >>> cfg.shape, cfg.frame_period_ms, cfg.fft_size
    ((64, 64), 8.0, 1024)
    """

    sample_rate: int = 16000
    hop_length: int = 128
    n_frames: int = 64
    n_bins: int = 64
    fmin: float = 50.0
    fmax: float = 8000.0
    ref_db: float = 20.0
    min_db: float = -120.0
    f0_floor: float = 71.0
    f0_ceil: float = 800.0
    f0_method: str = "harvest"

    def __post_init__(self) -> None:
        problems = []
        if self.sample_rate < 8000:
            problems.append(f"sample_rate {self.sample_rate} is below 8000 Hz")
        if self.hop_length < 1 or self.n_frames < 2 or self.n_bins < 2:
            problems.append("hop_length must be positive and n_frames, n_bins at least 2")
        if not 0 < self.fmin < self.fmax <= self.sample_rate / 2:
            problems.append(f"need 0 < fmin < fmax <= sample_rate / 2, got {self.fmin:g}, {self.fmax:g}")
        if self.min_db >= 0:
            problems.append(f"min_db must be negative, got {self.min_db:g}")
        if not 0 < self.f0_floor < self.f0_ceil < self.sample_rate / 2:
            problems.append(f"need 0 < f0_floor < f0_ceil < sample_rate / 2, got {self.f0_floor:g}, {self.f0_ceil:g}")
        if self.f0_method not in F0_METHODS:
            problems.append(f"f0_method must be one of {', '.join(F0_METHODS)}, got {self.f0_method!r}")
        if problems:
            raise StimgenError("invalid WORLD settings: " + "; ".join(problems))

    KIND = "WORLD"

    @property
    def frame_period_ms(self) -> float:
        """WORLD's frame period: one hop, in milliseconds."""
        return 1000.0 * self.hop_length / self.sample_rate

    @property
    def fft_size(self) -> int:
        """WORLD's FFT size for this F0 floor and rate (CheapTrick's rule: three periods of the floor)."""
        return int(2 ** (1 + np.floor(np.log2(3.0 * self.sample_rate / self.f0_floor + 1))))

    @property
    def shape(self) -> tuple[int, int]:
        """(n_bins, n_frames): the image a model sees."""
        return (self.n_bins, self.n_frames)


@dataclass(frozen=True)
class Voice:
    """What WORLD needs besides the envelope: F0 per frame (Hz, 0 = unvoiced) and aperiodicity per
    frame in WORLD's coded bands (dB, (n_frames, bands)); ``detail_db``, where given, is added to
    the envelope made of the item (dB, (n_frames, fft_size // 2 + 1)): the detail of a speaker's
    own envelope that a model's item cannot hold, carried along a continuum from its ends
    (:meth:`stimgen.morph.ends.Ends.details`)."""

    f0: np.ndarray
    coded_ap: np.ndarray
    detail_db: np.ndarray | None = None

    @property
    def voiced(self) -> np.ndarray:
        """Which frames are voiced (F0 > 0), (frames,) bool."""
        return self.f0 > 0


@functools.lru_cache(maxsize=1)
def _pyworld():
    """pyworld, imported on first use.

    pyworld 0.3.5 asks ``pkg_resources`` for its own version as it is imported. setuptools 81 and
    later no longer ship ``pkg_resources``, and where it is installed it takes longer to import than
    WORLD takes to analyse two endpoints. So for the import only, a stand-in answers that one call
    from ``importlib.metadata``; it is removed again, and a real ``pkg_resources`` already imported
    is left alone.
    """
    import importlib.metadata
    import sys
    import types

    stand_in = None
    if "pkg_resources" not in sys.modules:
        stand_in = types.ModuleType("pkg_resources")
        stand_in.get_distribution = lambda name: types.SimpleNamespace(version=importlib.metadata.version(name))
        sys.modules["pkg_resources"] = stand_in
    try:
        import pyworld
    finally:
        if stand_in is not None and sys.modules.get("pkg_resources") is stand_in:
            del sys.modules["pkg_resources"]
    return pyworld


def mel_frequencies(n: int, fmin: float, fmax: float) -> np.ndarray:
    """librosa's ``mel_frequencies(n, fmin=fmin, fmax=fmax)`` (Slaney's mel scale), kept in the cache
    folder after its first use: importing librosa's core (and numba with it) takes longer than
    the WORLD analysis of two endpoints.

    Examples
    --------
    >>> mel_frequencies(3, 0.0, 1000.0)                  # doctest: +SKIP
    array([   0.,  500., 1000.])
    """
    from stimgen.cache import cached_array

    def compute() -> np.ndarray:
        import librosa

        return librosa.mel_frequencies(n, fmin=fmin, fmax=fmax)

    return cached_array(f"filters/mel-frequencies-librosa-{n}-{fmin:g}-{fmax:g}.npy", compute, (n,), np.float64)


@functools.lru_cache(maxsize=8)
def _axes(config: WorldConfig, n_fft: int) -> tuple[np.ndarray, np.ndarray]:
    """The envelope's mel-spaced frequencies and the linear frequencies of an ``n_fft`` FFT (Hz)."""
    bins = mel_frequencies(config.n_bins, config.fmin, config.fmax)
    linear = np.arange(n_fft // 2 + 1) * config.sample_rate / n_fft
    return bins, linear


#: The range (dB) over which :func:`calibrate_aperiodicity` lowers a voice's coded aperiodicity.
APERIODICITY_OFFSETS = (-40.0, 0.0)


def aperiodicity_bands(sample_rate: int) -> int:
    """How many coded aperiodicity bands WORLD keeps at ``sample_rate`` (1 at 16 kHz, 4 at 32 kHz)."""
    return int(_pyworld().get_num_aperiodicities(sample_rate))


def analyse(y: np.ndarray, config: WorldConfig, name: str = "sound",
            require_voice: bool = True, own_hnr: bool = False) -> tuple[np.ndarray, Voice]:
    """A sound at ``config.sample_rate`` as an envelope item (n_bins, n_frames) in [0, 1] and its
    :class:`Voice`. The sound is fitted to the duration (centred) and brought to the training level
    first; a sound with no voiced frame is refused, naming ``name``, unless ``require_voice`` is
    False (training data: its envelope is still an item). With ``own_hnr`` (a user's file, whose
    voice stimuli will speak with) the voice is made no noisier than the sound
    (:func:`calibrate_aperiodicity`).

    Examples
    --------
    >>> cfg = WorldConfig()
    >>> t = np.arange(cfg.n_samples) / cfg.sample_rate
    >>> item, voice = analyse(0.1 * np.sign(np.sin(2 * np.pi * 120 * t)), cfg)
    >>> item.shape, round(float(np.median(voice.f0[voice.voiced])))
    ((64, 64), 120)
    """
    pw = _pyworld()
    y = fix_duration(check_audio(y, allow_silence=True), config.sample_rate, config.duration)
    if not np.any(y):
        raise StimgenError("is silent: WORLD finds no voice in it", path=name)
    y, _ = normalize_rms(y, TRAINING_LEVEL_DBFS, max_peak_dbfs=np.inf)
    x = np.ascontiguousarray(y, dtype=np.float64)
    fs, period = config.sample_rate, config.frame_period_ms
    if config.f0_method == "harvest":
        f0, t = pw.harvest(x, fs, f0_floor=config.f0_floor, f0_ceil=config.f0_ceil, frame_period=period)
    else:
        f0, t = pw.dio(x, fs, f0_floor=config.f0_floor, f0_ceil=config.f0_ceil, frame_period=period)
        f0 = pw.stonemask(x, f0, t, fs)
    f0, t = f0[: config.n_frames], t[: config.n_frames]
    if require_voice and not np.any(f0 > 0):
        raise StimgenError(f"has no voiced frame (WORLD found no F0 between {config.f0_floor:g} and "
                           f"{config.f0_ceil:g} Hz): a WORLD model needs a voice", path=name)
    sp = pw.cheaptrick(x, f0, t, fs, f0_floor=config.f0_floor, fft_size=config.fft_size)
    ap = pw.d4c(x, f0, t, fs, fft_size=config.fft_size)
    ap[f0 == 0] = 1.0
    coded_ap = pw.code_aperiodicity(np.ascontiguousarray(ap), fs)
    if own_hnr:
        coded_ap = calibrate_aperiodicity(x, f0, sp, coded_ap, config)
    return envelope_to_item(sp, config), Voice(f0.astype(np.float64), coded_ap)


def calibrate_aperiodicity(x: np.ndarray, f0: np.ndarray, sp: np.ndarray, coded_ap: np.ndarray,
                           config: WorldConfig) -> np.ndarray:
    """WORLD's coded aperiodicity of sound ``x`` (dB, (frames, bands)), lowered on its voiced frames
    where WORLD's resynthesis of ``x`` at its own F0 and envelope ``sp`` is noisier than ``x``: by the
    one offset (dB) with which that resynthesis has the harmonics-to-noise ratio of ``x`` itself
    (Praat's, :func:`stimgen.signal.phonetics.measure_hnr`), to within 0.25 dB where an offset in
    :data:`APERIODICITY_OFFSETS` reaches it.

    WORLD's D4C takes some voices for noisier than they are: espeak-ng's women, whose odd and
    even harmonics differ by up to 18 dB, come back from analysis and resynthesis at their own F0
    3-8 dB below their own HNR (20.0 against 23.3 dB, 17.4 against 21.6, 18.9 against 26.5), and
    stimuli would speak with a noisier voice than the speaker's. The aperiodicity is only ever
    lowered: a resynthesis cleaner than its recording (a festival woman's is within 1 dB; the
    built-in synthetic voices' 5-7 dB above) owes that to what WORLD's aperiodicity does not hold
    (its smooth F0 contour leaves out the voice's jitter), and adding noise would not put the
    jitter back. The offset is found by bisection (at most eight resyntheses); a sound whose own
    HNR Praat cannot measure keeps WORLD's estimate.

    Examples
    --------
    >>> cfg = WorldConfig()
    >>> x = 0.1 * np.sign(np.sin(2 * np.pi * 120 * np.arange(cfg.n_samples) / cfg.sample_rate))
    >>> f0 = np.full(cfg.n_frames, 120.0)
    >>> sp = item_to_envelope(np.full(cfg.shape, 0.5, dtype=np.float32), cfg)
    >>> calibrate_aperiodicity(x, f0, sp, np.full((cfg.n_frames, 1), -10.0), cfg).shape
    (64, 1)
    """
    from stimgen.signal.phonetics import measure_hnr

    target = measure_hnr(x, config.sample_rate)
    voiced = f0 > 0
    if not (np.isfinite(target) and voiced.any()):
        return coded_ap
    f0 = np.asarray(f0, dtype=np.float64)

    def moved(offset: float) -> np.ndarray:
        out = coded_ap.copy()
        out[voiced] += offset
        return out

    def excess(offset: float) -> float:  # the resynthesis's HNR over the sound's own (falls as the offset rises)
        hnr = measure_hnr(synthesize_envelope(sp, Voice(f0, moved(offset)), config), config.sample_rate)
        return hnr - target if np.isfinite(hnr) else -np.inf

    if excess(0.0) >= -0.25:  # WORLD's resynthesis is no noisier than the sound: its estimate stands
        return coded_ap
    (low, high), offset = APERIODICITY_OFFSETS, sum(APERIODICITY_OFFSETS) / 2
    for _ in range(7):
        off = excess(offset)
        if abs(off) <= 0.25:
            break
        low, high = (low, offset) if off < 0 else (offset, high)
        offset = (low + high) / 2
    return moved(offset)


@functools.lru_cache(maxsize=64)
def _analyse_file(path: str, stamp: tuple[int, int], config: WorldConfig,
                  span: tuple[float, float] | None, own_hnr: bool) -> tuple[np.ndarray, Voice]:
    from stimgen.signal.audio import load_audio

    y, sr = load_audio(path)
    if span is not None:
        y = y[round(span[0] * sr): round(span[1] * sr)]
    return analyse_at(y, sr, config, name=path, own_hnr=own_hnr)


def analyse_at(y: np.ndarray, sr: int, config: WorldConfig, name: str = "sound",
               require_voice: bool = True, own_hnr: bool = False) -> tuple[np.ndarray, Voice]:
    """:func:`analyse` of a sound at any rate ``sr`` (resampled to ``config.sample_rate`` first)."""
    from stimgen.signal.audio import resample

    return analyse(resample(y, sr, config.sample_rate), config, name=name, require_voice=require_voice,
                   own_hnr=own_hnr)


def analyse_file(path: str | os.PathLike, config: WorldConfig, excerpt=None,
                 own_hnr: bool = True) -> tuple[np.ndarray, Voice]:
    """:func:`analyse` of a sound file, or of its ``excerpt`` (a :class:`stimgen.signal.segment.Excerpt`),
    done once per file and command (WORLD's F0 search is slow); the voice is no noisier than the
    file (:func:`calibrate_aperiodicity`) unless ``own_hnr`` is False (WORLD's own estimate, as
    stimgen voiced files before 2026-12-08)."""
    path = Path(path)
    try:
        stat = path.stat()
        stamp = (stat.st_mtime_ns, stat.st_size)
    except OSError:  # load_audio names the problem
        stamp = (0, 0)
    span = None if excerpt is None else (excerpt.onset, excerpt.offset)
    return _analyse_file(str(path), stamp, config, span, own_hnr)


def db_to_power(db: np.ndarray) -> np.ndarray:
    """``10 ** (db / 10)``, computed as ``exp(db ln(10) / 10)``: the same to 1e-15, in half the time
    of NumPy's power, which on a stimulus's envelope (frames x FFT bins) is a millisecond a call.

    Examples
    --------
    >>> db_to_power(np.array([0.0, 10.0, -30.0]))
    array([1.e+00, 1.e+01, 1.e-03])
    """
    return np.exp(np.asarray(db, dtype=np.float64) * (np.log(10.0) / 10.0))


def envelope_to_item(sp: np.ndarray, config: WorldConfig) -> np.ndarray:
    """A power envelope (frames, fft_size // 2 + 1) as the item (n_bins, n_frames) in [0, 1]."""
    bins, linear = _axes(config, config.fft_size)
    db = 10.0 * np.log10(np.maximum(sp, 1e-20))
    warped = np.stack([np.interp(bins, linear, frame) for frame in db])
    return np.clip((warped - config.ref_db - config.min_db) / -config.min_db, 0.0, 1.0).T.astype(np.float32)


def item_to_envelope(item: np.ndarray, config: WorldConfig, n_fft: int | None = None) -> np.ndarray:
    """The inverse of :func:`envelope_to_item`: a power envelope (n_frames, n_fft // 2 + 1) on the
    axis of an ``n_fft`` FFT (None: WORLD's own, ``config.fft_size``)."""
    bins, linear = _axes(config, n_fft or config.fft_size)
    db = np.asarray(item, dtype=np.float64).T * -config.min_db + config.min_db + config.ref_db
    return db_to_power(np.stack([np.interp(linear, bins, frame) for frame in db]))


def synthesize(item: np.ndarray, voice: Voice, config: WorldConfig) -> np.ndarray:
    """An envelope item (n_bins, n_frames) with a :class:`Voice` as sound, (n_samples,) at
    ``config.sample_rate``."""
    return synthesize_envelope(item_to_envelope(item, config), voice, config)


def synthesize_envelope(sp: np.ndarray, voice: Voice, config: WorldConfig) -> np.ndarray:
    """A power envelope (n_frames, fft_size // 2 + 1) with a :class:`Voice` as sound, (n_samples,)."""
    pw = _pyworld()
    sp = np.ascontiguousarray(sp, dtype=np.float64)
    if voice.detail_db is not None:
        sp = sp * db_to_power(voice.detail_db)
    ap = pw.decode_aperiodicity(np.ascontiguousarray(voice.coded_ap, dtype=np.float64), config.sample_rate,
                                config.fft_size)
    ap[voice.f0 == 0] = 1.0
    f0 = np.ascontiguousarray(voice.f0, dtype=np.float64)
    y = pw.synthesize(f0, sp, np.ascontiguousarray(ap), config.sample_rate, config.frame_period_ms)
    return fix_duration(y, config.sample_rate, config.duration, align="start")


def parse_f0(value: str | float | None, inputs: int = 2) -> str | float | None:
    """An F0 policy as given on the command line: ``interpolate``, the letter of an input (``a``,
    ``b``, ...; ``inputs`` of them) or a positive number of Hz. None stays None (the verb's
    default). Which numbers a model takes is its representation's to say (``check_f0``: the
    range in which the manifest measures F0).

    Examples
    --------
    >>> parse_f0("120"), parse_f0("a"), parse_f0(None)
    (120.0, 'a', None)
    """
    choices = (("interpolate",) if inputs > 1 else ()) + tuple("abcd"[:inputs])
    if value is None or value in choices:
        return value
    try:
        hz = float(value)
    except (TypeError, ValueError):
        raise StimgenError(f"--f0 must be {' or '.join([', '.join(choices), 'a number of Hz'][not choices:])}, "
                           f"got {value!r}") from None
    if not (np.isfinite(hz) and hz > 0):
        raise StimgenError(f"--f0 must be a positive number of Hz, got {value!r}")
    return hz


def mix_voices(voices: list[Voice], weights: np.ndarray, policy: str | float = "interpolate") -> list[Voice]:
    """The voice of each stimulus made of ``voices`` in proportions ``weights`` (N, len(voices)).

    Aperiodicity is mixed linearly (in WORLD's coded dB) and each frame is voiced where the voice
    of the largest weight is. F0, by ``policy``: ``"interpolate"`` the weighted geometric mean of the
    voiced contours (log-linear between two endpoints), a letter (``"a"``, ``"b"``, ...) that
    voice's contour for every stimulus, a number that many Hz in every voiced frame.

    Examples
    --------
    >>> a = Voice(np.full(4, 100.0), np.zeros((4, 1)))
    >>> b = Voice(np.full(4, 400.0), np.zeros((4, 1)))
    >>> w = np.array([[1.0, 0.0], [0.5, 0.5], [0.0, 1.0]])
    >>> [round(float(v.f0[0])) for v in mix_voices([a, b], w)]
    [100, 200, 400]
    >>> [round(float(v.f0[0])) for v in mix_voices([a, b], w, 120.0)]
    [120, 120, 120]
    """
    weights = np.asarray(weights, dtype=np.float64)
    if weights.ndim != 2 or weights.shape[1] != len(voices):
        raise StimgenError(f"need one weight per voice ({len(voices)}), got weights of shape {weights.shape}")
    f0s = np.stack([v.f0 for v in voices])
    aps = np.stack([v.coded_ap for v in voices])
    if isinstance(policy, str) and policy != "interpolate":
        held = fill_unvoiced(voices["abcd".index(policy)].f0)
    out = []
    for w in weights:
        voiced = voices[int(np.argmax(w))].voiced
        if policy == "interpolate":
            wv = w[:, None] * (f0s > 0)
            f0 = np.exp(np.sum(wv * np.log(np.maximum(f0s, 1e-9)), axis=0) / np.maximum(wv.sum(axis=0), 1e-12))
        elif isinstance(policy, str):
            f0 = held
        else:
            f0 = np.full(f0s.shape[1], float(policy))
        out.append(Voice(np.where(voiced, f0, 0.0), np.tensordot(w, aps, axes=1)))
    return out


def fill_unvoiced(f0: np.ndarray) -> np.ndarray:
    """An F0 contour with its unvoiced frames (0) filled from the nearest voiced ones."""
    voiced = np.flatnonzero(f0 > 0)
    return np.interp(np.arange(len(f0)), voiced, f0[voiced]) if len(voiced) else f0.copy()


def shifted(voice: Voice, hz: float, pitch_range: tuple[float, float]) -> Voice:
    """``voice`` with every voiced frame's F0 moved by ``hz``; refused if any voiced frame's F0
    would leave ``pitch_range`` (Hz: the model's, in which the manifest measures F0).

    Examples
    --------
    >>> shifted(Voice(np.array([100.0, 0.0]), np.zeros((2, 1))), 20.0, (60.0, 600.0)).f0.tolist()
    [120.0, 0.0]
    """
    f0 = voice.f0[voice.voiced] + hz
    low, high = pitch_range
    if f0.size and (f0.min() < low or f0.max() > high):
        raise StimgenError(f"an F0 change of {hz:+g} Hz takes this voice ({voice.f0[voice.voiced].min():.0f}-"
                           f"{voice.f0[voice.voiced].max():.0f} Hz) to {f0.min():.0f}-{f0.max():.0f} Hz, outside the "
                           f"model's pitch range, {low:g}-{high:g} Hz")
    return replace(voice, f0=np.where(voice.voiced, voice.f0 + hz, 0.0))
