"""The morph API: paths, arc-length spacing, distances, attribute vectors, grids, codes."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stimgen import load_model
from stimgen.errors import StimgenError
from stimgen.morph import Domain, continuum, equal_steps, latent_path
from stimgen.morph.attributes import AttributeVectors, fit_attributes
from stimgen.morph.codes import decode_latents, encode_files
from stimgen.morph.grid import grid_weights
from stimgen.signal.distances import bark_distance, pixel_distance, spectral_distance


@pytest.fixture(scope="module")
def vowels_model():
    return load_model("vowels")


# --- paths and spacing -------------------------------------------------------------------------------
def test_linear_path_hits_both_ends_and_the_midpoint():
    za, zb = np.array([1.0, -2.0, 0.5]), np.array([3.0, 2.0, -0.5])
    z = latent_path(za, zb, np.array([0.0, 0.5, 1.0]))
    np.testing.assert_allclose(z, [za, (za + zb) / 2, zb])


def test_slerp_keeps_the_interpolated_norm_and_stays_on_the_arc():
    za, zb = np.array([2.0, 0.0]), np.array([0.0, 4.0])
    t = np.linspace(0, 1, 7)
    z = latent_path(za, zb, t, "slerp")
    np.testing.assert_allclose(np.linalg.norm(z, axis=1), 2 + 2 * t)
    angles = np.arctan2(z[:, 1], z[:, 0])
    np.testing.assert_allclose(angles, t * np.pi / 2, atol=1e-12)  # equal angular steps
    np.testing.assert_allclose(latent_path(za, 2 * za, t, "slerp"), latent_path(za, 2 * za, t))  # parallel: linear


def test_equal_steps_inverts_the_cumulative_distance():
    t_dense = np.linspace(0, 1, 5)
    # all the distance lies in the first quarter: every inner step falls inside it
    t = equal_steps(t_dense, np.array([4.0, 0.0, 0.0, 0.0]), 5)
    np.testing.assert_allclose(t, [0.0, 0.0625, 0.125, 0.1875, 1.0])
    np.testing.assert_allclose(equal_steps(t_dense, np.ones(4), 3), [0.0, 0.5, 1.0])


@pytest.mark.parametrize("distances, message", [(np.zeros(4), "same stimulus"),
                                                (np.array([1.0, np.nan, 1.0, 1.0]), "could not be measured")])
def test_equal_steps_refuses_degenerate_paths(distances, message):
    with pytest.raises(StimgenError, match=message):
        equal_steps(np.linspace(0, 1, 5), distances, 3)


def test_equal_steps_bridges_a_point_the_metric_could_not_measure():
    distances = np.ones(20)
    distances[[6, 7]] = np.nan   # one point unmeasured: both its distances are unknown
    np.testing.assert_allclose(equal_steps(np.linspace(0, 1, 21), distances, 3), [0.0, 0.5, 1.0])
    distances[12:16] = np.nan    # more than a tenth of the path: refused
    with pytest.raises(StimgenError, match="could not be measured at 6 of 20"):
        equal_steps(np.linspace(0, 1, 21), distances, 3)


def test_distances_have_their_units():
    a, b = np.zeros((2, 1, 4, 4)), np.full((2, 1, 4, 4), 0.25)
    np.testing.assert_allclose(spectral_distance(a, b, -80.0), [20.0, 20.0])
    np.testing.assert_allclose(pixel_distance(a, b), [0.25, 0.25])
    np.testing.assert_allclose(bark_distance(np.array([[1.0, 1.0]]), np.array([[4.0, 5.0]])), [5.0])


# --- continua through the shipped vowel model -------------------------------------------------------
def test_equal_spacing_evens_out_the_neighbour_distances(vowels_model, endpoints):
    domain = Domain(vowels_model)
    cv = {}
    for spacing in ("equal", "linear"):
        c = continuum(vowels_model, endpoints / "i.wav", endpoints / "a.wav", steps=9, spacing=spacing,
                      metric="spectral")
        assert c.table["latent_t"].iloc[0] == 0 and c.table["latent_t"].iloc[-1] == 1
        assert np.all(np.diff(c.table["latent_t"]) > 0)
        d = domain.representation.neighbour_distances(c.x, "spectral")
        cv[spacing] = d.std() / d.mean()
    assert cv["equal"] < 0.05 < cv["linear"]  # model-space distances: equal by construction


def test_speech_is_spaced_in_formants_by_default_and_song_in_log_mel(vowels_model, endpoints):
    assert Domain(load_model("birdsong")).representation.default_metric == "spectral"
    rep = Domain(vowels_model).representation
    cv = {}
    for metric in (None, "spectral"):
        c = continuum(vowels_model, endpoints / "i.wav", endpoints / "a.wav", steps=7, metric=metric)
        assert c.settings["metric"] == (metric or "formants")
        d = rep.neighbour_distances(c.x, "formants", plan=c.plan)  # (F1, F2) Bark of the steps as voiced
        cv[metric] = d.std() / d.mean()
    assert cv[None] < 0.1 and cv[None] < cv["spectral"] / 2


def test_default_formant_spacing_falls_back_to_log_mel_where_praat_finds_no_formants(vowels_model, endpoints,
                                                                                       monkeypatch):
    rep = type(Domain(vowels_model).representation)
    spectral = rep.neighbour_distances

    def no_formants(self, x, metric, seed=0, plan=None):
        return np.full(len(x) - 1, np.nan) if metric == "formants" else spectral(self, x, metric, seed, plan)

    monkeypatch.setattr(rep, "neighbour_distances", no_formants)
    with pytest.warns(UserWarning, match="no formants at 50 of 50 points.*--metric spectral"):
        c = continuum(vowels_model, endpoints / "i.wav", endpoints / "a.wav", steps=5)
    assert c.settings["metric"] == "spectral" and np.all(np.diff(c.table["latent_t"]) > 0)
    with pytest.raises(StimgenError, match="could not be measured"):  # asked for: refused, not replaced
        continuum(vowels_model, endpoints / "i.wav", endpoints / "a.wav", steps=5, metric="formants")


def test_original_endpoints_are_the_input_files(vowels_model, endpoints):
    c = continuum(vowels_model, endpoints / "i.wav", endpoints / "a.wav", steps=4, endpoints="original")
    assert c.plan.sources == (endpoints / "i.wav", None, None, endpoints / "a.wav")
    np.testing.assert_array_equal(c.x[0], Domain(vowels_model).load(endpoints / "i.wav"))


@pytest.mark.parametrize("kwargs, message", [({"steps": 1}, "at least 2 steps"), ({"spacing": "log"}, "spacing"),
                                             ({"metric": "pixel"}, "does not apply to audio"),
                                             ({"endpoints": "both"}, "endpoints")])
def test_continuum_refuses_bad_settings(vowels_model, endpoints, kwargs, message):
    with pytest.raises(StimgenError, match=message):
        continuum(vowels_model, endpoints / "i.wav", endpoints / "a.wav", **kwargs)


def test_the_same_file_twice_has_no_continuum(vowels_model, endpoints):
    with pytest.raises(StimgenError, match="same stimulus"):
        continuum(vowels_model, endpoints / "i.wav", endpoints / "i.wav", steps=3)


# --- attribute vectors -------------------------------------------------------------------------------
def test_ols_recovers_known_directions_with_an_intercept_and_one_hot_levels():
    rng = np.random.default_rng(0)
    n = 400
    labels = pd.DataFrame({"F1": rng.uniform(200, 900, n), "F0": rng.uniform(80, 300, n),
                           "sex": rng.choice(["f", "m"], n), "vowel": rng.choice(["a", "i", "u"], n)})
    v_f1, v_f0 = np.array([0.01, 0.0, -0.02]), np.array([0.0, 0.03, 0.0])
    v_m, v_i, v_u = np.array([1.0, 1.0, 0.0]), np.array([0.0, -2.0, 0.5]), np.array([3.0, 0.0, 0.0])
    z = (np.array([0.5, -1.0, 2.0]) + np.outer(labels.F1, v_f1) + np.outer(labels.F0, v_f0)
         + np.outer(labels.sex == "m", v_m) + np.outer(labels.vowel == "i", v_i) + np.outer(labels.vowel == "u", v_u))
    fitted = fit_attributes(z, labels, ["f1", "F0", "sex", "vowel"])
    assert fitted.names == ("F1", "F0", "sex=m", "vowel=i", "vowel=u")
    for name, true in zip(fitted.names, (v_f1, v_f0, v_m, v_i, v_u)):
        np.testing.assert_allclose(fitted.vector(name), true, atol=1e-9)
    np.testing.assert_allclose(fitted.intercept, [0.5, -1.0, 2.0], atol=1e-9)
    np.testing.assert_allclose(fitted.r2, 1.0)
    noisy = fit_attributes(z + rng.normal(0, 1.0, z.shape), labels, ["F1", "F0", "sex", "vowel"])
    assert np.all(noisy.r2 < 1.0)


def test_mean_difference_vectors():
    rng = np.random.default_rng(1)
    a = rng.normal(size=2000)
    group = np.where(rng.random(2000) < 0.5, "x", "y")
    z = np.outer(a, [2.0, 0.0]) + np.outer(group == "y", [0.0, 5.0])
    fitted = fit_attributes(z, pd.DataFrame({"a": a, "g": group}), ["a", "g"], method="mean-diff")
    np.testing.assert_allclose(fitted.vector("a"), [2.0, 0.0], atol=0.3)
    np.testing.assert_allclose(fitted.vector("g=y"), [0.0, 5.0], atol=0.2)


def test_attribute_fit_drops_incomplete_rows_and_names_missing_columns():
    labels = pd.DataFrame({"a": [1.0, 2.0, np.nan, 4.0, 5.0, 6.0]})
    z = np.arange(12, dtype=float).reshape(6, 2)
    assert fit_attributes(z, labels, ["a"]).n == 5
    with pytest.raises(StimgenError, match="no column 'F9'"):
        fit_attributes(z, labels, ["F9"])


def test_vectors_round_trip_through_json_and_refuse_another_model(tmp_path, vowels_model):
    fitted = fit_attributes(np.random.default_rng(0).normal(size=(50, 32)),
                            pd.DataFrame({"f1": np.arange(50.0)}), ["f1"])
    vectors = AttributeVectors(fitted.names, fitted.vectors, fitted.intercept, fitted.r2, "ols", ("f1",), 50,
                               model_sha256="0" * 64)
    vectors.save(tmp_path / "v.json")
    loaded = AttributeVectors.load(tmp_path / "v.json")
    np.testing.assert_array_equal(loaded.vector("F1"), vectors.vector("f1"))
    with pytest.raises(StimgenError, match="fitted on another model"):
        loaded.check_model(Domain(vowels_model), tmp_path / "v.json")
    (tmp_path / "bad.json").write_text("{}")
    with pytest.raises(StimgenError, match="bad.json: not a stimgen attribute-vectors file"):
        AttributeVectors.load(tmp_path / "bad.json")


# --- grids and codes -----------------------------------------------------------------------------------
def test_grid_weights_put_each_anchor_at_its_corner():
    uv, w = grid_weights(4, 3)
    assert len(uv) == 9
    np.testing.assert_allclose(w.sum(1), 1.0)
    corners = {(0.0, 0.0): 0, (1.0, 0.0): 1, (0.0, 1.0): 2, (1.0, 1.0): 3}
    for (u, v), k in corners.items():
        row = np.flatnonzero((uv[:, 0] == u) & (uv[:, 1] == v))[0]
        np.testing.assert_array_equal(w[row], np.eye(4)[k])
    uv3, w3 = grid_weights(3, 4)
    assert len(uv3) == 10 and np.all(uv3.sum(1) <= 1 + 1e-9)
    np.testing.assert_allclose(w3.sum(1), 1.0)
    with pytest.raises(StimgenError, match="3 or 4 anchors"):
        grid_weights(2, 3)


def test_encode_then_decode_gives_the_reconstructions(tmp_path, vowels_model, endpoints):
    files = [endpoints / "i.wav", endpoints / "u.wav"]
    table = encode_files(vowels_model, files)
    assert list(table.columns[:4]) == ["file", "sha256", "onset_s", "offset_s"]   # the window of each sound
    assert table.shape == (2, 4 + vowels_model.latent_dim)
    table.to_csv(tmp_path / "codes.csv", index=False, float_format="%.9g")
    decoded = decode_latents(vowels_model, tmp_path / "codes.csv")
    domain = Domain(vowels_model)
    expected = domain.decode(domain.encode(np.stack([domain.load(f) for f in files])))
    np.testing.assert_allclose(decoded.x, expected, atol=1e-5)
    table.drop(columns="z3").to_csv(tmp_path / "short.csv", index=False)
    with pytest.raises(StimgenError, match="short.csv: the model's codes are columns z0 .. z31; the file has no "
                                           "column z3$"):
        decode_latents(vowels_model, tmp_path / "short.csv")


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(0.01, 10.0), min_size=3, max_size=40), st.integers(2, 12))
def test_equal_steps_cut_the_path_into_equal_lengths(distances, steps):
    distances = np.array(distances)
    t_dense = np.linspace(0.0, 1.0, len(distances) + 1)
    t = equal_steps(t_dense, distances, steps)
    assert t[0] == 0.0 and t[-1] == 1.0 and np.all(np.diff(t) >= 0)
    # the path's length up to each step, with the distance spread evenly inside each dense interval
    cumulative = np.interp(t, t_dense, np.concatenate([[0.0], np.cumsum(distances)]))
    target = distances.sum() / (steps - 1)
    np.testing.assert_allclose(np.diff(cumulative), target, rtol=0, atol=5e-3 * distances.sum())  # t is rounded
