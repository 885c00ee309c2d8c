"""The phonetician's baseline vowel continuum between two recordings of one speaker (issue 23).

    python experiments/formantgrid.py [OUT] [--steps 11]

:func:`formantgrid_continuum`: each recording's own source, inverse-filtered with Praat's LPC
(``To LPC (burg)``, order 16 at 16 kHz, ``Filter (inverse)``), put at a level F0 by Praat's PSOLA
(``To Manipulation``, ``Get resynthesis (overlap-add)``; it worked on the inverse-filtered source
of all 28 vowels, so no pulse train is used), the two sources' pulses aligned and mixed by the morph
level, and filtered through a Praat FormantGrid (``Create FormantGrid``, ``Add formant point``,
``Add bandwidth point``, ``Filter``) with F1-F5 measured on each end (Burg, 5 formants, 5500 Hz,
middle half of the voiced part) interpolated linearly in Bark, bandwidths linearly in Hz. F5 is
in the grid because with F1-F4 alone the spectrum falls away above F4 and Burg then puts a
spurious formant between F1 and F2 (the /iy/ ends came out 1.4-5.6 Bark from the recordings);
each end has its own source because one source for all steps put the far end up to 2.7 Bark off.
:func:`crossfade_check` asks whether a midpoint is one vowel between its ends or a superposition.

The demo (``__main__``) makes the voices of natural_voices.py and, for each, the six vowel pairs of
experiments/calibration.py: an 11-step continuum at 120 Hz and the linear crossfade midpoint
(:func:`world_crossfade`: the two ends' WORLD envelopes averaged, resynthesised at 120 Hz), all
measured with natural_voices.measure_vowel. Measured (24 continua, 4 voices; 40 s on one core):

- ends against the recordings, in (F1, F2) Bark: median 0.10, largest 0.58 (festival-man's /uw/);
- F1 and F2 monotonic (|Spearman rho| >= 0.95 for a formant that moves >= 1 Bark) on 22/24, median
  Bark CV of neighbour steps 0.23. Not monotonic: espeak-man /iy/-/aa/ and /ih/-/ao/ (CV 0.70,
  0.76). The residuals of espeak-man's /iy/ and /ih/ keep a trough at 750-2000 Hz, 13-18 dB below
  their 2-3.5 kHz band (other sources lie 5-12 dB above it): zeros of espeak-ng's synthesiser that
  an all-pole inverse filter leaves in the source. The mid steps' F2 falls in it, and Praat finds
  it 1.8 and 2.1 Bark below the Bark middle of the ends;
- F0 119.9-120.1 Hz on 261 of 264 steps; the three steps at festival-woman's /iy/ measure 410 Hz
  (HNR 10.6 dB): PSOLA leaves energy between the 120 Hz harmonics near her 420 Hz F1, and the
  grid's narrow F1 (Burg's 38 Hz, floored at 50) rings on it;
- crossfade check: on /iy/-/uw/ and /iy/-/aa/ (its settings were chosen on these, with the other
  pairs in view) the FormantGrid midpoint passes 8/8 and the crossfade fails 8/8 (4 show both
  ends' F2, none an F2 between). On the other four pairs, where the ends' F2 lie >= 1 Bark apart
  (13 of 16), the midpoint passes 11/13 and the crossfade fails 13/13 (7 with both ends' F2). The
  two midpoints that fail: espeak-man /ih/-/ao/ (its F2 lost in the trough above) and
  festival-man /eh/-/uw/ (an F2 peak only 0.9 dB prominent). With LPC orders 14-18, prominences
  1-3 dB and margins 0.3-0.5 Bark the crossfade fails 21/21 in every setting and the midpoint
  passes 15-19/21; at orders 22 and 28 one to three crossfades pass. The ruler's own F1/F2 of a
  crossfade is no guide (espeak-man /iy/-/uw/: F1 1290 Hz, F2 2408 Hz).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np
import parselmouth
from parselmouth.praat import call

sys.path.insert(0, str(Path(__file__).resolve().parent))
from natural_voices import make_voices, measure_vowel, voiced_span  # noqa: E402

SR = 16000
LEVEL_DBFS = -25.0
DEMO_F0 = 120.0
ENVELOPE_ORDER = 18
PROMINENCE_DB = 1.0
NEAR_BARK = 0.3
MIN_SEPARATION_BARK = 1.0


def column_median(values: list[float]) -> float:
    """The median of the finite values, NaN where there is none."""
    finite = np.asarray(values)[np.isfinite(values)]
    return float(np.median(finite)) if finite.size else float("nan")


def formants_and_bandwidths(y: np.ndarray, sr: int, ceiling: float) -> tuple[np.ndarray, np.ndarray]:
    """Median F1-F5 and B1-B5 (Hz) over the middle half of the voiced part: Praat's Burg, 5 formants
    below ``ceiling``, 25 ms window (the ruler of natural_voices.measure_vowel). Bandwidths are
    clipped to 50-500 Hz: Burg's narrower ones are poles on single harmonics, its wider ones
    formants it barely sees. An F5 Praat did not find is put at 0.9 ``ceiling`` (a uniform tube's,
    whose five formants lie below it), with a 200 Hz bandwidth."""
    start, stop = voiced_span(y, sr)
    formant = parselmouth.Sound(y.astype(np.float64), sampling_frequency=sr).to_formant_burg(
        max_number_of_formants=5.0, maximum_formant=ceiling, window_length=0.025)
    middle = (start + 0.25 * (stop - start), start + 0.75 * (stop - start))
    times = [t for t in formant.xs() if middle[0] <= t <= middle[1]]
    freqs, bws = (np.array([column_median([get(k, t) for t in times]) for k in range(1, 6)])
                  for get in (formant.get_value_at_time, formant.get_bandwidth_at_time))
    if np.isnan(freqs[:4]).any():
        raise ValueError(f"Praat found no F1, F2, F3 or F4 over the vowel's middle: {freqs.round()}")
    if np.isnan(freqs[4]):
        freqs[4], bws[4] = 0.9 * ceiling, 200.0
    return freqs, np.clip(bws, 50.0, 500.0)


def speaker_source(y: np.ndarray, sr: int, f0: float) -> parselmouth.Sound:
    """The recording's own source at a level ``f0``: Praat's ``To LPC (burg)`` (order 16 at 16 kHz,
    25 ms window, 5 ms step, pre-emphasis from 50 Hz) and ``Filter (inverse)``, then PSOLA
    (``To Manipulation``, a one-point PitchTier, ``Get resynthesis (overlap-add)``)."""
    sound = parselmouth.Sound(y.astype(np.float64), sampling_frequency=sr)
    lpc = call(sound, "To LPC (burg)", 16, 0.025, 0.005, 50.0)
    source = call([sound, lpc], "Filter (inverse)")
    manipulation = call(source, "To Manipulation", 0.01, 60.0, 600.0)
    tier = call("Create PitchTier", "f0", source.xmin, source.xmax)
    call(tier, "Add point", 0.5 * (source.xmin + source.xmax), float(f0))
    call([tier, manipulation], "Replace pitch tier")
    return call(manipulation, "Get resynthesis (overlap-add)")


def grid_filter(source: parselmouth.Sound, freqs: np.ndarray, bws: np.ndarray) -> np.ndarray:
    """``source`` filtered through a Praat FormantGrid holding the formants ``freqs`` and bandwidths
    ``bws`` (Hz) level over the whole sound."""
    t0, t1 = source.xmin, source.xmax
    grid = call("Create FormantGrid", "grid", t0, t1, len(freqs), 550.0, 1100.0, 60.0, 50.0)
    for k, (f, b) in enumerate(zip(freqs, bws), start=1):
        call(grid, "Remove formant points between", k, t0, t1)
        call(grid, "Add formant point", k, 0.5 * (t0 + t1), float(f))
        call(grid, "Remove bandwidth points between", k, t0, t1)
        call(grid, "Add bandwidth point", k, 0.5 * (t0 + t1), float(b))
    return call([source, grid], "Filter").values[0]


def aligned_sources(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Two sources at one F0 cut to the shorter one's length about their middles, ``b`` shifted
    (circularly, by at most 15 ms, a period at 67 Hz) to where its cross-correlation with ``a``
    peaks, so that their pulses coincide and a weighted sum of them is one pulse train."""
    n = min(a.size, b.size)
    a, b = (x[(x.size - n) // 2:(x.size - n) // 2 + n] for x in (a, b))
    lags = np.arange(-int(0.015 * SR), int(0.015 * SR) + 1)
    lag = lags[np.argmax([np.dot(a, np.roll(b, k)) for k in lags])]
    return a, np.roll(b, lag)


def formantgrid_continuum(a: Path, b: Path, steps: int, f0: float, out: Path,
                          ceiling: float = 5500.0) -> list[Path]:
    """Write ``steps`` files OUT/step_00.wav ... from ``a`` to ``b``: the two recordings' own
    sources at ``f0`` Hz, their pulses aligned and mixed by the morph level, through FormantGrids
    whose F1-F5 are the two ends' (Burg below ``ceiling``) interpolated linearly in Bark and whose
    bandwidths are interpolated linearly in Hz; 16 kHz, -25 dBFS RMS each."""
    from stimgen.signal.audio import load_audio, normalize_rms, resample, save_wav
    from stimgen.signal.phonetics import bark_to_hz, hz_to_bark

    ends = []
    for path in (a, b):
        y, sr = load_audio(path)
        ends.append(resample(y, sr, SR))
    (fa, ba), (fb, bb) = (formants_and_bandwidths(y, SR, ceiling) for y in ends)
    sa, sb = aligned_sources(*(speaker_source(y, SR, f0).values[0] for y in ends))
    out = Path(out)
    paths = []
    for k, t in enumerate(np.linspace(0.0, 1.0, steps)):
        source = parselmouth.Sound((1 - t) * sa + t * sb, sampling_frequency=SR)
        freqs = bark_to_hz((1 - t) * hz_to_bark(fa) + t * hz_to_bark(fb))
        y = grid_filter(source, freqs, (1 - t) * ba + t * bb)
        paths.append(out / f"step_{k:02d}.wav")
        save_wav(paths[-1], normalize_rms(y.astype(np.float32), LEVEL_DBFS)[0], SR)
    return paths


def world_crossfade(a: Path, b: Path, f0: float, out: Path) -> Path:
    """Write the linear crossfade midpoint of ``a`` and ``b`` to ``out``: each end analysed by WORLD
    (Harvest, CheapTrick, D4C; 5 ms frames) at its own F0, the two ends' envelopes and
    aperiodicities averaged linearly frame by frame (the shorter's length, about the middles),
    resynthesised at a level ``f0`` Hz; 16 kHz, -25 dBFS RMS."""
    from stimgen.signal.audio import load_audio, normalize_rms, resample, save_wav
    from stimgen.signal.world import _pyworld

    pw = _pyworld()
    analyses = []
    for path in (a, b):
        y, sr = load_audio(path)
        x = resample(y, sr, SR).astype(np.float64)
        f0s, times = pw.harvest(x, SR, f0_floor=60.0, f0_ceil=500.0, frame_period=5.0)
        analyses.append((pw.cheaptrick(x, f0s, times, SR), pw.d4c(x, f0s, times, SR)))
    n = min(len(sp) for sp, _ in analyses)
    (spa, apa), (spb, apb) = ((sp[(len(sp) - n) // 2:][:n], ap[(len(ap) - n) // 2:][:n]) for sp, ap in analyses)
    y = pw.synthesize(np.full(n, float(f0)), 0.5 * (spa + spb), 0.5 * (apa + apb), SR, frame_period=5.0)
    save_wav(out, normalize_rms(y.astype(np.float32), LEVEL_DBFS)[0], SR)
    return Path(out)


def envelope_peaks(y: np.ndarray, sr: int, ceiling: float) -> tuple[np.ndarray, np.ndarray]:
    """Frequencies (Hz) and prominences (dB) of the peaks of a sound's mean LPC envelope over the
    middle half of its voiced part: Praat's ``To LPC (burg)`` at ``2 ceiling`` Hz with
    ``ENVELOPE_ORDER`` coefficients, 25 ms window, pre-emphasis from 50 Hz; the envelopes (``To
    Spectrum (slice)``) of 20 frames averaged in dB."""
    from scipy.signal import find_peaks

    start, stop = voiced_span(y, sr)
    sound = parselmouth.Sound(y.astype(np.float64), sampling_frequency=sr).resample(2 * ceiling)
    lpc = call(sound, "To LPC (burg)", ENVELOPE_ORDER, 0.025, 0.005, 50.0)
    spectra = [call(lpc, "To Spectrum (slice)", float(t), 10.0, 0.0, 50.0)
               for t in np.linspace(start + 0.25 * (stop - start), start + 0.75 * (stop - start), 20)]
    db = np.mean([10 * np.log10(s.values[0] ** 2 + s.values[1] ** 2 + 1e-30) for s in spectra], axis=0)
    peaks, props = find_peaks(db, prominence=0.0)
    return np.asarray(spectra[0].xs())[peaks], props["prominences"]


def crossfade_check(path: Path, f2_low: float, f2_high: float, ceiling: float = 5500.0) -> dict:
    """Whether ``path`` is one vowel between two ends whose F2 are ``f2_low`` and ``f2_high`` (Hz),
    not a superposition of the two ends.

    Peaks of the LPC envelope (:func:`envelope_peaks`) at least ``PROMINENCE_DB`` prominent are
    looked for in the F2 region: near each end's F2 (within ``NEAR_BARK``) and between them (more
    than ``NEAR_BARK`` from both). One vowel has an F2 peak between the ends and not peaks at both
    ends' F2; a crossfade shows its ends' F2 (both, or the louder end's) and none between. The
    order leaves room for nine peaks below the ceiling, so that a superposition can show both
    ends' formants: at order 10 (the ruler's five formants) the envelope shows at most one peak in
    the F2 region of 7 of the 8 /iy/-/uw/ and /iy/-/aa/ crossfades of the demo. Meant for
    midpoints (an end is not between its ends). Refuses ends whose F2 lie less than
    ``MIN_SEPARATION_BARK`` apart, where near and between overlap. Returns the region's peaks
    (Hz), ``near_low``, ``near_high``, ``between`` and ``one_vowel``."""
    from stimgen.signal.audio import load_audio
    from stimgen.signal.phonetics import hz_to_bark

    low, high = sorted(float(hz_to_bark(f)) for f in (f2_low, f2_high))
    if high - low < MIN_SEPARATION_BARK:
        raise ValueError(f"F2 {f2_low:.0f} and {f2_high:.0f} Hz lie {high - low:.2f} Bark apart; "
                         f"the check needs {MIN_SEPARATION_BARK}")
    y, sr = load_audio(path)
    freqs, prominences = envelope_peaks(y, sr, ceiling)
    z = hz_to_bark(freqs)
    keep = (prominences >= PROMINENCE_DB) & (z >= low - NEAR_BARK) & (z <= high + NEAR_BARK)
    z = z[keep]
    near_low, near_high = bool(np.any(z - low <= NEAR_BARK)), bool(np.any(high - z <= NEAR_BARK))
    between = bool(np.any((z > low + NEAR_BARK) & (z < high - NEAR_BARK)))
    return {"peaks": [round(float(f)) for f in freqs[keep]], "near_low": near_low, "near_high": near_high,
            "between": between, "one_vowel": between and not (near_low and near_high)}


def bark_path(paths: list[Path]) -> tuple[np.ndarray, np.ndarray]:
    """F0 (Hz) and (F1, F2) in Bark of each file, by natural_voices.measure_vowel."""
    from stimgen.signal.phonetics import hz_to_bark

    measured = [measure_vowel(p) for p in paths]
    return np.array([m["f0"] for m in measured]), hz_to_bark(np.array([[m["f1"], m["f2"]] for m in measured]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, nargs="?", help="folder for the voices and continua (default: temporary)")
    parser.add_argument("--steps", type=int, default=11)
    args = parser.parse_args()
    from calibration import PAIRS, spearman

    from stimgen.signal.phonetics import bark_to_hz

    with tempfile.TemporaryDirectory() as tmp:
        out = args.out or Path(tmp)
        rows = []
        for voice, folder in make_voices(out / "voices").items():
            for first, last in PAIRS:
                a, b = folder / f"{first}.wav", folder / f"{last}.wav"
                continua = out / "continua" / voice / f"{first}-{last}"
                steps = formantgrid_continuum(a, b, args.steps, DEMO_F0, continua)
                crossfade = world_crossfade(a, b, DEMO_F0, continua / "crossfade.wav")
                f0, path = bark_path(steps)
                _, ends = bark_path([a, b])
                _, mixed = bark_path([crossfade])
                moving = np.abs(path[-1] - path[0]) >= 1.0
                hops = np.linalg.norm(np.diff(path, axis=0), axis=1)
                row = {"voice": voice, "pair": f"{first}-{last}", "f0": f0,
                       "end_error": np.linalg.norm(path[[0, -1]] - ends, axis=1),
                       "monotonic": all(abs(spearman(path[:, k])) >= 0.95 for k in np.flatnonzero(moving)),
                       "cv": hops.std() / hops.mean(), "mid": path[len(steps) // 2], "crossfade": mixed[0]}
                f2 = bark_to_hz(ends[:, 1])
                try:
                    row["grid_check"] = crossfade_check(steps[len(steps) // 2], *f2)
                    row["crossfade_check"] = crossfade_check(crossfade, *f2)
                except ValueError as exc:
                    print(f"{voice} {first}-{last}: not checked, {exc}")
                rows.append(row)
    report(rows)


def report(rows: list[dict]) -> None:
    """Print the table of continua and the counts of the crossfade check."""
    from stimgen.signal.phonetics import bark_to_hz

    print(f"{'voice':15s} {'pair':6s} {'end err a/b':>11s} {'mono':>4s} {'CV':>5s} "
          f"{'grid mid F1/F2':>14s} {'xfade F1/F2':>12s}  grid check (peaks)      crossfade check (peaks)")
    for r in rows:
        mid, mixed = bark_to_hz(r["mid"]), bark_to_hz(r["crossfade"])
        checks = "".join(f"  {'pass' if c['one_vowel'] else 'FAIL'} {str(c['peaks']):18s}"
                         for c in (r.get("grid_check"), r.get("crossfade_check")) if c)
        print(f"{r['voice']:15s} {r['pair']:6s} {r['end_error'][0]:5.2f}/{r['end_error'][1]:4.2f} "
              f"{'yes' if r['monotonic'] else 'no':>4s} {r['cv']:5.2f} {mid[0]:6.0f}/{mid[1]:4.0f} "
              f"{mixed[0]:5.0f}/{mixed[1]:4.0f}{checks}")
    errors = np.concatenate([r["end_error"] for r in rows])
    f0 = np.concatenate([r["f0"] for r in rows])
    level = np.abs(f0 - DEMO_F0) <= 0.5
    print(f"\n{len(rows)} continua: ends from the recordings median {np.median(errors):.2f}, largest "
          f"{errors.max():.2f} Bark; monotonic {sum(r['monotonic'] for r in rows)}/{len(rows)}; "
          f"median Bark CV {np.median([r['cv'] for r in rows]):.2f}; F0 {f0[level].min():.1f}-"
          f"{f0[level].max():.1f} Hz on {level.sum()}/{f0.size} steps, others {np.round(f0[~level])}")
    for name, chosen in (("iy-uw, iy-aa", lambda r: r["pair"] in ("iy-uw", "iy-aa")),
                         ("other pairs", lambda r: r["pair"] not in ("iy-uw", "iy-aa"))):
        checked = [r for r in rows if chosen(r) and "grid_check" in r]
        grid = sum(r["grid_check"]["one_vowel"] for r in checked)
        fade = [r["crossfade_check"] for r in checked]
        both = sum(c["near_low"] and c["near_high"] for c in fade)
        print(f"{name}: FormantGrid midpoint passes {grid}/{len(checked)}, crossfade fails "
              f"{sum(not c['one_vowel'] for c in fade)}/{len(checked)} ({both} with both ends' F2, "
              f"{sum(not c['between'] for c in fade)} with no F2 between)")


if __name__ == "__main__":
    main()
