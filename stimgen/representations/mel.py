"""The log-mel spectrogram of a sound, inverted by Griffin-Lim: the representation of the first
audio models (see docs/spectrogram.md)."""

from __future__ import annotations

import dataclasses
import os

import numpy as np

from stimgen.data.folder import FolderDataset
from stimgen.representations.base import RenderSettings
from stimgen.representations.sound import Sound
from stimgen.spectrogram import SpectrogramConfig, sound_to_spectrogram, spectrogram_to_audio
from stimgen.world import Voice


class MelSpectrogram(Sound):
    """A sound as a (1, n_mels, n_frames) log-mel image; items back to sound by batched Griffin-Lim.

    Examples
    --------
    >>> rep = MelSpectrogram(SpectrogramConfig.preset("vowels"))
    >>> rep.item_shape, rep.metrics
    ((1, 64, 64), ('spectral', 'formants'))
    """

    name = "mel"

    def __init__(self, spectrogram: SpectrogramConfig, source: str | None = None, units: str | None = None) -> None:
        super().__init__(source, units)
        self.spectrogram = spectrogram
        self.sample_rate = spectrogram.sample_rate
        self.duration = spectrogram.duration
        self.db_range = -spectrogram.min_db

    @classmethod
    def from_config(cls, data: dict) -> MelSpectrogram:
        return cls(SpectrogramConfig.from_section(data, "spectrogram"), data.get("source"), data.get("units"))

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
        return cls(config, units=ds.meta.get("units"))

    def to_config(self) -> dict:
        return {"spectrogram": self.spectrogram.to_dict()}

    @property
    def item_shape(self) -> tuple[int, int, int]:
        return (1, *self.spectrogram.shape)

    def summary(self) -> str:
        s = self.spectrogram
        return (f"representation {self.name}: log-mel spectrogram, {s.sample_rate} Hz, {s.n_mels} mels x {s.n_frames} "
                f"frames, {s.fmin:g}-{s.fmax:g} Hz; {self.vocoder}")

    #: How items become sound (for :meth:`summary`).
    vocoder = "sound by Griffin-Lim"

    def provenance(self, render: RenderSettings) -> dict:
        return {"render": {"sr": render.sr, "level_dbfs": render.level_dbfs, "ramp_ms": render.ramp_ms,
                           "max_peak_dbfs": render.max_peak_dbfs}, "spectrogram": self.spectrogram.to_dict()}

    # --- files to items ---------------------------------------------------------------------------
    def sound_to_item(self, y: np.ndarray, sr: int, path: str | os.PathLike | None = None) -> np.ndarray:
        return sound_to_spectrogram(y, sr, self.spectrogram, path=path)[None]

    def dataset_items(self, ds: FolderDataset, progress: bool = False) -> np.ndarray:
        return ds.spectrograms(self.spectrogram, progress=progress)[:, None]

    # --- items to stimuli -------------------------------------------------------------------------
    def model_audio(self, x: np.ndarray, seed: int = 0, voices: list[Voice] | None = None) -> np.ndarray:
        return spectrogram_to_audio(x[:, 0], self.spectrogram, seed=seed).reshape(len(x), -1)
