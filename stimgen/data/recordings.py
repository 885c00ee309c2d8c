"""A folder of recordings cut into units as a folder data set (``stimgen data segment``): one WAV
per syllable or voiced stretch, found by :func:`stimgen.signal.segment.find_units` or read from
the hand labels beside each recording (:func:`read_hand_labels`), with ``labels.csv``,
``meta.json`` and a preview of the cuts; ``stimgen train --data`` takes it."""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import soundfile as sf
from tqdm.auto import tqdm

import stimgen
from stimgen.data.folder import AUDIO_EXTENSIONS, LABELS_FILE, META_FILE, PREVIEW_FILE, read_table
from stimgen.errors import StimgenError, StimgenWarning
from stimgen.outputs import atomic_dir, check_output
from stimgen.signal.audio import CANCEL_MARGIN_DB, SILENCE_PEAK, load_audio, save_wav
from stimgen.signal.segment import (
    BLOCK_SECONDS,
    SPECTROGRAM_PRESETS,
    STFT_BLOCK_SECONDS,
    SegmentSettings,
    find_units_in,
    stft_blocks,
)
from stimgen.signal.spectrogram import SpectrogramConfig

#: The most spectrogram frames drawn of one recording in preview.png (about the figure's width in pixels).
PREVIEW_FRAMES = 1000
#: The onset and offset columns a hand-label table may have (seconds; evsonganaly, vak and hvc
#: exports), in order of preference, and its label column.
HAND_TIME_COLUMNS = (("onset_s", "offset_s"), ("onset", "offset"))
HAND_LABEL_COLUMN = "label"


def segment_folder(recordings: str | os.PathLike, out: str | os.PathLike, settings: SegmentSettings | None = None,
                   force: bool = False, progress: bool = False, command: str | None = None,
                   labels: bool = False) -> Path:
    """Cut every sound file under ``recordings`` into units, written to ``out`` as a folder data set.

    ``out`` gets one WAV per unit (``SOURCE_NNN.wav``, at the recording's rate, ``pad`` ms of the
    recording kept on each side), ``labels.csv`` (``file``, ``source``, ``onset``, ``offset``,
    ``duration`` in seconds, ``peak_dbfs``), ``meta.json`` (the settings, the spectrogram preset of
    the kind, the version) and ``preview.png`` (the first recordings' spectrograms with the cut
    points drawn). ``stimgen train --data OUT`` trains on it. A recording in which no unit is found
    is listed in meta.json, not refused; a folder with no unit at all is refused.

    ``labels``: cut at a lab's own boundaries instead of finding units: each recording ``NAME.ext``
    needs ``NAME.csv`` beside it (:func:`read_hand_labels`), its rows are the units (in time
    order), ``labels.csv`` gets their ``label`` column and meta.json says ``"cut_by": "labels"``
    (else ``"segmenter"``). A missing or bad table is refused before anything is written.

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
    missing = [p for p in sources if labels and not p.with_suffix(".csv").is_file()]
    if missing:
        raise StimgenError(f"has no hand labels {missing[0].with_suffix('.csv').name} beside it (--labels: "
                           "every recording needs one)", path=missing[0])
    out = check_output(out, force, inputs=[recordings])
    rows, empty, drawn = [], [], []
    with atomic_dir(out, force=force, inputs=[recordings], verb="data segment") as tmp:
        for source in tqdm(sources, desc="segmenting", unit="file", disable=not progress, delay=2):
            recording = Recording(source)
            if labels:
                units, names = read_hand_labels(source.with_suffix(".csv"), recording.n / recording.sr)
            else:
                units, names = find_units_in(recording.read, recording.n, recording.sr, settings), None
            if not len(units):
                empty.append(source.relative_to(recordings).as_posix())
            if len(drawn) < 6:
                drawn.append((source, recording, units))
            stem = "_".join(source.relative_to(recordings).with_suffix("").parts)
            for k, (onset, offset) in enumerate(units):
                rows.append(_write_unit(tmp / f"{stem}_{k:03d}.wav", recording, onset, offset, settings.pad))
                rows[-1]["source"] = source.relative_to(recordings).as_posix()
                if labels:
                    rows[-1][HAND_LABEL_COLUMN] = names[k]
        if not rows:
            raise StimgenError(f"no row in the hand-label tables of any of {len(sources)} recordings" if labels else
                               f"no {settings.kind} unit found in any of {len(sources)} recordings; lower "
                               "--start-db or --min-unit, or check --kind", path=recordings)
        columns = ["file", "source", "onset", "offset", "duration", "peak_dbfs"] + [HAND_LABEL_COLUMN] * labels
        pd.DataFrame(rows)[columns].to_csv(tmp / LABELS_FILE, index=False, lineterminator="\n")
        meta = {"stimgen_version": stimgen.__version__, "command": command or "stimgen Python API",
                "kind": "audio", "units": settings.kind, "recordings": str(recordings), "count": len(rows),
                "cut_by": "labels" if labels else "segmenter",
                "segment": settings.to_dict(), "no_units_found_in": empty,
                "spectrogram": SpectrogramConfig.preset(SPECTROGRAM_PRESETS[settings.kind]).to_dict()}
        (tmp / META_FILE).write_text(json.dumps(meta, indent=2) + "\n")
        _cut_sheet(tmp / PREVIEW_FILE, drawn, recordings)
    return out


def read_hand_labels(path: str | os.PathLike, length: float) -> tuple[np.ndarray, list[str]]:
    """The units a lab drew by hand in the table ``path`` for a recording of ``length`` seconds:
    (k, 2) onsets and offsets in seconds, in time order, and their labels (strings, "1" as "1").

    The table has columns ``onset_s``, ``offset_s`` (or ``onset``, ``offset``; seconds) and
    ``label``, one row per unit, as evsonganaly, vak and hvc export them. Refused, with one line
    naming the file and the row: a missing column, a time that is not a number, onset at or after
    offset, a row outside the recording, rows that overlap.

    Examples
    --------
    >>> units, names = read_hand_labels("song.csv", 7.02)      # doctest: +SKIP
    >>> units[:2].tolist(), names[:2]                          # doctest: +SKIP
    ([[0.3583, 0.4339], [0.4978, 0.5901]], ['i', 'i'])
    """
    table = read_table(path, "hand-label table (--labels)", text=(HAND_LABEL_COLUMN,))
    columns = next((pair for pair in HAND_TIME_COLUMNS if set(pair) <= set(table.columns)), None)
    if columns is None or HAND_LABEL_COLUMN not in table.columns:
        raise StimgenError(f"needs columns onset_s, offset_s (or onset, offset; seconds) and {HAND_LABEL_COLUMN}, "
                           f"has {', '.join(map(str, table.columns))}", path=path)
    times = table[list(columns)].apply(pd.to_numeric, errors="coerce").to_numpy(np.float64)
    names = table[HAND_LABEL_COLUMN].fillna("").astype(str).to_numpy()
    order = np.argsort(times[:, 0], kind="stable")  # NaN last
    before = np.full(len(times), -1)  # the row that starts before each, in time
    before[order[1:]] = order[:-1]
    overlaps = (before >= 0) & (times[:, 0] < times[before, 1])
    for bad, problem in ((~np.isfinite(times).all(axis=1), "onset and offset must be numbers (seconds)"),
                         (times[:, 0] >= times[:, 1], "onset must come before offset"),
                         ((times[:, 0] < 0) | (times[:, 1] > length), f"lies outside the recording (0-{length:.4f} s)"),
                         (overlaps, "overlaps row {before}")):
        if bad.any():
            i = int(np.argmax(bad))
            raise StimgenError(f"row {i + 2} ({columns[0]} {table[columns[0]].iloc[i]}, {columns[1]} "
                               f"{table[columns[1]].iloc[i]}): {problem.format(before=before[i] + 2)}",
                               path=path)  # rows counted as in a spreadsheet: the header is row 1
    return times[order].reshape(-1, 2), names[order].tolist()


def _write_unit(path: Path, recording: Recording, onset: float, offset: float, pad_ms: float) -> dict:
    """Write one unit, ``pad_ms`` of the recording kept on each side, and return its labels row."""
    sr = recording.sr
    a, b = max(0, round((onset - pad_ms / 1000) * sr)), min(recording.n, round((offset + pad_ms / 1000) * sr))
    y = recording.read(a, b)
    save_wav(path, y, sr)
    peak = float(np.max(np.abs(y)))
    return {"file": path.name, "onset": round(float(onset), 4), "offset": round(float(offset), 4),
            "duration": round(float(offset - onset), 4), "peak_dbfs": round(20 * np.log10(max(peak, 1e-10)), 2)}


class Recording:
    """A recording read as mono float32 samples: whole (:func:`~stimgen.signal.audio.load_audio`)
    when it lasts :data:`~stimgen.signal.segment.BLOCK_SECONDS` or less, else from the file piece by
    piece (:meth:`read`), so that an hour-long session never sits in memory at once.

    Examples
    --------
    >>> rec = Recording("session.wav")                      # doctest: +SKIP
    >>> rec.read(0, rec.sr).shape                           # doctest: +SKIP
    (48000,)
    """

    def __init__(self, path: Path) -> None:
        self.path, self.y, self.channel = path, None, None
        try:
            info = sf.info(str(path))
        except (sf.LibsndfileError, RuntimeError, TypeError):
            info = None  # load_audio says what is wrong with the file
        if info is None or info.frames <= round(BLOCK_SECONDS * info.samplerate):
            self.y, self.sr = load_audio(path, allow_silence=True)
            self.n = self.y.size
        else:
            self.sr, self.n, self.channels = int(info.samplerate), int(info.frames), int(info.channels)
            self.channel = self._choose_channel() if self.channels > 1 else None

    def read(self, a: int, b: int) -> np.ndarray:
        """Samples ``a`` to ``b`` (float32 mono), zeros where they lie outside the recording."""
        lo = min(max(0, a), self.n)
        hi = max(lo, min(self.n, b))
        if self.y is not None:
            y = self.y[lo:hi]
        else:
            data = sf.read(str(self.path), start=lo, stop=hi, dtype="float32", always_2d=True)[0]
            y = data.mean(axis=1) if self.channel is None else np.ascontiguousarray(data[:, self.channel])
            if not np.all(np.isfinite(y)):
                raise StimgenError("contains NaN or infinite samples", path=self.path)
        if lo == a and hi == b:
            return y
        padded = np.zeros(max(0, b - a), np.float32)
        padded[lo - a:lo - a + y.size] = y
        return padded

    def _choose_channel(self) -> int | None:
        """The channel a long multichannel recording is read as (None: their average), by the rule of
        :func:`~stimgen.signal.audio.mix_to_mono` over the whole file, its sums taken block by block."""
        channel_power, mix_power, peak = np.zeros(self.channels), 0.0, 0.0
        for block in sf.blocks(str(self.path), blocksize=1 << 20, dtype="float32", always_2d=True):
            if not np.all(np.isfinite(block)):
                raise StimgenError("contains NaN or infinite samples", path=self.path)
            channel_power += np.square(block, dtype=np.float64).sum(axis=0)
            mix_power += float(np.square(block.mean(axis=1), dtype=np.float64).sum())
            peak = max(peak, float(np.max(np.abs(block), initial=0.0)))
        rms, mix_rms = np.sqrt(channel_power / self.n), np.sqrt(mix_power / self.n)
        loudest = int(np.argmax(rms))
        if peak < SILENCE_PEAK or mix_rms * self.channels >= rms[loudest] * 10.0 ** (-CANCEL_MARGIN_DB / 20.0):
            return None
        shortfall = ("is silent" if mix_rms == 0 else
                     f"is {20.0 * np.log10(rms[loudest] / mix_rms):.1f} dB below the loudest channel")
        name = f"channel {loudest + 1}" + (f" ({('left', 'right')[loudest]})" if self.channels == 2
                                           else f" of {self.channels}")
        warnings.warn(StimgenWarning(f"channels cancel when averaged to mono (the average {shortfall}); "
                                     f"used {name} alone", path=self.path), stacklevel=3)
        return loudest


def _cut_sheet(path: Path, drawn: list, root: Path) -> None:
    """The recordings' spectrograms, one row each, with every unit's onset (green) and offset (red)."""
    import librosa

    from stimgen.preview import figure

    fig = figure(figsize=(10, 1.8 * len(drawn)))
    axes = fig.subplots(len(drawn), 1, squeeze=False)
    for ax, (source, rec, units) in zip(axes[:, 0], drawn):
        hop = max(1, round(rec.sr / 500), -(-rec.n // PREVIEW_FRAMES))  # a long recording: coarser frames
        magnitude = np.concatenate([np.abs(spectrum).astype(np.float32) for spectrum in
                                    stft_blocks(rec.read, rec.n, 512, hop, round(STFT_BLOCK_SECONDS * rec.sr))], axis=1)
        db = librosa.amplitude_to_db(magnitude, ref=np.max, top_db=70)
        ax.imshow(db, origin="lower", aspect="auto", cmap="magma", extent=(0, rec.n / rec.sr, 0, rec.sr / 2000))
        for onset, offset in units:
            ax.axvline(onset, color="#2ecc71", lw=0.9)
            ax.axvline(offset, color="#e74c3c", lw=0.9)
        ax.set_title(f"{source.relative_to(root).as_posix()}: {len(units)} units", fontsize=8, loc="left")
        ax.set_ylabel("kHz", fontsize=7)
        ax.tick_params(labelsize=7)
    axes[-1, 0].set_xlabel("time (s)", fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
