r"""Training curves of one or more runs, from their metrics.csv, as one PNG for docs/.

    python experiments/training_curves.py runs/vowels-world-gaia runs/vowels-world-ae \
        --out docs/img/vowels-world-curves.png

One panel per loss that any of the runs logs (GAIA: L_x, L_gen, L_int, delta_D; AE: L_rec, ...),
each run a line, the raw values faint and a running median of 5 logs on top.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

PANELS = ("L_x", "L_gen", "L_int", "L_dist", "delta_D", "L_rec")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("runs", nargs="+", type=Path)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    logs = {run.name: pd.read_csv(run / "metrics.csv") for run in args.runs}
    panels = [p for p in PANELS if any(p in log for log in logs.values())]
    fig, axes = plt.subplots(1, len(panels), figsize=(3.4 * len(panels), 3.2), squeeze=False)
    for ax, panel in zip(axes[0], panels):
        for name, log in logs.items():
            if panel in log:
                line, = ax.plot(log["step"], log[panel], alpha=0.3, lw=0.8)
                ax.plot(log["step"], log[panel].rolling(5, center=True, min_periods=1).median(), color=line.get_color(),
                        lw=1.5, label=name)
        ax.set(title=panel, xlabel="step")
        ax.legend(fontsize=7)
    fig.tight_layout()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.out, dpi=100)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
