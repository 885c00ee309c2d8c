"""Is a continuum between two syllable types of one bird one that a birdsong lab would use?

    python experiments/song_continuum.py MODEL_DIR SYLLABLE_FOLDER --a LABEL --b LABEL --out DIR [--steps 11]

SYLLABLE_FOLDER holds one WAV a syllable and labels.csv (``file``, ``label``), as ``stimgen data
segment SONGS --labels --out SYLLABLE_FOLDER`` writes it. Every token of the two types is measured
with Sound Analysis Pro's features (:func:`stimgen.signal.song_features.song_features`). The
endpoints are each type's typical token: its medoid in those features (z-scored over both types;
the token with the least summed distance to the others of its type). A ``--steps`` continuum is
written through MODEL_DIR at stimgen's default level, the same features are measured on the
written WAVs, and for each feature the report gives:

- the endpoints' difference against the within-type spread (the feature's SD over the tokens of
  each type; "differ" where the difference exceeds the larger of the two SDs);
- where they differ, whether the feature moves monotonically (Spearman's rho of feature against
  step, and the number of steps that go against the overall direction) and how evenly (the CV of
  the absolute step sizes: 0 for equal steps);
- how clean the voices are: Praat's HNR (cross-correlation, 250 Hz floor, above 250 Hz) and the Wiener entropy
  of the steps against the recordings' of the two types (each measured over its sounding part).

Writes DIR/continuum/ (the stimulus folder), DIR/song-continuum.md, .csv (the steps' features)
and .png (each feature against step, the two types' mean +- SD shaded).
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

#: The features compared (all of SONG_FEATURES but the level, which stimgen sets).
FEATURES = ("sounding_s", "pitch_hz", "wiener_entropy", "spectral_centroid_hz", "fm_hz_per_ms", "am_db_per_ms")
HNR_FLOOR = 250.0


def measure(path: Path) -> dict[str, float]:
    """A sound file's song features and its HNR over its sounding part, above the song features'
    band floor as they are (the room's rumble below it is not the bird's noise, and the steps,
    made from items that start at 300 Hz, have none of it)."""
    from stimgen.signal.audio import load_audio
    from stimgen.signal.phonetics import measure_hnr
    from stimgen.signal.song_features import above_band_floor, song_features, sounding_samples

    y, sr = load_audio(path)
    sounding = np.flatnonzero(sounding_samples(y, sr))
    part = above_band_floor(y, sr)[sounding[0]: sounding[-1] + 1]
    hnr = measure_hnr(part, sr, floor=HNR_FLOOR) if part.size / sr >= 3 / HNR_FLOOR else float("nan")
    return {**song_features(y, sr), "hnr_db": hnr}


def medoid(tokens: pd.DataFrame, scale: pd.Series, centre: pd.Series) -> str:
    """The file of the token with the least summed distance (features z-scored) to the others."""
    z = ((tokens[list(FEATURES)] - centre) / scale).dropna()
    d = np.sqrt(((z.to_numpy()[:, None] - z.to_numpy()[None]) ** 2).sum(-1)).sum(1)
    return tokens.loc[z.index[int(np.argmin(d))], "file"]


def monotony(values: np.ndarray) -> dict[str, float]:
    """Spearman's rho against step, steps against the overall direction, CV of the step sizes."""
    from scipy.stats import spearmanr

    steps = np.diff(values)
    direction = np.sign(values[-1] - values[0])
    size = np.abs(steps)
    return {"rho": float(spearmanr(np.arange(values.size), values).statistic),
            "reversals": int(np.sum(np.sign(steps) == -direction)),
            "step_cv": float(size.std() / size.mean()) if size.mean() > 0 else float("nan")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model", type=Path)
    parser.add_argument("syllables", type=Path)
    parser.add_argument("--a", required=True)
    parser.add_argument("--b", required=True)
    parser.add_argument("--steps", type=int, default=11)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()

    from stimgen import load_model
    from stimgen.export import export
    from stimgen.morph import continuum

    labels = pd.read_csv(args.syllables / "labels.csv", dtype={"label": str})
    tokens = labels[labels["label"].isin([args.a, args.b])].reset_index(drop=True)
    if not {args.a, args.b} <= set(tokens["label"]):
        raise SystemExit(f"{args.syllables / 'labels.csv'}: no syllable labelled {args.a!r} or {args.b!r}")
    tokens = pd.concat([tokens, pd.DataFrame([measure(args.syllables / f) for f in tokens["file"]])], axis=1)
    centre, scale = tokens[list(FEATURES)].mean(), tokens[list(FEATURES)].std()
    ends = [args.syllables / medoid(tokens[tokens["label"] == t], scale, centre) for t in (args.a, args.b)]

    args.out.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        folder = export(continuum(load_model(args.model), *ends, steps=args.steps), args.out / "continuum",
                        command="experiments/song_continuum.py", force=True)
    manifest = pd.read_csv(folder / "manifest.csv")
    steps = pd.DataFrame([measure(folder / f) for f in manifest["stim_file"]])
    steps.insert(0, "stim_file", manifest["stim_file"])
    steps.to_csv(args.out / "song-continuum.csv", index=False, float_format="%.5g")

    spread = tokens.groupby("label")[list(FEATURES)].agg(["mean", "std"])
    rows = []
    for f in FEATURES:
        values = steps[f].to_numpy()
        sd_a, sd_b = spread.loc[args.a, (f, "std")], spread.loc[args.b, (f, "std")]
        diff = values[-1] - values[0]
        row = {"feature": f, "a_type_mean": spread.loc[args.a, (f, "mean")],
               "b_type_mean": spread.loc[args.b, (f, "mean")],
               "sd_a": sd_a, "sd_b": sd_b, "endpoints_diff": diff, "differ": bool(abs(diff) > max(sd_a, sd_b))}
        if row["differ"] and np.all(np.isfinite(values)):
            row.update(monotony(values))
        rows.append(row)
    report = pd.DataFrame(rows)
    recorded = tokens.groupby("label")[["hnr_db", "wiener_entropy"]].median()
    write_markdown(args, report, steps, recorded, ends)
    plot(args, steps, spread)
    print((args.out / "song-continuum.md").read_text())


def write_markdown(args, report: pd.DataFrame, steps: pd.DataFrame, recorded: pd.DataFrame, ends: list[Path]) -> None:
    def cell(v, fmt="{:.3g}"):
        return "" if v is None or (isinstance(v, float) and not np.isfinite(v)) else fmt.format(v)

    L = [f"# Song continuum {args.a} -> {args.b} through {args.model.name}", "",
         f"Made by `python experiments/song_continuum.py {args.model} {args.syllables} --a {args.a} --b {args.b} "
         f"--steps {args.steps} --out {args.out}`. Endpoints (each type's medoid in the song features): "
         f"`{ends[0].name}`, `{ends[1].name}`. Features measured on the written WAVs over their sounding part.", "",
         "| feature | type a mean | type b mean | SD a | SD b | endpoints' difference | differ | Spearman rho "
         "| reversals | CV of steps |", "| --- | ---: | ---: | ---: | ---: | ---: | :---: | ---: | ---: | ---: |"]
    for r in report.to_dict("records"):
        L.append(f"| {r['feature']} | {cell(r['a_type_mean'])} | {cell(r['b_type_mean'])} | {cell(r['sd_a'])} | "
                 f"{cell(r['sd_b'])} | {cell(r['endpoints_diff'])} | {'yes' if r['differ'] else 'no'} | "
                 f"{cell(r.get('rho'), '{:.2f}')} | {cell(r.get('reversals'), '{:.0f}')} | "
                 f"{cell(r.get('step_cv'), '{:.2f}')} |")
    L += ["", "Voices: median over the steps against the recordings of each type (medians over tokens):", "",
          "| | HNR (dB) | Wiener entropy |", "| --- | ---: | ---: |",
          f"| steps | {steps['hnr_db'].median():.1f} | {steps['wiener_entropy'].median():.2f} |"]
    for label, r in recorded.iterrows():
        L.append(f"| recordings of {label} | {r['hnr_db']:.1f} | {r['wiener_entropy']:.2f} |")
    (args.out / "song-continuum.md").write_text("\n".join(L) + "\n")


def plot(args, steps: pd.DataFrame, spread: pd.DataFrame) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 3, figsize=(12, 6.5))
    x = np.arange(len(steps))
    for ax, f in zip(axes.flat, FEATURES):
        for label, colour in ((args.a, "tab:blue"), (args.b, "tab:orange")):
            m, s = spread.loc[label, (f, "mean")], spread.loc[label, (f, "std")]
            ax.axhspan(m - s, m + s, color=colour, alpha=0.2, label=f"type {label}: mean +- SD")
        ax.plot(x, steps[f], "k.-")
        ax.set_title(f)
        ax.set_xlabel("step")
    axes.flat[0].legend(fontsize=8)
    fig.suptitle(f"{args.a} -> {args.b} through {args.model.name}: song features of the written steps")
    fig.tight_layout()
    fig.savefig(args.out / "song-continuum.png", dpi=100)


if __name__ == "__main__":
    sys.exit(main())
