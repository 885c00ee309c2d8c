"""Which representation makes vowel continua that sound like the voices they came from?

    python experiments/vocoder.py [--world-gaia runs/vowels-world-gaia] [--world-ae runs/vowels-world-ae]

Endpoints: the six vowel pairs of docs/results/calibration.md, spoken by three voices: the
synthetic man of the calibration (Peterson & Barney means, F0 120 Hz) and two voices no one here
made, Debian's espeak-ng (``en-us`` at pitch 40, a man's; ``en-us+f3`` at pitch 80, a woman's),
their leading and trailing silence trimmed. Systems, each run through ``stimgen.morph.continuum``
and ``stimgen.export.export`` as ``stimgen continuum`` runs them (11 steps, equal spacing in the
representation's own spectral metric):
- **mel GAIA + Griffin-Lim**: the shipped vowel GAIA, representation ``mel`` (F0 comes out of the model);
- **mel GAIA + WORLD**: the same weights, representation ``mel-world`` (the shipped system);
- **mel AE + WORLD**: the AE trained by the shipped GAIA's recipe (``--mel-ae``, if given or in runs/);
- **mel GAIA, no between term + WORLD**: the GAIA shipped before the between term (``--mel-gaia-before``,
  if given or in runs/): trained on ``vowels`` without ``between_weight``;
- **WORLD GAIA**, **WORLD AE**: trained on the ``world`` representation by the same recipe;
- **WORLD envelopes, linear** (STRAIGHT-style): the two endpoints' WORLD envelopes interpolated
  linearly, no model: the classic morph, as a baseline.
The WORLD systems are run with ``--f0 120`` and ``--f0 interpolate``.

Everything is measured with Praat on the written WAVs: HNR of every step, and of each endpoint's
own WORLD analysis-resynthesis (the ceiling; at 120 Hz for ``--f0 120``, at its own F0 otherwise);
F0 of every step, over its middle 60 % as the manifests report it and over the whole file;
Spearman's rho of F1 and F2 with the step, counted as monotonic where |rho| >= 0.95 for a formant
that differs by at least 1 Bark between the first and last step; the CV (sd / mean) of neighbour
distances in (F1, F2) Bark and in the system's own spectral metric (dB). F1 and F2 are measured
with one ruler for every system: the formant ceiling of the endpoints' vocal tracts
(``stimgen.signal.phonetics.vocal_tract_ceiling`` of each recording) mixed by the step's morph level, as
the WORLD systems' manifests report them; and, for comparison, with the ceiling that fits each
step's own F0 (whole file), the rule before, which takes a woman voiced at 120 Hz for a man.
With the model folders, also the models' held-out reconstruction error and midpoint-to-nearest-
real distance (as experiments/train_default_models.py measures them).

Writes docs/results/vocoder.md, docs/results/vocoder/*.csv and docs/img/vocoder.png.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "experiments"))
from calibration import IPA, PAIRS, spearman  # noqa: E402

ESPEAK = {"iy": "i:", "aa": "A:", "uw": "u:", "eh": "E", "ae": "a", "ih": "I", "ao": "O:"}
VOICES = {"synthetic man": None, "espeak-ng man": ("en-us", 40), "espeak-ng woman": ("en-us+f3", 80)}
F0_POLICIES = (120.0, "interpolate")


def make_endpoints(folder: Path) -> dict[str, Path]:
    """The endpoint WAVs of every voice, in a folder each; espeak-ng voices only where it is installed."""
    from stimgen.data.vowels import mean_vowel
    from stimgen.signal.audio import load_audio, save_wav, trim_silence

    voices = {}
    for voice, espeak in VOICES.items():
        if espeak is not None and shutil.which("espeak-ng") is None:
            print(f"espeak-ng is not installed: {voice} left out", flush=True)
            continue
        out = folder / voice.replace(" ", "-")
        out.mkdir()
        for code, phoneme in ESPEAK.items():
            if espeak is None:
                save_wav(out / f"{code}.wav", mean_vowel(code, "man", f0=120.0, duration=1.0, rng=0), 16000)
                continue
            raw = out / f"{code}-raw.wav"
            subprocess.run(["espeak-ng", "-v", espeak[0], "-p", str(espeak[1]), "-s", "60", "-w", str(raw),
                            f"[[{phoneme}]]"], check=True)
            y, sr = load_audio(raw)
            save_wav(out / f"{code}.wav", trim_silence(y, 30.0), sr)
            raw.unlink()
        voices[voice] = out
    return voices


def model_copy(folder: Path, representation: str, out: Path) -> Path:
    """A copy of a model folder whose config names ``representation`` (the weights are the same)."""
    shutil.copytree(folder, out)
    config = json.loads((out / "config.json").read_text())
    config["data"]["representation"] = representation
    if representation == "mel-world" and "voice" not in config["data"]:
        from stimgen.data import open_dataset
        from stimgen.representations import MelWorld

        rep = MelWorld.from_config(config["data"]).fit(open_dataset(config["data"]["source"]))
        config["data"]["voice"] = rep.to_config()["voice"]
    (out / "config.json").write_text(json.dumps(config, indent=2))
    return out


def envelope_interpolation(model, a: Path, b: Path, steps: int, f0):
    """The STRAIGHT-style baseline: the two WORLD envelopes interpolated linearly, voiced as the
    WORLD models voice theirs (``model`` only lends its representation and name to the export)."""
    from stimgen.morph.domain import Domain
    from stimgen.morph.stimuli import StimulusSet

    domain = Domain(model)
    rep = domain.representation
    t = np.linspace(0.0, 1.0, steps)
    x = (1 - t)[:, None, None, None] * rep.load(a)[None] + t[:, None, None, None] * rep.load(b)[None]
    table = pd.DataFrame({"name": [f"step_{k:02d}" for k in range(steps)], "step": np.arange(steps), "morph_level": t})
    plan = rep.plan(x.astype(np.float32), [a, b], np.stack([1 - t, t], axis=1), f0)
    return StimulusSet(domain, "continuum", plan, np.zeros((steps, 1)), table,
                       {"verb": "continuum", "baseline": "linear WORLD envelopes", "f0": f0, "seed": 0},
                       inputs=[a, b])


def resynthesis_hnr(path: Path, f0: float | None) -> float:
    """HNR of a file's own WORLD analysis-resynthesis (at ``f0`` Hz if given), written and read back
    as a stimulus is."""
    from stimgen.signal.audio import load_audio, resample
    from stimgen.signal.phonetics import measure_hnr
    from stimgen.signal.world import Voice, WorldConfig, analyse, synthesize

    cfg = WorldConfig()
    y, sr = load_audio(path)
    item, voice = analyse(resample(y, sr, cfg.sample_rate), cfg)
    if f0 is not None:
        voice = Voice(np.where(voice.voiced, f0, 0.0), voice.coded_ap)
    return measure_hnr(resample(synthesize(item, voice, cfg), cfg.sample_rate, 48000), 48000)


def remeasure(m: pd.DataFrame, folder: Path, ceiling_a: float, ceiling_b: float) -> pd.DataFrame:
    """The manifest with F1/F2 (Hz, Bark) of every written step measured at the endpoints' vocal-tract
    ceilings mixed by the step's morph level (what a WORLD system's manifest already holds), and
    beside them, as ``*_f0_rule``, at the ceiling that fits the step's own F0 over the whole file,
    and that F0 (``f0_whole_hz``)."""
    from stimgen.signal.audio import load_audio
    from stimgen.signal.phonetics import formants_for_voice, hz_to_bark, measure_f0

    m = m.copy()
    rows = []
    for file, level in zip(m["stim_file"], m["morph_level"]):
        y, sr = load_audio(folder / file)
        whole = measure_f0(y, sr, span=(0.0, 1.0))
        ruler = formants_for_voice(y, sr, whole, (1 - level) * ceiling_a + level * ceiling_b)[:2]
        before = formants_for_voice(y, sr, whole)[:2] if np.isfinite(whole) else np.full(2, np.nan)
        rows.append([whole, *ruler, *before])
    rows = np.array(rows)
    m["f0_whole_hz"] = rows[:, 0]
    for k, f in enumerate(("f1", "f2")):
        m[f"{f}_hz"], m[f"{f}_hz_f0_rule"] = rows[:, 1 + k], rows[:, 3 + k]
        m[f"{f}_bark"], m[f"{f}_bark_f0_rule"] = hz_to_bark(rows[:, 1 + k]), hz_to_bark(rows[:, 3 + k])
    return m


def monotonic(m: pd.DataFrame, suffix: str = "") -> tuple[bool, dict]:
    """Whether every formant that moves by >= 1 Bark has |Spearman rho| >= 0.95, and the figures."""
    row, ok = {}, []
    for f in ("f1", "f2"):
        hz, bark = m[f"{f}_hz{suffix}"], m[f"{f}_bark{suffix}"]
        rho = spearman(hz.to_numpy())
        moves = abs(bark.iloc[-1] - bark.iloc[0]) >= 1.0
        row.update({f"{f}_rho": rho, f"{f}_moves": moves, f"{f}_a": hz.iloc[0], f"{f}_b": hz.iloc[-1]})
        ok.append(abs(rho) >= 0.95 or not moves)
    return all(ok), row


def measure_continuum(m: pd.DataFrame) -> dict:
    from stimgen.signal.distances import bark_distance

    barks = m[["f1_bark", "f2_bark"]].to_numpy()
    d_bark = bark_distance(barks[1:], barks[:-1])
    d_own = m["distance_prev"].to_numpy()[1:]
    row = {"hnr_median": m["hnr_db"].median(), "hnr_min": m["hnr_db"].min(),
           "f0_min": m["f0_hz"].min(), "f0_max": m["f0_hz"].max(),
           "f0_whole_min": m["f0_whole_hz"].min(), "f0_whole_max": m["f0_whole_hz"].max(),
           "cv_bark": np.nanstd(d_bark) / np.nanmean(d_bark), "cv_own": np.std(d_own) / np.mean(d_own),
           "largest_bark_step_x_mean": np.nanmax(d_bark) / np.nanmean(d_bark)}
    row["formants_monotonic"], figures = monotonic(m)
    row["formants_monotonic_f0_rule"] = monotonic(m, "_f0_rule")[0]
    return {**row, **figures}


def model_figures(folder: Path) -> dict:
    """Held-out reconstruction and midpoint-to-nearest-real of a model, in its representation's dB."""
    from train_default_models import evaluate

    from stimgen.models.bundle import load_model
    from stimgen.train import prepare_data, split

    model = load_model(folder)
    data = model.info["data"]
    x = prepare_data(data["source"], representation=data.get("representation", "mel")).x
    train_idx, holdout_idx = split(len(x), model.info["training"]["holdout"], model.info["training"]["seed"])
    db_range = -data["world"]["min_db"] if "world" in data else -data["spectrogram"]["min_db"]
    figures = evaluate(model, x, train_idx, holdout_idx, audio=True, seed=0)
    return {k: v * db_range / 80.0 if k.endswith("_dB") else v for k, v in figures.items()}  # evaluate assumes 80 dB


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--world-gaia", type=Path, default=REPO / "runs" / "vowels-world-gaia")
    parser.add_argument("--world-ae", type=Path, default=REPO / "runs" / "vowels-world-ae")
    parser.add_argument("--mel-gaia", type=Path, default=REPO / "data" / "models" / "vowels")
    parser.add_argument("--mel-ae", type=Path, default=REPO / "runs" / "vowels-ae")
    parser.add_argument("--mel-gaia-before", type=Path, default=REPO / "runs" / "vowels-gaia-before")
    parser.add_argument("--steps", type=int, default=11)
    parser.add_argument("--pairs", type=int, default=len(PAIRS), help="Use only the first N pairs (a quick look).")
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "results")
    args = parser.parse_args()

    from stimgen import load_model
    from stimgen.errors import StimgenError
    from stimgen.export import export
    from stimgen.morph import continuum
    from stimgen.morph.domain import Domain

    t0 = time.perf_counter()
    rows, tracks, ceilings = [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        voices = make_endpoints(tmp)
        mel = model_copy(args.mel_gaia, "mel", tmp / "mel-gaia")
        systems = {"mel GAIA + Griffin-Lim": load_model(mel),
                   "mel GAIA + WORLD": load_model(model_copy(args.mel_gaia, "mel-world", tmp / "mel-world-gaia"))}
        for name, folder in (("mel AE + WORLD", args.mel_ae),
                             ("mel GAIA, no between term + WORLD", args.mel_gaia_before),
                             ("WORLD GAIA", args.world_gaia), ("WORLD AE", args.world_ae)):
            if (folder / "model.safetensors").is_file():
                systems[name] = load_model(model_copy(folder, "mel-world", tmp / name.replace(" ", "-"))
                                           if name.startswith("mel") else folder)
            else:
                print(f"{folder} holds no trained model: {name} left out", flush=True)
        world_model = systems.get("WORLD GAIA") or systems.get("WORLD AE")
        if world_model is not None:
            systems["WORLD envelopes, linear"] = world_model
        vocal_tract = Domain(systems["mel GAIA + WORLD"]).representation
        for voice, folder in voices.items():
            tract = {code: vocal_tract.plan(vocal_tract.load(folder / f"{code}.wav")[None], [folder / f"{code}.wav"],
                                            np.ones((1, 1))).state[0].formant_ceiling for code in ESPEAK}
            for code in ESPEAK:
                ceilings.append({"voice": voice, "vowel": IPA[code], "resynthesis_hnr_own_f0": resynthesis_hnr(
                    folder / f"{code}.wav", None),
                    "resynthesis_hnr_120": resynthesis_hnr(folder / f"{code}.wav", 120.0),
                    "vocal_tract_ceiling_hz": tract[code]})
            for a, b in PAIRS[: args.pairs]:
                for system, model in systems.items():
                    policies = F0_POLICIES if model.info["data"].get("representation", "mel") != "mel" else (None,)
                    for f0 in policies:
                        fa, fb = folder / f"{a}.wav", folder / f"{b}.wav"
                        pair = f"{IPA[a]}-{IPA[b]}"
                        try:
                            if system == "WORLD envelopes, linear":
                                stimuli = envelope_interpolation(model, fa, fb, args.steps, f0)
                            else:
                                stimuli = continuum(model, fa, fb, steps=args.steps, f0=f0)
                            out = export(stimuli, tmp / "out" / f"{voice}-{a}-{b}-{system}-{f0}")
                        except StimgenError as exc:  # reported, not hidden
                            print(f"{voice} {pair} {system} f0={f0}: refused: {exc}", flush=True)
                            rows.append({"voice": voice, "pair": pair, "system": system, "f0": f0 or "model",
                                         "refused": str(exc)})
                            continue
                        m = remeasure(pd.read_csv(out / "manifest.csv"), out, tract[a], tract[b])
                        rows.append({"voice": voice, "pair": pair, "system": system, "f0": f0 or "model",
                                     **measure_continuum(m)})
                        tracks.append(m[["step", "f0_hz", "f0_whole_hz", "hnr_db", "f1_hz", "f2_hz", "f1_bark",
                                         "f2_bark", "f1_hz_f0_rule", "f2_hz_f0_rule"]].assign(
                            voice=voice, pair=pair, system=system, f0=f0 or "model"))
                        r = rows[-1]
                        print(f"{voice:16s} {pair:4s} {system:24s} f0={r['f0']!s:11s} HNR {r['hnr_median']:5.1f} dB  "
                              f"F0 {r['f0_min']:5.1f}-{r['f0_max']:5.1f}  "
                              f"rho F1 {r['f1_rho']:+.2f} F2 {r['f2_rho']:+.2f}  "
                              f"CV Bark {r['cv_bark']:.2f}", flush=True)
        models = {name: model_figures(Path(systems[name].info["path"])) for name in systems
                  if name in ("mel GAIA + Griffin-Lim", "mel AE + WORLD", "mel GAIA, no between term + WORLD",
                              "WORLD GAIA", "WORLD AE")}
    wall = time.perf_counter() - t0
    results, tracks, ceilings = pd.DataFrame(rows), pd.concat(tracks), pd.DataFrame(ceilings)
    csv_dir = args.out / "vocoder"
    csv_dir.mkdir(parents=True, exist_ok=True)
    results.to_csv(csv_dir / "continua.csv", index=False, float_format="%.4g")
    tracks.to_csv(csv_dir / "continua_steps.csv", index=False, float_format="%.6g")
    ceilings.to_csv(csv_dir / "resynthesis.csv", index=False, float_format="%.4g")
    (csv_dir / "models.json").write_text(json.dumps(models, indent=2) + "\n")
    figure(tracks, REPO / "docs" / "img" / "vocoder.png")
    write_markdown(args.out / "vocoder.md", results, ceilings, models, wall, args.steps)
    print(f"wrote {args.out / 'vocoder.md'} in {wall:.0f} s")


def summary_table(results: pd.DataFrame, ceilings: pd.DataFrame) -> pd.DataFrame:
    """One row per voice, system and F0 policy: medians over the six pairs and the counts."""
    ceiling = ceilings.groupby("voice")[["resynthesis_hnr_own_f0", "resynthesis_hnr_120"]].median()
    out = []
    for (voice, system, f0), r in results.groupby(["voice", "system", "f0"], sort=False):
        top = ceiling.loc[voice, "resynthesis_hnr_120" if f0 == 120.0 else "resynthesis_hnr_own_f0"]
        out.append({"voice": voice, "system": system, "f0": f0, "hnr_median": r["hnr_median"].median(),
                    "hnr_ceiling": top, "f0_range": f"{r['f0_min'].min():.1f}-{r['f0_max'].max():.1f}",
                    "f0_whole": f"{r['f0_whole_min'].min():.1f}-{r['f0_whole_max'].max():.1f}",
                    "monotonic": f"{int(r['formants_monotonic'].sum())}/{len(r)}",
                    "monotonic_f0_rule": f"{int(r['formants_monotonic_f0_rule'].sum())}/{len(r)}",
                    "cv_bark": r["cv_bark"].median(), "cv_own": r["cv_own"].median()})
    return pd.DataFrame(out)


def write_markdown(path: Path, results: pd.DataFrame, ceilings: pd.DataFrame, models: dict, wall: float,
                   steps: int) -> None:
    summary = summary_table(results, ceilings)
    L = ["# Voices that sound like voices: mel + Griffin-Lim against WORLD", "",
         f"Made by `python experiments/vocoder.py` in {wall:.0f} s. The six vowel pairs of "
         "[calibration.md](calibration.md), {steps} steps each, spoken by the synthetic man of the calibration and by "
         "two espeak-ng voices that no one here made (silence trimmed), exported as `stimgen continuum` writes them "
         "(48 kHz, -20 dBFS RMS, 10 ms ramps) and measured with Praat on the WAVs. Raw numbers: "
         "[vocoder/](vocoder/).".replace("{steps}", str(steps)), "",
         "![vocoder](../img/vocoder.png)", "",
         "## Summary (medians over the six pairs)", "",
         "HNR: Praat's harmonics-to-noise ratio (cross-correlation), median over the steps of a continuum; ceiling: "
         "the endpoints' own WORLD analysis-resynthesis (at 120 Hz for `--f0 120`, at their own F0 otherwise). "
         "F0 range: Praat's mean F0 of each step over its middle 60 % (the manifests' `f0_hz`), lowest to highest; "
         "whole file: the same over the whole file, onset and offset included. "
         "Monotonic: pairs on which every formant that moves by at least 1 Bark between the first and last step has "
         "|Spearman rho| >= 0.95, F1/F2 measured at the formant ceiling of the endpoints' vocal tracts (mixed by "
         "morph level; the WORLD manifests' `formant_ceiling_hz`); F0 rule: measured instead at the ceiling that fits "
         "each step's own F0, the rule before. CV: sd / mean of the neighbour distances, in (F1, F2) Bark (vocal-tract "
         "ceiling) and in the representation's own spectral metric (dB).", "",
         "| voice | system | --f0 | HNR (dB) | ceiling (dB) | F0 range (Hz) | F0, whole file | F1, F2 monotonic "
         "| same, F0 rule | CV Bark | CV own |",
         "| --- | --- | --- | ---: | ---: | --- | --- | ---: | ---: | ---: | ---: |"]
    for r in summary.itertuples():
        f0 = f"{r.f0:g}" if isinstance(r.f0, float) else r.f0
        L.append(f"| {r.voice} | {r.system} | {f0} | {r.hnr_median:.1f} | {r.hnr_ceiling:.1f} | {r.f0_range} | "
                 f"{r.f0_whole} | {r.monotonic} | {r.monotonic_f0_rule} | {r.cv_bark:.2f} | {r.cv_own:.2f} |")
    tract = ceilings.groupby("voice")["vocal_tract_ceiling_hz"]
    L += ["", "Vocal-tract formant ceilings of the endpoint recordings (Hz): " + "; ".join(
        f"{voice} {t.min():.0f}-{t.max():.0f}" for voice, t in tract)]
    L += ["", "## Every continuum", "",
          "| voice | pair | system | --f0 | HNR (dB) | F0 (Hz) | F1 rho | F2 rho | F1 (Hz) | F2 (Hz) | CV Bark "
          "| largest step / mean |",
          "| --- | --- | --- | --- | ---: | --- | ---: | ---: | --- | --- | ---: | ---: |"]
    for r in results.itertuples():
        f0 = f"{r.f0:g}" if isinstance(r.f0, float) else r.f0
        L.append(f"| {r.voice} | {r.pair} | {r.system} | {f0} | {r.hnr_median:.1f} | {r.f0_min:.1f}-{r.f0_max:.1f} | "
                 f"{r.f1_rho:+.2f} | {r.f2_rho:+.2f} | {r.f1_a:.0f} -> {r.f1_b:.0f} | {r.f2_a:.0f} -> {r.f2_b:.0f} | "
                 f"{r.cv_bark:.2f} | {r.largest_bark_step_x_mean:.1f} |")
    if models:
        L += ["", "## The models themselves (held-out 10 %, in each representation's dB)", "",
              "| model | held-out reconstruction (dB) | midpoint to nearest real (dB) "
              "| real to nearest other real (dB) |",
              "| --- | ---: | ---: | ---: |"]
        for name, f in models.items():
            L.append(f"| {name} | {f['holdout_reconstruction_dB']:.2f} | {f['midpoint_to_nearest_real_dB']:.2f} | "
                     f"{f['real_to_nearest_other_real_dB']:.2f} |")
    L.append("")
    path.write_text("\n".join(L) + "\n")


def figure(tracks: pd.DataFrame, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    held = tracks[tracks["f0"].isin([120.0, "model"])]
    systems = list(dict.fromkeys(held["system"]))
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.4))
    for system in systems:
        s = held[held["system"] == system]
        axes[0].plot(s.groupby("step")["hnr_db"].median(), "-o", ms=3, label=system)
        one = s[(s["pair"] == "i-ɑ") & (s["voice"] == s["voice"].iloc[-1])]
        axes[1].plot(one["step"], one["f2_hz"], "-o", ms=3, label=system)
    axes[0].set(xlabel="step", ylabel="HNR (dB, Praat)", title="HNR of every step (median over pairs and voices)")
    axes[1].set(xlabel="step", ylabel="F2 (Hz, Praat)", title=f"F2 along /i/-/ɑ/ ({held['voice'].iloc[-1]})")
    for ax in axes:
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


if __name__ == "__main__":
    sys.exit(main())
