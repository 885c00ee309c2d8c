"""Issue 22, item 4: the birdsong segmenter checked against hand labels of real song.

Run from the repository root::

    python experiments/segment_handlabels.py                 # before vs after, tune and report songs
    python experiments/segment_handlabels.py --grid          # and the search over settings (tune songs)

The songs are the 10 of ../shared/data/birdsong-bf-gy6or6 (one Bengalese finch, hand-labelled
with evsonganaly). The first five by name tune the birdsong defaults of
:class:`stimgen.signal.segment.SegmentSettings`; the last five only report. Each song is cut by
:func:`stimgen.signal.segment.find_units` (what ``stimgen data segment`` runs) and scored by
:func:`stimgen.signal.segment.score_units` at 10 and 20 ms (one to one, both ends within the
tolerance). Written: ``docs/results/segment-handlabels.csv`` (one row per settings, songs and
tolerance) and, with ``--grid``, ``segment-handlabels-grid.csv`` (F1 at 10 ms of every setting
tried, on the tune songs only); the tables are printed.
"""

from __future__ import annotations

import argparse
import itertools
from pathlib import Path

import numpy as np
import pandas as pd

from stimgen.data.recordings import read_hand_labels
from stimgen.signal.audio import load_audio
from stimgen.signal.segment import SegmentSettings, find_units, score_units

SONGS = Path("../shared/data/birdsong-bf-gy6or6")
OUT = Path("docs/results/segment-handlabels.csv")
TOLERANCES_MS = (10, 20)
#: The birdsong defaults before this experiment tuned them (those after are SegmentSettings').
BEFORE = {"fmin": 500.0, "start_db": 6.0}
#: The settings searched on the tune songs (every combination; the rest at their defaults).
GRID = {"fmin": (500.0, 750.0, 1000.0, 1250.0, 1500.0), "fmax": (10000.0, 12000.0),
        "start_db": (4.0, 6.0, 7.0, 8.0, 9.0, 10.0, 12.0), "min_silence": (3.0, 4.0, 5.0, 6.0)}


def load_songs(folder: Path) -> list[tuple[str, np.ndarray, int, np.ndarray]]:
    """Every song of ``folder`` by name: its name, samples, rate and hand-labelled (k, 2) units."""
    songs = []
    for path in sorted(folder.glob("*.flac")):
        y, sr = load_audio(path)
        songs.append((path.stem, y, sr, read_hand_labels(path.with_suffix(".csv"), y.size / sr)[0]))
    return songs


def score(songs: list, settings: SegmentSettings, tolerance_ms: float) -> dict:
    """P, R, F1, the kinds of error and the median boundary errors (ms) over ``songs`` pooled."""
    scores = [score_units(find_units(y, sr, settings), true, tolerance_ms / 1000) for _, y, sr, true in songs]
    total = {key: sum(getattr(s, key) for s in scores)
             for key in ("found", "true", "matched", "merges", "splits", "misses", "extras")}
    precision, recall = total["matched"] / total["found"], total["matched"] / total["true"]
    onset, offset = (1000 * np.concatenate([getattr(s, key) for s in scores])
                     for key in ("onset_errors", "offset_errors"))
    return {"tolerance_ms": tolerance_ms, **total, "precision": precision, "recall": recall,
            "f1": 2 * precision * recall / (precision + recall),
            "onset_median_ms": np.median(onset), "onset_median_abs_ms": np.median(np.abs(onset)),
            "offset_median_ms": np.median(offset), "offset_median_abs_ms": np.median(np.abs(offset))}


def search(tune: list) -> pd.DataFrame:
    """F1 at 10 ms on the tune songs of every combination of :data:`GRID`, best first."""
    rows = []
    for values in itertools.product(*GRID.values()):
        overrides = dict(zip(GRID, values))
        rows.append({**overrides, "f1_10ms": score(tune, SegmentSettings.for_kind("birdsong", **overrides), 10)["f1"]})
    return pd.DataFrame(rows).sort_values("f1_10ms", ascending=False, kind="stable")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--songs", type=Path, default=SONGS)
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--grid", action="store_true", help="also search GRID on the tune songs")
    args = parser.parse_args()
    songs = load_songs(args.songs)
    parts = {"tune": songs[:5], "report": songs[5:]}
    if args.grid:
        grid = search(parts["tune"])
        grid.to_csv(args.out.with_name(args.out.stem + "-grid.csv"), index=False, float_format="%.4f")
        print(grid.head(15).to_string(index=False, float_format="%.3f"), "\n")
    rows = [{"defaults": name, "songs": part, **score(parts[part], SegmentSettings.for_kind("birdsong", **over), tol)}
            for name, over in (("before", BEFORE), ("after", {})) for part in parts for tol in TOLERANCES_MS]
    table = pd.DataFrame(rows)
    table.to_csv(args.out, index=False, float_format="%.4f")
    print(table.to_string(index=False, float_format="%.3f"))


if __name__ == "__main__":
    main()
