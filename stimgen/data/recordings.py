"""A folder of recordings cut into units as a folder data set (``stimgen data segment``): one WAV
per syllable or voiced stretch, found by :func:`stimgen.signal.segment.find_units`, with
``labels.csv``, ``meta.json`` and a preview of the cuts; ``stimgen train --data`` takes it."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

import stimgen
from stimgen.data.folder import AUDIO_EXTENSIONS, LABELS_FILE, META_FILE, PREVIEW_FILE
from stimgen.errors import StimgenError
from stimgen.outputs import atomic_dir, check_output
from stimgen.signal.audio import load_audio, save_wav
from stimgen.signal.segment import SPECTROGRAM_PRESETS, SegmentSettings, find_units
from stimgen.signal.spectrogram import SpectrogramConfig


def segment_folder(recordings: str | os.PathLike, out: str | os.PathLike, settings: SegmentSettings | None = None,
                   force: bool = False, progress: bool = False, command: str | None = None) -> Path:
    """Cut every sound file under ``recordings`` into units, written to ``out`` as a folder data set.

    ``out`` gets one WAV per unit (``SOURCE_NNN.wav``, at the recording's rate, ``pad`` ms of the
    recording kept on each side), ``labels.csv`` (``file``, ``source``, ``onset``, ``offset``,
    ``duration`` in seconds, ``peak_dbfs``), ``meta.json`` (the settings, the spectrogram preset of
    the kind, the version) and ``preview.png`` (the first recordings' spectrograms with the cut
    points drawn). ``stimgen train --data OUT`` trains on it. A recording in which no unit is found
    is listed in meta.json, not refused; a folder with no unit at all is refused.

    Examples
    --------
    >>> segment_folder("recordings", "syllables", SegmentSettings.for_kind("birdsong"))   # doctest: +SKIP
    PosixPath('syllables')
    """
    settings = settings or SegmentSettings()
    recordings = Path(recordings)
    if not recordings.is_dir():
        raise StimgenError("is not a folder of recordings", path=recordings)
    sources = sorted(p for p in recordings.rglob("*") if p.is_file() and p.suffix.lower() in AUDIO_EXTENSIONS
                     and not any(part.startswith(".") for part in p.relative_to(recordings).parts))
    if not sources:
        raise StimgenError(f"holds no sound files ({', '.join(AUDIO_EXTENSIONS)})", path=recordings)
    out = check_output(out, force, inputs=[recordings])
    rows, empty, drawn = [], [], []
    for source in tqdm(sources, desc="segmenting", unit="file", disable=not progress, delay=2):
        y, sr = load_audio(source, allow_silence=True)
        units = find_units(y, sr, settings)
        if not len(units):
            empty.append(source.relative_to(recordings).as_posix())
        if len(drawn) < 6:
            drawn.append((source, y, sr, units))
        stem = "_".join(source.relative_to(recordings).with_suffix("").parts)
        for k, (onset, offset) in enumerate(units):
            a, b = (max(0, round((onset - settings.pad / 1000) * sr)),
                    min(y.size, round((offset + settings.pad / 1000) * sr)))
            peak = float(np.max(np.abs(y[a:b])))
            rows.append({"file": f"{stem}_{k:03d}.wav", "source": source.relative_to(recordings).as_posix(),
                         "onset": round(float(onset), 4), "offset": round(float(offset), 4),
                         "duration": round(float(offset - onset), 4),
                         "peak_dbfs": round(20 * np.log10(max(peak, 1e-10)), 2), "_cut": (a, b, y, sr)})
    if not rows:
        raise StimgenError(f"no {settings.kind} unit found in any of {len(sources)} recordings; lower --start-db "
                           "or --min-unit, or check --kind", path=recordings)
    preset = SPECTROGRAM_PRESETS[settings.kind]
    with atomic_dir(out, force=force, inputs=[recordings], verb="data segment") as tmp:
        for row in rows:
            a, b, y, sr = row.pop("_cut")
            save_wav(tmp / row["file"], y[a:b], sr)
        pd.DataFrame(rows).to_csv(tmp / LABELS_FILE, index=False, lineterminator="\n")
        meta = {"stimgen_version": stimgen.__version__, "command": command or "stimgen Python API",
                "kind": "audio", "units": settings.kind, "recordings": str(recordings), "count": len(rows),
                "segment": settings.to_dict(), "no_units_found_in": empty,
                "spectrogram": SpectrogramConfig.preset(preset).to_dict()}
        (tmp / META_FILE).write_text(json.dumps(meta, indent=2) + "\n")
        _cut_sheet(tmp / PREVIEW_FILE, drawn, recordings)
    return out


def _cut_sheet(path: Path, drawn: list, root: Path) -> None:
    """The recordings' spectrograms, one row each, with every unit's onset (green) and offset (red)."""
    import librosa

    from stimgen.preview import figure

    fig = figure(figsize=(10, 1.8 * len(drawn)))
    axes = fig.subplots(len(drawn), 1, squeeze=False)
    for ax, (source, y, sr, units) in zip(axes[:, 0], drawn):
        hop = max(1, round(sr / 500))
        db = librosa.amplitude_to_db(np.abs(librosa.stft(y, n_fft=512, hop_length=hop)), ref=np.max, top_db=70)
        ax.imshow(db, origin="lower", aspect="auto", cmap="magma", extent=(0, y.size / sr, 0, sr / 2000))
        for onset, offset in units:
            ax.axvline(onset, color="#2ecc71", lw=0.9)
            ax.axvline(offset, color="#e74c3c", lw=0.9)
        ax.set_title(f"{source.relative_to(root).as_posix()}: {len(units)} units", fontsize=8, loc="left")
        ax.set_ylabel("kHz", fontsize=7)
        ax.tick_params(labelsize=7)
    axes[-1, 0].set_xlabel("time (s)", fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
