"""Every choice and default the commands offer, in one light module.

The Python API validates against these and the command line reads them, so the two cannot
drift apart (tests/test_cli.py checks it); nothing here imports more than the standard library,
so ``stimgen --help`` starts without torch.

Examples
--------
>>> PATHS, TrainSettings().steps, RenderSettings().sr
(('linear', 'slerp'), 2000, 48000)
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from dataclasses import dataclass, field

from stimgen.errors import StimgenError

#: Models ``stimgen train`` builds (:data:`stimgen.models.bundle.MODELS` holds their classes).
MODEL_NAMES = ("gaia", "ae", "vae", "acai")
DEVICES = ("auto", "cpu", "cuda")
#: Representations by name, with the medium each is for (:data:`stimgen.representations.REGISTRY`
#: holds their classes), and the one a data set of each medium is trained on by default.
REPRESENTATIONS = {"mel": "audio", "mel-world": "audio", "pixels": "image", "world": "audio"}
DEFAULT_REPRESENTATIONS = {"audio": "mel", "image": "pixels"}
#: The seed every random step starts from unless told otherwise (data, phase, trial order, bootstrap),
#: and the seeds accepted: what numpy's and torch's generators both take (see :func:`check_seed`).
SEED = 0
SEED_RANGE = (0, 2**32 - 1)
#: Built-in data sets: the side of the digit images (pixels).
DIGIT_SIZE = 32
#: Continua: the latent path, how steps are spaced along it, what the end steps are.
PATHS = ("linear", "slerp")
SPACINGS = ("equal", "linear")
ENDPOINTS = ("warp", "tune", "refine", "residual", "reconstruct", "original")
CONTINUUM_STEPS = 11
PATH = "linear"
SPACING = "equal"
ENDPOINT = "warp"
#: Grids: points per side.
GRID_STEPS = 5
#: Distances for equal spacing, with their units.
METRIC_UNITS = {"spectral": "dB", "formants": "Bark", "pixel": "RMS"}
#: How far a continuum's end may lie from its file before stimgen warns, by unit (lower case):
#: Bark ((F1, F2) of the written step, speech), a formant JND (3-5 %, 0.2-0.35 Bark at F2); dB (the
#: decoded item, other sounds), about the spacing of a bird's syllables to their nearest
#: neighbours (3.5-3.9 dB on two birds); RMS (images), see docs/morph.md.
END_TOLERANCE = {"bark": 0.3, "db": 3.5, "rms": 0.1}
#: When stimgen warns that a speech continuum's path is uneven, judged on its written steps' (F1,
#: F2) in Bark: one step more than PATH_JUMP_X_MEAN times the mean step, or F1 or F2, where it moves
#: at least PATH_MOVES_BARK from end to end, turning back by more than PATH_REVERSAL_BARK (a
#: formant JND, as for the ends). On four natural voices (docs/results/faithful-ends.md) the
#: largest step is at most 1.05x the mean on the three voices whose paths meet issue 23's goals
#: (1.8x with log-mel spacing); it warns on 4 of the fourth voice's 6 continua and on 1 of their
#: 18 (docs/morph.md#uneven-paths).
#: A birdsong continuum's song pitch is judged by the same jump rule, in semitones.
PATH_JUMP_X_MEAN, PATH_MOVES_BARK, PATH_REVERSAL_BARK = 2.0, 1.0, 0.3
#: Attribute vectors: how they are fitted; whether edits of measurable attributes are calibrated.
ATTRIBUTE_METHODS = ("ols", "mean-diff")
ATTRIBUTE_METHOD = "ols"
CALIBRATE = True
#: Pilots: presentations of every step (identification) or of every order of every pair (discrimination).
PILOT_REPS = 10
#: Pilot tasks: identification, and the discrimination tasks (stimgen.tasks holds their trial orders).
DISCRIMINATION_TASKS = ("ax", "abx", "oddity", "2ifc")
#: Adaptive procedures (stimgen.adaptive): two-alternative identification at the morph level the procedure picks.
ADAPTIVE_TASKS = ("staircase", "quest")
PILOT_TASKS = ("identification", *DISCRIMINATION_TASKS, *ADAPTIVE_TASKS)
PILOT_TASK = "identification"
#: Discrimination pilots: the step distance of the pairs, the silence between intervals (ms), how long
#: an image is shown (ms), the widest level roving (+-dB per interval) and the longest ISI and image (ms).
PAIR_STEP = 2
ISI_MS = 500.0
IMAGE_MS = 500.0
MAX_ROVE_DB = 20.0
MAX_INTERVAL_MS = 10_000.0
#: Adaptive pilots: trials in a run (and the most), the P("B") tracked (0.5: the category boundary) and the targets
#: accepted, the first level; a continuum this dense (steps) is what the docs advise to render ahead for them.
ADAPTIVE_TRIALS = 80
MAX_ADAPTIVE_TRIALS = 1000
ADAPTIVE_TARGET = 0.5
TARGET_RANGE = (0.1, 0.9)
ADAPTIVE_START = 0.5
ADAPTIVE_STEPS = 101
#: The staircase (PsychoPy's StairHandler, linear steps, 1 up 1 down, each step up target / (1 - target) times the
#: step down: Kaernbach's weighted up-down): its step sizes (the next at each reversal); its threshold is the mean
#: of the levels at its reversals after the first STAIRCASE_DISCARD (an even number of them).
STAIRCASE_STEPS = (0.1, 0.05, 0.02)
STAIRCASE_DISCARD = 3
#: QUEST (PsychoPy's QuestHandler, method "quantile"): the prior SD of the threshold (morph level), the Weibull's
#: slope beta (PsychoPy's default), lapse delta and guess gamma (P("B") far below the boundary), the grid's grain
#: (a step of a 101-step continuum) and range (None: PsychoPy's 500 grains).
QUEST_START_SD = 0.3
QUEST_BETA = 3.5
QUEST_DELTA = 0.02
QUEST_GAMMA = 0.02
QUEST_GRAIN = 0.01
#: The observer models of discrimination d' (stimgen.discrimination.MODELS) and the default.
DISCRIMINATION_MODELS = ("differencing", "independent")
DISCRIMINATION_MODEL = "differencing"
#: Psychometric functions and re-spacing schemes; bootstrap samples; re-spacing's first and last P("B").
SIGMOIDS = ("logistic", "gauss")
RESPACE_SCHEMES = ("equal-probability", "boundary")
SIGMOID = "logistic"
N_BOOT = 500
#: Bootstrap samples accepted: all are refitted at once, in memory, so time and memory grow with their
#: number (about 2 ms and 3 kB a sample per fit on one CPU core: 10,000 take 20 s per fit, pooled and
#: per listener, and 26 MB; 100 million ran out of 22 GB). Percentile intervals need no more.
N_BOOT_RANGE = (1, 10_000)
RESPACE_SCHEME = "equal-probability"
P_RANGE = (0.05, 0.95)
#: What ``stimgen data segment`` cuts recordings into.
SEGMENT_KINDS = ("birdsong", "speech")
SEGMENT_KIND = "birdsong"
#: Putting a continuum's steps back into their song (``stimgen in-song``): the crossfade at each boundary and
#: its bound (ms), what each step's level is matched on, and the frequency (Hz) below which the song's own
#: sound (its background: hum, cage noise) goes on under the step (0: the whole band is replaced).
CROSSFADE_MS = 5.0
MAX_CROSSFADE_MS = 50.0
LEVEL_MATCHES = ("rms", "peak")
LEVEL_MATCH = "rms"
KEEP_BELOW_HZ = 500.0
#: Where ``stimgen demo`` writes when not told.
DEMO_OUT = "stimgen-demo"
#: The most stimuli one set may hold (continuum, grid, edit, decode, respace). More is a design for
#: several commands, and would fill the memory (each stimulus is decoded, inverted to sound and measured).
MAX_STIMULI = 1000
#: The networks' size, for ``stimgen train`` and for a NetworkConfig built by hand alike.
LATENT_DIM = 64
WIDTH = 16
MAX_CHANNELS = 128
#: Bounds of the training settings: beyond them a run would not finish or not fit in memory, or
#: (learning rate, loss weights) would only diverge.
MAX_STEPS = 10_000_000
MAX_BATCH = 65_536
MAX_LATENT_DIM = 4096
MAX_SIZE = 1024
MAX_LR = 1.0
MAX_WEIGHT = 1e6
#: The most threads ``stimgen train --threads`` takes.
MAX_THREADS = 1024


def check_whole(value, option: str, low: int, high: int, why: str = "") -> int:
    """``value`` as an int if it is a whole number from ``low`` to ``high``; else one
    :class:`StimgenError` naming ``option``, the range and (``why``) what sets it.

    Examples
    --------
    >>> check_whole(3, "--reps", 1, 10)
    3
    >>> check_whole(0, "--bootstrap", *N_BOOT_RANGE)
    Traceback (most recent call last):
    ...
    stimgen.errors.StimgenError: --bootstrap must be a whole number from 1 to 10,000, got 0
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or not low <= value <= high:
        raise StimgenError(f"{option} must be a whole number from {low:,} to {high:,}{why}, got {value!r}")
    return int(value)


def check_seed(seed, option: str = "--seed") -> int:
    """A seed numpy and torch both accept (:data:`SEED_RANGE`), else one :class:`StimgenError`.

    Examples
    --------
    >>> check_seed(-1)
    Traceback (most recent call last):
    ...
    stimgen.errors.StimgenError: --seed must be a whole number from 0 to 4,294,967,295 (2**32 - 1), got -1
    """
    return check_whole(seed, option, *SEED_RANGE, why=" (2**32 - 1)")


@dataclass(frozen=True)
class RenderSettings:
    """How a model's items become stimulus files.

    Audio is resampled to ``sr``, given raised-cosine on/off ramps of ``ramp_ms`` and scaled to
    ``level_dbfs`` RMS; a stimulus whose peak would then exceed ``max_peak_dbfs`` is refused
    (lower the level) rather than clipped or left quieter than the rest. Images ignore these.
    """

    sr: int = 48000
    level_dbfs: float = -20.0
    ramp_ms: float = 10.0
    max_peak_dbfs: float = -1.0

    def __post_init__(self) -> None:
        if not (isinstance(self.sr, numbers.Integral) and 8000 <= self.sr <= 192000):
            raise StimgenError(f"sample rate must be a whole number of Hz from 8000 to 192000, got {self.sr!r}")
        if not -80.0 <= self.level_dbfs < self.max_peak_dbfs <= 0.0:
            raise StimgenError(f"level must lie between -80 dBFS and the peak limit {self.max_peak_dbfs:g} dBFS, "
                               f"got {self.level_dbfs:g}")
        if not 0.0 <= self.ramp_ms <= 100.0:
            raise StimgenError(f"ramps must last 0 to 100 ms, got {self.ramp_ms:g}")



@dataclass(frozen=True)
class TrainSettings:
    """Every training setting; saved in the model's config.json."""

    model: str = "gaia"
    steps: int = 2000
    batch_size: int = 32
    lr: float = 1e-4
    latent_dim: int = LATENT_DIM
    width: int = WIDTH
    max_channels: int = MAX_CHANNELS
    size: int | None = None
    representation: str | None = None
    seed: int = SEED
    holdout: float = 0.1
    # GAIA's, kept for older callers and config.json files: shorthands for model_options of those names
    distance_weight: float | None = None
    recon_weight: float = 100.0
    disc_bottom: int | None = None
    #: GAIA's warm-up (``--warmup-steps``; the model option ``warmup_steps``): the run's first steps train
    #: G alone as an autoencoder. None: half of ``steps`` (0 with ``init``, a model already warm), which
    #: :func:`stimgen.train.train` writes into the run's settings; 0 is the paper's.
    warmup_steps: int | None = None
    log_every: int = 25
    preview_every: int = 250
    checkpoint_every: int = 250
    device: str = "auto"
    #: Train on spectrograms shifted a little in time and pitch and in level at every step (``--augment``;
    #: :func:`stimgen.train.augment_spectrograms`); for spectrogram representations only.
    augment: bool = False
    #: A model folder (or shipped model) whose generator the new model starts from (``--init``; a warm start).
    init: str | None = None
    #: Options of the model's own config by its field names (``stimgen train --set KEY=VALUE``), e.g.
    #: ``{"kl_weight": 0.1}`` for a VAE; :func:`stimgen.train.model_options` checks them against the model.
    model_options: dict = field(default_factory=dict, hash=False)  # hash=False: the settings stay hashable

    def __post_init__(self) -> None:
        if self.model not in MODEL_NAMES:
            raise StimgenError(f"unknown model {self.model!r}; choose from {', '.join(MODEL_NAMES)}")
        try:  # a copy, as a dict of name -> value (a mapping or (name, value) pairs is accepted)
            given = dict(self.model_options.items() if isinstance(self.model_options, Mapping) else self.model_options)
        except (TypeError, ValueError):
            raise StimgenError(f"model options must map option names to values, got {self.model_options!r}") from None
        if not all(isinstance(key, str) for key in given):
            raise StimgenError(f"model option names must be strings, got {', '.join(map(repr, given))}")
        object.__setattr__(self, "model_options", given)
        if not (math.isfinite(self.lr) and 0 < self.lr <= MAX_LR):
            raise StimgenError(f"--lr must be a positive number of at most {MAX_LR:g} (Adam's step size), got "
                               f"{self.lr:g}")
        for option, value in (("--distance-weight", self.distance_weight), ("--recon-weight", self.recon_weight)):
            if value is not None and not (math.isfinite(value) and 0 <= value <= MAX_WEIGHT):
                raise StimgenError(f"{option} must be a number from 0 to {MAX_WEIGHT:g}, got {value:g}")
        check_seed(self.seed)
        check_whole(self.steps, "--steps", 1, MAX_STEPS)
        if self.warmup_steps is not None:
            check_whole(self.warmup_steps, "--warmup-steps", 0, MAX_STEPS)
        check_whole(self.batch_size, "--batch-size", 2, MAX_BATCH, " (the losses compare items within a batch)")
        for option, value, high in (("--latent-dim", self.latent_dim, MAX_LATENT_DIM), ("--width", self.width,
                                                                                      MAX_CHANNELS),
                                    ("max_channels", self.max_channels, 4096), ("log_every", self.log_every, MAX_STEPS),
                                    ("--preview-every", self.preview_every, MAX_STEPS),
                                    ("--checkpoint-every", self.checkpoint_every, MAX_STEPS)):
            check_whole(value, option, 1, high)
        if not 0 <= self.holdout < 0.5:
            raise StimgenError(f"holdout must be in [0, 0.5), got {self.holdout}")
        if self.device not in DEVICES:
            raise StimgenError(f"device must be auto, cpu or cuda, got {self.device!r}")
        if self.size is not None and (self.size < 8 or self.size > MAX_SIZE or self.size & (self.size - 1)):
            raise StimgenError(f"size must be a power of two from 8 to {MAX_SIZE}, got {self.size}")
