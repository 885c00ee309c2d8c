"""Benchmark: stimgen's batched torch Griffin-Lim against librosa.feature.inverse.mel_to_audio.

Both invert the same mel magnitudes (11 one-second clips, the vowel settings stretched to 1 s)
with the same STFT settings, momentum and iteration count; librosa gets the whole batch as one
multichannel array, as fast as it allows. Run from the repository root:

    python experiments/bench_griffinlim.py [--repeats 5] [--iters 60]

It prints, from this one run: median wall time of each, the speed ratio, the spectral
convergence of both (mel domain, against the mel magnitudes they were given; and linear
domain, against the clips' true STFT magnitudes) and the log-spectral distance of the round
trip audio -> spectrogram -> audio -> spectrogram.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import time

import librosa
import numpy as np
import scipy.signal
import torch

from stimgen.data.birdsong import synthesize_syllable
from stimgen.data.vowels import synthesize_vowel, vocal_tract
from stimgen.signal.audio import normalize_rms
from stimgen.signal.spectrogram import SpectrogramConfig, _mel_basis, audio_to_spectrogram, spectrogram_to_audio


def clips(config: SpectrogramConfig, n: int, seed: int) -> np.ndarray:
    """n one-second test clips: vowels and birdsong syllables in turn, -20 dBFS RMS."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        if i % 2 == 0:
            formants, bandwidths = vocal_tract(rng.uniform(280, 800), rng.uniform(900, 2400), 2900.0)
            y = synthesize_vowel(rng.uniform(100, 250), formants, bandwidths, sr=config.sample_rate,
                                 duration=0.9, rng=rng)
        else:
            y, _ = synthesize_syllable("stack", rng, sr=config.sample_rate)
        y = librosa.util.fix_length(y, size=config.n_samples)
        out.append(normalize_rms(y, -20.0, on_clip="attenuate")[0])
    return np.stack(out)


def mel_magnitude(spec: np.ndarray, config: SpectrogramConfig) -> np.ndarray:
    """The mel magnitudes a model image stands for (what both inverters are given)."""
    db = spec * -config.min_db + config.min_db + config.ref_db
    return np.where(spec > 0, 10.0 ** (db / 20.0), 0.0).astype(np.float32)


def stft_mag(y: np.ndarray, config: SpectrogramConfig) -> np.ndarray:
    pre = scipy.signal.lfilter([1.0, -config.preemphasis], [1.0], y, axis=-1)
    return np.abs(librosa.stft(pre, n_fft=config.n_fft, hop_length=config.hop_length,
                               win_length=config.win_length, center=True, pad_mode="constant"))


def convergence(estimate: np.ndarray, target: np.ndarray) -> float:
    """Median over clips of ||estimate - target||_F / ||target||_F."""
    return float(np.median([np.linalg.norm(e - t) / np.linalg.norm(t) for e, t in zip(estimate, target)]))


def lsd_db(a: np.ndarray, b: np.ndarray, config: SpectrogramConfig) -> float:
    """Median over clips of the RMS difference in dB between two model images."""
    return float(np.median(np.sqrt(np.mean(((a - b) * -config.min_db) ** 2, axis=(1, 2)))))


def timed(fn, repeats: int) -> tuple[float, np.ndarray]:
    fn()  # warm-up
    times, result = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--iters", type=int, default=60)
    ap.add_argument("--clips", type=int, default=11)
    args = ap.parse_args()

    base = SpectrogramConfig.preset("vowels")
    config = dataclasses.replace(base, n_frames=1 + base.sample_rate // base.hop_length, n_iter=args.iters)
    y = clips(config, args.clips, seed=0)
    spec = audio_to_spectrogram(y, config)
    mel = mel_magnitude(spec, config)

    def ours() -> np.ndarray:
        return spectrogram_to_audio(spec, config)

    def peer() -> np.ndarray:
        np.random.seed(0)
        audio = librosa.feature.inverse.mel_to_audio(
            mel, sr=config.sample_rate, n_fft=config.n_fft, hop_length=config.hop_length,
            win_length=config.win_length, window="hann", center=True, pad_mode="constant", power=1.0,
            n_iter=config.n_iter, length=config.n_samples, fmin=config.fmin, fmax=config.fmax,
        )  # librosa's Griffin-Lim uses momentum 0.99 and a random initial phase, as ours does
        return scipy.signal.lfilter([1.0], [1.0, -config.preemphasis], audio, axis=-1).astype(np.float32)

    t_ours, y_ours = timed(ours, args.repeats)
    t_peer, y_peer = timed(peer, args.repeats)

    basis = _mel_basis(config).numpy()
    true_mag = stft_mag(y, config)
    print(f"torch {torch.__version__}, librosa {librosa.__version__}, torch threads {torch.get_num_threads()}")
    print(f"{args.clips} clips x {config.duration:.3f} s at {config.sample_rate} Hz, n_fft {config.n_fft}, "
          f"hop {config.hop_length}, {config.n_mels} mels, {config.n_iter} iterations, momentum {config.momentum}")
    print(f"{'':10s} {'median s':>9s} {'SC mel':>8s} {'SC linear':>10s} {'round-trip LSD dB':>18s}")
    for name, t, out in (("stimgen", t_ours, y_ours), ("librosa", t_peer, y_peer)):
        mag = stft_mag(out, config)
        print(f"{name:10s} {t:9.3f} {convergence(basis @ mag, mel):8.3f} {convergence(mag, true_mag):10.3f} "
              f"{lsd_db(spec, audio_to_spectrogram(out, config), config):18.2f}")
    print(f"speed ratio librosa / stimgen: {t_peer / t_ours:.1f}x (goal >= 2x); "
          f"stimgen inverts {args.clips} clips in {t_ours:.3f} s (goal < 1 s)")


if __name__ == "__main__":
    main()
