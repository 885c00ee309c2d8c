"""The vocoders a sound representation can hold, by the name a model's config.json saves
(``data.vocoder``, where it is not the representation's own; see :mod:`stimgen.representations.vocoder`).

Adding one is a new module with a subclass of :class:`~stimgen.representations.vocoder.Vocoder`
and a line in :data:`VOCODERS`.
"""

from __future__ import annotations

from stimgen.errors import StimgenError
from stimgen.representations.griffinlim_vocoder import GriffinLim
from stimgen.representations.vocoder import Vocoder
from stimgen.representations.world_vocoder import World

#: Every vocoder, by name.
VOCODERS: dict[str, type[Vocoder]] = {"griffin-lim": GriffinLim, "world": World}


def make_vocoder(name: str, rep, data: dict) -> Vocoder:
    """Vocoder ``name`` for representation ``rep``, with the fitted state in ``data`` (a model's
    ``data`` section; ``{}`` for a model not trained yet).

    Examples
    --------
    >>> from stimgen.representations import MelSpectrogram
    >>> from stimgen.signal.spectrogram import SpectrogramConfig
    >>> make_vocoder("world", MelSpectrogram(SpectrogramConfig()), {}).config.frame_period_ms
    8.0
    """
    if name not in VOCODERS:
        raise StimgenError(f"data.vocoder {name!r} is not one of the vocoders ({', '.join(VOCODERS)})")
    return VOCODERS[name].for_sound(rep, data)
