"""A categorical-perception study end to end, with a simulated listener (docs/categorical-perception.md).

    python experiments/cp_walkthrough.py /tmp/cp

runs, in the folder given (it must not exist yet; every command runs in it, so the paths are the
page's), the walkthrough the page shows:

1. two endpoint vowels (a man's /i/ and /ɑ/ at Peterson & Barney's mean formants, F0 120 Hz: the
   built-in vowel data, as `stimgen demo` makes its inputs) and `stimgen continuum` between them
   (the shipped `vowels` model, 11 steps, F0 held at 120 Hz, 16 kHz);
2. `stimgen pilot` (identification, 20 reps) and `stimgen fit` of its data;
3. `stimgen pilot --task abx` (pairs 2 steps apart, 300 ms ISI, one WAV per trial, levels roved
   by +-3 dB) and `stimgen fit` of its data with the identification data, so that the
   discrimination the labels predict is drawn beside the measured one;
4. `stimgen pilot --task quest --on-demand` and `stimgen fit` of its run;
5. `stimgen.Continuum.open("i-a")`: a sound at any level, against the written file, and the time
   each of the QUEST run's 80 sounds took. (The QUEST script is given that Continuum; that the
   script opens the continuum itself when started in its own folder, as PsychoPy's Coder starts
   it, is checked and recorded in summary.json.)

The listener (one, "S01") labels every sound it hears "ah" with probability

    P("ah" | x) = LAPSE + (1 - 2 LAPSE) / (1 + exp(-(x - PSE) / SPREAD))

at morph level x (PSE 0.42 by default; SPREAD 0.06 and LAPSE 0.02 are those of
experiments/adaptive_convergence.py, whose ``listener`` draws each label). Identification and
QUEST report the label; in ABX it labels all three sounds and answers from the labels alone
(covert labelling, Liberman et al. 1957), guessing where A and B got the same label. It hears
neither the roving nor anything but the morph level, and its reaction times are the test
helpers' constants. The experiments are run by the pilots' own PsychoPy scripts, without a window,
through the helpers of tests/test_pilot_discrimination.py and tests/test_pilot_adaptive.py, which
write the data files as PsychoPy's ExperimentHandler does (data/S01.csv).

Written to the folder: every stimgen output, `transcript.md` (each command with what it printed,
and the excerpts the page quotes) and `summary.json` (every number the page quotes). The figures
the page shows are copied to --figures (default docs/img/categorical-perception/), each a PNG
re-encoded with a palette if it is over 150 kB. About 45 s on 2 CPU cores shared with other work.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))                 # adaptive_convergence: the simulated listener
sys.path.insert(0, str(REPO / "tests"))       # the tests' helpers that run a pilot's PsychoPy script

PSE = 0.42
PARTICIPANT = "S01"
LABELS = ("ee", "ah")
MAX_PNG = 150_000


class Walk:
    """Runs the commands in ``root`` and keeps a transcript of them and of the excerpts shown."""

    def __init__(self, root: Path) -> None:
        self.root, self.lines = root, []

    def stimgen(self, *args) -> str:
        """``stimgen ARGS`` in the folder (as ``python -m stimgen``); stops the walk if it fails."""
        args = [str(a) for a in args]
        done = subprocess.run([sys.executable, "-m", "stimgen", *args], cwd=self.root, capture_output=True, text=True)
        said = (done.stderr + done.stdout).strip()
        self.lines += ["```text", "$ " + shlex.join(["stimgen", *args]), *said.splitlines(), "```", ""]
        print("$", shlex.join(["stimgen", *args]), "\n" + said, flush=True)
        if done.returncode:
            sys.exit(f"stimgen {args[0]} failed (exit {done.returncode})")
        return done.stdout

    def show(self, title: str, text: str) -> None:
        self.lines += [f"{title}:", "", "```text", *text.rstrip().splitlines(), "```", ""]


def endpoints(root: Path) -> None:
    """A man's /i/ and /ɑ/ at the table's mean formants, F0 120 Hz, 0.5 s, 16 kHz (as stimgen demo's)."""
    from stimgen.data.vowels import mean_vowel
    from stimgen.options import SEED
    from stimgen.signal.audio import save_wav

    for name, code in (("i", "iy"), ("a", "aa")):
        save_wav(root / f"{name}.wav", mean_vowel(code, "man", f0=120.0, duration=0.5, rng=SEED), 16000)


def identification(pilot: Path, label) -> Path:
    """The identification pilot's PsychoPy script, no window, each trial answered with the label."""
    from test_pilot_adaptive import load_script

    script = load_script(pilot)
    trials = script.trial_handler()
    exp = script.experiment(PARTICIPANT, trials)
    exp.addLoop(trials)
    for trial in trials:
        b = label(trial["morph_level"])
        exp.addData("response", LABELS[b])
        exp.addData("response_b", b)
        exp.addData("rt", 0.5)
        exp.nextEntry()
    data = pilot / "data" / f"{PARTICIPANT}.csv"
    exp.saveAsWideText(str(data))
    exp.abort()
    return data


def abx(pilot: Path, label, rng) -> Path:
    """The ABX pilot's PsychoPy script answered by covert labelling: X goes with the interval whose
    label it got; a guess where A and B got the same label."""
    from test_pilot_discrimination import run_psychopy

    def answer(task, trial):
        a, b, x = (label(trial[f"level_{i}"]) for i in (1, 2, 3))
        if a == b:
            return str(rng.integers(1, 3))
        return "1" if x == a else "2"

    return run_psychopy(pilot, answer, participant=PARTICIPANT)


def quest(pilot: Path, label, continuum):
    """The QUEST pilot's PsychoPy script with its --on-demand source made from ``continuum``."""
    from test_pilot_adaptive import load_script, run_psychopy

    return run_psychopy(pilot, label, participant=PARTICIPANT, stimuli=load_script(pilot).OnDemand(continuum))


def small_png(source: Path, target: Path) -> int:
    """Copy a PNG, re-encoded with a 256-colour palette where it is over MAX_PNG bytes; its size."""
    from PIL import Image

    target.parent.mkdir(parents=True, exist_ok=True)
    if source.stat().st_size <= MAX_PNG:
        shutil.copyfile(source, target)
    else:
        image = Image.open(source).convert("RGB")
        while True:
            buffer = io.BytesIO()
            image.quantize(256).save(buffer, "PNG", optimize=True)
            if buffer.tell() <= MAX_PNG or image.width < 600:
                break
            image = image.resize((image.width * 4 // 5, image.height * 4 // 5), Image.LANCZOS)
        target.write_bytes(buffer.getvalue())
    return target.stat().st_size


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="folder to write (must not exist)")
    parser.add_argument("--figures", default=str(REPO / "docs" / "img" / "categorical-perception"),
                        help="where the page's figures are copied ('': nowhere)")
    parser.add_argument("--seed", type=int, default=1, help="the simulated listener's seed")
    args = parser.parse_args(argv)
    figures_dir = Path(args.figures).resolve() if args.figures else None   # before the chdir below
    from adaptive_convergence import LAPSE, SPREAD, listener
    from psychopy import logging

    import stimgen

    logging.console.setLevel(logging.ERROR)
    start = time.perf_counter()
    root = args.out.resolve()
    root.mkdir(parents=True)   # refuses one that exists: the pilots' data/ hold files stimgen did not write
    os.chdir(root)             # Continuum.open finds the endpoints where `stimgen continuum` was given them
    walk = Walk(root)
    label = listener(PSE, np.random.default_rng([args.seed, 0]))   # 1 for "ah"; one listener throughout
    summary = {"listener": {"pse": PSE, "spread": SPREAD, "lapse": LAPSE, "slope_at_pse": (1 - 2 * LAPSE) / 4 / SPREAD,
                            "seed": args.seed}, "stimgen_version": stimgen.__version__}

    # 1. the continuum
    endpoints(root)
    walk.stimgen("continuum", "--a", "i.wav", "--b", "a.wav", "--steps", 11, "--f0", 120, "--sr", 16000,
                 "--out", "i-a")
    manifest = pd.read_csv(root / "i-a" / "manifest.csv")
    columns = [c for c in ("stim_file", "step", "morph_level", "latent_t", "distance_prev", "f0_hz", "f1_hz",
                           "f2_hz", "end_distance_bark") if c in manifest]
    walk.show("i-a/manifest.csv (columns: " + ", ".join(manifest.columns) + ")",
              manifest[columns].to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    distance = manifest["distance_prev"]
    summary["continuum"] = {"f1_hz": manifest["f1_hz"].round(0).tolist(), "f2_hz": manifest["f2_hz"].round(0).tolist(),
                            "distance_prev_cv": float(distance.std() / distance.mean())}

    # 2. identification
    walk.stimgen("pilot", "i-a", "--reps", 20, "--labels", ",".join(LABELS), "--out", "i-a-ident")
    ident = identification(root / "i-a-ident", label)
    walk.stimgen("fit", ident.relative_to(root), "--out", "i-a-ident-fit")
    fit = json.loads((root / "i-a-ident-fit" / "fit.json").read_text())
    walk.show("i-a-ident-fit/fit.json keys", "\n".join(f"{k}: {type(v).__name__}" for k, v in fit.items()))
    walk.show("i-a-ident-fit/fit.json pooled", json.dumps(fit["pooled"], indent=1)[:1500])
    summary["identification"] = {k: fit["pooled"].get(k) for k in ("pse", "pse_ci", "slope", "slope_ci", "beta",
                                                                    "lapse", "gamma")} | {"trials": fit.get("trials")}

    # 3. ABX discrimination, fitted with the identification data
    walk.stimgen("pilot", "i-a", "--task", "abx", "--pair-step", 2, "--isi-ms", 300, "--trial-files",
                 "--rove-db", 3, "--reps", 20, "--labels", ",".join(LABELS), "--out", "i-a-abx")
    trials = pd.read_csv(root / "i-a-abx" / "trials.csv")
    walk.show(f"i-a-abx/trials.csv (first 3 of {len(trials)} rows)", trials.head(3).T.to_string(header=False))
    walk.show("i-a-abx/pilot.json (some fields)", json.dumps(
        {k: v for k, v in json.loads((root / "i-a-abx" / "pilot.json").read_text()).items()
         if k in ("task", "pair_step", "pairs", "reps", "trials", "isi_ms", "isi_samples", "trial_files", "rove_db",
                  "intervals")}, indent=1))
    data = abx(root / "i-a-abx", label, np.random.default_rng([args.seed, 1]))
    walk.stimgen("fit", data.relative_to(root), "--identification", ident.relative_to(root), "--out", "i-a-abx-fit")
    fit = json.loads((root / "i-a-abx-fit" / "fit.json").read_text())
    walk.show("i-a-abx-fit/fit.json keys", "\n".join(f"{k}: {type(v).__name__}" for k, v in fit.items()))
    walk.show("i-a-abx-fit/fit.json identification.agreement",
              json.dumps(fit["identification"]["agreement"], indent=1))
    walk.show("i-a-abx-fit/fit.json identification keys", ", ".join(fit["identification"]))
    pairs = pd.DataFrame(fit["pairs"]).drop(columns=["level_a", "level_b"])
    walk.show("i-a-abx-fit/fit.json pairs (measured; p_b_a, p_b_b and predicted_* from identification)",
              pairs.to_string(index=False, float_format=lambda v: f"{v:.3g}",
                              formatters={c: lambda ci: f"[{ci[0]:.2f}, {ci[1]:.2f}]" for c in ("pc_ci", "dprime_ci")}))
    summary["abx"] = {"trials": fit.get("trials"), "prediction": fit["identification"]["prediction"],
                      "agreement": fit["identification"]["agreement"], "pairs": fit["pairs"],
                      "trial_files": len(list((root / "i-a-abx" / "trials").glob("*.wav"))),
                      "trial_files_mb": round(sum(f.stat().st_size for f in (root / "i-a-abx" / "trials").iterdir())
                                              / 1e6, 1),
                      "rove_db": [float(trials.filter(like="rove_db_").min().min()),
                                  float(trials.filter(like="rove_db_").max().max())]}

    # 4. QUEST, each level made on demand; 5. the continuum on demand from Python
    walk.stimgen("pilot", "i-a", "--task", "quest", "--on-demand", "--labels", ",".join(LABELS), "--out", "i-a-quest")
    opened = time.perf_counter()
    continuum = stimgen.Continuum.open("i-a")
    open_s = time.perf_counter() - opened
    data, _ = quest(root / "i-a-quest", label, continuum)
    continuum.save_log(root / "i-a-quest" / "data" / f"{PARTICIPANT}_stimuli.csv")
    run = pd.read_csv(data)
    walk.show(f"i-a-quest/data/{PARTICIPANT}.csv (first 4 of {len(run)} rows, some columns)",
              run[["trial", "intensity", "morph_level", "stim_file", "response", "response_b", "estimate",
                   "estimate_sd"]].head(4).to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    walk.stimgen("fit", data.relative_to(root), "--out", "i-a-quest-fit")
    fit = json.loads((root / "i-a-quest-fit" / "fit.json").read_text())
    walk.show("i-a-quest-fit/fit.json keys", "\n".join(f"{k}: {type(v).__name__}" for k, v in fit.items()))
    walk.show("i-a-quest-fit/fit.json runs[0] keys", "\n".join(f"{k}: {str(v)[:90]}" for k, v in fit["runs"][0].items()
                                                               if k != "track"))
    summary["quest"] = {"run": {k: v for k, v in fit["runs"][0].items() if k != "track"}}

    # the pilot's own script opens the continuum itself: does it, started in the pilot's folder?
    from test_pilot_adaptive import load_script

    from stimgen.errors import StimgenError

    os.chdir(root / "i-a-quest")
    try:
        load_script(root / "i-a-quest").OnDemand()
        summary["quest"]["script_opens_continuum_from_its_folder"] = "yes"
    except StimgenError as error:
        summary["quest"]["script_opens_continuum_from_its_folder"] = f"no: {error}"
    finally:
        os.chdir(root)

    import soundfile as sf

    ms = np.array([row["ms"] for row in continuum.log])
    y = continuum.sound(0.5)   # step 5's level: the file stimgen continuum wrote there
    step, sr = sf.read(root / "i-a" / manifest["stim_file"][5], dtype="int16")
    lsb = float(np.abs(np.round(y * 32767) - step).max())
    y37 = continuum.sound(0.37)
    summary["on_demand"] = {"open_s": round(open_s, 2), "calls": int(ms.size), "median_ms": float(np.median(ms)),
                            "p95_ms": float(np.percentile(ms, 95)), "step5_max_diff_lsb": lsb, "sr": continuum.sr,
                            "sound_0.37_samples": int(y37.size),
                            "sound_0.37_rms_dbfs": float(20 * np.log10(np.sqrt(np.mean(y37 ** 2)))),
                            "log_columns": list(continuum.log[-1])}
    walk.show(f"i-a-quest/data/{PARTICIPANT}_stimuli.csv (first 3 rows, code cut)",
              pd.read_csv(root / "i-a-quest" / "data" / f"{PARTICIPANT}_stimuli.csv").head(3)
              .assign(code=lambda t: t["code"].str[:30] + " ...").to_string(index=False))

    figures = {"continuum.png": root / "i-a" / "sheet.png", "continuum-formants.png": root / "i-a" / "formants.png",
               "identification-fit.png": root / "i-a-ident-fit" / "fit.png",
               "abx-fit.png": root / "i-a-abx-fit" / "fit.png", "quest-fit.png": root / "i-a-quest-fit" / "fit.png"}
    summary["figures"] = {}
    for name, source in figures.items():
        if source is not None and figures_dir is not None:
            summary["figures"][name] = {"from": str(source.relative_to(root)),
                                        "bytes": small_png(source, figures_dir / name)}
    summary["seconds"] = round(time.perf_counter() - start, 1)
    (root / "summary.json").write_text(json.dumps(summary, indent=2, default=str) + "\n")
    (root / "transcript.md").write_text("\n".join(walk.lines) + "\n")
    print(json.dumps({k: summary[k] for k in ("identification", "quest", "on_demand", "seconds")}, indent=1,
                     default=str)[:4000])
    print("agreement:", json.dumps(summary["abx"]["agreement"]))


if __name__ == "__main__":
    main()
