"""Issue 21, items 11, 12, 15 and 16, through the real command: seeds and bootstrap samples in range,
caps on the stimuli of one set, long recordings segmented block by block, and what --resume, --out,
metrics.csv, weights' permissions and a few misleading messages do.

Every refusal is one line and exit code 2 (``assert_one_error_line``), with nothing written and
the inputs as they were."""

import hashlib
import json
import os
import subprocess
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import assert_one_error_line, stimgen_cli
from PIL import Image

from stimgen.data import birdsong
from stimgen.data.vowels import mean_vowel
from stimgen.options import MAX_STIMULI, N_BOOT_RANGE, SEED_RANGE
from stimgen.signal.audio import load_audio, save_wav
from stimgen.signal.segment import BLOCK_UNIT_FINDERS, KINDS, SegmentSettings, find_units, find_units_in

#: Today a huge value runs on (434 s for respace --steps 5000): a refusal must come well within this.
SECONDS = 60


def capped(*args, cwd=None) -> subprocess.CompletedProcess:
    """``stimgen_cli`` that fails the test where the command runs past :data:`SECONDS`."""
    try:
        return stimgen_cli(*args, cwd=cwd, timeout=SECONDS)
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


# --- item 15: caps on one set, long recordings in blocks -------------------------------------------


def test_respace_to_more_steps_than_a_set_holds_is_refused_before_any_work(tmp_path, study):
    before = digest(study)
    r = capped("respace", study / "cont", "--fit", study / "fit" / "fit.json", "--steps", 5000, "--out",
               tmp_path / "re")
    assert_one_error_line(r, "--steps 5000 would make 5,000 stimuli", f"at most {MAX_STIMULI:,}")
    assert not (tmp_path / "re").exists() and digest(study) == before


def test_decoding_more_rows_than_a_set_holds_is_refused_before_any_work(tmp_path, study):
    codes = pd.read_csv(study / "codes.csv")
    many = tmp_path / "many.csv"
    pd.concat([codes] * (MAX_STIMULI + 200), ignore_index=True).to_csv(many, index=False)
    before = digest(many)
    r = capped("decode", "--model", "vowels", "--latents", many, "--out", tmp_path / "decoded")
    assert_one_error_line(r, str(many), f"{MAX_STIMULI + 200:,} rows of codes would make", f"at most {MAX_STIMULI:,}")
    assert not (tmp_path / "decoded").exists() and digest(many) == before


def _song(seconds: float, sr: int, seed: int) -> np.ndarray:
    """Synthetic songs one after another in faint noise, ``seconds`` long."""
    rng = np.random.default_rng(seed)
    parts, total = [], 0
    while total < seconds * sr:
        song, _ = birdsong.synthesize_song(rng, sr)
        parts.append(song)
        total += song.size
    y = np.concatenate(parts)[: int(seconds * sr)]
    return (y + 1e-4 * rng.standard_normal(y.size)).astype(np.float32)


def _speech(seconds: float, sr: int, seed: int) -> np.ndarray:
    """Vowels (0.2-0.5 s) between pauses (0.1-0.6 s), ``seconds`` long."""
    rng = np.random.default_rng(seed)
    parts, total = [], 0
    while total < seconds * sr:
        vowel = mean_vowel(str(rng.choice(["iy", "aa", "uw", "eh"])), "man", f0=float(rng.uniform(100, 140)),
                           duration=float(rng.uniform(0.2, 0.5)), rng=int(rng.integers(1000)))
        gap = np.zeros(int(rng.uniform(0.1, 0.6) * sr), dtype=np.float32)
        parts += [gap, vowel]
        total += gap.size + vowel.size
    return np.concatenate(parts)[: int(seconds * sr)].astype(np.float32)


def _reader(y: np.ndarray):
    def read(a: int, b: int) -> np.ndarray:
        out = np.zeros(b - a, dtype=np.float32)
        lo, hi = max(a, 0), min(b, y.size)
        if hi > lo:
            out[lo - a: hi - a] = y[lo:hi]
        return out
    return read


def test_every_kind_has_a_block_by_block_finder():
    assert set(BLOCK_UNIT_FINDERS) == set(KINDS)


@pytest.mark.parametrize("block_seconds", [0.35, 1.0, 2.7])
def test_birdsong_found_block_by_block_is_the_same_as_in_one_piece(block_seconds):
    """Blocks far shorter than the song, so that many syllables span a boundary: each is found once,
    with the same onset and offset to the sample."""
    sr = 32000
    y = _song(6.0, sr, 1)
    whole = find_units(y, sr, SegmentSettings.for_kind("birdsong"))
    blocks = find_units_in(_reader(y), y.size, sr, SegmentSettings.for_kind("birdsong"), block_seconds=block_seconds)
    assert len(whole) > 20 and np.array_equal(blocks, whole)


def test_speech_found_block_by_block_is_within_a_frame_of_one_piece():
    sr = 16000
    y = _speech(12.0, sr, 2)
    settings = SegmentSettings.for_kind("speech")
    whole = find_units(y, sr, settings)
    blocks = find_units_in(_reader(y), y.size, sr, settings, block_seconds=2.5)
    assert len(whole) > 10 and blocks.shape == whole.shape
    assert np.max(np.abs(blocks - whole)) <= 0.0101   # two of Praat's 5 ms frames


@pytest.mark.parametrize("kind", KINDS)
def test_a_recording_that_fits_one_block_gives_todays_units(tmp_path, kind):
    """A file no longer than a block is read whole and cut where find_units (today's way) cuts it."""
    sr = 32000 if kind == "birdsong" else 16000
    y = _song(8.0, sr, 3) if kind == "birdsong" else _speech(8.0, sr, 3)
    (tmp_path / "rec").mkdir()
    save_wav(tmp_path / "rec" / "one.wav", y, sr)
    r = capped("data", "segment", tmp_path / "rec", "--kind", kind, "--out", tmp_path / "units")
    assert r.returncode == 0, r.stderr
    read, _ = load_audio(tmp_path / "rec" / "one.wav", allow_silence=True)
    today = find_units(read, sr, SegmentSettings.for_kind(kind))
    labels = pd.read_csv(tmp_path / "units" / "labels.csv")
    assert len(today) > 5 and labels[["onset", "offset"]].to_numpy() == pytest.approx(today, abs=5e-5)


def test_a_long_recording_is_segmented_in_blocks_with_bounded_memory(tmp_path):
    """A 45 s recording (two blocks): the same units as in one piece, each unit's file cut from the
    recording to the sample, and numpy's peak memory (tracemalloc) a fraction of what finding the
    units in one piece takes, as today's segment_folder did."""
    import tracemalloc

    from stimgen.data.recordings import segment_folder

    sr = 32000
    save_wav(tmp_path / "long.wav", _song(45.0, sr, 4), sr)
    (tmp_path / "rec").mkdir()
    (tmp_path / "long.wav").rename(tmp_path / "rec" / "long.wav")
    y, _ = load_audio(tmp_path / "rec" / "long.wav")
    tracemalloc.start()
    whole = find_units(y, sr, SegmentSettings.for_kind("birdsong"))
    one_piece = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    tracemalloc.start()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        segment_folder(tmp_path / "rec", tmp_path / "units")
    blocks = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert blocks < one_piece / 3, f"peak {blocks / 1e6:.0f} MB in blocks, {one_piece / 1e6:.0f} MB in one piece"
    labels = pd.read_csv(tmp_path / "units" / "labels.csv")
    assert len(whole) > 100 and labels[["onset", "offset"]].to_numpy() == pytest.approx(whole, abs=5e-5)
    for i in (0, len(whole) // 2, len(whole) - 1):
        a, b = max(0, round((whole[i, 0] - 0.005) * sr)), min(y.size, round((whole[i, 1] + 0.005) * sr))
        assert np.array_equal(load_audio(tmp_path / "units" / labels["file"].iloc[i])[0], y[a:b])


# --- item 16 ----------------------------------------------------------------------------------------


def test_resume_refuses_settings_other_than_the_runs(tmp_path, images):
    run = tmp_path / "run"
    r = capped("train", "--data", images, *TINY, "--out", run)
    assert r.returncode == 0, r.stderr
    before = digest(run)
    args = [a if a != 4 else 8 for a in TINY]   # --width 8 --latent-dim 8
    args[args.index("--steps") + 1] = 4
    r = capped("train", "--data", images, *args, "--model", "ae", "--resume", "--out", run)
    assert_one_error_line(r, str(run), "--resume continues the run with its own settings",
                          "--model ae (the run's: gaia)", "--latent-dim 8 (the run's: 4)", "--width 8 (the run's: 4)")
    assert "--batch-size" not in r.stderr and digest(run) == before


def test_a_run_folder_inside_the_data_is_refused(tmp_path, images):
    data = tmp_path / "data"
    data.mkdir()
    for f in sorted(images.iterdir()):
        (data / f.name).write_bytes(f.read_bytes())
    before = digest(data)
    r = capped("train", "--data", data, *TINY, "--out", data / "run")
    assert_one_error_line(r, str(data / "run"), f"is inside --data {data}")
    assert digest(data) == before and sorted(p.name for p in data.iterdir()) == sorted(p.name for p in images.iterdir())


def test_two_seeded_runs_write_the_same_metrics_and_weights_with_the_umask(tmp_path, images):
    for name in ("a", "b"):
        r = capped("train", "--data", images, *TINY, "--seed", 3, "--out", tmp_path / name)
        assert r.returncode == 0, r.stderr
    for file in ("metrics.csv", "model.safetensors", "latents.csv"):
        assert (tmp_path / "a" / file).read_bytes() == (tmp_path / "b" / file).read_bytes(), file
    timings = pd.read_csv(tmp_path / "a" / "timings.csv")
    assert list(timings.columns) == ["step", "samples_per_s"] and timings["samples_per_s"].iloc[-1] > 0
    assert "samples_per_s" not in pd.read_csv(tmp_path / "a" / "metrics.csv").columns
    mask = os.umask(0o022)
    os.umask(mask)
    for file in ("model.safetensors", "checkpoint.safetensors", "config.json"):
        assert (tmp_path / "a" / file).stat().st_mode & 0o777 == 0o666 & ~mask, file


def test_onset_nan_says_what_is_wrong(tmp_path, endpoints):
    r = capped("continuum", "--a", endpoints / "i.wav", "--b", endpoints / "a.wav", "--onset", "nan",
               "--out", tmp_path / "c")
    assert_one_error_line(r, "i.wav", "--onset must be a number of seconds, got nan")
    assert "twice" not in r.stderr and not (tmp_path / "c").exists()


def test_vectors_holding_nan_name_the_file_and_the_vector(tmp_path, endpoints):
    from stimgen import load_model

    model = load_model("vowels")
    dim = model.latent_dim
    vectors = {"model_sha256": model.info["model_sha256"], "data": "", "method": "ols", "columns": ["F1"], "n": 10,
               "vectors": {"F1": [float("nan")] + [0.1] * (dim - 1)}, "intercept": [0.0] * dim, "r2": [0.5] * dim}
    path = tmp_path / "vectors.json"
    path.write_text(json.dumps(vectors))
    r = capped("edit", "--model", "vowels", "--input", endpoints / "eh.wav", "--vectors", path, "--attribute", "F1",
               "--values", "0,100", "--out", tmp_path / "e")
    assert_one_error_line(r, str(path), "the vector of F1 holds NaN")
    assert not (tmp_path / "e").exists()


def test_a_folder_given_as_latents_or_as_fit_data_is_called_a_folder(tmp_path, study):
    (tmp_path / "dir").mkdir()
    r = capped("decode", "--model", "vowels", "--latents", tmp_path / "dir", "--out", tmp_path / "d")
    assert_one_error_line(r, str(tmp_path / "dir"), "is a folder, not a latents file")
    r = capped("fit", tmp_path / "dir", "--continuum", study / "cont", "--out", tmp_path / "f")
    assert_one_error_line(r, str(tmp_path / "dir"), "is a folder, not a data file")
    assert "no such" not in r.stderr and not (tmp_path / "d").exists() and not (tmp_path / "f").exists()


def test_a_grid_of_identical_anchors_is_refused_as_a_continuum_of_identical_endpoints(tmp_path):
    same = tmp_path / "i.wav"   # shorter than the model's window: taken whole, without a word
    save_wav(same, mean_vowel("iy", "man", f0=120.0, duration=0.4, rng=1), 16000)
    r = capped("continuum", "--a", same, "--b", same, "--out", tmp_path / "c")
    assert_one_error_line(r, "decode to the same stimulus")
    r = capped("grid", "--anchors", f"{same},{same},{same}", "--out", tmp_path / "g")
    assert_one_error_line(r, "anchors A and B decode to the same stimulus")
    assert not (tmp_path / "g").exists() and not (tmp_path / "c").exists()
