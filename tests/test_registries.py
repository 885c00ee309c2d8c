"""Where a name chooses behaviour, a registry maps each name to it: its names are the light
``stimgen.options`` lists the command line offers (neither can drift), and an unknown name is
refused rather than computed as some default (issue 20, item 6)."""

import numpy as np
import pytest
from scipy import special, stats

from stimgen import options
from stimgen.errors import StimgenError
from stimgen.psychometric import SIGMOID_FUNCTIONS, PsychometricFit, fit_psychometric, sigmoid_functions


def test_the_sigmoid_registry_covers_exactly_the_options():
    assert tuple(SIGMOID_FUNCTIONS) == options.SIGMOIDS


def test_the_sigmoids_compute_what_they_did_bit_for_bit():
    z = np.linspace(-8.0, 8.0, 201)
    p = np.linspace(0.001, 0.999, 199)
    e = special.expit(z)
    logistic, gauss = sigmoid_functions("logistic"), sigmoid_functions("gauss")
    assert np.array_equal(logistic.cdf(z), special.expit(z)) and np.array_equal(logistic.pdf(z), e * (1 - e))
    assert np.array_equal(logistic.ppf(p), special.logit(p))
    assert np.array_equal(gauss.cdf(z), special.ndtr(z)) and np.array_equal(gauss.pdf(z), stats.norm.pdf(z))
    assert np.array_equal(gauss.ppf(p), special.ndtri(p))


@pytest.mark.parametrize("name", ["weibull", "Logistic", "", None, ["gauss"]])
def test_an_unknown_sigmoid_is_refused_not_computed_as_gauss(name):
    with pytest.raises(StimgenError, match="sigmoid must be one of logistic, gauss"):
        sigmoid_functions(name)
    fit = PsychometricFit(name, alpha=0.5, beta=0.1, gamma=0.0, lapse=0.0)
    for use in (lambda: fit.probability([0.2, 0.5]), lambda: fit.level(0.5), lambda: fit.slope):
        with pytest.raises(StimgenError, match="sigmoid must be one of"):
            use()
    with pytest.raises(StimgenError, match="sigmoid must be one of"):
        fit_psychometric(np.repeat([0.0, 0.5, 1.0], 4), np.tile([0, 1], 6), name)


def test_the_latent_path_registry_covers_exactly_the_options():
    from stimgen.morph.continuum import LATENT_PATHS, latent_path

    assert tuple(LATENT_PATHS) == options.PATHS
    for bad in ("geodesic", None, ["linear"]):
        with pytest.raises(StimgenError, match="path must be one of linear, slerp"):
            latent_path(np.zeros(2), np.ones(2), np.array([0.0, 1.0]), bad)


def test_the_segment_registries_cover_exactly_the_kinds():
    from stimgen.signal.segment import KINDS, SPECTROGRAM_PRESETS, UNIT_FINDERS, UNIT_NAMES

    assert KINDS == options.SEGMENT_KINDS
    for registry in (UNIT_FINDERS, SPECTROGRAM_PRESETS, UNIT_NAMES):
        assert tuple(registry) == KINDS


def test_every_birdsong_family_and_builtin_set_has_its_rule():
    from stimgen.data import birdsong, builtin

    for family in birdsong.FAMILIES:
        assert birdsong._draw_parameters(family, np.random.default_rng(0))["plateau"] >= 0
    with pytest.raises(StimgenError, match="no parameters"):
        birdsong._draw_parameters("whistle", np.random.default_rng(0))
    for name in builtin.BUILTINS:
        assert builtin._settings(name, None, 0, 32)["dataset"] == name
    with pytest.raises(StimgenError, match="no settings"):
        builtin._settings("faces", None, 0, 32)


def test_an_unknown_sheet_style_is_refused(tmp_path):
    from stimgen.preview import save_sheet

    with pytest.raises(StimgenError, match="style must be 'spectrogram' or 'image'"):
        save_sheet(tmp_path / "sheet.png", [np.zeros((8, 8))], ["a"], "waveform")
    assert not (tmp_path / "sheet.png").exists()
