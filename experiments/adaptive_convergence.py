"""Do the adaptive pilots' procedures find a simulated listener's threshold in 80 trials? (issue 24, point 5)

The listener answers "B" at morph level x with probability

    P(B | x) = 0.02 + 0.96 / (1 + exp(-(x - T) / 0.06))

(lapses of 2 % at each end; slope 4.0 per unit of morph level at T, the 10-90 % width of the
boundary 0.26), T drawn uniformly from [0.25, 0.75] (seeded). The true threshold is the level
where P(B) is the target: T for 50 %, T + 0.06 ln(0.73 / 0.23) = T + 0.069 for 75 %. Each run has
80 trials on a continuum of 101 steps (levels 0, 0.01, ..., 1; every level presented as its
nearest step, as the page and the default PsychoPy script do), from level 0.5, with the settings
`stimgen pilot --task staircase|quest --target P` writes (stimgen/options.py).

Three runners, each with the procedures' own code:
- PsychoPy: the pilot's psychopy_<task>.py, its handler (PsychoPy's StairHandler as the weighted
  up-down staircase, or QuestHandler) and its trials() loop over the continuum's steps, no window;
- node: stimgen/assets/pilot/adaptive.js (the page's procedures) with the same listener;
- the page itself, index.html?simulate=1 in headless Chromium (fewer runs: a page per run).

Reported per runner, procedure and target: the share of runs whose estimate (staircase: the mean
of its reversals after the first 3; QUEST: the posterior mean) lies within 0.05 of the true
threshold (the goal: >= 80 %), the median and 90th percentile of the absolute error, and the
coverage of the 95 % interval stimgen fit gives (QUEST's posterior interval; the staircase's
parametric bootstrap, 200 samples, on the first --staircase-intervals PsychoPy runs).

    python experiments/adaptive_convergence.py --runs 200 --browser-runs 40 --out /tmp/adaptive

prints a table (docs/pilot.md quotes it) and writes results.json, staircase-0.5.png and
quest-0.5.png (the first page run of each through stimgen fit) to --out. A 101-step continuum
of the digits model is made in --out (3 s; the procedures do not depend on what the stimuli are).
"""

from __future__ import annotations

import argparse
import html
import importlib.util
import json
import math
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from test_pilot import CHROMIUM, browser_dom  # noqa: E402  (the browser tests' own runner and harness)
from test_pilot_discrimination import HARNESS  # noqa: E402

SPREAD, LAPSE, TRIALS = 0.06, 0.02, 80
TARGETS = (0.5, 0.75)
NODE_RUNNER = r"""
const A = require(process.argv[1]);
const input = JSON.parse(require("fs").readFileSync(0, "utf8"));
function mulberry(seed) {
  let state = seed;
  return function () {
    state = (state + 0x6D2B79F5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const random = mulberry(input.seed);
process.stdout.write(JSON.stringify(input.thresholds.map(T => {
  const p = A.fromSettings(input.settings);
  for (let k = 0; k < input.trials; k++) {
    const x = p.next(), shown = input.steps[A.nearest(input.steps, x)];
    p.update(random() < input.lapse + (1 - 2 * input.lapse) / (1 + Math.exp(-(shown - T) / input.spread)) ? 1 : 0,
             shown);
  }
  if (input.settings.task === "staircase") return [p.threshold(input.settings.staircase.discard), null, null];
  const ci = p.interval(0.95);
  return [p.mean(), ci[0], ci[1]];
})));
"""


def true_threshold(t: float, target: float) -> float:
    """The level where the listener's P(B) is ``target``."""
    return t + SPREAD * math.log((target - LAPSE) / (1 - LAPSE - target))


def listener(t: float, rng):
    return lambda x: int(rng.random() < LAPSE + (1 - 2 * LAPSE) / (1 + math.exp(-(x - t) / SPREAD)))


def make_continuum(out: Path) -> Path:
    import numpy as np
    from PIL import Image

    from stimgen import load_model
    from stimgen.export import export
    from stimgen.morph.continuum import continuum
    from stimgen.options import ADAPTIVE_STEPS, RenderSettings

    folder = out / "digits-101"
    if (folder / "manifest.json").is_file():
        return folder
    yy, xx = np.mgrid[:32, :32]
    Image.fromarray(((np.abs(np.hypot(yy - 16, xx - 16) - 9) < 2.5) * 255).astype(np.uint8)).save(out / "ring.png")
    Image.fromarray(((np.abs(xx - 16) < 2) * (np.abs(yy - 16) < 12) * 255).astype(np.uint8)).save(out / "bar.png")
    export(continuum(load_model("digits"), out / "ring.png", out / "bar.png", steps=ADAPTIVE_STEPS), folder,
           RenderSettings(), "experiments/adaptive_convergence.py", False)
    return folder


def psychopy_runs(pilot: Path, thresholds, seed: int, intervals: int) -> list[tuple]:
    """Each threshold's run through the pilot's PsychoPy script (its handler and trials(), no window):
    (estimate, interval low, interval high); a staircase's interval (stimgen fit's, 200 bootstrap
    samples) for the first ``intervals`` runs only (each takes seconds)."""
    from psychopy import logging

    logging.console.setLevel(logging.ERROR)
    from stimgen.adaptive import make_procedure
    from stimgen.adaptive_data import _psychometric, staircase_threshold

    settings = json.loads((pilot / "pilot.json").read_text())
    spec = importlib.util.spec_from_file_location("script", pilot / f"psychopy_{settings['task']}.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    steps = script.Steps()
    rng = np.random.default_rng(seed)
    out = []
    for t in thresholds:
        answer, stairs = listener(t, rng), script.handler()
        shown_levels, answers = [], []
        for _trial, _asked, shown, _file, _ in script.trials(stairs, steps):
            b = answer(shown)
            stairs.addResponse(b, shown)
            shown_levels.append(shown)
            answers.append(b)
        if settings["task"] == "quest":
            out.append((stairs.mean(), stairs.quantile(0.025), stairs.quantile(0.975)))
            continue
        replay = make_procedure(settings)   # stimgen fit's replay, for its estimate and interval
        for level, b in zip(shown_levels, answers):
            replay.next()
            replay.update(b, level)
        assert replay.reversal_levels == stairs.reversalIntensities
        estimate = replay.threshold(settings["staircase"]["discard"])[0]
        if len(out) >= intervals:
            out.append((estimate, None, None))
            continue
        function, fit, refits = _psychometric(shown_levels, answers, "logistic", settings["target"], 200,
                                              seed + len(out))
        ci = staircase_threshold(replay, TRIALS, settings, np.asarray(steps.levels), refits,
                                 np.random.default_rng(seed + len(out)))["ci"]
        # the alternatives stimgen fit does not use: every simulated listener the fitted function
        # itself, and the mean +- 1.96 SD / sqrt(n) of the reversals
        single = staircase_threshold(replay, TRIALS, settings, np.asarray(steps.levels), [fit] * len(refits),
                                     np.random.default_rng(seed + len(out)))["ci"]
        _, sd, n = replay.threshold(settings["staircase"]["discard"])
        naive = (estimate - 1.96 * sd / math.sqrt(n), estimate + 1.96 * sd / math.sqrt(n))
        out.append((estimate, *ci, function.get("slope"), single, naive))
    return out


def node_runs(pilot: Path, thresholds, seed: int) -> list[tuple]:
    import stimgen

    settings = json.loads((pilot / "pilot.json").read_text())
    steps = [float(x) for x in np.round(np.linspace(0, 1, settings["steps"]), 4)]
    js = Path(stimgen.__file__).parent / "assets" / "pilot" / "adaptive.js"
    done = subprocess.run(["node", "-e", NODE_RUNNER, str(js)], capture_output=True, text=True, check=True,
                          input=json.dumps({"settings": settings, "thresholds": list(thresholds), "seed": seed,
                                            "trials": TRIALS, "steps": steps, "spread": SPREAD, "lapse": LAPSE}))
    return [tuple(r) for r in json.loads(done.stdout)]


def browser_runs(root: Path, name: str, thresholds, seed: int, target: float) -> list[tuple]:
    """Each threshold's run of the page (index.html?simulate=1) in one headless Chromium; every CSV
    through stimgen's replay (what stimgen fit does) for the estimate."""
    import pandas as pd

    from stimgen.adaptive_data import quest_threshold, read_run

    assert CHROMIUM, "no Chromium: apt-get install chromium (Debian)"
    # the page's listener is centred on pse with lapses at both ends: P(B) = 0.5 at pse
    pages = [f"{name}/index.html?simulate=1&participant=r{k}&seed={seed + k}&pse={t:.6f}&spread={SPREAD}"
             f"&lapse={LAPSE}" for k, t in enumerate(thresholds)]
    (root / f"harness-{name}.html").write_text(HARNESS.replace("PAGES", json.dumps(pages)))
    dom = browser_dom(root, f"harness-{name}.html", budget_ms=600_000_000, timeout=3000)
    found = re.findall(r'<pre class="stimgen-data">(.*?)</pre>', dom, re.DOTALL)
    assert len(found) == len(pages), f"{len(found)} of {len(pages)} pages ended"
    pilot = root / name
    settings = json.loads((pilot / "pilot.json").read_text())
    manifest = pd.read_csv(pilot / "manifest.csv")
    out = []
    for k, csv in enumerate(found):
        data = pilot / "data" / f"r{k}.csv"
        data.write_text(html.unescape(csv))
        _, procedure, _ = read_run(data, settings, manifest, None)
        if settings["task"] == "quest":
            t = quest_threshold(procedure)
            out.append((t["estimate"], *t["ci"]))
        else:
            out.append((procedure.threshold(settings["staircase"]["discard"])[0], None, None))
    return out


def summary(results: list[tuple], truth: np.ndarray) -> dict:
    estimate = np.array([r[0] for r in results], dtype=float)
    error = np.abs(estimate - truth)
    row = {"runs": len(results), "within_0.05": float(np.mean(error <= 0.05)),
           "median_error": float(np.median(error)), "p90_error": float(np.percentile(error, 90)),
           "bias": float(np.mean(estimate - truth))}
    given = np.array([r[1] is not None for r in results])
    if given.any():
        low = np.array([r[1] for r in results], dtype=object)[given].astype(float)
        high = np.array([r[2] for r in results], dtype=object)[given].astype(float)
        row.update(coverage=float(np.mean((low <= truth[given]) & (truth[given] <= high))),
                   median_width=float(np.median(high - low)), intervals=int(given.sum()))
    slopes = [r[3] for r in results if len(r) > 3 and r[3] is not None]
    if slopes:   # the psychometric function fitted to each run's trials (the listener's: 4.0)
        row["median_fitted_slope"] = float(np.median(slopes))
        for k, name in ((4, "coverage_single_fit"), (5, "coverage_sd")):
            row[name] = float(np.mean([r[k][0] <= t <= r[k][1] for r, t in zip(results, truth) if len(r) > k]))
    return row


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200, help="simulated listeners per procedure and target")
    parser.add_argument("--browser-runs", type=int, default=40, help="page runs per procedure (target 0.5)")
    parser.add_argument("--staircase-intervals", type=int, default=100,
                        help="PsychoPy staircase runs (target 0.5) whose interval is computed, as stimgen fit does")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    from stimgen.discrimination_data import describe, fit_files
    from stimgen.pilot import make_pilot

    args.out.mkdir(parents=True, exist_ok=True)
    start = time.time()
    cont = make_continuum(args.out)
    rng = np.random.default_rng(args.seed)
    listeners = rng.uniform(0.25, 0.75, args.runs)
    table, results = [], {}
    for task in ("staircase", "quest"):
        for target in TARGETS:
            name = f"{task}-{target:g}"
            shutil.rmtree(args.out / name, ignore_errors=True)   # a previous run's, with its data files
            pilot = make_pilot(cont, args.out / name, task=task, target=target)
            truth = np.array([true_threshold(t, target) for t in listeners])
            intervals = args.staircase_intervals if target == 0.5 else 0
            for runner, found in (("PsychoPy", psychopy_runs(pilot, listeners, args.seed, intervals)),
                                  ("node (adaptive.js)", node_runs(pilot, listeners, args.seed))):
                results[f"{name} {runner}"] = row = summary(found, truth)
                table.append((runner, task, target, row))
            if target == 0.5 and args.browser_runs and shutil.which("chromium"):
                some = listeners[:args.browser_runs]
                found = browser_runs(args.out, name, some, args.seed, target)
                results[f"{name} page"] = row = summary(found, truth[:args.browser_runs])
                table.append(("page (Chromium)", task, target, row))
    for name in ("staircase-0.5", "quest-0.5"):   # the first page run of each, through stimgen fit
        example = sorted((args.out / name / "data").glob("r*.csv"))[:1]
        if example:
            print(describe(fit_files(example, args.out / f"{name}-fit", force=True)))
            shutil.copy(args.out / f"{name}-fit" / "fit.png", args.out / f"{name}.png")
    (args.out / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    print(f"\n{TRIALS} trials, 101 steps, listener slope 4.0/unit (spread {SPREAD}), lapses {LAPSE:g}; "
          f"thresholds uniform in [0.25, 0.75]; seed {args.seed}; {time.time() - start:.0f} s\n")
    for runner, task, target, row in table:
        if "median_fitted_slope" in row:
            print(f"{runner} {task} {target:g}: median slope of the function fitted to a run's trials "
                  f"{row['median_fitted_slope']:.2f} per unit (the listener's: 4.00); the 95 % interval simulated "
                  f"with that function alone covers {row['coverage_single_fit']:.0%}, the mean +- 1.96 SD / sqrt(n) "
                  f"of the reversals {row['coverage_sd']:.0%}\n")
    print("| runner | procedure | target P(B) | runs | within 0.05 | median abs. error | 90th pct | bias | "
          "95 % interval covers | median width |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for runner, task, target, row in table:
        cover = (f"{row['coverage']:.0%} ({row['intervals']}) | {row['median_width']:.3f}" if "coverage" in row
                 else "- | -")
        print(f"| {runner} | {task} | {target:g} | {row['runs']} | {row['within_0.05']:.1%} | "
              f"{row['median_error']:.3f} | {row['p90_error']:.3f} | {row['bias']:+.3f} | {cover} |")


if __name__ == "__main__":
    sys.exit(main())
