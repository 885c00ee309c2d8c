import os

import numpy as np
import pytest


@pytest.fixture(autouse=True, scope="session")
def _private_cache(tmp_path_factory):
    """Built-in sets are cached in a folder of the test session's own, never the user's."""
    os.environ["STIMGEN_CACHE"] = str(tmp_path_factory.mktemp("stimgen-cache"))


def tone(freq: float = 440.0, sr: int = 16000, seconds: float = 0.5, amp: float = 0.5) -> np.ndarray:
    t = np.arange(int(sr * seconds)) / sr
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)
