import hashlib

import numpy as np
import pandas as pd
import pytest
from conftest import tone
from PIL import Image

import stimgen.data
from stimgen.data import folder
from stimgen.errors import StimgenError
from stimgen.signal.audio import save_wav
from stimgen.signal.spectrogram import SpectrogramConfig


def digest(root):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(root.iterdir())}


def test_digits_build_writes_files_labels_meta_and_preview(tmp_path):
    ds = stimgen.data.build("digits", tmp_path / "d", n=30, seed=1, size=32)
    assert len(ds) == 30 and ds.medium == "image"
    labels = pd.read_csv(tmp_path / "d" / "labels.csv")
    assert list(labels.columns) == ["file", "digit"] and len(labels) == 30
    assert all((tmp_path / "d" / f).exists() for f in labels["file"])
    images = ds.images()
    assert images.shape == (30, 32, 32) and 0.0 <= images.min() and images.max() <= 1.0
    assert ds.meta["settings"]["seed"] == 1 and ds.meta["stimgen_version"] == stimgen.__version__
    with Image.open(tmp_path / "d" / "preview.png") as im:
        assert im.width > 400 and im.height > 200


def test_builds_are_deterministic_and_seed_dependent(tmp_path, monkeypatch):
    first = digest(stimgen.data.build("digits", tmp_path / "a", n=20, seed=5).root)
    monkeypatch.setenv("STIMGEN_CACHE", str(tmp_path / "other-cache"))  # rebuilt from scratch
    second = digest(stimgen.data.build("digits", tmp_path / "b", n=20, seed=5).root)
    assert first == second
    third = digest(stimgen.data.build("digits", tmp_path / "c", n=20, seed=6).root)
    assert third["labels.csv"] != first["labels.csv"]


def test_build_never_overwrites_without_force(tmp_path):
    stimgen.data.build("digits", tmp_path / "d", n=10)
    with pytest.raises(StimgenError, match="--force"):
        stimgen.data.build("digits", tmp_path / "d", n=10)
    stimgen.data.build("digits", tmp_path / "d", n=12, force=True)
    assert len(stimgen.data.open_folder(tmp_path / "d")) == 12
    (tmp_path / "d" / "mine.txt").write_text("mine")  # now the folder is not stimgen's alone
    with pytest.raises(StimgenError, match="stimgen did not write"):
        stimgen.data.build("digits", tmp_path / "d", n=12, force=True)
    assert (tmp_path / "d" / "mine.txt").read_text() == "mine"


def make_recordings(root):
    """A user's folder: mixed rates, lengths, formats and a subfolder, with labels."""
    root.mkdir()
    save_wav(root / "a.wav", tone(500, 44100, 0.3), 44100)
    save_wav(root / "b.wav", tone(1500, 16000, 1.2, amp=0.05), 16000)
    (root / "sub").mkdir()
    save_wav(root / "sub" / "c.wav", tone(3000, 22050, 0.1), 22050)
    pd.DataFrame({"file": ["a.wav", "sub/c.wav"], "note": ["low", "high"], "f0": [500, 3000]}).to_csv(
        root / "labels.csv", index=False)


def test_folder_of_recordings_any_rate_and_length(tmp_path):
    make_recordings(tmp_path / "rec")
    ds = stimgen.data.open_folder(tmp_path / "rec")
    assert ds.medium == "audio" and ds.files == ["a.wav", "b.wav", "sub/c.wav"]
    assert ds.labels["note"].tolist()[0] == "low" and pd.isna(ds.labels["note"][1])
    config = SpectrogramConfig.preset("vowels")
    specs = ds.spectrograms(config)
    assert specs.shape == (3, *config.shape)
    rows = specs[:, :, config.n_frames // 2].argmax(axis=1)
    assert rows[0] < rows[1] < rows[2]  # 500 Hz, 1500 Hz, 3000 Hz in rising mel rows
    text = stimgen.data.summarize(ds)
    assert "3 audio files" in text and "16000 Hz (1)" in text and "44100 Hz (1)" in text
    assert "note: high (1), low (1), 1 missing" in text


@pytest.mark.parametrize(
    "setup, message",
    [
        (lambda r: None, "holds no audio"),
        (lambda r: (save_wav(r / "a.wav", tone(), 16000), Image.new("L", (4, 4)).save(r / "b.png")), "mixes audio"),
        (lambda r: (save_wav(r / "a.wav", tone(), 16000), (r / "labels.csv").write_text("name,x\na.wav,1\n")),
         "needs a 'file' column"),
        (lambda r: (save_wav(r / "a.wav", tone(), 16000), (r / "labels.csv").write_text("file,x\nz.wav,1\n")),
         "not in the folder, e.g. 'z.wav'"),
    ],
)
def test_bad_folders(tmp_path, setup, message):
    root = tmp_path / "bad"
    root.mkdir()
    setup(root)
    with pytest.raises(StimgenError, match=message):
        stimgen.data.open_folder(root)


def test_unreadable_file_in_a_folder_is_named(tmp_path):
    root = tmp_path / "rec"
    root.mkdir()
    save_wav(root / "a.wav", tone(), 16000)
    (root / "broken.wav").write_bytes(b"RIFF0000WAVEjunk")
    ds = stimgen.data.open_folder(root)
    with pytest.raises(StimgenError, match=r"broken\.wav: not an audio file"):
        ds.spectrograms(SpectrogramConfig())


def test_images_of_mixed_sizes_need_a_size(tmp_path):
    root = tmp_path / "img"
    root.mkdir()
    Image.new("L", (8, 8)).save(root / "a.png")
    Image.new("RGB", (16, 10)).save(root / "b.png")
    ds = stimgen.data.open_folder(root)
    with pytest.raises(StimgenError, match="different sizes"):
        ds.images()
    assert ds.images(size=12, mode="rgb").shape == (2, 12, 12, 3)


def test_content_hash_changes_with_a_file_or_a_label(tmp_path):
    make_recordings(tmp_path / "rec")
    before = stimgen.data.open_folder(tmp_path / "rec").content_hash()
    assert before == stimgen.data.open_folder(tmp_path / "rec").content_hash()
    pd.DataFrame({"file": ["a.wav"], "note": ["LOW"]}).to_csv(tmp_path / "rec" / "labels.csv", index=False)
    assert stimgen.data.open_folder(tmp_path / "rec").content_hash() != before


def test_builtin_names_match_the_registry():
    from stimgen.data.builtin import BUILTINS

    assert set(stimgen.data.BUILTIN_NAMES) == set(BUILTINS)
    assert folder.PREVIEW_FILE == "preview.png"


@pytest.mark.parametrize("name, n, label", [("vowels", 20, "vowel"), ("birdsong", 12, "family")])
def test_audio_builds_are_levelled_wavs_that_fit_their_spectrogram(tmp_path, name, n, label):
    import soundfile as sf

    from stimgen.signal.audio import rms_dbfs

    ds = stimgen.data.build(name, tmp_path / name, n=n, seed=3)
    assert len(ds) == n and ds.meta["label_column"] == label
    config = SpectrogramConfig.from_dict(ds.meta["spectrogram"])
    assert config == SpectrogramConfig.preset(name)
    for i in range(n):
        y, sr = sf.read(ds.path(i), dtype="float32")
        assert sr == config.sample_rate and sf.info(ds.path(i)).subtype == "PCM_16"
        assert len(y) <= config.n_samples  # nothing is cropped away by the model's window
        assert rms_dbfs(y) <= -20.0 + 0.05 and np.max(np.abs(y)) <= 10 ** (-1 / 20) + 1e-3
    assert ds.labels[label].notna().all()
    specs = ds.spectrograms(config)
    assert specs.shape == (n, *config.shape) and 0.85 < np.median(specs.max(axis=(1, 2))) < 1.0
