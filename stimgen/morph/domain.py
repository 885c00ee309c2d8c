"""Between files and a model: a loaded model together with its representation.

A :class:`Domain` wraps a loaded model and the representation its config.json names
(:mod:`stimgen.representations`): files become the model's items as the training data did, codes
come from the model, and items become stimulus files again. Items in the model's space are
float32 arrays (N, C, H, W) in [0, 1]; codes are (N, latent_dim).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch

from stimgen.data.folder import IMAGE_EXTENSIONS
from stimgen.representations import from_config
from stimgen.representations.base import RenderSettings

__all__ = ["Domain", "RenderSettings", "default_model"]


def default_model(example: str | os.PathLike) -> str:
    """The shipped model for files like ``example``: ``digits`` for images, ``vowels`` for anything else.

    Examples
    --------
    >>> default_model("face.png"), default_model("i.wav")
    ('digits', 'vowels')
    """
    return "digits" if Path(example).suffix.lower() in IMAGE_EXTENSIONS else "vowels"


class Domain:
    """A model together with the way files become its items and items become files.

    ``representation`` does the latter (see :class:`~stimgen.representations.base.Representation`);
    the domain adds the model's codes, its name, folder and hash.

    Examples
    --------
    >>> from stimgen import load_model
    >>> domain = Domain(load_model("vowels"))                    # doctest: +SKIP
    >>> z = domain.encode(domain.load("a.wav")[None])            # doctest: +SKIP
    """

    def __init__(self, model) -> None:
        self.model = model
        info = getattr(model, "info", {})
        self.folder = Path(info["path"]) if "path" in info else None
        self.name = Path(info.get("path", "model")).name
        self.sha256 = info.get("model_sha256", "")
        config = None if self.folder is None else self.folder / "config.json"
        self.representation = from_config(info.get("data"), config)

    def load(self, path: str | os.PathLike) -> np.ndarray:
        """A file as the model's item (C, H, W), analysed as the training data were."""
        path = Path(path)
        self.representation.check_file(path, self.name)
        return self.representation.load(path)

    def encode(self, x: np.ndarray) -> np.ndarray:
        """Codes (N, latent_dim) of items (N, C, H, W)."""
        with torch.no_grad():
            return self.model.encode(torch.as_tensor(np.asarray(x, dtype=np.float32))).double().numpy()

    def decode(self, z: np.ndarray) -> np.ndarray:
        """Items (N, C, H, W) decoded from codes (N, latent_dim)."""
        with torch.no_grad():
            return self.model.decode(torch.as_tensor(np.asarray(z, dtype=np.float32))).numpy()
