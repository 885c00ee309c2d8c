"""Wrong results and tracebacks found by a hostile test of every command: each is now one line
naming the file or option, exit code 2 and nothing left behind, or the right result."""

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import assert_one_error_line, stimgen_cli
from PIL import Image

SHIPPED = Path(__file__).resolve().parents[1] / "data" / "models"


def assert_nothing_left(folder: Path, expected: list[str]) -> None:
    assert sorted(p.name for p in folder.iterdir()) == sorted(expected)


# --- codes and models that do not belong together --------------------------------------------------


def test_decode_refuses_codes_of_another_model_and_takes_one_row(tmp_path, endpoints):
    codes = tmp_path / "codes.csv"
    assert stimgen_cli("encode", endpoints / "i.wav", "--model", "vowels", "--out", codes).returncode == 0
    result = stimgen_cli("decode", "--model", "digits", "--latents", codes, "--out", tmp_path / "out")
    assert_one_error_line(result, f"{codes}: codes were encoded with model 'vowels'", "not with 'digits'",
                          "--model vowels")
    assert_nothing_left(tmp_path, ["codes.csv", "codes.csv.json"])
    # the right model decodes the one row into one stimulus
    result = stimgen_cli("decode", "--model", "vowels", "--latents", codes, "--out", tmp_path / "out")
    assert result.returncode == 0, result.stderr
    assert len(pd.read_csv(tmp_path / "out" / "manifest.csv")) == 1


def test_decode_names_the_columns_that_do_not_fit(tmp_path, endpoints):
    codes = tmp_path / "codes.csv"
    assert stimgen_cli("encode", endpoints / "i.wav", "--out", codes).returncode == 0
    table = pd.read_csv(codes).rename(columns={"z5": "z05"})
    table.to_csv(tmp_path / "z05.csv", index=False)
    result = stimgen_cli("decode", "--model", "vowels", "--latents", tmp_path / "z05.csv", "--out", tmp_path / "o")
    assert_one_error_line(result, "z05.csv: the model's codes are columns z0 .. z31; the file has no column z5 "
                                  "and column z05, which the model does not have")


def test_edit_with_a_single_value(tmp_path, endpoints):
    vectors = tmp_path / "vectors.json"
    assert stimgen_cli("attributes", "fit", "--model", "vowels", "--columns", "F1", "--out", vectors).returncode == 0
    result = stimgen_cli("edit", "--model", "vowels", "--input", endpoints / "eh.wav", "--vectors", vectors,
                         "--attribute", "F1", "--values", "100", "--out", tmp_path / "e")
    assert result.returncode == 0, result.stderr
    manifest = pd.read_csv(tmp_path / "e" / "manifest.csv")
    assert len(manifest) == 1 and abs(manifest["measured_change"].iloc[0] - 100) < 30


def model_copy(tmp_path: Path, name: str = "digits") -> Path:
    folder = tmp_path / "model"
    shutil.copytree(SHIPPED / name, folder)
    return folder


@pytest.mark.parametrize("broken", ["config.json", "model.safetensors"])
def test_a_model_file_that_is_a_folder(tmp_path, broken):
    folder = model_copy(tmp_path)
    (folder / broken).unlink()
    (folder / broken).mkdir()
    result = stimgen_cli("model", "show", folder)
    assert_one_error_line(result, f"{folder / broken}: is not a file")


def edit_config(folder: Path, change) -> None:
    config = json.loads((folder / "config.json").read_text())
    change(config)
    (folder / "config.json").write_text(json.dumps(config))


@pytest.mark.parametrize("change, message", [
    (lambda c: c.pop("data"), "does not say what data it was trained on"),
    (lambda c: c.update(data="image"), "data.kind must be 'audio' or 'image'"),
    (lambda c: c["data"].update(kind="video"), "data.kind must be 'audio' or 'image'"),
    (lambda c: c["data"].pop("image"), 'data.image must give "size"'),
    (lambda c: c["data"]["image"].update(size=[64, 64]), "describes items of shape (1, 64, 64), but the weights take "
                                                         "(1, 32, 32)"),
    (lambda c: c["data"].update(kind="audio"), "data.spectrogram is missing or malformed"),
    (lambda c: c["data"].update(kind="audio", spectrogram={"n_mels": 1}),
     "data.spectrogram: invalid spectrogram settings: n_mels and n_frames must be at least 2"),
    (lambda c: c["data"].update(kind="audio", spectrogram={}), "describes items of shape (1, 64, 64), but the weights "
                                                               "take (1, 32, 32)"),
], ids=["missing", "not-a-table", "unknown-kind", "no-image", "wrong-size", "no-spectrogram", "bad-spectrogram",
        "spectrogram-of-another-size"])
def test_a_config_whose_data_section_is_wrong(tmp_path, change, message):
    folder = model_copy(tmp_path)
    edit_config(folder, change)
    Image.fromarray(np.zeros((32, 32), dtype=np.uint8)).save(tmp_path / "a.png")
    result = stimgen_cli("continuum", "--model", folder, "--a", tmp_path / "a.png", "--b", tmp_path / "a.png",
                         "--out", tmp_path / "out")
    assert_one_error_line(result, message)
    assert not (tmp_path / "out").exists()


def test_a_folder_named_like_a_shipped_model_does_not_shadow_it(tmp_path):
    (tmp_path / "vowels").mkdir()
    result = stimgen_cli("model", "show", "vowels", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert f"{SHIPPED / 'vowels'}" in result.stdout or "shipped_models" in result.stdout
    assert result.stderr.strip() == ("stimgen: warning: used the shipped model 'vowels', not the folder vowels here; "
                                     "write ./vowels for the folder")
    result = stimgen_cli("model", "show", "./vowels", cwd=tmp_path)
    assert_one_error_line(result, "vowels: not a model folder")


# --- training -----------------------------------------------------------------------------------


def image_folder(folder: Path, n: int, seed: int = 0) -> Path:
    folder.mkdir()
    rng = np.random.default_rng(seed)
    for i in range(n):
        Image.fromarray((rng.random((16, 16)) * 255).astype(np.uint8)).save(folder / f"{i}.png")
    return folder


TRAIN = ["train", "--steps", "2", "--batch-size", "2", "--latent-dim", "4", "--width", "4", "--size", "16"]


def test_resume_refuses_other_data(tmp_path):
    first, second = image_folder(tmp_path / "first", 6, seed=0), image_folder(tmp_path / "second", 6, seed=1)
    assert stimgen_cli(*TRAIN, "--data", first, "--out", tmp_path / "run").returncode == 0
    before = (tmp_path / "run" / "model.safetensors").read_bytes()
    result = stimgen_cli(*TRAIN[:2], "4", *TRAIN[3:], "--data", second, "--out", tmp_path / "run", "--resume")
    assert_one_error_line(result, "run: the run was trained on other data (sha256 ", f"than --data {second} (sha256 ")
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert config["data"]["data_sha256"][:12] in result.stderr
    assert (tmp_path / "run" / "model.safetensors").read_bytes() == before


@pytest.mark.parametrize("args, message", [
    (["--lr", "nan"], "--lr must be a positive number of at most 1 (Adam's step size), got nan"),
    (["--lr", "0"], "--lr must be a positive number of at most 1 (Adam's step size), got 0"),
    (["--distance-weight", "nan"], "--distance-weight must be a number from 0 to 1e+06, got nan"),
    (["--recon-weight", "-1"], "--recon-weight must be a number from 0 to 1e+06, got -1"),
    (["--batch-size", "1"], "--batch-size must be a whole number from 2 to 65,536 (the losses compare items within a "
                            "batch), got 1"),
])
def test_bad_training_settings_name_their_option(tmp_path, args, message):
    data = image_folder(tmp_path / "data", 4)
    result = stimgen_cli("train", "--data", data, "--out", tmp_path / "run", *args)
    assert_one_error_line(result, message)
    assert_nothing_left(tmp_path, ["data"])


@pytest.mark.parametrize("n, advice", [(1, "only 1 training item for a batch of 32; a batch needs at least 2"),
                                       (3, "only 3 training items for a batch of 32; use --batch-size 3 or fewer"),
                                       (20, "only 18 training items (2 more held out) for a batch of 32")])
def test_too_few_training_items_get_advice_that_works(tmp_path, n, advice):
    data = image_folder(tmp_path / "data", n)
    result = stimgen_cli("train", "--data", data, "--size", "16", "--out", tmp_path / "run")
    assert_one_error_line(result, f"{data}: {advice}")
    assert_nothing_left(tmp_path, ["data"])
    if n == 3:  # the advice works
        ok = stimgen_cli(*TRAIN[:4], "3", *TRAIN[5:], "--data", data, "--out", tmp_path / "run", "--force")
        assert ok.returncode == 0, ok.stderr


# --- attributes and designs ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def labelled(endpoints, tmp_path_factory):
    folder = tmp_path_factory.mktemp("labelled")
    rows = []
    for k, name in enumerate(["i", "a", "u", "eh"] * 2):
        shutil.copy(endpoints / f"{name}.wav", folder / f"{k}_{name}.wav")
        rows.append({"file": f"{k}_{name}.wav", "F0": 120.0, "F1": 300.0 + 100 * k, "vowel": name, "sex": "m"})
    pd.DataFrame(rows).to_csv(folder / "labels.csv", index=False)
    return folder


@pytest.mark.parametrize("columns, message", [
    ("F1,F1", "column 'F1' is named more than once"),
    ("F1,f1", "column 'F1' is named more than once"),
    ("F0", "column 'F0' takes a single value (120.0) in the 8 rows used"),
    ("sex", "column 'sex' takes a single value ('m')"),
])
def test_attribute_columns_that_cannot_be_fitted(tmp_path, labelled, columns, message):
    result = stimgen_cli("attributes", "fit", "--model", "vowels", "--data", labelled, "--columns", columns,
                         "--out", tmp_path / "v.json")
    assert_one_error_line(result, message)
    assert_nothing_left(tmp_path, [])


def test_a_grid_too_large_is_refused_before_it_fills_memory(tmp_path, endpoints):
    anchors = ",".join(str(endpoints / f"{n}.wav") for n in ("i", "a", "u", "eh"))
    result = stimgen_cli("grid", "--anchors", anchors, "--steps", "1000", "--out", tmp_path / "g")
    assert_one_error_line(result, "a 4-anchor grid with --steps 1000 would make 1,000,000 stimuli; one set holds at "
                                  "most 1,000")
    assert_nothing_left(tmp_path, [])
    result = stimgen_cli("continuum", "--a", endpoints / "i.wav", "--b", endpoints / "a.wav", "--steps", "5000",
                         "--out", tmp_path / "c")
    assert_one_error_line(result, "--steps 5000 would make 5,000 stimuli")


@pytest.mark.parametrize("spacing", ["linear", "equal"])
def test_more_steps_than_the_old_dense_path_work_with_either_spacing(tmp_path, endpoints, spacing):
    """The dense path follows the step count (it was a fixed 51 points, which refused 52 steps)."""
    result = stimgen_cli("continuum", "--a", endpoints / "i.wav", "--b", endpoints / "a.wav", "--steps", "52",
                         "--spacing", spacing, "--out", tmp_path / "c")
    assert result.returncode == 0, result.stderr
    manifest = pd.read_csv(tmp_path / "c" / "manifest.csv")
    assert len(manifest) == 52 and np.all(np.diff(manifest["latent_t"]) > 0)
    settings = json.loads((tmp_path / "c" / "manifest.json").read_text())["settings"]
    assert settings.get("dense") == (256 if spacing == "equal" else None)
