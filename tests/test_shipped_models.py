import json

import numpy as np
import pandas as pd
import pytest
import torch

import stimgen
from stimgen.models.bundle import SHIPPED
from stimgen.outputs import file_sha256
from stimgen.train import prepare_data

NAMES = ["vowels", "birdsong", "digits"]
#: The built-in set each shipped model was trained on (experiments/train_default_models.py's recipes).
SOURCES = {"vowels": "vowel-space", "birdsong": "birdsong", "digits": "digits"}


@pytest.mark.parametrize("name", NAMES)
def test_shipped_models_load_by_name_and_are_small(name):
    folder = SHIPPED / name
    total = sum(p.stat().st_size for p in folder.iterdir())
    assert total <= 15 * 2**20
    model = stimgen.load_model(name)
    config = json.loads((folder / "config.json").read_text())
    assert model.info["model"] == "gaia" and config["data"]["source"] == SOURCES[name]
    assert config["model_sha256"] == file_sha256(folder / "model.safetensors")
    assert (config["data"]["kind"] == "audio") == ("spectrogram" in config["data"])
    latents = pd.read_csv(folder / "latents.csv")
    assert len(latents) == config["data"]["count"]
    assert latents.filter(like="z").shape[1] == model.latent_dim


def test_shipped_digits_model_encodes_its_data_as_recorded_and_reconstructs_it():
    model = stimgen.load_model("digits")
    prepared = prepare_data("digits", model.input_shape[-1])
    latents = pd.read_csv(SHIPPED / "digits" / "latents.csv")
    rows = np.arange(0, len(prepared.x), 500)
    with torch.no_grad():
        x = torch.from_numpy(prepared.x[rows])
        z = model.encode(x).numpy()
        rec = model.reconstruct(x)
    assert np.allclose(z, latents.filter(like="z").to_numpy()[rows], atol=1e-3)
    blank = float((x - x.median()).abs().mean())  # the error of the best constant image
    assert float((rec - x).abs().mean()) < 0.6 * blank


def test_shipped_vowel_model_moves_f2_between_i_and_a_instead_of_cross_fading(tmp_path):
    # issue 10: the model shipped before jumped from /i/'s F2 to /a/'s within a step or two
    # (2003, 1441, 1107, 850, 927, ... Hz); trained with the between term, F2 falls step by step
    from scipy.stats import spearmanr

    from stimgen.data.vowels import mean_vowel
    from stimgen.export import export
    from stimgen.morph import continuum
    from stimgen.signal.audio import save_wav

    for code in ("iy", "aa"):
        save_wav(tmp_path / f"{code}.wav", mean_vowel(code, "man", f0=120.0, duration=0.5), 16000)
    model = stimgen.load_model("vowels")
    assert model.info["training"]["model_options"] == {"between_weight": 1.0}
    out = export(continuum(model, tmp_path / "iy.wav", tmp_path / "aa.wav", steps=9, f0=120.0), tmp_path / "i-a")
    f2 = pd.read_csv(out / "manifest.csv")["f2_hz"].to_numpy()
    assert f2[0] - f2[-1] > 700 and spearmanr(np.arange(len(f2)), f2).statistic <= -0.95, f2.round()
    assert np.max(np.abs(np.diff(f2))) < 0.4 * (f2[0] - f2[-1]), f2.round()  # no jump of the old kind


def test_shipped_bengalese_finch_model_learned_real_song_and_says_whose(tmp_path):
    """The real-song model reconstructs syllables of a song it never saw (the second test song was held
    out of its training) and keeps them apart; the synthetic birdsong model does not carry over."""
    import shutil
    from pathlib import Path

    from stimgen.data.recordings import segment_folder
    from stimgen.models.bundle import describe
    from stimgen.signal.distances import spectral_distance

    folder = SHIPPED / "bengalese-finch"
    assert sum(p.stat().st_size for p in folder.iterdir()) <= 15 * 2**20
    model = stimgen.load_model("bengalese-finch")
    assert "CC BY 4.0" in describe(model) and "Nicholson" in describe(model)
    songs = tmp_path / "songs"
    songs.mkdir()
    for ext in (".flac", ".csv"):  # song 10 of 10: held out of the model's training (songs 1-7)
        name = "gy6or6_baseline_230312_0821.202" + ext
        shutil.copyfile(Path(__file__).parent / "data" / "birdsong-gy6or6" / name, songs / name)
    held = prepare_data(segment_folder(songs, tmp_path / "syllables", labels=True), 64).x
    with torch.no_grad():
        errors = {}
        for name in ("bengalese-finch", "birdsong"):
            rec = stimgen.load_model(name).reconstruct(torch.from_numpy(held)).numpy()
            errors[name] = float(np.median(spectral_distance(held, rec, -80.0)))
            if name == "bengalese-finch":
                flat, flat_rec = held.reshape(len(held), -1), rec.reshape(len(rec), -1)
                spread = [np.median(np.linalg.norm(a[:, None] - a[None], axis=2)) for a in (flat, flat_rec)]
                assert spread[1] / spread[0] > 0.7  # not collapsed: reconstructions as varied as the syllables
    assert errors["bengalese-finch"] < 6.0, errors  # held-out syllables lie 3.7 dB from their nearest neighbour
    assert errors["birdsong"] > 2 * errors["bengalese-finch"], errors
