"""Issue 21, items 1, 2, 3 and 14: every verb declares all its inputs to the output check; a file of
another stimgen output is never replaced by a single-file --force; what appears at --out while a
command runs is never replaced; a failed training run leaves nothing that needs --force."""

import hashlib
import json

import numpy as np
import pandas as pd
import pytest
from conftest import assert_one_error_line, stimgen_cli

from stimgen.outputs import MARKER, mark_owned


def digest(folder):
    """Every file under ``folder`` with the sha256 of its bytes."""
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


CONTINUUM = ["continuum", "--steps", "2", "--spacing", "linear"]


@pytest.fixture(scope="module")
def cont(endpoints, tmp_path_factory):
    """A continuum folder that stimgen continuum wrote."""
    out = tmp_path_factory.mktemp("issue21") / "c1"
    result = stimgen_cli(*CONTINUUM, "--a", endpoints / "i.wav", "--b", endpoints / "a.wav", "--out", out)
    assert result.returncode == 0, result.stderr
    return out


@pytest.fixture()
def responses(tmp_path):
    """A listener's identification data as a plain CSV (morph_level, response_b)."""
    levels = np.repeat(np.linspace(0, 1, 7), 12)
    rng = np.random.default_rng(3)
    answers = (rng.random(levels.size) < 1 / (1 + np.exp(-(levels - 0.5) / 0.1))).astype(int)
    path = tmp_path / "P01.csv"
    pd.DataFrame({"morph_level": levels, "response_b": answers}).to_csv(path, index=False)
    return path


# --- item 1: every input is declared to the output check ---------------------------------------------


def test_fit_never_replaces_the_continuum_it_reads(cont, responses, tmp_path):
    before, data = digest(cont), responses.read_bytes()
    result = stimgen_cli("fit", responses, "--continuum", cont, "--out", cont, "--force", "--bootstrap", "20")
    assert_one_error_line(result, f"{cont}: is the input {cont}", "never replaces its inputs")
    assert digest(cont) == before and responses.read_bytes() == data
    # another --out is written as before
    result = stimgen_cli("fit", responses, "--continuum", cont, "--out", tmp_path / "fit", "--bootstrap", "20")
    assert result.returncode == 0, result.stderr
    assert json.loads((tmp_path / "fit" / "fit.json").read_text())["trials"] == 84
    assert digest(cont) == before and responses.read_bytes() == data


def test_respace_never_replaces_the_model_it_is_given(cont, tmp_path):
    model = fake_model_folder(tmp_path / "model")
    before = digest(model)
    result = stimgen_cli("respace", cont, "--fit", tmp_path / "no-fit.json", "--model", model, "--out", model,
                         "--force")
    assert_one_error_line(result, f"{model}: is the input {model}")
    assert digest(model) == before


def fake_model_folder(folder):
    """A folder that looks to the output check like a model folder stimgen train wrote."""
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({"stimgen_version": "0.1.0", "model": "gaia"}))
    (folder / "model.safetensors").write_bytes(b"weights")
    mark_owned(folder, "train", files=["config.json", "model.safetensors"])
    return folder


# --- item 2: a file of another stimgen output is part of it ------------------------------------------


def test_a_single_file_force_never_replaces_a_file_of_another_output(cont, endpoints, tmp_path):
    before = digest(cont)
    result = stimgen_cli("encode", endpoints / "i.wav", "--out", cont / "manifest.json", "--force")
    assert_one_error_line(result, f"{cont / 'manifest.json'}: is part of the stimgen output {cont}",
                          "never replaces a file of another output")
    result = stimgen_cli("encode", endpoints / "i.wav", "--out", cont / MARKER, "--force")
    assert_one_error_line(result, "is part of the stimgen output")
    assert digest(cont) == before and not (cont / "manifest.json.json").exists()

    model = fake_model_folder(tmp_path / "model")
    before = digest(model)
    result = stimgen_cli("attributes", "fit", "--model", "vowels", "--columns", "F1", "--out", model / "config.json",
                         "--force")
    assert_one_error_line(result, f"{model / 'config.json'}: is part of the stimgen output {model}")
    assert digest(model) == before


def test_a_file_that_another_output_does_not_list_is_replaced_as_before(tmp_path, endpoints):
    """codes.csv written into a stimgen folder is not part of that folder's output: encode may replace it."""
    model = fake_model_folder(tmp_path / "model")
    assert stimgen_cli("encode", endpoints / "i.wav", "--out", model / "codes.csv").returncode == 0
    result = stimgen_cli("encode", endpoints / "a.wav", "--out", model / "codes.csv", "--force")
    assert result.returncode == 0, result.stderr
    assert "a.wav" in (model / "codes.csv").read_text()
