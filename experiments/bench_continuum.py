"""How long `stimgen continuum` takes as a whole process, against the floor of importing torch.

Run from the repository root, after the README's install:

    python experiments/bench_continuum.py            # 7 rounds
    python experiments/bench_continuum.py --rounds 3

    python experiments/bench_continuum.py --a VOICES/espeak-man/iy.wav --b VOICES/espeak-man/aa.wav --cold

Each round runs, in alternation, `python -c "import torch"` and
`stimgen continuum --a i.wav --b a.wav --steps 11 --out DIR --force` with the default (vowel)
model and settings (faithful ends included: `--endpoints warp`; for speech, equal steps in F1/F2
Bark, `--metric formants`; `--metric spectral` to compare), on two 1-second synthesised
vowels or the two files given (a natural pair: experiments/natural_voices.py makes some), and
times both processes from start to exit. With ``--cold`` every continuum starts from an empty
stimgen cache (``STIMGEN_CACHE`` a new folder), as on a fresh install or for a new voice. It
prints the median of each and their ratio (goal, issue 23: at most 3x). Both run with the same
environment, so the ratio does not depend on how fast this machine is.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def timed(cmd: list[str], cwd: Path, cold: bool = False) -> float:
    env = dict(os.environ)
    if cold:  # a cache folder no run has filled
        env["STIMGEN_CACHE"] = tempfile.mkdtemp(dir=cwd)
    t0 = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=7, help="Rounds (median reported).")
    parser.add_argument("--steps", type=int, default=11)
    parser.add_argument("--a", type=Path, help="First endpoint (default: a synthesised /i/).")
    parser.add_argument("--b", type=Path, help="Second endpoint (default: a synthesised /a/).")
    parser.add_argument("--cold", action="store_true", help="An empty stimgen cache for every continuum.")
    parser.add_argument("--metric", help="--metric for stimgen continuum (default: the model's own default).")
    args = parser.parse_args()

    from stimgen.data.vowels import mean_vowel
    from stimgen.signal.audio import save_wav

    stimgen_exe = str(Path(sys.executable).with_name("stimgen"))
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for name, code, given in (("i", "iy", args.a), ("a", "aa", args.b)):
            if given is None:
                save_wav(work / f"{name}.wav", mean_vowel(code, "man", f0=120.0, duration=1.0, rng=0), 16000)
            else:
                shutil.copyfile(given, work / f"{name}.wav")
        floor_cmd = [sys.executable, "-c", "import torch"]
        cont_cmd = [stimgen_exe, "continuum", "--a", "i.wav", "--b", "a.wav", "--steps", str(args.steps),
                    "--out", "out", "--force", *(["--metric", args.metric] if args.metric else [])]
        timed(cont_cmd, work)  # warm the file cache and librosa's numba cache once, untimed
        floor, cont = [], []
        for _ in range(args.rounds):
            floor.append(timed(floor_cmd, work))
            cont.append(timed(cont_cmd, work, cold=args.cold))
    f, c = statistics.median(floor), statistics.median(cont)
    print(f"machine: {os.cpu_count()} CPU cores; {args.rounds} rounds, medians")
    print(f"python -c 'import torch'            {f:6.2f} s   (runs: {', '.join(f'{v:.2f}' for v in floor)})")
    print(f"stimgen continuum --steps {args.steps:<3d}        {c:6.2f} s   "
          f"(runs: {', '.join(f'{v:.2f}' for v in cont)})")
    pair = f"{args.a} -> {args.b}" if args.a else "synthesised /i/ -> /a/"
    print(f"pair: {pair}; cache: {'cold (empty for every continuum)' if args.cold else 'warm'}; "
          f"metric: {args.metric or 'default'}")
    print(f"ratio continuum / import torch      {c / f:6.2f}x  (goal <= 3x)")


if __name__ == "__main__":
    main()
