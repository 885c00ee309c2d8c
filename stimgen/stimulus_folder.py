"""The stimulus folder: the one place that knows its files, its columns and its record.

A stimulus folder (what ``stimgen continuum``, ``edit``, ``grid``, ``decode`` and ``respace``
write, :func:`stimgen.export.export`) holds:

- ``stimuli/`` (the stimulus files, named by the table's ``name``) and, for sounds,
  ``spectrograms/`` (a PNG each), and ``sheet.png`` (all of them, with the distances);
- ``manifest.csv``: one row per stimulus, as PsychoPy's ``importConditions`` loads it:
  ``stim_file`` first, the verb's columns, the features measured on the written file,
  ``distance_prev``, ``spectrogram_file`` (sounds) and ``sha256``;
- ``manifest.json``: the same rows and a jsPsych preload list, and the provenance, a
  :class:`StimulusRecord`: version, verb, medium, model, metric, settings, render settings,
  inputs with their sha256, every stimulus's code at full precision, a continuum's dense
  morph-level-to-latent mapping (``path_map``) and ``state``, the place where methods that
  change a continuum keep what they add to it.

:func:`read_folder` reads a folder back with one clear error for a folder that is not one;
folders written before the record had its own format (``"kind"`` for the verb, ``model.kind``
for the medium, the render settings under ``settings``) read as the same record. What reads a
folder back checks its provenance against the record: :meth:`StimulusFolder.check_stimuli` (the
stimulus files and manifest.csv are those manifest.json records) and
:meth:`StimulusFolder.check_inputs` (the files it was made from have their recorded sha256).

Examples
--------
>>> stimulus_file("step_00", "wav"), spectrogram_file("step_00")
('stimuli/step_00.wav', 'spectrograms/step_00.png')
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from stimgen.errors import StimgenError
from stimgen.options import RenderSettings

STIMULI_DIR = "stimuli"
SPECTROGRAM_DIR = "spectrograms"
MANIFEST_CSV = "manifest.csv"
MANIFEST_JSON = "manifest.json"
SHEET = "sheet.png"
#: Speech: every stimulus in the F1-F2 plane (:func:`stimgen.preview.draw_vowel_plane`).
VOWEL_PLANE = "formants.png"
#: manifest.csv's columns that every folder has (or sounds have), by what they hold.
STIM_FILE, SPECTROGRAM_FILE, SHA256, DISTANCE_PREV = "stim_file", "spectrogram_file", "sha256", "distance_prev"
#: The format of manifest.json that :class:`StimulusRecord` writes; 1 is the layout before it.
FORMAT = 2


def stimulus_file(name: str, extension: str) -> str:
    """Where stimulus ``name`` lies in its folder (as manifest.csv's ``stim_file`` names it)."""
    return f"{STIMULI_DIR}/{name}.{extension}"


def spectrogram_file(name: str) -> str:
    """Where the spectrogram of stimulus ``name`` lies in its folder (``spectrogram_file``)."""
    return f"{SPECTROGRAM_DIR}/{name}.png"


@dataclass(frozen=True)
class ModelRecord:
    """The model a folder was made with: its name (a shipped model's, or the folder's), the sha256
    of its weights and its representation."""

    name: str
    sha256: str
    representation: str


@dataclass(frozen=True)
class StimulusRecord:
    """manifest.json: how a stimulus folder was made, and what later work reads back from it.

    ``settings`` are the verb's settings (a continuum's ``a``, ``b``, ``steps``, ``spacing``,
    ``f0``, ...) and the representation's (spectrogram or WORLD settings); ``render`` the
    settings the files were written with; ``inputs`` one entry per input file (``file``,
    ``sha256``, and for a window of a long sound ``onset_s``, ``offset_s``, ``file_s``,
    ``window``); ``stimuli`` the rows of manifest.csv, each with its code ``z`` at full
    precision; ``path_map`` (continua) the morph level at each latent position of the dense path
    (``{"latent_t": [...], "morph_level": [...]}``); ``state`` what methods that change a
    continuum add to it (empty today).
    """

    stimgen_version: str
    verb: str
    medium: str
    command: str
    seed: int
    model: ModelRecord
    metric: dict
    settings: dict
    render: RenderSettings
    inputs: list[dict]
    columns: list[str]
    preload: dict
    stimuli: list[dict]
    path_map: dict | None = None
    state: dict = field(default_factory=dict)

    def codes(self) -> np.ndarray:
        """Every stimulus's latent code, (N, latent_dim), as the model made it (full precision in
        folders of this format; 6 decimals in older ones)."""
        return np.array([row["z"] for row in self.stimuli], dtype=np.float64)

    def to_dict(self) -> dict:
        """manifest.json's object (JSON-ready: numbers as Python numbers, no NaN)."""
        d = {"format": FORMAT, **{f.name: getattr(self, f.name) for f in dataclasses.fields(self)}}
        d["model"] = dataclasses.asdict(self.model)
        d["render"] = dataclasses.asdict(self.render)
        return _jsonable(d)

    @classmethod
    def from_dict(cls, d: dict, path: str | os.PathLike | None = None) -> StimulusRecord:
        """The record in a manifest.json's object, of this format or the one before; a
        :class:`StimgenError` naming ``path`` for anything else."""
        try:
            if d.get("format", 1) == 1:
                d = _from_format_1(d)
            elif d["format"] != FORMAT:
                raise ValueError(f"format {d['format']!r} is newer than this stimgen reads ({FORMAT})")
            model = ModelRecord(str(d["model"]["name"]), str(d["model"]["sha256"]), str(d["model"]["representation"]))
            return cls(str(d["stimgen_version"]), str(d["verb"]), str(d["medium"]), str(d["command"]), int(d["seed"]),
                       model, dict(d["metric"]), dict(d["settings"]), RenderSettings(**d["render"]),
                       list(d["inputs"]), list(d["columns"]), dict(d["preload"]), list(d["stimuli"]),
                       d.get("path_map"), dict(d.get("state") or {}))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise StimgenError(f"is not a stimgen manifest.json ({exc.__class__.__name__}: {exc})",
                               path=path) from None


def _from_format_1(d: dict) -> dict:
    """A manifest.json written before :data:`FORMAT` 2, in this format's layout."""
    settings = dict(d["settings"])
    render = settings.pop("render", {})  # images had none: the defaults, which they ignore
    return {**d, "verb": d["kind"], "medium": d["model"]["kind"], "render": render, "settings": settings}


def _jsonable(value):
    """``value`` with numpy numbers as Python numbers and NaN or infinity as None (JSON has neither)."""
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return None if not math.isfinite(float(value)) else float(value)
    return value


def manifest_rows(manifest: pd.DataFrame, codes: np.ndarray) -> list[dict]:
    """The rows of manifest.csv as manifest.json holds them: each with its code ``z``."""
    rows = [_jsonable(row) for row in manifest.to_dict("records")]
    return [{**row, "z": [float(v) for v in z]} for row, z in zip(rows, codes)]


def write_manifests(folder: Path, manifest: pd.DataFrame, record: StimulusRecord) -> None:
    """Write ``manifest.csv`` (6 significant digits, as PsychoPy reads it) and ``manifest.json``."""
    manifest.to_csv(folder / MANIFEST_CSV, index=False, float_format="%.6g", lineterminator="\n")
    (folder / MANIFEST_JSON).write_text(json.dumps(record.to_dict(), indent=2, allow_nan=False) + "\n")


@dataclass(frozen=True)
class StimulusFolder:
    """A stimulus folder read back: its ``path``, its ``record`` (manifest.json) and ``manifest``
    (manifest.csv)."""

    path: Path
    record: StimulusRecord
    manifest: pd.DataFrame

    def found_inputs(self, given: list[str | os.PathLike]) -> list[Path]:
        """The record's input files, ``given`` as the command was given them (in the record's order: a
        continuum's endpoints a and b), looked for from the current folder and, where not there,
        where the record says they lay when it was made (their absolute ``path``): a continuum
        opens from any folder, such as its pilot's. Check them with :meth:`check_inputs`.

        Examples
        --------
        >>> folder = read_folder("i-a", verb="continuum")                                  # doctest: +SKIP
        >>> folder.found_inputs([folder.record.settings["a"], folder.record.settings["b"]])  # doctest: +SKIP
        [PosixPath('i.wav'), PosixPath('a.wav')]
        """
        found = []
        for file, entry in zip(map(Path, given), self.record.inputs):
            recorded = Path(entry.get("path") or file)
            found.append(recorded if not file.is_file() and recorded.is_file() else file)
        return found

    def check_inputs(self, files: list[str | os.PathLike]) -> None:
        """Refuse, with one line naming the file, any of ``files`` (the record's inputs, in its
        order: a continuum's endpoints a and b) that is missing or whose sha256 is not the one
        manifest.json records: a file changed, or another file under the same name.

        Examples
        --------
        >>> folder = read_folder("i-a", verb="continuum")                       # doctest: +SKIP
        >>> ends = folder.found_inputs([folder.record.settings["a"], folder.record.settings["b"]])  # doctest: +SKIP
        >>> folder.check_inputs(ends)                                             # doctest: +SKIP
        """
        from stimgen.outputs import file_sha256

        for file, entry in zip(map(Path, files), self.record.inputs):
            if not file.is_file():
                raise StimgenError(f"{self.path} was made from this file ({entry['file']} in its manifest.json), "
                                   "which is not there any more (run where the folder was made)", path=file)
            found = file_sha256(file)
            if found != entry["sha256"]:
                raise StimgenError(f"is not the file {self.path} was made from: sha256 {found[:12]} here, "
                                   f"{entry['sha256'][:12]} for {entry['file']} in its manifest.json (the file "
                                   "changed, or another one has its name)", path=file)

    def load_model(self, model: str | os.PathLike | None = None):
        """The model the folder was made with, loaded by the name its record gives (or from
        ``model``, a folder or a shipped model's name, where it lies elsewhere); refused with one
        line where its sha256 is not the one manifest.json records.

        Examples
        --------
        >>> read_folder("i-a", verb="continuum").load_model().info["model_sha256"][:12]   # doctest: +SKIP
        'e1899958a6dd'
        """
        from stimgen import load_model

        made_with = self.record.model
        loaded = load_model(model or made_with.name)
        if loaded.info.get("model_sha256") != made_with.sha256:
            raise StimgenError(f"model {model or made_with.name!r} is not the one {self.path} was made with "
                               f"(sha256 {made_with.sha256[:12]}); give it with --model")
        return loaded

    def check_stimuli(self) -> None:
        """Refuse, with one line naming the file and the row, a folder whose stimulus files are
        missing or differ from the sha256 manifest.json records, or whose manifest.csv does not
        agree with manifest.json's rows (a hand-edited manifest)."""
        from stimgen.outputs import file_sha256

        self._check_manifest_csv()
        for row, entry in enumerate(self.record.stimuli, start=2):
            file = self.path / str(entry[STIM_FILE])
            if not file.is_file():
                raise StimgenError(f"is missing: {MANIFEST_JSON} lists it in row {row} (make the folder again)",
                                   path=file)
            found = file_sha256(file) if entry.get(SHA256) else None
            if found is not None and found != entry[SHA256]:
                raise StimgenError(f"sha256 {found[:12]} differs from {entry[SHA256][:12]} in "
                                   f"{MANIFEST_JSON} (row {row}): the file changed after the folder was written",
                                   path=file)

    def _check_manifest_csv(self) -> None:
        """manifest.csv holds manifest.json's rows: the same columns, rows and values (numbers to
        the 6 significant digits manifest.csv keeps)."""
        csv = self.path / MANIFEST_CSV
        if list(self.manifest.columns) != list(self.record.columns):
            raise StimgenError(f"its columns are not those of {MANIFEST_JSON} (edited after it was written?)",
                               path=csv)
        if len(self.manifest) != len(self.record.stimuli):
            raise StimgenError(f"has {len(self.manifest)} rows, {MANIFEST_JSON} {len(self.record.stimuli)} "
                               "(edited after it was written?)", path=csv)
        text = pd.read_csv(csv, dtype=str, keep_default_na=False)
        for row, (cells, entry) in enumerate(zip(text.to_dict("records"), self.record.stimuli), start=2):
            for column in self.record.columns:
                if not _same_cell(cells[column], entry.get(column)):
                    raise StimgenError(f"row {row}: {column} is {cells[column]!r}, {entry.get(column)!r} in "
                                       f"{MANIFEST_JSON} (edited after it was written?)", path=csv)


def _same_cell(text: str, value) -> bool:
    """Whether manifest.csv's ``text`` is what manifest.json's ``value`` was written as."""
    if value is None:
        return text == ""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return text == str(value)
    try:
        return math.isclose(float(text), value, rel_tol=1e-5, abs_tol=1e-12)
    except ValueError:
        return False


def read_folder(path: str | os.PathLike, verb: str | None = None, medium: str | None = None,
                what: str = "a stimulus folder") -> StimulusFolder:
    """The stimulus folder at ``path``, refused with one line naming it where it is not one, or
    not of ``verb`` (e.g. ``"continuum"``) or ``medium`` (``"audio"``, ``"image"``) when given;
    ``what`` says in the error what was expected.

    Examples
    --------
    >>> folder = read_folder("i-a", verb="continuum")          # doctest: +SKIP
    >>> folder.record.settings["steps"], len(folder.manifest)  # doctest: +SKIP
    (11, 11)
    """
    path = Path(path)
    if not path.is_dir():
        raise StimgenError(f"is not {what} (no such folder)", path=path)
    for name in (MANIFEST_CSV, MANIFEST_JSON):
        if not (path / name).is_file():
            raise StimgenError(f"is not {what} (no {name}; stimgen continuum, edit, grid and decode write one)",
                               path=path)
    try:
        d = json.loads((path / MANIFEST_JSON).read_text())
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise StimgenError(f"cannot be read ({exc.__class__.__name__}: {exc})", path=path / MANIFEST_JSON) from None
    if not isinstance(d, dict):
        raise StimgenError("is not a stimgen manifest.json (not a JSON object)", path=path / MANIFEST_JSON)
    record = StimulusRecord.from_dict(d, path / MANIFEST_JSON)
    if verb is not None and record.verb != verb:
        raise StimgenError(f"holds a {record.verb}, not a {verb}", path=path)
    if medium is not None and record.medium != medium:
        raise StimgenError(f"holds {record.medium} stimuli; {what} is needed", path=path)
    try:
        manifest = pd.read_csv(path / MANIFEST_CSV)
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise StimgenError(f"cannot be read ({exc.__class__.__name__}: {exc})", path=path / MANIFEST_CSV) from None
    return StimulusFolder(path, record, manifest)
