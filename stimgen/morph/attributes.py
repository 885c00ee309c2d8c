"""Attribute vectors: latent directions per unit of a labelled attribute, and edits along them.

``ols``: regress the codes on the attributes with an intercept, Z = [1, A] B + E, numeric
columns as they are and categorical ones one-hot (the first level in sorted order is the
reference). Each row of B is the latent direction per unit of its attribute with the others
held constant. ``mean-diff``: for a numeric column, the difference of mean codes between the
items above and below its median, divided by the difference of the column's means there; for a
level of a categorical column, its mean code minus the reference level's. The R² per latent
dimension is that of the OLS fit in both cases: how much of each dimension the attributes explain.
"""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

import stimgen
from stimgen.errors import StimgenError
from stimgen.morph.domain import Domain
from stimgen.morph.stimuli import StimulusSet, check_count
from stimgen.options import ATTRIBUTE_METHOD, ATTRIBUTE_METHODS, CALIBRATE, SEED
from stimgen.outputs import atomic_file
from stimgen.representations.representation import MEDIA, RenderPlan

METHODS = ATTRIBUTE_METHODS
#: Attributes whose edits can be measured on the sound, and the feature that measures them.
FEATURE_OF_ATTRIBUTE = {"f0": "f0_hz", "f1": "f1_hz", "f2": "f2_hz"}


@dataclass(frozen=True)
class AttributeVectors:
    """Latent directions fitted on a model's codes; saved as JSON with the model's hash."""

    names: tuple[str, ...]
    vectors: np.ndarray      # (len(names), latent_dim): the direction per unit of each attribute
    intercept: np.ndarray    # (latent_dim,)
    r2: np.ndarray           # (latent_dim,) R² of the OLS fit per latent dimension
    method: str
    columns: tuple[str, ...]
    n: int
    model_sha256: str = ""
    data: str = ""

    def index(self, attribute: str) -> int:
        """Where ``attribute`` is among ``names`` (case-insensitive; ``column=level`` for categorical levels)."""
        lookup = {name.lower(): i for i, name in enumerate(self.names)}
        if attribute.lower() not in lookup:
            raise StimgenError(f"no vector for attribute {attribute!r}; the file has {', '.join(self.names)}")
        return lookup[attribute.lower()]

    def vector(self, attribute: str) -> np.ndarray:
        """The direction of ``attribute`` (case-insensitive; ``column=level`` for categorical levels)."""
        return self.vectors[self.index(attribute)]

    def to_dict(self) -> dict:
        """The JSON object :meth:`save` writes: stimgen version, model hash, data, method, columns,
        ``n``, one vector per name, the intercept and the R² per latent dimension."""
        return {"stimgen_version": stimgen.__version__, "model_sha256": self.model_sha256, "data": self.data,
                "method": self.method, "columns": list(self.columns), "n": self.n,
                "vectors": {name: [float(v) for v in vec] for name, vec in zip(self.names, self.vectors)},
                "intercept": [float(v) for v in self.intercept], "r2": [float(v) for v in self.r2]}

    def save(self, path: str | os.PathLike, force: bool = False) -> None:
        """Write the vectors as JSON; an existing file is replaced only with ``force``."""
        with atomic_file(path, force) as tmp:
            tmp.write_text(json.dumps(self.to_dict(), indent=2) + "\n")

    @classmethod
    def load(cls, path: str | os.PathLike) -> "AttributeVectors":
        """Vectors from a JSON file as :meth:`save` writes it.

        Parameters
        ----------
        path : str or os.PathLike
            The vectors file.

        Returns
        -------
        AttributeVectors

        Raises
        ------
        StimgenError
            Naming the file, when it does not exist or is not a stimgen attribute-vectors file.
        """
        path = Path(path)
        if not path.is_file():
            raise StimgenError("is a folder, not a vectors file" if path.is_dir() else "no such vectors file",
                               path=path)
        try:
            d = json.loads(path.read_text())
            names = tuple(d["vectors"])
            vectors = np.array([d["vectors"][k] for k in names], dtype=np.float64)
            if vectors.ndim != 2 or not names:
                raise ValueError("vectors must be a non-empty mapping of equal-length lists")
            loaded = cls(names, vectors, np.asarray(d["intercept"], dtype=np.float64),
                         np.asarray(d["r2"], dtype=np.float64), d["method"], tuple(d["columns"]), int(d["n"]),
                         d.get("model_sha256", ""), d.get("data", ""))
        except (json.JSONDecodeError, UnicodeDecodeError, KeyError, TypeError, ValueError) as exc:
            raise StimgenError(f"not a stimgen attribute-vectors file ({exc.__class__.__name__}: {exc})",
                               path=path) from None
        bad = [n for n, v in zip(names, vectors) if not np.all(np.isfinite(v))]
        if bad or not np.all(np.isfinite(loaded.intercept)):
            what = f"the vector of {', '.join(bad)}" if bad else "the intercept"
            raise StimgenError(f"{what} holds NaN, infinite or empty numbers: fit the vectors again "
                               "(stimgen attributes fit)", path=path)
        return loaded

    def check_model(self, domain: Domain, path: str | os.PathLike | None = None) -> None:
        """Refuse vectors fitted on another model (a different weights hash)."""
        if self.model_sha256 != domain.sha256:
            raise StimgenError(f"vectors were fitted on another model (sha256 {self.model_sha256[:12]}), "
                               f"not on {domain.name!r} ({domain.sha256[:12]}); fit them again on this model",
                               path=path)
        if self.vectors.shape[1] != domain.model.latent_dim:
            raise StimgenError(f"vectors have {self.vectors.shape[1]} dimensions, the model's codes "
                               f"{domain.model.latent_dim}", path=path)


def fit_attributes(z: np.ndarray, labels: pd.DataFrame, columns: list[str],
                   method: str = ATTRIBUTE_METHOD) -> AttributeVectors:
    """Fit one latent direction per attribute (or per categorical level) on codes ``z`` (N, D).

    ``labels`` has one row per code; ``columns`` name its attributes (case-insensitive). Rows with
    a missing value in any of them are left out.

    Parameters
    ----------
    z : np.ndarray
        Latent codes (N, D).
    labels : pd.DataFrame
        N rows of labels, one per code.
    columns : list of str
        The attribute columns of ``labels``: numeric ones as they are, others one-hot, with the
        first level in sorted order as the reference.
    method : str
        ``"ols"`` or ``"mean-diff"`` (see the module's docstring).

    Returns
    -------
    AttributeVectors
        One direction per unit of each numeric attribute and per categorical level other than the
        reference (named ``column=level``), with the OLS intercept, the R² per latent dimension and
        the number of rows used; ``model_sha256`` and ``data`` are left empty
        (:func:`fit_model_attributes` fills them).

    Raises
    ------
    StimgenError
        For an unknown ``method``, codes that are not (N, D) with one row per label row, columns
        that are missing, named twice or take a single value, no complete row, too few rows for the
        terms, or columns that are combinations of each other.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> a = rng.normal(size=200)
    >>> z = np.outer(a, [2.0, 0.0]) + 0.01 * rng.normal(size=(200, 2))
    >>> v = fit_attributes(z, pd.DataFrame({"size": a}), ["size"])
    >>> np.round(v.vector("size"), 2) + 0.0      # + 0.0 turns -0. into 0.
    array([2., 0.])
    """
    if method not in METHODS:
        raise StimgenError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
    z = np.asarray(z, dtype=np.float64)
    if z.ndim != 2 or len(z) != len(labels):
        raise StimgenError(f"codes must be (N, D) with one row per label row, got {z.shape} for {len(labels)} rows")
    table, keep = attribute_table(labels, columns)
    cols, z = list(table.columns), z[keep]
    design, names, parts = [np.ones(len(table))], [], []
    for c in cols:
        values = table[c]
        if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
            design.append(values.to_numpy(dtype=np.float64))
            names.append(c)
            parts.append((c, None))
        else:
            levels = sorted(values.astype(str).unique())
            for level in levels[1:]:
                design.append((values.astype(str) == level).to_numpy(dtype=np.float64))
                names.append(f"{c}={level}")
                parts.append((c, level))
    X = np.stack(design, axis=1)
    if len(X) <= X.shape[1]:
        raise StimgenError(f"{len(X)} complete rows are too few to fit {X.shape[1] - 1} attribute terms and an "
                           f"intercept; give at least {X.shape[1] + 1}")
    if np.linalg.matrix_rank(X) < X.shape[1]:
        raise StimgenError(f"the columns {', '.join(map(repr, cols))} cannot be told apart: one of them is a "
                           "combination of the others in these rows; leave one out")
    beta, *_ = np.linalg.lstsq(X, z, rcond=None)
    residual = z - X @ beta
    total = np.sum((z - z.mean(0)) ** 2, axis=0)
    r2 = 1.0 - np.sum(residual**2, axis=0) / np.where(total > 0, total, np.nan)
    if method == "ols":
        vectors = beta[1:]
    elif method == "mean-diff":
        vectors = np.stack([_mean_difference(z, table[c], level) for c, level in parts])
    else:  # a method of options.ATTRIBUTE_METHODS with no rule here
        raise StimgenError(f"method {method!r} has no rule for fitting vectors")
    return AttributeVectors(tuple(names), vectors, beta[0], r2, method, tuple(cols), int(len(X)))


def attribute_table(labels: pd.DataFrame, columns: list[str]) -> tuple[pd.DataFrame, np.ndarray]:
    """The rows of ``labels``' attribute ``columns`` (case-insensitive) that have a value in each, and
    which rows those are (a boolean mask); refused where the columns cannot be fitted.

    Examples
    --------
    >>> table, keep = attribute_table(pd.DataFrame({"F1": [300, None, 700]}), ["f1"])
    >>> table["F1"].tolist(), keep.tolist()
    ([300.0, 700.0], [True, False, True])
    """
    if not columns:
        raise StimgenError("name at least one attribute column")
    lookup = {c.lower(): c for c in labels.columns}
    missing = [c for c in columns if c.lower() not in lookup]
    if missing:
        raise StimgenError(f"no column {', '.join(map(repr, missing))} in the labels "
                           f"(columns: {', '.join(map(str, labels.columns))})")
    cols = [lookup[c.lower()] for c in columns]
    repeated = sorted({c for c in cols if cols.count(c) > 1})
    if repeated:
        raise StimgenError(f"column {', '.join(map(repr, repeated))} is named more than once; name each attribute once")
    table = labels[cols].reset_index(drop=True)
    keep = table.notna().all(axis=1).to_numpy()
    table = table[keep]
    if table.empty:
        raise StimgenError(f"no row has a value in every one of the columns {', '.join(map(repr, cols))}")
    for c in cols:
        if table[c].nunique() < 2:
            value = table[c].iloc[0]
            value = value.item() if isinstance(value, np.generic) else value
            raise StimgenError(f"column {c!r} takes a single value ({value!r}) in the {len(table)} rows used; "
                               "there is nothing to fit a direction to")
    return table, keep


def _mean_difference(z: np.ndarray, values: pd.Series, level: str | None) -> np.ndarray:
    if level is None:
        v = values.to_numpy(dtype=np.float64)
        upper = v > np.median(v)
        if upper.all() or not upper.any():
            raise StimgenError(f"column {values.name!r} takes one value; no direction to find")
        return (z[upper].mean(0) - z[~upper].mean(0)) / (v[upper].mean() - v[~upper].mean())
    s = values.astype(str).to_numpy()
    reference = sorted(set(s))[0]
    return z[s == level].mean(0) - z[s == reference].mean(0)


def fit_model_attributes(model, columns: list[str], data: str | os.PathLike | None = None,
                         method: str = ATTRIBUTE_METHOD, progress: bool = False) -> AttributeVectors:
    """Fit attribute vectors on ``model``'s codes of a data set.

    ``data=None`` uses the model's own training items (their codes and labels in the model
    folder's ``latents.csv``); otherwise a built-in set's name or a folder with ``labels.csv``,
    encoded here.

    Examples
    --------
    >>> from stimgen import load_model
    >>> v = fit_model_attributes(load_model("vowels"), ["F1", "F2", "F0", "sex"])   # doctest: +SKIP
    """
    domain = Domain(model)
    if data is None:
        path = Path(model.info["path"]) / "latents.csv"
        if not path.is_file():
            raise StimgenError("model folder has no latents.csv; give the data to fit on", path=path.parent)
        table = pd.read_csv(path)
        zcols = [c for c in table.columns if c.startswith("z") and c[1:].isdigit()]
        z, labels, source = table[zcols].to_numpy(), table.drop(columns=zcols), f"{domain.name}/latents.csv"
    else:
        from stimgen.data import open_dataset

        ds = open_dataset(data, progress=progress)
        attribute_table(ds.labels, columns)  # bad columns are refused before the files are encoded
        rep = domain.representation
        if ds.medium != rep.medium:
            raise StimgenError(f"holds {MEDIA[ds.medium][2]}, but model {domain.name!r} makes {MEDIA[rep.medium][2]}",
                               path=ds.root)
        ds.warn_cropped(rep.duration if ds.medium == "audio" else None, "for fitting the vectors")
        x = rep.dataset_items(ds, progress=progress)
        z = np.concatenate([domain.encode(x[i : i + 256]) for i in range(0, len(x), 256)])
        labels, source = ds.labels, str(data)
    return dataclasses.replace(fit_attributes(z, labels, columns, method), model_sha256=domain.sha256, data=source)


def measured_feature(domain: Domain, attribute: str) -> str | None:
    """The feature (:mod:`stimgen.signal.features`) that measures ``attribute`` on this model's stimuli, if any."""
    feature = FEATURE_OF_ATTRIBUTE.get(attribute.lower())
    return feature if feature in domain.representation.features else None


def calibrated_offsets(domain: Domain, z0: np.ndarray, direction: np.ndarray, feature: str, values: np.ndarray,
                       seed: int = 0, span: float = 8.0, points: int = 41,
                       base: RenderPlan | None = None) -> tuple[np.ndarray, dict]:
    """Steps along ``direction`` that change ``feature`` by ``values``, as measured.

    The vector's own scale is a linear estimate; a decoder need not follow it. So the item is
    decoded at ``points`` steps from -``span`` to +``span`` times the largest requested value,
    made into stimuli at the model's rate and measured by its representation (Praat); an isotonic
    regression of the change on the step (scikit-learn) gives a monotonic response curve, inverted at the
    requested values. A value outside the range the model reaches along the vector is refused.
    Every point is made as ``base``'s one stimulus is (its voice, for WORLD models; None: as the
    representation makes items from no file). Returns the steps and the measured curve (for the
    provenance).
    """
    from sklearn.isotonic import IsotonicRegression

    reach = span * float(np.max(np.abs(values)))
    steps = np.linspace(-reach, reach, points)
    rep, x = domain.representation, domain.decode(z0 + steps[:, None] * direction)
    features = rep.measure(rep.plan(x) if base is None else base.each(x), seed=seed)
    measured = np.array([f[feature] for f in features])
    ok = np.isfinite(measured)
    if ok.sum() < points // 2:
        raise StimgenError(f"Praat could measure {feature} at only {int(ok.sum())} of {points} points along the "
                           "vector; edit without calibration (--no-calibrate)")
    change = measured - np.interp(0.0, steps[ok], measured[ok])
    increasing = bool(np.corrcoef(steps[ok], change[ok])[0, 1] > 0)
    fitted = IsotonicRegression(increasing=increasing).fit(steps[ok], change[ok]).predict(steps[ok])
    levels, where = np.unique(fitted, return_inverse=True)  # a flat stretch stands for its middle step
    centres = np.array([steps[ok][where == k].mean() for k in range(len(levels))])
    outside = values[(values < levels[0]) | (values > levels[-1])]
    if outside.size:
        raise StimgenError(f"the model does not reach a change of {outside[0]:+g} in {feature} along this vector "
                           f"(measured {levels[0]:+.0f} to {levels[-1]:+.0f}); ask for less, or edit without "
                           "calibration (--no-calibrate)")
    curve = {"steps": steps.round(3).tolist(), "measured_change": [None if not np.isfinite(c) else round(float(c), 2)
                                                                     for c in change]}
    return np.interp(values, levels, centres), curve


def edit(model, source: str | os.PathLike, vectors: AttributeVectors | None, attribute: str, values, seed: int = SEED,
         vectors_path: str | os.PathLike | None = None, calibrate: bool = CALIBRATE,
         f0: str | float | None = None, onset: float | None = None) -> StimulusSet:
    """``source`` moved along ``attribute``'s vector so that the attribute changes by each of ``values``.

    With ``calibrate`` (the default) and an attribute that can be measured on the sound (F0, F1,
    F2), the steps along the vector are chosen so that the measured change matches the requested
    one (:func:`calibrated_offsets`); otherwise each value is a step of that many units along the
    vector, the linear estimate. The stimulus set carries the unedited reconstruction as its
    baseline, so that :func:`stimgen.export.export` reports the measured change beside the
    requested one.

    WORLD models keep the input's voice (``f0="a"``, the default) or hold F0 at ``f0`` Hz, and
    edit F0 itself exactly, through the vocoder and without the model or vectors (see
    :func:`vocoder_f0_edit`). ``onset``: where the window of a sound longer than the model's
    starts (seconds; None: centred on its one unit, see :func:`stimgen.signal.segment.choose_excerpt`).

    Parameters
    ----------
    model : StimModel
        A loaded model (:func:`stimgen.load_model`).
    source : str or os.PathLike
        The file to edit.
    vectors : AttributeVectors or None
        Vectors fitted on this model (:func:`fit_model_attributes`); None only for F0 edits of
        WORLD models.
    attribute : str
        The attribute to change, a name in ``vectors`` (case-insensitive; ``column=level`` for
        categorical levels).
    values : sequence of float
        The changes wanted, in the attribute's units (Hz for F0, F1, F2), one stimulus each.
    seed : int
        Seed of the phase reconstruction of audio.
    vectors_path : str or os.PathLike or None
        The file the vectors came from, named in errors and recorded in the settings.
    calibrate : bool
        Choose the steps by measuring the attribute where it can be measured.
    f0 : str or float or None
        WORLD models only: ``"a"`` or a number of Hz.
    onset : float or None
        Where the window of a long sound starts, in seconds.

    Returns
    -------
    StimulusSet
        The stimuli of kind ``"edit"``, with a table row each: ``name`` (``edit_00``, ...), ``step``,
        ``attribute``, ``requested_change``, ``latent_offset`` and ``input_file``, and the unedited
        reconstruction as ``baseline``.

    Raises
    ------
    StimgenError
        For no values or values that are not finite, more stimuli than a set may hold, an ``f0`` the
        model cannot use, a file that cannot be read, missing vectors, vectors fitted on another
        model, an attribute the vectors do not have, or (with calibration) a change the model does
        not reach along the vector or a feature that cannot be measured along it.

    Examples
    --------
    >>> from stimgen import load_model
    >>> v = AttributeVectors.load("vectors.json")                                  # doctest: +SKIP
    >>> s = edit(load_model("vowels"), "eh.wav", v, "F1", [-200, -100, 0, 100, 200])  # doctest: +SKIP
    """
    domain = Domain(model)
    values = np.asarray(values, dtype=np.float64).ravel()
    if values.size == 0 or not np.all(np.isfinite(values)):
        raise StimgenError(f"give one or more finite values for the edit, got {values.tolist()}")
    check_count(values.size, f"{values.size} --values")
    source = Path(source)
    domain.representation.check_f0(f0)
    if domain.representation.voiced and attribute.lower() == "f0":
        domain.load_files([source], onset)  # the window of a long file
        return vocoder_f0_edit(domain, source, values, seed)
    if vectors is None:
        raise StimgenError(f"editing {attribute} needs attribute vectors (--vectors, from stimgen attributes fit)")
    vectors.check_model(domain, vectors_path)
    item = domain.load_files([source], onset)[0]
    k = vectors.index(attribute)
    direction, attribute = vectors.vectors[k], vectors.names[k]
    z0 = domain.encode(item[None])[0]
    base = domain.representation.plan(domain.decode(z0[None]), [source], np.ones((1, 1)), f0)  # the input's voice
    feature = measured_feature(domain, attribute)
    calibrated = bool(calibrate and feature is not None and np.any(values != 0))
    offsets, curve = (calibrated_offsets(domain, z0, direction, feature, values, seed, base=base) if calibrated
                      else (values, None))
    z = z0 + offsets[:, None] * direction
    table = pd.DataFrame({"name": [f"edit_{k:02d}" for k in range(len(values))], "step": np.arange(len(values)),
                          "attribute": attribute, "requested_change": values, "latent_offset": np.round(offsets, 4),
                          "input_file": source.name})
    settings = {"verb": "edit", "input": str(source), "attribute": attribute, "values": values.tolist(),
                "calibrated": calibrated, "vectors_method": vectors.method, "vectors_columns": list(vectors.columns),
                "vectors_data": vectors.data, "seed": int(seed)}
    if curve is not None:
        settings["calibration_curve"] = curve
    if vectors_path is not None:
        settings["vectors_file"] = str(vectors_path)
    settings.update(base.settings)
    return StimulusSet(domain, "edit", dataclasses.replace(base.each(domain.decode(z)), baseline=base), z, table,
                       settings, inputs=[source] + ([Path(vectors_path)] if vectors_path else []))


def vocoder_f0_edit(domain: Domain, source: Path, values: np.ndarray, seed: int = 0) -> StimulusSet:
    """``source`` resynthesised by WORLD with its F0 moved by each of ``values`` Hz: its own envelope
    and aperiodicity, no model and no vectors, so the change is exact (the manifest measures it)."""
    rep = domain.representation
    item = rep.load(source)
    z = np.repeat(domain.encode(item[None]), values.size, axis=0)
    table = pd.DataFrame({"name": [f"edit_{k:02d}" for k in range(values.size)], "step": np.arange(values.size),
                          "attribute": "F0", "requested_change": values, "latent_offset": 0.0,
                          "input_file": source.name})
    settings = {"verb": "edit", "input": str(source), "attribute": "F0", "values": values.tolist(),
                "calibrated": False, "method": "vocoder: the input's own envelope and aperiodicity, its F0 moved",
                "seed": int(seed)}
    plan = rep.plan(np.repeat(item[None], values.size, axis=0), [source], np.ones((values.size, 1)), f0_shift=values)
    return StimulusSet(domain, "edit", plan, z, table, settings, inputs=[source])
