import numpy as np
import pandas as pd
import parselmouth
import pytest

from stimgen.data import vowels
from stimgen.errors import StimgenError
from stimgen.signal.phonetics import max_formant_for, measure_f0, measure_formants

SR = 16000
# Hillenbrand et al. (1995) means: F0, F1, F2, F3 (Hz)
HILLENBRAND = {
    ("man", "i"): (138, 342, 2322, 3000),
    ("man", "a"): (123, 768, 1333, 2522),
    ("woman", "i"): (227, 437, 2761, 3372),
    ("woman", "a"): (215, 936, 1551, 2815),
}
LABEL_COLUMNS = ["type", "sex", "speaker", "vowel", "ipa", "f0", "f1", "f2", "f3",
                 "f1_measured", "f2_measured", "jittered"]


def hillenbrand(voice, vowel, seed=0, sr=SR):
    f0, f1, f2, f3 = HILLENBRAND[voice, vowel]
    formants, bandwidths = vowels.vocal_tract(f1, f2, f3, voice)
    return f0, (f1, f2), vowels.synthesize_vowel(f0, formants, bandwidths, sr=sr, rng=seed)


@pytest.fixture(scope="module")
def table():
    return vowels.peterson_barney()


def test_peterson_barney_table(table):
    assert len(table) == 1520
    assert list(table.columns) == ["type", "sex", "speaker", "vowel", "ipa", "f0", "f1", "f2", "f3"]
    assert table["speaker"].nunique() == 76
    assert table["vowel"].nunique() == 10
    assert set(table["type"]) == {"m", "w", "c"}
    assert (table.groupby(["speaker", "vowel"]).size() == 2).all()
    assert table["ipa"].notna().all() and table["ipa"].nunique() == 10
    assert (table.groupby("vowel")["ipa"].nunique() == 1).all()
    assert not table[["f0", "f1", "f2", "f3"]].isna().any().any()
    # men speak lower than women, women lower than children
    means = table.groupby("type")[["f0", "f3"]].mean()
    assert (means.loc["m"] < means.loc["w"]).all() and (means.loc["w"] < means.loc["c"]).all()


@pytest.mark.parametrize("voice, vowel", list(HILLENBRAND))
@pytest.mark.parametrize("sr", [SR, 44100])
def test_synthesised_vowel_measures_back_to_its_targets(voice, vowel, sr):
    f0, targets, y = hillenbrand(voice, vowel, sr=sr)
    f1, f2, _ = measure_formants(y, sr, max_formant=max_formant_for(f0))
    assert f1 == pytest.approx(targets[0], rel=0.10)
    assert f2 == pytest.approx(targets[1], rel=0.10)
    assert measure_f0(y, sr) == pytest.approx(f0, rel=0.05)


def test_a_ceiling_too_low_for_a_woman_gives_a_spurious_f2():
    f0, (_, f2), y = hillenbrand("woman", "i")
    fitting = measure_formants(y, SR, max_formant=max_formant_for(f0))
    assert fitting[1] == pytest.approx(f2, rel=0.10)
    assert measure_formants(y, SR, max_formant=max_formant_for(120.0))[1] < 0.7 * f2


def test_synthesised_vowel_shape_level_and_ramps():
    for sr, duration in [(8000, 0.1), (16000, 0.4), (22050, 0.2503), (44100, 0.3)]:
        formants, bandwidths = vowels.vocal_tract(768, 1333, 2522)
        y = vowels.synthesize_vowel(123, formants, bandwidths, sr=sr, duration=duration, rng=1)
        assert y.dtype == np.float32
        assert len(y) == round(duration * sr)
        assert np.abs(y).max() == pytest.approx(0.5, abs=1e-6)
        edge = round(0.002 * sr)  # the first and last 2 ms lie deep in the 20 ms ramps
        middle = np.abs(y[len(y) // 4: 3 * len(y) // 4]).max()
        assert np.abs(y[:edge]).max() < 0.05 * middle
        assert np.abs(y[-edge:]).max() < 0.05 * middle


def test_synthesis_is_deterministic_for_a_seed():
    formants, bandwidths = vowels.vocal_tract(342, 2322, 3000)
    a = vowels.synthesize_vowel(138, formants, bandwidths, rng=7)
    b = vowels.synthesize_vowel(138, formants, bandwidths, rng=np.random.default_rng(7))
    c = vowels.synthesize_vowel(138, formants, bandwidths, rng=8)
    assert np.array_equal(a, b)
    assert not np.allclose(a, c, atol=1e-3)


def test_pitch_rises_then_declines():
    _, _, y = hillenbrand("man", "a", seed=3)
    track = parselmouth.Sound(y.astype(float), SR).to_pitch(time_step=0.01)
    f0 = track.selected_array["frequency"]
    times = track.xs()[f0 > 0]
    f0 = f0[f0 > 0]
    peak_part = f0[(times > 0.08) & (times < 0.14)].mean()
    end_part = f0[times > 0.32].mean()
    start_part = f0[times < 0.06].mean()
    assert peak_part > start_part and peak_part > end_part
    assert end_part < start_part  # the decline (4-7 %) outweighs the rise (1-3 %)
    assert (peak_part - end_part) / peak_part < 0.15  # a few per cent, not a glide


def test_vocal_tract_keeps_formants_ordered():
    for voice in ("man", "woman", "child"):
        formants, bandwidths = vowels.vocal_tract(360, 3180, 4380, voice)
        assert formants.shape == bandwidths.shape == (5,)
        assert np.all(np.diff(formants) > 0)
        assert formants[-1] < 8000.0
        assert np.all(bandwidths > 0)
    # shorter vocal tracts: higher upper formants
    f4 = [vowels.vocal_tract(500, 1500, 2500, v)[0][3] for v in ("man", "woman", "child")]
    assert f4[0] < f4[1] < f4[2]


@pytest.mark.parametrize("call", [
    lambda: vowels.vocal_tract(500, 1500, 2500, "robot"),
    lambda: vowels.vocal_tract(500, np.nan, 2500),
    lambda: vowels.synthesize_vowel(20, [500, 1500], [80, 100]),
    lambda: vowels.synthesize_vowel(True, [500, 1500], [80, 100]),
    lambda: vowels.synthesize_vowel(120, [500, 1500], [80]),
    lambda: vowels.synthesize_vowel(120, [500, 8000], [80, 100]),
    lambda: vowels.synthesize_vowel(120, [500, -1500], [80, 100]),
    lambda: vowels.synthesize_vowel(120, [], []),
    lambda: vowels.synthesize_vowel(120, [[500, 1500]], [[80, 100]]),
    lambda: vowels.synthesize_vowel(120, [500, 1500], [80, 100], sr=7999),
    lambda: vowels.synthesize_vowel(120, [500, 1500], [80, 100], sr=16000.5),
    lambda: vowels.synthesize_vowel(120, [500, 1500], [80, 100], duration=0.05),
    lambda: vowels.synthesize_vowel(120, [500, 1500], [80, 100], duration=float("inf")),
])
def test_bad_synthesis_input_raises(call):
    with pytest.raises(StimgenError):
        call()


def test_generate_subset_labels(table):
    audio, labels = vowels.generate(12, seed=5)
    assert len(audio) == len(labels) == 12
    assert list(labels.columns) == LABEL_COLUMNS
    assert set(labels["type"]) <= {"man", "woman", "child"}
    assert not labels["jittered"].any()
    assert all(len(y) == round(0.4 * SR) and y.dtype == np.float32 for y in audio)
    # every row is a table row, in table order
    keys = ["sex", "speaker", "vowel", "f0", "f1", "f2", "f3"]
    floats = table.astype({c: float for c in ("f0", "f1", "f2", "f3")})
    position = labels[keys].merge(floats.reset_index(), on=keys, how="left")["index"]
    assert position.notna().all() and position.is_monotonic_increasing
    # the measurements are those of the audio returned
    for y, row in zip(audio[:3], labels.itertuples()):
        measured = measure_formants(y, SR, max_formant=max_formant_for(row.f0))[:2]
        np.testing.assert_allclose(measured, [row.f1_measured, row.f2_measured])


def test_generate_is_deterministic_and_seed_dependent():
    audio_a, labels_a = vowels.generate(6, seed=11)
    audio_b, labels_b = vowels.generate(6, seed=11)
    audio_c, labels_c = vowels.generate(6, seed=12)
    assert all(np.array_equal(a, b) for a, b in zip(audio_a, audio_b))
    pd.testing.assert_frame_equal(labels_a, labels_b)
    assert not labels_a[["speaker", "vowel", "f0"]].equals(labels_c[["speaker", "vowel", "f0"]])
    assert not all(np.array_equal(a, c) for a, c in zip(audio_a, audio_c))


def test_jittered_rows_follow_their_draws(table):
    table = table.astype({c: float for c in ("f0", "f1", "f2", "f3")})
    table["jittered"] = False
    extra = vowels._jittered_rows(table, 400, np.random.default_rng(0))
    source = table.loc[extra.index]
    assert extra["jittered"].all() and len(extra) == 400
    kept = ["type", "sex", "speaker", "vowel", "ipa"]
    assert (extra[kept] == source[kept]).all().all()
    f0_ratio = extra["f0"] / source["f0"]
    formant_ratio = extra[["f1", "f2", "f3"]].to_numpy() / source[["f1", "f2", "f3"]].to_numpy()
    assert f0_ratio.between(0.9, 1.1).all() and f0_ratio.std() > 0.03
    assert ((formant_ratio >= 0.93) & (formant_ratio <= 1.07)).all() and formant_ratio.std() > 0.02
    assert ((extra["f1"] < extra["f2"]) & (extra["f2"] < extra["f3"])).all()
    # rows whose table values have F1 == F2 get ordered jittered values too
    merged = table[table["f1"] >= table["f2"]]
    assert len(merged) > 0
    again = vowels._jittered_rows(merged, 50, np.random.default_rng(1))
    assert (again["f1"] < again["f2"]).all()


@pytest.mark.slow
def test_generate_beyond_the_table_adds_jittered_tokens(table):
    audio, labels = vowels.generate(1520 + 4, seed=3)
    assert len(audio) == len(labels) == 1524
    assert not labels["jittered"][:1520].any() and labels["jittered"][1520:].all()
    columns = ["speaker", "f0", "f1", "f2", "f3"]
    assert np.array_equal(labels[columns][:1520].to_numpy(), table[columns].to_numpy())
    for row in labels[1520:].itertuples():
        sources = table[(table["speaker"] == row.speaker) & (table["vowel"] == row.vowel)]
        assert any(abs(row.f0 / s.f0 - 1) <= 0.1 and abs(row.f1 / s.f1 - 1) <= 0.07
                   for s in sources.itertuples())
        assert not ((sources["f0"] == row.f0) & (sources["f1"] == row.f1)).any()
    # the table tokens measure back close to their targets for most speakers of every type
    table_part = labels[:1520]
    close = ((table_part["f1_measured"] / table_part["f1"] - 1).abs() <= 0.1) & (
        (table_part["f2_measured"] / table_part["f2"] - 1).abs() <= 0.1)
    assert (close.groupby(table_part["type"]).mean() > 0.85).all()
    # a subset holds the very tokens of the full set: a token does not depend on the others chosen
    audio_small, labels_small = vowels.generate(5, seed=3)
    for y, row in zip(audio_small, labels_small.itertuples()):
        same = np.flatnonzero((labels["speaker"] == row.speaker) & (labels["vowel"] == row.vowel)
                              & (labels["f0"] == row.f0) & ~labels["jittered"])
        assert len(same) >= 1 and any(np.array_equal(y, audio[i]) for i in same)


def test_generate_progress_bar(capsys):
    vowels.generate(2, progress=True)
    assert "vowels" in capsys.readouterr().err


@pytest.mark.parametrize("kwargs", [
    {"n": 0}, {"n": -3}, {"n": 2.5}, {"n": True}, {"n": "ten"},
    {"seed": -1}, {"seed": 1.5},
    {"sr": 7999}, {"sr": 16000.0},
    {"duration": 0.05}, {"duration": float("nan")},
])
def test_generate_rejects_bad_arguments(kwargs):
    with pytest.raises(StimgenError):
        vowels.generate(**{"n": 2, **kwargs})


def test_between_rows_lie_between_two_vowels_of_one_speaker(table):
    table = table.astype({c: float for c in ("f0", "f1", "f2", "f3")})
    table["jittered"] = False
    extra = vowels._between_rows(table, 300, np.random.default_rng(0))
    assert len(extra) == 300 and not extra["jittered"].any()
    assert extra["between_at"].between(0, 1).all() and extra["between_at"].std() > 0.2
    bark = lambda f: 26.81 * f / (1960.0 + f) - 0.53  # noqa: E731 (Traunmueller, written out as a check)
    for row in extra.itertuples():
        a, b = table.iloc[int(row.between_a)], table.iloc[int(row.between_b)]
        assert a.speaker == b.speaker == row.speaker and a.vowel != b.vowel
        assert {row.vowel, row.other_vowel} == {a.vowel, b.vowel}
        assert row.vowel == (a.vowel if row.between_at < 0.5 else b.vowel)  # the nearer one
        for f in ("f1", "f2", "f3"):  # at between_at of the way from a to b, in Bark
            w = row.between_at
            assert bark(getattr(row, f)) == pytest.approx((1 - w) * bark(a[f]) + w * bark(b[f]))
        assert min(a.f0, b.f0) - 1e-6 <= row.f0 <= max(a.f0, b.f0) + 1e-6


def test_generate_with_between_tokens_appends_them_with_their_own_noise():
    audio, labels = vowels.generate(40, seed=2, between=3)
    assert len(audio) == len(labels) == 43
    assert (labels["between_a"][:40] == -1).all() and labels["between_at"][:40].isna().all()
    assert (labels["between_a"][40:] >= 0).all() and (labels["between_b"][40:] < 40).all()
    assert (labels["other_vowel"][:40] == "").all() and (labels["other_vowel"][40:] != "").all()
    plain_audio, plain = vowels.generate(40, seed=2)
    assert "between_at" not in plain.columns
    assert all(np.array_equal(a, b) for a, b in zip(plain_audio, audio[:40]))
    # the measured formants follow the mixed targets
    assert np.allclose(labels["f2_measured"][40:], labels["f2"][40:], rtol=0.1)
    with pytest.raises(StimgenError, match="between"):
        vowels.generate(3, between=-1)
    with pytest.raises(StimgenError, match="two vowels of one speaker"):
        vowels.generate(1, between=1)
