import dataclasses
import json

import numpy as np
import pytest
import torch
from conftest import tone
from hypothesis import given, settings
from hypothesis import strategies as st

from stimgen.errors import StimgenError
from stimgen.signal.griffinlim import griffin_lim
from stimgen.signal.spectrogram import SpectrogramConfig, audio_to_spectrogram, mel_to_linear, spectrogram_to_audio

VOWELS = SpectrogramConfig.preset("vowels")


def harmonic(f0: float, config: SpectrogramConfig, amp: float = 0.1) -> np.ndarray:
    t = np.arange(config.n_samples) / config.sample_rate
    return (amp * sum(np.sin(2 * np.pi * k * f0 * t) / k for k in range(1, 30) if k * f0 < config.fmax)).astype(
        np.float32)


def lsd(a: np.ndarray, b: np.ndarray, config: SpectrogramConfig) -> float:
    return float(np.sqrt(np.mean(((a - b) * -config.min_db) ** 2)))


def test_config_json_round_trip_and_validation(tmp_path):
    cfg = SpectrogramConfig.preset("birdsong", n_iter=10)
    cfg.save(tmp_path / "spec.json")
    assert SpectrogramConfig.load(tmp_path / "spec.json") == cfg
    assert json.loads((tmp_path / "spec.json").read_text())["sample_rate"] == 32000
    with pytest.raises(StimgenError, match="fmax"):
        SpectrogramConfig(fmax=9000.0)  # above Nyquist at 16 kHz
    with pytest.raises(StimgenError, match="hop_length"):
        SpectrogramConfig(hop_length=1000)
    (tmp_path / "bad.json").write_text('{"sample_rate": 16000, "colour": "blue"}')
    with pytest.raises(StimgenError, match=r"bad\.json: unknown spectrogram settings: colour"):
        SpectrogramConfig.load(tmp_path / "bad.json")
    with pytest.raises(StimgenError, match="unknown spectrogram preset"):
        SpectrogramConfig.preset("whale")


def test_config_is_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        VOWELS.n_mels = 128


def test_frequency_lands_in_the_right_mel_row():
    cfg = VOWELS
    import librosa

    centres = librosa.mel_frequencies(cfg.n_mels + 2, fmin=cfg.fmin, fmax=cfg.fmax)[1:-1]
    for freq in (300.0, 1000.0, 3000.0):
        spec = audio_to_spectrogram(tone(freq, cfg.sample_rate, cfg.duration, amp=0.1), cfg)
        row = int(np.argmax(spec[:, cfg.n_frames // 2]))
        assert abs(centres[row] - freq) / freq < 0.1


def test_level_maps_through_ref_and_min_db():
    cfg = VOWELS
    quiet = audio_to_spectrogram(harmonic(150, cfg, 0.01), cfg)
    loud = audio_to_spectrogram(harmonic(150, cfg, 0.1), cfg)
    # 20 dB louder moves every unclipped bin up by 20 / -min_db
    mask = (quiet > 0.05) & (loud < 0.95)
    assert np.allclose((loud - quiet)[mask], 20.0 / -cfg.min_db, atol=1e-3)
    assert audio_to_spectrogram(np.zeros(cfg.n_samples), cfg).max() == 0.0


@settings(max_examples=25, deadline=None)
@given(
    n_samples=st.integers(min_value=400, max_value=20000),
    batch=st.integers(min_value=1, max_value=3),
    amp=st.floats(min_value=0.0, max_value=1.0),
    seed=st.integers(min_value=0, max_value=2**16),
)
def test_forward_shape_and_range_for_any_length_and_level(n_samples, batch, amp, seed):
    y = amp * np.random.default_rng(seed).uniform(-1, 1, size=(batch, n_samples))
    spec = audio_to_spectrogram(y, VOWELS)
    assert spec.shape == (batch, *VOWELS.shape) and spec.dtype == np.float32
    assert spec.min() >= 0.0 and spec.max() <= 1.0


@settings(max_examples=10, deadline=None)
@given(
    batch=st.integers(min_value=1, max_value=3),
    seed=st.integers(min_value=0, max_value=2**16),
    preset=st.sampled_from(["vowels", "birdsong"]),
)
def test_inverse_shape_and_range(batch, seed, preset):
    cfg = SpectrogramConfig.preset(preset)
    spec = np.random.default_rng(seed).random((batch, *cfg.shape)).astype(np.float32)
    audio = spectrogram_to_audio(spec, cfg, n_iter=2)
    assert audio.shape == (batch, cfg.n_samples) and np.all(np.isfinite(audio))


def test_round_trip_is_close_and_batched_equals_single():
    cfg = VOWELS
    batch = np.stack([harmonic(f0, cfg) for f0 in (110.0, 220.0, 180.0)])
    spec = audio_to_spectrogram(batch, cfg)
    audio = spectrogram_to_audio(spec, cfg)
    again = audio_to_spectrogram(audio, cfg)
    for a, b in zip(spec, again):
        assert lsd(a, b, cfg) < 3.0  # dB
    single = spectrogram_to_audio(spec[1], cfg)
    assert single.shape == (cfg.n_samples,)
    assert lsd(audio_to_spectrogram(single, cfg), again[1], cfg) < 1.0


def test_more_iterations_converge_better():
    cfg = VOWELS
    spec = audio_to_spectrogram(harmonic(130.0, cfg), cfg)
    errors = [lsd(spec, audio_to_spectrogram(spectrogram_to_audio(spec, cfg, n_iter=n), cfg), cfg) for n in (0, 60)]
    assert errors[1] < 0.5 * errors[0]


def test_same_seed_same_audio():
    spec = audio_to_spectrogram(harmonic(200.0, VOWELS), VOWELS)
    a = spectrogram_to_audio(spec, VOWELS, n_iter=5, seed=3)
    assert np.array_equal(a, spectrogram_to_audio(spec, VOWELS, n_iter=5, seed=3))
    assert not np.array_equal(a, spectrogram_to_audio(spec, VOWELS, n_iter=5, seed=4))


def test_griffin_lim_from_a_sounds_own_phase_gives_that_sound_back():
    """Started from the phase of the sound an image was made of (sound_phase), Griffin-Lim gives
    that sound's waveform back, nearly; from a random phase each harmonic's phase is chance and
    the waveform is another (the same image, another sound). A zero in the start phase falls
    back to the seeded random phase."""
    from stimgen.signal.spectrogram import sound_phase

    cfg = VOWELS
    y = harmonic(130.0, cfg)
    spec = audio_to_spectrogram(y, cfg)
    phase = sound_phase(y, cfg.sample_rate, cfg)
    assert phase.shape == (cfg.n_fft // 2 + 1, cfg.n_frames)
    own, chance = spectrogram_to_audio(spec, cfg, phase=phase), spectrogram_to_audio(spec, cfg)
    middle = slice(cfg.n_samples // 4, 3 * cfg.n_samples // 4)

    def correlation(a):
        return float(np.corrcoef(a[middle], y[middle])[0, 1])

    assert correlation(own) > 0.85 > 0.6 > abs(correlation(chance))  # 0.94 and 0.37 when written
    assert np.array_equal(spectrogram_to_audio(spec, cfg, phase=np.zeros_like(phase)), chance)


def test_mel_to_linear_is_a_nonnegative_least_squares_fit():
    from stimgen.signal.spectrogram import _mel_basis

    basis = _mel_basis(VOWELS)
    truth = torch.rand(2, basis.shape[1], 10)
    mel = basis @ truth
    estimate = mel_to_linear(mel, VOWELS)
    assert estimate.min() >= 0
    assert torch.linalg.norm(basis @ estimate - mel) / torch.linalg.norm(mel) < 0.05


def test_griffin_lim_recovers_a_signal_with_known_magnitude():
    sr, n_fft, hop, win = 16000, 512, 128, 400
    y = torch.from_numpy(tone(500.0, sr, 0.5)) * torch.hann_window(8000)
    window = torch.hann_window(win)
    mag = torch.stft(y, n_fft, hop, win, window, center=True, pad_mode="constant", return_complex=True).abs()
    out = griffin_lim(mag[None], n_fft, hop, win, length=len(y), n_iter=50)
    rebuilt = torch.stft(out[0], n_fft, hop, win, window, center=True, pad_mode="constant", return_complex=True)
    assert torch.linalg.norm(rebuilt.abs() - mag) / torch.linalg.norm(mag) < 0.1


def test_bad_input_to_the_transform():
    with pytest.raises(StimgenError, match="too short for the transform"):
        audio_to_spectrogram(np.ones(100), VOWELS)
    with pytest.raises(StimgenError, match="NaN"):
        audio_to_spectrogram(np.full(VOWELS.n_samples, np.nan), VOWELS)
    with pytest.raises(StimgenError, match=r"shape \(64, 64\)"):
        spectrogram_to_audio(np.zeros((32, 64)), VOWELS)


def test_deemphasis_is_the_iir_filter_of_scipy():
    import scipy.signal

    from stimgen.signal.spectrogram import deemphasis

    x = np.random.default_rng(0).standard_normal((3, 8064)).astype(np.float32)
    expected = scipy.signal.lfilter([1.0], [1.0, -0.97], x, axis=-1)
    np.testing.assert_allclose(deemphasis(torch.from_numpy(x), 0.97).numpy(), expected, atol=2e-6)
    with pytest.raises(StimgenError, match="strictly between -1 and 1"):
        deemphasis(torch.from_numpy(x), 1.0)


def test_mel_filterbank_is_librosas_and_is_kept_in_the_cache(tmp_path, monkeypatch):
    import librosa

    from stimgen.signal.spectrogram import _mel_basis

    monkeypatch.setenv("STIMGEN_CACHE", str(tmp_path))
    config = SpectrogramConfig.preset("vowels", n_mels=40)  # a config no other test has cached in memory
    _mel_basis.cache_clear()
    first = _mel_basis(config).numpy()
    expected = librosa.filters.mel(sr=16000, n_fft=1024, n_mels=40, fmin=config.fmin, fmax=config.fmax)
    np.testing.assert_allclose(first, expected, rtol=1e-6)
    (cached,) = (tmp_path / "filters").glob("mel-*-40-*.npy")
    np.save(cached, np.zeros((2, 2), dtype=np.float32))  # a stale or foreign file is rebuilt, not trusted
    _mel_basis.cache_clear()
    np.testing.assert_allclose(_mel_basis(config).numpy(), expected, rtol=1e-6)
    _mel_basis.cache_clear()


def test_a_sound_shorter_than_one_window_is_refused_in_its_own_terms(tmp_path):
    from stimgen.signal.audio import save_wav
    from stimgen.signal.spectrogram import load_spectrogram, sound_to_spectrogram

    short = tone(300.0, sr=16000, seconds=20 / 16000)
    with pytest.raises(StimgenError) as info:
        sound_to_spectrogram(short, 16000, VOWELS, path="short.wav")
    assert str(info.value) == "short.wav: lasts 1.25 ms (20 samples at 16000 Hz); the model needs at least 25 ms"
    # the file's own rate, not the model's: 1000 samples at 44.1 kHz are 22.7 ms, 363 samples at 16 kHz
    with pytest.raises(StimgenError, match=r"^lasts 22\.7 ms \(1000 samples at 44100 Hz\); the model needs at least "
                                           r"25 ms$"):
        sound_to_spectrogram(tone(300.0, sr=44100, seconds=1000 / 44100), 44100, VOWELS)
    birdsong = SpectrogramConfig.preset("birdsong")
    with pytest.raises(StimgenError, match="needs at least 10 ms"):
        sound_to_spectrogram(tone(2000.0, sr=48000, seconds=0.009), 48000, birdsong)
    # just long enough, at any rate: 25 ms at 44.1 kHz (1103 samples) and 400 samples at 16 kHz
    assert sound_to_spectrogram(tone(300.0, sr=44100, seconds=1103 / 44100), 44100, VOWELS).shape == VOWELS.shape
    assert sound_to_spectrogram(tone(300.0, sr=16000, seconds=400 / 16000), 16000, VOWELS).shape == VOWELS.shape
    save_wav(tmp_path / "short.wav", short, 16000)
    with pytest.raises(StimgenError, match=r"short\.wav: lasts 1\.25 ms \(20 samples at 16000 Hz\)"):
        load_spectrogram(tmp_path / "short.wav", VOWELS)
