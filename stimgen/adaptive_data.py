"""Adaptive runs' data: what an adaptive pilot's PsychoPy script and page write, replayed and fitted.

A run's data file (one run per file) has a row per trial, in order: ``trial`` (from 1), ``task``
(``staircase`` or ``quest``), ``intensity`` (the level the procedure asked for), ``morph_level``
(the level presented: the nearest step's, with its ``stim_file``, or the level itself to 4
decimals where the stimulus was made on demand), ``response_b`` (1: "B"; or the pilot's labels),
and, where the runners write them, ``continuum`` (the manifest's tag) and ``participant``.

:func:`fit_adaptive` replays every run with its pilot's procedure (pilot.json's settings,
:func:`stimgen.adaptive.make_procedure`): every row's ``intensity`` must be the level the
procedure asks for after the rows before it, and its ``morph_level`` the one that presents it,
so a run that was edited, cut in the middle, reordered or run with other settings is refused
with the first row that disagrees. Then the threshold (the level where P("B") is the target):

- staircase: the mean of the levels at its reversals after the first ``discard`` (an even number
  of them), their SD, and a 95 % interval from a parametric bootstrap of the procedure: the same
  staircase run once by a listener with each of the ``n_boot`` bootstrap refits of the
  psychometric function fitted to the run's trials (so that the simulated listeners carry the
  function's own uncertainty, its slope above all, which adaptive data leave loose); the
  interval is the run's estimate less the 97.5 and 2.5 percentiles of the simulated estimates'
  errors (a basic bootstrap). Where no function can be fitted, the mean plus or minus
  1.96 SD / sqrt(n) of the reversals.
- QUEST: the posterior's mean and its central 95 % interval (quantiles 0.025 and 0.975).

and the psychometric function (:mod:`stimgen.psychometric`) fitted to each run's trials and to
all of them (``pooled``, with its data per level, as ``stimgen fit`` writes for identification).

Examples
--------
>>> fit_adaptive(["i-a-quest/data/P01.csv"], "quest-fit")      # doctest: +SKIP
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd

from stimgen.errors import StimgenError
from stimgen.options import ADAPTIVE_TASKS, N_BOOT, N_BOOT_RANGE, SEED, SIGMOID, check_seed, check_whole
from stimgen.trial_table import cell_text as _text
from stimgen.trial_table import read_trials

#: The columns a run's data file must have.
REQUIRED = ("trial", "task", "intensity", "morph_level", "response_b")
#: How far a recorded level may lie from the replayed one (CSV round trips keep 15 significant digits at worst).
TOLERANCE = 1e-6
_TEXT = ("task", "stim_file", "response", "response_label", "response_b", "participant", "continuum")


def read_run(file: Path, settings: dict, manifest: pd.DataFrame, tag: str | None) -> tuple[pd.DataFrame, object, int]:
    """One run's trials, replayed with the procedure of ``settings`` (pilot.json) over the
    continuum's ``manifest``: the table (``participant``, ``trial``, ``intensity``,
    ``morph_level``, ``response_b``, ``row``), the procedure after the run, and the rows skipped
    (unanswered, at the end). Every problem is one :class:`StimgenError` naming the file and row."""
    from stimgen.adaptive import make_procedure, nearest

    table = read_trials(file, _TEXT)
    missing = [c for c in REQUIRED if c not in table.columns]
    if missing:
        raise StimgenError(f"has no {', '.join(missing)} column{'s' if len(missing) > 1 else ''} (an adaptive run's "
                           f"data file holds {', '.join(REQUIRED)} per trial)", path=file)
    table = table[table["task"].fillna("").str.strip() != ""]
    answered = table["response_b"].fillna("").str.strip() != ""
    last = int(np.flatnonzero(answered.to_numpy())[-1]) + 1 if answered.any() else 0
    skipped = len(table) - last
    table = table.iloc[:last]
    if table.empty:
        raise StimgenError("holds no answered trials", path=file)
    labels = settings.get("labels") or []
    answers = {"0": 0, "1": 1, "0.0": 0, "1.0": 1, **{str(label): b for b, label in enumerate(labels)}}
    levels = manifest["morph_level"].to_numpy(dtype=np.float64)
    files = manifest["stim_file"].astype(str).tolist()
    by_file = dict(zip(files, levels))
    procedure = make_procedure(settings)
    task = settings["task"]
    rows = []
    for k, (index, cells) in enumerate(zip(table.index, table.to_dict("records")), start=1):
        row = index + 2

        def bad(problem: str, row=row):
            raise StimgenError(f"row {row}: {problem}", path=file)

        if str(cells["task"]).strip() != task:
            bad(f"task is {str(cells['task']).strip()!r}, but the run's pilot is a {task} pilot")
        if tag is not None and _text(cells.get("continuum")) not in ("", tag):
            bad(f"is of another continuum ({_text(cells['continuum'])}) than {tag} (the manifest it is fitted with)")
        trial = _number(cells["trial"])
        if trial != k:
            bad(f"trial is {_text(cells['trial'])!r} where trial {k} comes: a file holds one run, its trials in order")
        values = {}
        for column in ("intensity", "morph_level"):
            value = _number(cells[column])
            if not (math.isfinite(value) and 0.0 <= value <= 1.0):
                bad(f"{column} is {_text(cells[column])!r}: morph levels lie in [0, 1]")
            values[column] = value
        answer = _text(cells["response_b"])
        if answer not in answers:
            bad(f"response_b is {answer!r}, not 0 or 1" + (f" ({labels[0]!r} or {labels[1]!r})" if labels else ""))
        asked = procedure.next()
        if abs(values["intensity"] - asked) > TOLERANCE:
            bad(f"intensity {values['intensity']:.6g} is not the level the {task} asks for after the rows before it "
                f"({asked:.6g}): rows edited, reordered or left out, or a run of other settings than its "
                "pilot.json's")
        stim = _text(cells.get("stim_file"))
        if stim:   # rendered ahead: the nearest step
            if stim not in by_file:
                bad(f"{stim!r} is not a stimulus of the continuum")
            step = nearest(levels, asked)
            if stim != files[step]:
                bad(f"stim_file is {stim}, but the step nearest to intensity {asked:.6g} is {files[step]}")
            shown = float(levels[step])
        else:      # made on demand at the level itself
            shown = round(asked, 4)
        if abs(values["morph_level"] - shown) > TOLERANCE:
            bad(f"morph_level {values['morph_level']:g} is not the level that presents intensity {asked:.6g} "
                f"({shown:g})")
        procedure.update(answers[answer], shown)
        rows.append({"participant": _text(cells.get("participant")) or file.stem, "trial": k, "intensity": asked,
                     "morph_level": shown, "response_b": answers[answer], "row": row})
    return pd.DataFrame(rows), procedure, skipped


def _number(value) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def staircase_threshold(procedure, trials: int, settings: dict, steps: np.ndarray | None, refits: list,
                        rng: np.random.Generator) -> dict:
    """A staircase run's threshold: the mean of its reversals after the first ``discard`` (even
    in number), their SD, and the 95 % interval: the run's staircase (``trials`` trials, levels
    presented as the nearest of ``steps``, or to 4 decimals) run once by a listener with each of
    ``refits`` (the bootstrap refits of the function fitted to the run's trials), the estimate
    less the 97.5 and 2.5 percentiles of their errors; without refits, the mean plus or minus
    1.96 SD / sqrt(n)."""
    from stimgen.adaptive import run

    discard = settings["staircase"]["discard"]
    estimate, sd, used = procedure.threshold(discard)
    result = {"estimate": None, "ci": None, "sd": None, "reversals": len(procedure.reversal_levels),
              "reversals_used": used,
              "method": f"mean of the levels at the reversals after the first {discard} (an even number of them)"}
    if used < 2:
        result["not_estimated"] = (f"{len(procedure.reversal_levels)} reversals: the estimate needs 2 or more after "
                                   f"the first {discard}")
        return result
    result.update(estimate=estimate, sd=sd)
    target = settings["target"]
    errors = []
    for fit in refits:   # each simulated listener is one of the function's bootstrap refits
        try:
            truth = float(fit.level(target))
        except StimgenError:
            continue
        probability: dict[float, float] = {}   # P("B") at each level presented, computed once

        def answer(level: float, fit=fit, probability=probability) -> int:
            if level not in probability:
                probability[level] = float(fit.probability(level))
            return int(rng.random() < probability[level])

        simulated = run(settings, answer, trials, steps)[0].threshold(discard)[0]
        if math.isfinite(simulated):
            errors.append(simulated - truth)
    if len(errors) < max(20, len(refits) // 2):
        half = 1.96 * sd / math.sqrt(used)
        result.update(ci=[estimate - half, estimate + half],
                      ci_method="mean +- 1.96 SD / sqrt(n) of the reversals used (too few simulated runs: no "
                                "psychometric function fitted to the run, or too few reversals in its simulations)")
        return result
    low, high = np.percentile(errors, [2.5, 97.5])
    result.update(ci=[float(estimate - high), float(estimate - low)],
                  ci_method=f"parametric bootstrap: the staircase run once by a listener with each of the "
                            f"{len(errors)} bootstrap refits of the run's psychometric function; its estimate less the "
                            "97.5 and 2.5 percentiles of their errors")
    return result


def quest_threshold(procedure) -> dict:
    """A QUEST run's threshold: the posterior's mean, SD and central 95 % interval."""
    low, high = procedure.interval(0.95)
    return {"estimate": procedure.mean(), "ci": [low, high], "sd": procedure.sd(),
            "method": "QUEST's posterior mean (Watson & Pelli 1983; King-Smith et al. 1994); 95 % interval between "
                      "its 2.5 % and 97.5 % quantiles"}


def _psychometric(levels, responses, sigmoid: str, target: float, n_boot: int, seed: int):
    """The psychometric function of the trials as a dict (with the 95 % intervals of
    :func:`stimgen.psychometric.bootstrap`), the fit, and its bootstrap refits; or
    ``{"not_fitted": why}``, None and []."""
    import dataclasses

    from stimgen.psychometric import bootstrap_fits, fit_psychometric

    try:
        fit = fit_psychometric(levels, responses, sigmoid)
    except StimgenError as exc:
        return {"not_fitted": exc.problem}, None, []
    refits = bootstrap_fits(fit, levels, responses, n_boot, seed)

    def interval(values: list[float]) -> tuple[float, float]:
        low, high = np.percentile(values, [2.5, 97.5])
        return float(low), float(high)

    fit = dataclasses.replace(fit, pse_ci=interval([f.pse for f in refits]),
                              slope_ci=interval([f.slope for f in refits]))
    d = fit.to_dict()
    try:
        d["level_at_target"] = float(fit.level(target))
    except StimgenError:
        d["level_at_target"] = None
    return d, fit, refits


def fit_adaptive(files: list, out, manifest=None, sigmoid: str = SIGMOID, n_boot: int = N_BOOT, seed: int = SEED,
                 force: bool = False, command: str | None = None) -> Path:
    """Fit adaptive runs (one per data file, all of one pilot's procedure) and write ``out``:
    ``fit.json`` and ``fit.png`` (see the module's docstring).

    The files must lie in their pilot's folder (its pilot.json holds the procedure's settings);
    ``manifest`` (the continuum's manifest.csv) is checked against the pilot's where given.
    """
    from stimgen import __version__
    from stimgen.outputs import atomic_dir, check_output, file_sha256
    from stimgen.pilot import _check_distinct, _check_pilot_of, _continuum, _pilot_folder, _pilot_record
    from stimgen.psychometric import _steps, falls

    n_boot = check_whole(n_boot, "--bootstrap", *N_BOOT_RANGE, why=" (every sample is refitted in memory)")
    seed = check_seed(seed)
    files = [Path(f) for f in files]
    if not files:
        raise StimgenError("give one or more data files")
    if manifest is not None and not Path(manifest).is_file():
        raise StimgenError("no such file: --continuum must be a continuum folder stimgen continuum wrote",
                           path=manifest)
    _check_distinct(files)
    inputs = [*files, *([Path(manifest).parent] if manifest is not None else [])]
    out = check_output(out, force, inputs=inputs)
    continuum = None if manifest is None else _continuum(Path(manifest))
    rng = np.random.default_rng(seed)
    runs, tables, fits, settings, manifest_path, skipped = [], [], [], None, None, 0
    for file in files:
        folder = _pilot_folder(file)
        if folder is None:
            raise StimgenError("lies in no pilot folder: an adaptive run is replayed with its pilot's settings "
                               "(pilot.json); keep the data file in the pilot's data/ folder", path=file)
        pilot = _pilot_record(folder)
        man_path = continuum if continuum is not None else folder / "manifest.csv"
        _check_pilot_of(file, folder, pilot, man_path)
        task = pilot.get("task", "identification")
        if task not in ADAPTIVE_TASKS:
            raise StimgenError(f"lies in the {task} pilot {folder}, not an adaptive one", path=file)
        if settings is None:
            settings, manifest_path, first = pilot, man_path, file
        elif task != settings["task"]:
            raise StimgenError(f"is a {task} run, {first} a {settings['task']} run: fit each procedure on its own",
                               path=file)
        elif file_sha256(man_path) != file_sha256(manifest_path):
            raise StimgenError(f"is a run on another continuum than {first}: fit each continuum on its own", path=file)
        elif _procedure(pilot) != _procedure(settings):
            raise StimgenError(f"is a run of other procedure settings than {first} (their pilot.json differ): fit "
                               "them apart", path=file)
        steps_table = pd.read_csv(man_path)
        tag = f"sha256:{file_sha256(man_path)[:16]}"
        trials, procedure, dropped = read_run(file, pilot, steps_table, tag)
        skipped += dropped
        levels = steps_table["morph_level"].to_numpy(dtype=np.float64)
        on_demand = bool((trials["morph_level"].to_numpy()[:, None] != levels[None, :]).all(axis=1).any())
        psychometric, fit, refits = _psychometric(trials["morph_level"], trials["response_b"], sigmoid,
                                                  pilot["target"], n_boot, seed)
        if task == "staircase":
            threshold = staircase_threshold(procedure, len(trials), pilot, None if on_demand else levels, refits,
                                            rng)
        else:
            threshold = quest_threshold(procedure)
        runs.append({"file": str(file), "participant": str(trials["participant"].iloc[0]), "trials": len(trials),
                     "threshold": threshold, "psychometric": psychometric,
                     "track": {"intensity": trials["intensity"].tolist(), "morph_level": trials["morph_level"].tolist(),
                               "response_b": trials["response_b"].astype(int).tolist(),
                               "reversal_trials": [int(t) + 1 for t in getattr(procedure, "reversal_trials", [])]}})
        tables.append(trials)
        fits.append(fit)
    trials = pd.concat(tables, ignore_index=True)
    if len(runs) == 1:   # the one run's trials: its function
        pooled, fit = dict(runs[0]["psychometric"]), fits[0]
    else:
        pooled, fit, _ = _psychometric(trials["morph_level"], trials["response_b"], sigmoid, settings["target"],
                                       n_boot, seed)
    table = _steps(trials)
    if fit is not None:
        pooled["falling"] = falls(table, sigmoid)
    result = {"stimgen_version": __version__, "command": command or "stimgen Python API", "task": settings["task"],
              "target": settings["target"], "procedure": _procedure(settings),
              "function": f"P(B|x) = gamma + (1 - gamma - lapse) * F((x - alpha) / beta), F = {sigmoid}",
              "method": f"each run replayed with its pilot's settings; psychometric functions by maximum likelihood "
                        f"with 95 % intervals from a {n_boot}-sample parametric bootstrap, seed {seed}",
              "runs": runs, "pooled": pooled if fit is not None else None,
              "pooled_not_fitted": pooled.get("not_fitted"), "data": table.to_dict("records"),
              "trials": len(trials), "skipped_rows": skipped,
              "data_files": [{"file": str(f), "sha256": file_sha256(f)} for f in files],
              "manifest": {"file": str(manifest_path.resolve()), "sha256": file_sha256(manifest_path)}}
    with atomic_dir(out, force=force, inputs=[*inputs, manifest_path.parent], verb="fit") as tmp:
        (tmp / "fit.json").write_text(json.dumps(result, indent=2, allow_nan=False) + "\n")
        plot_adaptive(result, fit, tmp / "fit.png", label_b=str((settings.get("labels") or "AB")[1]))
    return out


def _procedure(pilot: dict) -> dict:
    """What a run's replay depends on in its pilot.json."""
    keys = ("task", "target", "start", "trials", pilot.get("task"))
    return {k: pilot.get(k) for k in keys if k}


def plot_adaptive(result: dict, fit, path, label_b: str = "B") -> None:
    """fit.png: every run's track (levels asked for, levels presented with the answers, the
    staircase's reversals, the threshold with its interval) and the psychometric function of all
    trials with the data per level; ``label_b``, the pilot's name for "B", labels its axis."""
    from stimgen.preview import figure

    fig = figure(figsize=(10.0, 3.8))
    left, right = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.4, 1]})
    colours = ["#2471a3", "#c0392b", "#27ae60", "#8e44ad", "#d35400", "#555"]
    for i, run in enumerate(result["runs"]):
        c = colours[i % len(colours)]
        track = run["track"]
        n = np.arange(1, len(track["intensity"]) + 1)
        shown = np.asarray(track["morph_level"])
        b = np.asarray(track["response_b"], dtype=bool)
        left.plot(n, track["intensity"], "-", color=c, lw=0.8, alpha=0.7,
                  label=f"{run['participant']}: asked" if len(result["runs"]) < 4 else None)
        left.plot(n[b], shown[b], "o", color=c, ms=3.5)
        left.plot(n[~b], shown[~b], "o", mfc="none", color=c, ms=3.5)
        if track["reversal_trials"]:
            r = np.asarray(track["reversal_trials"]) - 1
            left.plot(n[r], shown[r], "x", color="k", ms=5, lw=0.8)
        t = run["threshold"]
        if t.get("estimate") is not None:
            left.axhline(t["estimate"], color=c, lw=0.8, ls="--")
            if t.get("ci"):
                left.axhspan(*t["ci"], color=c, alpha=0.1)
    marks = ", x reversals" if result["task"] == "staircase" else ""
    left.set(xlabel="trial", ylabel="morph level", ylim=(-0.02, 1.02),
             title=f"{result['task']}: filled 'B', open 'A'{marks}; dashed: threshold (P(B) = {result['target']:g}) "
                   "and 95 %")
    left.title.set_fontsize(8)
    data = result["data"]
    x = np.array([d["morph_level"] for d in data])
    n = np.array([d["trials"] for d in data], dtype=float)
    p = np.array([d["b"] for d in data]) / n
    right.scatter(x, p, s=8 + 60 * n / n.max(), color="#333", alpha=0.7, label="data (size: trials)")
    if fit is not None:
        grid = np.linspace(0, 1, 201)
        right.plot(grid, fit.probability(grid), color="#c0392b", label=f"{fit.sigmoid} fit, PSE {fit.pse:.3f}")
    right.axhline(result["target"], color="#999", lw=0.8, ls=":")
    right.set(xlabel="morph level", ylabel=f'P("{label_b}")', xlim=(-0.02, 1.02), ylim=(-0.03, 1.03))
    right.legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def describe(path) -> str:
    """``stimgen fit``'s line for an adaptive fit written to ``path``."""
    record = json.loads((Path(path) / "fit.json").read_text())

    def threshold(run: dict) -> str:
        t = run["threshold"]
        if t.get("estimate") is None:
            return f"none ({t.get('not_estimated', 'not estimated')})"
        ci = f" [{t['ci'][0]:.3f}, {t['ci'][1]:.3f}]" if t.get("ci") else ""
        return f"{t['estimate']:.3f}{ci}"

    runs = record["runs"]
    head = f"{record['task'].upper()} (P(B) = {record['target']:g})"
    if len(runs) == 1:
        line = f"{head}: threshold {threshold(runs[0])}" + (
            f" (mean of {runs[0]['threshold']['reversals_used']} reversals)" if record["task"] == "staircase"
            else " (posterior mean)")
    else:
        line = f"{head}: {len(runs)} runs, thresholds " + ", ".join(threshold(r) for r in runs)
    pooled = record.get("pooled")
    if pooled:
        ci = pooled.get("pse_ci")
        line += (f"; psychometric function of {record['trials']} trials: PSE {pooled['pse']:.3f}"
                 + (f" [{ci[0]:.3f}, {ci[1]:.3f}]" if ci else "") + f", slope {pooled['slope']:.2f} per unit")
    else:
        line += f"; no psychometric function ({record.get('pooled_not_fitted')})"
    return f"{line}; wrote fit.json and fit.png to {path}"
