"""Discrimination data: what a discrimination pilot's PsychoPy script and page write, read back and
fitted per pair, and compared with the discrimination that identification predicts.

:func:`fit_files` is ``stimgen fit``: identification data alone go to
:func:`stimgen.psychometric.fit_data` as before; data of a discrimination task (a ``task`` column
naming ``ax``, ``abx``, ``oddity`` or ``2ifc``) are read by :func:`read_discrimination` and fitted
by :func:`fit_discrimination`: proportion correct and d' per pair (:mod:`stimgen.discrimination`,
the observer ``model``), with the identification data given beside them fitted
(:mod:`stimgen.psychometric`) and turned into the discrimination they predict
(:func:`stimgen.discrimination.predicted_from_identification`).

A discrimination data file has one row per trial with ``task``, ``order`` (the stimuli in time
order, e.g. ``ABA``; :data:`stimgen.tasks.ORDERS`), ``step_a`` and ``step_b`` (the pair's steps in
the continuum's manifest) and ``answer`` (:data:`stimgen.tasks.ANSWERS`); what the pilot writes
beside them is checked where present: ``stim_i`` and ``level_i`` (the interval's stimulus and its
morph level), ``level_a`` and ``level_b``, ``correct_answer``, ``correct`` and ``continuum`` (the
manifest's tag). Rows without an answer (a trial left with Escape) are skipped and counted.

Examples
--------
>>> fit_files(["i-a-abx/data/P01.csv"], "abx-fit", identification=["i-a-pilot/data/P01.csv"])  # doctest: +SKIP
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd

from stimgen.errors import StimgenError
from stimgen.options import (
    ADAPTIVE_TASKS,
    DISCRIMINATION_MODEL,
    DISCRIMINATION_TASKS,
    N_BOOT,
    N_BOOT_RANGE,
    SEED,
    SIGMOID,
    check_seed,
    check_whole,
)
from stimgen.trial_table import cell_text as _text
from stimgen.trial_table import read_trials

#: The columns a discrimination data file must have.
REQUIRED = ("task", "order", "step_a", "step_b", "answer")
#: Predicted and measured discrimination agree when the chi-square test of the measured counts against
#: the predicted proportions (one degree of freedom per pair) gives p at least this.
AGREEMENT_ALPHA = 0.05
_TEXT = ("task", "order", "answer", "correct", "correct_answer", "continuum", "participant", "stim_1", "stim_2",
         "stim_3", "trial_file")


def data_task(file: str | Path) -> str:
    """The task of a data file: a discrimination task or an adaptive procedure where its ``task``
    column names one (every row the same one, else an error naming the row), else ``"identification"``."""
    table = read_trials(Path(file), _TEXT)
    if "task" not in table.columns:
        return "identification"
    named = table["task"].map(_text)
    found = named[named.isin(DISCRIMINATION_TASKS + ADAPTIVE_TASKS)]
    if found.empty:
        return "identification"
    other = named[(named != "") & (named != found.iloc[0])]
    if not other.empty:
        raise StimgenError(f"row {other.index[0] + 2}: task is {other.iloc[0]!r}, row {found.index[0] + 2} "
                           f"{found.iloc[0]!r}: one file holds one task's trials", path=file)
    return str(found.iloc[0])


def fit_files(files: list, out, sigmoid: str = SIGMOID, manifest=None, n_boot: int = N_BOOT, seed: int = SEED,
              force: bool = False, command: str | None = None, identification: tuple = (),
              model: str = DISCRIMINATION_MODEL) -> Path:
    """``stimgen fit``: identification ``files`` alone are fitted by
    :func:`stimgen.psychometric.fit_data`, adaptive runs by :func:`stimgen.adaptive_data.fit_adaptive`;
    where some are a discrimination task's, those are fitted
    by :func:`fit_discrimination` and the others (with ``identification``) are the identification
    data of the same continuum and listeners whose predicted discrimination is set beside it."""
    from stimgen.psychometric import fit_data

    files, identification = [Path(f) for f in files], [Path(f) for f in identification]
    if not files:
        raise StimgenError("give one or more data files")
    tasks = {file: data_task(file) for file in [*files, *identification]}
    runs = [f for f in files if tasks[f] in ADAPTIVE_TASKS]
    if runs:   # adaptive runs: stimgen.adaptive_data
        from stimgen.adaptive_data import fit_adaptive

        other = next((f for f in [*files, *identification] if tasks[f] not in ADAPTIVE_TASKS), None)
        if other is not None:
            raise StimgenError(f"is {tasks[other]} data, given with the {tasks[runs[0]]} run {runs[0]}: fit each task "
                               "on its own", path=other)
        return fit_adaptive(files, out, manifest=manifest, sigmoid=sigmoid, n_boot=n_boot, seed=seed, force=force,
                            command=command)
    discrimination = [f for f in files if tasks[f] != "identification"]
    if not discrimination:
        if identification:
            raise StimgenError("--identification is for the identification data beside a discrimination task's "
                               "data; give that task's data file too", path=identification[0])
        return fit_data(files, out, sigmoid=sigmoid, manifest=manifest, n_boot=n_boot, seed=seed, force=force,
                        command=command)
    for file in identification:
        if tasks[file] != "identification":
            raise StimgenError(f"is {tasks[file]} data, given as --identification", path=file)
    ident = [f for f in files if tasks[f] == "identification"] + identification
    return fit_discrimination(discrimination, out, identification=ident, manifest=manifest, model=model,
                              sigmoid=sigmoid, n_boot=n_boot, seed=seed, force=force, command=command)


def read_discrimination(files: list, manifest=None) -> tuple[pd.DataFrame, Path, str, int]:
    """Every trial of the discrimination data ``files`` as one table, matched to the continuum's
    manifest (``manifest``, else the manifest.csv of the pilot folder the files lie in): its
    ``participant``, ``data_file``, ``row``, ``step_a``, ``step_b``, ``level_a``, ``level_b``,
    ``order``, ``answer``, ``correct`` and, for AX, ``different`` (a different pair) and
    ``says_different``. Returns the table, the manifest, the task and the rows skipped (no answer).

    Every problem is one :class:`StimgenError` naming the file (and the row): files of two tasks,
    a file whose task is not its pilot's, a file of another continuum (its pilot's manifest, or
    its ``continuum`` tag, is not the manifest's), a pair whose steps are not the continuum's, a
    level outside [0, 1] or not its stimulus's, a stimulus that is not the continuum's or not the
    one the order puts there, an order or answer the task does not have, a ``correct`` or
    ``correct_answer`` that disagrees with the order and the answer.
    """
    from stimgen.outputs import file_sha256
    from stimgen.pilot import (
        _check_distinct,
        _check_pilot_of,
        _check_same_continuum,
        _continuum,
        _pilot_folder,
        _pilot_record,
    )

    files = [Path(f) for f in files]
    if not files:
        raise StimgenError("give one or more data files")
    _check_distinct(files)
    continuum = None if manifest is None else _continuum(Path(manifest))
    tables, first, task, skipped = [], None, None, 0
    for file in files:
        found = data_task(file)
        if task is None:
            task = found
        elif found != task:
            raise StimgenError(f"holds {found} trials, {first[0]} {task} trials: fit each task on its own", path=file)
        folder = _pilot_folder(file)
        pilot = _pilot_record(folder) if folder else None
        man_path = continuum if continuum is not None else (folder / "manifest.csv" if folder else None)
        if man_path is None:
            raise StimgenError("lies in no pilot folder: give the continuum it was run on with --continuum", path=file)
        if pilot is not None:
            _check_pilot_of(file, folder, pilot, man_path)
            if pilot.get("task", "identification") != task:
                raise StimgenError(f"holds {task} trials but lies in the {pilot.get('task', 'identification')} "
                                   f"pilot {folder}", path=file)
        first = first or (file, man_path)
        _check_same_continuum(file, man_path, *first)
        trials, dropped = _trials(file, task, pd.read_csv(man_path), f"sha256:{file_sha256(man_path)[:16]}")
        tables.append(trials)
        skipped += dropped
    trials = pd.concat(tables, ignore_index=True)
    if trials.empty:
        raise StimgenError("holds no answered trials", path=files[0])
    return trials, first[1], task, skipped


def _trials(file: Path, task: str, manifest: pd.DataFrame, tag: str) -> tuple[pd.DataFrame, int]:
    """One file's trials, checked row by row against ``task`` and the continuum's ``manifest``."""
    from stimgen.tasks import ANSWERS, ORDERS, correct_answer, intervals

    table = read_trials(file, _TEXT)
    missing = [c for c in REQUIRED if c not in table.columns]
    if missing:
        raise StimgenError(f"has no {', '.join(missing)} column{'s' if len(missing) > 1 else ''} (a discrimination "
                           f"data file holds {', '.join(REQUIRED)} per trial)", path=file)
    table = table[table["task"].map(_text) != ""]
    steps = {int(s): (str(f), float(x)) for s, f, x in zip(manifest["step"], manifest["stim_file"],
                                                           manifest["morph_level"])}
    by_file = {f: (s, x) for s, (f, x) in steps.items()}
    n = intervals(task)
    rows, skipped = [], 0
    for index, cells in zip(table.index, table.to_dict("records")):
        row = index + 2

        def bad(problem: str, row=row):
            raise StimgenError(f"row {row}: {problem}", path=file)

        answer = _text(cells["answer"]).lower()
        if answer == "":
            skipped += 1
            continue
        if _text(cells.get("continuum")) not in ("", tag):
            bad(f"is of another continuum ({_text(cells['continuum'])}) than {tag} (the manifest it is fitted with)")
        order = _text(cells["order"]).upper()
        if order not in ORDERS[task]:
            bad(f"order {order!r} is not one of {task}'s ({', '.join(ORDERS[task])})")
        pair = []
        for column in ("step_a", "step_b"):
            value = pd.to_numeric(pd.Series([cells[column]]), errors="coerce").iloc[0]
            if not (np.isfinite(value) and float(value).is_integer()):
                bad(f"{column} is {_text(cells[column])!r}, not a step number")
            pair.append(int(value))
        a, b = pair
        if a not in steps or b not in steps or b <= a:
            missing_step = a if a not in steps else b
            why = (f"it has no step {missing_step} (steps {min(steps)} to {max(steps)})" if b > a else
                   "step_b must lie above step_a")
            bad(f"pair {a}-{b} is not in the continuum: {why}")
        which = {"A": a, "B": b}
        levels = {"level_a": steps[a][1], "level_b": steps[b][1]}
        for i in range(1, n + 1):
            levels[f"level_{i}"] = steps[which[order[i - 1]]][1]
        for column, expected in levels.items():
            if column in cells and _text(cells[column]) != "":
                value = pd.to_numeric(pd.Series([cells[column]]), errors="coerce").iloc[0]
                if not (np.isfinite(value) and 0 <= value <= 1):
                    bad(f"{column} is {_text(cells[column])}: morph levels lie in [0, 1]")
                if abs(value - expected) > 1e-3:
                    bad(f"{column} {value:g} is not the level of its step in the continuum ({expected:g})")
        for i in range(1, n + 1):
            stim = _text(cells.get(f"stim_{i}"))
            if stim == "":
                continue
            if stim not in by_file:
                bad(f"{stim!r} is not a stimulus of the continuum")
            want = which[order[i - 1]]
            if by_file[stim][0] != want:
                bad(f"stim_{i} is {stim} (step {by_file[stim][0]}), but order {order} puts step {want} there")
        if answer not in ANSWERS[task]:
            bad(f"answer is {_text(cells['answer'])!r}, not one of {task}'s ({', '.join(ANSWERS[task])})")
        right = correct_answer(task, order)
        if _text(cells.get("correct_answer")) not in ("", right):
            bad(f"correct_answer is {_text(cells['correct_answer'])!r}, but order {order} makes it {right!r}")
        is_correct = answer == right
        if _text(cells.get("correct")) not in ("", str(int(is_correct))):
            bad(f"correct is {_text(cells['correct'])}, but answer {answer!r} to order {order} is "
                f"{'right' if is_correct else 'wrong'}")
        rows.append({"participant": _text(cells.get("participant")) or file.stem, "data_file": file.name, "row": row,
                     "step_a": a, "step_b": b, "level_a": levels["level_a"], "level_b": levels["level_b"],
                     "order": order, "answer": answer, "correct": is_correct,
                     "different": order[0] != order[1], "says_different": answer == "different"})
    return pd.DataFrame(rows), skipped


def pair_table(trials: pd.DataFrame, task: str, model: str = DISCRIMINATION_MODEL, n_boot: int = N_BOOT,
               rng: np.random.Generator | int = SEED) -> list[dict]:
    """Per pair of ``trials`` (as :func:`read_discrimination` returns them): trials, correct answers,
    proportion correct with its 95 % Wilson interval, d' (:func:`stimgen.discrimination.dprime`;
    AX from hits on different pairs and false alarms on same pairs) with its 95 % parametric
    bootstrap interval (:func:`stimgen.discrimination.dprime_interval`)."""
    from stimgen.discrimination import dprime, dprime_interval

    rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    out = []
    for (a, b), rows in trials.groupby(["step_a", "step_b"], sort=True):
        total, correct = len(rows), int(rows["correct"].sum())
        entry = {"step_a": int(a), "step_b": int(b), "level_a": float(rows["level_a"].iloc[0]),
                 "level_b": float(rows["level_b"].iloc[0]), "trials": total, "correct": correct,
                 "pc": correct / total, "pc_ci": list(_wilson(correct, total))}
        counts: tuple = (correct, total)
        if task == "ax":
            diff, same = rows[rows["different"]], rows[~rows["different"]]
            hits, fa = int(diff["says_different"].sum()), int(same["says_different"].sum())
            entry.update(different_trials=len(diff), hits=hits, same_trials=len(same), false_alarms=fa)
            counts = (hits, len(diff), fa, len(same)) if len(same) else (hits, len(diff))
            if len(diff) == 0:
                out.append({**entry, "dprime": None, "dprime_ci": None})
                continue
        d = float(dprime(task, *counts, model=model))
        low, high = dprime_interval(task, *counts, model=model, n_boot=n_boot, rng=rng)
        out.append({**entry, "dprime": d, "dprime_ci": [float(low), float(high)]})
    return out


def _wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def predict(pairs: list[dict], fit, task: str, model: str) -> None:
    """Add to every pair the identification ``fit``'s P("B") at its two levels (``p_b_a``,
    ``p_b_b``) and the proportion correct and d' they predict (``predicted_pc``,
    ``predicted_dprime``; ``model`` ``"haskins"`` or a d' model)."""
    from stimgen.discrimination import predicted_from_identification

    pa = fit.probability([p["level_a"] for p in pairs])
    pb = fit.probability([p["level_b"] for p in pairs])
    pc = predicted_from_identification(task, pa, pb, model=model)
    for pair, x, y, c in zip(pairs, pa, pb, pc):
        pair.update(p_b_a=float(x), p_b_b=float(y), predicted_pc=float(c),
                    predicted_dprime=_dprime_of_pc(task, float(c), "differencing" if model == "haskins" else model))


def _dprime_of_pc(task: str, pc: float, model: str) -> float:
    """The d' at which ``task``'s unbiased observer has proportion correct ``pc``."""
    from scipy import optimize

    from stimgen.discrimination import CHANCE, DPRIME_MAX, proportion_correct

    if pc <= CHANCE[task]:
        return 0.0
    if float(proportion_correct(task, DPRIME_MAX, model)) <= pc:
        return DPRIME_MAX
    return float(optimize.brentq(lambda d: float(proportion_correct(task, d, model)) - pc, 0.0, DPRIME_MAX,
                                 xtol=1e-8))


def agreement(pairs: list[dict]) -> dict:
    """How well the predicted proportions correct of ``pairs`` (after :func:`predict`) match the
    measured ones: Pearson's r across pairs (null for fewer than 3 pairs or a constant), the RMS
    and mean difference (measured minus predicted), and a chi-square test of the measured counts
    against the predicted proportions (binomial variance, one degree of freedom per pair; the
    identification fit's own uncertainty is not in it); ``agrees`` when its p is at least
    :data:`AGREEMENT_ALPHA`."""
    from scipy import stats

    k = np.array([p["correct"] for p in pairs], dtype=float)
    n = np.array([p["trials"] for p in pairs], dtype=float)
    predicted = np.array([p["predicted_pc"] for p in pairs], dtype=float)
    measured = k / n
    diff = measured - predicted
    r = None
    if len(pairs) >= 3 and np.std(measured) > 0 and np.std(predicted) > 0:
        r = float(np.corrcoef(measured, predicted)[0, 1])
    q = np.clip(predicted, 1e-6, 1 - 1e-6)
    chi2 = float(np.sum((k - n * q) ** 2 / (n * q * (1 - q))))
    p_value = float(stats.chi2.sf(chi2, len(pairs)))
    return {"correlation": r, "rms_difference": float(np.sqrt(np.mean(diff ** 2))),
            "mean_difference": float(np.mean(diff)), "chi2": chi2, "df": len(pairs), "p": p_value,
            "agrees": p_value >= AGREEMENT_ALPHA,
            "measured_peak": _peak(pairs, "pc"), "predicted_peak": _peak(pairs, "predicted_pc")}


def _peak(pairs: list[dict], key: str) -> list[int]:
    best = max(pairs, key=lambda p: p[key])
    return [best["step_a"], best["step_b"]]


def fit_discrimination(files: list, out, identification: list = (), manifest=None,
                       model: str = DISCRIMINATION_MODEL, prediction: str | None = None, sigmoid: str = SIGMOID,
                       n_boot: int = N_BOOT, seed: int = SEED, force: bool = False, command: str | None = None) -> Path:
    """Fit a discrimination task's data ``files`` per pair (:func:`pair_table`), pooled and per
    listener (``participant``), and write ``out``: ``fit.json`` and ``fit.png``.

    With ``identification`` data of the same continuum and listeners, their psychometric function
    (pooled and per listener) predicts every pair's discrimination (``prediction``: ``"haskins"``,
    ABX's default, or a d' model, the others' default ``model``; see
    :func:`stimgen.discrimination.predicted_from_identification`) and :func:`agreement` states
    how well it matches. fit.png draws proportion correct and d' per pair, measured (95 %
    intervals) and predicted.
    """
    from stimgen import __version__
    from stimgen.discrimination import MODELS
    from stimgen.outputs import atomic_dir, check_output, file_sha256
    from stimgen.pilot import read_responses
    from stimgen.psychometric import bootstrap, fit_psychometric

    n_boot = check_whole(n_boot, "--bootstrap", *N_BOOT_RANGE, why=" (every sample is refitted in memory)")
    seed = check_seed(seed)
    if model not in MODELS:
        raise StimgenError(f"--model must be one of {', '.join(MODELS)}, got {model!r}")
    if manifest is not None and not Path(manifest).is_file():
        raise StimgenError("no such file: --continuum must be a continuum folder stimgen continuum wrote",
                           path=manifest)
    files, identification = [Path(f) for f in files], [Path(f) for f in identification]
    from stimgen.pilot import _check_distinct

    _check_distinct([*files, *identification])
    inputs = [*files, *identification, *([Path(manifest).parent] if manifest is not None else [])]
    out = check_output(out, force, inputs=inputs)
    trials, manifest_path, task, skipped = read_discrimination(files, manifest)
    prediction = prediction or ("haskins" if task == "abx" else model)
    rng = np.random.default_rng(seed)
    pooled = pair_table(trials, task, model, n_boot, rng)
    listeners = {str(who): {"pairs": pair_table(rows, task, model, n_boot, rng)}
                 for who, rows in trials.groupby("participant")}
    ident = None
    if identification:
        labelled, found = read_responses(identification, manifest)
        if found is None:
            raise StimgenError("carries no continuum's manifest (not in a pilot folder): give the continuum with "
                               "--continuum", path=identification[0])
        if file_sha256(found) != file_sha256(manifest_path):
            raise StimgenError(f"is identification data of another continuum than {files[0]} ({found} and "
                               f"{manifest_path} differ)", path=identification[0])
        _check_listeners(trials, labelled, files, identification)
        fit = bootstrap(fit_psychometric(labelled["morph_level"], labelled["response_b"], sigmoid),
                        labelled["morph_level"], labelled["response_b"], n_boot=n_boot, seed=seed)
        predict(pooled, fit, task, prediction)
        ident = {"data_files": [{"file": str(f), "sha256": file_sha256(f)} for f in identification],
                 "trials": len(labelled), "fit": fit.to_dict(), "prediction": prediction,
                 "agreement": agreement(pooled)}
        for who, rows in labelled.groupby("participant"):
            try:
                own = fit_psychometric(rows["morph_level"], rows["response_b"], sigmoid)
            except StimgenError as exc:
                listeners[str(who)]["not_predicted"] = exc.problem
                continue
            predict(listeners[str(who)]["pairs"], own, task, prediction)
            listeners[str(who)]["agreement"] = agreement(listeners[str(who)]["pairs"])
    result = {"stimgen_version": __version__, "command": command or "stimgen Python API", "task": task,
              "model": model if task != "2ifc" else "2ifc (differencing and independent are one observer)",
              "method": f"proportion correct per pair with 95 % Wilson intervals; d' of the {model} observer "
                        f"(Macmillan & Creelman 2005) with 95 % intervals from a {n_boot}-sample parametric "
                        f"bootstrap, seed {seed}",
              "pairs": pooled, "participants": listeners, "identification": ident,
              "trials": len(trials), "skipped_rows": skipped,
              "data_files": [{"file": str(f), "sha256": file_sha256(f)} for f in files],
              "manifest": {"file": str(manifest_path.resolve()), "sha256": file_sha256(manifest_path)}}
    with atomic_dir(out, force=force, inputs=[*inputs, manifest_path.parent], verb="fit") as tmp:
        (tmp / "fit.json").write_text(json.dumps(result, indent=2, allow_nan=False) + "\n")
        plot_discrimination(result, tmp / "fit.png")
    return out


def _check_listeners(trials: pd.DataFrame, labelled: pd.DataFrame, files: list, identification: list) -> None:
    """The identification data are of the listeners whose discrimination is fitted, and only theirs."""
    heard, named = set(trials["participant"]), set(labelled["participant"].astype(str))
    if heard != named:
        only = sorted(named - heard)
        which = (f"holds listener {only[0]}, whose discrimination is not given" if only else
                 f"has no identification data of listener {sorted(heard - named)[0]}, whose discrimination is given")
        raise StimgenError(f"{which}: the prediction is of the same listeners (participant)",
                           path=identification[0] if len(identification) == 1 or only else files[0])


def plot_discrimination(result: dict, path) -> None:
    """fit.png: proportion correct (left) and d' (right) per pair against the pair's centre, measured
    with 95 % intervals and, where identification was given, predicted."""
    from stimgen.discrimination import CHANCE
    from stimgen.preview import figure

    pairs = result["pairs"]
    x = np.array([(p["level_a"] + p["level_b"]) / 2 for p in pairs])
    fig = figure(figsize=(9.0, 3.6))
    left, right = fig.subplots(1, 2)
    pc = np.array([p["pc"] for p in pairs])
    ci = np.array([p["pc_ci"] for p in pairs])
    left.errorbar(x, pc, yerr=np.clip([pc - ci[:, 0], ci[:, 1] - pc], 0, None), fmt="o", color="#333", ms=4,
                  capsize=2, label="measured (95 % Wilson)")
    left.axhline(CHANCE[result["task"]], color="#999", lw=0.8, ls=":", label="chance")
    d = np.array([np.nan if p["dprime"] is None else p["dprime"] for p in pairs])
    dci = np.array([[np.nan, np.nan] if p["dprime_ci"] is None else p["dprime_ci"] for p in pairs])
    right.errorbar(x, d, yerr=np.clip([d - dci[:, 0], dci[:, 1] - d], 0, None), fmt="o", color="#333", ms=4,
                   capsize=2, label="measured (95 % bootstrap)")
    ident = result.get("identification")
    if ident:
        agree = ident["agreement"]
        r = "n/a" if agree["correlation"] is None else f"{agree['correlation']:.2f}"
        label = f"predicted ({ident['prediction']}): r {r}, RMS {agree['rms_difference']:.3f}"
        left.plot(x, [p["predicted_pc"] for p in pairs], "-", color="#c0392b", label=label)
        right.plot(x, [p["predicted_dprime"] for p in pairs], "-", color="#c0392b", label="predicted")
    names = [f"{p['step_a']}-{p['step_b']}" for p in pairs]
    for ax, ylabel, where in ((left, "proportion correct", "lower left"), (right, "d'", "best")):
        ax.set(xlabel="pair (centre morph level)", ylabel=ylabel, xlim=(-0.02, 1.02))
        ax.set_xticks(x, names, fontsize=7)
        ax.legend(fontsize=7, loc=where)
    left.set_ylim(0.0, 1.03)
    left.set_title(f"{result['task'].upper()}: {result['trials']} trials", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def describe(path) -> str:
    """``stimgen fit``'s line for the fit written to ``path``."""
    record = json.loads((Path(path) / "fit.json").read_text())
    if record.get("task") in ADAPTIVE_TASKS:
        from stimgen.adaptive_data import describe as describe_adaptive

        return describe_adaptive(path)
    if "task" not in record:
        pooled = record["pooled"]
        return (f"PSE {pooled['pse']:.3f} [{pooled['pse_ci'][0]:.3f}, {pooled['pse_ci'][1]:.3f}], slope "
                f"{pooled['slope']:.2f} per unit; wrote fit.json and fit.png to {path}")
    pairs = record["pairs"]
    d = [p["dprime"] for p in pairs if p["dprime"] is not None]
    peak = max(pairs, key=lambda p: p["pc"])
    line = (f"{record['task'].upper()}: {len(pairs)} pairs, {record['trials']} trials, proportion correct "
            f"{min(p['pc'] for p in pairs):.2f} to {max(p['pc'] for p in pairs):.2f} (peak at steps "
            f"{peak['step_a']}-{peak['step_b']}), d' {min(d):.2f} to {max(d):.2f}")
    ident = record.get("identification")
    if ident:
        agree = ident["agreement"]
        r = "n/a" if agree["correlation"] is None else f"{agree['correlation']:.2f}"
        line += (f"; predicted from identification ({ident['prediction']}): r {r}, RMS difference "
                 f"{agree['rms_difference']:.3f}, {'agrees' if agree['agrees'] else 'does not agree'} "
                 f"(chi-square p {agree['p']:.3g})")
    return f"{line}; wrote fit.json and fit.png to {path}"
