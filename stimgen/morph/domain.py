"""Between files and a model: what a model takes in, what it gives back, and how far apart two items are.

A :class:`Domain` wraps a loaded model. Audio models see spectrograms (their settings come from
the model's config.json, so a file is analysed exactly as the training data were); image models
see pixels at the model's size and colour mode. Items in the model's space are float32 arrays
(N, C, H, W) in [0, 1]; codes are (N, latent_dim).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from stimgen.audio import apply_ramps, fix_duration, load_audio, normalize_rms, resample
from stimgen.data.folder import AUDIO_EXTENSIONS, IMAGE_EXTENSIONS
from stimgen.errors import StimgenError
from stimgen.features import PITCH_RANGES, SPEECH_PITCH_RANGE, audio_features
from stimgen.image import load_image
from stimgen.spectrogram import SpectrogramConfig, load_spectrogram, sound_to_spectrogram, spectrogram_to_audio

#: Distances each kind of model offers; the first is the default.
METRICS = {"audio": ("spectral", "formants"), "image": ("pixel",)}
METRIC_UNITS = {"spectral": "dB", "formants": "Bark", "pixel": "RMS"}


def default_model(example: str | os.PathLike) -> str:
    """The shipped model for files like ``example``: ``digits`` for images, ``vowels`` for anything else.

    Examples
    --------
    >>> default_model("face.png"), default_model("i.wav")
    ('digits', 'vowels')
    """
    return "digits" if Path(example).suffix.lower() in IMAGE_EXTENSIONS else "vowels"


@dataclass(frozen=True)
class RenderSettings:
    """How a model's items become stimulus files.

    Audio is resampled to ``sr``, given raised-cosine on/off ramps of ``ramp_ms`` and scaled to
    ``level_dbfs`` RMS; a stimulus whose peak would then exceed ``max_peak_dbfs`` is refused
    (lower the level) rather than clipped or left quieter than the rest. Images ignore these.
    """

    sr: int = 48000
    level_dbfs: float = -20.0
    ramp_ms: float = 10.0
    max_peak_dbfs: float = -1.0

    def __post_init__(self) -> None:
        if not (isinstance(self.sr, (int, np.integer)) and 8000 <= self.sr <= 192000):
            raise StimgenError(f"sample rate must be a whole number of Hz from 8000 to 192000, got {self.sr!r}")
        if not -80.0 <= self.level_dbfs < self.max_peak_dbfs <= 0.0:
            raise StimgenError(f"level must lie between -80 dBFS and the peak limit {self.max_peak_dbfs:g} dBFS, "
                               f"got {self.level_dbfs:g}")
        if not 0.0 <= self.ramp_ms <= 100.0:
            raise StimgenError(f"ramps must last 0 to 100 ms, got {self.ramp_ms:g}")


class Domain:
    """A model together with the way files become its items and items become files.

    Examples
    --------
    >>> from stimgen import load_model
    >>> domain = Domain(load_model("vowels"))                    # doctest: +SKIP
    >>> z = domain.encode(domain.load("a.wav")[None])            # doctest: +SKIP
    """

    def __init__(self, model) -> None:
        self.model = model
        info = getattr(model, "info", {})
        data = info.get("data", {})
        self.folder = Path(info["path"]) if "path" in info else None
        self.name = Path(info.get("path", "model")).name
        self.sha256 = info.get("model_sha256", "")
        self.kind = data.get("kind")
        if self.kind == "audio":
            self.spectrogram = SpectrogramConfig.from_dict(data["spectrogram"])
            self.pitch_range = PITCH_RANGES.get(str(data.get("source")), SPEECH_PITCH_RANGE)
        elif self.kind == "image":
            self.size = tuple(data["image"]["size"])
            self.mode = data["image"]["mode"]
        else:
            raise StimgenError("model config.json does not say what data it was trained on (data.kind)",
                               path=info.get("path"))

    # --- files to items and back ----------------------------------------------------------------
    def load(self, path: str | os.PathLike) -> np.ndarray:
        """A file as the model's item (C, H, W), analysed as the training data were."""
        path = Path(path)
        suffix = path.suffix.lower()
        if self.kind == "audio" and suffix in IMAGE_EXTENSIONS:
            raise StimgenError(f"is an image, but model {self.name!r} makes sounds", path=path)
        if self.kind == "image" and suffix in AUDIO_EXTENSIONS:
            raise StimgenError(f"is a sound, but model {self.name!r} makes images", path=path)
        if self.kind == "audio":
            return load_spectrogram(path, self.spectrogram)[None]
        return self.item_from_image(load_image(path, size=self.size, mode=self.mode))

    def item_from_sound(self, y: np.ndarray, sr: int) -> np.ndarray:
        """A sound at rate ``sr`` as the model's item (1, H, W), analysed as a file would be."""
        return sound_to_spectrogram(y, sr, self.spectrogram)[None]

    @staticmethod
    def item_from_image(x: np.ndarray) -> np.ndarray:
        """An image (H, W) or (H, W, 3) at the model's size as the model's item (C, H, W)."""
        return x[None] if x.ndim == 2 else x.transpose(2, 0, 1)

    def encode(self, x: np.ndarray) -> np.ndarray:
        """Codes (N, latent_dim) of items (N, C, H, W)."""
        with torch.no_grad():
            return self.model.encode(torch.as_tensor(np.asarray(x, dtype=np.float32))).double().numpy()

    def decode(self, z: np.ndarray) -> np.ndarray:
        """Items (N, C, H, W) decoded from codes (N, latent_dim)."""
        with torch.no_grad():
            return self.model.decode(torch.as_tensor(np.asarray(z, dtype=np.float32))).numpy()

    def model_audio(self, x: np.ndarray, seed: int = 0) -> np.ndarray:
        """Spectrogram items (N, 1, H, W) as sound at the model's own rate, (N, samples)."""
        return spectrogram_to_audio(x[:, 0], self.spectrogram, seed=seed).reshape(len(x), -1)

    def render(self, x: np.ndarray, settings: RenderSettings, seed: int = 0,
               sources: list[Path | None] | None = None) -> list[np.ndarray]:
        """Items as finished stimuli: sounds (samples,) at ``settings.sr``, or images (H, W[, 3]) in [0, 1].

        Where ``sources[i]`` names a file, that file itself is used for item i (resampled, fitted to
        the model's duration, or resized) instead of the decoded item.
        """
        sources = sources or [None] * len(x)
        if self.kind == "image":
            return [self._image(x[i]) if src is None else self._image(self.load(src)) for i, src in enumerate(sources)]
        audio = self.model_audio(x, seed=seed)
        out = []
        for i, src in enumerate(sources):
            if src is None:
                y = resample(audio[i], self.spectrogram.sample_rate, settings.sr)
            else:
                y, _ = load_audio(src, sr=settings.sr)
            y = fix_duration(y, settings.sr, self.spectrogram.duration)
            out.append(self.condition(y, settings, name=f"stimulus {i}" if src is None else str(src)))
        return out

    @staticmethod
    def condition(y: np.ndarray, settings: RenderSettings, name: str = "stimulus") -> np.ndarray:
        """Ramps, then the RMS level; a stimulus that would clip is refused with an error naming it."""
        y = apply_ramps(y, settings.sr, settings.ramp_ms)
        try:
            y, _ = normalize_rms(y, settings.level_dbfs, max_peak_dbfs=settings.max_peak_dbfs)
        except StimgenError as exc:
            raise StimgenError(f"{exc.problem} (try --level {np.floor(settings.level_dbfs - 6):g})", path=name) from None
        return y

    def _image(self, item: np.ndarray) -> np.ndarray:
        return np.clip(item[0] if item.shape[0] == 1 else item.transpose(1, 2, 0), 0.0, 1.0)

    # --- distances -------------------------------------------------------------------------------
    def default_metric(self) -> str:
        return METRICS[self.kind][0]

    def check_metric(self, metric: str | None) -> str:
        """``metric`` (or the default) if this kind of model offers it."""
        metric = metric or self.default_metric()
        if metric not in METRICS[self.kind]:
            raise StimgenError(f"metric {metric!r} does not apply to {self.kind} models; "
                               f"choose from {', '.join(METRICS[self.kind])}")
        return metric

    def neighbour_distances(self, x: np.ndarray, metric: str, seed: int = 0) -> np.ndarray:
        """Distances (N - 1,) between consecutive items (N, C, H, W) of the model's space.

        ``spectral``: log-mel spectral distance, the RMS over mel bins and frames of the difference in
        dB. ``pixel``: RMS difference of pixel values in [0, 1]. ``formants``: Euclidean distance in
        (F1, F2) Bark, measured with Praat on the items inverted to sound.
        """
        if metric == "spectral":
            return spectral_distance(x[1:], x[:-1], self.spectrogram.min_db)
        if metric == "pixel":
            return pixel_distance(x[1:], x[:-1])
        barks = self.formants_bark(self.model_audio(x, seed=seed), self.spectrogram.sample_rate)
        return bark_distance(barks[1:], barks[:-1])

    def formants_bark(self, sounds: np.ndarray | list[np.ndarray], sr: int) -> np.ndarray:
        """(F1, F2) in Bark of each sound, (N, 2); NaN where Praat finds no voicing."""
        rows = [audio_features(y, sr, self.pitch_range) for y in sounds]
        return np.array([[r["f1_bark"], r["f2_bark"]] for r in rows])


def spectral_distance(a: np.ndarray, b: np.ndarray, min_db: float) -> np.ndarray:
    """Log-mel spectral distance (dB) between spectrogram items in [0, 1] scaled over ``-min_db`` dB.

    Examples
    --------
    >>> spectral_distance(np.zeros((1, 1, 4, 4)), np.full((1, 1, 4, 4), 0.5), -80.0)
    array([40.])
    """
    return pixel_distance(a, b) * -min_db


def pixel_distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """RMS difference of pixel values (in [0, 1]) between images.

    Examples
    --------
    >>> pixel_distance(np.zeros((1, 1, 2, 2)), np.ones((1, 1, 2, 2)))
    array([1.])
    """
    diff = np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)
    return np.sqrt(np.mean(diff.reshape(len(diff), int(np.prod(diff.shape[1:]))) ** 2, axis=1))


def bark_distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Euclidean distance between rows of (F1, F2) in Bark; NaN where either is unmeasured.

    Examples
    --------
    >>> bark_distance(np.array([[3.0, 12.0]]), np.array([[6.0, 8.0]]))
    array([5.])
    """
    return np.sqrt(np.sum((np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)) ** 2, axis=1))
