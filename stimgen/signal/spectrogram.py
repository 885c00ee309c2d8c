"""The spectrogram a model sees, and its inverse.

Audio becomes a fixed-size image in [0, 1] (mel bins x frames) as in the GAIA authors' lab
(see docs/spectrogram.md): pre-emphasis, STFT magnitude, mel filterbank (librosa's, Slaney
normalisation), dB = 20 log10(max(1e-8, mel)) - ref_db, then (dB - min_db) / -min_db clipped to
[0, 1]. The inverse undoes the normalisation, maps mel back to linear frequency by non-negative
least squares, recovers phase with batched fast Griffin-Lim on torch and undoes pre-emphasis.

Every setting lives in one frozen :class:`SpectrogramConfig`, saved as JSON beside every data set
and model, so that a model always decodes with the settings it was trained with.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import os
from dataclasses import dataclass
from pathlib import Path

import librosa
import numpy as np
import torch

from stimgen.cache import cached_array
from stimgen.errors import StimgenError
from stimgen.signal.audio import check_audio, fix_duration, load_audio, normalize_rms, resample
from stimgen.signal.griffinlim import griffin_lim

#: RMS level every sound is brought to before it becomes a spectrogram (training and use alike).
TRAINING_LEVEL_DBFS = -20.0
AMIN = 1e-8  # far below min_db for any ref_db in use, so silence maps to 0


class FrameSettings:
    """What the settings of every frame-by-frame transform of sound share: ``n_frames`` frames
    ``hop_length`` samples apart at ``sample_rate`` cover ``n_samples = (n_frames - 1) * hop_length``
    samples, and the settings are a dict of their fields in config.json (``KIND`` names them in errors)."""

    KIND = "transform"
    sample_rate: int
    hop_length: int
    n_frames: int

    @property
    def n_samples(self) -> int:
        """Audio samples covered by one item."""
        return (self.n_frames - 1) * self.hop_length

    @property
    def duration(self) -> float:
        """Seconds of audio covered by one item."""
        return self.n_samples / self.sample_rate

    def to_dict(self) -> dict:
        """The settings as a dict of their fields, as config.json holds them."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict):
        """The settings described by ``d``, a dict of fields as :meth:`to_dict` gives.

        Parameters
        ----------
        d : dict
            Field values; a field left out takes its default.

        Returns
        -------
        FrameSettings
            An instance of the class it is called on.

        Raises
        ------
        StimgenError
            For a field the settings do not have (named with ``KIND``), or values the class refuses.
        """
        unknown = set(d) - {f.name for f in dataclasses.fields(cls)}
        if unknown:
            raise StimgenError(f"unknown {cls.KIND} settings: {', '.join(sorted(unknown))}")
        return cls(**d)

    @classmethod
    def from_section(cls, data: dict, key: str):
        """The settings in ``data[key]`` of a model's config.json, or an error that names the section."""
        try:
            return cls.from_dict(data[key])
        except (KeyError, TypeError, AttributeError) as exc:
            raise StimgenError(f"data.{key} is missing or malformed ({exc.__class__.__name__}: {exc})") from None
        except StimgenError as exc:
            raise StimgenError(f"data.{key}: {exc.problem}") from None


@dataclass(frozen=True)
class SpectrogramConfig(FrameSettings):
    """Every setting of the audio <-> image transform.

    The image has ``n_mels`` rows (low frequencies first) and ``n_frames`` columns and covers
    ``n_samples = (n_frames - 1) * hop_length`` samples of audio (centred frames).

    Examples
    --------
    >>> cfg = SpectrogramConfig.preset("vowels")
    >>> cfg.n_mels, cfg.n_frames, round(cfg.duration, 3)
    (64, 64, 0.504)
    >>> SpectrogramConfig.from_dict(cfg.to_dict()) == cfg
    True
    """

    sample_rate: int = 16000
    n_fft: int = 1024
    win_length: int = 400
    hop_length: int = 128
    window: str = "hann"
    n_mels: int = 64
    fmin: float = 50.0
    fmax: float = 8000.0
    ref_db: float = -10.0
    min_db: float = -80.0
    preemphasis: float = 0.97
    n_frames: int = 64
    n_iter: int = 60
    momentum: float = 0.99
    inversion_power: float = 1.0

    def __post_init__(self) -> None:
        problems = []
        if self.sample_rate < 1000:
            problems.append(f"sample_rate {self.sample_rate} is below 1000 Hz")
        if not 0 < self.win_length <= self.n_fft:
            problems.append(f"win_length {self.win_length} must be in (0, n_fft={self.n_fft}]")
        if not 0 < self.hop_length <= self.win_length:
            problems.append(f"hop_length {self.hop_length} must be in (0, win_length={self.win_length}]")
        if self.window != "hann":
            problems.append(f"window {self.window!r} is not supported (only 'hann')")
        if not 0 <= self.fmin < self.fmax <= self.sample_rate / 2:
            problems.append(f"need 0 <= fmin < fmax <= sample_rate / 2, got {self.fmin:g}, {self.fmax:g}")
        if self.n_mels < 2 or self.n_frames < 2:
            problems.append("n_mels and n_frames must be at least 2")
        if self.min_db >= 0:
            problems.append(f"min_db must be negative, got {self.min_db:g}")
        if not 0 <= self.preemphasis < 1:
            problems.append(f"preemphasis must be in [0, 1), got {self.preemphasis:g}")
        if self.n_iter < 0 or not 0 <= self.momentum < 1 or self.inversion_power <= 0:
            problems.append("need n_iter >= 0, 0 <= momentum < 1 and inversion_power > 0")
        if problems:
            raise StimgenError("invalid spectrogram settings: " + "; ".join(problems))

    KIND = "spectrogram"

    @property
    def shape(self) -> tuple[int, int]:
        """(n_mels, n_frames): the image a model sees."""
        return (self.n_mels, self.n_frames)

    def save(self, path: str | os.PathLike) -> None:
        """Write the settings to the file ``path`` as indented JSON (the fields of :meth:`to_dict`)."""
        Path(path).write_text(json.dumps(self.to_dict(), indent=2) + "\n")

    @classmethod
    def load(cls, path: str | os.PathLike) -> "SpectrogramConfig":
        """Settings from a JSON file as :meth:`save` writes it.

        Parameters
        ----------
        path : str or os.PathLike
            The JSON file.

        Returns
        -------
        SpectrogramConfig

        Raises
        ------
        StimgenError
            Naming the file, when it does not exist, is not valid JSON or not a JSON object, or holds
            unknown or invalid settings.
        """
        try:
            d = json.loads(Path(path).read_text())
        except FileNotFoundError:
            raise StimgenError("no such file", path=path) from None
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise StimgenError(f"not valid JSON ({exc})", path=path) from None
        if not isinstance(d, dict):
            raise StimgenError("spectrogram settings must be a JSON object", path=path)
        try:
            return cls.from_dict(d)
        except TypeError as exc:
            raise StimgenError(f"bad spectrogram settings ({exc})", path=path) from None
        except StimgenError as exc:
            raise StimgenError(exc.problem, path=path) from None

    @classmethod
    def preset(cls, name: str, **overrides) -> "SpectrogramConfig":
        """Settings tuned for one kind of sound: ``"vowels"`` (16 kHz, 0.5 s, 50 Hz-8 kHz) or
        ``"birdsong"`` (32 kHz, 0.25 s, 300 Hz-12 kHz)."""
        if name not in PRESETS:
            raise StimgenError(f"unknown spectrogram preset {name!r}; choose from {', '.join(PRESETS)}")
        return dataclasses.replace(PRESETS[name], **overrides)


PRESETS = {
    "vowels": SpectrogramConfig(),
    "birdsong": SpectrogramConfig(
        sample_rate=32000, n_fft=512, win_length=320, hop_length=128, fmin=300.0, fmax=12000.0
    ),
}


# --- the transform -------------------------------------------------------------------------


@functools.lru_cache(maxsize=8)
def _mel_basis(config: SpectrogramConfig) -> torch.Tensor:
    """librosa's mel filterbank, kept in the cache folder after its first use: importing
    ``librosa.filters`` (and scipy.signal with it) takes longer than a whole short continuum."""

    def compute() -> np.ndarray:
        """The filterbank (n_mels, n_fft // 2 + 1) computed by librosa, for when it is not cached."""
        from librosa import filters

        return filters.mel(sr=config.sample_rate, n_fft=config.n_fft, n_mels=config.n_mels, fmin=config.fmin,
                           fmax=config.fmax)

    name = (f"filters/mel-librosa{librosa.__version__}-{config.sample_rate}-{config.n_fft}-{config.n_mels}-"
            f"{config.fmin:g}-{config.fmax:g}.npy")
    basis = cached_array(name, compute, (config.n_mels, config.n_fft // 2 + 1), np.float32)
    return torch.from_numpy(basis)


def audio_to_spectrogram(
    y: np.ndarray, config: SpectrogramConfig, fit: str = "pad-or-crop"
) -> np.ndarray:
    """Map audio at ``config.sample_rate`` to the model's image in [0, 1].

    Signals are first fitted to ``config.n_samples`` by :func:`stimgen.signal.audio.fix_duration` under
    the policy ``fit`` (centred). Unlike :func:`sound_to_spectrogram`, this neither resamples nor
    changes the level.

    Parameters
    ----------
    y : np.ndarray
        Audio at ``config.sample_rate``, (samples,) or (batch, samples); silence is allowed.
    config : SpectrogramConfig
        The transform's settings.
    fit : str
        How a signal of another length is fitted: ``"pad-or-crop"``, ``"pad"``, ``"crop"`` or
        ``"exact"`` (see :func:`stimgen.signal.audio.fix_duration`).

    Returns
    -------
    np.ndarray
        float32 (n_mels, n_frames), or (batch, n_mels, n_frames), in [0, 1]; rows run from low to
        high frequency.

    Raises
    ------
    StimgenError
        For an array that is not (samples,) or (batch, samples), signals shorter than
        ``config.win_length`` samples, NaN or infinite samples, or a length the policy ``fit`` refuses.

    Examples
    --------
    >>> cfg = SpectrogramConfig.preset("vowels")
    >>> y = 0.1 * np.sin(2 * np.pi * 440 * np.arange(cfg.n_samples) / cfg.sample_rate)
    >>> audio_to_spectrogram(y, cfg).shape
    (64, 64)
    """
    arr = np.asarray(y, dtype=np.float32)
    if arr.ndim not in (1, 2):
        raise StimgenError(f"expected audio of shape (samples,) or (batch, samples), got {arr.shape}")
    if arr.shape[-1] < config.win_length:
        raise StimgenError(
            f"audio of {arr.shape[-1]} samples is too short for the transform "
            f"(needs at least win_length = {config.win_length} samples)"
        )
    rows = [fix_duration(check_audio(row, allow_silence=True), config.sample_rate, config.duration, fit)
            for row in np.atleast_2d(arr)]
    batch = torch.from_numpy(np.stack(rows))
    out = _spectrogram(batch, config)
    return out[0].numpy() if arr.ndim == 1 else out.numpy()


def load_spectrogram(path: str | os.PathLike, config: SpectrogramConfig) -> np.ndarray:
    """A sound file as the model image a model trained with ``config`` sees (see :func:`sound_to_spectrogram`).

    Parameters
    ----------
    path : str or os.PathLike
        A sound file that soundfile reads (WAV, FLAC, OGG, ...), at any rate; it is mixed to mono
        as :func:`stimgen.signal.audio.load_audio` does.
    config : SpectrogramConfig
        The settings of the model's transform.

    Returns
    -------
    np.ndarray
        float32 (n_mels, n_frames) in [0, 1].

    Raises
    ------
    StimgenError
        Naming the file, when it is missing or unreadable, has zero length, NaN or infinite
        samples, is all silence, or is shorter than one analysis window.

    Examples
    --------
    >>> load_spectrogram("a.wav", SpectrogramConfig.preset("vowels")).shape   # doctest: +SKIP
    (64, 64)
    """
    y, sr = load_audio(path)
    return sound_to_spectrogram(y, sr, config, path=path)


def sound_to_spectrogram(
    y: np.ndarray, sr: int, config: SpectrogramConfig, path: str | os.PathLike | None = None
) -> np.ndarray:
    """A sound at rate ``sr`` as the model image a model trained with ``config`` sees.

    The sound is resampled to ``config.sample_rate``, brought to ``TRAINING_LEVEL_DBFS`` RMS
    (attenuated where the peak would clip) and centred, padded or cropped, to ``config.duration``:
    the same path for training data and for the files a user morphs, so that both look alike to
    the model. A sound shorter than one analysis window (``config.win_length`` samples at
    ``config.sample_rate``) is refused; ``path`` names the sound in that and every other error.

    Parameters
    ----------
    y : np.ndarray
        Mono audio (samples,).
    sr : int
        Sample rate of ``y`` in Hz.
    config : SpectrogramConfig
        The settings of the model's transform.
    path : str or os.PathLike or None
        The file the sound came from, named in errors only.

    Returns
    -------
    np.ndarray
        float32 (n_mels, n_frames) in [0, 1].

    Raises
    ------
    StimgenError
        For audio that is not 1-D, has zero length, NaN or infinite samples, is all silence, or
        lasts less than one analysis window.

    Examples
    --------
    >>> cfg = SpectrogramConfig.preset("vowels")
    >>> y = 0.1 * np.sin(2 * np.pi * 220 * np.arange(44100) / 44100)
    >>> sound_to_spectrogram(y, 44100, cfg).shape
    (64, 64)
    """
    return audio_to_spectrogram(_model_rate(y, sr, config, path), config)


def sound_phase(y: np.ndarray, sr: int, config: SpectrogramConfig, path: str | os.PathLike | None = None
                ) -> np.ndarray:
    """The phase of a sound's STFT, framed as :func:`sound_to_spectrogram` frames the sound (the
    same rate, window, pre-emphasis and centring): complex64 (n_fft // 2 + 1, n_frames) of modulus
    1, or 0 where the sound has no energy. Griffin-Lim started from it rebuilds the sound's own
    image as the sound itself (see :func:`spectrogram_to_audio`).

    Examples
    --------
    >>> cfg = SpectrogramConfig.preset("vowels")
    >>> y = 0.1 * np.sin(2 * np.pi * 220 * np.arange(16000) / 16000)
    >>> sound_phase(y, 16000, cfg).shape
    (513, 64)
    """
    fitted = fix_duration(_model_rate(y, sr, config, path), config.sample_rate, config.duration, "pad-or-crop")
    stft = _stft(torch.from_numpy(fitted[None].astype(np.float32)), config)[0]
    return (stft / torch.where(stft.abs() > 0, stft.abs(), torch.ones_like(stft.abs()))).numpy().astype(np.complex64)


def _model_rate(y: np.ndarray, sr: int, config: SpectrogramConfig, path: str | os.PathLike | None) -> np.ndarray:
    """A sound checked, resampled to ``config.sample_rate`` and brought to the training level, as
    :func:`sound_to_spectrogram` takes it (before the fit to the model's duration)."""
    y = check_audio(y, path=path)
    min_seconds = config.win_length / config.sample_rate
    if y.size / sr < min_seconds:
        raise StimgenError(f"lasts {y.size / sr * 1e3:.3g} ms ({y.size} samples at {sr:.0f} Hz); the model needs at "
                           f"least {min_seconds * 1e3:g} ms", path=path)
    y = resample(y, sr, config.sample_rate)
    if y.size < config.win_length:  # long enough, but resampling rounded a sample away
        y = np.pad(y, (0, config.win_length - y.size))
    y, _ = normalize_rms(y, TRAINING_LEVEL_DBFS, on_clip="fit")  # attenuating a peaky file is expected here, not news
    return y


def _stft(batch: torch.Tensor, config: SpectrogramConfig) -> torch.Tensor:
    """The complex STFT (batch, n_fft // 2 + 1, frames) of pre-emphasised signals, as the images take it."""
    if config.preemphasis:
        batch = torch.cat([batch[:, :1], batch[:, 1:] - config.preemphasis * batch[:, :-1]], dim=1)
    window = torch.hann_window(config.win_length, periodic=True, device=batch.device)
    return torch.stft(
        batch, n_fft=config.n_fft, hop_length=config.hop_length, win_length=config.win_length,
        window=window, center=True, pad_mode="constant", return_complex=True,
    )


def _spectrogram(batch: torch.Tensor, config: SpectrogramConfig) -> torch.Tensor:
    stft = _stft(batch, config)
    mel = _mel_basis(config).to(batch.device) @ stft.abs()
    db = 20.0 * torch.log10(torch.clamp(mel, min=AMIN)) - config.ref_db
    return torch.clamp((db - config.min_db) / -config.min_db, 0.0, 1.0)


def mel_to_linear(mel: torch.Tensor, config: SpectrogramConfig, n_iter: int = 30) -> torch.Tensor:
    """Non-negative least-squares estimate of linear STFT magnitudes from mel magnitudes.

    Multiplicative updates (Lee & Seung) for min ||M X - mel|| with X >= 0, started from the
    clipped pseudo-inverse; batched over the leading dimension.

    Parameters
    ----------
    mel : torch.Tensor
        Mel magnitudes (linear amplitude, not dB), (n_mels, n_frames) or (batch, n_mels, n_frames).
    config : SpectrogramConfig
        The settings whose mel filterbank ``M`` made ``mel``.
    n_iter : int
        Number of multiplicative updates.

    Returns
    -------
    torch.Tensor
        Non-negative STFT magnitudes, (n_fft // 2 + 1, n_frames) or (batch, n_fft // 2 + 1,
        n_frames), on the device and in the dtype of ``mel``.

    Examples
    --------
    >>> cfg = SpectrogramConfig.preset("vowels")
    >>> mel_to_linear(torch.ones(2, 64, 5), cfg).shape
    torch.Size([2, 513, 5])
    """
    basis = _mel_basis(config).to(mel.device, mel.dtype)
    x = torch.clamp(torch.linalg.pinv(basis) @ mel, min=1e-8)
    numerator = basis.T @ mel
    gram = basis.T @ basis
    for _ in range(n_iter):
        x = x * numerator / (gram @ x + 1e-12)
    return x


def deemphasis(audio: torch.Tensor, coef: float) -> torch.Tensor:
    """Undo pre-emphasis along the last axis: y[n] = x[n] + coef * y[n - 1].

    The same filter as ``scipy.signal.lfilter([1], [1, -coef], x)``, computed as an FFT
    convolution with its impulse response coef**k cut where it falls below 1e-12 of its start
    (so the result agrees with lfilter to float precision). Written here because importing
    scipy.signal takes about a second, more than the whole inversion of a short continuum.

    Parameters
    ----------
    audio : torch.Tensor
        Pre-emphasised signals, samples along the last axis.
    coef : float
        The pre-emphasis coefficient, with 0 < |coef| < 1.

    Returns
    -------
    torch.Tensor
        The filtered signals, the shape, dtype and device of ``audio``.

    Raises
    ------
    StimgenError
        When ``coef`` does not lie strictly between -1 and 1, or is 0.

    Examples
    --------
    >>> deemphasis(torch.tensor([1.0, 0.0, 0.0]), 0.5)
    tensor([1.0000, 0.5000, 0.2500])
    """
    if not 0.0 < abs(coef) < 1.0:
        raise StimgenError(f"the pre-emphasis coefficient must lie strictly between -1 and 1, got {coef}")
    taps = int(np.ceil(np.log(1e-12) / np.log(abs(coef))))
    n = audio.shape[-1]
    n_fft = 1 << int(np.ceil(np.log2(n + taps - 1)))
    response = coef ** torch.arange(taps, dtype=torch.float64, device=audio.device)
    spectrum = torch.fft.rfft(audio.double(), n_fft) * torch.fft.rfft(response, n_fft)
    return torch.fft.irfft(spectrum, n_fft)[..., :n].to(audio.dtype)


def spectrogram_to_audio(
    spec: np.ndarray, config: SpectrogramConfig, n_iter: int | None = None, seed: int = 0, device: str = "cpu",
    phase: np.ndarray | None = None,
) -> np.ndarray:
    """Invert model images back to audio at ``config.sample_rate``.

    The whole batch is inverted together by fast Griffin-Lim (``config.n_iter`` iterations unless
    ``n_iter``), on ``device`` ("cpu" or "cuda"), from a random phase or from ``phase``.

    Parameters
    ----------
    spec : np.ndarray
        Model images, (n_mels, n_frames) or (batch, n_mels, n_frames), in [0, 1]; values outside
        are clipped to it.
    config : SpectrogramConfig
        The settings the images were made with.
    n_iter : int or None
        Griffin-Lim iterations; None uses ``config.n_iter``.
    seed : int
        Seed of Griffin-Lim's random initial phase, so that the result is reproducible.
    device : str
        The torch device the inversion runs on.
    phase : np.ndarray or None
        Where Griffin-Lim starts: complex (n_fft // 2 + 1, n_frames), or one per image, such as
        :func:`sound_phase` gives; its zeros (and every image where it is None) start from the
        seeded random phase. An image of a sound started from that sound's own phase comes back
        as nearly that sound as the image holds it, where a random start leaves each
        harmonic's phase to chance.

    Returns
    -------
    np.ndarray
        float32 (n_samples,) or (batch, n_samples), at ``config.sample_rate``.

    Raises
    ------
    StimgenError
        When ``spec`` is not of shape ``config.shape`` (or a batch of them), or holds NaN or
        infinite values.

    Examples
    --------
    >>> cfg = SpectrogramConfig.preset("vowels")
    >>> spectrogram_to_audio(np.zeros((3, 64, 64)), cfg, n_iter=2).shape
    (3, 8064)
    """
    arr = np.asarray(spec, dtype=np.float32)
    single = arr.ndim == 2
    if arr.ndim not in (2, 3) or arr.shape[-2:] != config.shape:
        raise StimgenError(f"expected a spectrogram of shape {config.shape} (or a batch of them), got {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise StimgenError("spectrogram contains NaN or infinite values")
    s = torch.from_numpy(arr[None] if single else arr).to(device)
    s = s.clamp(0.0, 1.0)
    db = s * -config.min_db + config.min_db + config.ref_db
    mel = torch.where(s > 0, 10.0 ** (db / 20.0), torch.zeros_like(s))
    magnitude = mel_to_linear(mel, config) ** config.inversion_power
    start = None if phase is None else torch.from_numpy(np.broadcast_to(phase, magnitude.shape).copy()).to(device)
    audio = griffin_lim(
        magnitude, config.n_fft, config.hop_length, config.win_length, length=config.n_samples,
        n_iter=config.n_iter if n_iter is None else n_iter, momentum=config.momentum, seed=seed, start=start,
    )
    if config.preemphasis:
        audio = deemphasis(audio, config.preemphasis)
    audio = audio.cpu().numpy().astype(np.float32)
    return audio[0] if single else audio
