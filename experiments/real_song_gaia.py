"""Issue 22: does GAIA learn real birdsong? Reconstruction, collapse and the realism of midpoints,
measured on held-out songs of one Bengalese finch (../shared/data/birdsong-bf-gy6or6).

Run from the repository root::

    python experiments/real_song_gaia.py prepare SONGS WORK          # cut at the hand labels
    python experiments/real_song_gaia.py evaluate WORK RUN [RUN ...] --out docs/results/real-song

``prepare`` copies the first seven songs by name to WORK/songs-train and the last three to
WORK/songs-heldout and cuts them at their hand labels (``stimgen data segment --labels``) into
WORK/syl-train and WORK/syl-heldout. Models are trained with ``stimgen
train --data WORK/syl-train`` (the recipes compared are listed in docs/results/real-song.md).

``evaluate`` measures, for each run folder (a model folder), on the held-out songs' syllables:
- ``recon_db``: median log-mel distance (dB, :func:`stimgen.signal.distances.spectral_distance`)
  between a syllable and its reconstruction, and ``recon_ratio``, that over ``nn_db``, the median
  distance from a held-out syllable to its nearest training syllable;
- ``diversity``: the median distance between reconstructions over the median distance between
  their inputs (1: as varied as the data; a collapsed model is near 0);
- ``mid_real``: the mean probability that decoded latent midpoints of two held-out syllables of
  different types are real, by a fixed realism classifier, beside the same for the pixel crossfade
  of the same two syllables, and ``mid_nn_db``, the midpoint's distance to the nearest training
  syllable.

The realism classifier is a small CNN trained on the training songs only: real syllables against
crossfades ``w a + (1 - w) b`` of two real syllables (w uniform in 0.25-0.75) and against real
syllables with their frames shuffled. Trained against crossfades alone, it called the striped
decodes of a collapsed GAIA real (P 0.89: a classifier knows only the fakes it was shown); the
shuffled frames, real spectra in an order no bird sings, teach it that real columns alone are not
a syllable. It is checked on what it never saw: held-out real syllables (should score high), and
blurred syllables, collapsed decodes (the training mean, and a collapsed model's decodes) and
decodes of random codes (should score low); realism.png shows them beside the midpoints. It is
retrained (seeded) on every call, so every run is judged by the same classifier.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from scipy.ndimage import gaussian_filter

from stimgen.data.recordings import segment_folder
from stimgen.models.bundle import load_model
from stimgen.signal.distances import spectral_distance
from stimgen.signal.segment import SegmentSettings
from stimgen.train import prepare_data

#: Songs (sorted by name) whose syllables are training data; the rest are held out.
TRAIN_SONGS = 7
PAIRS = 300


def prepare(songs: Path, work: Path) -> None:
    """Cut the songs at their hand labels into WORK/syl-train and WORK/syl-heldout."""
    names = sorted(p.stem for p in songs.glob("*.flac"))
    for part, chosen in (("train", names[:TRAIN_SONGS]), ("heldout", names[TRAIN_SONGS:])):
        folder = work / f"songs-{part}"
        folder.mkdir(parents=True, exist_ok=True)
        for name in chosen:
            for ext in (".flac", ".csv"):
                shutil.copyfile(songs / f"{name}{ext}", folder / f"{name}{ext}")
        segment_folder(folder, work / f"syl-{part}", SegmentSettings.for_kind("birdsong"), labels=True, force=True,
                       command=f"stimgen data segment {folder} --labels --out {work / f'syl-{part}'}")


class Realism(torch.nn.Module):
    """Real syllable (1) or crossfade of two (0), from a 64 x 64 log-mel item."""

    def __init__(self) -> None:
        super().__init__()
        layers, c = [], 1
        for width in (8, 16, 32, 32):
            layers += [torch.nn.Conv2d(c, width, 3, stride=2, padding=1), torch.nn.LeakyReLU(0.2)]
            c = width
        self.net = torch.nn.Sequential(*layers, torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(),
                                       torch.nn.Linear(c, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).squeeze(1)

    @torch.no_grad()
    def p_real(self, x: np.ndarray) -> np.ndarray:
        self.eval()
        return torch.sigmoid(self(torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32)))).numpy()


def crossfades(x: np.ndarray, rng: np.random.Generator, n: int, low: float = 0.25, high: float = 0.75) -> np.ndarray:
    """``n`` crossfades of random pairs of different items of ``x``."""
    i = rng.integers(len(x), size=n)
    j = (i + rng.integers(1, len(x), size=n)) % len(x)
    w = rng.uniform(low, high, size=(n, 1, 1, 1)).astype(np.float32)
    return w * x[i] + (1 - w) * x[j]


def shuffled(x: np.ndarray, rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` real items with their frames (columns) put in a random order: every frame real, the whole not."""
    picked = x[rng.integers(len(x), size=n)].copy()
    for item in picked:
        item[...] = item[..., rng.permutation(item.shape[-1])]
    return picked


def train_realism(x: np.ndarray, steps: int = 800, batch: int = 64, seed: int = 0) -> Realism:
    """The realism classifier, trained on ``x`` (the training songs' items) against their crossfades
    and against items whose frames are shuffled."""
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    net = Realism()
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    target = torch.cat([torch.ones(batch // 2), torch.zeros(batch // 2)])
    for _ in range(steps):
        real = x[rng.integers(len(x), size=batch // 2)]
        fake = np.concatenate([crossfades(x, rng, batch // 4), shuffled(x, rng, batch // 4)])
        loss = torch.nn.functional.binary_cross_entropy_with_logits(
            net(torch.from_numpy(np.concatenate([real, fake]))), target)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return net


def nearest_db(a: np.ndarray, bank: np.ndarray, min_db: float) -> np.ndarray:
    """For each item of ``a``, the log-mel distance (dB) to its nearest item of ``bank``."""
    fa, fb = a.reshape(len(a), -1).astype(np.float64), bank.reshape(len(bank), -1).astype(np.float64)
    d2 = (fa**2).sum(1)[:, None] + (fb**2).sum(1)[None] - 2 * fa @ fb.T
    return np.sqrt(np.maximum(d2.min(1), 0) / fa.shape[1]) * -min_db


def median_pairwise(x: np.ndarray) -> float:
    f = x.reshape(len(x), -1).astype(np.float64)
    d = torch.cdist(torch.from_numpy(f), torch.from_numpy(f)).numpy()
    return float(np.median(d[np.triu_indices(len(f), 1)]))


@torch.no_grad()
def measure(run: Path, train: np.ndarray, held: np.ndarray, labels: np.ndarray, clf: Realism, min_db: float,
            pairs: tuple[np.ndarray, np.ndarray]) -> dict:
    """The figures of one model folder (module docstring)."""
    model = load_model(run)
    torch.manual_seed(0)
    z = model.encode(torch.from_numpy(held)).float()
    rec = model.decode(z).float().numpy()
    recon = spectral_distance(held, rec, min_db)
    nn = nearest_db(held, train, min_db)
    i, j = pairs
    mid = model.decode((z[i] + z[j]) / 2).float().numpy()
    z_train = model.encode(torch.from_numpy(train)).float()
    random_z = z_train.mean(0) + z_train.std(0) * torch.randn(len(held), z_train.shape[1],
                                                              generator=torch.Generator().manual_seed(0))
    config = json.loads((run / "config.json").read_text())
    training = config.get("training", {})
    return {"run": run.name, "model": training.get("model"), "seed": training.get("seed"),
            "steps": training.get("steps"), "recon_db": float(np.median(recon)),
            "recon_ratio": float(np.median(recon) / np.median(nn)),
            "diversity": median_pairwise(rec) / median_pairwise(held),
            "mid_real": float(clf.p_real(mid).mean()), "mid_nn_db": float(np.median(nearest_db(mid, train, min_db))),
            "random_real": float(clf.p_real(model.decode(random_z).float().numpy()).mean()),
            "recon_real": float(clf.p_real(rec).mean())}


def evaluate(work: Path, runs: list[Path], out: Path) -> pd.DataFrame:
    """Measure every run on the held-out songs; write real-song.csv, the table and realism.png to ``out``."""
    tr, ho = prepare_data(work / "syl-train", 64), prepare_data(work / "syl-heldout", 64)
    min_db = -tr.representation.db_range
    train, held = tr.x, ho.x
    labels = ho.labels["label"].astype(str).to_numpy()
    rng = np.random.default_rng(0)
    i = rng.integers(len(held), size=PAIRS * 3)
    j = rng.integers(len(held), size=PAIRS * 3)
    keep = labels[i] != labels[j]
    pairs = (i[keep][:PAIRS], j[keep][:PAIRS])
    clf = train_realism(train)
    controls = {"held-out real": held,
                "blurred real": gaussian_filter(held, sigma=(0, 0, 1.5, 1.5)),
                "collapsed (training mean)": np.repeat(train.mean(0, keepdims=True), len(held), 0),
                "crossfade midpoints": (held[pairs[0]] + held[pairs[1]]) / 2}
    control_scores = {k: clf.p_real(v) for k, v in controls.items()}
    nn = nearest_db(held, train, min_db)
    rows = [measure(run, train, held, labels, clf, min_db, pairs) for run in runs]
    table = pd.DataFrame(rows)
    out.mkdir(parents=True, exist_ok=True)
    table.to_csv(out / "real-song.csv", index=False, float_format="%.4g")
    recipe = table["run"].str.replace(r"-s\d+$", "", regex=True)
    figures = ["recon_db", "recon_ratio", "diversity", "mid_real", "mid_nn_db", "random_real", "recon_real"]
    summary_table = table.groupby(recipe)[figures].agg(["mean", "std", "count"])
    summary_table.columns = [f"{a}_{b}" for a, b in summary_table.columns]
    summary_table.to_csv(out / "real-song-by-recipe.csv", float_format="%.4g")
    summary = {"nn_db": float(np.median(nn)), "train_items": len(train), "heldout_items": len(held),
               "crossfade_mid_nn_db": float(np.median(nearest_db(controls["crossfade midpoints"], train, min_db))),
               **{f"p_real[{k}]": float(v.mean()) for k, v in control_scores.items()}}
    (out / "real-song-controls.json").write_text(json.dumps(summary, indent=2) + "\n")
    _plot(out / "realism.png", control_scores, table)
    return table


def _plot(path: Path, controls: dict, table: pd.DataFrame) -> None:
    """Mean P(real) of the controls (held-out real; blurred, collapsed, crossfades) and, per run, of
    its decoded midpoints, its reconstructions and its decodes of random codes."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(controls)
    values = [float(v.mean()) for v in controls.values()]
    colours = ["#2e86c1"] + ["#c0392b"] * (len(controls) - 1)
    for what, column, colour in (("midpoints", "mid_real", "#27ae60"), ("reconstructions", "recon_real", "#7f8c8d"),
                                 ("random codes", "random_real", "#e67e22")):
        names += [f"{what}: {r}" for r in table["run"]]
        values += list(table[column])
        colours += [colour] * len(table)
    fig, ax = plt.subplots(figsize=(7, 0.28 * len(names) + 1))
    ax.barh(range(len(names)), values, color=colours)
    ax.set_yticks(range(len(names)), names, fontsize=7)
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel("mean P(real) by the realism classifier (trained on the training songs)")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("prepare")
    p.add_argument("songs", type=Path)
    p.add_argument("work", type=Path)
    e = sub.add_parser("evaluate")
    e.add_argument("work", type=Path)
    e.add_argument("runs", type=Path, nargs="+")
    e.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    if args.command == "prepare":
        prepare(args.songs, args.work)
    else:
        table = evaluate(args.work, args.runs, args.out)
        shown = {"index": False, "float_format": lambda v: f"{v:.3g}"}
        print(table.to_string(**shown))
        print(pd.read_csv(args.out / "real-song-by-recipe.csv").to_string(**shown))
        print((args.out / "real-song-controls.json").read_text())


if __name__ == "__main__":
    sys.exit(main())
