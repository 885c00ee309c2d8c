"""The WORLD vocoder: analysis and synthesis, voices under the user's control (--f0), the world and
mel-world representations, measured with Praat on the written files."""

import json

import numpy as np
import pandas as pd
import pytest
from conftest import alternating_harmonics, assert_one_error_line, stimgen_cli

from stimgen.data.vowels import mean_vowel
from stimgen.errors import StimgenError
from stimgen.signal.audio import load_audio, save_wav
from stimgen.signal.phonetics import formants_for_voice, max_formant_for, measure_f0, measure_hnr
from stimgen.signal.world import Voice, WorldConfig, analyse, db_to_power, mix_voices, parse_f0, shifted, synthesize


@pytest.fixture(scope="module")
def voices(tmp_path_factory):
    """A man's /i/ at 100 Hz and /ɑ/ at 140 Hz, 0.6 s, and a noise with no voice, 0.4 s (within a
    model's window: no window to find), at 16 kHz."""
    folder = tmp_path_factory.mktemp("voices")
    save_wav(folder / "i100.wav", mean_vowel("iy", "man", f0=100.0, duration=0.6, rng=1), 16000)
    save_wav(folder / "a140.wav", mean_vowel("aa", "man", f0=140.0, duration=0.6, rng=1), 16000)
    save_wav(folder / "noise.wav", np.random.default_rng(0).normal(0, 0.1, 6400).astype(np.float32), 16000)
    return folder


@pytest.fixture(scope="module")
def world_model(tmp_path_factory):
    """A WORLD model trained for a few steps on 32 built-in vowels (32 x 32 envelopes)."""
    from stimgen.data import builtin
    from stimgen.train import TrainSettings, train

    root = tmp_path_factory.mktemp("world-model")
    builtin.build("vowels", root / "data", n=32, seed=0)
    settings = TrainSettings(model="ae", steps=4, batch_size=8, latent_dim=8, width=8, size=32, representation="world",
                             holdout=0.0, preview_every=1000, checkpoint_every=1000)
    return train(root / "data", root / "model", settings)


def test_db_to_power_is_ten_to_the_tenth_of_the_db_to_rounding():
    db = np.random.default_rng(0).uniform(-200.0, 100.0, (64, 513))
    assert np.allclose(db_to_power(db), 10.0 ** (db / 10.0), rtol=1e-13, atol=0)
    assert db_to_power(np.float32(-20.0)) == pytest.approx(0.01, rel=1e-15)


def test_analysis_and_synthesis_keep_f0_formants_and_a_clean_voice():
    cfg = WorldConfig()
    y = mean_vowel("aa", "man", f0=120.0, duration=0.6, rng=1)
    item, voice = analyse(y, cfg)
    assert item.shape == cfg.shape and 0.0 <= item.min() and item.max() <= 1.0
    assert np.median(voice.f0[voice.voiced]) == pytest.approx(120.0, abs=1.0)
    z = synthesize(item, voice, cfg)
    original = y[len(y) // 2 - cfg.n_samples // 2:][: cfg.n_samples]
    assert measure_f0(z, 16000) == pytest.approx(120.0, abs=1.0)
    assert measure_hnr(z, 16000) >= min(15.0, measure_hnr(original, 16000) - 3.0)
    np.testing.assert_allclose(formants_for_voice(z, 16000, 120.0)[:2], formants_for_voice(original, 16000, 120.0)[:2],
                               rtol=0.06)


def test_voices_mix_f0_log_linearly_hold_it_or_take_one_endpoints():
    a = Voice(np.array([100.0, 100.0, 0.0]), np.full((3, 1), -20.0))
    b = Voice(np.array([400.0, 0.0, 0.0]), np.full((3, 1), 0.0))
    w = np.array([[1.0, 0.0], [0.5, 0.5], [0.25, 0.75]])
    mixed = mix_voices([a, b], w)
    assert mixed[1].f0[0] == pytest.approx(200.0)            # the geometric mean: half-way in log F0
    assert mixed[1].f0[1] == pytest.approx(100.0)            # only a is voiced there
    assert mixed[2].f0[1] == 0.0 and mixed[2].f0[2] == 0.0   # voiced where the nearer endpoint is
    assert mixed[1].coded_ap[0, 0] == pytest.approx(-10.0)
    assert [v.f0[0] for v in mix_voices([a, b], w, 120.0)] == [120.0] * 3
    assert [v.f0[1] for v in mix_voices([a, b], w, "b")] == [400.0, 400.0, 0.0]  # b's contour, filled
    assert shifted(a, 20.0, (60.0, 600.0)).f0.tolist() == [120.0, 120.0, 0.0]
    assert shifted(a, -40.0, (60.0, 600.0)).f0.tolist() == [60.0, 60.0, 0.0]  # the ends of the range are in it
    with pytest.raises(StimgenError, match=r"change of -41 Hz takes this voice \(100-100 Hz\) to 59-59 Hz, outside "
                                           r"the model's pitch range, 60-600 Hz"):
        shifted(a, -41.0, (60.0, 600.0))
    with pytest.raises(StimgenError, match="outside the model's pitch range, 250-2500 Hz"):
        shifted(b, 2101.0, (250.0, 2500.0))  # a bird model's own range


def test_a_files_voice_is_no_noisier_through_world_than_the_file():
    # harmonics of 200 Hz whose even ones lie 18 dB below the odd (as espeak-ng's women's do), and a little
    # noise: 34 dB by Praat; WORLD's own aperiodicity resynthesises it about 3 dB noisier, the calibrated one
    # within 1 dB, by lowering the aperiodicity of the voiced frames only
    cfg = WorldConfig()
    y = alternating_harmonics()
    own = measure_hnr(y, 16000)
    (item, voice), (_, calibrated) = analyse(y, cfg), analyse(y, cfg, own_hnr=True)
    assert measure_hnr(synthesize(item, voice, cfg), 16000) < own - 2.0
    assert measure_hnr(synthesize(item, calibrated, cfg), 16000) == pytest.approx(own, abs=1.0)
    lowered = calibrated.coded_ap - voice.coded_ap
    assert np.all(lowered[calibrated.voiced] < 0) and np.all(lowered[~calibrated.voiced] == 0)


def test_a_voice_that_world_makes_cleaner_than_its_file_keeps_worlds_aperiodicity():
    # the built-in voices (jitter and aspiration: about 22 dB by Praat) come back 5-7 dB cleaner through WORLD,
    # whose smooth F0 leaves the jitter out: noise would not put it back, so WORLD's estimate stands
    cfg = WorldConfig()
    for y in (mean_vowel("aa", "woman", f0=220.0, rng=0), mean_vowel("iy", "man", f0=120.0, rng=0)):
        (item, voice), (_, calibrated) = analyse(y, cfg), analyse(y, cfg, own_hnr=True)
        assert measure_hnr(synthesize(item, voice, cfg), 16000) > measure_hnr(y, 16000) + 3.0
        assert np.array_equal(calibrated.coded_ap, voice.coded_ap)


def test_a_voice_with_no_voiced_frame_keeps_worlds_aperiodicity():
    from stimgen.signal.world import calibrate_aperiodicity, item_to_envelope

    cfg = WorldConfig()
    coded = np.full((cfg.n_frames, 1), -10.0)
    sp = item_to_envelope(np.full(cfg.shape, 0.5, dtype=np.float32), cfg)
    x = np.random.default_rng(0).normal(0, 0.1, cfg.n_samples)
    assert calibrate_aperiodicity(x, np.zeros(cfg.n_frames), sp, coded, cfg) is coded


def test_voices_mix_their_vocal_tracts_by_weight_whatever_the_f0(voices):
    from stimgen.representations import MelWorld
    from stimgen.signal.phonetics import vocal_tract_ceiling
    from stimgen.signal.spectrogram import SpectrogramConfig

    rep = MelWorld(SpectrogramConfig.preset("vowels"))
    files = [voices / "i100.wav", voices / "a140.wav"]
    tracts = []
    for file in files:
        voice = rep.vocoder.analyse(rep, file)
        tracts.append(vocal_tract_ceiling(rep.excerpt(file).cut(*load_audio(file)), 16000, rep.vocoder.mean_f0(voice)))
    w = np.array([[1.0, 0.0], [0.75, 0.25], [0.0, 1.0]])
    items = np.zeros((3, 1, 64, 64), dtype=np.float32)
    for policy in ("interpolate", "a", 120.0):
        plan = rep.plan(items, files, w, policy)
        assert [s.formant_ceiling for s in plan.state] == pytest.approx(list(w @ tracts))
        assert plan.settings == {"f0": policy}
    edit = rep.plan(items[:2], files[1:], np.ones((2, 1)), f0_shift=np.array([-20.0, 30.0]))
    assert [s.formant_ceiling for s in edit.state] == [tracts[1]] * 2 and edit.settings == {}
    assert edit.baseline.state[0].formant_ceiling == tracts[1]
    shift = np.median(edit.state[1].voice.f0[edit.state[1].voice.voiced] - edit.baseline.state[0].voice.f0[
        edit.baseline.state[0].voice.voiced])
    assert shift == pytest.approx(30.0)


def test_a_womans_vowels_voiced_at_120_hz_are_measured_with_her_vocal_tract(tmp_path):
    # the ceiling that fits 120 Hz (5000 Hz, a man's) merges F2 and F3 of a woman's /i/ into one
    # spurious F2 near 1900 Hz; her recording's tract says about 6400 Hz, and F2 reads as hers (2790)
    for code in ("iy", "aa"):
        save_wav(tmp_path / f"{code}.wav", mean_vowel(code, "woman", f0=210.0, duration=0.6, rng=1), 16000)
    r = stimgen_cli("continuum", "--model", "vowels", "--a", tmp_path / "iy.wav", "--b", tmp_path / "aa.wav",
                    "--steps", 3, "--f0", 120, "--endpoints", "reconstruct", "--out", tmp_path / "c")  # the model's /i/
    assert r.returncode == 0, r.stderr
    m = pd.read_csv(tmp_path / "c" / "manifest.csv")
    assert np.all(np.abs(m["f0_hz"] - 120.0) < 2.0)
    ceiling = m["formant_ceiling_hz"].to_numpy()
    assert np.all(ceiling > max_formant_for(210.0) - 300) and ceiling[1] == pytest.approx(ceiling[[0, 2]].mean(), 1)
    assert m["f2_hz"][0] > 2500 and formants_for_voice(load_audio(tmp_path / "c" / m["stim_file"][0])[0], 48000,
                                                       120.0)[1] < 2200


@pytest.mark.parametrize("value, inputs, expected", [("120", 2, 120.0), ("b", 2, "b"),
                                                     ("interpolate", 2, "interpolate"),
                                                     (None, 1, None), ("a", 1, "a"),
                                                     ("5", 2, 5.0), ("5000", 0, 5000.0)])  # the model's range decides
def test_f0_policies_parse(value, inputs, expected):
    assert parse_f0(value, inputs) == expected


@pytest.mark.parametrize("value, inputs, message", [("c", 2, "interpolate, a, b or a number of Hz"),
                                                    ("b", 1, "a or a number of Hz"), ("a", 0, "a number of Hz"),
                                                    ("0", 2, "--f0 must be a positive number of Hz, got '0'"),
                                                    ("-120", 1, "a positive number of Hz"),
                                                    ("nan", 2, "a positive number of Hz"),
                                                    ("inf", 0, "a positive number of Hz")])
def test_bad_f0_policies_are_refused(value, inputs, message):
    with pytest.raises(StimgenError, match=message):
        parse_f0(value, inputs)


def test_a_world_continuum_holds_f0_and_stays_a_clean_voice(tmp_path, voices):
    r = stimgen_cli("continuum", "--model", "vowels", "--a", voices / "i100.wav", "--b", voices / "a140.wav",
                    "--steps", 5, "--f0", 120, "--out", tmp_path / "c")
    assert r.returncode == 0, r.stderr
    m = pd.read_csv(tmp_path / "c" / "manifest.csv")
    assert np.all(np.abs(m["f0_hz"] - 120.0) < 2.0)
    assert m["hnr_db"].median() >= 15.0
    assert json.loads((tmp_path / "c" / "manifest.json").read_text())["settings"]["f0"] == 120.0


def test_interpolated_f0_moves_log_linearly_between_the_endpoints(tmp_path, voices):
    r = stimgen_cli("continuum", "--model", "vowels", "--a", voices / "i100.wav", "--b", voices / "a140.wav",
                    "--steps", 3, "--out", tmp_path / "c")
    assert r.returncode == 0, r.stderr
    f0 = pd.read_csv(tmp_path / "c" / "manifest.csv")["f0_hz"].to_numpy()
    np.testing.assert_allclose(f0, [100.0, np.sqrt(100.0 * 140.0), 140.0], atol=2.0)


def test_f0_edits_are_exact_through_the_vocoder_without_vectors(tmp_path, voices):
    r = stimgen_cli("edit", "--model", "vowels", "--input", voices / "a140.wav", "--attribute", "F0",
                    "--values", "-20,0,20", "--out", tmp_path / "e")
    assert r.returncode == 0, r.stderr
    m = pd.read_csv(tmp_path / "e" / "manifest.csv")
    np.testing.assert_allclose(m["measured_change"], [-20.0, 0.0, 20.0], atol=2.0)
    np.testing.assert_allclose(m["f0_hz"], [120.0, 140.0, 160.0], atol=2.0)


def test_a_world_model_trains_decodes_and_writes_the_voice_it_is_given(tmp_path, voices, world_model):
    config = json.loads((world_model / "config.json").read_text())["data"]
    assert config["representation"] == "world" and config["world"]["n_frames"] == 32
    assert 80.0 < config["voice"]["f0_hz"] < 300.0   # the training set's median voice
    r = stimgen_cli("continuum", "--model", world_model, "--a", voices / "i100.wav", "--b", voices / "a140.wav",
                    "--steps", 3, "--f0", "a", "--level", -30, "--out", tmp_path / "c")  # a 4-step model is peaky
    assert r.returncode == 0, r.stderr
    m = pd.read_csv(tmp_path / "c" / "manifest.csv")
    np.testing.assert_allclose(m["f0_hz"], 100.0, atol=2.0)
    assert m["duration_s"].iloc[0] == pytest.approx(WorldConfig().duration, abs=1e-3)


def test_an_endpoint_without_a_voice_is_refused_for_a_world_model(tmp_path, voices, world_model):
    r = stimgen_cli("continuum", "--model", world_model, "--a", voices / "noise.wav", "--b", voices / "a140.wav",
                    "--out", tmp_path / "c")
    assert_one_error_line(r, "noise.wav", "has no voiced frame")
    assert not (tmp_path / "c").exists()


def test_f0_is_refused_for_models_that_make_f0_with_the_sound(tmp_path, voices):
    r = stimgen_cli("continuum", "--model", "birdsong", "--a", voices / "i100.wav", "--b", voices / "a140.wav",
                    "--f0", 120, "--out", tmp_path / "c")
    assert_one_error_line(r, "--f0 sets the voice of WORLD models", "(mel)")


def test_pyworld_imports_where_setuptools_no_longer_ships_pkg_resources():
    """pyworld 0.3.5 imports pkg_resources; stimgen gives it a stand-in for that import only."""
    import importlib.metadata
    import subprocess
    import sys

    code = ("import sys\n"
            "class NoPkgResources:\n"
            "    def find_spec(self, name, path=None, target=None):\n"
            "        if name == 'pkg_resources':\n"
            "            raise ImportError('no pkg_resources here')\n"
            "sys.meta_path.insert(0, NoPkgResources())\n"
            "from stimgen.signal.world import _pyworld\n"
            "print(_pyworld().__version__, 'pkg_resources' in sys.modules)\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == [importlib.metadata.version("pyworld"), "False"]


def test_grids_and_decoded_codes_take_f0_too(tmp_path, voices):
    save_wav(tmp_path / "u110.wav", mean_vowel("uw", "man", f0=110.0, duration=0.6, rng=1), 16000)
    r = stimgen_cli("grid", "--anchors", f"{voices / 'i100.wav'},{voices / 'a140.wav'},{tmp_path / 'u110.wav'}",
                    "--steps", 2, "--f0", "b", "--out", tmp_path / "g")
    assert r.returncode == 0, r.stderr
    np.testing.assert_allclose(pd.read_csv(tmp_path / "g" / "manifest.csv")["f0_hz"], 140.0, atol=2.0)
    r = stimgen_cli("encode", "--model", "vowels", voices / "i100.wav", "--out", tmp_path / "codes.csv")
    assert r.returncode == 0, r.stderr
    r = stimgen_cli("decode", "--model", "vowels", "--latents", tmp_path / "codes.csv", "--f0", 150,
                    "--out", tmp_path / "d")
    assert r.returncode == 0, r.stderr
    assert pd.read_csv(tmp_path / "d" / "manifest.csv")["f0_hz"].iloc[0] == pytest.approx(150.0, abs=2.0)
    r = stimgen_cli("decode", "--model", "vowels", "--latents", tmp_path / "codes.csv", "--f0", "a",
                    "--out", tmp_path / "d2")
    assert_one_error_line(r, "--f0 must be a number of Hz, got 'a'")
