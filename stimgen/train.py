"""Training: data to tensors, the loop, checkpoints, previews, and the model folder at the end.

``train()`` is what ``stimgen train`` calls; ``fit()`` is the loop itself and takes any array,
so that notebooks and the 2D experiments can use it directly. The model's own
``train_step`` holds the maths; this module holds the bookkeeping around it:

- a progress bar with the losses and balance terms, ``metrics.csv`` every ``log_every`` steps
  (and TensorBoard event files where tensorboard is installed);
- ``previews/step_NNNNNN.png`` every ``preview_every`` steps: inputs, reconstructions and
  interpolation rows between held-out items;
- ``checkpoint.safetensors`` every ``checkpoint_every`` steps and at the end, written
  atomically; Ctrl-C finishes the current step, saves one and stops; ``resume=True`` continues
  from it and, on the CPU with the same seed, ends with the same weights as an uninterrupted run;
- several processes under ``torchrun`` (gloo on CPU, NCCL on GPUs): every process takes its
  slice of each batch, gradients are averaged, and only rank 0 writes;
- bf16 autocast on CUDA; the same code runs on the CPU in float32.
"""

from __future__ import annotations

import csv
import dataclasses
import difflib
import functools
import json
import math
import numbers
import os
import shutil
import signal
import time
import typing
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torch.distributed as dist
from tqdm.auto import tqdm

from stimgen.data import BUILTIN_NAMES, open_dataset
from stimgen.data.folder import BETWEEN_COLUMNS, Betweens
from stimgen.errors import StimgenError
from stimgen.models.bundle import (
    CONFIG_FILE,
    LATENTS_FILE,
    MODELS,
    WEIGHTS_FILE,
    build_model,
    load_checkpoint,
    save_checkpoint,
    save_model,
)
from stimgen.models.model import StimModel
from stimgen.models.networks import NetworkConfig
from stimgen.options import MAX_THREADS, TrainSettings, check_whole
from stimgen.outputs import MARKER, approve_output, claim_folder
from stimgen.preview import save_sheet
from stimgen.representations import Representation, for_dataset

CHECKPOINT_FILE = "checkpoint.safetensors"
METRICS_FILE = "metrics.csv"
#: The wall-clock side of the log (samples per second), kept out of metrics.csv so that two runs
#: with the same seed write the same metrics.csv.
TIMINGS_FILE = "timings.csv"
#: Columns of a log row that measure time, not the training: written to TIMINGS_FILE.
TIMING_COLUMNS = ("samples_per_s",)
#: What a run folder holds: listed in its .stimgen.json, so that --force may start it over.
RUN_FILES = (CHECKPOINT_FILE, METRICS_FILE, TIMINGS_FILE, CONFIG_FILE, WEIGHTS_FILE, LATENTS_FILE)
RUN_FOLDERS = ("previews", "tensorboard")


@dataclass
class TrainingData:
    """Tensors a model trains on, and where they came from."""

    x: np.ndarray
    labels: pd.DataFrame
    info: dict
    representation: Representation
    betweens: Betweens | None = None  # items that lie between two others (labels.csv's between_* columns)


class Interrupted(Exception):
    """Training stopped by Ctrl-C after saving a checkpoint."""


# --- data -------------------------------------------------------------------------------------


def prepare_data(data: str | os.PathLike, size: int | None = None, progress: bool = False,
                 representation: str | None = None) -> TrainingData:
    """A built-in set's name or a folder, as float32 (N, C, H, W) in [0, 1] items of
    ``representation`` (None: the default of the data's medium; :mod:`stimgen.representations`),
    with labels and provenance."""
    ds = open_dataset(data, progress=progress)
    rep = for_dataset(ds, size, representation)
    side = rep.item_shape[1:]
    if any(s < 8 or s & (s - 1) for s in side):
        raise StimgenError(f"items are {side[0]} x {side[1]} pixels; give a power-of-two --size (32, 64, 128)",
                           path=ds.root)
    ds.warn_cropped(rep.duration if ds.medium == "audio" else None, "for training")
    rep = rep.fit(ds, progress=progress)  # what the training set teaches beyond the items (a vocoder's voice)
    x = rep.dataset_items(ds, progress=progress)
    info = {"source": str(data), "kind": ds.medium, "count": len(ds), "data_sha256": ds.content_hash(),
            "representation": rep.name, **rep.to_config()}
    if "units" in ds.meta:  # a folder from stimgen data segment: how long files are windowed, the F0 search
        info["units"] = ds.meta["units"]
    return TrainingData(np.ascontiguousarray(x, dtype=np.float32), ds.labels, info, rep, ds.betweens())


#: TrainSettings fields that are shorthands for the model option of the same name, with their command-line option.
SHORTHANDS = {"distance_weight": "--distance-weight", "recon_weight": "--recon-weight", "disc_bottom": "disc_bottom",
              "warmup_steps": "--warmup-steps"}
#: Fields of the model configs that TrainSettings sets under its own name (not model options).
OWN_OPTIONS = {"lr": "--lr"}
_BOOLS = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}


def option_types(model: str) -> dict[str, object]:
    """The options ``model`` takes: its config's scalar fields (not its networks, not ``lr``), with their types.

    Examples
    --------
    >>> option_types("vae")
    {'kl_weight': <class 'float'>}
    """
    if model not in MODELS:
        raise StimgenError(f"unknown model {model!r}; choose from {', '.join(MODELS)}")
    config = MODELS[model][1]
    hints = typing.get_type_hints(config)
    scalar = {bool, int, float, type(None)}
    return {f.name: hints[f.name] for f in dataclasses.fields(config)
            if f.name not in OWN_OPTIONS and set(typing.get_args(hints[f.name]) or [hints[f.name]]) <= scalar}


def model_options(settings: TrainSettings) -> dict:
    """The options of ``settings.model``'s config that ``settings`` sets, by field name and converted to
    the field's type: ``settings.model_options`` (strings such as ``"0.1"`` are read), and the shorthands
    ``distance_weight``, ``recon_weight`` and ``disc_bottom`` where they differ from their defaults.
    An option the model does not have is a :class:`StimgenError` that lists those it has.

    Examples
    --------
    >>> model_options(TrainSettings(model="vae", model_options={"kl_weight": "0.1"}))
    {'kl_weight': 0.1}
    >>> model_options(TrainSettings(model="acai", model_options={"rg": "1"}))
    Traceback (most recent call last):
    ...
    stimgen.errors.StimgenError: --set rg: the acai model has no option rg (did you mean reg?); its options: lam, reg
    """
    types = option_types(settings.model)
    defaults = {f.name: f.default for f in dataclasses.fields(TrainSettings)}
    out: dict = {}
    for name, flag in SHORTHANDS.items():
        value = getattr(settings, name)
        if value is not None and value != defaults[name]:
            out[name] = _option_value(settings.model, types, flag, name, value)
    for name, value in settings.model_options.items():
        if name in out:
            raise StimgenError(f"--set {name}: {SHORTHANDS[name]} sets {name} too; give one of them")
        out[name] = _option_value(settings.model, types, f"--set {name}", name, value)
    if settings.model == "gaia" and "warmup_steps" not in out:
        out["warmup_steps"] = default_warmup(settings)
    return out


def default_warmup(settings: TrainSettings) -> int:
    """GAIA's warm-up when none is given: half the run's steps as an AE (0 for a run that starts from
    ``--init``, already warm). On real birdsong the warm start gave the most realistic midpoints
    at the same number of steps (docs/results/real-song.md).

    Examples
    --------
    >>> default_warmup(TrainSettings(steps=600)), default_warmup(TrainSettings(steps=600, init="my-ae"))
    (300, 0)
    """
    return 0 if settings.init is not None else settings.steps // 2


def _option_value(model: str, types: dict, flag: str, name: str, value: object) -> object:
    """``value`` as the type of option ``name`` of ``model``, or a one-line error naming ``flag``."""
    if name in OWN_OPTIONS:
        raise StimgenError(f"{flag}: {name} has its own option, {OWN_OPTIONS[name]}")
    if name not in types:
        near = difflib.get_close_matches(name, list(types), n=1)
        owners = [other for other in MODELS if other != model and name in option_types(other)]
        hint = f" (an option of {' and '.join(owners)})" if owners else f" (did you mean {near[0]}?)" if near else ""
        listed = f"its options: {', '.join(types)}" if types else "it has no options of its own"
        raise StimgenError(f"{flag}: the {model} model has no option {name}{hint}; {listed}")
    kinds = typing.get_args(types[name]) or (types[name],)
    optional = type(None) in kinds
    kind = next(k for k in kinds if k is not type(None))
    text = value.strip() if isinstance(value, str) else value
    if optional and (text is None or isinstance(text, str) and text.lower() in ("none", "null")):
        return None
    converted = None
    try:
        if kind is bool:
            converted = text if isinstance(text, bool) else _BOOLS.get(text.lower()) if isinstance(text, str) else None
        elif isinstance(text, bool) or not isinstance(text, (str, numbers.Real)):
            converted = None  # True is no number here, nor is a list
        elif kind is int:
            converted = int(text) if isinstance(text, (str, numbers.Integral)) or float(text).is_integer() else None
        elif math.isfinite(float(text)):
            converted = float(text)
    except (ValueError, OverflowError):
        converted = None
    if converted is None:
        words = {bool: "true or false", int: "a whole number", float: "a number"}[kind]
        raise StimgenError(f"{flag}={value}: {name} takes {words}{' or none' if optional else ''}")
    return converted


def make_model(settings: TrainSettings, input_shape: tuple[int, ...]) -> StimModel:
    """A fresh model of ``settings.model`` for inputs of ``input_shape``, with the options
    :func:`model_options` reads from ``settings``."""
    net = NetworkConfig(input_shape=input_shape, latent_dim=settings.latent_dim, width=settings.width,
                        max_channels=settings.max_channels, output="sigmoid" if len(input_shape) == 3 else "linear")
    kwargs: dict = {"generator": net, "lr": settings.lr, **model_options(settings)}
    return build_model(settings.model, MODELS[settings.model][1](**kwargs))


def split(n: int, holdout: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Seeded train / held-out indices."""
    order = np.random.default_rng([seed, 7]).permutation(n)
    k = int(round(n * holdout))
    return np.sort(order[k:]), np.sort(order[:k])


# --- the loop ---------------------------------------------------------------------------------


def _distributed() -> tuple[int, int]:
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def fit(model: StimModel, x: np.ndarray, settings: TrainSettings, run_dir: Path | None = None,
        resume: bool = False, progress: bool = True, preview_items: np.ndarray | None = None,
        sheet_style: str = "image", data_sha256: str | None = None, betweens: Betweens | None = None,
        augment: typing.Callable[[torch.Tensor, torch.Generator], torch.Tensor] | None = None) -> list[dict]:
    """Train ``model`` on ``x`` (N, *input_shape) for ``settings.steps`` steps; return the logged rows.

    ``augment(batch, generator)``, where given, alters every batch before the step (its random draws
    come from a generator of their own, seeded from ``settings.seed`` and saved in checkpoints).

    A model with a ``between_weight`` gets, at every step, half a batch of ``betweens`` (items of
    ``x`` that lie between two others of ``x``) beside its batch.

    With ``run_dir``, rank 0 writes metrics, previews and checkpoints there; ``data_sha256``, the
    hash of the data ``x`` came from, is recorded in each checkpoint. The caller seeds torch before
    building the model (``torch.manual_seed(settings.seed)``), so that a run is reproducible from
    its seed.
    """
    rank, world = _distributed()
    device = torch.device(_device(settings.device, rank))
    model.to(device).train()
    if world > 1:
        for p in model.state_dict().values():
            dist.broadcast(p, 0)
    optimizers = model.configure_optimizers()
    generators = {"data": torch.Generator().manual_seed(settings.seed),
                  "step": torch.Generator().manual_seed(settings.seed + 1)}
    data = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))
    wants_betweens = _wants_betweens(model)
    if wants_betweens:
        check_betweens(betweens)
        generators["between"] = torch.Generator().manual_seed(settings.seed + 2)
    if augment is not None:
        generators["augment"] = torch.Generator().manual_seed(settings.seed + 3)
    n = data.shape[0]
    check_batch(n, settings.batch_size)
    if settings.batch_size % world:
        raise StimgenError(f"batch size {settings.batch_size} does not split over {world} processes")
    order, position, start = torch.randperm(n, generator=generators["data"]), 0, 0
    checkpoint = run_dir / CHECKPOINT_FILE if run_dir is not None else None
    if resume:
        if checkpoint is None or not checkpoint.exists():
            raise StimgenError("nothing to resume: no checkpoint.safetensors", path=run_dir)
        state, extra = load_checkpoint(checkpoint, model, optimizers, generators)
        order, position, start = extra["order"], state["position"], state["step"]
        model.to(device)

    writer = _Writer(run_dir, settings, start) if run_dir is not None and rank == 0 else None
    stop = {"now": False}
    previous_handler = _catch_sigint(stop)
    autocast = torch.autocast("cuda", dtype=torch.bfloat16, enabled=device.type == "cuda")
    rows, totals, counts, count, t0 = [], {}, {}, 0, time.perf_counter()
    threads = f" on {torch.get_num_threads()} CPU thread{'s' if torch.get_num_threads() != 1 else ''}"
    bar = tqdm(total=settings.steps, initial=start, desc=f"training {model.name}"
               f"{threads if device.type == 'cpu' else ''}", unit="step",
               disable=not progress or rank != 0, dynamic_ncols=True)

    def save(step: int) -> None:
        """Write the checkpoint after ``step`` steps (rank 0 only, and only with a run folder)."""
        if rank == 0 and checkpoint is not None:
            save_checkpoint(checkpoint, model, optimizers, generators, {"order": order},
                            {"step": step, "position": position, "settings": dataclasses.asdict(settings),
                             "data_sha256": data_sha256})

    try:
        for step in range(start, settings.steps):
            if position + settings.batch_size > n:
                order, position = torch.randperm(n, generator=generators["data"]), 0
            batch = order[position : position + settings.batch_size][rank::world]
            position += settings.batch_size
            extra = {}
            if getattr(model.config, "warmup_steps", 0):  # GAIA's warm-up counts the run's steps
                extra["step"] = step
            if wants_betweens:
                picked = torch.randint(len(betweens), (max(2, settings.batch_size // 2),),
                                     generator=generators["between"])[rank::world].numpy()
                extra["between"] = (*(data[ix[picked]].to(device) for ix in (betweens.a, betweens.b, betweens.item)),
                                    torch.from_numpy(betweens.at[picked]).float().to(device))
            try:
                items = data[batch] if augment is None else augment(data[batch], generators["augment"])
                with autocast:
                    metrics = model.train_step(items.to(device), optimizers, generators["step"], **extra)
            except FloatingPointError:  # a model's own check (GAIA's learning-rate balance) found it not finite
                metrics = None
            if metrics is None or not all(np.isfinite(v) for v in metrics.values()):
                raise StimgenError(f"training diverged at step {step + 1} (a loss is not finite) with --lr "
                                   f"{settings.lr:g}; lower --lr")
            for k, v in metrics.items():  # per key: a warm-up's steps log fewer losses than GAIA's
                totals[k] = totals.get(k, 0.0) + v
                counts[k] = counts.get(k, 0) + 1
            count += 1
            bar.update(1)
            done = step + 1
            if done % settings.log_every == 0 or done == settings.steps:
                elapsed = time.perf_counter() - t0
                row = {"step": done, "samples_per_s": round(count * settings.batch_size / elapsed, 2),
                       **{k: v / counts[k] for k, v in totals.items()}}
                rows.append(row)
                bar.set_postfix({k: f"{v:.3g}" for k, v in row.items() if k not in ("step",)}, refresh=False)
                if writer:
                    writer.log(row)
                totals, counts, count, t0 = {}, {}, 0, time.perf_counter()
            if writer and preview_items is not None and (done % settings.preview_every == 0 or done == settings.steps):
                write_preview(model, preview_items, run_dir / "previews" / f"step_{done:06d}.png", sheet_style,
                              title=f"{model.name}, step {done}")
            if done % settings.checkpoint_every == 0 or done == settings.steps:
                save(done)
            if stop["now"]:
                if done < settings.steps and done % settings.checkpoint_every:
                    save(done)
                raise Interrupted(f"interrupted at step {done}; checkpoint saved in {run_dir}; continue with --resume")
    finally:
        bar.close()
        if previous_handler is not None:
            signal.signal(signal.SIGINT, previous_handler)
        if writer:
            writer.close()
    model.eval()
    return rows


#: How far :func:`augment_spectrograms` moves an item at most: frames in time, mel bins in pitch, dB in level.
AUGMENT_SHIFT_FRAMES = 3
AUGMENT_SHIFT_BINS = 1
AUGMENT_GAIN_DB = 3.0


def augment_spectrograms(x: torch.Tensor, generator: torch.Generator, db_range: float) -> torch.Tensor:
    """Spectrogram items (batch, 1, mels, frames) in [0, 1] over ``db_range`` dB, each shifted by a
    whole number of frames in time (up to :data:`AUGMENT_SHIFT_FRAMES`) and of mel bins in pitch (up
    to :data:`AUGMENT_SHIFT_BINS`), what is shifted in being silence (0), and made louder or quieter
    by up to :data:`AUGMENT_GAIN_DB` dB where it is not silent; all drawn uniformly per item.

    Examples
    --------
    >>> x = torch.zeros(2, 1, 8, 8); x[:, :, 4, 4] = 0.5
    >>> y = augment_spectrograms(x, torch.Generator().manual_seed(0), 80.0)
    >>> y.shape, int((y > 0).sum())
    (torch.Size([2, 1, 8, 8]), 2)
    """
    out = torch.zeros_like(x)
    n = x.shape[0]
    frames = torch.randint(-AUGMENT_SHIFT_FRAMES, AUGMENT_SHIFT_FRAMES + 1, (n,), generator=generator).tolist()
    bins = torch.randint(-AUGMENT_SHIFT_BINS, AUGMENT_SHIFT_BINS + 1, (n,), generator=generator).tolist()
    gains = (torch.rand(n, generator=generator) * 2 - 1) * AUGMENT_GAIN_DB / db_range
    height, width = x.shape[-2:]
    for k, (dt, df) in enumerate(zip(frames, bins)):
        source = x[k, :, max(0, -df):height - max(0, df), max(0, -dt):width - max(0, dt)]
        out[k, :, max(0, df):height - max(0, -df), max(0, dt):width - max(0, -dt)] = source
    louder = torch.where(out > 0, out + gains.view(n, 1, 1, 1).to(out), out)
    return louder.clamp(0.0, 1.0)


def choose_threads(requested: int | None = None) -> tuple[int, str]:
    """The number of threads torch trains with, and why: ``requested``, or else the cores this
    process may run on that other processes are not busy on, at least one.

    torch's default (a thread per core) made a step 2-3.5 times slower when another process kept a
    core busy on 2 cores (the issue that asked for this saw tenfold), because its threads wait on
    each other; one thread per free core trains at a free core's speed (experiments/bench_threads.py,
    docs/results/real-song.md). Busy cores are read from /proc/stat over a fifth of a second
    (the one-minute load average where there is no /proc/stat).

    Examples
    --------
    >>> choose_threads(3)
    (3, '--threads 3')
    """
    if requested is not None:
        check_whole(requested, "--threads", 1, MAX_THREADS)
        return requested, f"--threads {requested}"
    if os.environ.get("OMP_NUM_THREADS", "").isdigit() and int(os.environ["OMP_NUM_THREADS"]) > 0:
        return int(os.environ["OMP_NUM_THREADS"]), "OMP_NUM_THREADS"
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    busy = _busy_cores()
    threads = max(1, usable - round(busy))
    return threads, f"{usable} core{'s' if usable != 1 else ''}, {busy:.1f} busy with other work"


def _busy_cores(interval: float = 0.2) -> float:
    """How many cores other processes keep busy now (this one is idle while it measures)."""
    def times() -> tuple[int, int] | None:
        try:
            with open("/proc/stat") as f:
                fields = [int(v) for v in f.readline().split()[1:]]
        except (OSError, ValueError):
            return None
        return sum(fields), fields[3] + (fields[4] if len(fields) > 4 else 0)  # total, idle + iowait

    first = times()
    if first is None:
        return min(os.getloadavg()[0], os.cpu_count() or 1) if hasattr(os, "getloadavg") else 0.0
    time.sleep(interval)
    second = times()
    total, idle = second[0] - first[0], second[1] - first[1]
    return (total - idle) / total * (os.cpu_count() or 1) if total > 0 else 0.0


def init_from(model: StimModel, source: str | os.PathLike, data_info: dict) -> str:
    """Start ``model``'s generator from the generator of the model folder (or shipped model)
    ``source`` (a warm start, e.g. GAIA from an AE trained on the same items); return the sha256
    of the weights it was read from. Its networks must have the same shapes (the same ``--size``,
    ``--latent-dim`` and ``--width``) and its items the representation of ``data_info`` (the
    ``data`` section of the new model's config: :attr:`TrainingData.info`).

    Examples
    --------
    >>> init_from(model, "runs/my-song-ae", prepare_data("syllables", 64).info)   # doctest: +SKIP
    'c0ffee...'
    """
    from stimgen.models.bundle import load_model

    start = load_model(source)
    theirs, ours = start.G.state_dict(), model.G.state_dict()
    differ = [k for k in ours if k not in theirs or theirs[k].shape != ours[k].shape]
    if differ or set(theirs) - set(ours):
        raise StimgenError(f"--init {source}: its generator does not have this model's shapes (input "
                           f"{tuple(start.input_shape)}, {start.latent_dim} latent units; this one: input "
                           f"{tuple(model.input_shape)}, {model.latent_dim}); train with its --size, --latent-dim "
                           "and --width on the same representation")
    data = start.info.get("data", {})
    for key in ("representation", "spectrogram", "world", "image"):
        if data.get(key) != data_info.get(key):
            raise StimgenError(f"--init {source}: its items are another {key} ({data.get(key)}) than this data's "
                               f"({data_info.get(key)}); train it on the same representation and --size")
    model.G.load_state_dict(theirs)
    return start.info["model_sha256"]


def check_batch(n: int, batch_size: int, held_out: int = 0, path: str | os.PathLike | None = None) -> None:
    """Refuse ``n`` training items (``held_out`` more set aside) for batches of ``batch_size``, with
    advice that works.

    Examples
    --------
    >>> check_batch(100, 32)
    """
    if n < batch_size:
        advice = f"use --batch-size {n} or fewer" if n >= 2 else "a batch needs at least 2; add items"
        held = f" ({held_out} more held out)" if held_out else ""
        raise StimgenError(f"only {n} training item{'s' if n != 1 else ''}{held} for a batch of {batch_size}; "
                           f"{advice}", path=path)


def check_betweens(betweens: Betweens | None, path: str | os.PathLike | None = None) -> Betweens:
    """Refuse to train with ``between_weight`` on data with no training item that lies between two
    other training items; return ``betweens``."""
    if betweens is None or not len(betweens):
        raise StimgenError("between_weight needs items that lie between two others (labels.csv columns "
                           f"{', '.join(BETWEEN_COLUMNS)}), e.g. --data vowel-space; this data has "
                           f"{'none' if betweens is None else 'none among the training items'}", path=path)
    return betweens


def _wants_betweens(model: StimModel) -> bool:
    """Whether ``model`` trains with the between term (a config with ``between_weight`` > 0)."""
    return getattr(model.config, "between_weight", 0.0) > 0


def _device(requested: str, rank: int) -> str:
    if requested == "cuda" or (requested == "auto" and torch.cuda.is_available()):
        if not torch.cuda.is_available():
            raise StimgenError("--device cuda was asked for but no CUDA device is available")
        return f"cuda:{rank % torch.cuda.device_count()}"
    return "cpu"


def _catch_sigint(stop: dict):
    """Ctrl-C sets a flag that the loop checks between steps (a step is never cut in half)."""
    try:
        return signal.signal(signal.SIGINT, lambda *_: stop.__setitem__("now", True))
    except ValueError:  # not the main thread: leave Ctrl-C alone
        return None


class _Writer:
    """metrics.csv and timings.csv (and TensorBoard where installed), rank 0 only."""

    def __init__(self, run_dir: Path, settings: TrainSettings, start: int):
        run_dir.mkdir(parents=True, exist_ok=True)
        self.path, self.timings = run_dir / METRICS_FILE, run_dir / TIMINGS_FILE
        for path in (self.path, self.timings):
            if start and path.exists():  # resuming: keep the rows up to the checkpoint
                kept = pd.read_csv(path)
                kept[kept["step"] <= start].to_csv(path, index=False)
            elif path.exists():
                path.unlink()
        try:
            from torch.utils.tensorboard import SummaryWriter

            self.tb = SummaryWriter(str(run_dir / "tensorboard"))
        except ImportError:
            self.tb = None

    def log(self, row: dict) -> None:
        """Append ``row`` (``step`` and the averaged metrics) to metrics.csv and its timings to
        timings.csv, each with a header in a new file, and to TensorBoard where it is installed."""
        timed = {k: v for k, v in row.items() if k == "step" or k in TIMING_COLUMNS}
        _append_row(self.path, {k: v for k, v in row.items() if k not in TIMING_COLUMNS})
        _append_row(self.timings, timed)
        if self.tb:
            for k, v in row.items():
                if k != "step":
                    self.tb.add_scalar(k, v, row["step"])

    def close(self) -> None:
        """Close the TensorBoard writer, if there is one."""
        if self.tb:
            self.tb.close()


def _append_row(path: Path, row: dict) -> None:
    """Append ``row`` to the CSV ``path`` (floats to 6 significant digits), with a header in a new file;
    a row with columns the file lacks (GAIA's losses after its warm-up) rewrites it with them, blank before."""
    cells = {k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in row.items()}
    header = list(pd.read_csv(path, nrows=0).columns) if path.exists() else None
    if header is not None and not set(cells) <= set(header):
        pd.concat([pd.read_csv(path, dtype=str, keep_default_na=False), pd.DataFrame([cells])],
                  ignore_index=True).to_csv(path, index=False)
        return
    with open(path, "a", newline="") as f:
        w = csv.DictWriter(f, fieldnames=header or list(cells), restval="")
        if header is None:
            w.writeheader()
        w.writerow(cells)


# --- pictures ---------------------------------------------------------------------------------


@torch.no_grad()
def write_preview(model: StimModel, items: np.ndarray, path: Path, style: str, title: str = "",
                  steps: int = 8) -> None:
    """Inputs, their reconstructions, and interpolation rows between consecutive items."""
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    x = torch.from_numpy(items[:steps]).to(device)
    z = model.encode(x)
    rec = model.decode(z)
    weights = torch.linspace(0, 1, steps, device=device)
    rows = [x.cpu(), rec.cpu()]
    for i in range(min(3, len(z) - 1)):
        path_z = (1 - weights[:, None]) * z[i] + weights[:, None] * z[i + 1]
        rows.append(model.decode(path_z).cpu())
    model.train(was_training)
    cells, titles = [], []
    for r, row in enumerate(rows):
        for j, item in enumerate(row.float().numpy()):
            cells.append(item[0] if item.shape[0] == 1 else item.transpose(1, 2, 0))
            titles.append("input" if r == 0 else "reconstruction" if r == 1 else f"{weights[j]:.2f}")
    path.parent.mkdir(parents=True, exist_ok=True)
    save_sheet(path, cells, titles, style, title=title, ncols=steps)


# --- the whole job ----------------------------------------------------------------------------


def train(data: str | os.PathLike, out: str | os.PathLike, settings: TrainSettings, resume: bool = False,
          force: bool = False, progress: bool = True, threads: int | None = None) -> Path:
    """Train a model on a built-in set or a folder and write the model folder ``out``.

    ``out`` is the run folder: it holds the checkpoint, ``metrics.csv`` and ``previews/`` during
    training, and ends as a model folder (``config.json``, ``model.safetensors``, ``latents.csv``)
    that :func:`stimgen.models.bundle.load_model` reads. Under ``torchrun`` every process calls
    this; only rank 0 writes.

    Parameters
    ----------
    data : str or os.PathLike
        A built-in set's name (``"vowels"``, ``"birdsong"``, ``"digits"``) or a folder data set.
    out : str or os.PathLike
        The run folder to write; an empty folder may exist already.
    settings : TrainSettings
        Every training setting (model, steps, batch size, learning rate, sizes, seed, ...); saved
        in the model's config.json.
    resume : bool
        Continue from the checkpoint in ``out``, with the settings the run started with; only
        ``settings.steps`` (to train longer) and ``settings.device`` are taken from ``settings``.
    force : bool
        Start over in an existing run folder of stimgen's own.
    progress : bool
        Show progress bars.
    threads : int, optional
        Threads torch computes with; None: :func:`choose_threads` (one per core that no other
        process keeps busy). Said on stderr and recorded in config.json (``run.threads``); it does
        not change what is trained, only the last bits of float sums.

    Returns
    -------
    Path
        ``out``.

    Raises
    ------
    StimgenError
        For a model option the model does not have or a bad value; an output folder that exists
        (without ``force``) or cannot be written; data that cannot be read or made into items; too
        few training items for a batch; with ``resume``, no readable checkpoint or other data than
        the run was trained on; a device that is not there (``--device cuda`` without CUDA); and a
        loss that is not finite (the training diverged). A new run that fails before its first
        checkpoint leaves no run folder behind (an empty one, where an empty one was given).
    Interrupted
        When Ctrl-C stopped the training, after a checkpoint was saved (continue with ``resume``).

    Examples
    --------
    >>> train("digits", "runs/digits-gaia", TrainSettings(steps=2000, size=32))   # doctest: +SKIP
    """
    out = Path(out)
    _check_out_of_data(out, data)
    rank, world = _init_distributed()
    callers_threads = torch.get_num_threads()
    try:
        saved_data = None
        options = model_options(settings)  # a bad option fails here, before the data are read; saved as read
        settings = dataclasses.replace(settings, model_options={name: options[name] for name in settings.model_options})
        _device(settings.device, rank)  # an unavailable device fails here, before anything is written
        approved, created = None, False
        if resume:
            settings, saved_data = _resumed_settings(out, settings)
        elif settings.warmup_steps is None and "warmup_steps" in options.keys() - settings.model_options.keys():
            settings = dataclasses.replace(settings, warmup_steps=options["warmup_steps"])  # kept by a resume
        if not resume and rank == 0:
            inputs = [] if str(data) in BUILTIN_NAMES else [data]
            approved = approve_output(out, force or out.is_dir() and not any(out.iterdir()), inputs)  # empty is fine
        n_threads, why = choose_threads(threads)
        torch.set_num_threads(n_threads)  # the progress bar says how many; the caller's count is back after
        prepared = prepare_data(data, settings.size, progress=progress and rank == 0,
                                representation=settings.representation)
        if saved_data and saved_data != prepared.info["data_sha256"]:
            raise StimgenError(f"the run was trained on other data (sha256 {saved_data[:12]}) than --data {data} "
                               f"(sha256 {prepared.info['data_sha256'][:12]}); resume with the same --data, or "
                               "start a new run", path=out)
        train_idx, holdout_idx = split(len(prepared.x), settings.holdout, settings.seed)
        check_batch(len(train_idx), settings.batch_size, len(holdout_idx), path=data)  # before the run folder exists
        torch.manual_seed(settings.seed)
        model = make_model(settings, tuple(prepared.x.shape[1:]))
        run_info = {"threads": n_threads, "threads_chosen_by": why}
        if settings.init is not None and not resume:
            run_info["init_sha256"] = init_from(model, settings.init, prepared.info)
        augment = None
        if settings.augment:
            if not hasattr(prepared.representation, "db_range"):
                raise StimgenError("--augment shifts spectrograms in time and pitch; the "
                                   f"{prepared.representation.name} representation has none", path=data)
            augment = functools.partial(augment_spectrograms, db_range=prepared.representation.db_range)
        betweens = None
        if _wants_betweens(model):  # checked before the run folder exists
            kept = None if prepared.betweens is None else prepared.betweens.within(train_idx, len(prepared.x))
            betweens = check_betweens(kept, path=data)
        shown = holdout_idx if len(holdout_idx) >= 2 else train_idx
        preview = prepared.x[shown[np.linspace(0, len(shown) - 1, min(8, len(shown))).astype(int)]]
        if approved is not None:  # only what the check approved is started over (stimgen.outputs.claim_folder)
            created = claim_folder(approved, "train", files=RUN_FILES, folders=RUN_FOLDERS)
        try:
            fit(model, prepared.x[train_idx], settings, out, resume=resume, progress=progress,
                preview_items=preview, sheet_style=prepared.representation.sheet_style,
                data_sha256=prepared.info["data_sha256"], betweens=betweens, augment=augment)
        except BaseException:
            if approved is not None:
                _abandon(out, created)
            raise
        if rank == 0:
            info = {"data": prepared.info, "training": dataclasses.asdict(settings),
                    "split": {"holdout": holdout_idx.tolist()}, "world_size": world, "run": run_info}
            save_model(model, out, info)
            _write_latents(model, prepared, holdout_idx, out / LATENTS_FILE)
        return out
    finally:
        torch.set_num_threads(callers_threads)  # a notebook's torch keeps its own setting
        if world > 1:
            dist.destroy_process_group()


def _write_latents(model: StimModel, prepared: TrainingData, holdout_idx: np.ndarray, path: Path,
                  batch: int = 256) -> None:
    """Every item's file, labels, split and latent code as CSV."""
    device = next(model.parameters()).device
    with torch.no_grad():
        z = torch.cat([model.encode(torch.from_numpy(prepared.x[i : i + batch]).to(device)).float().cpu()
                       for i in range(0, len(prepared.x), batch)]).numpy()
    table = prepared.labels.copy()
    table.insert(1, "split", np.where(np.isin(np.arange(len(table)), holdout_idx), "holdout", "train"))
    latents = pd.DataFrame(z.reshape(len(z), -1), columns=[f"z{i}" for i in range(z.reshape(len(z), -1).shape[1])])
    pd.concat([table.reset_index(drop=True), latents], axis=1).to_csv(path, index=False, float_format="%.6g")


def _init_distributed() -> tuple[int, int]:
    """Join the process group when launched by torchrun (WORLD_SIZE > 1)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world > 1 and not dist.is_initialized():
        backend = "nccl" if torch.cuda.is_available() else "gloo"
        dist.init_process_group(backend)
    return _distributed()


def _resumed_settings(out: Path, settings: TrainSettings) -> tuple[TrainSettings, str | None]:
    """The settings the run started with (only ``steps``, to train longer, and ``device`` may
    change) and the hash of the data it was trained on (None for checkpoints older than that record)."""
    from safetensors import safe_open

    path = out / CHECKPOINT_FILE
    if not path.exists():
        raise StimgenError("nothing to resume: no checkpoint.safetensors", path=out)
    try:
        with safe_open(path, framework="pt") as f:
            state = json.loads((f.metadata() or {})["state"])
        saved = TrainSettings(**{"warmup_steps": 0, **state["settings"]})  # runs from before the warm-up had none
    except StimgenError:
        raise
    except Exception as exc:  # noqa: BLE001 - any failure here means an unreadable checkpoint
        raise StimgenError(f"not a readable checkpoint ({exc})", path=path) from None
    _check_resumed(saved, settings, out)
    return dataclasses.replace(saved, steps=settings.steps, device=settings.device), state.get("data_sha256")


#: The settings a resumed run takes from the command: train longer, or on another device.
RESUME_CHANGES = ("steps", "device")


def _check_resumed(saved: TrainSettings, asked: TrainSettings, out: Path) -> None:
    """Refuse a resume asked with settings other than the run's (beyond :data:`RESUME_CHANGES`), in one
    line naming each option, the value asked and the run's; a setting left at its default is the run's."""
    default, differ = TrainSettings(), []
    for name in (f.name for f in dataclasses.fields(TrainSettings) if f.name not in RESUME_CHANGES):
        value, kept = getattr(asked, name), getattr(saved, name)
        if value != kept and value != getattr(default, name):
            option = "--set" if name == "model_options" else "--" + name.replace("_", "-")
            differ.append(f"{option} {_shown(value)} (the run's: {_shown(kept)})")
    if differ:
        raise StimgenError(f"--resume continues the run with its own settings, but {', '.join(differ)} differ: "
                           "leave them out, or start a new run with --force", path=out)


def _shown(value) -> str:
    """A setting as the command line gives it (model options as KEY=VALUE)."""
    if isinstance(value, dict):
        return ",".join(f"{k}={v}" for k, v in value.items()) or "none"
    return f"{value:g}" if isinstance(value, float) else str(value)


def _check_out_of_data(out: Path, data: str | os.PathLike) -> None:
    """Refuse a run folder inside the data folder: the run would write among the training files,
    and the next run would read its files as data."""
    if str(data) in BUILTIN_NAMES or not Path(data).is_dir():
        return
    folder = Path(data).resolve()
    if out.resolve() == folder or folder in out.resolve().parents:
        raise StimgenError(f"is inside --data {data}: the run would write among the training files; choose an "
                           "--out outside it", path=out)


def _abandon(out: Path, created: bool) -> None:
    """After a new run failed before its first checkpoint (a diverged loss, an error, SIGTERM), remove
    what it wrote, and the run folder if it made it: nothing to resume, and the next run needs no
    --force. Files that stimgen did not write stay."""
    if (out / CHECKPOINT_FILE).exists():
        return
    for name in (*RUN_FILES, *RUN_FOLDERS, MARKER):
        if os.path.lexists(out / name):
            _remove(out / name)
    if created and not any(out.iterdir()):
        out.rmdir()


def _remove(path: Path) -> None:
    shutil.rmtree(path) if path.is_dir() and not path.is_symlink() else path.unlink()
