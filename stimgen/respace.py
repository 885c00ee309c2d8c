"""Re-spacing a continuum by a listener's psychometric function (``stimgen respace``).

The fitted function (:mod:`stimgen.psychometric`) maps morph level to P("B"). ``equal-probability``
puts the new steps at equal steps of P from ``p_range[0]`` to ``p_range[1]``; ``boundary`` packs
them evenly within two spreads (``beta``) of the PSE. Each new level becomes a latent position
through the old continuum's own ``morph_level -> latent_t`` mapping (its manifest), and the new
continuum is made by the same model from the same endpoints with the same path, seed, voice policy
and render settings (all read from the old folder's record, :mod:`stimgen.stimulus_folder`); its
manifest records the fit it came from, and ``respace.png`` shows the old and the new steps on the
fitted curve.

Examples
--------
>>> stimuli, render, picture = respace("i-a", "fit/fit.json", steps=9)      # doctest: +SKIP
>>> export(stimuli, "i-a-respaced", render, after=picture)                  # doctest: +SKIP
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from stimgen.errors import StimgenError
from stimgen.morph.stimuli import check_count
from stimgen.options import P_RANGE, RESPACE_SCHEME
from stimgen.options import RESPACE_SCHEMES as SCHEMES


def respace(continuum_dir: str | os.PathLike, fit_file: str | os.PathLike, steps: int | None = None,
            scheme: str = RESPACE_SCHEME, p_range: tuple[float, float] = P_RANGE,
            keep_endpoints: bool = False, model: str | None = None):
    """A new continuum between the endpoints of ``continuum_dir``, placed by the fit in ``fit_file``.

    Returns the :class:`~stimgen.morph.stimuli.StimulusSet`, the old continuum's render settings
    and the step that draws ``respace.png`` (export it with ``render`` and ``after=picture``).
    Raises :class:`StimgenError` for a fit of another continuum or of none (data with no
    manifest), a fit of falling data, a fit with no boundary inside the continuum (flat, or its
    PSE outside [0, 1]), a continuum whose stimuli or manifest.csv differ from its manifest.json,
    and endpoint files or a model that are no longer there or not the ones the continuum was made
    from (sha256).
    """
    from stimgen.morph.continuum import continuum, remade_with
    from stimgen.outputs import file_sha256
    from stimgen.psychometric import falls, load_fit
    from stimgen.stimulus_folder import MANIFEST_CSV, read_folder

    old = read_folder(continuum_dir, verb="continuum", what="a continuum folder")
    folder, manifest = old.path, old.manifest
    old.check_stimuli()
    a, b, made = remade_with(old)  # the same path, seed, voices and ends as the continuum had
    old.check_inputs([a, b])  # the endpoints it remakes from
    fit, record = load_fit(fit_file)
    _check_fitted_on(record, folder / MANIFEST_CSV, fit_file)
    if scheme not in SCHEMES:
        raise StimgenError(f"--scheme must be one of {', '.join(SCHEMES)}, got {scheme!r}")
    low, high = p_range
    if not 0 < low < high < 1:
        raise StimgenError(f"the probability range must lie inside (0, 1), low before high; got {low:g}, {high:g}")
    if record["pooled"].get("falling") or falls(pd.DataFrame(record["data"]), fit.sigmoid):
        raise StimgenError("was fitted to falling data (P(B) drops as the morph level rises: labels swapped?); "
                           "respace needs a rising function: refit with the labels the right way round",
                           path=fit_file)
    p0, p1 = fit.probability([0.0, 1.0])
    if not (fit.slope > 0 and p0 < 0.5 < p1 and 0 <= fit.pse <= 1):
        raise StimgenError(f"the fitted function has no boundary inside the continuum (P(B) {p0:.2f} at level 0, "
                           f"{p1:.2f} at level 1, PSE {fit.pse:.2f}): nothing to re-space by", path=fit_file)
    steps = len(manifest) if steps is None else steps
    if not isinstance(steps, (int, np.integer)) or steps < 2:
        raise StimgenError(f"--steps must be at least 2, got {steps!r}")
    check_count(steps, f"--steps {steps}")  # before any stimulus is made
    if scheme == "equal-probability":
        lo, hi = max(low, p0 + 1e-3), min(high, p1 - 1e-3)  # within what the function reaches on [0, 1]
        levels = np.clip(fit.level(np.linspace(lo, hi, steps)), 0.0, 1.0)
    elif scheme == "boundary":
        levels = np.clip(np.linspace(fit.pse - 2 * fit.beta, fit.pse + 2 * fit.beta, steps), 0.0, 1.0)
    else:  # a scheme of options.RESPACE_SCHEMES with no rule here
        raise StimgenError(f"--scheme {scheme!r} has no rule for placing steps")
    if keep_endpoints:
        levels[0], levels[-1] = 0.0, 1.0
    order = np.argsort(manifest["morph_level"].to_numpy())
    t = np.interp(levels, manifest["morph_level"].to_numpy()[order], manifest["latent_t"].to_numpy()[order])
    loaded = old.load_model(model)
    stimuli = continuum(loaded, a, b, at=t, levels=np.round(levels, 4), **made)
    stimuli.path_map = old.record.path_map   # the same path between the same codes
    stimuli.settings["respaced_from"] = {
        "continuum": str(folder.resolve()), "manifest_sha256": file_sha256(folder / MANIFEST_CSV),
        "fit": str(Path(fit_file).resolve()), "fit_sha256": file_sha256(Path(fit_file)), "scheme": scheme,
        "p_range": [low, high], "keep_endpoints": keep_endpoints,
        "predicted_p": np.round(fit.probability(levels), 4).tolist(), "pse": fit.pse}
    stimuli.table["predicted_p"] = np.round(fit.probability(levels), 4)
    return stimuli, old.record.render, respace_picture(fit, record)


def _check_fitted_on(record: dict, manifest: Path, fit_file: str | os.PathLike) -> None:
    """Refuse a fit that names no continuum (its data carried no manifest) or another one than
    ``manifest``'s."""
    from stimgen.outputs import file_sha256

    if record.get("manifest") is None:
        raise StimgenError("names no continuum (its data carried no manifest): refit with --continuum "
                           f"{manifest.parent}", path=fit_file)
    if record["manifest"]["sha256"] != file_sha256(manifest):
        raise StimgenError(f"was fitted on another continuum than {manifest.parent} (the sha256 of its "
                           f"{manifest.name} differs)", path=fit_file)


def respace_picture(fit, record: dict):
    """The ``after`` step of the export: ``respace.png``, the old steps (the pilot's data) and the new
    ones on the fitted curve."""
    from stimgen.psychometric import plot_fit

    table = pd.DataFrame(record["data"])

    def draw(folder: Path, manifest: pd.DataFrame) -> None:
        plot_fit(fit, table, folder / "respace.png", steps=manifest["morph_level"].to_numpy())

    return draw
