"""Speech through Griffin-Lim: how near a vowel continuum's ends lie to natural recordings, and how clean its steps are.

    python experiments/griffinlim_speech_ends.py MODEL_DIR VOICES

MODEL_DIR is a speech model voiced by Griffin-Lim (``data.representation`` ``mel``, ``data.vocoder``
``griffin-lim``: what ``stimgen train`` makes of a lab's own speech by default; a copy of the
shipped ``vowels`` folder with those two fields set serves). VOICES is experiments/natural_voices.py's
folder. For two voices (espeak-ng man, festival woman) and three pairs, an 11-step continuum with
every default is written and measured with faithful_ends.py's ruler against the recordings
themselves (Griffin-Lim keeps each file's own F0): the ends' (F1, F2) distance in Bark, F1/F2
monotonic, Bark CV, and the median HNR of the steps and of the two ends. Run it from two
checkouts to compare them.
"""

from __future__ import annotations

import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from faithful_ends import judge, measure_steps  # noqa: E402
from natural_voices import measure_vowel  # noqa: E402

VOICES = ("espeak-man", "festival-woman")
PAIRS = (("iy", "aa"), ("iy", "uw"), ("eh", "uw"))


def main() -> None:
    import stimgen
    from stimgen.export import export
    from stimgen.morph.continuum import continuum

    model, voices = stimgen.load_model(sys.argv[1]), Path(sys.argv[2])
    rows = []
    for voice in VOICES:
        for a, b in PAIRS:
            out = Path(tempfile.mkdtemp()) / "continuum"
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                export(continuum(model, voices / voice / f"{a}.wav", voices / voice / f"{b}.wav", steps=11), out)
            files = [out / f for f in pd.read_csv(out / "manifest.csv")["stim_file"]]
            steps = measure_steps(files)
            judged = judge(steps.assign(f0=0.0), measure_vowel(voices / voice / f"{a}.wav"),
                           measure_vowel(voices / voice / f"{b}.wav"), files[len(files) // 2])
            rows.append({"voice": voice, "pair": f"{a}-{b}", "end_a": judged["end_a_bark"],
                         "end_b": judged["end_b_bark"], "monotonic": judged["monotonic"], "cv": judged["cv_bark"],
                         "hnr": judged["hnr_median"], "hnr_end_a": steps.hnr.iloc[0], "hnr_end_b": steps.hnr.iloc[-1]})
    table = pd.DataFrame(rows)
    print(table.round(3).to_string())
    ends, end_hnr = np.r_[table.end_a, table.end_b], np.r_[table.hnr_end_a, table.hnr_end_b]
    print(f"ends median {np.median(ends):.3f} Bark; HNR median {table.hnr.median():.1f} dB, ends "
          f"{np.median(end_hnr):.1f} dB; monotonic {int(table.monotonic.sum())}/{len(table)}; "
          f"CV {table.cv.median():.2f}")


if __name__ == "__main__":
    main()
