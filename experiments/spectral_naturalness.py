"""How natural the steps' spectra are: the model's continua (``warp``) against the FormantGrid baseline (issue 23).

    python experiments/faithful_ends.py VOICES --out /tmp/fe --methods warp --formantgrid --keep KEPT
    python experiments/spectral_naturalness.py VOICES KEPT --out docs/results/faithful-ends

VOICES holds the natural voices (``experiments/natural_voices.py VOICES``), KEPT the continua and
WORLD references that ``faithful_ends.py --keep`` wrote. Every number comes from the WAV files.

The envelope of one file (:func:`measure`): the mean power spectrum (LTAS) of 50 ms Hann frames
(10 ms hop, 4096-point FFT at 16 kHz) over the middle half of the voiced part (the ruler's span,
``natural_voices.voiced_span``), in dB; its upper envelope through the harmonic peaks (a running
maximum over one F0, then a running mean over one F0, F0 being the file's, by the ruler), so that a
120 Hz step and a recording at 87-172 Hz are sampled alike; read at 0.1 Bark steps from 200 to
5000 Hz and level-normalised (its mean over that range subtracted). The distance between two
envelopes is the RMS of their difference (dB).

1. Near natural vowels of the same F1/F2: for every written step, the natural recording of the
   same voice (its seven vowels) whose (F1, F2) by the ruler (``natural_voices.measure_vowel``) lies
   nearest the step's in Bark; ``near_bark`` that distance, ``natural_db`` the envelope distance to
   that recording (at its own F0). Steps count where ``near_bark`` <= ``NEAR_BARK`` (0.5). The
   floor (``floor_db``): each recording through WORLD at 120 Hz (the page's reference) against the
   recording itself, what changing F0 alone costs. ``ends_db``: the first and last steps against
   their own recordings through WORLD at 120 Hz (which favours ``warp``, whose ends are voiced by
   WORLD as the reference is); ``ends_own_db``: against the recordings themselves. ``*_4k``: the
   same distances over 200-4000 Hz (``TOP_HZ``), below FormantGrid's fall above its F4-F5.
   ``paired_*``: over the steps that qualify for both methods (same voice, pair and step).
2. Spectral detail between the formants, :func:`valleys`: the depth of the envelope's valley
   between F1 and F2 and between F2 and F3 (the ruler's formants of that file): the lower of the
   two formant peaks (the envelope's maximum within 0.5 Bark of each formant, on its side of their
   Bark midpoint) minus the envelope's minimum between them (dB; 0 where it only slopes). Chosen
   over a deviation from an all-pole fit because it asks only what a listener hears as formant
   contrast, needs no model of the spectrum (natural and espeak-ng spectra have zeros an all-pole
   fit would count as error), and a smoothed or vocoded spectrum (a cepstrum of few coefficients)
   shows as shallower valleys; the depths of the nearest natural recording are beside each step's.

Writes OUT/spectral-naturalness.csv (one row per step: its F0/F1/F2/F3, the nearest recording, the
distances and depths), OUT/spectral-naturalness-recordings.csv (per recording: the floor, the
recording's and its WORLD reference's depths) and OUT/spectral-naturalness-summary.csv (per method
and voice, and all; medians over the qualifying steps unless named ``all_*``, ``ends_*``) and
prints the tables. Measured in docs/results/faithful-ends.md ("Against the phonetician's
baseline"); 13 s at nice 19 on two busy cores, after 77 s for ``faithful_ends.py --keep``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from calibration import PAIRS  # noqa: E402
from natural_voices import CODES, measure_vowel, voiced_span  # noqa: E402

SR = 16000
FRAME_S = 0.050
HOP_S = 0.010
NFFT = 4096
LOW_HZ, HIGH_HZ = 200.0, 5000.0
GRID_BARK = 0.1
#: The top of the second range the distances are given over: FormantGrid's steps fall away above their F4-F5.
TOP_HZ = 4000.0
NEAR_BARK = 0.5
PEAK_BARK = 0.5
METHODS = ("warp", "formantgrid")


def ltas_db(y: np.ndarray, start: float, stop: float) -> np.ndarray:
    """Mean power spectrum (dB) of Hann frames between ``start`` and ``stop`` (s)."""
    n, hop = int(FRAME_S * SR), int(HOP_S * SR)
    first, last = int(start * SR), max(int(stop * SR) - n, int(start * SR))
    frames = np.stack([y[i:i + n] for i in range(first, last + 1, hop) if i + n <= y.size])
    power = np.abs(np.fft.rfft(frames * np.hanning(n), NFFT, axis=1)) ** 2
    return 10 * np.log10(power.mean(axis=0) + 1e-20)


def running(x: np.ndarray, width: int, how: str) -> np.ndarray:
    """Running maximum or mean of ``x`` over ``width`` points, centred, edges held."""
    from scipy.ndimage import maximum_filter1d, uniform_filter1d

    filt = maximum_filter1d if how == "max" else uniform_filter1d
    return filt(x, size=max(int(np.ceil(width)), 1), mode="nearest")


def grid_hz() -> np.ndarray:
    from stimgen.signal.phonetics import bark_to_hz, hz_to_bark

    return bark_to_hz(np.arange(hz_to_bark(LOW_HZ), hz_to_bark(HIGH_HZ) + 1e-9, GRID_BARK))


def measure(path: Path) -> dict:
    """The ruler's F0/F1/F2/F3 and the envelope (dB, on :func:`grid_hz`, level-normalised) of a file."""
    from stimgen.signal.audio import load_audio

    y, _ = load_audio(path, sr=SR)
    m = measure_vowel(path)
    start, stop = voiced_span(y, SR)
    spectrum = ltas_db(y, start + 0.25 * (stop - start), start + 0.75 * (stop - start))
    per_hz = NFFT / SR
    upper = running(running(spectrum, m["f0"] * per_hz, "max"), m["f0"] * per_hz, "mean")
    env = np.interp(grid_hz(), np.arange(spectrum.size) / per_hz, upper)
    return {**m, "env": env - env.mean()}



def valleys(env: np.ndarray, f1: float, f2: float, f3: float) -> tuple[float, float]:
    """Depth (dB) of the envelope's valley between F1 and F2 and between F2 and F3: the lower of
    the two peaks (maximum within ``PEAK_BARK`` of each formant, on its own side of the Bark
    midpoint between them) minus the minimum between the peaks."""
    from stimgen.signal.phonetics import hz_to_bark

    z = hz_to_bark(grid_hz())
    depths = []
    for lo, hi in ((f1, f2), (f2, f3)):
        if not (np.isfinite(lo) and np.isfinite(hi)) or hi <= lo:
            depths.append(np.nan)
            continue
        zl, zh = hz_to_bark(lo), hz_to_bark(hi)
        mid = 0.5 * (zl + zh)
        pl = np.flatnonzero((np.abs(z - zl) <= PEAK_BARK) & (z <= mid))
        ph = np.flatnonzero((np.abs(z - zh) <= PEAK_BARK) & (z >= mid))
        kl, kh = pl[np.argmax(env[pl])], ph[np.argmax(env[ph])]
        if kh <= kl:
            depths.append(0.0)
            continue
        depths.append(float(min(env[kl], env[kh]) - env[kl:kh + 1].min()))
    return depths[0], depths[1]


def rms(a: np.ndarray, b: np.ndarray, top_hz: float = HIGH_HZ) -> float:
    """RMS difference (dB) of two envelopes level-normalised over ``LOW_HZ``-``top_hz``: the SD of
    their difference there."""
    keep = grid_hz() <= top_hz + 1e-6
    return float(np.std(a[keep] - b[keep]))


def step_files(folder: Path) -> list[Path]:
    manifest = folder / "manifest.csv"
    if manifest.exists():
        return [folder / f for f in pd.read_csv(manifest)["stim_file"]]
    return sorted(folder.glob("step_*.wav"))


def bark2(f1: float, f2: float) -> np.ndarray:
    from stimgen.signal.phonetics import hz_to_bark

    return np.array([hz_to_bark(f1), hz_to_bark(f2)])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("voices", type=Path)
    p.add_argument("kept", type=Path)
    p.add_argument("--out", type=Path, required=True)
    args = p.parse_args()
    t0 = time.perf_counter()
    voices = sorted(d.name for d in args.voices.iterdir() if d.is_dir())
    rows, floors = [], []
    for voice in voices:
        natural = {c: measure(args.voices / voice / f"{c}.wav") for c in CODES}
        refs = {c: measure(args.kept / f"{voice}-{c}-ref.wav") for c in CODES}
        for c in CODES:
            floors.append({"voice": voice, "code": c, "floor_db": rms(refs[c]["env"], natural[c]["env"]),
                           "floor_db_4k": rms(refs[c]["env"], natural[c]["env"], TOP_HZ),
                           "ref_bark": float(np.linalg.norm(bark2(refs[c]["f1"], refs[c]["f2"])
                                                            - bark2(natural[c]["f1"], natural[c]["f2"]))),
                           **dict(zip(("natural_v12", "natural_v23"), valleys(natural[c]["env"], natural[c]["f1"],
                                                                              natural[c]["f2"], natural[c]["f3"]))),
                           **dict(zip(("ref_v12", "ref_v23"), valleys(refs[c]["env"], refs[c]["f1"],
                                                                      refs[c]["f2"], refs[c]["f3"])))})
        for a, b in PAIRS:
            for method in METHODS:
                files = step_files(args.kept / f"{voice}-{a}-{b}-{method}")
                for k, f in enumerate(files):
                    s = measure(f)
                    here = bark2(s["f1"], s["f2"])
                    dist = {c: float(np.linalg.norm(here - bark2(n["f1"], n["f2"]))) for c, n in natural.items()}
                    near = min(dist, key=dist.get)
                    n = natural[near]
                    row = {"voice": voice, "pair": f"{a}-{b}", "method": method, "step": k,
                           "f0": s["f0"], "f1": s["f1"], "f2": s["f2"], "f3": s["f3"],
                           "nearest": near, "near_bark": dist[near], "natural_db": rms(s["env"], n["env"]),
                           "natural_db_4k": rms(s["env"], n["env"], TOP_HZ), "ends_db": np.nan, "ends_db_4k": np.nan,
                           "ends_own_db": np.nan}
                    if k in (0, len(files) - 1):
                        ref = refs[a if k == 0 else b]["env"]
                        row["ends_db"], row["ends_db_4k"] = rms(s["env"], ref), rms(s["env"], ref, TOP_HZ)
                        row["ends_own_db"] = rms(s["env"], natural[a if k == 0 else b]["env"])
                    row["step_v12"], row["step_v23"] = valleys(s["env"], s["f1"], s["f2"], s["f3"])
                    row["natural_v12"], row["natural_v23"] = valleys(n["env"], n["f1"], n["f2"], n["f3"])
                    rows.append(row)
        print(f"{voice}: {time.perf_counter() - t0:.0f} s", flush=True)
    table = pd.DataFrame(rows)
    floor = pd.DataFrame(floors)
    args.out.mkdir(parents=True, exist_ok=True)
    table.to_csv(args.out / "spectral-naturalness.csv", index=False, float_format="%.4g")
    floor.to_csv(args.out / "spectral-naturalness-recordings.csv", index=False, float_format="%.4g")
    summary = pd.concat([summarise(table, floor, voice) for voice in [*voices, None]])
    summary.to_csv(args.out / "spectral-naturalness-summary.csv", index=False, float_format="%.3g")
    pd.set_option("display.width", 250)
    print(summary.to_string(index=False))
    print("\nfloor (recording through WORLD at 120 Hz against the recording) and the recordings' valleys:")
    cols = ["floor_db", "floor_db_4k", "ref_bark", "natural_v12", "natural_v23", "ref_v12", "ref_v23"]
    print(floor.groupby("voice")[cols].median().round(2).to_string())
    print(floor[cols].median().round(2).to_string())
    print(f"\n{time.perf_counter() - t0:.0f} s")


def summarise(table: pd.DataFrame, floor: pd.DataFrame, voice: str | None) -> pd.DataFrame:
    """Per method, for one voice (None: all): counts and medians of the qualifying steps."""
    t = table if voice is None else table[table.voice == voice]
    fl = floor if voice is None else floor[floor.voice == voice]
    ok = t.near_bark <= NEAR_BARK
    # steps that qualify for both methods (same voice, pair and step): a paired comparison
    both = ok.groupby([t.voice, t.pair, t.step]).transform("all")
    out = []
    for method in METHODS:
        m = t.method == method
        q = t[m & ok]
        qi = q[(q.step > 0) & (q.step < q.step.max())]
        qb = t[m & both]
        out.append({"voice": voice or "all", "method": method, "steps": int(m.sum()), "qualify": len(q),
                    "qualify_interior": len(qi), "near_bark": q.near_bark.median(),
                    "natural_db": q.natural_db.median(), "natural_db_interior": qi.natural_db.median(),
                    "natural_db_4k": q.natural_db_4k.median(),
                    "paired_steps": len(qb), "paired_natural_db": qb.natural_db.median(),
                    "paired_natural_db_4k": qb.natural_db_4k.median(),
                    "ends_db": t[m].ends_db.median(), "ends_db_max": t[m].ends_db.max(),
                    "ends_db_4k": t[m].ends_db_4k.median(), "ends_own_db": t[m].ends_own_db.median(),
                    "floor_db": fl.floor_db.median(), "floor_db_4k": fl.floor_db_4k.median(),
                    "step_v12": q.step_v12.median(), "natural_v12": q.natural_v12.median(),
                    "step_v23": q.step_v23.median(), "natural_v23": q.natural_v23.median(),
                    "d_v12": (q.step_v12 - q.natural_v12).median(), "d_v23": (q.step_v23 - q.natural_v23).median(),
                    "all_step_v12": t[m].step_v12.median(), "all_step_v23": t[m].step_v23.median()})
    return pd.DataFrame(out)


if __name__ == "__main__":
    main()
