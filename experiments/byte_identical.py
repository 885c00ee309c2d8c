"""Byte-identical outputs across a refactoring: run a fixed set of commands, hash every file.

    python experiments/byte_identical.py run OUT            # writes OUT/ (the outputs) and OUT.json (hashes)
    python experiments/byte_identical.py rehash OUT         # OUT.json again, from OUT/ as it is
    python experiments/byte_identical.py compare A.json B.json

What is run (every representation and verb that writes files):
- the README's first command, ``stimgen demo`` (every WAV, PNG, manifest and vectors.json);
- 11-step continua on natural voices no one here made (espeak-ng's en-us man and en-us+f3
  woman, /i/ to /ɑ/, silence trimmed) through the shipped vowel model (mel-world) with ``--f0 120``
  and ``--f0 interpolate``, and through copies of its weights read as ``mel`` (Griffin-Lim) and
  ``world``; an edit of F0 (the vocoder's own) and a grid;
- an image continuum (the shipped digits model) and ``decode`` of encoded codes;
- ``pilot``, ``fit`` of a simulated listener and ``respace`` of the espeak-ng continuum;
- 3-step training runs (GAIA on vowels as mel and as mel-world, AE on digits): the weights and the
  config.json.

``compare`` lists every file whose hash differs. manifest.json (and the training config.json,
fit.json, pilot.json, the codes' provenance) are compared as JSON with the command string and the
run folder's absolute paths left out and keys sorted: their key order and the command line may
change. manifest.json is compared in the layout before its record had a format of its own
(``stimgen.stimulus_folder``, format 2: ``verb`` and ``medium`` for the old ``kind`` and
``model.kind``, ``render`` beside ``settings``, codes at full precision, ``path_map``, ``state``):
a format-2 record is brought to that layout (codes rounded to 6 decimals as before, the new fields
left out), so that every value of before is compared. Files that record wall-clock time
(metrics.csv) are not hashed.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd

import stimgen  # noqa: E402

#: The checkout whose stimgen is imported (PYTHONPATH may point at another one, for the "before").
REPO = Path(stimgen.__file__).resolve().parents[1]
#: Files that hold timings or absolute paths of the run folder: not compared.
SKIP = {"metrics.csv", "train.log"}


def stimgen(*args) -> None:
    cmd = [sys.executable, "-m", "stimgen", *map(str, args)]
    r = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "OMP_NUM_THREADS": "1"})
    if r.returncode != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}\n{r.stderr}")


def espeak_vowels(folder: Path) -> dict[str, Path]:
    from stimgen.signal.audio import load_audio, save_wav, trim_silence

    folder.mkdir(parents=True)
    files = {}
    for voice, (name, pitch) in {"man": ("en-us", 40), "woman": ("en-us+f3", 80)}.items():
        for code, phoneme in {"iy": "i:", "aa": "A:", "uw": "u:"}.items():
            raw = folder / f"{voice}-{code}-raw.wav"
            subprocess.run(["espeak-ng", "-v", name, "-p", str(pitch), "-s", "60", "-w", str(raw), f"[[{phoneme}]]"],
                           check=True)
            y, sr = load_audio(raw)
            files[f"{voice}-{code}"] = folder / f"{voice}-{code}.wav"
            save_wav(files[f"{voice}-{code}"], trim_silence(y, 30.0), sr)
            raw.unlink()
    return files


def model_copy(representation: str, out: Path) -> Path:
    """The shipped vowel model's weights read as another representation (same voice section)."""
    shutil.copytree(REPO / "data" / "models" / "vowels", out)
    config = json.loads((out / "config.json").read_text())
    config["data"]["representation"] = representation
    if representation == "world":  # WORLD's analysis on the spectrogram's frames (WorldConfig's other defaults)
        spec = config["data"]["spectrogram"]
        config["data"]["world"] = {k: spec[k] for k in ("sample_rate", "hop_length", "n_frames", "fmin", "fmax")}
        config["data"]["world"]["n_bins"] = spec["n_mels"]
    (out / "config.json").write_text(json.dumps(config, indent=2))
    return out


def run(folder: Path) -> None:
    """Every command, run inside ``folder`` with paths relative to it (the outputs record the paths
    they were given), then every file's hash into ``folder`` + ``.json``."""
    folder = folder.resolve()
    folder.mkdir(parents=True)
    os.chdir(folder)
    out = Path(".")
    stimgen("demo", "--out", out / "demo")
    voices = espeak_vowels(out / "inputs")
    models = {"vowels": "vowels", "mel": model_copy("mel", out / "model-mel"),
              "world": model_copy("world", out / "model-world")}
    for voice in ("man", "woman"):
        a, b = voices[f"{voice}-iy"], voices[f"{voice}-aa"]
        for f0 in ("120", "interpolate"):
            stimgen("continuum", "--a", a, "--b", b, "--steps", 11, "--f0", f0, "--out", out / f"cont-{voice}-{f0}")
    for name in ("mel", "world"):
        extra = [] if name == "mel" else ["--f0", "120"]
        stimgen("continuum", "--a", voices["woman-iy"], "--b", voices["woman-aa"], "--steps", 7, "--model",
                models[name], *extra, "--out", out / f"cont-{name}")
    stimgen("continuum", "--a", voices["man-iy"], "--b", voices["man-aa"], "--steps", 5, "--endpoints", "original",
            "--f0", "a", "--out", out / "cont-original")
    stimgen("edit", "--model", "vowels", "--input", voices["man-uw"], "--attribute", "F0", "--values", "-20,0,30",
            "--out", out / "edit-f0")
    stimgen("grid", "--anchors", ",".join(str(voices[f"man-{c}"]) for c in ("iy", "aa", "uw")), "--steps", 3,
            "--out", out / "grid")
    stimgen("encode", voices["man-iy"], voices["woman-aa"], "--out", out / "codes.csv")
    stimgen("decode", "--model", "vowels", "--latents", out / "codes.csv", "--out", out / "decoded")
    stimgen("decode", "--model", "vowels", "--latents", out / "codes.csv", "--f0", "150", "--out",
            out / "decoded-150")

    stimgen("data", "build", "digits", "--n", 20, "--out", out / "digits")
    digits = sorted((out / "digits").glob("**/*.png"))
    digits = [p for p in digits if p.name != "preview.png"]
    stimgen("continuum", "--a", digits[0], "--b", digits[1], "--steps", 7, "--out", out / "cont-image")

    cont = out / "cont-man-120"
    stimgen("pilot", cont, "--reps", 4, "--out", out / "pilot")
    levels = np.repeat(pd.read_csv(cont / "manifest.csv")["morph_level"].to_numpy(), 20)
    p = 1.0 / (1.0 + np.exp(-(levels - 0.45) / 0.08))
    responses = (np.random.default_rng(0).random(len(levels)) < p).astype(int)
    pd.DataFrame({"morph_level": levels, "response_b": responses}).to_csv(out / "responses.csv", index=False)
    stimgen("fit", out / "responses.csv", "--continuum", cont, "--bootstrap", 50, "--out", out / "fit")
    stimgen("respace", cont, "--fit", out / "fit" / "fit.json", "--steps", 7, "--out", out / "respaced")

    for name, args in {"train-mel": ["--data", "vowels", "--representation", "mel"],
                       "train-mel-world": ["--data", "vowels", "--representation", "mel-world"],
                       "train-digits": ["--data", out / "digits", "--model", "ae"]}.items():
        stimgen("train", *args, "--steps", 3, "--batch-size", 8, "--preview-every", 100, "--out", out / name)

    rehash(folder)


def rehash(folder: Path) -> None:
    """Every file's hash in ``folder`` (a run's outputs) into ``folder`` + ``.json``."""
    folder = folder.resolve()
    hashes = {str(p.relative_to(folder)): digest(p, folder) for p in sorted(folder.rglob("*"))
              if p.is_file() and p.name not in SKIP}
    Path(f"{folder}.json").write_text(json.dumps(hashes, indent=1) + "\n")
    print(f"{len(hashes)} files hashed into {folder}.json")


def digest(path: Path, root: Path) -> str:
    if path.suffix == ".safetensors":  # the tensors and the metadata, not its order (which varies run to run)
        from safetensors import safe_open

        h = hashlib.sha256()
        with safe_open(path, "np") as f:
            h.update(json.dumps(f.metadata(), sort_keys=True).encode())
            for key in sorted(f.keys()):
                h.update(key.encode() + f.get_tensor(key).tobytes())
        return h.hexdigest()
    if path.name in ("manifest.json", "config.json", "fit.json", "pilot.json", "codes.csv.json"):
        record = json.loads(path.read_text().replace(str(root), "RUN"))  # absolute paths of the run folder
        if path.name == "manifest.json":
            record = format_1(record)
        drop_command(record)
        return hashlib.sha256(json.dumps(record, sort_keys=True).encode()).hexdigest()
    return hashlib.sha256(path.read_bytes()).hexdigest()


def format_1(record: dict) -> dict:
    """A manifest.json of format 2 in the layout of before (see the module's docstring)."""
    if record.get("format", 1) == 1:
        return record
    settings = dict(record["settings"])
    if record["medium"] == "audio":  # images recorded no render settings before
        settings["render"] = record["render"]
    old = {**record, "kind": record["verb"], "settings": settings}  # model.kind: see drop_command
    for key in ("verb", "medium", "render", "format", "path_map", "state"):
        old.pop(key)
    old["stimuli"] = [{**row, "z": [round(v, 6) for v in row["z"]]} for row in record["stimuli"]]
    return old


def drop_command(record) -> None:
    """The command line and absolute paths of the run folder are not part of what is compared."""
    if isinstance(record, dict):
        for key in ("command", "fit_sha256"):  # the sha256 of fit.json, which holds absolute paths
            record.pop(key, None)
        if isinstance(record.get("model"), dict):  # the medium was called "kind" in the codes' and pilot's record
            record["model"].pop("kind", None)
            record["model"].pop("medium", None)
        for value in record.values():
            drop_command(value)
    elif isinstance(record, list):
        for value in record:
            drop_command(value)


def compare(a: Path, b: Path) -> None:
    ha, hb = json.loads(a.read_text()), json.loads(b.read_text())
    differ = sorted(k for k in ha.keys() & hb.keys() if ha[k] != hb[k])
    only = sorted(ha.keys() ^ hb.keys())
    print(f"{len(ha.keys() & hb.keys())} files in both, {len(differ)} differ, {len(only)} in one only")
    for k in differ:
        print(f"  differs: {k}")
    for k in only:
        print(f"  only in {'the first' if k in ha else 'the second'}: {k}")
    sys.exit(1 if differ or only else 0)


if __name__ == "__main__":
    if sys.argv[1:2] == ["run"]:
        run(Path(sys.argv[2]))
    elif sys.argv[1:2] == ["rehash"]:
        rehash(Path(sys.argv[2]))
    elif sys.argv[1:2] == ["compare"]:
        compare(Path(sys.argv[2]), Path(sys.argv[3]))
    else:
        raise SystemExit(__doc__)
