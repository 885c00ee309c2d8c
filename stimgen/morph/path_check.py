"""How even a continuum's path came out, judged on its written steps as the manifest measures them.

Faithful ends (:mod:`stimgen.morph.ends`) make a continuum's end steps the user's files; they do
not make the model's path between them the speaker's or the bird's. For speech, the steps' (F1,
F2) in Bark: how even the steps are and whether F1/F2 turn back (:func:`path_evenness`,
:func:`path_advice`); for birdsong, whether the song pitch moves from one end's to the other's
or jumps (:func:`pitch_path`, :func:`pitch_advice`). :func:`stimgen.export.export` warns with
:func:`uneven_path`'s line where a written continuum's path is uneven (docs/morph.md#uneven-paths);
a notebook can call the same functions on a manifest.csv.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from stimgen.options import PATH_JUMP_X_MEAN, PATH_MOVES_BARK, PATH_REVERSAL_BARK


def path_evenness(barks: np.ndarray) -> dict | None:
    """How even a speech continuum's path is, from its steps' (F1, F2) in Bark (N, 2), as the
    manifest measures them on the written files; None where a step has no F1/F2 or there are
    fewer than three steps.

    ``bark_cv``: SD / mean of the neighbour steps (Euclidean, Bark); ``largest_x_mean`` and
    ``largest_at``: the largest step over the mean, and the step it starts from; for F1 and F2,
    where the formant moves at least :data:`~stimgen.options.PATH_MOVES_BARK` from end to end,
    ``f1_turns_back_bark`` (``f2_...``) and ``f1_turns_back_at``: the largest step against its
    overall direction and the step it starts from (0 and None where it never turns back).

    Examples
    --------
    >>> f1 = np.array([3.0, 3.4, 3.8, 3.4, 5.0])           # F1 turns back once, then jumps
    >>> p = path_evenness(np.column_stack([f1, np.full(5, 12.0)]))
    >>> p["f1_turns_back_bark"], p["f1_turns_back_at"], p["largest_x_mean"], p["largest_at"]
    (0.4, 2, 2.2857, 3)
    """
    barks = np.asarray(barks, dtype=np.float64)
    if len(barks) < 3 or not np.all(np.isfinite(barks)):
        return None
    steps = np.linalg.norm(np.diff(barks, axis=0), axis=1)
    mean = float(steps.mean())
    if mean == 0.0:
        return None
    out = {"bark_cv": round(float(steps.std() / mean), 4), "largest_x_mean": round(float(steps.max() / mean), 4),
           "largest_at": int(np.argmax(steps))}
    for j, name in enumerate(("f1", "f2")):
        total = barks[-1, j] - barks[0, j]
        if abs(total) >= PATH_MOVES_BARK:
            back = -np.sign(total) * np.diff(barks[:, j])
            turns = back.max() > 0
            out[f"{name}_turns_back_bark"] = round(float(back.max()), 4) if turns else 0.0
            out[f"{name}_turns_back_at"] = int(np.argmax(back)) if turns else None
    return out


def path_advice(evenness: dict, jumps: bool = True) -> str | None:
    """The warning line for an uneven path (:func:`path_evenness`), or None where it is even: a
    step more than :data:`~stimgen.options.PATH_JUMP_X_MEAN` times the mean (unless ``jumps`` is
    False), or F1/F2 turning back by more than :data:`~stimgen.options.PATH_REVERSAL_BARK`.

    Examples
    --------
    >>> path_advice({"bark_cv": 0.6, "largest_x_mean": 2.9, "largest_at": 8})[:62]
    'the path is uneven: the step from 8 to 9 is 2.9x the mean step'
    """
    said = []
    if jumps and evenness["largest_x_mean"] > PATH_JUMP_X_MEAN:
        k = evenness["largest_at"]
        said.append(f"the step from {k} to {k + 1} is {evenness['largest_x_mean']:.1f}x the mean step")
    for name in ("f1", "f2"):
        back = evenness.get(f"{name}_turns_back_bark", 0.0)
        if back > PATH_REVERSAL_BARK:
            k = evenness[f"{name}_turns_back_at"]
            said.append(f"{name.upper()} turns back {back:.2f} Bark from step {k} to {k + 1}")
    if not said:
        return None
    return (f"the path is uneven: {'; '.join(said)} (the manifest's F1/F2 in Bark; CV of the steps "
            f"{evenness['bark_cv']:.2f}): the steps are not this voice's vowels evenly between its ends; listen to "
            "those steps before an experiment uses them (docs/morph.md#uneven-paths)")


def pitch_path(pitch_hz: np.ndarray) -> dict | None:
    """How a song continuum's pitch moves between its ends, from its steps' song pitch (Hz, NaN
    where Praat finds none), as the manifest measures it on the written files; None where there
    are fewer than three steps, an end has no pitch, or the ends lie within a semitone.

    ``ends_hz``: the two ends' pitch; ``unpitched``: the steps between where Praat finds none;
    where every step has one, ``largest_x_mean`` and ``largest_at``: the largest step (in
    semitones) over the mean, and the step it starts from.

    Examples
    --------
    >>> pitch_path(np.array([1120.0, 1115.0, np.nan, np.nan, 396.0, 395.0]))["unpitched"]
    [2, 3]
    >>> pitch_path(np.array([1120.0, 1118.0, 1115.0, 397.0, 396.0, 395.0]))["largest_x_mean"]
    4.9543
    """
    pitch = np.asarray(pitch_hz, dtype=np.float64)
    if len(pitch) < 3 or not np.all(np.isfinite(pitch[[0, -1]])) or abs(12 * np.log2(pitch[-1] / pitch[0])) < 1:
        return None
    out: dict = {"ends_hz": [round(float(pitch[0]), 1), round(float(pitch[-1]), 1)],
                 "unpitched": [int(k) for k in np.flatnonzero(~np.isfinite(pitch))]}
    if not out["unpitched"]:
        steps = np.abs(np.diff(12 * np.log2(pitch)))
        out.update(largest_x_mean=round(float(steps.max() / steps.mean()), 4), largest_at=int(np.argmax(steps)))
    return out


def pitch_advice(path: dict, jumps: bool = True) -> str | None:
    """The warning line for a song continuum whose pitch does not move step by step from one end's
    to the other's (:func:`pitch_path`): Praat finds none on steps between, or one step is more
    than :data:`~stimgen.options.PATH_JUMP_X_MEAN` times the mean (unless ``jumps`` is False);
    None where it does.

    Examples
    --------
    >>> pitch_advice({"ends_hz": [1120.0, 395.0], "unpitched": [4, 5, 6, 7]})[:96]
    'the pitch does not morph: Praat finds none on steps 4, 5, 6, 7, between ends of 1,120 and 395 Hz'
    """
    if path["unpitched"]:
        said = f"Praat finds none on steps {', '.join(map(str, path['unpitched']))}"
    elif jumps and path["largest_x_mean"] > PATH_JUMP_X_MEAN:
        k = path["largest_at"]
        said = f"the step from {k} to {k + 1} is {path['largest_x_mean']:.1f}x the mean step (in semitones)"
    else:
        return None
    a, b = path["ends_hz"]
    return (f"the pitch does not morph: {said}, between ends of {a:,.0f} and {b:,.0f} Hz (the manifest's pitch_hz). "
            "This path holds no sounds of the pitches between; listen to those steps before an experiment uses "
            "them (docs/morph.md#uneven-paths)")


def uneven_path(manifest: pd.DataFrame, rep, jumps: bool = True) -> str | None:
    """The warning line for a written continuum (its ``manifest``, as measured on the files) of
    representation ``rep`` whose path is uneven: speech by (F1, F2) in Bark (:func:`path_advice`),
    birdsong by its song pitch (:func:`pitch_advice`); None where it is even or there is nothing
    to judge (other sounds, images, steps Praat could not measure). ``jumps=False`` leaves out
    the rule on the largest step, for steps placed where the caller asked (``stimgen respace``
    spaces them by a listener's responses, unevenly on purpose); F1/F2 turning back and steps
    without pitch are still said.

    Examples
    --------
    >>> rep = Domain(load_model("vowels")).representation                    # doctest: +SKIP
    >>> uneven_path(pd.read_csv("i-a/manifest.csv"), rep)                    # doctest: +SKIP
    """
    if rep.speech and {"f1_bark", "f2_bark"} <= set(manifest.columns):
        path, advice = path_evenness(manifest[["f1_bark", "f2_bark"]].to_numpy()), path_advice
    elif rep.song and "pitch_hz" in manifest.columns:
        path, advice = pitch_path(manifest["pitch_hz"].to_numpy()), pitch_advice
    else:
        return None
    return None if path is None else advice(path, jumps=jumps)
