"""Issue 23 beyond vowels: how near a continuum's ends lie to their files for real birdsong and digits.

    python experiments/faithful_ends_other.py birdsong WORK --out docs/results/faithful-ends
    python experiments/faithful_ends_other.py digits --out docs/results/faithful-ends

``birdsong``: WORK is experiments/real_song_gaia.py's folder (``prepare``): pairs of syllables of
different types from the held-out songs (WORK/syl-heldout, cut at the hand labels), continua of 11
steps through the shipped ``bengalese-finch`` model with each method. ``digits``: pairs of
held-out digits of different classes (the shipped ``digits`` model's own split of the built-in
set), written as PNGs, continua of 11 steps.

Per end, ``end_item``: the manifest's ``end_distance_db`` / ``end_distance_rms`` (the decoded item
against the file's item, the representation's own metric), and for birdsong ``end_written_db``: the
written step (Griffin-Lim), read back as an input is, against the file's item. Beside them the
data's own nearest-neighbour spacing: the median distance from a held-out item to its nearest
training item, in the same metric. Writes OUT/birdsong-ends.csv or OUT/digits-ends.csv and prints
the medians.
"""

from __future__ import annotations

import argparse
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

METHODS = ("reconstruct", "residual", "warp", "tune")
PAIRS = 12
#: The level a continuum is written at where the default refuses it (a peak over -1 dBFS), as the refusal suggests.
LOWER_LEVEL = -26.0


def nearest(held: np.ndarray, train: np.ndarray) -> np.ndarray:
    """RMS distance (item units) from each held-out item to its nearest training item."""
    a, b = held.reshape(len(held), -1).astype(np.float64), train.reshape(len(train), -1).astype(np.float64)
    d2 = (a**2).sum(1)[:, None] + (b**2).sum(1)[None] - 2 * a @ b.T
    return np.sqrt(np.maximum(d2.min(1), 0) / a.shape[1])


def pairs_of_types(labels: pd.Series, rng: np.random.Generator, n: int) -> list[tuple[int, int]]:
    out = []
    while len(out) < n:
        i, j = rng.choice(len(labels), 2, replace=False)
        if labels.iloc[i] != labels.iloc[j]:
            out.append((int(i), int(j)))
    return out


def run(model_name: str, files: list[Path], pairs: list[tuple[int, int]], unit: str, tmp: Path) -> pd.DataFrame:
    from stimgen import load_model
    from stimgen.errors import StimgenError
    from stimgen.export import export
    from stimgen.morph.continuum import continuum
    from stimgen.morph.domain import Domain
    from stimgen.representations import RenderSettings
    from stimgen.stimulus_folder import read_folder

    model = load_model(model_name)
    domain = Domain(model)
    rep = domain.representation
    rows = []
    for i, j in pairs:
        for method in METHODS:
            start = time.perf_counter()
            out = tmp / f"{i}-{j}-{method}"
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                stimuli = continuum(model, files[i], files[j], steps=11, endpoints=method)
                try:
                    export(stimuli, out, force=True)
                except StimgenError:  # a peak over the limit at the default level: as its message says
                    export(stimuli, out, render=RenderSettings(level_dbfs=LOWER_LEVEL), force=True)
            seconds = time.perf_counter() - start
            m = read_folder(out).manifest
            row = {"a": files[i].name, "b": files[j].name, "method": method, "seconds": seconds,
                   "end_item_a": m[f"end_distance_{unit}"].iloc[0], "end_item_b": m[f"end_distance_{unit}"].iloc[-1]}
            if rep.medium == "audio":  # the written ends, read back as an input is
                for end, k, f in (("a", 0, files[i]), ("b", -1, files[j])):
                    pair = np.stack([rep.load(out / m["stim_file"].iloc[k]), domain.load(f)])
                    row[f"end_written_{end}"] = float(rep.written_distances([{}, {}], pair, rep.metrics[0])[0])
            rows.append(row)
            print(" ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in row.items()), flush=True)
    return pd.DataFrame(rows)


def birdsong(work: Path, out: Path) -> None:
    from stimgen.train import prepare_data

    held = work / "syl-heldout"
    labels = pd.read_csv(held / "labels.csv")
    files = [held / f for f in labels["file"]]
    x_held = prepare_data(held, representation="mel").x
    x_train = prepare_data(work / "syl-train", representation="mel").x
    spacing = float(np.median(nearest(x_held, x_train)) * 80.0)
    with tempfile.TemporaryDirectory() as tmp:
        table = run("bengalese-finch", files, pairs_of_types(labels["label"], np.random.default_rng(0), PAIRS), "db",
                    Path(tmp))
    table["nn_spacing_db"] = spacing
    table.to_csv(out / "birdsong-ends.csv", index=False, float_format="%.4g")
    summarise(table, ["end_item", "end_written"], f"nearest-neighbour spacing of held-out syllables: {spacing:.2f} dB")


def digits(out: Path) -> None:
    from stimgen import load_model
    from stimgen.data import open_dataset
    from stimgen.signal.image import save_image
    from stimgen.train import prepare_data, split

    info = load_model("digits").info
    data = prepare_data("digits")
    train_idx, held_idx = split(len(data.x), info["training"]["holdout"], info["training"]["seed"])
    spacing = float(np.median(nearest(data.x[held_idx], data.x[train_idx])))
    labels = pd.Series(np.asarray(open_dataset("digits").labels["digit"])[held_idx])
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        files = []
        for k, idx in enumerate(held_idx):
            files.append(tmp / f"digit-{k:04d}.png")
            save_image(files[-1], data.x[idx, 0])
        table = run("digits", files, pairs_of_types(labels, np.random.default_rng(0), PAIRS), "rms", tmp)
    table["nn_spacing_rms"] = spacing
    table.to_csv(out / "digits-ends.csv", index=False, float_format="%.4g")
    summarise(table, ["end_item"], f"nearest-neighbour spacing of held-out digits: {spacing:.4f} RMS")


def summarise(table: pd.DataFrame, measures: list[str], spacing: str) -> None:
    print(spacing)
    for method, rows in table.groupby("method", sort=False):
        figures = [f"{m} median {np.median(np.r_[rows[m + '_a'], rows[m + '_b']]):.3g}" for m in measures]
        print(f"{method:12s} {'; '.join(figures)}; seconds median {rows['seconds'].median():.2f}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("what", choices=("birdsong", "digits"))
    p.add_argument("work", type=Path, nargs="?")
    p.add_argument("--out", type=Path, required=True)
    args = p.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    if args.what == "birdsong":
        birdsong(args.work, args.out)
    else:
        digits(args.out)


if __name__ == "__main__":
    main()
