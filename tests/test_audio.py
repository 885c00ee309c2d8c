import warnings

import numpy as np
import pytest
import soundfile as sf
from conftest import tone

from stimgen.errors import StimgenError, StimgenWarning
from stimgen.signal.audio import (
    apply_ramps,
    fix_duration,
    load_audio,
    normalize_rms,
    peak_dbfs,
    rms_dbfs,
    save_wav,
    trim_silence,
)


def test_save_and_load_round_trip_is_16_bit_pcm(tmp_path):
    y = tone(sr=16000)
    save_wav(tmp_path / "a.wav", y, 16000)
    info = sf.info(tmp_path / "a.wav")
    assert (info.samplerate, info.subtype, info.channels) == (16000, "PCM_16", 1)
    z, sr = load_audio(tmp_path / "a.wav")
    assert sr == 16000 and z.dtype == np.float32
    assert np.max(np.abs(z - y)) < 1.0 / 2**15 + 1e-6


@pytest.mark.parametrize("fmt", ["FLAC", "OGG"])
def test_loads_other_formats_and_mixes_stereo_to_mono(tmp_path, fmt):
    left, right = tone(440), tone(660)
    path = tmp_path / f"s.{fmt.lower()}"
    sf.write(path, np.stack([left, right], axis=1), 16000, format=fmt)
    y, sr = load_audio(path)
    assert y.ndim == 1 and sr == 16000
    expected = (left + right) / 2
    assert np.corrcoef(y[1000:-1000], expected[1000:-1000])[0, 1] > 0.95


def test_resampling_keeps_frequency_and_duration(tmp_path):
    save_wav(tmp_path / "a.wav", tone(1000.0, sr=44100, seconds=1.0), 44100)
    y, sr = load_audio(tmp_path / "a.wav", sr=16000)
    assert sr == 16000 and abs(len(y) - 16000) <= 1
    spectrum = np.abs(np.fft.rfft(y))
    assert abs(np.argmax(spectrum) * sr / len(y) - 1000.0) < 2.0


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda p: None, "no such file"),
        (lambda p: p.write_text("not audio at all"), "not an audio file"),
        (lambda p: sf.write(p, np.zeros((0,), dtype=np.float32), 16000), "zero length"),
        (lambda p: sf.write(p, np.zeros(1600, dtype=np.float32), 16000), "all silence"),
        (lambda p: sf.write(p, np.array([0.1, np.nan, 0.2] * 100, dtype=np.float32), 16000, subtype="FLOAT"),
         "NaN or infinite"),
    ],
)
def test_bad_files_name_the_file_and_the_problem(tmp_path, make, message):
    path = tmp_path / "bad.wav"
    make(path)
    with pytest.raises(StimgenError) as info:
        load_audio(path)
    assert str(path) in str(info.value) and message in str(info.value)
    assert "\n" not in str(info.value)


def test_save_refuses_to_clip(tmp_path):
    with pytest.raises(StimgenError, match="exceeds full scale"):
        save_wav(tmp_path / "loud.wav", tone(amp=1.5), 16000)
    assert not (tmp_path / "loud.wav").exists()


def test_levels_of_a_full_scale_sine():
    y = tone(amp=1.0, seconds=1.0)
    assert rms_dbfs(y) == pytest.approx(-3.01, abs=0.01)
    assert peak_dbfs(y) == pytest.approx(0.0, abs=0.01)


def test_normalize_rms_reaches_target():
    z, report = normalize_rms(tone(amp=0.01), -23.0)
    assert rms_dbfs(z) == pytest.approx(-23.0, abs=0.01)
    assert report.gain_db == pytest.approx(-23.0 - rms_dbfs(tone(amp=0.01)), abs=0.01)
    assert not report.attenuated


def test_normalize_rms_refuses_or_attenuates_rather_than_clip():
    clicks = np.zeros(16000, dtype=np.float32)
    clicks[::4000] = 0.5  # very high crest factor: -20 dBFS RMS would need a peak far above 0 dBFS
    with pytest.raises(StimgenError, match="peak"):
        normalize_rms(clicks, -20.0, on_clip="error")
    with pytest.warns(UserWarning, match="attenuated"):
        z, report = normalize_rms(clicks, -20.0, max_peak_dbfs=-1.0, on_clip="attenuate")
    assert report.attenuated and peak_dbfs(z) == pytest.approx(-1.0, abs=0.01)
    assert report.rms_dbfs < -20.0 and np.max(np.abs(z)) < 1.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "fit" attenuates as "attenuate" does, and says nothing
        fitted, quiet = normalize_rms(clicks, -20.0, max_peak_dbfs=-1.0, on_clip="fit")
    assert quiet == report and np.array_equal(fitted, z)


def test_files_read_on_worker_threads_leave_the_main_threads_warnings_alone():
    # a peaky file is attenuated to the model's level on each of several threads (as stimgen reads a continuum's
    # files); silencing that with warnings.catch_warnings there swapped the process's filters under the main
    # thread, and about half of the warnings it gave afterwards (an uneven path, ends far from their files) were lost
    from concurrent.futures import ThreadPoolExecutor

    from stimgen.signal.spectrogram import SpectrogramConfig, sound_to_spectrogram

    clicks = np.zeros(8000)
    clicks[::400] = 1.0
    config = SpectrogramConfig.preset("vowels")
    for _ in range(20):
        with warnings.catch_warnings(record=True) as said:
            warnings.simplefilter("always")
            with ThreadPoolExecutor(2) as pool:
                list(pool.map(lambda _: sound_to_spectrogram(clicks, 16000, config), range(4)))
            warnings.warn("said after the threads", stacklevel=1)
        assert [str(w.message) for w in said] == ["said after the threads"]


def test_ramps_are_raised_cosine_of_the_asked_length():
    sr = 16000
    z = apply_ramps(np.ones(sr, dtype=np.float32), sr, ramp_ms=10.0)
    n = 160
    assert z[0] == 0.0 and z[-1] == 0.0 and np.all(z[n:-n] == 1.0)
    assert z[n // 2] == pytest.approx(0.5, abs=0.02)
    assert np.all(np.diff(z[:n]) >= 0)
    with pytest.raises(StimgenError, match="do not fit"):
        apply_ramps(np.ones(100, dtype=np.float32), sr, 10.0)


def test_trim_silence_removes_leading_and_trailing_silence():
    sr = 16000
    y = np.concatenate([np.zeros(8000), tone(sr=sr, seconds=0.25), np.zeros(8000)]).astype(np.float32)
    z = trim_silence(y)
    assert abs(len(z) - 4000) < 600


def test_fix_duration_policies():
    sr = 10
    y = np.arange(1, 11, dtype=np.float32)
    padded = fix_duration(y, sr, 2.0, policy="pad", align="center")
    assert len(padded) == 20 and padded[5] == 1.0 and padded[14] == 10.0 and padded[0] == 0.0
    cropped = fix_duration(y, sr, 0.4, policy="crop", align="start")
    assert cropped.tolist() == [1, 2, 3, 4]
    with pytest.raises(StimgenError, match="policy is 'pad'"):
        fix_duration(y, sr, 0.5, policy="pad")
    with pytest.raises(StimgenError, match="policy is 'exact'"):
        fix_duration(y, sr, 2.0, policy="exact")
    with pytest.raises(StimgenError, match="policy must be"):
        fix_duration(y, sr, 2.0, policy="stretch")


@pytest.mark.parametrize("left_gain, right_gain, used, name", [(1.0, -0.8, 0, "channel 1 (left)"),
                                                               (0.5, -1.0, 1, "channel 2 (right)")])
def test_channels_that_cancel_give_the_louder_channel_and_a_warning(tmp_path, left_gain, right_gain, used, name):
    y = tone(300.0, seconds=0.5, amp=0.5)
    stereo = np.stack([left_gain * y, right_gain * y], axis=1)
    path = tmp_path / "antiphase.wav"
    sf.write(path, stereo, 16000, subtype="FLOAT")
    with pytest.warns(StimgenWarning) as record:
        z, sr = load_audio(path)
    assert len(record) == 1
    shortfall = 20 * np.log10(max(abs(left_gain), abs(right_gain)) / abs(left_gain + right_gain) * 2)
    assert str(record[0].message) == (f"{path}: channels cancel when averaged to mono (the average is "
                                      f"{shortfall:.1f} dB below the loudest channel); used {name} alone")
    assert record[0].message.path == str(path)
    np.testing.assert_allclose(z, stereo[:, used], atol=1e-6)


def test_exact_anti_phase_says_the_average_is_silent(tmp_path):
    y = tone(300.0, seconds=0.5, amp=0.5)
    sf.write(tmp_path / "anti.wav", np.stack([y, -y], axis=1), 16000, subtype="FLOAT")
    with pytest.warns(StimgenWarning, match=r"anti\.wav: channels cancel .*\(the average is silent\); used channel 1"):
        z, _ = load_audio(tmp_path / "anti.wav", sr=8000)
    assert rms_dbfs(z) == pytest.approx(rms_dbfs(y), abs=0.1)  # the channel, then resampled


def _no_warning_load(path):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return load_audio(path)[0]


def test_stereo_that_adds_up_is_averaged_without_a_warning(tmp_path):
    y = tone(300.0, seconds=0.5, amp=0.5)
    sf.write(tmp_path / "same.wav", np.stack([y, y], axis=1), 16000, subtype="FLOAT")
    np.testing.assert_allclose(_no_warning_load(tmp_path / "same.wav"), y, atol=1e-7)
    rng = np.random.default_rng(0)
    noises = (0.1 * rng.standard_normal((16000, 2))).astype(np.float32)
    sf.write(tmp_path / "noises.wav", noises, 16000, subtype="FLOAT")
    np.testing.assert_allclose(_no_warning_load(tmp_path / "noises.wav"), noises.mean(axis=1), atol=1e-7)
    # one silent channel: the average halves the other (6.02 dB) but nothing cancels
    sf.write(tmp_path / "left.wav", np.stack([y, np.zeros_like(y)], axis=1), 16000, subtype="FLOAT")
    np.testing.assert_allclose(_no_warning_load(tmp_path / "left.wav"), y / 2, atol=1e-7)


def test_silent_stereo_is_still_all_silence(tmp_path):
    sf.write(tmp_path / "quiet.wav", np.zeros((16000, 2), dtype=np.float32), 16000)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(StimgenError, match=r"quiet\.wav: is all silence"):
            load_audio(tmp_path / "quiet.wav")
