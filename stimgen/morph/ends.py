"""Faithful ends: how a continuum's first and last steps come to be the user's own files.

A model decodes a file's code to the model's idea of that file, not to the file: a vowel model
trained on one voice gives another speaker's /u/ back with that voice's F2. Each method here
makes a continuum's decoder reach the two endpoint items ``x_a`` and ``x_b`` at the path's ends
(``t = 0`` and ``t = 1``) and says how it moves the steps in between:

- ``reconstruct``: the encoder's codes, decoded; the ends are the model's (stimgen before 0.2).
- ``refine``: each end's code optimised against its item through the frozen decoder, starting
  from the encoder's code (latent refinement, the GAN-inversion step; Abdal et al. 2019). It can
  only reach what the decoder can make.
- ``residual``: what the model misses at each end, ``r = x - G(z)``, added along the path as
  ``(1 - t) r_a + t r_b``. Exact ends; a formant the model puts elsewhere becomes a dipole in
  ``r``, and mixing two dipoles cross-fades two peaks. Residuals are taken of what the
  representation hears of an item (``Representation.heard``: for WORLD voices, the envelope
  smoothed across the mel bands), so that the file's harmonics do not become part of an envelope.
- ``warp`` (frequency-warped residual): for spectrograms, each end's decoded item is first warped
  along the frequency axis onto its file, and only what is left is a residual: for speech, by
  anchors at F1 and F2 (Praat's, on the model's end and on the file: the model's formants are
  taken to the file's, as STRAIGHT morphing's frequency anchors do); for other sounds, by dynamic
  frequency warping of their mean spectra, as in voice conversion (Valbret, Moulines & Tubach 1992). Along
  the path the anchors move from one end's to the other's, and each end's residual is warped
  with them, from its file's frequencies to the step's: a formant moves, it is not cross-faded.
  Exact ends; for items with no frequency axis (images) it is ``residual``. For speech each step
  between the ends is by default only half the model's: the other half is the two ends' own
  items, each warped from its anchors to the step's and weighted ``1 - t`` and ``t`` (the
  recipe of STRAIGHT's anchored morphing, Kawahara & Matsui 2003), so that each step keeps a
  formant peak where the model's item between two unlike vowels has none (``model_share``).
- ``tune`` (pivotal tuning; Roich et al. 2021): a copy of the decoder is tuned until it makes the
  two items at the encoder's codes, with a locality term that keeps its output at codes around
  the path as the model's; the path between is the tuned decoder's. The weights are the model's
  never: a continuum keeps its tuned copy in its folder.

With WORLD voices, ``residual`` and ``warp`` ends also carry each file's *detail*
(:meth:`Ends.details`): the file's own WORLD envelope less the envelope made of its end item,
which the item cannot hold (a mel item is smoothed before WORLD voices it). With it the end steps
are the files as WORLD voices them at the continuum's F0; between the ends the detail is moved
with the anchors, as the residuals are.

What a method computes is an :class:`Ends`, kept in the continuum folder (manifest.json's
``state["ends"]``, and for ``tune`` the file ``ends.safetensors``) so that respace and a continuum
reopened from its folder decode every step as the continuum did.

Examples
--------
>>> ends = fit_ends(domain, x_ends, "warp")              # doctest: +SKIP
>>> ends.decode(domain, codes, t)                        # doctest: +SKIP
"""

from __future__ import annotations

import copy
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from stimgen.errors import StimgenError

#: The methods by name, in the order docs/morph.md compares them.
METHODS = ("reconstruct", "refine", "residual", "warp", "tune")
#: Adam steps and learning rates (refine: of the codes; tune: of the decoder's weights).
REFINE_STEPS, REFINE_LR = 100, 0.05
TUNE_STEPS, TUNE_LR, TUNE_LOCALITY = 40, 3e-4, 1.0
#: Codes away from the path where tuning keeps the decoder's output, and how far out they are drawn.
TUNE_FAR, TUNE_FAR_SCALE = 2, 1.0
#: Frequency warps: bins of smoothing of the warping path, and the largest shift (a fraction of the bins).
WARP_SMOOTH, WARP_BAND = 5, 0.25
#: ``warp`` with formant anchors (speech): the share of each step between the ends that is the model's
#: own item; the rest is the ends' items moved to the step's formants (docs/results/faithful-ends.md).
SPEECH_MODEL_SHARE = 0.5


@dataclass
class Ends:
    """What a faithful-ends method computed for one continuum.

    ``codes`` (2, latent_dim): the codes of the ends; ``residuals`` (2, C, H, W) or None: what is
    added at each end after the warp; ``anchors`` (2, 2, K) or None: for each end, K frequency
    bins of its file (``anchors[e, 0]``, increasing, the first and last bin included) and the
    fractional bins of the model's item they are taken from (``anchors[e, 1]``), the warp
    between anchors linear; ``decoder``: the tuned decoder's weights (``tune``) or None;
    ``seconds``: what computing them took; ``detail``: whether each end also carries what its
    file's sound holds beyond its item (:meth:`details`), computed again from the files
    whenever the continuum is made (a folder records only that it does); ``starts``: whether a
    vocoder that keeps no F0 starts each step from the nearer file (Griffin-Lim: from its
    phase, so that the end steps are the recordings as far as their items hold them); a folder written
    before records neither, and is remade without them. ``model_share`` (with ``anchors``): how much
    of each step's item is the model's item at its code, warped to the step's anchors; the rest,
    ``1 - model_share``, is the two ends' decoded items, each warped from its own anchors to the
    step's and weighted ``1 - t`` and ``t``; 1 (and a folder that records none) is the model's path.
    """

    method: str
    codes: np.ndarray
    residuals: np.ndarray | None = None
    anchors: np.ndarray | None = None
    decoder: dict[str, torch.Tensor] | None = field(default=None, repr=False)
    seconds: float = 0.0
    detail: bool = False
    starts: bool = False
    model_share: float = 1.0
    _tuned: torch.nn.Module | None = field(default=None, init=False, repr=False, compare=False)
    _detail: np.ndarray | None = field(default=None, init=False, repr=False, compare=False)
    _end_items: np.ndarray | None = field(default=None, init=False, repr=False, compare=False)

    def decode(self, domain, z: np.ndarray, t: np.ndarray) -> np.ndarray:
        """Items (N, C, H, W) of codes ``z`` (N, latent_dim) at path positions ``t`` (N,) in [0, 1].

        At ``t`` the anchors lie at ``(1 - t)`` times end a's plus ``t`` times end b's: the
        model's item is warped from its anchors to the step's (``model_share`` of it; the rest is
        each end's item warped from its model anchors to the step's, weighted ``1 - t`` and ``t``),
        and each end's residual from that end's file anchors to the step's, weighted ``1 - t`` and ``t``.
        """
        t = np.asarray(t, dtype=np.float64)
        if self.decoder is None:
            x = domain.decode(z)
        else:
            if self._tuned is None:  # the copy of the decoder that holds the tuned weights, built once
                self._tuned = copy.deepcopy(domain.model.G.decoder)
                self._tuned.load_state_dict(self.decoder)
            with torch.no_grad():
                x = self._tuned(torch.as_tensor(np.asarray(z, dtype=np.float32))).numpy()
        if self.anchors is None and self.residuals is None:
            return x
        share = np.float32(self.model_share)
        if self.anchors is not None and share < 1 and self._end_items is None:  # the model's own ends, decoded once
            self._end_items = domain.decode(self.codes)
        bins = np.arange(x.shape[2], dtype=np.float64)
        out = []
        for item, tk in zip(x, t):
            w = np.float32(tk)
            if self.anchors is None:
                out.append(item + (1 - w) * self.residuals[0] + w * self.residuals[1])
                continue
            step, model = (1 - tk) * self.anchors[0] + tk * self.anchors[1]
            warped = share * warp_frequency(item, np.interp(bins, step, model))
            for e, weight in ((0, 1 - w), (1, w)):
                if weight == 0:
                    continue
                if share < 1:
                    warped += (1 - share) * weight * warp_frequency(self._end_items[e],
                                                                    np.interp(bins, step, self.anchors[e, 1]))
                if self.residuals is not None:
                    warped += weight * warp_frequency(self.residuals[e], np.interp(bins, step, self.anchors[e, 0]))
            out.append(warped)
        return np.clip(np.stack(out), 0.0, 1.0).astype(np.float32)

    def details(self, domain, files: Sequence[Path], t: np.ndarray) -> np.ndarray | None:
        """What the stimuli at path positions ``t`` (N,) add to their items' sound (the
        representation's :meth:`~stimgen.representations.representation.Representation.detail`),
        or None where these ends carry none.

        At each end, its file's detail: what the file's own sound holds that the end's item does
        not (for WORLD voices, the file's envelope less the item's: with it the end step is the
        file as WORLD makes it, not only the model's item of it). Between the ends, each end's
        detail is warped as its residual is, from its file's anchor frequencies to the step's,
        and weighted ``1 - t`` and ``t``.
        """
        if not self.detail:
            return None
        rep = domain.representation
        if self._detail is None:  # once per continuum: the ends' items, and each file's own sound
            self._detail = rep.detail(self.decode(domain, self.codes, np.array([0.0, 1.0])), files)
        t = np.asarray(t, dtype=np.float64)
        if self.anchors is None:
            return (1.0 - t)[:, None, None] * self._detail[0] + t[:, None, None] * self._detail[1]
        nyquist = rep.sample_rate / 2.0
        hz = np.linspace(0.0, nyquist, self._detail.shape[2])
        centres = rep.bin_frequencies()
        bins = np.arange(len(centres), dtype=np.float64)

        def anchor_hz(at: np.ndarray) -> np.ndarray:  # fractional bins as Hz, 0 Hz and Nyquist kept where they are
            return np.concatenate([[0.0], np.interp(at, bins, centres), [nyquist]])

        out = []
        for tk in t:
            step = anchor_hz((1.0 - tk) * self.anchors[0, 0] + tk * self.anchors[1, 0])
            mixed = np.zeros(self._detail.shape[1:])
            for e, weight in ((0, 1.0 - tk), (1, tk)):
                if weight > 0:
                    source = np.interp(hz, step, anchor_hz(self.anchors[e, 0])) / hz[1]
                    mixed += weight * warp_frequency(self._detail[e].T[None], source)[0].T
            out.append(mixed)
        return np.stack(out)

    def state(self) -> dict:
        """What manifest.json keeps of these ends (``state["ends"]``); the tuned weights go in a
        file of their own (:attr:`decoder`)."""
        out = {"method": self.method, "codes": self.codes.tolist(), "seconds": round(self.seconds, 3)}
        if self.residuals is not None:
            out["residuals"] = np.round(self.residuals.astype(np.float64), 6).tolist()
        if self.anchors is not None:
            out["anchors"] = np.round(self.anchors, 4).tolist()
        if self.detail:
            out["detail"] = True
        if self.starts:
            out["starts"] = True
        if self.model_share != 1.0:
            out["model_share"] = self.model_share
        return out

    @classmethod
    def from_state(cls, state: dict, decoder: dict[str, torch.Tensor] | None = None) -> Ends:
        """The ends a folder's ``state["ends"]`` (and its ``ends.safetensors``, if any) recorded."""
        residuals, anchors = (None if state.get(k) is None else np.asarray(state[k], dtype=np.float32)
                              for k in ("residuals", "anchors"))
        return cls(str(state["method"]), np.asarray(state["codes"], dtype=np.float64), residuals,
                   None if anchors is None else anchors.astype(np.float64), decoder, float(state.get("seconds", 0.0)),
                   bool(state.get("detail", False)),  # a folder written before details: made without them
                   bool(state.get("starts", False)),  # and before Griffin-Lim started from the files
                   float(state.get("model_share", 1.0)))  # and before speech steps held the ends' own items


def fit_ends(domain, x_ends: np.ndarray, method: str, seed: int = 0, files: Sequence[Path] = (),
             f0: str | float | None = None, model_share: float | None = None, own_hnr: bool = True) -> Ends:
    """The ends of a continuum between the items ``x_ends`` (2, C, H, W) by ``method`` (:data:`METHODS`).

    ``files`` (the two endpoint files) and ``f0`` (the continuum's F0 policy) let ``warp`` measure
    the formants of speech, as the manifest will, on the files and on the model's ends.
    ``model_share`` (``warp`` of sounds only, in [0, 1]): how much of each step between the ends
    is the model's item (:class:`Ends`); by default :data:`SPEECH_MODEL_SHARE` where the anchors
    are formants (speech), and 1, the model's path, for other sounds.

    Examples
    --------
    >>> ends = fit_ends(domain, domain.load_files(["i.wav", "a.wav"]), "warp")   # doctest: +SKIP
    >>> ends.decode(domain, ends.codes, np.array([0.0, 1.0])).shape              # doctest: +SKIP
    (2, 1, 64, 64)
    """
    if method not in METHODS:
        raise StimgenError(f"the ends' method must be one of {', '.join(METHODS)}, got {method!r}")
    if model_share is not None:
        if method != "warp" or not domain.representation.frequency_warps:
            raise StimgenError(f"the model's share of the path applies to the warp ends of sounds, not to {method} "
                               f"ends of {domain.representation.name}")
        if not 0.0 <= model_share <= 1.0:
            raise StimgenError(f"the model's share of the path must lie in [0, 1], got {model_share!r}")
    start = time.perf_counter()
    x_ends = np.asarray(x_ends, dtype=np.float32)
    codes = domain.encode(x_ends)
    rep = domain.representation  # a sound's vocoder that keeps no F0 (Griffin-Lim) starts from the files
    ends = Ends(method, codes, starts=bool(files) and getattr(rep, "vocoder", None) is not None and not rep.voiced)
    if method == "refine":
        ends.codes = refine_codes(domain.model, x_ends, codes, steps=REFINE_STEPS)
    elif method == "tune":
        ends.decoder = tune_decoder(domain.model, x_ends, codes, steps=TUNE_STEPS, seed=seed)
    elif method in ("residual", "warp"):
        decoded = domain.decode(codes)
        if method == "warp" and domain.representation.frequency_warps:
            anchors = formant_anchors(domain.representation, decoded, files, f0, own_hnr) if files else None
            default_share = 1.0 if anchors is None else SPEECH_MODEL_SHARE
            if anchors is None:
                identity = np.arange(x_ends.shape[2], dtype=np.float64)
                anchors = np.stack([[identity, frequency_map(y, x)] for y, x in zip(decoded, x_ends)])
            ends.anchors = anchors
            ends.model_share = default_share if model_share is None else float(model_share)
            bins = np.arange(x_ends.shape[2], dtype=np.float64)
            decoded = np.stack([warp_frequency(y, np.interp(bins, *a)) for y, a in zip(decoded, anchors)])
        heard = domain.representation.heard
        ends.residuals = (heard(x_ends) - heard(decoded)).astype(np.float32)
        if files:  # and what the representation carries apart from the items, where it carries any
            ends._detail = domain.representation.detail(ends.decode(domain, codes, np.array([0.0, 1.0])), files)
            ends.detail = ends._detail is not None
    ends.seconds = time.perf_counter() - start
    return ends


def refine_codes(model, x: np.ndarray, z0: np.ndarray, steps: int = REFINE_STEPS, lr: float = REFINE_LR) -> np.ndarray:
    """Codes (N, latent_dim) that the frozen decoder turns into items nearer ``x`` (L1), by Adam from ``z0``."""
    target = torch.as_tensor(x)
    z = torch.tensor(np.asarray(z0), dtype=torch.float32, requires_grad=True)
    optimizer = torch.optim.Adam([z], lr=lr)
    for p in model.parameters():
        p.requires_grad_(False)
    try:
        for _ in range(steps):
            optimizer.zero_grad()
            (model.decode(z) - target).abs().mean().backward()
            optimizer.step()
    finally:
        for p in model.parameters():
            p.requires_grad_(True)
    return z.detach().double().numpy()


def tune_decoder(model, x_ends: np.ndarray, codes: np.ndarray, steps: int = TUNE_STEPS, lr: float = TUNE_LR,
                 locality: float = TUNE_LOCALITY, seed: int = 0) -> dict[str, torch.Tensor]:
    """The weights of a copy of ``model``'s decoder tuned to make ``x_ends`` at ``codes`` (pivotal tuning).

    The loss is the L1 error at the two pivots plus ``locality`` times the L1 change of the
    decoder's output at :data:`TUNE_FAR` codes away from the path (drawn from a Gaussian with
    the spread of the pivots' units around their mean, at :data:`TUNE_FAR_SCALE` times it),
    so that the decoder changes where the continuum is and keeps making what it made elsewhere.
    Locality on the path itself would hold its middle where the model had it and move only the
    ends: a jump at each end. The model itself is not changed.
    """
    decoder = copy.deepcopy(model.G.decoder)
    rng = torch.Generator().manual_seed(int(seed))
    pivots = torch.as_tensor(np.asarray(codes), dtype=torch.float32)
    centre, spread = pivots.mean(0), pivots.std(0).mean() + pivots.abs().mean()
    far = centre + TUNE_FAR_SCALE * spread * torch.randn(TUNE_FAR, pivots.shape[1], generator=rng)
    target = torch.as_tensor(x_ends)
    with torch.no_grad():
        before = model.G.decoder(far)
    optimizer = torch.optim.Adam(decoder.parameters(), lr=lr)
    for _ in range(steps):
        optimizer.zero_grad()
        out = decoder(torch.cat([pivots, far]))
        loss = (out[:2] - target).abs().mean() + locality * (out[2:] - before).abs().mean()
        loss.backward()
        optimizer.step()
    return {k: v.detach().clone() for k, v in decoder.state_dict().items()}


#: The file in a continuum folder that holds a tuned decoder's weights.
DECODER_FILE = "ends.safetensors"


def save_tuned_decoder(folder, weights: dict[str, torch.Tensor]) -> dict:
    """Write tuned decoder ``weights`` into a continuum ``folder``; what ``state["ends"]`` records of them."""
    from safetensors.torch import save_file

    from stimgen.outputs import file_sha256

    path = Path(folder) / DECODER_FILE
    save_file({k: v.contiguous() for k, v in weights.items()}, str(path))
    return {"decoder_file": DECODER_FILE, "decoder_sha256": file_sha256(path)}


def load_tuned_decoder(folder, state: dict) -> dict[str, torch.Tensor] | None:
    """The tuned decoder weights a continuum folder keeps (None where its ends have none),
    refused with one line where the file is missing or not the one recorded."""
    if "decoder_file" not in state:
        return None
    from safetensors.torch import load_file

    from stimgen.outputs import file_sha256

    path = Path(folder) / state["decoder_file"]
    if not path.is_file() or file_sha256(path) != state.get("decoder_sha256"):
        raise StimgenError("is missing or is not the tuned decoder this continuum was made with", path=path)
    return load_file(str(path))


def folder_ends(folder, state: dict) -> Ends | None:
    """The ends a continuum folder's record keeps (``state["ends"]``, with its tuned decoder, if
    any), or None for a folder written before faithful ends (its ends are remade by its method)."""
    if "ends" not in state:
        return None
    return Ends.from_state(state["ends"], load_tuned_decoder(folder, state["ends"]))


def formant_anchors(rep, decoded: np.ndarray, files: Sequence[Path], f0: str | float | None,
                    own_hnr: bool = True) -> np.ndarray | None:
    """For speech: each end's anchors (see :class:`Ends`) at F1 and F2, the file's taken from the
    model's, and at the first and last bin; both measured with Praat as the manifest measures them
    (the model's ends voiced as the continuum voices them, the files in the window the model
    took, each with its vocal tract's ceiling). None where the representation is not of speech
    or a formant is not found, or the formants would cross. ``own_hnr``: as the continuum voices
    the files (:meth:`~stimgen.representations.representation.Representation.plan`)."""
    if not rep.speech:
        return None
    plan = rep.plan(decoded, list(files), np.eye(2), f0, own_hnr=own_hnr)
    model = rep.measure(plan, hnr=False)  # F1 and F2 are all the anchors need
    detail = rep.detail(decoded, files)
    if detail is None:
        heard = [rep.file_features(Path(p), state) for p, state in zip(files, plan.state)]
    else:  # the files as the continuum will write its ends: their own sound in the continuum's voices
        heard = rep.measure(rep.plan(decoded, list(files), np.eye(2), f0, detail=detail, own_hnr=own_hnr), hnr=False)
    centres = rep.bin_frequencies()
    top = float(len(centres) - 1)
    anchors = []
    for m, f in zip(model, heard):
        hz = np.array([[f.get(k, np.nan) for k in ("f1_hz", "f2_hz")], [m.get(k, np.nan) for k in ("f1_hz", "f2_hz")]])
        if not np.all(np.isfinite(hz)):
            return None
        at = np.interp(hz, centres, np.arange(len(centres), dtype=np.float64))
        anchors.append(np.concatenate([np.zeros((2, 1)), at, np.full((2, 1), top)], axis=1))
    anchors = np.stack(anchors)
    if np.any(np.diff(anchors, axis=2) <= 0.5):  # F1 and F2 a bin apart or less, or beyond the last bin
        return None
    return anchors


def frequency_map(decoded: np.ndarray, target: np.ndarray, smooth: int = WARP_SMOOTH,
                  band: float = WARP_BAND) -> np.ndarray:
    """For each frequency bin of ``target`` (C, H, W), the fractional bin of ``decoded`` that matches it.

    Dynamic frequency warping: the two items' mean spectra over time (each weighted by its
    frames' level) are aligned by dynamic time warping along the frequency axis (librosa's
    ``sequence.dtw``, steps of slope 1/2 to 2, no farther than ``band`` of the bins), on their dB
    values and slopes so that peaks meet peaks; the path is smoothed over ``smooth`` bins and
    kept increasing.

    Examples
    --------
    >>> f = np.arange(16.0)
    >>> x = np.exp(-0.5 * ((f - 6) / 1.5) ** 2)[None, :, None].repeat(2, axis=2)   # a peak at bin 6
    >>> y = np.exp(-0.5 * ((f - 8) / 1.5) ** 2)[None, :, None].repeat(2, axis=2)   # the same at bin 8
    >>> float(frequency_map(y, x, smooth=1)[6])
    8.0
    """
    import librosa

    a, b = _mean_spectrum(decoded), _mean_spectrum(target)
    fa = np.stack([a, np.gradient(a)]) if len(a) > 1 else a[None]
    fb = np.stack([b, np.gradient(b)]) if len(b) > 1 else b[None]
    _, path = librosa.sequence.dtw(fa, fb, step_sizes_sigma=np.array([[1, 1], [1, 2], [2, 1]]),
                                   weights_add=np.array([0.0, 0.0, 0.0]), weights_mul=np.array([1.0, 1.5, 1.5]),
                                   global_constraints=True, band_rad=band)
    n = len(b)
    order = np.argsort(path[:, 1], kind="stable")  # steps of 2 skip bins: interpolate between the path's points
    source = np.interp(np.arange(n), path[order, 1], path[order, 0])
    if smooth > 1:
        padded = np.pad(source, smooth // 2, mode="edge")
        source = np.convolve(padded, np.ones(smooth) / smooth, mode="valid")[:n]
    return np.maximum.accumulate(source)


def _mean_spectrum(item: np.ndarray) -> np.ndarray:
    """An item's mean spectrum (H,) over its frames, each frame weighted by its level."""
    spec = np.asarray(item, dtype=np.float64).mean(axis=0)
    weights = spec.mean(axis=0) + 1e-6
    return spec @ weights / weights.sum()


def warp_frequency(item: np.ndarray, source_bins: np.ndarray) -> np.ndarray:
    """``item`` (C, H, W) with bin ``j`` of every frame taken from (fractional) bin ``source_bins[j]``."""
    lo = np.clip(np.floor(source_bins).astype(int), 0, item.shape[1] - 1)
    hi = np.minimum(lo + 1, item.shape[1] - 1)
    w = (source_bins - lo).astype(np.float32)[None, :, None]
    return (1.0 - w) * item[:, lo, :] + w * item[:, hi, :]
