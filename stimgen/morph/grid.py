"""Grids spanned by three or four anchor stimuli: a vowel triangle or quadrilateral, a face space.

Four anchors A, B, C, D sit at the corners (u, v) = (0, 0), (1, 0), (0, 1), (1, 1) and the codes
are interpolated bilinearly: z = (1-u)(1-v) A + u(1-v) B + (1-u) v C + u v D, on ``steps`` x
``steps`` points. Three anchors span a triangle, z = A + u (B - A) + v (C - A) for u + v <= 1:
``steps`` points along each side, steps (steps + 1) / 2 in all.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from stimgen.errors import StimgenError
from stimgen.morph.domain import Domain
from stimgen.morph.stimuli import StimulusSet, check_count
from stimgen.options import GRID_STEPS, SEED


def grid_weights(n_anchors: int, steps: int) -> tuple[np.ndarray, np.ndarray]:
    """Grid positions (M, 2) as (u, v) and the anchors' weights (M, n_anchors) at each.

    Examples
    --------
    >>> uv, w = grid_weights(3, 2)
    >>> uv.tolist(), w.tolist()
    ([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]], [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    """
    if n_anchors not in (3, 4):
        raise StimgenError(f"a grid needs 3 or 4 anchors, got {n_anchors}")
    if not isinstance(steps, (int, np.integer)) or steps < 2:
        raise StimgenError(f"a grid needs at least 2 steps per side, got {steps!r}")
    check_count(steps * steps if n_anchors == 4 else steps * (steps + 1) // 2,
                f"a {n_anchors}-anchor grid with --steps {steps}")
    ticks = np.linspace(0.0, 1.0, steps)
    uv = np.array([(u, v) for v in ticks for u in ticks if n_anchors == 4 or u + v <= 1.0 + 1e-9])
    u, v = uv[:, 0], uv[:, 1]
    if n_anchors == 4:
        weights = np.stack([(1 - u) * (1 - v), u * (1 - v), (1 - u) * v, u * v], axis=1)
    else:
        weights = np.stack([1 - u - v, u, v], axis=1)
    return np.round(uv, 4), np.clip(weights, 0.0, 1.0)


def grid(model, anchors: list[str | os.PathLike], steps: int = GRID_STEPS, seed: int = SEED,
         f0: str | float | None = None, onset: float | list[float | None] | None = None) -> StimulusSet:
    """Stimuli on a grid between 3 or 4 anchor files (see the module's docstring for the layout).

    Parameters
    ----------
    model : StimModel
        A loaded model (:func:`stimgen.load_model`).
    anchors : list of str or os.PathLike
        3 or 4 files, A, B, C (and D), at the corners (u, v) = (0, 0), (1, 0), (0, 1) (and (1, 1)).
    steps : int
        Points along each side of the grid (at least 2).
    seed : int
        Seed of the phase reconstruction of audio, recorded in the set's settings.
    f0 : str or float or None
        WORLD models only: ``"interpolate"`` (the default) mixes the anchors' F0 by the grid
        weights (log scale), ``"a"`` ... ``"d"`` uses one anchor's contour, a number holds that F0.
    onset : float or list or None
        The window of long sounds, as in :func:`stimgen.morph.continuum.continuum`.

    Returns
    -------
    StimulusSet
        The stimuli of kind ``"grid"``, with a table row each: ``name`` (``grid_r{row}_c{col}``),
        ``row``, ``col``, ``grid_u``, ``grid_v`` and each anchor's weight ``weight_a``, ``weight_b``, ...

    Raises
    ------
    StimgenError
        For other than 3 or 4 anchors, fewer than 2 steps, more stimuli than a set may hold, an
        ``f0`` the model cannot use, anchor files that cannot be read, or two anchors that decode
        to the same stimulus.

    Examples
    --------
    >>> from stimgen import load_model
    >>> g = grid(load_model("vowels"), ["iy.wav", "aa.wav", "uw.wav"], steps=5)   # doctest: +SKIP
    """
    uv, weights = grid_weights(len(anchors), steps)
    domain = Domain(model)
    anchors = [Path(a) for a in anchors]
    domain.representation.check_f0(f0)
    z_anchor = domain.encode(domain.load_files(anchors, onset))
    _check_distinct(anchors, domain.decode(z_anchor))
    z = weights @ z_anchor
    rows = np.round(uv[:, 1] * (steps - 1)).astype(int)
    cols = np.round(uv[:, 0] * (steps - 1)).astype(int)
    table = pd.DataFrame({"name": [f"grid_r{r}_c{c}" for r, c in zip(rows, cols)], "row": rows, "col": cols,
                          "grid_u": uv[:, 0], "grid_v": uv[:, 1]})
    for i in range(len(anchors)):
        table[f"weight_{'abcd'[i]}"] = np.round(weights[:, i], 4)
    plan = domain.representation.plan(domain.decode(z), anchors, weights, f0)
    settings = {"verb": "grid", "anchors": [str(a) for a in anchors], "steps": int(steps), "seed": int(seed),
                **plan.settings}
    return StimulusSet(domain, "grid", plan, z, table, settings, inputs=anchors)


def _check_distinct(anchors: list[Path], items: np.ndarray) -> None:
    """Refuse anchors of which two decode to the same stimulus (as a continuum refuses such
    endpoints): the grid would repeat a stimulus along a whole side."""
    for i in range(len(anchors)):
        for j in range(i + 1, len(anchors)):
            if np.max(np.abs(items[i] - items[j])) <= 1e-6:
                raise StimgenError(f"anchors {'ABCD'[i]} and {'ABCD'[j]} decode to the same stimulus: there is no "
                                   "distance to divide between them; give different anchors", path=anchors[j])
