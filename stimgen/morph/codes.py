"""Files to latent codes and back: the building blocks for designs the other verbs do not cover."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd

from stimgen.errors import StimgenError
from stimgen.morph.domain import Domain
from stimgen.morph.stimuli import StimulusSet, check_count
from stimgen.options import SEED
from stimgen.outputs import file_sha256


def encode_files(model, files: list[str | os.PathLike], onset: float | list[float | None] | None = None
                 ) -> pd.DataFrame:
    """One row per file: ``file``, ``sha256``, for sounds the window used (``onset_s``,
    ``offset_s``; ``onset`` as in :func:`stimgen.morph.continuum.continuum`) and the code
    ``z0 .. z{D-1}``.

    Parameters
    ----------
    model : StimModel
        A loaded model (:func:`stimgen.load_model`).
    files : list of str or os.PathLike
        The files to encode (sound files for an audio model, images for an image model).
    onset : float or list or None
        Where the window starts in sounds longer than the model's (seconds; one number for every
        file, or one per file); None centres it on the file's one unit.

    Returns
    -------
    pd.DataFrame
        One row per file, in the order given; ``file`` is the path as given, in POSIX form.

    Raises
    ------
    StimgenError
        For an empty ``files``, or files that cannot be read.

    Examples
    --------
    >>> from stimgen import load_model
    >>> encode_files(load_model("vowels"), ["iy.wav", "aa.wav"]).shape            # doctest: +SKIP
    (2, 34)
    """
    if not files:
        raise StimgenError("give one or more files to encode")
    domain = Domain(model)
    paths = [Path(f) for f in files]
    z = domain.encode(domain.load_files(paths, onset))
    table = pd.DataFrame({"file": [p.as_posix() for p in paths], "sha256": [file_sha256(p) for p in paths]})
    windows = [domain.representation.excerpt_record(p) for p in paths]
    if any(windows):
        table["onset_s"], table["offset_s"] = [w["onset_s"] for w in windows], [w["offset_s"] for w in windows]
    return pd.concat([table, pd.DataFrame(z, columns=[f"z{i}" for i in range(z.shape[1])])], axis=1)


def read_latents(path: str | os.PathLike, latent_dim: int) -> tuple[np.ndarray, pd.DataFrame]:
    """Codes (N, latent_dim) from a CSV with columns ``z0 .. z{latent_dim-1}``, and its other columns."""
    from stimgen.data.folder import read_table

    path = Path(path)
    if path.is_dir():
        raise StimgenError("is a folder, not a latents file (the CSV stimgen encode writes)", path=path)
    table = read_table(path, "latents file")
    zcols = [f"z{i}" for i in range(latent_dim)]
    missing = [c for c in zcols if c not in table.columns]
    extra = [str(c) for c in table.columns if str(c).startswith("z") and str(c)[1:].isdigit() and c not in zcols]
    if missing or extra:
        found = [f"no column {_names(missing)}"] if missing else []
        found += [f"column {_names(extra)}, which the model does not have"] if extra else []
        raise StimgenError(f"the model's codes are columns z0 .. z{latent_dim - 1}; the file has "
                           f"{' and '.join(found)}", path=path)
    if table.empty:
        raise StimgenError("has no rows", path=path)
    z = table[zcols].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=np.float64)
    if not np.all(np.isfinite(z)):
        raise StimgenError("has empty or non-numeric codes", path=path)
    return z, table.drop(columns=zcols)


def _names(columns: list[str], shown: int = 3) -> str:
    more = f" and {len(columns) - shown} more" if len(columns) > shown else ""
    return ", ".join(columns[:shown]) + more


def check_latents_model(path: str | os.PathLike, domain: Domain) -> None:
    """Refuse codes that ``stimgen encode`` wrote with another model: their provenance
    (``path`` with ``.json`` added, written beside the CSV) names the model's hash."""
    path = Path(path)
    provenance = path.with_name(path.name + ".json")
    if not provenance.is_file():
        return
    try:
        model = json.loads(provenance.read_text())["model"]
        name, sha256 = str(model["name"]), str(model["sha256"])
    except (OSError, ValueError, KeyError, TypeError):
        raise StimgenError("is not the provenance stimgen encode writes beside a codes CSV", path=provenance) from None
    if sha256 != domain.sha256:
        raise StimgenError(f"codes were encoded with model {name!r} (sha256 {sha256[:12]}), not with {domain.name!r} "
                           f"({domain.sha256[:12]}); decode them with --model {name}", path=path)


def decode_latents(model, latents: str | os.PathLike, seed: int = SEED, f0: float | None = None) -> StimulusSet:
    """The stimuli of the codes in a latents CSV (as :func:`encode_files` writes).

    A WORLD model voices them with its training set's median F0 and aperiodicity, or at ``f0`` Hz.

    Codes that ``stimgen encode`` wrote carry the model's hash beside them; codes of another
    model are refused.

    Parameters
    ----------
    model : StimModel
        A loaded model (:func:`stimgen.load_model`).
    latents : str or os.PathLike
        A CSV with the columns ``z0 .. z{latent_dim-1}`` (other columns are kept aside; a ``file``
        column becomes ``source_file``).
    seed : int
        Seed of the phase reconstruction of audio, recorded in the set's settings.
    f0 : float or None
        WORLD models only: the F0 in Hz to voice every code with; None uses the model's default.

    Returns
    -------
    StimulusSet
        The stimuli of kind ``"decode"``, with a table row each: ``name`` (``decoded_000``, ...),
        ``step`` and, where the CSV has a ``file`` column, ``source_file``.

    Raises
    ------
    StimgenError
        When the codes' provenance names another model or is unreadable, or the CSV lacks code
        columns, has code columns the model does not have, has no rows or more rows than a set may
        hold (:data:`stimgen.options.MAX_STIMULI`), or has empty or non-numeric codes.

    Examples
    --------
    >>> from stimgen import load_model
    >>> s = decode_latents(load_model("vowels"), "latents.csv")                   # doctest: +SKIP
    """
    domain = Domain(model)
    check_latents_model(latents, domain)
    z, other = read_latents(latents, model.latent_dim)
    check_count(len(z), f"{len(z):,} rows of codes", path=latents)
    table = pd.DataFrame({"name": [f"decoded_{k:03d}" for k in range(len(z))], "step": np.arange(len(z))})
    if "file" in other.columns:
        table["source_file"] = other["file"].astype(str).to_numpy()
    plan = domain.representation.plan(domain.decode(z), f0=f0)
    settings = {"verb": "decode", "latents": str(latents), "seed": int(seed), **plan.settings}
    return StimulusSet(domain, "decode", plan, z, table, settings, inputs=[Path(latents)])
