"""Issue 23: which faithful-ends method makes continua that start and end at the user's own vowels?

    python experiments/faithful_ends.py VOICES --out docs/results/faithful-ends [--methods warp,tune,...]
        [--voices espeak-man,...] [--pairs iy-uw,iy-aa] [--formantgrid] [--keep DIR] [--model-share S]

VOICES holds one folder of sustained vowels per voice (``experiments/natural_voices.py VOICES``
makes four that no one here made: espeak-ng and festival, a man and a woman each). For every voice,
vowel pair (experiments/calibration.py's six) and method (:data:`stimgen.morph.ends.METHODS`),
the continuum is made as ``stimgen continuum --a A --b B --steps 11 --f0 120 --endpoints METHOD``
makes it, with the shipped ``vowels`` model, and written (``--model-share`` as ``stimgen continuum
--model-share`` gives it to ``warp``). With ``--formantgrid`` the phonetician's
baseline (experiments/formantgrid.py: the speaker's own source refiltered through formants
interpolated in Bark) is measured beside them.

The ruler (issue 23's): Praat Burg, 5 formants, one fixed 5500 Hz ceiling, median over the middle
half of the voiced part (``natural_voices.measure_vowel``), on every written step and on each
endpoint recording passed through WORLD at 120 Hz (what a perfect model could write at that F0; its
voice made no noisier than the recording, as a continuum's is since 2026-12-08).
Per continuum:
- ``end_a_bark``, ``end_b_bark``: the first and last steps' distance in (F1, F2) Bark from that
  reference;
- ``monotonic``: F1 and F2 each monotonic (|Spearman rho| >= 0.95) where they move >= 1 Bark;
- ``cv_bark``: SD / mean of the neighbour distances in (F1, F2) Bark; ``first_x_mean``,
  ``last_x_mean``, ``largest_x_mean``: the first, last and largest neighbour step over the mean;
- ``hnr_median`` (Praat), beside ``hnr_ends_ref``, the mean HNR of the two ends' WORLD references
  (the voice through WORLD's own analysis at 120 Hz), and ``hnr_recordings``, the mean HNR of the
  two recordings as they are; ``f0_off_max``: the largest |F0 - 120| Hz of any step;
- ``mid_one_peak``: the midpoint passes formantgrid.crossfade_check (one spectral peak in the F2
  region between the ends', not two near each end's);
- ``seconds``: the continuum from files to folder, and ``ends_seconds``, what the method added;
- ``level_dbfs``: -20 (the default), or -26 where the default was refused (a peak over -1 dBFS).

Writes OUT/faithful-ends.csv (one row per continuum), OUT/faithful-ends-steps.csv (every step's
F1/F2) and OUT/summary.csv (per method and voice: medians, counts). The written WAVs go to a
temporary folder, or with ``--keep DIR`` stay in DIR: ``DIR/<voice>-<a>-<b>-<method>/`` per
continuum (its manifest.csv beside the steps; formantgrid's ``step_00.wav`` ...) and the WORLD
references ``DIR/<voice>-<code>-ref.wav`` (experiments/spectral_naturalness.py measures them).
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from calibration import PAIRS, spearman  # noqa: E402
from natural_voices import measure_vowel  # noqa: E402

F0 = 120.0
STEPS = 11
#: The level a continuum is written at where the default refuses it (a peak over -1 dBFS), as the refusal suggests.
LOWER_LEVEL = -26.0


def world_reference(path: Path, out: Path, f0: float = F0) -> Path:
    """``path`` through WORLD analysis and resynthesis with its voiced frames at ``f0`` Hz."""
    from stimgen.signal.audio import load_audio, resample, save_wav
    from stimgen.signal.world import Voice, WorldConfig, analyse, synthesize

    cfg = WorldConfig()
    y, sr = load_audio(path)
    item, voice = analyse(resample(y, sr, cfg.sample_rate), cfg, own_hnr=True)  # the voice as stimgen gives it
    save_wav(out, synthesize(item, Voice(np.where(voice.voiced, f0, 0.0), voice.coded_ap), cfg), cfg.sample_rate)
    return out


def bark(f1: float, f2: float) -> np.ndarray:
    from stimgen.signal.phonetics import hz_to_bark

    return np.array([hz_to_bark(f1), hz_to_bark(f2)], dtype=np.float64)


def measure_steps(files: list[Path]) -> pd.DataFrame:
    """F0, F1, F2 (ruler) and HNR of every step."""
    from stimgen.signal.audio import load_audio
    from stimgen.signal.phonetics import measure_hnr

    rows = []
    for k, f in enumerate(files):
        v = measure_vowel(f)
        y, sr = load_audio(f)
        rows.append({"step": k, "f0": v["f0"], "f1": v["f1"], "f2": v["f2"], "hnr": measure_hnr(y, sr)})
    return pd.DataFrame(rows)


def judge(steps: pd.DataFrame, ref_a: dict, ref_b: dict, mid_file: Path) -> dict:
    """The figures of one continuum (see the module docstring)."""
    from formantgrid import crossfade_check

    barks = np.stack([bark(f1, f2) for f1, f2 in zip(steps.f1, steps.f2)])
    d = np.linalg.norm(np.diff(barks, axis=0), axis=1)
    ends = [np.linalg.norm(barks[0] - bark(ref_a["f1"], ref_a["f2"])),
            np.linalg.norm(barks[-1] - bark(ref_b["f1"], ref_b["f2"]))]
    mono = []
    for k, f in enumerate(("f1", "f2")):
        moves = abs(barks[-1, k] - barks[0, k]) >= 1.0
        mono.append(not moves or abs(spearman(steps[f].to_numpy())) >= 0.95)
    try:
        one_vowel = crossfade_check(mid_file, ref_a["f2"], ref_b["f2"])["one_vowel"]
    except ValueError:  # ends' F2 too close for the check to tell
        one_vowel = None
    return {"end_a_bark": ends[0], "end_b_bark": ends[1], "monotonic": all(mono),
            "cv_bark": float(np.nanstd(d) / np.nanmean(d)), "first_x_mean": d[0] / np.nanmean(d),
            "last_x_mean": d[-1] / np.nanmean(d), "largest_x_mean": np.nanmax(d) / np.nanmean(d),
            "hnr_median": float(steps.hnr.median()), "f0_off_max": float(np.nanmax(np.abs(steps.f0 - F0))),
            "mid_one_peak": one_vowel}


def model_continuum(model, a: Path, b: Path, method: str, out: Path, level: float,
                    model_share: float | None = None) -> tuple[list[Path], float, float]:
    from stimgen.export import export
    from stimgen.morph.continuum import continuum
    from stimgen.representations import RenderSettings

    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        stimuli = continuum(model, a, b, steps=STEPS, f0=F0, endpoints=method,
                            model_share=model_share if method == "warp" else None)
        export(stimuli, out, render=RenderSettings(level_dbfs=level), force=True)
    seconds = time.perf_counter() - start
    files = [out / f for f in pd.read_csv(out / "manifest.csv")["stim_file"]]
    return files, seconds, float(stimuli.settings.get("ends_seconds", 0.0))


def main() -> None:
    from stimgen import load_model
    from stimgen.errors import StimgenError
    from stimgen.representations import RenderSettings

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("voices", type=Path)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--methods", default="reconstruct,refine,residual,warp,tune")
    p.add_argument("--voice", default=None, help="Comma-separated voice folders (default: all in VOICES).")
    p.add_argument("--pairs", default=None, help="Comma-separated pairs like iy-uw (default: calibration's six).")
    p.add_argument("--model", default="vowels")
    p.add_argument("--formantgrid", action="store_true")
    p.add_argument("--keep", type=Path, default=None, help="Keep the written WAVs in this folder.")
    p.add_argument("--model-share", type=float, default=None,
                   help="warp's model share (stimgen continuum --model-share; default: stimgen's).")
    args = p.parse_args()
    voices = args.voice.split(",") if args.voice else sorted(d.name for d in args.voices.iterdir() if d.is_dir())
    pairs = [tuple(s.split("-")) for s in args.pairs.split(",")] if args.pairs else PAIRS
    methods = args.methods.split(",") + (["formantgrid"] if args.formantgrid else [])
    model = load_model(args.model)
    args.out.mkdir(parents=True, exist_ok=True)
    rows, tracks = [], []
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
    with contextlib.nullcontext(str(args.keep)) if args.keep else tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for voice in voices:
            folder = args.voices / voice
            refs = {}
            for code in {c for pair in pairs for c in pair}:
                ref = world_reference(folder / f"{code}.wav", tmp / f"{voice}-{code}-ref.wav")
                refs[code] = {**measure_vowel(ref), "hnr": float(measure_steps([ref]).hnr.iloc[0]),
                              "own_hnr": float(measure_steps([folder / f"{code}.wav"]).hnr.iloc[0])}
            for a, b in pairs:
                for method in methods:
                    out = tmp / f"{voice}-{a}-{b}-{method}"
                    if method == "formantgrid":
                        from formantgrid import formantgrid_continuum

                        start = time.perf_counter()
                        files = formantgrid_continuum(folder / f"{a}.wav", folder / f"{b}.wav", STEPS, F0, out)
                        seconds, ends_seconds = time.perf_counter() - start, 0.0
                    else:
                        level = RenderSettings().level_dbfs
                        try:
                            files, seconds, ends_seconds = model_continuum(model, folder / f"{a}.wav",
                                                                           folder / f"{b}.wav", method, out, level,
                                                                           args.model_share)
                        except StimgenError as exc:  # a peak over the limit at the default level: as its message says
                            print(f"voice={voice} pair={a}-{b} method={method}: {exc}", flush=True)
                            level = LOWER_LEVEL
                            files, seconds, ends_seconds = model_continuum(model, folder / f"{a}.wav",
                                                                           folder / f"{b}.wav", method, out, level,
                                                                           args.model_share)
                    steps = measure_steps(files)
                    row = {"voice": voice, "pair": f"{a}-{b}", "method": method,
                           "level_dbfs": level if method != "formantgrid" else np.nan,
                           "hnr_ends_ref": (refs[a]["hnr"] + refs[b]["hnr"]) / 2,
                           "hnr_recordings": (refs[a]["own_hnr"] + refs[b]["own_hnr"]) / 2, "seconds": seconds,
                           "ends_seconds": ends_seconds, **judge(steps, refs[a], refs[b], files[len(files) // 2])}
                    rows.append(row)
                    tracks.append(steps.assign(voice=voice, pair=f"{a}-{b}", method=method))
                    print(" ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in row.items()),
                          flush=True)
            pd.DataFrame(rows).to_csv(args.out / "faithful-ends.csv", index=False, float_format="%.4g")
            pd.concat(tracks).to_csv(args.out / "faithful-ends-steps.csv", index=False, float_format="%.5g")
    table = pd.DataFrame(rows)
    summary = table.groupby(["method", "voice"]).agg(
        end_median_bark=("end_a_bark", lambda s: float(np.median(np.r_[s, table.loc[s.index, "end_b_bark"]]))),
        end_max_bark=("end_a_bark", lambda s: float(np.max(np.r_[s, table.loc[s.index, "end_b_bark"]]))),
        monotonic=("monotonic", "sum"), pairs=("monotonic", "size"), cv_bark=("cv_bark", "median"),
        first_last_x_mean=("first_x_mean", lambda s: float(np.max(np.r_[s, table.loc[s.index, "last_x_mean"]]))),
        hnr=("hnr_median", "median"), hnr_ends_ref=("hnr_ends_ref", "median"),
        hnr_recordings=("hnr_recordings", "median"), f0_off_max=("f0_off_max", "max"),
        mid_one_peak=("mid_one_peak", "sum"),
        seconds=("seconds", "median"), ends_seconds=("ends_seconds", "median"),
        at_lower_level=("level_dbfs", lambda s: int((s == LOWER_LEVEL).sum()))).reset_index()
    summary.to_csv(args.out / "summary.csv", index=False, float_format="%.3g")
    print(summary.to_string())


if __name__ == "__main__":
    main()
