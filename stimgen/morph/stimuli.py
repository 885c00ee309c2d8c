"""A set of stimuli in a model's space, before it is written: what every morph verb returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from stimgen.errors import StimgenError
from stimgen.morph.domain import Domain

#: The most stimuli one set may hold. More is a design for several commands, and would fill the
#: memory (each stimulus is decoded, inverted to sound and measured).
MAX_STIMULI = 1000


def check_count(n: int, what: str) -> None:
    """Refuse a set of ``n`` stimuli beyond :data:`MAX_STIMULI`, before any of them is made.

    Examples
    --------
    >>> check_count(11, "--steps 11")
    """
    if n > MAX_STIMULI:
        raise StimgenError(f"{what} would make {n:,} stimuli; one set holds at most {MAX_STIMULI:,}: "
                           "split the design over several commands")


@dataclass
class StimulusSet:
    """Stimuli as model items, with one table row each and the settings that made them.

    ``domain`` is the model with its file conventions (:class:`~stimgen.morph.domain.Domain`).
    ``x`` (N, C, H, W) are the model's items and ``z`` (N, latent_dim) their codes. ``table`` holds
    a ``name`` per stimulus (its file name without extension) and the columns particular to the
    verb (``step``, ``morph_level``, ``latent_t`` for a continuum, ...). ``sources[i]`` names a
    file written as it is instead of item i (``--endpoints original``). ``baseline``, when given,
    is an unedited item against which :func:`stimgen.export.export` measures the changes of an
    edit. ``voices[i]`` is stimulus i's voice (F0, aperiodicity) where the representation keeps one
    (WORLD), ``baseline_voice`` the baseline's. ``inputs`` are the files the set came from;
    ``settings`` everything that made it.
    Pass the set to :func:`stimgen.export.export` to write it.
    """

    domain: Domain
    verb: str
    x: np.ndarray
    z: np.ndarray
    table: pd.DataFrame
    settings: dict
    inputs: list[Path] = field(default_factory=list)
    sources: list[Path | None] | None = None
    baseline: np.ndarray | None = None
    voices: list | None = None
    baseline_voice: object | None = None

    def __len__(self) -> int:
        return len(self.x)
