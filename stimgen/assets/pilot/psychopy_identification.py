"""Two-alternative identification over a stimgen continuum (written by stimgen pilot).

Run it in PsychoPy (Coder: Run). One sound back-end rate for the whole session: every stimulus
was written at the same rate. Data: data/PARTICIPANT_DATE.csv, one row per trial with the
manifest's columns, the answer (response, response_b: 1 for B) and the reaction time.
"""

import os

from psychopy import data

SETTINGS = {}  # filled by stimgen pilot
HERE = os.path.dirname(os.path.abspath(__file__))


def trial_handler(reps=SETTINGS["reps"], seed=SETTINGS["seed"]):
    """The trials: every row of manifest.csv, reps times, in a random order fixed by the seed."""
    conditions = data.importConditions(os.path.join(HERE, "manifest.csv"))
    return data.TrialHandler(trialList=conditions, nReps=reps, method="random", seed=seed)


def experiment(participant, trials):
    return data.ExperimentHandler(name="identification", extraInfo={"participant": participant},
                                  dataFileName=os.path.join(HERE, "data", participant + "_" + data.getDateStr()),
                                  savePickle=False, saveWideText=True)


def run():
    from psychopy import core, event, gui, prefs, visual

    info = {"participant": ""}
    if not gui.DlgFromDict(info, title="Identification").OK:
        core.quit()
    prefs.hardware["audioLib"] = ["ptb", "sounddevice"]
    from psychopy import sound

    trials = trial_handler()
    exp = experiment(info["participant"] or "anonymous", trials)
    exp.addLoop(trials)
    win = visual.Window(fullscr=False, color="grey", units="height")
    text = visual.TextStim(win, height=0.05)
    a, b = SETTINGS["labels"]
    for trial in trials:
        text.text = "Which did you hear?  left arrow: %s    right arrow: %s" % (a, b)
        text.draw()
        win.flip()
        snd = sound.Sound(os.path.join(HERE, trial["stim_file"]), sampleRate=SETTINGS["sample_rate"])
        snd.play()
        clock = core.Clock()
        key, rt = event.waitKeys(keyList=["left", "right", "escape"], timeStamped=clock)[0]
        if key == "escape":
            break
        exp.addData("response", a if key == "left" else b)
        exp.addData("response_b", int(key == "right"))
        exp.addData("rt", rt)
        exp.nextEntry()
        core.wait(0.5)
    win.close()
    core.quit()


if __name__ == "__main__":
    run()
