"""Representations: one class each behind one interface, chosen from a model's config.json."""

import json
from pathlib import Path

import numpy as np
import pytest

from stimgen.errors import StimgenError
from stimgen.representations import (
    DEFAULTS,
    REGISTRY,
    MelSpectrogram,
    MelWorld,
    Pixels,
    WorldEnvelope,
    from_config,
)
from stimgen.signal.spectrogram import SpectrogramConfig
from stimgen.signal.world import WorldConfig

SHIPPED = Path(__file__).resolve().parents[1] / "data" / "models"
VOICES = {"world": {"voice": {"f0_hz": 110.0, "coded_ap_db": [-30.0]}},
          "mel-world": {"voice": {"f0_hz": 200.0, "coded_ap_db": -9.0}}}
EXAMPLES = {"mel": MelSpectrogram(SpectrogramConfig.preset("birdsong")), "pixels": Pixels((16, 24), "rgb"),
            "world": WorldEnvelope(WorldConfig(n_bins=32), data=VOICES["world"]),
            "mel-world": MelWorld(SpectrogramConfig.preset("vowels"), data=VOICES["mel-world"])}


def test_every_registered_representation_is_complete_and_round_trips_its_settings():
    assert set(EXAMPLES) == set(REGISTRY) and set(DEFAULTS.values()) <= set(REGISTRY)
    for name, rep in EXAMPLES.items():
        assert type(rep) is REGISTRY[name] and rep.name == name
        data = {"kind": rep.medium, "representation": name, **rep.to_config()}
        again = from_config(json.loads(json.dumps(data)))
        assert type(again) is type(rep) and again.to_config() == rep.to_config()
        assert again.item_shape == rep.item_shape
        assert rep.metrics and all(rep.check_metric(m) == m for m in rep.metrics)


@pytest.mark.parametrize("name, expected", [("vowels", "mel"), ("birdsong", "mel"), ("digits", "pixels")])
def test_model_folders_without_a_representation_field_keep_loading(name, expected):
    data = json.loads((SHIPPED / name / "config.json").read_text())["data"]
    data.pop("representation", None)  # as folders written before the field have it
    assert from_config(data).name == expected


def test_the_shipped_vowel_model_voices_its_mel_items_with_world():
    data = json.loads((SHIPPED / "vowels" / "config.json").read_text())["data"]
    rep = from_config(data)
    assert rep.name == "mel-world" and rep.voiced and rep.vocoder.name == "world"
    assert rep.vocoder.default_voice == data["voice"] and rep.to_config()["voice"] == data["voice"]


def test_mel_world_is_mel_items_with_the_world_vocoder_and_a_config_may_name_the_vocoder():
    data = json.loads((SHIPPED / "vowels" / "config.json").read_text())["data"]
    mel = from_config({**data, "representation": "mel"})
    assert mel.vocoder.name == "griffin-lim" and not mel.voiced and "voice" not in mel.to_config()
    as_mel = from_config({**data, "representation": "mel", "vocoder": "world"})
    assert type(as_mel) is MelSpectrogram and as_mel.voiced and as_mel.to_config()["vocoder"] == "world"
    assert as_mel.vocoder.config == from_config(data).vocoder.config   # the same WORLD settings as mel-world's
    with pytest.raises(StimgenError, match="data.vocoder 'tape' is not one of the vocoders .griffin-lim, world."):
        from_config({**data, "vocoder": "tape"})
    with pytest.raises(StimgenError, match="griffin-lim vocoder inverts log-mel spectrograms"):
        from_config({"kind": "audio", "representation": "world", "world": {}, "vocoder": "griffin-lim"})


def test_the_median_voice_is_fitted_state_learned_by_fit_never_by_reading_items(tmp_path):
    """``dataset_items`` leaves the voice alone; ``fit`` returns a fitted copy and leaves the original."""
    from stimgen.data import open_folder
    from stimgen.data.vowels import mean_vowel
    from stimgen.signal.audio import save_wav

    for i, f0 in enumerate((100.0, 110.0, 160.0)):
        save_wav(tmp_path / f"v{i}.wav", mean_vowel("aa", "man", f0=f0, duration=0.6, rng=i), 16000)
    (tmp_path / "labels.csv").write_text("file\nv0.wav\nv1.wav\nv2.wav\n")
    ds = open_folder(tmp_path)
    rep = MelWorld(SpectrogramConfig.preset("vowels"))
    rep.dataset_items(ds)
    assert rep.vocoder.voice is None and rep.to_config()["voice"]["f0_hz"] == 120.0   # unfitted: the neutral voice
    fitted = rep.fit(ds)
    assert fitted is not rep and rep.vocoder.voice is None
    assert fitted.to_config()["voice"]["f0_hz"] == pytest.approx(110.0, abs=2.0)   # the median of 100, 110, 160


def test_a_representation_of_the_wrong_medium_or_unknown_is_refused():
    with pytest.raises(StimgenError, match="data.representation 'pixels' is not one of the audio representations"):
        from_config({"kind": "audio", "representation": "pixels"})
    with pytest.raises(StimgenError, match="'vocoder' is not one of the audio representations .mel, mel-world, world."):
        from_config({"kind": "audio", "representation": "vocoder"})


def test_items_render_write_and_read_back_through_the_same_representation(tmp_path):
    """What a representation writes, it reads back as the same item (pixels: to 8 bits)."""
    rep = Pixels((8, 8), "gray")
    item = np.linspace(0, 1, 64, dtype=np.float32).reshape(1, 1, 8, 8)
    plan = rep.plan(item)
    (stimulus,) = rep.render(plan, None)
    rep.write(tmp_path / "x.png", stimulus, None)
    ((features, back),) = rep.read_back([tmp_path / "x.png"], plan)
    assert np.abs(back - item[0]).max() <= 0.5 / 255 + 1e-6
    assert features == pytest.approx({"mean_intensity": 0.5}, abs=1e-3)
    assert rep.neighbour_distances(np.stack([item[0], back]), "pixel")[0] < 0.01
    assert rep.picture(back).shape == (8, 8, 3)
