"""Issue 21, items 1, 2, 3 and 14: every verb declares all its inputs to the output check; a file of
another stimgen output is never replaced by a single-file --force; what appears at --out while a
command runs is never replaced; a failed training run leaves nothing that needs --force."""

import hashlib
import json

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from conftest import assert_one_error_line, digits_folder, stimgen_cli

import stimgen.outputs
from stimgen.errors import StimgenError
from stimgen.outputs import MARKER, atomic_dir, atomic_file, mark_owned


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


# --- item 3: what appears at --out after the check is never replaced ------------------------------------


@pytest.fixture(params=["renameat2", "fallback"])
def rename(request, monkeypatch):
    """Renaming without replacing by Linux's renameat2, and by the fallback of other systems."""
    if request.param == "fallback":
        monkeypatch.setattr(stimgen.outputs, "_renameat2", lambda src, dst: None)
    return request.param


@pytest.mark.parametrize("appeared", ["empty", "a file in it"])
def test_a_folder_made_at_out_while_writing_is_left_alone(tmp_path, appeared, rename):
    out = tmp_path / "out"
    with pytest.raises(StimgenError, match="appeared while this command ran"):
        with atomic_dir(out) as tmp:
            (tmp / "a.txt").write_text("result")
            out.mkdir()  # a second run, or the user, between the check and the rename
            if appeared != "empty":
                (out / "mine.txt").write_text("mine")
    assert sorted(p.name for p in out.iterdir()) == ([] if appeared == "empty" else ["mine.txt"])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # no temporary folder left


def test_force_replaces_only_the_output_the_check_approved(tmp_path, rename):
    out = tmp_path / "out"
    for text in ("old", "new"):  # an output of stimgen's, unchanged since the check: replaced
        with atomic_dir(out, force=True) as tmp:
            (tmp / "a.txt").write_text(text)
    assert digest(out)["a.txt"] == hashlib.sha256(b"new").hexdigest()
    with pytest.raises(StimgenError, match="changed while this command ran"):
        with atomic_dir(out, force=True) as tmp:
            (tmp / "a.txt").write_text("newer")
            (out / "mine.txt").write_text("mine")  # added after the check approved the folder
    assert (out / "mine.txt").read_text() == "mine" and (out / "a.txt").read_text() == "new"
    (out / "mine.txt").unlink()
    with pytest.raises(StimgenError, match="changed while this command ran"):
        with atomic_dir(out, force=True) as tmp:
            (tmp / "a.txt").write_text("newer")
            for path in (out / "a.txt", out / MARKER):
                path.unlink()
            out.rmdir()
            out.mkdir()  # another folder in its place, with the user's file
            (out / "mine.txt").write_text("mine")
    assert sorted(p.name for p in out.iterdir()) == ["mine.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_a_file_made_at_out_while_writing_is_left_alone(tmp_path, rename):
    out = tmp_path / "vectors.json"
    with pytest.raises(StimgenError, match="appeared while this command ran"):
        with atomic_file(out) as tmp:
            tmp.write_text(json.dumps({"stimgen_version": "0.1.0"}))
            out.write_text("mine")
    assert out.read_text() == "mine"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["vectors.json"]


def test_continuum_leaves_a_folder_made_at_out_while_it_ran(endpoints, tmp_path, monkeypatch):
    """Through the command (in process): the user makes --out while the stimuli are written."""
    from stimgen.cli import cli

    out = tmp_path / "c1"
    original = stimgen.outputs.mark_owned

    def meanwhile(folder, verb, *args, **kwargs):  # the last step before the rename into place
        original(folder, verb, *args, **kwargs)
        out.mkdir()
        (out / "notes.txt").write_text("mine")

    monkeypatch.setattr(stimgen.outputs, "mark_owned", meanwhile)
    result = CliRunner().invoke(cli, [*CONTINUUM, "--a", str(endpoints / "i.wav"), "--b", str(endpoints / "a.wav"),
                                      "--out", str(out)])
    assert isinstance(result.exception, StimgenError), result.output
    assert str(result.exception).startswith(f"{out}: appeared while this command ran")
    assert digest(out) == {"notes.txt": hashlib.sha256(b"mine").hexdigest()}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c1"]


TRAIN = ["train", "--steps", "2", "--batch-size", "2", "--latent-dim", "4", "--width", "4", "--size", "16",
         "--preview-every", "1000"]


@pytest.mark.parametrize("force", [False, True])
def test_train_leaves_a_run_folder_made_or_changed_while_it_read_the_data(tmp_path, monkeypatch, force):
    """Through the command (in process): --out is made (or, with --force, a file is added to the old
    run) while train reads the data, before it starts the run folder."""
    import stimgen.train
    from stimgen.cli import cli

    data, out = digits_folder(tmp_path / "data"), tmp_path / "run"
    if force:
        fake_model_folder(out)
    original = stimgen.train.prepare_data

    def meanwhile(*args, **kwargs):
        prepared = original(*args, **kwargs)
        out.mkdir(exist_ok=True)
        (out / "notes.txt").write_text("mine")
        return prepared

    monkeypatch.setattr(stimgen.train, "prepare_data", meanwhile)
    before = digest(data)
    args = [*TRAIN, "--data", str(data), "--out", str(out), *(["--force"] if force else [])]
    result = CliRunner().invoke(cli, args)
    assert isinstance(result.exception, StimgenError), result.output
    expected = "changed while this command ran" if force else "appeared while this command ran"
    assert str(result.exception).startswith(f"{out}: {expected}")
    assert (out / "notes.txt").read_text() == "mine" and digest(data) == before
    assert (out / "config.json").exists() == force  # the old run is left as it was


# --- item 14: a failed training run leaves nothing that needs --force ------------------------------------


def test_a_diverged_run_is_one_line_and_leaves_no_run_folder(tmp_path, monkeypatch):
    """A step whose loss is not finite (here forced: no learning rate within bounds diverges in 2
    steps) ends in one line and removes the run folder; an --lr beyond the bound is refused first."""
    from stimgen.cli import cli
    from stimgen.models.gaia import GAIA

    data, out = digits_folder(tmp_path / "data"), tmp_path / "run"
    before = digest(data)
    result = stimgen_cli(*TRAIN, "--lr", "1e30", "--data", data, "--out", out)
    assert_one_error_line(result, "--lr must be a positive number of at most 1")
    assert not out.exists() and digest(data) == before
    monkeypatch.setattr(GAIA, "train_step", lambda self, *args, **kwargs: {"loss": float("nan")})
    result = CliRunner().invoke(cli, [*TRAIN, "--lr", "0.5", "--data", str(data), "--out", str(out)])
    assert isinstance(result.exception, StimgenError)
    assert "training diverged at step 1" in str(result.exception) and "with --lr 0.5; lower --lr" in str(
        result.exception)
    assert not out.exists() and digest(data) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data"]
    # an empty folder the user made stays, empty: the next run needs no --force
    out.mkdir()
    result = CliRunner().invoke(cli, [*TRAIN, "--lr", "0.5", "--data", str(data), "--out", str(out)])
    assert "training diverged at step" in str(result.exception)
    assert out.is_dir() and not any(out.iterdir()) and digest(data) == before


def test_cuda_asked_for_without_cuda_is_one_line_and_leaves_no_run_folder(tmp_path):
    data, out = digits_folder(tmp_path / "data"), tmp_path / "run"
    before = digest(data)
    result = stimgen_cli(*TRAIN, "--device", "cuda", "--data", data, "--out", out, env={"CUDA_VISIBLE_DEVICES": ""})
    assert_one_error_line(result, "--device cuda was asked for but no CUDA device is available")
    assert not out.exists() and digest(data) == before
