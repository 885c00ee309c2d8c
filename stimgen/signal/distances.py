"""How far apart two stimuli are: the distances that equal spacing and the manifests use.

Plain functions on arrays of items ((N, C, H, W) in [0, 1]) or of (F1, F2) rows in Bark; each
returns one distance per pair, (N,). Their units: :data:`stimgen.options.METRIC_UNITS`.
"""

from __future__ import annotations

import numpy as np


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
