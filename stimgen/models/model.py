"""What every model shares: the public API, L1 loss, and data-parallel helpers.

A model is an ``nn.Module`` with a generator autoencoder ``G`` (``G.encoder``, ``G.decoder``),
a frozen config dataclass, ``configure_optimizers()`` and ``train_step(x, optimizers, rng)``,
the whole training step of that model in one place. Users call ``encode``, ``decode`` and
``reconstruct``; ``input_shape`` says what the model takes.
"""

from __future__ import annotations

import torch
import torch.distributed as dist
from torch import nn

from stimgen.models.networks import NetworkConfig, build


class Autoencoder(nn.Module):
    """An encoder and a decoder built from one :class:`NetworkConfig`."""

    def __init__(self, config: NetworkConfig):
        super().__init__()
        self.encoder, self.decoder = build(config)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The reconstruction ``decoder(encoder(x))`` of a batch ``x``, the same shape as ``x``."""
        return self.decoder(self.encoder(x))


def reconstruction_step(G: nn.Module, x: torch.Tensor, optimizer: torch.optim.Optimizer, between_weight: float = 0.0,
                        between: tuple[torch.Tensor, ...] | None = None) -> dict[str, float]:
    """One Adam step of the autoencoder ``G`` on its L1 reconstruction error of batch ``x`` (plus
    ``between_weight`` times :func:`between_loss` on ``between``): the AE's step, and GAIA's warm-up.

    Returns ``L_rec`` (and ``L_between`` with a between term), averaged across processes.
    """
    L_rec = l1(x, G(x))
    loss, extra = L_rec, {}
    if between_weight:
        L_between = between_loss(G, between)
        loss = loss + between_weight * L_between
        extra["L_between"] = average_scalars(L_between)[0]
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    average_gradients(G)
    optimizer.step()
    return {"L_rec": average_scalars(L_rec)[0], **extra}


class StimModel(nn.Module):
    """Base class: the API every model offers.

    Subclasses set ``self.config`` (their frozen config dataclass) and ``self.G``, the generator:
    a module with an ``encoder`` and a ``decoder`` (an :class:`Autoencoder`, or the VAE's network,
    whose encoder gives means and log-variances); only ``G`` is saved in a model folder.
    ``info`` holds what :func:`stimgen.models.bundle.load_model` read beside the weights (the
    config.json sections ``model``, ``model_config``, ``data``, ``training``, with
    ``model_sha256`` and the folder's ``path``); it is empty for a model built in memory.
    """

    config: object
    G: nn.Module
    info: dict
    #: Short name used in config.json and on the command line.
    name: str = ""

    def __init__(self) -> None:
        super().__init__()
        self.info = {}

    @property
    def input_shape(self) -> tuple[int, ...]:
        """``(channels, height, width)`` for images and spectrograms, ``(features,)`` for vectors."""
        return self.config.generator.input_shape

    @property
    def latent_dim(self) -> int:
        """Number of units of a latent code: the length of each row of :meth:`encode`'s output."""
        return self.config.generator.latent_dim

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """Latent codes (batch, latent_dim) of inputs (batch, *input_shape)."""
        return self.G.encoder(x)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Inputs (batch, *input_shape) decoded from latent codes (batch, latent_dim)."""
        return self.G.decoder(z)

    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        """Inputs (batch, *input_shape) decoded from their own codes: ``decode(encode(x))``."""
        return self.decode(self.encode(x))

    def configure_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        """The model's optimizers, one per network, by name.

        Returns
        -------
        dict of str to torch.optim.Optimizer
            ``"G"`` for the generator, and ``"D"`` (GAIA) or ``"critic"`` (ACAI) for the second network.

        Raises
        ------
        NotImplementedError
            In this base class; every model defines its own.
        """
        raise NotImplementedError

    def train_step(self, x: torch.Tensor, optimizers: dict, rng: torch.Generator) -> dict[str, float]:
        """One training step on batch ``x``: the losses, their backward passes, the averaging of
        gradients across processes and a step of each optimizer.

        Parameters
        ----------
        x : torch.Tensor
            A batch of inputs, (batch, *input_shape).
        optimizers : dict
            The optimizers of :meth:`configure_optimizers`, by name.
        rng : torch.Generator
            Generator of the step's random numbers (drawn on the CPU, then moved to the batch's device).

        Returns
        -------
        dict of str to float
            The step's losses (and other terms) by name.

        Raises
        ------
        NotImplementedError
            In this base class; every model defines its own.
        """
        raise NotImplementedError


def l1(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Mean absolute error over every element."""
    return (a - b).abs().mean()


def between_loss(ae: Autoencoder, between: tuple[torch.Tensor, ...]) -> torch.Tensor:
    """How far the decoded mixtures of codes are from the items that lie between: ``between`` is
    (x_a, x_b, x_between, at), and the loss is |x_between - decoder((1 - at) E(x_a) + at E(x_b))|.

    Trained with it, a model's straight latent paths pass through what the data say lies between
    their ends (for vowels: formants mixed in Bark; see docs/models.md).
    """
    x_a, x_b, x_between, at = between
    z_a, z_b = ae.encoder(x_a), ae.encoder(x_b)
    at = at.reshape(-1, *[1] * (z_a.dim() - 1)).to(z_a)
    return l1(x_between, ae.decoder((1 - at) * z_a + at * z_b))


def average_gradients(module: nn.Module) -> None:
    """All-reduce (mean) the gradients of ``module`` across processes; no-op when not distributed.

    This is the gradient averaging of PyTorch's DistributedDataParallel, done by hand because a
    GAIA step calls its networks several times and takes two backward passes.
    """
    if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() == 1:
        return
    grads = [p.grad for p in module.parameters() if p.grad is not None]
    if not grads:
        return
    flat = torch.cat([g.reshape(-1) for g in grads])
    dist.all_reduce(flat)
    flat /= dist.get_world_size()
    offset = 0
    for g in grads:
        g.copy_(flat[offset : offset + g.numel()].view_as(g))
        offset += g.numel()


def average_scalars(*values: torch.Tensor) -> list[float]:
    """Mean of scalar tensors across processes (the same numbers on every rank), as floats."""
    stacked = torch.stack([v.detach().float() for v in values])
    if dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1:
        dist.all_reduce(stacked)
        stacked /= dist.get_world_size()
    return stacked.tolist()
