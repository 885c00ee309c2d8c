"""Adaptive procedures along a continuum: a weighted up-down staircase and QUEST, as PsychoPy runs them.

The task is two-alternative identification (the listener answers "A" or "B"); the procedure picks
each trial's morph level and tracks the level where P("B") is the ``target`` (0.5: the category
boundary). A "B" answer is the procedures' response 1 ("correct" in PsychoPy's terms): the level
goes down after it and up after an "A".

- :class:`Staircase` is PsychoPy's ``data.StairHandler`` with linear steps (``stepType="lin"``,
  ``nUp=nDown=1`` by default, the step size moving on through ``step_sizes`` at each reversal),
  with the steps up ``up_ratio`` times the steps down: Kaernbach's (1991) weighted up-down, which
  settles where ``P("B") = up_ratio / (1 + up_ratio)``, so ``up_ratio = target / (1 - target)``
  (1 for the boundary). Its threshold is the mean of the levels at its last reversals.
- :class:`Quest` is PsychoPy's ``data.QuestHandler`` (Watson & Pelli, 1983, as Pelli's QuestCreate,
  QuestUpdate, QuestQuantile, QuestMean and QuestSd, through Andrew Straw's port in
  ``psychopy.contrib.quest``): a Gaussian prior over the threshold on a grid of ``grain``, a
  Weibull psychometric function of slope ``beta``, guess rate ``gamma`` and lapse ``delta``,
  each trial at the posterior's most informative quantile (``method="quantile"``, Pelli 1987),
  clamped to [0, 1]. Its threshold is the posterior's mean, with a 95 % interval between its
  2.5 % and 97.5 % quantiles.

Both are written from PsychoPy's source (2026.2.5) so that ``stimgen fit`` can replay a run
without PsychoPy, and both take the level that was presented where it differs from the one asked
for (the nearest step of a continuum rendered ahead): a staircase records it (its reversals are
at presented levels; its next level follows its own steps), QUEST updates its posterior with it.
``stimgen/assets/pilot/adaptive.js`` is the same two procedures for the browser;
``tests/test_pilot_adaptive.py`` runs all three on the same answers.

Examples
--------
>>> s = Staircase(start=0.5, step_sizes=[0.1, 0.05])
>>> s.next()
0.5
>>> s.update(1)            # "B": down
>>> round(s.next(), 2)
0.4
>>> q = Quest(start=0.5, start_sd=0.3, target=0.5, gamma=0.02, delta=0.02)
>>> first = q.next()
>>> q.update(0)            # "A": up
>>> q.next() > first
True
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np

from stimgen.errors import StimgenError


class _Trials:
    """What both procedures keep of a run: the level of each trial as presented and its answer."""

    def __init__(self, start: float) -> None:
        self._next = float(start)
        self.levels: list[float] = []
        self.responses: list[int] = []

    def next(self) -> float:
        """The level of the next trial (recorded as presented until :meth:`update` says otherwise)."""
        self.levels.append(self._next)
        return self._next

    def _record(self, response: int, level: float | None) -> int:
        """The answer to the last trial (1: "B") as 0/1, its level corrected to ``level`` where given."""
        if level is not None:
            self.levels[-1] = float(level)
        return int(response)


class Staircase(_Trials):
    """A weighted up-down staircase on the morph axis: PsychoPy's ``StairHandler`` with linear
    steps, its steps up ``up_ratio`` times as large as its steps down.

    ``next()`` gives the level to present (and records it); ``update(response, level)`` takes
    the answer (1: "B", 0: "A") and, where the presented level was another (the nearest step),
    that level. ``levels``, ``responses``, ``reversal_levels`` and ``reversal_trials`` (0-based)
    are the run so far, as StairHandler's ``intensities``, ``data``, ``reversalIntensities`` and
    ``reversalPoints``.
    """

    def __init__(self, start: float, step_sizes: Sequence[float], up_ratio: float = 1.0, n_up: int = 1,
                 n_down: int = 1, apply_initial_rule: bool = True, low: float | None = 0.0,
                 high: float | None = 1.0) -> None:
        self.step_sizes = [float(s) for s in step_sizes]
        self.step = self.step_sizes[0]
        self.up_ratio, self.n_up, self.n_down = float(up_ratio), int(n_up), int(n_down)
        self.apply_initial_rule, self.low, self.high = apply_initial_rule, low, high
        super().__init__(start)
        self.reversal_levels: list[float] = []
        self.reversal_trials: list[int] = []
        self._direction = "start"
        self._counter = 0
        self._initial = False

    def update(self, response: int, level: float | None = None) -> None:
        """Take the answer to the last trial (1: "B") and, if it was presented at another ``level``, that level."""
        response = self._record(response, level)
        same = bool(self.responses) and self.responses[-1] == response
        self.responses.append(response)
        if response == 1:
            self._counter = self._counter + 1 if same else 1
        else:
            self._counter = self._counter - 1 if same else -1
        reversal = False
        if not self.reversal_levels and self.apply_initial_rule:
            reversal = self._direction == ("up" if response == 1 else "down")
            self._direction = "down" if response == 1 else "up"
        elif self._counter >= self.n_down:
            reversal = self._direction not in ("start", "down")
            self._direction = "down"
        elif self._counter <= -self.n_up:
            reversal = self._direction not in ("start", "up")
            self._direction = "up"
        if reversal:
            self.reversal_trials.append(len(self.responses) - 1)
            if not self.reversal_levels and self.apply_initial_rule:
                self._initial = True
            self.reversal_levels.append(self.levels[-1])
            if len(self.step_sizes) > 1:
                self.step = self.step_sizes[min(len(self.reversal_levels), len(self.step_sizes) - 1)]
        if (not self.reversal_levels or self._initial) and self.apply_initial_rule:
            self._initial = False
            self._move(-1 if response == 1 else 1)
        elif self._counter >= self.n_down:
            self._move(-1)
        elif self._counter <= -self.n_up:
            self._move(1)

    def _move(self, sign: int) -> None:
        self._next += sign * self.step * (self.up_ratio if sign > 0 else 1.0)
        if self.low is not None and self._next < self.low:
            self._next = self.low
        if self.high is not None and self._next > self.high:
            self._next = self.high
        self._counter = 0

    def threshold(self, discard: int) -> tuple[float, float, int]:
        """The mean and SD of the levels at the reversals after the first ``discard``, an even
        number of them (the earliest left out where they are odd), and how many; NaN before two."""
        used = np.asarray(self.reversal_levels[discard:], dtype=np.float64)
        used = used[used.size % 2:]
        if used.size == 0:
            return math.nan, math.nan, 0
        return float(used.mean()), float(used.std(ddof=1)), int(used.size)


class Quest(_Trials):
    """QUEST (Watson & Pelli, 1983) as PsychoPy's ``QuestHandler`` runs it with ``method="quantile"``
    (its defaults too: ``target`` is its ``pThreshold``).

    The threshold ``T`` has a Gaussian prior (mean ``start``, SD ``start_sd``) on a grid of
    ``grain`` (``range`` wide, centred on ``start``; 500 grains without one); P("B" at level ``x``)
    = ``delta * gamma + (1 - delta) * (1 - (1 - gamma) * exp(-10 ** (beta * (x - T + eps))))``,
    ``eps`` putting P = ``target`` at ``x = T``. Each trial is at the posterior's quantile of
    order ``quantile_order`` (Pelli's most informative one), clamped to [``low``, ``high``].
    """

    def __init__(self, start: float, start_sd: float, target: float = 0.82, beta: float = 3.5, delta: float = 0.01,
                 gamma: float = 0.5, grain: float = 0.01, range: float | None = None,  # noqa: A002 (PsychoPy's name)
                 low: float | None = 0.0, high: float | None = 1.0) -> None:
        if gamma > target:
            raise StimgenError(f"QUEST's guess rate gamma ({gamma:g}) must be below the target ({target:g})")
        self.start, self.start_sd, self.target = float(start), float(start_sd), float(target)
        self.beta, self.delta, self.gamma, self.grain = float(beta), float(delta), float(gamma), float(grain)
        self.low, self.high = low, high
        dim = 500 if range is None else 2 * math.ceil(range / self.grain / 2.0)
        self._i = np.arange(-dim / 2, dim / 2 + 1)
        self.x = self._i * self.grain
        pdf = np.exp(-0.5 * (self.x / self.start_sd) ** 2)
        self.pdf = pdf / np.sum(pdf)
        x2 = np.arange(-dim, dim + 1) * self.grain
        p2 = self._weibull(x2)
        if p2[0] >= self.target or p2[-1] <= self.target:
            raise StimgenError(f"QUEST's function (from {p2[0]:.2f} to {p2[-1]:.2f}) never reaches the target "
                               f"{self.target:g}")
        index = np.nonzero(p2[1:] - p2[:-1])[0]
        self.epsilon = float(np.interp([self.target], p2[index], x2[index])[0])
        p2 = self._weibull(x2 + self.epsilon)
        self._s2 = np.array(((1 - p2)[::-1], p2[::-1]))
        eps = 1e-14
        p_low, p_high = p2[0], p2[-1]
        pe = (p_high * math.log(p_high + eps) - p_low * math.log(p_low + eps) + (1 - p_high + eps)
              * math.log(1 - p_high + eps) - (1 - p_low + eps) * math.log(1 - p_low + eps))
        pe = 1 / (1 + math.exp(pe / (p_low - p_high)))
        self.quantile_order = (pe - p_low) / (p_high - p_low)
        super().__init__(self._clamp(self.start))

    def _weibull(self, x: np.ndarray) -> np.ndarray:
        return self.delta * self.gamma + (1 - self.delta) * (1 - (1 - self.gamma) * np.exp(-10 ** (self.beta * x)))

    def _clamp(self, level: float) -> float:
        if self.high is not None and level > self.high:
            return float(self.high)
        if self.low is not None and level < self.low:
            return float(self.low)
        return float(level)

    def update(self, response: int, level: float | None = None) -> None:
        """Take the answer to the last trial (1: "B") at ``level`` (default: the one :meth:`next` gave)."""
        response = self._record(response, level)
        intensity = max(-1e10, min(1e10, self.levels[-1]))
        ii = len(self.pdf) + self._i - round((intensity - self.start) / self.grain) - 1
        if ii[0] < 0:
            ii = ii - ii[0]
        if ii[-1] >= self._s2.shape[1]:
            ii = ii + self._s2.shape[1] - ii[-1] - 1
        self.pdf = self.pdf * self._s2[response, ii.astype(np.int64)]
        self.responses.append(response)
        self._next = self._clamp(self.quantile())

    def quantile(self, order: float | None = None) -> float:
        """The posterior's quantile of ``order`` (default the most informative one)."""
        order = self.quantile_order if order is None else order
        p = np.cumsum(self.pdf)
        if not np.isfinite(p[-1]) or p[-1] == 0:
            raise StimgenError("QUEST's posterior is not finite, or all zero")
        m1p = np.concatenate(([-1], p))
        index = np.nonzero(m1p[1:] - m1p[:-1])[0]
        return float(self.start + np.interp([order * p[-1]], p[index], self.x[index])[0])

    def mean(self) -> float:
        """The posterior's mean: QUEST's threshold estimate (King-Smith et al., 1994)."""
        return float(self.start + np.sum(self.pdf * self.x) / np.sum(self.pdf))

    def sd(self) -> float:
        """The posterior's standard deviation."""
        p = np.sum(self.pdf)
        return float(math.sqrt(np.sum(self.pdf * self.x ** 2) / p - (np.sum(self.pdf * self.x) / p) ** 2))

    def interval(self, mass: float = 0.95) -> tuple[float, float]:
        """The posterior's central interval of ``mass`` (its quantiles (1 - mass) / 2 and (1 + mass) / 2)."""
        return self.quantile((1 - mass) / 2), self.quantile((1 + mass) / 2)


def make_procedure(settings: dict) -> Staircase | Quest:
    """A new :class:`Staircase` or :class:`Quest` from a pilot's settings (pilot.json: ``task``,
    ``start``, ``target`` and the procedure's own, :data:`stimgen.options.STAIRCASE` or
    :data:`stimgen.options.QUEST`)."""
    if settings["task"] == "staircase":
        s = settings["staircase"]
        return Staircase(settings["start"], s["step_sizes"], up_ratio=s["up_ratio"], n_up=s["n_up"],
                         n_down=s["n_down"])
    q = settings["quest"]
    return Quest(settings["start"], q["start_sd"], settings["target"], beta=q["beta"], delta=q["delta"],
                 gamma=q["gamma"], grain=q["grain"], range=q["range"])


def nearest(levels: np.ndarray, level: float) -> int:
    """The index of the step of ``levels`` nearest to ``level`` (the first of two as near): the
    step a continuum rendered ahead serves (the PsychoPy script and the page choose it alike)."""
    return int(np.argmin(np.abs(np.asarray(levels, dtype=np.float64) - level)))


def run(settings: dict, answer: Callable[[float], int], trials: int, steps: np.ndarray | None = None):
    """One run of the procedure of ``settings``: ``trials`` trials, each presented at the nearest of
    ``steps`` (exactly the level asked for, to 4 decimals, without them), answered by
    ``answer(level)`` (1: "B"). Returns the procedure, the levels asked for and those presented."""
    procedure = make_procedure(settings)
    asked, shown = [], []
    for _ in range(trials):
        level = procedure.next()
        served = float(steps[nearest(steps, level)]) if steps is not None else round(level, 4)
        procedure.update(answer(served), served)
        asked.append(level)
        shown.append(served)
    return procedure, asked, shown


def procedure_settings(task: str, target: float, start: float, trials: int) -> dict:
    """The settings of an adaptive pilot's procedure (pilot.json, the PsychoPy script's SETTINGS,
    the page's trials.js): ``task`` (``"staircase"`` or ``"quest"``), the P("B") it tracks, its
    first level and its trials, and each procedure's own from :mod:`stimgen.options`. Each value is
    checked (one :class:`StimgenError` naming the option)."""
    from stimgen.options import (
        ADAPTIVE_TASKS,
        MAX_ADAPTIVE_TRIALS,
        QUEST_BETA,
        QUEST_DELTA,
        QUEST_GAMMA,
        QUEST_GRAIN,
        QUEST_START_SD,
        STAIRCASE_DISCARD,
        STAIRCASE_STEPS,
        TARGET_RANGE,
        check_whole,
    )

    if task not in ADAPTIVE_TASKS:
        raise StimgenError(f"task must be one of {', '.join(ADAPTIVE_TASKS)}, got {task!r}")
    trials = check_whole(trials, "--trials", 1, MAX_ADAPTIVE_TRIALS)
    for option, value, (low, high) in (("--target", target, TARGET_RANGE), ("--start", start, (0.0, 1.0))):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
            raise StimgenError(f"{option} must be a number from {low:g} to {high:g}, got {value!r}")
    if task == "quest" and not QUEST_GAMMA < target < 1 - QUEST_DELTA:
        raise StimgenError(f"--target must lie between QUEST's guess and lapse rates ({QUEST_GAMMA:g}, "
                           f"{1 - QUEST_DELTA:g}), got {target!r}")
    own = ({"step_sizes": list(STAIRCASE_STEPS), "up_ratio": float(target) / (1.0 - float(target)), "n_up": 1,
            "n_down": 1, "discard": STAIRCASE_DISCARD} if task == "staircase" else
           {"start_sd": QUEST_START_SD, "beta": QUEST_BETA, "delta": QUEST_DELTA, "gamma": QUEST_GAMMA,
            "grain": QUEST_GRAIN, "range": None})
    return {"task": task, "target": float(target), "start": float(start), "trials": int(trials), task: own}
