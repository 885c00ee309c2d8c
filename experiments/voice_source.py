"""Why one natural voice's paths stay uneven: the odd and even harmonics of its source (issue 23).

    python experiments/voice_source.py VOICES [--out docs/results/faithful-ends/voice-source.csv]

VOICES holds one folder of sustained vowels per voice (``experiments/natural_voices.py VOICES``).
For every vowel: F0 (Praat, the mean over the voiced frames), and the median level of its even
harmonics (2 F0, 4 F0, ...) less that of the odd ones below them (F0, 3 F0, ...), in dB, each
harmonic the largest bin of a 0.5 s Hann-windowed spectrum of the vowel's middle within a quarter
of F0 of k F0, harmonics up to 2.5 kHz (the F1-F2 region). A voice whose every period is alike
has harmonics whose levels follow the envelope, odd and even alike (a difference near 0 dB); a
source whose periods alternate (diplophonia, or a synthesiser that builds a pulse of two periods)
puts one parity well below the other, and the envelope WORLD estimates at F0 keeps that as a
ripple of period 2 F0 along frequency. Beside it, that ripple: the file analysed as stimgen's
WORLD voices analyse it (``stimgen.signal.world.analyse``, the envelope as its item holds it),
the RMS in dB of the envelope less its own mean over 2 F0, 300 Hz to 2.5 kHz, middle frame.
Prints both tables (voice x vowel) and writes them as one CSV.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from natural_voices import CODES  # noqa: E402

#: The top of the harmonics compared (Hz), and the length of the spectrum's window (s).
TOP_HZ, WINDOW_S = 2500.0, 0.5


def parity_db(y: np.ndarray, sr: int, f0: float) -> float:
    """The median level of the even harmonics less the odd ones below each (dB), of the middle of ``y``."""
    n = min(len(y), int(WINDOW_S * sr))
    start = (len(y) - n) // 2
    spectrum = 20.0 * np.log10(np.abs(np.fft.rfft(y[start:start + n] * np.hanning(n))) + 1e-12)
    hz = np.fft.rfftfreq(n, 1.0 / sr)
    level = np.array([spectrum[np.abs(hz - k * f0) < f0 / 4].max() for k in range(1, int(TOP_HZ / f0) + 1)])
    pairs = len(level) // 2
    return float(np.median(level[1:2 * pairs:2] - level[0:2 * pairs:2]))


def world_ripple_db(y: np.ndarray, sr: int, f0: float) -> float:
    """RMS (dB) of the WORLD envelope of ``y`` less its moving mean over ``2 f0``, 300 Hz to
    :data:`TOP_HZ`, at the middle frame."""
    from stimgen.signal.world import WorldConfig, analyse_at, item_to_envelope

    config = WorldConfig()
    item, _ = analyse_at(y, sr, config)
    db = 10.0 * np.log10(item_to_envelope(item, config)[item.shape[1] // 2])
    hz = np.arange(len(db)) * config.sample_rate / config.fft_size
    width = max(1, int(round(2 * f0 / hz[1])))
    trend = np.convolve(np.pad(db, width, mode="edge"), np.ones(width) / width, mode="same")[width:-width]
    band = (hz >= 300.0) & (hz <= TOP_HZ)
    return float(np.sqrt(np.mean((db - trend)[band] ** 2)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("voices", type=Path)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()

    import parselmouth

    from stimgen.signal.audio import load_audio

    rows = []
    for folder in sorted(p for p in args.voices.iterdir() if p.is_dir()):
        for code in CODES:
            path = folder / f"{code}.wav"
            if not path.exists():
                continue
            y, sr = load_audio(path)
            pitch = parselmouth.Sound(y, sr).to_pitch().selected_array["frequency"]
            f0 = float(np.mean(pitch[pitch > 0]))
            rows.append({"voice": folder.name, "vowel": code, "f0_hz": round(f0, 1),
                         "even_minus_odd_db": round(parity_db(y, sr, f0), 1),
                         "world_ripple_db": round(world_ripple_db(y, sr, f0), 1)})
    table = pd.DataFrame(rows)
    for column in ("even_minus_odd_db", "world_ripple_db"):
        print(column)
        print(table.pivot(index="voice", columns="vowel", values=column)[list(CODES)].to_string(), end="\n\n")
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        table.to_csv(args.out, index=False)


if __name__ == "__main__":
    main()
