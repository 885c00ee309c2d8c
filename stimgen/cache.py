"""Where stimgen keeps what it can rebuild: built-in data sets and small computed tables."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import platformdirs

from stimgen.outputs import atomic_file


def cache_dir() -> Path:
    """``$STIMGEN_CACHE`` or the user cache directory (``~/.cache/stimgen`` on Linux).

    Examples
    --------
    >>> cache_dir().name                                  # doctest: +SKIP
    'stimgen'
    """
    return Path(os.environ.get("STIMGEN_CACHE") or platformdirs.user_cache_dir("stimgen"))


#: The tables shipped with stimgen (experiments/ship_tables.py writes them): a fresh install's first
#: continuum reads them instead of importing librosa's filters and matplotlib to compute them.
SHIPPED_TABLES = Path(__file__).parent / "assets" / "tables"


def cached_array(name: str, compute: Callable[[], np.ndarray], shape: tuple[int, ...], dtype) -> np.ndarray:
    """The array ``name`` (a path under the cache folder, ``.npy``): the shipped table of that name
    (:data:`SHIPPED_TABLES`) or the cache's, when it is there with ``shape`` and ``dtype``;
    otherwise computed, saved in the cache and returned.

    For small tables whose library is slow to import (librosa's mel filterbank, matplotlib's
    colour maps). A name holds what the table depends on (librosa's version, the sizes), so a
    table shipped for another version is not used. A stale or foreign file is recomputed; a
    read-only cache only costs time.

    Examples
    --------
    >>> cached_array("demo/ones.npy", lambda: np.ones(3), (3,), np.float64)   # doctest: +SKIP
    array([1., 1., 1.])
    """
    path = cache_dir() / name
    for place in (SHIPPED_TABLES / name, path):
        try:
            array = np.load(place, allow_pickle=False)
            if array.shape == tuple(shape) and array.dtype == np.dtype(dtype):
                return array
        except (OSError, ValueError):
            pass
    array = np.asarray(compute(), dtype=dtype)
    try:
        with atomic_file(path, force=True, ours_only=False) as tmp:
            np.save(tmp, array)
    except OSError:
        pass
    return array
