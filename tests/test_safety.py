"""No command may lose a user's files: --force replaces only what stimgen wrote, never an input, the
current folder, home or /; a bad --out is refused before the work, with one line and exit code 2."""

import hashlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

import numpy as np
import pytest
from conftest import assert_one_error_line, digits_folder, stimgen_cli

from stimgen.data.vowels import mean_vowel
from stimgen.signal.audio import save_wav


def digest(folder):
    """Every file under ``folder`` with the sha256 of its bytes."""
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture()
def rec(tmp_path):
    """A folder of a user's recordings."""
    folder = tmp_path / "rec"
    folder.mkdir()
    save_wav(folder / "x.wav", mean_vowel("iy", "man", f0=120.0, duration=0.6, rng=1), 22050)
    save_wav(folder / "y.wav", mean_vowel("aa", "man", f0=120.0, duration=0.6, rng=1), 22050)
    return folder


CONTINUUM = ["continuum", "--steps", "2", "--spacing", "linear"]


def test_force_never_deletes_the_folder_of_the_inputs(rec):
    before = digest(rec)
    result = stimgen_cli(*CONTINUUM, "--a", rec / "x.wav", "--b", rec / "y.wav", "--out", rec, "--force")
    assert_one_error_line(result, f"{rec}: holds the input {rec / 'x.wav'}")
    assert digest(rec) == before


@pytest.mark.parametrize("out", [".", "$PWD"])
def test_force_never_replaces_the_current_folder(rec, out):
    before = digest(rec)
    result = stimgen_cli(*CONTINUUM, "--a", "x.wav", "--b", "y.wav", "--out", str(rec) if out == "$PWD" else out,
                         "--force", cwd=rec)
    assert_one_error_line(result, "is the current folder; stimgen never replaces it")
    assert digest(rec) == before
    # the current folder without the inputs in it: still never
    elsewhere = rec.parent / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "notes.txt").write_text("mine")
    result = stimgen_cli(*CONTINUUM, "--a", rec / "x.wav", "--b", rec / "y.wav",
                         "--out", out.replace("$PWD", str(elsewhere)), "--force", cwd=elsewhere)
    assert_one_error_line(result, "is the current folder; stimgen never replaces it")
    assert (elsewhere / "notes.txt").read_text() == "mine"


def test_force_never_replaces_home_or_root(rec, tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    result = stimgen_cli(*CONTINUUM, "--a", rec / "x.wav", "--b", rec / "y.wav", "--out", home, "--force",
                         env={"HOME": str(home)})
    assert_one_error_line(result, "is your home folder")
    result = stimgen_cli(*CONTINUUM, "--a", rec / "x.wav", "--b", rec / "y.wav", "--out", "/", "--force")
    assert_one_error_line(result, "/: is the root folder")


def test_force_refuses_a_folder_of_unrelated_files_and_replaces_its_own(rec, tmp_path):
    before = digest(rec)
    other = tmp_path / "other"
    other.mkdir()
    (other / "thesis.tex").write_text("years of work")
    result = stimgen_cli(*CONTINUUM, "--a", rec / "x.wav", "--b", rec / "y.wav", "--out", other, "--force")
    assert_one_error_line(result, "is a folder that stimgen did not write", "move it away or choose another --out")
    assert (other / "thesis.tex").read_text() == "years of work"

    out = tmp_path / "cont"
    assert stimgen_cli(*CONTINUUM, "--a", rec / "x.wav", "--b", rec / "y.wav", "--out", out).returncode == 0
    marker = json.loads((out / ".stimgen.json").read_text())
    assert marker["written_by"] == "continuum" and "manifest.csv" in marker["files"]
    again = stimgen_cli(*CONTINUUM, "--a", rec / "x.wav", "--b", rec / "y.wav", "--out", out)
    assert_one_error_line(again, "already exists; pass --force")
    assert stimgen_cli(*CONTINUUM, "--a", rec / "x.wav", "--b", rec / "y.wav", "--out", out, "--force").returncode == 0
    # once the user keeps a file of theirs in it, it is no longer stimgen's to replace
    (out / "my-notes.txt").write_text("notes")
    result = stimgen_cli(*CONTINUUM, "--a", rec / "x.wav", "--b", rec / "y.wav", "--out", out, "--force")
    assert_one_error_line(result, "holds 1 file that stimgen did not write (e.g. my-notes.txt)")
    assert (out / "my-notes.txt").read_text() == "notes"
    assert digest(rec) == before  # the recordings were only read
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cont", "other", "rec"]  # no temporary folders


def test_an_input_inside_the_output_folder_survives(rec, tmp_path):
    out = tmp_path / "cont"
    assert stimgen_cli(*CONTINUUM, "--a", rec / "x.wav", "--b", rec / "y.wav", "--out", out).returncode == 0
    step = out / "stimuli" / "step_00.wav"
    before = step.read_bytes()
    result = stimgen_cli(*CONTINUUM, "--a", step, "--b", rec / "y.wav", "--out", out, "--force")
    assert_one_error_line(result, "holds the input")
    assert step.read_bytes() == before


TRAIN = ["train", "--steps", "2", "--batch-size", "2", "--latent-dim", "4", "--width", "4", "--size", "16"]


def test_train_force_replaces_its_own_run_folder_only(tmp_path):
    data = digits_folder(tmp_path / "data")
    before = digest(data)
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "results.csv").write_text("1,2,3")
    result = stimgen_cli(*TRAIN, "--data", data, "--out", mine, "--force")
    assert_one_error_line(result, "is a folder that stimgen did not write")
    assert (mine / "results.csv").read_text() == "1,2,3"
    result = stimgen_cli(*TRAIN, "--data", data, "--out", data, "--force")
    assert_one_error_line(result, "is inside --data")
    assert digest(data) == before

    run = tmp_path / "run"
    assert stimgen_cli(*TRAIN, "--data", data, "--out", run).returncode == 0
    assert (run / "previews" / "step_000002.png").is_file()
    result = stimgen_cli(*TRAIN, "--data", data, "--out", run, "--force")
    assert result.returncode == 0, result.stderr
    (run / "keep.txt").write_text("keep")
    result = stimgen_cli(*TRAIN, "--data", data, "--out", run, "--force")
    assert_one_error_line(result, "holds 1 file that stimgen did not write (e.g. keep.txt)")
    assert (run / "keep.txt").read_text() == "keep" and digest(data) == before


UNDER_A_FILE = [
    ["continuum", "--a", "{rec}/x.wav", "--b", "{rec}/y.wav", "--out", "{file}/out"],
    ["encode", "{rec}/x.wav", "--out", "{file}/codes.csv"],
    ["attributes", "fit", "--model", "vowels", "--columns", "F1", "--out", "{file}/vectors.json"],
    ["demo", "--out", "{file}/demo"],
    ["data", "build", "digits", "--n", "5", "--out", "{file}/digits"],
    ["train", "--data", "{rec}", "--out", "{file}/run"],
]


@pytest.mark.parametrize("args", UNDER_A_FILE, ids=lambda a: " ".join(a[:2]))
def test_out_under_a_file_is_one_line_before_the_work(rec, tmp_path, args):
    file = tmp_path / "notes.txt"
    file.write_text("notes")
    cache = tmp_path / "cache"
    result = stimgen_cli(*[a.format(rec=rec, file=file) for a in args], env={"STIMGEN_CACHE": str(cache)})
    assert_one_error_line(result, "cannot be written:", f"{file} is a file, not a folder")
    assert file.read_text() == "notes"
    # refused before any work: no data set generated in the cache, nothing written beside the file
    assert not (cache / "datasets").exists()
    expected = ["notes.txt", "rec"] + (["cache"] if cache.exists() else [])
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(expected)


def test_out_where_nothing_can_be_written(rec, tmp_path):
    if os.geteuid() != 0:
        locked = tmp_path / "locked"
        locked.mkdir()
        locked.chmod(0o555)
        target = locked / "out"
    else:  # root may write in any folder, but not in /sys
        target = "/sys/stimgen-test-out"
        with pytest.raises(OSError):
            os.mkdir(target)
    result = stimgen_cli(*CONTINUUM, "--a", rec / "x.wav", "--b", rec / "y.wav", "--out", target)
    assert_one_error_line(result, f"{target}: cannot be written")


def test_bad_out_wins_over_a_bad_input(rec, tmp_path):
    """--out is checked before the inputs are analysed: the error names --out, not the silent file."""
    save_wav(rec / "silent.wav", np.zeros(8000, dtype=np.float32), 16000)
    (tmp_path / "f").write_text("")
    result = stimgen_cli(*CONTINUUM, "--a", rec / "x.wav", "--b", rec / "silent.wav", "--out", tmp_path / "f" / "o")
    assert_one_error_line(result, "cannot be written")


def test_encode_never_replaces_an_input_or_a_file_it_did_not_write(rec, tmp_path):
    before = digest(rec)
    result = stimgen_cli("encode", rec / "x.wav", "--out", rec / "x.wav", "--force")
    assert_one_error_line(result, "is the input")
    (tmp_path / "table.csv").write_text("a,b\n1,2\n")
    result = stimgen_cli("encode", rec / "x.wav", "--out", tmp_path / "table.csv", "--force")
    assert_one_error_line(result, "is a file that stimgen did not write")
    assert (tmp_path / "table.csv").read_text() == "a,b\n1,2\n" and digest(rec) == before
    assert stimgen_cli("encode", rec / "x.wav", "--out", tmp_path / "codes.csv").returncode == 0
    assert stimgen_cli("encode", rec / "y.wav", "--out", tmp_path / "codes.csv", "--force").returncode == 0
    assert "y.wav" in (tmp_path / "codes.csv").read_text()


def test_outputs_are_written_with_the_users_umask(rec, tmp_path):
    out = tmp_path / "cont"
    result = stimgen_cli(*CONTINUUM, "--a", rec / "x.wav", "--b", rec / "y.wav", "--out", out)
    assert result.returncode == 0
    mask = os.umask(0)
    os.umask(mask)
    assert out.stat().st_mode & 0o777 == 0o777 & ~mask
    assert (out / "manifest.csv").stat().st_mode & 0o777 == 0o666 & ~mask


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
def test_a_killed_run_leaves_no_temporary_folder_for_long(rec, tmp_path, sig):
    """SIGTERM: the run removes its temporary folder on the way out. SIGKILL cannot be caught: the
    folder stays until the next run writing there, which removes it (its process is gone)."""
    with tempfile.TemporaryFile() as stderr:  # kept out of tmp_path, whose listing is checked; said where a run fails
        proc = subprocess.Popen([sys.executable, "-m", "stimgen", "demo", "--out", str(tmp_path / "demo")],
                                stdout=subprocess.DEVNULL, stderr=stderr)
        deadline = time.monotonic() + 50
        while not [p for p in tmp_path.iterdir() if p.name.startswith(f".demo.tmp-{proc.pid}-")]:
            assert proc.poll() is None and time.monotonic() < deadline, "the demo never started writing"
            time.sleep(0.05)
        proc.send_signal(sig)
        proc.wait(timeout=30)
        stderr.seek(0)
        said = stderr.read().decode(errors="replace")[-4000:]
    left = sorted(p.name for p in tmp_path.iterdir() if p.name != "rec")
    if sig == signal.SIGTERM:
        assert proc.returncode == 128 + signal.SIGTERM and left == [], said
        return
    assert len(left) == 1 and left[0].startswith(f".demo.tmp-{proc.pid}-")
    result = stimgen_cli(*CONTINUUM, "--a", rec / "x.wav", "--b", rec / "y.wav", "--out", tmp_path / "demo")
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo", "rec"]
