// Adaptive procedures for a stimgen adaptive pilot's page: a weighted up-down staircase and QUEST,
// each as PsychoPy's data.StairHandler (linear steps) and data.QuestHandler (method "quantile") run
// them, ported line by line from PsychoPy's source (psychopy/data/staircase.py and
// psychopy/contrib/quest.py, 2026.2.5) so that the browser and PsychoPy present the same levels
// after the same answers; stimgen/adaptive.py is the same in Python (stimgen fit replays runs with
// it). Response 1 is "B" (PsychoPy's "correct"): the level goes down after it, up after a 0.
//
//   const s = new StimgenAdaptive.Staircase({start: 0.5, stepSizes: [0.1, 0.05, 0.02], upRatio: 1});
//   const level = s.next(); ... s.update(response, presentedLevel);
//   const q = new StimgenAdaptive.Quest({start: 0.5, startSd: 0.3, target: 0.5, beta: 3.5, delta: 0.02,
//                                        gamma: 0.02, grain: 0.01});
//   q.next(); q.update(response, presentedLevel); q.mean(); q.interval(0.95);
//
// References: Kaernbach (1991), Simple adaptive testing with the weighted up-down method, Percept
// Psychophys 49, 227-229; Watson & Pelli (1983), QUEST: a Bayesian adaptive psychometric method,
// Percept Psychophys 33, 113-120; Pelli (1987), The ideal psychometric procedure, IOVS 28 (suppl), 366.
(function (root) {
  "use strict";

  function clamp(x, low, high) {
    if (high !== null && high !== undefined && x > high) return high;
    if (low !== null && low !== undefined && x < low) return low;
    return x;
  }

  // Python's round(): halves to the even neighbour (QUEST indexes its table with it)
  function roundHalfEven(x) {
    const r = Math.round(x);
    return (Math.abs(x % 1) === 0.5 && r % 2 !== 0) ? r - 1 : r;
  }

  // numpy.interp of one value x over increasing xp
  function interp(x, xp, fp) {
    const n = xp.length;
    if (x <= xp[0]) return fp[0];
    if (x >= xp[n - 1]) return fp[n - 1];
    let lo = 0, hi = n - 1;
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if (xp[mid] <= x) lo = mid; else hi = mid;
    }
    const slope = (fp[hi] - fp[lo]) / (xp[hi] - xp[lo]);
    return slope * (x - xp[lo]) + fp[lo];
  }

  // What both procedures keep of a run: the level of each trial as presented and its answer.
  class Trials {
    constructor(start) {
      this._next = start;
      this.levels = [];
      this.responses = [];
    }

    next() {
      this.levels.push(this._next);
      return this._next;
    }

    // the answer to the last trial as 0/1, its level corrected to `level` where given
    _record(response, level) {
      if (level !== undefined && level !== null) this.levels[this.levels.length - 1] = level;
      return response ? 1 : 0;
    }
  }

  // The weighted up-down staircase: StairHandler(stepType="lin", nUp, nDown, stepSizes, minVal, maxVal,
  // applyInitialRule) with every step up upRatio times the step down (Kaernbach 1991): it settles where
  // P("B") = upRatio / (1 + upRatio).
  class Staircase extends Trials {
    constructor(o) {
      super(o.start);
      this.stepSizes = o.stepSizes.slice();
      this.step = this.stepSizes[0];
      this.upRatio = o.upRatio === undefined ? 1 : o.upRatio;
      this.nUp = o.nUp || 1;
      this.nDown = o.nDown || 1;
      this.applyInitialRule = o.applyInitialRule === undefined ? true : o.applyInitialRule;
      this.low = o.low === undefined ? 0 : o.low;
      this.high = o.high === undefined ? 1 : o.high;
      this.reversalLevels = [];
      this.reversalTrials = [];
      this._direction = "start";
      this._counter = 0;
      this._initial = false;
    }

    // the answer to the last trial (1: "B") and, where it was presented at another level, that level;
    // returns whether the trial was a reversal
    update(response, level) {
      response = this._record(response, level);
      const same = this.responses.length > 0 && this.responses[this.responses.length - 1] === response;
      this.responses.push(response);
      if (response === 1) this._counter = same ? this._counter + 1 : 1;
      else this._counter = same ? this._counter - 1 : -1;
      let reversal = false;
      if (this.reversalLevels.length === 0 && this.applyInitialRule) {
        reversal = this._direction === (response === 1 ? "up" : "down");
        this._direction = response === 1 ? "down" : "up";
      } else if (this._counter >= this.nDown) {
        reversal = this._direction !== "start" && this._direction !== "down";
        this._direction = "down";
      } else if (this._counter <= -this.nUp) {
        reversal = this._direction !== "start" && this._direction !== "up";
        this._direction = "up";
      }
      if (reversal) {
        this.reversalTrials.push(this.responses.length - 1);
        if (this.reversalLevels.length === 0 && this.applyInitialRule) this._initial = true;
        this.reversalLevels.push(this.levels[this.levels.length - 1]);
        if (this.stepSizes.length > 1) {
          this.step = this.stepSizes[Math.min(this.reversalLevels.length, this.stepSizes.length - 1)];
        }
      }
      if ((this.reversalLevels.length === 0 || this._initial) && this.applyInitialRule) {
        this._initial = false;
        this._move(response === 1 ? -1 : 1);
      } else if (this._counter >= this.nDown) {
        this._move(-1);
      } else if (this._counter <= -this.nUp) {
        this._move(1);
      }
      return reversal;
    }

    _move(sign) {
      this._next += sign * this.step * (sign > 0 ? this.upRatio : 1);
      this._next = clamp(this._next, this.low, this.high);
      this._counter = 0;
    }

    // the mean of the levels at the reversals after the first `discard`, an even number of them
    // (the earliest left out where they are odd); null before there are two
    threshold(discard) {
      let used = this.reversalLevels.slice(discard);
      if (used.length % 2 === 1) used = used.slice(1);
      if (used.length === 0) return null;
      return used.reduce((a, b) => a + b, 0) / used.length;
    }
  }

  // QUEST as QuestHandler(startVal, startValSd, pThreshold, beta, delta, gamma, grain, range,
  // method="quantile", minVal, maxVal) runs it
  class Quest extends Trials {
    constructor(o) {
      super(o.start);
      this.start = o.start;
      this.startSd = o.startSd;
      this.target = o.target;
      this.beta = o.beta;
      this.delta = o.delta;
      this.gamma = o.gamma;
      this.grain = o.grain;
      this.low = o.low === undefined ? 0 : o.low;
      this.high = o.high === undefined ? 1 : o.high;
      if (this.gamma > this.target) throw new Error("QUEST's gamma must be below the target");
      const dim = (o.range === undefined || o.range === null) ? 500 : 2 * Math.ceil(o.range / this.grain / 2);
      this._i = [];
      this.x = [];
      for (let k = -dim / 2; k <= dim / 2; k++) {
        this._i.push(k);
        this.x.push(k * this.grain);
      }
      let pdf = this.x.map(v => Math.exp(-0.5 * (v / this.startSd) ** 2));
      const total = sum(pdf);
      this.pdf = pdf.map(v => v / total);
      const x2 = [];
      for (let k = -dim; k <= dim; k++) x2.push(k * this.grain);
      let p2 = x2.map(v => this._weibull(v));
      if (p2[0] >= this.target || p2[p2.length - 1] <= this.target) {
        throw new Error("QUEST's psychometric function never reaches the target");
      }
      const xs = [], ps = [];
      for (let k = 0; k < p2.length - 1; k++) {
        if (p2[k + 1] - p2[k] !== 0) { xs.push(x2[k]); ps.push(p2[k]); }
      }
      this.epsilon = interp(this.target, ps, xs);
      p2 = x2.map(v => this._weibull(v + this.epsilon));
      this._s2 = [p2.map(v => 1 - v).reverse(), p2.slice().reverse()];
      const eps = 1e-14, pL = p2[0], pH = p2[p2.length - 1];
      let pE = pH * Math.log(pH + eps) - pL * Math.log(pL + eps) + (1 - pH + eps) * Math.log(1 - pH + eps) -
        (1 - pL + eps) * Math.log(1 - pL + eps);
      pE = 1 / (1 + Math.exp(pE / (pL - pH)));
      this.quantileOrder = (pE - pL) / (pH - pL);
      this._next = clamp(this.start, this.low, this.high);
    }

    _weibull(x) {
      return this.delta * this.gamma + (1 - this.delta) * (1 - (1 - this.gamma) * Math.exp(-Math.pow(10, this.beta * x)));
    }

    update(response, level) {
      response = this._record(response, level);
      const intensity = Math.max(-1e10, Math.min(1e10, this.levels[this.levels.length - 1]));
      const shift = roundHalfEven((intensity - this.start) / this.grain);
      const n = this.pdf.length, width = this._s2[0].length;
      let ii = this._i.map(k => n + k - shift - 1);
      if (ii[0] < 0) { const d = ii[0]; ii = ii.map(v => v - d); }
      if (ii[ii.length - 1] >= width) { const d = width - ii[ii.length - 1] - 1; ii = ii.map(v => v + d); }
      const row = this._s2[response];
      this.pdf = this.pdf.map((v, k) => v * row[ii[k]]);
      this.responses.push(response);
      this._next = clamp(this.quantile(), this.low, this.high);
      return false;
    }

    quantile(order) {
      if (order === undefined || order === null) order = this.quantileOrder;
      const p = [];
      let acc = 0;
      for (const v of this.pdf) { acc += v; p.push(acc); }
      const last = p[p.length - 1];
      if (!isFinite(last) || last === 0) throw new Error("QUEST's posterior is not finite, or all zero");
      const ps = [], xs = [];
      for (let k = 0; k < p.length; k++) {
        if (p[k] - (k === 0 ? -1 : p[k - 1]) !== 0) { ps.push(p[k]); xs.push(this.x[k]); }
      }
      return this.start + interp(order * last, ps, xs);
    }

    mean() {
      return this.start + sum(this.pdf.map((v, k) => v * this.x[k])) / sum(this.pdf);
    }

    sd() {
      const p = sum(this.pdf);
      const m = sum(this.pdf.map((v, k) => v * this.x[k])) / p;
      return Math.sqrt(sum(this.pdf.map((v, k) => v * this.x[k] * this.x[k])) / p - m * m);
    }

    interval(mass) {
      return [this.quantile((1 - mass) / 2), this.quantile((1 + mass) / 2)];
    }
  }

  function sum(values) {
    let s = 0;
    for (const v of values) s += v;
    return s;
  }

  // the index of the step of `levels` nearest to `level` (the first of two as near)
  function nearest(levels, level) {
    let best = 0;
    for (let k = 1; k < levels.length; k++) {
      if (Math.abs(levels[k] - level) < Math.abs(levels[best] - level)) best = k;
    }
    return best;
  }

  // the procedure of a pilot's settings (trials.js's STIMGEN: task, start, target, staircase, quest)
  function fromSettings(s) {
    if (s.task === "staircase") {
      const c = s.staircase;
      return new Staircase({start: s.start, stepSizes: c.step_sizes, upRatio: c.up_ratio, nUp: c.n_up,
                            nDown: c.n_down});
    }
    const q = s.quest;
    return new Quest({start: s.start, startSd: q.start_sd, target: s.target, beta: q.beta, delta: q.delta,
                      gamma: q.gamma, grain: q.grain, range: q.range});
  }

  const api = {Staircase, Quest, nearest, fromSettings, roundHalfEven};
  if (typeof module !== "undefined" && module.exports) module.exports = api;
  else root.StimgenAdaptive = api;
})(this);
