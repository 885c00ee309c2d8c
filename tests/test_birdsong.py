"""Tests for stimgen.data.birdsong: syllables from the physical model of the syrinx.

Pitch is measured back from the audio with Praat's cross-correlation tracker, independently of the
model's own count of labial cycles.
"""

import numpy as np
import parselmouth
import pytest

from stimgen.data.birdsong import DEFAULT_SR, FAMILIES, generate, synthesize_syllable
from stimgen.errors import StimgenError

PARAMETERS = {"gamma", "trachea_length", "alpha_start", "alpha_end", "alpha_noise", "onset", "plateau", "offset",
              "f0_start", "f0_end", "sweep_curvature", "fm_rate", "fm_depth", "fm_phase", "f0_jitter"}


def praat_track(audio: np.ndarray, floor: float = 250.0, ceiling: float = 2500.0) -> np.ndarray:
    """F0 (Hz) of the voiced frames, in time order."""
    sound = parselmouth.Sound(audio.astype(np.float64), DEFAULT_SR)
    pitch = sound.to_pitch_cc(time_step=0.002, pitch_floor=floor, pitch_ceiling=ceiling)
    f0 = pitch.selected_array["frequency"]
    return f0[f0 > 0]


def syllable(family: str, seed: int, sr: int = DEFAULT_SR) -> tuple[np.ndarray, dict]:
    return synthesize_syllable(family, np.random.default_rng(seed), sr)


def test_generate_is_deterministic_and_seeded():
    audio, labels = generate(6, seed=3)
    again, labels_again = generate(6, seed=3)
    other, _ = generate(6, seed=4)
    assert all(np.array_equal(a, b) for a, b in zip(audio, again))
    assert labels.equals(labels_again)
    assert not any(a.shape == b.shape and np.array_equal(a, b) for a, b in zip(audio, other))


@pytest.mark.parametrize("family", FAMILIES)
def test_every_family_makes_a_syllable(family):
    for seed in range(3):
        audio, labels = syllable(family, seed)
        assert audio.dtype == np.float32 and audio.ndim == 1
        assert np.all(np.isfinite(audio))
        assert np.max(np.abs(audio)) == pytest.approx(0.5, rel=1e-3)
        assert np.sqrt(np.mean(audio.astype(np.float64) ** 2)) > 0.03  # sound, not a click
        assert labels["family"] == family
        assert labels["duration"] == pytest.approx(audio.size / DEFAULT_SR)
        assert 0.03 <= labels["duration"] <= 0.25
        # the labia start and end at rest: quiet edges, sound in between
        edge = int(0.001 * DEFAULT_SR)
        assert np.max(np.abs(audio[:edge])) < 0.01 and np.max(np.abs(audio[-edge:])) < 0.01
        assert 300.0 < labels["mean_f0"] < 2000.0


def test_calls_are_short_and_stacks_are_long():
    _, labels = generate(60, seed=5)
    durations = labels.groupby("family")["duration"]
    assert durations.max()["call"] <= 0.1
    assert durations.min()["stack"] >= 0.08


@pytest.mark.parametrize("seed", range(8))
def test_stack_pitch_matches_its_label(seed):
    audio, labels = syllable("stack", seed)
    track = praat_track(audio)
    assert track.size > 10
    assert np.mean(track) == pytest.approx(labels["mean_f0"], rel=0.10)
    assert np.mean(track) == pytest.approx(labels["f0_start"], rel=0.10)  # the pitch control works


def test_stack_is_a_harmonic_stack_not_a_sine():
    """Several harmonics of the label's f0 stand out of the spectrum, up to at least 4 kHz."""
    for seed in range(4):
        audio, labels = syllable("stack", seed)
        middle = audio[audio.size // 4: 3 * audio.size // 4].astype(np.float64)
        spectrum = np.abs(np.fft.rfft(middle * np.hanning(middle.size), 8 * middle.size))
        freqs = np.fft.rfftfreq(8 * middle.size, 1.0 / DEFAULT_SR)
        f0 = labels["mean_f0"]
        db = 20 * np.log10(spectrum / spectrum.max())
        strong = []  # harmonics within 40 dB of the strongest peak and 20 dB above the gap after them
        for k in range(1, int(7000 // f0) + 1):
            peak = db[np.abs(freqs - k * f0) < 0.03 * f0].max()
            gap = np.median(db[np.abs(freqs - (k + 0.5) * f0) < 0.1 * f0])
            if peak > -40 and peak - gap > 20:
                strong.append(k)
        assert len(strong) >= 4, (seed, f0, strong)
        assert max(strong) * f0 >= 4000


@pytest.mark.parametrize("seed", range(4))
def test_sweeps_move_the_right_way(seed):
    for family, sign in (("upsweep", 1), ("downsweep", -1)):
        audio, labels = syllable(family, seed)
        track = praat_track(audio)
        thirds = np.array_split(track, 3)
        change = np.log(np.median(thirds[2]) / np.median(thirds[0]))
        assert sign * change > np.log(1.15), (family, seed, np.median(thirds[0]), np.median(thirds[2]))
        assert sign * np.log(labels["f0_end"] / labels["f0_start"]) > 0


def test_fm_notes_wobble_and_stacks_do_not():
    def wobble(family, seed):
        # Fast, deep FM fools a pitch tracker with a wide range into harmonics, so the range is
        # set around the note's pitch, as one sets it per bird.
        audio, labels = syllable(family, seed)
        track = praat_track(audio, 0.6 * labels["mean_f0"], 1.6 * labels["mean_f0"])
        return np.std(np.log(track[5:-5]))

    for seed in range(4):
        assert wobble("fm", seed) > 0.05
        assert wobble("stack", seed) < 0.03


def test_noisy_notes_are_less_periodic_than_stacks():
    def harmonicity(audio):
        sound = parselmouth.Sound(audio.astype(np.float64), DEFAULT_SR)
        hnr = sound.to_harmonicity_cc(minimum_pitch=250.0).values
        return np.median(hnr[hnr > -200])

    for seed in range(3):
        assert harmonicity(syllable("noisy", seed)[0]) < harmonicity(syllable("stack", seed)[0]) - 10


def test_labels_have_one_row_per_syllable():
    audio, labels = generate(13, seed=2)
    assert len(audio) == len(labels) == 13
    assert set(labels.columns) == {"family", "duration", "mean_f0"} | PARAMETERS
    assert labels["family"].tolist() == [FAMILIES[i % len(FAMILIES)] for i in range(13)]
    numeric = labels.drop(columns="family")
    assert all(dtype == np.float64 for dtype in numeric.dtypes)
    assert np.all(np.isfinite(numeric.to_numpy()))
    assert np.allclose(labels["duration"], [a.size / DEFAULT_SR for a in audio])


def test_other_sample_rates_give_the_same_syllable():
    audio, labels = syllable("upsweep", 7, sr=16000)
    reference_audio, reference = syllable("upsweep", 7)
    assert audio.size == pytest.approx(reference_audio.size / 2, abs=1)
    assert labels["mean_f0"] == pytest.approx(reference["mean_f0"], rel=0.01)
    assert labels["gamma"] == reference["gamma"]


def test_progress_bar(capsys):
    generate(2, progress=True)
    assert "syllable" in capsys.readouterr().err


@pytest.mark.parametrize("call, message", [
    (lambda: synthesize_syllable("warble", np.random.default_rng(0)), "unknown birdsong family"),
    (lambda: synthesize_syllable("stack", 0), "numpy.random.Generator"),
    (lambda: synthesize_syllable("stack", np.random.default_rng(0), sr=4000), "8000"),
    (lambda: generate(0), "at least 1"),
    (lambda: generate(-3), "at least 1"),
    (lambda: generate(2.5), "whole number"),
    (lambda: generate(2, sr=7999), "8000"),
])
def test_bad_arguments_raise_stimgen_error(call, message):
    with pytest.raises(StimgenError, match=message):
        call()
