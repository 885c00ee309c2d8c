"""A discrimination experiment over the pairs of a stimgen continuum (written by stimgen pilot).

Run it in PsychoPy (Coder: Run). The trials are trials.csv's rows in its order (shuffled when the
pilot was written, with its seed). Each trial presents its intervals (stim_1, stim_2[, stim_3]):
sounds with SETTINGS["isi_ms"] of silence between them (or, where the pilot wrote trial files,
trial_file, one sound holding the intervals and the silence, exact to the sample), images for
SETTINGS["image_ms"] each, SETTINGS["isi_ms"] apart; then it asks SETTINGS["question"]; the keys
answer in the order of the choices. Data: data/PARTICIPANT_DATE.csv, one row per trial with
trials.csv's columns, the answer (SETTINGS["answers"]), correct (1 or 0) and the reaction time.
"""

import os

from psychopy import data

SETTINGS = {}  # filled by stimgen pilot
HERE = os.path.dirname(os.path.abspath(__file__))
INTERVALS = SETTINGS["intervals"]


def trial_handler():
    """The trials: every row of trials.csv, once, in its order."""
    conditions = data.importConditions(os.path.join(HERE, "trials.csv"))
    return data.TrialHandler(trialList=conditions, nReps=1, method="sequential", seed=SETTINGS["seed"])


def experiment(participant, trials):
    return data.ExperimentHandler(name=SETTINGS["task"], extraInfo={"participant": participant},
                                  dataFileName=os.path.join(HERE, "data", participant + "_" + data.getDateStr()),
                                  savePickle=False, saveWideText=True)


def record(exp, trial, answer, rt=None):
    """Add one trial's answer (one of SETTINGS["answers"]), whether it was right, and the reaction time."""
    answer = str(answer)
    if answer not in SETTINGS["answers"]:
        raise ValueError("answer must be one of %s, got %r" % (SETTINGS["answers"], answer))
    exp.addData("answer", answer)
    exp.addData("correct", int(answer == str(trial["correct_answer"])))
    exp.addData("rt", rt)
    exp.nextEntry()


def present(win, trial, sound, core, visual):
    """Present the trial's intervals: its one file, or each stimulus with the ISI between them."""
    isi = SETTINGS["isi_ms"] / 1000.0
    if SETTINGS["medium"] == "audio":
        if SETTINGS["trial_files"]:
            snd = sound.Sound(os.path.join(HERE, trial["trial_file"]), sampleRate=SETTINGS["sample_rate"])
            snd.play()
            core.wait(snd.getDuration())
            return
        for i in range(1, INTERVALS + 1):
            snd = sound.Sound(os.path.join(HERE, trial["stim_%d" % i]), sampleRate=SETTINGS["sample_rate"])
            snd.play()
            core.wait(snd.getDuration() + (isi if i < INTERVALS else 0.0))
        return
    for i in range(1, INTERVALS + 1):
        visual.ImageStim(win, image=os.path.join(HERE, trial["stim_%d" % i]), size=0.5).draw()
        win.flip()
        core.wait(SETTINGS["image_ms"] / 1000.0)
        win.flip()
        if i < INTERVALS:
            core.wait(isi)


def run():
    from psychopy import core, event, gui, prefs, visual

    info = {"participant": ""}
    if not gui.DlgFromDict(info, title=SETTINGS["task"].upper()).OK:
        core.quit()
    prefs.hardware["audioLib"] = ["ptb", "sounddevice"]
    from psychopy import sound

    trials = trial_handler()
    exp = experiment(info["participant"] or "anonymous", trials)
    exp.addLoop(trials)
    win = visual.Window(fullscr=False, color="grey", units="height")
    text = visual.TextStim(win, height=0.04, wrapWidth=1.2)
    keys = SETTINGS["keys"]
    hint = "    ".join("%s: %s" % (k, c) for k, c in zip(keys, SETTINGS["choices"]))
    for trial in trials:
        win.flip()
        core.wait(0.5)
        present(win, trial, sound, core, visual)
        text.text = SETTINGS["question"] + "\n\n" + hint
        text.draw()
        win.flip()
        clock = core.Clock()
        key, rt = event.waitKeys(keyList=keys + ["escape"], timeStamped=clock)[0]
        if key == "escape":
            break
        record(exp, trial, SETTINGS["answers"][keys.index(key)], rt)
    win.close()
    core.quit()


if __name__ == "__main__":
    run()
