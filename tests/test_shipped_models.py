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


@pytest.mark.parametrize("name", NAMES)
def test_shipped_models_load_by_name_and_are_small(name):
    folder = SHIPPED / name
    total = sum(p.stat().st_size for p in folder.iterdir())
    assert total <= 15 * 2**20
    model = stimgen.load_model(name)
    config = json.loads((folder / "config.json").read_text())
    assert model.info["model"] == "gaia" and config["data"]["source"] == name
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
