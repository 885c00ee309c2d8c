"""Awkward input files through the real command: 16-bit images, stereo that cancels, sounds too short."""


import numpy as np
import pandas as pd
import pytest
import soundfile as sf
from conftest import stimgen_cli
from PIL import Image

from stimgen.data.vowels import mean_vowel
from stimgen.signal.audio import save_wav


def warning_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("stimgen: warning:")]


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("inputs")
    save_wav(folder / "a.wav", mean_vowel("aa", "man", f0=120.0, duration=1.0, rng=2), 22050)
    i = mean_vowel("iy", "man", f0=120.0, duration=1.0, rng=2)
    sf.write(folder / "antiphase.wav", np.stack([i, -0.9 * i], axis=1), 22050, subtype="PCM_16")
    sf.write(folder / "silent-stereo.wav", np.zeros((22050, 2), dtype=np.float32), 22050, subtype="PCM_16")
    save_wav(folder / "short.wav", 0.3 * np.sin(np.arange(20) / 3.0).astype(np.float32), 16000)
    # a digit-like ring, 64 x 64 (the digits model resizes it to 32 x 32), at 8 and at 16 bits
    yy, xx = np.mgrid[:64, :64]
    ring = np.round(np.clip(1 - np.abs(np.hypot(yy - 32, xx - 32) - 18) / 5, 0, 1) * 255).astype(np.uint8)
    Image.fromarray(ring).save(folder / "ring8.png")
    Image.fromarray(ring.astype(np.uint16) * 257).save(folder / "ring16.png")  # the same intensities, 16 bits
    Image.fromarray(np.full((64, 64), 255, dtype=np.uint8)).save(folder / "white.png")
    return folder


def test_16_bit_png_encodes_as_its_8_bit_twin(inputs, tmp_path):
    assert (inputs / "ring16.png").read_bytes()[24] == 16  # the PNG header's bit depth
    out = tmp_path / "codes.csv"
    result = stimgen_cli("encode", "--model", "digits", inputs / "ring8.png", inputs / "ring16.png",
                         inputs / "white.png", "--out", out)
    assert result.returncode == 0, result.stderr
    z = pd.read_csv(out).filter(regex=r"^z\d+$").to_numpy()
    eight, sixteen, white = z
    # read as 16 bits, not clipped at 255 of 65535 (all white): the codes agree to well under 1% of their size
    assert np.linalg.norm(sixteen - eight) < 0.01 * np.linalg.norm(eight)
    assert np.linalg.norm(white - eight) > 0.5 * np.linalg.norm(eight)  # the test can tell white from the ring


def test_stereo_that_cancels_gives_one_warning_line_and_a_continuum(inputs, tmp_path):
    out = tmp_path / "X"
    result = stimgen_cli("continuum", "--a", inputs / "antiphase.wav", "--b", inputs / "a.wav", "--steps", 3,
                         "--spacing", "linear", "--out", out)
    assert result.returncode == 0, result.stderr
    channels = [line for line in warning_lines(result.stderr)  # files are 0.73 s long; how near the ends came and
                if "window" not in line and "the continuum's" not in line  # how even the path is are said apart
                and "the path is uneven" not in line]  # (tests/test_ends.py)
    assert channels == [
        f"stimgen: warning: {inputs / 'antiphase.wav'}: channels cancel when averaged to mono (the average is "
        f"26.0 dB below the loudest channel); used channel 1 (left) alone"]
    assert result.stderr.strip().splitlines() == warning_lines(result.stderr)  # no source line, no traceback
    assert len(pd.read_csv(out / "manifest.csv")) == 3


def test_silent_stereo_is_still_all_silence(inputs, tmp_path):
    result = stimgen_cli("continuum", "--a", inputs / "silent-stereo.wav", "--b", inputs / "a.wav", "--out",
                         tmp_path / "X")
    assert result.returncode == 2
    assert result.stderr.strip() == f"stimgen: error: {inputs / 'silent-stereo.wav'}: is all silence"


def test_a_sound_too_short_is_refused_in_milliseconds(inputs, tmp_path):
    parent = tmp_path / "results"
    parent.mkdir()
    result = stimgen_cli("continuum", "--a", inputs / "short.wav", "--b", inputs / "a.wav", "--out", parent / "X")
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert lines == [f"stimgen: error: {inputs / 'short.wav'}: lasts 1.25 ms (20 samples at 16000 Hz); "
                     "the model needs at least 25 ms"]
    assert "short.wav:" in lines[0] and " ms" in lines[0] and "Traceback" not in result.stderr
    assert list(parent.iterdir()) == []
