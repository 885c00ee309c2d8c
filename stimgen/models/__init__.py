"""Models: GAIA and its baselines (AE, VAE, ACAI) on MLP or convolutional networks.

Examples
--------
>>> from stimgen.models import load_model                    # doctest: +SKIP
>>> model = load_model("vowels")                              # a shipped model, or a folder
"""

from stimgen.models.acai import ACAI, ACAIConfig
from stimgen.models.ae import AE, AEConfig
from stimgen.models.bundle import MODELS, load_model
from stimgen.models.gaia import GAIA, GAIAConfig
from stimgen.models.networks import NetworkConfig
from stimgen.models.vae import VAE, VAEConfig

__all__ = ["ACAI", "ACAIConfig", "AE", "AEConfig", "GAIA", "GAIAConfig", "MODELS", "NetworkConfig", "VAE",
           "VAEConfig", "load_model"]
