"""AE: a plain autoencoder, the baseline every other model is compared with.

It minimises the L1 reconstruction error |x - G(x)| (the error GAIA's losses use) with Adam.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from stimgen.models.base import Autoencoder, StimModel, average_gradients, average_scalars, l1
from stimgen.models.networks import NetworkConfig


@dataclass(frozen=True)
class AEConfig:
    """AE settings: the autoencoder's network ``generator`` and Adam's learning rate ``lr``."""

    generator: NetworkConfig
    lr: float = 1e-4


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

    def train_step(self, x: torch.Tensor, optimizers: dict, rng: torch.Generator) -> dict[str, float]:
        """One Adam step on the L1 reconstruction error of batch ``x``.

        Parameters
        ----------
        x : torch.Tensor
            A batch of inputs, (batch, *input_shape).
        optimizers : dict
            The optimizers of :meth:`configure_optimizers`.
        rng : torch.Generator
            Unused: the step draws no random numbers.

        Returns
        -------
        dict of str to float
            ``L_rec``, the mean absolute reconstruction error, averaged across processes.
        """
        loss = l1(x, self.G(x))
        optimizers["G"].zero_grad(set_to_none=True)
        loss.backward()
        average_gradients(self.G)
        optimizers["G"].step()
        (rec,) = average_scalars(loss)
        return {"L_rec": rec}
