import os
import signal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
import torch.multiprocessing as mp
from conftest import assert_one_error_line
from conftest import stimgen_cli as stimgen
from PIL import Image
from safetensors.torch import load_file, save_file

from stimgen.errors import StimgenError
from stimgen.models import AE
from stimgen.models.bundle import load_model
from stimgen.train import Interrupted, TrainSettings, fit, make_model, model_options, option_types

SHAPE = (1, 16, 16)


def data(n=64, seed=0):
    return np.random.default_rng(seed).random((n, *SHAPE), dtype=np.float32)


def settings(model="gaia", steps=12, **kw):
    return TrainSettings(model=model, steps=steps, batch_size=8, lr=1e-3, latent_dim=4, width=4, max_channels=8,
                         log_every=2, preview_every=6, checkpoint_every=6, device="cpu", **kw)


def fresh(s):
    torch.manual_seed(s.seed)
    return make_model(s, SHAPE)


def test_resume_ends_with_the_same_weights_as_an_uninterrupted_run(tmp_path):
    x = data()
    whole = fresh(settings())
    fit(whole, x, settings(), tmp_path / "a", progress=False, preview_items=x[:4])
    first = fresh(settings())
    fit(first, x, settings(steps=6), tmp_path / "b", progress=False)
    resumed = fresh(settings())
    fit(resumed, x, settings(), tmp_path / "b", resume=True, progress=False)
    for (k, a), b in zip(whole.state_dict().items(), resumed.state_dict().values()):
        assert torch.equal(a, b), k
    steps = pd.read_csv(tmp_path / "b" / "metrics.csv")["step"].tolist()
    assert steps == list(range(2, 13, 2))
    assert sorted(p.name for p in (tmp_path / "a" / "previews").iterdir()) == ["step_000006.png", "step_000012.png"]


def test_a_warmup_counts_the_runs_steps_across_a_resume_and_its_log_gains_gaias_losses(tmp_path):
    x, warm = data(), {"model_options": {"warmup_steps": 8}}
    whole = fresh(settings(**warm))
    fit(whole, x, settings(**warm), tmp_path / "a", progress=False)
    first = fresh(settings(**warm))
    fit(first, x, settings(steps=6, **warm), tmp_path / "b", progress=False)
    resumed = fresh(settings(**warm))
    fit(resumed, x, settings(**warm), tmp_path / "b", resume=True, progress=False)
    for (k, a), b in zip(whole.state_dict().items(), resumed.state_dict().values()):
        assert torch.equal(a, b), k
    for run in "ab":
        log = pd.read_csv(tmp_path / run / "metrics.csv").set_index("step")
        assert log.index.tolist() == list(range(2, 13, 2)) and log["L_rec"].notna().all()
        assert log["L_x"].isna().tolist() == [True] * 4 + [False] * 2  # D joins after step 8


class _CtrlC(AE):
    """An AE that presses Ctrl-C during its third step."""

    calls = 0

    def train_step(self, x, optimizers, rng):
        type(self).calls += 1
        if type(self).calls == 3:
            os.kill(os.getpid(), signal.SIGINT)
        return super().train_step(x, optimizers, rng)


def test_ctrl_c_finishes_the_step_saves_a_checkpoint_and_resumes_exactly(tmp_path):
    x = data()
    s = settings("ae")
    whole = fresh(s)
    fit(whole, x, s, tmp_path / "a", progress=False)
    config = fresh(s).config
    torch.manual_seed(s.seed)
    stopped = _CtrlC(config)
    with pytest.raises(Interrupted, match="step 3"):
        fit(stopped, x, s, tmp_path / "b", progress=False)
    assert (tmp_path / "b" / "checkpoint.safetensors").exists()
    resumed = fresh(s)
    fit(resumed, x, s, tmp_path / "b", resume=True, progress=False)
    for a, b in zip(whole.state_dict().values(), resumed.state_dict().values()):
        assert torch.equal(a, b)


def _worker(rank, world, init_file, out_dir, model):
    torch.distributed.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank, world_size=world)
    try:
        torch.set_num_threads(1)
        s = settings(model, steps=5)
        m = fresh(s)
        fit(m, data(), s, None, progress=False)
        save_file({k: v.contiguous() for k, v in m.state_dict().items()}, os.path.join(out_dir, f"{model}-{rank}.st"))
    finally:
        torch.distributed.destroy_process_group()


@pytest.mark.parametrize("model", ["gaia", "ae"])
def test_two_gloo_processes_keep_identical_weights(tmp_path, model):
    mp.spawn(_worker, args=(2, str(tmp_path / "init"), str(tmp_path), model), nprocs=2, join=True)
    ranks = [load_file(tmp_path / f"{model}-{r}.st") for r in range(2)]
    for k in ranks[0]:
        assert torch.equal(ranks[0][k], ranks[1][k]), k
    single = fresh(settings(model, steps=5))
    fit(single, data(), settings(model, steps=5), None, progress=False)
    changed = [not torch.equal(a, b) for a, b in zip(ranks[0].values(), fresh(settings(model)).state_dict().values())]
    assert any(changed)
    if model == "ae":  # no batch-level terms: 2 x half batches with averaged gradients == one whole batch
        # (compared as functions: a conv bias followed by group norm has no gradient but rounding noise,
        # which Adam turns into steps of either sign, so those parameters differ without effect)
        parallel = fresh(settings(model))
        parallel.load_state_dict(ranks[0])
        x = torch.from_numpy(data(8, seed=1))
        with torch.no_grad():
            assert torch.allclose(parallel.eval().reconstruct(x), single.reconstruct(x), atol=1e-4)


def test_train_command_writes_a_loadable_model_and_resumes(tmp_path):
    folder = tmp_path / "imgs"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for i in range(24):
        Image.fromarray((rng.random((20, 20)) * 255).astype(np.uint8)).save(folder / f"{i}.png")
    common = ["--data", str(folder), "--size", "16", "--batch-size", "8", "--width", "4", "--latent-dim", "4",
              "--out", str(tmp_path / "run"), "--checkpoint-every", "2", "--preview-every", "2"]
    first = stimgen("train", "--steps", "2", "--set", "gamma=0.6", *common)
    assert first.returncode == 0, first.stderr
    more = stimgen("train", "--steps", "4", "--resume", *common)
    assert more.returncode == 0, more.stderr
    model = load_model(tmp_path / "run")
    assert model.input_shape == (1, 16, 16) and model.info["training"]["steps"] == 4
    assert model.info["training"]["model_options"] == {"gamma": 0.6} and model.config.gamma == 0.6  # kept on resume
    assert model.info["data"]["kind"] == "image" and len(model.info["data"]["data_sha256"]) == 64
    latents = pd.read_csv(tmp_path / "run" / "latents.csv")
    assert len(latents) == 24 and {"file", "split", "z0", "z3"} <= set(latents.columns)
    shown = stimgen("model", "show", str(tmp_path / "run"))
    assert shown.returncode == 0 and "gaia model, input (1, 16, 16), 4 latent units" in shown.stdout
    assert model.info["model_sha256"] in shown.stdout
    again = stimgen("train", "--steps", "2", *common)
    assert again.returncode == 2 and "--force" in again.stderr and "Traceback" not in again.stderr


def test_bad_training_data(tmp_path):
    (tmp_path / "empty").mkdir()
    result = stimgen("train", "--data", str(tmp_path / "empty"), "--out", str(tmp_path / "r"))
    assert result.returncode == 2 and "holds no audio" in result.stderr and len(result.stderr.splitlines()) == 1
    mixed = tmp_path / "mixed"
    mixed.mkdir()
    Image.new("L", (16, 16)).save(mixed / "a.png")
    Image.new("L", (32, 16)).save(mixed / "b.png")
    result = stimgen("train", "--data", str(mixed), "--out", str(tmp_path / "r"))
    assert result.returncode == 2 and "different sizes" in result.stderr
    with pytest.raises(StimgenError, match="only 4 training items"):
        fit(fresh(settings()), data(4), settings(), None, progress=False)


def test_set_reaches_each_models_config():
    vae = make_model(settings("vae", model_options={"kl_weight": "0.5"}), SHAPE)
    assert vae.config.kl_weight == 0.5 and vae.config.lr == 1e-3
    assert make_model(settings("acai", model_options={"lam": 0.25, "reg": "0.1"}), SHAPE).config.lam == 0.25
    gaia = make_model(settings(model_options=[("disc_bottom", "4"), ("interp_std", "1e-1")]), SHAPE)
    assert (gaia.config.disc_bottom, gaia.config.interp_std) == (4, 0.1)
    assert model_options(settings(model_options={"disc_bottom": "none"})) == {"disc_bottom": None, "warmup_steps": 6}
    for model in ("gaia", "ae", "vae", "acai"):  # docs/models.md lists every option
        text = (Path(__file__).resolve().parents[1] / "docs" / "models.md").read_text()
        assert all(f"`{name}`" in text for name in option_types(model)), model


def test_legacy_gaia_fields_still_reach_the_config():
    gaia = make_model(settings(distance_weight=0.0, recon_weight=0.7, disc_bottom=4), SHAPE)
    assert (gaia.config.distance_weight, gaia.config.recon_weight, gaia.config.disc_bottom) == (0.0, 0.7, 4)
    assert make_model(settings(), SHAPE).config.distance_weight == 2e-5  # unset: the config's default
    assert make_model(settings("ae", disc_bottom=None), SHAPE).config.lr == 1e-3
    with pytest.raises(StimgenError, match=r"^--recon-weight: the ae model has no option recon_weight \(an option of"):
        make_model(settings("ae", recon_weight=1.0), SHAPE)
    with pytest.raises(StimgenError, match="--recon-weight sets recon_weight too"):
        model_options(settings(recon_weight=1.0, model_options={"recon_weight": 2}))


@pytest.mark.parametrize("model, options, message", [
    ("vae", {"kl_wieght": "0.1"}, "--set kl_wieght: the vae model has no option kl_wieght (did you mean kl_weight?); "
                                  "its options: kl_weight"),
    ("acai", {"lamda": "1"}, "--set lamda: the acai model has no option lamda (did you mean lam?); "
                             "its options: lam, reg"),
    ("gaia", {"kl_weight": "1"}, "--set kl_weight: the gaia model has no option kl_weight (an option of vae); "
                                 "its options: disc_bottom, slope, gamma, distance_weight, recon_weight, "
                                 "between_weight, interp_mean, interp_std, warmup_steps"),
    ("ae", {"gamma": "1"}, "--set gamma: the ae model has no option gamma (an option of gaia); "
                           "its options: between_weight"),
    ("vae", {"lr": "1"}, "--set lr: lr has its own option, --lr"),
    ("vae", {"kl_weight": "abc"}, "--set kl_weight=abc: kl_weight takes a number"),
    ("vae", {"kl_weight": "inf"}, "--set kl_weight=inf: kl_weight takes a number"),
    ("gaia", {"disc_bottom": "4.5"}, "--set disc_bottom=4.5: disc_bottom takes a whole number or none"),
])
def test_a_wrong_model_option_is_one_clear_error(model, options, message):
    with pytest.raises(StimgenError) as caught:
        make_model(settings(model, model_options=options), SHAPE)
    assert str(caught.value) == message


def test_set_without_equals_is_one_line_before_training(tmp_path):
    common = ["train", "--data", "digits", "--out", tmp_path / "r"]
    assert_one_error_line(stimgen(*common, "--set", "nonsense"), "--set nonsense: give KEY=VALUE")
    result = stimgen(*common, "--model", "vae", "--set", "kl_wieght=1")
    assert_one_error_line(result, "did you mean kl_weight?")
    assert not (tmp_path / "r").exists()
