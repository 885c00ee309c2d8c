"""Discrimination tasks end to end (issue 24, points 1, 2 and 4): a continuum -> AX, ABX, oddity and
2IFC pilots (trial lists, PsychoPy scripts, jsPsych pages, one-file trials with roving) -> their
data through ``stimgen fit`` (d' per pair, and the discrimination identification predicts).

The simulated listeners are written here from the tasks' definitions (Gaussian noise on the morph
axis and each task's decision rule, or covert labelling), not from the fit's formulas."""

import html
import importlib.util
import json
import re
import shutil
from collections import Counter

import numpy as np
import pandas as pd
import pytest
import soundfile as sf
from conftest import assert_one_error_line, stimgen_cli
from test_pilot import CHROMIUM, browser_dom

from stimgen.discrimination_data import describe, fit_files
from stimgen.errors import StimgenError
from stimgen.options import DISCRIMINATION_TASKS
from stimgen.pilot import make_pilot
from stimgen.tasks import ANSWERS, ORDERS, trial_list

TASKS = ("ax", "abx", "oddity", "2ifc")
#: The simulated listeners' d' for every pair (steps 2 apart on the 11-step continuum: 0.2 in morph level).
DPRIME, STEP = 1.5, 0.2
SIGMA = STEP / DPRIME
#: Each task's orders and their right answers, from the tasks' definitions.
RIGHT = {"ax": {"AB": "different", "BA": "different", "AA": "same", "BB": "same"},
         "abx": {"ABA": "1", "BAB": "1", "ABB": "2", "BAA": "2"},
         "oddity": {"BAA": "1", "ABB": "1", "ABA": "2", "BAB": "2", "AAB": "3", "BBA": "3"},
         "2ifc": {"BA": "1", "AB": "2"}}
#: Presentations of every order of every pair: about 100 trials per pair.
REPS = {"ax": 25, "abx": 25, "oddity": 17, "2ifc": 50}


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    """An 11-step /u/-/ɑ/ continuum of the shipped vowel model at 16 kHz (cont), a 7-step image
    continuum of the shipped digits model (img), and pilots of every task over them."""
    from PIL import Image

    from stimgen import load_model
    from stimgen.data.vowels import mean_vowel
    from stimgen.export import export
    from stimgen.morph.continuum import continuum
    from stimgen.options import RenderSettings
    from stimgen.signal.audio import save_wav

    root = tmp_path_factory.mktemp("discrimination")
    for name, code in (("u", "uw"), ("a", "aa")):
        save_wav(root / f"{name}.wav", mean_vowel(code, "man", f0=120.0, duration=0.3, rng=1), 16000)
    yy, xx = np.mgrid[:32, :32]
    Image.fromarray(((np.abs(np.hypot(yy - 16, xx - 16) - 9) < 2.5) * 255).astype(np.uint8)).save(root / "ring.png")
    Image.fromarray(((np.abs(xx - 16) < 2) * (np.abs(yy - 16) < 12) * 255).astype(np.uint8)).save(root / "bar.png")
    export(continuum(load_model("vowels"), root / "u.wav", root / "a.wav", steps=11, f0=120.0), root / "cont",
           RenderSettings(sr=16000), "test", False)
    export(continuum(load_model("digits"), root / "ring.png", root / "bar.png", steps=7), root / "img",
           RenderSettings(), "test", False)
    for task in TASKS:
        make_pilot(root / "cont", root / task, task=task, reps=REPS[task], labels=("oo", "ah"))
        make_pilot(root / "cont", root / f"{task}-page", task=task, reps=1, seed=1)   # short, for the browser
    make_pilot(root / "img", root / "img-oddity", task="oddity", reps=2, image_ms=300)
    make_pilot(root / "cont", root / "ax-files", task="ax", reps=1, isi_ms=250, trial_files=True)
    make_pilot(root / "cont", root / "abx-roved", task="abx", reps=2, isi_ms=333.3, trial_files=True, rove_db=4)
    make_pilot(root / "cont", root / "ident", reps=20, labels=("oo", "ah"))
    return root


def test_trial_lists_counterbalance_every_order_of_every_pair(root):
    assert tuple(ORDERS) == tuple(ANSWERS) == DISCRIMINATION_TASKS == TASKS   # the registries are the options'
    manifest = pd.read_csv(root / "cont" / "manifest.csv")
    for task in TASKS:
        trials = trial_list(manifest, task, pair_step=3, reps=4, seed=7)
        pairs = list(zip(trials["step_a"], trials["step_b"]))
        assert set(pairs) == {(i, i + 3) for i in range(8)}                     # every pair, 3 steps apart
        counts = Counter(zip(pairs, trials["order"]))
        assert set(counts.values()) == {4} and len(counts) == 8 * len(RIGHT[task])  # every order, reps times
        assert list(trials["correct_answer"]) == [RIGHT[task][o] for o in trials["order"]]
        for i, letter in enumerate(zip(*trials["order"]), start=1):   # each interval holds its letter's step
            steps = np.where(np.array(letter) == "A", trials["step_a"], trials["step_b"])
            assert (trials[f"stim_{i}"] == manifest["stim_file"].to_numpy()[steps]).all()
        assert list(trials["order"][:len(RIGHT[task])]) != list(RIGHT[task])    # shuffled
        again = trial_list(manifest, task, pair_step=3, reps=4, seed=7)
        assert again.equals(trials) and not trial_list(manifest, task, 3, 4, seed=8).equals(trials)
    ax = trial_list(manifest, "ax", reps=5)
    assert (ax["order"].isin(["AA", "BB"])).mean() == 0.5                    # catch trials: half are same pairs
    oddity = trial_list(manifest, "oddity", reps=5)
    assert Counter(oddity["correct_answer"]) == {"1": 90, "2": 90, "3": 90}   # the odd one equally often in each place
    with pytest.raises(StimgenError, match="--pair-step must be a whole number from 1 to 10"):
        trial_list(manifest, "abx", pair_step=11)


def test_the_pilot_folders_hold_both_runners_and_their_record(root):
    for name, task in [*((t, t) for t in TASKS), ("img-oddity", "oddity")]:
        pilot = root / name
        record = json.loads((pilot / "pilot.json").read_text())
        assert record["task"] == task and (pilot / f"psychopy_{task}.py").is_file()
        table = pd.read_csv(pilot / "trials.csv")
        js = json.loads(re.search(r"const STIMGEN = (.*);", (pilot / "trials.js").read_text(), re.DOTALL).group(1))
        assert len(js["trials"]) == len(table) == record["trials"]
        assert [t["order"] for t in js["trials"]] == list(table["order"])
        assert all((pilot / f).is_file() for f in set(table.filter(like="stim_").to_numpy().ravel()))
        head = (pilot / "index.html").read_text().split("</head>")[0]
        assert "http" not in head and all((pilot / s).is_file() for s in re.findall(r'src="([^"]+)"', head))
    assert json.loads((root / "img-oddity" / "pilot.json").read_text())["medium"] == "image"
    assert "Which one was more ah?" in (root / "2ifc" / "trials.js").read_text()


def test_trial_files_hold_the_intervals_and_an_isi_exact_to_the_sample(root):
    for name, isi in (("ax-files", 4000), ("abx-roved", 5333)):   # 250 ms and 333.3 ms at 16 kHz
        pilot = root / name
        record = json.loads((pilot / "pilot.json").read_text())
        assert record["isi_samples"] == isi
        trials = pd.read_csv(pilot / "trials.csv")
        for trial in trials.head(12).to_dict("records"):
            played, sr = sf.read(pilot / trial["trial_file"], dtype="int16")
            assert sr == 16000
            start = 0
            for i in range(1, record["intervals"] + 1):
                own = sf.read(pilot / trial[f"stim_{i}"], dtype="int16")[0].astype(np.int64)
                gain = 10 ** (trial.get(f"rove_db_{i}", 0.0) / 20)
                segment = played[start:start + own.size].astype(np.int64)
                assert np.abs(segment - np.round(own * gain)).max() == 0, (name, i)
                start += own.size
                if i < record["intervals"]:
                    assert not played[start:start + isi].any()   # digital silence, then the next from its first sample
                    start += isi
            assert start == played.size
    roved = pd.read_csv(root / "abx-roved" / "trials.csv").filter(like="rove_db_").to_numpy()
    assert roved.shape[1] == 3 and -4 <= roved.min() < -3 and 3 < roved.max() <= 4   # uniform over +-4 dB


def gaussian_answer(task: str, levels: list[float], rng) -> str:
    """A listener with Gaussian noise of SD SIGMA on every interval's morph level, and each task's rule."""
    x = np.asarray(levels) + SIGMA * rng.standard_normal(len(levels))
    if task == "ax":                                  # differencing: "different" beyond a criterion
        return "different" if abs(x[0] - x[1]) > 1.5 * SIGMA else "same"
    if task == "abx":                                 # X goes with the nearer
        return "1" if abs(x[2] - x[0]) < abs(x[2] - x[1]) else "2"
    if task == "oddity":                              # the odd one: not in the closest pair
        return str(int(np.argmin([abs(x[1] - x[2]), abs(x[0] - x[2]), abs(x[0] - x[1])])) + 1)
    return "2" if x[1] > x[0] else "1"                # 2IFC: the one further towards B


def run_psychopy(pilot, answer, participant="P01"):
    """The pilot's PsychoPy script, its trials built without a window, answered by ``answer(trial)``,
    written as its ExperimentHandler writes a data file; the file."""
    task = json.loads((pilot / "pilot.json").read_text())["task"]
    spec = importlib.util.spec_from_file_location(f"psychopy_{task}", pilot / f"psychopy_{task}.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)   # no window: run() is not called
    trials = script.trial_handler()
    exp = script.experiment(participant, trials)
    exp.addLoop(trials)
    for trial in trials:
        script.record(exp, trial, answer(task, trial), 0.5)
    data = pilot / "data" / f"{participant}.csv"
    exp.saveAsWideText(str(data))
    exp.abort()
    return data


@pytest.mark.parametrize("task", TASKS)
def test_psychopy_scripts_run_without_a_window_and_fit_recovers_the_simulated_dprime(root, tmp_path, task):
    rng = np.random.default_rng(TASKS.index(task))
    n = len(next(iter(RIGHT[task])))
    data = run_psychopy(root / task, lambda t, trial: gaussian_answer(t, [trial[f"level_{i}"] for i in
                                                                          range(1, n + 1)], rng))
    table = pd.read_csv(data)
    assert len(table) == 9 * len(RIGHT[task]) * REPS[task] and {"answer", "correct", "participant"} <= set(table)
    if task == "2ifc":   # through the command line, once
        r = stimgen_cli("fit", data, "--bootstrap", 100, "--out", tmp_path / "fit")
        assert r.returncode == 0 and r.stdout.startswith("2IFC: 9 pairs, 900 trials"), r.stderr
    else:
        fit_files([data], tmp_path / "fit", n_boot=100)
    fit = json.loads((tmp_path / "fit" / "fit.json").read_text())
    assert fit["task"] == task and fit["trials"] == len(table) and len(fit["pairs"]) == 9
    estimates = [p["dprime"] for p in fit["pairs"]]
    covered = sum(p["dprime_ci"][0] <= DPRIME <= p["dprime_ci"][1] for p in fit["pairs"])
    assert abs(np.median(estimates) - DPRIME) < 0.3, estimates
    assert covered >= 7, fit["pairs"]
    assert (tmp_path / "fit" / "fit.png").stat().st_size > 10_000


def test_the_image_pilots_script_writes_data_fit_reads(root, tmp_path):
    rng = np.random.default_rng(9)
    data = run_psychopy(root / "img-oddity", lambda t, trial: gaussian_answer(
        t, [trial["level_1"], trial["level_2"], trial["level_3"]], rng))
    fit = json.loads((fit_files([data], tmp_path / "fit", n_boot=50) / "fit.json").read_text())
    assert fit["task"] == "oddity" and len(fit["pairs"]) == 5 and fit["trials"] == 5 * 6 * 2


#: A page that runs other pages one after another, each in a frame, and keeps the data each ends with:
#: one Chromium for every task's page (its start is most of a short page's time).
HARNESS = """<!DOCTYPE html><html><body><script>
const pages = PAGES;
let i = 0;
function next() {
  if (i === pages.length) return;
  const frame = document.createElement("iframe");
  frame.src = pages[i];
  document.body.appendChild(frame);
  const timer = setInterval(function () {
    const pre = frame.contentDocument && frame.contentDocument.getElementById("stimgen-data");
    if (!pre) return;
    clearInterval(timer);
    const out = document.createElement("pre");
    out.className = "stimgen-data";
    out.textContent = pre.textContent;
    document.body.appendChild(out);
    frame.remove();
    i += 1;
    next();
  }, 50);
}
next();
</script></body></html>
"""


@pytest.mark.skipif(CHROMIUM is None, reason="no Chromium: apt-get install chromium (Debian) to run the browser test")
def test_a_browser_runs_every_tasks_page_to_its_end_and_fit_reads_its_csv(root, tmp_path):
    names = [*(f"{t}-page" for t in TASKS), "img-oddity", "ax-files"]
    pages = [f"{name}/index.html?simulate=1&participant=web&sigma={SIGMA}" for name in names]
    (root / "harness.html").write_text(HARNESS.replace("PAGES", json.dumps(pages)))
    dom = browser_dom(root, "harness.html", budget_ms=60_000_000, timeout=300)
    found = re.findall(r'<pre class="stimgen-data">(.*?)</pre>', dom, re.DOTALL)
    assert len(found) == len(names), dom[-2000:]
    for name, csv in zip(names, found):
        data = root / name / "data" / "web.csv"
        data.write_text(html.unescape(csv))
        table, trials = pd.read_csv(data), pd.read_csv(root / name / "trials.csv")
        assert list(table["trial"]) == list(trials["trial"]) and (table["part"] == "response").all(), name
        task = trials["task"].iloc[0]
        assert set(table["answer"].astype(str)) <= set(RIGHT[task].values())
        fit = json.loads((fit_files([data], tmp_path / name, n_boot=20) / "fit.json").read_text())
        assert fit["trials"] == len(trials) and fit["skipped_rows"] == 0   # fit checked every row's `correct`
    played = pd.read_csv(root / "ax-files" / "data" / "web.csv")
    assert (played["trial_type"] == "audio-button-response").all()       # the trial's one file, answered
    assert (played["stimulus"] == played["trial_file"]).all()


def labelling_answer(levels: list[float], rng, pse=0.5, spread=0.07) -> str:
    """ABX by covert labels: each interval labelled "B" with a logistic probability of its level;
    X goes with the interval of its label, a guess where A and B got the same one."""
    labels = rng.random(3) < 1 / (1 + np.exp(-(np.asarray(levels) - pse) / spread))
    if labels[0] == labels[1]:
        return str(rng.integers(1, 3))
    return "1" if labels[2] == labels[0] else "2"


@pytest.mark.parametrize("listener", ["labelling", "acoustic"])
def test_discrimination_predicted_from_identification_agrees_only_for_a_labelling_listener(root, tmp_path, listener):
    rng = np.random.default_rng(11)
    manifest = pd.read_csv(root / "ident" / "manifest.csv")
    levels = np.repeat(manifest["morph_level"].to_numpy(), 60)
    says_b = rng.random(levels.size) < 1 / (1 + np.exp(-(levels - 0.5) / 0.07))
    ident = root / "ident" / "data" / f"{listener}.csv"
    pd.DataFrame({"stim_file": np.repeat(manifest["stim_file"].to_numpy(), 60), "morph_level": levels,
                  "response_b": says_b.astype(int), "participant": listener}).to_csv(ident, index=False)
    pilot = root / "abx"
    answer = ((lambda t, trial: labelling_answer([trial["level_1"], trial["level_2"], trial["level_3"]], rng))
              if listener == "labelling" else
              (lambda t, trial: gaussian_answer(t, [trial["level_1"], trial["level_2"], trial["level_3"]], rng)))
    data = run_psychopy(pilot, answer, participant=listener)
    given = {"identification": [ident]} if listener == "labelling" else {}   # or beside it, as a second file
    extra = [] if listener == "labelling" else [ident]
    said = describe(fit_files([data, *extra], tmp_path / "fit", n_boot=50, **given))   # the command's line
    fit = json.loads((tmp_path / "fit" / "fit.json").read_text())
    agreement = fit["identification"]["agreement"]
    assert fit["identification"]["prediction"] == "haskins"
    assert fit["participants"][listener]["agreement"]["agrees"] == agreement["agrees"]
    if listener == "labelling":   # a peak at the boundary, where the labels predict it
        assert agreement["agrees"] and agreement["rms_difference"] < 0.06 and agreement["correlation"] > 0.8
        assert agreement["measured_peak"] in ([3, 5], [4, 6], [5, 7]) and "agrees" in said
    else:                         # d' 1.5 at every pair: far above the labels' prediction away from the boundary
        assert not agreement["agrees"] and agreement["rms_difference"] > 0.1 and agreement["mean_difference"] > 0.05
        assert "does not agree" in said


@pytest.fixture()
def valid(root, tmp_path):
    """A valid ABX data file (every trial answered right) in a copy of the ABX pilot."""
    pilot = tmp_path / "abx"
    shutil.copytree(root / "abx-page", pilot)
    table = pd.read_csv(pilot / "trials.csv")
    table["answer"], table["correct"], table["participant"] = table["correct_answer"].astype(str), 1, "P"
    return pilot, table


@pytest.mark.parametrize("column, value, message", [
    ("step_b", 15, "row 3: pair 2-15 is not in the continuum: it has no step 15 (steps 0 to 10)"),
    ("level_2", 1.4, "row 3: level_2 is 1.4: morph levels lie in [0, 1]"),
    ("level_1", 0.35, "row 3: level_1 0.35 is not the level of its step"),
    ("stim_1", "stimuli/step_99.wav", "row 3: 'stimuli/step_99.wav' is not a stimulus of the continuum"),
    ("order", "AAB", "row 3: order 'AAB' is not one of abx's"),
    ("answer", "maybe", "row 3: answer is 'maybe', not one of abx's (1, 2)"),
    ("correct", 0, "row 3: correct is 0, but answer"),
    ("continuum", "sha256:0123456789abcdef", "row 3: is of another continuum"),
])
def test_bad_discrimination_rows_are_named(valid, tmp_path, column, value, message):
    pilot, table = valid
    table.loc[1, column] = value
    if column == "step_b":
        table.loc[1, "step_a"] = 2
    table.to_csv(pilot / "data" / "P.csv", index=False)
    with pytest.raises(StimgenError, match=re.escape(message)) as error:
        fit_files([pilot / "data" / "P.csv"], tmp_path / "fit", n_boot=10)
    assert str(error.value).startswith(str(pilot / "data" / "P.csv"))
    assert not (tmp_path / "fit").exists()


def test_bad_discrimination_data_get_one_line_and_exit_2(root, valid, tmp_path):
    pilot, table = valid
    table.to_csv(pilot / "data" / "P.csv", index=False)
    r = stimgen_cli("fit", pilot / "data" / "P.csv", "--continuum", root / "img", "--out", tmp_path / "fit")
    assert_one_error_line(r, "P.csv: lies in a pilot of another continuum than")                  # the wrong continuum
    loose = tmp_path / "P.csv"                                   # copied out of its pilot: its rows name the continuum
    table.to_csv(loose, index=False)
    with pytest.raises(StimgenError, match="row 2: is of another continuum"):
        fit_files([loose], tmp_path / "fit", manifest=root / "img" / "manifest.csv", n_boot=10)
    (pilot / "data" / "ax.csv").write_text(pd.read_csv(root / "ax" / "trials.csv").assign(answer="same").to_csv())
    with pytest.raises(StimgenError, match="holds ax trials, .* abx trials: fit each task on its own"):
        fit_files([pilot / "data" / "P.csv", pilot / "data" / "ax.csv"], tmp_path / "fit", n_boot=10)
    other = root / "ident" / "data" / "other.csv"
    manifest = pd.read_csv(root / "ident" / "manifest.csv")
    pd.DataFrame({"stim_file": manifest["stim_file"], "response_b": (manifest["morph_level"] > 0.5).astype(int),
                  "participant": "Q"}).to_csv(other, index=False)
    with pytest.raises(StimgenError, match="holds listener Q, whose discrimination is not given"):
        fit_files([pilot / "data" / "P.csv"], tmp_path / "fit", identification=[other], n_boot=10)
    r = stimgen_cli("pilot", root / "cont", "--task", "abx", "--rove-db", 3, "--out", tmp_path / "p")
    assert_one_error_line(r, "--rove-db needs --trial-files")
    with pytest.raises(StimgenError, match="--isi-ms is for the discrimination tasks"):
        make_pilot(root / "cont", tmp_path / "p", isi_ms=300)
