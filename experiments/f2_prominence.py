"""How prominent each step's F2 peak is along kept continua (issue 23's midpoint check, step by step).

    python experiments/faithful_ends.py VOICES --voice festival-man-pc-it --methods warp,reconstruct \\
        --formantgrid --out OUT --keep KEEP
    python experiments/f2_prominence.py KEEP festival-man-pc-it --pairs iy-uw,eh-uw,uw-aa \\
        --methods warp,reconstruct,formantgrid

For each step of ``KEEP/<voice>-<pair>-<method>/`` (a folder ``faithful_ends.py --keep`` wrote) and
for each endpoint's reference (``<voice>-<vowel>-ref.wav``, the recording through WORLD at the
continuum's F0): Praat's F2 by the issue's ruler (natural_voices.measure_vowel) and the
prominence (dB) of the LPC envelope's peak nearest it (formantgrid.envelope_peaks, the envelope the
midpoint check reads), 0 where no peak lies within ``WITHIN_BARK`` of that F2. The midpoint check
asks for a peak of at least 1 dB between the ends' F2.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from formantgrid import envelope_peaks  # noqa: E402
from natural_voices import measure_vowel  # noqa: E402

#: How far (Bark) the envelope's peak may lie from Praat's F2 to count as the F2 peak.
WITHIN_BARK = 0.5


def f2_prominence(path: Path) -> tuple[float, float]:
    """Praat's F2 (Hz) of ``path`` and the prominence (dB) of the envelope peak nearest it."""
    from stimgen.signal.audio import load_audio
    from stimgen.signal.phonetics import hz_to_bark

    f2 = measure_vowel(path)["f2"]
    freqs, prominences = envelope_peaks(*load_audio(path), 5500.0)
    gaps = np.abs(hz_to_bark(freqs) - hz_to_bark(f2))
    return f2, float(prominences[np.argmin(gaps)]) if len(gaps) and gaps.min() <= WITHIN_BARK else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("keep", type=Path, help="the folder faithful_ends.py --keep wrote")
    parser.add_argument("voice")
    parser.add_argument("--pairs", default="iy-uw,eh-uw,uw-aa")
    parser.add_argument("--methods", default="warp,reconstruct,formantgrid")
    args = parser.parse_args()
    pairs = args.pairs.split(",")
    for vowel in sorted({v for pair in pairs for v in pair.split("-")}):
        f2, prominence = f2_prominence(args.keep / f"{args.voice}-{vowel}-ref.wav")
        print(f"{vowel} reference: F2 {f2:.0f} Hz, its peak {prominence:.1f} dB")
    for pair in pairs:
        for method in args.methods.split(","):
            folder = args.keep / f"{args.voice}-{pair}-{method}"
            steps = sorted((folder / "stimuli").glob("step_*.wav")) or sorted(folder.glob("step_*.wav"))
            if not steps:
                print(f"{pair} {method}: no steps in {folder}")
                continue
            peaks = " ".join(f"{f2_prominence(step)[1]:.1f}" for step in steps)
            print(f"{pair:6} {method:12} F2 peak (dB) by step: {peaks}")


if __name__ == "__main__":
    main()
