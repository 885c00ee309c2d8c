"""Bad option values thrown at every numeric option of every command, in process (click's CliRunner)
with a seeded generator: no traceback, no case that runs away, and no exit 0 that changed an input.

Each command gets its own test (so each stays under a minute); together they run well over 200
cases: every numeric option (and the options that hold numbers as text: ``--f0``, ``--values``,
``--p-range``) with negative, zero, huge, NaN, infinite, text and empty values, and seeded random
ones. A case passes when the command refuses the value (a ``StimgenError``, which ``stimgen``
prints as one line and exit 2, or click's usage error, exit 2), or accepts it (exit 0) leaving its
inputs as they were.
"""

import hashlib
import signal
import warnings
from contextlib import contextmanager
from pathlib import Path

import click
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from conftest import stimgen_cli

from stimgen.errors import StimgenError

#: The values every numeric option is given, and a few seeded random ones per option.
BAD = ["-1", "0", "-0.5", "1e300", "-1e300", "99999999999999999999", "nan", "inf", "-inf", "abc", "", "1,2"]
SECONDS = 40  # the most one case may take: a huge value must be refused, not worked on


def numeric_options(command: click.Command) -> list[str]:
    return [p.opts[0] for p in command.params if isinstance(p, click.Option)
            and p.type.name in ("integer", "float", "integer range", "float range")]


def command_of(path: str) -> click.Command:
    from stimgen.cli import cli

    command = cli
    for name in path.split():
        command = command.commands[name]
    return command


def cases(path: str, text_options: tuple[str, ...] = ()) -> list[tuple[str, str]]:
    """(option, value) pairs: every numeric option with every value of BAD, and three seeded random
    values each (negative, tiny, huge)."""
    rng = np.random.default_rng(int(hashlib.sha256(path.encode()).hexdigest()[:8], 16))
    out = []
    for option in [*numeric_options(command_of(path)), *text_options]:
        extra = [f"{-rng.uniform(1, 1e6):.6g}", f"{rng.uniform(0, 1e-9):.3g}", f"{rng.uniform(1e9, 1e15):.6g}"]
        out += [(option, value) for value in [*BAD, *extra]]
    return out


def digest(paths: list[Path]) -> dict[str, str]:
    """The sha256 of every file under ``paths``."""
    files = [f for p in paths for f in ([p] if p.is_file() else sorted(p.rglob("*"))) if f.is_file()]
    return {str(f): hashlib.sha256(f.read_bytes()).hexdigest() for f in files}


@contextmanager
def time_cap(seconds: int, what: str):
    def stop(*_):
        raise TimeoutError(f"{what} ran for more than {seconds} s")

    previous = signal.signal(signal.SIGALRM, stop)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def throw(path: str, base: dict, positional: list, inputs: list[Path], tmp: Path,
          text_options: tuple[str, ...] = ()) -> int:
    """Every case of ``cases(path)`` against the command ``path`` run with ``base`` options; returns
    how many cases ran."""
    from stimgen.cli import cli

    runner, problems, n = CliRunner(), [], 0
    before = digest(inputs)
    for k, (option, value) in enumerate(cases(path, text_options)):
        options = {**base, option: value}
        if "--out" in base:
            options["--out"] = str(tmp / f"out-{k}")
        args = [*path.split(), *positional, *[x for kv in options.items() for x in kv]]
        with warnings.catch_warnings(), time_cap(SECONDS, " ".join(args)):
            warnings.simplefilter("ignore")
            result = runner.invoke(cli, args, catch_exceptions=True)
        n += 1
        error = result.exception
        if error is not None and not isinstance(error, (StimgenError, SystemExit)):
            problems.append(f"{option} {value!r}: {type(error).__name__}: {error}")
        elif result.exit_code == 0 and digest(inputs) != before:
            problems.append(f"{option} {value!r}: exit 0 and an input changed")
    assert problems == [], "\n".join(problems)
    return n


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    """Endpoints (a man's /i/, /ɑ/, /u/, 0.5 s: the model's window), a 3-step continuum of them with
    a fit, their codes, a small digits folder and a recording of three tone 'syllables'."""
    from stimgen.data.vowels import mean_vowel
    from stimgen.signal.audio import save_wav

    root = tmp_path_factory.mktemp("hostile")
    for name, code in (("i", "iy"), ("a", "aa"), ("u", "uw")):
        save_wav(root / f"{name}.wav", mean_vowel(code, "man", f0=120.0, duration=0.5, rng=1), 16000)
    assert stimgen_cli("continuum", "--a", root / "i.wav", "--b", root / "a.wav", "--steps", 3, "--spacing",
                       "linear", "--out", root / "cont").returncode == 0
    levels = np.repeat([0.0, 0.5, 1.0], 20)
    pd.DataFrame({"morph_level": levels, "response_b": (np.random.default_rng(0).random(60)
                                                        < levels * 0.8 + 0.1).astype(int)}).to_csv(
        root / "responses.csv", index=False)
    assert stimgen_cli("fit", root / "responses.csv", "--continuum", root / "cont", "--bootstrap", 20,
                       "--out", root / "fit").returncode == 0
    assert stimgen_cli("encode", root / "i.wav", root / "a.wav", "--out", root / "codes.csv").returncode == 0
    assert stimgen_cli("data", "build", "digits", "--n", 16, "--out", root / "digits").returncode == 0
    (root / "songs").mkdir()
    sr, t = 32000, np.arange(2 * 32000) / 32000
    song = sum(np.where((t > s) & (t < s + 0.12), 0.3 * np.sin(2 * np.pi * 3000 * t), 0.0) for s in (0.3, 0.8, 1.3))
    save_wav(root / "songs" / "song.wav", song + 1e-4 * np.random.default_rng(0).standard_normal(t.size), sr)
    return root


def test_data_build(inputs, tmp_path):
    assert throw("data build", {"--out": None}, ["digits"], [], tmp_path) >= 30


def test_data_segment(inputs, tmp_path):
    throw("data segment", {"--out": None}, [str(inputs / "songs")], [inputs / "songs"], tmp_path)


def test_train(inputs, tmp_path):
    base = {"--data": str(inputs / "digits"), "--model": "ae", "--steps": "1", "--batch-size": "4",
            "--preview-every": "1000", "--checkpoint-every": "1000", "--out": None}
    throw("train", base, [], [inputs / "digits"], tmp_path)


def test_continuum(inputs, tmp_path):
    base = {"--a": str(inputs / "i.wav"), "--b": str(inputs / "a.wav"), "--steps": "3", "--spacing": "linear",
            "--out": None}
    throw("continuum", base, [], [inputs / "i.wav", inputs / "a.wav"], tmp_path, ("--f0",))


def test_edit(inputs, tmp_path):
    base = {"--model": "vowels", "--input": str(inputs / "a.wav"), "--attribute": "F0", "--values": "10",
            "--out": None}
    throw("edit", base, [], [inputs / "a.wav"], tmp_path, ("--f0", "--values"))


def test_grid(inputs, tmp_path):
    base = {"--anchors": ",".join(str(inputs / f"{v}.wav") for v in "iau"), "--steps": "2", "--out": None}
    throw("grid", base, [], [inputs / f"{v}.wav" for v in "iau"], tmp_path, ("--f0",))


def test_encode_and_decode(inputs, tmp_path):
    throw("encode", {"--out": None}, [str(inputs / "i.wav")], [inputs / "i.wav"], tmp_path)
    throw("decode", {"--latents": str(inputs / "codes.csv"), "--model": "vowels", "--out": None}, [],
          [inputs / "codes.csv"], tmp_path, ("--f0",))


def test_pilot_fit_and_respace(inputs, tmp_path):
    cont, fit = inputs / "cont", inputs / "fit" / "fit.json"
    throw("pilot", {"--reps": "1", "--out": None}, [str(cont)], [cont], tmp_path / "p")
    throw("fit", {"--continuum": str(cont), "--bootstrap": "20", "--out": None}, [str(inputs / "responses.csv")],
          [cont, inputs / "responses.csv"], tmp_path / "f")
    throw("respace", {"--fit": str(fit), "--steps": "3", "--out": None}, [str(cont)], [cont, fit], tmp_path / "r",
          ("--p-range",))


def test_demo(inputs, tmp_path):
    throw("demo", {"--out": None}, [], [], tmp_path)
