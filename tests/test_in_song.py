"""stimgen in-song: a continuum's steps put back into a real Bengalese finch song (tests/data/birdsong-gy6or6).

A 5-step continuum of the shipped birdsong model between two syllables cut from the song (b and c,
by their hand labels) is written into the song in the place of syllable b (its 13th row), at the
song's 32 kHz from the continuum's 48 kHz. Every figure is measured on the files as written.
"""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile as sf
from click.testing import CliRunner
from conftest import assert_one_error_line, stimgen_cli

from stimgen.errors import StimgenError
from stimgen.outputs import file_sha256
from stimgen.signal.audio import load_audio, peak_dbfs, rms_dbfs, trim_silence
from stimgen.signal.splice import level_gain_db, splice, split_band

SONG = "tests/data/birdsong-gy6or6/gy6or6_baseline_230312_0811.159"
B, C = 12, 13  # rows of the hand labels: syllables b and c


@pytest.fixture(scope="module")
def made(tmp_path_factory, request):
    """The continuum (cont), the song in it (in-song) and the labels of the song."""
    root = tmp_path_factory.mktemp("in-song")
    song = request.config.rootpath / f"{SONG}.flac"
    labels = pd.read_csv(request.config.rootpath / f"{SONG}.csv")
    y, sr = sf.read(song, dtype="int16")
    for name, row in (("b", B), ("c", C)):
        onset, offset = labels.iloc[row][["onset_s", "offset_s"]]
        sf.write(root / f"{name}.wav", y[int((onset - 0.01) * sr):int((offset + 0.01) * sr)], sr)
    made = stimgen_cli("continuum", "--model", "birdsong", "--a", root / "b.wav", "--b", root / "c.wav", "--steps", 5,
                       "--level", -30, "--out", root / "cont")
    assert made.returncode == 0, made.stderr
    onset, offset = labels.iloc[B][["onset_s", "offset_s"]]
    result = stimgen_cli("in-song", "--stimuli", root / "cont", "--song", song, "--labels", song.with_suffix(".csv"),
                         "--syllable", B + 1, "--out", root / "in-song")
    assert result.returncode == 0, result.stderr
    return {"root": root, "song": song, "onset": onset, "offset": offset, "next_onset": labels.iloc[C]["onset_s"],
            "result": result, "manifest": pd.read_csv(root / "in-song" / "manifest.csv")}


def spans(row, sr=32000):
    """The syllable's samples [a, b) and the end of the part replaced."""
    a, b = int(round(row.onset_s * sr)), int(round(row.offset_s * sr))
    return a, b, max(b, a + int(round(row.step_s * sr)))


def test_outside_the_part_replaced_every_sample_is_the_songs_and_the_song_keeps_its_length(made):
    song, _ = sf.read(made["song"], dtype="int16")
    assert len(made["manifest"]) == 5
    for row in made["manifest"].itertuples():
        out, sr = sf.read(made["root"] / "in-song" / row.stim_file, dtype="int16")
        a, b, end = spans(row)
        assert sr == 32000 and out.size == song.size
        assert np.array_equal(out[:a], song[:a]) and np.array_equal(out[end:], song[end:])
        assert not np.array_equal(out[a:b], song[a:b])
        assert end / sr < made["next_onset"]  # the step runs into the gap after b, not into c


def test_inside_it_is_the_step_resampled_and_gained_over_the_songs_background(made):
    """The step (48 kHz in the continuum), trimmed, at the song's rate and the manifest's gain, is
    what lies over the song's band below 500 Hz: correlation above 0.999 away from the fades."""
    y, sr = load_audio(made["song"])
    low, _ = split_band(y, sr, 500.0)
    fade = int(0.005 * sr)
    for row in made["manifest"].itertuples():
        out, _ = load_audio(made["root"] / "in-song" / row.stim_file)
        step = trim_silence(load_audio(made["root"] / "cont" / row.source_file, sr=sr)[0])
        a = spans(row)[0]
        assert step.size == round(row.step_s * sr)
        put_in = out[a:a + step.size] - low[a:a + step.size]
        gained = step * 10 ** (row.gain_db / 20)
        assert np.corrcoef(put_in[fade:-fade], gained[fade:-fade])[0, 1] > 0.999
        assert np.std(put_in[fade:-fade] - gained[fade:-fade]) < 0.01 * np.std(gained)


def test_each_step_has_the_syllables_rms_within_half_a_decibel(made):
    y, sr = load_audio(made["song"])
    low, high = split_band(y, sr, 500.0)
    for row in made["manifest"].itertuples():
        out, _ = load_audio(made["root"] / "in-song" / row.stim_file)
        a, b, _ = spans(row)
        n = int(round(row.step_s * sr))
        put_in = split_band(out[a:a + n] - low[a:a + n], sr, 500.0)[1]
        assert rms_dbfs(put_in) == pytest.approx(rms_dbfs(high[a:b]), abs=0.5)
        assert row.target_dbfs == pytest.approx(rms_dbfs(high[a:b]), abs=1e-3)


def test_match_peak_gives_each_step_the_syllables_peak(made, tmp_path):
    r = stimgen_cli("in-song", "--stimuli", made["root"] / "cont", "--song", made["song"], "--onset", made["onset"],
                    "--offset", made["offset"], "--match", "peak", "--out", tmp_path / "peak")
    assert r.returncode == 0, r.stderr
    y, sr = load_audio(made["song"])
    low, high = split_band(y, sr, 500.0)
    for row in pd.read_csv(tmp_path / "peak" / "manifest.csv").itertuples():
        out, _ = load_audio(tmp_path / "peak" / row.stim_file)
        a, b, _ = spans(row)
        n = int(round(row.step_s * sr))
        assert row.match == "peak"
        assert peak_dbfs(split_band(out[a:a + n] - low[a:a + n], sr, 500.0)[1]) == pytest.approx(
            peak_dbfs(high[a:b]), abs=0.5)


def test_no_click_at_the_boundaries(made):
    """Within 10 ms of each boundary no sample-to-sample jump is larger than the song's own largest
    within 50 ms of the syllable."""
    song, sr = load_audio(made["song"])
    near = int(0.01 * sr)
    for row in made["manifest"].itertuples():
        out, _ = load_audio(made["root"] / "in-song" / row.stim_file)
        a, b, end = spans(row)
        own = np.max(np.abs(np.diff(song[a - 5 * near:b + 5 * near])))
        for boundary in (a, end):
            assert np.max(np.abs(np.diff(out[boundary - near:boundary + near]))) <= own


def test_the_crossfades_are_what_removes_the_click():
    """splice itself: a DC insert into a sine jumps by half full scale without fades, by less
    than 2 % of it with 80-sample equal-power fades."""
    song = 0.5 * np.sin(np.arange(4000) * 2 * np.pi / 400) + 0.5
    insert = np.full(1000, -0.5)
    for fade, limit in ((0, None), (80, 0.02)):
        jump = np.max(np.abs(np.diff(splice(song, insert, 1000, 1500, fade))))
        assert jump > 0.9 if limit is None else jump < limit
    with pytest.raises(StimgenError, match="does not fit twice"):
        splice(song, insert[:100], 1000, 1500, 80)
    with pytest.raises(StimgenError, match="past the song's end"):
        splice(song, insert, 3500, 3600, 10)
    assert level_gain_db(np.full(8, 0.25), np.full(8, 0.5), "peak") == pytest.approx(6.0206, abs=1e-4)


def test_the_manifest_names_every_step_its_source_and_the_song_by_sha256(made):
    out, cont = made["root"] / "in-song", made["root"] / "cont"
    manifest, source = made["manifest"], pd.read_csv(cont / "manifest.csv")
    record = json.loads((out / "manifest.json").read_text())
    assert manifest["step"].tolist() == source["step"].tolist() == [0, 1, 2, 3, 4]
    assert manifest["morph_level"].tolist() == source["morph_level"].tolist()
    assert manifest["source_file"].tolist() == source["stim_file"].tolist()
    for row in manifest.itertuples():
        assert row.source_sha256 == file_sha256(cont / row.source_file)
        assert row.sha256 == file_sha256(out / row.stim_file)
        assert row.song_sha256 == file_sha256(made["song"])
        assert (row.label, row.onset_s, row.offset_s, row.crossfade_ms, row.match, row.sr) == (
            "b", made["onset"], made["offset"], 5.0, "rms", 32000)
    assert record["verb"] == "in-song" and record["command"].startswith("stimgen in-song --stimuli")
    assert record["inputs"][0]["manifest_sha256"] == file_sha256(cont / "manifest.json")
    assert record["inputs"][1]["sha256"] == file_sha256(made["song"])
    assert [r["stim_file"] for r in record["stimuli"]] == record["preload"]["audio"] == manifest["stim_file"].tolist()
    assert record["settings"]["keep_below_hz"] == 500.0 and record["stimgen_version"]
    assert (record["settings"]["syllable"], record["settings"]["next_onset_s"]) == (B + 1, made["next_onset"])
    assert record["settings"]["labels_sha256"] == file_sha256(made["song"].with_suffix(".csv"))


def test_steps_longer_than_the_syllable_are_said(made):
    assert (made["manifest"]["overrun_s"] > 0).all()  # the model's steps outlast the 39 ms syllable
    warning = [line for line in made["result"].stderr.splitlines() if "warning" in line]
    assert len(warning) == 1 and "run on past the syllable's offset 2.1151 s" in warning[0]
    assert "before the next labelled syllable (2.1786 s)" in warning[0]


def test_same_command_same_bytes_and_no_overwrite_without_force(made):
    out = made["root"] / "in-song"
    before = {p.relative_to(out): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}
    args = ["in-song", "--stimuli", made["root"] / "cont", "--song", made["song"], "--labels",
            made["song"].with_suffix(".csv"), "--syllable", B + 1, "--out", out]
    assert_one_error_line(stimgen_cli(*args), "already exists", "--force")
    assert stimgen_cli(*args, "--force").returncode == 0
    after = {p.relative_to(out): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}
    record, again = (json.loads(files.pop(Path("manifest.json"))) for files in (before, after))
    assert after == before and len(before) == 7  # the WAVs, manifest.csv and .stimgen.json, byte for byte
    assert {**again, "command": record["command"]} == record and again["command"] == record["command"] + " --force"


@pytest.mark.parametrize("change, fragments", [
    ({"--onset": 9.0, "--offset": 9.5}, ["gy6or6_baseline_230312_0811.159.flac", "does not lie in the song"]),
    ({"--offset": 2.0}, ["does not lie in the song", "onset before offset"]),
    ({"--stimuli": "SONGS"}, ["birdsong-gy6or6", "is not a continuum of sounds"]),
    ({"--song": "LABELS"}, ["gy6or6_baseline_230312_0811.159.csv", "not an audio file"]),
    ({"--crossfade-ms": 45}, ["step_00.wav", "too short for two 45 ms crossfades"]),
    ({"--crossfade-ms": 51}, ["--crossfade-ms must be a number of ms from 0 to 50"]),
    ({"--keep-below": 16000}, ["--keep-below", "half the song's sample rate"]),
    ({"--onset": None, "--offset": None, "--labels": "LABELS", "--syllable": 15},
     ["step_00.wav", "runs into the next syllable of gy6or6_baseline_230312_0811.159.csv (at 2.3254 s)"]),
    ({"--onset": None, "--offset": None, "--labels": "LABELS", "--syllable": 50},
     ["--syllable must be a whole number from 1 to 49"]),
    ({"--labels": "LABELS", "--syllable": 13}, ["either as --onset and --offset or as --labels and --syllable"]),
], ids=["onset-beyond-song", "offset-before-onset", "not-a-continuum", "song-not-audio", "crossfade-too-long",
        "crossfade-out-of-bounds", "keep-below-nyquist", "runs-into-next-syllable", "no-such-syllable", "both"])
def test_bad_input_is_one_line_and_exit_2_and_nothing_written(made, tmp_path, change, fragments):
    options = {"--stimuli": made["root"] / "cont", "--song": made["song"], "--onset": made["onset"],
               "--offset": made["offset"], "--out": tmp_path / "out"}
    named = {"SONGS": made["song"].parent, "LABELS": made["song"].with_suffix(".csv")}
    options.update({k: named.get(v, v) for k, v in change.items()})
    options = {k: v for k, v in options.items() if v is not None}
    assert_one_error_line(stimgen_cli("in-song", *[x for kv in options.items() for x in kv]), *fragments)
    assert not (tmp_path / "out").exists()


def test_hostile_numbers_are_refused_or_harmless(made, tmp_path):
    """NaN, infinities, text, huge and negative values of every numeric option: refused with a
    StimgenError (one line, exit 2 from stimgen) or click's usage error, never a traceback; the
    inputs are left as they were."""
    from stimgen.cli import cli

    base = {"--stimuli": str(made["root"] / "cont"), "--song": str(made["song"]), "--onset": str(made["onset"]),
            "--offset": str(made["offset"])}
    before = file_sha256(made["song"]), file_sha256(made["root"] / "cont" / "manifest.json")
    runner = CliRunner()
    for k, (option, value) in enumerate((o, v) for o in ("--onset", "--offset", "--crossfade-ms", "--keep-below")
                                        for v in ("nan", "inf", "-inf", "-1", "1e300", "abc", "")):
        args = ["in-song", *[x for kv in {**base, option: value, "--out": str(tmp_path / f"o{k}")}.items() for x in kv]]
        result = runner.invoke(cli, args)
        assert result.exit_code != 0 and isinstance(result.exception, (StimgenError, SystemExit)), (option, value)
    assert (file_sha256(made["song"]), file_sha256(made["root"] / "cont" / "manifest.json")) == before
