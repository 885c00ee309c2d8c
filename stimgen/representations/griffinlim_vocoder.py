"""Griffin-Lim: log-mel items back to sound by batched phase reconstruction; F0 and harmonics come
from the model's items, so it keeps no voice (see :mod:`stimgen.signal.spectrogram`), only, for the
steps of a continuum, the detail its end files hold beyond their items."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from stimgen.errors import StimgenError
from stimgen.representations.vocoder import Vocoder
from stimgen.signal.audio import load_audio
from stimgen.signal.spectrogram import magnitude_floor, sound_to_magnitude, spectrogram_magnitude, spectrogram_to_audio


class GriffinLim(Vocoder):
    """The log-mel spectrogram inverted with the model's own :class:`~stimgen.signal.spectrogram.SpectrogramConfig`.

    Examples
    --------
    >>> GriffinLim().summary()
    'sound by Griffin-Lim'
    """

    name = "griffin-lim"
    voiced = False

    @classmethod
    def for_sound(cls, rep, data: dict) -> GriffinLim:
        if getattr(rep, "spectrogram", None) is None:
            raise StimgenError(f"the griffin-lim vocoder inverts log-mel spectrograms; the {rep.name} "
                               "representation's items are not")
        return cls()

    def summary(self) -> str:
        return "sound by Griffin-Lim"

    def detail(self, rep, items: np.ndarray, files) -> np.ndarray:
        """Each file's own STFT magnitudes (its window's, as the model's image of it is taken) less
        the magnitudes Griffin-Lim would invert for the item beside it, both held at the image's
        floor: dB, (N, n_frames, n_fft // 2 + 1)."""
        config, out = rep.spectrogram, []
        floor = magnitude_floor(config)
        made = spectrogram_magnitude(torch.from_numpy(np.asarray(items, dtype=np.float32)[:, 0]), config).numpy()
        for path, magnitude in zip(files, made):
            y, sr = load_audio(path)
            own = sound_to_magnitude(rep.excerpt(Path(path)).cut(y, sr), sr, config, path=path)
            out.append((20.0 * np.log10(np.maximum(own, floor)) - 20.0 * np.log10(np.maximum(magnitude, floor))).T)
        return np.stack(out)

    def with_detail(self, voice, detail: np.ndarray) -> np.ndarray:
        """Griffin-Lim keeps no voice: a stimulus's detail stands in its place."""
        return np.asarray(detail, dtype=np.float64)

    def voice_detail(self, voice) -> np.ndarray | None:
        return voice

    def synthesize(self, rep, items: np.ndarray, voices: list, seed: int = 0) -> np.ndarray:
        return spectrogram_to_audio(items[:, 0], rep.spectrogram, seed=seed,
                                    detail_db=voices).reshape(len(items), -1)
