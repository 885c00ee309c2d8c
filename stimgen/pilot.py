"""Piloting a continuum: a two-alternative identification experiment, and reading its data back.

:func:`make_pilot` writes a folder that runs as it is, in PsychoPy (``psychopy_identification.py``)
or in a browser (``index.html`` with a bundled jsPsych 8, nothing fetched at run time), over a
copy of a continuum's stimuli; the script, the page and the README are templates in
``stimgen/assets/pilot/``. :func:`read_responses` reads what either writes (or a plain CSV
with ``morph_level`` and ``response_b``) as one table of trials, each matched to its stimulus in
the continuum's manifest. Fitting is :mod:`stimgen.psychometric`; re-spacing the continuum is
:mod:`stimgen.respace`.

Examples
--------
>>> make_pilot("i-a", "i-a-pilot", reps=10, labels=("ee", "ah"))        # doctest: +SKIP
>>> trials = read_responses(["i-a-pilot/data/P01.csv"])               # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

import stimgen
from stimgen.errors import StimgenError
from stimgen.options import PILOT_REPS, SEED
from stimgen.stimulus_folder import MANIFEST_CSV, SPECTROGRAM_DIR, STIM_FILE, STIMULI_DIR, read_folder

PILOT_FILE = "pilot.json"
JSPSYCH_FILES = ("jspsych.min.js", "jspsych.css", "plugin-preload.min.js", "plugin-audio-button-response.min.js",
                 "plugin-html-button-response.min.js", "NOTICE.md")
#: The line of the PsychoPy template (stimgen/assets/pilot/) that :func:`make_pilot` replaces with the settings.
SETTINGS_LINE = "\nSETTINGS = {}  # filled by stimgen pilot\n"


def make_pilot(continuum: str | os.PathLike, out: str | os.PathLike, reps: int = PILOT_REPS, seed: int = SEED,
               labels: tuple[str, str] | None = None, force: bool = False, command: str | None = None) -> Path:
    """Write a two-alternative identification experiment over the continuum folder ``continuum``.

    Parameters
    ----------
    continuum
        A folder written by ``stimgen continuum`` (its manifest.csv, manifest.json and stimuli).
    out
        The pilot folder: ``stimuli/``, ``spectrograms/`` and ``manifest.csv`` (copies),
        ``psychopy_identification.py``,
        ``index.html`` with ``jspsych/`` and ``trials.js``, ``pilot.json``, ``README.md``.
    reps
        Presentations of every step; the order is shuffled with ``seed``.
    labels
        The two answers ("A", "B"); default the endpoints' file names without extension.

    Returns
    -------
    Path
        ``out``.
    """
    from stimgen.outputs import atomic_dir, check_output

    continuum = Path(continuum)
    folder = read_folder(continuum, verb="continuum", medium="audio", what="a continuum of sounds")
    folder.check_stimuli()   # every file trials.js names is there, and is the one the record names
    manifest = folder.manifest
    if not (isinstance(reps, (int, np.integer)) and 1 <= reps <= 1000):
        raise StimgenError(f"--reps must be a whole number from 1 to 1000, got {reps!r}")
    if labels is None:
        labels = tuple(Path(str(manifest[c].iloc[0])).stem for c in ("endpoint_a", "endpoint_b"))
    if len(labels) != 2 or not all(str(x).strip() for x in labels) or labels[0] == labels[1]:
        raise StimgenError(f"--labels must be two different names, A,B; got {','.join(map(str, labels))!r}")
    out = check_output(out, force, inputs=[continuum])
    rng = np.random.default_rng(seed)
    order = np.concatenate([rng.permutation(len(manifest)) for _ in range(reps)])
    columns = [STIM_FILE, "step", "morph_level"]
    trials = manifest.iloc[order][columns].to_dict("records")
    with atomic_dir(out, force=force, inputs=[continuum], verb="pilot") as tmp:
        for sub in (STIMULI_DIR, SPECTROGRAM_DIR):   # what the copied manifest names
            if (continuum / sub).is_dir():
                shutil.copytree(continuum / sub, tmp / sub)
        shutil.copy2(continuum / MANIFEST_CSV, tmp / MANIFEST_CSV)
        (tmp / "data").mkdir()
        jspsych = tmp / "jspsych"
        jspsych.mkdir()
        assets = resources.files("stimgen") / "assets" / "jspsych"
        for name in JSPSYCH_FILES:
            (jspsych / name).write_bytes((assets / name).read_bytes())
        settings = {"labels": list(labels), "reps": int(reps), "seed": int(seed), "steps": len(manifest),
                    "sample_rate": int(folder.record.render.sr)}
        (tmp / "trials.js").write_text("// written by stimgen pilot: the trials in the order they run\n"
                                       f"const STIMGEN = {json.dumps({**settings, 'trials': trials}, indent=1)};\n")
        (tmp / "index.html").write_text(_template("index.html"))
        (tmp / "psychopy_identification.py").write_text(_psychopy(settings))
        from stimgen.outputs import file_sha256

        pilot = {"stimgen_version": stimgen.__version__, "command": command or "stimgen Python API",
                 "continuum": str(continuum.resolve()), "manifest_sha256": file_sha256(continuum / MANIFEST_CSV),
                 "model": dataclasses.asdict(folder.record.model), **settings}
        (tmp / PILOT_FILE).write_text(json.dumps(pilot, indent=2) + "\n")
        (tmp / "README.md").write_text(_template("README.md").format(labels=labels, reps=reps, n=len(manifest),
                                                                     trials=len(trials)))
    return out


def read_responses(files: list[str | os.PathLike], manifest: str | os.PathLike | None = None,
                   labels: tuple[str, str] | None = None) -> tuple[pd.DataFrame, Path | None]:
    """Every trial of the data ``files`` as one table: ``participant``, ``morph_level``,
    ``response_b`` (1: "B"), ``stim_file`` and ``data_file``; and the manifest it was matched to.

    Reads PsychoPy's ExperimentHandler CSV and jsPsych's CSV as the pilot writes them (the rows
    with a ``stim_file``), and a plain CSV with ``morph_level`` and ``response_b``. Responses may
    be 0/1 or the pilot's two labels. A file's trials are matched to the continuum's manifest
    (``manifest``, else the manifest.csv of the pilot folder the file lies in or under): a
    ``stim_file`` not in it, or a ``morph_level`` that disagrees with it, is an error naming the row.
    Levels must lie in [0, 1]. Every problem is one :class:`StimgenError` naming the file.

    Provenance is checked first: a file given twice (the same path or the same sha256) is refused,
    and so are files of different continua pooled (pilots of two continua, or files with and
    without one), a pilot folder whose manifest.csv is not the one its pilot.json records, a pilot
    of another continuum than ``manifest``'s, and a continuum folder whose stimuli or manifest.csv
    differ from its manifest.json.
    """
    if not files:
        raise StimgenError("give one or more data files")
    files = [Path(f) for f in files]
    _check_distinct(files)
    continuum = None if manifest is None else _continuum(Path(manifest))
    tables, found, first = [], None, None
    for file in files:
        table = _read_csv(file)
        folder = _pilot_folder(file)
        pilot = _pilot_record(folder) if folder else None
        man_path = continuum if continuum is not None else (folder / MANIFEST_CSV if folder else None)
        if pilot is not None:
            _check_pilot_of(file, folder, pilot, man_path)
        first = first or (file, man_path)
        _check_same_continuum(file, man_path, *first)
        trials = _trials(table, file, labels or (tuple(pilot["labels"]) if pilot else None))
        if man_path is not None:
            trials = _match(trials, file, pd.read_csv(man_path))
            found = found or man_path
        tables.append(trials)
    return pd.concat(tables, ignore_index=True), found


def _check_distinct(files: list[Path]) -> None:
    """Refuse a data file given twice: by the same path, or another path to the same bytes."""
    from stimgen.outputs import file_sha256

    seen: dict = {}
    for file in files:
        if not file.is_file():
            continue   # _read_csv names it
        for key, how in ((file.resolve(), "is given twice"), (file_sha256(file), "holds the same bytes as")):
            if key in seen:
                other = "" if how == "is given twice" else f" {seen[key]} (sha256 {key[:12]})"
                raise StimgenError(f"{how}{other}: each data file counts once, or its trials would count twice",
                                   path=file)
            seen[key] = file


def _continuum(manifest: Path) -> Path:
    """The manifest.csv of the continuum folder that ``manifest`` lies in, checked against its
    manifest.json: stimuli there with their sha256, rows as recorded."""
    folder = read_folder(manifest.parent, verb="continuum", what="a continuum folder")
    folder.check_stimuli()
    return folder.path / MANIFEST_CSV


def _pilot_record(folder: Path) -> dict:
    """The pilot folder's ``pilot.json``."""
    try:
        record = json.loads((folder / PILOT_FILE).read_text())
        return {**record, "labels": list(record["labels"])}
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as exc:
        raise StimgenError(f"is not a pilot.json of stimgen pilot ({exc.__class__.__name__}: {exc})",
                           path=folder / PILOT_FILE) from None


def _check_pilot_of(file: Path, folder: Path, pilot: dict, manifest: Path) -> None:
    """Refuse data from a pilot whose manifest.csv is not the continuum's one its pilot.json records
    (edited in the pilot folder, or ``manifest`` another continuum's)."""
    from stimgen.outputs import file_sha256

    recorded, found = pilot.get("manifest_sha256"), file_sha256(manifest)
    if recorded is None or recorded == found:
        return
    if manifest.parent == folder:
        raise StimgenError(f"sha256 {found[:12]} is not that of the continuum's manifest.csv that {PILOT_FILE} "
                           f"records ({recorded[:12]}): edited after the pilot was written?", path=manifest)
    raise StimgenError(f"lies in a pilot of another continuum than {manifest.parent} (its {PILOT_FILE} records "
                       f"manifest.csv sha256 {recorded[:12]}, {manifest} has {found[:12]})", path=file)


def _check_same_continuum(file: Path, manifest: Path | None, first: Path, first_manifest: Path | None) -> None:
    """Refuse pooling ``file`` (of ``manifest``'s continuum, or of none) with ``first`` (of another)."""
    from stimgen.outputs import file_sha256

    if manifest is None and first_manifest is None:
        return
    if manifest is None or first_manifest is None:
        which = (f"carries no continuum's manifest (not in a pilot folder) while {first} is of {first_manifest}"
                 if manifest is None else
                 f"is of {manifest} while {first} carries no continuum's manifest (not in a pilot folder)")
        raise StimgenError(f"{which}: pool them with --continuum, or fit them apart", path=file)
    if file_sha256(manifest) != file_sha256(first_manifest):
        raise StimgenError(f"is data of another continuum than {first}: {manifest} and {first_manifest} differ; "
                           "fit each continuum on its own", path=file)


def _read_csv(file: Path) -> pd.DataFrame:
    from stimgen.data.folder import read_table

    table = read_table(file, "data file")
    if table.empty:
        raise StimgenError("holds no trials", path=file)
    return table


def _pilot_folder(file: Path) -> Path | None:
    for folder in file.resolve().parents[:3]:
        if (folder / PILOT_FILE).is_file() and (folder / MANIFEST_CSV).is_file():
            return folder
    return None


def _trials(table: pd.DataFrame, file: Path, labels: tuple[str, str] | None) -> pd.DataFrame:
    if "stim_file" in table.columns:  # PsychoPy's and jsPsych's files: the trial rows name a stimulus
        table = table[table["stim_file"].notna() & (table["stim_file"].astype(str) != "")]
    if "response_b" not in table.columns:
        raise StimgenError("has no response_b column (1 for an answer of B, 0 for A)", path=file)
    if "morph_level" not in table.columns and "stim_file" not in table.columns:
        raise StimgenError("has no morph_level column (and no stim_file to find it by)", path=file)
    response = table["response_b"].astype(str).str.strip()
    mapping = {"0": 0, "1": 1, "0.0": 0, "1.0": 1, "False": 0, "True": 1, "false": 0, "true": 1}
    if labels:
        mapping.update({str(labels[0]): 0, str(labels[1]): 1})
    bad = ~response.isin(list(mapping))
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        allowed = "0 or 1" + (f", {labels[0]!r} or {labels[1]!r}" if labels else "")
        raise StimgenError(f"row {table.index[row] + 2}: response_b is {response.iloc[row]!r}, not {allowed}",
                           path=file)
    trials = pd.DataFrame({
        "participant": table["participant"].astype(str) if "participant" in table.columns else file.stem,
        "morph_level": pd.to_numeric(table["morph_level"], errors="coerce") if "morph_level" in table.columns
        else np.nan,
        "response_b": response.map(mapping).astype(int),
        "stim_file": table["stim_file"].astype(str) if "stim_file" in table.columns else "",
        "data_file": file.name, "row": table.index + 2})
    return trials


def _match(trials: pd.DataFrame, file: Path, manifest: pd.DataFrame) -> pd.DataFrame:
    levels = dict(zip(manifest["stim_file"].astype(str), manifest["morph_level"].astype(float)))
    for trial in trials.itertuples():
        if trial.stim_file:
            if trial.stim_file not in levels:
                raise StimgenError(f"row {trial.row}: {trial.stim_file!r} is not a stimulus of the continuum",
                                   path=file)
            if np.isfinite(trial.morph_level) and abs(trial.morph_level - levels[trial.stim_file]) > 1e-3:
                raise StimgenError(f"row {trial.row}: morph_level {trial.morph_level:g} is not that of "
                                   f"{trial.stim_file} ({levels[trial.stim_file]:g}) in the manifest", path=file)
    trials = trials.copy()
    named = trials["stim_file"] != ""
    if named.any():
        trials.loc[named, "morph_level"] = trials.loc[named, "stim_file"].map(levels).astype(float)
    return trials


def _template(name: str) -> str:
    """The text of ``stimgen/assets/pilot/<name>``: a program or page the pilot writes, as it is or filled in."""
    return (resources.files("stimgen") / "assets" / "pilot" / name).read_text(encoding="utf-8")


def _psychopy(settings: dict) -> str:
    """The PsychoPy script: its template with the line :data:`SETTINGS_LINE` set to ``settings``."""
    script = _template("psychopy_identification.py")
    if script.count(SETTINGS_LINE) != 1:
        raise StimgenError(f"the pilot's PsychoPy template must hold the line {SETTINGS_LINE.strip()!r} exactly once",
                           path="stimgen/assets/pilot/psychopy_identification.py")
    return script.replace(SETTINGS_LINE, f"\nSETTINGS = {settings!r}\n")
