
import ast
import dataclasses
import inspect
import re
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from conftest import stimgen_cli as run

import stimgen
from stimgen import cli as cli_module
from stimgen import options
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


def _commands(group: click.Group, path: tuple[str, ...] = ()):
    """Every command under ``group``, as ("data build", command), through nested groups."""
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            yield from _commands(command, (*path, name))
        else:
            yield " ".join((*path, name)), command


def _api_defaults(*apis) -> dict[str, list]:
    """Parameter name -> the defaults the functions or settings dataclasses ``apis`` give it
    (parameters without a default left out)."""
    found: dict[str, list] = {}
    for api in apis:
        if dataclasses.is_dataclass(api):
            for f in dataclasses.fields(api):
                if f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING:
                    found.setdefault(f.name, []).append(
                        f.default if f.default is not dataclasses.MISSING else f.default_factory())
        else:
            for name, p in inspect.signature(api).parameters.items():
                if p.default is not inspect.Parameter.empty:
                    found.setdefault(name, []).append(p.default)
    return found


def _command_apis() -> dict[str, tuple]:
    """What each command hands its options to: the functions it calls and the settings it builds."""
    from stimgen.data import builtin, folder
    from stimgen.data.recordings import segment_folder
    from stimgen.demo import demo
    from stimgen.discrimination_data import fit_discrimination, fit_files
    from stimgen.export import export, write_latents
    from stimgen.in_song import in_song
    from stimgen.models.bundle import describe, load_model
    from stimgen.morph.attributes import edit, fit_model_attributes
    from stimgen.morph.codes import decode_latents, encode_files
    from stimgen.morph.continuum import continuum
    from stimgen.morph.grid import grid
    from stimgen.options import RenderSettings
    from stimgen.pilot import make_pilot
    from stimgen.psychometric import fit_data
    from stimgen.respace import respace
    from stimgen.signal.segment import SegmentSettings
    from stimgen.train import TrainSettings, train

    return {
        "data build": (builtin.build,), "data show": (folder.open_folder,),
        "data segment": (SegmentSettings, segment_folder), "train": (TrainSettings, train),
        "model show": (load_model, describe),
        "continuum": (continuum, RenderSettings, export), "attributes fit": (fit_model_attributes,),
        "edit": (edit, RenderSettings, export), "grid": (grid, RenderSettings, export),
        "encode": (encode_files, write_latents), "decode": (decode_latents, RenderSettings, export),
        "pilot": (make_pilot,), "fit": (fit_files, fit_data, fit_discrimination), "respace": (respace, export),
        "demo": (demo,), "in-song": (in_song,),
    }


#: Options whose name is not the API's: (command or "*", option's name) -> the API parameter.
API_NAMES = {("*", "level"): "level_dbfs", ("fit", "continuum_dir"): "manifest", ("edit", "input_"): "source"}
#: How a command turns an option's value into the API's argument, where it is not the value itself.
TO_API = {("*", "onset"): lambda onset: cli_module._onsets(onset) if isinstance(onset, tuple) else onset,
          ("respace", "p_range"): lambda text: tuple(float(v) for v in text.split(",")),
          ("train", "model_options"): dict}
#: Defaults of the command line's own, where the API has none.
CLI_ONLY = {("demo", "out"): options.DEMO_OUT}
#: Options left unset (None) on purpose although the API has a default: the kind's default applies,
#: shown in the help (test_segment_help_shows_each_kinds_defaults).
PER_KIND = {("data segment", name) for name in
            ("min_unit", "max_unit", "min_silence", "fmin", "fmax", "start_db", "range_db", "pad")}


def _api_choices() -> dict[tuple[str, str], object]:
    """The values the API accepts (its registries, or the names it checks against) for each choice."""
    from stimgen.data import builtin
    from stimgen.discrimination import MODELS as DISCRIMINATION_MODELS
    from stimgen.models.bundle import MODELS
    from stimgen.morph.attributes import METHODS
    from stimgen.morph.continuum import ENDPOINTS, PATHS, SPACINGS
    from stimgen.psychometric import SIGMOIDS
    from stimgen.representations import REGISTRY
    from stimgen.respace import SCHEMES
    from stimgen.signal.segment import KINDS
    from stimgen.signal.splice import MATCHES
    from stimgen.tasks import ORDERS

    return {("data build", "name"): builtin.BUILTINS, ("data segment", "kind"): KINDS,
            ("train", "model"): MODELS, ("train", "device"): options.DEVICES, ("train", "representation"): REGISTRY,
            ("continuum", "spacing"): SPACINGS, ("continuum", "path"): PATHS, ("continuum", "endpoints"): ENDPOINTS,
            ("continuum", "metric"): {m for r in REGISTRY.values() for m in r.metrics},
            ("attributes fit", "method"): METHODS, ("fit", "sigmoid"): SIGMOIDS,
            ("respace", "scheme"): SCHEMES, ("in-song", "match"): MATCHES,
            ("pilot", "task"): ("identification", *ORDERS, *options.ADAPTIVE_TASKS),
            ("fit", "model"): DISCRIMINATION_MODELS}


def test_every_default_and_choice_of_every_command_is_the_apis():
    """Walk every command's parameters: a default is the default of the API parameter the option is
    passed to (or unset: None, False, ()), and a choice list is what the API accepts."""
    apis, api_choices = _command_apis(), _api_choices()
    commands = dict(_commands(cli))
    assert set(commands) == set(apis), "a command without its API in _command_apis (or one gone)"
    checked, choices_seen = 0, set()
    for path, command in commands.items():
        defaults = _api_defaults(*apis[path])
        given = command.make_context(path, [], resilient_parsing=True).params  # what the command receives
        for param in command.params:
            key = (path, param.name)
            value = given[param.name]
            if isinstance(param.type, click.Choice):
                choices_seen.add(key)
                assert key in api_choices, f"stimgen {path} --{param.name}: a choice the test does not check"
                assert sorted(param.type.choices) == sorted(api_choices[key]), key
                assert value is None or value in param.type.choices, key
            name = API_NAMES.get(key, API_NAMES.get(("*", param.name), param.name))
            convert = TO_API.get(key, TO_API.get(("*", param.name), lambda v: v))
            if key in CLI_ONLY:
                assert name not in defaults and value == CLI_ONLY[key], key
            elif key in PER_KIND:
                assert value is None and name in defaults, key
            elif name in defaults:
                for api_default in defaults[name]:
                    assert convert(value) == api_default and type(convert(value)) is type(api_default), (
                        f"stimgen {path} --{param.name}: {value!r}, the API's {name}={api_default!r}")
                checked += 1
            else:  # nothing in the API to follow: the option must be unset unless given
                assert value is None or value is False or value == (), (
                    f"stimgen {path} --{param.name} defaults to {value!r} but the API has no {name!r}")
    assert choices_seen == set(api_choices)
    assert checked >= 60  # sanity: the walk reached the options


def test_cli_holds_no_literal_default():
    """cli.py names its defaults (stimgen.options, the settings classes); it writes none itself."""
    tree = ast.parse(Path(cli_module.__file__).read_text())
    literals = [(node.lineno, ast.unparse(kw.value)) for node in ast.walk(tree) if isinstance(node, ast.Call)
                for kw in node.keywords if kw.arg == "default" and isinstance(kw.value, ast.Constant)
                and kw.value.value is not None]
    assert literals == []


def test_segment_help_shows_each_kinds_defaults():
    """stimgen data segment's [birdsong 20, speech 50] in the help are SegmentSettings.for_kind's."""
    from stimgen.signal.segment import SegmentSettings

    command = cli.commands["data"].commands["segment"]
    for param in command.params:
        if ("data segment", param.name) not in PER_KIND:
            continue
        shown = re.search(r"\[([^\]]+)\]$", param.help).group(1)
        pairs = [part.split() for part in shown.split(", ")]
        if len(pairs) == 1 and len(pairs[0]) == 1:  # one number: every kind's, or birdsong's where only birdsong's
            kinds = ["birdsong"] if param.help.startswith("birdsong:") else list(options.SEGMENT_KINDS)
            pairs = [[kind, pairs[0][0]] for kind in kinds]
        for kind, number in pairs:
            assert float(number) == getattr(SegmentSettings.for_kind(kind), param.name), (param.name, kind)


def test_the_light_names_are_the_registries():
    """stimgen.options's names (read by --help without torch) are those of the API's registries."""
    from stimgen import representations
    from stimgen.models.bundle import MODELS

    assert tuple(MODELS) == options.MODEL_NAMES
    assert {name: r.medium for name, r in representations.REGISTRY.items()} == options.REPRESENTATIONS
    assert tuple(representations.REGISTRY) == tuple(options.REPRESENTATIONS)
    assert representations.DEFAULTS == options.DEFAULT_REPRESENTATIONS
    assert {m for r in representations.REGISTRY.values() for m in r.metrics} == set(options.METRIC_UNITS)
    help_text = cli.commands["train"].get_help(click.Context(cli.commands["train"]))
    assert all(name in help_text for name in options.REPRESENTATIONS)


def test_help_starts_without_torch():
    code = "import sys, stimgen.cli; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_networks_built_by_hand_have_the_sizes_stimgen_train_uses():
    from stimgen.models.networks import NetworkConfig
    from stimgen.options import TrainSettings

    net, settings = NetworkConfig(input_shape=(1, 32, 32)), TrainSettings()
    assert (net.latent_dim, net.width, net.max_channels) == (settings.latent_dim, settings.width, settings.max_channels)
