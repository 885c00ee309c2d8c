"""The pilot loop: continuum -> identification experiment (PsychoPy, jsPsych in a real browser) ->
psychometric fit -> a continuum re-spaced by the fit."""

import html
import importlib.util
import json
import re
import shutil
import subprocess
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pandas as pd
import pytest
from conftest import assert_one_error_line, stimgen_cli

from stimgen.data.vowels import mean_vowel
from stimgen.errors import StimgenError
from stimgen.psychometric import PsychometricFit, bootstrap, fit_data, fit_psychometric
from stimgen.signal.audio import save_wav

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def simulate(truth: PsychometricFit, levels: np.ndarray, seed: int) -> np.ndarray:
    return (np.random.default_rng(seed).random(levels.size) < truth.probability(levels)).astype(int)


def test_simulated_listeners_pse_is_recovered_and_its_interval_covers_the_truth():
    truth = PsychometricFit("logistic", alpha=0.3, beta=0.06, gamma=0.0, lapse=0.02)
    levels = np.repeat(np.linspace(0, 1, 11), 20)
    covered, errors = 0, []
    for seed in range(100):
        responses = simulate(truth, levels, seed)
        fit = bootstrap(fit_psychometric(levels, responses), levels, responses, n_boot=200, seed=seed)
        errors.append(abs(fit.pse - truth.pse))
        covered += fit.pse_ci[0] <= truth.pse <= fit.pse_ci[1]
    assert max(errors) < 0.05
    assert covered >= 90


def test_the_fit_finds_guess_lapse_and_either_sigmoid():
    levels = np.repeat(np.linspace(0, 1, 11), 400)
    for sigmoid in ("logistic", "gauss"):
        truth = PsychometricFit(sigmoid, alpha=0.6, beta=0.1, gamma=0.05, lapse=0.03)
        fit = fit_psychometric(levels, simulate(truth, levels, 1), sigmoid)
        assert fit.pse == pytest.approx(truth.pse, abs=0.02) and fit.slope == pytest.approx(truth.slope, rel=0.15)
        assert fit.gamma == pytest.approx(0.05, abs=0.02) and fit.lapse == pytest.approx(0.03, abs=0.02)
        assert fit.level(fit.probability(0.42)) == pytest.approx(0.42)


@pytest.mark.parametrize("levels, responses, message", [
    ([0.1, 0.5, 0.9], [0, 2, 1], "0 or 1"),
    ([0.1, 0.5, 1.2], [0, 1, 1], r"\[0, 1\]"),
    ([0.1, 0.5, 0.9], [1, 1, 1], "every response is the same"),
    ([0.5, 0.5, 0.9], [0, 1, 1], "at least 3 morph levels"),
])
def test_bad_data_is_refused(levels, responses, message):
    with pytest.raises(StimgenError, match=message):
        fit_psychometric(levels, responses)


@pytest.fixture(scope="module")
def loop(tmp_path_factory):
    """An 11-step /u/-/ɑ/ continuum of the shipped vowel model at 16 kHz, and its pilot folder."""
    root = tmp_path_factory.mktemp("loop")
    for name, code in (("u", "uw"), ("a", "aa")):
        save_wav(root / f"{name}.wav", mean_vowel(code, "man", f0=120.0, duration=0.45, rng=1), 16000)
    r = stimgen_cli("continuum", "--a", "u.wav", "--b", "a.wav", "--steps", 11, "--f0", 120, "--sr", 16000,
                    "--out", "cont", cwd=root)
    assert r.returncode == 0, r.stderr
    r = stimgen_cli("pilot", "cont", "--reps", 20, "--labels", "oo,ah", "--out", "pilot", cwd=root)
    assert r.returncode == 0, r.stderr
    return root


def test_the_pilot_folder_holds_both_experiments_and_its_record(loop):
    pilot = loop / "pilot"
    record = json.loads((pilot / "pilot.json").read_text())
    assert record["labels"] == ["oo", "ah"] and record["reps"] == 20 and record["steps"] == 11
    trials = json.loads(re.search(r"const STIMGEN = (.*);", (pilot / "trials.js").read_text(),
                                  re.DOTALL).group(1))["trials"]
    assert len(trials) == 220 and sorted({t["step"] for t in trials}) == list(range(11))
    assert all((pilot / t["stim_file"]).is_file() for t in trials)
    assert [t["step"] for t in trials[:11]] != list(range(11))   # shuffled
    page = (pilot / "index.html").read_text()
    assert "http" not in page.split("</head>")[0]   # every script from the folder, none from a CDN
    for script in re.findall(r'src="([^"]+)"', page):
        assert (pilot / script).is_file()


def test_the_psychopy_script_builds_its_trials_and_writes_a_data_file(loop, tmp_path, monkeypatch):
    pilot = tmp_path / "pilot"
    shutil.copytree(loop / "pilot", pilot)
    spec = importlib.util.spec_from_file_location("identification", pilot / "psychopy_identification.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)   # no window: run() is not called
    trials = script.trial_handler()
    exp = script.experiment("P01", trials)
    exp.addLoop(trials)
    for trial in trials:
        exp.addData("response_b", int(trial["morph_level"] > 0.5))
        exp.nextEntry()
    exp.saveAsWideText(str(pilot / "data" / "P01.csv"))
    exp.abort()
    data = pd.read_csv(pilot / "data" / "P01.csv")
    assert len(data) == 220 and {"stim_file", "morph_level", "response_b", "participant"} <= set(data.columns)
    r = stimgen_cli("fit", pilot / "data" / "P01.csv", "--bootstrap", 50, "--out", tmp_path / "fit")
    assert r.returncode == 0, r.stderr
    fit = json.loads((tmp_path / "fit" / "fit.json").read_text())
    assert fit["trials"] == 220 and 0.4 < fit["pooled"]["pse"] < 0.6   # a step function at 0.5
    drawn = {}
    monkeypatch.setattr("stimgen.psychometric.plot_fit", lambda *args, **kw: drawn.update(kw))
    fit_data([pilot / "data" / "P01.csv"], tmp_path / "fit-again", n_boot=20)
    assert drawn["label_b"] == "ah"   # fit.png's axis says P("ah"), the pilot's name for B


def browser_dom(folder, page: str, budget_ms: int = 600_000, timeout: float = 120) -> str:
    """The DOM of ``page`` (a path with its query, under ``folder``, served over local HTTP) after
    headless Chromium has run it for ``budget_ms`` of virtual time."""
    handler = partial(SimpleHTTPRequestHandler, directory=str(folder))
    handler.log_message = lambda *a: None
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/{page}"
        return subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                               "--autoplay-policy=no-user-gesture-required", f"--virtual-time-budget={budget_ms}",
                               "--dump-dom", url], capture_output=True, text=True, timeout=timeout,
                              check=False).stdout
    finally:
        server.shutdown()


@pytest.mark.skipif(CHROMIUM is None, reason="no Chromium: apt-get install chromium (Debian) to run the browser test")
def test_a_browser_completes_the_pilot_and_fit_reads_its_csv(loop, tmp_path):
    dom = browser_dom(loop / "pilot", "index.html?simulate=1&participant=sim&pse=0.35&spread=0.06")
    found = re.search(r'<pre id="stimgen-data">(.*?)</pre>', dom, re.DOTALL)
    assert found, dom[-2000:]
    data = loop / "pilot" / "data" / "sim.csv"
    data.write_text(html.unescape(found.group(1)))
    table = pd.read_csv(data)
    assert len(table) == 220 and (table["trial_type"] == "audio-button-response").all()
    assert set(table["response_label"]) == {"oo", "ah"}
    r = stimgen_cli("fit", data, "--bootstrap", 200, "--out", tmp_path / "fit")
    assert r.returncode == 0, r.stderr
    pooled = json.loads((tmp_path / "fit" / "fit.json").read_text())["pooled"]
    assert pooled["pse"] == pytest.approx(0.35, abs=0.1)
    assert (tmp_path / "fit" / "fit.png").stat().st_size > 10_000


def test_respace_puts_steps_at_equal_probability_and_formants_stay_monotonic(loop, tmp_path):
    manifest = pd.read_csv(loop / "cont" / "manifest.csv")
    truth = PsychometricFit("logistic", alpha=0.45, beta=0.08, gamma=0.0, lapse=0.0)
    levels = np.repeat(manifest["morph_level"].to_numpy(), 40)
    rows = pd.DataFrame({"morph_level": levels, "response_b": simulate(truth, levels, 3)})
    rows.to_csv(tmp_path / "plain.csv", index=False)
    r = stimgen_cli("fit", tmp_path / "plain.csv", "--continuum", loop / "cont", "--bootstrap", 100,
                    "--out", tmp_path / "fit")
    assert r.returncode == 0, r.stderr
    r = stimgen_cli("respace", "cont", "--fit", tmp_path / "fit" / "fit.json", "--steps", 7,
                    "--out", tmp_path / "new", cwd=loop)
    assert r.returncode == 0, r.stderr
    fit = json.loads((tmp_path / "fit" / "fit.json").read_text())["pooled"]
    fitted = PsychometricFit(fit["sigmoid"], fit["alpha"], fit["beta"], fit["gamma"], fit["lapse"])
    new = pd.read_csv(tmp_path / "new" / "manifest.csv")
    np.testing.assert_allclose(fitted.probability(new["morph_level"]), np.linspace(0.05, 0.95, 7), atol=0.02)
    for formant in ("f1_bark", "f2_bark"):
        rho = pd.Series(new[formant]).rank().corr(pd.Series(np.arange(7.0)))
        assert abs(rho) >= 0.95, (formant, new[formant].tolist())
    provenance = json.loads((tmp_path / "new" / "manifest.json").read_text())
    assert provenance["settings"]["respaced_from"]["scheme"] == "equal-probability"
    assert provenance["settings"]["f0"] == 120.0 and (tmp_path / "new" / "respace.png").is_file()


def test_respace_refuses_a_fit_without_a_boundary_inside(loop, tmp_path):
    manifest = pd.read_csv(loop / "cont" / "manifest.csv")
    levels = np.repeat(manifest["morph_level"].to_numpy(), 20)
    flat = (np.random.default_rng(0).random(levels.size) < 0.2).astype(int)   # "B" 20 % everywhere
    pd.DataFrame({"morph_level": levels, "response_b": flat}).to_csv(tmp_path / "flat.csv", index=False)
    assert stimgen_cli("fit", tmp_path / "flat.csv", "--continuum", loop / "cont", "--bootstrap", 20,
                       "--out", tmp_path / "fit").returncode == 0
    r = stimgen_cli("respace", "cont", "--fit", tmp_path / "fit" / "fit.json", "--out", tmp_path / "new", cwd=loop)
    assert_one_error_line(r, "no boundary inside the continuum")
    assert not (tmp_path / "new").exists()


@pytest.mark.parametrize("content, message", [
    ("", "not a readable CSV"),
    ("morph_level,answer\n0.1,1\n", "no response_b column"),
    ("morph_level,response_b\n0.1,yes\n0.5,1\n0.9,1\n", "row 2: response_b is 'yes'"),
    ("morph_level,response_b\n0.1,0\n0.5,1\n1.5,1\n", "morph levels must lie in [0, 1]"),
    ("stim_file,response_b\nstimuli/step_99.wav,1\n", "row 2: 'stimuli/step_99.wav' is not a stimulus"),
])
def test_bad_data_files_get_one_line_and_exit_2(loop, tmp_path, content, message):
    (tmp_path / "bad.csv").write_text(content)
    r = stimgen_cli("fit", tmp_path / "bad.csv", "--continuum", loop / "cont", "--out", tmp_path / "fit")
    assert_one_error_line(r, message)
    assert not (tmp_path / "fit").exists()
