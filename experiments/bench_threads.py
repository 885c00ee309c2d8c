"""Benchmark: GAIA training speed by thread count, on an idle machine and beside a busy process.
Run from the repository root on a machine with nothing else running:

    python experiments/bench_threads.py [--steps 12] [--size 64] [--batch 16]

It times the documented first-look recipe for birdsong (docs/segment.md: batch 16, 64 x 64 items,
latent 32, width 16) in a fresh process per setting, medians over ``--steps`` steps after two
warm-up steps:
- idle: torch at 1 thread, at every thread count up to the cores, and at what
  :func:`stimgen.train.choose_threads` picks;
- loaded: the same beside one other busy process (a torch matmul loop at one thread, then at
  torch's default of a thread per core, like a second training run), at torch's default, at
  what ``choose_threads`` picks then, and at a thread per core whose idle threads sleep instead
  of spinning (``OMP_WAIT_POLICY=PASSIVE``, read by torch's OpenMP when it starts).

It prints seconds per step and each setting's slowdown against the best idle setting (goal: the
default beside a busy process within 1.5x of the best idle).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

STEP = r"""
import json, statistics, sys, time, torch
from stimgen.train import TrainSettings, choose_threads, make_model
threads, steps, size, batch = (None if sys.argv[1] == "auto" else int(sys.argv[1])), *map(int, sys.argv[2:5])
if threads is None:
    threads = choose_threads()[0]
elif threads > 0:
    torch.set_num_threads(threads)
torch.manual_seed(0)
model = make_model(TrainSettings(batch_size=batch, latent_dim=32, width=16, lr=5e-4, warmup_steps=0),
                   (1, size, size)).train()  # a GAIA step, not the warm-up's
opts, rng, x = model.configure_optimizers(), torch.Generator().manual_seed(0), torch.rand(batch, 1, size, size)
if sys.argv[1] == "auto":
    torch.set_num_threads(threads)
times = []
for _ in range(steps + 2):
    t0 = time.perf_counter()
    model.train_step(x, opts, rng)
    times.append(time.perf_counter() - t0)
print(json.dumps({"threads": torch.get_num_threads(), "s_per_step": statistics.median(times[2:])}))
"""

#: Another busy process: a torch matmul loop at ``threads`` threads (0: torch's default, a thread per core).
BUSY = """
import sys, torch
if int(sys.argv[1]):
    torch.set_num_threads(int(sys.argv[1]))
a = torch.randn(512, 512)
while True:
    a @ a
"""


def run(threads: str, steps: int, size: int, batch: int, **extra_env: str) -> dict:
    """One timing in a fresh process (``threads``: a count, "0" for torch's default, "auto"), with
    ``extra_env`` set in its environment."""
    env = {**{k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"}, **extra_env}
    out = subprocess.run([sys.executable, "-c", STEP, threads, str(steps), str(size), str(batch)],
                         capture_output=True, text=True, check=True, env=env)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=12)
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--batch", type=int, default=16)
    args = parser.parse_args()
    cores = len(os.sched_getaffinity(0))
    rows = {}
    for t in range(1, cores + 1):
        rows[f"idle, {t} thread{'s' if t > 1 else ''}"] = run(str(t), args.steps, args.size, args.batch)
    rows["idle, stimgen's default"] = run("auto", args.steps, args.size, args.batch)
    rows[f"idle, {cores} threads waiting passively"] = run(str(cores), args.steps, args.size, args.batch,
                                                           OMP_WAIT_POLICY="PASSIVE")
    for busy_threads, what in (("1", "a one-thread job"), ("0", "a job at torch's default threads")):
        busy = subprocess.Popen([sys.executable, "-c", BUSY, busy_threads])
        try:
            time.sleep(2)
            rows[f"beside {what}, torch's default"] = run("0", args.steps, args.size, args.batch)
            rows[f"beside {what}, stimgen's default"] = run("auto", args.steps, args.size, args.batch)
            rows[f"beside {what}, {cores} threads waiting passively"] = run(
                str(cores), args.steps, args.size, args.batch, OMP_WAIT_POLICY="PASSIVE")
        finally:
            busy.kill()
    best = min(r["s_per_step"] for k, r in rows.items() if k.startswith("idle"))
    print(f"{cores} cores; first-look GAIA step (batch {args.batch}, {args.size} x {args.size}); "
          f"median of {args.steps}")
    for name, r in rows.items():
        print(f"{name:58s} {r['threads']:3d} threads  {r['s_per_step']:6.3f} s/step  {r['s_per_step'] / best:5.2f}x "
              "the best idle")


if __name__ == "__main__":
    main()
