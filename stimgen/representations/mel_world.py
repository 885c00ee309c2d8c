"""A log-mel spectrogram model voiced by WORLD: the model's items are those of ``mel``; each decoded
frame becomes a smooth spectral envelope that WORLD voices with the user's F0 and the endpoints'
aperiodicity, instead of Griffin-Lim inventing the harmonics (see docs/spectrogram.md)."""

from __future__ import annotations

import functools

import numpy as np

from stimgen.data.folder import FolderDataset
from stimgen.representations.mel import MelSpectrogram
from stimgen.representations.world import NEUTRAL_VOICE, WorldVocoder, checked_voice, f0_search
from stimgen.spectrogram import SpectrogramConfig
from stimgen.world import Voice, WorldConfig, mel_frequencies, synthesize_envelope

#: Mel-cepstral coefficients kept when a mel frame is smoothed into an envelope: enough for the
#: formants, too few for the harmonics of voices above ~80 Hz that low mel bands resolve.
LIFTER = 20


class MelWorld(MelSpectrogram):
    """Mel spectrogram items (as :class:`MelSpectrogram`) made into sound by WORLD with a
    :class:`~stimgen.world.Voice` per stimulus.

    Examples
    --------
    >>> rep = MelWorld(SpectrogramConfig.preset("vowels"))
    >>> rep.item_shape, rep.voiced, rep.world.frame_period_ms
    ((1, 64, 64), True, 8.0)
    """

    name = "mel-world"
    voiced = True
    vocoder = "sound by WORLD with the user's F0 (--f0)"

    def __init__(self, spectrogram: SpectrogramConfig, source: str | None = None, voice: dict | None = None,
                 units: str | None = None) -> None:
        super().__init__(spectrogram, source, units)
        self.world = WorldConfig(sample_rate=spectrogram.sample_rate, hop_length=spectrogram.hop_length,
                                 n_frames=spectrogram.n_frames, n_bins=spectrogram.n_mels, fmin=spectrogram.fmin,
                                 fmax=spectrogram.fmax, **f0_search(self.units))
        self.default_voice = dict(voice or NEUTRAL_VOICE)

    @classmethod
    def from_config(cls, data: dict) -> MelWorld:
        mel = MelSpectrogram.from_config(data)
        return cls(mel.spectrogram, mel.source, checked_voice(data.get("voice")), mel.units)

    def to_config(self) -> dict:
        return {**super().to_config(), "voice": self.default_voice}

    def provenance(self, render) -> dict:
        return {**super().provenance(render), "world": self.world.to_dict(), "default_voice": self.default_voice}

    def dataset_items(self, ds: FolderDataset, progress: bool = False) -> np.ndarray:
        """The mel items; the training set's median voice (from WORLD's analysis) becomes the
        voice of stimuli from no file."""
        world = WorldVocoder(self.world)
        world.dataset_items(ds, progress=progress)
        self.default_voice = world.default_voice
        return super().dataset_items(ds, progress=progress)

    def model_audio(self, x: np.ndarray, seed: int = 0, voices: list[Voice] | None = None) -> np.ndarray:
        voices = voices or [self.neutral_voice()] * len(x)
        return np.stack([synthesize_envelope(mel_to_envelope(item[0], self.spectrogram, self.world), voice, self.world)
                         for item, voice in zip(x, voices)])


def mel_to_envelope(item: np.ndarray, spectrogram: SpectrogramConfig, world: WorldConfig,
                    lifter: int = LIFTER) -> np.ndarray:
    """A mel item (n_mels, n_frames) in [0, 1] as a WORLD power envelope (n_frames, fft_size // 2 + 1).

    Each frame's dB values, less the pre-emphasis the spectrogram applied, are smoothed across the
    mel bands by keeping the first ``lifter`` coefficients of their DCT (a mel cepstrum), then
    interpolated to WORLD's linear frequency axis. The envelope's overall level is arbitrary: the
    stimulus is brought to its RMS level afterwards.
    """
    centres, linear = _centres(spectrogram, world.fft_size)
    db = np.asarray(item, dtype=np.float64).T * -spectrogram.min_db + spectrogram.min_db
    if spectrogram.preemphasis:
        db -= 20.0 * np.log10(np.abs(1.0 - spectrogram.preemphasis
                                     * np.exp(-2j * np.pi * centres / spectrogram.sample_rate)))
    smooth = db @ _liftering(len(centres), lifter)
    return 10.0 ** (np.stack([np.interp(linear, centres, frame) for frame in smooth]) / 10.0)


@functools.lru_cache(maxsize=8)
def _liftering(n: int, lifter: int) -> np.ndarray:
    """The (n, n) matrix that keeps the first ``lifter`` coefficients of the orthonormal DCT-II of a
    row (scipy.fft's ``idct(mask * dct(x, norm="ortho"), norm="ortho")``, without importing
    scipy.fft, which costs more than the rest of a continuum's synthesis)."""
    k, i = np.arange(n)[:, None], np.arange(n)[None, :]
    basis = np.sqrt(2.0 / n) * np.cos(np.pi * (i + 0.5) * k / n)
    basis[0] /= np.sqrt(2.0)
    return basis[:lifter].T @ basis[:lifter]


@functools.lru_cache(maxsize=8)
def _centres(spectrogram: SpectrogramConfig, fft_size: int) -> tuple[np.ndarray, np.ndarray]:
    """The mel filters' centre frequencies and WORLD's linear frequency axis (Hz)."""
    centres = mel_frequencies(spectrogram.n_mels + 2, spectrogram.fmin, spectrogram.fmax)[1:-1]
    return centres, np.arange(fft_size // 2 + 1) * spectrogram.sample_rate / fft_size
