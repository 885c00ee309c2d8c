"""Issue 21, items 11 and 12, through the real command: seeds and bootstrap samples in range, and
fit --continuum without a manifest.

Every refusal is one line and exit code 2 (``assert_one_error_line``), with nothing written and
the inputs as they were."""

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import assert_one_error_line, stimgen_cli
from PIL import Image

from stimgen.options import N_BOOT_RANGE, SEED_RANGE

#: Today a huge value runs on (434 s for respace --steps 5000): a refusal must come well within this.
SECONDS = 60


def capped(*args, cwd=None) -> subprocess.CompletedProcess:
    """``stimgen_cli`` that fails the test where the command runs past :data:`SECONDS`."""
    try:
        return subprocess.run([sys.executable, "-m", "stimgen", *map(str, args)], capture_output=True, text=True,
                              cwd=cwd, timeout=SECONDS)
    except subprocess.TimeoutExpired:
        pytest.fail(f"stimgen {' '.join(map(str, args))} ran past {SECONDS} s: nothing refused it")


def digest(*paths: Path) -> dict[str, str]:
    """The sha256 of every file under ``paths`` (what must not change)."""
    files = [f for p in paths for f in ([p] if p.is_file() else sorted(p.rglob("*"))) if f.is_file()]
    return {str(f): hashlib.sha256(f.read_bytes()).hexdigest() for f in files}


@pytest.fixture(scope="module")
def study(tmp_path_factory, endpoints):
    """A 3-step /i/-/ɑ/ continuum of the shipped vowel model, rising identification data matched to
    it (data.csv), its fit (fit/fit.json) and the codes of i.wav (codes.csv)."""
    root = tmp_path_factory.mktemp("study")
    r = stimgen_cli("continuum", "--a", endpoints / "i.wav", "--b", endpoints / "a.wav", "--steps", 3,
                    "--spacing", "linear", "--sr", 16000, "--out", root / "cont")
    assert r.returncode == 0, r.stderr
    manifest = pd.read_csv(root / "cont" / "manifest.csv")
    rows = [{"stim_file": s, "morph_level": level, "response_b": int(k < b)}
            for s, level, b in zip(manifest["stim_file"], manifest["morph_level"], (2, 10, 18)) for k in range(20)]
    pd.DataFrame(rows).to_csv(root / "data.csv", index=False)
    r = stimgen_cli("fit", root / "data.csv", "--continuum", root / "cont", "--bootstrap", 20, "--out", root / "fit")
    assert r.returncode == 0, r.stderr
    r = stimgen_cli("encode", endpoints / "i.wav", "--out", root / "codes.csv")
    assert r.returncode == 0, r.stderr
    return root


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    """24 random 20 x 20 grey images: training data for one-step runs."""
    folder = tmp_path_factory.mktemp("images")
    rng = np.random.default_rng(0)
    for i in range(24):
        Image.fromarray((rng.random((20, 20)) * 255).astype(np.uint8)).save(folder / f"{i}.png")
    return folder


TINY = ["--size", 16, "--batch-size", 8, "--width", 4, "--latent-dim", 4, "--steps", 2, "--checkpoint-every", 2,
        "--preview-every", 2, "--device", "cpu"]


# --- item 11: seeds ---------------------------------------------------------------------------------


SEEDED = {
    "data build": ["data", "build", "digits", "--n", 12, "--out", "{tmp}/out"],
    "train": ["train", "--data", "{images}", *TINY, "--out", "{tmp}/out"],
    "continuum": ["continuum", "--a", "{endpoints}/i.wav", "--b", "{endpoints}/a.wav", "--out", "{tmp}/out"],
    "grid": ["grid", "--anchors", "{endpoints}/i.wav,{endpoints}/a.wav,{endpoints}/u.wav", "--out", "{tmp}/out"],
    "edit": ["edit", "--model", "vowels", "--input", "{endpoints}/eh.wav", "--attribute", "F0", "--values", "0,10",
             "--out", "{tmp}/out"],
    "decode": ["decode", "--model", "vowels", "--latents", "{study}/codes.csv", "--out", "{tmp}/out"],
    "pilot": ["pilot", "{study}/cont", "--out", "{tmp}/out"],
    "fit": ["fit", "{study}/data.csv", "--continuum", "{study}/cont", "--out", "{tmp}/out"],
    "demo": ["demo", "--out", "{tmp}/out"],
}


@pytest.mark.parametrize("verb", list(SEEDED))
@pytest.mark.parametrize("seed", ["-1", "99999999999999999999", str(SEED_RANGE[1] + 1)])
def test_a_seed_numpy_or_torch_would_refuse_is_one_line_before_any_work(tmp_path, verb, seed, study, images,
                                                                         endpoints):
    args = [a.format(tmp=tmp_path, images=images, endpoints=endpoints, study=study) if isinstance(a, str) else a
            for a in SEEDED[verb]]
    before = digest(study, images, endpoints)
    r = capped(*args, "--seed", seed)
    assert_one_error_line(r, f"--seed must be a whole number from 0 to {SEED_RANGE[1]:,}", f"got {seed}")
    assert not (tmp_path / "out").exists() and digest(study, images, endpoints) == before


def test_the_largest_seed_is_taken(tmp_path, study):
    r = capped("fit", study / "data.csv", "--continuum", study / "cont", "--bootstrap", 20, "--seed", SEED_RANGE[1],
               "--out", tmp_path / "fit")
    assert r.returncode == 0, r.stderr
    assert f"seed {SEED_RANGE[1]}" in json.loads((tmp_path / "fit" / "fit.json").read_text())["method"]


# --- item 12: fit --bootstrap, --continuum ------------------------------------------------------------


@pytest.mark.parametrize("n_boot", ["0", "-5", str(N_BOOT_RANGE[1] + 1), "100000000"])
def test_bootstrap_samples_out_of_range_are_one_line_before_any_work(tmp_path, study, n_boot):
    before = digest(study)
    r = capped("fit", study / "data.csv", "--continuum", study / "cont", "--bootstrap", n_boot, "--out",
               tmp_path / "fit")
    assert_one_error_line(r, f"--bootstrap must be a whole number from 1 to {N_BOOT_RANGE[1]:,}",
                          "refitted in memory", f"got {n_boot}")
    assert not (tmp_path / "fit").exists() and digest(study) == before


def test_a_continuum_folder_without_manifest_csv_is_one_line(tmp_path, study):
    (tmp_path / "not-a-continuum").mkdir()
    r = capped("fit", study / "data.csv", "--continuum", tmp_path / "not-a-continuum", "--out", tmp_path / "fit")
    assert_one_error_line(r, str(tmp_path / "not-a-continuum" / "manifest.csv"), "no such file",
                          "--continuum must be a continuum folder")
    assert not (tmp_path / "fit").exists()
