"""An adaptive identification run over a stimgen continuum (written by stimgen pilot).

Run it in PsychoPy (Coder: Run). Each trial presents the continuum's stimulus at the morph level
the procedure asks for and the listener answers which of the two labels it was (left and right
arrow keys: SETTINGS["labels"]). The procedure is PsychoPy's own: data.StairHandler as a
weighted up-down staircase (its steps up SETTINGS["staircase"]["up_ratio"] times its steps down,
linear steps of SETTINGS["staircase"]["step_sizes"]) or data.QuestHandler (SETTINGS["quest"]);
an answer of the second label is its response 1, so the level goes down after it, and it tracks
the level where P(second label) = SETTINGS["target"].

The stimulus at a level is the nearest step of the continuum copied into stimuli/ (rendered
ahead: PsychoPy needs no stimgen), or, where the pilot was written with --on-demand (stimgen and
torch importable in PsychoPy's Python), stimgen.Continuum.open(SETTINGS["continuum"]).sound(level)
(or .image(level)) at the level itself, to 4 decimals. The procedure is told the level that was
presented. Data: data/PARTICIPANT_DATE.csv, one row per trial: trial, task, intensity (the level
asked for), morph_level and stim_file (what was presented), response (the label), response_b
(1 for the second), rt, continuum, and reversal (staircase) or estimate and estimate_sd (QUEST's
posterior mean and SD after the trial); `stimgen fit data/FILE.csv` reads it.
"""

import csv
import os

from psychopy import data

SETTINGS = {}  # filled by stimgen pilot
HERE = os.path.dirname(os.path.abspath(__file__))


class WeightedStairHandler(data.StairHandler):
    """PsychoPy's StairHandler with every step up SETTINGS["staircase"]["up_ratio"] times the step
    down (Kaernbach 1991's weighted up-down: it settles where P(response 1) = r / (1 + r))."""

    def _intensityInc(self):
        step = self.stepSizeCurrent
        self.stepSizeCurrent = step * SETTINGS["staircase"]["up_ratio"]
        try:
            data.StairHandler._intensityInc(self)
        finally:
            self.stepSizeCurrent = step


def handler():
    """The procedure: a new WeightedStairHandler or QuestHandler, levels clamped to [0, 1]."""
    if SETTINGS["task"] == "staircase":
        s = SETTINGS["staircase"]
        return WeightedStairHandler(startVal=SETTINGS["start"], stepSizes=s["step_sizes"], nTrials=SETTINGS["trials"],
                                    nReversals=len(s["step_sizes"]), nUp=s["n_up"], nDown=s["n_down"],
                                    stepType="lin", minVal=0.0, maxVal=1.0, name="staircase")
    q = SETTINGS["quest"]
    return data.QuestHandler(SETTINGS["start"], q["start_sd"], pThreshold=SETTINGS["target"],
                             nTrials=SETTINGS["trials"], method="quantile", beta=q["beta"], delta=q["delta"],
                             gamma=q["gamma"], grain=q["grain"], range=q["range"], minVal=0.0, maxVal=1.0,
                             name="quest")


class Steps:
    """The continuum rendered ahead: the step of manifest.csv nearest to a level (the first of two
    as near), as a file name."""

    def __init__(self):
        with open(os.path.join(HERE, "manifest.csv"), newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
        self.files = [row["stim_file"] for row in rows]
        self.levels = [float(row["morph_level"]) for row in rows]

    def at(self, level):
        """(the level presented, its stim_file, the stimulus to give PsychoPy: the file's path)."""
        best = 0
        for k in range(1, len(self.levels)):
            if abs(self.levels[k] - level) < abs(self.levels[best] - level):
                best = k
        return self.levels[best], self.files[best], os.path.join(HERE, self.files[best])


class OnDemand:
    """The continuum made at any level by stimgen (stimgen.Continuum: the same model, ends, voice
    and render as its files), the level rounded to 4 decimals as a manifest keeps it."""

    def __init__(self, continuum=None):
        if continuum is None:
            import stimgen

            continuum = stimgen.Continuum.open(SETTINGS["continuum"])
        self.continuum = continuum

    def at(self, level):
        level = round(min(1.0, max(0.0, float(level))), 4)
        if SETTINGS["medium"] == "audio":
            return level, "", self.continuum.sound(level)
        return level, "", self.continuum.image(level)


def source():
    """What presents a level: Steps, or OnDemand where the pilot was written with --on-demand."""
    return OnDemand() if SETTINGS["on_demand"] else Steps()


def trials(stairs, stimuli):
    """The run's trials: (trial number from 1, the level asked for, the level presented, its
    stim_file, the stimulus), SETTINGS["trials"] of them; answer each with record() before the next."""
    for trial, asked in enumerate(stairs, start=1):
        shown, stim_file, stimulus = stimuli.at(asked)
        yield trial, asked, shown, stim_file, stimulus
        if trial >= SETTINGS["trials"]:
            return


def experiment(participant):
    return data.ExperimentHandler(name=SETTINGS["task"], extraInfo={"participant": participant},
                                  dataFileName=os.path.join(HERE, "data", participant + "_" + data.getDateStr()),
                                  savePickle=False, saveWideText=True)


def record(exp, stairs, trial, asked, shown, stim_file, response_b, rt=None):
    """Tell the procedure the answer (1: the second label) at the level presented, and write the trial's row."""
    response_b = int(response_b)
    if response_b not in (0, 1):
        raise ValueError("response_b must be 0 or 1, got %r" % response_b)
    stairs.addResponse(response_b, shown)
    exp.addData("trial", trial)
    exp.addData("task", SETTINGS["task"])
    exp.addData("intensity", asked)
    exp.addData("morph_level", shown)
    exp.addData("stim_file", stim_file)
    exp.addData("response", SETTINGS["labels"][response_b])
    exp.addData("response_b", response_b)
    exp.addData("rt", rt)
    exp.addData("continuum", SETTINGS["continuum_tag"])
    if SETTINGS["task"] == "staircase":
        exp.addData("reversal", int(bool(stairs.reversalPoints) and stairs.reversalPoints[-1] == trial - 1))
    else:
        exp.addData("estimate", stairs.mean())
        exp.addData("estimate_sd", stairs.sd())
    exp.nextEntry()


def present(win, stimulus, sound, core, visual):
    if SETTINGS["medium"] == "audio":
        snd = sound.Sound(stimulus, sampleRate=SETTINGS["sample_rate"])
        snd.play()
        core.wait(snd.getDuration())
        return
    visual.ImageStim(win, image=stimulus, size=0.5).draw()
    win.flip()
    core.wait(SETTINGS["image_ms"] / 1000.0)
    win.flip()


def run():
    from psychopy import core, event, gui, prefs, visual

    info = {"participant": ""}
    if not gui.DlgFromDict(info, title=SETTINGS["task"]).OK:
        core.quit()
    prefs.hardware["audioLib"] = ["ptb", "sounddevice"]
    from psychopy import sound

    stimuli = source()
    stairs = handler()
    exp = experiment(info["participant"] or "anonymous")
    exp.addLoop(stairs)
    win = visual.Window(fullscr=False, color="grey", units="height")
    text = visual.TextStim(win, height=0.04, wrapWidth=1.2)
    a, b = SETTINGS["labels"]
    for trial, asked, shown, stim_file, stimulus in trials(stairs, stimuli):
        win.flip()
        core.wait(0.5)
        present(win, stimulus, sound, core, visual)
        text.text = "Which was it?\n\nleft: %s    right: %s" % (a, b)
        text.draw()
        win.flip()
        clock = core.Clock()
        key, rt = event.waitKeys(keyList=["left", "right", "escape"], timeStamped=clock)[0]
        if key == "escape":
            break
        record(exp, stairs, trial, asked, shown, stim_file, int(key == "right"), rt)
    win.close()
    core.quit()


if __name__ == "__main__":
    run()
