"""Stimuli on demand: the stimulus at any morph level of a written continuum, made between trials.

An adaptive procedure (a staircase, QUEST) asks for a stimulus at whatever level it picks, not
one of a continuum's files. :class:`Continuum` reopens a continuum folder (``stimgen continuum``
or ``respace``) with all that made its files: the same model (its sha256), the same ends, the
endpoints' voices and F0 policy, the same render settings; a ``morph_level`` goes to the latent
path through the continuum's own ``path_map``, and each stimulus is made by the functions that
made the files, so it is the file ``stimgen continuum`` would write at that level. Every call is
logged (:attr:`Continuum.log`, :meth:`Continuum.save_log`) so that the data file can be joined
with the stimuli its trials heard.

Opening takes seconds (the endpoints' voices are analysed by WORLD, and one stimulus is made so
that the first call is as fast as the rest); a sound then takes the model's decoder (a copy
made for one code at a time, :class:`~stimgen.morph.domain.OneAtATime`), WORLD's synthesis and a few milliseconds more:
``experiments/bench_on_demand.py`` measures it, docs/psychopy.md gives the figures.

Examples
--------
>>> c = Continuum.open("i-a")                                   # doctest: +SKIP
>>> snd = sound.Sound(value=c.sound(0.37), sampleRate=c.sr)     # doctest: +SKIP
>>> c.save_log("p01_stimuli.csv")                               # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import numbers
import os
import time
from collections import OrderedDict
from pathlib import Path

import numpy as np
import pandas as pd

from stimgen.errors import StimgenError
from stimgen.morph.continuum import latent_path, remade_with
from stimgen.morph.domain import OneAtATime
from stimgen.morph.ends import fit_ends
from stimgen.signal.image import to_uint8
from stimgen.stimulus_folder import StimulusFolder, read_folder

#: The columns of :attr:`Continuum.log` and of the CSV :meth:`Continuum.save_log` writes.
LOG_COLUMNS = ("call", "morph_level", "latent_t", "code", "time", "ms")
#: Stimuli a :class:`Continuum` keeps, the last asked for (about 100 kB each for a 0.5 s sound at 48 kHz).
KEPT = 64


class Continuum:
    """A written continuum that makes its stimulus at any morph level; open it with :meth:`open`.

    ``sr`` is the sample rate of :meth:`sound` (Hz; None for images); ``log`` holds a dict per
    call (:data:`LOG_COLUMNS`): the call's number, the level asked for, the latent position it
    went to, the code (32 numbers, 9 significant digits, space-separated), when it was asked for
    (``time.time()``) and what making it took (``ms``).

    Examples
    --------
    >>> c = Continuum.open("i-a")          # doctest: +SKIP
    >>> y = c.sound(0.37)                  # doctest: +SKIP
    >>> c.log[-1]["latent_t"]              # doctest: +SKIP
    0.3581
    """

    def __init__(self, folder: StimulusFolder, model) -> None:
        """The continuum of ``folder`` (read and checked) made by ``model`` (the one it was made
        with); :meth:`open` does both."""
        record = folder.record
        self.path, self.medium = folder.path, record.medium
        self.log: list[dict] = []
        self._kept: OrderedDict[float, tuple[np.ndarray, float, np.ndarray]] = OrderedDict()
        self.sr = record.render.sr if record.medium == "audio" else None
        self._render, self._seed = record.render, record.seed
        self._a, self._b, made = remade_with(folder)
        self._domain = OneAtATime(model)
        self._path, self._f0, self._original = made["path"], made["f0"], made["endpoints"] == "original"
        self._own_hnr = made["own_hnr"]
        x_ends = self._domain.load_files([self._a, self._b], made["onset"])  # the windows the files were taken in
        self._ends = made["ends"] or dataclasses.replace(fit_ends(  # a folder written before it kept its ends:
            self._domain, x_ends, "reconstruct" if self._original else made["endpoints"], seed=self._seed,
            files=[self._a, self._b], f0=self._f0, own_hnr=self._own_hnr), starts=False)  # made again, as then
        if self._ends.decoder is not None:  # tuned ends: the domain's decoder takes the tuned weights, once
            self._domain.hold(self._ends.decoder)
            self._ends = dataclasses.replace(self._ends, decoder=None)
        rows = record.stimuli
        exact = ([row["morph_level"] for row in rows] if record.settings.get("spacing") == "given"
                 else np.linspace(0.0, 1.0, len(rows)).tolist())  # the levels the steps were made at, unrounded
        self._steps = {row["morph_level"]: (level, row["latent_t"]) for row, level in zip(rows, exact)}
        path_map = record.path_map or {"morph_level": [r["morph_level"] for r in rows],
                                       "latent_t": [r["latent_t"] for r in rows]}
        self._map = np.asarray(path_map["morph_level"], dtype=np.float64), np.asarray(path_map["latent_t"])
        self._make(0.5)  # warm: the first call of an experiment is as fast as the rest

    @classmethod
    def open(cls, folder: str | os.PathLike, model: str | os.PathLike | None = None) -> Continuum:
        """The continuum written in ``folder``, ready to make any of its levels.

        ``model``: the model's folder where it is not the one the record names. Refused with one
        line (:class:`StimgenError`) for a folder that is not a continuum, whose stimuli or
        manifest changed since it was written, whose endpoint files are not where it was made
        (paths as given to ``stimgen continuum``) or not the same, or a model whose sha256 is
        not the continuum's. Opening takes a few seconds (the endpoints' voices are analysed, one
        stimulus is made to warm up).

        Examples
        --------
        >>> c = Continuum.open("i-a")          # doctest: +SKIP
        """
        made = read_folder(folder, verb="continuum", what="a continuum folder")
        made.check_stimuli()
        made.check_inputs(made.found_inputs([made.record.settings["a"], made.record.settings["b"]]))
        return cls(made, made.load_model(model))

    def sound(self, level: float) -> np.ndarray:
        """The sound at morph level ``level`` in [0, 1]: float samples (n,) in [-1, 1] at
        :attr:`sr` Hz, with its ramps and level, for PsychoPy's ``sound.Sound(value=...,
        sampleRate=c.sr)``; the file ``stimgen continuum`` writes at that level to within the
        16-bit rounding of the file.

        Examples
        --------
        >>> snd = sound.Sound(value=c.sound(0.37), sampleRate=c.sr)   # doctest: +SKIP
        """
        return self._logged(level, "audio")

    def image(self, level: float) -> np.ndarray:
        """The image at morph level ``level`` in [0, 1], as PsychoPy's ``visual.ImageStim(image=...)``
        takes an array: float32 in [-1, 1] (black to white), (H, W) grey or (H, W, 3) colour, rows
        from the bottom up (``np.flipud`` of it is the PNG ``stimgen continuum`` writes at that
        level, its 8-bit values ``v`` as ``v / 127.5 - 1``). Give ImageStim a ``size``.

        Examples
        --------
        >>> stim = visual.ImageStim(win, image=c.image(0.37), size=(256, 256), units="pix")   # doctest: +SKIP
        """
        return np.flipud(to_uint8(self._logged(level, "image")) / np.float32(127.5) - np.float32(1.0))

    def save_log(self, path: str | os.PathLike) -> Path:
        """Write :attr:`log` as a CSV file (columns :data:`LOG_COLUMNS`, one row per call), to be
        joined with the data file by call order or ``morph_level``.

        Examples
        --------
        >>> c.save_log("data/p01_stimuli.csv")   # doctest: +SKIP
        PosixPath('data/p01_stimuli.csv')
        """
        pd.DataFrame(self.log, columns=list(LOG_COLUMNS)).to_csv(path, index=False, lineterminator="\n")
        return Path(path)

    def _logged(self, level: float, medium: str) -> np.ndarray:
        """The stimulus at ``level``, its call added to the log."""
        if medium != self.medium:
            raise StimgenError(f"holds {self.medium} stimuli: ask for them with "
                               f"{'sound' if self.medium == 'audio' else 'image'}(level)", path=self.path)
        asked, start = time.time(), time.perf_counter()
        stimulus, t, code = self._make(level)
        self.log.append({"call": len(self.log), "morph_level": float(level), "latent_t": t,
                         "code": " ".join(f"{v:.9g}" for v in code), "time": asked,
                         "ms": round(1000 * (time.perf_counter() - start), 2)})
        return stimulus

    def _make(self, level: float) -> tuple[np.ndarray, float, np.ndarray]:
        """The stimulus at ``level`` as :meth:`stimgen.morph.continuum.continuum` makes a step (its
        render), the latent position and the code; the last :data:`KEPT` made are kept, so that a
        level asked for again (a staircase's levels recur) is a copy of the one made before."""
        level, t = self._position(level)
        if level in self._kept:
            self._kept.move_to_end(level)
            stimulus, t, code = self._kept[level]
            return stimulus.copy(), t, code
        made = self._made(level, t)
        self._kept[level] = made
        if len(self._kept) > KEPT:
            self._kept.popitem(last=False)
        return made[0].copy(), made[1], made[2]

    def _made(self, level: float, t: float) -> tuple[np.ndarray, float, np.ndarray]:
        z = latent_path(*self._ends.codes, np.array([t]), self._path)
        x = self._ends.decode(self._domain, z, np.array([t]))
        ends = {0.0: [self._a], 1.0: [self._b]} if self._original else {}  # "original": the files are the ends
        rep = self._domain.representation
        plan = rep.plan(x, [self._a, self._b], np.array([[1.0 - level, level]]), self._f0, ends.get(level),
                        detail=self._ends.details(self._domain, [self._a, self._b], np.array([t])),
                        starts=self._ends.starts, own_hnr=self._own_hnr)
        return rep.render(plan, self._render, seed=self._seed)[0], t, z[0]

    def _position(self, level: float) -> tuple[float, float]:
        """The level a step is made at and its latent position: a step's own (its level as the
        manifest gives it stands for the unrounded one it was made at), else through the path map,
        to the 4 decimals the continuum keeps."""
        if isinstance(level, bool) or not isinstance(level, numbers.Real) or not 0.0 <= level <= 1.0:
            raise StimgenError(f"a level is a number in [0, 1] (a morph_level), got {level!r}", path=self.path)
        level = float(level)
        if level in self._steps:
            return self._steps[level]
        return level, round(float(np.interp(level, *self._map)), 4)
