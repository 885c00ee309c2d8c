"""Batched fast Griffin-Lim phase reconstruction on torch (CPU or GPU).

The "fast" variant (Perraudin, Balazs & Sondergaard 2013) adds a momentum term to the classic
Griffin-Lim iteration; with momentum 0.99 it is the method ``librosa.griffinlim`` uses. Here the
whole batch of magnitude spectrograms is one tensor, so every iteration is one STFT and one
inverse STFT for all clips together.
"""

from __future__ import annotations

import math

import torch


def griffin_lim(
    magnitude: torch.Tensor,
    n_fft: int,
    hop_length: int,
    win_length: int,
    length: int,
    n_iter: int = 60,
    momentum: float = 0.99,
    seed: int = 0,
    start: torch.Tensor | None = None,
) -> torch.Tensor:
    """Audio whose STFT magnitude approximates ``magnitude``.

    Parameters
    ----------
    magnitude : tensor (batch, 1 + n_fft // 2, frames), non-negative
        Linear STFT magnitudes (Hann window, centred frames, zero padding).
    length : int
        Samples in each output signal.
    n_iter, momentum : int, float
        Iterations, and the momentum of the fast variant (0 gives classic Griffin-Lim).
    seed : int
        Seeds the random initial phase, so the result is reproducible; every clip starts from
        the same one, so that a clip comes out the same whatever batch it is in.
    start : complex tensor (batch, 1 + n_fft // 2, frames) or None
        The initial phase, as unit complex numbers; where it is 0 (or None) the seeded random
        phase is used.

    Returns
    -------
    tensor (batch, length), on the device and in the dtype of ``magnitude``.

    Examples
    --------
    >>> mag = torch.rand(4, 257, 64)
    >>> griffin_lim(mag, 512, 128, 400, length=63 * 128, n_iter=8).shape
    torch.Size([4, 8064])
    """
    if magnitude.ndim != 3 or magnitude.shape[1] != n_fft // 2 + 1:
        raise ValueError(f"magnitude must be (batch, {n_fft // 2 + 1}, frames), got {tuple(magnitude.shape)}")
    window = torch.hann_window(win_length, periodic=True, dtype=magnitude.dtype, device=magnitude.device)
    stft_args = dict(n_fft=n_fft, hop_length=hop_length, win_length=win_length, window=window, center=True)

    generator = torch.Generator(device="cpu").manual_seed(seed)
    # one random phase for every clip of the batch: a clip's sound does not depend on the batch it is
    # made in (stimgen.Continuum makes one step at a time what stimgen continuum made eleven at once)
    phase = torch.rand((1, *magnitude.shape[1:]), generator=generator, dtype=magnitude.dtype) * (2 * math.pi)
    angles = torch.polar(torch.ones_like(phase), phase).expand(magnitude.shape).to(magnitude.device)
    if start is not None:
        angles = torch.where(start != 0, start.to(angles.dtype), angles)
    previous = torch.zeros_like(angles)
    accel = momentum / (1.0 + momentum)
    for _ in range(n_iter):
        signal = torch.istft(magnitude * angles, length=length, **stft_args)
        rebuilt = torch.stft(signal, pad_mode="constant", return_complex=True, **stft_args)
        angles = rebuilt - accel * previous
        angles = angles / (angles.abs() + 1e-16)
        previous = rebuilt
    return torch.istft(magnitude * angles, length=length, **stft_args)
