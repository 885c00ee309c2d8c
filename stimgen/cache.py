"""Where stimgen keeps what it can rebuild: built-in data sets and small computed tables."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs


def cache_dir() -> Path:
    """``$STIMGEN_CACHE`` or the user cache directory (``~/.cache/stimgen`` on Linux).

    Examples
    --------
    >>> cache_dir().name                                  # doctest: +SKIP
    'stimgen'
    """
    return Path(os.environ.get("STIMGEN_CACHE") or platformdirs.user_cache_dir("stimgen"))
