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
4. **Real song** (``--real FOLDER``, as ``stimgen data segment SONGS --labels`` writes it): the
   measurements of 1 and 2 on ``--real-count`` hand-labelled syllables of one bird, the same number
   of each type (written to birdsong-vocoder-real.csv). ``--only-real`` measures only these and rewrites
   only the report's real-song section and that CSV, keeping the other sections as they are.

Writes docs/results/birdsong-vocoder.md and docs/results/birdsong-vocoder.csv.
"""

from __future__ import annotations

import argparse
import json
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
    parser.add_argument("--real", type=Path, help="A folder of real syllables with labels.csv (file, label).")
    parser.add_argument("--real-count", type=int, default=44, help="How many real syllables, spread over the types.")
    parser.add_argument("--only-real", action="store_true",
                        help="Measure only the real song (needs --real): rewrite the real-song section of the "
                             "report and birdsong-vocoder-real.csv, keep the synthetic sections and CSV as they are.")
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "results")
    args = parser.parse_args()

    from stimgen import load_model
    from stimgen.data import open_dataset
    from stimgen.errors import StimgenError
    from stimgen.export import export
    from stimgen.models.bundle import SHIPPED
    from stimgen.morph import continuum
    from stimgen.representations import MelSpectrogram, MelWorld, RenderSettings

    t0 = time.perf_counter()
    mel_rep = MelSpectrogram.from_config({**load_model("birdsong").info["data"]})
    world_rep = MelWorld(mel_rep.spectrogram, "birdsong")
    real = None
    if args.real:
        labels = pd.read_csv(args.real / "labels.csv", dtype={"label": str})
        per_type = max(1, args.real_count // labels["label"].nunique())
        picked = pd.concat([g.sample(min(len(g), per_type), random_state=0) for _, g in labels.groupby("label")])
        real = pd.DataFrame([resynthesis(args.real / r.file, r.label, mel_rep, world_rep)
                             for r in picked.itertuples()]).rename(columns={"family": "type"})
    if args.only_real:
        if real is None:
            parser.error("--only-real needs --real FOLDER")
        wall = time.perf_counter() - t0
        args.out.mkdir(parents=True, exist_ok=True)
        real.to_csv(args.out / "birdsong-vocoder-real.csv", index=False, float_format="%.4g")
        doc = args.out / "birdsong-vocoder.md"
        before, _, after = doc.read_text().partition("\n" + REAL_HEADING)
        after = after[after.index("\n## "):] if "\n## " in after else ""  # sections after it, written by hand
        synthetic = args.out / "birdsong-vocoder.csv"
        synthetic = pd.read_csv(synthetic) if synthetic.exists() else None
        text = "\n".join([before.rstrip("\n"), *real_section(real, args.real, wall, True, synthetic)]) + "\n"
        doc.write_text(text + ("\n" + after.lstrip("\n") if after else ""))
        print(f"wrote the real-song section of {doc} in {wall:.0f} s")
        return
    ds = open_dataset("birdsong", progress=True)
    rng = np.random.default_rng(0)
    chosen = rng.choice(len(ds), size=min(args.syllables, len(ds)), replace=False)
    single = pd.DataFrame([resynthesis(ds.path(int(i)), ds.labels.iloc[int(i)].get("family", ""), mel_rep, world_rep)
                           for i in chosen])

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
    if real is not None:
        real.to_csv(args.out / "birdsong-vocoder-real.csv", index=False, float_format="%.4g")
    write_markdown(args.out / "birdsong-vocoder.md", single, continua, wall, args.level, real, args.real)
    print(f"wrote {args.out / 'birdsong-vocoder.md'} in {wall:.0f} s")


def resynthesis(path: Path, family: str, mel_rep, world_rep) -> dict:
    """A syllable's HNR and F0 as recorded, through mel + Griffin-Lim, through WORLD analysis and
    resynthesis and through mel-world with its own voice (where WORLD finds one)."""
    from stimgen.errors import StimgenError
    from stimgen.signal.audio import load_audio
    from stimgen.signal.phonetics import measure_f0, measure_hnr
    from stimgen.signal.world import analyse_file, synthesize

    floor, ceil = mel_rep.pitch_range
    y, sr = load_audio(path, sr=mel_rep.sample_rate)
    item = mel_rep.load(path)
    row = {"file": path.name, "family": family,
           "recording_hnr": measure_hnr(y, sr, floor), "recording_f0": measure_f0(y, sr, floor, ceil)}
    gl = mel_rep.model_audio(mel_rep.plan(item[None]))[0]
    row.update(mel_gl_hnr=measure_hnr(gl, sr, floor), mel_gl_f0=measure_f0(gl, sr, floor, ceil))
    try:
        voice = world_rep.vocoder.analyse(world_rep, path)
    except StimgenError:
        row.update(world_voiced=False)
    else:
        envelope, _ = analyse_file(path, world_rep.vocoder.config)
        resynth = synthesize(envelope, voice, world_rep.vocoder.config)
        mw = world_rep.model_audio(world_rep.plan(item[None], [path], np.ones((1, 1))))[0]
        row.update(world_voiced=True, voiced_frames=float(voice.voiced.mean()),
                   world_hnr=measure_hnr(resynth, sr, floor), world_f0=measure_f0(resynth, sr, floor, ceil),
                   mel_world_hnr=measure_hnr(mw, sr, floor), mel_world_f0=measure_f0(mw, sr, floor, ceil))
    return row


def write_markdown(path: Path, single: pd.DataFrame, continua: pd.DataFrame, wall: float, level: float,
                   real: pd.DataFrame | None = None, real_folder: Path | None = None) -> None:
    L = ["# Birdsong: log-mel + Griffin-Lim against WORLD", "",
         f"Made by `python experiments/birdsong_vocoder.py` in {wall:.0f} s (see its docstring for the method). "
         "Praat: HNR by cross-correlation with a 250 Hz floor, F0 in 250-2500 Hz. Medians.", "",
         "## The representations alone (no model)", "", *alone(single, "family")]
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
    if real is not None:
        L += real_section(real, real_folder, wall, synthetic=single)
    path.write_text("\n".join(L) + "\n")


REAL_HEADING = "## Real song"


def real_section(real: pd.DataFrame, folder: Path, wall: float, only: bool = False,
                 synthetic: pd.DataFrame | None = None) -> list[str]:
    """The lines of the real-song section: the tables of ``alone``, how clean the recordings are, and
    whether Griffin-Lim stays the better path (figures from ``real``; ``synthetic``, the built-in
    syllables' measurements, for comparison)."""
    how = (f"`python experiments/birdsong_vocoder.py --only-real --real {folder.name}` in {wall:.0f} s (the sections "
           "above are from an earlier full run and were kept as they were)" if only else f"`--real {folder.name}`")
    meta = folder / "meta.json"
    songs = Path(json.loads(meta.read_text()).get("recordings", "SONGS")).name if meta.exists() else "SONGS"
    L = ["", f"{REAL_HEADING}: {len(real)} hand-labelled syllables of one Bengalese finch (no model)", "",
         f"Made by {how}: syllables cut at their hand labels (`stimgen data segment {songs} --labels --out "
         f"{folder.name}`), the same number of each type, measured as above (birdsong-vocoder-real.csv).", "",
         *alone(real, "type"), ""]
    voiced = real[real["world_voiced"]]
    clean = (f"**How clean the recordings are.** Median HNR of the real syllables as recorded: "
             f"{real['recording_hnr'].median():.1f} dB (all {len(real)}), {voiced['recording_hnr'].median():.1f} dB "
             f"(the {len(voiced)} WORLD voices)")
    if synthetic is not None:
        sv = synthetic[synthetic["world_voiced"]]
        clean += (f", against {sv['recording_hnr'].median():.1f} dB for the built-in synthetic syllables WORLD voices "
                  f"({synthetic['recording_hnr'].median():.1f} dB for all {len(synthetic)})")
    lost = real["recording_hnr"].median() - real["mel_gl_hnr"].median()
    L += [clean + f". Griffin-Lim's resynthesis loses {lost:.1f} dB of median HNR on the real syllables "
          "(per syllable, median "
          f"{(real['recording_hnr'] - real['mel_gl_hnr']).median():.1f} dB).", ""]
    if voiced.empty:
        return L + ["WORLD voices none of these syllables: only Griffin-Lim can resynthesise them."]
    err = {c: (voiced[f"{c}_f0"] - voiced["recording_f0"]).abs() for c in ("mel_gl", "world", "mel_world")}
    hnr = {c: voiced[f"{c}_hnr"].median() for c in err}
    both = {c: int((err["mel_gl"] < err[c]).sum()) for c in ("world", "mel_world")}
    comparable = {c: int((err["mel_gl"].notna() & err[c].notna()).sum()) for c in both}
    higher = {c: int((voiced["mel_gl_hnr"] > voiced[f"{c}_hnr"]).sum()) for c in both}
    stays = (hnr["mel_gl"] >= max(hnr["world"], hnr["mel_world"])
             and err["mel_gl"].median() <= min(err["world"].median(), err["mel_world"].median()))
    L += ["**Does Griffin-Lim stay the right default for birdsong on real song? "
          f"{'Yes' if stays else 'Not clearly'}.** "
          f"WORLD finds a voice in only {len(voiced)} of {len(real)} real syllables "
          f"({100 * len(voiced) / len(real):.0f} %, median {100 * voiced['voiced_frames'].median():.0f} % of their "
          f"frames voiced), so a WORLD model would refuse the rest; Griffin-Lim resynthesises all {len(real)}. "
          f"On the {len(voiced)} WORLD can voice, median HNR is {hnr['mel_gl']:.1f} dB through Griffin-Lim, "
          f"{hnr['world']:.1f} dB through WORLD analysis-resynthesis and {hnr['mel_world']:.1f} dB through mel-world "
          f"(recording {voiced['recording_hnr'].median():.1f}); Griffin-Lim's HNR is higher than WORLD's on "
          f"{higher['world']} of {len(voiced)} syllables and than mel-world's on {higher['mel_world']}. Median F0 "
          f"error against the recording: {err['mel_gl'].median():.0f} Hz (Griffin-Lim), {err['world'].median():.0f} Hz "
          f"(WORLD), {err['mel_world'].median():.0f} Hz (mel-world); Griffin-Lim's is smaller on "
          f"{both['world']} of {comparable['world']} syllables against WORLD and {both['mel_world']} of "
          f"{comparable['mel_world']} against mel-world."]
    return L


def alone(single: pd.DataFrame, group: str) -> list[str]:
    """The lines of a "representations alone" section: WORLD's coverage by ``group``, then HNR and
    F0 error of each path on the syllables WORLD can voice."""
    voiced = single[single["world_voiced"]]
    L = [f"WORLD (DIO + StoneMask, 250-2500 Hz) found a voice in {len(voiced)} of {len(single)} syllables "
         f"({100 * len(voiced) / len(single):.0f} %); a WORLD model refuses the others. By {group}:", "",
         f"| {group} | syllables | WORLD finds a voice |", "| --- | ---: | ---: |"]
    for family, g in single.groupby(group):
        L.append(f"| {family} | {len(g)} | {int(g['world_voiced'].sum())} |")
    L += ["", "On the syllables WORLD can voice:", "",
          "| path | HNR (dB) | abs F0 error against the recording (Hz) |", "| --- | ---: | ---: |",
          f"| the recording | {voiced['recording_hnr'].median():.1f} | - |"]
    for name, col in (("mel + Griffin-Lim", "mel_gl"), ("WORLD analysis-resynthesis", "world"),
                      ("mel -> WORLD envelope (mel-world), recording's voice", "mel_world")):
        err = (voiced[f"{col}_f0"] - voiced["recording_f0"]).abs()
        L.append(f"| {name} | {voiced[f'{col}_hnr'].median():.1f} | {err.median():.1f} |")
    err = (single["mel_gl_f0"] - single["recording_f0"]).abs()
    L.append(f"| mel + Griffin-Lim, all {len(single)} syllables (recording: {single['recording_hnr'].median():.1f}) "
             f"| {single['mel_gl_hnr'].median():.1f} | {err.median():.1f} |")
    return L


if __name__ == "__main__":
    sys.exit(main())
