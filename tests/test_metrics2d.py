"""The Table 1 metrics on cases with known answers, and the 2D pipeline end to end on quick settings."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from stimgen.errors import StimgenError
from stimgen.metrics2d import (
    distance_correlation,
    kde_logpdf,
    kl_divergence,
    mean_log_likelihood,
    ols_intercepts,
    select_bandwidth,
)

REPO = Path(__file__).resolve().parents[1]


def moons(n, seed):
    from sklearn.datasets import make_moons

    return make_moons(n, noise=0.05, random_state=seed)[0]


def test_r_of_a_set_with_itself_is_one_and_falls_for_a_scrambled_code():
    x = np.random.default_rng(0).normal(size=(300, 2))
    assert distance_correlation(x, x) == pytest.approx(1.0, abs=1e-12)
    # distances are kept by rotations and scalings: r = 1 for any similarity transform
    rot = np.array([[np.cos(1.0), -np.sin(1.0)], [np.sin(1.0), np.cos(1.0)]])
    assert distance_correlation(x, 2.5 * x @ rot + 7) == pytest.approx(1.0, abs=1e-12)
    # a code unrelated to x keeps no structure
    z = np.random.default_rng(1).normal(size=(300, 2))
    assert abs(distance_correlation(x, z)) < 0.1
    # a warped code keeps some
    assert 0.3 < distance_correlation(x, np.tanh(3 * x)) < 0.99


def test_kde_is_a_normalised_density():
    sample = np.random.default_rng(0).normal(size=(50, 2))
    h = 0.4
    g = np.linspace(-6, 6, 241)
    gx, gy = np.meshgrid(g, g)
    dens = np.exp(kde_logpdf(np.stack([gx.ravel(), gy.ravel()], 1), sample, h))
    assert dens.sum() * (g[1] - g[0]) ** 2 == pytest.approx(1.0, abs=1e-3)
    # one kernel at 0 is the normal density with sd h
    assert kde_logpdf(np.zeros((1, 2)), np.zeros((1, 2)), h)[0] == pytest.approx(-np.log(2 * np.pi * h * h))


def test_log_likelihood_of_samples_from_the_density_beats_samples_shifted_away():
    ref = moons(5000, 0)
    h = select_bandwidth(ref, moons(1000, 1))
    inside = moons(500, 2)
    assert mean_log_likelihood(inside, ref, h) > mean_log_likelihood(inside + [0.0, 0.3], ref, h) + 1.0
    assert mean_log_likelihood(inside + [0.0, 0.3], ref, h) > mean_log_likelihood(inside + [0.0, 1.5], ref, h)


def test_bandwidth_selection_picks_a_small_bandwidth_for_a_thin_set_and_a_large_one_for_a_wide_set():
    rng = np.random.default_rng(0)
    thin = select_bandwidth(moons(2000, 0), moons(500, 1))
    wide = select_bandwidth(rng.normal(size=(2000, 2)) * 3, rng.normal(size=(500, 2)) * 3)
    assert thin < 0.2 < wide


def test_kl_of_a_density_to_itself_is_about_zero_and_grows_with_a_shift():
    p, q, ev = moons(1000, 0), moons(1000, 1), moons(3000, 2)
    h = select_bandwidth(p, moons(1000, 3))
    same = kl_divergence(p, q, ev, h)
    assert abs(same) < 0.1
    shifted = kl_divergence(p, q + [0.0, 0.2], ev, h)
    assert shifted > same + 0.5
    assert kl_divergence(p, q + [0.0, 0.6], ev, h) > shifted
    # a model that covers only half the data pays for the missing half
    half = q[q[:, 0] < 0.5]
    assert kl_divergence(p, half, ev, h) > same + 0.5


def test_ols_intercepts_recover_known_model_effects():
    rng = np.random.default_rng(0)
    models, datasets = ["AE", "VAE", "GAIA"], ["blobs", "circles", "moons", "s_curve"]
    effect = {"AE": 0.5, "VAE": 0.7, "GAIA": 0.9}
    shift = {"blobs": -0.6, "circles": 0.2, "moons": 0.1, "s_curve": 0.3}
    rows = [(m, d, effect[m] + shift[d] + rng.normal(0, 1e-3)) for m in models for d in datasets]
    m, d, y = zip(*rows)
    treat = ols_intercepts(y, m, d)  # reference: blobs, the alphabetically first
    for k in models:
        assert treat[k] == pytest.approx(effect[k] + shift["blobs"], abs=5e-3)
    assert treat["AE"] < 0  # an intercept can be negative although no value is: -0.1 on blobs
    summed = ols_intercepts(y, m, d, coding="sum")
    for k in models:
        assert summed[k] == pytest.approx(effect[k] + np.mean(list(shift.values())), abs=5e-3)
    other = ols_intercepts(y, m, d, reference="moons")
    assert other["GAIA"] - other["AE"] == pytest.approx(0.4, abs=5e-3)
    assert other["AE"] == pytest.approx(0.6, abs=5e-3)


@pytest.mark.parametrize("call", [
    lambda: distance_correlation(np.zeros((5, 2)), np.zeros((4, 2))),
    lambda: distance_correlation(np.ones((5, 2)), np.ones((5, 2))),
    lambda: kde_logpdf(np.zeros((3, 2)), np.zeros((3, 3)), 0.1),
    lambda: kde_logpdf(np.zeros((3, 2)), np.zeros((3, 2)), 0.0),
    lambda: mean_log_likelihood(np.array([[np.nan, 0.0]]), np.zeros((3, 2)), 0.1),
    lambda: ols_intercepts([1.0, 2.0], ["a", "b"], ["u"]),
    lambda: ols_intercepts([1.0, 2.0], ["a", "b"], ["u", "v"], coding="helmert"),
    lambda: ols_intercepts([1.0, 2.0], ["a", "b"], ["u", "v"]),  # model and data set confounded
])
def test_bad_inputs_raise_stimgen_errors(call):
    with pytest.raises(StimgenError):
        call()


def test_quick_pipeline_end_to_end(tmp_path):
    out = tmp_path / "t1"
    done = subprocess.run([sys.executable, str(REPO / "experiments" / "table1.py"), "--quick", "--out", str(out)],
                          cwd=tmp_path, capture_output=True, text=True, timeout=170, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stderr[-3000:]
    md = (out / "table1.md").read_text()
    for name in ("s_curve", "swiss_roll", "moons", "circles", "blobs"):
        assert (out / "table1" / f"figure2_{name}.png").stat().st_size > 10_000
    per_seed = pd.read_csv(out / "table1" / "per_seed.csv")
    assert len(per_seed) == 25 and set(per_seed["model"]) == {"AE", "VAE", "GAIA ll=0", "GAIA ll=1", "ACAI"}
    assert np.isfinite(per_seed[["r_xz", "ll_int", "ll_rec", "kl_int", "kl_rec"]].to_numpy()).all()
    # the main table: a row per model with 10 finite numbers (ours and the paper's; ACAI has no paper value)
    table = md.split("## Table 1")[1].split("\n\n")[2].splitlines()
    rows = {line.split("|")[1].strip(): line.split("|")[2:-1] for line in table[2:]}
    assert list(rows) == ["AE", "VAE", "GAIA ll=0", "GAIA ll=1", "ACAI"]
    for model, cells in rows.items():
        ours = [float(c.split("±")[0]) for c in cells[0::2]]
        assert len(ours) == 5 and np.isfinite(ours).all(), model
    # intercepts in the CSV agree with an OLS fit of the per-seed figures
    ints = pd.read_csv(out / "table1" / "intercepts_per_seed.csv")
    r = ints[(ints.metric == "r_xz") & (ints.coding == "sum")].set_index("model")["value"]
    assert r["AE"] == pytest.approx(per_seed[per_seed.model == "AE"]["r_xz"].mean(), abs=1e-4)
    assert "Closing note" in md and "reproduced" in md


def test_quick_needs_an_explicit_output_folder():
    done = subprocess.run([sys.executable, str(REPO / "experiments" / "table1.py"), "--quick"],
                          capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert done.returncode == 2 and "--out" in done.stderr
