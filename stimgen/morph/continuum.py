"""Continua between two stimuli: a path through the latent space, re-spaced so that steps are equal.

The recipe (docs/morph.md): encode both endpoints, decode a dense path between their codes
(``dense`` points: 51, or 5 per step beyond 11 steps; linear or spherical), measure the distance
between consecutive points of the path in the chosen metric, and pick the N latent positions at
equal cumulative distance (arc-length re-parametrisation). ``spacing="linear"`` takes equal latent steps instead, as in
the GAIA paper.
"""

from __future__ import annotations

import dataclasses
import os
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from stimgen.errors import StimgenError, StimgenWarning
from stimgen.morph.domain import Domain, OneAtATime
from stimgen.morph.ends import Ends, fit_ends, folder_ends
from stimgen.morph.stimuli import StimulusSet, check_count
from stimgen.options import CONTINUUM_STEPS, ENDPOINT, ENDPOINTS, PATH, PATHS, SEED, SPACING, SPACINGS


def latent_path(za: np.ndarray, zb: np.ndarray, t: np.ndarray, path: str = PATH) -> np.ndarray:
    """Codes at positions ``t`` in [0, 1] between ``za`` (t = 0) and ``zb`` (t = 1), (len(t), D).

    ``linear``: (1 - t) za + t zb. ``slerp``: along the great circle between the two directions,
    with the norm interpolated linearly (falls back to linear for parallel codes).

    Examples
    --------
    >>> latent_path(np.zeros(2), np.ones(2), np.array([0.0, 0.5, 1.0]))
    array([[0. , 0. ],
           [0.5, 0.5],
           [1. , 1. ]])
    """
    if not isinstance(path, str) or path not in LATENT_PATHS:
        raise StimgenError(f"path must be one of {', '.join(PATHS)}, got {path!r}")
    za, zb = np.asarray(za, dtype=np.float64), np.asarray(zb, dtype=np.float64)
    return LATENT_PATHS[path](za, zb, np.asarray(t, dtype=np.float64)[:, None])


def _linear(za: np.ndarray, zb: np.ndarray, t: np.ndarray) -> np.ndarray:
    return (1.0 - t) * za + t * zb


def _slerp(za: np.ndarray, zb: np.ndarray, t: np.ndarray) -> np.ndarray:
    na, nb = np.linalg.norm(za), np.linalg.norm(zb)
    cos = float(np.clip(za @ zb / max(na * nb, 1e-12), -1.0, 1.0))
    omega = np.arccos(cos)
    if na < 1e-12 or nb < 1e-12 or np.sin(omega) < 1e-6:
        return _linear(za, zb, t)
    ua, ub = za / na, zb / nb
    direction = (np.sin((1.0 - t) * omega) * ua + np.sin(t * omega) * ub) / np.sin(omega)
    return direction * ((1.0 - t) * na + t * nb)


#: The latent paths by name (:data:`stimgen.options.PATHS`; tests/test_registries.py checks), each
#: ``f(za, zb, t)`` with ``t`` a column (len(t), 1).
LATENT_PATHS = {"linear": _linear, "slerp": _slerp}


#: The largest share of a dense path's neighbour distances that may be unmeasurable (NaN: Praat found
#: no formants at a point); those are taken from their measured neighbours'.
MAX_UNMEASURED = 0.1


def unmeasured(distances: np.ndarray) -> bool:
    """Whether more than :data:`MAX_UNMEASURED` of a dense path's distances are NaN (not measured)."""
    return bool((~np.isfinite(distances)).sum() > MAX_UNMEASURED * len(distances))


def equal_steps(t_dense: np.ndarray, distances: np.ndarray, steps: int) -> np.ndarray:
    """Positions of ``steps`` points at equal cumulative distance along a densely sampled path.

    ``distances[i]`` is the distance between the path's points at ``t_dense[i]`` and
    ``t_dense[i + 1]``; positions in between are interpolated linearly. Up to
    :data:`MAX_UNMEASURED` of the distances may be NaN (a point the metric could not measure):
    they are interpolated from their neighbours'.

    Examples
    --------
    >>> equal_steps(np.array([0.0, 0.5, 1.0]), np.array([3.0, 1.0]), 3)
    array([0.    , 0.3333, 1.    ])
    """
    distances = np.asarray(distances, dtype=np.float64)
    missing = ~np.isfinite(distances)
    if unmeasured(distances):
        raise StimgenError(f"the metric could not be measured at {int(missing.sum())} of {len(distances)} points of "
                           "the path (for formants: Praat found no voicing); use another --metric or --spacing linear")
    if missing.any():  # a few points Praat could not measure: their distances from their measured neighbours'
        index = np.arange(len(distances))
        distances = np.where(missing, np.interp(index, index[~missing], distances[~missing]), distances)
    cumulative = np.concatenate([[0.0], np.cumsum(distances)])
    if cumulative[-1] <= 1e-9:
        raise StimgenError("the two endpoints decode to the same stimulus: there is no distance to divide")
    return np.round(np.interp(np.linspace(0.0, cumulative[-1], steps), cumulative, t_dense), 4)


def continuum(
    model,
    a: str | os.PathLike,
    b: str | os.PathLike,
    steps: int = CONTINUUM_STEPS,
    spacing: str = SPACING,
    path: str = PATH,
    metric: str | None = None,
    endpoints: str = ENDPOINT,
    dense: int | None = None,
    seed: int = SEED,
    f0: str | float | None = None,
    onset: float | list[float | None] | None = None,
    at: np.ndarray | None = None,
    levels: np.ndarray | None = None,
    ends: Ends | None = None,
    model_share: float | None = None,
    own_hnr: bool = True,
) -> StimulusSet:
    """A continuum of ``steps`` stimuli from file ``a`` to file ``b`` through ``model``'s latent space.

    Parameters
    ----------
    model : StimModel
        A loaded model (:func:`stimgen.load_model`).
    a, b : str or os.PathLike
        The endpoint files (sound files for an audio model, images for an image model).
    steps : int
        Number of stimuli, endpoints included (at least 2).
    spacing : str
        ``"equal"``: neighbours equally far apart in ``metric``; ``"linear"``: equal latent steps.
    path : str
        ``"linear"`` or ``"slerp"`` interpolation between the two codes.
    metric : str or None
        ``"formants"`` (F1/F2 in Bark, Praat, on the points of the path voiced as the steps will
        be; the default for speech voiced by WORLD), ``"spectral"`` (log-mel distance, dB; the
        default for other sounds, and where Praat finds no formants on more than a tenth of a
        speech path's points, said in one warning) or ``"pixel"`` (RMS pixel difference; images).
    endpoints : str
        How the first and last steps come to be the files (:mod:`stimgen.morph.ends`):
        ``"warp"`` (the default): what the model misses at each end is warped along frequency
        and added back, mixed along the path, so that the ends are the files and the path between
        is the model's; ``"tune"``: a copy of the decoder tuned on the two files (slower);
        ``"refine"``: the codes optimised against the files; ``"residual"``: what the model
        misses, cross-faded along the path; ``"reconstruct"``: the encoder's codes decoded, the
        ends as the model makes them; ``"original"``: as ``"reconstruct"``, with steps 0 and
        N - 1 the input files themselves.
    dense : int or None
        Points of the dense path that equal spacing measures; by default 51 (which place the steps
        of 11-step vowel continua within 0.0003 of where 201 put them in log-mel, 0.0012 in
        formants; see docs/morph.md), and 5 per step beyond 11 steps. Unused with ``spacing="linear"``.
    seed : int
        Seed of the phase reconstruction of audio.
    f0 : str or float or None
        WORLD models only: ``"interpolate"`` (the default) moves F0 log-linearly from a's contour
        to b's in equal steps, ``"a"`` / ``"b"`` give every step that endpoint's contour, a number
        holds every step at that many Hz (see :func:`stimgen.signal.world.mix_voices`).
    onset : float or list or None
        Sounds longer than the model's window: where the window starts in each file (seconds;
        one number for every file, or one per file); None lets stimgen centre it on the file's one
        unit (:func:`stimgen.signal.segment.choose_excerpt`).
    at, levels : np.ndarray or None
        Latent positions of the steps given outright (``spacing`` is then unused) and the morph
        level recorded for each (default: equal steps from 0 to 1); :func:`stimgen.respace.respace`
        uses them.
    ends : Ends or None
        The ends a continuum folder recorded (:meth:`stimgen.morph.ends.Ends.from_state`), used
        instead of computing them again; :func:`stimgen.respace.respace` passes them.
    model_share : float or None
        ``"warp"`` ends of sounds: how much of each step between the ends is the model's own item,
        in [0, 1]; the rest is the two files' items moved to the step's formants (or, for other
        sounds, its warped frequencies) and mixed. By default 0.5 for speech (measured on natural
        voices: docs/results/faithful-ends.md) and 1, the model's path, for other sounds.
    own_hnr : bool
        WORLD models: each file's voice is made no noisier than the file, where WORLD's own
        analysis takes it for noisier (:func:`stimgen.signal.world.calibrate_aperiodicity`); False
        keeps WORLD's estimate, as continua made before 2026-12-08 (recorded as ``own_hnr`` in the
        folder's settings; :func:`remade_with` reads it).

    Returns
    -------
    StimulusSet
        The stimuli of kind ``"continuum"``, with a table row each: ``name`` (``step_00``, ...),
        ``step``, ``morph_level``, ``latent_t`` (the position between the codes of a and b) and
        the endpoints' file names ``endpoint_a`` and ``endpoint_b``, and the morph level at every
        point of the dense path (``path_map``; given positions ``at`` leave it to the caller).
        Write it with :func:`stimgen.export.export`.

    Raises
    ------
    StimgenError
        For fewer than 2 steps or more stimuli than a set may hold, an unknown ``spacing``,
        ``path``, ``metric`` or ``endpoints``, a ``dense`` smaller than ``steps``, an ``f0`` the
        model cannot use, endpoint files that cannot be read, endpoints that decode to the same
        stimulus, or a metric that cannot be measured along the path.

    Examples
    --------
    >>> from stimgen import load_model
    >>> from stimgen.export import export
    >>> cont = continuum(load_model("vowels"), "i.wav", "a.wav", steps=11)   # doctest: +SKIP
    >>> export(cont, "i-a")                                                   # doctest: +SKIP
    """
    if not isinstance(steps, (int, np.integer)) or isinstance(steps, bool) or steps < 2:
        raise StimgenError(f"a continuum needs at least 2 steps, got {steps!r}")
    check_count(steps, f"--steps {steps}")
    if spacing not in SPACINGS:
        raise StimgenError(f"spacing must be one of {', '.join(SPACINGS)}, got {spacing!r}")
    if endpoints not in ENDPOINTS:
        raise StimgenError(f"endpoints must be one of {', '.join(ENDPOINTS)}, got {endpoints!r}")
    dense = max(51, 5 * (steps - 1) + 1) if dense is None else dense
    if spacing == "equal" and (not isinstance(dense, (int, np.integer)) or dense < steps):
        raise StimgenError(f"equal spacing measures the path at more points than there are steps ({steps}); "
                           f"dense={dense!r} is too few")
    domain = Domain(model)
    chosen, metric = metric, domain.representation.check_metric(metric)
    a, b = Path(a), Path(b)
    domain.representation.check_f0(f0)
    x_ends = domain.load_files([a, b], onset)
    if np.array_equal(x_ends[0], x_ends[1]):
        raise StimgenError("the two endpoints decode to the same stimulus: there is no distance to divide")
    if ends is None:  # as the folder will keep them (rounded), so that what reopens it makes these steps again
        fitted = fit_ends(domain, x_ends, "reconstruct" if endpoints == "original" else endpoints, seed=seed,
                          files=[a, b], f0=f0, model_share=model_share, own_hnr=own_hnr)
        ends = dataclasses.replace(Ends.from_state(fitted.state(), fitted.decoder), seconds=fitted.seconds)
    za, zb = ends.codes
    planned = path_map = None
    if at is not None:
        t = np.round(np.asarray(at, dtype=np.float64), 4)
        steps = len(t)
    elif spacing == "equal":
        t_dense = np.linspace(0.0, 1.0, dense)
        x_dense = ends.decode(domain, latent_path(za, zb, t_dense, path), t_dense)
        voices = domain.representation.plan(x_dense, [a, b], np.stack([1 - t_dense, t_dense], axis=1), f0,
                                            detail=ends.details(domain, [a, b], t_dense), starts=ends.starts,
                                            own_hnr=own_hnr)
        planned = domain.representation.neighbour_distances(x_dense, metric, seed=seed, plan=voices)
        if chosen is None and metric == "formants" and unmeasured(planned):  # the default, where it cannot measure
            warnings.warn(StimgenWarning(
                f"Praat found no formants at {int((~np.isfinite(planned)).sum())} of {len(planned)} points of the "
                "path (no voicing, or no vowel): its steps are spaced in log-mel dB (--metric spectral) instead"),
                stacklevel=2)
            metric = "spectral"
            planned = domain.representation.neighbour_distances(x_dense, metric, seed=seed, plan=voices)
        t = equal_steps(t_dense, planned, steps)
        cumulative = np.concatenate([[0.0], np.cumsum(planned)])
        path_map = {"latent_t": t_dense.tolist(), "morph_level": (cumulative / cumulative[-1]).tolist()}
    elif spacing == "linear":
        t = np.round(np.linspace(0.0, 1.0, steps), 4)
        path_map = {"latent_t": [0.0, 1.0], "morph_level": [0.0, 1.0]}
    else:  # a spacing of options.SPACINGS with no rule here
        raise StimgenError(f"spacing {spacing!r} has no rule for placing steps")
    z = latent_path(za, zb, t, path)
    x = decoded_steps(domain, ends, z, t)
    level = np.linspace(0.0, 1.0, steps) if levels is None else np.asarray(levels, dtype=np.float64)
    sources = None
    if endpoints == "original":
        x[0], x[-1] = x_ends
        sources = [a] + [None] * (steps - 2) + [b]
    plan = domain.representation.plan(x, [a, b], np.stack([1 - level, level], axis=1), f0, sources,
                                      detail=ends.details(domain, [a, b], t), starts=ends.starts, own_hnr=own_hnr)
    table = pd.DataFrame({"name": [f"step_{k:02d}" for k in range(steps)], "step": np.arange(steps),
                          "morph_level": np.round(level, 4), "latent_t": t,
                          "endpoint_a": a.name, "endpoint_b": b.name})
    settings = {"verb": "continuum", "a": str(a), "b": str(b), "steps": int(steps),
                "spacing": spacing if at is None else "given", "path": path,
                "metric": metric, "endpoints": endpoints, "seed": int(seed)}
    if planned is not None:
        settings.update(dense=int(dense), dense_path_length=float(np.sum(planned)))
    settings.update(plan.settings)
    settings["ends_seconds"] = round(ends.seconds, 3)
    if ends.anchors is not None:
        settings["model_share"] = ends.model_share
    if own_hnr and domain.representation.voiced:
        settings["own_hnr"] = True
    return StimulusSet(domain, "continuum", plan, z, table, settings, inputs=[a, b], path_map=path_map,
                       state={"ends": ends.state()}, ends=ends, references=x_ends)


def decoded_steps(domain, ends: Ends, z: np.ndarray, t: np.ndarray) -> np.ndarray:
    """The items of steps with codes ``z`` at path positions ``t``, decoded one at a time as
    :class:`stimgen.Continuum` decodes them (:class:`~stimgen.morph.domain.OneAtATime`), so that a
    step made again on demand is this one to the bit: Griffin-Lim turns a 1e-6 difference of
    an item into tens of LSB of its sound."""
    single = OneAtATime(domain.model)
    if ends.decoder is not None:  # tuned ends: the copy decodes with the tuned weights
        single.hold(ends.decoder)
        ends = dataclasses.replace(ends, decoder=None)
    return ends.decode(single, z, t)


def remade_with(folder) -> tuple[Path, Path, dict]:
    """The endpoint files of a continuum folder (a :class:`~stimgen.stimulus_folder.StimulusFolder`;
    found as :meth:`~stimgen.stimulus_folder.StimulusFolder.found_inputs` finds them)
    and the keyword arguments of :func:`continuum` that make more steps of it as its own were
    made: ``path``, ``endpoints``, ``seed``, ``f0``, ``onset`` (the windows given with --onset),
    ``ends`` (as the folder keeps them) and ``own_hnr`` (a folder that does not record it voiced
    its files with WORLD's own aperiodicity). :func:`stimgen.respace.respace` and
    :class:`stimgen.on_demand.Continuum` use them.

    Examples
    --------
    >>> a, b, made = remade_with(read_folder("i-a", verb="continuum"))   # doctest: +SKIP
    >>> continuum(load_model("vowels"), a, b, at=[0.5], **made)          # doctest: +SKIP
    """
    record = folder.record
    settings = record.settings
    f0 = settings.get("f0")
    onsets = [i.get("onset_s") if i.get("window") == "--onset" else None for i in record.inputs[:2]]
    a, b = folder.found_inputs([settings["a"], settings["b"]])
    return a, b, {
        "path": settings.get("path", PATH), "endpoints": settings.get("endpoints", ENDPOINT), "seed": record.seed,
        "f0": float(f0) if isinstance(f0, (int, float)) else f0, "onset": onsets,
        "ends": folder_ends(folder.path, record.state), "own_hnr": bool(settings.get("own_hnr", False))}
