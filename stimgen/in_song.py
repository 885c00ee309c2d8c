"""A continuum's steps put back into their song (``stimgen in-song``), for playback experiments.

For every step of a continuum of sounds, ``OUT/stimuli/`` gets the song with one syllable,
``[onset, offset)``, replaced by that step (the same file name as the step's in the continuum):

1. the step is read at the song's sample rate (resampled as every file is,
   :func:`stimgen.signal.audio.load_audio`) and trimmed to its sounding part, from its first to
   its last stretch within 40 dB of its loudest (:func:`stimgen.signal.audio.trim_silence`):
   this drops the silence of the model's window around the syllable and the ramps the continuum
   gave it;
2. the song is split at ``keep_below_hz`` (:func:`stimgen.signal.splice.split_band`): below it,
   its background (hum, cage noise) goes on under the step unchanged; above it the syllable is
   replaced. Each step's gain gives its part above ``keep_below_hz`` the RMS (or peak) that the
   song's part above it has over ``[onset, offset)``;
3. the step goes in at the onset, crossfaded with equal-power fades of ``crossfade_ms`` inside
   the part replaced (:func:`stimgen.signal.splice.splice`). The song keeps its length and the
   rest of it its times: a step shorter than the syllable is followed by the song's background
   alone up to the offset; a longer one runs on past the offset over the song's next sound, and
   a warning says how far (give ``offset`` as the next syllable's onset to see whether it fits).
   Outside the part replaced, every sample is the song's.

``OUT`` also holds ``manifest.csv`` (one row per step, as PsychoPy loads it) and
``manifest.json`` (the same rows, the settings, the stimgen version, and the continuum's and the
song's sha256). Nothing is random: the same inputs and settings give the same bytes.

Examples
--------
>>> in_song("b-c", "song.flac", "b-c-in-song", onset=2.0764, offset=2.1151)    # doctest: +SKIP
PosixPath('b-c-in-song')
"""

from __future__ import annotations

import json
import math
import numbers
import os
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

import stimgen
from stimgen.errors import StimgenError, StimgenWarning
from stimgen.options import CROSSFADE_MS, KEEP_BELOW_HZ, LEVEL_MATCH, MAX_CROSSFADE_MS, check_whole
from stimgen.outputs import atomic_dir, file_sha256
from stimgen.signal.audio import load_audio, peak_dbfs, rms_dbfs, save_wav, trim_silence
from stimgen.signal.splice import MATCHES, level_gain_db, splice, split_band
from stimgen.stimulus_folder import MANIFEST_CSV, MANIFEST_JSON, SHA256, STIM_FILE, read_folder, stimulus_file

VERB = "in-song"


def in_song(continuum: str | os.PathLike, song: str | os.PathLike, out: str | os.PathLike,
            onset: float | None = None, offset: float | None = None, labels: str | os.PathLike | None = None,
            syllable: int | None = None, crossfade_ms: float = CROSSFADE_MS, match: str = LEVEL_MATCH,
            keep_below_hz: float = KEEP_BELOW_HZ, force: bool = False, command: str | None = None) -> Path:
    """Write the steps of ``continuum`` into ``song``, each in the place of one syllable: ``[onset,
    offset)`` (s), or row ``syllable`` of the song's hand labels ``labels``.

    Parameters
    ----------
    continuum : str or os.PathLike
        A continuum of sounds (``stimgen continuum``, ``respace``); its stimuli must be those its
        manifest.json records.
    song : str or os.PathLike
        The song, a sound file (WAV, FLAC, ...); its channels are mixed to mono.
    out : str or os.PathLike
        The folder to write: ``stimuli/`` (one 16-bit WAV per step at the song's rate),
        ``manifest.csv``, ``manifest.json``.
    onset, offset : float or None
        The syllable replaced, in seconds from the song's start (or give ``labels`` and ``syllable``).
    labels : str or os.PathLike or None
        The song's hand labels, a CSV with ``onset_s``, ``offset_s``, ``label``
        (:func:`stimgen.data.recordings.read_hand_labels`).
    syllable : int or None
        Which of them is replaced, counting from 1 in time order. A step that would run into the
        next labelled syllable is refused.
    crossfade_ms : float
        Each equal-power fade, in ms (0 to :data:`~stimgen.options.MAX_CROSSFADE_MS`).
    match : str
        ``"rms"`` or ``"peak"``: what the step's level is matched on.
    keep_below_hz : float
        The song's sound below this frequency goes on under the step; 0 replaces the whole band.
    force : bool
        Replace ``out`` if it exists and stimgen wrote it.
    command : str or None
        The command line recorded in manifest.json; None records "stimgen Python API".

    Returns
    -------
    Path
        ``out``.

    Raises
    ------
    StimgenError
        One line naming the file: a folder that is not a continuum of sounds or whose stimuli
        changed, a song that is not a sound file, a syllable that does not lie in the song (or both or
        neither of onset and offset, labels and syllable given), a step that runs into the next
        labelled syllable, a crossfade that does not fit in a step, a step that runs past the song's end or whose peak
        would pass full scale at the matched level, an ``out`` that must not be replaced.

    Warns
    -----
    StimgenWarning
        When steps are longer than the syllable and run on past its offset (how far, and how loud
        the song is where they do).

    Examples
    --------
    >>> in_song("b-c", "song.flac", "b-c-in-song", onset=2.0764, offset=2.1151, match="peak")  # doctest: +SKIP
    PosixPath('b-c-in-song')
    """
    if not (isinstance(crossfade_ms, numbers.Real) and 0 <= crossfade_ms <= MAX_CROSSFADE_MS):
        raise StimgenError(f"--crossfade-ms must be a number of ms from 0 to {MAX_CROSSFADE_MS:g}, "
                           f"got {crossfade_ms!r}")
    if match not in MATCHES:
        raise StimgenError(f"--match must be one of {', '.join(MATCHES)}, got {match!r}")
    folder = read_folder(continuum, verb="continuum", medium="audio", what="a continuum of sounds")
    folder.check_stimuli()  # the files are those the record names: their sha256 go into the manifest
    y, sr = load_audio(song)
    if not (isinstance(keep_below_hz, numbers.Real) and 0 <= keep_below_hz < sr / 2):
        raise StimgenError(f"--keep-below must be a number of Hz from 0 to below half the song's sample rate "
                           f"({sr / 2:g} Hz), got {keep_below_hz!r}", path=song)
    place = _place(song, y.size / sr, onset, offset, labels, syllable)
    onset, offset = place["onset_s"], place["offset_s"]
    start, stop = int(round(onset * sr)), int(round(offset * sr))
    if stop <= start:
        raise StimgenError(f"the syllable {onset:g}-{offset:g} s is shorter than one sample at {sr} Hz", path=song)
    background, foreground = split_band(y, sr, keep_below_hz)
    syllable = foreground[start:stop]
    target = (rms_dbfs if match == "rms" else peak_dbfs)(syllable)
    fade = int(round(crossfade_ms * 1e-3 * sr))
    song_sha256 = file_sha256(song)
    steps, rows, overruns = folder.manifest, [], []
    with atomic_dir(out, force=force, inputs=[continuum, song, *([labels] if labels else [])], verb=VERB) as tmp:
        for source, source_sha256, step, level in zip(steps[STIM_FILE], steps[SHA256], steps["step"],
                                                      steps["morph_level"]):
            path = folder.path / source
            insert = trim_silence(load_audio(path, sr=sr)[0])
            if 2 * fade > insert.size:
                raise StimgenError(f"its sounding part lasts {insert.size / sr * 1e3:.1f} ms, too short for two "
                                   f"{crossfade_ms:g} ms crossfades: lower --crossfade-ms", path=path)
            if "next_onset_s" in place and start + insert.size > place["next_onset_s"] * sr:
                raise StimgenError(f"its sounding part ({insert.size / sr * 1e3:.1f} ms) put in at {onset:g} s runs "
                                   f"into the next syllable of {Path(labels).name} (at {place['next_onset_s']:g} s)",
                                   path=path)
            if start + insert.size > y.size:
                raise StimgenError(f"its sounding part ({insert.size / sr:.4f} s) put in at {onset:g} s runs past the "
                                   f"song's end ({y.size / sr:.4f} s)", path=path)
            gain_db = level_gain_db(split_band(insert, sr, keep_below_hz)[1], syllable, match)
            spliced = splice(y, insert * 10.0 ** (gain_db / 20.0), start, stop, fade, background)
            peak = float(np.max(np.abs(spliced)))
            if peak > 1.0:
                raise StimgenError(f"at the syllable's {match.upper()} ({gain_db:+.1f} dB) the song's peak would be "
                                   f"{peak_dbfs(spliced):+.1f} dBFS, past full scale"
                                   f"{': try --match peak' if match == 'rms' else ''}", path=path)
            name = stimulus_file(Path(source).stem, "wav")
            save_wav(tmp / name, spliced, sr)
            overrun = max(0, start + insert.size - stop) / sr
            if overrun > 0:
                overruns.append((int(step), overrun, rms_dbfs(foreground[stop:start + insert.size])))
            rows.append({STIM_FILE: name, "step": int(step), "morph_level": float(level), "source_file": source,
                         "source_sha256": source_sha256, "song": Path(song).name, "song_sha256": song_sha256,
                         "label": place.get("label", ""), "onset_s": onset, "offset_s": offset,
                         "step_s": insert.size / sr,
                         "overrun_s": overrun, "match": match, "target_dbfs": target, "gain_db": gain_db,
                         "crossfade_ms": float(crossfade_ms), "keep_below_hz": float(keep_below_hz),
                         "sr": sr, "duration_s": y.size / sr, SHA256: file_sha256(tmp / name)})
        manifest = pd.DataFrame(rows)
        manifest.to_csv(tmp / MANIFEST_CSV, index=False, float_format="%.6g", lineterminator="\n")
        record = {"stimgen_version": stimgen.__version__, "verb": VERB, "command": command or "stimgen Python API",
                  "settings": {**place, "crossfade_ms": float(crossfade_ms),
                               "fade": "equal-power", "match": match, "keep_below_hz": float(keep_below_hz),
                               "trim": "sounding part: within 40 dB of the step's loudest (trim_silence)"},
                  "inputs": [{"continuum": str(folder.path.resolve()),
                              "manifest_sha256": file_sha256(folder.path / MANIFEST_JSON)},
                             {"song": str(Path(song).resolve()), "sha256": song_sha256, "sr": sr,
                              "duration_s": y.size / sr}],
                  "columns": list(manifest.columns), "preload": {"audio": list(manifest[STIM_FILE])},
                  "stimuli": rows}
        (tmp / MANIFEST_JSON).write_text(json.dumps(record, indent=2, allow_nan=False) + "\n")
    if overruns:
        which = ", ".join(str(step) for step, _, _ in overruns)
        which = f"steps {which} run" if len(overruns) > 1 else f"step {which} runs"
        longest, loudest = max(o for _, o, _ in overruns), max(level for _, _, level in overruns)
        check = (f"before the next labelled syllable ({place['next_onset_s']:g} s)" if "next_onset_s" in place else
                 "check that the next syllable starts later")
        warnings.warn(StimgenWarning(f"{which} on past the syllable's offset {offset:g} s by up to "
                                     f"{longest * 1e3:.1f} ms, over song at up to {loudest:.1f} dBFS RMS above "
                                     f"{keep_below_hz:g} Hz (the syllable's: {rms_dbfs(syllable):.1f}): {check}",
                                     path=song), stacklevel=2)
    return Path(out)


def _place(song: str | os.PathLike, length: float, onset: float | None, offset: float | None,
           labels: str | os.PathLike | None, syllable: int | None) -> dict:
    """Where the syllable replaced lies: ``onset_s`` and ``offset_s``; from hand labels also the
    ``labels`` file, the ``syllable`` (from 1), its ``label`` and the ``next_onset_s`` of the one after
    it (where there is one). Refused where it does not lie in a song of ``length`` seconds."""
    from stimgen.data.recordings import read_hand_labels

    if (labels is None) == (onset is None and offset is None) or (labels is None) != (syllable is None):
        raise StimgenError("give the syllable replaced either as --onset and --offset or as --labels and --syllable")
    if labels is not None:
        units, names = read_hand_labels(labels, length)
        if not len(units):
            raise StimgenError("holds no syllable (no rows)", path=labels)
        k = check_whole(syllable, "--syllable", 1, len(units), f" (the rows of {Path(labels).name})")
        place = {"labels": str(Path(labels).resolve()), "labels_sha256": file_sha256(labels), "syllable": k,
                 "label": names[k - 1]}
        onset, offset = units[k - 1]
        if k < len(units):
            place["next_onset_s"] = float(units[k][0])
        return {"onset_s": float(onset), "offset_s": float(offset), **place}
    for name, value in (("--onset", onset), ("--offset", offset)):
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
            raise StimgenError(f"{name} must be a number of seconds, got {value!r}", path=song)
    if not 0 <= onset < offset <= length:
        raise StimgenError(f"the syllable {onset:g}-{offset:g} s does not lie in the song (0-{length:.4f} s, "
                           "onset before offset)", path=song)
    return {"onset_s": float(onset), "offset_s": float(offset)}
