"""What every representation offers: the one interface between files and a model's items.

A representation is how a model sees its data: a log-mel spectrogram of a sound, the pixels of an
image. It analyses a file into the model's item (a float32 array (C, H, W) in [0, 1]), turns items
back into finished stimuli and writes them, offers the distances that equal spacing uses (with
their units), measures the features that manifests report, draws the picture of an item, and
keeps its settings as the ``data`` section of a model's config.json. Morph, export, attributes
and training call these methods and never ask what kind of data they hold.
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

import numpy as np

from stimgen.data.folder import AUDIO_EXTENSIONS, IMAGE_EXTENSIONS, FolderDataset
from stimgen.errors import StimgenError
from stimgen.options import RenderSettings

#: The files of each medium, and how to speak of one of them and of several.
MEDIA = {"audio": (AUDIO_EXTENSIONS, "a sound", "sounds"), "image": (IMAGE_EXTENSIONS, "an image", "images")}


@dataclass(frozen=True)
class RenderPlan:
    """What a representation makes a set of stimuli from, prepared by :meth:`Representation.plan`.

    ``items`` (N, C, H, W) are the model's items; ``state`` holds, per stimulus, whatever else the
    representation needs to make and measure it (a sound's voice and formant ceiling; empty where
    there is nothing), opaque to everything outside ``stimgen/representations/``; ``sources[i]``
    names a file written as it is instead of item i (empty: every stimulus from its item);
    ``settings`` is what the stimulus set's settings record of how the plan was made (the F0
    policy); ``baseline``, for an edit, is the one-stimulus plan of the unedited stimulus.

    Examples
    --------
    >>> plan = RenderPlan(np.zeros((1, 1, 2, 2)), state=("s",))
    >>> len(plan.each(np.ones((3, 1, 2, 2)))), plan.each(np.ones((3, 1, 2, 2))).state
    (3, ('s', 's', 's'))
    """

    items: np.ndarray
    state: tuple = ()
    sources: tuple = ()
    settings: dict = field(default_factory=dict)
    baseline: RenderPlan | None = None

    def __len__(self) -> int:
        return len(self.items)

    def each(self, items: np.ndarray) -> RenderPlan:
        """``items``, each made as this plan's one stimulus is (its state and settings): variants of
        one stimulus, such as the steps of an edit."""
        return RenderPlan(items, self.state * len(items), settings=self.settings)


class Representation(ABC):
    """How a model sees its data; one subclass per representation, listed in
    :data:`stimgen.representations.REGISTRY`.

    Class attributes: ``name`` (the registry key, saved as ``data.representation``), ``medium``
    (``"audio"`` or ``"image"``: the files it reads and writes), ``preload`` (the key of jsPsych's
    preload list for its files), ``extension`` (of the stimulus
    files it writes), ``metrics`` (the distances it offers, the default first), ``features`` (what
    :meth:`read_back` and :meth:`measure` report), ``sheet_style`` (how
    :func:`stimgen.preview.save_sheet` draws items), ``sheet_scale`` (how much a contact sheet
    enlarges a picture) and ``pictures_beside`` (whether a picture of each stimulus is written
    beside it, as a sound's spectrogram is).
    """

    name: ClassVar[str]
    medium: ClassVar[str]
    preload: ClassVar[str]
    extension: ClassVar[str]
    metrics: ClassVar[tuple[str, ...]]
    features: ClassVar[tuple[str, ...]]
    sheet_style: ClassVar[str]
    sheet_scale: ClassVar[int]
    pictures_beside: ClassVar[bool]
    #: Whether the representation sets F0 apart from its items (a vocoder with a voice: ``--f0``).
    voiced: bool = False
    #: Whether an item's axis 1 (H) is frequency, so that faithful ends may warp along it
    #: (:mod:`stimgen.morph.ends`).
    frequency_warps: bool = False
    #: Whether the items are speech, whose stimuli are vowels measured in (F1, F2) Bark (the
    #: manifest's formants, an end's distance from its file, the uneven-path check).
    speech: bool = False
    #: Whether the items are birdsong, whose stimuli are measured by the song features and levelled
    #: by their sounding part (:class:`~stimgen.representations.sound.Sound`).
    song: bool = False

    # --- settings ---------------------------------------------------------------------------------
    @classmethod
    @abstractmethod
    def from_config(cls, data: dict) -> Representation:
        """The representation a model's ``data`` section describes (raises StimgenError if it cannot)."""

    @classmethod
    @abstractmethod
    def for_dataset(cls, ds: FolderDataset, size: int | None = None) -> Representation:
        """The representation to train on a data set with, its items ``size`` x ``size`` (None: the
        data set's own settings or size)."""

    @abstractmethod
    def to_config(self) -> dict:
        """The settings that :meth:`from_config` reads back (saved in the model's ``data`` section)."""

    @property
    @abstractmethod
    def item_shape(self) -> tuple[int, int, int]:
        """(C, H, W) of the model's items."""

    @abstractmethod
    def summary(self) -> str:
        """One line that says what the model sees and how its stimuli are made (``stimgen model show``)."""

    def provenance(self) -> dict:
        """What a stimulus folder's manifest.json records of the representation's settings (beside
        the render settings, which it records for every folder)."""
        return {}

    # --- files to items ---------------------------------------------------------------------------
    def check_file(self, path: Path, model_name: str) -> None:
        """Refuse a file of another medium (an image given to a model of sounds) by its extension."""
        for medium, (extensions, one, _) in MEDIA.items():
            if medium != self.medium and path.suffix.lower() in extensions:
                raise StimgenError(f"is {one}, but model {model_name!r} makes {MEDIA[self.medium][2]}", path=path)

    def excerpt(self, path: str | os.PathLike, onset: float | None = None):
        """The part of file ``path`` the model takes, chosen before the file is loaded (sounds: a
        window of a long file, starting at ``onset`` seconds if given). Images are taken whole."""
        if onset is not None:
            raise StimgenError(f"--onset picks a window of a sound, but model makes {MEDIA[self.medium][2]}",
                               path=path)

    def excerpt_record(self, path: Path) -> dict:
        """What manifest.json records of the part of input ``path`` that was used (sounds: the
        window of a long file); empty where the whole file is always used."""
        return {}

    @abstractmethod
    def load(self, path: str | os.PathLike) -> np.ndarray:
        """A file as the model's item (C, H, W), analysed as the training data were."""

    @abstractmethod
    def dataset_items(self, ds: FolderDataset, progress: bool = False) -> np.ndarray:
        """Every file of a data set as the model's items, (N, C, H, W) float32."""

    def fit(self, ds: FolderDataset, progress: bool = False) -> Representation:
        """A copy that has learned what training set ``ds`` teaches beyond the items (a vocoder's
        median voice), saved by :meth:`to_config`; the representation itself where there is
        nothing to learn. Training calls it before :meth:`to_config`."""
        return self

    def check_f0(self, f0: str | float | None) -> None:
        """Refuse an ``f0`` where the representation sets no F0 apart from its items (before any
        file is read)."""
        if f0 is not None:
            raise StimgenError(f"--f0 sets the voice of WORLD models; this model's representation ({self.name}) "
                               "makes F0 with the rest of the sound")

    # --- items to stimuli -------------------------------------------------------------------------
    def plan(self, items: np.ndarray, files: Sequence[Path] = (), weights: np.ndarray | None = None,
             f0: str | float | None = None, sources: Sequence[Path | None] | None = None,
             f0_shift: np.ndarray | None = None, detail: np.ndarray | None = None,
             starts: bool = True, own_hnr: bool = True) -> RenderPlan:
        """What stimuli ``items`` (N, C, H, W) are made from: each made of the input ``files`` in
        the proportions of its row of ``weights`` (N, len(files)), under the F0 policy ``f0``
        (voiced representations; see :func:`stimgen.signal.world.mix_voices`) with F0 moved by
        ``f0_shift[i]`` Hz if given, and ``detail[i]`` (of the shape :meth:`detail` gives, moved
        along a path) added to stimulus i's sound; where ``sources[i]`` names a file, that file
        itself (fitted to the model's duration or size) stands for item i. ``starts``: whether a
        sound's vocoder may start from the heavier file (Griffin-Lim's phase); ``own_hnr``: whether
        the files' voices are made no noisier than the files (:meth:`Vocoder.analyse`). A representation
        without a voice keeps the items and sources only."""
        self.check_f0(f0)
        return RenderPlan(np.asarray(items), sources=tuple(sources or ()))

    @abstractmethod
    def render(self, plan: RenderPlan, settings: RenderSettings, seed: int = 0) -> list[np.ndarray]:
        """The stimuli of a plan (from :meth:`plan`), finished: at the render settings' rate and level."""

    @abstractmethod
    def write(self, path: Path, stimulus: np.ndarray, settings: RenderSettings) -> None:
        """Write one finished stimulus (from :meth:`render`) to ``path``."""

    @abstractmethod
    def read_back(self, paths: Sequence[Path], plan: RenderPlan) -> list[tuple[dict[str, float], np.ndarray]]:
        """The written stimuli of ``plan`` (file ``paths[i]`` holds stimulus i): each one's features
        and its item in the model's space, from one read of the file."""

    @abstractmethod
    def measure(self, plan: RenderPlan, seed: int = 0) -> list[dict[str, float]]:
        """The features of a plan's stimuli as they would be written (before rate and level)."""

    def detail(self, items: np.ndarray, files: Sequence[Path]) -> np.ndarray | None:
        """What each file's own stimulus holds that the stimulus made of its item (``items``, one
        per file) does not, where the representation can carry it apart from the items (for
        WORLD voices, the file's own envelope less the item's, dB, (N, frames, n_fft // 2 + 1)
        on a linear frequency axis from 0 Hz to half the sample rate); None (the default) where
        an item is all a stimulus is made of."""
        return None

    def heard(self, items: np.ndarray) -> np.ndarray:
        """What of items (N, C, H, W) their stimuli are made from: the items themselves, unless
        the representation smooths them on the way to a stimulus. Faithful ends
        (:mod:`stimgen.morph.ends`) take their residuals of this, so that a residual carries
        nothing the stimulus would not hear."""
        return items

    def file_features(self, path: Path, state=None) -> dict[str, float]:
        """The features of an input file (the window the model took of it) measured as a
        stimulus of a plan with ``state`` (its entry of ``RenderPlan.state``: for a sound, its
        formant ceiling) is; none by default."""
        return {}

    # --- distances and pictures -------------------------------------------------------------------
    @property
    def default_metric(self) -> str:
        """The metric equal spacing measures unless told another: the first of :attr:`metrics`."""
        return self.metrics[0]

    def check_metric(self, metric: str | None) -> str:
        """``metric`` (or :attr:`default_metric`) if this representation offers it."""
        metric = metric or self.default_metric
        if metric not in self.metrics:
            raise StimgenError(f"metric {metric!r} does not apply to {self.medium} models; "
                               f"choose from {', '.join(self.metrics)}")
        return metric

    @abstractmethod
    def neighbour_distances(self, x: np.ndarray, metric: str, seed: int = 0, plan: RenderPlan | None = None
                            ) -> np.ndarray:
        """Distances (N - 1,) between consecutive items (N, C, H, W), in ``METRIC_UNITS[metric]``; a
        measured metric measures the stimuli ``plan`` makes of them, if given."""

    def written_distances(self, features: list[dict[str, float]], items: np.ndarray, metric: str) -> np.ndarray:
        """Distances between consecutive written stimuli, from what :meth:`read_back` gave for each."""
        return self.neighbour_distances(items, metric)

    @abstractmethod
    def picture(self, item: np.ndarray) -> np.ndarray:
        """An item as an RGB picture (H, W, 3) in [0, 1]."""
