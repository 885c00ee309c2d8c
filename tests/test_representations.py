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
    WorldVocoder,
    from_config,
)
from stimgen.spectrogram import SpectrogramConfig
from stimgen.world import WorldConfig

SHIPPED = Path(__file__).resolve().parents[1] / "data" / "models"
EXAMPLES = {"mel": MelSpectrogram(SpectrogramConfig.preset("birdsong")), "pixels": Pixels((16, 24), "rgb"),
            "world": WorldVocoder(WorldConfig(n_bins=32), voice={"f0_hz": 110.0, "coded_ap_db": [-30.0]}),
            "mel-world": MelWorld(SpectrogramConfig.preset("vowels"), voice={"f0_hz": 200.0, "coded_ap_db": -9.0})}


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
    assert rep.name == "mel-world" and rep.voiced and rep.default_voice == data["voice"]


def test_a_representation_of_the_wrong_medium_or_unknown_is_refused():
    with pytest.raises(StimgenError, match="data.representation 'pixels' is not one of the audio representations"):
        from_config({"kind": "audio", "representation": "pixels"})
    with pytest.raises(StimgenError, match="'vocoder' is not one of the audio representations .mel, mel-world, world."):
        from_config({"kind": "audio", "representation": "vocoder"})


def test_items_render_write_and_read_back_through_the_same_representation(tmp_path):
    """What a representation writes, it reads back as the same item (pixels: to 8 bits)."""
    rep = Pixels((8, 8), "gray")
    item = np.linspace(0, 1, 64, dtype=np.float32).reshape(1, 1, 8, 8)
    (stimulus,) = rep.render(item, None)
    rep.write(tmp_path / "x.png", stimulus, None)
    features, back = rep.read_back(tmp_path / "x.png")
    assert np.abs(back - item[0]).max() <= 0.5 / 255 + 1e-6
    assert features == pytest.approx({"mean_intensity": 0.5}, abs=1e-3)
    assert rep.neighbour_distances(np.stack([item[0], back]), "pixel")[0] < 0.01
    assert rep.picture(back).shape == (8, 8, 3)
