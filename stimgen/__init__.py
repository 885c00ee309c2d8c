"""stimgen: calibrated morph stimuli for psychophysics and behavioural experiments."""

__version__ = "0.1.0"


def load_model(path_or_name, device: str = "cpu"):
    """Load a trained model folder, or a shipped model by name; see :func:`stimgen.models.load_model`."""
    from stimgen.models.bundle import load_model as _load

    return _load(path_or_name, device=device)


def __getattr__(name: str):
    """``stimgen.Continuum`` (:class:`stimgen.on_demand.Continuum`), imported on first use: importing
    stimgen stays free of torch."""
    if name == "Continuum":
        from stimgen.on_demand import Continuum

        return Continuum
    raise AttributeError(f"module 'stimgen' has no attribute {name!r}")
