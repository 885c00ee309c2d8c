"""Adaptive procedures end to end (issue 24, point 5): stimgen pilot --task staircase|quest -> the
PsychoPy script (PsychoPy's own StairHandler and QuestHandler, no window) and the page (adaptive.js
in headless Chromium) -> stimgen fit (threshold with its interval, the psychometric function).

The procedures exist three times: PsychoPy's handlers, stimgen.adaptive (what stimgen fit replays
runs with) and stimgen/assets/pilot/adaptive.js (the page's, run here in node); they are checked
against each other on the same answers. The simulated listener answers "B" with probability
LAPSE + (1 - 2 LAPSE) / (1 + exp(-(level - T) / SPREAD)), so P("B") = 0.5 at T. The convergence
study (80 trials, many runs) is experiments/adaptive_convergence.py; here the runs are short."""

import html
import importlib.util
import json
import re
import shutil
import signal
import subprocess
import sys
import warnings
from importlib import resources

import numpy as np
import pandas as pd
import pytest
from conftest import assert_one_error_line
from test_pilot import CHROMIUM, browser_dom
from test_pilot_discrimination import HARNESS

import stimgen
from stimgen.adaptive import make_procedure, procedure_settings
from stimgen.discrimination_data import describe, fit_files
from stimgen.errors import StimgenError, StimgenWarning
from stimgen.pilot import make_pilot

NODE = shutil.which("node")
ADAPTIVE_JS = resources.files("stimgen") / "assets" / "pilot" / "adaptive.js"
SPREAD, LAPSE = 0.06, 0.02

#: Runs adaptive.js in node on the cases given as JSON on stdin: a replay of given answers (and levels
#: presented) -> the levels asked for, the reversals or the posterior; or simulated runs -> their estimates.
NODE_RUNNER = r"""
const A = require(process.argv[1]);
const input = JSON.parse(require("fs").readFileSync(0, "utf8"));
function mulberry(seed) {
  let state = seed;
  return function () {
    state = (state + 0x6D2B79F5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
process.stdout.write(JSON.stringify(input.map(c => {
  if (c.simulate) {
    const s = c.simulate, random = mulberry(s.seed);
    return s.thresholds.map(T => {
      const p = A.fromSettings(c.settings);
      for (let k = 0; k < s.trials; k++) {
        const x = p.next(), shown = s.steps[A.nearest(s.steps, x)];
        p.update(random() < s.lapse + (1 - 2 * s.lapse) / (1 + Math.exp(-(shown - T) / s.spread)) ? 1 : 0, shown);
      }
      return c.settings.task === "staircase" ? p.threshold(c.settings.staircase.discard) : p.mean();
    });
  }
  const p = A.fromSettings(c.settings), asked = [];
  c.responses.forEach((r, k) => { asked.push(p.next()); p.update(r, c.served ? c.served[k] : null); });
  const out = {asked: asked, next: p.next()};
  if (c.settings.task === "staircase") Object.assign(out, {reversal_levels: p.reversalLevels});
  else Object.assign(out, {mean: p.mean(), sd: p.sd(), interval: p.interval(0.95)});
  return out;
})));
"""


def node(cases: list[dict]) -> list:
    """adaptive.js's answers to ``cases`` (see NODE_RUNNER), in one node process."""
    done = subprocess.run([NODE, "-e", NODE_RUNNER, str(ADAPTIVE_JS)], input=json.dumps(cases), capture_output=True,
                          text=True, timeout=60, check=True)
    return json.loads(done.stdout)


def listener(threshold: float, rng):
    """The simulated listener: P("B") = LAPSE + (1 - 2 LAPSE) logistic((level - threshold) / SPREAD)."""
    return lambda level: int(rng.random() < LAPSE + (1 - 2 * LAPSE) / (1 + np.exp(-(level - threshold) / SPREAD)))


def continuum_folder(folder, medium: str, steps: int):
    """A continuum folder as stimgen's own writer (stimulus_folder.write_manifests) lays it out, of
    ``steps`` synthetic stimuli: tones rising from 300 to 700 Hz (16-bit, 16 kHz, 0.2 s) or grey
    squares from black to white. The procedures do not depend on what the stimuli are, and no model
    (torch) is loaded: experiments/adaptive_convergence.py runs them on a model's continuum."""
    import soundfile as sf
    from PIL import Image

    from stimgen.options import RenderSettings
    from stimgen.outputs import file_sha256
    from stimgen.stimulus_folder import ModelRecord, StimulusRecord, write_manifests

    (folder / "stimuli").mkdir(parents=True)
    rows = []
    for step, level in enumerate(np.round(np.linspace(0, 1, steps), 4)):
        name = f"stimuli/step_{step:02d}.{'wav' if medium == 'audio' else 'png'}"
        if medium == "audio":
            t = np.arange(3200) / 16000
            sf.write(folder / name, 0.1 * np.sin(2 * np.pi * (300 + 400 * level) * t), 16000, subtype="PCM_16")
        else:
            Image.fromarray(np.full((16, 16), round(255 * level), np.uint8)).save(folder / name)
        rows.append({"stim_file": name, "step": step, "morph_level": float(level), "endpoint_a": "a.wav",
                     "endpoint_b": "b.wav", "sha256": file_sha256(folder / name)})
    manifest = pd.DataFrame(rows)
    record = StimulusRecord(stimgen.__version__, "continuum", medium, "test", 0, ModelRecord("synthetic", "0" * 64,
                            "mel" if medium == "audio" else "pixels"), {}, {"a": "a.wav", "b": "b.wav", "steps": steps},
                            RenderSettings(sr=16000), [], list(manifest.columns), {},
                            [{**row, "z": [0.0]} for row in rows])
    write_manifests(folder, manifest, record)
    return folder


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    """A 5-step continuum of sounds (cont: for the page, which presents the nearest step), a 21-step
    one of images (img), and adaptive pilots over them."""
    root = tmp_path_factory.mktemp("adaptive")
    continuum_folder(root / "cont", "audio", 5)
    continuum_folder(root / "img", "image", 21)
    make_pilot(root / "img", root / "staircase", task="staircase", labels=("ring", "bar"))
    make_pilot(root / "img", root / "quest", task="quest", trials=60, start=0.3)
    make_pilot(root / "img", root / "on-demand", task="quest", trials=30, on_demand=True)
    make_pilot(root / "cont", root / "staircase-page", task="staircase", trials=24, labels=("oo", "ah"))
    make_pilot(root / "img", root / "quest-page", task="quest", trials=30, image_ms=200)
    return root


def load_script(pilot):
    task = json.loads((pilot / "pilot.json").read_text())["task"]
    spec = importlib.util.spec_from_file_location(f"psychopy_{task}", pilot / f"psychopy_{task}.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)   # no window: run() is not called
    return script


def run_psychopy(pilot, answer, participant="P01", stimuli=None):
    """The pilot's PsychoPy script run without a window: its handler, its trials, answered by
    ``answer(level presented)``, written as its ExperimentHandler writes; the data file."""
    script = load_script(pilot)
    stairs, exp = script.handler(), script.experiment(participant)
    exp.addLoop(stairs)
    for trial, asked, shown, stim_file, _ in script.trials(stairs, stimuli or script.source()):
        script.record(exp, stairs, trial, asked, shown, stim_file, answer(shown), 0.4)
    data = pilot / "data" / f"{participant}.csv"
    exp.saveAsWideText(str(data))
    exp.abort()
    return data, stairs


def test_every_procedure_moves_the_level_down_after_b_and_up_after_a():
    """A "B" answer (response 1) lowers the level, an "A" raises it, in Python and in adaptive.js;
    the weighted staircase steps up target / (1 - target) times as far as it steps down."""
    cases, expected = [], []
    for task in ("staircase", "quest"):
        for target in (0.5, 0.75):
            settings = procedure_settings(task, target, 0.5, 10)
            for response in (1, 0):
                p = make_procedure(settings)
                first = p.next()
                p.update(response)
                after = p.next()
                assert (after < first) if response else (after > first), (task, target, response)
                if task == "staircase":
                    assert abs(first - after) == pytest.approx(0.1 * (1 if response else target / (1 - target)))
                cases.append({"settings": settings, "responses": [response]})
                expected.append((first, after))
    if NODE:
        for case, (first, after), got in zip(cases, expected, node(cases)):
            assert got["asked"] == [first] and got["next"] == pytest.approx(after, abs=1e-12), case


def test_psychopy_stimgen_and_adaptive_js_present_the_same_levels_after_the_same_answers(root):
    """PsychoPy's own handlers (as the pilot's script builds them), stimgen.adaptive and adaptive.js, on
    the same answers at the same presented levels: the same levels asked for, reversals and posterior."""
    rng = np.random.default_rng(5)
    cases, runs = [], []
    for task, target in (("staircase", 0.5), ("staircase", 0.75), ("quest", 0.5), ("quest", 0.3)):
        make_pilot(root / "img", root / f"same-{task}-{target}", task=task, target=target, trials=60)
        script = load_script(root / f"same-{task}-{target}")
        settings = json.loads((root / f"same-{task}-{target}" / "pilot.json").read_text())
        handler, mine = script.handler(), make_procedure(settings)
        answers, served, asked = rng.integers(0, 2, 60).tolist(), np.round(rng.random(60), 4).tolist(), []
        for response, level in zip(answers, served):
            theirs = next(handler)
            assert mine.next() == pytest.approx(theirs, abs=1e-12)
            asked.append(theirs)
            handler.addResponse(response, level)
            mine.update(response, level)
        if task == "staircase":
            assert handler.reversalIntensities == mine.reversal_levels and mine.reversal_levels
        else:
            assert mine.mean() == pytest.approx(handler.mean(), abs=1e-12)
            assert mine.sd() == pytest.approx(handler.sd(), abs=1e-12)
            assert mine.interval() == pytest.approx((handler.quantile(0.025), handler.quantile(0.975)), abs=1e-12)
        cases.append({"settings": settings, "responses": answers, "served": served})
        runs.append((asked, handler))
    if not NODE:
        pytest.skip("no node: adaptive.js is checked in the browser test only")
    for (asked, handler), got in zip(runs, node(cases)):
        assert np.allclose(got["asked"], asked, rtol=0, atol=1e-12)
        if "mean" in got:
            assert got["mean"] == pytest.approx(handler.mean(), abs=1e-12)
            assert got["interval"] == pytest.approx([handler.quantile(0.025), handler.quantile(0.975)], abs=1e-12)
        else:
            assert got["reversal_levels"] == pytest.approx(handler.reversalIntensities, abs=1e-12)


def test_short_simulated_runs_converge_roughly():
    """20 runs of 40 trials on a 101-step continuum, thresholds 0.3 to 0.7: the median error is
    under 0.04 and 15 of 20 lie within 0.08, in Python and in adaptive.js."""
    steps = np.round(np.linspace(0, 1, 101), 4)
    thresholds = np.linspace(0.3, 0.7, 20)
    cases = []
    for task in ("staircase", "quest"):
        settings = procedure_settings(task, 0.5, 0.5, 40)
        rng = np.random.default_rng(1)
        errors = []
        for t in thresholds:
            p = make_procedure(settings)
            answer = listener(t, rng)
            for _ in range(40):
                level = p.next()
                shown = float(steps[np.argmin(np.abs(steps - level))])
                p.update(answer(shown), shown)
            errors.append((p.threshold(3)[0] if task == "staircase" else p.mean()) - t)
        assert np.median(np.abs(errors)) < 0.04 and np.sum(np.abs(errors) <= 0.08) >= 15, (task, errors)
        cases.append({"settings": settings, "simulate": {"seed": 7, "thresholds": thresholds.tolist(), "trials": 40,
                                                         "steps": steps.tolist(), "spread": SPREAD, "lapse": LAPSE}})
    if NODE:
        for case, estimates in zip(cases, node(cases)):
            errors = np.asarray(estimates) - thresholds
            assert np.median(np.abs(errors)) < 0.04 and np.sum(np.abs(errors) <= 0.08) >= 15, (case, errors)


@pytest.mark.parametrize("task, threshold", [("staircase", 0.4), ("quest", 0.65)])
def test_the_psychopy_script_runs_without_a_window_and_fit_finds_the_threshold(root, tmp_path, task, threshold):
    """The pilot's script (PsychoPy's StairHandler or QuestHandler, the nearest of 21 steps) run by the
    simulated listener; stimgen fit reads its data file: the threshold near the listener's, its
    interval around it, and the psychometric function fitted to the trials."""
    data, stairs = run_psychopy(root / task, listener(threshold, np.random.default_rng(3)))
    table = pd.read_csv(data)
    trials = 80 if task == "staircase" else 60
    assert len(table) == trials and list(table["trial"]) == list(range(1, trials + 1))
    assert set(table["stim_file"]) <= set(pd.read_csv(root / task / "manifest.csv")["stim_file"])
    said = describe(fit_files([data], tmp_path / "fit", n_boot=40))   # the command's line
    assert said.startswith(f"{task.upper()} (P(B) = 0.5): threshold 0."), said
    fit = json.loads((tmp_path / "fit" / "fit.json").read_text())
    run = fit["runs"][0]
    estimate, (low, high) = run["threshold"]["estimate"], run["threshold"]["ci"]
    assert fit["task"] == task and run["trials"] == trials and abs(estimate - threshold) < 0.06, run["threshold"]
    assert low < estimate < high and high - low < 0.25   # coverage: experiments/adaptive_convergence.py
    assert abs(fit["pooled"]["pse"] - threshold) < 0.08 and fit["pooled"]["pse_ci"][0] < fit["pooled"]["pse_ci"][1]
    if task == "quest":   # the data file's own running estimate is the fit's posterior
        assert run["threshold"]["estimate"] == pytest.approx(table["estimate"].iloc[-1], abs=1e-9)
    else:
        assert run["threshold"]["reversals"] == int(table["reversal"].sum()) == len(stairs.reversalIntensities)
    assert (tmp_path / "fit" / "fit.png").stat().st_size > 10_000


def test_on_demand_the_script_asks_stimgen_for_the_level_itself(root, tmp_path, monkeypatch):
    """--on-demand: the script opens stimgen.Continuum on the continuum's folder and presents each
    level itself, to 4 decimals; fit replays such a run (no stim_file)."""
    opened, made = [], []

    class StandIn:   # stimgen.Continuum's interface, without the seconds opening takes
        @classmethod
        def open(cls, folder):
            opened.append(folder)
            return cls()

        def image(self, level):
            made.append(level)
            return np.zeros((32, 32), np.float32)

    monkeypatch.setattr(stimgen, "Continuum", StandIn, raising=False)
    data, stairs = run_psychopy(root / "on-demand", listener(0.55, np.random.default_rng(4)))
    table = pd.read_csv(data)
    assert opened == [str((root / "img").resolve())] and made == list(table["morph_level"])
    assert (table["morph_level"] == table["intensity"].round(4)).all() and table["stim_file"].isna().all()
    assert not set(table["morph_level"]) <= set(pd.read_csv(root / "img" / "manifest.csv")["morph_level"])
    fit = json.loads((fit_files([data], tmp_path / "fit", n_boot=20) / "fit.json").read_text())
    assert fit["runs"][0]["trials"] == 30 and abs(fit["runs"][0]["threshold"]["estimate"] - 0.55) < 0.1


@pytest.mark.skipif(CHROMIUM is None, reason="no Chromium: apt-get install chromium (Debian) to run the browser test")
def test_a_browser_runs_the_pages_to_their_end_and_fit_reads_their_csv(root, tmp_path):
    """Both pages (a staircase over 5 sounds, QUEST over 21 images) in one headless Chromium with the
    page's simulated listener; their CSVs through stimgen fit, which replays them (QUEST's threshold
    near the listener's: the 5 steps are too coarse to ask that of the staircase)."""
    names, pses = ["staircase-page", "quest-page"], [0.45, 0.6]
    pages = [f"{name}/index.html?simulate=1&participant=web&pse={pse}&spread={SPREAD}"
             for name, pse in zip(names, pses)]
    (root / "harness-adaptive.html").write_text(HARNESS.replace("PAGES", json.dumps(pages)))
    dom = browser_dom(root, "harness-adaptive.html", budget_ms=60_000_000, timeout=300)
    found = re.findall(r'<pre class="stimgen-data">(.*?)</pre>', dom, re.DOTALL)
    assert len(found) == len(names), dom[-2000:]
    for name, pse, csv in zip(names, pses, found):
        data = root / name / "data" / "web.csv"
        data.write_text(html.unescape(csv))
        table = pd.read_csv(data)
        settings = json.loads((root / name / "pilot.json").read_text())
        assert len(table) == settings["trials"] and set(table["response_b"]) == {0, 1}
        assert (table["stim_file"] == table["stimulus"].str.extract(r"(stimuli/[^\"]+\.(?:wav|png))")[0]).all()
        fit = json.loads((fit_files([data], tmp_path / name, n_boot=20) / "fit.json").read_text())
        run = fit["runs"][0]
        assert run["trials"] == settings["trials"] and run["threshold"]["estimate"] is not None, run
        if name == "quest-page":
            assert abs(run["threshold"]["estimate"] - pse) < 0.1, run["threshold"]


@pytest.fixture()
def valid(root, tmp_path):
    """A copy of the staircase pilot with a run the procedure made (answers of a listener at 0.5)."""
    pilot = tmp_path / "staircase"
    shutil.copytree(root / "staircase", pilot)
    settings = json.loads((pilot / "pilot.json").read_text())
    steps = pd.read_csv(pilot / "manifest.csv")
    levels = steps["morph_level"].to_numpy()
    p, rows, answer = make_procedure(settings), [], listener(0.5, np.random.default_rng(0))
    for k in range(1, 31):
        asked = p.next()
        i = int(np.argmin(np.abs(levels - asked)))
        b = answer(levels[i])
        p.update(b, levels[i])
        rows.append({"trial": k, "task": "staircase", "intensity": asked, "morph_level": levels[i],
                     "stim_file": steps["stim_file"][i], "response_b": b, "participant": "P"})
    return pilot, pd.DataFrame(rows)


@pytest.mark.parametrize("column, value, message", [
    ("morph_level", 1.3, "row 4: morph_level is '1.3': morph levels lie in [0, 1]"),
    ("intensity", -0.2, "row 4: intensity is '-0.2': morph levels lie in [0, 1]"),
    ("intensity", 0.37, "row 4: intensity 0.37 is not the level the staircase asks for after the rows before it"),
    ("response_b", "maybe", "row 4: response_b is 'maybe', not 0 or 1 ('ring' or 'bar')"),
    ("trial", 7, "row 4: trial is '7' where trial 3 comes: a file holds one run"),
    ("stim_file", "stimuli/step_99.png", "row 4: 'stimuli/step_99.png' is not a stimulus of the continuum"),
    ("task", "quest", "row 4: task is 'quest', row 2 'staircase': one file holds one task's trials"),
])
def test_bad_rows_are_named(valid, tmp_path, column, value, message):
    pilot, table = valid
    table[column] = table[column].astype(object)
    table.loc[2, column] = value
    table.to_csv(pilot / "data" / "P.csv", index=False)
    with pytest.raises(StimgenError, match=re.escape(message)) as error:
        fit_files([pilot / "data" / "P.csv"], tmp_path / "fit", n_boot=10)
    assert str(error.value).startswith(str(pilot / "data" / "P.csv"))
    assert not (tmp_path / "fit").exists()


def run_cli(monkeypatch, capsys, *args) -> subprocess.CompletedProcess:
    """``stimgen ARGS`` through the command line's own entry point (stimgen.cli.main), in this process
    (a new Python would take seconds to import what it needs)."""
    from stimgen import cli

    monkeypatch.setattr(sys, "argv", ["stimgen", *map(str, args)])
    monkeypatch.setattr(warnings, "showwarning", warnings.showwarning)   # main() sets its own
    sigterm = signal.getsignal(signal.SIGTERM)                           # and a SIGTERM handler
    capsys.readouterr()
    try:
        cli.main()
        code = 0
    except SystemExit as exc:
        code = exc.code
    finally:
        signal.signal(signal.SIGTERM, sigterm)
    out = capsys.readouterr()
    return subprocess.CompletedProcess(args, code, out.out, out.err)


def test_bad_data_get_one_line_and_exit_2(root, valid, tmp_path, monkeypatch, capsys):
    pilot, good = valid
    table = good.copy()
    table.loc[5, "morph_level"] = 2.0
    table.to_csv(pilot / "data" / "P.csv", index=False)
    r = run_cli(monkeypatch, capsys, "fit", pilot / "data" / "P.csv", "--out", tmp_path / "fit")
    assert_one_error_line(r, "P.csv: row 7: morph_level is '2': morph levels lie in [0, 1]")
    loose = tmp_path / "P.csv"   # out of its pilot: no settings to replay it with
    good.to_csv(loose, index=False)
    with pytest.raises(StimgenError, match="P.csv: lies in no pilot folder"):
        fit_files([loose], tmp_path / "fit", n_boot=10)
    quest = tmp_path / "quest"   # a staircase run in a QUEST pilot: the wrong procedure
    shutil.copytree(root / "quest", quest)
    good.to_csv(quest / "data" / "S.csv", index=False)
    with pytest.raises(StimgenError, match="row 2: task is 'staircase', but the run's pilot is a quest pilot"):
        fit_files([quest / "data" / "S.csv"], tmp_path / "fit", n_boot=10)
    abx = tmp_path / "abx.csv"   # another task's data beside a run
    pd.DataFrame({"task": ["abx"], "order": ["ABA"], "step_a": [0], "step_b": [2], "answer": ["1"]}).to_csv(abx)
    good.to_csv(pilot / "data" / "P.csv", index=False)
    with pytest.raises(StimgenError, match="abx.csv: is abx data, given with the staircase run"):
        fit_files([pilot / "data" / "P.csv", abx], tmp_path / "fit", n_boot=10)


def test_pilot_options_belong_to_their_tasks(root, tmp_path):
    with pytest.raises(StimgenError, match="--pair-step is not for an adaptive run"):
        make_pilot(root / "img", tmp_path / "p", task="staircase", pair_step=2)
    with pytest.raises(StimgenError, match="--trials, --target are for the adaptive tasks"):
        make_pilot(root / "img", tmp_path / "p", task="abx", trials=40, target=0.6)
    with pytest.raises(StimgenError, match="--target must be a number from 0.1 to 0.9, got 0.95"):
        make_pilot(root / "img", tmp_path / "p", task="quest", target=0.95)
    with pytest.raises(StimgenError, match="--trials must be a whole number from 1 to 1,000, got 0"):
        make_pilot(root / "img", tmp_path / "p", task="staircase", trials=0)
    assert not (tmp_path / "p").exists()


def test_fit_png_names_b_as_the_pilot_does(root, tmp_path, monkeypatch):
    data, _ = run_psychopy(root / "staircase", listener(0.5, np.random.default_rng(0)), participant="labels")
    drawn = {}
    monkeypatch.setattr("stimgen.adaptive_data.plot_adaptive", lambda *args, **kw: drawn.update(kw))
    fit_files([data], tmp_path / "fit", n_boot=10)
    assert drawn["label_b"] == "bar"   # the pilot's --labels ring,bar: the axis reads P("bar")


def test_a_sparse_continuum_is_said_to_be_presented_at_its_nearest_steps(root, tmp_path):
    with pytest.warns(StimgenWarning, match="has 5 steps, up to 0.25 apart: the page and the PsychoPy script present"):
        make_pilot(root / "cont", tmp_path / "p", task="quest")
    with pytest.warns(StimgenWarning, match="has 5 steps, up to 0.25 apart: the browser page presents"):
        make_pilot(root / "cont", tmp_path / "q", task="quest", on_demand=True)
    continuum_folder(tmp_path / "dense", "audio", 51)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        make_pilot(tmp_path / "dense", tmp_path / "r", task="staircase")


def test_the_pilot_folder_holds_both_runners_and_the_settings_fit_replays(root):
    pilot = root / "quest"
    record = json.loads((pilot / "pilot.json").read_text())
    assert record["task"] == "quest" and record["trials"] == 60 and record["start"] == 0.3
    assert record["quest"] == {"start_sd": 0.3, "beta": 3.5, "delta": 0.02, "gamma": 0.02, "grain": 0.01,
                               "range": None} and "staircase" not in record
    js = json.loads(re.search(r"const STIMGEN = (.*);", (pilot / "trials.js").read_text(), re.DOTALL).group(1))
    assert [s["stim_file"] for s in js["steps"]] == list(pd.read_csv(pilot / "manifest.csv")["stim_file"])
    assert (pilot / "adaptive.js").read_text() == ADAPTIVE_JS.read_text()
    head = (pilot / "index.html").read_text().split("</head>")[0]
    assert "http" not in head and all((pilot / s).is_file() for s in re.findall(r'src="([^"]+)"', head))
