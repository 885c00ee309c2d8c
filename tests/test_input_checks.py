"""Inputs checked before the work, through the real command (issue 21, items 7-10): long files
cropped by attributes fit are said as train says them, an F0 outside the model's pitch range is
refused, a truncated sound file is refused, and train refuses an unreadable file with the line the
other verbs give. Every refusal is one line naming the file, writes nothing and changes no input."""

import hashlib
import json
import struct
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile as sf
from conftest import assert_one_error_line, stimgen_cli
from PIL import Image

from stimgen.data.vowels import mean_vowel
from stimgen.errors import StimgenError
from stimgen.signal.audio import load_audio, save_wav

#: Peterson & Barney's mean F1 of a man's vowels (Hz), the labels attributes fit is given.
F1 = {"iy": 270, "ih": 390, "eh": 530, "ae": 660, "aa": 730, "uw": 300}
#: Training settings small enough for a step in a few seconds.
TRAIN = ["train", "--steps", "1", "--batch-size", "2", "--latent-dim", "4", "--width", "4", "--size", "16"]


@pytest.fixture(scope="module")
def short(tmp_path_factory):
    """A man's /i/ and /ɑ/ (i.wav, a.wav) at 120 Hz, 0.45 s at 16 kHz: within the vowels model's window."""
    folder = tmp_path_factory.mktemp("short")
    for name, code in (("i", "iy"), ("a", "aa")):
        save_wav(folder / f"{name}.wav", mean_vowel(code, "man", f0=120.0, duration=0.45, rng=1), 16000)
    return folder


def snapshot(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` by relative path, with its sha256."""
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def vowel_folder(folder: Path, seconds: float) -> Path:
    """Six of a man's vowels of ``seconds`` at 16 kHz, F0 120 Hz, with their F1 in labels.csv."""
    folder.mkdir()
    for code in F1:
        save_wav(folder / f"{code}.wav", mean_vowel(code, "man", f0=120.0, duration=seconds, rng=1), 16000)
    pd.DataFrame({"file": [f"{c}.wav" for c in F1], "F1": list(F1.values())}).to_csv(folder / "labels.csv",
                                                                                    index=False)
    return folder


def truncated(path: Path, keep: float = 0.5) -> Path:
    """``path`` cut to its header and ``keep`` of the rest (as a copy interrupted half-way)."""
    data = path.read_bytes()
    header = data.index(b"data") + 8 if data[:4] == b"RIFF" else data.index(b"SSND") + 16
    path.write_bytes(data[: header + int((len(data) - header) * keep)])
    return path


def error_line(result) -> str:
    """The one error line of a refused command, without the prefix."""
    assert_one_error_line(result)
    return result.stderr.strip().removeprefix("stimgen: error: ")


# --- item 7: attributes fit says that it crops long files, as train does -------------------------


def test_attributes_fit_says_that_it_crops_long_files_as_train_does(tmp_path):
    data = vowel_folder(tmp_path / "long", 1.0)  # the vowels model's window is 0.50 s
    before = snapshot(data)
    result = stimgen_cli("attributes", "fit", "--model", "vowels", "--data", data, "--columns", "F1",
                         "--out", tmp_path / "v.json")
    assert result.returncode == 0, result.stderr
    warned = [line for line in result.stderr.splitlines() if line.startswith("stimgen: warning: ")]
    assert warned == [f"stimgen: warning: {data}: 6 of 6 files (e.g. aa.wav) are longer than the model's 0.50 s "
                      "window and are cropped to their middle for fitting the vectors; cut them into units first "
                      "with `stimgen data segment`"]
    assert list(json.loads((tmp_path / "v.json").read_text())["vectors"]) == ["F1"]
    trained = stimgen_cli(*TRAIN, "--data", data, "--out", tmp_path / "run")
    assert trained.returncode == 0, trained.stderr
    said = [line for line in trained.stderr.splitlines() if "are longer than the model's" in line]
    assert len(said) == 1 and said[0].endswith("are cropped to their middle for training; cut them into units "
                                               "first with `stimgen data segment`")
    assert said[0].split(" are longer ")[0] == warned[0].split(" are longer ")[0]  # the same files, counted alike
    assert snapshot(data) == before


def test_attributes_fit_says_nothing_of_files_that_fit_the_window(tmp_path):
    data = vowel_folder(tmp_path / "short", 0.5)
    result = stimgen_cli("attributes", "fit", "--model", "vowels", "--data", data, "--columns", "F1",
                         "--out", tmp_path / "v.json")
    assert result.returncode == 0, result.stderr
    assert "warning" not in result.stderr


# --- item 8: an F0 the manifest cannot measure is refused ----------------------------------------


@pytest.mark.parametrize("f0", ["2000", "40", "59.9", "600.5"])
def test_an_f0_outside_the_pitch_range_is_refused_before_any_work(tmp_path, short, f0):
    before = snapshot(short)
    result = stimgen_cli("continuum", "--model", "vowels", "--a", short / "i.wav", "--b", short / "a.wav",
                         "--steps", 3, "--f0", f0, "--out", tmp_path / "c")
    assert error_line(result) == (f"--f0 {float(f0):g} Hz is outside this model's pitch range, 60-600 Hz, in which "
                                  "the manifest measures F0")
    assert not (tmp_path / "c").exists() and list(tmp_path.iterdir()) == []
    assert snapshot(short) == before


def test_decode_refuses_an_f0_outside_the_pitch_range(tmp_path, short):
    codes = tmp_path / "codes.csv"
    assert stimgen_cli("encode", "--model", "vowels", short / "i.wav", "--out", codes).returncode == 0
    before = snapshot(tmp_path)
    result = stimgen_cli("decode", "--model", "vowels", "--latents", codes, "--f0", 2000, "--out", tmp_path / "d")
    assert_one_error_line(result, "--f0 2000 Hz is outside this model's pitch range, 60-600 Hz")
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("values, change", [("2000", "+2000"), ("-20,-70", "-70")])
def test_an_f0_edit_that_leaves_the_pitch_range_is_refused_naming_the_input(tmp_path, short, values, change):
    before = snapshot(short)  # a man's /ɑ/ at 120 Hz: +2000 Hz takes it above 600, -70 Hz below 60
    result = stimgen_cli("edit", "--model", "vowels", "--input", short / "a.wav", "--attribute", "F0",
                         "--values", values, "--out", tmp_path / "e")
    line = error_line(result)
    assert line.startswith(f"{short / 'a.wav'}: an F0 change of {change} Hz takes this voice (1")
    assert line.endswith(" Hz, outside the model's pitch range, 60-600 Hz")
    assert list(tmp_path.iterdir()) == [] and snapshot(short) == before


def test_the_ends_of_the_pitch_range_are_measured_and_formants_at_the_fundamental_are_left_empty(tmp_path, short):
    for f0 in (60, 600):
        r = stimgen_cli("continuum", "--model", "vowels", "--a", short / "i.wav", "--b", short / "a.wav",
                        "--steps", 3, "--f0", f0, "--out", tmp_path / f"c{f0}")
        assert r.returncode == 0, r.stderr
        m = pd.read_csv(tmp_path / f"c{f0}" / "manifest.csv")
        assert np.all(np.abs(m["f0_hz"] - f0) < 0.02 * f0), m["f0_hz"]  # not an octave off at the top
        record = json.loads((tmp_path / f"c{f0}" / "manifest.json").read_text())
        assert record["settings"]["measurement"]["pitch_range_hz"] == [60.0, 600.0]
        assert "fundamental" in record["settings"]["measurement"]["formants"]
        if f0 == 60:  # formants well above F0: measured, /i/'s F1 low and F2 high, /ɑ/'s the other way
            assert m["f1_hz"][0] < 400 < 550 < m["f1_hz"][2] and m["f2_hz"][0] > 1800 > 1300 > m["f2_hz"][2]
        else:  # Praat's F1 would be the 600 Hz fundamental: empty, never that number
            assert m[["f1_hz", "f2_hz", "f1_bark", "f2_bark"]].isna().all().all()
            assert all(row["f1_hz"] is None and row["f2_bark"] is None for row in record["stimuli"])


def test_a_bird_models_range_is_its_own():
    from stimgen.representations import MelWorld
    from stimgen.signal.spectrogram import SpectrogramConfig

    rep = MelWorld(SpectrogramConfig.preset("birdsong"), source="birdsong")
    assert rep.pitch_range == (250.0, 2500.0) and rep.vocoder.pitch_range == (250.0, 2500.0)
    rep.check_f0(2000.0)
    rep.check_f0(250.0)
    for hz in (200.0, 2600.0):
        with pytest.raises(StimgenError, match=r"outside this model's pitch range, 250-2500 Hz"):
            rep.check_f0(hz)


# --- item 9: a truncated sound file is refused --------------------------------------------------


@pytest.mark.parametrize("ext, subtype", [("wav", "PCM_16"), ("wav", "FLOAT"), ("aiff", "PCM_16")])
def test_a_truncated_file_is_refused_naming_it(tmp_path, short, ext, subtype):
    cut = tmp_path / "in" / f"cut.{ext}"
    cut.parent.mkdir()
    sf.write(cut, mean_vowel("iy", "man", f0=120.0, duration=0.78, rng=1), 16000, subtype=subtype)
    truncated(cut)
    before = snapshot(tmp_path / "in")
    result = stimgen_cli("continuum", "--model", "vowels", "--a", cut, "--b", short / "a.wav", "--steps", 3,
                         "--f0", 120, "--out", tmp_path / "c")
    assert error_line(result) == f"{cut}: is truncated: its header says 0.78 s, the file holds 0.39 s"
    assert not (tmp_path / "c").exists() and snapshot(tmp_path / "in") == before
    shown = stimgen_cli("data", "show", tmp_path / "in")  # from the header alone, the same line
    assert error_line(shown) == error_line(result)


def test_complete_files_with_chunks_after_the_data_or_a_streamed_size_still_load(tmp_path):
    from stimgen.signal.audio import audio_info

    y = mean_vowel("aa", "man", f0=120.0, duration=0.5, rng=1)
    save_wav(tmp_path / "a.wav", y, 16000)
    plain = (tmp_path / "a.wav").read_bytes()
    listed = plain + b"LIST" + struct.pack("<I", 4) + b"INFO"  # a chunk after the data
    (tmp_path / "listed.wav").write_bytes(listed[:4] + struct.pack("<I", len(listed) - 8) + listed[8:])
    (tmp_path / "streamed.wav").write_bytes(plain[:40] + b"\xff\xff\xff\xff" + plain[44:])  # size unknown
    for name in ("a.wav", "listed.wav", "streamed.wav"):
        assert len(load_audio(tmp_path / name)[0]) == 8000 and audio_info(tmp_path / name).frames == 8000
    truncated(tmp_path / "a.wav", keep=0.99875)  # a few frames missing are said, in digits that tell them apart
    with pytest.raises(StimgenError, match=r"a\.wav: is truncated: its header says 0\.500 s, the file holds 0\.499 s"):
        load_audio(tmp_path / "a.wav")


# --- item 10: train refuses an unreadable file with the line the other verbs give ----------------


def _unreadable(path: Path, kind: str) -> None:
    if kind == "empty":
        path.write_bytes(b"")
    elif kind == "text":
        path.write_text("file,F1\nnot audio at all\n")
    elif kind == "png":
        Image.new("L", (8, 8)).save(path, format="PNG")
    else:  # a WAV header whose data never came
        path.write_bytes(path.with_name("ih.wav").read_bytes())
        truncated(path, keep=0.0)


@pytest.mark.parametrize("kind, problem", [("empty", "not an audio file that can be read ("),
                                           ("text", "not an audio file that can be read ("),
                                           ("png", "not an audio file that can be read ("),
                                           ("header", "is truncated: its header says 0.50 s, the file holds 0.00 s")])
def test_train_refuses_an_unreadable_file_as_the_other_verbs_do(tmp_path, kind, problem):
    data = vowel_folder(tmp_path / "data", 0.5)
    _unreadable(data / "bad.wav", kind)
    before = snapshot(data)
    trained = stimgen_cli(*TRAIN, "--data", data, "--out", tmp_path / "run")
    line = error_line(trained)
    assert line.startswith(f"{data / 'bad.wav'}: {problem}")
    assert error_line(stimgen_cli("data", "show", data)) == line
    fitted = stimgen_cli("attributes", "fit", "--model", "vowels", "--data", data, "--columns", "F1",
                         "--out", tmp_path / "v.json")
    assert error_line(fitted) == line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data"] and snapshot(data) == before
