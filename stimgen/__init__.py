"""stimgen: calibrated morph stimuli for psychophysics and behavioural experiments."""

__version__ = "0.1.0"
