import pytest

from stimgen.errors import StimgenError
from stimgen.outputs import atomic_dir


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


def test_atomic_dir_never_overwrites_without_force(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("keep")
    with pytest.raises(StimgenError, match="--force"):
        with atomic_dir(out):
            pass
    assert (out / "keep.txt").read_text() == "keep"
    with atomic_dir(out, force=True) as tmp:
        (tmp / "new.txt").write_text("new")
    assert sorted(p.name for p in out.iterdir()) == ["new.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]

