"""How often the 95 % intervals of stimgen's d' cover the truth (issue 24), over replications.

Run from the repository root::

    python experiments/discrimination_coverage.py               # 5 replications
    python experiments/discrimination_coverage.py --replications 10

For each task and model (AX, ABX, oddity under the differencing and independent-observation
models, 2IFC) and each true d' (1 and 2), one replication is 100 simulated listeners of 100
trials each, made by the simulated observer of tests/test_discrimination.py (Gaussian noise on
the morph axis and each task's own decision rule, written apart from stimgen's formulas); each
listener's d' and 95 % interval come from :func:`stimgen.discrimination.dprime` and
:func:`~stimgen.discrimination.dprime_interval`. It prints, per case, the median estimate and the
share of listeners whose interval holds the true d', for each replication and pooled: one
replication of 100 listeners has a binomial SD of about 2 points, so a single one may fall
outside 90-99 % where the pooled share does not.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from test_discrimination import CASES, keywords, simulate  # noqa: E402  (the tests' own simulated observer)

from stimgen.discrimination import dprime, dprime_interval  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--replications", type=int, default=5)
    args = parser.parse_args()
    print("| task | model | true d' | median estimate | covered, per replication of 100 | pooled |")
    print("| --- | --- | ---: | ---: | --- | ---: |")
    for task, model in CASES:
        for true_d in (1.0, 2.0):
            covered, medians = [], []
            for replication in range(args.replications):
                rng = np.random.default_rng(1000 + replication)
                counts = keywords(simulate(task, model, true_d, rng))
                estimates = dprime(task, model=model, **counts)
                low, high = dprime_interval(task, model=model, rng=rng, **counts)
                covered.append(np.mean((low <= true_d) & (true_d <= high)))
                medians.append(np.median(estimates))
            print(f"| {task} | {model} | {true_d:g} | {np.median(medians):.3f} | "
                  f"{', '.join(f'{c:.2f}' for c in covered)} | {np.mean(covered):.3f} |")


if __name__ == "__main__":
    main()
