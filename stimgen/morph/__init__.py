"""The morph subsystem: continua, attribute edits, grids and codes, as stimulus sets to export.

Every verb takes a loaded model and files, and returns a :class:`StimulusSet`;
:func:`stimgen.export.export` writes it as an experiment-ready folder.

Examples
--------
>>> from stimgen import load_model
>>> from stimgen.export import export
>>> from stimgen.morph import continuum
>>> export(continuum(load_model("vowels"), "i.wav", "a.wav", steps=11), "i-a")   # doctest: +SKIP
"""

from stimgen.morph.continuum import continuum, equal_steps, latent_path
from stimgen.morph.domain import Domain, RenderSettings
from stimgen.morph.stimuli import StimulusSet

__all__ = ["Domain", "RenderSettings", "StimulusSet", "continuum", "equal_steps", "latent_path"]
