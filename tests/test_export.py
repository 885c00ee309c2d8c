"""What the morph verbs write: calibrated WAVs, manifests PsychoPy loads, provenance, and refusals."""

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile as sf
from conftest import check_psychopy_manifest, stimgen_cli
from PIL import Image

from stimgen import load_model
from stimgen.data.vowels import mean_vowel
from stimgen.errors import StimgenError
from stimgen.export import export
from stimgen.morph import Domain, RenderSettings, continuum
from stimgen.outputs import file_sha256
from stimgen.signal.audio import peak_dbfs, rms_dbfs, save_wav
from stimgen.signal.spectrogram import load_spectrogram

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("inputs")
    for name, code in (("i", "iy"), ("a", "aa"), ("u", "uw"), ("eh", "eh")):
        save_wav(folder / f"{name}.wav", mean_vowel(code, "man", f0=120.0, duration=1.0, rng=2), 22050)
    save_wav(folder / "silent.wav", np.zeros(16000, dtype=np.float32), 16000)
    (folder / "broken.wav").write_bytes(b"RIFF....WAVEfmt nonsense")
    Image.fromarray(np.zeros((28, 28), dtype=np.uint8)).save(folder / "blank.png")
    ring = np.zeros((32, 32), dtype=np.uint8)
    yy, xx = np.mgrid[:32, :32]
    ring[np.abs(np.hypot(yy - 16, xx - 16) - 9) < 2.5] = 255
    Image.fromarray(ring).save(folder / "ring.png")
    bar = np.zeros((32, 32), dtype=np.uint8)
    bar[4:28, 14:18] = 255
    Image.fromarray(bar).save(folder / "bar.png")
    return folder


@pytest.fixture(scope="module")
def continuum_dir(tmp_path_factory, inputs):
    out = tmp_path_factory.mktemp("cli") / "i-a"
    result = stimgen_cli("continuum", "--a", inputs / "i.wav", "--b", inputs / "a.wav", "--steps", 7, "--out", out)
    assert result.returncode == 0, result.stderr
    return out


def test_continuum_wavs_are_calibrated(continuum_dir):
    manifest = pd.read_csv(continuum_dir / "manifest.csv")
    assert len(manifest) == 7 and list(manifest["step"]) == list(range(7))
    lengths = set()
    for file in manifest["stim_file"]:
        info = sf.info(continuum_dir / file)
        assert (info.samplerate, info.channels, info.subtype, info.format) == (48000, 1, "PCM_16", "WAV")
        y, _ = sf.read(continuum_dir / file, dtype="float32")
        lengths.add(len(y))
        assert rms_dbfs(y) == pytest.approx(-20.0, abs=0.05)
        assert peak_dbfs(y) <= -1.0
        assert abs(y[0]) < 1e-3 and abs(y[-1]) < 1e-3  # the on and off ramps are in the file
        ramp = np.abs(y[:480])  # 10 ms at 48 kHz: rises from silence
        assert ramp[:48].max() < ramp[-48:].max()
    assert lengths == {round(0.504 * 48000)}


def test_manifest_columns_hashes_and_distances_match_the_files(continuum_dir, inputs, tmp_path):
    manifest = pd.read_csv(continuum_dir / "manifest.csv")
    for column in ("stim_file", "step", "morph_level", "latent_t", "endpoint_a", "endpoint_b", "duration_s",
                   "rms_dbfs", "peak_dbfs", "f0_hz", "f1_hz", "f2_hz", "distance_prev", "spectrogram_file", "sha256"):
        assert column in manifest.columns
    np.testing.assert_allclose(manifest["morph_level"], np.linspace(0, 1, 7), atol=1e-4)
    assert manifest["endpoint_a"].iloc[0] == "i.wav" and manifest["endpoint_b"].iloc[0] == "a.wav"
    assert [file_sha256(continuum_dir / f) for f in manifest["stim_file"]] == list(manifest["sha256"])
    # the distances are measured on the written files, in the continuum's metric: for speech by
    # default (F1, F2) in Bark, as the manifest's own columns give them
    assert json.loads((continuum_dir / "manifest.json").read_text())["metric"] == {"name": "formants", "unit": "Bark"}
    bark = manifest[["f1_bark", "f2_bark"]].to_numpy()
    np.testing.assert_allclose(manifest["distance_prev"].iloc[1:], np.linalg.norm(np.diff(bark, axis=0), axis=1),
                               atol=2e-4)  # the Bark columns are rounded to 4 decimals
    assert np.isnan(manifest["distance_prev"].iloc[0])
    # with --metric spectral: the log-mel distance between the written files' spectrograms
    model = load_model("vowels")
    export(continuum(model, inputs / "i.wav", inputs / "a.wav", steps=3, metric="spectral"), tmp_path / "log-mel")
    written = pd.read_csv(tmp_path / "log-mel" / "manifest.csv")
    spectra = np.stack([load_spectrogram(tmp_path / "log-mel" / f, Domain(model).representation.spectrogram)
                        for f in written["stim_file"]])
    d = np.sqrt(np.mean(((spectra[1:] - spectra[:-1]) * 80.0) ** 2, axis=(1, 2)))
    np.testing.assert_allclose(written["distance_prev"].iloc[1:], d, rtol=1e-4)
    # F1 of /i/ is low and of /a/ high, as measured by Praat on the files
    assert manifest["f1_hz"].iloc[0] < 400 < 550 < manifest["f1_hz"].iloc[-1]


def test_manifest_json_records_provenance_and_preload(continuum_dir):
    info = json.loads((continuum_dir / "manifest.json").read_text())
    model = load_model("vowels")
    assert info["model"] == {"name": "vowels", "sha256": model.info["model_sha256"], "representation": "mel-world"}
    assert info["verb"] == "continuum" and info["medium"] == "audio" and info["format"] == 2
    assert info["settings"]["f0"] == "interpolate"   # the voice's F0 policy, the continuum's default
    assert info["command"].startswith("stimgen continuum --a ")
    assert info["seed"] == 0 and info["settings"]["steps"] == 7 and info["settings"]["spacing"] == "equal"
    assert info["render"] == {"sr": 48000, "level_dbfs": -20.0, "ramp_ms": 10.0, "max_peak_dbfs": -1.0}
    assert [i["file"] for i in info["inputs"]] == ["i.wav", "a.wav"]
    assert info["preload"]["audio"] == [row["stim_file"] for row in info["stimuli"]]
    assert len(info["stimuli"][3]["z"]) == model.latent_dim
    assert info["stimuli"][0]["distance_prev"] is None  # JSON null, not NaN


def test_manifest_loads_in_psychopy_and_the_2afc_example_builds_its_trials(continuum_dir):
    rows = check_psychopy_manifest(continuum_dir / "manifest.csv")
    assert [r["step"] for r in rows] == list(range(7))
    sys.path.insert(0, str(REPO / "experiments"))
    try:
        from psychopy_2afc import load_trials
    finally:
        sys.path.remove(str(REPO / "experiments"))
    trials = load_trials(continuum_dir, reps=3, seed=1)
    files = [trial["stim_file"] for trial in trials]
    assert len(files) == 21 and all(Path(f).is_file() for f in files)
    assert sorted(set(files)) == sorted(str(continuum_dir.resolve() / r["stim_file"]) for r in rows)


def test_same_seed_same_bytes_other_seed_other_phase(tmp_path, inputs):
    """Griffin-Lim (the birdsong model) starts a continuum's steps from its files' phases and a
    sound from no file from a random phase that follows the seed; WORLD's synthesis (the vowel
    model, mel-world) has none. So continua are the same bytes whatever the seed, and a sound
    decoded from a code alone changes with it."""
    runs = {}
    for model_name in ("birdsong", "vowels"):
        model = load_model(model_name)
        for name, seed in (("one", 3), ("two", 3), ("three", 4)):
            # a vowel is no birdsong: the birdsong model's syllable search finds several in it, so its window is given
            onset = 0.2 if model_name == "birdsong" else None
            c = continuum(model, inputs / "i.wav", inputs / "u.wav", steps=3, spacing="linear", seed=seed, onset=onset)
            out = export(c, tmp_path / model_name / name, RenderSettings(sr=44100, level_dbfs=-26.0, ramp_ms=5.0))
            runs[model_name, name] = [(out / "stimuli" / f"step_{k:02d}.wav").read_bytes() for k in range(3)]
    assert runs["birdsong", "one"] == runs["birdsong", "two"] == runs["birdsong", "three"]
    assert runs["vowels", "one"] == runs["vowels", "two"] == runs["vowels", "three"]
    y, sr = sf.read(tmp_path / "vowels" / "three" / "stimuli" / "step_01.wav")
    assert sr == 44100 and rms_dbfs(y) == pytest.approx(-26.0, abs=0.05)
    domain = Domain(load_model("birdsong"))
    rep, item = domain.representation, domain.decode(np.zeros((1, domain.model.latent_dim)))
    three, again, four = (rep.model_audio(rep.plan(item), seed=seed)[0] for seed in (3, 3, 4))
    assert np.array_equal(three, again) and not np.array_equal(three, four)


def test_original_endpoints_keep_the_input_sounds(tmp_path, inputs):
    out = tmp_path / "orig"
    result = stimgen_cli("continuum", "--a", inputs / "i.wav", "--b", inputs / "a.wav", "--steps", 3,
                         "--spacing", "linear", "--endpoints", "original", "--out", out)
    assert result.returncode == 0, result.stderr
    first, _ = sf.read(out / "stimuli" / "step_00.wav", dtype="float32")
    source, _ = sf.read(inputs / "i.wav", dtype="float32")
    # the input's own waveform (the window of its voiced stretch that manifest.json records, 22.05 -> 48
    # kHz): its F0 contour survives, phases and all
    from stimgen.signal.audio import fix_duration, resample

    window = json.loads((out / "manifest.json").read_text())["inputs"][0]
    assert window["file"] == "i.wav" and window["offset_s"] - window["onset_s"] == pytest.approx(0.504, abs=1e-3)
    cut = source[round(window["onset_s"] * 22050): round(window["offset_s"] * 22050)]
    expected = fix_duration(resample(cut, 22050, 48000), 48000, 0.504)
    corr = np.corrcoef(first[2000:-2000], expected[2000:-2000])[0, 1]
    assert corr > 0.99


def test_edit_reports_requested_and_measured_change(tmp_path, inputs):
    vectors = tmp_path / "vectors.json"
    fit = stimgen_cli("attributes", "fit", "--model", "vowels", "--columns", "F1,F2,F0,sex", "--out", vectors)
    assert fit.returncode == 0, fit.stderr
    info = json.loads(vectors.read_text())
    trained_on = load_model("vowels").info["data"]["count"]  # the codes of every item it was trained on
    assert set(info["vectors"]) == {"f1", "f2", "f0", "sex=m"} and info["n"] == trained_on
    assert info["model_sha256"] == load_model("vowels").info["model_sha256"] and len(info["r2"]) == 32
    out = tmp_path / "edit"
    result = stimgen_cli("edit", "--model", "vowels", "--input", inputs / "eh.wav", "--vectors", vectors,
                         "--attribute", "F1", "--values", "-200,-100,0,100,200", "--out", out)
    assert result.returncode == 0, result.stderr
    manifest = pd.read_csv(out / "manifest.csv")
    assert list(manifest["requested_change"]) == [-200, -100, 0, 100, 200]
    assert (manifest["attribute"] == "f1").all()
    # calibrated (the default): F1 measured by Praat on the written files moves by what was asked
    np.testing.assert_allclose(manifest["measured_change"], manifest["requested_change"], atol=30)
    curve = json.loads((out / "manifest.json").read_text())["settings"]["calibration_curve"]
    assert len(curve["steps"]) == len(curve["measured_change"]) == 41
    # the vector's own linear estimate moves F1 the same way, by less (docs/results/calibration.md)
    raw = stimgen_cli("edit", "--model", "vowels", "--input", inputs / "eh.wav", "--vectors", vectors, "--attribute",
                      "F1", "--values", "-200,0,200", "--no-calibrate", "--out", tmp_path / "raw")
    assert raw.returncode == 0, raw.stderr
    raw_change = pd.read_csv(tmp_path / "raw" / "manifest.csv")["measured_change"].to_numpy()
    assert raw_change[0] < raw_change[1] < raw_change[2]
    assert list(pd.read_csv(tmp_path / "raw" / "manifest.csv")["latent_offset"]) == [-200, 0, 200]
    # a change the model cannot reach is refused, with the range it can
    far = stimgen_cli("edit", "--model", "vowels", "--input", inputs / "u.wav", "--vectors", vectors, "--attribute",
                      "F1", "--values", "-250", "--out", tmp_path / "far")
    assert far.returncode == 2 and "does not reach a change of -250" in far.stderr and not (tmp_path / "far").exists()


def test_grid_encode_decode_through_the_command_line(tmp_path, inputs):
    g = stimgen_cli("grid", "--anchors", f"{inputs / 'i.wav'},{inputs / 'a.wav'},{inputs / 'u.wav'}", "--steps", 3,
                    "--out", tmp_path / "grid")
    assert g.returncode == 0, g.stderr
    manifest = pd.read_csv(tmp_path / "grid" / "manifest.csv")
    assert len(manifest) == 6 and {"grid_u", "grid_v", "weight_a", "weight_b", "weight_c"} <= set(manifest.columns)
    enc = stimgen_cli("encode", inputs / "i.wav", inputs / "u.wav", "--out", tmp_path / "codes.csv")
    assert enc.returncode == 0, enc.stderr
    codes = pd.read_csv(tmp_path / "codes.csv")
    assert codes.shape == (2, 36) and (codes["offset_s"] - codes["onset_s"]).round(3).tolist() == [0.504, 0.504]
    assert json.loads((tmp_path / "codes.csv.json").read_text())["model"]["name"] == "vowels"
    dec = stimgen_cli("decode", "--model", "vowels", "--latents", tmp_path / "codes.csv", "--out", tmp_path / "dec")
    assert dec.returncode == 0, dec.stderr
    decoded = pd.read_csv(tmp_path / "dec" / "manifest.csv")
    assert list(decoded["source_file"]) == list(codes["file"])


def _centre(image: np.ndarray, rgb: tuple[int, int, int]) -> np.ndarray:
    """The mean (x, y) of the pixels of exactly this colour."""
    ys, xs = np.nonzero((image == np.array(rgb)).all(axis=2))
    assert xs.size, f"no pixel of {rgb}"
    return np.array([xs.mean(), ys.mean()])


def test_a_speech_continuum_draws_its_steps_and_files_in_the_vowel_plane(continuum_dir):
    from stimgen.preview import FIRST_RGB, LAST_RGB

    manifest = pd.read_csv(continuum_dir / "manifest.csv")
    f1, f2 = manifest["f1_hz"].to_numpy(), manifest["f2_hz"].to_numpy()
    assert f2[0] > f2[-1] and f1[0] < f1[-1]
    with Image.open(continuum_dir / "formants.png") as im:
        image = np.asarray(im.convert("RGB"))
    first, last = _centre(image, FIRST_RGB), _centre(image, LAST_RGB)
    # the phonetician's plane: /i/ (high F2, low F1) at the upper left, /a/ at the lower right
    assert first[0] < last[0] and first[1] < last[1]


def test_the_vowel_plane_leaves_out_what_praat_did_not_measure(tmp_path):
    from stimgen.preview import FIRST_RGB, LAST_RGB, draw_vowel_plane

    f1, f2 = [300.0, 500.0, 700.0], [2200.0, 1600.0, 1100.0]
    draw_vowel_plane(tmp_path / "all.png", f1, f2, ["0", "1", "2"])
    draw_vowel_plane(tmp_path / "gap.png", f1[:2] + [float("nan")], f2, ["0", "1", "2"])
    with Image.open(tmp_path / "all.png") as a, Image.open(tmp_path / "gap.png") as b:
        whole, gap = np.asarray(a.convert("RGB")), np.asarray(b.convert("RGB"))
    assert (whole == np.array(LAST_RGB)).all(axis=2).any()
    assert not (gap == np.array(LAST_RGB)).all(axis=2).any()  # the unmeasured last step is not drawn
    assert (gap == np.array(FIRST_RGB)).all(axis=2).any()
    with pytest.raises(StimgenError, match="no stimulus has a measured F1 and F2"):
        draw_vowel_plane(tmp_path / "none.png", [float("nan")], [1000.0], ["0"])


def test_image_continuum_writes_pngs(tmp_path, inputs):
    out = tmp_path / "img"
    result = stimgen_cli("continuum", "--a", inputs / "ring.png", "--b", inputs / "bar.png", "--steps", 5, "--out", out)
    assert result.returncode == 0, result.stderr
    manifest = pd.read_csv(out / "manifest.csv")
    assert "mean_intensity" in manifest.columns and "spectrogram_file" not in manifest.columns
    with Image.open(out / manifest["stim_file"].iloc[2]) as im:
        assert im.size == (32, 32) and im.mode == "L"
    assert json.loads((out / "manifest.json").read_text())["preload"]["images"] == list(manifest["stim_file"])
    assert (out / "sheet.png").is_file() and not (out / "formants.png").exists()


def test_demo_writes_a_continuum_vectors_and_an_edit(tmp_path):
    result = stimgen_cli("demo", "--out", tmp_path / "demo")
    assert result.returncode == 0, result.stderr
    root = tmp_path / "demo"
    for path in ("README.md", "vectors.json", "inputs/i.wav", "continuum_i_a/manifest.csv", "continuum_i_a/sheet.png",
                 "edit_F1/manifest.csv", "edit_F1/manifest.json"):
        assert (root / path).is_file(), path
    assert len(pd.read_csv(root / "continuum_i_a" / "manifest.csv")) == 11
    info = json.loads((root / "edit_F1" / "manifest.json").read_text())
    assert info["settings"]["input"] == "inputs/eh.wav" and info["settings"]["vectors_file"] == "vectors.json"
    assert "| +200 |" in (root / "README.md").read_text()


# --- bad input ---------------------------------------------------------------------------------------
BAD = [
    (["continuum", "--a", "{in}/nothing.wav", "--b", "{in}/a.wav"], "nothing.wav: no such file"),
    (["continuum", "--a", "{in}/broken.wav", "--b", "{in}/a.wav"], "broken.wav: not an audio file"),
    (["continuum", "--a", "{in}/i.wav", "--b", "{in}/silent.wav"], "silent.wav: is all silence"),
    (["continuum", "--a", "{in}/i.wav", "--b", "{in}/blank.png"],
     "blank.png: is an image, but model 'vowels' makes sounds"),
    (["continuum", "--a", "{in}/ring.png", "--b", "{in}/i.wav"], "i.wav: is a sound, but model 'digits' makes images"),
    (["continuum", "--a", "{in}/i.wav", "--b", "{in}/a.wav", "--steps", "1"], "at least 2 steps"),
    (["continuum", "--a", "{in}/i.wav", "--b", "{in}/a.wav", "--level", "-0.5"], "level must lie between"),
    (["edit", "--model", "vowels", "--input", "{in}/eh.wav", "--vectors", "{in}/foreign.json", "--attribute", "f1",
      "--values", "0,100"], "foreign.json: vectors were fitted on another model"),
    (["edit", "--model", "vowels", "--input", "{in}/eh.wav", "--vectors", "{in}/foreign.json", "--attribute", "f1",
      "--values", "a,b"], "--values must be comma-separated numbers"),
    (["grid", "--anchors", "{in}/i.wav,{in}/a.wav", "--steps", "3"], "3 or 4 anchors"),
]


@pytest.mark.parametrize("args, message", BAD)
def test_bad_input_is_one_line_exit_2_and_no_output(tmp_path, inputs, args, message):
    (inputs / "foreign.json").write_text(json.dumps({"model_sha256": "f" * 64, "method": "ols", "columns": ["f1"],
                                                     "n": 10, "vectors": {"f1": [0.0] * 32}, "intercept": [0.0] * 32,
                                                     "r2": [0.0] * 32}))
    out = tmp_path / "out"
    result = stimgen_cli(*[a.replace("{in}", str(inputs)) for a in args], "--out", out)
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1 and message in result.stderr and "Traceback" not in result.stderr
    assert not out.exists() and list(tmp_path.iterdir()) == []  # no folder, no temporary folder left


def test_existing_output_needs_force_and_must_be_stimgens(tmp_path, inputs):
    out = tmp_path / "out"
    args = ["continuum", "--a", inputs / "i.wav", "--b", inputs / "a.wav", "--steps", 2, "--spacing", "linear",
            "--out", out]
    assert stimgen_cli(*args).returncode == 0
    result = stimgen_cli(*args)
    assert result.returncode == 2 and "already exists; pass --force" in result.stderr
    first = (out / "manifest.csv").read_text()
    assert stimgen_cli(*args, "--force").returncode == 0 and (out / "manifest.csv").read_text() == first
    (out / "keep.txt").write_text("mine")
    result = stimgen_cli(*args, "--force")
    assert result.returncode == 2 and "stimgen did not write (e.g. keep.txt)" in result.stderr
    assert (out / "keep.txt").read_text() == "mine"


def test_birdsong_continuum_uses_the_model_window_and_a_bird_pitch_range(tmp_path):
    from stimgen.data import build

    ds = build("birdsong", tmp_path / "songs", n=6, seed=3)
    a, b = (ds.root / ds.labels["file"].iloc[i] for i in (0, 1))
    c = continuum(load_model("birdsong"), a, b, steps=3, spacing="linear")
    out = export(c, tmp_path / "morph", RenderSettings(sr=44100))
    manifest = pd.read_csv(out / "manifest.csv")
    assert np.allclose(manifest["duration_s"], round(0.252 * 44100) / 44100)
    # Praat searches 250-2500 Hz for birds (60-600 Hz is for voices)
    assert c.domain.representation.pitch_range == (250.0, 2500.0)
    f0 = manifest["f0_hz"].dropna()
    assert len(f0) > 0 and f0.between(250, 2500).all()
