"""The log-mel spectrogram of a sound, inverted by Griffin-Lim: the representation of the first
audio models (see docs/spectrogram.md)."""

from __future__ import annotations

import dataclasses
import functools
import os
from pathlib import Path

import numpy as np
import pandas as pd

from stimgen.audio import apply_ramps, fix_duration, load_audio, normalize_rms, resample, save_wav
from stimgen.cache import cached_array
from stimgen.data.folder import FolderDataset
from stimgen.distances import bark_distance, spectral_distance
from stimgen.errors import StimgenError
from stimgen.features import PITCH_RANGES, SPEECH_PITCH_RANGE, audio_features
from stimgen.representations.base import Representation, RenderSettings
from stimgen.spectrogram import SpectrogramConfig, load_spectrogram, sound_to_spectrogram, spectrogram_to_audio


class MelSpectrogram(Representation):
    """A sound as a (1, n_mels, n_frames) log-mel image; items back to sound by batched Griffin-Lim.

    Examples
    --------
    >>> rep = MelSpectrogram(SpectrogramConfig.preset("vowels"))
    >>> rep.item_shape, rep.metrics
    ((1, 64, 64), ('spectral', 'formants'))
    """

    name = "mel"
    medium = "audio"
    preload = "audio"
    extension = "wav"
    metrics = ("spectral", "formants")
    features = ("duration_s", "rms_dbfs", "peak_dbfs", "f0_hz", "f1_hz", "f2_hz", "f1_bark", "f2_bark")
    preview_kind = "spectrogram"
    sheet_scale = 2
    pictures_beside = True

    def __init__(self, spectrogram: SpectrogramConfig, source: str | None = None) -> None:
        self.spectrogram = spectrogram
        self.source = source
        #: Praat's pitch search range: birds' for the birdsong set, voices' for everything else.
        self.pitch_range = PITCH_RANGES.get(str(source), SPEECH_PITCH_RANGE)

    @classmethod
    def from_config(cls, data: dict) -> MelSpectrogram:
        try:
            spectrogram = SpectrogramConfig.from_dict(data["spectrogram"])
        except (KeyError, TypeError, AttributeError) as exc:
            raise StimgenError(f"data.spectrogram is missing or malformed ({exc.__class__.__name__}: {exc})") from None
        except StimgenError as exc:
            raise StimgenError(f"data.spectrogram: {exc.problem}") from None
        return cls(spectrogram, data.get("source"))

    @classmethod
    def for_dataset(cls, ds: FolderDataset, size: int | None = None) -> MelSpectrogram:
        """The data set's spectrogram settings (or the vowel preset), resized to ``size`` x ``size``
        pixels over the same duration."""
        meta = ds.meta.get("spectrogram")
        config = SpectrogramConfig() if meta is None else SpectrogramConfig.from_dict(meta)
        if size is not None and not size == config.n_frames == config.n_mels:
            hop = max(1, round(config.n_samples / (size - 1)))
            config = dataclasses.replace(config, n_mels=size, n_frames=size, hop_length=hop,
                                         win_length=max(config.win_length, hop))
        return cls(config)

    def to_config(self) -> dict:
        return {"spectrogram": self.spectrogram.to_dict()}

    @property
    def item_shape(self) -> tuple[int, int, int]:
        return (1, *self.spectrogram.shape)

    def provenance(self, render: RenderSettings) -> dict:
        return {"render": {"sr": render.sr, "level_dbfs": render.level_dbfs, "ramp_ms": render.ramp_ms,
                           "max_peak_dbfs": render.max_peak_dbfs}, "spectrogram": self.spectrogram.to_dict()}

    # --- files to items ---------------------------------------------------------------------------
    def load(self, path: str | os.PathLike) -> np.ndarray:
        return load_spectrogram(path, self.spectrogram)[None]

    def dataset_items(self, ds: FolderDataset, progress: bool = False) -> np.ndarray:
        return ds.spectrograms(self.spectrogram, progress=progress)[:, None]

    # --- items to stimuli -------------------------------------------------------------------------
    def model_audio(self, x: np.ndarray, seed: int = 0) -> np.ndarray:
        """Items (N, 1, H, W) as sound at the model's own rate, (N, samples)."""
        return spectrogram_to_audio(x[:, 0], self.spectrogram, seed=seed).reshape(len(x), -1)

    def render(self, x: np.ndarray, settings: RenderSettings, seed: int = 0,
               sources: list[Path | None] | None = None) -> list[np.ndarray]:
        sources = sources or [None] * len(x)
        audio = self.model_audio(x, seed=seed)
        out = []
        for i, src in enumerate(sources):
            if src is None:
                y = resample(audio[i], self.spectrogram.sample_rate, settings.sr)
            else:
                y, _ = load_audio(src, sr=settings.sr)
            y = fix_duration(y, settings.sr, self.spectrogram.duration)
            out.append(self.condition(y, settings, name=f"stimulus {i}" if src is None else str(src)))
        return out

    @staticmethod
    def condition(y: np.ndarray, settings: RenderSettings, name: str = "stimulus") -> np.ndarray:
        """Ramps, then the RMS level; a stimulus that would clip is refused with an error naming it."""
        y = apply_ramps(y, settings.sr, settings.ramp_ms)
        try:
            y, _ = normalize_rms(y, settings.level_dbfs, max_peak_dbfs=settings.max_peak_dbfs)
        except StimgenError as exc:
            raise StimgenError(f"{exc.problem} (try --level {np.floor(settings.level_dbfs - 6):g})",
                               path=name) from None
        return y

    def write(self, path: Path, stimulus: np.ndarray, settings: RenderSettings) -> None:
        save_wav(path, stimulus, settings.sr)

    def read_back(self, path: Path) -> tuple[dict[str, float], np.ndarray]:
        y, sr = load_audio(path, allow_silence=True)
        return audio_features(y, sr, self.pitch_range), sound_to_spectrogram(y, sr, self.spectrogram, path=path)[None]

    def measure(self, x: np.ndarray, seed: int = 0) -> list[dict[str, float]]:
        sr = self.spectrogram.sample_rate
        return [audio_features(y, sr, self.pitch_range) for y in self.model_audio(x, seed=seed)]

    # --- distances and pictures -------------------------------------------------------------------
    def neighbour_distances(self, x: np.ndarray, metric: str, seed: int = 0) -> np.ndarray:
        """``spectral``: the RMS over mel bins and frames of the difference in dB. ``formants``:
        Euclidean distance in (F1, F2) Bark, measured with Praat on the items inverted to sound."""
        return self.written_distances(self.measure(x, seed=seed) if metric == "formants" else [], x, metric)

    def written_distances(self, features: list[dict[str, float]], items: np.ndarray, metric: str) -> np.ndarray:
        if metric == "spectral":
            return spectral_distance(items[1:], items[:-1], self.spectrogram.min_db)
        barks = pd.DataFrame(features)[["f1_bark", "f2_bark"]].to_numpy()
        return bark_distance(barks[1:], barks[:-1])

    def picture(self, item: np.ndarray) -> np.ndarray:
        return spectrogram_rgb(item[0])


@functools.lru_cache(maxsize=1)
def _magma() -> np.ndarray:
    """matplotlib's magma colour map as a 256 x 3 table, kept in the cache folder after its first use:
    importing matplotlib takes longer than drawing every spectrogram of a continuum."""

    def compute() -> np.ndarray:
        import matplotlib

        return matplotlib.colormaps["magma"](np.arange(256))[:, :3]

    return cached_array("colormaps/magma-256.npy", compute, (256, 3), np.float64)


def spectrogram_rgb(spec: np.ndarray) -> np.ndarray:
    """A spectrogram (n_mels, n_frames) in [0, 1] as magma-coloured RGB (n_mels, n_frames, 3), low
    frequencies at the bottom (the colours of matplotlib's ``magma(spec)``)."""
    index = np.clip((np.asarray(spec[::-1], dtype=np.float64) * 256).astype(int), 0, 255)
    return _magma()[index]
