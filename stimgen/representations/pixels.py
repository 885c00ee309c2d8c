"""The pixels of an image, at the model's size and colour mode: the representation of image models."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image

from stimgen.data.folder import FolderDataset
from stimgen.errors import StimgenError
from stimgen.representations.representation import RenderPlan, RenderSettings, Representation
from stimgen.signal.distances import pixel_distance
from stimgen.signal.features import image_features
from stimgen.signal.image import MODES, load_image, save_image


class Pixels(Representation):
    """An image as a (1, H, W) grey or (3, H, W) colour item in [0, 1], written back as an 8-bit PNG.

    Examples
    --------
    >>> rep = Pixels((32, 32), "gray")
    >>> rep.item_shape, rep.metrics
    ((1, 32, 32), ('pixel',))
    """

    name = "pixels"
    medium = "image"
    preload = "images"
    extension = "png"
    metrics = ("pixel",)
    features = ("mean_intensity",)
    sheet_style = "image"
    sheet_scale = 4
    pictures_beside = False

    def __init__(self, size: tuple[int, int], mode: str) -> None:
        self.size = (int(size[0]), int(size[1]))
        self.mode = mode

    @classmethod
    def from_config(cls, data: dict) -> Pixels:
        image = data.get("image")
        size = image.get("size") if isinstance(image, dict) else None
        mode = image.get("mode") if isinstance(image, dict) else None
        if not (isinstance(size, list) and len(size) == 2 and all(isinstance(s, int) and s > 0 for s in size)
                and mode in MODES):
            raise StimgenError('data.image must give "size": [height, width] and "mode": "gray" or "rgb"')
        return cls(tuple(size), mode)

    @classmethod
    def for_dataset(cls, ds: FolderDataset, size: int | None = None) -> Pixels:
        """Grey or colour as the data set's meta.json says (else as its first image is), at ``size``
        x ``size`` pixels or at the images' own size, which must then be the same for all."""
        mode = "rgb" if ds.meta.get("mode") == "rgb" else _image_mode(ds.path(0))
        if size is not None:
            return cls((size, size), mode)
        sizes = set()
        for i in range(len(ds)):
            try:
                with Image.open(ds.path(i)) as im:
                    sizes.add((im.height, im.width))
            except OSError:
                load_image(ds.path(i))  # raises the one-line error for this file
        if len(sizes) > 1:
            raise StimgenError(f"images have {len(sizes)} different sizes ({', '.join(map(str, sorted(sizes)[:3]))}, "
                               "...); give a size to resize them to", path=ds.root)
        return cls(sizes.pop(), mode)

    def summary(self) -> str:
        return f"representation pixels: {self.size[0]} x {self.size[1]} {self.mode} images"

    def to_config(self) -> dict:
        return {"image": {"size": list(self.size), "mode": self.mode}}

    @property
    def item_shape(self) -> tuple[int, int, int]:
        return (1 if self.mode == "gray" else 3, *self.size)

    # --- files to items ---------------------------------------------------------------------------
    def load(self, path: str | os.PathLike) -> np.ndarray:
        return self._item(load_image(path, size=self.size, mode=self.mode))

    def dataset_items(self, ds: FolderDataset, progress: bool = False) -> np.ndarray:
        images = ds.images(size=self.size, mode=self.mode)
        return images[:, None] if images.ndim == 3 else images.transpose(0, 3, 1, 2)

    @staticmethod
    def _item(x: np.ndarray) -> np.ndarray:
        """An image (H, W) or (H, W, 3) as an item (C, H, W)."""
        return x[None] if x.ndim == 2 else x.transpose(2, 0, 1)

    # --- items to stimuli -------------------------------------------------------------------------
    def render(self, plan: RenderPlan, settings: RenderSettings, seed: int = 0) -> list[np.ndarray]:
        sources = plan.sources or [None] * len(plan)
        return [_image(plan.items[i] if src is None else self.load(src)) for i, src in enumerate(sources)]

    def write(self, path: Path, stimulus: np.ndarray, settings: RenderSettings) -> None:
        save_image(path, stimulus)

    def read_back(self, paths: Sequence[Path], plan: RenderPlan) -> list[tuple[dict[str, float], np.ndarray]]:
        images = [load_image(path, mode=self.mode) for path in paths]
        return [(image_features(x), self._item(x)) for x in images]

    def measure(self, plan: RenderPlan, seed: int = 0) -> list[dict[str, float]]:
        return [image_features(_image(item)) for item in plan.items]

    # --- distances and pictures -------------------------------------------------------------------
    def neighbour_distances(self, x: np.ndarray, metric: str, seed: int = 0, plan: RenderPlan | None = None
                            ) -> np.ndarray:
        """``pixel``: the RMS difference of pixel values in [0, 1]."""
        return pixel_distance(x[1:], x[:-1])

    def picture(self, item: np.ndarray) -> np.ndarray:
        return np.repeat(item, 3, axis=0).transpose(1, 2, 0) if item.shape[0] == 1 else item.transpose(1, 2, 0)


def _image(item: np.ndarray) -> np.ndarray:
    """An item (C, H, W) as an image (H, W) or (H, W, 3) in [0, 1]."""
    return np.clip(item[0] if item.shape[0] == 1 else item.transpose(1, 2, 0), 0.0, 1.0)


def _image_mode(path: Path) -> str:
    with Image.open(path) as im:
        return "gray" if im.mode in ("L", "LA", "I", "I;16", "1") else "rgb"
