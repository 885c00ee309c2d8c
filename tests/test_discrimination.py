"""d' for AX, ABX, oddity and 2IFC (stimgen.discrimination), checked against simulated listeners whose
decision rules are written here from the tasks' definitions (Gaussian internal noise, each rule
applied trial by trial; none of the module's formulas), against closed forms derived apart from
the module's integrals, and against published values."""

import numpy as np
import pytest
from scipy import stats

from stimgen.discrimination import (
    DPRIME_MAX,
    dprime,
    dprime_interval,
    predicted_from_identification,
    proportion_correct,
)
from stimgen.errors import StimgenError

LISTENERS, TRIALS = 100, 100
#: The criterion of the simulated differencing AX listener on |x1 - x2| (any fixed value will do).
AX_CRITERION = 1.5
CASES = [("2ifc", "differencing"), ("ax", "differencing"), ("ax", "independent"), ("abx", "differencing"),
         ("abx", "independent"), ("oddity", "differencing"), ("oddity", "independent")]


def log_density(x, mean):
    """Log of the unit-variance Gaussian density, up to a constant."""
    return -0.5 * (x - mean) ** 2


def simulate(task: str, model: str, d: float, rng, listeners: int = LISTENERS, trials: int = TRIALS):
    """Counts of ``listeners`` simulated listeners, ``trials`` trials each on one pair (A at 0, B at
    ``d`` on the internal axis, unit Gaussian noise per observation), every stimulus order equally
    often at random. Returns (correct, total) or, for AX, (hits, different trials, false alarms,
    same trials): half the AX trials are different pairs (AB, BA), half same (AA, BB)."""
    shape = (listeners, trials)
    if task == "2ifc":
        b_second = rng.random(shape) < 0.5
        x1, x2 = rng.standard_normal(shape) + d * ~b_second, rng.standard_normal(shape) + d * b_second
        return ((x2 > x1) == b_second).sum(1), trials                   # "B was second" when x2 is larger
    if task == "ax":
        half = (listeners, trials // 2)
        counts = []
        for different in (True, False):
            first_b = rng.random(half) < 0.5
            second_b = first_b ^ different
            x1, x2 = rng.standard_normal(half) + d * first_b, rng.standard_normal(half) + d * second_b
            if model == "differencing":
                says_different = np.abs(x1 - x2) > AX_CRITERION
            else:                                                         # likelihood ratio at 1
                same = np.logaddexp(log_density(x1, 0) + log_density(x2, 0), log_density(x1, d) + log_density(x2, d))
                diff = np.logaddexp(log_density(x1, 0) + log_density(x2, d), log_density(x1, d) + log_density(x2, 0))
                says_different = diff > same
            counts += [says_different.sum(1), trials // 2]
        return tuple(counts)
    if task == "abx":
        first_b, x_is_first = rng.random(shape) < 0.5, rng.random(shape) < 0.5
        x_b = np.where(x_is_first, first_b, ~first_b)
        s1, s2, x = (rng.standard_normal(shape) + d * b for b in (first_b, ~first_b, x_b))
        if model == "differencing":                                      # X goes with the nearer one
            says_first = np.abs(x - s1) < np.abs(x - s2)
        else:                                                             # likelihood ratio

            def likelihood(orders):  # the (first, second, X) means that make a hypothesis
                return np.logaddexp(*(log_density(s1, m1) + log_density(s2, m2) + log_density(x, m3)
                                      for m1, m2, m3 in orders))

            says_first = likelihood([(0, d, 0), (d, 0, d)]) > likelihood([(0, d, d), (d, 0, 0)])
        return (says_first == x_is_first).sum(1), trials
    odd_at, odd_b = rng.integers(0, 3, shape), rng.random(shape) < 0.5
    means = np.where(np.arange(3) == odd_at[..., None], odd_b[..., None], ~odd_b[..., None]) * d
    x = rng.standard_normal((*shape, 3)) + means
    if model == "differencing":                                          # odd: the one not in the closest pair
        gaps = [np.abs(x[..., j] - x[..., k]) for j, k in ((1, 2), (0, 2), (0, 1))]   # the pair without i
        chosen = np.argmin(np.stack(gaps, -1), -1)
    else:                                                                 # likelihood of each interval being odd
        like = [np.logaddexp(*(sum(log_density(x[..., j], odd if j == i else standard) for j in range(3))
                               for odd, standard in ((0, d), (d, 0)))) for i in range(3)]
        chosen = np.argmax(np.stack(like, -1), -1)
    return (chosen == odd_at).sum(1), trials


def keywords(counts) -> dict:
    return dict(zip(("correct", "total", "false_alarms", "same_trials"), counts))


@pytest.mark.parametrize("task, model", CASES)
@pytest.mark.parametrize("true_d", [1.0, 2.0])
def test_simulated_listeners_recover_dprime_and_the_intervals_cover_it(task, model, true_d):
    rng = np.random.default_rng(24)
    counts = keywords(simulate(task, model, true_d, rng))
    estimates = dprime(task, model=model, **counts)
    low, high = dprime_interval(task, model=model, rng=rng, **counts)            # 2000 draws
    coverage = np.mean((low <= true_d) & (true_d <= high))
    assert abs(np.median(estimates) - true_d) <= 0.1, np.median(estimates)
    assert 0.88 <= coverage <= 1.0, coverage
    assert np.all(low <= estimates) and np.all(estimates <= high)


@pytest.mark.parametrize("task, model", CASES)
def test_the_inverse_gives_back_the_dprime_of_the_forward_model(task, model):
    d = np.array([0.05, 0.5, 1.0, 2.0, 3.5, 6.0])
    pc = proportion_correct(task, d, model=model)
    assert np.all(np.diff(pc) > 0)
    total = 10**12                                                        # counts that carry Pc to 1e-12
    assert dprime(task, np.round(pc * total), total, model=model) == pytest.approx(d, abs=2e-4)


@pytest.mark.parametrize("model", ["differencing", "independent"])
def test_ax_from_hits_and_false_alarms_matches_the_rates_the_model_predicts(model):
    d, k = np.array([0.5, 1.0, 2.0, 3.0]), 1.2
    if model == "differencing":                                          # |x1 - x2| > k; x1 - x2 ~ N(+-d or 0, 2)
        hits = stats.norm.sf(k, d, np.sqrt(2)) + stats.norm.cdf(-k, d, np.sqrt(2))
        false_alarms = np.full_like(d, 2 * stats.norm.sf(k, 0, np.sqrt(2)))
    else:                                                                 # unbiased: classes at the midpoint differ
        hits = 1 - 2 * stats.norm.cdf(d / 2) * stats.norm.sf(d / 2)
        false_alarms = 1 - hits
    total = 10**12
    estimate = dprime("ax", np.round(hits * total), total, np.round(false_alarms * total), total, model=model)
    assert estimate == pytest.approx(d, abs=2e-4)


def test_published_values():
    # 2AFC: Pc = 0.76 is d' = 1.00 (sqrt 2 z(0.76) = 0.9989; M&C 2005 ch. 7)
    assert float(dprime("2ifc", 76, 100)) == pytest.approx(1.00, abs=0.005)
    assert float(dprime("2afc", 76, 100)) == float(dprime("2ifc", 76, 100))
    # d' = 1 in the sensory-testing tables (Frijters 1979; Ennis 1993): 2-AFC 0.760, duo-trio (ABX
    # differencing: the same comparison of X with two others) 0.582, triangle (3-interval oddity,
    # differencing) 0.418
    assert proportion_correct("2ifc", 1.0) == pytest.approx(0.760, abs=5e-4)
    assert proportion_correct("abx", 1.0) == pytest.approx(0.582, abs=1e-3)
    assert proportion_correct("oddity", 1.0) == pytest.approx(0.418, abs=5e-4)
    # the triangle test's closed form, P(F(1, 1, ncp = 2 d'^2 / 3) > 3) (Brockhoff & Christensen
    # 2010, sensR), against the module's numerical integral
    d = np.array([0.3, 1.0, 2.0, 3.0, 5.0])
    assert proportion_correct("oddity", d) == pytest.approx(stats.ncf.sf(3, 1, 1, 2 * d**2 / 3), abs=1e-9)


# --- published values: read from the printed output of two reference implementations, none computed here ---------
# [PAL]   Palamedes toolbox (Prins & Kingdom, 2009; the SDT routines of Kingdom & Prins, 2010, "Psychophysics: A
#         Practical Introduction", ch. 6): the "Example: ... returns:" block of each routine's help text, printed to
#         4 decimals (routines introduced in Palamedes 1.0.0; the 3AFC oddity ones in 1.6.0).
# [SENSR] sensR 1.2-19 (Christensen & Brockhoff, 2013), the saved output of its help-page examples,
#         tests/Examples/sensR-Ex.Rout.save (R 2013-03-17).
# The tasks under their names there:
# - ABX is Palamedes' "2AFC match-to-sample" and sensR's "duo-trio" (X, the reference, goes with one of two); sensR's
#   duo-trio Pc, 1 - Phi(d'/sqrt 2) - Phi(d'/sqrt 6) + 2 Phi(d'/sqrt 2) Phi(d'/sqrt 6) (R/links.R), is ABX
#   differencing's (X goes with the nearer one).
# - sensR's "triangle" is 3-interval oddity under model="differencing" (the odd one is the observation not in the
#   closest pair; Pc = P(F(1, 1, 2 d'^2 / 3) > 3), R/links.R); Palamedes' "3AFCoddity_IndMod" is
#   model="independent" (the likelihood-ratio observer, Versfeld, Dai & Green, 1996).
# - AX is Palamedes' "1AFC same-different" and sensR's samediff (differencing: "same" when |x1 - x2| < tau).
#   Palamedes' "2AFC same-different" (two pairs, which one differs) is not one of our tasks and is left out.
# Tolerances: half a unit of the last printed digit (ROUND4, ROUND7); sensR's duo-trio and triangle inverses are
# uniroot's at its default tolerance, .Machine$double.eps^0.25 = 1.2e-4 (UNIROOT); its samediff delta is an
# optimiser's, printed to 4 decimals (UNIROOT as well).
ROUND4, ROUND7, UNIROOT = 0.5e-4 + 1e-9, 0.5e-6 + 1e-9, 2e-4

PUBLISHED_PC = [  # (task, model, d', published Pc, tolerance, where)
    *[("2ifc", "differencing", d, pc, ROUND4, "PAL_SDT_2AFC_DPtoPC([.5 1 1.5 2 2.5])")
      for d, pc in zip([0.5, 1.0, 1.5, 2.0, 2.5], [0.6382, 0.7602, 0.8556, 0.9214, 0.9615])],
    *[("2ifc", "differencing", d, pc, ROUND4, "PAL_SDT_DPtoPCcomparison_Demo, d' 0:.25:4, column 2AFC")
      for d, pc in [(0.25, 0.5702), (3.0, 0.9831), (4.0, 0.9977)]],
    *[("abx", "differencing", d, pc, ROUND4, "PAL_SDT_2AFCmatchSample_DiffMod_DPtoPC([0 1 2 3 4 5])")
      for d, pc in zip(range(6), [0.5000, 0.5825, 0.7468, 0.8765, 0.9467, 0.9792])],
    *[("abx", "differencing", d, pc, ROUND4, "PAL_SDT_DPtoPCcomparison_Demo, d' 0:.25:4, column 2AFCmatchSamp")
      for d, pc in [(0.25, 0.5057), (0.75, 0.5486), (1.25, 0.6216), (1.75, 0.7058), (2.25, 0.7850),
                    (2.5, 0.8196), (3.5, 0.9178)]],
    *[("abx", "independent", d, pc, ROUND4, "PAL_SDT_2AFCmatchSample_IndMod_DPtoPC([0 1 2 3 4 5])")
      for d, pc in zip(range(6), [0.5000, 0.5997, 0.7877, 0.9185, 0.9750, 0.9936])],
    ("oddity", "differencing", 2.0, 0.6048069, ROUND7, "sensR psyfun(2, method = 'triangle')"),
    *[("oddity", "independent", d, pc, ROUND4, "PAL_SDT_3AFCoddity_IndMod_DPtoPC([0 1 2 3 4 5])")
      for d, pc in zip(range(6), [0.3333, 0.4468, 0.6774, 0.8611, 0.9534, 0.9875])],
    # the unbiased observer (C = 0): the hit rate is Pc, the false-alarm rate 1 - Pc (0.4722)
    ("ax", "independent", 0.6, 0.5278, ROUND4, "PAL_SDT_1AFCsameDiff_IndMod_DPtoPHF([.5 .6 .7], [-1 0 1]), row 2"),
]


@pytest.mark.parametrize("task, model, d, published, tol",
                         [pytest.param(*case[:5], id=f"{case[0]}-{case[1]}-{case[2]:g} {case[5]}")
                          for case in PUBLISHED_PC])
def test_proportion_correct_matches_published_values(task, model, d, published, tol):
    assert float(proportion_correct(task, d, model=model)) == pytest.approx(published, abs=tol)


PUBLISHED_DPRIME = [  # (task, model, counts (correct, total[, false alarms, same trials]), published d', tol, where)
    *[("2ifc", "differencing", (k, 100), d, ROUND4, "PAL_SDT_2AFC_PCtoDP([0.4 .52 0.6 0.85 0.99])")
      for k, d in [(52, 0.0709), (60, 0.3583), (85, 1.4657), (99, 3.2900)]],
    *[("2ifc", "differencing", (k, 200), d, ROUND4, "PAL_SDT_PCtoDPcomparison_Demo, Pc .5:.025:.975, column 2AFC")
      for k, d in [(150, 0.9539), (190, 2.3262), (195, 2.7718)]],
    ("2ifc", "differencing", (10, 15), 0.6091, ROUND4, "sensR discrim(10, 15, method = 'twoAFC')"),
    ("2ifc", "differencing", (10, 18), 0.1976, ROUND4, "sensR glm(cbind(10, 8) ~ 1, family = twoAFC)"),
    ("2ifc", "differencing", (80, 100), 1.190232, ROUND7, "sensR psyinv(0.8, method = 'twoAFC')"),
    *[("abx", "differencing", (k, 100), d, ROUND4, "PAL_SDT_2AFCmatchSample_DiffMod_PCtoDP([.5 .6 .7 .8 .9])")
      for k, d in [(50, 0.0), (60, 1.1152), (70, 1.7153), (80, 2.3549), (90, 3.2631)]],
    *[("abx", "differencing", (k, 200), d, ROUND4,
       "PAL_SDT_PCtoDPcomparison_Demo, Pc .5:.025:.975, column 2AFCmatchSamp")
      for k, d in [(105, 0.5297), (110, 0.7614), (130, 1.4206), (150, 2.0200), (190, 4.0724), (195, 4.8142)]],
    ("abx", "differencing", (10, 15), 1.5189, UNIROOT, "sensR discrim(10, 15, method = 'duotrio')"),
    ("abx", "differencing", (7, 10), 1.715, 0.5e-3 + UNIROOT, "sensR discrim(7, 10, method = 'duotrio')"),
    # rescale(pc = 0.75, method = "duotrio"); rescale(pd = c(.6, .7)) prints pc 0.80 and 0.85
    *[("abx", "differencing", (k, 100), d, UNIROOT, "sensR rescale(..., method = 'duotrio')")
      for k, d in [(75, 2.020013), (80, 2.354862), (85, 2.749327)]],
    *[("abx", "independent", (k, 100), d, ROUND4, "PAL_SDT_2AFCmatchSample_IndMod_PCtoDP([.5 .6 .7 .8 .9])")
      for k, d in [(50, 0.0), (60, 1.0020), (70, 1.5287), (80, 2.0726), (90, 2.8073)]],
    ("oddity", "differencing", (10, 15), 2.3214, UNIROOT, "sensR discrim(10, 15, method = 'triangle')"),
    ("oddity", "differencing", (10, 19), 1.6025, UNIROOT, "sensR glm(cbind(10, 9) ~ 1, family = triangle)"),
    # the similarity test's null, pd0 = 0.2: Pc = pd0 + (1 - pd0)/3 = 7/15 (discrim's help), printed as
    # "d-prime is less than 1.287124"
    ("oddity", "differencing", (7, 15), 1.287124, UNIROOT, "sensR discrim(20, 75, method = 'triangle', pd0 = .2)"),
    *[("oddity", "independent", (k, 100), d, ROUND4, "PAL_SDT_3AFCoddity_IndMod_PCtoDP([.5 .6 .7 .8 .9])")
      for k, d in [(50, 1.2451), (60, 1.6686), (70, 2.1012), (80, 2.6060), (90, 3.3245)]],
    # AX from hits (of different pairs) and false alarms (of same pairs)
    *[("ax", "differencing", (h, 100, f, 100), d, ROUND4,
       "PAL_SDT_1AFCsameDiff_DiffMod_PHFtoDP([.6 .1; .7 .1; .8 .5])")
      for h, f, d in [(60, 10, 2.6837), (70, 10, 3.0675), (80, 50, 2.0629)]],
    # the forward routine's rates, printed to 4 decimals, carry d' to within 5e-4 here (dH/dd' > 0.2)
    *[("ax", "differencing", (h, 10_000, f, 10_000), d, 1e-3,
       "PAL_SDT_1AFCsameDiff_DiffMod_DPtoPHF([.5 1.5 3], [0 1 2]), rows 2-3")
      for h, f, d in [(6767, 4795, 1.5), (7605, 1573, 3.0)]],
    # samediff(nsamesame = 8, ndiffsame = 5, nsamediff = 4, ndiffdiff = 9): hits 9 of 13, false alarms 5 of 13
    ("ax", "differencing", (9, 13, 5, 13), 1.8850, UNIROOT, "sensR summary(samediff(8, 5, 4, 9)), delta"),
    *[("ax", "independent", (h, 100, f, 100), d, ROUND4,
       "PAL_SDT_1AFCsameDiff_IndMod_PHFtoDP([0.6 0.1; 0.8 0.1; 0.9 0.6])")
      for h, f, d in [(60, 10, 2.2835), (80, 10, 2.8342), (90, 60, 1.7808)]],
]


@pytest.mark.parametrize("task, model, counts, published, tol",
                         [pytest.param(*case[:5], id=f"{case[0]}-{case[1]}-{'/'.join(map(str, case[2]))} {case[5]}")
                          for case in PUBLISHED_DPRIME])
def test_dprime_matches_published_values(task, model, counts, published, tol):
    assert float(dprime(task, *counts, model=model)) == pytest.approx(published, abs=tol)


@pytest.mark.parametrize("task, model", CASES)
def test_chance_and_perfect_scores(task, model):
    chance_count = {"oddity": 33}.get(task, 50)
    kw = {"false_alarms": 50, "same_trials": 100} if task == "ax" else {}
    assert dprime(task, [0, 20, chance_count], 100, model=model, **{k: [v] * 3 for k, v in kw.items()}) \
        == pytest.approx(0.0)
    # 100 of 100 counts as 99.5 % (the 1/(2N) rule), AX's false alarms 0 of 100 as 0.5 %
    perfect = dprime(task, 100, 100, model=model, **({"false_alarms": 0, "same_trials": 100} if task == "ax" else {}))
    if task == "ax":
        assert perfect == pytest.approx(float(dprime(task, 199, 200, 1, 200, model=model)))
    else:
        assert proportion_correct(task, perfect, model=model) == pytest.approx(0.995)
    assert 0 < perfect < DPRIME_MAX


def test_counts_broadcast_and_the_bootstrap_is_seeded():
    d = dprime("abx", [[60, 70], [80, 90]], [100, 120])
    assert d.shape == (2, 2) and d[0, 1] < d[0, 0]                      # 70/120 < 60/100
    assert d[1, 0] == pytest.approx(float(dprime("abx", 80, 100)))
    first, again = (dprime_interval("oddity", 60, 100, n_boot=300, rng=5) for _ in range(2))
    assert np.array_equal(first, again) and first[0] < float(dprime("oddity", 60, 100)) < first[1]


def test_haskins_prediction_holds_for_a_covert_labelling_listener_and_not_for_a_continuous_one():
    rng = np.random.default_rng(7)
    trials, boundary = 40_000, 0.0
    # across the boundary the two listeners are close; within a category labelling loses the pair
    for (mean_a, mean_b), continuous_better in (((-0.6, 0.6), 0.005), ((0.8, 2.0), 0.08)):
        labelling, continuous, predicted = simulate_abx_listeners(rng, trials, boundary, mean_a, mean_b)
        se = np.sqrt(predicted * (1 - predicted) / trials)
        assert abs(labelling - predicted) < 3 * se
        assert continuous - predicted > continuous_better


def simulate_abx_listeners(rng, trials, boundary, mean_a, mean_b):
    """Proportion correct in ABX of a covert-labelling listener and of a differencing listener with
    the same Gaussian percepts, and the Haskins prediction from the labelling probabilities."""
    p_a, p_b = stats.norm.sf(boundary - mean_a), stats.norm.sf(boundary - mean_b)    # P(label "B")
    first_b, x_is_first = rng.random(trials) < 0.5, rng.random(trials) < 0.5
    x_b = np.where(x_is_first, first_b, ~first_b)
    a, b, x = (rng.standard_normal(trials) + np.where(s, mean_b, mean_a) for s in (first_b, ~first_b, x_b))
    # covert labelling: label each interval at the boundary, answer by labels, guess on a tie
    la, lb, lx = a > boundary, b > boundary, x > boundary
    says_first = np.where(la != lb, lx == la, rng.random(trials) < 0.5)
    labelling = np.mean(says_first == x_is_first)
    continuous = np.mean((np.abs(x - a) < np.abs(x - b)) == x_is_first)            # the differencing listener
    predicted = float(predicted_from_identification("abx", p_a, p_b))
    assert float(predicted_from_identification("abx", p_b, p_a)) == predicted
    return labelling, continuous, predicted


@pytest.mark.parametrize("task, model", [("2ifc", "differencing"), ("oddity", "differencing"), ("ax", "independent")])
def test_the_dprime_route_predicts_a_gaussian_listener_with_a_fixed_boundary(task, model):
    mean_a, mean_b, boundary = 0.0, 1.3, 0.5
    p_a, p_b = stats.norm.sf(boundary - mean_a), stats.norm.sf(boundary - mean_b)
    predicted = float(predicted_from_identification(task, p_a, p_b, model=model))
    counts = keywords(simulate(task, model, mean_b - mean_a, np.random.default_rng(3), listeners=1, trials=40_000))
    measured = dprime(task, model=model, **counts).item()
    assert proportion_correct(task, measured, model=model) == pytest.approx(predicted, abs=0.01)
    assert float(predicted_from_identification(task, p_a, p_a, model=model)) == pytest.approx(
        {"oddity": 1 / 3}.get(task, 0.5))


@pytest.mark.parametrize("call, message", [
    (lambda: dprime("yes-no", 1, 2), "task must be one of"),
    (lambda: dprime("abx", 1, 2, model="optimal"), "model must be one of"),
    (lambda: dprime("abx", 3, 2), "correct must not exceed total"),
    (lambda: dprime("abx", 1.5, 2), "correct must be whole numbers"),
    (lambda: dprime("abx", [1, 2], 0), "total must be at least 1"),
    (lambda: dprime("abx", [1, 2], [3, 4, 5]), "same shape"),
    (lambda: dprime("abx", 1, 2, false_alarms=1, same_trials=2), "for the AX task"),
    (lambda: dprime("ax", 1, 2, false_alarms=1), "together"),
    (lambda: dprime_interval("abx", 1, 2, n_boot=0), "n_boot must be a whole number"),
    (lambda: dprime_interval("abx", 1, 2, level=95), "level must be a number between 0 and 1"),
    (lambda: proportion_correct("oddity", -1.0), r"d' must lie in \[0, 10\]"),
    (lambda: predicted_from_identification("abx", 1.2, 0.5), r"p_label_a must be probabilities in \[0, 1\]"),
    (lambda: predicted_from_identification("ax", 0.2, 0.5, model="haskins"), "for ABX"),
    (lambda: predicted_from_identification("abx", [0.2, 0.3], [0.5, 0.6, 0.7]), "same shape"),
])
def test_bad_input_is_one_clear_error(call, message):
    with pytest.raises(StimgenError, match=message) as info:
        call()
    assert "\n" not in str(info.value)
