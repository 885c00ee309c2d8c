"""Metrics of the paper's 2D experiments (Table 1): r(x, z), log-likelihoods, KL divergences, OLS intercepts.

Every function takes plain numpy arrays of points, one row per point, and returns floats (or a
dict of floats). Definitions, sample sizes and the choice of bandwidths are in
``docs/table1-metrics.md``; in short:

- :func:`distance_correlation`: r(x, z), the Pearson correlation of the pairwise Euclidean
  distances of the same items in X and in Z.
- :func:`kde_logpdf`: the log density of an isotropic Gaussian kernel density estimate (exact: every
  kernel is summed, no tree approximation), with bandwidth chosen by :func:`select_bandwidth`
  (maximum held-out log-likelihood on an independent sample).
- :func:`mean_log_likelihood`: mean log density of model outputs under a KDE of the true distribution.
- :func:`kl_divergence`: KL(p || q) by Monte Carlo over fresh samples of p, with p and q both
  replaced by KDEs of the same size and bandwidth (so that KL of p to itself is 0 in expectation).
- :func:`ols_intercepts`: each model's "intercept" from one OLS fit of metric ~ model + data set.

Examples
--------
>>> import numpy as np
>>> x = np.random.default_rng(0).normal(size=(50, 2))
>>> round(distance_correlation(x, 3 * x + 1), 6)
1.0
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.spatial.distance import pdist
from scipy.special import logsumexp

from stimgen.errors import StimgenError

#: Bandwidths tried by :func:`select_bandwidth` (in the units of standardised data).
BANDWIDTH_GRID = np.geomspace(0.005, 1.0, 25)


def _points(a: np.ndarray, name: str, min_rows: int = 1) -> np.ndarray:
    """``a`` as a finite float64 array of shape (n, d), n >= min_rows; StimgenError otherwise."""
    arr = np.asarray(a, dtype=np.float64)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2 or arr.shape[1] < 1:
        raise StimgenError(f"{name} must be an array of shape (points, dimensions), got shape {arr.shape}")
    if arr.shape[0] < min_rows:
        raise StimgenError(f"{name} needs at least {min_rows} points, got {arr.shape[0]}")
    if not np.all(np.isfinite(arr)):
        raise StimgenError(f"{name} contains NaN or infinite values")
    return arr


def _bandwidth(h: float) -> float:
    h = float(h)
    if not (np.isfinite(h) and h > 0):
        raise StimgenError(f"bandwidth must be a positive number, got {h}")
    return h


def distance_correlation(x: np.ndarray, z: np.ndarray) -> float:
    """r(x, z): Pearson correlation between the pairwise Euclidean distances of items in X and in Z.

    ``x`` (n, d_x) and ``z`` (n, d_z) hold the same n items in the same order (z = G_e(x)). All
    n (n - 1) / 2 pairs enter. 1 means distances in Z are an affine function of distances in X.

    Examples
    --------
    >>> x = np.array([[0.0, 0], [1, 0], [0, 2]])
    >>> distance_correlation(x, x)
    1.0
    """
    x = _points(x, "x", 3)
    z = _points(z, "z", 3)
    if x.shape[0] != z.shape[0]:
        raise StimgenError(f"x and z must hold the same items, got {x.shape[0]} and {z.shape[0]} points")
    dx, dz = pdist(x), pdist(z)
    if dx.std() == 0 or dz.std() == 0:
        raise StimgenError("r(x, z) is undefined when all pairwise distances are equal (e.g. a collapsed code)")
    return float(np.clip(np.corrcoef(dx, dz)[0, 1], -1.0, 1.0))


def kde_logpdf(points: np.ndarray, sample: np.ndarray, bandwidth: float, chunk: int = 512) -> np.ndarray:
    """Log density at ``points`` of the Gaussian KDE of ``sample`` with isotropic ``bandwidth`` h.

    log p(y) = logsumexp_i(-|y - x_i|^2 / (2 h^2)) - log n - (d / 2) log(2 pi h^2), summed exactly
    over all n kernels (in chunks of ``chunk`` query points to bound memory).

    Examples
    --------
    >>> round(float(kde_logpdf(np.zeros((1, 1)), np.zeros((1, 1)), 1.0)[0]), 4)  # N(0, 1) at 0
    -0.9189
    """
    y = _points(points, "points")
    x = _points(sample, "sample")
    h = _bandwidth(bandwidth)
    if y.shape[1] != x.shape[1]:
        raise StimgenError(f"points have {y.shape[1]} dimensions, the sample {x.shape[1]}")
    n, d = x.shape
    const = -np.log(n) - 0.5 * d * np.log(2 * np.pi * h * h)
    x_sq = (x * x).sum(1)
    out = np.empty(y.shape[0])
    for start in range(0, y.shape[0], max(1, int(chunk))):
        q = y[start : start + chunk]
        sq = (q * q).sum(1)[:, None] + x_sq[None, :] - 2.0 * q @ x.T
        np.maximum(sq, 0.0, out=sq)
        out[start : start + chunk] = logsumexp(-sq / (2 * h * h), axis=1) + const
    return out


def select_bandwidth(sample: np.ndarray, validation: np.ndarray, grid: Sequence[float] | None = None) -> float:
    """The bandwidth in ``grid`` (default :data:`BANDWIDTH_GRID`) whose KDE of ``sample`` gives the
    highest mean log density to the independent ``validation`` points (held-out likelihood
    cross-validation). The optimum depends on the sample size: select with a ``sample`` of the
    size the KDE will be used at.
    """
    x = _points(sample, "sample", 2)
    v = _points(validation, "validation")
    hs = np.asarray(BANDWIDTH_GRID if grid is None else grid, dtype=np.float64)
    if hs.ndim != 1 or hs.size == 0:
        raise StimgenError("grid must be a non-empty list of bandwidths")
    for h in hs:
        _bandwidth(h)
    # the squared distances are shared by every bandwidth: compute them once per chunk
    scores = np.zeros(hs.size)
    n, d = x.shape
    x_sq = (x * x).sum(1)
    for start in range(0, v.shape[0], 256):
        q = v[start : start + 256]
        sq = np.maximum((q * q).sum(1)[:, None] + x_sq[None, :] - 2.0 * q @ x.T, 0.0)
        for i, h in enumerate(hs):
            scores[i] += logsumexp(-sq / (2 * h * h), axis=1).sum() - q.shape[0] * (
                np.log(n) + 0.5 * d * np.log(2 * np.pi * h * h))
    return float(hs[int(np.argmax(scores))])


def mean_log_likelihood(points: np.ndarray, reference: np.ndarray, bandwidth: float) -> float:
    """Mean log density (nats per point) of ``points`` under the KDE of the ``reference`` sample
    of the true distribution. Multiply by the number of points for the log-likelihood of the set.

    Examples
    --------
    >>> ref = np.random.default_rng(0).normal(size=(2000, 2))
    >>> mean_log_likelihood(ref[:100], ref, 0.3) > mean_log_likelihood(ref[:100] + 3, ref, 0.3)
    True
    """
    return float(kde_logpdf(points, reference, bandwidth).mean())


def kl_divergence(p_sample: np.ndarray, q_sample: np.ndarray, eval_points: np.ndarray, bandwidth: float) -> float:
    """KL(p || q) = E_p[log p - log q], estimated as mean over ``eval_points`` (fresh draws from p,
    independent of ``p_sample``) of log p_hat - log q_hat, where p_hat and q_hat are the Gaussian
    KDEs of ``p_sample`` and ``q_sample`` with the same ``bandwidth``.

    Use samples of the same size for p and q: then, when q = p, the two KDEs are identically
    distributed and the estimate is 0 in expectation (it can come out slightly negative).
    """
    p = _points(p_sample, "p_sample")
    q = _points(q_sample, "q_sample")
    e = _points(eval_points, "eval_points")
    if not (p.shape[1] == q.shape[1] == e.shape[1]):
        raise StimgenError("p_sample, q_sample and eval_points must have the same number of dimensions")
    return float(np.mean(kde_logpdf(e, p, bandwidth) - kde_logpdf(e, q, bandwidth)))


def ols_intercepts(values: Sequence[float], models: Sequence[str], datasets: Sequence[str],
                   coding: str = "treatment", reference: str | None = None) -> dict[str, float]:
    """Each model's intercept from one OLS fit of ``value ~ model + data set`` (no interaction).

    The design has one indicator column per model and no common intercept, so the model
    coefficients are the models' own intercepts; the data set enters as a covariate:

    - ``coding="treatment"`` (reference coding, the default of R and of statsmodels formulas):
      one indicator per data set except ``reference`` (default: the alphabetically first, as
      patsy picks it). A model's intercept is its fitted value *on the reference data set*. It is
      an extrapolation from the additive fit, so it can fall outside the range of any observed
      value, e.g. below 0 for a KL divergence.
    - ``coding="sum"`` (deviation coding, effects summing to zero over data sets): a model's
      intercept is its fitted value averaged over data sets (its mean, in a balanced table).

    In a balanced table the two codings differ by the same constant for every model, so the
    orderings of and gaps between models do not depend on the coding.

    Examples
    --------
    >>> {k: round(v, 6) for k, v in ols_intercepts([1, 2, 3, 4], ["a", "b", "a", "b"], ["u", "u", "v", "v"]).items()}
    {'a': 1.0, 'b': 2.0}
    """
    y = np.asarray(values, dtype=np.float64).ravel()
    m = np.asarray([str(v) for v in models])
    d = np.asarray([str(v) for v in datasets])
    if not (y.size == m.size == d.size) or y.size == 0:
        raise StimgenError(f"values, models and datasets must have the same non-zero length, "
                           f"got {y.size}, {m.size}, {d.size}")
    if not np.all(np.isfinite(y)):
        raise StimgenError("values contain NaN or infinite numbers")
    if coding not in ("treatment", "sum"):
        raise StimgenError(f"coding must be 'treatment' or 'sum', got {coding!r}")
    model_levels = list(dict.fromkeys(m))
    data_levels = sorted(set(d))
    if reference is None:
        reference = data_levels[0]
    if reference not in data_levels:
        raise StimgenError(f"reference data set {reference!r} is not among {data_levels}")
    others = [lvl for lvl in data_levels if lvl != reference]
    columns = [(m == lvl).astype(float) for lvl in model_levels]
    for lvl in others:
        if coding == "treatment":
            columns.append((d == lvl).astype(float))
        else:  # deviation coding: +1 for the level, -1 for the reference level, 0 otherwise
            columns.append((d == lvl).astype(float) - (d == reference).astype(float))
    design = np.column_stack(columns)
    if np.linalg.matrix_rank(design) < design.shape[1]:
        raise StimgenError("the table does not identify every model and data set effect")
    coef, *_ = np.linalg.lstsq(design, y, rcond=None)
    return {str(lvl): float(c) for lvl, c in zip(model_levels, coef[: len(model_levels)])}
