"""A voice's WORLD spectral envelope on a mel frequency axis: the items of ``world`` models, voiced
by WORLD with F0 and aperiodicity kept beside them and set by the user (see :mod:`stimgen.signal.world`)."""

from __future__ import annotations

import os

import numpy as np

from stimgen.data.folder import FolderDataset
from stimgen.representations.sound import Sound
from stimgen.representations.vocoder import Vocoder
from stimgen.representations.world_vocoder import analyse_dataset, f0_search
from stimgen.signal.world import WorldConfig, analyse_at, analyse_file, item_to_envelope, mel_frequencies


class WorldEnvelope(Sound):
    """A sound as its WORLD spectral envelope, (1, n_bins, n_frames) in [0, 1] over ``-min_db`` dB
    on a mel axis; the WORLD vocoder voices it with the same settings.

    Examples
    --------
    >>> rep = WorldEnvelope(WorldConfig())
    >>> rep.item_shape, rep.voiced, rep.vocoder.name
    ((1, 64, 64), True, 'world')
    """

    name = "world"
    default_vocoder = "world"

    def __init__(self, world: WorldConfig, source: str | None = None, units: str | None = None,
                 vocoder: str | Vocoder | None = None, data: dict | None = None) -> None:
        self.world = world
        self.sample_rate = world.sample_rate
        self.duration = world.duration
        self.db_range = -world.min_db
        super().__init__(source, units, vocoder, data)

    @classmethod
    def from_config(cls, data: dict) -> WorldEnvelope:
        return cls(WorldConfig.from_section(data, "world"), data.get("source"), data.get("units"), data.get("vocoder"),
                   data)

    @classmethod
    def for_dataset(cls, ds: FolderDataset, size: int | None = None) -> WorldEnvelope:
        """WORLD settings for the data set: its sample rate and duration from its spectrogram
        settings where it has them (else 16 kHz, 0.5 s), ``size`` bins and frames (default 64); the
        F0 search of its units (a folder from ``stimgen data segment --kind birdsong``: birds')."""
        meta = ds.meta.get("spectrogram") or {}
        sr = int(meta.get("sample_rate", WorldConfig.sample_rate))
        frames = size or int(meta.get("n_frames", WorldConfig.n_frames))
        n_samples = (int(meta.get("n_frames", 64)) - 1) * int(meta.get("hop_length", WorldConfig.hop_length))
        units = ds.meta.get("units")
        return cls(WorldConfig(sample_rate=sr, hop_length=max(1, round(n_samples / (frames - 1))), n_frames=frames,
                               n_bins=frames, fmin=float(meta.get("fmin", 50.0)), fmax=float(meta.get("fmax", sr / 2)),
                               **f0_search(units or "speech")), units=units)

    def to_config(self) -> dict:
        return {"world": self.world.to_dict(), **self.vocoder_config()}

    @property
    def item_shape(self) -> tuple[int, int, int]:
        return (1, *self.world.shape)

    def summary(self) -> str:
        w = self.world
        return (f"representation world: WORLD spectral envelope, {w.sample_rate} Hz, {w.n_bins} mel-spaced bins x "
                f"{w.n_frames} frames, {w.fmin:g}-{w.fmax:g} Hz; {self.vocoder.summary()}")

    def analysis_provenance(self) -> dict:
        return {"world": self.world.to_dict()}

    def bin_frequencies(self) -> np.ndarray:
        return mel_frequencies(self.world.n_bins, self.world.fmin, self.world.fmax)

    # --- files to items ---------------------------------------------------------------------------
    def sound_to_item(self, y: np.ndarray, sr: int, path: str | os.PathLike | None = None) -> np.ndarray:
        return analyse_at(y, sr, self.world, name=str(path or "sound"))[0][None]

    def load(self, path: str | os.PathLike) -> np.ndarray:
        return analyse_file(path, self.world, self.excerpt(path))[0][None]

    def dataset_items(self, ds: FolderDataset, progress: bool = False) -> np.ndarray:
        """Every file analysed by WORLD (on every core; kept in the cache folder by the data's hash)."""
        return analyse_dataset(ds, self.world, progress)[0][:, None]

    def envelope(self, item: np.ndarray, n_fft: int) -> np.ndarray:
        return item_to_envelope(item[0], self.world, n_fft)
