"""Psychometric functions of identification data: P("B") against morph level, by maximum likelihood.

The function is ``P(B | x) = gamma + (1 - gamma - lambda) F((x - alpha) / beta)`` with ``F`` the
logistic or the standard normal CDF, a guess rate ``gamma`` and a lapse rate ``lambda`` each in
[0, 0.1] (an identification task has two free asymptotes: "B" at level 0 is a guess, "A" at
level 1 a lapse). It is fitted by maximising the binomial likelihood with scipy (L-BFGS-B from a
grid of starts, with the analytic gradient). The PSE is the level where P = 0.5 and the slope is dP/dx there; their 95 %
intervals come from a parametric bootstrap (the fitted function simulated at the same levels and
trial counts, refitted, percentiles of the refits). psignifit 4 was the other candidate: its
credible intervals missed the truth in the one try in ``shared/reference/pilot.md`` and depend on
priors set by the stimulus range; a plain maximum-likelihood fit with a bootstrap is small enough
to read in full, and its coverage is tested (tests/test_psychometric.py).

Examples
--------
>>> rng = np.random.default_rng(0)
>>> levels = np.repeat(np.linspace(0, 1, 11), 40)
>>> truth = PsychometricFit("logistic", 0.3, 0.06, 0.01, 0.02)
>>> responses = rng.random(levels.size) < truth.probability(levels)
>>> fit = fit_psychometric(levels, responses)
>>> abs(fit.pse - 0.3) < 0.03
True
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import optimize, special, stats

from stimgen.errors import StimgenError, StimgenWarning
from stimgen.options import N_BOOT, N_BOOT_RANGE, SEED, SIGMOID, SIGMOIDS, check_seed, check_whole

#: The guess and lapse rates are bounded to [0, MAX_RATE].
MAX_RATE = 0.1
#: The fitted location and scale are bounded to these (morph levels: the continuum is [0, 1]).
ALPHA_RANGE, BETA_RANGE = (-0.5, 1.5), (1e-3, 2.0)
#: Data fall when a falling function fits them better than every rising one and than a flat one by
#: more than this log-likelihood: flat data stay below it (200 simulated flat listeners, 11 steps
#: x 20 trials at P(B) 0.2 or 0.5, reached 3.4 at most) and label-swapped data rise far above it.
FALLING_MARGIN = 4.0


@dataclass(frozen=True)
class Sigmoid:
    """One choice of ``F``: its CDF, its density and the CDF's inverse, each of a standardised ``z``."""

    cdf: Callable[[np.ndarray], np.ndarray]
    pdf: Callable[[np.ndarray], np.ndarray]
    ppf: Callable[[np.ndarray], np.ndarray]


def _logistic_pdf(z):
    e = special.expit(z)
    return e * (1 - e)


#: The sigmoids by name; the names are :data:`stimgen.options.SIGMOIDS` (tests/test_registries.py checks).
SIGMOID_FUNCTIONS = {
    "logistic": Sigmoid(special.expit, _logistic_pdf, special.logit),
    "gauss": Sigmoid(special.ndtr, stats.norm.pdf, special.ndtri),
}


def sigmoid_functions(name: str) -> Sigmoid:
    """The :class:`Sigmoid` called ``name``; an unknown name is refused, never computed as another.

    Examples
    --------
    >>> float(sigmoid_functions("logistic").cdf(0.0))
    0.5
    """
    try:
        return SIGMOID_FUNCTIONS[name]
    except (KeyError, TypeError):  # TypeError: an unhashable name
        raise StimgenError(f"sigmoid must be one of {', '.join(SIGMOIDS)}, got {name!r}") from None


@dataclass(frozen=True)
class PsychometricFit:
    """A fitted function (``sigmoid``, location ``alpha``, scale ``beta``, guess ``gamma``, lapse
    ``lapse``), with the data's log-likelihood and, after :func:`bootstrap`, 95 % intervals."""

    sigmoid: str
    alpha: float
    beta: float
    gamma: float
    lapse: float
    log_likelihood: float = float("nan")
    pse_ci: tuple[float, float] | None = None
    slope_ci: tuple[float, float] | None = None

    def probability(self, x) -> np.ndarray:
        """P("B") at morph levels ``x``."""
        z = (np.asarray(x, dtype=np.float64) - self.alpha) / self.beta
        return self.gamma + (1.0 - self.gamma - self.lapse) * sigmoid_functions(self.sigmoid).cdf(z)

    def level(self, p) -> np.ndarray:
        """The morph levels where P("B") is ``p`` (the inverse; ``p`` strictly between the asymptotes)."""
        p = np.asarray(p, dtype=np.float64)
        inner = (p - self.gamma) / (1.0 - self.gamma - self.lapse)
        if np.any((inner <= 0) | (inner >= 1)):
            raise StimgenError(f"the fitted function stays between {self.gamma:.3f} and {1 - self.lapse:.3f}; "
                               f"it never reaches {p[(inner <= 0) | (inner >= 1)][0]:g}")
        return self.alpha + self.beta * sigmoid_functions(self.sigmoid).ppf(inner)

    @property
    def pse(self) -> float:
        """The point of subjective equality: the level where P("B") = 0.5."""
        return float(self.level(0.5))

    @property
    def slope(self) -> float:
        """dP/dx at the PSE (per unit of morph level)."""
        z = (self.pse - self.alpha) / self.beta
        return float((1.0 - self.gamma - self.lapse) * sigmoid_functions(self.sigmoid).pdf(z) / self.beta)

    def to_dict(self) -> dict:
        """The fit as JSON-ready values, with its PSE and slope."""
        d = dataclasses.asdict(self)
        d.update(pse=self.pse, slope=self.slope)
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in d.items()}


def fit_psychometric(levels, responses, sigmoid: str = SIGMOID) -> PsychometricFit:
    """The maximum-likelihood function of binary ``responses`` (1: "B") at morph ``levels``.

    Parameters
    ----------
    levels : array of float
        The morph level of each trial, in [0, 1].
    responses : array of 0/1 or bool
        Whether each trial was answered "B".
    sigmoid : str
        ``"logistic"`` or ``"gauss"`` (cumulative normal).

    Returns
    -------
    PsychometricFit
        Without intervals (see :func:`bootstrap`).

    Raises
    ------
    StimgenError
        For levels outside [0, 1], responses that are not 0/1, fewer than 3 levels, or data that
        never say "B" or never say "A".
    """
    x, n, k = _tabulate(levels, responses)
    if sigmoid not in SIGMOIDS:
        raise StimgenError(f"sigmoid must be one of {', '.join(SIGMOIDS)}, got {sigmoid!r}")
    return _fit_table(x, n, k, sigmoid)


def bootstrap(fit: PsychometricFit, levels, responses, n_boot: int = N_BOOT, seed: int = SEED) -> PsychometricFit:
    """``fit`` with 95 % percentile intervals of its PSE and slope from a parametric bootstrap:
    ``n_boot`` data sets simulated from ``fit`` at the same levels and trial counts, all refitted
    at once (one L-BFGS-B run over every data set's parameters: the problems are independent)."""
    refits = bootstrap_fits(fit, levels, responses, n_boot, seed)

    def interval(values: list[float]) -> tuple[float, float]:
        low, high = np.percentile(values, [2.5, 97.5])
        return float(low), float(high)

    return dataclasses.replace(fit, pse_ci=interval([f.pse for f in refits]),
                               slope_ci=interval([f.slope for f in refits]))


def bootstrap_fits(fit: PsychometricFit, levels, responses, n_boot: int = N_BOOT,
                   seed: int = SEED) -> list[PsychometricFit]:
    """The ``n_boot`` refits of :func:`bootstrap`: data sets simulated from ``fit`` at the same
    levels and trial counts, all refitted at once."""
    x, n, _ = _tabulate(levels, responses)
    rng = np.random.default_rng(seed)
    k = rng.binomial(n.astype(np.int64), fit.probability(x), size=(n_boot, x.size)).astype(np.float64)
    start = np.tile([fit.alpha, np.log(fit.beta), fit.gamma, fit.lapse], (n_boot, 1))
    theta, _ = _fit_batch(x, n, k, fit.sigmoid, start)
    return [PsychometricFit(fit.sigmoid, a, float(np.exp(lb)), g, lp) for a, lb, g, lp in theta]


def _tabulate(levels, responses) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct levels, trials and "B" answers at each."""
    levels = np.asarray(levels, dtype=np.float64).ravel()
    responses = np.asarray(responses).ravel()
    if levels.size != responses.size or levels.size == 0:
        raise StimgenError(f"need one response per level, got {levels.size} levels and {responses.size} responses")
    if not np.all(np.isfinite(levels)) or levels.min() < 0 or levels.max() > 1:
        raise StimgenError(f"morph levels must lie in [0, 1], got {levels.min():g} to {levels.max():g}")
    values = set(np.unique(responses).tolist())
    if not values <= {0, 1}:
        raise StimgenError(f"responses must be 0 or 1, got {sorted(map(str, values - {0, 1}))[:3]}")
    x, inverse = np.unique(levels, return_inverse=True)
    if x.size < 3:
        raise StimgenError(f"a psychometric function needs at least 3 morph levels, got {x.size}")
    n = np.bincount(inverse).astype(np.float64)
    k = np.bincount(inverse, weights=responses.astype(np.float64))
    if k.sum() == 0 or k.sum() == n.sum():
        raise StimgenError("every response is the same; there is no function to fit")
    return x, n, k


def _fit_table(x: np.ndarray, n: np.ndarray, k: np.ndarray, sigmoid: str) -> PsychometricFit:
    """The best of six starts (locations 0.25, 0.5, 0.75 x scales 0.05, 0.15), fitted together."""
    starts = np.array([[a, np.log(b), 0.01, 0.01] for a in (0.25, 0.5, 0.75) for b in (0.05, 0.15)])
    theta, nll = _fit_batch(x, n, np.tile(k, (len(starts), 1)), sigmoid, starts)
    alpha, log_beta, gamma, lapse = theta[int(np.argmin(nll))]
    return PsychometricFit(sigmoid, float(alpha), float(np.exp(log_beta)), float(gamma), float(lapse),
                           -float(np.min(nll)))


def _fit_batch(x: np.ndarray, n: np.ndarray, k: np.ndarray, sigmoid: str,
               start: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Maximum-likelihood parameters (alpha, log beta, gamma, lapse) of each row of ``k`` (B, L)
    "B" answers out of ``n`` at levels ``x``, from ``start`` (B, 4); and each row's negative
    log-likelihood. One bounded L-BFGS-B run over all rows, with the analytic gradient."""
    rows = len(k)
    F = sigmoid_functions(sigmoid)

    def objective(flat: np.ndarray) -> tuple[float, np.ndarray]:
        alpha, log_beta, gamma, lapse = (c[:, None] for c in flat.reshape(rows, 4).T)
        beta = np.exp(log_beta)
        z = (x - alpha) / beta
        cdf, pdf = F.cdf(z), F.pdf(z)
        p = np.clip(gamma + (1 - gamma - lapse) * cdf, 1e-12, 1 - 1e-12)
        nll = -(k * np.log(p) + (n - k) * np.log1p(-p)).sum(1)
        dp = -(k / p - (n - k) / (1 - p))            # d nll / d p
        slope = (1 - gamma - lapse) * pdf
        grad = np.stack([(dp * slope * -1 / beta).sum(1), (dp * slope * -z).sum(1),
                         (dp * (1 - cdf)).sum(1), (dp * -cdf).sum(1)], axis=1)
        objective.nll = nll
        return float(nll.sum()), grad.ravel()

    bounds = [ALPHA_RANGE, tuple(np.log(BETA_RANGE)), (0.0, MAX_RATE), (0.0, MAX_RATE)] * rows
    result = optimize.minimize(objective, np.asarray(start, dtype=np.float64).ravel(), jac=True, method="L-BFGS-B",
                               bounds=bounds, options={"maxiter": 2000})
    objective(result.x)
    return result.x.reshape(rows, 4), objective.nll


def falls(table, sigmoid: str = SIGMOID) -> bool:
    """Whether identification data fall: ``table`` (``morph_level``, ``trials``, ``b`` per step, as
    fit.json's ``data``) is fitted better by a falling function than by every rising one and than a
    flat one, by more than :data:`FALLING_MARGIN` (label-swapped data: a rising fit of them sits
    at its bounds).

    Examples
    --------
    >>> falls({"morph_level": [0, 0.5, 1], "trials": [20, 20, 20], "b": [19, 10, 1]})
    True
    """
    x, n, k = (np.asarray(table[c], dtype=np.float64) for c in ("morph_level", "trials", "b"))
    if x.size < 3 or k.sum() in (0, n.sum()):
        return False
    rising, falling = _fit_table(x, n, k, sigmoid), _fit_table(x, n, n - k, sigmoid)  # falling: rising in "A"
    p = k.sum() / n.sum()
    flat = float(np.sum(k * np.log(p) + (n - k) * np.log1p(-p)))
    return falling.log_likelihood - max(rising.log_likelihood, flat) > FALLING_MARGIN


def _warn_falling(pooled: bool, listeners: dict, files: list) -> list[str]:
    """The one-line warning (a :class:`StimgenWarning`, and fit.json's ``warnings``) for falling
    data: the pooled data's, else the listeners' whose data fall."""
    who = [name for name, fit in listeners.items() if fit.get("falling")]
    if not (pooled or who):
        return []
    whose = ("the data" if len(files) == 1 else "the pooled data") if pooled else f"the data of {', '.join(who)}"
    problem = (f"{whose} fall: \"B\" is answered less often as the morph level rises (labels swapped?); fit.json "
               "records it and stimgen respace refuses a falling fit")
    warnings.warn(StimgenWarning(problem, path=files[0] if len(files) == 1 else None), stacklevel=3)
    return [problem]


def fit_data(files: list, out, sigmoid: str = SIGMOID, manifest=None, n_boot: int = N_BOOT, seed: int = SEED,
             force: bool = False, command: str | None = None):
    """Fit the identification data ``files`` (see :func:`stimgen.pilot.read_responses`), pooled and
    per listener (``participant``), and write ``out``: ``fit.json`` and ``fit.png``.

    ``fit.json`` holds the pooled fit (parameters, PSE and slope with 95 % bootstrap intervals, the
    function's formula), each listener's, the data per step, the data files' and the continuum
    manifest's sha256 (what ``stimgen respace`` checks). ``fit.png`` shows the proportions of "B"
    per step with 95 % Wilson intervals, the fitted curve and the PSE with its interval.

    Examples
    --------
    >>> fit_data(["pilot/data/P01.csv"], "fit")       # doctest: +SKIP
    PosixPath('fit')
    """
    import json
    from pathlib import Path

    import stimgen
    from stimgen.outputs import atomic_dir, check_output, file_sha256
    from stimgen.pilot import _pilot_folder, _pilot_record, read_responses

    check_whole(n_boot, "--bootstrap", *N_BOOT_RANGE, why=" (every sample is refitted in memory)")
    check_seed(seed)
    if manifest is not None and not Path(manifest).is_file():
        raise StimgenError("no such file: --continuum must be a continuum folder stimgen continuum wrote",
                           path=manifest)
    files = [Path(f) for f in files]
    inputs = [*files, *([Path(manifest).parent] if manifest is not None else [])]  # the continuum is one
    out = check_output(out, force, inputs=inputs)
    trials, manifest_path = read_responses(files, manifest)
    try:
        pooled = bootstrap(fit_psychometric(trials["morph_level"], trials["response_b"], sigmoid),
                           trials["morph_level"], trials["response_b"], n_boot=n_boot, seed=seed)
    except StimgenError as exc:
        raise StimgenError(exc.problem, path=files[0] if len(files) == 1 else None) from None
    listeners = {}
    for who, rows in trials.groupby("participant"):
        try:
            listeners[str(who)] = {**bootstrap(fit_psychometric(rows["morph_level"], rows["response_b"], sigmoid),
                                               rows["morph_level"], rows["response_b"], n_boot=n_boot,
                                               seed=seed).to_dict(), "falling": falls(_steps(rows), sigmoid)}
        except StimgenError as exc:
            listeners[str(who)] = {"not_fitted": exc.problem}
    table = _steps(trials)
    falling = falls(table, sigmoid)
    result = {"stimgen_version": stimgen.__version__, "command": command or "stimgen Python API",
              "function": f"P(B|x) = gamma + (1 - gamma - lapse) * F((x - alpha) / beta), F = {sigmoid}",
              "method": f"maximum likelihood (scipy L-BFGS-B); 95 % intervals from a {n_boot}-sample parametric "
                        f"bootstrap, seed {seed}",
              "pooled": {**pooled.to_dict(), "falling": falling}, "participants": listeners,
              "warnings": _warn_falling(falling, listeners, files),
              "data": table.to_dict("records"), "trials": len(trials),
              "data_files": [{"file": str(f), "sha256": file_sha256(f)} for f in files],
              "manifest": None if manifest_path is None else {"file": str(manifest_path.resolve()),
                                                              "sha256": file_sha256(manifest_path)}}
    with atomic_dir(out, force=force, inputs=[*inputs, *([manifest_path.parent] if manifest_path else [])],
                    verb="fit") as tmp:
        (tmp / "fit.json").write_text(json.dumps(result, indent=2) + "\n")
        pilot = _pilot_folder(files[0])
        plot_fit(pooled, table, tmp / "fit.png", label_b=_pilot_record(pilot)["labels"][1] if pilot else "B")
    return out


def _steps(trials):
    """The trials per step: ``morph_level``, ``trials``, ``b`` (answers of "B")."""
    table = trials.groupby("morph_level")["response_b"].agg(["size", "sum"]).reset_index()
    table.columns = ["morph_level", "trials", "b"]
    return table


def load_fit(path) -> tuple[PsychometricFit, dict]:
    """The pooled fit of a ``fit.json`` and the whole record, every field that later work reads
    checked: the sigmoid one of :data:`SIGMOID_FUNCTIONS`, alpha and beta finite and within the
    fitter's bounds (:data:`ALPHA_RANGE`, :data:`BETA_RANGE`: beta > 0 and no wider than the [0, 1]
    continuum allows), guess and lapse in [0, 0.5), intervals two ordered numbers or null, the data
    per step, the manifest null or with its sha256. A bad field is one :class:`StimgenError` naming
    fit.json and the field."""
    import json
    from pathlib import Path

    path = Path(path)
    if not path.is_file():
        raise StimgenError("no such fit file (write one with stimgen fit)", path=path)
    try:
        record = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise StimgenError(f"is not a fit.json of stimgen fit ({exc.__class__.__name__}: {exc})", path=path) from None
    if not isinstance(record, dict) or not isinstance(record.get("pooled"), dict):
        raise StimgenError("is not a fit.json of stimgen fit (no pooled fit)", path=path)
    d = record["pooled"]
    if not (isinstance(d.get("sigmoid"), str) and d["sigmoid"] in SIGMOID_FUNCTIONS):
        _bad_field(path, "pooled.sigmoid", f"one of {', '.join(SIGMOID_FUNCTIONS)}", d.get("sigmoid"))
    fit = PsychometricFit(d["sigmoid"], _number(d, "alpha", path, *ALPHA_RANGE),
                          _number(d, "beta", path, *BETA_RANGE), _number(d, "gamma", path, 0.0, 0.5, below=True),
                          _number(d, "lapse", path, 0.0, 0.5, below=True),
                          _number(d, "log_likelihood", path, -math.inf, 0.0),
                          _interval(d, "pse_ci", path), _interval(d, "slope_ci", path))
    if not isinstance(d.get("falling", False), bool):
        _bad_field(path, "pooled.falling", "true or false", d.get("falling"))
    _check_manifest_field(record.get("manifest"), path)
    _check_data_field(record.get("data"), path)
    return fit, record


def _bad_field(path, field: str, wanted: str, value) -> None:
    """Refuse fit.json's ``field`` holding ``value`` where ``wanted`` is needed."""
    raise StimgenError(f"{field} must be {wanted}, got {value!r} (write the fit again with stimgen fit)", path=path)


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _number(d: dict, name: str, path, low: float, high: float, below: bool = False) -> float:
    """``d[name]``, a finite number from ``low`` to ``high`` (``below``: less than ``high``)."""
    value = d.get(name)
    if not (_is_number(value) and low <= value and (value < high if below else value <= high)):
        wanted = f"a finite number in [{low:g}, {high:g}{')' if below else ']'}" if math.isfinite(low) \
            else f"a finite number up to {high:g}"
        _bad_field(path, f"pooled.{name}", wanted, value)
    return float(value)


def _interval(d: dict, name: str, path) -> tuple[float, float] | None:
    """``d[name]``: null, or two finite numbers, the lower first."""
    value = d.get(name)
    if value is None:
        return None
    if not (isinstance(value, list) and len(value) == 2 and all(map(_is_number, value)) and value[0] <= value[1]):
        _bad_field(path, f"pooled.{name}", "null or two finite numbers, the lower first", value)
    return float(value[0]), float(value[1])


def _check_manifest_field(manifest, path) -> None:
    """fit.json's ``manifest``: null (no continuum) or the continuum's manifest.csv with its sha256."""
    if manifest is not None and not (isinstance(manifest, dict) and isinstance(manifest.get("sha256"), str)
                                     and len(manifest["sha256"]) == 64):
        _bad_field(path, "manifest", "null or the continuum's manifest.csv with its sha256", manifest)


def _check_data_field(data, path) -> None:
    """fit.json's ``data``: a row per step, ``morph_level`` in [0, 1], ``trials`` > 0, ``b`` in [0, trials]."""
    if not isinstance(data, list) or not data:
        _bad_field(path, "data", "a list of steps (morph_level, trials, b)", data)
    for i, row in enumerate(data):
        ok = (isinstance(row, dict) and _is_number(row.get("morph_level")) and 0 <= row["morph_level"] <= 1
              and _is_number(row.get("trials")) and row["trials"] > 0 and _is_number(row.get("b"))
              and 0 <= row["b"] <= row["trials"])
        if not ok:
            _bad_field(path, f"data[{i}]", "a step's morph_level in [0, 1], trials > 0 and b from 0 to trials", row)


def plot_fit(fit: PsychometricFit, table, path, steps=None, label_b: str = "B") -> None:
    """Proportions of "B" per level with 95 % Wilson intervals, the fitted curve and its PSE;
    ``steps`` (levels) are marked on the curve (respace's new steps); ``label_b``, the pilot's
    name for "B", labels the axis."""
    from stimgen.preview import figure

    x, n, b = (np.asarray(table[c], dtype=np.float64) for c in ("morph_level", "trials", "b"))
    p = b / n
    z = 1.96
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    fig = figure(figsize=(5.5, 3.6))
    ax = fig.subplots()
    yerr = np.clip([p - (centre - half), centre + half - p], 0.0, None)
    ax.errorbar(x, p, yerr=yerr, fmt="o", color="#333", ms=4, capsize=2,
                label="data (95 % Wilson)")
    grid = np.linspace(0, 1, 201)
    ax.plot(grid, fit.probability(grid), color="#c0392b", label=f"{fit.sigmoid} fit")
    ax.axvline(fit.pse, color="#c0392b", lw=0.8, ls="--")
    if fit.pse_ci:
        ax.axvspan(*fit.pse_ci, color="#c0392b", alpha=0.12, label=f"PSE {fit.pse:.3f} [{fit.pse_ci[0]:.3f}, "
                                                                  f"{fit.pse_ci[1]:.3f}]")
    if steps is not None:
        ax.plot(steps, fit.probability(steps), "v", color="#2471a3", ms=6, label="new steps")
    ax.set(xlabel="morph level", ylabel=f'P("{label_b}")', ylim=(-0.03, 1.03), xlim=(-0.02, 1.02))
    ax.legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
