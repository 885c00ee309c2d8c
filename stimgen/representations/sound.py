"""What every representation of sounds shares: writing WAVs at the user's rate and level, Praat's
measurements, distances in dB and Bark, spectrogram-like pictures, and voices.

A subclass says how a sound becomes an item (:meth:`Sound.sound_to_item`) and how items become
sound at the model's rate (:meth:`Sound.model_audio`). A representation that keeps a voice beside
the item (F0 and aperiodicity, ``voiced = True``: WORLD) also analyses a file's voice
(:meth:`Sound.voice`) and takes one voice per item when it makes sound; F0 is then the user's
(``--f0``), not the model's.
"""

from __future__ import annotations

import os
from abc import abstractmethod
from dataclasses import replace
from pathlib import Path
from typing import ClassVar

import numpy as np
import pandas as pd

from stimgen.audio import apply_ramps, fix_duration, load_audio, normalize_rms, resample, save_wav
from stimgen.distances import bark_distance, spectral_distance
from stimgen.errors import StimgenError
from stimgen.features import PITCH_RANGES, SPEECH_PITCH_RANGE, audio_features
from stimgen.phonetics import vocal_tract_ceiling
from stimgen.preview import spectrogram_rgb
from stimgen.representations.base import RenderSettings, Representation
from stimgen.segment import Excerpt, choose_excerpt
from stimgen.world import Voice, WorldConfig, analyse_file, aperiodicity_bands


class Sound(Representation):
    """The part of an audio representation that does not depend on its items: see the module."""

    medium = "audio"
    preload = "audio"
    extension = "wav"
    metrics = ("spectral", "formants")
    features = ("duration_s", "rms_dbfs", "peak_dbfs", "f0_hz", "hnr_db", "f1_hz", "f2_hz", "f1_bark", "f2_bark",
                "formant_ceiling_hz")
    sheet_style = "spectrogram"
    sheet_scale = 2
    pictures_beside = True
    #: Whether each stimulus has a voice (F0, aperiodicity) beside its item, set by ``--f0``.
    voiced: ClassVar[bool] = False

    #: The model's sample rate, the duration of an item (s) and the dB range of its values.
    sample_rate: int
    duration: float
    db_range: float
    #: Voiced representations: WORLD's settings, and the voice of stimuli that come from no file
    #: (``{"f0_hz": ..., "coded_ap_db": ...}``, the training set's median F0 and aperiodicity).
    world: WorldConfig
    default_voice: dict

    def __init__(self, source: str | None = None, units: str | None = None) -> None:
        self.source = source
        #: What the model's items are (``birdsong`` syllables or ``speech``): how the window of a long
        #: file is chosen, and Praat's pitch search range (birds' or voices').
        self.units = units or ("birdsong" if source == "birdsong" else "speech")
        self.pitch_range = PITCH_RANGES["birdsong"] if self.units == "birdsong" else SPEECH_PITCH_RANGE
        #: The window of each file loaded so far, by path (:meth:`excerpt`).
        self.excerpts: dict[str, Excerpt] = {}

    # --- files to items ---------------------------------------------------------------------------
    @abstractmethod
    def sound_to_item(self, y: np.ndarray, sr: int, path: str | os.PathLike | None = None) -> np.ndarray:
        """A sound at rate ``sr`` as the model's item (C, H, W); ``path`` names it in errors."""

    def excerpt(self, path: str | os.PathLike, onset: float | None = None) -> Excerpt:
        """The window of file ``path`` that the model takes (:func:`stimgen.segment.choose_excerpt`),
        chosen on the first call (or whenever ``onset`` is given) and the same for every later use of
        the file: its item, its voice, and the file itself as a step (``--endpoints original``)."""
        if str(path) not in self.excerpts or onset is not None:
            y, sr = load_audio(path)
            self.excerpts[str(path)] = choose_excerpt(y, sr, self.duration, self.units, onset, path)
        return self.excerpts[str(path)]

    def excerpt_record(self, path: Path) -> dict:
        return self.excerpts[str(path)].to_dict() if str(path) in self.excerpts else {}

    def load(self, path: str | os.PathLike) -> np.ndarray:
        y, sr = load_audio(path)
        return self.sound_to_item(self.excerpt(path).cut(y, sr), sr, path=path)

    def voice(self, path: str | os.PathLike) -> Voice:
        """The voice (F0 contour, aperiodicity) of a sound file's window, frame by frame as the
        items', and for speech the formant ceiling that fits its vocal tract
        (:func:`~stimgen.phonetics.vocal_tract_ceiling`)."""
        if not self.voiced:
            raise StimgenError(f"the {self.name} representation keeps no voice beside its items")
        excerpt = self.excerpt(path)
        voice = analyse_file(path, self.world, excerpt)[1]
        if self.units != "speech":
            return voice
        y, sr = load_audio(path)
        mean_f0 = float(np.exp(np.log(voice.f0[voice.voiced]).mean()))  # analyse_file refuses a file with no voice
        return replace(voice, formant_ceiling=vocal_tract_ceiling(excerpt.cut(y, sr), sr, mean_f0))

    def voices(self, files: list[Path], weights: np.ndarray, f0: str | float | None) -> list[Voice] | None:
        """``f0``: None or ``"interpolate"`` moves F0 log-linearly between the files' contours by the
        weights; a letter (``"a"``, ``"b"``, ...) gives every stimulus that file's contour; a number
        holds every stimulus at that many Hz. With no files, every stimulus has the model's default
        voice (at ``f0`` Hz if a number is given)."""
        if not self.voiced:
            return super().voices(files, weights, f0)
        if not files:
            neutral = self.neutral_voice(f0 if isinstance(f0, float) else None)
            return [neutral] * len(weights)
        from concurrent.futures import ThreadPoolExecutor

        from stimgen.world import mix_voices

        with ThreadPoolExecutor(len(files)) as pool:  # WORLD's F0 search lets go of the GIL for much of its time
            voices = list(pool.map(self.voice, files))
        return mix_voices(voices, weights, "interpolate" if f0 is None else f0)

    def neutral_voice(self, f0: float | None = None) -> Voice:
        """The model's default voice (its training set's median F0 and aperiodicity), every frame
        voiced, at ``f0`` Hz if given."""
        frames, bands = self.world.n_frames, aperiodicity_bands(self.world.sample_rate)
        ap = np.broadcast_to(np.asarray(self.default_voice["coded_ap_db"], dtype=np.float64), (bands,))
        return Voice(np.full(frames, float(f0 or self.default_voice["f0_hz"])), np.tile(ap, (frames, 1)))

    # --- items to stimuli -------------------------------------------------------------------------
    @abstractmethod
    def model_audio(self, x: np.ndarray, seed: int = 0, voices: list[Voice] | None = None) -> np.ndarray:
        """Items (N, C, H, W) as sound at the model's own rate, (N, samples); ``voices`` for voiced
        representations (None: the model's default voice)."""

    def render(self, x: np.ndarray, settings: RenderSettings, seed: int = 0,
               sources: list[Path | None] | None = None, voices: list[Voice] | None = None) -> list[np.ndarray]:
        sources = sources or [None] * len(x)
        audio = self.model_audio(x, seed=seed, voices=voices)
        out = []
        for i, src in enumerate(sources):
            if src is None:
                y = resample(audio[i], self.sample_rate, settings.sr)
            else:
                y = self.excerpt(src).cut(load_audio(src, sr=settings.sr)[0], settings.sr)
            y = fix_duration(y, settings.sr, self.duration)
            out.append(condition(y, settings, name=f"stimulus {i}" if src is None else str(src)))
        return out

    def write(self, path: Path, stimulus: np.ndarray, settings: RenderSettings) -> None:
        save_wav(path, stimulus, settings.sr)

    def read_back(self, path: Path, voice: Voice | None = None) -> tuple[dict[str, float], np.ndarray]:
        y, sr = load_audio(path, allow_silence=True)
        features = audio_features(y, sr, self.pitch_range, getattr(voice, "formant_ceiling", None))
        return features, self.sound_to_item(y, sr, path=path)

    def measure(self, x: np.ndarray, seed: int = 0, voices: list[Voice] | None = None) -> list[dict[str, float]]:
        return [audio_features(y, self.sample_rate, self.pitch_range, getattr(voice, "formant_ceiling", None))
                for y, voice in zip(self.model_audio(x, seed=seed, voices=voices), voices or [None] * len(x))]

    # --- distances and pictures -------------------------------------------------------------------
    def neighbour_distances(self, x: np.ndarray, metric: str, seed: int = 0) -> np.ndarray:
        """``spectral``: the RMS over bins and frames of the difference in dB. ``formants``:
        Euclidean distance in (F1, F2) Bark, measured with Praat on the items made into sound."""
        return self.written_distances(self.measure(x, seed=seed) if metric == "formants" else [], x, metric)

    def written_distances(self, features: list[dict[str, float]], items: np.ndarray, metric: str) -> np.ndarray:
        if metric == "spectral":
            return spectral_distance(items[1:], items[:-1], -self.db_range)
        barks = pd.DataFrame(features)[["f1_bark", "f2_bark"]].to_numpy()
        return bark_distance(barks[1:], barks[:-1])

    def picture(self, item: np.ndarray) -> np.ndarray:
        return spectrogram_rgb(item[0])


def condition(y: np.ndarray, settings: RenderSettings, name: str = "stimulus") -> np.ndarray:
    """Ramps, then the RMS level; a stimulus that would clip is refused with an error naming it."""
    y = apply_ramps(y, settings.sr, settings.ramp_ms)
    try:
        y, _ = normalize_rms(y, settings.level_dbfs, max_peak_dbfs=settings.max_peak_dbfs)
    except StimgenError as exc:
        raise StimgenError(f"{exc.problem} (try --level {np.floor(settings.level_dbfs - 6):g})", path=name) from None
    return y
