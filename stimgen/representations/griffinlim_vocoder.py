"""Griffin-Lim: log-mel items back to sound by batched phase reconstruction; F0 and harmonics come
from the model's items (see :mod:`stimgen.signal.spectrogram`). What it keeps of a file is where
to start: the phase of the file's own STFT, from which the file's image comes back as nearly
the file as the image holds it, where a random start leaves each harmonic's phase to chance."""

from __future__ import annotations

import numpy as np

from stimgen.errors import StimgenError
from stimgen.representations.vocoder import Vocoder
from stimgen.signal.audio import load_audio
from stimgen.signal.spectrogram import sound_phase, spectrogram_to_audio


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

    def analyse(self, rep, path):
        """The phase of the file's STFT in the window the model takes of it (:func:`sound_phase`)."""
        y, sr = load_audio(path)
        return sound_phase(rep.excerpt(path).cut(y, sr), sr, rep.spectrogram, path=path)

    def mix(self, voices: list, weights: np.ndarray, f0) -> list:
        """Each stimulus starts from the phase of the file it holds most of (the first of equals):
        a continuum's first half from file a's, its second from b's, an edit from its file's."""
        return [voices[int(np.argmax(w))] for w in np.asarray(weights, dtype=np.float64)]

    def synthesize(self, rep, items: np.ndarray, voices: list, seed: int = 0) -> np.ndarray:
        """Griffin-Lim from each stimulus's file phase, or from the seeded random phase where it has none."""
        phase = None
        if any(v is not None for v in voices):
            empty = np.zeros((rep.spectrogram.n_fft // 2 + 1, rep.spectrogram.n_frames), np.complex64)
            phase = np.stack([empty if v is None else v for v in voices])
        return spectrogram_to_audio(items[:, 0], rep.spectrogram, seed=seed, phase=phase).reshape(len(items), -1)
