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
from pathlib import Path
from typing import ClassVar

import numpy as np

from stimgen.data.folder import AUDIO_EXTENSIONS, IMAGE_EXTENSIONS, FolderDataset
from stimgen.errors import StimgenError
from stimgen.options import RenderSettings

#: The files of each medium, and how to speak of one of them and of several.
MEDIA = {"audio": (AUDIO_EXTENSIONS, "a sound", "sounds"), "image": (IMAGE_EXTENSIONS, "an image", "images")}


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
    #: Whether each stimulus has a voice (F0, aperiodicity) beside its item, set by ``--f0`` (WORLD).
    voiced: ClassVar[bool] = False

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

    def provenance(self, render: RenderSettings) -> dict:
        """What a stimulus folder's manifest.json records of how its files were made."""
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

    def check_f0(self, f0: str | float | None) -> None:
        """Refuse an ``f0`` where the representation keeps no voice beside its items (before any
        file is read)."""
        if f0 is not None and not self.voiced:
            raise StimgenError(f"--f0 sets the voice of WORLD models; this model's representation ({self.name}) "
                               "makes F0 with the rest of the sound")

    def voices(self, files: list[Path], weights: np.ndarray, f0: str | float | None) -> list | None:
        """One voice per stimulus, mixed from the voices of ``files`` by ``weights`` (N, len(files)),
        for representations that keep one beside the item (``voiced``; see
        :func:`stimgen.world.mix_voices` for ``f0``). The others return None and refuse an ``f0``."""
        self.check_f0(f0)
        return None

    # --- items to stimuli -------------------------------------------------------------------------
    @abstractmethod
    def render(self, x: np.ndarray, settings: RenderSettings, seed: int = 0,
               sources: list[Path | None] | None = None, voices: list | None = None) -> list[np.ndarray]:
        """Items (N, C, H, W) as finished stimuli; where ``sources[i]`` names a file, that file itself
        (fitted to the model's duration or size) stands for item i; ``voices[i]`` is item i's voice
        (``voiced`` representations; None: a neutral one)."""

    @abstractmethod
    def write(self, path: Path, stimulus: np.ndarray, settings: RenderSettings) -> None:
        """Write one finished stimulus (from :meth:`render`) to ``path``."""

    @abstractmethod
    def read_back(self, path: Path, voice=None) -> tuple[dict[str, float], np.ndarray]:
        """A written stimulus's features and its item in the model's space, from one read of the file;
        ``voice`` is the stimulus's voice where the representation keeps one."""

    @abstractmethod
    def measure(self, x: np.ndarray, seed: int = 0, voices: list | None = None) -> list[dict[str, float]]:
        """The features of items (N, C, H, W) as they would be written (before rate and level)."""

    # --- distances and pictures -------------------------------------------------------------------
    def check_metric(self, metric: str | None) -> str:
        """``metric`` (or the default) if this representation offers it."""
        metric = metric or self.metrics[0]
        if metric not in self.metrics:
            raise StimgenError(f"metric {metric!r} does not apply to {self.medium} models; "
                               f"choose from {', '.join(self.metrics)}")
        return metric

    @abstractmethod
    def neighbour_distances(self, x: np.ndarray, metric: str, seed: int = 0) -> np.ndarray:
        """Distances (N - 1,) between consecutive items (N, C, H, W), in ``METRIC_UNITS[metric]``."""

    def written_distances(self, features: list[dict[str, float]], items: np.ndarray, metric: str) -> np.ndarray:
        """Distances between consecutive written stimuli, from what :meth:`read_back` gave for each."""
        return self.neighbour_distances(items, metric)

    @abstractmethod
    def picture(self, item: np.ndarray) -> np.ndarray:
        """An item as an RGB picture (H, W, 3) in [0, 1]."""
