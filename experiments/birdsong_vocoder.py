"""Does WORLD serve the built-in birdsong set better than the log-mel spectrogram and Griffin-Lim?

    python experiments/birdsong_vocoder.py [--pairs 12] [--syllables 200]

Three measurements on the built-in birdsong syllables (32 kHz, F0 400-1500 Hz, noisy onsets):
1. **Coverage**: of ``--syllables`` syllables, how many WORLD's F0 search (DIO + StoneMask, 250-2500
   Hz, as the ``mel-world`` representation of the birdsong model uses it) finds voiced at all; a
   WORLD model refuses the others.
2. **The representation alone, no model**: each syllable through the log-mel spectrogram and
   Griffin-Lim, and through WORLD analysis-resynthesis; Praat's HNR (floor 250 Hz) and F0 of the
   result against the recording's.
3. **Continua through the shipped birdsong GAIA**: ``--pairs`` pairs of syllables of two families,
   11 steps, with representation ``mel`` (Griffin-Lim) and ``mel-world`` (the same weights,
   ``--f0 interpolate``), measured with Praat on the written WAVs: median HNR, and how far F0
   strays outside the band between the endpoints' F0.

Writes docs/results/birdsong-vocoder.md and docs/results/birdsong-vocoder.csv.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "experiments"))
from vocoder import model_copy  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pairs", type=int, default=12)
    parser.add_argument("--syllables", type=int, default=200)
    parser.add_argument("--level", type=float, default=-30.0,
                        help="RMS level of the written continua (dBFS). Syllables with silence in their 0.25 s "
                             "window are peaky: at stimgen's default -20 dBFS half the continua would clip and be "
                             "refused, with either representation.")
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "results")
    args = parser.parse_args()

    from stimgen import load_model
    from stimgen.data import open_dataset
    from stimgen.errors import StimgenError
    from stimgen.export import export
    from stimgen.models.bundle import SHIPPED
    from stimgen.morph import continuum
    from stimgen.representations import MelSpectrogram, MelWorld, RenderSettings
    from stimgen.signal.audio import load_audio
    from stimgen.signal.phonetics import measure_f0, measure_hnr

    t0 = time.perf_counter()
    ds = open_dataset("birdsong", progress=True)
    rng = np.random.default_rng(0)
    chosen = rng.choice(len(ds), size=min(args.syllables, len(ds)), replace=False)
    mel_rep = MelSpectrogram.from_config({**load_model("birdsong").info["data"]})
    world_rep = MelWorld(mel_rep.spectrogram, "birdsong")
    floor, ceil = mel_rep.pitch_range
    single = []
    for i in chosen:
        path = ds.path(int(i))
        y, sr = load_audio(path, sr=mel_rep.sample_rate)
        item = mel_rep.load(path)
        row = {"file": path.name, "family": ds.labels.iloc[int(i)].get("family", ""),
               "recording_hnr": measure_hnr(y, sr, floor), "recording_f0": measure_f0(y, sr, floor, ceil)}
        gl = mel_rep.model_audio(mel_rep.plan(item[None]))[0]
        row.update(mel_gl_hnr=measure_hnr(gl, sr, floor), mel_gl_f0=measure_f0(gl, sr, floor, ceil))
        try:
            voice = world_rep.vocoder.analyse(world_rep, path)
        except StimgenError:
            row.update(world_voiced=False)
        else:
            from stimgen.signal.world import analyse_file, synthesize

            envelope, _ = analyse_file(path, world_rep.vocoder.config)
            resynth = synthesize(envelope, voice, world_rep.vocoder.config)
            mw = world_rep.model_audio(world_rep.plan(item[None], [path], np.ones((1, 1))))[0]
            row.update(world_voiced=True, voiced_frames=float(voice.voiced.mean()),
                       world_hnr=measure_hnr(resynth, sr, floor), world_f0=measure_f0(resynth, sr, floor, ceil),
                       mel_world_hnr=measure_hnr(mw, sr, floor), mel_world_f0=measure_f0(mw, sr, floor, ceil))
        single.append(row)
    single = pd.DataFrame(single)

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        models = {"mel + Griffin-Lim": load_model(model_copy(SHIPPED / "birdsong", "mel", tmp / "mel")),
                  "mel + WORLD": load_model(model_copy(SHIPPED / "birdsong", "mel-world", tmp / "mel-world"))}
        voiced = single[single["world_voiced"]]
        families = voiced.groupby("family")["file"].apply(list)
        names = list(families.index)
        for k in range(args.pairs):
            fa, fb = names[k % len(names)], names[(k + 1 + k // len(names)) % len(names)]
            a = ds.root / families[fa][k // len(names) % len(families[fa])]
            b = ds.root / families[fb][k // len(names) % len(families[fb])]
            f0a, f0b = (single.set_index("file").loc[p.name, "recording_f0"] for p in (a, b))
            for system, model in models.items():
                try:
                    out = export(continuum(model, a, b, steps=11), tmp / f"{k}-{system}",
                                 RenderSettings(level_dbfs=args.level))
                except StimgenError as exc:
                    rows.append({"pair": f"{fa}-{fb}", "system": system, "refused": str(exc)})
                    continue
                m = pd.read_csv(out / "manifest.csv")
                low, high = min(f0a, f0b), max(f0a, f0b)
                stray = np.maximum(low - m["f0_hz"], m["f0_hz"] - high).clip(lower=0)
                rows.append({"pair": f"{fa}-{fb}", "a": a.name, "b": b.name, "system": system,
                             "hnr_median": m["hnr_db"].median(), "f0_found": int(m["f0_hz"].notna().sum()),
                             "f0_stray_max_hz": float(stray.max()), "f0_a": f0a, "f0_b": f0b})
                print(rows[-1], flush=True)
    continua = pd.DataFrame(rows)
    wall = time.perf_counter() - t0
    args.out.mkdir(parents=True, exist_ok=True)
    single.to_csv(args.out / "birdsong-vocoder.csv", index=False, float_format="%.4g")
    write_markdown(args.out / "birdsong-vocoder.md", single, continua, wall, args.level)
    print(f"wrote {args.out / 'birdsong-vocoder.md'} in {wall:.0f} s")


def write_markdown(path: Path, single: pd.DataFrame, continua: pd.DataFrame, wall: float, level: float) -> None:
    voiced = single[single["world_voiced"]]
    L = ["# Birdsong: log-mel + Griffin-Lim against WORLD", "",
         f"Made by `python experiments/birdsong_vocoder.py` in {wall:.0f} s (see its docstring for the method). "
         "Praat: HNR by cross-correlation with a 250 Hz floor, F0 in 250-2500 Hz. Medians.", "",
         "## The representations alone (no model)", "",
         f"WORLD (DIO + StoneMask, 250-2500 Hz) found a voice in {len(voiced)} of {len(single)} syllables "
         f"({100 * len(voiced) / len(single):.0f} %); a WORLD model refuses the others. By family:", "",
         "| family | syllables | WORLD finds a voice |", "| --- | ---: | ---: |"]
    for family, g in single.groupby("family"):
        L.append(f"| {family} | {len(g)} | {int(g['world_voiced'].sum())} |")
    L += ["", "On the syllables WORLD can voice:", "",
          "| path | HNR (dB) | abs F0 error against the recording (Hz) |", "| --- | ---: | ---: |",
          f"| the recording | {voiced['recording_hnr'].median():.1f} | - |"]
    for name, col in (("mel + Griffin-Lim", "mel_gl"), ("WORLD analysis-resynthesis", "world"),
                      ("mel -> WORLD envelope (mel-world), recording's voice", "mel_world")):
        err = (voiced[f"{col}_f0"] - voiced["recording_f0"]).abs()
        L.append(f"| {name} | {voiced[f'{col}_hnr'].median():.1f} | {err.median():.1f} |")
    L += ["", f"## Continua through the shipped birdsong GAIA (11 steps, written at {level:g} dBFS RMS)", "",
          "| system | continua written | median HNR (dB) | steps with an F0 "
          "| F0 outside the endpoints' band (max, Hz) |",
          "| --- | ---: | ---: | ---: | ---: |"]
    for system, g in continua.groupby("system", sort=False):
        ok = g[g.get("refused", pd.Series(index=g.index, dtype=object)).isna()] if "refused" in g else g
        L.append(f"| {system} | {len(ok)} of {len(g)} | {ok['hnr_median'].median():.1f} | "
                 f"{int(ok['f0_found'].sum())} of {11 * len(ok)} | {ok['f0_stray_max_hz'].median():.0f} |")
    if "refused" in continua:
        L += ["", "Continua refused, and why:", ""]
        for r in continua[continua["refused"].notna()].itertuples():
            L.append(f"- {r.system}, {r.pair}: {r.refused}")
    L.append("")
    path.write_text("\n".join(L) + "\n")


if __name__ == "__main__":
    sys.exit(main())
