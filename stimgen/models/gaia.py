"""GAIA: Generative Adversarial Interpolative Autoencoding (Sainburg et al.), Algorithm 1.

The generator G is an autoencoder; the discriminator D is an autoencoder too, trained as in
BEGAN to reconstruct real data well and generated data badly. G is trained to make both its
reconstructions G(x) and the decodings of latent interpolations G_d(z_int) that D reconstructs
well, so that interpolations look like data. Sigmoid balancing terms (slope 20) split the
learning rate between G and D and weigh the loss terms; they carry no gradient.

What is the paper's and what is the authors' code's is set out in docs/models.md. In short:
everything in :meth:`GAIA.train_step` follows Algorithm 1, except that the learning-rate split
gives D ``lr * delta_D`` and G ``lr * (1 - delta_D)``, as the paper's appendix text and the
authors' code do (Algorithm 1's lines 24-25 swap the two, which would speed up whichever network
is ahead).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import torch

from stimgen.models.model import (
    Autoencoder,
    StimModel,
    average_gradients,
    average_scalars,
    between_loss,
    l1,
    reconstruction_step,
)
from stimgen.models.networks import NetworkConfig


@dataclass(frozen=True)
class GAIAConfig:
    """GAIA's settings. ``disc_bottom`` is the side of D's code for convolutional networks (default:
    a quarter of the input, two halvings, like MUNIT's content code). ``recon_weight`` adds a direct
    reconstruction term recon_weight * |x - G(x)| to the generator's loss: 100 by default, because
    without it G collapses on real birdsong, and with 100 after the warm-up GAIA reconstructs as
    well as the AE (docs/results/real-song.md); 0 is the paper's and the
    authors' objective (``--recon-weight 0``), which the Table 1 experiment keeps. ``between_weight``
    adds between_weight * L_between (:func:`~stimgen.models.model.between_loss`), for data that say
    which items lie between which
    (not in the paper; the shipped vowel model uses it, see docs/models.md).
    ``discriminator`` defaults to the generator's convolutional network at
    half the width with no dense bottleneck (as in the authors' image model), or to the same MLP
    with no narrow latent layer.

    ``warmup_steps``: the run's first steps train G alone, as an autoencoder (its L1 reconstruction
    error, and the between term where set; D waits), before GAIA's objective takes over with a
    fresh Adam for G. It is the warm start of docs/results/real-song.md (an AE, then GAIA from its
    weights) in one run: on real birdsong it gave the most realistic midpoints at the same number
    of steps. 0 is the paper's."""

    generator: NetworkConfig
    discriminator: NetworkConfig | None = None
    disc_bottom: int | None = None
    lr: float = 1e-4
    slope: float = 20.0
    gamma: float = 0.5
    distance_weight: float = 2e-5
    recon_weight: float = 100.0
    between_weight: float = 0.0
    interp_mean: float = 0.5
    interp_std: float = 0.25
    warmup_steps: int = 0

    def __post_init__(self) -> None:
        if self.discriminator is None:
            g = self.generator
            if g.is_conv:  # two halvings, as MUNIT's content encoder, unless disc_bottom says otherwise
                bottom = self.disc_bottom or max(g.bottom, min(g.input_shape[1:]) // 4)
                d = dataclasses.replace(g, width=max(1, g.width // 2), max_channels=max(1, g.max_channels // 2),
                                        bottleneck="conv", bottom=bottom)
            else:  # the 2D experiments: the same MLP, with no narrow latent layer
                d = dataclasses.replace(g, latent_dim=g.width)
            object.__setattr__(self, "discriminator", d)


def balance(difference: torch.Tensor | float, slope: float = 20.0) -> torch.Tensor:
    """The paper's balancing sigmoid, 1 / (1 + exp(-difference * slope)).

    Examples
    --------
    >>> float(balance(0.0)), round(float(balance(0.05)), 4)
    (0.5, 0.7311)
    """
    return torch.sigmoid(torch.as_tensor(difference) * slope)


def interpolate(z: torch.Tensor, rng: torch.Generator, mean: float = 0.5, std: float = 0.25) -> torch.Tensor:
    """Interpolations between pairs of codes, as many as the batch (rounded down to even).

    The batch is split in halves z_i, z_j; each pair gets beta ~ Normal(mean, std), unclipped (a
    little extrapolation past the ends); z_int = beta z_i + (1 - beta) z_j. A second set pairs the
    reversed first half with the second half.
    """
    half = z.shape[0] // 2
    first, second = z[:half], z[half : 2 * half]
    starts = torch.cat([first, first.flip(0)])
    ends = torch.cat([second, second])
    beta = torch.randn(2 * half, 1, generator=rng).to(z) * std + mean
    return beta * starts + (1 - beta) * ends


def pairwise_distance_loss(x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """Keeps the batch's pairwise distances in Z like those in X (the paper's L_dist).

    Squared Euclidean distance matrices of the batch in X and in Z, each divided by its own
    mean; loss = mean over all pairs of (log2(1 + d_x) - log2(1 + d_z))^2.
    """
    def normalised(a: torch.Tensor) -> torch.Tensor:
        """Squared Euclidean distances between the batch's items (each flattened), divided by their mean."""
        flat = a.reshape(a.shape[0], -1).float()
        d = torch.cdist(flat, flat).square()
        return d / d.mean().clamp_min(1e-12)

    return (torch.log2(1 + normalised(x)) - torch.log2(1 + normalised(z))).square().mean()


class GAIA(StimModel):
    """GAIA model: ``G`` (generator autoencoder) and ``D`` (discriminator autoencoder).

    Examples
    --------
    >>> model = GAIA(GAIAConfig(NetworkConfig(input_shape=(2,), latent_dim=2, width=32, output="linear")))
    >>> opts = model.configure_optimizers()
    >>> metrics = model.train_step(torch.randn(8, 2), opts, torch.Generator().manual_seed(0))
    >>> sorted(metrics)[:3]
    ['L_dist', 'L_gen', 'L_int']
    """

    name = "gaia"

    def __init__(self, config: GAIAConfig):
        super().__init__()
        self.config = config
        self.G = Autoencoder(config.generator)
        self.D = Autoencoder(config.discriminator)

    def configure_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        """Adam (eps 1e-8) at ``lr`` for G and for D, as ``{"G": ..., "D": ...}``; :meth:`train_step`
        sets their learning rates anew at every step."""
        return {"G": torch.optim.Adam(self.G.parameters(), lr=self.config.lr, eps=1e-8),
                "D": torch.optim.Adam(self.D.parameters(), lr=self.config.lr, eps=1e-8)}

    def train_step(self, x: torch.Tensor, optimizers: dict, rng: torch.Generator,
                   between: tuple[torch.Tensor, ...] | None = None, step: int = 0) -> dict[str, float]:
        """One step of Algorithm 1 on batch ``x``: the losses, the balancing terms, and an Adam step
        each for G (at ``lr * (1 - delta_D)``) and D (at ``lr * delta_D``). While ``step`` is below
        ``warmup_steps``, an Adam step for G alone on its reconstruction error (at ``lr``) instead;
        at the first step after it, G's Adam starts afresh (its moments were the AE's).

        Parameters
        ----------
        x : torch.Tensor
            A batch of inputs, (batch, *input_shape), of at least 2 items (interpolations pair them).
        optimizers : dict
            The optimizers of :meth:`configure_optimizers`.
        rng : torch.Generator
            Generator of the interpolation weights (drawn on the CPU, then moved to the batch's device).
        between : tuple of torch.Tensor, optional
            (x_a, x_b, x_between, at) for ``between_weight``: items that lie between two others.
        step : int
            How many steps the run has taken before this one (for ``warmup_steps``).

        Returns
        -------
        dict of str to float
            ``L_rec``, G's L1 reconstruction error; after the warm-up also ``L_x``, ``L_gen`` and
            ``L_int`` (D's reconstruction errors of real data, of G's
            reconstructions and of the decoded interpolations, averaged across processes),
            ``L_dist``, the balancing terms ``delta_D``, ``W_int`` and ``W_fake``, and the two
            networks' losses ``loss_G`` and ``loss_D``; with ``between_weight``, also ``L_between``.

        Raises
        ------
        FloatingPointError
            When the learning-rate balance is not finite (the losses diverged).
        """
        c = self.config
        if step < c.warmup_steps:  # G alone, as an autoencoder, at lr
            _set_lr(optimizers["G"], c.lr)
            return reconstruction_step(self.G, x, optimizers["G"], c.between_weight, between)
        if step == c.warmup_steps > 0:  # GAIA starts from the AE's weights with a fresh Adam, as a warm start does
            optimizers["G"].state.clear()
        # pass through the networks (Algorithm 1, lines 5-11)
        z = self.G.encoder(x)
        z_int = interpolate(z, rng, c.interp_mean, c.interp_std)
        x_gen = self.G.decoder(z)
        x_int = self.G.decoder(z_int)
        x_rec, gen_rec, int_rec = self.D(x), self.D(x_gen), self.D(x_int)

        # losses (lines 13-16)
        L_x = l1(x, x_rec)
        L_gen = l1(x, gen_rec)
        L_int = l1(x_int, int_rec)
        L_dist = pairwise_distance_loss(x, z)

        # balancing (lines 18-22): constants for the gradient, the same on every process
        lx, lgen, lint = average_scalars(L_x, L_gen, L_int)
        delta_D = float(balance(lx - (lgen + lint) / 2, c.slope))
        w_int = float(balance(lint - lgen, c.slope))
        w_fake = float(balance((lgen + lint) / 2 * c.gamma - lx, c.slope))

        # updates (lines 24-25); each loss reaches only its own network's parameters
        g_loss = L_gen * (1 - w_int) + L_int * w_int + c.distance_weight * L_dist
        L_rec = l1(x, x_gen)
        if c.recon_weight:
            g_loss = g_loss + c.recon_weight * L_rec
        extra = {}
        if c.between_weight:  # not the paper's: straight latent paths through what lies between (docs/models.md)
            L_between = between_loss(self.G, between)
            g_loss = g_loss + c.between_weight * L_between
            extra["L_between"] = average_scalars(L_between)[0]
        d_loss = L_x - (L_gen + L_int) / 2 * w_fake
        for opt in optimizers.values():
            opt.zero_grad(set_to_none=True)
        g_loss.backward(inputs=list(self.G.parameters()), retain_graph=True)
        d_loss.backward(inputs=list(self.D.parameters()))
        average_gradients(self.G)
        average_gradients(self.D)
        _set_lr(optimizers["D"], c.lr * delta_D)
        _set_lr(optimizers["G"], c.lr * (1 - delta_D))
        optimizers["G"].step()
        optimizers["D"].step()
        return {"L_rec": average_scalars(L_rec)[0], "L_x": lx, "L_gen": lgen, "L_int": lint,
                "L_dist": float(L_dist.detach()), "delta_D": delta_D, "W_int": w_int, "W_fake": w_fake,
                "loss_G": float(g_loss.detach()), "loss_D": float(d_loss.detach()), **extra}



def _set_lr(optimizer: torch.optim.Optimizer, lr: float) -> None:
    if not math.isfinite(lr):
        raise FloatingPointError("learning rate balance is not finite: the losses diverged")
    for group in optimizer.param_groups:
        group["lr"] = lr
