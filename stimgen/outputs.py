"""Writing outputs safely: never half-written, never overwritten without ``force``.

Every command that writes a folder builds it in a temporary sibling folder and renames it
into place only when everything in it has been written. A crash or a bad input leaves the
destination as it was.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from stimgen.errors import StimgenError


@contextlib.contextmanager
def atomic_dir(out: str | os.PathLike, force: bool = False) -> Iterator[Path]:
    """Yield a temporary folder that becomes ``out`` when the block ends without error.

    Examples
    --------
    >>> with atomic_dir("stimuli") as tmp:          # doctest: +SKIP
    ...     (tmp / "a.txt").write_text("hello")
    """
    out = Path(out)
    if out.exists() and not force:
        raise StimgenError("already exists; pass --force to overwrite it", path=out)
    if out.exists() and not out.is_dir():
        raise StimgenError("exists and is not a folder", path=out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    try:
        yield tmp
        if out.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
            out.rename(old / out.name)
            tmp.rename(out)
            shutil.rmtree(old)
        else:
            tmp.rename(out)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)



@contextlib.contextmanager
def atomic_file(out: str | os.PathLike, force: bool = False) -> Iterator[Path]:
    """Yield a temporary path beside ``out`` (same suffix) that becomes ``out`` when the block ends
    without error.

    Examples
    --------
    >>> with atomic_file("vectors.json") as tmp:      # doctest: +SKIP
    ...     tmp.write_text("{}")
    """
    out = Path(out)
    if out.is_dir():
        raise StimgenError("is a folder, not a file", path=out)
    if out.exists() and not force:
        raise StimgenError("already exists; pass --force to overwrite it", path=out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{out.name}.tmp-", suffix=out.suffix, dir=out.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        tmp.replace(out)
    finally:
        if tmp.exists():
            tmp.unlink()
