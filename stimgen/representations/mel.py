"""The log-mel spectrogram of a sound: the items of the first audio models (see
docs/spectrogram.md), made into sound by Griffin-Lim (``mel``) or voiced by WORLD (``mel-world``:
each decoded frame smoothed into a spectral envelope that WORLD voices with the user's F0 and the
endpoints' aperiodicity, instead of Griffin-Lim inventing the harmonics)."""

from __future__ import annotations

import dataclasses
import functools
import os

import numpy as np

from stimgen.data.folder import FolderDataset
from stimgen.representations.sound import Sound
from stimgen.representations.vocoder import Vocoder
from stimgen.signal.spectrogram import SpectrogramConfig, sound_to_spectrogram
from stimgen.signal.world import db_to_power, mel_frequencies

#: Mel-cepstral coefficients kept when a mel frame is smoothed into an envelope: enough for the
#: formants, too few for the harmonics of voices above ~80 Hz that low mel bands resolve.
LIFTER = 20


class MelSpectrogram(Sound):
    """A sound as a (1, n_mels, n_frames) log-mel image; items back to sound by batched Griffin-Lim.

    Examples
    --------
    >>> rep = MelSpectrogram(SpectrogramConfig.preset("vowels"))
    >>> rep.item_shape, rep.metrics, rep.vocoder.name
    ((1, 64, 64), ('spectral', 'formants'), 'griffin-lim')
    """

    name = "mel"
    default_vocoder = "griffin-lim"

    def __init__(self, spectrogram: SpectrogramConfig, source: str | None = None, units: str | None = None,
                 vocoder: str | Vocoder | None = None, data: dict | None = None) -> None:
        self.spectrogram = spectrogram
        self.sample_rate = spectrogram.sample_rate
        self.duration = spectrogram.duration
        self.db_range = -spectrogram.min_db
        super().__init__(source, units, vocoder, data)

    @classmethod
    def from_config(cls, data: dict) -> MelSpectrogram:
        return cls(SpectrogramConfig.from_section(data, "spectrogram"), data.get("source"), data.get("units"),
                   data.get("vocoder"), data)

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
        return {"spectrogram": self.spectrogram.to_dict(), **self.vocoder_config()}

    @property
    def item_shape(self) -> tuple[int, int, int]:
        return (1, *self.spectrogram.shape)

    def summary(self) -> str:
        s = self.spectrogram
        return (f"representation {self.name}: log-mel spectrogram, {s.sample_rate} Hz, {s.n_mels} mels x {s.n_frames} "
                f"frames, {s.fmin:g}-{s.fmax:g} Hz; {self.vocoder.summary()}")

    def analysis_provenance(self) -> dict:
        return {"spectrogram": self.spectrogram.to_dict()}

    # --- files to items ---------------------------------------------------------------------------
    def sound_to_item(self, y: np.ndarray, sr: int, path: str | os.PathLike | None = None) -> np.ndarray:
        return sound_to_spectrogram(y, sr, self.spectrogram, path=path)[None]

    def dataset_items(self, ds: FolderDataset, progress: bool = False) -> np.ndarray:
        return ds.spectrograms(self.spectrogram, progress=progress)[:, None]

    def envelope(self, item: np.ndarray, n_fft: int) -> np.ndarray:
        return mel_to_envelope(item[0], self.spectrogram, n_fft)

    def bin_frequencies(self) -> np.ndarray:
        return _centres(self.spectrogram, self.spectrogram.n_fft)[0]

    def heard(self, items: np.ndarray) -> np.ndarray:
        """Voiced by WORLD, items are smoothed across the mel bands (:func:`mel_to_envelope`'s
        liftering, a projection) before they become an envelope; Griffin-Lim hears them whole."""
        if self.vocoder.name != "world":
            return items
        lifter = _liftering(self.spectrogram.n_mels, LIFTER).astype(np.float32)
        return np.einsum("nchw,hk->nckw", np.asarray(items, dtype=np.float32), lifter)


class MelWorld(MelSpectrogram):
    """Mel spectrogram items (as :class:`MelSpectrogram`) voiced by WORLD, one voice per stimulus.

    Examples
    --------
    >>> rep = MelWorld(SpectrogramConfig.preset("vowels"))
    >>> rep.item_shape, rep.voiced, rep.vocoder.config.frame_period_ms
    ((1, 64, 64), True, 8.0)
    """

    name = "mel-world"
    default_vocoder = "world"


def mel_to_envelope(item: np.ndarray, spectrogram: SpectrogramConfig, n_fft: int, lifter: int = LIFTER) -> np.ndarray:
    """A mel item (n_mels, n_frames) in [0, 1] as a power envelope (n_frames, n_fft // 2 + 1).

    Each frame's dB values, less the pre-emphasis the spectrogram applied, are smoothed across the
    mel bands by keeping the first ``lifter`` coefficients of their DCT (a mel cepstrum), then
    interpolated to a linear frequency axis. The envelope's overall level is arbitrary: the
    stimulus is brought to its RMS level afterwards.
    """
    centres, linear = _centres(spectrogram, n_fft)
    db = np.asarray(item, dtype=np.float64).T * -spectrogram.min_db + spectrogram.min_db
    if spectrogram.preemphasis:
        db -= 20.0 * np.log10(np.abs(1.0 - spectrogram.preemphasis
                                     * np.exp(-2j * np.pi * centres / spectrogram.sample_rate)))
    return db_to_power(db @ _smoothing(spectrogram, n_fft, lifter))


@functools.lru_cache(maxsize=8)
def _smoothing(spectrogram: SpectrogramConfig, n_fft: int, lifter: int) -> np.ndarray:
    """The (n_mels, n_fft // 2 + 1) matrix of :func:`mel_to_envelope`: the liftering, then linear
    interpolation from the mel centres to the FFT's frequencies (as ``np.interp``: the end values
    beyond the first and last centre), in one product."""
    centres, linear = _centres(spectrogram, n_fft)
    interpolation = np.stack([np.interp(linear, centres, row) for row in np.eye(len(centres))])
    return _liftering(len(centres), lifter) @ interpolation


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
def _centres(spectrogram: SpectrogramConfig, n_fft: int) -> tuple[np.ndarray, np.ndarray]:
    """The mel filters' centre frequencies and the linear frequency axis of an ``n_fft`` FFT (Hz)."""
    centres = mel_frequencies(spectrogram.n_mels + 2, spectrogram.fmin, spectrogram.fmax)[1:-1]
    return centres, np.arange(n_fft // 2 + 1) * spectrogram.sample_rate / n_fft
