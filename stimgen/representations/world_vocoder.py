"""WORLD: items voiced with an F0 contour and aperiodicity kept beside them (a
:class:`~stimgen.signal.world.Voice` per stimulus), so that F0 is the user's (``--f0``), not the model's.

Each input file's voice is analysed by WORLD (:func:`stimgen.signal.world.analyse_file`, on the window the
model takes), mixed by a stimulus's weights under the F0 policy (:func:`stimgen.signal.world.mix_voices`)
and handed to WORLD's synthesis with the item's envelope. What a training set teaches it is its
median voice (F0 and aperiodicity), the voice of stimuli that come from no file.
"""

from __future__ import annotations

import hashlib
import json
import os
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import numpy as np
from tqdm import tqdm

from stimgen.cache import cached_array
from stimgen.errors import StimgenError
from stimgen.representations.vocoder import Vocoder
from stimgen.signal.audio import load_audio
from stimgen.signal.features import PITCH_RANGES, SPEECH_PITCH_RANGE
from stimgen.signal.world import (
    Voice,
    WorldConfig,
    analyse_at,
    analyse_file,
    aperiodicity_bands,
    item_to_envelope,
    mix_voices,
    shifted,
    synthesize_envelope,
)

#: The voice of stimuli that come from no file (``stimgen decode``) where the model has none
#: fitted: a man's F0 and the aperiodicity of a clear vowel.
NEUTRAL_VOICE = {"f0_hz": 120.0, "coded_ap_db": -40.0}


def f0_search(units: str) -> dict:
    """WORLD's F0 search for a model's units: birds' range by DIO for ``birdsong``, Harvest over
    voices' range (WorldConfig's defaults) for ``speech``."""
    if units == "birdsong":
        floor, ceil = PITCH_RANGES["birdsong"]
        return {"f0_floor": floor, "f0_ceil": ceil, "f0_method": "dio"}
    return {}


class World(Vocoder):
    """WORLD's synthesis of a representation's envelopes (``rep.envelope``) with one voice each.

    ``voice`` is the fitted state, ``{"f0_hz": ..., "coded_ap_db": ...}`` (the training set's
    median F0 and aperiodicity), or None before :meth:`fit` (stimuli from no file then take
    :data:`NEUTRAL_VOICE`). ``pitch_range`` (Hz) bounds the F0 of a shifted voice: the
    representation's, the range in which the manifest measures F0.

    Examples
    --------
    >>> w = World(WorldConfig(), {"f0_hz": 200.0, "coded_ap_db": -9.0})
    >>> w.voiced, float(w.neutral(1, 150.0)[0].f0[0])
    (True, 150.0)
    """

    name = "world"
    voiced = True

    def __init__(self, config: WorldConfig, voice: dict | None = None,
                 pitch_range: tuple[float, float] = SPEECH_PITCH_RANGE) -> None:
        self.config = config
        self.voice = voice
        self.pitch_range = tuple(pitch_range)

    @classmethod
    def for_sound(cls, rep, data: dict) -> World:
        """WORLD's own envelope items (``rep.world``) are analysed and voiced with the same settings;
        log-mel items on the spectrogram's frames and band, with the F0 search of the model's units."""
        config = getattr(rep, "world", None)
        if config is None:
            s = rep.spectrogram
            config = WorldConfig(sample_rate=s.sample_rate, hop_length=s.hop_length, n_frames=s.n_frames,
                                 n_bins=s.n_mels, fmin=s.fmin, fmax=s.fmax, **f0_search(rep.units))
        return cls(config, checked_voice(data.get("voice")), rep.pitch_range)

    @property
    def default_voice(self) -> dict:
        """The voice of stimuli from no file: the fitted one, else :data:`NEUTRAL_VOICE`."""
        return dict(self.voice or NEUTRAL_VOICE)

    def to_config(self) -> dict:
        return {"voice": self.default_voice}

    def fit(self, rep, ds, progress: bool = False) -> World:
        """A copy whose voice is the training set's median F0 and aperiodicity (WORLD's analysis of
        every file, kept in the cache folder)."""
        summary = analyse_dataset(ds, self.config, progress)[1]
        if np.all(np.isnan(summary[:, 0])):
            raise StimgenError("WORLD found no voiced frame in any file: a WORLD model needs voices", path=ds.root)
        return World(self.config, {"f0_hz": round(float(np.nanmedian(summary[:, 0])), 2),
                                   "coded_ap_db": [round(float(v), 2) for v in np.nanmedian(summary[:, 1:], axis=0)]},
                     self.pitch_range)

    def provenance(self) -> dict:
        return {"world": self.config.to_dict(), "default_voice": self.default_voice}

    def summary(self) -> str:
        c = self.config
        return (f"sound by WORLD with the user's F0 (--f0; default voice {self.default_voice['f0_hz']:g} Hz; "
                f"F0 of files by {c.f0_method}, {c.f0_floor:g}-{c.f0_ceil:g} Hz)")

    # --- voices -----------------------------------------------------------------------------------
    def analyse(self, rep, path: Path, own_hnr: bool = True) -> Voice:
        return analyse_file(path, self.config, rep.excerpt(path), own_hnr)[1]

    def mix(self, voices: list[Voice], weights: np.ndarray, f0: str | float) -> list[Voice]:
        return mix_voices(voices, weights, f0)

    def neutral(self, n: int, f0: float | None = None) -> list[Voice]:
        frames, bands = self.config.n_frames, aperiodicity_bands(self.config.sample_rate)
        voice = self.default_voice
        ap = np.broadcast_to(np.asarray(voice["coded_ap_db"], dtype=np.float64), (bands,))
        return [Voice(np.full(frames, float(f0 or voice["f0_hz"])), np.tile(ap, (frames, 1)))] * n

    def shift(self, voice: Voice, hz: float) -> Voice:
        return shifted(voice, hz, self.pitch_range)

    def mean_f0(self, voice: Voice) -> float:
        return float(np.exp(np.log(voice.f0[voice.voiced]).mean()))  # analyse_file refuses a file with no voice

    def detail(self, rep, items: np.ndarray, files) -> np.ndarray:
        """Each file's own WORLD envelope (its window's, as analysed for its voice) less the
        envelope made of the item beside it: dB, (N, n_frames, fft_size // 2 + 1)."""
        out = []
        for item, path in zip(items, files):
            own = item_to_envelope(analyse_file(path, self.config, rep.excerpt(Path(path)))[0], self.config)
            made = rep.envelope(item, self.config.fft_size)
            out.append(10.0 * np.log10(np.maximum(own, 1e-30)) - 10.0 * np.log10(np.maximum(made, 1e-30)))
        return np.stack(out)

    def with_detail(self, voice: Voice, detail: np.ndarray) -> Voice:
        return replace(voice, detail_db=np.asarray(detail, dtype=np.float64))

    def detail_on_bins(self, rep, voice) -> np.ndarray | None:
        if voice is None or voice.detail_db is None:
            return None
        linear = np.linspace(0.0, self.config.sample_rate / 2.0, voice.detail_db.shape[1])
        return np.stack([np.interp(rep.bin_frequencies(), linear, frame) for frame in voice.detail_db], axis=1)

    # --- sound ------------------------------------------------------------------------------------
    def synthesize(self, rep, items: np.ndarray, voices: list[Voice], seed: int = 0) -> np.ndarray:
        """Each item voiced; WORLD's synthesis on as many threads as torch may use (the one thread
        setting stimgen keeps: ``OMP_NUM_THREADS=1`` beside a training run keeps this to one too).
        WORLD lets go of Python's lock, and each sound is the one made alone: its noise is seeded
        per call."""
        import torch  # loaded already by any model that makes items

        envelopes = [rep.envelope(item, self.config.fft_size) for item in items]  # NumPy's own threads: one at a time
        threads = min(torch.get_num_threads(), len(envelopes))
        if threads < 2:
            return np.stack([synthesize_envelope(sp, voice, self.config) for sp, voice in zip(envelopes, voices)])
        with ThreadPoolExecutor(threads) as pool:
            return np.stack(list(pool.map(synthesize_envelope, envelopes, voices, [self.config] * len(envelopes))))


def checked_voice(voice) -> dict | None:
    """A config.json ``voice`` section (``{"f0_hz": ..., "coded_ap_db": ...}``) checked, or None if
    there is none; a malformed one is a :class:`StimgenError`."""
    if voice is None:
        return None
    if not (isinstance(voice, dict) and isinstance(voice.get("f0_hz"), (int, float)) and voice["f0_hz"] > 0
            and isinstance(voice.get("coded_ap_db"), (int, float, list))):
        raise StimgenError("data.voice must give f0_hz (a positive number) and coded_ap_db")
    return voice


def analyse_dataset(ds, config: WorldConfig, progress: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Every file of data set ``ds`` analysed by WORLD (on every core; kept in the cache folder by
    the data's hash): the envelope items (N, n_bins, n_frames) and, per file, its median voiced F0
    and median aperiodicity per band (NaN for a file without a voiced frame), (N, 1 + bands)."""
    key = hashlib.sha256(f"{ds.content_hash()}{json.dumps(config.to_dict())}".encode()).hexdigest()[:16]
    bands = aperiodicity_bands(config.sample_rate)

    def compute() -> np.ndarray:
        paths = [ds.path(i) for i in range(len(ds))]
        with ProcessPoolExecutor(max(1, min(os.cpu_count() or 1, 8))) as pool:
            results = list(tqdm(pool.map(_item_and_summary, paths, [config] * len(paths), chunksize=16),
                                total=len(paths), desc="WORLD analysis", disable=not progress, unit="file"))
        return np.stack([np.concatenate([item.ravel(), summary]) for item, summary in results])

    size = config.n_bins * config.n_frames
    table = cached_array(f"world/{key}.npy", compute, (len(ds), size + 1 + bands), np.float32)
    return table[:, :size].reshape(len(ds), *config.shape), table[:, size:]


def _item_and_summary(path: Path, world: WorldConfig) -> tuple[np.ndarray, np.ndarray]:
    """A training file's item and its median voiced F0 and median aperiodicity per band (NaN for a
    file without a voiced frame)."""
    item, voice = analyse_at(*load_audio(path), world, name=str(path), require_voice=False)
    if not voice.voiced.any():
        return item, np.full(1 + voice.coded_ap.shape[1], np.nan)
    return item, np.concatenate([[np.median(voice.f0[voice.voiced])],
                                 np.median(voice.coded_ap[voice.voiced], axis=0)])
