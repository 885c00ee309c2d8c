"""Stimuli on demand (issue 24, point 3): stimgen.Continuum makes any level of a written continuum
as the continuum makes its files."""

import json
import math

import numpy as np
import pandas as pd
import pytest
import soundfile as sf
from conftest import alternating_harmonics, digits_folder, song_syllables
from PIL import Image

import stimgen
from stimgen.errors import StimgenError
from stimgen.export import export
from stimgen.morph.continuum import continuum, remade_with
from stimgen.morph.domain import Domain
from stimgen.on_demand import LOG_COLUMNS, Continuum
from stimgen.stimulus_folder import read_folder

LSB = 1 / 32768


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    """A 7-step vowel continuum between two voices (a man's /i/ at 120 Hz, a woman's /u/ at 210 Hz),
    written as `stimgen continuum` writes it: its levels 1/6, 2/6, ... stand in the manifest to 4
    decimals, and with F0 interpolated between two voices a level 4e-5 off is another sound."""
    from stimgen.data.vowels import mean_vowel
    from stimgen.signal.audio import save_wav

    folder = tmp_path_factory.mktemp("on-demand")
    save_wav(folder / "i.wav", mean_vowel("iy", "man", f0=120.0, duration=0.5, rng=1), 16000)
    save_wav(folder / "u.wav", mean_vowel("uw", "woman", f0=210.0, duration=0.5, rng=1), 16000)
    export(continuum(stimgen.load_model("vowels"), folder / "i.wav", folder / "u.wav", steps=7), folder / "i-u")
    return folder / "i-u"


@pytest.fixture(scope="module")
def opened(written):
    return stimgen.Continuum.open(written)


def _rms_db(a: np.ndarray, b: np.ndarray) -> float:
    """The RMS level of ``a`` against ``b`` (dB)."""
    return 10 * math.log10(np.mean(np.square(a, dtype=np.float64)) / np.mean(np.square(b, dtype=np.float64)))


def test_stimgen_continuum_is_the_on_demand_class():
    assert stimgen.Continuum is Continuum


def test_every_written_step_is_made_again_to_2_lsb_and_0_1_db(written, opened):
    manifest = pd.read_csv(written / "manifest.csv")
    assert manifest["morph_level"].tolist()[1] == 0.1667  # the rounded level stands for 1/6
    for row in manifest.itertuples():
        y, sr = sf.read(written / row.stim_file)
        made = opened.sound(row.morph_level)
        assert sr == opened.sr and made.shape == y.shape and made.dtype == np.float32
        assert np.max(np.abs(made - y)) <= 2 * LSB, row.stim_file
        assert abs(_rms_db(made, y)) <= 0.1
        assert opened.log[-1]["latent_t"] == row.latent_t


def test_a_folder_written_before_voices_kept_their_own_hnr_is_made_again_as_it_was(written, tmp_path):
    # a continuum written with WORLD's own aperiodicity records no own_hnr: reopened, its steps are made with it
    # again, not with the voices calibrated to the files' own HNR since (another sound, by far more than 2 LSB).
    # b's harmonics alternate in level by 18 dB (as espeak-ng's women's), which WORLD takes for noise
    from stimgen.signal.audio import save_wav

    a, b = written.parent / "i.wav", tmp_path / "comb.wav"
    save_wav(b, alternating_harmonics(), 16000)
    model = stimgen.load_model("vowels")
    for name, own_hnr in (("old", False), ("new", True)):
        export(continuum(model, a, b, steps=3, own_hnr=own_hnr), tmp_path / name)
    settings = {name: json.loads((tmp_path / name / "manifest.json").read_text())["settings"]
                for name in ("old", "new")}
    assert "own_hnr" not in settings["old"] and settings["new"]["own_hnr"] is True
    (old, _), (new, _) = (sf.read(tmp_path / name / "stimuli" / "step_01.wav") for name in ("old", "new"))
    assert np.max(np.abs(old - new)) > 100 * LSB
    for name, y in (("old", old), ("new", new)):
        assert np.max(np.abs(stimgen.Continuum.open(tmp_path / name).sound(0.5) - y)) <= 2 * LSB, name


def test_a_level_asked_for_again_is_the_same_sound_without_decoding_again(opened, monkeypatch):
    opened._kept.clear()   # the fixture is the module's: what other tests asked for is not kept here
    first = opened.sound(0.6131)
    calls = []
    decoder = opened._domain._decoder
    monkeypatch.setattr(decoder, "forward", lambda z, f=decoder.forward: calls.append(1) or f(z))
    made = first.copy()
    first[:] = 0.0   # what the experiment does with its array is its own
    again = opened.sound(0.6131)
    assert calls == [] and np.array_equal(again, made) and opened.log[-1]["morph_level"] == 0.6131
    opened.sound(0.6132)
    assert calls == [1]


def test_a_sound_is_decoded_on_one_thread_and_the_callers_thread_count_is_back_after(opened, monkeypatch):
    import torch

    opened._kept.clear()   # a level another test asked for would not be decoded again
    seen = []
    decoder = opened._domain._decoder
    monkeypatch.setattr(decoder, "forward", lambda z, f=decoder.forward: seen.append(torch.get_num_threads()) or f(z))
    callers = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        opened.sound(0.3)
        assert seen == [1] and torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(callers)


def test_a_level_between_two_steps_is_the_continuums_own_there_and_lies_between_them(written, opened):
    record = read_folder(written, verb="continuum").record
    manifest = pd.read_csv(written / "manifest.csv")
    level = 0.42  # between steps 2 (0.3333) and 3 (0.5)
    made = opened.sound(level)
    t = opened.log[-1]["latent_t"]
    assert t == round(float(np.interp(level, record.path_map["morph_level"], record.path_map["latent_t"])), 4)
    assert manifest["latent_t"][2] < t < manifest["latent_t"][3]
    # what stimgen continuum would write at that level: the continuum's own functions, given the position
    model = stimgen.load_model("vowels")
    a, b, made_with = remade_with(read_folder(written, verb="continuum"))
    one = continuum(model, a, b, at=np.array([t]), levels=np.array([level]), **made_with)
    expected = one.domain.representation.render(one.plan, record.render, seed=record.seed)[0]
    assert np.max(np.abs(made - expected)) <= 2 * LSB and abs(_rms_db(made, expected)) <= 0.1
    # and it lies between its neighbours in log-mel dB, each measured as a written file is
    rep = Domain(model).representation
    before, after = (sf.read(written / manifest["stim_file"][k])[0] for k in (2, 3))
    items = np.stack([rep.sound_to_item(y, opened.sr) for y in (before, made, after, before)])
    to_mid, from_mid, apart = rep.written_distances([{}] * 4, items, "spectral")  # b-m, m-a, a-b
    assert 0 < to_mid < apart and 0 < from_mid < apart


def test_the_log_records_every_call_and_saves_a_csv_to_join(written, opened, tmp_path):
    record = read_folder(written, verb="continuum").record
    start = len(opened.log)
    opened.sound(0.5)
    opened.sound(0.25)
    calls = opened.log[start:]
    assert [c["morph_level"] for c in calls] == [0.5, 0.25]
    assert [c["call"] for c in calls] == [start, start + 1]
    assert all(c["ms"] > 0 and c["time"] > 1.7e9 for c in calls)
    np.testing.assert_allclose([float(v) for v in calls[0]["code"].split()], record.stimuli[3]["z"], rtol=1e-8)
    saved = pd.read_csv(opened.save_log(tmp_path / "stimuli.csv"))
    assert tuple(saved.columns) == LOG_COLUMNS and len(saved) == len(opened.log)
    assert saved["morph_level"].tolist()[start:] == [0.5, 0.25]


@pytest.mark.parametrize("level", [-0.01, 1.01, float("nan"), float("inf"), "0.5", None, True, [0.5]])
def test_a_level_that_is_not_a_number_in_0_1_is_one_line_and_not_logged(opened, level):
    before = len(opened.log)
    with pytest.raises(StimgenError, match=r"a level is a number in \[0, 1\]") as caught:
        opened.sound(level)
    assert "\n" not in str(caught.value) and len(opened.log) == before


def test_a_model_other_than_the_continuums_is_refused_in_one_line(written):
    with pytest.raises(StimgenError, match="is not the one .* was made with") as caught:
        Continuum.open(written, model="digits")
    assert "\n" not in str(caught.value)


def test_a_continuum_made_from_relative_paths_opens_from_another_folder_as_its_pilot_does(written, tmp_path,
                                                                                         monkeypatch):
    made_in, elsewhere = tmp_path / "voices", tmp_path / "pilot"
    made_in.mkdir()
    elsewhere.mkdir()
    for name in ("i.wav", "u.wav"):
        (made_in / name).write_bytes((written.parent / name).read_bytes())
    monkeypatch.chdir(made_in)
    export(continuum(stimgen.load_model("vowels"), "i.wav", "u.wav", steps=3), "i-u")
    monkeypatch.chdir(elsewhere)  # where the pilot's PsychoPy script runs: i.wav is not here
    y, _ = sf.read(made_in / "i-u" / pd.read_csv(made_in / "i-u" / "manifest.csv")["stim_file"][1])
    assert np.abs(Continuum.open(made_in / "i-u").sound(0.5) - y).max() <= 2 * LSB
    (made_in / "u.wav").rename(made_in / "moved.wav")
    with pytest.raises(StimgenError, match="u.wav: .* which is not there any more"):
        Continuum.open(made_in / "i-u")


def test_a_folder_that_is_not_a_continuum_or_was_changed_is_refused(written, tmp_path):
    with pytest.raises(StimgenError, match="is not a continuum folder"):
        Continuum.open(tmp_path)
    changed = tmp_path / ".changed"  # left broken: conftest's check of every manifest passes it by
    changed.mkdir()
    for file in ("manifest.csv", "manifest.json"):
        (changed / file).write_text((written / file).read_text())
    (changed / "stimuli").mkdir()
    with pytest.raises(StimgenError, match="is missing"):
        Continuum.open(changed)


def test_images_are_the_written_pngs_as_psychopy_takes_an_array(tmp_path):
    digits = digits_folder(tmp_path / "digits")
    export(continuum(stimgen.load_model("digits"), digits / "0.png", digits / "1.png", steps=5), tmp_path / "d")
    c = Continuum.open(tmp_path / "d")
    manifest = pd.read_csv(tmp_path / "d" / "manifest.csv")
    for row in manifest.itertuples():
        png = np.asarray(Image.open(tmp_path / "d" / row.stim_file), dtype=np.float32) / 127.5 - 1
        image = c.image(row.morph_level)
        assert image.dtype == np.float32 and image.shape == png.shape
        upright = np.flipud(image)  # PsychoPy draws an array's first row at the bottom
        assert np.max(np.abs(upright - png)) <= 1 / 127.5 + 1e-6 and np.mean(upright == png) > 0.99
    middle = np.flipud(c.image(0.4))
    steps = [np.asarray(Image.open(tmp_path / "d" / file), dtype=np.float32) / 127.5 - 1
             for file in manifest["stim_file"][1:3]]
    assert np.abs(middle - steps[0]).mean() < np.abs(steps[1] - steps[0]).mean()
    assert np.abs(middle - steps[1]).mean() < np.abs(steps[1] - steps[0]).mean()
    assert json.loads((tmp_path / "d" / "manifest.json").read_text())["medium"] == "image" and c.sr is None
    with pytest.raises(StimgenError, match=r"holds image stimuli: ask for them with image\(level\)"):
        c.sound(0.5)


def test_a_griffin_lim_continuum_is_made_again_to_2_lsb(tmp_path):
    """Griffin-Lim turns a 1e-6 difference of an item into tens of LSB of its sound, so a song
    continuum's steps are made from the ends as the folder keeps them and decoded one at a time
    as Continuum decodes them: every step made again is its file (they differed by as much as the
    files themselves before, and by 40-300 LSB with the ends as fitted rather than as kept)."""
    export(continuum(stimgen.load_model("bengalese-finch"), *song_syllables(tmp_path), steps=5), tmp_path / "b-c")
    opened = stimgen.Continuum.open(tmp_path / "b-c")
    for row in pd.read_csv(tmp_path / "b-c" / "manifest.csv").itertuples():
        written, _ = sf.read(tmp_path / "b-c" / row.stim_file)
        made = opened.sound(row.morph_level)
        assert np.max(np.abs(made - written)) <= 2 * LSB, row.stim_file
        assert abs(_rms_db(made, written)) <= 0.1
