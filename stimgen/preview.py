"""Pictures: sheets of spectrograms or images (one Pillow renderer, :func:`draw_sheet`, for data
previews, training previews and stimulus sheets), spectrograms as RGB, and matplotlib figures.

Figures are matplotlib ``Figure`` objects drawn off screen (:func:`figure`), never through pyplot:
importing stimgen chooses no backend, so a notebook's own plotting is left as it is.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Sequence

import numpy as np

from stimgen.cache import cached_array
from stimgen.errors import StimgenError


def figure(**kwargs):
    """A matplotlib ``Figure`` for a file (``fig.savefig``), with no GUI backend and nothing to close.

    Examples
    --------
    >>> fig = figure(figsize=(2, 2))
    >>> ax = fig.subplots()
    """
    from matplotlib.figure import Figure

    return Figure(**kwargs)


def pick_examples(classes: Sequence, k: int = 40) -> list[int]:
    """Indices of up to ``k`` items, taken from each class in turn, so every class shows.

    Examples
    --------
    >>> pick_examples(["a", "a", "a", "b", "b", "c"], k=4)
    [0, 3, 5, 1]
    """
    groups: dict = {}
    for i, c in enumerate(classes):
        groups.setdefault(c, []).append(i)
    picked: list[int] = []
    queues = [list(g) for g in groups.values()]
    while len(picked) < k and any(queues):
        for q in queues:
            if q and len(picked) < k:
                picked.append(q.pop(0))
    return picked


def save_sheet(
    path: str | os.PathLike,
    items: Sequence[np.ndarray],
    titles: Sequence[str],
    style: str = "spectrogram",
    title: str = "",
    ncols: int = 8,
    extent: tuple[float, float, float, float] | None = None,
) -> None:
    """Save a grid of ``items`` with a title over each (drawn by :func:`draw_sheet`).

    ``style="spectrogram"``: (n_mels, n_frames) images in [0, 1], low frequencies at the bottom,
    in the magma colour map; ``extent`` (t0, t1, f0, f1) puts their time and frequency span in the
    sheet's title. ``style="image"``: (H, W) or (H, W, 3) images in [0, 1].
    """
    if style == "spectrogram":
        pictures = [spectrogram_rgb(item) for item in items]
        if extent is not None:
            span = f"each {extent[0]:g}-{extent[1]:.2f} s, {extent[2]:g} Hz-{extent[3] / 1e3:g} kHz"
            title = f"{title}  ({span})" if title else span
    elif style == "image":
        pictures = [np.repeat(np.asarray(i)[..., None], 3, axis=2) if np.ndim(i) == 2 else np.asarray(i)
                    for i in items]
    else:
        raise StimgenError(f"style must be 'spectrogram' or 'image', got {style!r}")
    n = len(pictures)
    ncols = max(1, min(ncols, n))
    cells = [(i // ncols, i % ncols) for i in range(n)]
    scale = max(1, 128 // max(pictures[0].shape[:2]))
    draw_sheet(path, pictures, list(titles), cells, title, scale=scale)


def draw_sheet(path: str | os.PathLike, pictures: Sequence[np.ndarray], captions: Sequence[str],
               cells: Sequence[tuple[int, int]], title: str = "", scale: int = 1) -> None:
    """The one sheet renderer: RGB ``pictures`` (H, W, 3) in [0, 1], each enlarged ``scale`` times and
    placed at its (row, column) in ``cells`` under its caption (may hold line breaks), a ``title``
    line above; saved as a PNG. Drawn with Pillow, which starts far faster than matplotlib.

    Examples
    --------
    >>> draw_sheet("sheet.png", [np.zeros((8, 8, 3))] * 2, ["a", "b"], [(0, 0), (0, 1)])   # doctest: +SKIP
    """
    from PIL import Image, ImageDraw, ImageFont

    from stimgen.signal.image import to_uint8

    tiles = [np.repeat(np.repeat(np.asarray(p, dtype=np.float64), scale, axis=0), scale, axis=1) for p in pictures]
    th, tw = tiles[0].shape[:2]
    nrows, ncols = max(r for r, _ in cells) + 1, max(c for _, c in cells) + 1
    font = ImageFont.load_default(size=12)
    lines = max(c.count("\n") + 1 for c in captions)
    pad, caption = 8, 16 * lines + 2
    header = 30 if title else pad
    sheet = Image.new("RGB", (pad + ncols * (tw + pad), header + nrows * (th + caption + pad)), "white")
    draw = ImageDraw.Draw(sheet)
    if title:
        draw.text((pad, 8), title, fill="black", font=font)
    for tile, label, (row, col) in zip(tiles, captions, cells):
        x, y = pad + col * (tw + pad), header + row * (th + caption + pad)
        draw.multiline_text((x, y), label, fill="black", font=font, spacing=2)
        sheet.paste(Image.fromarray(to_uint8(np.clip(tile, 0.0, 1.0))), (x, y + caption))
    sheet.save(path)


@functools.lru_cache(maxsize=1)
def _magma() -> np.ndarray:
    """matplotlib's magma colour map as a 256 x 3 table, kept in the cache folder after its first use:
    importing matplotlib takes longer than drawing every spectrogram of a continuum."""

    def compute() -> np.ndarray:
        import matplotlib

        return matplotlib.colormaps["magma"](np.arange(256))[:, :3]

    return cached_array("colormaps/magma-256.npy", compute, (256, 3), np.float64)


def spectrogram_rgb(spec: np.ndarray) -> np.ndarray:
    """A spectrogram (n_mels, n_frames) in [0, 1] as magma-coloured RGB (n_mels, n_frames, 3), low
    frequencies at the bottom (the colours of matplotlib's ``magma(spec)``)."""
    index = np.clip((np.asarray(spec[::-1], dtype=np.float64) * 256).astype(int), 0, 255)
    return _magma()[index]
