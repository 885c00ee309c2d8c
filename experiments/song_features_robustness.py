"""How steady are the song features of one syllable under changes that are not the syllable?

    python experiments/song_features_robustness.py SYLLABLE_FOLDER --labels a,b --out DIR [--window 0.252]

SYLLABLE_FOLDER holds one WAV a syllable cut at its hand labels and labels.csv (``file``,
``label``), as ``stimgen data segment SONGS --labels`` writes it. Every token of the given types
is measured with :func:`stimgen.signal.song_features.song_features` four ways:

- ``cut``: the file as cut at its labels (how experiments/song_continuum.py measures the types);
- ``window``: the same samples centred in ``--window`` seconds of silence (how a continuum's step
  holds a syllable: the bengalese-finch model's window is 0.252 s);
- ``48k`` and ``44.1k``: the cut file resampled (soxr) to the rates stimuli are written at.

For each feature and type it reports the spread of the tokens as cut (SD) and, for each of the
other three, the median over tokens of the change from ``cut``, in units of that SD: a feature
whose change is near or above 1 SD moves as much with the padding or the rate as between two
tokens of a type, and cannot tell a continuum's steps apart. Writes DIR/song-features-robustness.csv
(every token, every way) and DIR/song-features-robustness.md (the table).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

FEATURES = ("wiener_entropy", "spectral_centroid_hz", "fm_hz_per_ms", "am_db_per_ms")
WAYS = ("cut", "window", "48k", "44.1k")


def ways(y: np.ndarray, sr: int, window: float) -> dict[str, tuple[np.ndarray, int]]:
    """The token as cut, centred in ``window`` s of silence, and resampled to 48 and 44.1 kHz."""
    from stimgen.signal.audio import resample

    pad = max(0, round(window * sr) - y.size)
    return {"cut": (y, sr), "window": (np.pad(y, (pad // 2, pad - pad // 2)), sr),
            "48k": (resample(y, sr, 48000), 48000), "44.1k": (resample(y, sr, 44100), 44100)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("syllables", type=Path)
    parser.add_argument("--labels", default="a,b")
    parser.add_argument("--window", type=float, default=0.252)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()

    from stimgen.signal.audio import load_audio
    from stimgen.signal.song_features import song_features

    types = args.labels.split(",")
    labels = pd.read_csv(args.syllables / "labels.csv", dtype={"label": str})
    rows = []
    for _, token in labels[labels["label"].isin(types)].iterrows():
        y, sr = load_audio(args.syllables / token["file"])
        for way, (s, rate) in ways(y, sr, args.window).items():
            rows.append({"file": token["file"], "label": token["label"], "way": way, **song_features(s, rate)})
    table = pd.DataFrame(rows)
    args.out.mkdir(parents=True, exist_ok=True)
    table.to_csv(args.out / "song-features-robustness.csv", index=False, float_format="%.5g")

    wide = table.pivot_table(index=["file", "label"], columns="way", values=list(FEATURES)).reset_index()
    lines = [f"# Song features of one syllable, cut, padded and resampled ({', '.join(types)})", "",
             f"Made by `python experiments/song_features_robustness.py {args.syllables.name} --labels {args.labels} "
             f"--window {args.window:g} --out ...`; {len(wide)} tokens. Each cell: the median over a type's tokens of "
             "|feature changed - feature as cut|, in units of the type's SD as cut (the spread between its tokens).",
             "", "| feature | type | tokens | SD as cut | median as cut | "
             + " | ".join(f"{w} / SD" for w in WAYS[1:]) + " |",
             "| --- | --- | ---: | ---: | ---: | " + " | ".join("---:" for _ in WAYS[1:]) + " |"]
    for feature in FEATURES:
        for label in types:
            group = wide[wide["label"] == label]
            cut = group[(feature, "cut")]
            sd = float(cut.std())
            moved = [float(np.median(np.abs(group[(feature, w)] - cut))) / sd for w in WAYS[1:]]
            lines.append(f"| {feature} | {label} | {len(group)} | {sd:.3g} | {float(cut.median()):.3g} | "
                         + " | ".join(f"{m:.2f}" for m in moved) + " |")
    (args.out / "song-features-robustness.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
