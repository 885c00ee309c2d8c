"""A two-alternative identification experiment (2AFC) on a stimgen continuum, in PsychoPy.

Put this script in the folder that holds ``manifest.csv`` (or pass ``--stimuli FOLDER``) and run it
with PsychoPy's Python:

    python psychopy_2afc.py --stimuli i-a --reps 10 --left i --right a --participant p01

Each trial plays one stimulus of the continuum (every step ``--reps`` times, random order) and
waits for the left or right arrow key: "which category was that?". Responses go to
``data/<participant>_2afc.csv`` with every manifest column (step, morph_level, F1, ...) beside
the response, ready for a psychometric fit. Escape quits and still saves what was collected.

The trial list is built from the manifest by PsychoPy's own ``importConditions`` and a
``TrialHandler`` (see docs/psychopy.md); file paths in the manifest are relative to the manifest,
so they are joined to the stimulus folder here.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path


def load_trials(stimuli: str | os.PathLike, reps: int, seed: int | None = None):
    """A ``TrialHandler`` over the manifest's rows, each ``reps`` times in random order, with
    ``stim_file`` made absolute (the manifest's paths are relative to its folder)."""
    from psychopy.data import TrialHandler, importConditions

    folder = Path(stimuli).resolve()
    conditions = importConditions(str(folder / "manifest.csv"))
    for row in conditions:
        row["stim_file"] = str(folder / row["stim_file"])
        if not Path(row["stim_file"]).is_file():
            raise FileNotFoundError(f"{row['stim_file']}: named in manifest.csv but missing")
    return TrialHandler(trialList=conditions, nReps=reps, method="random", seed=seed)


def run(args: argparse.Namespace) -> None:  # pragma: no cover - needs a screen and a sound card
    from psychopy import core, sound, visual
    from psychopy.hardware import keyboard

    trials = load_trials(args.stimuli, args.reps, args.seed)
    win = visual.Window(size=(800, 600), color="grey", units="height")
    prompt = visual.TextStim(win, text=f"<- {args.left}        {args.right} ->", height=0.05)
    kb = keyboard.Keyboard()
    out = Path("data")
    out.mkdir(exist_ok=True)
    try:
        for trial in trials:
            stim = sound.Sound(trial["stim_file"])
            prompt.draw()
            win.flip()
            core.wait(0.3)
            stim.play()
            kb.clearEvents()
            key = kb.waitKeys(keyList=["left", "right", "escape"])[0]
            if key.name == "escape":
                break
            trials.addData("response", args.left if key.name == "left" else args.right)
            trials.addData("chose_right", int(key.name == "right"))
            trials.addData("rt", key.rt)
            win.flip()
            core.wait(0.5)
    finally:
        trials.saveAsWideText(str(out / f"{args.participant}_2afc.csv"), delim=",")
        win.close()
        core.quit()


def main() -> None:  # pragma: no cover
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stimuli", default=".", help="Folder with manifest.csv (stimgen continuum --out).")
    parser.add_argument("--reps", type=int, default=10, help="Presentations of each step.")
    parser.add_argument("--left", default="A", help="Label of the left-arrow category.")
    parser.add_argument("--right", default="B", help="Label of the right-arrow category.")
    parser.add_argument("--participant", default="test")
    parser.add_argument("--seed", type=int, default=None, help="Seed of the trial order.")
    run(parser.parse_args())


if __name__ == "__main__":
    main()
