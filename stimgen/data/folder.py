"""Folder data sets: a folder of audio files or of images, with an optional ``labels.csv``.

This is the path real users take with their own recordings, and the built-in sets are stored
the same way. A folder holds audio files (any rate, any length, any of the formats soundfile
reads) or images (PNG, JPEG, ...), in it or in subfolders; ``labels.csv`` has a ``file`` column
(the path relative to the folder, forward slashes) and one column per label.

A row may also say that its file lies between two others of the folder: ``between_a`` and
``between_b`` name them, ``between_at`` (0-1) is how far from ``between_a`` towards
``between_b`` it lies (empty cells for the other rows). A model trained with ``between_weight``
learns from these that decoding the codes of a and b mixed at that weight gives this file
(see docs/models.md); the ``vowel-space`` set has 1,520 such rows.
"""

from __future__ import annotations

import hashlib
import json
import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image
from tqdm.auto import tqdm

from stimgen.errors import StimgenError, StimgenWarning
from stimgen.signal.audio import audio_info
from stimgen.signal.image import load_image
from stimgen.signal.spectrogram import SpectrogramConfig, load_spectrogram

AUDIO_EXTENSIONS = (".wav", ".flac", ".ogg", ".aif", ".aiff", ".mp3")
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff")
LABELS_FILE = "labels.csv"
META_FILE = "meta.json"
PREVIEW_FILE = "preview.png"
#: Label columns read as text whatever they hold (a syllable labelled "1" stays "1", not the number 1).
TEXT_COLUMNS = ("label",)
#: The label columns of a file that lies between two others (see the module's text).
BETWEEN_COLUMNS = ("between_a", "between_b", "between_at")


@dataclass(frozen=True)
class Betweens:
    """Items that lie between two others: item ``item[k]`` lies ``at[k]`` of the way from item
    ``a[k]`` to item ``b[k]`` (positions in the data set)."""

    item: np.ndarray
    a: np.ndarray
    b: np.ndarray
    at: np.ndarray

    def __len__(self) -> int:
        return len(self.item)

    def within(self, keep: np.ndarray, n: int) -> Betweens:
        """The rows whose three items are all among positions ``keep`` of a set of ``n`` items,
        renumbered to positions in ``keep`` (e.g. the training items of a split)."""
        where = np.full(n, -1)
        where[keep] = np.arange(len(keep))
        item, a, b = where[self.item], where[self.a], where[self.b]
        ok = (item >= 0) & (a >= 0) & (b >= 0)
        return Betweens(item[ok], a[ok], b[ok], self.at[ok])


@dataclass
class FolderDataset:
    """Files of one medium (``"audio"`` or ``"image"``) under ``root``, their labels, and what the
    folder says of itself.

    Examples
    --------
    >>> ds = open_folder("my_recordings")                       # doctest: +SKIP
    >>> specs = ds.spectrograms(SpectrogramConfig.preset("birdsong"))   # doctest: +SKIP
    """

    root: Path
    medium: str
    files: list[str]
    labels: pd.DataFrame
    meta: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.files)

    def path(self, i: int) -> Path:
        """The full path of file ``i``."""
        return self.root / self.files[i]

    def spectrograms(self, config: SpectrogramConfig, progress: bool = False) -> np.ndarray:
        """Every file as a model image, (N, n_mels, n_frames) float32 in [0, 1].

        Each file goes through :func:`~stimgen.signal.spectrogram.load_spectrogram`, as every file a
        model is given does.
        """
        self._require("audio")
        out = np.empty((len(self), *config.shape), dtype=np.float32)
        for i in tqdm(range(len(self)), desc="spectrograms", disable=not progress, unit="file"):
            out[i] = load_spectrogram(self.path(i), config)
        return out

    def longer_than(self, seconds: float) -> list[str]:
        """The audio files that last longer than ``seconds`` (from their headers; a file that cannot
        be read is refused as :func:`~stimgen.signal.audio.load_audio` refuses it)."""
        self._require("audio")
        return [f for i, f in enumerate(self.files) if audio_info(self.path(i)).duration > seconds + 1e-3]

    def warn_cropped(self, window: float | None, use: str) -> None:
        """Say, in one :class:`StimgenWarning` naming the folder, how many audio files last longer than
        ``window`` (s, the model's) and are cropped to their middle ``use`` (``"for training"``);
        nothing for images (``window`` None) or where every file fits."""
        long = self.longer_than(window) if self.medium == "audio" and window is not None else []
        if long:
            warnings.warn(StimgenWarning(f"{len(long)} of {len(self)} files (e.g. {long[0]}) are longer than the "
                                         f"model's {window:.2f} s window and are cropped to their middle {use}; cut "
                                         "them into units first with `stimgen data segment`", path=self.root),
                          stacklevel=3)

    def images(self, size: int | None = None, mode: str = "gray") -> np.ndarray:
        """Every image as float32 in [0, 1]: (N, H, W) for gray, (N, H, W, 3) for rgb.

        Without ``size`` all images must share one size.
        """
        self._require("image")
        images = [load_image(self.path(i), size=size, mode=mode) for i in range(len(self))]
        shapes = {im.shape for im in images}
        if len(shapes) > 1:
            raise StimgenError(
                f"images have {len(shapes)} different sizes ({', '.join(map(str, sorted(shapes)[:3]))}, ...); "
                "give a size to resize them to", path=self.root)
        return np.stack(images)

    def betweens(self) -> Betweens | None:
        """The rows of ``labels.csv`` that say their file lies between two others (None when the
        table has no such columns); a row that names a file not in the folder, names only one, or
        gives no weight in [0, 1] is an error naming it."""
        if not set(BETWEEN_COLUMNS) <= set(self.labels.columns):
            return None
        position = {name: i for i, name in enumerate(self.files)}
        rows = []
        for i, (a, b, at) in enumerate(self.labels[list(BETWEEN_COLUMNS)].itertuples(index=False)):
            given = [isinstance(v, str) and v != "" for v in (a, b)]
            if not any(given) and pd.isna(at):
                continue
            where = f"{LABELS_FILE}, row of {self.files[i]}"
            if not all(given) or a not in position or b not in position:
                raise StimgenError(f"between_a and between_b must both name files of the folder, got {a!r} and {b!r}",
                                   path=self.root / where)
            if not (isinstance(at, (int, float)) and 0.0 <= at <= 1.0):
                raise StimgenError(f"between_at must be a number from 0 to 1, got {at!r}", path=self.root / where)
            rows.append((i, position[a], position[b], float(at)))
        item, a, b, at = (np.array(c) for c in zip(*rows)) if rows else [np.zeros(0, int)] * 3 + [np.zeros(0)]
        return Betweens(item.astype(int), a.astype(int), b.astype(int), at.astype(float))

    def content_hash(self) -> str:
        """sha256 over every file's bytes and the labels: names the data a model was trained on."""
        h = hashlib.sha256()
        for i, name in enumerate(self.files):
            h.update(name.encode())
            h.update(hashlib.sha256(self.path(i).read_bytes()).digest())
        h.update(self.labels.to_csv(index=False).encode())
        return h.hexdigest()

    def _require(self, medium: str) -> None:
        if self.medium != medium:
            raise StimgenError(f"holds {self.medium} files, not {medium}", path=self.root)


def open_folder(root: str | os.PathLike) -> FolderDataset:
    """Read a folder data set: find its files, check its ``labels.csv`` and ``meta.json``.

    Raises :class:`StimgenError` for a missing or empty folder, a folder that mixes audio and
    images, and a labels table without a ``file`` column or naming files that are not there.
    Files without a row in the table get empty labels.
    """
    root = Path(root)
    if not root.exists():
        raise StimgenError("no such folder", path=root)
    if not root.is_dir():
        raise StimgenError("is not a folder", path=root)
    audio, images = [], []
    for p in sorted(root.rglob("*")):
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(root).parts):
            ext = p.suffix.lower()
            rel = p.relative_to(root).as_posix()
            if ext in AUDIO_EXTENSIONS:
                audio.append(rel)
            elif ext in IMAGE_EXTENSIONS and rel != PREVIEW_FILE:
                images.append(rel)
    if audio and images:
        raise StimgenError(f"mixes audio ({len(audio)} files) and images ({len(images)} files); "
                           "keep one kind per folder", path=root)
    if not audio and not images:
        raise StimgenError(f"holds no audio ({', '.join(AUDIO_EXTENSIONS)}) or image "
                           f"({', '.join(IMAGE_EXTENSIONS)}) files", path=root)
    files = audio or images
    return FolderDataset(root, "audio" if audio else "image", files, _read_labels(root, files), _read_meta(root))


def read_table(path: str | os.PathLike, what: str = "CSV table", text: tuple[str, ...] = ()) -> pd.DataFrame:
    """A CSV file as a DataFrame (a UTF-8 byte-order mark is dropped; the columns named in ``text``
    read as strings, not numbers); a missing or unreadable file is one :class:`StimgenError` naming
    it (``what`` says what it should have been).

    Examples
    --------
    >>> read_table("labels.csv").columns[0]         # doctest: +SKIP
    'file'
    """
    path = Path(path)
    if not path.is_file():
        raise StimgenError(f"no such {what}", path=path)
    try:
        return pd.read_csv(path, encoding="utf-8-sig", dtype=dict.fromkeys(text, str))
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise StimgenError(f"not a readable CSV table ({str(exc).splitlines()[0]})", path=path) from None


def _read_labels(root: Path, files: list[str]) -> pd.DataFrame:
    path = root / LABELS_FILE
    if not path.exists():
        return pd.DataFrame({"file": files})
    table = read_table(path, text=TEXT_COLUMNS)
    if "file" not in table.columns:
        raise StimgenError("needs a 'file' column naming each file relative to the folder", path=path)
    table["file"] = table["file"].astype(str).str.replace("\\", "/", regex=False)
    if table["file"].duplicated().any():
        raise StimgenError(f"names {table['file'][table['file'].duplicated()].iloc[0]!r} twice", path=path)
    missing = sorted(set(table["file"]) - set(files))
    if missing:
        raise StimgenError(f"names {len(missing)} file(s) not in the folder, e.g. {missing[0]!r}", path=path)
    return pd.DataFrame({"file": files}).merge(table, on="file", how="left")


def _read_meta(root: Path) -> dict:
    path = root / META_FILE
    if not path.exists():
        return {}
    try:
        meta = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise StimgenError(f"not valid JSON ({exc})", path=path) from None
    if not isinstance(meta, dict):
        raise StimgenError("must hold a JSON object", path=path)
    return meta


def summarize(ds: FolderDataset) -> str:
    """A short text report of a data set: counts, formats, durations or sizes, and its labels.

    Examples
    --------
    >>> print(summarize(open_folder("data/vowels")))            # doctest: +SKIP
    data/vowels: 1520 audio files
    ...
    """
    lines = [f"{ds.root}: {len(ds)} {ds.medium} files"]
    if "settings" in ds.meta:
        lines.append("built-in set: " + ", ".join(f"{k}={v}" for k, v in ds.meta["settings"].items()))
    if ds.medium == "audio":
        infos = [audio_info(ds.path(i)) for i in range(len(ds))]
        durations = np.array([info.duration for info in infos])
        rates = pd.Series([info.samplerate for info in infos]).value_counts()
        lines.append("sample rates: " + ", ".join(f"{r} Hz ({c})" for r, c in rates.items()))
        lines.append(f"durations: {durations.min():.3f} to {durations.max():.3f} s, "
                     f"median {np.median(durations):.3f} s, total {durations.sum():.1f} s")
    else:
        with Image.open(ds.path(0)) as im:
            lines.append(f"first image: {im.width} x {im.height}, mode {im.mode}")
    columns = [c for c in ds.labels.columns if c != "file"]
    lines.append(f"labels: {', '.join(columns) if columns else 'none (no labels.csv)'}")
    for c in columns:
        col = ds.labels[c]
        missing = f", {col.isna().sum()} missing" if col.isna().any() else ""
        if pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col) and col.nunique() > 12:
            lines.append(f"  {c}: mean {col.mean():.4g}, sd {col.std():.4g}, range {col.min():.4g} to "
                         f"{col.max():.4g}{missing}")
        else:
            counts = sorted(col.dropna().astype(str).value_counts().items(), key=lambda kv: (-kv[1], kv[0]))
            shown = ", ".join(f"{k} ({v})" for k, v in counts[:12])
            more = f", ... {len(counts) - 12} more values" if len(counts) > 12 else ""
            lines.append(f"  {c}: {shown}{more}{missing}")
    return "\n".join(lines)
