"""The stimulus folder format: one module writes and reads it (stimgen.stimulus_folder)."""

import json
import shutil
import warnings

import numpy as np
import pandas as pd
import pytest
from conftest import assert_one_error_line, stimgen_cli

from stimgen.errors import StimgenError
from stimgen.stimulus_folder import MANIFEST_JSON, StimulusRecord, read_folder


@pytest.fixture(scope="module")
def made(endpoints, tmp_path_factory):
    """An /i/-/ɑ/ continuum of the shipped vowel model (7 steps, --f0 120), as the set and as its folder."""
    from stimgen import load_model
    from stimgen.export import export
    from stimgen.morph.continuum import continuum
    from stimgen.options import RenderSettings

    out = tmp_path_factory.mktemp("folder") / "c"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # the 0.6 s endpoints are windowed
        stimuli = continuum(load_model("vowels"), endpoints / "i.wav", endpoints / "a.wav", steps=7, f0=120.0)
        export(stimuli, out, RenderSettings(sr=44100, level_dbfs=-23.0, ramp_ms=5.0))
    return stimuli, out


def test_the_record_keeps_every_code_at_full_precision_and_the_render_settings(made):
    stimuli, out = made
    folder = read_folder(out, verb="continuum", medium="audio")
    record = folder.record
    np.testing.assert_array_equal(record.codes(), stimuli.z)   # exactly, where manifest.csv has 6 digits
    assert not np.array_equal(np.round(record.codes(), 6), stimuli.z)
    assert (record.render.sr, record.render.level_dbfs, record.render.ramp_ms) == (44100, -23.0, 5.0)
    assert record.verb == "continuum" and record.medium == "audio" and record.model.name == "vowels"
    assert record.settings["f0"] == 120.0 and set(record.state) == {"ends"}   # the faithful ends' record
    assert record.state["ends"]["method"] == record.settings["endpoints"] == "warp"
    np.testing.assert_array_equal(record.state["ends"]["codes"], record.codes()[[0, -1]])
    assert [i["file"] for i in record.inputs] == ["i.wav", "a.wav"] and all(len(i["sha256"]) == 64
                                                                             for i in record.inputs)
    assert folder.manifest["stim_file"].tolist() == [row["stim_file"] for row in record.stimuli]
    # what is written reads back as the same record
    assert StimulusRecord.from_dict(json.loads(json.dumps(record.to_dict()))) == record


def test_the_dense_path_map_gives_each_step_its_morph_level(made):
    stimuli, out = made
    path_map = read_folder(out).record.path_map
    t, level = np.array(path_map["latent_t"]), np.array(path_map["morph_level"])
    assert len(t) == stimuli.settings["dense"] and t[0] == level[0] == 0.0 and t[-1] == level[-1] == 1.0
    assert np.all(np.diff(level) > 0)   # equal log-mel spacing: every dense step adds distance
    # the steps were placed at equal fractions of the path: the map puts them there again
    np.testing.assert_allclose(np.interp(stimuli.table["latent_t"], t, level), stimuli.table["morph_level"], atol=2e-3)


def test_folders_written_before_the_record_had_a_format_keep_loading(made, tmp_path):
    """The layout of before: "kind" for the verb, model.kind for the medium, render under settings,
    codes rounded to 6 decimals."""
    _, out = made
    old = tmp_path / "old"
    shutil.copytree(out, old)
    d = json.loads((old / MANIFEST_JSON).read_text())
    legacy = {k: v for k, v in d.items() if k not in ("format", "verb", "medium", "render", "path_map", "state")}
    legacy.update(kind=d["verb"], settings={**d["settings"], "render": d["render"]},
                  model={**d["model"], "kind": d["medium"]},
                  stimuli=[{**row, "z": [round(v, 6) for v in row["z"]]} for row in d["stimuli"]])
    (old / MANIFEST_JSON).write_text(json.dumps(legacy, indent=2))
    new, before = read_folder(out).record, read_folder(old).record
    assert (before.verb, before.medium, before.render, before.model) == (new.verb, new.medium, new.render, new.model)
    assert before.settings == new.settings and before.path_map is None
    np.testing.assert_allclose(before.codes(), new.codes(), atol=1e-6)
    r = stimgen_cli("pilot", old, "--reps", 1, "--out", tmp_path / "pilot")   # the pilot reads the old layout too
    assert r.returncode == 0, r.stderr
    assert json.loads((tmp_path / "pilot" / "pilot.json").read_text())["sample_rate"] == 44100


def test_a_folder_that_is_not_one_is_refused_with_one_line(made, tmp_path):
    _, out = made
    with pytest.raises(StimgenError, match="is not a stimulus folder .no such folder."):
        read_folder(tmp_path / "nothing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(StimgenError, match="is not a continuum folder .no manifest.csv"):
        read_folder(tmp_path / "empty", what="a continuum folder")
    broken = tmp_path / "broken"
    shutil.copytree(out, broken)
    (broken / MANIFEST_JSON).write_text('{"stimgen_version": "0.1.0", "format": 2}')
    with pytest.raises(StimgenError, match="manifest.json: is not a stimgen manifest.json .KeyError"):
        read_folder(broken)
    (broken / MANIFEST_JSON).write_text("[1, 2")
    with pytest.raises(StimgenError, match="manifest.json: cannot be read"):
        read_folder(broken)
    with pytest.raises(StimgenError, match="holds a continuum, not a grid"):
        read_folder(out, verb="grid")
    with pytest.raises(StimgenError, match="holds audio stimuli; a continuum of images is needed"):
        read_folder(out, medium="image", what="a continuum of images")
    r = stimgen_cli("respace", tmp_path / "empty", "--fit", tmp_path / "fit.json", "--out", tmp_path / "r")
    assert_one_error_line(r, "empty", "is not a continuum folder (no manifest.csv")


def test_respace_takes_the_render_settings_from_the_record(made, tmp_path):
    from stimgen.psychometric import fit_data
    from stimgen.respace import respace

    _, out = made
    levels = np.repeat(pd.read_csv(out / "manifest.csv")["morph_level"].to_numpy(), 30)
    responses = (np.random.default_rng(1).random(len(levels)) < 1 / (1 + np.exp(-(levels - 0.5) / 0.1))).astype(int)
    pd.DataFrame({"morph_level": levels, "response_b": responses}).to_csv(tmp_path / "r.csv", index=False)
    fit_data([tmp_path / "r.csv"], tmp_path / "fit", manifest=out / "manifest.csv", n_boot=20)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        stimuli, render, _ = respace(out, tmp_path / "fit" / "fit.json", steps=3)
    assert render == read_folder(out).record.render and render.sr == 44100 and render.ramp_ms == 5.0
    assert stimuli.path_map == read_folder(out).record.path_map   # the same path between the same codes
