"""The cache of small tables, and the tables shipped in the package (experiments/ship_tables.py)."""

import re

import numpy as np
import pytest

from stimgen import cache
from stimgen.cache import SHIPPED_TABLES, cached_array

SHIPPED = sorted(p.relative_to(SHIPPED_TABLES).as_posix() for p in SHIPPED_TABLES.rglob("*.npy"))


def test_the_default_vowel_continuum_and_every_preset_find_their_tables_shipped():
    from stimgen.signal.spectrogram import PRESETS

    for config in PRESETS.values():
        assert any(name.endswith(f"-{config.sample_rate}-{config.n_fft}-{config.n_mels}-{config.fmin:g}-"
                                 f"{config.fmax:g}.npy") for name in SHIPPED), config
    assert "colormaps/magma-256.npy" in SHIPPED


@pytest.mark.parametrize("name", SHIPPED)
def test_every_shipped_table_is_what_its_library_computes(name):
    import librosa

    table = np.load(SHIPPED_TABLES / name, allow_pickle=False)
    if name == "colormaps/magma-256.npy":
        import matplotlib

        expected = matplotlib.colormaps["magma"](np.arange(256))[:, :3]
    elif m := re.fullmatch(r"filters/mel-frequencies-librosa-(\d+)-([\d.]+)-([\d.]+)\.npy", name):
        expected = librosa.mel_frequencies(int(m[1]), fmin=float(m[2]), fmax=float(m[3]))
    else:
        m = re.fullmatch(r"filters/mel-librosa(.+)-(\d+)-(\d+)-(\d+)-([\d.]+)-([\d.]+)\.npy", name)
        assert m, f"{name}: a table this test does not know"
        if m[1] != librosa.__version__:
            pytest.skip(f"shipped for librosa {m[1]}; this is {librosa.__version__}: the cache computes its own")
        expected = librosa.filters.mel(sr=int(m[2]), n_fft=int(m[3]), n_mels=int(m[4]), fmin=float(m[5]),
                                       fmax=float(m[6]))
    assert table.shape == expected.shape
    np.testing.assert_allclose(table, expected, rtol=1e-6, atol=0)


def test_a_shipped_table_is_read_before_the_cache_and_nothing_is_computed(tmp_path, monkeypatch):
    monkeypatch.setattr(cache, "SHIPPED_TABLES", tmp_path / "shipped")
    monkeypatch.setenv("STIMGEN_CACHE", str(tmp_path / "cache"))
    (tmp_path / "shipped" / "t").mkdir(parents=True)
    np.save(tmp_path / "shipped" / "t" / "x.npy", np.arange(3.0))

    def fail():
        raise AssertionError("computed")

    assert cached_array("t/x.npy", fail, (3,), np.float64).tolist() == [0.0, 1.0, 2.0]
    assert not (tmp_path / "cache").exists()
    # another shape than the shipped one (a stale table): computed and cached
    assert cached_array("t/x.npy", lambda: np.ones(4), (4,), np.float64).tolist() == [1.0] * 4
    assert (tmp_path / "cache" / "t" / "x.npy").is_file()
