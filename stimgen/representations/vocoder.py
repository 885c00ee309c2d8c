"""What every vocoder offers: the one interface between a sound representation's items and sound.

A sound representation is an item analysis (a log-mel spectrogram, a WORLD envelope) plus a
vocoder that makes its items into sound. The vocoder may keep a *voice* of its own beside each
item (WORLD: F0 and aperiodicity); the representation asks it to analyse the voice of each input
file, to mix the voices of the inputs by a stimulus's weights, to shift F0, and finally to
synthesise items with their voices. Nothing outside ``stimgen/representations/`` sees a voice:
it travels inside the :class:`~stimgen.representations.representation.RenderPlan` the representation
prepares, of whatever type the vocoder chose.

What a vocoder learns from a training set (WORLD: the median voice, for stimuli that come from
no file) is learned by :meth:`Vocoder.fit`, which returns a fitted copy, and saved in the model's
``data`` section by :meth:`Vocoder.to_config`.

Adding one is a new module with a subclass of :class:`Vocoder` and a line in
:data:`stimgen.representations.vocoders.VOCODERS` (docs/design.md shows a noise-excited one).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import ClassVar

import numpy as np

from stimgen.errors import StimgenError


class Vocoder(ABC):
    """Items of a sound representation to sound; one subclass per vocoder.

    Class attributes: ``name`` (the key in :data:`~stimgen.representations.vocoders.VOCODERS`,
    saved as ``data.vocoder`` where it is not the representation's own) and ``voiced`` (whether
    it sets F0 itself from a voice beside the item, so that ``--f0`` applies, instead of the item
    making F0 with the rest of the sound).

    The ``rep`` passed to the methods is the sound representation that holds the vocoder
    (:class:`~stimgen.representations.sound.Sound`): its ``sample_rate``, ``duration``,
    ``excerpt(path)`` (the window of a file the model takes) and ``envelope(item, n_fft)`` (an
    item as a power spectral envelope, (frames, n_fft // 2 + 1), on a linear frequency axis).
    """

    name: ClassVar[str]
    voiced: ClassVar[bool] = False

    # --- settings and fitted state ----------------------------------------------------------------
    @classmethod
    @abstractmethod
    def for_sound(cls, rep, data: dict) -> Vocoder:
        """The vocoder of representation ``rep``, with the fitted state a model's ``data`` section
        holds (``{}`` for a model not trained yet: unfitted)."""

    def to_config(self) -> dict:
        """The fitted state saved in the model's ``data`` section (read back by :meth:`for_sound`)."""
        return {}

    def fit(self, rep, ds, progress: bool = False) -> Vocoder:
        """A copy that has learned what the training set ``ds`` teaches; nothing by default."""
        return self

    def provenance(self) -> dict:
        """What a stimulus folder's manifest.json records of the vocoder's settings."""
        return {}

    @abstractmethod
    def summary(self) -> str:
        """How items become sound, in a few words (``stimgen model show``)."""

    # --- voices -----------------------------------------------------------------------------------
    def analyse(self, rep, path: Path):
        """The voice of sound file ``path`` (its window, ``rep.excerpt(path)``); None for a vocoder
        that keeps none (the default: the file is not read). A ``voiced`` vocoder also takes
        ``own_hnr=False``: the voice as the vocoder's own analysis gives it, where by default it is
        made no noisier than the file (WORLD: :func:`stimgen.signal.world.calibrate_aperiodicity`);
        a continuum folder written before that is remade with it."""
        return None

    def mix(self, voices: list, weights: np.ndarray, f0: str | float) -> list:
        """One voice per row of ``weights`` (N, len(voices)), mixed from ``voices``; ``f0`` is the
        policy already resolved (``"interpolate"``, a letter, or Hz; only voiced vocoders get
        other than the default)."""
        return [None] * len(weights)

    def neutral(self, n: int, f0: float | None = None) -> list:
        """``n`` voices for stimuli that come from no file (the model's default voice, at ``f0`` Hz
        if given)."""
        return [None] * n

    def shift(self, voice, hz: float):
        """``voice`` with its F0 moved by ``hz`` (voiced vocoders only)."""
        raise StimgenError(f"the {self.name} vocoder does not set F0; an F0 edit needs a WORLD model")

    def mean_f0(self, voice) -> float:
        """The mean F0 (Hz) of a file's voice (voiced vocoders): with it, the formant ceiling of
        the recording's vocal tract is estimated."""
        raise NotImplementedError(f"the {self.name} vocoder keeps no F0")

    def detail(self, rep, items: np.ndarray, files) -> np.ndarray | None:
        """What the ``files``' own sounds hold that their ``items`` (one each) made into sound do
        not, in a form :meth:`with_detail` adds to a voice; None (the default) where the vocoder
        adds nothing: Griffin-Lim inverts the item as it is (carrying the files' own STFT
        magnitudes along a path was measured and cross-faded two syllables' harmonics,
        docs/results/real-song.md)."""
        return None

    def with_detail(self, voice, detail: np.ndarray):
        """``voice`` that adds ``detail`` (from :meth:`detail`, moved along a path) to its item's sound."""
        raise NotImplementedError(f"the {self.name} vocoder carries no detail")

    def detail_on_bins(self, rep, voice) -> np.ndarray | None:
        """The detail ``voice`` carries, in dB on the item's own frequency bins and frames (H, W),
        or None where it carries none: what the stimulus adds to its item's values, for
        distances measured on items."""
        return None

    # --- sound ------------------------------------------------------------------------------------
    @abstractmethod
    def synthesize(self, rep, items: np.ndarray, voices: list, seed: int = 0) -> np.ndarray:
        """Items (N, C, H, W) with one voice each as sound at ``rep.sample_rate``, (N, samples)."""
