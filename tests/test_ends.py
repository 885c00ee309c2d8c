"""Faithful ends (stimgen.morph.ends, issue 23): continua that start and end at the user's files."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pandas as pd
import pytest

from stimgen import load_model
from stimgen.errors import StimgenError
from stimgen.export import export
from stimgen.morph.continuum import continuum
from stimgen.morph.ends import DECODER_FILE, Ends, fit_ends, folder_ends, warp_frequency


@pytest.fixture(scope="module")
def far_voice(tmp_path_factory):
    """/i/ and /u/ of a man unlike the vowel model's training voices (espeak-ng's formants, F0 90 Hz):
    the model decodes them with the wrong F2, as it does natural voices."""
    from stimgen.data.vowels import synthesize_vowel, vocal_tract
    from stimgen.signal.audio import save_wav

    folder = tmp_path_factory.mktemp("far-voice")
    for name, formants in (("i", (288, 2290, 2900)), ("u", (328, 1366, 2300))):
        fm, bw = vocal_tract(*formants, "man")
        save_wav(folder / f"{name}.wav", synthesize_vowel(90.0, fm, bw, sr=16000, duration=0.5, rng=1), 16000)
    return folder


@pytest.fixture(scope="module")
def vowels():
    return load_model("vowels")


def _continuum(model, folder, method, out, **kw):
    stimuli = continuum(model, folder / "i.wav", folder / "u.wav", steps=5, f0=120.0, endpoints=method, **kw)
    export(stimuli, out)
    return stimuli, pd.read_csv(out / "manifest.csv")


def test_warp_puts_the_files_at_the_ends_where_the_model_does_not(vowels, far_voice, tmp_path):
    with pytest.warns(UserWarning, match="i.wav: the continuum's first step lies"):
        _, model_ends = _continuum(vowels, far_voice, "reconstruct", tmp_path / "model")
    _, warped = _continuum(vowels, far_voice, "warp", tmp_path / "warp")
    # the model's own ends are audibly not the files (more than a formant JND), the warped ones are
    assert model_ends["end_distance_bark"].max() > 0.3
    assert warped["end_distance_bark"].dropna().max() < 0.2
    assert warped["end_distance_db"].dropna().max() < 0.5 < 5 < model_ends["end_distance_db"].min()  # items
    assert warped["end_distance_bark"].iloc[1:-1].isna().all()  # measured at the ends only
    # and the path between stays a vowel path: F2 falls step by step from /i/ to /u/
    assert np.all(np.diff(warped["f2_hz"]) < 0)


def test_the_ends_are_exact_in_what_the_stimulus_hears(vowels, far_voice):
    from stimgen.morph.domain import Domain

    domain = Domain(vowels)
    x = domain.load_files([far_voice / "i.wav", far_voice / "u.wav"])
    heard = domain.representation.heard
    for method in ("residual", "warp"):
        ends = fit_ends(domain, x, method, files=[far_voice / "i.wav", far_voice / "u.wav"], f0=120.0)
        made = ends.decode(domain, ends.codes, np.array([0.0, 1.0]))
        gap = np.abs(heard(made) - heard(x))
        assert np.median(gap) < 0.002 and np.quantile(gap, 0.99) < 0.02   # clipped at the floor (0 = -80 dB) only
        # at the midpoint, each end's residual is moved to the step's anchors: not the plain mix
        if method == "warp":
            assert ends.anchors.shape == (2, 2, 4)
            mid = ends.decode(domain, ends.codes.mean(0, keepdims=True), np.array([0.5]))
            plain = Ends("residual", ends.codes, ends.residuals).decode(domain, ends.codes.mean(0, keepdims=True),
                                                                         np.array([0.5]))
            assert np.abs(mid - plain).max() > 0.05
    assert np.median(np.abs(heard(domain.decode(domain.encode(x))) - heard(x))) > 0.02   # the model alone is not


def test_speech_steps_hold_the_model_by_its_share_and_the_ends_stay_the_files(vowels, far_voice):
    """With formant anchors (speech) each step between the ends is half the model's item by
    default; the rest is the two ends' items moved to the step's formants, which no code
    changes. At any share the ends are the files; a record written before the share was the model's
    path (share 1)."""
    from stimgen.morph.domain import Domain

    domain = Domain(vowels)
    files = [far_voice / "i.wav", far_voice / "u.wav"]
    x = domain.load_files(files)
    default = fit_ends(domain, x, "warp", files=files, f0=120.0)
    assert default.model_share == 0.5 and default.state()["model_share"] == 0.5
    t = np.array([0.0, 0.5, 1.0])
    other_codes = np.roll(domain.encode(x), 1, axis=1)   # any codes: only the model's share depends on them
    steps = {}
    for share in (0.0, 0.5, 1.0):
        ends = dataclasses.replace(default, model_share=share)
        on_path = ends.decode(domain, ends.codes[[0, 0, 1]] * (1 - t[:, None]) + ends.codes[[1, 1, 1]] * t[:, None], t)
        off_path = ends.decode(domain, other_codes[[0, 0, 1]], t)
        steps[share] = on_path
        np.testing.assert_allclose(on_path[[0, 2]], default.decode(domain, default.codes, t[[0, 2]]), atol=1e-5)
        assert np.allclose(on_path[1], off_path[1], atol=1e-6) == (share == 0.0)
    # the default lies halfway between the model's path and the files' own (where none is clipped at 0 or 1)
    inside = np.all([(s[1] > 0) & (s[1] < 1) for s in steps.values()], axis=0)
    np.testing.assert_allclose(steps[0.5][1][inside], 0.5 * (steps[0.0][1] + steps[1.0][1])[inside], atol=1e-5)
    assert np.abs(steps[0.0][1] - steps[1.0][1]).max() > 0.05
    state = default.state()
    del state["model_share"]
    assert Ends.from_state(state).model_share == 1.0


def test_the_model_share_is_refused_where_it_has_no_meaning(vowels, far_voice, tmp_path):
    from conftest import digits_folder

    for method, share, message in (("tune", 0.5, "not to tune ends"), ("warp", 1.5, r"must lie in \[0, 1\]")):
        with pytest.raises(StimgenError, match=message):
            continuum(vowels, far_voice / "i.wav", far_voice / "u.wav", steps=3, endpoints=method, model_share=share)
    folder = digits_folder(tmp_path / "digits")
    a, b = sorted(folder.glob("*.png"))[:2]
    with pytest.raises(StimgenError, match="not to warp ends of pixels"):
        continuum(load_model("digits"), a, b, steps=3, model_share=0.5)


def test_the_end_steps_are_the_files_as_world_voices_them_and_the_detail_moves_between(vowels, far_voice):
    """With WORLD voices an item is smoothed before it is voiced, so the item's residual alone
    leaves the ends short of the files; the ends' detail makes each end step's envelope the
    file's own WORLD envelope (its window's), and moves with the path between."""
    from stimgen.morph.domain import Domain
    from stimgen.signal.world import analyse_file, item_to_envelope

    domain = Domain(vowels)
    rep, files = domain.representation, [far_voice / "i.wav", far_voice / "u.wav"]
    x = domain.load_files(files)
    for method in ("residual", "warp"):
        ends = fit_ends(domain, x, method, files=files, f0=120.0)
        assert ends.detail and ends.state()["detail"] is True
        t = np.array([0.0, 0.5, 1.0])
        plan = rep.plan(ends.decode(domain, ends.codes, t[[0, 2]]), files, np.eye(2), 120.0,
                        detail=ends.details(domain, files, t[[0, 2]]))
        config = rep.vocoder.config
        for item, state, path in zip(plan.items, plan.state, files):
            own = item_to_envelope(analyse_file(path, config, rep.excerpt(path))[0], config)
            voiced = rep.envelope(item, config.fft_size) * 10.0 ** (state.voice.detail_db / 10.0)
            np.testing.assert_allclose(10 * np.log10(voiced), 10 * np.log10(own), atol=1e-6)
        # without the detail the ends are the smoothed items, several dB off the files somewhere
        bare = rep.plan(plan.items, files, np.eye(2), 120.0)
        assert all(np.abs(10 * np.log10(rep.envelope(i, config.fft_size) / item_to_envelope(
            analyse_file(p, config, rep.excerpt(p))[0], config))).max() > 3 for i, p in zip(bare.items, files))
        mid = ends.details(domain, files, t)[1]
        plain = 0.5 * (ends._detail[0] + ends._detail[1])
        assert (np.abs(mid - plain).max() > 1.0) == (method == "warp")   # warp moves it; residual mixes it
    # a record written before the detail carried none, and is remade without it
    state = ends.state()
    del state["detail"]
    assert Ends.from_state(state).details(domain, files, t) is None


def test_images_and_griffin_lim_sounds_carry_no_detail(tmp_path):
    from conftest import digits_folder

    from stimgen.morph.domain import Domain

    digits = Domain(load_model("digits"))
    folder = digits_folder(tmp_path / "digits")
    files = sorted(folder.glob("*.png"))[:2]
    ends = fit_ends(digits, digits.load_files(files), "warp", files=files)
    assert not ends.detail and ends.details(digits, files, np.array([0.5])) is None


def test_warp_frequency_moves_a_peak():
    item = np.zeros((1, 8, 3), dtype=np.float32)
    item[0, 5] = 1.0
    moved = warp_frequency(item, np.arange(8.0) + 2.0)   # bin j takes bin j + 2
    assert moved[0, 3, 0] == 1.0 and moved[0, 5, 0] == 0.0


def test_the_ends_read_back_from_the_folder_make_the_same_steps(vowels, far_voice, tmp_path, monkeypatch):
    import stimgen.morph.ends as ends_module
    from stimgen.morph.domain import Domain

    monkeypatch.setattr(ends_module, "TUNE_STEPS", 3)   # the tuning is the slow option's; its record is tested here
    stimuli, _ = _continuum(vowels, far_voice, "tune", tmp_path / "tune")
    record = json.loads((tmp_path / "tune" / "manifest.json").read_text())
    assert (tmp_path / "tune" / DECODER_FILE).is_file() and record["state"]["ends"]["decoder_file"] == DECODER_FILE
    ends = folder_ends(tmp_path / "tune", record["state"])
    domain = Domain(vowels)
    t = np.array(record["settings"].get("steps") and [r["latent_t"] for r in record["stimuli"]])
    np.testing.assert_allclose(ends.decode(domain, stimuli.z, t), stimuli.x, atol=1e-6)
    # the tuned decoder is the continuum's, never the model's
    assert not np.allclose(ends.decode(domain, stimuli.z[:1], t[:1]), domain.decode(stimuli.z[:1]), atol=1e-4)
    (tmp_path / "tune" / DECODER_FILE).write_bytes(b"not weights")
    with pytest.raises(StimgenError, match="not the tuned decoder"):
        folder_ends(tmp_path / "tune", record["state"])


def test_warped_ends_survive_their_record(vowels, far_voice, tmp_path):
    from stimgen.morph.domain import Domain

    stimuli, _ = _continuum(vowels, far_voice, "warp", tmp_path / "warp")
    record = json.loads((tmp_path / "warp" / "manifest.json").read_text())
    again = Ends.from_state(record["state"]["ends"])
    t = np.array([r["latent_t"] for r in record["stimuli"]])
    np.testing.assert_allclose(again.decode(Domain(vowels), stimuli.z, t), stimuli.x, atol=1e-4)


def test_an_unknown_method_is_refused(vowels, far_voice):
    with pytest.raises(StimgenError, match="endpoints must be one of"):
        continuum(vowels, far_voice / "i.wav", far_voice / "u.wav", endpoints="exact")


def test_equal_spacing_measures_the_items_with_the_detail_their_sounds_carry(vowels):
    """Steps placed at equal log-mel distances are equal as written, detail included: two equal
    items whose sounds differ by 10 dB of detail everywhere lie 10 dB apart, not 0."""
    from stimgen.morph.domain import Domain

    rep = Domain(vowels).representation
    x = np.repeat(np.full((1, *rep.item_shape), 0.5, dtype=np.float32), 2, axis=0)
    bins = rep.vocoder.config.fft_size // 2 + 1
    detail = np.stack([np.zeros((rep.item_shape[2], bins)), np.full((rep.item_shape[2], bins), 10.0)])
    assert rep.neighbour_distances(x, "spectral") == pytest.approx([0.0])
    assert rep.neighbour_distances(x, "spectral", plan=rep.plan(x, f0=120.0, detail=detail)) == pytest.approx([10.0])


def test_the_warning_for_a_far_end_names_what_can_bring_it_nearer():
    from stimgen.export import end_advice

    # the end's item is the file's (warp): what is left is the vocoder's, and no ends method is offered
    exact = end_advice("last", 0.4, "Bark", 0.0, "warp")
    assert "0.40 Bark" in exact and "vocoder's error" in exact and "--endpoints original" in exact
    assert "warp" not in exact and "tune" not in exact and "train" not in exact
    # the model's item is not the file's: the methods not in use, and training on the voice
    far = end_advice("first", 0.9, "Bark", 6.0, "warp")
    assert "--endpoints tune," in far and "--endpoints warp" not in far and "train --init" in far
    assert "--endpoints warp or tune" in end_advice("first", 0.9, "Bark", 6.0, "reconstruct")
    assert "--endpoints warp or tune" in end_advice("first", 5.0, "dB", None, "reconstruct")  # no formants: own metric


def test_griffin_lim_steps_start_from_the_nearer_files_phase_and_old_records_do_not(tmp_path):
    """Through a Griffin-Lim model each step starts from the phase of the file it holds most of,
    so that an end step is the recording (its waveform, not only its image) and each half of the
    path starts from its own end; a record written before says nothing of it and is remade from
    the seeded random phase, as then."""
    import soundfile as sf
    from conftest import song_syllables

    from stimgen.morph.domain import Domain
    from stimgen.signal.spectrogram import sound_phase, spectrogram_to_audio

    files = song_syllables(tmp_path)
    domain = Domain(load_model("bengalese-finch"))
    rep = domain.representation
    ends = fit_ends(domain, domain.load_files(files), "warp", files=files)
    assert ends.starts and ends.state()["starts"] is True
    assert ends.model_share == 1.0 and "model_share" not in ends.state()   # song's path stays the model's
    state = ends.state()
    del state["starts"]
    old = Ends.from_state(state)
    assert not old.starts
    level = np.array([0.0, 0.4, 0.6, 1.0])
    items, weights = ends.decode(domain, ends.codes[[0, 0, 1, 1]], level), np.stack([1 - level, level], 1)
    plan, old_plan = (rep.plan(items, files, weights, starts=e.starts) for e in (ends, old))
    own = [sound_phase(*sf.read(f), rep.spectrogram) for f in files]
    assert [np.array_equal(s.voice, own[k]) for s, k in zip(plan.state, (0, 0, 1, 1))] == [True] * 4
    assert all(s.voice is None for s in old_plan.state)
    # the sounds are Griffin-Lim's from those phases (tests/test_spectrogram.py: from a sound's own
    # phase its image comes back as that sound), and the old record's from the seeded random phase
    assert np.array_equal(rep.model_audio(plan), spectrogram_to_audio(items[:, 0], rep.spectrogram,
                                                                      phase=np.stack([own[k] for k in (0, 0, 1, 1)])))
    assert np.array_equal(rep.model_audio(old_plan), spectrogram_to_audio(items[:, 0], rep.spectrogram))


def test_an_uneven_path_is_measured_and_named_and_an_even_one_is_not():
    from stimgen.morph.path_check import path_advice, path_evenness

    f2 = np.linspace(15.0, 10.0, 11)  # /i/ to /u/: F2 falls evenly by 0.5 Bark a step, F1 barely moves
    wobble = 3.0 + 0.01 * (np.arange(11) % 2)  # F1 wobbles by 0.01 Bark
    even = path_evenness(np.column_stack([wobble, f2]))
    assert even["bark_cv"] < 0.05 and even["largest_x_mean"] < 1.1
    assert "f1_turns_back_bark" not in even  # F1 moves < 1 Bark: not judged
    assert even["f2_turns_back_bark"] == 0.0 and even["f2_turns_back_at"] is None
    assert path_advice(even) is None
    jump = f2.copy()
    jump[8:] -= 1.5  # one step of 2 Bark among steps of 0.5
    said = path_advice(path_evenness(np.column_stack([np.full(11, 3.0), jump])))
    assert said is not None and "the step from 7 to 8 is" in said and "turns back" not in said
    back = f2.copy()
    back[5] += 0.9  # F2 rises 0.4 Bark against its fall, between steps 5 and 6
    turned = path_evenness(np.column_stack([np.full(11, 3.0), back]))
    assert turned["f2_turns_back_bark"] == pytest.approx(0.4) and turned["f2_turns_back_at"] == 4
    assert "F2 turns back 0.40 Bark from step 4 to 5" in path_advice(turned)
    # a step with no F1/F2 (Praat found none) cannot be judged
    assert path_evenness(np.column_stack([np.full(11, 3.0), np.where(np.arange(11) == 3, np.nan, f2)])) is None


def test_a_continuum_warns_of_its_uneven_path_as_its_manifest_measures_it(vowels, far_voice, tmp_path):
    """`warp`'s /i/-/u/ of the far voice is even; `residual` at equal latent steps cross-fades its F2
    (it holds near /i/'s, then drops in one step), and stimgen says so."""
    import warnings as w

    from stimgen.morph.domain import Domain
    from stimgen.morph.path_check import uneven_path

    rep = Domain(vowels).representation
    for method, kw, uneven in (("warp", {}, False), ("residual", {"steps": 11, "spacing": "linear"}, True)):
        out = tmp_path / method
        with w.catch_warnings(record=True) as said:
            w.simplefilter("always")
            stimuli = continuum(vowels, far_voice / "i.wav", far_voice / "u.wav", f0=120.0, endpoints=method,
                                **{"steps": 5, **kw})
            export(stimuli, out)
        expected = uneven_path(pd.read_csv(out / "manifest.csv"), rep)  # as measured on the written files
        assert (expected is not None) == uneven
        said = [str(s.message) for s in said if "the path is uneven" in str(s.message)]
        assert said == ([] if expected is None else [f"{out}: {expected}"])
    assert "the step from" in said[0] and "x the mean step" in said[0]
    assert uneven_path(pd.read_csv(out / "manifest.csv"), Domain(load_model("digits")).representation) is None
    # steps placed where the caller asked (respace: by a listener's responses) are uneven on purpose
    with w.catch_warnings(record=True) as said:
        w.simplefilter("always")
        export(continuum(vowels, far_voice / "i.wav", far_voice / "u.wav", f0=120.0, at=[0.0, 0.05, 0.1, 1.0]),
               tmp_path / "given")
    given = pd.read_csv(tmp_path / "given" / "manifest.csv")
    assert "the step from 2 to 3" in uneven_path(given, rep)  # one step of nearly the whole path
    assert uneven_path(given, rep, jumps=False) is None
    assert not [s for s in said if "the path is uneven" in str(s.message)]


def test_a_song_pitch_that_does_not_morph_is_named():
    from stimgen.morph.path_check import pitch_advice, pitch_path

    # Praat finds no pitch between the ends: those steps are named
    gap = pitch_path(np.array([1120.0, 1110.0, np.nan, np.nan, 400.0, 396.0]))
    assert gap["unpitched"] == [2, 3] and "largest_x_mean" not in gap
    assert "Praat finds none on steps 2, 3, between ends of 1,120 and 396 Hz" in pitch_advice(gap)
    # a pitch that glides a semitone a step is a morph; one that jumps is not
    glide = pitch_path(1000.0 * 2.0 ** (-np.arange(8) / 12))
    assert glide["largest_x_mean"] == pytest.approx(1.0) and pitch_advice(glide) is None
    jump = pitch_path(np.array([1000.0, 1000.0, 1000.0, 500.0, 500.0, 500.0]))
    assert jump["largest_at"] == 2 and "the step from 2 to 3 is 5.0x the mean step" in pitch_advice(jump)
    assert pitch_advice(jump, jumps=False) is None and pitch_advice(gap, jumps=False) == pitch_advice(gap)
    # nothing to judge: an end without pitch, or ends within a semitone of each other
    assert pitch_path(np.array([np.nan, 800.0, 400.0])) is None
    assert pitch_path(np.array([400.0, np.nan, 410.0])) is None


def test_a_song_continuum_says_its_pitch_does_not_morph(tmp_path):
    """The shipped Bengalese finch model between the test song's `a` (~1,100 Hz) and `b` (~400 Hz):
    the pitch jumps from one type's to the other's in one step, and stimgen says so."""
    import warnings as w

    from conftest import song_syllables

    from stimgen.morph.path_check import pitch_path

    files = song_syllables(tmp_path, rows=(11, 12))
    with w.catch_warnings(record=True) as said:
        w.simplefilter("always")
        export(continuum(load_model("bengalese-finch"), *files, steps=5), tmp_path / "a-b")
    path = pitch_path(pd.read_csv(tmp_path / "a-b" / "manifest.csv")["pitch_hz"].to_numpy())
    assert path["ends_hz"][0] > 2.5 * path["ends_hz"][1]
    assert path["unpitched"] or path["largest_x_mean"] > 2.0
    assert [str(s.message).split(": ", 1)[0] for s in said if "the pitch does not morph" in str(s.message)] == \
        [str(tmp_path / "a-b")]
