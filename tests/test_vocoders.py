"""A new vocoder is one class and one registry line: a toy noise-excited vocoder, registered here
and nowhere else, goes through continuum, export, read_back and respace (docs/design.md shows it)."""

import json
import shutil
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from stimgen.representations.vocoder import Vocoder

SHIPPED = Path(__file__).resolve().parents[1] / "data" / "models"


@dataclass(frozen=True)
class Breath:
    """The toy's per-stimulus state: how much of the sound is noise above 2 kHz (0 to 1)."""

    airiness: float


class NoiseExcited(Vocoder):
    """Each frame of the item's envelope excites white noise (random phases), plus ``airiness`` of
    flat noise above 2 kHz; a file's airiness is the share of its energy above 2 kHz."""

    name = "noise"
    synthesized: list = []  # what synthesize was given, for the test to look at

    @classmethod
    def for_sound(cls, rep, data):
        return cls()

    def summary(self):
        return "sound by noise through the envelope"

    def analyse(self, rep, path):
        from stimgen.signal.audio import load_audio

        y, sr = load_audio(path)
        power = np.abs(np.fft.rfft(rep.excerpt(path).cut(y, sr))) ** 2
        return Breath(float(power[np.fft.rfftfreq(2 * len(power) - 2, 1 / sr) > 2000].sum() / power.sum()))

    def mix(self, voices, weights, f0):
        return [Breath(float(w @ [v.airiness for v in voices])) for w in weights]

    def neutral(self, n, f0=None):
        return [Breath(0.1)] * n

    def synthesize(self, rep, items, voices, seed=0):
        n_fft, rng = 512, np.random.default_rng(seed)
        samples = round(rep.duration * rep.sample_rate)
        out = []
        for item, breath in zip(items, voices):
            high = np.fft.rfftfreq(n_fft, 1 / rep.sample_rate) > 2000
            envelope = rep.envelope(item, n_fft)
            envelope = envelope / envelope.max() + breath.airiness * high
            hop = samples // (len(envelope) - 1)
            y = np.zeros(samples + n_fft)
            for k, frame in enumerate(envelope):
                noise = np.fft.irfft(np.sqrt(frame) * np.exp(2j * np.pi * rng.random(len(frame))), n_fft)
                y[k * hop : k * hop + n_fft] += np.hanning(n_fft) * noise
            out.append(y[n_fft // 2 : n_fft // 2 + samples])
            NoiseExcited.synthesized.append(breath)
        return np.stack(out)


@pytest.fixture
def noise_model(tmp_path, monkeypatch):
    """The shipped vowel model's weights with mel items voiced by the toy vocoder, registered for this test."""
    from stimgen.representations.vocoders import VOCODERS

    monkeypatch.setitem(VOCODERS, "noise", NoiseExcited)
    folder = tmp_path / "noise-model"
    shutil.copytree(SHIPPED / "vowels", folder)
    config = json.loads((folder / "config.json").read_text())
    config["data"].update(representation="mel", vocoder="noise")
    (folder / "config.json").write_text(json.dumps(config))
    NoiseExcited.synthesized.clear()
    return folder


def test_a_registered_toy_vocoder_goes_through_continuum_export_read_back_and_respace(noise_model, endpoints,
                                                                                      tmp_path):
    from stimgen import load_model
    from stimgen.export import export
    from stimgen.morph.continuum import continuum
    from stimgen.psychometric import fit_data
    from stimgen.respace import respace

    model = load_model(noise_model)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the 0.6 s endpoints are windowed: said, not the point here
        cont = continuum(model, endpoints / "i.wav", endpoints / "a.wav", steps=5, spacing="linear")
        rep = cont.domain.representation
        assert rep.vocoder.name == "noise" and rep.to_config()["vocoder"] == "noise" and not rep.voiced
        ends = [rep.vocoder.analyse(rep, endpoints / f) for f in ("i.wav", "a.wav")]
        assert ends[0].airiness != ends[1].airiness
        expected = [(1 - t) * ends[0].airiness + t * ends[1].airiness for t in np.linspace(0, 1, 5)]
        assert [s.voice.airiness for s in cont.plan.state] == pytest.approx(expected)   # mixed by the toy itself

        NoiseExcited.synthesized.clear()   # the faithful ends voiced the model's two ends to measure them
        export(cont, tmp_path / "c")
        manifest = pd.read_csv(tmp_path / "c" / "manifest.csv")
        assert len(manifest) == 5 and manifest["rms_dbfs"].round(1).eq(-20.0).all()     # read back, measured
        assert [b.airiness for b in NoiseExcited.synthesized] == pytest.approx(expected)  # rendered with its state

        levels = np.repeat(manifest["morph_level"].to_numpy(), 40)
        rng = np.random.default_rng(0)
        pd.DataFrame({"morph_level": levels, "response_b": rng.random(len(levels)) < 1 / (1 + np.exp(-(levels - 0.5)
                      / 0.1))}).astype({"response_b": int}).to_csv(tmp_path / "responses.csv", index=False)
        fit_data([tmp_path / "responses.csv"], tmp_path / "fit", manifest=tmp_path / "c" / "manifest.csv", n_boot=20)
        NoiseExcited.synthesized.clear()
        stimuli, render, _ = respace(tmp_path / "c", tmp_path / "fit" / "fit.json", steps=3, model=str(noise_model))
    t = stimuli.table["morph_level"].to_numpy()
    assert [s.voice.airiness for s in stimuli.plan.state] == pytest.approx((1 - t) * ends[0].airiness
                                                                           + t * ends[1].airiness)
    export(stimuli, tmp_path / "respaced", render)
    assert [b.airiness for b in NoiseExcited.synthesized] == pytest.approx([s.voice.airiness
                                                                            for s in stimuli.plan.state])
    assert json.loads((tmp_path / "respaced" / "manifest.json").read_text())["model"]["representation"] == "mel"


def test_the_toy_refuses_f0_as_griffin_lim_does(noise_model, endpoints):
    from stimgen import load_model
    from stimgen.errors import StimgenError
    from stimgen.morph.continuum import continuum

    with pytest.raises(StimgenError, match="--f0 sets the voice of WORLD models"):
        continuum(load_model(noise_model), endpoints / "i.wav", endpoints / "a.wav", steps=3, f0=120.0)
