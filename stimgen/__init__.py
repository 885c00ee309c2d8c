"""stimgen: calibrated morph stimuli for psychophysics and behavioural experiments."""

__version__ = "0.1.0"


def load_model(path_or_name, device: str = "cpu"):
    """Load a trained model folder, or a shipped model by name; see :func:`stimgen.models.load_model`."""
    from stimgen.models.bundle import load_model as _load

    return _load(path_or_name, device=device)
