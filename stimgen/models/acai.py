"""ACAI: Adversarially Constrained Autoencoder Interpolation (Berthelot, Raffel, Roy, Goodfellow
2018), GAIA's closest competitor: an autoencoder plus a plain critic that tries to tell how far
along an interpolation a decoded mix is.

Per step: alpha ~ U(0, 1) folded into [0, 0.5]; z_alpha = alpha z_i + (1 - alpha) z_j for the
batch and its reverse; the critic (the encoder network with one output, averaged) regresses alpha
from G_d(z_alpha), and 0 for the blend x + reg (G(x) - x) of an input and its reconstruction
(reg = 0.2, the paper's gamma). The autoencoder minimises its reconstruction
error plus ``lam`` times the critic's squared output on the mixes (it wants them to look
un-mixed, alpha = 0). Reconstruction here is L1 like the other models.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import torch
from torch import nn

from stimgen.models.model import Autoencoder, StimModel, average_gradients, average_scalars, l1
from stimgen.models.networks import NetworkConfig, build


@dataclass(frozen=True)
class ACAIConfig:
    """ACAI settings: the autoencoder's network ``generator`` (the critic is its encoder with one
    output), Adam's learning rate ``lr``, ``lam``, the weight of the critic's term in the
    autoencoder's loss, and ``reg``, how far the blend the critic must score 0 moves from an input
    towards its reconstruction (the paper's gamma)."""

    generator: NetworkConfig
    lr: float = 1e-4
    lam: float = 0.5
    reg: float = 0.2


class Critic(nn.Module):
    """The encoder network with a single output unit per item."""

    def __init__(self, config: NetworkConfig):
        super().__init__()
        self.net, _ = build(dataclasses.replace(config, latent_dim=1, bottleneck="dense"))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The critic's estimate (batch,) of the interpolation coefficient alpha of each input."""
        return self.net(x).squeeze(1)


class ACAI(StimModel):
    """Autoencoder with an interpolation critic.

    Examples
    --------
    >>> model = ACAI(ACAIConfig(NetworkConfig(input_shape=(2,), latent_dim=2, output="linear")))
    >>> sorted(model.train_step(torch.randn(8, 2), model.configure_optimizers(), torch.Generator()))
    ['L_critic', 'L_rec', 'L_reg']
    """

    name = "acai"

    def __init__(self, config: ACAIConfig):
        super().__init__()
        self.config = config
        self.G = Autoencoder(config.generator)
        self.critic = Critic(config.generator)

    def configure_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        """Adam at ``lr`` for the autoencoder and for the critic, as ``{"G": ..., "critic": ...}``."""
        return {"G": torch.optim.Adam(self.G.parameters(), lr=self.config.lr),
                "critic": torch.optim.Adam(self.critic.parameters(), lr=self.config.lr)}

    def train_step(self, x: torch.Tensor, optimizers: dict, rng: torch.Generator) -> dict[str, float]:
        """One Adam step each for the autoencoder and the critic on batch ``x`` (see the module's docstring).

        Parameters
        ----------
        x : torch.Tensor
            A batch of inputs, (batch, *input_shape).
        optimizers : dict
            The optimizers of :meth:`configure_optimizers`.
        rng : torch.Generator
            Generator of the interpolation coefficients (drawn on the CPU, then moved to the batch's device).

        Returns
        -------
        dict of str to float
            ``L_rec`` (reconstruction error), ``L_reg`` (the critic's mean squared output on the
            mixes) and ``L_critic`` (the critic's loss), each averaged across processes.
        """
        c = self.config
        z = self.G.encoder(x)
        x_rec = self.G.decoder(z)
        alpha = torch.rand(x.shape[0], generator=rng).to(z)
        alpha = 0.5 - (alpha - 0.5).abs()
        shape = (-1,) + (1,) * (z.ndim - 1)
        z_mix = alpha.view(shape) * z + (1 - alpha.view(shape)) * z.flip(0)
        x_mix = self.G.decoder(z_mix)

        L_rec = l1(x, x_rec)
        L_reg = self.critic(x_mix).square().mean()
        ae_loss = L_rec + c.lam * L_reg
        blend = x + c.reg * (x_rec - x)
        L_critic = (self.critic(x_mix.detach()) - alpha).square().mean() + self.critic(blend.detach()).square().mean()

        for opt in optimizers.values():
            opt.zero_grad(set_to_none=True)
        ae_loss.backward(inputs=list(self.G.parameters()))
        L_critic.backward(inputs=list(self.critic.parameters()))
        average_gradients(self.G)
        average_gradients(self.critic)
        optimizers["G"].step()
        optimizers["critic"].step()
        rec, reg, crit = average_scalars(L_rec, L_reg, L_critic)
        return {"L_rec": rec, "L_reg": reg, "L_critic": crit}
