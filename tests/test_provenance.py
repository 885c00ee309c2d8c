"""Provenance is checked wherever a stimulus folder is read back (issue 21, items 4, 5, 6 and 13):
the endpoints respace remakes, the stimuli and manifest the pilot copies, the data fit pools and the
fit.json respace trusts. Every refusal is one line naming the file, and nothing is written or changed."""

import csv
import hashlib
import json
import shutil

import numpy as np
import pandas as pd
import pytest
from conftest import assert_one_error_line, stimgen_cli

from stimgen.data.vowels import mean_vowel
from stimgen.psychometric import PsychometricFit
from stimgen.signal.audio import save_wav

RISING = PsychometricFit("logistic", alpha=0.45, beta=0.08, gamma=0.0, lapse=0.0)


def simulate(levels: np.ndarray, seed: int, swapped: bool = False) -> np.ndarray:
    """A listener whose P("B") is :data:`RISING`; ``swapped``: the same listener with the labels swapped."""
    said_b = np.random.default_rng(seed).random(levels.size) < RISING.probability(levels)
    return (said_b != swapped).astype(int)


def plain_data(path, manifest: pd.DataFrame, seed: int, swapped: bool = False, reps: int = 30) -> None:
    """A plain CSV (``morph_level``, ``response_b``) at the continuum's levels."""
    levels = np.repeat(manifest["morph_level"].to_numpy(), reps)
    pd.DataFrame({"morph_level": levels, "response_b": simulate(levels, seed, swapped)}).to_csv(path, index=False)


def pilot_data(path, manifest: pd.DataFrame, who: str, seed: int, reps: int = 10) -> None:
    """A data file as the pilot's page writes it: a row per trial naming its stimulus."""
    rows = manifest.loc[np.repeat(np.arange(len(manifest)), reps), ["stim_file", "step", "morph_level"]]
    rows = rows.assign(response_b=simulate(rows["morph_level"].to_numpy(), seed), participant=who)
    rows.to_csv(path, index=False)


def hashes(*paths) -> dict:
    """The sha256 of every file under ``paths`` (files or folders)."""
    files = [f for p in paths for f in ([p] if p.is_file() else sorted(p.rglob("*"))) if f.is_file()]
    return {str(f): hashlib.sha256(f.read_bytes()).hexdigest() for f in files}


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    """A 7-step /u/-/ɑ/ continuum made from u.wav and a.wav beside it (``cont``), its pilot with two
    listeners' data (``pilot/data/P01.csv``, ``P02.csv``), a rising fit of it (``fit``), and an /i/
    (``i.wav``) to put in an endpoint's place."""
    root = tmp_path_factory.mktemp("provenance")
    for name, code in (("u", "uw"), ("a", "aa"), ("i", "iy")):
        save_wav(root / f"{name}.wav", mean_vowel(code, "man", f0=120.0, duration=0.45, rng=1), 16000)
    r = stimgen_cli("continuum", "--a", "u.wav", "--b", "a.wav", "--steps", 7, "--f0", 120, "--sr", 16000,
                    "--out", "cont", cwd=root)
    assert r.returncode == 0, r.stderr
    r = stimgen_cli("pilot", "cont", "--reps", 10, "--labels", "oo,ah", "--out", "pilot", cwd=root)
    assert r.returncode == 0, r.stderr
    manifest = pd.read_csv(root / "cont" / "manifest.csv")
    for seed, who in enumerate(("P01", "P02")):
        pilot_data(root / "pilot" / "data" / f"{who}.csv", manifest, who, seed)
    plain_data(root / "rising.csv", manifest, seed=3)
    r = stimgen_cli("fit", "rising.csv", "--continuum", "cont", "--bootstrap", 20, "--out", "fit", cwd=root)
    assert r.returncode == 0 and "warning" not in r.stderr, r.stderr   # rising data: no warning
    return root


def respace(root, continuum, fit, out, cwd=None):
    return stimgen_cli("respace", continuum, "--fit", fit, "--steps", 5, "--out", out, cwd=cwd or root)


# item 4: respace remakes the continuum from its endpoints: they must be the files it was made from


@pytest.mark.parametrize("where", ["replaced in place", "run from another folder"])
def test_respace_refuses_endpoints_that_are_not_the_files_the_continuum_was_made_from(made, tmp_path, where):
    if where == "replaced in place":     # cp i.wav u.wav where the continuum was made
        run_in = tmp_path / "rec"
        run_in.mkdir()
        for name in ("a.wav", "cont", "fit"):
            (shutil.copytree if (made / name).is_dir() else shutil.copy2)(made / name, run_in / name)
        continuum, fit = "cont", "fit/fit.json"
    else:                                # the same names hold other files in the folder respace runs in
        run_in = tmp_path / "elsewhere"
        run_in.mkdir()
        shutil.copy2(made / "a.wav", run_in / "a.wav")
        continuum, fit = made / "cont", made / "fit" / "fit.json"
    shutil.copy2(made / "i.wav", run_in / "u.wav")
    before = hashes(run_in, made)
    r = respace(made, continuum, fit, tmp_path / "new", cwd=run_in)
    assert_one_error_line(r, "u.wav: is not the file", "cont was made from: sha256",
                          "for u.wav in its manifest.json")
    assert not (tmp_path / "new").exists() and hashes(run_in, made) == before


# item 5 (and 4: fit --continuum, respace): a continuum whose stimuli or manifest changed is refused


def _csv_rows(path):
    with open(path, newline="") as f:
        return list(csv.reader(f))


def _write_rows(path, rows):
    with open(path, "w", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows(rows)


def delete_stimulus(cont):
    (cont / "stimuli" / "step_03.wav").unlink()


def swap_stimulus(cont):
    shutil.copy2(cont / "stimuli" / "step_01.wav", cont / "stimuli" / "step_03.wav")


def edit_a_level(cont):
    rows = _csv_rows(cont / "manifest.csv")
    rows[4][rows[0].index("morph_level")] = "0.9"
    _write_rows(cont / "manifest.csv", rows)


def drop_a_row(cont):
    _write_rows(cont / "manifest.csv", _csv_rows(cont / "manifest.csv")[:-1])


CHANGES = [
    (delete_stimulus, ("step_03.wav: is missing: manifest.json lists it in row 5",)),
    (swap_stimulus, ("step_03.wav: sha256", "differs from", "in manifest.json (row 5)")),
    (edit_a_level, ("manifest.csv: row 5: morph_level is '0.9'", "in manifest.json")),
    (drop_a_row, ("manifest.csv: has 6 rows, manifest.json 7",)),
]


def changed_copy(made, tmp_path, change):
    """A copy of the continuum, changed by ``change``, under a dot folder (the session's PsychoPy
    check of every manifest.csv skips it: its files are broken on purpose)."""
    cont = tmp_path / ".changed" / "cont"
    shutil.copytree(made / "cont", cont)
    change(cont)
    return cont


@pytest.mark.parametrize("change, fragments", CHANGES, ids=[c.__name__ for c, _ in CHANGES])
def test_pilot_refuses_a_continuum_whose_stimuli_or_manifest_changed(made, tmp_path, change, fragments):
    cont = changed_copy(made, tmp_path, change)
    before = hashes(cont)
    r = stimgen_cli("pilot", cont, "--reps", 2, "--out", tmp_path / "pilot")
    assert_one_error_line(r, *fragments)
    assert not (tmp_path / "pilot").exists() and hashes(cont) == before


@pytest.mark.parametrize("verb, change, fragments", [("fit", *CHANGES[1]), ("respace", *CHANGES[2])],
                         ids=["fit-swap_stimulus", "respace-edit_a_level"])
def test_fit_and_respace_refuse_a_continuum_whose_stimuli_or_manifest_changed(made, tmp_path, verb, change,
                                                                              fragments):
    cont = changed_copy(made, tmp_path, change)
    before = hashes(cont, made / "rising.csv", made / "fit")
    if verb == "fit":
        r = stimgen_cli("fit", made / "rising.csv", "--continuum", cont, "--bootstrap", 20, "--out", tmp_path / "new")
    else:
        r = respace(made, cont, made / "fit" / "fit.json", tmp_path / "new")
    assert_one_error_line(r, *fragments)
    assert not (tmp_path / "new").exists() and hashes(cont, made / "rising.csv", made / "fit") == before


# item 6: fit pools only what belongs together; respace takes only a rising fit of this continuum


@pytest.mark.parametrize("twice", ["the same path", "a copy"])
def test_fit_refuses_a_data_file_given_twice(made, tmp_path, twice):
    data = made / "pilot" / "data" / "P01.csv"
    other = data if twice == "the same path" else tmp_path / "P01-again.csv"
    if twice == "a copy":
        shutil.copy2(data, other)
    before = hashes(made / "pilot", other)
    r = stimgen_cli("fit", data, other, "--bootstrap", 20, "--out", tmp_path / "fit")
    if twice == "the same path":
        assert_one_error_line(r, "P01.csv: is given twice: each data file counts once")
    else:
        assert_one_error_line(r, "P01-again.csv: holds the same bytes as", "P01.csv (sha256")
    assert not (tmp_path / "fit").exists() and hashes(made / "pilot", other) == before


def test_two_listeners_of_one_pilot_still_pool(made, tmp_path):
    data = made / "pilot" / "data"
    r = stimgen_cli("fit", data / "P01.csv", data / "P02.csv", "--bootstrap", 20, "--out", tmp_path / "fit")
    assert r.returncode == 0, r.stderr
    fit = json.loads((tmp_path / "fit" / "fit.json").read_text())
    assert fit["trials"] == 2 * 70 and set(fit["participants"]) == {"P01", "P02"} and fit["manifest"]


@pytest.fixture(scope="module")
def other_pilot(made, tmp_path_factory):
    """A pilot of another continuum with the same steps and levels (another manifest.csv, which its
    pilot.json records), holding P02.csv."""
    pilot = tmp_path_factory.mktemp("other") / ".pilot"
    shutil.copytree(made / "pilot", pilot)
    (pilot / "data" / "P01.csv").unlink()
    rows = _csv_rows(pilot / "manifest.csv")
    rows[2][rows[0].index("f1_hz")] = "999"
    _write_rows(pilot / "manifest.csv", rows)
    record = json.loads((pilot / "pilot.json").read_text())
    record["manifest_sha256"] = hashlib.sha256((pilot / "manifest.csv").read_bytes()).hexdigest()
    (pilot / "pilot.json").write_text(json.dumps(record))
    return pilot


def test_fit_refuses_pilots_of_two_continua_pooled(made, other_pilot, tmp_path):
    ours, theirs = made / "pilot" / "data" / "P01.csv", other_pilot / "data" / "P02.csv"
    before = hashes(made / "pilot", other_pilot)
    r = stimgen_cli("fit", ours, theirs, "--bootstrap", 20, "--out", tmp_path / "fit")
    assert_one_error_line(r, f"{theirs}: is data of another continuum than {ours}",
                          str(other_pilot / "manifest.csv"), str(made / "pilot" / "manifest.csv"))
    r = stimgen_cli("fit", theirs, "--continuum", made / "cont", "--bootstrap", 20, "--out", tmp_path / "fit")
    assert_one_error_line(r, f"{theirs}: lies in a pilot of another continuum than {made / 'cont'}")
    r = stimgen_cli("fit", ours, made / "rising.csv", "--bootstrap", 20, "--out", tmp_path / "fit")
    assert_one_error_line(r, "rising.csv: carries no continuum's manifest (not in a pilot folder)", "--continuum")
    assert not (tmp_path / "fit").exists() and hashes(made / "pilot", other_pilot) == before


def test_fit_refuses_a_pilot_whose_manifest_was_edited(made, tmp_path):
    pilot = tmp_path / ".pilot"
    shutil.copytree(made / "pilot", pilot)
    edit_a_level(pilot)
    before = hashes(pilot)
    r = stimgen_cli("fit", pilot / "data" / "P01.csv", "--bootstrap", 20, "--out", tmp_path / "fit")
    assert_one_error_line(r, f"{pilot / 'manifest.csv'}: sha256", "is not that of the continuum's manifest.csv "
                          "that pilot.json records")
    assert not (tmp_path / "fit").exists() and hashes(pilot) == before


def test_falling_data_are_said_recorded_and_refused_by_respace(made, tmp_path):
    assert json.loads((made / "fit" / "fit.json").read_text())["pooled"]["falling"] is False   # rising: not said
    plain_data(tmp_path / "swapped.csv", pd.read_csv(made / "cont" / "manifest.csv"), seed=3, swapped=True)
    r = stimgen_cli("fit", tmp_path / "swapped.csv", "--continuum", made / "cont", "--bootstrap", 20,
                    "--out", tmp_path / "fit")
    assert r.returncode == 0, r.stderr
    warning = r.stderr.strip().splitlines()
    assert len(warning) == 1 and warning[0].startswith("stimgen: warning: ") and "swapped.csv: the data fall" in \
        warning[0], r.stderr
    fit = json.loads((tmp_path / "fit" / "fit.json").read_text())
    assert fit["pooled"]["falling"] is True and fit["participants"]["swapped"]["falling"] is True
    assert fit["warnings"] == [warning[0].removeprefix("stimgen: warning: ").split(": ", 1)[1]]
    before = hashes(made / "cont", tmp_path / "fit")
    r = respace(made, "cont", tmp_path / "fit" / "fit.json", tmp_path / "new")
    assert_one_error_line(r, "fit.json: was fitted to falling data", "labels swapped")
    # the same data with fit.json's flag hand-edited away: respace reads the data per step itself
    fit["pooled"]["falling"] = False
    (tmp_path / "unflagged.json").write_text(json.dumps(fit))
    r = respace(made, "cont", tmp_path / "unflagged.json", tmp_path / "new")
    assert_one_error_line(r, "unflagged.json: was fitted to falling data")
    assert not (tmp_path / "new").exists() and hashes(made / "cont", tmp_path / "fit") == before


def test_respace_refuses_a_fit_that_names_no_continuum(made, tmp_path):
    shutil.copy2(made / "rising.csv", tmp_path / "copied.csv")   # data copied out, fitted without --continuum
    r = stimgen_cli("fit", tmp_path / "copied.csv", "--bootstrap", 20, "--out", tmp_path / "fit")
    assert r.returncode == 0, r.stderr
    assert json.loads((tmp_path / "fit" / "fit.json").read_text())["manifest"] is None
    before = hashes(made / "cont", tmp_path / "fit")
    r = respace(made, "cont", tmp_path / "fit" / "fit.json", tmp_path / "new")
    assert_one_error_line(r, "fit.json: names no continuum", "refit with --continuum cont")
    assert not (tmp_path / "new").exists() and hashes(made / "cont", tmp_path / "fit") == before


# item 13: every field of a hand-edited fit.json is checked before respace uses it


#: The hand edits of the issue, through the real command; the rest in process below.
EDITS = [("beta", 0), ("alpha", "abc"), ("beta", 1e9), ("sigmoid", "cubic")]


@pytest.mark.parametrize("field, value", EDITS)
def test_respace_refuses_a_hand_edited_fit_json(made, tmp_path, field, value):
    fit = json.loads((made / "fit" / "fit.json").read_text())
    fit["pooled"][field] = value
    (tmp_path / "fit.json").write_text(json.dumps(fit))
    before = hashes(made / "cont", tmp_path / "fit.json")
    r = respace(made, "cont", tmp_path / "fit.json", tmp_path / "new")
    assert_one_error_line(r, f"fit.json: pooled.{field} must be", f"got {value!r}")
    assert not (tmp_path / "new").exists() and hashes(made / "cont", tmp_path / "fit.json") == before


@pytest.mark.parametrize("where, field, value", [
    *[("pooled", field, value) for field, value in EDITS],
    ("pooled", "beta", -0.1), ("pooled", "alpha", float("nan")), ("pooled", "alpha", True),
    ("pooled", "sigmoid", ["logistic"]), ("pooled", "gamma", 0.6), ("pooled", "lapse", -0.01),
    ("pooled", "lapse", 0.5), ("pooled", "pse_ci", [0.6, 0.4]), ("pooled", "log_likelihood", "x"),
    ("pooled", "falling", "no"), (None, "data", []), (None, "data", [{"morph_level": 2.0, "trials": 10, "b": 3}]),
    (None, "manifest", {"sha256": "abc"}),
])
def test_load_fit_checks_every_field(made, tmp_path, where, field, value):
    from stimgen.errors import StimgenError
    from stimgen.psychometric import load_fit

    fit = json.loads((made / "fit" / "fit.json").read_text())
    (fit[where] if where else fit)[field] = value
    (tmp_path / "fit.json").write_text(json.dumps(fit))   # NaN is written as NaN, as Python's json reads it
    name = f"{where}.{field}" if where else field
    with pytest.raises(StimgenError) as refused:
        load_fit(tmp_path / "fit.json")
    message = str(refused.value)
    assert message.startswith(f"{tmp_path / 'fit.json'}: {name}") and "must be" in message and "\n" not in message
    assert load_fit(made / "fit" / "fit.json")[0].beta > 0   # the fit as written loads
