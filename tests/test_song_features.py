"""Sound Analysis Pro's song features (stimgen.signal.song_features) on sounds with known answers and
on a real Bengalese finch syllable, and birdsong stimuli levelled over their sounding part."""


import numpy as np
import pandas as pd
import pytest
from conftest import SONG

from stimgen.errors import StimgenError
from stimgen.signal.audio import apply_ramps, load_audio, normalize_rms, peak_dbfs, rms_dbfs, save_wav
from stimgen.signal.features import PITCH_RANGES
from stimgen.signal.song_features import SONG_FEATURES, song_features, sounding_samples

SR = 32000


def sweep(f_start: float, f_end: float, seconds: float = 0.1, amp: float = 0.3) -> np.ndarray:
    """A linear chirp from ``f_start`` to ``f_end`` Hz (a steady tone where they are equal)."""
    t = np.arange(int(SR * seconds)) / SR
    return amp * np.sin(2 * np.pi * (f_start * t + 0.5 * (f_end - f_start) / seconds * t**2))


def syllable(label: str) -> np.ndarray:
    """The first syllable of type ``label`` of a test song, cut at its hand labels."""
    y, sr = load_audio(SONG)
    row = pd.read_csv(SONG.with_suffix(".csv")).query("label == @label").iloc[0]
    assert sr == SR
    return y[round(row.onset_s * sr): round(row.offset_s * sr)]


def test_pure_tone_pitch_centroid_and_low_entropy():
    f = song_features(sweep(1000, 1000), SR)
    assert set(f) == set(SONG_FEATURES)
    assert f["pitch_hz"] == pytest.approx(1000, abs=1)
    assert f["spectral_centroid_hz"] == pytest.approx(1000, rel=0.02)
    assert f["wiener_entropy"] < -7  # near its minimum: all the power in one peak
    assert f["fm_hz_per_ms"] < 0.5
    assert f["sounding_rms_dbfs"] == pytest.approx(20 * np.log10(0.3 / np.sqrt(2)), abs=0.05)


def test_white_noise_entropy_near_zero():
    f = song_features(np.random.default_rng(1).normal(0, 0.1, SR // 10), SR)
    assert -0.5 < f["wiener_entropy"] <= 0  # two tapers: -0.27 expected, 0 in the limit
    assert f["spectral_centroid_hz"] == pytest.approx(SR / 4, rel=0.05)


def test_chirp_modulates_more_than_a_steady_tone():
    steady, slow, fast = (song_features(sweep(1000, 1000 + rise), SR)["fm_hz_per_ms"] for rise in (0, 1000, 2000))
    assert steady < 0.5 < 5 < slow < fast  # 10 and 20 Hz/ms sweeps
    assert fast == pytest.approx(20, rel=0.3)


def test_duration_of_a_gated_tone_in_silence():
    tone = apply_ramps(sweep(1500, 1500, seconds=0.05), SR, 5)
    y = np.concatenate([np.zeros(SR // 10), tone, np.zeros(SR // 5)])
    f = song_features(y, SR)
    assert f["sounding_s"] == pytest.approx(0.05, abs=0.008)
    assert f["sounding_rms_dbfs"] > rms_dbfs(y) + 6  # the silence counts for nothing
    assert f["am_db_per_ms"] > song_features(sweep(1500, 1500), SR)["am_db_per_ms"]  # its onset and offset
    mask = sounding_samples(y, SR)
    assert mask[SR // 10 + 800] and not mask[:SR // 20].any() and not mask[-SR // 10:].any()


def test_real_syllable_in_birds_range():
    f = song_features(syllable("b"), SR)
    assert all(np.isfinite(v) for v in f.values()), f
    low, high = PITCH_RANGES["birdsong"]
    assert low <= f["pitch_hz"] <= high
    assert 0.02 < f["sounding_s"] < 0.06 and -8 < f["wiener_entropy"] < -1


def test_pitch_of_a_harmonic_stack_over_the_rooms_rumble():
    """Pitch is measured above the band floor, as the other features: a 400 Hz harmonic stack
    under a 70 Hz rumble ten times as strong (a room's, as in this project's real song) reads
    400 Hz, and so does the test song's `b`, a stack on about 390 Hz (harmonics at 414, 824,
    1230 and 1656 Hz), which Praat read as 1,300 Hz or unvoiced with the rumble in."""
    t = np.arange(SR // 10) / SR
    stack = sum(0.05 / k * np.sin(2 * np.pi * 400 * k * t) for k in range(1, 6))
    rumble = 0.5 * np.sin(2 * np.pi * 70 * t)
    assert song_features(stack + rumble, SR)["pitch_hz"] == pytest.approx(400, abs=5)
    assert 350 < song_features(syllable("b"), SR)["pitch_hz"] < 450


@pytest.mark.parametrize("label", ["a", "b"])
def test_fm_and_am_are_the_syllables_whatever_its_window_and_rate(label):
    """A syllable as cut at its labels, centred in a continuum step's 0.252 s of silence, and
    written at 48 kHz is one syllable: its FM and AM move less than its type's spread between
    tokens (2.6-4.5 Hz/ms, 0.1-0.14 dB/ms; experiments/song_features_robustness.py). Measured on
    frames that reach into the silence, or with a window of another length at 48 kHz, one of
    these read 242 Hz/ms padded against 11 as cut, another 13.5 at 48 kHz against 21."""
    from stimgen.signal.audio import resample

    y = syllable(label)
    pad = (round(0.252 * SR) - y.size) // 2
    cut, padded = song_features(y, SR), song_features(np.pad(y, (pad, pad)), SR)
    written = song_features(resample(y, SR, 48000), 48000)
    for other in (padded, written):
        assert other["fm_hz_per_ms"] == pytest.approx(cut["fm_hz_per_ms"], abs=3.5)
        assert other["am_db_per_ms"] == pytest.approx(cut["am_db_per_ms"], abs=0.3)


@pytest.mark.parametrize("y, sr, fragment", [(np.zeros((2, 100)), SR, "1-D"), (np.full(100, np.nan), SR, "NaN"),
                                             (np.zeros(3200), SR, "silence"), (np.ones(3200), 0, "sample rate"),
                                             (np.ones(3200), 3.5, "sample rate")])
def test_bad_input_is_one_clear_line(y, sr, fragment):
    with pytest.raises(StimgenError, match=fragment) as exc:
        song_features(y, sr)
    assert "\n" not in str(exc.value)


def test_normalize_rms_over_a_mask():
    y = np.concatenate([np.zeros(SR), sweep(1000, 1000)])
    mask = np.arange(y.size) >= SR
    z, report = normalize_rms(y, -20.0, over=mask)
    assert rms_dbfs(z[mask]) == pytest.approx(-20, abs=0.01) and report.rms_dbfs == pytest.approx(-20, abs=0.01)
    with pytest.raises(StimgenError, match="boolean mask"):
        normalize_rms(y, -20.0, over=np.zeros(y.size, bool))


def test_birdsong_continuum_at_the_default_level(tmp_path):
    """Two real syllables that the whole window's RMS refused at -20 dBFS (their peaks would exceed
    -1 dBFS) are written, levelled over their sounding part, with every song feature measured."""
    from stimgen import load_model
    from stimgen.export import export
    from stimgen.morph import Domain, continuum
    from stimgen.representations import RenderSettings

    for label in "ab":
        save_wav(tmp_path / f"{label}.wav", syllable(label), SR)
    model = load_model("birdsong")
    assert Domain(model).representation.features[-len(SONG_FEATURES):] == SONG_FEATURES
    out = export(continuum(model, tmp_path / "a.wav", tmp_path / "b.wav", steps=5), tmp_path / "ab")
    m = pd.read_csv(out / "manifest.csv")
    assert RenderSettings().level_dbfs == -20
    assert (m["peak_dbfs"] <= -1).all()
    assert np.allclose(m["sounding_rms_dbfs"], -20, atol=0.05)
    assert (m["peak_dbfs"] - m["rms_dbfs"] - 20 > -1).any()  # over the whole window: refused
    assert m[list(SONG_FEATURES)].notna().all().all()
    for path in m["stim_file"]:
        y, sr = load_audio(out / path)
        assert peak_dbfs(y) <= -1


def test_speech_models_measure_no_song_features():
    from stimgen import load_model
    from stimgen.morph import Domain

    assert not set(SONG_FEATURES) & set(Domain(load_model("vowels")).representation.features)
