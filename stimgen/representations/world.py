"""A voice through the WORLD vocoder: the model sees the log spectral envelope on a mel frequency
axis; F0 and aperiodicity stay beside the item and are set by the user (see :mod:`stimgen.world`)."""

from __future__ import annotations

import hashlib
import json
import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
from tqdm import tqdm

from stimgen.audio import load_audio
from stimgen.cache import cached_array
from stimgen.data.folder import FolderDataset
from stimgen.errors import StimgenError
from stimgen.features import PITCH_RANGES
from stimgen.representations.base import RenderSettings
from stimgen.representations.sound import Sound
from stimgen.world import Voice, WorldConfig, analyse_at, analyse_file, aperiodicity_bands, synthesize

#: The voice of stimuli that come from no file (``stimgen decode``), unless the model's config
#: gives its training set's: a man's F0 and the aperiodicity of a clear vowel.
NEUTRAL_VOICE = {"f0_hz": 120.0, "coded_ap_db": -40.0}


def f0_search(units: str) -> dict:
    """WORLD's F0 search for a model's units: birds' range by DIO for ``birdsong``, Harvest over
    voices' range (WorldConfig's defaults) for ``speech``."""
    if units == "birdsong":
        floor, ceil = PITCH_RANGES["birdsong"]
        return {"f0_floor": floor, "f0_ceil": ceil, "f0_method": "dio"}
    return {}


class WorldVocoder(Sound):
    """A sound as its WORLD spectral envelope, (1, n_bins, n_frames) in [0, 1] over ``-min_db`` dB
    on a mel axis; stimuli are synthesised by WORLD with one :class:`~stimgen.world.Voice` each.

    Examples
    --------
    >>> rep = WorldVocoder(WorldConfig())
    >>> rep.item_shape, rep.voiced
    ((1, 64, 64), True)
    """

    name = "world"
    voiced = True

    def __init__(self, world: WorldConfig, source: str | None = None, voice: dict | None = None,
                 units: str | None = None) -> None:
        super().__init__(source, units)
        self.world = world
        self.sample_rate = world.sample_rate
        self.duration = world.duration
        self.db_range = -world.min_db
        self.default_voice = dict(voice or NEUTRAL_VOICE)

    @classmethod
    def from_config(cls, data: dict) -> WorldVocoder:
        return cls(WorldConfig.from_section(data, "world"), data.get("source"), checked_voice(data.get("voice")),
                   data.get("units"))

    @classmethod
    def for_dataset(cls, ds: FolderDataset, size: int | None = None) -> WorldVocoder:
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
        return {"world": self.world.to_dict(), "voice": self.default_voice}

    @property
    def item_shape(self) -> tuple[int, int, int]:
        return (1, *self.world.shape)

    def summary(self) -> str:
        w, v = self.world, self.default_voice
        return (f"representation world: WORLD spectral envelope, {w.sample_rate} Hz, {w.n_bins} mel-spaced bins x "
                f"{w.n_frames} frames, {w.fmin:g}-{w.fmax:g} Hz, "
                f"F0 by {w.f0_method} ({w.f0_floor:g}-{w.f0_ceil:g} Hz); "
                f"sound by WORLD with the user's F0 (--f0; default voice {v['f0_hz']:g} Hz)")

    def provenance(self, render: RenderSettings) -> dict:
        return {"render": {"sr": render.sr, "level_dbfs": render.level_dbfs, "ramp_ms": render.ramp_ms,
                           "max_peak_dbfs": render.max_peak_dbfs}, "world": self.world.to_dict(),
                "default_voice": self.default_voice}

    # --- files to items ---------------------------------------------------------------------------
    def sound_to_item(self, y: np.ndarray, sr: int, path: str | os.PathLike | None = None) -> np.ndarray:
        return analyse_at(y, sr, self.world, name=str(path or "sound"))[0][None]

    def load(self, path: str | os.PathLike) -> np.ndarray:
        return analyse_file(path, self.world, self.excerpt(path))[0][None]

    def dataset_items(self, ds: FolderDataset, progress: bool = False) -> np.ndarray:
        """Every file analysed by WORLD (on every core; kept in the cache folder by the data's hash).
        The training set's median F0 and aperiodicity become the voice of stimuli from no file."""
        key = hashlib.sha256(f"{ds.content_hash()}{json.dumps(self.world.to_dict())}".encode()).hexdigest()[:16]
        bands = aperiodicity_bands(self.world.sample_rate)

        def compute() -> np.ndarray:
            paths = [ds.path(i) for i in range(len(ds))]
            with ProcessPoolExecutor(max(1, min(os.cpu_count() or 1, 8))) as pool:
                results = list(tqdm(pool.map(_item_and_summary, paths, [self.world] * len(paths), chunksize=16),
                                    total=len(paths), desc="WORLD analysis", disable=not progress, unit="file"))
            return np.stack([np.concatenate([item.ravel(), summary]) for item, summary in results])

        size = int(np.prod(self.item_shape))
        table = cached_array(f"world/{key}.npy", compute, (len(ds), size + 1 + bands), np.float32)
        summary = table[:, size:]
        if np.all(np.isnan(summary[:, 0])):
            raise StimgenError("WORLD found no voiced frame in any file: the world representation needs voices",
                               path=ds.root)
        self.default_voice = {"f0_hz": round(float(np.nanmedian(summary[:, 0])), 2),
                              "coded_ap_db": [round(float(v), 2) for v in np.nanmedian(summary[:, 1:], axis=0)]}
        return table[:, :size].reshape(len(ds), *self.item_shape)

    # --- items to stimuli -------------------------------------------------------------------------
    def model_audio(self, x: np.ndarray, seed: int = 0, voices: list[Voice] | None = None) -> np.ndarray:
        voices = voices or [self.neutral_voice()] * len(x)
        return np.stack([synthesize(item[0], voice, self.world) for item, voice in zip(x, voices)])


def checked_voice(voice) -> dict | None:
    """A config.json ``voice`` section (``{"f0_hz": ..., "coded_ap_db": ...}``) checked, or None if
    there is none; a malformed one is a :class:`StimgenError`."""
    if voice is None:
        return None
    if not (isinstance(voice, dict) and isinstance(voice.get("f0_hz"), (int, float)) and voice["f0_hz"] > 0
            and isinstance(voice.get("coded_ap_db"), (int, float, list))):
        raise StimgenError("data.voice must give f0_hz (a positive number) and coded_ap_db")
    return voice


def _item_and_summary(path: Path, world: WorldConfig) -> tuple[np.ndarray, np.ndarray]:
    """A training file's item and its median voiced F0 and median aperiodicity per band (NaN for a
    file without a voiced frame)."""
    item, voice = analyse_at(*load_audio(path), world, name=str(path), require_voice=False)
    if not voice.voiced.any():
        return item, np.full(1 + voice.coded_ap.shape[1], np.nan)
    return item, np.concatenate([[np.median(voice.f0[voice.voiced])],
                                 np.median(voice.coded_ap[voice.voiced], axis=0)])

