"""VAE (Kingma & Welling 2013) on the same networks: the encoder outputs a mean and a
log-variance per latent unit; the loss is the L1 reconstruction error of a sample plus
``kl_weight`` times the KL divergence to a standard normal (both per element, so that the
balance does not change with the input size). ``encode`` returns the mean.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import torch
from torch import nn

from stimgen.models.model import StimModel, average_gradients, average_scalars, l1
from stimgen.models.networks import NetworkConfig, build


@dataclass(frozen=True)
class VAEConfig:
    """VAE settings: the network ``generator`` (its ``latent_dim`` is the number of means), Adam's
    learning rate ``lr`` and ``kl_weight``, the weight of the KL term in the loss."""

    generator: NetworkConfig
    lr: float = 1e-4
    kl_weight: float = 1e-3


class _VAENet(nn.Module):
    """Encoder with twice the latent units (mean, log-variance), and the decoder."""

    def __init__(self, config: NetworkConfig):
        super().__init__()
        self.encoder_net, _ = build(dataclasses.replace(config, latent_dim=2 * config.latent_dim))
        _, self.decoder = build(config)
        self.latent_dim = config.latent_dim

    def moments(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Means and log-variances, each (batch, latent_dim), of inputs ``x``; the log-variances are
        clamped to [-10, 10]."""
        h = self.encoder_net(x)
        return h[:, : self.latent_dim], h[:, self.latent_dim :].clamp(-10, 10)

    def encoder(self, x: torch.Tensor) -> torch.Tensor:
        """Means (batch, latent_dim) of inputs ``x``: the codes that ``encode`` returns."""
        return self.moments(x)[0]


class VAE(StimModel):
    """Variational autoencoder.

    Examples
    --------
    >>> model = VAE(VAEConfig(NetworkConfig(input_shape=(2,), latent_dim=2, output="linear")))
    >>> sorted(model.train_step(torch.randn(8, 2), model.configure_optimizers(), torch.Generator()))
    ['KL', 'L_rec']
    """

    name = "vae"

    def __init__(self, config: VAEConfig):
        super().__init__()
        self.config = config
        self.G = _VAENet(config.generator)

    def configure_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        """Adam at ``lr`` on the encoder's and decoder's parameters, as ``{"G": optimizer}``."""
        return {"G": torch.optim.Adam(self.G.parameters(), lr=self.config.lr)}

    def train_step(self, x: torch.Tensor, optimizers: dict, rng: torch.Generator) -> dict[str, float]:
        """One Adam step on the L1 reconstruction error of a sample from each code plus ``kl_weight``
        times the KL divergence to a standard normal.

        Parameters
        ----------
        x : torch.Tensor
            A batch of inputs, (batch, *input_shape).
        optimizers : dict
            The optimizers of :meth:`configure_optimizers`.
        rng : torch.Generator
            Generator of the sampling noise (drawn on the CPU, then moved to the batch's device).

        Returns
        -------
        dict of str to float
            ``L_rec`` (the reconstruction error) and ``KL`` (the KL divergence per element), each
            averaged across processes.
        """
        mean, logvar = self.G.moments(x)
        noise = torch.randn(mean.shape, generator=rng).to(mean)
        z = mean + noise * torch.exp(0.5 * logvar)
        rec = l1(x, self.G.decoder(z))
        kl = 0.5 * (mean.square() + logvar.exp() - 1 - logvar).mean()
        loss = rec + self.config.kl_weight * kl
        optimizers["G"].zero_grad(set_to_none=True)
        loss.backward()
        average_gradients(self.G)
        optimizers["G"].step()
        rec_mean, kl_mean = average_scalars(rec, kl)
        return {"L_rec": rec_mean, "KL": kl_mean}
