"""The training options of issue 22: threads chosen for a busy machine, spectrogram augmentation,
and warm starts from another model's generator (--init)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from conftest import assert_one_error_line, stimgen_cli

from stimgen.cli import cli
from stimgen.errors import StimgenError
from stimgen.models.bundle import load_model
from stimgen.train import (
    AUGMENT_GAIN_DB,
    AUGMENT_SHIFT_BINS,
    AUGMENT_SHIFT_FRAMES,
    TrainSettings,
    augment_spectrograms,
    choose_threads,
    train,
)

TINY = dict(steps=2, batch_size=8, latent_dim=8, width=4, preview_every=1000, checkpoint_every=1000)


def test_threads_leave_busy_cores_alone(monkeypatch):
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.setattr("os.sched_getaffinity", lambda pid: {0, 1, 2, 3})
    monkeypatch.setattr("stimgen.train._busy_cores", lambda: 1.2)
    assert choose_threads()[0] == 3
    monkeypatch.setattr("stimgen.train._busy_cores", lambda: 3.9)
    assert choose_threads()[0] == 1  # never none
    monkeypatch.setattr("stimgen.train._busy_cores", lambda: 0.1)
    assert choose_threads()[0] == 4
    assert choose_threads(2) == (2, "--threads 2")
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    assert choose_threads() == (3, "OMP_NUM_THREADS")
    with pytest.raises(StimgenError, match="--threads must be a whole number from 1"):
        choose_threads(0)


def test_busy_cores_sees_a_busy_process():
    import subprocess
    import sys
    import time

    from stimgen.train import _busy_cores

    spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.3)
        busy = max(_busy_cores() for _ in range(3))
    finally:
        spinner.kill()
    assert busy >= 0.7  # the spinner keeps a core busy


def test_augmentation_moves_items_within_its_bounds():
    rng = np.random.default_rng(0)
    x = torch.zeros(64, 1, 32, 32)
    x[:, :, 10:20, 8:24] = torch.from_numpy(rng.uniform(0.3, 0.7, (64, 1, 10, 16)).astype(np.float32))
    g = torch.Generator().manual_seed(0)
    y = augment_spectrograms(x, g, db_range=80.0)
    assert torch.equal(y, augment_spectrograms(x, torch.Generator().manual_seed(0), 80.0))  # seeded
    assert not torch.equal(y, x)
    assert (y[x == 0] == 0).float().mean() > 0.9  # silence stays silent, but for what was shifted in
    rows = (y[:, 0] > 0).any(dim=2).float().argmax(dim=1)  # first sounding mel bin
    cols = (y[:, 0] > 0).any(dim=1).float().argmax(dim=1)  # first sounding frame
    assert set((rows - 10).tolist()) <= set(range(-AUGMENT_SHIFT_BINS, AUGMENT_SHIFT_BINS + 1))
    assert set((cols - 8).tolist()) <= set(range(-AUGMENT_SHIFT_FRAMES, AUGMENT_SHIFT_FRAMES + 1))
    assert len(set((cols - 8).tolist())) > 1  # it does shift
    for k in range(len(x)):  # the level moves by one gain per item, within the bound
        a = x[k, 0, 10:20, 8:24]
        b = y[k, 0, 10 + int(rows[k] - 10):20 + int(rows[k] - 10), 8 + int(cols[k] - 8):24 + int(cols[k] - 8)]
        gain = (b - a) * 80.0
        assert float(gain.max() - gain.min()) < 1e-4
        assert abs(float(gain.mean())) <= AUGMENT_GAIN_DB + 1e-4


def test_warm_start_copies_the_generator(tmp_path):
    ae = train("digits", tmp_path / "ae", TrainSettings(model="ae", seed=1, **TINY), progress=False, threads=1)
    gaia = train("digits", tmp_path / "gaia", TrainSettings(init=str(ae), steps=1, **{
        k: v for k, v in TINY.items() if k != "steps"}), progress=False, threads=1)
    start, after = load_model(ae), load_model(gaia)
    # one step from the AE's weights (seed 1): close to them, unlike a fresh start (seed 0)
    near = [float((a - b).detach().abs().max()) for a, b in zip(start.G.parameters(), after.G.parameters())]
    assert max(near) < 0.05
    config = json.loads((gaia / "config.json").read_text())
    assert config["run"]["init_sha256"] == start.info["model_sha256"]
    assert config["training"]["init"] == str(ae)
    fresh = train("digits", tmp_path / "fresh", TrainSettings(steps=1, **{k: v for k, v in TINY.items()
                                                                       if k != "steps"}), progress=False, threads=1)
    far = [float((a - b).detach().abs().max()) for a, b in zip(start.G.parameters(), load_model(fresh).G.parameters())]
    assert max(far) > 0.05


def test_the_default_warmup_is_half_the_steps_kept_by_a_resume_and_none_after_init(tmp_path):
    small = {k: v for k, v in TINY.items() if k != "steps"}
    run = train("digits", tmp_path / "g", TrainSettings(steps=4, **small), progress=False, threads=1)
    config = json.loads((run / "config.json").read_text())
    assert config["model_config"]["warmup_steps"] == 2 and config["training"]["warmup_steps"] == 2
    longer = train("digits", run, TrainSettings(steps=10, **small), resume=True, progress=False, threads=1)
    assert json.loads((longer / "config.json").read_text())["model_config"]["warmup_steps"] == 2  # not 10 // 2
    warm = train("digits", tmp_path / "w", TrainSettings(steps=4, init=str(run), **small), progress=False, threads=1)
    assert json.loads((warm / "config.json").read_text())["model_config"]["warmup_steps"] == 0
    paper = train("digits", tmp_path / "p", TrainSettings(steps=2, warmup_steps=0, **small), progress=False,
                  threads=1)
    assert json.loads((paper / "config.json").read_text())["model_config"]["warmup_steps"] == 0


def test_bad_init_and_augment_are_one_line(tmp_path):
    base = ["train", "--data", "digits", "--steps", "1", "--batch-size", "8", "--width", "4", "--threads", "1"]
    ae = tmp_path / "ae"
    assert CliRunner().invoke(cli, [*base, "--model", "ae", "--latent-dim", "8", "--out", str(ae)]).exit_code == 0
    result = stimgen_cli(*base, "--latent-dim", "16", "--init", str(ae), "--out", str(tmp_path / "g"))
    assert_one_error_line(result, "--init", "8 latent units; this one", "16")
    assert not (tmp_path / "g").exists()
    result = stimgen_cli(*base, "--augment", "--out", str(tmp_path / "a"))
    assert_one_error_line(result, "--augment", "pixels representation has none")
    result = stimgen_cli(*base, "--threads", "0", "--out", str(tmp_path / "t"))
    assert_one_error_line(result, "--threads must be a whole number from 1")


def test_configs_written_before_the_default_changed_read_as_trained():
    from stimgen.models.bundle import model_config_from_dict, model_config_to_dict
    from stimgen.models.gaia import GAIAConfig
    from stimgen.models.networks import NetworkConfig

    saved = model_config_to_dict(GAIAConfig(NetworkConfig(input_shape=(1, 16, 16), latent_dim=4, width=4)))
    assert saved["recon_weight"] == TrainSettings().recon_weight == 100.0  # today's default, written out
    del saved["recon_weight"]  # as config.json files written before issue 22 (the shipped digits model)
    assert model_config_from_dict("gaia", saved).recon_weight == 0.0
    assert load_model("digits").config.recon_weight == 0.0

