"""Reading and writing image stimuli as float arrays in [0, 1].

Grayscale images are (height, width) arrays, colour images (height, width, 3). Files are read
and written with Pillow (PNG, JPEG and whatever else Pillow opens).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from stimgen.errors import StimgenError

MODES = {"gray": "L", "rgb": "RGB"}


def load_image(path: str | os.PathLike, size: int | tuple[int, int] | None = None, mode: str = "gray") -> np.ndarray:
    """Load an image as float32 in [0, 1], converted to ``mode`` ("gray" or "rgb").

    ``size`` resizes (Lanczos) to ``size`` x ``size`` pixels, or to (height, width).

    Examples
    --------
    >>> x = load_image("face.png", size=64, mode="rgb")   # doctest: +SKIP
    >>> x.shape
    (64, 64, 3)
    """
    if mode not in MODES:
        raise StimgenError(f"mode must be 'gray' or 'rgb', got {mode!r}")
    path = Path(path)
    if not path.exists():
        raise StimgenError("no such file", path=path)
    if path.is_dir():
        raise StimgenError("is a folder, not an image file", path=path)
    try:
        with Image.open(path) as im:
            im.load()
            if im.width == 0 or im.height == 0:
                raise StimgenError("image has zero size", path=path)
            im = im.convert(MODES[mode])
            if size is not None:
                h, w = (size, size) if isinstance(size, int) else size
                im = im.resize((w, h), Image.Resampling.LANCZOS)
            x = np.asarray(im, dtype=np.float32) / 255.0
    except (UnidentifiedImageError, OSError, SyntaxError) as exc:
        raise StimgenError(f"not an image file that can be read ({exc.__class__.__name__})", path=path) from None
    return x


def to_uint8(x: np.ndarray, path: str | os.PathLike | None = None) -> np.ndarray:
    """Validate a float image in [0, 1] ((H, W) or (H, W, 3)) and convert it to 8 bits."""
    x = np.asarray(x)
    if x.ndim not in (2, 3) or (x.ndim == 3 and x.shape[2] not in (1, 3)):
        raise StimgenError(f"expected an (H, W) or (H, W, 3) image, got shape {x.shape}", path=path)
    if x.size == 0:
        raise StimgenError("image has zero size", path=path)
    if not np.all(np.isfinite(x)):
        raise StimgenError("image contains NaN or infinite values", path=path)
    if x.min() < -1e-6 or x.max() > 1 + 1e-6:
        raise StimgenError(f"image values must lie in [0, 1], got [{x.min():.3g}, {x.max():.3g}]", path=path)
    if x.ndim == 3 and x.shape[2] == 1:
        x = x[:, :, 0]
    return np.round(np.clip(x, 0.0, 1.0) * 255.0).astype(np.uint8)


def save_image(path: str | os.PathLike, x: np.ndarray) -> None:
    """Write a float image in [0, 1] as an 8-bit PNG or JPEG (by the file's extension).

    Examples
    --------
    >>> save_image("grey.png", np.full((32, 32), 0.5))    # doctest: +SKIP
    """
    pixels = to_uint8(x, path=path)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    try:
        Image.fromarray(pixels).save(path)
    except (ValueError, KeyError) as exc:
        raise StimgenError(f"cannot save an image in this format ({exc})", path=path) from None
