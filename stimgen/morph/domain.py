"""Between files and a model: a loaded model together with its representation.

A :class:`Domain` wraps a loaded model and the representation its config.json names
(:mod:`stimgen.representations`): files become the model's items as the training data did, codes
come from the model, and items become stimulus files again. Items in the model's space are
float32 arrays (N, C, H, W) in [0, 1]; codes are (N, latent_dim).
"""

from __future__ import annotations

import copy
import os
import warnings
from pathlib import Path

import numpy as np
import torch

from stimgen.data.folder import IMAGE_EXTENSIONS
from stimgen.errors import StimgenError
from stimgen.models.networks import for_one_code
from stimgen.representations import from_config
from stimgen.representations.representation import RenderSettings

__all__ = ["Domain", "RenderSettings", "default_model"]


def default_model(example: str | os.PathLike) -> str:
    """The shipped model for files like ``example``: ``digits`` for images, ``vowels`` for anything else.

    Examples
    --------
    >>> default_model("face.png"), default_model("i.wav")
    ('digits', 'vowels')
    """
    return "digits" if Path(example).suffix.lower() in IMAGE_EXTENSIONS else "vowels"


class Domain:
    """A model together with the way files become its items and items become files.

    ``representation`` does the latter (see :class:`~stimgen.representations.representation.Representation`);
    the domain adds the model's codes, its name, folder and hash.

    Examples
    --------
    >>> from stimgen import load_model
    >>> domain = Domain(load_model("vowels"))                    # doctest: +SKIP
    >>> z = domain.encode(domain.load("a.wav")[None])            # doctest: +SKIP
    """

    def __init__(self, model) -> None:
        self.model = model
        info = model.info
        self.folder = Path(info["path"]) if "path" in info else None
        self.name = Path(info.get("path", "model")).name
        self.sha256 = info.get("model_sha256", "")
        config = None if self.folder is None else self.folder / "config.json"
        self.representation = from_config(info.get("data"), config)

    def load(self, path: str | os.PathLike, onset: float | None = None) -> np.ndarray:
        """A file as the model's item (C, H, W), analysed as the training data were; of a sound
        longer than the model's window, the window starting at ``onset`` seconds (None: chosen,
        see :func:`stimgen.signal.segment.choose_excerpt`)."""
        path = Path(path)
        self.representation.check_file(path, self.name)
        self.representation.excerpt(path, onset)
        return self.representation.load(path)

    def load_files(self, paths: list[Path], onset: float | list[float | None] | None = None) -> np.ndarray:
        """Files as items (N, C, H, W); ``onset``: one number for every file, or one per file (one
        file given twice takes the same window both times). What stimgen says of the files (which
        window it took) is said once all of them are read, so that a bad one ends in one line.

        Examples
        --------
        >>> domain.load_files(["i.wav", "a.wav"], onset=[0.2, None]).shape   # doctest: +SKIP
        (2, 1, 64, 64)
        """
        onsets = list(onset) if isinstance(onset, (list, tuple)) else [onset] * len(paths)
        if len(onsets) == 1:
            onsets *= len(paths)
        if len(onsets) != len(paths):
            raise StimgenError(f"give --onset once for every file or once per file ({len(paths)}), "
                               f"not {len(onsets)} times")
        windows: dict[str, float | None] = {}
        for path, start in zip(paths, onsets):
            if start is not None and not np.isfinite(start):  # NaN is unequal to itself: not "given twice"
                raise StimgenError(f"--onset must be a number of seconds, got {start:g}", path=path)
            if windows.setdefault(str(path), start) != start:  # one file has one window per command
                raise StimgenError("is given twice with different windows (--onset); cut the file into units with "
                                   "`stimgen data segment` and give those", path=path)
        with warnings.catch_warnings(record=True) as said:  # said once every file is read: a bad one is one line
            warnings.simplefilter("always")
            items = np.stack([self.load(p, o) for p, o in zip(paths, onsets)])
        for w in said:
            warnings.warn(w.message, stacklevel=2)
        return items

    def encode(self, x: np.ndarray) -> np.ndarray:
        """Codes (N, latent_dim) of items (N, C, H, W)."""
        with torch.no_grad():
            return self.model.encode(torch.as_tensor(np.asarray(x, dtype=np.float32))).double().numpy()

    def decode(self, z: np.ndarray) -> np.ndarray:
        """Items (N, C, H, W) decoded from codes (N, latent_dim)."""
        with torch.no_grad():
            return self.model.decode(torch.as_tensor(np.asarray(z, dtype=np.float32))).numpy()


class OneAtATime(Domain):
    """The domain of a model whose codes are decoded one at a time: its decoder copied once as
    :func:`~stimgen.models.networks.for_one_code` makes it (channels-last memory layout, and each
    upsampling with its convolution done on the small map), which decodes one code in two thirds
    of the batch decoder's time, on one thread. A continuum's steps are decoded so
    (:func:`stimgen.morph.continuum.continuum`), and :class:`stimgen.Continuum` makes any level
    so: a step made again is the same to the bit. Equal to :meth:`Domain.decode` to float32
    rounding (1e-6, as one code decoded alone differs from the same code decoded in a batch);
    Griffin-Lim turns such a difference into tens of LSB of its sound."""

    def __init__(self, model) -> None:
        super().__init__(model)
        self._decoder = for_one_code(model.G.decoder)

    def hold(self, weights: dict[str, torch.Tensor]) -> None:
        """Decode with a tuned copy's ``weights`` (:func:`stimgen.morph.ends.tune_decoder`) from now on."""
        tuned = copy.deepcopy(self.model.G.decoder)
        tuned.load_state_dict(weights)
        self._decoder = for_one_code(tuned)

    def decode(self, z: np.ndarray) -> np.ndarray:
        """Items (N, C, H, W) decoded one code at a time on one thread, the caller's thread count
        back after: a one-code decode gains little from a second thread on an idle machine and
        loses many times over where anything else runs (an experiment's own window and audio
        threads; experiments/bench_on_demand.py)."""
        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            with torch.no_grad():
                return np.concatenate([self._decoder(torch.as_tensor(code[None])).contiguous().numpy()
                                       for code in np.atleast_2d(np.asarray(z, dtype=np.float32))])
        finally:
            torch.set_num_threads(threads)
