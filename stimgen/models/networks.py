"""The networks every model is built from: an encoder and a decoder, MLP or convolutional.

- MLP: for 2D and other vector data (the paper's 2D experiments: 6 layers of 256 units).
- Convolutional: for 1-channel spectrograms and 1- or 3-channel images of 32, 64 or 128 pixels
  (any power of two, square or not). Residual blocks (two 3x3 convolutions with a skip) at every
  resolution below the full one (where they would cost most), strided convolutions down,
  nearest-neighbour upsampling and a convolution up, reflect
  padding and He initialisation, as in the MUNIT-style networks of the GAIA authors. Every
  activation is preceded by group norm, which works per item (MUNIT's instance norm is its one-group
  -per-channel case): batch norm would let the statistics of real, reconstructed and
  interpolated batches leak into each other in a GAIA step. Without any normalisation these
  networks collapsed to a constant output within ten Adam steps.

A network is fully described by a frozen :class:`NetworkConfig`, saved beside the weights.
"""

from __future__ import annotations

import copy
import dataclasses
import math
from dataclasses import dataclass

import torch
from torch import nn

from stimgen.errors import StimgenError
from stimgen.options import LATENT_DIM, MAX_CHANNELS, WIDTH


@dataclass(frozen=True)
class NetworkConfig:
    """Architecture of one autoencoder.

    ``input_shape`` is ``(features,)`` for an MLP or ``(channels, height, width)`` for a
    convolutional network. ``width`` is the MLP's units per layer or the convolutional network's
    first channel count (doubled at each halving of the size, up to ``max_channels``). ``depth``
    is the MLP's layers per half; convolutional networks halve the size down to ``bottom``
    pixels. ``bottleneck="dense"`` puts a linear latent of ``latent_dim`` units in the middle;
    ``"conv"`` keeps the bottom feature map as the code (the GAIA discriminator has no dense
    bottleneck). ``output`` is the decoder's last activation: ``"sigmoid"`` for data in [0, 1],
    ``"linear"`` for standardised vectors.

    Examples
    --------
    >>> cfg = NetworkConfig(input_shape=(1, 64, 64), latent_dim=64)
    >>> enc, dec = build(cfg)
    >>> dec(enc(torch.zeros(2, 1, 64, 64))).shape
    torch.Size([2, 1, 64, 64])
    """

    input_shape: tuple[int, ...]
    latent_dim: int = LATENT_DIM
    width: int = WIDTH
    depth: int = 6
    max_channels: int = MAX_CHANNELS
    bottom: int = 4
    bottleneck: str = "dense"
    output: str = "sigmoid"

    def __post_init__(self) -> None:
        object.__setattr__(self, "input_shape", tuple(int(s) for s in self.input_shape))
        shape = self.input_shape
        if len(shape) not in (1, 3) or min(shape) < 1:
            raise StimgenError(f"input_shape must be (features,) or (channels, height, width), got {shape}")
        if len(shape) == 3:
            if shape[0] not in (1, 3):
                raise StimgenError(f"images must have 1 or 3 channels, got {shape[0]}")
            for side in shape[1:]:
                if side < 2 * self.bottom or side & (side - 1) or side > 1024:
                    raise StimgenError(f"image sides must be powers of two from {2 * self.bottom} to 1024, "
                                       f"got {shape[1:]}")
        if self.bottleneck not in ("dense", "conv") or self.output not in ("sigmoid", "linear"):
            raise StimgenError("bottleneck must be 'dense' or 'conv', output 'sigmoid' or 'linear'")
        if min(self.latent_dim, self.width, self.depth, self.max_channels) < 1:
            raise StimgenError("latent_dim, width, depth and max_channels must be positive")

    @property
    def is_conv(self) -> bool:
        """Whether the network is convolutional (a 3-element ``input_shape``) rather than an MLP."""
        return len(self.input_shape) == 3

    def to_dict(self) -> dict:
        """The settings as a dict of their fields, as config.json holds them."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "NetworkConfig":
        """The config described by ``d``, a dict as :meth:`to_dict` gives (``input_shape`` may be a list).

        Parameters
        ----------
        d : dict
            The fields of a :class:`NetworkConfig`; ``input_shape`` is required, the others have defaults.

        Returns
        -------
        NetworkConfig

        Raises
        ------
        StimgenError
            For settings that describe no network (see the class's checks).
        """
        return cls(**{**d, "input_shape": tuple(d["input_shape"])})


def build(config: NetworkConfig) -> tuple[nn.Module, nn.Module]:
    """The encoder and decoder described by ``config``."""
    if config.is_conv:
        return ConvEncoder(config), ConvDecoder(config)
    return MLPEncoder(config), MLPDecoder(config)


def _mlp(sizes: list[int]) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(nn.LeakyReLU(0.2))
    return nn.Sequential(*layers)


class MLPEncoder(nn.Module):
    """MLP encoder: ``depth`` linear layers with leaky ReLUs (slope 0.2) between them, from
    ``input_shape[0]`` features through ``width`` units to ``latent_dim`` units (``width`` units with
    ``bottleneck="conv"``)."""

    def __init__(self, config: NetworkConfig):
        super().__init__()
        out = config.latent_dim if config.bottleneck == "dense" else config.width
        self.net = _mlp([config.input_shape[0]] + [config.width] * (config.depth - 1) + [out])
        _init(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Codes (batch, latent_dim), or (batch, width) with ``bottleneck="conv"``, of inputs (batch, features)."""
        return self.net(x)


class MLPDecoder(nn.Module):
    """MLP decoder, the encoder's mirror: ``depth`` linear layers with leaky ReLUs between them, from
    the code back to ``input_shape[0]`` features, then a sigmoid where ``output="sigmoid"``."""

    def __init__(self, config: NetworkConfig):
        super().__init__()
        inp = config.latent_dim if config.bottleneck == "dense" else config.width
        self.net = _mlp([inp] + [config.width] * (config.depth - 1) + [config.input_shape[0]])
        self.sigmoid = config.output == "sigmoid"
        _init(self)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """Outputs (batch, features) decoded from codes (batch, latent_dim)."""
        x = self.net(z)
        return torch.sigmoid(x) if self.sigmoid else x


def _norm(channels: int) -> nn.GroupNorm:
    """Group normalisation: per item, so batches never mix (unlike batch norm)."""
    return nn.GroupNorm(min(8, channels), channels)


class ResBlock(nn.Module):
    """x + conv(act(norm(conv(act(norm(x)))))): two 3x3 reflect-padded convolutions and a skip."""

    def __init__(self, channels: int):
        super().__init__()
        self.norm1, self.norm2 = _norm(channels), _norm(channels)
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1, padding_mode="reflect")
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1, padding_mode="reflect")
        self.act = nn.LeakyReLU(0.2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x`` plus the residual branch, the same shape as ``x`` (batch, channels, height, width)."""
        return x + self.conv2(self.act(self.norm2(self.conv1(self.act(self.norm1(x))))))


def _levels(config: NetworkConfig) -> list[int]:
    """Channel counts at each resolution, from the full size down to the bottom."""
    halvings = int(math.log2(min(config.input_shape[1:]) // config.bottom))
    return [min(config.width * 2**i, config.max_channels) for i in range(halvings + 1)]


class ConvEncoder(nn.Module):
    """Convolutional encoder: a 3x3 convolution to ``width`` channels, then at each halving group
    norm, a leaky ReLU, a strided 4x4 convolution and a residual block, down to ``bottom`` pixels;
    with ``bottleneck="dense"`` a linear layer maps the bottom feature map to ``latent_dim`` units."""

    def __init__(self, config: NetworkConfig):
        super().__init__()
        channels = _levels(config)
        layers: list[nn.Module] = [nn.Conv2d(config.input_shape[0], channels[0], 3, padding=1, padding_mode="reflect")]
        for a, b in zip(channels[:-1], channels[1:]):
            layers += [_norm(a), nn.LeakyReLU(0.2), nn.Conv2d(a, b, 4, stride=2, padding=1, padding_mode="reflect"),
                       ResBlock(b)]
        layers += [_norm(channels[-1]), nn.LeakyReLU(0.2)]
        self.features = nn.Sequential(*layers)
        h, w = (s // 2 ** (len(channels) - 1) for s in config.input_shape[1:])
        self.to_latent = nn.Linear(channels[-1] * h * w, config.latent_dim) if config.bottleneck == "dense" else None
        _init(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Codes (batch, latent_dim) of images (batch, channels, height, width), or with
        ``bottleneck="conv"`` the bottom feature maps (batch, channels, height, width) themselves."""
        f = self.features(x)
        return self.to_latent(f.flatten(1)) if self.to_latent is not None else f


class ConvDecoder(nn.Module):
    """Convolutional decoder, the encoder's mirror: with ``bottleneck="dense"`` a linear layer from
    the code to the bottom feature map; then at each doubling a residual block, nearest-neighbour
    upsampling and a 3x3 convolution; last group norm, a leaky ReLU, a 3x3 convolution to the
    image's channels and a sigmoid where ``output="sigmoid"``."""

    def __init__(self, config: NetworkConfig):
        super().__init__()
        channels = _levels(config)[::-1]
        self.bottom_shape = (channels[0], *(s // 2 ** (len(channels) - 1) for s in config.input_shape[1:]))
        dense = config.bottleneck == "dense"
        self.from_latent = nn.Linear(config.latent_dim, math.prod(self.bottom_shape)) if dense else None
        layers: list[nn.Module] = []
        for a, b in zip(channels[:-1], channels[1:]):
            layers += [ResBlock(a), nn.Upsample(scale_factor=2, mode="nearest"),
                       nn.Conv2d(a, b, 3, padding=1, padding_mode="reflect")]
        layers += [_norm(channels[-1]), nn.LeakyReLU(0.2),
                   nn.Conv2d(channels[-1], config.input_shape[0], 3, padding=1, padding_mode="reflect")]
        self.net = nn.Sequential(*layers)
        self.sigmoid = config.output == "sigmoid"
        _init(self)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """Images (batch, channels, height, width) decoded from codes (batch, latent_dim), or from
        bottom feature maps with ``bottleneck="conv"``."""
        f = self.from_latent(z).view(-1, *self.bottom_shape) if self.from_latent is not None else z
        x = self.net(f)
        return torch.sigmoid(x) if self.sigmoid else x


class UpsampledConv(nn.Module):
    """A nearest-neighbour 2x upsampling followed by a reflect-padded 3x3 convolution, computed
    as the convolution's four phases on the small map: the same numbers to float32 rounding in
    4/9 of the multiplications, for decoding one code at a time (:func:`for_one_code`).

    Each output pixel at (2i + p, 2j + q) sees three rows and columns of the upsampled map, which
    are two of the small map's: rows i - 1, i (p = 0) or i, i + 1 (p = 1), with the 3x3 kernel's
    taps summed where they fall on the same row. Reflecting the upsampled map at its border is
    replicating the small one, so the four 2x2 kernels run as one convolution with 4x the output
    channels on the small map padded by replication, and the phases are interleaved after.
    """

    #: Which of the 3 kernel rows (or columns) fall on each of the 2 small-map rows, per phase.
    TAPS = torch.tensor([[[1.0, 0.0, 0.0], [0.0, 1.0, 1.0]], [[1.0, 1.0, 0.0], [0.0, 0.0, 1.0]]])

    def __init__(self, conv: nn.Conv2d):
        super().__init__()
        w, taps = conv.weight.detach(), self.TAPS.to(conv.weight.dtype)
        phases = [torch.einsum("ra,oiab,sb->oirs", taps[p], w, taps[q]) for p in (0, 1) for q in (0, 1)]
        self.conv = nn.Conv2d(conv.in_channels, 4 * conv.out_channels, 2)
        self.conv.weight.data, self.conv.bias.data = torch.cat(phases), conv.bias.detach().repeat(4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(batch, in_channels, h, w) to (batch, out_channels, 2h, 2w), as upsampling and the 3x3
        convolution give it."""
        n, _, h, w = x.shape
        y = self.conv(nn.functional.pad(x, (1, 1, 1, 1), mode="replicate"))
        y = y.permute(0, 2, 3, 1).contiguous()  # (batch, h + 1, w + 1, 4 phases x out): channels last
        out = y.shape[3] // 4
        row, col = y.stride(1), y.stride(2)
        # pixel (2i + p, 2j + q, o) is y[i + p, j + q, (2p + q) out + o]: one strided view, one copy
        y = y.as_strided((n, h, 2, w, 2, out), (y.stride(0), row, row + 2 * out, col, col + out, 1))
        return y.reshape(n, 2 * h, 2 * w, out).permute(0, 3, 1, 2)


def for_one_code(decoder: nn.Module) -> nn.Module:
    """A copy of ``decoder`` to decode one code at a time with: each upsampling and convolution of
    a :class:`ConvDecoder` made an :class:`UpsampledConv`, in channels-last memory layout (oneDNN's
    convolutions of few channels on large maps); equal to ``decoder`` to float32 rounding. Other
    decoders are copied as they are. On one thread the shipped vowel model decodes one code in
    0.68 of the time of its batch decoder, and 0.92 of a channels-last copy's (medians of 300
    interleaved calls).

    Examples
    --------
    >>> from stimgen import load_model
    >>> fast = for_one_code(load_model("vowels").G.decoder)
    >>> fast(torch.zeros(1, 32)).shape
    torch.Size([1, 1, 64, 64])
    """
    fast = copy.deepcopy(decoder)
    if isinstance(fast, ConvDecoder):
        layers: list[nn.Module] = []
        for layer in fast.net:
            if layers and _upsampled_conv(layers[-1], layer):
                layers[-1] = UpsampledConv(layer)
            else:
                layers.append(layer)
        fast.net = nn.Sequential(*layers)
    return fast.to(memory_format=torch.channels_last).eval()


def _upsampled_conv(upsampling: nn.Module, conv: nn.Module) -> bool:
    """Whether ``upsampling`` then ``conv`` is what :class:`UpsampledConv` computes: a nearest 2x
    upsampling, then a 3x3 convolution of stride 1, padded by 1 by reflection."""
    return (isinstance(upsampling, nn.Upsample) and upsampling.mode == "nearest" and upsampling.scale_factor == 2
            and isinstance(conv, nn.Conv2d) and conv.kernel_size == (3, 3) and conv.stride == (1, 1)
            and conv.padding == (1, 1) and conv.padding_mode == "reflect" and conv.groups == 1)


def _init(module: nn.Module) -> None:
    """He (Kaiming) initialisation for the leaky ReLUs; residual branches and the last layer
    start small, so that outputs start near the middle of their range instead of saturating."""
    layers = [m for m in module.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    for m in layers:
        nn.init.kaiming_normal_(m.weight, a=0.2, nonlinearity="leaky_relu")
        nn.init.zeros_(m.bias)
    for m in module.modules():
        if isinstance(m, ResBlock):
            m.conv2.weight.data.mul_(0.1)
    layers[-1].weight.data.mul_(0.1)
