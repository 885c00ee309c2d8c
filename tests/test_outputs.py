import json
import os

import pytest

from stimgen.errors import StimgenError
from stimgen.outputs import MARKER, atomic_dir, atomic_file, check_output


def test_atomic_dir_appears_only_when_complete(tmp_path):
    out = tmp_path / "out"
    with pytest.raises(RuntimeError):
        with atomic_dir(out) as tmp:
            (tmp / "half.txt").write_text("half")
            raise RuntimeError("crash while writing")
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []  # no temporary folder left behind
    with atomic_dir(out) as tmp:
        (tmp / "a.txt").write_text("done")
    assert (out / "a.txt").read_text() == "done"
    assert json.loads((out / MARKER).read_text())["files"] == ["a.txt"]


def test_force_replaces_only_what_stimgen_wrote(tmp_path):
    out = tmp_path / "out"
    with atomic_dir(out) as tmp:
        (tmp / "sub").mkdir()
        (tmp / "sub" / "old.txt").write_text("old")
    with pytest.raises(StimgenError, match="already exists; pass --force"):
        with atomic_dir(out):
            pass
    with atomic_dir(out, force=True) as tmp:
        (tmp / "new.txt").write_text("new")
    assert sorted(p.name for p in out.iterdir()) == [MARKER, "new.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
    # a file the user put into stimgen's folder makes it theirs: --force refuses
    (out / "mine.wav").write_bytes(b"precious")
    with pytest.raises(StimgenError, match=r"holds 1 file that stimgen did not write \(e.g. mine.wav\)"):
        with atomic_dir(out, force=True):
            pass
    assert (out / "mine.wav").read_bytes() == b"precious"


@pytest.mark.parametrize("content", ["foreign", "empty-marker", "bad-marker"])
def test_force_refuses_folders_stimgen_did_not_write(tmp_path, content):
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("keep")
    if content == "empty-marker":  # a marker that lists nothing does not cover keep.txt
        (out / MARKER).write_text(json.dumps({"stimgen_version": "0", "files": []}))
    elif content == "bad-marker":
        (out / MARKER).write_text("not json")
    with pytest.raises(StimgenError, match="stimgen replaces only what it wrote"):
        with atomic_dir(out, force=True):
            pass
    assert (out / "keep.txt").read_text() == "keep"


def test_a_manifest_of_stimgens_does_not_make_the_folder_stimgens(tmp_path):
    """Without the list of what it wrote, stimgen cannot know the other files are its own."""
    out = tmp_path / "out"
    out.mkdir()
    (out / "manifest.json").write_text(json.dumps({"stimgen_version": "0.1.0"}))
    (out / "recording.wav").write_bytes(b"RIFF")
    with pytest.raises(StimgenError, match=f"holds 2 files and no {MARKER} listing them"):
        check_output(out, force=True)


def test_an_empty_folder_may_be_replaced(tmp_path):
    (tmp_path / "out").mkdir()
    assert check_output(tmp_path / "out", force=True) == tmp_path / "out"


def test_never_the_inputs_the_current_folder_home_or_root(tmp_path, monkeypatch):
    out = tmp_path / "out"
    with atomic_dir(out) as tmp:
        (tmp / "x.txt").write_text("x")
    (out / "sub").mkdir()
    wav = out / "sub" / "a.wav"
    with pytest.raises(StimgenError, match="holds the input"):
        check_output(out, force=True, inputs=[wav])
    with pytest.raises(StimgenError, match="is the input"):
        check_output(out, force=True, inputs=[out])
    with pytest.raises(StimgenError, match="lies inside the input"):
        check_output(out / "sub", force=True, inputs=[out])
    monkeypatch.chdir(out)
    with pytest.raises(StimgenError, match="is the current folder"):
        check_output(".", force=True)
    with pytest.raises(StimgenError, match="holds the current folder"):
        check_output(tmp_path, force=True)
    monkeypatch.setenv("HOME", str(out / "sub"))
    with pytest.raises(StimgenError, match="is your home folder"):
        check_output(out / "sub", force=True)
    with pytest.raises(StimgenError, match="root folder"):
        check_output("/", force=True)


def test_out_under_a_file_or_unwritable_is_one_clear_error(tmp_path):
    (tmp_path / "file.txt").write_text("x")
    with pytest.raises(StimgenError, match=r"deep/out: cannot be written: .*file.txt is a file, not a folder"):
        check_output(tmp_path / "file.txt" / "deep" / "out")
    with pytest.raises(StimgenError, match="exists and is not a folder"):
        check_output(tmp_path / "file.txt", force=True)
    with pytest.raises(StimgenError, match="is a folder, not a file"):
        check_output(tmp_path, force=True, folder=False)


def test_force_replaces_only_files_stimgen_wrote(tmp_path):
    mine = tmp_path / "vectors.json"
    mine.write_text(json.dumps({"somebody": "else"}))
    with pytest.raises(StimgenError, match="is a file that stimgen did not write"):
        with atomic_file(mine, force=True):
            pass
    ours = tmp_path / "ours.json"
    ours.write_text(json.dumps({"stimgen_version": "0.1.0"}))
    with atomic_file(ours, force=True) as tmp:
        tmp.write_text("{}")
    assert ours.read_text() == "{}"
    table = tmp_path / "codes.csv"  # a table is ours when its provenance JSON stands beside it
    table.write_text("z0\n1\n")
    with pytest.raises(StimgenError, match="did not write"):
        check_output(table, force=True, folder=False)
    (tmp_path / "codes.csv.json").write_text(json.dumps({"stimgen_version": "0.1.0"}))
    check_output(table, force=True, folder=False)
    with pytest.raises(StimgenError, match="is the input"):
        check_output(table, force=True, inputs=[table], folder=False)


def test_outputs_follow_the_umask(tmp_path):
    old = os.umask(0o022)
    try:
        with atomic_dir(tmp_path / "out") as tmp:
            (tmp / "a.txt").write_text("a")
        with atomic_file(tmp_path / "f.json") as tmp:
            tmp.write_text("{}")
    finally:
        os.umask(old)
    assert (tmp_path / "out").stat().st_mode & 0o777 == 0o755
    assert (tmp_path / "f.json").stat().st_mode & 0o777 == 0o644


def test_a_sigterm_as_the_temporary_folder_is_made_leaves_none(tmp_path, monkeypatch):
    """The signal waits until the folder is in the hands of the block that removes it, whichever
    thread it reaches (a thread beside the main one, as torch's are, is running)."""
    import signal
    import threading

    import stimgen.outputs as outputs

    made = outputs._temporary

    def made_then_signalled(*args, **kwargs):
        path = made(*args, **kwargs)
        os.kill(os.getpid(), signal.SIGTERM)   # lands before the caller's try, where it used to
        return path

    class Stopped(Exception):
        pass

    def stop(signum, frame):
        raise Stopped

    monkeypatch.setattr(outputs, "_temporary", made_then_signalled)
    previous = signal.signal(signal.SIGTERM, stop)
    done = threading.Event()
    beside = threading.Thread(target=done.wait, daemon=True)
    beside.start()
    try:
        for atomic in (lambda: outputs.atomic_dir(tmp_path / "out"), lambda: outputs.atomic_file(tmp_path / "f.txt")):
            with pytest.raises(Stopped):
                with atomic():
                    pass
            assert sorted(p.name for p in tmp_path.iterdir()) == []
    finally:
        done.set()
        signal.signal(signal.SIGTERM, previous)
