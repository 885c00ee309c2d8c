"""Write the small tables stimgen keeps in its cache into the package (stimgen/assets/tables), so
that a fresh install's first continuum reads them instead of importing librosa's filters, librosa's
core (numba) and matplotlib to compute them (issue 23: `stimgen continuum` on a cold cache).

Run from the repository root after changing a spectrogram preset, the shipped models or librosa:

    python experiments/ship_tables.py

It makes a default vowel continuum (the shipped `vowels` model) and the mel tables of every
spectrogram preset (birdsong's too) in an empty cache, and copies what landed there. The tables
are librosa's and matplotlib's own output; their names carry what they depend on (a mel
filterbank's librosa version), and tests/test_cache.py checks that every shipped table is what
its library computes today.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

TABLES = Path(__file__).resolve().parents[1] / "stimgen" / "assets" / "tables"


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["STIMGEN_CACHE"] = tmp
        import stimgen.cache

        stimgen.cache.SHIPPED_TABLES = Path(tmp) / "none"  # compute every table, as on a fresh install
        from stimgen import load_model
        from stimgen.data.vowels import mean_vowel
        from stimgen.export import export
        from stimgen.morph.continuum import continuum
        from stimgen.representations.mel import _centres
        from stimgen.signal.audio import save_wav
        from stimgen.signal.spectrogram import PRESETS, _mel_basis

        work = Path(tmp) / "work"
        work.mkdir()
        for name, code in (("i", "iy"), ("a", "aa")):
            save_wav(work / f"{name}.wav", mean_vowel(code, "man", f0=120.0, duration=0.6, rng=0), 16000)
        export(continuum(load_model("vowels"), work / "i.wav", work / "a.wav", steps=3), work / "c")
        for config in PRESETS.values():
            _mel_basis(config)
            _centres(config, config.n_fft)
        shutil.rmtree(work)
        shutil.rmtree(TABLES, ignore_errors=True)
        shutil.copytree(tmp, TABLES, ignore=shutil.ignore_patterns("none"))
    for path in sorted(TABLES.rglob("*.npy")):
        print(f"{path.relative_to(TABLES)}  {path.stat().st_size:,} bytes")


if __name__ == "__main__":
    main()
