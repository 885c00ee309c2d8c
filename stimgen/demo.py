"""``stimgen demo``: everything a vowel study needs, from the shipped vowel model, in one folder.

It synthesises three endpoint vowels (a man's /i/, /ɑ/ and /ɛ/ at Peterson & Barney's mean
formants, F0 120 Hz, as long as the model's window), builds an 11-step /i/-/ɑ/ continuum with
equal steps in F1/F2 (Bark, as Praat measures them: the default spacing of speech), fits
attribute vectors (F1, F2, F0, sex) on the model's training codes, and
moves /ɛ/ along the F1 vector by -200 to +200 Hz (calibrated: the steps are chosen from the F1
Praat measures). Each set
is written as an experiment-ready folder (see :mod:`stimgen.export`), and ``README.md`` sums up
what was measured.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd

from stimgen.data.vowels import mean_vowel
from stimgen.export import export
from stimgen.morph.attributes import edit, fit_model_attributes
from stimgen.morph.continuum import continuum
from stimgen.morph.domain import Domain, RenderSettings
from stimgen.options import SEED
from stimgen.outputs import atomic_dir
from stimgen.signal.audio import save_wav
from stimgen.stimulus_folder import MANIFEST_CSV, MANIFEST_JSON

ENDPOINTS = {"i": "iy", "a": "aa", "eh": "eh"}
EDIT_VALUES = (-200.0, -100.0, 0.0, 100.0, 200.0)


def demo(out: str | os.PathLike, model: str = "vowels", seed: int = SEED, render: RenderSettings = RenderSettings(),
         command: str | None = None, force: bool = False) -> Path:
    """Write the demo folder ``out``: inputs/, continuum_i_a/, vectors.json, edit_F1/ and README.md.

    Examples
    --------
    >>> demo("demo")                                  # doctest: +SKIP
    PosixPath('demo')
    """
    from stimgen import load_model

    m = load_model(model)
    with atomic_dir(out, force=force, inputs=[m.info["path"]], verb="demo") as tmp:
        (tmp / "inputs").mkdir()
        for name, code in ENDPOINTS.items():
            # as long as the model's window, so that each file is taken whole (no window to choose)
            vowel = mean_vowel(code, "man", f0=120.0, duration=Domain(m).representation.duration, rng=seed)
            save_wav(tmp / "inputs" / f"{name}.wav", vowel, 16000)
        cont = continuum(m, tmp / "inputs" / "i.wav", tmp / "inputs" / "a.wav", steps=11, seed=seed)
        cont.settings.update(a="inputs/i.wav", b="inputs/a.wav")
        export(cont, tmp / "continuum_i_a", render=render, command=command)

        vectors = fit_model_attributes(m, ["F1", "F2", "F0", "sex"])
        vectors.save(tmp / "vectors.json")
        ed = edit(m, tmp / "inputs" / "eh.wav", vectors, "F1", EDIT_VALUES, seed=seed,
                  vectors_path=tmp / "vectors.json")
        ed.settings.update(input="inputs/eh.wav", vectors_file="vectors.json")
        export(ed, tmp / "edit_F1", render=render, command=command)
        (tmp / "README.md").write_text(_summary(tmp, vectors))
    return Path(out)


def _summary(root: Path, vectors) -> str:
    cont = pd.read_csv(root / "continuum_i_a" / MANIFEST_CSV)
    ed = pd.read_csv(root / "edit_F1" / MANIFEST_CSV)
    d = cont["distance_prev"].dropna()
    metric = json.loads((root / "continuum_i_a" / MANIFEST_JSON).read_text())["metric"]
    spacing = {"formants": "equal steps in F1/F2 (Bark)", "spectral": "equal log-mel steps"}.get(
        metric["name"], f"equal {metric['name']} steps")
    lines = [
        "# stimgen demo",
        "",
        "Made by `stimgen demo` with the shipped vowel model. Every file is listed with its measured features in "
        "the `manifest.csv` of its folder; `manifest.json` adds the provenance.",
        "",
        "- `inputs/`: the endpoints, synthesised vowels of a man (F0 120 Hz): /i/ (`i.wav`), /ɑ/ (`a.wav`, "
        "Peterson & Barney's \"aa\"), /ɛ/ (`eh.wav`).",
        f"- `continuum_i_a/`: 11 steps from /i/ to /ɑ/, {spacing}. Neighbour distances measured on the "
        f"WAVs: mean {d.mean():.2f} {metric['unit']}, coefficient of variation {d.std() / d.mean():.3f}. F1 goes "
        f"{cont['f1_hz'].iloc[0]:.0f} -> {cont['f1_hz'].iloc[-1]:.0f} Hz, F2 {cont['f2_hz'].iloc[0]:.0f} -> "
        f"{cont['f2_hz'].iloc[-1]:.0f} Hz, F0 {cont['f0_hz'].min():.1f}-{cont['f0_hz'].max():.1f} Hz and the "
        f"harmonics-to-noise ratio a median {cont['hnr_db'].median():.1f} dB (Praat; natural sustained vowels measure "
        "15-25 dB).",
        f"- `vectors.json`: OLS attribute vectors ({', '.join(vectors.names)}) fitted on the model's {vectors.n} "
        "training codes.",
        "- `edit_F1/`: /ɛ/ moved along the F1 vector, calibrated so that the F1 Praat measures changes as "
        "requested. Requested against measured change of F1 (Praat, on the WAVs):",
        "",
        "| requested (Hz) | measured (Hz) |",
        "| ---: | ---: |",
        *[f"| {r:+.0f} | {m:+.0f} |" for r, m in zip(ed["requested_change"], ed["measured_change"])],
        "",
        "Load a folder's `manifest.csv` in PsychoPy with `importConditions`; see docs/psychopy.md.",
        "",
    ]
    return "\n".join(lines)

