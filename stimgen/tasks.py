"""Discrimination tasks over a continuum: pairs of steps, their counterbalanced trial orders, the
right answer of each trial, and trials written as one sound file each.

A pair is two steps ``pair_step`` apart, A the lower (``step_a``) and B the higher (``step_b``).
Every order of a task is presented equally often for every pair (``reps`` times each):

- ``ax`` (same-different): AB and BA (different), AA and BB (same: the catch trials); the
  answer is ``same`` or ``different``.
- ``abx``: ABA, ABB, BAA, BAB: A and B in either order, then X, which is one of them; the answer
  is the interval X matches, ``1`` or ``2``.
- ``oddity`` (3-interval): the odd one in each of the three positions, A odd (ABB, BAB, BBA) and
  B odd (BAA, ABA, AAB); the answer is the odd interval, ``1``, ``2`` or ``3``.
- ``2ifc``: AB and BA; the answer is the interval that was more like B (the higher step), ``1``
  or ``2``.

:func:`trial_list` builds the list, shuffled with a seed, optionally with a level roving per
interval; :func:`write_trial_files` writes each trial as one WAV (A, silence, X, ...) so that the
inter-stimulus interval is exact to the sample in any player.

Examples
--------
>>> correct_answer("abx", "BAA"), correct_answer("oddity", "ABB"), correct_answer("2ifc", "BA")
('2', '1', '1')
"""

from __future__ import annotations

import numbers
import os
from pathlib import Path

import numpy as np
import pandas as pd

from stimgen.errors import StimgenError
from stimgen.options import DISCRIMINATION_TASKS, MAX_ROVE_DB, PAIR_STEP

#: Every task's orders of A and B, one string per trial order (the intervals in time order).
ORDERS = {
    "ax": ("AB", "BA", "AA", "BB"),
    "abx": ("ABA", "ABB", "BAA", "BAB"),
    "oddity": ("BAA", "ABA", "AAB", "ABB", "BAB", "BBA"),
    "2ifc": ("AB", "BA"),
}
#: Every task's answers, as the data files hold them (the page's buttons and the script's keys in this order).
ANSWERS = {"ax": ("same", "different"), "abx": ("1", "2"), "oddity": ("1", "2", "3"), "2ifc": ("1", "2")}


def intervals(task: str) -> int:
    """How many stimuli a trial of ``task`` presents."""
    return len(ORDERS[task][0])


def correct_answer(task: str, order: str) -> str:
    """The right answer to a trial of ``task`` presenting ``order`` (see the module's docstring)."""
    if task == "ax":
        return "same" if order[0] == order[1] else "different"
    if task == "abx":
        return "1" if order[2] == order[0] else "2"
    if task == "oddity":
        return str(next(i + 1 for i, c in enumerate(order) if order.count(c) == 1))
    return str(order.index("B") + 1)  # 2ifc


def check_task(task) -> str:
    """``task`` if it is a discrimination task, else one :class:`StimgenError`."""
    if task not in DISCRIMINATION_TASKS:
        raise StimgenError(f"task must be one of {', '.join(DISCRIMINATION_TASKS)}, got {task!r}")
    return task


def pairs(manifest: pd.DataFrame, pair_step: int = PAIR_STEP) -> list[tuple[int, int]]:
    """The pairs of a continuum's manifest: rows ``(i, i + pair_step)`` in the manifest's order of steps."""
    n = len(manifest)
    if isinstance(pair_step, bool) or not isinstance(pair_step, numbers.Integral) or not 1 <= pair_step < n:
        raise StimgenError(f"--pair-step must be a whole number from 1 to {n - 1} (the continuum has {n} steps), "
                           f"got {pair_step!r}")
    return [(i, i + int(pair_step)) for i in range(n - int(pair_step))]


def trial_list(manifest: pd.DataFrame, task: str, pair_step: int = PAIR_STEP, reps: int = 10, seed: int = 0,
               rove_db: float = 0.0, continuum: str = "") -> pd.DataFrame:
    """Every trial of ``task`` over the continuum's ``manifest`` in the order they run.

    Every order of the task (:data:`ORDERS`) for every pair, ``reps`` times, shuffled with
    ``seed``; with ``rove_db`` > 0 every interval's level moves by a gain drawn uniformly from
    [-rove_db, +rove_db] dB (rounded to 0.01 dB, the value applied and recorded).

    Returns
    -------
    pd.DataFrame
        One row per trial, as PsychoPy's ``importConditions`` loads it: ``trial`` (from 1),
        ``task``, ``order``, ``step_a``, ``step_b``, ``level_a``, ``level_b``, then per interval i
        ``stim_i`` and ``level_i`` (and ``rove_db_i``), ``correct_answer`` and ``continuum`` (the
        manifest's tag, so that data carry the continuum they are of).
    """
    task = check_task(task)
    if not (isinstance(rove_db, numbers.Real) and 0 <= rove_db <= MAX_ROVE_DB):
        raise StimgenError(f"--rove-db must be a number of dB from 0 to {MAX_ROVE_DB:g}, got {rove_db!r}")
    rng = np.random.default_rng(seed)
    rows = []
    steps, files, levels = (manifest[c].tolist() for c in ("step", "stim_file", "morph_level"))
    for a, b in pairs(manifest, pair_step):
        which = {"A": a, "B": b}
        for order in ORDERS[task]:
            row = {"task": task, "order": order, "step_a": int(steps[a]), "step_b": int(steps[b]),
                   "level_a": float(levels[a]), "level_b": float(levels[b])}
            for i, letter in enumerate(order, start=1):
                row[f"stim_{i}"] = str(files[which[letter]])
                row[f"level_{i}"] = float(levels[which[letter]])
            rows.append(row)
    base = pd.DataFrame(rows * int(reps))
    table = base.iloc[rng.permutation(len(base))].reset_index(drop=True)
    if rove_db > 0:
        gains = np.round(rng.uniform(-rove_db, rove_db, size=(len(table), intervals(task))), 2)
        for i in range(intervals(task)):
            table[f"rove_db_{i + 1}"] = gains[:, i]
    table["correct_answer"] = [correct_answer(task, order) for order in table["order"]]
    table["continuum"] = continuum
    table.insert(0, "trial", np.arange(1, len(table) + 1))
    return table


def isi_samples(isi_ms: float, sr: int) -> int:
    """The inter-stimulus interval in whole samples at ``sr`` (the nearest)."""
    return int(round(isi_ms * sr / 1000.0))


def write_trial_files(trials: pd.DataFrame, stimuli: str | os.PathLike, out: str | os.PathLike, isi_ms: float,
                      sr: int) -> list[str]:
    """Write every trial as one 16-bit WAV in ``out``: its intervals' stimuli (files under
    ``stimuli``, each scaled by its ``rove_db_i`` when the list has them) with
    :func:`isi_samples` of digital silence between them. Without roving the samples are the
    stimuli's own, bit for bit. Returns the files' names relative to ``out``'s parent
    (``trials/trial_0001.wav``, ...), in the list's order.

    Raises
    ------
    StimgenError
        A stimulus that is not 16-bit mono at ``sr``, or a roving gain that would clip one.
    """
    import soundfile as sf

    stimuli, out = Path(stimuli), Path(out)
    out.mkdir(parents=True, exist_ok=True)
    gap = np.zeros(isi_samples(isi_ms, sr), dtype=np.int16)
    cache: dict[str, np.ndarray] = {}
    n = intervals(str(trials["task"].iloc[0]))
    names = []
    for row in trials.to_dict("records"):
        parts = []
        for i in range(1, n + 1):
            name = row[f"stim_{i}"]
            if name not in cache:
                cache[name] = _read_int16(stimuli / name, sr)
            samples = cache[name]
            gain_db = float(row.get(f"rove_db_{i}", 0.0))
            if gain_db:
                scaled = np.round(samples.astype(np.float64) * 10 ** (gain_db / 20))
                if np.abs(scaled).max() > 32767:
                    raise StimgenError(f"trial {row['trial']}: roving {gain_db:+.2f} dB would clip it (peak "
                                       f"{20 * np.log10(np.abs(scaled).max() / 32768):+.2f} dBFS); rove less or "
                                       "write the continuum at a lower --level", path=stimuli / name)
                samples = scaled.astype(np.int16)
            parts += [samples, gap] if i < n else [samples]
        name = f"{out.name}/trial_{row['trial']:04d}.wav"
        sf.write(out / f"trial_{row['trial']:04d}.wav", np.concatenate(parts), int(sr), subtype="PCM_16",
                 format="WAV")
        names.append(name)
    return names


def _read_int16(path: Path, sr: int) -> np.ndarray:
    import soundfile as sf

    try:
        info = sf.info(str(path))
        samples, rate = sf.read(str(path), dtype="int16")
    except (OSError, RuntimeError) as exc:
        raise StimgenError(f"cannot be read ({exc.__class__.__name__}: {exc})", path=path) from None
    if rate != sr or samples.ndim != 1 or info.subtype != "PCM_16":
        raise StimgenError(f"is not 16-bit mono at {sr} Hz ({info.subtype}, {info.channels} channel(s), {rate} Hz): "
                           "a trial file joins the continuum's own samples", path=path)
    return samples
