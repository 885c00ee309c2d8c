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


#: Where the F1-F2 plane (:func:`draw_vowel_plane`) may put tick labels (Hz).
VOWEL_TICKS_HZ = (150, 200, 300, 400, 500, 600, 700, 800, 900, 1000, 1200, 1500, 1750, 2000, 2250, 2500, 3000,
                  3500, 4000)
#: The colours of a continuum's first and last stimuli, and of their endpoint files' rings.
FIRST_RGB, LAST_RGB = (31, 119, 180), (230, 97, 1)


def draw_vowel_plane(path: str | os.PathLike, f1_hz: Sequence[float], f2_hz: Sequence[float],
                     labels: Sequence[str], files: Sequence[tuple[str, float, float]] = (),
                     joined: bool = True, title: str = "") -> None:
    """Stimuli in the F1-F2 plane as phoneticians draw it, saved as a PNG: F2 along x, falling to
    the right, F1 along y, rising downward, both spaced in Bark (so that equal steps in (F1, F2)
    Bark look equal) and labelled in Hz. Each stimulus is a dot with its label, coloured from
    :data:`FIRST_RGB` to :data:`LAST_RGB` by its place in order, joined in order where ``joined`` (a
    continuum's steps); ``files`` (name, F1, F2) are endpoint recordings, drawn as rings in the
    first's and the last's colours. A stimulus Praat found no F1 or F2 on is left out. Drawn
    with Pillow, as :func:`draw_sheet` is.

    Examples
    --------
    >>> draw_vowel_plane("formants.png", [280, 500, 720], [2300, 1700, 1100], ["0", "1", "2"])   # doctest: +SKIP
    """
    from PIL import Image, ImageDraw, ImageFont

    from stimgen.signal.phonetics import hz_to_bark

    f1, f2 = np.asarray(f1_hz, dtype=np.float64), np.asarray(f2_hz, dtype=np.float64)
    shown = np.isfinite(f1) & np.isfinite(f2)
    points = [(float(hz_to_bark(a)), float(hz_to_bark(b))) for a, b in zip(f1[shown], f2[shown])]
    rings = [(name, float(hz_to_bark(a)), float(hz_to_bark(b))) for name, a, b in files
             if np.isfinite(a) and np.isfinite(b)]
    z1 = [p[0] for p in points] + [r[1] for r in rings]
    z2 = [p[1] for p in points] + [r[2] for r in rings]
    if not z1:
        raise StimgenError("no stimulus has a measured F1 and F2 to draw")
    (lo1, hi1), (lo2, hi2) = (_span(z1), _span(z2))
    width, height, left, right, top, bottom = 560, 480, 80, 24, 40 if title else 16, 48
    box = (left, top, width - right, height - bottom)

    def xy(b1: float, b2: float) -> tuple[float, float]:  # F2 high at the left, F1 low at the top
        return (box[0] + (hi2 - b2) / (hi2 - lo2) * (box[2] - box[0]),
                box[1] + (b1 - lo1) / (hi1 - lo1) * (box[3] - box[1]))

    font = ImageFont.load_default(size=12)
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    if title:
        draw.text((8, 10), title, fill="black", font=font)
    draw.rectangle(box, outline="black")
    for hz in VOWEL_TICKS_HZ:
        b = float(hz_to_bark(hz))
        if lo2 <= b <= hi2:
            x = xy(lo1, b)[0]
            draw.line([(x, box[3]), (x, box[3] + 4)], fill="black")
            draw.text((x, box[3] + 6), f"{hz}", fill="black", font=font, anchor="ma")
        if lo1 <= b <= hi1:
            y = xy(b, hi2)[1]
            draw.line([(box[0] - 4, y), (box[0], y)], fill="black")
            draw.text((box[0] - 6, y), f"{hz}", fill="black", font=font, anchor="rm")
    draw.text(((box[0] + box[2]) / 2, height - 16), "F2 (Hz, Bark-spaced)", fill="black", font=font, anchor="ma")
    draw.text((8, (box[1] + box[3]) / 2), "F1 (Hz)", fill="black", font=font, anchor="lm")
    centres = [xy(b1, b2) for b1, b2 in points]
    if joined and len(centres) > 1:
        draw.line(centres, fill=(150, 150, 150), width=1)
    for k, (x, y), label in zip(np.flatnonzero(shown), centres, np.asarray(labels, dtype=object)[shown]):
        w = k / max(1, len(f1) - 1)  # the colour of its place among all the stimuli
        colour = tuple(int(round((1 - w) * a + w * b)) for a, b in zip(FIRST_RGB, LAST_RGB))
        draw.ellipse([x - 4, y - 4, x + 4, y + 4], fill=colour)
        draw.text((x + 6, y - 6), str(label), fill="black", font=font, anchor="ld")
    for k, (name, b1, b2) in enumerate(rings):
        x, y = xy(b1, b2)
        colour = FIRST_RGB if k == 0 else LAST_RGB
        draw.ellipse([x - 9, y - 9, x + 9, y + 9], outline=colour, width=2)
        right_half = x > (box[0] + box[2]) / 2  # the file's name inside the box
        draw.text((x - 11 if right_half else x + 11, y + 4), name, fill=colour, font=font,
                  anchor="ra" if right_half else "la")
    image.save(path)


def _span(values: Sequence[float], least: float = 2.0) -> tuple[float, float]:
    """An axis's range (Bark) around ``values``: 0.4 Bark beyond them, at least ``least`` wide."""
    lo, hi = min(values) - 0.4, max(values) + 0.4
    grow = max(0.0, least - (hi - lo)) / 2
    return lo - grow, hi + grow


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
