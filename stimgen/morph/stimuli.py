"""A set of stimuli in a model's space, before it is written: what every morph verb returns."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from stimgen.errors import StimgenError
from stimgen.morph.domain import Domain
from stimgen.morph.ends import Ends
from stimgen.options import MAX_STIMULI
from stimgen.representations.representation import RenderPlan

__all__ = ["MAX_STIMULI", "StimulusSet", "check_count"]


def check_count(n: int, what: str, path: str | os.PathLike | None = None) -> None:
    """Refuse a set of ``n`` stimuli beyond :data:`stimgen.options.MAX_STIMULI`, before any of them
    is made; ``path`` names the file that asks for them.

    Examples
    --------
    >>> check_count(11, "--steps 11")
    """
    if n > MAX_STIMULI:
        raise StimgenError(f"{what} would make {n:,} stimuli; one set holds at most {MAX_STIMULI:,}: "
                           "split the design over several commands", path=path)


@dataclass
class StimulusSet:
    """Stimuli as model items, with one table row each and the settings that made them.

    ``domain`` is the model with its file conventions (:class:`~stimgen.morph.domain.Domain`).
    ``plan`` is what the model's representation makes the stimuli from
    (:meth:`~stimgen.representations.representation.Representation.plan`: the items, and whatever else it
    needs, opaque here; an edit's plan carries the unedited stimulus against which
    :func:`stimgen.export.export` measures the changes). ``z`` (N, latent_dim) are the items'
    codes. ``table`` holds a ``name`` per stimulus (its file name without extension) and the
    columns particular to the verb (``step``, ``morph_level``, ``latent_t`` for a continuum, ...).
    ``inputs`` are the files the set came from; ``settings`` everything that made it. A
    continuum's ``path_map`` gives the morph level at each latent position of its dense path
    (``{"latent_t": [...], "morph_level": [...]}``); ``state`` is what methods that change a
    continuum add to it. Both are kept in the folder's record
    (:class:`~stimgen.stimulus_folder.StimulusRecord`). A continuum's ``ends`` (its faithful-ends
    method's result, :class:`~stimgen.morph.ends.Ends`; a tuned decoder's weights are written
    beside the stimuli) and ``references`` (the endpoint files' items (2, C, H, W), against which
    the written first and last steps are measured).
    Pass the set to :func:`stimgen.export.export` to write it.
    """

    domain: Domain
    verb: str
    plan: RenderPlan
    z: np.ndarray
    table: pd.DataFrame
    settings: dict
    inputs: list[Path] = field(default_factory=list)
    path_map: dict | None = None
    state: dict = field(default_factory=dict)
    ends: Ends | None = None
    references: np.ndarray | None = None

    @property
    def x(self) -> np.ndarray:
        """The model's items (N, C, H, W)."""
        return self.plan.items

    def __len__(self) -> int:
        return len(self.plan)
