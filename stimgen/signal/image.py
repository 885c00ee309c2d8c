"""Reading and writing image stimuli as float arrays in [0, 1].

Grayscale images are (height, width) arrays, colour images (height, width, 3). Files are read
and written with Pillow (PNG, JPEG and whatever else Pillow opens).

Greyscale files deeper than 8 bits (16-bit PNG and TIFF, 16-bit PGM, 32-bit integer TIFF) are read
as floats scaled by their full scale (65535 for 16 bits) and resized in float, never clipped to
8 bits first; 32-bit float images (TIFF) must hold intensities in [0, 1].
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

    ``size`` resizes (Lanczos) to ``size`` x ``size`` pixels, or to (height, width). Greyscale
    files of more than 8 bits (16-bit PNG, TIFF or PGM, 32-bit integer TIFF) are divided by their
    full scale (65535 for 16 bits) and resized as floats; for ``mode="rgb"`` the grey is copied to
    3 channels. 32-bit float images must hold intensities in [0, 1]; integer values outside the
    full scale and float values outside [0, 1] raise :class:`StimgenError`.

    Examples
    --------
    >>> x = load_image("face.png", size=64, mode="rgb")   # doctest: +SKIP
    >>> x.shape                                           # doctest: +SKIP
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
            deep = _deep_gray(im, path)
            if deep is not None:
                return _resize_float(deep, size, mode)
            im = im.convert(MODES[mode])
            if size is not None:
                im = im.resize(_pillow_size(size), Image.Resampling.LANCZOS)
            x = np.asarray(im, dtype=np.float32) / 255.0
    except (UnidentifiedImageError, OSError, SyntaxError) as exc:
        raise StimgenError(f"not an image file that can be read ({exc.__class__.__name__})", path=path) from None
    return x


#: Pillow's modes for greyscale deeper than 8 bits: unsigned 16-bit (PNG, TIFF) and 32-bit integer
#: (16-bit PGM/PPM, which Pillow scales to 65535, 16-bit PNG in older Pillow, 32-bit integer TIFF).
_INT16_MODES = ("I;16", "I;16L", "I;16B", "I;16N")
_TIFF_BITS_PER_SAMPLE, _TIFF_SAMPLE_FORMAT = 258, 339


def _deep_gray(im: Image.Image, path: Path) -> np.ndarray | None:
    """A greyscale image of more than 8 bits as float64 in [0, 1] (None for any other image).

    Integers are divided by their full scale, 2**bits - 1 (2**(bits - 1) - 1 if signed): bits from
    the TIFF BitsPerSample tag where there is one, else 16. Float images are taken as intensities
    in [0, 1]. Values outside the full scale are refused, as the scale would be a guess.
    """
    if im.mode not in _INT16_MODES + ("I", "F"):
        return None
    x = np.asarray(im).astype(np.float64)
    if not np.all(np.isfinite(x)):
        raise StimgenError("image contains NaN or infinite values", path=path)
    lo, hi = float(x.min()), float(x.max())
    if im.mode == "F":
        if lo < -1e-6 or hi > 1 + 1e-6:
            raise StimgenError(f"32-bit float image has values in [{lo:.4g}, {hi:.4g}]; stimgen reads float images "
                               "as intensities in [0, 1]", path=path)
        return np.clip(x, 0.0, 1.0)
    tags = getattr(im, "tag_v2", None) or {}
    bits = tags.get(_TIFF_BITS_PER_SAMPLE, (16,))
    bits = int(bits[0] if isinstance(bits, (tuple, list)) else bits)
    signed = tags.get(_TIFF_SAMPLE_FORMAT, (1,))
    signed = int(signed[0] if isinstance(signed, (tuple, list)) else signed) == 2
    if not 8 < bits <= 32:
        bits = 16
    full = 2.0 ** (bits - 1 if signed else bits) - 1
    if lo < 0:
        raise StimgenError(f"{bits}-bit integer image has negative values (down to {lo:.0f}); stimgen cannot "
                           "tell what intensity they stand for", path=path)
    if hi > full:
        raise StimgenError(f"{bits}-bit integer image has values up to {hi:.0f}, above its full scale "
                           f"{full:.0f}", path=path)
    return x / full


def _resize_float(x: np.ndarray, size: int | tuple[int, int] | None, mode: str) -> np.ndarray:
    """A float greyscale image in [0, 1], resized (Lanczos, in Pillow's 32-bit float mode "F") and
    given 3 equal channels for ``mode="rgb"``."""
    if size is not None:
        resized = Image.fromarray(x.astype(np.float32)).resize(_pillow_size(size), Image.Resampling.LANCZOS)
        x = np.clip(np.asarray(resized), 0.0, 1.0)  # Lanczos overshoots at edges, as 8-bit images clip
    x = x.astype(np.float32)
    return np.repeat(x[:, :, None], 3, axis=2) if mode == "rgb" else x


def _pillow_size(size: int | tuple[int, int]) -> tuple[int, int]:
    """``size`` (an int, or (height, width)) as Pillow's (width, height)."""
    h, w = (size, size) if isinstance(size, int) else size
    return (w, h)


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
