"""How long `stimgen continuum` takes as a whole process, against the floor of importing torch.

Run from the repository root, after the README's install:

    python experiments/bench_continuum.py            # 7 rounds
    python experiments/bench_continuum.py --rounds 3

Each round runs, in alternation, `python -c "import torch"` and
`stimgen continuum --a i.wav --b a.wav --steps 11 --out DIR --force` with the default (vowel)
model on two 1-second synthesised vowels, and times both processes from start to exit. It prints
the median of each and their ratio (goal: at most 2x). Both run with the same environment, so the
ratio does not depend on how fast this machine is.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def timed(cmd: list[str], cwd: Path) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=7, help="Rounds (median reported).")
    parser.add_argument("--steps", type=int, default=11)
    args = parser.parse_args()

    from stimgen.data.vowels import mean_vowel
    from stimgen.signal.audio import save_wav

    stimgen_exe = str(Path(sys.executable).with_name("stimgen"))
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for name, code in (("i", "iy"), ("a", "aa")):
            save_wav(work / f"{name}.wav", mean_vowel(code, "man", f0=120.0, duration=1.0, rng=0), 16000)
        floor_cmd = [sys.executable, "-c", "import torch"]
        cont_cmd = [stimgen_exe, "continuum", "--a", "i.wav", "--b", "a.wav", "--steps", str(args.steps),
                    "--out", "out", "--force"]
        timed(cont_cmd, work)  # warm the file cache and librosa's numba cache once, untimed
        floor, cont = [], []
        for _ in range(args.rounds):
            floor.append(timed(floor_cmd, work))
            cont.append(timed(cont_cmd, work))
    f, c = statistics.median(floor), statistics.median(cont)
    print(f"machine: {os.cpu_count()} CPU cores; {args.rounds} rounds, medians")
    print(f"python -c 'import torch'            {f:6.2f} s   (runs: {', '.join(f'{v:.2f}' for v in floor)})")
    print(f"stimgen continuum --steps {args.steps:<3d}        {c:6.2f} s   "
          f"(runs: {', '.join(f'{v:.2f}' for v in cont)})")
    print(f"ratio continuum / import torch      {c / f:6.2f}x  (goal <= 2x)")


if __name__ == "__main__":
    main()
