"""Representations: how a model sees its data, one class per representation.

A model's config.json names its representation (``data.representation``; model folders written
before that field existed are read by their ``data.kind``: ``mel`` for audio, ``pixels`` for
images). Everything that turns files into a model's items and items into stimuli asks the
representation (see :class:`~stimgen.representations.representation.Representation`).

Adding one is a new module with a subclass of ``Representation`` and a line in :data:`REGISTRY`.
A sound representation holds a vocoder (:mod:`stimgen.representations.vocoder`): ``mel-world`` is
``mel``'s items with the WORLD vocoder, and a model's ``data.vocoder`` may name any of
:data:`~stimgen.representations.vocoders.VOCODERS`.

Examples
--------
>>> rep = from_config({"kind": "image", "image": {"size": [32, 32], "mode": "gray"}})
>>> rep.name, rep.item_shape
('pixels', (1, 32, 32))
"""

from __future__ import annotations

import os

from stimgen.errors import StimgenError
from stimgen.representations.envelope import WorldEnvelope
from stimgen.representations.mel import MelSpectrogram, MelWorld
from stimgen.representations.pixels import Pixels
from stimgen.representations.representation import RenderPlan, RenderSettings, Representation
from stimgen.representations.vocoders import VOCODERS

#: Every representation, by the name saved in config.json.
REGISTRY: dict[str, type[Representation]] = {"mel": MelSpectrogram, "mel-world": MelWorld, "pixels": Pixels,
                                             "world": WorldEnvelope}
#: The representation a data set of each medium is trained on by default.
DEFAULTS = {"audio": "mel", "image": "pixels"}

__all__ = ["DEFAULTS", "REGISTRY", "VOCODERS", "MelSpectrogram", "MelWorld", "Pixels", "RenderPlan", "RenderSettings",
           "Representation", "WorldEnvelope", "for_dataset", "from_config"]


def from_config(data, path: str | os.PathLike | None = None) -> Representation:
    """The representation that a model's config.json ``data`` section describes; ``path`` (the
    config.json) names the file in the error when the section cannot be read."""
    if data is None:
        raise StimgenError("model config.json does not say what data it was trained on (data.kind)", path=path)
    kind = data.get("kind") if isinstance(data, dict) else None
    if kind not in DEFAULTS:
        raise StimgenError("data.kind must be 'audio' or 'image' (what the model was trained on)", path=path)
    name = data.get("representation", DEFAULTS[kind])
    if name not in REGISTRY or REGISTRY[name].medium != kind:
        raise StimgenError(f"data.representation {name!r} is not one of the {kind} representations "
                           f"({', '.join(n for n, r in REGISTRY.items() if r.medium == kind)})", path=path)
    try:
        return REGISTRY[name].from_config(data)
    except StimgenError as exc:
        raise StimgenError(exc.problem, path=path) from None


def for_dataset(ds, size: int | None = None, name: str | None = None) -> Representation:
    """Representation ``name`` (None: the default of the data set's medium, :data:`DEFAULTS`) to
    train on ``ds`` with, its items ``size`` x ``size`` pixels (None: the data set's own settings
    or size)."""
    name = name or DEFAULTS[ds.medium]
    if name not in REGISTRY or REGISTRY[name].medium != ds.medium:
        raise StimgenError(f"representation {name!r} cannot hold {ds.medium} data; choose from "
                           f"{', '.join(n for n, r in REGISTRY.items() if r.medium == ds.medium)}", path=ds.root)
    return REGISTRY[name].for_dataset(ds, size)
