"""Benchmark: training throughput of GAIA against an AE on the same networks, and against the
machine's own matmul peak. Run from the repository root:

    python experiments/bench_train.py [--size 64] [--batch 64] [--steps 10] [--device cpu]

In one run it measures (medians over ``--steps`` timed steps after two warm-up steps):
- samples/s of a GAIA step and of an AE step (same generator network; the default
  ``stimgen train`` settings: width 16, up to 128 channels, 64 latent units), and their ratio
  (goal: a GAIA step at most 4x an AE step: it runs D three times and G's decoder twice);
- the machine's float32 matmul peak (a 2048 x 2048 torch matmul, median of 10);
- the FLOPs of one step (counted by torch.utils.flop_counter over the forward and backward
  passes) and the share of the peak a step reaches (FLOPs x steps/s / peak; goal >= 30 %).
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
from torch.utils.flop_counter import FlopCounterMode

from stimgen.train import TrainSettings, make_model


def matmul_peak(device: torch.device, n: int = 2048, repeats: int = 10) -> float:
    a, b = torch.randn(n, n, device=device), torch.randn(n, n, device=device)
    times = []
    for _ in range(repeats + 2):
        _sync(device)
        t0 = time.perf_counter()
        a @ b
        _sync(device)
        times.append(time.perf_counter() - t0)
    return 2 * n**3 / statistics.median(times[2:])


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def measure(kind: str, size: int, batch: int, steps: int, device: torch.device) -> dict:
    settings = TrainSettings(model=kind, batch_size=batch, device=device.type,
                             **({"warmup_steps": 0} if kind == "gaia" else {}))  # GAIA's own step, not its warm-up
    torch.manual_seed(0)
    model = make_model(settings, (1, size, size)).to(device).train()
    optimizers = model.configure_optimizers()
    rng = torch.Generator().manual_seed(0)
    x = torch.rand(batch, 1, size, size, device=device)
    counter = FlopCounterMode(display=False)
    with counter:
        model.train_step(x, optimizers, rng)
    flops = counter.get_total_flops()
    times = []
    for i in range(steps + 2):
        _sync(device)
        t0 = time.perf_counter()
        model.train_step(x, optimizers, rng)
        _sync(device)
        if i >= 2:
            times.append(time.perf_counter() - t0)
    step = statistics.median(times)
    return {"step_s": step, "samples_per_s": batch / step, "flops": flops}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--device", default="cpu")
    args = ap.parse_args()
    device = torch.device(args.device)
    peak = matmul_peak(device)
    print(f"torch {torch.__version__}, device {device}, threads {torch.get_num_threads()}")
    print(f"matmul peak: {peak / 1e9:.1f} GFLOP/s (2048 x 2048 float32, median of 10)")
    results = {kind: measure(kind, args.size, args.batch, args.steps, device) for kind in ("gaia", "ae")}
    for kind, r in results.items():
        share = r["flops"] / r["step_s"] / peak
        print(f"{kind:5s} {args.size}x{args.size} batch {args.batch}: {r['samples_per_s']:7.1f} samples/s, "
              f"median step {r['step_s'] * 1e3:7.1f} ms, {r['flops'] / 1e9:6.2f} GFLOP/step, "
              f"{r['flops'] / r['step_s'] / 1e9:6.1f} GFLOP/s = {share:.0%} of the matmul peak")
    ratio = results["gaia"]["step_s"] / results["ae"]["step_s"]
    flop_ratio = results["gaia"]["flops"] / results["ae"]["flops"]
    print(f"GAIA step / AE step: {ratio:.2f}x in time (goal <= 4x), {flop_ratio:.2f}x in FLOPs")
    print(f"GAIA share of the peak: {results['gaia']['flops'] / results['gaia']['step_s'] / peak:.0%} (goal >= 30%)")


if __name__ == "__main__":
    main()
