import copy
import json
import math

import numpy as np
import pytest
import torch

from stimgen.errors import StimgenError
from stimgen.models import ACAI, AE, GAIA, MODELS, VAE, ACAIConfig, AEConfig, GAIAConfig, NetworkConfig, VAEConfig
from stimgen.models.bundle import load_model, save_model
from stimgen.models.gaia import balance, interpolate, pairwise_distance_loss
from stimgen.models.model import l1
from stimgen.models.networks import ConvDecoder, MLPDecoder, UpsampledConv, for_one_code

ALL = [(GAIA, GAIAConfig), (AE, AEConfig), (VAE, VAEConfig), (ACAI, ACAIConfig)]


def net(shape, latent=4, width=8):
    return NetworkConfig(input_shape=shape, latent_dim=latent, width=width, max_channels=32,
                         output="sigmoid" if len(shape) == 3 else "linear")


@pytest.mark.parametrize("cls, cfg", ALL)
@pytest.mark.parametrize("shape", [(2,), (1, 32, 32), (3, 64, 64), (1, 128, 128)])
def test_api_shapes(cls, cfg, shape):
    model = cls(cfg(net(shape)))
    x = torch.rand(2, *shape)
    z = model.encode(x)
    assert model.input_shape == shape and z.shape == (2, 4)
    assert model.decode(z).shape == x.shape and model.reconstruct(x).shape == x.shape
    if len(shape) == 3:
        assert 0 <= model.decode(z).min() and model.decode(z).max() <= 1


def test_network_config_rejects_bad_shapes():
    with pytest.raises(StimgenError, match="powers of two"):
        NetworkConfig(input_shape=(1, 48, 48))
    with pytest.raises(StimgenError, match="1 or 3 channels"):
        NetworkConfig(input_shape=(2, 32, 32))


def test_balance_is_the_papers_sigmoid_with_slope_20():
    for d in (-0.2, -0.01, 0.0, 0.03, 0.1):
        assert float(balance(d)) == pytest.approx(1 / (1 + math.exp(-d * 20)), rel=1e-6)
    assert float(balance(0.1, slope=5)) == pytest.approx(1 / (1 + math.exp(-0.5)), rel=1e-6)


def test_interpolations_lie_on_the_pairs_lines_with_beta_normal_half_quarter():
    n = 200_000
    z = torch.cat([torch.zeros(n // 2, 1), torch.ones(n // 2, 1)])  # z_i = 0, z_j = 1
    z_int = interpolate(z, torch.Generator().manual_seed(0))
    assert z_int.shape == (n, 1)
    beta = 1 - z_int[:, 0]  # z_int = beta * 0 + (1 - beta) * 1
    assert float(beta.mean()) == pytest.approx(0.5, abs=0.005)
    assert float(beta.std()) == pytest.approx(0.25, abs=0.005)
    outside = float(((beta < 0) | (beta > 1)).float().mean())
    assert outside == pytest.approx(0.0455, abs=0.005)  # P(|N(0,1)| > 2): unclipped
    # the second set pairs the reversed first half with the second half
    codes = torch.arange(8.0)[:, None] * torch.tensor([[1.0, 10.0]])
    mixed = interpolate(codes, torch.Generator().manual_seed(1))
    starts = torch.cat([codes[:4], codes[:4].flip(0)])
    ends = torch.cat([codes[4:], codes[4:]])
    b = (mixed - ends) / (starts - ends)
    assert torch.allclose(b[:, 0], b[:, 1], atol=1e-5)  # one beta per pair, both coordinates


def test_pairwise_distance_loss_by_hand():
    x = torch.tensor([[0.0], [1.0], [3.0]])
    z = torch.tensor([[0.0], [2.0], [3.0]])
    dx = np.array([[0, 1, 9], [1, 0, 4], [9, 4, 0]], dtype=float)
    dz = np.array([[0, 4, 9], [4, 0, 1], [9, 1, 0]], dtype=float)
    expected = np.mean((np.log2(1 + dx / dx.mean()) - np.log2(1 + dz / dz.mean())) ** 2)
    assert float(pairwise_distance_loss(x, z)) == pytest.approx(expected, rel=1e-6)
    assert float(pairwise_distance_loss(x, 7.0 * x)) == pytest.approx(0.0, abs=1e-7)  # scale-free
    images = torch.rand(5, 1, 8, 8)
    assert float(pairwise_distance_loss(images, images.flatten(1))) == pytest.approx(0.0, abs=1e-6)


def test_gaia_step_balancing_and_learning_rate_split():
    torch.manual_seed(0)
    model = GAIA(GAIAConfig(net((2,), latent=2, width=16), lr=1e-3, gamma=0.5))
    opts = model.configure_optimizers()
    m = model.train_step(torch.randn(16, 2), opts, torch.Generator().manual_seed(0))
    fake = (m["L_gen"] + m["L_int"]) / 2
    assert m["delta_D"] == pytest.approx(1 / (1 + math.exp(-20 * (m["L_x"] - fake))), rel=1e-5)
    assert m["W_int"] == pytest.approx(1 / (1 + math.exp(-20 * (m["L_int"] - m["L_gen"]))), rel=1e-5)
    assert m["W_fake"] == pytest.approx(1 / (1 + math.exp(-20 * (0.5 * fake - m["L_x"]))), rel=1e-5)
    assert opts["D"].param_groups[0]["lr"] == pytest.approx(1e-3 * m["delta_D"])
    assert opts["G"].param_groups[0]["lr"] == pytest.approx(1e-3 * (1 - m["delta_D"]))


@pytest.mark.parametrize("recon_weight", [0.0, 0.7])
def test_gaia_gradients_treat_the_balancing_weights_as_constants(recon_weight):
    torch.manual_seed(1)
    model = GAIA(GAIAConfig(net((3,), latent=2, width=16), distance_weight=0.3, recon_weight=recon_weight))
    before = copy.deepcopy(model)
    x = torch.randn(8, 3)
    m = model.train_step(x, model.configure_optimizers(), torch.Generator().manual_seed(5))
    # recompute the generator's loss on the untouched copy with the weights as plain numbers
    z = before.G.encoder(x)
    z_int = interpolate(z, torch.Generator().manual_seed(5))
    x_gen, x_int = before.G.decoder(z), before.G.decoder(z_int)
    g_loss = (l1(x, before.D(x_gen)) * (1 - m["W_int"]) + l1(x_int, before.D(x_int)) * m["W_int"]
              + 0.3 * pairwise_distance_loss(x, z) + recon_weight * l1(x, x_gen))
    expected = torch.autograd.grad(g_loss, list(before.G.parameters()))
    for got, want in zip((p.grad for p in model.G.parameters()), expected):
        assert torch.allclose(got, want, atol=1e-6)
    d_loss = l1(x, before.D(x)) - (l1(x, before.D(x_gen)) + l1(x_int, before.D(x_int))) / 2 * m["W_fake"]
    expected = torch.autograd.grad(d_loss, list(before.D.parameters()))
    for got, want in zip((p.grad for p in model.D.parameters()), expected):
        assert torch.allclose(got, want, atol=1e-6)


def test_gaia_warmup_trains_the_generator_alone_as_the_ae_does_then_gaia():
    torch.manual_seed(2)
    config = GAIAConfig(net((3,), latent=2, width=16), lr=1e-3, warmup_steps=2)
    model, twin = GAIA(config), AE(AEConfig(config.generator, lr=1e-3))
    twin.G.load_state_dict(model.G.state_dict())
    opts, twin_opts = model.configure_optimizers(), twin.configure_optimizers()
    d_before = copy.deepcopy(model.D.state_dict())
    x = torch.randn(8, 3)
    for step in range(2):  # the warm-up: the AE's own step on G, D untouched
        m = model.train_step(x, opts, torch.Generator().manual_seed(step), step=step)
        assert m == twin.train_step(x, twin_opts, torch.Generator())
    for name, p in model.G.state_dict().items():
        assert torch.equal(p, twin.G.state_dict()[name]), name
    assert all(torch.equal(p, d_before[k]) for k, p in model.D.state_dict().items())
    m = model.train_step(x, opts, torch.Generator().manual_seed(2), step=2)  # GAIA's step: D learns too
    assert {"L_rec", "L_x", "delta_D"} <= set(m)
    assert {int(state["step"]) for state in opts["G"].state.values()} == {1}  # GAIA's Adam starts afresh
    assert not all(torch.equal(p, d_before[k]) for k, p in model.D.state_dict().items())
    assert opts["G"].param_groups[0]["lr"] == pytest.approx(1e-3 * (1 - m["delta_D"]))


@pytest.mark.parametrize("cls, cfg", ALL)
def test_a_few_hundred_steps_lower_the_reconstruction_error_on_a_toy_set(cls, cfg):
    from sklearn.datasets import make_moons

    x = torch.from_numpy(make_moons(512, noise=0.05, random_state=0)[0].astype(np.float32))
    x = (x - x.mean(0)) / x.std(0)
    torch.manual_seed(0)
    model = cls(cfg(NetworkConfig(input_shape=(2,), latent_dim=2, width=64, depth=4, output="linear"), lr=1e-3))
    opts, rng = model.configure_optimizers(), torch.Generator().manual_seed(0)
    with torch.no_grad():
        before = float(l1(x, model.reconstruct(x)))
    for _ in range(300):
        model.train_step(x[torch.randint(0, 512, (64,), generator=rng)], opts, rng)
    with torch.no_grad():
        after = float(l1(x, model.reconstruct(x)))
    assert after < 0.5 * before


def test_save_and_load_give_identical_outputs(tmp_path):
    torch.manual_seed(0)
    model = GAIA(GAIAConfig(net((1, 32, 32))))
    model.train_step(torch.rand(4, 1, 32, 32), model.configure_optimizers(), torch.Generator())
    digest = save_model(model, tmp_path / "m", {"data": {"kind": "image", "image": {"size": [32, 32], "mode": "gray"}}})
    loaded = load_model(tmp_path / "m")
    x = torch.rand(3, 1, 32, 32)
    with torch.no_grad():
        assert torch.equal(model.eval().encode(x), loaded.encode(x))
        assert torch.equal(model.decode(model.encode(x)), loaded.reconstruct(x))
    assert loaded.info["model_sha256"] == digest and loaded.info["model"] == "gaia"


@pytest.mark.parametrize("shape, bottleneck", [((1, 64, 64), "dense"), ((3, 32, 64), "dense"), ((1, 32, 32), "conv")])
def test_the_one_code_decoder_is_the_decoder_to_float32_rounding(shape, bottleneck):
    torch.manual_seed(0)
    decoder = ConvDecoder(NetworkConfig(input_shape=shape, latent_dim=32, width=8, max_channels=32,
                                      bottleneck=bottleneck)).eval()
    for m in decoder.modules():  # weights and biases of a trained size, not the small start of _init
        if isinstance(m, torch.nn.Conv2d):
            torch.nn.init.normal_(m.weight, std=(2.0 / m.weight[0].numel()) ** 0.5)
            torch.nn.init.normal_(m.bias, std=0.1)
    before = copy.deepcopy(decoder.state_dict())
    fast = for_one_code(decoder)
    kinds = [type(m) for m in fast.modules()]
    upsamplings = [type(m) for m in decoder.modules()].count(torch.nn.Upsample)
    assert upsamplings >= 2 and torch.nn.Upsample not in kinds and kinds.count(UpsampledConv) == upsamplings
    z = torch.randn(5, 32) if bottleneck == "dense" else torch.randn(5, 32, 4, 4)
    with torch.no_grad():
        want, got = decoder(z), torch.cat([fast(code[None]) for code in z])
    assert got.shape == want.shape and (want - 0.5).abs().max() > 0.1  # outputs that vary
    assert torch.allclose(got, want, atol=1e-5, rtol=0)
    assert all(torch.equal(before[k], v) for k, v in decoder.state_dict().items())  # a copy: the model is untouched


def test_an_upsampled_convolution_is_upsampling_then_the_reflect_padded_convolution():
    torch.manual_seed(1)
    conv = torch.nn.Conv2d(3, 5, 3, padding=1, padding_mode="reflect")
    x = torch.randn(2, 3, 4, 6)
    with torch.no_grad():
        want = conv(torch.nn.functional.interpolate(x, scale_factor=2, mode="nearest"))
        assert torch.allclose(UpsampledConv(conv)(x), want, atol=1e-5, rtol=0)
        zero_padded = torch.nn.Conv2d(3, 5, 3, padding=1)
        zero_padded.load_state_dict(conv.state_dict())
        assert not torch.allclose(UpsampledConv(zero_padded)(x), zero_padded(  # the border is reflection's
            torch.nn.functional.interpolate(x, scale_factor=2, mode="nearest")), atol=1e-3)


def test_a_one_code_copy_of_an_mlp_decoder_is_the_decoder():
    torch.manual_seed(0)
    decoder = MLPDecoder(NetworkConfig(input_shape=(2,), latent_dim=4)).eval()
    z = torch.randn(3, 4)
    with torch.no_grad():
        assert torch.equal(for_one_code(decoder)(z), decoder(z))


def test_bad_model_folders(tmp_path):
    torch.manual_seed(0)
    save_model(AE(AEConfig(net((1, 32, 32)))), tmp_path / "m", {})
    with pytest.raises(StimgenError, match="not a model folder"):
        load_model(tmp_path)
    with pytest.raises(StimgenError, match="no model folder or shipped model"):
        load_model("no-such-model")
    weights = tmp_path / "m" / "model.safetensors"
    good = weights.read_bytes()
    weights.write_bytes(good[: len(good) // 2])
    with pytest.raises(StimgenError, match="hash"):
        load_model(tmp_path / "m")
    config = json.loads((tmp_path / "m" / "config.json").read_text())
    del config["model_sha256"]
    (tmp_path / "m" / "config.json").write_text(json.dumps(config))
    with pytest.raises(StimgenError, match="not a readable safetensors file"):
        load_model(tmp_path / "m")
    weights.write_bytes(good)
    config["model_config"]["generator"]["latent_dim"] = 5
    (tmp_path / "m" / "config.json").write_text(json.dumps(config))
    with pytest.raises(StimgenError, match="do not match the architecture"):
        load_model(tmp_path / "m")
    (tmp_path / "m" / "config.json").write_text("{not json")
    with pytest.raises(StimgenError, match="not valid JSON"):
        load_model(tmp_path / "m")


def test_registry_names_match_the_classes():
    assert {name: cls.name for name, (cls, _) in MODELS.items()} == {n: n for n in MODELS}


@pytest.mark.parametrize("name", ["gaia", "ae", "vae", "acai"])
def test_every_model_declares_its_info_and_a_generator_with_an_encoder_and_a_decoder(name):
    from stimgen.train import TrainSettings, make_model

    model = make_model(TrainSettings(model=name, latent_dim=4, width=4), (1, 16, 16))
    assert model.info == {} and hasattr(model.G, "encoder") and hasattr(model.G, "decoder")
    z = model.encode(torch.rand(2, 1, 16, 16))
    assert z.shape == (2, 4) and model.decode(z).shape == (2, 1, 16, 16)
