"""Writing a stimulus set as a folder that drops into PsychoPy or jsPsych.

The folder (its layout and record: :mod:`stimgen.stimulus_folder`) holds ``stimuli/`` (16-bit PCM
WAVs at one rate, equal duration and RMS level, with ramps; or PNGs), ``spectrograms/`` (one PNG
per sound), ``sheet.png`` (every stimulus with the distance to its neighbour), for speech
``formants.png`` (every stimulus in the F1-F2 plane, a continuum's endpoint files beside them), ``manifest.csv``
(one row per stimulus, loadable as it is by PsychoPy's ``importConditions``) and ``manifest.json``
(the same rows, a jsPsych preload list and the provenance: stimgen version, model and hash,
command, seed, every setting, input hashes, every stimulus's code). Every feature and distance is
measured on the files as written. The folder is built in a temporary folder and renamed into
place, so a failure leaves nothing half-written.
"""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

import stimgen
from stimgen.errors import StimgenWarning
from stimgen.morph.attributes import measured_feature
from stimgen.morph.ends import save_tuned_decoder
from stimgen.morph.path_check import uneven_path
from stimgen.morph.stimuli import StimulusSet
from stimgen.options import END_TOLERANCE, METRIC_UNITS
from stimgen.outputs import atomic_dir, atomic_file, file_sha256
from stimgen.representations import RenderSettings
from stimgen.signal.image import save_image
from stimgen.stimulus_folder import (
    DISTANCE_PREV,
    SHA256,
    SHEET,
    SPECTROGRAM_FILE,
    STIM_FILE,
    VOWEL_PLANE,
    ModelRecord,
    StimulusRecord,
    manifest_rows,
    spectrogram_file,
    stimulus_file,
    write_manifests,
)


def export(
    stimuli: StimulusSet,
    out: str | os.PathLike,
    render: RenderSettings = RenderSettings(),
    command: str | None = None,
    force: bool = False,
    after=None,
) -> Path:
    """Write ``stimuli`` as a stimulus folder ``out``; return its path.

    ``render`` sets the sample rate, level and ramps of sounds; ``command`` is recorded in the
    provenance (the CLI passes its command line). ``out`` must not exist unless ``force``.
    ``after(folder, manifest)``, if given, is called with the folder being written and the
    measured manifest before it is put in place, to add a file of its own (a picture).

    Parameters
    ----------
    stimuli : StimulusSet
        The stimuli, as a verb (:func:`stimgen.morph.continuum.continuum`, ...) returns them.
    out : str or os.PathLike
        The stimulus folder to write (see the module's docstring for what it holds).
    render : RenderSettings
        Sample rate (Hz), RMS level and peak limit (dBFS) and ramp length (ms) of sounds; images
        ignore it.
    command : str or None
        The command line recorded in ``manifest.json``; None records "stimgen Python API".
    force : bool
        Replace ``out`` if it exists and is stimgen's own.
    after : callable or None
        ``after(folder, manifest)``: called with the temporary folder (a Path) and the manifest (a
        DataFrame) before the folder is renamed into place.

    Returns
    -------
    Path
        ``out``.

    Raises
    ------
    StimgenError
        When ``out`` exists (without ``force``), is not stimgen's own, lies inside an input or
        cannot be written, or a sound's peak would exceed the render settings' limit at their level.

    Warns
    -----
    StimgenWarning
        A continuum's end step farther from its file than :data:`stimgen.options.END_TOLERANCE`;
        a continuum whose written path is uneven (:func:`stimgen.morph.path_check.uneven_path`).

    Examples
    --------
    >>> from stimgen import load_model
    >>> from stimgen.morph import continuum
    >>> export(continuum(load_model("vowels"), "i.wav", "a.wav"), "i-a")   # doctest: +SKIP
    PosixPath('i-a')
    """
    domain, rep = stimuli.domain, stimuli.domain.representation
    seed = int(stimuli.settings.get("seed", 0))
    metric = stimuli.settings.get("metric") or rep.metrics[0]
    inputs = [*stimuli.inputs, *([domain.folder] if domain.folder else [])]
    with atomic_dir(out, force=force, inputs=inputs, verb=stimuli.verb) as tmp:  # --out checked before rendering
        stimuli_out = rep.render(stimuli.plan, render, seed=seed)
        files = [stimulus_file(name, rep.extension) for name in stimuli.table["name"]]
        for file, stimulus in zip(files, stimuli_out):
            rep.write(tmp / file, stimulus, render)
        # everything below is measured on the files as written, each read back once
        read = rep.read_back([tmp / file for file in files], stimuli.plan)
        features = [f for f, _ in read]
        written = np.stack([item for _, item in read])
        distances = rep.written_distances(features, written, metric)
        table = stimuli.table.drop(columns="name").reset_index(drop=True)
        manifest = pd.concat([pd.DataFrame({STIM_FILE: files}), table, pd.DataFrame(features)], axis=1)
        extra: dict = {}
        if stimuli.plan.baseline is not None:
            manifest, extra = _measured_change(manifest, stimuli, tmp, render, seed)
        manifest[DISTANCE_PREV] = np.concatenate([[np.nan], distances])
        files_measured: list[tuple[str, float, float]] = []
        if stimuli.references is not None:
            manifest, files_measured = _end_distances(manifest, stimuli, features)
            # how even the path between came out, said where it is not (steps placed by the caller
            # may be uneven on purpose: respace spaces them by a listener's responses)
            uneven = uneven_path(manifest, rep, jumps=stimuli.settings.get("spacing") != "given")
            if uneven is not None:
                warnings.warn(StimgenWarning(uneven, path=out), stacklevel=2)
        if stimuli.ends is not None and stimuli.ends.decoder is not None:
            stimuli.state["ends"].update(save_tuned_decoder(tmp, stimuli.ends.decoder))
        pictures = [rep.picture(item) for item in written]
        if rep.pictures_beside:
            manifest[SPECTROGRAM_FILE] = [spectrogram_file(name) for name in stimuli.table["name"]]
            for file, picture in zip(manifest[SPECTROGRAM_FILE], pictures):
                save_image(tmp / file, _enlarge(picture, 4))
        manifest[SHA256] = [file_sha256(tmp / file) for file in files]
        _write_sheet(tmp / SHEET, stimuli, pictures, distances, metric)
        if rep.speech:
            _write_vowel_plane(tmp / VOWEL_PLANE, stimuli, manifest, files_measured)
        write_manifests(tmp, manifest, _record(stimuli, manifest, render, metric, command, extra))
        if after is not None:
            after(tmp, manifest)
    return Path(out)


def _measured_change(manifest: pd.DataFrame, stimuli: StimulusSet, tmp: Path, render: RenderSettings,
                     seed: int) -> tuple[pd.DataFrame, dict]:
    """The change of the edited attribute's feature against the unedited item, measured the same way
    (rendered, written and read back), and that baseline value for the provenance."""
    feature = measured_feature(stimuli.domain, str(stimuli.settings.get("attribute", "")))
    if feature is None:
        return manifest, {}
    rep = stimuli.domain.representation
    scratch, unedited = tmp / f"unedited.{rep.extension}", stimuli.plan.baseline
    rep.write(scratch, rep.render(unedited, render, seed=seed)[0], render)
    baseline = rep.read_back([scratch], unedited)[0][0][feature]
    scratch.unlink()
    manifest = manifest.copy()
    manifest.insert(manifest.columns.get_loc("requested_change") + 1, "measured_change", manifest[feature] - baseline)
    return manifest, {f"unedited_{feature}": baseline}


def _end_distances(manifest: pd.DataFrame, stimuli: StimulusSet,
                   features: list[dict]) -> tuple[pd.DataFrame, list[tuple[str, float, float]]]:
    """Columns ``end_distance_<unit>``: how far the decoded first and last items lie from their
    endpoint files' items in the representation's own metric (of what the stimulus hears of
    them, :meth:`~stimgen.representations.representation.Representation.heard`); for speech also
    ``end_distance_bark``: (F1, F2) of the written step against the file's, by the manifest's
    ruler. Empty on the steps between. One warning line per end farther than
    :data:`stimgen.options.END_TOLERANCE` (in Bark for speech, else in the own metric). Beside
    the manifest, for speech, each endpoint file's name and F1, F2 (Hz) by that ruler.
    """
    rep = stimuli.domain.representation
    own = rep.metrics[0]
    rows = (0, len(manifest) - 1)
    manifest = manifest.copy()
    columns = {METRIC_UNITS[own].lower(): np.full(len(manifest), np.nan)}
    files: list[tuple[str, float, float]] = []
    if rep.speech:
        columns["bark"] = np.full(len(manifest), np.nan)
    for row, path, reference in zip(rows, stimuli.inputs, stimuli.references):
        pair = rep.heard(np.stack([stimuli.x[row], reference]))
        columns[METRIC_UNITS[own].lower()][row] = rep.written_distances([{}, {}], pair, own)[0]
        if rep.speech:
            state = stimuli.plan.state[row] if stimuli.plan.state else None
            measured = [features[row], rep.file_features(path, state)]
            columns["bark"][row] = rep.written_distances(measured, pair, "formants")[0]
            files.append((Path(path).name, measured[1]["f1_hz"], measured[1]["f2_hz"]))
        unit = "bark" if rep.speech else METRIC_UNITS[own].lower()
        if columns[unit][row] > END_TOLERANCE[unit]:
            warnings.warn(StimgenWarning(end_advice(
                "first" if row == 0 else "last", columns[unit][row], "Bark" if rep.speech else METRIC_UNITS[own],
                columns[METRIC_UNITS[own].lower()][row] if rep.speech else None, stimuli.settings.get("endpoints")),
                path=path), stacklevel=3)
    for unit, column in columns.items():
        manifest[f"end_distance_{unit}"] = np.round(column, 4)
    return manifest, files


#: Below this distance (dB) between an end's item and its file's, the item is the file's: what
#: remains between the written step and the file is the vocoder's. Exact ends (``warp``,
#: ``residual``) come within 0.5 dB (items clipped to their range where the file is shorter than
#: the window), a model's own ends lie 5 dB and more away (tests/test_ends.py).
EXACT_ITEM_DB = 1.0


def end_advice(which: str, distance: float, unit: str, item_db: float | None, endpoints: str | None) -> str:
    """The warning line for an end step ``distance`` ``unit`` from its file: what to do about it.

    ``item_db`` (speech) is how far the end's item lies from the file's in the own metric: where
    the item is the file's (below :data:`EXACT_ITEM_DB`), the distance is the vocoder's, which
    no model or ends method can take away, and the line says so instead of suggesting one;
    otherwise it names the ends methods not already used (``endpoints``) and training on the voice.

    Examples
    --------
    >>> end_advice("last", 0.4, "Bark", 0.0, "warp")[:94]
    "the continuum's last step lies 0.40 Bark from this file (more than 0.3): the step is this file"
    """
    head = f"the continuum's {which} step lies {distance:.2f} {unit} from this file (more than " \
           f"{END_TOLERANCE[unit.lower()]:g})"
    if item_db is not None and item_db < EXACT_ITEM_DB:
        return (f"{head}: the step is this file as the vocoder voices it at the step's F0, so this is the "
                "vocoder's error on this voice, not the model's; --endpoints original makes the end step the file")
    others = " or ".join(m for m in ("warp", "tune") if m != endpoints)
    return (f"{head}; --endpoints {others}, or a model trained on this voice (stimgen train --init MODEL --data "
            "FOLDER), brings it nearer")


def _enlarge(image: np.ndarray, scale: int) -> np.ndarray:
    """Each pixel of an (H, W, C) image as a ``scale`` x ``scale`` block."""
    return np.repeat(np.repeat(image, scale, axis=0), scale, axis=1)


def _write_sheet(path: Path, stimuli: StimulusSet, pictures: list[np.ndarray], distances: np.ndarray,
                 metric: str) -> None:
    """Every stimulus's picture, captioned with its name and the distance to the previous one
    (:func:`stimgen.preview.draw_sheet`); a grid's stimuli at their places."""
    from stimgen.preview import draw_sheet

    if {"row", "col"} <= set(stimuli.table.columns):  # a grid: each stimulus at its place
        cells = list(zip(stimuli.table["row"], stimuli.table["col"]))
    else:
        per_row = min(len(pictures), 6)
        cells = [(i // per_row, i % per_row) for i in range(len(pictures))]
    unit = METRIC_UNITS[metric]
    captions = [name if i == 0 else f"{name}\nd = {distances[i - 1]:.3g} {unit}"
                for i, name in enumerate(stimuli.table["name"])]
    title = (f"{stimuli.verb} through model {stimuli.domain.name}: distance to the previous stimulus "
             f"({metric}, {unit}, measured on the files)")
    draw_sheet(path, pictures, captions, cells, title, scale=stimuli.domain.representation.sheet_scale)


def _write_vowel_plane(path: Path, stimuli: StimulusSet, manifest: pd.DataFrame,
                       files: list[tuple[str, float, float]]) -> None:
    """Every stimulus in the F1-F2 plane, numbered in manifest order and joined in that order for
    a continuum, its endpoint files beside (:func:`stimgen.preview.draw_vowel_plane`); nothing
    where Praat measured F1 and F2 on no stimulus."""
    from stimgen.preview import draw_vowel_plane

    if not np.isfinite(manifest[["f1_hz", "f2_hz"]].to_numpy(dtype=np.float64)).all(axis=1).any():
        return
    title = f"{stimuli.verb} through model {stimuli.domain.name}: F1 and F2 of each stimulus (Praat, as manifest.csv)"
    draw_vowel_plane(path, manifest["f1_hz"], manifest["f2_hz"], [str(k) for k in range(len(manifest))], files,
                     joined=stimuli.references is not None, title=title)


def _record(stimuli: StimulusSet, manifest: pd.DataFrame, render: RenderSettings, metric: str,
            command: str | None, extra: dict) -> StimulusRecord:
    domain, rep = stimuli.domain, stimuli.domain.representation
    return StimulusRecord(
        stimgen_version=stimgen.__version__, verb=stimuli.verb, medium=rep.medium,
        command=command or "stimgen Python API", seed=int(stimuli.settings.get("seed", 0)),
        model=ModelRecord(domain.name, domain.sha256, rep.name),
        metric={"name": metric, "unit": METRIC_UNITS[metric]},
        settings={**stimuli.settings, **extra, **rep.provenance()}, render=render,
        inputs=[{"file": p.name, "path": str(Path(p).resolve()), "sha256": file_sha256(p), **rep.excerpt_record(p)}
                for p in stimuli.inputs],
        columns=list(manifest.columns), preload={rep.preload: list(manifest[STIM_FILE])},
        stimuli=manifest_rows(manifest, stimuli.z), path_map=stimuli.path_map, state=stimuli.state)


def write_latents(table: pd.DataFrame, out: str | os.PathLike, domain, command: str | None = None,
                  force: bool = False, inputs: list[str | os.PathLike] = ()) -> Path:
    """Write codes as a CSV ``out`` and their provenance beside it (``out`` with ``.json`` added).

    ``inputs`` (the encoded files) are never replaced, even with ``force``."""
    out = Path(out)
    inputs = [*inputs, *([domain.folder] if domain.folder else [])]
    provenance = {"stimgen_version": stimgen.__version__, "command": command or "stimgen Python API",
                  "model": {"name": domain.name, "sha256": domain.sha256, "medium": domain.representation.medium,
                            "representation": domain.representation.name},
                  "rows": len(table), "latent_dim": int(domain.model.latent_dim)}
    sidecar = out.with_name(out.name + ".json")
    with atomic_file(out, force, inputs) as tmp_csv, atomic_file(sidecar, force, inputs) as tmp_json:
        table.to_csv(tmp_csv, index=False, float_format="%.6g", lineterminator="\n")
        tmp_json.write_text(json.dumps(provenance, indent=2) + "\n")
    return out
