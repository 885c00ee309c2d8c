"""AE: a plain autoencoder, the baseline every other model is compared with.

It minimises the L1 reconstruction error |x - G(x)| (the error GAIA's losses use) with Adam, and,
with ``between_weight``, the same between term as GAIA (for a like-for-like comparison).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from stimgen.models.model import (
    Autoencoder,
    StimModel,
    reconstruction_step,
)
from stimgen.models.networks import NetworkConfig


@dataclass(frozen=True)
class AEConfig:
    """AE settings: the autoencoder's network ``generator``, Adam's learning rate ``lr``, and the
    weight of the between term (:func:`~stimgen.models.model.between_loss`; 0: none)."""

    generator: NetworkConfig
    lr: float = 1e-4
    between_weight: float = 0.0


class AE(StimModel):
    """Autoencoder trained on reconstruction alone.

    Examples
    --------
    >>> model = AE(AEConfig(NetworkConfig(input_shape=(2,), latent_dim=2, output="linear")))
    >>> model.train_step(torch.randn(8, 2), model.configure_optimizers(), torch.Generator())["L_rec"] > 0
    True
    """

    name = "ae"

    def __init__(self, config: AEConfig):
        super().__init__()
        self.config = config
        self.G = Autoencoder(config.generator)

    def configure_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        """Adam at ``lr`` on the autoencoder's parameters, as ``{"G": optimizer}``."""
        return {"G": torch.optim.Adam(self.G.parameters(), lr=self.config.lr)}

    def train_step(self, x: torch.Tensor, optimizers: dict, rng: torch.Generator,
                   between: tuple[torch.Tensor, ...] | None = None) -> dict[str, float]:
        """One Adam step on the L1 reconstruction error of batch ``x`` (and the between term).

        Parameters
        ----------
        x : torch.Tensor
            A batch of inputs, (batch, *input_shape).
        optimizers : dict
            The optimizers of :meth:`configure_optimizers`.
        rng : torch.Generator
            Unused: the step draws no random numbers.
        between : tuple of torch.Tensor, optional
            (x_a, x_b, x_between, at) for ``between_weight``: items that lie between two others.

        Returns
        -------
        dict of str to float
            ``L_rec``, the mean absolute reconstruction error, averaged across processes; with
            ``between_weight``, also ``L_between``.
        """
        return reconstruction_step(self.G, x, optimizers["G"], self.config.between_weight, between)
