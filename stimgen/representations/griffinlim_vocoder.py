"""Griffin-Lim: log-mel items back to sound by batched phase reconstruction; F0 and harmonics come
from the model's items, so it keeps no voice (see :mod:`stimgen.signal.spectrogram`)."""

from __future__ import annotations

import numpy as np

from stimgen.errors import StimgenError
from stimgen.representations.vocoder import Vocoder
from stimgen.signal.spectrogram import spectrogram_to_audio


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

    def synthesize(self, rep, items: np.ndarray, voices: list, seed: int = 0) -> np.ndarray:
        return spectrogram_to_audio(items[:, 0], rep.spectrogram, seed=seed).reshape(len(items), -1)
