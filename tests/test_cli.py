
import pytest
from click.testing import CliRunner
from conftest import stimgen_cli as run

import stimgen
from stimgen.cli import cli


def test_version():
    result = CliRunner().invoke(cli, ["--version"])
    assert result.exit_code == 0 and stimgen.__version__ in result.output


@pytest.mark.parametrize("verb", [[], ["data"], ["data", "build"], ["data", "show"], ["continuum"], ["edit"],
                                  ["attributes", "fit"], ["grid"], ["encode"], ["decode"], ["demo"]])
def test_every_verb_has_help_with_an_example_or_listing(verb):
    result = CliRunner().invoke(cli, [*verb, "--help"])
    assert result.exit_code == 0 and "Usage:" in result.output
    if len(verb) == 2 or verb[:1] in (["continuum"], ["edit"], ["grid"], ["encode"], ["decode"], ["demo"]):
        assert "Example:" in result.output


def test_build_then_show_through_the_real_command(tmp_path):
    built = run("data", "build", "digits", "--n", "12", "--seed", "2", "--out", str(tmp_path / "d"))
    assert built.returncode == 0, built.stderr
    assert (tmp_path / "d" / "preview.png").exists()
    shown = run("data", "show", str(tmp_path / "d"))
    assert shown.returncode == 0 and "12 image files" in shown.stdout and "digit:" in shown.stdout


@pytest.mark.parametrize(
    "args, message",
    [
        (["data", "show", "{tmp}/nowhere"], "nowhere: no such folder"),
        (["data", "build", "digits", "--n", "0", "--out", "{tmp}/d0"], "--n must be"),
        (["data", "build", "digits", "--out", "{tmp}/exists"], "exists: already exists; pass --force"),
    ],
)
def test_bad_input_is_one_line_and_exit_code_2(tmp_path, args, message):
    (tmp_path / "exists").mkdir()
    result = run(*[a.format(tmp=tmp_path) for a in args])
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0] and "Traceback" not in result.stderr
    assert not (tmp_path / "d0").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["exists"]  # nothing half-written


def test_unknown_data_set_is_a_usage_error():
    result = run("data", "build", "whales", "--out", "x")
    assert result.returncode == 2 and "whales" in result.stderr and "Traceback" not in result.stderr


def test_the_commands_offer_the_apis_choices_and_defaults():
    """Every choice and default the command line shows comes from the API's own (stimgen.options)."""
    import subprocess
    import sys

    import click

    from stimgen import options
    from stimgen.cli import cli
    from stimgen.models.bundle import MODELS
    from stimgen.morph.attributes import METHODS
    from stimgen.morph.continuum import ENDPOINTS, PATHS, SPACINGS
    from stimgen.morph.respace import SCHEMES
    from stimgen.options import RenderSettings, TrainSettings
    from stimgen.representations import REGISTRY

    def param(command: str, name: str) -> click.Parameter:
        cmd = cli
        for part in command.split():
            cmd = cmd.commands[part]
        return next(p for p in cmd.params if p.name == name)

    assert tuple(MODELS) == options.MODEL_NAMES
    assert {r.metrics[0] for r in REGISTRY.values()} | {m for r in REGISTRY.values() for m in r.metrics} == set(
        options.METRIC_UNITS)
    choices = {("train", "model"): options.MODEL_NAMES, ("train", "device"): options.DEVICES,
               ("continuum", "spacing"): SPACINGS, ("continuum", "path"): PATHS,
               ("continuum", "endpoints"): ENDPOINTS, ("continuum", "metric"): tuple(options.METRIC_UNITS),
               ("attributes fit", "method"): METHODS, ("fit", "sigmoid"): options.SIGMOIDS,
               ("respace", "scheme"): SCHEMES, ("data segment", "kind"): options.SEGMENT_KINDS}
    for (command, name), expected in choices.items():
        assert tuple(param(command, name).type.choices) == tuple(expected), (command, name)
    for name in ("model", "steps", "batch_size", "lr", "latent_dim", "width", "recon_weight", "device", "seed",
                 "preview_every", "checkpoint_every"):
        assert param("train", name).default == getattr(TrainSettings(), name), name
    for name, field in (("sr", "sr"), ("level", "level_dbfs"), ("ramp_ms", "ramp_ms")):
        assert param("continuum", name).default == getattr(RenderSettings(), field)
    # and --help still starts without torch
    code = "import sys, stimgen.cli; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_networks_built_by_hand_have_the_sizes_stimgen_train_uses():
    from stimgen.models.networks import NetworkConfig
    from stimgen.options import TrainSettings

    net, settings = NetworkConfig(input_shape=(1, 32, 32)), TrainSettings()
    assert (net.latent_dim, net.width, net.max_channels) == (settings.latent_dim, settings.width, settings.max_channels)
