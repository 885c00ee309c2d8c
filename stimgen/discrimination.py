"""d' from discrimination data: AX same-different, ABX, 3-interval oddity and 2IFC, each with its
observer model (Macmillan & Creelman, *Detection Theory: A User's Guide*, 2nd ed., 2005, ch. 7 for
2IFC, ch. 9 for same-different, ABX and oddity), percentile intervals from a parametric bootstrap
of the counts, and the discrimination that identification predicts.

The observer of every model has one Gaussian internal value per stimulus, unit variance, the two
stimuli of a pair ``d'`` apart. Two decision rules are offered where they differ (``model``):

- ``"differencing"``: the observer compares the observations with each other, without knowing
  where the pair lies (the rule M&C recommend for roving designs, many pairs in a block). AX:
  "different" when ``|x1 - x2| > k``; ABX: X goes with whichever of A and B is nearer; oddity:
  the odd one is the observation not in the closest pair.
- ``"independent"``: the likelihood-ratio observer of a fixed design, who knows the two stimuli
  (M&C's independent-observation model). AX: each observation classified at the midpoint,
  "different" when the classes differ; ABX: X goes with the interval whose class it shares;
  oddity: the interval most likely odd (Versfeld, Dai & Green, 1996).

In 2IFC both names give the one observer, ``Pc = Phi(d'/sqrt 2)`` (M&C ch. 7): the sign of the
difference of the two intervals is the likelihood-ratio rule. The observer is unbiased in 2IFC,
ABX and oddity (``Pc`` is the proportion correct over all trials); AX takes the hit rate ``H``
("different" on different pairs) and false-alarm rate ``F`` ("different" on same pairs), or,
without false alarms, ``Pc`` of an unbiased observer (``H = Pc``, ``F = 1 - Pc``).

Proportions at or below chance give ``d' = 0``. Rates of 0 or 1 become ``1/(2N)`` and
``1 - 1/(2N)``, ``N`` the trials they come from (Macmillan & Kaplan, 1985; M&C ch. 1), so 100
correct of 100 in 2IFC is ``d' = sqrt 2 z(0.995) = 3.64``. ``d'`` is reported in
``[0, DPRIME_MAX]``.

Examples
--------
>>> round(float(dprime("2ifc", 76, 100)), 2)
1.0
>>> d = dprime("oddity", [45, 60, 80], 100)
>>> np.allclose(proportion_correct("oddity", d), [0.45, 0.60, 0.80])
True
"""

from __future__ import annotations

import numbers

import numpy as np
from scipy import optimize
from scipy.special import ndtr, ndtri

from stimgen.errors import StimgenError
from stimgen.options import N_BOOT_RANGE, SEED, check_seed, check_whole

#: The tasks by name, with the proportion correct of an observer who guesses ("2afc" is "2ifc").
CHANCE = {"ax": 0.5, "abx": 0.5, "oddity": 1 / 3, "2ifc": 0.5, "2afc": 0.5}
#: The observer models (see the module's docstring); "haskins" only predicts ABX from labelling.
MODELS = ("differencing", "independent")
#: The largest d' reported: there every model's proportion correct is above 0.9997 (AX differencing the lowest).
DPRIME_MAX = 10.0

_SQRT2, _SQRT3, _SQRT6 = np.sqrt(2.0), np.sqrt(3.0), np.sqrt(6.0)
#: Gauss-Legendre nodes and weights on [0, 16] for the oddity integrals (their integrands are
#: smooth there and below 1e-26 beyond 16 for d' up to DPRIME_MAX).
_LEGENDRE_X, _LEGENDRE_W = np.polynomial.legendre.leggauss(160)
_NODES, _WEIGHTS = 8.0 * (_LEGENDRE_X + 1.0), 8.0 * _LEGENDRE_W


def proportion_correct(task: str, dprime, model: str = "differencing") -> np.ndarray:
    """The proportion correct of ``task``'s unbiased observer at ``dprime`` (the forward model).

    Parameters
    ----------
    task : str
        ``"ax"``, ``"abx"``, ``"oddity"`` or ``"2ifc"`` (``"2afc"``).
    dprime : array of float
        Sensitivities, ``>= 0``.
    model : str
        ``"differencing"`` or ``"independent"`` (see the module's docstring).

    Returns
    -------
    np.ndarray
        ``Pc`` of the shape of ``dprime``: 2IFC ``Phi(d'/sqrt 2)`` (M&C ch. 7); AX independent
        ``Phi(d'/2)^2 + Phi(-d'/2)^2``, AX differencing ``H`` at the criterion ``k`` where
        ``H = 1 - F``, with ``F = 2 Phi(-k/sqrt 2)`` and ``H = Phi((d' - k)/sqrt 2) +
        Phi((-d' - k)/sqrt 2)``; ABX ``Phi(d'/sqrt 2) Phi(d'/a) + Phi(-d'/sqrt 2) Phi(-d'/a)``
        with ``a = 2`` (independent) or ``sqrt 6`` (differencing) (M&C ch. 9); oddity by
        numerical integration: differencing ``2 int_0^inf [Phi(-sqrt 3 z + d' sqrt(2/3)) +
        Phi(-sqrt 3 z - d' sqrt(2/3))] phi(z) dz`` (the triangle test's model, Frijters 1979;
        Craven 1992 for M = 3), independent the likelihood-ratio observer's (see
        :func:`_pc_oddity_independent`).

    Examples
    --------
    >>> np.round(proportion_correct("abx", [0.0, 1.0, 2.0]), 4)
    array([0.5   , 0.5825, 0.7468])
    """
    task, model = _check_task(task, model)
    d = np.asarray(dprime, dtype=np.float64)
    bad = ~((d >= 0) & (d <= DPRIME_MAX))
    if np.any(bad):
        raise StimgenError(f"d' must lie in [0, {DPRIME_MAX:g}], got {_first_bad(d, bad)}")
    return _FORWARD[task, model](d)


def dprime(task: str, correct, total, false_alarms=None, same_trials=None,
           model: str = "differencing") -> np.ndarray:
    """d' from counts of correct answers, one per pair (any shape; the counts broadcast).

    Parameters
    ----------
    task : str
        ``"ax"``, ``"abx"``, ``"oddity"`` or ``"2ifc"`` (``"2afc"``).
    correct, total : array of int
        Correct answers and trials. For AX with ``false_alarms``: "different" answers on
        different pairs (hits) and the different-pair trials.
    false_alarms, same_trials : array of int, optional
        AX only: "different" answers on same pairs and the same-pair trials; without them AX's
        ``correct / total`` is taken as the proportion correct of an unbiased observer.
    model : str
        ``"differencing"`` or ``"independent"`` (see the module's docstring).

    Returns
    -------
    np.ndarray
        d' in ``[0, DPRIME_MAX]``: 2IFC ``sqrt 2 z(Pc)``; AX differencing from ``k = -sqrt 2
        z(F/2)`` and ``H``, independent from M&C's ``p(c)max = Phi((z(H) - z(F))/2)`` (exact for
        an unbiased observer, an approximation otherwise) and ``d' = 2 z(1/2 + sqrt(2 p(c)max -
        1)/2)`` (M&C ch. 9); ABX and oddity by inverting :func:`proportion_correct` with
        ``scipy.optimize.brentq``.

    Examples
    --------
    >>> np.round(dprime("abx", [40, 70, 100], 100, model="independent"), 2)
    array([0.  , 1.53, 5.17])
    >>> round(float(dprime("ax", 40, 50, false_alarms=10, same_trials=50)), 2)
    3.0
    """
    task, model = _check_task(task, model)
    counts = _check_counts(task, correct, total, false_alarms, same_trials)
    return _estimate(task, model, *counts)


def dprime_interval(task: str, correct, total, false_alarms=None, same_trials=None,
                    model: str = "differencing", n_boot: int = 2000, level: float = 0.95,
                    rng: int | np.random.Generator = SEED) -> tuple[np.ndarray, np.ndarray]:
    """Percentile interval of :func:`dprime` from a parametric binomial bootstrap: ``n_boot``
    sets of counts drawn from binomials at the observed proportions (after the ``1/(2N)``
    correction; for AX with false alarms, hits and false alarms drawn apart), each turned into
    d' as the data were. Arguments as :func:`dprime`; ``rng`` a seed or a numpy Generator.

    Returns
    -------
    (low, high) : tuple of np.ndarray
        The ``(1 - level)/2`` and ``(1 + level)/2`` quantiles of the bootstrap d', of the
        counts' broadcast shape.

    Examples
    --------
    >>> low, high = dprime_interval("2ifc", 76, 100)
    >>> bool(low < 1.0 < high)
    True
    """
    task, model = _check_task(task, model)
    k, n, fa, ns = _check_counts(task, correct, total, false_alarms, same_trials)
    n_boot = check_whole(n_boot, "n_boot", *N_BOOT_RANGE)
    if not (isinstance(level, numbers.Real) and 0 < level < 1):
        raise StimgenError(f"level must be a number between 0 and 1, got {level!r}")
    generator = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(check_seed(rng, "rng"))
    size = (n_boot, *k.shape)
    k_boot = generator.binomial(n.astype(np.int64), _rate(k, n), size=size)
    fa_boot = None if fa is None else generator.binomial(ns.astype(np.int64), _rate(fa, ns), size=size)
    boot = _estimate(task, model, k_boot, np.broadcast_to(n, size), fa_boot,
                     None if ns is None else np.broadcast_to(ns, size))
    low, high = np.quantile(boot, [(1 - level) / 2, (1 + level) / 2], axis=0)
    return low, high


def predicted_from_identification(task: str, p_label_a, p_label_b, model: str | None = None) -> np.ndarray:
    """The proportion correct that identification predicts for the pair (A, B), each stimulus
    labelled "B" (or any one category, the same for both) with probability ``p_label_a`` and
    ``p_label_b`` (for example :meth:`stimgen.psychometric.PsychometricFit.probability` at the
    two levels, or the observed proportions).

    ``model="haskins"`` (ABX's default) is the covert-labelling prediction of the Haskins
    studies, ``Pc = 1/2 + (pA - pB)^2 / 2`` (Liberman, Harris, Hoffman & Griffith, 1957; Pollack
    & Pisoni, 1971): the listener labels A, B and X, answers by the labels and guesses when A
    and B got the same one. ``"differencing"`` (the other tasks' default) and ``"independent"``
    take the d' that labelling implies for a Gaussian observer with a fixed category boundary,
    ``d' = |z(pA) - z(pB)|`` (capped at ``DPRIME_MAX``), through the task's
    :func:`proportion_correct`.

    Examples
    --------
    >>> round(float(predicted_from_identification("abx", 0.9, 0.1)), 3)
    0.82
    >>> round(float(predicted_from_identification("2ifc", 0.84134, 0.15866)), 3)
    0.921
    """
    key = task.lower() if isinstance(task, str) else task
    if model is None:
        model = "haskins" if key == "abx" else "differencing"
    if model == "haskins" and key != "abx":
        raise StimgenError(f"the Haskins covert-labelling prediction is for ABX, not {task!r}; "
                           f"use model='differencing' or 'independent'")
    if model != "haskins":
        task, model = _check_task(task, model)
    try:
        pa, pb = np.broadcast_arrays(*(np.asarray(p, dtype=np.float64) for p in (p_label_a, p_label_b)))
    except (TypeError, ValueError):
        raise StimgenError("p_label_a and p_label_b must be arrays of probabilities of the same shape") from None
    for name, p in (("p_label_a", pa), ("p_label_b", pb)):
        if not np.all((p >= 0) & (p <= 1)):
            raise StimgenError(f"{name} must be probabilities in [0, 1], got {_first_bad(p, ~((p >= 0) & (p <= 1)))}")
    if model == "haskins":
        return 0.5 + 0.5 * (pa - pb) ** 2
    za, zb = (np.clip(ndtri(p), -DPRIME_MAX, DPRIME_MAX) for p in (pa, pb))
    return _FORWARD[task, model](np.minimum(np.abs(za - zb), DPRIME_MAX))


# --- forward models: d' (array, in [0, DPRIME_MAX]) -> proportion correct ---------------------------

def _ax_hits(d, k):
    """AX differencing: P("different" | different pair) with criterion ``k`` on |x1 - x2|."""
    return ndtr((d - k) / _SQRT2) + ndtr((-d - k) / _SQRT2)


def _ax_false_alarms(k):
    """AX differencing: P("different" | same pair)."""
    return 2.0 * ndtr(-k / _SQRT2)


def _pc_ax_differencing(d):
    """H at the criterion where H = 1 - F (``H - 1 + F`` falls from 1 at k = 0 to -1)."""
    def unbiased(x: float) -> float:
        k = optimize.brentq(lambda k: _ax_hits(x, k) - 1.0 + _ax_false_alarms(k), 0.0, x + 40.0, xtol=1e-12)
        return 1.0 - _ax_false_alarms(k)

    return _per_unique(unbiased, d)


def _pc_oddity_differencing(d):
    """Triangle-test integral on the Gauss-Legendre nodes."""
    d = np.asarray(d, dtype=np.float64)[..., None]
    z, shift = _NODES, d * np.sqrt(2.0 / 3.0)
    integrand = (ndtr(-_SQRT3 * z + shift) + ndtr(-_SQRT3 * z - shift)) * np.exp(-z * z / 2) / np.sqrt(2 * np.pi)
    return 2.0 * (integrand * _WEIGHTS).sum(-1)


def _pc_oddity_independent(d):
    """The likelihood-ratio observer of a fixed oddity design: stimuli at -m and +m (m = d'/2), the
    interval i chosen that maximises ``|S - 2 x_i|`` (S the sum of the three). With the odd value t
    and standards u, v, that is right when u and v both exceed max(t, 0) or both lie below
    min(t, 0), so ``Pc = Phi(m)^3 + Phi(-m)^3 + int_0^inf [phi(t - m) Phi(-t - m)^2 +
    phi(t + m) Phi(m - t)^2] dt``; 1/3 at d' = 0."""
    m = np.asarray(d, dtype=np.float64)[..., None] / 2.0
    t = _NODES
    pdf = lambda x: np.exp(-x * x / 2) / np.sqrt(2 * np.pi)  # noqa: E731
    integrand = pdf(t - m) * ndtr(-t - m) ** 2 + pdf(t + m) * ndtr(m - t) ** 2
    m = m[..., 0]
    return ndtr(m) ** 3 + ndtr(-m) ** 3 + (integrand * _WEIGHTS).sum(-1)


def _pc_2ifc(d):
    return ndtr(d / _SQRT2)


_FORWARD = {
    ("2ifc", "differencing"): _pc_2ifc,
    ("2ifc", "independent"): _pc_2ifc,
    ("ax", "independent"): lambda d: ndtr(d / 2) ** 2 + ndtr(-d / 2) ** 2,
    ("ax", "differencing"): _pc_ax_differencing,
    ("abx", "independent"): lambda d: ndtr(d / _SQRT2) * ndtr(d / 2) + ndtr(-d / _SQRT2) * ndtr(-d / 2),
    ("abx", "differencing"): lambda d: ndtr(d / _SQRT2) * ndtr(d / _SQRT6) + ndtr(-d / _SQRT2) * ndtr(-d / _SQRT6),
    ("oddity", "differencing"): _pc_oddity_differencing,
    ("oddity", "independent"): _pc_oddity_independent,
}


# --- inverses: corrected proportions -> d' ---------------------------------------------------------

def _estimate(task: str, model: str, k, n, fa, ns) -> np.ndarray:
    """d' of counts already checked (AX with hits and false alarms when ``fa`` is given)."""
    p = _rate(k, n)
    if task == "ax":
        return _ax_dprime(model, p, 1.0 - p) if fa is None else _ax_dprime(model, p, _rate(fa, ns))
    if task == "2ifc":
        d = _SQRT2 * ndtri(p)
    else:
        forward = _FORWARD[task, model]
        d = _per_unique(lambda x: _solve(lambda y: float(forward(y)), x) if x > CHANCE[task] else 0.0, p)
    return np.clip(np.where(p <= CHANCE[task], 0.0, d), 0.0, DPRIME_MAX)


def _ax_dprime(model: str, h, f) -> np.ndarray:
    """AX d' from hit and false-alarm rates (0 where H <= F)."""
    above = h > f
    if model == "independent":
        pc = ndtr((ndtri(h) - ndtri(f)) / 2.0)
        d = 2.0 * ndtri(0.5 + 0.5 * np.sqrt(np.where(above, 2.0 * pc - 1.0, 0.0)))
    else:
        def from_rates(hit: float, fa: float) -> float:
            k = -_SQRT2 * ndtri(fa / 2.0)
            return _solve(lambda y: float(_ax_hits(y, k)), hit) if hit > fa else 0.0

        d = _per_unique(from_rates, h, f)
    return np.clip(np.where(above, d, 0.0), 0.0, DPRIME_MAX)


def _solve(increasing, target: float) -> float:
    """The d' in [0, DPRIME_MAX] where ``increasing(d') = target`` (``increasing(0) < target``);
    DPRIME_MAX when even that falls short."""
    if increasing(DPRIME_MAX) <= target:
        return DPRIME_MAX
    return optimize.brentq(lambda y: increasing(y) - target, 0.0, DPRIME_MAX, xtol=1e-10)


def _per_unique(scalar, *arrays) -> np.ndarray:
    """``scalar`` applied once per distinct tuple of the broadcast ``arrays`` (a bootstrap repeats
    few distinct counts), shaped as them."""
    arrays = np.broadcast_arrays(*(np.asarray(a, dtype=np.float64) for a in arrays))
    levels, codes = zip(*(np.unique(a, return_inverse=True) for a in arrays))
    sizes = [len(u) for u in levels]
    keys, inverse = np.unique(np.ravel_multi_index([c.ravel() for c in codes], sizes), return_inverse=True)
    values = np.array([scalar(*(u[i] for u, i in zip(levels, index)))
                       for index in zip(*np.unravel_index(keys, sizes))], dtype=np.float64)
    return values[inverse.ravel()].reshape(arrays[0].shape)


def _rate(k, n) -> np.ndarray:
    """``k / n`` with 0 and 1 replaced by ``1/(2n)`` and ``1 - 1/(2n)``."""
    return np.clip(np.asarray(k, dtype=np.float64) / n, 0.5 / n, 1.0 - 0.5 / n)


# --- validation at the boundary -------------------------------------------------------------------

def _check_task(task, model) -> tuple[str, str]:
    key = task.lower() if isinstance(task, str) else task
    if key not in CHANCE:
        raise StimgenError(f"task must be one of ax, abx, oddity, 2ifc (or 2afc), got {task!r}")
    if model not in MODELS:
        raise StimgenError(f"model must be one of {', '.join(MODELS)}, got {model!r}")
    return ("2ifc" if key == "2afc" else key), model


def _check_counts(task: str, correct, total, false_alarms, same_trials):
    """The counts as float arrays broadcast together: whole numbers, trials >= 1, answers in
    [0, trials]; false alarms and same trials together and for AX only."""
    if (false_alarms is None) != (same_trials is None):
        raise StimgenError("give false_alarms and same_trials together (AX's same-pair answers), or neither")
    if false_alarms is not None and task != "ax":
        raise StimgenError(f"false_alarms and same_trials are for the AX task, not {task}")
    pairs = [("correct", correct, "total", total)]
    if false_alarms is not None:
        pairs.append(("false_alarms", false_alarms, "same_trials", same_trials))
    out = []
    for k_name, k, n_name, n in pairs:
        k, n = (_whole(v, name) for v, name in ((k, k_name), (n, n_name)))
        if np.any(n < 1):
            raise StimgenError(f"{n_name} must be at least 1, got {_first_bad(n, n < 1)}")
        try:
            k, n = np.broadcast_arrays(k, n)
        except ValueError:
            raise StimgenError(f"{k_name} and {n_name} must have the same shape, got {k.shape} and {n.shape}") from None
        if np.any(k > n):
            raise StimgenError(f"{k_name} must not exceed {n_name}, got {_first_bad(k, k > n)} of "
                               f"{_first_bad(n, k > n)}")
        out += [k, n]
    try:
        arrays = np.broadcast_arrays(*out)
    except ValueError:
        raise StimgenError("the hit and false-alarm counts must have the same shape") from None
    return (*arrays, None, None) if false_alarms is None else tuple(arrays)


def _whole(values, name: str) -> np.ndarray:
    """``values`` as a float array of whole numbers >= 0, else one :class:`StimgenError`."""
    try:
        a = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise StimgenError(f"{name} must be whole numbers, got {values!r}") from None
    bad = ~np.isfinite(a) | (a < 0) | (a != np.round(a))
    if np.any(bad):
        raise StimgenError(f"{name} must be whole numbers >= 0, got {_first_bad(a, bad)}")
    return a


def _first_bad(a: np.ndarray, bad: np.ndarray) -> str:
    """The first offending value, for an error message."""
    return f"{np.broadcast_to(a, bad.shape)[bad].flat[0]:g}"
