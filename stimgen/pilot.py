"""Piloting a continuum: a two-alternative identification experiment, and reading its data back;
or a discrimination experiment over its pairs (:func:`make_discrimination_pilot`, the trial lists
in :mod:`stimgen.tasks`, its data read and fitted by :mod:`stimgen.discrimination_data`).

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
import warnings
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

import stimgen
from stimgen.errors import StimgenError, StimgenWarning
from stimgen.options import (
    ADAPTIVE_START,
    ADAPTIVE_TARGET,
    ADAPTIVE_TASKS,
    ADAPTIVE_TRIALS,
    DISCRIMINATION_TASKS,
    IMAGE_MS,
    ISI_MS,
    MAX_INTERVAL_MS,
    PAIR_STEP,
    PILOT_REPS,
    PILOT_TASK,
    PILOT_TASKS,
    SEED,
)
from stimgen.stimulus_folder import MANIFEST_CSV, SPECTROGRAM_DIR, STIM_FILE, STIMULI_DIR, read_folder

PILOT_FILE = "pilot.json"
#: The adaptive procedures' script for the page (stimgen/assets/pilot/), copied beside it.
ADAPTIVE_JS = "adaptive.js"
#: An adaptive pilot warns where the continuum's steps lie farther apart than this in morph level
#: (a 51-step continuum's 0.02): the levels a procedure asks for are presented as the nearest step.
DENSE_GAP = 0.0201
JSPSYCH_FILES = ("jspsych.min.js", "jspsych.css", "plugin-preload.min.js", "plugin-audio-button-response.min.js",
                 "plugin-html-button-response.min.js", "NOTICE.md")
#: The line of the PsychoPy template (stimgen/assets/pilot/) that :func:`make_pilot` replaces with the settings.
SETTINGS_LINE = "\nSETTINGS = {}  # filled by stimgen pilot\n"


def make_pilot(continuum: str | os.PathLike, out: str | os.PathLike, reps: int = PILOT_REPS, seed: int = SEED,
               labels: tuple[str, str] | None = None, force: bool = False, command: str | None = None,
               task: str = PILOT_TASK, pair_step: int | None = None, isi_ms: float | None = None,
               image_ms: float | None = None, trial_files: bool = False, rove_db: float | None = None,
               trials: int | None = None, target: float | None = None, start: float | None = None,
               on_demand: bool = False) -> Path:
    """Write a two-alternative identification experiment over the continuum folder ``continuum``,
    or (``task``) a discrimination experiment over its pairs (:func:`make_discrimination_pilot`).

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
    task
        ``"identification"``, or a discrimination task (``"ax"``, ``"abx"``, ``"oddity"``,
        ``"2ifc"``) with ``pair_step``, ``isi_ms``, ``image_ms``, ``trial_files`` and ``rove_db``
        (see :func:`make_discrimination_pilot`; identification takes none of them), or an
        adaptive procedure (``"staircase"``, ``"quest"``) with ``trials``, ``target``, ``start``,
        ``on_demand`` and ``image_ms`` (see :func:`make_adaptive_pilot`).

    Returns
    -------
    Path
        ``out``.
    """
    from stimgen.outputs import atomic_dir, check_output

    if task not in PILOT_TASKS:
        raise StimgenError(f"--task must be one of {', '.join(PILOT_TASKS)}, got {task!r}")
    adaptive = [name for name, value in (("--trials", trials), ("--target", target), ("--start", start),
                                         ("--on-demand", on_demand or None)) if value is not None]
    if adaptive and task not in ADAPTIVE_TASKS:
        raise StimgenError(f"{', '.join(adaptive)} {'is' if len(adaptive) == 1 else 'are'} for the adaptive tasks "
                           f"({', '.join(ADAPTIVE_TASKS)}), not {task}")
    if task in ADAPTIVE_TASKS:
        given = [name for name, value in (("--pair-step", pair_step), ("--isi-ms", isi_ms),
                                          ("--trial-files", trial_files or None), ("--rove-db", rove_db),
                                          ("--reps", None if reps == PILOT_REPS else reps)) if value is not None]
        if given:
            raise StimgenError(f"{', '.join(given)} {'is' if len(given) == 1 else 'are'} not for an adaptive run "
                               "(its trials are --trials, at the levels the procedure picks)")
        return make_adaptive_pilot(continuum, out, task, trials=ADAPTIVE_TRIALS if trials is None else trials,
                                   target=ADAPTIVE_TARGET if target is None else target,
                                   start=ADAPTIVE_START if start is None else start, seed=seed, labels=labels,
                                   image_ms=IMAGE_MS if image_ms is None else image_ms, on_demand=on_demand,
                                   force=force, command=command)
    if task != "identification":
        return make_discrimination_pilot(continuum, out, task, reps=reps, seed=seed, labels=labels,
                                         pair_step=PAIR_STEP if pair_step is None else pair_step,
                                         isi_ms=ISI_MS if isi_ms is None else isi_ms,
                                         image_ms=IMAGE_MS if image_ms is None else image_ms,
                                         trial_files=trial_files, rove_db=0.0 if rove_db is None else rove_db,
                                         force=force, command=command)
    given = [name for name, value in (("--pair-step", pair_step), ("--isi-ms", isi_ms), ("--image-ms", image_ms),
                                      ("--trial-files", trial_files or None), ("--rove-db", rove_db))
             if value is not None]
    if given:
        raise StimgenError(f"{', '.join(given)} {'is' if len(given) == 1 else 'are'} for the discrimination tasks "
                           f"({', '.join(DISCRIMINATION_TASKS)}), not identification; give --task")
    continuum = Path(continuum)
    folder = read_folder(continuum, verb="continuum", medium="audio", what="a continuum of sounds")
    folder.check_stimuli()   # every file trials.js names is there, and is the one the record names
    manifest = folder.manifest
    if not (isinstance(reps, (int, np.integer)) and 1 <= reps <= 1000):
        raise StimgenError(f"--reps must be a whole number from 1 to 1000, got {reps!r}")
    labels = _labels(manifest, labels)
    out = check_output(out, force, inputs=[continuum])
    rng = np.random.default_rng(seed)
    order = np.concatenate([rng.permutation(len(manifest)) for _ in range(reps)])
    columns = [STIM_FILE, "step", "morph_level"]
    trials = manifest.iloc[order][columns].to_dict("records")
    with atomic_dir(out, force=force, inputs=[continuum], verb="pilot") as tmp:
        _copy_continuum(continuum, tmp)
        settings = {"labels": list(labels), "reps": int(reps), "seed": int(seed), "steps": len(manifest),
                    "sample_rate": int(folder.record.render.sr)}
        (tmp / "trials.js").write_text("// written by stimgen pilot: the trials in the order they run\n"
                                       f"const STIMGEN = {json.dumps({**settings, 'trials': trials}, indent=1)};\n")
        (tmp / "index.html").write_text(_template("index.html"))
        (tmp / "psychopy_identification.py").write_text(_psychopy(settings))
        from stimgen.outputs import file_sha256

        pilot = {"stimgen_version": stimgen.__version__, "command": command or "stimgen Python API",
                 "continuum": str(continuum.resolve()), "manifest_sha256": file_sha256(continuum / MANIFEST_CSV),
                 "model": dataclasses.asdict(folder.record.model), "task": "identification", **settings}
        (tmp / PILOT_FILE).write_text(json.dumps(pilot, indent=2) + "\n")
        (tmp / "README.md").write_text(_template("README.md").format(labels=labels, reps=reps, n=len(manifest),
                                                                     trials=len(trials)))
    return out


#: What a discrimination trial asks, and its answer buttons (the page) and keys (PsychoPy), in the order of
#: :data:`stimgen.tasks.ANSWERS`; ``{b}`` is the second label.
QUESTIONS = {
    "ax": ("Were the two the same or different?", ["Same", "Different"], ["s", "d"]),
    "abx": ("Was the third like the first or like the second?", ["First", "Second"], ["1", "2"]),
    "oddity": ("Which one was different from the other two?", ["First", "Second", "Third"], ["1", "2", "3"]),
    "2ifc": ("Which one was more {b}?", ["First", "Second"], ["1", "2"]),
}


def make_discrimination_pilot(continuum: str | os.PathLike, out: str | os.PathLike, task: str,
                              reps: int = PILOT_REPS, seed: int = SEED, labels: tuple[str, str] | None = None,
                              pair_step: int = PAIR_STEP, isi_ms: float = ISI_MS, image_ms: float = IMAGE_MS,
                              trial_files: bool = False, rove_db: float = 0.0, force: bool = False,
                              command: str | None = None) -> Path:
    """Write a discrimination experiment (``task``: ``"ax"``, ``"abx"``, ``"oddity"`` or ``"2ifc"``)
    over the pairs of a continuum of sounds or images (:mod:`stimgen.tasks`).

    The folder holds copies of the continuum's stimuli and manifest.csv; ``trials.csv`` (the
    trials in the order they run, :func:`stimgen.tasks.trial_list`: every order of every pair of
    steps ``pair_step`` apart, ``reps`` times, shuffled with ``seed``), which
    ``psychopy_<task>.py`` runs, and ``trials.js``, which ``index.html`` (jsPsych) runs;
    ``pilot.json`` and ``README.md``. Sounds are presented ``isi_ms`` apart (end of one to the
    start of the next), images for ``image_ms`` each, ``isi_ms`` apart. ``trial_files`` writes
    every trial as one WAV in ``trials/`` (A, silence, X, ...; the ISI exact to the sample, see
    :func:`stimgen.tasks.write_trial_files`), which both runners then play; ``rove_db`` (with
    ``trial_files``) moves every interval's level by a uniform +-``rove_db`` dB, recorded per
    trial. ``labels`` name the ends (the 2IFC question asks which interval was more like the
    second); default the endpoints' file names.

    Examples
    --------
    >>> make_discrimination_pilot("i-a", "i-a-abx", "abx", reps=10, pair_step=2)   # doctest: +SKIP
    """
    from stimgen.outputs import atomic_dir, check_output, file_sha256
    from stimgen.tasks import ANSWERS, ORDERS, check_task, intervals, isi_samples, trial_list, write_trial_files

    task = check_task(task)
    continuum = Path(continuum)
    folder = read_folder(continuum, verb="continuum", what="a continuum")
    folder.check_stimuli()
    manifest, medium = folder.manifest, folder.record.medium
    if not (isinstance(reps, (int, np.integer)) and 1 <= reps <= 1000):
        raise StimgenError(f"--reps must be a whole number from 1 to 1000, got {reps!r}")
    labels = _labels(manifest, labels)
    for option, value, low in (("--isi-ms", isi_ms, 0.0), ("--image-ms", image_ms, 1.0)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= MAX_INTERVAL_MS:
            raise StimgenError(f"{option} must be a number of ms from {low:g} to {MAX_INTERVAL_MS:g}, got {value!r}")
    if medium != "audio" and (trial_files or rove_db):
        raise StimgenError(f"holds {medium} stimuli: --trial-files and --rove-db are for sounds", path=continuum)
    if rove_db and not trial_files:
        raise StimgenError("--rove-db needs --trial-files: every interval's level is written into its trial's file")
    out = check_output(out, force, inputs=[continuum])
    sha256 = file_sha256(continuum / MANIFEST_CSV)
    trials = trial_list(manifest, task, pair_step, int(reps), seed, float(rove_db), continuum=f"sha256:{sha256[:16]}")
    question, choices, keys = QUESTIONS[task]
    sr = int(folder.record.render.sr) if medium == "audio" else None
    settings = {"task": task, "medium": medium, "labels": list(labels), "reps": int(reps), "seed": int(seed),
                "steps": len(manifest), "pair_step": int(pair_step), "pairs": len(manifest) - int(pair_step),
                "intervals": intervals(task), "trials": len(trials), "isi_ms": float(isi_ms),
                "image_ms": float(image_ms) if medium == "image" else None, "trial_files": bool(trial_files),
                "rove_db": float(rove_db), "sample_rate": sr,
                "isi_samples": isi_samples(isi_ms, sr) if sr else None,
                "question": question.format(a=labels[0], b=labels[1]), "choices": choices, "keys": keys,
                "answers": list(ANSWERS[task])}
    with atomic_dir(out, force=force, inputs=[continuum], verb="pilot") as tmp:
        _copy_continuum(continuum, tmp)
        if trial_files:
            trials["trial_file"] = write_trial_files(trials, continuum, tmp / "trials", isi_ms, sr)
        trials.to_csv(tmp / "trials.csv", index=False, lineterminator="\n")
        records = json.loads(trials.to_json(orient="records"))
        (tmp / "trials.js").write_text("// written by stimgen pilot: the trials in the order they run\n"
                                       f"const STIMGEN = {json.dumps({**settings, 'trials': records}, indent=1)};\n")
        (tmp / "index.html").write_text(_template("discrimination.html"))
        (tmp / f"psychopy_{task}.py").write_text(_psychopy(settings, "psychopy_discrimination.py"))
        pilot = {"stimgen_version": stimgen.__version__, "command": command or "stimgen Python API",
                 "continuum": str(continuum.resolve()), "manifest_sha256": sha256,
                 "model": dataclasses.asdict(folder.record.model), **settings}
        (tmp / PILOT_FILE).write_text(json.dumps(pilot, indent=2) + "\n")
        timing = (f"{isi_ms:g} ms of silence between the sounds" + (
            f" ({settings['isi_samples']} samples at {sr} Hz, written into each trial's file in trials/)"
            if trial_files else "") if medium == "audio" else f"each image {image_ms:g} ms, {isi_ms:g} ms apart")
        (tmp / "README.md").write_text(_template("README_discrimination.md").format(
            task=task.upper(), orders=", ".join(ORDERS[task]),
            pairs=settings["pairs"], k=int(pair_step), reps=int(reps), trials=len(trials), timing=timing,
            rove=f"; levels roved by +-{rove_db:g} dB per interval (rove_db_1, ... in trials.csv)" if rove_db else "",
            script=f"psychopy_{task}.py", question=settings["question"]))
    return out


def make_adaptive_pilot(continuum: str | os.PathLike, out: str | os.PathLike, task: str,
                        trials: int = ADAPTIVE_TRIALS, target: float = ADAPTIVE_TARGET, start: float = ADAPTIVE_START,
                        seed: int = SEED, labels: tuple[str, str] | None = None, image_ms: float = IMAGE_MS,
                        on_demand: bool = False, force: bool = False, command: str | None = None) -> Path:
    """Write an adaptive identification run (``task``: ``"staircase"`` or ``"quest"``, see
    :mod:`stimgen.adaptive`) over a continuum of sounds or images: ``trials`` trials, each at the
    morph level the procedure picks, tracking the level where P("B") is ``target``, from ``start``.

    The folder holds copies of the continuum's stimuli and manifest.csv (best a dense one, e.g.
    ``stimgen continuum --steps 101``: a level is presented as its nearest step),
    ``psychopy_<task>.py`` (PsychoPy's own ``StairHandler`` or ``QuestHandler``, and with
    ``on_demand`` ``stimgen.Continuum.open(continuum)`` making the stimulus at the level itself),
    ``index.html`` with ``adaptive.js`` (the same procedures in JavaScript) and ``trials.js``,
    ``pilot.json`` (the procedure's settings, which ``stimgen fit`` replays the run with) and
    ``README.md``. ``seed`` is recorded; the procedures themselves draw nothing at random.

    Examples
    --------
    >>> make_adaptive_pilot("i-a-101", "i-a-quest", "quest", trials=80)   # doctest: +SKIP
    """
    from stimgen.adaptive import procedure_settings
    from stimgen.outputs import atomic_dir, check_output, file_sha256

    continuum = Path(continuum)
    folder = read_folder(continuum, verb="continuum", what="a continuum")
    folder.check_stimuli()
    manifest, medium = folder.manifest, folder.record.medium
    procedure = procedure_settings(task, target, start, trials)
    labels = _labels(manifest, labels)
    if isinstance(image_ms, bool) or not isinstance(image_ms, (int, float)) or not 1.0 <= image_ms <= MAX_INTERVAL_MS:
        raise StimgenError(f"--image-ms must be a number of ms from 1 to {MAX_INTERVAL_MS:g}, got {image_ms!r}")
    out = check_output(out, force, inputs=[continuum])
    sha256 = file_sha256(continuum / MANIFEST_CSV)
    settings = {**procedure, "medium": medium, "labels": list(labels), "seed": int(seed), "steps": len(manifest),
                "sample_rate": int(folder.record.render.sr) if medium == "audio" else None,
                "image_ms": float(image_ms) if medium == "image" else None, "on_demand": bool(on_demand),
                "continuum": str(continuum.resolve()), "continuum_tag": f"sha256:{sha256[:16]}"}
    steps = manifest[[STIM_FILE, "step", "morph_level"]].to_dict("records")
    gap = float(np.diff(np.sort(manifest["morph_level"].to_numpy(float))).max())
    if gap > DENSE_GAP:
        served = "the browser page presents" if on_demand else "the page and the PsychoPy script present"
        warnings.warn(StimgenWarning(
            f"has {len(manifest)} steps, up to {gap:.3g} apart: {served} each level the procedure asks for as "
            f"the nearest of them; for a threshold, pilot a dense continuum (stimgen continuum --steps 101)",
            path=continuum), stacklevel=2)
    with atomic_dir(out, force=force, inputs=[continuum], verb="pilot") as tmp:
        _copy_continuum(continuum, tmp)
        (tmp / ADAPTIVE_JS).write_text(_template(ADAPTIVE_JS))
        (tmp / "trials.js").write_text("// written by stimgen pilot: the procedure's settings, the continuum's steps\n"
                                       f"const STIMGEN = {json.dumps({**settings, 'steps': steps}, indent=1)};\n")
        (tmp / "index.html").write_text(_template("adaptive.html"))
        (tmp / f"psychopy_{task}.py").write_text(_psychopy(settings, "psychopy_adaptive.py"))
        pilot = {"stimgen_version": stimgen.__version__, "command": command or "stimgen Python API",
                 "manifest_sha256": sha256, "model": dataclasses.asdict(folder.record.model), **settings}
        (tmp / PILOT_FILE).write_text(json.dumps(pilot, indent=2) + "\n")
        what = ("a weighted up-down staircase (PsychoPy's StairHandler, linear steps of "
                f"{', '.join(f'{s:g}' for s in procedure['staircase']['step_sizes'])}, each step up "
                f"{procedure['staircase']['up_ratio']:.3g} times the step down)" if task == "staircase" else
                f"QUEST (PsychoPy's QuestHandler: prior SD {procedure['quest']['start_sd']:g}, beta "
                f"{procedure['quest']['beta']:g}, delta {procedure['quest']['delta']:g}, gamma "
                f"{procedure['quest']['gamma']:g})")
        (tmp / "README.md").write_text(_template("README_adaptive.md").format(
            task=task, what=what, trials=int(trials), target=float(target), start=float(start), a=labels[0],
            b=labels[1], n=len(manifest), script=f"psychopy_{task}.py",
            source=("stimgen.Continuum.open at the level itself (--on-demand: stimgen must be importable in "
                    f"PsychoPy, and the continuum stay at {continuum.resolve()})") if on_demand else
            "the nearest step of the continuum copied into stimuli/"))
    return out


def _labels(manifest: pd.DataFrame, labels) -> tuple[str, str]:
    """The two labels given, checked; default the endpoints' file names without extension."""
    if labels is None:
        labels = tuple(Path(str(manifest[c].iloc[0])).stem for c in ("endpoint_a", "endpoint_b"))
    if len(labels) != 2 or not all(str(x).strip() for x in labels) or labels[0] == labels[1]:
        raise StimgenError(f"--labels must be two different names, A,B; got {','.join(map(str, labels))!r}")
    return tuple(labels)


def _copy_continuum(continuum: Path, tmp: Path) -> None:
    """Copy the continuum's stimuli, spectrograms and manifest.csv, and the bundled jsPsych, into ``tmp``."""
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


def _psychopy(settings: dict, template: str = "psychopy_identification.py") -> str:
    """The PsychoPy script: its template with the line :data:`SETTINGS_LINE` set to ``settings``."""
    script = _template(template)
    if script.count(SETTINGS_LINE) != 1:
        raise StimgenError(f"the pilot's PsychoPy template must hold the line {SETTINGS_LINE.strip()!r} exactly once",
                           path=f"stimgen/assets/pilot/{template}")
    return script.replace(SETTINGS_LINE, f"\nSETTINGS = {settings!r}\n")
