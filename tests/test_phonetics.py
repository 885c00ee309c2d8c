import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import signal

from stimgen.errors import StimgenError
from stimgen.signal.phonetics import (
    bark_to_hz,
    hz_to_bark,
    max_formant_for,
    measure_f0,
    measure_formants,
    vocal_tract_ceiling,
)

SR = 16000


def pulses_through(formants, f0=100.0, sr=SR, seconds=0.5):
    """Pulses through Klatt resonators built here, independently of stimgen.

    The pulses fall by 6 dB per octave (a one-pole low-pass), like a radiated glottal source:
    Praat's pre-emphasis expects that, and finds F1 too high on a flat source.
    """
    x = np.zeros(int(sr * seconds))
    x[:: int(sr / f0)] = 1.0
    x = signal.lfilter([1.0], [1.0, -0.97], x)
    for f, b in zip(formants, (80, 100, 150, 250, 300)):
        c = -np.exp(-2 * np.pi * b / sr)
        bb = 2 * np.exp(-np.pi * b / sr) * np.cos(2 * np.pi * f / sr)
        x = signal.lfilter([1 - bb - c], [1, -bb, -c], x)
    return x


def sine(freq, sr=SR, seconds=0.5):
    return np.sin(2 * np.pi * freq * np.arange(int(sr * seconds)) / sr)


def test_measure_formants_finds_known_resonances():
    formants = (500.0, 1500.0, 2500.0, 3500.0, 4500.0)
    measured = measure_formants(pulses_through(formants), SR, max_formant=5000.0)
    assert measured.shape == (3,)
    np.testing.assert_allclose(measured, formants[:3], rtol=0.05)


def test_measure_formants_span_selects_part_of_the_sound():
    first = (300.0, 2300.0, 3000.0, 3500.0, 4500.0)
    second = (700.0, 1200.0, 2500.0, 3500.0, 4500.0)
    y = np.concatenate([pulses_through(first), pulses_through(second)])
    early = measure_formants(y, SR, 5000.0, span=(0.1, 0.4))
    late = measure_formants(y, SR, 5000.0, span=(0.6, 0.9))
    np.testing.assert_allclose(early[:2], first[:2], rtol=0.1)
    np.testing.assert_allclose(late[:2], second[:2], rtol=0.1)


def test_measure_formants_accepts_integer_samples():
    y = pulses_through((500.0, 1500.0, 2500.0, 3500.0, 4500.0))
    as_int16 = np.round(y / np.abs(y).max() * 20000).astype(np.int16)
    np.testing.assert_allclose(measure_formants(as_int16, SR, 5000.0),
                               measure_formants(y, SR, 5000.0), rtol=0.02)


def test_silence_has_no_formants_and_no_f0():
    assert np.isnan(measure_formants(np.zeros(SR // 2), SR)).all()
    assert np.isnan(measure_f0(np.zeros(SR // 2), SR))


@pytest.mark.parametrize("f0", [90.0, 210.0, 330.0])
def test_measure_f0_of_tones_and_pulse_trains(f0):
    assert measure_f0(sine(f0), SR) == pytest.approx(f0, rel=0.01)
    period = round(SR / f0)
    assert measure_f0(pulses_through((500.0, 1500.0, 2500.0), f0=SR / period), SR) == pytest.approx(
        SR / period, rel=0.01)


def test_measure_f0_averages_voiced_frames_only():
    y = np.concatenate([np.zeros(SR // 2), sine(200.0, seconds=0.3), np.zeros(SR // 4)])
    assert measure_f0(y, SR) == pytest.approx(200.0, rel=0.01)


def test_max_formant_for_follows_the_voice():
    f0s = np.linspace(60.0, 500.0, 90)
    ceilings = [max_formant_for(f) for f in f0s]
    assert np.all(np.diff(ceilings) >= 0)
    assert max_formant_for(110.0) == pytest.approx(5000.0, rel=0.02)  # men (Praat's advice)
    assert 5300.0 <= max_formant_for(220.0) <= 6500.0  # women
    assert 6500.0 <= max_formant_for(300.0) <= 8000.0  # children


def test_bark_of_1000_hz_follows_traunmueller():
    assert hz_to_bark(1000.0) == pytest.approx(26.81 * 1000.0 / (1960.0 + 1000.0) - 0.53)
    assert bark_to_hz(26.81 * 1000.0 / (1960.0 + 1000.0) - 0.53) == pytest.approx(1000.0)


@given(st.floats(min_value=0.0, max_value=30000.0))
def test_bark_round_trip(f):
    assert bark_to_hz(hz_to_bark(f)) == pytest.approx(f, rel=1e-9, abs=1e-6)


def test_bark_is_vectorised_and_increasing():
    f = np.array([[0.0, 100.0, 1000.0], [2000.0, 4000.0, 8000.0]])
    z = hz_to_bark(f)
    assert z.shape == f.shape
    assert np.all(np.diff(z.ravel()) > 0)
    np.testing.assert_allclose(bark_to_hz(z), f, atol=1e-6)
    assert np.ndim(hz_to_bark(440.0)) == 0


@pytest.mark.parametrize("call", [
    lambda: hz_to_bark(-1.0),
    lambda: hz_to_bark([100.0, np.nan]),
    lambda: hz_to_bark("loud"),
    lambda: bark_to_hz(26.28),
    lambda: bark_to_hz(-1.0),
    lambda: max_formant_for(0.0),
    lambda: max_formant_for(float("nan")),
])
def test_bad_scale_values_raise(call):
    with pytest.raises(StimgenError):
        call()


@pytest.mark.parametrize("y, sr, kwargs", [
    (np.zeros((2, 8000)), SR, {}),
    (np.array([0.0, np.nan] * 4000), SR, {}),
    (np.array([0.0, np.inf] * 4000), SR, {}),
    (np.zeros(8000, dtype=complex), SR, {}),
    (np.array(["a"] * 8000), SR, {}),
    (np.zeros(8000), 0, {}),
    (np.zeros(8000), -16000, {}),
    (np.zeros(8000), float("nan"), {}),
    (np.zeros(400), SR, {}),  # 25 ms: shorter than the analysis window
    (np.zeros(8000), SR, {"span": (0.8, 0.2)}),
    (np.zeros(8000), SR, {"span": (0.0, 1.5)}),
    (np.zeros(8000), SR, {"span": (0.0, 0.01)}),  # no analysis frame inside
    (np.zeros(8000), SR, {"window": 0.0}),
    (np.zeros(8000), SR, {"max_formant": -5500.0}),
    (np.zeros(8000), SR, {"n_formants": 5.2}),
])
def test_measure_formants_rejects_bad_input(y, sr, kwargs):
    with pytest.raises(StimgenError):
        measure_formants(y, sr, **kwargs)


@pytest.mark.parametrize("y, sr, kwargs", [
    (np.zeros((8000, 1)), SR, {}),
    (np.array([np.nan] * 8000), SR, {}),
    (np.zeros(8000), 0, {}),
    (np.zeros(400), SR, {}),  # 25 ms: shorter than 3 periods of 60 Hz
    (np.zeros(8000), SR, {"floor": 300.0, "ceiling": 200.0}),
    (np.zeros(8000), SR, {"floor": 0.0}),
])
def test_measure_f0_rejects_bad_input(y, sr, kwargs):
    with pytest.raises(StimgenError):
        measure_f0(y, sr, **kwargs)


def tube(scale: float) -> list[float]:
    """The first five formants of a uniform tube, a 17.5 cm tract at scale 1, 1/scale as long."""
    return [scale * (i - 0.5) * 1000.0 for i in range(1, 6)]


def test_the_vocal_tract_ceiling_follows_the_formants_not_the_f0():
    # a man's tract and a tract 1.2 times shorter (a woman's), both at 100 Hz (where F0 says "a man")
    man = vocal_tract_ceiling(pulses_through(tube(1.0)), SR, 100.0)
    woman = vocal_tract_ceiling(pulses_through(tube(1.2)), SR, 100.0)
    assert man == pytest.approx(5000.0, rel=0.06)
    assert woman == pytest.approx(6000.0, rel=0.06) and woman / man == pytest.approx(1.2, abs=0.06)


def test_the_vocal_tract_ceiling_keeps_the_f0_rule_where_that_is_higher():
    # a child's tract shows too few formants below the 5500 Hz it is measured at; its F0 says more
    child = pulses_through(tube(1.6), f0=300.0)
    assert vocal_tract_ceiling(child, SR, 300.0) == max_formant_for(300.0)


def test_measure_formants_reports_f4_on_request():
    y = pulses_through(tube(1.0))
    four = measure_formants(y, SR, 5000.0, count=4)
    assert four.shape == (4,) and four[3] == pytest.approx(3500.0, rel=0.05)
    np.testing.assert_allclose(four[:3], measure_formants(y, SR, 5000.0))
    with pytest.raises(StimgenError, match="count must be"):
        measure_formants(y, SR, 5000.0, count=6)


def test_f0_is_the_mean_over_the_middle_unless_asked_for_the_whole():
    # an offset at another pitch (as a fading voice may read to Praat) moves the whole-file mean only
    t = np.arange(SR) / SR
    y = np.where(t < 0.85, np.sin(2 * np.pi * 120 * t), np.sin(2 * np.pi * 200 * t))
    assert measure_f0(y, SR) == pytest.approx(120.0, abs=1.0)
    assert measure_f0(y, SR, span=(0.0, 1.0)) > 125.0
