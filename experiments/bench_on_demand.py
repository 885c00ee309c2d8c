"""How long `stimgen.Continuum.sound(level)` takes between two trials, against reading a WAV file.

Run from the repository root, after the README's install:

    OMP_NUM_THREADS=1 python experiments/bench_on_demand.py              # 100 levels
    python experiments/bench_on_demand.py --levels 50 --steps 101

An 11-step continuum is written (as `stimgen continuum --a i.wav --b a.wav --steps 11` does, with
the shipped `vowels` model and every default: faithful ends by warp, F0 interpolated, 48 kHz)
between two synthesised vowels of different voices (a man's /i/ at 120 Hz, a woman's /a/ at
210 Hz), opened with `Continuum.open` (which warms it), and asked for random levels in [0, 1]. Each
call is timed by the wall clock and by its thread's CPU time; beside it, the floor: the same
stimulus, written as a 16-bit WAV, read back by `soundfile.read` (the file in the page cache, as
a file an experiment has just used is). It prints the median and 95th percentile of each, and
the machine's load average, which the wall-clock figures depend on where other work shares the
cores (issue 24's goal: a median <= 20 ms and a 95th percentile <= 40 ms).
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import soundfile as sf


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--levels", type=int, default=100, help="Random levels asked for (at least 50).")
    parser.add_argument("--steps", type=int, default=11, help="Steps of the written continuum.")
    parser.add_argument("--seed", type=int, default=0, help="Seed of the random levels.")
    args = parser.parse_args()

    import torch

    import stimgen
    from stimgen.data.vowels import mean_vowel
    from stimgen.export import export
    from stimgen.morph.continuum import continuum
    from stimgen.signal.audio import save_wav

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        save_wav(work / "i.wav", mean_vowel("iy", "man", f0=120.0, duration=0.5, rng=0), 16000)
        save_wav(work / "a.wav", mean_vowel("aa", "woman", f0=210.0, duration=0.5, rng=0), 16000)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the windows taken of the files: said by stimgen continuum
            export(continuum(stimgen.load_model("vowels"), work / "i.wav", work / "a.wav", steps=args.steps),
                   work / "i-a")
            start = time.perf_counter()
            c = stimgen.Continuum.open(work / "i-a")
        opened = time.perf_counter() - start
        wall, cpu, floor = [], [], []
        for k, level in enumerate(np.random.default_rng(args.seed).random(args.levels)):
            w, t = time.perf_counter(), time.thread_time()
            y = c.sound(float(level))
            cpu.append(time.thread_time() - t)
            wall.append(time.perf_counter() - w)
            file = work / f"level_{k}.wav"
            save_wav(file, y, c.sr)
            w = time.perf_counter()
            sf.read(file)
            floor.append(time.perf_counter() - w)

    def line(name: str, seconds: list[float]) -> str:
        ms = 1000 * np.asarray(seconds)
        return f"{name:<44} median {statistics.median(ms):6.2f} ms   95th percentile {np.percentile(ms, 95):6.2f} ms"

    load = ", ".join(f"{v:.2f}" for v in os.getloadavg())
    print(f"vowels model, {args.steps}-step continuum, {args.levels} random levels; opened (warmed) in {opened:.1f} s; "
          f"torch threads {torch.get_num_threads()}, {os.cpu_count()} cores, load average {load}")
    print(line("Continuum.sound(level), wall clock", wall))
    print(line("Continuum.sound(level), CPU time of its thread", cpu))
    print(line("floor: soundfile.read of the same stimulus", floor))


if __name__ == "__main__":
    main()
