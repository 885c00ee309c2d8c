"""Writing outputs safely: never half-written, never replacing what stimgen did not write.

Every command that writes a folder builds it in a temporary sibling folder and renames it
into place only when everything in it has been written; a crash or a bad input leaves the
destination as it was. Each folder stimgen writes holds a small ``.stimgen.json`` that lists
what it wrote, so that ``--force`` can tell its own outputs from the user's files.

``--force`` replaces an existing output only when it is stimgen's own: a folder that is empty or
whose ``.stimgen.json`` lists every file in it; a file that stimgen wrote (a JSON file with a
``stimgen_version``, or a table with such a JSON beside it). A folder stimgen wrote before the
marker existed is not replaced: a ``manifest.json`` of stimgen's in it does not prove that the
rest is stimgen's too. It never replaces
a folder that is or holds one of the command's inputs, the current folder, the home folder or
``/``; nor a file that another stimgen output folder's ``.stimgen.json`` lists (a model folder's
``config.json``, a continuum's ``manifest.json``): that file is part of that output. All of this is
checked by :func:`check_output` before any work is done.

The check is not trusted to hold until the end: the result is renamed into place by
:func:`_put_in_place`, which never replaces anything the check did not approve (something that
appeared at ``--out`` while the command ran, or an approved output that changed meanwhile).

Temporary names carry the process id (``.NAME.tmp-PID-XXXX``): a run killed with SIGKILL leaves
one behind, and the next run that writes beside it removes it once that process is gone.
Everything is written with the user's umask.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import functools
import hashlib
import json
import os
import re
import shutil
import signal
import stat
import sys
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import stimgen
from stimgen.errors import StimgenError

#: The file in each output folder that lists what stimgen wrote there.
MARKER = ".stimgen.json"
_TEMPORARY = re.compile(r"^\.(?P<name>.+)\.(?:tmp|old)-(?P<pid>\d+)-")

PathLike = str | os.PathLike


def file_sha256(path: PathLike) -> str:
    """The sha256 of a file's bytes, as hex: what every provenance record names a file by.

    Examples
    --------
    >>> file_sha256("manifest.csv")[:12]        # doctest: +SKIP
    '3f1c0a9e77b2'
    """
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


@dataclass(frozen=True)
class Approved:
    """What :func:`approve_output` checked: the output ``path`` and what was there, ``found`` (see
    :func:`_identity`; None where nothing was). Only that may be replaced later."""

    path: Path
    found: tuple | None


def check_output(out: PathLike, force: bool = False, inputs: Iterable[PathLike] = (), folder: bool = True) -> Path:
    """Refuse, before any work, an output path that could not be written or must not be replaced.

    ``out`` is a folder (``folder=True``) or a file to write; ``inputs`` are the files and
    folders the command reads (endpoints, a model folder, a data folder, a continuum). Raises
    :class:`StimgenError` with one line naming the path when ``out`` lies under a file, cannot be
    written, is, holds or (existing) lies inside an input, is or holds the current folder, the home
    folder or ``/``, exists and is not stimgen's own, is (a file) part of another stimgen output
    folder, or exists and ``force`` is not given. Returns ``out`` as a Path.

    Examples
    --------
    >>> check_output("i-a", inputs=["i.wav", "a.wav"])      # doctest: +SKIP
    PosixPath('i-a')
    """
    return approve_output(out, force, inputs, folder).path


def approve_output(out: PathLike, force: bool = False, inputs: Iterable[PathLike] = (), folder: bool = True
                   ) -> Approved:
    """:func:`check_output`, returning also what it approved at ``out`` (for :func:`_put_in_place`
    and :func:`claim_folder`, which replace nothing else)."""
    out = Path(out)
    _check_parent(out)
    found = _identity(out)  # before what is there is inspected: if it changes after, it is not replaced
    real = Path(os.path.realpath(out))
    exists = os.path.lexists(out)
    if folder:
        _check_not_protected(out, real)
    for item in inputs:
        source = Path(os.path.realpath(item))
        if source == real or real in source.parents or exists and source in real.parents:
            what = "is" if source == real else "holds" if real in source.parents else "lies inside"
            raise StimgenError(f"{what} the input {os.fspath(item)}; stimgen never replaces its inputs or anything "
                               "in them: choose another --out", path=out)
    if not exists:
        return Approved(out, None)
    if folder and not out.is_dir():
        raise StimgenError("exists and is not a folder", path=out)
    if not folder and out.is_dir():
        raise StimgenError("is a folder, not a file", path=out)
    owner = None if folder else _output_holding(out)
    if owner is not None:
        raise StimgenError(f"is part of the stimgen output {owner} (its {MARKER} lists it); stimgen never replaces a "
                           "file of another output: choose another --out", path=out)
    problem = _not_ours(out) if folder else _file_not_ours(out)
    if problem:
        raise StimgenError(f"{problem}; stimgen replaces only what it wrote: move it away or choose another --out",
                           path=out)
    if not force:
        raise StimgenError("already exists; pass --force to replace it", path=out)
    return Approved(out, found)


def mark_owned(folder: PathLike, verb: str, files: Iterable[str] | None = None, folders: Iterable[str] = ()) -> None:
    """Write ``folder/.stimgen.json``, which lists the ``files`` (relative paths; default: every
    file now in the folder) and whole sub``folders`` that stimgen wrote there."""
    folder = Path(folder)
    if files is None:
        files = [p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()]
        files = [f for f in files if f != MARKER]
    record = {"stimgen_version": stimgen.__version__, "written_by": verb, "files": sorted(files),
              "folders": sorted(folders)}
    (folder / MARKER).write_text(json.dumps(record, indent=2) + "\n")


@contextlib.contextmanager
def atomic_dir(out: PathLike, force: bool = False, inputs: Iterable[PathLike] = (), verb: str = "stimgen",
               cache: bool = False) -> Iterator[Path]:
    """Yield a temporary folder that becomes ``out`` when the block ends without error.

    ``out`` is checked first (:func:`check_output` with ``inputs``); the finished folder gets a
    ``.stimgen.json`` naming ``verb`` and listing what was written. It is renamed into place by
    :func:`_put_in_place`: whatever appeared at ``out`` after the check is left alone, with one
    line. ``cache=True`` (stimgen's own cache entries, the same whoever builds them): where
    another process put the entry there meanwhile, that one is kept and this one dropped.

    Examples
    --------
    >>> with atomic_dir("stimuli") as tmp:          # doctest: +SKIP
    ...     (tmp / "a.txt").write_text("hello")
    """
    approved = approve_output(out, force, inputs, folder=True)
    with _sigterm_held() as release:
        tmp = _temporary(approved.path, directory=True)
        try:
            release()
            yield tmp
            mark_owned(tmp, verb)
            try:
                _put_in_place(tmp, approved)
            except StimgenError:
                if not (cache and os.path.isdir(approved.path)):
                    raise
        finally:
            if tmp.exists():
                shutil.rmtree(tmp)


@contextlib.contextmanager
def atomic_file(out: PathLike, force: bool = False, inputs: Iterable[PathLike] = (), ours_only: bool = True
                ) -> Iterator[Path]:
    """Yield a temporary path beside ``out`` (same suffix) that becomes ``out`` when the block ends
    without error.

    ``out`` is checked first (:func:`check_output`) and renamed into place by
    :func:`_put_in_place`. ``ours_only=False`` lets ``force`` replace any file, whenever it
    appeared (for stimgen's own caches and checkpoints, not for users' outputs).

    Examples
    --------
    >>> with atomic_file("vectors.json") as tmp:      # doctest: +SKIP
    ...     tmp.write_text("{}")
    """
    out = Path(out)
    approved = None
    if ours_only:
        approved = approve_output(out, force, inputs, folder=False)
    elif out.is_dir():
        raise StimgenError("is a folder, not a file", path=out)
    elif out.exists() and not force:
        raise StimgenError("already exists; pass --force to replace it", path=out)
    with _sigterm_held() as release:
        tmp = _temporary(out, directory=False)  # raises the one-line error where nothing can be written
        try:
            release()
            yield tmp
            if approved is None:
                tmp.replace(out)
            else:
                _put_in_place(tmp, approved)
        finally:
            if tmp.exists():
                tmp.unlink()


def claim_folder(approved: Approved, verb: str, files: Iterable[str], folders: Iterable[str] = ()) -> bool:
    """Make ``approved.path`` a folder that a command writes in place while it works (a training run):
    created where nothing was, emptied where :func:`approve_output` approved what was there; then
    marked (:func:`mark_owned` with ``files`` and ``folders``). Returns whether it was created.

    Nothing else is replaced: a folder that appeared since the check, or that changed (another
    folder there, files that stimgen did not write added), is refused with one line and left as it is.
    """
    out = approved.path
    if approved.found is None:
        try:
            out.parent.mkdir(parents=True, exist_ok=True)
            os.mkdir(out)  # fails where anything appeared at out since the check: nothing is taken over
        except FileExistsError:
            raise StimgenError(APPEARED, path=out) from None
        except OSError as exc:
            raise StimgenError(f"cannot be written ({exc.strerror or exc})", path=out) from None
    else:
        if _identity(out) != approved.found or not out.is_dir() or _not_ours(out):
            raise StimgenError(CHANGED, path=out)
        for child in out.iterdir():
            shutil.rmtree(child) if child.is_dir() and not child.is_symlink() else child.unlink()
    mark_owned(out, verb, files=files, folders=folders)
    return approved.found is None


# --- renaming into place ----------------------------------------------------------------------

APPEARED = ("appeared while this command ran (another run with the same --out?) and was left as it is; nothing was "
            "written: run again or choose another --out")
CHANGED = ("changed while this command ran (files added to it, or replaced) and was left as it is; nothing was "
           "written: run again or choose another --out")


def _identity(path: Path) -> tuple | None:
    """What is at ``path`` (not following a link): a folder by its device and inode, anything else
    also by its size and modification time; None where nothing is."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return None
    if stat.S_ISDIR(st.st_mode):
        return (st.st_dev, st.st_ino)
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


def _put_in_place(tmp: Path, approved: Approved) -> None:
    """Rename the finished ``tmp`` to ``approved.path``, replacing only what the check approved.

    Where nothing was, ``tmp`` is renamed with :func:`_rename_noreplace`, which cannot replace
    anything that appeared since. Where the check approved an output, that is first moved aside
    in one rename, then checked again there (the same folder or file, still only stimgen's files):
    anything else is put back and refused; then ``tmp`` takes its place (again without replacing
    what might have appeared in between), and only then is the old output deleted.
    """
    out = approved.path
    if approved.found is None:
        if not _rename_noreplace(tmp, out):
            raise StimgenError(APPEARED, path=out)
        return
    holder = _temporary(out, directory=True, kind="old")
    aside = holder / out.name
    try:
        os.rename(out, aside)  # what is at out now, taken away from there in one step
    except FileNotFoundError:  # gone meanwhile: nothing left to replace
        aside = None
    try:
        if aside is not None and (_identity(aside) != approved.found or aside.is_dir() and _not_ours(aside)):
            if not _rename_noreplace(aside, out):  # something else appeared at out too: keep both
                kept = out.with_name(f"{out.name}.kept-{os.getpid()}")
                os.rename(holder, kept)
                raise StimgenError(f"{CHANGED} (what was there is in {kept})", path=out)
            raise StimgenError(CHANGED, path=out)
        if not _rename_noreplace(tmp, out):
            raise StimgenError(APPEARED, path=out)
    finally:
        if holder.exists():
            shutil.rmtree(holder)


def _rename_noreplace(src: Path, dst: Path) -> bool:
    """Rename ``src`` to ``dst`` only where nothing is at ``dst``; False (and nothing moved) where
    something is.

    The test and the rename must be one step, or what appears in between is replaced: a plain
    rename(2) replaces a file, and an empty folder with a folder. Linux's renameat2(2) with
    RENAME_NOREPLACE is that one step (called through ctypes: Python has no binding). Where it is
    missing (other systems, C libraries before glibc 2.28, file systems without the flag): a file
    is hard-linked to ``dst`` (link(2) never replaces) and then unlinked; a folder is renamed after a
    test, and rename(2) fails onto a file or a folder that holds anything, so only an empty folder
    made in that instant could be replaced, and it holds nothing to lose.
    """
    result = _renameat2(src, dst)
    if result is not None:
        return result
    if not src.is_dir() or src.is_symlink():
        try:
            os.link(src, dst, follow_symlinks=False)
        except FileExistsError:
            return False
        except OSError:  # a file system without hard links: the test and rename below
            pass
        else:
            os.unlink(src)
            return True
    if os.path.lexists(dst):
        return False
    try:
        os.rename(src, dst)
    except OSError as exc:
        if exc.errno in (errno.EEXIST, errno.ENOTEMPTY, errno.ENOTDIR, errno.EISDIR):
            return False
        raise
    return True


_RENAME_NOREPLACE, _AT_FDCWD = 1, -100


def _renameat2(src: Path, dst: Path) -> bool | None:
    """renameat2(src, dst, RENAME_NOREPLACE): True when renamed, False where ``dst`` exists, None
    where the system or the file system does not offer it."""
    call = _libc_renameat2()
    if call is None:
        return None
    if call(_AT_FDCWD, os.fsencode(src), _AT_FDCWD, os.fsencode(dst), _RENAME_NOREPLACE) == 0:
        return True
    code = ctypes.get_errno()
    if code == errno.EEXIST:
        return False
    if code in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EPERM):
        return None
    raise OSError(code, os.strerror(code), os.fspath(src), None, os.fspath(dst))


@functools.cache
def _libc_renameat2():
    """The C library's renameat2, or None (not Linux, or a C library without it)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        call = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return None
    call.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    call.restype = ctypes.c_int
    return call


# --- what may be replaced ---------------------------------------------------------------------


def _check_parent(out: Path) -> None:
    """``out``'s nearest existing ancestor must be a folder this process may write in."""
    parent = out.absolute().parent
    while not os.path.lexists(parent):
        parent = parent.parent
    if not parent.is_dir():
        raise StimgenError(f"cannot be written: {parent} is a file, not a folder", path=out)
    try:  # a probe, removed at once: permissions, read-only file systems and the like all show here
        os.rmdir(tempfile.mkdtemp(prefix=f".stimgen-probe-{os.getpid()}-", dir=parent))
    except OSError as exc:
        raise StimgenError(f"cannot be written: no permission to write in {parent} ({exc.strerror or exc})",
                           path=out) from None


def _check_not_protected(out: Path, real: Path) -> None:
    for name, place in (("the root folder", Path("/")), ("the current folder", Path.cwd()),
                        ("your home folder", Path.home())):
        place = Path(os.path.realpath(place))
        if real == place or real in place.parents:
            what = "is" if real == place else "holds"
            raise StimgenError(f"{what} {name}; stimgen never replaces it: choose a new folder for --out", path=out)


def _not_ours(folder: Path) -> str | None:
    """Why ``folder`` is not stimgen's to replace, or None if it is."""
    present = [p.relative_to(folder).as_posix() for p in folder.rglob("*")
               if (p.is_file() or p.is_symlink()) and not _is_stale(p)]
    if not present:
        return None
    record = _read_json(folder / MARKER)
    if record is not None and isinstance(record.get("files"), list):
        foreign = [p for p in present if not _lists(record, p)]
        if foreign:
            return (f"holds {len(foreign)} file{'s' if len(foreign) > 1 else ''} that stimgen did not write "
                    f"(e.g. {foreign[0]})")
        return None
    return (f"is a folder that stimgen did not write (it holds {len(present)} file{'s' if len(present) > 1 else ''} "
            f"and no {MARKER} listing them)")


def _lists(record: dict, name: str) -> bool:
    """Whether the ``.stimgen.json`` ``record`` of a folder names the file ``name`` (relative to that
    folder) as stimgen's: among its files, in its whole folders, or the record itself."""
    files = record.get("files")
    if not isinstance(files, list):
        return False
    owned = tuple(f"{d}/" for d in record.get("folders", []) if isinstance(d, str))
    return name == MARKER or name in set(map(str, files)) or name.startswith(owned)


def _output_holding(path: Path) -> Path | None:
    """The stimgen output folder that ``path`` (a file) is part of: the nearest folder above it whose
    ``.stimgen.json`` lists it, or cannot be read (then it cannot tell, and everything in it is
    taken as its); None if there is none. Both the path as given and the file it links to count."""
    for start in dict.fromkeys((Path(os.path.abspath(path)), Path(os.path.realpath(path)))):
        for folder in start.parents:
            marker = folder / MARKER
            if not os.path.lexists(marker):
                continue
            record = _read_json(marker)
            if record is None or not isinstance(record.get("files"), list) or \
                    _lists(record, start.relative_to(folder).as_posix()):
                return folder
    return None


def _file_not_ours(path: Path) -> str | None:
    """Why the file ``path`` is not stimgen's to replace, or None if it is."""
    for candidate in (path, path.with_name(path.name + ".json")):
        if (_read_json(candidate) or {}).get("stimgen_version"):
            return None
    return "is a file that stimgen did not write"


def _read_json(path: Path) -> dict | None:
    try:
        if path.stat().st_size > 1 << 24:
            return None
        value = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None


@contextlib.contextmanager
def _sigterm_held() -> Iterator[Callable[[], None]]:
    """SIGTERM waits until ``release()`` is called or the block ends, so that a temporary file made
    in the block is not left by a SIGTERM that lands before the ``try`` that removes it. Python
    runs signal handlers in the main thread whichever thread the signal reached (torch's own
    threads among them), so the handler itself is held: a SIGTERM meanwhile is noted and raised
    again at ``release()``, to the handler that was there. Elsewhere than in the main thread, or
    where that handler was not set from Python, nothing waits."""
    previous = signal.getsignal(signal.SIGTERM)
    if threading.current_thread() is not threading.main_thread() or previous is None:
        yield lambda: None
        return
    arrived = held = False

    def note(signum, frame) -> None:
        nonlocal arrived
        arrived = True

    signal.signal(signal.SIGTERM, note)
    held = True

    def release() -> None:
        nonlocal held
        if held:
            held = False
            signal.signal(signal.SIGTERM, previous)
            if arrived:
                signal.raise_signal(signal.SIGTERM)

    try:
        yield release
    finally:
        release()


def exit_cleanly_on_sigterm() -> None:
    """Let SIGTERM end the process as an exception (exit code 143), so that the ``finally`` blocks
    above remove their temporary files before it exits. SIGKILL cannot be caught: stale temporary
    files are removed by the next run instead."""
    def stop(signum, frame):
        sys.exit(128 + signum)

    with contextlib.suppress(ValueError):  # not the main thread: leave the default
        signal.signal(signal.SIGTERM, stop)


# --- temporary files --------------------------------------------------------------------------


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _temporary(out: Path, directory: bool, kind: str = "tmp") -> Path:
    """A new hidden temporary folder or file beside ``out``, named with this process's id, with
    the permissions the user's umask gives; stale ones of dead processes are removed first."""
    prefix = f".{out.name}.{kind}-{os.getpid()}-"
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        _remove_stale(out)
        if directory:
            path = Path(tempfile.mkdtemp(prefix=prefix, dir=out.parent))
            path.chmod(0o777 & ~_umask())
        else:
            fd, name = tempfile.mkstemp(prefix=prefix, suffix=out.suffix, dir=out.parent)
            os.close(fd)
            path = Path(name)
            path.chmod(0o666 & ~_umask())
    except OSError as exc:
        raise StimgenError(f"cannot be written ({exc.strerror or exc})", path=out) from None
    return path


def _is_stale(path: Path) -> bool:
    """A temporary file or folder of stimgen's whose process is gone."""
    match = _TEMPORARY.match(path.name)
    if not match:
        return False
    pid = int(match["pid"])
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:
        return False
    return False


def _remove_stale(out: Path) -> None:
    """Remove the temporary files and folders that killed runs writing ``out`` left beside it."""
    for name in os.listdir(out.parent):
        match = _TEMPORARY.match(name)
        path = out.parent / name
        if match and match["name"] == out.name and _is_stale(path):
            with contextlib.suppress(OSError):
                shutil.rmtree(path) if path.is_dir() and not path.is_symlink() else path.unlink()
