"""What every representation of sounds shares: an item analysis plus a vocoder, WAVs at the user's
rate and level, Praat's measurements, distances in dB and Bark, spectrogram-like pictures.

A subclass says how a sound becomes an item (:meth:`Sound.sound_to_item`), how an item becomes a
power spectral envelope (:meth:`Sound.envelope`, for vocoders that take one) and which vocoder it
holds by default (``default_vocoder``; a model's ``data.vocoder`` may name another, see
:mod:`stimgen.representations.vocoders`). The vocoder makes items into sound; where it keeps a
voice beside the item (WORLD: ``voiced``), each stimulus's voice is mixed from its input files'
and travels in the :class:`~stimgen.representations.representation.RenderPlan` with the formant ceiling of
the recordings' vocal tracts, with which its F1/F2 are measured whatever F0 it is given.
"""

from __future__ import annotations

import copy
import os
from abc import abstractmethod
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import ClassVar

import numpy as np
import pandas as pd

from stimgen.data.folder import FolderDataset
from stimgen.errors import StimgenError
from stimgen.preview import spectrogram_rgb
from stimgen.representations.representation import RenderPlan, RenderSettings, Representation
from stimgen.representations.vocoder import Vocoder
from stimgen.representations.vocoders import make_vocoder
from stimgen.signal.audio import apply_ramps, fix_duration, load_audio, normalize_rms, resample, save_wav
from stimgen.signal.distances import bark_distance, spectral_distance
from stimgen.signal.features import FORMANT_RULE, PITCH_RANGES, SPEECH_PITCH_RANGE, audio_features
from stimgen.signal.phonetics import vocal_tract_ceiling
from stimgen.signal.segment import Excerpt, choose_excerpt
from stimgen.signal.song_features import SONG_FEATURES, SOUNDING_DB, song_features, sounding_samples


@dataclass(frozen=True)
class Voicing:
    """One sound stimulus's state in a :class:`~stimgen.representations.representation.RenderPlan`: its
    vocoder's ``voice`` (None for a vocoder that keeps none) and the Praat formant ceiling (Hz)
    that fits the vocal tract it came from, or None where the F0 rule applies
    (:func:`stimgen.signal.features.audio_features`)."""

    voice: object = None
    formant_ceiling: float | None = None


@dataclass(frozen=True)
class Metric:
    """A distance between consecutive sounds: ``distances(rep, features, items)`` (N - 1,), and
    whether it needs the sounds' features (``measured``: Praat on the items made into sound)."""

    distances: Callable[[Sound, list[dict[str, float]], np.ndarray], np.ndarray]
    measured: bool


def _formant_distances(rep: Sound, features: list[dict[str, float]], items: np.ndarray) -> np.ndarray:
    barks = pd.DataFrame(features)[["f1_bark", "f2_bark"]].to_numpy()
    return bark_distance(barks[1:], barks[:-1])


#: The distances between sounds that equal spacing offers, by name (units in ``options.METRIC_UNITS``).
METRICS = {"spectral": Metric(lambda rep, features, items: spectral_distance(items[1:], items[:-1], -rep.db_range),
                              measured=False),
           "formants": Metric(_formant_distances, measured=True)}


class Sound(Representation):
    """The part of an audio representation that does not depend on its items: see the module."""

    medium = "audio"
    preload = "audio"
    extension = "wav"
    metrics = tuple(METRICS)
    features = ("duration_s", "rms_dbfs", "peak_dbfs", "f0_hz", "hnr_db", "f1_hz", "f2_hz", "f1_bark", "f2_bark",
                "formant_ceiling_hz")
    sheet_style = "spectrogram"
    sheet_scale = 2
    pictures_beside = True
    frequency_warps = True
    #: The vocoder (:data:`~stimgen.representations.vocoders.VOCODERS`) unless ``data.vocoder`` names another.
    default_vocoder: ClassVar[str]

    #: The model's sample rate, the duration of an item (s) and the dB range of its values.
    sample_rate: int
    duration: float
    db_range: float

    def __init__(self, source: str | None = None, units: str | None = None, vocoder: str | Vocoder | None = None,
                 data: dict | None = None) -> None:
        """``vocoder``: a vocoder, or its name (None: ``default_vocoder``), built with the fitted
        state in ``data`` (a model's ``data`` section). A subclass sets its own settings first."""
        self.source = source
        #: What the model's items are (``birdsong`` syllables or ``speech``): how the window of a long
        #: file is chosen, and Praat's pitch search range (birds' or voices').
        self.units = units or ("birdsong" if source == "birdsong" else "speech")
        self.pitch_range = PITCH_RANGES["birdsong"] if self.units == "birdsong" else SPEECH_PITCH_RANGE
        #: Birdsong: each stimulus also measures the song features a birdsong lab uses
        #: (:mod:`stimgen.signal.song_features`), and is levelled by its sounding part (:func:`condition`).
        self.song = self.units == "birdsong"
        self.speech = self.units == "speech"
        self.features = (*type(self).features, *(SONG_FEATURES if self.song else ()))
        #: The window of each file loaded so far, and its voicing, by path (:meth:`excerpt`, :meth:`plan`).
        self.excerpts: dict[str, Excerpt] = {}
        self._voicings: dict[tuple[str, bool], Voicing] = {}
        self.vocoder = (vocoder if isinstance(vocoder, Vocoder)
                        else make_vocoder(vocoder or self.default_vocoder, self, data or {}))

    @property
    def voiced(self) -> bool:
        """Whether the vocoder sets F0 apart from the items (``--f0``)."""
        return self.vocoder.voiced

    @property
    def default_metric(self) -> str:
        """``formants`` (F1/F2 in Bark, Praat) for speech voiced by WORLD, where the steps' vowels
        are what a listener hears and a point of the path takes milliseconds to voice; else
        ``spectral`` (log-mel dB): birdsong, and speech voiced by Griffin-Lim (docs/morph.md)."""
        return "formants" if self.speech and self.voiced else "spectral"

    def vocoder_config(self) -> dict:
        """The vocoder's part of the model's ``data`` section: its name where it is not the
        representation's own, and its fitted state."""
        name = self.vocoder.name
        return {**({"vocoder": name} if name != self.default_vocoder else {}), **self.vocoder.to_config()}

    def fit(self, ds: FolderDataset, progress: bool = False) -> Sound:
        """A copy whose vocoder has learned from training set ``ds`` (WORLD: its median voice)."""
        fitted = copy.copy(self)
        fitted.vocoder = self.vocoder.fit(self, ds, progress=progress)
        fitted.excerpts, fitted._voicings = {}, {}
        return fitted

    def provenance(self) -> dict:
        song = {"level": SOUNDING_LEVEL, "song_features": SONG_FEATURES_RULE} if self.song else {}
        return {**self.analysis_provenance(), **self.vocoder.provenance(),
                "measurement": {"pitch_range_hz": list(self.pitch_range), "formants": FORMANT_RULE, **song}}

    @abstractmethod
    def analysis_provenance(self) -> dict:
        """The item analysis's settings, as manifest.json records them."""

    # --- files to items ---------------------------------------------------------------------------
    @abstractmethod
    def sound_to_item(self, y: np.ndarray, sr: int, path: str | os.PathLike | None = None) -> np.ndarray:
        """A sound at rate ``sr`` as the model's item (C, H, W); ``path`` names it in errors."""

    @abstractmethod
    def envelope(self, item: np.ndarray, n_fft: int) -> np.ndarray:
        """An item (C, H, W) as a power spectral envelope (frames, n_fft // 2 + 1) on a linear
        frequency axis from 0 to half the model's rate: what WORLD-like vocoders voice."""

    def excerpt(self, path: str | os.PathLike, onset: float | None = None) -> Excerpt:
        """The window of file ``path`` that the model takes (:func:`stimgen.signal.segment.choose_excerpt`),
        chosen on the first call (or whenever ``onset`` is given) and the same for every later use of
        the file: its item, its voice, and the file itself as a step (``--endpoints original``)."""
        if str(path) not in self.excerpts or onset is not None:
            y, sr = load_audio(path)
            self.excerpts[str(path)] = choose_excerpt(y, sr, self.duration, self.units, onset, path)
            for own_hnr in (True, False):
                self._voicings.pop((str(path), own_hnr), None)
        return self.excerpts[str(path)]

    def excerpt_record(self, path: Path) -> dict:
        return self.excerpts[str(path)].to_dict() if str(path) in self.excerpts else {}

    def load(self, path: str | os.PathLike) -> np.ndarray:
        y, sr = load_audio(path)
        return self.sound_to_item(self.excerpt(path).cut(y, sr), sr, path=path)

    def check_f0(self, f0: str | float | None) -> None:
        """Refuse an ``f0`` where the vocoder sets no F0 apart from the items, and a number of Hz
        outside ``pitch_range``, the range in which the manifest measures F0 (before any file is read)."""
        if not self.voiced:
            super().check_f0(f0)
        elif f0 is not None and not isinstance(f0, str) and not self.pitch_range[0] <= f0 <= self.pitch_range[1]:
            low, high = self.pitch_range
            raise StimgenError(f"--f0 {f0:g} Hz is outside this model's pitch range, {low:g}-{high:g} Hz, in which "
                               "the manifest measures F0")

    # --- plans ------------------------------------------------------------------------------------
    def plan(self, items: np.ndarray, files: Sequence[Path] = (), weights: np.ndarray | None = None,
             f0: str | float | None = None, sources: Sequence[Path | None] | None = None,
             f0_shift: np.ndarray | None = None, detail: np.ndarray | None = None,
             starts: bool = True, own_hnr: bool = True) -> RenderPlan:
        """Each stimulus's voice mixed by the vocoder from the ``files``' voices by its row of
        ``weights`` (with no files, the model's default voice, at ``f0`` Hz if a number is given).
        A vocoder that keeps no F0 keeps where to start (Griffin-Lim: the heavier file's phase);
        ``starts=False`` leaves that out (a continuum written before it, remade as it was).
        ``f0`` None means ``"interpolate"`` between several files, ``"a"`` for one file's own voice,
        and the model's default voice with no file; what it came to is recorded in the plan's
        settings for voiced vocoders. With ``f0_shift`` (an F0 edit), the plan's baseline is its
        first stimulus unshifted."""
        self.check_f0(f0)
        n, files = len(items), [Path(f) for f in files]
        own_hnr = own_hnr or not self.voiced  # a vocoder that keeps no F0 keeps no aperiodicity either
        policy = f0 if f0 is not None else "interpolate" if len(files) > 1 else "a" if files else "model default"
        if files:
            new = [f for f in files if (str(f), own_hnr) not in self._voicings]
            if len(new) > 1:  # WORLD's F0 search lets go of the GIL for much of its time; a known voice costs nothing
                with ThreadPoolExecutor(len(new)) as pool:
                    list(pool.map(self._voicing, new, [own_hnr] * len(new)))
            voicings = [self._voicing(f, own_hnr) for f in files]
            weights = np.asarray(weights, dtype=np.float64)
            voices = (self.vocoder.mix([v.voice for v in voicings], weights, policy) if starts or self.voiced
                      else self.vocoder.neutral(n))
            ceilings = [None] * n
            if all(v.formant_ceiling is not None for v in voicings):  # the vocal tracts mixed by weight
                known = np.array([v.formant_ceiling for v in voicings], dtype=np.float64)
                ceilings = [float(w @ known / w.sum()) if w.sum() > 0 else float("nan") for w in weights]
        else:
            voices, ceilings = self.vocoder.neutral(n, f0 if isinstance(f0, float) else None), [None] * n
        if detail is not None:
            voices = [self.vocoder.with_detail(v, d) for v, d in zip(voices, detail)]
        base = tuple(Voicing(v, c) for v, c in zip(voices, ceilings))
        if f0_shift is not None:
            voices = [self._shifted(v, hz, files) for v, hz in zip(voices, f0_shift)]
        state = tuple(Voicing(v, c) for v, c in zip(voices, ceilings))
        settings = {"f0": policy} if self.voiced and f0_shift is None else {}
        plan = RenderPlan(np.asarray(items), state, tuple(sources or ()), settings)
        return plan if f0_shift is None else _with_baseline(plan, base)

    def _shifted(self, voice, hz: float, files: Sequence[Path]):
        """``voice`` with its F0 moved by ``hz`` by the vocoder; a shift out of ``pitch_range`` is
        refused naming the file the voice came from (an F0 edit has one)."""
        try:
            return self.vocoder.shift(voice, hz)
        except StimgenError as exc:
            raise StimgenError(exc.problem, path=files[0] if len(files) == 1 else exc.path) from None

    def _voicing(self, path: Path, own_hnr: bool = True) -> Voicing:
        """A file's voice (its window's, by the vocoder) and, where the vocoder sets F0 apart from
        the items of speech, the formant ceiling of its vocal tract
        (:func:`~stimgen.signal.phonetics.vocal_tract_ceiling`); once per file, window and ``own_hnr``."""
        if (str(path), own_hnr) not in self._voicings:
            voice = self.vocoder.analyse(self, path) if own_hnr else self.vocoder.analyse(self, path, own_hnr=False)
            ceiling = None
            if self.voiced and self.speech:
                y, sr = load_audio(path)
                ceiling = vocal_tract_ceiling(self.excerpt(path).cut(y, sr), sr, self.vocoder.mean_f0(voice))
            self._voicings[str(path), own_hnr] = Voicing(voice, ceiling)
        return self._voicings[str(path), own_hnr]

    def detail(self, items: np.ndarray, files: Sequence[Path]) -> np.ndarray | None:
        return self.vocoder.detail(self, items, files)

    # --- items to stimuli -------------------------------------------------------------------------
    def model_audio(self, plan: RenderPlan, seed: int = 0) -> np.ndarray:
        """A plan's items as sound at the model's own rate, (N, samples), by the vocoder."""
        return self.vocoder.synthesize(self, plan.items, [s.voice for s in plan.state], seed=seed)

    def render(self, plan: RenderPlan, settings: RenderSettings, seed: int = 0) -> list[np.ndarray]:
        sources = plan.sources or [None] * len(plan)
        audio = self.model_audio(plan, seed=seed)
        out = []
        for i, src in enumerate(sources):
            if src is None:
                y = resample(audio[i], self.sample_rate, settings.sr)
            else:
                y = self.excerpt(src).cut(load_audio(src, sr=settings.sr)[0], settings.sr)
            y = fix_duration(y, settings.sr, self.duration)
            out.append(condition(y, settings, name=f"stimulus {i}" if src is None else str(src), sounding=self.song))
        return out

    def write(self, path: Path, stimulus: np.ndarray, settings: RenderSettings) -> None:
        save_wav(path, stimulus, settings.sr)

    def read_back(self, paths: Sequence[Path], plan: RenderPlan) -> list[tuple[dict[str, float], np.ndarray]]:
        out = []
        for path, state in zip(paths, plan.state):
            y, sr = load_audio(path, allow_silence=True)
            out.append((self._features(y, sr, state), self.sound_to_item(y, sr, path=path)))
        return out

    @abstractmethod
    def bin_frequencies(self) -> np.ndarray:
        """The centre frequency (Hz) of each bin along an item's axis 1 (H)."""

    def file_features(self, path: Path, state: Voicing | None = None) -> dict[str, float]:
        y, sr = load_audio(path)
        return self._features(self.excerpt(path).cut(y, sr), sr, state or Voicing(None))

    def measure(self, plan: RenderPlan, seed: int = 0, hnr: bool = True) -> list[dict[str, float]]:
        return [self._features(y, self.sample_rate, state, hnr)
                for y, state in zip(self.model_audio(plan, seed=seed), plan.state)]

    def _features(self, y: np.ndarray, sr: int, state: Voicing, hnr: bool = True) -> dict[str, float]:
        """Praat's features of a sound (:func:`~stimgen.signal.features.audio_features`; HNR NaN
        unless ``hnr``), and for birdsong the song features
        (:func:`~stimgen.signal.song_features.song_features`)."""
        song = song_features(y, sr, self.pitch_range) if self.song else {}
        return {**audio_features(y, sr, self.pitch_range, state.formant_ceiling, hnr=hnr), **song}

    # --- distances and pictures -------------------------------------------------------------------
    def neighbour_distances(self, x: np.ndarray, metric: str, seed: int = 0, plan: RenderPlan | None = None
                            ) -> np.ndarray:
        """``spectral``: the RMS over bins and frames of the difference in dB. ``formants``:
        Euclidean distance in (F1, F2) Bark, measured with Praat on the items made into sound
        as ``plan`` makes them (the voices a continuum gives its path), or with the model's
        default voice."""
        features = self.measure(plan or self.plan(x), seed=seed, hnr=False) if METRICS[metric].measured else []
        if plan is not None and not METRICS[metric].measured:  # items as their stimuli will sound: with any detail
            details = [self.vocoder.detail_on_bins(self, s.voice) for s in plan.state]
            if any(d is not None for d in details):
                x = np.stack([item if d is None else item + (d / self.db_range)[None] for item, d in zip(x, details)])
        return self.written_distances(features, x, metric)

    def written_distances(self, features: list[dict[str, float]], items: np.ndarray, metric: str) -> np.ndarray:
        return METRICS[metric].distances(self, features, items)

    def picture(self, item: np.ndarray) -> np.ndarray:
        return spectrogram_rgb(item[0])


def _with_baseline(plan: RenderPlan, base: tuple[Voicing, ...]) -> RenderPlan:
    """``plan`` (whose F0 was shifted) with its first stimulus unshifted as its baseline."""
    return replace(plan, baseline=RenderPlan(plan.items[:1], base[:1]))


#: How birdsong stimuli are levelled (manifest.json records it under ``settings.measurement``).
SOUNDING_LEVEL = (f"--level is the RMS over each sound's sounding part: its frames within {SOUNDING_DB:g} dB of its "
                  "loudest (stimgen.signal.song_features.sounding_samples), not over its whole window")
#: What the song features are (manifest.json records it beside the level).
SONG_FEATURES_RULE = (f"{', '.join(SONG_FEATURES)}: Sound Analysis Pro's features (Tchernichovski et al. 2000) over "
                      "each sound's sounding part, as stimgen.signal.song_features defines them")


def condition(y: np.ndarray, settings: RenderSettings, name: str = "stimulus", sounding: bool = False) -> np.ndarray:
    """Ramps, then the RMS level; a stimulus that would clip is refused with an error naming it.

    With ``sounding`` (birdsong), the level is the RMS over the sound's sounding part
    (:func:`~stimgen.signal.song_features.sounding_samples`, :data:`SOUNDING_LEVEL`): a syllable of
    40 ms in a 0.25 s window is as loud as it sounds, and its peak is not pushed up by the silence
    around it (levelled over the whole window, -20 dBFS puts most real syllables' peaks above -1 dBFS)."""
    y = apply_ramps(y, settings.sr, settings.ramp_ms)
    try:
        over = sounding_samples(y, settings.sr) if sounding else None
        y, _ = normalize_rms(y, settings.level_dbfs, max_peak_dbfs=settings.max_peak_dbfs, over=over)
    except StimgenError as exc:
        over = "RMS over its sounding part; " if sounding else ""
        raise StimgenError(f"{exc.problem} ({over}try --level {np.floor(settings.level_dbfs - 6):g})",
                           path=name) from None
    return y
