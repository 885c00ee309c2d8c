
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
