"""Sustained vowels of four voices no one here made, for judging continua on natural voices (issue 23).

    python experiments/natural_voices.py OUT [--more] [--diphone] [--held-out]

Writes OUT/<voice>/<code>.wav (16 kHz mono) for the codes iy ih eh ae aa ao uw and four voices:
``espeak-man`` (espeak-ng ``en-us``, pitch 40) and ``espeak-woman`` (``en-us+f3``, pitch 80), as
experiments/vocoder.py makes them; ``festival-man`` (festival's ``kal_diphone``, Debian
``festvox-kallpc16k``), the phones ``pau p V p pau`` at a fixed 800 ms each and 105 Hz
(``Utterance Phones``, ``FP_duration``, ``FP_F0``), of which only the voiced vowel is kept: between
pauses this voice's /uw/ glides (F2 1800 to 1100 Hz over the vowel, median 1641 Hz), between
voiceless /p/ it holds (F2 1130-1240 Hz), and its other vowels are steadier too;
``festival-woman`` (``cmu_us_slt_arctic_hts``, Debian ``festvox-us-slt-hts``), a one-vowel word
added to the lexicon, said alone at 0.15 of the HTS engine's speed (``-r 0.15``), as that voice
takes no Phones utterance and ignores ``Duration_Stretch``. Each file is the synthesiser's output
with silence more than 30 dB below the peak trimmed (``stimgen.signal.audio.trim_silence``), cut
to its longest voiced run (Praat pitch), at most the middle 0.7 s of it, with 10 ms ramps, at
-20 dBFS RMS. A voice whose synthesiser is not installed is left out.

The ruler, :func:`measure_vowel`: Praat's Burg, 5 formants, one fixed ceiling (5500 Hz, every
voice), median over the middle half of the voiced part; F0 the mean over that half. Measured
(espeak-ng 1.51, festival 2.5.0; F0 / F1 / F2 in Hz; seconds of vowel written)::

    voice            iy            ih            eh            ae            aa            ao            uw
    espeak-man       87/288/2290   87/354/2137   87/572/1724   87/640/1600   87/713/1194   87/653/1004   87/328/1366
    espeak-woman    133/276/2945  133/384/2787  133/694/2212  133/804/2064  133/839/1446  133/785/1173  133/333/1624
    festival-man    105/322/2074  105/476/1638  105/546/1645  105/654/1401  105/675/1092  105/658/1013  105/360/1152
    festival-woman  163/420/2783  166/712/1952  159/793/2008  171/928/1744  172/861/1288  153/778/1178  160/523/1704

0.50-0.64 s of vowel for espeak-ng (its steady part at ``-s 60``), 0.70 s for festival (0.59 s for
the woman's /eh/). The men's /iy/ F2 is above 1800 Hz and their /uw/ and /ao/ F2 below 1400 Hz;
in every voice /iy/ has the highest F2, /ao/ the lowest, and /iy/ and /uw/ the two lowest F1, but
the women's /uw/ is fronted (F2 1624 and 1704 Hz, as American /u/ often is) and festival-woman's
/ih/ and /eh/ lie close (0.6 Bark apart in F1, 0.2 in F2). F0 is the
synthesiser's, level (espeak-ng, kal) or nearly so (slt, 153-172 Hz).

``--more`` adds six espeak-ng voices (:data:`MORE_VOICES`), its variants as the first two men
(``m1``, ``m2``) and every woman tried (``f2``, ``f4``, ``f5``, ``Annie``; ``f1`` not), made as
espeak-man and espeak-woman are. Their variant files set ``roughness`` (espeak-ng lowers the
amplitude of every other cycle by it, "to make the voice sound creaky"; default 2) to 4 for
``m1`` and ``f3`` (espeak-woman), 3 for ``f2`` and 0 for ``f5`` (experiments/voice_source.py
measures what it does to the harmonics)::

    espeak-man-m1       81/281/2219  80/345/2069  80/559/1669  80/627/1554  80/703/1159   80/653/971 80/1200/2166
    espeak-man-m2       87/275/2515  87/329/2337  87/521/1887  87/582/1747  87/643/1318  87/588/1108  87/265/1514
    espeak-woman-f2    127/281/2608 127/446/2497 127/650/1996 127/728/1813 127/800/1360 127/749/1175 127/413/1547
    espeak-woman-f4    241/292/2908 241/442/2697 241/708/2160 242/812/1989 242/837/1425 241/737/1179 241/416/1661
    espeak-woman-f5    275/285/2649 275/396/2471 275/642/1941 275/733/1825 275/797/1358 275/742/1097 275/327/1671
    espeak-woman-annie 277/284/2812 277/519/2747 277/784/2211 277/849/2028 277/952/1545 277/858/1340 277/451/1674

(The ruler reads m1's /uw/ F1 at 1200 Hz, F2 at 2166 Hz: not where a /u/ lies.)

``--diphone`` adds five festival diphone voices (:data:`DIPHONE_VOICES`), each made of one
speaker's recorded diphones, made as festival-man is (men at 105 Hz, women at 200 Hz): ``ked``
(American English, a second man), and Italian (``pc`` a man, ``lp`` a woman), Finnish (``lj``)
and Czech (``dita``) women. Those languages have no /ɪ/ or /æ/, so their codes stand for the
nearest vowel (Italian ih=/e/, eh=ae=/ɛ/; Finnish ih=eh=/e/, ae=/æ/; Czech ih=eh=ae=/e/) and each of
the six pairs is still two different vowels::

    festival-man-ked       105/352/2121 105/450/1566 105/625/1445 105/724/1459 105/730/1089  105/723/995 105/386/1164
    festival-man-pc-it     105/276/2123 105/415/1767 105/518/1866 105/518/1866 105/643/1138  105/525/846  105/299/642
    festival-woman-lp-it   199/302/2315 200/421/2030 200/575/1533 200/575/1533 200/718/1439 200/582/1002  199/249/664
    festival-woman-lj-fi   200/381/2065 200/432/2201 200/432/2201 200/705/1617 200/760/1326  200/561/995  200/391/804
    festival-woman-dita-cs 200/382/2173 200/625/1702 200/625/1702 200/625/1702 200/694/1507  200/508/887  200/392/983

(0.66-0.70 s of vowel each. The ruler reads the Italian woman's /ɛ/ F2 at 1533 Hz and the
Finnish woman's /e/ above her /i/: a fixed 5500 Hz ceiling is not every speaker's.)

``--held-out`` adds five voices kept out of every choice made on the fifteen above, to check
those choices on voices they were not made on (:data:`HELD_OUT_ESPEAK`, :data:`HELD_OUT_DIPHONE`):
espeak-ng's ``Linda`` and ``belinda`` women and ``m3`` man, and festival's Finnish (``mv``,
Debian ``festvox-suopuhe-mv``) and Czech (``machac``, ``festvox-czech-machac``) diphone men, with
their languages' vowels standing in as for ``lj`` and ``dita``::

    espeak-woman-linda     133/283/2412 133/385/2255 133/607/1825 133/673/1693 133/750/1265 133/674/1060 133/388/1448
    espeak-woman-belinda   321/326/2574 321/435/2498 321/769/1927 321/1102/1788 321/948/1291 321/832/969 321/409/1435
    espeak-man-m3           90/275/2197  90/341/2047  90/550/1654  90/617/1536  90/695/1147  90/654/958  90/1228/2141
    festival-man-mv-fi     105/309/2185 105/521/1703 105/521/1703 105/712/1325 105/644/1114  105/537/885  105/415/624
    festival-man-machac-cs 105/321/1910 105/414/1764 105/414/1764 105/414/1764 105/597/1289 105/485/2270 105/386/1907

(The ruler reads m3's /uw/ as it reads m1's, and machac's /o/ and /u/ with F2 near 1900-2270
Hz, F1 and F2 merged and F3 read as F2; they are kept as they come, as a user's files would be.)
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from vocoder import ESPEAK  # noqa: E402

CODES = ("iy", "ih", "eh", "ae", "aa", "ao", "uw")
SR = 16000
LONGEST = 0.7
ESPEAK_VOICES = {"espeak-man": ("en-us", 40), "espeak-woman": ("en-us+f3", 80)}
#: ``--more``: six more espeak-ng voices, its variants (``+m1`` ...), pitch 40 (men) and 80 (women) as above.
MORE_VOICES = {"espeak-man-m1": ("en-us+m1", 40), "espeak-man-m2": ("en-us+m2", 40),
               "espeak-woman-f2": ("en-us+f2", 80), "espeak-woman-f4": ("en-us+f4", 80),
               "espeak-woman-f5": ("en-us+f5", 80), "espeak-woman-annie": ("en-us+Annie", 80)}
#: ``--held-out``: espeak-ng voices kept out of every choice made on the others (two women, a man).
HELD_OUT_ESPEAK = {"espeak-woman-linda": ("en-us+Linda", 80), "espeak-woman-belinda": ("en-us+belinda", 80),
                   "espeak-man-m3": ("en-us+m3", 40)}
#: Every espeak-ng voice this script can make: ``espeak-ng -v NAME -p PITCH``.
ALL_ESPEAK = {**ESPEAK_VOICES, **MORE_VOICES, **HELD_OUT_ESPEAK}
FESTIVAL_VOICES = {"festival-man": "kal_diphone", "festival-woman": "cmu_us_slt_arctic_hts"}
_FINNISH = {"iy": "i", "ih": "e", "eh": "e", "ae": "@", "aa": "a", "ao": "o", "uw": "u"}
_CZECH = {"iy": "i", "ih": "e", "eh": "e", "ae": "e", "aa": "a", "ao": "o", "uw": "u"}
_ITALIAN = {"iy": "i", "ih": "e", "eh": "E", "ae": "E", "aa": "a", "ao": "O", "uw": "u"}
#: ``--diphone``: five more festival diphone voices, each cut from one speaker's recordings (Debian's
#: ``festvox-kdlpc16k``, ``festvox-itapc16k``, ``festvox-italp16k``, ``festvox-suopuhe-lj``,
#: ``festvox-czech-dita``), made as festival-man is: festival voice, F0 (Hz), and the phone said for
#: each code (Italian, Finnish and Czech have no /ɪ/ or /æ/: their nearest vowel stands in, so
#: that a pair is two different vowels of the language; Finnish /æ/ is its ``@``).
DIPHONE_VOICES = {
    "festival-man-ked": ("ked_diphone", 105, {code: code for code in CODES}),
    "festival-man-pc-it": ("pc_diphone", 105, _ITALIAN),
    "festival-woman-lp-it": ("lp_diphone", 200, _ITALIAN),
    "festival-woman-lj-fi": ("suo_fi_lj_diphone", 200, _FINNISH),
    "festival-woman-dita-cs": ("czech_dita", 200, _CZECH),
}
#: ``--held-out``: festival diphone voices kept out of every choice made on the others (Debian's
#: ``festvox-suopuhe-mv``, ``festvox-czech-machac``): Finnish and Czech men, made as DIPHONE_VOICES are.
HELD_OUT_DIPHONE = {"festival-man-mv-fi": ("hy_fi_mv_diphone", 105, _FINNISH),
                    "festival-man-machac-cs": ("czech_machac", 105, _CZECH)}
_DIPHONES = {**DIPHONE_VOICES, **HELD_OUT_DIPHONE}
#: A diphone voice's vowel between voiceless stops, 800 ms at a fixed F0 (``Utterance Phones``).
DIPHONE_SCHEME = """(voice_{voice})
(set! FP_duration 800)
(set! FP_F0 {f0})
(set! utt (Utterance Phones (pau p {{phone}} p pau)))"""
FESTIVAL_SCHEME = {
    "kal_diphone": DIPHONE_SCHEME.format(voice="kal_diphone", f0=105),
    "cmu_us_slt_arctic_hts": """(voice_cmu_us_slt_arctic_hts)
(lex.add.entry '("vowelx" nil ((({phone}) 1))))
(set! hts_engine_params (append hts_engine_params (list '("-r" 0.15))))
(set! utt (Utterance Words (vowelx)))""",
    **{name: DIPHONE_SCHEME.format(voice=name, f0=f0) for name, f0, _ in _DIPHONES.values()},
}
#: The festival voice of every voice name, and the phone of each code where it is not the code.
ALL_FESTIVAL = {**FESTIVAL_VOICES, **{voice: name for voice, (name, _, _) in _DIPHONES.items()}}
PHONES = {voice: phones for voice, (_, _, phones) in _DIPHONES.items()}


def voiced_span(y: np.ndarray, sr: int) -> tuple[float, float]:
    """Start and end (s) of the longest run of voiced frames in Praat's pitch track (60-600 Hz)."""
    import parselmouth

    pitch = parselmouth.Sound(y.astype(np.float64), sampling_frequency=sr).to_pitch(
        pitch_floor=60.0, pitch_ceiling=600.0)
    times = np.asarray(pitch.xs())
    voiced = np.concatenate([[0], pitch.selected_array["frequency"] > 0, [0]]).astype(int)
    edges = np.flatnonzero(np.diff(voiced))
    if edges.size == 0:
        raise ValueError("no voiced frame")
    starts, stops = edges[::2], edges[1::2] - 1
    k = int(np.argmax(stops - starts))
    return float(times[starts[k]]), float(times[stops[k]])


def measure_vowel(path: Path, ceiling: float = 5500.0) -> dict[str, float]:
    """Mean F0 and median F1-F3 (Hz) over the middle half of a file's voiced part: Praat's Burg,
    5 formants below ``ceiling``, 25 ms window."""
    from stimgen.signal.audio import load_audio
    from stimgen.signal.phonetics import measure_f0, measure_formants

    y, sr = load_audio(path)
    start, stop = voiced_span(y, sr)
    duration = len(y) / sr
    span = ((start + 0.25 * (stop - start)) / duration, (start + 0.75 * (stop - start)) / duration)
    f1, f2, f3 = measure_formants(y, sr, max_formant=ceiling, span=span)
    return {"f0": measure_f0(y, sr, span=span), "f1": float(f1), "f2": float(f2), "f3": float(f3)}


def cut_vowel(y: np.ndarray, sr: int) -> np.ndarray:
    """The steady vowel of a synthesiser's output at 16 kHz: silence trimmed, the longest voiced
    run, at most its middle ``LONGEST`` s, 10 ms ramps, at -20 dBFS RMS."""
    from stimgen.signal.audio import apply_ramps, normalize_rms, resample, trim_silence

    y = trim_silence(resample(np.asarray(y, dtype=np.float32), sr, SR), 30.0)
    start, stop = voiced_span(y, SR)
    middle, half = 0.5 * (start + stop), 0.5 * min(stop - start, LONGEST)
    y = apply_ramps(y[int((middle - half) * SR):int((middle + half) * SR)], SR)
    return normalize_rms(y, -20.0)[0]


def synthesise(voice: str, code: str, raw: Path) -> None:
    """Write one vowel of ``voice`` as the synthesiser makes it to ``raw``."""
    if voice in ALL_ESPEAK:
        name, pitch = ALL_ESPEAK[voice]
        subprocess.run(["espeak-ng", "-v", name, "-p", str(pitch), "-s", "60", "-w", str(raw),
                        f"[[{ESPEAK[code]}]]"], check=True)
        return
    script = raw.with_suffix(".scm")
    phone = PHONES.get(voice, {}).get(code, code)
    script.write_text(FESTIVAL_SCHEME[ALL_FESTIVAL[voice]].format(phone=phone)
                      + f'\n(utt.synth utt)\n(utt.save.wave utt "{raw}" \'riff)\n')
    subprocess.run(["festival", "-b", str(script)], check=True, capture_output=True)
    if not raw.exists():
        raise RuntimeError(f"festival wrote no {raw.name} for {voice} {code}")


def installed(voice: str) -> bool:
    """Whether the synthesiser and voice that ``voice`` needs are installed."""
    if voice in ALL_ESPEAK:
        return shutil.which("espeak-ng") is not None
    if shutil.which("festival") is None:
        return False
    return any(Path("/usr/share/festival/voices").glob(f"*/{ALL_FESTIVAL[voice]}"))


def make_voices(out: Path, more: bool = False, diphone: bool = False, held_out: bool = False) -> dict[str, Path]:
    """Write OUT/<voice>/<code>.wav for every installed voice (and :data:`MORE_VOICES` if ``more``,
    :data:`DIPHONE_VOICES` if ``diphone``, :data:`HELD_OUT_ESPEAK` and :data:`HELD_OUT_DIPHONE` if
    ``held_out``); the folder of each voice written."""
    from stimgen.signal.audio import load_audio, save_wav

    folders = {}
    extra = (*(MORE_VOICES if more else ()), *(DIPHONE_VOICES if diphone else ()),
             *((*HELD_OUT_ESPEAK, *HELD_OUT_DIPHONE) if held_out else ()))
    for voice in (*ESPEAK_VOICES, *FESTIVAL_VOICES, *extra):
        if not installed(voice):
            print(f"{voice}: synthesiser or voice not installed, left out", flush=True)
            continue
        folder = Path(out) / voice
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory() as tmp:
            for code in CODES:
                raw = Path(tmp) / f"{code}.wav"
                synthesise(voice, code, raw)
                y, sr = load_audio(raw)
                save_wav(folder / f"{code}.wav", cut_vowel(y, sr), SR)
        folders[voice] = folder
    return folders


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--more", action="store_true", help="Also the six voices of MORE_VOICES.")
    parser.add_argument("--diphone", action="store_true", help="Also the five voices of DIPHONE_VOICES.")
    parser.add_argument("--held-out", action="store_true",
                        help="Also the five held-out voices (HELD_OUT_ESPEAK, HELD_OUT_DIPHONE).")
    args = parser.parse_args()
    from stimgen.signal.audio import audio_info

    folders = make_voices(args.out, more=args.more, diphone=args.diphone, held_out=args.held_out)
    print(f"{'voice':23s}" + "".join(f"{code:>17s}" for code in CODES))
    for voice, folder in folders.items():
        cells = []
        for code in CODES:
            m = measure_vowel(folder / f"{code}.wav")
            seconds = audio_info(folder / f"{code}.wav").duration
            cells.append(f"{m['f0']:4.0f}/{m['f1']:4.0f}/{m['f2']:4.0f} {seconds:.2f}")
        print(f"{voice:23s}" + "".join(f"{cell:>17s}" for cell in cells))


if __name__ == "__main__":
    main()
