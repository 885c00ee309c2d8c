"""Preview sheets: a labelled grid of spectrograms or images, saved as one PNG.

Figures are matplotlib ``Figure`` objects drawn off screen (:func:`figure`), never through pyplot:
importing stimgen chooses no backend, so a notebook's own plotting is left as it is.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np
from matplotlib.figure import Figure


def figure(**kwargs) -> Figure:
    """A matplotlib figure for a file (``fig.savefig``), with no GUI backend and nothing to close.

    Examples
    --------
    >>> fig = figure(figsize=(2, 2))
    >>> ax = fig.subplots()
    """
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
    """Save a grid of ``items`` with a title over each.

    ``style="spectrogram"``: (n_mels, n_frames) images in [0, 1], low frequencies at the bottom,
    drawn with the magma colour map; ``extent`` (t0, t1, f0, f1) labels the first panel's axes
    in seconds and kHz. ``style="image"``: (H, W) or (H, W, 3) images in [0, 1].
    """
    n = len(items)
    ncols = max(1, min(ncols, n))
    nrows = int(np.ceil(n / ncols))
    fig = figure(figsize=(1.6 * ncols, 1.75 * nrows + 0.5))
    axes = fig.subplots(nrows, ncols, squeeze=False)
    for ax in axes.ravel():
        ax.set_axis_off()
    for i, (item, label) in enumerate(zip(items, titles)):
        ax = axes.ravel()[i]
        if style == "spectrogram":
            ax.imshow(item, origin="lower", aspect="auto", cmap="magma", vmin=0.0, vmax=1.0,
                      interpolation="nearest")
        else:
            ax.imshow(item, cmap="gray" if item.ndim == 2 else None, vmin=0.0, vmax=1.0,
                      interpolation="nearest")
        ax.set_title(label, fontsize=7)
    if style == "spectrogram" and extent is not None:
        ax = axes[0, 0]
        ax.set_axis_on()
        shape = items[0].shape
        ax.set_xticks([0, shape[1] - 1], [f"{extent[0]:g}", f"{extent[1]:.2f} s"], fontsize=6)
        ax.set_yticks([0, shape[0] - 1], [f"{extent[2]:g} Hz", f"{extent[3] / 1e3:g} kHz"], fontsize=6)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
